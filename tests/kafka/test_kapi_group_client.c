/* SPDX-License-Identifier: MIT */
/*
 * test_kapi_group_client.c - the client direction of the consumer group
 * APIs (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * OffsetCommit, OffsetFetch, DescribeGroups, ListGroups) and of the
 * consumer protocol payloads.
 *
 * As in test_kapi_client.c: for every version gqd serves, requests go
 * through gqk_request_encode() and gqk_request_decode(), responses
 * through gqk_response_encode() and gqk_response_decode(), and come back
 * field by field, with Kafka's defaults for absent fields; the per-API
 * functions are checked against the frame's body, and every response
 * frame passes the failure checks of kround.h.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kapi.h"
#include "kround.h"
#include "kwire.h"

TestSuite(kapi_group_client, .timeout = 60);

static const uint8_t blob[] = { 0, 1, 0, 0, 0, 1, 0, 2, 't', '1', 0xff };
#define BLOB_INIT                           \
	{                                   \
		blob, (int32_t)sizeof(blob) \
	}
#define BLOB ((struct gqk_bytes)BLOB_INIT)

/*
 * FindCoordinator
 */

static const struct gqk_find_coordinator_req coordinator_reqs[] = {
	{ STR_INIT("grp"), GQK_COORDINATOR_GROUP },
	{ STR_INIT("txn-1"), GQK_COORDINATOR_TRANSACTION },
};

static void
fill_find_coordinator_req(struct gqk_find_coordinator_req *m, int variant)
{
	*m = coordinator_reqs[variant];
}

static void
check_find_coordinator_req(int16_t v, const struct gqk_find_coordinator_req *in,
			   const struct gqk_find_coordinator_req *out)
{
	expect_str_eq(out->key, in->key);
	cr_assert(eq(i8, out->key_type, v >= 1 ? in->key_type : 0));
}

static const struct gqk_find_coordinator_resp coordinator_resps[] = {
	{ 3, 0, STR_NULL_INIT, 1, STR_INIT("broker-1"), 9092 },
	{ 0, GQK_ERR_COORDINATOR_NOT_AVAILABLE, STR_INIT("not available"), -1,
	  STR_INIT(""), -1 },
};

static void
fill_find_coordinator_resp(struct gqk_find_coordinator_resp *m, int variant)
{
	*m = coordinator_resps[variant];
}

static void
check_find_coordinator_resp(int16_t v,
			    const struct gqk_find_coordinator_resp *in,
			    const struct gqk_find_coordinator_resp *out)
{
	cr_assert(eq(i32, out->throttle_time_ms,
		     v >= 1 ? in->throttle_time_ms : 0));
	cr_assert(eq(i16, out->error_code, in->error_code));
	expect_str_eq(out->error_message,
		      v >= 1 ? in->error_message : GQK_STR_NULL);
	cr_assert(eq(i32, out->node_id, in->node_id));
	expect_str_eq(out->host, in->host);
	cr_assert(eq(i32, out->port, in->port));
}

/* FindCoordinator: every version, both directions. */
API_TRIP_TEST(kapi_group_client, find_coordinator, GQK_FIND_COORDINATOR, 2, 2)

/*
 * JoinGroup
 */

static const struct gqk_join_group_req_protocol protocols[] = {
	{ STR_INIT("range"), BLOB_INIT },
	{ STR_INIT("roundrobin"), { blob, 0 } },
};

static void
check_join_group_req(int16_t v, const struct gqk_join_group_req *in,
		     const struct gqk_join_group_req *out)
{
	int32_t i;

	expect_str_eq(out->group_id, in->group_id);
	cr_assert(eq(i32, out->session_timeout_ms, in->session_timeout_ms));
	cr_assert(
		eq(i32, out->rebalance_timeout_ms,
		   v >= 1 ? in->rebalance_timeout_ms : in->session_timeout_ms));
	expect_str_eq(out->member_id, in->member_id);
	expect_str_eq(out->group_instance_id,
		      v >= 5 ? in->group_instance_id : GQK_STR_NULL);
	expect_str_eq(out->protocol_type, in->protocol_type);
	cr_assert(
		eq(i32, out->n_protocols, sent_count(in->n_protocols, false)));
	for (i = 0; i < out->n_protocols; i++) {
		expect_str_eq(out->protocols[i].name, in->protocols[i].name);
		expect_bytes_eq(out->protocols[i].metadata,
				in->protocols[i].metadata);
	}
}

static const struct gqk_join_group_resp_member members[] = {
	{ STR_INIT("m1"), STR_NULL_INIT, BLOB_INIT },
	{ STR_INIT("m2"), STR_INIT("instance-2"), BYTES_NULL_INIT },
};

static void
check_join_group_resp(int16_t v, const struct gqk_join_group_resp *in,
		      const struct gqk_join_group_resp *out)
{
	int32_t i;

	cr_assert(eq(i32, out->throttle_time_ms,
		     v >= 2 ? in->throttle_time_ms : 0));
	cr_assert(eq(i16, out->error_code, in->error_code));
	cr_assert(eq(i32, out->generation_id, in->generation_id));
	expect_str_eq(out->protocol_name, in->protocol_name);
	expect_str_eq(out->leader, in->leader);
	expect_str_eq(out->member_id, in->member_id);
	cr_assert(eq(i32, out->n_members, sent_count(in->n_members, false)));
	for (i = 0; i < out->n_members; i++) {
		expect_str_eq(out->members[i].member_id,
			      in->members[i].member_id);
		expect_str_eq(out->members[i].group_instance_id,
			      v >= 5 ? in->members[i].group_instance_id
				     : GQK_STR_NULL);
		expect_nonnull_bytes_eq(out->members[i].metadata,
					in->members[i].metadata);
	}
}

static const struct gqk_join_group_req join_reqs[] = {
	{ STR_INIT("grp"), 10000, 300000, STR_INIT(""), STR_NULL_INIT,
	  STR_INIT("consumer"), 2,
	  (struct gqk_join_group_req_protocol *)protocols },
	{ STR_INIT("g"), 6000, -1, STR_INIT("member-1"), STR_INIT("instance-1"),
	  STR_INIT("consumer"), -1, NULL },
};

static void
fill_join_group_req(struct gqk_join_group_req *m, int variant)
{
	*m = join_reqs[variant];
}

static const struct gqk_join_group_resp join_resps[] = {
	{ 0, 0, 3, STR_INIT("range"), STR_INIT("m1"), STR_INIT("m1"), 2,
	  members },
	{ 5, GQK_ERR_MEMBER_ID_REQUIRED, -1, STR_INIT(""), STR_INIT(""),
	  STR_INIT("m-new"), 0, NULL },
};

static void
fill_join_group_resp(struct gqk_join_group_resp *m, int variant)
{
	*m = join_resps[variant];
}

/* JoinGroup: every version, both directions. */
API_TRIP_TEST(kapi_group_client, join_group, GQK_JOIN_GROUP, 2, 2)

/*
 * SyncGroup
 */

static const struct gqk_sync_group_req_assignment sync_assignments[] = {
	{ STR_INIT("m1"), BLOB_INIT },
	{ STR_INIT("m2"), BYTES_NULL_INIT },
};

static const struct gqk_sync_group_req sync_reqs[] = {
	{ STR_INIT("grp"), 3, STR_INIT("m1"), STR_NULL_INIT, 2,
	  (struct gqk_sync_group_req_assignment *)sync_assignments },
	{ STR_INIT("g"), -1, STR_INIT(""), STR_INIT("instance-1"), 0, NULL },
};

static void
fill_sync_group_req(struct gqk_sync_group_req *m, int variant)
{
	*m = sync_reqs[variant];
}

static void
check_sync_group_req(int16_t v, const struct gqk_sync_group_req *in,
		     const struct gqk_sync_group_req *out)
{
	int32_t j;

	expect_str_eq(out->group_id, in->group_id);
	cr_assert(eq(i32, out->generation_id, in->generation_id));
	expect_str_eq(out->member_id, in->member_id);
	expect_str_eq(out->group_instance_id,
		      v >= 3 ? in->group_instance_id : GQK_STR_NULL);
	cr_assert(eq(i32, out->n_assignments, in->n_assignments));
	for (j = 0; j < out->n_assignments; j++) {
		expect_str_eq(out->assignments[j].member_id,
			      in->assignments[j].member_id);
		expect_nonnull_bytes_eq(out->assignments[j].assignment,
					in->assignments[j].assignment);
	}
}

static const struct gqk_sync_group_resp sync_resps[] = {
	{ 0, 0, BLOB_INIT },
	{ 7, GQK_ERR_REBALANCE_IN_PROGRESS, BYTES_NULL_INIT },
};

static void
fill_sync_group_resp(struct gqk_sync_group_resp *m, int variant)
{
	*m = sync_resps[variant];
}

static void
check_sync_group_resp(int16_t v, const struct gqk_sync_group_resp *in,
		      const struct gqk_sync_group_resp *out)
{
	cr_assert(eq(i32, out->throttle_time_ms,
		     v >= 1 ? in->throttle_time_ms : 0));
	cr_assert(eq(i16, out->error_code, in->error_code));
	expect_nonnull_bytes_eq(out->assignment, in->assignment);
}

/* SyncGroup: every version, both directions. */
API_TRIP_TEST(kapi_group_client, sync_group, GQK_SYNC_GROUP, 2, 2)

/*
 * Heartbeat and LeaveGroup
 */

static const struct gqk_heartbeat_req heartbeat_reqs[] = {
	{ STR_INIT("grp"), 3, STR_INIT("m1"), STR_NULL_INIT },
	{ STR_INIT("g"), INT32_MIN, STR_INIT(""), STR_INIT("instance") },
};

static void
fill_heartbeat_req(struct gqk_heartbeat_req *m, int variant)
{
	*m = heartbeat_reqs[variant];
}

static void
check_heartbeat_req(int16_t v, const struct gqk_heartbeat_req *in,
		    const struct gqk_heartbeat_req *out)
{
	expect_str_eq(out->group_id, in->group_id);
	cr_assert(eq(i32, out->generation_id, in->generation_id));
	expect_str_eq(out->member_id, in->member_id);
	expect_str_eq(out->group_instance_id,
		      v >= 3 ? in->group_instance_id : GQK_STR_NULL);
}

/* Heartbeat and LeaveGroup responses: ThrottleTimeMs from v1, ErrorCode.
 * The variants serve both. */
static const int32_t hb_throttle[] = { 5, -1 };
static const int16_t hb_error[] = { 0, GQK_ERR_REBALANCE_IN_PROGRESS };

static void
fill_heartbeat_resp(struct gqk_heartbeat_resp *m, int variant)
{
	m->throttle_time_ms = hb_throttle[variant];
	m->error_code = hb_error[variant];
}

static void
check_throttle_error(int16_t v, int32_t throttle, int16_t error,
		     int32_t out_throttle, int16_t out_error)
{
	cr_assert(eq(i32, out_throttle, v >= 1 ? throttle : 0));
	cr_assert(eq(i16, out_error, error));
}

static void
check_heartbeat_resp(int16_t v, const struct gqk_heartbeat_resp *in,
		     const struct gqk_heartbeat_resp *out)
{
	check_throttle_error(v, in->throttle_time_ms, in->error_code,
			     out->throttle_time_ms, out->error_code);
}

/* Heartbeat: every version, both directions. */
API_TRIP_TEST(kapi_group_client, heartbeat, GQK_HEARTBEAT, 2, 2)

static const struct gqk_leave_group_req leave_reqs[] = {
	{ STR_INIT("grp"), STR_INIT("m1") },
	{ STR_INIT(""), STR_NULL_INIT }, /* null travels as "" */
};

static void
fill_leave_group_req(struct gqk_leave_group_req *m, int variant)
{
	*m = leave_reqs[variant];
}

static void
check_leave_group_req(int16_t v, const struct gqk_leave_group_req *in,
		      const struct gqk_leave_group_req *out)
{
	(void)v;
	expect_str_eq(out->group_id, in->group_id);
	expect_nonnull_str_eq(out->member_id, in->member_id);
}

static void
fill_leave_group_resp(struct gqk_leave_group_resp *m, int variant)
{
	m->throttle_time_ms = hb_throttle[variant];
	m->error_code = hb_error[variant];
}

static void
check_leave_group_resp(int16_t v, const struct gqk_leave_group_resp *in,
		       const struct gqk_leave_group_resp *out)
{
	check_throttle_error(v, in->throttle_time_ms, in->error_code,
			     out->throttle_time_ms, out->error_code);
}

/* LeaveGroup: every version, both directions. */
API_TRIP_TEST(kapi_group_client, leave_group, GQK_LEAVE_GROUP, 2, 2)

/*
 * OffsetCommit
 */

static const struct gqk_offset_commit_req_partition commit_parts[] = {
	{ 0, 42, 5, STR_INIT("meta") },
	{ 1, -1, -1, STR_NULL_INIT },
	{ 2, INT64_MAX, INT32_MIN, STR_INIT("") },
};
static const struct gqk_offset_commit_req_topic commit_topics[] = {
	{ STR_INIT("t1"), 3,
	  (struct gqk_offset_commit_req_partition *)commit_parts },
	{ STR_INIT("t2"), -1, NULL },
};

static void
check_offset_commit_req(int16_t v, const struct gqk_offset_commit_req *in,
			const struct gqk_offset_commit_req *out)
{
	const struct gqk_offset_commit_req_partition *pi, *po;
	int32_t i, j;

	expect_str_eq(out->group_id, in->group_id);
	cr_assert(eq(i32, out->generation_id, in->generation_id));
	expect_str_eq(out->member_id, in->member_id);
	expect_str_eq(out->group_instance_id,
		      v >= 7 ? in->group_instance_id : GQK_STR_NULL);
	cr_assert(eq(i64, out->retention_time_ms,
		     v <= 4 ? in->retention_time_ms : -1));
	cr_assert(eq(i32, out->n_topics, sent_count(in->n_topics, false)));
	for (i = 0; i < out->n_topics; i++) {
		expect_str_eq(out->topics[i].name, in->topics[i].name);
		cr_assert(eq(i32, out->topics[i].n_partitions,
			     sent_count(in->topics[i].n_partitions, false)));
		for (j = 0; j < out->topics[i].n_partitions; j++) {
			pi = &in->topics[i].partitions[j];
			po = &out->topics[i].partitions[j];
			cr_assert(eq(i32, po->partition_index,
				     pi->partition_index));
			cr_assert(eq(i64, po->committed_offset,
				     pi->committed_offset));
			cr_assert(eq(i32, po->committed_leader_epoch,
				     v >= 6 ? pi->committed_leader_epoch : -1));
			expect_str_eq(po->committed_metadata,
				      pi->committed_metadata);
		}
	}
}

static const struct gqk_offset_commit_resp_partition committed[] = {
	{ 0, 0 },
	{ 1, GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION },
};
static const struct gqk_offset_commit_resp_topic committed_topics[] = {
	{ STR_INIT("t1"), 2, committed },
	{ STR_INIT("t2"), 0, NULL },
};

static const struct gqk_offset_commit_req commit_reqs[] = {
	{ STR_INIT("grp"), 3, STR_INIT("m1"), STR_NULL_INIT, -1, 2,
	  (struct gqk_offset_commit_req_topic *)commit_topics },
	{ STR_INIT("g"), -1, STR_INIT(""), STR_INIT("instance-1"), 86400000, 0,
	  NULL },
};

static void
fill_offset_commit_req(struct gqk_offset_commit_req *m, int variant)
{
	*m = commit_reqs[variant];
}

static const struct gqk_offset_commit_resp commit_resps[] = {
	{ 2, 2, committed_topics },
	{ 0, -1, NULL },
};

static void
fill_offset_commit_resp(struct gqk_offset_commit_resp *m, int variant)
{
	*m = commit_resps[variant];
}

static void
check_offset_commit_resp(int16_t v, const struct gqk_offset_commit_resp *in,
			 const struct gqk_offset_commit_resp *out)
{
	const struct gqk_offset_commit_resp_topic *ti, *to;
	int32_t i, j;

	cr_assert(eq(i32, out->throttle_time_ms,
		     v >= 3 ? in->throttle_time_ms : 0));
	cr_assert(eq(i32, out->n_topics, sent_count(in->n_topics, false)));
	for (i = 0; i < out->n_topics; i++) {
		ti = &in->topics[i];
		to = &out->topics[i];
		expect_str_eq(to->name, ti->name);
		cr_assert(eq(i32, to->n_partitions, ti->n_partitions));
		for (j = 0; j < to->n_partitions; j++) {
			cr_assert(eq(i32, to->partitions[j].partition_index,
				     ti->partitions[j].partition_index));
			cr_assert(eq(i16, to->partitions[j].error_code,
				     ti->partitions[j].error_code));
		}
	}
}

/* OffsetCommit: every version, both directions. */
API_TRIP_TEST(kapi_group_client, offset_commit, GQK_OFFSET_COMMIT, 2, 2)

/*
 * OffsetFetch
 */

static const int32_t fetch_indexes[] = { 0, 1, 2 };
static const struct gqk_offset_fetch_req_topic offset_fetch_topics[] = {
	{ STR_INIT("t1"), 3, (int32_t *)fetch_indexes },
	{ STR_INIT("t2"), 0, NULL },
};

static void
check_offset_fetch_req(int16_t v, const struct gqk_offset_fetch_req *in,
		       const struct gqk_offset_fetch_req *out)
{
	int32_t i, j;

	expect_str_eq(out->group_id, in->group_id);
	cr_assert(eq(i32, out->n_topics, sent_count(in->n_topics, v >= 2)));
	cr_assert(eq(int, out->all_topics, out->n_topics < 0));
	for (i = 0; i < out->n_topics; i++) {
		expect_str_eq(out->topics[i].name, in->topics[i].name);
		cr_assert(eq(i32, out->topics[i].n_partition_indexes,
			     in->topics[i].n_partition_indexes));
		for (j = 0; j < out->topics[i].n_partition_indexes; j++)
			cr_assert(eq(i32, out->topics[i].partition_indexes[j],
				     in->topics[i].partition_indexes[j]));
	}
}

static const struct gqk_offset_fetch_resp_partition fetched[] = {
	{ 0, 42, 5, STR_INIT("meta"), 0 },
	{ 1, -1, -1, STR_INIT(""), 0 },
	{ 2, -1, -1, STR_NULL_INIT, GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION },
};
static const struct gqk_offset_fetch_resp_topic fetched_topics[] = {
	{ STR_INIT("t1"), 3, fetched },
};

static void
check_offset_fetch_resp(int16_t v, const struct gqk_offset_fetch_resp *in,
			const struct gqk_offset_fetch_resp *out)
{
	const struct gqk_offset_fetch_resp_partition *pi, *po;
	int32_t i, j;

	cr_assert(eq(i32, out->throttle_time_ms,
		     v >= 3 ? in->throttle_time_ms : 0));
	cr_assert(eq(i32, out->n_topics, sent_count(in->n_topics, false)));
	for (i = 0; i < out->n_topics; i++) {
		expect_str_eq(out->topics[i].name, in->topics[i].name);
		cr_assert(eq(i32, out->topics[i].n_partitions,
			     in->topics[i].n_partitions));
		for (j = 0; j < out->topics[i].n_partitions; j++) {
			pi = &in->topics[i].partitions[j];
			po = &out->topics[i].partitions[j];
			cr_assert(eq(i32, po->partition_index,
				     pi->partition_index));
			cr_assert(eq(i64, po->committed_offset,
				     pi->committed_offset));
			cr_assert(eq(i32, po->committed_leader_epoch,
				     v >= 5 ? pi->committed_leader_epoch : -1));
			expect_str_eq(po->metadata, pi->metadata);
			cr_assert(eq(i16, po->error_code, pi->error_code));
		}
	}
	cr_assert(eq(i16, out->error_code, v >= 2 ? in->error_code : 0));
}

static const struct gqk_offset_fetch_req offset_fetch_reqs[] = {
	{ STR_INIT("grp"), 2,
	  (struct gqk_offset_fetch_req_topic *)offset_fetch_topics, false },
	{ STR_INIT("g"), -1, NULL, true },
	{ STR_INIT("g"), 0, NULL, false },
};

static void
fill_offset_fetch_req(struct gqk_offset_fetch_req *m, int variant)
{
	*m = offset_fetch_reqs[variant];
}

static const struct gqk_offset_fetch_resp offset_fetch_resps[] = {
	{ 1, 1, fetched_topics, 0 },
	{ 0, 0, NULL, GQK_ERR_NOT_COORDINATOR },
	{ -1, -1, NULL, GQK_ERR_COORDINATOR_LOAD_IN_PROGRESS },
};

static void
fill_offset_fetch_resp(struct gqk_offset_fetch_resp *m, int variant)
{
	*m = offset_fetch_resps[variant];
}

/* OffsetFetch: every version, both directions; null topics (all) exist
 * only from v2 and go out as an empty array before. */
API_TRIP_TEST(kapi_group_client, offset_fetch, GQK_OFFSET_FETCH, 3, 3)

/*
 * DescribeGroups
 */

static const struct gqk_describe_groups_member described[] = {
	{ STR_INIT("m1"), STR_INIT("instance-1"), STR_INIT("rdkafka"),
	  STR_INIT("/127.0.0.1"), BLOB_INIT, BLOB_INIT },
	{ STR_INIT("m2"),
	  STR_NULL_INIT,
	  STR_INIT("c2"),
	  STR_INIT("/::1"),
	  BYTES_NULL_INIT,
	  { blob, 0 } },
};
static const struct gqk_describe_groups_group groups[] = {
	{ 0, STR_INIT("grp"), STR_INIT("Stable"), STR_INIT("consumer"),
	  STR_INIT("range"), 2, described, 8 },
	{ GQK_ERR_NOT_COORDINATOR, STR_INIT("g2"), STR_INIT(""), STR_INIT(""),
	  STR_INIT(""), -1, NULL, GQK_AUTHORIZED_OPERATIONS_OMITTED },
};

static void
check_described_member(int16_t v, const struct gqk_describe_groups_member *mi,
		       const struct gqk_describe_groups_member *mo)
{
	expect_str_eq(mo->member_id, mi->member_id);
	expect_str_eq(mo->group_instance_id,
		      v >= 4 ? mi->group_instance_id : GQK_STR_NULL);
	expect_str_eq(mo->client_id, mi->client_id);
	expect_str_eq(mo->client_host, mi->client_host);
	expect_nonnull_bytes_eq(mo->member_metadata, mi->member_metadata);
	expect_nonnull_bytes_eq(mo->member_assignment, mi->member_assignment);
}

static void
check_describe_groups_resp(int16_t v, const struct gqk_describe_groups_resp *in,
			   const struct gqk_describe_groups_resp *out)
{
	const struct gqk_describe_groups_group *gi, *go;
	int32_t i, j;

	cr_assert(eq(i32, out->throttle_time_ms,
		     v >= 1 ? in->throttle_time_ms : 0));
	cr_assert(eq(i32, out->n_groups, sent_count(in->n_groups, false)));
	for (i = 0; i < out->n_groups; i++) {
		gi = &in->groups[i];
		go = &out->groups[i];
		cr_assert(eq(i16, go->error_code, gi->error_code));
		expect_str_eq(go->group_id, gi->group_id);
		expect_str_eq(go->group_state, gi->group_state);
		expect_str_eq(go->protocol_type, gi->protocol_type);
		expect_str_eq(go->protocol_data, gi->protocol_data);
		cr_assert(eq(i32, go->n_members,
			     sent_count(gi->n_members, false)));
		for (j = 0; j < go->n_members; j++)
			check_described_member(v, &gi->members[j],
					       &go->members[j]);
		cr_assert(eq(i32, go->authorized_operations,
			     v >= 3 ? gi->authorized_operations
				    : GQK_AUTHORIZED_OPERATIONS_OMITTED));
	}
}

static const struct gqk_str group_names[] = { STR_INIT("grp"), STR_INIT("g2") };
static const struct gqk_describe_groups_req describe_reqs[] = {
	{ 2, (struct gqk_str *)group_names, true },
	{ -1, NULL, false },
};

static void
fill_describe_groups_req(struct gqk_describe_groups_req *m, int variant)
{
	*m = describe_reqs[variant];
}

static void
check_describe_groups_req(int16_t v, const struct gqk_describe_groups_req *in,
			  const struct gqk_describe_groups_req *out)
{
	int32_t j;

	cr_assert(eq(i32, out->n_groups, sent_count(in->n_groups, false)));
	for (j = 0; j < out->n_groups; j++)
		expect_str_eq(out->groups[j], in->groups[j]);
	cr_assert(eq(int, out->include_authorized_operations,
		     v >= 3 && in->include_authorized_operations));
}

static const struct gqk_describe_groups_resp describe_resps[] = {
	{ 3, 2, groups },
	{ 0, 0, NULL },
};

static void
fill_describe_groups_resp(struct gqk_describe_groups_resp *m, int variant)
{
	*m = describe_resps[variant];
}

/* DescribeGroups: every version, both directions. */
API_TRIP_TEST(kapi_group_client, describe_groups, GQK_DESCRIBE_GROUPS, 2, 2)

/*
 * ListGroups
 */

static void
fill_list_groups_req(struct gqk_list_groups_req *m, int variant)
{
	(void)variant;
	memset(m, 0, sizeof(*m));
}

/* Nothing to compare: the body is empty before v4 (StatesFilter). */
static void
check_list_groups_req(int16_t v, const struct gqk_list_groups_req *in,
		      const struct gqk_list_groups_req *out)
{
	(void)v;
	(void)in;
	cr_assert(eq(i32, out->n_states_filter, 0));
}

static const struct gqk_list_groups_group listed[] = {
	{ STR_INIT("grp"), STR_INIT("consumer") },
	{ STR_INIT("g2"), STR_INIT("") },
};
static const struct gqk_list_groups_resp list_resps[] = {
	{ 4, 0, 2, listed },
	{ 0, GQK_ERR_COORDINATOR_NOT_AVAILABLE, -1, NULL },
};

static void
fill_list_groups_resp(struct gqk_list_groups_resp *m, int variant)
{
	*m = list_resps[variant];
}

static void
check_list_groups_resp(int16_t v, const struct gqk_list_groups_resp *in,
		       const struct gqk_list_groups_resp *out)
{
	int32_t j;

	cr_assert(eq(i32, out->throttle_time_ms,
		     v >= 1 ? in->throttle_time_ms : 0));
	cr_assert(eq(i16, out->error_code, in->error_code));
	cr_assert(eq(i32, out->n_groups, sent_count(in->n_groups, false)));
	for (j = 0; j < out->n_groups; j++) {
		expect_str_eq(out->groups[j].group_id, in->groups[j].group_id);
		expect_str_eq(out->groups[j].protocol_type,
			      in->groups[j].protocol_type);
	}
}

/* ListGroups: every version, both directions; the request body is empty. */
API_TRIP_TEST(kapi_group_client, list_groups, GQK_LIST_GROUPS, 1, 2)

/*
 * Consumer protocol payloads
 */

static const int32_t tp_parts[] = { 0, 2, INT32_MAX };
static const struct gqk_consumer_topic_partitions tps[] = {
	{ STR_INIT("t1"), 3, tp_parts },
	{ STR_INIT("t2"), 0, NULL },
};

static void
check_tps(int32_t n_out, const struct gqk_consumer_topic_partitions *out,
	  int32_t n_in, const struct gqk_consumer_topic_partitions *in)
{
	int32_t i, j;

	cr_assert(eq(i32, n_out, sent_count(n_in, false)));
	for (i = 0; i < n_out; i++) {
		expect_str_eq(out[i].topic, in[i].topic);
		cr_assert(eq(i32, out[i].n_partitions, in[i].n_partitions));
		for (j = 0; j < out[i].n_partitions; j++)
			cr_assert(eq(i32, out[i].partitions[j],
				     in[i].partitions[j]));
	}
}

/* Subscriptions v0-v1 and assignments v0-v3 come back as they were
 * encoded, owned partitions dropped for v0. */
Test(kapi_group_client, consumer_payloads)
{
	static const struct gqk_str topics[] = { STR_INIT("t1"),
						 STR_INIT("t2") };
	struct gqk_consumer_subscription s = { 0 }, sd;
	struct gqk_consumer_assignment as = { 0 }, ad;
	struct gqk_bytes payload;
	struct gqk_writer w;
	struct gqk_arena a;
	int16_t v;
	int i;

	gqk_arena_init(&a, 0);
	for (v = 0; v <= GQK_CONSUMER_SUBSCRIPTION_VERSION_MAX; v++) {
		for (i = 0; i < 2; i++) {
			s.version = v;
			s.n_topics = i == 0 ? 2 : 0;
			s.topics = topics;
			s.user_data = i == 0 ? BLOB : GQK_BYTES_NULL;
			s.n_owned_partitions = i == 0 ? 2 : -1;
			s.owned_partitions = tps;
			gqk_writer_init(&w);
			gqk_consumer_subscription_encode(&w, &s);
			cr_assert(eq(int, w.err, 0));
			payload.p = w.base;
			payload.len = (int32_t)w.len;
			cr_assert(eq(int,
				     gqk_consumer_subscription_decode(payload,
								      &a, &sd),
				     0));
			cr_assert(eq(i16, sd.version, v));
			cr_assert(eq(i32, sd.n_topics, s.n_topics));
			if (sd.n_topics > 0)
				expect_str_eq(sd.topics[1], topics[1]);
			expect_bytes_eq(sd.user_data, s.user_data);
			if (v >= 1)
				check_tps(sd.n_owned_partitions,
					  sd.owned_partitions,
					  s.n_owned_partitions, tps);
			else
				cr_assert(eq(i32, sd.n_owned_partitions, 0));
			gqk_writer_free(&w);
		}
	}
	for (v = 0; v <= GQK_CONSUMER_ASSIGNMENT_VERSION_MAX; v++) {
		as.version = v;
		as.n_assigned = v % 2 == 0 ? 2 : -1;
		as.assigned = tps;
		as.user_data = v % 2 == 0 ? GQK_BYTES_NULL : BLOB;
		gqk_writer_init(&w);
		gqk_consumer_assignment_encode(&w, &as);
		cr_assert(eq(int, w.err, 0));
		payload.p = w.base;
		payload.len = (int32_t)w.len;
		cr_assert(eq(int,
			     gqk_consumer_assignment_decode(payload, &a, &ad),
			     0));
		cr_assert(eq(i16, ad.version, v));
		check_tps(ad.n_assigned, ad.assigned, as.n_assigned, tps);
		expect_bytes_eq(ad.user_data, as.user_data);
		gqk_writer_free(&w);
	}
	gqk_arena_free(&a);
}
