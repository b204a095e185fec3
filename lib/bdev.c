// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bdev.c - the pure parts of the "bdev:" backend (backend_bdev.c), so they
 * are unit-tested on hosts without an FDP disk or a 6.16 kernel:
 *
 * - what sysfs says about a disk's write streams (Linux >= 6.16 exposes
 *   the FDP placement handles of an NVMe namespace as write streams:
 *   queue/max_write_streams, queue/write_stream_granularity = the reclaim
 *   unit size), read below a sysfs root the tests can fake;
 * - the io_uring SQEs: read/write with sqe->write_stream, the block
 *   device discard command.
 *
 * Placement ids and streams: the kernel maps write stream s (1-based; 0 =
 * no placement) to the s-th placement id of the namespace's RUH Status
 * (nvme_query_fdp_info), and uses write streams only with one reclaim group
 * (it refuses FDP configurations with NRG > 1). There the placement ids
 * are the namespace's placement handle indexes 0..n-1, in order, so stream
 * s writes placement id s - 1. The backend therefore reports placement ids
 * 0..n-1 like ng: does, and a cache formatted through ng: or fdpkv: keeps
 * its class-to-handle map when opened through bdev:, and back.
 */
#include <errno.h>
#include <liburing.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

/*
 * sqe->write_stream (Linux 6.16) is a __u8 at byte 44, in the union that
 * older headers (liburing 2.3 on Debian 12) know as file_index; those
 * headers lack the name, so it is written through its offset. The asserts
 * keep that offset honest against whichever header this is built with.
 */
#define SQE_WRITE_STREAM_OFF	44
_Static_assert(offsetof(struct io_uring_sqe, file_index) == SQE_WRITE_STREAM_OFF,
	       "io_uring_sqe: write_stream shares file_index's bytes at offset 44");
_Static_assert(sizeof(((struct io_uring_sqe *)0)->file_index) == 4,
	       "io_uring_sqe: the union holding write_stream is 4 bytes");

/* BLOCK_URING_CMD_DISCARD (linux/fs.h, Linux 6.12): addr = start, addr3 = length */
#ifndef BLOCK_URING_CMD_DISCARD
#define BLOCK_URING_CMD_DISCARD	_IO(0x12, 0)
#endif

void bdev_sqe_set_write_stream(struct io_uring_sqe *sqe, uint8_t stream)
{
	((uint8_t *)sqe)[SQE_WRITE_STREAM_OFF] = stream;
}

uint8_t bdev_sqe_write_stream(const struct io_uring_sqe *sqe)
{
	return ((const uint8_t *)sqe)[SQE_WRITE_STREAM_OFF];
}

int bdev_encode_rw(struct io_uring_sqe *sqe, int fd, bool write, void *buf, uint64_t len,
		   uint64_t off, int32_t fixed, uint16_t pid, bool dsync, unsigned int nstreams)
{
	if (len == 0 || len > UINT32_MAX)
		return -EINVAL;
	if (write && pid >= nstreams)
		return -EINVAL;		/* stream pid + 1 does not exist */
	if (write && fixed >= 0)
		io_uring_prep_write_fixed(sqe, fd, buf, (unsigned int)len, off, fixed);
	else if (write)
		io_uring_prep_write(sqe, fd, buf, (unsigned int)len, off);
	else if (fixed >= 0)
		io_uring_prep_read_fixed(sqe, fd, buf, (unsigned int)len, off, fixed);
	else
		io_uring_prep_read(sqe, fd, buf, (unsigned int)len, off);
	if (write) {
		bdev_sqe_set_write_stream(sqe, (uint8_t)(pid + 1));
		if (dsync)
			sqe->rw_flags = RWF_DSYNC;
	}
	return 0;
}

void bdev_encode_discard(struct io_uring_sqe *sqe, int fd, uint64_t off, uint64_t len)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = BLOCK_URING_CMD_DISCARD;
	sqe->addr = off;
	sqe->addr3 = len;
}

/*
 * One unsigned number from the file @dir/@name: 0 and @v set, -ENOENT when
 * the file is not there, -EINVAL when it holds no number.
 */
static int sysfs_u64(const char *dir, const char *name, uint64_t *v)
{
	char path[512], line[64], *end;
	unsigned long long x;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? -ENOENT : -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	errno = 0;
	x = strtoull(line, &end, 10);
	if (end == line || errno || (*end && *end != '\n'))
		return -EINVAL;
	*v = x;
	return 0;
}

int bdev_streams_read(const char *sysroot, unsigned int maj, unsigned int min,
		      struct bdev_streams *s, char *err, size_t errlen)
{
	char dir[384], q[400];
	uint64_t v;
	int ret;

	memset(s, 0, sizeof(*s));
	snprintf(dir, sizeof(dir), "%s/dev/block/%u:%u", sysroot, maj, min);
	if (access(dir, F_OK)) {
		fdpkv_seterr(err, errlen, "%s: no such block device in sysfs", dir);
		return -ENODEV;
	}
	snprintf(q, sizeof(q), "%s/partition", dir);
	if (!access(q, F_OK)) {
		/* bdev_max_write_streams() is 0 for every partition */
		fdpkv_seterr(err, errlen,
			     "block device %u:%u is a partition: write streams exist only on whole disks",
			     maj, min);
		return -EOPNOTSUPP;
	}
	snprintf(q, sizeof(q), "%s/queue", dir);
	ret = sysfs_u64(q, "max_write_streams", &v);
	if (ret == -ENOENT) {
		fdpkv_seterr(err, errlen,
			     "%s/max_write_streams is missing: this kernel has no block write streams "
			     "(Linux >= 6.16 needed; use ng: or fdpkv:)", q);
		return -EOPNOTSUPP;
	}
	if (ret) {
		fdpkv_seterr(err, errlen, "%s/max_write_streams: %s", q, strerror(-ret));
		return ret;
	}
	if (v == 0) {
		fdpkv_seterr(err, errlen,
			     "%s/max_write_streams is 0: the device exposes no write streams "
			     "(not an NVMe namespace with FDP enabled and one reclaim group)", q);
		return -EOPNOTSUPP;
	}
	if (v > UINT8_MAX) {
		fdpkv_seterr(err, errlen, "%s/max_write_streams is %llu: more than sqe->write_stream holds",
			     q, (unsigned long long)v);
		return -ERANGE;
	}
	s->max_streams = (unsigned int)v;
	ret = sysfs_u64(q, "write_stream_granularity", &v);
	if (ret || v == 0) {
		fdpkv_seterr(err, errlen,
			     "%s/write_stream_granularity is %s: no reclaim unit size to size segments by",
			     q, ret == -ENOENT ? "missing" : ret ? "unreadable" : "0");
		return -EOPNOTSUPP;
	}
	s->granularity = v;
	/* discard: how a segment is deallocated; without it the old bytes stay */
	if (sysfs_u64(q, "discard_max_bytes", &v))
		v = 0;
	s->discard = v > 0;
	return 0;
}
