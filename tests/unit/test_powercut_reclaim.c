// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_powercut_reclaim - an evicted segment is free only once its
 * deallocate is durable (reclaim.c). With durability=fua the objects are
 * FUA writes but a deallocate is not: were the segment freed (and the delete
 * records hiding its dead objects forgotten) right after the deallocate
 * completed, a power cut losing the deallocate would bring the segment's
 * chain back. The cut here keeps none of the unpersisted commands.
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

#define KV	"devices=sim:name=pcr&vwc=1 capacity=8M segment_size=256K durability=fua " \
		"placement=none reinsert=0"

static uint8_t evicted[256];

static void on_evicted(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	unsigned int k;

	(void)arg;
	(void)vlen;
	if (klen < 8 && sscanf((const char *)key, "k%u", &k) == 1 && k < 256)
		evicted[k] = 1;
}

static void test_evicted_segment_stays_gone_after_cut(void **state)
{
	static uint8_t val[100 << 10], got[100 << 10];
	struct fdpkv_cache *c;
	struct fdpkv_stats st;
	unsigned int k, n = 0, nev = 0;
	char name[16];

	(void)state;
	c = tu_open(KV);
	memset(val, 0x3c, sizeof(val));
	for (k = 0; k < 256; k++) {
		snprintf(name, sizeof(name), "k%u", k);
		assert_int_equal(tu_set1(c, name, val, sizeof(val)), 0);
		n++;
		fdpkv_stats(c, &st);
		if (st.evicted_segments >= 2)
			break;
	}
	/* let the deallocates finish: nothing in flight */
	do {
		usleep(1000);
		fdpkv_stats(c, &st);
	} while (st.inflight_cmds);
	fdpkv_take_evicted(c, on_evicted, NULL);
	assert_int_equal(sim_power_cut("pcr", 1, SIM_CUT_DROP_ALL, NULL), 0);
	fdpkv_close(c);

	c = tu_open(KV);
	for (k = 0; k < n; k++) {
		if (!evicted[k])
			continue;
		nev++;
		snprintf(name, sizeof(name), "k%u", k);
		if (tu_get1(c, name, got, sizeof(got)) == 0)
			fail_msg("evicted key %s is back after the power cut", name);
	}
	assert_true(nev > 0);
	fdpkv_close(c);
	assert_int_equal(sim_destroy("pcr"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evicted_segment_stays_gone_after_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
