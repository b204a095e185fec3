// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_damage_hides - issue 11 item 2: a GET that finds the newest version
 * of a key damaged drops it, and must keep hiding the older version it hid:
 * here v1 outlives v2's segment because a lock on another key pins v1's
 * segment. Without a delete record v1 came back after the restart.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static void test_damaged_newest_keeps_older_hidden(void **state)
{
	static uint8_t v1[100 << 10], v2[100 << 10], filler[300 << 10], got[100 << 10];
	char *dir = tu_mkdtemp(), kv[700], path[400], key[32];
	struct fdpkv_cache *c;
	long long off;
	unsigned int i;

	(void)state;
	snprintf(path, sizeof(path), "%s/d.img", dir);
	snprintf(kv, sizeof(kv), "device=file:%s capacity=16M segment_size=1M placement=none "
		 "reinsert=0 durability=none", path);
	tu_fill(v1, sizeof(v1), 1);
	tu_fill(v2, sizeof(v2), 2);
	tu_fill(filler, sizeof(filler), 3);
	c = tu_open(kv);
	assert_int_equal(tu_set1(c, "k", v1, sizeof(v1)), 0);
	assert_int_equal(tu_set1(c, "pin", v1, 10), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, "pin"), 0);	/* pins v1's segment */
	for (i = 0; i < 4; i++) {	/* v2 goes to a later segment */
		snprintf(key, sizeof(key), "f%u", i);
		assert_int_equal(tu_set1(c, key, filler, sizeof(filler)), 0);
	}
	assert_int_equal(tu_set1(c, "k", v2, sizeof(v2)), 0);
	off = tu_find_bytes(path, v2 + 5000, 64);
	assert_true(off > 0);
	tu_flip_bits(path, off, 0xff);
	assert_int_equal(tu_get1(c, "k", got, sizeof(got)), -ENOENT);	/* damaged: a miss */
	/* churn until v2's segment is long evicted; v1's stays, pinned */
	for (i = 0; i < 150; i++) {
		snprintf(key, sizeof(key), "f%u", i % 40);
		assert_int_equal(tu_set1(c, key, filler, sizeof(filler)), 0);
	}
	fdpkv_close(c);
	c = tu_open(kv);
	assert_int_equal(tu_get1(c, "k", got, sizeof(got)), -ENOENT);
	fdpkv_close(c);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_damaged_newest_keeps_older_hidden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
