// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_superblock - encode/decode, damage, and which of two copies wins. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static void sample(struct superblock *sb)
{
	unsigned int i;

	memset(sb, 0, sizeof(*sb));
	for (i = 0; i < 16; i++)
		sb->uuid[i] = (uint8_t)(i * 17);
	sb->generation = 3;
	sb->lba_size = 4096;
	sb->ndevices = 2;
	sb->dev_index = 1;
	sb->nclasses = 6;
	sb->ndata_classes = 4;
	sb->placement_by_salt = 1;
	sb->salt_separator = ':';
	sb->segment_bytes = 8 << 20;
	sb->nsegments = 100;
	sb->data_start = 1 << 20;
	sb->capacity = (1 << 20) + 100ull * (8 << 20);
	for (i = 0; i < 6; i++)
		sb->class_pid[i] = (uint16_t)(i + 1);
	sb->version = SB_VERSION;
	sb->seq_lease = 0x123456789aull;
}

/* Rewrite an encoded copy's version field (and its crc). */
static void set_version(uint8_t *buf, uint32_t v)
{
	uint32_t crc;

	memcpy(buf + 8, &v, 4);
	memset(buf + 12, 0, 4);
	crc = crc32c(0, buf, SB_ENCODED_SIZE);
	memcpy(buf + 12, &crc, 4);
}

/* A version 1 copy (no lease: its bytes 224.. were reserved zeroes) still opens. */
static void test_version1_decodes_without_lease(void **state)
{
	uint8_t buf[SB_ENCODED_SIZE];
	struct superblock a, b;

	(void)state;
	sample(&a);
	a.seq_lease = 0;
	sb_encode(buf, &a);
	set_version(buf, 1);
	assert_int_equal(sb_decode(buf, sizeof(buf), &b), 0);
	assert_int_equal(b.version, 1);
	assert_int_equal(b.seq_lease, 0);
	assert_int_equal(b.nsegments, a.nsegments);
}

/* A newer version is refused, and says which it is. */
static void test_newer_version_refused(void **state)
{
	uint8_t buf[SB_ENCODED_SIZE];
	struct superblock a, b;

	(void)state;
	sample(&a);
	sb_encode(buf, &a);
	set_version(buf, SB_VERSION + 1);
	assert_int_equal(sb_decode(buf, sizeof(buf), &b), -EPROTO);
	assert_int_equal(b.version, SB_VERSION + 1);
}

static void test_roundtrip(void **state)
{
	uint8_t buf[SB_ENCODED_SIZE];
	struct superblock a, b;

	(void)state;
	sample(&a);
	sb_encode(buf, &a);
	assert_int_equal(sb_decode(buf, sizeof(buf), &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(sb_decode(buf, 100, &b), -ENODATA);
}

static void test_damage(void **state)
{
	uint8_t buf[SB_ENCODED_SIZE];
	struct superblock a, b;

	(void)state;
	sample(&a);
	sb_encode(buf, &a);
	buf[100] ^= 1;
	assert_int_equal(sb_decode(buf, sizeof(buf), &b), -EBADMSG);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(sb_decode(buf, sizeof(buf), &b), -ENODATA);
	/* crc-valid but impossible geometry */
	sample(&a);
	a.nsegments = 1000;
	sb_encode(buf, &a);
	assert_int_equal(sb_decode(buf, sizeof(buf), &b), -EBADMSG);
	sample(&a);
	a.lba_size = 3000;
	sb_encode(buf, &a);
	assert_int_equal(sb_decode(buf, sizeof(buf), &b), -EBADMSG);
}

static void test_choose(void **state)
{
	struct superblock sb[2];
	int rc[2];

	(void)state;
	sample(&sb[0]);
	sample(&sb[1]);
	rc[0] = rc[1] = 0;
	assert_int_equal(sb_choose(sb, rc), 0);
	sb[1].generation = 4;
	assert_int_equal(sb_choose(sb, rc), 1);
	rc[1] = -EBADMSG;
	assert_int_equal(sb_choose(sb, rc), 0);
	rc[0] = -EBADMSG;
	rc[1] = 0;
	assert_int_equal(sb_choose(sb, rc), 1);
	rc[1] = -ENODATA;
	assert_int_equal(sb_choose(sb, rc), -ENODATA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_version1_decodes_without_lease),
		cmocka_unit_test(test_newer_version_refused),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_choose),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
