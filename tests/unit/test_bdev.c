// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_bdev - the bdev: backend's pure parts (bdev.c): sqe->write_stream
 * where the kernel reads it, the discard command, what a (fake) sysfs says
 * about write streams and every refusal with its errno and the field it
 * names; and auto: / bare paths on the host. The device itself: the
 * lib_bdev VM plan.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "util.h"

/*
 * The SQE as Linux 6.16's uapi lays out the bytes from 40 on: what the
 * kernel's io_prep_rw reads as sqe->write_stream.
 */
struct sqe616_tail {
	uint8_t head[40];
	uint16_t buf_index;
	uint16_t personality;
	uint8_t write_stream;
	uint8_t pad4[3];
	uint64_t addr3;
	uint64_t pad2;
};

static void test_write_stream_field(void **state)
{
	struct io_uring_sqe sqe;
	char buf[4096];

	(void)state;
	assert_int_equal(offsetof(struct sqe616_tail, write_stream), 44);
	assert_int_equal(sizeof(struct sqe616_tail), sizeof(struct io_uring_sqe));
	memset(&sqe, 0xa5, sizeof(sqe));
	/* placement id 6 is stream 7 (1-based; 0 = none) */
	assert_int_equal(bdev_encode_rw(&sqe, 3, true, buf, 4096, 1 << 20, -1, 6, false, 8), 0);
	assert_int_equal(sqe.opcode, IORING_OP_WRITE);
	assert_int_equal(((struct sqe616_tail *)&sqe)->write_stream, 7);
	assert_int_equal(bdev_sqe_write_stream(&sqe), 7);
	/* the rest of that union stays zero: the kernel refuses other bits */
	assert_int_equal(((struct sqe616_tail *)&sqe)->pad4[0] | ((struct sqe616_tail *)&sqe)->pad4[1] |
			 ((struct sqe616_tail *)&sqe)->pad4[2], 0);
	assert_int_equal(sqe.fd, 3);
	assert_true(sqe.off == 1 << 20);
	assert_true(sqe.addr == (uint64_t)(uintptr_t)buf);
	assert_int_equal(sqe.len, 4096);
	assert_int_equal(sqe.rw_flags, 0);
	assert_true(sqe.addr3 == 0);
}

static void test_rw_variants(void **state)
{
	struct io_uring_sqe sqe;
	char buf[4096];

	(void)state;
	/* FUA: RWF_DSYNC */
	assert_int_equal(bdev_encode_rw(&sqe, 3, true, buf, 4096, 0, -1, 0, true, 8), 0);
	assert_int_equal(sqe.rw_flags, RWF_DSYNC);
	assert_int_equal(bdev_sqe_write_stream(&sqe), 1);
	/* registered buffer */
	assert_int_equal(bdev_encode_rw(&sqe, 3, true, buf, 4096, 0, 5, 2, false, 8), 0);
	assert_int_equal(sqe.opcode, IORING_OP_WRITE_FIXED);
	assert_int_equal(sqe.buf_index, 5);
	assert_int_equal(bdev_sqe_write_stream(&sqe), 3);
	/* reads name no stream */
	memset(&sqe, 0xff, sizeof(sqe));
	assert_int_equal(bdev_encode_rw(&sqe, 3, false, buf, 4096, 0, -1, 2, true, 8), 0);
	assert_int_equal(sqe.opcode, IORING_OP_READ);
	assert_int_equal(bdev_sqe_write_stream(&sqe), 0);
	assert_int_equal(sqe.rw_flags, 0);
	assert_int_equal(bdev_encode_rw(&sqe, 3, false, buf, 4096, 0, 1, 0, false, 8), 0);
	assert_int_equal(sqe.opcode, IORING_OP_READ_FIXED);
}

static void test_rw_refusals(void **state)
{
	struct io_uring_sqe sqe;
	char buf[16];

	(void)state;
	/* placement id 8 would be stream 9 of 8 */
	assert_int_equal(bdev_encode_rw(&sqe, 3, true, buf, 4096, 0, -1, 8, false, 8), -EINVAL);
	assert_int_equal(bdev_encode_rw(&sqe, 3, true, buf, 0, 0, -1, 0, false, 8), -EINVAL);
	assert_int_equal(bdev_encode_rw(&sqe, 3, false, buf, 1ull << 32, 0, -1, 0, false, 8), -EINVAL);
}

static void test_discard(void **state)
{
	struct io_uring_sqe sqe;

	(void)state;
	memset(&sqe, 0xff, sizeof(sqe));
	bdev_encode_discard(&sqe, 4, 3ull << 20, 1ull << 20);
	assert_int_equal(sqe.opcode, IORING_OP_URING_CMD);
	assert_int_equal(sqe.fd, 4);
	assert_int_equal(sqe.cmd_op, _IO(0x12, 0));	/* BLOCK_URING_CMD_DISCARD */
	assert_true(sqe.addr == 3ull << 20);
	assert_true(sqe.addr3 == 1ull << 20);
	/* blkdev_uring_cmd refuses any of these set */
	assert_int_equal(sqe.len, 0);
	assert_int_equal(sqe.ioprio, 0);
	assert_int_equal(sqe.rw_flags, 0);
	assert_int_equal(sqe.file_index, 0);
}

/* --- a fake sysfs: <root>/dev/block/259:0/queue/<attr> ---------------------- */

static void put(const char *root, const char *rel, const char *val)
{
	char path[512], cmd[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(val, f);
	fclose(f);
}

static char *fake_disk(const char *streams, const char *gran, const char *discard)
{
	char *root = tu_mkdtemp();

	put(root, "dev/block/259:0/size", "2097152\n");
	if (streams)
		put(root, "dev/block/259:0/queue/max_write_streams", streams);
	if (gran)
		put(root, "dev/block/259:0/queue/write_stream_granularity", gran);
	if (discard)
		put(root, "dev/block/259:0/queue/discard_max_bytes", discard);
	return root;
}

static void test_sysfs_streams(void **state)
{
	struct bdev_streams s;
	char err[512] = "";
	char *root = fake_disk("8\n", "1048576\n", "2199023255040\n");

	(void)state;
	assert_int_equal(bdev_streams_read(root, 259, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.max_streams, 8);
	assert_true(s.granularity == 1048576);
	assert_true(s.discard);
	tu_rmdir(root);
	root = fake_disk("16", "67108864", "0");
	assert_int_equal(bdev_streams_read(root, 259, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.max_streams, 16);
	assert_true(s.granularity == 64ull << 20);
	assert_false(s.discard);
	tu_rmdir(root);
}

/* each refusal: errno and a message naming the field */
static void refused(const char *streams, const char *gran, int want, const char *says)
{
	struct bdev_streams s;
	char err[512] = "";
	char *root = fake_disk(streams, gran, "0");

	assert_int_equal(bdev_streams_read(root, 259, 0, &s, err, sizeof(err)), want);
	if (!strstr(err, says))
		fail_msg("message '%s' does not say '%s'", err, says);
	tu_rmdir(root);
}

static void test_sysfs_refusals(void **state)
{
	struct bdev_streams s;
	char err[512] = "";
	char *root;

	(void)state;
	/* a kernel before 6.16 */
	refused(NULL, NULL, -EOPNOTSUPP, "max_write_streams is missing");
	/* a disk without FDP */
	refused("0\n", "0\n", -EOPNOTSUPP, "max_write_streams is 0");
	refused("8\n", "0\n", -EOPNOTSUPP, "write_stream_granularity is 0");
	refused("8\n", NULL, -EOPNOTSUPP, "write_stream_granularity is missing");
	refused("eight\n", "1048576", -EINVAL, "max_write_streams");
	refused("256\n", "1048576", -ERANGE, "max_write_streams is 256");
	/* a partition: the kernel gives partitions no streams */
	root = fake_disk("8", "1048576", "1");
	put(root, "dev/block/259:0/partition", "1\n");
	assert_int_equal(bdev_streams_read(root, 259, 0, &s, err, sizeof(err)), -EOPNOTSUPP);
	assert_non_null(strstr(err, "partition"));
	/* no such device */
	assert_int_equal(bdev_streams_read(root, 259, 7, &s, err, sizeof(err)), -ENODEV);
	tu_rmdir(root);
}

/* --- the backend on the host: refusals, auto: ------------------------------ */

static void test_open_refusals(void **state)
{
	struct fdpkv_cache *c = NULL;
	char kv[512], err[512] = "";
	char *dir = tu_mkdtemp();

	(void)state;
	snprintf(kv, sizeof(kv), "device=bdev:%s/x format=always capacity=8M", dir);
	assert_int_equal(tu_try_open(kv, &c, err, sizeof(err)), -ENOENT);
	/* a regular file is not a block device */
	snprintf(kv, sizeof(kv), "%s/f", dir);
	close(open(kv, O_CREAT | O_WRONLY, 0600));
	snprintf(kv, sizeof(kv), "device=bdev:%s/f format=always capacity=8M", dir);
	assert_int_equal(tu_try_open(kv, &c, err, sizeof(err)), -ENOTBLK);
	assert_non_null(strstr(err, "not a block device"));
	tu_rmdir(dir);
}

static void test_auto_file(void **state)
{
	struct fdpkv_cache *c = NULL;
	char kv[512], err[512] = "", uri[300], v = 0;
	char *dir = tu_mkdtemp();

	(void)state;
	/* a path that is no device resolves to file:, and a bare path is auto: */
	snprintf(uri, sizeof(uri), "%s/cache.img", dir);
	assert_int_equal(backend_auto_resolve(uri, kv, sizeof(kv), err, sizeof(err)), 0);
	assert_int_equal(strncmp(kv, "file:", 5), 0);
	snprintf(kv, sizeof(kv), "device=%s format=auto capacity=16M segment_size=1M", uri);
	assert_int_equal(tu_try_open(kv, &c, err, sizeof(err)), 0);
	assert_int_equal(tu_set1(c, "k", "v", 1), 0);
	fdpkv_close(c);
	snprintf(kv, sizeof(kv), "device=auto:%s format=never", uri);
	assert_int_equal(tu_try_open(kv, &c, err, sizeof(err)), 0);
	assert_int_equal(tu_get1(c, "k", &v, 1), 0);
	assert_int_equal(v, 'v');
	fdpkv_close(c);
	/* /dev/null: a char device that is no NVMe generic device -> file:, which refuses it */
	assert_int_equal(backend_auto_resolve("/dev/null", kv, sizeof(kv), err, sizeof(err)), 0);
	assert_string_equal(kv, "file:/dev/null");
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_stream_field),
		cmocka_unit_test(test_rw_variants),
		cmocka_unit_test(test_rw_refusals),
		cmocka_unit_test(test_discard),
		cmocka_unit_test(test_sysfs_streams),
		cmocka_unit_test(test_sysfs_refusals),
		cmocka_unit_test(test_open_refusals),
		cmocka_unit_test(test_auto_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
