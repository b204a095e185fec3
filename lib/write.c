// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * write.c - the write path of SET and DELETE: staging, reservation in the
 * class's open segment, submission, and commit in offset order. Internal
 * writes (re-insert copies, carried delete records) share it from
 * reservation on.
 *
 * A SET copies each value behind its header into an LBA-aligned staging
 * buffer (the header must precede the value anyway, and the caller's buffer
 * may have any alignment and length), reserves space in its class's open
 * segment and writes the object with one command. A value in a registered
 * arena (arena.c) is not copied: only header and key are staged, in a block of
 * their own (OBJ_F_ALIGNED), and the command's second part is the caller's
 * buffer. A bounced value larger than one copy piece is staged by the copy
 * workers and written piece by piece, header last (pieces.c); it reserves
 * its slot here all the same, in submission order. A key is acknowledged only
 * when every earlier write of the same segment has completed too: recovery
 * walks a segment's header chain and stops at the first hole, so an object
 * behind a hole left by a crash would be unreachable. Completion order within
 * a segment therefore equals offset order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

static void write_done(struct io_cmd *cmd, int res);

/* Is a DELETE of @kr's key (or of a key of its fingerprint: one key to the
 * index) reserved and not yet committed? cache->lock held. */
static bool delete_in_flight(const struct devctx *d, const struct key_req *kr)
{
	const struct key_req *p = NULL;

	while ((p = pend_find(&d->pend, p, kr->key, kr->klen)))
		if (p->op && (p->flags & OBJ_F_TOMBSTONE))
			return true;
	return false;
}

/* Take the next slot of @kr's class and queue @kr in its segment's write
 * FIFO. cache->lock held. 0, -ENOSPC (no free segment), -EFBIG or
 * -EOVERFLOW (the sequence lease is used up: lease.c). */
int slot_reserve(struct devctx *d, struct key_req *kr)
{
	struct fdpkv_cache *c = d->cache;
	struct seg_table *t = &d->segs;
	struct segment *sg;
	int ret;

	/* the last free segment may be kept for internal writes (shadow.c) */
	if (shadow_keeps_segment(d, kr))
		return -ENOSPC;
	/* a segment takes two sequences at most; past the lease a restart could reuse them */
	if (!seq_lease_covers(c, 2))
		return -EOVERFLOW;
	ret = segs_reserve(t, kr->cls, kr->size, kr->klen, &c->seq, &kr->seg, &kr->off);
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
	pend_add(&d->pend, kr);
	return 0;
}
void obj_stage_header(struct devctx *d, struct key_req *kr, uint64_t seg_seq)
{
	struct obj_hdr h;

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
}

/* Encode @kr's header into its staging image and write it (a value moved
 * in pieces: let its pieces go, pieces.c). cache->lock held (for the gate's
 * bookkeeping); the slot is reserved. */
void write_submit(struct devctx *d, struct key_req *kr, uint64_t seg_seq)
{
	struct fdpkv_cache *c = d->cache;
	uint32_t prev = d->gate[kr->cls].cur_seg;
	/* copies are not covered by a user's flush: make them durable
	 * themselves whenever the user asked for durability */
	bool dsync = kr->op ? c->cfg.durability == FDPKV_DURABILITY_FUA
			    : c->cfg.durability != FDPKV_DURABILITY_NONE;

	/* the invariant the gate keeps, measured where writes leave */
	if (d->dev.geo.ru_bytes && prev != UINT32_MAX && prev != kr->seg &&
	    d->segs.segs[prev].writes && d->segs.segs[prev].cls == kr->cls)
		atomic_fetch_add(&c->st.segment_overlaps, 1);
	d->gate[kr->cls].cur_seg = kr->seg;

	if (kr->op)
		atomic_fetch_or(&kr->op->dev_mask, 1u << kr->dev);
	if (kr->pipe) {
		pipe_write_go(d, kr, seg_seq, dsync);
		return;
	}
	obj_stage_header(d, kr, seg_seq);
	kr->cmd = (struct io_cmd){
		.op = IO_WRITE,
		.pid = d->sb.class_pid[kr->cls],
		.dsync = dsync,
		.off = seg_base(d, kr->seg) + kr->off,
		.len = kr->size,
		.buf = kr->staging,
		.done = write_done,
		.arg = kr,
	};
	cmd_value_part(kr);
	engine_submit(d->eng, &kr->cmd);
}
/*
 * Count (@n 1) or uncount (-1) @kr among the writes waiting for a free
 * segment: an internal write keeps the segment it comes from waiting too.
 * cache->lock held.
 */
void waiter_count(struct devctx *d, const struct key_req *kr, int n)
{
	if (!kr->op)
		d->segs.segs[((const struct reinsert_req *)kr)->src_seg].copies_waiting += n;
}

/*
 * Will a segment become free without more eviction? One being deallocated
 * will (or be quarantined, which retries the waiters too), and so will one
 * with reads or copies under way, or one the evictor is evicting (between
 * two batches, or while it reads the segment's keys: segkeys.c), which its
 * pass then frees or leaves to this rule; not one whose copies all wait for
 * room themselves. cache->lock held.
 */
static bool seg_moving(const struct segment *sg)
{
	return sg->state == SEG_RECLAIM &&
	       (sg->dealloc_sent || sg->readers || sg->copies > sg->copies_waiting ||
		sg->evicting);
}

bool reclaim_moving(const struct devctx *d)
{
	uint32_t i;

	for (i = 0; i < d->segs.n; i++)
		if (seg_moving(&d->segs.segs[i]))
			return true;
	return false;
}

/*
 * No free segment and none on its way (every segment being reclaimed waits
 * for room itself, as when deallocates keep failing and quarantine the
 * segments that would have been free): evict more, one segment at a time,
 * until one is on its way. Returns whether one is, or will be.
 *
 * With an evictor thread that is its work (evictor_unstick): here the lock
 * is held, on a device thread or inside a write, and an eviction must read
 * its segment's keys without it (segkeys.c). It is asked when something
 * can be evicted, and fails the waiting writes itself when nothing could.
 * Without one (closing) evict inline, as before.
 * cache->lock held.
 */
static bool reclaim_unstick(struct devctx *d)
{
	struct fdpkv_cache *c = d->cache;

	if (c->evictor && !d->segs.nfree && !reclaim_moving(d)) {
		/* what evict_pick may take: a sealed segment, or the oldest
		 * open one it seals while shadows ask for it */
		if (segs_pick_victim(&d->segs) < 0 && !segs_have_shadows(&d->segs))
			return false;
		d->unstick = true;
		evictor_kick(c);
		return true;
	}
	while (!d->segs.nfree && !reclaim_moving(d)) {
		uint32_t have = d->segs.nfree + d->segs.nreclaim;

		if (evict_until(d, have + 1) <= have)
			return false;
	}
	return true;
}

/*
 * Something that kept segment @s on its way to free is over: its last read,
 * a re-insert copy's write, a user write that took over a record's hiding
 * duty (shadow.c). Evicted meanwhile, the segment may go now. And if that
 * was all that kept any segment on its way while writes wait (every other
 * copy a carried record waiting for room itself), nothing else would wake
 * them: these ends are no event they wait on (a reclaim_finish, an eviction
 * pass are). Unstick them, or have the evictor's retry fail them when
 * nothing can be evicted. The crash checker hung so, twice: 0 free
 * segments, 3 and 6 reclaiming, their carried records waiting, SETs
 * waiting, every thread idle. cache->lock held.
 */
void seg_released(struct devctx *d, uint32_t s)
{
	const struct segment *sg = &d->segs.segs[s];
	bool reclaiming = sg->state == SEG_RECLAIM;

	seg_try_dealloc(d, s);
	/* only a segment that stops moving can stop them all: one scan per
	 * segment, not one per copy of it that ends */
	if (reclaiming && !seg_moving(sg) && d->waiters && !d->segs.nfree &&
	    !reclaim_moving(d) && !reclaim_unstick(d))
		evictor_kick(d->cache);
}

/* Queue @kr last among the writes waiting for a free segment. cache->lock held. */
static void wait_for_room(struct devctx *d, struct key_req *kr)
{
	waiter_count(d, kr, 1);
	kr->wait_next = NULL;
	if (d->waiters_tail)
		d->waiters_tail->wait_next = kr;
	else
		d->waiters = kr;
	d->waiters_tail = kr;
}

/*
 * A DELETE's record has its place: the key leaves memory now, as it will
 * leave the device's view once the record is written (recovery reads the
 * record). Looked up here, not remembered: reserving may have evicted or
 * re-inserted it. Until the record has a place the key stays, so a DELETE
 * that fails for lack of room (-ENOSPC from the evictor) leaves memory and
 * device agreeing. cache->lock held.
 */
static void delete_drop_key(struct fdpkv_cache *c, struct key_req *kr)
{
	struct index_entry *e = index_find(&c->ix, kr->key, kr->klen);

	kr->drops = false;
	if (!e)
		return;
	/*
	 * The object stays on the device until its segment is free, hidden
	 * only by this record, which is not durable yet: a SET of the key
	 * meanwhile must hide it too (ghost.c), or durability=none answers
	 * that SET unflushed and a cut that loses both brings the object
	 * back.
	 */
	ghost_add(&c->devs[e->dev].ghosts, e->seg, e->fp, e->klen);
	entry_drop(c, e);
}

/* Queue @kr for room: a carried record first in line (the segment it is
 * carried from waits for it), any other write last. cache->lock held. */
static void queue_for_room(struct devctx *d, struct key_req *kr)
{
	if (kr->carry)
		shadow_wait_first(d, kr);
	else
		wait_for_room(d, kr);
}

/*
 * Reserve space for @kr and submit its write, or queue it until a segment
 * being deallocated is free. Called with cache->lock held. Returns 0 when
 * submitted or queued, else -errno (the caller completes the key).
 *
 * Only the evictor (evictor.c) evicts: a write without room, a user's or a
 * carried record retried on a device thread, queues and kicks it, so
 * fdpkv_submit never blocks on eviction and no device thread holds the
 * lock for one. On the evictor's own thread a write without room waits
 * while a segment is being freed or can be evicted (kicking the next pass)
 * and fails with -ENOSPC when everything left is pinned. Without an
 * evictor thread, writes evict inline as they always did.
 */
int reserve_and_submit(struct key_req *kr)
{
	struct fdpkv_cache *c = kr_cache(kr);
	struct devctx *d = &c->devs[kr->dev];
	bool self = evictor_is_self(c);
	int ret;

	/*
	 * A carried record gets its sequence only now: one that waited for
	 * room while the key was set again would hide the new version.
	 */
	if (kr->carry && shadow_carry_overtaken(d, kr))
		return -ECANCELED;
	ret = slot_reserve(d, kr);
	if (ret == -ENOSPC && !self) {
		queue_for_room(d, kr);
		evictor_kick(c);
		return 0;
	}
	if (ret == -ENOSPC) {
		if (!c->evictor) {
			/* one more while the last free segment is kept (shadow.c) */
			evict_until(d, MAX(1u, c->cfg.free_segments_low) +
				       shadow_kept_segments(d));
		} else if (!d->segs.nreclaim && segs_pick_victim(&d->segs) >= 0) {
			/* the evictor's thread: its next pass evicts, in batches */
			queue_for_room(d, kr);
			evictor_kick(c);
			return 0;
		}
		/* everything left is pinned, or nothing will free: fail, never wait forever */
		if (!d->segs.nreclaim)
			return -ENOSPC;
		if (!reclaim_unstick(d)) {
			evictor_kick(c);	/* fails what waits already: retry_waiters */
			return -ENOSPC;
		}
		queue_for_room(d, kr);
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
	if (kr->drops)
		delete_drop_key(c, kr);
	if (d->segs.nfree < c->cfg.free_segments_low && c->evictor) {
		evictor_kick(c);	/* keeps the reserve ahead of need */
	} else if (d->segs.nfree < c->cfg.free_segments_low) {
		uint32_t want = c->cfg.free_segments_low;

		/* one more while the last free segment is kept (shadow.c);
		 * looked up once per segment opened, not per write */
		if (d->segs.nfree + d->segs.nreclaim <= want)
			want += shadow_kept_segments(d);
		evict_until(d, want);
	}
	return 0;
}

/* Retry queued writes after a segment became free. cache->lock held;
 * keys that fail are chained on @failed for completion outside the lock. */
void retry_waiters(struct devctx *d, struct key_req **failed)
{
	struct key_req *kr = d->waiters, *next;

	d->waiters = d->waiters_tail = NULL;
	for (; kr; kr = next) {
		next = kr->wait_next;
		waiter_count(d, kr, -1);
		d->waiter_retries++;
		kr->io_res = reserve_and_submit(kr);
		if (kr->io_res) {
			kr->wait_next = *failed;
			*failed = kr;
		}
	}
	/*
	 * Evictions above may have queued carried records. If no segment can
	 * become free any more, they never would get one, and the segments
	 * they come from would wait for them for ever (close too): fail them
	 * (reinsert_finish then keeps those segments, quarantined).
	 */
	if (d->waiters && !reclaim_unstick(d))
		waiters_fail(d, failed);
}

void waiters_fail(struct devctx *d, struct key_req **failed)
{
	struct key_req *kr, *next;

	for (kr = d->waiters; kr; kr = next) {
		next = kr->wait_next;
		waiter_count(d, kr, -1);
		kr->io_res = -ENOSPC;
		kr->wait_next = *failed;
		*failed = kr;
	}
	d->waiters = d->waiters_tail = NULL;
}

void complete_failed(struct key_req *failed)
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
	bool shadow = kr->shadows, replaced;

	atomic_fetch_add(&c->st.class_bytes[kr->cls], kr->size);
	atomic_fetch_add(&c->st.bytes_written, kr->size);
	if (kr->arena)
		atomic_fetch_add(&c->st.direct_bytes, kr->vlen);
	if (kr->flags & OBJ_F_TOMBSTONE) {
		if (kr->op)
			atomic_fetch_or(&kr->op->hide_mask, 1u << kr->dev);
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
	replaced = e != NULL;
	if (e) {
		struct segment *old = &c->devs[e->dev].segs.segs[e->seg];

		/* the version replaced stays on the device (a copy's source is
		 * the same version), and so does anything it hid */
		shadow |= (e->flags & IDX_F_SHADOW) ||
			  (kr->op && (e->dev != kr->dev || e->seg != kr->seg));
		seg_unlink(&c->ix, old, e);
		old->live_objs--;
		old->live_bytes -= e->vlen;
		if (e->lock) {
			old->locked--;
			sg->locked++;
		}
		usage_uncount(c, e);
	} else {
		e = index_insert(&c->ix, kr->key, kr->klen);
		if (!e)
			return -ENOMEM;
		/* an evicted version may still be on the device (ghost.c) */
		shadow |= ghost_find(&d->ghosts, index_entry_fp(e), kr->klen);
	}
	e->vlen = kr->vlen;
	e->dev = kr->dev;
	e->seg = kr->seg;
	e->off_lba = (uint32_t)(kr->off / d->sb.lba_size);
	e->flags = (shadow ? IDX_F_SHADOW : 0) |
		   ((kr->flags & OBJ_F_ALIGNED) ? IDX_F_ALIGNED : 0);
	if (kr->op && (shadow || replaced))
		atomic_fetch_or(&kr->op->hide_mask, 1u << kr->dev);
	seg_link(&c->ix, sg, e);
	sg->live_objs++;
	sg->live_bytes += e->vlen;
	usage_count(c, e, kr->key, kr->klen);
	return 0;
}

static void write_done(struct io_cmd *cmd, int res)
{
	write_complete(cmd->arg, res);
}

void write_complete(struct key_req *kr, int res)
{
	struct key_req *h, *done = NULL, **tail = &done;
	struct fdpkv_cache *c = kr_cache(kr);
	struct devctx *d = &c->devs[kr->dev];
	struct segment *sg;

	if (res < 0)
		atomic_fetch_add(&c->st.io_errors, 1);
	cache_lock(c);
	sg = &d->segs.segs[kr->seg];
	kr->io_done = true;
	kr->io_res = res;
	/* acknowledge in offset order: see the comment at the top */
	while ((h = sg->wq_head) && h->io_done) {
		sg->wq_head = h->wq_next;
		if (!sg->wq_head)
			sg->wq_tail = NULL;
		pend_del(&d->pend, h);
		sg->writes--;
		if (h->io_res < 0 && !sg->broken) {
			sg->broken = true;
			segs_seal(&d->segs, kr->seg);
		}
		if (sg->broken) {
			h->io_res = h->io_res < 0 ? h->io_res : -EIO;
			summary_drop(sg);
		} else {
			/* the summary lists what is on the device, kept or not */
			summary_add(d, sg, h);
			h->io_res = commit_object(c, h);
		}
		h->wait_next = NULL;
		*tail = h;
		tail = &h->wait_next;
	}
	if (!sg->writes)
		summary_kick(d, kr->seg);	/* may write again: checks @writes itself */
	if (!sg->writes)
		gate_release(d);
	for (h = done; h; h = h->wait_next)
		if (h->nheld)
			shadow_release_held(d, h);
	cache_unlock(c);
	for (h = done; h; h = kr) {
		kr = h->wait_next;
		if (h->op)
			key_done(h, h->io_res == 0 && h->absent ? -ENOENT : h->io_res, h->vlen);
		else
			reinsert_finish(h);
	}
}
/* ---- SET / DELETE ------------------------------------------------------------ */


void run_set(struct fdpkv_cache *c, struct op *op, const struct fdpkv_buf *bufs)
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
		atomic_fetch_add(&c->st.sets, 1);
		/* checked before any size is computed: a length near 2^64 wraps */
		if (kr->vlen > d->sb.segment_bytes) {
			key_done(kr, -EFBIG, 0);
			continue;
		}
		kr->arena = arena_get(c, d, bufs[i].base, bufs[i].len);
		kr->flags = kr->arena ? OBJ_F_ALIGNED : 0;
		kr->size = obj_extent(kr->klen, kr->vlen, kr->flags, d->sb.lba_size);
		if (kr->size > d->sb.segment_bytes) {
			key_done(kr, -EFBIG, 0);
			continue;
		}
		if (pipe_wanted(c, kr, d->sb.lba_size))
			ret = pipe_stage_start(c, kr, bufs[i].base);
		else if (pipe_direct_wanted(c, kr, d->sb.lba_size))
			ret = pipe_direct_stage_start(c, kr, bufs[i].base);
		else
			ret = stage_object(c, kr, bufs[i].base);
		if (!ret) {
			cache_lock(c);
			ret = reserve_and_submit(kr);
			cache_unlock(c);
		}
		if (ret)
			key_done(kr, ret, 0);
	}
}

void run_delete(struct fdpkv_cache *c, struct op *op)
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
		cache_lock(c);
		e = index_find(&c->ix, kr->key, kr->klen);
		if (ret)
			;	/* -ENOMEM: said as it is, whatever the key's state */
		else if (!e && delete_in_flight(&c->devs[kr->dev], kr)) {
			/*
			 * Absent because a DELETE of the key (or of one of its
			 * fingerprint) still in flight dropped it: its record
			 * may not be durable yet, and a cut that loses it
			 * would undo this answer too. This one writes its
			 * own, behind it, hiding all written so far.
			 */
			kr->shadow->bound = c->seq + 1;
			kr->absent = true;
			ret = reserve_and_submit(kr);
		} else if (!e && shadow_evicted_remains(&c->devs[kr->dev], kr->shadow)) {
			/*
			 * Absent, but an evicted version may be on the device
			 * until its segment is free: a restart would find it,
			 * and the DELETE answered -ENOENT would be undone. The
			 * record keeps it hidden.
			 */
			kr->absent = true;
			ret = reserve_and_submit(kr);
		} else if (!e)
			ret = -ENOENT;
		else if (e->lock)
			ret = -EBUSY;
		else {
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
			 * Gone from memory once its delete record has a place
			 * (delete_drop_key(), now or when a queued record
			 * gets room); the record makes it stay gone after a
			 * restart, where the older object would otherwise be
			 * found again by the scan. Without a place (-ENOSPC,
			 * -EOVERFLOW) the key stays, as it stays on the
			 * device: a failed DELETE never leaves memory and
			 * device disagreeing.
			 */
			kr->drops = true;
			ret = reserve_and_submit(kr);
		}
		cache_unlock(c);
		if (ret)
			key_done(kr, ret, 0);
	}
}
