// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_object - object header encode/decode, corrupted and truncated input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static void make(uint8_t *buf, const char *key, struct obj_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->flags = OBJ_F_REINSERT;
	h->cls = 5;
	h->klen = (uint32_t)strlen(key);
	h->vlen = 123456789012ull;
	h->seq = 77;
	h->seg_seq = 70;
	h->uuid64 = 0x1122334455667788ull;
	h->vcrc = 0xdeadbeef;
	memcpy(buf + OBJ_HDR_SIZE, key, h->klen);
	obj_encode(buf, h, buf + OBJ_HDR_SIZE);
}

static void test_roundtrip(void **state)
{
	uint8_t buf[256];
	struct obj_hdr h, d;

	(void)state;
	make(buf, "model@0001@0@abcd@alice:1", &h);
	assert_int_equal(obj_decode(buf, sizeof(buf), &d), 0);
	assert_int_equal(d.flags, h.flags);
	assert_int_equal(d.cls, 5);
	assert_int_equal(d.klen, h.klen);
	assert_true(d.vlen == h.vlen);
	assert_true(d.seq == 77 && d.seg_seq == 70);
	assert_true(d.uuid64 == h.uuid64);
	assert_int_equal(d.vcrc, 0xdeadbeef);
	assert_int_equal(obj_size(4, 1, 4096), 4096);
	assert_int_equal(obj_size(4, 4096, 4096), 8192);
	assert_int_equal(obj_size(4, 4096 - 68, 4096), 4096);
}

static void test_every_bit_flip_detected(void **state)
{
	uint8_t buf[256];
	struct obj_hdr h, d;
	size_t len, bit;

	(void)state;
	make(buf, "key-for-flips", &h);
	len = OBJ_HDR_SIZE + h.klen;
	for (bit = 0; bit < len * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(obj_decode(buf, sizeof(buf), &d), 0);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(obj_decode(buf, sizeof(buf), &d), 0);
}

static void test_truncated(void **state)
{
	uint8_t buf[256];
	struct obj_hdr h, d;

	(void)state;
	make(buf, "a-key-of-20-bytes!!!", &h);
	assert_int_equal(obj_decode(buf, 10, &d), -ENODATA);
	assert_int_equal(obj_decode(buf, OBJ_HDR_SIZE, &d), -ENODATA);
	assert_int_equal(d.klen, 20);	/* tells the caller how much to read */
	assert_int_equal(obj_decode(buf, OBJ_HDR_SIZE + 19, &d), -ENODATA);
	assert_int_equal(obj_decode(buf, OBJ_HDR_SIZE + 20, &d), 0);
}

static void test_garbage(void **state)
{
	uint8_t buf[4096 * 2];
	struct obj_hdr h, d;

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(obj_decode(buf, sizeof(buf), &d), -EBADMSG);
	make(buf, "k", &h);
	/* klen beyond the maximum is refused before any crc work */
	buf[8] = 0xff;
	buf[9] = 0xff;
	assert_int_equal(obj_decode(buf, sizeof(buf), &d), -EBADMSG);
	/* a tombstone with a value is malformed */
	h.flags = OBJ_F_TOMBSTONE;
	h.vlen = 1;
	obj_encode(buf, &h, buf + OBJ_HDR_SIZE);
	assert_int_equal(obj_decode(buf, sizeof(buf), &d), -EBADMSG);
	/* a flag this version does not know may mean another layout */
	h.flags = 0x0100;
	h.vlen = 1;
	obj_encode(buf, &h, buf + OBJ_HDR_SIZE);
	assert_int_equal(obj_decode(buf, sizeof(buf), &d), -EBADMSG);
}

/* OBJ_F_ALIGNED: the value starts on the LBA boundary after the key. */
static void test_aligned_layout(void **state)
{
	(void)state;
	assert_int_equal(obj_value_off(4, 0, 4096), OBJ_HDR_SIZE + 4);
	assert_int_equal(obj_value_off(4, OBJ_F_ALIGNED, 4096), 4096);
	assert_int_equal(obj_value_off(4032, OBJ_F_ALIGNED, 4096), 4096);
	assert_int_equal(obj_value_off(4033, OBJ_F_ALIGNED, 4096), 8192);
	assert_int_equal(obj_value_off(4, OBJ_F_ALIGNED, 512), 512);
	assert_int_equal(obj_extent(4, 4096, OBJ_F_ALIGNED, 4096), 8192);
	assert_int_equal(obj_extent(4, 4096, 0, 4096), 8192);
	assert_int_equal(obj_extent(4, 4000, 0, 4096), 4096);
	assert_int_equal(obj_extent(4, 4000, OBJ_F_ALIGNED, 4096), 8192);
	assert_int_equal(obj_extent(4, 1u << 20, OBJ_F_ALIGNED, 4096), (1u << 20) + 4096);
	assert_int_equal(obj_extent(9, 77, 0, 512), obj_size(9, 77, 512));
	/* a value of whole LBAs takes the same space either way */
	for (uint32_t k = 1; k <= 8192; k += 509)
		assert_int_equal(obj_extent(k, 3 * 4096, OBJ_F_ALIGNED, 4096),
				 obj_size(k, 3 * 4096, 4096));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_every_bit_flip_detected),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_aligned_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
