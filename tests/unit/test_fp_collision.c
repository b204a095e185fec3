// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_fp_collision - keys that share a fingerprint, through the public API.
 * The index keeps a key's fingerprint, not the key (lib/index.c): two keys of
 * one fingerprint and length are one key to it, and a GET compares the key in
 * the object header. FDPKV_INDEX_FP_BITS=10 gives 1024 fingerprints per key
 * length, so among 3000 keys most share one. The rule checked: a GET
 * returns the latest value written for its key or misses; never another
 * key's value, never an older version, never a deleted one; across
 * evictions, carried delete records and restarts, on one device and two
 * (where keys of one fingerprint on different devices stay apart).
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

#define VLEN	4096u

static char kv[768];
static unsigned int ndevs = 1;

/* One file device, or two (ndevs): keys spread over them by key_dev. */
static struct fdpkv_cache *open_cache(const char *format)
{
	char devs[600];

	if (ndevs == 1)
		snprintf(devs, sizeof(devs), "device=file:%s/fp.img", tu_dir);
	else
		snprintf(devs, sizeof(devs), "devices=file:%s/fp0.img;file:%s/fp1.img", tu_dir,
			 tu_dir);
	snprintf(kv, sizeof(kv), "%s capacity=8M segment_size=1M free_segments_low=3 format=%s",
		 devs, format);
	return tu_open(kv);
}

static void key_name(char *buf, size_t cap, const char *pfx, unsigned int i)
{
	snprintf(buf, cap, "m@0@0@%s%05u", pfx, i);
}

/* @b: another key of @a's length and fingerprint. */
static void collide(struct fdpkv_cache *c, const char *a, char *b, size_t cap)
{
	uint64_t fp = index_key_fp(&c->ix, a, (uint32_t)strlen(a));
	unsigned int i;

	for (i = 0; i < 100000; i++) {
		key_name(b, cap, "b", i);
		if (strlen(b) == strlen(a) &&
		    index_key_fp(&c->ix, b, (uint32_t)strlen(b)) == fp)
			return;
	}
	fail_msg("no key shares %s's fingerprint", a);
}

/*
 * Two devices: keys of one fingerprint and length on different devices are
 * different keys, since what keeps old versions hidden is per device.
 */
static void test_pair_across_devices(void **state)
{
	static uint8_t va[VLEN], vb[VLEN], got[VLEN];
	struct fdpkv_cache *c;
	char a[32], b[32];
	unsigned int i;

	(void)state;
	ndevs = 2;
	c = open_cache("always");
	key_name(a, sizeof(a), "a", 0);
	for (i = 0;; i++) {
		assert_true(i < 1000000);
		key_name(b, sizeof(b), "b", i);
		if (index_key_fp(&c->ix, a, (uint32_t)strlen(a)) ==
		    index_key_fp(&c->ix, b, (uint32_t)strlen(b)) &&
		    cache_key_dev(c, a, (uint32_t)strlen(a)) != cache_key_dev(c, b, (uint32_t)strlen(b)))
			break;
	}
	tu_fill(va, VLEN, 1);
	tu_fill(vb, VLEN, 2);
	assert_int_equal(tu_set1(c, a, va, VLEN), 0);
	assert_int_equal(tu_set1(c, b, vb, VLEN), 0);
	assert_int_equal(tu_get1(c, a, got, VLEN), 0);
	assert_memory_equal(got, va, VLEN);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, b), 0);
	assert_int_equal(tu_get1(c, a, got, VLEN), 0);
	assert_memory_equal(got, va, VLEN);
	fdpkv_close(c);
	c = open_cache("never");
	assert_int_equal(tu_get1(c, a, got, VLEN), 0);
	assert_memory_equal(got, va, VLEN);
	assert_int_equal(tu_get1(c, b, got, VLEN), -ENOENT);
	fdpkv_close(c);
	ndevs = 1;
}

static void test_pair(void **state)
{
	static uint8_t va[VLEN], vb[VLEN], got[VLEN];
	struct fdpkv_cache *c = open_cache("always");
	char a[32], b[32];

	(void)state;
	key_name(a, sizeof(a), "a", 0);
	collide(c, a, b, sizeof(b));
	tu_fill(va, VLEN, 1);
	tu_fill(vb, VLEN, 2);
	assert_int_equal(tu_set1(c, a, va, VLEN), 0);
	/* b finds a's entry and a's header: a miss, not a's value */
	assert_int_equal(tu_get1(c, b, got, VLEN), -ENOENT);
	assert_int_equal(tu_get1(c, a, got, VLEN), 0);
	assert_memory_equal(got, va, VLEN);
	/* b's SET takes the entry over: a is lost, as if evicted */
	assert_int_equal(tu_set1(c, b, vb, VLEN), 0);
	assert_int_equal(tu_get1(c, b, got, VLEN), 0);
	assert_memory_equal(got, vb, VLEN);
	assert_int_equal(tu_get1(c, a, got, VLEN), -ENOENT);
	/* a's DELETE drops the entry both share */
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, a), 0);
	assert_int_equal(tu_get1(c, b, got, VLEN), -ENOENT);
	fdpkv_close(c);

	/* after a restart the pair still shares one entry (the seed is the
	 * cache's): a's older versions stay hidden by b's delete record */
	c = open_cache("always");
	key_name(a, sizeof(a), "a", 0);
	collide(c, a, b, sizeof(b));
	assert_int_equal(tu_set1(c, a, va, VLEN), 0);
	tu_fill(va, VLEN, 3);
	assert_int_equal(tu_set1(c, a, va, VLEN), 0);
	assert_int_equal(tu_set1(c, b, vb, VLEN), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, b), 0);
	fdpkv_close(c);
	c = open_cache("never");
	assert_int_equal(tu_get1(c, a, got, VLEN), -ENOENT);
	assert_int_equal(tu_get1(c, b, got, VLEN), -ENOENT);
	fdpkv_close(c);
}

#define NKEYS	3000
#define NOPS	9000

/* Version v of key k: a value nothing else has. */
static void value_of(uint8_t *v, unsigned int k, unsigned int ver)
{
	tu_fill(v, VLEN, k * 100000u + ver);
}

/* @got is the latest version of key k, or the GET missed: never else. */
static void check_get(struct fdpkv_cache *c, unsigned int k, const unsigned int *ver)
{
	static uint8_t got[VLEN], want[VLEN];
	char name[32];
	int ret;

	key_name(name, sizeof(name), "k", k);
	ret = tu_get1(c, name, got, VLEN);
	if (ret == -ENOENT)
		return;
	assert_int_equal(ret, 0);
	if (!ver[k])
		fail_msg("%s: a value, but it was deleted or never written", name);
	value_of(want, k, ver[k]);
	if (memcmp(got, want, VLEN))
		fail_msg("%s: not its latest value (version %u)", name, ver[k]);
}

/* Random SET, DELETE and GET of 3000 keys in 1024 fingerprints on a device
 * that holds fewer: evictions, carried delete records, restarts. */
static void test_churn(void **state)
{
	static unsigned int ver[NKEYS];
	static uint8_t val[VLEN];
	struct fdpkv_cache *c = open_cache("always");
	unsigned int i, k, hits = 0;
	uint64_t evicted = 0;
	uint64_t seed = 12345;
	struct fdpkv_stats st;
	char name[32];
	int ret;

	(void)state;
	for (i = 0; i < NOPS; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		k = (unsigned int)(seed >> 33) % NKEYS;
		key_name(name, sizeof(name), "k", k);
		switch ((seed >> 20) % 8) {
		case 0:
			ret = tu_op1(c, FDPKV_OP_DELETE, name);
			assert_true(ret == 0 || ret == -ENOENT);
			ver[k] = 0;
			break;
		case 1:
		case 2:
		case 3:
			value_of(val, k, i + 1);
			assert_int_equal(tu_set1(c, name, val, VLEN), 0);
			ver[k] = i + 1;
			break;
		default:
			check_get(c, k, ver);
			break;
		}
		if (i % 3000 == 2999) {
			assert_int_equal(fdpkv_stats(c, &st), 0);
			evicted += st.evicted_objects;
			fdpkv_close(c);
			c = open_cache("never");
		}
	}
	for (k = 0; k < NKEYS; k++) {
		static uint8_t got[VLEN];

		check_get(c, k, ver);
		key_name(name, sizeof(name), "k", k);
		hits += tu_get1(c, name, got, VLEN) == 0;
	}
	assert_int_equal(fdpkv_stats(c, &st), 0);
	/* the device did evict, and some keys are still found */
	assert_true(evicted + st.evicted_objects > 0);
	assert_true(hits > 0);
	fdpkv_close(c);
}

static void test_churn_two_devices(void **state)
{
	ndevs = 2;
	test_churn(state);
	ndevs = 1;
}

static int setup(void **state)
{
	setenv("FDPKV_INDEX_FP_BITS", "10", 1);
	return tu_dir_setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_pair_across_devices),
		cmocka_unit_test(test_churn_two_devices),
	};

	return cmocka_run_group_tests(tests, setup, tu_dir_teardown);
}
