/* SPDX-License-Identifier: MIT */
/*
 * test_transport.c - three nodes' hubs in one process on loopback, one
 * Raft group with three voters over them: it elects a leader, replicates
 * and applies entries on every replica, and closes cleanly; bad
 * handshakes are refused without harm.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "../lib/port.h"
#include "../lib/tmpdir.h"
#include "buf.h"
#include "rgroup.h"
#include "transport.h"

#define N       3
#define GROUP   7
#define ENTRIES 50

struct replica {
	uint64_t applied;
	uint64_t last_index;
	bool leader;
	bool closed;
};

static struct replica rep[N];
static struct gq__rgroup *grp[N];
static struct gq__hub *hub[N];
static uv_loop_t loop;
static uv_check_t check;
static uv_timer_t tick;
static int acked;
static unsigned hubs_closed;

static void
apply(void *owner, uint64_t index, uint64_t term, uint32_t type,
      const uint8_t *data, size_t len, void **result)
{
	struct replica *r = owner;

	(void)term;
	*result = NULL;
	if (type == 1 && len == 8 && gq__le64_get(data) == r->applied + 1) {
		r->applied++;
		r->last_index = index;
	}
}

static int
snapshot(void *owner, struct gq__buf *m)
{
	struct replica *r = owner;
	uint8_t b[8];

	gq__le64_put(b, r->applied);
	return gq__buf_append(m, b, 8);
}

static int
snapshot_sync(void *owner)
{
	(void)owner;
	return 0;
}

static int
restore(void *owner, const uint8_t *data, size_t len)
{
	(void)owner;
	(void)data;
	(void)len;
	return 0;
}

static void
role(void *owner, bool leader, bool failed)
{
	struct replica *r = owner;

	(void)failed;
	r->leader = leader;
}

static const struct gq__rgroup_ops ops = {
	.apply = apply,
	.snapshot = snapshot,
	.snapshot_sync = snapshot_sync,
	.restore = restore,
	.role = role,
};

static void
poll_all(uv_check_t *c)
{
	(void)c;
	for (int i = 0; i < N; i++)
		if (grp[i] != NULL)
			gq__rgroup_poll(grp[i]);
}

static void
noop(uv_timer_t *t)
{
	(void)t; /* keeps the loop turning, so the check runs */
}

/* Run the loop until @done() or @ms pass; returns done(). */
static bool
run_until(bool (*done)(void), int ms)
{
	uint64_t end = uv_now(&loop) + (uint64_t)ms;

	while (!done() && uv_now(&loop) < end)
		uv_run(&loop, UV_RUN_ONCE);
	return done();
}

static int
leader(void)
{
	for (int i = 0; i < N; i++)
		if (grp[i] != NULL && gq__rgroup_is_leader(grp[i]))
			return i;
	return -1;
}

static bool
has_leader(void)
{
	return leader() >= 0;
}

static bool
all_applied(void)
{
	for (int i = 0; i < N; i++)
		if (rep[i].applied < ENTRIES)
			return false;
	return acked == ENTRIES;
}

static void
proposed(struct gq__rgroup_req *req, int status, void *result)
{
	(void)result;
	if (status == 0)
		acked++;
	free(req);
}

static void
group_closed(struct gq__rgroup *g)
{
	struct replica *r = g->owner;

	r->closed = true;
	grp[r - rep] = NULL; /* freed right after this callback */
}

static bool
all_closed(void)
{
	for (int i = 0; i < N; i++)
		if (!rep[i].closed)
			return false;
	return true;
}

static void
hub_closed(void *arg)
{
	(void)arg;
	hubs_closed++;
}

static bool
hubs_all_closed(void)
{
	return hubs_closed == N;
}

static char addr[N][32];

static void
setup(void)
{
	const char *base = gqt_tmpdir_make();
	static uint64_t ids[N];
	static const char *addrs[N];
	char errmsg[256];

	memset(rep, 0, sizeof(rep));
	acked = 0;
	hubs_closed = 0;
	cr_assert_eq(uv_loop_init(&loop), 0);
	uv_check_init(&loop, &check);
	uv_check_start(&check, poll_all);
	uv_timer_init(&loop, &tick);
	uv_timer_start(&tick, noop, 10, 10);
	for (int i = 0; i < N; i++) {
		snprintf(addr[i], sizeof(addr[i]), "127.0.0.1:%d",
			 gqt_free_port());
		ids[i] = (uint64_t)i + 1;
		addrs[i] = addr[i];
		cr_assert_eq(
			gq__hub_create(&loop, ids[i], addr[i], &hub[i], errmsg),
			0, "%s", errmsg);
	}
	for (int i = 0; i < N; i++) {
		struct gq__rgroup_conf conf = {
			.hub = hub[i],
			.node_id = ids[i],
			.address = addr[i],
			.bootstrap = true,
			.n_voters = N,
			.voter_ids = ids,
			.voter_addresses = addrs,
			.raft_segment_size = 1 << 20,
			.snapshot_budget = 32 << 20,
			.election_ms = 300,
			.heartbeat_ms = 50,
		};
		char dir[600];

		snprintf(dir, sizeof(dir), "%s/n%d", base, i + 1);
		cr_assert_eq(gq__rgroup_open(&loop, dir, GROUP, &conf, &ops,
					     &rep[i], &grp[i], errmsg),
			     0, "%s", errmsg);
	}
}

static void
teardown(void)
{
	gqt_tmpdir_remove();
}

TestSuite(transport, .init = setup, .fini = teardown, .timeout = 60);

static void
close_everything(void)
{
	for (int i = 0; i < N; i++)
		gq__rgroup_close(grp[i], group_closed);
	cr_assert(run_until(all_closed, 10000), "groups did not close");
	for (int i = 0; i < N; i++)
		gq__hub_close(hub[i], hub_closed, NULL);
	cr_assert(run_until(hubs_all_closed, 5000), "hubs did not close");
	uv_close((uv_handle_t *)&check, NULL);
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0, "handles left open");
}

/* Three voters on three hubs elect one leader, whose entries every
 * replica applies in order; then everything closes cleanly. */
Test(transport, three_voters_replicate)
{
	int l;

	cr_assert(run_until(has_leader, 10000), "no leader elected");
	l = leader();
	for (uint64_t i = 1; i <= ENTRIES; i++) {
		struct gq__rgroup_req *req = calloc(1, sizeof(*req));
		struct raft_buffer buf;
		uint8_t *p = gq__rgroup_entry_alloc(8, &buf);

		cr_assert_not_null(p);
		gq__le64_put(p, i);
		cr_assert_eq(
			gq__rgroup_propose(grp[l], req, 1, &buf, 8, proposed),
			0);
	}
	cr_assert(run_until(all_applied, 10000),
		  "applied %llu/%llu/%llu, acked %d",
		  (unsigned long long)rep[0].applied,
		  (unsigned long long)rep[1].applied,
		  (unsigned long long)rep[2].applied, acked);
	for (int i = 1; i < N; i++)
		cr_assert_eq(rep[i].last_index, rep[0].last_index);
	close_everything();
}

static void
connected(uv_connect_t *c, int status)
{
	static const uint8_t junk[40] =
		"this is not a goqueue handshake!!!!!!!";

	cr_assert_eq(status, 0);
	uv_buf_t b = uv_buf_init((char *)junk, sizeof(junk));
	uv_try_write(c->handle, &b, 1);
}

static void
bad_closed(uv_handle_t *h)
{
	*(bool *)h->data = true;
}

static uv_tcp_t bad;
static bool bad_done;

static void
bad_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	free(buf->base);
	if (n < 0 && !uv_is_closing((uv_handle_t *)s))
		uv_close((uv_handle_t *)s, bad_closed);
}

static void
bad_alloc(uv_handle_t *h, size_t n, uv_buf_t *buf)
{
	(void)h;
	buf->base = malloc(n);
	buf->len = n;
}

static bool
bad_finished(void)
{
	return bad_done;
}

/* A connection that does not speak the handshake is closed by the hub,
 * and the group keeps working. */
Test(transport, bad_handshake_refused)
{
	uv_connect_t c;
	struct sockaddr_in sa;
	const char *colon = strrchr(addr[0], ':');

	cr_assert(run_until(has_leader, 10000), "no leader elected");
	uv_ip4_addr("127.0.0.1", atoi(colon + 1), &sa);
	uv_tcp_init(&loop, &bad);
	bad.data = &bad_done;
	bad_done = false;
	cr_assert_eq(
		uv_tcp_connect(&c, &bad, (struct sockaddr *)&sa, connected), 0);
	uv_read_start((uv_stream_t *)&bad, bad_alloc, bad_read);
	cr_assert(run_until(bad_finished, 5000), "hub did not close it");
	cr_assert(has_leader());
	close_everything();
}
