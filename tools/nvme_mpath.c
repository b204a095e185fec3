// SPDX-License-Identifier: GPL-2.0
/*
 * Native NVMe multipath, as sysfs shows it: whether a block device is the
 * head node of a multi-controller subsystem and which controllers are its
 * paths. `fdpkvctl attach` uses it to say why the module refuses such a
 * namespace and what to do instead (kmod/README.md).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpkvctl.h"

/*
 * A head node's sysfs parent is its subsystem (nvme-subsysN), a plain
 * namespace's is its controller (nvmeN). The subsystem directory links
 * every controller (path) by name.
 */
int nvme_mpath_head(const char *blkdev, const char *sysfs, struct nvme_mpath *m)
{
	char real[PATH_MAX], link[PATH_MAX], dir[PATH_MAX];
	const char *name, *sub;
	struct dirent *e;
	ssize_t n;
	DIR *d;

	memset(m, 0, sizeof(*m));
	if (!realpath(blkdev, real))
		return -errno;
	name = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
	if (strncmp(name, "nvme", 4) || snprintf(m->disk, sizeof(m->disk), "%s", name) >=
	    (int)sizeof(m->disk))
		return 0;
	if (snprintf(dir, sizeof(dir), "%s/%s/device", sysfs, m->disk) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	n = readlink(dir, link, sizeof(link) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	link[n] = 0;
	sub = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	if (strncmp(sub, "nvme-subsys", 11))
		return 0;
	if (snprintf(m->subsys, sizeof(m->subsys), "%s", sub) >= (int)sizeof(m->subsys))
		return 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		size_t len = strlen(m->paths);

		/* controllers only: nvme<digits> */
		if (strncmp(e->d_name, "nvme", 4) || !e->d_name[4] ||
		    strspn(e->d_name + 4, "0123456789") != strlen(e->d_name + 4))
			continue;
		if (snprintf(m->paths + len, sizeof(m->paths) - len, "%s%s", len ? " " : "",
			     e->d_name) < (int)(sizeof(m->paths) - len))
			m->nr_paths++;
		else
			m->paths[len] = 0;	/* too many to name: keep the ones that fit */
	}
	closedir(d);
	return 1;
}
