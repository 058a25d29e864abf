/* SPDX-License-Identifier: MIT */
/*
 * rio_net.c - rio's connections: one outgoing stream per peer, made on the
 * first message and remade after a failure, and the peers' incoming
 * streams, read with an rmsg reader each (rio.h).
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "heap.h"
#include "rio_int.h"
#include "rmsg.h"

/* Messages for a peer queue here while its connection is being made; the
 * oldest are failed past this many, as raft_uv does, since raft resends
 * what matters (heartbeats, AppendEntries from the follower's index). */
#define MAX_QUEUED_SENDS 3

struct client;

struct send {
	struct client *c;
	struct raft_io_send *req;
	struct gq__rmsg_out out;
	uv_write_t write;
	struct send *next;
};

/* The connection to one peer; messages only flow this way on it. */
struct client {
	struct rio *rio;
	raft_id id;
	char *address;
	uv_stream_t *stream; /* NULL while not connected */
	struct raft_uv_connect connect;
	bool connecting;
	uv_timer_t retry;    /* before the next connection attempt */
	struct send *queued; /* while not connected, oldest first */
	unsigned n_queued;
	unsigned n_handles; /* stream and timer not yet closed */
	bool closing;
	struct client *next;
};

/* A connection from one peer. */
struct server {
	struct rio *rio;
	raft_id id;
	char *address;
	uv_stream_t *stream;
	struct gq__rmsg_reader reader;
	struct server *next;
};

/* --- sending ------------------------------------------------------------- */

static void client_connect(struct client *c);

static void
send_free(struct send *s)
{
	gq__rmsg_out_free(&s->out);
	gq__free(s);
}

static void
send_fail(struct send *s, int status)
{
	struct raft_io_send *req = s->req;

	send_free(s);
	if (req->cb != NULL)
		req->cb(req, status);
}

static void
client_maybe_free(struct client *c)
{
	if (!c->closing || c->n_handles > 0 || c->connecting)
		return;
	gq__free(c->address);
	gq__free(c);
}

static void
client_handle_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	struct rio *rio = c->rio;

	if (h != (uv_handle_t *)&c->retry)
		raft_free(h);
	c->n_handles--;
	client_maybe_free(c);
	rio->n_live--;
	gq__rio_maybe_closed(rio);
}

/* Drop the connection (a write failed or the peer went away); the next
 * send makes a new one. */
static void
client_disconnect(struct client *c)
{
	uv_stream_t *s = c->stream;

	if (s == NULL)
		return;
	c->stream = NULL;
	s->data = c;
	uv_close((uv_handle_t *)s, client_handle_closed);
}

static void
send_written(uv_write_t *w, int status)
{
	struct send *s = w->data;
	struct client *c = s->c;

	if (status != 0 && !c->closing && c->stream != NULL)
		client_disconnect(c);
	send_fail(s, status == 0              ? 0
		     : status == UV_ECANCELED ? RAFT_CANCELED
					      : RAFT_IOERR);
}

static int
send_write(struct client *c, struct send *s)
{
	s->c = c;
	s->write.data = s;
	if (uv_write(&s->write, c->stream, s->out.bufs, s->out.n,
		     send_written) != 0)
		return RAFT_IOERR;
	return 0;
}

static void retry_fired(uv_timer_t *t);

static void
client_connected(struct raft_uv_connect *req, uv_stream_t *stream, int status)
{
	struct client *c = req->data;
	struct send *s;

	c->connecting = false;
	if (status == 0) {
		c->n_handles++;
		c->rio->n_live++;
		c->stream = stream;
		stream->data = c;
	}
	if (c->closing) {
		client_disconnect(c);
		client_maybe_free(c);
		return;
	}
	if (status != 0) {
		/* Keep the newest few messages for the next attempt. */
		while (c->n_queued > MAX_QUEUED_SENDS) {
			s = c->queued;
			c->queued = s->next;
			c->n_queued--;
			send_fail(s, RAFT_NOCONNECTION);
		}
		uv_timer_start(&c->retry, retry_fired,
			       c->rio->opts.connect_retry_ms, 0);
		return;
	}
	while ((s = c->queued) != NULL) {
		c->queued = s->next;
		c->n_queued--;
		if (send_write(c, s) != 0)
			send_fail(s, RAFT_IOERR);
	}
}

static void
retry_fired(uv_timer_t *t)
{
	struct client *c = t->data;

	client_connect(c);
}

static void
client_connect(struct client *c)
{
	struct rio *rio = c->rio;

	if (c->connecting || c->stream != NULL ||
	    uv_is_active((uv_handle_t *)&c->retry))
		return;
	c->connect.data = c;
	c->connecting = true;
	if (rio->t->connect(rio->t, &c->connect, c->id, c->address,
			    client_connected) != 0) {
		c->connecting = false;
		uv_timer_start(&c->retry, retry_fired,
			       rio->opts.connect_retry_ms, 0);
	}
}

static void client_abort(struct client *c);

static struct client *
client_get(struct rio *rio, raft_id id, const char *address)
{
	struct client **pp, *c;

	for (pp = &rio->clients; (c = *pp) != NULL; pp = &c->next) {
		if (c->id != id)
			continue;
		if (strcmp(c->address, address) == 0)
			return c;
		/* The peer moved: start over with its new address. */
		*pp = c->next;
		client_abort(c);
		break;
	}
	if ((c = gq__calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->address = gq__strdup(address)) == NULL) {
		gq__free(c);
		return NULL;
	}
	c->rio = rio;
	c->id = id;
	uv_timer_init(rio->loop, &c->retry);
	c->retry.data = c;
	c->n_handles = 1;
	rio->n_live++;
	c->next = rio->clients;
	rio->clients = c;
	return c;
}

int
gq__rio_send(struct raft_io *io, struct raft_io_send *req,
	     const struct raft_message *message, raft_io_send_cb cb)
{
	struct rio *rio = io->impl;
	struct client *c;
	struct send *s, **pp;
	int rv;

	req->cb = cb;
	if ((s = gq__calloc(1, sizeof(*s))) == NULL)
		return RAFT_NOMEM;
	s->req = req;
	if ((rv = gq__rmsg_encode(message, &s->out)) != 0) {
		gq__free(s);
		return rv == GQ_ENOMEM ? RAFT_NOMEM : RAFT_MALFORMED;
	}
	if ((c = client_get(rio, message->server_id,
			    message->server_address)) == NULL) {
		send_free(s);
		return RAFT_NOMEM;
	}
	s->c = c;
	if (c->stream != NULL) {
		if ((rv = send_write(c, s)) != 0)
			send_free(s);
		return rv;
	}
	/* Queued in order until connected. */
	pp = &c->queued;
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = s;
	c->n_queued++;
	client_connect(c);
	return 0;
}

/* Close a client: its stream (writes in flight complete canceled), its
 * timer, and the messages still queued. */
static void
client_abort(struct client *c)
{
	struct send *s;

	c->closing = true;
	while ((s = c->queued) != NULL) {
		c->queued = s->next;
		send_fail(s, RAFT_CANCELED);
	}
	c->n_queued = 0;
	uv_close((uv_handle_t *)&c->retry, client_handle_closed);
	client_disconnect(c);
}

/* --- receiving ----------------------------------------------------------- */

static void
server_closed(uv_handle_t *h)
{
	struct server *s = h->data;
	struct rio *rio = s->rio;

	gq__rmsg_reader_close(&s->reader);
	raft_free(h);
	gq__free(s->address);
	gq__free(s);
	rio->n_live--;
	gq__rio_maybe_closed(rio);
}

static void
server_abort(struct server *s)
{
	struct rio *rio = s->rio;
	struct server **pp;

	for (pp = &rio->servers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	uv_close((uv_handle_t *)s->stream, server_closed);
}

static void
server_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct server *s = h->data;

	(void)suggested;
	gq__rmsg_reader_alloc(&s->reader, buf);
}

static void
server_deliver(void *arg, struct raft_message *m)
{
	struct server *s = arg;

	m->server_id = s->id;
	m->server_address = s->address;
	s->rio->recv_cb(s->rio->io, m);
}

static void
server_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
	struct server *s = stream->data;

	(void)buf;
	if (n == 0)
		return;
	if (n < 0 || gq__rmsg_reader_consume(&s->reader, (size_t)n,
					     server_deliver, s) != 0)
		server_abort(s);
}

static void
stream_free(uv_handle_t *h)
{
	raft_free(h);
}

void
gq__rio_accepted(struct raft_uv_transport *t, raft_id id, const char *address,
		 uv_stream_t *stream)
{
	struct rio *rio = t->data;
	struct server *s;

	if (rio->closing || (s = gq__calloc(1, sizeof(*s))) == NULL)
		goto drop;
	if ((s->address = gq__strdup(address)) == NULL) {
		gq__free(s);
		goto drop;
	}
	s->rio = rio;
	s->id = id;
	s->stream = stream;
	stream->data = s;
	gq__rmsg_reader_init(&s->reader, rio->opts.max_message);
	rio->n_live++;
	s->next = rio->servers;
	rio->servers = s;
	if (uv_read_start(stream, server_alloc, server_read) != 0)
		server_abort(s);
	return;
drop:
	uv_close((uv_handle_t *)stream, stream_free);
}

void
gq__rio_net_close(struct rio *rio)
{
	while (rio->clients != NULL) {
		struct client *c = rio->clients;

		rio->clients = c->next;
		client_abort(c);
	}
	while (rio->servers != NULL)
		server_abort(rio->servers);
}
