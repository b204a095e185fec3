/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Placement-handle grants and LBA leases of one namespace, the admin's
 * quotas on them, and the check of a passthrough command against them.
 *
 * Pure data structures: no device, no locking of their own. The namespace's
 * spinlock protects every table (see struct fdpkv_ns); KUnit tests them
 * directly and tests/fuzz builds them in userspace. An owner is an opaque
 * pointer (the struct fdpkv_file of an open /dev/fdpkv), never NULL; a uid
 * is the owner's user, for the per-uid quotas.
 */
#ifndef _FDPKV_TABLES_H
#define _FDPKV_TABLES_H

#include <linux/bitmap.h>
#include <linux/nvme.h>
#include <linux/types.h>
#include <uapi/fdpkv.h>

/* Most leases one namespace holds at once. */
#define FDPKV_MAX_LEASES	256
/* Most files that share one handle. */
#define FDPKV_MAX_SHARERS	16
/* Most ranges of one Dataset Management command (NR is 8 bits, 0's based). */
#define FDPKV_DSM_MAX_RANGES	256
/* Largest payload the module copies in to check (DSM ranges, RUH Update pids). */
#define FDPKV_PAYLOAD_MAX	4096

/*
 * One placement handle. holders[i], holder_uid[i] and inflight[i] describe
 * the same holder; @inflight counts its commands accepted against this
 * handle and not yet completed (FDPKV_IOC_PH_FREE is refused while non-zero).
 */
struct fdpkv_ph_slot {
	u16		pid;
	bool		shared;
	u8		nr_holders;
	const void	*holders[FDPKV_MAX_SHARERS];
	u32		holder_uid[FDPKV_MAX_SHARERS];
	u32		inflight[FDPKV_MAX_SHARERS];
	u64		cmds;
	u64		bytes_written;
};

/* @max_file, @max_uid: handles one file / one uid may hold (the policy) */
struct fdpkv_ph_table {
	unsigned int		nr;
	u32			max_file;
	u32			max_uid;
	struct fdpkv_ph_slot	slot[FDPKV_MAX_PIDS];
};

/*
 * One lease, or (owner NULL) an extent an admin made shareable. @run_end is
 * where the chain of this owner's adjacent leases that starts here ends;
 * @inflight counts commands accepted against this lease and not completed.
 */
struct fdpkv_lease_slot {
	u32		id;		/* 0: slot unused */
	u32		flags;
	u64		slba;
	u64		nlb;
	const void	*owner;
	u32		uid;
	u32		inflight;
	u64		run_end;
};

/*
 * @order: slot indices of the @nr used slots sorted by (owner, slba). One
 * owner's leases never overlap each other, so the lease that may contain an
 * LBA is found by one binary search, and @run_end says how far the owner's
 * coverage continues from there: coverage is O(log n) per range.
 * @max_*: the policy's limits per file and per uid (leases, blocks).
 */
struct fdpkv_lease_table {
	u64			capacity;	/* logical blocks of the namespace */
	u32			next_id;
	unsigned int		nr;
	unsigned int		nr_extents;	/* of @nr: shareable extents */
	u32			max_leases_file;
	u32			max_leases_uid;
	u64			max_lba_file;
	u64			max_lba_uid;
	u16			order[FDPKV_MAX_LEASES];
	struct fdpkv_lease_slot	slot[FDPKV_MAX_LEASES];
};

/*
 * What an accepted command holds until it completes: the lease slots and
 * handle slots it was checked against (see fdpkv_hold_take()).
 */
struct fdpkv_hold {
	DECLARE_BITMAP(leases, FDPKV_MAX_LEASES);
	DECLARE_BITMAP(handles, FDPKV_MAX_PIDS);
};

void fdpkv_ph_table_init(struct fdpkv_ph_table *t, const u16 *pids, unsigned int nr);
int fdpkv_ph_alloc(struct fdpkv_ph_table *t, const void *owner, u32 uid, unsigned int count,
		   u32 flags, u16 *pids);
int fdpkv_ph_free(struct fdpkv_ph_table *t, const void *owner, unsigned int count,
		  const u16 *pids);
int fdpkv_ph_set_shared(struct fdpkv_ph_table *t, u16 pid, bool shared);
unsigned int fdpkv_ph_release_owner(struct fdpkv_ph_table *t, const void *owner);
struct fdpkv_ph_slot *fdpkv_ph_find(struct fdpkv_ph_table *t, u16 pid);
bool fdpkv_ph_held_by(const struct fdpkv_ph_slot *s, const void *owner);
unsigned int fdpkv_ph_granted(const struct fdpkv_ph_table *t);

void fdpkv_lease_table_init(struct fdpkv_lease_table *t, u64 capacity);
int fdpkv_lease_acquire(struct fdpkv_lease_table *t, const void *owner, u32 uid, u64 slba,
			u64 nlb, u32 flags, u32 *id);
int fdpkv_lease_release(struct fdpkv_lease_table *t, const void *owner, u32 id);
unsigned int fdpkv_lease_release_owner(struct fdpkv_lease_table *t, const void *owner);
int fdpkv_lease_share(struct fdpkv_lease_table *t, u64 slba, u64 nlb, bool shared);
unsigned int fdpkv_lease_held(const struct fdpkv_lease_table *t);
bool fdpkv_lease_covers(const struct fdpkv_lease_table *t, const void *owner, u64 slba,
			u64 nlb, unsigned long *positions);

void fdpkv_policy_default(struct fdpkv_ns_policy *p, unsigned int nr_pids);
int fdpkv_policy_check(const struct fdpkv_ns_policy *p, unsigned int nr_pids);
void fdpkv_policy_apply(struct fdpkv_ph_table *ph, struct fdpkv_lease_table *leases,
			const struct fdpkv_ns_policy *p);

/*
 * struct fdpkv_cmd_ctx - what a command is checked against
 * @nsid, @lba_shift, @max_transfer: the namespace's geometry
 * @ph, @leases: its tables; @owner: the caller
 * @payload: the data of a Dataset Management (ranges) or I/O Management
 *	Send (placement ids) command, already copied into kernel memory: the
 *	command is checked and sent with this copy, never with user memory
 * @payload_len: bytes at @payload
 */
struct fdpkv_cmd_ctx {
	u32				nsid;
	unsigned int			lba_shift;
	u32				max_transfer;
	struct fdpkv_ph_table		*ph;
	const struct fdpkv_lease_table	*leases;
	const void			*owner;
	const void			*payload;
	u32				payload_len;
};

/*
 * Set on success: which handle a media write consumes and its bytes, for
 * the counters; which leases (positions in the sorted order) and handles
 * (slot indices) the command was checked against, for fdpkv_hold_take().
 */
struct fdpkv_cmd_effect {
	struct fdpkv_ph_slot	*ph;
	u64			bytes;
	DECLARE_BITMAP(lease_pos, FDPKV_MAX_LEASES);
	DECLARE_BITMAP(handles, FDPKV_MAX_PIDS);
};

int fdpkv_cmd_payload_len(const struct nvme_uring_cmd *c);
int fdpkv_cmd_check(const struct nvme_uring_cmd *c, const struct fdpkv_cmd_ctx *ctx,
		    enum fdpkv_reject *why, struct fdpkv_cmd_effect *eff);

void fdpkv_hold_take(struct fdpkv_ph_table *ph, struct fdpkv_lease_table *leases,
		     const void *owner, const struct fdpkv_cmd_effect *eff, struct fdpkv_hold *h);
void fdpkv_hold_drop(struct fdpkv_ph_table *ph, struct fdpkv_lease_table *leases,
		     const void *owner, const struct fdpkv_hold *h);
unsigned int fdpkv_owner_inflight(const struct fdpkv_ph_table *ph,
				  const struct fdpkv_lease_table *leases, const void *owner);

#endif /* _FDPKV_TABLES_H */
