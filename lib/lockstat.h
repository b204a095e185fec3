/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lockstat.h - cache->lock, taken through cache_lock()/cache_unlock() so
 * that a build with -DFDPKV_LOCK_STATS (make CPPFLAGS=-DFDPKV_LOCK_STATS)
 * can say how long each place holds it and how long takers wait: per
 * acquiring call site the count, the longest hold and wait, and histograms
 * by decade of holds (wall clock) and of the CPU time the holder spent
 * holding (the work done under the lock; the difference is the holder
 * waiting for a CPU, i.e. the machine's load), printed to stderr by fdpkv_close (or appended to the
 * file $FDPKV_LOCK_STATS names). Hold times do not depend on how busy the
 * machine is the way submit latencies do, so they say what a submit can
 * wait for.
 *
 * Either build holds back the engine submits made under the lock until it
 * is released (engine_defer_begin, internal.h), and counts the threads
 * waiting for it (cache->lock_waiting),
 * so that a long job done in batches (the evictor) can let them in between
 * two batches: cache_lock_yield.
 */
#ifndef FDPKV_LOCKSTAT_H
#define FDPKV_LOCKSTAT_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#ifdef FDPKV_LOCK_STATS

#define LOCKSTAT_SITES	96
#define LOCKSTAT_DECADES 7	/* < 1 us, 10 us, ..., 100 ms, >= 100 ms */

struct lockstat_site {
	const char *where;		/* "file:line" of the cache_lock */
	uint64_t n, hold_sum_ns, hold_max_ns, wait_max_ns;
	uint64_t cpu_sum_ns, cpu_max_ns;	/* the holder's CPU time while holding */
	uint64_t hold_dec[LOCKSTAT_DECADES], cpu_dec[LOCKSTAT_DECADES];
};

/* Under the lock it measures: no lock of its own. */
struct lockstat {
	struct lockstat_site site[LOCKSTAT_SITES];
	unsigned int nsites;
	struct lockstat_site *cur;	/* the holder's site */
	uint64_t t_acq;			/* when the holder got it */
	uint64_t cpu_acq;		/* the holder's CPU time then */
};

#define LOCKSTAT_STR2(x) #x
#define LOCKSTAT_STR(x) LOCKSTAT_STR2(x)

uint64_t lockstat_now(void);
void lockstat_acquired(struct lockstat *ls, const char *where, uint64_t t_req);
void lockstat_releasing(struct lockstat *ls);
void lockstat_report(const struct lockstat *ls, const char *what);

#define cache_lock(c) do {						\
	uint64_t t_req_ = lockstat_now();				\
	atomic_fetch_add(&(c)->lock_waiting, 1);			\
	pthread_mutex_lock(&(c)->lock);					\
	atomic_fetch_sub(&(c)->lock_waiting, 1);			\
	engine_defer_begin();						\
	lockstat_acquired(&(c)->lockstat, __FILE__ ":" LOCKSTAT_STR(__LINE__), t_req_); \
} while (0)
#define cache_unlock(c) do {						\
	lockstat_releasing(&(c)->lockstat);				\
	pthread_mutex_unlock(&(c)->lock);				\
	engine_defer_end();						\
} while (0)
/* pthread_cond_wait on cache->lock: the wait is no hold */
#define cache_cond_wait(cv, c) do {					\
	lockstat_releasing(&(c)->lockstat);				\
	engine_defer_end();						\
	pthread_cond_wait((cv), &(c)->lock);				\
	engine_defer_begin();						\
	lockstat_acquired(&(c)->lockstat, __FILE__ ":" LOCKSTAT_STR(__LINE__), lockstat_now()); \
} while (0)

#else

#define cache_lock(c) do {						\
	atomic_fetch_add(&(c)->lock_waiting, 1);			\
	pthread_mutex_lock(&(c)->lock);					\
	atomic_fetch_sub(&(c)->lock_waiting, 1);			\
	engine_defer_begin();						\
} while (0)
#define cache_unlock(c) do {						\
	pthread_mutex_unlock(&(c)->lock);				\
	engine_defer_end();						\
} while (0)
#define cache_cond_wait(cv, c) do {					\
	engine_defer_end();						\
	pthread_cond_wait((cv), &(c)->lock);				\
	engine_defer_begin();						\
} while (0)

#endif /* FDPKV_LOCK_STATS */

/*
 * Take cache->lock, not held, after the threads waiting for it have had it
 * (a bounded number of yields: a mutex hands itself back to the thread that
 * unlocks it more often than not).
 */
#define cache_lock_after_waiters(c) do {				\
	unsigned int y_;						\
	for (y_ = 0; y_ < 64 && atomic_load(&(c)->lock_waiting); y_++)	\
		sched_yield();						\
	cache_lock(c);							\
} while (0)
/* Release cache->lock, let the threads waiting for it have it first, take it again. */
#define cache_lock_yield(c) do {					\
	cache_unlock(c);						\
	cache_lock_after_waiters(c);					\
} while (0)

#endif /* FDPKV_LOCKSTAT_H */
