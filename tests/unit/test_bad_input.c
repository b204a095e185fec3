// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_bad_input - issue 11 item 5: bad input gets a clear error, never a
 * crash: a SET length near 2^64, an empty value with a NULL buffer, a
 * second fdpkv_close, a close while another thread waits in fdpkv_wait;
 * and a struct fdpkv_stats of another library version's size.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

#define KV "device=sim: capacity=64M"

/* A length that wraps the object size to a small number must fail with -EFBIG. */
static void test_set_length_near_2_64(void **state)
{
	static const uint64_t lens[] = { UINT64_MAX, UINT64_MAX - 4095, UINT64_MAX - 100,
					 1ull << 63, (64ull << 20) + 1 };
	struct fdpkv_cache *c = tu_open(KV);
	uint8_t small[16] = { 0 };
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		assert_int_equal(tu_set1(c, "huge", small, lens[i]), -EFBIG);
	assert_int_equal(tu_get1(c, "huge", small, sizeof(small)), -ENOENT);
	fdpkv_close(c);
}

/* An empty value may come and go with a NULL buffer. */
static void test_empty_value_null_buffer(void **state)
{
	struct fdpkv_cache *c = tu_open(KV);

	(void)state;
	assert_int_equal(tu_set1(c, "empty", NULL, 0), 0);
	assert_int_equal(tu_get1(c, "empty", NULL, 0), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "empty"), 0);
	fdpkv_close(c);
}

/*
 * fdpkv_stats passes the caller's sizeof: a program built against an older
 * header (a shorter struct) gets its fields and nothing past them; one
 * built against a newer header reads 0 in the fields beyond this library's.
 */
static void test_stats_sized_by_caller(void **state)
{
	struct fdpkv_cache *c = tu_open(KV);
	size_t full = sizeof(struct fdpkv_stats), old = offsetof(struct fdpkv_stats, pad_bytes);
	uint8_t buf[sizeof(struct fdpkv_stats) + 64];
	struct fdpkv_stats *s = (struct fdpkv_stats *)buf;
	uint8_t val[100] = { 0 };
	size_t i;

	(void)state;
	assert_int_equal(tu_set1(c, "k", val, sizeof(val)), 0);
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(fdpkv_stats_get(c, s, old), 0);
	assert_int_equal(s->sets, 1);
	for (i = old; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xa5);
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(fdpkv_stats_get(c, s, sizeof(buf)), 0);
	assert_int_equal(s->sets, 1);
	assert_int_equal(s->index_entries, 1);
	for (i = full; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(fdpkv_stats_get(c, s, old - 1), -EINVAL);
	assert_int_equal(fdpkv_stats_get(c, NULL, full), -EINVAL);
	assert_int_equal(fdpkv_stats(c, s), 0);
	fdpkv_close(c);
}

static void test_double_close(void **state)
{
	struct fdpkv_cache *c = tu_open(KV);

	(void)state;
	assert_int_equal(fdpkv_close(c), 0);
	assert_int_equal(fdpkv_close(c), -EBADF);
	assert_int_equal(fdpkv_wait(c, 0), -EBADF);
	assert_int_equal(fdpkv_close(NULL), -EINVAL);
}

struct waiter {
	struct fdpkv_cache *c;
	int ret;
	int started;
};

static void *wait_forever(void *arg)
{
	struct waiter *w = arg;

	__atomic_store_n(&w->started, 1, __ATOMIC_SEQ_CST);
	w->ret = fdpkv_wait(w->c, -1);
	return NULL;
}

/* A thread blocked in fdpkv_wait is woken by close, before anything is freed. */
static void test_close_while_waiting(void **state)
{
	struct waiter w = { .c = tu_open(KV) };
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, wait_forever, &w), 0);
	while (!__atomic_load_n(&w.started, __ATOMIC_SEQ_CST))
		usleep(1000);
	usleep(20000);	/* into cq_wait, most likely; either order must work */
	assert_int_equal(fdpkv_close(w.c), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(w.ret == -ESHUTDOWN || w.ret == -EBADF);
}

/* A geometry the index cannot name (more than 2^28 segments a device) is
 * refused before format writes anything, with the field to change. */
static void test_too_many_segments(void **state)
{
	struct fdpkv_cache *c = NULL;
	char *dir = tu_mkdtemp(), kv[512], err[256] = "", path[300];
	int ret;

	(void)state;
	snprintf(path, sizeof(path), "%s/big.img", dir);
	snprintf(kv, sizeof(kv), "device=file:%s capacity=2T segment_size=4096 format=always",
		 path);
	assert_int_equal(tu_try_open(kv, &c, err, sizeof(err)), -E2BIG);
	assert_null(c);
	assert_non_null(strstr(err, "segment_size"));
	/* nothing was written: no superblock to find */
	snprintf(kv, sizeof(kv), "device=file:%s format=never", path);
	ret = tu_try_open(kv, &c, err, sizeof(err));
	assert_true(ret < 0 && ret != -E2BIG);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_length_near_2_64),
		cmocka_unit_test(test_empty_value_null_buffer),
		cmocka_unit_test(test_stats_sized_by_caller),
		cmocka_unit_test(test_double_close),
		cmocka_unit_test(test_close_while_waiting),
		cmocka_unit_test(test_too_many_segments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
