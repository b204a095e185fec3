/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Placement-handle grants and LBA leases of one namespace, and the check of
 * a passthrough command against them.
 *
 * Pure data structures: no device, no locking of their own. The namespace's
 * spinlock protects every table (see struct fdpkv_ns); KUnit tests them
 * directly. An owner is an opaque pointer (the struct fdpkv_file of an open
 * /dev/fdpkv).
 */
#ifndef _FDPKV_TABLES_H
#define _FDPKV_TABLES_H

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

struct fdpkv_ph_slot {
	u16		pid;
	bool		shared;
	u8		nr_holders;
	const void	*holders[FDPKV_MAX_SHARERS];
	u64		cmds;
	u64		bytes_written;
};

struct fdpkv_ph_table {
	unsigned int		nr;
	struct fdpkv_ph_slot	slot[FDPKV_MAX_PIDS];
};

struct fdpkv_lease_slot {
	u32		id;		/* 0: slot unused */
	u32		flags;
	u64		slba;
	u64		nlb;
	const void	*owner;
};

struct fdpkv_lease_table {
	u64			capacity;	/* logical blocks of the namespace */
	u32			next_id;
	unsigned int		nr;
	struct fdpkv_lease_slot	slot[FDPKV_MAX_LEASES];
};

void fdpkv_ph_table_init(struct fdpkv_ph_table *t, const u16 *pids, unsigned int nr);
int fdpkv_ph_alloc(struct fdpkv_ph_table *t, const void *owner, unsigned int count,
		   u32 flags, u16 *pids);
int fdpkv_ph_free(struct fdpkv_ph_table *t, const void *owner, unsigned int count,
		  const u16 *pids);
int fdpkv_ph_set_shared(struct fdpkv_ph_table *t, u16 pid, bool shared);
unsigned int fdpkv_ph_release_owner(struct fdpkv_ph_table *t, const void *owner);
struct fdpkv_ph_slot *fdpkv_ph_find(struct fdpkv_ph_table *t, u16 pid);
bool fdpkv_ph_held_by(const struct fdpkv_ph_slot *s, const void *owner);
unsigned int fdpkv_ph_granted(const struct fdpkv_ph_table *t);

void fdpkv_lease_table_init(struct fdpkv_lease_table *t, u64 capacity);
int fdpkv_lease_acquire(struct fdpkv_lease_table *t, const void *owner, u64 slba, u64 nlb,
			u32 flags, u32 *id);
int fdpkv_lease_release(struct fdpkv_lease_table *t, const void *owner, u32 id);
unsigned int fdpkv_lease_release_owner(struct fdpkv_lease_table *t, const void *owner);
bool fdpkv_lease_covers(const struct fdpkv_lease_table *t, const void *owner, u64 slba,
			u64 nlb);

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

/* Set on success: which handle a media write consumes, for the counters. */
struct fdpkv_cmd_effect {
	struct fdpkv_ph_slot	*ph;
	u64			bytes;
};

int fdpkv_cmd_payload_len(const struct nvme_uring_cmd *c);
int fdpkv_cmd_check(const struct nvme_uring_cmd *c, const struct fdpkv_cmd_ctx *ctx,
		    enum fdpkv_reject *why, struct fdpkv_cmd_effect *eff);

#endif /* _FDPKV_TABLES_H */
