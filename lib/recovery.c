// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * recovery.c - rebuild the index at open by walking each segment's header
 * chain: a header at offset 0, the next one right after the padded object,
 * and so on. Values are not needed: for large objects only headers and keys
 * are read (one LBA per object, two for long keys), so the time is bounded by
 * the object count. While objects are small each read covers several of them
 * instead (a window that doubles up to WALK_MAX while the next header keeps
 * falling inside it), so small objects cost far fewer reads than one each.
 *
 * A chain ends at the first header that is missing or damaged, belongs to
 * another format (uuid) or to an earlier use of the segment (seg_seq), or
 * does not increase the sequence. Segments are walked in parallel, up to the
 * queue depth per device, each walker chaining its next read from the
 * previous read's completion on the device thread.
 *
 * The highest sequence of a key wins; a delete record that wins hides the
 * key. Delete records only exist in the index during the scan; afterwards
 * each one stays known on its segment (struct shadow_rec) while a data
 * segment written before it is left, since it may hide an object there, and
 * a winner with an older version below it is marked IDX_F_SHADOW: eviction
 * keeps both kinds of hidden objects hidden (shadow.c: shadow_carry).
 * A key found in more than one version keeps the list of its versions while
 * the scan runs, and a newest version whose value a crash tore gives way to
 * the one below it afterwards (torn.c).
 * Entries keep their sequence in scan_seq while the scan runs and are linked
 * into their segments, in offset order, once it is over (struct index_entry).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define WALK_BUF	(OBJ_HDR_SIZE + FDPKV_KEY_MAX)
#define WALK_MAX	(256u << 10)	/* read-ahead window, at most */

struct walker {
	struct devctx *d;
	struct scan *scan;
	uint32_t seg;
	uint64_t off, seg_seq, last_seq;
	uint64_t buf_off;		/* segment offset of buf[0] */
	uint64_t win;			/* read-ahead window, bytes */
	uint8_t cls;
	uint32_t nobj;
	void *buf;
	size_t buflen;
	struct io_cmd cmd;
};

struct scan {
	struct fdpkv_cache *c;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int active;
	uint32_t next_seg[FDPKV_MAX_DEVICES];
	int err;
};

static void walk_read(struct walker *w, uint64_t len);

/* Record one object found by the scan. cache->lock held. */
static int scan_apply(struct fdpkv_cache *c, struct walker *w, const struct obj_hdr *h,
		      const uint8_t *key)
{
	struct segment *sg = &w->d->segs.segs[w->seg];
	struct index_entry *e = index_find(&c->ix, key, h->klen);
	bool tomb = h->flags & OBJ_F_TOMBSTONE;
	uint8_t shadow = 0;

	if (h->seq > c->seq)
		c->seq = h->seq;
	if (tomb) {
		/* what it hides is unknown here: anything written before it */
		struct shadow_rec *rec = malloc(sizeof(*rec) + h->klen);

		if (!rec)
			return -ENOMEM;
		rec->bound = h->seq;
		rec->seg = SHADOW_ANY;
		rec->klen = (uint16_t)h->klen;
		memcpy(rec->key, key, h->klen);
		rec->next = sg->pending;
		sg->pending = rec;
		sg->npending++;
	}
	if (e) {
		/* a key found twice: the newer may be torn (torn.c) */
		int ret = torn_note_version(e, h, (uint8_t)w->d->idx, w->seg,
					    (uint32_t)(w->off / w->d->sb.lba_size));

		if (ret)
			return ret;
	}
	if (e && e->scan_seq >= h->seq) {
		/* an older version: garbage, but the winner must hide it */
		if (!tomb && e->scan_seq > h->seq)
			e->flags |= IDX_F_SHADOW;
		return 0;
	}
	if (e) {
		shadow = (e->flags & IDX_F_SHADOW) || !(e->flags & IDX_F_TOMBSTONE) ? IDX_F_SHADOW : 0;
		if (!(e->flags & IDX_F_TOMBSTONE)) {
			struct segment *old = &c->devs[e->dev].segs.segs[e->seg];

			old->live_objs--;
			old->live_bytes -= e->vlen;
			usage_add(c, e, -1);
		}
	} else {
		e = index_insert(&c->ix, key, h->klen);
		if (!e)
			return -ENOMEM;
	}
	e->scan_seq = h->seq;
	e->vlen = h->vlen;
	e->dev = (uint8_t)w->d->idx;
	e->seg = w->seg;
	e->off_lba = (uint32_t)(w->off / w->d->sb.lba_size);
	e->flags = (tomb ? IDX_F_TOMBSTONE : 0) | shadow;
	if (h->flags & OBJ_F_ALIGNED)
		e->flags |= IDX_F_ALIGNED;
	if (!(e->flags & IDX_F_TOMBSTONE)) {
		sg->live_objs++;
		sg->live_bytes += e->vlen;
		usage_add(c, e, 1);
	}
	return 0;
}

/* The walker's segment is done: record it and take the next one, or retire. */
static void walk_next_segment(struct walker *w)
{
	struct scan *scan = w->scan;
	struct fdpkv_cache *c = scan->c;
	struct devctx *d = w->d;

	if (w->nobj) {
		struct segment *sg = &d->segs.segs[w->seg];

		cache_lock(c);
		segs_take(&d->segs, w->seg);
		sg->cls = w->cls;
		sg->open_seq = w->seg_seq;
		sg->last_seq = w->last_seq;
		sg->used = w->off;
		cache_unlock(c);
	}
	pthread_mutex_lock(&scan->lock);
	if (!scan->err && scan->next_seg[d->idx] < d->segs.n) {
		w->seg = scan->next_seg[d->idx]++;
		pthread_mutex_unlock(&scan->lock);
		w->off = 0;
		w->nobj = 0;
		w->seg_seq = w->last_seq = 0;
		walk_read(w, w->win);
		return;
	}
	if (--scan->active == 0)
		pthread_cond_broadcast(&scan->cond);
	pthread_mutex_unlock(&scan->lock);
}

static void walk_done(struct io_cmd *cmd, int res)
{
	struct walker *w = cmd->arg;
	struct devctx *d = w->d;
	struct fdpkv_cache *c = w->scan->c;
	uint64_t lba = d->sb.lba_size, end, need = 0;
	int ret;

	if (res < 0) {
		/* unreadable: what was found so far stands */
		atomic_fetch_add(&c->st.io_errors, 1);
		walk_next_segment(w);
		return;
	}
	end = w->buf_off + cmd->len;	/* segment offset where the bytes read end */
	/* every header (and key) that lies wholly inside the bytes read */
	for (;;) {
		const uint8_t *p = (const uint8_t *)w->buf + (w->off - w->buf_off);
		uint64_t size;
		struct obj_hdr h;

		if (w->off + lba > d->sb.segment_bytes) {
			walk_next_segment(w);
			return;
		}
		if (w->off + lba > end)
			break;
		ret = obj_decode(p, end - w->off, &h);
		if (ret == -ENODATA && h.klen) {
			need = ALIGN_UP(OBJ_HDR_SIZE + h.klen, lba);
			if (w->off + need <= d->sb.segment_bytes && w->off + need > end)
				break;	/* a long key runs past the bytes read */
		}
		size = ret ? 0 : obj_extent(h.klen, h.vlen, h.flags, d->sb.lba_size);
		if (ret || h.uuid64 != d->uuid64 || (w->nobj && h.seg_seq != w->seg_seq) ||
		    (!w->nobj && h.seg_seq >= h.seq) || h.seq <= w->last_seq ||
		    h.cls >= c->nclasses || w->off + size > d->sb.segment_bytes) {
			walk_next_segment(w);
			return;
		}
		if (!w->nobj) {
			w->seg_seq = h.seg_seq;
			w->cls = h.cls;
		}
		cache_lock(c);
		ret = scan_apply(c, w, &h, p + OBJ_HDR_SIZE);
		if (h.seg_seq > c->seq)
			c->seq = h.seg_seq;
		cache_unlock(c);
		if (ret) {
			pthread_mutex_lock(&w->scan->lock);
			w->scan->err = ret;
			pthread_mutex_unlock(&w->scan->lock);
		}
		w->nobj++;
		w->last_seq = h.seq;
		w->off += size;
		need = 0;
	}
	/*
	 * Read ahead while objects are small: when the next header lies within
	 * one window of the bytes read, double the window (up to WALK_MAX);
	 * when objects are large, read one LBA per header again.
	 */
	if (w->off <= end + w->win)
		w->win = MIN(w->win * 2, (uint64_t)WALK_MAX);
	else
		w->win = lba;
	walk_read(w, MAX(w->win, need));
}

static void walk_read(struct walker *w, uint64_t len)
{
	struct devctx *d = w->d;

	w->buf_off = w->off;
	w->cmd = (struct io_cmd){
		.op = IO_READ,
		.off = seg_base(d, w->seg) + w->off,
		.len = MIN(len, d->sb.segment_bytes - w->off),
		.buf = w->buf,
		.done = walk_done,
		.arg = w,
	};
	engine_submit(d->eng, &w->cmd);
}

static int drop_tombstone(void *arg, struct index_entry *e)
{
	if (e->flags & IDX_F_TOMBSTONE)
		index_remove(arg, e);
	return 0;
}

/* Forget the delete records that no longer hide anything. cache->lock held. */
static void prune_pending(struct seg_table *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		struct shadow_rec **pp = &t->segs[i].pending, *rec;

		while ((rec = *pp)) {
			if (segs_shadow_needed(t, UINT32_MAX, rec->seg, rec->bound)) {
				pp = &rec->next;
				continue;
			}
			*pp = rec->next;
			t->segs[i].npending--;
			free(rec);
		}
	}
}

struct link_ctx {
	struct fdpkv_cache *c;
	size_t base[FDPKV_MAX_DEVICES];	/* first slot of each device's segments */
	size_t *pos;			/* per segment: next free place in v */
	struct index_entry **v;
	bool count;
};

static int link_gather(void *arg, struct index_entry *e)
{
	struct link_ctx *l = arg;
	size_t s = l->base[e->dev] + e->seg;

	if (l->count)
		l->pos[s + 1]++;
	else
		l->v[l->pos[s]++] = e;
	return 0;
}

static int by_offset(const void *a, const void *b)
{
	const struct index_entry *x = *(struct index_entry *const *)a;
	const struct index_entry *y = *(struct index_entry *const *)b;

	return x->off_lba < y->off_lba ? -1 : x->off_lba > y->off_lba;
}

/* After the scan: link every entry into its segment, oldest at the tail as
 * commits would have. cache->lock held. 0 or -ENOMEM. */
static int link_entries(struct fdpkv_cache *c)
{
	struct link_ctx l = { .c = c };
	size_t nseg = 0, i, j, from = 0;
	unsigned int d;

	for (d = 0; d < c->ndev; d++) {
		l.base[d] = nseg;
		nseg += c->devs[d].segs.n;
	}
	l.pos = calloc(nseg + 1, sizeof(*l.pos));
	l.v = malloc(MAX(c->ix.count, (size_t)1) * sizeof(*l.v));
	if (!l.pos || !l.v) {
		free(l.pos);
		free(l.v);
		return -ENOMEM;
	}
	l.count = true;
	index_foreach(&c->ix, link_gather, &l);
	for (i = 0; i < nseg; i++)
		l.pos[i + 1] += l.pos[i];
	l.count = false;
	index_foreach(&c->ix, link_gather, &l);	/* pos[s] ends at segment s's end */
	for (d = 0; d < c->ndev; d++) {
		for (i = 0; i < c->devs[d].segs.n; i++) {
			size_t to = l.pos[l.base[d] + i];
			struct segment *sg = &c->devs[d].segs.segs[i];

			qsort(l.v + from, to - from, sizeof(*l.v), by_offset);
			for (j = from; j < to; j++)
				seg_link(sg, l.v[j]);
			from = to;
		}
	}
	free(l.pos);
	free(l.v);
	return 0;
}

int recovery_scan(struct fdpkv_cache *c, char *err, size_t errlen)
{
	struct scan scan = { .c = c };
	struct walker *ws;
	unsigned int i, nw = 0, k;
	int ret = 0;

	pthread_mutex_init(&scan.lock, NULL);
	pthread_cond_init(&scan.cond, NULL);
	for (i = 0; i < c->ndev; i++)
		nw += MIN(MAX(c->cfg.queue_depth, 1u), c->devs[i].segs.n);
	ws = calloc(nw, sizeof(*ws));
	if (!ws)
		return -ENOMEM;
	for (k = 0; k < nw; k++) {
		ws[k].buflen = ALIGN_UP(MAX(WALK_BUF, WALK_MAX), 4096);
		if (posix_memalign(&ws[k].buf, 4096, ws[k].buflen)) {
			ret = -ENOMEM;
			goto out;
		}
	}
	/* start every walker before any can finish and read scan.active */
	scan.active = nw;
	k = 0;
	for (i = 0; i < c->ndev; i++) {
		struct devctx *d = &c->devs[i];
		unsigned int j, n = MIN(MAX(c->cfg.queue_depth, 1u), d->segs.n);

		scan.next_seg[i] = n;
		for (j = 0; j < n; j++, k++) {
			ws[k].d = d;
			ws[k].scan = &scan;
			ws[k].seg = j;
			ws[k].win = d->sb.lba_size;
			walk_read(&ws[k], ws[k].win);
		}
	}
	pthread_mutex_lock(&scan.lock);
	while (scan.active)
		pthread_cond_wait(&scan.cond, &scan.lock);
	ret = scan.err;
	pthread_mutex_unlock(&scan.lock);
	/* the walkers are done and nothing else runs yet: reads may block */
	torn_settle(c);
	cache_lock(c);
	index_foreach(&c->ix, drop_tombstone, &c->ix);
	if (!ret)
		ret = link_entries(c);
	for (i = 0; i < c->ndev; i++) {
		segs_rebuild_free(&c->devs[i].segs);
		prune_pending(&c->devs[i].segs);
	}
	cache_unlock(c);
	if (ret)
		fdpkv_seterr(err, errlen, "recovery: %s", strerror(-ret));
out:
	for (k = 0; k < nw; k++)
		free(ws[k].buf);
	free(ws);
	pthread_mutex_destroy(&scan.lock);
	pthread_cond_destroy(&scan.cond);
	return ret;
}
