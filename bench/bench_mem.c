// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_mem - memory per index entry at 1 M and 10 M entries (index.c: the
 * key's 64-bit fingerprint in memory, the key on the device).
 *
 * Inserts N LMCache-shaped keys ("llama@000000ff@0@<16 hex>", 33 bytes)
 * through the index's API and links each into a segment, as a SET does, and
 * reports bytes per entry from the resident set (VmRSS delta: pages really
 * touched, the entries' mapped range included) and from the mallinfo2()
 * delta (what malloc holds: the buckets), beside the index's own count
 * (stats.index_bytes) and the entry struct's size.
 *
 *   build/bench/bench_mem [N...]	(default: 1000000 10000000)
 *
 * With -c PATH it measures the same through the cache instead (the judge of
 * issue 12's "<= 48 B per entry, all included"): formats a file cache at
 * PATH, stores N objects of 1 byte (one LBA each: the file needs N x 4 KiB,
 * sparse), and reports the heap delta per object between after the open and
 * after the last SET completed - index, usage buckets and whatever else the
 * cache keeps per entry - as the RSS delta (everything) and the heap delta
 * (malloc only: the index's entries are mapped, not malloc'd), beside
 * stats.index_bytes.
 *
 *   build/bench/bench_mem -c PATH N
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdpkv.h"

#include "internal.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* bytes malloc holds: small chunks plus mmapped large blocks (the buckets) */
static size_t heap_now(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* resident bytes of this process (/proc/self/statm: pages) */
static size_t rss_now(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (size_t)res * 4096;
}

/* heap, RSS and time at one moment */
struct mark {
	size_t heap, rss;
	double t;
};

static struct mark mark_now(void)
{
	return (struct mark){ .heap = heap_now(), .rss = rss_now(), .t = now() };
}

static int key_of(char *key, size_t cap, size_t i)
{
	return snprintf(key, cap, "llama@000000ff@0@%016llx",
			(unsigned long long)i * 0x9e3779b97f4a7c15ull);
}

static void run(size_t n)
{
	struct seg_table segs;
	struct index ix;
	size_t i;
	uint32_t nseg = 4096;
	struct mark m0, m1;
	char key[64];
	double t2;

	if (segs_init(&segs, nseg, 128ull << 20) || index_init(&ix, n, 64, 42)) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	m0 = mark_now();
	for (i = 0; i < n; i++) {
		int klen = key_of(key, sizeof(key), i);
		struct index_entry *e = index_insert(&ix, key, (uint32_t)klen);
		struct segment *sg;

		if (!e) {
			fprintf(stderr, "out of memory at %zu\n", i);
			exit(1);
		}
		e->seg = (uint32_t)(i % nseg);
		e->vlen = 256 * 1024;
		sg = &segs.segs[e->seg];
		seg_link(&ix, sg, e);
	}
	m1 = mark_now();
	/* lookups, to see that a smaller entry does not cost speed */
	for (i = 0; i < n; i++) {
		int klen = key_of(key, sizeof(key), i);

		if (!index_find(&ix, key, (uint32_t)klen)) {
			fprintf(stderr, "lost key %zu\n", i);
			exit(1);
		}
	}
	t2 = now();
	printf("index   entries %9zu  sizeof(entry) %zu  rss %6.1f B/entry  heap %6.1f B/entry "
	       "(mallinfo2)  index_bytes %6.1f B/entry  buckets %zu  insert %.0f ns  find %.0f ns\n",
	       n, sizeof(struct index_entry), (double)(m1.rss - m0.rss) / (double)n,
	       (double)(m1.heap - m0.heap) / (double)n, (double)ix.bytes / (double)n, ix.nbuckets,
	       (m1.t - m0.t) * 1e9 / (double)n, (t2 - m1.t) * 1e9 / (double)n);
	index_destroy(&ix);
	segs_destroy(&segs);
}

#define CACHE_BATCH	64

static struct fdpkv_cache *cache_open_file(const char *path, uint64_t cap)
{
	struct fdpkv_cache *c = NULL;
	struct fdpkv_config cfg;
	char err[256], uri[300];

	fdpkv_config_init(&cfg);
	snprintf(uri, sizeof(uri), "file:%s", path);
	cfg.capacity_bytes = cap;
	cfg.segment_bytes = 64ull << 20;
	cfg.format = FDPKV_FORMAT_ALWAYS;
	if (fdpkv_config_set(&cfg, "device", uri, err, sizeof(err)) ||
	    fdpkv_open(&cfg, &c, err, sizeof(err))) {
		fprintf(stderr, "open %s: %s\n", path, err);
		exit(1);
	}
	return c;
}

/* Wait for one SET batch; exits on a failed SET. Returns batches completed. */
static unsigned int cache_reap(struct fdpkv_cache *c)
{
	struct fdpkv_completion comp[16];
	int got, g;

	fdpkv_wait(c, 1000);
	got = fdpkv_drain(c, comp, 16);
	for (g = 0; g < got; g++) {
		if (comp[g].result) {
			fprintf(stderr, "set failed: %d\n", comp[g].result);
			exit(1);
		}
		fdpkv_completion_release(&comp[g]);
	}
	return got > 0 ? (unsigned int)got : 0;
}

static void run_cache(const char *path, size_t n)
{
	static char names[4][CACHE_BATCH][64];
	struct fdpkv_key keys[CACHE_BATCH];
	struct fdpkv_buf bufs[CACHE_BATCH];
	/* one 4 KiB LBA per object, 10% and 1 GiB spare, whole segments */
	uint64_t cap = ((uint64_t)n * 4096 * 11 / 10 + (1ull << 30)) & ~((64ull << 20) - 1);
	unsigned int pending = 0;
	struct fdpkv_stats st;
	struct fdpkv_usage u;
	struct fdpkv_cache *c;
	struct mark m0, m1;
	char val = 'v';
	size_t i = 0, j;

	unlink(path);
	c = cache_open_file(path, cap);
	m0 = mark_now();
	while (i < n || pending) {
		if (i < n && pending < 4) {
			size_t k = (i / CACHE_BATCH) % 4, m = n - i < CACHE_BATCH ? n - i : CACHE_BATCH;
			uint64_t id;

			for (j = 0; j < m; j++) {
				int klen = key_of(names[k][j], sizeof(names[k][j]), i + j);

				keys[j] = (struct fdpkv_key){ names[k][j], (uint32_t)klen };
				bufs[j] = (struct fdpkv_buf){ &val, 1 };
			}
			if (fdpkv_submit(c, FDPKV_OP_SET, (uint32_t)m, keys, bufs, NULL, &id)) {
				fprintf(stderr, "submit failed at %zu\n", i);
				exit(1);
			}
			i += m;
			pending++;
			continue;
		}
		pending -= cache_reap(c);
	}
	m1 = mark_now();
	fdpkv_stats(c, &st);
	fdpkv_usage(c, &u);
	printf("cache   objects %9llu of %zu  rss %6.1f B/entry (after open -> after last SET)  "
	       "heap %6.1f B/entry (mallinfo2)  index_bytes %6.1f B/entry  SET %.0f ns\n",
	       (unsigned long long)u.objects, n, (double)(m1.rss - m0.rss) / (double)n,
	       (double)(m1.heap - m0.heap) / (double)n, (double)st.index_bytes / (double)n,
	       (m1.t - m0.t) * 1e9 / (double)n);
	fdpkv_close(c);
	unlink(path);
	if (u.objects != n)
		exit(1);
}

int main(int argc, char **argv)
{
	int i;

	if (argc == 4 && !strcmp(argv[1], "-c")) {
		run_cache(argv[2], strtoull(argv[3], NULL, 0));
		return 0;
	}
	if (argc > 1 && argv[1][0] == '-') {
		fprintf(stderr, "usage: %s [N...] | -c PATH N\n", argv[0]);
		return 2;
	}

	if (argc < 2) {
		run(1000000);
		run(10000000);
		return 0;
	}
	for (i = 1; i < argc; i++)
		run(strtoull(argv[i], NULL, 0));
	return 0;
}
