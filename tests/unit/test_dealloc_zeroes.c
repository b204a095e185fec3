// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_dealloc_zeroes - on a device whose deallocate keeps the old bytes
 * (sim dealloc=keep, like NVMe DLFEAT 2:0 != 001b), evicted segments must not
 * come back after a restart: no evicted or deleted key is found again and no
 * key returns other bytes than its last SET. With dealloc_zeroes=yes forced
 * on such a device they do come back (which shows the test can see it), and
 * the decision is visible in fdpkv_device_stats().
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

#define NKEYS	1500		/* each key set about once or twice */
#define VLEN	20000		/* 24 KiB on the device: 10 per 256 KiB segment */
#define OPS	3000

/* 28 segments of 256 KiB, 6 kept free: evicted segments wait there unused */
#define GEOMETRY "capacity=8M segment_size=256K placement=none free_segments_low=6"

static uint32_t ver[NKEYS];		/* version of the last SET, 0: absent */
static uint32_t gone[NKEYS];		/* 1: deleted last, 2: evicted last */

static void name_of(char *buf, size_t len, unsigned int k)
{
	snprintf(buf, len, "m@1@0@%04u", k);
}

static void forget(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	unsigned int k;
	char name[32];

	(void)arg;
	(void)vlen;
	assert_true(klen < sizeof(name));
	memcpy(name, key, klen);
	name[klen] = '\0';
	k = (unsigned int)strtoul(name + strlen("m@1@0@"), NULL, 10);
	assert_true(k < NKEYS);
	ver[k] = 0;
	gone[k] = 2;
}

/*
 * Write several times the capacity with sets and deletes, so that data and
 * metadata segments (delete records) are evicted and reused, and record what
 * should be there. Deterministic.
 */
static void churn(struct fdpkv_cache *c, uint8_t *v)
{
	unsigned int i, k, recent[4] = { 0 };
	uint32_t x = 12345;
	char name[32];

	memset(ver, 0, sizeof(ver));
	memset(gone, 0, sizeof(gone));
	for (i = 0; i < OPS; i++) {
		if (i % 3 == 2) {
			/* delete a key set a few operations ago: it is still there */
			k = recent[i % 4];
			name_of(name, sizeof(name), k);
			assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, name), ver[k] ? 0 : -ENOENT);
			fdpkv_take_evicted(c, forget, NULL);
			ver[k] = 0;
			gone[k] = 1;
			continue;
		}
		x = x * 1103515245u + 12345u;
		k = (x >> 8) % NKEYS;
		name_of(name, sizeof(name), k);
		tu_fill(v, VLEN, k * 7919u + i + 1);
		assert_int_equal(tu_set1(c, name, v, VLEN), 0);
		/* evictions this SET caused: never the version it just wrote */
		fdpkv_take_evicted(c, forget, NULL);
		ver[k] = i + 1;
		gone[k] = 0;
		recent[(i + 3) % 4] = k;
	}
}

struct found {
	unsigned int live, evicted, deleted, wrong, lost;
};

/* What a reopened cache holds, against what churn() recorded. */
static struct found check(struct fdpkv_cache *c, uint8_t *v, uint8_t *expect)
{
	struct found f = { 0 };
	unsigned int k;
	char name[32];

	for (k = 0; k < NKEYS; k++) {
		int st;

		name_of(name, sizeof(name), k);
		memset(v, 0, VLEN);
		st = tu_get1(c, name, v, VLEN);
		if (st == -ENOENT) {
			f.lost += ver[k] != 0;
			continue;
		}
		assert_int_equal(st, 0);
		if (!ver[k]) {
			f.deleted += gone[k] == 1;
			f.evicted += gone[k] == 2;
			continue;
		}
		tu_fill(expect, VLEN, k * 7919u + ver[k]);
		if (memcmp(v, expect, VLEN))
			f.wrong++;
		else
			f.live++;
	}
	return f;
}

static void run(const char *uri, const char *extra, struct found *f,
		struct fdpkv_device_stats *ds)
{
	uint8_t *v = malloc(VLEN), *expect = malloc(VLEN);
	struct fdpkv_stats st;
	struct fdpkv_cache *c;
	char kv[256];

	assert_non_null(v);
	assert_non_null(expect);
	snprintf(kv, sizeof(kv), "device=%s " GEOMETRY " %s", uri, extra);
	c = tu_open(kv);
	churn(c, v);
	/*
	 * The evictor runs ahead of need: it may evict after the last
	 * SET's report was taken, and close would end the cache with those
	 * evictions unreported (keys that look lost). Hold it quiet, take
	 * the rest.
	 */
	evictor_hold_quiet(c);
	fdpkv_take_evicted(c, forget, NULL);
	assert_int_equal(fdpkv_stats(c, &st), 0);
	assert_int_equal(fdpkv_device_stats(c, 0, ds), 0);
	/* the churn is only a test if segments of both kinds were reused */
	assert_true(st.evicted_segments > 28);
	assert_true(st.classes[0].bytes_written > 4 * (256u << 10));
	fdpkv_close(c);

	c = tu_open(kv);	/* the same named sim device: a restart */
	*f = check(c, v, expect);
	fdpkv_close(c);
	free(v);
	free(expect);
}

static void test_keeping_device_is_wiped(void **state)
{
	struct fdpkv_device_stats ds;
	struct found f;

	(void)state;
	run("sim:dealloc=keep&name=dz-auto", "", &f, &ds);
	assert_int_equal(ds.dlfeat, 0);
	assert_false(ds.dealloc_zeroes);
	assert_true(ds.wiped_segments > 0);
	assert_int_equal(f.evicted, 0);
	assert_int_equal(f.deleted, 0);
	assert_int_equal(f.wrong, 0);
	assert_int_equal(f.lost, 0);
	assert_true(f.live > 0);
}

/* dealloc_zeroes=no wipes on a device that zeroes anyway: same result */
static void test_forced_no(void **state)
{
	struct fdpkv_device_stats ds;
	struct found f;

	(void)state;
	run("sim:name=dz-no", "dealloc_zeroes=no", &f, &ds);
	assert_int_equal(ds.dlfeat, 1);
	assert_false(ds.dealloc_zeroes);
	assert_true(ds.wiped_segments > 0);
	assert_int_equal(f.evicted + f.deleted + f.wrong + f.lost, 0);
}

/*
 * dealloc_zeroes=yes trusts a device that keeps the bytes: what the wipe
 * prevents happens, so the checks above can fail.
 */
static void test_forced_yes_on_keeping_device(void **state)
{
	struct fdpkv_device_stats ds;
	struct found f;

	(void)state;
	run("sim:dealloc=keep&name=dz-yes", "dealloc_zeroes=yes", &f, &ds);
	assert_true(ds.dealloc_zeroes);
	assert_int_equal(ds.wiped_segments, 0);
	printf("# trusted a keeping device: %u evicted and %u deleted keys came back, "
	       "%u wrong\n", f.evicted, f.deleted, f.wrong);
	assert_true(f.evicted > 0);
}

/* A zeroing device, auto: nothing is wiped. */
static void test_zeroing_device_not_wiped(void **state)
{
	struct fdpkv_device_stats ds;
	struct found f;

	(void)state;
	run("sim:name=dz-zero", "", &f, &ds);
	assert_true(ds.dealloc_zeroes);
	assert_int_equal(ds.wiped_segments, 0);
	assert_int_equal(f.evicted + f.deleted + f.wrong + f.lost, 0);
}

/* A file that can punch holes (tmp) reads zeroes after deallocate. */
static void test_file_detection(void **state)
{
	struct fdpkv_device_stats ds;
	struct fdpkv_cache *c;
	char *dir = tu_mkdtemp();
	char kv[600];

	(void)state;
	snprintf(kv, sizeof(kv), "device=file:%s/dev.img capacity=16M segment_size=1M", dir);
	c = tu_open(kv);
	assert_int_equal(fdpkv_device_stats(c, 0, &ds), 0);
	assert_true(ds.dealloc_zeroes);
	assert_int_equal(ds.dlfeat, -1);
	fdpkv_close(c);
	tu_rmdir(dir);
}

static void test_sim_refusals(void **state)
{
	struct fdpkv_cache *c = NULL, *c2 = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(tu_try_open("device=sim:dealloc=maybe", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dealloc=zero|keep"));
	c = tu_open("device=sim:name=dz-busy capacity=8M");
	/* one cache at a time on a named device */
	assert_int_equal(tu_try_open("device=sim:name=dz-busy capacity=8M", &c2, err,
				     sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "is open"));
	fdpkv_close(c);
	assert_int_equal(tu_try_open("device=sim:name=dz-busy capacity=16M", &c2, err,
				     sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "other options"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keeping_device_is_wiped),
		cmocka_unit_test(test_forced_no),
		cmocka_unit_test(test_forced_yes_on_keeping_device),
		cmocka_unit_test(test_zeroing_device_not_wiped),
		cmocka_unit_test(test_file_detection),
		cmocka_unit_test(test_sim_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
