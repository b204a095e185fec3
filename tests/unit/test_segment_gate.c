// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_segment_gate - a class's next segment is never written while its
 * previous segment still has writes in flight: a device that reorders
 * commands could otherwise put the start of the next segment into the
 * previous segment's reclaim unit. Large batches of small objects at queue
 * depth 64 keep many writes in flight across every segment boundary; the
 * library counts any write that leaves while the class's previous segment
 * is still busy (stats.segment_overlaps), and every object must still load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

#define NBATCH	24
#define BATCH	64
#define VLEN	(60u << 10)	/* ~16 objects per 1 MiB segment */

static void test_no_write_crosses_a_busy_segment(void **state)
{
	static char names[NBATCH * BATCH][64];
	struct fdpkv_key keys[BATCH];
	struct fdpkv_buf bufs[BATCH];
	struct fdpkv_stats st;
	char kv[512];
	struct fdpkv_cache *c;
	uint8_t *vals = malloc((size_t)BATCH * VLEN), *got = malloc(VLEN), *want = malloc(VLEN);
	unsigned int b, i, bad = 0;

	(void)state;
	assert_non_null(vals);
	/* the sim device has reclaim units (one per segment); a file has none,
	 * and there the library rightly lets writes cross segments */
	snprintf(kv, sizeof(kv), "device=sim: capacity=256M segment_size=1M "
		 "queue_depth=64 placement=none");
	c = tu_open(kv);
	for (b = 0; b < NBATCH; b++) {
		for (i = 0; i < BATCH; i++) {
			unsigned int k = b * BATCH + i;

			snprintf(names[k], sizeof(names[k]), "m@0@0@%06x", k);
			keys[i] = tu_key(names[k]);
			bufs[i] = (struct fdpkv_buf){ vals + (size_t)i * VLEN, VLEN };
			tu_fill(bufs[i].base, VLEN, k);
		}
		assert_int_equal(tu_run(c, FDPKV_OP_SET, BATCH, keys, bufs, NULL), 0);
	}
	assert_int_equal(fdpkv_stats(c, &st), 0);
	print_message("segments used: %llu, overlapping writes: %llu\n",
		      (unsigned long long)(st.segments_total - st.segments_free),
		      (unsigned long long)st.segment_overlaps);
	assert_true(st.segments_total - st.segments_free >= NBATCH * BATCH / 17);
	assert_int_equal(st.segment_overlaps, 0);
	for (i = 0; i < NBATCH * BATCH; i++) {
		tu_fill(want, VLEN, i);
		bad += tu_get1(c, names[i], got, VLEN) != 0 || memcmp(got, want, VLEN);
	}
	assert_int_equal(bad, 0);
	fdpkv_close(c);
	free(vals);
	free(got);
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_write_crosses_a_busy_segment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
