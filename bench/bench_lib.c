// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_lib - SET/GET throughput and latency of libfdpkv on the file backend
 * against a plain io_uring loop over the same file, same sizes, same depth,
 * same number of submitting threads, in the same run.
 *
 *   build/bench/bench_lib [-s VALUE_BYTES] [-b MIB_PER_PHASE] [-q DEPTH]
 *                         [-t THREADS] [-r ROUNDS] [-l LABEL] [-o KEY=VALUE...] PATH
 *
 * -o adds library configuration (fdpkv_config_parse), e.g. "copy_threads=0"
 * for the copy path without copy workers, "copy_piece=4M".
 *
 * The library phase keeps DEPTH single-key operations in flight (each
 * completion submits the next), driven by THREADS threads that share the
 * cache (each waits, drains and resubmits whatever completed), and times each
 * from submit to drain. The baseline opens PATH itself (O_DIRECT when the
 * file system allows it, as the file backend does); THREADS threads, each
 * with its own ring, keep DEPTH/THREADS reads or writes of VALUE_BYTES in
 * flight at sequential offsets and time each from submit to CQE. Every write
 * phase starts on a fresh (sparse) file, so no phase overwrites pages another
 * one allocated. A round is raw; lib with buffers 64 bytes past a page (the
 * copy path: bounced, as any misaligned buffer); lib with page-aligned
 * buffers (no copy, plain addresses); lib with the aligned buffers registered
 * as an arena (no copy, fixed buffers). With -r N the best round of each
 * phase is kept (a shared machine's noise only ever slows a phase down).
 *
 * Prints MB/s, ops/s, p50 and p99 in microseconds and the lib / raw ratios,
 * and, with -l LABEL, one "csv,LABEL,..." line per phase (columns: see
 * bench/run.sh) for make bench.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdpkv.h"

struct result {
	double secs, p50, p99;
	double cpu;		/* CPU seconds of the process: every thread, io-wq's too */
	unsigned int ops;
};

/* one phase: shared by its threads */
struct phase {
	struct fdpkv_cache *c;	/* lib phases */
	int fd;			/* raw phases */
	enum fdpkv_op op;
	bool write;
	unsigned int n, qd, nthreads;
	uint64_t size;
	void **bufs, **mis;
	uint8_t *misblock;
	char (*names)[32];
	double *lat, *start, t0;
	_Atomic double t_end;
	atomic_uint issued, done;
	unsigned int tid_next;
	pthread_mutex_t mu;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
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

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);

	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return p;
}

static unsigned int claim_thread(struct phase *ph)
{
	unsigned int t;

	pthread_mutex_lock(&ph->mu);
	t = ph->tid_next++;
	pthread_mutex_unlock(&ph->mu);
	return t;
}

static void record(struct phase *ph, unsigned int slot)
{
	double t = now();
	unsigned int d = atomic_fetch_add(&ph->done, 1);

	ph->lat[d] = t - ph->start[slot];
	if (d + 1 == ph->n)
		ph->t_end = t;
}

/* ---- library ---------------------------------------------------------------- */

/* submit op number @i (or nothing when all are issued) into @slot */
static void lib_submit(struct phase *ph, unsigned int slot)
{
	unsigned int i = atomic_fetch_add(&ph->issued, 1);
	struct fdpkv_buf b = { ph->bufs[slot], ph->size };
	struct fdpkv_key k;
	uint64_t id;

	if (i >= ph->n)
		return;
	snprintf(ph->names[slot], sizeof(ph->names[slot]), "bench@0@0@%08x", i);
	k = (struct fdpkv_key){ ph->names[slot], (uint32_t)strlen(ph->names[slot]) };
	ph->start[slot] = now();
	if (fdpkv_submit(ph->c, ph->op, 1, &k, &b, (void *)(uintptr_t)slot, &id)) {
		fprintf(stderr, "submit failed\n");
		exit(1);
	}
}

static void *lib_thread(void *arg)
{
	struct phase *ph = arg;
	unsigned int t = claim_thread(ph), slot;
	struct fdpkv_completion comp[64];

	for (slot = t; slot < ph->qd; slot += ph->nthreads)
		lib_submit(ph, slot);
	while (atomic_load(&ph->done) < ph->n) {
		int i, got;

		fdpkv_wait(ph->c, 2);
		got = fdpkv_drain(ph->c, comp, 64);
		for (i = 0; i < got; i++) {
			slot = (unsigned int)(uintptr_t)comp[i].user_data;
			if (comp[i].result) {
				fprintf(stderr, "op %d failed: %s\n", ph->op, strerror(-comp[i].result));
				exit(1);
			}
			fdpkv_completion_release(&comp[i]);
			record(ph, slot);
			lib_submit(ph, slot);
		}
	}
	return NULL;
}

/* ---- baseline: io_uring read/write loop, one ring per thread ------------------ */

static bool raw_queue(struct phase *ph, struct io_uring *ring, unsigned int slot)
{
	unsigned int i = atomic_fetch_add(&ph->issued, 1);
	off_t off = (off_t)(1ull << 20) + (off_t)i * (off_t)ph->size;
	struct io_uring_sqe *sqe;

	if (i >= ph->n)
		return false;
	sqe = io_uring_get_sqe(ring);
	if (ph->write)
		io_uring_prep_write(sqe, ph->fd, ph->bufs[slot], (unsigned int)ph->size, off);
	else
		io_uring_prep_read(sqe, ph->fd, ph->bufs[slot], (unsigned int)ph->size, off);
	io_uring_sqe_set_data64(sqe, slot);
	ph->start[slot] = now();
	return true;
}

static void *raw_thread(void *arg)
{
	struct phase *ph = arg;
	unsigned int t = claim_thread(ph), slot, inflight = 0;
	struct io_uring ring;

	if (io_uring_queue_init(ph->qd, &ring, 0))
		exit(1);
	for (slot = t; slot < ph->qd; slot += ph->nthreads)
		inflight += raw_queue(ph, &ring, slot);
	while (inflight) {
		struct io_uring_cqe *cqe;

		if (io_uring_submit_and_wait(&ring, 1) < 0 || io_uring_wait_cqe(&ring, &cqe))
			exit(1);
		do {
			slot = (unsigned int)io_uring_cqe_get_data64(cqe);
			if (cqe->res != (int)ph->size) {
				fprintf(stderr, "raw %s: %d\n", ph->write ? "write" : "read", cqe->res);
				exit(1);
			}
			io_uring_cqe_seen(&ring, cqe);
			record(ph, slot);
			inflight--;
			inflight += raw_queue(ph, &ring, slot);
		} while (io_uring_peek_cqe(&ring, &cqe) == 0);
	}
	io_uring_queue_exit(&ring);
	return NULL;
}

static void run_phase(struct phase *ph, void *(*fn)(void *), struct result *r)
{
	pthread_t th[64];
	unsigned int i;

	ph->lat = xcalloc(ph->n, sizeof(*ph->lat));
	ph->start = xcalloc(ph->qd, sizeof(*ph->start));
	ph->names = xcalloc(ph->qd, sizeof(*ph->names));
	atomic_init(&ph->issued, 0);
	atomic_init(&ph->done, 0);
	ph->tid_next = 0;
	pthread_mutex_init(&ph->mu, NULL);
	r->cpu = cpu_now();
	ph->t0 = now();
	for (i = 0; i < ph->nthreads; i++)
		if (pthread_create(&th[i], NULL, fn, ph))
			exit(1);
	for (i = 0; i < ph->nthreads; i++)
		pthread_join(th[i], NULL);
	r->secs = ph->t_end - ph->t0;
	r->cpu = cpu_now() - r->cpu;
	r->ops = ph->n;
	qsort(ph->lat, ph->n, sizeof(*ph->lat), cmp_double);
	r->p50 = ph->lat[ph->n / 2] * 1e6;
	r->p99 = ph->lat[(size_t)ph->n * 99 / 100] * 1e6;
	pthread_mutex_destroy(&ph->mu);
	free(ph->lat);
	free(ph->start);
	free(ph->names);
}

/* keep the faster of two measurements of one phase */
static void keep_best(struct result *best, const struct result *r, bool first)
{
	if (first || r->secs < best->secs)
		*best = *r;
}

static void print(const char *label, const char *what, const struct result *r,
		  uint64_t size, unsigned int qd, unsigned int nthreads, const struct result *base)
{
	double mbs = (double)r->ops * (double)size / r->secs / 1e6;
	double rt = base ? base->secs / r->secs : 1, r50 = base ? r->p50 / base->p50 : 1,
	       r99 = base ? r->p99 / base->p99 : 1, rc = base ? r->cpu / base->cpu : 1;
	/* CPU per byte moved: where the cores are the limit, throughput follows it */
	double cpu_gb = r->cpu / ((double)r->ops * (double)size / 1e9);

	printf("  %-10s %8.0f MB/s %8.0f ops/s  p50 %8.0f us  p99 %8.0f us  cpu %.3f s/GB",
	       what, mbs, r->ops / r->secs, r->p50, r->p99, cpu_gb);
	if (base)
		printf("   lib/raw: tput %.2f  p50 %.2f  p99 %.2f  cpu %.2f", rt, r50, r99, rc);
	printf("\n");
	if (label)
		printf("csv,%s,%llu,%u,%u,%s,%.1f,%.1f,%.0f,%.0f,%.3f,%.3f,%.3f\n", label,
		       (unsigned long long)size, nthreads, qd, what, mbs, r->ops / r->secs,
		       r->p50, r->p99, rt, r50, r99);
}

/*
 * -p: allocate a fresh file's blocks before a phase times anything. On
 * tmpfs a first write allocates its pages, and that alone swings a fresh
 * file's write speed 3x (fio, 1 GiB of 32 MiB writes: 0.9-2.8 GB/s sparse,
 * 5.6-7.0 preallocated): with -p both loops write over allocated pages,
 * as a cache does once its device has been filled.
 */
static bool prealloc;

static void prealloc_path(const char *path, uint64_t len)
{
	int fd;

	if (!prealloc)
		return;
	fd = open(path, O_RDWR);
	if (fd < 0 || fallocate(fd, 0, 0, (off_t)len)) {
		perror("fallocate");
		exit(1);
	}
	close(fd);
}

static struct fdpkv_cache *open_fresh(const struct fdpkv_config *cfg, const char *path)
{
	struct fdpkv_cache *c;
	char err[256];

	unlink(path);
	if (fdpkv_open(cfg, &c, err, sizeof(err))) {
		fprintf(stderr, "open: %s\n", err);
		exit(1);
	}
	prealloc_path(path, cfg->capacity_bytes);
	return c;
}

/*
 * A SET phase then a GET phase on a fresh cache, keeping the best of each;
 * with @arena, registered first (and the stats kept in @st).
 */
static void lib_round(struct phase *ph, const struct fdpkv_config *cfg, const char *path,
		      void *arena, size_t arena_len, struct result *set, struct result *get,
		      bool first, struct fdpkv_stats *st)
{
	struct result r;
	int ret;

	ph->c = open_fresh(cfg, path);
	if (arena) {
		ret = fdpkv_register_arena(ph->c, arena, arena_len);
		if (ret < 0) {
			fprintf(stderr, "register_arena: %s\n", strerror(-ret));
			exit(1);
		}
	}
	ph->op = FDPKV_OP_SET;
	run_phase(ph, lib_thread, &r);
	keep_best(set, &r, first);
	ph->op = FDPKV_OP_GET;
	run_phase(ph, lib_thread, &r);
	keep_best(get, &r, first);
	if (st)
		fdpkv_stats(ph->c, st);
	fdpkv_close(ph->c);
}

static int open_raw(const char *path, bool *direct)
{
	int fd;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_DIRECT, 0600);
	*direct = fd >= 0;
	if (fd < 0 && errno == EINVAL) {
		unlink(path);
		fd = open(path, O_RDWR | O_CREAT, 0600);
	}
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	uint64_t size = 256 * 1024, mib = 512;
	unsigned int qd = 32, n, i, nthreads = 1, rounds = 1, round;
	struct result ls, lg, ps, pg, as, ag, rw, rr, r;
	struct fdpkv_stats st;
	uint8_t *arena;
	struct fdpkv_config cfg;
	char err[256], uri[300];
	const char *path, *label = NULL, *extra = NULL;
	void **bufs, **mis;
	uint8_t *misblock;
	bool direct = true;
	int opt;

	while ((opt = getopt(argc, argv, "s:b:q:t:r:l:o:p")) != -1) {
		switch (opt) {
		case 's': size = strtoull(optarg, NULL, 0); break;
		case 'b': mib = strtoull(optarg, NULL, 0); break;
		case 'q': qd = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 't': nthreads = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'r': rounds = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'l': label = optarg; break;
		case 'o': extra = optarg; break;
		case 'p': prealloc = true; break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || !size || !qd || size % 4096 || !nthreads || nthreads > 64 ||
	    nthreads > qd || !rounds || (label && strchr(label, ',')))
		goto usage;
	path = argv[optind];
	n = (unsigned int)((mib << 20) / size);
	if (n < qd)
		n = qd;
	/* one block for all buffers: registered as an arena in the arena phases */
	arena = xalloc((size_t)qd * size);
	bufs = xcalloc(qd, sizeof(*bufs));
	for (i = 0; i < qd; i++)
		bufs[i] = arena + (size_t)i * size;
	/* the copy path: the same buffers 64 bytes past a page */
	misblock = xalloc((size_t)qd * (size + 4096));
	mis = xcalloc(qd, sizeof(*mis));
	for (i = 0; i < qd; i++)
		mis[i] = misblock + (size_t)i * (size + 4096) + 64;

	fdpkv_config_init(&cfg);
	snprintf(uri, sizeof(uri), "file:%s", path);
	if (fdpkv_config_set(&cfg, "device", uri, err, sizeof(err)))
		goto cfgfail;
	/* room for every object without eviction, 16 MiB segments or one object */
	cfg.segment_bytes = size + (1 << 20) > (16 << 20) ? (size + (1 << 20) + (1 << 20) - 1) &
			    ~((1ull << 20) - 1) : 16 << 20;
	cfg.capacity_bytes = (uint64_t)n * (size + 4096) * 5 / 4 + 8 * cfg.segment_bytes;
	cfg.queue_depth = qd;
	cfg.format = FDPKV_FORMAT_ALWAYS;
	/* e.g. -o copy_threads=0: the copy path without the copy workers */
	if (extra && fdpkv_config_parse(&cfg, extra, err, sizeof(err)))
		goto cfgfail;

	for (round = 0; round < rounds; round++) {
		struct phase ph = { .n = n, .qd = qd, .nthreads = nthreads, .size = size,
				    .bufs = bufs };

		ph.fd = open_raw(path, &direct);
		prealloc_path(path, (uint64_t)n * size);
		ph.write = true;
		run_phase(&ph, raw_thread, &r);
		keep_best(&rw, &r, !round);
		ph.write = false;
		run_phase(&ph, raw_thread, &r);
		keep_best(&rr, &r, !round);
		close(ph.fd);

		ph.bufs = mis;
		lib_round(&ph, &cfg, path, NULL, 0, &ls, &lg, !round, NULL);
		ph.bufs = bufs;
		lib_round(&ph, &cfg, path, NULL, 0, &ps, &pg, !round, NULL);
		/* the same with the buffers registered: values move without a copy */
		lib_round(&ph, &cfg, path, arena, (size_t)qd * size, &as, &ag, !round, &st);
		unlink(path);
	}

	printf("%s: value %llu KiB, depth %u, %u thread(s), %u ops per phase, best of %u, %s\n",
	       path, (unsigned long long)(size >> 10), qd, nthreads, n, rounds,
	       direct ? "O_DIRECT" : "page cache (no O_DIRECT)");
	print(label, "raw write", &rw, size, qd, nthreads, NULL);
	print(label, "lib set", &ls, size, qd, nthreads, &rw);
	print(label, "align set", &ps, size, qd, nthreads, &rw);
	print(label, "arena set", &as, size, qd, nthreads, &rw);
	print(label, "raw read", &rr, size, qd, nthreads, NULL);
	print(label, "lib get", &lg, size, qd, nthreads, &rr);
	print(label, "align get", &pg, size, qd, nthreads, &rr);
	print(label, "arena get", &ag, size, qd, nthreads, &rr);
	printf("  arena run: %llu MiB without a copy, %llu fixed-buffer commands\n",
	       (unsigned long long)(st.direct_bytes >> 20), (unsigned long long)st.fixed_cmds);
	return 0;
cfgfail:
	fprintf(stderr, "config: %s\n", err);
	return 1;
usage:
	fprintf(stderr, "usage: %s [-s VALUE_BYTES] [-b MIB_PER_PHASE] [-q DEPTH] [-t THREADS 1..64, <= DEPTH]\n"
		"       [-r ROUNDS] [-l LABEL] [-o KEY=VALUE...] [-p] PATH   (VALUE_BYTES a multiple of 4096;\n"
		"       -p: allocate each fresh file's blocks before timing)\n", argv[0]);
	return 2;
}
