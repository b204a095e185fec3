// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching and detaching NVMe namespaces.
 *
 * A namespace is opened through its block device, whose request queue the
 * passthrough path allocates requests on. The module learns the geometry
 * from the block layer, the namespace id from the NVMe driver's own
 * NVME_IOCTL_ID and the placement identifiers from RUH Status.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/device.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/nvme_ioctl.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "fdpkv.h"

/* serializes attach, detach and walks of the namespace table */
DEFINE_MUTEX(fdpkv_ns_mutex);
struct fdpkv_ns *fdpkv_namespaces[FDPKV_MAX_NAMESPACES];	/* fdpkv_ns_table_lock */
static DEFINE_SPINLOCK(fdpkv_ns_table_lock);
/* the holder of every block device the module opens exclusively */
char fdpkv_bdev_holder;

/* Take a reference on namespace @index, or NULL if none is attached there. */
struct fdpkv_ns *fdpkv_ns_get(u32 index)
{
	struct fdpkv_ns *ns = NULL;

	if (index >= FDPKV_MAX_NAMESPACES)
		return NULL;
	spin_lock(&fdpkv_ns_table_lock);
	if (fdpkv_namespaces[index]) {
		ns = fdpkv_namespaces[index];
		kref_get(&ns->ref);
	}
	spin_unlock(&fdpkv_ns_table_lock);
	return ns;
}

static void fdpkv_ns_release(struct kref *ref)
{
	struct fdpkv_ns *ns = container_of(ref, struct fdpkv_ns, ref);

	fdpkv_bdev_close(&ns->bdev);
	kvfree(ns);
}

/* May sleep: the last reference closes the block device. */
void fdpkv_ns_put(struct fdpkv_ns *ns)
{
	kref_put(&ns->ref, fdpkv_ns_release);
}

unsigned int fdpkv_ns_count(void)
{
	unsigned int i, n = 0;

	lockdep_assert_held(&fdpkv_ns_mutex);
	for (i = 0; i < FDPKV_MAX_NAMESPACES; i++)
		n += !!fdpkv_namespaces[i];
	return n;
}

/*
 * Whether @bdev is a whole NVMe namespace the passthrough path can drive.
 * Told by the class of the disk's parent device, which does not depend on
 * whether nvme-core is a module or built in: a namespace disk hangs off its
 * controller (class "nvme"), a native-multipath head node off its subsystem
 * (class "nvme-subsystem").
 */
static int fdpkv_ns_check_bdev(struct block_device *bdev)
{
	struct gendisk *disk = bdev->bd_disk;
	struct device *parent = disk_to_dev(disk)->parent;
	const char *class = parent && parent->class ? parent->class->name : "";

	if (bdev_is_partition(bdev))
		return -EINVAL;
	/*
	 * A native-multipath head node is bio based: it has no request queue
	 * to allocate a passthrough request on, and its paths are hidden
	 * disks without a device node. Refuse it; see kmod/README.md.
	 */
	if (!strcmp(class, "nvme-subsystem"))
		return -EOPNOTSUPP;
	if (strcmp(class, "nvme") || !disk->fops->ioctl)
		return -ENODEV;
	if (!queue_is_mq(disk->queue))
		return -EOPNOTSUPP;
	return 0;
}

static int fdpkv_ns_learn_nsid(struct block_device *bdev)
{
	/* the NVMe driver answers NVME_IOCTL_ID without touching @arg */
	return bdev->bd_disk->fops->ioctl(bdev, FDPKV_BLK_MODE_READ, NVME_IOCTL_ID, 0);
}

/*
 * The namespace's current LBA format, from the device: refuse metadata and
 * protection information, whose transfers the module cannot bound to the
 * buffer it maps (see fdpkv_cmd_check()).
 */
static int fdpkv_ns_check_format(struct fdpkv_ns *ns, struct block_device *bdev, void *id)
{
	const char *name = bdev->bd_disk->disk_name;
	struct fdpkv_ns_format *f = &ns->format;
	int ret;

	ret = fdpkv_admin_identify(bdev, NVME_ID_CNS_NS, ns->nsid, id);
	if (ret) {
		pr_err("%s: Identify Namespace failed (%d)\n", name, ret);
		return ret < 0 ? ret : -EIO;
	}
	ret = fdpkv_id_ns_format(id, f);
	if (ret == -EOPNOTSUPP) {
		pr_err("%s: LBA format has %u bytes of metadata per block (%s, protection information type %u); refused: the device would transfer more than the data buffer. Reformat without metadata.\n",
		       name, f->ms, f->extended ? "extended LBA" : "separate buffer", f->pi_type);
		return ret;
	}
	if (ret) {
		pr_err("%s: Identify Namespace names no valid LBA format\n", name);
		return ret;
	}
	/* the block layer must agree, or it has not caught up with a format */
	if ((1U << f->lba_shift) != bdev_logical_block_size(bdev) || !bdev_nr_sectors(bdev)) {
		pr_err("%s: LBA size %u per the device, %u per the block layer; refused\n",
		       name, 1U << f->lba_shift, bdev_logical_block_size(bdev));
		return -ESTALE;
	}
	return 0;
}

/*
 * What identifies the namespace across controllers (see
 * fdpkv_ns_ident_same()): @id holds its Identify Namespace data, and room
 * after it for the controller's.
 */
static int fdpkv_ns_learn_ident(struct fdpkv_ns *ns, struct block_device *bdev, void *id)
{
	struct nvme_id_ctrl *ctrl = id + FDPKV_ID_LEN;
	int ret;

	ret = fdpkv_admin_identify(bdev, NVME_ID_CNS_CTRL, 0, ctrl);
	if (ret) {
		pr_err("%s: Identify Controller failed (%d)\n", bdev->bd_disk->disk_name, ret);
		return ret < 0 ? ret : -EIO;
	}
	fdpkv_ns_ident_fill(&ns->ident, ns->nsid, id, ctrl);
	return 0;
}

static int fdpkv_ns_open(struct fdpkv_ns *ns, const char *path, u32 want_nsid)
{
	struct block_device *bdev;
	int ret, nsid;
	u16 *pids;
	void *id;

	/* two Identify data structures, then room for the placement ids */
	BUILD_BUG_ON(FDPKV_MAX_PIDS * sizeof(*pids) > 2 * FDPKV_ID_LEN);
	id = kzalloc(2 * FDPKV_ID_LEN, GFP_KERNEL);
	if (!id)
		return -ENOMEM;
	pids = id;
	ret = fdpkv_bdev_open(&ns->bdev, path);
	if (ret)
		goto free_id;
	bdev = fdpkv_bdev(&ns->bdev);
	ret = fdpkv_ns_check_bdev(bdev);
	if (ret)
		goto close_bdev;
	nsid = fdpkv_ns_learn_nsid(bdev);
	if (nsid <= 0 || (want_nsid && want_nsid != nsid)) {
		ret = nsid < 0 ? nsid : -EINVAL;
		goto close_bdev;
	}
	ns->nsid = nsid;
	ret = fdpkv_ns_check_format(ns, bdev, id);
	if (ret)
		goto close_bdev;
	ret = fdpkv_ns_learn_ident(ns, bdev, id);
	if (ret)
		goto close_bdev;
	ns->queue = bdev->bd_disk->queue;
	ns->lba_shift = ilog2(bdev_logical_block_size(bdev));
	ns->capacity = bdev_nr_sectors(bdev) >> (ns->lba_shift - SECTOR_SHIFT);
	/*
	 * What one command may move: the hardware limit, and the segment
	 * limit for a user buffer that is not page aligned (one segment per
	 * page it touches), in whole logical blocks.
	 */
	ns->max_transfer = min_t(u64, (u64)queue_max_hw_sectors(ns->queue) << SECTOR_SHIFT,
				 (u64)(queue_max_segments(ns->queue) - 1) << PAGE_SHIFT);
	ns->max_transfer = round_down(ns->max_transfer, 1U << ns->lba_shift);
	strscpy(ns->path, path, sizeof(ns->path));

	ret = fdpkv_io_ruh_status(ns, bdev, pids, FDPKV_MAX_PIDS);
	if (ret < 0)
		goto close_bdev;
	if (ret == 0) {		/* FDP is off or the namespace has no handles */
		ret = -EOPNOTSUPP;
		goto close_bdev;
	}
	fdpkv_ph_table_init(&ns->ph, pids, ret);
	fdpkv_lease_table_init(&ns->leases, ns->capacity);
	fdpkv_policy_default(&ns->policy, ns->ph.nr);
	fdpkv_policy_apply(&ns->ph, &ns->leases, &ns->policy);
	kfree(id);
	return 0;

close_bdev:
	fdpkv_bdev_close(&ns->bdev);
free_id:
	kfree(id);
	return ret;
}

/* Whether @a and @b are one namespace: one block device, or one identity. */
static bool fdpkv_ns_same(const struct fdpkv_ns *a, const struct fdpkv_ns *b)
{
	return fdpkv_bdev(&a->bdev) == fdpkv_bdev(&b->bdev) ||
	       fdpkv_ns_ident_same(&a->ident, &b->ident);
}

/**
 * fdpkv_ns_attach - open the namespace at @path and add it to the table
 * @path: block device path
 * @nsid: the namespace id the caller expects, 0 for any
 * @ru_size: reclaim unit size in bytes from the admin, 0 if unknown
 * @out: set to the namespace, with a reference the caller puts
 *
 * The device is opened and asked (Identify, RUH Status) without the table
 * mutex, so a slow device does not stall every other attach, detach, list
 * and release; the table is checked for the same namespace afterwards.
 *
 * Return: the namespace number, or a negative errno.
 */
int fdpkv_ns_attach(const char *path, u32 nsid, u64 ru_size, struct fdpkv_ns **out)
{
	struct fdpkv_ns *ns;
	int i, slot = -1, ret;

	ns = kvzalloc(sizeof(*ns), GFP_KERNEL);
	if (!ns)
		return -ENOMEM;
	kref_init(&ns->ref);
	spin_lock_init(&ns->lock);
	atomic64_set(&ns->errors, 0);
	ns->ru_size = ru_size;
	ret = fdpkv_ns_open(ns, path, nsid);
	if (ret)
		goto free_ns;

	mutex_lock(&fdpkv_ns_mutex);
	for (i = 0; i < FDPKV_MAX_NAMESPACES; i++) {
		struct fdpkv_ns *other = fdpkv_namespaces[i];

		if (!other) {
			if (slot < 0)
				slot = i;
		} else if (fdpkv_ns_same(other, ns)) {
			/* by another path, a symlink, or another controller */
			pr_info("%s is %s (nsid %u of %s), attached already as namespace %u\n",
				path, other->path, ns->nsid, ns->ident.subnqn, other->index);
			ret = -EEXIST;
			goto unlock;
		}
	}
	if (slot < 0) {
		ret = -ENOSPC;
		goto unlock;
	}
	ns->index = slot;
	/* the caller's reference: it reads the fields after the mutex is dropped */
	kref_get(&ns->ref);
	spin_lock(&fdpkv_ns_table_lock);
	fdpkv_namespaces[slot] = ns;
	spin_unlock(&fdpkv_ns_table_lock);
	mutex_unlock(&fdpkv_ns_mutex);
	pr_info("attached %s (nsid %u of %s, %u placement handles, %llu blocks of %u bytes)\n",
		ns->path, ns->nsid, ns->ident.subnqn, ns->ph.nr, ns->capacity,
		1U << ns->lba_shift);
	*out = ns;
	return slot;

unlock:
	mutex_unlock(&fdpkv_ns_mutex);
	fdpkv_bdev_close(&ns->bdev);
free_ns:
	kvfree(ns);
	return ret;
}

static void fdpkv_ns_remove(struct fdpkv_ns *ns)
{
	lockdep_assert_held(&fdpkv_ns_mutex);
	spin_lock(&fdpkv_ns_table_lock);
	fdpkv_namespaces[ns->index] = NULL;
	spin_unlock(&fdpkv_ns_table_lock);
	pr_info("detached %s\n", ns->path);
	/* commands in flight hold their own references */
	fdpkv_ns_put(ns);
}

/*
 * Return: 0, -ENODEV (not attached), -EBUSY (handles granted or leases
 * held). Commands already sent are not waited for: each holds its own
 * reference, and the block device closes when the last one completes.
 */
int fdpkv_ns_detach(u32 index)
{
	struct fdpkv_ns *ns;
	int ret = 0;

	if (index >= FDPKV_MAX_NAMESPACES)
		return -ENODEV;
	mutex_lock(&fdpkv_ns_mutex);
	ns = fdpkv_namespaces[index];
	if (!ns) {
		ret = -ENODEV;
		goto unlock;
	}
	spin_lock(&ns->lock);
	if (fdpkv_ph_granted(&ns->ph) || fdpkv_lease_held(&ns->leases))
		ret = -EBUSY;
	else
		ns->detached = true;	/* no new grant or lease from here on */
	spin_unlock(&ns->lock);
	if (!ret)
		fdpkv_ns_remove(ns);
unlock:
	mutex_unlock(&fdpkv_ns_mutex);
	return ret;
}

/* Module exit: no file is open any more, so nothing is granted. */
void fdpkv_ns_detach_all(void)
{
	unsigned int i;

	mutex_lock(&fdpkv_ns_mutex);
	for (i = 0; i < FDPKV_MAX_NAMESPACES; i++)
		if (fdpkv_namespaces[i])
			fdpkv_ns_remove(fdpkv_namespaces[i]);
	mutex_unlock(&fdpkv_ns_mutex);
}
