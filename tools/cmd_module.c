// SPDX-License-Identifier: GPL-2.0
/*
 * Subcommands that drive the fdpkv kernel module through /dev/fdpkv:
 * attach and detach namespaces, list what is granted to whom, show or set a
 * namespace's quotas, and make handles or extents shareable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <uapi/fdpkv.h>

#include "fdpkvctl.h"

#define FDPKV_DEV	"/dev/fdpkv"

_Static_assert(sizeof(struct fdpkv_ns_policy) == 48, "fdpkv_ns_policy layout");

/* Parse and pick the print ops as every subcommand does, then open the device. */
/* Open the module's control node, or say why not. */
static int module_open(const struct cmd_spec *spec, const struct print_ops *ops, int *fd)
{
	*fd = open(FDPKV_DEV, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		return print_fail(ops, spec->name, FDPKV_DEV, "open: %s%s", strerror(errno),
				  errno == ENOENT ? " (is fdpkv.ko loaded?)" : "");
	return 0;
}

static int module_begin(int argc, char **argv, const struct cmd_spec *spec,
			const char *const *output_format, const char **pos,
			const struct print_ops **ops, int *fd)
{
	int ret = cache_begin(argc, argv, spec, pos, output_format, ops);

	return ret ? ret : module_open(spec, *ops, fd);
}

/*
 * The module refuses a native-multipath head (kmod/README.md, "What it
 * refuses"): say so, and what works instead. The head's ng node is named
 * like its block device (both by subsystem and namespace instance).
 */
static int attach_fail_mpath(const struct print_ops *ops, const char *name, const char *path,
			     const struct nvme_mpath *m)
{
	return print_fail(ops, name, path,
			  "attach: %s is the native-multipath head of %s (paths: %s); the module "
			  "can only drive a namespace with its own request queue. Remedy: without "
			  "the module use devices [\"ng:/dev/ng%s\"] (the NVMe driver picks the "
			  "path); to use the module boot with nvme_core.multipath=N on the kernel "
			  "command line (read-only at run time), then attach ONE of the per-controller "
			  "nodes of this namespace", m->disk, m->subsys, m->paths, m->disk + 4);
}

/*
 * Options and the positional fdpkv namespace number of a subcommand, checked
 * before anything is opened: a mistyped command line gets its own error,
 * also where the module is not loaded.
 */
static int module_parse_ns(int argc, char **argv, const struct cmd_spec *spec,
			   const char *const *output_format, const struct print_ops **ops,
			   unsigned long long *ns)
{
	const char *arg = NULL;
	int rc = cache_begin(argc, argv, spec, &arg, output_format, ops);

	if (rc)
		return rc;
	if (parse_uint(arg, 0xffff, ns))
		return print_fail(*ops, spec->name, FDPKV_DEV, "NS: '%s' is not a namespace number",
				  arg);
	return 0;
}

/* module_parse_ns(), then the module's node opened. */
static int module_begin_ns(int argc, char **argv, const struct cmd_spec *spec,
			   const char *const *output_format, const struct print_ops **ops, int *fd,
			   unsigned long long *ns)
{
	int rc = module_parse_ns(argc, argv, spec, output_format, ops, ns);

	return rc ? rc : module_open(spec, *ops, fd);
}

int cmd_attach(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format;
		uint64_t ru_size;
		unsigned int nsid;
	} cfg = { .output_format = "normal" };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		{ "ru-size", 0, OPT_SIZE, &cfg.ru_size, "SIZE",
		  "reclaim unit size (default: read from the FDP Configurations log)" },
		{ "nsid", 'n', OPT_UINT, &cfg.nsid, "N", "refuse unless the namespace id is N" },
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "DEV",
		"Attach the NVMe namespace block device DEV (/dev/nvmeXnY) to the fdpkv\n"
		"module, which then grants its placement handles and LBA ranges to\n"
		"processes. Needs CAP_SYS_ADMIN. The reclaim unit size is read from the\n"
		"device and handed to the module, which cannot send admin commands.", opts };
	const struct print_ops *ops;
	struct fdpkv_ns_attach a;
	struct module_result res;
	const char *path = NULL;
	int fd = -1, rc;

	rc = module_begin(argc, argv, &spec, &cfg.output_format, &path, &ops, &fd);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!cfg.ru_size && fdp_ru_size(path, &cfg.ru_size))
		cfg.ru_size = 0;	/* unknown: users must then set segment_size */
	memset(&a, 0, sizeof(a));
	a.path = (uint64_t)(uintptr_t)path;
	a.nsid = cfg.nsid;
	a.ru_size = cfg.ru_size;
	if (ioctl(fd, FDPKV_IOC_NS_ATTACH, &a)) {
		int e = errno;
		struct nvme_mpath m;

		if (e == EOPNOTSUPP && nvme_mpath_head(path, "/sys/block", &m) == 1) {
			rc = attach_fail_mpath(ops, cmd->name, path, &m);
			goto out;
		}
		rc = print_fail(ops, cmd->name, path, "attach: %s%s", strerror(e),
				e == EOPNOTSUPP ? " (no FDP, or an NVMe driver the module does not "
						  "know: see kmod/README.md)" :
				e == EEXIST ? " (already attached)" :
				e == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
		goto out;
	}
	memset(&res, 0, sizeof(res));
	res.what = "attached";
	res.device = path;
	res.attach = &a;
	ops->module(&res);
out:
	close(fd);
	return rc;
}

int cmd_detach(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format;
	} cfg = { .output_format = "normal" };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "NS",
		"Detach fdpkv namespace number NS (see `fdpkvctl grants`). Refused while\n"
		"any placement handle is granted or any lease is held. Needs CAP_SYS_ADMIN.",
		opts };
	const struct print_ops *ops;
	struct fdpkv_ns_detach d;
	struct module_result res;
	unsigned long long ns;
	int fd = -1, rc;

	rc = module_begin_ns(argc, argv, &spec, &cfg.output_format, &ops, &fd, &ns);
	if (rc)
		return rc < 0 ? 0 : rc;
	memset(&d, 0, sizeof(d));
	d.ns = (uint32_t)ns;
	if (ioctl(fd, FDPKV_IOC_NS_DETACH, &d)) {
		int e = errno;

		rc = print_fail(ops, cmd->name, FDPKV_DEV, "detach namespace %llu: %s%s", ns,
				strerror(e), e == EBUSY ? " (handles or leases are held)" :
					     e == ENODEV ? " (not attached)" : "");
		goto out;
	}
	memset(&res, 0, sizeof(res));
	res.what = "detached";
	res.device = FDPKV_DEV;
	res.detached_ns = (uint32_t)ns;
	ops->module(&res);
out:
	close(fd);
	return rc;
}

/* FDPKV_IOC_LIST of one kind into a malloc'd array, growing until it fits. */
static int module_list(int fd, uint32_t what, size_t esize, void **out, uint32_t *count)
{
	struct fdpkv_list l;
	uint32_t room = 16;
	void *buf = NULL;

	for (;;) {
		void *nb = realloc(buf, room * esize);

		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		memset(&l, 0, sizeof(l));
		l.addr = (uint64_t)(uintptr_t)buf;
		l.size = (uint32_t)(room * esize);
		l.what = what;
		if (ioctl(fd, FDPKV_IOC_LIST, &l)) {
			free(buf);
			return -errno;
		}
		if (l.total <= l.count)
			break;
		room = l.total;
	}
	*out = buf;
	*count = l.count;
	return 0;
}

int cmd_grants(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format;
	} cfg = { .output_format = "normal" };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, NULL,
		"List the namespaces attached to the fdpkv module with their counters\n"
		"(commands forwarded, errors, refusals by reason), every placement handle\n"
		"with its holder process and bytes written, and every LBA lease.", opts };
	const struct print_ops *ops;
	struct module_result res;
	const char *unused = NULL;
	void *ns = NULL, *ph = NULL, *le = NULL;
	int fd = -1, rc, ret;

	rc = module_begin(argc, argv, &spec, &cfg.output_format, &unused, &ops, &fd);
	if (rc)
		return rc < 0 ? 0 : rc;
	memset(&res, 0, sizeof(res));
	ret = module_list(fd, FDPKV_LIST_NAMESPACES, sizeof(struct fdpkv_ns_entry), &ns, &res.nns);
	if (!ret)
		ret = module_list(fd, FDPKV_LIST_HANDLES, sizeof(struct fdpkv_ph_entry), &ph,
				  &res.nph);
	if (!ret)
		ret = module_list(fd, FDPKV_LIST_LEASES, sizeof(struct fdpkv_lease_entry), &le,
				  &res.nleases);
	if (ret) {
		rc = print_fail(ops, cmd->name, FDPKV_DEV, "FDPKV_IOC_LIST: %s", strerror(-ret));
		goto out;
	}
	res.what = "grants";
	res.device = FDPKV_DEV;
	res.ns = ns;
	res.ph = ph;
	res.leases = le;
	ops->module(&res);
out:
	free(ns);
	free(ph);
	free(le);
	close(fd);
	return rc;
}

int cmd_policy(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format;
		unsigned int handles_file, handles_uid, leases_file, leases_uid;
		unsigned int pct_file, pct_uid;
	} cfg = { .output_format = "normal" };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		{ "max-handles-file", 0, OPT_UINT, &cfg.handles_file, "N",
		  "placement handles one open file may hold" },
		{ "max-handles-uid", 0, OPT_UINT, &cfg.handles_uid, "N",
		  "placement handles all files of one uid may hold" },
		{ "max-leases-file", 0, OPT_UINT, &cfg.leases_file, "N",
		  "LBA leases one open file may hold (1..256)" },
		{ "max-leases-uid", 0, OPT_UINT, &cfg.leases_uid, "N",
		  "LBA leases all files of one uid may hold (1..256)" },
		{ "max-lba-pct-file", 0, OPT_UINT, &cfg.pct_file, "PCT",
		  "percent of the namespace's blocks one file may lease (1..100)" },
		{ "max-lba-pct-uid", 0, OPT_UINT, &cfg.pct_uid, "PCT",
		  "percent of the namespace's blocks one uid may lease (1..100)" },
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "NS",
		"Show the quotas of fdpkv namespace number NS (see `fdpkvctl grants`); with\n"
		"any --max-* option, change those limits first (needs CAP_SYS_ADMIN). A\n"
		"grant beyond them fails with EDQUOT; what is held stays held. Default at\n"
		"attach: half the handles, 128 leases and 50% of the blocks, per file and\n"
		"per uid.", opts };
	const struct print_ops *ops;
	struct fdpkv_ns_policy p;
	struct module_result res;
	unsigned long long ns;
	int fd = -1, rc;

	rc = module_begin_ns(argc, argv, &spec, &cfg.output_format, &ops, &fd, &ns);
	if (rc)
		return rc < 0 ? 0 : rc;
	memset(&p, 0, sizeof(p));
	p.ns = (uint32_t)ns;
	if (ioctl(fd, FDPKV_IOC_NS_POLICY_GET, &p)) {
		int e = errno;

		rc = print_fail(ops, cmd->name, FDPKV_DEV, "policy of namespace %llu: %s%s", ns,
				strerror(e), e == ENODEV ? " (not attached)" :
					     e == ENOTTY ? " (module without quotas)" : "");
		goto out;
	}
	if (cfg.handles_file || cfg.handles_uid || cfg.leases_file || cfg.leases_uid ||
	    cfg.pct_file || cfg.pct_uid) {
		p.max_handles_file = cfg.handles_file ? cfg.handles_file : p.max_handles_file;
		p.max_handles_uid = cfg.handles_uid ? cfg.handles_uid : p.max_handles_uid;
		p.max_leases_file = cfg.leases_file ? cfg.leases_file : p.max_leases_file;
		p.max_leases_uid = cfg.leases_uid ? cfg.leases_uid : p.max_leases_uid;
		p.max_lba_pct_file = cfg.pct_file ? cfg.pct_file : p.max_lba_pct_file;
		p.max_lba_pct_uid = cfg.pct_uid ? cfg.pct_uid : p.max_lba_pct_uid;
		if (ioctl(fd, FDPKV_IOC_NS_POLICY_SET, &p)) {
			int e = errno;

			rc = print_fail(ops, cmd->name, FDPKV_DEV, "set policy of namespace %llu: %s%s",
					ns, strerror(e),
					e == EPERM ? " (needs CAP_SYS_ADMIN)" :
					e == EINVAL ? " (a limit is 0 or beyond the namespace's "
						      "handles, 256 leases or 100%)" : "");
			goto out;
		}
	}
	memset(&res, 0, sizeof(res));
	res.what = "policy";
	res.device = FDPKV_DEV;
	res.policy = &p;
	ops->module(&res);
out:
	close(fd);
	return rc;
}

/* "SLBA+NLB": an extent of logical blocks, both decimal or 0x. */
static int parse_extent(const char *s, uint64_t *slba, uint64_t *nlb)
{
	unsigned long long a, b;
	const char *plus = strchr(s, '+');
	char head[32];

	if (!plus || (size_t)(plus - s) >= sizeof(head))
		return -1;
	memcpy(head, s, (size_t)(plus - s));
	head[plus - s] = '\0';
	if (parse_uint(head, UINT64_MAX, &a) || parse_uint(plus + 1, UINT64_MAX, &b) || !b)
		return -1;
	*slba = a;
	*nlb = b;
	return 0;
}

/* Why the module refused a share change, for the message. */
static const char *share_errno_hint(int e, bool extent)
{
	switch (e) {
	case EPERM:
		return " (needs CAP_SYS_ADMIN)";
	case EBUSY:
		return extent ? " (overlaps a lease or another extent, or a shared lease lies "
				"inside it)" : " (the handle is granted: share it while free)";
	case ENOENT:
		return extent ? " (no extent with exactly these bounds)" : " (no such placement id)";
	case ERANGE:
		return " (beyond the namespace's capacity)";
	case ENOSPC:
		return " (the lease table is full)";
	case ENODEV:
		return " (not attached)";
	case ENOTTY:
		return " (module without shareable extents)";
	default:
		return "";
	}
}

int cmd_share(int argc, char **argv, const struct cmd *cmd)
{
	struct {
		const char *output_format, *handles, *extent;
		bool off;
	} cfg = { .output_format = "normal" };
	const struct opt opts[] = {
		OPT_OUTPUT(&cfg.output_format),
		{ "handle", 0, OPT_STR, &cfg.handles, "PID[,PID...]",
		  "placement ids any file may then take with FDPKV_PH_SHARED" },
		{ "extent", 0, OPT_STR, &cfg.extent, "SLBA+NLB",
		  "logical blocks in which files may then take shared leases" },
		{ "off", 0, OPT_FLAG, &cfg.off, NULL,
		  "make them exclusive again (an extent: exactly these bounds)" },
		OPT_END,
	};
	const struct cmd_spec spec = { cmd->name, "NS",
		"Make placement handles (--handle) or an extent of logical blocks (--extent)\n"
		"of fdpkv namespace number NS shareable between tenants, or exclusive again\n"
		"with --off. Needs CAP_SYS_ADMIN. `fdpkvctl grants` lists the result.", opts };
	const struct print_ops *ops;
	struct module_result res;
	unsigned long long ns;
	uint16_t pids[SHARE_MAX_PIDS];
	int fd = -1, rc, n = 0, i;

	rc = module_parse_ns(argc, argv, &spec, &cfg.output_format, &ops, &ns);
	if (rc)
		return rc < 0 ? 0 : rc;
	memset(&res, 0, sizeof(res));
	res.what = "shared";
	res.device = FDPKV_DEV;
	res.share_ns = (uint32_t)ns;
	res.share_off = cfg.off;
	if (!cfg.handles == !cfg.extent) {
		rc = print_fail(ops, cmd->name, FDPKV_DEV, "give either --handle or --extent");
		goto out;
	}
	if (cfg.handles) {
		n = parse_u16_list(cfg.handles, pids, SHARE_MAX_PIDS);
		if (n <= 0) {
			rc = print_fail(ops, cmd->name, FDPKV_DEV,
					"--handle: '%s' is not a list of placement ids", cfg.handles);
			goto out;
		}
	} else if (parse_extent(cfg.extent, &res.share_slba, &res.share_nlb)) {
		rc = print_fail(ops, cmd->name, FDPKV_DEV,
				"--extent: '%s' is not SLBA+NLB with NLB >= 1", cfg.extent);
		goto out;
	}
	rc = module_open(&spec, ops, &fd);
	if (rc)
		goto out;
	for (i = 0; i < n; i++) {
		struct fdpkv_ph_share s = { .ns = (uint32_t)ns, .pid = pids[i], .shared = !cfg.off };

		if (ioctl(fd, FDPKV_IOC_PH_SHARE, &s)) {
			int e = errno;

			rc = print_fail(ops, cmd->name, FDPKV_DEV,
					"placement id %u of namespace %llu: %s%s", pids[i], ns,
					strerror(e), share_errno_hint(e, false));
			goto out;
		}
		res.share_pids[res.nshare_pids++] = pids[i];
	}
	if (cfg.extent) {
		struct fdpkv_lease_share s = { .ns = (uint32_t)ns, .shared = !cfg.off,
					       .slba = res.share_slba, .nlb = res.share_nlb };

		if (ioctl(fd, FDPKV_IOC_LEASE_SHARE, &s)) {
			int e = errno;

			rc = print_fail(ops, cmd->name, FDPKV_DEV,
					"extent %llu+%llu of namespace %llu: %s%s",
					(unsigned long long)s.slba, (unsigned long long)s.nlb, ns,
					strerror(e), share_errno_hint(e, true));
			goto out;
		}
	}
	ops->module(&res);
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
