/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cache.h - the cache object, shared by the files of the cache (cache.c
 * lists them: one concern each), recovery.c (open-time index rebuild, with
 * torn.c: torn newest versions) and stats.c (usage and statistics).
 *
 * Locking: cache->lock protects the index, every device's segment table and
 * space waiters, usage, the evicted list and the sequence counter. It is
 * taken with cache_lock() and released with cache_unlock() (lockstat.h),
 * which hand the engine the commands submitted meanwhile only once it is
 * released: no thread wakes an engine thread while holding it. It nests
 * outside the completion queue lock, the staging pool's and the evictor's
 * (evictor_kick is called with it held and signals at once: deferred past
 * the unlock, it let writes outrun the evictor under heavy load); completion
 * callbacks run on device threads and take it themselves, and so does the
 * evictor thread, which releases it between batches of a segment's
 * eviction (evict.c: evict_step).
 */
#ifndef FDPKV_CACHE_H
#define FDPKV_CACHE_H

#include "internal.h"
#include "lockstat.h"

struct fdpkv_cache;
struct op;

/* One key of an operation, and, for writes, one object on the device. */
struct key_req {
	struct op *op;			/* NULL for internal writes (reinsert) */
	unsigned int idx;
	const uint8_t *key;
	uint32_t klen;
	struct fdpkv_buf buf;
	uint8_t dev, cls;
	uint16_t flags;			/* OBJ_F_* */
	uint64_t vlen, size;		/* value and on-device bytes */
	uint32_t vcrc;
	uint64_t seq;			/* write: its sequence; read: seg's open_seq */
	uint32_t seg;
	uint64_t off;			/* inside the segment */
	struct arena *arena;		/* buf is in it: the value moves without a copy */
	void *staging;			/* LBA-aligned object image (its head only with arena) */
	uint64_t staging_cap;		/* its allocated size (staging_put) */
	struct io_cmd cmd;
	bool io_done;
	int io_res;
	struct key_req *wq_next;	/* segment write FIFO */
	struct key_req *pend_next;	/* same-hash writes in flight (pending.c) */
	uint32_t pend_hash;
	struct key_req *wait_next;	/* waiting for a free segment */
	struct key_req *gate_next;	/* waiting for the class's previous segment */
	/* delete records: what the record hides, linked to its segment on commit */
	struct shadow_rec *shadow;
	bool carry;			/* a delete record carried forward (shadow_carry) */
	bool drops;			/* a user DELETE: its key leaves memory when
					 * the record gets its place (write.c) */
	bool shadows;			/* commit marks the entry IDX_F_SHADOW */
	struct copy_pipe *pipe;		/* moved in pieces (pieces.c), else NULL */
	struct work_job job;		/* a GET's crc on a copy worker (read.c) */
	bool absent;			/* a DELETE of an absent key that still writes
					 * its record: completes -ENOENT (write.c) */
	/*
	 * Evicted segments whose delete record for this key this write took
	 * over (shadow.c): each waits for the write (its copies count) so the
	 * record stays on the device until the write is done and, by the
	 * flush before the deallocate, durable (write_complete).
	 */
	uint32_t held_src[2];
	uint8_t nheld;
};

/*
 * Where piece k of an object image of size bytes lies (pieces.c): image
 * bytes [off, off + len), holding value bytes [vstart, vstart + vlen) of the
 * value (vlen 0: none, the header's or padding's piece).
 */
struct piece_span {
	uint64_t off, len;
	uint64_t vstart, vlen;
};

/* One piece of a value moved in pieces: its worker job and its command. */
struct piece {
	struct work_job job;
	struct io_cmd cmd;
	struct copy_pipe *pp;
	uint32_t idx;
	uint32_t crc;			/* crc32c(0, its value bytes) */
	/*
	 * SET: steps still missing before the piece is written: staged, and
	 * the write allowed (write_submit); piece 0, the header's, also waits
	 * for every other piece to be staged.
	 */
	atomic_uint gate;
};

struct copy_pipe {
	struct key_req *kr;
	const uint8_t *src;		/* SET: the caller's value */
	uint64_t piece;			/* bytes per piece of the image */
	uint64_t voff;			/* where the value starts in the image */
	uint32_t n;
	bool direct;			/* GET into the caller's buffer: nothing staged but the head */
	atomic_uint left;		/* pieces not yet staged / copied out */
	atomic_uint ios;		/* SET: piece writes not yet done */
	atomic_int err;			/* first I/O error */
	/*
	 * SET: the key completes (key_finish) once staging is over and the
	 * key's completion came (key_done, with status and vlen kept here):
	 * a SET failing before its write must not free what workers still
	 * fill. GET: only the completion.
	 */
	atomic_uint holds;
	int status;
	uint64_t vlen;
	atomic_bool went;		/* SET: write_submit let the writes go */
	/* SET: from write_submit; GET: base from the start */
	uint64_t seg_seq, base;
	bool dsync;
	uint16_t pid;
	struct piece p[];
};

struct op {
	struct fdpkv_cache *cache;
	enum fdpkv_op type;
	uint64_t id;
	void *user_data;
	unsigned int n;
	int32_t *status;
	uint64_t *vlen;
	atomic_uint remaining;
	atomic_uint dev_mask;		/* devices written: flushed at the end */
	/*
	 * Devices where a write of this op hides an older version (an
	 * overwrite, a delete record, a key whose evicted version is still
	 * on the device): with durability=none these are flushed before
	 * the op completes, so a power cut can lose the op's data but never
	 * bring back what it hid (commit_object, op_finish).
	 */
	atomic_uint hide_mask;
	atomic_uint flushes;
	struct io_cmd flush_cmd[FDPKV_MAX_DEVICES];
	uint8_t *keybuf;
	/* allocated at submit, so that the completion can always be posted */
	struct cq_node *node;
	struct key_req reqs[];
};

/*
 * Deallocating an evicted segment, and where deallocate may keep the old
 * bytes, zeroing its first LBA after that. One per segment, preallocated:
 * an eviction must never find itself without one.
 */
struct dealloc_req {
	struct io_cmd cmd;
	struct io_cmd wipe;
	struct devctx *d;
	uint32_t seg;
};

/* Writes reserved and not yet committed, by key (pending.c). cache->lock. */
struct pend_tab {
	struct key_req **buckets;
	uint32_t nbuckets;		/* power of two */
	uint64_t count;
	const struct index *ix;		/* hashes by its fingerprints */
};

/* Keys evicted from segments not free yet, by key and by segment (ghost.c). */
struct ghost;
struct ghost_tab {
	struct ghost **buckets;
	uint32_t nbuckets;		/* power of two */
	uint64_t count;
	struct {
		struct ghost *head;
		uint32_t lossy;		/* ghosts lost to ENOMEM */
	} *seg;
	uint32_t nsegs;
	uint32_t nlossy;		/* segments with lossy set */
};

struct devctx {
	struct fdpkv_cache *cache;
	unsigned int idx;
	struct fdpkv_dev dev;
	struct engine *eng;
	struct superblock sb;
	uint64_t uuid64;
	struct seg_table segs;			/* cache->lock */
	struct pend_tab pend;			/* cache->lock */
	struct ghost_tab ghosts;		/* cache->lock */
	struct key_req *waiters, *waiters_tail;	/* cache->lock */
	/*
	 * Writes wait, no segment is free and none is on its way: the evictor
	 * is asked for one more segment than its reserve (write.c:
	 * reclaim_unstick). cache->lock.
	 */
	bool unstick;
	uint64_t waiter_retries;		/* waiters retried (tests); cache->lock */
	void *zeros;				/* pad source, ZEROS_BYTES; cache->lock */
	struct dealloc_req *dreq;		/* one per segment */
	/*
	 * Deallocate may keep the old bytes (cfg.dealloc_zeroes, geometry):
	 * evicted segments get their first LBA zeroed through wipe_pid before
	 * they are reused. Set at open.
	 */
	bool wipe;
	uint16_t wipe_pid;
	atomic_ullong wiped_segments;
	/*
	 * Per class: writes wait here until the class's previous segment has
	 * none left in flight, so a device that reorders commands cannot put
	 * the start of the next segment into the previous segment's reclaim
	 * unit. cur_seg: the segment writes may go to now. cache->lock.
	 */
	struct {
		struct key_req *head, *tail;
		uint32_t cur_seg;
	} gate[FDPKV_MAX_CLASSES];
};

/* One salt bucket's usage, in a hash table (usage.c); freed when it empties. */
struct bucket_usage {
	struct bucket_usage *next;	/* hash chain */
	uint16_t id;			/* what its entries name it by (usage.c) */
	uint64_t hash;
	uint64_t bytes;
	uint64_t objects;
	char name[132];
};

/*
 * Locks of a key whose locked version left the index while locked (read.c:
 * stale locks). The next unlocks of the key release these first, so that
 * they never release a lock another holder took on a newer version.
 */
struct stale_lock {
	struct stale_lock *next;
	uint64_t fp;			/* kv_hash() of the key */
	uint32_t count;
	uint16_t klen;
};

struct evicted {
	struct evicted *next;
	uint64_t vlen;
	uint32_t klen;
	uint8_t key[];
};

/* Alignment of staging buffers and other I/O buffers. */
#define STAGING_ALIGN	4096

/* Staging buffers kept for reuse (staging.c: staging_get). */
#define STAGING_KEEP	64

struct staging_pool {
	pthread_mutex_t lock;
	unsigned int n;
	uint64_t bytes;
	struct {
		void *p;
		uint64_t cap;
	} slot[STAGING_KEEP];
};

struct fdpkv_cache {
	struct fdpkv_config cfg;
	unsigned int ndev;
	struct devctx devs[FDPKV_MAX_DEVICES];

	pthread_mutex_t lock;		/* cache_lock(), cache_unlock(): lockstat.h */
	atomic_uint lock_waiting;	/* threads in cache_lock() */
#ifdef FDPKV_LOCK_STATS
	struct lockstat lockstat;	/* under @lock */
#endif
	pthread_cond_t idle;		/* inflight_ops reached 0 */
	struct index ix;
	/*
	 * The keys of evicted entries as read back from the device (evict.c:
	 * evicted_key): equal to the entry's, not given (no table, or none
	 * for that offset), or different (a bug). Under @lock.
	 */
	struct segkeys_counts {
		uint64_t found, missing, wrong;
	} segkeys;
	/* recovery only: the entries the scan met in more than one version */
	struct torn_key *torn_keys;
	uint32_t *torn_map;		/* by entry id: 1 + its torn_keys slot */
	size_t ntorn, torn_cap, torn_map_n;
	uint64_t seq;
	uint64_t seq_lease;		/* seq stays below it (lease.c) */
	uint64_t inflight_ops;
	struct bucket_usage **buckets;	/* hash table of bucket_slots chains */
	size_t nbuckets, bucket_slots;
	struct bucket_usage **bucket_by_id;	/* [id], ids 1..bucket_id_next - 1 */
	uint16_t *bucket_id_free;		/* ids of removed buckets, for reuse */
	uint32_t bucket_id_next, bucket_id_cap, bucket_id_nfree;
	uint64_t bytes_used, objects;
	struct evicted *ev_head, *ev_tail;
	struct stale_lock *stale_locks;	/* read.c */

	struct cq cq;
	struct staging_pool pool;
	pthread_mutex_t arena_reg_lock;		/* one (un)registration at a time */
	pthread_mutex_t arena_lock;		/* protects arenas[] and ready */
	struct arena *arenas[ARENA_MAX];	/* by id, NULL = free */
	atomic_ullong next_id;
	atomic_bool closing;
	struct evictor *evictor;		/* evictor.c; NULL: evict inline */
	struct workers *workers;		/* workers.c; NULL: copy inline */
	struct fdpkv_cache *open_next;	/* open.c: the open caches */

	unsigned int nclasses, ndata;
	struct {
		atomic_ullong hits, misses, sets, gets, exists, deletes;
		atomic_ullong bytes_written, bytes_read;
		atomic_ullong evicted_segments, evicted_objects, reinserted_objects;
		atomic_ullong io_errors, corrupt_objects;
		atomic_ullong class_bytes[FDPKV_MAX_CLASSES];
		atomic_ullong pad_bytes;
		atomic_ullong segment_overlaps;
		atomic_ullong direct_bytes;
		atomic_ullong carried_records;
		atomic_ullong piece_jobs;	/* pieces copied by the workers */
		atomic_ullong crc_jobs;	/* large direct GETs' pieces checksummed by the workers */
		atomic_ullong worker_reads;	/* of those, read by the worker itself (read_nowait) */
		atomic_ullong set_crc_jobs;	/* large direct SETs' pieces checksummed by the workers */
		atomic_ullong summaries_written;
		/* the last open's recovery: segments read by summary / by header walk */
		atomic_ullong recovery_summaries, recovery_walks;
	} st;
};

/*
 * A re-insert copy (cfg.reinsert): an object read since it was written,
 * rescued from a segment being evicted into the re-insert class.
 *
 * Its slot in the re-insert class (and with it its sequence) is reserved when
 * the eviction decides, before the source is read, so every user write that
 * is reserved later is newer, in memory and for recovery alike; keys with a
 * user write already reserved are not copied, as that write would be older
 * than the copy. The source segment stays in SEG_RECLAIM, readable and not
 * deallocated, until every copy is done. A copy takes over the index entry
 * only if the entry still points at the source; otherwise the key changed
 * meanwhile and the copy is garbage already. When the source cannot be read
 * or is damaged the reserved slot is still written, with a value crc that
 * cannot match: recovery stops at the first hole of a segment, so a slot
 * must never stay empty, and a bad value is a miss on every path.
 */
struct reinsert_req {
	struct key_req kr;		/* kr.op == NULL marks an internal write */
	struct devctx *d;
	uint32_t src_seg, src_off_lba;
	uint64_t src_seg_seq;		/* open sequence of the source segment */
	uint64_t seg_seq;		/* open sequence of the destination segment */
	bool failed, committed;
	struct io_cmd rcmd;
	uint8_t key[];
};

/* cache.c */
unsigned int cache_key_dev(const struct fdpkv_cache *c, const void *key, uint32_t klen);
unsigned int cache_key_class(const struct fdpkv_cache *c, const void *key, uint32_t klen);
uint64_t seg_base(const struct devctx *d, uint32_t s);
void entry_drop(struct fdpkv_cache *c, struct index_entry *e);
struct fdpkv_cache *kr_cache(const struct key_req *kr);
void key_done(struct key_req *kr, int status, uint64_t vlen);
/* key_done once nothing else holds @kr (pieces.c: struct copy_pipe). */
void key_finish(struct key_req *kr, int status, uint64_t vlen);

/* usage.c */
/* Count a live entry of key @key in the totals and its salt bucket, or
 * uncount it (by the bucket id it keeps). cache->lock held. */
void usage_count(struct fdpkv_cache *c, struct index_entry *e, const void *key, uint32_t klen);
void usage_uncount(struct fdpkv_cache *c, struct index_entry *e);
/* @e's value is now e->vlen instead of @old_vlen, another version of the
 * same key: same bucket. cache->lock held. */
void usage_resize(struct fdpkv_cache *c, struct index_entry *e, uint64_t old_vlen);
void usage_free(struct fdpkv_cache *c);

/* staging.c */
void *staging_get(struct fdpkv_cache *c, uint64_t size, uint64_t *cap);
void staging_put(struct fdpkv_cache *c, void *p, uint64_t cap);
void staging_pool_destroy(struct staging_pool *sp);
uint64_t staged_bytes(const struct key_req *kr);
void cmd_value_part(struct key_req *kr);
int stage_object(struct fdpkv_cache *c, struct key_req *kr, const void *value);

/* write.c */
void run_set(struct fdpkv_cache *c, struct op *op, const struct fdpkv_buf *bufs);
void run_delete(struct fdpkv_cache *c, struct op *op);
int slot_reserve(struct devctx *d, struct key_req *kr);
int reserve_and_submit(struct key_req *kr);
void write_submit(struct devctx *d, struct key_req *kr, uint64_t seg_seq);
void retry_waiters(struct devctx *d, struct key_req **failed);
/* Fail every waiting write with -ENOSPC, chained on @failed. cache->lock held. */
void waiters_fail(struct devctx *d, struct key_req **failed);
bool reclaim_moving(const struct devctx *d);
/* A read, copy or held write of segment @s is over (readers, copies). cache->lock held. */
void seg_released(struct devctx *d, uint32_t s);
void waiter_count(struct devctx *d, const struct key_req *kr, int n);
void complete_failed(struct key_req *failed);
/* Encode @kr's header (value crc in kr->vcrc) into its staging image. */
void obj_stage_header(struct devctx *d, struct key_req *kr, uint64_t seg_seq);
/* @kr's object is written (@res < 0: it failed): commit in offset order. */
void write_complete(struct key_req *kr, int res);

/* gate.c */
void gate_submit(struct devctx *d, struct key_req *kr);
void gate_release(struct devctx *d);

/* pad.c */
void *zeros_get(struct devctx *d);
void pad_sealed(struct devctx *d);

/* summary.c: a sealed segment's summary (lib/FORMAT.md) */
/* Append @kr's record to @sg's summary: @kr's write committed. cache->lock held. */
void summary_add(struct devctx *d, struct segment *sg, const struct key_req *kr);
/* Write @seg's summary if it is sealed and drained, else nothing. cache->lock held. */
void summary_kick(struct devctx *d, uint32_t seg);
/* @sg will have no summary (a write to it failed). cache->lock held. */
void summary_drop(struct segment *sg);
/*
 * May decoded footer @f of a segment of @d be believed: this cache's, its
 * records and their room within the segment, behind the chain it ends?
 * (Whose use of the segment it names is the caller's to check.)
 */
bool summary_footer_plausible(const struct devctx *d, const struct sum_footer *f);

/* read.c */
void run_get(struct fdpkv_cache *c, struct op *op, const struct fdpkv_buf *bufs);
void run_exists(struct fdpkv_cache *c, struct op *op, bool lock);
/*
 * @kr's object is read into its staging image (@res < 0: it failed): check
 * it against @vcrc, the crc of its value as read, and complete the key.
 * @copied: the value is in the caller's buffer already (pieces.c); else
 * copied here once known good.
 */
void read_complete(struct key_req *kr, int res, bool copied, uint32_t vcrc);

/* pieces.c */
uint32_t piece_count(uint64_t size, uint64_t piece);
void piece_span(uint64_t size, uint64_t voff, uint64_t vlen, uint64_t piece, uint32_t k,
		struct piece_span *s);
/*
 * Piece-sized staging slots a value moved in pieces takes besides piece 0's:
 * the pieces staged (SET) or read (GET) ahead of the device, per value.
 */
#define PIPE_RING	4
/* Staging bytes of an object image of @size moved in pieces of @piece. */
uint64_t pipe_staging_bytes(uint64_t size, uint64_t piece);
/* Is @kr (size, vlen, arena set) moved in pieces on a device with LBAs of @lba? */
bool pipe_wanted(const struct fdpkv_cache *c, const struct key_req *kr, uint32_t lba);
/* SET: stage @kr's image in pieces on the workers; 0 or -ENOMEM. */
int pipe_stage_start(struct fdpkv_cache *c, struct key_req *kr, const void *value);
/* SET: the slot's write may go (write_submit). cache->lock held. */
void pipe_write_go(struct devctx *d, struct key_req *kr, uint64_t seg_seq, bool dsync);
/* key_done of a key moved in pieces: true when it may finish now. */
bool pipe_key_done(struct key_req *kr, int status, uint64_t vlen);
/* GET: read @kr's image in pieces (takes its staging); 0 or -ENOMEM. */
int pipe_read_start(struct fdpkv_cache *c, struct devctx *d, struct key_req *kr);
/* Is @kr (arena set) moved to or from the caller's buffer in pieces, each checksummed on a worker? */
bool pipe_direct_wanted(const struct fdpkv_cache *c, const struct key_req *kr, uint32_t lba);
/* SET: checksum @kr's value in pieces on the workers and write it from
 * @value, the head last (stages the head); 0 or -ENOMEM. */
int pipe_direct_stage_start(struct fdpkv_cache *c, struct key_req *kr, const void *value);
/* GET: read @kr's value into its buffer in pieces (stages the head); 0 or -ENOMEM. */
int pipe_direct_read_start(struct fdpkv_cache *c, struct devctx *d, struct key_req *kr);
/* @e leaves the index with locks held: remember them as stale. cache->lock held. */
void stale_locks_add(struct fdpkv_cache *c, const struct index_entry *e);
void stale_locks_free(struct fdpkv_cache *c);

/* evict.c */
void evict_entry(struct fdpkv_cache *c, struct index_entry *e);
const uint8_t *evicted_key(struct fdpkv_cache *c, const struct index_entry *e, uint32_t *klen);
struct index_entry *seg_oldest(const struct segment *sg);
uint32_t evict_until(struct devctx *d, uint32_t want);
int64_t evict_pick(struct devctx *d, uint32_t want, bool seal);
void evict_begin(struct devctx *d, uint32_t s);
bool evict_step(struct devctx *d, uint32_t s, uint32_t budget);

/* reinsert.c */
int reinsert_start(struct devctx *d, uint32_t s, struct index_entry *e);
void reinsert_finish(struct key_req *kr);

/* shadow.c */
bool shadow_keeps_segment(const struct devctx *d, const struct key_req *kr);
/* @kr's write is done (committed or failed): let the segments it held go. cache->lock held. */
void shadow_release_held(struct devctx *d, struct key_req *kr);
uint32_t shadow_kept_segments(const struct devctx *d);
void shadow_wait_first(struct devctx *d, struct key_req *kr);
struct shadow_rec *shadow_rec_new(const uint8_t *key, uint32_t klen, uint32_t seg,
				  uint64_t bound);
void entry_set_shadow(struct fdpkv_cache *c, struct index_entry *e);
void shadow_carry(struct devctx *d, uint32_t src, struct shadow_rec *rec);
/*
 * A carried record @kr that waited for room is about to take its slot: has
 * a version of its key been written since it was decided? Then that version
 * takes the hiding duty over and the record must not be written (its
 * sequence would hide that version). cache->lock held.
 */
bool shadow_carry_overtaken(struct devctx *d, const struct key_req *kr);
/*
 * May an evicted version of a key that is absent from the index still be on
 * device @d (an evicted segment not free yet)? If so, @rec is set to hide
 * what such segments hold and true is returned. cache->lock held.
 */
bool shadow_evicted_remains(const struct devctx *d, struct shadow_rec *rec);
void evict_entry_shadow(struct devctx *d, uint32_t s, struct index_entry *e);
void drop_entry_shadow(struct devctx *d, uint32_t s, struct index_entry *e, const void *key,
		       uint32_t klen, bool evicted);

/* reclaim.c */
void seg_try_dealloc(struct devctx *d, uint32_t s);

/* pending.c */
int pend_init(struct pend_tab *t, const struct index *ix);
void pend_destroy(struct pend_tab *t);
void pend_add(struct pend_tab *t, struct key_req *kr);
void pend_del(struct pend_tab *t, struct key_req *kr);
/* Is a write pending of a key of length @klen whose index_key_fp() is @fp?
 * (Or of another that shares its low 32 bits.) */
bool pend_has_fp(const struct pend_tab *t, uint64_t fp, uint32_t klen);
/* The next write in flight of @key (or of a key with its fingerprint: one
 * key to the index) after @after (NULL: the first), or NULL. */
struct key_req *pend_find(const struct pend_tab *t, const struct key_req *after,
			  const void *key, uint32_t klen);

/* ghost.c */
int ghost_init(struct ghost_tab *t, uint32_t nsegs);
void ghost_destroy(struct ghost_tab *t);
/*
 * Keys are named by fingerprint, kv_hash(key, klen), and length (ghost.c:
 * another key of the same fingerprint is taken for a ghost, the safe side).
 */
/* Remember the key of @fp and @klen, evicted from segment @seg (being reclaimed). */
void ghost_add(struct ghost_tab *t, uint32_t seg, uint64_t fp, uint32_t klen);
/* May an evicted version of that key still be in a segment that is not free? */
bool ghost_find(const struct ghost_tab *t, uint64_t fp, uint32_t klen);
/* Segment @seg is free: what it held is gone for recovery too. */
void ghost_forget_segment(struct ghost_tab *t, uint32_t seg);

/* evictor.c */
int evictor_start(struct fdpkv_cache *c);
void evictor_stop(struct fdpkv_cache *c);
void evictor_kick(struct fdpkv_cache *c);		/* never blocks on eviction */
bool evictor_is_self(const struct fdpkv_cache *c);	/* or no evictor: evict inline */
void evictor_hold(struct fdpkv_cache *c, bool hold);	/* tests */
void evictor_wait_idle(struct fdpkv_cache *c);		/* tests */
void evictor_hold_quiet(struct fdpkv_cache *c);		/* tests */
void evictor_batches(struct fdpkv_cache *c, unsigned int n);	/* tests */
/*
 * Staging for an internal write an eviction starts (carried delete record,
 * re-insert copy): on the evictor's thread from the buffers it made ready
 * between batches, without the cache lock; else staging_get. cache->lock held.
 */
void *evictor_staging(struct fdpkv_cache *c, uint64_t size, uint64_t *cap);
/* Stagings evictor_staging found ready, and those it had to allocate. Tests. */
void evictor_stash_counts(struct fdpkv_cache *c, uint64_t *hits, uint64_t *misses);

/* arena.c */
/*
 * Where a value of @len bytes at @base may move without a copy on device
 * @d: the registered arena holding it (a user reference taken), else a
 * shared unregistered one (plain addresses) when @len is whole LBAs and
 * @base 4 KiB aligned, or at any address where the kernel copies the bytes
 * (geometry any_align); NULL (bounce it) otherwise.
 */
struct arena *arena_get(struct fdpkv_cache *c, const struct devctx *d, const void *base,
			uint64_t len);
void arena_put(struct arena *a);
void arenas_free(struct fdpkv_cache *c);		/* at close: engines are stopped */

/* open.c */
/*
 * Lock @c's completion queue if @c is an open cache (fdpkv_wait): 0, or
 * -EBADF for a cache closed (or never opened), which must not be touched.
 */
int cache_cq_lock_open(struct fdpkv_cache *c);

/* lease.c */
/*
 * Sequences handed out per open, at most: the lease written at open covers
 * this many, so that a crash can never make the next open reuse one.
 */
#define SEQ_LEASE_STEP	(1ull << 40)
/*
 * After recovery: start the sequence above everything recovery found and
 * above every device's persisted lease, and persist the next lease on every
 * device (upgrading a version 1 superblock) before anything is written.
 * 0 or -errno with @err set.
 */
int seq_lease_take(struct fdpkv_cache *c, char *err, size_t errlen);
/* May @n more sequences be handed out under the lease? cache->lock held. */
static inline bool seq_lease_covers(const struct fdpkv_cache *c, uint64_t n)
{
	return c->seq + n < c->seq_lease;
}

/* segkeys.c: the keys of a segment's objects, read back for its eviction */
enum segkeys_source {
	SEGKEYS_NONE = 0,
	SEGKEYS_MEMORY,			/* the summary being collected or written */
	SEGKEYS_SUMMARY,		/* the summary in the segment's tail */
	SEGKEYS_HEADERS,		/* the header chain */
};
/* From the summary @sg still holds in memory (cache->lock held), or NULL. */
struct seg_keys *segkeys_from_memory(const struct segment *sg);
/*
 * From the device: segment @s of @d in its use @seg_seq, whose chain spans
 * @used bytes. The caller keeps the segment from being deallocated or
 * written and holds no lock (synchronous reads). NULL on ENOMEM or when not
 * even the first header reads.
 */
struct seg_keys *segkeys_read(struct devctx *d, uint32_t s, uint64_t seg_seq, uint64_t used);
/* The key of the object at @off_lba, or NULL. */
const uint8_t *segkeys_find(const struct seg_keys *k, uint32_t off_lba, uint32_t *klen);
uint32_t segkeys_count(const struct seg_keys *k);
/* The @i-th key (i < segkeys_count), in offset order, and its offset. */
const uint8_t *segkeys_at(const struct seg_keys *k, uint32_t i, uint32_t *off_lba,
			  uint32_t *klen);
enum segkeys_source segkeys_source(const struct seg_keys *k);
/*
 * Give segment @s (just begun evicting: evict_begin) its keys, from memory
 * or read without the cache lock, which is held on entry and on return; not
 * when its eviction names none (no entry left; or no reports, no re-insert,
 * no shadows). The read waits for the device: the evictor's next step could
 * not go before its deallocate completes anyway.
 */
void segkeys_attach(struct devctx *d, uint32_t s);

/* recovery.c */
int recovery_scan(struct fdpkv_cache *c, char *err, size_t errlen);

/* torn.c: during the scan, note version @h of the key @e already holds
 * (cache->lock held; 0 or -ENOMEM); after it, let every newest version
 * whose value is torn give way to the next older one (no lock, nothing else
 * running). Returns the versions demoted. */
int torn_note_version(struct fdpkv_cache *c, struct index_entry *e, const struct obj_hdr *h,
		      uint8_t dev, uint32_t seg, uint32_t off_lba);
uint64_t torn_settle(struct fdpkv_cache *c);

#endif /* FDPKV_CACHE_H */
