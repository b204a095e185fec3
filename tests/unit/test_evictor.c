// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_evictor - fdpkv_submit never evicts: a SET that finds no room queues
 * and the evictor thread evicts and completes it; with the evictor held, the
 * submit returns having evicted nothing, its completion waits, and it comes
 * once the evictor runs. A write that cannot get room at all (everything
 * locked) still fails with -ENOSPC, from the evictor.
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

static char *dir;
static char kv[512];

static int setup(void **state)
{
	(void)state;
	dir = tu_mkdtemp();
	/* 8 segments of 1 MiB; 256 KiB values: 3 per segment */
	snprintf(kv, sizeof(kv), "device=file:%s/dev.img capacity=8M segment_size=1M "
		 "free_segments_low=1 format=always", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmdir(dir);
	return 0;
}

static uint64_t evicted(struct fdpkv_cache *c)
{
	struct fdpkv_stats s;

	assert_int_equal(fdpkv_stats(c, &s), 0);
	return s.evicted_segments;
}

/* SET keys "k<i>" until a submit's completion does not come by itself. */
static void test_submit_does_not_evict(void **state)
{
	struct fdpkv_cache *c = tu_open(kv);
	static uint8_t val[256 << 10];
	struct fdpkv_completion done;
	struct fdpkv_key k;
	struct fdpkv_buf b = { val, sizeof(val) };
	uint64_t id, before;
	char name[32];
	unsigned int i;
	int got = 0;

	(void)state;
	tu_fill(val, sizeof(val), 1);
	evictor_hold(c, true);
	/* fill until a write has to wait for room: its completion is held back */
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "m@0@0@k%u", i);
		k = tu_key(name);
		before = evicted(c);
		assert_int_equal(fdpkv_submit(c, FDPKV_OP_SET, 1, &k, &b, NULL, &id), 0);
		/* the submit itself evicted nothing */
		assert_int_equal(evicted(c), before);
		pthread_mutex_lock(&c->lock);
		got = c->devs[0].waiters != NULL;
		pthread_mutex_unlock(&c->lock);
		if (got)
			break;
		/* room was there: it completes without the evictor */
		while (fdpkv_drain(c, &done, 1) == 0)
			fdpkv_wait(c, -1);
		assert_int_equal(done.result, 0);
		fdpkv_completion_release(&done);
	}
	assert_true(got);			/* a write is waiting for room */
	assert_int_equal(evicted(c), 0);
	evictor_hold(c, false);
	while (fdpkv_drain(c, &done, 1) == 0)
		fdpkv_wait(c, -1);
	assert_int_equal(done.result, 0);	/* the evictor made room */
	fdpkv_completion_release(&done);
	assert_true(evicted(c) > 0);
	fdpkv_close(c);
}

/* Every object locked: nothing can be evicted, and the write fails. */
static void test_no_room_fails_enospc(void **state)
{
	struct fdpkv_cache *c = tu_open(kv);
	static uint8_t val[256 << 10];
	char name[32];
	unsigned int i;
	int ret = 0;

	(void)state;
	tu_fill(val, sizeof(val), 2);
	for (i = 0; i < 64 && ret == 0; i++) {
		snprintf(name, sizeof(name), "m@0@0@l%u", i);
		ret = tu_set1(c, name, val, sizeof(val));
		if (ret == 0)
			assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, name), 0);
	}
	assert_int_equal(ret, -ENOSPC);
	fdpkv_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_submit_does_not_evict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_room_fails_enospc, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
