// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * workers.c - the cache's copy workers: a few threads that bounce and
 * checksum the pieces of large values (pieces.c), so that the submitter's
 * thread and the device threads never do that work themselves and the
 * pieces of one value are staged on several cores while earlier pieces are
 * already on their way to or from the device.
 *
 * A job is a node embedded in its piece (no allocation per job); queueing
 * takes a short mutex and never waits for a job to run, so neither
 * fdpkv_submit nor a device thread blocks on the workers. Jobs run in FIFO
 * order, so a value's pieces are staged roughly in offset order.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct work_job *head, *tail;	/* lock */
	bool stop;			/* lock */
	unsigned int n;
	pthread_t thr[];
};

static void *worker_main(void *arg)
{
	struct workers *w = arg;
	struct work_job *j;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		j = w->head;
		if (!j)
			break;		/* stopping and nothing left */
		w->head = j->next;
		if (!w->head)
			w->tail = NULL;
		pthread_mutex_unlock(&w->lock);
		j->fn(j);		/* may free j */
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int workers_start(struct workers **out, unsigned int n)
{
	struct workers *w;
	unsigned int i;
	int ret;

	*out = NULL;
	if (!n)
		return 0;
	w = calloc(1, sizeof(*w) + n * sizeof(w->thr[0]));
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	for (i = 0; i < n; i++) {
		ret = -pthread_create(&w->thr[i], NULL, worker_main, w);
		if (ret)
			break;
	}
	w->n = i;
	if (!i) {
		workers_stop(w);
		return ret;
	}
	*out = w;	/* fewer threads than asked (EAGAIN) still work */
	return 0;
}

void workers_queue(struct workers *w, struct work_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

unsigned int workers_count(const struct workers *w)
{
	return w ? w->n : 0;
}

void workers_stop(struct workers *w)
{
	unsigned int i;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->n; i++)
		pthread_join(w->thr[i], NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}
