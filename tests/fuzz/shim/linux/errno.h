/* SPDX-License-Identifier: GPL-2.0 */
/* Linux's userspace errno values are the kernel's. */
#include_next <linux/errno.h>
