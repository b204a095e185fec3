// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lockstat.c - hold and wait times of cache->lock (lockstat.h), in builds
 * with -DFDPKV_LOCK_STATS only.
 */
#include "lockstat.h"

#ifdef FDPKV_LOCK_STATS
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

uint64_t lockstat_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct lockstat_site *site_of(struct lockstat *ls, const char *where)
{
	unsigned int i;

	for (i = 0; i < ls->nsites; i++)
		if (ls->site[i].where == where)
			return &ls->site[i];
	if (ls->nsites == LOCKSTAT_SITES)
		return &ls->site[LOCKSTAT_SITES - 1];	/* more sites than slots: pooled */
	ls->site[ls->nsites].where = where;
	return &ls->site[ls->nsites++];
}

void lockstat_acquired(struct lockstat *ls, const char *where, uint64_t t_req)
{
	struct lockstat_site *s = site_of(ls, where);
	uint64_t now = lockstat_now();

	if (now - t_req > s->wait_max_ns)
		s->wait_max_ns = now - t_req;
	ls->cur = s;
	ls->t_acq = now;
}

void lockstat_releasing(struct lockstat *ls)
{
	struct lockstat_site *s = ls->cur;
	uint64_t held = lockstat_now() - ls->t_acq, lim = 1000;
	unsigned int dec = 0;

	if (!s)
		return;
	s->n++;
	s->hold_sum_ns += held;
	if (held > s->hold_max_ns)
		s->hold_max_ns = held;
	while (dec < LOCKSTAT_DECADES - 1 && held >= lim) {
		dec++;
		lim *= 10;
	}
	s->hold_dec[dec]++;
	ls->cur = NULL;
}

void lockstat_report(const struct lockstat *ls, const char *what)
{
	const char *path = getenv("FDPKV_LOCK_STATS");
	FILE *f = path && *path ? fopen(path, "a") : stderr;
	uint64_t tot[LOCKSTAT_DECADES] = { 0 }, max = 0;
	unsigned int i, k;

	if (!f)
		f = stderr;
	fprintf(f, "lockstat %s: cache->lock holds by acquiring site\n", what);
	fprintf(f, "%-22s %9s %9s %10s %10s %7s %7s %7s\n", "site", "n", "mean us",
		"max us", "maxwait us", ">1ms", ">10ms", ">100ms");
	for (i = 0; i < ls->nsites; i++) {
		const struct lockstat_site *s = &ls->site[i];
		const char *w = s->where;
		const char *slash = w;

		for (; *w; w++)
			if (*w == '/')
				slash = w + 1;
		for (k = 0; k < LOCKSTAT_DECADES; k++)
			tot[k] += s->hold_dec[k];
		if (s->hold_max_ns > max)
			max = s->hold_max_ns;
		fprintf(f, "%-22s %9llu %9.2f %10.1f %10.1f %7llu %7llu %7llu\n", slash,
			(unsigned long long)s->n,
			s->n ? s->hold_sum_ns / 1e3 / (double)s->n : 0.0,
			s->hold_max_ns / 1e3, s->wait_max_ns / 1e3,
			(unsigned long long)(s->hold_dec[4] + s->hold_dec[5] + s->hold_dec[6]),
			(unsigned long long)(s->hold_dec[5] + s->hold_dec[6]),
			(unsigned long long)s->hold_dec[6]);
	}
	fprintf(f, "lockstat %s: all holds: <1us %llu, <10us %llu, <100us %llu, <1ms %llu, "
		"<10ms %llu, <100ms %llu, >=100ms %llu; max %.1f us\n", what,
		(unsigned long long)tot[0], (unsigned long long)tot[1],
		(unsigned long long)tot[2], (unsigned long long)tot[3],
		(unsigned long long)tot[4], (unsigned long long)tot[5],
		(unsigned long long)tot[6], max / 1e3);
	if (f != stderr)
		fclose(f);
}
#endif /* FDPKV_LOCK_STATS */
