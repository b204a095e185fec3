// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkv_bench - the cost of the module's checks: the same workload through
 * /dev/fdpkv and straight to /dev/ngXnY, alternating, and the ratio.
 *
 * Workload: placement writes then reads of 128 KiB and 1 MiB objects (split
 * at the device's max transfer, as libfdpkv does) at queue depth 32 over
 * BENCH_MIB of the namespace. A benchmark, not a test: it prints numbers and
 * fails only if I/O fails. Under QEMU TCG the emulated device dominates, so
 * read the ratio, not the throughput.
 *
 * usage: fdpkv_bench /dev/nvme0n1 /dev/ng0n1
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/nvme_ioctl.h>

#include "fdpkvio.h"
#include "nvmeio.h"
#include "tap.h"

#define BENCH_MIB	32
#define QD		32
#define ROUNDS		5

struct target {
	const char	*name;
	int		fd;
	uint32_t	cmd_op;
	uint32_t	ns;
};

static uint32_t nsid, max_transfer;
static uint16_t pid;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Move BENCH_MIB in commands of min(obj, max_transfer); returns seconds or -1. */
static double run(const struct target *t, int write, uint32_t obj)
{
	uint32_t chunk = obj;

	/* split as libfdpkv does: the largest power of two the device takes */
	while (chunk > max_transfer)
		chunk >>= 1;
	uint64_t total = (uint64_t)BENCH_MIB << 20, off = 0;
	unsigned int inflight = 0, failed = 0;
	struct io_uring ring;
	uint8_t *buf = nvme_alloc((size_t)QD * chunk);
	double t0;

	if (!buf || nvme_ring_init(&ring, 2 * QD))
		return -1;
	memset(buf, 0xab, (size_t)QD * chunk);
	t0 = now();
	while (off < total || inflight) {
		struct io_uring_cqe *cqe;

		while (inflight < QD && off < total) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			uint32_t cdw[6];
			int slot = (off / chunk) % QD;

			fdpkv_rw_cdw(cdw, off >> 12, chunk >> 12, write ? pid : -1);
			/* the ng payload is the head of the fdpkv one */
			fdpkv_prep_io(sqe, t->fd, t->ns, write ? NVME_OPC_WRITE : NVME_OPC_READ, nsid,
				      buf + (size_t)slot * chunk, chunk, cdw);
			sqe->cmd_op = t->cmd_op;
			off += chunk;
			inflight++;
		}
		io_uring_submit_and_wait(&ring, 1);
		while (io_uring_peek_cqe(&ring, &cqe) == 0) {
			failed += cqe->res != 0;
			inflight--;
			io_uring_cqe_seen(&ring, cqe);
		}
	}
	t0 = now() - t0;
	io_uring_queue_exit(&ring);
	free(buf);
	return failed ? -1 : t0;
}

int main(int argc, char **argv)
{
	const char *bdev = argc > 1 ? argv[1] : "/dev/nvme0n1";
	const char *ng = argc > 2 ? argv[2] : "/dev/ng0n1";
	static const uint32_t sizes[] = { 128 << 10, 1 << 20 };
	struct fdpkv_ns_attach a;
	struct target tg[2];
	int fd, ngfd, i, r, w, ok = 1;

	fd = open("/dev/fdpkv", O_RDWR);
	ngfd = open(ng, O_RDWR);
	if (!tap_ok(fd >= 0 && ngfd >= 0 && fdpkv_attach(fd, bdev, &a) == 0, "attach %s", bdev))
		return tap_done();
	nsid = a.nsid;
	max_transfer = a.max_transfer;
	if (!tap_ok(fdpkv_ph_alloc(fd, a.ns, 1, 0, &pid) == 0 &&
		    fdpkv_lease(fd, a.ns, 0, (uint64_t)BENCH_MIB << 8, NULL) == 0,
		    "handle %u and a lease of %d MiB", pid, BENCH_MIB))
		return tap_done();
	tg[0] = (struct target){ "ng", ngfd, NVME_URING_CMD_IO, 0 };
	tg[1] = (struct target){ "fdpkv", fd, FDPKV_URING_CMD_IO, a.ns };
	printf("# %d MiB per run, QD %d, max transfer %u KiB, best of %d alternating rounds\n",
	       BENCH_MIB, QD, max_transfer >> 10, ROUNDS);
	for (i = 0; i < 2; i++) {
		for (w = 1; w >= 0; w--) {
			double best[2] = { 1e9, 1e9 };

			for (r = 0; r < ROUNDS; r++) {
				int k;

				for (k = 0; k < 2; k++) {
					double s = run(&tg[k], w, sizes[i]);

					if (s < 0)
						ok = 0;
					else if (s < best[k])
						best[k] = s;
				}
			}
			printf("# bench %-5s %4u KiB: ng %7.1f MB/s  fdpkv %7.1f MB/s  fdpkv/ng %.3f\n",
			       w ? "write" : "read", sizes[i] >> 10, BENCH_MIB * 1.048576 / best[0],
			       BENCH_MIB * 1.048576 / best[1], best[0] / best[1]);
		}
	}
	tap_ok(ok, "every command of the benchmark completed without error");
	return tap_done();
}
