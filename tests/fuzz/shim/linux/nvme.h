/* SPDX-License-Identifier: GPL-2.0 */
/* The few NVMe definitions of the kernel's <linux/nvme.h> fdpkv's checks use. */
#ifndef _FDPKV_SHIM_NVME_H
#define _FDPKV_SHIM_NVME_H

#include <linux/types.h>
#include <linux/nvme_ioctl.h>

enum nvme_opcode {
	nvme_cmd_flush		= 0x00,
	nvme_cmd_write		= 0x01,
	nvme_cmd_read		= 0x02,
	nvme_cmd_write_uncor	= 0x04,
	nvme_cmd_compare	= 0x05,
	nvme_cmd_write_zeroes	= 0x08,
	nvme_cmd_dsm		= 0x09,
	nvme_cmd_verify		= 0x0c,
	nvme_cmd_resv_register	= 0x0d,
	nvme_cmd_resv_report	= 0x0e,
	nvme_cmd_resv_acquire	= 0x11,
	nvme_cmd_resv_release	= 0x15,
};

struct nvme_dsm_range {
	__le32	cattr;
	__le32	nlb;
	__le64	slba;
};

#endif
