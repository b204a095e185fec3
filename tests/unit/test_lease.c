// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_lease - the sequence lease (lib/lease.c, lib/FORMAT.md) and the
 * superblock version it came with: sequences are never handed out twice
 * across a crash, a version 1 cache is upgraded at open, a newer one is
 * refused with a message saying so.
 */
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

static char kv[512];

static void open_kv(const char *dir)
{
	snprintf(kv, sizeof(kv), "device=file:%s/lease.img capacity=64M segment_size=1M "
		 "durability=none placement=none", dir);
}

static char *img_path(const char *dir)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/lease.img", dir);
	return p;
}

/* Read both superblock copies of the image; returns the LBA size. */
static uint32_t sb_read(const char *path, uint8_t *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	struct superblock sb;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, 0), (ssize_t)len);
	close(fd);
	sb_decode(buf, SB_ENCODED_SIZE, &sb);
	return sb.lba_size;
}

/* Rewrite both copies with @version: lease bytes zeroed for version 1. */
static void sb_rewrite_version(const char *path, uint32_t version)
{
	uint8_t buf[2 * 4096];
	uint32_t lba = sb_read(path, buf, sizeof(buf)), crc;
	int fd = open(path, O_WRONLY), k;

	assert_true(fd >= 0);
	assert_true(lba == 512 || lba == 4096);
	for (k = 0; k < 2; k++) {
		uint8_t *p = buf + (size_t)k * lba;

		memcpy(p + 8, &version, 4);
		if (version == 1)
			memset(p + 224, 0, 8);
		memset(p + 12, 0, 4);
		crc = crc32c(0, p, SB_ENCODED_SIZE);
		memcpy(p + 12, &crc, 4);
		assert_int_equal(pwrite(fd, p, SB_ENCODED_SIZE, (off_t)k * lba), SB_ENCODED_SIZE);
	}
	close(fd);
}

/*
 * Issue 11 item 1: a crash loses the first object of a fresh segment while
 * the second landed. Recovery finds the segment free; b is gone, and a
 * DELETE of b is acknowledged. Reopening the segment under the open
 * sequence it had before would let the next restart walk from the new
 * object into b: the acknowledged DELETE undone. With the lease the
 * segment's new use has another sequence and the walk stops.
 */
static void test_lost_first_object_no_sequence_reuse(void **state)
{
	char *dir = tu_mkdtemp();
	static uint8_t val[100], got[100];
	struct fdpkv_cache *c;
	uint8_t zero[4096] = { 0 };
	int fd;

	(void)state;
	open_kv(dir);
	memset(val, 0x5a, sizeof(val));
	c = tu_open(kv);
	assert_int_equal(tu_set1(c, "a", val, sizeof(val)), 0);
	assert_int_equal(tu_set1(c, "b", val, sizeof(val)), 0);
	fdpkv_close(c);
	/* the crash: segment 0's first object (at the data start, 1 MiB) never landed */
	fd = open(img_path(dir), O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, zero, sizeof(zero), 1 << 20), (ssize_t)sizeof(zero));
	close(fd);

	c = tu_open(kv);
	assert_int_equal(tu_get1(c, "b", got, sizeof(got)), -ENOENT);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "b"), -ENOENT);	/* b: absent */
	assert_int_equal(tu_set1(c, "c", val, sizeof(val)), 0);
	fdpkv_close(c);

	c = tu_open(kv);
	assert_int_equal(tu_get1(c, "c", got, sizeof(got)), 0);
	assert_int_equal(tu_get1(c, "b", got, sizeof(got)), -ENOENT);
	fdpkv_close(c);
	tu_rmdir(dir);
}

/* Every open persists a lease above the previous one before it writes. */
static void test_lease_grows_each_open(void **state)
{
	char *dir = tu_mkdtemp();
	uint8_t buf[2 * 4096];
	struct superblock sb;
	uint64_t prev = 0;
	int i;

	(void)state;
	open_kv(dir);
	for (i = 0; i < 3; i++) {
		fdpkv_close(tu_open(kv));
		sb_read(img_path(dir), buf, sizeof(buf));
		assert_int_equal(sb_decode(buf, SB_ENCODED_SIZE, &sb), 0);
		assert_int_equal(sb.version, SB_VERSION);
		assert_true(sb.seq_lease > prev);
		prev = sb.seq_lease;
	}
	tu_rmdir(dir);
}

/* A version 1 cache opens with its data and is upgraded to version 2. */
static void test_version1_upgraded(void **state)
{
	char *dir = tu_mkdtemp();
	static uint8_t val[5000], got[5000];
	uint8_t buf[2 * 4096];
	struct fdpkv_cache *c;
	struct superblock sb;

	(void)state;
	open_kv(dir);
	tu_fill(val, sizeof(val), 3);
	c = tu_open(kv);
	assert_int_equal(tu_set1(c, "kept", val, sizeof(val)), 0);
	fdpkv_close(c);
	sb_rewrite_version(img_path(dir), 1);
	sb_read(img_path(dir), buf, sizeof(buf));
	assert_int_equal(sb_decode(buf, SB_ENCODED_SIZE, &sb), 0);
	assert_int_equal(sb.version, 1);

	c = tu_open(kv);
	assert_int_equal(tu_get1(c, "kept", got, sizeof(got)), 0);
	assert_memory_equal(got, val, sizeof(val));
	fdpkv_close(c);
	sb_read(img_path(dir), buf, sizeof(buf));
	assert_int_equal(sb_decode(buf, SB_ENCODED_SIZE, &sb), 0);
	assert_int_equal(sb.version, 2);
	assert_true(sb.seq_lease > 0);
	tu_rmdir(dir);
}

/* A superblock from a newer library is refused, naming the version; format=always reformats. */
static void test_newer_version_refused(void **state)
{
	char *dir = tu_mkdtemp(), err[256] = "", kv2[600];
	struct fdpkv_cache *c;

	(void)state;
	open_kv(dir);
	fdpkv_close(tu_open(kv));
	sb_rewrite_version(img_path(dir), SB_VERSION + 1);
	assert_int_equal(tu_try_open(kv, &c, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "superblock format version 3 is not supported"));
	snprintf(kv2, sizeof(kv2), "%s format=always", kv);
	c = tu_open(kv2);
	fdpkv_close(c);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost_first_object_no_sequence_reuse),
		cmocka_unit_test(test_lease_grows_each_open),
		cmocka_unit_test(test_version1_upgraded),
		cmocka_unit_test(test_newer_version_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
