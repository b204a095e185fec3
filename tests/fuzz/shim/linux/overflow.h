/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _FDPKV_SHIM_OVERFLOW_H
#define _FDPKV_SHIM_OVERFLOW_H

#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)

#endif
