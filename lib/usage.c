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

static struct bucket_usage *bucket_get(struct fdpkv_cache *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nbuckets; i++)
		if (!strcmp(c->buckets[i].name, name))
			return &c->buckets[i];
	if (c->nbuckets == c->bucket_cap) {
		size_t cap = c->bucket_cap ? c->bucket_cap * 2 : 8;
		struct bucket_usage *b = realloc(c->buckets, cap * sizeof(*b));

		if (!b)
			return NULL;
		c->buckets = b;
		c->bucket_cap = cap;
	}
	memset(&c->buckets[c->nbuckets], 0, sizeof(c->buckets[0]));
	snprintf(c->buckets[c->nbuckets].name, sizeof(c->buckets[0].name), "%s", name);
	return &c->buckets[c->nbuckets++];
}

/* Count (sign 1) or uncount (-1) a live entry. Called with cache->lock held. */
void usage_add(struct fdpkv_cache *c, const struct index_entry *e, int64_t sign)
{
	struct bucket_usage *b;
	char name[132];

	placement_bucket(e->key, e->klen, c->devs[0].sb.salt_separator, name, sizeof(name));
	b = bucket_get(c, name);
	if (sign > 0) {
		c->bytes_used += e->vlen;
		c->objects++;
		if (b) {
			b->bytes += e->vlen;
			b->objects++;
		}
	} else {
		c->bytes_used -= e->vlen;
		c->objects--;
		if (b) {
			b->bytes -= e->vlen;
			b->objects--;
		}
	}
}
