/* SPDX-License-Identifier: MIT */
/*
 * test_rpc.c - the node-to-node RPC channel between two hubs on loopback:
 * round trips, pipelined requests answered out of order, large bodies,
 * timeouts, a peer that is down and comes up, garbage from a raw socket,
 * answers after the asker closed, and a clean close.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "../lib/port.h"
#include "buf.h"
#include "error.h"
#include "rpc.h"
#include "transport.h"

#define MANY 1000

enum { T_ECHO = 1, T_SLOW_ODD = 2, T_NEVER = 3, T_BIG = 4 };

static uv_loop_t loop;
static struct gq__hub *hub[2];
static struct gq__rpc *rpc[2];
static char addr[2][32];
static struct gq__rpc_call *held[MANY]; /* answers kept back */
static size_t n_held;
static int closed;

struct result {
	int done;
	int status;
	uint64_t value;
	size_t len;
};

/* Server: T_ECHO answers the body at once; T_SLOW_ODD answers even ids at
 * once and keeps odd ones for later; T_NEVER never answers until the end;
 * T_BIG answers 1 MiB of a pattern. */
static void
handler(void *arg, struct gq__rpc_call *call, uint64_t sender, uint32_t type,
	const uint8_t *body, size_t len)
{
	(void)arg;
	cr_assert_eq(sender, 1);
	if (type == T_ECHO) {
		gq__rpc_reply(call, 0, body, len);
	} else if (type == T_SLOW_ODD && len == 8 && gq__le64_get(body) % 2) {
		held[n_held++] = call;
	} else if (type == T_SLOW_ODD) {
		gq__rpc_reply(call, 0, body, len);
	} else if (type == T_NEVER) {
		held[n_held++] = call;
	} else if (type == T_BIG) {
		static uint8_t big[1 << 20];

		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)(i * 7);
		gq__rpc_reply(call, 0, big, sizeof(big));
	} else {
		gq__rpc_reply(call, GQ_EUNSUPPORTED, NULL, 0);
	}
}

static void
on_reply(void *arg, int status, const uint8_t *body, size_t len)
{
	struct result *r = arg;

	r->done++;
	r->status = status;
	r->len = len;
	r->value = len >= 8 ? gq__le64_get(body) : 0;
	if (len == (1 << 20))
		for (size_t i = 0; i < len; i++)
			cr_assert_eq(body[i], (uint8_t)(i * 7));
}

static void
start_hub(int i)
{
	char err[GQ_ERRMSG_SIZE];

	cr_assert_eq(
		gq__hub_create(&loop, (uint64_t)i + 1, addr[i], &hub[i], err),
		0, "%s", err);
	cr_assert_eq(gq__rpc_create(hub[i], handler, NULL, &rpc[i]), 0);
}

static void
one_closed(void *arg)
{
	(void)arg;
	closed++;
}

static void
stop_hub(int i)
{
	gq__rpc_close(rpc[i], one_closed, NULL);
	gq__hub_close(hub[i], one_closed, NULL);
	rpc[i] = NULL;
	hub[i] = NULL;
}

static void
setup(void)
{
	uv_loop_init(&loop);
	for (int i = 0; i < 2; i++)
		snprintf(addr[i], sizeof(addr[i]), "127.0.0.1:%d",
			 gqt_free_port());
	n_held = 0;
	closed = 0;
	start_hub(0);
	start_hub(1);
}

static void
teardown(void)
{
	int want = 0;

	for (size_t i = 0; i < n_held; i++)
		gq__rpc_reply(held[i], 0, NULL, 0);
	n_held = 0;
	for (int i = 0; i < 2; i++) {
		if (hub[i] != NULL) {
			stop_hub(i);
			want += 2;
		}
	}
	while (closed < want)
		uv_run(&loop, UV_RUN_ONCE);
	uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert_eq(uv_loop_close(&loop), 0, "handles left open");
}

TestSuite(rpc, .init = setup, .fini = teardown, .timeout = 30);

static void
run_until(const int *done, int want)
{
	while (*done < want)
		cr_assert(uv_run(&loop, UV_RUN_ONCE) != 0 || *done >= want,
			  "loop ran dry");
}

static void
send_u64(uint32_t type, uint64_t v, uint32_t timeout, struct result *r)
{
	uint8_t b[8];

	gq__le64_put(b, v);
	cr_assert_eq(gq__rpc_send(rpc[0], 2, addr[1], type, b, 8, timeout,
				  on_reply, r),
		     0);
}

Test(rpc, echo_and_unknown_type)
{
	struct result r = { 0 }, u = { 0 };

	send_u64(T_ECHO, 42, 5000, &r);
	cr_assert_eq(r.done, 0, "callbacks never run inside send");
	cr_assert_eq(gq__rpc_send(rpc[0], 2, addr[1], 99, NULL, 0, 5000,
				  on_reply, &u),
		     0);
	run_until(&u.done, 1);
	run_until(&r.done, 1);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(r.value, 42);
	cr_assert_eq(u.status, GQ_EUNSUPPORTED);
}

Test(rpc, pipelined_out_of_order)
{
	static struct result r[MANY];
	int done = 0;

	memset(r, 0, sizeof(r));
	for (uint64_t i = 0; i < MANY; i++)
		send_u64(T_SLOW_ODD, i, 10000, &r[i]);
	for (;;) {
		done = 0;
		for (int i = 0; i < MANY; i++)
			done += r[i].done;
		if (done == MANY / 2 && n_held == MANY / 2)
			break;
		uv_run(&loop, UV_RUN_ONCE);
	}
	/* Answer the held ones newest first. */
	while (n_held > 0)
		gq__rpc_reply(held[--n_held], 0, NULL, 0);
	while (done < MANY) {
		uv_run(&loop, UV_RUN_ONCE);
		done = 0;
		for (int i = 0; i < MANY; i++)
			done += r[i].done;
	}
	for (uint64_t i = 0; i < MANY; i++) {
		cr_assert_eq(r[i].done, 1);
		cr_assert_eq(r[i].status, 0);
		if (i % 2 == 0)
			cr_assert_eq(r[i].value, i, "reply %llu matched",
				     (unsigned long long)i);
		else
			cr_assert_eq(r[i].len, 0);
	}
}

Test(rpc, big_reply)
{
	struct result r = { 0 };

	cr_assert_eq(gq__rpc_send(rpc[0], 2, addr[1], T_BIG, NULL, 0, 5000,
				  on_reply, &r),
		     0);
	run_until(&r.done, 1);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(r.len, 1 << 20);
}

Test(rpc, timeout_then_late_answer_ignored)
{
	struct result r = { 0 }, e = { 0 };

	send_u64(T_NEVER, 1, 200, &r);
	run_until(&r.done, 1);
	cr_assert_eq(r.status, GQ_ETIMEDOUT);
	cr_assert_eq(n_held, 1);
	gq__rpc_reply(held[0], 0, NULL, 0);
	n_held = 0;
	send_u64(T_ECHO, 7, 5000, &e);
	run_until(&e.done, 1);
	cr_assert_eq(e.value, 7);
	cr_assert_eq(r.done, 1, "the late answer found nobody");
}

static int waited;

static void
wait_done(uv_timer_t *t)
{
	(void)t;
	waited = 1;
}

Test(rpc, peer_down_then_up)
{
	struct result r = { 0 }, s = { 0 };
	uv_timer_t t;

	stop_hub(1);
	send_u64(T_ECHO, 1, 5000, &r);
	run_until(&r.done, 1);
	cr_assert_eq(r.status, GQ_EIO);
	start_hub(1);
	/* Past the back-off after a refused connect. */
	uv_timer_init(&loop, &t);
	waited = 0;
	uv_timer_start(&t, wait_done, 150, 0);
	run_until(&waited, 1);
	uv_close((uv_handle_t *)&t, NULL);
	send_u64(T_ECHO, 2, 5000, &s);
	run_until(&s.done, 1);
	cr_assert_eq(s.status, 0);
	cr_assert_eq(s.value, 2);
	closed -= 2; /* hub 1's first life */
}

Test(rpc, answer_after_asker_closed)
{
	struct result r = { 0 };

	send_u64(T_NEVER, 1, 5000, &r);
	while (n_held == 0)
		uv_run(&loop, UV_RUN_ONCE);
	stop_hub(0);
	run_until(&r.done, 1);
	cr_assert_eq(r.status, GQ_ECLOSED);
	while (closed < 2)
		uv_run(&loop, UV_RUN_ONCE);
	closed = 0;
	/* Let hub 1 notice the connection went away, then answer. */
	for (int i = 0; i < 20; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	gq__rpc_reply(held[0], 0, "x", 1);
	n_held = 0;
}

/* Garbage after a valid RPC handshake closes that connection only. */
Test(rpc, bad_frames_close_the_connection)
{
	struct sockaddr_in a;
	struct result r = { 0 };
	uint8_t hs[64] = { 0 };
	uint8_t junk[8];
	int fd, port;

	sscanf(strchr(addr[1], ':') + 1, "%d", &port);
	gq__le64_put(hs, 0x3130304350525147ULL); /* "GQRPC001" */
	gq__le64_put(hs + 16, 1);
	gq__le64_put(hs + 24, 16);
	memcpy(hs + 32, "127.0.0.1:1", 12);
	gq__le32_put(junk, 0xffffffffu); /* a frame far over the limit */
	gq__le32_put(junk + 4, T_ECHO);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	a = (struct sockaddr_in){ .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(write(fd, hs, 48), 48);
	cr_assert_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	/* The server closes it: reading gives EOF. */
	for (int i = 0;; i++) {
		ssize_t n;

		uv_run(&loop, UV_RUN_NOWAIT);
		n = recv(fd, junk, 1, MSG_DONTWAIT);
		if (n == 0)
			break;
		cr_assert(n < 0 && i < 100000, "connection left open");
	}
	close(fd);
	send_u64(T_ECHO, 9, 5000, &r);
	run_until(&r.done, 1);
	cr_assert_eq(r.value, 9);
}
