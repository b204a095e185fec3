// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_placement - salt buckets, class folding, class -> placement id map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static void bucket(const char *key, char sep, const char *want)
{
	char out[132];

	placement_bucket(key, (uint32_t)strlen(key), sep, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_buckets(void **state)
{
	(void)state;
	bucket("llama@000000ff@0@00010203@alice", ':', "alice");
	bucket("llama@000000ff@0@00010203@alice:7", ':', "alice");
	bucket("llama@000000ff@0@00010203@bob/x", '/', "bob");
	bucket("llama@000000ff@0@00010203", ':', "");
	bucket("llama@000000ff@0@00010203@", ':', "");
	bucket("old@00ff@hash", ':', "");
	bucket("noats", ':', "");
}

static void test_classes(void **state)
{
	unsigned int c, seen[8] = { 0 }, i;
	char name[16];

	(void)state;
	assert_int_equal(placement_class("", 8), FDPKV_CLASS_DATA0);
	assert_int_equal(placement_class("alice", 1), FDPKV_CLASS_DATA0);
	/* stable: the same bucket always maps to the same class */
	c = placement_class("alice", 8);
	assert_int_equal(placement_class("alice", 8), c);
	assert_true(c >= FDPKV_CLASS_DATA0 && c < FDPKV_CLASS_DATA0 + 8);
	/* folding spreads many buckets over all classes */
	for (i = 0; i < 400; i++) {
		snprintf(name, sizeof(name), "t%u", i);
		seen[placement_class(name, 8) - FDPKV_CLASS_DATA0]++;
	}
	for (i = 0; i < 8; i++)
		assert_true(seen[i] > 20);
}

static void test_pid_map(void **state)
{
	uint16_t pids[8] = { 10, 11, 12, 13 }, map[FDPKV_MAX_CLASSES];

	(void)state;
	placement_map(map, 6, pids, 4);
	assert_int_equal(map[FDPKV_CLASS_META], 10);
	assert_int_equal(map[FDPKV_CLASS_REINSERT], 11);
	assert_int_equal(map[2], 12);
	assert_int_equal(map[3], 13);
	assert_int_equal(map[4], 12);	/* folded onto the data handles */
	assert_int_equal(map[5], 13);
	placement_map(map, 5, pids, 1);
	assert_int_equal(map[0], 10);
	assert_int_equal(map[4], 10);
	placement_map(map, 5, pids, 2);
	assert_int_equal(map[0], 10);
	assert_int_equal(map[1], 11);
	assert_int_equal(map[2], 10);
	placement_map(map, 3, pids, 0);
	assert_int_equal(map[2], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_pid_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
