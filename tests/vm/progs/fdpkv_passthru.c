// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkv_passthru - /dev/fdpkv end to end on an emulated FDP SSD:
 * attach; a non-root process takes handles and a lease, writes through the
 * module and reads back, and RUH Status shows exactly its handle consumed;
 * every kind of refused command leaves every handle's RUAMW unchanged; two
 * processes never share a handle or a lease, and kill -9 returns a holder's;
 * a 10,000-command burst at queue depth 32 from two threads; garbage ioctls
 * and uring commands; detach.
 *
 * usage: fdpkv_passthru /dev/nvme0n1          (multipath off)
 *        fdpkv_passthru /dev/nvme0n1 mpath    (expects the head node refused)
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdpkvio.h"
#include "nvmeio.h"
#include "tap.h"

#define TEST_UID	1000
#define LEASE_NLB	4096
#define BURST_OPS	5000	/* per thread */
#define BURST_QD	32

static uint32_t ns, nsid, nr_pids;

static int open_fdpkv(void)
{
	int fd = open("/dev/fdpkv", O_RDWR);

	if (fd < 0)
		printf("# open /dev/fdpkv: %s\n", strerror(errno));
	return fd;
}

static void drop_privileges(void)
{
	if (setgroups(0, NULL) || setgid(TEST_UID) || setuid(TEST_UID)) {
		perror("drop privileges");
		exit(2);
	}
}

static int same_ruamw(const uint64_t *a, const uint64_t *b, int n)
{
	return !memcmp(a, b, n * sizeof(*a));
}

/*
 * The tests below take more than the default fair share (half of each) in
 * one file: the admin lifts the quotas (fdpkv_tenants tests the defaults).
 */
static void widen_policy(int admin)
{
	struct fdpkv_ns_policy p = {
		.ns = ns, .max_handles_file = nr_pids, .max_handles_uid = nr_pids,
		.max_leases_file = 256, .max_leases_uid = 256,
		.max_lba_pct_file = 100, .max_lba_pct_uid = 100,
	};

	tap_ok(fdpkv_ioc(admin, FDPKV_IOC_NS_POLICY_SET, &p) == 0,
	       "admin lifts the namespace's quotas to everything");
}

/* A non-root process: grants, placement writes, refusals, fixed buffers. */
static void unprivileged_io(void)
{
	uint64_t before[FDPKV_MAX_PIDS], after[FDPKV_MAX_PIDS], now[FDPKV_MAX_PIDS];
	uint16_t pids[FDPKV_MAX_PIDS], granted[2];
	struct fdpkv_ns_attach a;
	struct io_uring ring, small;
	struct iovec iov;
	uint8_t *wbuf, *rbuf;
	uint32_t cdw[6], lease;
	int fd, n, i, ret, foreign = -1, gi = -1;

	drop_privileges();
	tap_ok(getuid() == TEST_UID && geteuid() == TEST_UID, "running as uid %d", getuid());
	fd = open_fdpkv();
	if (!tap_ok(fd >= 0, "non-root opens /dev/fdpkv (group access)"))
		exit(1);
	tap_ok(fdpkv_attach(fd, "/dev/nvme0n1", &a) == -EPERM, "non-root attach: EPERM");
	{
		struct fdpkv_ph_share sh = { .ns = ns, .pid = 0, .shared = 1 };

		tap_ok(fdpkv_ioc(fd, FDPKV_IOC_PH_SHARE, &sh) == -EPERM,
		       "non-root marking a handle shared: EPERM");
	}
	ret = fdpkv_ph_alloc(fd, ns, 2, 0, granted);
	tap_ok(ret == 0, "takes 2 placement handles: %u %u", granted[0], granted[1]);
	tap_ok(fdpkv_lease(fd, ns, 0, LEASE_NLB, &lease) == 0, "takes a lease of LBAs 0..%d",
	       LEASE_NLB - 1);
	if (nvme_ring_init(&ring, 8)) {
		tap_ok(0, "io_uring SQE128|CQE32");
		exit(1);
	}
	n = fdpkv_ruamw(&ring, fd, ns, nsid, before, pids, FDPKV_MAX_PIDS);
	tap_ok(n == (int)nr_pids, "RUH Status through /dev/fdpkv lists %d handles", n);
	for (i = 0; i < n; i++) {
		if (pids[i] == granted[0])
			gi = i;
		else if (pids[i] != granted[1])
			foreign = pids[i];
	}

	wbuf = nvme_alloc(8192);
	rbuf = nvme_alloc(8192);
	for (i = 0; i < 8192; i++)
		wbuf[i] = (uint8_t)(i * 13 + 5);
	fdpkv_rw_cdw(cdw, 16, 2, granted[0]);
	ret = fdpkv_io(&ring, fd, ns, NVME_OPC_WRITE, nsid, wbuf, 8192, cdw);
	tap_ok(ret == 0, "write 8 KiB with granted handle %u: %d", granted[0], ret);
	fdpkv_rw_cdw(cdw, 16, 2, -1);
	ret = fdpkv_io(&ring, fd, ns, NVME_OPC_READ, nsid, rbuf, 8192, cdw);
	tap_ok(ret == 0 && !memcmp(wbuf, rbuf, 8192), "read back byte-exact: %d", ret);
	fdpkv_ruamw(&ring, fd, ns, nsid, after, NULL, FDPKV_MAX_PIDS);
	tap_ok(gi >= 0 && before[gi] - after[gi] == 2, "RUAMW of pid %u dropped by 2 LBAs (%" PRIu64
	       " -> %" PRIu64 ")", granted[0], gi >= 0 ? before[gi] : 0, gi >= 0 ? after[gi] : 0);
	after[gi] = before[gi];
	tap_ok(same_ruamw(before, after, n), "RUAMW of every other handle unchanged");
	fdpkv_ruamw(&ring, fd, ns, nsid, after, NULL, FDPKV_MAX_PIDS);

	/* refusals: each with its errno, and no handle consumed */
	fdpkv_rw_cdw(cdw, 16, 1, foreign);
	tap_ok(fdpkv_io(&ring, fd, ns, NVME_OPC_WRITE, nsid, wbuf, 4096, cdw) == -EPERM,
	       "write with a handle not held (%d): EPERM", foreign);
	fdpkv_rw_cdw(cdw, 16, 1, 100);
	tap_ok(fdpkv_io(&ring, fd, ns, NVME_OPC_WRITE, nsid, wbuf, 4096, cdw) == -EPERM,
	       "write with a placement id the device lacks: EPERM");
	fdpkv_rw_cdw(cdw, 16, 1, -1);
	tap_ok(fdpkv_io(&ring, fd, ns, NVME_OPC_WRITE, nsid, wbuf, 4096, cdw) == -EPERM,
	       "write without a placement directive: EPERM");
	fdpkv_rw_cdw(cdw, LEASE_NLB, 1, granted[0]);
	tap_ok(fdpkv_io(&ring, fd, ns, NVME_OPC_WRITE, nsid, wbuf, 4096, cdw) == -ERANGE,
	       "write outside the lease: ERANGE");
	fdpkv_rw_cdw(cdw, LEASE_NLB - 1, 2, granted[0]);
	tap_ok(fdpkv_io(&ring, fd, ns, NVME_OPC_WRITE, nsid, wbuf, 8192, cdw) == -ERANGE,
	       "write crossing the lease end: ERANGE");
	fdpkv_rw_cdw(cdw, 0, 1, -1);
	tap_ok(fdpkv_io(&ring, fd, ns, 0x06, nsid, wbuf, 4096, cdw) == -EOPNOTSUPP,
	       "admin opcode (Identify): EOPNOTSUPP");
	tap_ok(fdpkv_io(&ring, fd, ns, 0x05, nsid, wbuf, 4096, cdw) == -EOPNOTSUPP,
	       "compare: EOPNOTSUPP");
	fdpkv_rw_cdw(cdw, 16, 1, granted[0]);
	tap_ok(fdpkv_io(&ring, fd, ns, NVME_OPC_WRITE, nsid + 1, wbuf, 4096, cdw) == -EINVAL,
	       "bad nsid: EINVAL");
	tap_ok(fdpkv_io(&ring, fd, ns, NVME_OPC_WRITE, nsid, wbuf, 8192, cdw) == -EINVAL,
	       "data length not nlb x lba size: EINVAL");
	tap_ok(fdpkv_io(&ring, fd, ns + 5, NVME_OPC_WRITE, nsid, wbuf, 4096, cdw) == -ENODEV,
	       "unattached fdpkv namespace: ENODEV");
	{
		/* a DSM list whose second range lies outside the lease */
		uint64_t *r = (uint64_t *)rbuf;
		uint32_t dsm[6] = { 1 /* 2 ranges */, 1 << 2 /* deallocate */, 0, 0, 0, 0 };

		memset(rbuf, 0, 32);
		r[0] = (uint64_t)8 << 32;		/* cattr 0, nlb 8 */
		r[1] = 32;				/* slba 32 */
		r[2] = (uint64_t)8 << 32;
		r[3] = LEASE_NLB + 100;
		tap_ok(fdpkv_io(&ring, fd, ns, 0x09, nsid, rbuf, 32, dsm) == -ERANGE,
		       "DSM with one range outside the lease: ERANGE");
		r[3] = 64;
		tap_ok(fdpkv_io(&ring, fd, ns, 0x09, nsid, rbuf, 32, dsm) == 0,
		       "DSM deallocate of two ranges inside the lease");
	}
	{
		uint16_t *upd = (uint16_t *)rbuf;
		uint32_t send[6] = { 1 /* RUH update, 1 pid */, 0, 0, 0, 0, 0 };

		upd[0] = foreign;
		tap_ok(fdpkv_io(&ring, fd, ns, NVME_OPC_IO_MGMT_SEND, nsid, rbuf, 2, send) == -EPERM,
		       "RUH Update of a handle not held: EPERM");
		fdpkv_ruamw(&ring, fd, ns, nsid, now, NULL, FDPKV_MAX_PIDS);
		tap_ok(same_ruamw(after, now, n), "RUAMW of every handle unchanged after the refusals");
		upd[0] = granted[0];
		ret = fdpkv_io(&ring, fd, ns, NVME_OPC_IO_MGMT_SEND, nsid, rbuf, 2, send);
		fdpkv_ruamw(&ring, fd, ns, nsid, now, NULL, FDPKV_MAX_PIDS);
		tap_ok(ret == 0 && now[gi] > after[gi],
		       "RUH Update of a held handle moves it to a fresh RU (%" PRIu64 " -> %" PRIu64 ")",
		       after[gi], now[gi]);
	}
	if (io_uring_queue_init(4, &small, 0) == 0) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&small);
		struct io_uring_cqe *cqe;

		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = IORING_OP_URING_CMD;
		sqe->fd = fd;
		sqe->cmd_op = FDPKV_URING_CMD_IO;
		io_uring_submit(&small);
		io_uring_wait_cqe(&small, &cqe);
		tap_ok(cqe->res == -EOPNOTSUPP, "ring without SQE128/CQE32: EOPNOTSUPP (%d)", cqe->res);
		io_uring_cqe_seen(&small, cqe);
		io_uring_queue_exit(&small);
	}
	/* registered (fixed) buffers */
	iov.iov_base = wbuf;
	iov.iov_len = 8192;
	ret = io_uring_register_buffers(&ring, &iov, 1);
	if (tap_ok(ret == 0, "register a fixed buffer: %d", ret)) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		struct io_uring_cqe *cqe;

		memset(wbuf, 0x5a, 4096);
		fdpkv_rw_cdw(cdw, 40, 1, granted[1]);
		fdpkv_prep_io(sqe, fd, ns, NVME_OPC_WRITE, nsid, wbuf, 4096, cdw);
		sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
		sqe->buf_index = 0;
		io_uring_submit(&ring);
		io_uring_wait_cqe(&ring, &cqe);
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		fdpkv_rw_cdw(cdw, 40, 1, -1);
		memset(rbuf, 0, 4096);
		tap_ok(ret == 0 && fdpkv_io(&ring, fd, ns, NVME_OPC_READ, nsid, rbuf, 4096, cdw) == 0 &&
		       !memcmp(wbuf, rbuf, 4096), "write from a fixed buffer reads back (%d)", ret);
	}
	{
		/* a read-only open may read its leases but not change media */
		int rofd = open("/dev/fdpkv", O_RDONLY);
		uint16_t p1;

		ret = rofd >= 0 ? fdpkv_ph_alloc(rofd, ns, 1, 0, &p1) : -errno;
		if (!ret)
			ret = fdpkv_lease(rofd, ns, LEASE_NLB, 8, NULL);
		fdpkv_rw_cdw(cdw, LEASE_NLB, 1, p1);
		tap_ok(ret == 0 && fdpkv_io(&ring, rofd, ns, NVME_OPC_WRITE, nsid, wbuf, 4096, cdw) ==
		       -EBADF, "a write through a read-only open file: EBADF");
		fdpkv_rw_cdw(cdw, LEASE_NLB, 1, -1);
		tap_ok(fdpkv_io(&ring, rofd, ns, NVME_OPC_READ, nsid, rbuf, 4096, cdw) == 0,
		       "a read through it works");
		close(rofd);
	}
	io_uring_queue_exit(&ring);
	close(fd);
	exit(tap_failed ? 1 : 0);
}

static int list(int fd, uint32_t what, void *buf, uint32_t size, uint32_t *total)
{
	struct fdpkv_list l = { .addr = (uintptr_t)buf, .size = size, .what = what };
	int ret = fdpkv_ioc(fd, FDPKV_IOC_LIST, &l);

	if (total)
		*total = l.total;
	return ret ? ret : (int)l.count;
}

/* A process that takes 2 handles and a lease, says so, and waits to be killed. */
static pid_t spawn_holder(void)
{
	int p[2], fd;
	char c;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		drop_privileges();
		fd = open_fdpkv();
		if (fd < 0 || fdpkv_ph_alloc(fd, ns, 2, 0, NULL) || fdpkv_lease(fd, ns, 0, 1000, NULL))
			_exit(1);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

static void exclusivity_and_kill(int admin)
{
	struct fdpkv_ph_entry ph[FDPKV_MAX_PIDS];
	struct fdpkv_lease_entry le[8];
	struct fdpkv_ns_detach d = { .ns = ns };
	uint16_t pids[FDPKV_MAX_PIDS];
	uint32_t total, held = 0;
	int fd, n, i, st;
	pid_t holder;

	holder = spawn_holder();
	if (!tap_ok(holder > 0, "holder process %d took 2 handles and LBAs 0..999", holder))
		return;
	fd = open_fdpkv();
	tap_ok(fdpkv_ph_alloc(fd, ns, nr_pids - 1, 0, pids) == -ENOSPC,
	       "another process cannot take %u handles: ENOSPC", nr_pids - 1);
	tap_ok(fdpkv_ph_alloc(fd, ns, nr_pids - 2, 0, pids) == 0,
	       "it gets the %u the holder does not have", nr_pids - 2);
	tap_ok(fdpkv_lease(fd, ns, 500, 100, NULL) == -EBUSY, "an overlapping lease: EBUSY");
	tap_ok(fdpkv_lease(fd, ns, 1000, 100, NULL) == 0, "an adjacent lease is fine");
	n = list(admin, FDPKV_LIST_HANDLES, ph, sizeof(ph), &total);
	for (i = 0; i < n; i++)
		if ((ph[i].flags & FDPKV_PH_ENTRY_GRANTED) && ph[i].holder_pid == (uint32_t)holder &&
		    !strcmp(ph[i].holder_comm, "fdpkv_passthru"))
			held++;
	tap_ok(n == (int)nr_pids && held == 2,
	       "FDPKV_LIST_HANDLES: %d handles, %u held by pid %d (fdpkv_passthru)", n, held, holder);
	n = list(admin, FDPKV_LIST_LEASES, le, sizeof(le), &total);
	tap_ok(n == 2 && total == 2, "FDPKV_LIST_LEASES lists both leases (%d)", n);
	tap_ok(list(admin, FDPKV_LIST_LEASES, le, sizeof(le[0]), &total) == 1 && total == 2,
	       "a short list buffer gets 1 entry and total 2");
	tap_ok(fdpkv_ioc(admin, FDPKV_IOC_NS_DETACH, &d) == -EBUSY, "detach while granted: EBUSY");
	kill(holder, SIGKILL);
	waitpid(holder, &st, 0);
	tap_ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "holder killed with SIGKILL");
	tap_ok(fdpkv_ph_alloc(fd, ns, 2, 0, pids) == 0, "its 2 handles are free again");
	tap_ok(fdpkv_lease(fd, ns, 0, 1000, NULL) == 0, "its lease is free again");
	close(fd);
	n = list(admin, FDPKV_LIST_HANDLES, ph, sizeof(ph), &total);
	for (i = 0, held = 0; i < n; i++)
		held += !!(ph[i].flags & FDPKV_PH_ENTRY_GRANTED);
	tap_ok(held == 0, "closing the file returned every handle (%u still granted)", held);
}

/* An admin marks a handle shared; several files then hold it at once. */
static void shared_handles(int admin)
{
	struct fdpkv_ph_share sh = { .ns = ns, .shared = 1 };
	uint16_t p, a, b, all[FDPKV_MAX_PIDS];
	struct fdpkv_ph ph = { .ns = ns, .count = 1 };
	int f1 = open_fdpkv(), f2 = open_fdpkv(), f3 = open_fdpkv();

	/* a handle nobody holds: take one and give it back */
	if (!tap_ok(fdpkv_ph_alloc(f3, ns, 1, 0, &p) == 0, "take a handle to share"))
		return;
	ph.pids[0] = p;
	fdpkv_ioc(f3, FDPKV_IOC_PH_FREE, &ph);
	sh.pid = p;
	tap_ok(fdpkv_ioc(admin, FDPKV_IOC_PH_SHARE, &sh) == 0, "admin marks handle %u shared", p);
	tap_ok(fdpkv_ph_alloc(f1, ns, 1, FDPKV_PH_SHARED, &a) == 0 &&
	       fdpkv_ph_alloc(f2, ns, 1, FDPKV_PH_SHARED, &b) == 0 && a == p && b == p,
	       "two files hold shared handle %u at once", p);
	tap_ok(fdpkv_ph_alloc(f3, ns, nr_pids, 0, all) == -ENOSPC &&
	       fdpkv_ph_alloc(f3, ns, nr_pids - 1, 0, all) == 0,
	       "exclusive requests never get the shared handle");
	sh.shared = 0;
	tap_ok(fdpkv_ioc(admin, FDPKV_IOC_PH_SHARE, &sh) == -EBUSY,
	       "unmarking a held handle: EBUSY");
	close(f1);
	close(f2);
	close(f3);
	tap_ok(fdpkv_ioc(admin, FDPKV_IOC_PH_SHARE, &sh) == 0, "unmarked once nobody holds it");
}

struct burst {
	int		fd;
	uint16_t	pid;
	uint64_t	slba;
	int		done, failed;
};

/* BURST_OPS 4 KiB writes and reads, BURST_QD in flight, one ring per thread */
static void *burst_thread(void *arg)
{
	struct burst *b = arg;
	struct io_uring ring;
	uint8_t *buf = nvme_alloc(BURST_QD * 4096);
	int submitted = 0, inflight = 0;

	if (!buf || nvme_ring_init(&ring, 2 * BURST_QD)) {
		b->failed = BURST_OPS;
		return NULL;
	}
	while (b->done + b->failed < BURST_OPS) {
		struct io_uring_cqe *cqe;

		while (inflight < BURST_QD && submitted < BURST_OPS) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			int slot = submitted % BURST_QD;
			uint32_t cdw[6];

			fdpkv_rw_cdw(cdw, b->slba + slot, 1, submitted % 2 ? -1 : b->pid);
			fdpkv_prep_io(sqe, b->fd, ns, submitted % 2 ? NVME_OPC_READ : NVME_OPC_WRITE,
				      nsid, buf + slot * 4096, 4096, cdw);
			submitted++;
			inflight++;
		}
		io_uring_submit_and_wait(&ring, 1);
		while (io_uring_peek_cqe(&ring, &cqe) == 0) {
			if (cqe->res == 0)
				b->done++;
			else
				b->failed++;
			inflight--;
			io_uring_cqe_seen(&ring, cqe);
		}
	}
	io_uring_queue_exit(&ring);
	free(buf);
	return NULL;
}

static void burst(int admin)
{
	struct fdpkv_ns_entry e;
	struct burst b[2];
	pthread_t t[2];
	uint16_t pids[2];
	uint64_t cmds0;
	int fd = open_fdpkv(), i;

	list(admin, FDPKV_LIST_NAMESPACES, &e, sizeof(e), NULL);
	cmds0 = (uint64_t)e.cmds;
	if (!tap_ok(fdpkv_ph_alloc(fd, ns, 2, 0, pids) == 0 &&
		    fdpkv_lease(fd, ns, 0, 2 * BURST_QD, NULL) == 0, "burst: handles and lease"))
		return;
	for (i = 0; i < 2; i++) {
		b[i] = (struct burst){ .fd = fd, .pid = pids[i], .slba = i * BURST_QD };
		pthread_create(&t[i], NULL, burst_thread, &b[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	tap_ok(b[0].done + b[1].done == 2 * BURST_OPS && !b[0].failed && !b[1].failed,
	       "burst of %d commands at QD %d from 2 threads: %d ok, %d failed", 2 * BURST_OPS,
	       BURST_QD, b[0].done + b[1].done, b[0].failed + b[1].failed);
	list(admin, FDPKV_LIST_NAMESPACES, &e, sizeof(e), NULL);
	tap_ok(e.cmds - cmds0 == 2 * BURST_OPS, "the module counted %" PRIu64 " forwarded commands",
	       (uint64_t)(e.cmds - cmds0));
	close(fd);
}

static uint64_t rnd(void)
{
	return (uint64_t)random() << 33 ^ (uint64_t)random() << 11 ^ (uint64_t)random();
}

static void garbage(void)
{
	static uint8_t junk[16384];
	void *ptrs[] = { NULL, (void *)1, (void *)-1L, (void *)0xffff888000000000UL, junk };
	struct fdpkv_ph ph = { .ns = ns, .count = 0xffffffff };
	struct fdpkv_list l = { .addr = 1, .size = 0xffffffff, .what = FDPKV_LIST_HANDLES };
	struct io_uring ring;
	int fd = open_fdpkv(), i, ok = 1, completed = 0;
	size_t j;

	srandom(42);
	tap_ok(fdpkv_ioc(fd, FDPKV_IOC_PH_ALLOC, &ph) == -EINVAL, "PH_ALLOC of 2^32-1 handles: EINVAL");
	tap_ok(fdpkv_ioc(fd, FDPKV_IOC_LIST, &l) == -EFAULT, "LIST of 4 GiB to address 1: EFAULT");
	l.what = 99;
	tap_ok(fdpkv_ioc(fd, FDPKV_IOC_LIST, &l) == -EINVAL, "LIST of an unknown kind: EINVAL");
	for (i = 0; i < 3000; i++) {
		unsigned int dir = random() % 4, nr = random() % 0x100, size = random() % 16384;
		void *arg = ptrs[random() % 5];

		for (j = 0; j < sizeof(junk); j += 8)
			*(uint64_t *)(junk + j) = rnd();
		/* never detach: the garbage may hold a valid namespace number */
		if (nr == 0x02)
			continue;
		if (ioctl(fd, _IOC(dir, FDPKV_IOC_MAGIC, nr, size), arg) == 0 && nr > 0x0b)
			ok = 0;
	}
	tap_ok(ok, "3000 random ioctls: no unknown command succeeded");
	nvme_ring_init(&ring, 64);
	for (i = 0; i < 1000; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		struct io_uring_cqe *cqe;

		if (!sqe)
			break;
		memset(sqe, 0, 128);
		sqe->opcode = IORING_OP_URING_CMD;
		sqe->fd = fd;
		sqe->cmd_op = random() % 2 ? FDPKV_URING_CMD_IO : (uint32_t)rnd();
		for (j = 0; j < 80; j += 8)
			*(uint64_t *)(sqe->cmd + j) = rnd();
		((struct fdpkv_uring_cmd *)sqe->cmd)->ns = random() % 2 ? ns : random();
		((struct fdpkv_uring_cmd *)sqe->cmd)->rsvd = 0;
		io_uring_submit(&ring);
		if (io_uring_wait_cqe(&ring, &cqe) == 0) {
			completed++;
			io_uring_cqe_seen(&ring, cqe);
		}
	}
	tap_ok(completed == 1000, "1000 random uring commands each completed (%d)", completed);
	io_uring_queue_exit(&ring);
	close(fd);
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/nvme0n1";
	struct fdpkv_ns_attach a;
	struct fdpkv_ns_detach d;
	char longpath[FDPKV_PATH_MAX + 8];
	int admin, st, ret;
	pid_t child;

	setvbuf(stdout, NULL, _IOLBF, 0);
	admin = open_fdpkv();
	if (!tap_ok(admin >= 0, "root opens /dev/fdpkv"))
		return tap_done();
	ret = fdpkv_attach(admin, dev, &a);
	if (argc > 2 && !strcmp(argv[2], "mpath")) {
		tap_ok(ret == -EOPNOTSUPP, "%s is a native-multipath head node: EOPNOTSUPP (%d)", dev,
		       ret);
		return tap_done();
	}
	/* with two namespaces the kernel may name them in either order */
	if (!tap_ok(ret == 0 && a.nsid >= 1 && a.lba_size == 4096 && a.nr_pids == 8,
		    "attach %s: ns %u nsid %u lba %u, %u placement ids, %" PRIu64 " blocks, max "
		    "transfer %u (%d)", dev, a.ns, a.nsid, a.lba_size, a.nr_pids, (uint64_t)a.capacity,
		    a.max_transfer, ret))
		return tap_done();
	ns = a.ns;
	nsid = a.nsid;
	nr_pids = a.nr_pids;
	tap_ok(fdpkv_attach(admin, dev, &a) == -EEXIST, "attach again: EEXIST");
	tap_ok(fdpkv_attach(admin, "/dev/null", &a) == -ENOTBLK, "attach a char device: ENOTBLK");
	tap_ok(fdpkv_attach(admin, "", &a) == -EINVAL, "attach an empty path: EINVAL");
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = 0;
	tap_ok(fdpkv_attach(admin, longpath, &a) == -ENAMETOOLONG, "attach a long path: ENAMETOOLONG");
	a = (struct fdpkv_ns_attach){ .path = 16 };
	tap_ok(fdpkv_ioc(admin, FDPKV_IOC_NS_ATTACH, &a) == -EFAULT, "attach a bad pointer: EFAULT");
	a = (struct fdpkv_ns_attach){ .path = (uintptr_t)dev, .flags = 1 };
	tap_ok(fdpkv_ioc(admin, FDPKV_IOC_NS_ATTACH, &a) == -EINVAL, "attach with flags: EINVAL");
	widen_policy(admin);

	/* the udev rule: group fdpkv may use the device */
	chown("/dev/fdpkv", 0, TEST_UID);
	chmod("/dev/fdpkv", 0660);
	child = fork();
	if (child == 0)
		unprivileged_io();
	waitpid(child, &st, 0);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the unprivileged process passed");

	exclusivity_and_kill(admin);
	shared_handles(admin);
	burst(admin);
	garbage();

	if (access("/dev/nvme0n2", F_OK) == 0) {
		struct fdpkv_ns_entry e[4];
		struct fdpkv_ns_attach b;
		uint32_t total;

		ret = fdpkv_attach(admin, "/dev/nvme0n2", &b);
		tap_ok(ret == 0 && b.nsid >= 1 && b.nsid != nsid && b.ns != ns,
		       "a second namespace attaches: ns %u nsid %u", b.ns, b.nsid);
		tap_ok(list(admin, FDPKV_LIST_NAMESPACES, e, sizeof(e), &total) == 2 && total == 2 &&
		       e[0].nsid != e[1].nsid, "both namespaces are listed");
		d = (struct fdpkv_ns_detach){ .ns = b.ns };
		tap_ok(fdpkv_ioc(admin, FDPKV_IOC_NS_DETACH, &d) == 0, "the second one detaches");
	}
	d = (struct fdpkv_ns_detach){ .ns = ns };
	tap_ok(fdpkv_ioc(admin, FDPKV_IOC_NS_DETACH, &d) == 0, "detach once nothing is held");
	tap_ok(fdpkv_ioc(admin, FDPKV_IOC_NS_DETACH, &d) == -ENODEV, "detach again: ENODEV");
	/* leave it attached: module unload must detach it */
	tap_ok(fdpkv_attach(admin, dev, &a) == 0, "attach again for the unload test");
	close(admin);
	return tap_done();
}
