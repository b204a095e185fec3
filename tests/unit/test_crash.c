// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_crash - kill -9 during set/delete churn, 50 times, on the file backend.
 *
 * A forked child runs one operation at a time and reports through a pipe
 * (fixed 16-byte records, atomic writes) an INTENT before each submit and
 * an ACK after its completion. After each kill the parent reopens the cache
 * and checks every key: an acknowledged SET must load byte-exact, an
 * acknowledged DELETE must stay deleted, and the one operation in flight at
 * the kill may have happened or not. Any loaded value must be exactly one
 * of the allowed versions: never other bytes.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

#define NKEYS		48
#define ROUNDS		50
#define MAX_OPS		300

enum { REC_INTENT_SET = 1, REC_INTENT_DEL, REC_ACK };

struct rec {
	uint32_t type;
	uint32_t key;
	int64_t val;	/* version for intents, result for acks */
};

struct model {
	bool present;
	uint64_t ver;
};

static char kv[600];

static uint64_t vlen_of(uint64_t ver)
{
	return 1 + (ver * 2654435761u) % 12000;
}

static void key_name(char *buf, size_t len, unsigned int k)
{
	snprintf(buf, len, "llama@000000ff@0@%08x@tenant%u:x", k * 7919u, k % 3);
}

static uint32_t seed_of(unsigned int k, uint64_t ver)
{
	return (uint32_t)(k * 1000003u + ver);
}

static void child(int wfd, uint64_t ver_base, unsigned int seed)
{
	struct fdpkv_config cfg;
	struct fdpkv_cache *c;
	char err[256], name[64];
	static uint8_t val[12001];
	unsigned int i;

	srand(seed);
	fdpkv_config_init(&cfg);
	if (fdpkv_config_parse(&cfg, kv, err, sizeof(err)) || fdpkv_open(&cfg, &c, err, sizeof(err)))
		_exit(2);
	for (i = 0; i < MAX_OPS; i++) {
		unsigned int k = (unsigned int)rand() % NKEYS;
		bool del = rand() % 10 < 3;
		uint64_t ver = ver_base + i;
		struct fdpkv_key key;
		struct fdpkv_buf b;
		struct fdpkv_completion done;
		struct rec r = { del ? REC_INTENT_DEL : REC_INTENT_SET, k, (int64_t)ver };
		uint64_t id;

		key_name(name, sizeof(name), k);
		key = tu_key(name);
		b = (struct fdpkv_buf){ val, vlen_of(ver) };
		tu_fill(val, b.len, seed_of(k, ver));
		if (write(wfd, &r, sizeof(r)) != sizeof(r))
			_exit(3);
		if (fdpkv_submit(c, del ? FDPKV_OP_DELETE : FDPKV_OP_SET, 1, &key, &b, NULL, &id))
			_exit(4);
		for (;;) {
			fdpkv_wait(c, 1000);
			if (fdpkv_drain(c, &done, 1) == 1)
				break;
		}
		r = (struct rec){ REC_ACK, k, done.result };
		fdpkv_completion_release(&done);
		if (write(wfd, &r, sizeof(r)) != sizeof(r))
			_exit(3);
	}
	pause();	/* wait to be killed, like a server would */
	_exit(0);
}

/* Does the cache hold an allowed state for key k? Returns the state found. */
static struct model check_key(struct fdpkv_cache *c, unsigned int k, struct model before,
			      bool have_intent, struct model after)
{
	char name[64];
	struct fdpkv_key key;
	struct fdpkv_completion done;
	static uint8_t got[12001], want[12001];
	struct model found = { 0 };
	int ret;

	key_name(name, sizeof(name), k);
	key = tu_key(name);
	ret = tu_run(c, FDPKV_OP_EXISTS, 1, &key, NULL, &done);
	if (ret == 0) {
		uint64_t len = done.value_len[0];
		struct model cand[2] = { before, after };
		int i, ok = 0;

		fdpkv_completion_release(&done);
		memset(got, 0, sizeof(got));
		assert_int_equal(tu_get1(c, name, got, len), 0);
		for (i = 0; i < (have_intent ? 2 : 1) && !ok; i++) {
			if (!cand[i].present || vlen_of(cand[i].ver) != len)
				continue;
			tu_fill(want, len, seed_of(k, cand[i].ver));
			if (!memcmp(got, want, len)) {
				ok = 1;
				found = cand[i];
			}
		}
		if (!ok)
			fprintf(stderr, "key %u: loaded %llu bytes matching no allowed version "
				"(acked %d/%llu)\n", k, (unsigned long long)len, before.present,
				(unsigned long long)before.ver);
		assert_true(ok);
	} else {
		fdpkv_completion_release(&done);
		assert_int_equal(ret, -ENOENT);
		if (before.present && !(have_intent && !after.present))
			fprintf(stderr, "key %u: acknowledged version %llu lost\n", k,
				(unsigned long long)before.ver);
		assert_true(!before.present || (have_intent && !after.present));
	}
	return found;
}

static void test_kill9_churn(void **state)
{
	struct model m[NKEYS] = { 0 };
	char *dir = tu_mkdtemp();
	unsigned int round, total_acked = 0;
	struct fdpkv_cache *c;

	(void)state;
	snprintf(kv, sizeof(kv), "device=file:%s/crash.img capacity=1G segment_size=4M", dir);
	c = tu_open(kv);	/* format once */
	fdpkv_close(c);
	srand(12345);
	for (round = 0; round < ROUNDS; round++) {
		int pfd[2], status;
		struct rec r, intent = { 0 };
		bool pending = false;
		struct timespec ts;
		pid_t pid;
		unsigned int k;

		assert_int_equal(pipe(pfd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			child(pfd[1], (uint64_t)(round + 1) * 1000000u, round + 7);
		}
		close(pfd[1]);
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(20 + rand() % 150) * 1000000L;
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		while (read(pfd[0], &r, sizeof(r)) == sizeof(r)) {
			if (r.type == REC_ACK) {
				assert_true(pending);
				assert_int_equal(r.key, intent.key);
				if (intent.type == REC_INTENT_SET) {
					assert_int_equal(r.val, 0);
					m[r.key] = (struct model){ true, (uint64_t)intent.val };
				} else {
					assert_true(r.val == 0 || r.val == -ENOENT);
					m[r.key].present = false;
				}
				pending = false;
				total_acked++;
			} else {
				intent = r;
				pending = true;
			}
		}
		close(pfd[0]);
		c = tu_open(kv);
		for (k = 0; k < NKEYS; k++) {
			bool mine = pending && intent.key == k;
			struct model after = { intent.type == REC_INTENT_SET, (uint64_t)intent.val };

			m[k] = check_key(c, k, m[k], mine, after);
		}
		fdpkv_close(c);
	}
	printf("crash: %u kills, %u acknowledged operations verified\n", ROUNDS, total_acked);
	assert_true(total_acked > ROUNDS);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
