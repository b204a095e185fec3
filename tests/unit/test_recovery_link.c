// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_recovery_link - after a restart every segment lists exactly its live
 * objects, in offset order (newest at the head, as commits link them), with
 * the delete records gone from the index (recovery.c: link_entries). The
 * list is built from the index in hash order and sorted per segment: a
 * comparison sort for small segments, a radix sort over 11-bit digits for
 * segments of 256 objects or more, in two passes once offsets reach 2^11
 * LBAs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "util.h"

#define VLEN	1024u		/* one object per 4 KiB LBA */


static struct fdpkv_cache *open_cache(const char *geometry, bool format)
{
	char kv[800];

	snprintf(kv, sizeof(kv), "device=file:%s/dev.img %s format=%s", tu_dir, geometry,
		 format ? "always" : "never");
	return tu_open(kv);
}

static void key_name(char *name, size_t len, unsigned int i)
{
	snprintf(name, len, "m@0@0@link%u", i);
}

static bool deleted(unsigned int i)
{
	return i % 9 == 4;
}

static bool overwritten(unsigned int i)
{
	return i % 5 == 2;
}

/* @n keys; every 5th written twice (the second later), every 9th deleted. */
static void fill(struct fdpkv_cache *c, unsigned int n)
{
	static uint8_t val[VLEN];
	char name[32];
	unsigned int i;

	for (i = 0; i < n; i++) {
		key_name(name, sizeof(name), i);
		tu_fill(val, sizeof(val), i);
		assert_int_equal(tu_set1(c, name, val, sizeof(val)), 0);
	}
	for (i = 0; i < n; i++) {
		key_name(name, sizeof(name), i);
		if (overwritten(i)) {
			tu_fill(val, sizeof(val), i + 100000);
			assert_int_equal(tu_set1(c, name, val, sizeof(val)), 0);
		}
		if (deleted(i))
			assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, name), 0);
	}
}

/*
 * Every segment's list: its own live objects only, offsets falling from
 * head to tail, as many as live_objs, the largest list at least @most_at_least
 * long; the lists together hold the whole index. Then every key reads back.
 */
static void check(struct fdpkv_cache *c, unsigned int n, uint64_t most_at_least)
{
	static uint8_t want[VLEN], got[VLEN];
	struct devctx *d = &c->devs[0];
	uint64_t total = 0, most = 0;
	char name[32];
	unsigned int i;
	uint32_t s;

	pthread_mutex_lock(&c->lock);
	for (s = 0; s < d->segs.n; s++) {
		const struct segment *sg = &d->segs.segs[s];
		const struct index_entry *e, *prev = NULL;
		uint64_t len = 0;

		for (e = sg->entries; e; prev = e, e = index_seg_next(&c->ix, e), len++) {
			assert_int_equal(e->dev, 0);
			assert_int_equal(e->seg, s);
			assert_false(e->flags & IDX_F_TOMBSTONE);
			assert_ptr_equal(index_seg_prev(&c->ix, e), prev);
			if (prev)
				assert_true(e->off_lba < prev->off_lba);
		}
		assert_ptr_equal(sg->oldest, prev);
		assert_int_equal(len, sg->live_objs);
		total += len;
		most = MAX(most, len);
	}
	assert_int_equal(total, c->ix.count);
	pthread_mutex_unlock(&c->lock);
	assert_true(most >= most_at_least);

	for (i = 0; i < n; i++) {
		key_name(name, sizeof(name), i);
		if (deleted(i)) {
			assert_int_equal(tu_get1(c, name, got, sizeof(got)), -ENOENT);
			continue;
		}
		assert_int_equal(tu_get1(c, name, got, sizeof(got)), 0);
		tu_fill(want, sizeof(want), overwritten(i) ? i + 100000 : i);
		assert_memory_equal(got, want, sizeof(want));
	}
}

static void restart_and_check(const char *geometry, unsigned int n, uint64_t most_at_least)
{
	struct fdpkv_cache *c = open_cache(geometry, true);

	fill(c, n);
	fdpkv_close(c);
	c = open_cache(geometry, false);
	assert_int_equal(c->ix.count, n - (n + 4) / 9);
	check(c, n, most_at_least);
	fdpkv_close(c);
}

/* 16 MiB segments of 4096 LBAs: several thousand objects, two radix passes. */
static void test_large_segments_in_offset_order(void **state)
{
	(void)state;
	restart_and_check("capacity=96M segment_size=16M", 6000, 2048);
}

/* 1 MiB segments: fewer than 256 objects each, the comparison sort. */
static void test_small_segments_in_offset_order(void **state)
{
	(void)state;
	restart_and_check("capacity=16M segment_size=1M", 900, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_large_segments_in_offset_order),
		cmocka_unit_test(test_small_segments_in_offset_order),
	};

	return cmocka_run_group_tests(tests, tu_dir_setup, tu_dir_teardown);
}
