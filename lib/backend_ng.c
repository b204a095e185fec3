// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * backend_ng.c - "ng:/dev/ngXnY": NVMe passthrough through io_uring
 * uring_cmd (SQE128/CQE32), writes tagged DTYPE=2 with the class's
 * placement identifier. Placement ids come from the RUH Status log
 * (I/O Management Receive); without FDP the writes carry no directive.
 * The reclaim unit size is not read from the FDP configuration log yet:
 * segment_size must be set to it.
 *
 * Only available inside the VM (tests/vm); the command encoding it uses is
 * unit-tested on the host (ng.c, tests/unit/test_ng_encode.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/nvme_ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

#define NG_MAX_TRANSFER		(128u << 10)
#define NVME_ADMIN_IDENTIFY	0x06
#define NVME_IO_MGMT_RECV	0x12

struct ng_priv {
	uint32_t nsid;
	unsigned int lba_shift;
	uint64_t nlba;
	bool fdp;
	unsigned int npids;
	uint16_t pids[FDPKV_MAX_CLASSES];
	uint64_t ru_bytes;
};

static int ng_identify(int fd, struct ng_priv *np)
{
	struct nvme_passthru_cmd cmd;
	uint8_t *id;
	unsigned int fmt;
	uint64_t nsze;
	int ret;

	if (posix_memalign((void **)&id, 4096, 4096))
		return -ENOMEM;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_ADMIN_IDENTIFY;
	cmd.nsid = np->nsid;
	cmd.addr = (uint64_t)(uintptr_t)id;
	cmd.data_len = 4096;
	cmd.cdw10 = 0;	/* CNS 0: identify namespace */
	ret = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);
	if (ret) {
		ret = ret < 0 ? -errno : -EIO;
		free(id);
		return ret;
	}
	memcpy(&nsze, id, 8);
	fmt = (id[26] & 0x0f) | ((id[26] >> 5 & 0x3) << 4);
	np->lba_shift = id[128 + 4 * fmt + 2];
	np->nlba = nsze;
	free(id);
	return np->lba_shift >= 9 && np->lba_shift <= 16 ? 0 : -EINVAL;
}

static void ng_ruh_status(int fd, struct ng_priv *np)
{
	struct nvme_passthru_cmd cmd;
	uint8_t *buf;
	unsigned int n, i;
	uint16_t nruhsd;

	if (posix_memalign((void **)&buf, 4096, 4096))
		return;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_IO_MGMT_RECV;
	cmd.nsid = np->nsid;
	cmd.addr = (uint64_t)(uintptr_t)buf;
	cmd.data_len = 4096;
	cmd.cdw10 = 1;			/* MO 1: reclaim unit handle status */
	cmd.cdw11 = 4096 / 4 - 1;	/* NUMD, 0's based dwords */
	if (ioctl(fd, NVME_IOCTL_IO_CMD, &cmd) == 0) {
		memcpy(&nruhsd, buf + 14, 2);
		n = MIN((unsigned int)nruhsd, (4096u - 16) / 32);
		for (i = 0; i < n && np->npids < FDPKV_MAX_CLASSES; i++)
			memcpy(&np->pids[np->npids++], buf + 16 + 32 * i, 2);
		np->fdp = np->npids > 0;
	}
	free(buf);
}

static int ng_open(struct fdpkv_dev *dev, const char *path, const struct fdpkv_config *cfg,
		   bool create, char *err, size_t errlen)
{
	struct ng_priv *np;
	int fd, ret;

	(void)create;
	np = calloc(1, sizeof(*np));
	if (!np)
		return -ENOMEM;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		fdpkv_seterr(err, errlen, "device '%s': open: %s", dev->uri, strerror(-ret));
		goto free_np;
	}
	ret = ioctl(fd, NVME_IOCTL_ID);
	if (ret <= 0) {
		ret = ret < 0 ? -errno : -EINVAL;
		fdpkv_seterr(err, errlen, "device '%s': not an NVMe namespace (NVME_IOCTL_ID: %s)",
			     dev->uri, strerror(-ret));
		goto close_fd;
	}
	np->nsid = (uint32_t)ret;
	ret = ng_identify(fd, np);
	if (ret) {
		fdpkv_seterr(err, errlen, "device '%s': identify namespace: %s", dev->uri,
			     strerror(-ret));
		goto close_fd;
	}
	ng_ruh_status(fd, np);
	np->ru_bytes = cfg->segment_bytes;
	if (np->fdp && !np->ru_bytes) {
		ret = -EINVAL;
		fdpkv_seterr(err, errlen,
			     "device '%s': set segment_size to the reclaim unit size", dev->uri);
		goto close_fd;
	}
	dev->fd = fd;
	dev->priv = np;
	return 0;
close_fd:
	close(fd);
free_np:
	free(np);
	return ret;
}

static int ng_geometry(struct fdpkv_dev *dev, struct fdpkv_geometry *g)
{
	struct ng_priv *np = dev->priv;

	memset(g, 0, sizeof(*g));
	g->lba_size = 1u << np->lba_shift;
	g->capacity = np->nlba << np->lba_shift;
	g->ru_bytes = np->ru_bytes;
	g->max_transfer = NG_MAX_TRANSFER;
	g->npids = np->fdp ? np->npids : 1;
	memcpy(g->pids, np->pids, sizeof(g->pids));
	return 0;
}

static int ng_prep(struct fdpkv_dev *dev, struct io_uring_sqe *sqe, struct io_part *p)
{
	struct ng_priv *np = dev->priv;
	struct nvme_uring_cmd *c = (struct nvme_uring_cmd *)sqe->cmd;
	int ret = 0;

	_Static_assert(sizeof(struct nvme_dsm_range) <= sizeof(p->pad), "dsm range in part");
	memset(sqe, 0, 2 * sizeof(*sqe));	/* SQE128 */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = dev->fd;
	sqe->cmd_op = NVME_URING_CMD_IO;
	switch (p->cmd->op) {
	case IO_READ:
	case IO_WRITE:
		ret = ng_encode_rw(c, p->cmd->op == IO_WRITE, np->nsid, np->lba_shift, p->off,
				   p->len, p->buf, np->fdp, p->cmd->pid, p->cmd->dsync);
		break;
	case IO_DEALLOC:
		ret = ng_encode_dsm(c, np->nsid, np->lba_shift, p->off, p->len,
				    (struct nvme_dsm_range *)p->pad);
		break;
	case IO_FLUSH:
		ng_encode_flush(c, np->nsid);
		break;
	}
	return ret;
}

static int ng_result(struct fdpkv_dev *dev, const struct io_uring_cqe *cqe, struct io_part *p)
{
	(void)dev;
	if (cqe->res < 0)
		return cqe->res;
	if (cqe->res > 0)
		return -EIO;	/* NVMe status */
	return (int)p->len;
}

static void ng_close(struct fdpkv_dev *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
	free(dev->priv);
	dev->priv = NULL;
}

const struct fdpkv_backend_ops backend_ng_ops = {
	.scheme = "ng",
	.open = ng_open,
	.geometry = ng_geometry,
	.ring_flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32,
	.prep = ng_prep,
	.result = ng_result,
	.close = ng_close,
};
