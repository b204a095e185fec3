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
 * the list of its versions (in a table beside the index, found by entry
 * id); after the scan, for each such key the newest version
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

/* A key the scan met in more than one version, and those versions. */
struct torn_key {
	struct index_entry *e;
	struct torn_ver *vers;
};

/* The slot of entry @id in @map (@n slots): its own, or the empty one it
 * would take. The map holds 1 + the key's place in c->torn_keys. */
static size_t torn_slot(const struct fdpkv_cache *c, const uint32_t *map, size_t n, uint32_t id)
{
	size_t i = (id * 0x9e3779b1u) & (n - 1);

	while (map[i] && index_id(&c->ix, c->torn_keys[map[i] - 1].e) != id)
		i = (i + 1) & (n - 1);
	return i;
}

/* Room for more keys: the table doubled, the map rebuilt at twice that. */
static int torn_grow(struct fdpkv_cache *c)
{
	size_t cap = c->torn_cap ? 2 * c->torn_cap : 64, k;
	struct torn_key *v = realloc(c->torn_keys, cap * sizeof(*v));
	uint32_t *map;

	if (!v)
		return -ENOMEM;
	c->torn_keys = v;
	map = calloc(2 * cap, sizeof(*map));
	if (!map)
		return -ENOMEM;
	for (k = 0; k < c->ntorn; k++)
		map[torn_slot(c, map, 2 * cap, index_id(&c->ix, v[k].e))] = (uint32_t)k + 1;
	free(c->torn_map);
	c->torn_map = map;
	c->torn_map_n = 2 * cap;
	c->torn_cap = cap;
	return 0;
}

/*
 * @e's versions in the cache's table of keys met twice, found by entry id
 * (the entry has no room for a pointer while the scan uses it): NULL when
 * @e has none and @add is false, or on ENOMEM.
 */
static struct torn_key *torn_key_of(struct fdpkv_cache *c, struct index_entry *e, bool add)
{
	uint32_t id = index_id(&c->ix, e);
	size_t i;

	if (c->torn_map_n) {
		i = torn_slot(c, c->torn_map, c->torn_map_n, id);
		if (c->torn_map[i])
			return &c->torn_keys[c->torn_map[i] - 1];
	}
	if (!add || (c->ntorn == c->torn_cap && torn_grow(c)))
		return NULL;
	i = torn_slot(c, c->torn_map, c->torn_map_n, id);
	c->torn_keys[c->ntorn] = (struct torn_key){ .e = e };
	c->torn_map[i] = (uint32_t)++c->ntorn;
	return &c->torn_keys[c->ntorn - 1];
}

static int ver_push(struct torn_key *k, uint64_t seq, uint64_t vlen, uint8_t dev,
		    uint32_t seg, uint32_t off_lba, uint8_t flags)
{
	struct torn_ver *v = malloc(sizeof(*v));

	if (!v)
		return -ENOMEM;
	*v = (struct torn_ver){ .seq = seq, .vlen = vlen, .seg = seg, .off_lba = off_lba,
				.dev = dev, .flags = flags & (IDX_F_TOMBSTONE | IDX_F_ALIGNED) };
	v->next = k->vers;
	k->vers = v;
	return 0;
}

int torn_note_version(struct fdpkv_cache *c, struct index_entry *e, const struct obj_hdr *h,
		      uint8_t dev, uint32_t seg, uint32_t off_lba)
{
	struct torn_key *k = torn_key_of(c, e, false);
	int ret = 0;

	/* the first version met is the entry itself; settling visits only these */
	if (!k) {
		k = torn_key_of(c, e, true);
		if (!k)
			return -ENOMEM;
		ret = ver_push(k, e->scan_seq, e->vlen, (uint8_t)e->dev, e->seg, e->off_lba,
			       (uint8_t)e->flags);
	}
	if (!ret)
		ret = ver_push(k, h->seq, h->vlen, dev, seg, off_lba,
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
	       index_key_fp(&c->ix, p + OBJ_HDR_SIZE, h.klen) == index_entry_fp(e) &&
	       crc32c(0, p + obj_value_off(e->klen, of, lba), v->vlen) == h.vcrc;
}

/* A key's version list, newest first, detached from it. */
static struct torn_ver *ver_take_sorted(struct torn_key *k)
{
	struct torn_ver *in = k->vers, *out = NULL, *v, **pp;

	k->vers = NULL;
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
	uint64_t torn_vlen = e->vlen;
	bool shadow = false;

	old->live_objs--;
	old->live_bytes -= e->vlen;
	if (v->flags & IDX_F_TOMBSTONE)
		usage_uncount(c, e);
	e->scan_seq = v->seq;
	e->vlen = v->vlen;
	e->dev = v->dev;
	e->seg = v->seg;
	e->off_lba = v->off_lba;
	/* an older data version below it must stay hidden when it goes */
	for (o = older; o; o = o->next)
		shadow |= !(o->flags & IDX_F_TOMBSTONE);
	e->flags = v->flags | (shadow && !(v->flags & IDX_F_TOMBSTONE) ? IDX_F_SHADOW : 0) |
		   (e->flags & IDX_F_NOBUCKET);
	if (!(e->flags & IDX_F_TOMBSTONE)) {
		struct segment *sg = &c->devs[e->dev].segs.segs[e->seg];

		sg->live_objs++;
		sg->live_bytes += e->vlen;
		/* the older version is the same key's: the same salt bucket */
		usage_resize(c, e, torn_vlen);
	}
}

struct torn_ctx {
	struct fdpkv_cache *c;
	void *buf;
	size_t cap;
	uint64_t demoted;
};

static void settle_entry(struct torn_ctx *t, struct torn_key *k)
{
	struct index_entry *e = k->e;
	struct torn_ver *list, *v, *next;

	list = ver_take_sorted(k);
	if (!list)
		return;		/* the scan ran out of memory before its first version */
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
		settle_entry(&t, &c->torn_keys[i]);
	free(c->torn_keys);
	free(c->torn_map);
	c->torn_keys = NULL;
	c->torn_map = NULL;
	c->ntorn = c->torn_cap = c->torn_map_n = 0;
	free(t.buf);
	return t.demoted;
}
