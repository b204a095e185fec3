// SPDX-License-Identifier: GPL-2.0
/*
 * Placement-handle grants and LBA leases of one namespace, and the admin's
 * quotas on them.
 *
 * Callers hold the namespace's lock; nothing here sleeps or allocates, and
 * every function's work is bounded by the table sizes (FDPKV_MAX_PIDS
 * handles, FDPKV_MAX_LEASES leases).
 */
#include <linux/bitmap.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/string.h>

#include "fdpkv_tables.h"

void fdpkv_ph_table_init(struct fdpkv_ph_table *t, const u16 *pids, unsigned int nr)
{
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->nr = min_t(unsigned int, nr, FDPKV_MAX_PIDS);
	t->max_file = FDPKV_MAX_PIDS;
	t->max_uid = FDPKV_MAX_PIDS;
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

/* Index of @owner in @s->holders, or -1. */
static int fdpkv_ph_holder(const struct fdpkv_ph_slot *s, const void *owner)
{
	unsigned int i;

	for (i = 0; i < s->nr_holders; i++)
		if (s->holders[i] == owner)
			return i;
	return -1;
}

bool fdpkv_ph_held_by(const struct fdpkv_ph_slot *s, const void *owner)
{
	return fdpkv_ph_holder(s, owner) >= 0;
}

static bool fdpkv_ph_held_by_uid(const struct fdpkv_ph_slot *s, u32 uid)
{
	unsigned int i;

	for (i = 0; i < s->nr_holders; i++)
		if (s->holder_uid[i] == uid)
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
 * @uid: its user, for the per-uid quota
 * @count: 1..FDPKV_PH_BATCH
 * @flags: FDPKV_PH_SHARED to take handles an admin marked shared
 * @pids: filled with the granted placement ids
 *
 * Return: 0, -EINVAL (count, flags), -ENOSPC (fewer than @count takeable),
 * -EDQUOT (the file or the uid would hold more than the policy allows).
 */
int fdpkv_ph_alloc(struct fdpkv_ph_table *t, const void *owner, u32 uid, unsigned int count,
		   u32 flags, u16 *pids)
{
	bool shared = flags & FDPKV_PH_SHARED;
	unsigned int i, n = 0, by_file = 0, by_uid = 0;

	if (!count || count > FDPKV_PH_BATCH || (flags & ~FDPKV_PH_SHARED))
		return -EINVAL;
	for (i = 0; i < t->nr; i++) {
		n += fdpkv_ph_takeable(&t->slot[i], owner, shared);
		by_file += fdpkv_ph_held_by(&t->slot[i], owner);
		by_uid += fdpkv_ph_held_by_uid(&t->slot[i], uid);
	}
	if (n < count)
		return -ENOSPC;
	if (by_file + count > t->max_file || by_uid + count > t->max_uid)
		return -EDQUOT;
	for (i = 0, n = 0; i < t->nr && n < count; i++) {
		struct fdpkv_ph_slot *s = &t->slot[i];

		if (!fdpkv_ph_takeable(s, owner, shared))
			continue;
		s->holders[s->nr_holders] = owner;
		s->holder_uid[s->nr_holders] = uid;
		s->inflight[s->nr_holders] = 0;
		s->nr_holders++;
		pids[n++] = s->pid;
	}
	return 0;
}

/* Remove holder @i; the last holder takes its place. */
static void fdpkv_ph_drop_holder(struct fdpkv_ph_slot *s, unsigned int i)
{
	unsigned int last = --s->nr_holders;

	s->holders[i] = s->holders[last];
	s->holder_uid[i] = s->holder_uid[last];
	s->inflight[i] = s->inflight[last];
	s->holders[last] = NULL;
	s->holder_uid[last] = 0;
	s->inflight[last] = 0;
}

/**
 * fdpkv_ph_free - return handles @owner holds, all or none
 *
 * Return: 0, -EINVAL (count, or a handle @owner does not hold, listed twice
 * or unknown), -EBUSY (a command of @owner checked against one of them is
 * still in flight). Nothing is freed on error.
 */
int fdpkv_ph_free(struct fdpkv_ph_table *t, const void *owner, unsigned int count,
		  const u16 *pids)
{
	bool busy = false;
	unsigned int i, j;

	if (!count || count > FDPKV_PH_BATCH)
		return -EINVAL;
	for (i = 0; i < count; i++) {
		struct fdpkv_ph_slot *s = fdpkv_ph_find(t, pids[i]);
		int h = s ? fdpkv_ph_holder(s, owner) : -1;

		if (h < 0)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (pids[j] == pids[i])
				return -EINVAL;
		busy |= s->inflight[h] != 0;
	}
	if (busy)
		return -EBUSY;
	for (i = 0; i < count; i++) {
		struct fdpkv_ph_slot *s = fdpkv_ph_find(t, pids[i]);

		fdpkv_ph_drop_holder(s, fdpkv_ph_holder(s, owner));
	}
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

/*
 * Return every handle @owner holds; returns how many. Only for a file being
 * released, which has no command in flight (io_uring pins the file).
 */
unsigned int fdpkv_ph_release_owner(struct fdpkv_ph_table *t, const void *owner)
{
	unsigned int i, n = 0;

	for (i = 0; i < t->nr; i++) {
		int h = fdpkv_ph_holder(&t->slot[i], owner);

		if (h >= 0) {
			fdpkv_ph_drop_holder(&t->slot[i], h);
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
	t->max_leases_file = FDPKV_MAX_LEASES;
	t->max_leases_uid = FDPKV_MAX_LEASES;
	t->max_lba_file = capacity;
	t->max_lba_uid = capacity;
}

static bool fdpkv_extents_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	/* both ends were checked against the capacity, so no overflow here */
	return a < b + blen && b < a + alen;
}

/* Order of the sorted index: by owner address, then by first LBA. */
static bool fdpkv_lease_before(const struct fdpkv_lease_slot *s, const void *owner, u64 lba)
{
	if (s->owner != owner)
		return (uintptr_t)s->owner < (uintptr_t)owner;
	return s->slba <= lba;
}

/* The first position whose lease sorts after (@owner, @lba). */
static unsigned int fdpkv_lease_upper(const struct fdpkv_lease_table *t, const void *owner,
				      u64 lba)
{
	unsigned int lo = 0, hi = t->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (fdpkv_lease_before(&t->slot[t->order[mid]], owner, lba))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Recompute every run_end, from the back: O(n), on acquire and release only. */
static void fdpkv_lease_reindex(struct fdpkv_lease_table *t)
{
	unsigned int p;

	for (p = t->nr; p-- > 0;) {
		struct fdpkv_lease_slot *s = &t->slot[t->order[p]];
		u64 end = s->slba + s->nlb;

		if (p + 1 < t->nr) {
			const struct fdpkv_lease_slot *n = &t->slot[t->order[p + 1]];

			if (n->owner == s->owner && n->slba == end)
				end = n->run_end;
		}
		s->run_end = end;
	}
}

/* Put a new lease into a free slot and the sorted index. The table has room. */
static u32 fdpkv_lease_insert(struct fdpkv_lease_table *t, const void *owner, u32 uid,
			      u64 slba, u64 nlb, u32 flags)
{
	struct fdpkv_lease_slot *s;
	unsigned int i, p;

	for (i = 0; t->slot[i].id; i++)
		;
	s = &t->slot[i];
	s->id = t->next_id++;
	if (!t->next_id)	/* 0 marks a free slot */
		t->next_id = 1;
	s->flags = flags;
	s->slba = slba;
	s->nlb = nlb;
	s->owner = owner;
	s->uid = uid;
	s->inflight = 0;
	p = fdpkv_lease_upper(t, owner, slba);
	memmove(&t->order[p + 1], &t->order[p], (t->nr - p) * sizeof(t->order[0]));
	t->order[p] = i;
	t->nr++;
	fdpkv_lease_reindex(t);
	return s->id;
}

static void fdpkv_lease_remove(struct fdpkv_lease_table *t, struct fdpkv_lease_slot *s)
{
	unsigned int i = s - t->slot, p;

	for (p = 0; t->order[p] != i; p++)
		;
	memmove(&t->order[p], &t->order[p + 1], (t->nr - p - 1) * sizeof(t->order[0]));
	t->nr--;
	memset(s, 0, sizeof(*s));
	fdpkv_lease_reindex(t);
}

/* Whether [@slba, @end) lies inside extents an admin made shareable. */
static bool fdpkv_lease_shareable(const struct fdpkv_lease_table *t, u64 slba, u64 end)
{
	unsigned int p = fdpkv_lease_upper(t, NULL, slba);
	const struct fdpkv_lease_slot *s;

	if (!p)
		return false;
	s = &t->slot[t->order[p - 1]];
	return !s->owner && slba < s->slba + s->nlb && end <= s->run_end;
}

/* Would @owner (@uid) holding one more lease of @nlb blocks exceed a quota? */
static bool fdpkv_lease_over_quota(const struct fdpkv_lease_table *t, const void *owner,
				   u32 uid, u64 nlb)
{
	u64 lba_file = nlb, lba_uid = nlb;
	u32 n_file = 1, n_uid = 1;
	unsigned int p;

	for (p = 0; p < t->nr; p++) {
		const struct fdpkv_lease_slot *s = &t->slot[t->order[p]];

		if (!s->owner)
			continue;
		if (s->owner == owner) {
			n_file++;
			lba_file += s->nlb;
		}
		if (s->uid == uid) {
			n_uid++;
			lba_uid += s->nlb;
		}
	}
	return n_file > t->max_leases_file || n_uid > t->max_leases_uid ||
	       lba_file > t->max_lba_file || lba_uid > t->max_lba_uid;
}

/**
 * fdpkv_lease_acquire - lease [@slba, @slba + @nlb) to @owner
 * @uid: @owner's user, for the per-uid quotas
 * @flags: FDPKV_LEASE_SHARED: may overlap other files' shared leases, and
 *	must lie inside an extent an admin made shareable
 * @id: set to the new lease's id (never 0)
 *
 * Return: 0, -EINVAL (nlb 0, flags), -ERANGE (beyond the namespace),
 * -EPERM (shared outside the admin's shareable extents), -EBUSY (overlaps
 * an exclusive lease, is exclusive and overlaps any lease or shareable
 * extent, or overlaps a lease of the same file), -ENOSPC (table full),
 * -EDQUOT (the file or the uid would exceed the policy's leases or blocks).
 */
int fdpkv_lease_acquire(struct fdpkv_lease_table *t, const void *owner, u32 uid, u64 slba,
			u64 nlb, u32 flags, u32 *id)
{
	bool shared = flags & FDPKV_LEASE_SHARED;
	unsigned int p;
	u64 end;

	if (!nlb || (flags & ~FDPKV_LEASE_SHARED))
		return -EINVAL;
	if (check_add_overflow(slba, nlb, &end) || end > t->capacity)
		return -ERANGE;
	if (shared && !fdpkv_lease_shareable(t, slba, end))
		return -EPERM;
	for (p = 0; p < t->nr; p++) {
		const struct fdpkv_lease_slot *s = &t->slot[t->order[p]];

		if (!fdpkv_extents_overlap(slba, nlb, s->slba, s->nlb))
			continue;
		/* one file holds an LBA once: its leases stay disjoint */
		if (s->owner == owner || !shared || !(s->flags & FDPKV_LEASE_SHARED))
			return -EBUSY;
	}
	if (t->nr == FDPKV_MAX_LEASES)
		return -ENOSPC;
	if (fdpkv_lease_over_quota(t, owner, uid, nlb))
		return -EDQUOT;
	*id = fdpkv_lease_insert(t, owner, uid, slba, nlb, flags);
	return 0;
}

/* Return: 0, -ENOENT (@owner holds no lease @id), -EBUSY (I/O in flight). */
int fdpkv_lease_release(struct fdpkv_lease_table *t, const void *owner, u32 id)
{
	unsigned int i;

	if (!id || !owner)
		return -ENOENT;
	for (i = 0; i < FDPKV_MAX_LEASES; i++) {
		struct fdpkv_lease_slot *s = &t->slot[i];

		if (s->id != id || s->owner != owner)
			continue;
		if (s->inflight)
			return -EBUSY;
		fdpkv_lease_remove(t, s);
		return 0;
	}
	return -ENOENT;
}

/* Every lease of a file being released (nothing of it is in flight). */
unsigned int fdpkv_lease_release_owner(struct fdpkv_lease_table *t, const void *owner)
{
	unsigned int i, n = 0;

	for (i = 0; i < FDPKV_MAX_LEASES; i++) {
		struct fdpkv_lease_slot *s = &t->slot[i];

		if (s->id && s->owner == owner) {
			fdpkv_lease_remove(t, s);
			n++;
		}
	}
	return n;
}

/**
 * fdpkv_lease_share - an admin makes [@slba, @slba + @nlb) shareable, or not
 * @shared: true: add the extent (it may not overlap any lease or extent);
 *	false: remove the extent with exactly these bounds
 *
 * Shared leases (FDPKV_LEASE_SHARED) may only be taken inside such extents;
 * an extent takes a slot of the lease table.
 *
 * Return: 0, -EINVAL (nlb 0), -ERANGE (beyond the namespace), -EBUSY
 * (adding: overlaps a lease or extent; removing: a shared lease is inside),
 * -ENOENT (removing: no extent with exactly these bounds, even if the range
 * overlaps another one), -ENOSPC (table full).
 */
int fdpkv_lease_share(struct fdpkv_lease_table *t, u64 slba, u64 nlb, bool shared)
{
	struct fdpkv_lease_slot *extent = NULL;
	bool busy = false;
	unsigned int p;
	u64 end;

	if (!nlb)
		return -EINVAL;
	if (check_add_overflow(slba, nlb, &end) || end > t->capacity)
		return -ERANGE;
	for (p = 0; p < t->nr; p++) {
		struct fdpkv_lease_slot *s = &t->slot[t->order[p]];

		/* removing names an extent by its bounds; other extents are not it */
		if (!shared && !s->owner) {
			if (s->slba == slba && s->nlb == nlb)
				extent = s;
			continue;
		}
		if (fdpkv_extents_overlap(slba, nlb, s->slba, s->nlb))
			busy = true;
	}
	if (!shared) {
		if (!extent)
			return -ENOENT;
		if (busy)
			return -EBUSY;
		fdpkv_lease_remove(t, extent);
		t->nr_extents--;
		return 0;
	}
	if (busy)
		return -EBUSY;
	if (t->nr == FDPKV_MAX_LEASES)
		return -ENOSPC;
	fdpkv_lease_insert(t, NULL, 0, slba, nlb, FDPKV_LEASE_SHARED);
	t->nr_extents++;
	return 0;
}

/* Leases held by files (not counting shareable extents). */
unsigned int fdpkv_lease_held(const struct fdpkv_lease_table *t)
{
	return t->nr - t->nr_extents;
}

/**
 * fdpkv_lease_covers - whether @owner's leases cover [@slba, @slba + @nlb)
 * @positions: if not NULL, the sorted positions of the covering leases are
 *	set in it
 *
 * The extent may span adjacent leases of the same owner. One binary search
 * finds the owner's last lease starting at or before @slba (the only one
 * that can contain it: an owner's leases are disjoint); its run_end says
 * how far the owner's adjacent leases reach. Overflowing extents are never
 * covered.
 */
bool fdpkv_lease_covers(const struct fdpkv_lease_table *t, const void *owner, u64 slba,
			u64 nlb, unsigned long *positions)
{
	const struct fdpkv_lease_slot *s;
	unsigned int first, last;
	u64 end;

	if (!nlb || check_add_overflow(slba, nlb, &end) || end > t->capacity)
		return false;
	first = fdpkv_lease_upper(t, owner, slba);
	if (!first)
		return false;
	s = &t->slot[t->order[--first]];
#ifdef FDPKV_FUZZ_BROKEN_COVERAGE
	/* the fuzzer's self-test: one block too many is "covered" */
	if (s->owner != owner || end > s->run_end + 1)
#else
	if (s->owner != owner || end > s->run_end)
#endif
		return false;
	if (positions) {
		last = fdpkv_lease_upper(t, owner, end - 1);
		bitmap_set(positions, first, last - first);
	}
	return true;
}

/**
 * fdpkv_hold_take - count an accepted command against what it was checked on
 * @eff: the effect fdpkv_cmd_check() returned, under the same lock hold
 * @h: filled with the lease and handle slots counted, for fdpkv_hold_drop()
 *
 * Until the matching drop, those leases cannot be released nor those
 * handles freed by @owner (-EBUSY), so no other file can be given LBAs or a
 * placement id this command may still read, write or consume.
 */
void fdpkv_hold_take(struct fdpkv_ph_table *ph, struct fdpkv_lease_table *leases,
		     const void *owner, const struct fdpkv_cmd_effect *eff, struct fdpkv_hold *h)
{
	unsigned int p, i;

	bitmap_zero(h->leases, FDPKV_MAX_LEASES);
	for_each_set_bit(p, eff->lease_pos, FDPKV_MAX_LEASES) {
		if (WARN_ON_ONCE(p >= leases->nr))
			break;
		i = leases->order[p];
		leases->slot[i].inflight++;
		__set_bit(i, h->leases);
	}
	bitmap_copy(h->handles, eff->handles, FDPKV_MAX_PIDS);
	for_each_set_bit(i, h->handles, FDPKV_MAX_PIDS) {
		int k = i < ph->nr ? fdpkv_ph_holder(&ph->slot[i], owner) : -1;

		if (WARN_ON_ONCE(k < 0)) {
			__clear_bit(i, h->handles);
			continue;
		}
		ph->slot[i].inflight[k]++;
	}
}

/* The command of @h completed (or failed after acceptance): uncount it. */
void fdpkv_hold_drop(struct fdpkv_ph_table *ph, struct fdpkv_lease_table *leases,
		     const void *owner, const struct fdpkv_hold *h)
{
	unsigned int i;

	for_each_set_bit(i, h->leases, FDPKV_MAX_LEASES) {
		struct fdpkv_lease_slot *s = &leases->slot[i];

		if (!WARN_ON_ONCE(!s->id || !s->inflight))
			s->inflight--;
	}
	for_each_set_bit(i, h->handles, FDPKV_MAX_PIDS) {
		int k = fdpkv_ph_holder(&ph->slot[i], owner);

		if (!WARN_ON_ONCE(k < 0 || !ph->slot[i].inflight[k]))
			ph->slot[i].inflight[k]--;
	}
}

/* Commands of @owner still counted against its leases and handles. */
unsigned int fdpkv_owner_inflight(const struct fdpkv_ph_table *ph,
				  const struct fdpkv_lease_table *leases, const void *owner)
{
	unsigned int i, n = 0;
	int k;

	for (i = 0; i < FDPKV_MAX_LEASES; i++)
		if (leases->slot[i].id && leases->slot[i].owner == owner)
			n += leases->slot[i].inflight;
	for (i = 0; i < ph->nr; i++) {
		k = fdpkv_ph_holder(&ph->slot[i], owner);
		if (k >= 0)
			n += ph->slot[i].inflight[k];
	}
	return n;
}

/*
 * The default policy, a fair share for two or more tenants: one uid (and
 * one file) holds at most half the handles (at least one), half the lease
 * table and half the namespace's blocks, so a second tenant always finds
 * room. An admin widens or narrows it with FDPKV_IOC_NS_POLICY_SET.
 */
void fdpkv_policy_default(struct fdpkv_ns_policy *p, unsigned int nr_pids)
{
	u32 handles = max(1U, nr_pids / 2);

	memset(p, 0, sizeof(*p));
	p->max_handles_file = handles;
	p->max_handles_uid = handles;
	p->max_leases_file = FDPKV_MAX_LEASES / 2;
	p->max_leases_uid = FDPKV_MAX_LEASES / 2;
	p->max_lba_pct_file = 50;
	p->max_lba_pct_uid = 50;
}

/* Return: 0, or -EINVAL naming no field: a limit is 0 or beyond the table. */
int fdpkv_policy_check(const struct fdpkv_ns_policy *p, unsigned int nr_pids)
{
	if (p->flags || p->rsvd[0] || p->rsvd[1])
		return -EINVAL;
	if (!p->max_handles_file || p->max_handles_file > nr_pids ||
	    !p->max_handles_uid || p->max_handles_uid > nr_pids)
		return -EINVAL;
	if (!p->max_leases_file || p->max_leases_file > FDPKV_MAX_LEASES ||
	    !p->max_leases_uid || p->max_leases_uid > FDPKV_MAX_LEASES)
		return -EINVAL;
	if (!p->max_lba_pct_file || p->max_lba_pct_file > 100 ||
	    !p->max_lba_pct_uid || p->max_lba_pct_uid > 100)
		return -EINVAL;
	return 0;
}

/* @pct percent of @capacity, rounded down, without overflow. */
static u64 fdpkv_percent_of(u64 capacity, u32 pct)
{
	u32 rem;
	u64 q = div_u64_rem(capacity, 100, &rem);

	return q * pct + div_u64((u64)rem * pct, 100);
}

/* Limits apply to new grants; what is already held stays held. */
void fdpkv_policy_apply(struct fdpkv_ph_table *ph, struct fdpkv_lease_table *leases,
			const struct fdpkv_ns_policy *p)
{
	ph->max_file = p->max_handles_file;
	ph->max_uid = p->max_handles_uid;
	leases->max_leases_file = p->max_leases_file;
	leases->max_leases_uid = p->max_leases_uid;
	leases->max_lba_file = fdpkv_percent_of(leases->capacity, p->max_lba_pct_file);
	leases->max_lba_uid = fdpkv_percent_of(leases->capacity, p->max_lba_pct_uid);
}
