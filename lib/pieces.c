// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pieces.c - a large bounced value moved in pieces (the copy path).
 *
 * A value whose buffer cannot go to the device directly (not 4 KiB aligned
 * or not whole LBAs) is bounced through a staging image of its object. For
 * an object larger than one piece (cfg.copy_piece_bytes, 1 MiB by default)
 * the image is cut into pieces at piece boundaries of the image, and each
 * piece is copied and checksummed by the cache's copy workers (workers.c)
 * and moved by a command of its own:
 *
 *  SET  every piece is queued to the workers when the SET is submitted; the
 *       key reserves its slot at once, in submission order, as any SET.
 *       Piece k > 0 is written as soon as it is staged and the slot's write
 *       may go (write_submit); piece 0, which holds the header, goes last,
 *       once every piece is staged and their crcs are combined into the
 *       header's value crc (crc32c_combine: the format keeps one crc per
 *       value). So a power cut can leave a value without its header, never
 *       a header over a value not yet written; the write is acknowledged
 *       when every piece is, in offset order as before (write.c).
 *  GET  the reads of all pieces are issued at once; as each completes, a
 *       worker copies its value bytes to the caller's buffer and checksums
 *       them in the same pass; when the last is done the header, key and
 *       combined crc are checked. A damaged value is a miss (-ENOENT,
 *       corrupt_objects), as on every path, never a partial value; the
 *       caller's buffer may have been written then (fdpkv.h).
 *
 * A piece's job runs on a worker, its I/O completion on the device thread;
 * counters in struct copy_pipe decide which of them takes the next step, so
 * neither the submitter nor the device thread waits for the other.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define piece_of(j)	((struct piece *)((char *)(j) - offsetof(struct piece, job)))

uint32_t piece_count(uint64_t size, uint64_t piece)
{
	return (uint32_t)((size + piece - 1) / piece);
}

void piece_span(uint64_t size, uint64_t voff, uint64_t vlen, uint64_t piece, uint32_t k,
		struct piece_span *s)
{
	uint64_t start = (uint64_t)k * piece, end = MIN(start + piece, size);
	uint64_t vs = MAX(start, voff), ve = MIN(end, voff + vlen);

	s->off = start;
	s->len = end - start;
	s->vstart = vs < ve ? vs - voff : 0;
	s->vlen = vs < ve ? ve - vs : 0;
}

bool pipe_wanted(const struct fdpkv_cache *c, const struct key_req *kr, uint32_t lba)
{
	uint64_t piece = c->cfg.copy_piece_bytes;

	return c->workers && !kr->arena && kr->vlen && piece && piece % lba == 0 &&
	       kr->size > piece;
}

static struct copy_pipe *pipe_new(struct key_req *kr, uint64_t piece, uint64_t voff)
{
	uint32_t n = piece_count(kr->size, piece), k;
	struct copy_pipe *pp = calloc(1, sizeof(*pp) + n * sizeof(pp->p[0]));

	if (!pp)
		return NULL;
	pp->kr = kr;
	pp->piece = piece;
	pp->voff = voff;
	pp->n = n;
	atomic_init(&pp->left, n);
	atomic_init(&pp->err, 0);
	for (k = 0; k < n; k++) {
		pp->p[k].pp = pp;
		pp->p[k].idx = k;
	}
	return pp;
}

/* The value crc of the whole object from its pieces' crcs, in order. */
static uint32_t pipe_crc(const struct copy_pipe *pp)
{
	const struct key_req *kr = pp->kr;
	struct piece_span s;
	uint32_t crc = 0, k;

	for (k = 0; k < pp->n; k++) {
		piece_span(kr->size, pp->voff, kr->vlen, pp->piece, k, &s);
		crc = crc32c_combine(crc, pp->p[k].crc, s.vlen);
	}
	return crc;
}

static void pipe_error(struct copy_pipe *pp, int res)
{
	int zero = 0;

	if (res < 0)
		atomic_compare_exchange_strong(&pp->err, &zero, res);
}

/* ---- SET ------------------------------------------------------------------ */

static void piece_write_done(struct io_cmd *cmd, int res)
{
	struct piece *pc = cmd->arg;
	struct copy_pipe *pp = pc->pp;

	pipe_error(pp, res);
	if (atomic_fetch_sub(&pp->ios, 1) == 1)
		write_complete(pp->kr, atomic_load(&pp->err));
}

static void piece_write(struct copy_pipe *pp, struct piece *pc)
{
	struct key_req *kr = pp->kr;
	struct devctx *d = &kr->op->cache->devs[kr->dev];
	struct piece_span s;

	piece_span(kr->size, pp->voff, kr->vlen, pp->piece, pc->idx, &s);
	pc->cmd = (struct io_cmd){
		.op = IO_WRITE,
		.pid = pp->pid,
		.dsync = pp->dsync,
		.off = pp->base + s.off,
		.len = s.len,
		.buf = (uint8_t *)kr->staging + s.off,
		.done = piece_write_done,
		.arg = pc,
	};
	engine_submit(d->eng, &pc->cmd);
}

/* Every piece is staged and the write may go: the header, then piece 0. */
static void head_write(struct copy_pipe *pp)
{
	struct key_req *kr = pp->kr;

	kr->vcrc = pipe_crc(pp);
	obj_stage_header(&kr->op->cache->devs[kr->dev], kr, pp->seg_seq);
	piece_write(pp, &pp->p[0]);
}

/* Release one of the two holds on the key's completion (struct copy_pipe). */
static void pipe_release(struct key_req *kr)
{
	struct copy_pipe *pp = kr->pipe;

	if (atomic_fetch_sub(&pp->holds, 1) == 1)
		key_finish(kr, pp->status, pp->vlen);
}

static void piece_stage(struct work_job *j)
{
	struct piece *pc = piece_of(j);
	struct copy_pipe *pp = pc->pp;
	struct key_req *kr = pp->kr;
	struct piece_span s;

	piece_span(kr->size, pp->voff, kr->vlen, pp->piece, pc->idx, &s);
	pc->crc = crc32c_copy(0, (uint8_t *)kr->staging + pp->voff + s.vstart,
			      pp->src + s.vstart, s.vlen);
	atomic_fetch_add(&kr->op->cache->st.piece_jobs, 1);
	if (pc->idx && atomic_fetch_sub(&pc->gate, 1) == 1)
		piece_write(pp, pc);
	if (atomic_fetch_sub(&pp->p[0].gate, 1) == 1)
		head_write(pp);
	/* last: after this the key may complete and @pp be freed */
	if (atomic_fetch_sub(&pp->left, 1) == 1)
		pipe_release(kr);
}

int pipe_stage_start(struct fdpkv_cache *c, struct key_req *kr, const void *value)
{
	uint64_t voff = OBJ_HDR_SIZE + kr->klen, vend = voff + kr->vlen;
	struct copy_pipe *pp;
	uint8_t *p;
	uint32_t k;

	kr->staging = staging_get(c, kr->size, &kr->staging_cap);
	if (!kr->staging)
		return -ENOMEM;
	pp = pipe_new(kr, c->cfg.copy_piece_bytes, voff);
	if (!pp)
		return -ENOMEM;		/* key_done returns the staging buffer */
	p = kr->staging;
	memcpy(p + OBJ_HDR_SIZE, kr->key, kr->klen);
	memset(p + vend, 0, kr->size - vend);
	pp->src = value;
	/* staging and the key's completion: key_finish once both let go */
	atomic_init(&pp->holds, 2);
	/* piece k > 0: staged, and the write may go; piece 0 waits for all */
	atomic_init(&pp->p[0].gate, pp->n + 1);
	for (k = 1; k < pp->n; k++)
		atomic_init(&pp->p[k].gate, 2);
	kr->pipe = pp;
	for (k = 0; k < pp->n; k++) {
		pp->p[k].job.fn = piece_stage;
		workers_queue(c->workers, &pp->p[k].job);
	}
	return 0;
}

void pipe_write_go(struct devctx *d, struct key_req *kr, uint64_t seg_seq, bool dsync)
{
	struct copy_pipe *pp = kr->pipe;
	uint32_t k;

	pp->seg_seq = seg_seq;
	pp->dsync = dsync;
	pp->pid = d->sb.class_pid[kr->cls];
	pp->base = seg_base(d, kr->seg) + kr->off;
	atomic_store(&pp->ios, pp->n);
	for (k = 1; k < pp->n; k++)
		if (atomic_fetch_sub(&pp->p[k].gate, 1) == 1)
			piece_write(pp, &pp->p[k]);
	if (atomic_fetch_sub(&pp->p[0].gate, 1) == 1)
		head_write(pp);
}

bool pipe_key_done(struct key_req *kr, int status, uint64_t vlen)
{
	struct copy_pipe *pp = kr->pipe;

	pp->status = status;
	pp->vlen = vlen;
	return atomic_fetch_sub(&pp->holds, 1) == 1;
}

/* ---- GET ------------------------------------------------------------------ */

/* One more piece copied out (or failed): the last one checks the object. */
static void piece_copied(struct copy_pipe *pp)
{
	if (atomic_fetch_sub(&pp->left, 1) == 1)
		read_complete(pp->kr, atomic_load(&pp->err), true, pipe_crc(pp));
}

static void piece_copy_out(struct work_job *j)
{
	struct piece *pc = piece_of(j);
	struct copy_pipe *pp = pc->pp;
	struct key_req *kr = pp->kr;
	struct piece_span s;

	piece_span(kr->size, pp->voff, kr->vlen, pp->piece, pc->idx, &s);
	/* a failed read anywhere fails the GET: nothing more to copy */
	if (!atomic_load(&pp->err))
		pc->crc = crc32c_copy(0, (uint8_t *)kr->buf.base + s.vstart,
				      (uint8_t *)kr->staging + pp->voff + s.vstart, s.vlen);
	atomic_fetch_add(&kr->op->cache->st.piece_jobs, 1);
	piece_copied(pp);
}

static void piece_read_done(struct io_cmd *cmd, int res)
{
	struct piece *pc = cmd->arg;
	struct copy_pipe *pp = pc->pp;

	if (res < 0) {
		pipe_error(pp, res);
		piece_copied(pp);
		return;
	}
	pc->job.fn = piece_copy_out;
	workers_queue(pp->kr->op->cache->workers, &pc->job);
}

int pipe_read_start(struct fdpkv_cache *c, struct devctx *d, struct key_req *kr)
{
	struct copy_pipe *pp;
	struct piece_span s;
	uint32_t k, n;

	pp = pipe_new(kr, c->cfg.copy_piece_bytes,
		      obj_value_off(kr->klen, kr->flags, d->sb.lba_size));
	if (!pp)
		return -ENOMEM;
	atomic_init(&pp->holds, 1);	/* only the key's completion */
	kr->pipe = pp;
	/* once the last read is queued @pp may be gone: count on a copy */
	for (k = 0, n = pp->n; k < n; k++) {
		piece_span(kr->size, pp->voff, kr->vlen, pp->piece, k, &s);
		pp->p[k].cmd = (struct io_cmd){
			.op = IO_READ,
			.off = seg_base(d, kr->seg) + kr->off + s.off,
			.len = s.len,
			.buf = (uint8_t *)kr->staging + s.off,
			.done = piece_read_done,
			.arg = &pp->p[k],
		};
		engine_submit(d->eng, &pp->p[k].cmd);
	}
	return 0;
}
