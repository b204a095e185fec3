// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_oom - allocations that fail. This binary is linked with
 * -Wl,--wrap=malloc,--wrap=calloc (Makefile: UNIT_LDFLAGS), so that one
 * allocation of a chosen size can be made to fail: the library's and this
 * test's calls go through the wrappers below, everything else (cmocka,
 * liburing) does not.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "util.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);

static atomic_size_t fail_size;		/* allocations of this size fail ... */
static atomic_int fail_left;		/* ... this many times */

static bool fail_now(size_t n)
{
	int left = atomic_load(&fail_left);

	while (left > 0 && n == atomic_load(&fail_size))
		if (atomic_compare_exchange_weak(&fail_left, &left, left - 1))
			return true;
	return false;
}

void *__wrap_malloc(size_t n)
{
	return fail_now(n) ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	return fail_now(n * m) ? NULL : __real_calloc(n, m);
}

static void fail_next(size_t size, int times)
{
	atomic_store(&fail_size, size);
	atomic_store(&fail_left, times);
}

/* The per-key status of a one-key operation. */
static int32_t op_status(struct fdpkv_cache *c, enum fdpkv_op op, const char *key)
{
	struct fdpkv_key k = tu_key(key);
	struct fdpkv_completion done;
	int32_t st;

	tu_run(c, op, 1, &k, NULL, &done);
	st = done.status[0];
	fdpkv_completion_release(&done);
	return st;
}

#define K77 "k-77-bytes-long-key-.........................................................."
#define KLEN	(sizeof(K77) - 1)

/*
 * A DELETE whose delete record cannot be allocated fails with -ENOMEM,
 * whatever the key's state: not -ENOENT for an absent key nor -EBUSY for a
 * locked one, which would tell the caller something the cache never checked
 * for lack of memory. The key stays.
 */
static void test_delete_out_of_memory_says_so(void **state)
{
	struct fdpkv_cache *c = tu_open("device=sim: capacity=64M");
	char absent[sizeof(K77)];
	uint8_t v = 1;

	(void)state;
	assert_int_equal(strlen(K77), KLEN);
	memcpy(absent, K77, sizeof(K77));
	absent[0] = 'a';
	assert_int_equal(tu_set1(c, K77, &v, 1), 0);
	fail_next(sizeof(struct shadow_rec) + KLEN, 1);
	assert_int_equal(op_status(c, FDPKV_OP_DELETE, K77), -ENOMEM);
	assert_int_equal(op_status(c, FDPKV_OP_EXISTS, K77), 0);
	fail_next(sizeof(struct shadow_rec) + KLEN, 1);
	assert_int_equal(op_status(c, FDPKV_OP_DELETE, absent), -ENOMEM);
	assert_int_equal(op_status(c, FDPKV_OP_LOOKUP_LOCK, K77), 0);
	fail_next(sizeof(struct shadow_rec) + KLEN, 1);
	assert_int_equal(op_status(c, FDPKV_OP_DELETE, K77), -ENOMEM);
	fail_next(0, 0);
	assert_int_equal(op_status(c, FDPKV_OP_DELETE, K77), -EBUSY);
	fdpkv_close(c);
}

struct seen {
	unsigned int n;
	uint64_t bytes;
};

static int count(void *arg, const char *bucket, uint64_t bytes)
{
	struct seen *s = arg;

	(void)bucket;
	s->n++;
	s->bytes += bytes;
	return 0;
}

/*
 * A salt bucket that cannot be created for key A leaves A out of the
 * per-salt usage. When key B of the same salt creates the bucket and A then
 * goes, the bucket must still hold exactly B (not lose A's bytes it never
 * counted, nor be freed while B lives).
 */
static void test_bucket_out_of_memory_never_underflows(void **state)
{
	struct fdpkv_cache *c = tu_open("device=sim: capacity=64M placement=salt");
	static uint8_t va[300], vb[100];
	struct seen s = { 0 };
	struct fdpkv_usage u;

	(void)state;
	fail_next(sizeof(struct bucket_usage), 1);
	assert_int_equal(tu_set1(c, "llama@000000ff@0@00000001@user1:x", va, sizeof(va)), 0);
	fail_next(0, 0);
	assert_int_equal(tu_set1(c, "llama@000000ff@0@00000002@user1:x", vb, sizeof(vb)), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "llama@000000ff@0@00000001@user1:x"), 0);
	assert_int_equal(fdpkv_usage_by_bucket(c, count, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.bytes, sizeof(vb));
	assert_int_equal(fdpkv_usage(c, &u), 0);
	assert_int_equal(u.bytes_used, sizeof(vb));
	assert_int_equal(u.objects, 1);
	fdpkv_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delete_out_of_memory_says_so),
		cmocka_unit_test(test_bucket_out_of_memory_never_underflows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
