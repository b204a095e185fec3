// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_summary - segment summaries (lib/summary.c, lib/FORMAT.md): written
 * when a segment is sealed, read by recovery instead of the headers, and
 * never trusted beyond what the header chain would say: a damaged summary,
 * or one whose segment's chain no longer starts, is walked or ignored.
 */
#include <errno.h>
#include <fcntl.h>
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

#define SEG	(1u << 20)
#define NKEYS	1200u		/* 2 KiB values, one per LBA: about 5 segments */
#define VLEN	2048u

static char *dir;
static char kv[768], path[512];

static int setup(void **state)
{
	(void)state;
	dir = tu_mkdtemp();
	snprintf(path, sizeof(path), "%s/dev.img", dir);
	snprintf(kv, sizeof(kv), "device=file:%s capacity=16M segment_size=1M "
		 "format=", path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmdir(dir);
	return 0;
}

static struct fdpkv_cache *open_cache(bool format)
{
	char buf[800];

	snprintf(buf, sizeof(buf), "%s%s", kv, format ? "always" : "never");
	return tu_open(buf);
}

static void key_name(char *name, size_t len, unsigned int i)
{
	snprintf(name, len, "m@0@0@sum%u", i);
}

/*
 * Keys 0..NKEYS-1 with value seed i; every 7th overwritten (seed i + 1000),
 * every 11th deleted: the summaries hold both versions and the delete
 * records, as the chains do.
 */
static void fill(struct fdpkv_cache *c)
{
	static uint8_t val[VLEN];
	char name[32];
	unsigned int i;

	for (i = 0; i < NKEYS; i++) {
		key_name(name, sizeof(name), i);
		tu_fill(val, sizeof(val), i);
		assert_int_equal(tu_set1(c, name, val, sizeof(val)), 0);
		if (i % 7 == 3) {
			tu_fill(val, sizeof(val), i + 1000);
			assert_int_equal(tu_set1(c, name, val, sizeof(val)), 0);
		}
		if (i % 11 == 5)
			assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, name), 0);
	}
}

/* Every key as fill() left it, except those in @lost (NULL: none) which must be misses. */
static void check_all(struct fdpkv_cache *c, const bool *lost)
{
	static uint8_t want[VLEN], got[VLEN];
	char name[32];
	unsigned int i;
	int ret;

	for (i = 0; i < NKEYS; i++) {
		key_name(name, sizeof(name), i);
		ret = tu_get1(c, name, got, sizeof(got));
		if (i % 11 == 5 || (lost && lost[i])) {
			assert_int_equal(ret, -ENOENT);
			continue;
		}
		assert_int_equal(ret, 0);
		tu_fill(want, sizeof(want), i % 7 == 3 ? i + 1000 : i);
		assert_memory_equal(got, want, sizeof(want));
	}
}

static struct fdpkv_stats stats(struct fdpkv_cache *c)
{
	struct fdpkv_stats s;

	assert_int_equal(fdpkv_stats(c, &s), 0);
	return s;
}

/* Where segment @s of the first device starts in the file. */
static uint64_t segment_offset(struct fdpkv_cache *c, uint32_t s)
{
	return seg_base(&c->devs[0], s);
}

struct layout {
	uint32_t sealed[16];		/* sealed segments, in index order */
	unsigned int nsealed;
	unsigned int nopen;		/* open segments holding objects */
};

/*
 * Which segments fill() sealed (each gets a summary) and left open (walked
 * at restart), once every summary is down.
 */
static struct layout layout_of(struct fdpkv_cache *c)
{
	struct seg_table *t = &c->devs[0].segs;
	struct layout l = { .nsealed = 0 };
	uint32_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < t->n; i++) {
		if (t->segs[i].state == SEG_SEALED && l.nsealed < 16)
			l.sealed[l.nsealed++] = i;
		else if (t->segs[i].state == SEG_OPEN && t->segs[i].used)
			l.nopen++;
	}
	pthread_mutex_unlock(&c->lock);
	assert_true(l.nsealed >= 4);
	tu_wait_stat(c, offsetof(struct fdpkv_stats, summaries_written), l.nsealed,
		     "a summary for every sealed segment");
	return l;
}

static void test_restart_reads_summaries(void **state)
{
	struct fdpkv_cache *c;
	struct fdpkv_stats s;
	struct layout l;

	(void)state;
	c = open_cache(true);
	fill(c);
	l = layout_of(c);
	assert_int_equal(stats(c).summaries_written, l.nsealed);
	fdpkv_close(c);

	c = open_cache(false);
	s = stats(c);
	assert_int_equal(s.recovery_summaries, l.nsealed);
	assert_int_equal(s.recovery_walks, l.nopen);	/* the segments left open */
	check_all(c, NULL);
	fdpkv_close(c);
}

/* A summary is the chain's copy: the reopened cache answers alike both ways. */
static void test_damaged_summary_is_walked(void **state)
{
	struct fdpkv_cache *c;
	struct fdpkv_stats s;
	uint64_t base, base2;
	struct layout l;

	(void)state;
	c = open_cache(true);
	fill(c);
	l = layout_of(c);
	base = segment_offset(c, l.sealed[0]);
	base2 = segment_offset(c, l.sealed[1]);
	fdpkv_close(c);
	/*
	 * A byte of the first sealed segment's records: ~250 records of ~45
	 * bytes fill the summary's 3 LBAs at the segment's end but the last
	 * ~1 KiB, so 4 KiB + 64 bytes before the end is inside them.
	 */
	tu_flip_bits(path, (long long)(base + SEG - 4096 - 64), 0x10);

	c = open_cache(false);
	s = stats(c);
	assert_int_equal(s.recovery_summaries, l.nsealed - 1);
	assert_int_equal(s.recovery_walks, l.nopen + 1);
	check_all(c, NULL);
	fdpkv_close(c);

	/* the footer's crc, in another segment */
	tu_flip_bits(path, (long long)(base2 + SEG - 8), 0x01);
	c = open_cache(false);
	s = stats(c);
	assert_int_equal(s.recovery_summaries, l.nsealed - 2);
	assert_int_equal(s.recovery_walks, l.nopen + 2);
	check_all(c, NULL);
	fdpkv_close(c);
}

/*
 * Reclaim deallocates (or wipes) a segment's first LBA before the rest: a
 * power cut between the two leaves the summary at the tail of a segment
 * whose chain is gone. Nothing of that segment may come back from it.
 */
static void test_summary_without_chain_start_ignored(void **state)
{
	static uint8_t zero[4096];
	struct fdpkv_cache *c;
	struct fdpkv_stats s;
	struct index_entry *e;
	bool lost[NKEYS] = { false };
	struct layout l;
	uint64_t base;
	char name[32];
	unsigned int i;
	int fd;

	(void)state;
	c = open_cache(true);
	fill(c);
	l = layout_of(c);
	assert_int_equal(l.sealed[0], 0);	/* the first SET's */
	base = segment_offset(c, 0);
	/* the keys whose live version is in segment 0 */
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < NKEYS; i++) {
		key_name(name, sizeof(name), i);
		e = index_find(&c->ix, name, (uint32_t)strlen(name));
		lost[i] = e && e->seg == 0;
	}
	pthread_mutex_unlock(&c->lock);
	fdpkv_close(c);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, zero, sizeof(zero), (off_t)base), (ssize_t)sizeof(zero));
	close(fd);

	c = open_cache(false);
	s = stats(c);
	assert_int_equal(s.recovery_summaries, l.nsealed - 1);
	assert_int_equal(s.recovery_walks, l.nopen);	/* segment 0: no chain, nothing */
	check_all(c, lost);
	fdpkv_close(c);
}

/* A value that leaves no room for a summary gets a segment without one. */
static void test_segment_sized_value(void **state)
{
	static uint8_t val[SEG], got[SEG];
	uint64_t vlen = SEG - 4096;	/* header and key take the first LBA */
	struct fdpkv_cache *c;
	struct fdpkv_stats s;

	(void)state;
	tu_fill(val, vlen, 77);
	c = open_cache(true);
	assert_int_equal(tu_set1(c, "m@0@0@big", val, vlen), 0);
	assert_int_equal(tu_set1(c, "m@0@0@small", val, 100), 0);
	fdpkv_close(c);
	c = open_cache(false);
	s = stats(c);
	assert_int_equal(s.recovery_walks, 2);
	assert_int_equal(tu_get1(c, "m@0@0@big", got, vlen), 0);
	assert_memory_equal(got, val, vlen);
	fdpkv_close(c);
}

/*
 * fsck --repair rewrites a damaged header of a summarized segment as a
 * filler: the summary no longer matches the chain, so repair drops it and
 * the next open walks that segment.
 */
static void test_fsck_repair_drops_summary(void **state)
{
	bool lost[NKEYS] = { false };
	struct fdpkv_fsck_report r;
	struct fdpkv_config cfg;
	struct fdpkv_cache *c;
	struct index_entry *e;
	struct fdpkv_stats s;
	struct layout l;
	char err[256], kvn[800];
	uint64_t at;

	(void)state;
	c = open_cache(true);
	fill(c);
	l = layout_of(c);
	pthread_mutex_lock(&c->lock);
	e = index_find(&c->ix, "m@0@0@sum100", 12);
	assert_non_null(e);
	assert_int_equal(e->seg, l.sealed[0]);	/* the first data segment */
	at = seg_base(&c->devs[0], e->seg) + (uint64_t)e->off_lba * 4096;
	pthread_mutex_unlock(&c->lock);
	fdpkv_close(c);
	tu_flip_bits(path, (long long)(at + 16), 0x04);	/* vlen: the header crc fails */
	lost[100] = true;

	fdpkv_config_init(&cfg);
	snprintf(kvn, sizeof(kvn), "%snever", kv);
	assert_int_equal(fdpkv_config_parse(&cfg, kvn, NULL, 0), 0);
	assert_int_equal(fdpkv_fsck(&cfg, FDPKV_FSCK_REPAIR, &r, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(r.damaged_objects, 1);

	c = open_cache(false);
	s = stats(c);
	assert_int_equal(s.recovery_summaries, l.nsealed - 1);
	assert_int_equal(s.recovery_walks, l.nopen + 1);
	check_all(c, lost);
	fdpkv_close(c);
	/* and fsck finds nothing more */
	assert_int_equal(fdpkv_fsck(&cfg, 0, &r, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(r.damaged_objects, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_reads_summaries),
		cmocka_unit_test(test_damaged_summary_is_walked),
		cmocka_unit_test(test_summary_without_chain_start_ignored),
		cmocka_unit_test(test_segment_sized_value),
		cmocka_unit_test(test_fsck_repair_drops_summary),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
