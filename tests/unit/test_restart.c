// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_restart - close and reopen: keys loadable, usage per bucket seeded,
 * deleted keys stay deleted, highest sequence wins, damaged headers and
 * values are misses, a damaged superblock copy is repaired. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "util.h"

static char *dir;
static char kv[768], path[512];

static int setup(void **state)
{
	(void)state;
	dir = tu_mkdtemp();
	snprintf(path, sizeof(path), "%s/dev.img", dir);
	snprintf(kv, sizeof(kv), "device=file:%s capacity=64M segment_size=4M", path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmdir(dir);
	return 0;
}

struct bucket_sum {
	uint64_t alice, bob, none;
};

static int sum_bucket(void *arg, const char *bucket, uint64_t bytes)
{
	struct bucket_sum *s = arg;

	if (!strcmp(bucket, "alice"))
		s->alice += bytes;
	else if (!strcmp(bucket, "bob"))
		s->bob += bytes;
	else if (!bucket[0])
		s->none += bytes;
	return 0;
}

static int count_key(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	(void)key;
	(void)klen;
	(void)vlen;
	(*(unsigned int *)arg)++;
	return 0;
}

static void test_reopen(void **state)
{
	struct fdpkv_cache *c;
	uint8_t v[5000], o[5000];
	struct bucket_sum s = { 0 };
	struct fdpkv_usage u;
	unsigned int nkeys = 0;

	(void)state;
	c = tu_open(kv);
	tu_fill(v, sizeof(v), 1);
	assert_int_equal(tu_set1(c, "m@1@0@a@alice:1", v, 1000), 0);
	assert_int_equal(tu_set1(c, "m@1@0@b@alice:2", v, 2000), 0);
	assert_int_equal(tu_set1(c, "m@1@0@c@bob", v, 3000), 0);
	assert_int_equal(tu_set1(c, "m@1@0@d", v, 4000), 0);
	assert_int_equal(tu_set1(c, "m@1@0@gone@bob", v, 500), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "m@1@0@gone@bob"), 0);
	tu_fill(v, sizeof(v), 2);
	assert_int_equal(tu_set1(c, "m@1@0@d", v, 4500), 0);	/* newer version */
	fdpkv_close(c);

	c = tu_open(kv);
	assert_int_equal(tu_get1(c, "m@1@0@a@alice:1", o, 1000), 0);
	tu_fill(v, sizeof(v), 1);
	assert_memory_equal(o, v, 1000);
	assert_int_equal(tu_get1(c, "m@1@0@d", o, 4000), -EMSGSIZE);	/* old size: gone */
	assert_int_equal(tu_get1(c, "m@1@0@d", o, 4500), 0);
	tu_fill(v, sizeof(v), 2);
	assert_memory_equal(o, v, 4500);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@1@0@gone@bob"), -ENOENT);
	assert_int_equal(fdpkv_usage_by_bucket(c, sum_bucket, &s), 0);
	assert_int_equal(s.alice, 3000);
	assert_int_equal(s.bob, 3000);
	assert_int_equal(s.none, 4500);
	assert_int_equal(fdpkv_usage(c, &u), 0);
	assert_int_equal(u.bytes_used, 10500);
	assert_int_equal(u.objects, 4);
	assert_true(u.bytes_capacity > 0);
	assert_int_equal(fdpkv_foreach_key(c, count_key, &nkeys), 0);
	assert_int_equal(nkeys, 4);
	/* a key deleted before a restart stays deleted after a second one */
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "m@1@0@c@bob"), 0);
	fdpkv_close(c);
	c = tu_open(kv);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@1@0@c@bob"), -ENOENT);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@1@0@gone@bob"), -ENOENT);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@1@0@b@alice:2"), 0);
	/* re-set after delete comes back */
	assert_int_equal(tu_set1(c, "m@1@0@c@bob", v, 10), 0);
	fdpkv_close(c);
	c = tu_open(kv);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@1@0@c@bob"), 0);
	fdpkv_close(c);
}

static void test_bit_flips(void **state)
{
	struct fdpkv_cache *c;
	char kv2[900], v[8192], o[8192];
	off_t at;

	(void)state;
	snprintf(kv2, sizeof(kv2), "%s format=always placement=none", kv);
	c = tu_open(kv2);
	memset(v, 'v', sizeof(v));
	memcpy(v + 100, "VALUE-MARK-1", 12);
	assert_int_equal(tu_set1(c, "m@0@0@value-damaged", v, sizeof(v)), 0);
	memcpy(v + 100, "VALUE-MARK-2", 12);
	assert_int_equal(tu_set1(c, "m@0@0@header-damaged", v, sizeof(v)), 0);
	memcpy(v + 100, "VALUE-MARK-3", 12);
	assert_int_equal(tu_set1(c, "m@0@0@after-damage", v, sizeof(v)), 0);
	fdpkv_close(c);

	/* value bit flip: recovery keeps the key (headers only), GET finds it bad */
	at = tu_find_bytes(path, "VALUE-MARK-1", strlen("VALUE-MARK-1"));
	assert_true(at > 0);
	tu_flip_bits(path, at + 2, 0x10);
	c = tu_open(kv);
	memset(o, 0x33, sizeof(o));
	assert_int_equal(tu_get1(c, "m@0@0@value-damaged", o, sizeof(o)), -ENOENT);
	for (unsigned int i = 0; i < sizeof(o); i++)
		assert_int_equal(o[i], 0x33);	/* never wrong bytes */
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@0@0@value-damaged"), -ENOENT);
	fdpkv_close(c);

	/* header bit flip: the chain stops there; later objects of that
	 * segment are lost (misses), earlier ones stay */
	at = tu_find_bytes(path, "m@0@0@header-damaged", strlen("m@0@0@header-damaged"));
	assert_true(at > 0);
	tu_flip_bits(path, at + 3, 0x10);
	c = tu_open(kv);
	assert_int_equal(tu_get1(c, "m@0@0@header-damaged", o, sizeof(o)), -ENOENT);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@0@0@after-damage"), -ENOENT);
	fdpkv_close(c);
}

static void test_superblock_copy_repair(void **state)
{
	struct fdpkv_cache *c;
	char kv2[900];
	uint8_t v[100], o[100];
	struct superblock sb;
	uint8_t blk[4096];
	int fd;

	(void)state;
	snprintf(kv2, sizeof(kv2), "%s format=always", kv);
	c = tu_open(kv2);
	tu_fill(v, 100, 3);
	assert_int_equal(tu_set1(c, "m@0@0@sb", v, 100), 0);
	fdpkv_close(c);
	fd = open(path, O_RDWR);
	memset(blk, 0xab, sizeof(blk));
	assert_int_equal(pwrite(fd, blk, sizeof(blk), 0), (ssize_t)sizeof(blk));
	close(fd);
	c = tu_open(kv);	/* from copy 1, and copy 0 rewritten */
	assert_int_equal(tu_get1(c, "m@0@0@sb", o, 100), 0);
	assert_memory_equal(o, v, 100);
	fdpkv_close(c);
	fd = open(path, O_RDONLY);
	assert_int_equal(pread(fd, blk, sizeof(blk), 0), (ssize_t)sizeof(blk));
	close(fd);
	assert_int_equal(sb_decode(blk, sizeof(blk), &sb), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_superblock_copy_repair),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
