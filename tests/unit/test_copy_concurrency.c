// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_copy_concurrency - values moved in pieces (lib/pieces.c) from
 * several submitting threads at once, under ThreadSanitizer too (the
 * Makefile builds test_*concurren*.c with -fsanitize=thread): workers stage
 * and copy out pieces while device threads write and read others, SETs
 * fail for lack of room while their pieces are still being staged, and
 * every value read back is whole; and aligned values larger than a piece,
 * read in one command and checksummed on the workers (lib/read.c).
 */
#include <errno.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>

#include <cmocka.h>

#include "cache.h"
#include "util.h"

#define THREADS	3
#define ROUNDS	12
#define VLEN	(9u * 4096 + 77)	/* ten 4 KiB pieces, the last one short */
#define ALEN	(10u * 4096)		/* aligned: read in pieces, each checksummed on a worker */

static struct fdpkv_cache *cache;
static atomic_uint bad;
static atomic_bool stop_drainer;
static bool aligned;			/* page-aligned buffers of ALEN bytes */

/* One operation in flight of a submitting thread: the drainer fills it. */
struct slot {
	atomic_bool done;
	int status;
};

static void *drainer(void *arg)
{
	struct fdpkv_completion comp[8];

	(void)arg;
	while (!atomic_load(&stop_drainer)) {
		int n, i;

		if (fdpkv_wait(cache, 100) < 0)
			break;
		n = fdpkv_drain(cache, comp, 8);
		for (i = 0; i < n; i++) {
			struct slot *sl = comp[i].user_data;

			sl->status = comp[i].status[0];
			fdpkv_completion_release(&comp[i]);
			atomic_store(&sl->done, true);
		}
	}
	return NULL;
}

/* SET or GET one key and wait for the drainer to see it complete. */
static int run1(enum fdpkv_op op, const char *key, void *val, uint64_t len)
{
	struct fdpkv_key k = { key, (uint32_t)strlen(key) };
	struct fdpkv_buf b = { val, len };
	struct slot sl = { .done = false };
	uint64_t id;
	int ret;

	ret = fdpkv_submit(cache, op, 1, &k, &b, &sl, &id);
	if (ret)
		return ret;
	while (!atomic_load(&sl.done))
		sched_yield();
	return sl.status;
}

static void *submitter(void *arg)
{
	unsigned int t = (unsigned int)(uintptr_t)arg, r;
	uint64_t len = aligned ? ALEN : VLEN, at = aligned ? 0 : 1;
	uint8_t *src = NULL, *got = NULL;
	char key[32];

	/* misaligned by one byte (bounced, in pieces) unless aligned */
	if (posix_memalign((void **)&src, 4096, at + len) ||
	    posix_memalign((void **)&got, 4096, at + len)) {
		atomic_fetch_add(&bad, 1);
		return NULL;
	}
	for (r = 0; r < ROUNDS; r++) {
		/* a key of our own, and one all threads write */
		snprintf(key, sizeof(key), (r & 1) ? "shared" : "t%u-%u", t, r);
		tu_fill(src + at, len, t * 1000 + r);
		if (run1(FDPKV_OP_SET, key, src + at, len))
			atomic_fetch_add(&bad, 1);
		if (r & 1)
			continue;	/* another thread may have replaced it */
		if (run1(FDPKV_OP_GET, key, got + at, len) || memcmp(got + at, src + at, len))
			atomic_fetch_add(&bad, 1);
	}
	free(src);
	free(got);
	return NULL;
}

/*
 * THREADS submitters and a drainer, ROUNDS SETs and half as many GETs each;
 * @memory: on tmpfs, where the workers read aligned values themselves.
 */
static void from_many_threads(bool align, bool memory)
{
	char tmpl[] = "/dev/shm/fdpkv-test-XXXXXX";
	char *dir = memory ? strdup(mkdtemp(tmpl)) : tu_mkdtemp(), kv[600];
	uint64_t len = align ? ALEN : VLEN;
	pthread_t thr[THREADS], dr;
	uint8_t *got = NULL;
	unsigned int i;

	assert_int_equal(posix_memalign((void **)&got, 4096, len), 0);
	aligned = align;
	atomic_store(&bad, 0);
	snprintf(kv, sizeof(kv), "device=file:%s/c.img capacity=64M segment_size=1M "
		 "placement=none copy_piece=4K copy_threads=2", dir);
	cache = tu_open(kv);
	atomic_store(&stop_drainer, false);
	assert_int_equal(pthread_create(&dr, NULL, drainer, NULL), 0);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&thr[i], NULL, submitter, (void *)(uintptr_t)i), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(thr[i], NULL);
	atomic_store(&stop_drainer, true);
	pthread_join(dr, NULL);
	assert_int_equal(atomic_load(&bad), 0);
	assert_int_equal(tu_get1(cache, "shared", got, len), 0);	/* one whole version */
	if (align) {
		/* the GETs of aligned values: no pieces, crcs on the workers */
		assert_int_equal(atomic_load(&cache->st.piece_jobs), 0);
		assert_true(atomic_load(&cache->st.crc_jobs) >= THREADS * ROUNDS / 2);
		assert_int_equal(atomic_load(&cache->st.worker_reads) > 0, memory);
		assert_true(atomic_load(&cache->st.set_crc_jobs) >= THREADS * ROUNDS);
	} else {
		assert_true(atomic_load(&cache->st.piece_jobs) >= THREADS * ROUNDS * 10);
	}
	fdpkv_close(cache);
	free(got);
	tu_rmdir(dir);
}

static void test_pieces_from_many_threads(void **state)
{
	(void)state;
	from_many_threads(false, false);
}

static void test_aligned_gets_from_many_threads(void **state)
{
	(void)state;
	from_many_threads(true, false);
}

/* The same on tmpfs: the aligned GETs' pieces read by the workers. */
static void test_aligned_gets_read_by_workers(void **state)
{
	struct statfs sf;

	(void)state;
	if (statfs("/dev/shm", &sf) || sf.f_type != TMPFS_MAGIC)
		skip();
	from_many_threads(true, true);
}

/*
 * No room: every segment holds a locked key, so a SET fails (-ENOSPC) while
 * the workers may still stage its pieces; the key completes only once they
 * are done (ASan/TSan: nothing freed under them), every time.
 */
static void test_pieces_set_fails_while_staging(void **state)
{
	char *dir = tu_mkdtemp(), kv[600], key[32];
	uint8_t *src = malloc(VLEN + 1);
	unsigned int i, nospc = 0;
	int ret;

	(void)state;
	snprintf(kv, sizeof(kv), "device=file:%s/c.img capacity=4M segment_size=256K "
		 "placement=none copy_piece=4K copy_threads=2 free_segments_low=1", dir);
	cache = tu_open(kv);
	tu_fill(src + 1, VLEN, 3);
	for (i = 0; i < 400 && nospc < 8; i++) {	/* ~6 per segment, 16 segments */
		snprintf(key, sizeof(key), "pin%u", i);
		ret = tu_set1(cache, key, src + 1, VLEN);
		if (ret == -ENOSPC) {
			nospc++;
			continue;
		}
		assert_int_equal(ret, 0);
		assert_int_equal(tu_op1(cache, FDPKV_OP_LOOKUP_LOCK, key), 0);
	}
	assert_true(nospc > 0);
	fdpkv_close(cache);
	free(src);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pieces_from_many_threads),
		cmocka_unit_test(test_aligned_gets_from_many_threads),
		cmocka_unit_test(test_aligned_gets_read_by_workers),
		cmocka_unit_test(test_pieces_set_fails_while_staging),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
