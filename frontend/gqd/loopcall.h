/* SPDX-License-Identifier: MIT */
/*
 * loopcall.h - blocking calls onto gqd's network loop from other threads
 * (the admin port's), for the state only that loop may touch: the running
 * configuration and its reload.
 *
 * A caller queues a call (on its own stack), wakes the loop with
 * uv_async_send() and waits on a condition variable until the loop ran
 * it.  Once gqd_loopcall_close() started, queued and later calls return
 * GQ_ECLOSED without running, so that a thread stopping the admin port
 * never waits on a call the loop will not serve.
 *
 * Lifecycle: init (loop thread) -> run (any other thread, any number of
 * times) -> close (loop thread; the handle closes with the loop).
 */
#ifndef GQD_LOOPCALL_H
#define GQD_LOOPCALL_H

#include <pthread.h>
#include <stdbool.h>
#include <uv.h>

struct gqd_loopcall_item;

struct gqd_loopcall {
	uv_async_t async;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct gqd_loopcall_item *head; /* under lock, FIFO */
	struct gqd_loopcall_item *tail;
	bool closed; /* under lock */
};

/* Prepare @lc on @loop.  Returns 0 or a negative errno (nothing to
 * close then). */
int gqd_loopcall_init(uv_loop_t *loop, struct gqd_loopcall *lc);

/* Run @fn(@arg) on the loop thread and wait until it returned.  Returns
 * 0, or GQ_ECLOSED when @lc is closing (@fn did not run).  Any thread but
 * the loop's. */
int gqd_loopcall_run(struct gqd_loopcall *lc, void (*fn)(void *arg), void *arg);

/* Refuse new calls, fail the queued ones (GQ_ECLOSED) and close the
 * handle; @cb runs on the loop once it closed, then @lc may be freed.
 * Loop thread only. */
void gqd_loopcall_close(struct gqd_loopcall *lc, uv_close_cb cb);

#endif /* GQD_LOOPCALL_H */
