// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctls of /dev/fdpkv. Each handler copies in, validates, locks, calls
 * a table helper, unlocks and copies out.
 */
#include <linux/capability.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/pid.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "fdpkv.h"

static long fdpkv_ioctl_get_info(void __user *argp)
{
	struct fdpkv_info info;

	memset(&info, 0, sizeof(info));
	info.abi_version = FDPKV_ABI_VERSION;
	info.size = sizeof(info);
	info.features = FDPKV_FEAT_PASSTHRU | FDPKV_FEAT_FIXED_BUFS | FDPKV_FEAT_POLICY;
	info.max_namespaces = FDPKV_MAX_NAMESPACES;
	mutex_lock(&fdpkv_ns_mutex);
	info.nr_namespaces = fdpkv_ns_count();
	mutex_unlock(&fdpkv_ns_mutex);
	strscpy(info.version, FDPKV_MODULE_VERSION, sizeof(info.version));
	if (copy_to_user(argp, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

/*
 * Test builds only ("make ... FDPKV_TEST_RACE_DELAY=<ms>", see Kbuild): hold
 * a race window open for a concurrent DETACH. The KASAN VM plan
 * fdpkv_attach_race builds the module so; nothing else does.
 */
static void fdpkv_test_race_delay(void)
{
#ifdef FDPKV_TEST_RACE_DELAY
	msleep(FDPKV_TEST_RACE_DELAY);
#endif
}

static long fdpkv_ioctl_ns_attach(void __user *argp)
{
	struct fdpkv_ns_attach a;
	struct fdpkv_ns *ns;
	char *path;
	long ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.flags || a.rsvd)
		return -EINVAL;
	path = kmalloc(FDPKV_PATH_MAX, GFP_KERNEL);
	if (!path)
		return -ENOMEM;
	ret = strncpy_from_user(path, u64_to_user_ptr(a.path), FDPKV_PATH_MAX);
	if (ret == FDPKV_PATH_MAX)
		ret = -ENAMETOOLONG;
	else if (ret == 0)
		ret = -EINVAL;
	if (ret < 0)
		goto free_path;
	ret = fdpkv_ns_attach(path, a.nsid, a.ru_size, &ns);
	if (ret < 0)
		goto free_path;
	/* the table mutex is dropped: DETACH may run now (issue 10 item 8) */
	fdpkv_test_race_delay();
	a.ns = ret;
	a.nsid = ns->nsid;
	a.lba_size = 1U << ns->lba_shift;
	a.nr_pids = ns->ph.nr;
	a.max_transfer = ns->max_transfer;
	a.capacity = ns->capacity;
	fdpkv_ns_put(ns);
	ret = copy_to_user(argp, &a, sizeof(a)) ? -EFAULT : 0;
free_path:
	kfree(path);
	return ret;
}

static long fdpkv_ioctl_ns_detach(void __user *argp)
{
	struct fdpkv_ns_detach d;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	if (d.flags)
		return -EINVAL;
	return fdpkv_ns_detach(d.ns);
}

static long fdpkv_ioctl_ph(struct fdpkv_file *ff, void __user *argp, bool alloc)
{
	struct fdpkv_ph ph;
	struct fdpkv_ns *ns;
	long ret;

	if (copy_from_user(&ph, argp, sizeof(ph)))
		return -EFAULT;
	if (ph.rsvd || (!alloc && ph.flags))
		return -EINVAL;
	ns = fdpkv_ns_get(ph.ns);
	if (!ns)
		return -ENODEV;
	spin_lock(&ns->lock);
	if (ns->detached)
		ret = -ENODEV;
	else if (alloc)
		ret = fdpkv_ph_alloc(&ns->ph, ff, ff->uid, ph.count, ph.flags, ph.pids);
	else
		ret = fdpkv_ph_free(&ns->ph, ff, ph.count, ph.pids);
	spin_unlock(&ns->lock);
	if (!ret && alloc && copy_to_user(argp, &ph, sizeof(ph))) {
		/* the caller cannot learn what it got: give it back */
		spin_lock(&ns->lock);
		fdpkv_ph_free(&ns->ph, ff, ph.count, ph.pids);
		spin_unlock(&ns->lock);
		ret = -EFAULT;
	}
	fdpkv_ns_put(ns);
	return ret;
}

static long fdpkv_ioctl_ph_share(void __user *argp)
{
	struct fdpkv_ph_share sh;
	struct fdpkv_ns *ns;
	long ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&sh, argp, sizeof(sh)))
		return -EFAULT;
	if (sh.rsvd || sh.shared > 1)
		return -EINVAL;
	ns = fdpkv_ns_get(sh.ns);
	if (!ns)
		return -ENODEV;
	spin_lock(&ns->lock);
	ret = fdpkv_ph_set_shared(&ns->ph, sh.pid, sh.shared);
	spin_unlock(&ns->lock);
	fdpkv_ns_put(ns);
	return ret;
}

static long fdpkv_ioctl_lease(struct fdpkv_file *ff, void __user *argp, bool acquire)
{
	struct fdpkv_lease l;
	struct fdpkv_ns *ns;
	long ret;

	if (copy_from_user(&l, argp, sizeof(l)))
		return -EFAULT;
	if (l.rsvd || (!acquire && (l.flags || l.slba || l.nlb)))
		return -EINVAL;
	ns = fdpkv_ns_get(l.ns);
	if (!ns)
		return -ENODEV;
	spin_lock(&ns->lock);
	if (ns->detached)
		ret = -ENODEV;
	else if (acquire)
		ret = fdpkv_lease_acquire(&ns->leases, ff, ff->uid, l.slba, l.nlb, l.flags,
					  &l.id);
	else
		ret = fdpkv_lease_release(&ns->leases, ff, l.id);
	spin_unlock(&ns->lock);
	if (!ret && acquire && copy_to_user(argp, &l, sizeof(l))) {
		spin_lock(&ns->lock);
		fdpkv_lease_release(&ns->leases, ff, l.id);
		spin_unlock(&ns->lock);
		ret = -EFAULT;
	}
	fdpkv_ns_put(ns);
	return ret;
}

static long fdpkv_ioctl_lease_share(void __user *argp)
{
	struct fdpkv_lease_share sh;
	struct fdpkv_ns *ns;
	long ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&sh, argp, sizeof(sh)))
		return -EFAULT;
	if (sh.rsvd[0] || sh.rsvd[1] || sh.rsvd[2] || sh.shared > 1)
		return -EINVAL;
	ns = fdpkv_ns_get(sh.ns);
	if (!ns)
		return -ENODEV;
	spin_lock(&ns->lock);
	ret = ns->detached ? -ENODEV : fdpkv_lease_share(&ns->leases, sh.slba, sh.nlb, sh.shared);
	spin_unlock(&ns->lock);
	fdpkv_ns_put(ns);
	return ret;
}

static long fdpkv_ioctl_ns_policy(void __user *argp, bool set)
{
	struct fdpkv_ns_policy p;
	struct fdpkv_ns *ns;
	long ret = 0;

	if (set && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&p, argp, sizeof(p)))
		return -EFAULT;
	ns = fdpkv_ns_get(p.ns);
	if (!ns)
		return -ENODEV;
	spin_lock(&ns->lock);
	if (!set) {
		p = ns->policy;
		p.ns = ns->index;
	} else {
		ret = fdpkv_policy_check(&p, ns->ph.nr);
		if (!ret) {
			ns->policy = p;
			fdpkv_policy_apply(&ns->ph, &ns->leases, &p);
		}
	}
	spin_unlock(&ns->lock);
	fdpkv_ns_put(ns);
	if (!ret && !set && copy_to_user(argp, &p, sizeof(p)))
		ret = -EFAULT;
	return ret;
}

static void fdpkv_holder(const void *owner, __u32 *pid, char *comm)
{
	const struct fdpkv_file *ff = owner;

	*pid = pid_vnr(ff->tgid);	/* as the reader's pid namespace sees it */
	memcpy(comm, ff->comm, TASK_COMM_LEN);
}

/* Fill up to @max entries of kind @what into @buf; return how many exist. */
static u32 fdpkv_list_fill(u32 what, void *buf, u32 max, u32 *count)
{
	u32 total = 0, i, j;

	lockdep_assert_held(&fdpkv_ns_mutex);
	for (i = 0; i < FDPKV_MAX_NAMESPACES; i++) {
		struct fdpkv_ns *ns = fdpkv_namespaces[i];

		if (!ns)
			continue;
		spin_lock(&ns->lock);
		if (what == FDPKV_LIST_NAMESPACES) {
			if (total < max) {
				struct fdpkv_ns_entry *e = (struct fdpkv_ns_entry *)buf + total;

				e->ns = ns->index;
				e->nsid = ns->nsid;
				e->lba_size = 1U << ns->lba_shift;
				e->nr_pids = ns->ph.nr;
				e->capacity = ns->capacity;
				e->max_transfer = ns->max_transfer;
				e->ru_size = ns->ru_size;
				e->cmds = ns->cmds;
				e->errors = atomic64_read(&ns->errors);
				memcpy(e->rejected, ns->rejected, sizeof(e->rejected));
				strscpy(e->path, ns->path, sizeof(e->path));
			}
			total++;
		}
		for (j = 0; what == FDPKV_LIST_HANDLES && j < ns->ph.nr; j++, total++) {
			const struct fdpkv_ph_slot *s = &ns->ph.slot[j];
			struct fdpkv_ph_entry *e = (struct fdpkv_ph_entry *)buf + total;

			if (total >= max)
				continue;
			e->ns = ns->index;
			e->pid = s->pid;
			e->flags = (s->nr_holders ? FDPKV_PH_ENTRY_GRANTED : 0) |
				   (s->shared ? FDPKV_PH_ENTRY_SHARED : 0);
			e->holders = s->nr_holders;
			if (s->nr_holders)
				fdpkv_holder(s->holders[0], &e->holder_pid, e->holder_comm);
			e->cmds = s->cmds;
			e->bytes_written = s->bytes_written;
		}
		for (j = 0; what == FDPKV_LIST_LEASES && j < FDPKV_MAX_LEASES; j++) {
			const struct fdpkv_lease_slot *s = &ns->leases.slot[j];
			struct fdpkv_lease_entry *e = (struct fdpkv_lease_entry *)buf + total;

			if (!s->id)
				continue;
			if (total++ >= max)
				continue;
			e->ns = ns->index;
			e->id = s->id;
			e->slba = s->slba;
			e->nlb = s->nlb;
			e->flags = s->flags;
			if (s->owner)
				fdpkv_holder(s->owner, &e->holder_pid, e->holder_comm);
			else
				e->flags |= FDPKV_LEASE_ENTRY_EXTENT;
		}
		spin_unlock(&ns->lock);
	}
	*count = min(total, max);
	return total;
}

static long fdpkv_ioctl_list(void __user *argp)
{
	static const size_t entry_size[] = {
		[FDPKV_LIST_NAMESPACES]	= sizeof(struct fdpkv_ns_entry),
		[FDPKV_LIST_HANDLES]	= sizeof(struct fdpkv_ph_entry),
		[FDPKV_LIST_LEASES]	= sizeof(struct fdpkv_lease_entry),
	};
	struct fdpkv_list l;
	size_t esize, bytes;
	long ret = 0;
	void *buf;
	u32 max;

	if (copy_from_user(&l, argp, sizeof(l)))
		return -EFAULT;
	if (l.rsvd || l.what >= ARRAY_SIZE(entry_size))
		return -EINVAL;
	esize = entry_size[l.what];
	/* at most every handle of every namespace, the largest kind */
	max = min_t(u32, l.size / esize, FDPKV_MAX_NAMESPACES * FDPKV_MAX_LEASES);
	bytes = array_size(max, esize);
	buf = bytes ? kvzalloc(bytes, GFP_KERNEL) : NULL;
	if (bytes && !buf)
		return -ENOMEM;
	mutex_lock(&fdpkv_ns_mutex);
	l.total = fdpkv_list_fill(l.what, buf, max, &l.count);
	mutex_unlock(&fdpkv_ns_mutex);
	if (l.count && copy_to_user(u64_to_user_ptr(l.addr), buf, (size_t)l.count * esize))
		ret = -EFAULT;
	else if (copy_to_user(argp, &l, sizeof(l)))
		ret = -EFAULT;
	kvfree(buf);
	return ret;
}

long fdpkv_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct fdpkv_file *ff = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case FDPKV_IOC_GET_INFO:
		return fdpkv_ioctl_get_info(argp);
	case FDPKV_IOC_NS_ATTACH:
		return fdpkv_ioctl_ns_attach(argp);
	case FDPKV_IOC_NS_DETACH:
		return fdpkv_ioctl_ns_detach(argp);
	case FDPKV_IOC_PH_ALLOC:
		return fdpkv_ioctl_ph(ff, argp, true);
	case FDPKV_IOC_PH_FREE:
		return fdpkv_ioctl_ph(ff, argp, false);
	case FDPKV_IOC_PH_SHARE:
		return fdpkv_ioctl_ph_share(argp);
	case FDPKV_IOC_LEASE_ACQUIRE:
		return fdpkv_ioctl_lease(ff, argp, true);
	case FDPKV_IOC_LEASE_RELEASE:
		return fdpkv_ioctl_lease(ff, argp, false);
	case FDPKV_IOC_LIST:
		return fdpkv_ioctl_list(argp);
	case FDPKV_IOC_LEASE_SHARE:
		return fdpkv_ioctl_lease_share(argp);
	case FDPKV_IOC_NS_POLICY_GET:
		return fdpkv_ioctl_ns_policy(argp, false);
	case FDPKV_IOC_NS_POLICY_SET:
		return fdpkv_ioctl_ns_policy(argp, true);
	default:
		return -ENOTTY;
	}
}
