// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_arena - fdpkv_register_arena: values in a registered arena move
 * without a copy (direct_bytes) through io_uring fixed buffers (fixed_cmds)
 * on the file backend with O_DIRECT, and on sim; objects stored either way
 * read back byte-exact into either kind of buffer, also after a restart and
 * under fsck; ineligible buffers in an arena are bounced; aligned buffers
 * outside any arena move without a copy too (plain addresses); a damaged aligned
 * value is a miss; a value across the 1 GiB slot boundary; the refusals;
 * where the kernel copies (tmpfs), misaligned buffers of whole LBAs move
 * without a copy too. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache.h"
#include "util.h"

#define ARENA_BYTES	(64u << 20)

static char *dir;
static char kv[768], path[512];

static int setup(void **state)
{
	(void)state;
	dir = tu_mkdtemp();
	snprintf(path, sizeof(path), "%s/dev.img", dir);
	snprintf(kv, sizeof(kv), "device=file:%s capacity=512M segment_size=32M", path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmdir(dir);
	return 0;
}

static uint8_t *arena_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static struct fdpkv_stats stats_of(struct fdpkv_cache *c)
{
	struct fdpkv_stats s;

	assert_int_equal(fdpkv_stats(c, &s), 0);
	return s;
}

static struct fdpkv_cache *open_fresh(const char *extra)
{
	char k[1024];
	struct fdpkv_cache *c;

	snprintf(k, sizeof(k), "%s format=always %s", kv, extra);
	c = tu_open(k);
	/* these tests are about a device a DMA reads: the test dir's file
	 * system must take O_DIRECT (not tmpfs: test_any_align_direct) */
	if (c->devs[0].dev.geo.any_align) {
		fdpkv_close(c);
		skip();
	}
	return c;
}

/* Set from @src, get into @dst: the bytes match and direct_bytes grew by @direct. */
static void roundtrip(struct fdpkv_cache *c, const char *key, uint8_t *src, uint8_t *dst,
		      uint64_t len, uint64_t direct)
{
	struct fdpkv_stats before = stats_of(c), after;

	tu_fill(src, len, (uint32_t)len ^ (uint32_t)(uintptr_t)key[0]);
	memset(dst, 0x5a, len);
	assert_int_equal(tu_set1(c, key, src, len), 0);
	assert_int_equal(tu_get1(c, key, dst, len), 0);
	assert_memory_equal(src, dst, len);
	after = stats_of(c);
	assert_int_equal(after.direct_bytes - before.direct_bytes, direct);
}

static void test_file_fixed(void **state)
{
	struct fdpkv_cache *c = open_fresh("");
	uint8_t *a = arena_alloc(ARENA_BYTES), *plain = NULL;
	static const uint64_t sizes[] = { 4096, 1u << 20, (8u << 20) + 4096 };
	struct fdpkv_stats s;
	int id;

	(void)state;
	assert_true(posix_memalign((void **)&plain, 4096, (16u << 20) + 4096) == 0);
	id = fdpkv_register_arena(c, a, ARENA_BYTES);
	assert_true(id >= 0);
	for (unsigned int i = 0; i < 3; i++) {
		uint64_t len = sizes[i];
		char key[64];

		/* arena to arena: both directions direct */
		snprintf(key, sizeof(key), "m@0@0@aa%u", i);
		roundtrip(c, key, a, a + (24u << 20), len, 2 * len);
		/* an aligned object read into a misaligned buffer: bounced out */
		snprintf(key, sizeof(key), "m@0@0@ap%u", i);
		roundtrip(c, key, a, plain + 64, len, len);
		/* a packed object (misaligned source) read into the arena: bounced in */
		snprintf(key, sizeof(key), "m@0@0@pa%u", i);
		roundtrip(c, key, plain + 64, a, len, 0);
	}
	s = stats_of(c);
	/* the first 4 KiB value alone took one fixed write and one fixed read */
	assert_true(s.fixed_cmds >= 2 * 3);
	assert_int_equal(s.corrupt_objects, 0);
	assert_int_equal(fdpkv_unregister_arena(c, id), 0);
	assert_int_equal(fdpkv_unregister_arena(c, id), -ENOENT);
	fdpkv_close(c);
	munmap(a, ARENA_BYTES);
	free(plain);
}

/* Inside the arena, but misaligned or not whole LBAs: bounced, still exact. */
static void test_ineligible_bounced(void **state)
{
	struct fdpkv_cache *c = open_fresh("");
	uint8_t *a = arena_alloc(ARENA_BYTES);
	uint64_t fixed;

	(void)state;
	/* the upper half stays mapped but outside the arena */
	assert_true(fdpkv_register_arena(c, a, ARENA_BYTES / 2) >= 0);
	fixed = stats_of(c).fixed_cmds;
	roundtrip(c, "m@0@0@odd1", a, a + (8u << 20), 1, 0);
	roundtrip(c, "m@0@0@odd2", a, a + (8u << 20), 4095, 0);
	roundtrip(c, "m@0@0@odd3", a, a + (8u << 20), (1u << 20) + 1, 0);
	roundtrip(c, "m@0@0@odd4", a + 512, a + (8u << 20) + 512, 8192, 0);
	/* runs past the arena's end: aligned, so without a copy, but not fixed */
	roundtrip(c, "m@0@0@odd5", a + ARENA_BYTES / 2 - 4096, a + ARENA_BYTES / 2 - 4096, 8192,
		  2 * 8192);
	/* the arena's last block: direct both ways */
	roundtrip(c, "m@0@0@odd6", a + ARENA_BYTES / 2 - 4096, a, 4096, 8192);
	assert_int_equal(stats_of(c).fixed_cmds - fixed, 2);
	fdpkv_close(c);
	munmap(a, ARENA_BYTES);
}

/*
 * No arena at all: a 4 KiB aligned buffer of whole LBAs moves without a copy
 * (plain addresses, no fixed buffer) both ways; misaligned ones are bounced;
 * an object stored either way reads into either kind of buffer.
 */
static void test_plain_aligned_direct(void **state)
{
	struct fdpkv_cache *c = open_fresh("");
	static const uint64_t sizes[] = { 4096, 1u << 20, (8u << 20) + 4096 };
	uint8_t *src = NULL, *dst = NULL;
	unsigned int i;

	(void)state;
	assert_true(posix_memalign((void **)&src, 4096, (9u << 20) + 4096) == 0);
	assert_true(posix_memalign((void **)&dst, 4096, (9u << 20) + 4096) == 0);
	for (i = 0; i < 3; i++) {
		uint64_t len = sizes[i];
		char key[64];

		snprintf(key, sizeof(key), "m@0@0@pp%u", i);
		roundtrip(c, key, src, dst, len, 2 * len);
		snprintf(key, sizeof(key), "m@0@0@pm%u", i);
		roundtrip(c, key, src, dst + 8, len, len);		/* stored direct, bounced out */
		snprintf(key, sizeof(key), "m@0@0@mp%u", i);
		roundtrip(c, key, src + 8, dst, len, 0);		/* packed: bounced both ways */
		snprintf(key, sizeof(key), "m@0@0@odd%u", i);
		roundtrip(c, key, src, dst, len - 1, 0);		/* not whole LBAs */
	}
	assert_int_equal(stats_of(c).fixed_cmds, 0);
	assert_int_equal(stats_of(c).corrupt_objects, 0);
	fdpkv_close(c);
	free(src);
	free(dst);
}

/* Aligned objects are found again by recovery, read directly, and fsck agrees. */
static void test_restart_and_fsck(void **state)
{
	struct fdpkv_cache *c = open_fresh("");
	uint8_t *a = arena_alloc(ARENA_BYTES);
	struct fdpkv_fsck_report r;
	struct fdpkv_config cfg;
	char key[64], err[256];
	unsigned int i;

	(void)state;
	assert_true(fdpkv_register_arena(c, a, ARENA_BYTES) >= 0);
	for (i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "m@0@0@r%u", i);
		tu_fill(a + i * (1u << 20), (i + 1) * 4096, i);
		assert_int_equal(tu_set1(c, key, a + i * (1u << 20), (i + 1) * 4096), 0);
	}
	fdpkv_close(c);

	fdpkv_config_init(&cfg);
	assert_int_equal(fdpkv_config_parse(&cfg, kv, NULL, 0), 0);
	cfg.format = FDPKV_FORMAT_NEVER;
	memset(&r, 0, sizeof(r));
	assert_int_equal(fdpkv_fsck(&cfg, 0, &r, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(r.objects_live, 8);
	assert_int_equal(r.damage, 0);

	c = tu_open(kv);
	assert_true(fdpkv_register_arena(c, a, ARENA_BYTES) >= 0);
	for (i = 0; i < 8; i++) {
		uint64_t len = (i + 1) * 4096;
		uint8_t *dst = a + (32u << 20);

		snprintf(key, sizeof(key), "m@0@0@r%u", i);
		memset(dst, 0, len);
		assert_int_equal(tu_get1(c, key, dst, len), 0);
		assert_memory_equal(a + i * (1u << 20), dst, len);
	}
	assert_int_equal(stats_of(c).direct_bytes, 36 * 4096);
	fdpkv_close(c);
	munmap(a, ARENA_BYTES);
}

/* A damaged aligned value is a miss on the direct path, not bytes. */
static void test_damaged_value_miss(void **state)
{
	struct fdpkv_cache *c = open_fresh("");
	uint8_t *a = arena_alloc(ARENA_BYTES);
	long long at;

	(void)state;
	assert_true(fdpkv_register_arena(c, a, ARENA_BYTES) >= 0);
	tu_fill(a, 16384, 77);
	assert_int_equal(tu_set1(c, "m@0@0@bad", a, 16384), 0);
	fdpkv_close(c);
	/* the value sits on an LBA boundary of its own: found at 4 KiB granularity */
	at = tu_find_bytes(path, a, 64);
	assert_true(at > 0);
	assert_int_equal(at % 4096, 0);
	tu_flip_bits(path, at + 9000, 0x40);

	c = tu_open(kv);
	assert_true(fdpkv_register_arena(c, a, ARENA_BYTES) >= 0);
	assert_int_equal(tu_get1(c, "m@0@0@bad", a + (16u << 20), 16384), -ENOENT);
	assert_int_equal(stats_of(c).corrupt_objects, 1);
	assert_int_equal(stats_of(c).direct_bytes, 0);
	/* and it stays a miss */
	assert_int_equal(tu_op1(c, FDPKV_OP_EXISTS, "m@0@0@bad"), -ENOENT);
	fdpkv_close(c);
	munmap(a, ARENA_BYTES);
}

/*
 * A value across the 1 GiB boundary between two ring slots of one arena whose
 * base is @skew bytes past a page: the boundary is then not LBA aligned, and
 * the parts around it must still be whole LBAs.
 */
static void slot_boundary(size_t skew, uint64_t want_fixed)
{
	const size_t len = (1ull << 30) + (16u << 20);
	struct fdpkv_cache *c = open_fresh("");
	uint8_t *m = arena_alloc(len + 4096), *a = m + skew;
	uint8_t *cross = m + (1ull << 30) - (3u << 20) - 4096;
	uint8_t *below = m + (256u << 20);
	const uint64_t v = 5u << 20;
	uint64_t fixed;

	/* pins the whole arena: every page is touched by the registration */
	assert_true(fdpkv_register_arena(c, a, len) >= 0);
	fixed = stats_of(c).fixed_cmds;
	/* written from across the boundary, read below it, then across it */
	roundtrip(c, "m@0@0@cross", cross, below, v, 2 * v);
	memset(cross, 0, v);
	assert_int_equal(tu_get1(c, "m@0@0@cross", cross, v), 0);
	assert_memory_equal(cross, below, v);
	assert_int_equal(stats_of(c).fixed_cmds - fixed, want_fixed);
	assert_int_equal(stats_of(c).io_errors, 0);
	fdpkv_close(c);
	munmap(m, len + 4096);
}

static void test_slot_boundary(void **state)
{
	(void)state;
	/*
	 * 1 MiB transfers: across the boundary 3 MiB + 4 KiB below it and the
	 * rest above make 6 parts (4 + 2); the other read 5.
	 */
	slot_boundary(0, 6 + 5 + 6);
	/*
	 * 64 bytes past a page: the boundary falls 64 bytes into an LBA. The
	 * part up to it ends an LBA early, the next (1 MiB from the last LBA
	 * before the boundary) goes as a plain address, the rest is fixed:
	 * 5 fixed parts each way across it.
	 */
	slot_boundary(64, 5 + 5 + 5);
}

/*
 * tmpfs (and any file without O_DIRECT): the kernel copies, so a misaligned
 * buffer of whole LBAs moves without a copy in both directions and is
 * stored in the aligned layout; a length that is not whole LBAs is bounced.
 */
static void test_any_align_direct(void **state)
{
	static const uint64_t sizes[] = { 4096, 1u << 20, (8u << 20) + 4096 };
	char k[600], shm[] = "/dev/shm/fdpkv-any-XXXXXX";
	uint8_t *src = NULL, *dst = NULL;
	struct fdpkv_cache *c;
	unsigned int i;

	(void)state;
	if (!mkdtemp(shm))
		skip();
	snprintf(k, sizeof(k), "device=file:%s/dev.img capacity=256M segment_size=16M "
		 "format=always", shm);
	c = tu_open(k);
	assert_true(c->devs[0].dev.geo.any_align);
	assert_true(posix_memalign((void **)&src, 4096, (9u << 20) + 4096) == 0);
	assert_true(posix_memalign((void **)&dst, 4096, (9u << 20) + 4096) == 0);
	for (i = 0; i < 3; i++) {
		uint64_t len = sizes[i];
		char key[64];

		snprintf(key, sizeof(key), "m@0@0@mm%u", i);
		roundtrip(c, key, src + 8, dst + 100, len, 2 * len);
		snprintf(key, sizeof(key), "m@0@0@ma%u", i);
		roundtrip(c, key, src + 4095, dst, len, 2 * len);
		snprintf(key, sizeof(key), "m@0@0@odd%u", i);
		roundtrip(c, key, src + 8, dst + 8, len - 1, 0);	/* not whole LBAs */
	}
	assert_int_equal(stats_of(c).corrupt_objects, 0);
	fdpkv_close(c);
	/* and a restart finds them, read back exact */
	snprintf(k, sizeof(k), "device=file:%s/dev.img format=never", shm);
	c = tu_open(k);
	tu_fill(src, sizes[2], (uint32_t)sizes[2] ^ 'm');
	assert_int_equal(tu_get1(c, "m@0@0@mm2", dst + 1, sizes[2]), 0);
	assert_memory_equal(src, dst + 1, sizes[2]);
	fdpkv_close(c);
	free(src);
	free(dst);
	snprintf(k, sizeof(k), "rm -rf '%s'", shm);
	assert_int_equal(system(k), 0);
}

static void test_sim_direct(void **state)
{
	struct fdpkv_cache *c = tu_open("device=sim: capacity=256M format=always");
	uint8_t *a = arena_alloc(ARENA_BYTES);

	(void)state;
	assert_true(fdpkv_register_arena(c, a, ARENA_BYTES) >= 0);
	roundtrip(c, "m@0@0@sim", a, a + (16u << 20), 3u << 20, 2 * (3u << 20));
	/* no ring, nothing registered with one */
	assert_int_equal(stats_of(c).fixed_cmds, 0);
	fdpkv_close(c);
	munmap(a, ARENA_BYTES);
}

static void test_refusals(void **state)
{
	struct fdpkv_cache *c = open_fresh("");
	uint8_t *a = arena_alloc(ARENA_BYTES);
	int ids[16], i;

	(void)state;
	assert_int_equal(fdpkv_register_arena(NULL, a, 4096), -EINVAL);
	assert_int_equal(fdpkv_register_arena(c, NULL, 4096), -EINVAL);
	assert_int_equal(fdpkv_register_arena(c, a, 0), -EINVAL);
	assert_int_equal(fdpkv_unregister_arena(c, -1), -EINVAL);
	assert_int_equal(fdpkv_unregister_arena(c, 16), -EINVAL);
	assert_int_equal(fdpkv_unregister_arena(c, 3), -ENOENT);
	ids[0] = fdpkv_register_arena(c, a, 1u << 20);
	assert_true(ids[0] >= 0);
	assert_int_equal(fdpkv_register_arena(c, a + 4096, 4096), -EEXIST);
	assert_int_equal(fdpkv_register_arena(c, a, ARENA_BYTES), -EEXIST);
	for (i = 1; i < 16; i++) {
		ids[i] = fdpkv_register_arena(c, a + i * (1u << 20), 1u << 20);
		assert_true(ids[i] >= 0);
	}
	assert_int_equal(fdpkv_register_arena(c, a + 16 * (1u << 20), 4096), -ENOSPC);
	for (i = 0; i < 16; i++)
		assert_int_equal(fdpkv_unregister_arena(c, ids[i]), 0);
	fdpkv_close(c);
	munmap(a, ARENA_BYTES);
}

/* Not while a buffer in it is in flight. */
static void test_unregister_busy(void **state)
{
	struct fdpkv_cache *c = tu_open("device=sim: capacity=1G segment_size=64M format=always");
	uint8_t *a = arena_alloc(ARENA_BYTES);
	struct fdpkv_key k = tu_key("m@0@0@busy");
	struct fdpkv_buf b = { a, 48u << 20 };
	struct fdpkv_completion comp;
	bool busy = false;
	uint64_t id;
	int aid;

	(void)state;
	aid = fdpkv_register_arena(c, a, ARENA_BYTES);
	assert_true(aid >= 0);
	tu_fill(a, b.len, 5);
	assert_int_equal(tu_set1(c, "m@0@0@busy", a, b.len), 0);
	for (int tries = 0; tries < 20 && !busy; tries++) {
		assert_int_equal(fdpkv_submit(c, FDPKV_OP_GET, 1, &k, &b, NULL, &id), 0);
		/* the 48 MiB copy runs on the device thread for milliseconds */
		busy = fdpkv_unregister_arena(c, aid) == -EBUSY;
		while (fdpkv_drain(c, &comp, 1) == 0)
			assert_int_equal(fdpkv_wait(c, 5000), 1);
		assert_int_equal(comp.result, 0);
		fdpkv_completion_release(&comp);
		if (!busy)
			aid = fdpkv_register_arena(c, a, ARENA_BYTES);
	}
	assert_true(busy);
	assert_int_equal(fdpkv_unregister_arena(c, aid), 0);
	fdpkv_close(c);
	munmap(a, ARENA_BYTES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_fixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ineligible_bounced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_aligned_direct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_and_fsck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_value_miss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_boundary, setup, teardown),
		cmocka_unit_test(test_sim_direct),
		cmocka_unit_test(test_any_align_direct),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test(test_unregister_busy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
