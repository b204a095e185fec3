/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel interfaces fdpkv uses that differ between the kernels it is
 * built for (tested: Debian 6.1, 6.12 and 7.3). Everything that differs is here,
 * chosen by what the headers provide (Kbuild probes them and defines
 * FDPKV_HAVE_*), so that the .c files stay free of #if.
 */
#ifndef _FDPKV_COMPAT_H
#define _FDPKV_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/file.h>
#include <uapi/fdpkv.h>

#ifdef FDPKV_HAVE_IO_URING_CMD_H
#include <linux/io_uring/cmd.h>
#ifdef FDPKV_HAVE_SQE128_CMD
/* The command area of a 128-byte SQE, checked against the payload's size. */
static inline const void *fdpkv_uring_cmd_payload(struct io_uring_cmd *ioucmd)
{
	return io_uring_sqe128_cmd(ioucmd->sqe, struct fdpkv_uring_cmd);
}
#else
/* The command area is reached through the SQE. */
static inline const void *fdpkv_uring_cmd_payload(struct io_uring_cmd *ioucmd)
{
	return io_uring_sqe_cmd(ioucmd->sqe);
}
#endif
#else
#include <linux/io_uring.h>
static inline const void *fdpkv_uring_cmd_payload(struct io_uring_cmd *ioucmd)
{
	return ioucmd->cmd;
}
#endif

/*
 * Registered buffers: newer kernels take the submitter's issue flags, to
 * lock the ring's buffer table as the submission context requires.
 */
static inline int fdpkv_uring_import_fixed(u64 ubuf, unsigned long len, int rw,
					   struct iov_iter *iter, struct io_uring_cmd *ioucmd,
					   unsigned int issue_flags)
{
#ifdef FDPKV_HAVE_IMPORT_FIXED_FLAGS
	return io_uring_cmd_import_fixed(ubuf, len, rw, iter, ioucmd, issue_flags);
#else
	return io_uring_cmd_import_fixed(ubuf, len, rw, iter, ioucmd);
#endif
}

/*
 * Posting the 32-byte CQE: the result dword goes in big_cqe[0]. Newer
 * kernels name the big-CQE completion io_uring_cmd_done32().
 */
static inline void fdpkv_uring_cmd_done(struct io_uring_cmd *ioucmd, s32 ret, u64 res2,
					unsigned int issue_flags)
{
#ifdef FDPKV_HAVE_URING_CMD_DONE32
	io_uring_cmd_done32(ioucmd, ret, res2, issue_flags);
#else
	io_uring_cmd_done(ioucmd, ret, res2, issue_flags);
#endif
}

/*
 * The task-work half of a completion (fdpkv_io.c). Newer kernels call
 * task work with a struct io_tw_req and take the issue flags from
 * IO_URING_CMD_TASK_WORK_ISSUE_FLAGS; a trampoline keeps one callback.
 */
void fdpkv_uring_task_cb(struct io_uring_cmd *ioucmd, unsigned int issue_flags);

#ifdef FDPKV_HAVE_URING_CMD_TW_REQ
static inline void fdpkv_uring_task_tw(struct io_tw_req tw_req, io_tw_token_t tw)
{
	fdpkv_uring_task_cb(io_uring_cmd_from_tw(tw_req), IO_URING_CMD_TASK_WORK_ISSUE_FLAGS);
}

static inline void fdpkv_uring_complete_in_task(struct io_uring_cmd *ioucmd)
{
	io_uring_cmd_complete_in_task(ioucmd, fdpkv_uring_task_tw);
}
#else
static inline void fdpkv_uring_complete_in_task(struct io_uring_cmd *ioucmd)
{
	io_uring_cmd_complete_in_task(ioucmd, fdpkv_uring_task_cb);
}
#endif

/*
 * The passthrough completion (fdpkv_io.c). Newer kernels pass end_io the
 * completion batch too; fdpkv does not use it.
 */
enum rq_end_io_ret fdpkv_uring_end_io(struct request *rq, blk_status_t err);

#ifdef FDPKV_HAVE_END_IO_BATCH
static inline enum rq_end_io_ret fdpkv_uring_end_io_batch(struct request *rq, blk_status_t err,
							  const struct io_comp_batch *iob)
{
	return fdpkv_uring_end_io(rq, err);
}

static inline void fdpkv_rq_set_uring_end_io(struct request *rq)
{
	rq->end_io = fdpkv_uring_end_io_batch;
}
#else
static inline void fdpkv_rq_set_uring_end_io(struct request *rq)
{
	rq->end_io = fdpkv_uring_end_io;
}
#endif

/* A kernel buffer into a request; newer kernels take the queue from it. */
static inline int fdpkv_rq_map_kern(struct request *rq, void *buf, unsigned int len)
{
#ifdef FDPKV_HAVE_MAP_KERN_RQ
	return blk_rq_map_kern(rq, buf, len, GFP_KERNEL);
#else
	return blk_rq_map_kern(rq->q, rq, buf, len, GFP_KERNEL);
#endif
}

#ifdef FDPKV_HAVE_BDEV_FILE
/* An opened block device is a struct file. */
struct fdpkv_bdev {
	struct file	*file;
};

#define FDPKV_BLK_MODE_READ	BLK_OPEN_READ

static inline int fdpkv_bdev_open(struct fdpkv_bdev *b, const char *path)
{
	b->file = bdev_file_open_by_path(path, BLK_OPEN_READ | BLK_OPEN_WRITE, NULL, NULL);
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
	b->bdev = blkdev_get_by_path(path, FMODE_READ | FMODE_WRITE, NULL);
	return PTR_ERR_OR_ZERO(b->bdev);
}

static inline struct block_device *fdpkv_bdev(const struct fdpkv_bdev *b)
{
	return b->bdev;
}

static inline void fdpkv_bdev_close(struct fdpkv_bdev *b)
{
	blkdev_put(b->bdev, FMODE_READ | FMODE_WRITE);
}
#endif

#endif /* _FDPKV_COMPAT_H */
