// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_keyread - obj_read_key, the header read the fingerprint index asks
 * for: it returns the key of the object at a location (also a key longer
 * than one LBA), and -EBADMSG for a header of an earlier use of the segment,
 * for a place with no header, and for a damaged header. And the restart
 * path the segment summaries will take: (fingerprint, location) pairs into
 * a fingerprint index shrunk to 3 bits, the collisions told apart by
 * reading headers from the device, every key then found at its own place.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "util.h"

struct loc {
	struct devctx *d;
	uint32_t seg, off_lba;
	uint64_t seg_seq;
};

/* Where @key is, its segment pinned against eviction as a reader would. */
static struct loc locate(struct fdpkv_cache *c, const void *key, uint32_t klen)
{
	struct index_entry *e;
	struct loc l;

	pthread_mutex_lock(&c->lock);
	e = index_find(&c->ix, key, klen);
	assert_non_null(e);
	l.d = &c->devs[e->dev];
	l.seg = e->seg;
	l.off_lba = e->off_lba;
	l.seg_seq = l.d->segs.segs[e->seg].open_seq;
	l.d->segs.segs[e->seg].readers++;
	pthread_mutex_unlock(&c->lock);
	return l;
}

static void unpin(struct fdpkv_cache *c, const struct loc *l)
{
	pthread_mutex_lock(&c->lock);
	l->d->segs.segs[l->seg].readers--;
	pthread_mutex_unlock(&c->lock);
}

static void test_read_key(void **state)
{
	static uint8_t val[100], got[FDPKV_KEY_MAX], longkey[3000];
	char *dir = tu_mkdtemp(), kv[600], path[400];
	struct fdpkv_cache *c;
	struct fdpkv_key k;
	struct fdpkv_buf b = { .base = val, .len = sizeof(val) };
	struct loc l;
	long long off;

	(void)state;
	snprintf(path, sizeof(path), "%s/d.img", dir);
	snprintf(kv, sizeof(kv), "device=file:%s capacity=16M segment_size=1M placement=none "
		 "reinsert=0 durability=none", path);
	tu_fill(val, sizeof(val), 1);
	memset(longkey, 'L', sizeof(longkey));
	c = tu_open(kv);
	assert_int_equal(tu_set1(c, "short-key", val, sizeof(val)), 0);
	k = (struct fdpkv_key){ .data = longkey, .len = sizeof(longkey) };
	assert_int_equal(tu_run(c, FDPKV_OP_SET, 1, &k, &b, NULL), 0);

	l = locate(c, "short-key", 9);
	assert_int_equal(obj_read_key(l.d, l.seg, l.off_lba, l.seg_seq, got), 9);
	assert_memory_equal(got, "short-key", 9);
	/* a header from another use of the segment is not this object's */
	assert_int_equal(obj_read_key(l.d, l.seg, l.off_lba, l.seg_seq + 1, got), -EBADMSG);
	/* no header at all: the segment's last LBA is never written here */
	assert_int_equal(obj_read_key(l.d, l.seg, (uint32_t)(l.d->segs.seg_bytes / l.d->sb.lba_size) - 1,
				      l.seg_seq, got), -EBADMSG);
	unpin(c, &l);

	/* a key longer than one LBA takes a second, whole read */
	l = locate(c, longkey, sizeof(longkey));
	memset(got, 0, sizeof(got));
	assert_int_equal(obj_read_key(l.d, l.seg, l.off_lba, l.seg_seq, got), (int)sizeof(longkey));
	assert_memory_equal(got, longkey, sizeof(longkey));
	unpin(c, &l);

	/* a damaged header (a bit of its key flipped on the device) */
	l = locate(c, "short-key", 9);
	off = tu_find_bytes(path, "short-key", 9);
	assert_true(off > 0);
	tu_flip_bits(path, off, 0x01);
	assert_int_equal(obj_read_key(l.d, l.seg, l.off_lba, l.seg_seq, got), -EBADMSG);
	unpin(c, &l);
	fdpkv_close(c);
	tu_rmdir(dir);
}

struct summary_ctx {
	struct fdpkv_cache *c;
	struct fpindex *ix;
	unsigned int reads;
};

/* fpindex's reader: the key in the header at the entry's location */
static int read_entry_key(void *arg, uint32_t id, uint8_t *buf)
{
	struct summary_ctx *s = arg;
	struct fpi_entry *e = fpindex_entry(s->ix, id);
	struct devctx *d = &s->c->devs[fpi_dev(e)];

	s->reads++;
	return obj_read_key(d, fpi_seg(e), e->off_lba, d->segs.segs[fpi_seg(e)].open_seq, buf);
}

/* One object as a segment summary lists it: fingerprint and place, no key. */
struct summary_rec {
	uint64_t fp, vlen;
	uint32_t klen, seg, off_lba;
	uint8_t dev;
};

struct summary {
	struct summary_rec rec[64];
	unsigned int n;
};

static int summarize(void *arg, struct index_entry *e)
{
	struct summary *sm = arg;

	assert_true(sm->n < 64);
	sm->rec[sm->n++] = (struct summary_rec){
		.fp = kv_hash(e->key, e->klen), .vlen = e->vlen, .klen = e->klen,
		.seg = e->seg, .off_lba = e->off_lba, .dev = e->dev,
	};
	return 0;
}

/* What restart does with one summary record (without the cache lock: it reads). */
static void add_from_summary(struct summary_ctx *s, const struct summary_rec *r)
{
	struct devctx *d = &s->c->devs[r->dev];
	uint8_t key[FDPKV_KEY_MAX];
	uint32_t id;
	int ret, klen;

	ret = fpindex_insert_fp(s->ix, r->fp, r->klen, &id);
	if (ret == -EEXIST) {
		/* that fingerprint is known: this object's header says whose it is */
		klen = obj_read_key(d, r->seg, r->off_lba, d->segs.segs[r->seg].open_seq, key);
		s->reads++;
		assert_int_equal(klen, r->klen);
		assert_int_equal(fpindex_resolve(s->ix, key, (uint32_t)klen, read_entry_key, s, &id),
				 -ENOENT);
		ret = fpindex_insert(s->ix, key, (uint32_t)klen, &id);
	}
	assert_int_equal(ret, 0);
	assert_int_equal(fpi_set(fpindex_entry(s->ix, id), r->dev, r->seg, r->off_lba, r->vlen, 0), 0);
}

static void test_summary_restart_path(void **state)
{
	static uint8_t val[100];
	char *dir = tu_mkdtemp(), kv[600], path[400], key[16];
	static struct summary sm;
	struct summary_ctx s = { 0 };
	struct fpindex ix;
	struct fdpkv_cache *c;
	unsigned int i;
	uint32_t id;

	(void)state;
	snprintf(path, sizeof(path), "%s/d.img", dir);
	snprintf(kv, sizeof(kv), "device=file:%s capacity=16M segment_size=1M placement=none "
		 "reinsert=0 durability=none", path);
	c = tu_open(kv);
	for (i = 0; i < 64; i++) {
		snprintf(key, sizeof(key), "key-%02u", i);
		tu_fill(val, sizeof(val), i);
		assert_int_equal(tu_set1(c, key, val, sizeof(val)), 0);
	}
	assert_int_equal(fpindex_init(&ix, 3), 0);	/* 8 fingerprints for 64 keys */
	s.c = c;
	s.ix = &ix;
	pthread_mutex_lock(&c->lock);
	index_foreach(&c->ix, summarize, &sm);
	pthread_mutex_unlock(&c->lock);
	for (i = 0; i < sm.n; i++)
		add_from_summary(&s, &sm.rec[i]);
	assert_int_equal(ix.count, 64);
	assert_true(s.reads > 0);
	/* every key resolves to its own place; an absent one to nothing */
	for (i = 0; i < 64; i++) {
		struct index_entry *e;

		snprintf(key, sizeof(key), "key-%02u", i);
		assert_int_equal(fpindex_resolve(&ix, key, 6, read_entry_key, &s, &id), 0);
		pthread_mutex_lock(&c->lock);
		e = index_find(&c->ix, key, 6);
		assert_non_null(e);
		assert_int_equal(fpindex_entry(&ix, id)->off_lba, e->off_lba);
		assert_int_equal(fpi_seg(fpindex_entry(&ix, id)), e->seg);
		pthread_mutex_unlock(&c->lock);
	}
	assert_int_equal(fpindex_resolve(&ix, "key-99", 6, read_entry_key, &s, &id), -ENOENT);
	printf("summary restart: 64 keys, 3-bit fingerprints, %u header reads, %zu keys kept\n",
	       s.reads, ix.keys.count);
	fpindex_destroy(&ix);
	fdpkv_close(c);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_key),
		cmocka_unit_test(test_summary_restart_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
