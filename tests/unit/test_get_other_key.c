// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_get_other_key - a GET that finds another key's object at the place
 * its entry names (what a fingerprint collision gives once the index keeps
 * fingerprints only) is a miss: never the other key's data, nothing counted
 * as corrupt, and the entry stays (read.c: read_complete). The staged read,
 * the read in pieces (a value larger than copy_piece) and the direct read
 * into an aligned buffer. The
 * collision is made by pointing one key's entry at the other's object.
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

struct place {
	uint8_t dev, flags;
	uint32_t seg, off_lba;
};

static struct index_entry *entry_of(struct fdpkv_cache *c, const char *key)
{
	return index_find(&c->ix, key, (uint32_t)strlen(key));
}

/* Swap where the entries of @a and @b point (their segment lists unchanged). */
static void swap_places(struct fdpkv_cache *c, const char *a, const char *b)
{
	struct index_entry *ea, *eb;
	struct place pa;

	pthread_mutex_lock(&c->lock);
	ea = entry_of(c, a);
	eb = entry_of(c, b);
	assert_non_null(ea);
	assert_non_null(eb);
	pa = (struct place){ ea->dev, ea->flags, ea->seg, ea->off_lba };
	ea->dev = eb->dev;
	ea->flags = eb->flags;
	ea->seg = eb->seg;
	ea->off_lba = eb->off_lba;
	eb->dev = pa.dev;
	eb->flags = pa.flags;
	eb->seg = pa.seg;
	eb->off_lba = pa.off_lba;
	pthread_mutex_unlock(&c->lock);
}

/* @vlen bytes at offset @o of page-aligned buffers: 1 bounces, 0 goes direct */
static void check_size(uint64_t vlen, unsigned int o)
{
	static uint8_t va[2u << 20] __attribute__((aligned(4096)));
	static uint8_t vb[2u << 20] __attribute__((aligned(4096)));
	static uint8_t got[2u << 20] __attribute__((aligned(4096)));
	struct fdpkv_cache *c;
	struct fdpkv_stats st;

	c = tu_open("devices=sim:name=other-key capacity=64M segment_size=8M placement=none");
	tu_fill(va, vlen, 1);
	tu_fill(vb, vlen, 2);
	assert_int_equal(tu_set1(c, "key-a", va + o, vlen), 0);
	assert_int_equal(tu_set1(c, "key-b", vb + o, vlen), 0);

	swap_places(c, "key-a", "key-b");
	memset(got, 0, vlen + 1);
	assert_int_equal(tu_get1(c, "key-a", got + o, vlen), -ENOENT);
	assert_int_equal(tu_get1(c, "key-b", got + o, vlen), -ENOENT);
	fdpkv_stats(c, &st);
	assert_int_equal(st.corrupt_objects, 0);
	pthread_mutex_lock(&c->lock);
	assert_non_null(entry_of(c, "key-a"));	/* the other key's, kept */
	assert_non_null(entry_of(c, "key-b"));
	pthread_mutex_unlock(&c->lock);

	/* back in place, each key reads its own value */
	swap_places(c, "key-a", "key-b");
	assert_int_equal(tu_get1(c, "key-a", got + o, vlen), 0);
	assert_memory_equal(got + o, va + o, vlen);
	assert_int_equal(tu_get1(c, "key-b", got + o, vlen), 0);
	assert_memory_equal(got + o, vb + o, vlen);
	fdpkv_stats(c, &st);
	assert_true(o ? st.direct_bytes == 0 : st.direct_bytes > 0);
	fdpkv_close(c);
	assert_int_equal(sim_destroy("other-key"), 0);
}

static void test_staged(void **state)
{
	(void)state;
	check_size(10000, 1);
}

static void test_in_pieces(void **state)
{
	(void)state;
	check_size((2u << 20) - 8192, 1);
}

static void test_direct(void **state)
{
	(void)state;
	check_size(1u << 20, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_staged),
		cmocka_unit_test(test_in_pieces),
		cmocka_unit_test(test_direct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
