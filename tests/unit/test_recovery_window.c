// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_recovery_window - the recovery scan reads ahead while objects are
 * small. Runs of tiny objects, keys long enough to cross a read window
 * (up to FDPKV_KEY_MAX), and large objects in between must all be found
 * after a restart, byte-exact, and nothing else.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

#define N	1500

static uint64_t vlen_of(unsigned int i)
{
	if (i % 97 == 0)
		return 300 * 1024;		/* large: the window shrinks */
	return 1 + (i * 2654435761u) % 3000;	/* tiny: the window grows */
}

static void key_of(char *buf, size_t len, unsigned int i)
{
	/* every 13th key is long: its header + key spans several LBAs */
	size_t klen = i % 13 == 0 ? 3000 + i % (FDPKV_KEY_MAX - 3000) : 20;

	memset(buf, 'a' + i % 26, klen);
	snprintf(buf, len, "m@0@0@%06u", i);
	buf[strlen(buf)] = 'x';
	buf[klen] = '\0';
}

static void test_restart_mixed(void **state)
{
	static char key[FDPKV_KEY_MAX + 1];
	char *dir = tu_mkdtemp(), kv[512];
	uint8_t *v = malloc(300 * 1024), *o = malloc(300 * 1024);
	struct fdpkv_cache *c;
	struct fdpkv_usage u;
	unsigned int i;

	(void)state;
	snprintf(kv, sizeof(kv), "device=file:%s/c.img capacity=256M segment_size=8M placement=none",
		 dir);
	c = tu_open(kv);
	for (i = 0; i < N; i++) {
		key_of(key, sizeof(key), i);
		tu_fill(v, vlen_of(i), i);
		assert_int_equal(tu_set1(c, key, v, vlen_of(i)), 0);
	}
	/* overwrite some: only the newest version may be found */
	for (i = 0; i < N; i += 7) {
		key_of(key, sizeof(key), i);
		tu_fill(v, vlen_of(i), i + 1000000);
		assert_int_equal(tu_set1(c, key, v, vlen_of(i)), 0);
	}
	fdpkv_close(c);
	c = tu_open(kv);
	assert_int_equal(fdpkv_usage(c, &u), 0);
	assert_int_equal(u.objects, N);
	for (i = 0; i < N; i++) {
		key_of(key, sizeof(key), i);
		memset(o, 0, vlen_of(i));
		assert_int_equal(tu_get1(c, key, o, vlen_of(i)), 0);
		tu_fill(v, vlen_of(i), i % 7 ? i : i + 1000000);
		assert_memory_equal(o, v, vlen_of(i));
	}
	fdpkv_close(c);
	free(v);
	free(o);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_mixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
