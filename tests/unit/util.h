/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util.h - helpers shared by the unit tests (util.c is linked into each). */
#ifndef FDPKV_TEST_UTIL_H
#define FDPKV_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "fdpkv.h"

/* A fresh temporary directory (removed with its files by tu_rmdir). */
char *tu_mkdtemp(void);
void tu_rmdir(char *dir);
/* cmocka fixtures: a fresh directory in tu_dir for each test, removed after. */
extern char *tu_dir;
int tu_dir_setup(void **state);
int tu_dir_teardown(void **state);
/* Open with "key=value ..." on top of defaults; asserts success. */
struct fdpkv_cache *tu_open(const char *kv);
/* Open and return the error instead of asserting. */
int tu_try_open(const char *kv, struct fdpkv_cache **c, char *err, size_t errlen);
/* Submit and wait for this op's completion; returns result, fills @out if given
 * (caller releases it) else releases it. */
int tu_run(struct fdpkv_cache *c, enum fdpkv_op op, unsigned int n, const struct fdpkv_key *keys,
	   const struct fdpkv_buf *bufs, struct fdpkv_completion *out);
int tu_set1(struct fdpkv_cache *c, const char *key, const void *val, uint64_t len);
int tu_get1(struct fdpkv_cache *c, const char *key, void *val, uint64_t len);
int tu_op1(struct fdpkv_cache *c, enum fdpkv_op op, const char *key);
void tu_fill(void *buf, uint64_t len, uint32_t seed);
struct fdpkv_key tu_key(const char *s);
/*
 * Wait until the uint64_t counter at offset @field of struct fdpkv_stats
 * reaches @want (counts of work the library does after the op that caused it:
 * carried records, re-insert copies); fails naming @what after a minute. The
 * minute is a hang guard, not a timing bound: a loaded machine may leave the
 * device threads unscheduled for seconds.
 */
void tu_wait_stat(struct fdpkv_cache *c, size_t field, uint64_t want, const char *what);
/* Offset in file @path of the first occurrence of @len bytes @pat, or -1. */
long long tu_find_bytes(const char *path, const void *pat, size_t len);
/* XOR the byte at @off of file @path with @mask (damage for the tests). */
void tu_flip_bits(const char *path, long long off, uint8_t mask);

#endif
