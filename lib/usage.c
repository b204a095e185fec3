// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * usage.c - what is stored: bytes and objects in all, and per salt bucket
 * (fdpkv_usage and fdpkv_usage_by_bucket in stats.c report them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

/* ---- usage --------------------------------------------------------------- */

/*
 * Buckets live in a hash table (vLLM may give every user or request its own
 * salt: tens of thousands of buckets, looked up on every commit and drop
 * under the cache lock), and a bucket that empties is freed, so the table
 * holds only salts with live objects. bench/bench_salts measures it.
 */
#define BUCKET_SLOTS_MIN	64

static bool buckets_grow(struct fdpkv_cache *c)
{
	size_t slots = c->bucket_slots ? c->bucket_slots * 2 : BUCKET_SLOTS_MIN, i;
	struct bucket_usage **t = calloc(slots, sizeof(*t)), *b, *next;

	if (!t)
		return false;
	for (i = 0; i < c->bucket_slots; i++) {
		for (b = c->buckets[i]; b; b = next) {
			next = b->next;
			b->next = t[b->hash & (slots - 1)];
			t[b->hash & (slots - 1)] = b;
		}
	}
	free(c->buckets);
	c->buckets = t;
	c->bucket_slots = slots;
	return true;
}

/*
 * Entries name their bucket by a 16-bit id (struct index_entry: ubucket),
 * not by their key: the compact index will not keep keys in memory. Ids of
 * removed buckets are reused. Past BUCKET_IDS_MAX live buckets a new salt
 * gets none and its entries are counted in the totals only, as when a
 * bucket cannot be allocated.
 */
#define BUCKET_IDS_MAX	UINT16_MAX

static uint16_t bucket_id_take(struct fdpkv_cache *c)
{
	if (c->bucket_id_nfree)
		return c->bucket_id_free[--c->bucket_id_nfree];
	if (!c->bucket_id_next)
		c->bucket_id_next = 1;		/* 0 names no bucket */
	if (c->bucket_id_next > BUCKET_IDS_MAX)
		return 0;
	if (c->bucket_id_next >= c->bucket_id_cap) {
		uint32_t cap = c->bucket_id_cap ? 2 * c->bucket_id_cap : 64;
		struct bucket_usage **t = realloc(c->bucket_by_id, cap * sizeof(*t));
		uint16_t *f;

		if (!t)
			return 0;
		c->bucket_by_id = t;
		f = realloc(c->bucket_id_free, cap * sizeof(*f));
		if (!f)
			return 0;
		c->bucket_id_free = f;
		c->bucket_id_cap = cap;
	}
	return (uint16_t)c->bucket_id_next++;
}

/* The bucket @name, created if @create; NULL when absent or out of memory. */
static struct bucket_usage *bucket_get(struct fdpkv_cache *c, const char *name, bool create)
{
	size_t len = strlen(name);
	uint64_t h = kv_hash(name, len);
	struct bucket_usage *b;
	uint16_t id;

	if (c->bucket_slots)
		for (b = c->buckets[h & (c->bucket_slots - 1)]; b; b = b->next)
			if (b->hash == h && !strcmp(b->name, name))
				return b;
	if (!create)
		return NULL;
	if (c->nbuckets >= c->bucket_slots && !buckets_grow(c) && !c->bucket_slots)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	id = bucket_id_take(c);
	if (!id) {
		free(b);
		return NULL;
	}
	b->id = id;
	c->bucket_by_id[id] = b;
	b->hash = h;
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->next = c->buckets[h & (c->bucket_slots - 1)];
	c->buckets[h & (c->bucket_slots - 1)] = b;
	c->nbuckets++;
	return b;
}

static void bucket_remove(struct fdpkv_cache *c, struct bucket_usage *b)
{
	struct bucket_usage **pp = &c->buckets[b->hash & (c->bucket_slots - 1)];

	while (*pp != b)
		pp = &(*pp)->next;
	*pp = b->next;
	c->nbuckets--;
	c->bucket_by_id[b->id] = NULL;
	c->bucket_id_free[c->bucket_id_nfree++] = b->id;	/* room: one per id taken */
	free(b);
}

/*
 * Count a live entry, in the totals and in its salt bucket. An entry whose
 * bucket could not be created (out of memory, or out of ids) is marked
 * IDX_F_NOBUCKET and left out of every bucket when it goes too: else a
 * bucket created later for the same salt would lose what it never counted.
 * cache->lock held.
 */
void usage_count(struct fdpkv_cache *c, struct index_entry *e, const void *key, uint32_t klen)
{
	struct bucket_usage *b;
	char name[132];

	placement_bucket(key, klen, c->devs[0].sb.salt_separator, name, sizeof(name));
	b = bucket_get(c, name, true);
	c->bytes_used += e->vlen;
	c->objects++;
	if (b) {
		e->flags &= (uint8_t)~IDX_F_NOBUCKET;
		e->ubucket = b->id;
		b->bytes += e->vlen;
		b->objects++;
	} else {
		e->flags |= IDX_F_NOBUCKET;
		e->ubucket = 0;
	}
}

/* Uncount a live entry counted by usage_count(). cache->lock held. */
void usage_uncount(struct fdpkv_cache *c, struct index_entry *e)
{
	struct bucket_usage *b = NULL;

	if (!(e->flags & IDX_F_NOBUCKET) && e->ubucket && e->ubucket < c->bucket_id_next)
		b = c->bucket_by_id[e->ubucket];
	c->bytes_used -= e->vlen;
	c->objects--;
	if (b) {
		b->bytes -= e->vlen;
		if (--b->objects == 0)
			bucket_remove(c, b);
	}
}

/* After a fingerprint collision the other key's salt may differ: its bytes
 * then count in this key's bucket, a statistic off, never an answer. */
void usage_resize(struct fdpkv_cache *c, struct index_entry *e, uint64_t old_vlen)
{
	struct bucket_usage *b = NULL;

	if (!(e->flags & IDX_F_NOBUCKET) && e->ubucket && e->ubucket < c->bucket_id_next)
		b = c->bucket_by_id[e->ubucket];
	c->bytes_used += e->vlen - old_vlen;
	if (b)
		b->bytes += e->vlen - old_vlen;
}

void usage_free(struct fdpkv_cache *c)
{
	struct bucket_usage *b, *next;
	size_t i;

	for (i = 0; i < c->bucket_slots; i++)
		for (b = c->buckets[i]; b; b = next) {
			next = b->next;
			free(b);
		}
	free(c->buckets);
	c->buckets = NULL;
	c->bucket_slots = c->nbuckets = 0;
	free(c->bucket_by_id);
	free(c->bucket_id_free);
	c->bucket_by_id = NULL;
	c->bucket_id_free = NULL;
	c->bucket_id_next = c->bucket_id_cap = c->bucket_id_nfree = 0;
}
