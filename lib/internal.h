/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * internal.h - private declarations shared by the libfdpkv sources.
 *
 * Nothing here is exported: the library is built with -fvisibility=hidden and
 * only functions marked FDPKV_PUBLIC reach the dynamic symbol table.
 */
#ifndef FDPKV_INTERNAL_H
#define FDPKV_INTERNAL_H

#include <endian.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fdpkv.h"

#define FDPKV_PUBLIC __attribute__((visibility("default")))

#define ALIGN_UP(x, a)		((((x) + (a) - 1) / (a)) * (a))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)		((a) < (b) ? (a) : (b))
#define MAX(a, b)		((a) > (b) ? (a) : (b))

/* Where the data area starts: room for both superblock copies, 1 MiB aligned. */
#define FDPKV_DATA_START	(1u << 20)
/* Default segment: holds a 64 MiB object plus its header and a 4 KiB key. */
#define FDPKV_DEFAULT_SEGMENT	(128ull << 20)
#define FDPKV_DEFAULT_SIM_CAP	(1ull << 30)
#define FDPKV_DEFAULT_QD	64
#define FDPKV_DEFAULT_CLASSES	8
#define FDPKV_DEFAULT_FREE_LOW	2
/* Copy workers (fdpkv_config: copy_threads, copy_piece_bytes). */
#define FDPKV_DEFAULT_COPY_PIECE	(1ull << 20)
#define FDPKV_MAX_COPY_PIECE	(64ull << 20)
#define FDPKV_MAX_COPY_THREADS	64

/* Placement classes: fixed roles first, then one per salt bucket. */
#define FDPKV_CLASS_META	0
#define FDPKV_CLASS_REINSERT	1
#define FDPKV_CLASS_DATA0	2

/*
 * Segment size when none is configured: 128 MiB holds a 64 MiB object; small
 * devices get smaller segments so that at least 16 exist (eviction frees one
 * segment at a time and every class keeps one open).
 */
static inline uint64_t default_segment_bytes(uint64_t capacity)
{
	uint64_t seg = FDPKV_DEFAULT_SEGMENT;

	while (seg > (1u << 20) && capacity / seg < 16)
		seg /= 2;
	return seg;
}

void fdpkv_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Little-endian fields of on-device structures (object, summary, superblock). */
static inline void le_put16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static inline void le_put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static inline void le_put64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }
static inline uint16_t le_get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return le16toh(v); }
static inline uint32_t le_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static inline uint64_t le_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }

/* ---- crc32c.c ------------------------------------------------------------ */
/* CRC-32C (Castagnoli), reflected, init/xorout ~0: crc32c(0, "123456789") = 0xe3069283. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
/* The portable table implementation crc32c() uses without SSE4.2 (tests). */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);
/* Ours: SSE4.2 crc32 instruction where present, else the table. */
uint32_t crc32c_ours(uint32_t crc, const void *buf, size_t len);
/* ISA-L's crc32_iscsi when libisal.so.2 loaded (else crc32c_ours). */
uint32_t crc32c_isal(uint32_t crc, const void *buf, size_t len);
bool crc32c_has_isal(void);
/* memcpy(@dst, @src, @len) and crc32c(@crc, @src, @len) in one pass. */
uint32_t crc32c_copy(uint32_t crc, void *dst, const void *src, size_t len);
/* crc32c(0, A.B) from crc32c(0, A), crc32c(0, B) and B's length. */
uint32_t crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);

/* ---- hash.c -------------------------------------------------------------- */
/* Stable 64-bit hash: persisted decisions (device, class) depend on it. */
uint64_t kv_hash(const void *data, size_t len);
uint64_t kv_hash_seeded(uint64_t seed, const void *data, size_t len);

/* The device of @ndev a key lives on: stable, as restarts need it. */
static inline unsigned int key_dev(const void *key, uint32_t klen, unsigned int ndev)
{
	return ndev > 1 ? (unsigned int)((kv_hash(key, klen) >> 32) % ndev) : 0;
}

/* ---- object.c: on-device object header ------------------------------------ */
#define OBJ_MAGIC		0x4f564b46u	/* "FKVO" little-endian */
#define OBJ_VERSION		1
#define OBJ_HDR_SIZE		64
#define OBJ_F_TOMBSTONE		0x0001u	/* a DELETE record: no value */
#define OBJ_F_REINSERT		0x0002u	/* rewritten by eviction */
/*
 * The value starts on the first LBA boundary after the key, so that it can
 * move by DMA straight between the device and a caller's buffer (a
 * registered arena, fdpkv_register_arena). For a value of whole LBAs (the
 * only kind stored so) it takes the same space as the packed layout.
 */
#define OBJ_F_ALIGNED		0x0008u

struct obj_hdr {
	uint16_t flags;
	uint8_t cls;
	uint32_t klen;
	uint64_t vlen;
	uint64_t seq;		/* global write order: highest wins */
	uint64_t seg_seq;	/* open sequence of the segment it was written in */
	uint64_t uuid64;	/* first 8 bytes of the format uuid */
	uint32_t vcrc;		/* crc32c of the value */
};

/* Bytes an object takes on the device, padded to @lba. */
static inline uint64_t obj_size(uint32_t klen, uint64_t vlen, uint32_t lba)
{
	return ALIGN_UP(OBJ_HDR_SIZE + (uint64_t)klen + vlen, lba);
}

/* Offset of the value inside an object with header @flags. */
static inline uint64_t obj_value_off(uint32_t klen, uint16_t flags, uint32_t lba)
{
	uint64_t head = OBJ_HDR_SIZE + (uint64_t)klen;

	return (flags & OBJ_F_ALIGNED) ? ALIGN_UP(head, lba) : head;
}

/* Bytes an object with header @flags takes on the device. */
static inline uint64_t obj_extent(uint32_t klen, uint64_t vlen, uint16_t flags, uint32_t lba)
{
	return ALIGN_UP(obj_value_off(klen, flags, lba) + vlen, lba);
}

/* Write the header into @buf, which must already hold the key at
 * buf + OBJ_HDR_SIZE; computes the header crc over header and key. */
void obj_encode(void *buf, const struct obj_hdr *h, const void *key);
/*
 * obj_decode - parse and verify a header and its key from @len bytes at @buf.
 * Returns 0, -EBADMSG (not a header, or damaged), or -ENODATA when @len is
 * too short; then h->klen is set if the fixed part was readable, so the
 * caller can read OBJ_HDR_SIZE + klen bytes and retry.
 */
int obj_decode(const void *buf, size_t len, struct obj_hdr *h);

/* ---- superblock.c --------------------------------------------------------- */
#define SB_MAGIC		"FDPKVSB1"
#define SB_VERSION		2	/* written */
#define SB_VERSION_MIN		1	/* read: version 1 has no seq_lease (upgraded at open) */
#define SB_ENCODED_SIZE		512	/* fits the smallest LBA */

struct superblock {
	uint32_t version;		/* as decoded; sb_encode writes SB_VERSION */
	uint8_t uuid[16];
	uint64_t generation;
	uint32_t lba_size;
	uint32_t ndevices;
	uint32_t dev_index;
	uint32_t nclasses;		/* metadata + reinsert + data classes */
	uint32_t ndata_classes;
	uint8_t placement_by_salt;
	char salt_separator;
	uint64_t segment_bytes;
	uint64_t nsegments;
	uint64_t data_start;
	uint64_t capacity;
	uint16_t class_pid[FDPKV_MAX_CLASSES];
	/*
	 * No sequence at or above it was handed out before this copy was
	 * written: the next open starts above it (lib/FORMAT.md). 0 in v1.
	 */
	uint64_t seq_lease;
};

void sb_encode(void *buf, const struct superblock *sb);	/* SB_ENCODED_SIZE bytes */
/* 0, -ENODATA (no magic), -EBADMSG (damaged), -EPROTO (unknown version: sb->version says which) */
int sb_decode(const void *buf, size_t len, struct superblock *sb);
/* Pick the copy to trust from two decode results: index 0/1, or -ENODATA. */
int sb_choose(const struct superblock sb[2], const int rc[2]);
struct engine;
int sb_write_both(struct engine *eng, uint32_t lba, const struct superblock *sb);

/* ---- index.c ------------------------------------------------------------- */
#define IDX_F_READ		0x01	/* read since written (reinsert candidate) */
#define IDX_F_TOMBSTONE		0x02	/* recovery only: a delete record */
/*
 * An older version of the key may still be on the device, in another
 * segment: when this entry's segment goes first, a delete record must keep
 * that version hidden (shadow.c: shadow_carry). Counted in segment.shadows.
 */
#define IDX_F_SHADOW		0x04
#define IDX_F_ALIGNED		0x08	/* the object has OBJ_F_ALIGNED */
/* Not counted in its salt bucket: the bucket could not be created (usage.c). */
#define IDX_F_NOBUCKET		0x10

/*
 * One live key: 40 bytes whatever the key's length, because memory holds the
 * key's 64-bit fingerprint (index_key_fp) and the object header on the
 * device holds the key. Two keys with one fingerprint and length, on one
 * device, are one key to the index (bench/README.md, "Compact index": what
 * that costs and why it never returns another key's data). Entries live in one reserved
 * range of addresses and are named by 32-bit ids (0 = none), so the hash
 * chain and the segment list take 4 bytes a link; a pointer to an entry
 * stays valid until the entry is removed. seg_prev/seg_next chain the
 * entries of one segment, newest first, so that eviction drops a segment
 * without scanning the table.
 *
 * No sequence number is kept: the object at (dev, seg, off_lba) is named by
 * its segment's open sequence (checked against the header's seg_seq on every
 * read), and which of two versions of a key is newer follows from their
 * segments (commit_object). The class is the segment's. Recovery, which does
 * need sequences, keeps one per entry in scan_seq and links the entries into
 * their segments only once the scan is over.
 */
struct index_entry {
	uint64_t fp;			/* index_key_fp() of the key */
	union {
		struct {
			uint32_t seg_prev;	/* ids: linked into its segment */
			uint32_t seg_next;
		};
		uint64_t scan_seq;		/* recovery, before linking */
	};
	uint32_t next;			/* hash chain, or the free list: an id */
	uint32_t seg : 28;		/* segments per device: INDEX_SEG_MAX */
	uint32_t dev : 4;		/* FDPKV_MAX_DEVICES */
	uint32_t off_lba;		/* offset inside the segment, in LBAs */
	uint16_t lock;			/* LOOKUP_LOCK refcount, saturates */
	uint16_t ubucket;		/* its salt bucket's id, unless IDX_F_NOBUCKET (usage.c) */
	uint64_t vlen : 40;		/* a value fits one segment: INDEX_VLEN_MAX */
	uint64_t klen : 16;
	uint64_t flags : 8;		/* IDX_F_* */
};

_Static_assert(sizeof(struct index_entry) == 40, "index entry grew");

_Static_assert(FDPKV_MAX_DEVICES <= 16, "index_entry.dev is 4 bits");

#define INDEX_SEG_MAX	((1u << 28) - 1)
#define INDEX_VLEN_MAX	((1ull << 40) - 1)
#define INDEX_ID_MAX	(UINT32_MAX - 1)

struct index {
	struct index_entry *base;	/* ids index it; [0] is never used */
	uint32_t *buckets;		/* entry ids */
	size_t nbuckets;		/* power of two */
	size_t count;
	size_t bytes;			/* bytes of entries and buckets in memory */
	uint64_t cap;			/* ids the address range holds */
	uint64_t mapped;		/* ids backed by memory */
	size_t mapped_bytes;		/* from base, page-rounded */
	uint32_t top;			/* ids handed out so far, plus one */
	uint32_t free;			/* removed ids, chained by next */
	uint64_t seed;			/* of the fingerprints (index_seed) */
	uint64_t fp_mask;		/* all 64 bits, fewer only in tests */
	/*
	 * Devices the keys spread over (key_dev): a key is its fingerprint,
	 * length and device, since everything that keeps an older version
	 * hidden (delete records, ghosts, pending writes) is per device.
	 */
	unsigned int ndev;
};

/*
 * A table for at most @max_entries keys (more are refused with ENOMEM; the
 * memory follows the keys, not this bound), fingerprints seeded with @seed
 * (index_seed). @fp_bits below 64 shrinks the fingerprint so that tests can
 * make keys share one.
 */
int index_init(struct index *ix, uint64_t max_entries, unsigned int fp_bits, uint64_t seed);
/* The seed of a cache's fingerprints: secret, and the same at every open. */
static inline uint64_t index_seed(const struct superblock *sb)
{
	return kv_hash(sb->uuid, sizeof(sb->uuid));
}
void index_destroy(struct index *ix);
/* The fingerprint of a key in this table: all of the key memory keeps. */
uint64_t index_key_fp(const struct index *ix, const void *key, uint32_t klen);
/* The entry of a key, or of another key with its fingerprint, length and device. */
struct index_entry *index_find(const struct index *ix, const void *key, uint32_t klen);
/* A new zeroed entry for @key (not yet present): NULL on ENOMEM. */
struct index_entry *index_insert(struct index *ix, const void *key, uint32_t klen);
void index_remove(struct index *ix, struct index_entry *e);	/* unlinks and frees */
/*
 * The entry of fingerprint @fp (index_key_fp), @klen and device @dev, or a
 * new one as index_insert() makes (*@added true): one bucket walk where a find and an
 * insert take two (recovery meets most keys once). Computed once by a caller
 * that index_prefetch()ed its bucket a few keys earlier: a table of millions
 * of buckets misses the CPU cache on nearly every one. NULL on ENOMEM.
 */
struct index_entry *index_find_or_insert(struct index *ix, uint64_t fp, uint32_t klen,
					 unsigned int dev, bool *added);
void index_prefetch(const struct index *ix, uint64_t fp);
/* Buckets for @count entries without growing on the way (a hint: ENOMEM ignored). */
void index_reserve(struct index *ix, size_t count);
/* Lock once; false when saturated (the caller treats the key as not locked). */
bool index_lock(struct index_entry *e);
/* Drop one lock; true when the count reached zero. Never goes below zero. */
bool index_unlock(struct index_entry *e);
int index_foreach(const struct index *ix, int (*fn)(void *arg, struct index_entry *e), void *arg);

static inline uint64_t index_entry_fp(const struct index_entry *e)
{
	return e->fp;
}

static inline uint32_t index_id(const struct index *ix, const struct index_entry *e)
{
	return e ? (uint32_t)(e - ix->base) : 0;
}

static inline struct index_entry *index_at(const struct index *ix, uint32_t id)
{
	return id ? ix->base + id : NULL;
}

static inline struct index_entry *index_seg_next(const struct index *ix,
						 const struct index_entry *e)
{
	return index_at(ix, e->seg_next);
}

static inline struct index_entry *index_seg_prev(const struct index *ix,
						 const struct index_entry *e)
{
	return index_at(ix, e->seg_prev);
}

/* ---- placement.c --------------------------------------------------------- */
/* The cache-salt bucket of an LMCache key: into @out (NUL-terminated), "" if none. */
void placement_bucket(const void *key, uint32_t klen, char sep, char *out, size_t outlen);
/* Data class of a bucket: FDPKV_CLASS_DATA0 + stable fold onto @ndata. */
unsigned int placement_class(const char *bucket, unsigned int ndata);
/* Fill class_pid[] for @nclasses from the device's @npids placement ids @pids. */
void placement_map(uint16_t *class_pid, unsigned int nclasses, const uint16_t *pids,
		   unsigned int npids);
/*
 * For each of @nclasses classes, how many other classes share its placement
 * id in @class_pid (into @sharing); returns how many classes share one, and
 * how many placement ids carry more than one class in *@shared_handles.
 */
unsigned int placement_sharing(const uint16_t *class_pid, unsigned int nclasses,
			       uint16_t *sharing, unsigned int *shared_handles);

/* ---- segment.c ----------------------------------------------------------- */
enum seg_state {
	SEG_FREE = 0,
	SEG_OPEN,	/* appended by its class */
	SEG_SEALED,	/* full: eviction candidate */
	SEG_RECLAIM,	/* evicted, deallocate in flight: not reusable yet */
	/*
	 * Evicted, but its chain could not be made unreadable (the zero write
	 * of its first LBA failed): never reused while this cache is open, as
	 * recovery may still find it. Not counted in nreclaim.
	 */
	SEG_QUARANTINE,
};

struct key_req;

/*
 * A delete record that still hides an older object of its key somewhere on
 * the device, kept in memory on the metadata segment that holds it, so that
 * evicting that segment can carry it forward (shadow.c: shadow_carry).
 * Needed while segment @seg still has open sequence @bound (the deleted
 * object's segment), or, with @seg == SHADOW_ANY, while any data segment
 * opened before @bound is still on the device.
 */
#define SHADOW_ANY	UINT32_MAX

struct shadow_rec {
	struct shadow_rec *next;
	uint64_t bound;
	uint32_t seg;
	uint16_t klen;
	uint8_t key[];
};

struct seg_keys;
void segkeys_free(struct seg_keys *k);	/* segkeys.c */

struct segment {
	uint8_t state;
	uint8_t cls;
	bool broken;			/* a write failed: later objects unreachable */
	uint64_t open_seq;		/* age for FIFO eviction */
	uint64_t last_seq;
	uint64_t used;			/* bytes appended */
	uint64_t live_objs, live_bytes;
	uint32_t locked;		/* live entries with lock > 0 */
	uint32_t readers;		/* reads in flight */
	uint32_t writes;		/* writes in flight */
	uint32_t copies;		/* RECLAIM: re-insert copies still reading it */
	uint32_t copies_waiting;	/* RECLAIM: of those, queued for a free segment */
	bool dealloc_sent;		/* RECLAIM: deallocate submitted */
	/*
	 * RECLAIM: a delete record it holds could not be carried forward
	 * (shadow.c): its bytes must stay, so it is quarantined instead of
	 * deallocated (reclaim.c).
	 */
	bool keep;
	struct index_entry *entries;	/* live entries in this segment, newest first */
	struct index_entry *oldest;	/* the last of @entries */
	/*
	 * RECLAIM: an eviction in batches is under way (evict.c: evict_step):
	 * the segment stays readable and is not deallocated; @evict_next is
	 * the next entry it looks at (walking toward the newest), which
	 * seg_unlink moves on when it unlinks that entry meanwhile.
	 */
	bool evicting;
	uint8_t evict_phase;
	struct index_entry *evict_next;
	struct key_req *wq_head, *wq_tail;	/* writes in offset order */
	uint32_t next_free;
	uint32_t shadows;		/* live entries with IDX_F_SHADOW */
	uint32_t npending;		/* metadata: records on @pending */
	struct shadow_rec *pending;	/* metadata: delete records still needed */
	/*
	 * Its summary (summary.c): one record per object, appended as the
	 * writes commit in offset order, written into the segment's tail once
	 * it is sealed and nothing is left in flight. @sum_reserved: record
	 * bytes the objects reserved so far hold room for (segs_reserve).
	 */
	uint8_t sum_state;		/* SUM_* */
	uint32_t sum_nrec;
	uint32_t sum_crc;		/* crc32c of the records appended */
	uint64_t sum_reserved;
	uint64_t sum_len;		/* record bytes appended */
	uint64_t sum_cap;		/* bytes of @sum_buf */
	uint8_t *sum_buf;		/* LBA-aligned, written as it is */
	/* RECLAIM: its objects' keys, read for the eviction (segkeys.c) */
	struct seg_keys *keys;
};

/* A segment's summary, struct segment: sum_state. */
enum {
	SUM_COLLECT = 0,		/* records appended as writes commit */
	SUM_WRITING,			/* sealed, drained: flush and write under way */
	SUM_WRITTEN,
	SUM_NONE,			/* none: summaries off, a write failed, no memory,
					 * or an object left no room */
};

/*
 * On-device summary (lib/FORMAT.md): records packed back to back from the
 * start of the segment's last sum_region() bytes, the footer in its last
 * SUM_FOOTER_SIZE bytes.
 */
#define SUM_REC_SIZE		32	/* + the key */
#define SUM_FOOTER_SIZE		64
#define SUM_MAGIC		0x4d55534bu	/* "KSUM" little-endian */

static inline uint64_t sum_region(uint64_t rec_bytes, uint32_t lba)
{
	return ALIGN_UP(rec_bytes + SUM_FOOTER_SIZE, (uint64_t)lba);
}

struct sum_footer {
	uint32_t nrec;
	uint32_t rec_crc;		/* crc32c of the records */
	uint64_t rec_bytes;
	uint64_t seg_seq;		/* the segment's use it describes */
	uint64_t uuid64;
	uint64_t used;			/* where the header chain ends */
	uint64_t last_seq;		/* the last object's sequence */
};

/* Decode a footer (SUM_FOOTER_SIZE bytes): 0 or -EBADMSG. */
int summary_footer_decode(const uint8_t *p, struct sum_footer *f);
/* Decode the record at @p (@len bytes left): its size, or -EBADMSG. */
int summary_rec_decode(const uint8_t *p, size_t len, struct obj_hdr *h, uint32_t *off_lba);

struct seg_table {
	struct segment *segs;
	uint32_t n;
	uint32_t nfree;
	uint32_t nreclaim;
	uint32_t free_head;		/* stack of free segments, UINT32_MAX = none */
	uint64_t seg_bytes;
	int32_t open[FDPKV_MAX_CLASSES];	/* open segment per class, -1 = none */
	/*
	 * Set by segs_reserve when it sealed a segment for lack of room: the
	 * tail it left unwritten (pad_seg = UINT32_MAX: none). FDP backends
	 * pad it, so that the class's next segment starts on an RU boundary.
	 */
	uint32_t pad_seg;
	uint64_t pad_off, pad_len;
	/* set by segs_seal_padded: a segment whose summary may be due (pad_sealed) */
	uint32_t sealed_seg;
	/* summaries: the LBA size their region is aligned to; 0 = none (fsck, tests) */
	uint32_t sum_lba;
};

int segs_init(struct seg_table *t, uint32_t n, uint64_t seg_bytes);
void segs_destroy(struct seg_table *t);
/*
 * segs_reserve - find @size bytes in the open segment of @cls, opening a
 * free segment (stamped with ++*seq) when it does not fit. With summaries
 * on, the segment keeps room at its end for the summary record of every
 * object it holds (@klen: this object's key); an object too large to leave
 * that room in an empty segment gets a segment without a summary. Returns 0 with
 * @seg and @off set, -EFBIG when no segment can hold @size, -ENOSPC when no free
 * segment is left (the caller evicts or waits).
 */
int segs_reserve(struct seg_table *t, unsigned int cls, uint64_t size, uint32_t klen,
		 uint64_t *seq, uint32_t *seg, uint64_t *off);
/* Bytes at the end of @sg kept for its summary (0: it has none). */
uint64_t segs_sum_room(const struct seg_table *t, const struct segment *sg);
void segs_sum_free(struct segment *sg);
void segs_seal(struct seg_table *t, uint32_t s);
/* Seal @s and, if it has an unwritten tail, leave it in pad_seg to be padded. */
void segs_seal_padded(struct seg_table *t, uint32_t s);
/* Oldest sealed segment that nothing pins, or -1. */
int64_t segs_pick_victim(const struct seg_table *t);
/*
 * Might a segment other than @skip still hold an object hidden by a delete
 * record that needs @seg/@bound (struct shadow_rec)?
 */
bool segs_shadow_needed(const struct seg_table *t, uint32_t skip, uint32_t seg, uint64_t bound);
/* Does any segment hold shadowing entries or pending delete records? */
bool segs_have_shadows(const struct seg_table *t);
void shadow_list_free(struct segment *sg);
void segs_free(struct seg_table *t, uint32_t s);	/* RECLAIM -> FREE */
void segs_quarantine(struct seg_table *t, uint32_t s);	/* RECLAIM -> QUARANTINE */
void segs_take(struct seg_table *t, uint32_t s);	/* recovery: mark in use */
void segs_rebuild_free(struct seg_table *t);		/* recovery: after segs_take */
/* Link / unlink a live entry; both keep sg->shadows. */
void seg_link(const struct index *ix, struct segment *sg, struct index_entry *e);
void seg_unlink(const struct index *ix, struct segment *sg, struct index_entry *e);

/* ---- backend.c: device backends behind one ops table --------------------- */
enum io_op { IO_READ = 0, IO_WRITE, IO_DEALLOC, IO_FLUSH };

struct io_cmd;
typedef void (*io_done_fn)(struct io_cmd *cmd, int res);

/*
 * A caller's memory registered with fdpkv_register_arena: values inside it
 * move without a copy, through io_uring fixed buffers. io_uring takes at
 * most 1 GiB per registered buffer, so an arena occupies one buffer slot per
 * started GiB, the same slots in every device's ring.
 */
#define ARENA_SLOT_BYTES	(1ull << 30)
#define ARENA_RING_SLOTS	1024u	/* sparse buffer table of each ring */
#define ARENA_PROBE_SLOT	(ARENA_RING_SLOTS - 1)	/* the engine's own probe */
#define ARENA_MAX		16

struct arena {
	uint8_t *base;
	uint64_t len;
	uint32_t first_slot, nslots;	/* in the rings' buffer tables */
	bool fixed;			/* every ring holds it */
	bool probe;			/* the engine's probe buffer (engine.c) */
	bool ready;			/* in every ring: arena_get may use it */
	atomic_uint users;		/* key requests using it now */
};

/* One device command; the engine splits it at the max transfer size. */
struct io_cmd {
	enum io_op op;
	uint16_t pid;			/* placement id (writes) */
	bool dsync;			/* FUA / RWF_DSYNC */
	uint64_t off, len;		/* bytes, LBA aligned */
	/*
	 * Bytes [0, split) of the transfer come from (go to) buf, the rest
	 * from buf2, which lies in @arena: an object whose header is staged
	 * and whose value is the caller's. buf2 NULL: all of it is buf.
	 */
	void *buf;
	void *buf2;
	uint64_t split;
	const struct arena *arena;
	io_done_fn done;		/* runs on the device thread */
	void *arg;
	/* engine private */
	struct engine *defer_eng;	/* queued by engine_submit while deferring */
	uint64_t issued;
	uint32_t parts;
	int err;
	struct io_cmd *next;
};

/* One SQE worth of a command. */
struct io_part {
	struct io_cmd *cmd;
	uint64_t off, len;		/* absolute device offset, bytes */
	void *buf;
	int32_t fixed;			/* registered buffer slot, -1 = none */
	struct io_part *next;
	uint64_t pad[4];		/* backends keep per-command data here (ng: DSM range) */
};

struct fdpkv_geometry {
	uint32_t lba_size;
	uint64_t capacity;		/* bytes usable */
	uint64_t ru_bytes;		/* reclaim unit, 0 = none */
	uint32_t max_transfer;
	unsigned int npids;
	uint16_t pids[FDPKV_MAX_CLASSES];
	/*
	 * Deallocated LBAs are guaranteed to read back as zeroes (NVMe: DLFEAT
	 * bits 2:0 = 001b; file: hole punching works). When false, recovery
	 * would still find an evicted segment's chain unless it is overwritten.
	 */
	bool dealloc_zeroes;
	int dlfeat;			/* NVMe Identify Namespace DLFEAT, -1: not known */
	/*
	 * Transfers may use any memory address and length: the kernel copies
	 * the bytes (a buffered file, tmpfs) and no DMA reads the buffer.
	 */
	bool any_align;
};

struct fdpkv_dev;
struct io_uring_sqe;
struct io_uring_cqe;

struct fdpkv_backend_ops {
	const char *scheme;		/* "file", "sim", "ng", "fdpkv" */
	int (*open)(struct fdpkv_dev *dev, const char *path, const struct fdpkv_config *cfg,
		    bool create, char *err, size_t errlen);
	int (*geometry)(struct fdpkv_dev *dev, struct fdpkv_geometry *g);
	unsigned int ring_flags;	/* extra io_uring setup flags (SQE128/CQE32) */
	/* ring backends: fill @sqe for @part */
	int (*prep)(struct fdpkv_dev *dev, struct io_uring_sqe *sqe, struct io_part *part);
	/* ring backends: CQE result -> bytes done or -errno */
	int (*result)(struct fdpkv_dev *dev, const struct io_uring_cqe *cqe, struct io_part *part);
	/* synchronous backends (sim): run @part, return bytes done or -errno */
	int (*exec)(struct fdpkv_dev *dev, struct io_part *part);
	/*
	 * FDP backends: before writing, move each of @pids whose reclaim unit
	 * is partly written to a fresh one, so segments start on RU
	 * boundaries. Returns how many moved, or -errno. Optional.
	 */
	int (*ru_align)(struct fdpkv_dev *dev, const uint16_t *pids, unsigned int n);
	/*
	 * Backends whose reads can be CPU copies (file: tmpfs, page cache):
	 * read @len bytes at @off into @buf on the calling thread, only if
	 * that needs no waiting for the device. True when all of it was
	 * read; false otherwise (then the read goes through the ring, which
	 * reports any error). Optional.
	 */
	bool (*read_nowait)(struct fdpkv_dev *dev, void *buf, uint64_t len, uint64_t off);
	void (*close)(struct fdpkv_dev *dev);
};

struct fdpkv_dev_counters {
	_Atomic uint64_t host_bytes;	/* written by the host */
	_Atomic uint64_t media_bytes;	/* written to media (sim: incl. GC copies) */
	_Atomic uint64_t ru_realigned;	/* RUs moved at open because partly written */
};

struct fdpkv_dev {
	const struct fdpkv_backend_ops *ops;
	char uri[256];
	int fd;
	void *priv;
	struct fdpkv_geometry geo;
	struct fdpkv_dev_counters cnt;
	/* a deallocate left the old bytes in place (file: punch refused) */
	atomic_bool dealloc_kept;
};

/* Open by URI scheme; -EINVAL with a message for an unknown scheme. */
int backend_open(struct fdpkv_dev *dev, const char *uri, const struct fdpkv_config *cfg,
		 bool create, char *err, size_t errlen);
void backend_close(struct fdpkv_dev *dev);
/*
 * For backends that read and write a file descriptor (file:, bdev:): a CQE
 * result, where a refused deallocate (EOPNOTSUPP) is no error but marks
 * dealloc_kept; and close of dev->fd and the malloc'd dev->priv.
 */
int backend_rw_result(struct fdpkv_dev *dev, const struct io_uring_cqe *cqe, struct io_part *p);
void backend_fd_close(struct fdpkv_dev *dev);
extern const struct fdpkv_backend_ops backend_file_ops;
extern const struct fdpkv_backend_ops backend_sim_ops;

/* What sim_power_cut did with the logged (unpersisted) commands. */
struct sim_cut_stats {
	uint64_t logged;	/* unpersisted commands at the cut */
	uint64_t kept;		/* landed whole */
	uint64_t torn;		/* landed in part, LBA by LBA */
};

/*
 * sim_power_cut - for tests: cut the power of the sim device named @name
 * (opened with vwc=1). Keeps a subset of its unpersisted commands chosen by
 * @seed (FUA writes always) and drops the rest; the next open of @name sees
 * that image. Until then the device runs on without effect, or with
 * SIM_CUT_FAIL in @flags fails every command with -EIO. Returns 0, -ENOENT
 * (no such device), -EINVAL (no vwc=1) or -ENOMEM.
 */
#define SIM_CUT_FAIL	0x1u
#define SIM_CUT_DROP_ALL	0x2u	/* keep none of the unpersisted commands (FUA stay) */
int sim_power_cut(const char *name, uint64_t seed, unsigned int flags, struct sim_cut_stats *st);
/* 1 when a power cut of @name ever dropped or tore a command within [off, off+len), else 0. */
int sim_lost_overlaps(const char *name, uint64_t off, uint64_t len);
/*
 * sim_fail_range - for tests: from now on, commands of the named sim device
 * whose op is in @ops (a mask of 1u << IO_*) and that touch [@off, @off +
 * @len) fail with -EIO (a flush, in the mask, always fails); @ops 0 ends
 * it. Survives close and reopen of the name. 0 or -ENOENT.
 */
int sim_fail_range(const char *name, unsigned int ops, uint64_t off, uint64_t len);
/* For tests: the next @n commands sim_fail_range would fail run as usual. 0 or -ENOENT. */
int sim_fail_skip(const char *name, unsigned int n);
/* For tests: writes with placement id @pid fail with -EIO (-1: none). 0 or -ENOENT. */
int sim_fail_pid(const char *name, int pid);
/* For tests: hold (@pause true) or release every command of the named sim device. */
int sim_pause(const char *name, bool pause);
/* Free the named sim device (not open): 0, -ENOENT, -EBUSY. */
int sim_destroy(const char *name);
extern const struct fdpkv_backend_ops backend_ng_ops;
extern const struct fdpkv_backend_ops backend_fdpkv_ops;
extern const struct fdpkv_backend_ops backend_bdev_ops;
/* "auto:PATH" -> the URI of the best backend for PATH (backend_auto.c) */
int backend_auto_resolve(const char *path, char *uri, size_t urilen, char *err, size_t errlen);

/* ---- bdev.c: block write streams (Linux >= 6.16), pure parts -------------- */
struct bdev_streams {
	unsigned int max_streams;	/* queue/max_write_streams */
	uint64_t granularity;		/* queue/write_stream_granularity: the RU size */
	bool discard;			/* queue/discard_max_bytes > 0 */
};
/*
 * Write streams of block device @maj:@min from sysfs below @sysroot ("/sys"
 * outside tests). -EOPNOTSUPP with a message naming the field when the
 * kernel or the device has none (or it is a partition), -ENODEV when sysfs
 * does not know the device.
 */
int bdev_streams_read(const char *sysroot, unsigned int maj, unsigned int min,
		      struct bdev_streams *s, char *err, size_t errlen);
/* sqe->write_stream, which liburing 2.3's header does not name */
void bdev_sqe_set_write_stream(struct io_uring_sqe *sqe, uint8_t stream);
uint8_t bdev_sqe_write_stream(const struct io_uring_sqe *sqe);
/*
 * READ/WRITE(_FIXED) of @len bytes at @off; a write goes to stream @pid + 1
 * (see bdev.c), RWF_DSYNC when @dsync. -EINVAL for a length io_uring cannot
 * carry or a placement id without a stream (@pid >= @nstreams).
 */
int bdev_encode_rw(struct io_uring_sqe *sqe, int fd, bool write, void *buf, uint64_t len,
		   uint64_t off, int32_t fixed, uint16_t pid, bool dsync, unsigned int nstreams);
/* BLOCK_URING_CMD_DISCARD of [@off, @off + @len) */
void bdev_encode_discard(struct io_uring_sqe *sqe, int fd, uint64_t off, uint64_t len);

/* ---- engine.c ------------------------------------------------------------ */
struct engine;
int engine_start(struct engine **out, struct fdpkv_dev *dev, unsigned int depth);
/*
 * Queue @cmd; never blocks on I/O. cmd->done runs once on the device thread.
 * Between engine_defer_begin and engine_defer_end on the same thread (that
 * is, under cache->lock: lockstat.h) the command is only put on a list of
 * the thread's and handed to the engine by engine_defer_end: waking an
 * engine thread takes a system call, and the woken thread may take the CPU
 * from the lock's holder, so no thread does that while holding the lock.
 */
void engine_submit(struct engine *eng, struct io_cmd *cmd);
void engine_defer_begin(void);
void engine_defer_end(void);
/* Submit and wait: for open/recovery only. Returns 0 or -errno. */
int engine_io_sync(struct engine *eng, enum io_op op, uint64_t off, uint64_t len, void *buf,
		   uint16_t pid);
void engine_stop(struct engine *eng);		/* waits for everything queued */
/* For tests: the device thread's next @n waits for completions fail (-EIO). */
void engine_fail_waits(struct engine *eng, unsigned int n);
uint64_t engine_inflight(struct engine *eng);
/* Commands that used a registered buffer so far. */
uint64_t engine_fixed_cmds(struct engine *eng);
/*
 * Put @a into the ring's buffer table (engine_arena_add) or take it out
 * (engine_arena_del, only once no command uses it). 0 or -errno;
 * -EOPNOTSUPP for a kernel without sparse buffer tables. Engines without a
 * ring (sim) accept and ignore it.
 */
int engine_arena_add(struct engine *eng, const struct arena *a);
void engine_arena_del(struct engine *eng, const struct arena *a);
/* Whether arena parts go out as fixed buffers on this device (probed). */
bool engine_fixed_usable(struct engine *eng);

/* ---- workers.c: the copy workers ------------------------------------------ */
/* A job, embedded in what it works on: fn runs once on a worker thread. */
struct work_job {
	struct work_job *next;
	void (*fn)(struct work_job *j);
};

struct workers;
/* Start @n threads (0: none, *out NULL). 0, or -errno when none started. */
int workers_start(struct workers **out, unsigned int n);
/* Queue @j; never waits for a worker. */
void workers_queue(struct workers *w, struct work_job *j);
unsigned int workers_count(const struct workers *w);
/* Run what is queued, then join and free; NULL is a no-op. */
void workers_stop(struct workers *w);

/* ---- completion.c: completion queue + eventfd ----------------------------- */
struct cq_node {
	struct fdpkv_completion c;
	struct cq_node *next;
};

struct cq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct cq_node *head, *tail;
	size_t count;
	bool signalled;		/* protected by lock: an eventfd write is pending */
	int efd;
	unsigned int waiters;	/* lock: threads in cq_wait */
	bool closing;		/* lock: cq_shutdown ran, waits return -ESHUTDOWN */
};

int cq_init(struct cq *q);
void cq_destroy(struct cq *q);		/* discards what is queued */
void cq_post(struct cq *q, struct cq_node *n);
int cq_drain(struct cq *q, struct fdpkv_completion *out, unsigned int max);
/*
 * Called with q->lock held (so that the caller can make sure @q is not being
 * freed before it counts as a waiter), returns with it released: 1 when
 * completions are queued, 0 on timeout, -ESHUTDOWN once cq_shutdown ran.
 */
int cq_wait_locked(struct cq *q, int timeout_ms);
/* Wake every waiter, make later waits fail, and return once none is left. */
void cq_shutdown(struct cq *q);

/* ---- ng.c: NVMe passthrough command encoding ------------------------------ */
struct nvme_uring_cmd;
#define NVME_CMD_FLUSH		0x00
#define NVME_CMD_WRITE		0x01
#define NVME_CMD_READ		0x02
#define NVME_CMD_DSM		0x09
#define NVME_DSM_AD		(1u << 2)
#define NVME_DTYPE_FDP		2u

struct nvme_dsm_range {
	uint32_t cattr;
	uint32_t nlb;
	uint64_t slba;
};

/* Encode one I/O command for namespace @nsid whose LBA is 1 << @lba_shift. */
int ng_encode_rw(struct nvme_uring_cmd *c, bool write, uint32_t nsid, unsigned int lba_shift,
		 uint64_t off, uint64_t len, void *buf, bool fdp, uint16_t pid, bool fua);
int ng_encode_dsm(struct nvme_uring_cmd *c, uint32_t nsid, unsigned int lba_shift, uint64_t off,
		  uint64_t len, struct nvme_dsm_range *range);
void ng_encode_flush(struct nvme_uring_cmd *c, uint32_t nsid);

/* ---- fsck.c: check and repair (fdpkv_fsck), probe.c (fdpkv_probe) -------- */
/*
 * A filler: a delete record (OBJ_F_TOMBSTONE) that also spans @vlen bytes of
 * whatever follows its key, written by fdpkv_fsck's repair over a damaged
 * object so that recovery's chain continues behind it. obj_decode accepts a
 * tombstone with a length only with this flag.
 */
#define OBJ_F_FILLER		0x0004u

/*
 * obj_chain_ok - recovery's chain rule: may the decoded header @h, at segment
 * offset @off, follow a chain of @nobj objects whose last had sequence
 * @last_seq, in a segment opened with @seg_seq (ignored while @nobj is 0),
 * on a device formatted with @uuid64 and @nclasses, segments of @seg_bytes
 * and LBAs of @lba? A chain ends at the first header that may not.
 */
static inline bool obj_chain_ok(const struct obj_hdr *h, uint64_t off, uint32_t nobj,
				uint64_t seg_seq, uint64_t last_seq, uint64_t uuid64,
				unsigned int nclasses, uint64_t seg_bytes, uint32_t lba)
{
	return h->uuid64 == uuid64 && (nobj ? h->seg_seq == seg_seq : h->seg_seq < h->seq) &&
	       h->seq > last_seq && h->cls < nclasses &&
	       off + obj_extent(h->klen, h->vlen, h->flags, lba) <= seg_bytes;
}

#endif /* FDPKV_INTERNAL_H */
