/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fdpkv internals shared by the module's files.
 *
 * Lifetimes: a struct fdpkv_ns lives from attach until its last reference
 * is put: the namespace table holds one, and every command in flight holds
 * one, so detach never frees a namespace under a command. Everything a
 * process is granted is keyed by its struct fdpkv_file, which lives as long
 * as the open file; release returns it all, also after kill -9.
 *
 * Locks, outermost first: fdpkv_ns_mutex (attach, detach, walking the
 * table), fdpkv_ns_table_lock (the table slots, for lookups from the I/O
 * path), fdpkv_ns.lock (handles, leases and counters of one namespace).
 */
#ifndef _FDPKV_H
#define _FDPKV_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

#include "fdpkv_cmd.h"
#include "fdpkv_compat.h"
#include "fdpkv_tables.h"

#define FDPKV_MODULE_VERSION	"0.1.0"
#define FDPKV_MAX_NAMESPACES	16
/* bytes of every Identify data structure */
#define FDPKV_ID_LEN		4096

/*
 * @tgid: the opener's thread group, shown to readers as seen from their own
 * pid namespace (pid_vnr())
 */
struct fdpkv_file {
	struct pid	*tgid;
	u32		uid;		/* fsuid at open, in the initial user namespace */
	char		comm[TASK_COMM_LEN];
};

struct fdpkv_ns {
	struct kref		ref;
	u32			index;
	u32			nsid;
	unsigned int		lba_shift;
	u32			max_transfer;
	u64			capacity;		/* logical blocks */
	u64			ru_size;		/* bytes, as told at attach */
	struct fdpkv_ns_format	format;			/* as identified at attach */
	struct fdpkv_ns_ident	ident;			/* as identified at attach */
	char			path[FDPKV_PATH_MAX];
	struct fdpkv_bdev	bdev;
	struct request_queue	*queue;
	unsigned long		flags;			/* FDPKV_NS_*, atomic bitops */

	spinlock_t		lock;			/* protects the fields below */
	bool			detached;		/* protected by lock */
	struct fdpkv_ph_table	ph;			/* protected by lock */
	struct fdpkv_lease_table leases;		/* protected by lock */
	struct fdpkv_ns_policy	policy;			/* protected by lock */
	u64			cmds;			/* protected by lock */
	u64			rejected[FDPKV_REJECT_NR]; /* protected by lock */
	atomic64_t		errors;
};

/* fdpkv_ns.flags: the geometry changed since attach; I/O gets ESTALE */
#define FDPKV_NS_STALE		0

extern struct mutex fdpkv_ns_mutex;
extern struct fdpkv_ns *fdpkv_namespaces[FDPKV_MAX_NAMESPACES];

struct fdpkv_ns *fdpkv_ns_get(u32 index);
void fdpkv_ns_put(struct fdpkv_ns *ns);
int fdpkv_ns_attach(const char *path, u32 nsid, u64 ru_size, struct fdpkv_ns **out);
int fdpkv_ns_detach(u32 index);
void fdpkv_ns_detach_all(void);
unsigned int fdpkv_ns_count(void);

int fdpkv_admin_identify(struct block_device *bdev, u8 cns, u32 nsid, void *out);
int fdpkv_io_ruh_status(struct fdpkv_ns *ns, struct block_device *bdev, u16 *pids,
			unsigned int max);
int fdpkv_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags);

long fdpkv_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

void fdpkv_debugfs_init(void);
void fdpkv_debugfs_exit(void);

#endif /* _FDPKV_H */
