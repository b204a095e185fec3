// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * torn.c - at recovery, a newest version whose value a crash tore must not
 * hide the older version below it.
 *
 * Recovery trusts a header without reading the value (recovery.c). A SET in
 * flight at a power cut (or written but not yet flushed) can land with its
 * header block and without some of its value blocks: its header is valid,
 * so it wins over the key's older version, and the first GET finds the
 * value crc wrong and misses. The older version was acknowledged (durable)
 * and nothing deleted it, so a cache that may lose data would lose data it
 * was told to keep: the rule is that only an unacknowledged write may go.
 *
 * So while the scan runs, every key found in more than one version keeps
 * the list of its versions (hung on the entry's seg_next, unused until the
 * entries are linked); after the scan, for each such key the newest version
 * is read whole and its value crc checked, and while it is damaged the next
 * older one is taken instead, down to a delete record (the key is deleted)
 * or an intact value. A damaged version stays on the device with the higher
 * sequence; every later open finds it damaged again and decides the same.
 * Keys written once cost nothing, so the usual KV-cache workload (keys are
 * content hashes, rarely written twice) keeps recovery a header walk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

/* One version of a key found by the scan. */
struct torn_ver {
	struct torn_ver *next;
	uint64_t seq, vlen;
	uint32_t seg, off_lba;
	uint8_t dev, flags;	/* IDX_F_TOMBSTONE, IDX_F_ALIGNED */
};

static struct torn_ver **ver_list(struct index_entry *e)
{
	return (struct torn_ver **)&e->seg_next;
}

static int ver_push(struct index_entry *e, uint64_t seq, uint64_t vlen, uint8_t dev,
		    uint32_t seg, uint32_t off_lba, uint8_t flags)
{
	struct torn_ver *v = malloc(sizeof(*v));

	if (!v)
		return -ENOMEM;
	*v = (struct torn_ver){ .seq = seq, .vlen = vlen, .seg = seg, .off_lba = off_lba,
				.dev = dev, .flags = flags & (IDX_F_TOMBSTONE | IDX_F_ALIGNED) };
	v->next = *ver_list(e);
	*ver_list(e) = v;
	return 0;
}

int torn_note_version(struct fdpkv_cache *c, struct index_entry *e, const struct obj_hdr *h,
		      uint8_t dev, uint32_t seg, uint32_t off_lba)
{
	int ret = 0;

	/* the first version met is the entry itself; settling visits only these */
	if (!*ver_list(e)) {
		if (c->ntorn == c->torn_cap) {
			size_t cap = c->torn_cap ? 2 * c->torn_cap : 64;
			struct index_entry **v = realloc(c->torn_keys, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			c->torn_keys = v;
			c->torn_cap = cap;
		}
		ret = ver_push(e, e->scan_seq, e->vlen, e->dev, e->seg, e->off_lba, e->flags);
		if (!ret)
			c->torn_keys[c->ntorn++] = e;
	}
	if (!ret)
		ret = ver_push(e, h->seq, h->vlen, dev, seg, off_lba,
			       ((h->flags & OBJ_F_TOMBSTONE) ? IDX_F_TOMBSTONE : 0) |
			       ((h->flags & OBJ_F_ALIGNED) ? IDX_F_ALIGNED : 0));
	return ret;
}

/* Is version @v of @e on the device whole (header, key, value crc)? A read
 * error counts as whole: only a proven tear demotes a version. */
static bool ver_intact(struct fdpkv_cache *c, const struct index_entry *e,
		       const struct torn_ver *v, void **buf, size_t *cap)
{
	struct devctx *d = &c->devs[v->dev];
	uint32_t lba = d->sb.lba_size;
	uint16_t of = (v->flags & IDX_F_ALIGNED) ? OBJ_F_ALIGNED : 0;
	uint64_t size = obj_extent(e->klen, v->vlen, of, lba);
	const uint8_t *p;
	struct obj_hdr h;

	if (size > *cap) {
		free(*buf);
		*cap = 0;
		if (posix_memalign(buf, 4096, size)) {
			*buf = NULL;
			return true;
		}
		*cap = size;
	}
	if (engine_io_sync(d->eng, IO_READ, seg_base(d, v->seg) + (uint64_t)v->off_lba * lba, size,
			   *buf, 0) < 0)
		return true;
	p = *buf;
	/* the version's own key: the fingerprint the entry keeps */
	return obj_decode(p, size, &h) == 0 && h.seq == v->seq && h.klen == e->klen &&
	       kv_hash(p + OBJ_HDR_SIZE, h.klen) == index_entry_fp(e) &&
	       crc32c(0, p + obj_value_off(e->klen, of, lba), v->vlen) == h.vcrc;
}

/* The entry's version list, newest first, detached from the entry. */
static struct torn_ver *ver_take_sorted(struct index_entry *e)
{
	struct torn_ver *in = *ver_list(e), *out = NULL, *v, **pp;

	*ver_list(e) = NULL;
	while ((v = in)) {
		in = v->next;
		for (pp = &out; *pp && (*pp)->seq > v->seq; pp = &(*pp)->next)
			;
		v->next = *pp;
		*pp = v;
	}
	return out;
}

/* Make version @v the entry's winner instead of the torn one it holds. */
static void entry_demote(struct fdpkv_cache *c, struct index_entry *e, const struct torn_ver *v,
			 const struct torn_ver *older)
{
	struct segment *old = &c->devs[e->dev].segs.segs[e->seg];
	const struct torn_ver *o;
	bool shadow = false;

	old->live_objs--;
	old->live_bytes -= e->vlen;
	usage_uncount(c, e);
	e->scan_seq = v->seq;
	e->vlen = v->vlen;
	e->dev = v->dev;
	e->seg = v->seg;
	e->off_lba = v->off_lba;
	/* an older data version below it must stay hidden when it goes */
	for (o = older; o; o = o->next)
		shadow |= !(o->flags & IDX_F_TOMBSTONE);
	e->flags = v->flags | (shadow && !(v->flags & IDX_F_TOMBSTONE) ? IDX_F_SHADOW : 0);
	if (!(e->flags & IDX_F_TOMBSTONE)) {
		struct segment *sg = &c->devs[e->dev].segs.segs[e->seg];

		sg->live_objs++;
		sg->live_bytes += e->vlen;
		/* the older version is the same key's (its fingerprint) */
		usage_count(c, e, e->key, e->klen);
	}
}

struct torn_ctx {
	struct fdpkv_cache *c;
	void *buf;
	size_t cap;
	uint64_t demoted;
};

static void settle_entry(struct torn_ctx *t, struct index_entry *e)
{
	struct torn_ver *list, *v, *next;

	list = ver_take_sorted(e);
	/* the newest is the winner; a delete record wins whole or not at all */
	if (!(list->flags & IDX_F_TOMBSTONE) && !ver_intact(t->c, e, list, &t->buf, &t->cap)) {
		for (v = list->next; v; v = v->next) {
			if ((v->flags & IDX_F_TOMBSTONE) || ver_intact(t->c, e, v, &t->buf, &t->cap)) {
				entry_demote(t->c, e, v, v->next);
				t->demoted++;
				break;
			}
		}
	}
	for (v = list; v; v = next) {
		next = v->next;
		free(v);
	}
}

uint64_t torn_settle(struct fdpkv_cache *c)
{
	struct torn_ctx t = { .c = c };
	size_t i;

	/* entries stay put until the scan is settled: none was removed */
	for (i = 0; i < c->ntorn; i++)
		settle_entry(&t, c->torn_keys[i]);
	free(c->torn_keys);
	c->torn_keys = NULL;
	c->ntorn = c->torn_cap = 0;
	free(t.buf);
	return t.demoted;
}
