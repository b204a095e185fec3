// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkvctl's cache commands, on libfdpkv's public API only: format, fsck,
 * dump (bench is in cmd_bench.c). URI is what fdpkv_config's "devices" key takes: file:/path,
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

#include "fdpkvctl.h"

/* parse, validate -o; 0 to go on, else the exit code (-1: --help done) */
int cache_begin(int argc, char **argv, const struct cmd_spec *spec, const char **uri,
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
int cache_config(struct fdpkv_config *cfg, const char *uri, const char *set,
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
	/* auto: and bare paths: name the backend libfdpkv picks, so output says it */
	for (i = 0; i < cfg->ndevices; i++)
		if (fdpkv_resolve_device(cfg->devices[i], cfg->devices[i], sizeof(cfg->devices[i]),
					 err, len))
			return -1;
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

unsigned int cache_warn_shared_placement(struct fdpkv_cache *c, const char *cmd,
					 const struct fdpkv_config *cfg)
{
	struct fdpkv_placement_report r, first;
	unsigned int i, ndev = 0, total = 0, at = 0;

	for (i = 0; i < cfg->ndevices; i++) {
		if (fdpkv_placement_report(c, i, &r) || !r.shared_classes)
			continue;
		if (!ndev++) {
			first = r;
			at = i;
		}
		total += r.shared_classes;
	}
	if (!ndev)
		return 0;
	/*
	 * Once per command, not per device: the cause (too few handles for
	 * max_classes) is the same everywhere, and so is the fix.
	 */
	fprintf(stderr,
		"%s %s: warning: %s: %u of %u placement classes share %u placement handle%s "
		"(the device has %u)%s: their data mixes in reclaim units",
		PROG, cmd, cfg->devices[at], first.shared_classes, first.nclasses,
		first.shared_handles, first.shared_handles == 1 ? "" : "s", first.handles,
		ndev > 1 ? " (and on other devices)" : "");
	if (first.handles >= 3)
		fprintf(stderr, "; format with --set max_classes=%u to give every class its own",
			first.handles - 2);
	fputc('\n', stderr);
	return total;
}

static int fill_cache_result(struct fdpkv_cache *c, struct cache_result *r,
			     const struct fdpkv_config *cfg)
{
	unsigned int i, ndev = cfg->ndevices;

	r->ndev = ndev;
	for (i = 0; i < ndev; i++) {
		r->dev_uri[i] = cfg->devices[i];
		fdpkv_device_stats(c, i, &r->dev[i]);
		fdpkv_placement_report(c, i, &r->place[i]);
	}
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
	fill_cache_result(c, res, &fc);
	ops->cache(res);
	cache_warn_shared_placement(c, cmd->name, &fc);
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
	/* the one command that opens an existing cache without changing it */
	cache_warn_shared_placement(c, cmd->name, &fc);
	rc = 0;
out:
	for (i = 0; i < res.n; i++)
		free(res.e[i].key);
	free(res.e);
	fdpkv_close(c);
	return rc;
}
