// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * backend_auto.c - "auto:PATH": the best backend this machine offers for
 * PATH, so that an operator names a disk and not a mechanism:
 *
 *   1. bdev:  the disk has block write streams (Linux >= 6.16, FDP on) and
 *             this process may open it read-write;
 *   2. fdpkv: the disk is attached to the fdpkv module, which this process
 *             may use (/dev/fdpkv, group fdpkv);
 *   3. ng:    the namespace's generic char device /dev/ngXnY opens
 *             read-write (root, usually);
 *   4. file:  anything else (no placement).
 *
 * A char device ngXnY resolves to ng:, a regular file (or none: one to
 * create) to file:. A device URI that is a bare absolute path means auto:.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <uapi/fdpkv.h>

#include "internal.h"

/* The fdpkv namespace number the module attached @path as, or -1. */
static int auto_module_ns(const char *path)
{
	struct fdpkv_ns_entry e[64];
	struct fdpkv_list l;
	char want[PATH_MAX], got[PATH_MAX];
	unsigned int i;
	int fd, ns = -1;

	if (!realpath(path, want))
		return -1;
	fd = open("/dev/fdpkv", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	memset(&l, 0, sizeof(l));
	l.addr = (uint64_t)(uintptr_t)e;
	l.size = sizeof(e);
	l.what = FDPKV_LIST_NAMESPACES;
	if (!ioctl(fd, FDPKV_IOC_LIST, &l)) {
		for (i = 0; i < l.count && i < ARRAY_SIZE(e) && ns < 0; i++) {
			e[i].path[sizeof(e[i].path) - 1] = '\0';
			if (realpath(e[i].path, got) && !strcmp(got, want))
				ns = (int)e[i].ns;
		}
	}
	close(fd);
	return ns;
}

int backend_auto_resolve(const char *path, char *uri, size_t urilen, char *err, size_t errlen)
{
	const char *base = strrchr(path, '/');
	struct bdev_streams s;
	char ng[PATH_MAX], why[384];
	struct stat st;
	int ns;

	base = base ? base + 1 : path;
	if (stat(path, &st) && errno == ENOENT) {
		/* a file to create (format=auto), or the file: error */
		snprintf(uri, urilen, "file:%s", path);
		return 0;
	}
	if (stat(path, &st)) {
		fdpkv_seterr(err, errlen, "device 'auto:%s': %s", path, strerror(errno));
		return -errno;
	}
	if (S_ISCHR(st.st_mode) && !strncmp(base, "ng", 2)) {
		snprintf(uri, urilen, "ng:%s", path);
		return 0;
	}
	if (!S_ISBLK(st.st_mode)) {
		snprintf(uri, urilen, "file:%s", path);
		return 0;
	}
	if (!bdev_streams_read("/sys", major(st.st_rdev), minor(st.st_rdev), &s, why, sizeof(why)) &&
	    !access(path, R_OK | W_OK)) {
		snprintf(uri, urilen, "bdev:%s", path);
		return 0;
	}
	ns = auto_module_ns(path);
	if (ns >= 0) {
		snprintf(uri, urilen, "fdpkv:/dev/fdpkv?ns=%d", ns);
		return 0;
	}
	if (!strncmp(base, "nvme", 4)) {
		/* /dev/nvme0n1 -> /dev/ng0n1 */
		snprintf(ng, sizeof(ng), "%.*sng%s", (int)(base - path), path, base + 4);
		if (!access(ng, R_OK | W_OK)) {
			snprintf(uri, urilen, "ng:%s", ng);
			return 0;
		}
	}
	snprintf(uri, urilen, "file:%s", path);
	return 0;
}
