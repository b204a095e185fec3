// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_errors - refusals at open, eviction (FIFO, reported keys, locked
 * objects kept and still loadable) and a full device with everything locked. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static void test_open_refusals(void **state)
{
	struct fdpkv_cache *c = NULL;
	char err[256] = "", kv[600];
	char *dir = tu_mkdtemp();

	(void)state;
	snprintf(kv, sizeof(kv), "device=file:%s/missing.img format=never capacity=64M", dir);
	assert_int_equal(tu_try_open(kv, &c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "missing.img"));
	snprintf(kv, sizeof(kv), "device=file:%s/nocap.img", dir);
	assert_int_equal(tu_try_open(kv, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "capacity"));
	assert_int_equal(tu_try_open("device=bogus:/x", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown scheme"));
	assert_int_equal(tu_try_open("device=nocolon", &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(tu_try_open("capacity=1G", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "devices"));
	assert_int_equal(tu_try_open("device=sim:handles=99", &c, err, sizeof(err)), -EINVAL);
	/* too small for 3 segments */
	snprintf(kv, sizeof(kv), "device=file:%s/small.img capacity=8M segment_size=4M", dir);
	assert_int_equal(tu_try_open(kv, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "segments"));
	/* an existing non-cache file is refused without format */
	snprintf(kv, sizeof(kv), "device=file:%s/small.img format=never", dir);
	assert_int_equal(tu_try_open(kv, &c, err, sizeof(err)), -ENODATA);
	assert_non_null(strstr(err, "no fdpkv cache"));
	/* formatted with another segment size */
	snprintf(kv, sizeof(kv), "device=file:%s/a.img capacity=64M segment_size=4M", dir);
	c = tu_open(kv);
	fdpkv_close(c);
	snprintf(kv, sizeof(kv), "device=file:%s/a.img segment_size=8M", dir);
	assert_int_equal(tu_try_open(kv, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "segment_size"));
	snprintf(kv, sizeof(kv), "device=file:%s/a.img segment_size=8M format=always", dir);
	c = tu_open(kv);
	fdpkv_close(c);
	/* a device of another set */
	snprintf(kv, sizeof(kv), "device=file:%s/b.img capacity=64M segment_size=4M", dir);
	c = tu_open(kv);
	fdpkv_close(c);
	snprintf(kv, sizeof(kv), "devices=file:%s/a.img;file:%s/b.img", dir, dir);
	assert_int_equal(tu_try_open(kv, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "another cache"));
	fdpkv_close(NULL);
	tu_rmdir(dir);
}

struct ev_log {
	unsigned int n;
	char first[64];
};

static void on_evicted(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	struct ev_log *l = arg;

	(void)vlen;
	if (!l->n++)
		snprintf(l->first, sizeof(l->first), "%.*s", (int)klen, (const char *)key);
}

/* 16 segments of 1 MiB; values of 200 KiB: about 5 per segment. */
#define VAL	(200 * 1024)

static void test_eviction_fifo_and_locks(void **state)
{
	struct fdpkv_cache *c = tu_open("device=sim: capacity=32M segment_size=1M placement=none");
	struct fdpkv_stats st;
	struct ev_log log = { 0 };
	uint8_t *v = malloc(VAL), *o = malloc(VAL);
	char key[32];
	unsigned int i;

	(void)state;
	tu_fill(v, VAL, 7);
	assert_int_equal(tu_set1(c, "m@0@0@locked", v, VAL), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, "m@0@0@locked"), 0);
	for (i = 0; i < 400; i++) {
		snprintf(key, sizeof(key), "m@0@0@k%u", i);
		assert_int_equal(tu_set1(c, key, v, VAL), 0);
	}
	assert_int_equal(fdpkv_stats(c, &st), 0);
	assert_true(st.evicted_segments > 10);
	assert_int_equal(fdpkv_take_evicted(c, on_evicted, &log), (int)st.evicted_objects);
	/* 5 objects per segment: k0..k3 share the locked key's segment, which
	 * is skipped, so the oldest evictable object is k4 */
	assert_string_equal(log.first, "m@0@0@k4");
	assert_int_equal(fdpkv_take_evicted(c, on_evicted, &log), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@0@0@k0"), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@0@0@k4"), -ENOENT);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@0@0@k399"), 0);
	/* the locked object survived every eviction and loads exactly */
	assert_int_equal(tu_get1(c, "m@0@0@locked", o, VAL), 0);
	assert_memory_equal(o, v, VAL);
	fdpkv_unlock(c, 1, &(struct fdpkv_key){ "m@0@0@locked", 12 });
	free(v);
	free(o);
	fdpkv_close(c);
}

static void test_full_all_locked(void **state)
{
	struct fdpkv_cache *c = tu_open("device=sim: capacity=16M segment_size=1M placement=none");
	struct fdpkv_key keys[200];
	char names[200][24];
	uint8_t *v = calloc(1, VAL);
	unsigned int i, n = 0;
	int ret = 0;

	(void)state;
	/* fill and lock until a set fails: it must fail, not block or overwrite */
	for (i = 0; i < 200; i++) {
		snprintf(names[i], sizeof(names[i]), "m@0@0@f%u", i);
		keys[i] = tu_key(names[i]);
		ret = tu_set1(c, names[i], v, VAL);
		if (ret)
			break;
		assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, names[i]), 0);
		n++;
	}
	assert_int_equal(ret, -ENOSPC);
	assert_true(n > 20);
	for (i = 0; i < n; i++)
		assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, names[i]), 0);
	/* unlocking makes room again */
	fdpkv_unlock(c, n, keys);
	assert_int_equal(tu_set1(c, "m@0@0@after", v, VAL), 0);
	free(v);
	fdpkv_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_refusals),
		cmocka_unit_test(test_eviction_fifo_and_locks),
		cmocka_unit_test(test_full_all_locked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
