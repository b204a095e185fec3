// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_read_offload - a GET's work off the device thread (issue 12, read
 * side): the file backend marks large reads IOSQE_ASYNC where the kernel
 * copies the bytes on a CPU (tmpfs, a file without O_DIRECT), and only
 * there, only reads; a large value read in one command (aligned, no copy)
 * is checksummed on a copy worker, and a damaged one is still a miss there.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <liburing.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache.h"
#include "util.h"

#define PIECE	(16u << 10)

static bool on_tmpfs(const char *dir)
{
	struct statfs sf;

	return statfs(dir, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

/* The SQE flags the file backend's prep gives a part of @len bytes. */
static uint8_t prep_flags(struct fdpkv_dev *dev, enum io_op op, uint64_t len)
{
	static uint8_t buf[1 << 20] __attribute__((aligned(4096)));
	struct io_cmd cmd = { .op = op, .len = len, .buf = buf };
	struct io_part p = { .cmd = &cmd, .off = 0, .len = len, .buf = buf, .fixed = -1 };
	struct io_uring_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	assert_int_equal(dev->ops->prep(dev, &sqe, &p), 0);
	return sqe.flags;
}

static void open_file_dev(struct fdpkv_dev *dev, const char *path)
{
	struct fdpkv_config cfg;
	char uri[300], err[256];

	fdpkv_config_init(&cfg);
	cfg.capacity_bytes = 8 << 20;
	snprintf(uri, sizeof(uri), "file:%s", path);
	assert_int_equal(backend_open(dev, uri, &cfg, true, err, sizeof(err)), 0);
}

/* tmpfs: its O_DIRECT still copies through the page cache, so large reads
 * go to io-wq; small reads, writes and flushes do not. */
static void test_tmpfs_large_reads_async(void **state)
{
	char path[64];
	struct fdpkv_dev dev;

	(void)state;
	if (!on_tmpfs("/dev/shm"))
		skip();
	snprintf(path, sizeof(path), "/dev/shm/fdpkv-test-offload.%d", (int)getpid());
	unlink(path);
	open_file_dev(&dev, path);
	unlink(path);		/* nothing left behind should an assert fail */
	assert_true(prep_flags(&dev, IO_READ, 1 << 20) & IOSQE_ASYNC);
	assert_true(prep_flags(&dev, IO_READ, 64 << 10) & IOSQE_ASYNC);
	assert_false(prep_flags(&dev, IO_READ, 60 << 10) & IOSQE_ASYNC);
	assert_false(prep_flags(&dev, IO_READ, 4096) & IOSQE_ASYNC);
	assert_false(prep_flags(&dev, IO_WRITE, 1 << 20) & IOSQE_ASYNC);
	assert_false(prep_flags(&dev, IO_FLUSH, 0) & IOSQE_ASYNC);
	backend_close(&dev);
}

/* A file system that takes O_DIRECT (the device DMAs, no CPU copies): no
 * read is marked; one that refuses it (reads are page cache copies): large
 * reads are. */
static void test_direct_file_reads_inline(void **state)
{
	char *dir = tu_mkdtemp(), path[400];
	struct fdpkv_dev dev;
	bool direct;
	int fd;

	(void)state;
	if (on_tmpfs(dir)) {
		tu_rmdir(dir);
		skip();
	}
	snprintf(path, sizeof(path), "%s/d.img", dir);
	fd = open(path, O_RDWR | O_CREAT | O_DIRECT, 0600);
	direct = fd >= 0;
	if (fd >= 0)
		close(fd);
	unlink(path);
	open_file_dev(&dev, path);
	assert_int_equal(!!(prep_flags(&dev, IO_READ, 1 << 20) & IOSQE_ASYNC), !direct);
	assert_false(prep_flags(&dev, IO_READ, 4096) & IOSQE_ASYNC);
	backend_close(&dev);
	tu_rmdir(dir);
}

/*
 * A value larger than one copy piece in an aligned buffer (no copy): with
 * copy workers it is read in pieces, each checksummed on one (crc_jobs, one
 * per piece: pieces.c), without them in one command checked on the device thread; a value of one piece or less always on
 * the device thread. Either way a damaged byte makes the GET a miss and the
 * key stays one. Plain aligned buffers and a registered arena alike.
 */
static void test_large_aligned_get_crc_on_worker(void **state)
{
	const uint64_t big = 16 * PIECE, small = PIECE;
	unsigned int threads, reg;

	(void)state;
	for (threads = 0; threads <= 2; threads += 2)
	for (reg = 0; reg < 2; reg++) {
		char *dir = tu_mkdtemp(), path[400], kv[600];
		uint8_t *buf = NULL, *src = malloc(big);
		struct fdpkv_completion comp;
		struct fdpkv_key k = tu_key("big");
		struct fdpkv_buf b;
		struct fdpkv_stats st;
		struct fdpkv_cache *c;
		long long off;

		assert_int_equal(posix_memalign((void **)&buf, 4096, big), 0);
		snprintf(path, sizeof(path), "%s/d.img", dir);
		snprintf(kv, sizeof(kv), "device=file:%s capacity=32M segment_size=2M "
			 "placement=none copy_piece=16K copy_threads=%u", path, threads);
		c = tu_open(kv);
		if (reg)
			assert_true(fdpkv_register_arena(c, buf, big) >= 0);

		tu_fill(src, big, 3);
		memcpy(buf, src, big);
		assert_int_equal(tu_set1(c, "big", buf, big), 0);
		memcpy(buf, src, small);
		assert_int_equal(tu_set1(c, "small", buf, small), 0);
		assert_int_equal(atomic_load(&c->st.crc_jobs), 0);

		memset(buf, 0, big);
		assert_int_equal(tu_get1(c, "big", buf, big), 0);
		assert_memory_equal(buf, src, big);
		assert_int_equal(atomic_load(&c->st.crc_jobs), threads ? big / PIECE : 0);
		memset(buf, 0, small);
		assert_int_equal(tu_get1(c, "small", buf, small), 0);
		assert_memory_equal(buf, src, small);
		assert_int_equal(atomic_load(&c->st.crc_jobs), threads ? big / PIECE : 0);

		/* one bit deep in the big value */
		off = tu_find_bytes(path, src + 11 * PIECE + 300, 64);
		assert_true(off > 0);
		tu_flip_bits(path, off + 7, 0x08);
		b = (struct fdpkv_buf){ buf, big };
		assert_int_equal(tu_run(c, FDPKV_OP_GET, 1, &k, &b, &comp), -ENOENT);
		assert_int_equal(comp.status[0], -ENOENT);
		assert_int_equal(comp.value_len[0], 0);
		fdpkv_completion_release(&comp);
		assert_int_equal(atomic_load(&c->st.crc_jobs), threads ? 2 * big / PIECE : 0);
		assert_int_equal(fdpkv_stats(c, &st), 0);
		assert_int_equal(st.corrupt_objects, 1);
		assert_int_equal(tu_get1(c, "big", buf, big), -ENOENT);	/* dropped */
		assert_int_equal(tu_get1(c, "small", buf, small), 0);
		assert_memory_equal(buf, src, small);
		fdpkv_close(c);
		free(buf);
		free(src);
		tu_rmdir(dir);
	}
}

/*
 * tmpfs, where a read is a copy from memory: an aligned value of many pieces
 * is read by the copy workers themselves (worker_reads: every piece, the
 * head's too), each value piece checksummed by the worker that read it; a
 * damaged byte is still a miss. Without workers, one command on the ring.
 */
static void test_tmpfs_pieces_read_on_workers(void **state)
{
	const uint64_t len = 16 * PIECE + 4096, pieces = 17;
	uint8_t *src = malloc(len), *buf = NULL, *mis;
	struct fdpkv_cache *c;
	struct fdpkv_stats st;
	char path[64], kv[256];
	unsigned int threads;
	long long off;

	(void)state;
	if (!on_tmpfs("/dev/shm"))
		skip();
	assert_int_equal(posix_memalign((void **)&buf, 4096, len + 8192), 0);
	mis = buf + 4096 + 64;
	snprintf(path, sizeof(path), "/dev/shm/fdpkv-test-wread.%d", (int)getpid());
	for (threads = 0; threads <= 2; threads += 2) {
		unlink(path);
		snprintf(kv, sizeof(kv), "device=file:%s capacity=32M segment_size=2M "
			 "placement=none copy_piece=16K copy_threads=%u", path, threads);
		c = tu_open(kv);
		tu_fill(src, len, 81);
		memcpy(buf, src, len);
		assert_int_equal(tu_set1(c, "big", buf, len), 0);
		assert_int_equal(tu_set1(c, "other", buf, len), 0);
		memset(buf, 0, len);
		assert_int_equal(tu_get1(c, "big", buf, len), 0);
		assert_memory_equal(buf, src, len);
		assert_int_equal(atomic_load(&c->st.worker_reads), threads ? pieces + 1 : 0);
		assert_int_equal(atomic_load(&c->st.crc_jobs), threads ? pieces : 0);
		/* a buffer off any alignment goes direct here too (any_align) */
		memset(mis, 0, len);
		assert_int_equal(tu_get1(c, "big", mis, len), 0);
		assert_memory_equal(mis, src, len);
		assert_int_equal(atomic_load(&c->st.worker_reads), threads ? 2 * (pieces + 1) : 0);

		off = tu_find_bytes(path, src + 9 * PIECE + 100, 64);
		assert_true(off > 0);
		tu_flip_bits(path, off + 1, 0x80);	/* both keys' values hold it: the first */
		assert_int_equal(tu_get1(c, "big", buf, len), -ENOENT);
		assert_int_equal(fdpkv_stats(c, &st), 0);
		assert_int_equal(st.corrupt_objects, 1);
		assert_int_equal(tu_get1(c, "other", buf, len), 0);
		assert_memory_equal(buf, src, len);
		fdpkv_close(c);
	}
	unlink(path);
	free(buf);
	free(src);
}

/*
 * A worker reads a piece of 1 MiB in blocks and checksums each block as it
 * lands (pieces.c: FETCH_BLOCK): a bit flipped in the piece's last block,
 * past the first, still fails the GET.
 */
static void test_tmpfs_piece_damage_past_first_block(void **state)
{
	const uint64_t len = 3u << 20;
	uint8_t *src = malloc(len), *buf = NULL;
	struct fdpkv_cache *c;
	char path[64], kv[256];
	long long off;

	(void)state;
	if (!on_tmpfs("/dev/shm"))
		skip();
	assert_non_null(src);
	assert_int_equal(posix_memalign((void **)&buf, 4096, len), 0);
	snprintf(path, sizeof(path), "/dev/shm/fdpkv-test-wblock.%d", (int)getpid());
	unlink(path);
	snprintf(kv, sizeof(kv), "device=file:%s capacity=64M segment_size=8M placement=none "
		 "copy_piece=1M copy_threads=2", path);
	c = tu_open(kv);
	tu_fill(src, len, 83);
	memcpy(buf, src, len);
	assert_int_equal(tu_set1(c, "big", buf, len), 0);
	memset(buf, 0, len);
	assert_int_equal(tu_get1(c, "big", buf, len), 0);
	assert_memory_equal(buf, src, len);
	assert_true(atomic_load(&c->st.worker_reads) > 0);
	off = tu_find_bytes(path, src + (1u << 20) + (900u << 10), 64);
	assert_true(off > 0);
	tu_flip_bits(path, off + 3, 0x01);
	assert_int_equal(tu_get1(c, "big", buf, len), -ENOENT);
	fdpkv_close(c);
	unlink(path);
	free(buf);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tmpfs_large_reads_async),
		cmocka_unit_test(test_direct_file_reads_inline),
		cmocka_unit_test(test_large_aligned_get_crc_on_worker),
		cmocka_unit_test(test_tmpfs_pieces_read_on_workers),
		cmocka_unit_test(test_tmpfs_piece_damage_past_first_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
