// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * object.c - the on-device object header.
 *
 * An object is header (64 bytes) + key + value, padded to the LBA size and
 * written with one write; with OBJ_F_ALIGNED the key is padded to the LBA
 * size too, so that the value can move straight from or to a caller's
 * buffer (then header and value are two commands of one extent). All fields are little-endian. The header crc covers
 * the header (crc field zero) and the key, so recovery can trust a key and
 * its location from one small read; the value has its own crc, checked on
 * every GET so that damaged bytes are a miss, never returned.
 *
 *   0 magic u32 | 4 version u16 | 6 flags u16 | 8 klen u32 | 12 class u8
 *  13 rsvd[3]   | 16 vlen u64   | 24 seq u64  | 32 seg_seq u64
 *  40 uuid64 u64 | 48 vcrc u32  | 52 hcrc u32 | 56 rsvd[8]
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "internal.h"


void obj_encode(void *buf, const struct obj_hdr *h, const void *key)
{
	uint8_t *p = buf;
	uint32_t crc;

	memset(p, 0, OBJ_HDR_SIZE);
	le_put32(p + 0, OBJ_MAGIC);
	le_put16(p + 4, OBJ_VERSION);
	le_put16(p + 6, h->flags);
	le_put32(p + 8, h->klen);
	p[12] = h->cls;
	le_put64(p + 16, h->vlen);
	le_put64(p + 24, h->seq);
	le_put64(p + 32, h->seg_seq);
	le_put64(p + 40, h->uuid64);
	le_put32(p + 48, h->vcrc);
	if (key != p + OBJ_HDR_SIZE)
		memcpy(p + OBJ_HDR_SIZE, key, h->klen);
	crc = crc32c(0, p, OBJ_HDR_SIZE + (size_t)h->klen);
	le_put32(p + 52, crc);
}

int obj_decode(const void *buf, size_t len, struct obj_hdr *h)
{
	const uint8_t *p = buf;
	uint8_t tmp[OBJ_HDR_SIZE];
	uint32_t crc;

	memset(h, 0, sizeof(*h));
	if (len < OBJ_HDR_SIZE)
		return -ENODATA;
	if (le_get32(p) != OBJ_MAGIC || le_get16(p + 4) != OBJ_VERSION)
		return -EBADMSG;
	h->klen = le_get32(p + 8);
	if (h->klen == 0 || h->klen > FDPKV_KEY_MAX) {
		h->klen = 0;
		return -EBADMSG;
	}
	if (len < OBJ_HDR_SIZE + (size_t)h->klen)
		return -ENODATA;
	memcpy(tmp, p, OBJ_HDR_SIZE);
	memset(tmp + 52, 0, 4);
	crc = crc32c(0, tmp, OBJ_HDR_SIZE);
	crc = crc32c(crc, p + OBJ_HDR_SIZE, h->klen);
	if (crc != le_get32(p + 52))
		return -EBADMSG;
	h->flags = le_get16(p + 6);
	h->cls = p[12];
	h->vlen = le_get64(p + 16);
	h->seq = le_get64(p + 24);
	h->seg_seq = le_get64(p + 32);
	h->uuid64 = le_get64(p + 40);
	h->vcrc = le_get32(p + 48);
	/* a flag this version does not know may change the layout: not ours */
	if (h->flags & ~(OBJ_F_TOMBSTONE | OBJ_F_REINSERT | OBJ_F_FILLER | OBJ_F_ALIGNED))
		return -EBADMSG;
	/* a delete record has no value; a filler (fsck's repair) spans one */
	if ((h->flags & OBJ_F_TOMBSTONE) && h->vlen && !(h->flags & OBJ_F_FILLER))
		return -EBADMSG;
	return 0;
}
