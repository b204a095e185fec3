// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * read.c - GET, EXISTS, LOOKUP_LOCK and unlock.
 *
 * A GET reads the whole object into an aligned bounce buffer and checks
 * header, key, segment sequence and value crc before copying to the caller: damaged
 * bytes become a miss and the caller's buffer is only written when the value
 * is known good. An object larger than one copy piece is read in pieces and
 * each piece copied to the caller as it arrives (pieces.c), and an aligned
 * value read into an arena buffer goes there directly and is checked in
 * place: damaged, either is a miss all the same, but the buffer has been
 * written (fdpkv.h says so). An aligned value larger than one copy piece
 * is read into the caller's buffer in pieces too, each checksummed on a copy
 * worker as it lands (pieces.c); any other read in one command of more than
 * a piece is checksummed on a copy worker, not on the device thread, whose
 * next reads would wait for it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

/* ---- GET / EXISTS / LOOKUP_LOCK ----------------------------------------------- */

/* Where @kr's value lies once read: the caller's arena buffer, or staged. */
static const uint8_t *read_value(const struct key_req *kr)
{
	const struct devctx *d = &kr->op->cache->devs[kr->dev];

	if (kr->arena)
		return kr->buf.base;
	return (const uint8_t *)kr->staging + obj_value_off(kr->klen, kr->flags, d->sb.lba_size);
}

void read_complete(struct key_req *kr, int res, bool copied, uint32_t vcrc)
{
	struct fdpkv_cache *c = kr->op->cache;
	struct devctx *d = &c->devs[kr->dev];
	const uint8_t *p = kr->staging;
	uint64_t voff = obj_value_off(kr->klen, kr->flags, d->sb.lba_size);
	struct obj_hdr h;
	int dec = res < 0 ? res : obj_decode(p, kr->arena ? voff : kr->size, &h);
	int status = -ENOENT;
	/*
	 * A sound header of this use of the segment, but another key's: the
	 * index gave this key another's place: memory holds fingerprints only
	 * (index.c), so that is a collision: a miss, never the other key's
	 * data, and the entry, the other key's, stays.
	 */
	bool other = !dec && h.seg_seq == kr->seq && h.uuid64 == d->uuid64 &&
		     (h.klen != kr->klen || memcmp(p + OBJ_HDR_SIZE, kr->key, kr->klen));

	if (res < 0) {
		atomic_fetch_add(&c->st.io_errors, 1);
		status = res;
	} else if (!dec && !other && h.seg_seq == kr->seq && h.vlen == kr->vlen &&
		   h.uuid64 == d->uuid64 && !(h.flags & OBJ_F_TOMBSTONE) &&
		   (h.flags & OBJ_F_ALIGNED) == (kr->flags & OBJ_F_ALIGNED) && vcrc == h.vcrc) {
		if (kr->arena)
			atomic_fetch_add(&c->st.direct_bytes, kr->vlen);
		else if (kr->vlen && !copied)	/* an empty value may come with a NULL buffer */
			memcpy(kr->buf.base, read_value(kr), kr->vlen);
		status = 0;
		atomic_fetch_add(&c->st.bytes_read, kr->vlen);
	}
	cache_lock(c);
	if (!--d->segs.segs[kr->seg].readers)
		seg_released(d, kr->seg);	/* evicted while we read it? */
	if (status == -ENOENT && !other) {
		/* damaged: forget it so that it stays a miss */
		struct index_entry *e = index_find(&c->ix, kr->key, kr->klen);

		atomic_fetch_add(&c->st.corrupt_objects, 1);
		/* it may hide older versions: a delete record takes that over */
		if (e && e->dev == kr->dev && e->seg == kr->seg &&
		    (uint64_t)e->off_lba * d->sb.lba_size == kr->off)
			drop_entry_shadow(d, kr->seg, e, kr->key, kr->klen, false);
	}
	cache_unlock(c);
	atomic_fetch_add(status == 0 ? &c->st.hits : &c->st.misses, 1);
	key_done(kr, status, kr->vlen);
}

/* A worker checksums a large value read in one command (read_done). */
static void read_crc_job(struct work_job *j)
{
	struct key_req *kr = (struct key_req *)((char *)j - offsetof(struct key_req, job));

	atomic_fetch_add(&kr->op->cache->st.crc_jobs, 1);
	read_complete(kr, kr->io_res, false, crc32c(0, read_value(kr), kr->vlen));
}

/* A value read in one command whose crc a copy worker computes. */
static bool read_crc_offload(const struct fdpkv_cache *c, const struct key_req *kr)
{
	return c->workers && c->cfg.copy_piece_bytes && kr->vlen > c->cfg.copy_piece_bytes;
}

static void read_done(struct io_cmd *cmd, int res)
{
	struct key_req *kr = cmd->arg;
	struct fdpkv_cache *c = kr->op->cache;

	if (res < 0) {
		read_complete(kr, res, false, 0);
	} else if (read_crc_offload(c, kr)) {
		/*
		 * Not on the device thread: a 32 MiB crc takes milliseconds,
		 * in which it would neither reap nor submit, and the device
		 * (or the io-wq workers copying a memory file) would idle.
		 */
		kr->io_res = res;
		kr->job.fn = read_crc_job;
		workers_queue(c->workers, &kr->job);
	} else {
		read_complete(kr, res, false, crc32c(0, read_value(kr), kr->vlen));
	}
}

void run_get(struct fdpkv_cache *c, struct op *op, const struct fdpkv_buf *bufs)
{
	unsigned int i;

	for (i = 0; i < op->n; i++) {
		struct key_req *kr = &op->reqs[i];
		struct index_entry *e;
		struct devctx *d;
		int status = 0;

		atomic_fetch_add(&c->st.gets, 1);
		kr->buf = bufs[i];
		cache_lock(c);
		e = index_find(&c->ix, kr->key, kr->klen);
		if (!e) {
			status = -ENOENT;
		} else if (e->vlen != bufs[i].len) {
			/* filling a different-sized buffer would be a lie either way */
			status = -EMSGSIZE;
		} else {
			d = &c->devs[e->dev];
			kr->dev = e->dev;
			kr->seg = e->seg;
			kr->off = (uint64_t)e->off_lba * d->sb.lba_size;
			/* names the segment's current use: checked against
			 * the header's seg_seq when the read completes */
			kr->seq = d->segs.segs[kr->seg].open_seq;
			kr->vlen = e->vlen;
			kr->flags = (e->flags & IDX_F_ALIGNED) ? OBJ_F_ALIGNED : 0;
			kr->size = obj_extent(kr->klen, kr->vlen, kr->flags, d->sb.lba_size);
			e->flags |= IDX_F_READ;
			/* pins the segment: not evicted while this read runs */
			d->segs.segs[kr->seg].readers++;
		}
		cache_unlock(c);
		if (status) {
			atomic_fetch_add(&c->st.misses, 1);
			key_done(kr, status, 0);
			continue;
		}
		d = &c->devs[kr->dev];
		/* an aligned value goes straight into an arena buffer */
		if (kr->flags & OBJ_F_ALIGNED)
			kr->arena = arena_get(c, d, kr->buf.base, kr->vlen);
		/* a large bounced value: in pieces, copied out on the workers */
		if (pipe_wanted(c, kr, d->sb.lba_size)) {
			if (!pipe_read_start(c, d, kr))
				continue;
		} else if (pipe_direct_wanted(c, kr, d->sb.lba_size)) {
			/* a large direct one: in pieces, checksummed as they land */
			if (!pipe_direct_read_start(c, d, kr))
				continue;
		} else if ((kr->staging = staging_get(c, staged_bytes(kr), &kr->staging_cap))) {
			kr->cmd = (struct io_cmd){
				.op = IO_READ,
				.off = seg_base(d, kr->seg) + kr->off,
				.len = kr->size,
				.buf = kr->staging,
				.done = read_done,
				.arg = kr,
			};
			cmd_value_part(kr);
			engine_submit(d->eng, &kr->cmd);
			continue;
		}
		cache_lock(c);
		if (!--d->segs.segs[kr->seg].readers)
			seg_released(d, kr->seg);
		cache_unlock(c);
		key_done(kr, -ENOMEM, 0);
	}
}

void run_exists(struct fdpkv_cache *c, struct op *op, bool lock)
{
	unsigned int i;

	for (i = 0; i < op->n; i++) {
		struct key_req *kr = &op->reqs[i];
		struct index_entry *e;
		uint64_t vlen = 0;
		int status = -ENOENT;

		atomic_fetch_add(&c->st.exists, 1);
		cache_lock(c);
		e = index_find(&c->ix, kr->key, kr->klen);
		/*
		 * A key whose segment is being evicted is not locked: its
		 * re-insert copy may fail, and then the key goes with the
		 * segment, which a lock could not stop; and a segment evicted
		 * in batches keeps no key (evict.c). It is a miss.
		 */
		if (e && lock && (c->devs[e->dev].segs.segs[e->seg].state == SEG_RECLAIM ||
				  c->devs[e->dev].segs.segs[e->seg].evicting))
			e = NULL;
		if (e && (!lock || index_lock(e))) {
			if (lock && e->lock == 1)
				c->devs[e->dev].segs.segs[e->seg].locked++;
			status = 0;
			vlen = e->vlen;
		}
		cache_unlock(c);
		atomic_fetch_add(status ? &c->st.misses : &c->st.hits, 1);
		key_done(kr, status, vlen);
	}
}

/* ---- locks ---------------------------------------------------------------- */

/*
 * A lock belongs to the version it locked. When a locked entry leaves the
 * index (damaged on a read, or a DELETE queued before the lock got its
 * place), its locks become stale: they are kept here, by key fingerprint
 * (what the compact index keeps; keys that share one share their stale
 * locks, a 2^-64 chance per pair), and the next
 * unlocks of that key release them (a no-op, -ESTALE) before any lock of a
 * newer version, which another holder took. Unlocks carry no identity, but
 * this keeps what matters: a version's lock count never drops below the
 * number of its holders that have not unlocked yet, so a newer version is
 * never unlocked under its holder's feet. A SET over a locked key moves the
 * locks to the new version (commit_object): its holders still hold the key.
 */
static struct stale_lock **stale_find(struct fdpkv_cache *c, uint64_t fp, uint32_t klen)
{
	struct stale_lock **pp;

	for (pp = &c->stale_locks; *pp; pp = &(*pp)->next)
		if ((*pp)->fp == fp && (*pp)->klen == klen)
			break;
	return pp;
}

void stale_locks_add(struct fdpkv_cache *c, const struct index_entry *e)
{
	uint64_t fp = index_entry_fp(e);
	struct stale_lock **pp = stale_find(c, fp, e->klen), *s = *pp;

	if (!s) {
		s = malloc(sizeof(*s));
		if (!s)
			return;	/* the stale locks then release newer ones, as before */
		s->next = NULL;
		s->fp = fp;
		s->count = 0;
		s->klen = e->klen;
		*pp = s;
	}
	s->count += e->lock;
}

void stale_locks_free(struct fdpkv_cache *c)
{
	struct stale_lock *s, *next;

	for (s = c->stale_locks; s; s = next) {
		next = s->next;
		free(s);
	}
	c->stale_locks = NULL;
}

/* Release one lock of @key. cache->lock held. 0, -ESTALE or -ENOENT. */
static int unlock_one(struct fdpkv_cache *c, const struct fdpkv_key *k)
{
	struct stale_lock **pp, *s;
	struct index_entry *e;

	if (!k->data || !k->len || k->len > FDPKV_KEY_MAX)
		return -EINVAL;
	if (c->stale_locks) {
		pp = stale_find(c, index_key_fp(&c->ix, k->data, k->len), k->len);
		if ((s = *pp)) {
			if (--s->count == 0) {
				*pp = s->next;
				free(s);
			}
			return -ESTALE;
		}
	}
	e = index_find(&c->ix, k->data, k->len);
	if (!e || !e->lock)
		return -ENOENT;
	if (index_unlock(e))
		c->devs[e->dev].segs.segs[e->seg].locked--;
	return 0;
}

FDPKV_PUBLIC int fdpkv_unlock_keys(struct fdpkv_cache *c, unsigned int n,
				   const struct fdpkv_key *keys, int32_t *status)
{
	unsigned int i;
	int released = 0, ret;

	if (!c || (!keys && n))
		return -EINVAL;
	cache_lock(c);
	for (i = 0; i < n; i++) {
		ret = unlock_one(c, &keys[i]);
		released += ret == 0;
		if (status)
			status[i] = ret;
	}
	cache_unlock(c);
	return released;
}

FDPKV_PUBLIC void fdpkv_unlock(struct fdpkv_cache *c, unsigned int n, const struct fdpkv_key *keys)
{
	fdpkv_unlock_keys(c, n, keys, NULL);
}
