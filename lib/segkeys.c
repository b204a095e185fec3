// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * segkeys.c - the keys of a segment's objects, read back for its eviction.
 *
 * Evicting a segment names keys: the eviction report (fdpkv_take_evicted),
 * the delete record carried for an entry that hides an older version, the
 * re-insert copy. The compact index (issue 12: a fingerprint per entry, the
 * key on the device only, as CacheLib's Navy keeps it) cannot take them from
 * memory, so the evictor reads them once per segment, before its first
 * batch and without the cache lock, from where the device already has them:
 *
 *   - the summary still being collected or written (sum_buf), in memory;
 *   - the summary in the segment's tail (lib/FORMAT.md), one read, trusted
 *     when its footer names this use of the segment (seg_seq) and its
 *     records' crc holds;
 *   - else the header chain, walked as recovery walks it, windows of
 *     SK_WIN bytes (one read per header for objects larger than that).
 *
 * The result is the segment's objects in offset order, so a key is found by
 * the entry's offset. A segment whose keys could not be read (an I/O error,
 * no memory, a chain that ends early) has no table or a short one; the
 * caller falls back (evict.c: evicted_key).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define SK_WIN		(1u << 20)	/* header walk: bytes per read */

struct seg_key {
	uint32_t off_lba;
	uint32_t koff;			/* into seg_keys.keys */
	uint16_t klen;
};

struct seg_keys {
	uint32_t n, cap;
	struct seg_key *v;		/* offset order */
	uint8_t *keys;
	size_t kused, kcap;
	enum segkeys_source source;
};

static struct seg_keys *sk_new(enum segkeys_source source)
{
	struct seg_keys *k = calloc(1, sizeof(*k));

	if (k)
		k->source = source;
	return k;
}

void segkeys_free(struct seg_keys *k)
{
	if (!k)
		return;
	free(k->v);
	free(k->keys);
	free(k);
}

/* Append the key of the object at @off_lba; offsets must grow. */
static int sk_push(struct seg_keys *k, uint32_t off_lba, const uint8_t *key, uint32_t klen)
{
	if (k->n && off_lba <= k->v[k->n - 1].off_lba)
		return -EBADMSG;
	if (k->n == k->cap) {
		uint32_t cap = k->cap ? 2 * k->cap : 64;
		struct seg_key *v = realloc(k->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	if (k->kused + klen > k->kcap) {
		size_t cap = MAX(2 * k->kcap, k->kused + klen + 4096);
		uint8_t *p = realloc(k->keys, cap);

		if (!p)
			return -ENOMEM;
		k->keys = p;
		k->kcap = cap;
	}
	memcpy(k->keys + k->kused, key, klen);
	k->v[k->n++] = (struct seg_key){ .off_lba = off_lba, .koff = (uint32_t)k->kused,
					 .klen = (uint16_t)klen };
	k->kused += klen;
	return 0;
}

/* The objects (not delete records) of @len bytes of summary records. */
static int sk_from_records(struct seg_keys *k, const uint8_t *p, uint64_t len)
{
	uint64_t used = 0;

	while (used < len) {
		struct obj_hdr h;
		uint32_t off_lba;
		int n = summary_rec_decode(p + used, len - used, &h, &off_lba);
		int ret;

		if (n < 0)
			return n;
		if (!(h.flags & OBJ_F_TOMBSTONE)) {
			ret = sk_push(k, off_lba, p + used + SUM_REC_SIZE, h.klen);
			if (ret)
				return ret;
		}
		used += (uint64_t)n;
	}
	return 0;
}

struct seg_keys *segkeys_from_memory(const struct segment *sg)
{
	struct seg_keys *k;

	if (!sg->sum_buf || !sg->sum_len || !(k = sk_new(SEGKEYS_MEMORY)))
		return NULL;
	if (sk_from_records(k, sg->sum_buf, sg->sum_len)) {
		segkeys_free(k);
		return NULL;
	}
	return k;
}

/* From the summary in the segment's tail: NULL when there is none to trust. */
static struct seg_keys *sk_from_summary(struct devctx *d, uint32_t s, uint64_t seg_seq)
{
	uint32_t lba = d->sb.lba_size;
	uint64_t seg_bytes = d->sb.segment_bytes, base = seg_base(d, s), len;
	struct seg_keys *k = NULL;
	struct sum_footer f;
	uint8_t *buf;

	if (posix_memalign((void **)&buf, STAGING_ALIGN, lba))
		return NULL;
	if (engine_io_sync(d->eng, IO_READ, base + seg_bytes - lba, lba, buf, 0) ||
	    summary_footer_decode(buf + lba - SUM_FOOTER_SIZE, &f) || f.seg_seq != seg_seq ||
	    !summary_footer_plausible(d, &f)) {
		free(buf);
		return NULL;
	}
	free(buf);
	len = sum_region(f.rec_bytes, lba);
	if (posix_memalign((void **)&buf, STAGING_ALIGN, len))
		return NULL;
	if (!engine_io_sync(d->eng, IO_READ, base + seg_bytes - len, len, buf, 0) &&
	    crc32c(0, buf, f.rec_bytes) == f.rec_crc && (k = sk_new(SEGKEYS_SUMMARY)) &&
	    (sk_from_records(k, buf, f.rec_bytes) || k->n > f.nrec)) {
		segkeys_free(k);
		k = NULL;
	}
	free(buf);
	return k;
}

/* A read window over the segment for the header walk. */
struct sk_win {
	struct devctx *d;
	uint64_t base, used;		/* segment start; bytes its chain may span */
	uint8_t *buf;
	uint64_t off, len;		/* segment bytes held in buf */
};

/*
 * @len bytes at segment offset @off, read if not held: a window of SK_WIN
 * bytes, or of @len rounded to LBAs when @len reaches past where a small
 * object's header would be (the previous object was large: its value is
 * not read). NULL on a read error.
 */
static const uint8_t *sk_at(struct sk_win *w, uint64_t off, uint64_t len, bool small)
{
	uint32_t lba = w->d->sb.lba_size;
	uint64_t start = off / lba * lba, want;

	if (w->len && off >= w->off && off + len <= w->off + w->len)
		return w->buf + (off - w->off);
	want = small ? SK_WIN : ALIGN_UP(off + len, (uint64_t)lba) - start;
	want = MIN(MAX(want, ALIGN_UP(off + len, (uint64_t)lba) - start), w->used - start);
	w->len = 0;
	if (engine_io_sync(w->d->eng, IO_READ, w->base + start, want, w->buf, 0))
		return NULL;
	w->off = start;
	w->len = want;
	return w->buf + (off - start);
}

/* From the header chain, as recovery walks it. */
static struct seg_keys *sk_from_headers(struct devctx *d, uint32_t s, uint64_t seg_seq,
					uint64_t used)
{
	uint32_t lba = d->sb.lba_size;
	struct sk_win w = { .d = d, .base = seg_base(d, s), .used = used };
	uint64_t off = 0, last_seq = 0, prev = 0;
	struct seg_keys *k = sk_new(SEGKEYS_HEADERS);
	uint32_t nobj = 0;

	if (!k || posix_memalign((void **)&w.buf, STAGING_ALIGN,
				 SK_WIN + ALIGN_UP(OBJ_HDR_SIZE + FDPKV_KEY_MAX, lba))) {
		segkeys_free(k);
		return NULL;
	}
	while (off + lba <= used) {
		uint64_t hlen = MIN((uint64_t)lba, used - off);
		bool small = prev <= SK_WIN / 4;
		const uint8_t *p = sk_at(&w, off, hlen, small);
		struct obj_hdr h;
		int ret;

		if (!p)
			break;
		ret = obj_decode(p, hlen, &h);
		if (ret == -ENODATA && h.klen &&
		    off + ALIGN_UP(OBJ_HDR_SIZE + h.klen, lba) <= used) {
			hlen = ALIGN_UP(OBJ_HDR_SIZE + h.klen, lba);
			p = sk_at(&w, off, hlen, small);
			ret = p ? obj_decode(p, hlen, &h) : -EIO;
		}
		if (ret || h.seg_seq != seg_seq ||
		    !obj_chain_ok(&h, off, nobj, seg_seq, last_seq, d->uuid64, d->cache->nclasses,
				  d->sb.segment_bytes, lba))
			break;
		if (!(h.flags & OBJ_F_TOMBSTONE) &&
		    sk_push(k, (uint32_t)(off / lba), p + OBJ_HDR_SIZE, h.klen))
			break;
		nobj++;
		last_seq = h.seq;
		prev = obj_extent(h.klen, h.vlen, h.flags, lba);
		off += prev;
	}
	free(w.buf);
	return k;
}

struct seg_keys *segkeys_read(struct devctx *d, uint32_t s, uint64_t seg_seq, uint64_t used)
{
	struct seg_keys *k = sk_from_summary(d, s, seg_seq);

	return k ? k : sk_from_headers(d, s, seg_seq, used);
}

const uint8_t *segkeys_find(const struct seg_keys *k, uint32_t off_lba, uint32_t *klen)
{
	uint32_t lo = 0, hi;

	if (!k)
		return NULL;
	hi = k->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (k->v[mid].off_lba < off_lba)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == k->n || k->v[lo].off_lba != off_lba)
		return NULL;
	*klen = k->v[lo].klen;
	return k->keys + k->v[lo].koff;
}

const uint8_t *segkeys_at(const struct seg_keys *k, uint32_t i, uint32_t *off_lba,
			  uint32_t *klen)
{
	*off_lba = k->v[i].off_lba;
	*klen = k->v[i].klen;
	return k->keys + k->v[i].koff;
}

uint32_t segkeys_count(const struct seg_keys *k)
{
	return k ? k->n : 0;
}

enum segkeys_source segkeys_source(const struct seg_keys *k)
{
	return k ? k->source : SEGKEYS_NONE;
}

void segkeys_attach(struct devctx *d, uint32_t s)
{
	struct fdpkv_cache *c = d->cache;
	struct segment *sg = &d->segs.segs[s];
	struct seg_keys *k;
	uint64_t seg_seq, used;

	/* nothing of this eviction names a key: no entry left, or no report,
	 * no copy and no delete record to carry for one */
	if (sg->keys || !sg->entries ||
	    (!c->cfg.report_evicted && !c->cfg.reinsert && !sg->shadows))
		return;
	k = segkeys_from_memory(sg);
	if (!k) {
		/* evicting: not deallocated, nothing appended, until the steps end */
		seg_seq = sg->open_seq;
		used = sg->used;
		cache_unlock(c);
		k = segkeys_read(d, s, seg_seq, used);
		cache_lock_after_waiters(c);
	}
	sg->keys = k;
}
