// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_delete_fail - issue 11 item 3: a DELETE whose delete record finds no
 * room fails, and then the key is still there, in memory as on the device
 * (it used to be dropped from memory first: the caller saw -ENOSPC, GET
 * missed, and the key came back after a restart).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "util.h"

#define KV "devices=sim:name=delfail capacity=8M segment_size=256K max_classes=8 reinsert=0"

static void key_of(char *buf, size_t len, unsigned int i, unsigned int salt)
{
	snprintf(buf, len, "llama@000000ff@0@%08x@t%u:x", i, salt);
}

static void test_failed_delete_keeps_the_key(void **state)
{
	static uint8_t val[200 << 10], got[200 << 10];
	struct fdpkv_cache *c = tu_open(KV);
	char key[64], x[64], salt[16];
	unsigned int i, other = 1;
	int ret = 0;

	(void)state;
	memset(val, 0x42, sizeof(val));
	/* x sits alone in the open segment of a class of its own: never a victim */
	for (other = 1; other < 100; other++) {
		snprintf(salt, sizeof(salt), "t%u", other);
		if (placement_class(salt, 6) != placement_class("t0", 6))
			break;
	}
	key_of(x, sizeof(x), 999, other);
	assert_int_equal(tu_set1(c, x, val, 100), 0);
	/* then one object per segment, each locked: nothing can be evicted */
	for (i = 0; i < 64; i++) {
		key_of(key, sizeof(key), i, 0);
		ret = tu_set1(c, key, val, sizeof(val));
		if (ret)
			break;
		assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, key), 0);
	}
	assert_int_equal(ret, -ENOSPC);
	/* its delete record finds no room: the DELETE fails and x stays */
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, x), -ENOSPC);
	assert_int_equal(tu_get1(c, x, got, 100), 0);
	fdpkv_close(c);
	/* and after a restart, as before it */
	c = tu_open(KV);
	assert_int_equal(tu_get1(c, x, got, 100), 0);
	fdpkv_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_delete_keeps_the_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
