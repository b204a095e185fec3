// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * roundtrip - what `make demo` runs: a store / lookup-and-lock / load / unlock
 * round trip of LMCache-style KV chunks through libfdpkv, then a restart
 * that finds them again, printing each step.
 *
 * usage: roundtrip [URI] [key=value ...]   (default URI: file:/tmp/fdpkv-demo.img)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fdpkv.h>

#define NKEYS		16
#define CHUNK_BYTES	(256 * 1024 + 100)	/* not a multiple of 4 KiB on purpose */

static int wait_one(struct fdpkv_cache *c, uint64_t id, struct fdpkv_completion *out)
{
	for (;;) {
		int n;

		fdpkv_wait(c, 5000);
		n = fdpkv_drain(c, out, 1);
		if (n < 0)
			return n;
		if (n == 1) {
			if (out->id == id)
				return 0;
			fdpkv_completion_release(out);
		}
	}
}

static int run_op(struct fdpkv_cache *c, enum fdpkv_op op, const char *what,
		  struct fdpkv_key *keys, struct fdpkv_buf *bufs, unsigned int *hits)
{
	struct fdpkv_completion done;
	uint64_t id;
	unsigned int i, ok = 0;
	int ret;

	ret = fdpkv_submit(c, op, NKEYS, keys, bufs, NULL, &id);
	if (ret < 0) {
		fprintf(stderr, "demo: submit %s: %s\n", what, strerror(-ret));
		return ret;
	}
	ret = wait_one(c, id, &done);
	if (ret < 0)
		return ret;
	for (i = 0; i < done.nkeys; i++)
		ok += done.status[i] == 0;
	printf("  %-12s id %-3" PRIu64 " %u keys: %u ok, batch result %d\n", what, id, NKEYS, ok,
	       done.result);
	if (hits)
		*hits = ok;
	ret = done.result;
	fdpkv_completion_release(&done);
	return ret;
}

static int open_cache(const char *uri, int argc, char **argv, struct fdpkv_cache **c)
{
	struct fdpkv_config cfg;
	char err[256];
	int i, ret;

	fdpkv_config_init(&cfg);
	ret = fdpkv_config_parse(&cfg, "capacity=256M format=auto", err, sizeof(err));
	if (!ret)
		ret = fdpkv_config_set(&cfg, "device", uri, err, sizeof(err));
	for (i = 2; !ret && i < argc; i++)
		ret = fdpkv_config_parse(&cfg, argv[i], err, sizeof(err));
	if (!ret)
		ret = fdpkv_open(&cfg, c, err, sizeof(err));
	if (ret)
		fprintf(stderr, "demo: %s\n", err);
	return ret;
}

int main(int argc, char **argv)
{
	const char *uri = argc > 1 ? argv[1] : "file:/tmp/fdpkv-demo.img";
	static char names[NKEYS][128];
	struct fdpkv_key keys[NKEYS];
	struct fdpkv_buf in[NKEYS], out[NKEYS];
	struct fdpkv_cache *c;
	struct fdpkv_stats st;
	struct fdpkv_usage u;
	unsigned int i, hits = 0;
	int ret, bad = 0;

	printf("fdpkv demo: libfdpkv %d.%d on %s\n", fdpkv_version_major(), fdpkv_version_minor(), uri);
	if (open_cache(uri, argc, argv, &c))
		return 1;
	for (i = 0; i < NKEYS; i++) {
		/* LMCache's key format: model@kv_rank@group@chunk_hash@salt */
		snprintf(names[i], sizeof(names[i]), "llama-3-8b@00010000@0@%016x@%s",
			 0x5eed0000u + i, i % 2 ? "alice:1" : "bob:7");
		keys[i] = (struct fdpkv_key){ names[i], (uint32_t)strlen(names[i]) };
		in[i].len = out[i].len = CHUNK_BYTES;
		in[i].base = malloc(CHUNK_BYTES);
		out[i].base = malloc(CHUNK_BYTES + 1);
		if (!in[i].base || !out[i].base)
			return 1;
		/* odd addresses: the library must bounce what is not aligned */
		out[i].base = (char *)out[i].base + 1;
		for (size_t b = 0; b < CHUNK_BYTES; b++)
			((unsigned char *)in[i].base)[b] = (unsigned char)(b * 131 + i);
	}
	printf("store %d chunks of %d bytes, then look them up, load and compare:\n", NKEYS,
	       CHUNK_BYTES);
	ret = run_op(c, FDPKV_OP_SET, "set", keys, in, NULL);
	ret = ret ?: run_op(c, FDPKV_OP_LOOKUP_LOCK, "lookup+lock", keys, NULL, &hits);
	ret = ret ?: run_op(c, FDPKV_OP_GET, "get", keys, out, NULL);
	for (i = 0; !ret && i < NKEYS; i++)
		bad += memcmp(in[i].base, out[i].base, CHUNK_BYTES) != 0;
	fdpkv_unlock(c, NKEYS, keys);
	printf("  compare      %u of %d chunks byte-exact\n", NKEYS - bad, NKEYS);
	fdpkv_usage(c, &u);
	fdpkv_stats(c, &st);
	printf("usage: %" PRIu64 " objects, %" PRIu64 " of %" PRIu64 " bytes; %" PRIu64
	       " of %" PRIu64 " segments free; %u placement classes\n",
	       u.objects, u.bytes_used, u.bytes_capacity, st.segments_free, st.segments_total,
	       st.nclasses);
	fdpkv_close(c);

	printf("reopen (the index is rebuilt from the device) and load again:\n");
	if (!ret && !open_cache(uri, argc, argv, &c)) {
		for (i = 0; i < NKEYS; i++)
			memset(out[i].base, 0, CHUNK_BYTES);
		ret = run_op(c, FDPKV_OP_GET, "get", keys, out, &hits);
		for (i = 0; !ret && i < NKEYS; i++)
			bad += memcmp(in[i].base, out[i].base, CHUNK_BYTES) != 0;
		printf("  compare      %u of %d chunks byte-exact after restart\n", hits - bad, NKEYS);
		fdpkv_close(c);
	}
	printf("demo %s\n", ret || bad || hits != NKEYS ? "FAILED" : "ok");
	return ret || bad || hits != NKEYS;
}
