// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_engine_faults - the device thread of a ring backend (file:) when
 * io_uring_wait_cqe fails with an error it does not expect: it must not
 * leave (its queued commands would never complete, nor would close), but
 * wait again. engine_fail_waits makes the next waits fail.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "util.h"

/* Run one op and wait for it at most 60 s: its result, or -ETIMEDOUT. */
static int run_deadline(struct fdpkv_cache *c, enum fdpkv_op op, const char *key, void *val,
			uint64_t len)
{
	struct fdpkv_key k = tu_key(key);
	struct fdpkv_buf b = { val, len };
	struct fdpkv_completion done;
	uint64_t id;
	int ret;

	ret = fdpkv_submit(c, op, 1, &k, &b, NULL, &id);
	if (ret)
		return ret;
	while (fdpkv_drain(c, &done, 1) != 1)
		if (fdpkv_wait(c, 60000) != 1)
			return -ETIMEDOUT;
	ret = done.result;
	fdpkv_completion_release(&done);
	return ret;
}

static void test_failed_waits_do_not_stop_the_engine(void **state)
{
	static uint8_t val[64 << 10], got[64 << 10];
	char *dir = tu_mkdtemp(), kv[512];
	struct fdpkv_cache *c;

	(void)state;
	snprintf(kv, sizeof(kv), "device=file:%s/c.img capacity=64M", dir);
	c = tu_open(kv);
	tu_fill(val, sizeof(val), 5);
	engine_fail_waits(c->devs[0].eng, 3);
	assert_int_equal(run_deadline(c, FDPKV_OP_SET, "k", val, sizeof(val)), 0);
	engine_fail_waits(c->devs[0].eng, 3);
	assert_int_equal(run_deadline(c, FDPKV_OP_GET, "k", got, sizeof(got)), 0);
	assert_memory_equal(got, val, sizeof(val));
	engine_fail_waits(c->devs[0].eng, 3);
	assert_int_equal(fdpkv_close(c), 0);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_waits_do_not_stop_the_engine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
