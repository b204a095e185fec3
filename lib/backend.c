// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * backend.c - device URIs to backends. Every backend implements the same
 * ops table, so the engine and the cache never ask which one they drive.
 */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const struct fdpkv_backend_ops *const backends[] = {
	&backend_file_ops,
	&backend_sim_ops,
	&backend_ng_ops,
	&backend_fdpkv_ops,
	&backend_bdev_ops,
};

int backend_open(struct fdpkv_dev *dev, const char *uri, const struct fdpkv_config *cfg,
		 bool create, char *err, size_t errlen)
{
	const char *colon = strchr(uri, ':');
	char resolved[sizeof(dev->uri)];
	size_t n;
	unsigned int i;
	int ret;

	if ((colon && !strncmp(uri, "auto:", 5)) || uri[0] == '/') {
		/* a bare path is auto:; the backend it resolves to opens it and names it */
		ret = fdpkv_resolve_device(uri, resolved, sizeof(resolved), err, errlen);
		if (ret)
			return ret;
		return backend_open(dev, resolved, cfg, create, err, errlen);
	}
	memset(dev, 0, sizeof(*dev));
	dev->fd = -1;
	snprintf(dev->uri, sizeof(dev->uri), "%s", uri);
	if (!colon) {
		fdpkv_seterr(err, errlen,
			     "device '%s': expected scheme:path (file:, sim:, ng:, fdpkv:, bdev:, auto:)", uri);
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
	fdpkv_seterr(err, errlen, "device '%s': unknown scheme '%.*s' (file:, sim:, ng:, fdpkv:, bdev:, auto: supported)",
		     uri, (int)n, uri);
	return -EINVAL;
}

int backend_rw_result(struct fdpkv_dev *dev, const struct io_uring_cqe *cqe, struct io_part *p)
{
	if (p->cmd->op == IO_DEALLOC && cqe->res == -EOPNOTSUPP) {
		/* space stays allocated, and the old bytes with it: not an I/O
		 * error, but the cache must wipe what recovery would find */
		atomic_store(&dev->dealloc_kept, true);
		return 0;
	}
	return cqe->res;
}

void backend_fd_close(struct fdpkv_dev *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
	free(dev->priv);
	dev->priv = NULL;
}

void backend_close(struct fdpkv_dev *dev)
{
	if (dev->ops)
		dev->ops->close(dev);
	dev->ops = NULL;
}

FDPKV_PUBLIC int fdpkv_resolve_device(const char *uri, char *out, size_t outlen, char *err,
				      size_t errlen)
{
	char resolved[sizeof(((struct fdpkv_dev *)0)->uri)];
	int ret = 0;

	if (!uri || !out || !outlen)
		return -EINVAL;
	if (!strncmp(uri, "auto:", 5) || uri[0] == '/')
		ret = backend_auto_resolve(uri[0] == '/' ? uri : uri + 5, resolved,
					   sizeof(resolved), err, errlen);
	else
		snprintf(resolved, sizeof(resolved), "%s", uri);
	if (ret)
		return ret;
	if (strlen(resolved) >= outlen) {
		fdpkv_seterr(err, errlen, "device '%s': resolved URI '%s' is longer than %zu bytes",
			     uri, resolved, outlen - 1);
		return -ENAMETOOLONG;
	}
	memcpy(out, resolved, strlen(resolved) + 1);
	return 0;
}
