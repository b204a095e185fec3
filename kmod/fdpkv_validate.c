// SPDX-License-Identifier: GPL-2.0
/*
 * The check of an NVMe I/O command against the caller's grants and leases.
 *
 * Like nvme_cmd_allowed(), all policy sits in one predicate with a comment
 * per rule, cheap checks first. The command is a kernel copy made once from
 * the SQE; data the check depends on (DSM ranges, RUH Update placement ids)
 * is copied into kernel memory before and sent from there, so user memory
 * cannot change between check and use.
 */
#include <linux/bitfield.h>
#include <linux/bitmap.h>
#include <linux/errno.h>
#include <linux/nvme.h>
#include <linux/overflow.h>

#include "fdpkv_cmd.h"
#include "fdpkv_tables.h"

/* I/O Management Receive/Send CDW10 bits 7:0: Management Operation. */
#define FDPKV_IO_MGMT_MO		GENMASK(7, 0)
/* I/O Management Receive CDW10 bits 31:16: Management Operation Specific. */
#define FDPKV_IO_MGMT_RECV_MOS		GENMASK(31, 16)
#define FDPKV_IO_MGMT_MO_RUH_STATUS	1	/* Receive */
#define FDPKV_IO_MGMT_MO_RUH_UPDATE	1	/* Send */
/* I/O Management Send CDW10 bits 31:16: number of placement ids, 0's based. */
#define FDPKV_IO_MGMT_SEND_NPID		GENMASK(31, 16)
/* Dataset Management CDW10 bits 7:0: number of ranges, 0's based. */
#define FDPKV_DSM_NR			GENMASK(7, 0)

static u64 fdpkv_cmd_slba(const struct nvme_uring_cmd *c)
{
	return (u64)c->cdw11 << 32 | c->cdw10;
}

static u32 fdpkv_cmd_nlb(const struct nvme_uring_cmd *c)
{
	return FIELD_GET(FDPKV_CDW12_NLB, c->cdw12) + 1;
}

/**
 * fdpkv_cmd_payload_len - bytes of command data the check needs in kernel memory
 * @c: the command
 *
 * Return: the length to copy in (Dataset Management ranges, I/O Management
 * Send placement ids), 0 when the check needs none, or -EINVAL when the
 * data length cannot be right for the command.
 */
int fdpkv_cmd_payload_len(const struct nvme_uring_cmd *c)
{
	switch (c->opcode) {
	case nvme_cmd_dsm:
		/* exactly NR ranges of 16 bytes */
		if (c->data_len != (FIELD_GET(FDPKV_DSM_NR, c->cdw10) + 1) *
				   sizeof(struct nvme_dsm_range))
			return -EINVAL;
		return c->data_len;
	case FDPKV_NVME_CMD_IO_MGMT_SEND:
		/* at least NPID ids of 2 bytes; callers often send a whole page */
		if (c->data_len < (FIELD_GET(FDPKV_IO_MGMT_SEND_NPID, c->cdw10) + 1) * 2 ||
		    c->data_len > FDPKV_PAYLOAD_MAX)
			return -EINVAL;
		return c->data_len;
	default:
		return 0;
	}
}

static int fdpkv_reject(enum fdpkv_reject reason, enum fdpkv_reject *why)
{
	static const int errnos[FDPKV_REJECT_NR] = {
		[FDPKV_REJECT_OPCODE]		= -EOPNOTSUPP,
		[FDPKV_REJECT_FIELD]		= -EINVAL,
		[FDPKV_REJECT_NSID]		= -EINVAL,
		[FDPKV_REJECT_LENGTH]		= -EINVAL,
		[FDPKV_REJECT_TOO_BIG]		= -E2BIG,
		[FDPKV_REJECT_RANGE]		= -ERANGE,
		[FDPKV_REJECT_PLACEMENT]	= -EPERM,
		[FDPKV_REJECT_NO_PLACEMENT]	= -EPERM,
	};

	*why = reason;
	return errnos[reason];
}

/* The handle a media write names, if the caller holds it. */
static int fdpkv_check_placement(const struct nvme_uring_cmd *c,
				 const struct fdpkv_cmd_ctx *ctx,
				 enum fdpkv_reject *why, struct fdpkv_cmd_effect *eff)
{
	struct fdpkv_ph_slot *s;
	u16 pid;

	/*
	 * A write without a placement directive lands on the device's default
	 * handle, which may be granted to someone else: refuse it.
	 */
	if (!fdpkv_cmd_placement_decode(c->cdw12, c->cdw13, &pid))
		return fdpkv_reject(FDPKV_REJECT_NO_PLACEMENT, why);
	/* Devices accept unknown placement ids silently: this is the only guard. */
	s = fdpkv_ph_find(ctx->ph, pid);
	if (!s || !fdpkv_ph_held_by(s, ctx->owner))
		return fdpkv_reject(FDPKV_REJECT_PLACEMENT, why);
	eff->ph = s;
	__set_bit(s - ctx->ph->slot, eff->handles);
	return 0;
}

/*
 * Read, Write, Write Zeroes: one LBA range in the caller's leases.
 *
 * The device must never transfer more than the buffer the module maps. It
 * moves NLB x (LBA size + metadata size) bytes, plus metadata to the
 * metadata pointer when that is separate; so, with the namespace formatted
 * without metadata (attach refuses any other format) and its LBA size the
 * current one (the caller checks the geometry before this):
 *  - data_len is exactly NLB x LBA size, and the mapping is data_len long;
 *  - no metadata pointer or length (fdpkv_cmd_check());
 *  - no protection information: PRINFO (CDW12[29:26]) and the PI tags of
 *    CDW14/CDW15 are zero, so the device neither inserts nor strips any.
 */
static int fdpkv_check_rw(const struct nvme_uring_cmd *c, const struct fdpkv_cmd_ctx *ctx,
			  enum fdpkv_reject *why, struct fdpkv_cmd_effect *eff)
{
	u64 bytes = (u64)fdpkv_cmd_nlb(c) << ctx->lba_shift;
	bool has_data = c->opcode != nvme_cmd_write_zeroes;
	int ret;

	if (FIELD_GET(FDPKV_CDW12_PRINFO, c->cdw12) || c->cdw14 || c->cdw15)
		return fdpkv_reject(FDPKV_REJECT_FIELD, why);
	/* reserved bits reach the device as the caller set them: refuse any */
	if ((c->cdw12 & FDPKV_CDW12_RSVD) || (c->cdw13 & FDPKV_CDW13_RSVD))
		return fdpkv_reject(FDPKV_REJECT_FIELD, why);
	if (has_data) {
		if (bytes > ctx->max_transfer)
			return fdpkv_reject(FDPKV_REJECT_TOO_BIG, why);
		if (c->data_len != bytes || !c->addr)
			return fdpkv_reject(FDPKV_REJECT_LENGTH, why);
	} else if (c->data_len || c->addr) {
		return fdpkv_reject(FDPKV_REJECT_LENGTH, why);
	}
	if (!fdpkv_lease_covers(ctx->leases, ctx->owner, fdpkv_cmd_slba(c), fdpkv_cmd_nlb(c),
				eff->lease_pos))
		return fdpkv_reject(FDPKV_REJECT_RANGE, why);
	if (c->opcode == nvme_cmd_read)
		return 0;
	/* Write Zeroes consumes reclaim-unit space like a write on FDP devices. */
	ret = fdpkv_check_placement(c, ctx, why, eff);
	if (!ret)
		eff->bytes = bytes;
	return ret;
}

static int fdpkv_check_dsm(const struct nvme_uring_cmd *c, const struct fdpkv_cmd_ctx *ctx,
			   enum fdpkv_reject *why, struct fdpkv_cmd_effect *eff)
{
	const struct nvme_dsm_range *r = ctx->payload;
	unsigned int i, nr = FIELD_GET(FDPKV_DSM_NR, c->cdw10) + 1;

	if (fdpkv_cmd_payload_len(c) < 0 || ctx->payload_len != c->data_len)
		return fdpkv_reject(FDPKV_REJECT_LENGTH, why);
	/*
	 * Every range, not just the first: a hostile list hides one outside.
	 * At most 256 ranges of one binary search each: the work is bounded.
	 */
	for (i = 0; i < nr; i++) {
		u32 nlb = le32_to_cpu(r[i].nlb);

		if (nlb && !fdpkv_lease_covers(ctx->leases, ctx->owner,
					       le64_to_cpu(r[i].slba), nlb, eff->lease_pos))
			return fdpkv_reject(FDPKV_REJECT_RANGE, why);
	}
	return 0;
}

static int fdpkv_check_io_mgmt_send(const struct nvme_uring_cmd *c,
				    const struct fdpkv_cmd_ctx *ctx, enum fdpkv_reject *why,
				    struct fdpkv_cmd_effect *eff)
{
	const __le16 *pids = ctx->payload;
	unsigned int i, npid = FIELD_GET(FDPKV_IO_MGMT_SEND_NPID, c->cdw10) + 1;

	if (FIELD_GET(FDPKV_IO_MGMT_MO, c->cdw10) != FDPKV_IO_MGMT_MO_RUH_UPDATE)
		return fdpkv_reject(FDPKV_REJECT_FIELD, why);
	if (fdpkv_cmd_payload_len(c) < 0 || ctx->payload_len != c->data_len)
		return fdpkv_reject(FDPKV_REJECT_LENGTH, why);
	/* RUH Update moves a handle to a fresh RU: only its holders may */
	for (i = 0; i < npid; i++) {
		struct fdpkv_ph_slot *s = fdpkv_ph_find(ctx->ph, le16_to_cpu(pids[i]));

		if (!s || !fdpkv_ph_held_by(s, ctx->owner))
			return fdpkv_reject(FDPKV_REJECT_PLACEMENT, why);
		__set_bit(s - ctx->ph->slot, eff->handles);
	}
	return 0;
}

/**
 * fdpkv_cmd_check - may the caller send this command?
 * @c: kernel copy of the command
 * @ctx: the namespace and the caller
 * @why: set to the reason when refused
 * @eff: set to the handle and bytes a permitted media write consumes, and
 *	the leases and handles the command was checked against
 *
 * Return: 0, or the negative errno of *@why (see enum fdpkv_reject).
 */
int fdpkv_cmd_check(const struct nvme_uring_cmd *c, const struct fdpkv_cmd_ctx *ctx,
		    enum fdpkv_reject *why, struct fdpkv_cmd_effect *eff)
{
	eff->ph = NULL;
	eff->bytes = 0;
	bitmap_zero(eff->lease_pos, FDPKV_MAX_LEASES);
	bitmap_zero(eff->handles, FDPKV_MAX_PIDS);

	/* fused operations, PRP/SGL selection, metadata: none for a cache */
	if (c->flags || c->rsvd1 || c->metadata || c->metadata_len || c->cdw2 || c->cdw3 ||
	    c->rsvd2)
		return fdpkv_reject(FDPKV_REJECT_FIELD, why);
	/* the command must be for the namespace the caller named */
	if (c->nsid != ctx->nsid)
		return fdpkv_reject(FDPKV_REJECT_NSID, why);

	switch (c->opcode) {
	case nvme_cmd_flush:
		if (c->data_len || c->addr)
			return fdpkv_reject(FDPKV_REJECT_LENGTH, why);
		return 0;
	case nvme_cmd_read:
	case nvme_cmd_write:
	case nvme_cmd_write_zeroes:
		return fdpkv_check_rw(c, ctx, why, eff);
	case nvme_cmd_dsm:
		return fdpkv_check_dsm(c, ctx, why, eff);
	case FDPKV_NVME_CMD_IO_MGMT_RECV:
		/* RUH Status only; it reveals no data, so no lease is needed */
		if (FIELD_GET(FDPKV_IO_MGMT_MO, c->cdw10) != FDPKV_IO_MGMT_MO_RUH_STATUS ||
		    FIELD_GET(FDPKV_IO_MGMT_RECV_MOS, c->cdw10) || (c->cdw10 & GENMASK(15, 8)))
			return fdpkv_reject(FDPKV_REJECT_FIELD, why);
		if (!c->data_len || c->data_len > ctx->max_transfer || !c->addr ||
		    c->data_len != (c->cdw11 + 1ULL) * 4)
			return fdpkv_reject(FDPKV_REJECT_LENGTH, why);
		return 0;
	case FDPKV_NVME_CMD_IO_MGMT_SEND:
		return fdpkv_check_io_mgmt_send(c, ctx, why, eff);
	default:
		/* compare, verify, reservations, zoned, vendor: not for a cache */
		return fdpkv_reject(FDPKV_REJECT_OPCODE, why);
	}
}
