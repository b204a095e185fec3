// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_copy_pieces - large bounced values moved in pieces on the copy
 * workers (lib/pieces.c, issue 12): how an object image is cut, that the
 * pieces' crcs combine into the one crc the format keeps (a value written
 * in pieces reads back inline and the other way round), odd sizes, that a
 * value of many pieces goes through a ring of piece slots (not a staging
 * image of its size), that a piece write failing mid-value leaves no header
 * on the device, that a damaged piece makes the whole GET a miss, and the
 * configuration knobs. And an aligned value read straight into the caller's
 * buffer in pieces, each checksummed as it lands: odd sizes, either way round
 * with the one-command read, damage anywhere, a piece's read failing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "util.h"

#define PIECE	(16u << 10)

/* Pieces tile the image and, in order, the value, whatever the sizes. */
static void test_piece_span_tiles(void **state)
{
	static const uint32_t klens[] = { 1, 33, 255, 4000 };
	static const uint64_t vlens[] = { 1, PIECE - 100, PIECE, PIECE + 1, 3 * PIECE + 17,
					  5 * PIECE - 1, 8 * PIECE, 100003 };
	static const uint64_t pieces[] = { 4096, PIECE, 1 << 20 };

	(void)state;
	for (unsigned int a = 0; a < ARRAY_SIZE(klens); a++)
	for (unsigned int b = 0; b < ARRAY_SIZE(vlens); b++)
	for (unsigned int p = 0; p < ARRAY_SIZE(pieces); p++) {
		uint64_t voff = OBJ_HDR_SIZE + klens[a], vlen = vlens[b], piece = pieces[p];
		uint64_t size = obj_size(klens[a], vlen, 4096), img = 0, val = 0;
		uint32_t n = piece_count(size, piece), k;
		struct piece_span s;

		assert_true((uint64_t)n * piece >= size && (uint64_t)(n - 1) * piece < size);
		for (k = 0; k < n; k++) {
			piece_span(size, voff, vlen, piece, k, &s);
			assert_int_equal(s.off, img);
			assert_true(s.len > 0 && s.len <= piece);
			img += s.len;
			if (!s.vlen)
				continue;
			assert_int_equal(s.vstart, val);	/* in order, no gap */
			assert_true(voff + s.vstart >= s.off);	/* inside its piece */
			assert_true(voff + s.vstart + s.vlen <= s.off + s.len);
			val += s.vlen;
		}
		assert_int_equal(img, size);
		assert_int_equal(val, vlen);
	}
}

/* crc(A.B) from crc(A), crc(B), |B|: at every split, and folded over many. */
static void test_crc_combine(void **state)
{
	static uint8_t buf[100003];
	static const size_t cuts[] = { 0, 1, 7, 8, 4096, 50000, 99999, sizeof(buf) };
	uint32_t whole, fold = 0;
	size_t at;

	(void)state;
	tu_fill(buf, sizeof(buf), 7);
	whole = crc32c(0, buf, sizeof(buf));
	for (unsigned int i = 0; i < ARRAY_SIZE(cuts); i++) {
		size_t c = cuts[i];

		assert_int_equal(crc32c_combine(crc32c(0, buf, c), crc32c(0, buf + c,
						sizeof(buf) - c), sizeof(buf) - c), whole);
	}
	for (at = 0; at < sizeof(buf); at += 777) {
		size_t n = MIN(sizeof(buf) - at, 777);

		fold = crc32c_combine(fold, crc32c(0, buf + at, n), n);
	}
	assert_int_equal(fold, whole);
	assert_int_equal(crc32c_combine(0x12345678, 0x9abcdef0, 0), 0x12345678 ^ 0x9abcdef0);
}

static struct fdpkv_cache *open_file(const char *path, unsigned int threads)
{
	char kv[600];

	snprintf(kv, sizeof(kv), "device=file:%s capacity=32M segment_size=2M placement=none "
		 "copy_piece=16K copy_threads=%u", path, threads);
	return tu_open(kv);
}

static const uint64_t odd_sizes[] = { PIECE - 80, PIECE + 1, 3 * PIECE + 17, 5 * PIECE - 1,
				      8 * PIECE, 100003 };

/*
 * Odd sizes through a misaligned buffer, in pieces, read back in pieces, and
 * after a reopen without workers (the inline path checks the one value crc
 * of lib/FORMAT.md); and written inline, read back in pieces.
 */
static void test_pieces_roundtrip_odd_sizes(void **state)
{
	char *dir = tu_mkdtemp(), path[400], key[32];
	uint8_t *src = malloc(8 * PIECE + 1), *got = malloc(8 * PIECE + 1);
	struct fdpkv_cache *c;
	unsigned int i, pass;

	(void)state;
	snprintf(path, sizeof(path), "%s/d.img", dir);
	for (pass = 0; pass < 2; pass++) {
		/* pass 0: written in pieces; pass 1: written inline */
		c = open_file(path, pass ? 0 : 2);
		assert_int_equal(atomic_load(&c->st.piece_jobs), 0);
		for (i = 0; i < ARRAY_SIZE(odd_sizes); i++) {
			snprintf(key, sizeof(key), "p%u-k%u", pass, i);
			tu_fill(src + 1, odd_sizes[i], i + 10 * pass);
			assert_int_equal(tu_set1(c, key, src + 1, odd_sizes[i]), 0);
			memset(got, 0, 8 * PIECE + 1);
			assert_int_equal(tu_get1(c, key, got + 1, odd_sizes[i]), 0);
			assert_memory_equal(got + 1, src + 1, odd_sizes[i]);
		}
		/* every size above spans two pieces or more */
		if (pass == 0)
			assert_true(atomic_load(&c->st.piece_jobs) >= 2 * 2 * ARRAY_SIZE(odd_sizes));
		else
			assert_int_equal(atomic_load(&c->st.piece_jobs), 0);
		fdpkv_close(c);
		c = open_file(path, pass ? 2 : 0);	/* read with the other path */
		for (i = 0; i < ARRAY_SIZE(odd_sizes); i++) {
			snprintf(key, sizeof(key), "p%u-k%u", pass, i);
			tu_fill(src + 1, odd_sizes[i], i + 10 * pass);
			memset(got, 0, 8 * PIECE + 1);
			assert_int_equal(tu_get1(c, key, got + 1, odd_sizes[i]), 0);
			assert_memory_equal(got + 1, src + 1, odd_sizes[i]);
		}
		assert_true(pass ? atomic_load(&c->st.piece_jobs) > 0
				 : atomic_load(&c->st.piece_jobs) == 0);
		fdpkv_close(c);
	}
	free(src);
	free(got);
	tu_rmdir(dir);
}

/*
 * A value of many more pieces than the ring holds, through a misaligned
 * buffer: read back exact, and staged through piece 0 and PIPE_RING slots
 * (the pooled staging buffers afterwards are that size, not the image's).
 */
static void test_pieces_ring_many_pieces(void **state)
{
	char *dir = tu_mkdtemp(), path[400];
	uint64_t len = 37 * PIECE + 5, size = obj_size(4, len, 4096);
	uint64_t ring = pipe_staging_bytes(size, PIECE);
	uint8_t *src = malloc(len + 1), *got = malloc(len + 1);
	struct fdpkv_cache *c;
	unsigned int i;

	(void)state;
	assert_int_equal(ring, (PIPE_RING + 1) * PIECE);
	snprintf(path, sizeof(path), "%s/d.img", dir);
	c = open_file(path, 2);
	for (i = 0; i < 3; i++) {
		tu_fill(src + 1, len, 40 + i);
		assert_int_equal(tu_set1(c, "many", src + 1, len), 0);
		memset(got, 0, len + 1);
		assert_int_equal(tu_get1(c, "many", got + 1, len), 0);
		assert_memory_equal(got + 1, src + 1, len);
	}
	/* every piece staged on SET and copied out on GET */
	assert_int_equal(atomic_load(&c->st.piece_jobs), 3 * 2 * piece_count(size, PIECE));
	assert_true(c->pool.n > 0);
	for (i = 0; i < c->pool.n; i++)
		assert_true(c->pool.slot[i].cap <= ring);
	fdpkv_close(c);
	free(src);
	free(got);
	tu_rmdir(dir);
}

/* Where @key's object starts on its device. */
static uint64_t object_offset(struct fdpkv_cache *c, const char *key)
{
	struct index_entry *e;
	uint64_t off;

	cache_lock(c);
	e = index_find(&c->ix, (const uint8_t *)key, strlen(key));
	assert_non_null(e);
	off = seg_base(&c->devs[e->dev], e->seg) +
	      (uint64_t)e->off_lba * c->devs[e->dev].sb.lba_size;
	cache_unlock(c);
	return off;
}

/*
 * The write of piece 2 of 13 fails: the SET fails with it, the pieces
 * staged after it are not written and neither is the header, so after a
 * reopen recovery finds no object for the key (a header over the partly
 * written value would be found, and only a GET would then see it damaged),
 * while the object before it is whole.
 */
static void test_pieces_failed_piece_write_no_header(void **state)
{
	const char *kv = "device=sim:name=pieces-wfail capacity=32M segment_size=2M "
			 "placement=none copy_piece=16K copy_threads=2";
	uint64_t len = 12 * PIECE + 99, size = obj_size(1, len, 4096), next;
	uint8_t *src = malloc(len + 1), *got = malloc(len + 1);
	struct fdpkv_cache *c;

	(void)state;
	assert_true(piece_count(size, PIECE) > PIPE_RING + 3);
	c = tu_open(kv);
	tu_fill(src + 1, len, 21);
	assert_int_equal(tu_set1(c, "a", src + 1, len), 0);
	/* "b" goes right behind "a" in the same segment */
	next = object_offset(c, "a") + size;
	assert_int_equal(sim_fail_range("pieces-wfail", 1u << IO_WRITE, next + 2 * PIECE, PIECE),
			 0);
	assert_int_equal(tu_set1(c, "b", src + 1, len), -EIO);
	assert_int_equal(sim_fail_range("pieces-wfail", 0, 0, 0), 0);
	fdpkv_close(c);

	c = tu_open(kv);
	cache_lock(c);
	assert_null(index_find(&c->ix, (const uint8_t *)"b", 1));
	cache_unlock(c);
	assert_int_equal(tu_get1(c, "b", got + 1, len), -ENOENT);
	assert_int_equal(tu_get1(c, "a", got + 1, len), 0);
	assert_memory_equal(got + 1, src + 1, len);
	fdpkv_close(c);
	assert_int_equal(sim_destroy("pieces-wfail"), 0);
	free(src);
	free(got);
}

/* A damaged byte in one piece: the whole GET is a miss, never a hit with
 * part of the value, and the key stays a miss. */
static void test_pieces_damaged_piece_is_miss(void **state)
{
	char *dir = tu_mkdtemp(), path[400];
	uint64_t len = 5 * PIECE + 123;
	uint8_t *src = malloc(len + 1), *got = malloc(len + 1);
	struct fdpkv_completion comp;
	struct fdpkv_key k = tu_key("damaged");
	struct fdpkv_buf b = { got + 1, len };
	struct fdpkv_stats st;
	struct fdpkv_cache *c;
	long long off;

	(void)state;
	snprintf(path, sizeof(path), "%s/d.img", dir);
	c = open_file(path, 2);
	tu_fill(src + 1, len, 5);
	assert_int_equal(tu_set1(c, "damaged", src + 1, len), 0);
	off = tu_find_bytes(path, src + 1 + 3 * PIECE + 500, 64);	/* piece 3 */
	assert_true(off > 0);
	tu_flip_bits(path, off + 10, 0x40);
	assert_int_equal(tu_run(c, FDPKV_OP_GET, 1, &k, &b, &comp), -ENOENT);
	assert_int_equal(comp.status[0], -ENOENT);
	assert_int_equal(comp.value_len[0], 0);
	fdpkv_completion_release(&comp);
	assert_int_equal(fdpkv_stats(c, &st), 0);
	assert_int_equal(st.corrupt_objects, 1);
	assert_int_equal(tu_get1(c, "damaged", got + 1, len), -ENOENT);	/* dropped */
	fdpkv_close(c);
	free(src);
	free(got);
	tu_rmdir(dir);
}

/* Many in flight, the same key among them: the last SET submitted wins, as
 * keys reserve their slots in submission order while workers stage. */
static void test_pieces_last_set_wins(void **state)
{
	enum { N = 8 };
	char *dir = tu_mkdtemp(), path[400];
	uint64_t len = 4 * PIECE + 7, id;
	uint8_t *src = malloc(N * (len + 1)), *got = malloc(len);
	struct fdpkv_key k = tu_key("same");
	struct fdpkv_completion comp;
	struct fdpkv_cache *c;
	unsigned int i, done = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/d.img", dir);
	c = open_file(path, 2);
	for (i = 0; i < N; i++) {
		struct fdpkv_buf b = { src + i * (len + 1) + 1, len };

		tu_fill(b.base, len, 100 + i);
		assert_int_equal(fdpkv_submit(c, FDPKV_OP_SET, 1, &k, &b, NULL, &id), 0);
	}
	while (done < N) {
		int n;

		assert_true(fdpkv_wait(c, 10000) > 0);
		while ((n = fdpkv_drain(c, &comp, 1)) == 1) {
			assert_int_equal(comp.result, 0);
			fdpkv_completion_release(&comp);
			done++;
		}
	}
	assert_int_equal(tu_get1(c, "same", got, len), 0);
	assert_memory_equal(got, src + (N - 1) * (len + 1) + 1, len);
	fdpkv_close(c);
	free(src);
	free(got);
	tu_rmdir(dir);
}

/* Every command failing (a sim device after a power cut, SIM_CUT_FAIL): a
 * GET in pieces reports the error, a SET in pieces too; neither a hit. */
static void test_pieces_io_error_fails_key(void **state)
{
	uint64_t len = 5 * PIECE + 9;
	uint8_t *src = malloc(len + 1), *got = malloc(len + 1);
	struct fdpkv_key k = tu_key("a");
	struct fdpkv_buf b = { got + 1, len };
	struct fdpkv_completion comp;
	struct fdpkv_cache *c;

	(void)state;
	c = tu_open("device=sim:name=pieces-err&vwc=1 capacity=32M segment_size=2M "
		    "placement=none copy_piece=16K copy_threads=2");
	tu_fill(src + 1, len, 9);
	assert_int_equal(tu_set1(c, "a", src + 1, len), 0);
	assert_int_equal(sim_power_cut("pieces-err", 1, SIM_CUT_FAIL, NULL), 0);
	assert_int_equal(tu_run(c, FDPKV_OP_GET, 1, &k, &b, &comp), -EIO);
	assert_int_equal(comp.value_len[0], 0);
	fdpkv_completion_release(&comp);
	assert_int_equal(tu_set1(c, "b", src + 1, len), -EIO);
	fdpkv_close(c);
	assert_int_equal(sim_destroy("pieces-err"), 0);
	free(src);
	free(got);
}

/* ---- GET straight into the caller's buffer, in pieces ---------------------- */

static uint8_t *aligned_buf(uint64_t len)
{
	void *p = NULL;

	assert_int_equal(posix_memalign(&p, 4096, len), 0);
	return p;
}

/*
 * Aligned values of whole LBAs, not all whole pieces: written and read with
 * workers in pieces (one crc job per value piece, from and into the
 * caller's buffer), without workers in one command; each reads what the
 * other path's SET wrote, so the pieces' crcs combine into the one crc the
 * header keeps.
 */
static void test_direct_pieces_odd_sizes(void **state)
{
	static const uint64_t sizes[] = { PIECE + 4096, 5 * PIECE + 12288, 8 * PIECE };
	char *dir = tu_mkdtemp(), path[400], key[16];
	uint8_t *src = aligned_buf(8 * PIECE), *got = aligned_buf(8 * PIECE);
	struct fdpkv_cache *c;
	unsigned int i, pass, threads;

	(void)state;
	snprintf(path, sizeof(path), "%s/d.img", dir);
	for (pass = 0; pass < 2; pass++) {
		/* pass 0: SET with workers; pass 1: SET without */
		uint64_t set_jobs = 0;

		c = open_file(path, pass ? 0 : 2);
		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			snprintf(key, sizeof(key), "d%u", i);
			tu_fill(src, sizes[i], 40 + i + pass);
			assert_int_equal(tu_set1(c, key, src, sizes[i]), 0);
			/* with workers: each value piece and the head a job */
			set_jobs += pass ? 0 : 1 + (sizes[i] + PIECE - 1) / PIECE;
			assert_int_equal(atomic_load(&c->st.set_crc_jobs), set_jobs);
		}
		assert_int_equal(atomic_load(&c->st.piece_jobs), 0);	/* nothing staged */
		assert_int_equal(atomic_load(&c->st.direct_bytes),
				 sizes[0] + sizes[1] + sizes[2]);
		fdpkv_close(c);
		for (threads = 0; threads <= 2; threads += 2) {
			uint64_t jobs = 0;

			c = open_file(path, threads);
			for (i = 0; i < ARRAY_SIZE(sizes); i++) {
				snprintf(key, sizeof(key), "d%u", i);
				tu_fill(src, sizes[i], 40 + i + pass);
				memset(got, 0, sizes[i]);
				assert_int_equal(tu_get1(c, key, got, sizes[i]), 0);
				assert_memory_equal(got, src, sizes[i]);
				jobs += threads ? (sizes[i] + PIECE - 1) / PIECE : 0;
				assert_int_equal(atomic_load(&c->st.crc_jobs), jobs);
			}
			assert_int_equal(atomic_load(&c->st.piece_jobs), 0);	/* nothing bounced */
			fdpkv_close(c);
		}
	}
	free(src);
	free(got);
	tu_rmdir(dir);
}

/*
 * A damaged byte in the last, short, piece of one value, and in the key of
 * another (the head, checked once every piece is in): both GETs miss, the
 * keys stay misses, the others are whole.
 */
static void test_direct_pieces_damage_is_miss(void **state)
{
	const uint64_t len = 4 * PIECE + 8192;
	char *dir = tu_mkdtemp(), path[400];
	uint8_t *src = aligned_buf(len), *got = aligned_buf(len);
	struct fdpkv_stats st;
	struct fdpkv_cache *c;
	long long off;

	(void)state;
	snprintf(path, sizeof(path), "%s/d.img", dir);
	c = open_file(path, 2);
	tu_fill(src, len, 61);
	assert_int_equal(tu_set1(c, "tail-damaged", src, len), 0);
	assert_int_equal(tu_set1(c, "whole", src, len), 0);
	tu_fill(src, len, 62);
	assert_int_equal(tu_set1(c, "key-damaged-key-damaged", src, len), 0);
	tu_fill(src, len, 61);
	off = tu_find_bytes(path, src + len - 4096, 64);		/* in the last piece */
	assert_true(off > 0);
	tu_flip_bits(path, off + 5, 0x02);
	off = tu_find_bytes(path, "key-damaged-key-damaged", 23);
	assert_true(off > 0);
	tu_flip_bits(path, off + 3, 0x10);

	assert_int_equal(tu_get1(c, "tail-damaged", got, len), -ENOENT);
	assert_int_equal(tu_get1(c, "key-damaged-key-damaged", got, len), -ENOENT);
	assert_int_equal(fdpkv_stats(c, &st), 0);
	assert_int_equal(st.corrupt_objects, 2);
	assert_int_equal(tu_get1(c, "tail-damaged", got, len), -ENOENT);	/* dropped */
	assert_int_equal(tu_get1(c, "whole", got, len), 0);
	assert_memory_equal(got, src, len);
	fdpkv_close(c);
	free(src);
	free(got);
	tu_rmdir(dir);
}

/*
 * One value piece's read fails: the GET fails with the error (no hit, no
 * length), the entry stays, and once the device reads again the key does.
 */
static void test_direct_piece_read_fails(void **state)
{
	const uint64_t len = 6 * PIECE;
	uint8_t *src = aligned_buf(len), *got = aligned_buf(len);
	struct fdpkv_key k = tu_key("a");
	struct fdpkv_buf b = { got, len };
	struct fdpkv_completion comp;
	struct fdpkv_cache *c;
	uint64_t at;

	(void)state;
	c = tu_open("device=sim:name=direct-rfail capacity=32M segment_size=2M "
		    "placement=none copy_piece=16K copy_threads=2");
	tu_fill(src, len, 71);
	assert_int_equal(tu_set1(c, "a", src, len), 0);
	at = object_offset(c, "a") + 4096;		/* the value, past its head's LBA */
	assert_int_equal(sim_fail_range("direct-rfail", 1u << IO_READ, at + 3 * PIECE, 4096), 0);
	assert_int_equal(tu_run(c, FDPKV_OP_GET, 1, &k, &b, &comp), -EIO);
	assert_int_equal(comp.status[0], -EIO);
	assert_int_equal(comp.value_len[0], 0);
	fdpkv_completion_release(&comp);
	assert_int_equal(atomic_load(&c->st.crc_jobs), 6);	/* each piece still reported */
	assert_int_equal(sim_fail_range("direct-rfail", 0, 0, 0), 0);
	memset(got, 0, len);
	assert_int_equal(tu_get1(c, "a", got, len), 0);
	assert_memory_equal(got, src, len);
	fdpkv_close(c);
	assert_int_equal(sim_destroy("direct-rfail"), 0);
	free(src);
	free(got);
}

/*
 * The write of value piece 2 of an aligned SET in pieces fails: the SET
 * fails, and the head, written last, is not written at all, so after a
 * reopen recovery finds nothing of the key, while the object before it is
 * whole.
 */
static void test_direct_set_failed_piece_no_header(void **state)
{
	const char *kv = "device=sim:name=direct-wfail capacity=32M segment_size=2M "
			 "placement=none copy_piece=16K copy_threads=2";
	const uint64_t len = 8 * PIECE;
	uint8_t *src = aligned_buf(len), *got = aligned_buf(len);
	struct fdpkv_cache *c;
	uint64_t next;

	(void)state;
	c = tu_open(kv);
	tu_fill(src, len, 23);
	assert_int_equal(tu_set1(c, "a", src, len), 0);
	/* "b" goes right behind "a": its head's LBA, then its value */
	next = object_offset(c, "a") + 4096 + len;
	assert_int_equal(sim_fail_range("direct-wfail", 1u << IO_WRITE, next + 4096 + 2 * PIECE,
					PIECE), 0);
	assert_int_equal(tu_set1(c, "b", src, len), -EIO);
	assert_int_equal(sim_fail_range("direct-wfail", 0, 0, 0), 0);
	fdpkv_close(c);

	c = tu_open(kv);
	cache_lock(c);
	assert_null(index_find(&c->ix, (const uint8_t *)"b", 1));
	cache_unlock(c);
	assert_int_equal(tu_get1(c, "b", got, len), -ENOENT);
	assert_int_equal(tu_get1(c, "a", got, len), 0);
	assert_memory_equal(got, src, len);
	fdpkv_close(c);
	assert_int_equal(sim_destroy("direct-wfail"), 0);
	free(src);
	free(got);
}

static void test_pieces_config(void **state)
{
	struct fdpkv_config cfg;
	char err[256];

	(void)state;
	fdpkv_config_init(&cfg);
	assert_true(cfg.copy_threads >= 1 && cfg.copy_threads <= 2);
	assert_int_equal(cfg.copy_piece_bytes, 1 << 20);
	assert_int_equal(fdpkv_config_set(&cfg, "copy_threads", "65", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "copy_threads"));
	assert_int_equal(fdpkv_config_set(&cfg, "copy_piece", "1000", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "copy_piece"));
	assert_int_equal(fdpkv_config_set(&cfg, "copy_piece", "128M", err, sizeof(err)), -EINVAL);
	assert_int_equal(fdpkv_config_set(&cfg, "copy_piece", "4M", err, sizeof(err)), 0);
	assert_int_equal(cfg.copy_piece_bytes, 4 << 20);
	assert_int_equal(fdpkv_config_set(&cfg, "copy_threads", "0", err, sizeof(err)), 0);
	assert_int_equal(cfg.copy_threads, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_piece_span_tiles),
		cmocka_unit_test(test_crc_combine),
		cmocka_unit_test(test_pieces_roundtrip_odd_sizes),
		cmocka_unit_test(test_pieces_ring_many_pieces),
		cmocka_unit_test(test_pieces_failed_piece_write_no_header),
		cmocka_unit_test(test_pieces_damaged_piece_is_miss),
		cmocka_unit_test(test_pieces_last_set_wins),
		cmocka_unit_test(test_pieces_io_error_fails_key),
		cmocka_unit_test(test_direct_pieces_odd_sizes),
		cmocka_unit_test(test_direct_pieces_damage_is_miss),
		cmocka_unit_test(test_direct_piece_read_fails),
		cmocka_unit_test(test_direct_set_failed_piece_no_header),
		cmocka_unit_test(test_pieces_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
