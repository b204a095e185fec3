// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_sim_powercut - the sim device's volatile write cache (vwc=1) and its
 * power cut (sim_power_cut), driven straight through the backend ops: what
 * a cut may keep and what it must.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

#define LBA 4096u

static void dev_open(struct fdpkv_dev *dev, const char *uri)
{
	struct fdpkv_config cfg;
	char err[256];

	fdpkv_config_init(&cfg);
	cfg.capacity_bytes = 8u << 20;
	cfg.segment_bytes = 1u << 20;
	assert_int_equal(backend_open(dev, uri, &cfg, true, err, sizeof(err)), 0);
}

static int dev_io(struct fdpkv_dev *dev, enum io_op op, uint64_t off, uint64_t len, void *buf,
		  bool fua)
{
	struct io_cmd cmd = { .op = op, .dsync = fua, .off = off, .len = len, .buf = buf };
	struct io_part p = { .cmd = &cmd, .off = off, .len = len, .buf = buf, .fixed = -1 };

	return dev->ops->exec(dev, &p);
}

static void put(struct fdpkv_dev *dev, uint64_t lba, unsigned int n, uint8_t v, bool fua)
{
	static uint8_t buf[16 * LBA];

	memset(buf, v, n * LBA);
	assert_int_equal(dev_io(dev, IO_WRITE, lba * LBA, n * LBA, buf, fua), (int)(n * LBA));
}

/* The byte every LBA of [lba, lba + n) holds, or -1 when they differ inside one LBA. */
static int lba_byte(struct fdpkv_dev *dev, uint64_t lba)
{
	static uint8_t buf[LBA];
	unsigned int i;

	assert_int_equal(dev_io(dev, IO_READ, lba * LBA, LBA, buf, false), LBA);
	for (i = 1; i < LBA; i++)
		if (buf[i] != buf[0])
			return -1;
	return buf[0];
}

/* Reopen @name after a cut with @seed; returns the device for reading. */
static void cut_and_reopen(struct fdpkv_dev *dev, const char *uri, const char *name,
			   uint64_t seed)
{
	assert_int_equal(sim_power_cut(name, seed, 0, NULL), 0);
	backend_close(dev);
	dev_open(dev, uri);
}

/* An unflushed write is lost under some seeds and kept under others. */
static void test_unflushed_write_may_go_either_way(void **state)
{
	const char *uri = "sim:name=pc-either,vwc=1";
	struct fdpkv_dev dev;
	unsigned int seed, kept = 0, lost = 0;

	(void)state;
	dev_open(&dev, uri);
	for (seed = 0; seed < 32; seed++) {
		put(&dev, 10, 1, (uint8_t)(seed + 1), false);
		cut_and_reopen(&dev, uri, "pc-either", seed);
		if (lba_byte(&dev, 10) == (int)(seed + 1))
			kept++;
		else
			lost++;
		/* persist it, so the next round starts from a known image */
		put(&dev, 10, 1, (uint8_t)(seed + 1), true);
	}
	backend_close(&dev);
	assert_true(kept > 0);
	assert_true(lost > 0);
}

/* FUA writes and writes covered by a completed flush always survive. */
static void test_fua_and_flushed_writes_survive(void **state)
{
	const char *uri = "sim:name=pc-durable,vwc=1";
	struct fdpkv_dev dev;
	unsigned int seed;

	(void)state;
	dev_open(&dev, uri);
	for (seed = 0; seed < 16; seed++) {
		put(&dev, 1, 1, 0x11, false);		/* unpersisted, before the FUA */
		put(&dev, 2, 2, 0x22, true);
		put(&dev, 4, 1, 0x44, false);
		assert_int_equal(dev_io(&dev, IO_FLUSH, 0, 0, NULL, false), 0);
		put(&dev, 5, 1, (uint8_t)seed, false);	/* may go */
		cut_and_reopen(&dev, uri, "pc-durable", seed);
		assert_int_equal(lba_byte(&dev, 2), 0x22);
		assert_int_equal(lba_byte(&dev, 3), 0x22);
		assert_int_equal(lba_byte(&dev, 4), 0x44);
		assert_int_equal(lba_byte(&dev, 1), 0x11);	/* the flush covered it */
	}
	backend_close(&dev);
}

/* A later write may land while an earlier one is lost, and a multi-LBA write may tear. */
static void test_reorder_and_torn(void **state)
{
	const char *uri = "sim:name=pc-torn,vwc=1";
	struct fdpkv_dev dev;
	unsigned int seed, i;
	bool reordered = false, torn = false;

	(void)state;
	dev_open(&dev, uri);
	for (seed = 0; seed < 64 && !(reordered && torn); seed++) {
		unsigned int mix = 0;

		put(&dev, 0, 16, 0, true);		/* known base */
		put(&dev, 20, 2, 0, true);
		put(&dev, 20, 1, 0xaa, false);
		put(&dev, 0, 16, 0xbb, false);
		put(&dev, 21, 1, 0xcc, false);
		cut_and_reopen(&dev, uri, "pc-torn", seed);
		if (lba_byte(&dev, 20) != 0xaa && lba_byte(&dev, 21) == 0xcc)
			reordered = true;
		for (i = 0; i < 16; i++) {
			int b = lba_byte(&dev, i);

			assert_true(b == 0 || b == 0xbb);	/* never a torn LBA */
			mix |= b ? 1 : 2;
		}
		if (mix == 3)
			torn = true;
	}
	backend_close(&dev);
	assert_true(reordered);
	assert_true(torn);
}

/* A deallocate is volatile too: the old bytes may come back, or stay zeroed. */
static void test_dealloc_may_be_lost(void **state)
{
	const char *uri = "sim:name=pc-dealloc,vwc=1";
	struct fdpkv_dev dev;
	unsigned int seed, back = 0, gone = 0;

	(void)state;
	dev_open(&dev, uri);
	for (seed = 0; seed < 32; seed++) {
		put(&dev, 30, 1, 0x5a, true);
		assert_int_equal(dev_io(&dev, IO_DEALLOC, 30 * LBA, LBA, NULL, false), 0);
		assert_int_equal(lba_byte(&dev, 30), 0);
		cut_and_reopen(&dev, uri, "pc-dealloc", seed);
		if (lba_byte(&dev, 30) == 0x5a)
			back++;
		else if (lba_byte(&dev, 30) == 0)
			gone++;
		else
			fail_msg("deallocated LBA holds neither its old bytes nor zeroes");
	}
	backend_close(&dev);
	assert_true(back > 0);
	assert_true(gone > 0);
}

/* After the cut the device refuses everything until it is opened again. */
static void test_dead_until_reopened(void **state)
{
	const char *uri = "sim:name=pc-dead,vwc=1";
	struct fdpkv_dev dev;
	uint8_t buf[LBA] = { 0 };

	(void)state;
	dev_open(&dev, uri);
	put(&dev, 7, 1, 0x77, true);
	assert_int_equal(sim_power_cut("pc-dead", 1, SIM_CUT_FAIL, NULL), 0);
	assert_int_equal(dev_io(&dev, IO_WRITE, 0, LBA, buf, true), -EIO);
	assert_int_equal(dev_io(&dev, IO_READ, 0, LBA, buf, false), -EIO);
	assert_int_equal(dev_io(&dev, IO_FLUSH, 0, 0, NULL, false), -EIO);
	backend_close(&dev);
	dev_open(&dev, uri);
	assert_int_equal(dev_io(&dev, IO_READ, 0, LBA, buf, false), LBA);
	assert_int_equal(lba_byte(&dev, 7), 0x77);
	backend_close(&dev);
}

/* Without SIM_CUT_FAIL the device runs on after the cut, but nothing it does lasts. */
static void test_after_the_cut_nothing_lasts(void **state)
{
	const char *uri = "sim:name=pc-ghost,vwc=1";
	struct fdpkv_dev dev;

	(void)state;
	dev_open(&dev, uri);
	put(&dev, 8, 1, 0x88, true);
	assert_int_equal(sim_lost_overlaps("pc-ghost", 9 * LBA, LBA), 0);
	assert_int_equal(sim_power_cut("pc-ghost", 1, 0, NULL), 0);
	put(&dev, 8, 1, 0x99, true);
	put(&dev, 9, 1, 0x99, true);
	assert_int_equal(dev_io(&dev, IO_FLUSH, 0, 0, NULL, false), 0);
	assert_int_equal(lba_byte(&dev, 8), 0x99);
	assert_int_equal(sim_lost_overlaps("pc-ghost", 9 * LBA, LBA), 1);
	backend_close(&dev);
	dev_open(&dev, uri);
	assert_int_equal(lba_byte(&dev, 8), 0x88);
	assert_int_equal(lba_byte(&dev, 9), 0);
	backend_close(&dev);
	assert_int_equal(sim_destroy("pc-ghost"), 0);
	assert_int_equal(sim_destroy("pc-ghost"), -ENOENT);
}

static void test_refusals(void **state)
{
	struct fdpkv_config cfg;
	struct fdpkv_dev dev;
	char err[256];

	(void)state;
	assert_int_equal(sim_power_cut("pc-no-such-device", 1, 0, NULL), -ENOENT);
	dev_open(&dev, "sim:name=pc-novwc");
	assert_int_equal(sim_power_cut("pc-novwc", 1, 0, NULL), -EINVAL);
	backend_close(&dev);
	fdpkv_config_init(&cfg);
	cfg.capacity_bytes = 8u << 20;
	assert_int_equal(backend_open(&dev, "sim:vwc=1", &cfg, true, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "vwc=1 needs name"));
	assert_int_equal(backend_open(&dev, "sim:vwc=2", &cfg, true, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "vwc=0|1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unflushed_write_may_go_either_way),
		cmocka_unit_test(test_fua_and_flushed_writes_survive),
		cmocka_unit_test(test_reorder_and_torn),
		cmocka_unit_test(test_dealloc_may_be_lost),
		cmocka_unit_test(test_dead_until_reopened),
		cmocka_unit_test(test_after_the_cut_nothing_lasts),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
