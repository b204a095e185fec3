// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_salts - SET throughput with many cache salts against one salt
 * (issue 11 item 7: usage is kept per salt bucket, looked up on every commit
 * and drop under the cache lock). Both runs in the same process, on the
 * sim: backend, with the same number of 4 KiB values in flight in batches:
 * first every salt gets one object, then every object is overwritten once
 * (a commit and a drop each). Prints both rates and their ratio.
 *
 *   bench_salts [-n SALTS] [-v BYTES]      (default 40960 salts, 4096 bytes)
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

int main(int argc, char **argv)
{
	unsigned int nsalts = 40960;
	uint64_t vlen = 4096;
	double one, many;
	int opt;

	while ((opt = getopt(argc, argv, "n:v:")) != -1) {
		if (opt == 'n')
			nsalts = (unsigned int)strtoul(optarg, NULL, 0);
		else if (opt == 'v')
			vlen = strtoull(optarg, NULL, 0);
		else {
			fprintf(stderr, "usage: %s [-n SALTS] [-v BYTES]\n", argv[0]);
			return 2;
		}
	}
	if (!nsalts)
		nsalts = 1;
	one = measure(nsalts, 1, vlen);
	many = measure(nsalts, nsalts, vlen);
	printf("SET %llu-byte values, %u keys x 2 passes: 1 salt %.0f/s, %u salts %.0f/s, "
	       "ratio (1 salt / %u salts) %.2fx\n", (unsigned long long)vlen, nsalts, one, nsalts,
	       many, nsalts, one / many);
	return 0;
}
