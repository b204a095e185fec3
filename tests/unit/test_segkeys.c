// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_segkeys - the keys of a segment read back from the device for its
 * eviction (segkeys.c): from the summary in its tail, from its header chain
 * when the summary is gone, only up to a damaged header, and from the
 * summary still in memory; and an eviction under churn (re-insert, deletes,
 * overwrites) finds every evicted entry's key on the device, equal to the
 * entry's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache.h"
#include "util.h"

#define VLEN	20000u
#define NKEYS	200u


static struct fdpkv_cache *open_cache(const char *extra, bool format)
{
	char kv[800];

	snprintf(kv, sizeof(kv), "device=file:%s/dev.img capacity=16M segment_size=1M "
		 "placement=none durability=none format=%s %s", tu_dir, format ? "always" : "never",
		 extra);
	return tu_open(kv);
}

static void key_name(char *name, size_t len, unsigned int i)
{
	/* every 7th key longer than an LBA: its header read spans two */
	if (i % 7 == 3) {
		memset(name, 'K', 4040);
		snprintf(name + 4040, len - 4040, "@%u", i);
	} else {
		snprintf(name, len, "m@0@0@segkeys%u", i);
	}
}

static void write_keys(struct fdpkv_cache *c, unsigned int n)
{
	static uint8_t val[VLEN];
	char name[5100];
	unsigned int i;

	for (i = 0; i < n; i++) {
		key_name(name, sizeof(name), i);
		tu_fill(val, sizeof(val), i);
		assert_int_equal(tu_set1(c, name, val, sizeof(val)), 0);
	}
}

/* Every live entry of segment @s has its own key in @k; returns how many. */
static uint32_t check_entries(struct fdpkv_cache *c, struct devctx *d, uint32_t s,
			      const struct seg_keys *k)
{
	struct index_entry *e;
	uint32_t n = 0, klen;

	pthread_mutex_lock(&c->lock);
	for (e = d->segs.segs[s].entries; e; e = index_seg_next(&c->ix, e), n++) {
		const uint8_t *key = segkeys_find(k, e->off_lba, &klen);

		assert_non_null(key);
		assert_int_equal(klen, e->klen);
		assert_true(index_key_fp(&c->ix, key, klen) == e->fp);
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* The segment holding key 0 (the oldest, sealed), its use and extent. */
static uint32_t first_segment(struct fdpkv_cache *c, uint64_t *seg_seq, uint64_t *used)
{
	char name[5100];
	struct index_entry *e;
	uint32_t s;

	key_name(name, sizeof(name), 0);
	pthread_mutex_lock(&c->lock);
	e = index_find(&c->ix, name, (uint32_t)strlen(name));
	assert_non_null(e);
	s = e->seg;
	*seg_seq = c->devs[0].segs.segs[s].open_seq;
	*used = c->devs[0].segs.segs[s].used;
	assert_int_equal(c->devs[0].segs.segs[s].state, SEG_SEALED);
	pthread_mutex_unlock(&c->lock);
	return s;
}

/* Write @len bytes of @byte at device offset @off of the image. */
static void poke(uint64_t off, int byte, size_t len)
{
	char path[400], buf[8192];
	int fd;

	snprintf(path, sizeof(path), "%s/dev.img", tu_dir);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	memset(buf, byte, len);
	assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

static void test_summary_headers_damage(void **state)
{
	struct fdpkv_cache *c;
	struct devctx *d;
	struct seg_keys *k;
	uint64_t seg_seq, used, base;
	uint32_t s, n, klen, tenth = 0, i;
	struct index_entry *e;

	(void)state;
	c = open_cache("reinsert=0", true);
	write_keys(c, NKEYS);
	fdpkv_close(c);		/* sealed segments' summaries are down */
	c = open_cache("reinsert=0", false);
	d = &c->devs[0];
	s = first_segment(c, &seg_seq, &used);
	base = seg_base(d, s);

	k = segkeys_read(d, s, seg_seq, used);
	assert_int_equal(segkeys_source(k), SEGKEYS_SUMMARY);
	n = check_entries(c, d, s, k);
	assert_true(n > 20);
	assert_int_equal(segkeys_count(k), n);
	/* another use of the segment: its summary is not this one's */
	segkeys_free(k);
	k = segkeys_read(d, s, seg_seq + 1, used);
	assert_int_not_equal(segkeys_source(k), SEGKEYS_SUMMARY);
	assert_int_equal(segkeys_count(k), 0);
	segkeys_free(k);

	/* no summary: the header chain gives the same keys */
	poke(base + d->sb.segment_bytes - d->sb.lba_size, 0, d->sb.lba_size);
	k = segkeys_read(d, s, seg_seq, used);
	assert_int_equal(segkeys_source(k), SEGKEYS_HEADERS);
	assert_int_equal(check_entries(c, d, s, k), n);
	assert_int_equal(segkeys_count(k), n);
	segkeys_free(k);

	/* a damaged header ends the walk: the keys before it only */
	pthread_mutex_lock(&c->lock);
	for (e = d->segs.segs[s].oldest, i = 0; e && i < 10; e = index_seg_prev(&c->ix, e), i++)
		tenth = e->off_lba;
	pthread_mutex_unlock(&c->lock);
	poke(base + (uint64_t)tenth * d->sb.lba_size, 0x5a, 4);
	k = segkeys_read(d, s, seg_seq, used);
	assert_int_equal(segkeys_source(k), SEGKEYS_HEADERS);
	assert_int_equal(segkeys_count(k), 9);
	assert_null(segkeys_find(k, tenth, &klen));
	segkeys_free(k);
	fdpkv_close(c);
}

static void test_from_memory(void **state)
{
	struct fdpkv_cache *c;
	struct devctx *d;
	struct seg_keys *k;
	int32_t s;

	(void)state;
	c = open_cache("reinsert=0", true);
	write_keys(c, 30);	/* fewer than a segment holds: it stays open */
	d = &c->devs[0];
	pthread_mutex_lock(&c->lock);
	s = d->segs.open[FDPKV_CLASS_DATA0];
	assert_true(s >= 0);
	k = segkeys_from_memory(&d->segs.segs[s]);
	pthread_mutex_unlock(&c->lock);
	assert_int_equal(segkeys_source(k), SEGKEYS_MEMORY);
	assert_int_equal(check_entries(c, d, (uint32_t)s, k), 30);
	assert_int_equal(segkeys_count(k), 30);
	segkeys_free(k);
	fdpkv_close(c);
}

static void count_evicted(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	(void)key;
	(void)klen;
	(void)vlen;
	++*(uint64_t *)arg;
}

static void test_eviction_finds_keys(void **state)
{
	static uint8_t val[VLEN];
	struct fdpkv_cache *c;
	uint64_t reported = 0;
	char name[5100];
	unsigned int i;

	(void)state;
	c = open_cache("reinsert=1 report_evicted=1", true);
	/* four times the capacity: read some back (re-insert), delete and
	 * overwrite others (carried records, shadows) */
	for (i = 0; i < 4 * 16 * 50; i++) {
		key_name(name, sizeof(name), i % 1000);
		tu_fill(val, sizeof(val), i);
		assert_int_equal(tu_set1(c, name, val, sizeof(val)), 0);
		if (i % 5 == 1)
			(void)tu_get1(c, name, val, sizeof(val));
		if (i % 11 == 2)
			(void)tu_op1(c, FDPKV_OP_DELETE, name);
		if (i % 64 == 0)
			fdpkv_take_evicted(c, count_evicted, &reported);
	}
	evictor_wait_idle(c);
	fdpkv_take_evicted(c, count_evicted, &reported);
	pthread_mutex_lock(&c->lock);
	assert_true(reported > 100);
	assert_int_equal(c->segkeys.wrong, 0);
	assert_int_equal(c->segkeys.missing, 0);
	assert_true(c->segkeys.found >= reported);
	pthread_mutex_unlock(&c->lock);
	fdpkv_close(c);
}

/*
 * A small device, 48 writes, reads and deletes in flight at a time, re-insert
 * on: evictions run while many writes wait for room, re-insert copies and
 * carried delete records take segments too. Every evicted key is still
 * found on the device (no eviction ran inline, under the lock, without its
 * keys), none different.
 */
static void test_async_churn_finds_keys(void **state)
{
	static uint8_t val[48][100u << 10];
	const char *kv = "devices=sim:name=sk-unstick capacity=8M segment_size=256K "
			 "durability=fua placement=none reinsert=1 report_evicted=1 queue_depth=48";
	struct fdpkv_completion done;
	struct fdpkv_cache *c;
	uint64_t reported = 0, id;
	char names[48][32];
	struct fdpkv_key k[48];
	struct fdpkv_buf b[48];
	unsigned int i, round, inflight;

	(void)state;
	for (round = 0; round < 2; round++) {
		c = tu_open(kv);
		/* 48 writes in flight at a time: many wait for room together */
		for (i = 0, inflight = 0; i < 2000; i++) {
			unsigned int s = i % 48;
			enum fdpkv_op op = i % 5 == 2 ? FDPKV_OP_GET :
					   i % 7 == 3 ? FDPKV_OP_DELETE : FDPKV_OP_SET;

			if (inflight == 48) {
				while (fdpkv_drain(c, &done, 1) == 0)
					fdpkv_wait(c, -1);
				fdpkv_completion_release(&done);
				inflight--;
			}
			snprintf(names[s], sizeof(names[s]), "k%u", (i * 7) % 150);
			k[s] = tu_key(names[s]);
			b[s] = (struct fdpkv_buf){ val[s], sizeof(val[s]) };
			assert_int_equal(fdpkv_submit(c, op, 1, &k[s],
						      op == FDPKV_OP_DELETE ? NULL : &b[s], NULL,
						      &id), 0);
			inflight++;
			fdpkv_take_evicted(c, count_evicted, &reported);
		}
		while (inflight) {
			while (fdpkv_drain(c, &done, 1) == 0)
				fdpkv_wait(c, -1);
			fdpkv_completion_release(&done);
			inflight--;
		}
		evictor_wait_idle(c);
		pthread_mutex_lock(&c->lock);
		assert_int_equal(c->segkeys.wrong, 0);
		assert_int_equal(c->segkeys.missing, 0);
		pthread_mutex_unlock(&c->lock);
		fdpkv_close(c);
		assert_int_equal(sim_destroy("sk-unstick"), 0);
	}
	assert_true(reported > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_summary_headers_damage, tu_dir_setup,
						tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_from_memory, tu_dir_setup,
						tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_eviction_finds_keys, tu_dir_setup,
						tu_dir_teardown),
		cmocka_unit_test(test_async_churn_finds_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
