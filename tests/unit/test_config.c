// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_config - fdpkv_config_set/parse: every key, and refusals naming the key. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fdpkv.h"

static void test_defaults(void **state)
{
	struct fdpkv_config c;

	(void)state;
	fdpkv_config_init(&c);
	assert_int_equal(c.struct_size, sizeof(c));
	assert_int_equal(c.queue_depth, 64);
	assert_int_equal(c.format, FDPKV_FORMAT_AUTO);
	assert_true(c.placement_by_salt);
	assert_int_equal(c.salt_separator, ':');
	assert_int_equal(c.ndevices, 0);
	assert_int_equal(c.dealloc_zeroes, FDPKV_DEALLOC_ZEROES_AUTO);
}

static void test_each_key(void **state)
{
	struct fdpkv_config c;
	char err[128];

	(void)state;
	fdpkv_config_init(&c);
	assert_int_equal(fdpkv_config_set(&c, "device", "file:/a", err, sizeof(err)), 0);
	assert_int_equal(fdpkv_config_set(&c, "device", "sim:", err, sizeof(err)), 0);
	assert_int_equal(c.ndevices, 2);
	assert_string_equal(c.devices[1], "sim:");
	assert_int_equal(fdpkv_config_set(&c, "devices", "file:/x;file:/y,file:/z", err, sizeof(err)), 0);
	assert_int_equal(c.ndevices, 3);
	assert_string_equal(c.devices[2], "file:/z");
	assert_int_equal(fdpkv_config_set(&c, "capacity", "3G", err, sizeof(err)), 0);
	assert_int_equal(c.capacity_bytes, 3ull << 30);
	assert_int_equal(fdpkv_config_set(&c, "capacity", "5KiB", err, sizeof(err)), 0);
	assert_int_equal(c.capacity_bytes, 5ull << 10);
	assert_int_equal(fdpkv_config_set(&c, "capacity", "1T", err, sizeof(err)), 0);
	assert_int_equal(c.capacity_bytes, 1ull << 40);
	assert_int_equal(fdpkv_config_set(&c, "segment_size", "8M", err, sizeof(err)), 0);
	assert_int_equal(c.segment_bytes, 8ull << 20);
	assert_int_equal(fdpkv_config_set(&c, "queue_depth", "128", err, sizeof(err)), 0);
	assert_int_equal(c.queue_depth, 128);
	assert_int_equal(fdpkv_config_set(&c, "durability", "flush", err, sizeof(err)), 0);
	assert_int_equal(c.durability, FDPKV_DURABILITY_FLUSH);
	assert_int_equal(fdpkv_config_set(&c, "durability", "fua", err, sizeof(err)), 0);
	assert_int_equal(c.durability, FDPKV_DURABILITY_FUA);
	assert_int_equal(fdpkv_config_set(&c, "format", "never", err, sizeof(err)), 0);
	assert_int_equal(c.format, FDPKV_FORMAT_NEVER);
	assert_int_equal(fdpkv_config_set(&c, "format", "always", err, sizeof(err)), 0);
	assert_int_equal(c.format, FDPKV_FORMAT_ALWAYS);
	assert_int_equal(fdpkv_config_set(&c, "placement", "none", err, sizeof(err)), 0);
	assert_false(c.placement_by_salt);
	assert_int_equal(fdpkv_config_set(&c, "salt_separator", "/", err, sizeof(err)), 0);
	assert_int_equal(c.salt_separator, '/');
	assert_int_equal(fdpkv_config_set(&c, "max_classes", "4", err, sizeof(err)), 0);
	assert_int_equal(c.max_classes, 4);
	assert_int_equal(fdpkv_config_set(&c, "free_segments_low", "3", err, sizeof(err)), 0);
	assert_int_equal(c.free_segments_low, 3);
	assert_int_equal(fdpkv_config_set(&c, "reinsert", "1", err, sizeof(err)), 0);
	assert_true(c.reinsert);
	assert_int_equal(fdpkv_config_set(&c, "reinsert", "false", err, sizeof(err)), 0);
	assert_false(c.reinsert);
	assert_true(c.report_evicted);		/* the default: kept for fdpkv_take_evicted */
	assert_int_equal(fdpkv_config_set(&c, "report_evicted", "0", err, sizeof(err)), 0);
	assert_false(c.report_evicted);
	assert_int_equal(fdpkv_config_set(&c, "dealloc_zeroes", "no", err, sizeof(err)), 0);
	assert_int_equal(c.dealloc_zeroes, FDPKV_DEALLOC_ZEROES_NO);
	assert_int_equal(fdpkv_config_set(&c, "dealloc_zeroes", "yes", err, sizeof(err)), 0);
	assert_int_equal(c.dealloc_zeroes, FDPKV_DEALLOC_ZEROES_YES);
	assert_int_equal(fdpkv_config_set(&c, "dealloc_zeroes", "auto", err, sizeof(err)), 0);
	assert_int_equal(c.dealloc_zeroes, FDPKV_DEALLOC_ZEROES_AUTO);
}

static void expect_bad(const char *key, const char *val, int want)
{
	struct fdpkv_config c;
	char err[128] = "";

	fdpkv_config_init(&c);
	assert_int_equal(fdpkv_config_set(&c, key, val, err, sizeof(err)), want);
	assert_non_null(strstr(err, key));
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_bad("capacity", "abc", -EINVAL);
	expect_bad("capacity", "12X", -EINVAL);
	expect_bad("capacity", "-1", -EINVAL);
	expect_bad("capacity", "99999999999T", -EINVAL);
	expect_bad("segment_size", "1000", -EINVAL);
	expect_bad("queue_depth", "0", -EINVAL);
	expect_bad("queue_depth", "many", -EINVAL);
	expect_bad("durability", "sometimes", -EINVAL);
	expect_bad("format", "yes", -EINVAL);
	expect_bad("placement", "random", -EINVAL);
	expect_bad("salt_separator", "ab", -EINVAL);
	expect_bad("salt_separator", "@", -EINVAL);
	expect_bad("max_classes", "0", -EINVAL);
	expect_bad("max_classes", "63", -EINVAL);
	expect_bad("free_segments_low", "0", -EINVAL);
	expect_bad("reinsert", "maybe", -EINVAL);
	expect_bad("report_evicted", "sometimes", -EINVAL);
	expect_bad("dealloc_zeroes", "1", -EINVAL);
	expect_bad("dealloc_zeroes", "Yes", -EINVAL);
	expect_bad("devices", ",,", -EINVAL);
	expect_bad("no_such_key", "1", -ENOENT);
}

static void test_dealloc_zeroes_message(void **state)
{
	struct fdpkv_config c;
	char err[128] = "";

	(void)state;
	fdpkv_config_init(&c);
	assert_int_equal(fdpkv_config_parse(&c, "dealloc_zeroes=maybe", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "dealloc_zeroes: bad value 'maybe' (auto, yes or no)");
	assert_int_equal(c.dealloc_zeroes, FDPKV_DEALLOC_ZEROES_AUTO);
}

static void test_parse(void **state)
{
	struct fdpkv_config c;
	char err[128] = "";

	(void)state;
	fdpkv_config_init(&c);
	assert_int_equal(fdpkv_config_parse(&c, "capacity=1G, queue_depth=8 devices=file:/a;sim:",
					    err, sizeof(err)), 0);
	assert_int_equal(c.capacity_bytes, 1ull << 30);
	assert_int_equal(c.queue_depth, 8);
	assert_int_equal(c.ndevices, 2);
	assert_int_equal(fdpkv_config_parse(&c, "queue_depth", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "queue_depth"));
	assert_int_equal(fdpkv_config_parse(&c, "capacity=1G durability=bad", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "durability"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_each_key),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_dealloc_zeroes_message),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
