// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * crc32c.c - CRC-32C (Castagnoli), table driven, slicing by 8.
 *
 * Objects and superblocks carry CRC-32C because it is what NVMe end-to-end
 * protection and most storage formats use. Every value is checksummed on SET
 * and checked on GET, so this is the library's hottest loop: on x86-64 with
 * SSE4.2 the crc32 instruction does it (about 8x fewer instructions than the
 * table; bench/callgrind.sh showed the table at 64% of all instructions of a
 * 4 KiB SET+GET), elsewhere slicing by 8. Both give identical results
 * (test_crc32c compares them).
 *
 * Faster still is ISA-L's crc32_iscsi (three interleaved crc32 streams folded
 * with carry-less multiplies, the storage field's library for this): build/
 * bench/bench_crc measures it at several times our single-stream loop per
 * core, which matters for 32-80 MiB values checksummed on every SET and GET.
 * It is linked (-lisal) but referenced weakly: Debian ships no static
 * libisal, and a program that links libfdpkv.a without -lisal (the VM's
 * static test programs) still links and runs the loop below.
 * FDPKV_CRC=ours in the environment skips ISA-L (benchmarks, tests).
 */
#include <isa-l/crc.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#pragma weak crc32_iscsi

#define CRC32C_POLY_REFLECTED	0x82f63b78u

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool crc_hw;
/* ISA-L: no inversion at either end, so crc32c(c) = ~isal(~c); int length */
static unsigned int (*crc_isal)(unsigned char *buf, int len, unsigned int init);

static void crc32c_load_isal(void)
{
	const char *want = getenv("FDPKV_CRC");

	if (!(want && !strcmp(want, "ours")))
		crc_isal = crc32_iscsi;		/* NULL when not linked */
}

static void crc32c_init_table(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY_REFLECTED : 0);
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_table[j][i] = (crc_table[j - 1][i] >> 8) ^
					  crc_table[0][crc_table[j - 1][i] & 0xff];
#if defined(__x86_64__)
	crc_hw = __builtin_cpu_supports("sse4.2");
#endif
	crc32c_load_isal();
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = ~crc;

	while (len && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		len--;
	}
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return ~(uint32_t)c;
}
#endif

uint32_t crc32c_isal(uint32_t crc, const void *buf, size_t len)
{
	unsigned char *p = (unsigned char *)(uintptr_t)buf;

	pthread_once(&crc_once, crc32c_init_table);
	if (!crc_isal)
		return crc32c_ours(crc, buf, len);
	crc = ~crc;
	while (len) {
		int n = len > (size_t)(INT_MAX & ~4095) ? (INT_MAX & ~4095) : (int)len;

		crc = crc_isal(p, n, crc);
		p += n;
		len -= (size_t)n;
	}
	return ~crc;
}

bool crc32c_has_isal(void)
{
	pthread_once(&crc_once, crc32c_init_table);
	return crc_isal != NULL;
}

uint32_t crc32c_ours(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc32c_init_table);
#if defined(__x86_64__)
	if (crc_hw)
		return crc32c_hw(crc, buf, len);
#endif
	return crc32c_sw(crc, buf, len);
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc32c_init_table);
	if (crc_isal)
		return crc32c_isal(crc, buf, len);
	return crc32c_ours(crc, buf, len);
}

uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&crc_once, crc32c_init_table);
	crc = ~crc;
	while (len && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);	/* little-endian host assumed (x86-64, arm64) */
		w ^= crc;
		crc = crc_table[7][w & 0xff] ^ crc_table[6][(w >> 8) & 0xff] ^
		      crc_table[5][(w >> 16) & 0xff] ^ crc_table[4][(w >> 24) & 0xff] ^
		      crc_table[3][(w >> 32) & 0xff] ^ crc_table[2][(w >> 40) & 0xff] ^
		      crc_table[1][(w >> 48) & 0xff] ^ crc_table[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

/*
 * Copy @len bytes to @dst and return the crc of them, in blocks small enough
 * to stay in the core's cache between the copy and the crc: the source is
 * read from memory once instead of twice (bounced SETs).
 */
#define CRC_COPY_BLOCK	(64u << 10)

uint32_t crc32c_copy(uint32_t crc, void *dst, const void *src, size_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (len) {
		size_t n = len < CRC_COPY_BLOCK ? len : CRC_COPY_BLOCK;

		memcpy(d, s, n);
		crc = crc32c(crc, d, n);
		d += n;
		s += n;
		len -= n;
	}
	return crc;
}

/*
 * crc32c_combine - the crc of A followed by B from crc(A), crc(B) and B's
 * length, so that pieces of one value can be checksummed on different
 * threads (pieces.c) and the object keep one crc (lib/FORMAT.md).
 *
 * Standard CRC algebra: with the pre- and post-inversion the two crcs carry,
 * crc(A.B) = crc(A) * x^(8 len(B)) mod P  xor  crc(B), in GF(2)[x]. The
 * multiplication below works on the reflected representation (bit 31 is
 * x^0); x^(8n) is the product of the precomputed x^(2^k) for the bits of
 * 8n, so a combine costs at most 64 multiplications of 32 steps each.
 */
static uint32_t gf2_mulmod(uint32_t a, uint32_t b)
{
	uint32_t prod = 0;
	int i;

	for (i = 31; i >= 0; i--) {
		if (a & (1u << i))	/* x^(31-i) of a: add b * x^(31-i) */
			prod ^= b;
		b = (b & 1) ? (b >> 1) ^ CRC32C_POLY_REFLECTED : b >> 1;
	}
	return prod;
}

static uint32_t x_pow2k[64];	/* x^(2^k) mod P, reflected */
static pthread_once_t x_pow_once = PTHREAD_ONCE_INIT;

static void x_pow_init(void)
{
	unsigned int k;

	x_pow2k[0] = 1u << 30;		/* x^1 */
	for (k = 1; k < ARRAY_SIZE(x_pow2k); k++)
		x_pow2k[k] = gf2_mulmod(x_pow2k[k - 1], x_pow2k[k - 1]);
}

uint32_t crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2)
{
	uint64_t n = len2;
	unsigned int k = 3;		/* bytes: x^(8 n) = x^(n << 3) */

	pthread_once(&x_pow_once, x_pow_init);
	while (n && k < ARRAY_SIZE(x_pow2k)) {
		if (n & 1)
			crc1 = gf2_mulmod(x_pow2k[k], crc1);
		n >>= 1;
		k++;
	}
	return crc1 ^ crc2;
}
