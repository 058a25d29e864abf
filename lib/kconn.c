/* SPDX-License-Identifier: MIT */
/*
 * kconn.c - one Kafka-protocol connection to one broker (contract in
 * kconn.h).
 *
 * Life: RESOLVING (uv_getaddrinfo) -> CONNECTING (each address in turn) ->
 * UP -> DOWN (failed; requests failed, handles closing) or CLOSED (by the
 * owner).  The object is freed once its last libuv handle closed and the
 * owner closed it, whichever comes last.
 */
#include "kconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "heap.h"

/* How often deadlines are checked: request timeouts are seconds. */
#define TICK_MS 50

/* A request frame starts with INT32 size, INT16 api key, INT16 version,
 * INT32 correlation id, in every request header version. */
#define CORR_AT   8
#define FRAME_MIN 12

enum state { RESOLVING, CONNECTING, UP, DOWN };

struct req {
	struct req *next;
	int32_t corr;
	uint64_t deadline; /* loop time */
	gq__kconn_cb cb;
	void *arg;
	struct gq__buf frame; /* until written */
	uv_write_t write;
	bool writing;
};

struct gq__kconn {
	uv_loop_t *loop;
	struct gq__kconn_conf conf;
	char address[256];
	char host[256];
	char port[8];
	enum state state;
	bool closed; /* by the owner */
	gq__kconn_down_cb down;
	void *arg;
	char errmsg[600]; /* address, then why */

	uv_getaddrinfo_t resolve;
	struct addrinfo *addrs, *next_addr;
	uv_connect_t connect;
	uv_tcp_t *tcp; /* this attempt's socket; each attempt a new one */
	uv_timer_t timer;
	unsigned handles; /* libuv handles and requests still ours */
	uint64_t connect_deadline;

	struct req *queued, **queued_tail; /* not sent yet */
	struct req *inflight, **inflight_tail;
	size_t n_inflight;
	int32_t next_corr;

	struct gq__buf in; /* bytes received, not yet a whole frame */
};

static void maybe_free(struct gq__kconn *c);

static void
req_fail_list(struct req *r, int status)
{
	while (r != NULL) {
		struct req *next = r->next;

		/* A request being written is freed by its write callback. */
		gq__buf_free(&r->frame);
		r->cb(r->arg, status, NULL, 0);
		if (r->writing)
			r->cb = NULL;
		else
			gq__free(r);
		r = next;
	}
}

static void
handle_closed(uv_handle_t *h)
{
	struct gq__kconn *c = h->data;

	c->handles--;
	maybe_free(c);
}

static void
tcp_closed(uv_handle_t *h)
{
	struct gq__kconn *c = h->data;

	gq__free(h);
	c->handles--;
	maybe_free(c);
}

static void
close_tcp(struct gq__kconn *c)
{
	if (c->tcp != NULL) {
		uv_close((uv_handle_t *)c->tcp, tcp_closed);
		c->tcp = NULL;
	}
}

/* Release the libuv resources; the struct stays until they are gone. */
static void
shut(struct gq__kconn *c)
{
	close_tcp(c);
	if (!uv_is_closing((uv_handle_t *)&c->timer))
		uv_close((uv_handle_t *)&c->timer, handle_closed);
	if (c->state == RESOLVING)
		uv_cancel((uv_req_t *)&c->resolve);
}

/* Go down: fail everything with @status (the timed-out request, if any,
 * was failed by the caller). */
static void
go_down(struct gq__kconn *c, int status, const char *why)
{
	struct req *q = c->queued, *f = c->inflight;

	if (c->state == DOWN)
		return;
	snprintf(c->errmsg, sizeof(c->errmsg), "%s: %s", c->address, why);
	c->state = DOWN;
	c->queued = c->inflight = NULL;
	c->queued_tail = &c->queued;
	c->inflight_tail = &c->inflight;
	c->n_inflight = 0;
	shut(c);
	req_fail_list(f, status);
	/* Never written: they did not reach the broker, so a retry is
	 * safe, which the owner must be able to tell. */
	req_fail_list(q, status == GQ_ECLOSED ? status : GQ_ECANCELED);
	if (!c->closed && c->down != NULL)
		c->down(c->arg, status);
}

static void
maybe_free(struct gq__kconn *c)
{
	if (!c->closed || c->handles > 0)
		return;
	if (c->addrs != NULL)
		uv_freeaddrinfo(c->addrs);
	gq__buf_free(&c->in);
	gq__free(c);
}

/* ---- writing ------------------------------------------------------------ */

static void
written(uv_write_t *w, int status)
{
	struct req *r = w->data;
	struct gq__kconn *c = w->handle->data;

	r->writing = false;
	gq__buf_free(&r->frame);
	c->handles--;
	if (r->cb == NULL) { /* failed while being written */
		gq__free(r);
		maybe_free(c);
		return;
	}
	if (status != 0)
		go_down(c, GQ_EIO, uv_strerror(status));
	maybe_free(c);
}

/* Put queued requests on the wire while the in-flight limit allows. */
static void
pump(struct gq__kconn *c)
{
	while (c->state == UP && c->queued != NULL &&
	       c->n_inflight < c->conf.max_inflight) {
		struct req *r = c->queued;
		uv_buf_t b;
		int rv;

		c->queued = r->next;
		if (c->queued == NULL)
			c->queued_tail = &c->queued;
		r->next = NULL;
		*c->inflight_tail = r;
		c->inflight_tail = &r->next;
		c->n_inflight++;
		b = uv_buf_init((char *)r->frame.base, (unsigned)r->frame.len);
		r->write.data = r;
		if ((rv = uv_write(&r->write, (uv_stream_t *)c->tcp, &b, 1,
				   written)) != 0) {
			go_down(c, GQ_EIO, uv_strerror(rv));
			return;
		}
		r->writing = true;
		c->handles++;
	}
}

/* ---- reading ------------------------------------------------------------ */

static void
alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct gq__kconn *c = h->data;

	(void)hint;
	if (gq__buf_reserve(&c->in, 64 * 1024) != 0) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	*buf = uv_buf_init((char *)c->in.base + c->in.len,
			   (unsigned)(c->in.cap - c->in.len));
}

/* Hand every whole frame in c->in to its request; false once down. */
static bool
deliver(struct gq__kconn *c)
{
	size_t at = 0;

	while (c->state == UP && c->in.len - at >= 4) {
		uint32_t size = gq__be32_get(c->in.base + at);
		struct req *r;
		int32_t corr;

		if (size < 4 || size > c->conf.max_frame) {
			go_down(c, GQ_EIO, "response frame of a bad size");
			return false;
		}
		if (c->in.len - at - 4 < size)
			break;
		corr = (int32_t)gq__be32_get(c->in.base + at + 4);
		if ((r = c->inflight) == NULL || r->corr != corr) {
			go_down(c, GQ_EIO, "response to no request sent");
			return false;
		}
		c->inflight = r->next;
		if (c->inflight == NULL)
			c->inflight_tail = &c->inflight;
		c->n_inflight--;
		r->cb(r->arg, 0, c->in.base + at + 4, size);
		if (r->writing) /* answered before its write callback */
			r->cb = NULL;
		else
			gq__free(r);
		at += 4 + (size_t)size;
	}
	if (at > 0) {
		memmove(c->in.base, c->in.base + at, c->in.len - at);
		c->in.len -= at;
	}
	return c->state == UP;
}

static void
read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct gq__kconn *c = s->data;

	(void)buf;
	if (n == UV_ENOBUFS) {
		go_down(c, GQ_EIO, "out of memory for a response");
		return;
	}
	if (n < 0) {
		go_down(c, GQ_EIO,
			n == UV_EOF ? "closed by the broker"
				    : uv_strerror((int)n));
		return;
	}
	c->in.len += (size_t)n;
	if (deliver(c))
		pump(c);
}

/* ---- connecting --------------------------------------------------------- */

static void try_next_address(struct gq__kconn *c, const char *last_error);

static void
connected(uv_connect_t *req, int status)
{
	struct gq__kconn *c = req->data;

	c->handles--;
	if (c->state != CONNECTING) {
		maybe_free(c);
		return;
	}
	if (status != 0) {
		/* This attempt's socket goes; the next address gets a new
		 * one ("localhost" may name ::1 first, where nobody
		 * listens). */
		close_tcp(c);
		try_next_address(c, uv_strerror(status));
		return;
	}
	uv_tcp_nodelay(c->tcp, 1);
	if ((status = uv_read_start((uv_stream_t *)c->tcp, alloc_cb,
				    read_cb)) != 0) {
		go_down(c, GQ_EIO, uv_strerror(status));
		return;
	}
	c->state = UP;
	pump(c);
}

static void
try_next_address(struct gq__kconn *c, const char *last_error)
{
	struct addrinfo *ai = c->next_addr;
	int rv;

	while (ai != NULL && ai->ai_family != AF_INET &&
	       ai->ai_family != AF_INET6)
		ai = ai->ai_next;
	if (ai == NULL) {
		go_down(c, GQ_EIO, last_error);
		return;
	}
	c->next_addr = ai->ai_next;
	if ((c->tcp = gq__malloc(sizeof(*c->tcp))) == NULL) {
		go_down(c, GQ_ENOMEM, "out of memory");
		return;
	}
	uv_tcp_init(c->loop, c->tcp);
	c->tcp->data = c;
	c->handles++;
	c->connect.data = c;
	if ((rv = uv_tcp_connect(&c->connect, c->tcp, ai->ai_addr,
				 connected)) != 0) {
		go_down(c, GQ_EIO, uv_strerror(rv));
		return;
	}
	c->handles++;
}

static void
resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct gq__kconn *c = req->data;
	char why[300];

	c->handles--;
	c->addrs = res;
	if (c->state != RESOLVING) {
		maybe_free(c);
		return;
	}
	if (status != 0) {
		snprintf(why, sizeof(why), "cannot resolve %s: %s", c->host,
			 uv_strerror(status));
		go_down(c, GQ_EIO, why);
		return;
	}
	c->state = CONNECTING;
	c->next_addr = res;
	try_next_address(c, "no address");
}

/* ---- deadlines ---------------------------------------------------------- */

/* Take @r out of whichever list holds it. */
static void
unlink_req(struct gq__kconn *c, struct req *r)
{
	struct req **pp = &c->inflight;

	while (*pp != NULL && *pp != r)
		pp = &(*pp)->next;
	if (*pp != NULL) {
		c->n_inflight--;
		if ((*pp = r->next) == NULL)
			c->inflight_tail = pp;
		return;
	}
	pp = &c->queued;
	while (*pp != r)
		pp = &(*pp)->next;
	if ((*pp = r->next) == NULL)
		c->queued_tail = pp;
}

static void
tick(uv_timer_t *t)
{
	struct gq__kconn *c = t->data;
	uint64_t now = uv_now(c->loop);
	struct req *late = NULL;

	if (c->state == DOWN)
		return;
	if (c->state != UP && now >= c->connect_deadline) {
		go_down(c, GQ_EIO, "connection timed out");
		return;
	}
	for (struct req *r = c->inflight; r != NULL && late == NULL;
	     r = r->next)
		if (r->deadline <= now)
			late = r;
	for (struct req *r = c->queued; r != NULL && late == NULL; r = r->next)
		if (r->deadline <= now)
			late = r;
	if (late == NULL)
		return;
	/* The stream can no longer be trusted to be in step: the late one
	 * times out, the others fail with the connection.  Unlinked first,
	 * so that nothing its callback does reaches it again. */
	unlink_req(c, late);
	gq__buf_free(&late->frame);
	late->cb(late->arg, GQ_ETIMEDOUT, NULL, 0);
	if (late->writing)
		late->cb = NULL;
	else
		gq__free(late);
	go_down(c, GQ_EIO, "a request timed out");
}

/* ---- the interface ------------------------------------------------------ */

/* Split "host:port" (an IPv6 host in brackets). */
static int
split_address(const char *address, char *host, size_t hsize, char *port,
	      size_t psize)
{
	const char *colon = strrchr(address, ':');
	const char *h = address;
	size_t hlen;
	char *end;
	long p;

	if (colon == NULL || colon == address)
		return GQ_EINVAL;
	hlen = (size_t)(colon - address);
	if (h[0] == '[' && hlen >= 2 && colon[-1] == ']') {
		h++;
		hlen -= 2;
	}
	p = strtol(colon + 1, &end, 10);
	if (hlen == 0 || hlen >= hsize || *end != '\0' || p <= 0 || p > 65535 ||
	    end == colon + 1)
		return GQ_EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	snprintf(port, psize, "%ld", p);
	return 0;
}

int
gq__kconn_open(uv_loop_t *loop, const struct gq__kconn_conf *conf,
	       gq__kconn_down_cb down, void *arg, struct gq__kconn **out)
{
	struct addrinfo hints;
	struct gq__kconn *c;
	int rv;

	if (conf->address == NULL || conf->max_inflight == 0 ||
	    strlen(conf->address) >= sizeof(c->address))
		return GQ_EINVAL;
	if ((c = gq__calloc(1, sizeof(*c))) == NULL)
		return GQ_ENOMEM;
	if (split_address(conf->address, c->host, sizeof(c->host), c->port,
			  sizeof(c->port)) != 0) {
		gq__free(c);
		return GQ_EINVAL;
	}
	c->loop = loop;
	c->conf = *conf;
	snprintf(c->address, sizeof(c->address), "%s", conf->address);
	c->conf.address = c->address;
	c->down = down;
	c->arg = arg;
	c->queued_tail = &c->queued;
	c->inflight_tail = &c->inflight;
	c->connect_deadline = uv_now(loop) + conf->connect_timeout_ms;
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	c->handles = 1;
	uv_timer_start(&c->timer, tick, TICK_MS, TICK_MS);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	c->resolve.data = c;
	c->state = RESOLVING;
	if ((rv = uv_getaddrinfo(loop, &c->resolve, resolved, c->host, c->port,
				 &hints)) != 0) {
		snprintf(c->errmsg, sizeof(c->errmsg), "%s: %s", c->address,
			 uv_strerror(rv));
		c->state = DOWN;
		c->closed = true;
		shut(c);
		return GQ_EIO;
	}
	c->handles++;
	*out = c;
	return 0;
}

int
gq__kconn_send(struct gq__kconn *c, struct gq__buf *frame, uint32_t timeout_ms,
	       gq__kconn_cb cb, void *arg)
{
	struct req *r;

	if (frame->len < FRAME_MIN ||
	    gq__be32_get(frame->base) != frame->len - 4) {
		gq__buf_free(frame);
		return GQ_EINVAL;
	}
	if (c->state == DOWN || c->closed) {
		gq__buf_free(frame);
		return GQ_EIO;
	}
	if ((r = gq__calloc(1, sizeof(*r))) == NULL) {
		gq__buf_free(frame);
		return GQ_ENOMEM;
	}
	/* Never negative: Kafka clients treat the ids as INT32. */
	r->corr = c->next_corr;
	c->next_corr = c->next_corr == INT32_MAX ? 0 : c->next_corr + 1;
	gq__be32_put(frame->base + CORR_AT, (uint32_t)r->corr);
	r->frame = *frame;
	*frame = (struct gq__buf)GQ__BUF_INIT;
	r->deadline = uv_now(c->loop) + timeout_ms;
	r->cb = cb;
	r->arg = arg;
	*c->queued_tail = r;
	c->queued_tail = &r->next;
	pump(c);
	return 0;
}

bool
gq__kconn_usable(const struct gq__kconn *c)
{
	return c->state != DOWN && !c->closed;
}

size_t
gq__kconn_pending(const struct gq__kconn *c)
{
	size_t n = c->n_inflight;

	for (const struct req *r = c->queued; r != NULL; r = r->next)
		n++;
	return n;
}

const char *
gq__kconn_errmsg(const struct gq__kconn *c)
{
	return c->errmsg;
}

const char *
gq__kconn_address(const struct gq__kconn *c)
{
	return c->address;
}

void
gq__kconn_close(struct gq__kconn *c)
{
	if (c == NULL || c->closed)
		return;
	c->closed = true;
	if (c->state != DOWN)
		go_down(c, GQ_ECLOSED, "closed");
	maybe_free(c);
}
