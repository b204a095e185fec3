// SPDX-License-Identifier: GPL-2.0
/*
 * fdp_raw - raw FDP values for cross-checking fdpkvctl in the VM, read without
 * libnvme: RUH Status by io_uring uring_cmd, log page 0x22 by admin ioctl,
 * and a placed write (DTYPE=2, DSPEC=pid). Prints one number.
 *
 * usage: fdp_raw ruamw DEV PID          RUAMW of PID, in LBAs
 *        fdp_raw hbmw DEV               HBMW of endurance group 1, low 64 bits
 *        fdp_raw write DEV PID NLB SLBA write NLB LBAs at SLBA through PID
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/nvme_ioctl.h>

#include "nvmeio.h"

static int usage(void)
{
	fprintf(stderr, "usage: fdp_raw ruamw DEV PID | hbmw DEV | write DEV PID NLB SLBA\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct ruh_desc d[128];
	struct io_uring ring;
	uint32_t nsid, lba = 0, cdw[6];
	uint64_t nsze = 0;
	int fd, i, n, ret;

	if (argc < 3)
		return usage();
	fd = open(argv[2], O_RDWR);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	nsid = ioctl(fd, NVME_IOCTL_ID);
	if (!strcmp(argv[1], "hbmw")) {
		uint8_t *log = nvme_alloc(64);
		struct nvme_admin_cmd c = {
			.opcode = 0x02, .addr = (uintptr_t)log, .data_len = 64,
			.cdw10 = 0x22 | (15u << 16),	/* LID 0x22, NUMDL = 16 dwords - 1 */
			.cdw11 = 1u << 16,		/* LSI = endurance group 1 */
		};
		uint64_t v = 0;

		if (ioctl(fd, NVME_IOCTL_ADMIN_CMD, &c)) {
			perror("get log page 0x22");
			return 1;
		}
		for (i = 7; i >= 0; i--)
			v = (v << 8) | log[i];
		printf("%" PRIu64 "\n", v);
		return 0;
	}
	if (nvme_ring_init(&ring, 4)) {
		fprintf(stderr, "io_uring setup failed\n");
		return 1;
	}
	if (!strcmp(argv[1], "ruamw") && argc == 4) {
		n = nvme_ruh_status(&ring, fd, NVME_URING_CMD_IO, nsid, d, 128);
		for (i = 0; i < n; i++)
			if (d[i].pid == atoi(argv[3])) {
				printf("%" PRIu64 "\n", d[i].ruamw);
				return 0;
			}
		fprintf(stderr, "pid %s not in RUH status (%d)\n", argv[3], n);
		return 1;
	}
	if (!strcmp(argv[1], "write") && argc == 6) {
		uint32_t nlb = (uint32_t)atoi(argv[4]);
		uint64_t slba = strtoull(argv[5], NULL, 0);
		void *buf;

		if (nvme_identify_ns_lba(fd, nsid, &lba, &nsze) || !nlb) {
			fprintf(stderr, "identify failed\n");
			return 1;
		}
		buf = nvme_alloc((size_t)nlb * lba);
		memset(buf, 0xa5, (size_t)nlb * lba);
		cdw[0] = (uint32_t)slba;
		cdw[1] = (uint32_t)(slba >> 32);
		cdw[2] = (nlb - 1) | (2u << 20);		/* DTYPE = data placement */
		cdw[3] = (uint32_t)atoi(argv[3]) << 16;		/* DSPEC = pid */
		cdw[4] = cdw[5] = 0;
		ret = nvme_uring_io(&ring, fd, NVME_URING_CMD_IO, NVME_OPC_WRITE, nsid, buf,
				    nlb * lba, cdw);
		printf("%d\n", ret);
		return ret ? 1 : 0;
	}
	return usage();
}
