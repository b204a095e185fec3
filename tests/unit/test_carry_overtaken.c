// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_carry_overtaken - found by the crash checker (durability=flush): a
 * delete record carried out of an evicted metadata segment (shadow.c) is
 * decided while its key is absent, but when there is no room it waits, and
 * takes its sequence only when it gets a slot. A SET of the key in the
 * meantime got a lower sequence, so after a restart the carried record hid
 * the acknowledged SET. A carried record that gets its slot now first looks
 * whether its key was written since, and then leaves the hiding duty to that
 * version instead (shadow_carry_overtaken).
 *
 * The wait is made by hand: the sequence lease is used up for a moment, so
 * the carried record cannot reserve and queues as it does without room.
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

#define KV "devices=sim:name=carryover capacity=8M segment_size=256K placement=none " \
	   "reinsert=0 durability=flush"

static void test_carry_overtaken_by_set(void **state)
{
	static uint8_t v1[8 << 10], v2[12 << 10], got[12 << 10];
	struct fdpkv_cache *c = tu_open(KV);
	struct devctx *d = &c->devs[0];
	struct key_req *failed = NULL;
	struct shadow_rec *rec;
	uint64_t lease;

	(void)state;
	tu_fill(v1, sizeof(v1), 1);
	tu_fill(v2, sizeof(v2), 2);
	assert_int_equal(tu_set1(c, "k", v1, sizeof(v1)), 0);
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "k"), 0);
	/* a record hiding k's old objects is carried, and finds no slot */
	pthread_mutex_lock(&c->lock);
	lease = c->seq_lease;
	c->seq_lease = c->seq + 1;
	rec = shadow_rec_new((const uint8_t *)"k", 1, SHADOW_ANY, c->seq + 1);
	assert_non_null(rec);
	shadow_carry(d, d->segs.open[FDPKV_CLASS_META], rec);
	assert_non_null(d->waiters);
	c->seq_lease = lease;
	pthread_mutex_unlock(&c->lock);
	/* k is set again before the record gets its slot */
	assert_int_equal(tu_set1(c, "k", v2, sizeof(v2)), 0);
	pthread_mutex_lock(&c->lock);
	retry_waiters(d, &failed);
	pthread_mutex_unlock(&c->lock);
	complete_failed(failed);
	assert_int_equal(tu_get1(c, "k", got, sizeof(v2)), 0);
	fdpkv_close(c);
	/* the acknowledged SET is what a restart finds */
	c = tu_open(KV);
	assert_int_equal(tu_get1(c, "k", got, sizeof(v2)), 0);
	assert_memory_equal(got, v2, sizeof(v2));
	fdpkv_close(c);
	assert_int_equal(sim_destroy("carryover"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_carry_overtaken_by_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
