// SPDX-License-Identifier: LGPL-2.1-or-later
/* crashload.c - the crash checker's workload and model: see crashload.h. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "crashload.h"

#define MIN_U64(a, b)	((uint64_t)(a) < (uint64_t)(b) ? (uint64_t)(a) : (uint64_t)(b))

/* Orders the model's stores for a process that may be killed between them. */
#define CL_ORDER()	atomic_signal_fence(memory_order_seq_cst)

struct cl_slot {
	bool used;
	enum fdpkv_op type;
	unsigned int n;
	unsigned int k[CL_BATCH];
	uint32_t ver[CL_BATCH];
	uint64_t sub_clock;		/* the model's clock at submit */
	char name[CL_BATCH][64];
	struct fdpkv_key keys[CL_BATCH];
	struct fdpkv_buf bufs[CL_BATCH];
	uint8_t *mem[CL_BATCH];
};

struct cl_run {
	struct fdpkv_cache *c;
	struct cl_model *m;
	const struct cl_params *p;
	uint64_t *rng;
	struct cl_slot slot[CL_MAX_QD];
	unsigned int inflight;
	bool cut;
	uint64_t violations;
};

uint64_t cl_rand(uint64_t *rng)
{
	uint64_t z = (*rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void cl_model_init(struct cl_model *m, unsigned int nkeys, enum fdpkv_durability d)
{
	memset(m, 0, sizeof(*m));
	m->nkeys = nkeys < CL_MAX_KEYS ? nkeys : CL_MAX_KEYS;
	m->durability = d;
	m->next_ver = 1;
}

void cl_key_name(char *buf, size_t len, unsigned int k)
{
	snprintf(buf, len, "llama@000000ff@0@%08x@tenant%u:x", k, k % 3);
}

static void note(struct cl_model *m, unsigned int k, enum cl_event ev, uint32_t v)
{
	struct cl_hist *h = &m->hist[k];

	h->ev[h->n % CL_HIST] = (uint32_t)ev << 24 | (v & 0xffffff);
	CL_ORDER();
	h->n++;
}

static int cl_key_of(const void *key, uint32_t klen)
{
	char s[80];
	unsigned int k, t;

	if (klen >= sizeof(s))
		return -1;
	memcpy(s, key, klen);
	s[klen] = 0;
	if (sscanf(s, "llama@000000ff@0@%08x@tenant%u:x", &k, &t) != 2 || k >= CL_MAX_KEYS)
		return -1;
	return (int)k;
}

/* Value length of version @ver of key @k: a quarter are whole 4 KiB blocks. */
static uint64_t cl_vlen(unsigned int k, uint32_t ver)
{
	uint64_t h = (uint64_t)k * 0x9e3779b97f4a7c15ull ^ (uint64_t)ver * 0xc2b2ae3d27d4eb4full;

	h ^= h >> 29;
	if (h % 4 == 0)
		return 4096 * (1 + (h >> 8) % (CL_VMAX / 4096));
	return 8 + (h >> 8) % (CL_VMAX - 8);
}

static void cl_fill(uint8_t *b, unsigned int k, uint32_t ver)
{
	uint64_t len = cl_vlen(k, ver), i, x = ((uint64_t)k << 32) | ver;

	memcpy(b, &k, 4);
	memcpy(b + 4, &ver, 4);
	for (i = 8; i < len; i += 8) {
		uint64_t r = cl_rand(&x);

		memcpy(b + i, &r, MIN_U64(8, len - i));
	}
}

/* The version the value @b of @len bytes holds for key @k, or 0 when it is not one. */
static uint32_t cl_decode(const uint8_t *b, uint64_t len, unsigned int k)
{
	static __thread uint8_t want[CL_VMAX];
	uint32_t kk, ver;

	if (len < 8)
		return 0;
	memcpy(&kk, b, 4);
	memcpy(&ver, b + 4, 4);
	if (kk != k || !ver || cl_vlen(k, ver) != len)
		return 0;
	cl_fill(want, k, ver);
	return memcmp(want, b, len) ? 0 : ver;
}

static void cl_violation(struct cl_run *r, unsigned int k, const char *fmt, uint32_t got)
{
	const struct cl_key *s = &r->m->keys[k];
	FILE *f = r->p->log ? r->p->log : stderr;

	r->violations++;
	r->m->violations++;
	fprintf(f, "VIOLATION %s key %u: %s (got v%u; acked v%u, in flight v%u%s, failed v%u%s%s)\n",
		r->p->tag ? r->p->tag : "", k, fmt, got, s->ack, s->inflight,
		s->del_inflight ? " +delete" : "", s->maybe, s->maybe_del ? " +delete" : "",
		s->miss_ok ? ", evicted" : "");
}

static void on_evicted(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	struct cl_model *m = arg;
	int k = cl_key_of(key, klen);
	struct cl_key *s;

	m->evicted++;
	if (k < 0 || (unsigned int)k >= m->nkeys)
		return;
	s = &m->keys[k];
	note(m, (unsigned int)k, CL_EV_EVICTED, (uint32_t)vlen);
	if (s->ack && cl_vlen((unsigned int)k, s->ack) == vlen)
		s->miss_ok = 1;
	if (s->inflight && cl_vlen((unsigned int)k, s->inflight) == vlen)
		s->inflight_evicted = 1;
}

static void slot_done(struct cl_run *r, struct cl_slot *sl, const struct fdpkv_completion *cp)
{
	struct cl_model *m = r->m;
	unsigned int i;

	if (r->cut && r->p->cut_ghost) {
		/* the host went down with the power: nothing it is told now counts */
		sl->used = false;
		r->inflight--;
		return;
	}
	m->clock++;
	for (i = 0; i < sl->n; i++) {
		struct cl_key *s = &m->keys[sl->k[i]];
		int st = cp->status[i];

		if (sl->type == FDPKV_OP_SET || sl->type == FDPKV_OP_DELETE)
			s->op_end = m->clock;
		switch (sl->type) {
		case FDPKV_OP_SET:
			note(m, sl->k[i], st ? CL_EV_SET_FAIL : CL_EV_SET_ACK, sl->ver[i]);
			if (!st) {
				s->ack = sl->ver[i];
				s->ack_sub = sl->sub_clock;
				s->miss_ok = s->inflight_evicted;
				s->maybe = 0;
				s->maybe_del = 0;
				m->acked_sets++;
			} else {
				s->maybe = sl->ver[i];
			}
			CL_ORDER();
			s->inflight = 0;
			s->inflight_evicted = 0;
			break;
		case FDPKV_OP_DELETE:
			note(m, sl->k[i], !st || st == -ENOENT ? CL_EV_DEL_ACK : CL_EV_DEL_FAIL,
			     (uint32_t)-st);
			if (!st || st == -ENOENT) {
				s->ack = 0;
				s->maybe = 0;
				s->miss_ok = 0;
				s->maybe_del = 0;
				m->acked_deletes++;
			} else if (st != -EBUSY) {
				s->maybe_del = 1;
			}
			CL_ORDER();
			s->del_inflight = 0;
			break;
		case FDPKV_OP_GET:
			/* nothing else ran on the key meanwhile: a hit is its
			 * acknowledged version (or a failed SET's) */
			if (!st && !r->cut) {
				uint32_t v = cl_decode(sl->mem[i], sl->bufs[i].len, sl->k[i]);

				if (!v)
					cl_violation(r, sl->k[i], "GET returned bytes never written", 0);
				else if (v != s->ack && v != s->maybe)
					cl_violation(r, sl->k[i], "GET returned a stale version", v);
			}
			break;
		case FDPKV_OP_LOOKUP_LOCK:
			if (!st && s->locks < 255)
				s->locks++;
			break;
		default:
			break;
		}
		CL_ORDER();
		s->busy = 0;
	}
	sl->used = false;
	r->inflight--;
}

/*
 * What a hang leaves to look at: every segment not free, as
 * index:state/class and the counts that keep it from being evicted or
 * reused (r readers, w writes, c copies, L locked entries, E evicting,
 * K kept, p pending records, B broken).
 */
/* The writes waiting for room on @d: user SETs/DELETEs, carried records */
static void dump_waiters(const struct devctx *d)
{
	const struct key_req *kr;
	unsigned int user = 0, carried = 0, other = 0;

	for (kr = d->waiters; kr; kr = kr->wait_next) {
		if (kr->op)
			user++;
		else if (kr->carry)
			carried++;
		else
			other++;
	}
	fprintf(stderr, "  waiting for room: %u user, %u carried, %u other; unstick %d\n", user,
		carried, other, d->unstick);
}

static void dump_segments(struct fdpkv_cache *c)
{
	struct timespec until;
	unsigned int d;
	uint32_t i;
	bool locked;

	/* a hang may be the lock itself: then say so and look anyway */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	locked = !pthread_mutex_timedlock(&c->lock, &until);
	if (!locked)
		fprintf(stderr, "  the cache lock is held (2 s): segments read without it\n");
	for (d = 0; d < c->ndev; d++) {
		const struct seg_table *t = &c->devs[d].segs;

		fprintf(stderr, "  dev %u: %u segments, %u free, %u reclaiming:", d, t->n, t->nfree,
			t->nreclaim);
		for (i = 0; i < t->n; i++) {
			const struct segment *sg = &t->segs[i];

			if (sg->state == SEG_FREE)
				continue;
			fprintf(stderr, " %u:%u/%u", i, sg->state, sg->cls);
			if (sg->readers)
				fprintf(stderr, "r%u", sg->readers);
			if (sg->writes)
				fprintf(stderr, "w%u", sg->writes);
			if (sg->copies)
				fprintf(stderr, "c%u", sg->copies);
			if (sg->copies_waiting)
				fprintf(stderr, "(%u waiting)", sg->copies_waiting);
			if (sg->locked)
				fprintf(stderr, "L%u", sg->locked);
			if (sg->evicting)
				fprintf(stderr, "E%u", sg->evict_phase);
			if (sg->keep)
				fputc('K', stderr);
			if (sg->npending)
				fprintf(stderr, "p%u", sg->npending);
			if (sg->broken)
				fputc('B', stderr);
		}
		fputc('\n', stderr);
		dump_waiters(&c->devs[d]);
	}
	if (locked)
		pthread_mutex_unlock(&c->lock);
}

static void drain(struct cl_run *r, bool block)
{
	struct fdpkv_completion cp[16];
	int n, i;

	if (block && fdpkv_wait(r->c, 60000) != 1) {
		unsigned int j;

		fprintf(stderr, "crashload: %s: no completion in 60 s (%u in flight, %s the cut):",
			r->p->tag ? r->p->tag : "", r->inflight, r->cut ? "after" : "before");
		for (j = 0; j < CL_MAX_QD; j++)
			if (r->slot[j].used)
				fprintf(stderr, " op %d x%u", r->slot[j].type, r->slot[j].n);
		{
			struct fdpkv_stats st;

			fdpkv_stats(r->c, &st);
			fprintf(stderr, "\n  inflight ops %llu cmds %llu, segments free %llu of %llu, "
				"io errors %llu\n", (unsigned long long)st.inflight_ops,
				(unsigned long long)st.inflight_cmds,
				(unsigned long long)st.segments_free,
				(unsigned long long)st.segments_total,
				(unsigned long long)st.io_errors);
		}
		dump_segments(r->c);
		abort();
	}
	while ((n = fdpkv_drain(r->c, cp, 16)) > 0) {
		for (i = 0; i < n; i++) {
			slot_done(r, cp[i].user_data, &cp[i]);
			fdpkv_completion_release(&cp[i]);
		}
	}
	if (!(r->cut && r->p->cut_ghost))
		fdpkv_take_evicted(r->c, on_evicted, r->m);
}

/* Pick up to @want distinct idle keys into @sl. */
static unsigned int pick_keys(struct cl_run *r, struct cl_slot *sl, unsigned int want,
			      bool locked_only)
{
	struct cl_model *m = r->m;
	unsigned int n = 0, tries;

	for (tries = 0; tries < 4 * want + 8 && n < want; tries++) {
		unsigned int k = (unsigned int)(cl_rand(r->rng) % m->nkeys), j;

		if (m->keys[k].busy || (locked_only && !m->keys[k].locks))
			continue;
		for (j = 0; j < n && sl->k[j] != k; j++)
			;
		if (j < n)
			continue;
		sl->k[n++] = k;
	}
	return n;
}

static unsigned int total_locks(const struct cl_model *m)
{
	unsigned int k, t = 0;

	for (k = 0; k < m->nkeys; k++)
		t += m->keys[k].locks;
	return t;
}

static void unlock_some(struct cl_run *r)
{
	struct cl_slot tmp;
	unsigned int n = pick_keys(r, &tmp, 2, true), i;

	for (i = 0; i < n; i++) {
		struct fdpkv_key key;

		cl_key_name(tmp.name[i], sizeof(tmp.name[i]), tmp.k[i]);
		key.data = tmp.name[i];
		key.len = (uint32_t)strlen(tmp.name[i]);
		fdpkv_unlock(r->c, 1, &key);
		r->m->keys[tmp.k[i]].locks--;
	}
}

static void submit_one(struct cl_run *r)
{
	struct cl_model *m = r->m;
	struct cl_slot *sl = NULL;
	unsigned int i, roll = (unsigned int)(cl_rand(r->rng) % 100), want;
	uint64_t id;
	int ret;

	for (i = 0; i < r->p->qd && i < CL_MAX_QD; i++)
		if (!r->slot[i].used) {
			sl = &r->slot[i];
			break;
		}
	if (!sl)
		return;
	if (roll < 45)
		sl->type = FDPKV_OP_SET;
	else if (roll < 65)
		sl->type = FDPKV_OP_GET;
	else if (roll < 77)
		sl->type = FDPKV_OP_DELETE;
	else if (roll < 85)
		sl->type = FDPKV_OP_EXISTS;
	else if (roll < 93 && total_locks(m) < r->p->max_locks)
		sl->type = FDPKV_OP_LOOKUP_LOCK;
	else {
		unlock_some(r);
		return;
	}
	want = 1 + (unsigned int)(cl_rand(r->rng) % 8 == 0 ? cl_rand(r->rng) % CL_BATCH : 0);
	sl->n = pick_keys(r, sl, want, false);
	if (!sl->n)
		return;
	sl->sub_clock = ++m->clock;
	for (i = 0; i < sl->n; i++) {
		unsigned int k = sl->k[i];
		struct cl_key *s = &m->keys[k];

		cl_key_name(sl->name[i], sizeof(sl->name[i]), k);
		sl->keys[i].data = sl->name[i];
		sl->keys[i].len = (uint32_t)strlen(sl->name[i]);
		sl->bufs[i].base = sl->mem[i];
		s->busy = 1;
		switch (sl->type) {
		case FDPKV_OP_SET:
			sl->ver[i] = m->next_ver++;
			sl->bufs[i].len = cl_vlen(k, sl->ver[i]);
			cl_fill(sl->mem[i], k, sl->ver[i]);
			note(m, k, CL_EV_SET, sl->ver[i]);
			s->inflight = sl->ver[i];
			break;
		case FDPKV_OP_GET:
			/* the acknowledged version's length: another is a miss */
			sl->bufs[i].len = s->ack ? cl_vlen(k, s->ack) : 8;
			break;
		case FDPKV_OP_DELETE:
			note(m, k, CL_EV_DEL, 0);
			s->del_inflight = 1;
			break;
		default:
			break;
		}
	}
	CL_ORDER();
	ret = fdpkv_submit(r->c, sl->type, sl->n, sl->keys, sl->bufs, sl, &id);
	if (ret) {
		fprintf(stderr, "crashload: submit: %d\n", ret);
		abort();
	}
	sl->used = true;
	r->inflight++;
	m->ops++;
}

static uint8_t *cl_buffers(size_t *len)
{
	static uint8_t *mem;

	*len = (size_t)CL_MAX_QD * CL_BATCH * CL_VMAX;
	if (!mem && posix_memalign((void **)&mem, 4096, *len))
		abort();
	return mem;
}

static void run_init(struct cl_run *r, struct fdpkv_cache *c, struct cl_model *m,
		     uint64_t *rng, const struct cl_params *p)
{
	size_t len;
	uint8_t *mem = cl_buffers(&len);
	unsigned int i, j;

	memset(r, 0, sizeof(*r));
	r->c = c;
	r->m = m;
	r->p = p;
	r->rng = rng;
	for (i = 0; i < CL_MAX_QD; i++)
		for (j = 0; j < CL_BATCH; j++)
			r->slot[i].mem[j] = mem + ((size_t)i * CL_BATCH + j) * CL_VMAX;
}

uint64_t cl_workload(struct fdpkv_cache *c, struct cl_model *m, uint64_t *rng,
		     const struct cl_params *p)
{
	struct cl_run r;
	unsigned int done = 0;
	int arena = -1;

	run_init(&r, c, m, rng, p);
	if (p->arena) {
		size_t len;
		uint8_t *mem = cl_buffers(&len);

		arena = fdpkv_register_arena(c, mem, len);
		if (arena < 0)
			fprintf(stderr, "crashload: register_arena: %d (values bounce)\n", arena);
	}
	while (done < p->nops) {
		if (r.inflight < p->qd) {
			submit_one(&r);
			done++;
			drain(&r, false);
		} else {
			drain(&r, true);
		}
	}
	if (p->cut) {
		unsigned int k;

		p->cut(p->cut_arg);
		r.cut = true;
		for (k = 0; k < m->nkeys; k++) {
			if (m->hist[k].n)
				note(m, k, CL_EV_CUT, m->keys[k].ack);
			/* may still land, after anything acknowledged */
			if (m->keys[k].inflight || m->keys[k].del_inflight)
				m->keys[k].op_end = UINT64_MAX;
		}
		/* what was evicted before the cut may be missing */
		fdpkv_take_evicted(c, on_evicted, m);
	}
	while (r.inflight)
		drain(&r, true);
	if (arena >= 0)
		fdpkv_unregister_arena(c, arena);
	return r.violations;
}

void cl_take_evicted(struct fdpkv_cache *c, struct cl_model *m)
{
	fdpkv_take_evicted(c, on_evicted, m);
}

struct cl_seen {
	uint64_t n, bytes;
	const struct cl_model *m;
	uint64_t strangers;
};

static int count_key(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	struct cl_seen *s = arg;
	int k = cl_key_of(key, klen);

	if (k < 0 || (unsigned int)k >= s->m->nkeys)
		s->strangers++;
	s->n++;
	s->bytes += vlen;
	return 0;
}

/* Run one operation and wait for it; the completion into @cp (caller releases). */
static int run_sync(struct fdpkv_cache *c, enum fdpkv_op op, unsigned int n,
		    const struct fdpkv_key *keys, const struct fdpkv_buf *bufs,
		    struct fdpkv_completion *cp)
{
	uint64_t id;
	int ret = fdpkv_submit(c, op, n, keys, bufs, NULL, &id);

	if (ret)
		return ret;
	for (;;) {
		if (fdpkv_wait(c, 60000) != 1)
			return -ETIMEDOUT;
		if (fdpkv_drain(c, cp, 1) == 1)
			return 0;
	}
}

/* Print key @k's history (struct cl_hist), oldest first. */
static void dump_history(FILE *f, const struct cl_model *m, unsigned int k)
{
	static const char *const name[] = {
		[CL_EV_SET] = "set", [CL_EV_SET_ACK] = "ack", [CL_EV_SET_FAIL] = "set-failed",
		[CL_EV_DEL] = "del", [CL_EV_DEL_ACK] = "del-ack", [CL_EV_DEL_FAIL] = "del-failed",
		[CL_EV_EVICTED] = "evicted-len", [CL_EV_CUT] = "cut(ack)",
		[CL_EV_RESTART] = "restart-found",
	};
	const struct cl_hist *h = &m->hist[k];
	uint32_t i = h->n > CL_HIST ? h->n - CL_HIST : 0;

	fprintf(f, "  history of key %u (%u events):", k, h->n);
	for (; i < h->n; i++) {
		uint32_t e = h->ev[i % CL_HIST], t = e >> 24;

		fprintf(f, " %s %u", t < sizeof(name) / sizeof(name[0]) && name[t] ? name[t] : "?",
			e & 0xffffff);
	}
	fputc('\n', f);
}

/*
 * Print every object of key @k the devices hold, as recovery would walk
 * them (a chain from each segment's start), with the version its value
 * names and whether its value crc holds, and the segment's state in memory.
 */
static void dump_device_versions(FILE *f, struct fdpkv_cache *c, unsigned int k)
{
	char name[64];
	uint32_t klen, i, s;

	cl_key_name(name, sizeof(name), k);
	klen = (uint32_t)strlen(name);
	for (i = 0; i < c->ndev; i++) {
		struct devctx *d = &c->devs[i];
		uint64_t segb = d->sb.segment_bytes, lba = d->sb.lba_size;
		uint8_t *buf;

		if (posix_memalign((void **)&buf, 4096, segb))
			return;
		for (s = 0; s < d->segs.n; s++) {
			uint64_t off = 0, last = 0, sseq = 0;
			struct obj_hdr h;

			if (engine_io_sync(d->eng, IO_READ, seg_base(d, s), segb, buf, 0) < 0)
				continue;
			while (off + lba <= segb && obj_decode(buf + off, segb - off, &h) == 0 &&
			       h.uuid64 == d->uuid64 && h.seq > last && (!last || h.seg_seq == sseq)) {
				uint64_t size = obj_extent(h.klen, h.vlen, h.flags, (uint32_t)lba);
				uint64_t voff = obj_value_off(h.klen, h.flags, (uint32_t)lba);
				uint32_t ver = 0;

				if (off + size > segb)
					break;
				if (h.klen == klen && !memcmp(buf + off + OBJ_HDR_SIZE, name, klen)) {
					if (h.vlen >= 8)
						memcpy(&ver, buf + off + voff + 4, 4);
					fprintf(f, "  dev %u seg %u (state %d cls %u open_seq %llu) off %llu: "
						"seq %llu seg_seq %llu flags %#x vlen %llu v%u crc %s\n",
						i, s, d->segs.segs[s].state, d->segs.segs[s].cls,
						(unsigned long long)d->segs.segs[s].open_seq,
						(unsigned long long)off, (unsigned long long)h.seq,
						(unsigned long long)h.seg_seq, h.flags,
						(unsigned long long)h.vlen, ver,
						crc32c(0, buf + off + voff, h.vlen) == h.vcrc ? "ok" : "BAD");
				}
				if (!last)
					sseq = h.seg_seq;
				last = h.seq;
				off += size;
			}
		}
		free(buf);
	}
}

/*
 * May a SET or DELETE of another key that is one key to the index with @k
 * (fingerprint, length, device: lib/index.c) have committed after @k's
 * acknowledged SET, and so taken its entry? Only when fingerprints are
 * shrunk (FDPKV_INDEX_FP_BITS) is that more than a 2^-64 chance.
 */
static bool replaced_by_collision(const struct cl_run *r, unsigned int k)
{
	const struct cl_model *m = r->m;
	struct fdpkv_cache *c = r->c;
	char a[64], b[64];
	uint32_t la, lb;
	unsigned int j;

	if (c->ix.fp_mask == ~0ull)
		return false;
	cl_key_name(a, sizeof(a), k);
	la = (uint32_t)strlen(a);
	for (j = 0; j < m->nkeys; j++) {
		if (j == k || m->keys[j].op_end <= m->keys[k].ack_sub)
			continue;
		cl_key_name(b, sizeof(b), j);
		lb = (uint32_t)strlen(b);
		if (la == lb && index_key_fp(&c->ix, a, la) == index_key_fp(&c->ix, b, lb) &&
		    cache_key_dev(c, a, la) == cache_key_dev(c, b, lb))
			return true;
	}
	return false;
}

/* The rule for key @k holding version @v (0: missing) after a restart. */
static void judge(struct cl_run *r, unsigned int k, uint32_t v, bool bad_bytes)
{
	struct cl_key *s = &r->m->keys[k];
	bool none = r->m->durability == FDPKV_DURABILITY_NONE;
	uint64_t before = r->violations, end;

	if (bad_bytes) {
		cl_violation(r, k, "bytes never written for this key", 0);
	} else if (v) {
		/* every mode: a cut may lose data, never bring back what was hidden */
		if (v != s->ack && v != s->inflight && v != s->maybe)
			cl_violation(r, k, s->ack ? "stale version (not the latest acknowledged)"
						  : "acknowledged DELETE undone", v);
	} else if (s->ack && !s->del_inflight && !s->maybe_del && !s->miss_ok && !none &&
		   !replaced_by_collision(r, k)) {
		cl_violation(r, k, "acknowledged SET missing", 0);
	}
	if (r->violations != before) {
		FILE *f = r->p->log ? r->p->log : stderr;

		dump_history(f, r->m, k);
		dump_device_versions(f, r->c, k);
	}
	note(r->m, k, CL_EV_RESTART, v);
	end = s->op_end;	/* the keys judged after this one look at it */
	memset(s, 0, sizeof(*s));
	s->ack = v;
	s->op_end = end;
}

uint64_t cl_verify(struct fdpkv_cache *c, struct cl_model *m, const struct cl_params *p)
{
	struct cl_run r;
	struct fdpkv_usage u;
	struct cl_seen seen = { .m = m };
	uint64_t hits = 0, bytes = 0;
	unsigned int k0;

	run_init(&r, c, m, NULL, p);
	for (k0 = 0; k0 < m->nkeys; k0 += CL_BATCH) {
		struct cl_slot *sl = &r.slot[0];
		struct fdpkv_completion cp;
		unsigned int n = MIN_U64(CL_BATCH, m->nkeys - k0), i;
		int32_t st[CL_BATCH];
		uint64_t vlen[CL_BATCH];

		for (i = 0; i < n; i++) {
			cl_key_name(sl->name[i], sizeof(sl->name[i]), k0 + i);
			sl->keys[i].data = sl->name[i];
			sl->keys[i].len = (uint32_t)strlen(sl->name[i]);
		}
		if (run_sync(c, FDPKV_OP_EXISTS, n, sl->keys, NULL, &cp))
			abort();
		memcpy(st, cp.status, n * sizeof(st[0]));
		memcpy(vlen, cp.value_len, n * sizeof(vlen[0]));
		fdpkv_completion_release(&cp);
		for (i = 0; i < n; i++) {
			sl->bufs[i].base = sl->mem[i];
			sl->bufs[i].len = !st[i] && vlen[i] <= CL_VMAX ? vlen[i] : 8;
		}
		if (run_sync(c, FDPKV_OP_GET, n, sl->keys, sl->bufs, &cp))
			abort();
		for (i = 0; i < n; i++) {
			uint32_t v = 0;
			bool bad = false;

			if (!cp.status[i]) {
				v = cl_decode(sl->mem[i], sl->bufs[i].len, k0 + i);
				bad = !v;
				hits++;
				bytes += sl->bufs[i].len;
			}
			judge(&r, k0 + i, v, bad);
		}
		fdpkv_completion_release(&cp);
	}
	/* what was in flight at the cut has landed or not by now */
	for (k0 = 0; k0 < m->nkeys; k0++)
		if (m->keys[k0].op_end == UINT64_MAX)
			m->keys[k0].op_end = m->clock;
	fdpkv_usage(c, &u);
	fdpkv_foreach_key(c, count_key, &seen);
	if (u.bytes_used != bytes || u.objects != hits || seen.n != hits || seen.bytes != bytes ||
	    seen.strangers) {
		FILE *f = p->log ? p->log : stderr;

		r.violations++;
		m->violations++;
		fprintf(f, "VIOLATION %s: usage %llu bytes/%llu objects, keys %llu (%llu bytes, "
			"%llu unknown), readable %llu (%llu bytes)\n", p->tag ? p->tag : "",
			(unsigned long long)u.bytes_used, (unsigned long long)u.objects,
			(unsigned long long)seen.n, (unsigned long long)seen.bytes,
			(unsigned long long)seen.strangers, (unsigned long long)hits,
			(unsigned long long)bytes);
	}
	return r.violations;
}
