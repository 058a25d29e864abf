/* SPDX-License-Identifier: MIT */
/*
 * transport.c - per-group raft_uv_transport.  Invariant: a connect request
 * always completes through its callback, exactly once, after connect()
 * returned, and a close completes once no connect is pending (raft_uv's
 * contract, RAFT-0.15-NOTES.md section 3.1).
 */
#include "transport.h"

#include "heap.h"

struct connect_attempt {
	uv_timer_t timer;
	struct raft_uv_connect *req;
	struct gq_transport *tp;
	struct connect_attempt *next;
};

struct gq_transport {
	uv_loop_t *loop;
	uint64_t group_id;
	raft_id id;
	raft_uv_accept_cb accept_cb;
	struct connect_attempt *pending; /* connects not yet completed */
	bool closing;
	struct raft_uv_transport *t;
	raft_uv_transport_close_cb close_cb;
};

static int
tp_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
	struct gq_transport *tp = t->impl;

	(void)address;
	tp->id = id;
	return 0;
}

static int
tp_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
	struct gq_transport *tp = t->impl;

	/* No shared listener yet (#4): remember the callback so the hub can
	 * hand over streams once it exists. */
	tp->accept_cb = cb;
	return 0;
}

static void
maybe_finish_close(struct gq_transport *tp)
{
	if (tp->closing && tp->pending == NULL && tp->close_cb != NULL) {
		raft_uv_transport_close_cb cb = tp->close_cb;

		tp->close_cb = NULL;
		cb(tp->t);
	}
}

static void
attempt_closed(uv_handle_t *h)
{
	struct connect_attempt *a = h->data;
	struct gq_transport *tp = a->tp;
	struct connect_attempt **pp;

	for (pp = &tp->pending; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	}
	a->req->cb(a->req, NULL,
		   tp->closing ? RAFT_CANCELED : RAFT_NOCONNECTION);
	gq__free(a);
	maybe_finish_close(tp);
}

static void
attempt_fire(uv_timer_t *timer)
{
	uv_close((uv_handle_t *)timer, attempt_closed);
}

static int
tp_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
	   const char *address, raft_uv_connect_cb cb)
{
	struct gq_transport *tp = t->impl;
	struct connect_attempt *a;

	(void)id;
	(void)address;
	if ((a = gq__calloc(1, sizeof(*a))) == NULL)
		return RAFT_NOMEM;
	req->cb = cb;
	a->req = req;
	a->tp = tp;
	uv_timer_init(tp->loop, &a->timer);
	a->timer.data = a;
	/* No peer transport yet: fail from the loop, never inside connect. */
	uv_timer_start(&a->timer, attempt_fire, 0, 0);
	a->next = tp->pending;
	tp->pending = a;
	return 0;
}

static void
tp_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
	struct gq_transport *tp = t->impl;
	struct connect_attempt *a;

	tp->closing = true;
	tp->close_cb = cb;
	tp->t = t;
	for (a = tp->pending; a != NULL; a = a->next) {
		if (!uv_is_closing((uv_handle_t *)&a->timer)) {
			uv_timer_stop(&a->timer);
			uv_close((uv_handle_t *)&a->timer, attempt_closed);
		}
	}
	maybe_finish_close(tp);
}

int
gq__transport_init(struct raft_uv_transport *t, uv_loop_t *loop,
		   uint64_t group_id)
{
	struct gq_transport *tp;

	if ((tp = gq__calloc(1, sizeof(*tp))) == NULL)
		return RAFT_NOMEM;
	tp->loop = loop;
	tp->group_id = group_id;
	t->impl = tp;
	t->init = tp_init;
	t->listen = tp_listen;
	t->connect = tp_connect;
	t->close = tp_close;
	return 0;
}

void
gq__transport_close(struct raft_uv_transport *t)
{
	gq__free(t->impl);
	t->impl = NULL;
}
