// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkvctl's cache commands, on libfdpkv's public API only: format, fsck,
 * dump, bench. URI is what fdpkv_config's "devices" key takes: file:/path,
 * ng:/dev/ngXnY, fdpkv:/dev/fdpkv?ns=N, sim:, several separated by ','.
 *
 * dump opens with format=never: libfdpkv then reads the superblocks and
 * every segment to rebuild the index (it rewrites a damaged superblock copy
 * from the good one, nothing else). fsck does not open the cache: it runs
 * fdpkv_fsck, which writes nothing without --repair.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fdpkvctl.h"

#define KEY_FMT "fdpkvctl-bench-%010llu"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* parse, validate -o; 0 to go on, else the exit code (-1: --help done) */
static int cache_begin(int argc, char **argv, const struct cmd_spec *spec, const char **uri,
		       const char *const *fmt, const struct print_ops **ops)
{
	enum out_fmt f = OUT_NORMAL;
	int ret = opts_parse(argc, argv, spec, uri);

	if (ret)
		return ret > 0 ? -1 : 1;
	if (validate_output_format(*fmt, &f)) {
		fprintf(stderr, "%s %s: invalid output format '%s' (normal|json)\n", PROG,
			spec->name, *fmt);
		opts_usage(stderr, spec);
		return 1;
	}
	*ops = print_ops_get(f);
	return 0;
}

/* a config for @uri with extra "key=value ..." settings; 0 or -1 with @err */
static int cache_config(struct fdpkv_config *cfg, const char *uri, const char *set,
			enum fdpkv_format_mode mode, char *err, size_t len)
{
	unsigned int i;
	uint64_t runs;

	fdpkv_config_init(cfg);
	if (fdpkv_config_set(cfg, "devices", uri, err, len))
		return -1;
	if (set && fdpkv_config_parse(cfg, set, err, len))
		return -1;
	cfg->format = mode;
	/*
	 * fdpkv.h lets segment_size be 0 on FDP devices (the segment is the
	 * reclaim unit), but libfdpkv's ng backend does not read the RU size
	 * yet: read it here (log page 0x20) for ng: devices.
	 */
	for (i = 0; !cfg->segment_bytes && i < cfg->ndevices; i++)
		if (!strncmp(cfg->devices[i], "ng:", 3) &&
		    !fdp_ru_size(cfg->devices[i] + 3, &runs) && runs)
			cfg->segment_bytes = runs;
	return 0;
}

static int fill_cache_result(struct fdpkv_cache *c, struct cache_result *r, unsigned int ndev)
{
	unsigned int i;

	r->ndev = ndev;
	for (i = 0; i < ndev; i++)
		fdpkv_device_stats(c, i, &r->dev[i]);
	fdpkv_usage(c, &r->usage);
	return fdpkv_stats(c, &r->st);
}

/* --- format ------------------------------------------------------------------ */

int cmd_format(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format, *set;
		uint64_t capacity, segment_size;
		bool force;
	} cfg = { .output_format = "normal" };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		{ "capacity", 'C', OPT_SIZE, &cfg.capacity, "SIZE", "bytes to use per device (default: all; a file is created this size)" },
		{ "segment-size", 'S', OPT_SIZE, &cfg.segment_size, "SIZE", "segment size for backends without reclaim units (file, sim)" },
		{ "set", 0, OPT_STR, &cfg.set, "\"K=V ...\"", "more libfdpkv configuration keys (see fdpkv_config_set)" },
		{ "force", 'f', OPT_FLAG, &cfg.force, NULL, "format even if a cache is already there (destroys it)" },
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "URI",
		"Format an fdpkv cache on the device URIs (file:/path, ng:/dev/ngXnY,\n"
		"fdpkv:/dev/fdpkv?ns=N, sim:; several separated by ','). Refuses to\n"
		"overwrite an existing cache without --force.", opts };
	const struct print_ops *ops = print_ops_get(OUT_NORMAL);
	struct fdpkv_config fc;
	struct fdpkv_cache *c = NULL;
	struct cache_result *res = NULL;
	const char *uri = NULL;
	char err[ERR_LEN], v[32];
	int rc, ret;

	rc = cache_begin(argc, argv, &spec, &uri, &cfg.output_format, &ops);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = 1;
	if (cache_config(&fc, uri, cfg.set, FDPKV_FORMAT_NEVER, err, sizeof(err)))
		return print_fail(ops, cmd->name, uri, "%s", err);
	if (cfg.capacity) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)cfg.capacity);
		fdpkv_config_set(&fc, "capacity", v, NULL, 0);
	}
	if (cfg.segment_size) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)cfg.segment_size);
		if (fdpkv_config_set(&fc, "segment_size", v, err, sizeof(err)))
			return print_fail(ops, cmd->name, uri, "%s", err);
	}
	/* is there a cache already? (format=never only reads) */
	if (!cfg.force && strncmp(uri, "sim:", 4)) {
		ret = fdpkv_open(&fc, &c, err, sizeof(err));
		if (!ret) {
			fdpkv_close(c);
			return print_fail(ops, cmd->name, uri,
					  "holds an fdpkv cache; pass --force to destroy it and format");
		}
		if (ret == -EBADMSG)
			return print_fail(ops, cmd->name, uri,
					  "holds a damaged fdpkv superblock; pass --force to format over it");
	}
	c = NULL;
	fc.format = FDPKV_FORMAT_ALWAYS;
	ret = fdpkv_open(&fc, &c, err, sizeof(err));
	if (ret)
		return print_fail(ops, cmd->name, uri, "%s", err);
	res = calloc(1, sizeof(*res));
	if (!res) {
		rc = print_fail(ops, cmd->name, uri, "out of memory");
		goto out;
	}
	res->command = cmd->name;
	res->uri = uri;
	res->clean = true;
	fill_cache_result(c, res, fc.ndevices);
	ops->cache(res);
	rc = 0;
out:
	free(res);
	fdpkv_close(c);
	return rc;
}

/* --- fsck --------------------------------------------------------------------- */

const char *fsck_kind_name(enum fdpkv_damage_kind k)
{
	switch (k) {
	case FDPKV_DAMAGE_SUPERBLOCK:	return "superblock";
	case FDPKV_DAMAGE_HEADER:	return "header";
	case FDPKV_DAMAGE_VALUE:	return "value";
	case FDPKV_DAMAGE_TRUNCATED:	return "truncated";
	case FDPKV_DAMAGE_IO:		return "io";
	}
	return "unknown";
}

char *key_printable(const void *key, uint32_t klen)
{
	const unsigned char *k = key;
	char *s = malloc((size_t)klen * 4 + 1);
	uint32_t i;
	size_t o = 0;

	if (!s)
		return NULL;
	for (i = 0; i < klen; i++) {
		if (k[i] >= 0x20 && k[i] < 0x7f && k[i] != '\\')
			s[o++] = (char)k[i];
		else
			o += (size_t)sprintf(s + o, "\\x%02x", k[i]);
	}
	s[o] = 0;
	return s;
}

struct fsck_ctx {
	struct fsck_result *r;
	unsigned int cap;
	bool nomem;
};

static void fsck_damage_cb(void *arg, const struct fdpkv_damage *d)
{
	struct fsck_ctx *x = arg;
	struct fsck_damage *e;

	if (x->r->n == x->cap) {
		void *p = realloc(x->r->e, (x->cap ? 2 * x->cap : 16) * sizeof(*x->r->e));

		if (!p) {
			x->nomem = true;
			return;
		}
		x->cap = x->cap ? 2 * x->cap : 16;
		x->r->e = p;
	}
	e = &x->r->e[x->r->n++];
	memset(e, 0, sizeof(*e));
	e->kind = d->kind;
	e->dev = d->dev;
	e->segment = d->segment;
	e->offset = d->offset;
	e->length = d->length;
	e->repaired = d->repaired;
	snprintf(e->reason, sizeof(e->reason), "%s", d->reason);
	if (d->key) {
		e->key = key_printable(d->key, d->klen);
		x->nomem |= !e->key;
	}
}

int cmd_fsck(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format, *set;
		bool repair;
	} cfg = { .output_format = "normal" };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		{ "repair", 'r', OPT_FLAG, &cfg.repair, NULL, "repair what is damaged (see the man page)" },
		{ "set", 0, OPT_STR, &cfg.set, "\"K=V ...\"", "more libfdpkv configuration keys" },
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "URI",
		"Check a cache without opening it (fdpkv_fsck): both superblock copies of\n"
		"every device, every segment's chain of objects, every header and key\n"
		"checksum and every value checksum (all values are read). Reports objects\n"
		"(live, superseded, deleted), bytes, and each damage with its device,\n"
		"segment, offset and reason. Writes nothing unless --repair: then a bad\n"
		"superblock copy is rewritten from the good one and each damaged object is\n"
		"overwritten by a filler record so that the cache opens with the damaged\n"
		"objects missing and every other object intact. Do not run it while the\n"
		"cache is open. Exit 0 when clean or repaired, 1 when damage remains.", opts };
	const struct print_ops *ops = print_ops_get(OUT_NORMAL);
	struct fsck_result res;
	struct fsck_ctx x;
	struct fdpkv_config fc;
	const char *uri = NULL;
	char err[ERR_LEN];
	unsigned int i;
	int rc, ret;

	memset(&res, 0, sizeof(res));
	rc = cache_begin(argc, argv, &spec, &uri, &cfg.output_format, &ops);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (cache_config(&fc, uri, cfg.set, FDPKV_FORMAT_NEVER, err, sizeof(err)))
		return print_fail(ops, cmd->name, uri, "%s", err);
	x = (struct fsck_ctx){ .r = &res };
	ret = fdpkv_fsck(&fc, cfg.repair ? FDPKV_FSCK_REPAIR : 0, &res.rep, fsck_damage_cb, &x,
			 err, sizeof(err));
	if (ret) {
		rc = print_fail(ops, cmd->name, uri, "%s", err);
		goto out;
	}
	if (x.nomem) {
		rc = print_fail(ops, cmd->name, uri, "out of memory");
		goto out;
	}
	res.uri = uri;
	res.repair = cfg.repair;
	res.result = !res.rep.damage ? "clean" :
		     res.rep.damage == res.rep.repaired ? "repaired" : "damaged";
	ops->fsck(&res);
	rc = res.rep.damage == res.rep.repaired ? 0 : 1;
out:
	for (i = 0; i < res.n; i++)
		free(res.e[i].key);
	free(res.e);
	return rc;
}

/* --- dump --------------------------------------------------------------------- */

struct dump_ctx {
	struct dump_result *r;
	unsigned int cap, limit;
	int err;
};

static int dump_one(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	struct dump_ctx *x = arg;
	struct dump_entry *e;
	char *s;

	if (x->limit && x->r->n >= x->limit) {
		x->r->truncated = true;
		return 1;
	}
	if (x->r->n == x->cap) {
		void *p = realloc(x->r->e, (x->cap = x->cap ? 2 * x->cap : 256) * sizeof(*x->r->e));

		if (!p)
			return x->err = -ENOMEM;
		x->r->e = p;
	}
	s = key_printable(key, klen);
	if (!s)
		return x->err = -ENOMEM;
	e = &x->r->e[x->r->n++];
	e->key = s;
	e->klen = klen;
	e->vlen = vlen;
	return 0;
}

static int dump_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dump_entry *)a)->key, ((const struct dump_entry *)b)->key);
}

int cmd_dump(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format, *set;
		unsigned int limit;
	} cfg = { .output_format = "normal" };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		{ "limit", 'n', OPT_UINT, &cfg.limit, "N", "at most N keys (default: all)" },
		{ "set", 0, OPT_STR, &cfg.set, "\"K=V ...\"", "more libfdpkv configuration keys" },
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "URI",
		"Open a cache without changing it and list its live keys (bytes outside\n"
		"printable ASCII as \\xNN, sorted) with their value sizes.", opts };
	const struct print_ops *ops = print_ops_get(OUT_NORMAL);
	struct dump_result res;
	struct dump_ctx x;
	struct fdpkv_config fc;
	struct fdpkv_cache *c = NULL;
	const char *uri = NULL;
	char err[ERR_LEN];
	unsigned int i;
	int rc, ret;

	memset(&res, 0, sizeof(res));
	rc = cache_begin(argc, argv, &spec, &uri, &cfg.output_format, &ops);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = 1;
	if (cache_config(&fc, uri, cfg.set, FDPKV_FORMAT_NEVER, err, sizeof(err)))
		return print_fail(ops, cmd->name, uri, "%s", err);
	fc.format = FDPKV_FORMAT_NEVER;
	ret = fdpkv_open(&fc, &c, err, sizeof(err));
	if (ret)
		return print_fail(ops, cmd->name, uri, "%s", err);
	res.uri = uri;
	fdpkv_usage(c, &res.usage);
	x = (struct dump_ctx){ .r = &res, .limit = cfg.limit };
	fdpkv_foreach_key(c, dump_one, &x);
	if (x.err) {
		rc = print_fail(ops, cmd->name, uri, "%s", strerror(-x.err));
		goto out;
	}
	if (res.n)
		qsort(res.e, res.n, sizeof(*res.e), dump_cmp);
	ops->dump(&res);
	rc = 0;
out:
	for (i = 0; i < res.n; i++)
		free(res.e[i].key);
	free(res.e);
	fdpkv_close(c);
	return rc;
}

/* --- bench --------------------------------------------------------------------- */

struct slot {
	bool busy;
	double start;
	enum fdpkv_op op;
	struct fdpkv_key *keys;
	char (*keybuf)[48];
	struct fdpkv_buf *bufs;
};

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

int cmd_bench(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format, *workload, *set, *format;
		unsigned int ops, batch, qd, read_pct;
		uint64_t size, keys;
		bool progress;
	} cfg = { .output_format = "normal", .workload = "mixed", .format = "auto", .ops = 1000,
		  .batch = 8, .qd = 4, .read_pct = 50, .size = 256 << 10 };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		{ "workload", 'w', OPT_STR, &cfg.workload, "W", "fill (sets), read (gets) or mixed (default)" },
		{ "ops", 'n', OPT_UINT, &cfg.ops, "N", "batches to run (default 1000)" },
		{ "batch", 'b', OPT_UINT, &cfg.batch, "B", "keys per batch (default 8)" },
		{ "qd", 'q', OPT_UINT, &cfg.qd, "Q", "batches in flight (default 4)" },
		{ "size", 's', OPT_SIZE, &cfg.size, "SIZE", "value size (default 256K)" },
		{ "keys", 'k', OPT_SIZE, &cfg.keys, "N", "key space (default: ops x batch)" },
		{ "read-pct", 'r', OPT_UINT, &cfg.read_pct, "P", "mixed: percent of batches that get (default 50)" },
		{ "format", 'F', OPT_STR, &cfg.format, "MODE", "never|auto|always (default auto)" },
		{ "set", 0, OPT_STR, &cfg.set, "\"K=V ...\"", "more libfdpkv configuration keys" },
		{ "progress", 'P', OPT_FLAG, &cfg.progress, NULL, "print progress to stderr every second" },
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "URI",
		"Run a workload against a cache and report throughput, per-batch latency\n"
		"percentiles, hits and misses, and the device write amplification where\n"
		"the backend reports media writes (sim:). fill stores keys in order,\n"
		"read gets random keys, mixed does both. Values carry a pattern.", opts };
	const struct print_ops *ops = print_ops_get(OUT_NORMAL);
	struct fdpkv_completion comp[16];
	struct bench_result res;
	struct fdpkv_config fc;
	struct fdpkv_cache *c = NULL;
	struct slot *slots = NULL;
	double *lat = NULL, t0, last = 0;
	unsigned long long seed = 0x9e3779b97f4a7c15ull, seq = 0;
	uint64_t submitted = 0, done = 0, h0 = 0, m0 = 0;
	const char *uri = NULL;
	char err[ERR_LEN];
	unsigned int i, j;
	int rc, ret, wl;

	memset(&res, 0, sizeof(res));
	rc = cache_begin(argc, argv, &spec, &uri, &cfg.output_format, &ops);
	if (rc)
		return rc < 0 ? 0 : rc;
	wl = !strcmp(cfg.workload, "fill") ? 0 : !strcmp(cfg.workload, "read") ? 1 :
	     !strcmp(cfg.workload, "mixed") ? 2 : -1;
	if (wl < 0 || !cfg.ops || !cfg.batch || cfg.batch > 4096 || !cfg.qd || cfg.qd > 256 ||
	    !cfg.size || cfg.read_pct > 100) {
		fprintf(stderr, "%s %s: %s\n", PROG, cmd->name,
			wl < 0 ? "--workload must be fill, read or mixed" :
			"--ops, --size >= 1, --batch 1..4096, --qd 1..256, --read-pct 0..100");
		opts_usage(stderr, &spec);
		return 1;
	}
	if (cache_config(&fc, uri, cfg.set, FDPKV_FORMAT_AUTO, err, sizeof(err)) ||
	    fdpkv_config_set(&fc, "format", cfg.format, err, sizeof(err)))
		return print_fail(ops, cmd->name, uri, "%s", err);
	rc = 1;
	if (!cfg.keys)
		cfg.keys = (uint64_t)cfg.ops * cfg.batch;
	ret = fdpkv_open(&fc, &c, err, sizeof(err));
	if (ret)
		return print_fail(ops, cmd->name, uri, "%s", err);
	slots = calloc(cfg.qd, sizeof(*slots));
	lat = calloc(cfg.ops, sizeof(*lat));
	if (!slots || !lat)
		goto nomem;
	for (i = 0; i < cfg.qd; i++) {
		slots[i].keys = calloc(cfg.batch, sizeof(*slots[i].keys));
		slots[i].keybuf = calloc(cfg.batch, sizeof(*slots[i].keybuf));
		slots[i].bufs = calloc(cfg.batch, sizeof(*slots[i].bufs));
		if (!slots[i].keys || !slots[i].keybuf || !slots[i].bufs)
			goto nomem;
		for (j = 0; j < cfg.batch; j++) {
			slots[i].bufs[j].len = cfg.size;
			slots[i].bufs[j].base = malloc(cfg.size);
			if (!slots[i].bufs[j].base)
				goto nomem;
			memset(slots[i].bufs[j].base, (int)(0x5a + j), cfg.size);
		}
	}
	res.uri = uri;
	res.workload = cfg.workload;
	res.ops = cfg.ops;
	res.batch = cfg.batch;
	res.value_size = cfg.size;
	res.keys = cfg.keys;
	res.qd = cfg.qd;
	h0 = dev_bytes(c, fc.ndevices, false);
	m0 = dev_bytes(c, fc.ndevices, true);
	t0 = now_s();
	while (done < cfg.ops) {
		int n;

		for (i = 0; i < cfg.qd && submitted < cfg.ops; i++) {
			struct slot *s = &slots[i];
			uint64_t id;
			bool get;

			if (s->busy)
				continue;
			get = wl == 1 || (wl == 2 && rnd(&seed) % 100 < cfg.read_pct);
			for (j = 0; j < cfg.batch; j++) {
				unsigned long long k = wl == 0 ? seq++ % cfg.keys : rnd(&seed) % cfg.keys;

				snprintf(s->keybuf[j], sizeof(s->keybuf[j]), KEY_FMT, k);
				s->keys[j].data = s->keybuf[j];
				s->keys[j].len = (uint32_t)strlen(s->keybuf[j]);
			}
			s->op = get ? FDPKV_OP_GET : FDPKV_OP_SET;
			s->start = now_s();
			ret = fdpkv_submit(c, s->op, cfg.batch, s->keys, s->bufs, s, &id);
			if (ret) {
				rc = print_fail(ops, cmd->name, uri, "submit: %s", strerror(-ret));
				goto out;
			}
			s->busy = true;
			submitted++;
		}
		fdpkv_wait(c, 1000);
		while ((n = fdpkv_drain(c, comp, 16)) > 0) {
			for (i = 0; i < (unsigned int)n; i++) {
				struct slot *s = comp[i].user_data;

				lat[done++] = (now_s() - s->start) * 1e6;
				for (j = 0; j < comp[i].nkeys; j++) {
					if (s->op == FDPKV_OP_SET) {
						if (comp[i].status[j])
							res.errors++;
						else
							res.bytes_written += cfg.size;
					} else if (comp[i].status[j] == -ENOENT) {
						res.misses++;
					} else if (comp[i].status[j]) {
						res.errors++;
					} else {
						res.hits++;
						res.bytes_read += comp[i].value_len[j];
					}
				}
				s->busy = false;
				fdpkv_completion_release(&comp[i]);
			}
		}
		if (cfg.progress && now_s() - last >= 1.0) {
			last = now_s();
			fprintf(stderr, "bench: %llu/%u batches, %.1f MiB/s\n", (unsigned long long)done,
				cfg.ops, (double)(res.bytes_written + res.bytes_read) / 1048576.0 /
				(last - t0 > 0 ? last - t0 : 1));
		}
	}
	res.seconds = now_s() - t0;
	res.host_bytes = dev_bytes(c, fc.ndevices, false) - h0;
	res.media_bytes = dev_bytes(c, fc.ndevices, true) - m0;
	qsort(lat, done, sizeof(*lat), dbl_cmp);
	res.lat_us[0] = lat[(done - 1) * 50 / 100];
	res.lat_us[1] = lat[(done - 1) * 90 / 100];
	res.lat_us[2] = lat[(done - 1) * 99 / 100];
	res.lat_us[3] = lat[done - 1];
	ops->bench(&res);
	rc = 0;
	goto out;
nomem:
	rc = print_fail(ops, cmd->name, uri, "out of memory");
out:
	fdpkv_close(c);	/* waits for whatever is still in flight */
	for (i = 0; slots && i < cfg.qd; i++) {
		for (j = 0; slots[i].bufs && j < cfg.batch; j++)
			free(slots[i].bufs[j].base);
		free(slots[i].bufs);
		free(slots[i].keys);
		free(slots[i].keybuf);
	}
	free(slots);
	free(lat);
	return rc;
}
