// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * engine.c - the asynchronous I/O engine: one io_uring and one thread per
 * device.
 *
 * Callers queue commands under a short mutex and kick the thread through an
 * eventfd whose read sits in the ring, so the thread sleeps in one place
 * (io_uring_wait_cqe) whether it waits for the device or for work. Only the
 * thread touches the ring (single issuer). Commands are split at the
 * device's max transfer size into parts, as many in flight as the depth
 * allows; short transfers are resubmitted for the rest. Completion callbacks
 * run on the device thread. Backends without a ring (sim) run their parts
 * synchronously on the same thread instead.
 */
#include <errno.h>
#include <liburing.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

#define KICK_TAG	0	/* user_data of the kick read; parts are pointers */

struct engine {
	struct fdpkv_dev *dev;
	struct io_uring ring;
	bool has_ring;
	pthread_t thr;
	bool thr_started;

	pthread_mutex_t lock;
	pthread_cond_t cond;		/* sync backends sleep here */
	struct io_cmd *pend_head, *pend_tail;	/* protected by lock */
	bool stop;			/* protected by lock */

	int kick_fd;
	uint64_t kick_val;
	bool kick_armed;

	/* thread private */
	struct io_part *parts, *free_parts, *retry;
	struct io_cmd *work_head, *work_tail;
	unsigned int depth, inflight;

	_Atomic uint64_t queued;	/* commands not yet completed */
	_Atomic uint64_t fixed_cmds;	/* parts sent from registered buffers */
	bool sparse_table;		/* the ring has ARENA_RING_SLOTS buffer slots */
	bool probed;			/* fixed_probe ran (under the cache's arena_lock) */
	atomic_bool fixed_ok;		/* its verdict */
	atomic_uint fail_waits;		/* engine_fail_waits (tests) */
};

uint64_t engine_inflight(struct engine *eng)
{
	return atomic_load(&eng->queued);
}

uint64_t engine_fixed_cmds(struct engine *eng)
{
	return atomic_load(&eng->fixed_cmds);
}

static void cmd_finish(struct engine *eng, struct io_cmd *cmd)
{
	io_done_fn done = cmd->done;
	int err = cmd->err;

	atomic_fetch_sub(&eng->queued, 1);
	done(cmd, err);		/* may free cmd */
}

/*
 * A part starting at p->buf inside arena @a: one registered buffer slot
 * covers at most ARENA_SLOT_BYTES, so the part ends at its slot's end.
 * Returns the part's length (at most @chunk) and sets p->fixed.
 */
static uint64_t arena_part(struct engine *eng, const struct arena *a, struct io_part *p,
			   uint64_t chunk)
{
	uint64_t at, slot, room;

	/* not fixed (a plain aligned buffer, arena.c): its plain address */
	if (!a->fixed || !eng->has_ring || !(a->probe || atomic_load(&eng->fixed_ok)))
		return chunk;
	at = (uint64_t)((uint8_t *)p->buf - a->base);
	slot = at / ARENA_SLOT_BYTES;
	room = (slot + 1) * ARENA_SLOT_BYTES - at;
	if (room < chunk) {
		/*
		 * Cut at the slot's end, in whole LBAs: the arena's base,
		 * and with it the boundary, need not be LBA aligned. Less
		 * than an LBA left: that part goes as a plain address.
		 */
		room -= room % eng->dev->geo.lba_size;
		if (!room)
			return chunk;
		chunk = room;
	}
	p->fixed = (int32_t)(a->first_slot + slot);
	atomic_fetch_add_explicit(&eng->fixed_cmds, 1, memory_order_relaxed);
	return chunk;
}

/* Next part of the head command, or NULL when nothing is left to issue. */
static struct io_part *next_part(struct engine *eng)
{
	struct io_cmd *cmd = eng->work_head;
	struct io_part *p;
	uint64_t chunk;

	if (eng->retry) {
		p = eng->retry;
		eng->retry = p->next;
		return p;
	}
	if (!cmd || !eng->free_parts)
		return NULL;
	p = eng->free_parts;
	eng->free_parts = p->next;
	memset(p, 0, sizeof(*p));
	p->cmd = cmd;
	p->fixed = -1;
	if (cmd->op == IO_READ || cmd->op == IO_WRITE) {
		chunk = MIN(cmd->len - cmd->issued, (uint64_t)eng->dev->geo.max_transfer);
		if (!cmd->buf2) {
			p->buf = (char *)cmd->buf + cmd->issued;
		} else if (cmd->issued < cmd->split) {
			chunk = MIN(chunk, cmd->split - cmd->issued);
			p->buf = (char *)cmd->buf + cmd->issued;
		} else {
			p->buf = (char *)cmd->buf2 + (cmd->issued - cmd->split);
			chunk = arena_part(eng, cmd->arena, p, chunk);
		}
	} else {
		chunk = cmd->len - cmd->issued;
	}
	p->off = cmd->off + cmd->issued;
	p->len = chunk;
	cmd->issued += chunk;
	cmd->parts++;
	if (cmd->issued >= cmd->len) {
		eng->work_head = cmd->next;
		if (!eng->work_head)
			eng->work_tail = NULL;
	}
	return p;
}

/* Account a finished part: @res bytes done or -errno. */
static void part_done(struct engine *eng, struct io_part *p, int res)
{
	struct io_cmd *cmd = p->cmd;
	bool rw = cmd->op == IO_READ || cmd->op == IO_WRITE;

	if (res < 0) {
		if (!cmd->err)
			cmd->err = res;
	} else if (rw && (uint64_t)res < p->len) {
		if (res == 0) {
			if (!cmd->err)
				cmd->err = -EIO;
		} else {
			p->off += (uint64_t)res;
			p->buf = (char *)p->buf + res;
			p->len -= (uint64_t)res;
			p->next = eng->retry;
			eng->retry = p;
			return;
		}
	}
	if (rw && cmd->op == IO_WRITE && res > 0)
		atomic_fetch_add(&eng->dev->cnt.host_bytes, (uint64_t)res);
	p->next = eng->free_parts;
	eng->free_parts = p;
	if (--cmd->parts == 0 && cmd->issued >= cmd->len)
		cmd_finish(eng, cmd);
}

static bool take_pending(struct engine *eng, bool wait)
{
	bool stop;

	pthread_mutex_lock(&eng->lock);
	while (wait && !eng->pend_head && !eng->stop)
		pthread_cond_wait(&eng->cond, &eng->lock);
	if (eng->pend_head) {
		if (eng->work_tail)
			eng->work_tail->next = eng->pend_head;
		else
			eng->work_head = eng->pend_head;
		eng->work_tail = eng->pend_tail;
		eng->pend_head = eng->pend_tail = NULL;
	}
	stop = eng->stop;
	pthread_mutex_unlock(&eng->lock);
	return stop;
}

static void *sync_thread(void *arg)
{
	struct engine *eng = arg;
	struct io_part *p;

	for (;;) {
		bool stop = take_pending(eng, true);

		if (stop && !eng->work_head)
			break;
		while ((p = next_part(eng)) != NULL)
			part_done(eng, p, eng->dev->ops->exec(eng->dev, p));
	}
	return NULL;
}

/*
 * io_uring_wait_cqe failed this many times in a row: the ring may be
 * broken for good, so commands not yet sent to it fail instead of waiting.
 */
#define WAIT_FAILS_MAX	64

static void kick(struct engine *eng);

/*
 * Fail every command not sent to the ring yet (queued, or parts waiting to
 * be resent) with @err; those in flight keep waiting for their completions,
 * as the kernel may still use their buffers. Thread private.
 */
static void fail_unsent(struct engine *eng, int err)
{
	struct io_part *p;

	take_pending(eng, false);
	while ((p = eng->retry) != NULL) {
		eng->retry = p->next;
		part_done(eng, p, err);
	}
	while (eng->work_head) {
		struct io_cmd *cmd = eng->work_head;

		eng->work_head = cmd->next;
		if (!eng->work_head)
			eng->work_tail = NULL;
		if (!cmd->err)
			cmd->err = err;
		/* parts already out finish it; else nothing will */
		cmd->issued = cmd->len;
		if (!cmd->parts)
			cmd_finish(eng, cmd);
	}
}

void engine_fail_waits(struct engine *eng, unsigned int n)
{
	atomic_store(&eng->fail_waits, n);
	kick(eng);
}

static void arm_kick(struct engine *eng)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&eng->ring);

	if (!sqe)
		return;		/* ring full: retried on the next loop */
	io_uring_prep_read(sqe, eng->kick_fd, &eng->kick_val, sizeof(eng->kick_val), 0);
	io_uring_sqe_set_data64(sqe, KICK_TAG);
	eng->kick_armed = true;
}

static void *ring_thread(void *arg)
{
	struct engine *eng = arg;
	struct io_uring_cqe *cqe;
	struct io_part *p;
	unsigned int head, seen, wait_fails = 0;

	for (;;) {
		bool stop = take_pending(eng, false);
		int ret;

		if (!eng->kick_armed)
			arm_kick(eng);
		while (eng->inflight < eng->depth) {
			struct io_uring_sqe *sqe;

			if (!eng->retry && (!eng->work_head || !eng->free_parts))
				break;
			sqe = io_uring_get_sqe(&eng->ring);
			if (!sqe)
				break;
			p = next_part(eng);
			ret = eng->dev->ops->prep(eng->dev, sqe, p);
			if (ret < 0) {
				/* the SQE is already taken: make it a harmless nop */
				io_uring_prep_nop(sqe);
				io_uring_sqe_set_data64(sqe, KICK_TAG + 1);
				part_done(eng, p, ret);
				continue;
			}
			io_uring_sqe_set_data(sqe, p);
			eng->inflight++;
		}
		io_uring_submit(&eng->ring);
		if (stop && !eng->inflight && !eng->work_head && !eng->retry)
			break;
		if (atomic_load(&eng->fail_waits)) {
			atomic_fetch_sub(&eng->fail_waits, 1);
			ret = -EIO;
		} else {
			ret = io_uring_wait_cqe(&eng->ring, &cqe);
		}
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -ETIME) {
			/*
			 * Never leave: the commands queued here would not
			 * complete, nor would close. Wait again, a little
			 * later, and reap whatever completed meanwhile; once
			 * waits keep failing, fail what was not sent yet.
			 */
			if (++wait_fails >= WAIT_FAILS_MAX)
				fail_unsent(eng, ret);
			usleep(1000);
		} else {
			wait_fails = 0;
		}
		seen = 0;
		io_uring_for_each_cqe(&eng->ring, head, cqe) {
			uint64_t tag = io_uring_cqe_get_data64(cqe);

			seen++;
			if (tag == KICK_TAG) {
				eng->kick_armed = false;
				continue;
			}
			if (tag == KICK_TAG + 1)
				continue;
			p = (struct io_part *)(uintptr_t)tag;
			eng->inflight--;
			ret = eng->dev->ops->result ? eng->dev->ops->result(eng->dev, cqe, p)
						    : cqe->res;
			part_done(eng, p, ret);
		}
		io_uring_cq_advance(&eng->ring, seen);
	}
	return NULL;
}

int engine_start(struct engine **out, struct fdpkv_dev *dev, unsigned int depth)
{
	struct engine *eng;
	unsigned int i;
	int ret;

	eng = calloc(1, sizeof(*eng));
	if (!eng)
		return -ENOMEM;
	eng->dev = dev;
	eng->depth = depth ? depth : FDPKV_DEFAULT_QD;
	eng->kick_fd = -1;
	pthread_mutex_init(&eng->lock, NULL);
	pthread_cond_init(&eng->cond, NULL);
	eng->parts = calloc(eng->depth, sizeof(*eng->parts));
	if (!eng->parts) {
		ret = -ENOMEM;
		goto free_eng;
	}
	for (i = 0; i < eng->depth; i++) {
		eng->parts[i].next = eng->free_parts;
		eng->free_parts = &eng->parts[i];
	}
	if (!dev->ops->exec) {
		/* +1: the kick read always sits in the ring */
		ret = io_uring_queue_init(eng->depth + 1, &eng->ring, dev->ops->ring_flags);
		if (ret < 0)
			goto free_parts;
		eng->has_ring = true;
		eng->kick_fd = eventfd(0, EFD_CLOEXEC);	/* blocking: the ring polls it */
		if (eng->kick_fd < 0) {
			ret = -errno;
			goto exit_ring;
		}
		/* empty slots now, arenas later: a full table cannot be updated */
		eng->sparse_table = io_uring_register_buffers_sparse(&eng->ring,
								     ARENA_RING_SLOTS) == 0;
	}
	ret = -pthread_create(&eng->thr, NULL, eng->has_ring ? ring_thread : sync_thread, eng);
	if (ret)
		goto close_kick;
	eng->thr_started = true;
	*out = eng;
	return 0;

close_kick:
	if (eng->kick_fd >= 0)
		close(eng->kick_fd);
exit_ring:
	if (eng->has_ring)
		io_uring_queue_exit(&eng->ring);
free_parts:
	free(eng->parts);
free_eng:
	pthread_mutex_destroy(&eng->lock);
	pthread_cond_destroy(&eng->cond);
	free(eng);
	return ret;
}

static void kick(struct engine *eng)
{
	uint64_t one = 1;

	if (eng->kick_fd >= 0 && write(eng->kick_fd, &one, sizeof(one)) < 0)
		return;	/* only fails when the counter is saturated: already kicked */
}

/* This thread's commands held back by engine_defer_begin (internal.h). */
static __thread struct io_cmd *defer_head, *defer_tail;
static __thread bool deferring;

void engine_defer_begin(void)
{
	deferring = true;
}

static void engine_queue(struct engine *eng, struct io_cmd *first, struct io_cmd *last);

/*
 * Hand the held-back commands over, each run of one engine's under one
 * hold of its lock and with one wakeup: a value written in pieces queues
 * a command per piece (33 for a 32 MiB value, pieces.c), and one system
 * call each came to about 260 per batch of eight.
 */
void engine_defer_end(void)
{
	struct io_cmd *cmd = defer_head, *last, *next;

	deferring = false;
	defer_head = defer_tail = NULL;
	for (; cmd; cmd = next) {
		for (last = cmd; last->next && last->next->defer_eng == cmd->defer_eng;)
			last = last->next;
		next = last->next;
		engine_queue(cmd->defer_eng, cmd, last);
	}
}

void engine_submit(struct engine *eng, struct io_cmd *cmd)
{
	if (deferring) {
		cmd->defer_eng = eng;
		cmd->next = NULL;
		if (defer_tail)
			defer_tail->next = cmd;
		else
			defer_head = cmd;
		defer_tail = cmd;
		return;
	}
	engine_queue(eng, cmd, cmd);
}

/* Queue the chain @first..@last (linked by next) and wake the thread once. */
static void engine_queue(struct engine *eng, struct io_cmd *first, struct io_cmd *last)
{
	struct io_cmd *cmd;
	unsigned int n = 0;

	last->next = NULL;
	for (cmd = first; cmd; cmd = cmd->next, n++) {
		cmd->issued = 0;
		cmd->parts = 0;
		cmd->err = 0;
	}
	atomic_fetch_add(&eng->queued, n);
	pthread_mutex_lock(&eng->lock);
	if (eng->pend_tail)
		eng->pend_tail->next = first;
	else
		eng->pend_head = first;
	eng->pend_tail = last;
	pthread_cond_signal(&eng->cond);
	/*
	 * Kicked before the lock goes: once the thread can take the commands
	 * they may complete, the cache close and engine_stop close kick_fd
	 * (or the number be reused) while this thread still has to write it.
	 */
	kick(eng);
	pthread_mutex_unlock(&eng->lock);
}

void engine_arena_del(struct engine *eng, const struct arena *a)
{
	static const struct iovec none;
	uint32_t i;

	if (!eng->has_ring || !eng->sparse_table)
		return;
	/* an empty iovec clears a slot: its pages are unpinned */
	for (i = 0; i < a->nslots; i++)
		io_uring_register_buffers_update_tag(&eng->ring, a->first_slot + i, &none, NULL, 1);
}

static int io_sync_cmd(struct engine *eng, const struct io_cmd *tmpl);

#define PROBE_BYTES	(64u << 10)
#define PROBE_BUF_BYTES	(4u << 20)

/*
 * Can this device take a transfer from part of a large registered buffer?
 * NVMe passthrough with a fixed buffer fails with EINVAL on some kernels
 * when the registered buffer holds more pages past the transfer's start
 * than the queue has segments (Debian's 6.1: the block layer counts the
 * buffer's pages, not the transfer's; 6.12 does not), while plain user
 * addresses work; file I/O takes fixed buffers everywhere. So read the
 * device's first 64 KiB into the start of a 4 MiB buffer of our own (1024
 * pages, more segments than any NVMe queue takes), registered in the
 * reserved slot, once, before the first arena: if that fails, arena values
 * still move without a copy, but as plain user addresses.
 */
static bool fixed_probe(struct engine *eng)
{
	struct arena probe = {
		.first_slot = ARENA_PROBE_SLOT, .nslots = 1, .fixed = true, .probe = true,
		.len = PROBE_BUF_BYTES,
	};
	struct iovec iov;
	void *buf;
	int ret;

	if (posix_memalign(&buf, 4096, PROBE_BUF_BYTES))
		return false;
	probe.base = buf;
	iov = (struct iovec){ .iov_base = buf, .iov_len = PROBE_BUF_BYTES };
	ret = io_uring_register_buffers_update_tag(&eng->ring, ARENA_PROBE_SLOT, &iov, NULL, 1);
	if (ret == 1) {
		struct io_cmd cmd = {
			.op = IO_READ,
			.len = MIN((uint64_t)PROBE_BYTES, eng->dev->geo.capacity),
			.buf2 = buf, .split = 0, .arena = &probe,
		};

		ret = io_sync_cmd(eng, &cmd);
		engine_arena_del(eng, &probe);
	} else {
		ret = -EINVAL;
	}
	free(buf);
	return ret == 0;
}

bool engine_fixed_usable(struct engine *eng)
{
	return eng->has_ring && atomic_load(&eng->fixed_ok);
}

int engine_arena_add(struct engine *eng, const struct arena *a)
{
	struct iovec *iov;
	uint32_t i;
	int ret;

	if (!eng->has_ring)
		return 0;
	if (!eng->sparse_table)
		return -EOPNOTSUPP;
	if (!eng->probed) {
		atomic_store(&eng->fixed_ok, fixed_probe(eng));
		eng->probed = true;
	}
	iov = calloc(a->nslots, sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	for (i = 0; i < a->nslots; i++) {
		uint64_t at = (uint64_t)i * ARENA_SLOT_BYTES;

		iov[i].iov_base = a->base + at;
		iov[i].iov_len = MIN(a->len - at, ARENA_SLOT_BYTES);
	}
	/* pins the pages: RLIMIT_MEMLOCK applies without CAP_IPC_LOCK */
	ret = io_uring_register_buffers_update_tag(&eng->ring, a->first_slot, iov, NULL,
						   a->nslots);
	free(iov);
	if (ret == (int)a->nslots)
		return 0;
	engine_arena_del(eng, a);	/* a partial update keeps what it did */
	return ret < 0 ? ret : -ENOMEM;
}

/* A command and its waiter: sync_done finds one from the other. */
struct sync_wait {
	struct io_cmd cmd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int res;
};

static void sync_done(struct io_cmd *cmd, int res)
{
	struct sync_wait *w = (struct sync_wait *)((char *)cmd - offsetof(struct sync_wait, cmd));

	pthread_mutex_lock(&w->lock);
	w->res = res;
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int engine_io_sync(struct engine *eng, enum io_op op, uint64_t off, uint64_t len, void *buf,
		   uint16_t pid)
{
	const struct io_cmd cmd = { .op = op, .off = off, .len = len, .buf = buf, .pid = pid };

	return io_sync_cmd(eng, &cmd);
}

/* Run a copy of @tmpl and wait for it. */
static int io_sync_cmd(struct engine *eng, const struct io_cmd *tmpl)
{
	struct sync_wait w = { .cmd = *tmpl, .done = false };

	w.cmd.done = sync_done;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	engine_queue(eng, &w.cmd, &w.cmd);	/* never deferred: we wait for it */
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_mutex_destroy(&w.lock);
	pthread_cond_destroy(&w.cond);
	return w.res;
}

void engine_stop(struct engine *eng)
{
	if (!eng)
		return;
	pthread_mutex_lock(&eng->lock);
	eng->stop = true;
	pthread_cond_signal(&eng->cond);
	pthread_mutex_unlock(&eng->lock);
	kick(eng);
	if (eng->thr_started)
		pthread_join(eng->thr, NULL);
	if (eng->kick_fd >= 0)
		close(eng->kick_fd);
	if (eng->has_ring)
		io_uring_queue_exit(&eng->ring);
	free(eng->parts);
	pthread_mutex_destroy(&eng->lock);
	pthread_cond_destroy(&eng->cond);
	free(eng);
}
