// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_concurrency - two submitter threads x 10,000 operations while a third
 * thread polls the eventfd and drains: every id completes exactly once.
 * Also built and run under ThreadSanitizer. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

#define OPS_PER_THREAD	10000
#define NTHREADS	2

static struct fdpkv_cache *cache;
static atomic_uint seen[NTHREADS * OPS_PER_THREAD * 2 + 16];
static atomic_uint submitted, completed;
static atomic_bool submitters_done;

static void *submitter(void *arg)
{
	unsigned int t = (unsigned int)(uintptr_t)arg, i;
	uint8_t val[700], out[700];
	char key[48];

	memset(val, (int)t, sizeof(val));
	for (i = 0; i < OPS_PER_THREAD; i++) {
		struct fdpkv_key k;
		struct fdpkv_buf b;
		enum fdpkv_op op;
		uint64_t id;

		snprintf(key, sizeof(key), "m@0@0@t%u-%u@s%u", t, i % 300, i % 3);
		k = tu_key(key);
		switch (i % 5) {
		case 0:
			op = FDPKV_OP_SET;
			b = (struct fdpkv_buf){ val, sizeof(val) };
			break;
		case 1:
			op = FDPKV_OP_GET;
			b = (struct fdpkv_buf){ out + (i & 1), sizeof(val) - (i & 1) };
			break;
		case 2:
			op = FDPKV_OP_LOOKUP_LOCK;
			break;
		case 3:
			op = FDPKV_OP_DELETE;
			break;
		default:
			op = FDPKV_OP_EXISTS;
			break;
		}
		/* GET buffers are per thread and reused: wait below keeps them safe
		 * because a GET's buffer must stay valid until drained */
		assert_int_equal(fdpkv_submit(cache, op, 1, &k,
					      op == FDPKV_OP_SET || op == FDPKV_OP_GET ? &b : NULL,
					      (void *)(uintptr_t)(t + 1), &id), 0);
		assert_true(id > 0 && id < sizeof(seen) / sizeof(seen[0]));
		atomic_fetch_add(&submitted, 1);
		if (op == FDPKV_OP_LOOKUP_LOCK)
			fdpkv_unlock(cache, 1, &k);
		if (op == FDPKV_OP_GET)
			while (atomic_load(&seen[id]) == 0)
				sched_yield();
	}
	return NULL;
}

static void *drainer(void *arg)
{
	struct fdpkv_completion out[32];
	int fd = fdpkv_event_fd(cache);

	(void)arg;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n, i;

		if (atomic_load(&submitters_done) &&
		    atomic_load(&completed) == atomic_load(&submitted))
			break;
		poll(&p, 1, 100);
		n = fdpkv_drain(cache, out, 32);
		for (i = 0; i < n; i++) {
			unsigned int prev = atomic_fetch_add(&seen[out[i].id], 1);

			assert_int_equal(prev, 0);	/* exactly once */
			assert_int_equal(out[i].nkeys, 1);
			assert_true(out[i].user_data == (void *)1 || out[i].user_data == (void *)2);
			fdpkv_completion_release(&out[i]);
			atomic_fetch_add(&completed, 1);
		}
	}
	return NULL;
}

static void run(const char *kv)
{
	pthread_t sub[NTHREADS], dr;
	unsigned int i, total = NTHREADS * OPS_PER_THREAD;

	memset(seen, 0, sizeof(seen));
	atomic_store(&submitted, 0);
	atomic_store(&completed, 0);
	atomic_store(&submitters_done, false);
	cache = tu_open(kv);
	assert_int_equal(pthread_create(&dr, NULL, drainer, NULL), 0);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&sub[i], NULL, submitter, (void *)(uintptr_t)i), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(sub[i], NULL);
	atomic_store(&submitters_done, true);
	pthread_join(dr, NULL);
	assert_int_equal(atomic_load(&submitted), total);
	assert_int_equal(atomic_load(&completed), total);
	for (i = 1; i <= total; i++)
		assert_int_equal(atomic_load(&seen[i]), 1);
	assert_int_equal(atomic_load(&seen[total + 1]), 0);
	fdpkv_close(cache);
}

static void test_sim(void **state)
{
	(void)state;
	run("device=sim: capacity=64M segment_size=1M queue_depth=32");
}

static void test_file_io_uring(void **state)
{
	char *dir = tu_mkdtemp(), kv[600];

	(void)state;
	snprintf(kv, sizeof(kv), "device=file:%s/c.img capacity=64M segment_size=1M", dir);
	run(kv);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim),
		cmocka_unit_test(test_file_io_uring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
