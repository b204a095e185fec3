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
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static char *dir;
static char kv[600], path[400];

static int setup(void **state)
{
	(void)state;
	dir = tu_mkdtemp();
	snprintf(path, sizeof(path), "%s/d.img", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmdir(dir);
	return 0;
}

/* Open a fresh cache with @durability on the image. */
static struct fdpkv_cache *open_fresh(const char *durability, bool format)
{
	snprintf(kv, sizeof(kv), "device=file:%s capacity=16M segment_size=1M placement=none "
		 "reinsert=0 durability=%s%s", path, durability, format ? " format=always" : "");
	return tu_open(kv);
}

/* Close @c, then tear the value @v of @len bytes in the image as a lost
 * value block leaves it. */
static void close_and_tear(struct fdpkv_cache *c, const uint8_t *v, size_t len)
{
	long long off;

	fdpkv_close(c);
	off = tu_find_bytes(path, v + len - (16 << 10), 64);
	assert_true(off > 0);
	tu_flip_bits(path, off, 0xff);
}

static void test_torn_newer_version_gives_way(void **state)
{
	static uint8_t v1[40 << 10], v2[48 << 10], got[48 << 10];
	struct fdpkv_cache *c = open_fresh("flush", true);
	struct fdpkv_usage u;

	(void)state;
	tu_fill(v1, sizeof(v1), 1);
	tu_fill(v2, sizeof(v2), 2);
	assert_int_equal(tu_set1(c, "k", v1, sizeof(v1)), 0);
	assert_int_equal(tu_set1(c, "k", v2, sizeof(v2)), 0);
	assert_int_equal(tu_set1(c, "other", v1, 100), 0);
	close_and_tear(c, v2, sizeof(v2));

	/* the torn v2 gives way to v1, with v1's usage */
	c = open_fresh("flush", false);
	assert_int_equal(tu_get1(c, "k", got, sizeof(v1)), 0);
	assert_memory_equal(got, v1, sizeof(v1));
	fdpkv_usage(c, &u);
	assert_int_equal(u.objects, 2);
	assert_int_equal(u.bytes_used, sizeof(v1) + 100);
	fdpkv_close(c);
	/* every later open decides the same */
	c = open_fresh("flush", false);
	assert_int_equal(tu_get1(c, "k", got, sizeof(v1)), 0);
	assert_memory_equal(got, v1, sizeof(v1));
	/* and a DELETE hides both for good */
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "k"), 0);
	fdpkv_close(c);
	c = open_fresh("flush", false);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "k"), -ENOENT);
	assert_int_equal(tu_get1(c, "other", got, 100), 0);
	fdpkv_close(c);
}

/* A torn version with a delete record below it: the key stays deleted. */
static void test_torn_version_over_delete(void **state)
{
	static uint8_t v1[40 << 10], v3[48 << 10], got[48 << 10];
	struct fdpkv_cache *c = open_fresh("fua", true);

	(void)state;
	tu_fill(v1, sizeof(v1), 1);
	tu_fill(v3, sizeof(v3), 3);
	assert_int_equal(tu_set1(c, "k", v1, sizeof(v1)), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "k"), 0);
	assert_int_equal(tu_set1(c, "k", v3, sizeof(v3)), 0);
	close_and_tear(c, v3, sizeof(v3));
	c = open_fresh("fua", false);
	assert_int_equal(tu_get1(c, "k", got, sizeof(v1)), -ENOENT);
	assert_int_equal(tu_get1(c, "k", got, sizeof(v3)), -ENOENT);
	fdpkv_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_torn_newer_version_gives_way),
		cmocka_unit_test(test_torn_version_over_delete),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
