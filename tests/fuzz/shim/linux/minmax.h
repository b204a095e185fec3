/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _FDPKV_SHIM_MINMAX_H
#define _FDPKV_SHIM_MINMAX_H

#define min_t(t, a, b)	((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max(a, b)	((a) > (b) ? (a) : (b))
#define min(a, b)	((a) < (b) ? (a) : (b))

#endif
