// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_segment - the segment allocator: append per class, sealing, FIFO
 * victim order, pins (locks, reads, writes), metadata pinning, -ENOSPC. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "internal.h"

#define SEG	(1u << 20)

static void test_append_and_seal(void **state)
{
	struct seg_table t;
	uint64_t seq = 0, off;
	uint32_t s, s2;

	(void)state;
	assert_int_equal(segs_init(&t, 4, SEG), 0);
	assert_int_equal(segs_reserve(&t, 2, SEG + 1, 0, &seq, &s, &off), -EFBIG);
	assert_int_equal(segs_reserve(&t, 2, 4096, 0, &seq, &s, &off), 0);
	assert_int_equal(s, 0);
	assert_int_equal(off, 0);
	assert_int_equal(segs_reserve(&t, 2, 8192, 0, &seq, &s, &off), 0);
	assert_int_equal(s, 0);
	assert_int_equal(off, 4096);
	/* another class gets its own segment */
	assert_int_equal(segs_reserve(&t, 3, 4096, 0, &seq, &s2, &off), 0);
	assert_int_not_equal(s2, 0);
	/* does not fit: class 2's segment is sealed, a new one opened */
	assert_int_equal(segs_reserve(&t, 2, SEG - 4096, 0, &seq, &s, &off), 0);
	assert_int_not_equal(s, 0);
	assert_int_equal(off, 0);
	assert_int_equal(t.segs[0].state, SEG_SEALED);
	assert_int_equal(t.nfree, 1);
	/* sequences grow: open_seq < object seqs */
	assert_true(t.segs[s].open_seq < t.segs[s].last_seq);
	assert_true(t.segs[0].open_seq < t.segs[s].open_seq);
	segs_destroy(&t);
}

static void fill_class(struct seg_table *t, unsigned int cls, uint64_t *seq)
{
	uint32_t s;
	uint64_t off;

	assert_int_equal(segs_reserve(t, cls, SEG, 0, seq, &s, &off), 0);
}

static void test_fifo_and_pins(void **state)
{
	struct seg_table t;
	uint64_t seq = 0;
	unsigned int i;

	(void)state;
	assert_int_equal(segs_init(&t, 5, SEG), 0);
	for (i = 0; i < 5; i++)
		fill_class(&t, 2, &seq);	/* 0..3 sealed, 4 open */
	assert_int_equal(t.nfree, 0);
	assert_int_equal(segs_reserve(&t, 2, 4096, 0, &seq, &(uint32_t){0}, &(uint64_t){0}), -ENOSPC);
	/* the open one was sealed by that attempt; oldest first */
	assert_int_equal(segs_pick_victim(&t), 0);
	t.segs[0].locked = 1;
	assert_int_equal(segs_pick_victim(&t), 1);
	t.segs[1].readers = 1;
	assert_int_equal(segs_pick_victim(&t), 2);
	t.segs[2].writes = 1;
	assert_int_equal(segs_pick_victim(&t), 3);
	t.segs[3].locked = 2;
	t.segs[4].locked = 1;
	assert_int_equal(segs_pick_victim(&t), -1);	/* all pinned: caller fails -ENOSPC */
	t.segs[1].readers = 0;
	assert_int_equal(segs_pick_victim(&t), 1);
	/* evict 1: RECLAIM until the deallocate completes, then free again */
	t.segs[1].state = SEG_RECLAIM;
	t.nreclaim++;
	assert_int_equal(segs_pick_victim(&t), -1);
	segs_free(&t, 1);
	assert_int_equal(t.nfree, 1);
	assert_int_equal(t.nreclaim, 0);
	assert_int_equal(segs_reserve(&t, 2, 4096, 0, &seq, &(uint32_t){0}, &(uint64_t){0}), 0);
	segs_destroy(&t);
}

/*
 * Metadata segments go in FIFO order like the others: the delete records in
 * them that still hide something are carried forward by the cache
 * (test_shadow), so an older data segment does not pin them.
 */
static void test_meta_fifo(void **state)
{
	struct seg_table t;
	uint64_t seq = 0, off;
	uint32_t data, meta;

	(void)state;
	assert_int_equal(segs_init(&t, 4, SEG), 0);
	assert_int_equal(segs_reserve(&t, 2, 4096, 0, &seq, &data, &off), 0);	/* older data */
	assert_int_equal(segs_reserve(&t, FDPKV_CLASS_META, SEG, 0, &seq, &meta, &off), 0);
	segs_seal(&t, meta);
	assert_int_equal(segs_pick_victim(&t), meta);	/* data is still open */
	/* its records may hide objects in the open data segment */
	assert_true(segs_shadow_needed(&t, meta, SHADOW_ANY, seq));
	assert_true(segs_shadow_needed(&t, meta, data, t.segs[data].open_seq));
	assert_false(segs_shadow_needed(&t, meta, data, t.segs[data].open_seq + 7));
	assert_false(segs_shadow_needed(&t, meta, SHADOW_ANY, t.segs[data].open_seq));
	segs_seal(&t, data);
	assert_int_equal(segs_pick_victim(&t), data);	/* older */
	t.segs[data].state = SEG_RECLAIM;
	t.nreclaim++;
	/* deallocation still in flight: the objects are still there */
	assert_true(segs_shadow_needed(&t, meta, data, t.segs[data].open_seq));
	segs_free(&t, data);
	assert_false(segs_shadow_needed(&t, meta, SHADOW_ANY, seq));
	assert_int_equal(segs_pick_victim(&t), meta);
	segs_destroy(&t);
}

/* A data segment whose wipe failed is never reused and keeps pinning the
 * delete records that may hide its objects. */
static void test_quarantine(void **state)
{
	struct seg_table t;
	uint64_t seq = 0, off;
	uint32_t data, meta;

	(void)state;
	assert_int_equal(segs_init(&t, 4, SEG), 0);
	assert_int_equal(segs_reserve(&t, 2, SEG, 0, &seq, &data, &off), 0);
	assert_int_equal(segs_reserve(&t, FDPKV_CLASS_META, SEG, 0, &seq, &meta, &off), 0);
	segs_seal(&t, data);
	segs_seal(&t, meta);
	t.segs[data].state = SEG_RECLAIM;
	t.nreclaim++;
	segs_quarantine(&t, data);
	assert_int_equal(t.nreclaim, 0);
	assert_int_equal(t.nfree, 2);
	/* recovery may still find what it holds: delete records stay needed */
	assert_true(segs_shadow_needed(&t, meta, data, t.segs[data].open_seq));
	assert_true(segs_shadow_needed(&t, meta, SHADOW_ANY, seq));
	/* the free ones are handed out, never the quarantined one */
	assert_int_equal(segs_reserve(&t, 3, SEG, 0, &seq, &(uint32_t){0}, &off), 0);
	assert_int_equal(segs_reserve(&t, 4, SEG, 0, &seq, &(uint32_t){0}, &off), 0);
	assert_int_equal(segs_reserve(&t, 5, SEG, 0, &seq, &(uint32_t){0}, &off), -ENOSPC);
	assert_int_equal(t.segs[data].state, SEG_QUARANTINE);
	segs_destroy(&t);
}

static void test_seg_lists(void **state)
{
	struct segment sg = { 0 };
	struct index ix;
	struct index_entry *a, *b, *c;

	(void)state;
	assert_int_equal(index_init(&ix, 16, 64, 42), 0);
	a = index_insert(&ix, "a", 1);
	b = index_insert(&ix, "b", 1);
	c = index_insert(&ix, "c", 1);
	seg_link(&ix, &sg, a);
	seg_link(&ix, &sg, b);
	seg_link(&ix, &sg, c);
	assert_ptr_equal(sg.oldest, a);
	seg_unlink(&ix, &sg, b);
	assert_ptr_equal(sg.entries, c);
	assert_ptr_equal(index_seg_next(&ix, c), a);
	assert_ptr_equal(index_seg_prev(&ix, a), c);
	seg_unlink(&ix, &sg, c);
	assert_ptr_equal(sg.entries, a);
	assert_null(index_seg_prev(&ix, a));
	seg_unlink(&ix, &sg, a);
	assert_null(sg.entries);
	assert_null(sg.oldest);
	index_destroy(&ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_seal),
		cmocka_unit_test(test_fifo_and_pins),
		cmocka_unit_test(test_meta_fifo),
		cmocka_unit_test(test_quarantine),
		cmocka_unit_test(test_seg_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
