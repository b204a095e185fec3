// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gate.c - per-class ordering of writes across segments: a class's writes
 * to its next segment wait until its previous segment has none left in
 * flight (struct devctx: gate), so that on a device with reclaim units a
 * reordering device cannot start one segment inside the previous one's RU.
 */
#include "cache.h"

/*
 * Submit @kr's write now, or park it behind the class's previous segment
 * while that one still has writes reserved or in flight (its last objects,
 * its pad). cache->lock held.
 */
void gate_submit(struct devctx *d, struct key_req *kr)
{
	typeof(d->gate[0]) *g = &d->gate[kr->cls];
	uint32_t cur = g->cur_seg;

	/* no reclaim units (file, ng without FDP): nothing to keep apart */
	if (!d->dev.geo.ru_bytes) {
		write_submit(d, kr, d->segs.segs[kr->seg].open_seq);
		return;
	}
	/*
	 * Writes to the current segment always go, even past parked ones: the
	 * parked writes wait for exactly these (a re-insert copy reserved
	 * earlier may reach here after its read, behind later reservations).
	 */
	if (cur == kr->seg ||
	    (!g->head && (cur == UINT32_MAX || !d->segs.segs[cur].writes ||
			  d->segs.segs[cur].cls != kr->cls))) {
		write_submit(d, kr, d->segs.segs[kr->seg].open_seq);
		return;
	}
	kr->gate_next = NULL;
	if (g->tail)
		g->tail->gate_next = kr;
	else
		g->head = kr;
	g->tail = kr;
}

/* A segment's writes may have drained: let parked writes go. cache->lock held. */
void gate_release(struct devctx *d)
{
	unsigned int cls;

	for (cls = 0; cls < FDPKV_MAX_CLASSES; cls++) {
		typeof(d->gate[0]) *g = &d->gate[cls];
		struct key_req *kr;
		uint32_t next;

		while (g->head && (g->cur_seg == UINT32_MAX || !d->segs.segs[g->cur_seg].writes ||
				   d->segs.segs[g->cur_seg].cls != cls)) {
			/* the whole next segment goes; later ones wait for it */
			next = g->head->seg;
			while ((kr = g->head) && kr->seg == next) {
				g->head = kr->gate_next;
				if (!g->head)
					g->tail = NULL;
				write_submit(d, kr, d->segs.segs[kr->seg].open_seq);
			}
		}
	}
}
