// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_reinsert - re-insert on eviction (config key reinsert=1).
 *
 * Ten 200 KiB objects fill the two oldest 1 MiB segments (five each); some
 * are read, one of the read ones is deleted. Filler objects then push the
 * cache until both segments are evicted. With reinsert=1 the read, live
 * objects must survive (byte-exact, also after a restart on a file: the copy
 * has the higher sequence) and only the unread ones are reported evicted;
 * with reinsert=0 every one of the ten is evicted.
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

#define VAL	(200 * 1024)
#define NKEYS	10

struct ev_set {
	unsigned int n;
	bool seen[NKEYS];
	unsigned int fillers;
};

static void on_evicted(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	struct ev_set *s = arg;
	unsigned int k;
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*s", (int)klen, (const char *)key);
	assert_int_equal(vlen, VAL);
	s->n++;
	if (sscanf(buf, "m@0@0@r%u", &k) == 1 && k < NKEYS)
		s->seen[k] = true;
	else
		s->fillers++;
}

static bool is_read(unsigned int k)
{
	return k % 2 == 0;	/* r0 r2 r4 (segment 0) and r6 r8 (segment 1) */
}

#define DELETED	4u		/* read, then deleted: must not come back */

/* Wait for the copies, then for the eviction their segment asked for. */
static void wait_copies(struct fdpkv_cache *c, uint64_t want)
{
	tu_wait_stat(c, offsetof(struct fdpkv_stats, reinserted_objects), want, "re-insert copies");
	evictor_wait_idle(c);
}

static void run(const char *kv, bool reinsert, bool restart)
{
	struct fdpkv_cache *c = tu_open(kv);
	uint8_t *v = malloc(VAL), *o = malloc(VAL);
	struct ev_set ev = { 0 };
	struct fdpkv_stats st;
	unsigned int k, i, want_copies = 0;
	char key[32];

	for (k = 0; k < NKEYS; k++) {
		snprintf(key, sizeof(key), "m@0@0@r%u", k);
		tu_fill(v, VAL, k);
		assert_int_equal(tu_set1(c, key, v, VAL), 0);
	}
	for (k = 0; k < NKEYS; k++) {
		if (!is_read(k))
			continue;
		snprintf(key, sizeof(key), "m@0@0@r%u", k);
		assert_int_equal(tu_get1(c, key, o, VAL), 0);
		if (k == DELETED)
			assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, key), 0);
		else
			want_copies++;
	}
	/*
	 * fillers until both segments of r0..r9 are evicted, and no further.
	 * Eviction runs on the evictor thread: each filler waits for the
	 * eviction the one before asked for, or on a loaded machine the loop
	 * writes into the free-segment reserve before the thread runs, and the
	 * thread then evicts filler segments too to restore it.
	 */
	tu_fill(v, VAL, 999);
	for (i = 0; i < 200; i++) {
		evictor_wait_idle(c);
		assert_int_equal(fdpkv_stats(c, &st), 0);
		if (st.evicted_segments >= 2)
			break;
		snprintf(key, sizeof(key), "m@0@0@f%u", i);
		assert_int_equal(tu_set1(c, key, v, VAL), 0);
	}
	assert_true(st.evicted_segments >= 2);
	if (reinsert)
		wait_copies(c, want_copies);
	assert_int_equal(fdpkv_stats(c, &st), 0);
	assert_int_equal(st.reinserted_objects, reinsert ? want_copies : 0);
	fdpkv_take_evicted(c, on_evicted, &ev);
	/*
	 * r4's delete record is held (it hides r4's object while that segment
	 * is on the device), and while one is, the cache keeps one more
	 * segment free for carrying it forward (shadow.c: shadow_keeps_segment): at
	 * most the oldest filler segment (five objects) goes too.
	 */
	assert_true(ev.fillers <= 5);
	for (k = 0; k < NKEYS; k++) {
		bool survives = reinsert && is_read(k) && k != DELETED;

		assert_int_equal(ev.seen[k], !survives && k != DELETED);
	}
	assert_int_equal(ev.n - ev.fillers, reinsert ? NKEYS - want_copies - 1 : NKEYS - 1);
	if (restart) {
		fdpkv_close(c);
		c = tu_open(kv);
	}
	for (k = 0; k < NKEYS; k++) {
		bool survives = reinsert && is_read(k) && k != DELETED;

		snprintf(key, sizeof(key), "m@0@0@r%u", k);
		memset(o, 0, VAL);
		if (!survives) {
			assert_int_equal(tu_get1(c, key, o, VAL), -ENOENT);
			continue;
		}
		assert_int_equal(tu_get1(c, key, o, VAL), 0);
		tu_fill(v, VAL, k);
		assert_memory_equal(o, v, VAL);
	}
	if (reinsert && !restart) {
		/* the copies went through the re-insert class */
		assert_int_equal(fdpkv_stats(c, &st), 0);
		assert_true(st.classes[1].bytes_written >= want_copies * VAL);
	}
	free(v);
	free(o);
	fdpkv_close(c);
}

static void test_reinsert_sim(void **state)
{
	(void)state;
	run("device=sim: capacity=32M segment_size=1M placement=none reinsert=1", true, false);
}

static void test_no_reinsert_sim(void **state)
{
	(void)state;
	run("device=sim: capacity=32M segment_size=1M placement=none reinsert=0", false, false);
}

static void test_reinsert_file_restart(void **state)
{
	char *dir = tu_mkdtemp(), kv[512];

	(void)state;
	snprintf(kv, sizeof(kv),
		 "device=file:%s/c.img capacity=32M segment_size=1M placement=none reinsert=1", dir);
	run(kv, true, true);
	tu_rmdir(dir);
}

/* Copies must not starve: re-reading everything and churning many passes
 * keeps the cache working and every copy verified. */
static void test_reinsert_churn(void **state)
{
	struct fdpkv_cache *c = tu_open("device=sim: capacity=16M segment_size=1M "
					"placement=none reinsert=1");
	uint8_t *v = malloc(VAL), *o = malloc(VAL);
	struct fdpkv_stats st;
	unsigned int i, k, hits = 0;
	char key[32];

	(void)state;
	for (i = 0; i < 300; i++) {
		k = i % 40;
		snprintf(key, sizeof(key), "m@0@0@c%u", k);
		if (i % 3 == 0 && tu_get1(c, key, o, VAL) == 0) {
			tu_fill(v, VAL, k);
			assert_memory_equal(o, v, VAL);
			hits++;
			continue;
		}
		tu_fill(v, VAL, k);
		assert_int_equal(tu_set1(c, key, v, VAL), 0);
	}
	assert_int_equal(fdpkv_stats(c, &st), 0);
	assert_true(st.evicted_segments > 5);
	assert_true(hits > 0);
	assert_true(st.reinserted_objects > 0);
	assert_int_equal(st.corrupt_objects, 0);
	assert_int_equal(st.io_errors, 0);
	free(v);
	free(o);
	fdpkv_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reinsert_sim),
		cmocka_unit_test(test_no_reinsert_sim),
		cmocka_unit_test(test_reinsert_file_restart),
		cmocka_unit_test(test_reinsert_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
