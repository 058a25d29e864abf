/* SPDX-License-Identifier: MIT */
/*
 * server.c - the Kafka listener (see server.h).
 *
 * Invariants: a connection's requests sit in one queue in arrival order
 * and their responses are written in that order, however their handlers
 * complete; at most max_inflight_per_connection requests are queued, and
 * reading stops while that many wait (backpressure); a frame larger than
 * max_frame_size, or one that cannot be decoded, closes the connection
 * after whatever response the protocol asks for.  A request is freed only
 * once its response was written (or dropped with the connection) and no
 * asynchronous operation of it is outstanding.
 *
 * Shutdown waits for every in-flight request except those parked in a
 * group rebalance (gqd_req_op_start_parked()): their connections close at
 * once, the stop is reported, and the mailbox alone stays open until the
 * node, closing, completed them.
 */
#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "metrics.h"

#define READ_CHUNK  (64 * 1024)
#define ARENA_LIMIT (64u << 20)

struct mail {
	void (*fn)(void *arg);
	void *arg;
	struct mail *next;
};

struct gqd_server {
	uv_loop_t *loop;
	struct gq_node *node;
	const struct gqd_config *cfg;
	struct gqd_metrics *metrics;
	uv_tcp_t listener;
	uv_async_t mailbox;
	pthread_mutex_t mail_lock;
	struct mail *mail_head;
	struct mail *mail_tail;
	struct gqd_conn *conns;
	unsigned n_conns;
	unsigned pending_ops; /* node callbacks still owed to requests */
	unsigned parked_ops;  /* of which parked in a group rebalance */
	bool listener_closing;
	bool listener_closed;
	bool mailbox_closing;
	bool stopping;
	bool stop_reported; /* stop_cb ran */
	void (*stop_cb)(void *arg);
	void *stop_arg;
};

struct gqd_conn {
	uv_tcp_t tcp;
	uv_timer_t idle;
	struct gqd_server *srv;
	struct gqd_conn *prev;
	struct gqd_conn *next;
	uint8_t *rbuf; /* bytes read and not yet framed */
	size_t rlen;
	size_t rcap;
	struct gqd_req *head; /* requests in arrival order */
	struct gqd_req *tail;
	unsigned queued;
	unsigned handles; /* tcp + idle timer still open */
	bool reading;
	bool framing; /* inside conn_frames(): no re-entry */
	bool closing;
	char peer[64];
};

struct write_req {
	uv_write_t w;
	struct gqd_req *req;
};

static void conn_close(struct gqd_conn *c, const char *why);
static void maybe_finish_stop(struct gqd_server *srv);

/* ---- requests ------------------------------------------------------- */

struct gq_node *
gqd_req_node(const struct gqd_req *req)
{
	return req->srv->node;
}

const struct gqd_config *
gqd_req_config(const struct gqd_req *req)
{
	return req->srv->cfg;
}

uv_loop_t *
gqd_req_loop(const struct gqd_req *req)
{
	return req->srv->loop;
}

struct gqd_server *
gqd_req_server(const struct gqd_req *req)
{
	return req->srv;
}

struct gqd_metrics *
gqd_req_metrics(const struct gqd_req *req)
{
	return req->srv->metrics;
}

void
gqd_req_error(const struct gqd_req *req, int16_t code)
{
	gqd_metrics_error(req->srv->metrics, req->hdr.api_key, code);
}

const char *
gqd_req_peer(const struct gqd_req *req)
{
	return req->conn != NULL ? req->conn->peer : "";
}

void
gqd_resp_begin(struct gqd_req *req)
{
	req->resp.len = 0;
	gqk_reserve_i32(&req->resp);
	gqk_response_header_put(&req->resp, &req->hdr);
}

static void
req_free(struct gqd_req *req)
{
	if (req->cleanup != NULL)
		req->cleanup(req);
	gqk_writer_free(&req->resp);
	gqk_arena_free(&req->arena);
	free(req->frame);
	free(req);
}

/* Free a request whose connection is gone once nothing refers to it. */
static void
req_release(struct gqd_req *req)
{
	if (req->pending == 0)
		req_free(req);
	else
		req->conn = NULL; /* the last completion frees it */
}

static void
write_done(uv_write_t *w, int status)
{
	struct write_req *wr = (struct write_req *)w;
	struct gqd_conn *c = wr->req->conn;

	req_release(wr->req);
	free(wr);
	if (status < 0 && c != NULL && !c->closing)
		conn_close(c, uv_strerror(status));
}

static void conn_resume(struct gqd_conn *c);

/* Write, in order, every finished request at the head of the queue. */
static void
conn_flush(struct gqd_conn *c)
{
	/* A finished request may still owe callbacks (a long poll answered
	 * by one partition while others wait): it is written now and freed
	 * when the last callback arrived. */
	while (c->head != NULL && c->head->done) {
		struct gqd_req *req = c->head;
		bool close_after = req->close_after;

		c->head = req->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->queued--;
		if (req->silent || c->closing || req->resp.len == 0) {
			req_release(req);
		} else {
			struct write_req *wr = malloc(sizeof(*wr));
			uv_buf_t b;

			if (wr == NULL) {
				req_release(req);
				conn_close(c, "out of memory");
				return;
			}
			wr->req = req;
			b = uv_buf_init((char *)req->resp.base,
					(unsigned)req->resp.len);
			gqd_metrics_bytes_out(c->srv->metrics, b.len);
			if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1,
				     write_done) != 0) {
				free(wr);
				req_release(req);
				conn_close(c, "write failed");
				return;
			}
		}
		if (close_after) {
			conn_close(c, "protocol error");
			return;
		}
	}
	conn_resume(c);
}

void
gqd_req_finish(struct gqd_req *req)
{
	if (req->done)
		return;
	/* Answered, or dropped with its connection: either way its time in
	 * gqd ends here. */
	gqd_metrics_request_done(req->srv->metrics, req->hdr.api_key,
				 uv_hrtime() - req->arrived_ns);
	if (req->conn == NULL) {
		/* The connection closed meanwhile: drop the response; the
		 * last completion frees the request. */
		req->done = true;
		return;
	}
	if (!req->silent && req->resp.len >= 4 && req->resp.err == 0)
		gqk_patch_i32(&req->resp, 0, (int32_t)(req->resp.len - 4));
	else if (req->resp.err != 0)
		req->close_after = true; /* could not encode: give up */
	req->done = true;
	conn_flush(req->conn);
}

/* ---- mailbox -------------------------------------------------------- */

int
gqd_server_post(struct gqd_server *srv, void (*fn)(void *arg), void *arg)
{
	struct mail *m = malloc(sizeof(*m));

	if (m == NULL)
		return -ENOMEM;
	m->fn = fn;
	m->arg = arg;
	m->next = NULL;
	pthread_mutex_lock(&srv->mail_lock);
	if (srv->mail_tail != NULL)
		srv->mail_tail->next = m;
	else
		srv->mail_head = m;
	srv->mail_tail = m;
	pthread_mutex_unlock(&srv->mail_lock);
	uv_async_send(&srv->mailbox);
	return 0;
}

static void
mailbox_cb(uv_async_t *h)
{
	struct gqd_server *srv = h->data;
	struct mail *m;

	pthread_mutex_lock(&srv->mail_lock);
	m = srv->mail_head;
	srv->mail_head = srv->mail_tail = NULL;
	pthread_mutex_unlock(&srv->mail_lock);
	while (m != NULL) {
		struct mail *next = m->next;

		m->fn(m->arg);
		free(m);
		m = next;
	}
	maybe_finish_stop(srv);
}

/* ---- connections ---------------------------------------------------- */

static void
conn_handle_closed(uv_handle_t *h)
{
	struct gqd_conn *c = h->data;
	struct gqd_server *srv = c->srv;

	if (--c->handles > 0)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->n_conns--;
	gqd_metrics_conn_closed(srv->metrics, srv->n_conns);
	free(c->rbuf);
	free(c);
	maybe_finish_stop(srv);
}

static void
conn_close(struct gqd_conn *c, const char *why)
{
	struct gqd_req *req;

	if (c->closing)
		return;
	c->closing = true;
	gqd_log(GQ_LOG_DEBUG, "connection closed", "peer=%s reason=\"%s\"",
		c->peer, why);
	req = c->head;
	c->head = c->tail = NULL;
	while (req != NULL) {
		struct gqd_req *next = req->next;

		req_release(req);
		req = next;
	}
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->idle, conn_handle_closed);
}

static void
idle_cb(uv_timer_t *t)
{
	struct gqd_conn *c = t->data;

	if (c->head == NULL)
		conn_close(c, "idle timeout");
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct gqd_conn *c = h->data;

	(void)suggested;
	if (c->rcap - c->rlen < READ_CHUNK) {
		size_t cap = c->rcap ? c->rcap : READ_CHUNK * 2;
		uint8_t *p;

		while (cap - c->rlen < READ_CHUNK)
			cap *= 2;
		if ((p = realloc(c->rbuf, cap)) == NULL) {
			buf->base = NULL;
			buf->len = 0;
			return;
		}
		c->rbuf = p;
		c->rcap = cap;
	}
	buf->base = (char *)c->rbuf + c->rlen;
	buf->len = c->rcap - c->rlen;
}

static void
conn_pause(struct gqd_conn *c)
{
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void conn_frames(struct gqd_conn *c);

/* Room in the queue again: serve the complete frames already read (a
 * client that pipelined everything sends nothing more until answered),
 * then read again. */
static void
conn_resume(struct gqd_conn *c)
{
	const struct gqd_config *cfg = c->srv->cfg;

	if (c->closing || c->srv->stopping || c->framing)
		return; /* a running conn_frames() goes on by itself */
	if (c->rlen >= 4 && c->queued < cfg->max_inflight_per_connection)
		conn_frames(c);
	if (!c->reading && !c->closing &&
	    c->queued < cfg->max_inflight_per_connection) {
		if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) ==
		    0)
			c->reading = true;
	}
}

/* Cut complete frames off the read buffer and dispatch them. */
static void
conn_frames(struct gqd_conn *c)
{
	const struct gqd_config *cfg = c->srv->cfg;
	size_t pos = 0;

	c->framing = true;
	while (!c->closing && c->rlen - pos >= 4 &&
	       c->queued < cfg->max_inflight_per_connection) {
		const uint8_t *p = c->rbuf + pos;
		int32_t size =
			(int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
				  (uint32_t)p[2] << 8 | p[3]);
		struct gqd_req *req;
		int rv;

		if (size < 8 || (uint32_t)size > cfg->max_frame_size) {
			gqd_log(GQ_LOG_WARN, "bad frame size",
				"peer=%s size=%d max=%u", c->peer, size,
				cfg->max_frame_size);
			conn_close(c, "bad frame size");
			return;
		}
		if (c->rlen - pos < 4 + (size_t)size)
			break;
		if ((req = calloc(1, sizeof(*req))) == NULL ||
		    (req->frame = malloc((size_t)size)) == NULL) {
			free(req);
			conn_close(c, "out of memory");
			return;
		}
		memcpy(req->frame, p + 4, (size_t)size);
		req->frame_len = (size_t)size;
		pos += 4 + (size_t)size;
		req->conn = c;
		req->srv = c->srv;
		req->arrived_ns = uv_hrtime();
		gqk_arena_init(&req->arena, ARENA_LIMIT);
		gqk_writer_init(&req->resp);
		if (c->tail != NULL)
			c->tail->next = req;
		else
			c->head = req;
		c->tail = req;
		c->queued++;
		rv = gqk_request_decode(req->frame, req->frame_len, &req->arena,
					&req->hdr, &req->body);
		/* The header's key is set even when the body is undecodable. */
		gqd_metrics_request(c->srv->metrics, req->hdr.api_key);
		if (rv != 0)
			gqd_handle_undecodable(req, rv);
		else
			gqd_handle(req);
	}
	c->framing = false;
	if (c->closing)
		return;
	memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
	c->rlen -= pos;
	if (c->queued >= cfg->max_inflight_per_connection)
		conn_pause(c); /* backpressure: stop reading */
}

static void
read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct gqd_conn *c = s->data;

	(void)buf;
	if (n < 0) {
		conn_close(c,
			   n == UV_EOF ? "peer closed" : uv_strerror((int)n));
		return;
	}
	if (n == 0)
		return;
	c->rlen += (size_t)n;
	gqd_metrics_bytes_in(c->srv->metrics, (uint64_t)n);
	if (c->srv->cfg->idle_timeout_ms > 0)
		uv_timer_again(&c->idle);
	conn_frames(c);
}

static void
peer_name(uv_tcp_t *tcp, char *out, size_t size)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char ip[64] = "?";
	int port = 0;

	if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;

			uv_ip4_name(a, ip, sizeof(ip));
			port = ntohs(a->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

			uv_ip6_name(a, ip, sizeof(ip));
			port = ntohs(a->sin6_port);
		}
	}
	snprintf(out, size, "%s:%d", ip, port);
}

static void
reject_closed(uv_handle_t *h)
{
	free(h);
}

static void
accept_cb(uv_stream_t *listener, int status)
{
	struct gqd_server *srv = listener->data;
	struct gqd_conn *c;

	if (status < 0 || srv->stopping)
		return;
	if (srv->n_conns >= srv->cfg->max_connections) {
		uv_tcp_t *t = malloc(sizeof(*t));

		/* Accept and close at once, so the backlog does not fill. */
		gqd_metrics_conn_rejected(srv->metrics);
		if (t != NULL) {
			uv_tcp_init(srv->loop, t);
			if (uv_accept(listener, (uv_stream_t *)t) == 0)
				gqd_log(GQ_LOG_WARN, "connection refused",
					"reason=max_connections limit=%u",
					srv->cfg->max_connections);
			uv_close((uv_handle_t *)t, reject_closed);
		}
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->srv = srv;
	uv_tcp_init(srv->loop, &c->tcp);
	uv_timer_init(srv->loop, &c->idle);
	c->tcp.data = c;
	c->idle.data = c;
	c->handles = 2;
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->n_conns++;
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
		conn_close(c, "accept failed");
		return;
	}
	gqd_metrics_conn_accepted(srv->metrics, srv->n_conns);
	uv_tcp_nodelay(&c->tcp, 1);
	peer_name(&c->tcp, c->peer, sizeof(c->peer));
	if (srv->cfg->idle_timeout_ms > 0)
		uv_timer_start(&c->idle, idle_cb, srv->cfg->idle_timeout_ms,
			       srv->cfg->idle_timeout_ms);
	gqd_log(GQ_LOG_DEBUG, "connection accepted", "peer=%s", c->peer);
	conn_resume(c);
}

/* ---- start and stop ------------------------------------------------- */

static void
on_listener_closed(uv_handle_t *h)
{
	struct gqd_server *srv = h->data;

	srv->listener_closed = true;
	maybe_finish_stop(srv);
}

static void
on_mailbox_closed(uv_handle_t *h)
{
	struct gqd_server *srv = h->data;

	pthread_mutex_destroy(&srv->mail_lock);
	free(srv);
}

static void
close_listener(struct gqd_server *srv)
{
	if (!srv->listener_closing) {
		srv->listener_closing = true;
		uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
	}
}

/* True when every request still being served on @c is parked in a group
 * rebalance (those behind it that are done cannot be written before it). */
static bool
conn_only_parked(const struct gqd_conn *c)
{
	for (const struct gqd_req *r = c->head; r != NULL; r = r->next)
		if (!r->done && !r->parked)
			return false;
	return true;
}

static void
maybe_finish_stop(struct gqd_server *srv)
{
	bool busy = false;

	if (!srv->stopping)
		return;
	/* Finish in-flight requests first: close a connection once its
	 * queue has drained, or holds only requests parked in a rebalance,
	 * which may last minutes. */
	for (struct gqd_conn *c = srv->conns; c != NULL; c = c->next) {
		if (!c->closing && conn_only_parked(c))
			conn_close(c, "shutdown");
		busy = true; /* until its handles are closed */
	}
	if (busy || srv->pending_ops > srv->parked_ops)
		return;
	close_listener(srv);
	if (!srv->listener_closed)
		return;
	if (!srv->stop_reported) {
		srv->stop_reported = true;
		if (srv->stop_cb != NULL)
			srv->stop_cb(srv->stop_arg);
	}
	/* Node callbacks still owed to requests post to the mailbox: keep it
	 * open until the last one arrived (parked ones come when the node
	 * closes, after stop_cb). */
	if (srv->pending_ops > 0 || srv->mailbox_closing)
		return;
	srv->mailbox_closing = true;
	uv_close((uv_handle_t *)&srv->mailbox, on_mailbox_closed);
}

int
gqd_server_start(uv_loop_t *loop, struct gq_node *node,
		 const struct gqd_config *cfg, struct gqd_metrics *metrics,
		 struct gqd_server **out)
{
	struct gqd_server *srv;
	struct sockaddr_storage addr;
	int rv;

	if (cfg->client.family == AF_INET6)
		rv = uv_ip6_addr(cfg->client.ip, cfg->client.port,
				 (struct sockaddr_in6 *)&addr);
	else
		rv = uv_ip4_addr(cfg->client.ip, cfg->client.port,
				 (struct sockaddr_in *)&addr);
	if (rv != 0) {
		gqd_log(GQ_LOG_ERROR, "bad client address", "addr=%s",
			cfg->client_addr);
		return rv;
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return -ENOMEM;
	srv->loop = loop;
	srv->node = node;
	srv->cfg = cfg;
	srv->metrics = metrics;
	pthread_mutex_init(&srv->mail_lock, NULL);
	uv_tcp_init(loop, &srv->listener);
	srv->listener.data = srv;
	uv_async_init(loop, &srv->mailbox, mailbox_cb);
	srv->mailbox.data = srv;
	if ((rv = uv_tcp_bind(&srv->listener, (struct sockaddr *)&addr, 0)) ||
	    (rv = uv_listen((uv_stream_t *)&srv->listener, 1024, accept_cb))) {
		gqd_log(GQ_LOG_ERROR, "cannot listen", "addr=%s error=\"%s\"",
			cfg->client_addr, uv_strerror(rv));
		/* Close what was opened; the loop frees the rest. */
		srv->stopping = true;
		maybe_finish_stop(srv);
		return rv;
	}
	gqd_log(GQ_LOG_INFO, "kafka listener started",
		"addr=%s advertised=%s:%u", cfg->client_addr,
		cfg->advertised.host, (unsigned)cfg->advertised.port);
	*out = srv;
	return 0;
}

void
gqd_server_stop(struct gqd_server *srv, void (*cb)(void *arg), void *arg)
{
	srv->stopping = true;
	srv->stop_cb = cb;
	srv->stop_arg = arg;
	close_listener(srv); /* stop accepting at once */
	for (struct gqd_conn *c = srv->conns; c != NULL; c = c->next)
		conn_pause(c);
	maybe_finish_stop(srv);
}

void
gqd_req_op_start(struct gqd_req *req)
{
	req->pending++;
	req->srv->pending_ops++;
}

void
gqd_req_op_start_parked(struct gqd_req *req)
{
	gqd_req_op_start(req);
	req->parked = true;
	req->srv->parked_ops++;
}

void
gqd_req_op_done(struct gqd_req *req)
{
	struct gqd_server *srv = req->srv;

	if (req->parked) {
		req->parked = false;
		srv->parked_ops--;
	}
	req->pending--;
	srv->pending_ops--;
	if (req->conn == NULL && req->pending == 0)
		req_free(req); /* orphaned by a closed connection */
	maybe_finish_stop(srv);
}
