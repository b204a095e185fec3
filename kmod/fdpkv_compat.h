/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel interfaces fdpkv uses that differ between the kernels it is
 * built for (tested: Debian 6.1 and 6.12). Everything that differs is here,
 * chosen by what the headers provide (Kbuild probes them and defines
 * FDPKV_HAVE_*), so that the .c files stay free of #if.
 */
#ifndef _FDPKV_COMPAT_H
#define _FDPKV_COMPAT_H

#include <linux/blkdev.h>
#include <linux/file.h>

#ifdef FDPKV_HAVE_IO_URING_CMD_H
#include <linux/io_uring/cmd.h>
/* The command area is reached through the SQE. */
static inline const void *fdpkv_uring_cmd_payload(struct io_uring_cmd *ioucmd)
{
	return io_uring_sqe_cmd(ioucmd->sqe);
}
#else
#include <linux/io_uring.h>
static inline const void *fdpkv_uring_cmd_payload(struct io_uring_cmd *ioucmd)
{
	return ioucmd->cmd;
}
#endif

/*
 * Namespaces are opened exclusively, with this holder: a file system or
 * another exclusive opener cannot share a namespace the module hands out
 * (EBUSY), while the module may open one namespace twice (its attach of an
 * already attached namespace then fails with EEXIST, not EBUSY).
 */
extern char fdpkv_bdev_holder;

#ifdef FDPKV_HAVE_BDEV_FILE
/* An opened block device is a struct file. */
struct fdpkv_bdev {
	struct file	*file;
};

#define FDPKV_BLK_MODE_READ	BLK_OPEN_READ

static inline int fdpkv_bdev_open(struct fdpkv_bdev *b, const char *path)
{
	b->file = bdev_file_open_by_path(path, BLK_OPEN_READ | BLK_OPEN_WRITE,
					 &fdpkv_bdev_holder, NULL);
	return PTR_ERR_OR_ZERO(b->file);
}

static inline struct block_device *fdpkv_bdev(const struct fdpkv_bdev *b)
{
	return file_bdev(b->file);
}

static inline void fdpkv_bdev_close(struct fdpkv_bdev *b)
{
	fput(b->file);
}
#else
struct fdpkv_bdev {
	struct block_device	*bdev;
};

#define FDPKV_BLK_MODE_READ	FMODE_READ

static inline int fdpkv_bdev_open(struct fdpkv_bdev *b, const char *path)
{
	b->bdev = blkdev_get_by_path(path, FMODE_READ | FMODE_WRITE | FMODE_EXCL,
				     &fdpkv_bdev_holder);
	return PTR_ERR_OR_ZERO(b->bdev);
}

static inline struct block_device *fdpkv_bdev(const struct fdpkv_bdev *b)
{
	return b->bdev;
}

static inline void fdpkv_bdev_close(struct fdpkv_bdev *b)
{
	blkdev_put(b->bdev, FMODE_READ | FMODE_WRITE | FMODE_EXCL);
}
#endif

#endif /* _FDPKV_COMPAT_H */
