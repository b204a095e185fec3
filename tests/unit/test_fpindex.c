// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_fpindex - the compact (fingerprint) index, with the fingerprint shrunk
 * to a few bits so that keys collide all the time: every operation acts on
 * the right key, a false positive only ever becomes a miss, restart's
 * fingerprint-only insert refuses what it cannot tell apart, and memory per
 * entry stays at or under 48 bytes.
 *
 * A small "device" stands in for the object headers: disk[id] is the key the
 * header of entry id holds; the reader counts header reads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

#define DISK_MAX	(1u << 18)

struct disk {
	char *key[DISK_MAX];		/* by entry id: the header's key */
	unsigned int reads;
	int fail;			/* reader error to return, 0: none */
};

static struct disk dk;

static int read_key(void *arg, uint32_t id, uint8_t *buf)
{
	struct disk *d = arg;
	size_t n;

	d->reads++;
	if (d->fail)
		return d->fail;
	assert_true(id < DISK_MAX);
	assert_non_null(d->key[id]);
	n = strlen(d->key[id]);
	memcpy(buf, d->key[id], n);
	return (int)n;
}

static void disk_put(uint32_t id, const char *key)
{
	free(dk.key[id]);
	dk.key[id] = key ? strdup(key) : NULL;
}

static void disk_reset(void)
{
	unsigned int i;

	for (i = 0; i < DISK_MAX; i++)
		disk_put(i, NULL);
	dk.reads = 0;
	dk.fail = 0;
}

/* ---- the protocol the cache follows over the index ---------------------------- */

/* SET: resolve, then update the key's entry or add one. Returns the id. */
static uint32_t t_set(struct fpindex *ix, const char *key, uint32_t val)
{
	uint32_t klen = (uint32_t)strlen(key), id;
	int ret = fpindex_resolve(ix, key, klen, read_key, &dk, &id);

	if (ret == -ENOENT) {
		assert_int_equal(fpindex_insert(ix, key, klen, &id), 0);
		disk_put(id, key);
	} else {
		assert_int_equal(ret, 0);
		assert_string_equal(dk.key[id], key);	/* never another key's entry */
	}
	fpindex_entry(ix, id)->off_lba = val;
	return id;
}

/* GET: the value, or -ENOENT; a MAYBE is checked against the header. */
static int64_t t_get(struct fpindex *ix, const char *key)
{
	uint32_t klen = (uint32_t)strlen(key), id;
	enum fpi_match m = fpindex_find(ix, key, klen, &id);

	if (m == FPI_MISS)
		return -ENOENT;
	dk.reads++;		/* the GET reads the object, header first */
	if (strcmp(dk.key[id], key)) {
		assert_int_equal(m, FPI_MAYBE);		/* EXACT is never wrong */
		/* another key's object: a miss, and memory keeps its key */
		assert_int_equal(fpindex_learn(ix, id, dk.key[id], (uint32_t)strlen(dk.key[id])), 0);
		return -ENOENT;
	}
	return fpindex_entry(ix, id)->off_lba;
}

static bool t_delete(struct fpindex *ix, const char *key)
{
	uint32_t id;
	int ret = fpindex_resolve(ix, key, (uint32_t)strlen(key), read_key, &dk, &id);

	if (ret == -ENOENT)
		return false;
	assert_int_equal(ret, 0);
	assert_string_equal(dk.key[id], key);
	fpindex_remove(ix, id);
	disk_put(id, NULL);
	return true;
}

static bool t_exists(const struct fpindex *ix, const char *key)
{
	uint32_t id;

	return fpindex_find(ix, key, (uint32_t)strlen(key), &id) != FPI_MISS;
}

/* Two keys of one length with the same fingerprint under @ix's mask. */
static void colliding_pair(const struct fpindex *ix, char *a, char *b, int start)
{
	int i, j;

	for (i = start;; i++) {
		sprintf(a, "key-%05d", i);
		for (j = i + 1; j < i + 4096; j++) {
			sprintf(b, "key-%05d", j);
			if (fpindex_fp(ix, a, 9) == fpindex_fp(ix, b, 9))
				return;
		}
	}
}

/* A fresh disk and 8-bit index, and two colliding keys found from @start. */
static void pair_setup(struct fpindex *ix, char *a, char *b, int start)
{
	disk_reset();
	assert_int_equal(fpindex_init(ix, 8), 0);
	colliding_pair(ix, a, b, start);
}

static void test_fp_bits_knob(void **state)
{
	struct fpindex ix;

	(void)state;
	assert_int_equal(fpindex_init(&ix, 0), -EINVAL);
	assert_int_equal(fpindex_init(&ix, 65), -EINVAL);
	assert_int_equal(fpindex_init(&ix, 64), 0);
	assert_int_equal(ix.fp_mask, ~0ull);
	assert_int_equal(fpindex_fp(&ix, "abc", 3), kv_hash("abc", 3));
	fpindex_destroy(&ix);
	assert_int_equal(fpindex_init(&ix, 4), 0);
	assert_true(fpindex_fp(&ix, "abc", 3) < 16);
	fpindex_destroy(&ix);
}

/* SET of B must not replace A when they share a fingerprint; both stay exact. */
static void test_collision_keeps_both(void **state)
{
	struct fpindex ix;
	char a[16], b[16];
	uint32_t ida, idb, id, klen;

	(void)state;
	pair_setup(&ix, a, b, 0);
	ida = t_set(&ix, a, 100);
	assert_int_equal(dk.reads, 0);		/* no fingerprint met: no read */
	assert_null(fpindex_key(&ix, ida, &klen));
	idb = t_set(&ix, b, 200);
	assert_int_not_equal(ida, idb);
	assert_int_equal(dk.reads, 1);		/* A's header, once */
	assert_int_equal(ix.count, 2);
	/* A is keyed now, B is the one unkeyed entry of that fingerprint */
	assert_non_null(fpindex_key(&ix, ida, &klen));
	assert_int_equal(klen, 9);
	assert_null(fpindex_key(&ix, idb, &klen));
	assert_int_equal(fpindex_find(&ix, a, 9, &id), FPI_EXACT);
	assert_int_equal(id, ida);
	assert_int_equal(fpindex_find(&ix, b, 9, &id), FPI_MAYBE);
	assert_int_equal(id, idb);
	assert_int_equal(t_get(&ix, a), 100);
	assert_int_equal(t_get(&ix, b), 200);
	/* overwrites land on the right entry, without a read for A */
	dk.reads = 0;
	assert_int_equal(t_set(&ix, a, 101), ida);
	assert_int_equal(dk.reads, 0);
	assert_int_equal(t_set(&ix, b, 201), idb);
	assert_int_equal(dk.reads, 1);		/* B unkeyed: its header says it is B */
	assert_int_equal(t_get(&ix, a), 101);
	assert_int_equal(t_get(&ix, b), 201);
	/* DELETE A leaves B, which no longer needs a key in memory */
	assert_true(t_delete(&ix, a));
	assert_int_equal(ix.keys.count, 0);
	assert_int_equal(t_get(&ix, b), 201);
	/* deleting the absent A reads B's header: B's key is kept from then on */
	assert_false(t_delete(&ix, a));
	assert_int_equal(t_get(&ix, a), -ENOENT);
	assert_int_equal(t_get(&ix, b), 201);
	assert_non_null(fpindex_key(&ix, idb, &klen));
	assert_int_equal(ix.keys.count, 1);
	/* and the other way round: delete the keyed one, A's key never came in */
	ida = t_set(&ix, a, 300);
	assert_int_equal(ix.keys.count, 1);
	assert_true(t_delete(&ix, b));
	assert_int_equal(ix.keys.count, 0);
	assert_null(fpindex_key(&ix, ida, &klen));
	assert_int_equal(t_get(&ix, a), 300);
	assert_int_equal(t_get(&ix, b), -ENOENT);
	fpindex_destroy(&ix);
}

/* exists/lookup answer by fingerprint; the GET after a false positive misses. */
static void test_false_positive_is_a_miss(void **state)
{
	struct fpindex ix;
	char a[16], x[16];
	uint32_t ida, id;

	(void)state;
	pair_setup(&ix, a, x, 100);
	ida = t_set(&ix, a, 7);
	assert_true(t_exists(&ix, x));			/* the false positive */
	assert_int_equal(t_get(&ix, x), -ENOENT);	/* never A's data */
	assert_false(t_exists(&ix, x));			/* learned: not again */
	assert_int_equal(fpindex_find(&ix, a, 9, &id), FPI_EXACT);
	assert_int_equal(id, ida);
	assert_int_equal(t_get(&ix, a), 7);
	/* a different length is never a candidate */
	assert_false(t_exists(&ix, "key-0010"));
	fpindex_destroy(&ix);
}

/* lock/unlock act on the key's entry, not on its fingerprint's neighbour. */
static void test_locks_follow_the_key(void **state)
{
	struct fpindex ix;
	char a[16], b[16];
	uint32_t ida, idb, id;

	(void)state;
	pair_setup(&ix, a, b, 200);
	ida = t_set(&ix, a, 1);
	idb = t_set(&ix, b, 2);
	assert_int_not_equal(fpindex_find(&ix, a, 9, &id), FPI_MISS);
	assert_true(fpindex_lock(&ix, id));
	assert_true(fpindex_lock(&ix, id));
	assert_int_not_equal(fpindex_find(&ix, b, 9, &id), FPI_MISS);
	assert_true(fpindex_lock(&ix, id));
	assert_int_equal(fpindex_locks(&ix, ida), 2);
	assert_int_equal(fpindex_locks(&ix, idb), 1);
	assert_true(fpindex_unlock(&ix, idb));		/* reached zero */
	assert_false(fpindex_unlock(&ix, idb));		/* never below zero */
	assert_int_equal(fpindex_locks(&ix, ida), 2);
	assert_false(fpindex_unlock(&ix, ida));
	assert_true(fpindex_unlock(&ix, ida));
	assert_int_equal(ix.locks.count, 0);
	/* saturation refuses instead of wrapping; removal frees the count */
	assert_true(fpindex_lock(&ix, ida));
	ix.locks.b[(ida * 0x9e3779b1u) & (ix.locks.nb - 1)]->n = UINT16_MAX;
	assert_false(fpindex_lock(&ix, ida));
	assert_int_equal(fpindex_locks(&ix, ida), UINT16_MAX);
	assert_true(t_delete(&ix, a));
	assert_int_equal(ix.locks.count, 0);
	fpindex_destroy(&ix);
}

/* Restart's fingerprint-only insert: cheap when alone, refused when it cannot tell. */
static void test_insert_fp(void **state)
{
	struct fpindex ix;
	char a[16], b[16];
	uint32_t ida, id, id2;

	(void)state;
	pair_setup(&ix, a, b, 300);
	assert_int_equal(fpindex_insert_fp(&ix, fpindex_fp(&ix, a, 9), 9, &ida), 0);
	disk_put(ida, a);
	/* the same key from another segment summary, or a colliding one */
	assert_int_equal(fpindex_insert_fp(&ix, fpindex_fp(&ix, b, 9), 9, &id), -EEXIST);
	assert_int_equal(id, ida);
	/* the fingerprint is masked like a key's */
	assert_int_equal(fpindex_insert_fp(&ix, fpindex_fp(&ix, b, 9) | ~ix.fp_mask, 9, &id),
			 -EEXIST);
	/* another length is another entry */
	assert_int_equal(fpindex_insert_fp(&ix, fpindex_fp(&ix, a, 9), 8, &id2), 0);
	disk_put(id2, "key-0000");
	fpindex_remove(&ix, id2);
	disk_put(id2, NULL);
	assert_int_equal(fpindex_insert_fp(&ix, 1, 0, &id2), -EINVAL);
	assert_int_equal(fpindex_insert_fp(&ix, 1, FDPKV_KEY_MAX + 1, &id2), -EINVAL);
	/* the caller read b's header: it resolves by key and adds b beside a */
	t_set(&ix, b, 5);
	assert_int_equal(ix.count, 2);
	assert_int_equal(t_get(&ix, a), 0);
	assert_int_equal(t_get(&ix, b), 5);
	fpindex_destroy(&ix);
}

/* What the index refuses, each with its errno. */
static void test_refusals(void **state)
{
	struct fpindex ix;
	char a[16], b[16], other[16] = "oth-start";
	uint32_t ida, id;
	int i;
	struct fpi_entry *e;

	(void)state;
	pair_setup(&ix, a, b, 400);
	ida = t_set(&ix, a, 1);
	/* insert while an entry may be the key's */
	assert_int_equal(fpindex_insert(&ix, a, 9, &id), -EEXIST);
	assert_int_equal(id, ida);
	assert_int_equal(fpindex_insert(&ix, b, 9, &id), -EEXIST);
	assert_int_equal(fpindex_insert(&ix, "", 0, &id), -EINVAL);
	/* learn: a key that cannot be the entry's */
	assert_int_equal(fpindex_learn(&ix, ida, "key-0000", 8), -EINVAL);
	for (i = 0; fpindex_fp(&ix, other, 9) == fpindex_fp(&ix, a, 9); i++)
		sprintf(other, "oth-%05d", i);
	assert_int_equal(fpindex_learn(&ix, ida, other, 9), -EINVAL);	/* its fp differs */
	assert_int_equal(fpindex_learn(&ix, 0, a, 9), -EINVAL);
	assert_int_equal(fpindex_learn(&ix, 9999, a, 9), -EINVAL);
	assert_int_equal(fpindex_learn(&ix, ida, a, 9), 0);
	assert_int_equal(fpindex_learn(&ix, ida, a, 9), 0);	/* again: same key */
	assert_int_equal(fpindex_learn(&ix, ida, b, 9), -EINVAL);	/* holds another */
	/* a header that cannot be read: the reader's error and the candidate */
	assert_true(t_delete(&ix, a));
	ida = t_set(&ix, a, 1);
	dk.fail = -EIO;
	assert_int_equal(fpindex_resolve(&ix, b, 9, read_key, &dk, &id), -EIO);
	assert_int_equal(id, ida);
	/* a header holding a key that is not the entry's (a reused slot) */
	dk.fail = 0;
	disk_put(ida, other);
	assert_int_equal(fpindex_resolve(&ix, b, 9, read_key, &dk, &id), -EBADMSG);
	disk_put(ida, a);
	/* removed twice, or never handed out: nothing happens */
	fpindex_remove(&ix, ida);
	fpindex_remove(&ix, ida);
	fpindex_remove(&ix, 0);
	fpindex_remove(&ix, 12345);
	assert_int_equal(ix.count, 0);
	/* fields the entry cannot hold */
	ida = t_set(&ix, a, 1);
	e = fpindex_entry(&ix, ida);
	assert_int_equal(fpi_set(e, 256, 0, 0, 0, 0), -ERANGE);
	assert_int_equal(fpi_set(e, 0, FPI_SEG_MAX + 1, 0, 0, 0), -ERANGE);
	assert_int_equal(fpi_set(e, 0, 0, 0, FPI_VLEN_MAX + 1, 0), -ERANGE);
	assert_int_equal(fpi_set(e, 0, 0, 0, 0, FPI_UBUCKET_MAX + 1), -ERANGE);
	assert_int_equal(fpi_set(e, 255, FPI_SEG_MAX, 0xffffffffu, FPI_VLEN_MAX, FPI_UBUCKET_MAX), 0);
	assert_int_equal(fpi_dev(e), 255);
	assert_int_equal(fpi_seg(e), FPI_SEG_MAX);
	assert_int_equal(e->off_lba, 0xffffffffu);
	assert_int_equal(fpi_vlen(e), FPI_VLEN_MAX);
	assert_int_equal(fpi_ubucket(e), FPI_UBUCKET_MAX);
	assert_int_equal(fpi_klen(e), 9);
	fpindex_destroy(&ix);
}

/*
 * Random SET/GET/DELETE/EXISTS/lock over 96 keys of three lengths with a
 * 3-bit fingerprint (every key collides with a dozen others), checked
 * against a plain table after every operation.
 */
#define NKEYS	96

static void test_random_against_model(void **state)
{
	struct fpindex ix;
	char keys[NKEYS][16];
	int64_t model[NKEYS];
	uint32_t locks[NKEYS] = { 0 };
	unsigned int seed = 12345, op, i;
	size_t live = 0;

	(void)state;
	disk_reset();
	assert_int_equal(fpindex_init(&ix, 3), 0);
	for (i = 0; i < NKEYS; i++) {
		snprintf(keys[i], sizeof(keys[i]), "%s%u", i % 3 == 0 ? "k" : i % 3 == 1 ? "kk" : "kkk", i);
		model[i] = -ENOENT;
	}
	for (op = 0; op < 20000; op++) {
		unsigned int k = (unsigned int)rand_r(&seed) % NKEYS;
		unsigned int what = (unsigned int)rand_r(&seed) % 6;
		uint32_t id;

		switch (what) {
		case 0:
		case 1:
			if (model[k] < 0)
				live++;
			model[k] = op;
			t_set(&ix, keys[k], op);
			break;
		case 2:
			assert_int_equal(t_delete(&ix, keys[k]), model[k] >= 0);
			if (model[k] >= 0)
				live--;
			model[k] = -ENOENT;
			locks[k] = 0;	/* the entry and its locks are gone */
			break;
		case 3:
			/* present keys always exist; absent ones may only be
			 * false positives, which the GET below turns into a miss */
			if (model[k] >= 0)
				assert_true(t_exists(&ix, keys[k]));
			break;
		case 4:
			if (model[k] >= 0) {
				assert_int_not_equal(fpindex_find(&ix, keys[k], (uint32_t)strlen(keys[k]), &id), FPI_MISS);
				assert_string_equal(dk.key[id], keys[k]);
				assert_true(fpindex_lock(&ix, id));
				locks[k]++;
				assert_int_equal(fpindex_locks(&ix, id), locks[k]);
			}
			break;
		default:
			if (model[k] >= 0 && locks[k]) {
				assert_int_not_equal(fpindex_find(&ix, keys[k], (uint32_t)strlen(keys[k]), &id), FPI_MISS);
				assert_string_equal(dk.key[id], keys[k]);
				assert_int_equal(fpindex_unlock(&ix, id), locks[k] == 1);
				locks[k]--;
			}
			break;
		}
		assert_int_equal(t_get(&ix, keys[k]), model[k]);
		assert_int_equal(ix.count, live);
	}
	for (i = 0; i < NKEYS; i++)
		assert_int_equal(t_get(&ix, keys[i]), model[i]);
	/* keys in memory: at most the colliding ones, never more than entries */
	assert_true(ix.keys.count <= ix.count);
	printf("fpindex model: %zu live, %zu keyed, %u header reads in 20000 ops (3-bit fp)\n",
	       ix.count, ix.keys.count, dk.reads);
	fpindex_destroy(&ix);
}

static int count_one(void *arg, uint32_t id, struct fpi_entry *e)
{
	(void)id;
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

/* 200k keys with the real 64-bit fingerprint: growth, reuse, segment lists, bytes. */
static void test_200k_and_bytes(void **state)
{
	struct fpindex ix;
	char key[64];
	uint32_t seghead[8] = { 0 }, id, top;
	size_t i, n = 200000, seen = 0;

	(void)state;
	assert_int_equal(fpindex_init(&ix, 64), 0);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "llama@000000ff@0@%016zx", i);
		assert_int_equal(fpindex_insert(&ix, key, 33, &id), 0);
		assert_int_equal(fpi_set(fpindex_entry(&ix, id), 0, (uint32_t)(i % 8),
					 (uint32_t)i, 256 * 1024, 0), 0);
		fpindex_seg_link(&ix, &seghead[i % 8], id);
	}
	assert_int_equal(ix.count, n);
	assert_int_equal(ix.keys.count, 0);
	printf("fpindex: %zu entries, %.1f B/entry (chunks, buckets, side maps; struct %zu B)\n",
	       ix.count, (double)ix.bytes / (double)ix.count, sizeof(struct fpi_entry));
	assert_true(ix.bytes <= 48 * n);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "llama@000000ff@0@%016zx", i);
		assert_int_equal(fpindex_find(&ix, key, 33, &id), FPI_MAYBE);
		assert_int_equal(fpindex_entry(&ix, id)->off_lba, i);
		if (i % 2) {
			fpindex_seg_unlink(&ix, &seghead[i % 8], id);
			fpindex_remove(&ix, id);
		}
	}
	assert_int_equal(ix.count, n / 2);
	fpindex_foreach(&ix, count_one, &seen);
	assert_int_equal(seen, n / 2);
	/* odd segments emptied, even ones hold their entries newest first */
	assert_int_equal(seghead[1], 0);
	for (id = seghead[2], i = 0; id; id = fpindex_entry(&ix, id)->seg_next, i++)
		assert_int_equal(fpi_seg(fpindex_entry(&ix, id)), 2);
	assert_int_equal(i, n / 8);
	/* removed ids are reused before the table grows */
	top = ix.top;
	assert_int_equal(fpindex_insert(&ix, "again", 5, &id), 0);
	assert_int_equal(ix.top, top);
	assert_true(id % 2 == 0);	/* key i had id i + 1; odd keys left */
	fpindex_destroy(&ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fp_bits_knob),
		cmocka_unit_test(test_collision_keeps_both),
		cmocka_unit_test(test_false_positive_is_a_miss),
		cmocka_unit_test(test_locks_follow_the_key),
		cmocka_unit_test(test_insert_fp),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_200k_and_bytes),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);

	disk_reset();
	return ret;
}
