// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cache.c - the core of the cache: operations enter here (fdpkv_submit) and
 * complete here (one reference per key, the flush that durability=flush
 * asks for, the completion posted), with what every part shares: which
 * device and class a key goes to, where a segment starts, how a live entry
 * is dropped.
 *
 * The rest of the cache is one concern per file, each file's rules at its
 * top; cache.h declares what they share:
 *   write.c     SET and DELETE: reservation, submission, commit in offset order
 *   gate.c      per-class ordering of writes across segments (reclaim units)
 *   pad.c       zeros into the unwritten tail of a sealed segment
 *   summary.c   a sealed segment's summary, written into its tail for recovery
 *   staging.c   staging buffers and their pool; what of an object is staged
 *   pieces.c    large bounced values: copied in pieces on the copy workers
 *   workers.c   the copy workers' threads and job queue
 *   read.c      GET, EXISTS, LOOKUP_LOCK and unlock
 *   evict.c     eviction: FIFO by segment, and what of a segment is copied
 *   evictor.c   the thread that evicts ahead of need, so that submits never do
 *   pending.c   writes reserved and not yet committed, found by key
 *   reinsert.c  re-insert copies of evicted objects that were read
 *   shadow.c    shadowed objects: carried delete records
 *   ghost.c     keys evicted from segments not free yet
 *   reclaim.c   deallocating evicted segments: flush, deallocate, wipe, quarantine
 *   usage.c     usage counters, per salt bucket
 *   open.c      open (superblocks, format, alignment) and close
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

FDPKV_PUBLIC int fdpkv_version_major(void)
{
	return FDPKV_VERSION_MAJOR;
}

FDPKV_PUBLIC int fdpkv_version_minor(void)
{
	return FDPKV_VERSION_MINOR;
}

uint64_t seg_base(const struct devctx *d, uint32_t s)
{
	return d->sb.data_start + (uint64_t)s * d->sb.segment_bytes;
}

unsigned int cache_key_dev(const struct fdpkv_cache *c, const void *key, uint32_t klen)
{
	return key_dev(key, klen, c->ndev);
}

unsigned int cache_key_class(const struct fdpkv_cache *c, const void *key, uint32_t klen)
{
	char bucket[132];

	if (!c->devs[0].sb.placement_by_salt)
		return FDPKV_CLASS_DATA0;
	placement_bucket(key, klen, c->devs[0].sb.salt_separator, bucket, sizeof(bucket));
	return placement_class(bucket, c->ndata);
}
/* Drop a live entry from its segment, usage and the index. cache->lock held. */
void entry_drop(struct fdpkv_cache *c, struct index_entry *e)
{
	struct segment *sg = &c->devs[e->dev].segs.segs[e->seg];

	seg_unlink(&c->ix, sg, e);
	sg->live_objs--;
	sg->live_bytes -= e->vlen;
	if (e->lock) {
		sg->locked--;
		stale_locks_add(c, e);
	}
	usage_uncount(c, e);
	index_remove(&c->ix, e);
}
/* ---- operations: completion ---------------------------------------------- */

/*
 * Whether a per-key status fails the batch: for EXISTS, LOOKUP_LOCK and
 * DELETE an absent (or, for DELETE, locked) key is an answer, not a failure
 * (fdpkv.h: result is 0 when the operation ran).
 */
static bool status_fails_batch(enum fdpkv_op type, int32_t st)
{
	if (st >= 0)
		return false;
	switch (type) {
	case FDPKV_OP_EXISTS:
	case FDPKV_OP_LOOKUP_LOCK:
		return st != -ENOENT;
	case FDPKV_OP_DELETE:
		return st != -ENOENT && st != -EBUSY;
	default:
		return true;
	}
}

static void op_post(struct op *op)
{
	struct fdpkv_cache *c = op->cache;
	struct cq_node *n = op->node;
	unsigned int i;

	for (i = 0; i < op->n; i++)
		if (status_fails_batch(op->type, op->status[i]))
			break;
	for (unsigned int k = 0; k < op->n; k++)
		staging_put(c, op->reqs[k].staging, op->reqs[k].staging_cap);
	n->c.id = op->id;
	n->c.op = op->type;
	n->c.result = i < op->n ? op->status[i] : 0;
	n->c.nkeys = op->n;
	n->c.status = op->status;
	n->c.value_len = op->vlen;
	n->c.user_data = op->user_data;
	cq_post(&c->cq, n);
	free(op->keybuf);
	free(op);
	cache_lock(c);
	if (--c->inflight_ops == 0)
		pthread_cond_broadcast(&c->idle);
	cache_unlock(c);
}

static void flush_done(struct io_cmd *cmd, int res)
{
	struct op *op = cmd->arg;
	unsigned int d = (unsigned int)(cmd - op->flush_cmd), i;

	if (res < 0) {
		atomic_fetch_add(&op->cache->st.io_errors, 1);
		for (i = 0; i < op->n; i++)
			if (op->reqs[i].dev == d && op->status[i] == 0)
				op->status[i] = res;
	}
	if (atomic_fetch_sub(&op->flushes, 1) == 1)
		op_post(op);
}

static void op_finish(struct op *op)
{
	struct fdpkv_cache *c = op->cache;
	unsigned int mask = 0, d, n = 0;

	if (c->cfg.durability == FDPKV_DURABILITY_FLUSH)
		mask = atomic_load(&op->dev_mask);
	else if (c->cfg.durability == FDPKV_DURABILITY_NONE)
		mask = atomic_load(&op->hide_mask);
	if (!mask) {
		op_post(op);
		return;
	}
	for (d = 0; d < c->ndev; d++)
		n += (mask >> d) & 1;
	atomic_store(&op->flushes, n);
	for (d = 0; d < c->ndev; d++) {
		if (!((mask >> d) & 1))
			continue;
		op->flush_cmd[d] = (struct io_cmd){
			.op = IO_FLUSH, .done = flush_done, .arg = op,
		};
		engine_submit(c->devs[d].eng, &op->flush_cmd[d]);
	}
}

/* Drop one reference: one per key plus the submitter's while it runs. */
static void op_put(struct op *op)
{
	if (atomic_fetch_sub(&op->remaining, 1) == 1)
		op_finish(op);
}

void key_done(struct key_req *kr, int status, uint64_t vlen)
{
	/* a SET's pieces may still be staged by the workers: the last finishes */
	if (kr->pipe && !pipe_key_done(kr, status, vlen))
		return;
	key_finish(kr, status, vlen);
}

void key_finish(struct key_req *kr, int status, uint64_t vlen)
{
	struct op *op = kr->op;

	free(kr->pipe);
	kr->pipe = NULL;
	staging_put(op->cache, kr->staging, kr->staging_cap);
	kr->staging = NULL;
	arena_put(kr->arena);
	kr->arena = NULL;
	free(kr->shadow);	/* a delete record that did not commit */
	kr->shadow = NULL;
	op->status[kr->idx] = status;
	op->vlen[kr->idx] = status == 0 ? vlen : 0;
	op_put(op);
}
struct fdpkv_cache *kr_cache(const struct key_req *kr)
{
	return kr->op ? kr->op->cache : ((const struct reinsert_req *)kr)->d->cache;
}

FDPKV_PUBLIC int fdpkv_submit(struct fdpkv_cache *c, enum fdpkv_op type, unsigned int n,
			      const struct fdpkv_key *keys, const struct fdpkv_buf *bufs,
			      void *user_data, uint64_t *id)
{
	struct op *op;
	size_t kbytes = 0, off = 0;
	unsigned int i;

	if (!c || !keys || !id || n == 0 || type < FDPKV_OP_SET || type > FDPKV_OP_DELETE)
		return -EINVAL;
	if ((type == FDPKV_OP_SET || type == FDPKV_OP_GET) && !bufs)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!keys[i].data || keys[i].len == 0 || keys[i].len > FDPKV_KEY_MAX)
			return -EINVAL;
		if (bufs && (type == FDPKV_OP_SET || type == FDPKV_OP_GET) &&
		    !bufs[i].base && bufs[i].len)
			return -EINVAL;
		kbytes += keys[i].len;
	}
	if (atomic_load(&c->closing))
		return -ESHUTDOWN;
	op = calloc(1, sizeof(*op) + n * sizeof(op->reqs[0]));
	if (!op)
		return -ENOMEM;
	op->status = calloc(n, sizeof(*op->status));
	op->vlen = calloc(n, sizeof(*op->vlen));
	op->keybuf = malloc(kbytes);
	op->node = calloc(1, sizeof(*op->node));
	if (!op->status || !op->vlen || !op->keybuf || !op->node) {
		free(op->status);
		free(op->vlen);
		free(op->keybuf);
		free(op->node);
		free(op);
		return -ENOMEM;
	}
	op->cache = c;
	op->type = type;
	op->n = n;
	op->user_data = user_data;
	/* +1: the submitter's reference, so that keys completing on device
	 * threads cannot free the op while this function still walks it */
	atomic_init(&op->remaining, n + 1);
	for (i = 0; i < n; i++) {
		struct key_req *kr = &op->reqs[i];

		memcpy(op->keybuf + off, keys[i].data, keys[i].len);
		kr->op = op;
		kr->idx = i;
		kr->key = op->keybuf + off;
		kr->klen = keys[i].len;
		off += keys[i].len;
	}
	cache_lock(c);
	if (atomic_load(&c->closing)) {
		cache_unlock(c);
		free(op->status);
		free(op->vlen);
		free(op->keybuf);
		free(op->node);
		free(op);
		return -ESHUTDOWN;
	}
	c->inflight_ops++;
	cache_unlock(c);
	/* the id is known before any key can complete: a completion may race
	 * ahead of this function's return, never ahead of the id */
	op->id = atomic_fetch_add(&c->next_id, 1);
	*id = op->id;
	switch (type) {
	case FDPKV_OP_SET:
		run_set(c, op, bufs);
		break;
	case FDPKV_OP_GET:
		run_get(c, op, bufs);
		break;
	case FDPKV_OP_EXISTS:
		run_exists(c, op, false);
		break;
	case FDPKV_OP_LOOKUP_LOCK:
		run_exists(c, op, true);
		break;
	case FDPKV_OP_DELETE:
		run_delete(c, op);
		break;
	}
	op_put(op);
	return 0;
}

FDPKV_PUBLIC int fdpkv_event_fd(const struct fdpkv_cache *c)
{
	return c ? c->cq.efd : -EINVAL;
}

FDPKV_PUBLIC int fdpkv_drain(struct fdpkv_cache *c, struct fdpkv_completion *out, unsigned int max)
{
	if (!c || (!out && max))
		return -EINVAL;
	return cq_drain(&c->cq, out, max);
}

FDPKV_PUBLIC void fdpkv_completion_release(struct fdpkv_completion *comp)
{
	if (!comp)
		return;
	free(comp->status);
	free(comp->value_len);
	comp->status = NULL;
	comp->value_len = NULL;
}

FDPKV_PUBLIC int fdpkv_wait(struct fdpkv_cache *c, int timeout_ms)
{
	int ret;

	if (!c)
		return -EINVAL;
	ret = cache_cq_lock_open(c);
	if (ret)
		return ret;
	return cq_wait_locked(&c->cq, timeout_ms);
}
