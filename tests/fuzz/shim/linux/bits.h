/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _FDPKV_SHIM_BITS_H
#define _FDPKV_SHIM_BITS_H

#define BITS_PER_LONG	64
#define BIT(n)		(1UL << (n))
#define GENMASK(h, l)	(((~0U) >> (31 - (h))) & ~((1U << (l)) - 1))

#endif
