// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_placement - salt buckets, class folding, class -> placement id map, and
 * the per-device report of classes folded onto one placement handle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <errno.h>

#include <cmocka.h>

#include "internal.h"
#include "util.h"

static void bucket(const char *key, char sep, const char *want)
{
	char out[132];

	placement_bucket(key, (uint32_t)strlen(key), sep, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_buckets(void **state)
{
	(void)state;
	bucket("llama@000000ff@0@00010203@alice", ':', "alice");
	bucket("llama@000000ff@0@00010203@alice:7", ':', "alice");
	bucket("llama@000000ff@0@00010203@bob/x", '/', "bob");
	bucket("llama@000000ff@0@00010203", ':', "");
	bucket("llama@000000ff@0@00010203@", ':', "");
	bucket("old@00ff@hash", ':', "");
	bucket("noats", ':', "");
}

static void test_classes(void **state)
{
	unsigned int c, seen[8] = { 0 }, i;
	char name[16];

	(void)state;
	assert_int_equal(placement_class("", 8), FDPKV_CLASS_DATA0);
	assert_int_equal(placement_class("alice", 1), FDPKV_CLASS_DATA0);
	/* stable: the same bucket always maps to the same class */
	c = placement_class("alice", 8);
	assert_int_equal(placement_class("alice", 8), c);
	assert_true(c >= FDPKV_CLASS_DATA0 && c < FDPKV_CLASS_DATA0 + 8);
	/* folding spreads many buckets over all classes */
	for (i = 0; i < 400; i++) {
		snprintf(name, sizeof(name), "t%u", i);
		seen[placement_class(name, 8) - FDPKV_CLASS_DATA0]++;
	}
	for (i = 0; i < 8; i++)
		assert_true(seen[i] > 20);
}

static void test_pid_map(void **state)
{
	uint16_t pids[8] = { 10, 11, 12, 13 }, map[FDPKV_MAX_CLASSES];

	(void)state;
	placement_map(map, 6, pids, 4);
	assert_int_equal(map[FDPKV_CLASS_META], 10);
	assert_int_equal(map[FDPKV_CLASS_REINSERT], 11);
	assert_int_equal(map[2], 12);
	assert_int_equal(map[3], 13);
	assert_int_equal(map[4], 12);	/* folded onto the data handles */
	assert_int_equal(map[5], 13);
	placement_map(map, 5, pids, 1);
	assert_int_equal(map[0], 10);
	assert_int_equal(map[4], 10);
	placement_map(map, 5, pids, 2);
	assert_int_equal(map[0], 10);
	assert_int_equal(map[1], 11);
	assert_int_equal(map[2], 10);
	placement_map(map, 3, pids, 0);
	assert_int_equal(map[2], 0);
}

static void test_sharing(void **state)
{
	uint16_t pids[8] = { 10, 11, 12, 13 }, map[FDPKV_MAX_CLASSES], sharing[FDPKV_MAX_CLASSES];
	unsigned int handles = 99;

	(void)state;
	placement_map(map, 4, pids, 4);
	assert_int_equal(placement_sharing(map, 4, sharing, &handles), 0);
	assert_int_equal(handles, 0);
	assert_int_equal(sharing[0] + sharing[1] + sharing[2] + sharing[3], 0);
	/* 6 classes on 4 handles: data classes 2,4 on pid 12 and 3,5 on pid 13 */
	placement_map(map, 6, pids, 4);
	assert_int_equal(placement_sharing(map, 6, sharing, &handles), 4);
	assert_int_equal(handles, 2);
	assert_int_equal(sharing[0], 0);
	assert_int_equal(sharing[1], 0);
	assert_int_equal(sharing[2], 1);
	assert_int_equal(sharing[5], 1);
	/* one handle: every class shares it with all the others */
	placement_map(map, 5, pids, 1);
	assert_int_equal(placement_sharing(map, 5, sharing, NULL), 5);
	assert_int_equal(sharing[0], 4);
	assert_int_equal(sharing[4], 4);
}

static void test_report_sim_folded(void **state)
{
	struct fdpkv_cache *c;
	struct fdpkv_placement_report r;
	unsigned int i, on2 = 0;

	(void)state;
	/* 2 + 8 data classes on 4 handles: the 8 data classes fold onto pids 2, 3 */
	c = tu_open("device=sim:handles=4 capacity=64M segment_size=1M max_classes=8");
	assert_int_equal(fdpkv_placement_report(c, 0, &r), 0);
	assert_true(r.fdp);
	assert_int_equal(r.handles, 4);
	assert_int_equal(r.nclasses, 10);
	assert_int_equal(r.shared_classes, 8);
	assert_int_equal(r.shared_handles, 2);
	assert_int_equal(r.classes[FDPKV_CLASS_META].placement_id, 0);
	assert_int_equal(r.classes[FDPKV_CLASS_META].sharing, 0);
	assert_int_equal(r.classes[FDPKV_CLASS_REINSERT].placement_id, 1);
	assert_int_equal(r.classes[FDPKV_CLASS_REINSERT].sharing, 0);
	for (i = FDPKV_CLASS_DATA0; i < r.nclasses; i++) {
		assert_in_range(r.classes[i].placement_id, 2, 3);
		assert_int_equal(r.classes[i].sharing, 3);
		on2 += r.classes[i].placement_id == 2;
	}
	assert_int_equal(on2, 4);
	assert_int_equal(fdpkv_placement_report(c, 1, &r), -EINVAL);
	assert_int_equal(fdpkv_placement_report(c, 0, NULL), -EINVAL);
	assert_int_equal(fdpkv_placement_report(NULL, 0, &r), -EINVAL);
	fdpkv_close(c);
}

static void test_report_sim_enough_handles(void **state)
{
	struct fdpkv_cache *c;
	struct fdpkv_placement_report r;
	unsigned int i;

	(void)state;
	c = tu_open("device=sim:handles=16 capacity=64M segment_size=1M max_classes=8");
	assert_int_equal(fdpkv_placement_report(c, 0, &r), 0);
	assert_true(r.fdp);
	assert_int_equal(r.handles, 16);
	assert_int_equal(r.nclasses, 10);
	assert_int_equal(r.shared_classes, 0);
	assert_int_equal(r.shared_handles, 0);
	for (i = 0; i < r.nclasses; i++) {
		assert_int_equal(r.classes[i].placement_id, i);
		assert_int_equal(r.classes[i].sharing, 0);
	}
	fdpkv_close(c);
}

static void test_report_file_has_no_placement(void **state)
{
	struct fdpkv_cache *c;
	struct fdpkv_placement_report r;
	char *dir = tu_mkdtemp(), kv[600];

	(void)state;
	/* one write stream whatever the classes: nothing is "shared" */
	snprintf(kv, sizeof(kv), "device=file:%s/dev.img capacity=16M segment_size=1M", dir);
	c = tu_open(kv);
	assert_int_equal(fdpkv_placement_report(c, 0, &r), 0);
	assert_false(r.fdp);
	assert_int_equal(r.handles, 0);
	assert_true(r.nclasses >= 3);
	assert_int_equal(r.shared_classes, 0);
	assert_int_equal(r.shared_handles, 0);
	assert_int_equal(r.classes[r.nclasses - 1].sharing, 0);
	fdpkv_close(c);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_pid_map),
		cmocka_unit_test(test_sharing),
		cmocka_unit_test(test_report_sim_folded),
		cmocka_unit_test(test_report_sim_enough_handles),
		cmocka_unit_test(test_report_file_has_no_placement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
