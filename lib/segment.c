// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * segment.c - the segment allocator of one device.
 *
 * Each placement class appends to one open segment; a full one is sealed and
 * becomes an eviction candidate. Eviction is FIFO by the segment's open
 * sequence, skipping segments pinned by locks, reads or writes in flight.
 * Segments are never partially reused: an evicted segment is deallocated
 * whole and only then goes back to the free stack, which is what lets an FDP
 * device erase its reclaim unit without copying. No I/O here; the cache lock
 * protects the table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NO_SEG	UINT32_MAX

int segs_init(struct seg_table *t, uint32_t n, uint64_t seg_bytes)
{
	uint32_t i;

	memset(t, 0, sizeof(*t));
	t->segs = calloc(n, sizeof(*t->segs));
	if (!t->segs)
		return -ENOMEM;
	t->n = n;
	t->seg_bytes = seg_bytes;
	t->free_head = NO_SEG;
	/* push in reverse so segment 0 is handed out first */
	for (i = n; i-- > 0;) {
		t->segs[i].state = SEG_FREE;
		t->segs[i].next_free = t->free_head;
		t->free_head = i;
	}
	t->nfree = n;
	t->pad_seg = NO_SEG;
	t->sealed_seg = NO_SEG;
	for (i = 0; i < FDPKV_MAX_CLASSES; i++)
		t->open[i] = -1;
	return 0;
}

void shadow_list_free(struct segment *sg)
{
	struct shadow_rec *r, *next;

	for (r = sg->pending; r; r = next) {
		next = r->next;
		free(r);
	}
	sg->pending = NULL;
	sg->npending = 0;
}

void segs_sum_free(struct segment *sg)
{
	free(sg->sum_buf);
	sg->sum_buf = NULL;
	sg->sum_cap = 0;
}

static void keys_free(struct segment *sg)
{
	segkeys_free(sg->keys);
	sg->keys = NULL;
}

void segs_destroy(struct seg_table *t)
{
	uint32_t i;

	for (i = 0; t->segs && i < t->n; i++) {
		shadow_list_free(&t->segs[i]);
		segs_sum_free(&t->segs[i]);
		keys_free(&t->segs[i]);
	}
	free(t->segs);
	memset(t, 0, sizeof(*t));
}

static void push_free(struct seg_table *t, uint32_t s)
{
	struct segment *sg = &t->segs[s];

	shadow_list_free(sg);	/* eviction has carried what was needed */
	segs_sum_free(sg);
	keys_free(sg);
	memset(sg, 0, sizeof(*sg));
	sg->state = SEG_FREE;
	sg->next_free = t->free_head;
	t->free_head = s;
	t->nfree++;
}

void segs_seal(struct seg_table *t, uint32_t s)
{
	struct segment *sg = &t->segs[s];

	if (sg->state == SEG_OPEN) {
		sg->state = SEG_SEALED;
		if (t->open[sg->cls] == (int32_t)s)
			t->open[sg->cls] = -1;
	}
}

uint64_t segs_sum_room(const struct seg_table *t, const struct segment *sg)
{
	if (!t->sum_lba || sg->sum_state == SUM_NONE)
		return 0;
	return sum_region(sg->sum_reserved, t->sum_lba);
}

/* The pad stops where the summary's room begins: the summary fills the rest. */
void segs_seal_padded(struct seg_table *t, uint32_t s)
{
	struct segment *sg = &t->segs[s];
	uint64_t end = t->seg_bytes - segs_sum_room(t, sg);

	if (sg->state == SEG_OPEN && !sg->broken && sg->used < end) {
		t->pad_seg = s;
		t->pad_off = sg->used;
		t->pad_len = end - sg->used;
	}
	if (sg->state == SEG_OPEN)
		t->sealed_seg = s;
	segs_seal(t, s);
}

/* Does @size more bytes, with @rec more summary bytes, fit in @sg? */
static bool fits(const struct seg_table *t, const struct segment *sg, uint64_t size, uint64_t rec)
{
	uint64_t room = 0;

	if (t->sum_lba && sg->sum_state != SUM_NONE)
		room = sum_region(sg->sum_reserved + rec, t->sum_lba);
	return sg->used + size + room <= t->seg_bytes;
}

int segs_reserve(struct seg_table *t, unsigned int cls, uint64_t size, uint32_t klen,
		 uint64_t *seq, uint32_t *seg, uint64_t *off)
{
	uint64_t rec = t->sum_lba ? SUM_REC_SIZE + (uint64_t)klen : 0;
	struct segment *sg;
	uint32_t s;

	if (size > t->seg_bytes)
		return -EFBIG;
	if (t->open[cls] >= 0) {
		s = (uint32_t)t->open[cls];
		sg = &t->segs[s];
		if (!sg->broken && fits(t, sg, size, rec))
			goto found;
		segs_seal_padded(t, s);
	}
	if (t->free_head == NO_SEG)
		return -ENOSPC;
	s = t->free_head;
	sg = &t->segs[s];
	t->free_head = sg->next_free;
	t->nfree--;
	memset(sg, 0, sizeof(*sg));
	sg->state = SEG_OPEN;
	sg->cls = (uint8_t)cls;
	sg->open_seq = ++*seq;
	if (!t->sum_lba || size + sum_region(rec, t->sum_lba) > t->seg_bytes)
		sg->sum_state = SUM_NONE;
	t->open[cls] = (int32_t)s;
found:
	if (sg->sum_state != SUM_NONE)
		sg->sum_reserved += rec;
	*seg = s;
	*off = sg->used;
	sg->used += size;
	sg->last_seq = ++*seq;
	return 0;
}

/*
 * FIFO, skipping pinned segments. A metadata segment may go like any other:
 * the delete records in it that still hide an object elsewhere are carried
 * forward by the caller (shadow.c: shadow_carry), so no ordering rule here
 * can let delete records pin the device.
 */
int64_t segs_pick_victim(const struct seg_table *t)
{
	int64_t best = -1;
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		const struct segment *sg = &t->segs[i];

		if (sg->state != SEG_SEALED || sg->locked || sg->readers || sg->writes)
			continue;
		if (best >= 0 && t->segs[best].open_seq < sg->open_seq)
			continue;
		best = i;
	}
	return best;
}

/*
 * A hidden object is in a data (or re-insert) segment that is not free: an
 * evicted one counts until its deallocation is done. Its segment was opened
 * before the hiding record was written, hence open_seq < @bound.
 */
bool segs_shadow_needed(const struct seg_table *t, uint32_t skip, uint32_t seg, uint64_t bound)
{
	uint32_t i;

	if (seg != SHADOW_ANY)
		return seg != skip && seg < t->n && t->segs[seg].state != SEG_FREE &&
		       t->segs[seg].open_seq == bound;
	for (i = 0; i < t->n; i++) {
		const struct segment *sg = &t->segs[i];

		if (i != skip && sg->state != SEG_FREE && sg->cls != FDPKV_CLASS_META &&
		    sg->open_seq < bound)
			return true;
	}
	return false;
}

bool segs_have_shadows(const struct seg_table *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++)
		if (t->segs[i].shadows || t->segs[i].pending)
			return true;
	return false;
}

void segs_free(struct seg_table *t, uint32_t s)
{
	if (t->segs[s].state == SEG_RECLAIM)
		t->nreclaim--;
	push_free(t, s);
}

void segs_quarantine(struct seg_table *t, uint32_t s)
{
	if (t->segs[s].state == SEG_RECLAIM)
		t->nreclaim--;
	t->segs[s].state = SEG_QUARANTINE;
	keys_free(&t->segs[s]);
}

void segs_take(struct seg_table *t, uint32_t s)
{
	t->segs[s].state = SEG_SEALED;
}

void segs_rebuild_free(struct seg_table *t)
{
	uint32_t i;

	t->free_head = NO_SEG;
	t->nfree = 0;
	for (i = t->n; i-- > 0;) {
		if (t->segs[i].state != SEG_FREE)
			continue;
		t->segs[i].next_free = t->free_head;
		t->free_head = i;
		t->nfree++;
	}
}

void seg_link(const struct index *ix, struct segment *sg, struct index_entry *e)
{
	if (e->flags & IDX_F_SHADOW)
		sg->shadows++;
	e->seg_prev = 0;
	e->seg_next = index_id(ix, sg->entries);
	if (sg->entries)
		sg->entries->seg_prev = index_id(ix, e);
	else
		sg->oldest = e;
	sg->entries = e;
}

void seg_unlink(const struct index *ix, struct segment *sg, struct index_entry *e)
{
	struct index_entry *prev = index_seg_prev(ix, e), *next = index_seg_next(ix, e);

	if (e->flags & IDX_F_SHADOW)
		sg->shadows--;
	if (sg->evict_next == e)
		sg->evict_next = prev;	/* the batch eviction's cursor moves on */
	if (sg->oldest == e)
		sg->oldest = prev;
	if (prev)
		prev->seg_next = e->seg_next;
	else if (sg->entries == e)
		sg->entries = next;
	if (next)
		next->seg_prev = e->seg_prev;
	e->seg_prev = e->seg_next = 0;
}
