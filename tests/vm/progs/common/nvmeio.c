// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/nvme_ioctl.h>
#include <uapi/fdpkv.h>

#include "nvmeio.h"

static uint16_t get_le16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t get_le32(const uint8_t *p) { return get_le16(p) | (uint32_t)get_le16(p + 2) << 16; }
static uint64_t get_le64(const uint8_t *p) { return get_le32(p) | (uint64_t)get_le32(p + 4) << 32; }

void *nvme_alloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, 4096, len))
		return NULL;
	memset(p, 0, len);
	return p;
}

int nvme_ring_init(struct io_uring *ring, unsigned int entries)
{
	/* NVMe passthrough needs the big SQEs and CQEs */
	return io_uring_queue_init(entries, ring, IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
}

int nvme_uring_io(struct io_uring *ring, int fd, uint32_t cmd_op, uint8_t opcode,
		  uint32_t nsid, void *buf, uint32_t len, const uint32_t cdw[6])
{
	return nvme_uring_io_ns(ring, fd, cmd_op, 0, opcode, nsid, buf, len, cdw);
}

int nvme_uring_io_ns(struct io_uring *ring, int fd, uint32_t cmd_op, uint32_t fdpkv_ns,
		     uint8_t opcode, uint32_t nsid, void *buf, uint32_t len, const uint32_t cdw[6])
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	struct nvme_uring_cmd *cmd;
	int ret;

	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = cmd_op;
	cmd = (struct nvme_uring_cmd *)sqe->cmd;
	cmd->opcode = opcode;
	cmd->nsid = nsid;
	cmd->addr = (uintptr_t)buf;
	cmd->data_len = len;
	cmd->cdw10 = cdw[0];
	cmd->cdw11 = cdw[1];
	cmd->cdw12 = cdw[2];
	cmd->cdw13 = cdw[3];
	cmd->cdw14 = cdw[4];
	cmd->cdw15 = cdw[5];
	/* /dev/fdpkv: the fdpkv namespace rides after the NVMe command */
	if (cmd_op == FDPKV_URING_CMD_IO)
		((struct fdpkv_uring_cmd *)sqe->cmd)->ns = fdpkv_ns;
	ret = io_uring_submit(ring);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

int nvme_identify_ns_lba(int fd, uint32_t nsid, uint32_t *lba_size, uint64_t *nsze)
{
	uint8_t *id = nvme_alloc(4096);
	struct nvme_admin_cmd c = {
		.opcode = 0x06, .nsid = nsid, .addr = (uintptr_t)id, .data_len = 4096,
		.cdw10 = 0,	/* CNS 0: Identify Namespace */
	};
	int ret;

	if (!id)
		return -ENOMEM;
	ret = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &c);
	if (ret < 0)
		ret = -errno;
	if (ret == 0) {
		uint8_t lbads = id[128 + 4 * (id[26] & 0xf) + 2];

		*nsze = get_le64(id);
		*lba_size = 1u << lbads;
	}
	free(id);
	return ret;
}

int nvme_ruh_status(struct io_uring *ring, int fd, uint32_t cmd_op, uint32_t nsid,
		    struct ruh_desc *d, int max)
{
	return nvme_ruh_status_ns(ring, fd, cmd_op, 0, nsid, d, max);
}

int nvme_ruh_status_ns(struct io_uring *ring, int fd, uint32_t cmd_op, uint32_t fdpkv_ns,
		       uint32_t nsid, struct ruh_desc *d, int max)
{
	const uint32_t len = 4096;
	uint8_t *b = nvme_alloc(len);
	/* MO 1 = RUH Status; CDW11 = NUMD, 0's based */
	uint32_t cdw[6] = { 0x1, len / 4 - 1, 0, 0, 0, 0 };
	int ret, n, i;

	if (!b)
		return -ENOMEM;
	ret = nvme_uring_io_ns(ring, fd, cmd_op, fdpkv_ns, NVME_OPC_IO_MGMT_RECV, nsid, b, len, cdw);
	if (ret) {
		free(b);
		return ret < 0 ? ret : -EIO;
	}
	n = get_le16(b + 14);
	for (i = 0; i < n && i < max && 16 + 32 * (i + 1) <= (int)len; i++) {
		const uint8_t *p = b + 16 + 32 * i;

		d[i].pid = get_le16(p);
		d[i].ruhid = get_le16(p + 2);
		d[i].ruamw = get_le64(p + 8);
	}
	free(b);
	return i;
}
