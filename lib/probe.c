// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * probe.c - fdpkv_probe(): does a device hold a cache? One read of the two
 * superblock copies through the device's backend; nothing is written, no
 * file is created, no cache is opened.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

FDPKV_PUBLIC int fdpkv_probe(const char *uri, struct fdpkv_probe_info *info, char *err,
			     size_t errlen)
{
	struct fdpkv_config cfg;
	struct fdpkv_dev dev;
	struct engine *eng = NULL;
	struct superblock cp[2];
	int rc[2], pick, ret, k;
	uint32_t lba;
	uint8_t *buf = NULL;

	if (!uri || !info) {
		fdpkv_seterr(err, errlen, "probe: invalid arguments");
		return -EINVAL;
	}
	memset(info, 0, sizeof(*info));
	fdpkv_config_init(&cfg);
	ret = backend_open(&dev, uri, &cfg, false, err, errlen);
	if (ret)
		return ret;
	lba = dev.geo.lba_size;
	ret = engine_start(&eng, &dev, 1);
	if (ret) {
		fdpkv_seterr(err, errlen, "device '%s': io_uring: %s", uri, strerror(-ret));
		goto out;
	}
	if (posix_memalign((void **)&buf, 4096, 2 * (size_t)lba)) {
		ret = -ENOMEM;
		fdpkv_seterr(err, errlen, "out of memory");
		goto out;
	}
	ret = engine_io_sync(eng, IO_READ, 0, 2 * (uint64_t)lba, buf, 0);
	if (ret) {
		fdpkv_seterr(err, errlen, "device '%s': reading the superblock: %s", uri,
			     strerror(-ret));
		goto out;
	}
	for (k = 0; k < 2; k++) {
		rc[k] = sb_decode(buf + (size_t)k * lba, lba, &cp[k]);
		info->copies_valid += rc[k] == 0;
	}
	pick = sb_choose(cp, rc);
	if (pick < 0) {
		info->damaged = rc[0] != -ENODATA || rc[1] != -ENODATA;
		goto out;
	}
	info->formatted = true;
	memcpy(info->uuid, cp[pick].uuid, 16);
	info->generation = cp[pick].generation;
	info->lba_size = cp[pick].lba_size;
	info->segment_bytes = cp[pick].segment_bytes;
	info->segments = cp[pick].nsegments;
	info->capacity = cp[pick].capacity;
	info->dev_index = cp[pick].dev_index;
	info->ndevices = cp[pick].ndevices;
out:
	free(buf);
	engine_stop(eng);
	backend_close(&dev);
	return ret;
}
