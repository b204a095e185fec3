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
#include <linux/types.h>

/* 0xFD is not assigned in Documentation/userspace-api/ioctl/ioctl-number.rst */
#define FDPKV_IOC_MAGIC		0xFD

/*
 * FDPKV_ABI_VERSION - bumped when a command is added. Userspace learns what
 * the module supports from fdpkv_info.features, never by comparing versions.
 */
#define FDPKV_ABI_VERSION	1

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

/* Feature bits of fdpkv_info.features: none are defined by ABI version 1. */

#define FDPKV_IOC_GET_INFO	_IOR(FDPKV_IOC_MAGIC, 0x00, struct fdpkv_info)

#endif /* _UAPI_LINUX_FDPKV_H */
