// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_index - the key -> location table: insert/find/replace/remove, locks,
 * growth, 100k keys, long and non-ASCII keys, memory per entry, keys that
 * share a fingerprint, ids reused, the bound on entries. */
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
	assert_int_equal(index_init(&ix, 1u << 20, 64, 42), 0);
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
	assert_int_equal(index_init(&ix, 1u << 20, 64, 42), 0);
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
	assert_int_equal(index_init(&ix, 1u << 20, 64, 42), 0);
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
	printf("index: %zu entries, %zu bytes, %.1f B/entry incl. buckets (struct %zu B)\n",
	       ix.count, ix.bytes, (double)ix.bytes / (double)ix.count,
	       sizeof(struct index_entry));
	/* entries and buckets, whatever the key's length: 40 + 2-4, plus the
	 * range made usable ahead (an eighth, at least 2 MiB) */
	assert_true(ix.bytes < 100000 * 48 + (2u << 20) + 8192);
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
	assert_int_equal(sizeof(struct index_entry), 40);
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
	assert_int_equal(index_init(&ix, 1u << 20, 64, 42), 0);
	assert_non_null(index_insert(&ix, k1, sizeof(k1)));
	assert_non_null(index_insert(&ix, k2, sizeof(k2)));
	assert_non_null(index_insert(&ix, utf, (uint32_t)strlen(utf)));
	assert_non_null(index_find(&ix, k1, sizeof(k1)));
	assert_null(index_find(&ix, k1, sizeof(k1) - 1));
	e = index_find(&ix, k2, sizeof(k2));
	assert_non_null(e);
	assert_int_equal(e->klen, FDPKV_KEY_MAX);
	assert_true(e->fp == index_key_fp(&ix, k2, sizeof(k2)));
	k2[0] = 1;
	assert_null(index_find(&ix, k2, sizeof(k2)));
	assert_non_null(index_find(&ix, utf, (uint32_t)strlen(utf)));
	index_destroy(&ix);
}

/* Two keys of one fingerprint and length are one key to the index; another
 * length is another key. Fingerprints of 4 bits make such pairs. */
static void test_shared_fingerprint(void **state)
{
	struct index ix;
	struct index_entry *e;
	char a[16], b[16];
	unsigned int i;

	(void)state;
	assert_int_equal(index_init(&ix, 1024, 4, 42), 0);
	snprintf(a, sizeof(a), "key-%04u", 0);
	for (i = 1;; i++) {
		assert_true(i < 10000);
		snprintf(b, sizeof(b), "key-%04u", i);
		if (index_key_fp(&ix, a, 8) == index_key_fp(&ix, b, 8))
			break;
	}
	assert_true(index_key_fp(&ix, a, 8) < 16);
	e = index_insert(&ix, a, 8);
	assert_non_null(e);
	e->off_lba = 7;
	/* b finds a's entry: a SET of b replaces it, a GET of b reads a's
	 * header and misses (read.c) */
	assert_ptr_equal(index_find(&ix, b, 8), e);
	assert_null(index_find(&ix, "key-00000", 9));
	assert_non_null(index_insert(&ix, "key-00000", 9));
	assert_ptr_equal(index_find(&ix, a, 8), e);
	assert_int_equal(ix.count, 2);
	index_remove(&ix, e);
	assert_null(index_find(&ix, b, 8));
	assert_non_null(index_find(&ix, "key-00000", 9));
	index_destroy(&ix);
}

/* Removed ids are reused (memory follows the most keys held at once), and
 * the table refuses keys past its bound instead of overrunning it. */
static void test_ids_reused_and_bounded(void **state)
{
	struct index ix;
	struct index_entry *e[4];
	char k[16];
	size_t bytes;
	unsigned int i, round;

	(void)state;
	assert_int_equal(index_init(&ix, 3, 64, 42), 0);
	for (i = 0; i < 3; i++) {
		snprintf(k, sizeof(k), "k%u", i);
		e[i] = index_insert(&ix, k, (uint32_t)strlen(k));
		assert_non_null(e[i]);
	}
	assert_null(index_insert(&ix, "k3", 2));
	index_remove(&ix, e[1]);
	e[3] = index_insert(&ix, "k3", 2);
	assert_ptr_equal(e[3], e[1]);		/* the freed id */
	assert_int_equal(e[3]->off_lba, 0);	/* zeroed */
	assert_non_null(index_find(&ix, "k0", 2));
	assert_null(index_find(&ix, "k1", 2));
	assert_non_null(index_find(&ix, "k3", 2));
	index_destroy(&ix);

	/* churn: 10 rounds of 50k inserts and removes keep the first round's memory */
	assert_int_equal(index_init(&ix, 1u << 20, 64, 42), 0);
	bytes = 0;
	for (round = 0; round < 10; round++) {
		for (i = 0; i < 50000; i++) {
			snprintf(k, sizeof(k), "r%u-%u", round, i);
			assert_non_null(index_insert(&ix, k, (uint32_t)strlen(k)));
		}
		if (!round)
			bytes = ix.bytes;
		assert_int_equal(ix.bytes, bytes);
		for (i = 0; i < 50000; i++) {
			snprintf(k, sizeof(k), "r%u-%u", round, i);
			e[0] = index_find(&ix, k, (uint32_t)strlen(k));
			assert_non_null(e[0]);
			index_remove(&ix, e[0]);
		}
		assert_int_equal(ix.count, 0);
	}
	index_destroy(&ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_lock_counts),
		cmocka_unit_test(test_100k_growth),
		cmocka_unit_test(test_long_and_binary_keys),
		cmocka_unit_test(test_shared_fingerprint),
		cmocka_unit_test(test_ids_reused_and_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
