// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_torn_overwrite - found by the crash checker (durability=flush, then
 * fua and kill -9): a SET in flight at a power cut that overwrites a key can
 * land torn, its header block written and part of its value not. Recovery
 * trusts headers without reading values, so the torn version won over the
 * acknowledged one below it, and the first GET missed: an acknowledged SET
 * was lost to a write that was never acknowledged. Recovery now checks the
 * value of the newest version of every key found more than once and falls
 * back to the next version when it is damaged (lib/torn.c).
 *
 * The tear is made by hand: both versions written and the cache closed,
 * then a byte of the newer value flipped in the image, as a lost value
 * block leaves it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static void test_torn_newer_version_gives_way(void **state)
{
	static uint8_t v1[40 << 10], v2[48 << 10], got[48 << 10];
	char *dir = tu_mkdtemp(), kv[600], path[400];
	struct fdpkv_cache *c;
	struct fdpkv_usage u;
	long long off;

	(void)state;
	snprintf(path, sizeof(path), "%s/d.img", dir);
	snprintf(kv, sizeof(kv), "device=file:%s capacity=16M segment_size=1M placement=none "
		 "reinsert=0 durability=flush", path);
	tu_fill(v1, sizeof(v1), 1);
	tu_fill(v2, sizeof(v2), 2);
	c = tu_open(kv);
	assert_int_equal(tu_set1(c, "k", v1, sizeof(v1)), 0);
	assert_int_equal(tu_set1(c, "k", v2, sizeof(v2)), 0);
	assert_int_equal(tu_set1(c, "other", v1, 100), 0);
	fdpkv_close(c);
	off = tu_find_bytes(path, v2 + (30 << 10), 64);
	assert_true(off > 0);
	tu_flip_bits(path, off, 0xff);

	/* the torn v2 gives way to v1, with v1's usage */
	c = tu_open(kv);
	assert_int_equal(tu_get1(c, "k", got, sizeof(v1)), 0);
	assert_memory_equal(got, v1, sizeof(v1));
	fdpkv_usage(c, &u);
	assert_int_equal(u.objects, 2);
	assert_int_equal(u.bytes_used, sizeof(v1) + 100);
	fdpkv_close(c);
	/* every later open decides the same */
	c = tu_open(kv);
	assert_int_equal(tu_get1(c, "k", got, sizeof(v1)), 0);
	assert_memory_equal(got, v1, sizeof(v1));
	/* and a DELETE hides both for good */
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "k"), 0);
	fdpkv_close(c);
	c = tu_open(kv);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "k"), -ENOENT);
	assert_int_equal(tu_get1(c, "other", got, 100), 0);
	fdpkv_close(c);
	tu_rmdir(dir);
}

/* A torn version with a delete record below it: the key stays deleted. */
static void test_torn_version_over_delete(void **state)
{
	static uint8_t v1[40 << 10], v3[48 << 10], got[48 << 10];
	char *dir = tu_mkdtemp(), kv[600], path[400];
	struct fdpkv_cache *c;
	long long off;

	(void)state;
	snprintf(path, sizeof(path), "%s/d.img", dir);
	snprintf(kv, sizeof(kv), "device=file:%s capacity=16M segment_size=1M placement=none "
		 "reinsert=0 durability=fua", path);
	tu_fill(v1, sizeof(v1), 1);
	tu_fill(v3, sizeof(v3), 3);
	c = tu_open(kv);
	assert_int_equal(tu_set1(c, "k", v1, sizeof(v1)), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "k"), 0);
	assert_int_equal(tu_set1(c, "k", v3, sizeof(v3)), 0);
	fdpkv_close(c);
	off = tu_find_bytes(path, v3 + (30 << 10), 64);
	assert_true(off > 0);
	tu_flip_bits(path, off, 0xff);
	c = tu_open(kv);
	assert_int_equal(tu_get1(c, "k", got, sizeof(v1)), -ENOENT);
	assert_int_equal(tu_get1(c, "k", got, sizeof(v3)), -ENOENT);
	fdpkv_close(c);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_torn_newer_version_gives_way),
		cmocka_unit_test(test_torn_version_over_delete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
