// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_recovery - time fdpkv_open (the index rebuild by header scan) of a
 * file cache holding N small objects.
 *
 *   build/bench/bench_recovery [-n OBJECTS] [-s VALUE_BYTES] [-q DEPTH] [-k] [-r] PATH
 *
 * Formats PATH, stores N objects (batches of 64 keys, LMCache-shaped keys),
 * closes, drops the file's pages from the page cache, then times a reopen and
 * checks that every object was found. -k keeps PATH (to reopen it again);
 * -r only reopens a PATH kept so (cold again), expecting N objects there.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdpkv.h"

#define BATCH	64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_cache(const char *path, uint64_t cap, unsigned int qd, bool format,
		      struct fdpkv_cache **c)
{
	struct fdpkv_config cfg;
	char err[256], uri[300];
	int ret;

	fdpkv_config_init(&cfg);
	snprintf(uri, sizeof(uri), "file:%s", path);
	if (fdpkv_config_set(&cfg, "device", uri, err, sizeof(err)))
		return -1;
	cfg.capacity_bytes = cap;
	cfg.segment_bytes = 64ull << 20;
	cfg.queue_depth = qd;
	cfg.placement_by_salt = false;
	cfg.format = format ? FDPKV_FORMAT_ALWAYS : FDPKV_FORMAT_NEVER;
	ret = fdpkv_open(&cfg, c, err, sizeof(err));
	if (ret)
		fprintf(stderr, "open: %s\n", err);
	return ret;
}

/* Write back and drop @path's cached pages, so the reopen reads the disk. */
static int drop_cached(const char *path)
{
	int fd = open(path, O_RDONLY), ret;

	if (fd < 0) {
		perror(path);
		return -1;
	}
	ret = fdatasync(fd);
	if (!ret)
		ret = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	if (ret)
		fprintf(stderr, "%s: cannot drop cached pages\n", path);
	return ret ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned int n = 1000000, qd = 64, i, j, pending = 0;
	uint64_t vlen = 256, cap;
	struct fdpkv_completion comp[16];
	struct fdpkv_cache *c;
	struct fdpkv_usage u;
	struct fdpkv_stats st;
	unsigned long long summaries;
	bool keep = false, reopen = false;
	static char names[4][BATCH][48];
	struct fdpkv_key keys[BATCH];
	struct fdpkv_buf bufs[BATCH];
	double t0, t1, t2;
	const char *path;
	void *val;
	int opt;

	while ((opt = getopt(argc, argv, "n:s:q:kr")) != -1) {
		switch (opt) {
		case 'n': n = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 's': vlen = strtoull(optarg, NULL, 0); break;
		case 'q': qd = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'k': keep = true; break;
		case 'r': reopen = keep = true; break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || !n)
		goto usage;
	path = argv[optind];
	val = calloc(1, vlen);
	if (!val)
		return 1;
	t0 = t1 = 0;
	summaries = 0;
	if (reopen)
		goto cold;
	/* one 4 KiB block per object (value + 64 B header + key), 10% spare */
	cap = (((uint64_t)n * ((vlen + 64 + 48 + 4095) & ~4095ull)) * 11 / 10 + (1ull << 30)) &
	      ~((64ull << 20) - 1);
	unlink(path);
	if (open_cache(path, cap, qd, true, &c))
		return 1;
	t0 = now();
	/* up to 4 batches in flight; names live until their batch completes */
	for (i = 0; i < n || pending;) {
		if (i < n && pending < 4) {
			unsigned int k = (i / BATCH) % 4, m = n - i < BATCH ? n - i : BATCH;
			uint64_t id;

			for (j = 0; j < m; j++) {
				snprintf(names[k][j], sizeof(names[k][j]), "llama@000000ff@0@%016x",
					 (i + j) * 2654435761u);
				keys[j] = (struct fdpkv_key){ names[k][j], (uint32_t)strlen(names[k][j]) };
				bufs[j] = (struct fdpkv_buf){ val, vlen };
			}
			if (fdpkv_submit(c, FDPKV_OP_SET, m, keys, bufs, NULL, &id))
				return 1;
			i += m;
			pending++;
			continue;
		}
		fdpkv_wait(c, 1000);
		for (int got = fdpkv_drain(c, comp, 16), g = 0; g < got; g++) {
			if (comp[g].result) {
				fprintf(stderr, "set failed: %d\n", comp[g].result);
				return 1;
			}
			fdpkv_completion_release(&comp[g]);
			pending--;
		}
	}
	t1 = now();
	fdpkv_stats(c, &st);
	summaries = st.summaries_written;
	fdpkv_close(c);
cold:
	/* cold: the file's pages out of the page cache, as after a reboot */
	if (drop_cached(path))
		return 1;
	t2 = now();
	if (open_cache(path, 0, qd, false, &c))
		return 1;
	t2 = now() - t2;
	fdpkv_usage(c, &u);
	fdpkv_stats(c, &st);
	if (!reopen)
		printf("%s: %u objects of %llu B stored in %.1f s (%.0f/s)\n", path, n,
		       (unsigned long long)vlen, t1 - t0, n / (t1 - t0));
	printf("%s: reopen (recovery) %.2f s = %.2f us/object; found %llu; index %llu B\n", path,
	       t2, t2 * 1e6 / n, (unsigned long long)u.objects,
	       (unsigned long long)st.index_bytes);
	printf("recovery read %llu segments by summary, walked %llu (summaries written before: %llu)\n",
	       (unsigned long long)st.recovery_summaries, (unsigned long long)st.recovery_walks,
	       (unsigned long long)summaries);
	fdpkv_close(c);
	if (!keep)
		unlink(path);
	free(val);
	return u.objects == n ? 0 : 1;
usage:
	fprintf(stderr, "usage: %s [-n OBJECTS] [-s VALUE_BYTES] [-q DEPTH] [-k] [-r] PATH\n",
		argv[0]);
	return 2;
}
