// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_torn_dealloc - found by the crash checker (durability=fua, seed
 * 1001318 point 6: "stale version (got v250; acked v265, evicted)"). A key
 * set twice into one segment: the newer version replaces the older in
 * memory without IDX_F_SHADOW (both leave with the same segment, so nothing
 * needs carrying), and when the segment is evicted its deallocate is what
 * makes both go. A deallocate is volatile like a write: a power cut before
 * the flush behind it may tear it, LBA by LBA (backend_sim.c). A tear that
 * zeroes the newer version's header (or part of its value) and leaves the
 * segment's chain up to the older version whole gives recovery the older
 * version alone (or, torn.c, the older version as the fallback of a damaged
 * newer one): an acknowledged SET is undone by an older one.
 *
 * The segment's first LBA is now deallocated alone and made durable before
 * the rest is deallocated (reclaim.c): once the chain has no start, nothing
 * of it is found, however the rest lands.
 *
 * Deterministic: the evictor is held, the segment is evicted by hand, and
 * the flush that would make the deallocate durable fails (the cut comes
 * before it), so the volatile log at the cut holds exactly what the
 * reclaim sent; the sim's own cut (as in the crash checker) then keeps,
 * drops or tears it, over a fixed range of seeds.
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

#define NAME	"torndealloc"
#define URI	"sim:name=" NAME "&vwc=1"
#define KV	"devices=" URI " capacity=8M segment_size=256K placement=none " \
		"reinsert=0 durability=fua"

/*
 * k = @v1, then k = @v2, both in one segment; the segment sealed, evicted
 * and deallocated with every flush after the first @flushes_ok failing, so
 * what the reclaim sends after them stays in the device's volatile log.
 * Returns the open cache.
 */
static struct fdpkv_cache *evict_two_versions(const uint8_t *v1, uint64_t l1, const uint8_t *v2,
					       uint64_t l2, unsigned int flushes_ok)
{
	static uint8_t fill[16 << 10];
	struct fdpkv_cache *c = tu_open(KV);
	struct devctx *d = &c->devs[0];
	struct index_entry *e;
	uint32_t s, i, v1_lba;
	uint8_t cls;
	char key[32];
	bool gone = false;

	evictor_hold(c, true);
	assert_int_equal(tu_set1(c, "k", v1, l1), 0);
	cache_lock(c);
	e = index_find(&c->ix, (const uint8_t *)"k", 1);
	assert_non_null(e);
	v1_lba = e->off_lba;
	cache_unlock(c);
	assert_int_equal(tu_set1(c, "k", v2, l2), 0);	/* acknowledged: FUA */
	cache_lock(c);
	e = index_find(&c->ix, (const uint8_t *)"k", 1);
	s = e->seg;
	cls = d->segs.segs[s].cls;
	/* one segment holds both, the older in front; the newer needs no
	 * carried record */
	assert_true(e->off_lba > v1_lba);
	assert_false(e->flags & IDX_F_SHADOW);
	cache_unlock(c);

	/* other keys seal the segment */
	memset(fill, 0x5a, sizeof(fill));
	for (i = 0; i < 64; i++) {
		bool open;

		cache_lock(c);
		open = d->segs.open[cls] == (int32_t)s;
		cache_unlock(c);
		if (!open)
			break;
		snprintf(key, sizeof(key), "f%u", i);
		assert_int_equal(tu_set1(c, key, fill, sizeof(fill)), 0);
	}
	assert_true(i < 64);

	/* the cut comes before the deallocate's flush: it does not land */
	assert_int_equal(sim_fail_range(NAME, 1u << IO_FLUSH, 0, 0), 0);
	assert_int_equal(sim_fail_skip(NAME, flushes_ok), 0);
	cache_lock(c);
	evict_begin(d, s);
	while (!evict_step(d, s, 1024))
		;
	cache_unlock(c);
	/* reclaimed: free, or quarantined as a failed flush leaves it (the
	 * loop is a hang guard, not a bound) */
	for (i = 0; i < 6000 && !gone; i++) {
		cache_lock(c);
		gone = d->segs.segs[s].state == SEG_QUARANTINE ||
		       d->segs.segs[s].state == SEG_FREE;
		cache_unlock(c);
		if (!gone)
			usleep(10000);
	}
	assert_true(gone);
	assert_int_equal(sim_fail_range(NAME, 0, 0, 0), 0);
	return c;
}

/* After the restart: k is v2 or a miss (it was evicted), never v1. The
 * device is destroyed before any failure is reported. */
static void check_not_older(uint64_t l1, const uint8_t *v2, uint64_t l2, const char *how)
{
	static uint8_t got[64 << 10];
	struct fdpkv_cache *c = tu_open(KV);
	bool older = tu_get1(c, "k", got, l1) == 0;
	int ret = tu_get1(c, "k", got, l2);
	bool newer_ok = ret == -ENOENT || (ret == 0 && !memcmp(got, v2, l2));

	fdpkv_close(c);
	assert_int_equal(sim_destroy(NAME), 0);
	if (older)
		fail_msg("%s: the older version of k is back, the acknowledged newer one gone", how);
	assert_true(newer_ok);
}

/* Cut with seeds 1..@nseeds after the eviction of k's two versions; returns
 * how many cuts tore a command. */
static uint64_t cut_seeds(uint64_t l2, unsigned int flushes_ok, unsigned int nseeds)
{
	static uint8_t v1[1000], v2[64 << 10];
	struct sim_cut_stats cs;
	struct fdpkv_cache *c;
	unsigned int seed;
	uint64_t torn = 0;
	char how[64];

	tu_fill(v1, sizeof(v1), 1);
	tu_fill(v2, l2, 2);
	for (seed = 1; seed <= nseeds; seed++) {
		c = evict_two_versions(v1, sizeof(v1), v2, l2, flushes_ok);
		assert_int_equal(sim_power_cut(NAME, seed, 0, &cs), 0);
		torn += cs.torn;
		fdpkv_close(c);
		snprintf(how, sizeof(how), "v2 of %llu bytes, cut seed %u", (unsigned long long)l2,
			 seed);
		check_not_older(sizeof(v1), v2, l2, how);
	}
	return torn;
}

/* The cut before the first flush of the reclaim. Before the fix: the whole
 * segment's deallocate, torn. The newer version in one LBA with its header
 * (a tear loses it whole), then over several (a tear may keep its header). */
static void test_cut_before_first_flush(void **state)
{
	(void)state;
	assert_true(cut_seeds(2000, 0, 16) > 0);
	assert_true(cut_seeds(20 << 10, 0, 16) > 0);
}

/* The cut after the first LBA's deallocate is durable, before the rest's:
 * however the rest lands, the chain has no start. (Before the fix the one
 * deallocate was durable by then, and nothing was left to tear.) */
static void test_cut_before_second_flush(void **state)
{
	(void)state;
	assert_true(cut_seeds(2000, 1, 16) > 0);
	assert_true(cut_seeds(20 << 10, 1, 16) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cut_before_first_flush),
		cmocka_unit_test(test_cut_before_second_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
