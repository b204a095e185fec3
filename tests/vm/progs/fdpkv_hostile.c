// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkv_hostile - a non-root tenant attacks the module's attach and I/O path
 * (issue 10, items 2, 3, 4, 7, 8), each mode exactly as the attack was done:
 *
 *   meta     the namespace is formatted with metadata (each of ms=8 with
 *            mset 0/1 and pi 0/1): attach refuses it with EOPNOTSUPP and a
 *            log line; on a plain format, a tenant's command asking for
 *            protection information (PRINFO) is refused with EINVAL
 *   format   after attach (512 B LBAs) root formats to 4 KiB: the tenant's
 *            I/O sized for either geometry is refused with ESTALE and the
 *            device writes nothing past the buffer; re-attach works
 *   dup      one namespace seen through two controllers (multipath=N):
 *            the second attach is EEXIST, so a second tenant cannot lease
 *            the first tenant's LBAs through the other path
 *   timeout  a tenant's timeout_ms=1 storm at queue depth 256: every
 *            command completes and the kernel logs no abort or reset
 *   misc     reserved bits (CDW12[19:16], CDW13[15:8], RUH Status MOS) are
 *            refused; a command whose buffer cannot be mapped is not
 *            counted; a holder in another pid namespace is listed with the
 *            pid the reader sees
 *   race     attach, detach and list from three threads at once
 *
 * usage: fdpkv_hostile MODE    (namespace /dev/nvme0n1 of /dev/nvme0, nsid 1)
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/nvme_ioctl.h>

#include "fdpkvio.h"
#include "nvmeio.h"
#include "tap.h"

#define TEST_UID	1000
#define NSPATH		"/dev/nvme0n1"
#define CTRLPATH	"/dev/nvme0"
#define NVME_ADM_IDENTIFY	0x06
#define NVME_ADM_FORMAT		0x80
#define PRINFO_PRACT		(1u << 29)
#define PRINFO_PRCHK_GUARD	(1u << 28)

/* Become the tenant (uid/gid 1000); its TAP failures are its own. */
static void drop_privileges(void)
{
	tap_failed = 0;
	if (setgroups(0, NULL) || setgid(TEST_UID) || setuid(TEST_UID)) {
		perror("drop privileges");
		exit(2);
	}
}

static int open_fdpkv(void)
{
	int fd = open("/dev/fdpkv", O_RDWR);

	if (fd < 0)
		printf("# open /dev/fdpkv: %s\n", strerror(errno));
	return fd;
}

/*
 * Become a tenant: drop privileges, open the device, set up @ring (@qd
 * entries), take one placement handle into @ph (unless NULL) and lease
 * LBAs 0..@nlb-1 of namespace @ns. Returns the file; exits if any fails.
 */
static int become_tenant(struct io_uring *ring, unsigned int qd, uint32_t ns, uint64_t nlb,
			 uint16_t *ph)
{
	int fd;

	drop_privileges();
	fd = open_fdpkv();
	if (fd < 0 || nvme_ring_init(ring, qd) || (ph && fdpkv_ph_alloc(fd, ns, 1, 0, ph)) ||
	    fdpkv_lease(fd, ns, 0, nlb, NULL))
		exit(1);
	return fd;
}

static int admin(uint8_t opc, uint32_t nsid, uint32_t cdw10, void *buf, uint32_t len)
{
	struct nvme_admin_cmd c = {
		.opcode = opc, .nsid = nsid, .addr = (uintptr_t)buf, .data_len = len,
		.cdw10 = cdw10, .timeout_ms = 60000,
	};
	int fd = open(CTRLPATH, O_RDWR), ret;

	if (fd < 0)
		return -errno;
	ret = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &c);
	ret = ret < 0 ? -errno : ret;
	close(fd);
	return ret;
}

static unsigned int sysfs_lbs(void)
{
	char b[32] = "";
	int fd = open("/sys/block/nvme0n1/queue/logical_block_size", O_RDONLY);

	if (fd >= 0) {
		if (read(fd, b, sizeof(b) - 1) < 0)
			b[0] = 0;
		close(fd);
	}
	return (unsigned int)strtoul(b, NULL, 10);
}

/* Format NVM namespace 1 to the LBA format with 2^ds data and ms metadata bytes. */
static int format_ns(unsigned int ds, unsigned int ms, int mset, int pi)
{
	uint8_t *id = nvme_alloc(4096);
	int i, idx = -1, ret;

	ret = admin(NVME_ADM_IDENTIFY, 1, 0, id, 4096);
	for (i = 0; !ret && i <= id[25]; i++) {
		const uint8_t *f = id + 128 + 4 * i;

		if (f[2] == ds && (unsigned int)(f[0] | f[1] << 8) == ms)
			idx = i;
	}
	free(id);
	if (ret || idx < 0)
		return ret ? ret : -ENOENT;
	/* LBAF[3:0], MSET bit 4, PI[7:5] (type 1), LBAF[13:12] */
	ret = admin(NVME_ADM_FORMAT, 1, (idx & 0xf) | mset << 4 | (pi ? 1 : 0) << 5 |
		    (idx >> 4) << 12, NULL, 0);
	/* the driver revalidates the namespace after a format; wait for it */
	for (i = 0; !ret && ms == 0 && sysfs_lbs() != 1u << ds && i < 100; i++)
		usleep(100000);
	return ret;
}

/* Whether the kernel log holds a line with both words. */
static int dmesg_has(const char *a, const char *b)
{
	char line[512];
	FILE *f = popen("dmesg", "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, a) && (!b || strstr(line, b))) {
			printf("# dmesg: %s", line);
			n++;
		}
	pclose(f);
	return n;
}

static int wait_child(pid_t pid)
{
	int st;

	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Item 2: metadata formats are refused at attach; PRINFO is refused per command. */
static int mode_meta(int fd)
{
	static const struct { int mset, pi; } fmt[] = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } };
	struct fdpkv_ns_attach a;
	unsigned int i;
	int ret;
	pid_t pid;

	ret = fdpkv_attach(fd, NSPATH, &a);
	tap_ok(ret == -EOPNOTSUPP, "booted with ms=8 (QEMU's nvme-ns ms/mset/pi): attach: %d",
	       ret);
	if (!ret)
		fdpkv_ioc(fd, FDPKV_IOC_NS_DETACH, &(struct fdpkv_ns_detach){ .ns = a.ns });
	for (i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		ret = format_ns(12, 8, fmt[i].mset, fmt[i].pi);
		if (!tap_ok(ret == 0, "format 4096+8 mset=%d pi=%d: %d", fmt[i].mset, fmt[i].pi,
			    ret))
			continue;
		ret = fdpkv_attach(fd, NSPATH, &a);
		tap_ok(ret == -EOPNOTSUPP, "attach with ms=8 mset=%d pi=%d refused: %d",
		       fmt[i].mset, fmt[i].pi, ret);
		if (!ret)
			fdpkv_ioc(fd, FDPKV_IOC_NS_DETACH, &(struct fdpkv_ns_detach){ .ns = a.ns });
	}
	tap_ok(dmesg_has("fdpkv", "metadata") > 0, "the refusal is logged, naming metadata");
	ret = format_ns(12, 0, 0, 0);
	tap_ok(ret == 0, "format 4096+0: %d", ret);
	ret = fdpkv_attach(fd, NSPATH, &a);
	if (!tap_ok(ret == 0 && a.lba_size == 4096, "attach without metadata: %d", ret))
		return 1;
	pid = fork();
	if (pid == 0) {
		struct io_uring ring;
		uint8_t *buf = nvme_alloc(8192);
		uint32_t cdw[6];
		uint16_t ph;

		fd = become_tenant(&ring, 8, a.ns, 64, &ph);
		fdpkv_rw_cdw(cdw, 0, 1, -1);
		cdw[2] |= PRINFO_PRACT;
		ret = fdpkv_io(&ring, fd, a.ns, NVME_OPC_READ, a.nsid, buf, 4096, cdw);
		tap_ok(ret == -EINVAL, "non-root read with PRACT: EINVAL (%d)", ret);
		fdpkv_rw_cdw(cdw, 0, 1, ph);
		cdw[2] |= PRINFO_PRCHK_GUARD;
		ret = fdpkv_io(&ring, fd, a.ns, NVME_OPC_WRITE, a.nsid, buf, 4096, cdw);
		tap_ok(ret == -EINVAL, "non-root write with PRCHK: EINVAL (%d)", ret);
		fdpkv_rw_cdw(cdw, 0, 1, -1);
		ret = fdpkv_io(&ring, fd, a.ns, NVME_OPC_READ, a.nsid, buf, 4096, cdw);
		tap_ok(ret == 0, "the same read without PRINFO: %d", ret);
		exit(tap_failed ? 1 : 0);
	}
	tap_ok(wait_child(pid) == 0, "non-root tenant");
	tap_n += 3;	/* the child's checks */
	ret = fdpkv_ioc(fd, FDPKV_IOC_NS_DETACH, &(struct fdpkv_ns_detach){ .ns = a.ns });
	tap_ok(ret == 0, "detach: %d", ret);
	return 0;
}

static int detach(int fd, uint32_t ns)
{
	struct fdpkv_ns_detach d = { .ns = ns };

	return fdpkv_ioc(fd, FDPKV_IOC_NS_DETACH, &d);
}

/* Block until the other end of @p writes a byte. */
static void sync_wait(int p[2])
{
	char c;

	if (read(p[0], &c, 1) != 1)
		exit(3);
}

static void sync_post(int p[2])
{
	if (write(p[1], "x", 1) != 1)
		exit(3);
}

/*
 * Item 3: a Format to 4 KiB LBAs after attach at 512 B. A read sized for
 * the old geometry (8 x 512 B) would make the device move 8 x 4 KiB into
 * a 4 KiB buffer: the module must refuse it (ESTALE), and any I/O, until
 * the namespace is attached again.
 */
static int mode_format(int fd)
{
	int to_child[2], to_parent[2], ret;
	struct fdpkv_ns_attach a;
	pid_t pid;

	ret = fdpkv_attach(fd, NSPATH, &a);
	if (!tap_ok(ret == 0 && a.lba_size == 512, "attach at 512 B LBAs: %d (%u)", ret,
		    a.lba_size))
		return 1;
	if (pipe(to_child) || pipe(to_parent))
		return 1;
	pid = fork();
	if (pid == 0) {
		const size_t guard = 64 * 1024;
		uint8_t *buf = nvme_alloc(4096 + guard);
		struct io_uring ring;
		uint32_t cdw[6];
		size_t i, spoiled = 0;
		uint16_t ph;

		fd = become_tenant(&ring, 8, a.ns, 4096, &ph);
		memset(buf, 0x5a, 4096);
		fdpkv_rw_cdw(cdw, 0, 8, ph);
		ret = fdpkv_io(&ring, fd, a.ns, NVME_OPC_WRITE, a.nsid, buf, 4096, cdw);
		tap_ok(ret == 0, "non-root writes 8 x 512 B: %d", ret);
		sync_post(to_parent);
		sync_wait(to_child);	/* root formats to 4 KiB */
		memset(buf + 4096, 0xa5, guard);
		fdpkv_rw_cdw(cdw, 0, 8, -1);
		ret = fdpkv_io(&ring, fd, a.ns, NVME_OPC_READ, a.nsid, buf, 4096, cdw);
		tap_ok(ret == -ESTALE, "read sized for the old geometry (8 x 512 B): ESTALE (%d)",
		       ret);
		for (i = 4096; i < 4096 + guard; i++)
			spoiled += buf[i] != 0xa5;
		tap_ok(spoiled == 0, "nothing written past the 4 KiB buffer (%zu bytes)", spoiled);
		fdpkv_rw_cdw(cdw, 0, 1, -1);
		ret = fdpkv_io(&ring, fd, a.ns, NVME_OPC_READ, a.nsid, buf, 4096, cdw);
		tap_ok(ret == -ESTALE, "read sized for the new geometry: ESTALE until re-attached (%d)",
		       ret);
		fdpkv_rw_cdw(cdw, 0, 8, ph);
		ret = fdpkv_io(&ring, fd, a.ns, NVME_OPC_WRITE, a.nsid, buf, 4096, cdw);
		tap_ok(ret == -ESTALE, "write: ESTALE (%d)", ret);
		exit(tap_failed ? 1 : 0);
	}
	sync_wait(to_parent);
	tap_n += 1;
	ret = format_ns(12, 0, 0, 0);
	tap_ok(ret == 0 && sysfs_lbs() == 4096, "root formats to 4 KiB LBAs: %d (%u)", ret,
	       sysfs_lbs());
	sync_post(to_child);
	tap_ok(wait_child(pid) == 0, "non-root tenant");
	tap_n += 4;
	ret = detach(fd, a.ns);
	tap_ok(ret == 0, "detach: %d", ret);
	ret = fdpkv_attach(fd, NSPATH, &a);
	tap_ok(ret == 0 && a.lba_size == 4096, "re-attach sees 4 KiB LBAs: %d (%u)", ret,
	       a.lba_size);
	pid = fork();
	if (pid == 0) {
		uint8_t *buf = nvme_alloc(4096);
		struct io_uring ring;
		uint32_t cdw[6];

		fd = become_tenant(&ring, 8, a.ns, 64, NULL);
		fdpkv_rw_cdw(cdw, 0, 1, -1);
		ret = fdpkv_io(&ring, fd, a.ns, NVME_OPC_READ, a.nsid, buf, 4096, cdw);
		tap_ok(ret == 0, "after re-attach a 4 KiB read works: %d", ret);
		exit(tap_failed ? 1 : 0);
	}
	tap_ok(wait_child(pid) == 0, "non-root tenant after re-attach");
	tap_n += 1;
	tap_ok(detach(fd, a.ns) == 0, "detach");
	return 0;
}

/*
 * Item 4: one namespace through two controllers (nvme_core.multipath=N).
 * Attaching the second path must fail, or two tenants get the same LBAs.
 */
static int mode_dup(int fd)
{
	struct fdpkv_ns_attach a, b;
	int ret, to_parent[2], to_child[2];
	pid_t pid;

	ret = fdpkv_attach(fd, "/dev/nvme0n1", &a);
	tap_ok(ret == 0, "attach /dev/nvme0n1: %d", ret);
	ret = fdpkv_attach(fd, "/dev/nvme1n1", &b);
	tap_ok(ret == -EEXIST, "attach /dev/nvme1n1, the same namespace via controller 2: EEXIST (%d)",
	       ret);
	if (pipe(to_parent) || pipe(to_child))
		return 1;
	pid = fork();
	if (pid == 0) {		/* tenant A */
		drop_privileges();
		fd = open_fdpkv();
		ret = fdpkv_lease(fd, a.ns, 0, 64, NULL);
		tap_ok(ret == 0, "tenant A leases LBAs 0..63: %d", ret);
		sync_post(to_parent);
		sync_wait(to_child);
		exit(tap_failed ? 1 : 0);
	}
	sync_wait(to_parent);
	tap_n += 1;
	pid_t pid_b = fork();

	if (pid_b == 0) {	/* tenant B, on any namespace number */
		uint32_t ns, got = 0;

		drop_privileges();
		fd = open_fdpkv();
		for (ns = 0; ns < 16; ns++)
			got += fdpkv_lease(fd, ns, 0, 64, NULL) == 0;
		tap_ok(got == 0, "tenant B gets LBAs 0..63 through no namespace number (%u)", got);
		exit(tap_failed ? 1 : 0);
	}
	tap_ok(wait_child(pid_b) == 0, "tenant B");
	tap_n += 1;
	sync_post(to_child);
	tap_ok(wait_child(pid) == 0, "tenant A");
	tap_ok(detach(fd, a.ns) == 0, "detach");
	if (ret == 0)
		detach(fd, b.ns);
	return 0;
}

#define STORM_QD	256
#define STORM_NLB	32
#define STORM_SECONDS	6

/*
 * Item 7: a tenant's timeout_ms=1 on every command, writes of 128 KiB at
 * queue depth 256 for a few seconds (the block layer's timeout timer runs
 * once a second, so a short burst would never meet it). The driver's
 * default must apply: no abort, no timeout, no controller reset.
 */
static int mode_timeout(int fd)
{
	struct fdpkv_ns_attach a;
	int ret;
	pid_t pid;

	ret = fdpkv_attach(fd, NSPATH, &a);
	if (!tap_ok(ret == 0, "attach: %d", ret))
		return 1;
	pid = fork();
	if (pid == 0) {
		uint8_t *buf = nvme_alloc(STORM_NLB * 4096);
		unsigned int sent = 0, done = 0, bad = 0;
		time_t end = time(NULL) + STORM_SECONDS;
		struct io_uring ring;
		uint32_t cdw[6];
		uint16_t ph;

		fd = become_tenant(&ring, STORM_QD, a.ns, STORM_QD * STORM_NLB, &ph);
		if (!buf)
			exit(1);
		while (sent == 0 || done < sent) {
			struct io_uring_cqe *cqe;

			while (time(NULL) < end && sent - done < STORM_QD) {
				struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

				if (!sqe)
					break;
				fdpkv_rw_cdw(cdw, (uint64_t)(sent % STORM_QD) * STORM_NLB, STORM_NLB,
					     ph);
				fdpkv_prep_io(sqe, fd, a.ns, NVME_OPC_WRITE, a.nsid, buf,
					      STORM_NLB * 4096, cdw);
				((struct fdpkv_uring_cmd *)sqe->cmd)->nvme.timeout_ms = 1;
				sent++;
			}
			if (io_uring_submit_and_wait(&ring, 1) < 0)
				exit(1);
			while (io_uring_peek_cqe(&ring, &cqe) == 0) {
				if (cqe->res && bad++ < 3)
					printf("# cqe->res %d\n", cqe->res);
				done++;
				io_uring_cqe_seen(&ring, cqe);
			}
		}
		tap_ok(bad == 0, "non-root: %u writes of 128 KiB with timeout_ms=1 at QD %d, %u failed",
		       done, STORM_QD, bad);
		exit(tap_failed ? 1 : 0);
	}
	tap_ok(wait_child(pid) == 0, "non-root storm");
	tap_n += 1;
	ret = dmesg_has("nvme", "abort") + dmesg_has("nvme", "reset") +
	      dmesg_has("nvme", "timeout");
	tap_ok(ret == 0, "no NVMe abort, timeout or reset in the kernel log (%d lines)", ret);
	tap_ok(detach(fd, a.ns) == 0, "detach");
	return 0;
}

static volatile int race_stop;

static void *race_attach(void *arg)
{
	int fd = open_fdpkv(), *bad = arg;

	while (!race_stop) {
		struct fdpkv_ns_attach a;
		int ret = fdpkv_attach(fd, NSPATH, &a);

		if (ret && ret != -EEXIST)
			(*bad)++;
	}
	close(fd);
	return NULL;
}

static void *race_detach(void *arg)
{
	int fd = open_fdpkv(), *bad = arg;
	uint32_t ns = 0;

	while (!race_stop) {
		int ret = detach(fd, ns++ % 4);

		if (ret && ret != -ENOENT && ret != -ENODEV && ret != -EBUSY)
			(*bad)++;
	}
	close(fd);
	return NULL;
}

/* Item 8: attach returns the namespace's fields while detach frees it. */
static int mode_race(int fd)
{
	int bad_a = 0, bad_d = 0, i;
	pthread_t ta, td;

	pthread_create(&ta, NULL, race_attach, &bad_a);
	pthread_create(&td, NULL, race_detach, &bad_d);
	for (i = 0; i < 2000; i++) {
		struct fdpkv_ns_entry e[4];
		struct fdpkv_list l = { .addr = (uintptr_t)e, .size = sizeof(e) };

		fdpkv_ioc(fd, FDPKV_IOC_LIST, &l);
	}
	sleep(5);
	race_stop = 1;
	pthread_join(ta, NULL);
	pthread_join(td, NULL);
	tap_ok(bad_a == 0 && bad_d == 0, "attach/detach/list race: %d unexpected errors", bad_a +
	       bad_d);
	detach(fd, 0);
	return 0;
}

static uint64_t ns_cmds(int fd, uint32_t ns)
{
	struct fdpkv_ns_entry e[16];
	struct fdpkv_list l = { .addr = (uintptr_t)e, .size = sizeof(e) };
	uint32_t i;

	if (fdpkv_ioc(fd, FDPKV_IOC_LIST, &l))
		return UINT64_MAX;
	for (i = 0; i < l.count; i++)
		if (e[i].ns == ns)
			return e[i].cmds;
	return UINT64_MAX;
}

/*
 * Item 9: reserved bits a tenant sets are refused, a command whose buffer
 * cannot be mapped is not counted as sent, and a lease holder in another
 * pid namespace is listed with the pid the reader sees.
 */
static int mode_misc(int fd)
{
	int to_parent[2], to_child[2], ret;
	struct fdpkv_ns_attach a;
	pid_t pid;

	ret = fdpkv_attach(fd, NSPATH, &a);
	if (!tap_ok(ret == 0, "attach: %d", ret))
		return 1;
	pid = fork();
	if (pid == 0) {
		static const struct { int cdw; uint32_t bits; const char *what; } rsvd[] = {
			{ 2, 1u << 16, "CDW12[19:16]" }, { 3, 1u << 8, "CDW13[15:8]" },
		};
		uint8_t *buf = nvme_alloc(4096);
		struct io_uring ring;
		uint32_t cdw[6], i;
		uint64_t before;
		uint16_t ph;

		fd = become_tenant(&ring, 8, a.ns, 64, &ph);
		for (i = 0; i < 2; i++) {
			fdpkv_rw_cdw(cdw, 0, 1, ph);
			cdw[rsvd[i].cdw] |= rsvd[i].bits;
			ret = fdpkv_io(&ring, fd, a.ns, NVME_OPC_WRITE, a.nsid, buf, 4096, cdw);
			tap_ok(ret == -EINVAL, "non-root write with reserved %s: EINVAL (%d)",
			       rsvd[i].what, ret);
		}
		{
			uint32_t mos[6] = { 1 | 1u << 16, 4096 / 4 - 1, 0, 0, 0, 0 };

			ret = fdpkv_io(&ring, fd, a.ns, NVME_OPC_IO_MGMT_RECV, a.nsid, buf, 4096,
				       mos);
			tap_ok(ret == -EINVAL, "RUH Status with MOS set: EINVAL (%d)", ret);
		}
		before = ns_cmds(fd, a.ns);
		fdpkv_rw_cdw(cdw, 0, 1, -1);
		ret = fdpkv_io(&ring, fd, a.ns, NVME_OPC_READ, a.nsid, (void *)4096, 4096, cdw);
		tap_ok(ret == -EFAULT && ns_cmds(fd, a.ns) == before,
		       "a read into an unmapped buffer: EFAULT (%d), not counted (%llu -> %llu)",
		       ret, (unsigned long long)before, (unsigned long long)ns_cmds(fd, a.ns));
		exit(tap_failed ? 1 : 0);
	}
	tap_ok(wait_child(pid) == 0, "non-root tenant");
	tap_n += 4;
	if (pipe(to_parent) || pipe(to_child))
		return 1;
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWPID))
			exit(1);
		pid = fork();	/* pid 1 of the new namespace */
		if (pid == 0) {
			drop_privileges();
			fd = open_fdpkv();
			if (fdpkv_lease(fd, a.ns, 100, 1, NULL))
				exit(1);
			sync_post(to_parent);
			sync_wait(to_child);
			exit(0);
		}
		exit(wait_child(pid));
	}
	sync_wait(to_parent);
	{
		struct fdpkv_lease_entry e[8];
		struct fdpkv_list l = { .addr = (uintptr_t)e, .size = sizeof(e),
					.what = FDPKV_LIST_LEASES };
		uint32_t i, holder = 0;

		fdpkv_ioc(fd, FDPKV_IOC_LIST, &l);
		for (i = 0; i < l.count; i++)
			if (e[i].slba == 100)
				holder = e[i].holder_pid;
		/* the grandchild: its pid here is the child's pid + 1 or later, never 1 */
		tap_ok(holder > (uint32_t)pid, "a holder in another pid namespace is listed as %u, as this namespace sees it (its parent is %d)",
		       holder, pid);
	}
	sync_post(to_child);
	tap_ok(wait_child(pid) == 0, "tenant in its own pid namespace");
	tap_ok(detach(fd, a.ns) == 0, "detach");
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc < 2)
		return 2;
	/* the udev rule: group fdpkv (the tenants' gid) may use the device */
	if (chown("/dev/fdpkv", 0, TEST_UID) || chmod("/dev/fdpkv", 0660))
		perror("chown /dev/fdpkv");
	fd = open_fdpkv();
	if (!tap_ok(fd >= 0, "open /dev/fdpkv"))
		return tap_done();
	if (!strcmp(argv[1], "meta"))
		mode_meta(fd);
	else if (!strcmp(argv[1], "format"))
		mode_format(fd);
	else if (!strcmp(argv[1], "dup"))
		mode_dup(fd);
	else if (!strcmp(argv[1], "timeout"))
		mode_timeout(fd);
	else if (!strcmp(argv[1], "misc"))
		mode_misc(fd);
	else if (!strcmp(argv[1], "race"))
		mode_race(fd);
	else
		tap_ok(0, "unknown mode %s", argv[1]);
	close(fd);
	return tap_done();
}
