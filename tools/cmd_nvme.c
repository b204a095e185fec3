// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkvctl's read-mostly device commands: list, info, ruh-status, ruh-update,
 * stats, events. Each one: config with defaults, option table, parse,
 * validate -o, work, one out: label.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libnvme.h>

#include "fdpkvctl.h"

/* validate -o and open the namespace; 0 or the exit code */
static int ns_open(const struct cmd_spec *spec, const char *dev_path, const char *fmt,
		   const struct print_ops **ops, struct dev *d)
{
	enum out_fmt f = OUT_NORMAL;
	char err[ERR_LEN];

	d->fd = -1;
	if (validate_output_format(fmt, &f)) {
		fprintf(stderr, "%s %s: invalid output format '%s' (normal|json)\n", PROG,
			spec->name, fmt);
		opts_usage(stderr, spec);
		return 1;
	}
	*ops = print_ops_get(f);
	if (dev_open_ns(d, dev_path, err, sizeof(err)))
		return print_fail(*ops, spec->name, dev_path, "%s", err);
	return 0;
}

/* --- list ------------------------------------------------------------------ */

/* the cache column: the superblocks of the ng node, read by fdpkv_probe */
static void list_probe_cache(struct list_entry *e)
{
	char uri[80], err[ERR_LEN];
	int ret;

	if (!e->generic[0])
		return;
	snprintf(uri, sizeof(uri), "ng:%s", e->generic);
	ret = fdpkv_probe(uri, &e->probe, err, sizeof(err));
	if (ret) {
		if (!e->error[0])
			snprintf(e->error, sizeof(e->error), "cache probe: %.480s", err);
		return;
	}
	e->cache = e->probe.formatted ? "yes" : e->probe.damaged ? "damaged" : "no";
}

static void list_probe(struct list_entry *e)
{
	struct dev d = { .fd = -1 };
	bool en = false;
	unsigned int idx = 0;
	char err[ERR_LEN];

	e->fdp_supported = e->fdp_enabled = TRI_UNKNOWN;
	e->fdp_config_index = -1;
	e->cache = "unknown";
	/* before the admin commands: unprivileged users get bdev: or fdpkv: */
	if (fdpkv_resolve_device(e->device, e->uri, sizeof(e->uri), err, sizeof(err)))
		e->uri[0] = '\0';
	if (dev_open_ns(&d, e->device, err, sizeof(err))) {
		snprintf(e->error, sizeof(e->error), "%s", err);
		dev_close(&d);
		return;
	}
	list_probe_cache(e);
	e->nsid = d.nsid;
	ctrl_strings(d.ctrl, e->model, e->serial, NULL);
	e->fdp_supported = ctrl_fdp_supported(d.ctrl) ? TRI_YES : TRI_NO;
	e->lba_size = d.lba_size;
	e->nsze = le64_to_cpu(d.ns->nsze);
	if (e->fdp_supported == TRI_YES) {
		int ret = fdp_get_feature(d.fd, d.endgid, &en, &idx);

		if (!ret) {
			e->fdp_enabled = en ? TRI_YES : TRI_NO;
			e->fdp_config_index = en ? (int)idx : -1;
		} else {
			nvme_strerr(e->error, sizeof(e->error), "Get Features 0x1D", ret);
		}
	} else {
		e->fdp_enabled = TRI_NO;
	}
	dev_close(&d);
}

static int name_cmp(const void *a, const void *b)
{
	const struct list_entry *x = a, *y = b;

	return strverscmp(x->device, y->device);
}

int cmd_list(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format;
		const char *sysfs;
	} cfg = { .output_format = "normal", .sysfs = "/sys/block" };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		{ "sysfs", 0, OPT_STR, &cfg.sysfs, "DIR", "where to look for nvme block devices (default /sys/block)" },
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, NULL,
		"List NVMe namespaces (nvmeXnY in /sys/block, multipath heads included,\n"
		"hidden paths skipped) with FDP support (Identify Controller CTRATT bit 19),\n"
		"FDP state (Get Features 0x1D), LBA size and capacity, and whether the\n"
		"generic node (ngXnY) holds an fdpkv cache (its superblocks, read by\n"
		"fdpkv_probe). Opening the devices needs root; fields that could not be\n"
		"read are shown as unknown.", opts };
	struct list_result res = { 0, NULL };
	const struct print_ops *ops;
	enum out_fmt f = OUT_NORMAL;
	struct dirent *de;
	regex_t re;
	DIR *dir = NULL;
	int ret, rc = 1;
	unsigned int cap = 0;

	ret = opts_parse(argc, argv, &spec, NULL);
	if (ret)
		return ret > 0 ? 0 : 1;
	if (validate_output_format(cfg.output_format, &f)) {
		fprintf(stderr, "%s list: invalid output format '%s' (normal|json)\n", PROG,
			cfg.output_format);
		opts_usage(stderr, &spec);
		return 1;
	}
	ops = print_ops_get(f);
	if (regcomp(&re, "^nvme[0-9]+n[0-9]+$", REG_EXTENDED | REG_NOSUB))
		return print_fail(ops, cmd->name, NULL, "regcomp failed");
	dir = opendir(cfg.sysfs);
	if (!dir) {
		rc = print_fail(ops, cmd->name, NULL, "%s: %s", cfg.sysfs, strerror(errno));
		goto out;
	}
	while ((de = readdir(dir))) {
		struct list_entry *e;
		char path[64];
		struct stat st;

		if (regexec(&re, de->d_name, 0, NULL, 0))
			continue;
		if (res.n == cap) {
			void *p = realloc(res.e, (cap = cap ? 2 * cap : 8) * sizeof(*res.e));

			if (!p) {
				rc = print_fail(ops, cmd->name, NULL, "out of memory");
				goto out;
			}
			res.e = p;
		}
		e = &res.e[res.n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->device, sizeof(e->device), "/dev/%.40s", de->d_name);
		snprintf(path, sizeof(path), "/dev/ng%.40s", de->d_name + 4);
		if (!stat(path, &st))
			snprintf(e->generic, sizeof(e->generic), "%.50s", path);
		list_probe(e);
	}
	if (res.n)
		qsort(res.e, res.n, sizeof(*res.e), name_cmp);
	ops->list(&res);
	rc = 0;
out:
	if (dir)
		closedir(dir);
	regfree(&re);
	free(res.e);
	return rc;
}

/* --- info ------------------------------------------------------------------- */

int cmd_info(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format;
	} cfg = { .output_format = "normal" };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "DEV",
		"Show a namespace's LBA format and capacity, its controller's FDP support\n"
		"and state, and every FDP configuration (log page 0x20): reclaim groups,\n"
		"reclaim unit size, handles with their type and (for the configuration in\n"
		"use) their usage from log page 0x21. DEV is /dev/ngXnY or /dev/nvmeXnY.", opts };
	struct info_result res;
	const struct print_ops *ops = print_ops_get(OUT_NORMAL);
	const char *path = NULL;
	struct dev d = { .fd = -1 };
	char err[ERR_LEN];
	bool en = false;
	unsigned int idx = 0;
	int ret, rc;

	memset(&res, 0, sizeof(res));
	d.fd = -1;
	ret = opts_parse(argc, argv, &spec, &path);
	if (ret)
		return ret > 0 ? 0 : 1;
	rc = ns_open(&spec, path, cfg.output_format, &ops, &d);
	if (rc)
		goto out;
	rc = 1;
	res.ns.device = path;
	res.ns.nsid = d.nsid;
	ctrl_strings(d.ctrl, res.ns.model, res.ns.serial, res.ns.firmware);
	res.ns.cntlid = le16_to_cpu(d.ctrl->cntlid);
	res.ns.endgid = d.endgid;
	res.ns.lba_size = ns_lba_size(d.ns, &res.ns.lbaf, &res.ns.ms);
	res.ns.nsze = le64_to_cpu(d.ns->nsze);
	res.ns.ncap = le64_to_cpu(d.ns->ncap);
	res.ns.nuse = le64_to_cpu(d.ns->nuse);
	res.ns.dlfeat = d.ns->dlfeat;
	res.ns.fdp_supported = ctrl_fdp_supported(d.ctrl);
	res.ns.fdp_enabled = TRI_NO;
	res.ns.fdp_config_index = -1;
	if (res.ns.fdp_supported) {
		ret = fdp_get_feature(d.fd, d.endgid, &en, &idx);
		if (ret) {
			rc = print_fail(ops, cmd->name, path, "%s",
					nvme_strerr(err, sizeof(err), "Get Features 0x1D (FDP)", ret));
			goto out;
		}
		res.ns.fdp_enabled = en ? TRI_YES : TRI_NO;
		res.ns.fdp_config_index = en ? (int)idx : -1;
		ret = fdp_read_configs(d.fd, d.endgid, &res.configs, &res.nconfigs);
		if (ret) {
			rc = print_fail(ops, cmd->name, path, "%s",
					nvme_strerr(err, sizeof(err),
						    "Get Log Page 0x20 (FDP configurations)", ret));
			goto out;
		}
	}
	ops->info(&res);
	rc = 0;
out:
	fdp_free_configs(res.configs, res.nconfigs);
	dev_close(&d);
	return rc;
}

/* --- ruh-status --------------------------------------------------------------- */

/* RU size and RGIF of the configuration in use, or 0 when unknown */
static void current_config(struct dev *d, uint64_t *runs, unsigned int *rgif)
{
	struct fdp_config *c = NULL;
	unsigned int n = 0, i;

	*runs = 0;
	*rgif = 0;
	if (fdp_read_configs(d->fd, d->endgid, &c, &n))
		return;
	for (i = 0; i < n; i++)
		if (c[i].in_use) {
			*runs = c[i].runs;
			*rgif = c[i].rgif;
		}
	fdp_free_configs(c, n);
}

int cmd_ruh_status(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format;
	} cfg = { .output_format = "normal" };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "DEV",
		"Show the Reclaim Unit Handle Status (I/O Management Receive) of every\n"
		"placement identifier of a namespace: its reclaim group, placement handle,\n"
		"RUH id, and RU Available Media Writes as LBAs, bytes and % of the RU size.", opts };
	struct ruhs_result res;
	const struct print_ops *ops = print_ops_get(OUT_NORMAL);
	const char *path = NULL;
	unsigned int rgif = 0;
	char err[ERR_LEN];
	struct dev d = { .fd = -1 };
	int ret, rc;

	memset(&res, 0, sizeof(res));
	d.fd = -1;
	ret = opts_parse(argc, argv, &spec, &path);
	if (ret)
		return ret > 0 ? 0 : 1;
	rc = ns_open(&spec, path, cfg.output_format, &ops, &d);
	if (rc)
		goto out;
	rc = 1;
	res.device = path;
	res.nsid = d.nsid;
	res.lba_size = d.lba_size;
	current_config(&d, &res.runs, &rgif);
	ret = fdp_ruh_status(d.fd, d.nsid, rgif, &res.e, &res.n);
	if (ret) {
		rc = print_fail(ops, cmd->name, path, "%s",
				nvme_strerr(err, sizeof(err), "I/O Management Receive (RUH Status)", ret));
		goto out;
	}
	ops->ruh_status(&res);
	rc = 0;
out:
	free(res.e);
	dev_close(&d);
	return rc;
}

/* --- ruh-update ----------------------------------------------------------------- */

int cmd_ruh_update(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format;
		const char *pids;
	} cfg = { .output_format = "normal", .pids = NULL };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		{ "pid", 'p', OPT_STR, &cfg.pids, "N[,M...]", "placement identifiers to update (required)" },
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "DEV",
		"Reclaim Unit Handle Update (I/O Management Send): move the handle of each\n"
		"listed placement identifier to an empty reclaim unit. A partly written RU\n"
		"is left behind (host event \"RU not fully written\" when enabled).", opts };
	uint16_t pids[MAX_PIDS];
	struct ruhu_result res;
	const struct print_ops *ops = print_ops_get(OUT_NORMAL);
	const char *path = NULL;
	char err[ERR_LEN];
	struct dev d = { .fd = -1 };
	int n, ret, rc;

	memset(&res, 0, sizeof(res));
	d.fd = -1;
	ret = opts_parse(argc, argv, &spec, &path);
	if (ret)
		return ret > 0 ? 0 : 1;
	n = cfg.pids ? parse_u16_list(cfg.pids, pids, MAX_PIDS) : -1;
	if (n < 0) {
		fprintf(stderr, "%s %s: %s\n", PROG, cmd->name, cfg.pids ?
			"--pid needs a comma-separated list of up to 128 numbers 0..65535" :
			"--pid is required");
		opts_usage(stderr, &spec);
		return 1;
	}
	rc = ns_open(&spec, path, cfg.output_format, &ops, &d);
	if (rc)
		goto out;
	rc = 1;
	ret = nvme_fdp_reclaim_unit_handle_update(d.fd, d.nsid, (unsigned int)n, pids);
	if (ret) {
		rc = print_fail(ops, cmd->name, path, "%s",
				nvme_strerr(err, sizeof(err), "I/O Management Send (RUH Update)", ret));
		goto out;
	}
	res.device = path;
	res.nsid = d.nsid;
	res.n = (unsigned int)n;
	res.pids = pids;
	ops->ruh_update(&res);
	rc = 0;
out:
	dev_close(&d);
	return rc;
}

/* --- stats ------------------------------------------------------------------------ */

static int stats_save(const char *file, const struct stats_result *r, char *err, size_t len)
{
	char a[48], b[48], c[48], tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, len, "--save %s: %s", file, strerror(errno));
		return -1;
	}
	fprintf(f, "fdpkvctl-stats 1\ndevice %s\nendgid %u\ntime %lld\nhbmw %s\nmbmw %s\nmbe %s\n",
		r->device, r->endgid, (long long)time(NULL), u128_str(r->now.hbmw, a, sizeof(a)),
		u128_str(r->now.mbmw, b, sizeof(b)), u128_str(r->now.mbe, c, sizeof(c)));
	if (fclose(f) || rename(tmp, file)) {
		snprintf(err, len, "--save %s: %s", file, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int stats_load(const char *file, struct stats_result *r, char *err, size_t len)
{
	char line[256], key[32], val[200];
	unsigned int seen = 0;
	FILE *f = fopen(file, "r");

	if (!f) {
		snprintf(err, len, "--since %s: %s", file, strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), f) || strncmp(line, "fdpkvctl-stats 1", 16)) {
		fclose(f);
		snprintf(err, len, "--since %s: not a snapshot written by 'stats --save'", file);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%31s %199s", key, val) != 2)
			continue;
		if (!strcmp(key, "time"))
			r->since_time = strtoll(val, NULL, 10);
		else if (!strcmp(key, "hbmw") && !u128_parse(val, &r->since.hbmw))
			seen |= 1;
		else if (!strcmp(key, "mbmw") && !u128_parse(val, &r->since.mbmw))
			seen |= 2;
		else if (!strcmp(key, "mbe") && !u128_parse(val, &r->since.mbe))
			seen |= 4;
	}
	fclose(f);
	if (seen != 7) {
		snprintf(err, len, "--since %s: snapshot lacks hbmw/mbmw/mbe", file);
		return -1;
	}
	r->have_since = true;
	return 0;
}

int cmd_stats(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format;
		const char *save;
		const char *since;
	} cfg = { .output_format = "normal" };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		{ "save", 's', OPT_STR, &cfg.save, "FILE", "also write the counters to FILE" },
		{ "since", 'S', OPT_STR, &cfg.since, "FILE", "show the change since the snapshot in FILE" },
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "DEV",
		"Show the FDP statistics of the namespace's endurance group (log page\n"
		"0x22): Host Bytes with Metadata Written (HBMW), Media Bytes with Metadata\n"
		"Written (MBMW), Media Bytes Erased (MBE), and the write amplification\n"
		"they imply (MBMW/HBMW). --save/--since measure a workload: save before,\n"
		"read the delta after.", opts };
	struct stats_result res;
	const struct print_ops *ops = print_ops_get(OUT_NORMAL);
	const char *path = NULL;
	char err[ERR_LEN];
	struct dev d = { .fd = -1 };
	int ret, rc;

	memset(&res, 0, sizeof(res));
	d.fd = -1;
	ret = opts_parse(argc, argv, &spec, &path);
	if (ret)
		return ret > 0 ? 0 : 1;
	rc = ns_open(&spec, path, cfg.output_format, &ops, &d);
	if (rc)
		goto out;
	rc = 1;
	res.device = path;
	res.endgid = d.endgid;
	if (cfg.since && stats_load(cfg.since, &res, err, sizeof(err))) {
		rc = print_fail(ops, cmd->name, path, "%s", err);
		goto out;
	}
	ret = fdp_read_stats(d.fd, d.endgid, &res.now);
	if (ret) {
		rc = print_fail(ops, cmd->name, path, "%s",
				nvme_strerr(err, sizeof(err), "Get Log Page 0x22 (FDP statistics)", ret));
		goto out;
	}
	if (res.have_since && (res.now.hbmw < res.since.hbmw || res.now.mbmw < res.since.mbmw ||
			       res.now.mbe < res.since.mbe)) {
		rc = print_fail(ops, cmd->name, path,
				"counters are below the snapshot in %s (another device, or reset)",
				cfg.since);
		goto out;
	}
	if (cfg.save) {
		if (stats_save(cfg.save, &res, err, sizeof(err))) {
			rc = print_fail(ops, cmd->name, path, "%s", err);
			goto out;
		}
		res.saved_to = cfg.save;
	}
	ops->stats(&res);
	rc = 0;
out:
	dev_close(&d);
	return rc;
}

/* --- events ---------------------------------------------------------------------- */

/* Set Features 0x1E on every placement handle of the namespace */
static int events_enable(struct dev *d, const uint8_t *types, unsigned int ntypes, bool on,
			 unsigned int *handles, char *err, size_t len)
{
	struct ruhs_entry *e = NULL;
	unsigned int n = 0, i, k;
	uint8_t buf[256];
	int ret;

	ret = fdp_ruh_status(d->fd, d->nsid, 0, &e, &n);
	if (ret) {
		nvme_strerr(err, len, "I/O Management Receive (RUH Status)", ret);
		return -1;
	}
	memset(buf, 0, sizeof(buf));
	memcpy(buf, types, ntypes);
	*handles = 0;
	for (i = 0; i < n; i++) {
		uint16_t ph = (uint16_t)i;	/* placement handles are 0..nphndls-1 */
		struct nvme_set_features_args args = {
			.args_size = sizeof(args),
			.fd = d->fd,
			.timeout = NVME_DEFAULT_IOCTL_TIMEOUT,
			.nsid = d->nsid,
			.cdw11 = ph | (ntypes << 16),
			.cdw12 = on ? 1 : 0,
			.data = buf,
			.data_len = ntypes,
			.fid = NVME_FEAT_FID_FDP_EVENTS,
			.uuidx = NVME_UUID_NONE,
		};

		for (k = 0; k < i; k++)		/* PIDs of other RGs share the PH */
			if (e[k].ph == e[i].ph)
				break;
		if (k < i)
			continue;
		ret = nvme_set_features(&args);
		if (ret) {
			char what[64];

			snprintf(what, sizeof(what), "Set Features 0x1E (FDP events) on handle %u", ph);
			nvme_strerr(err, len, what, ret);
			free(e);
			return -1;
		}
		(*handles)++;
	}
	free(e);
	return 0;
}

static uint64_t ts_ms(const struct nvme_timestamp *t)
{
	uint64_t v = 0;
	int i;

	for (i = 5; i >= 0; i--)
		v = (v << 8) | t->timestamp[i];
	return v;
}

int cmd_events(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format;
		bool host, controller, enable, disable;
		const char *types;
	} cfg = { .output_format = "normal", .types = "0" };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		{ "host", 'H', OPT_FLAG, &cfg.host, NULL, "host events (the default)" },
		{ "controller", 'c', OPT_FLAG, &cfg.controller, NULL, "controller events" },
		{ "enable", 'e', OPT_FLAG, &cfg.enable, NULL,
		  "first enable event types on every placement handle (Set Features 0x1E)" },
		{ "disable", 'd', OPT_FLAG, &cfg.disable, NULL, "first disable them" },
		{ "types", 't', OPT_STR, &cfg.types, "T[,T...]",
		  "event types for --enable/--disable (default 0: RU not fully written)" },
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "DEV",
		"Show the FDP events log (log page 0x23) of the namespace's endurance\n"
		"group, host events by default, decoded with the event type names of\n"
		"libnvme's enum nvme_fdp_event_type. Events are only logged for types\n"
		"enabled per placement handle: --enable does that first.", opts };
	struct events_result res;
	const struct print_ops *ops = print_ops_get(OUT_NORMAL);
	struct nvme_fdp_events_log *log = NULL;
	uint16_t types16[32];
	uint8_t types[32];
	const char *path = NULL;
	char err[ERR_LEN];
	struct dev d = { .fd = -1 };
	int ret, rc, nt = 0, i;
	unsigned int k;

	memset(&res, 0, sizeof(res));
	d.fd = -1;
	ret = opts_parse(argc, argv, &spec, &path);
	if (ret)
		return ret > 0 ? 0 : 1;
	if ((cfg.host && cfg.controller) || (cfg.enable && cfg.disable)) {
		fprintf(stderr, "%s %s: %s are exclusive\n", PROG, cmd->name,
			cfg.enable && cfg.disable ? "--enable and --disable" : "--host and --controller");
		opts_usage(stderr, &spec);
		return 1;
	}
	if (cfg.enable || cfg.disable) {
		nt = parse_u16_list(cfg.types, types16, 32);
		for (i = 0; i < nt; i++)
			if (types16[i] > 0xff)
				nt = -1;
		if (nt < 0) {
			fprintf(stderr, "%s %s: --types needs event type numbers 0..255\n", PROG, cmd->name);
			opts_usage(stderr, &spec);
			return 1;
		}
		for (i = 0; i < nt; i++)
			types[i] = (uint8_t)types16[i];
	}
	rc = ns_open(&spec, path, cfg.output_format, &ops, &d);
	if (rc)
		goto out;
	rc = 1;
	res.device = path;
	res.endgid = d.endgid;
	res.host = !cfg.controller;
	if (cfg.enable || cfg.disable) {
		if (events_enable(&d, types, (unsigned int)nt, cfg.enable, &res.enabled_handles,
				  err, sizeof(err))) {
			rc = print_fail(ops, cmd->name, path, "%s", err);
			goto out;
		}
		res.enabled_now = cfg.enable;
		res.enabled_types = types;
		res.nenabled_types = (unsigned int)nt;
	}
	log = calloc(1, sizeof(*log));
	if (!log) {
		rc = print_fail(ops, cmd->name, path, "out of memory");
		goto out;
	}
	ret = nvme_get_log_fdp_events(d.fd, d.endgid, res.host, 0, sizeof(*log), log);
	if (ret) {
		rc = print_fail(ops, cmd->name, path, "%s",
				nvme_strerr(err, sizeof(err), "Get Log Page 0x23 (FDP events)", ret));
		goto out;
	}
	res.n = le32_to_cpu(log->n);
	if (res.n > 63)
		res.n = 63;
	res.e = calloc(res.n ? res.n : 1, sizeof(*res.e));
	if (!res.e) {
		rc = print_fail(ops, cmd->name, path, "out of memory");
		goto out;
	}
	for (k = 0; k < res.n; k++) {
		const struct nvme_fdp_event *ev = &log->events[k];
		struct event_entry *x = &res.e[k];

		x->type = ev->type;
		x->flags = ev->flags;
		x->pid = le16_to_cpu(ev->pid);
		x->nsid = le32_to_cpu(ev->nsid);
		x->rgid = le16_to_cpu(ev->rgid);
		x->ruhid = ev->ruhid;
		x->timestamp_ms = ts_ms(&ev->ts);
		if (ev->type == NVME_FDP_EVENT_REALLOC) {
			const struct nvme_fdp_event_realloc *ra = (const void *)ev->type_specific;

			x->nlbam = le16_to_cpu(ra->nlbam);
			x->lba = le64_to_cpu(ra->lba);
		}
	}
	ops->events(&res);
	rc = 0;
out:
	free(log);
	free(res.e);
	dev_close(&d);
	return rc;
}
