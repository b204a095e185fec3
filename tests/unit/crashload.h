/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashload.h - the crash checker's workload and model (crashload.c), shared
 * by the power-cut checker (test_crashcheck.c, sim) and the kill -9 test
 * (test_crash_inflight.c, file backend).
 *
 * A random workload through the public API (SET with overwrites, GET,
 * EXISTS, DELETE, LOOKUP_LOCK and unlock, batches, values inside a
 * registered arena or not) keeps up to @qd operations in flight and records
 * per key what was acknowledged and what is in flight. The model holds no
 * pointers, so it may live in memory shared with a child that is killed.
 * After a restart cl_verify reads every key back and checks the rules:
 *  - a value read back is byte-exact one written for that key (its version
 *    and key are in its first 8 bytes, the rest follows from them);
 *  - durability fua/flush: it is the latest acknowledged version, or the
 *    version of a SET in flight (or failed) after it; an acknowledged SET is
 *    readable unless fdpkv_take_evicted reported it; an acknowledged DELETE
 *    stays deleted;
 *  - durability none: the same, except that acknowledged data may be
 *    missing: any version ever written for the key, or a miss, is allowed;
 *  - usage (bytes and objects) and fdpkv_foreach_key equal what was read;
 *  - keys that share a fingerprint (FDPKV_INDEX_FP_BITS, lib/index.c) are
 *    one key to the cache: an acknowledged SET may also be missing when a
 *    SET or DELETE of another key of its fingerprint, length and device
 *    may have committed after it (it ended after this SET was submitted);
 *    nothing else changes: a value read is still the key's latest.
 */
#ifndef FDPKV_TEST_CRASHLOAD_H
#define FDPKV_TEST_CRASHLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fdpkv.h"

#define CL_MAX_KEYS	512
#define CL_VMAX		(64u << 10)	/* largest value */
#define CL_BATCH	4		/* keys per operation at most */
#define CL_MAX_QD	64

struct cl_key {
	uint32_t ack;		/* acknowledged version, 0: absent */
	uint32_t inflight;	/* SET in flight: its version */
	uint32_t maybe;		/* a failed SET after ack: may have landed */
	uint8_t del_inflight;	/* a DELETE in flight */
	uint8_t maybe_del;	/* a failed DELETE after ack: may have landed */
	uint8_t miss_ok;	/* ack was reported evicted */
	uint8_t inflight_evicted;
	uint8_t busy;		/* an operation on it is in flight */
	uint8_t locks;		/* LOOKUP_LOCKs held */
	/* on the model's clock: when @ack's SET was submitted, and when the
	 * last SET or DELETE of the key ended (UINT64_MAX: in flight at a cut) */
	uint64_t ack_sub, op_end;
};

/*
 * The last CL_HIST events of a key (enum cl_event << 24 | version), printed
 * with a violation: what the workload did to the key, in the order the
 * checker learnt it.
 */
#define CL_HIST		24
enum cl_event {
	CL_EV_SET = 1,		/* SET submitted */
	CL_EV_SET_ACK,
	CL_EV_SET_FAIL,
	CL_EV_DEL,		/* DELETE submitted */
	CL_EV_DEL_ACK,
	CL_EV_DEL_FAIL,
	CL_EV_EVICTED,		/* fdpkv_take_evicted named it (version: its length) */
	CL_EV_CUT,		/* the power cut, with the key's ack at that time */
	CL_EV_RESTART,		/* a restart found this version (0: missing) */
};

struct cl_hist {
	uint32_t ev[CL_HIST];
	uint32_t n;		/* events ever noted; the last CL_HIST are kept */
};

struct cl_model {
	unsigned int nkeys;
	enum fdpkv_durability durability;
	uint32_t next_ver;
	uint64_t acked_sets, acked_deletes, ops;
	uint64_t evicted;	/* objects fdpkv_take_evicted reported */
	uint64_t violations;
	uint64_t clock;		/* ticks at every submit and completion */
	struct cl_key keys[CL_MAX_KEYS];
	struct cl_hist hist[CL_MAX_KEYS];
};

/* What one run of the workload does. */
struct cl_params {
	unsigned int nops;		/* operations to submit */
	unsigned int qd;		/* at most this many in flight (<= CL_MAX_QD) */
	bool arena;			/* value buffers inside a registered arena */
	unsigned int max_locks;		/* LOOKUP_LOCKs held at once */
	/* called once with up to @qd operations in flight, after @nops */
	void (*cut)(void *arg);
	void *cut_arg;
	/* completions after the cut are not acknowledgements (the host died) */
	bool cut_ghost;
	FILE *log;			/* violations are printed here (NULL: stderr) */
	const char *tag;		/* names the run in violations */
};

void cl_model_init(struct cl_model *m, unsigned int nkeys, enum fdpkv_durability d);
void cl_key_name(char *buf, size_t len, unsigned int k);
/* Run the workload; returns the in-run violations found (also in m->violations). */
uint64_t cl_workload(struct fdpkv_cache *c, struct cl_model *m, uint64_t *rng,
		     const struct cl_params *p);
/* Take the evictions the cache reports into the model (the workload does
 * this as it drains; a caller that quiesced the cache calls it last). */
void cl_take_evicted(struct fdpkv_cache *c, struct cl_model *m);
/*
 * After a restart: read every key, check the rules, and make the model what
 * was found (locks are gone). Returns the violations found.
 */
uint64_t cl_verify(struct fdpkv_cache *c, struct cl_model *m, const struct cl_params *p);
uint64_t cl_rand(uint64_t *rng);

#endif
