// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_ops - a fixed op sequence on the in-memory sim backend, for counting
 * instructions with callgrind (bench/callgrind.sh): no device I/O, so what is
 * counted is the library's own work (plus the sim's memcpy of the data,
 * which callgrind.sh reports separately).
 *
 *   build/bench/bench_ops open|set|setget N VALUE_BYTES
 *
 * open: open and close only; set: N single-key SETs; setget: the same SETs,
 * then N GETs of them. Each op is submitted, waited for and drained before
 * the next, as a latency-bound caller would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdpkv.h"

static void run1(struct fdpkv_cache *c, enum fdpkv_op op, unsigned int i, void *val, uint64_t len)
{
	struct fdpkv_completion done;
	struct fdpkv_key k;
	struct fdpkv_buf b = { val, len };
	char name[48];
	uint64_t id;

	snprintf(name, sizeof(name), "llama@000000ff@0@%08x", i);
	k = (struct fdpkv_key){ name, (uint32_t)strlen(name) };
	if (fdpkv_submit(c, op, 1, &k, &b, NULL, &id))
		exit(1);
	for (;;) {
		fdpkv_wait(c, -1);
		if (fdpkv_drain(c, &done, 1) == 1)
			break;
	}
	if (done.result) {
		fprintf(stderr, "op %d key %u: %d\n", op, i, done.result);
		exit(1);
	}
	fdpkv_completion_release(&done);
}

int main(int argc, char **argv)
{
	struct fdpkv_config cfg;
	struct fdpkv_cache *c;
	unsigned int n, i;
	uint64_t len;
	char err[256];
	void *val;

	if (argc != 4) {
		fprintf(stderr, "usage: %s open|set|setget N VALUE_BYTES\n", argv[0]);
		return 2;
	}
	n = (unsigned int)strtoul(argv[2], NULL, 0);
	len = strtoull(argv[3], NULL, 0);
	val = calloc(1, len);
	fdpkv_config_init(&cfg);
	if (!val || fdpkv_config_parse(&cfg, "device=sim: placement=none queue_depth=32", err,
				       sizeof(err)))
		return 1;
	/* room for every object: no eviction in the count */
	cfg.capacity_bytes = ((uint64_t)n * (len + 8192) + (64ull << 20)) & ~((1ull << 20) - 1);
	cfg.segment_bytes = 16ull << 20;
	if (fdpkv_open(&cfg, &c, err, sizeof(err))) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	if (strcmp(argv[1], "open")) {
		for (i = 0; i < n; i++)
			run1(c, FDPKV_OP_SET, i, val, len);
	}
	if (!strcmp(argv[1], "setget")) {
		for (i = 0; i < n; i++)
			run1(c, FDPKV_OP_GET, i, val, len);
	}
	fdpkv_close(c);
	free(val);
	return 0;
}
