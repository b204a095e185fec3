// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "fdpkvio.h"
#include "nvmeio.h"

int fdpkv_ioc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int fdpkv_attach(int fd, const char *path, struct fdpkv_ns_attach *a)
{
	memset(a, 0, sizeof(*a));
	a->path = (uintptr_t)path;
	return fdpkv_ioc(fd, FDPKV_IOC_NS_ATTACH, a);
}

int fdpkv_ph_alloc(int fd, uint32_t ns, uint32_t count, uint32_t flags, uint16_t *pids)
{
	struct fdpkv_ph ph = { .ns = ns, .count = count, .flags = flags };
	int ret = fdpkv_ioc(fd, FDPKV_IOC_PH_ALLOC, &ph);

	if (!ret && pids)
		memcpy(pids, ph.pids, count * sizeof(*pids));
	return ret;
}

int fdpkv_lease(int fd, uint32_t ns, uint64_t slba, uint64_t nlb, uint32_t *id)
{
	struct fdpkv_lease l = { .ns = ns, .slba = slba, .nlb = nlb };
	int ret = fdpkv_ioc(fd, FDPKV_IOC_LEASE_ACQUIRE, &l);

	if (!ret && id)
		*id = l.id;
	return ret;
}

void fdpkv_prep_io(struct io_uring_sqe *sqe, int fd, uint32_t ns, uint8_t opcode, uint32_t nsid,
		   void *buf, uint32_t len, const uint32_t cdw[6])
{
	struct fdpkv_uring_cmd *c;

	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = FDPKV_URING_CMD_IO;
	c = (struct fdpkv_uring_cmd *)sqe->cmd;
	c->ns = ns;
	c->nvme.opcode = opcode;
	c->nvme.nsid = nsid;
	c->nvme.addr = (uintptr_t)buf;
	c->nvme.data_len = len;
	c->nvme.cdw10 = cdw[0];
	c->nvme.cdw11 = cdw[1];
	c->nvme.cdw12 = cdw[2];
	c->nvme.cdw13 = cdw[3];
	c->nvme.cdw14 = cdw[4];
	c->nvme.cdw15 = cdw[5];
}

int fdpkv_io(struct io_uring *ring, int fd, uint32_t ns, uint8_t opcode, uint32_t nsid,
	     void *buf, uint32_t len, const uint32_t cdw[6])
{
	return nvme_uring_io_ns(ring, fd, FDPKV_URING_CMD_IO, ns, opcode, nsid, buf, len, cdw);
}

void fdpkv_rw_cdw(uint32_t cdw[6], uint64_t slba, uint32_t nlb, int pid)
{
	cdw[0] = (uint32_t)slba;
	cdw[1] = (uint32_t)(slba >> 32);
	cdw[2] = nlb - 1;
	cdw[3] = 0;
	cdw[4] = cdw[5] = 0;
	if (pid >= 0) {
		cdw[2] |= 2u << 20;	/* DTYPE = data placement */
		cdw[3] = (uint32_t)pid << 16;
	}
}

int fdpkv_ruamw(struct io_uring *ring, int fd, uint32_t ns, uint32_t nsid, uint64_t *ruamw,
		uint16_t *pids, int max)
{
	struct ruh_desc d[FDPKV_MAX_PIDS];
	int i, n;

	n = nvme_ruh_status_ns(ring, fd, FDPKV_URING_CMD_IO, ns, nsid, d,
			       max < FDPKV_MAX_PIDS ? max : FDPKV_MAX_PIDS);
	for (i = 0; i < n; i++) {
		ruamw[i] = d[i].ruamw;
		if (pids)
			pids[i] = d[i].pid;
	}
	return n;
}
