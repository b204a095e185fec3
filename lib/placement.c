// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * placement.c - which placement class an object goes to.
 *
 * Class 0 holds metadata (delete records), class 1 objects re-inserted by
 * eviction, classes 2.. one per cache-salt bucket, folded by a stable hash
 * when there are more buckets than classes. Tenants age at different rates;
 * keeping each in its own reclaim units is what keeps device WAF at 1.
 */
#include <string.h>

#include "internal.h"

void placement_bucket(const void *key, uint32_t klen, char sep, char *out, size_t outlen)
{
	const char *k = key, *end = k + klen, *p = k;
	int fields = 0;
	size_t n;

	/* model@rank@group@hash@salt: the salt follows the fourth '@' */
	while (p < end && fields < 4) {
		const char *at = memchr(p, '@', (size_t)(end - p));

		if (!at)
			break;
		p = at + 1;
		fields++;
	}
	if (fields < 4 || p >= end) {
		out[0] = '\0';
		return;
	}
	n = (size_t)(end - p);
	if (sep) {
		const char *s = memchr(p, sep, n);

		if (s)
			n = (size_t)(s - p);
	}
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

unsigned int placement_class(const char *bucket, unsigned int ndata)
{
	if (ndata <= 1 || !bucket[0])
		return FDPKV_CLASS_DATA0;
	return FDPKV_CLASS_DATA0 + (unsigned int)(kv_hash(bucket, strlen(bucket)) % ndata);
}

void placement_map(uint16_t *class_pid, unsigned int nclasses, const uint16_t *pids,
		   unsigned int npids)
{
	unsigned int c;

	for (c = 0; c < nclasses; c++) {
		if (npids == 0)
			class_pid[c] = 0;
		else if (npids < 3)
			/* too few handles for role separation: share round robin */
			class_pid[c] = pids[c % npids];
		else if (c < FDPKV_CLASS_DATA0)
			class_pid[c] = pids[c];
		else
			class_pid[c] = pids[FDPKV_CLASS_DATA0 +
					    (c - FDPKV_CLASS_DATA0) % (npids - FDPKV_CLASS_DATA0)];
	}
}

unsigned int placement_sharing(const uint16_t *class_pid, unsigned int nclasses,
			       uint16_t *sharing, unsigned int *shared_handles)
{
	unsigned int c, o, classes = 0, handles = 0;

	/* at most FDPKV_MAX_CLASSES classes: quadratic is cheaper than a map */
	for (c = 0; c < nclasses; c++) {
		bool first = true;

		sharing[c] = 0;
		for (o = 0; o < nclasses; o++) {
			if (o == c || class_pid[o] != class_pid[c])
				continue;
			sharing[c]++;
			if (o < c)
				first = false;
		}
		if (sharing[c]) {
			classes++;
			handles += first;
		}
	}
	if (shared_handles)
		*shared_handles = handles;
	return classes;
}
