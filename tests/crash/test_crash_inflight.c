// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_crash_inflight - kill -9 with many operations in flight, on the file
 * backend. A forked child runs the crash checker's workload (crashload.c:
 * sets with overwrites, gets, deletes, lookup-and-lock/unlock, batches, an
 * arena) with up to 48 operations in flight, keeping its model in memory
 * shared with the parent; the parent kills it at a random moment, reopens
 * the cache and checks every key. The page cache outlives the process, so
 * what the child was told is durable: the rules are those of
 * durability=fua (crashload.h), whatever durability the cache runs with.
 * The capacity is large enough, in small enough segments, that nothing is
 * evicted (an eviction the child had not yet reported when it died would
 * look like a lost SET, and its DELETE answered -ENOENT like an undone
 * one): the test fails if the child ever reports one. With the default
 * segment size (128 MiB: 16 segments in 2 GiB) the new open segments of
 * each restart filled the device within the 24 rounds.
 *
 * FDPKV_CRASH_SEED seeds the kill moments and workloads (default 77).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crashload.h"
#include "util.h"

#define ROUNDS		24
#define NKEYS		160

static void child(const char *kv, struct cl_model *m, uint64_t seed)
{
	struct fdpkv_config cfg;
	struct fdpkv_cache *c;
	char err[256];
	uint64_t rng = seed;
	struct cl_params p = { .nops = 200, .qd = 48, .max_locks = 6, .tag = "child" };

	fdpkv_config_init(&cfg);
	if (fdpkv_config_parse(&cfg, kv, err, sizeof(err)) || fdpkv_open(&cfg, &c, err, sizeof(err)))
		_exit(2);
	for (;;) {
		p.arena = cl_rand(&rng) % 2;
		cl_workload(c, m, &rng, &p);
	}
}

static void test_kill9_many_in_flight(void **state)
{
	struct cl_model *m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *dir = tu_mkdtemp(), kv[600], tag[64];
	unsigned int round;
	const char *env = getenv("FDPKV_CRASH_SEED");
	uint64_t rng = env && *env ? strtoull(env, NULL, 0) : 77, violations = 0, acked = 0;

	(void)state;
	assert_true(m != MAP_FAILED);
	snprintf(kv, sizeof(kv), "device=file:%s/crash.img capacity=2G segment_size=4M queue_depth=64 "
		 "durability=none max_classes=5 reinsert=1", dir);
	fdpkv_close(tu_open(kv));	/* format once */
	cl_model_init(m, NKEYS, FDPKV_DURABILITY_FUA);
	for (round = 0; round < ROUNDS; round++) {
		struct cl_params p = { .tag = tag };
		struct fdpkv_cache *c;
		struct timespec ts;
		uint64_t ops0 = m->ops;
		int status;
		pid_t pid;

		snprintf(tag, sizeof(tag), "kill round %u", round);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			child(kv, m, cl_rand(&rng));
		/* let it get going, then kill it wherever it is */
		while (m->ops < ops0 + 64 && waitpid(pid, &status, WNOHANG) == 0)
			usleep(1000);
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(cl_rand(&rng) % 50) * 1000000L;
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		c = tu_open(kv);
		violations += cl_verify(c, m, &p);
		fdpkv_close(c);
	}
	acked = m->acked_sets + m->acked_deletes;
	printf("kill -9: %u rounds, %llu operations, %llu acknowledged writes, %llu evicted, "
	       "%llu violations\n", ROUNDS, (unsigned long long)m->ops, (unsigned long long)acked,
	       (unsigned long long)m->evicted, (unsigned long long)violations);
	assert_true(acked > ROUNDS * 10);
	assert_int_equal(m->evicted, 0);
	assert_int_equal(violations, 0);
	munmap(m, sizeof(*m));
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9_many_in_flight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
