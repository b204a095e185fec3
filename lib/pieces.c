// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pieces.c - a large bounced value moved in pieces (the copy path).
 *
 * A value whose buffer cannot go to the device directly (not 4 KiB aligned
 * or not whole LBAs) is bounced through a staging image of its object. For
 * an object larger than one piece (cfg.copy_piece_bytes, 1 MiB by default)
 * the image is cut into pieces at piece boundaries of the image, and each
 * piece is copied and checksummed by the cache's copy workers (workers.c)
 * and moved by a command of its own.
 *
 * Only PIPE_RING pieces of a value are staged at a time: the staging
 * buffer is the header's piece (piece 0, kept to the end: its header is
 * encoded last on SET and checked last on GET) and a ring of PIPE_RING
 * piece-sized slots that pieces 1.. take in turn (slot_buf). A 32 MiB value
 * then needs 5 MiB of staging, not 32, and a piece is written (or copied
 * out) while its bytes are still in the CPU's cache.
 *
 *  SET  pieces 0..PIPE_RING are queued to the workers when the SET is
 *       submitted; the key reserves its slot at once, in submission order,
 *       as any SET. Piece k > 0 is written as soon as it is staged and the
 *       slot's write may go (write_submit); when its write completes, piece
 *       k + PIPE_RING is queued into the slot it freed. Piece 0, which holds
 *       the header, goes last, once every other piece is written and their
 *       crcs are combined into the header's value crc (crc32c_combine: the
 *       format keeps one crc per value), and not at all once a piece's
 *       write failed. So a power cut or a failed write can leave a value
 *       without its header, never a header over a value not yet written
 *       (waiting for the pieces to be staged only, a header could go while
 *       the ring's last writes were in flight); the write is
 *       acknowledged when every piece is, in offset order as before
 *       (write.c).
 *  GET  the reads of pieces 0..PIPE_RING are issued at once; as each
 *       completes, a worker copies its value bytes to the caller's buffer
 *       and checksums them in the same pass, then reads piece k + PIPE_RING
 *       into the slot; when the last is done the header, key and combined
 *       crc are checked. A damaged value is a miss (-ENOENT,
 *       corrupt_objects), as on every path, never a partial value; the
 *       caller's buffer may have been written then (fdpkv.h).
 *  SET from the caller's buffer (an aligned value, kr->arena): nothing is
 *       staged but the head; every value piece is checksummed by a worker
 *       and written from the caller's buffer, the head last, as above. The
 *       caller's thread no longer checksums the whole value inside its
 *       submit: 1.2 ms for 32 MiB, 20 ms for a batch of 16 such chunks.
 *  GET straight into the caller's buffer (an aligned value, kr->arena):
 *       nothing is staged but the head (header, key, zeros to the value's
 *       LBA), piece 0; pieces 1.. are the value's, each read by a command
 *       of its own into its place in the caller's buffer, all at once, and
 *       each checksummed by a worker as soon as it lands, while its bytes
 *       are still in the CPU's cache. Read in one command, the whole value
 *       was checksummed after its last byte came, out of DRAM: a 32 MiB
 *       crc then took a millisecond, after the read, and as much memory
 *       traffic again where the kernel copies (issue 12: GETs at 2 threads
 *       0.68-0.73 of raw on tmpfs, 0.99-1.03 without the crc). Where a
 *       read is a copy from memory (read_nowait: tmpfs, the page cache)
 *       the workers read the pieces themselves, each checksumming what it
 *       just copied.
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

uint64_t pipe_staging_bytes(uint64_t size, uint64_t piece)
{
	return MIN(size, (PIPE_RING + 1) * piece);
}

bool pipe_wanted(const struct fdpkv_cache *c, const struct key_req *kr, uint32_t lba)
{
	uint64_t piece = c->cfg.copy_piece_bytes;

	/* header and key in piece 0, which stays staged to the end */
	return c->workers && !kr->arena && kr->vlen && piece && piece % lba == 0 &&
	       kr->size > piece && OBJ_HDR_SIZE + (uint64_t)kr->klen <= piece;
}

static struct copy_pipe *pipe_new(struct key_req *kr, uint64_t piece, uint64_t voff,
				   uint32_t n, bool direct)
{
	struct copy_pipe *pp = calloc(1, sizeof(*pp) + n * sizeof(pp->p[0]));
	uint32_t k;

	if (!pp)
		return NULL;
	pp->kr = kr;
	pp->piece = piece;
	pp->voff = voff;
	pp->n = n;
	pp->direct = direct;
	atomic_init(&pp->left, n);
	atomic_init(&pp->err, 0);
	atomic_init(&pp->went, false);
	for (k = 0; k < n; k++) {
		pp->p[k].pp = pp;
		pp->p[k].idx = k;
	}
	return pp;
}

/*
 * @kr's staging of @staging bytes and its pipe of @n pieces, the value at
 * @voff; NULL when either allocation fails (-ENOMEM: key_done returns the
 * staging buffer).
 */
static struct copy_pipe *pipe_staged(struct fdpkv_cache *c, struct key_req *kr,
				     uint64_t staging, uint64_t voff, uint32_t n, bool direct)
{
	kr->staging = staging_get(c, staging, &kr->staging_cap);
	if (!kr->staging)
		return NULL;
	return pipe_new(kr, c->cfg.copy_piece_bytes, voff, n, direct);
}

/* Pieces staged (SET) or read (GET) at once: piece 0 and the ring's, or
 * every piece where none is staged. */
static uint32_t ring_first(const struct copy_pipe *pp)
{
	return pp->direct ? pp->n : MIN(pp->n, PIPE_RING + 1);
}

/*
 * Where piece @k of @pp lies: in the image (struct piece_span); read
 * direct, piece 0 is the head and piece k > 0 the value's bytes
 * [(k - 1) * piece, k * piece), as the image ends where the value does.
 */
static void pipe_span(const struct copy_pipe *pp, uint32_t k, struct piece_span *s)
{
	const struct key_req *kr = pp->kr;

	if (!pp->direct) {
		piece_span(kr->size, pp->voff, kr->vlen, pp->piece, k, s);
		return;
	}
	if (!k) {
		*s = (struct piece_span){ .off = 0, .len = pp->voff };
		return;
	}
	s->vstart = (uint64_t)(k - 1) * pp->piece;
	s->vlen = MIN(pp->piece, kr->vlen - s->vstart);
	s->off = pp->voff + s->vstart;
	s->len = s->vlen;
}

/* Where piece @k lies while staged: piece 0 at the start, then the ring. */
static uint8_t *slot_buf(const struct copy_pipe *pp, uint32_t k)
{
	uint64_t slot = k ? 1 + (k - 1) % PIPE_RING : 0;

	return (uint8_t *)pp->kr->staging + slot * pp->piece;
}

/* The value crc of the whole object from its pieces' crcs, in order. */
static uint32_t pipe_crc(const struct copy_pipe *pp)
{
	struct piece_span s;
	uint32_t crc = 0, k;

	for (k = 0; k < pp->n; k++) {
		pipe_span(pp, k, &s);
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

static void piece_stage(struct work_job *j);
static void head_job(struct work_job *j);

/*
 * One of the head's gates falls; the last lets the head go from a worker:
 * never from the device thread, nor under the cache lock, where a piece's
 * failure would complete the key (write_complete takes that lock).
 */
static void head_gate_drop(struct copy_pipe *pp)
{
	if (atomic_fetch_sub(&pp->p[0].gate, 1) == 1) {
		pp->p[0].job.fn = head_job;	/* piece 0's staging job is over */
		workers_queue(pp->kr->op->cache->workers, &pp->p[0].job);
	}
}

/*
 * Piece @pc's write is over (or skipped): its slot takes the piece after
 * the ring's; the last of the value's lets the head go; the last write
 * completes the key.
 */
static void piece_written(struct copy_pipe *pp, struct piece *pc, int res)
{
	struct key_req *kr = pp->kr;
	uint32_t next = pc->idx + PIPE_RING;

	pipe_error(pp, res);
	if (!pp->direct && pc->idx && next < pp->n) {
		pp->p[next].job.fn = piece_stage;
		workers_queue(kr->op->cache->workers, &pp->p[next].job);
	}
	if (pc->idx)
		head_gate_drop(pp);
	if (atomic_fetch_sub(&pp->ios, 1) == 1)
		write_complete(kr, atomic_load(&pp->err));
}

static void piece_write_done(struct io_cmd *cmd, int res)
{
	struct piece *pc = cmd->arg;

	piece_written(pc->pp, pc, res);
}

/*
 * Write piece @pc from its slot. Once a piece's write failed the rest is
 * not written (the key fails with that error), the header above all: that
 * skip only happens on a worker, as no write fails before write_submit
 * lets the first go, so never under the cache lock write_complete takes.
 */
static void piece_write(struct copy_pipe *pp, struct piece *pc)
{
	struct key_req *kr = pp->kr;
	struct devctx *d = &kr->op->cache->devs[kr->dev];
	struct piece_span s;

	if (atomic_load(&pp->err)) {
		piece_written(pp, pc, 0);
		return;
	}
	pipe_span(pp, pc->idx, &s);
	pc->cmd = (struct io_cmd){
		.op = IO_WRITE,
		.pid = pp->pid,
		.dsync = pp->dsync,
		.off = pp->base + s.off,
		.len = s.len,
		.buf = slot_buf(pp, pc->idx),
		.done = piece_write_done,
		.arg = pc,
	};
	if (pp->direct && pc->idx) {
		/* all of it the caller's buffer (struct io_cmd: split 0) */
		pc->cmd.buf = (uint8_t *)pp->src + s.vstart;
		pc->cmd.buf2 = pc->cmd.buf;
		pc->cmd.arena = kr->arena;
	}
	engine_submit(d->eng, &pc->cmd);
}

/*
 * Every piece is staged, the write may go, and every other piece is
 * written: the header, then piece 0.
 */
static void head_write(struct copy_pipe *pp)
{
	struct key_req *kr = pp->kr;

	if (!atomic_load(&pp->err)) {
		kr->vcrc = pipe_crc(pp);
		obj_stage_header(&kr->op->cache->devs[kr->dev], kr, pp->seg_seq);
	}
	piece_write(pp, &pp->p[0]);
}

static void head_job(struct work_job *j)
{
	head_write(piece_of(j)->pp);
}

/* Release one of the two holds on the key's completion (struct copy_pipe). */
static void pipe_release(struct key_req *kr)
{
	struct copy_pipe *pp = kr->pipe;

	if (atomic_fetch_sub(&pp->holds, 1) == 1)
		key_finish(kr, pp->status, pp->vlen);
}

/* Copy and checksum piece @pc's value bytes into its slot, zeros after the
 * value's end; piece 0's header and key are there already. */
static void piece_fill(struct copy_pipe *pp, struct piece *pc)
{
	struct key_req *kr = pp->kr;
	uint64_t vend = pp->voff + kr->vlen, z;
	uint8_t *b = slot_buf(pp, pc->idx);
	struct piece_span s;

	if (pp->direct) {
		/* written from the caller's buffer: only its crc; the head is staged */
		pipe_span(pp, pc->idx, &s);
		if (s.vlen)
			pc->crc = crc32c(0, pp->src + s.vstart, s.vlen);
		return;
	}
	piece_span(kr->size, pp->voff, kr->vlen, pp->piece, pc->idx, &s);
	if (s.vlen)
		pc->crc = crc32c_copy(0, b + (pp->voff + s.vstart - s.off), pp->src + s.vstart,
				      s.vlen);
	if (s.off + s.len > vend) {
		z = MAX(vend, s.off) - s.off;
		memset(b + z, 0, s.len - z);
	}
}

static void piece_stage(struct work_job *j)
{
	struct piece *pc = piece_of(j);
	struct copy_pipe *pp = pc->pp;
	struct key_req *kr = pp->kr;

	/* a failed write anywhere fails the SET: nothing more to copy */
	if (!atomic_load(&pp->err))
		piece_fill(pp, pc);
	atomic_fetch_add(pp->direct ? &kr->op->cache->st.set_crc_jobs
				    : &kr->op->cache->st.piece_jobs, 1);
	if (pc->idx && !pp->direct && atomic_fetch_sub(&pc->gate, 1) == 1)
		piece_write(pp, pc);
	if (atomic_fetch_sub(&pp->p[0].gate, 1) == 1)
		head_write(pp);
	/* last: after this the key may complete and @pp be freed */
	if (atomic_fetch_sub(&pp->left, 1) == 1)
		pipe_release(kr);
}

/*
 * A SET's pipe @pp of @value is set up: arm its gates and queue the pieces
 * staged first (the ring's, or every one where none is staged); the others
 * follow as the ring's writes free their slots.
 */
static void pipe_set_queue(struct fdpkv_cache *c, struct key_req *kr, struct copy_pipe *pp,
			   const void *value)
{
	uint32_t k;

	pp->src = value;
	/* staging and the key's completion: key_finish once both let go */
	atomic_init(&pp->holds, 2);
	/*
	 * Piece k > 0: staged, and the write may go; written from the
	 * caller's buffer (direct), only the write allowed: its crc runs
	 * beside the write, which reads the same bytes meanwhile (one of the
	 * two finds them in the shared cache). Piece 0 waits for every piece
	 * staged, the write allowed and every other piece written: a header
	 * on the device always lies over a value written whole (a power cut
	 * or a failed write leaves no header), whatever order the device
	 * completes the pieces in, and holds the crc of every piece.
	 */
	atomic_init(&pp->p[0].gate, 2 * pp->n);
	for (k = 1; k < pp->n; k++)
		atomic_init(&pp->p[k].gate, pp->direct ? 1 : 2);
	kr->pipe = pp;
	for (k = 0; k < ring_first(pp); k++) {
		pp->p[k].job.fn = piece_stage;
		workers_queue(c->workers, &pp->p[k].job);
	}
}

int pipe_stage_start(struct fdpkv_cache *c, struct key_req *kr, const void *value)
{
	uint64_t piece = c->cfg.copy_piece_bytes;
	struct copy_pipe *pp;

	pp = pipe_staged(c, kr, pipe_staging_bytes(kr->size, piece), OBJ_HDR_SIZE + kr->klen,
			 piece_count(kr->size, piece), false);
	if (!pp)
		return -ENOMEM;
	memcpy((uint8_t *)kr->staging + OBJ_HDR_SIZE, kr->key, kr->klen);
	pipe_set_queue(c, kr, pp, value);
	return 0;
}

int pipe_direct_stage_start(struct fdpkv_cache *c, struct key_req *kr, const void *value)
{
	uint64_t head = staged_bytes(kr), used = OBJ_HDR_SIZE + kr->klen;
	uint64_t piece = c->cfg.copy_piece_bytes;
	struct copy_pipe *pp;

	pp = pipe_staged(c, kr, head, head, 1 + piece_count(kr->vlen, piece), true);
	if (!pp)
		return -ENOMEM;
	memcpy((uint8_t *)kr->staging + OBJ_HDR_SIZE, kr->key, kr->klen);
	memset((uint8_t *)kr->staging + used, 0, head - used);
	pipe_set_queue(c, kr, pp, value);
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
	atomic_store(&pp->went, true);
	for (k = 1; k < pp->n; k++)
		if (atomic_fetch_sub(&pp->p[k].gate, 1) == 1)
			piece_write(pp, &pp->p[k]);
	/* every other piece may have been written already, meanwhile */
	head_gate_drop(pp);
}

bool pipe_key_done(struct key_req *kr, int status, uint64_t vlen)
{
	struct copy_pipe *pp = kr->pipe;
	uint32_t unqueued = pp->n - ring_first(pp);
	unsigned int drop = 1;

	pp->status = status;
	pp->vlen = vlen;
	/*
	 * A SET that fails before its write went (no room, -ENOSPC...) never
	 * frees a ring slot: the pieces never queued count as staged now,
	 * which may end the staging too. A GET has no write (went stays
	 * false) but stages nothing: it only holds its completion.
	 */
	if (pp->src && !atomic_load(&pp->went) && unqueued &&
	    atomic_fetch_sub(&pp->left, unqueued) == unqueued)
		drop++;
	return atomic_fetch_sub(&pp->holds, drop) == drop;
}

/* ---- GET ------------------------------------------------------------------ */

static void piece_read_done(struct io_cmd *cmd, int res);

static void piece_read(struct copy_pipe *pp, struct piece *pc)
{
	struct key_req *kr = pp->kr;
	struct piece_span s;

	pipe_span(pp, pc->idx, &s);
	pc->cmd = (struct io_cmd){
		.op = IO_READ,
		.off = pp->base + s.off,
		.len = s.len,
		.buf = pp->direct ? kr->staging : slot_buf(pp, pc->idx),
		.done = piece_read_done,
		.arg = pc,
	};
	if (pp->direct && pc->idx) {
		/* all of it the caller's buffer (struct io_cmd: split 0) */
		pc->cmd.buf = (uint8_t *)kr->buf.base + s.vstart;
		pc->cmd.buf2 = pc->cmd.buf;
		pc->cmd.arena = kr->arena;
	}
	engine_submit(kr->op->cache->devs[kr->dev].eng, &pc->cmd);
}

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
	uint32_t next = pc->idx + PIPE_RING;
	struct piece_span s;

	pipe_span(pp, pc->idx, &s);
	/* a failed read anywhere fails the GET: nothing more to copy */
	if (!atomic_load(&pp->err) && s.vlen)
		pc->crc = crc32c_copy(0, (uint8_t *)kr->buf.base + s.vstart,
				      slot_buf(pp, pc->idx) + (pp->voff + s.vstart - s.off),
				      s.vlen);
	atomic_fetch_add(&kr->op->cache->st.piece_jobs, 1);
	/* the slot is free: the ring's next piece (this one still counts, so
	 * @pp stays) */
	if (pc->idx && next < pp->n)
		piece_read(pp, &pp->p[next]);
	piece_copied(pp);
}

/* A worker checksums a value piece read straight into the caller's buffer. */
static void piece_check(struct work_job *j)
{
	struct piece *pc = piece_of(j);
	struct copy_pipe *pp = pc->pp;
	struct key_req *kr = pp->kr;
	struct piece_span s;

	pipe_span(pp, pc->idx, &s);
	if (!atomic_load(&pp->err))
		pc->crc = crc32c(0, (const uint8_t *)kr->buf.base + s.vstart, s.vlen);
	atomic_fetch_add(&kr->op->cache->st.crc_jobs, 1);
	piece_copied(pp);
}

/*
 * A worker reads piece @pc itself where that is a copy from memory
 * (read_nowait) and checksums the value's bytes right after, from its own
 * cache: FETCH_BLOCK at a time, so that what it checksums is still in the
 * core's L2 (1 MiB on the EPYC we measure on, shared with the kernel's
 * source pages); otherwise the device reads it and a worker checksums it
 * when it lands (piece_read_done).
 */
#define FETCH_BLOCK	(256u << 10)

static void piece_fetch(struct work_job *j)
{
	struct piece *pc = piece_of(j);
	struct copy_pipe *pp = pc->pp;
	struct key_req *kr = pp->kr;
	struct fdpkv_cache *c = kr->op->cache;
	struct fdpkv_dev *dev = &c->devs[kr->dev].dev;
	struct piece_span s;
	uint32_t crc = 0;
	uint64_t o, n;
	uint8_t *buf;

	pipe_span(pp, pc->idx, &s);
	buf = pc->idx ? (uint8_t *)kr->buf.base + s.vstart : kr->staging;
	if (atomic_load(&pp->err)) {
		piece_copied(pp);	/* a read failed: the GET fails, nothing to check */
		return;
	}
	for (o = 0; o < s.len; o += n) {
		n = MIN((uint64_t)FETCH_BLOCK, s.len - o);
		if (!dev->ops->read_nowait(dev, buf + o, n, pp->base + s.off + o)) {
			/* @pc's job is free again: its completion takes it */
			piece_read(pp, pc);
			return;
		}
		if (pc->idx && o < s.vlen)
			crc = crc32c(crc, buf + o, MIN(n, s.vlen - o));
	}
	atomic_fetch_add(&c->st.worker_reads, 1);
	if (pc->idx) {
		pc->crc = crc;
		atomic_fetch_add(&c->st.crc_jobs, 1);
	}
	piece_copied(pp);
}

static void piece_read_done(struct io_cmd *cmd, int res)
{
	struct piece *pc = cmd->arg;
	struct copy_pipe *pp = pc->pp;

	pipe_error(pp, res);
	if (pp->direct && !pc->idx) {
		/* the head: checked with the rest, by the last piece */
		piece_copied(pp);
		return;
	}
	/* copied out or not, the job frees the slot for the next piece */
	pc->job.fn = pp->direct ? piece_check : piece_copy_out;
	workers_queue(pp->kr->op->cache->workers, &pc->job);
}

/*
 * A GET's pipe @pp is set up: start the pieces read first (the ring's, or
 * every one read direct), by the workers where a read is a copy from
 * memory (read_nowait), else by the device.
 */
static void pipe_read_go(struct fdpkv_cache *c, struct devctx *d, struct key_req *kr,
			 struct copy_pipe *pp)
{
	bool fetch = pp->direct && d->dev.ops->read_nowait;
	uint32_t k, n;

	atomic_init(&pp->holds, 1);	/* only the key's completion */
	pp->base = seg_base(d, kr->seg) + kr->off;
	kr->pipe = pp;
	/* once the last is started @pp may be gone: count on a copy */
	for (k = 0, n = ring_first(pp); k < n; k++) {
		if (fetch) {
			pp->p[k].job.fn = piece_fetch;
			workers_queue(c->workers, &pp->p[k].job);
		} else {
			piece_read(pp, &pp->p[k]);
		}
	}
}

bool pipe_direct_wanted(const struct fdpkv_cache *c, const struct key_req *kr, uint32_t lba)
{
	uint64_t piece = c->cfg.copy_piece_bytes;

	return c->workers && kr->arena && piece && piece % lba == 0 && kr->vlen > piece &&
	       staged_bytes(kr) + kr->vlen == kr->size;
}

int pipe_direct_read_start(struct fdpkv_cache *c, struct devctx *d, struct key_req *kr)
{
	uint64_t piece = c->cfg.copy_piece_bytes;
	struct copy_pipe *pp;

	pp = pipe_staged(c, kr, staged_bytes(kr), staged_bytes(kr),
			 1 + piece_count(kr->vlen, piece), true);
	if (!pp)
		return -ENOMEM;
	pipe_read_go(c, d, kr, pp);
	return 0;
}

int pipe_read_start(struct fdpkv_cache *c, struct devctx *d, struct key_req *kr)
{
	uint64_t piece = c->cfg.copy_piece_bytes;
	struct copy_pipe *pp;

	pp = pipe_staged(c, kr, pipe_staging_bytes(kr->size, piece),
			 obj_value_off(kr->klen, kr->flags, d->sb.lba_size),
			 piece_count(kr->size, piece), false);
	if (!pp)
		return -ENOMEM;
	pipe_read_go(c, d, kr, pp);
	return 0;
}
