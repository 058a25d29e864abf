/* SPDX-License-Identifier: MIT */
/*
 * transport.c - the hub and the per-group raft_uv_transport (see
 * transport.h for the handshake).
 *
 * Invariants (raft_uv's contract, RAFT-0.15-NOTES.md section 3.1): a
 * connect request completes through its callback exactly once, after
 * connect() returned; a stream handed to raft was allocated with
 * raft_malloc(), because raft frees it; a transport's close completes only
 * once none of its connects is pending; an incoming connection never
 * reads a byte past its handshake.
 */
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "heap.h"

/* "GQRAFT01" and "GQRPC001" read as little-endian u64s. */
#define HANDSHAKE_MAGIC 0x3130544641525147ULL
#define RPC_MAGIC       0x3130304350525147ULL
#define HANDSHAKE_FIXED 32
#define ADDRESS_MAX     256
#define INCOMING_MAX    1024

struct group_slot {
	uint64_t gid;
	struct raft_uv_transport *t;
	raft_uv_accept_cb cb;
	struct group_slot *next;
};

struct incoming {
	struct gq__hub *hub;
	uv_tcp_t *tcp; /* raft_malloc'd: raft frees it once it owns it */
	uint8_t hdr[HANDSHAKE_FIXED];
	char *addr;
	size_t need;
	size_t got;
	bool fixed_done;
	struct incoming *next;
};

struct gq__hub {
	uv_loop_t *loop;
	uint64_t node_id;
	char address[64];
	bool listening;
	uv_tcp_t listener;
	struct group_slot *groups;
	struct incoming *incoming;
	unsigned n_incoming;
	unsigned handles; /* listener and incoming handles not yet closed */
	bool closed;
	gq__hub_rpc_cb rpc_cb;
	void *rpc_arg;
	void (*close_cb)(void *arg);
	void *close_arg;
};

struct outgoing;

struct tp {
	struct gq__hub *hub;
	uint64_t gid;
	raft_id id;
	struct outgoing *pending;
	uv_timer_t defer; /* reports the close from the loop, never inline */
	bool closing;
	struct raft_uv_transport *t;
	raft_uv_transport_close_cb close_cb;
};

struct outgoing {
	struct tp *tp;
	struct raft_uv_connect *req;
	uv_tcp_t *tcp; /* raft_malloc'd: handed to raft on success */
	uv_connect_t connect;
	uv_write_t write;
	uint8_t *hs;
	bool canceled;
	struct outgoing *next;
};

/* Parse "a.b.c.d:port". */
static int
parse_address(const char *address, struct sockaddr_in *out)
{
	char host[64];
	const char *colon;
	char *end;
	long port;

	if (address == NULL || (colon = strrchr(address, ':')) == NULL ||
	    (size_t)(colon - address) >= sizeof(host))
		return GQ_EINVAL;
	memcpy(host, address, (size_t)(colon - address));
	host[colon - address] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port <= 0 || port > 65535)
		return GQ_EINVAL;
	return uv_ip4_addr(host, (int)port, out) == 0 ? 0 : GQ_EINVAL;
}

/* ---- accepting ------------------------------------------------------ */

static void maybe_hub_closed(struct gq__hub *hub);

static void
incoming_closed(uv_handle_t *h)
{
	struct incoming *in = h->data;
	struct gq__hub *hub = in->hub;

	raft_free(in->tcp);
	gq__free(in->addr);
	gq__free(in);
	hub->handles--;
	maybe_hub_closed(hub);
}

static void
incoming_unlink(struct incoming *in)
{
	struct incoming **pp;

	for (pp = &in->hub->incoming; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == in) {
			*pp = in->next;
			in->hub->n_incoming--;
			return;
		}
	}
}

static void
incoming_abort(struct incoming *in)
{
	incoming_unlink(in);
	uv_close((uv_handle_t *)in->tcp, incoming_closed);
}

static void
incoming_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct incoming *in = h->data;

	(void)suggested;
	/* Never more than what is missing of the handshake. */
	buf->base = (in->fixed_done ? in->addr : (char *)in->hdr) + in->got;
	buf->len = in->need - in->got;
}

static struct group_slot *
group_find(struct gq__hub *hub, uint64_t gid)
{
	for (struct group_slot *s = hub->groups; s != NULL; s = s->next)
		if (s->gid == gid)
			return s;
	return NULL;
}

static void
incoming_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
	struct incoming *in = stream->data;
	struct group_slot *slot;
	uint64_t len;

	(void)buf;
	if (n == 0)
		return;
	if (n < 0) {
		incoming_abort(in);
		return;
	}
	if ((in->got += (size_t)n) < in->need)
		return;
	if (!in->fixed_done) {
		uint64_t magic = gq__le64_get(in->hdr);

		len = gq__le64_get(in->hdr + 24);
		if ((magic != HANDSHAKE_MAGIC && magic != RPC_MAGIC) ||
		    len == 0 || len > ADDRESS_MAX || len % 8 != 0 ||
		    (in->addr = gq__malloc((size_t)len)) == NULL) {
			incoming_abort(in);
			return;
		}
		in->fixed_done = true;
		in->need = (size_t)len;
		in->got = 0;
		return; /* libuv asks incoming_alloc again */
	}
	in->addr[in->need - 1] = '\0';
	uv_read_stop(stream);
	if (gq__le64_get(in->hdr) == RPC_MAGIC) {
		struct gq__hub *hub = in->hub;

		if (hub->rpc_cb == NULL) {
			incoming_abort(in);
			return;
		}
		incoming_unlink(in);
		hub->handles--; /* the RPC channel owns the stream now */
		hub->rpc_cb(hub->rpc_arg, in->tcp, gq__le64_get(in->hdr + 16),
			    in->addr);
		gq__free(in->addr);
		gq__free(in);
		return;
	}
	slot = group_find(in->hub, gq__le64_get(in->hdr + 8));
	if (slot == NULL) {
		/* Not open here (yet): the peer's raft_uv retries. */
		incoming_abort(in);
		return;
	}
	incoming_unlink(in);
	in->hub->handles--; /* raft owns the stream now */
	slot->cb(slot->t, (raft_id)gq__le64_get(in->hdr + 16), in->addr,
		 stream);
	gq__free(in->addr);
	gq__free(in);
}

static void
listen_cb(uv_stream_t *listener, int status)
{
	struct gq__hub *hub = listener->data;
	struct incoming *in;

	if (status < 0 || hub->closed)
		return;
	if ((in = gq__calloc(1, sizeof(*in))) == NULL)
		return;
	if ((in->tcp = raft_malloc(sizeof(*in->tcp))) == NULL) {
		gq__free(in);
		return;
	}
	in->hub = hub;
	in->need = HANDSHAKE_FIXED;
	uv_tcp_init(hub->loop, in->tcp);
	hub->handles++;
	in->tcp->data = in;
	in->next = hub->incoming;
	hub->incoming = in;
	hub->n_incoming++;
	if (uv_accept(listener, (uv_stream_t *)in->tcp) != 0 ||
	    hub->n_incoming > INCOMING_MAX ||
	    uv_read_start((uv_stream_t *)in->tcp, incoming_alloc,
			  incoming_read) != 0) {
		incoming_abort(in);
		return;
	}
	uv_tcp_nodelay(in->tcp, 1);
}

int
gq__hub_create(uv_loop_t *loop, uint64_t node_id, const char *address,
	       struct gq__hub **out, char *errmsg)
{
	struct gq__hub *hub;
	struct sockaddr_in sa;
	int rv;

	if ((hub = gq__calloc(1, sizeof(*hub))) == NULL)
		return GQ_ENOMEM;
	hub->loop = loop;
	hub->node_id = node_id;
	if (address != NULL && address[0] != '\0') {
		if (parse_address(address, &sa) != 0 ||
		    strlen(address) >= sizeof(hub->address)) {
			gq__errmsg_set(errmsg, "bad raft address '%s'",
				       address);
			gq__free(hub);
			return GQ_EINVAL;
		}
		snprintf(hub->address, sizeof(hub->address), "%s", address);
		uv_tcp_init(loop, &hub->listener);
		hub->listener.data = hub;
		hub->listening = true;
		hub->handles++;
		if ((rv = uv_tcp_bind(&hub->listener,
				      (const struct sockaddr *)&sa, 0)) != 0 ||
		    (rv = uv_listen((uv_stream_t *)&hub->listener, 1024,
				    listen_cb)) != 0) {
			gq__errmsg_set(errmsg, "cannot listen on %s: %s",
				       address, uv_strerror(rv));
			/* The handle must close through the loop. */
			gq__hub_close(hub, NULL, NULL);
			return GQ_EIO;
		}
	}
	*out = hub;
	return 0;
}

static void
maybe_hub_closed(struct gq__hub *hub)
{
	if (!hub->closed || hub->handles > 0)
		return;
	if (hub->close_cb != NULL)
		hub->close_cb(hub->close_arg);
	gq__free(hub);
}

static void
listener_closed(uv_handle_t *h)
{
	struct gq__hub *hub = h->data;

	hub->handles--;
	maybe_hub_closed(hub);
}

void
gq__hub_close(struct gq__hub *hub, void (*cb)(void *arg), void *arg)
{
	hub->close_cb = cb;
	hub->close_arg = arg;
	if (hub->listening)
		uv_close((uv_handle_t *)&hub->listener, listener_closed);
	while (hub->incoming != NULL)
		incoming_abort(hub->incoming);
	hub->closed = true;
	maybe_hub_closed(hub);
}

void
gq__hub_set_rpc(struct gq__hub *hub, gq__hub_rpc_cb cb, void *arg)
{
	hub->rpc_cb = cb;
	hub->rpc_arg = arg;
}

uv_loop_t *
gq__hub_loop(struct gq__hub *hub)
{
	return hub->loop;
}

uint64_t
gq__hub_node_id(struct gq__hub *hub)
{
	return hub->node_id;
}

const char *
gq__hub_address(struct gq__hub *hub)
{
	return hub->address;
}

int
gq__hub_handshake(struct gq__hub *hub, bool rpc, uint64_t group_id,
		  uint8_t **out, size_t *len)
{
	size_t alen = strlen(hub->address) + 1;
	size_t padded = (alen + 7) & ~(size_t)7;
	uint8_t *hs;

	if ((hs = gq__calloc(1, HANDSHAKE_FIXED + padded)) == NULL)
		return GQ_ENOMEM;
	gq__le64_put(hs, rpc ? RPC_MAGIC : HANDSHAKE_MAGIC);
	gq__le64_put(hs + 8, group_id);
	gq__le64_put(hs + 16, hub->node_id);
	gq__le64_put(hs + 24, padded);
	memcpy(hs + HANDSHAKE_FIXED, hub->address, alen);
	*out = hs;
	*len = HANDSHAKE_FIXED + padded;
	return 0;
}

int
gq__parse_address(const char *address, struct sockaddr_in *out)
{
	return parse_address(address, out);
}

/* ---- the per-group transport ----------------------------------------- */

static int
tp_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
	struct tp *tp = t->impl;

	(void)address;
	tp->id = id;
	return 0;
}

static int
tp_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
	struct tp *tp = t->impl;
	struct group_slot *s;

	if ((s = gq__calloc(1, sizeof(*s))) == NULL)
		return RAFT_NOMEM;
	s->gid = tp->gid;
	s->t = t;
	s->cb = cb;
	s->next = tp->hub->groups;
	tp->hub->groups = s;
	return 0;
}

static void
tp_defer_closed(uv_handle_t *h)
{
	struct tp *tp = h->data;
	raft_uv_transport_close_cb cb = tp->close_cb;

	tp->close_cb = NULL;
	cb(tp->t);
}

static void
tp_defer_fired(uv_timer_t *t)
{
	uv_close((uv_handle_t *)t, tp_defer_closed);
}

/* Report the close once no connect is pending.  Never from inside
 * raft_uv's close: raft 0.15's uvClose checks whether it can finish both
 * after the transport's callback and on its own return, and a synchronous
 * callback makes it call raft's close callback twice (seen under TSan as
 * a use after free of the group). */
static void
maybe_tp_closed(struct tp *tp)
{
	if (tp->closing && tp->pending == NULL && tp->close_cb != NULL &&
	    !uv_is_active((uv_handle_t *)&tp->defer) &&
	    !uv_is_closing((uv_handle_t *)&tp->defer)) {
		uv_timer_init(tp->hub->loop, &tp->defer);
		tp->defer.data = tp;
		uv_timer_start(&tp->defer, tp_defer_fired, 0, 0);
	}
}

static void
outgoing_unlink(struct outgoing *o)
{
	struct outgoing **pp;

	for (pp = &o->tp->pending; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == o) {
			*pp = o->next;
			return;
		}
	}
}

static void
outgoing_closed(uv_handle_t *h)
{
	struct outgoing *o = h->data;
	struct tp *tp = o->tp;

	raft_free(o->tcp);
	gq__free(o->hs);
	outgoing_unlink(o);
	o->req->cb(o->req, NULL,
		   o->canceled ? RAFT_CANCELED : RAFT_NOCONNECTION);
	gq__free(o);
	maybe_tp_closed(tp);
}

static void
outgoing_fail(struct outgoing *o)
{
	if (!uv_is_closing((uv_handle_t *)o->tcp))
		uv_close((uv_handle_t *)o->tcp, outgoing_closed);
}

static void
outgoing_written(uv_write_t *w, int status)
{
	struct outgoing *o = w->data;
	struct tp *tp = o->tp;

	if (status != 0 || o->canceled) {
		outgoing_fail(o);
		return;
	}
	gq__free(o->hs);
	outgoing_unlink(o);
	o->req->cb(o->req, (uv_stream_t *)o->tcp, 0); /* raft owns it */
	gq__free(o);
	maybe_tp_closed(tp);
}

static void
outgoing_connected(uv_connect_t *c, int status)
{
	struct outgoing *o = c->data;
	size_t len;
	uv_buf_t b;

	if (status != 0 || o->canceled ||
	    gq__hub_handshake(o->tp->hub, false, o->tp->gid, &o->hs, &len)) {
		outgoing_fail(o);
		return;
	}
	uv_tcp_nodelay(o->tcp, 1);
	b = uv_buf_init((char *)o->hs, (unsigned)len);
	o->write.data = o;
	if (uv_write(&o->write, (uv_stream_t *)o->tcp, &b, 1,
		     outgoing_written) != 0)
		outgoing_fail(o);
}

static int
tp_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
	   const char *address, raft_uv_connect_cb cb)
{
	struct tp *tp = t->impl;
	struct sockaddr_in sa;
	struct outgoing *o;

	(void)id;
	if ((o = gq__calloc(1, sizeof(*o))) == NULL)
		return RAFT_NOMEM;
	if ((o->tcp = raft_malloc(sizeof(*o->tcp))) == NULL) {
		gq__free(o);
		return RAFT_NOMEM;
	}
	req->cb = cb;
	o->tp = tp;
	o->req = req;
	uv_tcp_init(tp->hub->loop, o->tcp);
	o->tcp->data = o;
	o->connect.data = o;
	o->next = tp->pending;
	tp->pending = o;
	/* Without an address of our own no peer could answer us; failures
	 * are reported from the loop, never inside connect(). */
	if (tp->hub->address[0] == '\0' || parse_address(address, &sa) != 0 ||
	    uv_tcp_connect(&o->connect, o->tcp, (const struct sockaddr *)&sa,
			   outgoing_connected) != 0)
		outgoing_fail(o);
	return 0;
}

static void
tp_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
	struct tp *tp = t->impl;
	struct group_slot **pp;

	tp->closing = true;
	tp->close_cb = cb;
	tp->t = t;
	for (pp = &tp->hub->groups; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->t == t) {
			struct group_slot *s = *pp;

			*pp = s->next;
			gq__free(s);
			break;
		}
	}
	for (struct outgoing *o = tp->pending; o != NULL; o = o->next) {
		o->canceled = true;
		outgoing_fail(o);
	}
	maybe_tp_closed(tp);
}

int
gq__transport_init(struct raft_uv_transport *t, struct gq__hub *hub,
		   uint64_t group_id)
{
	struct tp *tp;

	if ((tp = gq__calloc(1, sizeof(*tp))) == NULL)
		return RAFT_NOMEM;
	tp->hub = hub;
	tp->gid = group_id;
	tp->t = t;
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
