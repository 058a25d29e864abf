/* SPDX-License-Identifier: MIT */
/*
 * test_groups.c - the group coordinator of a single node through the
 * public API: joins and rebalances, assignments, heartbeats, sessions,
 * leaving, commits checked against generations, offsets, lag, describe
 * and list, and what survives a restart.
 */
#include <criterion/criterion.h>
#include <goqueue.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../lib/fixture.h"

static const char *dir;
static struct gq_node *node;

static void
setup(void)
{
	dir = gqt_node_setup(&node);
}

TestSuite(groups, .init = setup, .fini = gqt_node_teardown, .timeout = 60);

/* Short sessions and no initial delay, so rebalances are quick. */
static void
open_node(void)
{
	struct gq_config *cfg;

	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(
		gq_config_set(cfg, "group_min_session_timeout", "100ms", NULL),
		0);
	cr_assert_eq(
		gq_config_set(cfg, "group_initial_rebalance_delay", "0", NULL),
		0);
	cr_assert_eq(gq_node_open(dir, cfg, &node), 0, "%s",
		     gq_node_errmsg(NULL));
	gq_config_destroy(cfg);
}

/* What a callback reported, copied, and a flag to wait on. */
struct call {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int status;
	int32_t generation;
	char member_id[256];
	char leader[256];
	char protocol[64];
	size_t n_members;
	char assignment[64];
};

static void
call_init(struct call *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
}

static void
call_finish(struct call *c, int status)
{
	pthread_mutex_lock(&c->mu);
	c->status = status;
	c->done = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* Wait for the callback; returns its status. */
static int
call_wait(struct call *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&c->mu);
	while (!c->done)
		cr_assert_eq(pthread_cond_timedwait(&c->cv, &c->mu, &ts), 0,
			     "no answer");
	pthread_mutex_unlock(&c->mu);
	return c->status;
}

static bool
call_done(struct call *c)
{
	bool d;

	pthread_mutex_lock(&c->mu);
	d = c->done;
	pthread_mutex_unlock(&c->mu);
	return d;
}

static void
on_join(void *arg, int status, const struct gq_group_joined *j)
{
	struct call *c = arg;

	c->generation = j->generation;
	snprintf(c->member_id, sizeof(c->member_id), "%s", j->member_id);
	snprintf(c->leader, sizeof(c->leader), "%s", j->leader);
	snprintf(c->protocol, sizeof(c->protocol), "%s",
		 j->protocol != NULL ? j->protocol : "");
	c->n_members = j->n_members;
	call_finish(c, status);
}

static void
on_sync(void *arg, int status, const void *assignment, size_t len)
{
	struct call *c = arg;

	snprintf(c->assignment, sizeof(c->assignment), "%.*s", (int)len,
		 assignment != NULL ? (const char *)assignment : "");
	call_finish(c, status);
}

static void
on_done(void *arg, int status, const char *errmsg)
{
	(void)errmsg;
	call_finish(arg, status);
}

static void
on_commit(void *arg, int status, struct gq_group_offset *o, size_t n)
{
	(void)o;
	(void)n;
	call_finish(arg, status);
}

/* Start a join of @member_id ("" for a new member) to group "g". */
static void
join_start(struct call *c, const char *member_id, int32_t session_ms)
{
	struct gq_group_protocol proto = { "range", "meta", 4 };
	struct gq_group_join j;

	memset(&j, 0, sizeof(j));
	j.group = "g";
	j.member_id = member_id;
	j.client_id = "test";
	j.client_host = "/127.0.0.1";
	j.protocol_type = "consumer";
	j.session_timeout_ms = session_ms;
	j.rebalance_timeout_ms = 10000;
	j.require_member_id = true;
	j.n_protocols = 1;
	j.protocols = &proto;
	call_init(c);
	cr_assert_eq(gq_group_join_async(node, &j, on_join, c), 0);
}

/* A new member: MEMBER_ID_REQUIRED first, then the join proper starts. */
static void
join_new(struct call *c, int32_t session_ms)
{
	char id[256];

	join_start(c, "", session_ms);
	cr_assert_eq(call_wait(c), GQ_EMEMBERID);
	cr_assert_neq(c->member_id[0], '\0');
	snprintf(id, sizeof(id), "%s", c->member_id);
	join_start(c, id, session_ms);
}

static int
heartbeat(const char *member_id, int32_t generation)
{
	struct call c;

	call_init(&c);
	cr_assert_eq(gq_group_heartbeat_async(node, "g", generation, member_id,
					      on_done, &c),
		     0);
	return call_wait(&c);
}

static void
sync_start(struct call *c, const char *member_id, int32_t generation, size_t n,
	   const struct gq_group_assignment *a)
{
	call_init(c);
	cr_assert_eq(gq_group_sync_async(node, "g", generation, member_id, NULL,
					 n, a, on_sync, c),
		     0);
}

static int
commit(const char *member_id, int32_t generation, struct gq_group_offset *o,
       size_t n)
{
	struct call c;

	call_init(&c);
	cr_assert_eq(gq_group_commit_async(node, "g", generation, member_id, o,
					   n, on_commit, &c),
		     0);
	return call_wait(&c);
}

/* One member joins, gets its assignment, heartbeats; describe and list
 * show it. */
Test(groups, one_member)
{
	struct call j, s;
	struct gq_group_assignment a;
	struct gq_group_info *info, *all;
	size_t n;
	int32_t coord;

	open_node();
	cr_assert_eq(gq_group_coordinator(node, "g", &coord), 0);
	cr_assert_eq(coord, gq_node_id(node));
	join_new(&j, 1000);
	cr_assert_eq(call_wait(&j), 0);
	cr_assert_eq(j.generation, 1);
	cr_assert_str_eq(j.leader, j.member_id);
	cr_assert_str_eq(j.protocol, "range");
	cr_assert_eq(j.n_members, 1);
	a.member_id = j.member_id;
	a.data = "p0,p1";
	a.len = 5;
	sync_start(&s, j.member_id, 1, 1, &a);
	cr_assert_eq(call_wait(&s), 0);
	cr_assert_str_eq(s.assignment, "p0,p1");
	cr_assert_eq(heartbeat(j.member_id, 1), 0);
	cr_assert_eq(heartbeat(j.member_id, 7), GQ_EGENERATION);
	cr_assert_eq(heartbeat("nobody", 1), GQ_EMEMBER);

	cr_assert_eq(gq_group_describe(node, "g", &info), 0);
	cr_assert_str_eq(info->state, "Stable");
	cr_assert_str_eq(info->protocol_type, "consumer");
	cr_assert_str_eq(info->protocol, "range");
	cr_assert_eq(info->generation, 1);
	cr_assert_eq(info->n_members, 1);
	cr_assert_str_eq(info->members[0].member_id, j.member_id);
	cr_assert_str_eq(info->members[0].client_host, "/127.0.0.1");
	cr_assert_eq(info->members[0].assignment_len, 5);
	cr_assert_eq(memcmp(info->members[0].assignment, "p0,p1", 5), 0);
	gq_group_info_destroy(info);
	cr_assert_eq(gq_group_describe(node, "other", &info), 0);
	cr_assert_str_eq(info->state, "Dead");
	gq_group_info_destroy(info);

	cr_assert_eq(gq_group_list(node, &all, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(all[0].group, "g");
	cr_assert_str_eq(all[0].state, "Stable");
	cr_assert_eq(all[0].n_members, 1);
	gq_group_list_free(all, n);
}

/* A second member makes the group rebalance: the first learns it from
 * its heartbeat, both rejoin into generation 2, the follower's SyncGroup
 * waits for the leader's, and each gets its own share. */
Test(groups, second_member_rebalances)
{
	struct call a, b, sa, sb;
	struct gq_group_assignment as[2];
	char ida[256], idb[256];

	open_node();
	join_new(&a, 1000);
	cr_assert_eq(call_wait(&a), 0);
	snprintf(ida, sizeof(ida), "%s", a.member_id);
	as[0] = (struct gq_group_assignment){ ida, "all", 3 };
	sync_start(&sa, ida, 1, 1, as);
	cr_assert_eq(call_wait(&sa), 0);

	join_new(&b, 1000);
	usleep(50 * 1000);
	cr_assert(!call_done(&b), "the join waits for the rebalance");
	cr_assert_eq(heartbeat(ida, 1), GQ_EREBALANCE);
	join_start(&a, ida, 1000);
	cr_assert_eq(call_wait(&a), 0);
	cr_assert_eq(call_wait(&b), 0);
	snprintf(idb, sizeof(idb), "%s", b.member_id);
	cr_assert_eq(a.generation, 2);
	cr_assert_eq(b.generation, 2);
	cr_assert_str_eq(a.leader, ida);
	cr_assert_str_eq(b.leader, ida);
	cr_assert_eq(a.n_members, 2, "the leader gets the member list");
	cr_assert_eq(b.n_members, 0);

	sync_start(&sb, idb, 2, 0, NULL);
	usleep(50 * 1000);
	cr_assert(!call_done(&sb), "a follower waits for the leader");
	as[0] = (struct gq_group_assignment){ ida, "even", 4 };
	as[1] = (struct gq_group_assignment){ idb, "odd", 3 };
	sync_start(&sa, ida, 2, 2, as);
	cr_assert_eq(call_wait(&sa), 0);
	cr_assert_eq(call_wait(&sb), 0);
	cr_assert_str_eq(sa.assignment, "even");
	cr_assert_str_eq(sb.assignment, "odd");
	cr_assert_eq(heartbeat(ida, 2), 0);
	cr_assert_eq(heartbeat(idb, 2), 0);
}

/* A member that leaves, or stops heartbeating past its session, makes
 * the group rebalance without it. */
Test(groups, leave_and_session_expiry)
{
	struct call a, b, l, sa;
	struct gq_group_assignment as;
	char ida[256], idb[256];

	open_node();
	join_new(&a, 300);
	cr_assert_eq(call_wait(&a), 0);
	snprintf(ida, sizeof(ida), "%s", a.member_id);
	join_new(&b, 300);
	cr_assert_eq(heartbeat(ida, 1), GQ_EREBALANCE);
	join_start(&a, ida, 300);
	cr_assert_eq(call_wait(&a), 0);
	cr_assert_eq(call_wait(&b), 0);
	snprintf(idb, sizeof(idb), "%s", b.member_id);
	as = (struct gq_group_assignment){ ida, "x", 1 };
	sync_start(&sa, ida, 2, 1, &as);
	cr_assert_eq(call_wait(&sa), 0);

	/* b goes silent; a keeps its session alive. */
	for (int i = 0; i < 10 && heartbeat(ida, 2) == 0; i++)
		usleep(100 * 1000);
	cr_assert_eq(heartbeat(ida, 2), GQ_EREBALANCE, "b's session expired");
	join_start(&a, ida, 300);
	cr_assert_eq(call_wait(&a), 0);
	cr_assert_eq(a.generation, 3);
	cr_assert_eq(a.n_members, 1);
	cr_assert_eq(heartbeat(idb, 3), GQ_EMEMBER);

	call_init(&l);
	cr_assert_eq(gq_group_leave_async(node, "g", ida, on_done, &l), 0);
	cr_assert_eq(call_wait(&l), 0);
	call_init(&l);
	cr_assert_eq(gq_group_leave_async(node, "g", ida, on_done, &l), 0);
	cr_assert_eq(call_wait(&l), GQ_EMEMBER);
}

/* Commits are checked against the member and generation; offsets are
 * read back, per partition errors reported, lag computed, and all of it
 * survives a restart. */
Test(groups, commits_offsets_and_lag)
{
	struct call a, s;
	struct gq_group_assignment as;
	struct gq_group_offset o[3], f[2];
	struct gq_group_lag *lags;
	struct gq_msg m = { .value = "v", .value_len = 1 };
	gq_offset off;
	size_t n;
	char id[256];

	open_node();
	cr_assert_eq(gq_topic_create(node, "t", 2, 1, NULL), 0);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(gq_produce(node, "t", 0, &m, 1, NULL, NULL), 0);
	join_new(&a, 1000);
	cr_assert_eq(call_wait(&a), 0);
	snprintf(id, sizeof(id), "%s", a.member_id);
	as = (struct gq_group_assignment){ id, "t", 1 };
	sync_start(&s, id, 1, 1, &as);
	cr_assert_eq(call_wait(&s), 0);

	memset(o, 0, sizeof(o));
	o[0] = (struct gq_group_offset){
		.topic = "t", .partition = 0, .offset = 4, .metadata = "m"
	};
	o[1] = (struct gq_group_offset){ .topic = "t",
					 .partition = 5,
					 .offset = 1 };
	o[2] = (struct gq_group_offset){ .topic = "nope",
					 .partition = 0,
					 .offset = 1 };
	cr_assert_eq(commit(id, 1, o, 3), 0);
	cr_assert_eq(o[0].status, 0);
	cr_assert_eq(o[1].status, GQ_ENOPARTITION);
	cr_assert_eq(o[2].status, GQ_ENOTOPIC);
	cr_assert_eq(commit(id, 0, o, 1), GQ_EGENERATION);
	cr_assert_eq(o[0].status, GQ_EGENERATION);
	cr_assert_eq(commit("stranger", 1, o, 1), GQ_EMEMBER);

	f[0] = (struct gq_group_offset){ .topic = "t", .partition = 0 };
	f[1] = (struct gq_group_offset){ .topic = "t", .partition = 1 };
	cr_assert_eq(gq_group_offsets(node, "g", f, 2), 0);
	cr_assert_eq(f[0].status, 0);
	cr_assert_eq(f[0].offset, 4);
	cr_assert_eq(f[1].offset, -1, "never committed");
	cr_assert_eq(gq_group_fetch_offset(node, "g", "t", 0, &off), 0);
	cr_assert_eq(off, 4);

	cr_assert_eq(gq_group_lags(node, "g", &lags, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(lags[0].topic, "t");
	cr_assert_eq(lags[0].partition, 0);
	cr_assert_eq(lags[0].committed, 4);
	cr_assert_eq(lags[0].high_watermark, 10);
	cr_assert_eq(lags[0].lag, 6);
	gq_group_lag_free(lags);

	/* Offsets and the settled group survive a restart: the member
	 * carries on in its generation. */
	gq_node_close(node);
	node = NULL;
	open_node();
	f[0].offset = -7;
	cr_assert_eq(gq_group_offsets(node, "g", f, 1), 0);
	cr_assert_eq(f[0].offset, 4);
	cr_assert_eq(heartbeat(id, 1), 0);
	cr_assert_eq(heartbeat(id, 2), GQ_EGENERATION);
	o[0].offset = 9;
	cr_assert_eq(commit("", -1, o, 1), GQ_EMEMBER, "members own it");
	/* Once it left, the group is Empty and takes simple commits. */
	{
		struct call l;

		call_init(&l);
		cr_assert_eq(gq_group_leave_async(node, "g", id, on_done, &l),
			     0);
		cr_assert_eq(call_wait(&l), 0);
	}
	cr_assert_eq(commit("", -1, o, 1), 0);
	cr_assert_eq(gq_group_offsets(node, "g", f, 1), 0);
	cr_assert_eq(f[0].offset, 9);
}

/* Bad arguments are refused before anything is queued. */
Test(groups, bad_input)
{
	struct gq_group_join j;
	struct gq_group_protocol p = { NULL, NULL, 0 };
	struct gq_group_info *info;
	int32_t coord;

	open_node();
	memset(&j, 0, sizeof(j));
	j.group = "g";
	cr_assert_eq(gq_group_join_async(node, &j, NULL, NULL), GQ_EINVAL);
	j.group = "";
	cr_assert_eq(gq_group_join_async(node, &j, on_join, NULL), GQ_EBADNAME);
	j.group = "bad\ngroup";
	cr_assert_eq(gq_group_join_async(node, &j, on_join, NULL), GQ_EBADNAME);
	j.group = "g";
	j.n_protocols = 1;
	j.protocols = &p;
	cr_assert_eq(gq_group_join_async(node, &j, on_join, NULL), GQ_EINVAL);
	cr_assert_eq(gq_group_coordinator(node, "", &coord), GQ_EBADNAME);
	cr_assert_eq(gq_group_describe(node, NULL, &info), GQ_EBADNAME);
	cr_assert_eq(gq_group_heartbeat_async(node, "g", 1, "m", NULL, NULL),
		     GQ_EINVAL);
	/* A group id may hold characters a topic name may not. */
	cr_assert_eq(gq_group_coordinator(node, "app:consumers 1", &coord), 0);
}

/* Closing the node answers a parked join. */
Test(groups, close_answers_parked_calls)
{
	struct call a, b;

	open_node();
	join_new(&a, 1000);
	cr_assert_eq(call_wait(&a), 0);
	join_new(&b, 1000);
	usleep(50 * 1000);
	cr_assert(!call_done(&b));
	gq_node_close(node);
	node = NULL;
	cr_assert_eq(call_wait(&b), GQ_ECLOSED);
}
