// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkv_race - attach and detach race everything that uses a namespace
 * (issue 10 item 8), for a bounded time. Run on the KASAN kernel by the plan
 * fdpkv_attach_race, which then reads the kernel log for KASAN, WARNING,
 * list-corruption and oops reports: a use-after-free that returns plausible
 * bytes is caught there, not here.
 *
 * Root, as the ABI requires, attaches /dev/nvme0n1 from one thread and
 * detaches namespaces 0-3 from another; a third lists the namespaces and
 * reads the debugfs state. Meanwhile tenants -- processes of uid 1000, doing
 * what any member of the fdpkv group may -- take and return a placement
 * handle and a lease on namespace 0, write and read the leased blocks
 * through io_uring, list, and close /dev/fdpkv with their grants held (the
 * release path) and open it again. Every call must end in an errno its
 * contract names, and the race must really happen (attaches and detaches
 * both succeed).
 *
 * Uses only what the ABI had before the item-8 fix (attach, detach, handles,
 * leases, list, FDPKV_URING_CMD_IO), so the same program runs against the
 * module from before the fix for the before/after proof (kmod/README.md).
 *
 * usage: fdpkv_race SECONDS
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdpkvio.h"
#include "nvmeio.h"
#include "tap.h"

#define TEST_UID	1000
#define NSPATH		"/dev/nvme0n1"
#define NSID		1
#define TENANTS		2
#define TENANT_NLB	64
#define STATE		"/sys/kernel/debug/fdpkv/state"

static double deadline;
static volatile int stop;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What one racer counts: successes, and calls that ended in no listed errno. */
struct tally {
	const char *who;
	unsigned long ok, other, bad;
	char first_bad[96];
};

/* Count @ret: 0 is ok, an errno in @allowed (0-terminated) other, else bad. */
static void tally(struct tally *t, const char *what, int ret, const int *allowed)
{
	if (ret == 0) {
		t->ok++;
		return;
	}
	for (; *allowed; allowed++)
		if (ret == -*allowed) {
			t->other++;
			return;
		}
	if (!t->bad++)
		snprintf(t->first_bad, sizeof(t->first_bad), "%s: %d (%s)", what, ret,
			 ret < 0 ? strerror(-ret) : "NVMe status");
}

static int detach(int fd, uint32_t ns)
{
	struct fdpkv_ns_detach d = { .ns = ns };

	return fdpkv_ioc(fd, FDPKV_IOC_NS_DETACH, &d);
}

/* EEXIST: attached already; EBUSY: the last detach's commands still hold the bdev */
static const int attach_errs[] = { EEXIST, EBUSY, 0 };
/* ENOENT: "not attached" of the module before issue 10 item 9 */
static const int detach_errs[] = { ENODEV, ENOENT, EBUSY, 0 };
/* ENODEV: not attached (or detached meanwhile); EDQUOT/ENOSPC: the other tenant's share */
static const int grant_errs[] = { ENODEV, EDQUOT, ENOSPC, 0 };
static const int no_errs[] = { 0 };

static void *root_attach(void *arg)
{
	struct tally *t = arg;
	int fd = open("/dev/fdpkv", O_RDWR);

	while (!stop) {
		struct fdpkv_ns_attach a;
		int ret = fdpkv_attach(fd, NSPATH, &a);

		/*
		 * The fields attach answers are those of the namespace it made;
		 * read from a freed one they are whatever is there (zeros with
		 * init_on_free=1).
		 */
		if (!ret && (a.nsid != NSID || a.lba_size != 4096 || !a.capacity)) {
			if (!t->bad++)
				snprintf(t->first_bad, sizeof(t->first_bad),
					 "attach answered nsid %u, LBA size %u, capacity %llu",
					 a.nsid, a.lba_size, (unsigned long long)a.capacity);
			continue;
		}
		tally(t, "attach", ret, attach_errs);
	}
	close(fd);
	return NULL;
}

static void *root_detach(void *arg)
{
	struct tally *t = arg;
	int fd = open("/dev/fdpkv", O_RDWR);
	uint32_t ns = 0;

	while (!stop)
		tally(t, "detach", detach(fd, ns++ % 4), detach_errs);
	close(fd);
	return NULL;
}

static void *root_list(void *arg)
{
	struct tally *t = arg;
	int fd = open("/dev/fdpkv", O_RDWR);
	char buf[4096];

	while (!stop) {
		struct fdpkv_ns_entry e[4];
		struct fdpkv_list l = { .addr = (uintptr_t)e, .size = sizeof(e) };
		int sfd = open(STATE, O_RDONLY);

		tally(t, "list", fdpkv_ioc(fd, FDPKV_IOC_LIST, &l), no_errs);
		/* debugfs is optional: Debian's kernels have it, a minimal one may not */
		if (sfd >= 0) {
			while (read(sfd, buf, sizeof(buf)) > 0)
				;
			close(sfd);
		}
	}
	close(fd);
	return NULL;
}

/*
 * One tenant round on namespace 0: a handle, a lease on its own blocks, a
 * placement write and a read there, then everything returned -- or, every
 * fourth round, the file closed with both held. Between rounds it holds
 * nothing for 0.5-2.5 ms, so that detach succeeds now and then, also in
 * the window of an attach.
 */
static int tenant_round(struct tally *t, int *fd, struct io_uring *ring, void *buf, int id,
			unsigned long round)
{
	uint64_t slba = (uint64_t)id * TENANT_NLB;
	struct fdpkv_lease l = { .ns = 0 };
	struct fdpkv_ph ph = { .ns = 0, .count = 1 };
	uint32_t cdw[6];
	int have_ph, have_lease, ret;

	ret = fdpkv_ph_alloc(*fd, 0, 1, 0, ph.pids);
	tally(t, "PH_ALLOC", ret, grant_errs);
	have_ph = !ret;
	ret = fdpkv_lease(*fd, 0, slba, TENANT_NLB, &l.id);
	tally(t, "LEASE_ACQUIRE", ret, grant_errs);
	have_lease = !ret;
	/* a held lease keeps the namespace attached: no errno allowed */
	if (have_lease && have_ph) {	/* a write needs a handle of its own */
		fdpkv_rw_cdw(cdw, slba, 1, ph.pids[0]);
		tally(t, "write", fdpkv_io(ring, *fd, 0, NVME_OPC_WRITE, NSID, buf, 4096, cdw),
		      no_errs);
	}
	if (have_lease) {
		fdpkv_rw_cdw(cdw, slba, 1, -1);
		tally(t, "read", fdpkv_io(ring, *fd, 0, NVME_OPC_READ, NSID, buf, 4096, cdw),
		      no_errs);
	}
	if (round % 4 == 3) {
		struct fdpkv_ns_entry e[4];
		struct fdpkv_list li = { .addr = (uintptr_t)e, .size = sizeof(e) };

		tally(t, "LIST", fdpkv_ioc(*fd, FDPKV_IOC_LIST, &li), no_errs);
		close(*fd);	/* the release path returns what is held, racing detach */
		*fd = open("/dev/fdpkv", O_RDWR);
		return *fd < 0 ? -errno : 0;
	}
	if (have_lease)
		tally(t, "LEASE_RELEASE", fdpkv_ioc(*fd, FDPKV_IOC_LEASE_RELEASE, &l), no_errs);
	if (have_ph)
		tally(t, "PH_FREE", fdpkv_ioc(*fd, FDPKV_IOC_PH_FREE, &ph), no_errs);
	return 0;
}

/* A tenant process: uid/gid 1000, its own file, rounds until the deadline. */
static int tenant(int id)
{
	struct tally t = { .who = "tenant" };
	struct io_uring ring;
	unsigned long round;
	void *buf = nvme_alloc(4096);
	int fd;

	if (setgroups(0, NULL) || setgid(TEST_UID) || setuid(TEST_UID))
		return 2;
	fd = open("/dev/fdpkv", O_RDWR);
	if (fd < 0 || !buf || nvme_ring_init(&ring, 4))
		return 2;
	srand(id + 1);
	for (round = 0; now() < deadline; round++) {
		if (tenant_round(&t, &fd, &ring, buf, id, round))
			return 2;
		/* holding nothing for a while: detach gets its chances */
		usleep(500 + rand() % 2000);
	}
	close(fd);
	printf("# tenant %d (uid %d): %lu rounds, %lu calls ok, %lu refused as listed\n", id,
	       TEST_UID, round, t.ok, t.other);
	if (t.bad)
		printf("# tenant %d: %lu unexpected results, first %s\n", id, t.bad, t.first_bad);
	fflush(stdout);
	return t.bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct tally ta = { .who = "attach" }, td = { .who = "detach" }, tl = { .who = "list" };
	pthread_t th[3];
	pid_t pids[TENANTS];
	int fd, i, status, ret;

	if (argc < 2)
		return 2;
	/* the udev rule: group fdpkv (the tenants' gid) may use the device */
	if (chown("/dev/fdpkv", 0, TEST_UID) || chmod("/dev/fdpkv", 0660))
		perror("chown /dev/fdpkv");
	deadline = now() + atoi(argv[1]);
	for (i = 0; i < TENANTS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			exit(tenant(i));
	}
	pthread_create(&th[0], NULL, root_attach, &ta);
	pthread_create(&th[1], NULL, root_detach, &td);
	pthread_create(&th[2], NULL, root_list, &tl);
	for (i = 0; i < TENANTS; i++) {
		ret = waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status) ?
		      WEXITSTATUS(status) : -1;
		tap_ok(ret == 0, "tenant %d: every call ended in a listed errno (exit %d)", i, ret);
	}
	stop = 1;
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	printf("# attach: %lu ok, %lu EEXIST/EBUSY, %lu else; detach: %lu ok, %lu ENODEV/EBUSY, %lu else; list: %lu\n",
	       ta.ok, ta.other, ta.bad, td.ok, td.other, td.bad, tl.ok);
	tap_ok(!ta.bad, "attach: nothing but EEXIST/EBUSY, fields as attached%s%s",
	       ta.bad ? ": " : "", ta.first_bad);
	tap_ok(!td.bad, "detach: nothing but ENODEV/EBUSY%s%s", td.bad ? ": " : "", td.first_bad);
	tap_ok(!tl.bad, "list: never fails%s%s", tl.bad ? ": " : "", tl.first_bad);
	tap_ok(ta.ok >= 2 && td.ok >= 1, "the race ran: %lu attaches, %lu detaches succeeded",
	       ta.ok, td.ok);
	fd = open("/dev/fdpkv", O_RDWR);
	for (i = 0; i < 4; i++)
		detach(fd, i);
	close(fd);
	return tap_done();
}
