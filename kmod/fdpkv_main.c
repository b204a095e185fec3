// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkv - arbiter of NVMe Flexible Data Placement namespaces for KV caches.
 *
 * /dev/fdpkv is a misc character device. Everything a process is granted
 * hangs off its open file, so closing the file (or being killed) returns it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <uapi/fdpkv.h>

#define FDPKV_MODULE_VERSION	"0.1.0"
#define FDPKV_MAX_NAMESPACES	16

static long fdpkv_ioctl_get_info(void __user *argp)
{
	struct fdpkv_info info;

	memset(&info, 0, sizeof(info));
	info.abi_version = FDPKV_ABI_VERSION;
	info.size = sizeof(info);
	info.max_namespaces = FDPKV_MAX_NAMESPACES;
	strscpy(info.version, FDPKV_MODULE_VERSION, sizeof(info.version));
	if (copy_to_user(argp, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long fdpkv_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case FDPKV_IOC_GET_INFO:
		return fdpkv_ioctl_get_info(argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations fdpkv_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= fdpkv_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
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
	BUILD_BUG_ON(sizeof(struct fdpkv_info) != 96);
	return misc_register(&fdpkv_misc);
}

static void __exit fdpkv_exit(void)
{
	misc_deregister(&fdpkv_misc);
}

module_init(fdpkv_init);
module_exit(fdpkv_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Arbiter of NVMe FDP placement handles and LBA leases for KV caches");
MODULE_VERSION(FDPKV_MODULE_VERSION);
