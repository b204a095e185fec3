/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _FDPKV_SHIM_STRING_H
#define _FDPKV_SHIM_STRING_H
#include <string.h>
#endif
