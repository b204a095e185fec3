// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pending.c - the writes of one device that are reserved and not yet
 * committed, found by key.
 *
 * Eviction asks, for every entry it drops or copies, whether a write of the
 * same key is in flight (a copy must not overtake it, a hiding duty passes
 * to it). Walking every segment's write FIFO for that made eviction
 * O(entries x writes in flight) under the cache lock: with a segment of
 * carried delete records queued, one submit that evicted spent seconds in
 * memcmp (issue 12). A chained hash by key makes each question O(1). The
 * segment FIFOs stay what orders commits; this only indexes them.
 * cache->lock protects it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define PEND_BUCKETS_MIN	1024u

int pend_init(struct pend_tab *t, const struct index *ix)
{
	t->ix = ix;
	t->nbuckets = PEND_BUCKETS_MIN;
	t->count = 0;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

void pend_destroy(struct pend_tab *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = 0;
	t->count = 0;
}

static struct key_req **pend_slot(const struct pend_tab *t, uint32_t hash)
{
	return &t->buckets[hash & (t->nbuckets - 1)];
}

/* Double the buckets at load factor 2; on ENOMEM keep the longer chains. */
static void pend_grow(struct pend_tab *t)
{
	uint32_t n = t->nbuckets * 2, i;
	struct key_req **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		struct key_req *kr = t->buckets[i], *next;

		for (; kr; kr = next) {
			next = kr->pend_next;
			kr->pend_next = nb[kr->pend_hash & (n - 1)];
			nb[kr->pend_hash & (n - 1)] = kr;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
}

void pend_add(struct pend_tab *t, struct key_req *kr)
{
	struct key_req **pp;

	if (t->count >= 2ull * t->nbuckets)
		pend_grow(t);
	kr->pend_hash = (uint32_t)index_key_fp(t->ix, kr->key, kr->klen);
	pp = pend_slot(t, kr->pend_hash);
	kr->pend_next = *pp;
	*pp = kr;
	t->count++;
}

void pend_del(struct pend_tab *t, struct key_req *kr)
{
	struct key_req **pp = pend_slot(t, kr->pend_hash);

	for (; *pp; pp = &(*pp)->pend_next) {
		if (*pp == kr) {
			*pp = kr->pend_next;
			kr->pend_next = NULL;
			t->count--;
			return;
		}
	}
}

bool pend_has_fp(const struct pend_tab *t, uint64_t fp, uint32_t klen)
{
	const struct key_req *kr = *pend_slot(t, (uint32_t)fp);

	for (; kr; kr = kr->pend_next)
		if (kr->pend_hash == (uint32_t)fp && kr->klen == klen)
			return true;
	return false;
}

struct key_req *pend_find(const struct pend_tab *t, const struct key_req *after,
			  const void *key, uint32_t klen)
{
	uint64_t fp = index_key_fp(t->ix, key, klen);
	struct key_req *kr;

	/* by fingerprint, as the index and recovery tell keys apart */
	kr = after ? after->pend_next : *pend_slot(t, (uint32_t)fp);
	for (; kr; kr = kr->pend_next)
		if (kr->klen == klen && kr->pend_hash == (uint32_t)fp &&
		    index_key_fp(t->ix, kr->key, kr->klen) == fp)
			return kr;
	return NULL;
}
