// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * backend_ng.c - NVMe passthrough backends over io_uring uring_cmd
 * (SQE128/CQE32); writes carry DTYPE=2 with the class's placement id.
 *
 *  "ng:/dev/ngXnY"         straight to the namespace's generic char device:
 *                          the whole namespace and all its placement ids are
 *                          the cache's. Needs root on 6.1 (every passthrough
 *                          command) and for the admin commands on any kernel.
 *  "fdpkv:/dev/fdpkv?ns=N" through the fdpkv module: placement handles and an
 *                          LBA lease are granted to this process, the module
 *                          checks every command; no privilege needed beyond
 *                          access to /dev/fdpkv. Geometry and the reclaim
 *                          unit size come from the module.
 *
 * Both: a segment is one reclaim unit, so at open every placement id the
 * cache writes through is moved to a fresh RU (RUH Update) if its current
 * RU is partly written — after a restart the open segments of the last run
 * left them so. Writing then starts on an RU boundary.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/nvme_ioctl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <uapi/fdpkv.h>

#include "internal.h"

#define NG_DEFAULT_MAX_TRANSFER	(128u << 10)
#define NVME_ADMIN_IDENTIFY	0x06
#define NVME_ADMIN_GET_LOG	0x02
#define NVME_ADMIN_GET_FEATURES	0x0a
#define NVME_IO_MGMT_RECV	0x12
#define NVME_IO_MGMT_SEND	0x1d
#define NVME_LOG_FDP_CONFIGS	0x20
#define NVME_FEAT_FDP		0x1d
#define RUH_STATUS_BYTES	4096

struct ng_priv {
	bool via_module;		/* fdpkv: */
	uint32_t fdpkv_ns;		/* fdpkv namespace number */
	uint32_t cmd_op;		/* NVME_URING_CMD_IO or FDPKV_URING_CMD_IO */
	uint32_t nsid;
	unsigned int lba_shift;
	uint64_t nlba;
	uint32_t max_transfer;
	bool fdp;
	unsigned int npids;
	uint16_t pids[FDPKV_MAX_CLASSES];
	uint64_t ru_bytes;
	uint64_t capacity;		/* bytes the cache may use, 0: all */
	int dlfeat;			/* Identify Namespace DLFEAT, -1: not known */
	/* synchronous control commands (open, alignment) go through this ring */
	pthread_mutex_t ctl_lock;
	struct io_uring ctl;
	bool ctl_ready;
};

static void ng_fill(struct ng_priv *np, struct io_uring_sqe *sqe, int fd)
{
	/*
	 * A 128-byte SQE: the command area runs past struct io_uring_sqe,
	 * which the compiler's bounds checks cannot know.
	 */
	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = np->cmd_op;
	if (np->via_module)
		((struct fdpkv_uring_cmd *)sqe->cmd)->ns = np->fdpkv_ns;
}

/* One I/O command on the control ring: 0, -errno, or -EIO for an NVMe status. */
static int ng_ctl_io(struct fdpkv_dev *dev, uint8_t opcode, void *buf, uint32_t len,
		     uint32_t cdw10, uint32_t cdw11)
{
	struct ng_priv *np = dev->priv;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct nvme_uring_cmd *c;
	int ret;

	pthread_mutex_lock(&np->ctl_lock);
	sqe = io_uring_get_sqe(&np->ctl);
	if (!sqe) {		/* cannot happen: one command at a time */
		pthread_mutex_unlock(&np->ctl_lock);
		return -EBUSY;
	}
	ng_fill(np, sqe, dev->fd);
	c = (struct nvme_uring_cmd *)sqe->cmd;
	c->opcode = opcode;
	c->nsid = np->nsid;
	c->addr = (uint64_t)(uintptr_t)buf;
	c->data_len = len;
	c->cdw10 = cdw10;
	c->cdw11 = cdw11;
	ret = io_uring_submit_and_wait(&np->ctl, 1);
	if (ret >= 0)
		ret = io_uring_wait_cqe(&np->ctl, &cqe);
	if (ret >= 0) {
		ret = cqe->res > 0 ? -EIO : cqe->res;
		io_uring_cqe_seen(&np->ctl, cqe);
	}
	pthread_mutex_unlock(&np->ctl_lock);
	return ret;
}

static void *ng_zalloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, 4096, len))
		return NULL;
	memset(p, 0, len);
	return p;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/*
 * RUH Status: the placement ids of the namespace and what is left of each
 * one's current RU, in LBAs. Returns the descriptor count or -errno.
 */
static int ng_ruh_status(struct fdpkv_dev *dev, uint16_t *pids, uint64_t *ruamw, unsigned int max)
{
	uint8_t *b = ng_zalloc(RUH_STATUS_BYTES);
	unsigned int i, n;
	int ret;

	if (!b)
		return -ENOMEM;
	/* MO 1: RUH Status; CDW11: NUMD, 0's based */
	ret = ng_ctl_io(dev, NVME_IO_MGMT_RECV, b, RUH_STATUS_BYTES, 1, RUH_STATUS_BYTES / 4 - 1);
	if (ret) {
		free(b);
		return ret;
	}
	n = MIN((unsigned int)get16(b + 14), (RUH_STATUS_BYTES - 16) / 32);
	for (i = 0; i < n && i < max; i++) {
		pids[i] = get16(b + 16 + 32 * i);
		if (ruamw)
			ruamw[i] = get64(b + 16 + 32 * i + 8);
	}
	free(b);
	return (int)i;
}

static int ng_admin(int fd, uint8_t opcode, uint32_t nsid, void *buf, uint32_t len,
		    uint32_t cdw10, uint32_t cdw11, uint32_t *result)
{
	struct nvme_passthru_cmd cmd;
	int ret;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = opcode;
	cmd.nsid = nsid;
	cmd.addr = (uint64_t)(uintptr_t)buf;
	cmd.data_len = len;
	cmd.cdw10 = cdw10;
	cmd.cdw11 = cdw11;
	ret = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);
	if (ret < 0)
		return -errno;
	if (result)
		*result = cmd.result;
	return ret > 0 ? -EIO : 0;
}

/* Identify Namespace byte 33: what a read of deallocated LBAs returns. */
#define ID_NS_DLFEAT		33
#define DLFEAT_READ_MASK	0x7
#define DLFEAT_READ_ZEROES	0x1

/* LBA size, size, endurance group and DLFEAT from Identify Namespace. */
static int ng_identify(int fd, struct ng_priv *np, uint16_t *endgid)
{
	uint8_t *id = ng_zalloc(4096);
	unsigned int fmt;
	int ret;

	if (!id)
		return -ENOMEM;
	ret = ng_admin(fd, NVME_ADMIN_IDENTIFY, np->nsid, id, 4096, 0 /* CNS 0 */, 0, NULL);
	if (!ret) {
		fmt = (id[26] & 0x0f) | ((id[26] >> 5 & 0x3) << 4);
		np->lba_shift = id[128 + 4 * fmt + 2];
		np->nlba = get64(id);
		*endgid = get16(id + 102);
		np->dlfeat = id[ID_NS_DLFEAT];
		if (np->lba_shift < 9 || np->lba_shift > 16)
			ret = -EINVAL;
	}
	free(id);
	return ret;
}

/*
 * The reclaim unit size of the FDP configuration in use: Get Features FDP
 * gives its index, the FDP Configurations log its descriptor.
 */
static int ng_ru_size(int fd, uint16_t endgid, uint64_t *runs)
{
	const uint32_t len = 4096;
	uint8_t *log = ng_zalloc(len);
	uint32_t feat = 0, numd = len / 4 - 1, off, idx, i, n;
	int ret;

	if (!log)
		return -ENOMEM;
	ret = ng_admin(fd, NVME_ADMIN_GET_FEATURES, 0, NULL, 0, NVME_FEAT_FDP, endgid, &feat);
	if (!ret)
		ret = ng_admin(fd, NVME_ADMIN_GET_LOG, 0xffffffff, log, len,
			       NVME_LOG_FDP_CONFIGS | (numd & 0xffff) << 16,
			       numd >> 16 | (uint32_t)endgid << 16, NULL);
	if (ret)
		goto out;
	idx = (feat >> 8) & 0xff;
	n = get16(log) + 1u;		/* NUMFDPC, 0's based */
	for (i = 0, off = 16; i < n && off + 24 <= len; i++) {
		uint16_t dsze = get16(log + off);

		if (i == idx) {
			*runs = get64(log + off + 16);
			goto out;
		}
		if (!dsze)
			break;
		off += dsze;
	}
	ret = -ENOENT;
out:
	free(log);
	return ret;
}

/* An unsigned number from /sys/block/@disk/queue/@attr, 0 if unreadable. */
static unsigned long ng_queue_attr(const char *disk, const char *attr)
{
	char sys[256];
	unsigned long v = 0;
	FILE *f;

	snprintf(sys, sizeof(sys), "/sys/block/%s/queue/%s", disk, attr);
	f = fopen(sys, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* Largest power-of-two transfer the kernel maps for this namespace. */
static uint32_t ng_max_transfer(const char *path)
{
	const char *base = strrchr(path, '/');
	unsigned long kb, segs;
	uint64_t max = NG_DEFAULT_MAX_TRANSFER;
	uint32_t p2 = 4096;
	char name[64];

	base = base ? base + 1 : path;
	if (strncmp(base, "ng", 2))
		return NG_DEFAULT_MAX_TRANSFER;
	snprintf(name, sizeof(name), "nvme%s", base + 2);	/* ng0n1 -> nvme0n1 */
	kb = ng_queue_attr(name, "max_hw_sectors_kb");
	segs = ng_queue_attr(name, "max_segments");
	if (kb && segs > 1)
		max = MIN((uint64_t)kb << 10, (uint64_t)(segs - 1) * 4096);
	while ((uint64_t)p2 * 2 <= max && p2 < (1u << 30))
		p2 *= 2;
	return p2;
}

static int ng_open_direct(struct fdpkv_dev *dev, struct ng_priv *np, const char *path,
			  char *err, size_t errlen)
{
	uint16_t endgid = 0;
	int ret;

	ret = ioctl(dev->fd, NVME_IOCTL_ID);
	if (ret <= 0) {
		ret = ret < 0 ? -errno : -EINVAL;
		fdpkv_seterr(err, errlen, "device '%s': not an NVMe namespace (NVME_IOCTL_ID: %s)",
			     dev->uri, strerror(-ret));
		return ret;
	}
	np->nsid = (uint32_t)ret;
	np->cmd_op = NVME_URING_CMD_IO;
	ret = ng_identify(dev->fd, np, &endgid);
	if (ret) {
		fdpkv_seterr(err, errlen, "device '%s': identify namespace: %s%s", dev->uri,
			     strerror(-ret), ret == -EACCES ? " (admin commands need root)" : "");
		return ret;
	}
	np->max_transfer = ng_max_transfer(path);
	if (ng_ru_size(dev->fd, endgid ? endgid : 1, &np->ru_bytes))
		np->ru_bytes = 0;	/* not FDP, or no right to read the log */
	return 0;
}

/*
 * DLFEAT of the namespace behind an fdpkv namespace. The module does not
 * report it (and struct fdpkv_ns_entry has no room without a new command),
 * so ask the namespace itself: Identify through the block device it was
 * attached from, or through its generic char device. Both need privileges an
 * fdpkv user need not have: then it stays unknown (-1), which the cache
 * treats as "deallocate may keep the old bytes".
 */
static int ng_module_dlfeat(const char *path, uint32_t nsid)
{
	const char *base = strrchr(path, '/');
	char ng[64];
	const char *try[2] = { path, NULL };
	uint8_t *id;
	unsigned int i;
	int dlfeat = -1;

	base = base ? base + 1 : path;
	if (!strncmp(base, "nvme", 4)) {
		snprintf(ng, sizeof(ng), "/dev/ng%s", base + 4);	/* nvme0n1 -> ng0n1 */
		try[1] = ng;
	}
	id = ng_zalloc(4096);
	if (!id)
		return -1;
	for (i = 0; i < ARRAY_SIZE(try) && dlfeat < 0; i++) {
		int fd;

		if (!try[i] || !try[i][0])
			continue;
		fd = open(try[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (ioctl(fd, NVME_IOCTL_ID) == (int)nsid &&
		    !ng_admin(fd, NVME_ADMIN_IDENTIFY, nsid, id, 4096, 0 /* CNS 0 */, 0, NULL))
			dlfeat = id[ID_NS_DLFEAT];
		close(fd);
	}
	free(id);
	return dlfeat;
}

/*
 * The blocks one file may lease from a module namespace of @nlba blocks: the
 * policy's smaller percentage (per file, per uid), or all of them from a
 * module without quotas.
 */
static uint64_t ng_module_lease_share(int fd, uint32_t ns, uint64_t nlba)
{
	struct fdpkv_ns_policy p = { .ns = ns };
	uint32_t pct;

	if (ioctl(fd, FDPKV_IOC_NS_POLICY_GET, &p))
		return nlba;
	pct = MIN(p.max_lba_pct_file, p.max_lba_pct_uid);
	return (uint64_t)((unsigned __int128)nlba * pct / 100);
}

/* fdpkv:/dev/fdpkv?ns=N - the module's namespace N, granted to this process. */
static int ng_open_module(struct fdpkv_dev *dev, struct ng_priv *np, const char *query,
			  const struct fdpkv_config *cfg, char *err, size_t errlen)
{
	struct fdpkv_ns_entry *ents;
	struct fdpkv_list l = { 0 };
	struct fdpkv_lease lease = { 0 };
	struct fdpkv_ph ph = { 0 };
	unsigned int want, i;
	char *end;
	long v;
	int ret = 0;

	if (!query || strncmp(query, "ns=", 3)) {
		fdpkv_seterr(err, errlen, "device '%s': expected fdpkv:/dev/fdpkv?ns=N", dev->uri);
		return -EINVAL;
	}
	v = strtol(query + 3, &end, 10);
	if (*end || v < 0 || v >= 1 << 16) {
		fdpkv_seterr(err, errlen, "device '%s': ns: not a namespace number", dev->uri);
		return -EINVAL;
	}
	np->via_module = true;
	np->fdpkv_ns = (uint32_t)v;
	np->cmd_op = FDPKV_URING_CMD_IO;
	ents = calloc(16, sizeof(*ents));
	if (!ents)
		return -ENOMEM;
	l.addr = (uint64_t)(uintptr_t)ents;
	l.size = 16 * sizeof(*ents);
	l.what = FDPKV_LIST_NAMESPACES;
	if (ioctl(dev->fd, FDPKV_IOC_LIST, &l))
		ret = -errno;
	for (i = 0; !ret && i < l.count && ents[i].ns != np->fdpkv_ns; i++)
		;
	if (ret || i == l.count) {
		fdpkv_seterr(err, errlen, "device '%s': namespace %u is not attached to fdpkv%s",
			     dev->uri, np->fdpkv_ns, ret ? "" : " (fdpkvctl attach)");
		free(ents);
		return ret ? ret : -ENODEV;
	}
	np->nsid = ents[i].nsid;
	np->lba_shift = (unsigned int)__builtin_ctz(ents[i].lba_size);
	np->nlba = ents[i].capacity;
	np->ru_bytes = ents[i].ru_size;
	np->max_transfer = 4096;
	while ((uint64_t)np->max_transfer * 2 <= ents[i].max_transfer)
		np->max_transfer *= 2;
	want = MIN(ents[i].nr_pids, cfg->max_classes + FDPKV_CLASS_DATA0);
	ents[i].path[sizeof(ents[i].path) - 1] = '\0';
	np->dlfeat = ng_module_dlfeat(ents[i].path, np->nsid);
	free(ents);

	/*
	 * As many handles as there are classes, or as many as are free and the
	 * namespace's policy gives this file and its uid (EDQUOT beyond).
	 */
	ph.ns = np->fdpkv_ns;
	for (ph.count = MIN(want, FDPKV_MAX_CLASSES); ph.count; ph.count--) {
		if (ioctl(dev->fd, FDPKV_IOC_PH_ALLOC, &ph) == 0)
			break;
		if (errno != ENOSPC && errno != EDQUOT) {
			ret = -errno;
			break;
		}
	}
	if (ret || !ph.count) {
		ret = ret ? ret : -ENOSPC;
		fdpkv_seterr(err, errlen, "device '%s': no placement handle free: %s", dev->uri,
			     strerror(-ret));
		return ret;
	}
	np->npids = ph.count;
	memcpy(np->pids, ph.pids, ph.count * sizeof(ph.pids[0]));
	np->fdp = true;

	/*
	 * The LBAs the cache uses: capacity, or the whole namespace; without a
	 * capacity, as much of it as the namespace's policy lets one file and
	 * uid lease (by default half).
	 */
	lease.ns = np->fdpkv_ns;
	lease.nlb = cfg->capacity_bytes ? cfg->capacity_bytes >> np->lba_shift
				       : ng_module_lease_share(dev->fd, np->fdpkv_ns, np->nlba);
	if (!lease.nlb || ioctl(dev->fd, FDPKV_IOC_LEASE_ACQUIRE, &lease)) {
		if (!lease.nlb)
			errno = EDQUOT;
		ret = -errno;
		fdpkv_seterr(err, errlen, "device '%s': lease of LBAs 0..%llu: %s%s", dev->uri,
			     (unsigned long long)lease.nlb - 1, strerror(-ret),
			     ret == -EBUSY ? " (another process holds them)" :
			     ret == -EDQUOT ? " (beyond the namespace's quota: fdpkvctl policy)" : "");
		return ret;
	}
	np->nlba = lease.nlb;
	return 0;
}

static int ng_open(struct fdpkv_dev *dev, const char *path, const struct fdpkv_config *cfg,
		   bool create, char *err, size_t errlen)
{
	bool module = !strncmp(dev->uri, "fdpkv:", 6);
	const char *q = module ? strchr(path, '?') : NULL;
	char devpath[256];
	struct ng_priv *np;
	int ret;

	(void)create;
	np = calloc(1, sizeof(*np));
	if (!np)
		return -ENOMEM;
	pthread_mutex_init(&np->ctl_lock, NULL);
	np->dlfeat = -1;
	dev->priv = np;
	snprintf(devpath, sizeof(devpath), "%.*s", q ? (int)(q - path) : (int)strlen(path), path);
	dev->fd = open(devpath, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		ret = -errno;
		fdpkv_seterr(err, errlen, "device '%s': open %s: %s", dev->uri, devpath,
			     strerror(-ret));
		return ret;
	}
	ret = io_uring_queue_init(4, &np->ctl, IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
	if (ret) {
		fdpkv_seterr(err, errlen, "device '%s': io_uring with SQE128/CQE32: %s", dev->uri,
			     strerror(-ret));
		return ret;
	}
	np->ctl_ready = true;
	ret = module ? ng_open_module(dev, np, q ? q + 1 : NULL, cfg, err, errlen)
		     : ng_open_direct(dev, np, devpath, err, errlen);
	if (ret)
		return ret;
	if (!module) {
		ret = ng_ruh_status(dev, np->pids, NULL, FDPKV_MAX_CLASSES);
		np->npids = ret > 0 ? (unsigned int)ret : 0;
		np->fdp = ret > 0;
	}
	if (np->fdp && !np->ru_bytes && !cfg->segment_bytes) {
		fdpkv_seterr(err, errlen, "device '%s': the reclaim unit size is unknown; set "
			     "segment_size to it (fdpkvctl info shows it)", dev->uri);
		return -EINVAL;
	}
	if (!np->ru_bytes)
		np->ru_bytes = cfg->segment_bytes;
	np->capacity = cfg->capacity_bytes;
	return 0;
}

static int ng_geometry(struct fdpkv_dev *dev, struct fdpkv_geometry *g)
{
	struct ng_priv *np = dev->priv;

	memset(g, 0, sizeof(*g));
	g->lba_size = 1u << np->lba_shift;
	g->capacity = np->nlba << np->lba_shift;
	if (np->capacity && np->capacity < g->capacity)
		g->capacity = np->capacity;
	g->ru_bytes = np->fdp ? np->ru_bytes : 0;
	g->max_transfer = np->max_transfer;
	g->npids = np->fdp ? np->npids : 1;
	memcpy(g->pids, np->pids, sizeof(g->pids));
	/* NVMe promises zeroes after deallocate only with DLFEAT 2:0 = 001b */
	g->dlfeat = np->dlfeat;
	g->dealloc_zeroes = np->dlfeat >= 0 &&
			    (np->dlfeat & DLFEAT_READ_MASK) == DLFEAT_READ_ZEROES;
	return 0;
}

/*
 * Move each of @pids whose current RU is partly written to a fresh one, so
 * the next segment starts on an RU boundary. One id per RUH Update: some
 * devices (QEMU) refuse updating many ids at once. Returns how many moved.
 */
static int ng_ru_align(struct fdpkv_dev *dev, const uint16_t *pids, unsigned int n)
{
	struct ng_priv *np = dev->priv;
	uint16_t st_pid[128];
	uint64_t st_ruamw[128];
	uint64_t ru_lbas = np->ru_bytes >> np->lba_shift;
	uint16_t *upd;
	int nst, moved = 0, ret = 0;
	unsigned int i, j;

	if (!np->fdp || !ru_lbas)
		return 0;
	nst = ng_ruh_status(dev, st_pid, st_ruamw, 128);
	if (nst < 0)
		return nst;
	upd = ng_zalloc(4096);
	if (!upd)
		return -ENOMEM;
	for (i = 0; i < n && !ret; i++) {
		for (j = 0; j < i && pids[j] != pids[i]; j++)
			;
		if (j < i)
			continue;	/* classes may share an id */
		for (j = 0; j < (unsigned int)nst && st_pid[j] != pids[i]; j++)
			;
		if (j == (unsigned int)nst || st_ruamw[j] == 0 || st_ruamw[j] >= ru_lbas)
			continue;
		upd[0] = pids[i];
		/* MO 1: RUH Update, NPID 0's based in CDW10[31:16] */
		ret = ng_ctl_io(dev, NVME_IO_MGMT_SEND, upd, 2 * sizeof(*upd), 1, 0);
		moved += !ret;
	}
	free(upd);
	return ret ? ret : moved;
}

static int ng_prep(struct fdpkv_dev *dev, struct io_uring_sqe *sqe, struct io_part *p)
{
	struct ng_priv *np = dev->priv;
	struct nvme_uring_cmd *c = (struct nvme_uring_cmd *)sqe->cmd;
	int ret = 0;

	_Static_assert(sizeof(struct nvme_dsm_range) <= sizeof(p->pad), "dsm range in part");
	_Static_assert(sizeof(struct fdpkv_uring_cmd) == 80, "fdpkv payload fills the SQE128 cmd");
	ng_fill(np, sqe, dev->fd);
	switch (p->cmd->op) {
	case IO_READ:
	case IO_WRITE:
		ret = ng_encode_rw(c, p->cmd->op == IO_WRITE, np->nsid, np->lba_shift, p->off,
				   p->len, p->buf, np->fdp, p->cmd->pid, p->cmd->dsync);
		if (p->fixed >= 0) {
			/* the address stays in the command, inside the slot */
			sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
			sqe->buf_index = (uint16_t)p->fixed;
		}
		break;
	case IO_DEALLOC:
		ret = ng_encode_dsm(c, np->nsid, np->lba_shift, p->off, p->len,
				    (struct nvme_dsm_range *)p->pad);
		break;
	case IO_FLUSH:
		ng_encode_flush(c, np->nsid);
		break;
	}
	return ret;
}

static int ng_result(struct fdpkv_dev *dev, const struct io_uring_cqe *cqe, struct io_part *p)
{
	(void)dev;
	if (cqe->res < 0)
		return cqe->res;
	if (cqe->res > 0)
		return -EIO;	/* NVMe status */
	return (int)p->len;
}

static void ng_close(struct fdpkv_dev *dev)
{
	struct ng_priv *np = dev->priv;

	/* closing the fd returns the module's grants and lease too */
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
	if (np) {
		if (np->ctl_ready)
			io_uring_queue_exit(&np->ctl);
		pthread_mutex_destroy(&np->ctl_lock);
		free(np);
	}
	dev->priv = NULL;
}

const struct fdpkv_backend_ops backend_ng_ops = {
	.scheme = "ng",
	.open = ng_open,
	.geometry = ng_geometry,
	.ring_flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32,
	.prep = ng_prep,
	.result = ng_result,
	.ru_align = ng_ru_align,
	.close = ng_close,
};

const struct fdpkv_backend_ops backend_fdpkv_ops = {
	.scheme = "fdpkv",
	.open = ng_open,
	.geometry = ng_geometry,
	.ring_flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32,
	.prep = ng_prep,
	.result = ng_result,
	.ru_align = ng_ru_align,
	.close = ng_close,
};
