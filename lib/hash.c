// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hash.c - the key hash. It decides a key's device and a bucket's placement
 * class, both of which must be the same after a restart, so it has a fixed
 * seed and never depends on the host. kv_hash_seeded() is the same with a
 * seed of the caller's, for what needs no stability and must not be
 * predictable (the index's fingerprints).
 */
#include <string.h>

#include "internal.h"

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_from(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t w;

	h ^= len * 0x100000001b3ull;
	while (len >= 8) {
		memcpy(&w, p, 8);
		h = mix64(h ^ w) + 0x9e3779b97f4a7c15ull;
		p += 8;
		len -= 8;
	}
	w = 0;
	memcpy(&w, p, len);
	return mix64(h ^ w ^ ((uint64_t)len << 56));
}

uint64_t kv_hash(const void *data, size_t len)
{
	return hash_from(0x9e3779b97f4a7c15ull, data, len);
}

uint64_t kv_hash_seeded(uint64_t seed, const void *data, size_t len)
{
	return hash_from(0x9e3779b97f4a7c15ull ^ mix64(seed), data, len);
}
