// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkvctl provision - put an NVMe controller's endurance group into FDP mode
 * with one namespace that owns N placement handles.
 *
 * The NVMe rule that shapes it: FDP (Set Features 0x1D) can only be changed
 * while the endurance group has no namespaces, and placement handles are
 * bound when a namespace is created. The full recipe is therefore
 *   detach + delete namespaces -> Set Features 0x1D -> create namespace with
 *   the placement handle list -> attach -> rescan
 * and its first step destroys data. What an operator wants is to lose
 * nothing when the device is going to refuse anyway, so:
 *  - without --force nothing is sent to the device except reads: the plan is
 *    printed and the command exits 1;
 *  - every check that needs no change runs first (FDP supported, namespace
 *    management supported, the configuration exists and has enough handles,
 *    an LBA format is known, the size fits in at least one block);
 *  - when namespaces exist, Set Features 0x1D is sent *before* deleting
 *    them. A device that follows the spec answers Command Sequence Error:
 *    the command stops there, says so, and nothing is deleted. The QEMU FDP
 *    device answers the same (it cannot toggle FDP at all);
 *  - --delete-first is the explicit opt-in to the destructive order: delete
 *    the namespaces, then Set Features. If the device still refuses, the
 *    report says that the namespaces are gone and FDP is unchanged.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <libnvme.h>

#include "fdpkvctl.h"

/* Namespace Management create: Host Software Specified Fields (NVMe 2.0) */
#define NSM_OFF_NSZE	0
#define NSM_OFF_NCAP	8
#define NSM_OFF_FLBAS	26
#define NSM_OFF_ENDGID	102
#define NSM_OFF_NPHNDLS	392
#define NSM_OFF_PHNDL	512

static struct prov_step *add_step(struct prov_result *r, const char *action, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct prov_step *add_step(struct prov_result *r, const char *action, const char *fmt, ...)
{
	struct prov_step *s;
	va_list ap;

	if (r->nsteps >= MAX_STEPS)
		return NULL;
	s = &r->steps[r->nsteps++];
	memset(s, 0, sizeof(*s));
	s->action = action;
	s->state = STEP_PLANNED;
	va_start(ap, fmt);
	vsnprintf(s->desc, sizeof(s->desc), fmt, ap);
	va_end(ap);
	return s;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* namespaces of the subsystem (allocated, else active) in @endgid */
static int list_namespaces(int fd, uint16_t endgid, uint32_t *out, unsigned int max,
			   unsigned int *n, struct nvme_id_ns *first)
{
	struct nvme_ns_list *list = calloc(1, sizeof(*list));
	struct nvme_id_ns *ns = calloc(1, sizeof(*ns));
	bool allocated = true;
	int ret, i;

	*n = 0;
	if (!list || !ns) {
		free(list);
		free(ns);
		return errno = ENOMEM, -1;
	}
	ret = nvme_identify_allocated_ns_list(fd, 0, list);
	if (ret) {
		allocated = false;
		ret = nvme_identify_active_ns_list(fd, 0, list);
	}
	for (i = 0; !ret && i < 1024 && list->ns[i] && *n < max; i++) {
		uint32_t nsid = le32_to_cpu(list->ns[i]);
		uint16_t eg;

		if (allocated ? nvme_identify_allocated_ns(fd, nsid, ns) : nvme_identify_ns(fd, nsid, ns))
			continue;
		eg = le16_to_cpu(ns->endgid);
		if (eg && eg != endgid)	/* 0: not reported, count it as ours */
			continue;
		if (!*n && first)
			memcpy(first, ns, sizeof(*ns));
		out[(*n)++] = nsid;
	}
	free(list);
	free(ns);
	return ret;
}

static void skip_rest(struct prov_result *r, unsigned int from)
{
	unsigned int i;

	for (i = from; i < r->nsteps; i++)
		r->steps[i].state = STEP_NOT_RUN;
}

/* run the plan; returns 0, or -1 with r->error and r->outcome set */
static int execute(struct dev *d, struct prov_result *r, unsigned int lbaf, uint64_t nsze)
{
	bool destroyed = false;
	unsigned int i, k;
	char what[96];
	int ret = 0;

	for (i = 0; i < r->nsteps; i++) {
		struct prov_step *s = &r->steps[i];
		uint32_t nsid = 0;

		if (!strcmp(s->action, "detach") || !strcmp(s->action, "delete"))
			sscanf(s->desc, "%*s namespace %u", &nsid);
		if (!strcmp(s->action, "detach")) {
			struct nvme_ctrl_list *cl = calloc(1, sizeof(*cl));

			if (!cl)
				return errno = ENOMEM, -1;
			if (nvme_identify_nsid_ctrl_list(d->fd, nsid, 0, cl) || !le16_to_cpu(cl->num))
				nvme_init_ctrl_list(cl, 1, &r->cntlid);
			ret = nvme_ns_detach_ctrls(d->fd, nsid, cl);
			free(cl);
			snprintf(what, sizeof(what), "Namespace Attachment (detach %u)", nsid);
		} else if (!strcmp(s->action, "delete")) {
			ret = nvme_ns_mgmt_delete(d->fd, nsid);
			snprintf(what, sizeof(what), "Namespace Management (delete %u)", nsid);
		} else if (!strcmp(s->action, "set-features")) {
			struct nvme_set_features_args args = {
				.args_size = sizeof(args),
				.fd = d->fd,
				.timeout = NVME_DEFAULT_IOCTL_TIMEOUT,
				.cdw11 = r->endgid,
				.cdw12 = 1u | (r->config_index << 8),	/* FDPE, FDPCIDX */
				.fid = NVME_FEAT_FID_FDP,
				.save = false,	/* QEMU: FID not saveable */
				.uuidx = NVME_UUID_NONE,
			};

			ret = nvme_set_features(&args);
			snprintf(what, sizeof(what), "Set Features 0x1D (FDP)");
		} else if (!strcmp(s->action, "create")) {
			uint8_t *buf = calloc(1, sizeof(struct nvme_id_ns));

			if (!buf)
				return errno = ENOMEM, -1;
			put_le64(buf + NSM_OFF_NSZE, nsze);
			put_le64(buf + NSM_OFF_NCAP, nsze);
			buf[NSM_OFF_FLBAS] = (uint8_t)((lbaf & 0xf) | ((lbaf >> 4) & 0x3) << 5);
			put_le16(buf + NSM_OFF_ENDGID, r->endgid);
			put_le16(buf + NSM_OFF_NPHNDLS, (uint16_t)r->handles);
			for (k = 0; k < r->handles; k++)	/* placement handle k -> RUH k */
				put_le16(buf + NSM_OFF_PHNDL + 2 * k, (uint16_t)k);
			ret = nvme_ns_mgmt_create(d->fd, (struct nvme_id_ns *)buf, &r->created_nsid, 0,
						  NVME_CSI_NVM);
			free(buf);
			snprintf(what, sizeof(what), "Namespace Management (create)");
			if (!ret)
				snprintf(s->detail, sizeof(s->detail), "created nsid %u", r->created_nsid);
		} else if (!strcmp(s->action, "attach")) {
			struct nvme_ctrl_list *cl = calloc(1, sizeof(*cl));

			if (!cl)
				return errno = ENOMEM, -1;
			nvme_init_ctrl_list(cl, 1, &r->cntlid);
			ret = nvme_ns_attach_ctrls(d->fd, r->created_nsid, cl);
			free(cl);
			snprintf(what, sizeof(what), "Namespace Attachment (attach %u)", r->created_nsid);
		} else if (!strcmp(s->action, "rescan")) {
			ret = nvme_ns_rescan(d->fd);
			snprintf(what, sizeof(what), "namespace rescan");
		}
		if (ret) {
			int status = ret > 0 ? ret & 0x7ff : 0;
			char msg[ERR_LEN / 2];

			s->state = STEP_FAILED;
			nvme_strerr(s->detail, sizeof(s->detail), what, ret);
			skip_rest(r, i + 1);
			r->outcome = destroyed ? "failed" : "refused";
			snprintf(msg, sizeof(msg), "%s", s->detail);
			if (!strcmp(s->action, "set-features") && !destroyed && r->nexisting)
				snprintf(r->error, sizeof(r->error),
					 "%s; FDP can only be changed while endurance group %u has no "
					 "namespaces (it has %u)%s. Nothing was deleted: delete them "
					 "first (nvme delete-ns) or re-run with --delete-first",
					 msg, r->endgid, r->nexisting,
					 status == NVME_SC_CMD_SEQ_ERROR ? "" : " or the device refused");
			else if (!strcmp(s->action, "set-features") && destroyed)
				snprintf(r->error, sizeof(r->error),
					 "%s after deleting the namespaces: endurance group %u is now "
					 "empty and FDP unchanged", msg, r->endgid);
			else
				snprintf(r->error, sizeof(r->error), "%s%s", msg,
					 destroyed ? " (earlier steps were done, see the plan)" :
					 "; nothing was changed");
			return -1;
		}
		s->state = STEP_DONE;
		if (!strcmp(s->action, "delete"))
			destroyed = true;
	}
	r->outcome = "done";
	return 0;
}

int cmd_provision(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format;
		uint64_t size;
		unsigned int handles, config_index, endgid, lbaf;
		bool force, delete_first;
	} cfg = { .output_format = "normal", .handles = 0, .lbaf = ~0u };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		{ "size", 's', OPT_SIZE, &cfg.size, "SIZE", "size of the new namespace (K/M/G/T suffixes; required)" },
		{ "handles", 'n', OPT_UINT, &cfg.handles, "N", "placement handles of the new namespace: RUH 0..N-1 (required)" },
		{ "config-index", 'c', OPT_UINT, &cfg.config_index, "I", "FDP configuration to enable (default 0)" },
		{ "endgid", 'e', OPT_UINT, &cfg.endgid, "E", "endurance group (default: of the first namespace, else 1)" },
		{ "lbaf", 'l', OPT_UINT, &cfg.lbaf, "F", "LBA format of the new namespace (default: as the first namespace, else 0)" },
		{ "force", 'f', OPT_FLAG, &cfg.force, NULL, "execute the plan (without it: print it and exit 1)" },
		{ "delete-first", 0, OPT_FLAG, &cfg.delete_first, NULL,
		  "delete existing namespaces before Set Features 0x1D (destroys their data even if the device then refuses FDP)" },
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "CTRL",
		"Plan, and with --force run, FDP provisioning of a controller (/dev/nvmeX):\n"
		"delete the endurance group's namespaces, enable FDP (Set Features 0x1D),\n"
		"create one namespace with placement handles 0..N-1, attach it, rescan.\n"
		"Namespaces are never deleted before the device has accepted Set Features\n"
		"0x1D, unless --delete-first says so. See fdpkvctl(8).", opts };
	struct prov_result *res = NULL;
	const struct print_ops *ops;
	struct fdp_config *cfgs = NULL;
	struct nvme_id_ns *first = NULL, *common = NULL;
	unsigned int ncfgs = 0, i, lbaf;
	enum out_fmt f = OUT_NORMAL;
	const char *path = NULL;
	struct dev d = { .fd = -1 };
	char err[ERR_LEN];
	uint64_t nsze;
	bool en = false;
	unsigned int cur = 0;
	int ret, rc = 1;

	ret = opts_parse(argc, argv, &spec, &path);
	if (ret)
		return ret > 0 ? 0 : 1;
	if (validate_output_format(cfg.output_format, &f) || !cfg.size || !cfg.handles ||
	    cfg.handles > MAX_PIDS || cfg.config_index > 255 || cfg.endgid > 0xffff) {
		fprintf(stderr, "%s %s: %s\n", PROG, cmd->name,
			validate_output_format(cfg.output_format, &f) ? "invalid output format (normal|json)" :
			!cfg.size ? "--size is required" :
			!cfg.handles || cfg.handles > MAX_PIDS ? "--handles must be 1..128" :
			"--config-index must be 0..255 and --endgid 0..65535");
		opts_usage(stderr, &spec);
		return 1;
	}
	ops = print_ops_get(f);
	res = calloc(1, sizeof(*res));
	first = calloc(1, sizeof(*first));
	common = calloc(1, sizeof(*common));
	if (!res || !first || !common) {
		rc = print_fail(ops, cmd->name, path, "out of memory");
		goto out;
	}
	if (dev_open_ctrl(&d, path, err, sizeof(err))) {
		rc = print_fail(ops, cmd->name, path, "%s", err);
		goto out;
	}
	res->device = path;
	res->force = cfg.force;
	res->delete_first = cfg.delete_first;
	res->cntlid = le16_to_cpu(d.ctrl->cntlid);
	res->size_bytes = cfg.size;
	res->handles = cfg.handles;
	res->config_index = cfg.config_index;
	res->cur_config_index = -1;
	res->fdp_enabled = TRI_UNKNOWN;
	res->outcome = "refused";

	if (!ctrl_fdp_supported(d.ctrl)) {
		rc = print_fail(ops, cmd->name, path,
				"controller does not support FDP (Identify Controller CTRATT bit 19 clear); nothing was changed");
		goto out;
	}
	res->endgid = (uint16_t)(cfg.endgid ? cfg.endgid : 1);
	ret = list_namespaces(d.fd, res->endgid, res->existing, 64, &res->nexisting, first);
	if (ret) {
		rc = print_fail(ops, cmd->name, path, "%s; nothing was changed",
				nvme_strerr(err, sizeof(err), "Identify (namespace list)", ret));
		goto out;
	}
	if (!cfg.endgid && res->nexisting && le16_to_cpu(first->endgid))
		res->endgid = le16_to_cpu(first->endgid);
	ret = fdp_get_feature(d.fd, res->endgid, &en, &cur);
	if (!ret) {
		res->fdp_enabled = en ? TRI_YES : TRI_NO;
		res->cur_config_index = en ? (int)cur : -1;
	}
	ret = fdp_read_configs(d.fd, res->endgid, &cfgs, &ncfgs);
	if (ret) {
		rc = print_fail(ops, cmd->name, path, "%s; nothing was changed",
				nvme_strerr(err, sizeof(err), "Get Log Page 0x20 (FDP configurations)", ret));
		goto out;
	}
	if (cfg.config_index >= ncfgs || !cfgs[cfg.config_index].valid ||
	    cfgs[cfg.config_index].nruh < cfg.handles) {
		rc = print_fail(ops, cmd->name, path,
				"FDP configuration %u %s; nothing was changed", cfg.config_index,
				cfg.config_index >= ncfgs ? "does not exist" :
				!cfgs[cfg.config_index].valid ? "is not valid" :
				"has fewer reclaim unit handles than --handles");
		goto out;
	}
	/* the LBA format table: common namespace capabilities, else the first namespace */
	if (nvme_identify_ns(d.fd, NVME_NSID_ALL, common) || !common->lbaf[0].ds) {
		if (!res->nexisting) {
			rc = print_fail(ops, cmd->name, path,
					"cannot read the LBA formats (no namespace, and Identify Namespace 0xffffffff failed); nothing was changed");
			goto out;
		}
		memcpy(common, first, sizeof(*common));
	}
	if (cfg.lbaf != ~0u)
		lbaf = cfg.lbaf;
	else if (res->nexisting)
		ns_lba_size(first, &lbaf, NULL);
	else
		lbaf = 0;
	if (lbaf > common->nlbaf || lbaf > 63 || !common->lbaf[lbaf].ds) {
		rc = print_fail(ops, cmd->name, path, "LBA format %u is not supported; nothing was changed", lbaf);
		goto out;
	}
	res->lba_size = 1u << common->lbaf[lbaf].ds;
	nsze = cfg.size / res->lba_size;
	if (!nsze) {
		rc = print_fail(ops, cmd->name, path, "--size is smaller than one %u-byte block", res->lba_size);
		goto out;
	}

	/* the plan, in the order it runs */
	if (res->nexisting && !cfg.delete_first)
		add_step(res, "set-features",
			 "Set Features 0x1D: enable FDP configuration %u on endurance group %u (while namespaces exist: a refusal stops here)",
			 cfg.config_index, res->endgid);
	for (i = 0; i < res->nexisting; i++) {
		add_step(res, "detach", "detach namespace %u from its controllers", res->existing[i]);
		add_step(res, "delete", "delete namespace %u (destroys its data)", res->existing[i]);
	}
	if (!res->nexisting || cfg.delete_first)
		add_step(res, "set-features", "Set Features 0x1D: enable FDP configuration %u on endurance group %u",
			 cfg.config_index, res->endgid);
	add_step(res, "create",
		 "create namespace: %llu blocks of %u bytes (LBA format %u), endurance group %u, placement handles 0-%u -> RUH 0-%u",
		 (unsigned long long)nsze, res->lba_size, lbaf, res->endgid, cfg.handles - 1, cfg.handles - 1);
	add_step(res, "attach", "attach the new namespace to controller %u", res->cntlid);
	add_step(res, "rescan", "rescan namespaces so /dev/nvmeXnY and /dev/ngXnY appear");

	if (!(le16_to_cpu(d.ctrl->oacs) & NVME_CTRL_OACS_NS_MGMT)) {
		skip_rest(res, 0);
		snprintf(res->error, sizeof(res->error),
			 "controller does not support Namespace Management (OACS bit 3 clear); nothing was changed");
		res->outcome = "refused";
		ops->provision(res);
		goto out;
	}
	if (!cfg.force) {
		res->outcome = "planned";
		snprintf(res->error, sizeof(res->error),
			 "not executed: pass --force to run this plan (nothing was changed)");
		ops->provision(res);
		goto out;
	}
	ret = execute(&d, res, lbaf, nsze);
	ops->provision(res);
	rc = ret ? 1 : 0;
out:
	fdp_free_configs(cfgs, ncfgs);
	free(first);
	free(common);
	free(res);
	dev_close(&d);
	return rc;
}
