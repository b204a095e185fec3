// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * reinsert.c - re-insert copies (cfg.reinsert): objects of an evicted
 * segment that were read since written, copied into the re-insert class.
 * The rules are at struct reinsert_req (cache.h); evict.c decides which
 * objects are copied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

static void reinsert_read_done(struct io_cmd *cmd, int res);

/* Start copying @e out of segment @s (being evicted). cache->lock held.
 * 0 when the copy runs, else -errno and nothing changed (drop @e). */
int reinsert_start(struct devctx *d, uint32_t s, struct index_entry *e)
{
	struct fdpkv_cache *c = d->cache;
	uint32_t klen;
	const uint8_t *key = evicted_key(c, e, &klen);
	struct reinsert_req *r;
	struct key_req *kr;

	if (!key)
		return -ENOKEY;	/* not read back: the copy could not name it */
	r = calloc(1, sizeof(*r) + klen);
	if (!r)
		return -ENOMEM;
	kr = &r->kr;
	memcpy(r->key, key, klen);
	r->d = d;
	r->src_seg = s;
	r->src_off_lba = e->off_lba;
	r->src_seg_seq = d->segs.segs[s].open_seq;
	kr->key = r->key;
	kr->klen = klen;
	kr->dev = e->dev;
	kr->cls = FDPKV_CLASS_REINSERT;
	/* the copy keeps the layout: an aligned value may be read in place */
	kr->flags = OBJ_F_REINSERT | ((e->flags & IDX_F_ALIGNED) ? OBJ_F_ALIGNED : 0);
	kr->vlen = e->vlen;
	kr->size = obj_extent(kr->klen, kr->vlen, kr->flags, d->sb.lba_size);
	kr->staging = evictor_staging(c, kr->size, &kr->staging_cap);
	if (!kr->staging) {
		free(r);
		return -ENOMEM;
	}
	/* never waits for space: a full device drops instead */
	if (slot_reserve(d, kr)) {
		staging_put(c, kr->staging, kr->staging_cap);
		free(r);
		return -ENOSPC;
	}
	r->seg_seq = d->segs.segs[kr->seg].open_seq;
	d->segs.segs[s].copies++;
	c->inflight_ops++;	/* fdpkv_close waits for copies too */
	r->rcmd = (struct io_cmd){
		.op = IO_READ,
		.off = seg_base(d, s) + (uint64_t)e->off_lba * d->sb.lba_size,
		.len = kr->size,
		.buf = kr->staging,
		.done = reinsert_read_done,
		.arg = r,
	};
	engine_submit(d->eng, &r->rcmd);
	return 0;
}

static void reinsert_read_done(struct io_cmd *cmd, int res)
{
	struct reinsert_req *r = cmd->arg;
	struct key_req *kr = &r->kr;
	struct devctx *d = r->d;
	struct fdpkv_cache *c = d->cache;
	uint64_t voff = obj_value_off(kr->klen, kr->flags, d->sb.lba_size);
	uint8_t *p = kr->staging, *val = p + voff;
	struct obj_hdr h;

	if (res < 0)
		atomic_fetch_add(&c->st.io_errors, 1);
	if (res >= 0 && obj_decode(p, kr->size, &h) == 0 && h.klen == kr->klen &&
	    !memcmp(p + OBJ_HDR_SIZE, kr->key, kr->klen) && h.seg_seq == r->src_seg_seq &&
	    h.vlen == kr->vlen && h.uuid64 == d->uuid64 && !(h.flags & OBJ_F_TOMBSTONE) &&
	    (h.flags & OBJ_F_ALIGNED) == (kr->flags & OBJ_F_ALIGNED) &&
	    crc32c(0, val, kr->vlen) == h.vcrc) {
		kr->vcrc = h.vcrc;
	} else {
		if (res >= 0)
			atomic_fetch_add(&c->st.corrupt_objects, 1);
		r->failed = true;
		memcpy(p + OBJ_HDR_SIZE, kr->key, kr->klen);
		memset(p + OBJ_HDR_SIZE + kr->klen, 0, voff - OBJ_HDR_SIZE - kr->klen);
		memset(val + kr->vlen, 0, kr->size - voff - kr->vlen);
		kr->vcrc = crc32c(0, val, kr->vlen) ^ 1;	/* never matches */
	}
	cache_lock(c);
	gate_submit(d, kr);
	cache_unlock(c);
}

/* A copy's write is done (committed or not). Runs without cache->lock. */
void reinsert_finish(struct key_req *kr)
{
	struct reinsert_req *r = (struct reinsert_req *)kr;
	struct devctx *d = r->d;
	struct fdpkv_cache *c = d->cache;
	struct key_req *failed = NULL;

	staging_put(c, kr->staging, kr->staging_cap);
	if (r->committed)
		atomic_fetch_add(&c->st.reinserted_objects, 1);
	if (kr->carry && !kr->shadow)
		atomic_fetch_add(&c->st.carried_records, 1);	/* committed: linked */
	free(kr->shadow);	/* a carried record that was not written */
	cache_lock(c);
	/* the record it failed to carry stays where it is: keep that segment */
	if (kr->carry && kr->shadow)
		d->segs.segs[r->src_seg].keep = true;
	d->segs.segs[r->src_seg].copies--;
	seg_released(d, r->src_seg);
	if ((d->segs.nfree || d->segs.segs[r->src_seg].state == SEG_QUARANTINE) && d->waiters)
		retry_waiters(d, &failed);
	if (--c->inflight_ops == 0)
		pthread_cond_broadcast(&c->idle);
	cache_unlock(c);
	free(r);
	complete_failed(failed);
}
