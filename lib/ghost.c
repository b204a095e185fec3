// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ghost.c - keys evicted or deleted from a segment that is not free yet.
 *
 * An evicted segment stays on the device until its deallocate (and wipe, or
 * flush) is done, and for good while this cache is open when that failed
 * (quarantine, reclaim.c). Its objects are dead in memory but recovery would
 * still find them. When such a key is set again, no index entry is left to
 * tell its new version that an older one is still on the device, so the new
 * version would not be marked IDX_F_SHADOW, and once it is evicted or
 * deleted nothing would hide the old one any more: after a restart the old
 * version is back. So the keys of an evicted segment are remembered here,
 * per device, until the segment is free; commit_object (write.c) marks a new
 * entry of a remembered key IDX_F_SHADOW, and eviction then carries its
 * hiding duty (shadow.c) for as long as the old segment is on the device.
 * Out of memory, a segment is remembered as lossy instead: while one is,
 * every new entry is marked. A DELETE leaves a ghost too (write.c:
 * delete_drop_key): until its record is durable nothing else hides the
 * object, and a SET answered unflushed (durability=none) would not hide it
 * either. cache->lock protects it all.
 *
 * A ghost is the key's 64-bit fingerprint (index_key_fp, all the index
 * keeps of a key) and length, not the key: a fixed 32-byte node whatever the
 * key's length, and eviction need not have the key bytes. Two keys of one
 * fingerprint are one key to the index and so one ghost. Only the missing
 * mark would be wrong, and the same key always has the same fingerprint.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

struct ghost {
	struct ghost *next;		/* hash chain */
	struct ghost *seg_next;		/* ghosts of the same segment */
	uint64_t fp;			/* index_key_fp of the key */
	uint32_t klen;
};

#define GHOST_BUCKETS_MIN	256u

int ghost_init(struct ghost_tab *t, uint32_t nsegs)
{
	memset(t, 0, sizeof(*t));
	t->nbuckets = GHOST_BUCKETS_MIN;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	t->seg = calloc(nsegs, sizeof(*t->seg));
	t->nsegs = nsegs;
	return t->buckets && t->seg ? 0 : -ENOMEM;
}

void ghost_destroy(struct ghost_tab *t)
{
	uint32_t s;

	for (s = 0; t->seg && s < t->nsegs; s++)
		ghost_forget_segment(t, s);
	free(t->buckets);
	free(t->seg);
	memset(t, 0, sizeof(*t));
}

/* Double the buckets at load factor 2; on ENOMEM keep the longer chains. */
static void ghost_grow(struct ghost_tab *t)
{
	uint32_t n = t->nbuckets * 2, i;
	struct ghost **nb = calloc(n, sizeof(*nb)), *g, *next;

	if (!nb)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		for (g = t->buckets[i]; g; g = next) {
			next = g->next;
			g->next = nb[g->fp & (n - 1)];
			nb[g->fp & (n - 1)] = g;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
}

void ghost_add(struct ghost_tab *t, uint32_t seg, uint64_t fp, uint32_t klen)
{
	struct ghost *g;

	if (seg >= t->nsegs)
		return;
	g = malloc(sizeof(*g));
	if (!g) {
		if (!t->seg[seg].lossy++)
			t->nlossy++;
		return;
	}
	if (t->count >= 2ull * t->nbuckets)
		ghost_grow(t);
	g->fp = fp;
	g->klen = klen;
	g->next = t->buckets[fp & (t->nbuckets - 1)];
	t->buckets[fp & (t->nbuckets - 1)] = g;
	g->seg_next = t->seg[seg].head;
	t->seg[seg].head = g;
	t->count++;
}

bool ghost_find(const struct ghost_tab *t, uint64_t fp, uint32_t klen)
{
	const struct ghost *g;

	if (t->nlossy)
		return true;
	if (!t->count)
		return false;
	for (g = t->buckets[fp & (t->nbuckets - 1)]; g; g = g->next)
		if (g->fp == fp && g->klen == klen)
			return true;
	return false;
}

void ghost_forget_segment(struct ghost_tab *t, uint32_t seg)
{
	struct ghost *g, *next, **pp;

	if (seg >= t->nsegs)
		return;
	for (g = t->seg[seg].head; g; g = next) {
		next = g->seg_next;
		for (pp = &t->buckets[g->fp & (t->nbuckets - 1)]; *pp != g; pp = &(*pp)->next)
			;
		*pp = g->next;
		t->count--;
		free(g);
	}
	t->seg[seg].head = NULL;
	if (t->seg[seg].lossy) {
		t->seg[seg].lossy = 0;
		t->nlossy--;
	}
}
