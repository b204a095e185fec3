// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * backend_file.c - "file:/path": a regular file or a block device, read and
 * written through io_uring READ/WRITE, flushed with FSYNC(DATASYNC) and
 * deallocated with FALLOCATE(PUNCH_HOLE|KEEP_SIZE), which also makes
 * deallocated ranges read back as zeroes where it works: on a filesystem
 * that punches holes, and on a block device with write zeroes (the kernel
 * punches a bdev with REQ_OP_WRITE_ZEROES and no fallback). Elsewhere the
 * punch is refused (EOPNOTSUPP), the old bytes stay, and the cache has to
 * overwrite what recovery would find (geometry dealloc_zeroes, dealloc_kept).
 * No placement: every class maps to id 0.
 *
 * Where the kernel moves the bytes itself (a file without O_DIRECT, or
 * tmpfs, whose O_DIRECT still copies through its page cache), a read is a
 * memcpy on some CPU: inline in the device thread's submit, or punted to
 * the ring's io-wq, which adds a worker only when one blocks, and a copy
 * never blocks. Either way one core copied for every reader of the device.
 * Large reads there go IOSQE_ASYNC, which lets io-wq run them on as many
 * workers as are free (file_async_read).
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

#define FILE_LBA		4096u
#define FILE_MAX_TRANSFER	(1u << 20)
/*
 * Reads from this size on go to io-wq where the kernel copies: a 64 KiB copy
 * takes longer than handing it to a worker; smaller ones stay inline.
 */
#define FILE_ASYNC_MIN		(64u << 10)

struct file_priv {
	bool direct;
	bool bdev;
	bool punch_zeroes;		/* a punched range reads back as zeroes */
	bool cpu_copy;			/* reads are CPU copies in the kernel */
	bool memory;			/* tmpfs: the page cache is the device */
	uint32_t lba;
	uint64_t size;
};

/* write_zeroes_max_bytes of the block device @rdev (or of its disk, for a
 * partition); 0 when it cannot be read. */
static uint64_t bdev_write_zeroes_max(dev_t rdev)
{
	/* a partition has no queue directory of its own: its disk's is one up */
	static const char *const up[] = { "", "/.." };
	unsigned long long v = 0;
	char path[128];
	unsigned int i;
	FILE *f;

	for (i = 0; i < ARRAY_SIZE(up); i++) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u%s/queue/write_zeroes_max_bytes",
			 major(rdev), minor(rdev), up[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
		return v;
	}
	return 0;
}

/*
 * Can this file punch holes? Asked with a punch past its end, which changes
 * nothing: a filesystem without hole punching refuses the mode before it
 * looks at the range.
 */
static bool file_can_punch(int fd, uint64_t size, uint32_t lba)
{
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			 (off_t)ALIGN_UP(size, lba), lba) == 0;
}

/* Does the kernel copy every byte of @fd's reads on a CPU (no DMA)? */
static bool file_on_tmpfs(int fd)
{
	struct statfs sf;

	return fstatfs(fd, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

static bool file_cpu_copy(int fd, bool direct)
{
	/* tmpfs takes O_DIRECT since 6.6, but its page cache is the device */
	return !direct || file_on_tmpfs(fd);
}

static int file_open(struct fdpkv_dev *dev, const char *path, const struct fdpkv_config *cfg,
		     bool create, char *err, size_t errlen)
{
	static const int flags = O_RDWR | O_CLOEXEC;
	struct file_priv *fp;
	struct stat st;
	int fd, ret;

	if (!*path) {
		fdpkv_seterr(err, errlen, "device '%s': empty path", dev->uri);
		return -EINVAL;
	}
	fp = calloc(1, sizeof(*fp));
	if (!fp)
		return -ENOMEM;
	fp->direct = true;
	fd = open(path, flags | O_DIRECT);
	if (fd < 0 && errno == EINVAL) {
		/* tmpfs and friends: no O_DIRECT, the page cache is the device */
		fp->direct = false;
		fd = open(path, flags);
	}
	if (fd < 0 && errno == ENOENT && create) {
		if (!cfg->capacity_bytes) {
			fdpkv_seterr(err, errlen,
				     "device '%s': does not exist and capacity is 0 (set capacity to create it)",
				     dev->uri);
			free(fp);
			return -EINVAL;
		}
		/*
		 * Create it first, then open it as above: a filesystem without
		 * O_DIRECT (tmpfs before 6.6) refuses the flag only after it
		 * has made the file, so O_CREAT|O_EXCL|O_DIRECT would leave a
		 * file behind and the retry would fail with EEXIST.
		 */
		fd = open(path, flags | O_CREAT | O_EXCL, 0600);
		if (fd >= 0) {
			close(fd);
			fp->direct = true;
			fd = open(path, flags | O_DIRECT);
			if (fd < 0 && errno == EINVAL) {
				fp->direct = false;
				fd = open(path, flags);
			}
		}
	}
	if (fd < 0) {
		ret = -errno;
		fdpkv_seterr(err, errlen, "device '%s': open: %s%s", dev->uri, strerror(-ret),
			     ret == -ENOENT ? " (format=auto creates it)" : "");
		free(fp);
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		goto fail;
	}
	fp->lba = FILE_LBA;
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes;
		int ssz;

		fp->bdev = true;
		if (ioctl(fd, BLKGETSIZE64, &bytes) || ioctl(fd, BLKSSZGET, &ssz)) {
			ret = -errno;
			goto fail;
		}
		fp->size = bytes;
		fp->lba = MAX((uint32_t)ssz, FILE_LBA);
		fp->punch_zeroes = bdev_write_zeroes_max(st.st_rdev) > 0;
	} else if (S_ISREG(st.st_mode)) {
		fp->size = (uint64_t)st.st_size;
		if (create && cfg->capacity_bytes > fp->size) {
			if (ftruncate(fd, (off_t)cfg->capacity_bytes)) {
				ret = -errno;
				goto fail;
			}
			fp->size = cfg->capacity_bytes;
		}
		fp->punch_zeroes = file_can_punch(fd, fp->size, fp->lba);
	} else {
		ret = -ENOTBLK;
		fdpkv_seterr(err, errlen, "device '%s': not a regular file or block device", dev->uri);
		close(fd);
		free(fp);
		return ret;
	}
	if (cfg->capacity_bytes && cfg->capacity_bytes < fp->size)
		fp->size = cfg->capacity_bytes;
	fp->cpu_copy = file_cpu_copy(fd, fp->direct);
	fp->memory = file_on_tmpfs(fd);
	dev->fd = fd;
	dev->priv = fp;
	return 0;
fail:
	fdpkv_seterr(err, errlen, "device '%s': %s", dev->uri, strerror(-ret));
	close(fd);
	free(fp);
	return ret;
}

static int file_geometry(struct fdpkv_dev *dev, struct fdpkv_geometry *g)
{
	struct file_priv *fp = dev->priv;

	memset(g, 0, sizeof(*g));
	g->lba_size = fp->lba;
	g->capacity = fp->size / fp->lba * fp->lba;
	g->ru_bytes = 0;
	g->max_transfer = FILE_MAX_TRANSFER;
	g->npids = 1;
	g->pids[0] = 0;
	g->dealloc_zeroes = fp->punch_zeroes;
	g->dlfeat = -1;
	g->any_align = fp->cpu_copy;
	return 0;
}

/*
 * Mark a large read where the kernel copies IOSQE_ASYNC. Unmarked, io-wq
 * starts a second worker only once the first blocks, and a copy from the
 * page cache never blocks: every read of the device ran on one core (issue
 * 12: GETs at 2 threads 0.40-0.45 of a read loop with a ring per thread).
 * Marked, io-wq takes a free worker or starts one per read (up to its
 * bound: the SQ size, at most 4 per CPU). Not writes: tmpfs and buffered file systems hold the
 * inode lock across a write's copy, so more workers would only wait on it.
 * Not O_DIRECT to a device: the DMA needs no CPU and submitting inline is
 * cheapest.
 */
static void file_async_read(const struct file_priv *fp, struct io_uring_sqe *sqe,
			    const struct io_part *p)
{
	if (fp->cpu_copy && p->len >= FILE_ASYNC_MIN)
		sqe->flags |= IOSQE_ASYNC;
}

static int file_prep(struct fdpkv_dev *dev, struct io_uring_sqe *sqe, struct io_part *p)
{
	switch (p->cmd->op) {
	case IO_READ:
		if (p->fixed >= 0)
			io_uring_prep_read_fixed(sqe, dev->fd, p->buf, (unsigned int)p->len, p->off,
						 p->fixed);
		else
			io_uring_prep_read(sqe, dev->fd, p->buf, (unsigned int)p->len, p->off);
		file_async_read(dev->priv, sqe, p);
		break;
	case IO_WRITE:
		if (p->fixed >= 0)
			io_uring_prep_write_fixed(sqe, dev->fd, p->buf, (unsigned int)p->len,
						  p->off, p->fixed);
		else
			io_uring_prep_write(sqe, dev->fd, p->buf, (unsigned int)p->len, p->off);
		if (p->cmd->dsync)
			sqe->rw_flags = RWF_DSYNC;
		break;
	case IO_DEALLOC:
		io_uring_prep_fallocate(sqe, dev->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)p->off, (off_t)p->len);
		break;
	case IO_FLUSH:
		io_uring_prep_fsync(sqe, dev->fd, IORING_FSYNC_DATASYNC);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/*
 * Where the kernel copies, a read is a memcpy wherever it runs: run on a
 * copy worker, which checksums the bytes next while they are in its cache
 * (pieces.c), it costs one pass over DRAM instead of two, and needs no
 * io-wq worker, which this machine's scheduler left sharing one core with
 * another while the second core idled (issue 12). RWF_NOWAIT: bytes not in
 * memory (a page cache miss) are the ring's to wait for. tmpfs refuses
 * RWF_NOWAIT (EOPNOTSUPP, 6.18) but its pages are its device: a plain read
 * waits for nothing but swap.
 */
static bool file_read_nowait(struct fdpkv_dev *dev, void *buf, uint64_t len, uint64_t off)
{
	const struct file_priv *fp = dev->priv;
	int flags = fp->memory ? 0 : RWF_NOWAIT;
	uint64_t done = 0;

	if (!fp->cpu_copy)
		return false;
	while (done < len) {
		struct iovec iov = { (uint8_t *)buf + done, len - done };
		ssize_t n = preadv2(dev->fd, &iov, 1, (off_t)(off + done), flags);

		if (n <= 0)
			return false;
		done += (uint64_t)n;
	}
	return true;
}

const struct fdpkv_backend_ops backend_file_ops = {
	.scheme = "file",
	.open = file_open,
	.geometry = file_geometry,
	.prep = file_prep,
	.read_nowait = file_read_nowait,
	.result = backend_rw_result,
	.close = backend_fd_close,
};
