// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_shadow - an object that was logically dead before a restart must not
 * come back after it (issue #4).
 *
 * (a) A deleted key whose old object sits in a segment that outlives the
 *     delete record's metadata segment (the open segment of a rarely written
 *     salt class) stays deleted, however often the metadata class turns
 *     over; delete records do not pin the device either. A later SET of the
 *     key still wins over the carried delete record.
 * (b) A key re-set into a later segment that is evicted first (the older
 *     segment is pinned by a lock on another key) does not come back with
 *     its older value; nor does an older re-insert copy in the re-insert
 *     class once the newer version is evicted.
 *
 * (c) Overwrites while a rarely written class keeps the oldest open segment:
 *     the records that hide the old versions must not pile up until the
 *     device is full of carried records and evictions wait on each other
 *     (found in review: the 11th round hung); SETs keep completing and the
 *     newest values stay loadable.
 *
 * File backend, clean close and reopen: close writes nothing recovery needs
 * (fdpkv_close), so this is also what a crash leaves once writes are acked.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "util.h"

#define BIG	(200 * 1024)	/* five objects fill a 1 MiB segment */
#define BATCH	64


struct watch {
	const char *key;
	bool seen;
};

static void on_evicted(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	struct watch *w = arg;

	(void)vlen;
	if (klen == strlen(w->key) && !memcmp(key, w->key, klen))
		w->seen = true;
}

/* Write big fillers until @key is reported evicted; fails if it never is. */
static void churn_until_evicted(struct fdpkv_cache *c, const char *key, const char *prefix)
{
	struct watch w = { .key = key };
	uint8_t *v = malloc(BIG);
	char fk[64];
	unsigned int i;

	tu_fill(v, BIG, 999);
	for (i = 0; i < 1000 && !w.seen; i++) {
		snprintf(fk, sizeof(fk), "m@0@0@%s%u", prefix, i);
		assert_int_equal(tu_set1(c, fk, v, BIG), 0);
		fdpkv_take_evicted(c, on_evicted, &w);
	}
	assert_true(w.seen);
	free(v);
}

/* (b) K v1 in S1, K v2 in S2; S1 pinned by a lock on L, so S2 goes first. */
static void test_newer_version_evicted_first(void **state)
{
	uint8_t *v = malloc(BIG), *o = malloc(BIG);
	struct fdpkv_stats st;
	struct fdpkv_cache *c;
	char kv[512];
	unsigned int i;

	(void)state;
	snprintf(kv, sizeof(kv),
		 "device=file:%s/b.img capacity=32M segment_size=1M placement=none", tu_dir);
	c = tu_open(kv);
	tu_fill(v, BIG, 1);
	assert_int_equal(tu_set1(c, "m@0@0@K", v, BIG), 0);
	assert_int_equal(tu_set1(c, "m@0@0@L", v, BIG), 0);
	for (i = 0; i < 3; i++) {
		char fk[32];

		snprintf(fk, sizeof(fk), "m@0@0@s1-%u", i);
		assert_int_equal(tu_set1(c, fk, v, BIG), 0);
	}
	assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, "m@0@0@L"), 0);
	tu_fill(v, BIG, 2);
	assert_int_equal(tu_set1(c, "m@0@0@K", v, BIG), 0);	/* v2, next segment */
	assert_int_equal(fdpkv_stats(c, &st), 0);
	assert_int_equal(st.shadowing_entries, 1);	/* K v2 over v1 */
	churn_until_evicted(c, "m@0@0@K", "f");
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@0@0@K"), -ENOENT);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@0@0@L"), 0);	/* still pinned */
	tu_wait_stat(c, offsetof(struct fdpkv_stats, carried_records), 1, "carried record");
	assert_int_equal(fdpkv_stats(c, &st), 0);
	assert_int_equal(st.carried_records, 1);
	assert_int_equal(st.io_errors, 0);
	fdpkv_close(c);

	c = tu_open(kv);
	memset(o, 0, BIG);
	/* absent is right; v1 would be a value overwritten before the restart */
	assert_int_equal(tu_get1(c, "m@0@0@K", o, BIG), -ENOENT);
	tu_fill(v, BIG, 1);
	assert_int_equal(tu_get1(c, "m@0@0@L", o, BIG), 0);
	assert_memory_equal(o, v, BIG);
	/* the key may be set again, and that version survives a restart */
	tu_fill(v, BIG, 3);
	assert_int_equal(tu_set1(c, "m@0@0@K", v, BIG), 0);
	fdpkv_close(c);
	c = tu_open(kv);
	assert_int_equal(tu_get1(c, "m@0@0@K", o, BIG), 0);
	assert_memory_equal(o, v, BIG);
	fdpkv_close(c);
	free(v);
	free(o);
}

/* (b) K v1 read, its segment evicted: copy in the re-insert class (which
 * stays open); K v2 set and evicted; the copy must not come back. */
static void test_reinsert_copy_under_newer(void **state)
{
	uint8_t *v = malloc(BIG), *o = malloc(BIG);
	struct fdpkv_cache *c;
	char kv[512];
	unsigned int i;

	(void)state;
	snprintf(kv, sizeof(kv),
		 "device=file:%s/r.img capacity=32M segment_size=1M placement=none reinsert=1",
		 tu_dir);
	c = tu_open(kv);
	tu_fill(v, BIG, 1);
	assert_int_equal(tu_set1(c, "m@0@0@K", v, BIG), 0);
	for (i = 0; i < 4; i++) {
		char fk[32];

		snprintf(fk, sizeof(fk), "m@0@0@s1-%u", i);
		assert_int_equal(tu_set1(c, fk, v, BIG), 0);
	}
	assert_int_equal(tu_get1(c, "m@0@0@K", o, BIG), 0);	/* read: copied on eviction */
	churn_until_evicted(c, "m@0@0@s1-0", "f");
	tu_wait_stat(c, offsetof(struct fdpkv_stats, reinserted_objects), 1, "re-insert copy");
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@0@0@K"), 0);
	tu_fill(v, BIG, 2);
	assert_int_equal(tu_set1(c, "m@0@0@K", v, BIG), 0);	/* v2 in the data class */
	churn_until_evicted(c, "m@0@0@K", "g");
	fdpkv_close(c);

	c = tu_open(kv);
	assert_int_equal(tu_get1(c, "m@0@0@K", o, BIG), -ENOENT);
	fdpkv_close(c);
	free(v);
	free(o);
}

/* A salt bucket that lands in another data class than "hot". */
static void cold_bucket(char *out, size_t len, unsigned int ndata)
{
	unsigned int hot = placement_class("hot", ndata), i;

	for (i = 0; i < 1000; i++) {
		snprintf(out, len, "cold%u", i);
		if (placement_class(out, ndata) != hot)
			return;
	}
	fail_msg("no cold bucket");
}

/*
 * Set and delete @rounds batches of small hot keys: the metadata class fills
 * with delete records and turns over several times. Every operation must
 * succeed: delete records may not pin the device.
 */
static void delete_churn(struct fdpkv_cache *c, unsigned int rounds, unsigned int tag)
{
	static char names[BATCH][48];
	struct fdpkv_key keys[BATCH];
	struct fdpkv_buf bufs[BATCH];
	uint8_t v[3000];
	unsigned int r, i;

	tu_fill(v, sizeof(v), 5);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < BATCH; i++) {
			snprintf(names[i], sizeof(names[i]), "m@0@0@d%u-%u-%u@hot", tag, r, i);
			keys[i] = tu_key(names[i]);
			bufs[i] = (struct fdpkv_buf){ v, sizeof(v) };
		}
		assert_int_equal(tu_run(c, FDPKV_OP_SET, BATCH, keys, bufs, NULL), 0);
		assert_int_equal(tu_run(c, FDPKV_OP_DELETE, BATCH, keys, NULL, NULL), 0);
	}
}

/* (a) K in the open segment of a cold class, deleted; the metadata class
 * turns over many times before the restart. */
static void test_delete_outlives_meta_segment(void **state)
{
	struct fdpkv_cache *c;
	struct fdpkv_stats st;
	uint8_t v[1000], o[1000];
	char kv[512], bucket[32], key[64];

	(void)state;
	snprintf(kv, sizeof(kv), "device=file:%s/a.img capacity=16M segment_size=1M max_classes=2",
		 tu_dir);
	c = tu_open(kv);
	cold_bucket(bucket, sizeof(bucket), c->ndata);
	snprintf(key, sizeof(key), "m@0@0@K@%s", bucket);
	tu_fill(v, sizeof(v), 7);
	assert_int_equal(tu_set1(c, key, v, sizeof(v)), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, key), 0);
	/* ~2.5 device capacities of delete records (4 KiB each) */
	delete_churn(c, 160, 0);
	assert_int_equal(fdpkv_stats(c, &st), 0);
	assert_true(st.classes[FDPKV_CLASS_META].bytes_written > 32ull << 20);
	assert_int_equal(st.io_errors, 0);
	/* K's record was carried forward, and is still held */
	assert_true(st.carried_records > 0);
	assert_true(st.pending_delete_records > 0);
	fdpkv_close(c);

	c = tu_open(kv);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, key), -ENOENT);
	/*
	 * Set again: the new version wins over every carried delete record.
	 * A short churn only: with records held, the cold class's open
	 * segment is sealed and evicted once it holds the oldest data
	 * (seal_oldest_open), and K with it, as FIFO should.
	 */
	tu_fill(v, sizeof(v), 9);
	assert_int_equal(tu_set1(c, key, v, sizeof(v)), 0);
	delete_churn(c, 8, 1);
	fdpkv_close(c);
	c = tu_open(kv);
	memset(o, 0, sizeof(o));
	assert_int_equal(tu_get1(c, key, o, sizeof(o)), 0);
	assert_memory_equal(o, v, sizeof(o));
	/* and deleted again, it stays deleted */
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, key), 0);
	delete_churn(c, 80, 2);
	fdpkv_close(c);
	c = tu_open(kv);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, key), -ENOENT);
	fdpkv_close(c);
}

/* (a) K in a sealed data segment pinned by a lock on another key. */
static void test_delete_in_pinned_segment(void **state)
{
	uint8_t *v = malloc(BIG);
	struct fdpkv_cache *c;
	char kv[512];
	unsigned int i;

	(void)state;
	snprintf(kv, sizeof(kv), "device=file:%s/p.img capacity=16M segment_size=1M max_classes=2",
		 tu_dir);
	c = tu_open(kv);
	tu_fill(v, BIG, 1);
	assert_int_equal(tu_set1(c, "m@0@0@K@hot", v, BIG), 0);
	assert_int_equal(tu_set1(c, "m@0@0@L@hot", v, BIG), 0);
	for (i = 0; i < 3; i++) {
		char fk[32];

		snprintf(fk, sizeof(fk), "m@0@0@s%u@hot", i);
		assert_int_equal(tu_set1(c, fk, v, BIG), 0);
	}
	assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, "m@0@0@L@hot"), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "m@0@0@K@hot"), 0);
	delete_churn(c, 160, 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@0@0@L@hot"), 0);
	fdpkv_close(c);
	c = tu_open(kv);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@0@0@K@hot"), -ENOENT);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@0@0@L@hot"), 0);
	fdpkv_close(c);
	free(v);
}

/* One op with a deadline: -ETIMEDOUT instead of hanging the suite. */
static int run_timed(struct fdpkv_cache *c, enum fdpkv_op op, unsigned int n,
		     const struct fdpkv_key *keys, const struct fdpkv_buf *bufs)
{
	struct fdpkv_completion done;
	uint64_t id;
	int ret;

	ret = fdpkv_submit(c, op, n, keys, bufs, NULL, &id);
	if (ret)
		return ret;
	for (;;) {
		if (fdpkv_wait(c, 60000) == 0)
			return -ETIMEDOUT;
		if (fdpkv_drain(c, &done, 1) != 1)
			continue;
		ret = done.result;
		fdpkv_completion_release(&done);
		return ret;
	}
}

static void test_overwrites_behind_a_cold_open_segment(void **state)
{
	enum { N = 256, ROUNDS = 40 };
	static char names[N][48];
	struct fdpkv_key keys[N];
	struct fdpkv_buf bufs[N];
	struct fdpkv_stats st;
	struct fdpkv_cache *c;
	char kv[512], bucket[32], key[64];
	uint8_t v1[3000], v2[3000], got[3000];
	unsigned int r, i;

	(void)state;
	snprintf(kv, sizeof(kv), "device=file:%s/cold.img capacity=16M segment_size=1M max_classes=2",
		 tu_dir);
	c = tu_open(kv);
	cold_bucket(bucket, sizeof(bucket), c->ndata);
	snprintf(key, sizeof(key), "m@0@0@C@%s", bucket);
	tu_fill(v1, sizeof(v1), 1);
	tu_fill(v2, sizeof(v2), 2);
	assert_int_equal(tu_set1(c, key, v1, sizeof(v1)), 0);	/* the cold class's open segment */
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < N; i++) {
			snprintf(names[i], sizeof(names[i]), "m@0@0@o%u-%u@hot", r, i);
			keys[i] = tu_key(names[i]);
			bufs[i] = (struct fdpkv_buf){ v1, sizeof(v1) };
		}
		assert_int_equal(run_timed(c, FDPKV_OP_SET, N, keys, bufs), 0);
		for (i = 0; i < N; i++)
			bufs[i].base = v2;
		/* the second version lands in the next segment: shadowing */
		assert_int_equal(run_timed(c, FDPKV_OP_SET, N, keys, bufs), 0);
	}
	assert_int_equal(fdpkv_stats(c, &st), 0);
	print_message("carried %llu, pending %llu, shadowing %llu\n",
		      (unsigned long long)st.carried_records,
		      (unsigned long long)st.pending_delete_records,
		      (unsigned long long)st.shadowing_entries);
	fdpkv_close(c);
	/* the last round is whole and has its second value, also after reopen */
	c = tu_open(kv);
	for (i = 0; i < N; i += 17) {
		snprintf(key, sizeof(key), "m@0@0@o%u-%u@hot", ROUNDS - 1, i);
		assert_int_equal(tu_get1(c, key, got, sizeof(got)), 0);
		assert_memory_equal(got, v2, sizeof(got));
	}
	fdpkv_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newer_version_evicted_first),
		cmocka_unit_test(test_reinsert_copy_under_newer),
		cmocka_unit_test(test_delete_outlives_meta_segment),
		cmocka_unit_test(test_delete_in_pinned_segment),
		cmocka_unit_test(test_overwrites_behind_a_cold_open_segment),
	};

	return cmocka_run_group_tests(tests, tu_dir_setup, tu_dir_teardown);
}
