// SPDX-License-Identifier: GPL-2.0
/*
 * fdp_proof - the emulated SSD really places data: a 4 KiB write with
 * DTYPE=2 and a chosen placement handle through io_uring uring_cmd reads back
 * byte-exact, and RU Available Media Writes of exactly that handle drops by
 * the LBAs written while every other handle's stays put.
 *
 * usage: fdp_proof /dev/ngXnY [pid]
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/nvme_ioctl.h>

#include "nvmeio.h"
#include "tap.h"

#define MAX_RUH 128

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/ng0n1";
	int pid = argc > 2 ? atoi(argv[2]) : 3;
	struct ruh_desc before[MAX_RUH], after[MAX_RUH];
	struct io_uring ring;
	uint32_t lba = 0, nlb, nsid, cdw[6];
	uint64_t nsze = 0, slba;
	uint8_t *wbuf, *rbuf;
	int fd, nb, na, i, ret, others_same = 1, found = 0;

	fd = open(dev, O_RDWR);
	if (!tap_ok(fd >= 0, "open %s", dev))
		return tap_done();
	nsid = ioctl(fd, NVME_IOCTL_ID);
	ret = nvme_identify_ns_lba(fd, nsid, &lba, &nsze);
	tap_ok(ret == 0 && lba >= 512, "identify ns %u: lba size %u, %" PRIu64 " blocks", nsid, lba, nsze);
	if (nvme_ring_init(&ring, 8))
		return tap_ok(0, "io_uring SQE128|CQE32 setup"), tap_done();

	nb = nvme_ruh_status(&ring, fd, NVME_URING_CMD_IO, nsid, before, MAX_RUH);
	tap_ok(nb > pid, "RUH status lists %d placement handles (need > %d)", nb, pid);

	nlb = 4096 / lba;
	slba = nsze / 2;
	wbuf = nvme_alloc(4096);
	rbuf = nvme_alloc(4096);
	for (i = 0; i < 4096; i++)
		wbuf[i] = (uint8_t)(i * 31 + 7);
	/* CDW12: NLB 0's based, DTYPE=2 (data placement); CDW13: DSPEC = pid */
	cdw[0] = (uint32_t)slba;
	cdw[1] = (uint32_t)(slba >> 32);
	cdw[2] = (nlb - 1) | (2u << 20);
	cdw[3] = (uint32_t)pid << 16;
	cdw[4] = cdw[5] = 0;
	ret = nvme_uring_io(&ring, fd, NVME_URING_CMD_IO, NVME_OPC_WRITE, nsid, wbuf, 4096, cdw);
	tap_ok(ret == 0, "write 4 KiB at lba %" PRIu64 " with DTYPE=2 DSPEC=%d: status %d", slba, pid, ret);
	cdw[2] = nlb - 1;
	cdw[3] = 0;
	ret = nvme_uring_io(&ring, fd, NVME_URING_CMD_IO, NVME_OPC_READ, nsid, rbuf, 4096, cdw);
	tap_ok(ret == 0 && !memcmp(wbuf, rbuf, 4096), "read back byte-exact (status %d)", ret);

	na = nvme_ruh_status(&ring, fd, NVME_URING_CMD_IO, nsid, after, MAX_RUH);
	tap_ok(na == nb, "RUH status after the write lists %d handles", na);
	for (i = 0; i < na && i < nb; i++) {
		if (before[i].pid == pid) {
			found = 1;
			tap_ok(before[i].ruamw - after[i].ruamw == nlb,
			       "RUAMW of pid %d: %" PRIu64 " -> %" PRIu64 " (dropped by %u LBAs)",
			       pid, before[i].ruamw, after[i].ruamw, nlb);
		} else if (before[i].ruamw != after[i].ruamw) {
			others_same = 0;
			printf("# pid %u RUAMW changed %" PRIu64 " -> %" PRIu64 "\n",
			       before[i].pid, before[i].ruamw, after[i].ruamw);
		}
	}
	tap_ok(found, "pid %d is in the RUH status list", pid);
	tap_ok(others_same, "RUAMW of every other handle unchanged");
	io_uring_queue_exit(&ring);
	close(fd);
	return tap_done();
}
