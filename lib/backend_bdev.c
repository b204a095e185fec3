// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * backend_bdev.c - "bdev:/dev/nvmeXnY": the kernel's own FDP placement,
 * block write streams (Linux >= 6.16). Reads and writes go through io_uring
 * on an O_DIRECT block device fd, each write with sqe->write_stream; no
 * module and no passthrough, so no privilege beyond opening the disk (the
 * disk group). What bdev.c says about streams and placement ids holds here:
 * the backend reports placement ids 0..n-1 and writes id p to stream p + 1.
 *
 * Segments are one reclaim unit, whose size the kernel reports as
 * queue/write_stream_granularity. Deallocate is BLOCK_URING_CMD_DISCARD
 * (the NVMe Dataset Management deallocate the kernel sends); whether
 * discarded blocks read back as zeroes (DLFEAT) is not visible without an
 * admin command, so the geometry says "not known" and the cache overwrites
 * what recovery would find (dealloc_zeroes=yes when the operator knows
 * better). Flush is IORING_OP_FSYNC, FUA is RWF_DSYNC.
 *
 * Not possible here, unlike ng:: moving a handle to a fresh reclaim unit
 * (RUH Update is a passthrough command), or learning how full a handle's
 * RU is (RUH Status, likewise). So after a restart each class's handle
 * still points into the RU the last run's open segment of that class
 * partly wrote, f bytes in; the new run's first segment of the class fills
 * the rest of that RU and f bytes of the next, and as every segment writes
 * exactly one RU's bytes (sealed ones padded to their end), every later
 * segment of that class in this run straddles two RUs by the same f: an
 * evicted segment then leaves two RUs partly valid, which the device's GC
 * copies. fdpkv_close does not pad open segments, so this holds after a
 * clean restart as after a crash. Alignment comes back after a format, or
 * when ng: or fdpkv: opens the device once (RUH Update moves the handles).
 * Padding each class's open segment to its end through its stream (at
 * close, or at open from what recovery finds) would realign without
 * passthrough, at up to one RU of zeroes per class -- gigabytes on real
 * drives -- and only if nothing else moved the handle; not done.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

#define BDEV_MAX_TRANSFER	(1u << 20)	/* the block layer splits what the device cannot take */

struct bdev_priv {
	struct bdev_streams s;
	uint32_t lba;
	uint64_t size;
};

static int bdev_open(struct fdpkv_dev *dev, const char *path, const struct fdpkv_config *cfg,
		     bool create, char *err, size_t errlen)
{
	char why[384] = "";
	struct bdev_priv *bp;
	struct stat st;
	uint64_t bytes;
	int fd, ret, ssz;

	if (!*path) {
		fdpkv_seterr(err, errlen, "device '%s': empty path", dev->uri);
		return -EINVAL;
	}
	fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		fdpkv_seterr(err, errlen, "device '%s': open: %s%s", dev->uri, strerror(-ret),
			     ret == -EACCES ? " (bdev: needs read-write access: the disk group)" : "");
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		fdpkv_seterr(err, errlen, "device '%s': %s", dev->uri, strerror(-ret));
		goto fail;
	}
	if (!S_ISBLK(st.st_mode)) {
		ret = -ENOTBLK;
		fdpkv_seterr(err, errlen, "device '%s': not a block device (bdev: takes /dev/nvmeXnY)",
			     dev->uri);
		goto fail;
	}
	bp = calloc(1, sizeof(*bp));
	if (!bp) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = bdev_streams_read("/sys", major(st.st_rdev), minor(st.st_rdev), &bp->s, why,
				sizeof(why));
	if (ret) {
		fdpkv_seterr(err, errlen, "device '%s': %s (%s)", dev->uri, why, strerror(-ret));
		free(bp);
		goto fail;
	}
	if (ioctl(fd, BLKGETSIZE64, &bytes) || ioctl(fd, BLKSSZGET, &ssz)) {
		ret = -errno;
		fdpkv_seterr(err, errlen, "device '%s': size: %s", dev->uri, strerror(-ret));
		free(bp);
		goto fail;
	}
	bp->lba = (uint32_t)ssz;
	bp->size = bytes;
	if (cfg->capacity_bytes && cfg->capacity_bytes < bp->size)
		bp->size = cfg->capacity_bytes;
	dev->fd = fd;
	dev->priv = bp;
	return 0;
fail:
	close(fd);
	return ret;
}

static int bdev_geometry(struct fdpkv_dev *dev, struct fdpkv_geometry *g)
{
	struct bdev_priv *bp = dev->priv;
	unsigned int i;

	memset(g, 0, sizeof(*g));
	g->lba_size = bp->lba;
	g->capacity = bp->size / bp->lba * bp->lba;
	g->ru_bytes = bp->s.granularity;
	g->max_transfer = BDEV_MAX_TRANSFER;
	g->npids = MIN(bp->s.max_streams, (unsigned int)FDPKV_MAX_CLASSES);
	for (i = 0; i < g->npids; i++)
		g->pids[i] = (uint16_t)i;	/* stream i + 1 */
	g->dealloc_zeroes = false;
	g->dlfeat = -1;
	return 0;
}

static int bdev_prep(struct fdpkv_dev *dev, struct io_uring_sqe *sqe, struct io_part *p)
{
	struct bdev_priv *bp = dev->priv;

	switch (p->cmd->op) {
	case IO_READ:
	case IO_WRITE:
		return bdev_encode_rw(sqe, dev->fd, p->cmd->op == IO_WRITE, p->buf, p->len, p->off,
				      p->fixed, p->cmd->pid, p->cmd->dsync, bp->s.max_streams);
	case IO_DEALLOC:
		if (!bp->s.discard) {
			/* nothing to send: complete at once, the bytes stay */
			io_uring_prep_nop(sqe);
			atomic_store(&dev->dealloc_kept, true);
			return 0;
		}
		bdev_encode_discard(sqe, dev->fd, p->off, p->len);
		return 0;
	case IO_FLUSH:
		io_uring_prep_fsync(sqe, dev->fd, IORING_FSYNC_DATASYNC);
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * The cache pads sealed segments to the end of their reclaim unit only on
 * backends that align RUs (cache.c pad_sealed), which bdev: needs just as
 * ng: does. Moving a handle to a fresh RU takes RUH Update, a passthrough
 * command this backend cannot send: it moves none (see the top comment).
 */
static int bdev_ru_align(struct fdpkv_dev *dev, const uint16_t *pids, unsigned int n)
{
	return 0;
}

const struct fdpkv_backend_ops backend_bdev_ops = {
	.scheme = "bdev",
	.open = bdev_open,
	.geometry = bdev_geometry,
	.prep = bdev_prep,
	.result = backend_rw_result,
	.ru_align = bdev_ru_align,
	.close = backend_fd_close,
};
