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

/* Identify Namespace / Controller: the fields fdpkv_cmd.c decodes, at their
 * spec offsets (the fuzzer compiles that file; it does not exercise them) */
struct nvme_lbaf {
	__le16	ms;
	__u8	ds;
	__u8	rp;
};

enum {
	NVME_NS_FLBAS_LBA_MASK	= 0xf,
	NVME_NS_FLBAS_LBA_UMASK	= 0x60,
	NVME_NS_FLBAS_LBA_SHIFT	= 1,
	NVME_NS_FLBAS_META_EXT	= 0x10,
	NVME_NS_DPS_PI_MASK	= 0x7,
};

struct nvme_id_ns {
	__le64	nsze;
	__le64	ncap;
	__le64	nuse;
	__u8	nsfeat;
	__u8	nlbaf;
	__u8	flbas;
	__u8	mc;
	__u8	dpc;
	__u8	dps;
	__u8	rsvd30[74];
	__u8	nguid[16];
	__u8	eui64[8];
	struct nvme_lbaf lbaf[64];
	__u8	vs[3712];
};

struct nvme_id_ctrl {
	__u8	rsvd0[768];
	char	subnqn[256];
	__u8	rsvd1024[3072];
};

static inline int nvme_lbaf_index(__u8 flbas)
{
	return (flbas & NVME_NS_FLBAS_LBA_MASK) |
	       ((flbas & NVME_NS_FLBAS_LBA_UMASK) >> NVME_NS_FLBAS_LBA_SHIFT);
}

#endif
