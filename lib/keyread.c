// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * keyread.c - the key of an object, read from its header: what the
 * fingerprint index (fpindex.c) asks when a fingerprint is all memory holds
 * and an operation must know whose entry it met before it acts (a SET or
 * DELETE that meets another key's fingerprint, a restart that meets one
 * twice). One small synchronous read, usually one LBA.
 */
#include <errno.h>
#include <string.h>

#include "cache.h"

/*
 * obj_read_key - read the header at @off_lba of segment @seg of @d and copy
 * its key to @key (FDPKV_KEY_MAX bytes).
 *
 * @seg_seq is the segment's open sequence the caller saw when it took the
 * location: a header written in an earlier use of the segment is not this
 * object's. The caller holds the segment against eviction (a readers count)
 * and must not hold cache->lock: this blocks until the read is done, and the
 * device thread may need that lock to complete commands queued before it.
 *
 * Returns the key length; -EBADMSG when no valid header of this segment's
 * current use is there (damaged, overwritten, a delete record); -ENOMEM; or
 * the read's error.
 */
int obj_read_key(struct devctx *d, uint32_t seg, uint32_t off_lba, uint64_t seg_seq,
		 uint8_t *key)
{
	struct fdpkv_cache *c = d->cache;
	uint32_t lba = d->sb.lba_size;
	uint64_t off = seg_base(d, seg) + (uint64_t)off_lba * lba, len = lba, cap;
	struct obj_hdr h;
	uint8_t *p;
	int ret;

	for (;;) {
		p = staging_get(c, len, &cap);
		if (!p)
			return -ENOMEM;
		ret = engine_io_sync(d->eng, IO_READ, off, len, p, 0);
		if (ret >= 0)
			ret = obj_decode(p, len, &h);
		if (ret != -ENODATA || !h.klen || len >= ALIGN_UP(OBJ_HDR_SIZE + h.klen, lba))
			break;
		/* a key longer than the first read: read header and key whole */
		staging_put(c, p, cap);
		len = ALIGN_UP(OBJ_HDR_SIZE + h.klen, lba);
	}
	if (ret == 0 && (h.seg_seq != seg_seq || h.uuid64 != d->uuid64 ||
			 (h.flags & OBJ_F_TOMBSTONE)))
		ret = -EBADMSG;
	else if (ret == -ENODATA)
		ret = -EBADMSG;
	if (ret == 0) {
		memcpy(key, p + OBJ_HDR_SIZE, h.klen);
		ret = (int)h.klen;
	}
	staging_put(c, p, cap);
	return ret;
}
