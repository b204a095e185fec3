// SPDX-License-Identifier: GPL-2.0
/*
 * lib_churn - libfdpkv on a real (emulated) FDP namespace: a churn of sets
 * and gets over three cache-salt buckets that writes several times the
 * cache's capacity, so eviction runs again and again. Checks:
 *  - every get returns the exact bytes of the last set, or is a miss for an
 *    evicted key (reported by fdpkv_take_evicted), never other bytes;
 *  - each class's writes went through its own placement id, and segments
 *    stay aligned with reclaim units although objects of mixed sizes leave
 *    segment tails unwritten (the library pads them): the part of each used
 *    id's current RU that is written equals what the class's open segment
 *    holds; ids no class uses are untouched;
 *  - evicted segments were deallocated (stats) and segments stayed aligned
 *    with reclaim units: the FDP "RU not fully written" events are counted
 *    and must equal the RU swaps the cache itself asked for (alignment at
 *    open) plus one per RU the churn filled exactly — QEMU 10.0 logs that
 *    event for an exactly filled RU too (FDP.md §3); any more would be a
 *    segment that was not RU aligned.
 *  - the namespace's DLFEAT (Identify Namespace) is what the library read,
 *    and the library's decision follows it (or the extra config): where it
 *    does not trust deallocate, every evicted segment's first LBA was zeroed
 *    through the placement id it reports; those writes are counted in that
 *    id's RUAMW, and when that id is a class's, its open-segment check is
 *    skipped (the wipes sit between the class's segments in its RUs).
 *
 * On bdev: (block write streams) the library cannot read DLFEAT (-1: it
 * wipes) nor move handles to fresh RUs at open: there each id's fill is
 * counted from its RUH status right after the open (the format's
 * superblock writes sit in the metadata id's RU).
 *
 * usage: lib_churn URI NG_DEV CTRL_DEV [CONFIG]
 *   e.g. lib_churn ng:/dev/ng0n1 /dev/ng0n1 /dev/nvme0 dealloc_zeroes=no
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/nvme_ioctl.h>

#include <fdpkv.h>

#include "nvmeio.h"
#include "tap.h"

#define CAPACITY	(16ull << 20)
#define RU_BYTES	(1u << 20)
#define OBJ_BYTES	(256u << 10)	/* the largest object: 64 KiB less for k % 3 */
#define BATCH		8
#define NKEYS		96		/* 24 MiB: more than the cache holds */
/*
 * 33 x 8 objects of ~190 KiB = ~50 MiB, > 3x the capacity, and fewer RU fills than the
 * 63 events QEMU's log keeps, so every event can be accounted for.
 */
#define ROUNDS		33

static const char *salts[] = { "alice:1", "bob:2", "carol:3" };
static uint32_t version[NKEYS];		/* 0: not stored */

static void key_name(char *buf, size_t len, unsigned int k)
{
	snprintf(buf, len, "llama@00010000@0@%08x@%s", k, salts[k % 3]);
}

static uint64_t value_len(const char *key)
{
	/* header (64) + key + value, padded to 4 KiB: 256, 192 or 128 KiB */
	unsigned int k = (unsigned int)strtoul(key + strlen("llama@00010000@0@"), NULL, 16);

	return OBJ_BYTES - 64 - strlen(key) - (k % 3) * (64u << 10);
}

static void fill(uint8_t *p, uint64_t len, unsigned int k, uint32_t ver)
{
	uint32_t x = k * 2654435761u ^ ver * 40503u ^ 0x9e3779b9u;
	uint64_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static int run(struct fdpkv_cache *c, enum fdpkv_op op, unsigned int n, struct fdpkv_key *keys,
	       struct fdpkv_buf *bufs, struct fdpkv_completion *done)
{
	uint64_t id;
	int ret = fdpkv_submit(c, op, n, keys, bufs, NULL, &id);

	if (ret)
		return ret;
	for (;;) {
		fdpkv_wait(c, 10000);
		if (fdpkv_drain(c, done, 1) == 1 && done->id == id)
			return 0;
	}
}

static void forget_evicted(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	unsigned int k;
	char name[128];

	(void)arg;
	(void)vlen;
	for (k = 0; k < NKEYS; k++) {
		key_name(name, sizeof(name), k);
		if (strlen(name) == klen && !memcmp(name, key, klen))
			version[k] = 0;
	}
}

/* Identify Namespace DLFEAT (byte 33) of the namespace behind @fd, or -1. */
static int ns_dlfeat(int fd)
{
	uint8_t *id = nvme_alloc(4096);
	int nsid = ioctl(fd, NVME_IOCTL_ID), ret = -1;
	struct nvme_admin_cmd c = {
		.opcode = 0x06, .nsid = (uint32_t)nsid, .addr = (uintptr_t)id, .data_len = 4096,
		.cdw10 = 0,	/* CNS 0: Identify Namespace */
	};

	if (nsid > 0 && !ioctl(fd, NVME_IOCTL_ADMIN_CMD, &c))
		ret = id[33];
	free(id);
	return ret;
}

static int host_events(int fd)
{
	uint8_t *log = nvme_alloc(4096);
	uint32_t numd = 4096 / 4 - 1, n = 0, i;
	struct nvme_admin_cmd c = {
		.opcode = 0x02, .nsid = 0xffffffff, .addr = (uintptr_t)log, .data_len = 4096,
		/* log 0x23 FDP events, LSP bit 0: host events; LSI: endurance group 1 */
		.cdw10 = 0x23 | 1u << 8 | (numd & 0xffff) << 16, .cdw11 = numd >> 16 | 1u << 16,
	};
	int count = 0;

	if (ioctl(fd, NVME_IOCTL_ADMIN_CMD, &c)) {
		free(log);
		return -1;
	}
	memcpy(&n, log, 4);
	for (i = 0; i < n && i < 63; i++)
		count += log[64 + 64 * i] == 0x00;	/* RU not fully written */
	free(log);
	return count;
}

int main(int argc, char **argv)
{
	const char *uri = argc > 1 ? argv[1] : "ng:/dev/ng0n1";
	const char *ng = argc > 2 ? argv[2] : "/dev/ng0n1";
	const char *ctrl = argc > 3 ? argv[3] : "/dev/nvme0";
	const char *extra = argc > 4 ? argv[4] : "";
	struct ruh_desc ruh0[64], ruh1[64];
	struct fdpkv_key keys[BATCH];
	struct fdpkv_buf bufs[BATCH];
	struct fdpkv_completion done;
	struct fdpkv_device_stats ds;
	struct fdpkv_config cfg;
	struct fdpkv_cache *c;
	struct fdpkv_stats st;
	static char names[BATCH][128];
	struct io_uring ring;
	uint8_t *buf[BATCH], *expect;
	char err[256];
	unsigned int r, i, k, bad = 0, hits = 0, misses = 0, nruh0, nruh1;
	uint64_t class_bytes[FDPKV_MAX_CLASSES] = { 0 }, open_bytes[FDPKV_MAX_CLASSES] = { 0 };
	uint64_t fills = 0;
	int ngfd, ctlfd, ev0, ev1, ret, ok_ids = 1, used, dlfeat, tries;
	int bdev = !strncmp(uri, "bdev:", 5);
	uint64_t wipe_bytes;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ngfd = open(ng, O_RDWR);
	ctlfd = open(ctrl, O_RDWR);
	if (!tap_ok(ngfd >= 0 && ctlfd >= 0 && !nvme_ring_init(&ring, 4), "open %s and %s", ng,
		    ctrl))
		return tap_done();
	nruh0 = nvme_ruh_status(&ring, ngfd, NVME_URING_CMD_IO, 1, ruh0, 64);
	ev0 = host_events(ctlfd);

	fdpkv_config_init(&cfg);
	ret = fdpkv_config_set(&cfg, "device", uri, err, sizeof(err));
	if (!ret)
		ret = fdpkv_config_parse(&cfg, "capacity=16M format=always queue_depth=32 "
					 "placement=salt max_classes=3 free_segments_low=4",
					 err, sizeof(err));
	if (!ret)
		ret = fdpkv_config_parse(&cfg, extra, err, sizeof(err));
	if (!ret)
		ret = fdpkv_open(&cfg, &c, err, sizeof(err));
	if (!tap_ok(ret == 0, "open %s: %s", uri, ret ? err : "ok"))
		return tap_done();
	fdpkv_device_stats(c, 0, &ds);
	dlfeat = ns_dlfeat(ngfd);
	printf("# %s: namespace DLFEAT 0x%02x (deallocated blocks read %s); config '%s'; "
	       "the library read DLFEAT %d and %s\n", uri, dlfeat,
	       (dlfeat & 7) == 1 ? "zeroes" : "unspecified", extra, ds.dlfeat,
	       ds.dealloc_zeroes ? "trusts deallocate to zero" : "wipes evicted segments");
	if (bdev) {
		tap_ok(ds.dlfeat == -1, "bdev: DLFEAT is not visible to the library (%d)", ds.dlfeat);
		/* RUH status now: the format's superblock writes are in it */
		nruh0 = nvme_ruh_status(&ring, ngfd, NVME_URING_CMD_IO, 1, ruh0, 64);
	} else {
		tap_ok(dlfeat >= 0 && ds.dlfeat == dlfeat, "the library read DLFEAT 0x%02x", dlfeat);
	}
	tap_ok(strstr(extra, "dealloc_zeroes=no") ? !ds.dealloc_zeroes
	       : strstr(extra, "dealloc_zeroes=yes") ? ds.dealloc_zeroes
	       : bdev ? !ds.dealloc_zeroes : ds.dealloc_zeroes == ((dlfeat & 7) == 1),
	       "deallocate %s", ds.dealloc_zeroes ? "trusted to zero"
			: "not trusted: evicted segments are wiped");
	tap_ok(ds.segment_bytes == RU_BYTES, "segment size %" PRIu64 " is the RU size (%u)",
	       ds.segment_bytes, RU_BYTES);
	for (i = 0; i < BATCH; i++)
		buf[i] = malloc(OBJ_BYTES);
	expect = malloc(OBJ_BYTES);

	for (r = 0; r < ROUNDS; r++) {
		unsigned int base = (r * BATCH) % NKEYS;

		for (i = 0; i < BATCH; i++) {
			k = (base + i * 7) % NKEYS;
			key_name(names[i], sizeof(names[i]), k);
			keys[i] = (struct fdpkv_key){ names[i], (uint32_t)strlen(names[i]) };
			bufs[i] = (struct fdpkv_buf){ buf[i], value_len(names[i]) };
			fill(buf[i], bufs[i].len, k, r + 1);
		}
		ret = run(c, FDPKV_OP_SET, BATCH, keys, bufs, &done);
		if (ret || done.result) {
			tap_ok(0, "round %u: set batch: %d/%d", r, ret, done.result);
			break;
		}
		fdpkv_completion_release(&done);
		for (i = 0; i < BATCH; i++)
			version[(base + i * 7) % NKEYS] = r + 1;
		fdpkv_take_evicted(c, forget_evicted, NULL);
		/* read back a batch of other keys */
		for (i = 0; i < BATCH; i++) {
			k = (base + 13 + i * 5) % NKEYS;
			key_name(names[i], sizeof(names[i]), k);
			keys[i] = (struct fdpkv_key){ names[i], (uint32_t)strlen(names[i]) };
			bufs[i] = (struct fdpkv_buf){ buf[i], value_len(names[i]) };
			memset(buf[i], 0, OBJ_BYTES);
		}
		if (run(c, FDPKV_OP_GET, BATCH, keys, bufs, &done))
			break;
		fdpkv_take_evicted(c, forget_evicted, NULL);
		for (i = 0; i < BATCH; i++) {
			k = (base + 13 + i * 5) % NKEYS;
			if (done.status[i] == 0) {
				hits++;
				fill(expect, bufs[i].len, k, version[k]);
				/* a key evicted just now may still have been read: any of its versions */
				if (!version[k] || memcmp(expect, buf[i], bufs[i].len)) {
					unsigned int v;

					for (v = 1; v <= r + 1; v++) {
						fill(expect, bufs[i].len, k, v);
						if (!memcmp(expect, buf[i], bufs[i].len))
							break;
					}
					bad += v > r + 1 || (version[k] && v != version[k]);
				}
			} else {
				misses++;
				bad += version[k] != 0 && done.status[i] != -ENOENT;
			}
		}
		fdpkv_completion_release(&done);
	}
	fdpkv_stats(c, &st);
	fdpkv_device_stats(c, 0, &ds);
	/* the last evictions' deallocates and wipes may still be in flight */
	for (tries = 0; !ds.dealloc_zeroes && ds.wiped_segments < st.evicted_segments &&
			tries < 200; tries++) {
		usleep(50000);
		fdpkv_stats(c, &st);
		fdpkv_device_stats(c, 0, &ds);
	}
	wipe_bytes = ds.dealloc_zeroes ? 0 : ds.wiped_segments * 4096;
	if (!ds.dealloc_zeroes)
		tap_ok(ds.wiped_segments == st.evicted_segments && st.io_errors == 0,
		       "every evicted segment wiped through pid %u: %" PRIu64 " of %" PRIu64,
		       ds.wipe_placement_id, ds.wiped_segments, st.evicted_segments);
	tap_ok(r == ROUNDS && bad == 0, "%u rounds: %u gets hit, %u missed, %u wrong", r, hits,
	       misses, bad);
	tap_ok(st.bytes_written >= 3 * CAPACITY, "wrote %" PRIu64 " MiB, %.1fx the capacity",
	       st.bytes_written >> 20, (double)st.bytes_written / CAPACITY);
	tap_ok(st.evicted_segments >= 3 * (CAPACITY / RU_BYTES) - 16,
	       "%" PRIu64 " segments evicted and deallocated, %" PRIu64 " objects", st.evicted_segments,
	       st.evicted_objects);
	for (i = 0; i < st.nclasses; i++) {
		printf("# class %u: pid %u, %" PRIu64 " bytes written, %" PRIu64 " in its open segment\n",
		       i, st.classes[i].placement_id, st.classes[i].bytes_written,
		       st.classes[i].open_segment_bytes);
		class_bytes[i] = st.classes[i].bytes_written;
		open_bytes[i] = st.classes[i].open_segment_bytes;
	}
	fdpkv_close(c);

	/* each used placement id consumed exactly its classes' bytes, modulo the RU */
	nruh1 = nvme_ruh_status(&ring, ngfd, NVME_URING_CMD_IO, 1, ruh1, 64);
	printf("# %" PRIu64 " bytes of padding\n", st.pad_bytes);
	tap_ok(st.segment_overlaps == 0, "no write left for a class's next segment while its "
	       "previous one was in flight (%" PRIu64 ")", st.segment_overlaps);
	tap_ok(st.pad_bytes > 0, "mixed object sizes left segment tails, padded: %" PRIu64 " bytes",
	       st.pad_bytes);
	for (k = 0; k < nruh1 && k < nruh0; k++) {
		/* bytes already in the id's RU when counting began: 0 where the open aligned it */
		uint64_t start = bdev ? (RU_BYTES - ruh0[k].ruamw * 4096) % RU_BYTES : 0;
		uint64_t bytes = 0, open = 0;
		int wipes = wipe_bytes && ruh1[k].pid == ds.wipe_placement_id;

		used = 0;
		for (i = 0; i < st.nclasses; i++) {
			if (st.classes[i].placement_id != ruh1[k].pid)
				continue;
			used = 1;
			bytes += class_bytes[i];
			open += open_bytes[i];
		}
		if (!used && wipes) {
			/* an id of wipes only: not aligned at open, so count from its start */
			uint64_t left = ruh0[k].ruamw * 4096;
			int64_t d = (int64_t)left - (int64_t)wipe_bytes - (int64_t)ruh1[k].ruamw * 4096;

			fills += wipe_bytes >= left ? 1 + (wipe_bytes - left) / RU_BYTES : 0;
			printf("# pid %u: %" PRIu64 " bytes of wipes, RUAMW %" PRIu64 " -> %" PRIu64 "\n",
			       ruh1[k].pid, wipe_bytes, ruh0[k].ruamw, ruh1[k].ruamw);
			if ((d % (int64_t)RU_BYTES + RU_BYTES) % RU_BYTES)
				ok_ids = 0;
			continue;
		}
		if (!used) {
			if (ruh1[k].ruamw != ruh0[k].ruamw)
				ok_ids = 0;
			continue;
		}
		if (wipes)
			bytes += wipe_bytes;
		fills += (start + bytes) / RU_BYTES;
		printf("# pid %u: %" PRIu64 " bytes written%s, RUAMW %" PRIu64 " -> %" PRIu64
		       ", open segment %" PRIu64 "\n", ruh1[k].pid, bytes, wipes ? " with wipes" : "",
		       ruh0[k].ruamw, ruh1[k].ruamw, open);
		/* the written part of the current RU is exactly the open segment */
		if (ruh1[k].ruamw != (RU_BYTES - (start + bytes) % RU_BYTES) / 4096 ||
		    (!wipes && (RU_BYTES - ruh1[k].ruamw * 4096) % RU_BYTES !=
				       (start + open) % RU_BYTES))
			ok_ids = 0;
	}
	tap_ok(nruh1 == nruh0 && ok_ids,
	       "every class wrote through its own placement id, segments on RU boundaries; "
	       "wipes counted on their id; unused ids untouched");
	ev1 = host_events(ctlfd);
	tap_ok(ev0 >= 0 && ev1 >= 0, "FDP host events readable (%d before, %d after)", ev0, ev1);
	printf("# RU not fully written events: %d; cache-requested RU swaps at open: %" PRIu64
	       "; exactly filled RUs (QEMU logs each): %" PRIu64 "\n", ev1 - ev0, ds.ru_realigned,
	       fills);
	tap_ok(ev1 < 63 && ev1 - ev0 == (int)(ds.ru_realigned + fills),
	       "no RU swapped early beyond alignment at open: %d events = %" PRIu64 " + %" PRIu64,
	       ev1 - ev0, ds.ru_realigned, fills);
	return tap_done();
}
