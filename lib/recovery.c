// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * recovery.c - rebuild the index at open from each segment's summary
 * (summary.c), or, where a segment has none to trust, by walking its header
 * chain: a header at offset 0, the next one right after the padded object,
 * and so on. A segment is first read at its end: a footer there is checked
 * against the first header and its records against the chain rule
 * (lib/FORMAT.md: "What recovery trusts"), and then stand for the chain;
 * three reads per segment instead of one per object. Walking, values are
 * not needed: for large objects only headers and keys are read (one LBA per
 * object, two for long keys), so the time is bounded by the object count.
 * While objects are small each read covers several of them
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
 *
 * The scan is CPU work per object once summaries spare the reads: a first
 * pass reads only the footers and sizes the index from their record counts,
 * so it never rehashes on the way; each object costs one bucket walk, its
 * bucket prefetched a few records ahead; linking is one pass over the index
 * and a radix sort per segment that reads no entry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define WALK_BUF	(OBJ_HDR_SIZE + FDPKV_KEY_MAX)
#define WALK_MAX	(256u << 10)	/* read-ahead window, at most */

/* What a walker's read is for. */
enum walk_phase {
	W_FOOTER,			/* the segment's last LBA: a summary footer? */
	W_HEAD,				/* the first header, to check the footer against */
	W_SUMMARY,			/* the summary's records */
	W_CHAIN,			/* the header chain */
};

struct walker {
	struct devctx *d;
	struct scan *scan;
	uint32_t seg;
	uint64_t off, seg_seq, last_seq;
	uint64_t buf_off;		/* segment offset of buf[0] */
	uint64_t win;			/* read-ahead window, bytes */
	uint8_t cls;
	uint32_t nobj;
	enum walk_phase phase;
	struct sum_footer f;		/* W_HEAD, W_SUMMARY */
	struct obj_hdr head;		/* W_SUMMARY: the first header */
	uint8_t head_key[FDPKV_KEY_MAX];
	void *buf;
	size_t buflen;
	void *sum;			/* W_SUMMARY: the summary's bytes */
	size_t sum_cap;
	struct io_cmd cmd;
};

struct scan {
	struct fdpkv_cache *c;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int active;
	uint32_t next_seg[FDPKV_MAX_DEVICES];
	int err;
	bool counting;			/* the first pass: footers only */
	uint64_t hint;			/* objects the footers announce */
};

static void walk_read(struct walker *w, uint64_t len);

/* Record one object found by the scan. cache->lock held. */
static int scan_apply(struct fdpkv_cache *c, struct walker *w, const struct obj_hdr *h,
		      const uint8_t *key, uint64_t hash)
{
	struct segment *sg = &w->d->segs.segs[w->seg];
	bool tomb = h->flags & OBJ_F_TOMBSTONE, added;
	struct index_entry *e;
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
	e = index_find_or_insert(&c->ix, hash, h->klen, w->d->idx, &added);
	if (!e)
		return -ENOMEM;
	if (!added) {
		/* a key found twice: the newer may be torn (torn.c) */
		int ret = torn_note_version(c, e, h, (uint8_t)w->d->idx, w->seg,
					    (uint32_t)(w->off / w->d->sb.lba_size));

		if (ret)
			return ret;
		if (e->scan_seq >= h->seq) {
			/* an older version: garbage, but the winner must hide it */
			if (!tomb && e->scan_seq > h->seq)
				e->flags |= IDX_F_SHADOW;
			return 0;
		}
		shadow = (e->flags & IDX_F_SHADOW) || !(e->flags & IDX_F_TOMBSTONE) ? IDX_F_SHADOW : 0;
		if (!(e->flags & IDX_F_TOMBSTONE)) {
			struct segment *old = &c->devs[e->dev].segs.segs[e->seg];

			old->live_objs--;
			old->live_bytes -= e->vlen;
			usage_uncount(c, e);
		}
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
		usage_count(c, e, key, h->klen);
	}
	return 0;
}

static void walk_start(struct walker *w);

static void scan_fail(struct walker *w, int err)
{
	pthread_mutex_lock(&w->scan->lock);
	if (!w->scan->err)
		w->scan->err = err;
	pthread_mutex_unlock(&w->scan->lock);
}

/* The walker's segment is done: record it and take the next one, or retire. */
static void walk_next_segment(struct walker *w)
{
	struct scan *scan = w->scan;
	struct fdpkv_cache *c = scan->c;
	struct devctx *d = w->d;

	if (w->nobj && !scan->counting) {
		struct segment *sg = &d->segs.segs[w->seg];

		if (w->phase == W_CHAIN)
			atomic_fetch_add(&c->st.recovery_walks, 1);
		else
			atomic_fetch_add(&c->st.recovery_summaries, 1);

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
		walk_start(w);
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
		ret = scan_apply(c, w, &h, p + OBJ_HDR_SIZE,
				 index_key_fp(&c->ix, p + OBJ_HDR_SIZE, h.klen));
		if (h.seg_seq > c->seq)
			c->seq = h.seg_seq;
		cache_unlock(c);
		if (ret)
			scan_fail(w, ret);
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

/* Walk the segment's header chain from its start: no summary to trust. */
static void walk_chain(struct walker *w)
{
	w->phase = W_CHAIN;
	w->off = 0;
	w->nobj = 0;
	w->seg_seq = w->last_seq = 0;
	walk_read(w, w->win);
}

static void walk_io(struct walker *w, uint64_t off, uint64_t len, void *buf, io_done_fn done)
{
	w->cmd = (struct io_cmd){
		.op = IO_READ,
		.off = seg_base(w->d, w->seg) + off,
		.len = len,
		.buf = buf,
		.done = done,
		.arg = w,
	};
	engine_submit(w->d->eng, &w->cmd);
}

/* Records hashed ahead of the one applied, their buckets prefetched. */
#define SUM_AHEAD	8

/*
 * Walk the summary's records as the chain they stand for, with the rule the
 * header walk applies (obj_chain_ok), each object right behind the previous
 * one from offset 0, the first the header read from the device, the end where
 * the footer says; with @apply, record each. false: do not trust the summary.
 */
static bool summary_walk(struct walker *w, bool apply)
{
	struct devctx *d = w->d;
	struct fdpkv_cache *c = d->cache;
	const uint8_t *p = w->sum;
	uint32_t lba = d->sb.lba_size, off_lba, nobj = 0, nahead = 0;
	uint64_t off = 0, last_seq = 0, used = 0, ahead = 0, hashes[SUM_AHEAD];
	struct obj_hdr h;
	int n, ret;

	while (used < w->f.rec_bytes) {
		n = summary_rec_decode(p + used, w->f.rec_bytes - used, &h, &off_lba);
		if (n < 0)
			return false;
		h.seg_seq = w->f.seg_seq;
		h.uuid64 = d->uuid64;
		if ((uint64_t)off_lba * lba != off ||
		    !obj_chain_ok(&h, off, nobj, w->f.seg_seq, last_seq, d->uuid64,
				  c->nclasses, d->sb.segment_bytes, lba))
			return false;
		if (!nobj && (h.seq != w->head.seq || h.klen != w->head.klen ||
			      h.flags != w->head.flags || h.vlen != w->head.vlen ||
			      h.vcrc != w->head.vcrc || h.cls != w->head.cls ||
			      memcmp(p + used + SUM_REC_SIZE, w->head_key, h.klen)))
			return false;
		if (apply) {
			/* the records were checked (apply == false) before */
			while (nahead < SUM_AHEAD && ahead < w->f.rec_bytes) {
				struct obj_hdr ah;
				uint32_t aoff;
				int an = summary_rec_decode(p + ahead, w->f.rec_bytes - ahead, &ah,
							    &aoff);
				uint64_t hash;

				if (an < 0)
					break;
				hash = index_key_fp(&c->ix, p + ahead + SUM_REC_SIZE, ah.klen);
				index_prefetch(&c->ix, hash);
				hashes[(nobj + nahead++) % SUM_AHEAD] = hash;
				ahead += (uint64_t)an;
			}
			w->off = off;
			ret = scan_apply(c, w, &h, p + used + SUM_REC_SIZE,
					 nahead ? hashes[nobj % SUM_AHEAD] :
						  index_key_fp(&c->ix, p + used + SUM_REC_SIZE,
							       h.klen));
			nahead -= !!nahead;
			if (ret) {
				scan_fail(w, ret);
				return false;
			}
		}
		off += obj_extent(h.klen, h.vlen, h.flags, lba);
		last_seq = h.seq;
		used += (uint64_t)n;
		nobj++;
	}
	return nobj == w->f.nrec && off == w->f.used && last_seq == w->f.last_seq &&
	       off + sum_region(w->f.rec_bytes, lba) <= d->sb.segment_bytes;
}

static void summary_done(struct io_cmd *cmd, int res)
{
	struct walker *w = cmd->arg;
	struct fdpkv_cache *c = w->scan->c;

	if (res < 0 || crc32c(0, w->sum, w->f.rec_bytes) != w->f.rec_crc || !summary_walk(w, false)) {
		walk_chain(w);
		return;
	}
	cache_lock(c);
	summary_walk(w, true);
	if (w->f.seg_seq > c->seq)
		c->seq = w->f.seg_seq;
	cache_unlock(c);
	w->nobj = w->f.nrec;
	w->seg_seq = w->f.seg_seq;
	w->last_seq = w->f.last_seq;
	w->off = w->f.used;
	w->cls = w->head.cls;
	walk_next_segment(w);
}

/*
 * The first header: a summary is trusted only for the segment's use it
 * names (seg_seq), and only while that use's chain still starts (reclaim.c
 * deallocates or wipes the first LBA before the rest).
 */
static void head_done(struct io_cmd *cmd, int res)
{
	struct walker *w = cmd->arg;
	struct devctx *d = w->d;
	uint64_t len = sum_region(w->f.rec_bytes, d->sb.lba_size);

	if (res < 0 || obj_decode(w->buf, cmd->len, &w->head) ||
	    !obj_chain_ok(&w->head, 0, 0, 0, 0, d->uuid64, w->scan->c->nclasses,
			  d->sb.segment_bytes, d->sb.lba_size) ||
	    w->head.seg_seq != w->f.seg_seq) {
		walk_chain(w);
		return;
	}
	memcpy(w->head_key, (uint8_t *)w->buf + OBJ_HDR_SIZE, w->head.klen);
	if (len > w->sum_cap) {
		free(w->sum);
		w->sum_cap = 0;
		if (posix_memalign(&w->sum, 4096, len)) {
			w->sum = NULL;
			walk_chain(w);
			return;
		}
		w->sum_cap = len;
	}
	w->phase = W_SUMMARY;
	walk_io(w, d->sb.segment_bytes - len, len, w->sum, summary_done);
}

/*
 * The first pass: what the footers announce sizes the index, so that the
 * scan does not rehash it on the way (every growth walks every entry). A
 * hint only: footers not yet trusted count too, at most one segment's worth
 * of LBAs each.
 */
static void count_done(struct io_cmd *cmd, int res)
{
	struct walker *w = cmd->arg;
	struct devctx *d = w->d;
	struct sum_footer f;

	if (res >= 0 && !summary_footer_decode((uint8_t *)w->buf + d->sb.lba_size -
					       SUM_FOOTER_SIZE, &f) &&
	    f.uuid64 == d->uuid64 && f.nrec <= d->sb.segment_bytes / d->sb.lba_size) {
		pthread_mutex_lock(&w->scan->lock);
		w->scan->hint += f.nrec;
		pthread_mutex_unlock(&w->scan->lock);
	}
	walk_next_segment(w);
}

static void footer_done(struct io_cmd *cmd, int res)
{
	struct walker *w = cmd->arg;
	struct devctx *d = w->d;
	uint32_t lba = d->sb.lba_size;
	const struct sum_footer *f = &w->f;

	if (res < 0 ||
	    summary_footer_decode((uint8_t *)w->buf + lba - SUM_FOOTER_SIZE, &w->f) ||
	    !summary_footer_plausible(d, f)) {
		walk_chain(w);
		return;
	}
	w->phase = W_HEAD;
	walk_io(w, 0, MIN((uint64_t)ALIGN_UP(WALK_BUF, lba), d->sb.segment_bytes), w->buf,
		head_done);
}

/* A segment's walk begins at its end: a summary there saves reading every header. */
static void walk_start(struct walker *w)
{
	uint32_t lba = w->d->sb.lba_size;

	w->phase = W_FOOTER;
	w->off = 0;
	w->nobj = 0;
	w->seg_seq = w->last_seq = 0;
	walk_io(w, w->d->sb.segment_bytes - lba, lba, w->buf,
		w->scan->counting ? count_done : footer_done);
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

/* An entry to link, with its offset beside it: sorting reads no entry. */
struct link_item {
	uint32_t off_lba;
	struct index_entry *e;
};

struct link_ctx {
	struct fdpkv_cache *c;
	size_t base[FDPKV_MAX_DEVICES];	/* first slot of each device's segments */
	size_t *pos;			/* per segment: next free place in v */
	size_t *end;			/* per segment: where its places end */
	struct link_item *v;
};

/* Delete records leave the index; every other entry takes its place. */
static int link_gather(void *arg, struct index_entry *e)
{
	struct link_ctx *l = arg;
	size_t s;

	if (e->flags & IDX_F_TOMBSTONE) {
		index_remove(&l->c->ix, e);
		return 0;
	}
	s = l->base[e->dev] + e->seg;
	if (l->pos[s] == l->end[s])
		return -EUCLEAN;
	l->v[l->pos[s]++] = (struct link_item){ e->off_lba, e };
	return 0;
}

static int by_offset(const void *a, const void *b)
{
	const struct link_item *x = a, *y = b;

	return x->off_lba < y->off_lba ? -1 : x->off_lba > y->off_lba;
}

#define RADIX_BITS	11
#define RADIX_MASK	((1u << RADIX_BITS) - 1)

/*
 * Sort one segment's @n items by offset: a segment holds up to tens of
 * thousands, so an LSD radix sort over 11-bit digits (two passes while
 * offsets stay below 2^22 LBAs) beats a comparison sort; @tmp has room for
 * @n.
 */
static void sort_by_offset(struct link_item *v, struct link_item *tmp, size_t n)
{
	struct link_item *from = v, *to = tmp, *t;
	uint32_t max = 0;
	unsigned int shift;
	size_t i;

	if (n < 256) {
		qsort(v, n, sizeof(*v), by_offset);
		return;
	}
	for (i = 0; i < n; i++)
		max = MAX(max, v[i].off_lba);
	for (shift = 0; shift < 32 && (max >> shift); shift += RADIX_BITS) {
		size_t cnt[1u << RADIX_BITS] = { 0 }, sum = 0, c;

		for (i = 0; i < n; i++)
			cnt[(from[i].off_lba >> shift) & RADIX_MASK]++;
		for (i = 0; i <= RADIX_MASK; i++) {
			c = cnt[i];
			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			to[cnt[(from[i].off_lba >> shift) & RADIX_MASK]++] = from[i];
		t = from;
		from = to;
		to = t;
	}
	if (from != v)
		memcpy(v, from, n * sizeof(*v));
}

/*
 * After the scan: drop the delete records from the index and link every
 * other entry into its segment, oldest at the tail as commits would have.
 * One pass over the index: each segment's share of the array is its
 * live_objs, which the scan kept. cache->lock held. 0, -ENOMEM or -EUCLEAN
 * (the counts disagree: a bug, reported rather than linked wrong).
 */
static int link_entries(struct fdpkv_cache *c)
{
	struct link_ctx l = { .c = c };
	size_t nseg = 0, i, j, from = 0, total = 0, most = 1;
	struct link_item *tmp = NULL;
	unsigned int d;
	int ret;

	for (d = 0; d < c->ndev; d++) {
		l.base[d] = nseg;
		nseg += c->devs[d].segs.n;
	}
	l.pos = malloc(MAX(nseg, (size_t)1) * sizeof(*l.pos));
	l.end = malloc(MAX(nseg, (size_t)1) * sizeof(*l.end));
	for (d = 0; l.pos && l.end && d < c->ndev; d++) {
		for (i = 0; i < c->devs[d].segs.n; i++) {
			l.pos[l.base[d] + i] = total;
			total += c->devs[d].segs.segs[i].live_objs;
			l.end[l.base[d] + i] = total;
			most = MAX(most, (size_t)c->devs[d].segs.segs[i].live_objs);
		}
	}
	l.v = malloc(MAX(total, (size_t)1) * sizeof(*l.v));
	tmp = malloc(most * sizeof(*tmp));
	if (!l.pos || !l.end || !l.v || !tmp) {
		ret = -ENOMEM;
		goto out;
	}
	ret = index_foreach(&c->ix, link_gather, &l);
	for (i = 0; !ret && i < nseg; i++)
		if (l.pos[i] != l.end[i])
			ret = -EUCLEAN;
	if (ret)
		goto out;
	for (d = 0; d < c->ndev; d++) {
		for (i = 0; i < c->devs[d].segs.n; i++) {
			size_t to = l.end[l.base[d] + i];
			struct segment *sg = &c->devs[d].segs.segs[i];

			sort_by_offset(l.v + from, tmp, to - from);
			for (j = from; j < to; j++)
				seg_link(&c->ix, sg, l.v[j].e);
			from = to;
		}
	}
out:
	free(l.pos);
	free(l.end);
	free(l.v);
	free(tmp);
	return ret;
}

/* Walk every segment of every device, @nw walkers at a time; the scan's error. */
static int run_walkers(struct scan *scan, struct walker *ws, unsigned int nw)
{
	struct fdpkv_cache *c = scan->c;
	unsigned int i, k = 0;
	int ret;

	/* start every walker before any can finish and read scan->active */
	scan->active = nw;
	for (i = 0; i < c->ndev; i++) {
		struct devctx *d = &c->devs[i];
		unsigned int j, n = MIN(MAX(c->cfg.queue_depth, 1u), d->segs.n);

		scan->next_seg[i] = n;
		for (j = 0; j < n; j++, k++) {
			ws[k].d = d;
			ws[k].scan = scan;
			ws[k].seg = j;
			ws[k].win = d->sb.lba_size;
			walk_start(&ws[k]);
		}
	}
	pthread_mutex_lock(&scan->lock);
	while (scan->active)
		pthread_cond_wait(&scan->cond, &scan->lock);
	ret = scan->err;
	pthread_mutex_unlock(&scan->lock);
	return ret;
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
	scan.counting = true;
	run_walkers(&scan, ws, nw);
	cache_lock(c);
	index_reserve(&c->ix, MIN(scan.hint, (uint64_t)SIZE_MAX));
	cache_unlock(c);
	scan.counting = false;
	ret = run_walkers(&scan, ws, nw);
	/* the walkers are done and nothing else runs yet: reads may block */
	torn_settle(c);
	cache_lock(c);
	if (!ret)
		ret = link_entries(c);
	for (i = 0; i < c->ndev; i++) {
		segs_rebuild_free(&c->devs[i].segs);
		prune_pending(&c->devs[i].segs);
	}
	cache_unlock(c);
	if (ret == -EUCLEAN)
		fdpkv_seterr(err, errlen, "recovery: segment object counts disagree with the index "
			     "(a library bug; fdpkvctl fsck can say more)");
	else if (ret)
		fdpkv_seterr(err, errlen, "recovery: %s", strerror(-ret));
out:
	for (k = 0; k < nw; k++) {
		free(ws[k].buf);
		free(ws[k].sum);
	}
	free(ws);
	pthread_mutex_destroy(&scan.lock);
	pthread_cond_destroy(&scan.cond);
	return ret;
}
