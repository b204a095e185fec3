// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_keyread - obj_read_key, the header read the fingerprint index asks
 * for: it returns the key of the object at a location (also a key longer
 * than one LBA), and -EBADMSG for a header of an earlier use of the segment,
 * for a place with no header, and for a damaged header.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
