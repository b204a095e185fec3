// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe access for fdpkvctl, all through libnvme: opening a namespace or a
 * controller, Identify, Get Features 0x1D, the FDP log pages (variable ones
 * header first, then whole) and RUH Status. libnvme returns 0, a positive
 * NVMe status, or -1 with errno set; nvme_strerr() turns that into text.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libnvme.h>

#include "fdpkvctl.h"

_Static_assert(sizeof(struct nvme_fdp_config_desc) == 64, "FDP config descriptor");
_Static_assert(sizeof(struct nvme_fdp_ruh_status_desc) == 32, "RUH status descriptor");
_Static_assert(sizeof(struct nvme_fdp_event) == 64, "FDP event");

const char *nvme_strerr(char *buf, size_t len, const char *what, int ret)
{
	if (ret > 0)
		snprintf(buf, len, "%s: NVMe status 0x%x (%s)", what, ret & 0x7ff,
			 nvme_status_to_string(ret, false));
	else
		snprintf(buf, len, "%s: %s", what, strerror(errno ? errno : EIO));
	return buf;
}

static void trim_copy(char *dst, const char *src, size_t n)
{
	size_t len = n;

	memcpy(dst, src, n);
	while (len && (dst[len - 1] == ' ' || dst[len - 1] == 0))
		len--;
	dst[len] = 0;
}

void ctrl_strings(const struct nvme_id_ctrl *c, char *model, char *serial, char *fw)
{
	if (model)
		trim_copy(model, c->mn, sizeof(c->mn));
	if (serial)
		trim_copy(serial, c->sn, sizeof(c->sn));
	if (fw)
		trim_copy(fw, c->fr, sizeof(c->fr));
}

bool ctrl_fdp_supported(const struct nvme_id_ctrl *c)
{
	return le32_to_cpu(c->ctratt) & NVME_CTRL_CTRATT_FDPS;
}

uint32_t ns_lba_size(const struct nvme_id_ns *ns, unsigned int *lbaf, uint16_t *ms)
{
	unsigned int idx = ns->flbas & 0xf;

	if (ns->nlbaf > 15)	/* FLBAS bits 6:5 are the upper bits of the index */
		idx |= ((ns->flbas >> 5) & 0x3) << 4;
	if (idx > 63)
		idx = 0;
	if (lbaf)
		*lbaf = idx;
	if (ms)
		*ms = le16_to_cpu(ns->lbaf[idx].ms);
	return ns->lbaf[idx].ds ? 1u << ns->lbaf[idx].ds : 0;
}

static int dev_open_common(struct dev *d, const char *path, char *err, size_t len)
{
	struct stat st;
	int ret;

	memset(d, 0, sizeof(*d));
	d->path = path;
	d->fd = open(path, O_RDONLY);
	if (d->fd < 0) {
		snprintf(err, len, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(d->fd, &st) || (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))) {
		snprintf(err, len, "not an NVMe device (%s)",
			 S_ISREG(st.st_mode) ? "a regular file" :
			 S_ISDIR(st.st_mode) ? "a directory" : "not a device node");
		return -1;
	}
	d->ctrl = calloc(1, sizeof(*d->ctrl));
	if (!d->ctrl) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	errno = 0;
	ret = nvme_identify_ctrl(d->fd, d->ctrl);
	if (ret) {
		if (ret < 0 && errno == ENOTTY)
			snprintf(err, len, "not an NVMe device (NVMe ioctls not supported)");
		else
			nvme_strerr(err, len, "Identify Controller", ret);
		return -1;
	}
	return 0;
}

int dev_open_ns(struct dev *d, const char *path, char *err, size_t len)
{
	char what[64];
	int ret;

	if (dev_open_common(d, path, err, len))
		return -1;
	errno = 0;
	if (nvme_get_nsid(d->fd, &d->nsid) || !d->nsid) {
		snprintf(err, len, "not an NVMe namespace (use /dev/ngXnY or /dev/nvmeXnY): %s",
			 strerror(errno ? errno : EINVAL));
		return -1;
	}
	d->ns = calloc(1, sizeof(*d->ns));
	if (!d->ns) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	ret = nvme_identify_ns(d->fd, d->nsid, d->ns);
	if (ret) {
		snprintf(what, sizeof(what), "Identify Namespace %u", d->nsid);
		nvme_strerr(err, len, what, ret);
		return -1;
	}
	d->lba_size = ns_lba_size(d->ns, NULL, NULL);
	/* 0 means "not reported"; QEMU's FDP subsystem is endurance group 1 */
	d->endgid = le16_to_cpu(d->ns->endgid);
	if (!d->endgid)
		d->endgid = 1;
	return 0;
}

int dev_open_ctrl(struct dev *d, const char *path, char *err, size_t len)
{
	uint32_t nsid = 0;

	if (dev_open_common(d, path, err, len))
		return -1;
	if (!nvme_get_nsid(d->fd, &nsid) && nsid) {
		snprintf(err, len, "is namespace %u, not a controller (give /dev/nvmeX)", nsid);
		return -1;
	}
	d->endgid = 1;
	return 0;
}

void dev_close(struct dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	free(d->ctrl);
	free(d->ns);
	d->ctrl = NULL;
	d->ns = NULL;
}

int fdp_get_feature(int fd, uint16_t endgid, bool *enabled, unsigned int *index)
{
	uint32_t result = 0;
	struct nvme_get_features_args args = {
		.args_size = sizeof(args),
		.fd = fd,
		.result = &result,
		.timeout = NVME_DEFAULT_IOCTL_TIMEOUT,
		.sel = NVME_GET_FEATURES_SEL_CURRENT,
		.cdw11 = endgid,
		.fid = NVME_FEAT_FID_FDP,
		.uuidx = NVME_UUID_NONE,
	};
	int ret = nvme_get_features(&args);

	if (!ret) {
		*enabled = result & 1;
		*index = (result >> 8) & 0xff;
	}
	return ret;
}

static void read_usage(int fd, uint16_t endgid, struct fdp_config *c)
{
	struct nvme_fdp_ruhu_log hdr, *log;
	uint32_t len;
	unsigned int i;

	if (nvme_get_log_reclaim_unit_handle_usage(fd, endgid, 0, sizeof(hdr), &hdr))
		return;
	len = sizeof(hdr) + le16_to_cpu(hdr.nruh) * sizeof(struct nvme_fdp_ruhu_desc);
	log = calloc(1, len);
	if (!log)
		return;
	if (!nvme_get_log_reclaim_unit_handle_usage(fd, endgid, 0, len, log))
		for (i = 0; i < c->nruh && i < le16_to_cpu(log->nruh); i++)
			c->ruhs[i].usage = log->ruhus[i].ruha;
	free(log);
}

int fdp_read_configs(int fd, uint16_t endgid, struct fdp_config **cfgs, unsigned int *n)
{
	struct nvme_fdp_config_log hdr;
	struct fdp_config *out = NULL;
	uint8_t *buf;
	uint32_t size, off;
	unsigned int i, k, count;
	bool en = false;
	unsigned int cur = 0;
	int ret;

	*cfgs = NULL;
	*n = 0;
	ret = nvme_get_log_fdp_configurations(fd, endgid, 0, sizeof(hdr), &hdr);
	if (ret)
		return ret;
	size = le32_to_cpu(hdr.size);
	if (size < sizeof(hdr) || size > (1u << 20))
		size = 4096;
	buf = calloc(1, size);
	if (!buf)
		return errno = ENOMEM, -1;
	ret = nvme_get_log_fdp_configurations(fd, endgid, 0, size, buf);
	if (ret)
		goto out;
	if (fdp_get_feature(fd, endgid, &en, &cur))
		en = false;
	count = le16_to_cpu(((struct nvme_fdp_config_log *)buf)->n) + 1;
	out = calloc(count, sizeof(*out));
	if (!out) {
		ret = -1;
		errno = ENOMEM;
		goto out;
	}
	off = sizeof(hdr);
	for (i = 0; i < count; i++) {
		const struct nvme_fdp_config_desc *d = (const void *)(buf + off);
		struct fdp_config *c = &out[i];
		uint16_t dsize;

		if (off + sizeof(*d) > size)
			break;
		dsize = le16_to_cpu(d->size);
		c->index = i;
		c->valid = NVME_GET(d->fdpa, FDP_CONFIG_FDPA_VALID);
		c->vwc = NVME_GET(d->fdpa, FDP_CONFIG_FDPA_FDPVWC);
		c->rgif = NVME_GET(d->fdpa, FDP_CONFIG_FDPA_RGIF);
		c->nrg = le32_to_cpu(d->nrg);
		c->nruh = le16_to_cpu(d->nruh);
		c->maxpids = le16_to_cpu(d->maxpids);
		c->nnss = le32_to_cpu(d->nnss);
		c->runs = le64_to_cpu(d->runs);
		c->erutl = le32_to_cpu(d->erutl);
		c->in_use = en && cur == i;
		c->ruhs = calloc(c->nruh ? c->nruh : 1, sizeof(*c->ruhs));
		if (!c->ruhs) {
			ret = -1;
			errno = ENOMEM;
			*n = i;
			goto out;
		}
		for (k = 0; k < c->nruh; k++) {
			c->ruhs[k].ruhid = (uint16_t)k;
			c->ruhs[k].usage = -1;
			if (off + sizeof(*d) + ((size_t)k + 1) * sizeof(d->ruhs[0]) <= (size_t)size)
				c->ruhs[k].type = d->ruhs[k].ruht;
		}
		if (c->in_use)
			read_usage(fd, endgid, c);
		*n = i + 1;
		if (dsize < sizeof(*d))
			break;
		off += dsize;
	}
	*cfgs = out;
	out = NULL;
out:
	if (out)
		fdp_free_configs(out, *n);
	free(buf);
	return ret;
}

void fdp_free_configs(struct fdp_config *cfgs, unsigned int n)
{
	unsigned int i;

	for (i = 0; cfgs && i < n; i++)
		free(cfgs[i].ruhs);
	free(cfgs);
}

int fdp_ruh_status(int fd, uint32_t nsid, unsigned int rgif, struct ruhs_entry **e,
		   unsigned int *n)
{
	struct nvme_fdp_ruh_status hdr, *st;
	unsigned int i, cnt;
	uint32_t len;
	int ret;

	*e = NULL;
	*n = 0;
	memset(&hdr, 0, sizeof(hdr));
	ret = nvme_fdp_reclaim_unit_handle_status(fd, nsid, sizeof(hdr), &hdr);
	if (ret)
		return ret;
	cnt = le16_to_cpu(hdr.nruhsd);
	len = sizeof(hdr) + cnt * sizeof(struct nvme_fdp_ruh_status_desc);
	st = calloc(1, len);
	if (!st)
		return errno = ENOMEM, -1;
	ret = nvme_fdp_reclaim_unit_handle_status(fd, nsid, len, st);
	if (ret) {
		free(st);
		return ret;
	}
	if (le16_to_cpu(st->nruhsd) < cnt)
		cnt = le16_to_cpu(st->nruhsd);
	*e = calloc(cnt ? cnt : 1, sizeof(**e));
	if (!*e) {
		free(st);
		return errno = ENOMEM, -1;
	}
	for (i = 0; i < cnt; i++) {
		const struct nvme_fdp_ruh_status_desc *d = &st->ruhss[i];
		struct ruhs_entry *x = &(*e)[i];

		x->pid = le16_to_cpu(d->pid);
		x->ruhid = le16_to_cpu(d->ruhid);
		x->earutr = le32_to_cpu(d->earutr);
		x->ruamw = le64_to_cpu(d->ruamw);
		/* PID = RG in the top RGIF bits, placement handle below */
		x->rgid = rgif ? (uint16_t)(x->pid >> (16 - rgif)) : 0;
		x->ph = rgif ? (uint16_t)(x->pid & ((1u << (16 - rgif)) - 1)) : x->pid;
	}
	*n = cnt;
	free(st);
	return 0;
}

static u128 le128(const uint8_t *p)
{
	u128 v = 0;
	int i;

	for (i = 15; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int fdp_read_stats(int fd, uint16_t endgid, struct stats_counters *s)
{
	struct nvme_fdp_stats_log log;
	int ret;

	memset(&log, 0, sizeof(log));
	ret = nvme_get_log_fdp_stats(fd, endgid, 0, sizeof(log), &log);
	if (ret)
		return ret;
	s->hbmw = le128(log.hbmw);
	s->mbmw = le128(log.mbmw);
	s->mbe = le128(log.mbe);
	return 0;
}

int fdp_ru_size(const char *path, uint64_t *runs)
{
	struct fdp_config *c = NULL;
	unsigned int n = 0, i;
	char err[ERR_LEN];
	struct dev d;
	int ret = -1;

	*runs = 0;
	if (!dev_open_ns(&d, path, err, sizeof(err)) &&
	    !fdp_read_configs(d.fd, d.endgid, &c, &n)) {
		for (i = 0; i < n; i++)
			if (c[i].in_use) {
				*runs = c[i].runs;
				ret = 0;
			}
		fdp_free_configs(c, n);
	}
	dev_close(&d);
	return ret;
}
