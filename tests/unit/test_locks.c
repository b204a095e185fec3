// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_locks - issue 11 item 6: a lock belongs to the version it locked.
 * An unlock of a lock whose version left the cache must not release a lock
 * another holder took on a newer version of the key, and a key whose
 * segment is being evicted cannot be locked (a failed re-insert copy would
 * drop it under the lock).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache.h"
#include "util.h"

/* The per-key status of a one-key operation (tu_run gives the first refusal). */
static int32_t op1_status(struct fdpkv_cache *c, enum fdpkv_op op, const char *key)
{
	struct fdpkv_key k = tu_key(key);
	struct fdpkv_completion done;
	int32_t st;

	tu_run(c, op, 1, &k, NULL, &done);
	st = done.status[0];
	fdpkv_completion_release(&done);
	return st;
}

/*
 * Holder A locks version 1 of k; version 1 is found damaged and dropped;
 * k is set again and holder B locks version 2. A's unlock is stale: it
 * releases nothing of version 2, which B still holds (a DELETE is refused).
 */
static void test_stale_unlock_keeps_newer_lock(void **state)
{
	static uint8_t v1[32 << 10], v2[32 << 10], got[32 << 10];
	char *dir = tu_mkdtemp(), kv[600], path[400];
	struct fdpkv_key k = tu_key("k");
	struct fdpkv_cache *c;
	int32_t st = 1;
	long long off;

	(void)state;
	snprintf(path, sizeof(path), "%s/l.img", dir);
	snprintf(kv, sizeof(kv), "device=file:%s capacity=16M segment_size=1M durability=none",
		 path);
	tu_fill(v1, sizeof(v1), 11);
	tu_fill(v2, sizeof(v2), 12);
	c = tu_open(kv);
	assert_int_equal(tu_set1(c, "k", v1, sizeof(v1)), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, "k"), 0);		/* holder A */
	off = tu_find_bytes(path, v1 + 3000, 64);
	assert_true(off > 0);
	tu_flip_bits(path, off, 0xff);
	assert_int_equal(tu_get1(c, "k", got, sizeof(got)), -ENOENT);	/* damaged: dropped */
	assert_int_equal(tu_set1(c, "k", v2, sizeof(v2)), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, "k"), 0);		/* holder B */
	/* A unlocks: stale, nothing of version 2 is released */
	assert_int_equal(fdpkv_unlock_keys(c, 1, &k, &st), 0);
	assert_int_equal(st, -ESTALE);
	assert_int_equal(op1_status(c, FDPKV_OP_DELETE, "k"), -EBUSY);
	/* B unlocks: version 2's lock is released */
	assert_int_equal(fdpkv_unlock_keys(c, 1, &k, &st), 1);
	assert_int_equal(st, 0);
	assert_int_equal(fdpkv_unlock_keys(c, 1, &k, &st), 0);
	assert_int_equal(st, -ENOENT);
	assert_int_equal(op1_status(c, FDPKV_OP_DELETE, "k"), 0);
	assert_int_equal(fdpkv_unlock_keys(NULL, 1, &k, NULL), -EINVAL);
	assert_int_equal(fdpkv_unlock_keys(c, 1, NULL, NULL), -EINVAL);
	fdpkv_close(c);
	tu_rmdir(dir);
}

#define SEG	(256u << 10)
#define VLEN	(100u << 10)

/* Has the eviction of @key's segment begun? */
static bool key_evicting(struct fdpkv_cache *c, const char *key)
{
	struct index_entry *e;
	bool ret;

	pthread_mutex_lock(&c->lock);
	e = index_find(&c->ix, key, (uint32_t)strlen(key));
	ret = e && c->devs[e->dev].segs.segs[e->seg].state == SEG_RECLAIM;
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/*
 * k was read (a re-insert candidate) and its segment is evicted; while the
 * eviction waits for the device (paused: the read of the segment's keys,
 * segkeys.c, or the copy's read) a LOOKUP_LOCK of k comes in.
 * The copy then fails (its read fails), and the key goes with its segment.
 * If the lock was granted, k must still be readable; the lock must
 * therefore be refused while the segment is being evicted.
 */
static void test_lock_during_eviction_never_lost(void **state)
{
	static uint8_t v[VLEN], got[VLEN];
	const char *kv = "devices=sim:name=lk-evict capacity=8M segment_size=256K "
			 "durability=fua placement=none reinsert=1";
	struct fdpkv_key keys[64];
	struct fdpkv_buf bufs[64];
	char names[64][16];
	struct fdpkv_completion done;
	struct fdpkv_cache *c;
	uint64_t id;
	unsigned int n = 0, pending = 0;
	int32_t lock;

	(void)state;
	memset(v, 0x77, sizeof(v));
	c = tu_open(kv);
	assert_int_equal(tu_set1(c, "k", v, VLEN), 0);		/* segment 0 */
	assert_int_equal(tu_set1(c, "fill-a", v, VLEN), 0);	/* segment 0 full */
	assert_int_equal(tu_set1(c, "fill-b", v, VLEN), 0);	/* segment 1: 0 sealed */
	assert_int_equal(tu_get1(c, "k", got, VLEN), 0);	/* read: a copy candidate */
	assert_int_equal(sim_pause("lk-evict", true), 0);
	/* writes queue up behind the paused device until segment 0 is evicted */
	do {
		assert_true(n < 64);
		snprintf(names[n], sizeof(names[n]), "f%u", n);
		keys[n] = tu_key(names[n]);
		bufs[n] = (struct fdpkv_buf){ v, VLEN };
		assert_int_equal(fdpkv_submit(c, FDPKV_OP_SET, 1, &keys[n], &bufs[n], NULL, &id), 0);
		n++;
		pending++;
		usleep(20000);
	} while (!key_evicting(c, "k"));
	/* the eviction of segment 0 waits in the device: lock k now */
	keys[63] = tu_key("k");
	assert_int_equal(fdpkv_submit(c, FDPKV_OP_LOOKUP_LOCK, 1, &keys[63], NULL, NULL, &id), 0);
	pending++;
	lock = 1;
	assert_int_equal(sim_fail_range("lk-evict", 1u << IO_READ, 1u << 20, SEG), 0);
	assert_int_equal(sim_pause("lk-evict", false), 0);
	while (pending) {
		assert_int_equal(fdpkv_wait(c, 60000), 1);
		while (fdpkv_drain(c, &done, 1) == 1) {
			if (done.op == FDPKV_OP_LOOKUP_LOCK)
				lock = done.status[0];
			pending--;
			fdpkv_completion_release(&done);
		}
	}
	assert_int_equal(sim_fail_range("lk-evict", 0, 0, 0), 0);
	if (lock == 0 && tu_get1(c, "k", got, VLEN) != 0)
		fail_msg("k was locked, yet it is gone: the failed copy dropped it");
	assert_int_equal(lock, -ENOENT);
	fdpkv_close(c);
	assert_int_equal(sim_destroy("lk-evict"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stale_unlock_keeps_newer_lock),
		cmocka_unit_test(test_lock_during_eviction_never_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
