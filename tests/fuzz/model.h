/* SPDX-License-Identifier: GPL-2.0 */
/*
 * model.h - the fuzzer's oracle: what a tenant may do, kept in plain arrays
 * and checked block by block, written apart from kmod/fdpkv_tables.c and
 * kmod/fdpkv_validate.c and sharing no code with them. It is told every
 * grant, lease and command the module's tables accepted, and says whether
 * accepting it was safe.
 */
#ifndef FDPKV_FUZZ_MODEL_H
#define FDPKV_FUZZ_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/nvme_ioctl.h>

#define M_OWNERS	3
#define M_MAX_PIDS	16
#define M_MAX_LEASES	512
#define M_MAX_INFLIGHT	32
#define M_MAX_RANGES	256
#define M_MAX_BLOCKS	1024	/* namespaces the fuzzer makes are at most this big */

struct m_limits {
	uint32_t handles_file, handles_uid, leases_file, leases_uid, pct_file, pct_uid;
};

/* what an accepted command touches, until it completes */
struct m_cmd {
	bool		used;
	int		owner;
	unsigned int	nranges;
	uint64_t	slba[M_MAX_RANGES];
	uint64_t	nlb[M_MAX_RANGES];
	unsigned int	npids;
	uint16_t	pids[M_MAX_PIDS];
};

struct model {
	/* namespace */
	uint32_t	nsid;
	unsigned int	lba_shift;
	uint32_t	max_transfer;
	uint64_t	capacity;
	/* files */
	uint32_t	uid[M_OWNERS];
	/* handles */
	unsigned int	npids;
	uint16_t	pid[M_MAX_PIDS];
	bool		pid_shared[M_MAX_PIDS];
	bool		holds[M_MAX_PIDS][M_OWNERS];
	/* leases (owner -1: an admin's shareable extent) */
	struct {
		bool		used;
		uint32_t	id;
		int		owner;
		uint64_t	slba, nlb;
		bool		shared;
	} lease[M_MAX_LEASES];
	struct m_limits	lim;
	/* cmd[M_MAX_INFLIGHT]: a command that completes at once (a full ring) */
	struct m_cmd	cmd[M_MAX_INFLIGHT + 1];
};

void m_init(struct model *m, uint32_t nsid, unsigned int lba_shift, uint32_t max_transfer,
	    uint64_t capacity, const uint16_t *pids, unsigned int npids);

/* Each returns NULL when what the tables did is safe, else why it is not. */
const char *m_ph_granted(struct model *m, int owner, bool shared, const uint16_t *pids,
			 unsigned int n);
const char *m_ph_freed(struct model *m, int owner, const uint16_t *pids, unsigned int n);
const char *m_ph_shared(struct model *m, uint16_t pid, bool shared);
const char *m_lease_granted(struct model *m, int owner, uint64_t slba, uint64_t nlb,
			    bool shared, uint32_t id);
const char *m_lease_released(struct model *m, int owner, uint32_t id);
const char *m_extent_set(struct model *m, uint64_t slba, uint64_t nlb, bool shared);
const char *m_limits_set(struct model *m, const struct m_limits *lim);
void m_owner_closed(struct model *m, int owner);
bool m_owner_busy(const struct model *m, int owner);

/* An accepted command: safe? On success it is recorded in slot @slot (0..M_MAX_INFLIGHT). */
const char *m_cmd_accepted(struct model *m, int owner, const struct nvme_uring_cmd *c,
			   const void *payload, uint32_t payload_len, int slot);
void m_cmd_completed(struct model *m, int slot);

#endif
