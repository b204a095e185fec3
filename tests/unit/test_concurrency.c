// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_concurrency - two submitter threads x 10,000 operations while a third
 * thread polls the eventfd and drains: every id completes exactly once; also
 * with the values in a registered arena while a fourth thread registers and
 * unregisters another one. Also built and run under ThreadSanitizer. */
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
static uint8_t *arena;		/* values live here when set */

static void *submitter(void *arg)
{
	unsigned int t = (unsigned int)(uintptr_t)arg, i;
	uint8_t val_local[700], out_local[700];
	uint8_t *val = val_local, *out = out_local;
	size_t vlen = sizeof(val_local);
	char key[48];

	if (arena) {
		/* whole aligned blocks of the arena: the copy-free path */
		val = arena + t * 8192;
		out = arena + (NTHREADS + t) * 8192;
		vlen = 4096;
	}
	memset(val, (int)t, vlen);
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
			b = (struct fdpkv_buf){ val, vlen };
			break;
		case 1:
			op = FDPKV_OP_GET;
			b = arena ? (struct fdpkv_buf){ out, vlen }
				  : (struct fdpkv_buf){ out + (i & 1), vlen - (i & 1) };
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

/* Run the submitters and the drainer, and @extra(@extra_arg) beside them. */
static void run_with(const char *kv, void *(*extra)(void *), void *extra_arg,
		     struct fdpkv_stats *st)
{
	pthread_t sub[NTHREADS], dr, ex;
	unsigned int i, total = NTHREADS * OPS_PER_THREAD;

	memset(seen, 0, sizeof(seen));
	atomic_store(&submitted, 0);
	atomic_store(&completed, 0);
	atomic_store(&submitters_done, false);
	cache = tu_open(kv);
	if (arena)
		assert_true(fdpkv_register_arena(cache, arena, 64u << 10) >= 0);
	assert_int_equal(pthread_create(&dr, NULL, drainer, NULL), 0);
	if (extra)
		assert_int_equal(pthread_create(&ex, NULL, extra, extra_arg), 0);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&sub[i], NULL, submitter, (void *)(uintptr_t)i), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(sub[i], NULL);
	atomic_store(&submitters_done, true);
	pthread_join(dr, NULL);
	if (extra)
		pthread_join(ex, NULL);
	if (st)
		assert_int_equal(fdpkv_stats(cache, st), 0);
	assert_int_equal(atomic_load(&submitted), total);
	assert_int_equal(atomic_load(&completed), total);
	for (i = 1; i <= total; i++)
		assert_int_equal(atomic_load(&seen[i]), 1);
	assert_int_equal(atomic_load(&seen[total + 1]), 0);
	fdpkv_close(cache);
}

static void run(const char *kv)
{
	run_with(kv, NULL, NULL, NULL);
}

static void test_sim(void **state)
{
	(void)state;
	run("device=sim: capacity=64M segment_size=1M queue_depth=32");
}

/* Registers and unregisters an arena of its own while the others run. */
static void *registrar(void *arg)
{
	uint8_t *other = arg;

	while (!atomic_load(&submitters_done)) {
		int id = fdpkv_register_arena(cache, other, 1u << 20);

		assert_true(id >= 0);
		assert_int_equal(fdpkv_unregister_arena(cache, id), 0);
	}
	return NULL;
}

static void test_file_arena(void **state)
{
	char *dir = tu_mkdtemp(), kv[600];
	uint8_t *mem = NULL;
	struct fdpkv_stats st;

	(void)state;
	assert_int_equal(posix_memalign((void **)&mem, 4096, 2u << 20), 0);
	arena = mem;
	snprintf(kv, sizeof(kv), "device=file:%s/c.img capacity=64M segment_size=1M", dir);
	run_with(kv, registrar, mem + (1u << 20), &st);
	/* the sets and the gets that hit went through the arena */
	assert_true(st.direct_bytes > 0);
	assert_true(st.fixed_cmds > 0);
	arena = NULL;
	free(mem);
	tu_rmdir(dir);
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
		cmocka_unit_test(test_file_arena),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
