// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkvctl bench: a KV-cache workload generator on libfdpkv's public API.
 *
 * N submitter threads share one cache; each keeps its own Q batches in
 * flight. Completions come from the cache's one queue, so any thread may
 * drain any thread's batch: the accounting (counters, latencies, the slots'
 * busy flags) is under one mutex. The main thread only watches: it stops the
 * run at --duration, prints the progress line and writes the CSV row once a
 * second. A --fill-pct prefill runs the same way before the timed phase.
 *
 * On ng: and bdev: devices the FDP statistics log (0x22) of each endurance group is
 * read before and after the timed phase for the device's own write
 * amplification; on sim: libfdpkv's device counters model it.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdpkvctl.h"

#define KEY_FMT		"fdpkvctl-bench-%010llu"
#define OPS_UNSET	UINT_MAX
#define MAX_THREADS	64
#define MAX_GROUPS	FDPKV_MAX_DEVICES

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long rnd(unsigned long long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* nearest rank: the smallest value with at least @permille of @n at or below */
static double pct(const double *v, size_t n, unsigned int permille)
{
	size_t rank = (n * permille + 999) / 1000;

	return v[rank ? rank - 1 : 0];
}

struct lat_vec {
	double *v;
	size_t n, cap;
};

struct slot {
	bool busy;
	double start;
	enum fdpkv_op op;
	unsigned int n;
	struct fdpkv_key *keys;
	char (*keybuf)[48];
	struct fdpkv_buf *bufs;
};

struct bench;

struct worker {
	struct bench *b;
	pthread_t tid;
	bool started;
	unsigned long long seed;
	struct slot *slots;		/* qd of them */
};

/* one phase (the prefill or the timed run); what follows @lock is under it */
struct bench {
	struct fdpkv_cache *c;
	int wl;				/* 0 fill, 1 read, 2 mixed */
	bool once;			/* fill each key of the key space once, then stop */
	bool record;			/* keep latencies */
	unsigned int batch, qd, read_pct;
	uint64_t keys, size_min, size_max;
	uint64_t max_ops;		/* batches to submit, 0: no limit */
	pthread_mutex_t lock;
	bool stop, nomem;
	int submit_err;
	unsigned int running;
	uint64_t submitted, seq, done;
	uint64_t sets, gets, bytes_written, bytes_read, hits, misses, errors;
	struct lat_vec lat[2];		/* [0] set, [1] get: per batch, us */
};

/*
 * the value size of key @k: fixed, or uniform over the keys (a hash of the
 * key, so that a get knows the size a set stored: GET wants the exact length)
 */
static uint64_t key_size(const struct bench *b, unsigned long long k)
{
	unsigned long long x = k + 0x9e3779b97f4a7c15ull;

	if (b->size_min == b->size_max)
		return b->size_min;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	return b->size_min + x % (b->size_max - b->size_min + 1);
}

static bool more_locked(const struct bench *b)
{
	return !b->stop && (!b->max_ops || b->submitted < b->max_ops) &&
	       (!b->once || b->seq < b->keys);
}

static void complete(struct bench *b, const struct fdpkv_completion *cp, double t)
{
	struct slot *s = cp->user_data;
	int g = s->op == FDPKV_OP_GET;
	struct lat_vec *l = &b->lat[g];
	unsigned int j;

	pthread_mutex_lock(&b->lock);
	if (b->record) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 4096;
			void *p = realloc(l->v, cap * sizeof(*l->v));

			if (p) {
				l->v = p;
				l->cap = cap;
			}
		}
		if (l->n < l->cap) {
			l->v[l->n++] = (t - s->start) * 1e6;
		} else {
			b->nomem = true;
			b->stop = true;
		}
	}
	for (j = 0; j < cp->nkeys; j++) {
		if (!g) {
			b->sets++;
			if (cp->status[j])
				b->errors++;
			else
				b->bytes_written += s->bufs[j].len;
		} else {
			b->gets++;
			if (cp->status[j] == -ENOENT) {
				b->misses++;
			} else if (cp->status[j]) {
				b->errors++;
			} else {
				b->hits++;
				b->bytes_read += cp->value_len[j];
			}
		}
	}
	b->done++;
	s->busy = false;
	pthread_mutex_unlock(&b->lock);
}

static void submit_slot(struct worker *w, struct slot *s)
{
	struct bench *b = w->b;
	unsigned int j, cnt;
	uint64_t first, id;
	bool get, ok;
	int ret;

	get = b->wl == 1 || (b->wl == 2 && rnd(&w->seed) % 100 < b->read_pct);
	pthread_mutex_lock(&b->lock);
	ok = !s->busy && more_locked(b);
	cnt = b->batch;
	first = b->seq;
	if (ok && b->once && b->keys - b->seq < cnt)
		cnt = (unsigned int)(b->keys - b->seq);
	if (ok) {
		if (!get)
			b->seq += cnt;
		b->submitted++;
		s->busy = true;
	}
	pthread_mutex_unlock(&b->lock);
	if (!ok)
		return;
	for (j = 0; j < cnt; j++) {
		unsigned long long k = !get && b->wl == 0 ? (first + j) % b->keys :
				       rnd(&w->seed) % b->keys;

		snprintf(s->keybuf[j], sizeof(s->keybuf[j]), KEY_FMT, k);
		s->keys[j].data = s->keybuf[j];
		s->keys[j].len = (uint32_t)strlen(s->keybuf[j]);
		s->bufs[j].len = key_size(b, k);
	}
	s->op = get ? FDPKV_OP_GET : FDPKV_OP_SET;
	s->n = cnt;
	s->start = now_s();
	ret = fdpkv_submit(b->c, s->op, cnt, s->keys, s->bufs, s, &id);
	if (ret) {
		pthread_mutex_lock(&b->lock);
		if (!b->submit_err)
			b->submit_err = ret;
		b->stop = true;
		s->busy = false;
		pthread_mutex_unlock(&b->lock);
	}
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	struct fdpkv_completion comp[16];
	unsigned int i, busy;
	bool more;
	int n;

	for (;;) {
		for (i = 0; i < b->qd; i++)
			submit_slot(w, &w->slots[i]);
		pthread_mutex_lock(&b->lock);
		for (busy = 0, i = 0; i < b->qd; i++)
			busy += w->slots[i].busy;
		more = more_locked(b);
		pthread_mutex_unlock(&b->lock);
		if (!busy && !more)
			break;
		fdpkv_wait(b->c, 5);
		while ((n = fdpkv_drain(b->c, comp, 16)) > 0) {
			double t = now_s();

			for (i = 0; i < (unsigned int)n; i++) {
				complete(b, &comp[i], t);
				fdpkv_completion_release(&comp[i]);
			}
		}
	}
	pthread_mutex_lock(&b->lock);
	b->running--;
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

/* --- the watcher: progress line, CSV, deadline ------------------------------ */

struct tick {
	double t;
	uint64_t sets, gets, bytes, done;
	size_t nlat[2];
	uint64_t evo, evs;
};

struct watch {
	const char *what;		/* "prefill" | "bench" */
	bool progress, tty;
	FILE *csv;
	double t0;
	struct tick last;
	struct fdpkv_stats st;		/* scratch */
};

/* p99 of the latencies recorded since @from, under the lock; -1 when none */
static double interval_p99(const struct lat_vec *l, size_t from, double *tmp)
{
	size_t n = l->n - from;

	if (!n)
		return -1;
	memcpy(tmp, l->v + from, n * sizeof(*tmp));
	qsort(tmp, n, sizeof(*tmp), dbl_cmp);
	return pct(tmp, n, 990);
}

static void watch_tick(struct bench *b, struct watch *wt, bool final)
{
	struct tick now;
	double p99[2] = { -1, -1 }, dt, mib, *tmp = NULL;
	unsigned int g;

	pthread_mutex_lock(&b->lock);
	now.t = now_s() - wt->t0;
	now.sets = b->sets;
	now.gets = b->gets;
	now.bytes = b->bytes_written + b->bytes_read;
	now.done = b->done;
	for (g = 0; g < 2; g++) {
		now.nlat[g] = b->lat[g].n;
		if (now.nlat[g] > wt->last.nlat[g]) {
			free(tmp);
			tmp = malloc((now.nlat[g] - wt->last.nlat[g]) * sizeof(*tmp));
			if (tmp)
				p99[g] = interval_p99(&b->lat[g], wt->last.nlat[g], tmp);
		}
	}
	pthread_mutex_unlock(&b->lock);
	free(tmp);
	now.evo = now.evs = 0;
	if (!fdpkv_stats(b->c, &wt->st)) {
		now.evo = wt->st.evicted_objects;
		now.evs = wt->st.evicted_segments;
	}
	dt = now.t - wt->last.t;
	mib = dt > 0 ? (double)(now.bytes - wt->last.bytes) / 1048576.0 / dt : 0;
	if (wt->csv && (!final || now.done > wt->last.done || !wt->last.t)) {
		fprintf(wt->csv, "%.3f,%llu,%llu,%.2f,", now.t,
			(unsigned long long)(now.sets - wt->last.sets),
			(unsigned long long)(now.gets - wt->last.gets), mib);
		for (g = 0; g < 2; g++)
			if (p99[g] >= 0)
				fprintf(wt->csv, "%.1f,", p99[g]);
			else
				fputs(",", wt->csv);
		fprintf(wt->csv, "%llu,%llu\n", (unsigned long long)(now.evo - wt->last.evo),
			(unsigned long long)(now.evs - wt->last.evs));
		fflush(wt->csv);
	}
	if (wt->progress && !final) {
		fprintf(stderr, "%s%s: %.0f s, %llu batches, %llu sets, %llu gets, %.1f MiB/s",
			wt->tty ? "\r\033[K" : "", wt->what, now.t, (unsigned long long)now.done,
			(unsigned long long)now.sets, (unsigned long long)now.gets, mib);
		if (p99[0] >= 0)
			fprintf(stderr, ", set p99 %.0f us", p99[0]);
		if (p99[1] >= 0)
			fprintf(stderr, ", get p99 %.0f us", p99[1]);
		fprintf(stderr, ", %llu evicted%s", (unsigned long long)(now.evo - wt->last.evo),
			wt->tty ? "" : "\n");
		fflush(stderr);
	}
	if (wt->progress && wt->tty && final)
		fputs("\r\033[K", stderr);
	wt->last = now;
}

/*
 * run one phase on @nw workers; stops at @duration seconds (0: none).
 * Returns 0, or -errno when a thread could not start.
 */
static int run_phase(struct bench *b, struct worker *w, unsigned int nw, unsigned int duration,
		     struct watch *wt)
{
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	double next;
	unsigned int i, running;
	int ret = 0;

	b->running = nw;
	wt->t0 = now_s();
	memset(&wt->last, 0, sizeof(wt->last));
	if (!fdpkv_stats(b->c, &wt->st)) {
		wt->last.evo = wt->st.evicted_objects;
		wt->last.evs = wt->st.evicted_segments;
	}
	next = 1.0;
	for (i = 0; i < nw; i++) {
		w[i].b = b;
		ret = pthread_create(&w[i].tid, NULL, worker_run, &w[i]);
		if (ret) {
			pthread_mutex_lock(&b->lock);
			b->stop = true;
			b->running -= nw - i;
			pthread_mutex_unlock(&b->lock);
			ret = -ret;
			break;
		}
		w[i].started = true;
	}
	for (;;) {
		double t;

		pthread_mutex_lock(&b->lock);
		running = b->running;
		pthread_mutex_unlock(&b->lock);
		if (!running)
			break;
		nanosleep(&nap, NULL);
		t = now_s() - wt->t0;
		if (duration && t >= duration) {
			pthread_mutex_lock(&b->lock);
			b->stop = true;
			pthread_mutex_unlock(&b->lock);
		}
		if (t >= next) {
			watch_tick(b, wt, false);
			next += 1.0;
		}
	}
	for (i = 0; i < nw; i++)
		if (w[i].started)
			pthread_join(w[i].tid, NULL);
	for (i = 0; i < nw; i++)
		w[i].started = false;
	watch_tick(b, wt, true);
	return ret;
}

/* --- FDP statistics (log 0x22) of the ng: and bdev: devices' endurance groups ---- */

struct fdp_group {
	const char *path;
	unsigned int ctrl;
	uint16_t endgid;
	struct stats_counters s0;
};

/* 0 with @g filled (*@n may be 0: no ng:/bdev: device), -1 when a log read failed */
static int fdp_snapshot(const struct fdpkv_config *fc, struct fdp_group *g, unsigned int *n,
			bool after, struct bench_fdp *delta)
{
	unsigned int i, k, cnt = 0;

	for (i = 0; i < fc->ndevices; i++) {
		const char *path = strchr(fc->devices[i], ':') + 1, *base;
		struct stats_counters s;
		char err[ERR_LEN];
		unsigned int ctrl = UINT_MAX, nsid;
		struct dev d;
		int ret;

		/* the namespace itself: its generic or its block device (root for the log) */
		if (strncmp(fc->devices[i], "ng:", 3) && strncmp(fc->devices[i], "bdev:", 5))
			continue;
		if (dev_open_ns(&d, path, err, sizeof(err))) {
			dev_close(&d);
			return -1;
		}
		ret = fdp_read_stats(d.fd, d.endgid, &s);
		base = strrchr(path, '/');
		if (sscanf(base ? base + 1 : path, "ng%un%u", &ctrl, &nsid) != 2 &&
		    sscanf(base ? base + 1 : path, "nvme%un%u", &ctrl, &nsid) != 2)
			ctrl = UINT_MAX - i;	/* unknown: count it on its own */
		for (k = 0; k < cnt; k++)	/* one group under two namespaces: once */
			if (g[k].ctrl == ctrl && g[k].endgid == d.endgid)
				break;
		if (!ret && k == cnt) {
			if (!after) {
				g[cnt].path = path;
				g[cnt].ctrl = ctrl;
				g[cnt].endgid = d.endgid;
				g[cnt].s0 = s;
			} else {
				delta->hbmw += s.hbmw - g[cnt].s0.hbmw;
				delta->mbmw += s.mbmw - g[cnt].s0.mbmw;
				delta->mbe += s.mbe - g[cnt].s0.mbe;
			}
			cnt++;
		}
		dev_close(&d);
		if (ret)
			return -1;
	}
	if (after && cnt != *n)
		return -1;
	*n = cnt;
	if (after)
		delta->groups = cnt;
	return 0;
}

/* --- the command ------------------------------------------------------------- */

static uint64_t dev_bytes(struct fdpkv_cache *c, unsigned int ndev, bool media)
{
	struct fdpkv_device_stats s;
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < ndev; i++)
		if (!fdpkv_device_stats(c, i, &s))
			sum += media ? s.media_bytes_written : s.host_bytes_written;
	return sum;
}

/* "SIZE" or "MIN-MAX"; 0 or -1 */
static int parse_range(const char *s, uint64_t *min, uint64_t *max)
{
	const char *dash = strchr(s, '-');
	char a[64];

	if (!dash)
		return parse_size(s, min) || !*min ? -1 : (*max = *min, 0);
	if (dash == s || (size_t)(dash - s) >= sizeof(a))
		return -1;
	memcpy(a, s, (size_t)(dash - s));
	a[dash - s] = 0;
	if (parse_size(a, min) || parse_size(dash + 1, max) || !*min || *min > *max)
		return -1;
	return 0;
}

static void lat_summary(struct lat_vec *l, struct bench_lat *r)
{
	memset(r, 0, sizeof(*r));
	if (!l->n)
		return;
	qsort(l->v, l->n, sizeof(*l->v), dbl_cmp);
	r->batches = l->n;
	r->p50 = pct(l->v, l->n, 500);
	r->p90 = pct(l->v, l->n, 900);
	r->p99 = pct(l->v, l->n, 990);
	r->p999 = pct(l->v, l->n, 999);
	r->max = l->v[l->n - 1];
}

static void bench_reset(struct bench *b)
{
	unsigned int g;

	b->stop = b->nomem = false;
	b->submit_err = 0;
	b->submitted = b->seq = b->done = 0;
	b->sets = b->gets = b->bytes_written = b->bytes_read = 0;
	b->hits = b->misses = b->errors = 0;
	for (g = 0; g < 2; g++)
		b->lat[g].n = 0;
}

int cmd_bench(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format, *workload, *set, *format, *size, *size_dist, *csv;
		unsigned int ops, batch, qd, read_pct, threads, duration, fill_pct;
		uint64_t keys;
		bool progress;
	} cfg = { .output_format = "normal", .workload = "mixed", .format = "auto",
		  .ops = OPS_UNSET, .batch = 8, .qd = 4, .read_pct = 50, .threads = 1,
		  .size = "256K" };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		{ "workload", 'w', OPT_STR, &cfg.workload, "W", "fill (sets), read (gets) or mixed (default)" },
		{ "ops", 'n', OPT_UINT, &cfg.ops, "N", "batches to run (default 1000; no limit with --duration)" },
		{ "duration", 'd', OPT_UINT, &cfg.duration, "SECONDS", "stop after this long (or -n, whichever first)" },
		{ "batch", 'b', OPT_UINT, &cfg.batch, "B", "keys per batch (default 8)" },
		{ "qd", 'q', OPT_UINT, &cfg.qd, "Q", "batches in flight per thread (default 4)" },
		{ "threads", 't', OPT_UINT, &cfg.threads, "N", "submitter threads sharing the cache (default 1)" },
		{ "size", 's', OPT_STR, &cfg.size, "SIZE", "value size, or MIN-MAX for uniform (default 256K)" },
		{ "size-dist", 0, OPT_STR, &cfg.size_dist, "DIST", "fixed (--size) or uniform:MIN-MAX" },
		{ "keys", 'k', OPT_SIZE, &cfg.keys, "N", "key space (default: see the man page)" },
		{ "read-pct", 'r', OPT_UINT, &cfg.read_pct, "P", "mixed: percent of batches that get (default 50)" },
		{ "fill-pct", 'u', OPT_UINT, &cfg.fill_pct, "P", "prefill keys to P% of the capacity first" },
		{ "format", 'F', OPT_STR, &cfg.format, "MODE", "never|auto|always (default auto)" },
		{ "set", 0, OPT_STR, &cfg.set, "\"K=V ...\"", "more libfdpkv configuration keys" },
		{ "csv", 0, OPT_STR, &cfg.csv, "FILE", "write a time series, one row per second" },
		{ "progress", 'P', OPT_FLAG, &cfg.progress, NULL, "progress line on stderr even when not a tty" },
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "URI",
		"Run a KV-cache workload against a cache: T threads, each with Q batches\n"
		"of B keys in flight, fixed or uniformly distributed value sizes, a\n"
		"read/write mix, optionally a prefill to a utilization target, for N\n"
		"batches or a duration. Reports throughput, set and get latency\n"
		"percentiles per batch, hit ratio, evictions and the device write\n"
		"amplification (ng:/bdev: from the FDP statistics log, sim: from its model).\n"
		"fill stores keys in order, read gets random keys, mixed does both.\n"
		"A live progress line goes to stderr when it is a terminal.", opts };
	const struct print_ops *ops = print_ops_get(OUT_NORMAL);
	struct fdp_group groups[MAX_GROUPS];
	struct fdpkv_stats st0, st1;
	struct bench_result res;
	struct fdpkv_config fc;
	struct fdpkv_usage u;
	struct watch wt;
	struct bench b;
	struct worker *w = NULL;
	FILE *csv = NULL;
	const char *uri = NULL, *bad = NULL;
	uint64_t h0, m0, avg;
	unsigned int i, j, ngroups = 0;
	char err[ERR_LEN];
	bool fdp_ok;
	int rc, ret, wl;

	memset(&res, 0, sizeof(res));
	memset(&b, 0, sizeof(b));
	memset(&wt, 0, sizeof(wt));
	rc = cache_begin(argc, argv, &spec, &uri, &cfg.output_format, &ops);
	if (rc)
		return rc < 0 ? 0 : rc;
	wl = !strcmp(cfg.workload, "fill") ? 0 : !strcmp(cfg.workload, "read") ? 1 :
	     !strcmp(cfg.workload, "mixed") ? 2 : -1;
	res.size_dist = "fixed";
	if (cfg.size_dist && !strncmp(cfg.size_dist, "uniform:", 8)) {
		res.size_dist = "uniform";
		if (parse_range(cfg.size_dist + 8, &res.size_min, &res.size_max))
			bad = "--size-dist must be fixed or uniform:MIN-MAX (1 <= MIN <= MAX)";
	} else if (cfg.size_dist && strcmp(cfg.size_dist, "fixed")) {
		bad = "--size-dist must be fixed or uniform:MIN-MAX (1 <= MIN <= MAX)";
	} else if (parse_range(cfg.size, &res.size_min, &res.size_max)) {
		bad = "--size must be SIZE or MIN-MAX (1 <= MIN <= MAX)";
	} else if (res.size_min != res.size_max) {
		if (cfg.size_dist)	/* "fixed" with a range */
			bad = "--size-dist fixed takes one --size";
		res.size_dist = "uniform";
	}
	if (wl < 0)
		bad = "--workload must be fill, read or mixed";
	else if (!bad && (!cfg.ops || !cfg.batch || cfg.batch > 4096 || !cfg.qd || cfg.qd > 256 ||
			  !cfg.threads || cfg.threads > MAX_THREADS || cfg.read_pct > 100 ||
			  cfg.fill_pct > 100))
		bad = "--ops >= 1, --batch 1..4096, --qd 1..256, --threads 1..64, "
		      "--read-pct and --fill-pct 0..100";
	if (bad) {
		fprintf(stderr, "%s %s: %s\n", PROG, cmd->name, bad);
		opts_usage(stderr, &spec);
		return 1;
	}
	if (cache_config(&fc, uri, cfg.set, FDPKV_FORMAT_AUTO, err, sizeof(err)) ||
	    fdpkv_config_set(&fc, "format", cfg.format, err, sizeof(err)))
		return print_fail(ops, cmd->name, uri, "%s", err);
	if (cfg.csv) {
		csv = fopen(cfg.csv, "w");
		if (!csv)
			return print_fail(ops, cmd->name, uri, "%s: %s", cfg.csv, strerror(errno));
		fputs("t,sets,gets,mib_per_s,set_p99_us,get_p99_us,evicted_objects,evicted_segments\n",
		      csv);
		fflush(csv);
	}
	pthread_mutex_init(&b.lock, NULL);
	rc = 1;
	ret = fdpkv_open(&fc, &b.c, err, sizeof(err));
	if (ret) {
		rc = print_fail(ops, cmd->name, uri, "%s", err);
		goto out;
	}
	w = calloc(cfg.threads, sizeof(*w));
	if (!w)
		goto nomem;
	for (i = 0; i < cfg.threads; i++) {
		w[i].seed = 0x9e3779b97f4a7c15ull ^ ((unsigned long long)(i + 1) * 0xbf58476d1ce4e5b9ull);
		w[i].slots = calloc(cfg.qd, sizeof(*w[i].slots));
		if (!w[i].slots)
			goto nomem;
		for (j = 0; j < cfg.qd; j++) {
			struct slot *s = &w[i].slots[j];
			unsigned int k;

			s->keys = calloc(cfg.batch, sizeof(*s->keys));
			s->keybuf = calloc(cfg.batch, sizeof(*s->keybuf));
			s->bufs = calloc(cfg.batch, sizeof(*s->bufs));
			if (!s->keys || !s->keybuf || !s->bufs)
				goto nomem;
			for (k = 0; k < cfg.batch; k++) {
				s->bufs[k].len = res.size_max;
				s->bufs[k].base = malloc(res.size_max);
				if (!s->bufs[k].base)
					goto nomem;
				memset(s->bufs[k].base, (int)(0x5a + k), res.size_max);
			}
		}
	}
	fdpkv_usage(b.c, &u);
	avg = (res.size_min + res.size_max) / 2;
	b.batch = cfg.batch;
	b.qd = cfg.qd;
	b.read_pct = cfg.read_pct;
	b.size_min = res.size_min;
	b.size_max = res.size_max;
	wt.tty = isatty(STDERR_FILENO);
	wt.progress = cfg.progress || wt.tty;

	/* prefill: keys 0.. until their values are fill-pct of the capacity */
	if (cfg.fill_pct) {
		res.prefill_keys = (uint64_t)((double)u.bytes_capacity * cfg.fill_pct / 100.0) / avg;
		if (res.prefill_keys) {
			b.wl = 0;
			b.once = true;
			b.keys = res.prefill_keys;
			wt.what = "prefill";
			ret = run_phase(&b, w, cfg.threads, 0, &wt);
			if (ret || b.submit_err || b.nomem) {
				rc = print_fail(ops, cmd->name, uri, "prefill: %s",
						strerror(-(ret ? ret : b.submit_err ? b.submit_err : -ENOMEM)));
				goto out;
			}
			res.prefill_bytes = b.bytes_written;
			res.prefill_seconds = now_s() - wt.t0;
			res.prefill_keys = b.sets;
		}
	}

	res.max_ops = cfg.ops != OPS_UNSET ? cfg.ops : cfg.duration ? 0 : 1000;
	if (!cfg.keys)
		cfg.keys = res.prefill_keys ? res.prefill_keys :
			   res.max_ops ? res.max_ops * cfg.batch :
			   u.bytes_capacity / avg ? u.bytes_capacity / avg : 1;
	bench_reset(&b);
	b.wl = wl;
	b.once = false;
	b.record = true;
	b.keys = cfg.keys;
	b.max_ops = res.max_ops;
	wt.what = "bench";
	wt.csv = csv;
	fdp_ok = !fdp_snapshot(&fc, groups, &ngroups, false, NULL);
	memset(&st0, 0, sizeof(st0));
	fdpkv_stats(b.c, &st0);
	h0 = dev_bytes(b.c, fc.ndevices, false);
	m0 = dev_bytes(b.c, fc.ndevices, true);
	ret = run_phase(&b, w, cfg.threads, cfg.duration, &wt);
	res.seconds = now_s() - wt.t0;
	if (ret || b.submit_err) {
		rc = print_fail(ops, cmd->name, uri, "submit: %s",
				strerror(-(ret ? ret : b.submit_err)));
		goto out;
	}
	if (b.nomem)
		goto nomem;
	memset(&st1, 0, sizeof(st1));
	fdpkv_stats(b.c, &st1);
	res.host_bytes = dev_bytes(b.c, fc.ndevices, false) - h0;
	res.media_bytes = dev_bytes(b.c, fc.ndevices, true) - m0;
	if (fdp_ok && ngroups && !fdp_snapshot(&fc, groups, &ngroups, true, &res.fdp)) {
		res.have_fdp = true;
		if (res.fdp.hbmw) {
			res.waf_source = "fdp";
			res.waf = (double)res.fdp.mbmw / (double)res.fdp.hbmw;
		}
	} else if (res.media_bytes && res.host_bytes) {
		res.waf_source = "sim";
		res.waf = (double)res.media_bytes / (double)res.host_bytes;
	}
	fdpkv_usage(b.c, &res.usage);
	res.uri = uri;
	res.workload = cfg.workload;
	res.csv = cfg.csv;
	res.ops = b.done;
	res.batch = cfg.batch;
	res.keys = cfg.keys;
	res.qd = cfg.qd;
	res.threads = cfg.threads;
	res.read_pct = cfg.read_pct;
	res.duration = cfg.duration;
	res.fill_pct = cfg.fill_pct;
	res.sets = b.sets;
	res.gets = b.gets;
	res.bytes_written = b.bytes_written;
	res.bytes_read = b.bytes_read;
	res.hits = b.hits;
	res.misses = b.misses;
	res.errors = b.errors;
	res.evicted_objects = st1.evicted_objects - st0.evicted_objects;
	res.evicted_segments = st1.evicted_segments - st0.evicted_segments;
	lat_summary(&b.lat[0], &res.lat[0]);
	lat_summary(&b.lat[1], &res.lat[1]);
	ops->bench(&res);
	rc = 0;
	goto out;
nomem:
	rc = print_fail(ops, cmd->name, uri, "out of memory");
out:
	fdpkv_close(b.c);	/* waits for whatever is still in flight */
	for (i = 0; w && i < cfg.threads; i++) {
		for (j = 0; w[i].slots && j < cfg.qd; j++) {
			struct slot *s = &w[i].slots[j];
			unsigned int k;

			for (k = 0; s->bufs && k < cfg.batch; k++)
				free(s->bufs[k].base);
			free(s->bufs);
			free(s->keys);
			free(s->keybuf);
		}
		free(w[i].slots);
	}
	free(w);
	free(b.lat[0].v);
	free(b.lat[1].v);
	pthread_mutex_destroy(&b.lock);
	if (csv && fclose(csv) && !rc)
		rc = print_fail(ops, cmd->name, uri, "%s: %s", cfg.csv, strerror(errno));
	return rc;
}
