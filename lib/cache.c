// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cache.c - open/close and the operations: SET, GET, EXISTS, LOOKUP_LOCK,
 * DELETE, unlock; space management and eviction.
 *
 * A SET copies each value behind its header into an LBA-aligned staging
 * buffer (the header must precede the value anyway, and the caller's buffer
 * may have any alignment and length), reserves space in its class's open
 * segment and writes the object with one command. A value in a registered
 * arena (arena.c) is not copied: only header and key are staged, in a block of
 * their own (OBJ_F_ALIGNED), and the command's second part is the caller's
 * buffer. A key is acknowledged only
 * when every earlier write of the same segment has completed too: recovery
 * walks a segment's header chain and stops at the first hole, so an object
 * behind a hole left by a crash would be unreachable. Completion order within
 * a segment therefore equals offset order.
 *
 * A GET reads the whole object into an aligned bounce buffer and checks
 * header, key, segment sequence and value crc before copying to the caller: damaged
 * bytes become a miss and the caller's buffer is only written when the value
 * is known good. An aligned value read into an arena buffer goes there
 * directly and is checked in place: damaged, it is a miss all the same, but
 * the buffer has been written (fdpkv.h says so).
 *
 * Eviction is FIFO by segment; with cfg.reinsert the objects of an evicted
 * segment that were read since written are copied to the re-insert class
 * first (see struct reinsert_req).
 *
 * Shadowed objects (issue #4). Recovery lets the highest sequence of a key
 * win, so an object that was dead before a restart comes back if the record
 * that hid it (a delete record, or a newer version) was evicted while the
 * object's own segment stayed: FIFO skips pinned segments, open segments of
 * rarely written classes are never evicted, and re-insert copies live in
 * another class. Eviction cannot simply be ordered around this (a delete
 * record would then pin every metadata segment behind the oldest open data
 * segment, and a lock would pin newer segments too: the device fills). So
 * the hiding record is carried forward instead: when a segment goes, every
 * record in it that still hides an older object on the device is rewritten
 * as a delete record into the metadata class, durable before the segment is
 * deallocated (shadow_carry). Only what is needed is remembered, and memory
 * stays small: a flag bit in the index entry (IDX_F_SHADOW: an older
 * version may still be on the device, set when a key is overwritten), and
 * on each metadata segment the list of its delete records that still hide
 * something (struct shadow_rec), rare in LMCache use. A record is needed
 * while a segment that may hold the hidden object is not free; a carried
 * record keeps that condition, so it expires once those segments are gone,
 * and it never hides a version written after it (a live or in-flight newer
 * version of the key takes the duty over instead). Nothing here runs when
 * nothing is shadowed: SET and GET do no extra I/O, and eviction only looks
 * at segments whose counters say they hold something to carry. Carried
 * records need room in the metadata class while the device is full: while
 * anything is shadowed, user writes leave the last free segment to them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cache.h"

#define STAGING_ALIGN	4096
#define STAGING_POOL_BYTES	(256ull << 20)

FDPKV_PUBLIC int fdpkv_version_major(void)
{
	return FDPKV_VERSION_MAJOR;
}

FDPKV_PUBLIC int fdpkv_version_minor(void)
{
	return FDPKV_VERSION_MINOR;
}

/*
 * Staging buffers are reused: values are hundreds of KiB to MiB, so each
 * fresh allocation is an mmap (or a heap that grew after a trim) whose pages
 * all fault on first touch; bench_lib measured that at about half of the
 * SET/GET time on tmpfs. The pool keeps up to STAGING_KEEP buffers and
 * STAGING_POOL_BYTES; a buffer is reused for a request needing at most its
 * size and at least 4/5 of it (a batch usually has one size).
 */
static void *staging_get(struct fdpkv_cache *c, uint64_t size, uint64_t *cap)
{
	struct staging_pool *sp = &c->pool;
	void *p = NULL;
	unsigned int i;

	pthread_mutex_lock(&sp->lock);
	for (i = sp->n; i-- > 0;) {
		if (sp->slot[i].cap >= size && sp->slot[i].cap - size <= size / 4) {
			p = sp->slot[i].p;
			*cap = sp->slot[i].cap;
			sp->bytes -= *cap;
			sp->slot[i] = sp->slot[--sp->n];
			break;
		}
	}
	pthread_mutex_unlock(&sp->lock);
	if (p)
		return p;
	if (posix_memalign(&p, STAGING_ALIGN, size))
		return NULL;
	*cap = size;
	return p;
}

static void staging_put(struct fdpkv_cache *c, void *p, uint64_t cap)
{
	struct staging_pool *sp = &c->pool;

	if (!p)
		return;
	pthread_mutex_lock(&sp->lock);
	if (sp->n < STAGING_KEEP && sp->bytes + cap <= STAGING_POOL_BYTES) {
		sp->slot[sp->n].p = p;
		sp->slot[sp->n++].cap = cap;
		sp->bytes += cap;
		p = NULL;
	}
	pthread_mutex_unlock(&sp->lock);
	free(p);
}

static void staging_pool_destroy(struct staging_pool *sp)
{
	while (sp->n)
		free(sp->slot[--sp->n].p);
	pthread_mutex_destroy(&sp->lock);
}

uint64_t seg_base(const struct devctx *d, uint32_t s)
{
	return d->sb.data_start + (uint64_t)s * d->sb.segment_bytes;
}

unsigned int cache_key_dev(const struct fdpkv_cache *c, const void *key, uint32_t klen)
{
	if (c->ndev == 1)
		return 0;
	/* a different mix than the index's bucket choice, same stable hash */
	return (unsigned int)((kv_hash(key, klen) >> 32) % c->ndev);
}

unsigned int cache_key_class(const struct fdpkv_cache *c, const void *key, uint32_t klen)
{
	char bucket[132];

	if (!c->devs[0].sb.placement_by_salt)
		return FDPKV_CLASS_DATA0;
	placement_bucket(key, klen, c->devs[0].sb.salt_separator, bucket, sizeof(bucket));
	return placement_class(bucket, c->ndata);
}

/* ---- usage --------------------------------------------------------------- */

static struct bucket_usage *bucket_get(struct fdpkv_cache *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nbuckets; i++)
		if (!strcmp(c->buckets[i].name, name))
			return &c->buckets[i];
	if (c->nbuckets == c->bucket_cap) {
		size_t cap = c->bucket_cap ? c->bucket_cap * 2 : 8;
		struct bucket_usage *b = realloc(c->buckets, cap * sizeof(*b));

		if (!b)
			return NULL;
		c->buckets = b;
		c->bucket_cap = cap;
	}
	memset(&c->buckets[c->nbuckets], 0, sizeof(c->buckets[0]));
	snprintf(c->buckets[c->nbuckets].name, sizeof(c->buckets[0].name), "%s", name);
	return &c->buckets[c->nbuckets++];
}

/* Count (sign 1) or uncount (-1) a live entry. Called with cache->lock held. */
void usage_add(struct fdpkv_cache *c, const struct index_entry *e, int64_t sign)
{
	struct bucket_usage *b;
	char name[132];

	placement_bucket(e->key, e->klen, c->devs[0].sb.salt_separator, name, sizeof(name));
	b = bucket_get(c, name);
	if (sign > 0) {
		c->bytes_used += e->vlen;
		c->objects++;
		if (b) {
			b->bytes += e->vlen;
			b->objects++;
		}
	} else {
		c->bytes_used -= e->vlen;
		c->objects--;
		if (b) {
			b->bytes -= e->vlen;
			b->objects--;
		}
	}
}

/* Drop a live entry from its segment, usage and the index. cache->lock held. */
static void entry_drop(struct fdpkv_cache *c, struct index_entry *e)
{
	struct segment *sg = &c->devs[e->dev].segs.segs[e->seg];

	seg_unlink(sg, e);
	sg->live_objs--;
	sg->live_bytes -= e->vlen;
	if (e->lock)
		sg->locked--;
	usage_add(c, e, -1);
	index_remove(&c->ix, e);
}

/* ---- operations: completion ---------------------------------------------- */

/*
 * Whether a per-key status fails the batch: for EXISTS, LOOKUP_LOCK and
 * DELETE an absent (or, for DELETE, locked) key is an answer, not a failure
 * (fdpkv.h: result is 0 when the operation ran).
 */
static bool status_fails_batch(enum fdpkv_op type, int32_t st)
{
	if (st >= 0)
		return false;
	switch (type) {
	case FDPKV_OP_EXISTS:
	case FDPKV_OP_LOOKUP_LOCK:
		return st != -ENOENT;
	case FDPKV_OP_DELETE:
		return st != -ENOENT && st != -EBUSY;
	default:
		return true;
	}
}

static void op_post(struct op *op)
{
	struct fdpkv_cache *c = op->cache;
	struct cq_node *n = calloc(1, sizeof(*n));
	unsigned int i;

	for (i = 0; i < op->n; i++)
		if (status_fails_batch(op->type, op->status[i]))
			break;
	for (unsigned int k = 0; k < op->n; k++)
		staging_put(c, op->reqs[k].staging, op->reqs[k].staging_cap);
	if (n) {
		n->c.id = op->id;
		n->c.op = op->type;
		n->c.result = i < op->n ? op->status[i] : 0;
		n->c.nkeys = op->n;
		n->c.status = op->status;
		n->c.value_len = op->vlen;
		n->c.user_data = op->user_data;
		cq_post(&c->cq, n);
	} else {
		/* cannot report: still must not leak (should never happen) */
		free(op->status);
		free(op->vlen);
	}
	free(op->keybuf);
	free(op);
	pthread_mutex_lock(&c->lock);
	if (--c->inflight_ops == 0)
		pthread_cond_broadcast(&c->idle);
	pthread_mutex_unlock(&c->lock);
}

static void flush_done(struct io_cmd *cmd, int res)
{
	struct op *op = cmd->arg;
	unsigned int d = (unsigned int)(cmd - op->flush_cmd), i;

	if (res < 0) {
		atomic_fetch_add(&op->cache->st.io_errors, 1);
		for (i = 0; i < op->n; i++)
			if (op->reqs[i].dev == d && op->status[i] == 0)
				op->status[i] = res;
	}
	if (atomic_fetch_sub(&op->flushes, 1) == 1)
		op_post(op);
}

static void op_finish(struct op *op)
{
	struct fdpkv_cache *c = op->cache;
	unsigned int mask = atomic_load(&op->dev_mask), d, n = 0;

	if (c->cfg.durability != FDPKV_DURABILITY_FLUSH || !mask) {
		op_post(op);
		return;
	}
	for (d = 0; d < c->ndev; d++)
		n += (mask >> d) & 1;
	atomic_store(&op->flushes, n);
	for (d = 0; d < c->ndev; d++) {
		if (!((mask >> d) & 1))
			continue;
		op->flush_cmd[d] = (struct io_cmd){
			.op = IO_FLUSH, .done = flush_done, .arg = op,
		};
		engine_submit(c->devs[d].eng, &op->flush_cmd[d]);
	}
}

/* Drop one reference: one per key plus the submitter's while it runs. */
static void op_put(struct op *op)
{
	if (atomic_fetch_sub(&op->remaining, 1) == 1)
		op_finish(op);
}

static void key_done(struct key_req *kr, int status, uint64_t vlen)
{
	struct op *op = kr->op;

	staging_put(op->cache, kr->staging, kr->staging_cap);
	kr->staging = NULL;
	arena_put(kr->arena);
	kr->arena = NULL;
	free(kr->shadow);	/* a delete record that did not commit */
	kr->shadow = NULL;
	op->status[kr->idx] = status;
	op->vlen[kr->idx] = status == 0 ? vlen : 0;
	op_put(op);
}

/* ---- space: eviction and re-insert ---------------------------------------- */

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

static struct fdpkv_cache *kr_cache(const struct key_req *kr)
{
	return kr->op ? kr->op->cache : ((const struct reinsert_req *)kr)->d->cache;
}

static void dealloc_done(struct io_cmd *cmd, int res);
static void write_done(struct io_cmd *cmd, int res);
static void evict_entry_shadow(struct devctx *d, uint32_t s, struct index_entry *e);
static void gate_submit(struct devctx *d, struct key_req *kr);
static void gate_release(struct devctx *d);

/* Queue @e on the evicted list (oldest first) and drop it. cache->lock held. */
static void evict_entry(struct fdpkv_cache *c, struct index_entry *e)
{
	struct evicted *ev = malloc(sizeof(*ev) + e->klen);

	if (ev) {
		ev->next = NULL;
		ev->vlen = e->vlen;
		ev->klen = e->klen;
		memcpy(ev->key, e->key, e->klen);
		if (c->ev_tail)
			c->ev_tail->next = ev;
		else
			c->ev_head = ev;
		c->ev_tail = ev;
	}
	atomic_fetch_add(&c->st.evicted_objects, 1);
	entry_drop(c, e);
}

/* Oldest entry of a segment: entries are pushed at the head. */
static struct index_entry *seg_oldest(const struct segment *sg)
{
	struct index_entry *e;

	for (e = sg->entries; e && e->seg_next; e = e->seg_next)
		;
	return e;
}

/*
 * Deallocate an evicted segment once nothing reads it any more: no re-insert
 * copy, no carried delete record being written and no GET in flight. Entries
 * still left (copies that failed or were overtaken) are evicted first.
 * cache->lock held.
 */
static void dealloc_submit(struct dealloc_req *dr)
{
	struct devctx *d = dr->d;

	dr->cmd = (struct io_cmd){
		.op = IO_DEALLOC,
		.off = seg_base(d, dr->seg),
		.len = d->sb.segment_bytes,
		.done = dealloc_done,
		.arg = dr,
	};
	engine_submit(d->eng, &dr->cmd);
}

/* The flush before a deallocate is done (device thread, no cache->lock). */
static void dealloc_flushed(struct io_cmd *cmd, int res)
{
	struct dealloc_req *dr = cmd->arg;

	if (res < 0)
		atomic_fetch_add(&dr->d->cache->st.io_errors, 1);
	dealloc_submit(dr);
}

static void seg_try_dealloc(struct devctx *d, uint32_t s)
{
	struct segment *sg = &d->segs.segs[s];
	struct index_entry *e, *prev;
	struct dealloc_req *dr;

	if (sg->state != SEG_RECLAIM || sg->dealloc_sent || sg->copies || sg->readers)
		return;
	for (e = seg_oldest(sg); e; e = prev) {
		prev = e->seg_prev;
		evict_entry_shadow(d, s, e);
	}
	if (sg->copies)
		return;	/* carried delete records land first: reinsert_finish */
	sg->dealloc_sent = true;
	dr = &d->dreq[s];
	dr->d = d;
	dr->seg = s;
	if (d->cache->cfg.durability == FDPKV_DURABILITY_FLUSH) {
		/*
		 * What hides this segment's dead objects (delete records,
		 * newer versions, carried records behind user records not
		 * yet flushed) must be durable before the objects go: else a
		 * power loss could leave a hole in front of a hiding record,
		 * recovery would stop there, and the objects, gone from the
		 * device or not, would be looked for again. One flush per
		 * evicted segment.
		 */
		dr->cmd = (struct io_cmd){
			.op = IO_FLUSH, .done = dealloc_flushed, .arg = dr,
		};
		engine_submit(d->eng, &dr->cmd);
		return;
	}
	dealloc_submit(dr);
}

/* One write of a pad: zeros into the unwritten tail of a sealed segment. */
struct pad_req {
	struct devctx *d;
	uint32_t seg;
	atomic_uint left;		/* commands still in flight */
	unsigned int n;
	struct io_cmd cmd[];
};

#define ZEROS_BYTES	(1u << 20)

/* The device's buffer of zeroes (pads, wipes), allocated on first use.
 * cache->lock held. NULL when out of memory. */
static void *zeros_get(struct devctx *d)
{
	if (!d->zeros) {
		if (posix_memalign(&d->zeros, STAGING_ALIGN, ZEROS_BYTES))
			d->zeros = NULL;
		else
			memset(d->zeros, 0, ZEROS_BYTES);
	}
	return d->zeros;
}

static void pad_done(struct io_cmd *cmd, int res)
{
	struct pad_req *pr = cmd->arg;
	struct fdpkv_cache *c = pr->d->cache;

	if (res < 0)
		atomic_fetch_add(&c->st.io_errors, 1);
	pthread_mutex_lock(&c->lock);
	/* the segment may be evicted (and rewritten) only once its pad is down */
	if (!--pr->d->segs.segs[pr->seg].writes)
		gate_release(pr->d);
	pthread_mutex_unlock(&c->lock);
	if (atomic_fetch_sub(&pr->left, 1) == 1)
		free(pr);
}

/*
 * A segment is one reclaim unit of its class's placement id. When one is
 * sealed with its tail unwritten, the RU is not full, and the class's next
 * segment would start inside it: from then on every segment would straddle
 * two RUs, and evicting one would leave the device live data to copy. So on
 * FDP backends the tail is written with zeros through the same placement id
 * (recovery ends a segment's chain at the first thing that is not a header).
 * cache->lock held.
 */
static void pad_sealed(struct devctx *d)
{
	struct seg_table *t = &d->segs;
	struct fdpkv_cache *c = d->cache;
	struct segment *sg;
	struct pad_req *pr;
	uint64_t off, len;
	unsigned int i, n;

	if (t->pad_seg == UINT32_MAX)
		return;
	sg = &t->segs[t->pad_seg];
	off = t->pad_off;
	len = t->pad_len;
	t->pad_seg = UINT32_MAX;
	if (!d->dev.ops->ru_align || !d->dev.geo.ru_bytes)
		return;		/* no reclaim units to keep aligned */
	zeros_get(d);
	n = (unsigned int)((len + ZEROS_BYTES - 1) / ZEROS_BYTES);
	pr = d->zeros ? calloc(1, sizeof(*pr) + n * sizeof(pr->cmd[0])) : NULL;
	if (!pr) {
		atomic_fetch_add(&c->st.io_errors, 1);
		return;		/* unaligned from here on, but nothing is lost */
	}
	pr->d = d;
	pr->seg = (uint32_t)(sg - t->segs);
	pr->n = n;
	atomic_init(&pr->left, n);
	sg->writes += n;
	atomic_fetch_add(&c->st.pad_bytes, len);
	atomic_fetch_add(&c->st.class_bytes[sg->cls], len);
	for (i = 0; i < n; i++) {
		uint64_t part = MIN(len - (uint64_t)i * ZEROS_BYTES, (uint64_t)ZEROS_BYTES);

		pr->cmd[i] = (struct io_cmd){
			.op = IO_WRITE,
			.pid = d->sb.class_pid[sg->cls],
			.off = seg_base(d, pr->seg) + off + (uint64_t)i * ZEROS_BYTES,
			.len = part,
			.buf = d->zeros,
			.done = pad_done,
			.arg = pr,
		};
	}
	for (i = 0; i < n; i++)
		engine_submit(d->eng, &pr->cmd[i]);
}

/* Take the next slot of @kr's class and queue @kr in its segment's write
 * FIFO. cache->lock held. 0, -ENOSPC (no free segment) or -EFBIG. */
static int slot_reserve(struct devctx *d, struct key_req *kr)
{
	struct fdpkv_cache *c = d->cache;
	struct seg_table *t = &d->segs;
	struct segment *sg;
	int ret;

	/*
	 * While anything is shadowed, the last free segment is left to the
	 * internal writes of evictions (carried delete records, re-insert
	 * copies): the segment evicted is deallocated only once they are
	 * written, so if user writes could take it, every eviction could end
	 * up waiting for room that only an eviction gives back.
	 */
	if (kr->op && t->nfree <= 1 &&
	    (t->open[kr->cls] < 0 || t->segs[t->open[kr->cls]].broken ||
	     t->segs[t->open[kr->cls]].used + kr->size > t->seg_bytes) &&
	    segs_have_shadows(t))
		return -ENOSPC;
	ret = segs_reserve(t, kr->cls, kr->size, &c->seq, &kr->seg, &kr->off);
	pad_sealed(d);
	if (ret)
		return ret;
	sg = &d->segs.segs[kr->seg];
	kr->seq = sg->last_seq;
	sg->writes++;
	kr->wq_next = NULL;
	kr->io_done = false;
	if (sg->wq_tail)
		sg->wq_tail->wq_next = kr;
	else
		sg->wq_head = kr;
	sg->wq_tail = kr;
	return 0;
}

/* Bytes of @kr's object that pass through its staging buffer: all of
 * them, or with an arena only the head in front of the value. */
static uint64_t staged_bytes(const struct key_req *kr)
{
	return kr->size - (kr->arena ? kr->vlen : 0);
}

/* With an arena, the part of @kr's command after the head is the caller's
 * buffer (struct io_cmd: buf2). */
static void cmd_value_part(struct key_req *kr)
{
	if (!kr->arena)
		return;
	kr->cmd.buf2 = kr->buf.base;
	kr->cmd.split = staged_bytes(kr);
	kr->cmd.arena = kr->arena;
}

/* Encode @kr's header into its staging image and write it. cache->lock held
 * (for the gate's bookkeeping); the slot is reserved. */
static void write_submit(struct devctx *d, struct key_req *kr, uint64_t seg_seq)
{
	struct fdpkv_cache *c = d->cache;
	uint32_t prev = d->gate[kr->cls].cur_seg;
	struct obj_hdr h;

	/* the invariant the gate keeps, measured where writes leave */
	if (d->dev.geo.ru_bytes && prev != UINT32_MAX && prev != kr->seg &&
	    d->segs.segs[prev].writes && d->segs.segs[prev].cls == kr->cls)
		atomic_fetch_add(&c->st.segment_overlaps, 1);
	d->gate[kr->cls].cur_seg = kr->seg;

	memset(&h, 0, sizeof(h));
	h.flags = kr->flags;
	h.cls = kr->cls;
	h.klen = kr->klen;
	h.vlen = kr->vlen;
	h.seq = kr->seq;
	h.seg_seq = seg_seq;
	h.uuid64 = d->uuid64;
	h.vcrc = kr->vcrc;
	obj_encode(kr->staging, &h, (uint8_t *)kr->staging + OBJ_HDR_SIZE);
	if (kr->op)
		atomic_fetch_or(&kr->op->dev_mask, 1u << kr->dev);
	kr->cmd = (struct io_cmd){
		.op = IO_WRITE,
		.pid = d->sb.class_pid[kr->cls],
		/* copies are not covered by a user's flush: make them durable
		 * themselves whenever the user asked for durability */
		.dsync = kr->op ? c->cfg.durability == FDPKV_DURABILITY_FUA
				: c->cfg.durability != FDPKV_DURABILITY_NONE,
		.off = seg_base(d, kr->seg) + kr->off,
		.len = kr->size,
		.buf = kr->staging,
		.done = write_done,
		.arg = kr,
	};
	cmd_value_part(kr);
	engine_submit(d->eng, &kr->cmd);
}

/* Is a write of @e's key reserved and not yet committed? cache->lock held.
 * @busy caches the segments with writes in flight across calls (*nbusy < 0:
 * not collected yet). */
static bool key_write_pending(struct devctx *d, const struct index_entry *e, uint32_t *busy,
			      int64_t *nbusy)
{
	struct seg_table *t = &d->segs;
	const struct key_req *kr;
	int64_t i;

	if (*nbusy < 0) {
		*nbusy = 0;
		for (i = 0; i < t->n; i++)
			if (t->segs[i].wq_head)
				busy[(*nbusy)++] = (uint32_t)i;
	}
	for (i = 0; i < *nbusy; i++)
		for (kr = t->segs[busy[i]].wq_head; kr; kr = kr->wq_next)
			if (kr->klen == e->klen && !memcmp(kr->key, e->key, e->klen))
				return true;
	return false;
}

static void reinsert_read_done(struct io_cmd *cmd, int res);

/* Start copying @e out of segment @s (being evicted). cache->lock held.
 * 0 when the copy runs, else -errno and nothing changed (drop @e). */
static int reinsert_start(struct devctx *d, uint32_t s, struct index_entry *e)
{
	struct fdpkv_cache *c = d->cache;
	struct reinsert_req *r = calloc(1, sizeof(*r) + e->klen);
	struct key_req *kr;

	if (!r)
		return -ENOMEM;
	kr = &r->kr;
	memcpy(r->key, e->key, e->klen);
	r->d = d;
	r->src_seg = s;
	r->src_off_lba = e->off_lba;
	r->src_seg_seq = d->segs.segs[s].open_seq;
	kr->key = r->key;
	kr->klen = e->klen;
	kr->dev = e->dev;
	kr->cls = FDPKV_CLASS_REINSERT;
	/* the copy keeps the layout: an aligned value may be read in place */
	kr->flags = OBJ_F_REINSERT | ((e->flags & IDX_F_ALIGNED) ? OBJ_F_ALIGNED : 0);
	kr->vlen = e->vlen;
	kr->size = obj_extent(kr->klen, kr->vlen, kr->flags, d->sb.lba_size);
	kr->staging = staging_get(c, kr->size, &kr->staging_cap);
	if (!kr->staging) {
		free(r);
		return -ENOMEM;
	}
	/* never waits for space: a full device drops instead */
	if (slot_reserve(d, kr)) {
		staging_put(c, kr->staging, kr->staging_cap);
		free(r);
		return -ENOSPC;
	}
	r->seg_seq = d->segs.segs[kr->seg].open_seq;
	d->segs.segs[s].copies++;
	c->inflight_ops++;	/* fdpkv_close waits for copies too */
	r->rcmd = (struct io_cmd){
		.op = IO_READ,
		.off = seg_base(d, s) + (uint64_t)e->off_lba * d->sb.lba_size,
		.len = kr->size,
		.buf = kr->staging,
		.done = reinsert_read_done,
		.arg = r,
	};
	engine_submit(d->eng, &r->rcmd);
	return 0;
}

static void reinsert_read_done(struct io_cmd *cmd, int res)
{
	struct reinsert_req *r = cmd->arg;
	struct key_req *kr = &r->kr;
	struct devctx *d = r->d;
	struct fdpkv_cache *c = d->cache;
	uint64_t voff = obj_value_off(kr->klen, kr->flags, d->sb.lba_size);
	uint8_t *p = kr->staging, *val = p + voff;
	struct obj_hdr h;

	if (res < 0)
		atomic_fetch_add(&c->st.io_errors, 1);
	if (res >= 0 && obj_decode(p, kr->size, &h) == 0 && h.klen == kr->klen &&
	    !memcmp(p + OBJ_HDR_SIZE, kr->key, kr->klen) && h.seg_seq == r->src_seg_seq &&
	    h.vlen == kr->vlen && h.uuid64 == d->uuid64 && !(h.flags & OBJ_F_TOMBSTONE) &&
	    (h.flags & OBJ_F_ALIGNED) == (kr->flags & OBJ_F_ALIGNED) &&
	    crc32c(0, val, kr->vlen) == h.vcrc) {
		kr->vcrc = h.vcrc;
	} else {
		if (res >= 0)
			atomic_fetch_add(&c->st.corrupt_objects, 1);
		r->failed = true;
		memcpy(p + OBJ_HDR_SIZE, kr->key, kr->klen);
		memset(p + OBJ_HDR_SIZE + kr->klen, 0, voff - OBJ_HDR_SIZE - kr->klen);
		memset(val + kr->vlen, 0, kr->size - voff - kr->vlen);
		kr->vcrc = crc32c(0, val, kr->vlen) ^ 1;	/* never matches */
	}
	pthread_mutex_lock(&c->lock);
	gate_submit(d, kr);
	pthread_mutex_unlock(&c->lock);
}

static void retry_waiters(struct devctx *d, struct key_req **failed);
static void complete_failed(struct key_req *failed);

/* A copy's write is done (committed or not). Runs without cache->lock. */
static void reinsert_finish(struct key_req *kr)
{
	struct reinsert_req *r = (struct reinsert_req *)kr;
	struct devctx *d = r->d;
	struct fdpkv_cache *c = d->cache;
	struct key_req *failed = NULL;

	staging_put(c, kr->staging, kr->staging_cap);
	if (r->committed)
		atomic_fetch_add(&c->st.reinserted_objects, 1);
	if (kr->carry && !kr->shadow)
		atomic_fetch_add(&c->st.carried_records, 1);	/* committed: linked */
	free(kr->shadow);	/* a carried record that was not written */
	pthread_mutex_lock(&c->lock);
	d->segs.segs[r->src_seg].copies--;
	seg_try_dealloc(d, r->src_seg);
	if (d->segs.nfree && d->waiters)
		retry_waiters(d, &failed);
	if (--c->inflight_ops == 0)
		pthread_cond_broadcast(&c->idle);
	pthread_mutex_unlock(&c->lock);
	free(r);
	complete_failed(failed);
}

/* ---- shadowed objects (see the top of this file) ---------------------------- */

static struct shadow_rec *shadow_rec_new(const uint8_t *key, uint32_t klen, uint32_t seg,
					 uint64_t bound)
{
	struct shadow_rec *rec = malloc(sizeof(*rec) + klen);

	if (!rec)
		return NULL;
	rec->next = NULL;
	rec->bound = bound;
	rec->seg = seg;
	rec->klen = (uint16_t)klen;
	memcpy(rec->key, key, klen);
	return rec;
}

/* Mark a live entry as hiding an older version. cache->lock held. */
static void entry_set_shadow(struct fdpkv_cache *c, struct index_entry *e)
{
	if (e->flags & IDX_F_SHADOW)
		return;
	e->flags |= IDX_F_SHADOW;
	c->devs[e->dev].segs.segs[e->seg].shadows++;
}

/*
 * Hand the hiding duty to writes of @key reserved and not yet committed:
 * each is newer than what is to be hidden (user writes of a class commit in
 * order; a copy is only started for a key without a reserved user write).
 * Returns whether there was one. cache->lock held.
 */
static bool shadow_to_pending_writes(struct devctx *d, const uint8_t *key, uint32_t klen)
{
	struct seg_table *t = &d->segs;
	struct key_req *kr;
	bool any = false;
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		for (kr = t->segs[i].wq_head; kr; kr = kr->wq_next) {
			if (kr->klen != klen || memcmp(kr->key, key, klen))
				continue;
			/*
			 * A re-insert copy never takes the duty over: it is an
			 * old version itself, and it cannot commit once the key
			 * has left the index (which is why we are here).
			 */
			if (!kr->op && !kr->carry)
				continue;
			if (!(kr->flags & OBJ_F_TOMBSTONE)) {
				kr->shadows = true;
			} else if (kr->shadow) {
				/* a delete record in flight: hide all before it */
				kr->shadow->seg = SHADOW_ANY;
				kr->shadow->bound = kr->seq;
			} else {
				continue;
			}
			any = true;
		}
	}
	return any;
}

/*
 * Write @rec as a delete record into the metadata class; segment @src waits
 * for it (copies) before it is deallocated. cache->lock held; takes @rec.
 */
static void shadow_write(struct devctx *d, uint32_t src, struct shadow_rec *rec)
{
	struct fdpkv_cache *c = d->cache;
	struct reinsert_req *r = calloc(1, sizeof(*r) + rec->klen);
	struct key_req *kr = r ? &r->kr : NULL;
	uint8_t *p;

	if (kr) {
		kr->size = obj_size(rec->klen, 0, d->sb.lba_size);
		kr->staging = staging_get(c, kr->size, &kr->staging_cap);
	}
	if (!kr || !kr->staging) {
		/* nothing else keeps the object hidden: count it as an error */
		atomic_fetch_add(&c->st.io_errors, 1);
		free(r);
		free(rec);
		return;
	}
	memcpy(r->key, rec->key, rec->klen);
	r->d = d;
	r->src_seg = src;
	kr->key = r->key;
	kr->klen = rec->klen;
	kr->dev = (uint8_t)d->idx;
	kr->cls = FDPKV_CLASS_META;
	kr->flags = OBJ_F_TOMBSTONE;
	kr->carry = true;
	kr->shadow = rec;
	p = kr->staging;
	memcpy(p + OBJ_HDR_SIZE, rec->key, rec->klen);
	memset(p + OBJ_HDR_SIZE + rec->klen, 0, kr->size - OBJ_HDR_SIZE - rec->klen);
	kr->vcrc = crc32c(0, NULL, 0);
	d->segs.segs[src].copies++;
	c->inflight_ops++;	/* fdpkv_close waits for it */
	/* &r->kr, not kr: the request lives on in the lists it joins */
	if (slot_reserve(d, &r->kr) == 0) {
		gate_submit(d, &r->kr);
		return;
	}
	/*
	 * -ENOSPC (a record is far smaller than a segment: never -EFBIG). First
	 * in line for the next free segment, which user writes leave to it.
	 */
	r->kr.wait_next = d->waiters;
	d->waiters = &r->kr;
	if (!d->waiters_tail)
		d->waiters_tail = &r->kr;
}

/*
 * @rec describes a record that hides older objects of its key and leaves
 * with segment @src (being evicted): keep those objects hidden if any can
 * still be on the device. cache->lock held; takes @rec.
 */
static void shadow_carry(struct devctx *d, uint32_t src, struct shadow_rec *rec)
{
	struct fdpkv_cache *c = d->cache;
	struct index_entry *e;

	if (!segs_shadow_needed(&d->segs, src, rec->seg, rec->bound)) {
		free(rec);
		return;
	}
	/*
	 * A newer version of the key is live or on its way: it hides the old
	 * objects itself, and a delete record written now would hide it too.
	 */
	e = index_find(&c->ix, rec->key, rec->klen);
	if (e) {
		entry_set_shadow(c, e);
		free(rec);
		return;
	}
	if (shadow_to_pending_writes(d, rec->key, rec->klen)) {
		free(rec);
		return;
	}
	shadow_write(d, src, rec);
}

/* Drop @e of segment @s (being evicted), keeping hidden what it hides.
 * cache->lock held. */
static void evict_entry_shadow(struct devctx *d, uint32_t s, struct index_entry *e)
{
	struct fdpkv_cache *c = d->cache;
	struct shadow_rec *rec = NULL;

	if (e->flags & IDX_F_SHADOW) {
		/* older versions: below e's sequence, so in segments opened
		 * before the last sequence of e's segment */
		rec = shadow_rec_new(e->key, e->klen, SHADOW_ANY, d->segs.segs[s].last_seq);
		if (!rec)
			atomic_fetch_add(&c->st.io_errors, 1);
	}
	evict_entry(c, e);
	if (rec)
		shadow_carry(d, s, rec);
}

/*
 * Evict segment @s: drop its entries (reported by fdpkv_take_evicted, oldest
 * first) or, with cfg.reinsert, copy those read since written and still live,
 * then deallocate it whole. cache->lock held.
 */
static void evict_segment(struct devctx *d, uint32_t s)
{
	struct fdpkv_cache *c = d->cache;
	struct segment *sg = &d->segs.segs[s];
	struct index_entry *e, *prev;
	uint32_t *busy = NULL;
	int64_t nbusy = -1;

	/* first: nothing below may pick this segment again */
	sg->state = SEG_RECLAIM;
	d->segs.nreclaim++;
	if (sg->pending) {
		struct shadow_rec *rec = sg->pending, *next;

		sg->pending = NULL;
		sg->npending = 0;
		for (; rec; rec = next) {
			next = rec->next;
			shadow_carry(d, s, rec);
		}
	}
	/*
	 * Carried records first, copies after: a copy may take the last free
	 * segment and is dropped when there is none, while a carried record
	 * must wait for one; if copies went first, this segment could wait for
	 * a record that waits for room only this segment gives back. Entries
	 * that hide an older version are therefore not copied (rare).
	 */
	if (sg->shadows) {
		for (e = seg_oldest(sg); e; e = prev) {
			prev = e->seg_prev;
			if (e->flags & IDX_F_SHADOW)
				evict_entry_shadow(d, s, e);
		}
	}
	if (c->cfg.reinsert)
		busy = malloc(sizeof(*busy) * d->segs.n);
	for (e = seg_oldest(sg); e; e = prev) {
		prev = e->seg_prev;
		if (busy && (e->flags & IDX_F_READ) && !key_write_pending(d, e, busy, &nbusy) &&
		    reinsert_start(d, s, e) == 0)
			continue;
		evict_entry_shadow(d, s, e);
	}
	free(busy);
	atomic_fetch_add(&c->st.evicted_segments, 1);
	seg_try_dealloc(d, s);
}

/* Evict until @want segments are free or being freed. Returns how many are. */
/*
 * While anything is shadowed, the oldest data on the device must go first,
 * also when it sits in a class's open segment: a rarely written class keeps
 * its open segment, and with it the oldest objects, for ever, and every
 * delete record that may hide something in it stays needed and is carried
 * again at each metadata eviction, until carried records fill the device
 * and evictions wait on each other for room. So seal that segment (padded to
 * its RU end, like any segment sealed for lack of room): FIFO takes it next,
 * and the records it kept alive expire. cache->lock held.
 */
static void seal_oldest_open(struct devctx *d)
{
	struct seg_table *t = &d->segs;
	int64_t oldest = -1;
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		const struct segment *sg = &t->segs[i];

		if ((sg->state == SEG_OPEN || sg->state == SEG_SEALED) &&
		    (oldest < 0 || sg->open_seq < t->segs[oldest].open_seq))
			oldest = i;
	}
	if (oldest < 0 || t->segs[oldest].state != SEG_OPEN)
		return;
	segs_seal_padded(t, (uint32_t)oldest);
	pad_sealed(d);
}

static uint32_t evict_until(struct devctx *d, uint32_t want)
{
	if (d->segs.nfree + d->segs.nreclaim < want && segs_have_shadows(&d->segs))
		seal_oldest_open(d);
	while (d->segs.nfree + d->segs.nreclaim < want) {
		int64_t v = segs_pick_victim(&d->segs);

		if (v < 0)
			break;
		evict_segment(d, (uint32_t)v);
	}
	return d->segs.nfree + d->segs.nreclaim;
}

/*
 * Submit @kr's write now, or park it behind the class's previous segment
 * while that one still has writes reserved or in flight (its last objects,
 * its pad). cache->lock held.
 */
static void gate_submit(struct devctx *d, struct key_req *kr)
{
	typeof(d->gate[0]) *g = &d->gate[kr->cls];
	uint32_t cur = g->cur_seg;

	/* no reclaim units (file, ng without FDP): nothing to keep apart */
	if (!d->dev.geo.ru_bytes) {
		write_submit(d, kr, d->segs.segs[kr->seg].open_seq);
		return;
	}
	/*
	 * Writes to the current segment always go, even past parked ones: the
	 * parked writes wait for exactly these (a re-insert copy reserved
	 * earlier may reach here after its read, behind later reservations).
	 */
	if (cur == kr->seg ||
	    (!g->head && (cur == UINT32_MAX || !d->segs.segs[cur].writes ||
			  d->segs.segs[cur].cls != kr->cls))) {
		write_submit(d, kr, d->segs.segs[kr->seg].open_seq);
		return;
	}
	kr->gate_next = NULL;
	if (g->tail)
		g->tail->gate_next = kr;
	else
		g->head = kr;
	g->tail = kr;
}

/* A segment's writes may have drained: let parked writes go. cache->lock held. */
static void gate_release(struct devctx *d)
{
	unsigned int cls;

	for (cls = 0; cls < FDPKV_MAX_CLASSES; cls++) {
		typeof(d->gate[0]) *g = &d->gate[cls];
		struct key_req *kr;
		uint32_t next;

		while (g->head && (g->cur_seg == UINT32_MAX || !d->segs.segs[g->cur_seg].writes ||
				   d->segs.segs[g->cur_seg].cls != cls)) {
			/* the whole next segment goes; later ones wait for it */
			next = g->head->seg;
			while ((kr = g->head) && kr->seg == next) {
				g->head = kr->gate_next;
				if (!g->head)
					g->tail = NULL;
				write_submit(d, kr, d->segs.segs[kr->seg].open_seq);
			}
		}
	}
}

/*
 * Reserve space for @kr and submit its write, or queue it until a segment
 * being deallocated is free. Called with cache->lock held. Returns 0 when
 * submitted or queued, else -errno (the caller completes the key).
 */
static int reserve_and_submit(struct key_req *kr)
{
	struct fdpkv_cache *c = kr_cache(kr);
	struct devctx *d = &c->devs[kr->dev];
	int ret;

	ret = slot_reserve(d, kr);
	if (ret == -ENOSPC) {
		/* one more while the last free segment is kept (slot_reserve) */
		evict_until(d, MAX(1u, c->cfg.free_segments_low) + segs_have_shadows(&d->segs));
		if (!d->segs.nreclaim)
			return -ENOSPC;	/* everything left is pinned: fail, never wait forever */
		if (kr->carry) {
			/* the segment it is carried from waits for it */
			kr->wait_next = d->waiters;
			d->waiters = kr;
			if (!d->waiters_tail)
				d->waiters_tail = kr;
			return 0;
		}
		kr->wait_next = NULL;
		if (d->waiters_tail)
			d->waiters_tail->wait_next = kr;
		else
			d->waiters = kr;
		d->waiters_tail = kr;
		return 0;
	}
	if (ret)
		return ret;
	/*
	 * Submitted before evicting: eviction may reserve carried delete
	 * records behind @kr in the same class, and the gate lets a class's
	 * writes go in reservation order only.
	 */
	gate_submit(d, kr);
	if (d->segs.nfree < c->cfg.free_segments_low) {
		uint32_t want = c->cfg.free_segments_low;

		/* one more for slot_reserve's last segment; looked up once per
		 * segment opened, not per write */
		if (d->segs.nfree + d->segs.nreclaim <= want && segs_have_shadows(&d->segs))
			want++;
		evict_until(d, want);
	}
	return 0;
}

/* Retry queued writes after a segment became free. cache->lock held;
 * keys that fail are chained on @failed for completion outside the lock. */
static void retry_waiters(struct devctx *d, struct key_req **failed)
{
	struct key_req *kr = d->waiters, *next;

	d->waiters = d->waiters_tail = NULL;
	for (; kr; kr = next) {
		next = kr->wait_next;
		kr->io_res = reserve_and_submit(kr);
		if (kr->io_res) {
			kr->wait_next = *failed;
			*failed = kr;
		}
	}
}

static void complete_failed(struct key_req *failed)
{
	struct key_req *next;

	for (; failed; failed = next) {
		next = failed->wait_next;
		if (failed->op)
			key_done(failed, failed->io_res, 0);
		else
			reinsert_finish(failed);
	}
}

/*
 * Must the first LBA of a deallocated segment be zeroed? When deallocate
 * may keep the old bytes, recovery would walk the evicted segment's chain
 * (right uuid, its old seg_seq) and bring back evicted keys, and deleted
 * ones once the segment holding their delete record was reused.
 */
static bool dealloc_needs_wipe(const struct devctx *d)
{
	/* a refused punch deallocated nothing, whatever the config says */
	return d->wipe || atomic_load(&d->dev.dealloc_kept);
}

static void wipe_done(struct io_cmd *cmd, int res);

/*
 * Segment @dr->seg is deallocated (or that failed): free it, or first zero
 * its first LBA, which ends its chain for recovery. Runs without cache->lock.
 */
static void dealloc_done(struct io_cmd *cmd, int res)
{
	struct dealloc_req *dr = cmd->arg;
	struct devctx *d = dr->d;
	struct fdpkv_cache *c = d->cache;
	struct key_req *failed = NULL;
	void *zeros;

	if (res < 0)
		atomic_fetch_add(&c->st.io_errors, 1);
	pthread_mutex_lock(&c->lock);
	/* a failed deallocate may have left the bytes even on a device that zeroes */
	if (res < 0 || dealloc_needs_wipe(d)) {
		zeros = zeros_get(d);
		pthread_mutex_unlock(&c->lock);
		dr->wipe = (struct io_cmd){
			.op = IO_WRITE,
			/* see wipe_pid_pick */
			.pid = d->wipe_pid,
			.off = seg_base(d, dr->seg),
			.len = d->sb.lba_size,
			.buf = zeros,
			/* the segment is reused once this is done: make it last */
			.dsync = c->cfg.durability != FDPKV_DURABILITY_NONE,
			.done = wipe_done,
			.arg = dr,
		};
		if (zeros)
			engine_submit(d->eng, &dr->wipe);
		else
			wipe_done(&dr->wipe, -ENOMEM);
		return;
	}
	segs_free(&d->segs, dr->seg);
	retry_waiters(d, &failed);
	pthread_mutex_unlock(&c->lock);
	complete_failed(failed);
}

/*
 * The zero write of an evicted segment's first LBA is done. Only now may
 * the segment be reused: freed earlier, a restart before its next use would
 * find its old chain. When the write failed the chain may still be there,
 * so the segment is quarantined: never reused while the cache is open (after
 * a restart recovery finds its objects again, intact as their crcs prove,
 * and evicts it anew), and the delete records of metadata segments stay
 * pinned by it (segs_pick_victim) so no deleted key can come back with it.
 * Runs without cache->lock.
 */
static void wipe_done(struct io_cmd *cmd, int res)
{
	struct dealloc_req *dr = cmd->arg;
	struct devctx *d = dr->d;
	struct fdpkv_cache *c = d->cache;
	struct key_req *failed = NULL;

	pthread_mutex_lock(&c->lock);
	if (res < 0) {
		atomic_fetch_add(&c->st.io_errors, 1);
		segs_quarantine(&d->segs, dr->seg);
	} else {
		atomic_fetch_add(&d->wiped_segments, 1);
		segs_free(&d->segs, dr->seg);
	}
	/* either way one segment less is pending: waiters retry (or fail) */
	retry_waiters(d, &failed);
	pthread_mutex_unlock(&c->lock);
	complete_failed(failed);
}

/*
 * Is the committed entry @e newer than the write @kr of the same key?
 * A key's user writes all go to one class (the class follows from the key)
 * and a class fills one segment at a time in sequence order, so of two
 * segments the later opened holds the later version; within one segment
 * commits run in offset order, so a committed entry there is older. A
 * re-insert copy (another class) is older than any user write still to
 * commit: copies are only started for keys without a reserved user write.
 * cache->lock held.
 */
static bool entry_newer(const struct fdpkv_cache *c, const struct index_entry *e,
			const struct key_req *kr)
{
	const struct seg_table *t = &c->devs[e->dev].segs;

	if (e->dev != kr->dev || e->seg == kr->seg || t->segs[e->seg].cls != kr->cls)
		return false;
	return t->segs[e->seg].open_seq > t->segs[kr->seg].open_seq;
}

/* Make a written object visible. cache->lock held. */
static int commit_object(struct fdpkv_cache *c, struct key_req *kr)
{
	struct devctx *d = &c->devs[kr->dev];
	struct segment *sg = &d->segs.segs[kr->seg];
	struct index_entry *e;
	bool shadow = kr->shadows;

	atomic_fetch_add(&c->st.class_bytes[kr->cls], kr->size);
	atomic_fetch_add(&c->st.bytes_written, kr->size);
	if (kr->arena)
		atomic_fetch_add(&c->st.direct_bytes, kr->vlen);
	if (kr->flags & OBJ_F_TOMBSTONE) {
		/* the key left the index when DELETE ran; the record stays
		 * known while it hides something (shadow_carry) */
		if (kr->shadow) {
			kr->shadow->next = sg->pending;
			sg->pending = kr->shadow;
			sg->npending++;
			kr->shadow = NULL;
		}
		return 0;
	}
	e = index_find(&c->ix, kr->key, kr->klen);
	if (!kr->op) {
		struct reinsert_req *r = (struct reinsert_req *)kr;

		/* a copy only replaces the very object it was copied from */
		if (r->failed || !e || e->dev != kr->dev || e->seg != r->src_seg ||
		    e->off_lba != r->src_off_lba)
			return 0;
		r->committed = true;
	} else if (e && entry_newer(c, e, kr)) {
		/* a newer version won; this one is garbage already, but on
		 * the device below it */
		entry_set_shadow(c, e);
		return 0;
	}
	if (e) {
		struct segment *old = &c->devs[e->dev].segs.segs[e->seg];

		/* the version replaced stays on the device (a copy's source is
		 * the same version), and so does anything it hid */
		shadow |= (e->flags & IDX_F_SHADOW) ||
			  (kr->op && (e->dev != kr->dev || e->seg != kr->seg));
		seg_unlink(old, e);
		old->live_objs--;
		old->live_bytes -= e->vlen;
		if (e->lock) {
			old->locked--;
			sg->locked++;
		}
		usage_add(c, e, -1);
	} else {
		e = index_insert(&c->ix, kr->key, kr->klen);
		if (!e)
			return -ENOMEM;
	}
	e->vlen = kr->vlen;
	e->dev = kr->dev;
	e->seg = kr->seg;
	e->off_lba = (uint32_t)(kr->off / d->sb.lba_size);
	e->flags = (shadow ? IDX_F_SHADOW : 0) |
		   ((kr->flags & OBJ_F_ALIGNED) ? IDX_F_ALIGNED : 0);
	seg_link(sg, e);
	sg->live_objs++;
	sg->live_bytes += e->vlen;
	usage_add(c, e, 1);
	return 0;
}

static void write_done(struct io_cmd *cmd, int res)
{
	struct key_req *kr = cmd->arg, *h, *done = NULL, **tail = &done;
	struct fdpkv_cache *c = kr_cache(kr);
	struct devctx *d = &c->devs[kr->dev];
	struct segment *sg;

	if (res < 0)
		atomic_fetch_add(&c->st.io_errors, 1);
	pthread_mutex_lock(&c->lock);
	sg = &d->segs.segs[kr->seg];
	kr->io_done = true;
	kr->io_res = res;
	/* acknowledge in offset order: see the comment at the top */
	while ((h = sg->wq_head) && h->io_done) {
		sg->wq_head = h->wq_next;
		if (!sg->wq_head)
			sg->wq_tail = NULL;
		sg->writes--;
		if (h->io_res < 0 && !sg->broken) {
			sg->broken = true;
			segs_seal(&d->segs, kr->seg);
		}
		if (sg->broken)
			h->io_res = h->io_res < 0 ? h->io_res : -EIO;
		else
			h->io_res = commit_object(c, h);
		h->wait_next = NULL;
		*tail = h;
		tail = &h->wait_next;
	}
	if (!sg->writes)
		gate_release(d);
	pthread_mutex_unlock(&c->lock);
	for (h = done; h; h = kr) {
		kr = h->wait_next;
		if (h->op)
			key_done(h, h->io_res, h->vlen);
		else
			reinsert_finish(h);
	}
}

/* ---- SET / DELETE ------------------------------------------------------------ */

/*
 * Stage @kr's object image: header room, key, then the value and zeros to
 * the LBA end; with an arena only the head (header, key, zeros to the value's
 * LBA boundary), as the value goes out from the caller's buffer.
 */
static int stage_object(struct fdpkv_cache *c, struct key_req *kr, const void *value)
{
	uint64_t head = staged_bytes(kr);
	uint64_t used = OBJ_HDR_SIZE + kr->klen;
	uint8_t *p;

	kr->staging = staging_get(c, head, &kr->staging_cap);
	if (!kr->staging)
		return -ENOMEM;
	p = kr->staging;
	memcpy(p + OBJ_HDR_SIZE, kr->key, kr->klen);
	if (kr->vlen && !kr->arena) {
		memcpy(p + used, value, kr->vlen);
		used += kr->vlen;
	}
	memset(p + used, 0, head - used);
	kr->vcrc = crc32c(0, value, kr->vlen);
	return 0;
}

static void run_set(struct fdpkv_cache *c, struct op *op, const struct fdpkv_buf *bufs)
{
	unsigned int i;
	int ret;

	for (i = 0; i < op->n; i++) {
		struct key_req *kr = &op->reqs[i];
		struct devctx *d;

		kr->dev = (uint8_t)cache_key_dev(c, kr->key, kr->klen);
		d = &c->devs[kr->dev];
		kr->cls = (uint8_t)cache_key_class(c, kr->key, kr->klen);
		kr->vlen = bufs[i].len;
		kr->buf = bufs[i];
		kr->arena = arena_get(c, bufs[i].base, bufs[i].len, d->sb.lba_size);
		kr->flags = kr->arena ? OBJ_F_ALIGNED : 0;
		kr->size = obj_extent(kr->klen, kr->vlen, kr->flags, d->sb.lba_size);
		atomic_fetch_add(&c->st.sets, 1);
		if (kr->size > d->sb.segment_bytes) {
			key_done(kr, -EFBIG, 0);
			continue;
		}
		ret = stage_object(c, kr, bufs[i].base);
		if (!ret) {
			pthread_mutex_lock(&c->lock);
			ret = reserve_and_submit(kr);
			pthread_mutex_unlock(&c->lock);
		}
		if (ret)
			key_done(kr, ret, 0);
	}
}

static void run_delete(struct fdpkv_cache *c, struct op *op)
{
	unsigned int i;
	int ret;

	for (i = 0; i < op->n; i++) {
		struct key_req *kr = &op->reqs[i];
		struct index_entry *e;

		atomic_fetch_add(&c->st.deletes, 1);
		kr->dev = (uint8_t)cache_key_dev(c, kr->key, kr->klen);
		kr->cls = FDPKV_CLASS_META;
		kr->flags = OBJ_F_TOMBSTONE;
		kr->vlen = 0;
		kr->size = obj_size(kr->klen, 0, c->devs[kr->dev].sb.lba_size);
		/* staged before taking the lock: it is cheap and may fail */
		ret = stage_object(c, kr, NULL);
		if (!ret) {
			kr->shadow = shadow_rec_new(kr->key, kr->klen, SHADOW_ANY, 0);
			if (!kr->shadow)
				ret = -ENOMEM;
		}
		pthread_mutex_lock(&c->lock);
		e = index_find(&c->ix, kr->key, kr->klen);
		if (!e)
			ret = -ENOENT;
		else if (e->lock)
			ret = -EBUSY;
		else if (!ret) {
			struct segment *es = &c->devs[e->dev].segs.segs[e->seg];

			/*
			 * What the record hides: the object dropped here, or,
			 * when older versions may be about too (or a copy of
			 * it is being written), everything written so far.
			 */
			if (!(e->flags & IDX_F_SHADOW) && es->state != SEG_RECLAIM) {
				kr->shadow->seg = e->seg;
				kr->shadow->bound = es->open_seq;
			} else {
				kr->shadow->bound = c->seq + 1;
			}
			/*
			 * Gone from memory now; the delete record makes it stay
			 * gone after a restart, where the older object would
			 * otherwise be found again by the scan.
			 */
			entry_drop(c, e);
			ret = reserve_and_submit(kr);
		}
		pthread_mutex_unlock(&c->lock);
		if (ret)
			key_done(kr, ret, 0);
	}
}

/* ---- GET / EXISTS / LOOKUP_LOCK ----------------------------------------------- */

static void read_done(struct io_cmd *cmd, int res)
{
	struct key_req *kr = cmd->arg;
	struct fdpkv_cache *c = kr->op->cache;
	struct devctx *d = &c->devs[kr->dev];
	const uint8_t *p = kr->staging;
	uint64_t voff = obj_value_off(kr->klen, kr->flags, d->sb.lba_size);
	const uint8_t *val = kr->arena ? (const uint8_t *)kr->buf.base : p + voff;
	struct obj_hdr h;
	int status = -ENOENT;

	if (res < 0) {
		atomic_fetch_add(&c->st.io_errors, 1);
		status = res;
	} else if (obj_decode(p, kr->arena ? voff : kr->size, &h) == 0 && h.klen == kr->klen &&
		   !memcmp(p + OBJ_HDR_SIZE, kr->key, kr->klen) && h.seg_seq == kr->seq &&
		   h.vlen == kr->vlen && h.uuid64 == d->uuid64 && !(h.flags & OBJ_F_TOMBSTONE) &&
		   (h.flags & OBJ_F_ALIGNED) == (kr->flags & OBJ_F_ALIGNED) &&
		   crc32c(0, val, kr->vlen) == h.vcrc) {
		if (kr->arena)
			atomic_fetch_add(&c->st.direct_bytes, kr->vlen);
		else
			memcpy(kr->buf.base, val, kr->vlen);
		status = 0;
		atomic_fetch_add(&c->st.bytes_read, kr->vlen);
	}
	pthread_mutex_lock(&c->lock);
	if (!--d->segs.segs[kr->seg].readers)
		seg_try_dealloc(d, kr->seg);	/* evicted while we read it */
	if (status == -ENOENT) {
		/* damaged: forget it so that it stays a miss */
		struct index_entry *e = index_find(&c->ix, kr->key, kr->klen);

		atomic_fetch_add(&c->st.corrupt_objects, 1);
		if (e && e->dev == kr->dev && e->seg == kr->seg &&
		    (uint64_t)e->off_lba * d->sb.lba_size == kr->off)
			entry_drop(c, e);
	}
	pthread_mutex_unlock(&c->lock);
	atomic_fetch_add(status == 0 ? &c->st.hits : &c->st.misses, 1);
	key_done(kr, status, kr->vlen);
}

static void run_get(struct fdpkv_cache *c, struct op *op, const struct fdpkv_buf *bufs)
{
	unsigned int i;

	for (i = 0; i < op->n; i++) {
		struct key_req *kr = &op->reqs[i];
		struct index_entry *e;
		struct devctx *d;
		uint64_t head;
		int status = 0;

		atomic_fetch_add(&c->st.gets, 1);
		kr->buf = bufs[i];
		pthread_mutex_lock(&c->lock);
		e = index_find(&c->ix, kr->key, kr->klen);
		if (!e) {
			status = -ENOENT;
		} else if (e->vlen != bufs[i].len) {
			/* filling a different-sized buffer would be a lie either way */
			status = -EMSGSIZE;
		} else {
			d = &c->devs[e->dev];
			kr->dev = e->dev;
			kr->seg = e->seg;
			kr->off = (uint64_t)e->off_lba * d->sb.lba_size;
			/* names the segment's current use: checked against
			 * the header's seg_seq when the read completes */
			kr->seq = d->segs.segs[kr->seg].open_seq;
			kr->vlen = e->vlen;
			kr->flags = (e->flags & IDX_F_ALIGNED) ? OBJ_F_ALIGNED : 0;
			kr->size = obj_extent(kr->klen, kr->vlen, kr->flags, d->sb.lba_size);
			e->flags |= IDX_F_READ;
			/* pins the segment: not evicted while this read runs */
			d->segs.segs[kr->seg].readers++;
		}
		pthread_mutex_unlock(&c->lock);
		if (status) {
			atomic_fetch_add(&c->st.misses, 1);
			key_done(kr, status, 0);
			continue;
		}
		d = &c->devs[kr->dev];
		/* an aligned value goes straight into an arena buffer */
		if (kr->flags & OBJ_F_ALIGNED)
			kr->arena = arena_get(c, kr->buf.base, kr->vlen, d->sb.lba_size);
		head = staged_bytes(kr);
		kr->staging = staging_get(c, head, &kr->staging_cap);
		if (!kr->staging) {
			pthread_mutex_lock(&c->lock);
			if (!--d->segs.segs[kr->seg].readers)
				seg_try_dealloc(d, kr->seg);
			pthread_mutex_unlock(&c->lock);
			key_done(kr, -ENOMEM, 0);
			continue;
		}
		kr->cmd = (struct io_cmd){
			.op = IO_READ,
			.off = seg_base(d, kr->seg) + kr->off,
			.len = kr->size,
			.buf = kr->staging,
			.done = read_done,
			.arg = kr,
		};
		cmd_value_part(kr);
		engine_submit(d->eng, &kr->cmd);
	}
}

static void run_exists(struct fdpkv_cache *c, struct op *op, bool lock)
{
	unsigned int i;

	for (i = 0; i < op->n; i++) {
		struct key_req *kr = &op->reqs[i];
		struct index_entry *e;
		uint64_t vlen = 0;
		int status = -ENOENT;

		atomic_fetch_add(&c->st.exists, 1);
		pthread_mutex_lock(&c->lock);
		e = index_find(&c->ix, kr->key, kr->klen);
		if (e && (!lock || index_lock(e))) {
			if (lock && e->lock == 1)
				c->devs[e->dev].segs.segs[e->seg].locked++;
			status = 0;
			vlen = e->vlen;
		}
		pthread_mutex_unlock(&c->lock);
		atomic_fetch_add(status ? &c->st.misses : &c->st.hits, 1);
		key_done(kr, status, vlen);
	}
}

FDPKV_PUBLIC int fdpkv_submit(struct fdpkv_cache *c, enum fdpkv_op type, unsigned int n,
			      const struct fdpkv_key *keys, const struct fdpkv_buf *bufs,
			      void *user_data, uint64_t *id)
{
	struct op *op;
	size_t kbytes = 0, off = 0;
	unsigned int i;

	if (!c || !keys || !id || n == 0 || type < FDPKV_OP_SET || type > FDPKV_OP_DELETE)
		return -EINVAL;
	if ((type == FDPKV_OP_SET || type == FDPKV_OP_GET) && !bufs)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!keys[i].data || keys[i].len == 0 || keys[i].len > FDPKV_KEY_MAX)
			return -EINVAL;
		if (bufs && (type == FDPKV_OP_SET || type == FDPKV_OP_GET) &&
		    !bufs[i].base && bufs[i].len)
			return -EINVAL;
		kbytes += keys[i].len;
	}
	if (atomic_load(&c->closing))
		return -ESHUTDOWN;
	op = calloc(1, sizeof(*op) + n * sizeof(op->reqs[0]));
	if (!op)
		return -ENOMEM;
	op->status = calloc(n, sizeof(*op->status));
	op->vlen = calloc(n, sizeof(*op->vlen));
	op->keybuf = malloc(kbytes);
	if (!op->status || !op->vlen || !op->keybuf) {
		free(op->status);
		free(op->vlen);
		free(op->keybuf);
		free(op);
		return -ENOMEM;
	}
	op->cache = c;
	op->type = type;
	op->n = n;
	op->user_data = user_data;
	/* +1: the submitter's reference, so that keys completing on device
	 * threads cannot free the op while this function still walks it */
	atomic_init(&op->remaining, n + 1);
	for (i = 0; i < n; i++) {
		struct key_req *kr = &op->reqs[i];

		memcpy(op->keybuf + off, keys[i].data, keys[i].len);
		kr->op = op;
		kr->idx = i;
		kr->key = op->keybuf + off;
		kr->klen = keys[i].len;
		off += keys[i].len;
	}
	pthread_mutex_lock(&c->lock);
	if (atomic_load(&c->closing)) {
		pthread_mutex_unlock(&c->lock);
		free(op->status);
		free(op->vlen);
		free(op->keybuf);
		free(op);
		return -ESHUTDOWN;
	}
	c->inflight_ops++;
	pthread_mutex_unlock(&c->lock);
	/* the id is known before any key can complete: a completion may race
	 * ahead of this function's return, never ahead of the id */
	op->id = atomic_fetch_add(&c->next_id, 1);
	*id = op->id;
	switch (type) {
	case FDPKV_OP_SET:
		run_set(c, op, bufs);
		break;
	case FDPKV_OP_GET:
		run_get(c, op, bufs);
		break;
	case FDPKV_OP_EXISTS:
		run_exists(c, op, false);
		break;
	case FDPKV_OP_LOOKUP_LOCK:
		run_exists(c, op, true);
		break;
	case FDPKV_OP_DELETE:
		run_delete(c, op);
		break;
	}
	op_put(op);
	return 0;
}

FDPKV_PUBLIC void fdpkv_unlock(struct fdpkv_cache *c, unsigned int n, const struct fdpkv_key *keys)
{
	unsigned int i;

	if (!c || !keys)
		return;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < n; i++) {
		struct index_entry *e;

		if (!keys[i].data || !keys[i].len || keys[i].len > FDPKV_KEY_MAX)
			continue;
		e = index_find(&c->ix, keys[i].data, keys[i].len);
		if (e && index_unlock(e))
			c->devs[e->dev].segs.segs[e->seg].locked--;
	}
	pthread_mutex_unlock(&c->lock);
}

FDPKV_PUBLIC int fdpkv_event_fd(const struct fdpkv_cache *c)
{
	return c ? c->cq.efd : -EINVAL;
}

FDPKV_PUBLIC int fdpkv_drain(struct fdpkv_cache *c, struct fdpkv_completion *out, unsigned int max)
{
	if (!c || (!out && max))
		return -EINVAL;
	return cq_drain(&c->cq, out, max);
}

FDPKV_PUBLIC void fdpkv_completion_release(struct fdpkv_completion *comp)
{
	if (!comp)
		return;
	free(comp->status);
	free(comp->value_len);
	comp->status = NULL;
	comp->value_len = NULL;
}

FDPKV_PUBLIC int fdpkv_wait(struct fdpkv_cache *c, int timeout_ms)
{
	if (!c)
		return -EINVAL;
	return cq_wait(&c->cq, timeout_ms);
}

/* ---- open / close --------------------------------------------------------------- */

static int write_superblocks(struct devctx *d)
{
	return sb_write_both(d->eng, d->dev.geo.lba_size, &d->sb);
}

static int format_device(struct fdpkv_cache *c, struct devctx *d, const uint8_t *uuid,
			 char *err, size_t errlen)
{
	const struct fdpkv_geometry *g = &d->dev.geo;
	struct superblock *sb = &d->sb;
	uint64_t seg = c->cfg.segment_bytes, maxdata;
	int ret;

	if (g->ru_bytes && seg && seg != g->ru_bytes) {
		fdpkv_seterr(err, errlen, "device '%s': segment_size must equal the RU size %llu",
			     d->dev.uri, (unsigned long long)g->ru_bytes);
		return -EINVAL;
	}
	if (!seg && g->ru_bytes) {
		seg = g->ru_bytes;
	} else if (!seg) {
		seg = default_segment_bytes(g->capacity);
	}
	memset(sb, 0, sizeof(*sb));
	memcpy(sb->uuid, uuid, 16);
	sb->generation = 1;
	sb->lba_size = g->lba_size;
	sb->ndevices = c->ndev;
	sb->dev_index = d->idx;
	sb->segment_bytes = seg;
	sb->data_start = ALIGN_UP(MAX((uint64_t)FDPKV_DATA_START, 2ull * g->lba_size),
				  g->lba_size);
	sb->capacity = g->capacity;
	if (seg % g->lba_size || g->capacity < sb->data_start + 3 * seg) {
		fdpkv_seterr(err, errlen,
			     "device '%s': capacity %llu holds fewer than 3 segments of %llu bytes",
			     d->dev.uri, (unsigned long long)g->capacity, (unsigned long long)seg);
		return -EINVAL;
	}
	sb->nsegments = (g->capacity - sb->data_start) / seg;
	sb->placement_by_salt = c->cfg.placement_by_salt;
	sb->salt_separator = c->cfg.salt_separator;
	/* every class keeps one segment open: bound classes by the segment count */
	maxdata = sb->nsegments > c->cfg.free_segments_low + 4
			  ? (sb->nsegments - c->cfg.free_segments_low - 2) / 2 : 1;
	sb->ndata_classes = c->cfg.placement_by_salt
				    ? (uint32_t)MIN((uint64_t)MAX(c->cfg.max_classes, 1u), maxdata)
				    : 1;
	sb->ndata_classes = MIN(sb->ndata_classes, FDPKV_MAX_CLASSES - FDPKV_CLASS_DATA0);
	sb->nclasses = FDPKV_CLASS_DATA0 + sb->ndata_classes;
	placement_map(sb->class_pid, sb->nclasses, g->pids, g->npids);
	/* old objects must not be found by the next scan */
	ret = engine_io_sync(d->eng, IO_DEALLOC, sb->data_start, sb->nsegments * seg, NULL, 0);
	if (!ret)
		ret = write_superblocks(d);
	if (ret)
		fdpkv_seterr(err, errlen, "device '%s': format: %s", d->dev.uri, strerror(-ret));
	return ret;
}

/* Read both superblock copies; repair a bad one from the good one. */
static int read_superblock(struct devctx *d, struct superblock *sb)
{
	uint32_t lba = d->dev.geo.lba_size;
	struct superblock cp[2];
	int rc[2], pick, ret;
	void *buf;

	if (posix_memalign(&buf, STAGING_ALIGN, 2 * (size_t)lba))
		return -ENOMEM;
	ret = engine_io_sync(d->eng, IO_READ, 0, 2 * (uint64_t)lba, buf, 0);
	if (ret) {
		free(buf);
		return ret;
	}
	rc[0] = sb_decode(buf, lba, &cp[0]);
	rc[1] = sb_decode((uint8_t *)buf + lba, lba, &cp[1]);
	free(buf);
	pick = sb_choose(cp, rc);
	if (pick < 0)
		return rc[0] == -ENODATA && rc[1] == -ENODATA ? -ENODATA : -EBADMSG;
	*sb = cp[pick];
	if (rc[0] || rc[1] || memcmp(&cp[0], &cp[1], sizeof(cp[0]))) {
		d->sb = *sb;
		write_superblocks(d);	/* best effort: the good copy still holds */
	}
	return 0;
}

static int open_devices(struct fdpkv_cache *c, char *err, size_t errlen)
{
	struct superblock sbs[FDPKV_MAX_DEVICES];
	int rcs[FDPKV_MAX_DEVICES];
	unsigned int i, nvalid = 0;
	uint8_t uuid[16];
	int ret;

	for (i = 0; i < c->ndev; i++) {
		struct devctx *d = &c->devs[i];

		d->cache = c;
		d->idx = i;
		ret = backend_open(&d->dev, c->cfg.devices[i], &c->cfg,
				   c->cfg.format != FDPKV_FORMAT_NEVER, err, errlen);
		if (ret)
			return ret;
		ret = engine_start(&d->eng, &d->dev, MAX(c->cfg.queue_depth, 1u));
		if (ret) {
			fdpkv_seterr(err, errlen, "device '%s': io_uring: %s", d->dev.uri,
				     strerror(-ret));
			return ret;
		}
		rcs[i] = read_superblock(d, &sbs[i]);
		if (rcs[i] && rcs[i] != -ENODATA && rcs[i] != -EBADMSG) {
			fdpkv_seterr(err, errlen, "device '%s': reading the superblock: %s",
				     d->dev.uri, strerror(-rcs[i]));
			return rcs[i];
		}
		nvalid += rcs[i] == 0;
	}
	if (c->cfg.format != FDPKV_FORMAT_ALWAYS && nvalid == c->ndev) {
		for (i = 0; i < c->ndev; i++) {
			struct devctx *d = &c->devs[i];
			const struct superblock *sb = &sbs[i];
			const char *why = NULL;

			if (memcmp(sb->uuid, sbs[0].uuid, 16) || sb->ndevices != c->ndev)
				why = "belongs to another cache or device set";
			else if (sb->dev_index != i)
				why = "is listed in a different position than when formatted";
			else if (sb->lba_size != d->dev.geo.lba_size)
				why = "has a different LBA size than when formatted";
			else if (sb->capacity > d->dev.geo.capacity)
				why = "is smaller than when formatted";
			else if (c->cfg.segment_bytes && c->cfg.segment_bytes != sb->segment_bytes)
				why = "was formatted with a different segment_size";
			if (why) {
				fdpkv_seterr(err, errlen, "device '%s' %s (format=always reformats)",
					     d->dev.uri, why);
				return -EINVAL;
			}
			d->sb = *sb;
		}
		return 0;
	}
	if (c->cfg.format == FDPKV_FORMAT_NEVER || (c->cfg.format == FDPKV_FORMAT_AUTO && nvalid)) {
		for (i = 0; i < c->ndev && rcs[i] == 0; i++)
			;
		fdpkv_seterr(err, errlen, "device '%s' holds %s (format=%s)", c->devs[i].dev.uri,
			     rcs[i] == -EBADMSG ? "a damaged fdpkv superblock" : "no fdpkv cache",
			     c->cfg.format == FDPKV_FORMAT_NEVER ? "auto creates one"
								 : "always reformats the set");
		return rcs[i] == -EBADMSG ? -EBADMSG : -ENODATA;
	}
	if (getrandom(uuid, sizeof(uuid), 0) != sizeof(uuid))
		return -EIO;
	for (i = 0; i < c->ndev; i++) {
		ret = format_device(c, &c->devs[i], uuid, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

static void cache_free(struct fdpkv_cache *c)
{
	unsigned int i;
	struct evicted *ev, *next;

	for (i = 0; i < c->ndev; i++) {
		engine_stop(c->devs[i].eng);
		free(c->devs[i].zeros);
		free(c->devs[i].dreq);
		c->devs[i].eng = NULL;
		backend_close(&c->devs[i].dev);
		segs_destroy(&c->devs[i].segs);
	}
	index_destroy(&c->ix);
	cq_destroy(&c->cq);
	for (ev = c->ev_head; ev; ev = next) {
		next = ev->next;
		free(ev);
	}
	free(c->buckets);
	staging_pool_destroy(&c->pool);
	arenas_free(c);
	pthread_mutex_destroy(&c->arena_lock);
	pthread_mutex_destroy(&c->arena_reg_lock);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->idle);
	free(c);
}

/*
 * Segments are reclaim units: every segment opened from now on must start on
 * an RU boundary of its class's placement id. The last run's open segments
 * (and the superblock) left RUs partly written; move those to fresh ones.
 */
static int align_device(struct devctx *d, unsigned int nclasses, char *err, size_t errlen)
{
	int ret;

	if (!d->dev.ops->ru_align)
		return 0;
	ret = d->dev.ops->ru_align(&d->dev, d->sb.class_pid, nclasses);
	if (ret < 0) {
		fdpkv_seterr(err, errlen, "device '%s': aligning reclaim units: %s", d->dev.uri,
			     strerror(-ret));
		return ret;
	}
	atomic_fetch_add(&d->dev.cnt.ru_realigned, (uint64_t)ret);
	return 0;
}

/*
 * The placement id of wipes (one zeroed LBA per evicted segment). A segment
 * is one reclaim unit of its class's id, kept so by writing exactly one
 * segment's bytes per RU (pads included); one more LBA through a class's id
 * would shift every later segment of that class across two RUs, and each
 * eviction would leave the device live data to copy. So: an id no class
 * uses, when the device has one (its RUs then hold only wipes, invalidated
 * as segments are reused); otherwise the metadata class's, which carries
 * only delete records, is rarely evicted, and so misaligns the least.
 */
static uint16_t wipe_pid_pick(const struct devctx *d, unsigned int nclasses)
{
	const struct fdpkv_geometry *g = &d->dev.geo;
	unsigned int i, k;

	for (i = 0; i < g->npids; i++) {
		for (k = 0; k < nclasses && d->sb.class_pid[k] != g->pids[i]; k++)
			;
		if (k == nclasses)
			return g->pids[i];
	}
	return d->sb.class_pid[FDPKV_CLASS_META];
}

/* Decide whether evicted segments of @d are wiped (struct devctx). */
static void wipe_decide(const struct fdpkv_cache *c, struct devctx *d)
{
	switch (c->cfg.dealloc_zeroes) {
	case FDPKV_DEALLOC_ZEROES_YES:
		d->wipe = false;
		break;
	case FDPKV_DEALLOC_ZEROES_NO:
		d->wipe = true;
		break;
	default:
		d->wipe = !d->dev.geo.dealloc_zeroes;
		break;
	}
	d->wipe_pid = wipe_pid_pick(d, d->sb.nclasses);
}

FDPKV_PUBLIC int fdpkv_open(const struct fdpkv_config *cfg, struct fdpkv_cache **out, char *err,
			    size_t errlen)
{
	struct fdpkv_cache *c;
	unsigned int i;
	int ret;

	if (!cfg || !out || cfg->struct_size < sizeof(*cfg)) {
		fdpkv_seterr(err, errlen, "config: not initialised with fdpkv_config_init");
		return -EINVAL;
	}
	if (cfg->ndevices == 0 || cfg->ndevices > FDPKV_MAX_DEVICES) {
		fdpkv_seterr(err, errlen, "devices: need 1..%d devices", FDPKV_MAX_DEVICES);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	c->cfg.free_segments_low = MAX(cfg->free_segments_low, 1u);
	c->ndev = cfg->ndevices;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->idle, NULL);
	pthread_mutex_init(&c->pool.lock, NULL);
	pthread_mutex_init(&c->arena_lock, NULL);
	pthread_mutex_init(&c->arena_reg_lock, NULL);
	atomic_init(&c->next_id, 1);
	ret = cq_init(&c->cq);
	if (ret) {
		c->cq.efd = -1;
		fdpkv_seterr(err, errlen, "eventfd: %s", strerror(-ret));
		c->ndev = 0;
		cache_free(c);
		return ret;
	}
	ret = index_init(&c->ix, 0);
	if (!ret)
		ret = open_devices(c, err, errlen);
	for (i = 0; !ret && i < c->ndev; i++) {
		struct devctx *d = &c->devs[i];

		memcpy(&d->uuid64, d->sb.uuid, 8);
		for (unsigned int k = 0; k < FDPKV_MAX_CLASSES; k++)
			d->gate[k].cur_seg = UINT32_MAX;
		ret = segs_init(&d->segs, (uint32_t)d->sb.nsegments, d->sb.segment_bytes);
		if (!ret) {
			d->dreq = calloc(d->sb.nsegments, sizeof(*d->dreq));
			ret = d->dreq ? 0 : -ENOMEM;
		}
		wipe_decide(c, d);
	}
	if (!ret) {
		c->nclasses = c->devs[0].sb.nclasses;
		c->ndata = c->devs[0].sb.ndata_classes;
		ret = recovery_scan(c, err, errlen);
	}
	for (i = 0; !ret && i < c->ndev; i++)
		ret = align_device(&c->devs[i], c->nclasses, err, errlen);
	if (ret) {
		if (ret == -ENOMEM)
			fdpkv_seterr(err, errlen, "out of memory");
		cache_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

FDPKV_PUBLIC void fdpkv_close(struct fdpkv_cache *c)
{
	if (!c)
		return;
	atomic_store(&c->closing, true);
	pthread_mutex_lock(&c->lock);
	while (c->inflight_ops)
		pthread_cond_wait(&c->idle, &c->lock);
	pthread_mutex_unlock(&c->lock);
	/* every object is in the device (or page cache); recovery needs nothing else */
	cache_free(c);
}
