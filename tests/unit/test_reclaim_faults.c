// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_reclaim_faults - what an evicted segment that is not free yet (its
 * deallocate and wipe failed: quarantined until the next open) still holds
 * must stay hidden. sim_fail_range makes the deallocate and the wipe of one
 * segment fail, deterministically.
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

#include "internal.h"
#include "util.h"

#define SEG		(256u << 10)
#define VLEN		(100u << 10)
#define SEG_OFF(s)	((1ull << 20) + (uint64_t)(s) * SEG)
#define FAIL_RECLAIM	((1u << IO_DEALLOC) | (1u << IO_WRITE))

static unsigned int key_evictions;

static void on_evicted(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	(void)vlen;
	if (klen == strlen(arg) && !memcmp(key, arg, klen))
		key_evictions++;
}

/* Wait until nothing is in flight (deallocates, wipes), then collect evictions. */
static void settle(struct fdpkv_cache *c, const char *key)
{
	struct fdpkv_stats st;

	do {
		usleep(1000);
		fdpkv_stats(c, &st);
	} while (st.inflight_cmds || st.inflight_ops);
	fdpkv_take_evicted(c, on_evicted, (void *)key);
}

/* SET filler keys until @key has been reported evicted @times times in all. */
static void fill_until_evicted(struct fdpkv_cache *c, const char *key, unsigned int times,
			       unsigned int *next, const uint8_t *val)
{
	char name[32];
	unsigned int n;

	for (n = 0; key_evictions < times; n++) {
		assert_true(n < 1000);
		snprintf(name, sizeof(name), "fill%u", (*next)++);
		assert_int_equal(tu_set1(c, name, val, VLEN), 0);
		settle(c, key);
	}
}

/*
 * v1 of a key sits in segment 0, which is evicted but whose deallocate and
 * wipe fail (quarantined: its chain stays on the device). The key is set
 * again (v2, with no entry left that knows of v1) and v2 is evicted too.
 * After a restart recovery walks segment 0 again: v1 must not come back.
 */
static void test_old_version_stays_hidden_when_newer_evicted(void **state)
{
	static uint8_t v1[VLEN], v2[VLEN], fill[VLEN], got[VLEN];
	const char *kv = "devices=sim:name=rf-evict capacity=8M segment_size=256K "
			 "durability=fua placement=none reinsert=0";
	struct fdpkv_cache *c;
	unsigned int next = 0;

	(void)state;
	key_evictions = 0;
	memset(v1, 0x11, sizeof(v1));
	memset(v2, 0x22, sizeof(v2));
	memset(fill, 0x33, sizeof(fill));
	c = tu_open(kv);
	assert_int_equal(tu_set1(c, "k", v1, VLEN), 0);		/* segment 0 */
	assert_int_equal(tu_set1(c, "fill-a", fill, VLEN), 0);	/* segment 0, full */
	assert_int_equal(tu_set1(c, "fill-b", fill, VLEN), 0);	/* segment 1: 0 sealed */
	assert_int_equal(sim_fail_range("rf-evict", FAIL_RECLAIM, SEG_OFF(0), SEG), 0);
	fill_until_evicted(c, "k", 1, &next, fill);
	assert_int_equal(tu_set1(c, "k", v2, VLEN), 0);
	fill_until_evicted(c, "k", 2, &next, fill);
	/* a few more segments: v2's segment is long free */
	for (unsigned int i = 0; i < 8; i++) {
		char name[32];

		snprintf(name, sizeof(name), "fill%u", next++);
		assert_int_equal(tu_set1(c, name, fill, VLEN), 0);
	}
	settle(c, "k");
	fdpkv_close(c);

	c = tu_open(kv);
	memset(got, 0, sizeof(got));
	if (tu_get1(c, "k", got, VLEN) != -ENOENT)
		fail_msg("k came back after the restart: a version with bytes 0x%02x", got[0]);
	fdpkv_close(c);
	assert_int_equal(sim_fail_range("rf-evict", 0, 0, 0), 0);
	assert_int_equal(sim_destroy("rf-evict"), 0);
}

/*
 * As above, but version 2 is deleted instead of evicted, and the segments
 * holding it and its delete record are evicted afterwards (three rounds of
 * the device): the record must be carried while segment 0 holds version 1.
 */
static void test_old_version_stays_hidden_when_newer_deleted(void **state)
{
	static uint8_t v1[VLEN], v2[VLEN], fill[VLEN], got[VLEN];
	const char *kv = "devices=sim:name=rf-delete capacity=8M segment_size=256K "
			 "durability=fua placement=none reinsert=0";
	struct fdpkv_cache *c;
	unsigned int next = 0, i;
	char name[32];

	(void)state;
	key_evictions = 0;
	memset(v1, 0x11, sizeof(v1));
	memset(v2, 0x22, sizeof(v2));
	memset(fill, 0x33, sizeof(fill));
	c = tu_open(kv);
	assert_int_equal(tu_set1(c, "k", v1, VLEN), 0);		/* segment 0 */
	assert_int_equal(tu_set1(c, "fill-a", fill, VLEN), 0);
	assert_int_equal(tu_set1(c, "fill-b", fill, VLEN), 0);	/* segment 0 sealed */
	assert_int_equal(sim_fail_range("rf-delete", FAIL_RECLAIM, SEG_OFF(0), SEG), 0);
	fill_until_evicted(c, "k", 1, &next, fill);
	assert_int_equal(tu_set1(c, "k", v2, VLEN), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "k"), 0);
	for (i = 0; i < 3 * 56; i++) {
		snprintf(name, sizeof(name), "fill%u", next++);
		assert_int_equal(tu_set1(c, name, fill, VLEN), 0);
	}
	settle(c, "k");
	fdpkv_close(c);

	c = tu_open(kv);
	if (tu_get1(c, "k", got, VLEN) != -ENOENT)
		fail_msg("deleted k came back after the restart: a version with bytes 0x%02x",
			 got[0]);
	fdpkv_close(c);
	assert_int_equal(sim_fail_range("rf-delete", 0, 0, 0), 0);
	assert_int_equal(sim_destroy("rf-delete"), 0);
}

/*
 * A DELETE's record sits in a metadata segment M; the deleted object's
 * segment is pinned by a lock on another key in it. M fills up and is
 * evicted: the record must be carried, and that write fails (writes of the
 * metadata placement id fail). M must then stay on the device (quarantined)
 * rather than be deallocated: else after a restart the deleted key is back.
 */
static void test_failed_carried_record_keeps_its_segment(void **state)
{
	static uint8_t v[VLEN], fill[VLEN], got[VLEN];
	const char *kv = "devices=sim:name=rf-carry capacity=8M segment_size=256K "
			 "durability=fua placement=none reinsert=0";
	struct fdpkv_cache *c;
	struct fdpkv_stats st;
	uint8_t small = 7;
	char name[32];
	unsigned int i, next = 0;

	(void)state;
	memset(v, 0x44, sizeof(v));
	memset(fill, 0x55, sizeof(fill));
	c = tu_open(kv);
	assert_int_equal(tu_set1(c, "k", v, VLEN), 0);
	assert_int_equal(tu_set1(c, "pin", v, VLEN), 0);	/* same segment as k */
	assert_int_equal(tu_op1(c, FDPKV_OP_LOOKUP_LOCK, "pin"), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "k"), 0);
	/* 64 more delete records: the first metadata segment is full and sealed */
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "d%u", i);
		assert_int_equal(tu_set1(c, name, &small, 1), 0);
	}
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "d%u", i);
		assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, name), 0);
	}
	/* placement id 0 is the metadata class's (sim: 8 handles) */
	assert_int_equal(sim_fail_pid("rf-carry", 0), 0);
	fdpkv_stats(c, &st);
	for (i = 0; i < 200 && st.evicted_segments < 26; i++) {
		snprintf(name, sizeof(name), "fill%u", next++);
		assert_int_equal(tu_set1(c, name, fill, VLEN), 0);
		settle(c, "");
		fdpkv_stats(c, &st);
	}
	assert_true(st.io_errors > 0);	/* a carried record failed */
	assert_int_equal(sim_fail_pid("rf-carry", -1), 0);
	fdpkv_close(c);

	c = tu_open(kv);
	if (tu_get1(c, "k", got, VLEN) != -ENOENT)
		fail_msg("the deleted key k is back after the restart");
	fdpkv_close(c);
	assert_int_equal(sim_destroy("rf-carry"), 0);
}

/* SET @key and wait for its completion at most 60 s: its result, or -ETIMEDOUT. */
static int set_deadline(struct fdpkv_cache *c, const char *key, const uint8_t *val)
{
	struct fdpkv_key k = tu_key(key);
	struct fdpkv_buf b = { (void *)val, VLEN };
	struct fdpkv_completion done;
	uint64_t id;
	int ret;

	ret = fdpkv_submit(c, FDPKV_OP_SET, 1, &k, &b, NULL, &id);
	if (ret)
		return ret;
	while (fdpkv_drain(c, &done, 1) != 1)
		if (fdpkv_wait(c, 60000) != 1)
			return -ETIMEDOUT;
	ret = done.result;
	fdpkv_completion_release(&done);
	return ret;
}

/*
 * A device that fails every command (a power cut with SIM_CUT_FAIL: gone
 * under a live host) while delete records must be carried: deallocates and
 * wipes fail (segments quarantined), carried records cannot be written.
 * Every write must still complete, with an error, and close must return;
 * the evictions used to wait for room that only they could give back.
 */
static void test_dead_device_fails_instead_of_hanging(void **state)
{
	static uint8_t v[VLEN];
	const char *kv = "devices=sim:name=rf-dead&vwc=1 capacity=8M segment_size=256K "
			 "durability=fua placement=none reinsert=0";
	struct fdpkv_cache *c;
	char name[32];
	unsigned int i, errors = 0;
	int ret;

	(void)state;
	memset(v, 0x66, sizeof(v));
	c = tu_open(kv);
	/* overwrites and deletes: entries that hide older versions, records */
	for (i = 0; i < 90; i++) {
		snprintf(name, sizeof(name), "k%u", i % 30);
		assert_int_equal(tu_set1(c, name, v, VLEN), 0);
		if (i % 7 == 6)
			assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, name), 0);
	}
	assert_int_equal(sim_power_cut("rf-dead", 1, SIM_CUT_FAIL, NULL), 0);
	for (i = 0; i < 120; i++) {
		snprintf(name, sizeof(name), "k%u", i % 40);
		ret = set_deadline(c, name, v);
		if (ret == -ETIMEDOUT)
			fail_msg("SET %u after the device died never completed", i);
		errors += ret < 0;
	}
	assert_true(errors > 0);
	fdpkv_close(c);
	assert_int_equal(sim_destroy("rf-dead"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_version_stays_hidden_when_newer_evicted),
		cmocka_unit_test(test_old_version_stays_hidden_when_newer_deleted),
		cmocka_unit_test(test_failed_carried_record_keeps_its_segment),
		cmocka_unit_test(test_dead_device_fails_instead_of_hanging),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
