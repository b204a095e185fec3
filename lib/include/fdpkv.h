/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libfdpkv - an LLM KV-cache store on NVMe SSDs with Flexible Data Placement.
 *
 * The cache keeps opaque keys (byte strings up to FDPKV_KEY_MAX) and values
 * (any length) in segments, each one reclaim unit of the device, appended
 * sequentially through one placement handle per placement class and evicted
 * whole in FIFO order (see DESIGN.md).
 *
 * Conventions (liburing's): functions return >= 0 on success or a negative
 * errno; errno itself is never the channel. Every operation on keys is a
 * batch, asynchronous, identified by a unique 64-bit id and completed exactly
 * once through the completion queue; the eventfd from fdpkv_event_fd() is
 * readable while completions are queued. All functions are thread-safe unless
 * their comment says otherwise.
 *
 * Crash consistency (lib/FORMAT.md: on-device layout, sequence rules, what
 * recovery trusts). A cache may lose data, never hand back wrong data: after
 * a crash or power cut a GET returns the latest acknowledged version of a
 * key, or a newer one that was in flight, or (evicted, or durability=none)
 * a miss, never an older version; an acknowledged DELETE (also one answered
 * -ENOENT) stays done. durability=none flushes only the writes that hide an
 * older version (overwrites, deletes), so that losing them cannot bring the
 * older one back.
 * Every open persists a sequence lease in the superblocks before it writes,
 * so that no sequence is handed out twice across crashes; evicted segments
 * are reused only once their deallocate (or wipe) is durable; a newest
 * version a crash tore gives way to the older one at recovery. A sealed
 * segment's summary (written behind a flush, checked against the segment's
 * first header) lets recovery skip reading every header. The power-cut
 * checker (tests/crash, `make crashtest`) tests these rules.
 */
#ifndef FDPKV_H
#define FDPKV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FDPKV_VERSION_MAJOR	0
#define FDPKV_VERSION_MINOR	1

/* Longest key the cache stores, in bytes. */
#define FDPKV_KEY_MAX		4096
/* Most devices one cache spans. */
#define FDPKV_MAX_DEVICES	16
/* Most placement classes one cache uses. */
#define FDPKV_MAX_CLASSES	64

struct fdpkv_cache;

enum fdpkv_durability {
	FDPKV_DURABILITY_NONE = 0,	/* acknowledged once in the device/page cache;
					 * overwrites and deletes after a flush */
	FDPKV_DURABILITY_FLUSH,		/* a flush follows every batch of writes */
	FDPKV_DURABILITY_FUA,		/* writes carry FUA (O_DSYNC on files) */
};

enum fdpkv_format_mode {
	FDPKV_FORMAT_NEVER = 0,		/* open an existing cache; fail if none */
	FDPKV_FORMAT_AUTO,		/* format devices that hold no cache */
	FDPKV_FORMAT_ALWAYS,		/* wipe and format */
};

/*
 * Whether a deallocated range reads back as zeroes. Recovery must not find
 * the objects of an evicted segment again, so where zeroes are not
 * guaranteed the first LBA of every evicted segment is also overwritten with
 * zeroes (one LBA per segment) before the segment is reused.
 */
enum fdpkv_dealloc_zeroes {
	FDPKV_DEALLOC_ZEROES_AUTO = 0,	/* ask the device: NVMe DLFEAT, file hole punching */
	FDPKV_DEALLOC_ZEROES_YES,	/* trust deallocate (a refused punch still wipes) */
	FDPKV_DEALLOC_ZEROES_NO,	/* always wipe evicted segments */
};

/**
 * struct fdpkv_config - how to open a cache
 * @struct_size:	sizeof(struct fdpkv_config) of the caller (for growth)
 * @ndevices:		number of entries in @devices
 * @devices:		device URIs: "file:/path", "ng:/dev/ngXnY",
 *			"fdpkv:/dev/fdpkv?ns=N", "sim:" (in-memory model),
 *			"bdev:/dev/nvmeXnY" (block write streams, Linux >=
 *			6.16), "auto:PATH" or a bare "/PATH": the first of
 *			bdev:, fdpkv:, ng:, file: that works for PATH
 * @capacity_bytes:	bytes to use per device; 0 = the whole device (a
 *			file is created with this size when missing)
 * @segment_bytes:	segment size for backends without reclaim units
 *			(file, sim); 0 = default. On FDP devices the segment
 *			is the reclaim unit and this must be 0 or equal to it.
 * @queue_depth:	commands in flight per device (>= 1)
 * @durability:		see enum fdpkv_durability
 * @format:		see enum fdpkv_format_mode
 * @placement_by_salt:	route objects to a class per cache-salt bucket
 * @salt_separator:	the bucket is the salt up to this character
 * @max_classes:	most data classes (salt buckets); folded when the
 *			device has fewer placement handles
 * @free_segments_low:	evict when fewer segments than this are free
 * @reinsert:		re-insert objects read since written on eviction
 * @dealloc_zeroes:	see enum fdpkv_dealloc_zeroes (key dealloc_zeroes=
 *			auto|yes|no); fdpkv_device_stats() shows the decision
 * @copy_threads:	threads that copy and checksum values larger than
 *			@copy_piece_bytes piece by piece, while earlier
 *			pieces are on their way to or from the device:
 *			bounced values (not 4 KiB aligned or not whole LBAs)
 *			are copied and checksummed, others only checksummed,
 *			and where a read is a copy from memory (tmpfs, a
 *			file without O_DIRECT) they read a GET's pieces
 *			themselves (0..64; default min(2, CPUs); 0: inline
 *			on the submitting thread (SET) or the device's
 *			thread (GET), in one command)
 * @copy_piece_bytes:	bytes per piece (key copy_piece, a multiple of
 *			4 KiB, 4 KiB..64 MiB; default 1 MiB)
 * @report_evicted:	keep the keys the cache evicts for
 *			fdpkv_take_evicted (key report_evicted=0|1, default
 *			1); 0 for a caller that never takes them, as each is
 *			one small allocation kept until taken
 */
struct fdpkv_config {
	size_t struct_size;
	unsigned int ndevices;
	char devices[FDPKV_MAX_DEVICES][256];
	uint64_t capacity_bytes;
	uint64_t segment_bytes;
	unsigned int queue_depth;
	enum fdpkv_durability durability;
	enum fdpkv_format_mode format;
	bool placement_by_salt;
	char salt_separator;
	unsigned int max_classes;
	unsigned int free_segments_low;
	bool reinsert;
	enum fdpkv_dealloc_zeroes dealloc_zeroes;
	unsigned int copy_threads;
	uint64_t copy_piece_bytes;
	bool report_evicted;
};

/* Fill @cfg with defaults. */
void fdpkv_config_init(struct fdpkv_config *cfg);

/*
 * fdpkv_config_set - set one configuration key from its string value.
 * Keys: device (repeatable), devices (comma-separated), capacity, segment_size
 * (both accept K/M/G/T suffixes), queue_depth, durability (none|flush|fua),
 * format (never|auto|always), placement (salt|none), salt_separator,
 * max_classes, free_segments_low, reinsert (0|1), dealloc_zeroes
 * (auto|yes|no), copy_threads, copy_piece (a size), report_evicted (0|1).
 * Returns 0, -ENOENT for an unknown key, -EINVAL for a bad value; in both
 * cases @err (if not NULL) receives a message naming the key.
 */
int fdpkv_config_set(struct fdpkv_config *cfg, const char *key, const char *value,
		     char *err, size_t errlen);

/*
 * fdpkv_config_parse - apply "key=value key=value ..." (space or comma
 * separated; a devices list uses ';' inside the value) with fdpkv_config_set.
 */
int fdpkv_config_parse(struct fdpkv_config *cfg, const char *kv, char *err, size_t errlen);

/*
 * fdpkv_open - open (and, per cfg->format, format) a cache.
 * Blocks while it reads superblocks and rebuilds the index. On failure
 * returns -errno and writes a one-line reason to @err.
 */
int fdpkv_open(const struct fdpkv_config *cfg, struct fdpkv_cache **cache,
	       char *err, size_t errlen);

/*
 * fdpkv_close - wait for every submitted operation to complete, persist what
 * recovery needs, and free the cache. Completions not yet drained are
 * discarded: their buffers are no longer touched once this returns. Threads
 * blocked in fdpkv_wait() on this cache return -ESHUTDOWN first.
 * Returns 0, -EINVAL for NULL, or -EBADF for a cache that is not open (a
 * second close): then nothing is touched. Since 0.1 it returns int (it was
 * void: callers that ignore the result are unaffected).
 */
int fdpkv_close(struct fdpkv_cache *cache);

/*
 * fdpkv_event_fd - an eventfd (non-blocking) that polls readable while
 * completions are queued. Owned by the cache; valid until fdpkv_close().
 * Never read it: fdpkv_drain() clears it.
 */
int fdpkv_event_fd(const struct fdpkv_cache *cache);

enum fdpkv_op {
	FDPKV_OP_SET = 1,	/* store values; per key: 0 stored */
	FDPKV_OP_GET,		/* load into buffers; per key: 0 filled, -ENOENT miss */
	FDPKV_OP_EXISTS,	/* per key: 0 present, -ENOENT absent */
	FDPKV_OP_LOOKUP_LOCK,	/* as EXISTS, and every hit is locked once; a key
				 * whose segment is being evicted is a miss */
	FDPKV_OP_DELETE,	/* per key: 0 removed, -ENOENT absent, -EBUSY locked */
};

struct fdpkv_key {
	const void *data;
	uint32_t len;		/* 1..FDPKV_KEY_MAX */
};

/*
 * struct fdpkv_buf - a value buffer. For SET it is read, for GET written;
 * it must stay valid until the operation's completion has been drained.
 * Any address and length work. A buffer that starts on a 4 KiB boundary and
 * is a whole number of the device's LBAs moves without a copy, as in an
 * arena (see fdpkv_register_arena for the layout and the one difference on
 * GET), through its plain address; an arena adds pinning once (fixed
 * buffers). Other buffers go through a bounce buffer, large values in
 * pieces on the copy workers (fdpkv_config: copy_threads).
 */
struct fdpkv_buf {
	void *base;
	uint64_t len;
};

/*
 * fdpkv_submit - submit a batch of @n keys (@n >= 1). @bufs is required for
 * SET and GET (one per key) and ignored otherwise. The keys are copied before
 * this returns; the buffers are not. Never blocks on I/O.
 * Returns 0 and stores the operation id (unique, never 0) in @id, or -EINVAL
 * (bad arguments: nothing was submitted, no completion will come),
 * -ESHUTDOWN (cache closing).
 */
int fdpkv_submit(struct fdpkv_cache *cache, enum fdpkv_op op, unsigned int n,
		 const struct fdpkv_key *keys, const struct fdpkv_buf *bufs,
		 void *user_data, uint64_t *id);

/*
 * struct fdpkv_completion - the result of one operation.
 * @result:	0 when every key succeeded (SET: all durable; GET: all
 *		filled; EXISTS/LOOKUP_LOCK/DELETE: the operation ran),
 *		otherwise the first negative errno of the batch
 * @status:	one entry per key: 0 success, negative errno (see enum fdpkv_op)
 * @value_len:	per key value length for hits of GET/EXISTS/LOOKUP_LOCK and
 *		stored keys of SET, 0 otherwise
 * @status and @value_len are owned by the completion: free with
 * fdpkv_completion_release().
 */
struct fdpkv_completion {
	uint64_t id;
	enum fdpkv_op op;
	int result;
	unsigned int nkeys;
	int32_t *status;
	uint64_t *value_len;
	void *user_data;
};

/*
 * fdpkv_drain - move up to @max queued completions into @out and return how
 * many (0 when none). Clears the eventfd when the queue becomes empty without
 * losing a completion that races in. Never blocks.
 */
int fdpkv_drain(struct fdpkv_cache *cache, struct fdpkv_completion *out, unsigned int max);

/* Free what a drained completion owns. */
void fdpkv_completion_release(struct fdpkv_completion *c);

/*
 * fdpkv_unlock - drop one lock of each key taken by FDPKV_OP_LOOKUP_LOCK.
 * Never fails: unknown or unlocked keys are ignored, counts never go below 0.
 * A lock belongs to the version it locked: when that version left the
 * cache while locked (found damaged, or deleted by a DELETE submitted
 * before the lock), the key's next unlock releases that stale lock and
 * nothing else, never a lock another caller holds on a newer version.
 * A key whose segment is being evicted is not locked by LOOKUP_LOCK (a
 * miss, -ENOENT): eviction could not keep it for the lock.
 */
void fdpkv_unlock(struct fdpkv_cache *cache, unsigned int n, const struct fdpkv_key *keys);

/*
 * fdpkv_unlock_keys - fdpkv_unlock with a result per key in @status (may be
 * NULL): 0 a lock of the key's current version released, -ESTALE a lock of
 * a version that is gone released (a no-op for the current one), -ENOENT
 * the key holds no lock, -EINVAL a bad key. Returns how many locks of
 * current versions were released, or -EINVAL (NULL cache, or NULL @keys
 * with @n > 0).
 */
int fdpkv_unlock_keys(struct fdpkv_cache *cache, unsigned int n, const struct fdpkv_key *keys,
		      int32_t *status);

/*
 * fdpkv_wait - block until a completion is queued or @timeout_ms passes
 * (-1: forever). Returns 1 if completions are queued, 0 on timeout,
 * -ESHUTDOWN when fdpkv_close() began meanwhile, -EBADF for a closed cache.
 */
int fdpkv_wait(struct fdpkv_cache *cache, int timeout_ms);

/* Usage: bytes of stored values, in total and per cache-salt bucket. */
struct fdpkv_usage {
	uint64_t bytes_used;		/* value bytes of live objects */
	uint64_t bytes_capacity;	/* value bytes the cache can hold */
	uint64_t objects;
};
int fdpkv_usage(struct fdpkv_cache *cache, struct fdpkv_usage *u);

/*
 * fdpkv_usage_by_bucket - call @fn for every cache-salt bucket ("" for keys
 * without a salt) with its value bytes. Returns 0 or @fn's first non-zero.
 */
int fdpkv_usage_by_bucket(struct fdpkv_cache *cache,
			  int (*fn)(void *arg, const char *bucket, uint64_t bytes), void *arg);

/*
 * fdpkv_foreach_key - call @fn for every live key with its value length
 * (e.g. to seed an eviction policy after a restart). Returns 0 or @fn's first
 * non-zero. Memory holds no keys: they are read from each segment's summary
 * (or its object headers), one segment at a time, so this costs device reads
 * on a large cache. @fn runs without the cache's lock; a key stored, replaced,
 * deleted or moved (re-insert) meanwhile may be seen twice or not at all, and
 * a key whose object cannot be read back is not.
 */
int fdpkv_foreach_key(struct fdpkv_cache *cache,
		      int (*fn)(void *arg, const void *key, uint32_t klen, uint64_t vlen), void *arg);

/*
 * fdpkv_take_evicted - call @fn for every key evicted by the cache itself
 * since the last call, and forget them. Returns the number reported.
 */
int fdpkv_take_evicted(struct fdpkv_cache *cache,
		       void (*fn)(void *arg, const void *key, uint32_t klen, uint64_t vlen), void *arg);

struct fdpkv_stats {
	uint64_t hits, misses;
	uint64_t sets, gets, exists, deletes;
	uint64_t bytes_written, bytes_read;
	uint64_t evicted_segments, evicted_objects, reinserted_objects;
	uint64_t io_errors, corrupt_objects;
	/* FDP backends: zeros written to fill sealed segments to their RU end */
	uint64_t pad_bytes;
	/*
	 * writes issued to a class's next segment while its previous segment
	 * still had writes in flight: 0 means no reordering device could mix
	 * two segments in one reclaim unit
	 */
	uint64_t segment_overlaps;
	/* value bytes that moved between a device and the caller without a copy */
	uint64_t direct_bytes;
	/* device commands whose buffer was a registered (fixed) arena buffer */
	uint64_t fixed_cmds;
	uint64_t inflight_ops, inflight_cmds;
	uint64_t segments_total, segments_free;
	uint64_t index_entries, index_bytes;
	unsigned int nclasses;
	struct {
		uint16_t placement_id;		/* device placement id (0 on file) */
		uint64_t bytes_written;		/* objects, pads, summaries */
		uint64_t open_segment_bytes;	/* filled in its open segment(s) */
	} classes[FDPKV_MAX_CLASSES];
	/*
	 * Added for issue #4. A deleted or overwritten key must not come
	 * back after a restart while an older object of it is still on the
	 * device: delete records rewritten into the metadata class because the
	 * record hiding such an object was evicted first (carried_records);
	 * delete records held in memory because they still hide something
	 * (pending_delete_records); live keys whose older version may still
	 * be on the device (shadowing_entries).
	 */
	uint64_t carried_records;
	uint64_t pending_delete_records;
	uint64_t shadowing_entries;
	/*
	 * Added for issue #12: segment summaries written (lib/FORMAT.md), and
	 * how this open's recovery read each segment that held objects: from
	 * its summary, or by walking its object headers.
	 */
	uint64_t summaries_written;
	uint64_t recovery_summaries, recovery_walks;
};
/*
 * fdpkv_stats - fill @s. Fields are only ever appended to struct
 * fdpkv_stats, and the macro passes the caller's sizeof: a program built
 * against an older fdpkv.h gets the fields it knows and nothing written
 * past its struct; one built against a newer header reads 0 in fields this
 * library does not have. -EINVAL for NULL or a size below the first
 * release's first fields.
 */
int fdpkv_stats_get(struct fdpkv_cache *cache, struct fdpkv_stats *s, size_t size);
#define fdpkv_stats(cache, s)	fdpkv_stats_get((cache), (s), sizeof(*(s)))

/*
 * fdpkv_register_arena - register @len bytes at @base (e.g. LMCache's L1
 * memory) so that values inside it move without a copy.
 *
 * A SET or GET buffer that lies wholly inside an arena, starts on a 4 KiB
 * boundary and whose length is a whole number of the device's LBAs is not
 * bounced: a SET stores the value on an LBA boundary of its own (header and
 * key in the blocks before it: for a value of whole LBAs that is the same
 * space a bounced object takes) and the device reads it from the buffer; a GET of such an object has the
 * device write the value into the buffer. Other buffers work as before; an
 * object stored either way can be read into either kind of buffer.
 * The arena is an io_uring fixed buffer in every device's ring, so its pages
 * are pinned while it is registered (RLIMIT_MEMLOCK applies without
 * CAP_IPC_LOCK).
 *
 * One difference for the caller: a GET into an arena buffer (or any buffer
 * that moves without a copy, struct fdpkv_buf) whose stored value turns out
 * to be damaged reports the key missing (-ENOENT), as always, and one whose
 * read fails reports the error, but in both cases the buffer may have been
 * written. The same holds for a bounced GET of an object larger than one
 * copy piece (fdpkv_config: copy_piece_bytes), which is copied out piece by
 * piece as it arrives: never a hit with part of a value, but the buffer of
 * a miss or a failure is undefined.
 *
 * Thread-safe. Blocks while the pages are pinned (and, the first time, while
 * each device is probed with one 64 KiB read); SETs and GETs meanwhile do
 * not wait for it. Returns an arena id >= 0, -EINVAL (NULL @base, @len 0),
 * -EEXIST (overlaps a registered arena), -ENOSPC (no id or ring slots
 * left: 16 arenas, 1023 GiB in all),
 * -EOPNOTSUPP (the kernel's io_uring cannot hold it), or the ring's -errno
 * (-ENOMEM when the pages cannot be pinned).
 */
int fdpkv_register_arena(struct fdpkv_cache *cache, void *base, size_t len);

/*
 * fdpkv_unregister_arena - unpin arena @id. Returns 0, -ENOENT (no such
 * arena), or -EBUSY while an operation using a buffer in it is in flight
 * (drain first). fdpkv_close() releases every arena.
 */
int fdpkv_unregister_arena(struct fdpkv_cache *cache, int id);

/*
 * struct fdpkv_device_stats - what one device of the cache has seen.
 * @host_bytes_written:	bytes the cache wrote (objects, superblocks)
 * @media_bytes_written:	bytes the media wrote, garbage collection included;
 *			only the sim backend models it (0 elsewhere), so
 *			media / host is the device write amplification
 * @ru_realigned:	FDP backends (ng, fdpkv): placement ids whose reclaim
 *			unit was found partly written at open and moved to a
 *			fresh one so that segments start on RU boundaries
 * @dlfeat:		NVMe backends (ng, fdpkv): Identify Namespace DLFEAT as the
 *			namespace reports it; bits 2:0 = 1 promise zeroes after
 *			deallocate. -1: not known (fdpkv: could not be read
 *			without privileges) or not NVMe
 * @dealloc_zeroes:	the cache trusts deallocate to zero (cfg dealloc_zeroes,
 *			else the device's answer). false: the first LBA of each
 *			evicted segment is zeroed before the segment is reused
 * @wipe_placement_id:	the placement id those zero writes go through
 * @wiped_segments:	evicted segments zeroed so far
 * @fixed_buffers:	1 when values in a registered arena go to this device
 *			as io_uring fixed buffers; 0 when they go as plain
 *			user addresses (still without a copy): no arena
 *			registered yet, no ring (sim), or a kernel whose NVMe
 *			passthrough refuses large fixed buffers (6.1; probed
 *			once, at the first arena; the answer stays)
 * Available since 0.1 (added with the library implementation); the fields
 * from @dlfeat on came with deallocate detection and arenas.
 */
struct fdpkv_device_stats {
	uint64_t host_bytes_written;
	uint64_t media_bytes_written;
	uint64_t segment_bytes;
	uint64_t segments;
	uint32_t lba_size;
	uint64_t ru_realigned;
	int32_t dlfeat;
	bool dealloc_zeroes;
	uint16_t wipe_placement_id;
	uint64_t wiped_segments;
	uint32_t fixed_buffers;
};

/* fdpkv_device_stats - counters of device @dev (0..ndevices-1). 0 or -EINVAL. */
int fdpkv_device_stats(struct fdpkv_cache *cache, unsigned int dev, struct fdpkv_device_stats *s);

/*
 * struct fdpkv_placement_report - which placement id (reclaim unit handle)
 * each placement class of one device writes its segments through.
 * Class 0 holds metadata, class 1 objects re-inserted by eviction, classes
 * 2.. the data of the cache-salt buckets (one class per bucket group).
 * @fdp:		the device separates writes by placement id (ng: or fdpkv:
 *			on an FDP namespace, sim:); false on file: and on
 *			namespaces without FDP, where every class is one write
 *			stream anyway and nothing below counts as shared
 * @handles:		placement ids the device offers (0 when !@fdp)
 * @nclasses:		entries used in @classes
 * @shared_handles:	placement ids written by more than one class
 * @shared_classes:	classes whose placement id another class also writes;
 *			non-zero when the device had fewer handles than classes
 *			at format and several classes were folded onto one
 *			handle: their segments then interleave in one reclaim
 *			unit stream, mixing data that ages at different rates
 *			(the separation FDP is for is lost between them)
 * @classes[].placement_id:	the placement id of the class (0 when !@fdp)
 * @classes[].sharing:		how many other classes write through the
 *				same placement id (0: the class has its own)
 * Available since 0.1 (added with the folded-class report).
 */
struct fdpkv_placement_report {
	bool fdp;
	unsigned int handles;
	unsigned int nclasses;
	unsigned int shared_handles;
	unsigned int shared_classes;
	struct {
		uint16_t placement_id;
		uint16_t sharing;
	} classes[FDPKV_MAX_CLASSES];
};

/*
 * fdpkv_placement_report - fill @r with the class -> placement id map of
 * device @dev (0..ndevices-1), as its superblock recorded it at format.
 * Never blocks. Returns 0, or -EINVAL for a NULL argument or a bad @dev.
 */
int fdpkv_placement_report(struct fdpkv_cache *cache, unsigned int dev,
			   struct fdpkv_placement_report *r);

/* Run-time version, to compare against FDPKV_VERSION_MAJOR/MINOR. */
int fdpkv_version_major(void);
int fdpkv_version_minor(void);

/*
 * fdpkv_fsck - check (and with FDPKV_FSCK_REPAIR, repair) the cache that
 * @cfg names, without opening it: nothing is written unless REPAIR is set.
 *
 * Checked, per device: both superblock copies (checksum, version, geometry,
 * the two copies agreeing, the device set matching @cfg); then every
 * segment's chain of objects, walked as recovery walks it, with every header
 * and key checksum and every value checksum (all values are read, so this
 * takes as long as reading the used part of the devices). Where a header is
 * damaged the rest of its segment is searched for the next header of the same
 * segment use, so the objects after it are checked too.
 *
 * Repair (FDPKV_FSCK_REPAIR) makes the cache open with the damaged objects
 * missing and every other object intact:
 *  - a damaged or stale superblock copy is rewritten from the good one (when
 *    both are damaged nothing is done: the device cannot be checked);
 *  - a damaged object (bad header, bad value, cut short) is overwritten in
 *    place by a "filler": a delete record whose length is the damaged
 *    extent, so that recovery's chain continues behind it. The filler of a
 *    damaged value carries the object's key and sequence, so an older
 *    version of the key stays hidden as it was; the filler of a damaged
 *    header carries the reserved key "\0fdpkv-fsck-filler" (the damaged key
 *    is unknown: an older version of it, if any, becomes visible again);
 *  - a damaged header with no object after it in its segment is zeroed.
 * I/O errors are reported and not repaired.
 *
 * @r (required) is filled with counts; @on_damage (optional) is called once
 * per damage found, on the calling thread, after its repair was tried;
 * @d and the strings it points to are valid during the call only.
 * Blocks until done. Not to be run while a process has the cache open.
 * Returns 0 when the check ran (damage or not: see @r), -EINVAL for bad
 * arguments or a device that belongs to another cache or position,
 * -ENODATA when a device holds no fdpkv cache, or another -errno when a device
 * cannot be opened or read; then @err holds a one-line reason.
 * Available since 0.1.
 */
#define FDPKV_FSCK_REPAIR	0x1u

enum fdpkv_damage_kind {
	FDPKV_DAMAGE_SUPERBLOCK = 1,	/* a superblock copy damaged, or the copies differ */
	FDPKV_DAMAGE_HEADER,		/* an object header or key fails its checksum */
	FDPKV_DAMAGE_VALUE,		/* a value fails its checksum */
	FDPKV_DAMAGE_TRUNCATED,		/* the last object of a chain is cut short: its
					 * value fails its checksum and ends in zeroes */
	FDPKV_DAMAGE_IO,		/* a read failed: the chain ends there */
};

/**
 * struct fdpkv_damage - one damage found by fdpkv_fsck()
 * @kind:	see enum fdpkv_damage_kind
 * @dev:	device index (position in the devices list)
 * @segment:	segment number, -1 for a superblock copy
 * @offset:	bytes into the segment (superblock: device offset of the copy)
 * @length:	bytes affected (an object's extent, the gap up to the next
 *		header, or the copy's size)
 * @key:	the object's key, NULL when its header is damaged
 * @klen:	its length
 * @reason:	one line saying what is wrong
 * @repaired:	REPAIR was set and the repair was written
 */
struct fdpkv_damage {
	enum fdpkv_damage_kind kind;
	unsigned int dev;
	int64_t segment;
	uint64_t offset;
	uint64_t length;
	const void *key;
	uint32_t klen;
	const char *reason;
	bool repaired;
};

/**
 * struct fdpkv_fsck_report - what fdpkv_fsck() found (all devices summed)
 * @ndevices:		devices checked
 * @superblock_damaged:	superblock copies damaged (or disagreeing)
 * @segments:		segments checked
 * @segments_used:	segments holding at least one object
 * @objects_live:	newest version of their key: what an open would index
 * @objects_superseded:	older versions and older delete records (garbage
 *			until their segment is evicted)
 * @objects_deleted:	delete records that are the newest of their key
 * @objects_filler:	fillers written by an earlier repair
 * @bytes_live:		value bytes of the live objects
 * @bytes_stored:	device bytes of every object in a chain
 * @damaged_objects:	objects with a damaged header, value, or cut short
 * @truncated_chains:	chains that end in a damaged object
 * @io_errors:		reads that failed
 * @damage:		damage reported (superblock copies, objects, I/O errors)
 * @repaired:		of @damage, how many were repaired; the cache is clean
 *			when @damage == @repaired
 */
struct fdpkv_fsck_report {
	unsigned int ndevices;
	uint64_t superblock_damaged;
	uint64_t segments, segments_used;
	uint64_t objects_live, objects_superseded, objects_deleted, objects_filler;
	uint64_t bytes_live, bytes_stored;
	uint64_t damaged_objects, truncated_chains, io_errors;
	uint64_t damage, repaired;
	uint64_t rsvd[8];
};

int fdpkv_fsck(const struct fdpkv_config *cfg, unsigned int flags, struct fdpkv_fsck_report *r,
	       void (*on_damage)(void *arg, const struct fdpkv_damage *d), void *arg,
	       char *err, size_t errlen);

/**
 * struct fdpkv_probe_info - what fdpkv_probe() read from a device
 * @formatted:		a valid fdpkv superblock copy is there
 * @damaged:		not formatted, but a copy carries the fdpkv magic
 * @copies_valid:	valid superblock copies (0..2)
 * @uuid:		the cache's format uuid (the same on all its devices)
 * @generation:		superblock generation
 * @lba_size:		LBA size when formatted
 * @segment_bytes:	segment size
 * @segments:		segments on this device
 * @capacity:		bytes of the device the cache uses
 * @dev_index:		this device's position in the cache's device set
 * @ndevices:		devices in the set
 */
struct fdpkv_probe_info {
	bool formatted;
	bool damaged;
	unsigned int copies_valid;
	uint8_t uuid[16];
	uint64_t generation;
	uint32_t lba_size;
	uint64_t segment_bytes, segments, capacity;
	uint32_t dev_index, ndevices;
	uint64_t rsvd[4];
};

/*
 * fdpkv_probe - read only the two superblock copies of device @uri (any URI
 * fdpkv_config takes, e.g. "ng:/dev/ng0n1") and say whether it holds a
 * cache. Never writes and never creates a file. Blocks for one read.
 * Returns 0 with @info filled (formatted or not), or -errno when the device
 * cannot be opened or read, with a one-line reason in @err.
 * Available since 0.1.
 */
int fdpkv_probe(const char *uri, struct fdpkv_probe_info *info, char *err, size_t errlen);

/*
 * fdpkv_resolve_device - the device URI libfdpkv opens for @uri: for
 * "auto:PATH" or a bare "/PATH" the first of bdev: (block write streams,
 * Linux >= 6.16, read-write access), fdpkv: (attached to the module,
 * /dev/fdpkv usable), ng: (/dev/ngXnY usable) and file: that works for
 * PATH; any other URI as it is. Opens nothing but /dev/fdpkv (to list its
 * namespaces) and writes nothing. Returns 0 with @out set, -ENAMETOOLONG
 * when it does not fit @outlen, or -errno with a reason in @err.
 * Available since 0.1.
 */
int fdpkv_resolve_device(const char *uri, char *out, size_t outlen, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* FDPKV_H */
