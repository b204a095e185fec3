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

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t lockstat_now(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static unsigned int decade(uint64_t ns)
{
	uint64_t lim = 1000;
	unsigned int dec = 0;

	while (dec < LOCKSTAT_DECADES - 1 && ns >= lim) {
		dec++;
		lim *= 10;
	}
	return dec;
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
	ls->cpu_acq = clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

void lockstat_releasing(struct lockstat *ls)
{
	struct lockstat_site *s = ls->cur;
	uint64_t held = lockstat_now() - ls->t_acq;
	uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - ls->cpu_acq;

	if (!s)
		return;
	s->n++;
	s->hold_sum_ns += held;
	if (held > s->hold_max_ns)
		s->hold_max_ns = held;
	s->hold_dec[decade(held)]++;
	s->cpu_sum_ns += cpu;
	if (cpu > s->cpu_max_ns)
		s->cpu_max_ns = cpu;
	s->cpu_dec[decade(cpu)]++;
	ls->cur = NULL;
}

static void print_decades(FILE *f, const char *what, const char *kind, const uint64_t *d,
			  uint64_t max)
{
	fprintf(f, "lockstat %s: all holds, %s: <1us %llu, <10us %llu, <100us %llu, <1ms %llu, "
		"<10ms %llu, <100ms %llu, >=100ms %llu; max %.1f us\n", what, kind,
		(unsigned long long)d[0], (unsigned long long)d[1], (unsigned long long)d[2],
		(unsigned long long)d[3], (unsigned long long)d[4], (unsigned long long)d[5],
		(unsigned long long)d[6], max / 1e3);
}

void lockstat_report(const struct lockstat *ls, const char *what)
{
	const char *path = getenv("FDPKV_LOCK_STATS");
	FILE *f = path && *path ? fopen(path, "a") : stderr;
	uint64_t tot[LOCKSTAT_DECADES] = { 0 }, cpu[LOCKSTAT_DECADES] = { 0 };
	uint64_t max = 0, cpu_max = 0;
	unsigned int i, k;

	if (!f)
		f = stderr;
	fprintf(f, "lockstat %s: cache->lock holds by acquiring site (wall clock; cpu: "
		"the holder's CPU time)\n", what);
	fprintf(f, "%-16s %9s %8s %10s %8s %10s %10s %6s %6s %6s %7s\n", "site", "n",
		"mean us", "max us", "cpu mean", "cpu max us", "maxwait us", ">1ms", ">10ms",
		">100ms", "cpu>1ms");
	for (i = 0; i < ls->nsites; i++) {
		const struct lockstat_site *s = &ls->site[i];
		const char *w = s->where;
		const char *slash = w;

		for (; *w; w++)
			if (*w == '/')
				slash = w + 1;
		for (k = 0; k < LOCKSTAT_DECADES; k++) {
			tot[k] += s->hold_dec[k];
			cpu[k] += s->cpu_dec[k];
		}
		if (s->hold_max_ns > max)
			max = s->hold_max_ns;
		if (s->cpu_max_ns > cpu_max)
			cpu_max = s->cpu_max_ns;
		fprintf(f, "%-16s %9llu %8.2f %10.1f %8.2f %10.1f %10.1f %6llu %6llu %6llu %7llu\n",
			slash, (unsigned long long)s->n,
			s->n ? s->hold_sum_ns / 1e3 / (double)s->n : 0.0, s->hold_max_ns / 1e3,
			s->n ? s->cpu_sum_ns / 1e3 / (double)s->n : 0.0, s->cpu_max_ns / 1e3,
			s->wait_max_ns / 1e3,
			(unsigned long long)(s->hold_dec[4] + s->hold_dec[5] + s->hold_dec[6]),
			(unsigned long long)(s->hold_dec[5] + s->hold_dec[6]),
			(unsigned long long)s->hold_dec[6],
			(unsigned long long)(s->cpu_dec[4] + s->cpu_dec[5] + s->cpu_dec[6]));
	}
	print_decades(f, what, "wall", tot, max);
	print_decades(f, what, "cpu", cpu, cpu_max);
	if (f != stderr)
		fclose(f);
}
#endif /* FDPKV_LOCK_STATS */
