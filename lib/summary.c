// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * summary.c - segment summaries: what recovery would find by walking a
 * sealed segment's header chain, written once into the segment's tail, so
 * that a restart reads one summary per segment instead of one header per
 * object (lib/FORMAT.md: "Segment summary").
 *
 * A record is appended as each write commits, in offset order (write.c
 * acknowledges in that order), for every object the write put on the device
 * whether or not the index keeps it: the summary stands for the chain, not
 * for the index. When the segment is sealed and nothing of it is in flight
 * any more, the device is flushed (durability fua: every object is durable
 * already) and the summary written behind it, through the class's placement
 * id, into the room segs_reserve kept: a summary is never on the device
 * before the objects it names are. The writes count as the segment's, so the
 * segment is not evicted and the class's next segment does not start (gate.c)
 * until it is down.
 *
 * Any doubt drops the summary and recovery walks the headers as before: a
 * failed write to the segment, no memory, a failed flush or write.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

struct sum_req {
	struct devctx *d;
	uint32_t seg;
	struct io_cmd cmd;
};


/*
 *   record: 0 seq u64 | 8 vlen u64 | 16 off_lba u32 | 20 vcrc u32
 *          24 flags u16 | 26 klen u16 | 28 class u8 | 29 rsvd[3] | 32 key
 */
static void rec_encode(uint8_t *p, const struct obj_hdr *h, uint32_t off_lba, const void *key)
{
	memset(p, 0, SUM_REC_SIZE);
	le_put64(p + 0, h->seq);
	le_put64(p + 8, h->vlen);
	le_put32(p + 16, off_lba);
	le_put32(p + 20, h->vcrc);
	le_put16(p + 24, h->flags);
	le_put16(p + 26, (uint16_t)h->klen);
	p[28] = h->cls;
	memcpy(p + SUM_REC_SIZE, key, h->klen);
}

int summary_rec_decode(const uint8_t *p, size_t len, struct obj_hdr *h, uint32_t *off_lba)
{
	memset(h, 0, sizeof(*h));
	if (len < SUM_REC_SIZE)
		return -EBADMSG;
	h->seq = le_get64(p + 0);
	h->vlen = le_get64(p + 8);
	*off_lba = le_get32(p + 16);
	h->vcrc = le_get32(p + 20);
	h->flags = le_get16(p + 24);
	h->klen = le_get16(p + 26);
	h->cls = p[28];
	if (!h->klen || h->klen > FDPKV_KEY_MAX || len - SUM_REC_SIZE < h->klen)
		return -EBADMSG;
	return SUM_REC_SIZE + (int)h->klen;
}

/*
 *   footer: 0 magic u32 | 4 version u16 | 6 rsvd u16 | 8 nrec u32
 *          12 rec_crc u32 | 16 rec_bytes u64 | 24 seg_seq u64 | 32 uuid64 u64
 *          40 used u64 | 48 last_seq u64 | 56 crc u32 | 60 rsvd u32
 */
static void footer_encode(uint8_t *p, const struct sum_footer *f)
{
	memset(p, 0, SUM_FOOTER_SIZE);
	le_put32(p + 0, SUM_MAGIC);
	le_put16(p + 4, OBJ_VERSION);
	le_put32(p + 8, f->nrec);
	le_put32(p + 12, f->rec_crc);
	le_put64(p + 16, f->rec_bytes);
	le_put64(p + 24, f->seg_seq);
	le_put64(p + 32, f->uuid64);
	le_put64(p + 40, f->used);
	le_put64(p + 48, f->last_seq);
	le_put32(p + 56, crc32c(0, p, 56));
}

int summary_footer_decode(const uint8_t *p, struct sum_footer *f)
{
	memset(f, 0, sizeof(*f));
	if (le_get32(p) != SUM_MAGIC || le_get16(p + 4) != OBJ_VERSION ||
	    le_get32(p + 56) != crc32c(0, p, 56))
		return -EBADMSG;
	f->nrec = le_get32(p + 8);
	f->rec_crc = le_get32(p + 12);
	f->rec_bytes = le_get64(p + 16);
	f->seg_seq = le_get64(p + 24);
	f->uuid64 = le_get64(p + 32);
	f->used = le_get64(p + 40);
	f->last_seq = le_get64(p + 48);
	return 0;
}

bool summary_footer_plausible(const struct devctx *d, const struct sum_footer *f)
{
	uint64_t seg_bytes = d->sb.segment_bytes;

	return f->uuid64 == d->uuid64 && f->nrec && f->rec_bytes / f->nrec > SUM_REC_SIZE &&
	       f->rec_bytes <= seg_bytes && f->used <= seg_bytes &&
	       sum_region(f->rec_bytes, d->sb.lba_size) <= seg_bytes - f->used;
}

void summary_drop(struct segment *sg)
{
	if (sg->sum_state == SUM_COLLECT)
		sg->sum_state = SUM_NONE;
	segs_sum_free(sg);
}

/* Room for @need record bytes and the footer. cache->lock held; false on ENOMEM. */
static bool sum_grow(struct devctx *d, struct segment *sg, uint64_t need)
{
	uint64_t cap = sum_region(need, d->segs.sum_lba);
	void *p;

	if (cap <= sg->sum_cap)
		return true;
	/* doubling: a few allocations per segment, never one per object */
	cap = MAX(cap, MIN(2 * sg->sum_cap, sum_region(sg->sum_reserved, d->segs.sum_lba)));
	if (posix_memalign(&p, STAGING_ALIGN, cap))
		return false;
	if (sg->sum_len)
		memcpy(p, sg->sum_buf, sg->sum_len);
	free(sg->sum_buf);
	sg->sum_buf = p;
	sg->sum_cap = cap;
	return true;
}

void summary_add(struct devctx *d, struct segment *sg, const struct key_req *kr)
{
	uint64_t rec = SUM_REC_SIZE + (uint64_t)kr->klen;
	struct obj_hdr h = {
		.flags = kr->flags, .cls = kr->cls, .klen = kr->klen,
		.vlen = kr->vlen, .seq = kr->seq, .vcrc = kr->vcrc,
	};

	if (sg->sum_state != SUM_COLLECT)
		return;
	/* the room segs_reserve kept is the bound; past it the tail is not ours */
	if (sg->sum_len + rec > sg->sum_reserved || !sum_grow(d, sg, sg->sum_len + rec)) {
		summary_drop(sg);
		return;
	}
	rec_encode(sg->sum_buf + sg->sum_len, &h, (uint32_t)(kr->off / d->sb.lba_size), kr->key);
	sg->sum_crc = crc32c(sg->sum_crc, sg->sum_buf + sg->sum_len, rec);
	sg->sum_len += rec;
	sg->sum_nrec++;
}

static void sum_finish(struct sum_req *sr, bool written)
{
	struct devctx *d = sr->d;
	struct fdpkv_cache *c = d->cache;
	struct segment *sg;

	cache_lock(c);
	sg = &d->segs.segs[sr->seg];
	sg->sum_state = written ? SUM_WRITTEN : SUM_NONE;
	segs_sum_free(sg);
	if (!--sg->writes)
		gate_release(d);
	cache_unlock(c);
	if (written)
		atomic_fetch_add(&c->st.summaries_written, 1);
	free(sr);
}

static void sum_written(struct io_cmd *cmd, int res)
{
	struct sum_req *sr = cmd->arg;

	if (res < 0)
		atomic_fetch_add(&sr->d->cache->st.io_errors, 1);
	sum_finish(sr, res >= 0);
}

/* The summary's bytes, at the end of its segment. */
static void sum_write(struct sum_req *sr)
{
	struct devctx *d = sr->d;
	struct segment *sg = &d->segs.segs[sr->seg];
	uint64_t len = sum_region(sg->sum_len, d->segs.sum_lba);

	/* through the class's placement id: its bytes, as the device counts them */
	atomic_fetch_add(&d->cache->st.class_bytes[sg->cls], len);
	sr->cmd = (struct io_cmd){
		.op = IO_WRITE,
		.pid = d->sb.class_pid[sg->cls],
		.off = seg_base(d, sr->seg) + d->sb.segment_bytes - len,
		.len = len,
		.buf = sg->sum_buf,
		.done = sum_written,
		.arg = sr,
	};
	engine_submit(d->eng, &sr->cmd);
}

static void sum_flushed(struct io_cmd *cmd, int res)
{
	struct sum_req *sr = cmd->arg;

	if (res < 0) {
		atomic_fetch_add(&sr->d->cache->st.io_errors, 1);
		sum_finish(sr, false);
		return;
	}
	/* the segment is pinned (writes): its buffer and state stay put */
	sum_write(sr);
}

void summary_kick(struct devctx *d, uint32_t seg)
{
	struct fdpkv_cache *c = d->cache;
	struct segment *sg = &d->segs.segs[seg];
	struct sum_footer f;
	struct sum_req *sr;
	uint64_t len;

	if (sg->state != SEG_SEALED || sg->writes || sg->sum_state != SUM_COLLECT)
		return;
	/* every reserved object must have committed its record */
	if (sg->broken || !sg->sum_nrec || sg->sum_len != sg->sum_reserved ||
	    !sum_grow(d, sg, sg->sum_len)) {
		summary_drop(sg);
		return;
	}
	sr = malloc(sizeof(*sr));
	if (!sr) {
		summary_drop(sg);
		return;
	}
	len = sum_region(sg->sum_len, d->segs.sum_lba);
	memset(sg->sum_buf + sg->sum_len, 0, len - sg->sum_len);
	f = (struct sum_footer){
		.nrec = sg->sum_nrec,
		.rec_crc = sg->sum_crc,
		.rec_bytes = sg->sum_len,
		.seg_seq = sg->open_seq,
		.uuid64 = d->uuid64,
		.used = sg->used,
		.last_seq = sg->last_seq,
	};
	footer_encode(sg->sum_buf + len - SUM_FOOTER_SIZE, &f);
	sr->d = d;
	sr->seg = seg;
	sg->sum_state = SUM_WRITING;
	sg->writes++;
	if (c->cfg.durability == FDPKV_DURABILITY_FUA) {
		sum_write(sr);
		return;
	}
	sr->cmd = (struct io_cmd){ .op = IO_FLUSH, .done = sum_flushed, .arg = sr };
	engine_submit(d->eng, &sr->cmd);
}
