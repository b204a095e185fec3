// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * backend_sim.c - "sim:[handles=N][,op=PCT][,dealloc=zero|keep][,name=NAME]":
 * an in-memory SSD with Flexible Data Placement, to measure write
 * amplification on any machine.
 *
 * dealloc=keep models a device whose deallocate does not zero (NVMe DLFEAT
 * 2:0 other than 001b): deallocated LBAs keep their old bytes. name=NAME
 * keeps the device in this process when the cache closes, and the next open
 * of the same name (same capacity and segment size) continues on it: a
 * restart, for tests of what recovery finds.
 *
 * vwc=1 gives a named device a volatile write cache for power-cut tests
 * (tests/unit/test_powercut*.c). A write that is neither FUA nor followed
 * by a completed flush is unpersisted, and so is a deallocate: each is kept
 * in a log with the bytes it replaced. sim_power_cut() keeps a seeded,
 * arbitrary subset of the logged commands - whole, dropped, or torn at LBA
 * granularity, so a later write may land while an earlier one is lost. The
 * next open of the name sees only what was kept. Until then the device runs
 * on for the cache that still has it open, as if the cut had not happened,
 * but nothing it does lasts: the host went down with the power, and a
 * checker ignores what it is told after the cut (SIM_CUT_FAIL instead fails
 * every command with -EIO: a device that vanished under a live host). Like a
 * real cache the log drains by itself: beyond SIM_VWC_MAX bytes its oldest
 * entries become persistent.
 *
 * Data lives in an anonymous mapping indexed by logical address (so reads
 * are exact); beside it a page-mapped FTL does the accounting a real device
 * would: each placement handle appends to its own reclaim unit (RU size =
 * segment size), overwrites and deallocates invalidate pages, an RU with no
 * valid page is free again, and when no RU is free a greedy GC copies the
 * valid pages of the RU with the fewest into a GC unit. media bytes / host
 * bytes is the device WAF. Runs only on its engine thread, so no locking.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define SIM_LBA			4096u
#define SIM_MAX_TRANSFER	(1u << 20)
#define SIM_DEFAULT_HANDLES	8
#define SIM_DEFAULT_OP_PCT	7
#define INVALID			UINT32_MAX
#define DLFEAT_ZEROES		0x1	/* what a device that zeroes reports */
#define SIM_VWC_MAX		(64ull << 20)	/* bytes an unflushed log may hold */

/* One unpersisted command: what it wrote (NULL: zeroes) and what it replaced. */
struct vwc_ent {
	struct vwc_ent *next;
	uint64_t off, len;
	bool fua;			/* persistent once completed */
	uint8_t *new_bytes;
	uint8_t *old_bytes;
};

struct sim_priv {
	uint8_t *data;
	uint64_t capacity;
	uint32_t nlba;			/* logical pages */
	uint32_t ru_pages;
	uint32_t nru;			/* physical RUs */
	uint32_t *l2p;			/* logical -> physical page */
	uint32_t *p2l;			/* physical -> logical page */
	uint32_t *ru_valid, *ru_fill;
	uint8_t *ru_open;
	uint32_t *free_stack, nfree;
	unsigned int nhandles;
	int64_t cur[FDPKV_MAX_CLASSES + 1];	/* +1: the GC stream */
	uint64_t ru_bytes;
	bool dealloc_keeps;		/* deallocate leaves the old bytes */
	char name[64];			/* kept across close when set */
	/* vwc=1: the volatile write cache; vwc_lock orders exec and a cut */
	bool vwc;
	/*
	 * After a cut: the image the next open sees (the process went down
	 * with the power: what its cache still does is lost), and whether
	 * commands meanwhile fail (SIM_CUT_FAIL) or run on without effect.
	 */
	uint8_t *after_cut;
	bool fail;
	pthread_mutex_t vwc_lock;
	struct vwc_ent *log_head, *log_tail;
	uint64_t log_bytes;
	uint8_t *lost;			/* LBA bitmap: a cut dropped or tore a write there */
	/* sim_fail_range: commands of these ops (1 << IO_*) in the range fail; vwc_lock */
	unsigned int fail_ops;
	uint64_t fail_off, fail_len;
	unsigned int fail_skip;		/* sim_fail_skip: so many of them run first */
	int fail_pid;			/* sim_fail_pid: writes with it fail, -1 none */
	bool paused;			/* sim_pause: commands wait on pause_cv */
	pthread_cond_t pause_cv;
	bool in_use;			/* named: opened by a cache; sim_lock */
	struct sim_priv *next;		/* named devices; sim_lock */
};

/* Named devices, kept until the process exits (only tests name them). */
static pthread_mutex_t sim_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sim_priv *sim_named;

static int64_t sim_pop_free(struct sim_priv *s)
{
	if (!s->nfree)
		return -1;
	return s->free_stack[--s->nfree];
}

static void sim_push_free(struct sim_priv *s, uint32_t ru)
{
	s->ru_fill[ru] = 0;
	s->ru_valid[ru] = 0;
	s->free_stack[s->nfree++] = ru;
}

static void sim_invalidate(struct sim_priv *s, uint32_t lpage)
{
	uint32_t pp = s->l2p[lpage], ru;

	if (pp == INVALID)
		return;
	ru = pp / s->ru_pages;
	s->p2l[pp] = INVALID;
	s->l2p[lpage] = INVALID;
	s->ru_valid[ru]--;
	if (!s->ru_valid[ru] && !s->ru_open[ru] && s->ru_fill[ru] == s->ru_pages)
		sim_push_free(s, ru);	/* whole RU invalid: erased without a copy */
}

static void sim_place(struct fdpkv_dev *dev, unsigned int stream, uint32_t lpage);

/* Greedy GC: copy the valid pages of the fullest-garbage RU to the GC stream.
 * Returns false when no RU holds garbage (nothing to gain). */
static bool sim_gc(struct fdpkv_dev *dev)
{
	struct sim_priv *s = dev->priv;
	uint32_t ru, best = INVALID, i;

	for (ru = 0; ru < s->nru; ru++) {
		if (s->ru_open[ru] || s->ru_fill[ru] != s->ru_pages)
			continue;
		if (best == INVALID || s->ru_valid[ru] < s->ru_valid[best])
			best = ru;
	}
	if (best == INVALID || s->ru_valid[best] == s->ru_pages)
		return false;
	for (i = 0; i < s->ru_pages; i++) {
		uint32_t lp = s->p2l[best * s->ru_pages + i];

		if (lp == INVALID)
			continue;
		sim_invalidate(s, lp);
		sim_place(dev, s->nhandles, lp);
		atomic_fetch_add(&dev->cnt.media_bytes, SIM_LBA);
	}
	return true;	/* sim_invalidate freed it when its last page moved */
}

static void sim_place(struct fdpkv_dev *dev, unsigned int stream, uint32_t lpage)
{
	struct sim_priv *s = dev->priv;
	int64_t ru = s->cur[stream];
	uint32_t pp;

	if (ru < 0 || s->ru_fill[ru] == s->ru_pages) {
		if (ru >= 0) {
			s->ru_open[ru] = 0;
			if (!s->ru_valid[ru])
				sim_push_free(s, (uint32_t)ru);
		}
		/* keep one RU for the GC stream so GC can always make progress */
		while (stream != s->nhandles && s->nfree < 2)
			if (!sim_gc(dev))
				break;
		ru = sim_pop_free(s);
		if (ru < 0) {
			s->cur[stream] = -1;
			return;		/* cannot happen with >= 2 spare RUs */
		}
		s->ru_open[ru] = 1;
		s->cur[stream] = ru;
	}
	pp = (uint32_t)ru * s->ru_pages + s->ru_fill[ru]++;
	s->p2l[pp] = lpage;
	s->l2p[lpage] = pp;
	s->ru_valid[ru]++;
}

/* Free @s and whatever of it was allocated (open failure and close). */
static void vwc_ent_free(struct vwc_ent *e)
{
	free(e->new_bytes);
	free(e->old_bytes);
	free(e);
}

/* Forget the oldest entry: its command is persistent now. */
static void vwc_persist_head(struct sim_priv *s)
{
	struct vwc_ent *e = s->log_head;

	s->log_head = e->next;
	if (!s->log_head)
		s->log_tail = NULL;
	s->log_bytes -= e->len;
	vwc_ent_free(e);
}

static void vwc_persist_all(struct sim_priv *s)
{
	while (s->log_head)
		vwc_persist_head(s);
}

/*
 * Log a write (@bytes) or a zeroing deallocate (@bytes NULL) of @len bytes
 * at @off, before it changes the data. A FUA command at the head of the log
 * is persistent at once; otherwise it stays, so that a cut keeps it while
 * dropping older commands. -ENOMEM: the command fails, as on a device that
 * cannot take it.
 */
static int vwc_log(struct sim_priv *s, uint64_t off, uint64_t len, const void *bytes, bool fua)
{
	struct vwc_ent *e;

	if (fua && !s->log_head)
		return 0;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->off = off;
	e->len = len;
	e->fua = fua;
	e->old_bytes = malloc(len);
	e->new_bytes = bytes ? malloc(len) : NULL;
	if (!e->old_bytes || (bytes && !e->new_bytes)) {
		vwc_ent_free(e);
		return -ENOMEM;
	}
	memcpy(e->old_bytes, s->data + off, len);
	if (bytes)
		memcpy(e->new_bytes, bytes, len);
	if (s->log_tail)
		s->log_tail->next = e;
	else
		s->log_head = e;
	s->log_tail = e;
	s->log_bytes += len;
	while (s->log_head && (s->log_bytes > SIM_VWC_MAX || s->log_head->fua))
		vwc_persist_head(s);
	return 0;
}

/* Remember that a cut lost the LBAs of [off, off + len) (sim_lost_overlaps). */
static void vwc_mark_lost(struct sim_priv *s, uint64_t off, uint64_t len)
{
	uint64_t l;

	for (l = off / SIM_LBA; s->lost && l < s->nlba && l * SIM_LBA < off + len; l++)
		s->lost[l / 8] |= (uint8_t)(1u << (l % 8));
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * Undo every logged command, newest first, which restores the persistent
 * image exactly; then replay, oldest first, the subset a power cut keeps:
 * each command whole, not at all, or torn (each of its LBAs on its own).
 */
static void vwc_cut(struct sim_priv *s, uint64_t seed, unsigned int flags,
		    struct sim_cut_stats *st)
{
	struct vwc_ent *e, *prev, **rev;
	uint64_t n = 0, i, rnd = seed;

	for (e = s->log_head; e; e = e->next)
		n++;
	rev = n ? calloc(n, sizeof(*rev)) : NULL;
	i = 0;
	for (e = s->log_head; e; e = e->next)
		if (rev)
			rev[i++] = e;
	/* without memory for the reversal, undo by walking the list n times */
	for (i = n; i-- > 0;) {
		if (rev) {
			e = rev[i];
		} else {
			uint64_t j;

			for (e = s->log_head, j = 0; j < i; j++)
				e = e->next;
		}
		memcpy(s->data + e->off, e->old_bytes, e->len);
	}
	free(rev);
	for (e = s->log_head; e; e = prev) {
		unsigned int how = (unsigned int)(splitmix64(&rnd) % 3);
		uint64_t lba;

		prev = e->next;
		if (flags & SIM_CUT_DROP_ALL)
			how = 1;
		if (e->fua)
			how = 0;
		for (lba = 0; lba < e->len; lba += SIM_LBA) {
			bool keep = how == 0 || (how == 2 && (splitmix64(&rnd) & 1));
			if (!keep)
				continue;
			if (e->new_bytes)
				memcpy(s->data + e->off + lba, e->new_bytes + lba, SIM_LBA);
			else
				memset(s->data + e->off + lba, 0, SIM_LBA);
		}
		/* a command not kept whole leaves its LBAs in either state */
		if (how)
			vwc_mark_lost(s, e->off, e->len);
		if (st) {
			st->logged++;
			st->kept += how == 0;
			st->torn += how == 2;
		}
	}
	vwc_persist_all(s);
}

/* The named device @name, or NULL; sim_lock held. */
static struct sim_priv *sim_find_locked(const char *name)
{
	struct sim_priv *s;

	for (s = sim_named; s && strcmp(s->name, name); s = s->next)
		;
	return s;
}

/* The named device @name, or NULL. */
static struct sim_priv *sim_find(const char *name)
{
	struct sim_priv *s;

	pthread_mutex_lock(&sim_lock);
	s = sim_find_locked(name);
	pthread_mutex_unlock(&sim_lock);
	return s;
}

int sim_power_cut(const char *name, uint64_t seed, unsigned int flags, struct sim_cut_stats *st)
{
	struct sim_priv *s;

	if (st)
		memset(st, 0, sizeof(*st));
	s = sim_find(name);
	if (!s)
		return -ENOENT;
	if (!s->vwc)
		return -EINVAL;
	pthread_mutex_lock(&s->vwc_lock);
	if (!s->lost)
		s->lost = calloc(s->nlba / 8 + 1, 1);
	if (!s->after_cut)
		s->after_cut = malloc(s->capacity);
	if (!s->lost || !s->after_cut) {
		pthread_mutex_unlock(&s->vwc_lock);
		return -ENOMEM;
	}
	vwc_cut(s, seed, flags, st);
	memcpy(s->after_cut, s->data, s->capacity);
	s->fail = flags & SIM_CUT_FAIL;
	pthread_mutex_unlock(&s->vwc_lock);
	return 0;
}

int sim_lost_overlaps(const char *name, uint64_t off, uint64_t len)
{
	struct sim_priv *s;
	uint64_t l;
	int ret = 0;

	s = sim_find(name);
	if (!s)
		return -ENOENT;
	pthread_mutex_lock(&s->vwc_lock);
	for (l = off / SIM_LBA; s->lost && l < s->nlba && l * SIM_LBA < off + len; l++)
		if (s->lost[l / 8] & (1u << (l % 8)))
			ret = 1;
	pthread_mutex_unlock(&s->vwc_lock);
	return ret;
}

int sim_fail_range(const char *name, unsigned int ops, uint64_t off, uint64_t len)
{
	struct sim_priv *s = sim_find(name);

	if (!s)
		return -ENOENT;
	pthread_mutex_lock(&s->vwc_lock);
	s->fail_ops = ops;
	s->fail_off = off;
	s->fail_len = len;
	pthread_mutex_unlock(&s->vwc_lock);
	return 0;
}

int sim_fail_skip(const char *name, unsigned int n)
{
	struct sim_priv *s = sim_find(name);

	if (!s)
		return -ENOENT;
	pthread_mutex_lock(&s->vwc_lock);
	s->fail_skip = n;
	pthread_mutex_unlock(&s->vwc_lock);
	return 0;
}

int sim_fail_pid(const char *name, int pid)
{
	struct sim_priv *s = sim_find(name);

	if (!s)
		return -ENOENT;
	pthread_mutex_lock(&s->vwc_lock);
	s->fail_pid = pid;
	pthread_mutex_unlock(&s->vwc_lock);
	return 0;
}

int sim_pause(const char *name, bool pause)
{
	struct sim_priv *s = sim_find(name);

	if (!s)
		return -ENOENT;
	pthread_mutex_lock(&s->vwc_lock);
	s->paused = pause;
	pthread_cond_broadcast(&s->pause_cv);
	pthread_mutex_unlock(&s->vwc_lock);
	return 0;
}

/* Does sim_fail_range or sim_fail_pid fail @p? vwc_lock held. */
static bool sim_fails(struct sim_priv *s, const struct io_part *p)
{
	if (p->cmd->op == IO_WRITE && s->fail_pid >= 0 && p->cmd->pid == s->fail_pid)
		return true;
	if (!(s->fail_ops & (1u << p->cmd->op)))
		return false;
	if (p->cmd->op != IO_FLUSH &&
	    !(p->off < s->fail_off + s->fail_len && s->fail_off < p->off + p->len))
		return false;
	if (s->fail_skip) {
		s->fail_skip--;
		return false;
	}
	return true;
}

static void sim_free(struct sim_priv *s);

int sim_destroy(const char *name)
{
	struct sim_priv *s, **pp;

	pthread_mutex_lock(&sim_lock);
	for (pp = &sim_named; *pp && strcmp((*pp)->name, name); pp = &(*pp)->next)
		;
	s = *pp;
	if (s && !s->in_use)
		*pp = s->next;
	pthread_mutex_unlock(&sim_lock);
	if (!s)
		return -ENOENT;
	if (s->in_use)
		return -EBUSY;
	sim_free(s);
	return 0;
}

static void sim_free(struct sim_priv *s)
{
	vwc_persist_all(s);
	free(s->lost);
	free(s->after_cut);
	pthread_mutex_destroy(&s->vwc_lock);
	pthread_cond_destroy(&s->pause_cv);
	if (s->data != MAP_FAILED)
		munmap(s->data, s->capacity);
	free(s->l2p);
	free(s->p2l);
	free(s->ru_valid);
	free(s->ru_fill);
	free(s->ru_open);
	free(s->free_stack);
	free(s);
}

static int sim_open(struct fdpkv_dev *dev, const char *path, const struct fdpkv_config *cfg,
		    bool create, char *err, size_t errlen)
{
	unsigned int handles = SIM_DEFAULT_HANDLES, op = SIM_DEFAULT_OP_PCT, i;
	const char *p = path;
	struct sim_priv *s;
	uint64_t phys, cap, ru;
	bool keeps = false, vwc = false;
	char name[64] = "", word[8];

	(void)create;
	while (*p) {
		unsigned int v;
		int n = 0;

		if (sscanf(p, "handles=%u%n", &v, &n) == 1 && n && v >= 1 && v <= FDPKV_MAX_CLASSES)
			handles = v;
		else if (sscanf(p, "op=%u%n", &v, &n) == 1 && n && v <= 100)
			op = v;
		else if (sscanf(p, "dealloc=%7[a-z]%n", word, &n) == 1 && n &&
			 (!strcmp(word, "zero") || !strcmp(word, "keep")))
			keeps = !strcmp(word, "keep");
		else if (sscanf(p, "name=%63[^,&?]%n", name, &n) == 1 && n)
			;
		else if (sscanf(p, "vwc=%u%n", &v, &n) == 1 && n && v <= 1)
			vwc = v;
		else {
			fdpkv_seterr(err, errlen,
				     "device '%s': sim options are handles=1..%d, op=0..100, "
				     "dealloc=zero|keep, name=NAME and vwc=0|1", dev->uri,
				     FDPKV_MAX_CLASSES);
			return -EINVAL;
		}
		p += n;
		if (*p == ',' || *p == '&' || *p == '?')
			p++;
	}
	cap = cfg->capacity_bytes ? cfg->capacity_bytes : FDPKV_DEFAULT_SIM_CAP;
	cap = cap / SIM_LBA * SIM_LBA;
	ru = cfg->segment_bytes ? cfg->segment_bytes : default_segment_bytes(cap);
	if (vwc && !name[0]) {
		fdpkv_seterr(err, errlen, "device '%s': vwc=1 needs name=NAME (the power cut "
			     "names the device)", dev->uri);
		return -EINVAL;
	}
	if (name[0]) {
		int ret = 0;

		pthread_mutex_lock(&sim_lock);
		s = sim_find_locked(name);
		if (s && (s->in_use || s->capacity != cap || s->ru_bytes != ru ||
			  s->nhandles != handles || s->dealloc_keeps != keeps || s->vwc != vwc))
			ret = s->in_use ? -EBUSY : -EINVAL;
		else if (s)
			s->in_use = true;
		if (s && !ret) {
			/* power back on: the device sees what the cut kept */
			pthread_mutex_lock(&s->vwc_lock);
			if (s->after_cut) {
				memcpy(s->data, s->after_cut, s->capacity);
				free(s->after_cut);
				s->after_cut = NULL;
			}
			pthread_mutex_unlock(&s->vwc_lock);
		}
		pthread_mutex_unlock(&sim_lock);
		if (ret) {
			fdpkv_seterr(err, errlen, "device '%s': sim device '%s' %s", dev->uri, name,
				     ret == -EBUSY ? "is open" : "exists with other options");
			return ret;
		}
		if (s) {
			dev->priv = s;
			return 0;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->capacity = cap;
	s->ru_bytes = ru;
	s->dealloc_keeps = keeps;
	s->vwc = vwc;
	s->fail_pid = -1;
	pthread_mutex_init(&s->vwc_lock, NULL);
	pthread_cond_init(&s->pause_cv, NULL);
	if (s->ru_bytes % SIM_LBA || s->capacity < 4 * s->ru_bytes ||
	    s->capacity / SIM_LBA >= INVALID) {
		fdpkv_seterr(err, errlen, "device '%s': capacity must hold at least 4 segments",
			     dev->uri);
		pthread_mutex_destroy(&s->vwc_lock);
		pthread_cond_destroy(&s->pause_cv);
		free(s);
		return -EINVAL;
	}
	s->nhandles = handles;
	s->nlba = (uint32_t)(s->capacity / SIM_LBA);
	s->ru_pages = (uint32_t)(s->ru_bytes / SIM_LBA);
	phys = s->capacity + s->capacity * op / 100;
	s->nru = (uint32_t)((phys + s->ru_bytes - 1) / s->ru_bytes) + handles + 2;
	s->data = mmap(NULL, s->capacity, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	s->l2p = malloc(sizeof(uint32_t) * s->nlba);
	s->p2l = malloc(sizeof(uint32_t) * (uint64_t)s->nru * s->ru_pages);
	s->ru_valid = calloc(s->nru, sizeof(uint32_t));
	s->ru_fill = calloc(s->nru, sizeof(uint32_t));
	s->ru_open = calloc(s->nru, 1);
	s->free_stack = calloc(s->nru, sizeof(uint32_t));
	if (s->data == MAP_FAILED || !s->l2p || !s->p2l || !s->ru_valid || !s->ru_fill ||
	    !s->ru_open || !s->free_stack) {
		sim_free(s);
		fdpkv_seterr(err, errlen, "device '%s': out of memory", dev->uri);
		return -ENOMEM;
	}
	memset(s->l2p, 0xff, sizeof(uint32_t) * s->nlba);
	memset(s->p2l, 0xff, sizeof(uint32_t) * (uint64_t)s->nru * s->ru_pages);
	for (i = s->nru; i-- > 0;)
		s->free_stack[s->nfree++] = i;
	for (i = 0; i <= FDPKV_MAX_CLASSES; i++)
		s->cur[i] = -1;
	if (name[0]) {
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->in_use = true;
		pthread_mutex_lock(&sim_lock);
		s->next = sim_named;
		sim_named = s;
		pthread_mutex_unlock(&sim_lock);
	}
	dev->priv = s;
	return 0;
}

static int sim_geometry(struct fdpkv_dev *dev, struct fdpkv_geometry *g)
{
	struct sim_priv *s = dev->priv;
	unsigned int i;

	memset(g, 0, sizeof(*g));
	g->lba_size = SIM_LBA;
	g->capacity = s->capacity;
	g->ru_bytes = s->ru_bytes;
	g->max_transfer = SIM_MAX_TRANSFER;
	g->npids = s->nhandles;
	for (i = 0; i < s->nhandles; i++)
		g->pids[i] = (uint16_t)i;
	g->dealloc_zeroes = !s->dealloc_keeps;
	g->dlfeat = s->dealloc_keeps ? 0 : DLFEAT_ZEROES;
	return 0;
}

static int sim_exec_locked(struct fdpkv_dev *dev, struct io_part *p);

static int sim_exec(struct fdpkv_dev *dev, struct io_part *p)
{
	struct sim_priv *s = dev->priv;
	int ret;

	if (!s->name[0])
		return sim_exec_locked(dev, p);
	pthread_mutex_lock(&s->vwc_lock);
	while (s->paused)
		pthread_cond_wait(&s->pause_cv, &s->vwc_lock);
	if (sim_fails(s, p)) {
		pthread_mutex_unlock(&s->vwc_lock);
		return -EIO;
	}
	if (s->after_cut && p->cmd->op != IO_READ && p->cmd->op != IO_FLUSH)
		vwc_mark_lost(s, p->off, p->len);	/* after the cut: lost */
	ret = s->after_cut && s->fail ? -EIO : sim_exec_locked(dev, p);
	pthread_mutex_unlock(&s->vwc_lock);
	return ret;
}

/* Run @p; with vwc=1, under vwc_lock and logged for a power cut. */
static int sim_exec_locked(struct fdpkv_dev *dev, struct io_part *p)
{
	struct sim_priv *s = dev->priv;
	uint64_t first, n, i;
	int ret;

	if (p->cmd->op == IO_FLUSH) {
		if (s->vwc)
			vwc_persist_all(s);
		return 0;
	}
	if (p->off % SIM_LBA || p->len % SIM_LBA || p->off + p->len > s->capacity)
		return -EINVAL;
	first = p->off / SIM_LBA;
	n = p->len / SIM_LBA;
	switch (p->cmd->op) {
	case IO_READ:
		memcpy(p->buf, s->data + p->off, p->len);
		return (int)p->len;
	case IO_WRITE: {
		unsigned int stream = p->cmd->pid < s->nhandles ? p->cmd->pid : 0;

		if (s->vwc && !s->after_cut) {
			ret = vwc_log(s, p->off, p->len, p->buf, p->cmd->dsync);
			if (ret)
				return ret;
		}
		memcpy(s->data + p->off, p->buf, p->len);
		for (i = 0; i < n; i++) {
			sim_invalidate(s, (uint32_t)(first + i));
			sim_place(dev, stream, (uint32_t)(first + i));
		}
		atomic_fetch_add(&dev->cnt.media_bytes, p->len);
		return (int)p->len;
	}
	case IO_DEALLOC:
		if (s->vwc && !s->dealloc_keeps && !s->after_cut) {
			ret = vwc_log(s, p->off, p->len, NULL, false);
			if (ret)
				return ret;
		}
		for (i = 0; i < n; i++)
			sim_invalidate(s, (uint32_t)(first + i));
		/* deallocated LBAs read back as zeroes, as with DLFEAT=1, or
		 * (dealloc=keep) as they were, as with DLFEAT=0 */
		if (!s->dealloc_keeps)
			madvise(s->data + p->off, p->len, MADV_DONTNEED);
		/* 0, as a DSM or fallocate completion: a deallocate is not split,
		 * and its length (a whole device at format) does not fit an int */
		return 0;
	default:
		return -EINVAL;
	}
}

static void sim_close(struct fdpkv_dev *dev)
{
	struct sim_priv *s = dev->priv;

	if (!s)
		return;
	dev->priv = NULL;
	if (s->name[0]) {
		/* a named device outlives the cache: the next open continues */
		pthread_mutex_lock(&sim_lock);
		s->in_use = false;
		pthread_mutex_unlock(&sim_lock);
		return;
	}
	sim_free(s);
}

const struct fdpkv_backend_ops backend_sim_ops = {
	.scheme = "sim",
	.open = sim_open,
	.geometry = sim_geometry,
	.exec = sim_exec,
	.close = sim_close,
};
