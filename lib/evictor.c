// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * evictor.c - eviction off the caller's thread.
 *
 * fdpkv_submit must never block (LMCache's contract), but a SET that found
 * its class's segment full used to evict right there, under the cache lock:
 * drop or copy every entry of the oldest segments and carry their delete
 * records forward. On a device aged by churn one submit took seconds
 * (issue 12). Now a write reserves space or, when there is none, queues as a
 * space waiter (as it did while a segment was being deallocated) and kicks
 * this thread, which evicts ahead of need (free_segments_low is the
 * reserve: it is kicked as soon as fewer segments are free) and retries the
 * waiters; those still without room then fail with -ENOSPC exactly as
 * before (everything left is pinned). Carried delete records that find no
 * room queue first in line and kick it the same way, so with this thread
 * running nothing else evicts: not a submit, not a device thread. It
 * evicts a segment in batches, releasing the cache lock between them
 * (evict_step). Without the thread (the cache is closing: a cache does
 * not open without it) whoever finds no room evicts inline, all at once
 * (evict_until), naming only the keys memory still has.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

/* Entries or delete records evicted per hold of the cache lock. */
#define EVICT_BATCH	64

/*
 * The staging of the internal writes a batch starts (carried delete
 * records, re-insert copies) is allocated between batches, without the
 * cache lock: allocated under it, with the heap grown and the fresh pages
 * faulted in by the first write, it was most of a batch's time (perf:
 * bench_submit_latency.py with re-insert, 2-4 ms per batch of carried
 * records), and submits wait for the lock. A batch takes its buffers from
 * the stash; what it asked for is what the next one gets ready (the sizes
 * of a segment's objects repeat), and buffers no batch asked for lately
 * stay while there is room (a segment with nothing to copy or carry may
 * come between two that have). Buffers over STASH_BUF_MAX are not kept
 * (so large an allocation is an mmap, faulted in by the read on a device
 * thread, not under the lock), nor more than STASH_BYTES in all.
 */
#define STASH_BUF_MAX	(1ull << 20)
#define STASH_BYTES	(16ull << 20)

struct stash_buf {
	void *p;
	uint64_t cap;
};

struct evictor {
	pthread_t thread;
	pthread_mutex_t mu;		/* kick, stop */
	pthread_cond_t cv;
	pthread_cond_t idle_cv;		/* a pass ended (evictor_wait_idle) */
	bool kick, stop;
	bool busy;			/* a pass is running */
	atomic_bool held;		/* evictor_hold (tests) */
	unsigned int batches;		/* evictor_batches: may run these while held */
	bool paused;			/* held between two batches of a segment */
	/* the evictor's thread only: evictor_staging, stash_fill */
	struct stash_buf stash[EVICT_BATCH];
	unsigned int nstash;
	uint64_t want[EVICT_BATCH];	/* sizes the last batch asked for */
	unsigned int nwant;
	uint64_t stash_hits, stash_misses;	/* cache->lock (evictor_stash_counts) */
};

bool evictor_is_self(const struct fdpkv_cache *c)
{
	/* no thread (closing): evict inline as before */
	return !c->evictor || pthread_equal(pthread_self(), c->evictor->thread);
}

void evictor_kick(struct fdpkv_cache *c)
{
	struct evictor *ev = c->evictor;

	if (!ev)
		return;
	pthread_mutex_lock(&ev->mu);
	if (!ev->kick) {
		ev->kick = true;
		pthread_cond_signal(&ev->cv);
	}
	pthread_mutex_unlock(&ev->mu);
}

/*
 * Hold (true) or release the evictor: a held one starts no pass, and a
 * pass in progress stops between two batches (cache lock released) until
 * released. For tests that must see what a submit does by itself, or what
 * a segment evicted halfway looks like.
 */
void evictor_hold(struct fdpkv_cache *c, bool hold)
{
	struct evictor *ev = c->evictor;

	if (!ev)
		return;
	pthread_mutex_lock(&ev->mu);
	atomic_store(&ev->held, hold);
	ev->batches = 0;
	pthread_cond_broadcast(&ev->cv);
	pthread_cond_broadcast(&ev->idle_cv);
	pthread_mutex_unlock(&ev->mu);
}

/*
 * Wait until the evictor has no pass running and none asked for (or is held
 * or stopping). For tests whose counts must not depend on whether the thread
 * ran between two of their writes: after a write, this is the eviction that
 * write asked for, done.
 */
void evictor_wait_idle(struct fdpkv_cache *c)
{
	struct evictor *ev = c->evictor;

	if (!ev)
		return;
	pthread_mutex_lock(&ev->mu);
	while ((ev->kick || ev->busy) && !atomic_load(&ev->held) && !ev->stop)
		pthread_cond_wait(&ev->idle_cv, &ev->mu);
	pthread_mutex_unlock(&ev->mu);
}

/*
 * Hold the evictor and wait until it evicts nothing more: no pass running,
 * or the one running paused between two batches. For tests that count what
 * is readable against usage while the cache is open.
 */
void evictor_hold_quiet(struct fdpkv_cache *c)
{
	struct evictor *ev = c->evictor;

	if (!ev)
		return;
	evictor_hold(c, true);
	pthread_mutex_lock(&ev->mu);
	while (ev->busy && !ev->paused && !ev->stop)
		pthread_cond_wait(&ev->idle_cv, &ev->mu);
	pthread_mutex_unlock(&ev->mu);
}

/* A held evictor: let it run @n batches (starting a pass if it was kicked),
 * then wait until it has stopped again between two batches. Tests. */
void evictor_batches(struct fdpkv_cache *c, unsigned int n)
{
	struct evictor *ev = c->evictor;

	if (!ev)
		return;
	pthread_mutex_lock(&ev->mu);
	ev->batches = n;
	pthread_cond_broadcast(&ev->cv);
	while (!ev->stop && !(ev->paused && !ev->batches))
		pthread_cond_wait(&ev->cv, &ev->mu);
	pthread_mutex_unlock(&ev->mu);
}

/* Between two batches (cache lock not held): stop here while held. */
static void evictor_gate(struct evictor *ev)
{
	pthread_mutex_lock(&ev->mu);
	if (ev->held && ev->batches)
		ev->batches--;
	while (ev->held && !ev->batches && !ev->stop) {
		ev->paused = true;
		pthread_cond_broadcast(&ev->cv);
		pthread_cond_broadcast(&ev->idle_cv);
		pthread_cond_wait(&ev->cv, &ev->mu);
	}
	ev->paused = false;
	pthread_mutex_unlock(&ev->mu);
}

/* Does a buffer of @cap serve @size? The staging pool's rule (staging.c). */
static bool stash_fits(uint64_t cap, uint64_t size)
{
	return cap >= size && cap - size <= size / 4;
}

void *evictor_staging(struct fdpkv_cache *c, uint64_t size, uint64_t *cap)
{
	struct evictor *ev = c->evictor;
	unsigned int i;

	if (!ev || !pthread_equal(pthread_self(), ev->thread) || size > STASH_BUF_MAX)
		return staging_get(c, size, cap);
	if (ev->nwant < EVICT_BATCH)
		ev->want[ev->nwant++] = size;
	for (i = 0; i < ev->nstash; i++) {
		if (stash_fits(ev->stash[i].cap, size)) {
			void *p = ev->stash[i].p;

			*cap = ev->stash[i].cap;
			ev->stash[i] = ev->stash[--ev->nstash];
			ev->stash_hits++;
			return p;
		}
	}
	ev->stash_misses++;
	return staging_get(c, size, cap);
}

/*
 * Between two batches, without the cache lock: make the stash hold what the
 * last batch asked for, each buffer faulted in. Buffers it did not ask for
 * stay (a segment with nothing to copy or carry comes between two that
 * have) unless room is needed; those go back to the staging pool.
 */
static void stash_fill(struct fdpkv_cache *c, struct evictor *ev)
{
	bool met[EVICT_BATCH] = { false }, kept[EVICT_BATCH] = { false };
	uint64_t bytes = 0;
	unsigned int i, j;

	for (i = 0; i < ev->nstash; i++) {
		bytes += ev->stash[i].cap;
		for (j = 0; j < ev->nwant; j++) {
			if (!met[j] && stash_fits(ev->stash[i].cap, ev->want[j])) {
				met[j] = kept[i] = true;
				break;
			}
		}
	}
	for (j = 0; j < ev->nwant; j++) {
		struct stash_buf *b;

		if (met[j])
			continue;
		while (ev->nstash == EVICT_BATCH || bytes + ev->want[j] > STASH_BYTES) {
			for (i = 0; i < ev->nstash && kept[i]; i++)
				;
			if (i == ev->nstash)
				goto out;	/* all of it asked for */
			bytes -= ev->stash[i].cap;
			staging_put(c, ev->stash[i].p, ev->stash[i].cap);
			ev->stash[i] = ev->stash[--ev->nstash];
			kept[i] = kept[ev->nstash];
		}
		b = &ev->stash[ev->nstash];
		b->p = staging_get(c, ev->want[j], &b->cap);
		if (!b->p)
			break;
		memset(b->p, 0, b->cap);	/* its pages faulted in here */
		bytes += b->cap;
		kept[ev->nstash++] = true;
	}
out:
	ev->nwant = 0;
}

static void stash_free(struct fdpkv_cache *c, struct evictor *ev)
{
	while (ev->nstash) {
		ev->nstash--;
		staging_put(c, ev->stash[ev->nstash].p, ev->stash[ev->nstash].cap);
	}
}

void evictor_stash_counts(struct fdpkv_cache *c, uint64_t *hits, uint64_t *misses)
{
	struct evictor *ev = c->evictor;

	cache_lock(c);
	*hits = ev ? ev->stash_hits : 0;
	*misses = ev ? ev->stash_misses : 0;
	cache_unlock(c);
}

/*
 * Evict segment @v of @d, picked under cache->lock, which is held on entry
 * and released on return: its keys first (segkeys.c), then EVICT_BATCH
 * entries or records per hold of the lock.
 */
static void evict_segment(struct fdpkv_cache *c, struct devctx *d, uint32_t v)
{
	evict_begin(d, v);
	segkeys_attach(d, v);
	while (!evict_step(d, v, EVICT_BATCH)) {
		cache_unlock(c);
		stash_fill(c, c->evictor);
		if (atomic_load(&c->evictor->held))	/* tests only */
			evictor_gate(c->evictor);
		cache_lock_after_waiters(c);
	}
	cache_unlock(c);
	stash_fill(c, c->evictor);
}

/*
 * What reclaim_unstick asked for: evict one segment at a time while writes
 * wait, none is free and none is on its way; when nothing can go, fail the
 * waiting writes (-ENOSPC) instead of leaving them for ever.
 */
static void evictor_unstick(struct fdpkv_cache *c, struct devctx *d, struct key_req **failed)
{
	int64_t v;

	for (;;) {
		cache_lock(c);
		if (!d->unstick || d->segs.nfree || reclaim_moving(d) || !d->waiters) {
			d->unstick = false;
			cache_unlock(c);
			return;
		}
		v = evict_pick(d, d->segs.nfree + d->segs.nreclaim + 1, true);
		if (v < 0) {
			d->unstick = false;
			waiters_fail(d, failed);
			cache_unlock(c);
			return;
		}
		evict_segment(c, d, (uint32_t)v);
	}
}

/*
 * One pass over every device: evict to the reserve, at most EVICT_BATCH
 * entries or carried records per hold of the cache lock (submits take it
 * too: they wait for one batch at most, never for a whole segment, see
 * evict_step for what they see of a segment evicted halfway), then retry
 * waiting writes.
 */
static void evictor_pass(struct fdpkv_cache *c)
{
	struct key_req *failed = NULL;
	unsigned int i;

	for (i = 0; i < c->ndev; i++) {
		struct devctx *d = &c->devs[i];

		for (;;) {
			uint32_t want = MAX(1u, c->cfg.free_segments_low), have;
			int64_t v = -1;

			cache_lock(c);
			have = d->segs.nfree + d->segs.nreclaim;
			if (have <= want)
				want += shadow_kept_segments(d);
			if (d->segs.nfree < want && have < want)
				v = evict_pick(d, have + 1, true);	/* one segment */
			if (v < 0) {
				cache_unlock(c);
				break;
			}
			evict_segment(c, d, (uint32_t)v);
		}
		evictor_unstick(c, d, &failed);
		cache_lock(c);
		/*
		 * Retry the waiting writes only when that can help. With no
		 * segment free and one on its way (evicted above, or before),
		 * every waiter would just queue again: with re-insert copies
		 * and carried records thousands of them, in one hold of the
		 * lock that submits wait for (57 ms once in
		 * bench_submit_latency.py). That segment's reclaim_finish
		 * retries them as soon as it is free. Without one on its way,
		 * the retry is what fails them (-ENOSPC: retry_waiters).
		 */
		if (d->waiters && (d->segs.nfree || !reclaim_moving(d)))
			retry_waiters(d, &failed);
		cache_unlock(c);
	}
	complete_failed(failed);
}

static void *evictor_main(void *arg)
{
	struct fdpkv_cache *c = arg;
	struct evictor *ev = c->evictor;

	pthread_mutex_lock(&ev->mu);
	for (;;) {
		while ((!ev->kick || (ev->held && !ev->batches)) && !ev->stop)
			pthread_cond_wait(&ev->cv, &ev->mu);
		if (ev->stop)
			break;
		ev->kick = false;
		ev->busy = true;
		pthread_mutex_unlock(&ev->mu);
		evictor_pass(c);
		pthread_mutex_lock(&ev->mu);
		ev->busy = false;
		pthread_cond_broadcast(&ev->idle_cv);
	}
	pthread_cond_broadcast(&ev->idle_cv);
	pthread_mutex_unlock(&ev->mu);
	return NULL;
}

int evictor_start(struct fdpkv_cache *c)
{
	struct evictor *ev = calloc(1, sizeof(*ev));
	int ret;

	if (!ev)
		return -ENOMEM;
	pthread_mutex_init(&ev->mu, NULL);
	pthread_cond_init(&ev->cv, NULL);
	pthread_cond_init(&ev->idle_cv, NULL);
	c->evictor = ev;
	ret = pthread_create(&ev->thread, NULL, evictor_main, c);
	if (ret) {
		c->evictor = NULL;
		pthread_cond_destroy(&ev->idle_cv);
		pthread_cond_destroy(&ev->cv);
		pthread_mutex_destroy(&ev->mu);
		free(ev);
		return -ret;
	}
	return 0;
}

/*
 * Stop the thread (a pass in progress finishes). Writes queued after this
 * evict inline again, on whichever thread retries them.
 */
void evictor_stop(struct fdpkv_cache *c)
{
	struct evictor *ev = c->evictor;

	if (!ev)
		return;
	pthread_mutex_lock(&ev->mu);
	ev->stop = true;
	pthread_cond_signal(&ev->cv);
	pthread_mutex_unlock(&ev->mu);
	pthread_join(ev->thread, NULL);
	cache_lock(c);
	c->evictor = NULL;
	cache_unlock(c);
	stash_free(c, ev);
	pthread_cond_destroy(&ev->idle_cv);
	pthread_cond_destroy(&ev->cv);
	pthread_mutex_destroy(&ev->mu);
	free(ev);
}
