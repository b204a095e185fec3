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
	FDPKV_DURABILITY_NONE = 0,	/* acknowledged once in the device/page cache */
	FDPKV_DURABILITY_FLUSH,		/* a flush follows every batch of writes */
	FDPKV_DURABILITY_FUA,		/* writes carry FUA (O_DSYNC on files) */
};

enum fdpkv_format_mode {
	FDPKV_FORMAT_NEVER = 0,		/* open an existing cache; fail if none */
	FDPKV_FORMAT_AUTO,		/* format devices that hold no cache */
	FDPKV_FORMAT_ALWAYS,		/* wipe and format */
};

/**
 * struct fdpkv_config - how to open a cache
 * @struct_size:	sizeof(struct fdpkv_config) of the caller (for growth)
 * @ndevices:		number of entries in @devices
 * @devices:		device URIs: "file:/path", "ng:/dev/ngXnY",
 *			"fdpkv:/dev/fdpkv?ns=N", "sim:" (in-memory model)
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
};

/* Fill @cfg with defaults. */
void fdpkv_config_init(struct fdpkv_config *cfg);

/*
 * fdpkv_config_set - set one configuration key from its string value.
 * Keys: device (repeatable), devices (comma-separated), capacity, segment_size
 * (both accept K/M/G/T suffixes), queue_depth, durability (none|flush|fua),
 * format (never|auto|always), placement (salt|none), salt_separator,
 * max_classes, free_segments_low, reinsert (0|1).
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
 * discarded: their buffers are no longer touched once this returns.
 */
void fdpkv_close(struct fdpkv_cache *cache);

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
	FDPKV_OP_LOOKUP_LOCK,	/* as EXISTS, and every hit is locked once */
	FDPKV_OP_DELETE,	/* per key: 0 removed, -ENOENT absent, -EBUSY locked */
};

struct fdpkv_key {
	const void *data;
	uint32_t len;		/* 1..FDPKV_KEY_MAX */
};

/*
 * struct fdpkv_buf - a value buffer. For SET it is read, for GET written;
 * it must stay valid until the operation's completion has been drained.
 * Any address and length work: misaligned ones go through a bounce buffer.
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
 */
void fdpkv_unlock(struct fdpkv_cache *cache, unsigned int n, const struct fdpkv_key *keys);

/*
 * fdpkv_wait - block until a completion is queued or @timeout_ms passes
 * (-1: forever). Returns 1 if completions are queued, 0 on timeout.
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
 * non-zero. @fn must not call back into the cache.
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
	uint64_t inflight_ops, inflight_cmds;
	uint64_t segments_total, segments_free;
	uint64_t index_entries, index_bytes;
	unsigned int nclasses;
	struct {
		uint16_t placement_id;		/* device placement id (0 on file) */
		uint64_t bytes_written;		/* objects and pads */
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
};
int fdpkv_stats(struct fdpkv_cache *cache, struct fdpkv_stats *s);

/*
 * struct fdpkv_device_stats - what one device of the cache has seen.
 * @host_bytes_written:	bytes the cache wrote (objects, superblocks)
 * @media_bytes_written:	bytes the media wrote, garbage collection included;
 *			only the sim backend models it (0 elsewhere), so
 *			media / host is the device write amplification
 * @ru_realigned:	FDP backends (ng, fdpkv): placement ids whose reclaim
 *			unit was found partly written at open and moved to a
 *			fresh one so that segments start on RU boundaries
 * Available since 0.1 (added with the library implementation).
 */
struct fdpkv_device_stats {
	uint64_t host_bytes_written;
	uint64_t media_bytes_written;
	uint64_t segment_bytes;
	uint64_t segments;
	uint32_t lba_size;
	uint64_t ru_realigned;
};

/* fdpkv_device_stats - counters of device @dev (0..ndevices-1). 0 or -EINVAL. */
int fdpkv_device_stats(struct fdpkv_cache *cache, unsigned int dev, struct fdpkv_device_stats *s);

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

#ifdef __cplusplus
}
#endif

#endif /* FDPKV_H */
