// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * open.c - fdpkv_open and fdpkv_close: devices and their superblocks
 * (read, repaired, checked against the configuration, or formatted), the
 * index rebuilt (recovery.c), reclaim units aligned, wipes decided; and
 * freeing it all once nothing is in flight.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cache.h"


/* ---- open / close --------------------------------------------------------------- */

/*
 * The open caches: fdpkv_close takes a cache off this list before it frees
 * anything, so a second close finds nothing to do (-EBADF) and a thread
 * entering fdpkv_wait either counts as a waiter before close begins waiting
 * for waiters, or is told the cache is closed.
 */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fdpkv_cache *open_caches;

int cache_cq_lock_open(struct fdpkv_cache *c)
{
	struct fdpkv_cache *o;

	pthread_mutex_lock(&open_lock);
	for (o = open_caches; o && o != c; o = o->open_next)
		;
	if (o)
		pthread_mutex_lock(&c->cq.lock);
	pthread_mutex_unlock(&open_lock);
	return o ? 0 : -EBADF;
}

/* Take @c off the open list: false when it was not on it. */
static bool cache_unlist(struct fdpkv_cache *c)
{
	struct fdpkv_cache **pp;
	bool found = false;

	pthread_mutex_lock(&open_lock);
	for (pp = &open_caches; *pp && *pp != c; pp = &(*pp)->open_next)
		;
	if (*pp) {
		*pp = c->open_next;
		found = true;
	}
	pthread_mutex_unlock(&open_lock);
	return found;
}

static int write_superblocks(struct devctx *d)
{
	return sb_write_both(d->eng, d->dev.geo.lba_size, &d->sb);
}

/* Can an index entry name every segment of @d and a value that fills one?
 * Format asks before writing, open asks of a superblock written otherwise. */
static int index_names_device(const struct devctx *d, char *err, size_t errlen)
{
	if (d->sb.nsegments <= INDEX_SEG_MAX + 1ull && d->sb.segment_bytes <= INDEX_VLEN_MAX)
		return 0;
	fdpkv_seterr(err, errlen,
		     "device '%s': %llu segments of %llu bytes: at most %u segments of at most "
		     "%llu bytes; set a larger segment_size", d->dev.uri,
		     (unsigned long long)d->sb.nsegments, (unsigned long long)d->sb.segment_bytes,
		     INDEX_SEG_MAX + 1, (unsigned long long)INDEX_VLEN_MAX);
	return -E2BIG;
}

static int format_device(struct fdpkv_cache *c, struct devctx *d, const uint8_t *uuid,
			 char *err, size_t errlen)
{
	const struct fdpkv_geometry *g = &d->dev.geo;
	struct superblock *sb = &d->sb;
	uint64_t seg = c->cfg.segment_bytes, maxdata;
	int ret;

	if (g->ru_bytes && seg && seg != g->ru_bytes) {
		fdpkv_seterr(err, errlen, "device '%s': segment_size must equal the RU size %llu",
			     d->dev.uri, (unsigned long long)g->ru_bytes);
		return -EINVAL;
	}
	if (!seg && g->ru_bytes) {
		seg = g->ru_bytes;
	} else if (!seg) {
		seg = default_segment_bytes(g->capacity);
	}
	memset(sb, 0, sizeof(*sb));
	memcpy(sb->uuid, uuid, 16);
	sb->generation = 1;
	sb->lba_size = g->lba_size;
	sb->ndevices = c->ndev;
	sb->dev_index = d->idx;
	sb->segment_bytes = seg;
	sb->data_start = ALIGN_UP(MAX((uint64_t)FDPKV_DATA_START, 2ull * g->lba_size),
				  g->lba_size);
	sb->capacity = g->capacity;
	if (seg % g->lba_size || g->capacity < sb->data_start + 3 * seg) {
		fdpkv_seterr(err, errlen,
			     "device '%s': capacity %llu holds fewer than 3 segments of %llu bytes",
			     d->dev.uri, (unsigned long long)g->capacity, (unsigned long long)seg);
		return -EINVAL;
	}
	sb->nsegments = (g->capacity - sb->data_start) / seg;
	ret = index_names_device(d, err, errlen);	/* before anything is written */
	if (ret)
		return ret;
	sb->placement_by_salt = c->cfg.placement_by_salt;
	sb->salt_separator = c->cfg.salt_separator;
	/* every class keeps one segment open: bound classes by the segment count */
	maxdata = sb->nsegments > c->cfg.free_segments_low + 4
			  ? (sb->nsegments - c->cfg.free_segments_low - 2) / 2 : 1;
	sb->ndata_classes = c->cfg.placement_by_salt
				    ? (uint32_t)MIN((uint64_t)MAX(c->cfg.max_classes, 1u), maxdata)
				    : 1;
	sb->ndata_classes = MIN(sb->ndata_classes, FDPKV_MAX_CLASSES - FDPKV_CLASS_DATA0);
	sb->nclasses = FDPKV_CLASS_DATA0 + sb->ndata_classes;
	placement_map(sb->class_pid, sb->nclasses, g->pids, g->npids);
	/* old objects must not be found by the next scan */
	ret = engine_io_sync(d->eng, IO_DEALLOC, sb->data_start, sb->nsegments * seg, NULL, 0);
	if (!ret)
		ret = write_superblocks(d);
	if (ret)
		fdpkv_seterr(err, errlen, "device '%s': format: %s", d->dev.uri, strerror(-ret));
	return ret;
}

/* Read both superblock copies; repair a bad one from the good one. */
static int read_superblock(struct devctx *d, struct superblock *sb)
{
	uint32_t lba = d->dev.geo.lba_size;
	struct superblock cp[2];
	int rc[2], pick, ret;
	void *buf;

	if (posix_memalign(&buf, STAGING_ALIGN, 2 * (size_t)lba))
		return -ENOMEM;
	ret = engine_io_sync(d->eng, IO_READ, 0, 2 * (uint64_t)lba, buf, 0);
	if (ret) {
		free(buf);
		return ret;
	}
	rc[0] = sb_decode(buf, lba, &cp[0]);
	rc[1] = sb_decode((uint8_t *)buf + lba, lba, &cp[1]);
	free(buf);
	pick = sb_choose(cp, rc);
	if (pick < 0 && (rc[0] == -EPROTO || rc[1] == -EPROTO)) {
		/* written by a newer library: never guess at its layout */
		*sb = cp[rc[0] == -EPROTO ? 0 : 1];
		return -EPROTO;
	}
	if (pick < 0)
		return rc[0] == -ENODATA && rc[1] == -ENODATA ? -ENODATA : -EBADMSG;
	*sb = cp[pick];
	if (rc[0] || rc[1] || memcmp(&cp[0], &cp[1], sizeof(cp[0]))) {
		d->sb = *sb;
		write_superblocks(d);	/* best effort: the good copy still holds */
	}
	return 0;
}

static int open_devices(struct fdpkv_cache *c, char *err, size_t errlen)
{
	struct superblock sbs[FDPKV_MAX_DEVICES];
	int rcs[FDPKV_MAX_DEVICES];
	unsigned int i, nvalid = 0;
	uint8_t uuid[16];
	int ret;

	for (i = 0; i < c->ndev; i++) {
		struct devctx *d = &c->devs[i];

		d->cache = c;
		d->idx = i;
		ret = backend_open(&d->dev, c->cfg.devices[i], &c->cfg,
				   c->cfg.format != FDPKV_FORMAT_NEVER, err, errlen);
		if (ret)
			return ret;
		ret = engine_start(&d->eng, &d->dev, MAX(c->cfg.queue_depth, 1u));
		if (ret) {
			fdpkv_seterr(err, errlen, "device '%s': io_uring: %s", d->dev.uri,
				     strerror(-ret));
			return ret;
		}
		rcs[i] = read_superblock(d, &sbs[i]);
		if (rcs[i] == -EPROTO && c->cfg.format != FDPKV_FORMAT_ALWAYS) {
			fdpkv_seterr(err, errlen, "device '%s': superblock format version %u is not "
				     "supported (this library reads versions %d..%d): open it with a "
				     "newer libfdpkv, or format=always to discard it", d->dev.uri,
				     sbs[i].version, SB_VERSION_MIN, SB_VERSION);
			return -EPROTO;
		}
		if (rcs[i] && rcs[i] != -ENODATA && rcs[i] != -EBADMSG && rcs[i] != -EPROTO) {
			fdpkv_seterr(err, errlen, "device '%s': reading the superblock: %s",
				     d->dev.uri, strerror(-rcs[i]));
			return rcs[i];
		}
		nvalid += rcs[i] == 0;
	}
	if (c->cfg.format != FDPKV_FORMAT_ALWAYS && nvalid == c->ndev) {
		for (i = 0; i < c->ndev; i++) {
			struct devctx *d = &c->devs[i];
			const struct superblock *sb = &sbs[i];
			const char *why = NULL;

			if (memcmp(sb->uuid, sbs[0].uuid, 16) || sb->ndevices != c->ndev)
				why = "belongs to another cache or device set";
			else if (sb->dev_index != i)
				why = "is listed in a different position than when formatted";
			else if (sb->lba_size != d->dev.geo.lba_size)
				why = "has a different LBA size than when formatted";
			else if (sb->capacity > d->dev.geo.capacity)
				why = "is smaller than when formatted";
			else if (c->cfg.segment_bytes && c->cfg.segment_bytes != sb->segment_bytes)
				why = "was formatted with a different segment_size";
			if (why) {
				fdpkv_seterr(err, errlen, "device '%s' %s (format=always reformats)",
					     d->dev.uri, why);
				return -EINVAL;
			}
			d->sb = *sb;
		}
		return 0;
	}
	if (c->cfg.format == FDPKV_FORMAT_NEVER || (c->cfg.format == FDPKV_FORMAT_AUTO && nvalid)) {
		for (i = 0; i < c->ndev && rcs[i] == 0; i++)
			;
		fdpkv_seterr(err, errlen, "device '%s' holds %s (format=%s)", c->devs[i].dev.uri,
			     rcs[i] == -EBADMSG ? "a damaged fdpkv superblock" : "no fdpkv cache",
			     c->cfg.format == FDPKV_FORMAT_NEVER ? "auto creates one"
								 : "always reformats the set");
		return rcs[i] == -EBADMSG ? -EBADMSG : -ENODATA;
	}
	if (getrandom(uuid, sizeof(uuid), 0) != sizeof(uuid))
		return -EIO;
	for (i = 0; i < c->ndev; i++) {
		ret = format_device(c, &c->devs[i], uuid, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

static void cache_free(struct fdpkv_cache *c)
{
	unsigned int i;
	struct evicted *ev, *next;

	evictor_stop(c);
	for (i = 0; i < c->ndev; i++) {
		engine_stop(c->devs[i].eng);
		pend_destroy(&c->devs[i].pend);
		ghost_destroy(&c->devs[i].ghosts);
		free(c->devs[i].zeros);
		free(c->devs[i].dreq);
		c->devs[i].eng = NULL;
		backend_close(&c->devs[i].dev);
		segs_destroy(&c->devs[i].segs);
	}
	/* after the engines: nothing is in flight, so nothing is queued */
	workers_stop(c->workers);
	c->workers = NULL;
	index_destroy(&c->ix);
	cq_destroy(&c->cq);
	for (ev = c->ev_head; ev; ev = next) {
		next = ev->next;
		free(ev);
	}
	usage_free(c);
	stale_locks_free(c);
	staging_pool_destroy(&c->pool);
	arenas_free(c);
	pthread_mutex_destroy(&c->arena_lock);
	pthread_mutex_destroy(&c->arena_reg_lock);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->idle);
	free(c);
}

/*
 * Segments are reclaim units: every segment opened from now on must start on
 * an RU boundary of its class's placement id. The last run's open segments
 * (and the superblock) left RUs partly written; move those to fresh ones.
 */
static int align_device(struct devctx *d, unsigned int nclasses, char *err, size_t errlen)
{
	int ret;

	if (!d->dev.ops->ru_align)
		return 0;
	ret = d->dev.ops->ru_align(&d->dev, d->sb.class_pid, nclasses);
	if (ret < 0) {
		fdpkv_seterr(err, errlen, "device '%s': aligning reclaim units: %s", d->dev.uri,
			     strerror(-ret));
		return ret;
	}
	atomic_fetch_add(&d->dev.cnt.ru_realigned, (uint64_t)ret);
	return 0;
}

/*
 * The placement id of wipes (one zeroed LBA per evicted segment). A segment
 * is one reclaim unit of its class's id, kept so by writing exactly one
 * segment's bytes per RU (pads included); one more LBA through a class's id
 * would shift every later segment of that class across two RUs, and each
 * eviction would leave the device live data to copy. So: an id no class
 * uses, when the device has one (its RUs then hold only wipes, invalidated
 * as segments are reused); otherwise the metadata class's, which carries
 * only delete records, is rarely evicted, and so misaligns the least.
 */
static uint16_t wipe_pid_pick(const struct devctx *d, unsigned int nclasses)
{
	const struct fdpkv_geometry *g = &d->dev.geo;
	unsigned int i, k;

	for (i = 0; i < g->npids; i++) {
		for (k = 0; k < nclasses && d->sb.class_pid[k] != g->pids[i]; k++)
			;
		if (k == nclasses)
			return g->pids[i];
	}
	return d->sb.class_pid[FDPKV_CLASS_META];
}

/* Decide whether evicted segments of @d are wiped (struct devctx). */
static void wipe_decide(const struct fdpkv_cache *c, struct devctx *d)
{
	switch (c->cfg.dealloc_zeroes) {
	case FDPKV_DEALLOC_ZEROES_YES:
		d->wipe = false;
		break;
	case FDPKV_DEALLOC_ZEROES_NO:
		d->wipe = true;
		break;
	default:
		d->wipe = !d->dev.geo.dealloc_zeroes;
		break;
	}
	d->wipe_pid = wipe_pid_pick(d, d->sb.nclasses);
}

/*
 * The index, sized for the most objects the devices can hold (one LBA each);
 * an entry names a segment in 28 bits and a value length in 40 (format
 * refuses more; a superblock written otherwise is refused here).
 * FDPKV_INDEX_FP_BITS shrinks the key fingerprint for tests that need keys
 * to share one; nothing else should set it.
 */
static int index_open(struct fdpkv_cache *c, char *err, size_t errlen)
{
	const char *bits = getenv("FDPKV_INDEX_FP_BITS");
	unsigned int i, fp_bits = 64;
	uint64_t max = 0;
	int ret;

	for (i = 0; i < c->ndev; i++) {
		const struct devctx *d = &c->devs[i];

		ret = index_names_device(d, err, errlen);
		if (ret)
			return ret;
		max += d->sb.nsegments * (d->sb.segment_bytes / d->sb.lba_size);
	}
	if (bits && *bits) {
		char *end;
		unsigned long v = strtoul(bits, &end, 10);

		if (*end || v < 1 || v > 64) {
			fdpkv_seterr(err, errlen, "FDPKV_INDEX_FP_BITS '%s': want 1-64", bits);
			return -EINVAL;
		}
		fp_bits = (unsigned int)v;
	}
	ret = index_init(&c->ix, max, fp_bits, index_seed(&c->devs[0].sb));
	c->ix.ndev = c->ndev;
	if (ret)
		fdpkv_seterr(err, errlen, "index for %llu objects: %s", (unsigned long long)max,
			     strerror(-ret));
	return ret;
}

FDPKV_PUBLIC int fdpkv_open(const struct fdpkv_config *cfg, struct fdpkv_cache **out, char *err,
			    size_t errlen)
{
	struct fdpkv_cache *c;
	unsigned int i;
	int ret;

	if (!cfg || !out || cfg->struct_size < sizeof(*cfg)) {
		fdpkv_seterr(err, errlen, "config: not initialised with fdpkv_config_init");
		return -EINVAL;
	}
	if (cfg->ndevices == 0 || cfg->ndevices > FDPKV_MAX_DEVICES) {
		fdpkv_seterr(err, errlen, "devices: need 1..%d devices", FDPKV_MAX_DEVICES);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	c->cfg.free_segments_low = MAX(cfg->free_segments_low, 1u);
	c->ndev = cfg->ndevices;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->idle, NULL);
	pthread_mutex_init(&c->pool.lock, NULL);
	pthread_mutex_init(&c->arena_lock, NULL);
	pthread_mutex_init(&c->arena_reg_lock, NULL);
	atomic_init(&c->next_id, 1);
	ret = cq_init(&c->cq);
	if (ret) {
		c->cq.efd = -1;
		fdpkv_seterr(err, errlen, "eventfd: %s", strerror(-ret));
		c->ndev = 0;
		cache_free(c);
		return ret;
	}
	ret = open_devices(c, err, errlen);
	if (!ret)
		ret = index_open(c, err, errlen);
	for (i = 0; !ret && i < c->ndev; i++) {
		struct devctx *d = &c->devs[i];

		memcpy(&d->uuid64, d->sb.uuid, 8);
		for (unsigned int k = 0; k < FDPKV_MAX_CLASSES; k++)
			d->gate[k].cur_seg = UINT32_MAX;
		ret = segs_init(&d->segs, (uint32_t)d->sb.nsegments, d->sb.segment_bytes);
		d->segs.sum_lba = d->sb.lba_size;
		if (!ret)
			ret = pend_init(&d->pend, &c->ix);
		if (!ret)
			ret = ghost_init(&d->ghosts, (uint32_t)d->sb.nsegments);
		if (!ret) {
			d->dreq = calloc(d->sb.nsegments, sizeof(*d->dreq));
			ret = d->dreq ? 0 : -ENOMEM;
		}
		wipe_decide(c, d);
	}
	if (!ret) {
		c->nclasses = c->devs[0].sb.nclasses;
		c->ndata = c->devs[0].sb.ndata_classes;
		ret = recovery_scan(c, err, errlen);
	}
	if (!ret)
		ret = seq_lease_take(c, err, errlen);
	for (i = 0; !ret && i < c->ndev; i++)
		ret = align_device(&c->devs[i], c->nclasses, err, errlen);
	if (ret) {
		if (ret == -ENOMEM)
			fdpkv_seterr(err, errlen, "out of memory");
		cache_free(c);
		return ret;
	}
	/*
	 * No cache without the evictor: inline eviction would run inside the
	 * caller's submit, and under the lock it cannot read the keys it
	 * evicts (segkeys.c), so their evictions would go unreported.
	 */
	ret = evictor_start(c);
	if (ret) {
		fdpkv_seterr(err, errlen, "starting the evictor thread: %s", strerror(-ret));
		cache_free(c);
		return ret;
	}
	/* likewise without copy workers: large values are copied inline */
	workers_start(&c->workers, MIN(cfg->copy_threads, FDPKV_MAX_COPY_THREADS));
	pthread_mutex_lock(&open_lock);
	c->open_next = open_caches;
	open_caches = c;
	pthread_mutex_unlock(&open_lock);
	*out = c;
	return 0;
}

FDPKV_PUBLIC int fdpkv_close(struct fdpkv_cache *c)
{
	if (!c)
		return -EINVAL;
	if (!cache_unlist(c))
		return -EBADF;
	atomic_store(&c->closing, true);
	cache_lock(c);
	while (c->inflight_ops)
		cache_cond_wait(&c->idle, c);
#ifdef FDPKV_LOCK_STATS
	lockstat_report(&c->lockstat, c->cfg.devices[0]);
#endif
	cache_unlock(c);
	/* threads still in fdpkv_wait return -ESHUTDOWN before anything is freed */
	cq_shutdown(&c->cq);
	/* every object is in the device (or page cache); recovery needs nothing else */
	cache_free(c);
	return 0;
}
