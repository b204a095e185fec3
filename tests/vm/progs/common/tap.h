/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP producer for the in-VM test programs: the host harness counts
 * "ok N" / "not ok N" lines, and a program exits 1 if any check failed.
 */
#ifndef FDPKV_TAP_H
#define FDPKV_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3)))
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
