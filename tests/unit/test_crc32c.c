// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_crc32c - known CRC-32C vectors (RFC 3720 B.4), chaining, and the
 * three implementations (ISA-L, SSE4.2, table) agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static void test_vectors(void **state)
{
	uint8_t buf[48];
	unsigned int i;

	(void)state;
	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(crc32c(0, "", 0), 0);
	memset(buf, 0, 32);
	assert_int_equal(crc32c(0, buf, 32), 0x8a9136aa);
	memset(buf, 0xff, 32);
	assert_int_equal(crc32c(0, buf, 32), 0x62a8ab43);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(crc32c(0, buf, 32), 0x46dd794e);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(crc32c(0, buf, 32), 0x113fdb5c);
}

static void test_chaining_and_alignment(void **state)
{
	uint8_t buf[1000 + 8];
	unsigned int i, off, split;
	uint32_t whole;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	whole = crc32c(0, buf, 1000);
	for (split = 0; split <= 1000; split += 37)
		assert_int_equal(crc32c(crc32c(0, buf, split), buf + split, 1000 - split), whole);
	/* same bytes at every misalignment give the same crc */
	for (off = 1; off < 8; off++) {
		memmove(buf + off, buf + off - 1, 1000);
		assert_int_equal(crc32c(0, buf + off, 1000), whole);
	}
}

/* the hardware path (SSE4.2 where present) and the table agree */
static void test_hw_matches_table(void **state)
{
	static uint8_t buf[70000];
	uint32_t x = 99;
	size_t i, off, len;

	(void)state;
	for (i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (off = 0; off < 9; off++)
		for (len = 0; len < 300; len += 7)
			assert_int_equal(crc32c(len, buf + off, len), crc32c_sw(len, buf + off, len));
	assert_int_equal(crc32c(0, buf, sizeof(buf)), crc32c_sw(0, buf, sizeof(buf)));
	assert_int_equal(crc32c_sw(0, "123456789", 9), 0xe3069283);
}

/*
 * ISA-L (scripts/setup.sh installs libisal-dev) is loaded and crc32c() uses
 * it; its seeded, chained results equal ours and the table's.
 */
static void test_isal_loaded_and_matches(void **state)
{
	static uint8_t buf[1 << 20];
	uint32_t x = 7;
	size_t i, off, len;

	(void)state;
	assert_true(crc32c_has_isal());
	for (i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (off = 0; off < 9; off++)
		for (len = 0; len < 5000; len += 131) {
			assert_int_equal(crc32c_isal(len, buf + off, len), crc32c_ours(len, buf + off, len));
			assert_int_equal(crc32c_isal(len, buf + off, len), crc32c_sw(len, buf + off, len));
		}
	assert_int_equal(crc32c_isal(0, buf, sizeof(buf)), crc32c_ours(0, buf, sizeof(buf)));
	assert_int_equal(crc32c_isal(crc32c_isal(0, buf, 4097), buf + 4097, sizeof(buf) - 4097),
			 crc32c_ours(0, buf, sizeof(buf)));
	assert_int_equal(crc32c_isal(0, "123456789", 9), 0xe3069283);
}

/* crc32c_copy copies exactly and gives the crc of what it copied, across
 * its internal block boundary and at odd alignments. */
static void test_copy(void **state)
{
	static uint8_t src[300000], dst[300000 + 16];
	static const size_t lens[] = { 0, 1, 4095, 65536, 65537, 200001, 299990 };
	uint32_t x = 3;
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(src); i++) {
		x = x * 1103515245u + 12345u;
		src[i] = (uint8_t)(x >> 16);
	}
	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		memset(dst, 0xee, sizeof(dst));
		assert_int_equal(crc32c_copy(5, dst + 3, src + 7, lens[k]),
				 crc32c(5, src + 7, lens[k]));
		assert_memory_equal(dst + 3, src + 7, lens[k]);
		assert_int_equal(dst[2], 0xee);
		assert_int_equal(dst[3 + lens[k]], 0xee);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_chaining_and_alignment),
		cmocka_unit_test(test_hw_matches_table),
		cmocka_unit_test(test_isal_loaded_and_matches),
		cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
