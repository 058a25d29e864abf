/* SPDX-License-Identifier: MIT */
/*
 * test_gcoord.c - the consumer-group coordinator state machine, driven with
 * an injected clock: the KIP-394 join dance, initial delay, leader and
 * follower SyncGroup, heartbeats during each state, leave, session expiry
 * (and its exemption for parked members), rebalance and pending-sync
 * timeouts, commit validation, protocol selection, static membership,
 * destroy with parked requests, refused re-entry, a seeded randomized
 * model check of 10,000 steps, and allocation failure at every point of a
 * scripted scenario and at random points of the randomized one.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goqueue.h"

#include "../lib/failheap.h"

#include "buf.h"
#include "gcoord.h"

TestSuite(gcoord, .timeout = 30);

#define T0    1000000 /* the injected clock starts here */
#define DELAY 3000    /* initial rebalance delay in most tests */
#define IDLEN 128

/* ---------------------------------------------------------------------- */
/* Recording callbacks                                                     */
/* ---------------------------------------------------------------------- */

struct jrec {
	int calls;
	int16_t error;
	int32_t generation;
	char member_id[IDLEN];
	char leader[IDLEN];
	char protocol[64];
	size_t n_members;
	char members[8][IDLEN];
	char meta[8][32];
};

struct srec {
	int calls;
	int16_t error;
	char data[64];
	size_t len;
};

static void
on_join(void *arg, const struct gq__gc_join_resp *r)
{
	struct jrec *j = arg;
	size_t i;

	j->calls++;
	j->error = r->error;
	j->generation = r->generation;
	snprintf(j->member_id, IDLEN, "%s", r->member_id);
	snprintf(j->leader, IDLEN, "%s", r->leader);
	snprintf(j->protocol, sizeof(j->protocol), "%s",
		 r->protocol_name != NULL ? r->protocol_name : "(null)");
	j->n_members = r->n_members;
	for (i = 0; i < r->n_members && i < 8; i++) {
		snprintf(j->members[i], IDLEN, "%s", r->members[i].member_id);
		snprintf(j->meta[i], 32, "%.*s", (int)r->members[i].len,
			 (const char *)r->members[i].metadata);
	}
}

static void
on_sync(void *arg, int16_t error, const uint8_t *data, size_t len)
{
	struct srec *s = arg;

	s->calls++;
	s->error = error;
	s->len = len;
	snprintf(s->data, sizeof(s->data), "%.*s", (int)len,
		 (const char *)data);
}

static const struct gq__gc_protocol protos_default[] = {
	{ "range", (const uint8_t *)"m-range", 7 },
	{ "roundrobin", (const uint8_t *)"m-rr", 4 },
};

static struct gq__gc_join_req
req(const char *group, const char *member_id)
{
	struct gq__gc_join_req r;

	memset(&r, 0, sizeof(r));
	r.group = group;
	r.member_id = member_id;
	r.client_id = "c";
	r.client_host = "/127.0.0.1";
	r.protocol_type = "consumer";
	r.session_timeout_ms = 10000;
	r.rebalance_timeout_ms = 30000;
	r.api_version = 5;
	r.n_protocols = 2;
	r.protocols = protos_default;
	return r;
}

static struct gq__gcoord *
mk(int32_t delay)
{
	struct gq__gc_conf conf;
	struct gq__gcoord *gc = NULL;

	gq__gcoord_conf_init(&conf);
	conf.initial_rebalance_delay_ms = delay;
	conf.member_id_seed = 42;
	cr_assert(eq(int, gq__gcoord_create(&conf, &gc), 0));
	return gc;
}

/* A new dynamic member's KIP-394 dance: the first JoinGroup gets
 * MEMBER_ID_REQUIRED, the second (recorded in *j) uses the id. */
static void
join_fresh(struct gq__gcoord *gc, struct gq__gc_join_req r, int64_t now,
	   struct jrec *j)
{
	struct jrec first;

	memset(&first, 0, sizeof(first));
	memset(j, 0, sizeof(*j));
	r.member_id = "";
	gq__gcoord_join(gc, &r, now, on_join, &first);
	cr_assert(eq(int, first.calls, 1));
	cr_assert(eq(i16, first.error, GQ__GC_ERR_MEMBER_ID_REQUIRED));
	cr_assert(eq(i32, first.generation, -1));
	r.member_id = first.member_id;
	gq__gcoord_join(gc, &r, now, on_join, j);
	/* Keep the id for the caller even while the join is parked. */
	if (j->calls == 0)
		snprintf(j->member_id, IDLEN, "%s", first.member_id);
}

static char *
state_of(struct gq__gcoord *gc, const char *group)
{
	struct gq__gc_group_info info;

	cr_assert(eq(i16, gq__gcoord_describe(gc, group, &info), 0));
	return (char *)info.state;
}

static size_t
members_of(struct gq__gcoord *gc, const char *group)
{
	struct gq__gc_group_info info;

	cr_assert(eq(i16, gq__gcoord_describe(gc, group, &info), 0));
	return info.n_members;
}

/* Let a group formed by several members joining together complete: the
 * second arrival extends the initial delay once (Kafka
 * InitialDelayedJoin). */
static int64_t
settle(struct gq__gcoord *gc, int64_t now)
{
	gq__gcoord_tick(gc, now + DELAY);
	gq__gcoord_tick(gc, now + 2 * DELAY);
	return now + 2 * DELAY;
}

/* Two members A (leader) and B in Stable generation 1 of group "g";
 * returns the time reached. */
static int64_t
stable_pair(struct gq__gcoord *gc, char *a, char *b)
{
	struct gq__gc_assignment as[2];
	struct jrec ja;
	struct jrec jb;
	struct srec sa;
	struct srec sb;
	int64_t now = T0;

	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	join_fresh(gc, req("g", NULL), now, &ja);
	join_fresh(gc, req("g", NULL), now, &jb);
	now = settle(gc, now);
	cr_assert(eq(int, ja.calls, 1));
	cr_assert(eq(int, jb.calls, 1));
	cr_assert(eq(i32, ja.generation, 1));
	cr_assert(eq(str, ja.leader, ja.member_id));
	strcpy(a, ja.member_id);
	strcpy(b, jb.member_id);
	as[0] = (struct gq__gc_assignment){ a, (const uint8_t *)"asg-a", 5 };
	as[1] = (struct gq__gc_assignment){ b, (const uint8_t *)"asg-b", 5 };
	gq__gcoord_sync(gc, "g", 1, b, NULL, 0, NULL, now, on_sync, &sb);
	gq__gcoord_sync(gc, "g", 1, a, NULL, 2, as, now, on_sync, &sa);
	/* With a settled hook the answers wait for the save; without one
	 * this is ignored. */
	gq__gcoord_saved(gc, "g", 1, 0, now);
	cr_assert(eq(int, sa.calls, 1));
	cr_assert(eq(int, sb.calls, 1));
	cr_assert(eq(str, sb.data, "asg-b"));
	cr_assert(eq(str, state_of(gc, "g"), "Stable"));
	return now;
}

/* ---------------------------------------------------------------------- */
/* Join, sync, heartbeat                                                   */
/* ---------------------------------------------------------------------- */

/* A lone v5 member: MEMBER_ID_REQUIRED, then generation 1 after the
 * initial delay as its own leader, Stable after its sync, heartbeats OK. */
Test(gcoord, single_member)
{
	struct gq__gcoord *gc;
	struct gq__gc_assignment as;
	struct gq__gc_group_info info;
	struct jrec j;
	struct srec s;
	int64_t now = T0;
	int i;

	gc = mk(DELAY);
	memset(&s, 0, sizeof(s));
	join_fresh(gc, req("g", NULL), now, &j);
	cr_assert(eq(int, strncmp(j.member_id, "c-", 2), 0));
	cr_assert(eq(sz, strlen(j.member_id), 2 + 36));
	cr_assert(eq(int, j.calls, 0));
	cr_assert(eq(str, state_of(gc, "g"), "PreparingRebalance"));
	cr_assert(eq(i64, gq__gcoord_next_tick(gc), now + DELAY));
	gq__gcoord_tick(gc, now + DELAY - 1);
	cr_assert(eq(int, j.calls, 0));
	now += DELAY;
	gq__gcoord_tick(gc, now);
	cr_assert(eq(int, j.calls, 1));
	cr_assert(eq(i16, j.error, 0));
	cr_assert(eq(i32, j.generation, 1));
	cr_assert(eq(str, j.leader, j.member_id));
	cr_assert(eq(str, j.protocol, "range"));
	cr_assert(eq(sz, j.n_members, 1));
	cr_assert(eq(str, j.members[0], j.member_id));
	cr_assert(eq(str, j.meta[0], "m-range"));
	cr_assert(eq(str, state_of(gc, "g"), "CompletingRebalance"));
	/* Heartbeats are fine while the leader computes assignments. */
	cr_assert(
		eq(i16, gq__gcoord_heartbeat(gc, "g", 1, j.member_id, now), 0));
	as = (struct gq__gc_assignment){ j.member_id, (const uint8_t *)"A", 1 };
	gq__gcoord_sync(gc, "g", 1, j.member_id, NULL, 1, &as, now, on_sync,
			&s);
	cr_assert(eq(int, s.calls, 1));
	cr_assert(eq(i16, s.error, 0));
	cr_assert(eq(str, s.data, "A"));
	cr_assert(eq(i16, gq__gcoord_describe(gc, "g", &info), 0));
	cr_assert(eq(str, (char *)info.state, "Stable"));
	cr_assert(eq(str, (char *)info.protocol_type, "consumer"));
	cr_assert(eq(str, (char *)info.protocol, "range"));
	cr_assert(eq(sz, info.n_members, 1));
	cr_assert(eq(str, (char *)info.members[0].client_id, "c"));
	cr_assert(eq(str, (char *)info.members[0].client_host, "/127.0.0.1"));
	cr_assert(eq(sz, info.members[0].assignment_len, 1));
	cr_assert(eq(sz, info.members[0].metadata_len, 7));
	for (i = 0; i < 10; i++) {
		now += 5000;
		gq__gcoord_tick(gc, now);
		cr_assert(eq(i16,
			     gq__gcoord_heartbeat(gc, "g", 1, j.member_id, now),
			     0));
	}
	cr_assert(eq(str, state_of(gc, "g"), "Stable"));
	gq__gcoord_destroy(gc);
}

/* A second member forces a rebalance: the first's heartbeat gets
 * REBALANCE_IN_PROGRESS, its rejoin completes generation 2 at once, only
 * the leader gets the member list, and the follower's early sync waits for
 * the leader's and gets its own bytes. */
Test(gcoord, second_member_rebalance)
{
	struct gq__gcoord *gc;
	struct gq__gc_assignment as[2];
	struct gq__gc_join_req r;
	struct jrec ja;
	struct jrec jb;
	struct srec sa;
	struct srec sb;
	char a[IDLEN];
	char b[IDLEN];
	int64_t now = T0;

	gc = mk(DELAY);
	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	join_fresh(gc, req("g", NULL), now, &ja);
	now += DELAY;
	gq__gcoord_tick(gc, now);
	strcpy(a, ja.member_id);
	as[0] = (struct gq__gc_assignment){ a, (const uint8_t *)"a1", 2 };
	gq__gcoord_sync(gc, "g", 1, a, NULL, 1, as, now, on_sync, &sa);
	cr_assert(eq(str, state_of(gc, "g"), "Stable"));

	now += 1000;
	join_fresh(gc, req("g", NULL), now, &jb);
	strcpy(b, jb.member_id);
	cr_assert(eq(int, jb.calls, 0));
	cr_assert(eq(str, state_of(gc, "g"), "PreparingRebalance"));
	cr_assert(eq(i16, gq__gcoord_heartbeat(gc, "g", 1, a, now),
		     GQ__GC_ERR_REBALANCE_IN_PROGRESS));
	r = req("g", a);
	memset(&ja, 0, sizeof(ja));
	gq__gcoord_join(gc, &r, now, on_join, &ja);
	cr_assert(eq(int, ja.calls, 1));
	cr_assert(eq(int, jb.calls, 1));
	cr_assert(eq(i32, ja.generation, 2));
	cr_assert(eq(i32, jb.generation, 2));
	cr_assert(eq(str, ja.leader, a));
	cr_assert(eq(str, jb.leader, a));
	cr_assert(eq(sz, ja.n_members, 2));
	cr_assert(eq(sz, jb.n_members, 0));
	cr_assert(eq(str, ja.members[0], a));
	cr_assert(eq(str, ja.members[1], b));

	memset(&sa, 0, sizeof(sa));
	gq__gcoord_sync(gc, "g", 2, b, NULL, 0, NULL, now, on_sync, &sb);
	cr_assert(eq(int, sb.calls, 0));
	as[0] = (struct gq__gc_assignment){ a, (const uint8_t *)"a2", 2 };
	as[1] = (struct gq__gc_assignment){ b, (const uint8_t *)"b2", 2 };
	gq__gcoord_sync(gc, "g", 2, a, NULL, 2, as, now, on_sync, &sa);
	cr_assert(eq(int, sa.calls, 1));
	cr_assert(eq(int, sb.calls, 1));
	cr_assert(eq(str, sa.data, "a2"));
	cr_assert(eq(i16, sb.error, 0));
	cr_assert(eq(str, sb.data, "b2"));
	cr_assert(eq(str, state_of(gc, "g"), "Stable"));
	/* A follower's late sync in Stable gets its bytes at once. */
	memset(&sb, 0, sizeof(sb));
	gq__gcoord_sync(gc, "g", 2, b, NULL, 0, NULL, now, on_sync, &sb);
	cr_assert(eq(int, sb.calls, 1));
	cr_assert(eq(str, sb.data, "b2"));
	gq__gcoord_destroy(gc);
}

/* A follower rejoining Stable unchanged gets the current generation back
 * with no rebalance; with new metadata it starts one. */
Test(gcoord, follower_rejoin)
{
	static const struct gq__gc_protocol other[] = {
		{ "range", (const uint8_t *)"new", 3 },
	};
	struct gq__gcoord *gc;
	struct gq__gc_join_req r;
	struct jrec j;
	char a[IDLEN];
	char b[IDLEN];
	int64_t now;

	gc = mk(DELAY);
	now = stable_pair(gc, a, b);
	r = req("g", b);
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, now, on_join, &j);
	cr_assert(eq(int, j.calls, 1));
	cr_assert(eq(i32, j.generation, 1));
	cr_assert(eq(str, j.leader, a));
	cr_assert(eq(sz, j.n_members, 0));
	cr_assert(eq(str, state_of(gc, "g"), "Stable"));
	r.n_protocols = 1;
	r.protocols = other;
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, now, on_join, &j);
	cr_assert(eq(int, j.calls, 0));
	cr_assert(eq(str, state_of(gc, "g"), "PreparingRebalance"));
	gq__gcoord_destroy(gc);
}

/* LeaveGroup removes the member and rebalances; the leader leaving hands
 * leadership to the first member left; the last leaving empties the
 * group; an unknown member gets UNKNOWN_MEMBER_ID. */
Test(gcoord, leave_rebalances)
{
	struct gq__gcoord *gc;
	struct gq__gc_join_req r;
	struct jrec j;
	char a[IDLEN];
	char b[IDLEN];
	int64_t now;

	gc = mk(DELAY);
	now = stable_pair(gc, a, b);
	cr_assert(eq(i16, gq__gcoord_leave(gc, "g", "nobody", now),
		     GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	cr_assert(eq(i16, gq__gcoord_leave(gc, "nogroup", a, now),
		     GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	cr_assert(eq(i16, gq__gcoord_leave(gc, "g", a, now), 0));
	cr_assert(eq(str, state_of(gc, "g"), "PreparingRebalance"));
	cr_assert(eq(i16, gq__gcoord_heartbeat(gc, "g", 1, b, now),
		     GQ__GC_ERR_REBALANCE_IN_PROGRESS));
	cr_assert(eq(i16, gq__gcoord_heartbeat(gc, "g", 1, a, now),
		     GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	r = req("g", b);
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, now, on_join, &j);
	cr_assert(eq(int, j.calls, 1));
	cr_assert(eq(i32, j.generation, 2));
	cr_assert(eq(str, j.leader, b));
	cr_assert(eq(sz, j.n_members, 1));
	cr_assert(eq(i16, gq__gcoord_leave(gc, "g", b, now), 0));
	cr_assert(eq(str, state_of(gc, "g"), "Empty"));
	cr_assert(eq(sz, members_of(gc, "g"), 0));
	gq__gcoord_destroy(gc);
}

/* Leaving while parked completes the parked JoinGroup with
 * UNKNOWN_MEMBER_ID, and the rest of the rebalance goes on. */
Test(gcoord, leave_while_parked)
{
	struct gq__gcoord *gc;
	struct gq__gc_join_req r;
	struct jrec ja;
	struct jrec jb;
	char a[IDLEN];
	char b[IDLEN];
	int64_t now;

	gc = mk(DELAY);
	now = stable_pair(gc, a, b);
	r = req("g", a);
	memset(&ja, 0, sizeof(ja));
	gq__gcoord_join(gc, &r, now, on_join, &ja); /* leader: rebalance */
	cr_assert(eq(int, ja.calls, 0));
	cr_assert(eq(i16, gq__gcoord_leave(gc, "g", a, now), 0));
	cr_assert(eq(int, ja.calls, 1));
	cr_assert(eq(i16, ja.error, GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	r = req("g", b);
	memset(&jb, 0, sizeof(jb));
	gq__gcoord_join(gc, &r, now, on_join, &jb);
	cr_assert(eq(int, jb.calls, 1));
	cr_assert(eq(i32, jb.generation, 2));
	cr_assert(eq(str, jb.leader, b));
	gq__gcoord_destroy(gc);
}

/* ---------------------------------------------------------------------- */
/* Timers                                                                  */
/* ---------------------------------------------------------------------- */

/* A silent member is removed at its session timeout and the group
 * rebalances; a heartbeating one stays. */
Test(gcoord, session_expiry)
{
	struct gq__gcoord *gc;
	struct gq__gc_group_info info;
	char a[IDLEN];
	char b[IDLEN];
	int64_t now;
	int64_t start;

	gc = mk(DELAY);
	start = now = stable_pair(gc, a, b);
	while (now < start + 9000) {
		now += 3000;
		cr_assert(eq(i16, gq__gcoord_heartbeat(gc, "g", 1, a, now), 0));
		gq__gcoord_tick(gc, now);
	}
	cr_assert(eq(sz, members_of(gc, "g"), 2));
	gq__gcoord_tick(gc, start + 9999);
	cr_assert(eq(sz, members_of(gc, "g"), 2));
	gq__gcoord_tick(gc, start + 10000);
	cr_assert(eq(i16, gq__gcoord_describe(gc, "g", &info), 0));
	cr_assert(eq(sz, info.n_members, 1));
	cr_assert(eq(str, (char *)info.members[0].member_id, a));
	cr_assert(eq(str, (char *)info.state, "PreparingRebalance"));
	cr_assert(eq(i16, gq__gcoord_heartbeat(gc, "g", 1, b, start + 10000),
		     GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	gq__gcoord_destroy(gc);
}

/* Members parked in JoinGroup or SyncGroup are not expired, however long
 * they wait (their connection is blocked on the coordinator). */
Test(gcoord, parked_members_not_expired)
{
	struct gq__gcoord *gc;
	struct gq__gc_join_req r;
	struct jrec ja;
	struct jrec jb;
	struct jrec jc;
	struct srec sa;
	char a[IDLEN];
	char b[IDLEN];
	char c[IDLEN];
	int64_t now;
	int64_t start;

	gc = mk(DELAY);
	now = stable_pair(gc, a, b);
	/* C joins; A rejoins and is parked; B heartbeats but never
	 * rejoins, keeping the rebalance open until its timeout (30 s). */
	start = now;
	join_fresh(gc, req("g", NULL), now, &jc);
	strcpy(c, jc.member_id);
	r = req("g", a);
	memset(&ja, 0, sizeof(ja));
	gq__gcoord_join(gc, &r, now, on_join, &ja);
	while (now < start + 25000) {
		now += 2500;
		cr_assert(eq(i16, gq__gcoord_heartbeat(gc, "g", 1, b, now),
			     GQ__GC_ERR_REBALANCE_IN_PROGRESS));
		gq__gcoord_tick(gc, now);
	}
	cr_assert(eq(int, ja.calls, 0));
	cr_assert(eq(sz, members_of(gc, "g"), 3));
	/* The rebalance timeout drops B, which did not rejoin. */
	now = start + 30000;
	gq__gcoord_tick(gc, now);
	cr_assert(eq(int, ja.calls, 1));
	cr_assert(eq(int, jc.calls, 1));
	cr_assert(eq(i32, ja.generation, 2));
	cr_assert(eq(sz, ja.n_members, 2));
	cr_assert(eq(i16, gq__gcoord_heartbeat(gc, "g", 1, b, now),
		     GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	/* The leader is kept; C's sync is parked while A only heartbeats
	 * and never syncs. */
	cr_assert(eq(str, ja.leader, a));
	memset(&sa, 0, sizeof(sa));
	gq__gcoord_sync(gc, "g", 2, c, NULL, 0, NULL, now, on_sync, &sa);
	start = now;
	while (now < start + 25000) {
		now += 2500;
		cr_assert(eq(i16, gq__gcoord_heartbeat(gc, "g", 2, a, now), 0));
		gq__gcoord_tick(gc, now);
	}
	cr_assert(eq(int, sa.calls, 0));
	cr_assert(eq(sz, members_of(gc, "g"), 2));
	/* The leader never synced: at the rebalance timeout it is removed
	 * (pending sync), C's parked sync is cancelled. */
	now = start + 30000;
	gq__gcoord_tick(gc, now);
	cr_assert(eq(int, sa.calls, 1));
	cr_assert(eq(i16, sa.error, GQ__GC_ERR_REBALANCE_IN_PROGRESS));
	cr_assert(eq(sz, members_of(gc, "g"), 1));
	memset(&jb, 0, sizeof(jb));
	r = req("g", c);
	gq__gcoord_join(gc, &r, now, on_join, &jb);
	cr_assert(eq(int, jb.calls, 1));
	cr_assert(eq(i32, jb.generation, 3));
	cr_assert(eq(str, jb.leader, c));
	gq__gcoord_destroy(gc);
}

/* The initial delay is extended while new members keep arriving, so a
 * fleet starting together lands in one generation. */
Test(gcoord, initial_delay_extends)
{
	struct gq__gcoord *gc;
	struct jrec ja;
	struct jrec jb;

	gc = mk(DELAY);
	join_fresh(gc, req("g", NULL), T0, &ja);
	join_fresh(gc, req("g", NULL), T0 + 2000, &jb);
	gq__gcoord_tick(gc, T0 + DELAY);
	cr_assert(eq(int, ja.calls, 0));
	cr_assert(eq(i64, gq__gcoord_next_tick(gc), T0 + 2 * DELAY));
	gq__gcoord_tick(gc, T0 + 2 * DELAY);
	cr_assert(eq(int, ja.calls, 1));
	cr_assert(eq(int, jb.calls, 1));
	cr_assert(eq(i32, jb.generation, 1));
	cr_assert(eq(sz, ja.n_members, 2));
	gq__gcoord_destroy(gc);
}

/* A MEMBER_ID_REQUIRED id not used within the session timeout is
 * forgotten: joining with it then gets UNKNOWN_MEMBER_ID. */
Test(gcoord, pending_id_expires)
{
	struct gq__gcoord *gc;
	struct gq__gc_join_req r;
	struct jrec j;
	char id[IDLEN];

	gc = mk(DELAY);
	r = req("g", "");
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, T0, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_MEMBER_ID_REQUIRED));
	strcpy(id, j.member_id);
	cr_assert(eq(sz, gq__gcoord_group_count(gc), 1));
	cr_assert(eq(i64, gq__gcoord_tick(gc, T0 + 9999), T0 + 10000));
	cr_assert(eq(i64, gq__gcoord_tick(gc, T0 + 10000), -1));
	/* A group that never formed is not kept. */
	cr_assert(eq(sz, gq__gcoord_group_count(gc), 0));
	r.member_id = id;
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, T0 + 10000, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	gq__gcoord_destroy(gc);
}

/* JoinGroup before v4 skips MEMBER_ID_REQUIRED; with no initial delay
 * the group forms as soon as everybody joined. */
Test(gcoord, v3_join_no_delay)
{
	struct gq__gcoord *gc;
	struct gq__gc_join_req r;
	struct jrec j;

	gc = mk(0);
	r = req("g", "");
	r.api_version = 3;
	r.rebalance_timeout_ms = 0; /* v0 style: the session timeout */
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, T0, on_join, &j);
	cr_assert(eq(int, j.calls, 1));
	cr_assert(eq(i16, j.error, 0));
	cr_assert(eq(i32, j.generation, 1));
	gq__gcoord_destroy(gc);
}

/* ---------------------------------------------------------------------- */
/* Errors and commits                                                      */
/* ---------------------------------------------------------------------- */

/* Unknown members and stale generations are refused by Heartbeat,
 * SyncGroup and OffsetCommit; bad group ids by everything. */
Test(gcoord, member_and_generation_errors)
{
	struct gq__gcoord *gc;
	struct gq__gc_join_req r;
	struct jrec j;
	struct srec s;
	char a[IDLEN];
	char b[IDLEN];
	int64_t now;

	gc = mk(DELAY);
	now = stable_pair(gc, a, b);
	cr_assert(eq(i16, gq__gcoord_heartbeat(gc, "g", 1, "x", now),
		     GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	cr_assert(eq(i16, gq__gcoord_heartbeat(gc, "g", 7, a, now),
		     GQ__GC_ERR_ILLEGAL_GENERATION));
	cr_assert(eq(i16, gq__gcoord_heartbeat(gc, "h", 1, a, now),
		     GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	cr_assert(eq(i16, gq__gcoord_heartbeat(gc, "", 1, a, now),
		     GQ__GC_ERR_INVALID_GROUP_ID));
	cr_assert(eq(i16, gq__gcoord_check_commit(gc, "g", 1, "x", now),
		     GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	cr_assert(eq(i16, gq__gcoord_check_commit(gc, "g", 0, a, now),
		     GQ__GC_ERR_ILLEGAL_GENERATION));
	cr_assert(eq(i16, gq__gcoord_check_commit(gc, "g", 1, a, now), 0));
	cr_assert(eq(i16, gq__gcoord_check_commit(gc, NULL, 1, a, now),
		     GQ__GC_ERR_INVALID_GROUP_ID));
	memset(&s, 0, sizeof(s));
	gq__gcoord_sync(gc, "g", 1, "x", NULL, 0, NULL, now, on_sync, &s);
	cr_assert(eq(i16, s.error, GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	memset(&s, 0, sizeof(s));
	gq__gcoord_sync(gc, "g", 2, b, NULL, 0, NULL, now, on_sync, &s);
	cr_assert(eq(int, s.calls, 1));
	cr_assert(eq(i16, s.error, GQ__GC_ERR_ILLEGAL_GENERATION));
	memset(&s, 0, sizeof(s));
	gq__gcoord_sync(gc, "", 1, b, NULL, 0, NULL, now, on_sync, &s);
	cr_assert(eq(i16, s.error, GQ__GC_ERR_INVALID_GROUP_ID));
	r = req("g", "not-a-member");
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, now, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	cr_assert(eq(str, j.member_id, "not-a-member"));
	r = req("", "");
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, now, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_INVALID_GROUP_ID));
	r = req("other", "someone");
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, now, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	/* Sync during PreparingRebalance. */
	cr_assert(eq(i16, gq__gcoord_leave(gc, "g", a, now), 0));
	memset(&s, 0, sizeof(s));
	gq__gcoord_sync(gc, "g", 1, b, NULL, 0, NULL, now, on_sync, &s);
	cr_assert(eq(i16, s.error, GQ__GC_ERR_REBALANCE_IN_PROGRESS));
	gq__gcoord_destroy(gc);
}

/* OffsetCommit validation: simple commits (generation -1) to unknown or
 * Empty groups pass; CompletingRebalance answers REBALANCE_IN_PROGRESS;
 * a non-empty group refuses non-members. */
Test(gcoord, commit_checks)
{
	struct gq__gcoord *gc;
	struct jrec j;
	int64_t now = T0;

	gc = mk(DELAY);
	cr_assert(eq(i16, gq__gcoord_check_commit(gc, "solo", -1, "", now), 0));
	cr_assert(eq(i16, gq__gcoord_check_commit(gc, "", -1, "", now), 0));
	cr_assert(eq(i16, gq__gcoord_check_commit(gc, "solo", 3, "m", now),
		     GQ__GC_ERR_ILLEGAL_GENERATION));
	cr_assert(eq(sz, gq__gcoord_group_count(gc), 0));
	join_fresh(gc, req("g", NULL), now, &j);
	/* PreparingRebalance, not yet a member with a generation. */
	cr_assert(eq(i16, gq__gcoord_check_commit(gc, "g", -1, "", now),
		     GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	now += DELAY;
	gq__gcoord_tick(gc, now);
	cr_assert(eq(i16, gq__gcoord_check_commit(gc, "g", 1, j.member_id, now),
		     GQ__GC_ERR_REBALANCE_IN_PROGRESS));
	cr_assert(eq(i16, gq__gcoord_leave(gc, "g", j.member_id, now), 0));
	cr_assert(eq(str, state_of(gc, "g"), "Empty"));
	cr_assert(eq(i16, gq__gcoord_check_commit(gc, "g", -1, "", now), 0));
	cr_assert(eq(i16, gq__gcoord_check_commit(gc, "g", -1, "ghost", now),
		     GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	gq__gcoord_destroy(gc);
}

/* Protocol type mismatches, no protocol in common, and empty protocol
 * lists are INCONSISTENT_GROUP_PROTOCOL (23); session timeouts outside
 * [6000, 1800000] are INVALID_SESSION_TIMEOUT (26). */
Test(gcoord, join_validation)
{
	static const struct gq__gc_protocol sticky[] = {
		{ "cooperative-sticky", NULL, 0 },
	};
	struct gq__gcoord *gc;
	struct gq__gc_join_req r;
	struct jrec j;

	gc = mk(DELAY);
	join_fresh(gc, req("g", NULL), T0, &j);
	r = req("g", "");
	r.protocol_type = "connect";
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, T0, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_INCONSISTENT_GROUP_PROTOCOL));
	r = req("g", "");
	r.n_protocols = 1;
	r.protocols = sticky;
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, T0, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_INCONSISTENT_GROUP_PROTOCOL));
	r.n_protocols = 0;
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, T0, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_INCONSISTENT_GROUP_PROTOCOL));
	r = req("other", "");
	r.protocol_type = "";
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, T0, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_INCONSISTENT_GROUP_PROTOCOL));
	r = req("other", "");
	r.session_timeout_ms = 5999;
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, T0, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_INVALID_SESSION_TIMEOUT));
	r.session_timeout_ms = 1800001;
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, T0, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_INVALID_SESSION_TIMEOUT));
	r.session_timeout_ms = 6000;
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, T0, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_MEMBER_ID_REQUIRED));
	r.session_timeout_ms = 1800000;
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, T0, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_MEMBER_ID_REQUIRED));
	/* Refused joins create no group. */
	cr_assert(eq(sz, gq__gcoord_group_count(gc), 2));
	gq__gcoord_destroy(gc);
}

/* Protocol selection: only protocols every member supports count, each
 * member votes for its first, most votes wins, ties go to the first
 * member's preference. */
Test(gcoord, protocol_selection)
{
	static const struct gq__gc_protocol xy[] = {
		{ "x", (const uint8_t *)"1", 1 },
		{ "y", (const uint8_t *)"2", 1 },
	};
	static const struct gq__gc_protocol yx[] = {
		{ "y", (const uint8_t *)"3", 1 },
		{ "x", (const uint8_t *)"4", 1 },
	};
	static const struct gq__gc_protocol zy[] = {
		{ "z", NULL, 0 },
		{ "y", (const uint8_t *)"5", 1 },
	};
	static const struct {
		const struct gq__gc_protocol *lists[3];
		int n;
		const char *want;
	} cases[] = {
		{ { xy, yx }, 2, "x" },     /* tie: the first member's */
		{ { yx, xy }, 2, "y" },     /* tie, the other way */
		{ { xy, yx, yx }, 3, "y" }, /* 2 votes to 1 */
		{ { xy, zy }, 2, "y" },     /* x is not supported by all */
		{ { xy, xy, zy }, 3, "y" }, /* nor here: x votes turn to y */
	};
	struct gq__gcoord *gc;
	struct gq__gc_join_req r;
	struct jrec j[3];
	size_t c;
	int i;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		gc = mk(DELAY);
		for (i = 0; i < cases[c].n; i++) {
			r = req("g", NULL);
			r.protocols = cases[c].lists[i];
			join_fresh(gc, r, T0, &j[i]);
		}
		settle(gc, T0);
		for (i = 0; i < cases[c].n; i++) {
			cr_assert(eq(int, j[i].calls, 1));
			cr_assert(eq(str, j[i].protocol, (char *)cases[c].want),
				  "case %zu", c);
		}
		/* The leader sees each member's metadata for that one. */
		if (c == 2) {
			cr_assert(eq(str, j[0].meta[0], "2"));
			cr_assert(eq(str, j[0].meta[1], "3"));
		}
		gq__gcoord_destroy(gc);
	}
}

/* DeleteGroups: only Empty groups can go. */
Test(gcoord, delete_group)
{
	struct gq__gcoord *gc;
	struct gq__gc_group_info info;
	char a[IDLEN];
	char b[IDLEN];
	int64_t now;

	gc = mk(DELAY);
	now = stable_pair(gc, a, b);
	cr_assert(eq(i16, gq__gcoord_delete_group(gc, "nope"),
		     GQ__GC_ERR_GROUP_ID_NOT_FOUND));
	cr_assert(eq(i16, gq__gcoord_delete_group(gc, ""),
		     GQ__GC_ERR_INVALID_GROUP_ID));
	cr_assert(eq(i16, gq__gcoord_delete_group(gc, "g"),
		     GQ__GC_ERR_NON_EMPTY_GROUP));
	cr_assert(eq(i16, gq__gcoord_leave(gc, "g", a, now), 0));
	cr_assert(eq(i16, gq__gcoord_leave(gc, "g", b, now), 0));
	cr_assert(eq(sz, gq__gcoord_group_count(gc), 1));
	cr_assert(eq(int, gq__gcoord_group_at(gc, 0, &info), 0));
	cr_assert(eq(str, (char *)info.state, "Empty"));
	cr_assert(eq(i32, info.generation, 2));
	cr_assert(eq(int, gq__gcoord_group_at(gc, 1, &info), GQ_EINVAL));
	cr_assert(eq(i16, gq__gcoord_delete_group(gc, "g"), 0));
	cr_assert(eq(sz, gq__gcoord_group_count(gc), 0));
	cr_assert(eq(str, state_of(gc, "g"), "Dead"));
	gq__gcoord_destroy(gc);
}

/* Groups are listed in name order. */
Test(gcoord, group_listing)
{
	struct gq__gcoord *gc;
	static const char *names[] = { "m", "b", "z", "a" };
	static const char *sorted[] = { "a", "b", "m", "z" };
	struct gq__gc_group_info info;
	struct jrec j;
	size_t i;

	gc = mk(DELAY);
	for (i = 0; i < 4; i++)
		join_fresh(gc, req(names[i], NULL), T0, &j);
	cr_assert(eq(sz, gq__gcoord_group_count(gc), 4));
	for (i = 0; i < 4; i++) {
		cr_assert(eq(int, gq__gcoord_group_at(gc, i, &info), 0));
		cr_assert(eq(str, (char *)info.group_id, (char *)sorted[i]));
		cr_assert(eq(str, (char *)info.state, "PreparingRebalance"));
		cr_assert(eq(sz, info.n_members, 1));
	}
	gq__gcoord_destroy(gc);
}

/* ---------------------------------------------------------------------- */
/* Static membership                                                       */
/* ---------------------------------------------------------------------- */

/* A static member restarting (empty member id, same instance id) takes
 * its old place under a new id with no rebalance and gets its old
 * assignment; the old id is fenced everywhere. */
Test(gcoord, static_replace_and_fence)
{
	struct gq__gcoord *gc;
	struct gq__gc_assignment as[2];
	struct gq__gc_join_req r;
	struct jrec j1;
	struct jrec j2;
	struct jrec j;
	struct srec s;
	char s1[IDLEN];
	char s2[IDLEN];
	char s2new[IDLEN];
	int64_t now = T0;

	gc = mk(DELAY);
	r = req("g", "");
	r.group_instance_id = "i1";
	memset(&j1, 0, sizeof(j1));
	gq__gcoord_join(gc, &r, now, on_join, &j1); /* no 79 for static */
	cr_assert(eq(int, j1.calls, 0));
	r.group_instance_id = "i2";
	memset(&j2, 0, sizeof(j2));
	gq__gcoord_join(gc, &r, now, on_join, &j2);
	now = settle(gc, now);
	cr_assert(eq(i32, j2.generation, 1));
	strcpy(s1, j1.member_id);
	strcpy(s2, j2.member_id);
	as[0] = (struct gq__gc_assignment){ s1, (const uint8_t *)"p0", 2 };
	as[1] = (struct gq__gc_assignment){ s2, (const uint8_t *)"p1", 2 };
	memset(&s, 0, sizeof(s));
	gq__gcoord_sync(gc, "g", 1, s1, "i1", 2, as, now, on_sync, &s);
	cr_assert(eq(str, state_of(gc, "g"), "Stable"));

	/* i2 restarts. */
	r = req("g", "");
	r.group_instance_id = "i2";
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, now, on_join, &j);
	cr_assert(eq(int, j.calls, 1));
	cr_assert(eq(i16, j.error, 0));
	cr_assert(eq(i32, j.generation, 1));
	cr_assert(ne(str, j.member_id, s2));
	strcpy(s2new, j.member_id);
	cr_assert(eq(str, state_of(gc, "g"), "Stable"));
	memset(&s, 0, sizeof(s));
	gq__gcoord_sync(gc, "g", 1, s2new, "i2", 0, NULL, now, on_sync, &s);
	cr_assert(eq(str, s.data, "p1"));
	/* The old incarnation is fenced. */
	cr_assert(eq(i16, gq__gcoord_heartbeat(gc, "g", 1, s2, now),
		     GQ__GC_ERR_FENCED_INSTANCE_ID));
	cr_assert(eq(i16, gq__gcoord_check_commit(gc, "g", 1, s2, now),
		     GQ__GC_ERR_FENCED_INSTANCE_ID));
	memset(&s, 0, sizeof(s));
	gq__gcoord_sync(gc, "g", 1, s2, "i2", 0, NULL, now, on_sync, &s);
	cr_assert(eq(i16, s.error, GQ__GC_ERR_FENCED_INSTANCE_ID));
	r = req("g", s2);
	r.group_instance_id = "i2";
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, now, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_FENCED_INSTANCE_ID));
	cr_assert(eq(i16, gq__gcoord_leave(gc, "g", s2, now),
		     GQ__GC_ERR_FENCED_INSTANCE_ID));
	/* An instance id the group does not know, with a known member. */
	r = req("g", s1);
	r.group_instance_id = "i9";
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, now, on_join, &j);
	cr_assert(eq(i16, j.error, GQ__GC_ERR_UNKNOWN_MEMBER_ID));
	cr_assert(eq(sz, members_of(gc, "g"), 2));
	cr_assert(eq(str, state_of(gc, "g"), "Stable"));
	gq__gcoord_destroy(gc);
}

/* A static member replaced while parked in SyncGroup: the parked request
 * completes with FENCED_INSTANCE_ID, and the group rebalances, since the
 * leader may be assigning to the old id. */
Test(gcoord, static_replace_fences_parked)
{
	struct gq__gcoord *gc;
	struct gq__gc_join_req r;
	struct jrec j1;
	struct jrec j2;
	struct jrec j;
	struct srec s;
	int64_t now = T0;

	gc = mk(DELAY);
	r = req("g", "");
	r.group_instance_id = "i1";
	memset(&j1, 0, sizeof(j1));
	gq__gcoord_join(gc, &r, now, on_join, &j1);
	r.group_instance_id = "i2";
	memset(&j2, 0, sizeof(j2));
	gq__gcoord_join(gc, &r, now, on_join, &j2);
	now = settle(gc, now);
	memset(&s, 0, sizeof(s));
	gq__gcoord_sync(gc, "g", 1, j2.member_id, "i2", 0, NULL, now, on_sync,
			&s);
	cr_assert(eq(int, s.calls, 0));
	memset(&j, 0, sizeof(j));
	gq__gcoord_join(gc, &r, now, on_join, &j);
	cr_assert(eq(int, s.calls, 1));
	cr_assert(eq(i16, s.error, GQ__GC_ERR_FENCED_INSTANCE_ID));
	cr_assert(eq(int, j.calls, 0));
	cr_assert(eq(str, state_of(gc, "g"), "PreparingRebalance"));
	r.group_instance_id = "i1";
	r.member_id = j1.member_id;
	memset(&j1, 0, sizeof(j1));
	gq__gcoord_join(gc, &r, now, on_join, &j1);
	cr_assert(eq(int, j.calls, 1));
	cr_assert(eq(i32, j.generation, 2));
	cr_assert(eq(sz, j1.n_members, 2));
	cr_assert(eq(str, j1.members[1], j.member_id));
	gq__gcoord_destroy(gc);
}

/* ---------------------------------------------------------------------- */
/* Callback discipline                                                     */
/* ---------------------------------------------------------------------- */

/* Destroying the coordinator completes parked JoinGroups and SyncGroups
 * with COORDINATOR_NOT_AVAILABLE (15). */
Test(gcoord, destroy_completes_parked)
{
	struct gq__gcoord *gc;
	struct jrec ja;
	struct jrec jb;
	struct jrec jc;
	struct srec sb;
	int64_t now = T0;

	gc = mk(DELAY);
	join_fresh(gc, req("g", NULL), now, &ja);
	join_fresh(gc, req("g", NULL), now, &jb);
	now = settle(gc, now);
	memset(&sb, 0, sizeof(sb));
	gq__gcoord_sync(gc, "g", 1, jb.member_id, NULL, 0, NULL, now, on_sync,
			&sb);
	join_fresh(gc, req("h", NULL), now, &jc);
	cr_assert(eq(int, sb.calls, 0));
	cr_assert(eq(int, jc.calls, 0));
	gq__gcoord_destroy(gc);
	cr_assert(eq(int, sb.calls, 1));
	cr_assert(eq(i16, sb.error, GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE));
	cr_assert(eq(int, jc.calls, 1));
	cr_assert(eq(i16, jc.error, GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE));
	gq__gcoord_destroy(NULL);
}

/* A second JoinGroup from a member already parked supersedes the first,
 * which completes with REBALANCE_IN_PROGRESS. */
Test(gcoord, superseded_join)
{
	struct gq__gcoord *gc;
	struct gq__gc_join_req r;
	struct jrec j1;
	struct jrec j2;

	gc = mk(DELAY);
	join_fresh(gc, req("g", NULL), T0, &j1);
	r = req("g", j1.member_id);
	memset(&j2, 0, sizeof(j2));
	gq__gcoord_join(gc, &r, T0 + 10, on_join, &j2);
	cr_assert(eq(int, j1.calls, 1));
	cr_assert(eq(i16, j1.error, GQ__GC_ERR_REBALANCE_IN_PROGRESS));
	cr_assert(eq(int, j2.calls, 0));
	gq__gcoord_tick(gc, T0 + DELAY);
	cr_assert(eq(int, j2.calls, 1));
	cr_assert(eq(i32, j2.generation, 1));
	gq__gcoord_destroy(gc);
}

struct reenter {
	struct gq__gcoord *gc;
	int16_t hb;
	struct jrec inner;
	int calls;
};

static void
on_join_reenter(void *arg, const struct gq__gc_join_resp *r)
{
	struct reenter *re = arg;
	struct gq__gc_join_req q;

	re->calls++;
	re->hb = gq__gcoord_heartbeat(re->gc, "g", r->generation, r->member_id,
				      T0);
	q = req("g", "");
	gq__gcoord_join(re->gc, &q, T0, on_join, &re->inner);
}

/* Calls from inside a callback are refused with
 * COORDINATOR_NOT_AVAILABLE; their callbacks still run once. */
Test(gcoord, reentry_refused)
{
	struct gq__gcoord *gc;
	struct gq__gc_join_req r;
	struct reenter re;

	gc = mk(0);
	memset(&re, 0, sizeof(re));
	re.gc = gc;
	r = req("g", "");
	r.api_version = 3;
	gq__gcoord_join(gc, &r, T0, on_join_reenter, &re);
	cr_assert(eq(int, re.calls, 1));
	cr_assert(eq(i16, re.hb, GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE));
	cr_assert(eq(int, re.inner.calls, 1));
	cr_assert(
		eq(i16, re.inner.error, GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE));
	cr_assert(eq(sz, members_of(gc, "g"), 1));
	gq__gcoord_destroy(gc);
}

/* Member ids are deterministic for a seed and differ across seeds. */
Test(gcoord, member_ids_deterministic)
{
	struct gq__gc_conf conf;
	struct gq__gcoord *gc[3];
	struct gq__gc_join_req r;
	struct jrec j[3];
	int i;

	for (i = 0; i < 3; i++) {
		gq__gcoord_conf_init(&conf);
		conf.member_id_seed = i == 2 ? 7 : 1;
		cr_assert(eq(int, gq__gcoord_create(&conf, &gc[i]), 0));
		r = req("g", "");
		r.client_id = "rdkafka";
		memset(&j[i], 0, sizeof(j[i]));
		gq__gcoord_join(gc[i], &r, T0, on_join, &j[i]);
		gq__gcoord_destroy(gc[i]);
	}
	cr_assert(eq(str, j[0].member_id, j[1].member_id));
	cr_assert(ne(str, j[0].member_id, j[2].member_id));
	cr_assert(eq(int, strncmp(j[0].member_id, "rdkafka-", 8), 0));
}

/* ---------------------------------------------------------------------- */
/* Saving and restoring settled groups                                     */
/* ---------------------------------------------------------------------- */

struct settled_log {
	int calls;
	char last[64];
};

static void
on_settled(void *arg, const char *group)
{
	struct settled_log *l = arg;

	l->calls++;
	snprintf(l->last, sizeof(l->last), "%s", group);
}

/* A Stable group saved and restored in another coordinator carries on:
 * heartbeats of its generation pass, a follower's SyncGroup gets its
 * assignment, a follower rejoining with the same protocols gets the same
 * generation, and the leader's member list is back. */
Test(gcoord, save_restore_stable)
{
	struct gq__gcoord *gc = mk(DELAY), *gc2 = mk(DELAY);
	struct gq__buf b = GQ__BUF_INIT;
	struct gq__gc_group_info info;
	struct gq__gc_join_req r;
	struct jrec j;
	struct srec s;
	char a[IDLEN], bb[IDLEN];
	int64_t now = stable_pair(gc, a, bb);

	cr_assert(eq(int, gq__gcoord_save(gc, "g", &b), 0));
	cr_assert(gt(sz, b.len, 0));
	cr_assert(eq(int, gq__gcoord_restore(gc2, "g", b.base, b.len, now), 0));
	cr_assert(eq(int, gq__gcoord_restore(gc2, "g", b.base, b.len, now),
		     GQ_EEXIST));
	cr_assert(eq(i16, gq__gcoord_describe(gc2, "g", &info), 0));
	cr_assert(eq(str, (char *)info.state, "Stable"));
	cr_assert(eq(i32, info.generation, 1));
	cr_assert(eq(str, (char *)info.protocol, "range"));
	cr_assert(eq(str, (char *)info.leader, a));
	cr_assert(eq(sz, info.n_members, 2));
	cr_assert(eq(str, (char *)info.members[1].client_host, "/127.0.0.1"));
	cr_assert(eq(sz, info.members[1].assignment_len, 5));
	cr_assert(eq(i16, gq__gcoord_heartbeat(gc2, "g", 1, a, now), 0));
	cr_assert(eq(i16, gq__gcoord_heartbeat(gc2, "g", 1, bb, now), 0));
	cr_assert(eq(i16, gq__gcoord_heartbeat(gc2, "g", 0, bb, now),
		     GQ__GC_ERR_ILLEGAL_GENERATION));
	memset(&s, 0, sizeof(s));
	gq__gcoord_sync(gc2, "g", 1, bb, NULL, 0, NULL, now, on_sync, &s);
	cr_assert(eq(int, s.calls, 1));
	cr_assert(eq(str, s.data, "asg-b"));
	memset(&j, 0, sizeof(j));
	r = req("g", bb);
	gq__gcoord_join(gc2, &r, now, on_join, &j);
	cr_assert(eq(int, j.calls, 1), "no rebalance for the same protocols");
	cr_assert(eq(i32, j.generation, 1));
	/* Sessions run from the restore: a silent member goes. */
	cr_assert(eq(i16, gq__gcoord_heartbeat(gc2, "g", 1, a, now + 5000), 0));
	gq__gcoord_tick(gc2, now + 10001);
	cr_assert(eq(str, state_of(gc2, "g"), "PreparingRebalance"));
	gq__buf_free(&b);
	gq__gcoord_destroy(gc);
	gq__gcoord_destroy(gc2);
}

/* The settled hook fires on Stable and Empty; an Empty group keeps its
 * generation across a restore; a group in a rebalance saves nothing. */
Test(gcoord, settled_and_empty)
{
	struct settled_log log = { 0, "" };
	struct gq__gc_conf conf;
	struct gq__gcoord *gc, *gc2 = mk(0);
	struct gq__buf b = GQ__BUF_INIT;
	struct gq__gc_group_info info;
	struct jrec j;
	char a[IDLEN], bb[IDLEN];
	int64_t now;

	gq__gcoord_conf_init(&conf);
	conf.initial_rebalance_delay_ms = DELAY;
	conf.settled = on_settled;
	conf.settled_arg = &log;
	cr_assert(eq(int, gq__gcoord_create(&conf, &gc), 0));
	now = stable_pair(gc, a, bb);
	cr_assert(eq(int, log.calls, 1));
	cr_assert(eq(str, log.last, "g"));
	memset(&j, 0, sizeof(j));
	join_fresh(gc, req("g", NULL), now, &j);
	cr_assert(eq(int, gq__gcoord_save(gc, "g", &b), 0));
	cr_assert(eq(sz, b.len, 0), "nothing saved mid-rebalance");
	cr_assert(eq(i16, gq__gcoord_leave(gc, "g", a, now), 0));
	cr_assert(eq(i16, gq__gcoord_leave(gc, "g", bb, now), 0));
	cr_assert(eq(i16, gq__gcoord_leave(gc, "g", j.member_id, now), 0));
	gq__gcoord_tick(gc, now + 60000);
	cr_assert(eq(str, state_of(gc, "g"), "Empty"));
	cr_assert(eq(int, log.calls, 2));
	cr_assert(eq(int, gq__gcoord_save(gc, "g", &b), 0));
	cr_assert(eq(int, gq__gcoord_restore(gc2, "g", b.base, b.len, now), 0));
	cr_assert(eq(str, state_of(gc2, "g"), "Empty"));
	/* The next generation follows the saved one. */
	cr_assert(eq(i16, gq__gcoord_describe(gc, "g", &info), 0));
	memset(&j, 0, sizeof(j));
	join_fresh(gc2, req("g", NULL), now, &j);
	cr_assert(eq(int, j.calls, 1));
	cr_assert(eq(i32, j.generation, info.generation + 1));
	gq__buf_free(&b);
	gq__gcoord_destroy(gc);
	gq__gcoord_destroy(gc2);
}

/* A coordinator that saves settled groups answers a generation's SyncGroup
 * calls only once its state is stored, as Kafka does: a follower's sync
 * and the leader's park until gq__gcoord_saved(); a save of another
 * generation changes nothing; a failed save answers every member with an
 * error and starts a rebalance. */
Test(gcoord, sync_answered_once_saved)
{
	struct settled_log log = { 0, "" };
	struct gq__gc_assignment as[2];
	struct gq__gc_conf conf;
	struct gq__gcoord *gc;
	struct jrec ja, jb;
	struct srec sa, sb, sb2;
	char ida[IDLEN], idb[IDLEN];
	int64_t now = T0;

	gq__gcoord_conf_init(&conf);
	conf.initial_rebalance_delay_ms = DELAY;
	conf.settled = on_settled;
	conf.settled_arg = &log;
	cr_assert(eq(int, gq__gcoord_create(&conf, &gc), 0));
	for (int round = 0; round < 2; round++) {
		int32_t gen = round + 1;

		memset(&sa, 0, sizeof(sa));
		memset(&sb, 0, sizeof(sb));
		memset(&sb2, 0, sizeof(sb2));
		memset(&ja, 0, sizeof(ja));
		memset(&jb, 0, sizeof(jb));
		if (round == 0) {
			join_fresh(gc, req("g", NULL), now, &ja);
			join_fresh(gc, req("g", NULL), now, &jb);
		} else {
			struct gq__gc_join_req ra = req("g", ida);
			struct gq__gc_join_req rb = req("g", idb);

			gq__gcoord_join(gc, &ra, now, on_join, &ja);
			gq__gcoord_join(gc, &rb, now, on_join, &jb);
		}
		now = settle(gc, now);
		cr_assert(eq(i32, ja.generation, gen));
		as[0] = (struct gq__gc_assignment){ ja.member_id,
						    (const uint8_t *)"asg-a",
						    5 };
		as[1] = (struct gq__gc_assignment){ jb.member_id,
						    (const uint8_t *)"asg-b",
						    5 };
		gq__gcoord_sync(gc, "g", gen, ja.member_id, NULL, 2, as, now,
				on_sync, &sa);
		cr_assert(eq(str, state_of(gc, "g"), "Stable"));
		cr_assert(eq(int, log.calls, gen), "the hook fired");
		gq__gcoord_sync(gc, "g", gen, jb.member_id, NULL, 0, NULL, now,
				on_sync, &sb);
		cr_assert(eq(int, sa.calls + sb.calls, 0), "nothing answered");
		/* A retried sync supersedes the parked one. */
		gq__gcoord_sync(gc, "g", gen, jb.member_id, NULL, 0, NULL, now,
				on_sync, &sb2);
		cr_assert(eq(int, sb.calls, 1));
		cr_assert(eq(i16, sb.error, GQ__GC_ERR_REBALANCE_IN_PROGRESS));
		gq__gcoord_saved(gc, "g", gen + 1, 0, now);
		gq__gcoord_saved(gc, "other", gen, 0, now);
		cr_assert(eq(int, sa.calls + sb2.calls, 0));
		if (round == 0) {
			gq__gcoord_saved(gc, "g", gen, 0, now);
			cr_assert(eq(int, sa.calls, 1));
			cr_assert(eq(i16, sa.error, GQ__GC_ERR_NONE));
			cr_assert(eq(str, sa.data, "asg-a"));
			cr_assert(eq(int, sb2.calls, 1));
			cr_assert(eq(str, sb2.data, "asg-b"));
			/* Answered at once from now on. */
			memset(&sb, 0, sizeof(sb));
			gq__gcoord_sync(gc, "g", gen, jb.member_id, NULL, 0,
					NULL, now, on_sync, &sb);
			cr_assert(eq(int, sb.calls, 1));
			cr_assert(eq(str, sb.data, "asg-b"));
			gq__gcoord_saved(gc, "g", gen, 0, now);
			cr_assert(eq(int, sa.calls, 1), "a second save: no-op");
			/* Both rejoin for generation 2. */
			strcpy(ida, ja.member_id);
			strcpy(idb, jb.member_id);
		} else {
			gq__gcoord_saved(gc, "g", gen, GQ_EIO, now);
			cr_assert(eq(int, sa.calls, 1));
			cr_assert(eq(i16, sa.error,
				     GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE));
			cr_assert(eq(int, sb2.calls, 1));
			cr_assert(eq(i16, sb2.error,
				     GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE));
			cr_assert(eq(str, state_of(gc, "g"),
				     "PreparingRebalance"));
		}
	}
	gq__gcoord_destroy(gc);
}

/* Every truncation and a flipped version are refused, leaving nothing. */
Test(gcoord, restore_corrupt)
{
	struct gq__gcoord *gc = mk(DELAY), *gc2 = mk(DELAY);
	struct gq__buf b = GQ__BUF_INIT;
	char a[IDLEN], bb[IDLEN];
	int64_t now = stable_pair(gc, a, bb);

	cr_assert(eq(int, gq__gcoord_save(gc, "g", &b), 0));
	for (size_t len = 0; len < b.len; len++) {
		int rv = gq__gcoord_restore(gc2, "g", b.base, len, now);

		cr_assert(eq(int, rv, GQ_ECORRUPT), "length %zu", len);
		cr_assert(eq(sz, gq__gcoord_group_count(gc2), 0));
	}
	b.base[0] = 9;
	cr_assert(eq(int, gq__gcoord_restore(gc2, "g", b.base, b.len, now),
		     GQ_ECORRUPT));
	gq__buf_free(&b);
	gq__gcoord_destroy(gc);
	gq__gcoord_destroy(gc2);
}

/* Bad configurations are refused. */
Test(gcoord, create_conf)
{
	struct gq__gc_conf conf;
	struct gq__gcoord *gc = NULL;

	gq__gcoord_conf_init(&conf);
	conf.min_session_ms = 10;
	conf.max_session_ms = 5;
	cr_assert(eq(int, gq__gcoord_create(&conf, &gc), GQ_EINVAL));
	cr_assert(eq(int, gq__gcoord_create(NULL, &gc), 0));
	gq__gcoord_destroy(gc);
}

/* splitmix64: the randomized model check's generator. */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---------------------------------------------------------------------- */
/* Scripted scenario under allocation failure                              */
/* ---------------------------------------------------------------------- */

#define NREC 64

struct script {
	struct jrec j[NREC];
	struct srec s[NREC];
	int nj;
	int ns;
};

static struct jrec *
sj(struct script *sc)
{
	cr_assert(lt(int, sc->nj, NREC));
	return &sc->j[sc->nj++];
}

static struct srec *
ss(struct script *sc)
{
	cr_assert(lt(int, sc->ns, NREC));
	return &sc->s[sc->ns++];
}

/* Join the KIP-394 way, tolerating errors; the id used, in @id. */
static void
script_join(struct gq__gcoord *gc, struct script *sc, const char *group,
	    const char *iid, int64_t now, char *id)
{
	struct gq__gc_join_req r;
	struct jrec *j;

	r = req(group, "");
	r.group_instance_id = iid;
	j = sj(sc);
	gq__gcoord_join(gc, &r, now, on_join, j);
	id[0] = '\0';
	if (j->calls == 1 && j->error == GQ__GC_ERR_MEMBER_ID_REQUIRED) {
		strcpy(id, j->member_id);
		r.member_id = id;
		gq__gcoord_join(gc, &r, now, on_join, sj(sc));
	} else if (j->calls == 0 || j->error == 0) {
		/* Static: parked (id known at completion) or answered. */
		snprintf(id, IDLEN, "%s", j->member_id);
	}
}

/* Every step of a typical life, each call's outcome tolerated: what is
 * checked is that every callback runs exactly once. */
static void
scenario(struct gq__gcoord *gc, struct script *sc)
{
	struct gq__gc_assignment as[3];
	struct gq__gc_group_info info;
	struct gq__gc_join_req r;
	char a[IDLEN];
	char b[IDLEN];
	char s1[IDLEN];
	char leader[IDLEN];
	int64_t now = T0;
	int32_t gen;
	size_t i;

	script_join(gc, sc, "g", NULL, now, a);
	script_join(gc, sc, "g", NULL, now, b);
	script_join(gc, sc, "g", "inst", now, s1);
	now = settle(gc, now);
	gq__gcoord_describe(gc, "g", &info);
	gen = info.generation;
	snprintf(leader, IDLEN, "%s", info.leader);
	if (info.n_members > 0) {
		/* The static member's id is only known now. */
		for (i = 0; i < info.n_members; i++)
			if (info.members[i].group_instance_id != NULL)
				snprintf(s1, IDLEN, "%s",
					 info.members[i].member_id);
		gq__gcoord_sync(gc, "g", gen, b, NULL, 0, NULL, now, on_sync,
				ss(sc));
		as[0] = (struct gq__gc_assignment){ a, (const uint8_t *)"1",
						    1 };
		as[1] = (struct gq__gc_assignment){ b, (const uint8_t *)"22",
						    2 };
		as[2] = (struct gq__gc_assignment){ s1, (const uint8_t *)"3",
						    1 };
		gq__gcoord_sync(gc, "g", gen, leader, NULL, 3, as, now, on_sync,
				ss(sc));
		gq__gcoord_sync(gc, "g", gen, s1, "inst", 0, NULL, now, on_sync,
				ss(sc));
	}
	gq__gcoord_heartbeat(gc, "g", gen, a, now);
	gq__gcoord_check_commit(gc, "g", gen, b, now);
	/* The static member restarts; a v3 member joins; b leaves. */
	script_join(gc, sc, "g", "inst", now, s1);
	r = req("g", "");
	r.api_version = 3;
	gq__gcoord_join(gc, &r, now, on_join, sj(sc));
	gq__gcoord_leave(gc, "g", b, now);
	gq__gcoord_describe(gc, "g", &info);
	/* A second group left parked; time passes; the first rebalance
	 * completes or times out. */
	script_join(gc, sc, "h", NULL, now, b);
	now += 40000;
	gq__gcoord_tick(gc, now);
	gq__gcoord_describe(gc, "g", &info);
	if (info.n_members > 0 &&
	    strcmp(info.state, "CompletingRebalance") == 0) {
		snprintf(a, IDLEN, "%s", info.leader);
		gq__gcoord_sync(gc, "g", info.generation, a, NULL, 0, NULL, now,
				on_sync, ss(sc));
	}
	script_join(gc, sc, "h", NULL, now, b);
}

static void
check_script(const struct script *sc)
{
	int i;

	for (i = 0; i < sc->nj; i++)
		cr_assert(eq(int, sc->j[i].calls, 1), "join %d", i);
	for (i = 0; i < sc->ns; i++)
		cr_assert(eq(int, sc->s[i].calls, 1), "sync %d", i);
}

/* Failing the Nth allocation, for every N: every call still completes
 * its callback exactly once (with an error or not), nothing leaks, and
 * an out-of-memory JoinGroup answers COORDINATOR_NOT_AVAILABLE. */
Test(gcoord, alloc_failures)
{
	static struct script sc;
	struct gq__gcoord *gc;
	long n;
	long total;
	int rv;

	for (n = 0;; n++) {
		memset(&gqt_fh, 0, sizeof(gqt_fh));
		gqt_fh.fail_at = n;
		memset(&sc, 0, sizeof(sc));
		cr_assert(eq(int, gq_heap_set(&gqt_failing_heap), 0));
		gc = NULL;
		rv = gq__gcoord_create(NULL, &gc);
		if (rv == 0)
			scenario(gc, &sc);
		else
			cr_assert(eq(int, rv, GQ_ENOMEM));
		gq__gcoord_destroy(gc);
		total = gqt_fh.calls;
		cr_assert(eq(int, gq_heap_set(NULL), 0));
		cr_assert(eq(long, gqt_fh.live, 0), "alloc %ld leaked", n);
		check_script(&sc);
		if (n >= total)
			break; /* nothing failed: every point was tried */
		cr_assert(lt(long, n, 10000));
	}
	cr_assert(gt(long, n, 20));
}

/* Restoring under allocation failure at every point: GQ_ENOMEM, no group
 * left half made, nothing leaked; then it succeeds. */
Test(gcoord, restore_alloc_failures)
{
	struct gq__gcoord *gc = mk(DELAY), *gc2;
	struct gq__buf b = GQ__BUF_INIT;
	char a[IDLEN], bb[IDLEN];
	int64_t now = stable_pair(gc, a, bb);
	long n;
	int rv;

	cr_assert(eq(int, gq__gcoord_save(gc, "g", &b), 0));
	for (n = 0;; n++) {
		/* The coordinator's own allocation (mk) never fails; every
		 * later one is tried, and the count checked after destroy. */
		memset(&gqt_fh, 0, sizeof(gqt_fh));
		gqt_fh.fail_at = n + 1;
		cr_assert(eq(int, gq_heap_set(&gqt_failing_heap), 0));
		gc2 = mk(DELAY);
		rv = gq__gcoord_restore(gc2, "g", b.base, b.len, now);
		if (rv != 0) {
			cr_assert(eq(int, rv, GQ_ENOMEM), "alloc %ld", n);
			cr_assert(eq(sz, gq__gcoord_group_count(gc2), 0));
		} else {
			cr_assert(eq(str, state_of(gc2, "g"), "Stable"));
		}
		gq__gcoord_destroy(gc2);
		cr_assert(eq(int, gq_heap_set(NULL), 0));
		cr_assert(eq(long, gqt_fh.live, 0), "alloc %ld leaked", n);
		if (rv == 0)
			break;
		cr_assert(lt(long, n, 1000));
	}
	cr_assert(gt(long, n, 10));
	gq__buf_free(&b);
	gq__gcoord_destroy(gc);
}

/* ---------------------------------------------------------------------- */
/* Randomized model check                                                  */
/* ---------------------------------------------------------------------- */

#define NC      8 /* clients, clients 0-3 in g0, 4-7 in g1 */
#define NSTEPS  10000
#define MAXREQ  (NSTEPS * 3)
#define MAXIDS  8192
#define MAXGENS 4096

/* One outstanding or finished request. */
struct rq {
	int calls;
	int client;
	int incarnation;
	int32_t gen; /* for syncs: the generation synced */
	struct sim *sim;
};

struct client {
	int incarnation;
	bool crashed;
	char id[IDLEN];
	int32_t gen;
	bool joining; /* a JoinGroup outstanding */
	bool syncing; /* a SyncGroup outstanding */
	int32_t sync_gen;
	bool need_sync;
	bool need_join;
	bool leader;
	size_t n_members;
	char members[NC][IDLEN];
	int meta; /* metadata version, changed to force rebalances */
};

struct sim {
	struct gq__gcoord *gc;
	uint64_t rng;
	int64_t now;
	struct client c[NC];
	struct rq *rq;
	int nrq;
	/* Every id ever handed to a client, to map ids to clients. */
	char (*ids)[IDLEN];
	int ids_client[MAXIDS];
	int nids;
	/* Per group: the last generation seen and, per completed
	 * generation, its protocol and leader. */
	int32_t gen_seen[2];
	int32_t last_completed[2];
	char gen_proto[2][MAXGENS][16];
	char gen_leader[2][MAXGENS][IDLEN];
	long completions;
	long stable_seen;
	long syncs_ok;
};

static const char *gnames[2] = { "g0", "g1" };

static int
grp(int c)
{
	return c < NC / 2 ? 0 : 1;
}

/* Clients 6 and 7 are static members. */
static const char *
inst(int c)
{
	static const char *ids[NC] = { NULL, NULL, NULL, NULL,
				       NULL, NULL, "s6", "s7" };
	return ids[c];
}

static struct rq *
new_rq(struct sim *sm, int c)
{
	struct rq *r;

	cr_assert(lt(int, sm->nrq, MAXREQ));
	r = &sm->rq[sm->nrq++];
	memset(r, 0, sizeof(*r));
	r->client = c;
	r->incarnation = sm->c[c].incarnation;
	r->sim = sm;
	return r;
}

static void
remember_id(struct sim *sm, const char *id, int c)
{
	int i;

	for (i = 0; i < sm->nids; i++)
		if (strcmp(sm->ids[i], id) == 0) {
			cr_assert(eq(int, sm->ids_client[i], c),
				  "id %s handed to two clients", id);
			return;
		}
	cr_assert(lt(int, sm->nids, MAXIDS));
	snprintf(sm->ids[sm->nids], IDLEN, "%s", id);
	sm->ids_client[sm->nids++] = c;
}

static int
client_of(const struct sim *sm, const char *id)
{
	int i;

	for (i = 0; i < sm->nids; i++)
		if (strcmp(sm->ids[i], id) == 0)
			return sm->ids_client[i];
	return -1;
}

static void
reset_member(struct client *cl)
{
	cl->id[0] = '\0';
	cl->gen = -1;
	cl->need_join = true;
	cl->need_sync = false;
	cl->leader = false;
}

static void
sim_on_join(void *arg, const struct gq__gc_join_resp *r)
{
	struct rq *q = arg;
	struct sim *sm = q->sim;
	struct client *cl = &sm->c[q->client];
	int g;
	size_t i;
	size_t k;

	g = grp(q->client);
	cr_assert(eq(int, q->calls, 0), "join callback ran twice");
	q->calls++;
	if (r->error == GQ__GC_ERR_NONE) {
		/* Generations only grow; one protocol (and, for dynamic
		 * groups, one leader) per generation. */
		cr_assert(ge(i32, r->generation, sm->last_completed[g]));
		cr_assert(lt(i32, r->generation, MAXGENS));
		if (r->generation > sm->last_completed[g]) {
			sm->last_completed[g] = r->generation;
			snprintf(sm->gen_proto[g][r->generation], 16, "%s",
				 r->protocol_name);
			snprintf(sm->gen_leader[g][r->generation], IDLEN, "%s",
				 r->leader);
			sm->completions++;
		}
		cr_assert(eq(str, sm->gen_proto[g][r->generation],
			     (char *)r->protocol_name));
		if (g == 0)
			cr_assert(eq(str, sm->gen_leader[g][r->generation],
				     (char *)r->leader));
		if (strcmp(r->leader, r->member_id) != 0)
			cr_assert(eq(sz, r->n_members, 0));
		for (i = 0; i < r->n_members; i++)
			for (k = i + 1; k < r->n_members; k++)
				cr_assert(ne(str,
					     (char *)r->members[i].member_id,
					     (char *)r->members[k].member_id));
	}
	if (q->incarnation != cl->incarnation)
		return; /* the client restarted since: only counted */
	cl->joining = false;
	switch (r->error) {
	case GQ__GC_ERR_NONE:
		snprintf(cl->id, IDLEN, "%s", r->member_id);
		remember_id(sm, cl->id, q->client);
		cl->gen = r->generation;
		cl->need_join = false;
		cl->need_sync = true;
		cl->leader = strcmp(r->leader, r->member_id) == 0;
		cl->n_members = r->n_members < NC ? r->n_members : NC;
		for (i = 0; i < cl->n_members; i++)
			snprintf(cl->members[i], IDLEN, "%s",
				 r->members[i].member_id);
		if (cl->leader)
			cr_assert(gt(sz, r->n_members, 0));
		break;
	case GQ__GC_ERR_MEMBER_ID_REQUIRED:
		snprintf(cl->id, IDLEN, "%s", r->member_id);
		remember_id(sm, cl->id, q->client);
		cl->need_join = true;
		break;
	case GQ__GC_ERR_UNKNOWN_MEMBER_ID:
	case GQ__GC_ERR_FENCED_INSTANCE_ID:
		reset_member(cl);
		break;
	case GQ__GC_ERR_REBALANCE_IN_PROGRESS:
	case GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE:
		cl->need_join = true;
		break;
	default:
		cr_assert(false, "unexpected join error %d", r->error);
	}
}

static void
sim_on_sync(void *arg, int16_t error, const uint8_t *data, size_t len)
{
	struct rq *q = arg;
	struct sim *sm = q->sim;
	struct client *cl = &sm->c[q->client];
	char want[64];

	cr_assert(eq(int, q->calls, 0), "sync callback ran twice");
	q->calls++;
	if (error == GQ__GC_ERR_NONE) {
		/* Each member gets exactly the bytes the leader meant for
		 * its client in that generation. */
		snprintf(want, sizeof(want), "%d:c%d", q->gen, q->client);
		cr_assert(eq(sz, len, strlen(want)));
		cr_assert(eq(int, memcmp(data, want, len), 0));
		sm->syncs_ok++;
	}
	if (q->incarnation != cl->incarnation)
		return;
	cl->syncing = false;
	switch (error) {
	case GQ__GC_ERR_NONE:
		break;
	case GQ__GC_ERR_UNKNOWN_MEMBER_ID:
	case GQ__GC_ERR_FENCED_INSTANCE_ID:
		reset_member(cl);
		break;
	case GQ__GC_ERR_REBALANCE_IN_PROGRESS:
	case GQ__GC_ERR_ILLEGAL_GENERATION:
	case GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE:
		cl->need_join = true;
		break;
	default:
		cr_assert(false, "unexpected sync error %d", error);
	}
}

static const struct gq__gc_protocol sim_protos[3][2] = {
	{ { "range", (const uint8_t *)"a", 1 },
	  { "roundrobin", (const uint8_t *)"b", 1 } },
	{ { "roundrobin", (const uint8_t *)"c", 1 },
	  { "range", (const uint8_t *)"d", 1 } },
	{ { "roundrobin", (const uint8_t *)"e", 1 },
	  { "sticky", (const uint8_t *)"f", 1 } },
};

static void
sim_join(struct sim *sm, int c)
{
	struct client *cl = &sm->c[c];
	struct gq__gc_join_req r;
	char client_id[16];

	snprintf(client_id, sizeof(client_id), "cl%d", c);
	r = req(gnames[grp(c)], cl->id);
	r.client_id = client_id;
	r.group_instance_id = inst(c);
	r.api_version = c % 3 == 0 ? 3 : 5;
	r.session_timeout_ms = 6000 + 1000 * (c % 4);
	r.rebalance_timeout_ms = 8000 + 2000 * (c % 3);
	r.protocols = sim_protos[cl->meta % 3];
	cl->joining = true;
	gq__gcoord_join(sm->gc, &r, sm->now, sim_on_join, new_rq(sm, c));
}

static void
sim_sync(struct sim *sm, int c)
{
	struct gq__gc_assignment as[NC];
	struct client *cl = &sm->c[c];
	char data[NC][32];
	struct rq *q;
	size_t n = 0;
	size_t i;
	int owner;

	if (cl->leader) {
		for (i = 0; i < cl->n_members; i++) {
			owner = client_of(sm, cl->members[i]);
			cr_assert(ge(int, owner, 0));
			snprintf(data[n], sizeof(data[n]), "%d:c%d", cl->gen,
				 owner);
			as[n].member_id = cl->members[i];
			as[n].data = (const uint8_t *)data[n];
			as[n].len = strlen(data[n]);
			n++;
		}
	}
	cl->need_sync = false;
	cl->syncing = true;
	cl->sync_gen = cl->gen;
	q = new_rq(sm, c);
	q->gen = cl->gen;
	gq__gcoord_sync(sm->gc, gnames[grp(c)], cl->gen, cl->id, inst(c), n, as,
			sm->now, sim_on_sync, q);
}

static void
sim_heartbeat(struct sim *sm, int c)
{
	struct client *cl = &sm->c[c];
	int16_t err;

	err = gq__gcoord_heartbeat(sm->gc, gnames[grp(c)], cl->gen, cl->id,
				   sm->now);
	switch (err) {
	case GQ__GC_ERR_NONE:
		break;
	case GQ__GC_ERR_UNKNOWN_MEMBER_ID:
	case GQ__GC_ERR_FENCED_INSTANCE_ID:
		reset_member(cl);
		break;
	case GQ__GC_ERR_REBALANCE_IN_PROGRESS:
	case GQ__GC_ERR_ILLEGAL_GENERATION:
		cl->need_join = true;
		break;
	default:
		cr_assert(false, "unexpected heartbeat error %d", err);
	}
}

/* The client's next move: whatever it would do, or a random mishap. */
static void
sim_client(struct sim *sm, int c)
{
	struct client *cl = &sm->c[c];
	uint64_t x;
	int16_t err;

	x = rnd(&sm->rng) % 100;
	if (cl->crashed) {
		if (x < 20) {
			/* Restart: a new incarnation, outstanding requests
			 * of the old one still have to complete. */
			cl->incarnation++;
			cl->crashed = false;
			cl->joining = cl->syncing = false;
			reset_member(cl);
		}
		return;
	}
	if (cl->joining || cl->syncing)
		return; /* blocked on the coordinator connection */
	if (x < 2) {
		cl->crashed = true;
		return;
	}
	if (x < 4 && cl->id[0] != '\0') {
		err = gq__gcoord_leave(sm->gc, gnames[grp(c)], cl->id, sm->now);
		cr_assert(err == GQ__GC_ERR_NONE ||
			  err == GQ__GC_ERR_UNKNOWN_MEMBER_ID ||
			  err == GQ__GC_ERR_FENCED_INSTANCE_ID);
		reset_member(cl);
		return;
	}
	if (x < 6 && cl->gen > 0) {
		cl->meta++;
		cl->need_join = true;
	}
	if (x < 9) {
		err = gq__gcoord_check_commit(sm->gc, gnames[grp(c)], cl->gen,
					      cl->id, sm->now);
		cr_assert(err == GQ__GC_ERR_NONE ||
			  err == GQ__GC_ERR_UNKNOWN_MEMBER_ID ||
			  err == GQ__GC_ERR_ILLEGAL_GENERATION ||
			  err == GQ__GC_ERR_REBALANCE_IN_PROGRESS ||
			  err == GQ__GC_ERR_FENCED_INSTANCE_ID);
		return;
	}
	if (cl->need_join)
		sim_join(sm, c);
	else if (cl->need_sync)
		sim_sync(sm, c);
	else if (x < 60)
		sim_heartbeat(sm, c);
}

/* Invariants over the coordinator's own view. */
static void
sim_check(struct sim *sm)
{
	struct gq__gc_group_info info;
	const char *seen[64];
	size_t nseen = 0;
	size_t i;
	size_t k;
	int g;
	int c;
	char want[64];

	for (g = 0; g < 2; g++) {
		cr_assert(eq(i16, gq__gcoord_describe(sm->gc, gnames[g], &info),
			     0));
		cr_assert(ge(i32, info.generation, sm->gen_seen[g]));
		sm->gen_seen[g] = info.generation;
		for (i = 0; i < info.n_members; i++) {
			for (k = 0; k < nseen; k++)
				cr_assert(
					ne(str, (char *)seen[k],
					   (char *)info.members[i].member_id));
			cr_assert(lt(sz, nseen, 64));
			seen[nseen++] = info.members[i].member_id;
			/* Ids of members still parked in their first
			 * JoinGroup are not known to any client yet. */
			c = client_of(sm, info.members[i].member_id);
			if (c >= 0)
				cr_assert(eq(int, grp(c), g));
		}
		if (strcmp(info.state, "Stable") != 0)
			continue;
		sm->stable_seen++;
		for (i = 0; i < info.n_members; i++) {
			/* Every member of a Stable generation was given
			 * its assignment. */
			c = client_of(sm, info.members[i].member_id);
			cr_assert(ge(int, c, 0));
			snprintf(want, sizeof(want), "%d:c%d", info.generation,
				 c);
			cr_assert(eq(sz, info.members[i].assignment_len,
				     strlen(want)));
			cr_assert(eq(int,
				     memcmp(info.members[i].assignment, want,
					    strlen(want)),
				     0));
		}
		/* No SyncGroup of this generation is still parked. */
		for (c = 0; c < NC; c++)
			if (grp(c) == g && sm->c[c].syncing)
				cr_assert(ne(i32, sm->c[c].sync_gen,
					     info.generation));
	}
}

static void
run_random(uint64_t seed, bool faults)
{
	struct sim *sm;
	int64_t next;
	int step;
	int i;

	sm = calloc(1, sizeof(*sm));
	sm->rq = calloc(MAXREQ, sizeof(*sm->rq));
	sm->ids = calloc(MAXIDS, sizeof(*sm->ids));
	cr_assert(sm != NULL && sm->rq != NULL && sm->ids != NULL);
	memset(&gqt_fh, 0, sizeof(gqt_fh));
	gqt_fh.fail_at = -1;
	cr_assert(eq(int, gq_heap_set(&gqt_failing_heap), 0));
	sm->gc = mk(DELAY);
	if (faults)
		gqt_fh.rng = seed * 31 + 7;
	sm->rng = seed;
	sm->now = T0;
	for (i = 0; i < NC; i++)
		reset_member(&sm->c[i]);
	for (step = 0; step < NSTEPS; step++) {
		if (rnd(&sm->rng) % 4 == 0) {
			sm->now += (int64_t)(rnd(&sm->rng) % 1500);
			next = gq__gcoord_tick(sm->gc, sm->now);
			cr_assert(next == -1 || next > sm->now,
				  "step %d next %ld now %ld", step, (long)next,
				  (long)sm->now);
		}
		sim_client(sm, (int)(rnd(&sm->rng) % NC));
		sim_check(sm);
	}
	gqt_fh.rng = 0;
	gq__gcoord_destroy(sm->gc);
	cr_assert(eq(int, gq_heap_set(NULL), 0));
	cr_assert(eq(long, gqt_fh.live, 0));
	/* Exactly one callback per request, even across destroy. */
	for (i = 0; i < sm->nrq; i++)
		cr_assert(eq(int, sm->rq[i].calls, 1), "request %d", i);
	/* The run did exercise the interesting paths. */
	cr_assert(gt(long, sm->completions, 20));
	cr_assert(gt(long, sm->stable_seen, 100));
	cr_assert(gt(long, sm->syncs_ok, 20));
	if (faults)
		cr_assert(gt(long, gqt_fh.failed, 10));
	free(sm->ids);
	free(sm->rq);
	free(sm);
}

/* 10,000 seeded random steps of 8 clients in two groups (joining,
 * syncing, heartbeating, committing, leaving, changing metadata, crashing
 * and restarting, static members among them) keep every invariant:
 * exactly one callback per request, unique member ids, assignments
 * delivered to every member of a Stable generation, generations that only
 * grow. */
Test(gcoord, randomized)
{
	run_random(0x5eed, false);
	run_random(0xc0ffee, false);
}

/* The same with 1 allocation in 16 failing at random: the invariants
 * hold and nothing leaks. */
Test(gcoord, randomized_alloc_failures)
{
	run_random(0xfa11, true);
}
