// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkv_tenants - hostile tenants of /dev/fdpkv (issue 10, items 1, 5, 6):
 *  - quotas: tenant A (uid 1000) tries to take every handle, a second
 *    file's worth and the whole namespace: EDQUOT beyond the default fair
 *    share, while tenant B (uid 1001) still gets its share and does I/O;
 *    policy and shareable extents are the admin's (EPERM otherwise);
 *  - release with I/O in flight: A queues writes over its lease and returns
 *    the lease and handle at once while B tries to take the same LBAs, writes
 *    them and reads them back after A's writes drained: no block of B's may
 *    hold A's data; LEASE_RELEASE / PH_FREE answer EBUSY meanwhile;
 *  - DSM storm: A holds 255 one-block leases taken in descending order (B
 *    holds the table's 256th) and
 *    sends 256-range Dataset Management commands at QD 32 while B measures
 *    its 4 KiB read latency (printed, with the same measurement alone).
 *
 * usage: fdpkv_tenants /dev/nvme0n1      (multipath off)
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdpkvio.h"
#include "nvmeio.h"
#include "tap.h"

#define UID_A		1000
#define UID_B		1001
#define GID_FDPKV	1000
#define RACE_NLB	1536	/* blocks A writes and returns, per round */
#define RACE_QD		64
#define RACE_CHUNK	32	/* blocks per command of B: within any transfer limit */
#define RACE_ROUNDS	12
/*
 * Whether a round's writes are still queued when A returns its lease is up
 * to the (emulated) device: on a fast one all of them may complete first in
 * every one of 12 rounds (seen on 6.1). So rounds go on, up to this many,
 * until both refusals were provoked.
 */
#define RACE_ROUNDS_MAX	96
#define STORM_BASE	(1u << 16)	/* A's 256 one-block leases start here */
#define STORM_QD	32
/* A's one-block leases: the table's 256 slots but the one B reads from */
#define STORM_LEASES	255
#define LAT_READS	2000	/* alone */
#define LAT_MAX		200000	/* during the storm: until it ends */
#define STORM_CMDS	1024
#define LAT_LBA		(1u << 17)	/* B's lease for the latency reads */

static uint32_t ns, nsid, nr_pids;
static uint64_t capacity;

static int open_fdpkv(void)
{
	int fd = open("/dev/fdpkv", O_RDWR);

	if (fd < 0)
		printf("# open /dev/fdpkv: %s\n", strerror(errno));
	return fd;
}

static void become(uid_t uid)
{
	gid_t g = GID_FDPKV;

	if (setgroups(1, &g) || setgid(GID_FDPKV) || setuid(uid)) {
		perror("become tenant");
		_exit(2);
	}
}

/* Run @fn as @uid in a child; its checks print TAP, its exit says if any failed. */
static pid_t spawn(uid_t uid, void (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		tap_failed = 0;		/* the child's own checks decide its exit */
		become(uid);
		fn(arg);
		_exit(tap_failed ? 1 : 0);
	}
	return pid;
}

static int reap(pid_t pid)
{
	int st;

	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st);
}

static void say(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(3);
}

static char hear(int fd)
{
	char c = 0;

	if (read(fd, &c, 1) != 1)
		return 0;
	return c;
}

static int policy_get(int fd, struct fdpkv_ns_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->ns = ns;
	return fdpkv_ioc(fd, FDPKV_IOC_NS_POLICY_GET, p);
}

static int lease_share(int fd, uint64_t slba, uint64_t nlb, int shared)
{
	struct fdpkv_lease_share sh = { .ns = ns, .shared = shared, .slba = slba, .nlb = nlb };

	return fdpkv_ioc(fd, FDPKV_IOC_LEASE_SHARE, &sh);
}

static int shared_lease(int fd, uint64_t slba, uint64_t nlb)
{
	struct fdpkv_lease l = { .ns = ns, .flags = FDPKV_LEASE_SHARED, .slba = slba, .nlb = nlb };

	return fdpkv_ioc(fd, FDPKV_IOC_LEASE_ACQUIRE, &l);
}

static int lease_release(int fd, uint32_t id)
{
	struct fdpkv_lease l = { .ns = ns, .id = id };

	return fdpkv_ioc(fd, FDPKV_IOC_LEASE_RELEASE, &l);
}

static int ph_free(int fd, uint16_t pid)
{
	struct fdpkv_ph ph = { .ns = ns, .count = 1, .pids = { pid } };

	return fdpkv_ioc(fd, FDPKV_IOC_PH_FREE, &ph);
}

/* --- quotas --- */

struct duo {
	int ready[2], go[2];
};

/* Tenant A takes what the default policy allows, and tries for more. */
static void quota_tenant_a(void *arg)
{
	struct duo *d = arg;
	uint16_t pids[FDPKV_MAX_PIDS];
	struct fdpkv_ns_policy p;
	int fd = open_fdpkv(), fd2 = open_fdpkv();
	int ret = policy_get(fd, &p);

	tap_ok(ret == 0 && p.max_handles_file == nr_pids / 2 &&
	       p.max_handles_uid == nr_pids / 2 && p.max_leases_file == 128 &&
	       p.max_lba_pct_file == 50 && p.max_lba_pct_uid == 50,
	       "a tenant reads the default policy: %u/%u handles, %u leases, %u%% of blocks",
	       p.max_handles_file, p.max_handles_uid, p.max_leases_file, p.max_lba_pct_file);
	p.max_handles_file = nr_pids;
	tap_ok(fdpkv_ioc(fd, FDPKV_IOC_NS_POLICY_SET, &p) == -EPERM,
	       "a tenant may not set the policy: EPERM");
	tap_ok(fdpkv_ph_alloc(fd, ns, nr_pids, 0, pids) == -EDQUOT,
	       "tenant A asks for all %u handles: EDQUOT", nr_pids);
	tap_ok(fdpkv_ph_alloc(fd, ns, nr_pids / 2, 0, pids) == 0,
	       "tenant A gets its share, %u handles", nr_pids / 2);
	tap_ok(fdpkv_ph_alloc(fd2, ns, 1, 0, pids) == -EDQUOT,
	       "a second file of uid %d gets no more: EDQUOT (per uid)", UID_A);
	tap_ok(fdpkv_lease(fd, ns, 0, capacity, NULL) == -EDQUOT,
	       "tenant A leases the whole namespace: EDQUOT");
	tap_ok(fdpkv_lease(fd, ns, 0, capacity / 2, NULL) == 0,
	       "tenant A leases half of it (%" PRIu64 " blocks)", capacity / 2);
	tap_ok(fdpkv_lease(fd2, ns, capacity / 2, 1, NULL) == -EDQUOT,
	       "one block more from its second file: EDQUOT (per uid)");
	tap_ok(shared_lease(fd, capacity - 8, 8) == -EPERM,
	       "a shared lease outside an admin's shareable extent: EPERM");
	tap_ok(lease_share(fd, capacity - 64, 64, 1) == -EPERM,
	       "a tenant may not make LBAs shareable: EPERM");
	say(d->ready[1], 'r');
	hear(d->go[0]);
	close(fd);
	close(fd2);
}

/* Tenant B, while A holds its whole share: B's share is still there. */
static void quota_tenant_b(void *arg)
{
	uint64_t slba = capacity / 2;
	uint16_t pids[FDPKV_MAX_PIDS];
	struct io_uring ring;
	uint32_t cdw[6];
	uint8_t *buf = nvme_alloc(8192);
	int fd = open_fdpkv();

	(void)arg;
	tap_ok(fdpkv_ph_alloc(fd, ns, nr_pids / 2, 0, pids) == 0,
	       "tenant B (uid %d) still gets its %u handles", UID_B, nr_pids / 2);
	tap_ok(fdpkv_lease(fd, ns, slba, capacity - slba, NULL) == 0,
	       "tenant B still leases the other half");
	nvme_ring_init(&ring, 4);
	memset(buf, 0xb5, 4096);
	fdpkv_rw_cdw(cdw, slba, 1, pids[0]);
	tap_ok(fdpkv_io(&ring, fd, ns, NVME_OPC_WRITE, nsid, buf, 4096, cdw) == 0,
	       "tenant B writes with its placement id");
	fdpkv_rw_cdw(cdw, slba, 1, -1);
	tap_ok(fdpkv_io(&ring, fd, ns, NVME_OPC_READ, nsid, buf + 4096, 4096, cdw) == 0 &&
	       !memcmp(buf, buf + 4096, 4096), "and reads its block back");
	io_uring_queue_exit(&ring);
	close(fd);
}

static void quotas(int admin)
{
	struct fdpkv_ns_policy p;
	struct duo d;
	pid_t a, b;

	tap_ok(policy_get(admin, &p) == 0, "admin reads the policy");
	p.max_handles_file = nr_pids + 1;
	tap_ok(fdpkv_ioc(admin, FDPKV_IOC_NS_POLICY_SET, &p) == -EINVAL,
	       "a policy with more handles than the namespace has: EINVAL");
	policy_get(admin, &p);
	p.max_lba_pct_uid = 0;
	tap_ok(fdpkv_ioc(admin, FDPKV_IOC_NS_POLICY_SET, &p) == -EINVAL,
	       "a policy with a limit of 0: EINVAL");
	if (pipe(d.ready) || pipe(d.go))
		return;
	a = spawn(UID_A, quota_tenant_a, &d);
	if (!tap_ok(hear(d.ready[0]) == 'r', "tenant A holds its whole share")) {
		kill(a, SIGKILL);
		reap(a);
		return;
	}
	b = spawn(UID_B, quota_tenant_b, NULL);
	tap_ok(reap(b), "tenant B passed while A exhausted its quota");
	say(d.go[1], 'g');
	tap_ok(reap(a), "tenant A passed");
}

/* --- shareable extents --- */

static void extents(int admin)
{
	uint64_t x = capacity - 256;
	int f1 = open_fdpkv(), f2 = open_fdpkv();

	tap_ok(lease_share(admin, x, 128, 1) == 0, "admin makes LBAs %" PRIu64 "..+128 shareable",
	       x);
	tap_ok(lease_share(admin, x + 64, 128, 1) == -EBUSY, "an overlapping extent: EBUSY");
	tap_ok(shared_lease(f1, x, 64) == 0 && shared_lease(f2, x + 32, 64) == 0,
	       "two files take overlapping shared leases inside it");
	tap_ok(shared_lease(f1, x + 100, 64) == -EPERM,
	       "a shared lease reaching past the extent: EPERM");
	tap_ok(fdpkv_lease(f2, ns, x + 120, 1, NULL) == -EBUSY,
	       "an exclusive lease inside the extent: EBUSY");
	tap_ok(lease_share(admin, x, 128, 0) == -EBUSY,
	       "removing the extent while shared leases are in it: EBUSY");
	close(f1);
	close(f2);
	tap_ok(lease_share(admin, x, 128, 0) == 0, "removed once they are returned");
	tap_ok(lease_share(admin, x, 128, 0) == -ENOENT, "removing it again: ENOENT");
}

/* --- returning a lease and a handle with writes in flight --- */

struct race {
	int to_b[2], to_a[2];
	int busy_lease, busy_ph, released_early, b_got, overwritten, io_errors;
};

static void race_tenant_a(void *arg)
{
	struct race *r = arg;
	uint8_t *buf = nvme_alloc(RACE_NLB * 4096);
	const uint32_t per = RACE_NLB / RACE_QD;
	struct io_uring ring;
	int fd = open_fdpkv(), round, i, busy_lease = 0, busy_ph = 0, errs = 0, early = 0;

	if (!buf || nvme_ring_init(&ring, 2 * RACE_QD))
		_exit(4);
	for (round = 0; round < RACE_ROUNDS_MAX &&
	     (round < RACE_ROUNDS || !busy_lease || !busy_ph); round++) {
		struct io_uring_cqe *cqe;
		uint32_t id, cdw[6];
		uint16_t pid;
		int lr, pr;

		if (fdpkv_ph_alloc(fd, ns, 1, 0, &pid) || fdpkv_lease(fd, ns, 0, RACE_NLB, &id)) {
			tap_ok(0, "round %d: tenant A takes a handle and LBAs 0..%d", round,
			       RACE_NLB - 1);
			break;
		}
		memset(buf, 0xa0 + round, RACE_NLB * 4096);
		for (i = 0; i < RACE_QD; i++) {
			fdpkv_rw_cdw(cdw, i * per, per, pid);
			fdpkv_prep_io(io_uring_get_sqe(&ring), fd, ns, NVME_OPC_WRITE, nsid,
				      buf + (size_t)i * per * 4096, per * 4096, cdw);
		}
		io_uring_submit(&ring);
		/* the attack: give everything back while the writes are queued */
		lr = lease_release(fd, id);
		pr = ph_free(fd, pid);
		busy_lease += lr == -EBUSY;
		busy_ph += pr == -EBUSY;
		say(r->to_b[1], lr == 0 ? 'R' : 'B');
		for (i = 0; i < RACE_QD; i++) {
			if (io_uring_wait_cqe(&ring, &cqe))
				break;
			errs += cqe->res != 0;
			io_uring_cqe_seen(&ring, cqe);
		}
		/* a release that succeeded before every CQE was reaped may be early */
		early += lr == 0;
		say(r->to_b[1], 'D');
		hear(r->to_a[0]);
		if (lr)
			lr = lease_release(fd, id);
		if (pr)
			pr = ph_free(fd, pid);
		if (lr || pr) {
			tap_ok(0, "round %d: after draining, release %d and free %d succeed", round,
			       lr, pr);
			break;
		}
	}
	say(r->to_b[1], 'Q');
	printf("# tenant A: %d rounds; LEASE_RELEASE EBUSY in %d, PH_FREE EBUSY in %d, released "
	       "before its CQEs were reaped in %d; %d write errors\n", round, busy_lease, busy_ph,
	       early, errs);
	tap_ok(busy_lease > 0 && busy_ph > 0,
	       "LEASE_RELEASE and PH_FREE with writes queued: EBUSY (%d and %d of %d rounds)",
	       busy_lease, busy_ph, round);
	tap_ok(errs == 0, "every write of tenant A completed without error");
	io_uring_queue_exit(&ring);
	close(fd);
}

static void race_tenant_b(void *arg)
{
	struct race *r = arg;
	uint8_t *buf = nvme_alloc(RACE_NLB * 4096);
	struct io_uring ring;
	int fd = open_fdpkv(), got = 0, overwritten = 0, errs = 0;
	uint16_t pid;
	char c;

	if (!buf || nvme_ring_init(&ring, 4) || fdpkv_ph_alloc(fd, ns, 1, 0, &pid))
		_exit(4);
	while ((c = hear(r->to_b[0])) == 'R' || c == 'B') {
		uint32_t id, cdw[6], b;

		/* the next tenant takes the LBAs as soon as it can */
		if (fdpkv_lease(fd, ns, 0, RACE_NLB, &id) == 0) {
			got++;
			memset(buf, 0x5b, RACE_NLB * 4096);
			for (b = 0; b < RACE_NLB; b += RACE_CHUNK) {
				fdpkv_rw_cdw(cdw, b, RACE_CHUNK, pid);
				errs += fdpkv_io(&ring, fd, ns, NVME_OPC_WRITE, nsid,
						 buf + (size_t)b * 4096, RACE_CHUNK * 4096, cdw) != 0;
			}
		} else {
			id = 0;
		}
		if (hear(r->to_b[0]) != 'D')
			break;
		if (id) {
			/* every block must still be B's after A's writes drained */
			for (b = 0; b < RACE_NLB; b += RACE_CHUNK) {
				fdpkv_rw_cdw(cdw, b, RACE_CHUNK, -1);
				errs += fdpkv_io(&ring, fd, ns, NVME_OPC_READ, nsid,
						 buf + (size_t)b * 4096, RACE_CHUNK * 4096, cdw) != 0;
			}
			for (b = 0; b < RACE_NLB; b++)
				overwritten += buf[(size_t)b * 4096] != 0x5b;
			lease_release(fd, id);
		}
		say(r->to_a[1], 'n');
	}
	printf("# tenant B got the LBAs in %d rounds; %d of its blocks held A's data\n", got,
	       overwritten);
	tap_ok(overwritten == 0 && errs == 0,
	       "no block tenant B wrote was overwritten by A's in-flight writes (%d; %d errors)",
	       overwritten, errs);
	io_uring_queue_exit(&ring);
	close(fd);
}

static void release_in_flight(void)
{
	struct race r = { 0 };
	pid_t a, b;

	if (pipe(r.to_b) || pipe(r.to_a))
		return;
	b = spawn(UID_B, race_tenant_b, &r);
	a = spawn(UID_A, race_tenant_a, &r);
	close(r.to_b[1]);
	close(r.to_a[1]);
	tap_ok(reap(a), "tenant A (returns what it writes to) passed");
	tap_ok(reap(b), "tenant B (takes the LBAs next) passed");
}

/* --- a DSM storm over 256 one-block leases, and another tenant's latency --- */

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct storm {
	int ready[2], stop[2], lat[2];
	int until_stopped;	/* B: read until told to stop, else LAT_READS */
};

/*
 * The worst case for coverage: 256-range DSM deallocates whose every range
 * spans all of A's leases (taken in descending order), the last range one
 * block longer — refused (ERANGE) only after 255 full ranges were checked,
 * so the device never sees them and what B feels is the module's check.
 */
static void storm_tenant_a(void *arg)
{
	struct storm *s = arg;
	struct { uint32_t cattr, nlb; uint64_t slba; } *r[STORM_QD];
	int fd = open_fdpkv(), i, ok = 1, inflight = 0, stop = 0;
	long sent = 0, refused = 0, wrong = 0;
	struct io_uring ring;

	for (i = STORM_LEASES - 1; i >= 0; i--)
		ok &= fdpkv_lease(fd, ns, STORM_BASE + i, 1, NULL) == 0;
	tap_ok(ok, "tenant A takes %d one-block leases in descending order", STORM_LEASES);
	if (nvme_ring_init(&ring, 2 * STORM_QD))
		_exit(4);
	for (i = 0; i < STORM_QD; i++) {
		int k;

		r[i] = nvme_alloc(4096);
		if (!r[i])
			_exit(4);
		for (k = 0; k < 256; k++) {
			r[i][k].cattr = 0;
			r[i][k].nlb = STORM_LEASES;
			r[i][k].slba = STORM_BASE;
		}
		r[i][255].nlb = STORM_LEASES + 1;	/* one block outside: ERANGE */
	}
	say(s->ready[1], 'r');
	while (!stop || inflight) {
		struct io_uring_cqe *cqe;

		while (!stop && inflight < STORM_QD) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			uint32_t cdw[6] = { 255, 1 << 2 };	/* NR 256, AD */
			int slot = sent % STORM_QD;

			fdpkv_prep_io(sqe, fd, ns, 0x09, nsid, r[slot], 4096, cdw);
			sqe->user_data = slot;
			sent++;
			inflight++;
		}
		io_uring_submit_and_wait(&ring, 1);
		while (io_uring_peek_cqe(&ring, &cqe) == 0) {
			if (cqe->res == -ERANGE)
				refused++;
			else
				wrong++;
			inflight--;
			io_uring_cqe_seen(&ring, cqe);
		}
		stop = sent >= STORM_CMDS;
	}
	printf("# tenant A: %ld DSM commands of 256 ranges over %d leases: %ld refused (ERANGE, "
	       "last range), %ld otherwise\n", sent, STORM_LEASES, refused, wrong);
	tap_ok(wrong == 0 && refused == sent,
	       "every such DSM was refused with ERANGE, for its last range");
	io_uring_queue_exit(&ring);
	close(fd);
}

/*
 * 4 KiB reads at QD 1, LAT_READS of them or until told to stop; writes the
 * count, p50 and p99 (us) to the parent.
 */
static void latency_tenant_b(void *arg)
{
	struct storm *s = arg;
	double *lat = calloc(LAT_MAX, sizeof(*lat)), res[3];
	uint8_t *buf = nvme_alloc(4096);
	struct io_uring ring;
	int fd = open_fdpkv(), i, errs = 0;
	uint32_t cdw[6];
	char c;

	if (!lat || !buf || nvme_ring_init(&ring, 4) || fdpkv_lease(fd, ns, LAT_LBA, 64, NULL))
		_exit(4);
	fcntl(s->stop[0], F_SETFL, O_NONBLOCK);
	say(s->ready[1], 'b');
	for (i = 0; i < LAT_MAX; i++) {
		double t0 = now_us();

		if (s->until_stopped ? read(s->stop[0], &c, 1) == 1 : i == LAT_READS)
			break;
		fdpkv_rw_cdw(cdw, LAT_LBA + i % 64, 1, -1);
		errs += fdpkv_io(&ring, fd, ns, NVME_OPC_READ, nsid, buf, 4096, cdw) != 0;
		lat[i] = now_us() - t0;
	}
	qsort(lat, i, sizeof(*lat), cmp_double);
	res[0] = i;
	res[1] = i ? lat[i / 2] : 0;
	res[2] = i ? lat[(long)i * 99 / 100] : 0;
	if (write(s->lat[1], res, sizeof(res)) != sizeof(res))
		_exit(3);
	tap_ok(errs == 0 && i > 0, "tenant B's %d reads succeeded", i);
	io_uring_queue_exit(&ring);
	close(fd);
}

static void dsm_storm(int admin)
{
	struct fdpkv_ns_policy p;
	struct storm s = { 0 };
	double alone[3] = { 0 }, storm[3] = { 0 };
	int got;
	pid_t a, b;

	policy_get(admin, &p);
	p.max_leases_file = 256;
	p.max_leases_uid = 256;
	tap_ok(fdpkv_ioc(admin, FDPKV_IOC_NS_POLICY_SET, &p) == 0,
	       "admin lets one file hold all 256 leases");
	if (pipe(s.ready) || pipe(s.stop) || pipe(s.lat))
		return;
	b = spawn(UID_B, latency_tenant_b, &s);
	hear(s.ready[0]);
	got = reap(b) && read(s.lat[0], alone, sizeof(alone)) == sizeof(alone);
	tap_ok(got, "tenant B alone: %.0f 4 KiB reads, p50 %.0f us, p99 %.0f us", alone[0],
	       alone[1], alone[2]);
	/* B reads from before A's first DSM until after its last */
	s.until_stopped = 1;
	b = spawn(UID_B, latency_tenant_b, &s);
	hear(s.ready[0]);
	a = spawn(UID_A, storm_tenant_a, &s);
	if (!tap_ok(hear(s.ready[0]) == 'r', "tenant A storms")) {
		kill(a, SIGKILL);
		kill(b, SIGKILL);
		reap(a);
		reap(b);
		return;
	}
	tap_ok(reap(a), "tenant A (DSM storm) passed");
	say(s.stop[1], 's');
	got = reap(b) && read(s.lat[0], storm, sizeof(storm)) == sizeof(storm);
	tap_ok(got, "tenant B during the storm: %.0f 4 KiB reads, p50 %.0f us, p99 %.0f us",
	       storm[0], storm[1], storm[2]);
	printf("# 4 KiB read latency of tenant B, storm/alone: p50 x%.2f, p99 x%.2f\n",
	       alone[1] > 0 ? storm[1] / alone[1] : 0, alone[2] > 0 ? storm[2] / alone[2] : 0);
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/nvme0n1";
	struct fdpkv_ns_attach a;
	struct fdpkv_ns_detach d;
	int admin;

	setvbuf(stdout, NULL, _IOLBF, 0);
	admin = open_fdpkv();
	memset(&a, 0, sizeof(a));
	if (!tap_ok(admin >= 0 && fdpkv_attach(admin, dev, &a) == 0, "attach %s", dev))
		return tap_done();
	if (!tap_ok(a.nr_pids >= 2,
		    "attach %s: %u placement ids, %" PRIu64 " blocks", dev, a.nr_pids,
		    (uint64_t)a.capacity))
		return tap_done();
	ns = a.ns;
	nsid = a.nsid;
	nr_pids = a.nr_pids;
	capacity = a.capacity;
	/* the udev rule: group fdpkv may use the device */
	chown("/dev/fdpkv", 0, GID_FDPKV);
	chmod("/dev/fdpkv", 0660);

	quotas(admin);
	extents(admin);
	release_in_flight();
	dsm_storm(admin);

	d = (struct fdpkv_ns_detach){ .ns = ns };
	tap_ok(fdpkv_ioc(admin, FDPKV_IOC_NS_DETACH, &d) == 0, "detach once every tenant is gone");
	close(admin);
	return tap_done();
}
