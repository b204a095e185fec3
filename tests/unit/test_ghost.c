// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_ghost - the keys of evicted segments not yet free (ghost.c), kept as
 * fingerprint and length: a key is found until its segment is forgotten,
 * another length or fingerprint is not, two keys of one fingerprint from two
 * segments stay a ghost until both segments are forgotten, and the table
 * keeps that up past its growth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"

static uint64_t fp_of(const char *key)
{
	return kv_hash(key, strlen(key));
}

static void test_found_until_forgotten(void **state)
{
	const char *a = "llama@000000ff@0@00000000000000a1";
	const char *b = "llama@000000ff@0@00000000000000b2";
	struct ghost_tab t;

	(void)state;
	assert_int_equal(ghost_init(&t, 4), 0);
	assert_false(ghost_find(&t, fp_of(a), (uint32_t)strlen(a)));
	ghost_add(&t, 1, fp_of(a), (uint32_t)strlen(a));
	ghost_add(&t, 2, fp_of(b), (uint32_t)strlen(b));
	assert_true(ghost_find(&t, fp_of(a), (uint32_t)strlen(a)));
	assert_true(ghost_find(&t, fp_of(b), (uint32_t)strlen(b)));
	/* same fingerprint, other length: another key, not a ghost */
	assert_false(ghost_find(&t, fp_of(a), (uint32_t)strlen(a) + 1));
	assert_false(ghost_find(&t, fp_of(a) ^ 1, (uint32_t)strlen(a)));
	ghost_forget_segment(&t, 1);
	assert_false(ghost_find(&t, fp_of(a), (uint32_t)strlen(a)));
	assert_true(ghost_find(&t, fp_of(b), (uint32_t)strlen(b)));
	ghost_forget_segment(&t, 2);
	assert_false(ghost_find(&t, fp_of(b), (uint32_t)strlen(b)));
	/* a segment the table does not have is ignored, not written past */
	ghost_add(&t, 4, fp_of(a), (uint32_t)strlen(a));
	assert_false(ghost_find(&t, fp_of(a), (uint32_t)strlen(a)));
	ghost_destroy(&t);
}

/*
 * Two keys of one fingerprint and length, evicted from two segments: one
 * segment's end does not forget the other's ghost (either key's new entry
 * must still be marked IDX_F_SHADOW while the other segment is on the
 * device).
 */
static void test_collision_is_a_ghost(void **state)
{
	const uint64_t fp = 0x0123456789abcdefull;
	struct ghost_tab t;

	(void)state;
	assert_int_equal(ghost_init(&t, 2), 0);
	ghost_add(&t, 0, fp, 33);
	ghost_add(&t, 1, fp, 33);
	ghost_forget_segment(&t, 0);
	assert_true(ghost_find(&t, fp, 33));
	ghost_forget_segment(&t, 1);
	assert_false(ghost_find(&t, fp, 33));
	ghost_destroy(&t);
}

/* Many ghosts over several segments: growth rehashes by fingerprint. */
static void test_growth(void **state)
{
	enum { N = 5000, SEGS = 8 };
	struct ghost_tab t;
	uint64_t i;

	(void)state;
	assert_int_equal(ghost_init(&t, SEGS), 0);
	for (i = 0; i < N; i++)
		ghost_add(&t, (uint32_t)(i % SEGS), kv_hash(&i, sizeof(i)), 33);
	for (i = 0; i < N; i++)
		assert_true(ghost_find(&t, kv_hash(&i, sizeof(i)), 33));
	ghost_forget_segment(&t, 3);
	for (i = 0; i < N; i++)
		assert_int_equal(ghost_find(&t, kv_hash(&i, sizeof(i)), 33), i % SEGS != 3);
	ghost_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found_until_forgotten),
		cmocka_unit_test(test_collision_is_a_ghost),
		cmocka_unit_test(test_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
