// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * completion.c - the completion queue and its eventfd.
 *
 * The eventfd is a binary flag: readable exactly while completions are
 * queued. Posting and draining both run under the queue lock, which makes
 * "readable iff non-empty" hold after every drain: the drain reads the fd
 * until EAGAIN before popping, and re-arms it when it leaves completions
 * behind, so a poller never misses one and never spins on an empty queue.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

int cq_init(struct cq *q)
{
	memset(q, 0, sizeof(*q));
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0)
		return -errno;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	return 0;
}

static void node_free(struct cq_node *n)
{
	free(n->c.status);
	free(n->c.value_len);
	free(n);
}

void cq_destroy(struct cq *q)
{
	struct cq_node *n, *next;

	for (n = q->head; n; n = next) {
		next = n->next;
		node_free(n);
	}
	if (q->efd >= 0)
		close(q->efd);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	q->efd = -1;
}

static void efd_signal(struct cq *q)
{
	uint64_t one = 1;

	/* can only fail with EAGAIN at a counter of 2^64-2: still readable */
	if (write(q->efd, &one, sizeof(one)) < 0)
		return;
}

void cq_post(struct cq *q, struct cq_node *n)
{
	n->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	q->count++;
	if (!q->signalled) {
		q->signalled = true;
		efd_signal(q);
	}
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

int cq_drain(struct cq *q, struct fdpkv_completion *out, unsigned int max)
{
	uint64_t v;
	int got = 0;

	pthread_mutex_lock(&q->lock);
	while (read(q->efd, &v, sizeof(v)) == sizeof(v))
		;
	while (q->head && (unsigned int)got < max) {
		struct cq_node *n = q->head;

		q->head = n->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		out[got++] = n->c;
		free(n);
	}
	if (q->head)
		efd_signal(q);	/* left some behind: stay readable */
	else
		q->signalled = false;
	pthread_mutex_unlock(&q->lock);
	return got;
}

int cq_wait_locked(struct cq *q, int timeout_ms)
{
	struct timespec ts;
	int ret = 0;

	if (timeout_ms >= 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += timeout_ms / 1000;
		ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
	}
	q->waiters++;
	while (!q->head && !q->closing && ret != ETIMEDOUT) {
		if (timeout_ms < 0)
			pthread_cond_wait(&q->cond, &q->lock);
		else
			ret = pthread_cond_timedwait(&q->cond, &q->lock, &ts);
	}
	ret = q->head ? 1 : q->closing ? -ESHUTDOWN : 0;
	if (--q->waiters == 0 && q->closing)
		pthread_cond_broadcast(&q->cond);	/* cq_shutdown waits for this */
	pthread_mutex_unlock(&q->lock);
	return ret;
}

void cq_shutdown(struct cq *q)
{
	pthread_mutex_lock(&q->lock);
	q->closing = true;
	pthread_cond_broadcast(&q->cond);
	while (q->waiters)
		pthread_cond_wait(&q->cond, &q->lock);
	pthread_mutex_unlock(&q->lock);
}
