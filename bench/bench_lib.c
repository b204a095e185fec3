// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_lib - SET/GET throughput and latency of libfdpkv on the file backend
 * against a plain io_uring loop over the same file, same sizes, same depth.
 *
 *   build/bench/bench_lib [-s VALUE_BYTES] [-b MIB_PER_PHASE] [-q DEPTH] PATH
 *
 * The library phase keeps DEPTH single-key operations in flight (each
 * completion submits the next) and times each from submit to drain. The
 * baseline opens PATH itself (O_DIRECT when the file system allows it, as
 * the file backend does), keeps DEPTH reads or writes of VALUE_BYTES in
 * flight at sequential offsets and times each from submit to CQE. Prints
 * MB/s, ops/s, p50 and p99 in microseconds and the library / baseline ratio.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdpkv.h"

struct result {
	double secs, p50, p99;
	unsigned int ops;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void finish(struct result *r, double *lat, unsigned int n, double t0)
{
	r->secs = now() - t0;
	r->ops = n;
	qsort(lat, n, sizeof(*lat), cmp_double);
	r->p50 = lat[n / 2] * 1e6;
	r->p99 = lat[(size_t)n * 99 / 100] * 1e6;
}

static void *xalloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, 4096, len)) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	memset(p, 0x5a, len);
	return p;
}

/* ---- library ---------------------------------------------------------------- */

static void lib_phase(struct fdpkv_cache *c, enum fdpkv_op op, unsigned int n, uint64_t size,
		      unsigned int qd, void **bufs, struct result *r)
{
	double *lat = calloc(n, sizeof(*lat)), *start = calloc(qd, sizeof(*start));
	char (*names)[32] = calloc(qd, sizeof(*names));
	unsigned int issued = 0, done = 0, slot;
	struct fdpkv_completion comp[64];
	double t0 = now();

	if (!lat || !start || !names)
		exit(1);
	for (slot = 0; slot < qd && issued < n; slot++, issued++) {
		struct fdpkv_key k;
		struct fdpkv_buf b = { bufs[slot], size };
		uint64_t id;

		snprintf(names[slot], sizeof(names[slot]), "bench@0@0@%08x", issued);
		k = (struct fdpkv_key){ names[slot], (uint32_t)strlen(names[slot]) };
		start[slot] = now();
		if (fdpkv_submit(c, op, 1, &k, &b, (void *)(uintptr_t)slot, &id))
			exit(1);
	}
	while (done < n) {
		int i, got;

		fdpkv_wait(c, 1000);
		got = fdpkv_drain(c, comp, 64);
		for (i = 0; i < got; i++) {
			slot = (unsigned int)(uintptr_t)comp[i].user_data;
			if (comp[i].result) {
				fprintf(stderr, "op %d failed: %s\n", op, strerror(-comp[i].result));
				exit(1);
			}
			fdpkv_completion_release(&comp[i]);
			lat[done++] = now() - start[slot];
			if (issued < n) {
				struct fdpkv_key k;
				struct fdpkv_buf b = { bufs[slot], size };
				uint64_t id;

				snprintf(names[slot], sizeof(names[slot]), "bench@0@0@%08x", issued++);
				k = (struct fdpkv_key){ names[slot], (uint32_t)strlen(names[slot]) };
				start[slot] = now();
				if (fdpkv_submit(c, op, 1, &k, &b, (void *)(uintptr_t)slot, &id))
					exit(1);
			}
		}
	}
	finish(r, lat, n, t0);
	free(lat);
	free(start);
	free(names);
}

/* ---- baseline: io_uring read/write loop -------------------------------------- */

static void raw_phase(int fd, bool write, unsigned int n, uint64_t size, unsigned int qd,
		      void **bufs, struct result *r)
{
	double *lat = calloc(n, sizeof(*lat)), *start = calloc(qd, sizeof(*start));
	unsigned int issued = 0, done = 0, slot;
	struct io_uring ring;
	double t0;

	if (!lat || !start || io_uring_queue_init(qd, &ring, 0))
		exit(1);
	t0 = now();
	for (;;) {
		struct io_uring_cqe *cqe;

		for (slot = 0; slot < qd && issued < n && issued - done < qd; slot++) {
			struct io_uring_sqe *sqe;

			if (start[slot] != 0)
				continue;
			sqe = io_uring_get_sqe(&ring);
			if (write)
				io_uring_prep_write(sqe, fd, bufs[slot], (unsigned int)size,
						    (off_t)(1ull << 20) + (off_t)issued * (off_t)size);
			else
				io_uring_prep_read(sqe, fd, bufs[slot], (unsigned int)size,
						   (off_t)(1ull << 20) + (off_t)issued * (off_t)size);
			io_uring_sqe_set_data64(sqe, slot);
			start[slot] = now();
			issued++;
		}
		if (done == n)
			break;
		if (io_uring_submit_and_wait(&ring, 1) < 0 || io_uring_wait_cqe(&ring, &cqe))
			exit(1);
		do {
			slot = (unsigned int)io_uring_cqe_get_data64(cqe);
			if (cqe->res != (int)size) {
				fprintf(stderr, "raw %s: %d\n", write ? "write" : "read", cqe->res);
				exit(1);
			}
			lat[done++] = now() - start[slot];
			start[slot] = 0;
			io_uring_cqe_seen(&ring, cqe);
		} while (io_uring_peek_cqe(&ring, &cqe) == 0);
	}
	finish(r, lat, n, t0);
	io_uring_queue_exit(&ring);
	free(lat);
	free(start);
}

static void print(const char *what, const struct result *r, uint64_t size, const struct result *base)
{
	double mbs = (double)r->ops * (double)size / r->secs / 1e6;

	printf("  %-10s %8.0f MB/s %8.0f ops/s  p50 %8.0f us  p99 %8.0f us", what, mbs,
	       r->ops / r->secs, r->p50, r->p99);
	if (base)
		printf("   lib/raw: tput %.2f  p50 %.2f  p99 %.2f", base->secs / r->secs,
		       r->p50 / base->p50, r->p99 / base->p99);
	printf("\n");
}

int main(int argc, char **argv)
{
	uint64_t size = 256 * 1024, mib = 512;
	unsigned int qd = 32, n, i;
	struct result ls, lg, as, ag, rw, rr;
	struct fdpkv_stats st;
	uint8_t *arena;
	int ret;
	struct fdpkv_config cfg;
	struct fdpkv_cache *c;
	char err[256], uri[300];
	const char *path;
	void **bufs;
	bool direct = true;
	int opt, fd;

	while ((opt = getopt(argc, argv, "s:b:q:")) != -1) {
		switch (opt) {
		case 's': size = strtoull(optarg, NULL, 0); break;
		case 'b': mib = strtoull(optarg, NULL, 0); break;
		case 'q': qd = (unsigned int)strtoul(optarg, NULL, 0); break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || !size || !qd || size % 4096)
		goto usage;
	path = argv[optind];
	n = (unsigned int)((mib << 20) / size);
	if (n < qd)
		n = qd;
	/* one block for all buffers: registered as an arena in the second run */
	arena = xalloc((size_t)qd * size);
	bufs = calloc(qd, sizeof(*bufs));
	for (i = 0; i < qd; i++)
		bufs[i] = arena + (size_t)i * size;

	unlink(path);
	fdpkv_config_init(&cfg);
	snprintf(uri, sizeof(uri), "file:%s", path);
	if (fdpkv_config_set(&cfg, "device", uri, err, sizeof(err)))
		goto cfgfail;
	/* room for every object without eviction, 16 MiB segments or one object */
	cfg.segment_bytes = size + (1 << 20) > (16 << 20) ? (size + (1 << 20) + (1 << 20) - 1) &
			    ~((1ull << 20) - 1) : 16 << 20;
	cfg.capacity_bytes = (uint64_t)n * (size + 4096) * 5 / 4 + 16 * cfg.segment_bytes;
	cfg.queue_depth = qd;
	cfg.format = FDPKV_FORMAT_ALWAYS;
	if (fdpkv_open(&cfg, &c, err, sizeof(err))) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	lib_phase(c, FDPKV_OP_SET, n, size, qd, bufs, &ls);
	lib_phase(c, FDPKV_OP_GET, n, size, qd, bufs, &lg);
	fdpkv_close(c);

	/* the same with the buffers registered: values move without a copy */
	if (fdpkv_open(&cfg, &c, err, sizeof(err))) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	ret = fdpkv_register_arena(c, arena, (size_t)qd * size);
	if (ret < 0) {
		fprintf(stderr, "register_arena: %s\n", strerror(-ret));
		return 1;
	}
	lib_phase(c, FDPKV_OP_SET, n, size, qd, bufs, &as);
	lib_phase(c, FDPKV_OP_GET, n, size, qd, bufs, &ag);
	fdpkv_stats(c, &st);
	fdpkv_close(c);

	fd = open(path, O_RDWR | O_DIRECT);
	if (fd < 0 && errno == EINVAL) {
		direct = false;
		fd = open(path, O_RDWR);
	}
	if (fd < 0) {
		perror(path);
		return 1;
	}
	raw_phase(fd, true, n, size, qd, bufs, &rw);
	raw_phase(fd, false, n, size, qd, bufs, &rr);
	close(fd);
	unlink(path);

	printf("%s: value %llu KiB, depth %u, %u ops per phase, %s\n", path,
	       (unsigned long long)(size >> 10), qd, n, direct ? "O_DIRECT" : "page cache (no O_DIRECT)");
	print("raw write", &rw, size, NULL);
	print("lib set", &ls, size, &rw);
	print("arena set", &as, size, &rw);
	print("raw read", &rr, size, NULL);
	print("lib get", &lg, size, &rr);
	print("arena get", &ag, size, &rr);
	printf("  arena run: %llu MiB without a copy, %llu fixed-buffer commands\n",
	       (unsigned long long)(st.direct_bytes >> 20), (unsigned long long)st.fixed_cmds);
	return 0;
cfgfail:
	fprintf(stderr, "config: %s\n", err);
	return 1;
usage:
	fprintf(stderr, "usage: %s [-s VALUE_BYTES] [-b MIB_PER_PHASE] [-q DEPTH] PATH\n", argv[0]);
	return 2;
}
