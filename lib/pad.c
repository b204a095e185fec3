// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pad.c - padding: when a segment is sealed with its tail unwritten, zeros
 * go into that tail through the class's placement id so that the class's
 * next segment starts on a reclaim unit boundary. Also the device's buffer
 * of zeroes, which wipes (reclaim.c) write too.
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"

/* One write of a pad: zeros into the unwritten tail of a sealed segment. */
struct pad_req {
	struct devctx *d;
	uint32_t seg;
	atomic_uint left;		/* commands still in flight */
	unsigned int n;
	struct io_cmd cmd[];
};

#define ZEROS_BYTES	(1u << 20)

/* The device's buffer of zeroes (pads, wipes), allocated on first use.
 * cache->lock held. NULL when out of memory. */
void *zeros_get(struct devctx *d)
{
	if (!d->zeros) {
		if (posix_memalign(&d->zeros, STAGING_ALIGN, ZEROS_BYTES))
			d->zeros = NULL;
		else
			memset(d->zeros, 0, ZEROS_BYTES);
	}
	return d->zeros;
}

static void pad_done(struct io_cmd *cmd, int res)
{
	struct pad_req *pr = cmd->arg;
	struct fdpkv_cache *c = pr->d->cache;

	if (res < 0)
		atomic_fetch_add(&c->st.io_errors, 1);
	cache_lock(c);
	/* the segment may be evicted (and rewritten) only once its pad is down */
	if (!--pr->d->segs.segs[pr->seg].writes)
		summary_kick(pr->d, pr->seg);
	if (!pr->d->segs.segs[pr->seg].writes)
		gate_release(pr->d);
	cache_unlock(c);
	if (atomic_fetch_sub(&pr->left, 1) == 1)
		free(pr);
}

/*
 * A segment is one reclaim unit of its class's placement id. When one is
 * sealed with its tail unwritten, the RU is not full, and the class's next
 * segment would start inside it: from then on every segment would straddle
 * two RUs, and evicting one would leave the device live data to copy. So on
 * FDP backends the tail is written with zeros through the same placement id,
 * up to the room kept for the segment's summary, which fills the rest
 * (recovery ends a segment's chain at the first thing that is not a header).
 * cache->lock held.
 */
static void pad_tail(struct devctx *d)
{
	struct seg_table *t = &d->segs;
	struct fdpkv_cache *c = d->cache;
	struct segment *sg;
	struct pad_req *pr;
	uint64_t off, len;
	unsigned int i, n;

	if (t->pad_seg == UINT32_MAX)
		return;
	sg = &t->segs[t->pad_seg];
	off = t->pad_off;
	len = t->pad_len;
	t->pad_seg = UINT32_MAX;
	if (!d->dev.ops->ru_align || !d->dev.geo.ru_bytes)
		return;		/* no reclaim units to keep aligned */
	zeros_get(d);
	n = (unsigned int)((len + ZEROS_BYTES - 1) / ZEROS_BYTES);
	pr = d->zeros ? calloc(1, sizeof(*pr) + n * sizeof(pr->cmd[0])) : NULL;
	if (!pr) {
		atomic_fetch_add(&c->st.io_errors, 1);
		return;		/* unaligned from here on, but nothing is lost */
	}
	pr->d = d;
	pr->seg = (uint32_t)(sg - t->segs);
	pr->n = n;
	atomic_init(&pr->left, n);
	sg->writes += n;
	atomic_fetch_add(&c->st.pad_bytes, len);
	atomic_fetch_add(&c->st.class_bytes[sg->cls], len);
	for (i = 0; i < n; i++) {
		uint64_t part = MIN(len - (uint64_t)i * ZEROS_BYTES, (uint64_t)ZEROS_BYTES);

		pr->cmd[i] = (struct io_cmd){
			.op = IO_WRITE,
			.pid = d->sb.class_pid[sg->cls],
			.off = seg_base(d, pr->seg) + off + (uint64_t)i * ZEROS_BYTES,
			.len = part,
			.buf = d->zeros,
			.done = pad_done,
			.arg = pr,
		};
	}
	for (i = 0; i < n; i++)
		engine_submit(d->eng, &pr->cmd[i]);
}

/*
 * After segs_seal_padded: pad the sealed segment's tail up to its summary's
 * room, and write the summary if nothing of the segment is in flight any
 * more (else the last write to complete does). cache->lock held.
 */
void pad_sealed(struct devctx *d)
{
	struct seg_table *t = &d->segs;
	uint32_t sealed = t->sealed_seg;

	t->sealed_seg = UINT32_MAX;
	pad_tail(d);
	/* nothing left in flight: its summary goes now, else with the last write */
	if (sealed != UINT32_MAX)
		summary_kick(d, sealed);
}
