/* SPDX-License-Identifier: MIT */
/*
 * rpc.c - the node-to-node request/response channel (see rpc.h for the
 * frames).
 *
 * Invariants: every request a send accepted is in exactly one list until
 * its callback ran: the endpoint's `deferred` list (failed before it could
 * be sent), or the `pending` list of the connection it was written to; a
 * connection fails all its pending requests when it closes.  Callbacks
 * never run inside gq__rpc_send().  A call handed to the handler is in its
 * connection's `calls` list until answered; a closing connection detaches
 * them so a late answer is dropped.
 */
#include "rpc.h"

#include <raft.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "buf.h"
#include "error.h"
#include "heap.h"
#include "transport.h"

#define FRAME_HEADER 24 /* u32 length, u32 type, u64 id, i32 status, u32 */
#define REPLY_BIT    0x80000000u
#define READ_CHUNK   (64u << 10)
#define TICK_MS      50
#define DOWN_MS      100 /* after a failed connect, sends fail at once */
#define DOWN_SLOTS   16

struct pending {
	uint64_t id;
	uint64_t deadline;
	int fail; /* in `deferred`: the status to report */
	gq__rpc_cb cb;
	void *arg;
	struct pending *next;
};

struct conn;

struct gq__rpc_call {
	struct conn *conn; /* NULL once the connection is gone */
	uint64_t id;
	uint32_t type;
	struct gq__rpc_call *next;
};

struct conn {
	struct gq__rpc *rpc;
	uv_tcp_t *tcp; /* &own when dialled; the hub's raft_malloc'd one when
			  accepted */
	uv_tcp_t own;
	uv_connect_t connect;
	bool incoming;
	bool connected;
	bool closing;
	uint64_t peer_id;
	char address[64];
	struct gq__buf queued; /* frames written before the connect finished */
	struct gq__buf in;     /* bytes read, not yet a whole frame */
	struct pending *pending;
	struct gq__rpc_call *calls;
	struct conn *next;
};

struct write_req {
	uv_write_t w;
	struct conn *conn;
	uint8_t *data;
};

struct gq__rpc {
	struct gq__hub *hub;
	uv_loop_t *loop;
	gq__rpc_handler handler;
	void *arg;
	struct conn *conns;
	struct pending *deferred;
	uv_timer_t timer;
	uint64_t next_id;
	unsigned handles; /* the timer and every connection not yet closed */
	bool closed;
	void (*close_cb)(void *arg);
	void *close_arg;
	struct {
		char address[64];
		uint64_t until;
	} down[DOWN_SLOTS];
	unsigned down_next;
};

static void conn_fail(struct conn *c, int status);

/* ---- bookkeeping -------------------------------------------------------- */

static void
maybe_closed(struct gq__rpc *rpc)
{
	void (*cb)(void *);
	void *arg;

	if (!rpc->closed || rpc->handles > 0)
		return;
	cb = rpc->close_cb;
	arg = rpc->close_arg;
	gq__free(rpc);
	if (cb != NULL)
		cb(arg);
}

static bool
is_down(struct gq__rpc *rpc, const char *address)
{
	uint64_t now = uv_now(rpc->loop);

	for (unsigned i = 0; i < DOWN_SLOTS; i++)
		if (rpc->down[i].until > now &&
		    strcmp(rpc->down[i].address, address) == 0)
			return true;
	return false;
}

static void
mark_down(struct gq__rpc *rpc, const char *address)
{
	unsigned i = rpc->down_next++ % DOWN_SLOTS;

	snprintf(rpc->down[i].address, sizeof(rpc->down[i].address), "%s",
		 address);
	rpc->down[i].until = uv_now(rpc->loop) + DOWN_MS;
}

/* Fail every request of list @p with @status, oldest first. */
static void
fail_list(struct pending *p, int status)
{
	struct pending *rev = NULL;

	while (p != NULL) {
		struct pending *next = p->next;

		p->next = rev;
		rev = p;
		p = next;
	}
	while (rev != NULL) {
		struct pending *next = rev->next;

		rev->cb(rev->arg, status, NULL, 0);
		gq__free(rev);
		rev = next;
	}
}

/* ---- writing ------------------------------------------------------------ */

static void
written(uv_write_t *w, int status)
{
	struct write_req *wr = w->data;

	if (status != 0)
		conn_fail(wr->conn, GQ_EIO);
	gq__free(wr->data);
	gq__free(wr);
}

/* Write @len bytes taken from @data (gq__malloc'd; owned by the write from
 * now on). */
static void
write_raw(struct conn *c, uint8_t *data, size_t len)
{
	struct write_req *wr;
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);

	if ((wr = gq__calloc(1, sizeof(*wr))) == NULL) {
		gq__free(data);
		conn_fail(c, GQ_EIO);
		return;
	}
	wr->conn = c;
	wr->data = data;
	wr->w.data = wr;
	if (uv_write(&wr->w, (uv_stream_t *)c->tcp, &b, 1, written) != 0) {
		gq__free(data);
		gq__free(wr);
		conn_fail(c, GQ_EIO);
	}
}

static int
frame_put(struct gq__buf *out, uint32_t type, uint64_t id, int status,
	  const void *body, size_t len)
{
	int rv = gq__buf_put_le32(out, (uint32_t)(FRAME_HEADER - 4 + len)) |
		 gq__buf_put_le32(out, type) | gq__buf_put_le64(out, id) |
		 gq__buf_put_le32(out, (uint32_t)status) |
		 gq__buf_put_le32(out, 0);

	if (len > 0)
		rv |= gq__buf_append(out, body, len);
	return rv != 0 ? GQ_ENOMEM : 0;
}

/* Send a frame now, or queue it until the connection is up. */
static int
write_frame(struct conn *c, uint32_t type, uint64_t id, int status,
	    const void *body, size_t len)
{
	struct gq__buf f = GQ__BUF_INIT;

	if (c->closing)
		return GQ_EIO;
	if (!c->connected)
		return frame_put(&c->queued, type, id, status, body, len);
	if (frame_put(&f, type, id, status, body, len) != 0) {
		gq__buf_free(&f);
		return GQ_ENOMEM;
	}
	write_raw(c, f.base, f.len);
	return 0;
}

/* ---- connections ----------------------------------------------------------
 */

static void
conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	struct gq__rpc *rpc = c->rpc;
	struct conn **pp;

	for (pp = &rpc->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	gq__buf_free(&c->queued);
	gq__buf_free(&c->in);
	if (c->incoming)
		raft_free(c->tcp);
	gq__free(c);
	rpc->handles--;
	maybe_closed(rpc);
}

/* Close @c: its pending requests fail with @status, its unanswered calls
 * are detached. */
static void
conn_fail(struct conn *c, int status)
{
	struct pending *p = c->pending;

	if (c->closing)
		return;
	c->closing = true;
	c->pending = NULL;
	for (struct gq__rpc_call *call = c->calls; call != NULL;
	     call = call->next)
		call->conn = NULL;
	c->calls = NULL;
	if (!c->incoming && !c->connected)
		mark_down(c->rpc, c->address);
	uv_close((uv_handle_t *)c->tcp, conn_closed);
	fail_list(p, status);
}

static void
read_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;

	(void)suggested;
	if (gq__buf_reserve(&c->in, READ_CHUNK) != 0) {
		*buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
		return;
	}
	*buf = uv_buf_init((char *)c->in.base + c->in.len,
			   (unsigned)(c->in.cap - c->in.len));
}

static void
handle_reply(struct conn *c, uint64_t id, int status, const uint8_t *body,
	     size_t len)
{
	struct pending **pp;

	for (pp = &c->pending; *pp != NULL; pp = &(*pp)->next) {
		struct pending *p = *pp;

		if (p->id != id)
			continue;
		*pp = p->next;
		p->cb(p->arg, status, body, len);
		gq__free(p);
		return;
	}
	/* Timed out already: nobody waits for it. */
}

static void
handle_request(struct conn *c, uint32_t type, uint64_t id, const uint8_t *body,
	       size_t len)
{
	struct gq__rpc *rpc = c->rpc;
	struct gq__rpc_call *call;

	if ((call = gq__calloc(1, sizeof(*call))) == NULL) {
		write_frame(c, type | REPLY_BIT, id, GQ_ENOMEM, NULL, 0);
		return;
	}
	call->conn = c;
	call->id = id;
	call->type = type;
	call->next = c->calls;
	c->calls = call;
	rpc->handler(rpc->arg, call, c->peer_id, type, body, len);
}

/* Handle every whole frame in c->in; false once the connection failed. */
static bool
handle_frames(struct conn *c)
{
	size_t off = 0;

	while (!c->closing && c->in.len - off >= 4) {
		const uint8_t *f = c->in.base + off;
		uint32_t flen = gq__le32_get(f);
		uint32_t type;

		if (flen < FRAME_HEADER - 4 ||
		    flen > GQ__RPC_FRAME_MAX + FRAME_HEADER - 4) {
			conn_fail(c, GQ_EIO);
			return false;
		}
		if (c->in.len - off < 4 + (size_t)flen) {
			/* Room for the rest at once, not chunk by chunk. */
			if (off == 0 &&
			    gq__buf_reserve(&c->in, 4 + (size_t)flen -
							    c->in.len) != 0) {
				conn_fail(c, GQ_EIO);
				return false;
			}
			break;
		}
		type = gq__le32_get(f + 4);
		if (((type & REPLY_BIT) != 0) == c->incoming) {
			/* Requests only come in, replies only back. */
			conn_fail(c, GQ_EIO);
			return false;
		}
		if (c->incoming)
			handle_request(c, type, gq__le64_get(f + 8),
				       f + FRAME_HEADER,
				       flen + 4 - FRAME_HEADER);
		else
			handle_reply(c, gq__le64_get(f + 8),
				     (int32_t)gq__le32_get(f + 16),
				     f + FRAME_HEADER, flen + 4 - FRAME_HEADER);
		off += 4 + (size_t)flen;
	}
	if (c->closing)
		return false;
	memmove(c->in.base, c->in.base + off, c->in.len - off);
	c->in.len -= off;
	return true;
}

static void
read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = s->data;

	(void)buf;
	if (n == 0 || c->closing)
		return;
	if (n < 0) {
		conn_fail(c, GQ_EIO);
		return;
	}
	c->in.len += (size_t)n;
	handle_frames(c);
}

static void
stream_free(uv_handle_t *h)
{
	raft_free(h);
}

static void
accepted(void *arg, uv_tcp_t *stream, uint64_t sender_id,
	 const char *sender_address)
{
	struct gq__rpc *rpc = arg;
	struct conn *c;

	if ((c = gq__calloc(1, sizeof(*c))) == NULL) {
		/* The hub's stream: close it the way its owner must. */
		uv_close((uv_handle_t *)stream, stream_free);
		return;
	}
	c->rpc = rpc;
	c->tcp = stream;
	c->incoming = true;
	c->connected = true;
	c->peer_id = sender_id;
	snprintf(c->address, sizeof(c->address), "%s", sender_address);
	stream->data = c;
	c->next = rpc->conns;
	rpc->conns = c;
	rpc->handles++;
	if (uv_read_start((uv_stream_t *)stream, read_alloc, read_cb) != 0)
		conn_fail(c, GQ_EIO);
}

static void
connected(uv_connect_t *req, int status)
{
	struct conn *c = req->data;

	if (c->closing)
		return;
	if (status != 0) {
		conn_fail(c, GQ_EIO);
		return;
	}
	c->connected = true;
	uv_tcp_nodelay(c->tcp, 1);
	if (uv_read_start((uv_stream_t *)c->tcp, read_alloc, read_cb) != 0) {
		conn_fail(c, GQ_EIO);
		return;
	}
	/* The handshake and every frame sent meanwhile, in one write. */
	write_raw(c, c->queued.base, c->queued.len);
	c->queued = (struct gq__buf)GQ__BUF_INIT;
}

/* A new connection to @address, its handshake queued. */
static struct conn *
conn_dial(struct gq__rpc *rpc, uint64_t peer_id, const char *address,
	  const struct sockaddr_in *sa)
{
	struct conn *c;
	uint8_t *hs;
	size_t hs_len;

	if ((c = gq__calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (gq__hub_handshake(rpc->hub, true, 0, &hs, &hs_len) != 0) {
		gq__free(c);
		return NULL;
	}
	c->queued.base = hs;
	c->queued.len = c->queued.cap = hs_len;
	c->rpc = rpc;
	c->tcp = &c->own;
	c->peer_id = peer_id;
	snprintf(c->address, sizeof(c->address), "%s", address);
	uv_tcp_init(rpc->loop, c->tcp);
	c->tcp->data = c;
	c->connect.data = c;
	c->next = rpc->conns;
	rpc->conns = c;
	rpc->handles++;
	if (uv_tcp_connect(&c->connect, c->tcp, (const struct sockaddr *)sa,
			   connected) != 0) {
		/* Nothing pending yet: closing fails no request. */
		conn_fail(c, GQ_EIO);
		return NULL;
	}
	return c;
}

/* ---- the endpoint ------------------------------------------------------- */

static void
tick(uv_timer_t *t)
{
	struct gq__rpc *rpc = t->data;
	struct pending *deferred = rpc->deferred;
	uint64_t now = uv_now(rpc->loop);

	rpc->deferred = NULL;
	while (deferred != NULL) {
		struct pending *next = deferred->next;

		deferred->cb(deferred->arg, deferred->fail, NULL, 0);
		gq__free(deferred);
		deferred = next;
	}
	for (struct conn *c = rpc->conns; c != NULL; c = c->next) {
		struct pending **pp = &c->pending;

		while (*pp != NULL) {
			struct pending *p = *pp;

			if (p->deadline > now) {
				pp = &p->next;
				continue;
			}
			*pp = p->next;
			p->cb(p->arg, GQ_ETIMEDOUT, NULL, 0);
			gq__free(p);
			/* A callback may have sent or closed: rescan. */
			pp = &c->pending;
		}
	}
}

int
gq__rpc_create(struct gq__hub *hub, gq__rpc_handler handler, void *arg,
	       struct gq__rpc **out)
{
	struct gq__rpc *rpc;

	if ((rpc = gq__calloc(1, sizeof(*rpc))) == NULL)
		return GQ_ENOMEM;
	rpc->hub = hub;
	rpc->loop = gq__hub_loop(hub);
	rpc->handler = handler;
	rpc->arg = arg;
	uv_timer_init(rpc->loop, &rpc->timer);
	rpc->timer.data = rpc;
	uv_timer_start(&rpc->timer, tick, TICK_MS, TICK_MS);
	rpc->handles = 1;
	gq__hub_set_rpc(hub, accepted, rpc);
	*out = rpc;
	return 0;
}

int
gq__rpc_send(struct gq__rpc *rpc, uint64_t peer_id, const char *address,
	     uint32_t type, const void *body, size_t len, uint32_t timeout_ms,
	     gq__rpc_cb cb, void *arg)
{
	struct sockaddr_in sa;
	struct pending *p;
	struct conn *c;

	if (rpc->closed)
		return GQ_ECLOSED;
	if (len > GQ__RPC_FRAME_MAX || (type & REPLY_BIT) != 0 ||
	    address == NULL || strlen(address) >= sizeof(c->address) ||
	    gq__parse_address(address, &sa) != 0)
		return GQ_EINVAL;
	if ((p = gq__calloc(1, sizeof(*p))) == NULL)
		return GQ_ENOMEM;
	p->id = ++rpc->next_id;
	p->deadline = uv_now(rpc->loop) + timeout_ms;
	p->cb = cb;
	p->arg = arg;
	for (c = rpc->conns; c != NULL; c = c->next)
		if (!c->incoming && !c->closing &&
		    strcmp(c->address, address) == 0)
			break;
	/* A node without an address of its own cannot be answered; a peer
	 * that just refused us is not dialled again at once. */
	if (c == NULL && gq__hub_address(rpc->hub)[0] != '\0' &&
	    !is_down(rpc, address))
		c = conn_dial(rpc, peer_id, address, &sa);
	if (c == NULL || write_frame(c, type, p->id, 0, body, len) != 0) {
		p->fail = GQ_EIO;
		p->next = rpc->deferred;
		rpc->deferred = p;
		return 0;
	}
	p->next = c->pending;
	c->pending = p;
	return 0;
}

void
gq__rpc_reply(struct gq__rpc_call *call, int status, const void *body,
	      size_t len)
{
	struct conn *c = call->conn;

	if (c != NULL) {
		struct gq__rpc_call **pp;

		for (pp = &c->calls; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == call) {
				*pp = call->next;
				break;
			}
		}
		if (len > GQ__RPC_FRAME_MAX) {
			status = GQ_ETOOBIG;
			len = 0;
		}
		if (write_frame(c, call->type | REPLY_BIT, call->id, status,
				body, len) != 0)
			conn_fail(c, GQ_EIO);
	}
	gq__free(call);
}

static void
timer_closed(uv_handle_t *h)
{
	struct gq__rpc *rpc = h->data;

	rpc->handles--;
	maybe_closed(rpc);
}

void
gq__rpc_close(struct gq__rpc *rpc, void (*cb)(void *arg), void *arg)
{
	struct pending *deferred = rpc->deferred;

	rpc->closed = true;
	rpc->close_cb = cb;
	rpc->close_arg = arg;
	rpc->deferred = NULL;
	gq__hub_set_rpc(rpc->hub, NULL, NULL);
	/* The timer's handle keeps the endpoint alive through the
	 * callbacks below. */
	for (struct conn *c = rpc->conns; c != NULL; c = c->next)
		conn_fail(c, GQ_ECLOSED);
	fail_list(deferred, GQ_ECLOSED);
	uv_close((uv_handle_t *)&rpc->timer, timer_closed);
}
