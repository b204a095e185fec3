// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_evictor - fdpkv_submit never evicts: a SET that finds no room queues
 * and the evictor thread evicts and completes it; with the evictor held, the
 * submit returns having evicted nothing, its completion waits, and it comes
 * once the evictor runs. A write that cannot get room at all (everything
 * locked) still fails with -ENOSPC, from the evictor.
 *
 * The evictor evicts a segment in batches, releasing the cache lock between
 * them: stopped after the first batch, the half-evicted segment is still
 * readable and not deallocated; its keys dropped so far miss, the others
 * are found by GET and EXISTS, refused by LOOKUP_LOCK, and replaced or
 * deleted by SET and DELETE, which stays so after the eviction ends and
 * after a restart.
 *
 * A pass retries the writes waiting for room only when that can help: with
 * no segment free and one on its way, each would just queue again (with
 * re-insert copies and carried records, thousands in one hold of the lock);
 * the segment's reclaim retries them once it is free.
 *
 * The staging of the internal writes a batch starts (re-insert copies here)
 * is made ready between batches, without the lock: after a first batch has
 * shown the sizes, the next batch allocates none, nor does a later segment
 * with a segment of nothing to copy in between.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "util.h"

static char *dir;
static char kv[512];

static int setup(void **state)
{
	(void)state;
	dir = tu_mkdtemp();
	/* 8 segments of 1 MiB; 256 KiB values: 3 per segment */
	snprintf(kv, sizeof(kv), "device=file:%s/dev.img capacity=8M segment_size=1M "
		 "free_segments_low=1 format=always", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmdir(dir);
	return 0;
}

static uint64_t evicted(struct fdpkv_cache *c)
{
	struct fdpkv_stats s;

	assert_int_equal(fdpkv_stats(c, &s), 0);
	return s.evicted_segments;
}

/* SET keys "k<i>" until a submit's completion does not come by itself. */
static void test_submit_does_not_evict(void **state)
{
	struct fdpkv_cache *c = tu_open(kv);
	static uint8_t val[256 << 10];
	struct fdpkv_completion done;
	struct fdpkv_key k;
	struct fdpkv_buf b = { val, sizeof(val) };
	uint64_t id, before;
	char name[32];
	unsigned int i;
	int got = 0;

	(void)state;
	tu_fill(val, sizeof(val), 1);
	evictor_hold(c, true);
	/* fill until a write has to wait for room: its completion is held back */
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "m@0@0@k%u", i);
		k = tu_key(name);
		before = evicted(c);
		assert_int_equal(fdpkv_submit(c, FDPKV_OP_SET, 1, &k, &b, NULL, &id), 0);
		/* the submit itself evicted nothing */
		assert_int_equal(evicted(c), before);
		pthread_mutex_lock(&c->lock);
		got = c->devs[0].waiters != NULL;
		pthread_mutex_unlock(&c->lock);
		if (got)
			break;
		/* room was there: it completes without the evictor */
		while (fdpkv_drain(c, &done, 1) == 0)
			fdpkv_wait(c, -1);
		assert_int_equal(done.result, 0);
		fdpkv_completion_release(&done);
	}
	assert_true(got);			/* a write is waiting for room */
	assert_int_equal(evicted(c), 0);
	evictor_hold(c, false);
	while (fdpkv_drain(c, &done, 1) == 0)
		fdpkv_wait(c, -1);
	assert_int_equal(done.result, 0);	/* the evictor made room */
	fdpkv_completion_release(&done);
	assert_true(evicted(c) > 0);
	fdpkv_close(c);
}

/* Every object locked: nothing can be evicted, and the write fails. */
static void test_no_room_fails_enospc(void **state)
{
	struct fdpkv_cache *c = tu_open(kv);
	static uint8_t val[256 << 10];
	char name[32];
	unsigned int i;
	int ret = 0;

	(void)state;
	tu_fill(val, sizeof(val), 2);
	for (i = 0; i < 64 && ret == 0; i++) {
		snprintf(name, sizeof(name), "m@0@0@l%u", i);
		ret = tu_set1(c, name, val, sizeof(val));
		if (ret == 0)
			assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, name), 0);
	}
	assert_int_equal(ret, -ENOSPC);
	fdpkv_close(c);
}

static void count_key(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	const char *want = ((const char **)arg)[0];

	(void)vlen;
	if (klen == strlen(want) && !memcmp(key, want, klen))
		((const char **)arg)[1] = want;	/* found */
}

/* Was @key reported by fdpkv_take_evicted (and how many keys in all)? */
static int take_evicted_has(struct fdpkv_cache *c, const char *key, bool *has)
{
	const char *arg[2] = { key, NULL };
	int n = fdpkv_take_evicted(c, count_key, arg);

	*has = arg[1] != NULL;
	return n;
}

/* 1 KiB values: one object per 4 KiB LBA, up to 256 to a 1 MiB segment, 4 batches */
static void test_half_evicted_segment(void **state)
{
	static uint8_t val[1024], newval[1024], got[1024];
	char kv2[600], name[32], live[3][32];
	struct fdpkv_cache *c;
	struct segment *sg = NULL;
	struct index_entry *e;
	unsigned int i, s, left = 0, per;
	uint32_t nfree;
	bool has;

	(void)state;
	snprintf(kv2, sizeof(kv2), "device=file:%s/half.img capacity=8M segment_size=1M "
		 "free_segments_low=3 format=", dir);
	c = tu_open(strcat(kv2, "always"));
	tu_fill(val, sizeof(val), 5);
	tu_fill(newval, sizeof(newval), 6);
	evictor_hold(c, true);
	/* fill until fewer than free_segments_low are free: the evictor is kicked */
	for (i = 0;; i++) {
		snprintf(name, sizeof(name), "m@0@0@h%u", i);
		assert_int_equal(tu_set1(c, name, val, sizeof(val)), 0);
		pthread_mutex_lock(&c->lock);
		nfree = c->devs[0].segs.nfree;
		pthread_mutex_unlock(&c->lock);
		if (nfree < 3)
			break;	/* two left: for the SET and DELETE below */
	}
	/* segment 0, the oldest, before any eviction: its objects, summary room aside */
	pthread_mutex_lock(&c->lock);
	per = (unsigned int)c->devs[0].segs.segs[0].live_objs;
	pthread_mutex_unlock(&c->lock);
	assert_true(per > 240 && per <= 256);
	evictor_batches(c, 1);		/* one batch, then it stops */
	pthread_mutex_lock(&c->lock);
	for (s = 0; s < c->devs[0].segs.n; s++)
		if (c->devs[0].segs.segs[s].evicting)
			sg = &c->devs[0].segs.segs[s];
	assert_non_null(sg);
	assert_int_equal(sg->state, SEG_RECLAIM);
	assert_false(sg->dealloc_sent);		/* still readable */
	for (e = sg->entries; e; e = index_seg_next(&c->ix, e), left++) {
		uint32_t klen;
		/* memory holds no key: the one the eviction read back */
		const uint8_t *key = segkeys_find(sg->keys, e->off_lba, &klen);

		assert_non_null(key);
		if (left < 3)
			snprintf(live[left], sizeof(live[left]), "%.*s", (int)klen, key);
	}
	pthread_mutex_unlock(&c->lock);
	assert_true(left >= 3 && left < per);	/* halfway */
	assert_int_equal(evicted(c), 0);	/* not done */
	/* the oldest key went in the first batch: reported and a miss */
	assert_int_equal(take_evicted_has(c, "m@0@0@h0", &has), per - left);
	assert_true(has);
	assert_int_equal(tu_get1(c, "m@0@0@h0", got, sizeof(got)), -ENOENT);
	/* the others are live */
	assert_int_equal(tu_get1(c, live[0], got, sizeof(got)), 0);
	assert_memory_equal(got, val, sizeof(val));
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, live[0]), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, live[0]), -ENOENT);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, live[2]), 0);
	assert_int_equal(tu_set1(c, live[1], newval, sizeof(newval)), 0);
	assert_int_equal(tu_get1(c, live[1], got, sizeof(got)), 0);
	assert_memory_equal(got, newval, sizeof(newval));
	assert_int_equal(tu_get1(c, live[2], got, sizeof(got)), -ENOENT);

	evictor_hold(c, false);		/* the eviction ends */
	for (i = 0; evicted(c) == 0; i++) {
		assert_true(i < 100000);
		fdpkv_wait(c, 1);
	}
	assert_int_equal(tu_get1(c, live[0], got, sizeof(got)), -ENOENT);
	assert_int_equal(tu_get1(c, live[1], got, sizeof(got)), 0);
	assert_memory_equal(got, newval, sizeof(newval));
	assert_int_equal(tu_get1(c, live[2], got, sizeof(got)), -ENOENT);
	/* replaced and deleted meanwhile: not reported as evicted */
	take_evicted_has(c, live[1], &has);
	assert_false(has);
	fdpkv_close(c);

	strcpy(strrchr(kv2, '=') + 1, "never");	/* the restart keeps what is there */
	c = tu_open(kv2);
	assert_int_equal(tu_get1(c, live[1], got, sizeof(got)), 0);
	assert_memory_equal(got, newval, sizeof(newval));
	assert_int_equal(tu_get1(c, live[2], got, sizeof(got)), -ENOENT);
	fdpkv_close(c);
}

static bool has_waiters(struct fdpkv_cache *c)
{
	bool got;

	pthread_mutex_lock(&c->lock);
	got = c->devs[0].waiters != NULL;
	pthread_mutex_unlock(&c->lock);
	return got;
}

static uint64_t waiter_retries(struct fdpkv_cache *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->lock);
	n = c->devs[0].waiter_retries;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/*
 * Writes wait for room and the device is paused: the evictor evicts a
 * segment whose deallocate then waits in the device. No segment is free
 * and that one is on its way: the pass retries no waiter. Once the device
 * goes on, the segment's reclaim retries them and every write completes.
 */
static void test_waiters_left_to_reclaim(void **state)
{
	/*
	 * The device is paused while the evictor runs: an eviction that names
	 * keys reads them from the device first (segkeys.c) and would wait for
	 * the pause; this one reports none, copies none, carries none.
	 */
	const char *kv3 = "devices=sim:name=ev-retry capacity=8M segment_size=1M "
			  "free_segments_low=1 placement=none report_evicted=0 reinsert=0";
	static uint8_t val[256 << 10];
	struct fdpkv_completion done;
	struct fdpkv_key k[3];
	struct fdpkv_buf b = { val, sizeof(val) };
	struct fdpkv_cache *c;
	char name[3][32];
	unsigned int i, n, pending = 0;
	uint64_t id, before;

	(void)state;
	tu_fill(val, sizeof(val), 7);
	c = tu_open(kv3);
	evictor_hold(c, true);
	/* fill until a write waits for room, then queue two more behind it */
	for (i = 0, n = 0; n < 3; i++) {
		assert_true(i < 64);
		snprintf(name[n], sizeof(name[n]), "m@0@0@w%u", i);
		k[n] = tu_key(name[n]);
		assert_int_equal(fdpkv_submit(c, FDPKV_OP_SET, 1, &k[n], &b, NULL, &id), 0);
		if (n || has_waiters(c)) {
			n++;
			pending++;
			continue;
		}
		while (fdpkv_drain(c, &done, 1) == 0)
			fdpkv_wait(c, -1);
		assert_int_equal(done.result, 0);
		fdpkv_completion_release(&done);
	}
	assert_int_equal(evicted(c), 0);
	assert_int_equal(sim_pause("ev-retry", true), 0);
	before = waiter_retries(c);
	evictor_hold(c, false);
	evictor_wait_idle(c);
	assert_int_equal(evicted(c), 1);		/* its deallocate waits */
	pthread_mutex_lock(&c->lock);
	assert_int_equal(c->devs[0].segs.nfree, 0);
	assert_true(reclaim_moving(&c->devs[0]));
	pthread_mutex_unlock(&c->lock);
	assert_true(has_waiters(c));
	assert_int_equal(waiter_retries(c), before);	/* none retried in vain */
	assert_int_equal(sim_pause("ev-retry", false), 0);
	while (pending) {
		assert_int_equal(fdpkv_wait(c, 60000), 1);
		while (fdpkv_drain(c, &done, 1) == 1) {
			assert_int_equal(done.result, 0);
			pending--;
			fdpkv_completion_release(&done);
		}
	}
	assert_true(waiter_retries(c) > before);	/* by the reclaim */
	fdpkv_close(c);
	assert_int_equal(sim_destroy("ev-retry"), 0);
}

/* What kept the stuck segment on its way, and ends (seg_released) */
enum hold_end { END_READ, END_COPY, END_HELD_WRITE };

/*
 * A write waits for room, no segment is free, and the one segment being
 * reclaimed waits for its carried record, which waits for room itself:
 * only one more thing kept it "on its way" (reclaim_moving). When that
 * ends, the waiters must be unstuck (the evictor asked to evict one more),
 * or nothing ever wakes them: the crash checker hung so, every thread idle.
 * What ends is a GET's read (read.c), a re-insert copy's write
 * (reinsert_finish) or a user write that held the segment for a record's
 * hiding duty (shadow_release_held), each through the call it really
 * makes. The segment's state is set by hand, under the lock.
 */
static void test_hold_end_unsticks_waiters(void **state)
{
	const char *kv6 = "devices=sim:name=ev-read capacity=8M segment_size=1M "
			  "free_segments_low=1 placement=none report_evicted=0 reinsert=0";
	enum hold_end end = *(const enum hold_end *)*state;
	static uint8_t val[256 << 10];
	struct fdpkv_completion done;
	struct fdpkv_buf b = { val, sizeof(val) };
	struct reinsert_req *copy = NULL;
	struct key_req held = { 0 };
	struct fdpkv_cache *c;
	struct devctx *d;
	struct segment *sg;
	struct fdpkv_key k;
	char name[32];
	unsigned int i;
	int64_t s;
	uint64_t id;

	tu_fill(val, sizeof(val), 9);
	c = tu_open(kv6);
	evictor_hold(c, true);
	for (i = 0; !has_waiters(c); i++) {
		assert_true(i < 64);
		snprintf(name, sizeof(name), "m@0@0@r%u", i);
		k = tu_key(name);
		assert_int_equal(fdpkv_submit(c, FDPKV_OP_SET, 1, &k, &b, NULL, &id), 0);
		if (has_waiters(c))
			break;
		while (fdpkv_drain(c, &done, 1) == 0)
			fdpkv_wait(c, -1);
		assert_int_equal(done.result, 0);
		fdpkv_completion_release(&done);
	}

	pthread_mutex_lock(&c->lock);
	d = &c->devs[0];
	assert_int_equal(d->segs.nfree, 0);
	assert_false(d->unstick);
	s = segs_pick_victim(&d->segs);
	assert_true(s >= 0);
	sg = &d->segs.segs[s];
	/* being reclaimed: its carried record waits for room, one more thing holds it */
	sg->state = SEG_RECLAIM;
	d->segs.nreclaim++;
	sg->copies = sg->copies_waiting = 1;
	if (end == END_READ) {
		sg->readers = 1;
	} else if (end == END_COPY) {
		copy = calloc(1, sizeof(*copy));
		assert_non_null(copy);
		copy->d = d;
		copy->src_seg = (uint32_t)s;
		copy->kr.dev = 0;
		copy->kr.staging = staging_get(c, 4096, &copy->kr.staging_cap);
		assert_non_null(copy->kr.staging);
		c->inflight_ops++;
		sg->copies++;
	} else {
		held.nheld = 1;
		held.held_src[0] = (uint32_t)s;
		sg->copies++;
	}
	assert_true(reclaim_moving(d));
	/* it ends */
	if (end == END_READ) {
		sg->readers = 0;
		seg_released(d, (uint32_t)s);
	} else if (end == END_COPY) {
		pthread_mutex_unlock(&c->lock);
		reinsert_finish(&copy->kr);	/* takes the lock, frees the request */
		pthread_mutex_lock(&c->lock);
	} else {
		shadow_release_held(d, &held);
	}
	assert_int_equal(sg->copies, 1);
	assert_false(reclaim_moving(d));
	assert_true(d->unstick);		/* the evictor evicts one more */
	/* back as it was: the record never existed */
	sg->copies = sg->copies_waiting = 0;
	d->segs.nreclaim--;
	sg->state = SEG_SEALED;
	pthread_mutex_unlock(&c->lock);

	evictor_hold(c, false);
	assert_int_equal(fdpkv_wait(c, 60000), 1);
	assert_int_equal(fdpkv_drain(c, &done, 1), 1);
	assert_int_equal(done.result, 0);
	fdpkv_completion_release(&done);
	fdpkv_close(c);
	assert_int_equal(sim_destroy("ev-read"), 0);
}

/* 1 KiB values, 256 to a 1 MiB segment, all read: 4 batches of copies */
static void test_copy_staging_ready_between_batches(void **state)
{
	static uint8_t val[1024], got[1024];
	char kv4[600], name[32];
	struct fdpkv_cache *c;
	uint64_t hits1, misses1, hits2, misses2;
	unsigned int i;
	uint32_t nfree;

	(void)state;
	snprintf(kv4, sizeof(kv4), "device=file:%s/stash.img capacity=8M segment_size=1M "
		 "free_segments_low=3 reinsert=1 format=always", dir);
	c = tu_open(kv4);
	tu_fill(val, sizeof(val), 8);
	evictor_hold(c, true);
	for (i = 0;; i++) {
		snprintf(name, sizeof(name), "m@0@0@s%u", i);
		assert_int_equal(tu_set1(c, name, val, sizeof(val)), 0);
		if (i < 256)	/* the first segment's keys: read, so copied */
			assert_int_equal(tu_get1(c, name, got, sizeof(got)), 0);
		pthread_mutex_lock(&c->lock);
		nfree = c->devs[0].segs.nfree;
		pthread_mutex_unlock(&c->lock);
		if (nfree < 3)
			break;
	}
	evictor_batches(c, 1);		/* copies 64 keys: their staging allocated */
	evictor_stash_counts(c, &hits1, &misses1);
	assert_true(misses1 > 0);
	evictor_batches(c, 1);		/* the next 64: made ready in between */
	evictor_stash_counts(c, &hits2, &misses2);
	assert_int_equal(misses2, misses1);
	assert_true(hits2 > hits1);
	evictor_hold(c, false);
	evictor_wait_idle(c);
	fdpkv_close(c);
}

/* The segment @name's entry is in (UINT32_MAX: none). */
static uint32_t key_segment(struct fdpkv_cache *c, const char *name)
{
	struct index_entry *e;
	uint32_t seg;

	pthread_mutex_lock(&c->lock);
	e = index_find(&c->ix, name, (uint32_t)strlen(name));
	seg = e ? e->seg : UINT32_MAX;
	pthread_mutex_unlock(&c->lock);
	return seg;
}

/*
 * Segments 0 and 2 read (copied), 1 not: only segment 0's first batch
 * allocates staging under the lock; segment 2 finds what segment 0 left.
 */
static void test_copy_staging_kept_across_segments(void **state)
{
	static uint8_t val[1024], got[1024];
	char kv5[600], name[32];
	struct fdpkv_cache *c;
	uint64_t hits, misses;
	unsigned int i, nread = 0, per0 = 0;
	bool past = false;

	(void)state;
	snprintf(kv5, sizeof(kv5), "device=file:%s/stash2.img capacity=8M segment_size=1M "
		 "free_segments_low=2 reinsert=1 format=always", dir);
	c = tu_open(kv5);
	tu_fill(val, sizeof(val), 9);
	for (i = 0; evicted(c) < 3; i++) {
		uint32_t seg;

		assert_true(i < 100000);
		snprintf(name, sizeof(name), "m@0@0@t%u", i);
		assert_int_equal(tu_set1(c, name, val, sizeof(val)), 0);
		/* the first use of segments 0 and 2 only (0 is reused once evicted) */
		seg = key_segment(c, name);
		past |= seg > 2;
		if (!past && (seg == 0 || seg == 2)) {
			assert_int_equal(tu_get1(c, name, got, sizeof(got)), 0);
			nread++;
			per0 += seg == 0;
		}
	}
	evictor_wait_idle(c);
	evictor_stash_counts(c, &hits, &misses);
	/*
	 * Segment 0's first batch, and of segment 2's first batch (64) what
	 * segment 0's last, smaller one did not get ready: a segment holds
	 * fewer than 256 objects, its summary takes the room of some.
	 */
	assert_int_equal(misses, 64 + (per0 % 64 ? 64 - per0 % 64 : 0));
	assert_true(hits >= nread - misses);	/* all other copies */
	fdpkv_close(c);
}

/*
 * Evicted keys are kept for fdpkv_take_evicted, one allocation each: a
 * caller that never takes them (LMCache's native_plugin connector) opens
 * with report_evicted=0, and nothing is kept, while eviction goes on.
 */
static uint64_t evict_some(const char *extra, int *reported)
{
	static uint8_t val[256 << 10];
	struct fdpkv_cache *c;
	struct fdpkv_stats s;
	char kvr[600], name[32];
	unsigned int i;

	snprintf(kvr, sizeof(kvr), "%s %s", kv, extra);
	c = tu_open(kvr);
	tu_fill(val, sizeof(val), 7);
	for (i = 0; i < 96; i++) {	/* 24 MiB through an 8 MiB cache */
		snprintf(name, sizeof(name), "m@0@0@r%u", i);
		assert_int_equal(tu_set1(c, name, val, sizeof(val)), 0);
	}
	evictor_hold_quiet(c);
	*reported = fdpkv_take_evicted(c, NULL, NULL);
	assert_int_equal(fdpkv_stats(c, &s), 0);
	fdpkv_close(c);
	return s.evicted_objects;
}

static void test_evictions_kept_only_when_reported(void **state)
{
	uint64_t n;
	int reported;

	(void)state;
	n = evict_some("", &reported);
	assert_true(n > 0);
	assert_int_equal((uint64_t)reported, n);
	n = evict_some("report_evicted=0", &reported);
	assert_true(n > 0);
	assert_int_equal(reported, 0);
}

int main(void)
{
	static enum hold_end end_read = END_READ, end_copy = END_COPY,
				     end_held = END_HELD_WRITE;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_submit_does_not_evict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_room_fails_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_evicted_segment, setup, teardown),
		cmocka_unit_test(test_waiters_left_to_reclaim),
		cmocka_unit_test_prestate(test_hold_end_unsticks_waiters, &end_read),
		cmocka_unit_test_prestate(test_hold_end_unsticks_waiters, &end_copy),
		cmocka_unit_test_prestate(test_hold_end_unsticks_waiters, &end_held),
		cmocka_unit_test_setup_teardown(test_copy_staging_ready_between_batches, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_evictions_kept_only_when_reported, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_copy_staging_kept_across_segments, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
