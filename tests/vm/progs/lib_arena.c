// SPDX-License-Identifier: GPL-2.0
/*
 * lib_arena - libfdpkv with a registered arena on a real (emulated) NVMe
 * namespace: values in the arena go to and from the device as io_uring
 * fixed buffers (ng: IORING_URING_CMD_FIXED to the NVMe driver; fdpkv:
 * through the module), bytes verified, counted by direct_bytes and
 * fixed_cmds; values outside it or not whole blocks are bounced; everything
 * is found again after a reopen.
 *
 * usage: lib_arena URI   e.g. lib_arena ng:/dev/ng0n1
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include <fdpkv.h>

#include "tap.h"

#define ARENA		(32u << 20)
#define NKEYS		16

static struct fdpkv_cache *open_cache(const char *uri, const char *fmt)
{
	struct fdpkv_config cfg;
	struct fdpkv_cache *c = NULL;
	char kv[512], err[256] = "";
	int ret;

	fdpkv_config_init(&cfg);
	snprintf(kv, sizeof(kv), "device=%s segment_size=1M %s", uri, fmt);
	ret = fdpkv_config_parse(&cfg, kv, err, sizeof(err));
	if (!ret)
		ret = fdpkv_open(&cfg, &c, err, sizeof(err));
	if (!tap_ok(ret == 0, "open %s (%s): %d %s", uri, fmt, ret, err))
		exit(tap_done());
	return c;
}

static int run1(struct fdpkv_cache *c, enum fdpkv_op op, const char *key, void *buf,
		uint64_t len)
{
	struct fdpkv_key k = { key, (uint32_t)strlen(key) };
	struct fdpkv_buf b = { buf, len };
	struct fdpkv_completion comp;
	uint64_t id;
	int ret;

	ret = fdpkv_submit(c, op, 1, &k, &b, NULL, &id);
	if (ret)
		return ret;
	while (fdpkv_drain(c, &comp, 1) == 0)
		fdpkv_wait(c, -1);
	ret = comp.status[0];
	fdpkv_completion_release(&comp);
	return ret;
}

static void fill(uint8_t *p, uint64_t len, uint32_t seed)
{
	for (uint64_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static uint64_t vlen_of(unsigned int k)
{
	/* whole blocks, up to past the namespace's max transfer; every 4th not */
	return (k % 4 == 3) ? 100000 + k : (uint64_t)(k + 1) * (64u << 10);
}

int main(int argc, char **argv)
{
	uint8_t *a, *out = malloc(2u << 20);
	struct fdpkv_device_stats ds;
	struct fdpkv_stats s0, s1;
	struct utsname u;
	bool want_fixed;
	uint64_t direct = 0;
	struct fdpkv_cache *c;
	char key[64];
	unsigned int k;
	int id, ret;

	if (argc != 2 || !out)
		return 2;
	a = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return 2;

	c = open_cache(argv[1], "format=always");
	id = fdpkv_register_arena(c, a, ARENA);
	tap_ok(id >= 0, "register a %u MiB arena: %d", ARENA >> 20, id);
	fdpkv_stats(c, &s0);
	for (k = 0; k < NKEYS; k++) {
		uint64_t len = vlen_of(k);
		uint8_t *src = a + k * (1u << 20), *dst = a + (16u << 20) + k * (1u << 20);

		snprintf(key, sizeof(key), "llama@0@0@%08x", k);
		fill(src, len, k);
		memset(dst, 0, len);
		ret = run1(c, FDPKV_OP_SET, key, src, len);
		if (!tap_ok(ret == 0, "set %s (%" PRIu64 " bytes) from the arena: %d", key, len, ret))
			continue;
		ret = run1(c, FDPKV_OP_GET, key, dst, len);
		tap_ok(ret == 0 && !memcmp(src, dst, len), "get %s into the arena: %d, bytes %s",
		       key, ret, memcmp(src, dst, len) ? "differ" : "match");
		if (len % 4096 == 0)
			direct += 2 * len;
	}
	fdpkv_stats(c, &s1);
	tap_ok(s1.direct_bytes - s0.direct_bytes == direct,
	       "direct bytes %" PRIu64 ", expected %" PRIu64, s1.direct_bytes - s0.direct_bytes,
	       direct);
	fdpkv_device_stats(c, 0, &ds);
	/*
	 * Debian's 6.12 takes a transfer from a large fixed buffer for NVMe
	 * passthrough, its 6.1 refuses it (more pages than the queue has
	 * segments): the library probes and then sends plain addresses.
	 */
	uname(&u);
	want_fixed = strverscmp(u.release, "6.12") >= 0;
	tap_ok(want_fixed == !!ds.fixed_buffers, "kernel %s: fixed buffers %s", u.release,
	       ds.fixed_buffers ? "used" : "not usable (probed)");
	tap_ok(ds.fixed_buffers ? s1.fixed_cmds > s0.fixed_cmds : s1.fixed_cmds == s0.fixed_cmds,
	       "%" PRIu64 " commands used fixed buffers", s1.fixed_cmds - s0.fixed_cmds);
	tap_ok(s1.io_errors == 0 && s1.corrupt_objects == 0, "io errors %" PRIu64 ", corrupt %" PRIu64,
	       s1.io_errors, s1.corrupt_objects);
	fdpkv_close(c);

	/* found again by recovery; read into a plain buffer, then the arena */
	c = open_cache(argv[1], "format=never");
	for (k = 0; k < NKEYS; k++) {
		uint64_t len = vlen_of(k);

		snprintf(key, sizeof(key), "llama@0@0@%08x", k);
		memset(out, 0, len);
		ret = run1(c, FDPKV_OP_GET, key, out, len);
		tap_ok(ret == 0 && !memcmp(a + k * (1u << 20), out, len),
		       "after reopen, get %s into a plain buffer: %d", key, ret);
	}
	id = fdpkv_register_arena(c, a, ARENA);
	snprintf(key, sizeof(key), "llama@0@0@%08x", 5);
	memset(a + (16u << 20), 0, vlen_of(5));
	ret = run1(c, FDPKV_OP_GET, key, a + (16u << 20), vlen_of(5));
	tap_ok(id >= 0 && ret == 0 && !memcmp(a + 5 * (1u << 20), a + (16u << 20), vlen_of(5)),
	       "after reopen, get %s into the arena: %d", key, ret);
	fdpkv_close(c);
	munmap(a, ARENA);
	free(out);
	return tap_done();
}
