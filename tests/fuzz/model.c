// SPDX-License-Identifier: GPL-2.0
/*
 * model.c - the fuzzer's oracle (see model.h). Deliberately simple and slow:
 * coverage is decided block by block over a painted array, lengths are
 * recomputed from the NVMe fields, 128-bit arithmetic avoids every overflow
 * question. Nothing here is shared with the module.
 */
#include <stddef.h>
#include <string.h>

#include "model.h"

typedef unsigned __int128 u128;

void m_init(struct model *m, uint32_t nsid, unsigned int lba_shift, uint32_t max_transfer,
	    uint64_t capacity, const uint16_t *pids, unsigned int npids)
{
	/* cmd[] is large and only its used flags matter */
	memset(m, 0, offsetof(struct model, cmd));
	for (int s = 0; s <= M_MAX_INFLIGHT; s++)
		m->cmd[s].used = false;
	m->nsid = nsid;
	m->lba_shift = lba_shift;
	m->max_transfer = max_transfer;
	m->capacity = capacity;
	m->uid[0] = 1000;
	m->uid[1] = 1000;
	m->uid[2] = 1001;
	m->npids = npids;
	memcpy(m->pid, pids, npids * sizeof(*pids));
	/* the tables start without a policy: everything */
	m->lim = (struct m_limits){ npids, npids, 256, 256, 100, 100 };
}

static int m_pid_index(const struct model *m, uint16_t pid)
{
	for (unsigned int i = 0; i < m->npids; i++)
		if (m->pid[i] == pid)
			return (int)i;
	return -1;
}

static unsigned int m_holders(const struct model *m, int i)
{
	unsigned int n = 0;

	for (int o = 0; o < M_OWNERS; o++)
		n += m->holds[i][o];
	return n;
}

static unsigned int m_handles_of(const struct model *m, int owner, bool by_uid)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < m->npids; i++) {
		bool h = false;

		for (int o = 0; o < M_OWNERS; o++)
			if (m->holds[i][o] && (o == owner || (by_uid && m->uid[o] == m->uid[owner])))
				h = true;
		n += h;
	}
	return n;
}

static bool m_pid_in_flight(const struct model *m, int owner, uint16_t pid)
{
	for (int s = 0; s < M_MAX_INFLIGHT; s++) {
		const struct m_cmd *c = &m->cmd[s];

		if (!c->used || c->owner != owner)
			continue;
		for (unsigned int k = 0; k < c->npids; k++)
			if (c->pids[k] == pid)
				return true;
	}
	return false;
}

const char *m_ph_granted(struct model *m, int owner, bool shared, const uint16_t *pids,
			 unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		int i = m_pid_index(m, pids[k]);

		if (i < 0)
			return "granted a placement id the namespace does not have";
		for (unsigned int j = 0; j < k; j++)
			if (pids[j] == pids[k])
				return "granted one placement id twice in one call";
		if (m->pid_shared[i] != shared)
			return "granted a handle of the other kind (shared/exclusive)";
		if (m->holds[i][owner])
			return "granted a handle the file already holds";
		if (!shared && m_holders(m, i))
			return "granted an exclusive handle someone holds";
		m->holds[i][owner] = true;
	}
	if (m_handles_of(m, owner, false) > m->lim.handles_file)
		return "a file holds more handles than the policy allows";
	if (m_handles_of(m, owner, true) > m->lim.handles_uid)
		return "a uid holds more handles than the policy allows";
	return NULL;
}

const char *m_ph_freed(struct model *m, int owner, const uint16_t *pids, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		int i = m_pid_index(m, pids[k]);

		if (i < 0 || !m->holds[i][owner])
			return "freed a handle the file does not hold";
		if (m_pid_in_flight(m, owner, pids[k]))
			return "freed a handle while a command using it is in flight";
		m->holds[i][owner] = false;
	}
	return NULL;
}

const char *m_ph_shared(struct model *m, uint16_t pid, bool shared)
{
	int i = m_pid_index(m, pid);

	if (i < 0)
		return "changed the kind of a handle that does not exist";
	if (m_holders(m, i))
		return "changed the kind of a granted handle";
	m->pid_shared[i] = shared;
	return NULL;
}

/* Whether two extents share a block; an empty extent (a DSM range of 0) has none. */
static bool m_overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return an && bn && (u128)a < (u128)b + bn && (u128)b < (u128)a + an;
}

/* Mark every block of the namespace that a lease (extent) of @owner holds. */
static void m_paint(const struct model *m, int owner, bool *painted)
{
	memset(painted, 0, M_MAX_BLOCKS);
	for (int l = 0; l < M_MAX_LEASES; l++)
		if (m->lease[l].used && m->lease[l].owner == owner)
			for (uint64_t b = 0; b < m->lease[l].nlb; b++)
				painted[m->lease[l].slba + b] = true;
}

/* Is every block of [slba, slba + nlb) painted? One block at a time. */
static bool m_covered(const struct model *m, const bool *painted, uint64_t slba, uint64_t nlb)
{
	if ((u128)slba + nlb > m->capacity || m->capacity > M_MAX_BLOCKS)
		return false;
	for (uint64_t b = slba; b < slba + nlb; b++)
		if (!painted[b])
			return false;
	return true;
}

const char *m_lease_granted(struct model *m, int owner, uint64_t slba, uint64_t nlb,
			    bool shared, uint32_t id)
{
	uint64_t blocks_file = nlb, blocks_uid = nlb;
	unsigned int n_file = 1, n_uid = 1;
	int free_slot = -1;

	if (!nlb || (u128)slba + nlb > m->capacity)
		return "leased blocks outside the namespace";
	if (!id)
		return "a lease with id 0";
	if (shared) {
		static bool extents[M_MAX_BLOCKS];

		m_paint(m, -1, extents);
		if (!m_covered(m, extents, slba, nlb))
			return "a shared lease outside the admin's shareable extents";
	}
	for (int l = 0; l < M_MAX_LEASES; l++) {
		if (!m->lease[l].used) {
			if (free_slot < 0)
				free_slot = l;
			continue;
		}
		if (m->lease[l].id == id && m->lease[l].owner >= 0)
			return "a lease id handed out twice";
		if (m->lease[l].owner >= 0) {
			if (m->lease[l].owner == owner) {
				n_file++;
				blocks_file += m->lease[l].nlb;
			}
			if (m->uid[m->lease[l].owner] == m->uid[owner]) {
				n_uid++;
				blocks_uid += m->lease[l].nlb;
			}
		}
		if (!m_overlap(slba, nlb, m->lease[l].slba, m->lease[l].nlb))
			continue;
		if (!shared)
			return "an exclusive lease overlaps another lease or extent";
		if (m->lease[l].owner == owner)
			return "a file holds one block in two leases";
		if (!m->lease[l].shared)
			return "a shared lease overlaps an exclusive one";
	}
	if (n_file > m->lim.leases_file || n_uid > m->lim.leases_uid)
		return "more leases than the policy allows";
	if ((u128)blocks_file * 100 > (u128)m->capacity * m->lim.pct_file ||
	    (u128)blocks_uid * 100 > (u128)m->capacity * m->lim.pct_uid)
		return "more blocks than the policy allows";
	if (free_slot < 0)
		return "more leases than the model has room for";
	m->lease[free_slot].used = true;
	m->lease[free_slot].id = id;
	m->lease[free_slot].owner = owner;
	m->lease[free_slot].slba = slba;
	m->lease[free_slot].nlb = nlb;
	m->lease[free_slot].shared = shared;
	return NULL;
}

const char *m_lease_released(struct model *m, int owner, uint32_t id)
{
	for (int l = 0; l < M_MAX_LEASES; l++) {
		if (!m->lease[l].used || m->lease[l].id != id || m->lease[l].owner != owner)
			continue;
		for (int s = 0; s < M_MAX_INFLIGHT; s++) {
			const struct m_cmd *c = &m->cmd[s];

			if (!c->used || c->owner != owner)
				continue;
			for (unsigned int r = 0; r < c->nranges; r++)
				if (m_overlap(c->slba[r], c->nlb[r], m->lease[l].slba,
					      m->lease[l].nlb))
					return "released a lease while a command on it is in flight";
		}
		m->lease[l].used = false;
		return NULL;
	}
	return "released a lease the file does not hold";
}

const char *m_extent_set(struct model *m, uint64_t slba, uint64_t nlb, bool shared)
{
	int l, free_slot = -1;

	if (!nlb || (u128)slba + nlb > m->capacity)
		return "a shareable extent outside the namespace";
	for (l = 0; l < M_MAX_LEASES; l++) {
		if (!m->lease[l].used) {
			if (free_slot < 0)
				free_slot = l;
			continue;
		}
		if (!shared && m->lease[l].owner < 0 && m->lease[l].slba == slba &&
		    m->lease[l].nlb == nlb) {
			free_slot = l;
			break;
		}
	}
	for (int k = 0; k < M_MAX_LEASES; k++) {
		if (!m->lease[k].used || k == l ||
		    !m_overlap(slba, nlb, m->lease[k].slba, m->lease[k].nlb))
			continue;
		return shared ? "a shareable extent over a lease or extent"
			      : "removed an extent with a shared lease inside";
	}
	if (!shared) {
		if (l == M_MAX_LEASES)
			return "removed an extent that does not exist";
		m->lease[l].used = false;
		return NULL;
	}
	if (free_slot < 0)
		return "more extents than the model has room for";
	m->lease[free_slot].used = true;
	m->lease[free_slot].id = 0;
	m->lease[free_slot].owner = -1;
	m->lease[free_slot].slba = slba;
	m->lease[free_slot].nlb = nlb;
	m->lease[free_slot].shared = true;
	return NULL;
}

const char *m_limits_set(struct model *m, const struct m_limits *lim)
{
	if (!lim->handles_file || lim->handles_file > m->npids || !lim->handles_uid ||
	    lim->handles_uid > m->npids || !lim->leases_file || lim->leases_file > 256 ||
	    !lim->leases_uid || lim->leases_uid > 256 || !lim->pct_file ||
	    lim->pct_file > 100 || !lim->pct_uid || lim->pct_uid > 100)
		return "accepted a policy with a limit of 0 or beyond the table";
	m->lim = *lim;
	return NULL;
}

bool m_owner_busy(const struct model *m, int owner)
{
	for (int s = 0; s < M_MAX_INFLIGHT; s++)
		if (m->cmd[s].used && m->cmd[s].owner == owner)
			return true;
	return false;
}

void m_owner_closed(struct model *m, int owner)
{
	for (unsigned int i = 0; i < m->npids; i++)
		m->holds[i][owner] = false;
	for (int l = 0; l < M_MAX_LEASES; l++)
		if (m->lease[l].owner == owner)
			m->lease[l].used = false;
}

static bool m_holds_pid(const struct model *m, int owner, uint16_t pid)
{
	int i = m_pid_index(m, pid);

	return i >= 0 && m->holds[i][owner];
}

/* held ids are distinct and at most M_MAX_PIDS: the record never overflows */
static bool m_pid_listed(const struct m_cmd *rec, uint16_t pid)
{
	for (unsigned int k = 0; k < rec->npids; k++)
		if (rec->pids[k] == pid)
			return true;
	return false;
}

/* NVM Write / Write Zeroes: DTYPE (CDW12 23:20) must be 2, DSPEC a held id. */
static const char *m_placement(struct model *m, int owner, const struct nvme_uring_cmd *c,
			       struct m_cmd *rec)
{
	uint16_t pid = (uint16_t)(c->cdw13 >> 16);

	if (((c->cdw12 >> 20) & 0xf) != 2)
		return "a media write without a placement directive";
	if (!m_holds_pid(m, owner, pid))
		return "a media write to a placement id the file does not hold";
	rec->pids[rec->npids++] = pid;
	return NULL;
}

const char *m_cmd_accepted(struct model *m, int owner, const struct nvme_uring_cmd *c,
			   const void *payload, uint32_t payload_len, int slot)
{
	static bool painted[M_MAX_BLOCKS];
	struct m_cmd *rec = &m->cmd[slot];
	const char *why = NULL;
	uint64_t slba, nlb, bytes;
	unsigned int n;

	memset(rec, 0, sizeof(*rec));
	rec->owner = owner;
	/* nothing in the SQE may select SGLs, fuse, or point the device at metadata */
	if (c->flags || c->rsvd1 || c->metadata || c->metadata_len || c->cdw2 || c->cdw3 ||
	    c->rsvd2)
		return "accepted flags, metadata or reserved fields";
	if (c->nsid != m->nsid)
		return "accepted a command for another namespace";
	m_paint(m, owner, painted);
	switch (c->opcode) {
	case 0x00:	/* Flush */
		if (c->data_len || c->addr)
			return "a flush with a buffer";
		break;
	case 0x01:	/* Write */
	case 0x02:	/* Read */
	case 0x08:	/* Write Zeroes */
		slba = (uint64_t)c->cdw11 << 32 | c->cdw10;
		nlb = (c->cdw12 & 0xffff) + 1;
		bytes = nlb << m->lba_shift;
		if (c->opcode == 0x08) {
			if (c->data_len || c->addr)
				return "write zeroes with a buffer";
		} else {
			if (bytes > c->data_len)
				return "the device would transfer past the mapped buffer";
			if (bytes > m->max_transfer)
				return "a transfer beyond the namespace's limit";
		}
		if (!m_covered(m, painted, slba, nlb))
			return "blocks outside the file's leases";
		rec->slba[0] = slba;
		rec->nlb[0] = nlb;
		rec->nranges = 1;
		if (c->opcode != 0x02)
			why = m_placement(m, owner, c, rec);
		break;
	case 0x09:	/* Dataset Management */
		n = (c->cdw10 & 0xff) + 1;
		if ((uint64_t)n * 16 > payload_len || c->data_len != payload_len)
			return "DSM ranges beyond the checked copy";
		for (unsigned int r = 0; r < n; r++) {
			const uint8_t *p = (const uint8_t *)payload + r * 16;
			uint32_t rnlb;
			uint64_t rslba;

			memcpy(&rnlb, p + 4, 4);
			memcpy(&rslba, p + 8, 8);
			if (rnlb && !m_covered(m, painted, rslba, rnlb))
				return "a DSM range outside the file's leases";
			rec->slba[r] = rslba;
			rec->nlb[r] = rnlb;
		}
		rec->nranges = n;
		break;
	case 0x12:	/* I/O Management Receive */
		if ((c->cdw10 & 0xff) != 1)
			return "I/O Management Receive other than RUH Status";
		bytes = ((uint64_t)c->cdw11 + 1) * 4;
		if (bytes > c->data_len || bytes > m->max_transfer)
			return "RUH Status past the mapped buffer";
		break;
	case 0x1d:	/* I/O Management Send */
		if ((c->cdw10 & 0xff) != 1)
			return "I/O Management Send other than RUH Update";
		n = (c->cdw10 >> 16) + 1;
		if ((uint64_t)n * 2 > payload_len || c->data_len != payload_len ||
		    payload_len > 4096)
			return "RUH Update ids beyond the checked copy";
		for (unsigned int k = 0; k < n; k++) {
			uint16_t pid;

			memcpy(&pid, (const uint8_t *)payload + 2 * k, 2);
			if (!m_holds_pid(m, owner, pid))
				return "RUH Update of a placement id the file does not hold";
			if (!m_pid_listed(rec, pid))
				rec->pids[rec->npids++] = pid;
		}
		break;
	default:
		return "accepted an opcode a cache does not need";
	}
	if (!why)
		rec->used = true;
	return why;
}

void m_cmd_completed(struct model *m, int slot)
{
	m->cmd[slot].used = false;
}
