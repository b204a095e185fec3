// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * arena.c - caller memory registered for copy-free values
 * (fdpkv_register_arena).
 *
 * A value normally goes through a staging buffer: its header precedes it on
 * the device and the caller's buffer may have any alignment. A value that
 * lies in a registered arena, starts on a 4 KiB boundary and is a whole
 * number of LBAs is stored instead with its header in a block of its own
 * (OBJ_F_ALIGNED), so the device reads and writes it in place; the arena is
 * an io_uring fixed buffer in every device's ring, so its pages are pinned
 * once instead of on every command.
 *
 * A buffer outside every arena that is just as aligned (4 KiB, whole LBAs)
 * takes the same path with its plain address (user_direct below): the copy
 * and the staging memory cost more than the device's pinning the pages per
 * command (bench_lib: the copy path read 32 MiB values at a fraction of the
 * raw loop's speed). Only misaligned buffers are bounced.
 */
#include <errno.h>
#include <stdlib.h>

#include "cache.h"

/* What O_DIRECT and NVMe PRPs accept on every device we drive. */
#define ARENA_BUF_ALIGN		4096u

/*
 * Any aligned buffer outside the arenas: not fixed, so the engine sends its
 * plain address (engine.c arena_part); never registered or freed, and its
 * user count means nothing (shared by every cache).
 */
static struct arena user_direct = { .fixed = false, .ready = true };

struct arena *arena_get(struct fdpkv_cache *c, const struct devctx *d, const void *base,
			uint64_t len)
{
	const uint8_t *p = base;
	struct arena *found = NULL;
	unsigned int i;

	if (!len || len % d->sb.lba_size)
		return NULL;
	/* no DMA reads it where the kernel copies: bouncing would copy twice */
	if ((uintptr_t)p % ARENA_BUF_ALIGN)
		return d->dev.geo.any_align ? &user_direct : NULL;
	pthread_mutex_lock(&c->arena_lock);
	for (i = 0; i < ARENA_MAX; i++) {
		struct arena *a = c->arenas[i];

		if (a && a->ready && p >= a->base && len <= a->len &&
		    (uint64_t)(p - a->base) <= a->len - len) {
			atomic_fetch_add(&a->users, 1);
			found = a;
			break;
		}
	}
	pthread_mutex_unlock(&c->arena_lock);
	return found ? found : &user_direct;
}

void arena_put(struct arena *a)
{
	if (a && a != &user_direct)
		atomic_fetch_sub(&a->users, 1);
}

/* First run of @n free ring slots, or UINT32_MAX. arena_lock held. */
static uint32_t slots_find(const struct fdpkv_cache *c, uint32_t n)
{
	uint32_t start = 0;
	bool moved = true;
	unsigned int i;

	while (moved) {
		moved = false;
		for (i = 0; i < ARENA_MAX; i++) {
			const struct arena *a = c->arenas[i];

			if (a && start < a->first_slot + a->nslots && a->first_slot < start + n) {
				start = a->first_slot + a->nslots;
				moved = true;
			}
		}
	}
	return start + n <= ARENA_PROBE_SLOT ? start : UINT32_MAX;
}

FDPKV_PUBLIC int fdpkv_register_arena(struct fdpkv_cache *c, void *base, size_t len)
{
	uint8_t *p = base;
	struct arena *a;
	unsigned int i, d;
	int id = -1, ret;

	if (!c || !base || !len || (uintptr_t)p > UINTPTR_MAX - len)
		return -EINVAL;
	if (len > (uint64_t)ARENA_PROBE_SLOT * ARENA_SLOT_BYTES)
		return -ENOSPC;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->base = p;
	a->len = len;
	a->nslots = (uint32_t)((len + ARENA_SLOT_BYTES - 1) / ARENA_SLOT_BYTES);
	a->fixed = true;
	/*
	 * reg_lock orders registrations (slots, the engines' probe); the table
	 * lock is only held to claim and to publish, because SET and GET take
	 * it (arena_get) and must not wait while pages are pinned.
	 */
	pthread_mutex_lock(&c->arena_reg_lock);
	pthread_mutex_lock(&c->arena_lock);
	for (i = 0; i < ARENA_MAX; i++) {
		const struct arena *o = c->arenas[i];

		if (!o) {
			if (id < 0)
				id = (int)i;
		} else if (p < o->base + o->len && o->base < p + len) {
			ret = -EEXIST;
			goto unlock;
		}
	}
	ret = -ENOSPC;
	if (id < 0)
		goto unlock;
	a->first_slot = slots_find(c, a->nslots);
	if (a->first_slot == UINT32_MAX)
		goto unlock;
	c->arenas[id] = a;		/* claimed; arena_get skips it until ready */
	pthread_mutex_unlock(&c->arena_lock);

	for (d = 0; d < c->ndev; d++) {
		ret = engine_arena_add(c->devs[d].eng, a);
		if (ret)
			break;
	}
	pthread_mutex_lock(&c->arena_lock);
	if (ret) {
		c->arenas[id] = NULL;
		pthread_mutex_unlock(&c->arena_lock);
		while (d--)
			engine_arena_del(c->devs[d].eng, a);
		pthread_mutex_unlock(&c->arena_reg_lock);
		free(a);
		return ret;
	}
	a->ready = true;
	pthread_mutex_unlock(&c->arena_lock);
	pthread_mutex_unlock(&c->arena_reg_lock);
	return id;
unlock:
	pthread_mutex_unlock(&c->arena_lock);
	pthread_mutex_unlock(&c->arena_reg_lock);
	free(a);
	return ret;
}

FDPKV_PUBLIC int fdpkv_unregister_arena(struct fdpkv_cache *c, int id)
{
	struct arena *a;
	unsigned int d;

	if (!c || id < 0 || id >= ARENA_MAX)
		return -EINVAL;
	pthread_mutex_lock(&c->arena_reg_lock);
	pthread_mutex_lock(&c->arena_lock);
	a = c->arenas[id];
	if (!a || !a->ready || atomic_load(&a->users)) {
		pthread_mutex_unlock(&c->arena_lock);
		pthread_mutex_unlock(&c->arena_reg_lock);
		return a && a->ready ? -EBUSY : -ENOENT;
	}
	c->arenas[id] = NULL;		/* no arena_get finds it from now on */
	pthread_mutex_unlock(&c->arena_lock);
	/* under reg_lock: the slots are empty before anyone claims them again */
	for (d = 0; d < c->ndev; d++)
		engine_arena_del(c->devs[d].eng, a);
	pthread_mutex_unlock(&c->arena_reg_lock);
	free(a);
	return 0;
}

void arenas_free(struct fdpkv_cache *c)
{
	unsigned int i;

	for (i = 0; i < ARENA_MAX; i++) {
		free(c->arenas[i]);
		c->arenas[i] = NULL;
	}
}
