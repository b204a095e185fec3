// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * superblock.c - the per-device superblock, kept in two copies (LBA 0 and
 * LBA 1) so that a torn write of one never loses the cache. Little-endian:
 *
 *   0 magic[8] | 8 version u32 | 12 crc u32 (over the 512 bytes, crc zero)
 *  16 uuid[16] | 32 generation u64 | 40 lba_size u32 | 44 ndevices u32
 *  48 dev_index u32 | 52 nclasses u32 | 56 ndata_classes u32
 *  60 placement_by_salt u8 | 61 salt_separator u8 | 62 rsvd[2]
 *  64 segment_bytes u64 | 72 nsegments u64 | 80 data_start u64
 *  88 capacity u64 | 96 class_pid u16[64] | 224 seq_lease u64 | 232 rsvd to 512
 *
 * Version 2 added seq_lease (lib/FORMAT.md: sequence rules). A version 1
 * copy decodes with seq_lease 0 and version 1: open upgrades it in place
 * when it writes the next lease. A newer version is refused (-EPROTO).
 *
 * The bucket -> class mapping is a stable hash folded onto ndata_classes and
 * class_pid[] maps classes to placement ids, so persisting those two is
 * persisting the mapping.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

_Static_assert(96 + 2 * FDPKV_MAX_CLASSES == 224, "superblock layout");


void sb_encode(void *buf, const struct superblock *sb)
{
	uint8_t *p = buf;
	unsigned int i;

	memset(p, 0, SB_ENCODED_SIZE);
	memcpy(p, SB_MAGIC, 8);
	le_put32(p + 8, SB_VERSION);
	memcpy(p + 16, sb->uuid, 16);
	le_put64(p + 32, sb->generation);
	le_put32(p + 40, sb->lba_size);
	le_put32(p + 44, sb->ndevices);
	le_put32(p + 48, sb->dev_index);
	le_put32(p + 52, sb->nclasses);
	le_put32(p + 56, sb->ndata_classes);
	p[60] = sb->placement_by_salt;
	p[61] = (uint8_t)sb->salt_separator;
	le_put64(p + 64, sb->segment_bytes);
	le_put64(p + 72, sb->nsegments);
	le_put64(p + 80, sb->data_start);
	le_put64(p + 88, sb->capacity);
	for (i = 0; i < FDPKV_MAX_CLASSES; i++) {
		uint16_t v = htole16(sb->class_pid[i]);

		memcpy(p + 96 + 2 * i, &v, 2);
	}
	le_put64(p + 224, sb->seq_lease);
	le_put32(p + 12, crc32c(0, p, SB_ENCODED_SIZE));
}

int sb_decode(const void *buf, size_t len, struct superblock *sb)
{
	uint8_t tmp[SB_ENCODED_SIZE];
	const uint8_t *p = buf;
	unsigned int i;

	memset(sb, 0, sizeof(*sb));
	if (len < SB_ENCODED_SIZE)
		return -ENODATA;
	if (memcmp(p, SB_MAGIC, 8))
		return -ENODATA;	/* no cache here */
	memcpy(tmp, p, SB_ENCODED_SIZE);
	memset(tmp + 12, 0, 4);
	if (crc32c(0, tmp, SB_ENCODED_SIZE) != le_get32(p + 12))
		return -EBADMSG;
	sb->version = le_get32(p + 8);
	if (sb->version < SB_VERSION_MIN || sb->version > SB_VERSION)
		return -EPROTO;
	memcpy(sb->uuid, p + 16, 16);
	sb->generation = le_get64(p + 32);
	sb->lba_size = le_get32(p + 40);
	sb->ndevices = le_get32(p + 44);
	sb->dev_index = le_get32(p + 48);
	sb->nclasses = le_get32(p + 52);
	sb->ndata_classes = le_get32(p + 56);
	sb->placement_by_salt = p[60];
	sb->salt_separator = (char)p[61];
	sb->segment_bytes = le_get64(p + 64);
	sb->nsegments = le_get64(p + 72);
	sb->data_start = le_get64(p + 80);
	sb->capacity = le_get64(p + 88);
	for (i = 0; i < FDPKV_MAX_CLASSES; i++) {
		uint16_t v;

		memcpy(&v, p + 96 + 2 * i, 2);
		sb->class_pid[i] = le16toh(v);
	}
	sb->seq_lease = sb->version >= 2 ? le_get64(p + 224) : 0;
	/* A crc-valid copy with impossible geometry is still not trusted. */
	if (sb->lba_size < 512 || (sb->lba_size & (sb->lba_size - 1)) ||
	    sb->segment_bytes == 0 || sb->segment_bytes % sb->lba_size ||
	    sb->nsegments == 0 || sb->nsegments > UINT32_MAX ||
	    sb->nclasses < FDPKV_CLASS_DATA0 + 1 || sb->nclasses > FDPKV_MAX_CLASSES ||
	    sb->ndata_classes != sb->nclasses - FDPKV_CLASS_DATA0 ||
	    sb->ndevices == 0 || sb->ndevices > FDPKV_MAX_DEVICES ||
	    sb->dev_index >= sb->ndevices ||
	    sb->data_start + sb->nsegments * sb->segment_bytes > sb->capacity)
		return -EBADMSG;
	return 0;
}

int sb_choose(const struct superblock sb[2], const int rc[2])
{
	if (rc[0] == 0 && rc[1] == 0)
		return sb[1].generation > sb[0].generation ? 1 : 0;
	if (rc[0] == 0)
		return 0;
	if (rc[1] == 0)
		return 1;
	return -ENODATA;
}

/*
 * sb_write_both - write both copies of @sb (LBA 0 and 1, through the metadata
 * class's placement id) and flush. Blocks; open, format, fsck only.
 */
int sb_write_both(struct engine *eng, uint32_t lba, const struct superblock *sb)
{
	void *buf;
	int ret;

	if (posix_memalign(&buf, 4096, 2 * (size_t)lba))
		return -ENOMEM;
	memset(buf, 0, 2 * (size_t)lba);
	sb_encode(buf, sb);
	sb_encode((uint8_t *)buf + lba, sb);
	ret = engine_io_sync(eng, IO_WRITE, 0, 2 * (uint64_t)lba, buf, sb->class_pid[0]);
	if (!ret)
		ret = engine_io_sync(eng, IO_FLUSH, 0, 0, NULL, 0);
	free(buf);
	return ret;
}
