/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _FDPKV_SHIM_BUG_H
#define _FDPKV_SHIM_BUG_H

#include <stdio.h>
#include <stdlib.h>

/* a kernel warning is a finding for the fuzzer */
#define WARN_ON_ONCE(cond) ({ \
	int __c = !!(cond); \
	if (__c) { \
		fprintf(stderr, "WARN_ON_ONCE(%s) at %s:%d\n", #cond, __FILE__, __LINE__); \
		abort(); \
	} \
	__c; })

#endif
