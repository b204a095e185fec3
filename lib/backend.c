// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * backend.c - device URIs to backends. Every backend implements the same
 * ops table, so the engine and the cache never ask which one they drive.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const struct fdpkv_backend_ops *const backends[] = {
	&backend_file_ops,
	&backend_sim_ops,
	&backend_ng_ops,
	&backend_fdpkv_ops,
};

int backend_open(struct fdpkv_dev *dev, const char *uri, const struct fdpkv_config *cfg,
		 bool create, char *err, size_t errlen)
{
	const char *colon = strchr(uri, ':');
	size_t n;
	unsigned int i;
	int ret;

	memset(dev, 0, sizeof(*dev));
	dev->fd = -1;
	snprintf(dev->uri, sizeof(dev->uri), "%s", uri);
	if (!colon) {
		fdpkv_seterr(err, errlen, "device '%s': expected scheme:path (file:, sim:, ng:, fdpkv:)", uri);
		return -EINVAL;
	}
	n = (size_t)(colon - uri);
	for (i = 0; i < ARRAY_SIZE(backends); i++) {
		if (strlen(backends[i]->scheme) != n || strncmp(backends[i]->scheme, uri, n))
			continue;
		dev->ops = backends[i];
		ret = dev->ops->open(dev, colon + 1, cfg, create, err, errlen);
		if (ret)
			return ret;
		ret = dev->ops->geometry(dev, &dev->geo);
		if (ret) {
			fdpkv_seterr(err, errlen, "device '%s': geometry: %s", uri, strerror(-ret));
			dev->ops->close(dev);
			return ret;
		}
		return 0;
	}
	fdpkv_seterr(err, errlen, "device '%s': unknown scheme '%.*s' (file:, sim:, ng:, fdpkv: supported)",
		     uri, (int)n, uri);
	return -EINVAL;
}

void backend_close(struct fdpkv_dev *dev)
{
	if (dev->ops)
		dev->ops->close(dev);
	dev->ops = NULL;
}
