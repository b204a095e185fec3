// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_delete_evicted - found by the crash checker (durability=flush) and
 * the kill -9 test: a key is evicted, its segment is not free yet (the
 * deallocate, or the flush that makes it last, is still to come), the key
 * is deleted (-ENOENT: not in the cache), and the process dies. Recovery
 * walks the evicted segment's chain and the key is back: the DELETE the
 * caller was answered is undone. A DELETE of an absent key now still writes
 * its delete record while an evicted segment of the device is not free
 * (shadow_evicted_remains), and answers -ENOENT as before.
 *
 * The window is held open by hand: a count of pending copies on the key's
 * segment keeps its deallocate from being sent, as a slow re-insert copy
 * would; the cache is then closed, which is what a crash leaves of it.
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

#define KV "devices=sim:name=delevict capacity=8M segment_size=256K placement=none " \
	   "reinsert=0 durability=fua"

static void on_evicted(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	bool *seen = arg;

	(void)vlen;
	if (klen == 1 && !memcmp(key, "k", 1))
		*seen = true;
}

static void test_delete_of_evicted_key_stays_deleted(void **state)
{
	static uint8_t val[64 << 10];
	struct fdpkv_cache *c = tu_open(KV);
	struct index_entry *e;
	struct segment *sg;
	bool seen = false;
	char key[32];
	uint32_t s;
	unsigned int i;

	(void)state;
	tu_fill(val, sizeof(val), 7);
	assert_int_equal(tu_set1(c, "k", val, 1000), 0);
	pthread_mutex_lock(&c->lock);
	e = index_find(&c->ix, "k", 1);
	assert_non_null(e);
	s = e->seg;
	sg = &c->devs[e->dev].segs.segs[s];
	sg->copies++;	/* its deallocate waits for this */
	pthread_mutex_unlock(&c->lock);
	for (i = 0; i < 4000 && !seen; i++) {
		snprintf(key, sizeof(key), "f%u", i);
		assert_int_equal(tu_set1(c, key, val, sizeof(val)), 0);
		fdpkv_take_evicted(c, on_evicted, &seen);
	}
	assert_true(seen);
	pthread_mutex_lock(&c->lock);
	assert_int_equal(sg->state, SEG_RECLAIM);
	pthread_mutex_unlock(&c->lock);
	/* absent from the cache, as before; the evicted object is still there */
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "k"), -ENOENT);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "k"), -ENOENT);
	fdpkv_close(c);
	c = tu_open(KV);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "k"), -ENOENT);
	fdpkv_close(c);
	assert_int_equal(sim_destroy("delevict"), 0);
}

/* Without an evicted segment waiting, a DELETE of an absent key writes nothing. */
static void test_delete_of_absent_key_writes_nothing(void **state)
{
	struct fdpkv_cache *c = tu_open(KV);
	struct fdpkv_stats st0, st1;

	(void)state;
	assert_int_equal(tu_set1(c, "x", "v", 1), 0);
	fdpkv_stats(c, &st0);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "never"), -ENOENT);
	fdpkv_stats(c, &st1);
	assert_int_equal(st1.bytes_written, st0.bytes_written);
	fdpkv_close(c);
	assert_int_equal(sim_destroy("delevict"), 0);
}

/*
 * Found by the crash checker with shrunk fingerprints (a DELETE of another
 * key of the same fingerprint), and the same for one key: a DELETE in
 * flight drops the key from memory before its record is durable; a second
 * DELETE then found it absent and answered -ENOENT at once, and a cut that
 * lost the first record undid that answer. The second now writes its own
 * record behind the first and answers only when it is done.
 */
static void test_delete_behind_delete_in_flight(void **state)
{
	struct fdpkv_cache *c = tu_open(KV);
	struct fdpkv_key k = tu_key("k");
	struct fdpkv_completion cp[2];
	int32_t st[2] = { 1, 1 };
	uint64_t id[2];
	unsigned int got = 0, i;

	(void)state;
	assert_int_equal(tu_set1(c, "k", "v", 1), 0);
	assert_int_equal(sim_pause("delevict", true), 0);
	assert_int_equal(fdpkv_submit(c, FDPKV_OP_DELETE, 1, &k, NULL, NULL, &id[0]), 0);
	assert_int_equal(fdpkv_submit(c, FDPKV_OP_DELETE, 1, &k, NULL, NULL, &id[1]), 0);
	/* neither answers while the first record cannot be written */
	assert_int_equal(fdpkv_wait(c, 200), 0);
	assert_int_equal(fdpkv_drain(c, cp, 2), 0);
	assert_int_equal(sim_pause("delevict", false), 0);
	while (got < 2) {
		int n;

		assert_int_equal(fdpkv_wait(c, 30000), 1);
		n = fdpkv_drain(c, cp, 2);
		for (i = 0; i < (unsigned int)n; i++, got++) {
			st[cp[i].id == id[0] ? 0 : 1] = cp[i].status[0];
			fdpkv_completion_release(&cp[i]);
		}
	}
	assert_int_equal(st[0], 0);
	assert_int_equal(st[1], -ENOENT);
	fdpkv_close(c);
	c = tu_open(KV);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "k"), -ENOENT);
	fdpkv_close(c);
	assert_int_equal(sim_destroy("delevict"), 0);
}

/*
 * Found by the crash checker with shrunk fingerprints in durability=none:
 * a SET of a key just deleted was a first write (no entry, no ghost), so
 * it was answered unflushed, and a cut that lost it and the DELETE's record
 * brought the old object back. The DELETE now leaves a ghost while the old
 * object's segment is on the device: the SET hides it (IDX_F_SHADOW) and,
 * in durability=none, is flushed before its answer.
 */
static void test_set_after_delete_hides_the_old_object(void **state)
{
	struct fdpkv_cache *c = tu_open(KV);
	struct index_entry *e;
	bool shadow;

	(void)state;
	assert_int_equal(tu_set1(c, "k", "v1", 2), 0);
	assert_int_equal(tu_set1(c, "n", "v1", 2), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "k"), 0);
	assert_int_equal(tu_set1(c, "k", "v2", 2), 0);
	pthread_mutex_lock(&c->lock);
	e = index_find(&c->ix, "k", 1);
	assert_non_null(e);
	shadow = e->flags & IDX_F_SHADOW;
	/* a key never deleted: a first write, nothing to hide */
	e = index_find(&c->ix, "n", 1);
	assert_non_null(e);
	assert_false(e->flags & IDX_F_SHADOW);
	pthread_mutex_unlock(&c->lock);
	assert_true(shadow);
	fdpkv_close(c);
	assert_int_equal(sim_destroy("delevict"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delete_of_evicted_key_stays_deleted),
		cmocka_unit_test(test_delete_of_absent_key_writes_nothing),
		cmocka_unit_test(test_delete_behind_delete_in_flight),
		cmocka_unit_test(test_set_after_delete_hides_the_old_object),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
