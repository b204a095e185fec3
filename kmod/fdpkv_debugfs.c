// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/fdpkv/state: namespaces, handle grants, leases and
 * counters for humans. Programs use FDPKV_IOC_LIST.
 */
#include <linux/debugfs.h>
#include <linux/pid.h>
#include <linux/seq_file.h>

#include "fdpkv.h"

static const char * const fdpkv_reject_names[FDPKV_REJECT_NR] = {
	[FDPKV_REJECT_OPCODE]		= "opcode",
	[FDPKV_REJECT_FIELD]		= "field",
	[FDPKV_REJECT_NSID]		= "nsid",
	[FDPKV_REJECT_LENGTH]		= "length",
	[FDPKV_REJECT_TOO_BIG]		= "too_big",
	[FDPKV_REJECT_RANGE]		= "range",
	[FDPKV_REJECT_PLACEMENT]	= "placement",
	[FDPKV_REJECT_NO_PLACEMENT]	= "no_placement",
};

static struct dentry *fdpkv_debugfs_dir;

static void fdpkv_debugfs_show_ns(struct seq_file *m, struct fdpkv_ns *ns)
{
	const struct fdpkv_file *ff;
	unsigned int i;

	spin_lock(&ns->lock);
	seq_printf(m, "ns %u %s nsid %u lba %u capacity %llu max_transfer %u ru_size %llu cmds %llu errors %lld\n",
		   ns->index, ns->path, ns->nsid, 1U << ns->lba_shift, ns->capacity,
		   ns->max_transfer, ns->ru_size, ns->cmds, atomic64_read(&ns->errors));
	seq_puts(m, "  rejected");
	for (i = 0; i < FDPKV_REJECT_NR; i++)
		seq_printf(m, " %s=%llu", fdpkv_reject_names[i], ns->rejected[i]);
	seq_putc(m, '\n');
	for (i = 0; i < ns->ph.nr; i++) {
		const struct fdpkv_ph_slot *s = &ns->ph.slot[i];

		seq_printf(m, "  pid %u%s holders %u cmds %llu bytes_written %llu", s->pid,
			   s->shared ? " shared" : "", s->nr_holders, s->cmds, s->bytes_written);
		if (s->nr_holders) {
			ff = s->holders[0];
			seq_printf(m, " holder %d (%s)", pid_vnr(ff->tgid), ff->comm);
		}
		seq_putc(m, '\n');
	}
	for (i = 0; i < FDPKV_MAX_LEASES; i++) {
		const struct fdpkv_lease_slot *s = &ns->leases.slot[i];

		if (!s->id)
			continue;
		ff = s->owner;
		if (!ff) {
			seq_printf(m, "  shareable extent slba %llu nlb %llu\n", s->slba, s->nlb);
			continue;
		}
		seq_printf(m, "  lease %u slba %llu nlb %llu%s holder %d (%s) inflight %u\n",
			   s->id, s->slba, s->nlb, s->flags & FDPKV_LEASE_SHARED ? " shared" : "",
			   pid_vnr(ff->tgid), ff->comm, s->inflight);
	}
	spin_unlock(&ns->lock);
}

static int fdpkv_debugfs_state_show(struct seq_file *m, void *v)
{
	unsigned int i;

	mutex_lock(&fdpkv_ns_mutex);
	for (i = 0; i < FDPKV_MAX_NAMESPACES; i++)
		if (fdpkv_namespaces[i])
			fdpkv_debugfs_show_ns(m, fdpkv_namespaces[i]);
	mutex_unlock(&fdpkv_ns_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(fdpkv_debugfs_state);

void fdpkv_debugfs_init(void)
{
	fdpkv_debugfs_dir = debugfs_create_dir("fdpkv", NULL);
	debugfs_create_file("state", 0400, fdpkv_debugfs_dir, NULL, &fdpkv_debugfs_state_fops);
}

void fdpkv_debugfs_exit(void)
{
	debugfs_remove_recursive(fdpkv_debugfs_dir);
}
