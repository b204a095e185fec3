// SPDX-License-Identifier: GPL-2.0
/*
 * Identify commands, sent at attach through the NVMe driver's own
 * NVME_IOCTL_ADMIN_CMD on the namespace's block device.
 *
 * The admin queue is private to the NVMe driver; its ioctl is the one entry
 * point a module can reach. That ioctl reads its command from, and writes
 * the data to, user memory, so the request is staged in a private anonymous
 * mapping of the calling process: attach runs in the ioctl of an admin
 * (CAP_SYS_ADMIN, which the driver checks again), never in a kernel thread.
 */
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/nvme.h>
#include <linux/nvme_ioctl.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#include "fdpkv.h"

/**
 * fdpkv_admin_identify - one Identify command to the namespace's controller
 * @bdev: the namespace's block device (an NVMe namespace, checked)
 * @cns: Controller or Namespace Structure (NVME_ID_CNS_*)
 * @nsid: namespace id, 0 for controller data
 * @out: 4096 bytes, filled with the data
 *
 * Return: 0, a positive NVMe status, or a negative errno (-EINVAL without a
 * calling process).
 */
int fdpkv_admin_identify(struct block_device *bdev, u8 cns, u32 nsid, void *out)
{
	const unsigned long len = PAGE_ALIGN(sizeof(struct nvme_passthru_cmd)) + FDPKV_ID_LEN;
	struct nvme_passthru_cmd cmd;
	unsigned long uaddr;
	int ret;

	if (!current->mm)
		return -EINVAL;
	uaddr = vm_mmap(NULL, 0, len, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, 0);
	if (IS_ERR_VALUE(uaddr))
		return (int)uaddr;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_admin_identify;
	cmd.nsid = nsid;
	cmd.addr = uaddr + len - FDPKV_ID_LEN;
	cmd.data_len = FDPKV_ID_LEN;
	cmd.cdw10 = cns;
	if (copy_to_user((void __user *)uaddr, &cmd, sizeof(cmd))) {
		ret = -EFAULT;
		goto unmap;
	}
	ret = bdev->bd_disk->fops->ioctl(bdev, FDPKV_BLK_MODE_READ, NVME_IOCTL_ADMIN_CMD, uaddr);
	if (!ret && copy_from_user(out, u64_to_user_ptr(cmd.addr), FDPKV_ID_LEN))
		ret = -EFAULT;
unmap:
	vm_munmap(uaddr, len);
	return ret;
}
