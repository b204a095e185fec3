// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_mem - memory per index entry at 1 M and 10 M entries.
 *
 * Inserts N LMCache-shaped keys ("llama@000000ff@0@<16 hex>", 33 bytes)
 * through the index API and links each into a segment, as a SET does, and
 * reports heap bytes per entry from the mallinfo2() delta (what malloc
 * really holds: chunk headers and rounding included) beside the index's own
 * count (stats.index_bytes) and sizeof(struct index_entry).
 *
 *   build/bench/bench_mem [N...]	(default: 1000000 10000000)
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void run(size_t n)
{
	struct seg_table segs;
	struct index ix;
	size_t before, after, i;
	uint32_t nseg = 4096;
	char key[64];
	double t0, t1, t2;

	if (segs_init(&segs, nseg, 128ull << 20) || index_init(&ix, 0)) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	before = heap_now();
	t0 = now();
	for (i = 0; i < n; i++) {
		int klen = snprintf(key, sizeof(key), "llama@000000ff@0@%016llx", (unsigned long long)i * 0x9e3779b97f4a7c15ull);
		struct index_entry *e = index_insert(&ix, key, (uint32_t)klen);
		struct segment *sg;

		if (!e) {
			fprintf(stderr, "out of memory at %zu\n", i);
			exit(1);
		}
		e->seg = (uint32_t)(i % nseg);
		e->vlen = 256 * 1024;
		sg = &segs.segs[e->seg];
		seg_link(sg, e);
	}
	t1 = now();
	after = heap_now();
	/* lookups, to see that a smaller entry does not cost speed */
	for (i = 0; i < n; i++) {
		int klen = snprintf(key, sizeof(key), "llama@000000ff@0@%016llx", (unsigned long long)i * 0x9e3779b97f4a7c15ull);

		if (!index_find(&ix, key, (uint32_t)klen)) {
			fprintf(stderr, "lost key %zu\n", i);
			exit(1);
		}
	}
	t2 = now();
	printf("entries %9zu  sizeof(entry) %zu + key 33  heap %6.1f B/entry (mallinfo2, buckets incl.)  "
	       "index_bytes %6.1f B/entry  buckets %zu  insert %.0f ns  find %.0f ns\n",
	       n, sizeof(struct index_entry), (double)(after - before) / (double)n,
	       (double)ix.bytes / (double)n, ix.nbuckets, (t1 - t0) * 1e9 / (double)n,
	       (t2 - t1) * 1e9 / (double)n);
	index_destroy(&ix);
	segs_destroy(&segs);
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		run(1000000);
		run(10000000);
		return 0;
	}
	for (i = 1; i < argc; i++)
		run(strtoull(argv[i], NULL, 0));
	return 0;
}
