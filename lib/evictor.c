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
 * before (everything left is pinned). Writes that eviction itself starts
 * (re-insert copies, carried records) and retries from a device thread keep
 * their inline path: they run inside eviction already.
 */
#include <errno.h>
#include <stdlib.h>

#include "cache.h"

struct evictor {
	pthread_t thread;
	pthread_mutex_t mu;		/* kick, stop */
	pthread_cond_t cv;
	pthread_cond_t idle_cv;		/* a pass ended (evictor_wait_idle) */
	bool kick, stop;
	bool busy;			/* a pass is running */
	bool held;			/* evictor_hold (tests) */
};

bool evictor_is_self(const struct fdpkv_cache *c)
{
	/* no thread (failed to start, or closing): evict inline as before */
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
 * Hold (true) or release the evictor: a held one runs no pass until
 * released (a pass in progress finishes). For tests that must see what a
 * submit does by itself.
 */
void evictor_hold(struct fdpkv_cache *c, bool hold)
{
	struct evictor *ev = c->evictor;

	if (!ev)
		return;
	pthread_mutex_lock(&ev->mu);
	ev->held = hold;
	pthread_cond_signal(&ev->cv);
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
	while ((ev->kick || ev->busy) && !ev->held && !ev->stop)
		pthread_cond_wait(&ev->idle_cv, &ev->mu);
	pthread_mutex_unlock(&ev->mu);
}

/*
 * One pass over every device: evict to the reserve, one segment per hold of
 * the cache lock (submits take it too: they wait for one segment's eviction
 * at most, never for the whole reserve), then retry waiting writes.
 */
static void evictor_pass(struct fdpkv_cache *c)
{
	struct key_req *failed = NULL;
	unsigned int i;

	for (i = 0; i < c->ndev; i++) {
		struct devctx *d = &c->devs[i];

		for (;;) {
			uint32_t want = MAX(1u, c->cfg.free_segments_low), have;

			pthread_mutex_lock(&c->lock);
			have = d->segs.nfree + d->segs.nreclaim;
			if (have <= want)
				want += shadow_kept_segments(d);
			if (d->segs.nfree >= want || have >= want ||
			    evict_until(d, have + 1) <= have) {
				pthread_mutex_unlock(&c->lock);
				break;
			}
			pthread_mutex_unlock(&c->lock);
		}
		pthread_mutex_lock(&c->lock);
		if (d->waiters)
			retry_waiters(d, &failed);
		pthread_mutex_unlock(&c->lock);
	}
	complete_failed(failed);
}

static void *evictor_main(void *arg)
{
	struct fdpkv_cache *c = arg;
	struct evictor *ev = c->evictor;

	pthread_mutex_lock(&ev->mu);
	for (;;) {
		while ((!ev->kick || ev->held) && !ev->stop)
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
	pthread_mutex_lock(&c->lock);
	c->evictor = NULL;
	pthread_mutex_unlock(&c->lock);
	pthread_cond_destroy(&ev->idle_cv);
	pthread_cond_destroy(&ev->cv);
	pthread_mutex_destroy(&ev->mu);
	free(ev);
}
