// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_roundtrip - SET/GET/EXISTS/LOOKUP_LOCK/DELETE/unlock through the
 * io_uring engine on the file backend (and sim), sizes 1 B .. 64 MiB,
 * unaligned buffers, misses, wrong-sized buffers, several devices. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util.h"

static char *dir;
static char uri[512];

static int setup(void **state)
{
	(void)state;
	dir = tu_mkdtemp();
	snprintf(uri, sizeof(uri), "device=file:%s/dev.img capacity=4G", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmdir(dir);
	return 0;
}

static void roundtrip_size(struct fdpkv_cache *c, uint64_t len, unsigned int in_off,
			   unsigned int out_off)
{
	uint8_t *in = malloc(len + 16), *out = malloc(len + 16);
	char key[64];

	assert_non_null(in);
	assert_non_null(out);
	snprintf(key, sizeof(key), "m@0@0@size%llu-%u-%u", (unsigned long long)len, in_off, out_off);
	tu_fill(in + in_off, len, (uint32_t)len);
	memset(out, 0xee, len + 16);
	assert_int_equal(tu_set1(c, key, in + in_off, len), 0);
	assert_int_equal(tu_get1(c, key, out + out_off, len), 0);
	assert_memory_equal(in + in_off, out + out_off, len);
	/* nothing written around the buffer */
	for (unsigned int i = 0; i < out_off; i++)
		assert_int_equal(out[i], 0xee);
	for (unsigned int i = 0; i < 16 - out_off; i++)
		assert_int_equal(out[out_off + len + i], 0xee);
	free(in);
	free(out);
}

static void test_sizes(void **state)
{
	struct fdpkv_cache *c = tu_open(uri);
	static const uint64_t sizes[] = { 1, 4095, 4096, 4097, (1 << 20) + 1, 3 << 20 };
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		roundtrip_size(c, sizes[i], 0, 0);
		roundtrip_size(c, sizes[i], 1, 3);	/* odd addresses */
		roundtrip_size(c, sizes[i], 7, 1);
	}
	fdpkv_close(c);
}

static void test_64mib(void **state)
{
	struct fdpkv_cache *c = tu_open(uri);
	struct timespec a, b;
	uint64_t len = 64ull << 20;
	double sec;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	roundtrip_size(c, len, 0, 5);
	clock_gettime(CLOCK_MONOTONIC, &b);
	sec = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("64 MiB set+get (ASan build, incl. fill and compare): %.2f s\n", sec);
	fdpkv_close(c);
}

static void test_miss_and_wrong_size(void **state)
{
	struct fdpkv_cache *c = tu_open(uri);
	struct fdpkv_key keys[3] = { tu_key("m@0@0@present"), tu_key("m@0@0@absent"),
				     tu_key("m@0@0@present2") };
	uint8_t v[100], o1[100], o2[100], o3[50];
	struct fdpkv_buf bufs[3] = { { o1, 100 }, { o2, 100 }, { o3, 50 } };
	struct fdpkv_completion done;

	(void)state;
	tu_fill(v, 100, 1);
	assert_int_equal(tu_set1(c, "m@0@0@present", v, 100), 0);
	assert_int_equal(tu_set1(c, "m@0@0@present2", v, 100), 0);
	memset(o2, 0x5a, sizeof(o2));
	memset(o3, 0x5a, sizeof(o3));
	assert_int_not_equal(tu_run(c, FDPKV_OP_GET, 3, keys, bufs, &done), 0);
	assert_int_equal(done.status[0], 0);
	assert_int_equal(done.status[1], -ENOENT);
	assert_int_equal(done.status[2], -EMSGSIZE);	/* buffer of another size */
	assert_int_equal(done.result, -ENOENT);		/* the first failure */
	assert_int_equal(done.value_len[0], 100);
	fdpkv_completion_release(&done);
	assert_memory_equal(o1, v, 100);
	for (unsigned int i = 0; i < 100; i++)
		assert_int_equal(o2[i], 0x5a);		/* miss: untouched */
	for (unsigned int i = 0; i < 50; i++)
		assert_int_equal(o3[i], 0x5a);
	fdpkv_close(c);
}

static void test_exists_lock_delete(void **state)
{
	struct fdpkv_cache *c = tu_open(uri);
	struct fdpkv_key k = tu_key("m@0@0@lk");
	struct fdpkv_completion done;
	uint8_t v[10] = { 1, 2, 3 }, o[10];

	(void)state;
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@0@0@lk"), -ENOENT);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "m@0@0@lk"), -ENOENT);
	/* a miss is an answer: the batch ran, so its result is 0 */
	assert_int_equal(fdpkv_submit(c, FDPKV_OP_EXISTS, 1, &k, NULL, NULL, &done.id), 0);
	assert_int_equal(fdpkv_wait(c, 30000), 1);
	assert_int_equal(fdpkv_drain(c, &done, 1), 1);
	assert_int_equal(done.result, 0);
	assert_int_equal(done.status[0], -ENOENT);
	fdpkv_completion_release(&done);
	assert_int_equal(tu_set1(c, "m@0@0@lk", v, 10), 0);
	assert_int_equal(tu_run(c, FDPKV_OP_EXISTS, 1, &k, NULL, &done), 0);
	assert_int_equal(done.value_len[0], 10);
	fdpkv_completion_release(&done);
	assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, "m@0@0@lk"), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, "m@0@0@lk"), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "m@0@0@lk"), -EBUSY);
	fdpkv_unlock(c, 1, &k);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "m@0@0@lk"), -EBUSY);
	/* re-set of a locked key keeps it loadable and locked */
	v[0] = 9;
	assert_int_equal(tu_set1(c, "m@0@0@lk", v, 10), 0);
	assert_int_equal(tu_get1(c, "m@0@0@lk", o, 10), 0);
	assert_int_equal(o[0], 9);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "m@0@0@lk"), -EBUSY);
	fdpkv_unlock(c, 1, &k);
	fdpkv_unlock(c, 1, &k);		/* extra unlock: ignored */
	fdpkv_unlock(c, 1, &(struct fdpkv_key){ "zz", 2 });
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "m@0@0@lk"), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@0@0@lk"), -ENOENT);
	assert_int_equal(tu_get1(c, "m@0@0@lk", o, 10), -ENOENT);
	assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, "m@0@0@lk"), -ENOENT);
	fdpkv_close(c);
}

static void test_bad_submits(void **state)
{
	struct fdpkv_cache *c = tu_open(uri);
	struct fdpkv_key k = tu_key("k"), empty = { "", 0 };
	struct fdpkv_buf b = { NULL, 1 };
	uint64_t id = 0;
	char big[FDPKV_KEY_MAX + 1];

	(void)state;
	assert_int_equal(fdpkv_submit(c, FDPKV_OP_SET, 0, &k, &b, NULL, &id), -EINVAL);
	assert_int_equal(fdpkv_submit(c, FDPKV_OP_SET, 1, &k, NULL, NULL, &id), -EINVAL);
	assert_int_equal(fdpkv_submit(c, FDPKV_OP_SET, 1, &k, &b, NULL, &id), -EINVAL);
	assert_int_equal(fdpkv_submit(c, FDPKV_OP_EXISTS, 1, &empty, NULL, NULL, &id), -EINVAL);
	assert_int_equal(fdpkv_submit(c, (enum fdpkv_op)99, 1, &k, NULL, NULL, &id), -EINVAL);
	memset(big, 'a', sizeof(big));
	assert_int_equal(fdpkv_submit(c, FDPKV_OP_EXISTS, 1,
				      &(struct fdpkv_key){ big, sizeof(big) }, NULL, NULL, &id),
			 -EINVAL);
	assert_int_equal(id, 0);
	/* too big for a segment: -EFBIG for that key only */
	{
		struct fdpkv_cache *s = tu_open("device=sim: capacity=64M segment_size=4M");
		struct fdpkv_key ks[2] = { tu_key("small"), tu_key("huge") };
		uint8_t *v = calloc(1, 4 << 20);
		struct fdpkv_buf bs[2] = { { v, 10 }, { v, 4 << 20 } };
		struct fdpkv_completion done;

		assert_int_equal(tu_run(s, FDPKV_OP_SET, 2, ks, bs, &done), -EFBIG);
		assert_int_equal(done.status[0], 0);
		assert_int_equal(done.status[1], -EFBIG);
		fdpkv_completion_release(&done);
		free(v);
		fdpkv_close(s);
	}
	fdpkv_close(c);
}

static void test_batch_and_ids(void **state)
{
	struct fdpkv_cache *c = tu_open(uri);
	enum { N = 40 };
	struct fdpkv_key keys[N];
	struct fdpkv_buf in[N], out[N];
	char names[N][48];
	struct fdpkv_completion done;
	uint64_t id1, id2;
	unsigned int i;

	(void)state;
	for (i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "llama@00000001@0@%04x@t%u:x", i, i % 5);
		keys[i] = tu_key(names[i]);
		in[i].len = out[i].len = 5000 + i * 997;
		in[i].base = malloc(in[i].len);
		out[i].base = malloc(out[i].len);
		tu_fill(in[i].base, in[i].len, i);
	}
	assert_int_equal(tu_run(c, FDPKV_OP_SET, N, keys, in, NULL), 0);
	assert_int_equal(tu_run(c, FDPKV_OP_GET, N, keys, out, &done), 0);
	for (i = 0; i < N; i++) {
		assert_int_equal(done.status[i], 0);
		assert_int_equal(done.value_len[i], in[i].len);
		assert_memory_equal(in[i].base, out[i].base, in[i].len);
	}
	fdpkv_completion_release(&done);
	assert_int_equal(fdpkv_submit(c, FDPKV_OP_EXISTS, 1, keys, NULL, NULL, &id1), 0);
	assert_int_equal(fdpkv_submit(c, FDPKV_OP_EXISTS, 1, keys, NULL, NULL, &id2), 0);
	assert_true(id2 > id1 && id1 > 0);
	for (i = 0; i < N; i++) {
		free(in[i].base);
		free(out[i].base);
	}
	fdpkv_close(c);		/* undrained completions are discarded */
}

static void test_sim_and_multi_device(void **state)
{
	struct fdpkv_cache *c;
	char kv[1024];
	uint8_t v[3000], o[3000];
	char key[32];
	struct fdpkv_stats st;
	struct fdpkv_device_stats ds;
	unsigned int i;

	(void)state;
	snprintf(kv, sizeof(kv), "devices=file:%s/a.img;file:%s/b.img;sim: capacity=256M "
		 "segment_size=4M", dir, dir);
	c = tu_open(kv);
	for (i = 0; i < 60; i++) {
		snprintf(key, sizeof(key), "m@0@0@%u", i);
		tu_fill(v, sizeof(v), i);
		assert_int_equal(tu_set1(c, key, v, sizeof(v)), 0);
	}
	for (i = 0; i < 60; i++) {
		snprintf(key, sizeof(key), "m@0@0@%u", i);
		tu_fill(v, sizeof(v), i);
		assert_int_equal(tu_get1(c, key, o, sizeof(o)), 0);
		assert_memory_equal(v, o, sizeof(v));
	}
	assert_int_equal(fdpkv_stats(c, &st), 0);
	assert_int_equal(st.index_entries, 60);
	/* keys spread over all three devices */
	for (i = 0; i < 3; i++) {
		assert_int_equal(fdpkv_device_stats(c, i, &ds), 0);
		assert_true(ds.host_bytes_written > 2 * 4096);
	}
	assert_int_equal(fdpkv_device_stats(c, 3, &ds), -EINVAL);
	fdpkv_close(c);
}

/* A deallocate longer than 2 GiB (format of a 4 GiB device) completes with
 * 0, not with its length cut to an int, which read as an error. */
static void test_sim_over_2gib(void **state)
{
	struct fdpkv_cache *c;
	uint8_t v[4096], o[4096];

	(void)state;
	c = tu_open("devices=sim: capacity=4G segment_size=64M");
	tu_fill(v, sizeof(v), 7);
	assert_int_equal(tu_set1(c, "m@0@0@big", v, sizeof(v)), 0);
	assert_int_equal(tu_get1(c, "m@0@0@big", o, sizeof(o)), 0);
	assert_memory_equal(v, o, sizeof(v));
	fdpkv_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_64mib),
		cmocka_unit_test(test_miss_and_wrong_size),
		cmocka_unit_test(test_exists_lock_delete),
		cmocka_unit_test(test_bad_submits),
		cmocka_unit_test(test_batch_and_ids),
		cmocka_unit_test(test_sim_and_multi_device),
		cmocka_unit_test(test_sim_over_2gib),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
