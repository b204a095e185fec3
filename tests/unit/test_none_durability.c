// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_none_durability - durability=none after a power cut: acknowledged
 * data may be missing, an older version never comes back. The crash
 * checker found it (every crash point with overwrites, once it judged none
 * like the other modes): an overwrite acknowledged unflushed and lost
 * brought back the version it replaced, a lost delete record the deleted
 * key. Writes that hide an older version are now flushed before their
 * operation completes (op_finish, hide_mask); first writes of a key are
 * not, and a cut loses them -- the last test shows both sides.
 *
 * Each cut keeps none of the unpersisted commands (SIM_CUT_DROP_ALL): the
 * worst case for what a cut can lose.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "util.h"

#define NAME "nonedur"
#define KV "devices=sim:name=" NAME "&vwc=1 capacity=8M segment_size=256K durability=none " \
	   "placement=none reinsert=0"

static uint8_t v1[16 << 10], v2[16 << 10], got[16 << 10];

/* k = v1, made durable by a clean close; the cache reopened */
static struct fdpkv_cache *open_with_k(void)
{
	struct fdpkv_cache *c = tu_open(KV);

	tu_fill(v1, sizeof(v1), 1);
	tu_fill(v2, sizeof(v2), 2);
	assert_int_equal(tu_set1(c, "k", v1, sizeof(v1)), 0);
	fdpkv_close(c);
	return tu_open(KV);
}

/* Power cut, keeping none of what was not flushed; then the restart. */
static struct fdpkv_cache *cut_and_restart(struct fdpkv_cache *c)
{
	assert_int_equal(sim_power_cut(NAME, 1, SIM_CUT_DROP_ALL, NULL), 0);
	fdpkv_close(c);
	return tu_open(KV);
}

static void test_overwrite_never_reverts(void **state)
{
	struct fdpkv_cache *c = open_with_k();

	(void)state;
	assert_int_equal(tu_set1(c, "k", v2, sizeof(v2)), 0);	/* acknowledged */
	c = cut_and_restart(c);
	assert_int_equal(tu_get1(c, "k", got, sizeof(got)), 0);
	assert_memory_equal(got, v2, sizeof(v2));
	fdpkv_close(c);
	assert_int_equal(sim_destroy(NAME), 0);
}

static void test_delete_stays_done(void **state)
{
	struct fdpkv_cache *c = open_with_k();

	(void)state;
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "k"), 0);
	c = cut_and_restart(c);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "k"), -ENOENT);
	fdpkv_close(c);
	assert_int_equal(sim_destroy(NAME), 0);
}

/* A first write pays no flush: the cut loses it. A first write in a batch
 * with an overwrite is covered by the batch's flush. */
static void test_first_write_unflushed(void **state)
{
	struct fdpkv_cache *c = open_with_k();
	struct fdpkv_key keys[2] = { tu_key("new"), tu_key("k") };
	struct fdpkv_buf bufs[2] = { { v1, sizeof(v1) }, { v2, sizeof(v2) } };
	struct sim_cut_stats cs = { 0 };

	(void)state;
	assert_int_equal(tu_run(c, FDPKV_OP_SET, 2, keys, bufs, NULL), 0);
	assert_int_equal(tu_set1(c, "fresh", v1, sizeof(v1)), 0);
	assert_int_equal(sim_power_cut(NAME, 1, SIM_CUT_DROP_ALL, &cs), 0);
	assert_true(cs.logged >= 1);	/* "fresh" was not flushed */
	fdpkv_close(c);
	c = tu_open(KV);
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "fresh"), -ENOENT);
	assert_int_equal(tu_get1(c, "k", got, sizeof(got)), 0);
	assert_memory_equal(got, v2, sizeof(v2));
	/* "new" was in the batch the overwrite's flush covered */
	assert_int_equal(tu_get1(c, "new", got, sizeof(got)), 0);
	assert_memory_equal(got, v1, sizeof(v1));
	fdpkv_close(c);
	assert_int_equal(sim_destroy(NAME), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overwrite_never_reverts),
		cmocka_unit_test(test_delete_stays_done),
		cmocka_unit_test(test_first_write_unflushed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
