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

/* The bucket @name, created if @create; NULL when absent or out of memory. */
static struct bucket_usage *bucket_get(struct fdpkv_cache *c, const char *name, bool create)
{
	size_t len = strlen(name);
	uint64_t h = kv_hash(name, len);
	struct bucket_usage *b;

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
	free(b);
}

/*
 * Count (sign 1) or uncount (-1) a live entry. Called with cache->lock held.
 * An entry whose bucket could not be created (out of memory) is marked
 * IDX_F_NOBUCKET and left out of every bucket when it goes too: else a
 * bucket created later for the same salt would lose what it never counted.
 */
void usage_add(struct fdpkv_cache *c, struct index_entry *e, int64_t sign)
{
	struct bucket_usage *b = NULL;
	char name[132];

	placement_bucket(e->key, e->klen, c->devs[0].sb.salt_separator, name, sizeof(name));
	if (sign > 0 || !(e->flags & IDX_F_NOBUCKET))
		b = bucket_get(c, name, sign > 0);
	if (sign > 0) {
		c->bytes_used += e->vlen;
		c->objects++;
		if (b) {
			e->flags &= (uint8_t)~IDX_F_NOBUCKET;
			b->bytes += e->vlen;
			b->objects++;
		} else {
			e->flags |= IDX_F_NOBUCKET;
		}
	} else {
		c->bytes_used -= e->vlen;
		c->objects--;
		if (b) {
			b->bytes -= e->vlen;
			if (--b->objects == 0)
				bucket_remove(c, b);
		}
	}
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
}
