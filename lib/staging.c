// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * staging.c - staging buffers: the LBA-aligned image of an object written or
 * read, kept in a pool for reuse, and with an arena how much of an object
 * passes through it (the head) and where the caller's part begins.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define STAGING_POOL_BYTES	(512ull << 20)

/*
 * Staging buffers are reused: values are hundreds of KiB to MiB, so each
 * fresh allocation is an mmap (or a heap that grew after a trim) whose pages
 * all fault on first touch; bench_lib measured that at about half of the
 * SET/GET time on tmpfs. The pool keeps up to STAGING_KEEP buffers and
 * STAGING_POOL_BYTES (enough for LMCache's chunks bounced at bench/run.sh's
 * depths: 8 x 32 MiB or 4 x 80 MiB plus headers; 256 MiB left one 32 MiB
 * buffer in eight to fault in afresh; a value moved in pieces needs only
 * piece 0 and the ring, pipe_staging_bytes); a buffer is reused for a request needing at most its
 * size and at least 4/5 of it (a batch usually has one size).
 */
void *staging_get(struct fdpkv_cache *c, uint64_t size, uint64_t *cap)
{
	struct staging_pool *sp = &c->pool;
	void *p = NULL;
	unsigned int i;

	pthread_mutex_lock(&sp->lock);
	for (i = sp->n; i-- > 0;) {
		if (sp->slot[i].cap >= size && sp->slot[i].cap - size <= size / 4) {
			p = sp->slot[i].p;
			*cap = sp->slot[i].cap;
			sp->bytes -= *cap;
			sp->slot[i] = sp->slot[--sp->n];
			break;
		}
	}
	pthread_mutex_unlock(&sp->lock);
	if (p)
		return p;
	if (posix_memalign(&p, STAGING_ALIGN, size))
		return NULL;
	*cap = size;
	return p;
}

void staging_put(struct fdpkv_cache *c, void *p, uint64_t cap)
{
	struct staging_pool *sp = &c->pool;

	if (!p)
		return;
	pthread_mutex_lock(&sp->lock);
	if (sp->n < STAGING_KEEP && sp->bytes + cap <= STAGING_POOL_BYTES) {
		sp->slot[sp->n].p = p;
		sp->slot[sp->n++].cap = cap;
		sp->bytes += cap;
		p = NULL;
	}
	pthread_mutex_unlock(&sp->lock);
	free(p);
}

void staging_pool_destroy(struct staging_pool *sp)
{
	while (sp->n)
		free(sp->slot[--sp->n].p);
	pthread_mutex_destroy(&sp->lock);
}
/* Bytes of @kr's object that pass through its staging buffer: all of
 * them, or with an arena only the head in front of the value. */
uint64_t staged_bytes(const struct key_req *kr)
{
	return kr->size - (kr->arena ? kr->vlen : 0);
}

/* With an arena, the part of @kr's command after the head is the caller's
 * buffer (struct io_cmd: buf2). */
void cmd_value_part(struct key_req *kr)
{
	if (!kr->arena)
		return;
	kr->cmd.buf2 = kr->buf.base;
	kr->cmd.split = staged_bytes(kr);
	kr->cmd.arena = kr->arena;
}
/*
 * Stage @kr's object image: header room, key, then the value and zeros to
 * the LBA end; with an arena only the head (header, key, zeros to the value's
 * LBA boundary), as the value goes out from the caller's buffer.
 */
int stage_object(struct fdpkv_cache *c, struct key_req *kr, const void *value)
{
	uint64_t head = staged_bytes(kr);
	uint64_t used = OBJ_HDR_SIZE + kr->klen;
	uint8_t *p;

	kr->staging = staging_get(c, head, &kr->staging_cap);
	if (!kr->staging)
		return -ENOMEM;
	p = kr->staging;
	memcpy(p + OBJ_HDR_SIZE, kr->key, kr->klen);
	if (kr->vlen && !kr->arena) {
		kr->vcrc = crc32c_copy(0, p + used, value, kr->vlen);
		used += kr->vlen;
	} else {
		kr->vcrc = crc32c(0, value, kr->vlen);
	}
	memset(p + used, 0, head - used);
	return 0;
}
