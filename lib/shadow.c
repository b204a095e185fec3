// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shadow.c - shadowed objects and carried delete records.
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
 * version of the key takes the duty over instead; a record that waited for
 * room looks again when it takes its slot, since only then does it get its
 * sequence). Nothing here runs when
 * nothing is shadowed: SET and GET do no extra I/O, and eviction only looks
 * at segments whose counters say they hold something to carry. Carried
 * records need room in the metadata class while the device is full: while
 * anything is shadowed, user writes leave the last free segment to them.
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"

/* ---- the last free segment, kept for carried records ------------------------ */

/*
 * While anything is shadowed, the last free segment is left to the
 * internal writes of evictions (carried delete records, re-insert
 * copies): the segment evicted is deallocated only once they are
 * written, so if user writes could take it, every eviction could end
 * up waiting for room that only an eviction gives back.
 *
 * Must the reservation of @kr fail to leave that segment alone? Only a
 * user write that needs a new segment must. cache->lock held.
 */
bool shadow_keeps_segment(const struct devctx *d, const struct key_req *kr)
{
	const struct seg_table *t = &d->segs;

	return kr->op && t->nfree <= 1 &&
	       (t->open[kr->cls] < 0 || t->segs[t->open[kr->cls]].broken ||
		t->segs[t->open[kr->cls]].used + kr->size > t->seg_bytes) &&
	       segs_have_shadows(t);
}

/*
 * Segments eviction keeps free or being freed on top of its target: the
 * one above while anything is shadowed, else none. cache->lock held.
 */
uint32_t shadow_kept_segments(const struct devctx *d)
{
	return segs_have_shadows(&d->segs);
}

/*
 * Queue the carried record @kr first in line for the next free segment,
 * which user writes leave to it: the segment it is carried from waits for
 * it. cache->lock held.
 */
void shadow_wait_first(struct devctx *d, struct key_req *kr)
{
	waiter_count(d, kr, 1);
	kr->wait_next = d->waiters;
	d->waiters = kr;
	if (!d->waiters_tail)
		d->waiters_tail = kr;
}

/* ---- shadowed objects (see the top of this file) ---------------------------- */

struct shadow_rec *shadow_rec_new(const uint8_t *key, uint32_t klen, uint32_t seg,
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
void entry_set_shadow(struct fdpkv_cache *c, struct index_entry *e)
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
/*
 * @kr takes over the delete record that evicted segment @src holds: @src
 * is not deallocated before @kr's write is done, else a power cut that
 * loses the write (in flight, or torn) while the deallocate landed brings
 * back what the record hid. With no room to note it, @src keeps its bytes.
 */
static void shadow_hold_src(struct devctx *d, struct key_req *kr, uint32_t src)
{
	uint8_t i;

	if (src >= d->segs.n)
		return;
	for (i = 0; i < kr->nheld; i++)
		if (kr->held_src[i] == src)
			return;
	if (kr->nheld == sizeof(kr->held_src) / sizeof(kr->held_src[0])) {
		d->segs.segs[src].keep = true;
		return;
	}
	kr->held_src[kr->nheld++] = src;
	d->segs.segs[src].copies++;
}

void shadow_release_held(struct devctx *d, struct key_req *kr)
{
	while (kr->nheld) {
		uint32_t src = kr->held_src[--kr->nheld];

		/* a write that failed did not take the duty: the record must stay */
		if (kr->io_res < 0)
			d->segs.segs[src].keep = true;
		d->segs.segs[src].copies--;
		seg_released(d, src);
	}
}

static bool shadow_to_pending_writes(struct devctx *d, const uint8_t *key, uint32_t klen,
				     uint32_t src)
{
	struct key_req *kr = NULL;
	bool any = false;

	while ((kr = pend_find(&d->pend, kr, key, klen))) {
		/*
		 * A re-insert copy never takes the duty over: it is an old
		 * version itself, and it cannot commit once the key has left
		 * the index (which is why we are here).
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
		shadow_hold_src(d, kr, src);
		any = true;
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
		kr->staging = evictor_staging(c, kr->size, &kr->staging_cap);
	}
	if (!kr || !kr->staging) {
		/* the record stays where it is: its segment is kept (reclaim.c) */
		atomic_fetch_add(&c->st.io_errors, 1);
		d->segs.segs[src].keep = true;
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
	/* -ENOSPC (a record is far smaller than a segment: never -EFBIG) */
	shadow_wait_first(d, &r->kr);
	evictor_kick(c);
}

/*
 * @rec describes a record that hides older objects of its key and leaves
 * with segment @src (being evicted): keep those objects hidden if any can
 * still be on the device. cache->lock held; takes @rec.
 */
void shadow_carry(struct devctx *d, uint32_t src, struct shadow_rec *rec)
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
	if (shadow_to_pending_writes(d, rec->key, rec->klen, src)) {
		free(rec);
		return;
	}
	shadow_write(d, src, rec);
}

bool shadow_evicted_remains(const struct devctx *d, struct shadow_rec *rec)
{
	const struct seg_table *t = &d->segs;
	uint64_t newest = 0;
	uint32_t i, n = 0, one = 0;

	for (i = 0; i < t->n; i++) {
		const struct segment *sg = &t->segs[i];

		if ((sg->state != SEG_RECLAIM && sg->state != SEG_QUARANTINE) ||
		    sg->cls == FDPKV_CLASS_META)
			continue;
		n++;
		one = i;
		newest = MAX(newest, sg->open_seq);
	}
	if (n == 1) {
		rec->seg = one;
		rec->bound = t->segs[one].open_seq;
	} else if (n) {
		rec->seg = SHADOW_ANY;
		rec->bound = newest + 1;
	}
	return n != 0;
}

/* a carried record's key_req is the first member of its reinsert_req */
_Static_assert(offsetof(struct reinsert_req, kr) == 0, "reinsert_req.kr first");

bool shadow_carry_overtaken(struct devctx *d, const struct key_req *kr)
{
	struct index_entry *e = index_find(&d->cache->ix, kr->key, kr->klen);

	/*
	 * The key was absent, with no write on its way, when the record was
	 * decided (shadow_carry): a version there now was written since, so
	 * it is newer than everything the record hides.
	 */
	if (e) {
		entry_set_shadow(d->cache, e);
		return true;
	}
	return shadow_to_pending_writes(d, kr->key, kr->klen,
					((const struct reinsert_req *)kr)->src_seg);
}

/* Drop @e of segment @s (being evicted), keeping hidden what it hides.
 * cache->lock held. */
void evict_entry_shadow(struct devctx *d, uint32_t s, struct index_entry *e)
{
	uint32_t klen = 0;
	const uint8_t *key = (e->flags & IDX_F_SHADOW) ? evicted_key(d->cache, e, &klen) : NULL;

	drop_entry_shadow(d, s, e, key, klen, true);
}

/*
 * Drop @e of segment @s (evicted: reported to fdpkv_take_evicted; or
 * damaged), keeping hidden what it hides: a damaged object's header still
 * wins over older versions in recovery, but only while its segment stays.
 * @key is @e's (the caller's, or read back for the eviction): the delete
 * record that keeps the older versions hidden names it. NULL when it was not
 * read back: then segment @s is kept (quarantined) instead, so that what
 * @e hides stays hidden. cache->lock held.
 */
void drop_entry_shadow(struct devctx *d, uint32_t s, struct index_entry *e, const void *key,
		       uint32_t klen, bool evicted)
{
	struct fdpkv_cache *c = d->cache;
	struct shadow_rec *rec = NULL;

	if (e->flags & IDX_F_SHADOW) {
		/* older versions: below e's sequence, so in segments opened
		 * before the last sequence of e's segment */
		/* no key (not read back from the device): nothing to name */
		rec = key ? shadow_rec_new(key, klen, SHADOW_ANY, d->segs.segs[s].last_seq) : NULL;
		if (!rec) {
			/* not carried: the object itself stays (reclaim.c) */
			if (key)
				atomic_fetch_add(&c->st.io_errors, 1);
			d->segs.segs[s].keep = true;
		}
	}
	if (evicted)
		evict_entry(c, e);
	else
		entry_drop(c, e);
	if (rec)
		shadow_carry(d, s, rec);
}
