// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites of fdpkv's hardware-free logic. Built as its own module for
 * kernels with CONFIG_KUNIT; the results appear as KTAP in the kernel log
 * when it is loaded.
 *
 * The logic under test is compiled into this module from its own source, so
 * the test module needs neither fdpkv.ko nor an NVMe device.
 */
#include <kunit/test.h>
#include <linux/module.h>

#include "../fdpkv_cmd.c"
#include "../fdpkv_tables.c"
#include "../fdpkv_validate.c"

static void placement_encode_sets_nlb_dtype_dspec(struct kunit *test)
{
	u32 cdw12 = 0, cdw13 = 0;

	KUNIT_ASSERT_EQ(test, fdpkv_cmd_placement_encode(8, 3, &cdw12, &cdw13), 0);
	KUNIT_EXPECT_EQ(test, cdw12 & 0xffff, 7u);
	KUNIT_EXPECT_EQ(test, (cdw12 >> 20) & 0xf, 2u);
	KUNIT_EXPECT_EQ(test, cdw12 & ~(0xffffu | (0xfu << 20)), 0u);
	KUNIT_EXPECT_EQ(test, cdw13, 3u << 16);
}

static void placement_encode_limits(struct kunit *test)
{
	u32 cdw12 = 0, cdw13 = 0;

	KUNIT_EXPECT_EQ(test, fdpkv_cmd_placement_encode(0, 1, &cdw12, &cdw13), -EINVAL);
	KUNIT_EXPECT_EQ(test, fdpkv_cmd_placement_encode(65537, 1, &cdw12, &cdw13), -EINVAL);
	KUNIT_ASSERT_EQ(test, fdpkv_cmd_placement_encode(65536, 0xffff, &cdw12, &cdw13), 0);
	KUNIT_EXPECT_EQ(test, cdw12 & 0xffff, 0xffffu);
	KUNIT_EXPECT_EQ(test, cdw13 >> 16, 0xffffu);
}

static void placement_decode_roundtrip(struct kunit *test)
{
	u32 cdw12, cdw13;
	u16 pid = 0;

	KUNIT_ASSERT_EQ(test, fdpkv_cmd_placement_encode(1, 0x1234, &cdw12, &cdw13), 0);
	KUNIT_EXPECT_TRUE(test, fdpkv_cmd_placement_decode(cdw12, cdw13, &pid));
	KUNIT_EXPECT_EQ(test, pid, 0x1234);
	/* DTYPE 1 (Streams) is not a placement */
	KUNIT_EXPECT_FALSE(test, fdpkv_cmd_placement_decode(1u << 20, cdw13, &pid));
	KUNIT_EXPECT_FALSE(test, fdpkv_cmd_placement_decode(0, cdw13, &pid));
}

/* --- placement-handle grants --- */

static const u16 test_pids[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
static const int owner_a, owner_b;	/* distinct addresses as owners */
/* owner A is uid 1000, owner B uid 1001 */
#define UID_A	1000u
#define UID_B	1001u

static struct fdpkv_ph_table *ph_table(struct kunit *test)
{
	struct fdpkv_ph_table *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	fdpkv_ph_table_init(t, test_pids, ARRAY_SIZE(test_pids));
	return t;
}

static void ph_alloc_is_exclusive(struct kunit *test)
{
	struct fdpkv_ph_table *t = ph_table(test);
	u16 a[8], b[8];
	int i, j;

	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(t, &owner_a, UID_A, 3, 0, a), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(t, &owner_b, UID_B, 5, 0, b), 0);
	for (i = 0; i < 3; i++)
		for (j = 0; j < 5; j++)
			KUNIT_EXPECT_NE(test, a[i], b[j]);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_TRUE(test, fdpkv_ph_held_by(fdpkv_ph_find(t, a[i]), &owner_a));
	KUNIT_EXPECT_FALSE(test, fdpkv_ph_held_by(fdpkv_ph_find(t, b[0]), &owner_a));
	KUNIT_EXPECT_EQ(test, fdpkv_ph_granted(t), 8u);
}

static void ph_alloc_exhaustion_is_all_or_none(struct kunit *test)
{
	struct fdpkv_ph_table *t = ph_table(test);
	u16 p[FDPKV_PH_BATCH];

	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(t, &owner_a, UID_A, 6, 0, p), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_alloc(t, &owner_b, UID_B, 3, 0, p), -ENOSPC);
	/* the refused request took nothing */
	KUNIT_EXPECT_EQ(test, fdpkv_ph_granted(t), 6u);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_alloc(t, &owner_b, UID_B, 2, 0, p), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_alloc(t, &owner_b, UID_B, 0, 0, p), -EINVAL);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_alloc(t, &owner_b, UID_B, FDPKV_PH_BATCH + 1, 0, p),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_alloc(t, &owner_b, UID_B, 1, 0x80, p), -EINVAL);
}

static void ph_free_checks_ownership(struct kunit *test)
{
	struct fdpkv_ph_table *t = ph_table(test);
	u16 a[2], b[1], twice[2];

	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(t, &owner_a, UID_A, 2, 0, a), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(t, &owner_b, UID_B, 1, 0, b), 0);
	/* a handle of another owner: nothing is freed */
	KUNIT_EXPECT_EQ(test, fdpkv_ph_free(t, &owner_a, 1, b), -EINVAL);
	twice[0] = a[0];
	twice[1] = a[0];
	KUNIT_EXPECT_EQ(test, fdpkv_ph_free(t, &owner_a, 2, twice), -EINVAL);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_granted(t), 3u);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_free(t, &owner_a, 2, a), 0);
	/* double free */
	KUNIT_EXPECT_EQ(test, fdpkv_ph_free(t, &owner_a, 1, a), -EINVAL);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_granted(t), 1u);
	twice[0] = 200;		/* unknown placement id */
	KUNIT_EXPECT_EQ(test, fdpkv_ph_free(t, &owner_b, 1, twice), -EINVAL);
}

static void ph_release_owner_returns_everything(struct kunit *test)
{
	struct fdpkv_ph_table *t = ph_table(test);
	u16 p[8];

	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(t, &owner_a, UID_A, 5, 0, p), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(t, &owner_b, UID_B, 3, 0, p), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_release_owner(t, &owner_a), 5u);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_granted(t), 3u);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_alloc(t, &owner_b, UID_B, 5, 0, p), 0);
}

static void ph_shared_handles(struct kunit *test)
{
	struct fdpkv_ph_table *t = ph_table(test);
	u16 a[1], b[1], p[8];

	KUNIT_ASSERT_EQ(test, fdpkv_ph_set_shared(t, 7, true), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_set_shared(t, 99, true), -ENOENT);
	/* exclusive requests never get a shared handle */
	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(t, &owner_a, UID_A, 7, 0, p), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_alloc(t, &owner_b, UID_B, 1, 0, p), -ENOSPC);
	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(t, &owner_a, UID_A, 1, FDPKV_PH_SHARED, a), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(t, &owner_b, UID_B, 1, FDPKV_PH_SHARED, b), 0);
	KUNIT_EXPECT_EQ(test, a[0], 7);
	KUNIT_EXPECT_EQ(test, b[0], 7);
	/* one owner holds a shared handle once */
	KUNIT_EXPECT_EQ(test, fdpkv_ph_alloc(t, &owner_a, UID_A, 1, FDPKV_PH_SHARED, a), -ENOSPC);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_set_shared(t, 7, false), -EBUSY);
	fdpkv_ph_release_owner(t, &owner_a);
	KUNIT_EXPECT_TRUE(test, fdpkv_ph_held_by(fdpkv_ph_find(t, 7), &owner_b));
}

/* --- LBA leases --- */

static struct fdpkv_lease_table *lease_table(struct kunit *test, u64 capacity)
{
	struct fdpkv_lease_table *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	fdpkv_lease_table_init(t, capacity);
	return t;
}

static void lease_overlap_and_bounds(struct kunit *test)
{
	struct fdpkv_lease_table *t = lease_table(test, 1000);
	u32 id, id2;

	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 100, 100, 0, &id), 0);
	KUNIT_EXPECT_NE(test, id, 0u);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 199, 10, 0, &id2), -EBUSY);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 50, 51, 0, &id2), -EBUSY);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 150, 1, 0, &id2), -EBUSY);
	/* adjacent is fine */
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 200, 10, 0, &id2), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 0, 100, 0, &id2), 0);
	/* zero length, beyond the end, overflowing */
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 300, 0, 0, &id2), -EINVAL);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 990, 11, 0, &id2), -ERANGE);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, U64_MAX - 1, 4, 0, &id2),
			-ERANGE);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 990, 10, 0, &id2), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 500, 1, 0x10, &id2), -EINVAL);
}

static void lease_shared_overlaps_only_shared(struct kunit *test)
{
	struct fdpkv_lease_table *t = lease_table(test, 1000);
	u32 id;

	KUNIT_ASSERT_EQ(test, fdpkv_lease_share(t, 0, 200, true), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 0, 100, FDPKV_LEASE_SHARED,
						  &id), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 50, 100, FDPKV_LEASE_SHARED,
						  &id), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 60, 1, 0, &id), -EBUSY);
	/* one file holds an LBA once, even shared */
	KUNIT_EXPECT_EQ(test,
			fdpkv_lease_acquire(t, &owner_a, UID_A, 99, 2, FDPKV_LEASE_SHARED, &id),
			-EBUSY);
}

/* Shared leases only inside extents an admin made shareable. */
static void lease_shared_needs_admin_extent(struct kunit *test)
{
	struct fdpkv_lease_table *t = lease_table(test, 1000);
	u32 id, excl;

	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 0, 10, FDPKV_LEASE_SHARED,
						  &id), -EPERM);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 500, 10, 0, &excl), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_share(t, 495, 10, true), -EBUSY);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_share(t, 995, 10, true), -ERANGE);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_share(t, 5, 0, true), -EINVAL);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_share(t, 0, 100, true), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_share(t, 100, 100, true), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_share(t, 50, 10, true), -EBUSY);
	/* an exclusive lease may not take shareable LBAs */
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 10, 1, 0, &id), -EBUSY);
	/* inside two adjacent extents, not beyond them */
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 150, 51, FDPKV_LEASE_SHARED,
						  &id), -EPERM);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 50, 100, FDPKV_LEASE_SHARED,
						  &id), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_held(t), 2u);
	/* extents are not leases: no one's coverage */
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_b, 0, 1, NULL));
	KUNIT_EXPECT_TRUE(test, fdpkv_lease_covers(t, &owner_a, 50, 100, NULL));
	/* removing: busy while a shared lease is inside, exact bounds only */
	KUNIT_EXPECT_EQ(test, fdpkv_lease_share(t, 0, 100, false), -EBUSY);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_share(t, 300, 100, false), -ENOENT);
	/* other bounds inside an extent name no extent: ENOENT, not EBUSY */
	KUNIT_EXPECT_EQ(test, fdpkv_lease_share(t, 100, 50, false), -ENOENT);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_release(t, &owner_a, id), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_share(t, 0, 100, false), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_share(t, 0, 100, false), -ENOENT);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 10, 1, 0, &id), 0);
}

static void lease_release_and_covers(struct kunit *test)
{
	struct fdpkv_lease_table *t = lease_table(test, 1000);
	u32 a1, a2, b1;

	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 0, 100, 0, &a1), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 100, 100, 0, &a2), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 300, 100, 0, &b1), 0);
	KUNIT_EXPECT_TRUE(test, fdpkv_lease_covers(t, &owner_a, 0, 1, NULL));
	/* spanning two adjacent leases of one owner */
	KUNIT_EXPECT_TRUE(test, fdpkv_lease_covers(t, &owner_a, 50, 150, NULL));
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, 50, 151, NULL));
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, 300, 1, NULL));
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, 10, 0, NULL));
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, U64_MAX, 2, NULL));
	/* only the holder releases */
	KUNIT_EXPECT_EQ(test, fdpkv_lease_release(t, &owner_b, a1), -ENOENT);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_release(t, &owner_a, a1), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_release(t, &owner_a, a1), -ENOENT);
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, 0, 1, NULL));
	KUNIT_EXPECT_EQ(test, fdpkv_lease_release_owner(t, &owner_b), 1u);
	KUNIT_EXPECT_EQ(test, t->nr, 1u);
}

static void lease_table_full(struct kunit *test)
{
	struct fdpkv_lease_table *t = lease_table(test, 1 << 20);
	u32 id, i;

	for (i = 0; i < FDPKV_MAX_LEASES; i++)
		KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, i * 2, 1, 0, &id), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 4096, 1, 0, &id), -ENOSPC);
}

/*
 * Coverage by the sorted index: adjacent leases joined, gaps, other owners'
 * leases interleaved, the end of the namespace, overflow.
 */
static void lease_covers_adjacent_gaps_end(struct kunit *test)
{
	struct fdpkv_lease_table *t = lease_table(test, 1000);
	DECLARE_BITMAP(pos, FDPKV_MAX_LEASES);
	u32 id;

	/* A: [10,20) [20,30) [30,40), gap, [50,60); B in the gap and after */
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 30, 10, 0, &id), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 10, 10, 0, &id), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 40, 10, 0, &id), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 20, 10, 0, &id), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 50, 10, 0, &id), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 990, 10, 0, &id), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 0, 10, 0, &id), 0);
	bitmap_zero(pos, FDPKV_MAX_LEASES);
	KUNIT_EXPECT_TRUE(test, fdpkv_lease_covers(t, &owner_a, 10, 30, pos));
	KUNIT_EXPECT_EQ(test, bitmap_weight(pos, FDPKV_MAX_LEASES), 3u);
	bitmap_zero(pos, FDPKV_MAX_LEASES);
	KUNIT_EXPECT_TRUE(test, fdpkv_lease_covers(t, &owner_a, 19, 2, pos));
	KUNIT_EXPECT_EQ(test, bitmap_weight(pos, FDPKV_MAX_LEASES), 2u);
	KUNIT_EXPECT_TRUE(test, fdpkv_lease_covers(t, &owner_a, 39, 1, NULL));
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, 9, 2, NULL));
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, 10, 31, NULL));
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, 40, 1, NULL));
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, 35, 20, NULL));
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, 60, 1, NULL));
	KUNIT_EXPECT_TRUE(test, fdpkv_lease_covers(t, &owner_b, 40, 10, NULL));
	KUNIT_EXPECT_TRUE(test, fdpkv_lease_covers(t, &owner_b, 0, 10, NULL));
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_b, 0, 11, NULL));
	/* the last blocks of the namespace, and one past them */
	KUNIT_EXPECT_TRUE(test, fdpkv_lease_covers(t, &owner_a, 990, 10, NULL));
	KUNIT_EXPECT_TRUE(test, fdpkv_lease_covers(t, &owner_a, 999, 1, NULL));
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, 999, 2, NULL));
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, 1000, 1, NULL));
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, U64_MAX, 1, NULL));
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, U64_MAX - 5, 10, NULL));
	/* releasing the middle lease opens a gap */
	KUNIT_ASSERT_EQ(test, fdpkv_lease_release(t, &owner_a, 4), 0);
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, 10, 30, NULL));
	KUNIT_EXPECT_TRUE(test, fdpkv_lease_covers(t, &owner_a, 30, 10, NULL));
}

/* 256 one-block leases taken in descending order cover their whole span. */
static void lease_covers_descending_singletons(struct kunit *test)
{
	struct fdpkv_lease_table *t = lease_table(test, 1 << 20);
	DECLARE_BITMAP(pos, FDPKV_MAX_LEASES);
	u32 id, i;

	for (i = FDPKV_MAX_LEASES; i-- > 0;)
		KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, i, 1, 0, &id), 0);
	bitmap_zero(pos, FDPKV_MAX_LEASES);
	KUNIT_EXPECT_TRUE(test, fdpkv_lease_covers(t, &owner_a, 0, FDPKV_MAX_LEASES, pos));
	KUNIT_EXPECT_EQ(test, bitmap_weight(pos, FDPKV_MAX_LEASES), FDPKV_MAX_LEASES);
	KUNIT_EXPECT_FALSE(test, fdpkv_lease_covers(t, &owner_a, 0, FDPKV_MAX_LEASES + 1, NULL));
	for (i = 0; i < FDPKV_MAX_LEASES; i++)
		KUNIT_EXPECT_TRUE(test, fdpkv_lease_covers(t, &owner_a, i, FDPKV_MAX_LEASES - i,
							   NULL));
}

/* --- commands in flight hold their leases and handles --- */

static void hold_blocks_release_until_dropped(struct kunit *test)
{
	struct fdpkv_ph_table *ph = ph_table(test);
	struct fdpkv_lease_table *t = lease_table(test, 1 << 20);
	struct fdpkv_cmd_effect eff = {};
	struct fdpkv_hold h;
	u32 l1, l2, l3;
	u16 p[2];

	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(ph, &owner_a, UID_A, 2, 0, p), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 0, 8, 0, &l1), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 8, 8, 0, &l2), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 16, 8, 0, &l3), 0);
	/* a command on blocks 4..11 of handle p[1] */
	KUNIT_ASSERT_TRUE(test, fdpkv_lease_covers(t, &owner_a, 4, 8, eff.lease_pos));
	__set_bit(fdpkv_ph_find(ph, p[1]) - ph->slot, eff.handles);
	fdpkv_hold_take(ph, t, &owner_a, &eff, &h);
	KUNIT_EXPECT_EQ(test, fdpkv_owner_inflight(ph, t, &owner_a), 3u);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_release(t, &owner_a, l1), -EBUSY);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_release(t, &owner_a, l2), -EBUSY);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_free(ph, &owner_a, 2, p), -EBUSY);
	/* nothing was freed by the refused calls */
	KUNIT_EXPECT_EQ(test, fdpkv_ph_granted(ph), 2u);
	KUNIT_EXPECT_TRUE(test, fdpkv_lease_covers(t, &owner_a, 0, 24, NULL));
	/* what the command did not touch can go; the sorted index moves */
	KUNIT_EXPECT_EQ(test, fdpkv_lease_release(t, &owner_a, l3), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_free(ph, &owner_a, 1, p), 0);
	fdpkv_hold_drop(ph, t, &owner_a, &h);
	KUNIT_EXPECT_EQ(test, fdpkv_owner_inflight(ph, t, &owner_a), 0u);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_release(t, &owner_a, l1), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_release(t, &owner_a, l2), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_free(ph, &owner_a, 1, &p[1]), 0);
}

/* A shared handle's count belongs to its holder, also when holders move. */
static void hold_counts_per_sharer(struct kunit *test)
{
	struct fdpkv_ph_table *ph = ph_table(test);
	struct fdpkv_lease_table *t = lease_table(test, 1 << 20);
	struct fdpkv_cmd_effect eff = {};
	static const int owner_c;
	struct fdpkv_hold h;
	u16 p;

	KUNIT_ASSERT_EQ(test, fdpkv_ph_set_shared(ph, 3, true), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(ph, &owner_a, UID_A, 1, FDPKV_PH_SHARED, &p), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(ph, &owner_b, UID_B, 1, FDPKV_PH_SHARED, &p), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(ph, &owner_c, 7, 1, FDPKV_PH_SHARED, &p), 0);
	__set_bit(fdpkv_ph_find(ph, 3) - ph->slot, eff.handles);
	fdpkv_hold_take(ph, t, &owner_c, &eff, &h);
	/* A and B free theirs; C moves within the holders array */
	KUNIT_EXPECT_EQ(test, fdpkv_ph_free(ph, &owner_a, 1, &p), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_free(ph, &owner_b, 1, &p), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_free(ph, &owner_c, 1, &p), -EBUSY);
	fdpkv_hold_drop(ph, t, &owner_c, &h);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_free(ph, &owner_c, 1, &p), 0);
}

/* --- the admin's policy --- */

static void policy_default_is_half(struct kunit *test)
{
	struct fdpkv_ns_policy p;

	fdpkv_policy_default(&p, 8);
	KUNIT_EXPECT_EQ(test, p.max_handles_file, 4u);
	KUNIT_EXPECT_EQ(test, p.max_handles_uid, 4u);
	KUNIT_EXPECT_EQ(test, p.max_leases_uid, 128u);
	KUNIT_EXPECT_EQ(test, p.max_lba_pct_uid, 50u);
	KUNIT_EXPECT_EQ(test, fdpkv_policy_check(&p, 8), 0);
	fdpkv_policy_default(&p, 1);
	KUNIT_EXPECT_EQ(test, p.max_handles_file, 1u);
	p.max_handles_uid = 2;		/* more than the namespace has */
	KUNIT_EXPECT_EQ(test, fdpkv_policy_check(&p, 1), -EINVAL);
	fdpkv_policy_default(&p, 8);
	p.max_lba_pct_file = 0;
	KUNIT_EXPECT_EQ(test, fdpkv_policy_check(&p, 8), -EINVAL);
	p.max_lba_pct_file = 101;
	KUNIT_EXPECT_EQ(test, fdpkv_policy_check(&p, 8), -EINVAL);
	fdpkv_policy_default(&p, 8);
	p.max_leases_file = FDPKV_MAX_LEASES + 1;
	KUNIT_EXPECT_EQ(test, fdpkv_policy_check(&p, 8), -EINVAL);
	fdpkv_policy_default(&p, 8);
	p.rsvd[1] = 1;
	KUNIT_EXPECT_EQ(test, fdpkv_policy_check(&p, 8), -EINVAL);
}

static void policy_quota_per_file_and_uid(struct kunit *test)
{
	static const int owner_a2;	/* a second file of uid A */
	struct fdpkv_ph_table *ph = ph_table(test);
	struct fdpkv_lease_table *t = lease_table(test, 1000);
	struct fdpkv_ns_policy pol;
	u16 p[8];
	u32 id, i;

	fdpkv_policy_default(&pol, ph->nr);
	pol.max_handles_file = 3;
	pol.max_leases_file = 4;
	pol.max_lba_pct_file = 30;
	fdpkv_policy_apply(ph, t, &pol);
	/* handles: 3 per file, 4 per uid */
	KUNIT_EXPECT_EQ(test, fdpkv_ph_alloc(ph, &owner_a, UID_A, 4, 0, p), -EDQUOT);
	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(ph, &owner_a, UID_A, 3, 0, p), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_alloc(ph, &owner_a, UID_A, 1, 0, p), -EDQUOT);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_alloc(ph, &owner_a2, UID_A, 2, 0, p), -EDQUOT);
	KUNIT_EXPECT_EQ(test, fdpkv_ph_alloc(ph, &owner_a2, UID_A, 1, 0, p), 0);
	/* the other tenant still gets its share */
	KUNIT_EXPECT_EQ(test, fdpkv_ph_alloc(ph, &owner_b, UID_B, 3, 0, p), 0);
	/* blocks: 300 per file, 500 per uid */
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 0, 301, 0, &id), -EDQUOT);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, 0, 300, 0, &id), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_a2, UID_A, 300, 201, 0, &id),
			-EDQUOT);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a2, UID_A, 300, 200, 0, &id), 0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_a2, UID_A, 500, 1, 0, &id), -EDQUOT);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 500, 290, 0, &id), 0);
	/* lease count: 4 per file */
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 900 + i, 1, 0, &id),
				0);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 950, 1, 0, &id), -EDQUOT);
	/* a wider policy lets later grants through; what is held stays */
	pol.max_leases_file = 8;
	fdpkv_policy_apply(ph, t, &pol);
	KUNIT_EXPECT_EQ(test, fdpkv_lease_acquire(t, &owner_b, UID_B, 950, 1, 0, &id), 0);
}

/* --- the command check --- */

struct check_env {
	struct fdpkv_ph_table		*ph;
	struct fdpkv_lease_table	*leases;
	struct fdpkv_cmd_ctx		ctx;
	u16				granted[2];
};

/* nsid 1, 4 KiB blocks, 512 KiB transfers; owner A holds 2 handles and LBAs 0..1023 */
static struct check_env *check_env(struct kunit *test)
{
	struct check_env *e = kunit_kzalloc(test, sizeof(*e), GFP_KERNEL);
	u32 id;

	KUNIT_ASSERT_NOT_NULL(test, e);
	e->ph = ph_table(test);
	e->leases = lease_table(test, 1 << 20);
	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(e->ph, &owner_a, UID_A, 2, 0, e->granted), 0);
	KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(e->leases, &owner_a, UID_A, 0, 1024, 0, &id), 0);
	e->ctx = (struct fdpkv_cmd_ctx){
		.nsid = 1, .lba_shift = 12, .max_transfer = 512 * 1024,
		.ph = e->ph, .leases = e->leases, .owner = &owner_a,
	};
	return e;
}

static struct nvme_uring_cmd rw_cmd(u8 opcode, u64 slba, u32 nlb, int pid)
{
	struct nvme_uring_cmd c = {
		.opcode = opcode, .nsid = 1, .addr = 0x10000,
		.data_len = opcode == nvme_cmd_write_zeroes ? 0 : nlb << 12,
		.cdw10 = (u32)slba, .cdw11 = (u32)(slba >> 32), .cdw12 = nlb - 1,
	};

	if (opcode == nvme_cmd_write_zeroes)
		c.addr = 0;
	if (pid >= 0)
		fdpkv_cmd_placement_encode(nlb, pid, &c.cdw12, &c.cdw13);
	return c;
}

static int check(struct check_env *e, const struct nvme_uring_cmd *c, enum fdpkv_reject *why)
{
	struct fdpkv_cmd_effect eff;

	*why = FDPKV_REJECT_NR;
	return fdpkv_cmd_check(c, &e->ctx, why, &eff);
}

static void check_allows_each_opcode(struct kunit *test)
{
	struct check_env *e = check_env(test);
	struct nvme_uring_cmd c;
	struct fdpkv_cmd_effect eff;
	enum fdpkv_reject why;
	struct nvme_dsm_range r = { .nlb = cpu_to_le32(8), .slba = cpu_to_le64(16) };
	__le16 pids[2] = { cpu_to_le16(e->granted[0]), cpu_to_le16(e->granted[1]) };

	c = rw_cmd(nvme_cmd_write, 8, 4, e->granted[1]);
	KUNIT_EXPECT_EQ(test, fdpkv_cmd_check(&c, &e->ctx, &why, &eff), 0);
	KUNIT_EXPECT_PTR_EQ(test, eff.ph, fdpkv_ph_find(e->ph, e->granted[1]));
	KUNIT_EXPECT_EQ(test, eff.bytes, 4u * 4096);
	c = rw_cmd(nvme_cmd_read, 1000, 24, -1);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), 0);
	c = rw_cmd(nvme_cmd_write_zeroes, 0, 1024, e->granted[0]);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), 0);
	c = (struct nvme_uring_cmd){ .opcode = nvme_cmd_flush, .nsid = 1 };
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), 0);
	c = (struct nvme_uring_cmd){ .opcode = FDPKV_NVME_CMD_IO_MGMT_RECV, .nsid = 1,
				     .addr = 0x1000, .data_len = 4096, .cdw10 = 1,
				     .cdw11 = 4096 / 4 - 1 };
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), 0);
	c = (struct nvme_uring_cmd){ .opcode = nvme_cmd_dsm, .nsid = 1, .addr = 0x1000,
				     .data_len = sizeof(r), .cdw11 = 1 << 2 };
	e->ctx.payload = &r;
	e->ctx.payload_len = sizeof(r);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), 0);
	c = (struct nvme_uring_cmd){ .opcode = FDPKV_NVME_CMD_IO_MGMT_SEND, .nsid = 1,
				     .addr = 0x1000, .data_len = sizeof(pids),
				     .cdw10 = 1 | (1 << 16) };
	e->ctx.payload = pids;
	e->ctx.payload_len = sizeof(pids);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), 0);
}

static void check_rejects_other_opcodes(struct kunit *test)
{
	static const u8 refused[] = { nvme_cmd_compare, nvme_cmd_verify, nvme_cmd_resv_register,
				      nvme_cmd_resv_acquire, 0x19 /* copy */, 0x7f, 0x80, 0xff,
				      nvme_cmd_write_uncor };
	struct check_env *e = check_env(test);
	enum fdpkv_reject why;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		struct nvme_uring_cmd c = rw_cmd(refused[i], 0, 1, e->granted[0]);

		KUNIT_EXPECT_EQ_MSG(test, check(e, &c, &why), -EOPNOTSUPP, "opcode %#x",
				    refused[i]);
		KUNIT_EXPECT_EQ(test, why, FDPKV_REJECT_OPCODE);
	}
}

static void check_rejects_bad_fields(struct kunit *test)
{
	struct check_env *e = check_env(test);
	struct nvme_uring_cmd c;
	enum fdpkv_reject why;

	c = rw_cmd(nvme_cmd_write, 0, 1, e->granted[0]);
	c.nsid = 2;
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, why, FDPKV_REJECT_NSID);
	c = rw_cmd(nvme_cmd_write, 0, 1, e->granted[0]);
	c.flags = 1;	/* fused */
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, why, FDPKV_REJECT_FIELD);
	c = rw_cmd(nvme_cmd_read, 0, 1, -1);
	c.metadata = 0x1000;
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, why, FDPKV_REJECT_FIELD);
	c = rw_cmd(nvme_cmd_read, 0, 2, -1);
	c.data_len = 4096;	/* two blocks, one block of buffer */
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, why, FDPKV_REJECT_LENGTH);
	c = rw_cmd(nvme_cmd_read, 0, 256, -1);	/* 1 MiB > 512 KiB */
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -E2BIG);
	KUNIT_EXPECT_EQ(test, why, FDPKV_REJECT_TOO_BIG);
	c = rw_cmd(nvme_cmd_write_zeroes, 0, 1, e->granted[0]);
	c.data_len = 4096;
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EINVAL);
}

static void check_ranges_against_leases(struct kunit *test)
{
	struct check_env *e = check_env(test);
	struct nvme_uring_cmd c;
	enum fdpkv_reject why;

	c = rw_cmd(nvme_cmd_write, 1020, 5, e->granted[0]);	/* crosses the lease end */
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -ERANGE);
	KUNIT_EXPECT_EQ(test, why, FDPKV_REJECT_RANGE);
	c = rw_cmd(nvme_cmd_read, 5000, 1, -1);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -ERANGE);
	/* slba + nlb wraps around */
	c = rw_cmd(nvme_cmd_read, U64_MAX, 2, -1);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -ERANGE);
	/* another owner's view of the same LBAs */
	e->ctx.owner = &owner_b;
	c = rw_cmd(nvme_cmd_read, 0, 1, -1);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -ERANGE);
}

static void check_placement_must_be_granted(struct kunit *test)
{
	struct check_env *e = check_env(test);
	struct nvme_uring_cmd c;
	enum fdpkv_reject why;
	u16 other[1];

	KUNIT_ASSERT_EQ(test, fdpkv_ph_alloc(e->ph, &owner_b, UID_B, 1, 0, other), 0);
	c = rw_cmd(nvme_cmd_write, 0, 1, other[0]);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EPERM);
	KUNIT_EXPECT_EQ(test, why, FDPKV_REJECT_PLACEMENT);
	c = rw_cmd(nvme_cmd_write, 0, 1, 200);	/* no such handle */
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EPERM);
	c = rw_cmd(nvme_cmd_write, 0, 1, -1);	/* no directive */
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EPERM);
	KUNIT_EXPECT_EQ(test, why, FDPKV_REJECT_NO_PLACEMENT);
	c = rw_cmd(nvme_cmd_write_zeroes, 0, 8, -1);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EPERM);
}

static void check_dsm_every_range(struct kunit *test)
{
	struct check_env *e = check_env(test);
	struct nvme_dsm_range *r = kunit_kcalloc(test, 256, sizeof(*r), GFP_KERNEL);
	struct nvme_uring_cmd c = { .opcode = nvme_cmd_dsm, .nsid = 1, .addr = 0x1000,
				    .cdw10 = 255, .cdw11 = 1 << 2,
				    .data_len = 256 * sizeof(*r) };
	enum fdpkv_reject why;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, r);
	for (i = 0; i < 256; i++) {
		r[i].slba = cpu_to_le64(i * 4);
		r[i].nlb = cpu_to_le32(4);
	}
	e->ctx.payload = r;
	e->ctx.payload_len = c.data_len;
	KUNIT_EXPECT_EQ(test, fdpkv_cmd_payload_len(&c), 256 * 16);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), 0);
	/* the hostile list: the last range is outside the lease */
	r[255].slba = cpu_to_le64(1 << 19);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -ERANGE);
	r[255].slba = cpu_to_le64(U64_MAX - 1);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -ERANGE);
	r[255].slba = 0;
	/* NR says 256 ranges, the buffer holds 255 */
	c.data_len -= sizeof(*r);
	KUNIT_EXPECT_EQ(test, fdpkv_cmd_payload_len(&c), -EINVAL);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, why, FDPKV_REJECT_LENGTH);
}

/*
 * 256 ranges over 256 one-block leases taken in descending order: accepted,
 * each lease marked once, in bounded work (one binary search per range).
 */
static void check_dsm_storm_over_singletons(struct kunit *test)
{
	struct fdpkv_lease_table *t = lease_table(test, 1 << 20);
	struct nvme_dsm_range *r = kunit_kcalloc(test, 256, sizeof(*r), GFP_KERNEL);
	struct check_env *e = check_env(test);
	struct nvme_uring_cmd c = { .opcode = nvme_cmd_dsm, .nsid = 1, .addr = 0x1000,
				    .cdw10 = 255, .cdw11 = 1 << 2,
				    .data_len = 256 * sizeof(*r) };
	struct fdpkv_cmd_effect eff;
	enum fdpkv_reject why;
	u32 id, i;

	KUNIT_ASSERT_NOT_NULL(test, r);
	for (i = FDPKV_MAX_LEASES; i-- > 0;)
		KUNIT_ASSERT_EQ(test, fdpkv_lease_acquire(t, &owner_a, UID_A, i, 1, 0, &id), 0);
	for (i = 0; i < 256; i++) {
		r[i].slba = cpu_to_le64(i % 2 ? 0 : 255 - i);
		r[i].nlb = cpu_to_le32(i % 2 ? 256 : 1);
	}
	e->ctx.leases = t;
	e->ctx.payload = r;
	e->ctx.payload_len = c.data_len;
	KUNIT_EXPECT_EQ(test, fdpkv_cmd_check(&c, &e->ctx, &why, &eff), 0);
	KUNIT_EXPECT_EQ(test, bitmap_weight(eff.lease_pos, FDPKV_MAX_LEASES), FDPKV_MAX_LEASES);
	r[200].nlb = cpu_to_le32(257);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -ERANGE);
}

static void check_ruh_update_pids(struct kunit *test)
{
	struct check_env *e = check_env(test);
	__le16 pids[3] = { cpu_to_le16(e->granted[0]), cpu_to_le16(e->granted[1]),
			   cpu_to_le16(7) };
	struct nvme_uring_cmd c = { .opcode = FDPKV_NVME_CMD_IO_MGMT_SEND, .nsid = 1,
				    .addr = 0x1000, .data_len = sizeof(pids),
				    .cdw10 = 1 | (2 << 16) };
	enum fdpkv_reject why;

	e->ctx.payload = pids;
	e->ctx.payload_len = sizeof(pids);
	/* pid 7 is not granted to the caller */
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EPERM);
	KUNIT_EXPECT_EQ(test, why, FDPKV_REJECT_PLACEMENT);
	c.cdw10 = 1 | (1 << 16);
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), 0);
	c.cdw10 = 2 | (1 << 16);	/* not RUH Update */
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EINVAL);
	c.cdw10 = 1 | (5 << 16);	/* 6 ids in a 6-byte buffer */
	KUNIT_EXPECT_EQ(test, fdpkv_cmd_payload_len(&c), -EINVAL);
}

/*
 * The rule the check exists for: whatever it accepts, the device moves no
 * more than the mapped buffer: data_len is exactly NLB x LBA size, with no
 * metadata and no protection information.
 */
static void check_transfer_never_exceeds_buffer(struct kunit *test)
{
	static const u32 nlbs[] = { 1, 2, 7, 128 };
	static const s32 skew[] = { 0, -4096, 4096, -512, 512, 1 };
	static const u32 extra[] = { 0, 1u << 26, 1u << 27, 1u << 28, 1u << 29, 0xfu << 26 };
	const unsigned int n_extra = ARRAY_SIZE(extra) * 3;	/* x (none, metadata, tag) */
	struct check_env *e = check_env(test);
	unsigned int n, accepted = 0;
	enum fdpkv_reject why;

	for (n = 0; n < 2 * ARRAY_SIZE(nlbs) * ARRAY_SIZE(skew) * n_extra; n++) {
		unsigned int k = n % n_extra, j = n / n_extra % ARRAY_SIZE(skew);
		unsigned int i = n / n_extra / ARRAY_SIZE(skew) % ARRAY_SIZE(nlbs);
		bool write = n / n_extra / ARRAY_SIZE(skew) / ARRAY_SIZE(nlbs);
		struct nvme_uring_cmd c = rw_cmd(write ? nvme_cmd_write : nvme_cmd_read, 0, nlbs[i],
						 write ? e->granted[0] : -1);

		c.data_len += skew[j];
		c.cdw12 |= extra[k % ARRAY_SIZE(extra)];
		if (k / ARRAY_SIZE(extra) == 1)
			c.metadata_len = 8 * nlbs[i];
		if (k / ARRAY_SIZE(extra) == 2)
			c.cdw14 = 1;	/* expected initial reference tag */
		if (check(e, &c, &why))
			continue;
		accepted++;
		KUNIT_EXPECT_EQ(test, (u64)c.data_len, (u64)nlbs[i] << 12);
		KUNIT_EXPECT_EQ(test, c.metadata | c.metadata_len, 0u);
		KUNIT_EXPECT_EQ(test, FIELD_GET(FDPKV_CDW12_PRINFO, c.cdw12), 0u);
	}
	/* one per opcode and length: exact length, no PRINFO, no metadata */
	KUNIT_EXPECT_EQ(test, accepted, 2u * ARRAY_SIZE(nlbs));
}

static void check_refuses_protection_information(struct kunit *test)
{
	struct check_env *e = check_env(test);
	struct nvme_uring_cmd c;
	enum fdpkv_reject why;
	u32 bit;

	for (bit = 26; bit <= 29; bit++) {
		c = rw_cmd(nvme_cmd_read, 0, 1, -1);
		c.cdw12 |= 1u << bit;
		KUNIT_EXPECT_EQ_MSG(test, check(e, &c, &why), -EINVAL, "PRINFO bit %u", bit);
		KUNIT_EXPECT_EQ(test, why, FDPKV_REJECT_FIELD);
		c = rw_cmd(nvme_cmd_write_zeroes, 0, 1, e->granted[0]);
		c.cdw12 |= 1u << bit;
		KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EINVAL);
	}
	c = rw_cmd(nvme_cmd_write, 0, 1, e->granted[0]);
	c.cdw15 = 0xffff;	/* application tag mask */
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EINVAL);
	c = rw_cmd(nvme_cmd_read, 0, 1, -1);
	c.metadata_len = 8;
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EINVAL);
}

static void check_refuses_reserved_bits(struct kunit *test)
{
	struct check_env *e = check_env(test);
	struct nvme_uring_cmd c;
	enum fdpkv_reject why;

	c = rw_cmd(nvme_cmd_write, 0, 1, e->granted[0]);
	c.cdw12 |= 1u << 16;	/* CDW12[19:16] */
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, why, FDPKV_REJECT_FIELD);
	c = rw_cmd(nvme_cmd_read, 0, 1, -1);
	c.cdw13 |= 1u << 8;	/* CDW13[15:8] */
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EINVAL);
	c = rw_cmd(nvme_cmd_read, 0, 1, -1);
	c.cdw13 |= 0x7;		/* DSM hints CDW13[7:0] are allowed */
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), 0);
	c = (struct nvme_uring_cmd){ .opcode = FDPKV_NVME_CMD_IO_MGMT_RECV, .nsid = 1,
				     .addr = 0x1000, .data_len = 4096, .cdw10 = 1 | (1 << 16),
				     .cdw11 = 4096 / 4 - 1 };	/* MOS set */
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, why, FDPKV_REJECT_FIELD);
	c.cdw10 = 1 | (1 << 8);		/* CDW10[15:8] reserved */
	KUNIT_EXPECT_EQ(test, check(e, &c, &why), -EINVAL);
}

static void uapi_struct_sizes(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct fdpkv_info), 96u);
	KUNIT_EXPECT_EQ(test, sizeof(struct fdpkv_ns_attach), 56u);
	KUNIT_EXPECT_EQ(test, sizeof(struct fdpkv_ns_detach), 8u);
	KUNIT_EXPECT_EQ(test, sizeof(struct fdpkv_ph), 144u);
	KUNIT_EXPECT_EQ(test, sizeof(struct fdpkv_ph_share), 8u);
	KUNIT_EXPECT_EQ(test, sizeof(struct fdpkv_lease), 32u);
	KUNIT_EXPECT_EQ(test, sizeof(struct fdpkv_list), 32u);
	KUNIT_EXPECT_EQ(test, sizeof(struct fdpkv_ns_entry), 376u);
	KUNIT_EXPECT_EQ(test, sizeof(struct fdpkv_ph_entry), 48u);
	KUNIT_EXPECT_EQ(test, sizeof(struct fdpkv_lease_entry), 48u);
	KUNIT_EXPECT_EQ(test, sizeof(struct fdpkv_uring_cmd), 80u);
	KUNIT_EXPECT_EQ(test, offsetof(struct fdpkv_uring_cmd, ns), 72u);
	KUNIT_EXPECT_EQ(test, sizeof(struct fdpkv_lease_share), 24u);
	KUNIT_EXPECT_EQ(test, sizeof(struct fdpkv_ns_policy), 48u);
}

static struct kunit_case fdpkv_tables_cases[] = {
	KUNIT_CASE(ph_alloc_is_exclusive),
	KUNIT_CASE(ph_alloc_exhaustion_is_all_or_none),
	KUNIT_CASE(ph_free_checks_ownership),
	KUNIT_CASE(ph_release_owner_returns_everything),
	KUNIT_CASE(ph_shared_handles),
	KUNIT_CASE(lease_overlap_and_bounds),
	KUNIT_CASE(lease_shared_overlaps_only_shared),
	KUNIT_CASE(lease_release_and_covers),
	KUNIT_CASE(lease_table_full),
	KUNIT_CASE(lease_shared_needs_admin_extent),
	KUNIT_CASE(lease_covers_adjacent_gaps_end),
	KUNIT_CASE(lease_covers_descending_singletons),
	KUNIT_CASE(hold_blocks_release_until_dropped),
	KUNIT_CASE(hold_counts_per_sharer),
	KUNIT_CASE(policy_default_is_half),
	KUNIT_CASE(policy_quota_per_file_and_uid),
	KUNIT_CASE(uapi_struct_sizes),
	{}
};

static struct kunit_suite fdpkv_tables_suite = {
	.name = "fdpkv_tables",
	.test_cases = fdpkv_tables_cases,
};

static struct kunit_case fdpkv_check_cases[] = {
	KUNIT_CASE(check_allows_each_opcode),
	KUNIT_CASE(check_rejects_other_opcodes),
	KUNIT_CASE(check_rejects_bad_fields),
	KUNIT_CASE(check_ranges_against_leases),
	KUNIT_CASE(check_placement_must_be_granted),
	KUNIT_CASE(check_dsm_every_range),
	KUNIT_CASE(check_dsm_storm_over_singletons),
	KUNIT_CASE(check_ruh_update_pids),
	KUNIT_CASE(check_transfer_never_exceeds_buffer),
	KUNIT_CASE(check_refuses_protection_information),
	KUNIT_CASE(check_refuses_reserved_bits),
	{}
};

static struct kunit_suite fdpkv_check_suite = {
	.name = "fdpkv_check",
	.test_cases = fdpkv_check_cases,
};

static void changes_media_opcodes(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, fdpkv_cmd_changes_media(nvme_cmd_write));
	KUNIT_EXPECT_TRUE(test, fdpkv_cmd_changes_media(nvme_cmd_write_zeroes));
	KUNIT_EXPECT_TRUE(test, fdpkv_cmd_changes_media(nvme_cmd_dsm));
	KUNIT_EXPECT_TRUE(test, fdpkv_cmd_changes_media(FDPKV_NVME_CMD_IO_MGMT_SEND));
	KUNIT_EXPECT_FALSE(test, fdpkv_cmd_changes_media(nvme_cmd_read));
	KUNIT_EXPECT_FALSE(test, fdpkv_cmd_changes_media(nvme_cmd_flush));
	KUNIT_EXPECT_FALSE(test, fdpkv_cmd_changes_media(FDPKV_NVME_CMD_IO_MGMT_RECV));
}

static struct nvme_id_ns *id_ns(struct kunit *test, u8 flbas, u16 ms, u8 ds, u8 dps)
{
	struct nvme_id_ns *id = kunit_kzalloc(test, sizeof(*id), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, id);
	id->nsze = cpu_to_le64(1 << 20);
	id->nlbaf = 7;
	id->lbaf[0].ds = 9;
	id->lbaf[4].ds = 12;
	id->lbaf[flbas & 0xf].ds = ds;
	id->lbaf[flbas & 0xf].ms = cpu_to_le16(ms);
	id->flbas = flbas;
	id->dps = dps;
	return id;
}

static void id_ns_format_refuses_metadata(struct kunit *test)
{
	struct fdpkv_ns_format f;
	u8 mset, pi;

	KUNIT_EXPECT_EQ(test, fdpkv_id_ns_format(id_ns(test, 4, 0, 12, 0), &f), 0);
	KUNIT_EXPECT_EQ(test, f.lba_shift, 12);
	KUNIT_EXPECT_EQ(test, f.nsze, 1ULL << 20);
	KUNIT_EXPECT_EQ(test, fdpkv_id_ns_format(id_ns(test, 0, 0, 9, 0), &f), 0);
	KUNIT_EXPECT_EQ(test, f.lba_shift, 9);
	for (mset = 0; mset <= 1; mset++)
		for (pi = 0; pi <= 1; pi++) {
			u8 flbas = 5 | (mset ? NVME_NS_FLBAS_META_EXT : 0);

			KUNIT_EXPECT_EQ(test, fdpkv_id_ns_format(id_ns(test, flbas, 8, 12, pi), &f),
					-EOPNOTSUPP);
			KUNIT_EXPECT_EQ(test, f.ms, 8);
			KUNIT_EXPECT_EQ(test, f.extended, !!mset);
			KUNIT_EXPECT_EQ(test, f.pi_type, pi);
		}
	/* protection information claimed without metadata is refused too */
	KUNIT_EXPECT_EQ(test, fdpkv_id_ns_format(id_ns(test, 4, 0, 12, 1), &f), -EOPNOTSUPP);
	/* FLBAS naming a format beyond NLBAF, and a nonsense data size */
	KUNIT_EXPECT_EQ(test, fdpkv_id_ns_format(id_ns(test, 9, 0, 12, 0), &f), -EINVAL);
	KUNIT_EXPECT_EQ(test, fdpkv_id_ns_format(id_ns(test, 4, 0, 0, 0), &f), -EINVAL);
}

static void ns_ident_same_namespace(struct kunit *test)
{
	struct fdpkv_ns_ident *a = kunit_kzalloc(test, 2 * sizeof(*a), GFP_KERNEL), *b;

	KUNIT_ASSERT_NOT_NULL(test, a);
	b = a + 1;
	a->nsid = 1;
	strscpy(a->subnqn, "nqn.2019-08.org.qemu:fdpkv-subsys0", sizeof(a->subnqn));
	*b = *a;
	/* no unique id: NSID within the subsystem NQN decides */
	KUNIT_EXPECT_TRUE(test, fdpkv_ns_ident_same(a, b));
	b->nsid = 2;
	KUNIT_EXPECT_FALSE(test, fdpkv_ns_ident_same(a, b));
	b->nsid = 1;
	b->subnqn[strlen(b->subnqn) - 1] = '1';
	KUNIT_EXPECT_FALSE(test, fdpkv_ns_ident_same(a, b));
	/* an EUI-64 both report decides, whatever the NQN says */
	a->eui64[7] = 1;
	b->eui64[7] = 1;
	KUNIT_EXPECT_TRUE(test, fdpkv_ns_ident_same(a, b));
	b->subnqn[strlen(b->subnqn) - 1] = '0';
	b->eui64[7] = 2;
	KUNIT_EXPECT_FALSE(test, fdpkv_ns_ident_same(a, b));
	/* NGUID comes first */
	a->nguid[0] = 9;
	b->nguid[0] = 9;
	KUNIT_EXPECT_TRUE(test, fdpkv_ns_ident_same(a, b));
	b->nguid[15] = 1;
	b->eui64[7] = 1;
	KUNIT_EXPECT_FALSE(test, fdpkv_ns_ident_same(a, b));
	/* an empty NQN never matches by itself */
	memset(a, 0, 2 * sizeof(*a));
	KUNIT_EXPECT_FALSE(test, fdpkv_ns_ident_same(a, b));
}

static struct kunit_case fdpkv_cmd_cases[] = {
	KUNIT_CASE(changes_media_opcodes),
	KUNIT_CASE(placement_encode_sets_nlb_dtype_dspec),
	KUNIT_CASE(placement_encode_limits),
	KUNIT_CASE(placement_decode_roundtrip),
	KUNIT_CASE(id_ns_format_refuses_metadata),
	KUNIT_CASE(ns_ident_same_namespace),
	{}
};

static struct kunit_suite fdpkv_cmd_suite = {
	.name = "fdpkv_cmd",
	.test_cases = fdpkv_cmd_cases,
};

kunit_test_suites(&fdpkv_cmd_suite, &fdpkv_tables_suite, &fdpkv_check_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of fdpkv's command encoding, grants, leases and command check");
