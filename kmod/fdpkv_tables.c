// SPDX-License-Identifier: GPL-2.0
/*
 * Placement-handle grants and LBA leases of one namespace.
 *
 * Callers hold the namespace's lock; nothing here sleeps or allocates.
 */
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/string.h>

#include "fdpkv_tables.h"

void fdpkv_ph_table_init(struct fdpkv_ph_table *t, const u16 *pids, unsigned int nr)
{
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->nr = min_t(unsigned int, nr, FDPKV_MAX_PIDS);
	for (i = 0; i < t->nr; i++)
		t->slot[i].pid = pids[i];
}

struct fdpkv_ph_slot *fdpkv_ph_find(struct fdpkv_ph_table *t, u16 pid)
{
	unsigned int i;

	for (i = 0; i < t->nr; i++)
		if (t->slot[i].pid == pid)
			return &t->slot[i];
	return NULL;
}

bool fdpkv_ph_held_by(const struct fdpkv_ph_slot *s, const void *owner)
{
	unsigned int i;

	for (i = 0; i < s->nr_holders; i++)
		if (s->holders[i] == owner)
			return true;
	return false;
}

/* A slot @owner may take: free and exclusive, or shared with room left. */
static bool fdpkv_ph_takeable(const struct fdpkv_ph_slot *s, const void *owner, bool shared)
{
	if (s->shared != shared)
		return false;
	if (!shared)
		return s->nr_holders == 0;
	return s->nr_holders < FDPKV_MAX_SHARERS && !fdpkv_ph_held_by(s, owner);
}

/**
 * fdpkv_ph_alloc - grant @count handles to @owner, all or none
 * @t: the namespace's handle table
 * @owner: the open file
 * @count: 1..FDPKV_PH_BATCH
 * @flags: FDPKV_PH_SHARED to take handles an admin marked shared
 * @pids: filled with the granted placement ids
 *
 * Return: 0, -EINVAL (count, flags), -ENOSPC (fewer than @count takeable).
 */
int fdpkv_ph_alloc(struct fdpkv_ph_table *t, const void *owner, unsigned int count,
		   u32 flags, u16 *pids)
{
	bool shared = flags & FDPKV_PH_SHARED;
	unsigned int i, n = 0;

	if (!count || count > FDPKV_PH_BATCH || (flags & ~FDPKV_PH_SHARED))
		return -EINVAL;
	for (i = 0; i < t->nr; i++)
		n += fdpkv_ph_takeable(&t->slot[i], owner, shared);
	if (n < count)
		return -ENOSPC;
	for (i = 0, n = 0; i < t->nr && n < count; i++) {
		struct fdpkv_ph_slot *s = &t->slot[i];

		if (!fdpkv_ph_takeable(s, owner, shared))
			continue;
		s->holders[s->nr_holders++] = owner;
		pids[n++] = s->pid;
	}
	return 0;
}

static void fdpkv_ph_drop_holder(struct fdpkv_ph_slot *s, const void *owner)
{
	unsigned int i;

	for (i = 0; i < s->nr_holders; i++) {
		if (s->holders[i] != owner)
			continue;
		s->holders[i] = s->holders[--s->nr_holders];
		s->holders[s->nr_holders] = NULL;
		return;
	}
}

/**
 * fdpkv_ph_free - return handles @owner holds, all or none
 *
 * Return: 0, -EINVAL (count, or a handle @owner does not hold, listed twice
 * or unknown: then nothing is freed).
 */
int fdpkv_ph_free(struct fdpkv_ph_table *t, const void *owner, unsigned int count,
		  const u16 *pids)
{
	unsigned int i, j;

	if (!count || count > FDPKV_PH_BATCH)
		return -EINVAL;
	for (i = 0; i < count; i++) {
		struct fdpkv_ph_slot *s = fdpkv_ph_find(t, pids[i]);

		if (!s || !fdpkv_ph_held_by(s, owner))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (pids[j] == pids[i])
				return -EINVAL;
	}
	for (i = 0; i < count; i++)
		fdpkv_ph_drop_holder(fdpkv_ph_find(t, pids[i]), owner);
	return 0;
}

/* Return: 0, -ENOENT (no such handle), -EBUSY (granted right now). */
int fdpkv_ph_set_shared(struct fdpkv_ph_table *t, u16 pid, bool shared)
{
	struct fdpkv_ph_slot *s = fdpkv_ph_find(t, pid);

	if (!s)
		return -ENOENT;
	if (s->nr_holders)
		return -EBUSY;
	s->shared = shared;
	return 0;
}

/* Return every handle @owner holds; returns how many. */
unsigned int fdpkv_ph_release_owner(struct fdpkv_ph_table *t, const void *owner)
{
	unsigned int i, n = 0;

	for (i = 0; i < t->nr; i++) {
		if (fdpkv_ph_held_by(&t->slot[i], owner)) {
			fdpkv_ph_drop_holder(&t->slot[i], owner);
			n++;
		}
	}
	return n;
}

/* Handles granted to at least one file. */
unsigned int fdpkv_ph_granted(const struct fdpkv_ph_table *t)
{
	unsigned int i, n = 0;

	for (i = 0; i < t->nr; i++)
		n += t->slot[i].nr_holders != 0;
	return n;
}

void fdpkv_lease_table_init(struct fdpkv_lease_table *t, u64 capacity)
{
	memset(t, 0, sizeof(*t));
	t->capacity = capacity;
	t->next_id = 1;
}

static bool fdpkv_extents_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	/* both ends were checked against the capacity, so no overflow here */
	return a < b + blen && b < a + alen;
}

/**
 * fdpkv_lease_acquire - lease [@slba, @slba + @nlb) to @owner
 * @flags: FDPKV_LEASE_SHARED: may overlap other shared leases
 * @id: set to the new lease's id (never 0)
 *
 * Return: 0, -EINVAL (nlb 0, flags), -ERANGE (beyond the namespace),
 * -EBUSY (overlaps an exclusive lease, or is exclusive and overlaps any),
 * -ENOSPC (table full).
 */
int fdpkv_lease_acquire(struct fdpkv_lease_table *t, const void *owner, u64 slba, u64 nlb,
			u32 flags, u32 *id)
{
	struct fdpkv_lease_slot *free_slot = NULL;
	u64 end;
	unsigned int i;

	if (!nlb || (flags & ~FDPKV_LEASE_SHARED))
		return -EINVAL;
	if (check_add_overflow(slba, nlb, &end) || end > t->capacity)
		return -ERANGE;
	for (i = 0; i < FDPKV_MAX_LEASES; i++) {
		struct fdpkv_lease_slot *s = &t->slot[i];

		if (!s->id) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (!fdpkv_extents_overlap(slba, nlb, s->slba, s->nlb))
			continue;
		if (!(flags & FDPKV_LEASE_SHARED) || !(s->flags & FDPKV_LEASE_SHARED))
			return -EBUSY;
	}
	if (!free_slot)
		return -ENOSPC;
	free_slot->id = t->next_id++;
	if (!t->next_id)	/* 0 marks a free slot */
		t->next_id = 1;
	free_slot->flags = flags;
	free_slot->slba = slba;
	free_slot->nlb = nlb;
	free_slot->owner = owner;
	t->nr++;
	*id = free_slot->id;
	return 0;
}

/* Return: 0, -ENOENT (@owner holds no lease @id). */
int fdpkv_lease_release(struct fdpkv_lease_table *t, const void *owner, u32 id)
{
	unsigned int i;

	if (!id)
		return -ENOENT;
	for (i = 0; i < FDPKV_MAX_LEASES; i++) {
		struct fdpkv_lease_slot *s = &t->slot[i];

		if (s->id == id && s->owner == owner) {
			memset(s, 0, sizeof(*s));
			t->nr--;
			return 0;
		}
	}
	return -ENOENT;
}

unsigned int fdpkv_lease_release_owner(struct fdpkv_lease_table *t, const void *owner)
{
	unsigned int i, n = 0;

	for (i = 0; i < FDPKV_MAX_LEASES; i++) {
		struct fdpkv_lease_slot *s = &t->slot[i];

		if (s->id && s->owner == owner) {
			memset(s, 0, sizeof(*s));
			t->nr--;
			n++;
		}
	}
	return n;
}

/*
 * fdpkv_lease_covers - whether @owner's leases cover [@slba, @slba + @nlb)
 *
 * The extent may span adjacent leases of the same owner, so the covered
 * prefix is extended lease by lease until the end is reached or no lease
 * continues it. Overflowing extents are never covered.
 */
bool fdpkv_lease_covers(const struct fdpkv_lease_table *t, const void *owner, u64 slba,
			u64 nlb)
{
	u64 pos = slba, end;
	bool progress = true;
	unsigned int i;

	if (!nlb || check_add_overflow(slba, nlb, &end) || end > t->capacity)
		return false;
	while (pos < end && progress) {
		progress = false;
		for (i = 0; i < FDPKV_MAX_LEASES; i++) {
			const struct fdpkv_lease_slot *s = &t->slot[i];

			if (s->id && s->owner == owner && s->slba <= pos &&
			    pos < s->slba + s->nlb) {
				pos = s->slba + s->nlb;
				progress = true;
			}
		}
	}
	return pos >= end;
}
