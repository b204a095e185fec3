// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * index.c - the in-memory key -> location table: 40 bytes per key plus a
 * 4-byte bucket per one to two keys, whatever the key's length. Not locked
 * here: the cache lock protects the table.
 *
 * Memory holds a key's 64-bit fingerprint, not the key; the object header
 * on the device holds the key, and every read compares it (read.c), as
 * CacheLib's Navy does. So two keys with one fingerprint and length (and
 * device: key_dev) are one key here: a SET of the second replaces the first, as an overwrite would,
 * and a GET of the first then finds the second's header and misses. Data is
 * never another key's; the cost of a collision is a lost entry, which a
 * cache may always lose (bench/README.md, "Compact index", has the
 * numbers). The fingerprint is seeded with a secret of the cache's (its
 * random uuid), so nobody who cannot read the device can choose keys that
 * collide, and the same one at every open: recovery must group versions as
 * the run that wrote them did, or a delete record naming one key of a pair
 * would no longer hide the other's older version.
 *
 * Entries are allocated by id from one range of addresses reserved at init
 * (PROT_NONE, no memory behind it) and made usable as the ids in use reach
 * it, so an entry never moves and an id turns into a pointer by an add.
 * Removed ids are reused; the memory follows the most keys held at once.
 * Buckets are ids too, doubled at two entries per bucket.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define INDEX_BUCKETS_MIN	1024
#define INDEX_LOAD		2		/* entries per bucket before doubling */
#define INDEX_GROW_BYTES	(2u << 20)	/* made usable at a time, at least */
#define INDEX_CAP_MIN		(1u << 16)	/* ids worth reserving addresses for */

static size_t heap_bytes(const void *p)
{
	/* what malloc really hands out, plus its chunk header */
	return malloc_usable_size((void *)p) + sizeof(size_t);
}

static size_t page_round(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

int index_init(struct index *ix, uint64_t max_entries, unsigned int fp_bits, uint64_t seed)
{
	void *p;

	if (fp_bits < 1 || fp_bits > 64)
		return -EINVAL;
	memset(ix, 0, sizeof(*ix));
	ix->cap = MIN(MAX(max_entries, 1ull), (uint64_t)INDEX_ID_MAX) + 1;	/* + id 0 */
	for (;;) {
		/* addresses only: no memory is committed to PROT_NONE */
		p = mmap(NULL, page_round(ix->cap * sizeof(struct index_entry)), PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p != MAP_FAILED)
			break;
		/* an address-space limit (ulimit -v): fewer keys, not none */
		if (ix->cap <= INDEX_CAP_MIN)
			return -ENOMEM;
		ix->cap /= 2;
	}
	ix->base = p;
	ix->buckets = calloc(INDEX_BUCKETS_MIN, sizeof(*ix->buckets));
	if (!ix->buckets) {
		munmap(p, page_round(ix->cap * sizeof(struct index_entry)));
		return -ENOMEM;
	}
	ix->nbuckets = INDEX_BUCKETS_MIN;
	ix->bytes = heap_bytes(ix->buckets);
	ix->top = 1;		/* id 0 means none */
	ix->seed = seed;
	ix->fp_mask = fp_bits == 64 ? ~0ull : (1ull << fp_bits) - 1;
	ix->ndev = 1;
	return 0;
}

void index_destroy(struct index *ix)
{
	if (!ix->base)
		return;
	munmap(ix->base, page_round(ix->cap * sizeof(struct index_entry)));
	free(ix->buckets);
	memset(ix, 0, sizeof(*ix));
}

uint64_t index_key_fp(const struct index *ix, const void *key, uint32_t klen)
{
	/* kv_hash's fixed seed is public: fold the table's into the key */
	return kv_hash_seeded(ix->seed, key, klen) & ix->fp_mask;
}

static size_t slot_of(const struct index *ix, uint64_t fp)
{
	/* the high bits as well: a test's few fingerprint bits still spread */
	return (fp ^ fp >> 29) & (ix->nbuckets - 1);
}

static struct index_entry *find_fp(const struct index *ix, uint64_t fp, uint32_t klen,
				   unsigned int dev)
{
	uint32_t id = ix->buckets[slot_of(ix, fp)];

	while (id) {
		struct index_entry *e = ix->base + id;

		if (e->fp == fp && e->klen == klen && e->dev == dev)
			return e;
		id = e->next;
	}
	return NULL;
}

struct index_entry *index_find(const struct index *ix, const void *key, uint32_t klen)
{
	return find_fp(ix, index_key_fp(ix, key, klen), klen, key_dev(key, klen, ix->ndev));
}

/* Rehash into @n buckets (a power of two); on ENOMEM keep the longer chains. */
static void index_resize(struct index *ix, size_t n)
{
	uint32_t *nb = calloc(n, sizeof(*nb));
	size_t old = ix->bytes - heap_bytes(ix->buckets), i;
	struct index t = { .nbuckets = n };

	if (!nb)
		return;
	for (i = 0; i < ix->nbuckets; i++) {
		uint32_t id = ix->buckets[i], next;

		for (; id; id = next) {
			struct index_entry *e = ix->base + id;
			size_t s = slot_of(&t, e->fp);

			next = e->next;
			e->next = nb[s];
			nb[s] = id;
		}
	}
	free(ix->buckets);
	ix->buckets = nb;
	ix->nbuckets = n;
	ix->bytes = old + heap_bytes(nb);
}

void index_reserve(struct index *ix, size_t count)
{
	size_t n = ix->nbuckets;

	while (n * INDEX_LOAD < count && n <= SIZE_MAX / 4 / sizeof(*ix->buckets))
		n <<= 1;
	if (n > ix->nbuckets)
		index_resize(ix, n);
}

/* Make ids up to @id usable: false when the range or memory ran out. */
static bool map_upto(struct index *ix, uint64_t id)
{
	size_t have = ix->mapped_bytes, want;

	if (id < ix->mapped)
		return true;
	if (id >= ix->cap)
		return false;
	/* an eighth more at a time: few calls, little memory ahead of need */
	want = page_round(MAX((size_t)(id + 1) * sizeof(struct index_entry),
			      have + MAX(have / 8, (size_t)INDEX_GROW_BYTES)));
	want = MIN(want, page_round(ix->cap * sizeof(struct index_entry)));
	if (mprotect((uint8_t *)ix->base + have, want - have, PROT_READ | PROT_WRITE))
		return false;
	ix->bytes += want - have;
	ix->mapped_bytes = want;
	ix->mapped = MIN(want / sizeof(struct index_entry), ix->cap);
	return true;
}

static struct index_entry *entry_alloc(struct index *ix)
{
	struct index_entry *e;
	uint32_t id = ix->free;

	if (id) {
		e = ix->base + id;
		ix->free = e->next;
	} else {
		if (ix->top > INDEX_ID_MAX || !map_upto(ix, ix->top))
			return NULL;
		e = ix->base + ix->top++;
	}
	memset(e, 0, sizeof(*e));
	return e;
}

/* A new entry of @fp at the head of its bucket. */
static struct index_entry *entry_add(struct index *ix, uint64_t fp, uint32_t klen,
				     unsigned int dev)
{
	struct index_entry *e = entry_alloc(ix);
	size_t s;

	if (!e)
		return NULL;
	e->fp = fp;
	e->klen = klen;
	e->dev = dev;
	s = slot_of(ix, fp);
	e->next = ix->buckets[s];
	ix->buckets[s] = index_id(ix, e);
	ix->count++;
	return e;
}

static void grow_if_loaded(struct index *ix)
{
	if (ix->count >= ix->nbuckets * INDEX_LOAD)
		index_resize(ix, ix->nbuckets * 2);
}

struct index_entry *index_insert(struct index *ix, const void *key, uint32_t klen)
{
	grow_if_loaded(ix);
	return entry_add(ix, index_key_fp(ix, key, klen), klen, key_dev(key, klen, ix->ndev));
}

void index_prefetch(const struct index *ix, uint64_t fp)
{
	__builtin_prefetch(&ix->buckets[slot_of(ix, fp)], 1);
}

struct index_entry *index_find_or_insert(struct index *ix, uint64_t fp, uint32_t klen,
					 unsigned int dev, bool *added)
{
	struct index_entry *e;

	grow_if_loaded(ix);
	e = find_fp(ix, fp, klen, dev);
	*added = !e;
	return e ? e : entry_add(ix, fp, klen, dev);
}

void index_remove(struct index *ix, struct index_entry *e)
{
	uint32_t id = index_id(ix, e), *pp = &ix->buckets[slot_of(ix, e->fp)];

	for (; *pp; pp = &ix->base[*pp].next) {
		if (*pp == id) {
			*pp = e->next;
			ix->count--;
			memset(e, 0, sizeof(*e));
			e->next = ix->free;
			ix->free = id;
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
		uint32_t id = ix->buckets[i], next;

		for (; id; id = next) {
			next = ix->base[id].next;	/* fn may remove it */
			ret = fn(arg, ix->base + id);
			if (ret)
				return ret;
		}
	}
	return 0;
}
