// SPDX-License-Identifier: GPL-2.0
/*
 * Encoding of the NVMe command fields fdpkv checks and builds.
 */
#include <linux/bitfield.h>
#include <linux/errno.h>
#include <linux/nvme.h>
#include <linux/string.h>

#include "fdpkv_cmd.h"

/**
 * fdpkv_cmd_placement_encode - CDW12/CDW13 of a write aimed at a placement id
 * @nlb: number of logical blocks, 1..65536
 * @pid: placement identifier (reclaim group in the high RGIF bits)
 * @cdw12: filled with NLB (0's based) and DTYPE = Data Placement
 * @cdw13: filled with DSPEC = @pid
 *
 * Return: 0, or -EINVAL when @nlb does not fit the 16-bit 0's based field.
 */
int fdpkv_cmd_placement_encode(u32 nlb, u16 pid, u32 *cdw12, u32 *cdw13)
{
	if (nlb == 0 || nlb > FIELD_MAX(FDPKV_CDW12_NLB) + 1)
		return -EINVAL;
	*cdw12 = FIELD_PREP(FDPKV_CDW12_NLB, nlb - 1) |
		 FIELD_PREP(FDPKV_CDW12_DTYPE, FDPKV_DTYPE_DATA_PLACEMENT);
	*cdw13 = FIELD_PREP(FDPKV_CDW13_DSPEC, pid);
	return 0;
}

/**
 * fdpkv_cmd_placement_decode - placement id a write's CDW12/CDW13 ask for
 * @cdw12: the write's CDW12
 * @cdw13: the write's CDW13
 * @pid: set to the placement identifier when the write carries one
 *
 * Return: true when DTYPE is Data Placement. A write without it lands on the
 * device's default handle, which the caller must treat as a placement too.
 */
bool fdpkv_cmd_placement_decode(u32 cdw12, u32 cdw13, u16 *pid)
{
	if (FIELD_GET(FDPKV_CDW12_DTYPE, cdw12) != FDPKV_DTYPE_DATA_PLACEMENT)
		return false;
	*pid = FIELD_GET(FDPKV_CDW13_DSPEC, cdw13);
	return true;
}

/**
 * fdpkv_cmd_changes_media - whether an I/O opcode writes, zeroes, deallocates
 * or moves reclaim units (so needs a file open for writing)
 * @opcode: NVM command set opcode
 *
 * Not nvme_is_write(): Write Zeroes moves no data but changes media.
 */
bool fdpkv_cmd_changes_media(u8 opcode)
{
	switch (opcode) {
	case nvme_cmd_write:
	case nvme_cmd_write_zeroes:
	case nvme_cmd_dsm:
	case FDPKV_NVME_CMD_IO_MGMT_SEND:
		return true;
	default:
		return false;
	}
}

/**
 * fdpkv_id_ns_format - the current LBA format of a namespace (Identify Namespace)
 * @id: the Identify Namespace data
 * @f: filled with the format
 *
 * Return: 0, or -EOPNOTSUPP when the format carries metadata or protection
 * information (@f says which), or -EINVAL when FLBAS names a format the
 * namespace does not list or the data size is not 512 B..64 KiB.
 */
int fdpkv_id_ns_format(const struct nvme_id_ns *id, struct fdpkv_ns_format *f)
{
	u8 idx = nvme_lbaf_index(id->flbas);

	memset(f, 0, sizeof(*f));
	if (idx > id->nlbaf || idx >= ARRAY_SIZE(id->lbaf))
		return -EINVAL;
	f->lba_shift = id->lbaf[idx].ds;
	f->ms = le16_to_cpu(id->lbaf[idx].ms);
	f->extended = !!(id->flbas & NVME_NS_FLBAS_META_EXT);
	f->pi_type = id->dps & NVME_NS_DPS_PI_MASK;
	f->nsze = le64_to_cpu(id->nsze);
	if (f->lba_shift < 9 || f->lba_shift > 16)
		return -EINVAL;
	/*
	 * With metadata the device moves NLB x (LBA + MS) bytes (extended
	 * LBAs) or DMAs metadata to the command's metadata pointer (separate):
	 * either way more than the data buffer the module maps.
	 */
	if (f->ms || f->pi_type)
		return -EOPNOTSUPP;
	return 0;
}

/**
 * fdpkv_ns_ident_fill - what the device says a namespace is
 * @d: filled
 * @nsid: the namespace id
 * @id: its Identify Namespace data (NGUID, EUI-64)
 * @ctrl: its controller's Identify Controller data (subsystem NQN)
 */
void fdpkv_ns_ident_fill(struct fdpkv_ns_ident *d, u32 nsid, const struct nvme_id_ns *id,
			 const struct nvme_id_ctrl *ctrl)
{
	memset(d, 0, sizeof(*d));
	d->nsid = nsid;
	memcpy(d->nguid, id->nguid, sizeof(d->nguid));
	memcpy(d->eui64, id->eui64, sizeof(d->eui64));
	memcpy(d->subnqn, ctrl->subnqn, sizeof(d->subnqn) - 1);
}

static bool fdpkv_nonzero(const u8 *p, size_t len)
{
	return memchr_inv(p, 0, len);
}

/**
 * fdpkv_ns_ident_same - whether two identities name one namespace
 * @a: one
 * @b: the other
 *
 * The same namespace reached through two controllers of one subsystem
 * (nvme_core.multipath=N) reports the same identifiers. A globally unique
 * id (NGUID, else EUI-64) that both report decides; without one, the
 * namespace id within the subsystem NQN does (NSIDs are unique within a
 * subsystem).
 *
 * Return: true when they are the same namespace.
 */
bool fdpkv_ns_ident_same(const struct fdpkv_ns_ident *a, const struct fdpkv_ns_ident *b)
{
	if (fdpkv_nonzero(a->nguid, sizeof(a->nguid)) && fdpkv_nonzero(b->nguid, sizeof(b->nguid)))
		return !memcmp(a->nguid, b->nguid, sizeof(a->nguid));
	if (fdpkv_nonzero(a->eui64, sizeof(a->eui64)) && fdpkv_nonzero(b->eui64, sizeof(b->eui64)))
		return !memcmp(a->eui64, b->eui64, sizeof(a->eui64));
	return a->nsid == b->nsid && a->subnqn[0] && !strcmp(a->subnqn, b->subnqn);
}
