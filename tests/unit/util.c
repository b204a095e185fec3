// SPDX-License-Identifier: LGPL-2.1-or-later
/* util.c - helpers shared by the unit tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

char *tu_mkdtemp(void)
{
	char tmpl[] = "/tmp/fdpkv-test-XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

void tu_rmdir(char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
}

char *tu_dir;

int tu_dir_setup(void **state)
{
	(void)state;
	tu_dir = tu_mkdtemp();
	return 0;
}

int tu_dir_teardown(void **state)
{
	(void)state;
	tu_rmdir(tu_dir);
	tu_dir = NULL;
	return 0;
}

int tu_try_open(const char *kv, struct fdpkv_cache **c, char *err, size_t errlen)
{
	struct fdpkv_config cfg;
	int ret;

	fdpkv_config_init(&cfg);
	ret = fdpkv_config_parse(&cfg, kv, err, errlen);
	if (ret)
		return ret;
	return fdpkv_open(&cfg, c, err, errlen);
}

struct fdpkv_cache *tu_open(const char *kv)
{
	struct fdpkv_cache *c = NULL;
	char err[256] = "";
	int ret = tu_try_open(kv, &c, err, sizeof(err));

	if (ret)
		fprintf(stderr, "open '%s': %d %s\n", kv, ret, err);
	assert_int_equal(ret, 0);
	return c;
}

int tu_run(struct fdpkv_cache *c, enum fdpkv_op op, unsigned int n, const struct fdpkv_key *keys,
	   const struct fdpkv_buf *bufs, struct fdpkv_completion *out)
{
	struct fdpkv_completion done;
	uint64_t id;
	int ret;

	ret = fdpkv_submit(c, op, n, keys, bufs, NULL, &id);
	if (ret)
		return ret;
	for (;;) {
		assert_int_equal(fdpkv_wait(c, 30000), 1);
		if (fdpkv_drain(c, &done, 1) != 1)
			continue;
		assert_int_equal(done.id, id);	/* one op at a time in these helpers */
		assert_int_equal(done.nkeys, n);
		/* the batch result, or else the first key's refusal (a miss, a lock) */
		ret = done.result;
		for (unsigned int i = 0; !ret && i < n; i++)
			ret = done.status[i] < 0 ? done.status[i] : 0;
		if (out)
			*out = done;
		else
			fdpkv_completion_release(&done);
		return ret;
	}
}

struct fdpkv_key tu_key(const char *s)
{
	return (struct fdpkv_key){ s, (uint32_t)strlen(s) };
}

int tu_set1(struct fdpkv_cache *c, const char *key, const void *val, uint64_t len)
{
	struct fdpkv_key k = tu_key(key);
	struct fdpkv_buf b = { (void *)val, len };

	return tu_run(c, FDPKV_OP_SET, 1, &k, &b, NULL);
}

int tu_get1(struct fdpkv_cache *c, const char *key, void *val, uint64_t len)
{
	struct fdpkv_key k = tu_key(key);
	struct fdpkv_buf b = { val, len };

	return tu_run(c, FDPKV_OP_GET, 1, &k, &b, NULL);
}

int tu_op1(struct fdpkv_cache *c, enum fdpkv_op op, const char *key)
{
	struct fdpkv_key k = tu_key(key);

	return tu_run(c, op, 1, &k, NULL, NULL);
}

void tu_fill(void *buf, uint64_t len, uint32_t seed)
{
	uint8_t *p = buf;
	uint32_t x = seed * 2654435761u + 1;
	uint64_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

long long tu_find_bytes(const char *path, const void *pat, size_t len)
{
	int fd = open(path, O_RDONLY);
	size_t chunk = 1 << 20;
	char *buf = malloc(chunk + len);
	long long off = 0, found = -1;
	ssize_t n;

	assert_true(fd >= 0);
	assert_non_null(buf);
	/* chunks overlap by @len so that a match across their edge is found */
	while (found < 0 && (n = pread(fd, buf, chunk + len, off)) > 0) {
		char *p = memmem(buf, (size_t)n, pat, len);

		if (p)
			found = off + (p - buf);
		off += (long long)chunk;
	}
	free(buf);
	close(fd);
	return found;
}

void tu_flip_bits(const char *path, long long off, uint8_t mask)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= mask;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

void tu_wait_stat(struct fdpkv_cache *c, size_t field, uint64_t want, const char *what)
{
	struct timespec now, end;
	struct fdpkv_stats st;
	uint64_t v;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += 60;
	for (;;) {
		assert_int_equal(fdpkv_stats(c, &st), 0);
		memcpy(&v, (const char *)&st + field, sizeof(v));
		if (v >= want)
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec)
			fail_msg("%s did not finish: %llu of %llu", what, (unsigned long long)v,
				 (unsigned long long)want);
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
}
