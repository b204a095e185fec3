// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkv - arbiter of NVMe Flexible Data Placement namespaces for KV caches.
 *
 * /dev/fdpkv is a misc character device. An admin attaches FDP namespaces;
 * a process then takes placement handles and LBA leases and sends NVMe I/O
 * through io_uring uring_cmd, which the module forwards only inside what the
 * process was granted. Everything a process is granted hangs off its open
 * file, so closing the file (or being killed) returns it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "fdpkv.h"

static int fdpkv_open(struct inode *inode, struct file *file)
{
	struct fdpkv_file *ff;

	ff = kzalloc(sizeof(*ff), GFP_KERNEL);
	if (!ff)
		return -ENOMEM;
	ff->tgid = get_task_pid(current, PIDTYPE_TGID);
	ff->uid = from_kuid(&init_user_ns, current_fsuid());
	get_task_comm(ff->comm, current);
	file->private_data = ff;
	return nonseekable_open(inode, file);
}

/*
 * Return every handle and lease of the file. io_uring holds a file
 * reference per command in flight, so none is left when this runs.
 */
static int fdpkv_release(struct inode *inode, struct file *file)
{
	struct fdpkv_file *ff = file->private_data;
	unsigned int i;

	mutex_lock(&fdpkv_ns_mutex);
	for (i = 0; i < FDPKV_MAX_NAMESPACES; i++) {
		struct fdpkv_ns *ns = fdpkv_namespaces[i];

		if (!ns)
			continue;
		spin_lock(&ns->lock);
		/* io_uring pins the file while its commands are in flight */
		WARN_ON_ONCE(fdpkv_owner_inflight(&ns->ph, &ns->leases, ff));
		fdpkv_ph_release_owner(&ns->ph, ff);
		fdpkv_lease_release_owner(&ns->leases, ff);
		spin_unlock(&ns->lock);
	}
	mutex_unlock(&fdpkv_ns_mutex);
	put_pid(ff->tgid);
	kfree(ff);
	return 0;
}

static const struct file_operations fdpkv_fops = {
	.owner		= THIS_MODULE,
	.open		= fdpkv_open,
	.release	= fdpkv_release,
	.unlocked_ioctl	= fdpkv_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.uring_cmd	= fdpkv_uring_cmd,
	.llseek		= noop_llseek,
};

static struct miscdevice fdpkv_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "fdpkv",
	.fops	= &fdpkv_fops,
	.mode	= 0660,
};

static int __init fdpkv_init(void)
{
	int ret;

	BUILD_BUG_ON(sizeof(struct fdpkv_info) != 96);
	BUILD_BUG_ON(sizeof(struct fdpkv_ns_attach) != 56);
	BUILD_BUG_ON(sizeof(struct fdpkv_ph) != 144);
	BUILD_BUG_ON(sizeof(struct fdpkv_lease) != 32);
	BUILD_BUG_ON(sizeof(struct fdpkv_ns_entry) != 376);
	BUILD_BUG_ON(sizeof(struct fdpkv_ph_entry) != 48);
	BUILD_BUG_ON(sizeof(struct fdpkv_lease_entry) != 48);
	BUILD_BUG_ON(sizeof(struct fdpkv_list) != 32);
	BUILD_BUG_ON(sizeof(struct fdpkv_lease_share) != 24);
	BUILD_BUG_ON(sizeof(struct fdpkv_ns_policy) != 48);

	fdpkv_debugfs_init();
	ret = misc_register(&fdpkv_misc);
	if (ret)
		goto remove_debugfs;
	return 0;

remove_debugfs:
	fdpkv_debugfs_exit();
	return ret;
}

static void __exit fdpkv_exit(void)
{
	misc_deregister(&fdpkv_misc);
	fdpkv_ns_detach_all();
	fdpkv_debugfs_exit();
}

module_init(fdpkv_init);
module_exit(fdpkv_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Arbiter of NVMe FDP placement handles and LBA leases for KV caches");
MODULE_VERSION(FDPKV_MODULE_VERSION);
