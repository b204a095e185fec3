// SPDX-License-Identifier: GPL-2.0
/*
 * Output of fdpkvctl: the "normal" (human) and "json" print ops. Commands
 * never print results or errors themselves; they fill a result struct and
 * call the ops chosen by -o. JSON field names are an interface: they are
 * documented in fdpkvctl.8 and only ever added to.
 */
#include <stdarg.h>
#include <string.h>

#include <uapi/fdpkv.h>

#include "fdpkvctl.h"

int validate_output_format(const char *s, enum out_fmt *f)
{
	if (!s || !strcmp(s, "normal"))
		*f = OUT_NORMAL;
	else if (!strcmp(s, "json"))
		*f = OUT_JSON;
	else
		return -1;
	return 0;
}

const char *fdp_event_name(uint8_t type)
{
	switch (type) {
	case 0x00: return "RU not fully written";
	case 0x01: return "RU time limit exceeded";
	case 0x02: return "controller reset modified RUHs";
	case 0x03: return "invalid placement identifier";
	case 0x80: return "media reallocated";
	case 0x81: return "implicitly modified RUH";
	default: return type & 0x80 ? "vendor/controller event" : "unknown host event";
	}
}

const char *ruht_name(uint8_t ruht)
{
	switch (ruht) {
	case 1: return "initially-isolated";
	case 2: return "persistently-isolated";
	default: return "unknown";
	}
}

const char *ruha_name(int ruha)
{
	if (ruha < 0)
		return "unknown";
	if (ruha & 1)
		return "host";
	if (ruha & 2)
		return "controller";
	return "unused";
}

static const char *tri_str(enum tri t)
{
	return t == TRI_YES ? "yes" : t == TRI_NO ? "no" : "unknown";
}

static void json_tri(struct json *j, const char *key, enum tri t)
{
	if (t == TRI_UNKNOWN)
		json_null(j, key);
	else
		json_bool(j, key, t == TRI_YES);
}

/* "1.00 MiB" */
static const char *human_bytes(char *buf, size_t len, double v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned int u = 0;

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.2f %s" : "%.0f %s", v, unit[u]);
	return buf;
}

static double waf(u128 media, u128 host)
{
	return host ? (double)media / (double)host : -1.0;
}

/* --- normal --------------------------------------------------------------- */

static void n_list(const struct list_result *r)
{
	char hb[32];
	unsigned int i;

	printf("%-16s %-12s %-5s %-9s %-11s %-8s %-12s %-8s %-24s %s\n", "Device", "Generic", "NSID",
	       "FDP-supp", "FDP-enabled", "LBA", "Capacity", "Cache", "URI", "Model");
	for (i = 0; i < r->n; i++) {
		const struct list_entry *e = &r->e[i];
		char en[16];

		if (e->fdp_enabled == TRI_YES)
			snprintf(en, sizeof(en), "yes(cfg %d)", e->fdp_config_index);
		else
			snprintf(en, sizeof(en), "%s", tri_str(e->fdp_enabled));
		printf("%-16s %-12s %-5u %-9s %-11s %-8u %-12s %-8s %-24s %s\n", e->device,
		       e->generic[0] ? e->generic : "-", e->nsid, tri_str(e->fdp_supported), en,
		       e->lba_size,
		       e->lba_size ? human_bytes(hb, sizeof(hb), (double)e->nsze * e->lba_size) : "unknown",
		       e->cache, e->uri[0] ? e->uri : "-", e->model[0] ? e->model : "-");
		if (e->error[0])
			printf("  # %s\n", e->error);
	}
	if (!r->n)
		printf("(no NVMe namespaces found)\n");
}

static void n_info(const struct info_result *r)
{
	const struct ns_info *s = &r->ns;
	char hb[32];
	unsigned int i, k;

	printf("device           : %s\n", s->device);
	printf("nsid             : %u\n", s->nsid);
	printf("model            : %s\n", s->model);
	printf("serial           : %s\n", s->serial);
	printf("firmware         : %s\n", s->firmware);
	printf("cntlid           : %u\n", s->cntlid);
	printf("endgid           : %u\n", s->endgid);
	printf("lba format       : %u (%u bytes data, %u bytes metadata)\n", s->lbaf,
	       s->lba_size, s->ms);
	printf("capacity         : %llu blocks, %llu bytes (%s)\n", (unsigned long long)s->nsze,
	       (unsigned long long)s->nsze * s->lba_size,
	       human_bytes(hb, sizeof(hb), (double)s->nsze * s->lba_size));
	/* libfdpkv trusts deallocate to zero only with DLFEAT 2:0 = 001b */
	printf("dlfeat           : 0x%02x (deallocated blocks read %s)\n", s->dlfeat,
	       (s->dlfeat & 7) == 1 ? "zeroes" : (s->dlfeat & 7) == 2 ? "0xff" : "unspecified");
	printf("fdp supported    : %s\n", s->fdp_supported ? "yes" : "no");
	printf("fdp enabled      : %s", tri_str(s->fdp_enabled));
	if (s->fdp_enabled == TRI_YES)
		printf(" (configuration %d)", s->fdp_config_index);
	printf("\n");
	printf("fdp configurations: %u\n", r->nconfigs);
	for (i = 0; i < r->nconfigs; i++) {
		const struct fdp_config *c = &r->configs[i];

		printf("configuration %u%s%s\n", c->index, c->valid ? "" : " (not valid)",
		       c->in_use ? " (in use)" : "");
		printf("  nrg            : %u\n", c->nrg);
		printf("  nruh           : %u\n", c->nruh);
		printf("  maxpids        : %u\n", c->maxpids);
		printf("  nnss           : %u\n", c->nnss);
		printf("  runs           : %llu bytes (%s)\n", (unsigned long long)c->runs,
		       human_bytes(hb, sizeof(hb), (double)c->runs));
		printf("  erutl          : %u s\n", c->erutl);
		printf("  rgif           : %u\n", c->rgif);
		printf("  vwc            : %s\n", c->vwc ? "yes" : "no");
		printf("  handles        : %-6s %-22s %s\n", "RUHID", "type", "usage");
		for (k = 0; k < c->nruh; k++)
			printf("                   %-6u %-22s %s\n", c->ruhs[k].ruhid,
			       ruht_name(c->ruhs[k].type), ruha_name(c->ruhs[k].usage));
	}
}

static void n_ruh_status(const struct ruhs_result *r)
{
	unsigned int i;

	printf("%s: nsid %u, %u placement identifiers, LBA %u bytes, RU ", r->device, r->nsid,
	       r->n, r->lba_size);
	if (r->runs)
		printf("%llu bytes\n", (unsigned long long)r->runs);
	else
		printf("size unknown\n");
	printf("%-6s %-5s %-5s %-6s %-12s %-14s %-7s %s\n", "PID", "RG", "PH", "RUHID",
	       "RUAMW(LBAs)", "bytes", "%RU", "EARUTR(s)");
	for (i = 0; i < r->n; i++) {
		const struct ruhs_entry *e = &r->e[i];
		uint64_t bytes = e->ruamw * r->lba_size;
		char pct[16];

		if (r->runs)
			snprintf(pct, sizeof(pct), "%.1f", 100.0 * (double)bytes / (double)r->runs);
		else
			snprintf(pct, sizeof(pct), "-");
		printf("%-6u %-5u %-5u %-6u %-12llu %-14llu %-7s %u\n", e->pid, e->rgid, e->ph,
		       e->ruhid, (unsigned long long)e->ruamw, (unsigned long long)bytes, pct,
		       e->earutr);
	}
}

static void n_ruh_update(const struct ruhu_result *r)
{
	unsigned int i;

	printf("%s: nsid %u: reclaim unit handle update done for pid", r->device, r->nsid);
	for (i = 0; i < r->n; i++)
		printf("%s%u", i ? "," : " ", r->pids[i]);
	printf("\n");
}

static void n_stats(const struct stats_result *r)
{
	char a[48], b[48];
	double w = waf(r->now.mbmw, r->now.hbmw);

	printf("device           : %s\n", r->device);
	printf("endgid           : %u\n", r->endgid);
	printf("hbmw             : %s bytes (host bytes with metadata written)\n",
	       u128_str(r->now.hbmw, a, sizeof(a)));
	printf("mbmw             : %s bytes (media bytes with metadata written)\n",
	       u128_str(r->now.mbmw, a, sizeof(a)));
	printf("mbe              : %s bytes (media bytes erased)\n", u128_str(r->now.mbe, a, sizeof(a)));
	if (w >= 0)
		printf("waf              : %.4f (mbmw/hbmw since the device's counters began)\n", w);
	else
		printf("waf              : n/a (nothing written)\n");
	if (r->have_since) {
		u128 dh = r->now.hbmw - r->since.hbmw, dm = r->now.mbmw - r->since.mbmw;
		double dw = waf(dm, dh);

		printf("since            : snapshot taken at unix time %lld\n", (long long)r->since_time);
		printf("delta hbmw       : %s bytes\n", u128_str(dh, a, sizeof(a)));
		printf("delta mbmw       : %s bytes\n", u128_str(dm, b, sizeof(b)));
		printf("delta mbe        : %s bytes\n",
		       u128_str(r->now.mbe - r->since.mbe, a, sizeof(a)));
		if (dw >= 0)
			printf("delta waf        : %.4f\n", dw);
		else
			printf("delta waf        : n/a (nothing written since the snapshot)\n");
	}
	if (r->saved_to)
		printf("saved            : %s\n", r->saved_to);
}

static void n_events(const struct events_result *r)
{
	unsigned int i;

	if (r->enabled_now) {
		printf("%s: enabled event types", r->device);
		for (i = 0; i < r->nenabled_types; i++)
			printf("%s0x%02x", i ? "," : " ", r->enabled_types[i]);
		printf(" on %u placement handles\n", r->enabled_handles);
	}
	printf("%s: %u %s events (endurance group %u)\n", r->device, r->n,
	       r->host ? "host" : "controller", r->endgid);
	for (i = 0; i < r->n; i++) {
		const struct event_entry *e = &r->e[i];

		printf("  %-3u type 0x%02x %-32s", i, e->type, fdp_event_name(e->type));
		if (e->flags & EVF_PIV)
			printf(" pid %u", e->pid);
		if (e->flags & EVF_NSIDV)
			printf(" nsid %u", e->nsid);
		if (e->flags & EVF_LV)
			printf(" rgid %u ruhid %u", e->rgid, e->ruhid);
		if (e->type == 0x80)
			printf(" nlbam %u lba %llu", e->nlbam, (unsigned long long)e->lba);
		printf(" timestamp %llu ms\n", (unsigned long long)e->timestamp_ms);
	}
}

static const char *state_name(enum step_state s)
{
	switch (s) {
	case STEP_PLANNED: return "planned";
	case STEP_DONE: return "done";
	case STEP_FAILED: return "failed";
	case STEP_SKIPPED: return "skipped";
	default: return "not-run";
	}
}

static void n_provision(const struct prov_result *r)
{
	unsigned int i;
	char hb[32];

	printf("controller       : %s (cntlid %u)\n", r->device, r->cntlid);
	printf("endurance group  : %u\n", r->endgid);
	printf("fdp now          : %s", tri_str(r->fdp_enabled));
	if (r->fdp_enabled == TRI_YES)
		printf(" (configuration %d)", r->cur_config_index);
	printf("\n");
	printf("namespaces       :");
	for (i = 0; i < r->nexisting; i++)
		printf(" %u", r->existing[i]);
	printf("%s\n", r->nexisting ? "" : " none");
	printf("target           : %llu bytes (%s), %u placement handles, configuration %u\n",
	       (unsigned long long)r->size_bytes, human_bytes(hb, sizeof(hb), (double)r->size_bytes),
	       r->handles, r->config_index);
	printf("plan%s:\n", r->force ? "" : " (not executed: no --force)");
	for (i = 0; i < r->nsteps; i++) {
		const struct prov_step *s = &r->steps[i];

		printf("  %u. [%-8s] %s\n", i + 1, state_name(s->state), s->desc);
		if (s->detail[0])
			printf("     %s\n", s->detail);
	}
	printf("outcome          : %s\n", r->outcome);
	if (r->created_nsid)
		printf("created nsid     : %u\n", r->created_nsid);
	if (r->error[0])
		fprintf(stderr, "%s provision: %s: %s\n", PROG, r->device, r->error);
}


static void n_cache(const struct cache_result *r)
{
	char hb[32];
	unsigned int i;

	printf("uri              : %s\n", r->uri);
	printf("devices          : %u\n", r->ndev);
	for (i = 0; i < r->ndev; i++) {
		const struct fdpkv_placement_report *p = &r->place[i];

		printf("  device %-7u : %llu segments x %llu bytes, LBA %u\n", i,
		       (unsigned long long)r->dev[i].segments,
		       (unsigned long long)r->dev[i].segment_bytes, r->dev[i].lba_size);
		if (r->dev_uri[i])
			printf("    opened as    : %s\n", r->dev_uri[i]);
		if (!p->fdp)
			printf("    placement    : none (no FDP)\n");
		else if (!p->shared_classes)
			printf("    placement    : %u handles, every class on its own\n", p->handles);
		else
			printf("    placement    : %u handles, %u of %u classes share %u of them\n",
			       p->handles, p->shared_classes, p->nclasses, p->shared_handles);
		if (r->dev[i].dealloc_zeroes)
			printf("    deallocate   : reads zeroes");
		else
			printf("    deallocate   : may keep data: evicted segments wiped "
			       "through placement id %u", r->dev[i].wipe_placement_id);
		if (r->dev[i].dlfeat >= 0)
			printf(" (dlfeat 0x%02x)", (unsigned int)r->dev[i].dlfeat);
		printf("\n");
	}
	printf("capacity         : %llu bytes of values (%s)\n",
	       (unsigned long long)r->usage.bytes_capacity,
	       human_bytes(hb, sizeof(hb), (double)r->usage.bytes_capacity));
	printf("used             : %llu bytes in %llu objects\n",
	       (unsigned long long)r->usage.bytes_used, (unsigned long long)r->usage.objects);
	printf("segments         : %llu total, %llu free\n",
	       (unsigned long long)r->st.segments_total, (unsigned long long)r->st.segments_free);
	printf("index            : %llu entries, %llu bytes\n",
	       (unsigned long long)r->st.index_entries, (unsigned long long)r->st.index_bytes);
	printf("classes          : %u\n", r->st.nclasses);
	for (i = 0; i < r->st.nclasses && i < FDPKV_MAX_CLASSES; i++) {
		unsigned int k = r->ndev ? r->place[0].classes[i].sharing : 0;

		printf("  class %-8u : placement id %u", i, r->st.classes[i].placement_id);
		if (k)
			printf(", shared with %u other class%s", k, k == 1 ? "" : "es");
		putchar('\n');
	}
	if (!strcmp(r->command, "fsck")) {
		printf("corrupt objects  : %llu\n", (unsigned long long)r->st.corrupt_objects);
		printf("io errors        : %llu\n", (unsigned long long)r->st.io_errors);
		printf("result           : %s\n", r->clean ? "clean" : "damaged");
	} else {
		printf("result           : formatted\n");
	}
}

const char *uuid_str(const uint8_t *u, char *buf, size_t len)
{
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
	return buf;
}

static void n_fsck(const struct fsck_result *r)
{
	const struct fdpkv_fsck_report *p = &r->rep;
	char hb[32];
	unsigned int i;

	printf("uri              : %s\n", r->uri);
	printf("devices          : %u\n", p->ndevices);
	printf("segments         : %llu checked, %llu in use\n", (unsigned long long)p->segments,
	       (unsigned long long)p->segments_used);
	printf("objects          : %llu live, %llu superseded, %llu deleted, %llu fillers\n",
	       (unsigned long long)p->objects_live, (unsigned long long)p->objects_superseded,
	       (unsigned long long)p->objects_deleted, (unsigned long long)p->objects_filler);
	printf("bytes            : %llu live value bytes (%s), %llu stored\n",
	       (unsigned long long)p->bytes_live, human_bytes(hb, sizeof(hb), (double)p->bytes_live),
	       (unsigned long long)p->bytes_stored);
	printf("superblock copies: %llu damaged\n", (unsigned long long)p->superblock_damaged);
	printf("damaged objects  : %llu\n", (unsigned long long)p->damaged_objects);
	printf("truncated chains : %llu\n", (unsigned long long)p->truncated_chains);
	printf("io errors        : %llu\n", (unsigned long long)p->io_errors);
	for (i = 0; i < r->n; i++) {
		const struct fsck_damage *e = &r->e[i];

		if (e->segment < 0)
			printf("  dev %u superblock @%llu: %s%s\n", e->dev,
			       (unsigned long long)e->offset, e->reason,
			       e->repaired ? " [repaired]" : "");
		else
			printf("  dev %u segment %lld offset %llu length %llu: %s: %s%s%s%s\n",
			       e->dev, (long long)e->segment, (unsigned long long)e->offset,
			       (unsigned long long)e->length, fsck_kind_name(e->kind), e->reason,
			       e->key ? "; key " : "", e->key ? e->key : "",
			       e->repaired ? " [repaired]" : "");
	}
	printf("result           : %s\n", r->result);
	if (!r->repair && p->damage)
		printf("(run with --repair to repair)\n");
}

static void n_dump(const struct dump_result *r)
{
	unsigned int i;

	printf("%-14s %s\n", "value-bytes", "key");
	for (i = 0; i < r->n; i++)
		printf("%-14llu %s\n", (unsigned long long)r->e[i].vlen, r->e[i].key);
	printf("# %u keys%s; %llu objects, %llu value bytes in the cache\n", r->n,
	       r->truncated ? " (--limit reached)" : "", (unsigned long long)r->usage.objects,
	       (unsigned long long)r->usage.bytes_used);
}

static void n_lat(const char *what, const struct bench_lat *l)
{
	if (!l->batches) {
		printf("latency %-8s : -\n", what);
		return;
	}
	printf("latency %-8s : %llu batches, p50 %.0f us, p99 %.0f us, p999 %.0f us, max %.0f us\n",
	       what, (unsigned long long)l->batches, l->p50, l->p99, l->p999, l->max);
}

static void n_bench(const struct bench_result *r)
{
	double mib = (double)(r->bytes_written + r->bytes_read) / 1048576.0;
	double secs = r->seconds > 0 ? r->seconds : 1e-9;
	char sz[64], lim[64], a[48], b[48], c[48];

	if (r->size_min == r->size_max)
		snprintf(sz, sizeof(sz), "%llu bytes", (unsigned long long)r->size_min);
	else
		snprintf(sz, sizeof(sz), "%llu-%llu bytes (uniform)",
			 (unsigned long long)r->size_min, (unsigned long long)r->size_max);
	if (r->max_ops && r->duration)
		snprintf(lim, sizeof(lim), "%llu batches or %u s", (unsigned long long)r->max_ops,
			 r->duration);
	else if (r->duration)
		snprintf(lim, sizeof(lim), "%u s", r->duration);
	else
		snprintf(lim, sizeof(lim), "%llu batches", (unsigned long long)r->max_ops);
	printf("uri              : %s\n", r->uri);
	printf("workload         : %s", r->workload);
	if (!strcmp(r->workload, "mixed"))
		printf(" (%u%% get)", r->read_pct);
	printf(", batches of %llu keys x %s, %llu keys\n", (unsigned long long)r->batch, sz,
	       (unsigned long long)r->keys);
	printf("limit            : %s\n", lim);
	printf("threads          : %u x qd %u\n", r->threads, r->qd);
	if (r->fill_pct)
		printf("prefill          : %llu keys, %llu bytes in %.3f s (target %u%% of capacity)\n",
		       (unsigned long long)r->prefill_keys, (unsigned long long)r->prefill_bytes,
		       r->prefill_seconds, r->fill_pct);
	printf("time             : %.3f s, %llu batches\n", r->seconds, (unsigned long long)r->ops);
	printf("throughput       : %.1f MiB/s, %.0f batches/s, %.0f keys/s\n", mib / secs,
	       (double)r->ops / secs, (double)(r->sets + r->gets) / secs);
	printf("keys             : %llu sets, %llu gets\n", (unsigned long long)r->sets,
	       (unsigned long long)r->gets);
	printf("written          : %llu bytes\n", (unsigned long long)r->bytes_written);
	printf("read             : %llu bytes (%llu hits, %llu misses)\n",
	       (unsigned long long)r->bytes_read, (unsigned long long)r->hits,
	       (unsigned long long)r->misses);
	if (r->hits + r->misses)
		printf("hit ratio        : %.4f\n",
		       (double)r->hits / (double)(r->hits + r->misses));
	else
		printf("hit ratio        : -\n");
	printf("errors           : %llu\n", (unsigned long long)r->errors);
	printf("evictions        : %llu objects, %llu segments\n",
	       (unsigned long long)r->evicted_objects, (unsigned long long)r->evicted_segments);
	n_lat("set", &r->lat[0]);
	n_lat("get", &r->lat[1]);
	printf("usage            : %llu of %llu value bytes (%.1f%%), %llu objects\n",
	       (unsigned long long)r->usage.bytes_used, (unsigned long long)r->usage.bytes_capacity,
	       r->usage.bytes_capacity ?
	       100.0 * (double)r->usage.bytes_used / (double)r->usage.bytes_capacity : 0.0,
	       (unsigned long long)r->usage.objects);
	if (r->have_fdp)
		printf("fdp log 0x22     : %s host, %s media bytes written, %s erased (%u group%s)\n",
		       u128_str(r->fdp.hbmw, a, sizeof(a)), u128_str(r->fdp.mbmw, b, sizeof(b)),
		       u128_str(r->fdp.mbe, c, sizeof(c)), r->fdp.groups,
		       r->fdp.groups == 1 ? "" : "s");
	if (r->waf_source && !strcmp(r->waf_source, "fdp"))
		printf("device waf       : %.3f (log 0x22: media / host bytes written)\n", r->waf);
	else if (r->waf_source)
		printf("device waf       : %.3f (%llu media / %llu host bytes)\n", r->waf,
		       (unsigned long long)r->media_bytes, (unsigned long long)r->host_bytes);
	else if (r->have_fdp)
		printf("device waf       : n/a (no host writes during the run)\n");
	else
		printf("device waf       : n/a (the backend does not report media writes; see 'stats')\n");
	if (r->csv)
		printf("csv              : %s\n", r->csv);
}

static void n_error(const char *cmd, const char *dev, const char *msg)
{
	if (dev)
		fprintf(stderr, "%s %s: %s: %s\n", PROG, cmd, dev, msg);
	else
		fprintf(stderr, "%s %s: %s\n", PROG, cmd, msg);
}

static const char * const reject_names[FDPKV_REJECT_NR] = {
	"opcode", "field", "nsid", "length", "too_big", "range", "placement", "no_placement",
};

static void n_module(const struct module_result *r)
{
	uint32_t i, k;

	if (!strcmp(r->what, "attached")) {
		const struct fdpkv_ns_attach *a = r->attach;

		printf("%s: attached as fdpkv namespace %u (nsid %u, %u placement ids, "
		       "LBA %u bytes, %llu blocks, max transfer %u bytes, RU %llu bytes)\n",
		       r->device, a->ns, a->nsid, a->nr_pids, a->lba_size,
		       (unsigned long long)a->capacity, a->max_transfer,
		       (unsigned long long)a->ru_size);
		printf("use it as: fdpkv:/dev/fdpkv?ns=%u\n", a->ns);
		return;
	}
	if (!strcmp(r->what, "detached")) {
		printf("fdpkv namespace %u detached\n", r->detached_ns);
		return;
	}
	if (!strcmp(r->what, "shared")) {
		const char *state = r->share_off ? "exclusive" : "shareable";

		for (i = 0; i < r->nshare_pids; i++)
			printf("fdpkv namespace %u: placement id %u is %s\n", r->share_ns,
			       r->share_pids[i], state);
		if (r->share_nlb)
			printf("fdpkv namespace %u: LBAs %llu..%llu %s\n", r->share_ns,
			       (unsigned long long)r->share_slba,
			       (unsigned long long)(r->share_slba + r->share_nlb - 1),
			       r->share_off ? "are no longer a shareable extent" :
					      "are a shareable extent");
		return;
	}
	if (r->policy) {
		const struct fdpkv_ns_policy *p = r->policy;

		printf("fdpkv namespace %u quotas    per file  per uid\n", p->ns);
		printf("  placement handles      %-9u %u\n", p->max_handles_file,
		       p->max_handles_uid);
		printf("  leases                 %-9u %u\n", p->max_leases_file,
		       p->max_leases_uid);
		printf("  blocks (%% of capacity) %-9u %u\n", p->max_lba_pct_file,
		       p->max_lba_pct_uid);
		return;
	}
	if (!r->nns)
		printf("no namespace attached to fdpkv\n");
	for (i = 0; i < r->nns; i++) {
		const struct fdpkv_ns_entry *e = &r->ns[i];

		printf("ns %u: %s nsid %u, LBA %u, %llu blocks, RU %llu bytes, max transfer %u\n",
		       e->ns, e->path, e->nsid, e->lba_size, (unsigned long long)e->capacity,
		       (unsigned long long)e->ru_size, e->max_transfer);
		printf("  commands forwarded %llu, failed %llu, refused:",
		       (unsigned long long)e->cmds, (unsigned long long)e->errors);
		for (k = 0; k < FDPKV_REJECT_NR; k++)
			printf(" %s=%llu", reject_names[k], (unsigned long long)e->rejected[k]);
		printf("\n  PID    STATE      HOLDERS  HOLDER            CMDS        BYTES WRITTEN\n");
		for (k = 0; k < r->nph; k++) {
			const struct fdpkv_ph_entry *p = &r->ph[k];
			char who[48] = "-";

			if (p->ns != e->ns)
				continue;
			if (p->holders)
				snprintf(who, sizeof(who), "%u (%.16s)", p->holder_pid, p->holder_comm);
			printf("  %-6u %-10s %-8u %-17s %-11llu %llu\n", p->pid,
			       p->flags & FDPKV_PH_ENTRY_GRANTED ?
			       (p->flags & FDPKV_PH_ENTRY_SHARED ? "shared" : "granted") :
			       (p->flags & FDPKV_PH_ENTRY_SHARED ? "shareable" : "free"),
			       p->holders, who, (unsigned long long)p->cmds,
			       (unsigned long long)p->bytes_written);
		}
		for (k = 0; k < r->nleases; k++) {
			const struct fdpkv_lease_entry *l = &r->leases[k];

			if (l->ns != e->ns)
				continue;
			if (l->flags & FDPKV_LEASE_ENTRY_EXTENT) {
				printf("  shareable extent: LBAs %llu..%llu\n",
				       (unsigned long long)l->slba,
				       (unsigned long long)(l->slba + l->nlb - 1));
				continue;
			}
			printf("  lease %u: LBAs %llu..%llu%s held by %u (%.16s)\n", l->id,
			       (unsigned long long)l->slba,
			       (unsigned long long)(l->slba + l->nlb - 1),
			       l->flags & FDPKV_LEASE_SHARED ? " shared" : "", l->holder_pid,
			       l->holder_comm);
		}
	}
}

static const struct print_ops stdout_ops = {
	.module = n_module,
	.list = n_list,
	.info = n_info,
	.ruh_status = n_ruh_status,
	.ruh_update = n_ruh_update,
	.stats = n_stats,
	.events = n_events,
	.provision = n_provision,
	.cache = n_cache,
	.fsck = n_fsck,
	.dump = n_dump,
	.bench = n_bench,
	.error = n_error,
};

/* --- json ------------------------------------------------------------------ */

static void j_list(const struct list_result *r)
{
	struct json j;
	unsigned int i;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_arr_open(&j, "namespaces");
	for (i = 0; i < r->n; i++) {
		const struct list_entry *e = &r->e[i];

		json_obj_open(&j, NULL);
		json_str(&j, "device", e->device);
		json_str(&j, "generic", e->generic[0] ? e->generic : NULL);
		json_u64(&j, "nsid", e->nsid);
		json_str(&j, "model", e->model);
		json_str(&j, "serial", e->serial);
		json_tri(&j, "fdp_supported", e->fdp_supported);
		json_tri(&j, "fdp_enabled", e->fdp_enabled);
		if (e->fdp_config_index >= 0)
			json_u64(&j, "fdp_config_index", (uint64_t)e->fdp_config_index);
		else
			json_null(&j, "fdp_config_index");
		json_u64(&j, "lba_size", e->lba_size);
		json_u64(&j, "nsze", e->nsze);
		json_u64(&j, "capacity_bytes", e->nsze * e->lba_size);
		json_str(&j, "cache", e->cache);
		json_str(&j, "uri", e->uri[0] ? e->uri : NULL);
		if (e->probe.formatted) {
			char u[40];

			json_obj_open(&j, "cache_info");
			json_str(&j, "uuid", uuid_str(e->probe.uuid, u, sizeof(u)));
			json_u64(&j, "segment_bytes", e->probe.segment_bytes);
			json_u64(&j, "segments", e->probe.segments);
			json_u64(&j, "device_index", e->probe.dev_index);
			json_u64(&j, "devices", e->probe.ndevices);
			json_obj_close(&j);
		} else {
			json_null(&j, "cache_info");
		}
		json_str(&j, "error", e->error[0] ? e->error : NULL);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_finish(&j);
}

static void j_info(const struct info_result *r)
{
	const struct ns_info *s = &r->ns;
	struct json j;
	unsigned int i, k;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_str(&j, "device", s->device);
	json_u64(&j, "nsid", s->nsid);
	json_str(&j, "model", s->model);
	json_str(&j, "serial", s->serial);
	json_str(&j, "firmware", s->firmware);
	json_u64(&j, "cntlid", s->cntlid);
	json_u64(&j, "endgid", s->endgid);
	json_u64(&j, "lba_format", s->lbaf);
	json_u64(&j, "lba_size", s->lba_size);
	json_u64(&j, "metadata_size", s->ms);
	json_u64(&j, "nsze", s->nsze);
	json_u64(&j, "ncap", s->ncap);
	json_u64(&j, "nuse", s->nuse);
	json_u64(&j, "capacity_bytes", s->nsze * s->lba_size);
	json_u64(&j, "dlfeat", s->dlfeat);
	json_bool(&j, "dealloc_zeroes", (s->dlfeat & 7) == 1);
	json_bool(&j, "fdp_supported", s->fdp_supported);
	json_tri(&j, "fdp_enabled", s->fdp_enabled);
	if (s->fdp_config_index >= 0)
		json_u64(&j, "fdp_config_index", (uint64_t)s->fdp_config_index);
	else
		json_null(&j, "fdp_config_index");
	json_arr_open(&j, "configurations");
	for (i = 0; i < r->nconfigs; i++) {
		const struct fdp_config *c = &r->configs[i];

		json_obj_open(&j, NULL);
		json_u64(&j, "index", c->index);
		json_bool(&j, "valid", c->valid);
		json_bool(&j, "in_use", c->in_use);
		json_u64(&j, "rgif", c->rgif);
		json_bool(&j, "vwc", c->vwc);
		json_u64(&j, "nrg", c->nrg);
		json_u64(&j, "nruh", c->nruh);
		json_u64(&j, "maxpids", c->maxpids);
		json_u64(&j, "nnss", c->nnss);
		json_u64(&j, "runs", c->runs);
		json_u64(&j, "erutl", c->erutl);
		json_arr_open(&j, "handles");
		for (k = 0; k < c->nruh; k++) {
			json_obj_open(&j, NULL);
			json_u64(&j, "ruhid", c->ruhs[k].ruhid);
			json_u64(&j, "ruht", c->ruhs[k].type);
			json_str(&j, "type", ruht_name(c->ruhs[k].type));
			json_str(&j, "usage", ruha_name(c->ruhs[k].usage));
			json_obj_close(&j);
		}
		json_arr_close(&j);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_finish(&j);
}

static void j_ruh_status(const struct ruhs_result *r)
{
	struct json j;
	unsigned int i;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_str(&j, "device", r->device);
	json_u64(&j, "nsid", r->nsid);
	json_u64(&j, "lba_size", r->lba_size);
	if (r->runs)
		json_u64(&j, "runs", r->runs);
	else
		json_null(&j, "runs");
	json_arr_open(&j, "handles");
	for (i = 0; i < r->n; i++) {
		const struct ruhs_entry *e = &r->e[i];
		uint64_t bytes = e->ruamw * r->lba_size;

		json_obj_open(&j, NULL);
		json_u64(&j, "pid", e->pid);
		json_u64(&j, "rgid", e->rgid);
		json_u64(&j, "ph", e->ph);
		json_u64(&j, "ruhid", e->ruhid);
		json_u64(&j, "earutr", e->earutr);
		json_u64(&j, "ruamw", e->ruamw);
		json_u64(&j, "ruamw_bytes", bytes);
		if (r->runs)
			json_double(&j, "ru_pct", 100.0 * (double)bytes / (double)r->runs, 2);
		else
			json_null(&j, "ru_pct");
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_finish(&j);
}

static void j_ruh_update(const struct ruhu_result *r)
{
	struct json j;
	unsigned int i;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_str(&j, "device", r->device);
	json_u64(&j, "nsid", r->nsid);
	json_arr_open(&j, "pids");
	for (i = 0; i < r->n; i++)
		json_u64(&j, NULL, r->pids[i]);
	json_arr_close(&j);
	json_str(&j, "result", "updated");
	json_obj_close(&j);
	json_finish(&j);
}

static void j_waf(struct json *j, const char *key, u128 media, u128 host)
{
	double w = waf(media, host);

	if (w >= 0)
		json_double(j, key, w, 4);
	else
		json_null(j, key);
}

static void j_stats(const struct stats_result *r)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_str(&j, "device", r->device);
	json_u64(&j, "endgid", r->endgid);
	json_u128(&j, "hbmw", r->now.hbmw);
	json_u128(&j, "mbmw", r->now.mbmw);
	json_u128(&j, "mbe", r->now.mbe);
	j_waf(&j, "waf", r->now.mbmw, r->now.hbmw);
	if (r->have_since) {
		json_obj_open(&j, "since");
		json_i64(&j, "time", r->since_time);
		json_u128(&j, "hbmw", r->now.hbmw - r->since.hbmw);
		json_u128(&j, "mbmw", r->now.mbmw - r->since.mbmw);
		json_u128(&j, "mbe", r->now.mbe - r->since.mbe);
		j_waf(&j, "waf", r->now.mbmw - r->since.mbmw, r->now.hbmw - r->since.hbmw);
		json_obj_close(&j);
	} else {
		json_null(&j, "since");
	}
	json_str(&j, "saved_to", r->saved_to);
	json_obj_close(&j);
	json_finish(&j);
}

static void j_events(const struct events_result *r)
{
	struct json j;
	unsigned int i;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_str(&j, "device", r->device);
	json_u64(&j, "endgid", r->endgid);
	json_str(&j, "kind", r->host ? "host" : "controller");
	if (r->enabled_now) {
		json_obj_open(&j, "enabled");
		json_u64(&j, "handles", r->enabled_handles);
		json_arr_open(&j, "types");
		for (i = 0; i < r->nenabled_types; i++)
			json_u64(&j, NULL, r->enabled_types[i]);
		json_arr_close(&j);
		json_obj_close(&j);
	}
	json_u64(&j, "count", r->n);
	json_arr_open(&j, "events");
	for (i = 0; i < r->n; i++) {
		const struct event_entry *e = &r->e[i];

		json_obj_open(&j, NULL);
		json_u64(&j, "type", e->type);
		json_str(&j, "type_name", fdp_event_name(e->type));
		json_u64(&j, "flags", e->flags);
		if (e->flags & EVF_PIV)
			json_u64(&j, "pid", e->pid);
		else
			json_null(&j, "pid");
		if (e->flags & EVF_NSIDV)
			json_u64(&j, "nsid", e->nsid);
		else
			json_null(&j, "nsid");
		if (e->flags & EVF_LV) {
			json_u64(&j, "rgid", e->rgid);
			json_u64(&j, "ruhid", e->ruhid);
		} else {
			json_null(&j, "rgid");
			json_null(&j, "ruhid");
		}
		json_u64(&j, "timestamp_ms", e->timestamp_ms);
		if (e->type == 0x80) {
			json_u64(&j, "nlbam", e->nlbam);
			json_u64(&j, "lba", e->lba);
		}
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_finish(&j);
}

static void j_provision(const struct prov_result *r)
{
	struct json j;
	unsigned int i;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_str(&j, "device", r->device);
	json_u64(&j, "cntlid", r->cntlid);
	json_u64(&j, "endgid", r->endgid);
	json_tri(&j, "fdp_enabled", r->fdp_enabled);
	if (r->cur_config_index >= 0)
		json_u64(&j, "fdp_config_index", (uint64_t)r->cur_config_index);
	else
		json_null(&j, "fdp_config_index");
	json_arr_open(&j, "namespaces");
	for (i = 0; i < r->nexisting; i++)
		json_u64(&j, NULL, r->existing[i]);
	json_arr_close(&j);
	json_u64(&j, "size_bytes", r->size_bytes);
	json_u64(&j, "handles", r->handles);
	json_u64(&j, "config_index", r->config_index);
	json_bool(&j, "force", r->force);
	json_bool(&j, "delete_first", r->delete_first);
	json_arr_open(&j, "steps");
	for (i = 0; i < r->nsteps; i++) {
		json_obj_open(&j, NULL);
		json_str(&j, "action", r->steps[i].action);
		json_str(&j, "description", r->steps[i].desc);
		json_str(&j, "state", state_name(r->steps[i].state));
		json_str(&j, "detail", r->steps[i].detail[0] ? r->steps[i].detail : NULL);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_str(&j, "outcome", r->outcome);
	if (r->created_nsid)
		json_u64(&j, "created_nsid", r->created_nsid);
	else
		json_null(&j, "created_nsid");
	json_str(&j, "error", r->error[0] ? r->error : NULL);
	json_obj_close(&j);
	json_finish(&j);
}


static void j_cache(const struct cache_result *r)
{
	struct json j;
	unsigned int i;
	uint64_t shared = 0;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_str(&j, "uri", r->uri);
	json_arr_open(&j, "devices");
	for (i = 0; i < r->ndev; i++) {
		json_obj_open(&j, NULL);
		json_str(&j, "uri", r->dev_uri[i]);
		json_u64(&j, "segments", r->dev[i].segments);
		json_u64(&j, "segment_bytes", r->dev[i].segment_bytes);
		json_u64(&j, "lba_size", r->dev[i].lba_size);
		if (r->dev[i].dlfeat >= 0)
			json_u64(&j, "dlfeat", (uint64_t)r->dev[i].dlfeat);
		else
			json_null(&j, "dlfeat");
		json_bool(&j, "dealloc_zeroes", r->dev[i].dealloc_zeroes);
		json_u64(&j, "wipe_placement_id", r->dev[i].wipe_placement_id);
		json_bool(&j, "fdp", r->place[i].fdp);
		json_u64(&j, "placement_handles", r->place[i].handles);
		json_u64(&j, "shared_handles", r->place[i].shared_handles);
		json_u64(&j, "shared_classes", r->place[i].shared_classes);
		json_obj_close(&j);
		shared += r->place[i].shared_classes;
	}
	json_arr_close(&j);
	json_u64(&j, "shared_classes", shared);
	json_u64(&j, "bytes_capacity", r->usage.bytes_capacity);
	json_u64(&j, "bytes_used", r->usage.bytes_used);
	json_u64(&j, "objects", r->usage.objects);
	json_u64(&j, "segments_total", r->st.segments_total);
	json_u64(&j, "segments_free", r->st.segments_free);
	json_u64(&j, "index_entries", r->st.index_entries);
	json_u64(&j, "index_bytes", r->st.index_bytes);
	json_arr_open(&j, "classes");
	for (i = 0; i < r->st.nclasses && i < FDPKV_MAX_CLASSES; i++) {
		json_obj_open(&j, NULL);
		json_u64(&j, "placement_id", r->st.classes[i].placement_id);
		json_u64(&j, "shared_with", r->ndev ? r->place[0].classes[i].sharing : 0);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_u64(&j, "corrupt_objects", r->st.corrupt_objects);
	json_u64(&j, "io_errors", r->st.io_errors);
	json_str(&j, "result", !strcmp(r->command, "fsck") ? (r->clean ? "clean" : "damaged") :
		 "formatted");
	json_obj_close(&j);
	json_finish(&j);
}

static void j_fsck(const struct fsck_result *r)
{
	const struct fdpkv_fsck_report *p = &r->rep;
	struct json j;
	unsigned int i;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_str(&j, "uri", r->uri);
	json_bool(&j, "repair", r->repair);
	json_u64(&j, "devices", p->ndevices);
	json_u64(&j, "segments", p->segments);
	json_u64(&j, "segments_used", p->segments_used);
	json_u64(&j, "objects", p->objects_live);
	json_u64(&j, "objects_live", p->objects_live);
	json_u64(&j, "objects_superseded", p->objects_superseded);
	json_u64(&j, "objects_deleted", p->objects_deleted);
	json_u64(&j, "objects_filler", p->objects_filler);
	json_u64(&j, "bytes_live", p->bytes_live);
	json_u64(&j, "bytes_stored", p->bytes_stored);
	json_u64(&j, "superblock_damaged", p->superblock_damaged);
	json_u64(&j, "damaged_objects", p->damaged_objects);
	json_u64(&j, "truncated_chains", p->truncated_chains);
	json_u64(&j, "io_errors", p->io_errors);
	json_u64(&j, "damage", p->damage);
	json_u64(&j, "repaired", p->repaired);
	json_arr_open(&j, "damages");
	for (i = 0; i < r->n; i++) {
		const struct fsck_damage *e = &r->e[i];

		json_obj_open(&j, NULL);
		json_str(&j, "kind", fsck_kind_name(e->kind));
		json_u64(&j, "device", e->dev);
		if (e->segment < 0)
			json_null(&j, "segment");
		else
			json_u64(&j, "segment", (uint64_t)e->segment);
		json_u64(&j, "offset", e->offset);
		json_u64(&j, "length", e->length);
		json_str(&j, "key", e->key);
		json_str(&j, "reason", e->reason);
		json_bool(&j, "repaired", e->repaired);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_str(&j, "result", r->result);
	json_obj_close(&j);
	json_finish(&j);
}

static void j_dump(const struct dump_result *r)
{
	struct json j;
	unsigned int i;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_str(&j, "uri", r->uri);
	json_u64(&j, "objects", r->usage.objects);
	json_u64(&j, "bytes_used", r->usage.bytes_used);
	json_bool(&j, "truncated", r->truncated);
	json_arr_open(&j, "keys");
	for (i = 0; i < r->n; i++) {
		json_obj_open(&j, NULL);
		json_str(&j, "key", r->e[i].key);
		json_u64(&j, "key_len", r->e[i].klen);
		json_u64(&j, "value_len", r->e[i].vlen);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_finish(&j);
}

static void j_lat(struct json *j, const char *key, const struct bench_lat *l)
{
	if (!l->batches) {
		json_null(j, key);
		return;
	}
	json_obj_open(j, key);
	json_u64(j, "batches", l->batches);
	json_double(j, "p50", l->p50, 1);
	json_double(j, "p90", l->p90, 1);
	json_double(j, "p99", l->p99, 1);
	json_double(j, "p999", l->p999, 1);
	json_double(j, "max", l->max, 1);
	json_obj_close(j);
}

static void j_bench(const struct bench_result *r)
{
	double secs = r->seconds > 0 ? r->seconds : 1e-9;
	struct json j;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_str(&j, "uri", r->uri);
	json_str(&j, "workload", r->workload);
	json_u64(&j, "threads", r->threads);
	json_u64(&j, "qd", r->qd);
	json_u64(&j, "batch", r->batch);
	json_u64(&j, "batches", r->ops);
	if (r->max_ops)
		json_u64(&j, "max_batches", r->max_ops);
	else
		json_null(&j, "max_batches");
	if (r->duration)
		json_u64(&j, "duration", r->duration);
	else
		json_null(&j, "duration");
	json_str(&j, "size_dist", r->size_dist);
	json_u64(&j, "size_min", r->size_min);
	json_u64(&j, "size_max", r->size_max);
	json_u64(&j, "value_size", (r->size_min + r->size_max) / 2);
	json_u64(&j, "keys", r->keys);
	json_u64(&j, "read_pct", r->read_pct);
	if (r->fill_pct) {
		json_obj_open(&j, "prefill");
		json_u64(&j, "fill_pct", r->fill_pct);
		json_u64(&j, "keys", r->prefill_keys);
		json_u64(&j, "bytes", r->prefill_bytes);
		json_double(&j, "seconds", r->prefill_seconds, 6);
		json_obj_close(&j);
	} else {
		json_null(&j, "prefill");
	}
	json_double(&j, "seconds", r->seconds, 6);
	json_u64(&j, "sets", r->sets);
	json_u64(&j, "gets", r->gets);
	json_u64(&j, "bytes_written", r->bytes_written);
	json_u64(&j, "bytes_read", r->bytes_read);
	json_u64(&j, "bytes", r->bytes_written + r->bytes_read);
	json_double(&j, "mib_per_s", (double)(r->bytes_written + r->bytes_read) / 1048576.0 /
		    secs, 2);
	json_double(&j, "batches_per_s", (double)r->ops / secs, 1);
	json_double(&j, "keys_per_s", (double)(r->sets + r->gets) / secs, 1);
	json_u64(&j, "hits", r->hits);
	json_u64(&j, "misses", r->misses);
	if (r->hits + r->misses)
		json_double(&j, "hit_ratio", (double)r->hits / (double)(r->hits + r->misses), 4);
	else
		json_null(&j, "hit_ratio");
	json_u64(&j, "errors", r->errors);
	json_u64(&j, "evicted_objects", r->evicted_objects);
	json_u64(&j, "evicted_segments", r->evicted_segments);
	json_obj_open(&j, "latency_us");
	j_lat(&j, "set", &r->lat[0]);
	j_lat(&j, "get", &r->lat[1]);
	json_obj_close(&j);
	json_obj_open(&j, "usage");
	json_u64(&j, "bytes_used", r->usage.bytes_used);
	json_u64(&j, "bytes_capacity", r->usage.bytes_capacity);
	json_u64(&j, "objects", r->usage.objects);
	json_obj_close(&j);
	json_u64(&j, "host_bytes", r->host_bytes);
	json_u64(&j, "media_bytes", r->media_bytes);
	if (r->have_fdp) {
		json_obj_open(&j, "fdp_stats");
		json_u64(&j, "groups", r->fdp.groups);
		json_u128(&j, "host_bytes_written", r->fdp.hbmw);
		json_u128(&j, "media_bytes_written", r->fdp.mbmw);
		json_u128(&j, "media_bytes_erased", r->fdp.mbe);
		if (r->fdp.hbmw)
			json_double(&j, "waf", (double)r->fdp.mbmw / (double)r->fdp.hbmw, 4);
		else
			json_null(&j, "waf");
		json_obj_close(&j);
	} else {
		json_null(&j, "fdp_stats");
	}
	if (r->waf_source)
		json_double(&j, "waf", r->waf, 4);
	else
		json_null(&j, "waf");
	json_str(&j, "waf_source", r->waf_source);
	json_str(&j, "csv", r->csv);
	json_obj_close(&j);
	json_finish(&j);
}

static void j_error(const char *cmd, const char *dev, const char *msg)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_obj_open(&j, "error");
	json_str(&j, "command", cmd);
	json_str(&j, "device", dev);
	json_str(&j, "message", msg);
	json_obj_close(&j);
	json_obj_close(&j);
	json_finish(&j);
}

static void j_module(const struct module_result *r)
{
	struct json j;
	char comm[17];
	uint32_t i, k;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_str(&j, "result", r->what);
	if (r->attach) {
		const struct fdpkv_ns_attach *a = r->attach;

		json_str(&j, "device", r->device);
		json_u64(&j, "ns", a->ns);
		json_u64(&j, "nsid", a->nsid);
		json_u64(&j, "nr_pids", a->nr_pids);
		json_u64(&j, "lba_size", a->lba_size);
		json_u64(&j, "capacity_blocks", a->capacity);
		json_u64(&j, "max_transfer", a->max_transfer);
		json_u64(&j, "ru_size", a->ru_size);
	} else if (!strcmp(r->what, "detached")) {
		json_u64(&j, "ns", r->detached_ns);
	} else if (!strcmp(r->what, "shared")) {
		json_u64(&j, "ns", r->share_ns);
		json_bool(&j, "shared", !r->share_off);
		json_arr_open(&j, "handles");
		for (i = 0; i < r->nshare_pids; i++)
			json_u64(&j, NULL, r->share_pids[i]);
		json_arr_close(&j);
		if (r->share_nlb) {
			json_u64(&j, "slba", r->share_slba);
			json_u64(&j, "nlb", r->share_nlb);
		}
	} else if (r->policy) {
		json_u64(&j, "ns", r->policy->ns);
		json_u64(&j, "max_handles_file", r->policy->max_handles_file);
		json_u64(&j, "max_handles_uid", r->policy->max_handles_uid);
		json_u64(&j, "max_leases_file", r->policy->max_leases_file);
		json_u64(&j, "max_leases_uid", r->policy->max_leases_uid);
		json_u64(&j, "max_lba_pct_file", r->policy->max_lba_pct_file);
		json_u64(&j, "max_lba_pct_uid", r->policy->max_lba_pct_uid);
	} else {
		json_arr_open(&j, "namespaces");
		for (i = 0; i < r->nns; i++) {
			const struct fdpkv_ns_entry *e = &r->ns[i];

			json_obj_open(&j, NULL);
			json_u64(&j, "ns", e->ns);
			json_str(&j, "path", e->path);
			json_u64(&j, "nsid", e->nsid);
			json_u64(&j, "lba_size", e->lba_size);
			json_u64(&j, "capacity_blocks", e->capacity);
			json_u64(&j, "ru_size", e->ru_size);
			json_u64(&j, "max_transfer", e->max_transfer);
			json_u64(&j, "cmds", e->cmds);
			json_u64(&j, "errors", e->errors);
			json_obj_open(&j, "rejected");
			for (k = 0; k < FDPKV_REJECT_NR; k++)
				json_u64(&j, reject_names[k], e->rejected[k]);
			json_obj_close(&j);
			json_obj_close(&j);
		}
		json_arr_close(&j);
		json_arr_open(&j, "handles");
		for (k = 0; k < r->nph; k++) {
			const struct fdpkv_ph_entry *p = &r->ph[k];

			json_obj_open(&j, NULL);
			json_u64(&j, "ns", p->ns);
			json_u64(&j, "pid", p->pid);
			json_bool(&j, "granted", p->flags & FDPKV_PH_ENTRY_GRANTED);
			json_bool(&j, "shared", p->flags & FDPKV_PH_ENTRY_SHARED);
			json_u64(&j, "holders", p->holders);
			snprintf(comm, sizeof(comm), "%.16s", p->holder_comm);
			json_u64(&j, "holder_pid", p->holder_pid);
			json_str(&j, "holder_comm", p->holders ? comm : NULL);
			json_u64(&j, "cmds", p->cmds);
			json_u64(&j, "bytes_written", p->bytes_written);
			json_obj_close(&j);
		}
		json_arr_close(&j);
		json_arr_open(&j, "leases");
		for (k = 0; k < r->nleases; k++) {
			const struct fdpkv_lease_entry *l = &r->leases[k];

			json_obj_open(&j, NULL);
			json_u64(&j, "ns", l->ns);
			json_u64(&j, "id", l->id);
			json_u64(&j, "slba", l->slba);
			json_u64(&j, "nlb", l->nlb);
			json_bool(&j, "shared", l->flags & FDPKV_LEASE_SHARED);
			json_bool(&j, "extent", l->flags & FDPKV_LEASE_ENTRY_EXTENT);
			snprintf(comm, sizeof(comm), "%.16s", l->holder_comm);
			json_u64(&j, "holder_pid", l->holder_pid);
			json_str(&j, "holder_comm", comm);
			json_obj_close(&j);
		}
		json_arr_close(&j);
	}
	json_obj_close(&j);
	json_finish(&j);
}

static const struct print_ops json_ops = {
	.module = j_module,
	.list = j_list,
	.info = j_info,
	.ruh_status = j_ruh_status,
	.ruh_update = j_ruh_update,
	.stats = j_stats,
	.events = j_events,
	.provision = j_provision,
	.cache = j_cache,
	.fsck = j_fsck,
	.dump = j_dump,
	.bench = j_bench,
	.error = j_error,
};

const struct print_ops *print_ops_get(enum out_fmt f)
{
	return f == OUT_JSON ? &json_ops : &stdout_ops;
}

int print_fail(const struct print_ops *ops, const char *cmd, const char *dev,
	       const char *fmt, ...)
{
	char msg[ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ops->error(cmd, dev, msg);
	return 1;
}
