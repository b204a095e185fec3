// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_crc - CRC-32C throughput per core, in the same run: ISA-L's
 * crc32_iscsi (what crc32c() uses when libisal.so.2 loads), our SSE4.2
 * single-stream loop, and the slicing-by-8 table; checks all three agree.
 *
 *   build/bench/bench_crc [MIB]     (default 256 MiB checksummed per case)
 *
 * One thread, so GB/s is per core. Buffer sizes 4 KiB (headers), 256 KiB and
 * 4 MiB (values); the buffer is reused, so it is cache-warm at 4/256 KiB.
 */
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

static double gbs(uint32_t (*fn)(uint32_t, const void *, size_t), const uint8_t *buf,
		  size_t len, size_t total, uint32_t *out)
{
	size_t i, n = total / len ? total / len : 1;
	uint32_t acc = 0;
	double t0 = now();

	for (i = 0; i < n; i++)
		acc ^= fn(0, buf, len);
	*out = acc;
	return (double)n * (double)len / (now() - t0) / 1e9;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 4096, 256 << 10, 4 << 20 };
	size_t total = (argc > 1 ? strtoull(argv[1], NULL, 0) : 256) << 20, i;
	uint8_t *buf = malloc(4 << 20);
	int bad = 0;

	if (!buf)
		return 1;
	for (i = 0; i < (4 << 20); i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	printf("crc32c GB/s per core (ISA-L %s)\n", crc32c_has_isal() ? "loaded" : "NOT loaded");
	printf("%10s %10s %10s %10s %8s\n", "bytes", "isa-l", "ours-hw", "table", "isa/ours");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t a, b, c;
		double ga = gbs(crc32c_isal, buf, sizes[i], total, &a);
		double gb = gbs(crc32c_ours, buf, sizes[i], total, &b);
		double gc = gbs(crc32c_sw, buf, sizes[i], total / 8, &c);

		printf("%10zu %10.2f %10.2f %10.2f %8.2f\n", sizes[i], ga, gb, gc, ga / gb);
		if (crc32c_isal(0, buf, sizes[i]) != crc32c_sw(0, buf, sizes[i]) ||
		    crc32c_ours(0, buf, sizes[i]) != crc32c_sw(0, buf, sizes[i]))
			bad = 1;
		(void)a; (void)b; (void)c;
	}
	if (bad)
		fprintf(stderr, "bench_crc: implementations disagree\n");
	free(buf);
	return bad;
}
