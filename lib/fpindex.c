// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fpindex.c - the compact key -> location table: 40 bytes per key plus a
 * 4-byte bucket per two keys, whatever the key's length, because memory
 * holds the key's 64-bit fingerprint and the object header on the device
 * holds the key (as CacheLib's Navy does). Not locked here: the cache lock
 * protects the table.
 *
 * Correctness with fingerprints. The rule that keeps every key exact:
 *
 *   for any (fingerprint, key length) at most one entry is "unkeyed"; every
 *   other entry with that fingerprint and length is "keyed", its full key
 *   in a side map; no two entries belong to the same key.
 *
 * So fpindex_find() is EXACT (a keyed entry with the very key), MAYBE (the
 * one unkeyed entry: the key's, or another key's with the same
 * fingerprint) or MISS. A GET answers MAYBE by reading the object, as it
 * does anyway, and compares the header's key: another key's header is a miss,
 * never its data, and fpindex_learn() then keeps that entry's key so the
 * question is not asked again. Operations that must know before they act
 * (SET, DELETE, recovery's second version of a key) call fpindex_resolve(),
 * which reads the candidate's header through the caller's reader only on
 * MAYBE. A SET of key B that meets key A's unkeyed entry thus learns A's key
 * and adds B beside it: A is never replaced, and both stay found.
 * EXISTS, LOOKUP_LOCK and unlock answer from memory and take MAYBE as
 * present: for a key that is not stored that happens only when an unkeyed
 * entry has its fingerprint and length, probability count / 2^64 per query
 * (5.4e-13 at 10 M entries), and the GET that follows misses; the lock taken
 * then pins another key's segment until that key leaves (no data is wrong).
 *
 * Cost of a collision: nothing is read for a key whose fingerprint no
 * other entry has. When two live keys share one (expected pairs:
 * count^2 / 2^65, 2.7e-6 at 10 M), the first SET, DELETE or recovery that
 * meets the unkeyed one reads one header (one LBA), and from then on the
 * older key costs a side node (16 bytes + key, rounded by malloc) and a key
 * compare per lookup. Removing an entry un-keys a survivor when none of its
 * (fingerprint, length) is unkeyed any more, so keys stay in memory only
 * while a collision lasts. A SET that overwrites a key (same key, unkeyed)
 * also reads the old header once to know it is the same key.
 *
 * Entries are allocated by id from chunks of FPI_CHUNK that never move or
 * shrink (memory follows the high-water mark); removed ids are reused.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define FPI_CHUNK_SHIFT	12	/* 160 KiB chunks: little slack at any size */
#define FPI_CHUNK	(1u << FPI_CHUNK_SHIFT)
#define FPI_MAX_CHUNKS	(1u << (32 - FPI_CHUNK_SHIFT))
#define FPI_BUCKETS_MIN	1024

static size_t node_bytes(const void *p)
{
	/* what malloc really hands out, plus its chunk header */
	return malloc_usable_size((void *)p) + sizeof(size_t);
}

int fpi_set(struct fpi_entry *e, uint32_t dev, uint32_t seg, uint32_t off_lba,
	    uint64_t vlen, uint32_t ubucket)
{
	if (dev > 0xff || seg > FPI_SEG_MAX || vlen > FPI_VLEN_MAX || ubucket > FPI_UBUCKET_MAX)
		return -ERANGE;
	e->devseg = dev << 24 | seg;
	e->off_lba = off_lba;
	e->vlen_lo = (uint32_t)vlen;
	e->vlen_hi = (uint16_t)(vlen >> 32);
	e->ubucket[0] = (uint8_t)ubucket;
	e->ubucket[1] = (uint8_t)(ubucket >> 8);
	e->ubucket[2] = (uint8_t)(ubucket >> 16);
	return 0;
}

/* ---- side maps: id -> key or lock count ------------------------------------ */

static size_t side_slot(const struct fpi_sidemap *m, uint32_t id)
{
	return (id * 0x9e3779b1u) & (m->nb - 1);
}

static struct fpi_side *side_get(const struct fpi_sidemap *m, uint32_t id)
{
	struct fpi_side *s;

	if (!m->nb)
		return NULL;
	for (s = m->b[side_slot(m, id)]; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static int side_grow(struct fpindex *ix, struct fpi_sidemap *m)
{
	size_t n = m->nb ? m->nb * 2 : 16, i;
	struct fpi_side **nb = calloc(n, sizeof(*nb)), *s, *next;
	struct fpi_sidemap t = { .b = nb, .nb = n };

	if (!nb)
		return -ENOMEM;
	for (i = 0; i < m->nb; i++)
		for (s = m->b[i]; s; s = next) {
			size_t k = side_slot(&t, s->id);

			next = s->next;
			s->next = nb[k];
			nb[k] = s;
		}
	if (m->b)
		ix->bytes -= node_bytes(m->b);
	free(m->b);
	m->b = nb;
	m->nb = n;
	ix->bytes += node_bytes(nb);
	return 0;
}

/* A new node for @id (not present) with room for @extra bytes: NULL on ENOMEM. */
static struct fpi_side *side_add(struct fpindex *ix, struct fpi_sidemap *m, uint32_t id,
				 size_t extra)
{
	struct fpi_side *s;
	size_t k;

	if (m->count >= m->nb && side_grow(ix, m) && !m->nb)
		return NULL;
	s = calloc(1, sizeof(*s) + extra);
	if (!s)
		return NULL;
	s->id = id;
	k = side_slot(m, id);
	s->next = m->b[k];
	m->b[k] = s;
	m->count++;
	ix->bytes += node_bytes(s);
	return s;
}

static void side_del(struct fpindex *ix, struct fpi_sidemap *m, uint32_t id)
{
	struct fpi_side **pp;

	if (!m->nb)
		return;
	for (pp = &m->b[side_slot(m, id)]; *pp; pp = &(*pp)->next) {
		struct fpi_side *s = *pp;

		if (s->id == id) {
			*pp = s->next;
			m->count--;
			ix->bytes -= node_bytes(s);
			free(s);
			return;
		}
	}
}

static void side_free(struct fpi_sidemap *m)
{
	size_t i;

	for (i = 0; i < m->nb; i++) {
		struct fpi_side *s = m->b[i], *next;

		for (; s; s = next) {
			next = s->next;
			free(s);
		}
	}
	free(m->b);
	memset(m, 0, sizeof(*m));
}

/* ---- the table ---------------------------------------------------------------- */

int fpindex_init(struct fpindex *ix, unsigned int fp_bits)
{
	if (fp_bits < 1 || fp_bits > 64)
		return -EINVAL;
	memset(ix, 0, sizeof(*ix));
	ix->fp_mask = fp_bits == 64 ? ~0ull : (1ull << fp_bits) - 1;
	ix->buckets = calloc(FPI_BUCKETS_MIN, sizeof(*ix->buckets));
	if (!ix->buckets)
		return -ENOMEM;
	ix->nbuckets = FPI_BUCKETS_MIN;
	ix->bytes = node_bytes(ix->buckets);
	ix->top = 1;		/* id 0 means none */
	return 0;
}

void fpindex_destroy(struct fpindex *ix)
{
	uint32_t i;

	for (i = 0; i < ix->nchunks; i++)
		free(ix->chunks[i]);
	free(ix->chunks);
	free(ix->buckets);
	side_free(&ix->keys);
	side_free(&ix->locks);
	memset(ix, 0, sizeof(*ix));
}

uint64_t fpindex_fp(const struct fpindex *ix, const void *key, uint32_t klen)
{
	return kv_hash(key, klen) & ix->fp_mask;
}

/* an id handed out (0 < id < top) */
static struct fpi_entry *ent(const struct fpindex *ix, uint32_t id)
{
	return &ix->chunks[id >> FPI_CHUNK_SHIFT][id & (FPI_CHUNK - 1)];
}

/* The entry @id (NULL for 0 or an id never handed out). */
struct fpi_entry *fpindex_entry(const struct fpindex *ix, uint32_t id)
{
	if (!id || id >= ix->top)
		return NULL;
	return ent(ix, id);
}

static uint32_t *head_of(const struct fpindex *ix, uint64_t fp)
{
	return &ix->buckets[fp & (ix->nbuckets - 1)];
}

static bool key_is(const struct fpindex *ix, uint32_t id, const void *key, uint32_t klen)
{
	const struct fpi_side *s = side_get(&ix->keys, id);

	return s && s->n == klen && !memcmp(s->key, key, klen);
}

static enum fpi_match find_fp(const struct fpindex *ix, uint64_t fp, const void *key,
			      uint32_t klen, uint32_t *id)
{
	uint32_t i = *head_of(ix, fp), maybe = 0;

	while (i) {
		const struct fpi_entry *e = ent(ix, i);

		if (e->fp == fp && fpi_klen(e) == klen) {
			if (!(e->kl & FPI_KEYED))
				maybe = i;
			else if (key_is(ix, i, key, klen)) {
				*id = i;
				return FPI_EXACT;
			}
		}
		i = e->next;
	}
	*id = maybe;
	return maybe ? FPI_MAYBE : FPI_MISS;
}

enum fpi_match fpindex_find(const struct fpindex *ix, const void *key, uint32_t klen,
			    uint32_t *id)
{
	return find_fp(ix, fpindex_fp(ix, key, klen), key, klen, id);
}

/*
 * Where the key is, exactly: 0 with *id, -ENOENT (absent; a candidate that
 * turned out to be another key's now has that key in memory), or the
 * reader's error with *id the candidate that could not be read (the caller
 * drops it: a damaged object is a miss for whichever key it was).
 */
int fpindex_resolve(struct fpindex *ix, const void *key, uint32_t klen,
		    fpi_key_reader read_key, void *arg, uint32_t *id)
{
	uint8_t *buf;
	int n, ret;

	switch (fpindex_find(ix, key, klen, id)) {
	case FPI_EXACT:
		return 0;
	case FPI_MISS:
		return -ENOENT;
	case FPI_MAYBE:
		break;
	}
	buf = malloc(FDPKV_KEY_MAX);
	if (!buf)
		return -ENOMEM;
	n = read_key(arg, *id, buf);
	if (n < 0) {
		ret = n;
	} else if ((uint32_t)n == klen && !memcmp(buf, key, klen)) {
		ret = 0;
	} else {
		ret = fpindex_learn(ix, *id, buf, (uint32_t)n);
		if (ret == 0)
			ret = -ENOENT;
		else if (ret == -EINVAL)	/* the header's key is not this entry's */
			ret = -EBADMSG;
	}
	free(buf);
	return ret;
}

static void grow_buckets(struct fpindex *ix)
{
	size_t n = ix->nbuckets * 2, s;
	uint32_t *nb = calloc(n, sizeof(*nb));

	if (!nb)
		return;		/* keep the longer chains; still correct */
	for (s = 0; s < ix->nbuckets; s++) {
		uint32_t i = ix->buckets[s], next;

		for (; i; i = next) {
			struct fpi_entry *e = ent(ix, i);
			size_t k = e->fp & (n - 1);

			next = e->next;
			e->next = nb[k];
			nb[k] = i;
		}
	}
	ix->bytes -= node_bytes(ix->buckets);
	free(ix->buckets);
	ix->buckets = nb;
	ix->nbuckets = n;
	ix->bytes += node_bytes(nb);
}

static uint32_t alloc_id(struct fpindex *ix)
{
	uint32_t id = ix->free_head;

	if (id) {
		ix->free_head = ent(ix, id)->next;
		return id;
	}
	if (ix->top == UINT32_MAX)
		return 0;	/* ids are 32 bits */
	if ((ix->top >> FPI_CHUNK_SHIFT) >= ix->nchunks) {
		struct fpi_entry *c;

		if (ix->nchunks == FPI_MAX_CHUNKS)
			return 0;
		if (ix->nchunks == ix->chunk_cap) {
			uint32_t cap = ix->chunk_cap ? ix->chunk_cap * 2 : 16;
			struct fpi_entry **t = realloc(ix->chunks, cap * sizeof(*t));

			if (!t)
				return 0;
			ix->bytes += (cap - ix->chunk_cap) * sizeof(*t);
			ix->chunks = t;
			ix->chunk_cap = cap;
		}
		c = malloc((size_t)FPI_CHUNK * sizeof(*c));
		if (!c)
			return 0;
		ix->chunks[ix->nchunks++] = c;
		ix->bytes += node_bytes(c);
	}
	return ix->top++;
}

static int add_entry(struct fpindex *ix, uint64_t fp, uint32_t klen, uint32_t *id)
{
	struct fpi_entry *e;
	uint32_t *head;

	if (!klen || klen > FDPKV_KEY_MAX)
		return -EINVAL;
	if (ix->count >= 2 * ix->nbuckets)
		grow_buckets(ix);
	*id = alloc_id(ix);
	if (!*id)
		return -ENOMEM;
	e = ent(ix, *id);
	*e = (struct fpi_entry){ .fp = fp, .kl = (uint16_t)klen };
	head = head_of(ix, fp);
	e->next = *head;
	*head = *id;
	ix->count++;
	return 0;
}

/*
 * A new zeroed, unkeyed entry for @key: 0 with *id; -EEXIST with *id when an
 * entry is or may be the key's (EXACT or MAYBE: resolve it first), -EINVAL
 * for a bad length, -ENOMEM.
 */
int fpindex_insert(struct fpindex *ix, const void *key, uint32_t klen, uint32_t *id)
{
	uint64_t fp = fpindex_fp(ix, key, klen);

	if (find_fp(ix, fp, key, klen, id) != FPI_MISS)
		return -EEXIST;
	return add_entry(ix, fp, klen, id);
}

/*
 * A new unkeyed entry from a fingerprint alone (segment summaries at
 * restart): 0 with *id, or -EEXIST with *id the first entry of the same
 * fingerprint and length, whose key might be this one: the caller reads the
 * headers and goes on with fpindex_resolve()/fpindex_insert() by key. One
 * chain walk; -EINVAL, -ENOMEM as fpindex_insert().
 */
int fpindex_insert_fp(struct fpindex *ix, uint64_t fp, uint32_t klen, uint32_t *id)
{
	uint32_t i;

	fp &= ix->fp_mask;
	for (i = *head_of(ix, fp); i; ) {
		const struct fpi_entry *e = ent(ix, i);

		if (e->fp == fp && fpi_klen(e) == klen) {
			*id = i;
			return -EEXIST;
		}
		i = e->next;
	}
	return add_entry(ix, fp, klen, id);
}

/*
 * Keep entry @id's key in memory, as read from its header: 0 (also when it
 * already held that key), -EINVAL when @key cannot be the entry's
 * (fingerprint or length differ, or it holds another key), -ENOMEM.
 */
int fpindex_learn(struct fpindex *ix, uint32_t id, const void *key, uint32_t klen)
{
	struct fpi_entry *e = fpindex_entry(ix, id);
	struct fpi_side *s;

	if (!e || (e->kl & FPI_FREE) || fpi_klen(e) != klen ||
	    fpindex_fp(ix, key, klen) != e->fp)
		return -EINVAL;
	if (e->kl & FPI_KEYED)
		return key_is(ix, id, key, klen) ? 0 : -EINVAL;
	s = side_add(ix, &ix->keys, id, klen);
	if (!s)
		return -ENOMEM;
	s->n = (uint16_t)klen;
	memcpy(s->key, key, klen);
	e->kl |= FPI_KEYED;
	return 0;
}

const uint8_t *fpindex_key(const struct fpindex *ix, uint32_t id, uint32_t *klen)
{
	const struct fpi_side *s = side_get(&ix->keys, id);

	if (!s)
		return NULL;
	*klen = s->n;
	return s->key;
}

/*
 * After an entry of (@fp, @klen) left: when none of that fingerprint and
 * length is unkeyed any more, one keyed survivor drops its key, as the one
 * memory need not tell apart.
 */
static void unkey_survivor(struct fpindex *ix, uint64_t fp, uint32_t klen)
{
	uint32_t i, keyed = 0;

	for (i = *head_of(ix, fp); i; ) {
		struct fpi_entry *e = ent(ix, i);

		if (e->fp == fp && fpi_klen(e) == klen) {
			if (!(e->kl & FPI_KEYED))
				return;
			keyed = i;
		}
		i = e->next;
	}
	if (keyed) {
		side_del(ix, &ix->keys, keyed);
		ent(ix, keyed)->kl &= (uint16_t)~FPI_KEYED;
	}
}

void fpindex_remove(struct fpindex *ix, uint32_t id)
{
	struct fpi_entry *e = fpindex_entry(ix, id);
	uint32_t *pp;

	if (!e || (e->kl & FPI_FREE))
		return;
	for (pp = head_of(ix, e->fp); *pp; pp = &ent(ix, *pp)->next) {
		if (*pp == id) {
			*pp = e->next;
			break;
		}
	}
	if (e->kl & FPI_KEYED)
		side_del(ix, &ix->keys, id);
	unkey_survivor(ix, e->fp, fpi_klen(e));
	side_del(ix, &ix->locks, id);
	e->kl = FPI_FREE;
	e->next = ix->free_head;
	ix->free_head = id;
	ix->count--;
}

/* Lock once; false when saturated (the caller treats the key as not locked). */
bool fpindex_lock(struct fpindex *ix, uint32_t id)
{
	struct fpi_side *s = side_get(&ix->locks, id);

	if (!s) {
		s = side_add(ix, &ix->locks, id, 0);
		if (!s)
			return false;
	}
	if (s->n == UINT16_MAX)
		return false;
	s->n++;
	return true;
}

/* Drop one lock; true when the count reached zero. Never goes below zero. */
bool fpindex_unlock(struct fpindex *ix, uint32_t id)
{
	struct fpi_side *s = side_get(&ix->locks, id);

	if (!s)
		return false;
	if (--s->n)
		return false;
	side_del(ix, &ix->locks, id);
	return true;
}

uint32_t fpindex_locks(const struct fpindex *ix, uint32_t id)
{
	const struct fpi_side *s = side_get(&ix->locks, id);

	return s ? s->n : 0;
}

int fpindex_foreach(const struct fpindex *ix,
		    int (*fn)(void *arg, uint32_t id, struct fpi_entry *e), void *arg)
{
	uint32_t id;
	int ret;

	for (id = 1; id < ix->top; id++) {
		struct fpi_entry *e = ent(ix, id);

		if (e->kl & FPI_FREE)
			continue;
		ret = fn(arg, id, e);	/* fn may remove e */
		if (ret)
			return ret;
	}
	return 0;
}

void fpindex_seg_link(struct fpindex *ix, uint32_t *head, uint32_t id)
{
	struct fpi_entry *e = ent(ix, id);

	e->seg_prev = 0;
	e->seg_next = *head;
	if (*head)
		ent(ix, *head)->seg_prev = id;
	*head = id;
}

void fpindex_seg_unlink(struct fpindex *ix, uint32_t *head, uint32_t id)
{
	struct fpi_entry *e = ent(ix, id);

	if (e->seg_prev)
		ent(ix, e->seg_prev)->seg_next = e->seg_next;
	else if (*head == id)
		*head = e->seg_next;
	if (e->seg_next)
		ent(ix, e->seg_next)->seg_prev = e->seg_prev;
	e->seg_prev = e->seg_next = 0;
}
