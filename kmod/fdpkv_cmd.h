/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Encoding of the NVMe command fields fdpkv checks and builds.
 *
 * Hardware-free on purpose: the KUnit suites test these functions without a
 * device.
 */
#ifndef _FDPKV_CMD_H
#define _FDPKV_CMD_H

#include <linux/bits.h>
#include <linux/types.h>

/* I/O Management opcodes (TP4146); Linux 6.1 and 6.12 do not name them. */
#define FDPKV_NVME_CMD_IO_MGMT_RECV	0x12
#define FDPKV_NVME_CMD_IO_MGMT_SEND	0x1d

/* NVM Write CDW12 bits 23:20: Directive Type; 2 is Data Placement (TP4146). */
#define FDPKV_CDW12_DTYPE		GENMASK(23, 20)
#define FDPKV_DTYPE_DATA_PLACEMENT	2
/* Read/Write CDW12 bits 29:26: Protection Information (PRACT, PRCHK). */
#define FDPKV_CDW12_PRINFO		GENMASK(29, 26)
/* Read/Write CDW12 bits 19:16 and CDW13 bits 15:8: reserved here. */
#define FDPKV_CDW12_RSVD		GENMASK(19, 16)
#define FDPKV_CDW13_RSVD		GENMASK(15, 8)
/* CDW12 bits 15:0: Number of Logical Blocks, 0's based. */
#define FDPKV_CDW12_NLB			GENMASK(15, 0)
/* CDW13 bits 31:16: Directive Specific; the placement identifier. */
#define FDPKV_CDW13_DSPEC		GENMASK(31, 16)

/*
 * struct fdpkv_ns_format - the LBA format a namespace is formatted with
 * @lba_shift: log2 of the data size; @ms: metadata bytes per LBA;
 * @extended: metadata interleaved with the data (else a separate buffer);
 * @pi_type: protection information type, 0 for none; @nsze: size in LBAs
 */
struct fdpkv_ns_format {
	u8	lba_shift;
	u8	pi_type;
	u16	ms;
	bool	extended;
	u64	nsze;
};

/*
 * struct fdpkv_ns_ident - what identifies a namespace across controllers
 * @nsid: namespace id; @nguid, @eui64: as the namespace reports them (zero
 * when it has none); @subnqn: its subsystem's NQN, NUL-terminated
 */
struct fdpkv_ns_ident {
	u32	nsid;
	u8	nguid[16];
	u8	eui64[8];
	char	subnqn[257];
};

struct nvme_id_ctrl;
struct nvme_id_ns;

int fdpkv_id_ns_format(const struct nvme_id_ns *id, struct fdpkv_ns_format *f);
void fdpkv_ns_ident_fill(struct fdpkv_ns_ident *d, u32 nsid, const struct nvme_id_ns *id,
			 const struct nvme_id_ctrl *ctrl);
bool fdpkv_ns_ident_same(const struct fdpkv_ns_ident *a, const struct fdpkv_ns_ident *b);
int fdpkv_cmd_placement_encode(u32 nlb, u16 pid, u32 *cdw12, u32 *cdw13);
bool fdpkv_cmd_changes_media(u8 opcode);
bool fdpkv_cmd_placement_decode(u32 cdw12, u32 cdw13, u16 *pid);

#endif /* _FDPKV_CMD_H */
