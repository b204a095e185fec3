// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_usage - per-salt usage buckets (usage.c): counted per salt, and a
 * bucket whose last object goes is freed (issue 11 item 7: vLLM may use a
 * salt per user or request, so buckets must not pile up); entries name
 * their bucket by an id, and ids of freed buckets are reused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "util.h"

#define KV "device=sim: capacity=256M"
#define NSALTS 3000

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

static void key_of(char *buf, size_t len, unsigned int salt, unsigned int i)
{
	snprintf(buf, len, "llama@000000ff@0@%08x@user%u:x", i, salt);
}

static void test_empty_buckets_are_freed(void **state)
{
	struct fdpkv_cache *c = tu_open(KV);
	static uint8_t val[100];
	struct seen s = { 0 };
	char key[96];
	unsigned int i;

	(void)state;
	for (i = 0; i < NSALTS; i++) {
		key_of(key, sizeof(key), i, i);
		assert_int_equal(tu_set1(c, key, val, sizeof(val)), 0);
	}
	assert_int_equal(fdpkv_usage_by_bucket(c, count, &s), 0);
	assert_int_equal(s.n, NSALTS);
	assert_int_equal(s.bytes, NSALTS * sizeof(val));
	for (i = 1; i < NSALTS; i++) {
		key_of(key, sizeof(key), i, i);
		assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, key), 0);
	}
	memset(&s, 0, sizeof(s));
	assert_int_equal(fdpkv_usage_by_bucket(c, count, &s), 0);
	assert_int_equal(s.n, 1);	/* only salt 0 still holds an object */
	assert_int_equal(s.bytes, sizeof(val));
	/* a salt that comes back is counted afresh */
	key_of(key, sizeof(key), 7, 70);
	assert_int_equal(tu_set1(c, key, val, 10), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(fdpkv_usage_by_bucket(c, count, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.bytes, sizeof(val) + 10);
	fdpkv_close(c);
}

/* Bucket ids come back: salts churning through the cache use no more ids
 * than live at once, and an entry uncounts from the bucket that counted it. */
static void test_bucket_ids_reused(void **state)
{
	struct fdpkv_cache *c = tu_open(KV);
	static uint8_t val[100];
	struct seen s = { 0 };
	char key[96];
	unsigned int i, round;
	uint32_t next;

	(void)state;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < NSALTS; i++) {
			key_of(key, sizeof(key), round * NSALTS + i, i);
			assert_int_equal(tu_set1(c, key, val, 1 + i % 50), 0);
		}
		/* all but the last ten of this round's salts go */
		for (i = 0; i < NSALTS - 10; i++) {
			key_of(key, sizeof(key), round * NSALTS + i, i);
			assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, key), 0);
		}
	}
	pthread_mutex_lock(&c->lock);
	next = c->bucket_id_next;
	pthread_mutex_unlock(&c->lock);
	assert_true(next <= NSALTS + 2 * 10 + 1);	/* not 3 x NSALTS */
	assert_int_equal(fdpkv_usage_by_bucket(c, count, &s), 0);
	assert_int_equal(s.n, 3 * 10);
	for (i = NSALTS - 10, s.bytes = 0; i < NSALTS; i++)
		s.bytes += 3 * (1 + i % 50);
	{
		struct seen t = { 0 };

		assert_int_equal(fdpkv_usage_by_bucket(c, count, &t), 0);
		assert_int_equal(t.bytes, s.bytes);
	}
	fdpkv_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_buckets_are_freed),
		cmocka_unit_test(test_bucket_ids_reused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
