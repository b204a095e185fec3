// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_check.c - libFuzzer harness for the module's command predicate.
 *
 * kmod/fdpkv_tables.c, fdpkv_validate.c and fdpkv_cmd.c are compiled here
 * unchanged (tests/fuzz/shim stands in for the kernel headers). The input
 * is a program: a namespace geometry, then operations on three open files
 * (two of uid 1000, one of uid 1001) — grant and free handles, take and
 * release leases, an admin's shareable extents and policy, commands, their
 * completion, closing a file. Every grant and every accepted command is
 * handed to the oracle (model.c), which aborts on anything unsafe:
 * blocks outside the caller's leases, a placement id it does not hold, a
 * transfer longer than the mapped buffer, a quota exceeded, a lease or
 * handle returned while a command checked against it is in flight.
 *
 * Built with -DFDPKV_FUZZ_BROKEN_COVERAGE the module's coverage accepts one
 * block too many; the self-test expects the oracle to catch that.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdpkv_cmd.h"
#include "fdpkv_tables.h"
#include "model.h"

struct input {
	const uint8_t	*p;
	size_t		left;
};

static uint64_t in_bytes(struct input *in, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++) {
		v |= (uint64_t)(in->left ? *in->p : 0) << (8 * i);
		if (in->left) {
			in->p++;
			in->left--;
		}
	}
	return v;
}

#define IN8(in)		((uint8_t)in_bytes(in, 1))
#define IN16(in)	((uint16_t)in_bytes(in, 2))
#define IN32(in)	((uint32_t)in_bytes(in, 4))
#define IN64(in)	in_bytes(in, 8)

/* reset per input: up to @hold; the tables and the model reset themselves */
struct world {
	char				owner[M_OWNERS];	/* their addresses are the owners */
	uint32_t			uid[M_OWNERS];
	uint32_t			lease_ids[64];		/* ids seen, to release */
	unsigned long			accepted, refused;
	struct fdpkv_hold		hold[M_MAX_INFLIGHT];
	int				hold_owner[M_MAX_INFLIGHT];
	uint8_t				payload[FDPKV_PAYLOAD_MAX];
	struct fdpkv_ph_table		ph;
	struct fdpkv_lease_table	leases;
	struct model			m;
};

static struct world w;

static void verdict(const char *why, const char *op)
{
	if (!why)
		return;
	fprintf(stderr, "oracle violation in %s: %s\n", op, why);
	abort();
}

/* An LBA: mostly inside or just around the namespace, sometimes anywhere. */
static uint64_t in_lba(struct input *in)
{
	uint8_t k = IN8(in);

	if (k < 200)
		return IN16(in) % (w.m.capacity + 8);
	if (k < 230)
		return w.m.capacity - (IN8(in) % 4);
	return IN64(in);
}

static void op_ph_alloc(struct input *in, int o)
{
	unsigned int count = IN8(in) % 10;
	uint32_t flags = IN8(in) % 3 == 0 ? FDPKV_PH_SHARED : 0;
	uint16_t pids[FDPKV_PH_BATCH];

	if (fdpkv_ph_alloc(&w.ph, &w.owner[o], w.uid[o], count, flags, pids))
		return;
	verdict(m_ph_granted(&w.m, o, flags, pids, count), "PH_ALLOC");
}

static void op_ph_free(struct input *in, int o)
{
	unsigned int count = 1 + IN8(in) % 3, i;
	uint16_t pids[3];

	for (i = 0; i < count; i++)
		pids[i] = w.m.pid[IN8(in) % w.m.npids];
	if (fdpkv_ph_free(&w.ph, &w.owner[o], count, pids))
		return;
	verdict(m_ph_freed(&w.m, o, pids, count), "PH_FREE");
}

static void op_ph_share(struct input *in)
{
	uint16_t pid = w.m.pid[IN8(in) % w.m.npids];
	bool shared = IN8(in) & 1;

	if (fdpkv_ph_set_shared(&w.ph, pid, shared))
		return;
	verdict(m_ph_shared(&w.m, pid, shared), "PH_SHARE");
}

static void op_lease_acquire(struct input *in, int o)
{
	uint64_t slba = in_lba(in), nlb = IN8(in) < 240 ? IN8(in) % 64 : IN64(in);
	uint32_t flags = IN8(in) % 4 == 0 ? FDPKV_LEASE_SHARED : 0, id = 0;

	if (fdpkv_lease_acquire(&w.leases, &w.owner[o], w.uid[o], slba, nlb, flags, &id))
		return;
	w.lease_ids[id % 64] = id;
	verdict(m_lease_granted(&w.m, o, slba, nlb, flags, id), "LEASE_ACQUIRE");
}

static void op_lease_release(struct input *in, int o)
{
	uint32_t id = w.lease_ids[IN8(in) % 64];

	if (fdpkv_lease_release(&w.leases, &w.owner[o], id))
		return;
	verdict(m_lease_released(&w.m, o, id), "LEASE_RELEASE");
}

static void op_lease_share(struct input *in)
{
	uint64_t slba = in_lba(in), nlb = IN8(in) % 128;
	bool shared = IN8(in) % 3 != 0;

	if (fdpkv_lease_share(&w.leases, slba, nlb, shared))
		return;
	verdict(m_extent_set(&w.m, slba, nlb, shared), "LEASE_SHARE");
}

static void op_policy(struct input *in)
{
	struct fdpkv_ns_policy p;
	struct m_limits lim;

	fdpkv_policy_default(&p, w.ph.nr);
	if (IN8(in) & 1) {
		p.max_handles_file = IN8(in) % (w.ph.nr + 2);
		p.max_handles_uid = IN8(in) % (w.ph.nr + 2);
		p.max_leases_file = IN16(in) % 260;
		p.max_leases_uid = IN16(in) % 260;
		p.max_lba_pct_file = IN8(in) % 102;
		p.max_lba_pct_uid = IN8(in) % 102;
	}
	if (fdpkv_policy_check(&p, w.ph.nr))
		return;
	fdpkv_policy_apply(&w.ph, &w.leases, &p);
	lim = (struct m_limits){ p.max_handles_file, p.max_handles_uid, p.max_leases_file,
				 p.max_leases_uid, p.max_lba_pct_file, p.max_lba_pct_uid };
	verdict(m_limits_set(&w.m, &lim), "NS_POLICY_SET");
}

/* A command a tenant might send: plausible fields, sometimes hostile ones. */
static void make_cmd(struct input *in, struct nvme_uring_cmd *c, uint32_t *payload_len)
{
	static const uint8_t ops[] = { 0x00, 0x01, 0x02, 0x08, 0x09, 0x12, 0x1d, 0x01, 0x02,
				       0x09 };
	uint8_t chaos = IN8(in);
	uint32_t nlb = 1 + IN8(in) % 48, i, n;
	uint64_t slba = in_lba(in);

	memset(c, 0, sizeof(*c));
	*payload_len = 0;
	c->opcode = chaos < 250 ? ops[IN8(in) % sizeof(ops)] : IN8(in);
	c->nsid = chaos == 249 ? IN32(in) : w.m.nsid;
	c->cdw10 = (uint32_t)slba;
	c->cdw11 = (uint32_t)(slba >> 32);
	c->cdw12 = nlb - 1;
	c->addr = 0x10000;
	c->data_len = nlb << w.m.lba_shift;
	if (c->opcode == 0x01 || c->opcode == 0x08) {
		uint16_t pid = IN8(in) % 8 ? w.m.pid[IN8(in) % w.m.npids] : IN16(in);

		if (IN8(in) % 8)
			fdpkv_cmd_placement_encode(nlb, pid, &c->cdw12, &c->cdw13);
	}
	if (c->opcode == 0x00 || c->opcode == 0x08) {
		c->addr = 0;
		c->data_len = 0;
	}
	if (c->opcode == 0x09) {
		n = 1 + IN8(in) % 256;
		c->cdw10 = n - 1;
		c->cdw11 = 1 << 2;
		for (i = 0; i < n; i++) {
			uint32_t rn = IN8(in) % 40;
			uint64_t rs = in_lba(in);

			memcpy(w.payload + 16 * i + 4, &rn, 4);
			memcpy(w.payload + 16 * i + 8, &rs, 8);
		}
		c->data_len = n * 16;
		*payload_len = c->data_len;
	}
	if (c->opcode == 0x12) {
		c->cdw10 = 1;
		c->cdw11 = IN8(in) % 64;
		c->data_len = (c->cdw11 + 1) * 4;
	}
	if (c->opcode == 0x1d) {
		n = 1 + IN8(in) % 4;
		c->cdw10 = 1 | (n - 1) << 16;
		for (i = 0; i < n; i++) {
			uint16_t pid = w.m.pid[IN8(in) % w.m.npids];

			memcpy(w.payload + 2 * i, &pid, 2);
		}
		c->data_len = 2 * n;
		*payload_len = c->data_len;
	}
	/* hostile edits: one field, any value */
	switch (chaos % 16) {
	case 1: c->data_len = IN32(in); break;
	case 2: c->cdw12 = IN32(in); break;
	case 3: c->cdw10 = IN32(in); break;
	case 4: c->cdw11 = IN32(in); break;
	case 5: c->cdw13 = IN32(in); break;
	case 6: c->flags = IN8(in); break;
	case 7: c->metadata = IN64(in); c->metadata_len = IN32(in); break;
	case 8: c->addr = 0; break;
	case 9: c->cdw2 = IN32(in); break;
	case 10: *payload_len = IN16(in) % (FDPKV_PAYLOAD_MAX + 1); break;
	default: break;
	}
	if (*payload_len > FDPKV_PAYLOAD_MAX)
		*payload_len = FDPKV_PAYLOAD_MAX;
}

static void op_cmd(struct input *in, int o)
{
	struct fdpkv_cmd_ctx ctx = {
		.nsid = w.m.nsid, .lba_shift = w.m.lba_shift, .max_transfer = w.m.max_transfer,
		.ph = &w.ph, .leases = &w.leases, .owner = &w.owner[o], .payload = w.payload,
	};
	struct fdpkv_cmd_effect eff;
	struct nvme_uring_cmd c;
	enum fdpkv_reject why;
	uint32_t plen;
	int slot;

	make_cmd(in, &c, &plen);
	ctx.payload_len = plen;
	/* the module copies in exactly fdpkv_cmd_payload_len() bytes, or refuses */
	if (fdpkv_cmd_payload_len(&c) < 0 || (uint32_t)fdpkv_cmd_payload_len(&c) != plen) {
		if (fdpkv_cmd_payload_len(&c) >= 0 && !(IN8(in) & 1))
			ctx.payload_len = plen = fdpkv_cmd_payload_len(&c);
	}
	for (slot = 0; slot < M_MAX_INFLIGHT && w.m.cmd[slot].used; slot++)
		;
	if (fdpkv_cmd_check(&c, &ctx, &why, &eff)) {
		w.refused++;
		return;
	}
	w.accepted++;
	verdict(m_cmd_accepted(&w.m, o, &c, w.payload, plen, slot), "fdpkv_cmd_check");
	/*
	 * A full ring: the command completes at once, in the model's spare
	 * slot. Recording it in a used slot would forget that slot's command
	 * while the tables still count it.
	 */
	if (slot == M_MAX_INFLIGHT) {
		m_cmd_completed(&w.m, slot);
		return;
	}
	fdpkv_hold_take(&w.ph, &w.leases, &w.owner[o], &eff, &w.hold[slot]);
	w.hold_owner[slot] = o;
}

static void op_complete(struct input *in)
{
	int slot = IN8(in) % M_MAX_INFLIGHT;

	if (!w.m.cmd[slot].used)
		return;
	fdpkv_hold_drop(&w.ph, &w.leases, &w.owner[w.hold_owner[slot]], &w.hold[slot]);
	m_cmd_completed(&w.m, slot);
}

/* close(): io_uring keeps the file open while its commands are in flight. */
static void op_close(int o)
{
	if (m_owner_busy(&w.m, o))
		return;
	if (fdpkv_owner_inflight(&w.ph, &w.leases, &w.owner[o]))
		verdict("a file with nothing in flight still counts commands", "release");
	fdpkv_ph_release_owner(&w.ph, &w.owner[o]);
	fdpkv_lease_release_owner(&w.leases, &w.owner[o]);
	m_owner_closed(&w.m, o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint16_t pids[M_MAX_PIDS];
	unsigned int npids, i, lba_shift;
	uint64_t capacity;
	uint32_t max_transfer;

	npids = 1 + IN8(&in) % M_MAX_PIDS;
	for (i = 0; i < npids; i++)
		pids[i] = (uint16_t)(i * 37 + 5);	/* ids are not slot indices */
	capacity = 1 + IN16(&in) % M_MAX_BLOCKS;
	lba_shift = IN8(&in) & 1 ? 12 : 9;
	max_transfer = (1 + IN8(&in) % 64) << lba_shift;
	memset(&w, 0, offsetof(struct world, hold));
	w.uid[0] = 1000;
	w.uid[1] = 1000;
	w.uid[2] = 1001;
	fdpkv_ph_table_init(&w.ph, pids, npids);
	fdpkv_lease_table_init(&w.leases, capacity);
	m_init(&w.m, 1, lba_shift, max_transfer, capacity, pids, npids);

	while (in.left) {
		uint8_t op = IN8(&in);
		int o = (op >> 4) % M_OWNERS;

		switch (op % 11) {
		case 0: op_ph_alloc(&in, o); break;
		case 1: op_ph_free(&in, o); break;
		case 2: op_ph_share(&in); break;
		case 3: op_lease_acquire(&in, o); break;
		case 4: op_lease_release(&in, o); break;
		case 5: op_lease_share(&in); break;
		case 6: op_policy(&in); break;
		case 7: op_complete(&in); break;
		case 8: op_close(o); break;
		default: op_cmd(&in, o); break;
		}
	}
	return 0;
}
