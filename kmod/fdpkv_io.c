// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe passthrough from /dev/fdpkv to an attached namespace.
 *
 * There is no stable in-kernel API for an out-of-tree module to send an
 * NVMe command, so this uses the pieces the NVMe driver itself builds its
 * passthrough from, all reachable without the driver's private header:
 *  - a request allocated on the namespace's blk-mq queue with
 *    REQ_OP_DRV_IN/OUT, which the driver sends as a prepared command;
 *  - nvme_init_request(), exported by nvme-core, which copies our
 *    struct nvme_command into the request (and sets timeouts and flags);
 *  - the user buffer mapped with blk_rq_map_user() (or a registered buffer
 *    imported with io_uring_cmd_import_fixed()), kernel copies of checked
 *    payloads with blk_rq_map_kern();
 *  - blk_execute_rq_nowait() with an end_io callback that completes the
 *    io_uring command in task context.
 * The one private layout relied on is the head of the driver's per-request
 * data, struct nvme_request, to read the NVMe status and result; attach
 * checks it at run time before anything is forwarded (see kmod/README.md).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-integrity.h>
#include <linux/blk-mq.h>
#include <linux/capability.h>
#include <linux/nvme.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "fdpkv.h"
#include "fdpkv_cmd.h"

/* exported by nvme-core; declared in its private drivers/nvme/host/nvme.h */
void nvme_init_request(struct request *req, struct nvme_command *cmd);

/*
 * The head of struct nvme_request, the NVMe driver's per-request data at
 * blk_mq_rq_to_pdu() (nvme_req()). Unchanged from 5.x to 6.12.
 */
struct fdpkv_nvme_request_head {
	struct nvme_command	*cmd;
	union nvme_result	result;
	u8			genctr;
	u8			retries;
	u8			flags;
	u16			status;
};

#define FDPKV_NVME_REQ_CANCELLED	BIT(0)	/* NVME_REQ_CANCELLED */
#define FDPKV_NVME_REQ_USERCMD		BIT(1)	/* NVME_REQ_USERCMD */

static struct fdpkv_nvme_request_head *fdpkv_nvme_req(struct request *rq)
{
	return blk_mq_rq_to_pdu(rq);
}

static void fdpkv_build_command(struct nvme_command *nc, const struct nvme_uring_cmd *c)
{
	memset(nc, 0, sizeof(*nc));
	nc->common.opcode = c->opcode;
	nc->common.nsid = cpu_to_le32(c->nsid);
	nc->common.cdw10 = cpu_to_le32(c->cdw10);
	nc->common.cdw11 = cpu_to_le32(c->cdw11);
	nc->common.cdw12 = cpu_to_le32(c->cdw12);
	nc->common.cdw13 = cpu_to_le32(c->cdw13);
	nc->common.cdw14 = cpu_to_le32(c->cdw14);
	nc->common.cdw15 = cpu_to_le32(c->cdw15);
}

static struct request *fdpkv_alloc_request(struct fdpkv_ns *ns, struct nvme_command *nc,
					   blk_mq_req_flags_t flags)
{
	struct request *rq;

	rq = blk_mq_alloc_request(ns->queue, nvme_is_write(nc) ? REQ_OP_DRV_OUT : REQ_OP_DRV_IN,
				  flags);
	if (IS_ERR(rq))
		return rq;
	nvme_init_request(rq, nc);
	return rq;
}

/* The NVMe status (positive), 0, or a negative errno for a finished request. */
static int fdpkv_request_status(struct request *rq, blk_status_t err)
{
	const struct fdpkv_nvme_request_head *nr = fdpkv_nvme_req(rq);

	if (nr->flags & FDPKV_NVME_REQ_CANCELLED)
		return -EINTR;
	if (nr->status)
		return nr->status;
	return blk_status_to_errno(err);
}

/*
 * One I/O Management Receive of @len bytes into @buf, sent as the module
 * sends every command, and checked for the head of the driver's request
 * data: after nvme_init_request() its cmd must point at a copy of ours.
 *
 * Return: 0, the NVMe status (positive) or a negative errno (-EOPNOTSUPP:
 * unknown driver layout).
 */
static int fdpkv_io_mgmt_recv(struct fdpkv_ns *ns, struct block_device *bdev, u32 cdw10,
			      void *buf, u32 len)
{
	const struct fdpkv_nvme_request_head *nr;
	struct nvme_command nc;
	struct request *rq;
	int ret;

	memset(&nc, 0, sizeof(nc));
	nc.common.opcode = FDPKV_NVME_CMD_IO_MGMT_RECV;
	nc.common.nsid = cpu_to_le32(ns->nsid);
	nc.common.cdw10 = cpu_to_le32(cdw10);
	nc.common.cdw11 = cpu_to_le32(len / 4 - 1);	/* NUMD, 0's based */
	rq = fdpkv_alloc_request(ns, &nc, 0);
	if (IS_ERR(rq))
		return PTR_ERR(rq);
	rq->rq_flags |= RQF_QUIET;
	nr = fdpkv_nvme_req(rq);
	if (!nr->cmd || memcmp(nr->cmd, &nc, sizeof(nc)) || nr->status || nr->flags) {
		ret = -EOPNOTSUPP;
		goto free_rq;
	}
	ret = fdpkv_rq_map_kern(rq, buf, len);
	if (ret)
		goto free_rq;
	ret = fdpkv_request_status(rq, blk_execute_rq(rq, false));
free_rq:
	blk_mq_free_request(rq);
	return ret;
}

/**
 * fdpkv_io_ruh_status - placement identifiers of a namespace (RUH Status)
 * @ns: namespace being attached (nsid, queue and lba geometry set)
 * @bdev: its block device
 * @pids: filled with up to @max placement identifiers
 * @max: room in @pids
 *
 * Also checks that the NVMe driver's per-request data is laid out as this
 * module reads it, nothing is forwarded otherwise: the cmd pointer after
 * nvme_init_request(), and the status of a command that must fail (an
 * unknown Management Operation), which a moved status field would read as
 * success.
 *
 * Return: number of identifiers, or a negative errno (-EOPNOTSUPP: RUH
 * Status failed with an NVMe status, or unknown driver layout).
 */
int fdpkv_io_ruh_status(struct fdpkv_ns *ns, struct block_device *bdev, u16 *pids,
			unsigned int max)
{
	const u32 len = 16 + 32 * FDPKV_MAX_PIDS;	/* header + descriptors */
	const char *name = bdev->bd_disk->disk_name;
	unsigned int i, n;
	u8 *buf;
	int ret;

	buf = kzalloc(len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	/* MO 0xff is reserved: Invalid Field in Command */
	ret = fdpkv_io_mgmt_recv(ns, bdev, 0xff, buf, 4096);
	if (ret <= 0) {
		pr_err("%s: NVMe driver request layout not recognized (probe status %d); passthrough disabled\n",
		       name, ret);
		ret = -EOPNOTSUPP;
		goto free_buf;
	}
	ret = fdpkv_io_mgmt_recv(ns, bdev, 1, buf, len);	/* MO 1: RUH Status */
	if (ret > 0) {
		pr_info("%s: RUH Status failed with NVMe status %#x (FDP not enabled?)\n", name,
			ret);
		ret = -EOPNOTSUPP;
	}
	if (ret)
		goto free_buf;
	/* header: NRUHSD at byte 14; 32-byte descriptors from byte 16, PID first */
	n = le16_to_cpu(*(__le16 *)(buf + 14));
	if (n > max) {
		pr_warn("%s: %u reclaim unit handles; only the first %u are managed\n", name, n,
			max);
		n = max;
	}
	for (i = 0; i < n; i++)
		pids[i] = le16_to_cpu(*(__le16 *)(buf + 16 + 32 * i));
	ret = n;
free_buf:
	kfree(buf);
	return ret;
}

/*
 * What an accepted command holds until it completes: its namespace
 * reference, and its count on the leases and handles it was checked
 * against (they cannot be returned meanwhile, see fdpkv_hold_take()).
 */
struct fdpkv_uring_hold {
	struct fdpkv_ns		*ns;
	struct fdpkv_file	*ff;
	struct fdpkv_hold	h;
};

/* Uncount a command; its file is still open (io_uring pins it). */
static void fdpkv_uring_hold_drop(struct fdpkv_uring_hold *hold)
{
	struct fdpkv_ns *ns = hold->ns;

	spin_lock(&ns->lock);
	fdpkv_hold_drop(&ns->ph, &ns->leases, hold->ff, &hold->h);
	spin_unlock(&ns->lock);
	kfree(hold);
}

/*
 * Per-command state, in the io_uring command's pdu. @payload is set instead
 * of @bio when the data is a kernel copy (DSM ranges, RUH Update ids).
 */
struct fdpkv_uring_pdu {
	union {
		struct bio	*bio;
		void		*payload;
	};
	struct fdpkv_uring_hold	*hold;
	u64			result;
	s32			status;
	u32			has_payload;
};

static struct fdpkv_uring_pdu *fdpkv_uring_pdu(struct io_uring_cmd *ioucmd)
{
	BUILD_BUG_ON(sizeof(struct fdpkv_uring_pdu) > sizeof(ioucmd->pdu));
	return (struct fdpkv_uring_pdu *)ioucmd->pdu;
}

/* Task context: unmap the user buffer, post the CQE. */
void fdpkv_uring_task_cb(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	struct fdpkv_uring_pdu *pdu = fdpkv_uring_pdu(ioucmd);
	struct fdpkv_ns *ns = pdu->hold->ns;
	int ret = 0;

	if (!pdu->has_payload && pdu->bio)
		ret = blk_rq_unmap_user(pdu->bio);
	if (!pdu->status && ret)
		pdu->status = ret;
	if (pdu->status)
		atomic64_inc(&ns->errors);
	fdpkv_uring_hold_drop(pdu->hold);
	fdpkv_ns_put(ns);
	fdpkv_uring_cmd_done(ioucmd, pdu->status, pdu->result, issue_flags);
}

/* Completion context (may be hard irq): record the result, defer the rest. */
enum rq_end_io_ret fdpkv_uring_end_io(struct request *rq, blk_status_t err)
{
	struct io_uring_cmd *ioucmd = rq->end_io_data;
	struct fdpkv_uring_pdu *pdu = fdpkv_uring_pdu(ioucmd);

	pdu->status = fdpkv_request_status(rq, err);
	pdu->result = le64_to_cpu(fdpkv_nvme_req(rq)->result.u64);
	/* the bios of a kernel mapping have ended: its buffer is ours again */
	if (pdu->has_payload)
		kfree(pdu->payload);
	fdpkv_uring_complete_in_task(ioucmd);
	return RQ_END_IO_FREE;
}

/* Copy in, under no lock, what the check must see in kernel memory. */
static int fdpkv_uring_copy_payload(const struct nvme_uring_cmd *c, void **payload)
{
	int len = fdpkv_cmd_payload_len(c);

	*payload = NULL;
	if (len <= 0)
		return len;
	*payload = memdup_user(u64_to_user_ptr(c->addr), len);
	if (IS_ERR(*payload)) {
		int ret = PTR_ERR(*payload);

		*payload = NULL;
		return ret;
	}
	return len;
}

/*
 * Whether the namespace still has the geometry it was attached with. An
 * admin Format (or a resize) changes the LBA size or capacity under the
 * module: the length check would then use the old LBA size and the device
 * would move more than the mapped buffer. Read per command from the block
 * layer, which the NVMe driver revalidates after a format; once changed,
 * the namespace stays refused until it is detached and attached again.
 */
static int fdpkv_ns_check_geometry(struct fdpkv_ns *ns)
{
	struct block_device *bdev = fdpkv_bdev(&ns->bdev);

	if (likely(!test_bit(FDPKV_NS_STALE, &ns->flags) &&
		   bdev_logical_block_size(bdev) == 1U << ns->lba_shift &&
		   bdev_nr_sectors(bdev) >> (ns->lba_shift - SECTOR_SHIFT) == ns->capacity &&
		   !blk_get_integrity(bdev->bd_disk)))
		return 0;
	if (!test_and_set_bit(FDPKV_NS_STALE, &ns->flags))
		pr_warn("%s: LBA size, capacity or metadata changed since attach (now %u-byte blocks, %llu sectors); I/O refused with ESTALE until detached and attached again\n",
			ns->path, bdev_logical_block_size(bdev), bdev_nr_sectors(bdev));
	return -ESTALE;
}

static int fdpkv_uring_check(struct fdpkv_ns *ns, struct fdpkv_file *ff,
			     const struct nvme_uring_cmd *c, const void *payload, int payload_len,
			     struct fdpkv_cmd_effect *eff, struct fdpkv_hold *hold)
{
	struct fdpkv_cmd_ctx ctx = {
		.nsid		= ns->nsid,
		.lba_shift	= ns->lba_shift,
		.max_transfer	= ns->max_transfer,
		.ph		= &ns->ph,
		.leases		= &ns->leases,
		.owner		= ff,
		.payload	= payload,
		.payload_len	= payload_len > 0 ? payload_len : 0,
	};
	enum fdpkv_reject why;
	int ret;

	ret = fdpkv_ns_check_geometry(ns);
	if (ret)
		return ret;
	spin_lock(&ns->lock);
	if (payload_len < 0) {
		why = FDPKV_REJECT_LENGTH;
		ret = payload_len;
	} else {
		ret = fdpkv_cmd_check(c, &ctx, &why, eff);
	}
	if (ret)
		ns->rejected[why]++;
	else
		/* counted until completion, under the lock the check held */
		fdpkv_hold_take(&ns->ph, &ns->leases, ff, eff, hold);
	spin_unlock(&ns->lock);
	return ret;
}

/* Count a command that is about to be sent (checked, and its buffer mapped). */
static void fdpkv_uring_count(struct fdpkv_ns *ns, const struct fdpkv_cmd_effect *eff)
{
	spin_lock(&ns->lock);
	ns->cmds++;
	if (eff->ph) {
		eff->ph->cmds++;
		eff->ph->bytes_written += eff->bytes;
	}
	spin_unlock(&ns->lock);
}

static int fdpkv_uring_map(struct fdpkv_ns *ns, struct request *rq,
			   const struct nvme_uring_cmd *c, struct io_uring_cmd *ioucmd,
			   unsigned int issue_flags, void *payload, int payload_len)
{
	struct iov_iter iter;
	int ret;

	if (payload)
		return fdpkv_rq_map_kern(rq, payload, payload_len);
	if (!c->data_len)
		return 0;
	if (ioucmd->flags & IORING_URING_CMD_FIXED) {
		ret = fdpkv_uring_import_fixed(c->addr, c->data_len, rq_data_dir(rq), &iter,
					       ioucmd, issue_flags);
		if (ret < 0)
			return ret;
		return blk_rq_map_user_iov(ns->queue, rq, NULL, &iter, GFP_KERNEL);
	}
	return blk_rq_map_user(ns->queue, rq, NULL, u64_to_user_ptr(c->addr), c->data_len,
			       GFP_KERNEL);
}

static int fdpkv_uring_submit(struct fdpkv_ns *ns, struct fdpkv_file *ff,
			      const struct nvme_uring_cmd *c, struct io_uring_cmd *ioucmd,
			      unsigned int issue_flags)
{
	struct fdpkv_uring_pdu *pdu = fdpkv_uring_pdu(ioucmd);
	struct fdpkv_cmd_effect eff;
	struct fdpkv_uring_hold *hold;
	struct nvme_command nc;
	struct request *rq;
	void *payload;
	int len, ret;

	hold = kmalloc(sizeof(*hold), GFP_KERNEL);
	if (!hold)
		return -ENOMEM;
	hold->ns = ns;
	hold->ff = ff;
	len = fdpkv_uring_copy_payload(c, &payload);
	if (len == -EFAULT || len == -ENOMEM) {
		kfree(hold);
		return len;
	}
	fdpkv_build_command(&nc, c);
	/*
	 * Allocate before the check counts anything: without a free tag a
	 * non-blocking issue gets -EAGAIN and io_uring issues it again.
	 */
	rq = blk_mq_alloc_request(ns->queue, nvme_is_write(&nc) ? REQ_OP_DRV_OUT : REQ_OP_DRV_IN,
				  (issue_flags & IO_URING_F_NONBLOCK) ? BLK_MQ_REQ_NOWAIT : 0);
	if (IS_ERR(rq)) {
		ret = PTR_ERR(rq);
		goto free_payload;
	}
	ret = fdpkv_uring_check(ns, ff, c, payload, len, &eff, &hold->h);
	if (ret)
		goto free_rq;
	nvme_init_request(rq, &nc);
	/*
	 * As the driver's own passthrough marks it: a user command, which
	 * nvme-pci sends with SGLs where the controller has them, so the
	 * transfer is bounded by the descriptor's length, not only by the
	 * command's NLB.
	 */
	fdpkv_nvme_req(rq)->flags |= FDPKV_NVME_REQ_USERCMD;
	/*
	 * Only an admin's timeout applies (the opener's credentials). A
	 * tenant's short one would make the driver abort commands and reset
	 * the controller for every tenant: it gets the driver's default.
	 */
	if (c->timeout_ms && file_ns_capable(ioucmd->file, &init_user_ns, CAP_SYS_ADMIN))
		rq->timeout = msecs_to_jiffies(c->timeout_ms);
	ret = fdpkv_uring_map(ns, rq, c, ioucmd, issue_flags, payload, len);
	if (ret)
		goto drop_hold;
	fdpkv_uring_count(ns, &eff);

	pdu->has_payload = !!payload;
	if (payload)
		pdu->payload = payload;
	else
		pdu->bio = rq->bio;
	pdu->hold = hold;
	fdpkv_rq_set_uring_end_io(rq);
	rq->end_io_data = ioucmd;
	blk_execute_rq_nowait(rq, false);
	return -EIOCBQUEUED;

drop_hold:
	fdpkv_uring_hold_drop(hold);
	hold = NULL;
free_rq:
	blk_mq_free_request(rq);
free_payload:
	kfree(payload);
	kfree(hold);
	return ret;
}

/**
 * fdpkv_uring_cmd - the uring_cmd handler of /dev/fdpkv
 * @ioucmd: the command; its payload is a struct fdpkv_uring_cmd
 * @issue_flags: io_uring's
 *
 * Return: -EIOCBQUEUED when forwarded (the CQE follows), else a negative
 * errno: -ENOTTY (unknown cmd_op), -EOPNOTSUPP (ring without SQE128 and
 * CQE32, polled ring), -EINVAL (reserved field), -EBADF (a command that
 * changes media on a file not open for writing), -ENODEV (no such
 * namespace), -ESTALE (its geometry changed since attach), or a refusal of
 * fdpkv_cmd_check().
 */
int fdpkv_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	struct fdpkv_file *ff = ioucmd->file->private_data;
	struct fdpkv_uring_cmd cmd;
	struct fdpkv_ns *ns;
	int ret;

	BUILD_BUG_ON(sizeof(struct fdpkv_uring_cmd) != 80);
	if (ioucmd->cmd_op != FDPKV_URING_CMD_IO)
		return -ENOTTY;
	if ((issue_flags & (IO_URING_F_SQE128 | IO_URING_F_CQE32)) !=
	    (IO_URING_F_SQE128 | IO_URING_F_CQE32))
		return -EOPNOTSUPP;
	if (issue_flags & IO_URING_F_IOPOLL)
		return -EOPNOTSUPP;
	/* one copy of the shared SQE; everything below reads the copy */
	memcpy(&cmd, fdpkv_uring_cmd_payload(ioucmd), sizeof(cmd));
	if (cmd.rsvd)
		return -EINVAL;
	/* as for a block device: changing media needs a file open for writing */
	if (fdpkv_cmd_changes_media(cmd.nvme.opcode) && !(ioucmd->file->f_mode & FMODE_WRITE))
		return -EBADF;
	ns = fdpkv_ns_get(cmd.ns);
	if (!ns)
		return -ENODEV;
	ret = fdpkv_uring_submit(ns, ff, &cmd.nvme, ioucmd, issue_flags);
	if (ret != -EIOCBQUEUED)
		fdpkv_ns_put(ns);
	return ret;
}
