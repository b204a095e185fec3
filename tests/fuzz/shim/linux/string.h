/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _FDPKV_SHIM_STRING_H
#define _FDPKV_SHIM_STRING_H
#include <stddef.h>
#include <string.h>

/* the kernel gets ARRAY_SIZE through its headers' includes */
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* the first byte of @p that is not @c, or NULL (lib/string.c) */
static inline void *memchr_inv(const void *p, int c, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != (unsigned char)c)
			return (void *)(b + i);
	return NULL;
}
#endif
