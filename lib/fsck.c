// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fsck.c - fdpkv_fsck(): check a cache without opening it, and repair it.
 *
 * The devices are opened through their backends and read synchronously, one
 * window (WIN bytes) at a time; no cache object exists, so nothing is
 * written unless FDPKV_FSCK_REPAIR is set. Each segment is walked as
 * recovery walks it (obj_decode + obj_chain_ok, the rule recovery.c applies),
 * and every value is read and its crc compared.
 *
 * Where the chain meets a header that does not decode, the rest of the
 * segment is searched, LBA by LBA, for a header that would continue the chain
 * (same format, same segment use, higher sequence). Found: the bytes between
 * are one damaged object, and repair overwrites its first LBA(s) with a
 * filler (a delete record spanning the damaged extent, OBJ_F_FILLER) so that
 * recovery walks on to the next header. Not found: the chain ends there; if
 * the header still looks like one of this segment's (magic, uuid, seg_seq in
 * the unverified fields) it is reported and repair zeroes it, otherwise it is
 * the normal end of the chain. At offset 0 the segment's use is only known
 * from the damaged header's own seg_seq field, so a first header whose
 * seg_seq is damaged as well hides its segment (reported as empty).
 *
 * Which version of a key is live follows recovery: the highest sequence over
 * all segments wins; a damaged object with a readable key counts as a delete
 * (its filler will be one), so it hides older versions as before repair.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define WIN		(1u << 20)	/* read window, bytes */
#define BUF_ALIGN	4096
#define FILLER_KEY	"\0fdpkv-fsck-filler"
#define FILLER_KLEN	(sizeof(FILLER_KEY) - 1)

/* private index flags: what the newest record of a key is */
#define FK_TOMB		0x02
#define FK_DAMAGED	0x04
#define FK_FILLER	0x08

struct fsck_dev {
	struct fdpkv_dev dev;
	struct engine *eng;
	struct superblock sb;
	uint64_t uuid64;
	bool usable;			/* a superblock to trust */
	bool wrote;			/* repairs written: flush at the end */
};

struct fsck {
	unsigned int flags;
	struct fdpkv_fsck_report *r;
	void (*on_damage)(void *arg, const struct fdpkv_damage *d);
	void *arg;
	struct index ix;
	uint8_t *buf;			/* WIN bytes */
	uint64_t buf_off, buf_len;	/* device bytes held in buf */
	struct fsck_dev *buf_dev;
	uint64_t records;		/* undamaged, non-filler records */
};

static uint32_t raw32(const uint8_t *p, size_t o) { uint32_t v; memcpy(&v, p + o, 4); return le32toh(v); }
static uint64_t raw64(const uint8_t *p, size_t o) { uint64_t v; memcpy(&v, p + o, 8); return le64toh(v); }

/*
 * rd - @len bytes at device offset @off (at most WIN - LBA, inside the range
 * [off, limit) that may be read). Returns a pointer into fs->buf, or NULL
 * with *@ret set to the read's -errno.
 */
static const uint8_t *rd(struct fsck *fs, struct fsck_dev *d, uint64_t off, uint64_t len,
			 uint64_t limit, int *ret)
{
	uint32_t lba = d->sb.lba_size;
	uint64_t start;

	if (fs->buf_dev == d && off >= fs->buf_off && off + len <= fs->buf_off + fs->buf_len)
		return fs->buf + (off - fs->buf_off);
	start = off / lba * lba;
	fs->buf_dev = NULL;
	fs->buf_len = MIN((uint64_t)WIN, limit - start);
	fs->buf_off = start;
	*ret = engine_io_sync(d->eng, IO_READ, start, fs->buf_len, fs->buf, 0);
	if (*ret)
		return NULL;
	fs->buf_dev = d;
	return fs->buf + (off - start);
}

static void report(struct fsck *fs, struct fdpkv_damage *dmg)
{
	fs->r->damage++;
	fs->r->repaired += dmg->repaired;
	if (fs->on_damage)
		fs->on_damage(fs->arg, dmg);
}

/* ---- superblocks ------------------------------------------------------------ */

static int sb_write(struct fsck_dev *d)
{
	return sb_write_both(d->eng, d->dev.geo.lba_size, &d->sb);
}

static const char *sb_why(int rc)
{
	return rc == -ENODATA ? "no superblock magic" : rc == -EPROTO ? "unsupported version" :
	       "checksum or geometry invalid";
}

/* Read and judge both copies of device @i. 0, or -errno (fatal). */
static int sb_check(struct fsck *fs, struct fsck_dev *d, unsigned int i, char *err,
		    size_t errlen)
{
	uint32_t lba = d->dev.geo.lba_size;
	struct superblock cp[2];
	struct fdpkv_damage dmg;
	char why[160];
	int rc[2], pick, ret, k;
	uint8_t *buf;

	if (posix_memalign((void **)&buf, BUF_ALIGN, 2 * (size_t)lba))
		return -ENOMEM;
	ret = engine_io_sync(d->eng, IO_READ, 0, 2 * (uint64_t)lba, buf, 0);
	if (ret) {
		fdpkv_seterr(err, errlen, "device '%s': reading the superblock: %s", d->dev.uri,
			     strerror(-ret));
		free(buf);
		return ret;
	}
	rc[0] = sb_decode(buf, lba, &cp[0]);
	rc[1] = sb_decode(buf + lba, lba, &cp[1]);
	free(buf);
	pick = sb_choose(cp, rc);
	if (pick < 0 && rc[0] == -ENODATA && rc[1] == -ENODATA) {
		fdpkv_seterr(err, errlen, "device '%s' holds no fdpkv cache", d->dev.uri);
		return -ENODATA;
	}
	for (k = 0; k < 2; k++) {
		bool differs = pick >= 0 && !rc[k] && k != pick &&
			       memcmp(&cp[k], &cp[pick], sizeof(cp[k]));

		if (!rc[k] && !differs)
			continue;
		memset(&dmg, 0, sizeof(dmg));
		dmg.kind = FDPKV_DAMAGE_SUPERBLOCK;
		dmg.dev = i;
		dmg.segment = -1;
		dmg.offset = (uint64_t)k * lba;
		dmg.length = lba;
		if (differs)
			snprintf(why, sizeof(why), "superblock copy %d: differs from copy %d "
				 "(generation %llu, %llu)", k, pick,
				 (unsigned long long)cp[k].generation,
				 (unsigned long long)cp[pick].generation);
		else if (pick < 0)
			snprintf(why, sizeof(why), "superblock copy %d: %s; no valid copy left, "
				 "the device cannot be checked", k, sb_why(rc[k]));
		else
			snprintf(why, sizeof(why), "superblock copy %d: %s", k, sb_why(rc[k]));
		dmg.reason = why;
		fs->r->superblock_damaged++;
		if (pick >= 0 && (fs->flags & FDPKV_FSCK_REPAIR)) {
			d->sb = cp[pick];
			dmg.repaired = sb_write(d) == 0;
		}
		report(fs, &dmg);
	}
	if (pick < 0)
		return 0;	/* reported: d->usable stays false */
	d->sb = cp[pick];
	memcpy(&d->uuid64, d->sb.uuid, 8);
	d->usable = true;
	return 0;
}

/* The device set must be the one formatted, in the same order (as open). */
static int sb_match(struct fsck_dev *devs, unsigned int n, char *err, size_t errlen)
{
	const struct superblock *ref = NULL;
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct superblock *sb = &devs[i].sb;
		const char *why = NULL;

		if (!devs[i].usable)
			continue;
		if (!ref)
			ref = sb;
		if (memcmp(sb->uuid, ref->uuid, 16) || sb->ndevices != n)
			why = "belongs to another cache or device set";
		else if (sb->dev_index != i)
			why = "is listed in a different position than when formatted";
		else if (sb->lba_size != devs[i].dev.geo.lba_size)
			why = "has a different LBA size than when formatted";
		else if (sb->capacity > devs[i].dev.geo.capacity)
			why = "is smaller than when formatted";
		if (why) {
			fdpkv_seterr(err, errlen, "device '%s' %s", devs[i].dev.uri, why);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- objects ----------------------------------------------------------------- */

/*
 * A repaired segment's chain no longer matches its summary (lib/FORMAT.md:
 * "Segment summary"), and recovery compares only the first record with the
 * device: zero the footer, so the segment is walked. The last LBA is
 * touched only when it holds a valid footer, which no object of the
 * segment's current use can overlap.
 */
static int drop_summary(struct fsck_dev *d, uint64_t base)
{
	uint32_t lba = d->sb.lba_size;
	uint64_t off = base + d->sb.segment_bytes - lba;
	struct sum_footer f;
	uint8_t *buf;
	int ret;

	if (posix_memalign((void **)&buf, BUF_ALIGN, lba))
		return -ENOMEM;
	ret = engine_io_sync(d->eng, IO_READ, off, lba, buf, 0);
	if (!ret && !summary_footer_decode(buf + lba - SUM_FOOTER_SIZE, &f)) {
		memset(buf, 0, lba);
		ret = engine_io_sync(d->eng, IO_WRITE, off, lba, buf,
				     d->sb.class_pid[FDPKV_CLASS_META]);
	}
	free(buf);
	return ret;
}

/* Overwrite the object at segment offset @off with @h (+ @key) padded to LBAs. */
static int write_header(struct fsck_dev *d, uint64_t base, uint64_t off,
			const struct obj_hdr *h, const void *key)
{
	uint32_t lba = d->sb.lba_size;
	uint64_t len = key ? ALIGN_UP(OBJ_HDR_SIZE + (uint64_t)h->klen, lba) : lba;
	uint8_t *buf;
	int ret;

	if (posix_memalign((void **)&buf, BUF_ALIGN, len))
		return -ENOMEM;
	memset(buf, 0, len);
	if (key) {
		memcpy(buf + OBJ_HDR_SIZE, key, h->klen);
		obj_encode(buf, h, buf + OBJ_HDR_SIZE);
	}
	ret = engine_io_sync(d->eng, IO_WRITE, base + off, len, buf,
			     d->sb.class_pid[FDPKV_CLASS_META]);
	free(buf);
	if (!ret) {
		d->wrote = true;
		ret = drop_summary(d, base);
	}
	return ret;
}

/* Write a filler over [off, off + len) with key @key, sequence @seq. */
static bool write_filler(struct fsck_dev *d, uint64_t base, uint64_t off, uint64_t len,
			 const void *key, uint32_t klen, uint64_t seq, uint64_t seg_seq,
			 uint8_t cls)
{
	struct obj_hdr h = {
		.flags = OBJ_F_TOMBSTONE | OBJ_F_FILLER,
		.cls = cls,
		.klen = klen,
		.seq = seq,
		.seg_seq = seg_seq,
		.uuid64 = d->uuid64,
	};

	if (len < OBJ_HDR_SIZE + (uint64_t)klen || len % d->sb.lba_size)
		return false;
	h.vlen = len - OBJ_HDR_SIZE - klen;
	return write_header(d, base, off, &h, key) == 0;
}

/* Resolve key versions as recovery does; @fk: FK_* of this record. */
static int key_record(struct fsck *fs, const struct obj_hdr *h, const uint8_t *key, uint8_t fk)
{
	struct index_entry *e = index_find(&fs->ix, key, h->klen);

	if (e && e->scan_seq >= h->seq)
		return 0;
	if (!e) {
		e = index_insert(&fs->ix, key, h->klen);
		if (!e)
			return -ENOMEM;
	}
	e->scan_seq = h->seq;
	e->vlen = h->vlen;
	e->flags = fk;
	return 0;
}

/* crc32c of value bytes [off, off + len) of the segment at @base; 0 or -errno. */
static int value_crc(struct fsck *fs, struct fsck_dev *d, uint64_t base, uint64_t off,
		     uint64_t len, uint64_t limit, uint32_t *crc)
{
	uint64_t step = WIN - 2 * (uint64_t)d->sb.lba_size;
	int ret = 0;

	*crc = 0;
	while (len) {
		uint64_t n = MIN(len, step);
		const uint8_t *p = rd(fs, d, base + off, n, limit, &ret);

		if (!p)
			return ret;
		*crc = crc32c(*crc, p, n);
		off += n;
		len -= n;
	}
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && !memcmp(p, p + 1, n - 1));
}

/*
 * The next header at or after @from (LBA aligned) that would continue the
 * chain; its offset, or UINT64_MAX. *@h receives it.
 */
static uint64_t resync(struct fsck *fs, struct fsck_dev *d, unsigned int nclasses,
		       uint64_t base, uint64_t from, uint64_t seg_seq, uint64_t last_seq,
		       struct obj_hdr *h, int *ioerr)
{
	const struct superblock *sb = &d->sb;
	uint64_t off;

	for (off = from; off + sb->lba_size <= sb->segment_bytes; off += sb->lba_size) {
		uint64_t avail = MIN((uint64_t)OBJ_HDR_SIZE + FDPKV_KEY_MAX, sb->segment_bytes - off);
		const uint8_t *p = rd(fs, d, base + off, avail, base + sb->segment_bytes, ioerr);

		if (!p)
			return UINT64_MAX;
		if (raw32(p, 0) != OBJ_MAGIC)
			continue;
		if (!obj_decode(p, avail, h) && h->seg_seq == seg_seq &&
		    obj_chain_ok(h, off, 1, seg_seq, last_seq, d->uuid64, nclasses,
				 sb->segment_bytes, sb->lba_size))
			return off;
	}
	return UINT64_MAX;
}

static void damage_init(struct fdpkv_damage *dmg, enum fdpkv_damage_kind kind, unsigned int dev,
			uint32_t seg, uint64_t off, uint64_t len, const char *why)
{
	memset(dmg, 0, sizeof(*dmg));
	dmg->kind = kind;
	dmg->dev = dev;
	dmg->segment = seg;
	dmg->offset = off;
	dmg->length = len;
	dmg->reason = why;
}

/* Walk segment @s of device @di. 0 or -ENOMEM. */
static int check_segment(struct fsck *fs, struct fsck_dev *d, unsigned int di, uint32_t s)
{
	const struct superblock *sb = &d->sb;
	const uint32_t lba = sb->lba_size;
	const uint64_t base = sb->data_start + (uint64_t)s * sb->segment_bytes;
	const uint64_t limit = base + sb->segment_bytes;
	const bool repair = fs->flags & FDPKV_FSCK_REPAIR;
	uint64_t off = 0, seg_seq = 0, last_seq = 0;
	uint8_t key[FDPKV_KEY_MAX];
	struct fdpkv_damage dmg;
	uint32_t nobj = 0;
	uint8_t cls = 0;
	char why[200];
	int ret = 0;

	fs->r->segments++;
	while (off + lba <= sb->segment_bytes) {
		uint64_t avail = MIN((uint64_t)OBJ_HDR_SIZE + FDPKV_KEY_MAX, sb->segment_bytes - off);
		const uint8_t *p = rd(fs, d, base + off, avail, limit, &ret);
		uint64_t size, expect, next;
		struct obj_hdr h, h2;
		uint32_t crc;
		bool damaged = false, last;
		int dec;

		if (!p)
			goto ioerr;
		dec = obj_decode(p, avail, &h);
		if (!dec && obj_chain_ok(&h, off, nobj, seg_seq, last_seq, d->uuid64,
					 sb->nclasses, sb->segment_bytes, lba)) {
			uint8_t fk = 0;

			size = obj_extent(h.klen, h.vlen, h.flags, lba);
			memcpy(key, p + OBJ_HDR_SIZE, h.klen);
			if (!nobj) {
				seg_seq = h.seg_seq;
				cls = h.cls;
			}
			nobj++;
			last_seq = h.seq;
			fs->r->bytes_stored += size;
			if (h.flags & OBJ_F_FILLER) {
				fs->r->objects_filler++;
				fk = FK_TOMB | FK_FILLER;
			} else if (h.flags & OBJ_F_TOMBSTONE) {
				fs->records++;
				fk = FK_TOMB;
			} else {
				ret = value_crc(fs, d, base, off + obj_value_off(h.klen, h.flags, lba), h.vlen,
						limit, &crc);
				if (ret)
					goto ioerr;
				damaged = crc != h.vcrc;
				if (damaged)
					fk = FK_TOMB | FK_DAMAGED;
				else
					fs->records++;
			}
			if (key_record(fs, &h, key, fk))
				return -ENOMEM;
			if (!damaged) {
				off += size;
				continue;
			}
			/* is it the chain's last object, cut short? */
			next = off + size;
			last = true;
			if (next + lba <= sb->segment_bytes) {
				uint64_t av2 = MIN((uint64_t)OBJ_HDR_SIZE + FDPKV_KEY_MAX,
						   sb->segment_bytes - next);
				const uint8_t *q = rd(fs, d, base + next, av2, limit, &ret);

				if (!q)
					goto ioerr;
				last = obj_decode(q, av2, &h2) ||
				       !obj_chain_ok(&h2, next, nobj, seg_seq, last_seq, d->uuid64,
						     sb->nclasses, sb->segment_bytes, lba);
			}
			p = rd(fs, d, base + next - lba, lba, limit, &ret);
			if (!p)
				goto ioerr;
			fs->r->damaged_objects++;
			if (last && all_zero(p, lba)) {
				fs->r->truncated_chains++;
				snprintf(why, sizeof(why), "object cut short: value checksum "
					 "mismatch and its last LBA reads as zeroes (seq %llu)",
					 (unsigned long long)h.seq);
				damage_init(&dmg, FDPKV_DAMAGE_TRUNCATED, di, s, off, size, why);
			} else {
				snprintf(why, sizeof(why), "value checksum mismatch (seq %llu)",
					 (unsigned long long)h.seq);
				damage_init(&dmg, FDPKV_DAMAGE_VALUE, di, s, off, size, why);
			}
			dmg.key = key;
			dmg.klen = h.klen;
			if (repair)
				dmg.repaired = write_filler(d, base, off, size, key, h.klen, h.seq,
							    h.seg_seq, h.cls);
			report(fs, &dmg);
			off = next;
			continue;
		}
		if (!dec)
			break;	/* a valid header of another use: the chain's end */
		/* does not decode: damaged, or just not a header (the end) */
		if (nobj)
			expect = seg_seq;
		else if (raw32(p, 0) == OBJ_MAGIC && raw64(p, 40) == d->uuid64)
			expect = raw64(p, 32);
		else
			break;
		next = resync(fs, d, sb->nclasses, base, off + lba, expect, last_seq, &h2, &ret);
		if (ret)
			goto ioerr;
		if (next != UINT64_MAX) {
			uint64_t fseq = (nobj ? last_seq : expect) + 1;
			uint8_t fcls = nobj ? cls : h2.cls;

			fs->r->damaged_objects++;
			snprintf(why, sizeof(why), "object header damaged (%s); the chain "
				 "continues at offset %llu", raw32(p, 0) == OBJ_MAGIC ?
				 "checksum mismatch" : "no header magic",
				 (unsigned long long)next);
			damage_init(&dmg, FDPKV_DAMAGE_HEADER, di, s, off, next - off, why);
			if (repair && fseq < h2.seq)
				dmg.repaired = write_filler(d, base, off, next - off, FILLER_KEY,
							    FILLER_KLEN, fseq, expect, fcls);
			report(fs, &dmg);
			if (!nobj) {
				seg_seq = expect;
				cls = fcls;
			}
			nobj++;
			last_seq = fseq;
			off = next;
			continue;
		}
		/* nothing follows: damage only if it still looks like ours */
		if (raw32(p, 0) == OBJ_MAGIC && raw64(p, 40) == d->uuid64 &&
		    raw64(p, 32) == expect) {
			fs->r->damaged_objects++;
			fs->r->truncated_chains++;
			snprintf(why, sizeof(why), "object header damaged (checksum mismatch); "
				 "the chain ends here");
			damage_init(&dmg, FDPKV_DAMAGE_HEADER, di, s, off, lba, why);
			if (repair)
				dmg.repaired = write_header(d, base, off, NULL, NULL) == 0;
			report(fs, &dmg);
		}
		break;
	}
	if (nobj)
		fs->r->segments_used++;
	return 0;
ioerr:
	fs->r->io_errors++;
	fs->r->segments_used += nobj != 0;
	snprintf(why, sizeof(why), "read error: %s; the chain ends here", strerror(-ret));
	damage_init(&dmg, FDPKV_DAMAGE_IO, di, s, off, lba, why);
	report(fs, &dmg);
	return 0;
}

static int count_key(void *arg, struct index_entry *e)
{
	struct fdpkv_fsck_report *r = arg;

	if (!(e->flags & FK_TOMB)) {
		r->objects_live++;
		r->bytes_live += e->vlen;
	} else if (!(e->flags & (FK_DAMAGED | FK_FILLER))) {
		r->objects_deleted++;
	}
	return 0;
}

FDPKV_PUBLIC int fdpkv_fsck(const struct fdpkv_config *cfg, unsigned int flags,
			    struct fdpkv_fsck_report *r,
			    void (*on_damage)(void *arg, const struct fdpkv_damage *d), void *arg,
			    char *err, size_t errlen)
{
	struct fsck fs = { .flags = flags, .r = r, .on_damage = on_damage, .arg = arg };
	struct fsck_dev *devs;
	unsigned int i, n;
	uint32_t s;
	int ret;

	if (!cfg || !r || cfg->struct_size < sizeof(*cfg) || (flags & ~FDPKV_FSCK_REPAIR) ||
	    cfg->ndevices == 0 || cfg->ndevices > FDPKV_MAX_DEVICES) {
		fdpkv_seterr(err, errlen, "fsck: invalid arguments");
		return -EINVAL;
	}
	memset(r, 0, sizeof(*r));
	n = cfg->ndevices;
	devs = calloc(n, sizeof(*devs));
	if (!devs || posix_memalign((void **)&fs.buf, BUF_ALIGN, WIN)) {
		free(devs);
		free(fs.buf);
		fdpkv_seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		devs[i].dev.fd = -1;
	for (i = 0; i < n; i++) {
		ret = backend_open(&devs[i].dev, cfg->devices[i], cfg, false, err, errlen);
		if (ret)
			goto out;
		ret = engine_start(&devs[i].eng, &devs[i].dev, 1);
		if (ret) {
			fdpkv_seterr(err, errlen, "device '%s': io_uring: %s", devs[i].dev.uri,
				     strerror(-ret));
			goto out;
		}
		ret = sb_check(&fs, &devs[i], i, err, errlen);
		if (ret)
			goto out;
	}
	ret = sb_match(devs, n, err, errlen);
	if (ret)
		goto out;
	/* the cache's own fingerprints: versions group as recovery groups them */
	for (i = 0; i < n && !devs[i].usable; i++)
		;
	ret = index_init(&fs.ix, INDEX_ID_MAX, 64, i < n ? index_seed(&devs[i].sb) : 0);
	if (ret) {
		fdpkv_seterr(err, errlen, "out of memory");
		goto out;
	}
	r->ndevices = n;
	for (i = 0; i < n; i++) {
		for (s = 0; devs[i].usable && s < devs[i].sb.nsegments; s++) {
			ret = check_segment(&fs, &devs[i], i, s);
			if (ret) {
				fdpkv_seterr(err, errlen, "out of memory");
				goto out;
			}
		}
		if (devs[i].wrote)
			engine_io_sync(devs[i].eng, IO_FLUSH, 0, 0, NULL, 0);
	}
	index_foreach(&fs.ix, count_key, r);
	r->objects_superseded = fs.records - r->objects_live - r->objects_deleted;
out:
	for (i = 0; i < n; i++) {
		engine_stop(devs[i].eng);
		backend_close(&devs[i].dev);
	}
	index_destroy(&fs.ix);
	free(fs.buf);
	free(devs);
	return ret;
}
