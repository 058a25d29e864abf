/* SPDX-License-Identifier: MIT */
/*
 * loopcall.c - blocking calls onto gqd's loop (see loopcall.h).
 *
 * Invariant: an item is on the queue only while its caller waits for it,
 * and its caller returns only once the item is off the queue and `done`,
 * so items can live on the callers' stacks.
 */
#include "loopcall.h"

#include <goqueue.h>

struct gqd_loopcall_item {
	void (*fn)(void *arg);
	void *arg;
	int rv;
	bool done; /* under lock */
	struct gqd_loopcall_item *next;
};

static void
async_cb(uv_async_t *h)
{
	struct gqd_loopcall *lc = h->data;
	struct gqd_loopcall_item *it, *next;

	pthread_mutex_lock(&lc->lock);
	it = lc->head;
	lc->head = lc->tail = NULL;
	pthread_mutex_unlock(&lc->lock);
	for (; it != NULL; it = next) {
		next = it->next; /* @it is gone once done is seen */
		it->fn(it->arg);
		pthread_mutex_lock(&lc->lock);
		it->done = true;
		pthread_cond_broadcast(&lc->cond);
		pthread_mutex_unlock(&lc->lock);
	}
}

int
gqd_loopcall_init(uv_loop_t *loop, struct gqd_loopcall *lc)
{
	int rv;

	lc->head = lc->tail = NULL;
	lc->closed = false;
	if ((rv = uv_async_init(loop, &lc->async, async_cb)) != 0)
		return rv;
	lc->async.data = lc;
	pthread_mutex_init(&lc->lock, NULL);
	pthread_cond_init(&lc->cond, NULL);
	return 0;
}

int
gqd_loopcall_run(struct gqd_loopcall *lc, void (*fn)(void *arg), void *arg)
{
	struct gqd_loopcall_item it = { fn, arg, 0, false, NULL };

	pthread_mutex_lock(&lc->lock);
	if (lc->closed) {
		pthread_mutex_unlock(&lc->lock);
		return GQ_ECLOSED;
	}
	if (lc->tail != NULL)
		lc->tail->next = &it;
	else
		lc->head = &it;
	lc->tail = &it;
	/* Under the lock, so that close cannot have closed the handle. */
	uv_async_send(&lc->async);
	while (!it.done)
		pthread_cond_wait(&lc->cond, &lc->lock);
	pthread_mutex_unlock(&lc->lock);
	return it.rv;
}

void
gqd_loopcall_close(struct gqd_loopcall *lc, uv_close_cb cb)
{
	struct gqd_loopcall_item *it;

	pthread_mutex_lock(&lc->lock);
	lc->closed = true;
	for (it = lc->head; it != NULL; it = it->next) {
		it->rv = GQ_ECLOSED;
		it->done = true;
	}
	lc->head = lc->tail = NULL;
	pthread_cond_broadcast(&lc->cond);
	pthread_mutex_unlock(&lc->lock);
	uv_close((uv_handle_t *)&lc->async, cb);
}
