// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_waf - device write amplification on the sim backend.
 *
 * The cache's layout (segments that are reclaim units, one placement handle
 * per class, FIFO eviction deallocating whole segments) must keep the
 * modelled device at WAF 1.00 under a churn that writes the device several
 * times over with several cache-salt buckets. The same sim must show real
 * amplification for layouts that break the rule, so that the first check
 * can fail: random in-place overwrites through the backend (the raw_block
 * design) fill the same device to the same amount.
 *
 * Not a contrast here: segments that straddle RUs, one shared handle, or no
 * over-provisioning all stay at 1.00 in this model as long as eviction is
 * global FIFO, because every RU's pages die in write order; the cost of such
 * layouts is capacity held in partly dead RUs, not copies.
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

#define CAP		(32ull << 20)
#define BATCH		8
#define VMAX		(300 * 1024)

static double waf_of(struct fdpkv_cache *c, struct fdpkv_device_stats *ds)
{
	assert_int_equal(fdpkv_device_stats(c, 0, ds), 0);
	assert_true(ds->host_bytes_written > 0);
	return (double)ds->media_bytes_written / (double)ds->host_bytes_written;
}

/* Churn: batches of SETs over 4 tenants (with @skew, tenant 0 takes 85% of
 * the writes), value sizes 64..300 KiB, until the device took @times its
 * capacity. Returns the WAF. */
static double churn(const char *kv, unsigned int times, bool skew)
{
	struct fdpkv_cache *c = tu_open(kv);
	static uint8_t val[VMAX];
	struct fdpkv_key keys[BATCH];
	struct fdpkv_buf bufs[BATCH];
	char names[BATCH][64];
	struct fdpkv_device_stats ds;
	struct fdpkv_stats st;
	unsigned int i = 0, j;
	uint32_t x = 12345;
	double waf;

	tu_fill(val, sizeof(val), 1);
	do {
		for (j = 0; j < BATCH; j++, i++) {
			x = x * 1103515245u + 12345u;
			snprintf(names[j], sizeof(names[j]), "llama@1@0@%08x@tenant%u", i,
				 !skew ? i % 4 : (x >> 4) % 20 < 17 ? 0 : 1 + (x >> 12) % 3);
			keys[j] = tu_key(names[j]);
			bufs[j] = (struct fdpkv_buf){ val, 64 * 1024 + (x >> 8) % (VMAX - 64 * 1024) };
		}
		assert_int_equal(tu_run(c, FDPKV_OP_SET, BATCH, keys, bufs, NULL), 0);
		assert_int_equal(fdpkv_device_stats(c, 0, &ds), 0);
	} while (ds.host_bytes_written < times * CAP);
	assert_int_equal(fdpkv_stats(c, &st), 0);
	assert_true(st.evicted_segments > 2 * ds.segments);
	waf = waf_of(c, &ds);
	printf("waf: %-60s host %4llu MiB media %4llu MiB WAF %.3f\n", kv,
	       (unsigned long long)(ds.host_bytes_written >> 20),
	       (unsigned long long)(ds.media_bytes_written >> 20), waf);
	fdpkv_close(c);
	return waf;
}

static void test_aligned_segments(void **state)
{
	(void)state;
	assert_true(churn("device=sim: capacity=32M segment_size=1M placement=salt max_classes=4",
			  3, false) <= 1.01);
	assert_true(churn("device=sim: capacity=32M segment_size=1M placement=salt max_classes=4",
			  3, true) <= 1.01);
}

/* The raw_block design: fixed slots overwritten in place, at random. */
static void test_random_overwrite(void **state)
{
	struct fdpkv_cache *c = tu_open("device=sim: capacity=32M segment_size=1M placement=none");
	struct devctx *d = &c->devs[0];
	const uint64_t slot = 64 * 1024;
	uint64_t nslots = (d->sb.capacity - d->sb.data_start) / slot, written = 0, i;
	struct fdpkv_device_stats ds;
	uint32_t x = 777;
	void *buf = NULL;
	double waf;

	(void)state;
	assert_int_equal(posix_memalign(&buf, 4096, slot), 0);
	tu_fill(buf, slot, 3);
	/* fill once, then overwrite random slots until 3x the capacity */
	for (i = 0; written < 3 * CAP; i++) {
		uint64_t s = i < nslots ? i : (x = x * 1103515245u + 12345u, (x >> 4) % nslots);

		assert_int_equal(engine_io_sync(d->eng, IO_WRITE, d->sb.data_start + s * slot, slot,
						buf, d->sb.class_pid[FDPKV_CLASS_DATA0]), 0);
		written += slot;
	}
	waf = waf_of(c, &ds);
	printf("waf: random 64 KiB overwrites                                  WAF %.3f\n", waf);
	assert_true(waf > 1.2);
	free(buf);
	fdpkv_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aligned_segments),
		cmocka_unit_test(test_random_overwrite),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
