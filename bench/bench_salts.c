// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_salts - SET throughput with many cache salts against one salt
 * (issue 11 item 7: usage is kept per salt bucket, looked up on every commit
 * and drop under the cache lock). Both runs in the same process, on the
 * sim: backend, with the same number of 4 KiB values in flight in batches:
 * first every salt gets one object, then every object is overwritten once
 * (a commit and a drop each). On a shared machine one pair of runs says
 * little (other work may land on either), so the pair is repeated, its
 * order alternating, and the median of the per-pair ratios is the figure;
 * every pair is printed too.
 *
 *   bench_salts [-n SALTS] [-v BYTES] [-r PAIRS]   (default 40960 salts,
 *                                                    4096 bytes, 7 pairs)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdpkv.h"

#define BATCH	64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_batch(struct fdpkv_cache *c, unsigned int n, const struct fdpkv_key *k,
		     const struct fdpkv_buf *b)
{
	struct fdpkv_completion done;
	uint64_t id;
	int ret = fdpkv_submit(c, FDPKV_OP_SET, n, k, b, NULL, &id);

	if (ret)
		return ret;
	for (;;) {
		if (fdpkv_wait(c, 60000) != 1)
			return -ETIMEDOUT;
		if (fdpkv_drain(c, &done, 1) == 1)
			break;
	}
	ret = done.result;
	fdpkv_completion_release(&done);
	return ret;
}

/* SETs per second over two passes of @nkeys keys spread over @nsalts salts. */
static double measure(unsigned int nkeys, unsigned int nsalts, uint64_t vlen)
{
	static char names[BATCH][96];
	struct fdpkv_key keys[BATCH];
	struct fdpkv_buf bufs[BATCH];
	struct fdpkv_config cfg;
	struct fdpkv_cache *c;
	char err[256];
	void *val = calloc(1, vlen);
	unsigned int pass, i, j;
	double t0, t;

	fdpkv_config_init(&cfg);
	if (fdpkv_config_parse(&cfg, "device=sim: capacity=2G placement=salt", err, sizeof(err)) ||
	    fdpkv_open(&cfg, &c, err, sizeof(err)) || !val) {
		fprintf(stderr, "open: %s\n", err);
		exit(1);
	}
	t0 = now();
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < nkeys; i += BATCH) {
			unsigned int n = nkeys - i < BATCH ? nkeys - i : BATCH;

			for (j = 0; j < n; j++) {
				snprintf(names[j], sizeof(names[j]), "llama@000000ff@0@%08x@user%u:x",
					 i + j, (i + j) % nsalts);
				keys[j].data = names[j];
				keys[j].len = (uint32_t)strlen(names[j]);
				bufs[j].base = val;
				bufs[j].len = vlen;
			}
			if (run_batch(c, n, keys, bufs)) {
				fprintf(stderr, "set failed\n");
				exit(1);
			}
		}
	}
	t = now() - t0;
	fdpkv_close(c);
	free(val);
	return 2.0 * nkeys / t;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), by_value);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_PAIRS	64

int main(int argc, char **argv)
{
	static double one[MAX_PAIRS], many[MAX_PAIRS], ratio[MAX_PAIRS];
	unsigned int nsalts = 40960, pairs = 7, r;
	uint64_t vlen = 4096;
	int opt;

	while ((opt = getopt(argc, argv, "n:v:r:")) != -1) {
		if (opt == 'n')
			nsalts = (unsigned int)strtoul(optarg, NULL, 0);
		else if (opt == 'v')
			vlen = strtoull(optarg, NULL, 0);
		else if (opt == 'r')
			pairs = (unsigned int)strtoul(optarg, NULL, 0);
		else {
			fprintf(stderr, "usage: %s [-n SALTS] [-v BYTES] [-r PAIRS]\n", argv[0]);
			return 2;
		}
	}
	if (!nsalts)
		nsalts = 1;
	if (!pairs || pairs > MAX_PAIRS) {
		fprintf(stderr, "-r: 1..%d pairs\n", MAX_PAIRS);
		return 2;
	}
	for (r = 0; r < pairs; r++) {
		/* alternate the order: a slow phase of the machine hits both sides */
		if (r % 2) {
			many[r] = measure(nsalts, nsalts, vlen);
			one[r] = measure(nsalts, 1, vlen);
		} else {
			one[r] = measure(nsalts, 1, vlen);
			many[r] = measure(nsalts, nsalts, vlen);
		}
		ratio[r] = one[r] / many[r];
		printf("pair %u: 1 salt %.0f/s, %u salts %.0f/s, ratio %.2fx\n", r + 1, one[r],
		       nsalts, many[r], ratio[r]);
		fflush(stdout);
	}
	printf("SET %llu-byte values, %u keys x 2 passes, %u pairs: median 1 salt %.0f/s, "
	       "median %u salts %.0f/s, median ratio (1 salt / %u salts) %.2fx\n",
	       (unsigned long long)vlen, nsalts, pairs, median(one, pairs), nsalts,
	       median(many, pairs), nsalts, median(ratio, pairs));
	return 0;
}
