// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_index - the key -> location table: insert/find/replace/remove, locks,
 * growth, 100k keys, long and non-ASCII keys, memory per entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static void test_basic(void **state)
{
	struct index ix;
	struct index_entry *e;

	(void)state;
	assert_int_equal(index_init(&ix, 0), 0);
	assert_null(index_find(&ix, "a", 1));
	e = index_insert(&ix, "a", 1);
	assert_non_null(e);
	e->off_lba = 1;
	e->vlen = 10;
	assert_ptr_equal(index_find(&ix, "a", 1), e);
	assert_null(index_find(&ix, "ab", 2));
	assert_null(index_find(&ix, "b", 1));
	/* replace = update in place */
	e->off_lba = 2;
	e->vlen = 20;
	assert_int_equal(index_find(&ix, "a", 1)->vlen, 20);
	assert_int_equal(ix.count, 1);
	index_remove(&ix, e);
	assert_null(index_find(&ix, "a", 1));
	assert_int_equal(ix.count, 0);
	index_destroy(&ix);
}

static void test_lock_counts(void **state)
{
	struct index ix;
	struct index_entry *e;

	(void)state;
	assert_int_equal(index_init(&ix, 0), 0);
	e = index_insert(&ix, "k", 1);
	assert_false(index_unlock(e));		/* never below zero */
	assert_int_equal(e->lock, 0);
	assert_true(index_lock(e));
	assert_true(index_lock(e));
	assert_false(index_unlock(e));
	assert_int_equal(e->lock, 1);
	assert_true(index_unlock(e));		/* reached zero */
	assert_false(index_unlock(e));
	assert_int_equal(e->lock, 0);
	e->lock = UINT16_MAX;
	assert_false(index_lock(e));		/* saturated: refused, not wrapped */
	assert_int_equal(e->lock, UINT16_MAX);
	index_destroy(&ix);
}

static void test_100k_growth(void **state)
{
	struct index ix;
	char key[64];
	size_t i, before;

	(void)state;
	assert_int_equal(index_init(&ix, 0), 0);
	before = ix.nbuckets;
	for (i = 0; i < 100000; i++) {
		struct index_entry *e;

		snprintf(key, sizeof(key), "llama@000000ff@0@%08zx@tenant", i);
		e = index_insert(&ix, key, (uint32_t)strlen(key));
		assert_non_null(e);
		e->off_lba = (uint32_t)i;
	}
	assert_true(ix.nbuckets > before);
	assert_int_equal(ix.count, 100000);
	/* what one entry costs, in the suite's log (keys are 37 bytes) */
	printf("index: %zu entries, %zu heap bytes, %.1f B/entry incl. key, malloc and buckets "
	       "(struct %zu B + key)\n", ix.count, ix.bytes, (double)ix.bytes / (double)ix.count,
	       sizeof(struct index_entry));
	for (i = 0; i < 100000; i++) {
		struct index_entry *e;

		snprintf(key, sizeof(key), "llama@000000ff@0@%08zx@tenant", i);
		e = index_find(&ix, key, (uint32_t)strlen(key));
		assert_non_null(e);
		assert_int_equal(e->off_lba, i);
		if (i % 2)
			index_remove(&ix, e);
	}
	assert_int_equal(ix.count, 50000);
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "llama@000000ff@0@%08zx@tenant", i);
		if (i % 2)
			assert_null(index_find(&ix, key, (uint32_t)strlen(key)));
		else
			assert_non_null(index_find(&ix, key, (uint32_t)strlen(key)));
	}
	assert_true(sizeof(struct index_entry) <= 56);
	index_destroy(&ix);
}

static void test_long_and_binary_keys(void **state)
{
	struct index ix;
	uint8_t k1[1024], k2[FDPKV_KEY_MAX];
	const char *utf = "mödel@ключ@0@ハッシュ@租户";
	struct index_entry *e;

	(void)state;
	memset(k1, 'x', sizeof(k1));
	memset(k2, 0, sizeof(k2));
	k2[FDPKV_KEY_MAX - 1] = 0xff;
	assert_int_equal(index_init(&ix, 0), 0);
	assert_non_null(index_insert(&ix, k1, sizeof(k1)));
	assert_non_null(index_insert(&ix, k2, sizeof(k2)));
	assert_non_null(index_insert(&ix, utf, (uint32_t)strlen(utf)));
	assert_non_null(index_find(&ix, k1, sizeof(k1)));
	assert_null(index_find(&ix, k1, sizeof(k1) - 1));
	e = index_find(&ix, k2, sizeof(k2));
	assert_non_null(e);
	assert_memory_equal(e->key, k2, sizeof(k2));
	k2[0] = 1;
	assert_null(index_find(&ix, k2, sizeof(k2)));
	assert_non_null(index_find(&ix, utf, (uint32_t)strlen(utf)));
	index_destroy(&ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_lock_counts),
		cmocka_unit_test(test_100k_growth),
		cmocka_unit_test(test_long_and_binary_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
