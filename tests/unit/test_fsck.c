// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_fsck - fdpkv_fsck and fdpkv_probe on the file backend: a clean cache
 * counted right (live, superseded, deleted), damaged superblock copies,
 * headers and values found without writing, repaired so that the cache opens
 * with the damaged objects missing (older versions staying hidden) and the
 * others intact; refusals (flags, no cache, no device). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "util.h"

#define VLEN	(20u << 10)
#define SEG	(4u << 20)

static char *dir;
static char kv[768], path[512];

static int setup(void **state)
{
	(void)state;
	dir = tu_mkdtemp();
	snprintf(path, sizeof(path), "%s/dev.img", dir);
	snprintf(kv, sizeof(kv), "device=file:%s capacity=64M segment_size=4M", path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmdir(dir);
	return 0;
}

static void cfg_of(struct fdpkv_config *cfg)
{
	fdpkv_config_init(cfg);
	assert_int_equal(fdpkv_config_parse(cfg, kv, NULL, 0), 0);
	cfg->format = FDPKV_FORMAT_NEVER;
}

struct seen {
	unsigned int n;
	enum fdpkv_damage_kind kind[8];
	bool key_known[8], repaired[8];
};

static void on_damage(void *arg, const struct fdpkv_damage *d)
{
	struct seen *s = arg;

	assert_non_null(d->reason);
	if (s->n < 8) {
		s->kind[s->n] = d->kind;
		s->key_known[s->n] = d->key != NULL;
		s->repaired[s->n] = d->repaired;
	}
	s->n++;
}

static int run_fsck(unsigned int flags, struct fdpkv_fsck_report *r, struct seen *s)
{
	struct fdpkv_config cfg;
	char err[256] = "";

	cfg_of(&cfg);
	memset(s, 0, sizeof(*s));
	return fdpkv_fsck(&cfg, flags, r, on_damage, s, err, sizeof(err));
}

/* device offset of the object holding @key (newest version), or -1 */
static off_t find_obj(const char *key)
{
	int fd = open(path, O_RDONLY);
	uint8_t buf[OBJ_HDR_SIZE + 64];
	uint64_t best_seq = 0;
	off_t off, best = -1;
	struct stat st;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	for (off = FDPKV_DATA_START; off < st.st_size; off += 4096) {
		struct obj_hdr h;

		if (pread(fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf))
			break;
		if (obj_decode(buf, sizeof(buf), &h) == 0 && h.klen == strlen(key) &&
		    !memcmp(buf + OBJ_HDR_SIZE, key, h.klen) && h.seq > best_seq) {
			best_seq = h.seq;
			best = off;
		}
	}
	close(fd);
	return best;
}

static void fill_cache(unsigned int n)
{
	struct fdpkv_cache *c;
	char key[32];
	uint8_t *v = malloc(VLEN);
	unsigned int i;

	assert_non_null(v);
	snprintf(kv, sizeof(kv), "device=file:%s capacity=64M segment_size=4M format=always", path);
	c = tu_open(kv);
	snprintf(kv, sizeof(kv), "device=file:%s capacity=64M segment_size=4M", path);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%03u", i);
		tu_fill(v, VLEN, i);
		assert_int_equal(tu_set1(c, key, v, VLEN), 0);
	}
	free(v);
	fdpkv_close(c);
}

static void test_clean_counts(void **state)
{
	struct fdpkv_fsck_report r;
	struct fdpkv_cache *c;
	struct seen s;
	uint8_t v[100];

	(void)state;
	fill_cache(10);
	c = tu_open(kv);
	tu_fill(v, sizeof(v), 99);
	assert_int_equal(tu_set1(c, "k001", v, sizeof(v)), 0);	/* supersedes */
	assert_int_equal(tu_op1(c, FDPKV_OP_DELETE, "k002"), 0);	/* delete record */
	fdpkv_close(c);
	assert_int_equal(run_fsck(0, &r, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(r.damage, 0);
	assert_int_equal(r.ndevices, 1);
	assert_int_equal(r.segments, 15);
	assert_int_equal(r.objects_live, 9);
	assert_int_equal(r.objects_deleted, 1);
	assert_int_equal(r.objects_superseded, 2);	/* k001 and k002's old values */
	assert_int_equal(r.bytes_live, 8ull * VLEN + sizeof(v));
}

static void test_damage_found_then_repaired(void **state)
{
	struct fdpkv_fsck_report r;
	struct fdpkv_cache *c;
	struct seen s;
	uint8_t *v = malloc(VLEN), *before, *after;
	off_t ov, oh;
	char key[32];
	unsigned int i;
	int fd;
	size_t sz = 64u << 20;

	(void)state;
	assert_non_null(v);
	fill_cache(10);
	/* k003 written twice: the newer copy is damaged, the older must not return */
	c = tu_open(kv);
	tu_fill(v, VLEN, 1003);
	assert_int_equal(tu_set1(c, "k003", v, VLEN), 0);
	fdpkv_close(c);
	ov = find_obj("k003");
	oh = find_obj("k005");
	assert_true(ov > 0 && oh > 0);
	tu_flip_bits(path, ov + OBJ_HDR_SIZE + 4 + 5000, 0x04);	/* newest k003's value */
	tu_flip_bits(path, oh + 30, 0x04);	/* header of k005 (its seq) */
	tu_flip_bits(path, 100, 0x04);		/* superblock copy 0 */

	before = malloc(sz);
	after = malloc(sz);
	assert_non_null(before);
	assert_non_null(after);
	fd = open(path, O_RDONLY);
	assert_int_equal(pread(fd, before, sz, 0), (ssize_t)sz);
	assert_int_equal(run_fsck(0, &r, &s), 0);
	assert_int_equal(pread(fd, after, sz, 0), (ssize_t)sz);
	assert_memory_equal(before, after, sz);	/* nothing written */
	close(fd);
	free(before);
	free(after);
	assert_int_equal(r.damage, 3);
	assert_int_equal(r.repaired, 0);
	assert_int_equal(r.superblock_damaged, 1);
	assert_int_equal(r.damaged_objects, 2);
	assert_int_equal(r.truncated_chains, 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.kind[0], FDPKV_DAMAGE_SUPERBLOCK);
	assert_int_equal(s.kind[1], FDPKV_DAMAGE_HEADER);
	assert_false(s.key_known[1]);
	assert_int_equal(s.kind[2], FDPKV_DAMAGE_VALUE);
	assert_true(s.key_known[2]);
	assert_int_equal(r.objects_live, 8);	/* k003 (damaged) and k005 gone */

	assert_int_equal(run_fsck(FDPKV_FSCK_REPAIR, &r, &s), 0);
	assert_int_equal(r.damage, 3);
	assert_int_equal(r.repaired, 3);
	assert_true(s.repaired[0] && s.repaired[1] && s.repaired[2]);
	assert_int_equal(run_fsck(0, &r, &s), 0);
	assert_int_equal(r.damage, 0);
	assert_int_equal(r.objects_live, 8);
	assert_int_equal(r.objects_filler, 2);

	c = tu_open(kv);
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "k%03u", i);
		if (i == 3 || i == 5) {
			assert_int_equal(tu_get1(c, key, v, VLEN), -ENOENT);
			continue;
		}
		assert_int_equal(tu_get1(c, key, v, VLEN), 0);
	}
	fdpkv_close(c);
	free(v);
}

static void test_refusals(void **state)
{
	struct fdpkv_fsck_report r;
	struct fdpkv_config cfg;
	char err[256] = "";
	int fd;

	(void)state;
	cfg_of(&cfg);
	assert_int_equal(fdpkv_fsck(&cfg, 0x80, &r, NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(fdpkv_fsck(&cfg, 0, NULL, NULL, NULL, err, sizeof(err)), -EINVAL);
	/* missing file: never created */
	assert_int_equal(fdpkv_fsck(&cfg, FDPKV_FSCK_REPAIR, &r, NULL, NULL, err, sizeof(err)),
			 -ENOENT);
	assert_int_equal(access(path, F_OK), -1);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_int_equal(ftruncate(fd, 16 << 20), 0);
	close(fd);
	assert_int_equal(fdpkv_fsck(&cfg, 0, &r, NULL, NULL, err, sizeof(err)), -ENODATA);
	assert_non_null(strstr(err, "no fdpkv cache"));
}

static void test_probe(void **state)
{
	struct fdpkv_probe_info info;
	char uri[600], err[256] = "";
	int fd;

	(void)state;
	snprintf(uri, sizeof(uri), "file:%s", path);
	assert_int_equal(fdpkv_probe(uri, &info, err, sizeof(err)), -ENOENT);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(fdpkv_probe("bogus", &info, err, sizeof(err)), -EINVAL);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_int_equal(ftruncate(fd, 16 << 20), 0);
	close(fd);
	assert_int_equal(fdpkv_probe(uri, &info, err, sizeof(err)), 0);
	assert_false(info.formatted);
	assert_false(info.damaged);
	fill_cache(1);
	assert_int_equal(fdpkv_probe(uri, &info, err, sizeof(err)), 0);
	assert_true(info.formatted);
	assert_int_equal(info.copies_valid, 2);
	assert_int_equal(info.segment_bytes, SEG);
	assert_int_equal(info.segments, 15);
	assert_int_equal(info.ndevices, 1);
	assert_int_equal(info.dev_index, 0);
	assert_int_equal(info.lba_size, 4096);
	tu_flip_bits(path, 100, 0x04);
	assert_int_equal(fdpkv_probe(uri, &info, err, sizeof(err)), 0);
	assert_true(info.formatted);
	assert_int_equal(info.copies_valid, 1);
	tu_flip_bits(path, 4096 + 100, 0x04);
	assert_int_equal(fdpkv_probe(uri, &info, err, sizeof(err)), 0);
	assert_false(info.formatted);
	assert_true(info.damaged);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_found_then_repaired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
