/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _FDPKV_SHIM_BITMAP_H
#define _FDPKV_SHIM_BITMAP_H

#include <string.h>
#include <linux/bits.h>
#include <linux/types.h>

#define BITS_TO_LONGS(n)	(((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define DECLARE_BITMAP(name, bits)	unsigned long name[BITS_TO_LONGS(bits)]

static inline void __set_bit(unsigned int nr, unsigned long *b)
{
	b[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG);
}

static inline void __clear_bit(unsigned int nr, unsigned long *b)
{
	b[nr / BITS_PER_LONG] &= ~(1UL << (nr % BITS_PER_LONG));
}

static inline bool test_bit(unsigned int nr, const unsigned long *b)
{
	return b[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG) & 1;
}

static inline void bitmap_zero(unsigned long *b, unsigned int bits)
{
	memset(b, 0, BITS_TO_LONGS(bits) * sizeof(long));
}

static inline void bitmap_copy(unsigned long *d, const unsigned long *s, unsigned int bits)
{
	memcpy(d, s, BITS_TO_LONGS(bits) * sizeof(long));
}

static inline void bitmap_set(unsigned long *b, unsigned int start, unsigned int len)
{
	while (len--)
		__set_bit(start++, b);
}

static inline unsigned int bitmap_weight(const unsigned long *b, unsigned int bits)
{
	unsigned int i, n = 0;

	for (i = 0; i < bits; i++)
		n += test_bit(i, b);
	return n;
}

static inline unsigned int find_next_bit(const unsigned long *b, unsigned int size,
					 unsigned int off)
{
	while (off < size && !test_bit(off, b))
		off++;
	return off;
}

#define for_each_set_bit(bit, addr, size) \
	for ((bit) = find_next_bit((addr), (size), 0); (bit) < (size); \
	     (bit) = find_next_bit((addr), (size), (bit) + 1))

#endif
