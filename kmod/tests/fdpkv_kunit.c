// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites of fdpkv's hardware-free logic. Built as its own module for
 * kernels with CONFIG_KUNIT; the results appear as KTAP in the kernel log
 * when it is loaded.
 *
 * The logic under test is compiled into this module from its own source, so
 * the test module needs neither fdpkv.ko nor an NVMe device.
 */
#include <kunit/test.h>
#include <linux/module.h>

#include "../fdpkv_cmd.c"

static void placement_encode_sets_nlb_dtype_dspec(struct kunit *test)
{
	u32 cdw12 = 0, cdw13 = 0;

	KUNIT_ASSERT_EQ(test, fdpkv_cmd_placement_encode(8, 3, &cdw12, &cdw13), 0);
	KUNIT_EXPECT_EQ(test, cdw12 & 0xffff, 7u);
	KUNIT_EXPECT_EQ(test, (cdw12 >> 20) & 0xf, 2u);
	KUNIT_EXPECT_EQ(test, cdw12 & ~(0xffffu | (0xfu << 20)), 0u);
	KUNIT_EXPECT_EQ(test, cdw13, 3u << 16);
}

static void placement_encode_limits(struct kunit *test)
{
	u32 cdw12 = 0, cdw13 = 0;

	KUNIT_EXPECT_EQ(test, fdpkv_cmd_placement_encode(0, 1, &cdw12, &cdw13), -EINVAL);
	KUNIT_EXPECT_EQ(test, fdpkv_cmd_placement_encode(65537, 1, &cdw12, &cdw13), -EINVAL);
	KUNIT_ASSERT_EQ(test, fdpkv_cmd_placement_encode(65536, 0xffff, &cdw12, &cdw13), 0);
	KUNIT_EXPECT_EQ(test, cdw12 & 0xffff, 0xffffu);
	KUNIT_EXPECT_EQ(test, cdw13 >> 16, 0xffffu);
}

static void placement_decode_roundtrip(struct kunit *test)
{
	u32 cdw12, cdw13;
	u16 pid = 0;

	KUNIT_ASSERT_EQ(test, fdpkv_cmd_placement_encode(1, 0x1234, &cdw12, &cdw13), 0);
	KUNIT_EXPECT_TRUE(test, fdpkv_cmd_placement_decode(cdw12, cdw13, &pid));
	KUNIT_EXPECT_EQ(test, pid, 0x1234);
	/* DTYPE 1 (Streams) is not a placement */
	KUNIT_EXPECT_FALSE(test, fdpkv_cmd_placement_decode(1u << 20, cdw13, &pid));
	KUNIT_EXPECT_FALSE(test, fdpkv_cmd_placement_decode(0, cdw13, &pid));
}

static struct kunit_case fdpkv_cmd_cases[] = {
	KUNIT_CASE(placement_encode_sets_nlb_dtype_dspec),
	KUNIT_CASE(placement_encode_limits),
	KUNIT_CASE(placement_decode_roundtrip),
	{}
};

static struct kunit_suite fdpkv_cmd_suite = {
	.name = "fdpkv_cmd",
	.test_cases = fdpkv_cmd_cases,
};

kunit_test_suite(fdpkv_cmd_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of fdpkv's command encoding");
