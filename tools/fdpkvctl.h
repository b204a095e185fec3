/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fdpkvctl - the fdpkv admin tool. Shared declarations: the command table,
 * option parsing (opts.c), the JSON emitter (json.c), output formats and
 * print ops (print.c), NVMe device access (nvme_dev.c).
 *
 * Shape of every subcommand (nvme-cli's): a config struct with defaults, an
 * option table, opts_parse(), validate_output_format(), the work, one out:
 * label. Results and errors go only through struct print_ops; the command
 * returns 0 or 1 and main() exits with it.
 */
#ifndef FDPKVCTL_H
#define FDPKVCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <endian.h>

#include "fdpkv.h"

#define PROG		"fdpkvctl"
#define ERR_LEN		512
#define MAX_PIDS	128	/* NVME_FDP_MAXPIDS */
#define MAX_STEPS	64

typedef unsigned __int128 u128;

/* libnvme 1.3 keeps its endian helpers private */
#define le16_to_cpu(x)	le16toh((uint16_t)(x))
#define le32_to_cpu(x)	le32toh((uint32_t)(x))
#define le64_to_cpu(x)	le64toh((uint64_t)(x))

/* --- command table (fdpkvctl.c) ----------------------------------------- */

struct cmd {
	const char *name;
	const char *summary;
	int (*fn)(int argc, char **argv, const struct cmd *cmd);
};

int cmd_list(int argc, char **argv, const struct cmd *cmd);
int cmd_info(int argc, char **argv, const struct cmd *cmd);
int cmd_ruh_status(int argc, char **argv, const struct cmd *cmd);
int cmd_ruh_update(int argc, char **argv, const struct cmd *cmd);
int cmd_stats(int argc, char **argv, const struct cmd *cmd);
int cmd_events(int argc, char **argv, const struct cmd *cmd);
int cmd_provision(int argc, char **argv, const struct cmd *cmd);
int cmd_format(int argc, char **argv, const struct cmd *cmd);
int cmd_fsck(int argc, char **argv, const struct cmd *cmd);
int cmd_dump(int argc, char **argv, const struct cmd *cmd);
int cmd_bench(int argc, char **argv, const struct cmd *cmd);
int cmd_attach(int argc, char **argv, const struct cmd *cmd);
int cmd_detach(int argc, char **argv, const struct cmd *cmd);
int cmd_grants(int argc, char **argv, const struct cmd *cmd);
int cmd_policy(int argc, char **argv, const struct cmd *cmd);
int cmd_share(int argc, char **argv, const struct cmd *cmd);

/* --- options (opts.c) ---------------------------------------------------- */

enum opt_type {
	OPT_FLAG,	/* bool, no argument */
	OPT_STR,	/* const char * */
	OPT_UINT,	/* unsigned int, decimal or 0x */
	OPT_SIZE,	/* uint64_t, with K/M/G/T suffixes (powers of 1024) */
};

struct opt {
	const char *lname;
	char sname;		/* 0: long option only */
	enum opt_type type;
	void *ptr;
	const char *arg;	/* argument name in --help */
	const char *help;
};

#define OPT_END			{ NULL, 0, OPT_FLAG, NULL, NULL, NULL }
#define OPT_OUTPUT(p)		{ "output-format", 'o', OPT_STR, (p), "FMT", \
				  "output format: normal|json (default normal)" }

/*
 * struct cmd_spec - how a subcommand is called
 * @positional:	name of the one required positional argument, or NULL
 * @desc:	what it does, printed by --help
 */
struct cmd_spec {
	const char *name;
	const char *positional;
	const char *desc;
	const struct opt *opts;
};

/*
 * opts_parse - parse argv (argv[0] is the subcommand) against @spec.
 * Returns 0 with *@pos set to the positional argument (if any), 1 after
 * printing --help to stdout, -1 after printing the reason and the usage to
 * stderr.
 */
int opts_parse(int argc, char **argv, const struct cmd_spec *spec, const char **pos);
void opts_usage(FILE *f, const struct cmd_spec *spec);
int parse_size(const char *s, uint64_t *v);
int parse_uint(const char *s, unsigned long long max, unsigned long long *v);
/* "N[,M...]" into @out (at most @max); returns the count or -1 */
int parse_u16_list(const char *s, uint16_t *out, int max);

/* --- JSON emitter (json.c) ----------------------------------------------- */

struct json {
	FILE *f;
	int depth;
	bool first[32];
};

void json_init(struct json *j, FILE *f);
void json_obj_open(struct json *j, const char *key);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *v);	/* NULL: null */
void json_u64(struct json *j, const char *key, uint64_t v);
void json_u128(struct json *j, const char *key, u128 v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_bool(struct json *j, const char *key, bool v);
void json_double(struct json *j, const char *key, double v, int prec);
void json_null(struct json *j, const char *key);
void json_finish(struct json *j);

/* decimal text of a 128-bit counter */
const char *u128_str(u128 v, char *buf, size_t len);
int u128_parse(const char *s, u128 *v);

/* --- results ------------------------------------------------------------- */

enum tri { TRI_UNKNOWN = -1, TRI_NO = 0, TRI_YES = 1 };

struct list_entry {
	char device[64];		/* /dev/nvmeXnY */
	char generic[64];		/* /dev/ngXnY, "" if absent */
	char model[41], serial[21];
	uint32_t nsid;
	enum tri fdp_supported, fdp_enabled;
	int fdp_config_index;		/* -1 unknown */
	uint32_t lba_size;		/* 0 unknown */
	uint64_t nsze;			/* blocks */
	const char *cache;		/* "yes" | "no" | "damaged" | "unknown" */
	char uri[300];			/* what libfdpkv opens for auto:device, "" unknown */
	struct fdpkv_probe_info probe;	/* of the ng node, when cache is yes */
	char error[ERR_LEN];		/* why fields are unknown, "" if none */
};

struct list_result {
	unsigned int n;
	struct list_entry *e;
};

struct ruh_info {
	uint16_t ruhid;
	uint8_t type;			/* RUHT */
	int usage;			/* RUHA from log 0x21, -1 unknown */
};

struct fdp_config {
	unsigned int index;
	bool valid, vwc, in_use;
	unsigned int rgif;
	uint32_t nrg, nnss, erutl;
	uint16_t nruh, maxpids;
	uint64_t runs;
	struct ruh_info *ruhs;		/* nruh entries */
};

struct ns_info {
	const char *device;
	uint32_t nsid;
	char model[41], serial[21], firmware[9];
	uint16_t cntlid, endgid;
	bool fdp_supported;
	enum tri fdp_enabled;
	int fdp_config_index;
	unsigned int lbaf;
	uint32_t lba_size;
	uint16_t ms;
	uint64_t nsze, ncap, nuse;
	uint8_t dlfeat;		/* Identify Namespace DLFEAT */
};

struct info_result {
	struct ns_info ns;
	unsigned int nconfigs;
	struct fdp_config *configs;
};

struct ruhs_entry {
	uint16_t pid, ruhid, rgid, ph;
	uint32_t earutr;
	uint64_t ruamw;			/* LBAs */
};

struct ruhs_result {
	const char *device;
	uint32_t nsid, lba_size;
	uint64_t runs;			/* 0 unknown */
	unsigned int n;
	struct ruhs_entry *e;
};

struct ruhu_result {
	const char *device;
	uint32_t nsid;
	unsigned int n;
	const uint16_t *pids;
};

struct stats_counters {
	u128 hbmw, mbmw, mbe;
};

struct stats_result {
	const char *device;
	uint16_t endgid;
	struct stats_counters now;
	bool have_since;
	struct stats_counters since;	/* the snapshot */
	int64_t since_time;		/* unix seconds of the snapshot */
	const char *saved_to;		/* NULL unless --save */
};

/* FDP event flags (libnvme's enum nvme_fdp_event_flags) */
#define EVF_PIV		0x1	/* placement identifier valid */
#define EVF_NSIDV	0x2	/* namespace identifier valid */
#define EVF_LV		0x4	/* location (RG, RUH) valid */

struct event_entry {
	uint8_t type, flags;
	uint16_t pid, rgid;
	uint8_t ruhid;
	uint32_t nsid;
	uint64_t timestamp_ms;
	uint16_t nlbam;			/* media reallocated only */
	uint64_t lba;
};

struct events_result {
	const char *device;
	uint16_t endgid;
	bool host;
	bool enabled_now;		/* --enable was run */
	unsigned int enabled_handles;
	const uint8_t *enabled_types;
	unsigned int nenabled_types;
	unsigned int n;
	struct event_entry *e;
};

enum step_state { STEP_PLANNED, STEP_DONE, STEP_FAILED, STEP_SKIPPED, STEP_NOT_RUN };

struct prov_step {
	const char *action;	/* detach|delete|set-features|create|attach|rescan */
	char desc[160];
	enum step_state state;
	char detail[200];
};

struct prov_result {
	const char *device;
	bool force, delete_first;
	uint16_t endgid, cntlid;
	uint64_t size_bytes;
	uint32_t lba_size;
	unsigned int handles, config_index;
	enum tri fdp_enabled;
	int cur_config_index;
	unsigned int nexisting;
	uint32_t existing[64];
	uint32_t created_nsid;		/* 0 none */
	unsigned int nsteps;
	struct prov_step steps[MAX_STEPS];
	const char *outcome;		/* planned|done|refused|failed */
	char error[2 * ERR_LEN];	/* "" on success */
};

/* format and fsck: what the opened cache holds */
struct cache_result {
	const char *command;		/* "format" | "fsck" */
	const char *uri;
	unsigned int ndev;
	const char *dev_uri[FDPKV_MAX_DEVICES];	/* what each device opened as (auto: resolved) */
	struct fdpkv_device_stats dev[FDPKV_MAX_DEVICES];
	struct fdpkv_stats st;
	struct fdpkv_usage usage;
	struct fdpkv_placement_report place[FDPKV_MAX_DEVICES];
	bool clean;			/* fsck: no corrupt objects, no I/O errors */
};

/* fsck: one damage, as fdpkv_fsck reported it */
struct fsck_damage {
	enum fdpkv_damage_kind kind;
	unsigned int dev;
	int64_t segment;		/* -1: superblock */
	uint64_t offset, length;
	char *key;			/* printable, NULL when unknown */
	char reason[200];
	bool repaired;
};

struct fsck_result {
	const char *uri;
	bool repair;
	struct fdpkv_fsck_report rep;
	unsigned int n;
	struct fsck_damage *e;
	const char *result;		/* "clean" | "repaired" | "damaged" */
};

const char *fsck_kind_name(enum fdpkv_damage_kind k);
/* @klen bytes of @key with bytes outside printable ASCII as \xNN; malloc'd */
char *key_printable(const void *key, uint32_t klen);
struct print_ops;

/* cmd_cache.c, shared with cmd_bench.c: parse and validate -o (0 to go on,
 * -1 after --help, else the exit code); a config for a URI plus --set */
int cache_begin(int argc, char **argv, const struct cmd_spec *spec, const char **uri,
		const char *const *fmt, const struct print_ops **ops);
int cache_config(struct fdpkv_config *cfg, const char *uri, const char *set,
		 enum fdpkv_format_mode mode, char *err, size_t len);
/* one warning on stderr when classes of @c share a placement handle; how many do */
unsigned int cache_warn_shared_placement(struct fdpkv_cache *c, const char *cmd,
					 const struct fdpkv_config *cfg);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
const char *uuid_str(const uint8_t *uuid, char *buf, size_t len);

struct dump_entry {
	char *key;			/* printable: other bytes as \xNN */
	uint32_t klen;
	uint64_t vlen;
};

struct dump_result {
	const char *uri;
	struct fdpkv_usage usage;
	unsigned int n;
	bool truncated;			/* --limit reached */
	struct dump_entry *e;
};

/* bench: latency of one op type, per batch, in microseconds */
struct bench_lat {
	uint64_t batches;		/* 0: none of this type ran */
	double p50, p90, p99, p999, max;
};

/* bench: log 0x22 of the endurance groups under the ng: devices, deltas */
struct bench_fdp {
	unsigned int groups;		/* endurance groups read (0: none) */
	u128 hbmw, mbmw, mbe;		/* host/media bytes written, media erased */
};

struct bench_result {
	const char *uri, *workload, *size_dist, *csv;
	uint64_t ops, batch, size_min, size_max, keys;	/* ops: batches done */
	unsigned int qd, threads, read_pct, duration, fill_pct;
	uint64_t max_ops;		/* 0: no limit */
	uint64_t prefill_keys, prefill_bytes;
	double prefill_seconds;
	double seconds;
	uint64_t sets, gets;		/* keys */
	uint64_t bytes_written, bytes_read, hits, misses, errors;
	uint64_t evicted_objects, evicted_segments;
	struct bench_lat lat[2];	/* [0] set, [1] get */
	struct fdpkv_usage usage;	/* at the end */
	uint64_t host_bytes, media_bytes;	/* libfdpkv's device counters over the run */
	const char *waf_source;		/* "sim", "fdp" (log 0x22) or NULL */
	double waf;			/* valid when waf_source */
	bool have_fdp;
	struct bench_fdp fdp;
};

/* --- print ops (print.c) -------------------------------------------------- */

enum out_fmt { OUT_NORMAL, OUT_JSON };

struct fdpkv_ns_attach;
struct fdpkv_ns_entry;
struct fdpkv_ph_entry;
struct fdpkv_lease_entry;

/* attach, detach, grants: what the module answered */
#define SHARE_MAX_PIDS	64	/* placement ids one `share` call takes */

struct module_result {
	const char *what;			/* "attached", "detached", "grants", "policy",
					   "shared" */
	const char *device;
	const struct fdpkv_ns_attach *attach;	/* attached */
	uint32_t detached_ns;			/* detached */
	const struct fdpkv_ns_entry *ns;	/* grants */
	const struct fdpkv_ph_entry *ph;
	const struct fdpkv_lease_entry *leases;
	uint32_t nns, nph, nleases;
	const struct fdpkv_ns_policy *policy;	/* policy */
	uint32_t share_ns;			/* shared */
	bool share_off;				/* made exclusive again */
	uint16_t share_pids[SHARE_MAX_PIDS];	/* handles, or none for an extent */
	uint32_t nshare_pids;
	uint64_t share_slba, share_nlb;		/* the extent (nlb 0: handles) */
};

struct print_ops {
	void (*module)(const struct module_result *r);
	void (*list)(const struct list_result *r);
	void (*info)(const struct info_result *r);
	void (*ruh_status)(const struct ruhs_result *r);
	void (*ruh_update)(const struct ruhu_result *r);
	void (*stats)(const struct stats_result *r);
	void (*events)(const struct events_result *r);
	void (*provision)(const struct prov_result *r);
	void (*cache)(const struct cache_result *r);
	void (*fsck)(const struct fsck_result *r);
	void (*dump)(const struct dump_result *r);
	void (*bench)(const struct bench_result *r);
	void (*error)(const char *cmd, const char *dev, const char *msg);
};

/* "normal" or "json"; returns 0, or -1 and leaves *f alone */
int validate_output_format(const char *s, enum out_fmt *f);
const struct print_ops *print_ops_get(enum out_fmt f);

/* report an error through @ops and return 1 (the exit code) */
__attribute__((format(printf, 4, 5)))
int print_fail(const struct print_ops *ops, const char *cmd, const char *dev,
	       const char *fmt, ...);

const char *fdp_event_name(uint8_t type);
const char *ruht_name(uint8_t ruht);
const char *ruha_name(int ruha);

/* --- native NVMe multipath (nvme_mpath.c) --------------------------------- */

struct nvme_mpath {
	char		disk[32];	/* nvmeXnY */
	char		subsys[32];	/* nvme-subsysX */
	char		paths[128];	/* its controllers, "nvme0 nvme1" */
	unsigned int	nr_paths;
};

/*
 * Whether block device @blkdev is a native-multipath head node (@sysfs is
 * normally "/sys/block"): 1 and @m filled, 0 if not, or a negative errno.
 */
int nvme_mpath_head(const char *blkdev, const char *sysfs, struct nvme_mpath *m);

/* --- NVMe device access (nvme_dev.c) --------------------------------------- */

struct nvme_id_ctrl;
struct nvme_id_ns;

/*
 * struct dev - an open NVMe namespace (/dev/ngXnY, /dev/nvmeXnY) or
 * controller (/dev/nvmeX). Admin commands go through the same fd: the kernel
 * forwards them from a namespace node to its controller.
 */
struct dev {
	const char *path;
	int fd;
	uint32_t nsid;			/* 0 for a controller */
	struct nvme_id_ctrl *ctrl;
	struct nvme_id_ns *ns;		/* NULL for a controller */
	uint16_t endgid;
	uint32_t lba_size;
};

/* Open a namespace; 0, or -1 with a one-line reason in @err. */
int dev_open_ns(struct dev *d, const char *path, char *err, size_t len);
/* Open a controller character device (/dev/nvmeX). */
int dev_open_ctrl(struct dev *d, const char *path, char *err, size_t len);
void dev_close(struct dev *d);

/*
 * nvme_strerr - describe a libnvme return value (> 0 NVMe status, < 0 with
 * errno set) as "WHAT: NVMe status 0xNNN (text)" or "WHAT: strerror".
 */
const char *nvme_strerr(char *buf, size_t len, const char *what, int ret);

bool ctrl_fdp_supported(const struct nvme_id_ctrl *c);
void ctrl_strings(const struct nvme_id_ctrl *c, char *model, char *serial, char *fw);
uint32_t ns_lba_size(const struct nvme_id_ns *ns, unsigned int *lbaf, uint16_t *ms);

/* Get Features 0x1D; returns the libnvme result, fills @enabled/@index */
int fdp_get_feature(int fd, uint16_t endgid, bool *enabled, unsigned int *index);
/*
 * Read log 0x20 (header first, then whole) and decode it into a malloc'd
 * array; returns the libnvme result and sets *@n. Also reads log 0x21 to fill
 * each handle's usage when the device answers it.
 */
int fdp_read_configs(int fd, uint16_t endgid, struct fdp_config **cfgs, unsigned int *n);
void fdp_free_configs(struct fdp_config *cfgs, unsigned int n);
/* RUH Status (I/O Management Receive), header first; malloc'd entries */
int fdp_ruh_status(int fd, uint32_t nsid, unsigned int rgif, struct ruhs_entry **e,
		   unsigned int *n);
int fdp_read_stats(int fd, uint16_t endgid, struct stats_counters *s);
/* RU nominal size of the FDP configuration in use on namespace @path; 0 or -1 */
int fdp_ru_size(const char *path, uint64_t *runs);

#endif
