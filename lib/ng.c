// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ng.c - NVMe I/O command encoding for io_uring passthrough
 * (IORING_OP_URING_CMD with NVME_URING_CMD_IO on /dev/ngXnY).
 * Pure functions, so the encoding is unit-tested on hosts without the device.
 *
 * Read/write: cdw10/11 = SLBA, cdw12 = NLB-1 (0's based) | DTYPE << 20 |
 * FUA << 30, cdw13 = DSPEC << 16 (the placement identifier when DTYPE = 2,
 * data placement). Dataset management: cdw10 = NR-1, cdw11 = AD, one range.
 */
#include <errno.h>
#include <linux/nvme_ioctl.h>
#include <string.h>

#include "internal.h"

#define NVME_RW_FUA		(1u << 30)
#define NVME_RW_DTYPE_SHIFT	20
#define NVME_RW_DSPEC_SHIFT	16

int ng_encode_rw(struct nvme_uring_cmd *c, bool write, uint32_t nsid, unsigned int lba_shift,
		 uint64_t off, uint64_t len, void *buf, bool fdp, uint16_t pid, bool fua)
{
	uint64_t mask = (1ull << lba_shift) - 1, nlb;

	if ((off & mask) || (len & mask) || len == 0 || len > UINT32_MAX)
		return -EINVAL;
	nlb = len >> lba_shift;
	if (nlb > 0x10000)
		return -EINVAL;		/* NLB is a 16-bit 0's based count */
	memset(c, 0, sizeof(*c));
	c->opcode = write ? NVME_CMD_WRITE : NVME_CMD_READ;
	c->nsid = nsid;
	c->addr = (uint64_t)(uintptr_t)buf;
	c->data_len = (uint32_t)len;
	c->cdw10 = (uint32_t)(off >> lba_shift);
	c->cdw11 = (uint32_t)((off >> lba_shift) >> 32);
	c->cdw12 = (uint32_t)(nlb - 1);
	if (write && fdp) {
		c->cdw12 |= NVME_DTYPE_FDP << NVME_RW_DTYPE_SHIFT;
		c->cdw13 = (uint32_t)pid << NVME_RW_DSPEC_SHIFT;
	}
	if (write && fua)
		c->cdw12 |= NVME_RW_FUA;
	return 0;
}

int ng_encode_dsm(struct nvme_uring_cmd *c, uint32_t nsid, unsigned int lba_shift, uint64_t off,
		  uint64_t len, struct nvme_dsm_range *range)
{
	uint64_t mask = (1ull << lba_shift) - 1;

	if ((off & mask) || (len & mask) || len == 0 || (len >> lba_shift) > UINT32_MAX)
		return -EINVAL;
	range->cattr = 0;
	range->nlb = (uint32_t)(len >> lba_shift);	/* DSM ranges count LBAs, not 0's based */
	range->slba = off >> lba_shift;
	memset(c, 0, sizeof(*c));
	c->opcode = NVME_CMD_DSM;
	c->nsid = nsid;
	c->addr = (uint64_t)(uintptr_t)range;
	c->data_len = sizeof(*range);
	c->cdw10 = 0;		/* one range */
	c->cdw11 = NVME_DSM_AD;
	return 0;
}

void ng_encode_flush(struct nvme_uring_cmd *c, uint32_t nsid)
{
	memset(c, 0, sizeof(*c));
	c->opcode = NVME_CMD_FLUSH;
	c->nsid = nsid;
}
