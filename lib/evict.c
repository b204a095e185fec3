// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * evict.c - making room: which segment goes and what of it is kept.
 *
 * Eviction is FIFO by segment; with cfg.reinsert the objects of an evicted
 * segment that were read since written are copied to the re-insert class
 * first (see struct reinsert_req in cache.h). Entries that hide older
 * versions are carried (shadow.c) before anything is copied; the segment is
 * deallocated once nothing reads it (reclaim.c).
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"

/*
 * The key of @e, whose segment is being evicted: for its report, its carried
 * delete record or its re-insert copy. Memory holds only its fingerprint, so
 * the key is the one the eviction read back from the device (segkeys.c) at
 * @e's offset, checked against the fingerprint. NULL where the device did
 * not give it (no table: an inline eviction without the summary in memory,
 * or a read that failed or stopped early) or gave one of another
 * fingerprint; each case is counted (cache->segkeys). cache->lock held.
 */
const uint8_t *evicted_key(struct fdpkv_cache *c, const struct index_entry *e, uint32_t *klen)
{
	const struct segment *sg = &c->devs[e->dev].segs.segs[e->seg];
	const uint8_t *k = segkeys_find(sg->keys, e->off_lba, klen);

	if (!k) {
		c->segkeys.missing++;
		return NULL;
	}
	if (*klen != e->klen || index_key_fp(&c->ix, k, *klen) != e->fp) {
		c->segkeys.wrong++;
		return NULL;
	}
	c->segkeys.found++;
	return k;
}

/* Queue @e on the evicted list (oldest first, unless cfg.report_evicted is
 * off) and drop it. cache->lock held. */
void evict_entry(struct fdpkv_cache *c, struct index_entry *e)
{
	struct devctx *d = &c->devs[e->dev];
	struct evicted *ev = NULL;
	const uint8_t *key = NULL;
	uint32_t klen = 0;

	/* a key not read back is not reported: nobody could name it */
	if (c->cfg.report_evicted)
		key = evicted_key(c, e, &klen);
	if (key)
		ev = malloc(sizeof(*ev) + klen);
	if (ev) {
		ev->next = NULL;
		ev->vlen = e->vlen;
		ev->klen = klen;
		memcpy(ev->key, key, klen);
		if (c->ev_tail)
			c->ev_tail->next = ev;
		else
			c->ev_head = ev;
		c->ev_tail = ev;
	}
	atomic_fetch_add(&c->st.evicted_objects, 1);
	/* still on the device until its segment is free (ghost.c) */
	if (d->segs.segs[e->seg].state == SEG_RECLAIM)
		ghost_add(&d->ghosts, e->seg, index_entry_fp(e), e->klen);
	entry_drop(c, e);
}

/* Oldest entry of a segment: entries are pushed at the head. */
struct index_entry *seg_oldest(const struct segment *sg)
{
	return sg->oldest;
}
/*
 * Is a write of @e's key reserved and not yet committed? By fingerprint: a
 * write of another key that shares it only skips a re-insert copy.
 * cache->lock held.
 */
static bool key_write_pending(const struct devctx *d, const struct index_entry *e)
{
	return pend_has_fp(&d->pend, index_entry_fp(e), e->klen);
}

/* The steps of evicting a segment, in order (struct segment: evict_phase). */
enum {
	EVICT_RECORDS = 0,	/* carry its delete records that still hide something */
	EVICT_SHADOWS,		/* drop its entries that hide older versions */
	EVICT_ENTRIES,		/* copy (cfg.reinsert) or drop the rest */
};

/*
 * Start evicting segment @s: nothing below may pick it again, and it is not
 * deallocated before evict_step is done with it. cache->lock held.
 */
void evict_begin(struct devctx *d, uint32_t s)
{
	struct segment *sg = &d->segs.segs[s];

	sg->state = SEG_RECLAIM;
	d->segs.nreclaim++;
	sg->evicting = true;
	sg->evict_phase = EVICT_RECORDS;
	sg->evict_next = NULL;
}

/*
 * Evict segment @s, begun by evict_begin: drop its entries (reported by
 * fdpkv_take_evicted, oldest first) or, with cfg.reinsert, copy those read
 * since written and still live, then deallocate it whole. At most @budget
 * entries and records per call; returns true once the segment is done.
 * cache->lock held.
 *
 * Between two calls the cache lock may be released (the evictor does, so
 * that a submit waits for one batch at most, never for a whole segment).
 * What another thread sees of the half-evicted segment meanwhile: its state
 * is SEG_RECLAIM, so it is never picked again, reserved into or written;
 * it is not deallocated (seg_try_dealloc waits for evicting to clear), so
 * its bytes stay readable. Entries not yet dropped are live exactly as
 * those of a segment whose re-insert copies are in flight: a GET reads
 * them (and pins the segment as readers), EXISTS finds them, a SET or
 * DELETE of their key replaces or drops them (seg_unlink moves the cursor
 * past an entry that leaves), and a DELETE's record hides everything
 * written so far since its segment is SEG_RECLAIM (run_delete). Only
 * LOOKUP_LOCK refuses them (-ENOENT): a lock must keep its key, and this
 * segment's keys are going. Entries dropped already are misses, as after
 * any eviction. No entry joins the segment meanwhile (nothing commits into
 * a RECLAIM segment), and its delete records stay on @pending until
 * carried, so the last free segment stays kept for them (shadow.c).
 */
bool evict_step(struct devctx *d, uint32_t s, uint32_t budget)
{
	struct fdpkv_cache *c = d->cache;
	struct segment *sg = &d->segs.segs[s];
	struct index_entry *e;

	/*
	 * Carried records first, copies after: a copy may take the last free
	 * segment and is dropped when there is none, while a carried record
	 * must wait for one; if copies went first, this segment could wait for
	 * a record that waits for room only this segment gives back. Entries
	 * that hide an older version are therefore not copied (rare).
	 */
	if (sg->evict_phase == EVICT_RECORDS) {
		struct shadow_rec *rec;

		for (; budget && (rec = sg->pending); budget--) {
			sg->pending = rec->next;
			sg->npending--;
			shadow_carry(d, s, rec);
		}
		if (sg->pending)
			return false;
		sg->evict_phase = EVICT_SHADOWS;
		sg->evict_next = sg->shadows ? sg->oldest : NULL;
	}
	if (sg->evict_phase == EVICT_SHADOWS) {
		for (; budget && (e = sg->evict_next); budget--) {
			sg->evict_next = index_seg_prev(&c->ix, e);
			if (e->flags & IDX_F_SHADOW)
				evict_entry_shadow(d, s, e);
		}
		if (sg->evict_next)
			return false;
		sg->evict_phase = EVICT_ENTRIES;
		sg->evict_next = sg->oldest;
	}
	for (; budget && (e = sg->evict_next); budget--) {
		sg->evict_next = index_seg_prev(&c->ix, e);
		if (c->cfg.reinsert && (e->flags & IDX_F_READ) && !key_write_pending(d, e) &&
		    reinsert_start(d, s, e) == 0)
			continue;
		evict_entry_shadow(d, s, e);
	}
	if (sg->evict_next)
		return false;
	sg->evicting = false;
	atomic_fetch_add(&c->st.evicted_segments, 1);
	seg_try_dealloc(d, s);
	return true;
}

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

/*
 * The segment to evict next while fewer than @want segments are free or
 * being freed (with @seal, sealing the oldest open one first when shadows
 * ask for it, see above), or -1: enough, or nothing can go. cache->lock held.
 */
int64_t evict_pick(struct devctx *d, uint32_t want, bool seal)
{
	if (d->segs.nfree + d->segs.nreclaim >= want)
		return -1;
	if (seal && segs_have_shadows(&d->segs))
		seal_oldest_open(d);
	return segs_pick_victim(&d->segs);
}

/*
 * Evict until @want segments are free or being freed, all under the lock
 * held. Only where there is no evictor thread (evictor.c evicts in batches).
 * Returns how many are.
 */
uint32_t evict_until(struct devctx *d, uint32_t want)
{
	bool seal = true;
	int64_t v;

	while ((v = evict_pick(d, want, seal)) >= 0) {
		seal = false;
		evict_begin(d, (uint32_t)v);
		/* no reads under the lock: the keys only if memory has them */
		d->segs.segs[v].keys = segkeys_from_memory(&d->segs.segs[v]);
		evict_step(d, (uint32_t)v, UINT32_MAX);
	}
	return d->segs.nfree + d->segs.nreclaim;
}
