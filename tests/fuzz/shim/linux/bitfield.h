/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _FDPKV_SHIM_BITFIELD_H
#define _FDPKV_SHIM_BITFIELD_H

#include <linux/bits.h>

#define FDPKV_SHIM_SHIFT(mask)		__builtin_ctz(mask)
#define FIELD_GET(mask, reg)		(((reg) & (mask)) >> FDPKV_SHIM_SHIFT(mask))
#define FIELD_PREP(mask, val)		(((u32)(val) << FDPKV_SHIM_SHIFT(mask)) & (mask))
#define FIELD_MAX(mask)			((mask) >> FDPKV_SHIM_SHIFT(mask))

#endif
