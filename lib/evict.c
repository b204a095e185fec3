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

/* Queue @e on the evicted list (oldest first) and drop it. cache->lock held. */
void evict_entry(struct fdpkv_cache *c, struct index_entry *e)
{
	struct evicted *ev = malloc(sizeof(*ev) + e->klen);
	struct devctx *d = &c->devs[e->dev];

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
	/* still on the device until its segment is free (ghost.c) */
	if (d->segs.segs[e->seg].state == SEG_RECLAIM)
		ghost_add(&d->ghosts, e->seg, e->key, e->klen);
	entry_drop(c, e);
}

/* Oldest entry of a segment: entries are pushed at the head. */
struct index_entry *seg_oldest(const struct segment *sg)
{
	struct index_entry *e;

	for (e = sg->entries; e && e->seg_next; e = e->seg_next)
		;
	return e;
}
/* Is a write of @e's key reserved and not yet committed? cache->lock held. */
static bool key_write_pending(const struct devctx *d, const struct index_entry *e)
{
	return pend_find(&d->pend, NULL, e->key, e->klen) != NULL;
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
	for (e = seg_oldest(sg); e; e = prev) {
		prev = e->seg_prev;
		if (c->cfg.reinsert && (e->flags & IDX_F_READ) && !key_write_pending(d, e) &&
		    reinsert_start(d, s, e) == 0)
			continue;
		evict_entry_shadow(d, s, e);
	}
	atomic_fetch_add(&c->st.evicted_segments, 1);
	seg_try_dealloc(d, s);
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

/* Evict until @want segments are free or being freed. Returns how many are. */
uint32_t evict_until(struct devctx *d, uint32_t want)
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
