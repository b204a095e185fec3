// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * stats.c - usage, per-bucket usage, key listing, evicted keys, statistics.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

FDPKV_PUBLIC int fdpkv_usage(struct fdpkv_cache *c, struct fdpkv_usage *u)
{
	unsigned int i;

	if (!c || !u)
		return -EINVAL;
	memset(u, 0, sizeof(*u));
	cache_lock(c);
	u->bytes_used = c->bytes_used;
	u->objects = c->objects;
	cache_unlock(c);
	for (i = 0; i < c->ndev; i++) {
		const struct superblock *sb = &c->devs[i].sb;
		/* what stays usable: the free-segment reserve and one open segment
		 * per class are never filled with live data at the same time */
		uint64_t reserve = c->cfg.free_segments_low + 1;

		if (sb->nsegments > reserve)
			u->bytes_capacity += (sb->nsegments - reserve) * sb->segment_bytes;
	}
	return 0;
}

FDPKV_PUBLIC int fdpkv_usage_by_bucket(struct fdpkv_cache *c,
				       int (*fn)(void *arg, const char *bucket, uint64_t bytes),
				       void *arg)
{
	struct bucket_usage *copy, *b;
	size_t n = 0, i;
	int ret = 0;

	if (!c || !fn)
		return -EINVAL;
	/* copied so that @fn runs without the cache lock */
	cache_lock(c);
	copy = malloc(MAX(c->nbuckets, (size_t)1) * sizeof(*copy));
	for (i = 0; copy && i < c->bucket_slots; i++)
		for (b = c->buckets[i]; b; b = b->next)
			copy[n++] = *b;
	cache_unlock(c);
	if (!copy)
		return -ENOMEM;
	for (i = 0; i < n && !ret; i++)
		ret = fn(arg, copy[i].name, copy[i].bytes);
	free(copy);
	return ret;
}

/* A key found live in a segment, kept for the callback outside the lock. */
struct found_key {
	struct found_key *next;
	uint64_t vlen;
	uint32_t klen;
	uint8_t key[];
};

/*
 * The live keys of segment @s of @d, oldest first. Memory holds no keys, so
 * they come from the segment's summary in memory, or else from the device
 * (segkeys.c) read without the lock while a readers count keeps the segment
 * from being deallocated; a key counts when the index still places it at
 * the offset it was read from. -ENOMEM, or 0 with *@out set.
 */
static int segment_keys(struct fdpkv_cache *c, struct devctx *d, uint32_t s,
			struct found_key **out)
{
	struct segment *sg = &d->segs.segs[s];
	struct found_key *head = NULL, **tail = &head;
	struct seg_keys *k;
	uint32_t i, n;
	int ret = 0;

	*out = NULL;
	cache_lock(c);
	if (!sg->entries) {
		cache_unlock(c);
		return 0;
	}
	k = segkeys_from_memory(sg);
	if (!k) {
		uint64_t seg_seq = sg->open_seq, used = sg->used;

		sg->readers++;
		cache_unlock(c);
		k = segkeys_read(d, s, seg_seq, used);
		cache_lock(c);
		if (!--sg->readers)
			seg_released(d, s);
	}
	n = segkeys_count(k);
	for (i = 0; i < n && !ret; i++) {
		uint32_t off_lba, klen;
		const uint8_t *key = segkeys_at(k, i, &off_lba, &klen);
		struct index_entry *e = index_find(&c->ix, key, klen);
		struct found_key *f;

		if (!e || e->dev != d->idx || e->seg != s || e->off_lba != off_lba)
			continue;	/* replaced, deleted or evicted since */
		f = malloc(sizeof(*f) + klen);
		if (!f) {
			ret = -ENOMEM;
			break;
		}
		f->next = NULL;
		f->vlen = e->vlen;
		f->klen = klen;
		memcpy(f->key, key, klen);
		*tail = f;
		tail = &f->next;
	}
	cache_unlock(c);
	segkeys_free(k);
	*out = head;
	return ret;
}

static void found_free(struct found_key *f)
{
	struct found_key *next;

	for (; f; f = next) {
		next = f->next;
		free(f);
	}
}

FDPKV_PUBLIC int fdpkv_foreach_key(struct fdpkv_cache *c,
				   int (*fn)(void *arg, const void *key, uint32_t klen, uint64_t vlen),
				   void *arg)
{
	unsigned int dev;
	uint32_t s;
	int ret = 0;

	if (!c || !fn)
		return -EINVAL;
	for (dev = 0; dev < c->ndev && !ret; dev++) {
		struct devctx *d = &c->devs[dev];

		for (s = 0; s < d->segs.n && !ret; s++) {
			struct found_key *list, *f;

			ret = segment_keys(c, d, s, &list);
			for (f = list; f && !ret; f = f->next)
				ret = fn(arg, f->key, f->klen, f->vlen);
			found_free(list);
		}
	}
	return ret;
}

FDPKV_PUBLIC int fdpkv_take_evicted(struct fdpkv_cache *c,
				    void (*fn)(void *arg, const void *key, uint32_t klen, uint64_t vlen),
				    void *arg)
{
	struct evicted *ev, *next;
	int n = 0;

	if (!c)
		return -EINVAL;
	cache_lock(c);
	ev = c->ev_head;
	c->ev_head = c->ev_tail = NULL;
	cache_unlock(c);
	for (; ev; ev = next) {
		next = ev->next;
		if (fn)
			fn(arg, ev->key, ev->klen, ev->vlen);
		free(ev);
		n++;
	}
	return n;
}

/* Everything fdpkv_stats_get() reports, in this library's layout. */
static void stats_fill(struct fdpkv_cache *c, struct fdpkv_stats *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->hits = atomic_load(&c->st.hits);
	s->misses = atomic_load(&c->st.misses);
	s->sets = atomic_load(&c->st.sets);
	s->gets = atomic_load(&c->st.gets);
	s->exists = atomic_load(&c->st.exists);
	s->deletes = atomic_load(&c->st.deletes);
	s->bytes_written = atomic_load(&c->st.bytes_written);
	s->bytes_read = atomic_load(&c->st.bytes_read);
	s->evicted_segments = atomic_load(&c->st.evicted_segments);
	s->evicted_objects = atomic_load(&c->st.evicted_objects);
	s->reinserted_objects = atomic_load(&c->st.reinserted_objects);
	s->io_errors = atomic_load(&c->st.io_errors);
	s->corrupt_objects = atomic_load(&c->st.corrupt_objects);
	s->pad_bytes = atomic_load(&c->st.pad_bytes);
	s->segment_overlaps = atomic_load(&c->st.segment_overlaps);
	s->direct_bytes = atomic_load(&c->st.direct_bytes);
	s->carried_records = atomic_load(&c->st.carried_records);
	s->summaries_written = atomic_load(&c->st.summaries_written);
	s->recovery_summaries = atomic_load(&c->st.recovery_summaries);
	s->recovery_walks = atomic_load(&c->st.recovery_walks);
	cache_lock(c);
	s->inflight_ops = c->inflight_ops;
	for (i = 0; i < c->ndev; i++) {
		s->segments_total += c->devs[i].segs.n;
		s->segments_free += c->devs[i].segs.nfree;
	}
	s->index_entries = c->ix.count;
	s->index_bytes = c->ix.bytes;
	for (i = 0; i < c->ndev; i++) {
		const struct seg_table *t = &c->devs[i].segs;
		unsigned int k;

		for (k = 0; k < c->nclasses && k < FDPKV_MAX_CLASSES; k++)
			if (t->open[k] >= 0)
				s->classes[k].open_segment_bytes += t->segs[t->open[k]].used;
		for (k = 0; k < t->n; k++) {
			s->pending_delete_records += t->segs[k].npending;
			s->shadowing_entries += t->segs[k].shadows;
		}
	}
	cache_unlock(c);
	for (i = 0; i < c->ndev; i++) {
		s->inflight_cmds += engine_inflight(c->devs[i].eng);
		s->fixed_cmds += engine_fixed_cmds(c->devs[i].eng);
	}
	s->nclasses = c->nclasses;
	for (i = 0; i < c->nclasses && i < FDPKV_MAX_CLASSES; i++) {
		s->classes[i].placement_id = c->devs[0].sb.class_pid[i];
		s->classes[i].bytes_written = atomic_load(&c->st.class_bytes[i]);
	}
}

FDPKV_PUBLIC int fdpkv_stats_get(struct fdpkv_cache *c, struct fdpkv_stats *s, size_t size)
{
	struct fdpkv_stats all;

	if (!c || !s || size < offsetof(struct fdpkv_stats, pad_bytes))
		return -EINVAL;
	stats_fill(c, &all);
	/* an older caller's shorter struct gets its fields; a newer one's
	 * fields this library does not know read 0 */
	memcpy(s, &all, MIN(size, sizeof(all)));
	if (size > sizeof(all))
		memset((uint8_t *)s + sizeof(all), 0, size - sizeof(all));
	return 0;
}

FDPKV_PUBLIC int fdpkv_device_stats(struct fdpkv_cache *c, unsigned int dev,
				    struct fdpkv_device_stats *s)
{
	if (!c || !s || dev >= c->ndev)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->host_bytes_written = atomic_load(&c->devs[dev].dev.cnt.host_bytes);
	s->media_bytes_written = atomic_load(&c->devs[dev].dev.cnt.media_bytes);
	s->ru_realigned = atomic_load(&c->devs[dev].dev.cnt.ru_realigned);
	s->segment_bytes = c->devs[dev].sb.segment_bytes;
	s->segments = c->devs[dev].sb.nsegments;
	s->lba_size = c->devs[dev].sb.lba_size;
	s->fixed_buffers = engine_fixed_usable(c->devs[dev].eng);
	s->dlfeat = c->devs[dev].dev.geo.dlfeat;
	/* what the next eviction does: a refused punch turns wiping on */
	s->dealloc_zeroes = !c->devs[dev].wipe && !atomic_load(&c->devs[dev].dev.dealloc_kept);
	s->wipe_placement_id = c->devs[dev].wipe_pid;
	s->wiped_segments = atomic_load(&c->devs[dev].wiped_segments);
	return 0;
}

FDPKV_PUBLIC int fdpkv_placement_report(struct fdpkv_cache *c, unsigned int dev,
					struct fdpkv_placement_report *r)
{
	uint16_t sharing[FDPKV_MAX_CLASSES];
	const struct devctx *d;
	unsigned int i, n;

	if (!c || !r || dev >= c->ndev)
		return -EINVAL;
	d = &c->devs[dev];
	memset(r, 0, sizeof(*r));
	n = MIN(d->sb.nclasses, (uint32_t)FDPKV_MAX_CLASSES);
	r->nclasses = n;
	/* the same test as RU alignment at open: no reclaim units, no placement */
	r->fdp = d->dev.geo.ru_bytes != 0;
	if (!r->fdp)
		return 0;
	r->handles = d->dev.geo.npids;
	r->shared_classes = placement_sharing(d->sb.class_pid, n, sharing, &r->shared_handles);
	for (i = 0; i < n; i++) {
		r->classes[i].placement_id = d->sb.class_pid[i];
		r->classes[i].sharing = sharing[i];
	}
	return 0;
}
