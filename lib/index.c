// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * index.c - the in-memory key -> location table: chained hashing with a
 * power-of-two bucket array that doubles at load factor 1. Entries carry the
 * key inline (one allocation per key). Not locked here: the cache lock
 * protects the table.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

uint64_t index_entry_fp(const struct index_entry *e)
{
	return kv_hash(e->key, e->klen);
}

size_t index_entry_bytes(uint32_t klen)
{
	return sizeof(struct index_entry) + klen;
}

static size_t heap_bytes(const struct index_entry *e)
{
	/* what malloc really hands out, plus its chunk header */
	return malloc_usable_size((void *)e) + sizeof(size_t);
}

int index_init(struct index *ix, size_t hint)
{
	size_t n = 1024;

	while (n < hint)
		n <<= 1;
	memset(ix, 0, sizeof(*ix));
	ix->buckets = calloc(n, sizeof(*ix->buckets));
	if (!ix->buckets)
		return -ENOMEM;
	ix->nbuckets = n;
	ix->bytes = n * sizeof(*ix->buckets);
	return 0;
}

void index_destroy(struct index *ix)
{
	size_t i;

	if (!ix->buckets)
		return;
	for (i = 0; i < ix->nbuckets; i++) {
		struct index_entry *e = ix->buckets[i], *n;

		for (; e; e = n) {
			n = e->next;
			free(e);
		}
	}
	free(ix->buckets);
	memset(ix, 0, sizeof(*ix));
}

static size_t slot_of_hash(const struct index *ix, uint64_t hash)
{
	return hash & (ix->nbuckets - 1);
}

static size_t slot_of(const struct index *ix, const void *key, uint32_t klen)
{
	return slot_of_hash(ix, kv_hash(key, klen));
}

/* @key's entry in bucket @s, or NULL. */
static struct index_entry *bucket_find(const struct index *ix, size_t s, const void *key,
				       uint32_t klen)
{
	struct index_entry *e = ix->buckets[s];

	for (; e; e = e->next)
		if (e->klen == klen && !memcmp(e->key, key, klen))
			return e;
	return NULL;
}

struct index_entry *index_find(const struct index *ix, const void *key, uint32_t klen)
{
	return bucket_find(ix, slot_of(ix, key, klen), key, klen);
}

/* Rehash into @n buckets (a power of two); on ENOMEM keep the longer chains. */
static void index_resize(struct index *ix, size_t n)
{
	struct index_entry **nb = calloc(n, sizeof(*nb));
	size_t i;

	if (!nb)
		return;
	for (i = 0; i < ix->nbuckets; i++) {
		struct index_entry *e = ix->buckets[i], *next;

		for (; e; e = next) {
			size_t s = kv_hash(e->key, e->klen) & (n - 1);

			next = e->next;
			e->next = nb[s];
			nb[s] = e;
		}
	}
	ix->bytes += (n - ix->nbuckets) * sizeof(*nb);
	free(ix->buckets);
	ix->buckets = nb;
	ix->nbuckets = n;
}

static void index_grow(struct index *ix)
{
	index_resize(ix, ix->nbuckets * 2);
}

void index_reserve(struct index *ix, size_t count)
{
	size_t n = ix->nbuckets;

	while (n < count && n <= SIZE_MAX / 2 / sizeof(*ix->buckets))
		n <<= 1;
	if (n > ix->nbuckets)
		index_resize(ix, n);
}

/* A new entry for @key at the head of bucket @s. */
static struct index_entry *entry_add(struct index *ix, size_t s, const void *key, uint32_t klen)
{
	struct index_entry *e = calloc(1, index_entry_bytes(klen));

	if (!e)
		return NULL;
	memcpy(e->key, key, klen);
	e->klen = (uint16_t)klen;
	e->next = ix->buckets[s];
	ix->buckets[s] = e;
	ix->count++;
	ix->bytes += heap_bytes(e);
	return e;
}

struct index_entry *index_insert(struct index *ix, const void *key, uint32_t klen)
{
	if (ix->count >= ix->nbuckets)
		index_grow(ix);
	return entry_add(ix, slot_of(ix, key, klen), key, klen);
}

void index_prefetch(const struct index *ix, uint64_t hash)
{
	__builtin_prefetch(&ix->buckets[slot_of_hash(ix, hash)], 1);
}

struct index_entry *index_find_or_insert(struct index *ix, const void *key, uint32_t klen,
					 uint64_t hash, bool *added)
{
	struct index_entry *e;
	size_t s;

	/* grow first, so that the slot found stays the slot to insert at */
	if (ix->count >= ix->nbuckets)
		index_grow(ix);
	s = slot_of_hash(ix, hash);
	e = bucket_find(ix, s, key, klen);
	*added = !e;
	return e ? e : entry_add(ix, s, key, klen);
}

void index_remove(struct index *ix, struct index_entry *e)
{
	struct index_entry **pp = &ix->buckets[slot_of(ix, e->key, e->klen)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			ix->count--;
			ix->bytes -= heap_bytes(e);
			free(e);
			return;
		}
	}
}

bool index_lock(struct index_entry *e)
{
	if (e->lock == UINT16_MAX)
		return false;
	e->lock++;
	return true;
}

bool index_unlock(struct index_entry *e)
{
	if (e->lock == 0)
		return false;
	return --e->lock == 0;
}

int index_foreach(const struct index *ix, int (*fn)(void *arg, struct index_entry *e), void *arg)
{
	size_t i;
	int ret;

	for (i = 0; i < ix->nbuckets; i++) {
		struct index_entry *e = ix->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;	/* fn may remove e */
			ret = fn(arg, e);
			if (ret)
				return ret;
		}
	}
	return 0;
}
