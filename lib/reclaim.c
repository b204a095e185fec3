// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * reclaim.c - giving an evicted segment back: flush first (durability
 * flush/none), deallocate its first LBA and flush that, then deallocate the
 * rest, zero its first LBA where deallocate may keep the old bytes or else
 * flush the deallocate, then free it, or quarantine it when that zeroing or
 * a flush failed.
 */
#include <errno.h>

#include "cache.h"

static void dealloc_done(struct io_cmd *cmd, int res);
static void head_dealloc_done(struct io_cmd *cmd, int res);
static void reclaim_finish(struct dealloc_req *dr, bool gone);

/*
 * Deallocate segment @dr->seg (its flush, if any, is done): its first LBA
 * alone first, made durable, and only then the rest (head_durable). A
 * deallocate is volatile, and a power cut may tear it LBA by LBA. Were the
 * segment deallocated with one command, a tear could zero a later header of
 * its chain and keep the front: recovery would find an older version of a
 * key without the newer one the same segment held after it (no record is
 * carried for a version hidden in its own segment), or the newer one with
 * its value torn, and fall back to the older (torn.c). An acknowledged SET
 * undone by an older one. Once the first LBA is durably gone the chain has
 * no start, and nothing of it is found, however the rest lands.
 */
static void dealloc_submit(struct dealloc_req *dr)
{
	struct devctx *d = dr->d;

	dr->cmd = (struct io_cmd){
		.op = IO_DEALLOC,
		.off = seg_base(d, dr->seg),
		.len = d->sb.lba_size,
		.done = head_dealloc_done,
		.arg = dr,
	};
	engine_submit(d->eng, &dr->cmd);
}

/* The first LBA's deallocate is durable: the rest of the segment goes. */
static void head_durable(struct io_cmd *cmd, int res)
{
	struct dealloc_req *dr = cmd->arg;
	struct devctx *d = dr->d;

	if (res < 0) {
		/* the front may still be there, so the rest must stay whole */
		atomic_fetch_add(&d->cache->st.io_errors, 1);
		reclaim_finish(dr, false);
		return;
	}
	dr->cmd = (struct io_cmd){
		.op = IO_DEALLOC,
		.off = seg_base(d, dr->seg) + d->sb.lba_size,
		.len = d->sb.segment_bytes - d->sb.lba_size,
		.done = dealloc_done,
		.arg = dr,
	};
	engine_submit(d->eng, &dr->cmd);
}

/*
 * The first LBA is deallocated: flush, before the rest goes. Failed, the
 * bytes may stay: dealloc_done wipes the first LBA instead, and the rest
 * is not deallocated at all (the wipe ends the chain).
 */
static void head_dealloc_done(struct io_cmd *cmd, int res)
{
	struct dealloc_req *dr = cmd->arg;

	if (res < 0) {
		dealloc_done(cmd, res);
		return;
	}
	dr->cmd = (struct io_cmd){
		.op = IO_FLUSH, .done = head_durable, .arg = dr,
	};
	engine_submit(dr->d->eng, &dr->cmd);
}

/* The flush before a deallocate is done (device thread, no cache->lock). */
static void dealloc_flushed(struct io_cmd *cmd, int res)
{
	struct dealloc_req *dr = cmd->arg;

	if (res < 0)
		atomic_fetch_add(&dr->d->cache->st.io_errors, 1);
	dealloc_submit(dr);
}

/*
 * Deallocate an evicted segment once nothing reads it any more: its eviction
 * done (evict_step), no re-insert copy, no carried delete record being
 * written and no GET in flight. Entries
 * still left (copies that failed or were overtaken) are evicted first.
 * cache->lock held.
 */
void seg_try_dealloc(struct devctx *d, uint32_t s)
{
	struct segment *sg = &d->segs.segs[s];
	struct index_entry *e, *prev;
	struct dealloc_req *dr;

	if (sg->state != SEG_RECLAIM || sg->evicting || sg->dealloc_sent || sg->copies ||
	    sg->readers)
		return;
	for (e = seg_oldest(sg); e; e = prev) {
		prev = index_seg_prev(&d->cache->ix, e);
		evict_entry_shadow(d, s, e);
	}
	if (sg->copies)
		return;	/* carried delete records land first: reinsert_finish */
	if (sg->keep) {
		/* a record it holds still hides something and was not carried */
		segs_quarantine(&d->segs, s);
		return;
	}
	sg->dealloc_sent = true;
	dr = &d->dreq[s];
	dr->d = d;
	dr->seg = s;
	if (d->cache->cfg.durability != FDPKV_DURABILITY_FUA) {
		/*
		 * What hides this segment's dead objects (delete records,
		 * newer versions, carried records behind user records not
		 * yet flushed) must be durable before the objects go: else a
		 * power loss could leave a hole in front of a hiding record,
		 * recovery would stop there, and the objects, gone from the
		 * device or not, would be looked for again. With
		 * durability=none too: a version that took over a hiding
		 * duty (shadow.c) may be done but not flushed, and once the
		 * objects it hid are gone a cut that loses it brings back an
		 * older one. One flush per evicted segment.
		 */
		dr->cmd = (struct io_cmd){
			.op = IO_FLUSH, .done = dealloc_flushed, .arg = dr,
		};
		engine_submit(d->eng, &dr->cmd);
		return;
	}
	dealloc_submit(dr);
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
static void dealloc_durable(struct io_cmd *cmd, int res);

/*
 * The evicted segment @dr->seg is gone for recovery (@gone): free it. Else
 * its chain may still be there, so it is quarantined: never reused while
 * this cache is open (after a restart recovery finds its objects again,
 * intact as their crcs prove, and evicts them anew), and the delete records
 * of metadata segments stay pinned by it (segs_pick_victim) so no deleted
 * key can come back with it. Either way one segment less is pending:
 * waiters retry (or fail). Runs without cache->lock.
 */
static void reclaim_finish(struct dealloc_req *dr, bool gone)
{
	struct devctx *d = dr->d;
	struct fdpkv_cache *c = d->cache;
	struct key_req *failed = NULL;

	cache_lock(c);
	if (gone) {
		ghost_forget_segment(&d->ghosts, dr->seg);
		segs_free(&d->segs, dr->seg);
	} else
		segs_quarantine(&d->segs, dr->seg);
	retry_waiters(d, &failed);
	cache_unlock(c);
	complete_failed(failed);
}

/*
 * Segment @dr->seg is deallocated (or that failed): free it, or first zero
 * its first LBA, which ends its chain for recovery. Runs without cache->lock.
 */
static void dealloc_done(struct io_cmd *cmd, int res)
{
	struct dealloc_req *dr = cmd->arg;
	struct devctx *d = dr->d;
	struct fdpkv_cache *c = d->cache;
	void *zeros;

	if (res < 0)
		atomic_fetch_add(&c->st.io_errors, 1);
	cache_lock(c);
	/* a failed deallocate may have left the bytes even on a device that zeroes */
	if (res < 0 || dealloc_needs_wipe(d)) {
		zeros = zeros_get(d);
		cache_unlock(c);
		dr->wipe = (struct io_cmd){
			.op = IO_WRITE,
			/* see wipe_pid_pick */
			.pid = d->wipe_pid,
			.off = seg_base(d, dr->seg),
			.len = d->sb.lba_size,
			.buf = zeros,
			/* the segment is reused once this is done: make it last,
			 * whatever the durability (see dealloc_durable) */
			.dsync = true,
			.done = wipe_done,
			.arg = dr,
		};
		if (zeros)
			engine_submit(d->eng, &dr->wipe);
		else
			wipe_done(&dr->wipe, -ENOMEM);
		return;
	}
	cache_unlock(c);
	/*
	 * A deallocate is volatile like a write: lost or torn by a power
	 * cut, it leaves the segment's old chain (or a part of it) for
	 * recovery to walk. Once the segment is free, the delete records
	 * that hid its dead objects expire (segs_shadow_needed) and its
	 * keys are forgotten (ghost.c): a new version of one of them is then
	 * written, with durability=none, without a flush, and a cut that
	 * loses it while the deallocate was lost too brings back the
	 * evicted version. So it must be durable first, in every mode.
	 */
	dr->cmd = (struct io_cmd){
		.op = IO_FLUSH, .done = dealloc_durable, .arg = dr,
	};
	engine_submit(d->eng, &dr->cmd);
}

/*
 * The zero write of an evicted segment's first LBA is done (FUA, in every
 * durability mode). Only now may the segment be reused: freed
 * earlier, a restart before its next use would find its old chain.
 */
static void wipe_done(struct io_cmd *cmd, int res)
{
	struct dealloc_req *dr = cmd->arg;

	if (res < 0)
		atomic_fetch_add(&dr->d->cache->st.io_errors, 1);
	else
		atomic_fetch_add(&dr->d->wiped_segments, 1);
	reclaim_finish(dr, res >= 0);
}

/* The flush after a deallocate is done (device thread, no cache->lock). */
static void dealloc_durable(struct io_cmd *cmd, int res)
{
	struct dealloc_req *dr = cmd->arg;

	if (res < 0)
		atomic_fetch_add(&dr->d->cache->st.io_errors, 1);
	reclaim_finish(dr, res >= 0);
}
