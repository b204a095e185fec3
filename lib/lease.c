// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lease.c - the sequence lease (lib/FORMAT.md: sequence rules).
 *
 * Recovery alone cannot know the highest sequence a crashed run handed out:
 * the objects carrying the highest ones may be exactly those a power cut
 * lost, while later objects of the same segment, or a segment's own open
 * sequence, survived somewhere recovery does not look (behind a lost first
 * object a segment counts as free). Starting from the highest sequence found
 * would then hand the same sequence out twice, and a segment reopened under
 * an old open sequence lets a later restart walk from its new objects into
 * stale ones. So every open takes a lease: it persists, in every device's
 * superblock and durably before the first write, a bound SEQ_LEASE_STEP
 * above where it starts, and starts above both what recovery found and the
 * previous lease. Sequences are then unique across any number of crashes.
 */
#include <errno.h>
#include <string.h>

#include "cache.h"

int seq_lease_take(struct fdpkv_cache *c, char *err, size_t errlen)
{
	uint64_t base = c->seq;
	unsigned int i;
	int ret;

	for (i = 0; i < c->ndev; i++)
		base = MAX(base, c->devs[i].sb.seq_lease);
	if (base > UINT64_MAX - 2 * SEQ_LEASE_STEP) {
		fdpkv_seterr(err, errlen, "sequence numbers exhausted (%llu): format=always "
			     "reformats", (unsigned long long)base);
		return -EOVERFLOW;
	}
	for (i = 0; i < c->ndev; i++) {
		struct devctx *d = &c->devs[i];

		d->sb.seq_lease = base + SEQ_LEASE_STEP;
		d->sb.generation++;
		ret = sb_write_both(d->eng, d->sb.lba_size, &d->sb);
		if (ret) {
			fdpkv_seterr(err, errlen, "device '%s': writing the sequence lease: %s",
				     d->dev.uri, strerror(-ret));
			return ret;
		}
		d->sb.version = SB_VERSION;
	}
	c->seq = base;
	c->seq_lease = base + SEQ_LEASE_STEP;
	return 0;
}
