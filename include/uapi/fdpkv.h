/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fdpkv - the ioctl and uring_cmd ABI of /dev/fdpkv.
 *
 * One header for the kernel module, libfdpkv and fdpkvctl. Rules (see
 * Documentation/driver-api/ioctl.rst):
 *  - fixed-size structs of __u8..__u64 only, naturally aligned, explicit
 *    reserved fields, no pointers of native width (addresses are __u64);
 *  - reserved fields and unknown flags must be zero, or the module returns
 *    -EINVAL, so that they can gain a meaning later;
 *  - a shipped struct is never reinterpreted: a new layout gets a new command;
 *  - unknown commands return -ENOTTY.
 */
#ifndef _UAPI_LINUX_FDPKV_H
#define _UAPI_LINUX_FDPKV_H

#include <linux/ioctl.h>
#include <linux/nvme_ioctl.h>
#include <linux/types.h>

/*
 * 0xE6: free in Documentation/userspace-api/ioctl/ioctl-number.rst (as of
 * Linux 6.12; 0xFD, used before, is device-mapper's). The numbers are read
 * from this header by the module, libfdpkv and fdpkvctl alike.
 */
#define FDPKV_IOC_MAGIC		0xE6

/*
 * FDPKV_ABI_VERSION - bumped when a command is added. Userspace learns what
 * the module supports from fdpkv_info.features, never by comparing versions.
 */
#define FDPKV_ABI_VERSION	2

/**
 * struct fdpkv_info - what the loaded module is and supports
 * @abi_version:	FDPKV_ABI_VERSION of the module
 * @size:		sizeof(struct fdpkv_info) as the module knows it
 * @features:		FDPKV_FEAT_* bits
 * @nr_namespaces:	namespaces currently attached
 * @max_namespaces:	namespaces that can be attached at once
 * @rsvd0:		reserved, zero
 * @version:		module version string, NUL-terminated
 * @rsvd1:		reserved, zero
 */
struct fdpkv_info {
	__u32	abi_version;
	__u32	size;
	__u64	features;
	__u32	nr_namespaces;
	__u32	max_namespaces;
	__u64	rsvd0;
	char	version[32];
	__u64	rsvd1[4];
};

/* Feature bits of fdpkv_info.features */
#define FDPKV_FEAT_PASSTHRU	(1ULL << 0)	/* FDPKV_URING_CMD_IO works */
#define FDPKV_FEAT_FIXED_BUFS	(1ULL << 1)	/* IORING_URING_CMD_FIXED works */
#define FDPKV_FEAT_POLICY	(1ULL << 2)	/* quotas, LEASE_SHARE, in-flight EBUSY */

#define FDPKV_IOC_GET_INFO	_IOR(FDPKV_IOC_MAGIC, 0x00, struct fdpkv_info)

/* Most placement identifiers a namespace has (NVMe: at most 128 RUHs x RGs). */
#define FDPKV_MAX_PIDS		128
/* Most handles one FDPKV_IOC_PH_ALLOC / _FREE moves. */
#define FDPKV_PH_BATCH		64
/* Longest device path FDPKV_IOC_NS_ATTACH takes, NUL included. */
#define FDPKV_PATH_MAX		256

/**
 * struct fdpkv_ns_attach - bind an NVMe namespace with FDP to the module
 * @path:	in: user address of the namespace's block device path
 *		(e.g. "/dev/nvme0n1"), NUL-terminated, < FDPKV_PATH_MAX
 * @nsid:	in: the namespace id the caller expects, or 0 to accept the
 *		device's; out: the namespace id
 * @flags:	in: none defined, zero
 * @ns:		out: the fdpkv namespace number, used by every other command
 * @lba_size:	out: logical block size in bytes
 * @nr_pids:	out: placement identifiers the namespace has (RUH Status)
 * @max_transfer: out: largest data transfer of one command, bytes
 * @capacity:	out: namespace size in logical blocks
 * @ru_size:	in: the reclaim unit size in bytes, as the admin read it from
 *		the FDP Configurations log (the module cannot send admin
 *		commands); 0 if unknown. Reported to users in fdpkv_ns_entry.
 * @rsvd:	reserved, zero
 *
 * Needs CAP_SYS_ADMIN. The block device is opened exclusively (the module
 * is its holder). The module asks the device (Identify) for the namespace's
 * LBA format and identity. Errors: EPERM, EFAULT, EINVAL (flags, reserved,
 * path, a partition, nsid not the device's), ENODEV (not an NVMe
 * namespace), EBUSY (opened exclusively by another holder, e.g. mounted),
 * EOPNOTSUPP (a native-multipath head node, which has no request queue of
 * its own; a format with metadata or protection information, whose
 * transfers the module cannot bound to the data buffer; no FDP, RUH Status
 * failed with an NVMe status; an NVMe driver whose request layout the
 * module does not know), ESTALE (the block layer's LBA size disagrees with
 * the device's), EEXIST (the same namespace is attached already, by any
 * path or controller: same NGUID, else EUI-64, else NSID and subsystem
 * NQN), ENOSPC (too many namespaces), EIO (an Identify failed).
 */
struct fdpkv_ns_attach {
	__u64	path;
	__u32	nsid;
	__u32	flags;
	__u32	ns;
	__u32	lba_size;
	__u32	nr_pids;
	__u32	max_transfer;
	__u64	capacity;
	__u64	ru_size;
	__u64	rsvd;
};

/**
 * struct fdpkv_ns_detach - unbind a namespace
 * @ns:		the fdpkv namespace number
 * @flags:	none defined, zero
 *
 * Needs CAP_SYS_ADMIN. ENODEV when not attached, EBUSY while any handle is
 * granted or any lease held. Commands already sent are not waited for:
 * they complete on their own (each holds the namespace).
 */
struct fdpkv_ns_detach {
	__u32	ns;
	__u32	flags;
};

/* fdpkv_ph.flags */
#define FDPKV_PH_SHARED		(1U << 0)	/* ALLOC: take handles marked shared */

/**
 * struct fdpkv_ph - grant or return placement handles
 * @ns:		the fdpkv namespace number
 * @count:	in: handles wanted (ALLOC) or listed in @pids (FREE),
 *		1..FDPKV_PH_BATCH; out (ALLOC): handles granted
 * @flags:	FDPKV_PH_*
 * @rsvd:	reserved, zero
 * @pids:	out (ALLOC) / in (FREE): placement identifiers
 *
 * ALLOC grants @count free handles to the calling open file, exclusively
 * unless FDPKV_PH_SHARED; all or none (ENOSPC when too few are free, EDQUOT
 * when the file or its uid would hold more than the namespace's policy
 * allows, see struct fdpkv_ns_policy). FREE returns them (EINVAL for a
 * handle the file does not hold; EBUSY while a command of this file checked
 * against one of them is in flight: wait for its completion and retry; none
 * is freed on error). FREE never blocks. Closing the file returns every
 * handle it holds (io_uring keeps the file open until its commands finish).
 */
struct fdpkv_ph {
	__u32	ns;
	__u32	count;
	__u32	flags;
	__u32	rsvd;
	__u16	pids[FDPKV_PH_BATCH];
};

/**
 * struct fdpkv_ph_share - mark a placement handle shared or exclusive
 * @ns:		the fdpkv namespace number
 * @pid:	placement identifier
 * @shared:	1: shared (any file may take it with FDPKV_PH_SHARED),
 *		0: exclusive again
 * @rsvd:	reserved, zero
 *
 * Needs CAP_SYS_ADMIN; EBUSY while the handle is granted.
 */
struct fdpkv_ph_share {
	__u32	ns;
	__u16	pid;
	__u8	shared;
	__u8	rsvd;
};

/* fdpkv_lease.flags */
#define FDPKV_LEASE_SHARED	(1U << 0)	/* may overlap other files' shared leases */
/* fdpkv_lease_entry.flags only: a shareable extent made by an admin, no holder */
#define FDPKV_LEASE_ENTRY_EXTENT (1U << 16)

/**
 * struct fdpkv_lease - acquire or release an extent of logical blocks
 * @ns:		the fdpkv namespace number
 * @flags:	FDPKV_LEASE_*
 * @slba:	first logical block
 * @nlb:	number of logical blocks, >= 1
 * @id:		out (ACQUIRE) / in (RELEASE): the lease id
 * @rsvd:	reserved, zero
 *
 * ACQUIRE fails with ERANGE beyond the namespace, EBUSY when it overlaps a
 * lease of another kind or holder or another lease of the same file, EPERM
 * for a shared lease outside the extents an admin made shareable
 * (FDPKV_IOC_LEASE_SHARE), EDQUOT when the file or its uid would exceed the
 * namespace's policy (struct fdpkv_ns_policy), ENOSPC when the table is
 * full. RELEASE fails with ENOENT for a lease the file does not hold and
 * with EBUSY while a command of the file checked against the lease is in
 * flight (wait for its completion and retry; RELEASE never blocks). Leases
 * are returned when the file is closed.
 */
struct fdpkv_lease {
	__u32	ns;
	__u32	flags;
	__u64	slba;
	__u64	nlb;
	__u32	id;
	__u32	rsvd;
};

/**
 * struct fdpkv_lease_share - make an extent shareable, or exclusive again
 * @ns:		the fdpkv namespace number
 * @shared:	1: [@slba, @slba + @nlb) becomes an extent in which files may
 *		take shared leases (FDPKV_LEASE_SHARED); 0: remove the extent
 *		with exactly these bounds
 * @rsvd:	reserved, zero
 * @slba:	first logical block
 * @nlb:	number of logical blocks, >= 1
 *
 * Needs CAP_SYS_ADMIN (EPERM), like FDPKV_IOC_PH_SHARE. EBUSY when the
 * extent overlaps a lease or another extent (adding) or a shared lease lies
 * inside it (removing); ENOENT: no extent with exactly these bounds (removing);
 * ERANGE: beyond the namespace; ENOSPC: an extent takes a slot of the lease
 * table, which is full. Extents are listed by FDPKV_LIST_LEASES with
 * FDPKV_LEASE_ENTRY_EXTENT and stay until removed or the namespace detached.
 */
struct fdpkv_lease_share {
	__u32	ns;
	__u8	shared;
	__u8	rsvd[3];
	__u64	slba;
	__u64	nlb;
};

/**
 * struct fdpkv_ns_policy - an admin's quotas on one namespace
 * @ns:			the fdpkv namespace number
 * @flags:		none defined, zero
 * @max_handles_file:	handles one open file may hold, 1..nr_pids
 * @max_handles_uid:	handles all files of one uid may hold together
 * @max_leases_file:	leases one open file may hold, 1..256
 * @max_leases_uid:	leases all files of one uid may hold together
 * @max_lba_pct_file:	percent (1..100) of the namespace's blocks one file
 *			may hold in leases
 * @max_lba_pct_uid:	the same for all files of one uid
 * @rsvd:		reserved, zero
 *
 * FDPKV_IOC_NS_POLICY_GET: anyone may read it. FDPKV_IOC_NS_POLICY_SET
 * needs CAP_SYS_ADMIN; EINVAL for a limit of 0 or beyond the table, or a
 * non-zero reserved field. A new policy applies to later grants: what a
 * file holds stays held. Grants beyond it fail with EDQUOT. The uid is the
 * file system uid of the process that opened /dev/fdpkv, in the initial
 * user namespace.
 *
 * Default at attach, a fair share between two or more tenants: half the
 * handles (at least one), 128 of the 256 lease slots and 50 % of the
 * blocks, per file and per uid.
 */
struct fdpkv_ns_policy {
	__u32	ns;
	__u32	flags;
	__u32	max_handles_file;
	__u32	max_handles_uid;
	__u32	max_leases_file;
	__u32	max_leases_uid;
	__u32	max_lba_pct_file;
	__u32	max_lba_pct_uid;
	__u64	rsvd[2];
};

/* Reasons a passthrough command is refused; index of fdpkv_ns_entry.rejected. */
enum fdpkv_reject {
	FDPKV_REJECT_OPCODE,		/* not an allowed I/O command: EOPNOTSUPP */
	FDPKV_REJECT_FIELD,		/* flags, reserved, metadata, PI, fuse: EINVAL */
	FDPKV_REJECT_NSID,		/* nsid is not the namespace's: EINVAL */
	FDPKV_REJECT_LENGTH,		/* data length is not nlb x lba size: EINVAL */
	FDPKV_REJECT_TOO_BIG,		/* beyond the max transfer: E2BIG */
	FDPKV_REJECT_RANGE,		/* LBAs outside the caller's leases: ERANGE */
	FDPKV_REJECT_PLACEMENT,		/* placement id not granted: EPERM */
	FDPKV_REJECT_NO_PLACEMENT,	/* media write without DTYPE=2: EPERM */
	FDPKV_REJECT_NR,
};

/**
 * struct fdpkv_ns_entry - FDPKV_LIST_NAMESPACES element
 * @ns: fdpkv namespace number; @nsid: NVMe namespace id; @lba_size; @nr_pids;
 * @capacity: logical blocks; @max_transfer: bytes; @ru_size: reclaim unit
 * size in bytes as given at attach (0: unknown); @cmds: commands forwarded;
 * @errors: forwarded commands the device or the block layer failed;
 * @rejected: refused commands per enum fdpkv_reject; @path: as attached
 */
struct fdpkv_ns_entry {
	__u32	ns;
	__u32	nsid;
	__u32	lba_size;
	__u32	nr_pids;
	__u64	capacity;
	__u32	max_transfer;
	__u32	rsvd;
	__u64	ru_size;
	__u64	cmds;
	__u64	errors;
	__u64	rejected[FDPKV_REJECT_NR];
	char	path[FDPKV_PATH_MAX];
};

/* fdpkv_ph_entry.flags */
#define FDPKV_PH_ENTRY_GRANTED	(1U << 0)
#define FDPKV_PH_ENTRY_SHARED	(1U << 1)

/**
 * struct fdpkv_ph_entry - FDPKV_LIST_HANDLES element: one placement handle
 * @ns; @pid: placement identifier; @flags: FDPKV_PH_ENTRY_*; @holders: open
 * files holding it; @holder_pid, @holder_comm: the first holder's process;
 * @cmds, @bytes_written: writes forwarded with this placement id
 */
struct fdpkv_ph_entry {
	__u32	ns;
	__u16	pid;
	__u16	flags;
	__u32	holders;
	__u32	holder_pid;
	char	holder_comm[16];
	__u64	cmds;
	__u64	bytes_written;
};

/**
 * struct fdpkv_lease_entry - FDPKV_LIST_LEASES element
 * @ns; @id; @slba; @nlb; @flags: FDPKV_LEASE_*; @holder_pid; @holder_comm
 */
struct fdpkv_lease_entry {
	__u32	ns;
	__u32	id;
	__u64	slba;
	__u64	nlb;
	__u32	flags;
	__u32	holder_pid;
	char	holder_comm[16];
};

/* fdpkv_list.what */
#define FDPKV_LIST_NAMESPACES	0
#define FDPKV_LIST_HANDLES	1
#define FDPKV_LIST_LEASES	2

/**
 * struct fdpkv_list - introspection: copy out entries of one kind
 * @addr:	user address of an array of entries of the kind asked for
 * @size:	bytes at @addr
 * @what:	FDPKV_LIST_*
 * @count:	out: entries written
 * @total:	out: entries that exist (retry with a larger buffer if more)
 * @rsvd:	reserved, zero
 */
struct fdpkv_list {
	__u64	addr;
	__u32	size;
	__u32	what;
	__u32	count;
	__u32	total;
	__u64	rsvd;
};

#define FDPKV_IOC_NS_ATTACH	_IOWR(FDPKV_IOC_MAGIC, 0x01, struct fdpkv_ns_attach)
#define FDPKV_IOC_NS_DETACH	_IOW(FDPKV_IOC_MAGIC, 0x02, struct fdpkv_ns_detach)
#define FDPKV_IOC_PH_ALLOC	_IOWR(FDPKV_IOC_MAGIC, 0x03, struct fdpkv_ph)
#define FDPKV_IOC_PH_FREE	_IOW(FDPKV_IOC_MAGIC, 0x04, struct fdpkv_ph)
#define FDPKV_IOC_PH_SHARE	_IOW(FDPKV_IOC_MAGIC, 0x05, struct fdpkv_ph_share)
#define FDPKV_IOC_LEASE_ACQUIRE	_IOWR(FDPKV_IOC_MAGIC, 0x06, struct fdpkv_lease)
#define FDPKV_IOC_LEASE_RELEASE	_IOW(FDPKV_IOC_MAGIC, 0x07, struct fdpkv_lease)
#define FDPKV_IOC_LIST		_IOWR(FDPKV_IOC_MAGIC, 0x08, struct fdpkv_list)
#define FDPKV_IOC_LEASE_SHARE	_IOW(FDPKV_IOC_MAGIC, 0x09, struct fdpkv_lease_share)
#define FDPKV_IOC_NS_POLICY_GET	_IOWR(FDPKV_IOC_MAGIC, 0x0a, struct fdpkv_ns_policy)
#define FDPKV_IOC_NS_POLICY_SET	_IOW(FDPKV_IOC_MAGIC, 0x0b, struct fdpkv_ns_policy)

/**
 * struct fdpkv_uring_cmd - payload of an FDPKV_URING_CMD_IO io_uring command
 * @nvme:	the NVMe command, laid out and filled exactly as for
 *		NVME_URING_CMD_IO on /dev/ngXnY (addr/data_len: the buffer)
 * @ns:		the fdpkv namespace number it is for
 * @rsvd:	reserved, zero
 *
 * 80 bytes: it fills the command area of a 128-byte SQE, so the ring must be
 * set up with IORING_SETUP_SQE128 | IORING_SETUP_CQE32 (else EOPNOTSUPP).
 * Allowed opcodes: Flush, Write, Read, Write Zeroes, Dataset Management,
 * I/O Management Receive and Send. No metadata and no protection
 * information (PRINFO, CDW14/15 zero): the device never moves more than
 * addr/data_len. @nvme.timeout_ms applies only when the file was opened by
 * a CAP_SYS_ADMIN process; anyone else's commands get the NVMe driver's
 * default I/O timeout (a short one would make the driver abort and reset
 * the controller for every tenant). cqe->res is 0, a positive NVMe status
 * or a negative errno (enum fdpkv_reject says which; ESTALE, not counted:
 * the namespace's LBA size, capacity or metadata changed since attach,
 * until it is detached and attached again); big_cqe[0] holds the
 * command's result dword.
 */
struct fdpkv_uring_cmd {
	struct nvme_uring_cmd	nvme;
	__u32			ns;
	__u32			rsvd;
};

#define FDPKV_URING_CMD_IO	_IOWR(FDPKV_IOC_MAGIC, 0x80, struct fdpkv_uring_cmd)

#endif /* _UAPI_LINUX_FDPKV_H */
