/* SPDX-License-Identifier: MIT */
/*
 * test_kconn.c - a Kafka-protocol client connection against a scripted
 * broker on loopback (a libuv server in the test): pipelined round trips,
 * the in-flight limit, a request timeout, refused and unresolvable
 * addresses, "localhost", a response to no request, an oversized frame,
 * and closing with requests pending.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "../lib/port.h"
#include "buf.h"
#include "error.h"
#include "kconn.h"

/* What the scripted broker does with each request: the byte after the
 * request header (api key 18, version 0, corr, client id -1) says. */
enum { ANSWER = 1, HOLD = 2, WRONG_ID = 3, HUGE = 4 };

static uv_loop_t loop;
static uv_tcp_t server;
static uv_tcp_t *peer;
static int port;
static struct gq__buf in;
static int held;      /* requests received and not answered */
static int most_held; /* the most unanswered at once */
static int32_t held_corr[16];
static int downs;
static int down_status;

struct result {
	int calls;
	int status;
	int32_t corr;
	uint8_t payload;
};

static void
peer_write(const void *data, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);

	cr_assert_geq(uv_try_write((uv_stream_t *)peer, &b, 1), (int)len);
}

/* Answer with the correlation id and one payload byte. */
static void
answer(int32_t corr, uint8_t payload)
{
	uint8_t f[9];

	gq__be32_put(f, 5);
	gq__be32_put(f + 4, (uint32_t)corr);
	f[8] = payload;
	peer_write(f, sizeof(f));
}

static void
peer_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	(void)hint;
	cr_assert_eq(gq__buf_reserve(&in, 4096), 0);
	*buf = uv_buf_init((char *)in.base + in.len,
			   (unsigned)(in.cap - in.len));
}

static void
peer_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	size_t at = 0;

	(void)s;
	(void)buf;
	if (n < 0)
		return;
	in.len += (size_t)n;
	while (in.len - at >= 4) {
		uint32_t size = gq__be32_get(in.base + at);
		const uint8_t *f = in.base + at + 4;
		int32_t corr;
		uint8_t what;

		if (in.len - at - 4 < size)
			break;
		cr_assert_eq(size, 11, "size %u", size);
		cr_assert_eq(gq__be16_get(f), 18);
		corr = (int32_t)gq__be32_get(f + 4);
		what = f[10];
		if (what == ANSWER) {
			answer(corr, (uint8_t)(corr + 100));
		} else if (what == HOLD) {
			held_corr[held++] = corr;
			if (held > most_held)
				most_held = held;
		} else if (what == WRONG_ID) {
			answer(corr + 7, 0);
		} else if (what == HUGE) {
			uint8_t f2[8];

			gq__be32_put(f2, 64u << 20);
			gq__be32_put(f2 + 4, (uint32_t)corr);
			peer_write(f2, sizeof(f2));
		}
		at += 4 + size;
	}
	memmove(in.base, in.base + at, in.len - at);
	in.len -= at;
}

static void
on_connection(uv_stream_t *s, int status)
{
	cr_assert_eq(status, 0);
	cr_assert_null(peer, "one client at a time");
	peer = malloc(sizeof(*peer));
	uv_tcp_init(&loop, peer);
	cr_assert_eq(uv_accept(s, (uv_stream_t *)peer), 0);
	uv_read_start((uv_stream_t *)peer, peer_alloc, peer_read);
}

static void
setup(void)
{
	struct sockaddr_in sa;

	cr_assert_eq(uv_loop_init(&loop), 0);
	port = gqt_free_port();
	uv_ip4_addr("127.0.0.1", port, &sa);
	uv_tcp_init(&loop, &server);
	cr_assert_eq(uv_tcp_bind(&server, (struct sockaddr *)&sa, 0), 0);
	cr_assert_eq(uv_listen((uv_stream_t *)&server, 8, on_connection), 0);
	peer = NULL;
	held = most_held = downs = down_status = 0;
	in = (struct gq__buf)GQ__BUF_INIT;
}

static void
free_handle(uv_handle_t *h)
{
	free(h);
}

static void
teardown(void)
{
	uv_close((uv_handle_t *)&server, NULL);
	if (peer != NULL)
		uv_close((uv_handle_t *)peer, free_handle);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0, "a handle was left open");
	gq__buf_free(&in);
}

TestSuite(kconn, .init = setup, .fini = teardown, .timeout = 30);

static void
on_down(void *arg, int status)
{
	(void)arg;
	downs++;
	down_status = status;
}

static void
on_result(void *arg, int status, const uint8_t *frame, size_t len)
{
	struct result *r = arg;

	r->calls++;
	r->status = status;
	if (status == 0) {
		cr_assert_eq(len, 5);
		r->corr = (int32_t)gq__be32_get(frame);
		r->payload = frame[4];
	} else {
		cr_assert_null(frame);
	}
}

/* An ApiVersions v0 request frame whose body is the one byte @what. */
static struct gq__buf
request(uint8_t what)
{
	struct gq__buf b = GQ__BUF_INIT;
	uint8_t f[15];

	gq__be32_put(f, 11);
	gq__be16_put(f + 4, 18);
	gq__be16_put(f + 6, 0);
	gq__be32_put(f + 8, 0x7fffffff); /* overwritten */
	gq__be16_put(f + 12, 0xffff);    /* null client id */
	f[14] = what;
	cr_assert_eq(gq__buf_append(&b, f, sizeof(f)), 0);
	return b;
}

static struct gq__kconn *
open_conn(const char *host, unsigned max_inflight)
{
	struct gq__kconn_conf conf = { 0 };
	struct gq__kconn *c;
	char addr[64];

	snprintf(addr, sizeof(addr), "%s:%d", host, port);
	conf.address = addr;
	conf.connect_timeout_ms = 5000;
	conf.max_frame = 1 << 20;
	conf.max_inflight = max_inflight;
	cr_assert_eq(gq__kconn_open(&loop, &conf, on_down, NULL, &c), 0);
	cr_assert_str_eq(gq__kconn_address(c), addr);
	return c;
}

static void
send_req(struct gq__kconn *c, uint8_t what, uint32_t timeout_ms,
	 struct result *r)
{
	struct gq__buf b = request(what);

	cr_assert_eq(gq__kconn_send(c, &b, timeout_ms, on_result, r), 0);
	cr_assert_null(b.base, "the frame was taken over");
}

/* Run the loop until @r has its answer. */
static void
wait_for(struct result *r)
{
	while (r->calls == 0)
		cr_assert(uv_run(&loop, UV_RUN_ONCE) != 0 || r->calls > 0,
			  "loop ran dry");
}

/* Twenty requests sent before the connection is up are answered in order,
 * each with its own correlation id; the connection stays usable. */
Test(kconn, pipelined_round_trips)
{
	struct gq__kconn *c = open_conn("127.0.0.1", 5);
	struct result r[20];

	memset(r, 0, sizeof(r));
	cr_assert(gq__kconn_usable(c));
	for (int i = 0; i < 20; i++)
		send_req(c, ANSWER, 5000, &r[i]);
	cr_assert_eq(gq__kconn_pending(c), 20);
	wait_for(&r[19]);
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(r[i].calls, 1);
		cr_assert_eq(r[i].status, 0);
		cr_assert_eq(r[i].corr, i);
		cr_assert_eq(r[i].payload, (uint8_t)(i + 100));
	}
	cr_assert_eq(gq__kconn_pending(c), 0);
	cr_assert(gq__kconn_usable(c));
	cr_assert_str_eq(gq__kconn_errmsg(c), "");
	gq__kconn_close(c);
	cr_assert_eq(downs, 0, "closing is not going down");
}

/* No more than max_inflight requests are on the wire at once. */
Test(kconn, inflight_limit)
{
	struct gq__kconn *c = open_conn("127.0.0.1", 2);
	struct result r[6];

	memset(r, 0, sizeof(r));
	for (int i = 0; i < 6; i++)
		send_req(c, HOLD, 5000, &r[i]);
	while (held < 2)
		uv_run(&loop, UV_RUN_ONCE);
	/* Let the loop turn a few more times: nothing else arrives. */
	for (int i = 0; i < 20; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert_eq(held, 2);
	for (int k = 0; k < 6; k++) {
		int32_t corr;

		while (held == 0)
			uv_run(&loop, UV_RUN_ONCE);
		corr = held_corr[0];
		memmove(held_corr, held_corr + 1, (size_t)--held * 4);
		answer(corr, 1);
		wait_for(&r[k]);
		cr_assert_eq(r[k].status, 0);
	}
	cr_assert_eq(most_held, 2);
	gq__kconn_close(c);
}

/* A request nobody answers times out; the connection then fails the
 * others, goes down once, and refuses new requests. */
Test(kconn, timeout_takes_the_connection_down)
{
	struct gq__kconn *c = open_conn("127.0.0.1", 5);
	struct result a = { 0 }, b = { 0 }, d = { 0 };
	struct gq__buf f;

	send_req(c, HOLD, 200, &a);
	send_req(c, HOLD, 60000, &b);
	wait_for(&a);
	cr_assert_eq(a.status, GQ_ETIMEDOUT);
	cr_assert_eq(b.calls, 1);
	cr_assert_eq(b.status, GQ_EIO);
	cr_assert_eq(downs, 1);
	cr_assert_eq(down_status, GQ_EIO);
	cr_assert_not(gq__kconn_usable(c));
	cr_assert_str_neq(gq__kconn_errmsg(c), "");
	f = request(ANSWER);
	cr_assert_eq(gq__kconn_send(c, &f, 1000, on_result, &d), GQ_EIO);
	cr_assert_null(f.base);
	cr_assert_eq(d.calls, 0);
	gq__kconn_close(c);
	cr_assert_eq(downs, 1);
}

/* Nobody listening: the queued request fails with GQ_EIO. */
Test(kconn, refused)
{
	struct gq__kconn *c;
	struct result a = { 0 };

	uv_close((uv_handle_t *)&server, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	uv_tcp_init(&loop, &server); /* for the teardown's close */
	c = open_conn("127.0.0.1", 5);
	send_req(c, ANSWER, 5000, &a);
	wait_for(&a);
	cr_assert_eq(a.status, GQ_ECANCELED, "never written");
	cr_assert_eq(downs, 1);
	gq__kconn_close(c);
}

/* "localhost" may resolve to ::1 first, where nobody listens: the next
 * address is tried. */
Test(kconn, localhost)
{
	struct gq__kconn *c = open_conn("localhost", 5);
	struct result a = { 0 };

	send_req(c, ANSWER, 5000, &a);
	wait_for(&a);
	cr_assert_eq(a.status, 0);
	gq__kconn_close(c);
}

/* A name that does not resolve fails the request, not the caller. */
Test(kconn, unresolvable)
{
	struct gq__kconn *c = open_conn("no-such-host.invalid", 5);
	struct result a = { 0 };

	send_req(c, ANSWER, 5000, &a);
	wait_for(&a);
	cr_assert_eq(a.status, GQ_ECANCELED);
	cr_assert(strstr(gq__kconn_errmsg(c), "no-such-host.invalid") != NULL,
		  "%s", gq__kconn_errmsg(c));
	gq__kconn_close(c);
}

/* A response to no request sent, and a frame over max_frame, break the
 * stream. */
Test(kconn, bad_responses)
{
	struct result a = { 0 }, b = { 0 };
	struct gq__kconn *c = open_conn("127.0.0.1", 5);

	send_req(c, WRONG_ID, 5000, &a);
	wait_for(&a);
	cr_assert_eq(a.status, GQ_EIO);
	cr_assert(strstr(gq__kconn_errmsg(c), "no request") != NULL);
	gq__kconn_close(c);
	uv_run(&loop, UV_RUN_NOWAIT);
	/* The broker side of that connection closes; accept the next. */
	while (peer != NULL && !uv_is_closing((uv_handle_t *)peer)) {
		uv_close((uv_handle_t *)peer, free_handle);
		peer = NULL;
	}
	c = open_conn("127.0.0.1", 5);
	send_req(c, HUGE, 5000, &b);
	wait_for(&b);
	cr_assert_eq(b.status, GQ_EIO);
	cr_assert(strstr(gq__kconn_errmsg(c), "size") != NULL);
	gq__kconn_close(c);
}

/* Closing fails what is pending with GQ_ECLOSED, without a down call. */
Test(kconn, close_with_requests)
{
	struct gq__kconn *c = open_conn("127.0.0.1", 1);
	struct result r[3];

	memset(r, 0, sizeof(r));
	for (int i = 0; i < 3; i++)
		send_req(c, HOLD, 5000, &r[i]);
	while (held < 1)
		uv_run(&loop, UV_RUN_ONCE);
	gq__kconn_close(c);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(r[i].calls, 1);
		cr_assert_eq(r[i].status, GQ_ECLOSED);
	}
	cr_assert_eq(downs, 0);
}

/* Bad arguments. */
Test(kconn, bad_input)
{
	struct gq__kconn_conf conf = { "127.0.0.1", 1000, 1 << 20, 1 };
	struct gq__kconn *c;
	struct gq__buf b = GQ__BUF_INIT;
	struct result a = { 0 };
	const char *bad[] = { "127.0.0.1", ":9092",      "host:",
			      "host:0",    "host:65536", "host:12x" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		conf.address = bad[i];
		cr_assert_eq(gq__kconn_open(&loop, &conf, on_down, NULL, &c),
			     GQ_EINVAL, "%s", bad[i]);
	}
	c = open_conn("127.0.0.1", 1);
	cr_assert_eq(gq__buf_append(&b, "\0\0\0\x01x", 5), 0);
	cr_assert_eq(gq__kconn_send(c, &b, 1000, on_result, &a), GQ_EINVAL);
	cr_assert_null(b.base);
	gq__kconn_close(c);
	cr_assert_eq(a.calls, 0);
}
