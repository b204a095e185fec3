// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_carry_held - found by the long crash run (durability=flush, seed
 * 200047 point 11: an acknowledged DELETE undone). A segment holding a
 * delete record is evicted while a newer SET of the record's key is
 * reserved but not written: the SET takes over the record's duty to hide
 * the older version (shadow_to_pending_writes), so the record is not
 * carried. Before the fix the evicted segment was deallocated at once; if
 * the SET's write then failed (or, at a power cut, was lost or torn while
 * the deallocate landed), nothing hid the older version any more and a
 * restart brought back what the acknowledged DELETE removed. The SET now
 * holds the evicted segment (shadow_hold_src) until its write is done, and
 * a failed write leaves the segment quarantined with the record on it.
 *
 * Made by hand, deterministically: the device is paused with the SET's
 * write queued in it, the record's segment is evicted meanwhile, and the
 * SET's write is then failed (only its own range, so the records carried
 * for other keys land). A restart must not find the deleted version.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache.h"
#include "util.h"

#define NAME "carryheld"
#define KV "devices=sim:name=" NAME " capacity=8M segment_size=256K placement=none " \
	   "reinsert=0 durability=flush"

/* The SET of "k" reserved on the paused device, waited for; NULL after 10 s. */
static struct key_req *wait_reserved(struct fdpkv_cache *c, struct devctx *d)
{
	struct key_req *kr = NULL;
	unsigned int i;

	for (i = 0; i < 1000 && !kr; i++) {
		cache_lock(c);
		kr = pend_find(&d->pend, NULL, (const uint8_t *)"k", 1);
		if (kr && (!kr->op || (kr->flags & OBJ_F_TOMBSTONE)))
			kr = NULL;
		cache_unlock(c);
		if (!kr)
			usleep(10000);
	}
	return kr;
}

/* The records carried for other keys are written (fdpkv_close would wait too). */
static void wait_internal_writes(struct fdpkv_cache *c)
{
	struct fdpkv_stats st;
	unsigned int i;

	for (i = 0; i < 1000; i++) {
		assert_int_equal(fdpkv_stats(c, &st), 0);
		if (!st.inflight_ops)
			return;
		usleep(10000);
	}
	fail_msg("%llu internal writes still in flight", (unsigned long long)st.inflight_ops);
}

/* Fill the metadata class's open segment with records until it is sealed. */
static uint32_t seal_meta_segment(struct fdpkv_cache *c, struct devctx *d)
{
	int32_t s = d->segs.open[FDPKV_CLASS_META];
	char key[32];
	unsigned int i;

	assert_true(s >= 0);	/* the DELETE before opened it */

	for (i = 0; i < 256 && d->segs.open[FDPKV_CLASS_META] == s; i++) {
		snprintf(key, sizeof(key), "x%u", i);
		assert_int_equal(tu_set1(c, key, "v", 1), 0);
		assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, key), 0);
	}
	cache_lock(c);
	assert_int_not_equal(d->segs.open[FDPKV_CLASS_META], s);
	assert_int_equal(d->segs.segs[s].state, SEG_SEALED);
	assert_non_null(d->segs.segs[s].pending);
	cache_unlock(c);
	return (uint32_t)s;
}

/* What take_over() leaves: the SET of "k" queued in the paused device. */
struct taken_over {
	struct fdpkv_cache *c;
	struct devctx *d;
	uint64_t id;		/* the SET's operation */
	uint64_t off, len;	/* where its write goes */
	uint32_t s;		/* the evicted segment that held k's record */
};

/*
 * k = @v1, deleted (acknowledged); k's record's segment sealed; k set again
 * to @b with its write queued in the paused device; the record's segment
 * evicted meanwhile, so the SET takes the record over and holds the segment.
 */
static void take_over(struct taken_over *t, const uint8_t *v1, uint64_t v1len,
		      const struct fdpkv_buf *b)
{
	struct fdpkv_key k = tu_key("k");
	struct key_req *kr;

	t->c = tu_open(KV);
	t->d = &t->c->devs[0];
	evictor_hold(t->c, true);
	assert_int_equal(tu_set1(t->c, "k", v1, v1len), 0);
	assert_int_equal(tu_op1(t->c, FDPKV_OP_DELETE, "k"), 0);	/* acknowledged */
	t->s = seal_meta_segment(t->c, t->d);	/* holds k's record, among others */

	/* SET k again: reserved, its write queued in the paused device */
	assert_int_equal(sim_pause(NAME, true), 0);
	assert_int_equal(fdpkv_submit(t->c, FDPKV_OP_SET, 1, &k, b, NULL, &t->id), 0);
	kr = wait_reserved(t->c, t->d);
	assert_non_null(kr);
	cache_lock(t->c);
	t->off = seg_base(t->d, kr->seg) + kr->off;
	t->len = kr->size;
	/* k's record's segment is evicted meanwhile: the SET takes the record over */
	evict_begin(t->d, t->s);
	while (!evict_step(t->d, t->s, 1024))
		;
	assert_int_equal(kr->nheld, 1);
	assert_int_equal(kr->held_src[0], t->s);
	/* not deallocated while the write that took the record over is queued */
	assert_int_not_equal(t->d->segs.segs[t->s].state, SEG_FREE);
	cache_unlock(t->c);
}

/* The device resumes; the SET's completion, then the evictor and the
 * internal writes quiet. */
static void set_completes(struct taken_over *t, int want)
{
	struct fdpkv_completion done;

	assert_int_equal(sim_pause(NAME, false), 0);
	for (;;) {
		assert_int_equal(fdpkv_wait(t->c, 30000), 1);
		if (fdpkv_drain(t->c, &done, 1) == 1)
			break;
	}
	assert_int_equal(done.id, t->id);
	assert_int_equal(done.status[0], want);
	fdpkv_completion_release(&done);
	evictor_hold_quiet(t->c);
	wait_internal_writes(t->c);
}

static void test_failed_set_keeps_taken_over_record(void **state)
{
	static uint8_t v1[8 << 10], v2[12 << 10];
	struct fdpkv_buf b = { v2, sizeof(v2) };
	struct taken_over t;

	(void)state;
	tu_fill(v1, sizeof(v1), 1);
	tu_fill(v2, sizeof(v2), 2);
	take_over(&t, v1, sizeof(v1), &b);
	/* the SET's write fails; every other queued command lands */
	assert_int_equal(sim_fail_range(NAME, 1u << IO_WRITE, t.off, t.len), 0);
	set_completes(&t, -EIO);
	assert_int_equal(sim_fail_range(NAME, 0, 0, 0), 0);
	/* the record did not move: its segment keeps it */
	cache_lock(t.c);
	assert_int_not_equal(t.d->segs.segs[t.s].state, SEG_FREE);
	assert_true(t.d->segs.segs[t.s].keep);
	cache_unlock(t.c);
	assert_int_equal(tu_op1(t.c, FDPKV_OP_EXISTS, "k"), -ENOENT);
	fdpkv_close(t.c);

	/* what a restart finds: the DELETE holds, v1 stays hidden */
	t.c = tu_open(KV);
	assert_int_equal(tu_op1(t.c, FDPKV_OP_EXISTS, "k"), -ENOENT);
	fdpkv_close(t.c);
	assert_int_equal(sim_destroy(NAME), 0);
}

/* The SET's write succeeds: the segment is let go once it is done. */
static void test_done_set_lets_segment_go(void **state)
{
	static uint8_t v1[8 << 10], v2[12 << 10], got[12 << 10];
	struct fdpkv_buf b = { v2, sizeof(v2) };
	struct taken_over t;

	(void)state;
	tu_fill(v1, sizeof(v1), 3);
	tu_fill(v2, sizeof(v2), 4);
	take_over(&t, v1, sizeof(v1), &b);
	set_completes(&t, 0);
	cache_lock(t.c);
	assert_false(t.d->segs.segs[t.s].keep);
	assert_int_equal(t.d->segs.segs[t.s].copies, 0);
	cache_unlock(t.c);
	fdpkv_close(t.c);
	t.c = tu_open(KV);
	assert_int_equal(tu_get1(t.c, "k", got, sizeof(got)), 0);
	assert_memory_equal(got, v2, sizeof(v2));
	fdpkv_close(t.c);
	assert_int_equal(sim_destroy(NAME), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_set_keeps_taken_over_record),
		cmocka_unit_test(test_done_set_lets_segment_go),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
