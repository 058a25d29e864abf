/* SPDX-License-Identifier: MIT */
/*
 * test_groups.c - the group coordinator of a single node through the
 * public API: joins and rebalances, assignments, heartbeats, sessions,
 * leaving, commits checked against generations, offsets, lag, describe
 * and list, and what survives a restart.
 */
#include <criterion/criterion.h>
#include <goqueue.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../lib/fixture.h"
#include "../lib/gcall.h"

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
	static const char *const kv[] = { "group_min_session_timeout", "100ms",
					  "group_initial_rebalance_delay", "0",
					  NULL };

	gqt_open_with(&node, kv);
}

/* One member joins, gets its assignment, heartbeats; describe and list
 * show it. */
Test(groups, one_member)
{
	struct gqt_call j, s;
	struct gq_group_assignment a;
	struct gq_group_info *info, *all;
	size_t n;
	int32_t coord;

	open_node();
	cr_assert_eq(gq_group_coordinator(node, "g", &coord), 0);
	cr_assert_eq(coord, gq_node_id(node));
	gqt_join_new(node, &j, "g", 1000);
	cr_assert_eq(gqt_call_wait(&j), 0);
	cr_assert_eq(j.generation, 1);
	cr_assert_str_eq(j.leader, j.member_id);
	cr_assert_str_eq(j.protocol, "range");
	cr_assert_eq(j.n_members, 1);
	a.member_id = j.member_id;
	a.data = "p0,p1";
	a.len = 5;
	gqt_sync_start(node, &s, "g", j.member_id, 1, 1, &a);
	cr_assert_eq(gqt_call_wait(&s), 0);
	cr_assert_str_eq(s.assignment, "p0,p1");
	cr_assert_eq(gqt_heartbeat(node, "g", j.member_id, 1), 0);
	cr_assert_eq(gqt_heartbeat(node, "g", j.member_id, 7), GQ_EGENERATION);
	cr_assert_eq(gqt_heartbeat(node, "g", "nobody", 1), GQ_EMEMBER);

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
	struct gqt_call a, b, sa, sb;
	struct gq_group_assignment as[2];
	char ida[256], idb[256];

	open_node();
	gqt_join_new(node, &a, "g", 1000);
	cr_assert_eq(gqt_call_wait(&a), 0);
	snprintf(ida, sizeof(ida), "%s", a.member_id);
	as[0] = (struct gq_group_assignment){ ida, "all", 3 };
	gqt_sync_start(node, &sa, "g", ida, 1, 1, as);
	cr_assert_eq(gqt_call_wait(&sa), 0);

	gqt_join_new(node, &b, "g", 1000);
	usleep(50 * 1000);
	cr_assert(!gqt_call_done(&b), "the join waits for the rebalance");
	cr_assert_eq(gqt_heartbeat(node, "g", ida, 1), GQ_EREBALANCE);
	gqt_join_start(node, &a, "g", ida, 1000);
	cr_assert_eq(gqt_call_wait(&a), 0);
	cr_assert_eq(gqt_call_wait(&b), 0);
	snprintf(idb, sizeof(idb), "%s", b.member_id);
	cr_assert_eq(a.generation, 2);
	cr_assert_eq(b.generation, 2);
	cr_assert_str_eq(a.leader, ida);
	cr_assert_str_eq(b.leader, ida);
	cr_assert_eq(a.n_members, 2, "the leader gets the member list");
	cr_assert_eq(b.n_members, 0);

	gqt_sync_start(node, &sb, "g", idb, 2, 0, NULL);
	usleep(50 * 1000);
	cr_assert(!gqt_call_done(&sb), "a follower waits for the leader");
	as[0] = (struct gq_group_assignment){ ida, "even", 4 };
	as[1] = (struct gq_group_assignment){ idb, "odd", 3 };
	gqt_sync_start(node, &sa, "g", ida, 2, 2, as);
	cr_assert_eq(gqt_call_wait(&sa), 0);
	cr_assert_eq(gqt_call_wait(&sb), 0);
	cr_assert_str_eq(sa.assignment, "even");
	cr_assert_str_eq(sb.assignment, "odd");
	cr_assert_eq(gqt_heartbeat(node, "g", ida, 2), 0);
	cr_assert_eq(gqt_heartbeat(node, "g", idb, 2), 0);
}

/* A member that leaves, or stops heartbeating past its session, makes
 * the group rebalance without it. */
Test(groups, leave_and_session_expiry)
{
	struct gqt_call a, b, sa;
	struct gq_group_assignment as;
	char ida[256], idb[256];

	open_node();
	gqt_join_new(node, &a, "g", 300);
	cr_assert_eq(gqt_call_wait(&a), 0);
	snprintf(ida, sizeof(ida), "%s", a.member_id);
	gqt_join_new(node, &b, "g", 300);
	cr_assert_eq(gqt_heartbeat(node, "g", ida, 1), GQ_EREBALANCE);
	gqt_join_start(node, &a, "g", ida, 300);
	cr_assert_eq(gqt_call_wait(&a), 0);
	cr_assert_eq(gqt_call_wait(&b), 0);
	snprintf(idb, sizeof(idb), "%s", b.member_id);
	as = (struct gq_group_assignment){ ida, "x", 1 };
	gqt_sync_start(node, &sa, "g", ida, 2, 1, &as);
	cr_assert_eq(gqt_call_wait(&sa), 0);

	/* b goes silent; a keeps its session alive. */
	for (int i = 0; i < 10 && gqt_heartbeat(node, "g", ida, 2) == 0; i++)
		usleep(100 * 1000);
	cr_assert_eq(gqt_heartbeat(node, "g", ida, 2), GQ_EREBALANCE,
		     "b's session expired");
	gqt_join_start(node, &a, "g", ida, 300);
	cr_assert_eq(gqt_call_wait(&a), 0);
	cr_assert_eq(a.generation, 3);
	cr_assert_eq(a.n_members, 1);
	cr_assert_eq(gqt_heartbeat(node, "g", idb, 3), GQ_EMEMBER);

	cr_assert_eq(gqt_leave(node, "g", ida), 0);
	cr_assert_eq(gqt_leave(node, "g", ida), GQ_EMEMBER);
}

/* Commits are checked against the member and generation; offsets are
 * read back, per partition errors reported, lag computed, and all of it
 * survives a restart. */
Test(groups, commits_offsets_and_lag)
{
	struct gqt_call a, s;
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
	gqt_join_new(node, &a, "g", 1000);
	cr_assert_eq(gqt_call_wait(&a), 0);
	snprintf(id, sizeof(id), "%s", a.member_id);
	as = (struct gq_group_assignment){ id, "t", 1 };
	gqt_sync_start(node, &s, "g", id, 1, 1, &as);
	cr_assert_eq(gqt_call_wait(&s), 0);

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
	cr_assert_eq(gqt_commit(node, "g", id, 1, o, 3), 0);
	cr_assert_eq(o[0].status, 0);
	cr_assert_eq(o[1].status, GQ_ENOPARTITION);
	cr_assert_eq(o[2].status, GQ_ENOTOPIC);
	cr_assert_eq(gqt_commit(node, "g", id, 0, o, 1), GQ_EGENERATION);
	cr_assert_eq(o[0].status, GQ_EGENERATION);
	cr_assert_eq(gqt_commit(node, "g", "stranger", 1, o, 1), GQ_EMEMBER);

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
	cr_assert_eq(gqt_heartbeat(node, "g", id, 1), 0);
	cr_assert_eq(gqt_heartbeat(node, "g", id, 2), GQ_EGENERATION);
	o[0].offset = 9;
	cr_assert_eq(gqt_commit(node, "g", "", -1, o, 1), GQ_EMEMBER,
		     "members own it");
	/* Once it left, the group is Empty and takes simple commits. */
	cr_assert_eq(gqt_leave(node, "g", id), 0);
	cr_assert_eq(gqt_commit(node, "g", "", -1, o, 1), 0);
	cr_assert_eq(gq_group_offsets(node, "g", f, 1), 0);
	cr_assert_eq(f[0].offset, 9);
}

static void
on_join_unused(void *arg, int status, const struct gq_group_joined *j)
{
	(void)arg;
	(void)status;
	(void)j;
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
	cr_assert_eq(gq_group_join_async(node, &j, on_join_unused, NULL),
		     GQ_EBADNAME);
	j.group = "bad\ngroup";
	cr_assert_eq(gq_group_join_async(node, &j, on_join_unused, NULL),
		     GQ_EBADNAME);
	j.group = "g";
	j.n_protocols = 1;
	j.protocols = &p;
	cr_assert_eq(gq_group_join_async(node, &j, on_join_unused, NULL),
		     GQ_EINVAL);
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
	struct gqt_call a, b;

	open_node();
	gqt_join_new(node, &a, "g", 1000);
	cr_assert_eq(gqt_call_wait(&a), 0);
	gqt_join_new(node, &b, "g", 1000);
	usleep(50 * 1000);
	cr_assert(!gqt_call_done(&b));
	gq_node_close(node);
	node = NULL;
	cr_assert_eq(gqt_call_wait(&b), GQ_ECLOSED);
}

/* A group that only commits offsets (its consumers assign partitions
 * themselves) is listed and described as Empty, as Kafka does, after the
 * groups that have members; one with nothing stored stays Dead. */
Test(groups, offsets_only_group)
{
	struct gq_group_info *info, *all;
	struct gqt_call a;
	size_t n;

	open_node();
	cr_assert_eq(gq_topic_create(node, "t", 1, 1, NULL), 0);
	cr_assert_eq(gq_group_commit(node, "solo", "t", 0, 4, NULL), 0);
	cr_assert_eq(gq_group_commit(node, "solo", "t", 0, 5, NULL), 0);
	gqt_join_new(node, &a, "joined", 1000);
	cr_assert_eq(gqt_call_wait(&a), 0);

	cr_assert_eq(gq_group_describe(node, "solo", &info), 0);
	cr_assert_str_eq(info->state, "Empty");
	cr_assert_str_eq(info->protocol_type, "");
	cr_assert_eq(info->n_members, 0);
	gq_group_info_destroy(info);
	cr_assert_eq(gq_group_describe(node, "sol", &info), 0);
	cr_assert_str_eq(info->state, "Dead", "a prefix is another group");
	gq_group_info_destroy(info);

	cr_assert_eq(gq_group_list(node, &all, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(all[0].group, "joined");
	cr_assert_str_eq(all[1].group, "solo");
	cr_assert_str_eq(all[1].state, "Empty");
	cr_assert_eq(all[1].n_members, 0);
	gq_group_list_free(all, n);
}
