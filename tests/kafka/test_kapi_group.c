/* SPDX-License-Identifier: MIT */
/*
 * test_kapi_group.c - consumer group API codecs and consumer protocol
 * payloads against hand-built bytes.
 *
 * As in test_kapi.c, every frame is assembled field by field from the
 * layouts of KAFKA-PROTOCOL.md (1.5, 3.3, Appendix A/B; DescribeGroups and
 * ListGroups from the Kafka 3.4.0 JSON) by a builder that shares no code
 * with the codec, for the versions the target clients send: librdkafka
 * 2.0.2 (FindCoordinator v2, JoinGroup v5, SyncGroup v3, Heartbeat v3,
 * LeaveGroup v1, OffsetCommit v7, OffsetFetch v5) and kafka-python 2.0.2
 * (FindCoordinator v0, JoinGroup v2, SyncGroup v1, Heartbeat v1,
 * LeaveGroup v1, OffsetCommit v2, OffsetFetch v1). Decoding checks every
 * field; responses are compared byte for byte. Every request and payload is
 * cut at every length and extended by one byte, which must fail cleanly
 * (run under ASan for leaks and over-reads).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kapi.h"
#include "kbytes.h"
#include "kwire.h"

TestSuite(kapi_group, .timeout = 60);

/* @s equals the C string @want, or is null when @want is NULL. */
static void
expect_str(struct gqk_str s, const char *want)
{
	if (want == NULL)
		cr_assert(gqk_str_is_null(s), "want null, got %d bytes", s.len);
	else
		cr_assert(gqk_str_eq(s, want), "want \"%s\", got \"%.*s\"",
			  want, s.len < 0 ? 0 : s.len, s.p);
}

/* @got holds exactly the bytes of @want. */
static void
expect_blob(struct gqk_bytes got, const struct bb *want)
{
	cr_assert(eq(i32, got.len, (int32_t)want->n));
	cr_assert(eq(int, memcmp(got.p, want->b, want->n), 0));
}

/* The whole frame decodes (with the header as built), then every
 * truncation and trailing garbage fails. */
static void
check_frame(const struct bb *b, int16_t key, int16_t version)
{
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	cr_assert(eq(int, decode(b, &a, &h, &req), 0));
	cr_assert(eq(i16, h.api_key, key));
	cr_assert(eq(i16, h.api_version, version));
	cr_assert(not(h.flexible));
	gqk_arena_free(&a);
	check_truncations(b);
}

/*
 * Consumer protocol payloads as the clients write them
 */

/* librdkafka 2.0.2: Subscription v1, null user data, and OwnedPartitions
 * (empty on a first join, the current assignment when cooperative). */
static void
b_subscription_v1(struct bb *b, bool owned)
{
	b->n = 0;
	b_i16(b, 1);
	b_i32(b, 2);
	b_str(b, "t1");
	b_str(b, "t2");
	b_bytes(b, NULL, 0);
	if (!owned) {
		b_i32(b, 0);
		return;
	}
	b_i32(b, 1);
	b_str(b, "t1");
	b_i32(b, 2);
	b_i32(b, 0);
	b_i32(b, 2);
}

/* kafka-python 2.0.2: Subscription v0 with empty (not null) user data. */
static void
b_subscription_v0(struct bb *b)
{
	b->n = 0;
	b_i16(b, 0);
	b_i32(b, 1);
	b_str(b, "t1");
	b_bytes(b, "", 0);
}

/* An Assignment: t1 [0, 1] and t2 [3], with user data "ud" or null. */
static void
b_assignment(struct bb *b, int16_t version, bool user_data)
{
	b->n = 0;
	b_i16(b, version);
	b_i32(b, 2);
	b_str(b, "t1");
	b_i32(b, 2);
	b_i32(b, 0);
	b_i32(b, 1);
	b_str(b, "t2");
	b_i32(b, 1);
	b_i32(b, 3);
	if (user_data)
		b_bytes(b, "ud", 2);
	else
		b_bytes(b, NULL, 0);
}

/*
 * FindCoordinator
 */

/* kafka-python's FindCoordinator v0: the group id only. */
Test(kapi_group, find_coordinator_v0_request)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	b_header(&b, GQK_FIND_COORDINATOR, 0, 11, "kafka-python-2.0.2", false);
	b_str(&b, "my-group");
	check_frame(&b, GQK_FIND_COORDINATOR, 0);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(eq(i32, h.correlation_id, 11));
	expect_str(h.client_id, "kafka-python-2.0.2");
	expect_str(req.find_coordinator.key, "my-group");
	cr_assert(eq(i8, req.find_coordinator.key_type, GQK_COORDINATOR_GROUP));
	gqk_arena_free(&a);
}

/* librdkafka's FindCoordinator v2: key and key type (group, or a
 * transactional id, which the codec passes through). */
Test(kapi_group, find_coordinator_v2_request)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	b_header(&b, GQK_FIND_COORDINATOR, 2, 3, "rdkafka", false);
	b_str(&b, "grp");
	b_i8(&b, 0);
	check_frame(&b, GQK_FIND_COORDINATOR, 2);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	expect_str(req.find_coordinator.key, "grp");
	cr_assert(eq(i8, req.find_coordinator.key_type, 0));
	gqk_arena_free(&a);

	b_header(&b, GQK_FIND_COORDINATOR, 1, 3, "rdkafka", false);
	b_str(&b, "txn");
	b_i8(&b, GQK_COORDINATOR_TRANSACTION);
	check_frame(&b, GQK_FIND_COORDINATOR, 1);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	expect_str(req.find_coordinator.key, "txn");
	cr_assert(eq(i8, req.find_coordinator.key_type, 1));
	gqk_arena_free(&a);
}

static const struct gqk_find_coordinator_resp find_coordinator_resp = {
	.throttle_time_ms = 0,
	.error_code = GQK_ERR_NONE,
	.error_message = { NULL, -1 },
	.node_id = 2,
	.host = { "node2", 5 },
	.port = 9093,
};

/* v0 response: ErrorCode, NodeId, Host, Port. */
Test(kapi_group, find_coordinator_v0_response)
{
	struct gqk_writer w;
	struct bb want;

	want.n = 0;
	b_i16(&want, 0);
	b_i32(&want, 2);
	b_str(&want, "node2");
	b_i32(&want, 9093);
	gqk_writer_init(&w);
	gqk_find_coordinator_resp_encode(&w, 0, &find_coordinator_resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/* v2 response: ThrottleTimeMs first and a nullable ErrorMessage, here
 * both for success (null message) and COORDINATOR_NOT_AVAILABLE. */
Test(kapi_group, find_coordinator_v2_response)
{
	struct gqk_find_coordinator_resp err = {
		.throttle_time_ms = 7,
		.error_code = GQK_ERR_COORDINATOR_NOT_AVAILABLE,
		.error_message = GQK_STR("loading"),
		.node_id = -1,
		.host = GQK_STR(""),
		.port = -1,
	};
	struct gqk_writer w;
	struct bb want;

	want.n = 0;
	b_i32(&want, 0);
	b_i16(&want, 0);
	b_i16(&want, -1);
	b_i32(&want, 2);
	b_str(&want, "node2");
	b_i32(&want, 9093);
	gqk_writer_init(&w);
	gqk_find_coordinator_resp_encode(&w, 2, &find_coordinator_resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);

	want.n = 0;
	b_i32(&want, 7);
	b_i16(&want, 15);
	b_str(&want, "loading");
	b_i32(&want, -1);
	b_str(&want, "");
	b_i32(&want, -1);
	gqk_find_coordinator_resp_encode(&w, 2, &err);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/*
 * JoinGroup
 */

/* librdkafka's JoinGroup v5 with the "range" and "roundrobin" protocols,
 * each carrying a Subscription v1. */
static void
frame_join_group_v5(struct bb *b, const char *member, const char *instance,
		    const struct bb *sub)
{
	b_header(b, GQK_JOIN_GROUP, 5, 9, "rdkafka", false);
	b_str(b, "grp");
	b_i32(b, 45000);  /* session.timeout.ms */
	b_i32(b, 300000); /* max.poll.interval.ms */
	b_str(b, member);
	b_str(b, instance);
	b_str(b, "consumer");
	b_i32(b, 2);
	b_str(b, "range");
	b_blob(b, sub);
	b_str(b, "roundrobin");
	b_blob(b, sub);
}

/* JoinGroup v5: the first join with an empty member id and a null
 * instance id, then the rejoin with both set; every field, and the
 * metadata decodes as librdkafka's subscription. */
Test(kapi_group, join_group_v5_request)
{
	struct bb b, sub;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_join_group_req *j = &req.join_group;
	struct gqk_consumer_subscription s;

	b_subscription_v1(&sub, false);
	frame_join_group_v5(&b, "", NULL, &sub);
	check_frame(&b, GQK_JOIN_GROUP, 5);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(eq(i32, h.correlation_id, 9));
	expect_str(j->group_id, "grp");
	cr_assert(eq(i32, j->session_timeout_ms, 45000));
	cr_assert(eq(i32, j->rebalance_timeout_ms, 300000));
	expect_str(j->member_id, "");
	expect_str(j->group_instance_id, NULL);
	expect_str(j->protocol_type, "consumer");
	cr_assert(eq(i32, j->n_protocols, 2));
	expect_str(j->protocols[0].name, "range");
	expect_blob(j->protocols[0].metadata, &sub);
	expect_str(j->protocols[1].name, "roundrobin");
	expect_blob(j->protocols[1].metadata, &sub);
	cr_assert(eq(int,
		     gqk_consumer_subscription_decode(j->protocols[0].metadata,
						      &a, &s),
		     0));
	cr_assert(eq(i16, s.version, 1));
	cr_assert(eq(i32, s.n_topics, 2));
	expect_str(s.topics[0], "t1");
	expect_str(s.topics[1], "t2");
	cr_assert(eq(i32, s.user_data.len, -1));
	cr_assert(eq(i32, s.n_owned_partitions, 0));
	gqk_arena_free(&a);

	frame_join_group_v5(&b, "rdkafka-5fe1", "static-1", &sub);
	check_frame(&b, GQK_JOIN_GROUP, 5);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	expect_str(j->member_id, "rdkafka-5fe1");
	expect_str(j->group_instance_id, "static-1");
	cr_assert(eq(i32, j->n_protocols, 2));
	gqk_arena_free(&a);
}

/* kafka-python's JoinGroup v2: no GroupInstanceId, one Subscription v0 per
 * assignor. */
Test(kapi_group, join_group_v2_request)
{
	struct bb b, sub;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_join_group_req *j = &req.join_group;

	b_subscription_v0(&sub);
	b_header(&b, GQK_JOIN_GROUP, 2, 4, "kafka-python-2.0.2", false);
	b_str(&b, "kp-group");
	b_i32(&b, 10000);
	b_i32(&b, 300000);
	b_str(&b, "");
	b_str(&b, "consumer");
	b_i32(&b, 2);
	b_str(&b, "range");
	b_blob(&b, &sub);
	b_str(&b, "roundrobin");
	b_blob(&b, &sub);
	check_frame(&b, GQK_JOIN_GROUP, 2);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	expect_str(j->group_id, "kp-group");
	cr_assert(eq(i32, j->session_timeout_ms, 10000));
	cr_assert(eq(i32, j->rebalance_timeout_ms, 300000));
	expect_str(j->member_id, "");
	expect_str(j->group_instance_id, NULL);
	expect_str(j->protocol_type, "consumer");
	cr_assert(eq(i32, j->n_protocols, 2));
	expect_str(j->protocols[0].name, "range");
	expect_blob(j->protocols[0].metadata, &sub);
	expect_str(j->protocols[1].name, "roundrobin");
	expect_blob(j->protocols[1].metadata, &sub);
	gqk_arena_free(&a);
}

/* JoinGroup v0 has no RebalanceTimeoutMs: the session timeout stands in,
 * as in Kafka. A null member id or protocol name is malformed. */
Test(kapi_group, join_group_v0_request)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	b_header(&b, GQK_JOIN_GROUP, 0, 1, "c", false);
	b_str(&b, "g");
	b_i32(&b, 6000);
	b_str(&b, "m");
	b_str(&b, "consumer");
	b_i32(&b, 1);
	b_str(&b, "range");
	b_bytes(&b, "x", 1);
	check_frame(&b, GQK_JOIN_GROUP, 0);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(eq(i32, req.join_group.session_timeout_ms, 6000));
	cr_assert(eq(i32, req.join_group.rebalance_timeout_ms, 6000));
	expect_str(req.join_group.member_id, "m");
	cr_assert(eq(i32, req.join_group.protocols[0].metadata.len, 1));
	gqk_arena_free(&a);

	b_header(&b, GQK_JOIN_GROUP, 0, 1, "c", false);
	b_str(&b, "g");
	b_i32(&b, 6000);
	b_str(&b, NULL);
	b_str(&b, "consumer");
	b_i32(&b, 0);
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EMALFORMED));
	gqk_arena_free(&a);

	b_header(&b, GQK_JOIN_GROUP, 1, 1, "c", false);
	b_str(&b, "g");
	b_i32(&b, 6000);
	b_i32(&b, 6000);
	b_str(&b, "m");
	b_str(&b, "consumer");
	b_i32(&b, 1);
	b_str(&b, "range");
	b_bytes(&b, NULL, 0); /* Metadata is not nullable */
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EMALFORMED));
	gqk_arena_free(&a);
}

/* A forged protocol count fails before anything is allocated. */
Test(kapi_group, join_group_huge_count_no_alloc)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	b_header(&b, GQK_JOIN_GROUP, 5, 1, "c", false);
	b_str(&b, "g");
	b_i32(&b, 6000);
	b_i32(&b, 6000);
	b_str(&b, "");
	b_str(&b, NULL);
	b_str(&b, "consumer");
	b_i32(&b, 0x7fffffff);
	b_str(&b, "range");
	b_bytes(&b, "", 0);
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EMALFORMED));
	cr_assert(eq(sz, a.used, 0));
	gqk_arena_free(&a);
}

/* The leader's JoinGroup v5 response: ThrottleTimeMs first, and every
 * member with its GroupInstanceId (null and set) and metadata. */
Test(kapi_group, join_group_v5_leader_response)
{
	struct bb sub0, sub1, want;
	struct gqk_join_group_resp_member members[2];
	struct gqk_join_group_resp resp = {
		.throttle_time_ms = 0,
		.error_code = GQK_ERR_NONE,
		.generation_id = 3,
		.protocol_name = GQK_STR("range"),
		.leader = GQK_STR("rdkafka-5fe1"),
		.member_id = GQK_STR("rdkafka-5fe1"),
		.n_members = 2,
		.members = members,
	};
	struct gqk_writer w;

	b_subscription_v1(&sub0, false);
	b_subscription_v1(&sub1, true);
	members[0].member_id = GQK_STR("rdkafka-5fe1");
	members[0].group_instance_id = GQK_STR_NULL;
	members[0].metadata.p = sub0.b;
	members[0].metadata.len = (int32_t)sub0.n;
	members[1].member_id = GQK_STR("rdkafka-7080");
	members[1].group_instance_id = GQK_STR("static-2");
	members[1].metadata.p = sub1.b;
	members[1].metadata.len = (int32_t)sub1.n;

	want.n = 0;
	b_i32(&want, 0);
	b_i16(&want, 0);
	b_i32(&want, 3);
	b_str(&want, "range");
	b_str(&want, "rdkafka-5fe1");
	b_str(&want, "rdkafka-5fe1");
	b_i32(&want, 2);
	b_str(&want, "rdkafka-5fe1");
	b_str(&want, NULL);
	b_blob(&want, &sub0);
	b_str(&want, "rdkafka-7080");
	b_str(&want, "static-2");
	b_blob(&want, &sub1);
	gqk_writer_init(&w);
	gqk_join_group_resp_encode(&w, 5, &resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/* JoinGroup responses before v5: no GroupInstanceId; v2 ThrottleTimeMs,
 * v0/v1 none. A follower's MEMBER_ID_REQUIRED answer has no members and
 * a null metadata is written as empty. */
Test(kapi_group, join_group_old_responses)
{
	struct gqk_join_group_resp_member m = { GQK_STR("kp-1"),
						GQK_STR("ignored"),
						GQK_BYTES_NULL };
	struct gqk_join_group_resp resp = {
		.throttle_time_ms = 5,
		.error_code = GQK_ERR_NONE,
		.generation_id = 1,
		.protocol_name = GQK_STR("range"),
		.leader = GQK_STR("kp-1"),
		.member_id = GQK_STR("kp-1"),
		.n_members = 1,
		.members = &m,
	};
	struct gqk_writer w;
	struct bb want;
	int16_t v;

	gqk_writer_init(&w);
	for (v = 0; v <= 4; v++) {
		want.n = 0;
		if (v >= 2)
			b_i32(&want, 5);
		b_i16(&want, 0);
		b_i32(&want, 1);
		b_str(&want, "range");
		b_str(&want, "kp-1");
		b_str(&want, "kp-1");
		b_i32(&want, 1);
		b_str(&want, "kp-1");
		b_i32(&want, 0);
		gqk_join_group_resp_encode(&w, v, &resp);
		expect_writer(&w, &want);
		gqk_writer_free(&w);
	}

	resp.error_code = GQK_ERR_MEMBER_ID_REQUIRED;
	resp.generation_id = -1;
	resp.protocol_name = GQK_STR("");
	resp.leader = GQK_STR("");
	resp.n_members = -1;
	want.n = 0;
	b_i32(&want, 5);
	b_i16(&want, 79);
	b_i32(&want, -1);
	b_str(&want, "");
	b_str(&want, "");
	b_str(&want, "kp-1");
	b_i32(&want, 0);
	gqk_join_group_resp_encode(&w, 5, &resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/*
 * SyncGroup
 */

/* librdkafka's SyncGroup v3 from the leader: every member's assignment. */
Test(kapi_group, sync_group_v3_request)
{
	struct bb b, as0, as1;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_sync_group_req *s = &req.sync_group;

	b_assignment(&as0, 0, false);
	b_assignment(&as1, 1, true);
	b_header(&b, GQK_SYNC_GROUP, 3, 12, "rdkafka", false);
	b_str(&b, "grp");
	b_i32(&b, 3);
	b_str(&b, "rdkafka-5fe1");
	b_str(&b, NULL);
	b_i32(&b, 2);
	b_str(&b, "rdkafka-5fe1");
	b_blob(&b, &as0);
	b_str(&b, "rdkafka-7080");
	b_blob(&b, &as1);
	check_frame(&b, GQK_SYNC_GROUP, 3);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	expect_str(s->group_id, "grp");
	cr_assert(eq(i32, s->generation_id, 3));
	expect_str(s->member_id, "rdkafka-5fe1");
	expect_str(s->group_instance_id, NULL);
	cr_assert(eq(i32, s->n_assignments, 2));
	expect_str(s->assignments[0].member_id, "rdkafka-5fe1");
	expect_blob(s->assignments[0].assignment, &as0);
	expect_str(s->assignments[1].member_id, "rdkafka-7080");
	expect_blob(s->assignments[1].assignment, &as1);
	gqk_arena_free(&a);
}

/* kafka-python's SyncGroup v1 from a follower: no assignments, no
 * GroupInstanceId. */
Test(kapi_group, sync_group_v1_request)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_sync_group_req *s = &req.sync_group;

	b_header(&b, GQK_SYNC_GROUP, 1, 6, "kafka-python-2.0.2", false);
	b_str(&b, "kp-group");
	b_i32(&b, 1);
	b_str(&b, "kafka-python-2.0.2-abc");
	b_i32(&b, 0);
	check_frame(&b, GQK_SYNC_GROUP, 1);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	expect_str(s->group_id, "kp-group");
	cr_assert(eq(i32, s->generation_id, 1));
	expect_str(s->member_id, "kafka-python-2.0.2-abc");
	expect_str(s->group_instance_id, NULL);
	cr_assert(eq(i32, s->n_assignments, 0));
	cr_assert(eq(ptr, s->assignments, NULL));
	gqk_arena_free(&a);
}

/* SyncGroup v3 response: ThrottleTimeMs, ErrorCode, the member's
 * assignment; v0 without ThrottleTimeMs; a null assignment is empty. */
Test(kapi_group, sync_group_responses)
{
	struct bb as, want;
	struct gqk_sync_group_resp resp = { 0 };
	struct gqk_writer w;

	b_assignment(&as, 1, false);
	resp.throttle_time_ms = 0;
	resp.error_code = GQK_ERR_NONE;
	resp.assignment.p = as.b;
	resp.assignment.len = (int32_t)as.n;
	want.n = 0;
	b_i32(&want, 0);
	b_i16(&want, 0);
	b_blob(&want, &as);
	gqk_writer_init(&w);
	gqk_sync_group_resp_encode(&w, 3, &resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);

	resp.error_code = GQK_ERR_REBALANCE_IN_PROGRESS;
	resp.assignment = GQK_BYTES_NULL;
	want.n = 0;
	b_i16(&want, 27);
	b_i32(&want, 0);
	gqk_sync_group_resp_encode(&w, 0, &resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/*
 * Heartbeat and LeaveGroup
 */

/* librdkafka's Heartbeat v3 (with GroupInstanceId) and kafka-python's v1
 * (without). */
Test(kapi_group, heartbeat_requests)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_heartbeat_req *hb = &req.heartbeat;

	b_header(&b, GQK_HEARTBEAT, 3, 20, "rdkafka", false);
	b_str(&b, "grp");
	b_i32(&b, 3);
	b_str(&b, "rdkafka-5fe1");
	b_str(&b, NULL);
	check_frame(&b, GQK_HEARTBEAT, 3);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	expect_str(hb->group_id, "grp");
	cr_assert(eq(i32, hb->generation_id, 3));
	expect_str(hb->member_id, "rdkafka-5fe1");
	expect_str(hb->group_instance_id, NULL);
	gqk_arena_free(&a);

	b_header(&b, GQK_HEARTBEAT, 3, 20, "rdkafka", false);
	b_str(&b, "grp");
	b_i32(&b, 4);
	b_str(&b, "m");
	b_str(&b, "static-1");
	check_frame(&b, GQK_HEARTBEAT, 3);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	expect_str(hb->group_instance_id, "static-1");
	gqk_arena_free(&a);

	b_header(&b, GQK_HEARTBEAT, 1, 21, "kafka-python-2.0.2", false);
	b_str(&b, "kp-group");
	b_i32(&b, 1);
	b_str(&b, "kp-1");
	check_frame(&b, GQK_HEARTBEAT, 1);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	expect_str(hb->group_id, "kp-group");
	cr_assert(eq(i32, hb->generation_id, 1));
	expect_str(hb->member_id, "kp-1");
	expect_str(hb->group_instance_id, NULL);
	gqk_arena_free(&a);
}

/* LeaveGroup v1 (both clients) and v0: group and member id. */
Test(kapi_group, leave_group_requests)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	int16_t v;

	for (v = 0; v <= 1; v++) {
		b_header(&b, GQK_LEAVE_GROUP, v, 30, "rdkafka", false);
		b_str(&b, "grp");
		b_str(&b, "rdkafka-7080");
		check_frame(&b, GQK_LEAVE_GROUP, v);
		cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
		expect_str(req.leave_group.group_id, "grp");
		expect_str(req.leave_group.member_id, "rdkafka-7080");
		gqk_arena_free(&a);
	}
}

/* Heartbeat and LeaveGroup responses: ThrottleTimeMs from v1. */
Test(kapi_group, heartbeat_and_leave_group_responses)
{
	const struct gqk_heartbeat_resp hb = { 9,
					       GQK_ERR_REBALANCE_IN_PROGRESS };
	const struct gqk_leave_group_resp lg = { 9, GQK_ERR_UNKNOWN_MEMBER_ID };
	struct gqk_writer w;
	struct bb want;

	gqk_writer_init(&w);
	want.n = 0;
	b_i16(&want, 27);
	gqk_heartbeat_resp_encode(&w, 0, &hb);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
	want.n = 0;
	b_i32(&want, 9);
	b_i16(&want, 27);
	gqk_heartbeat_resp_encode(&w, 3, &hb);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
	gqk_heartbeat_resp_encode(&w, 1, &hb);
	expect_writer(&w, &want);
	gqk_writer_free(&w);

	want.n = 0;
	b_i16(&want, 25);
	gqk_leave_group_resp_encode(&w, 0, &lg);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
	want.n = 0;
	b_i32(&want, 9);
	b_i16(&want, 25);
	gqk_leave_group_resp_encode(&w, 1, &lg);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/*
 * OffsetCommit
 */

/* librdkafka's OffsetCommit v7: GroupInstanceId, no RetentionTimeMs,
 * CommittedLeaderEpoch -1 per partition; metadata "" and null. */
Test(kapi_group, offset_commit_v7_request)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_offset_commit_req *c = &req.offset_commit;
	struct gqk_offset_commit_req_partition *p;

	b_header(&b, GQK_OFFSET_COMMIT, 7, 40, "rdkafka", false);
	b_str(&b, "grp");
	b_i32(&b, 3);
	b_str(&b, "rdkafka-5fe1");
	b_str(&b, NULL);
	b_i32(&b, 2);
	b_str(&b, "t1");
	b_i32(&b, 2);
	b_i32(&b, 0);
	b_i64(&b, 42);
	b_i32(&b, -1);
	b_str(&b, "");
	b_i32(&b, 1);
	b_i64(&b, 0x100000000LL);
	b_i32(&b, 5);
	b_str(&b, NULL);
	b_str(&b, "t2");
	b_i32(&b, 0);
	check_frame(&b, GQK_OFFSET_COMMIT, 7);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	expect_str(c->group_id, "grp");
	cr_assert(eq(i32, c->generation_id, 3));
	expect_str(c->member_id, "rdkafka-5fe1");
	expect_str(c->group_instance_id, NULL);
	cr_assert(eq(i64, c->retention_time_ms, -1));
	cr_assert(eq(i32, c->n_topics, 2));
	expect_str(c->topics[0].name, "t1");
	cr_assert(eq(i32, c->topics[0].n_partitions, 2));
	p = &c->topics[0].partitions[0];
	cr_assert(eq(i32, p->partition_index, 0));
	cr_assert(eq(i64, p->committed_offset, 42));
	cr_assert(eq(i32, p->committed_leader_epoch, -1));
	expect_str(p->committed_metadata, "");
	p = &c->topics[0].partitions[1];
	cr_assert(eq(i32, p->partition_index, 1));
	cr_assert(eq(i64, p->committed_offset, 0x100000000LL));
	cr_assert(eq(i32, p->committed_leader_epoch, 5));
	expect_str(p->committed_metadata, NULL);
	expect_str(c->topics[1].name, "t2");
	cr_assert(eq(i32, c->topics[1].n_partitions, 0));
	gqk_arena_free(&a);
}

/* kafka-python's OffsetCommit v2: RetentionTimeMs -1, no leader epoch
 * (-1 by default), no GroupInstanceId. */
Test(kapi_group, offset_commit_v2_request)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_offset_commit_req *c = &req.offset_commit;
	struct gqk_offset_commit_req_partition *p;

	b_header(&b, GQK_OFFSET_COMMIT, 2, 41, "kafka-python-2.0.2", false);
	b_str(&b, "kp-group");
	b_i32(&b, 1);
	b_str(&b, "kp-1");
	b_i64(&b, -1);
	b_i32(&b, 1);
	b_str(&b, "t1");
	b_i32(&b, 1);
	b_i32(&b, 3);
	b_i64(&b, 1000);
	b_str(&b, "");
	check_frame(&b, GQK_OFFSET_COMMIT, 2);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	expect_str(c->group_id, "kp-group");
	cr_assert(eq(i32, c->generation_id, 1));
	expect_str(c->member_id, "kp-1");
	expect_str(c->group_instance_id, NULL);
	cr_assert(eq(i64, c->retention_time_ms, -1));
	cr_assert(eq(i32, c->n_topics, 1));
	expect_str(c->topics[0].name, "t1");
	cr_assert(eq(i32, c->topics[0].n_partitions, 1));
	p = &c->topics[0].partitions[0];
	cr_assert(eq(i32, p->partition_index, 3));
	cr_assert(eq(i64, p->committed_offset, 1000));
	cr_assert(eq(i32, p->committed_leader_epoch, -1));
	expect_str(p->committed_metadata, "");
	gqk_arena_free(&a);
}

/* The field set changes at v5 (RetentionTimeMs gone) and v6 (leader
 * epoch): a v5 and a v6 frame with a retention time to check both. */
Test(kapi_group, offset_commit_v4_to_v6_requests)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_offset_commit_req *c = &req.offset_commit;
	int16_t v;

	for (v = 4; v <= 6; v++) {
		b_header(&b, GQK_OFFSET_COMMIT, v, 1, "c", false);
		b_str(&b, "g");
		b_i32(&b, -1);
		b_str(&b, "");
		if (v <= 4)
			b_i64(&b, 86400000);
		b_i32(&b, 1);
		b_str(&b, "t");
		b_i32(&b, 1);
		b_i32(&b, 0);
		b_i64(&b, 7);
		if (v >= 6)
			b_i32(&b, 2);
		b_str(&b, "meta");
		check_frame(&b, GQK_OFFSET_COMMIT, v);
		cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
		cr_assert(eq(i32, c->generation_id, -1));
		cr_assert(
			eq(i64, c->retention_time_ms, v <= 4 ? 86400000 : -1));
		cr_assert(eq(i32,
			     c->topics[0].partitions[0].committed_leader_epoch,
			     v >= 6 ? 2 : -1));
		expect_str(c->topics[0].partitions[0].committed_metadata,
			   "meta");
		gqk_arena_free(&a);
	}
}

/* OffsetCommit v7 response: ThrottleTimeMs, then per topic and partition
 * an error code; v2 has no ThrottleTimeMs. */
Test(kapi_group, offset_commit_responses)
{
	static const struct gqk_offset_commit_resp_partition p1[] = {
		{ 0, GQK_ERR_NONE },
		{ 1, GQK_ERR_ILLEGAL_GENERATION },
	};
	static const struct gqk_offset_commit_resp_partition p2[] = {
		{ 5, GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION },
	};
	const struct gqk_offset_commit_resp_topic topics[] = {
		{ GQK_STR("t1"), 2, p1 },
		{ GQK_STR("t2"), 1, p2 },
	};
	const struct gqk_offset_commit_resp resp = { 3, 2, topics };
	struct gqk_writer w;
	struct bb want;
	int16_t v;

	gqk_writer_init(&w);
	for (v = 2; v <= 7; v += 5) {
		want.n = 0;
		if (v >= 3)
			b_i32(&want, 3);
		b_i32(&want, 2);
		b_str(&want, "t1");
		b_i32(&want, 2);
		b_i32(&want, 0);
		b_i16(&want, 0);
		b_i32(&want, 1);
		b_i16(&want, 22);
		b_str(&want, "t2");
		b_i32(&want, 1);
		b_i32(&want, 5);
		b_i16(&want, 3);
		gqk_offset_commit_resp_encode(&w, v, &resp);
		expect_writer(&w, &want);
		gqk_writer_free(&w);
	}
}

/*
 * OffsetFetch
 */

/* librdkafka's OffsetFetch v5: the assigned partitions per topic; and a
 * null Topics array, meaning all committed partitions. */
Test(kapi_group, offset_fetch_v5_request)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_offset_fetch_req *f = &req.offset_fetch;

	b_header(&b, GQK_OFFSET_FETCH, 5, 50, "rdkafka", false);
	b_str(&b, "grp");
	b_i32(&b, 2);
	b_str(&b, "t1");
	b_i32(&b, 3);
	b_i32(&b, 0);
	b_i32(&b, 1);
	b_i32(&b, 2);
	b_str(&b, "t2");
	b_i32(&b, 0);
	check_frame(&b, GQK_OFFSET_FETCH, 5);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	expect_str(f->group_id, "grp");
	cr_assert(not(f->all_topics));
	cr_assert(eq(i32, f->n_topics, 2));
	expect_str(f->topics[0].name, "t1");
	cr_assert(eq(i32, f->topics[0].n_partition_indexes, 3));
	cr_assert(eq(i32, f->topics[0].partition_indexes[0], 0));
	cr_assert(eq(i32, f->topics[0].partition_indexes[1], 1));
	cr_assert(eq(i32, f->topics[0].partition_indexes[2], 2));
	expect_str(f->topics[1].name, "t2");
	cr_assert(eq(i32, f->topics[1].n_partition_indexes, 0));
	gqk_arena_free(&a);

	b_header(&b, GQK_OFFSET_FETCH, 5, 51, "rdkafka", false);
	b_str(&b, "grp");
	b_i32(&b, -1);
	check_frame(&b, GQK_OFFSET_FETCH, 5);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(f->all_topics);
	cr_assert(eq(i32, f->n_topics, -1));
	cr_assert(eq(ptr, f->topics, NULL));
	gqk_arena_free(&a);
}

/* kafka-python's OffsetFetch v1: Topics is not nullable before v2. */
Test(kapi_group, offset_fetch_v1_request)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_offset_fetch_req *f = &req.offset_fetch;

	b_header(&b, GQK_OFFSET_FETCH, 1, 52, "kafka-python-2.0.2", false);
	b_str(&b, "kp-group");
	b_i32(&b, 1);
	b_str(&b, "t1");
	b_i32(&b, 1);
	b_i32(&b, 0);
	check_frame(&b, GQK_OFFSET_FETCH, 1);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	expect_str(f->group_id, "kp-group");
	cr_assert(not(f->all_topics));
	cr_assert(eq(i32, f->n_topics, 1));
	expect_str(f->topics[0].name, "t1");
	cr_assert(eq(i32, f->topics[0].n_partition_indexes, 1));
	cr_assert(eq(i32, f->topics[0].partition_indexes[0], 0));
	gqk_arena_free(&a);

	b_header(&b, GQK_OFFSET_FETCH, 1, 53, "kafka-python-2.0.2", false);
	b_str(&b, "kp-group");
	b_i32(&b, -1);
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EMALFORMED));
	gqk_arena_free(&a);
}

static const struct gqk_offset_fetch_resp_partition fetch_parts[] = {
	{ 0, 42, 5, { "m", 1 }, GQK_ERR_NONE },
	{ 1, -1, -1, { "", 0 }, GQK_ERR_NONE },
	{ 2, -1, -1, { NULL, -1 }, GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION },
};
static const struct gqk_offset_fetch_resp_topic fetch_topic = { { "t1", 2 },
								3,
								fetch_parts };

/* The partitions of fetch_topic at @version. */
static void
b_fetch_topic(struct bb *b, int16_t version)
{
	b_str(b, "t1");
	b_i32(b, 3);
	b_i32(b, 0);
	b_i64(b, 42);
	if (version >= 5)
		b_i32(b, 5);
	b_str(b, "m");
	b_i16(b, 0);
	b_i32(b, 1);
	b_i64(b, -1);
	if (version >= 5)
		b_i32(b, -1);
	b_str(b, "");
	b_i16(b, 0);
	b_i32(b, 2);
	b_i64(b, -1);
	if (version >= 5)
		b_i32(b, -1);
	b_str(b, NULL);
	b_i16(b, 3);
}

/* OffsetFetch v5 response: ThrottleTimeMs first, CommittedLeaderEpoch
 * before Metadata, and the group-level ErrorCode after the topics; then
 * the same with a group error (NOT_COORDINATOR) and no topics. */
Test(kapi_group, offset_fetch_v5_response)
{
	struct gqk_offset_fetch_resp resp = { 4, 1, &fetch_topic, 0 };
	struct gqk_writer w;
	struct bb want;

	want.n = 0;
	b_i32(&want, 4);
	b_i32(&want, 1);
	b_fetch_topic(&want, 5);
	b_i16(&want, 0);
	gqk_writer_init(&w);
	gqk_offset_fetch_resp_encode(&w, 5, &resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);

	resp.n_topics = 0;
	resp.topics = NULL;
	resp.error_code = GQK_ERR_NOT_COORDINATOR;
	want.n = 0;
	b_i32(&want, 4);
	b_i32(&want, 0);
	b_i16(&want, 16);
	gqk_offset_fetch_resp_encode(&w, 5, &resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/* Older OffsetFetch responses: v1 topics only, v2 adds the group
 * ErrorCode, v3/v4 ThrottleTimeMs. */
Test(kapi_group, offset_fetch_old_responses)
{
	const struct gqk_offset_fetch_resp resp = {
		4, 1, &fetch_topic, GQK_ERR_COORDINATOR_LOAD_IN_PROGRESS
	};
	struct gqk_writer w;
	struct bb want;
	int16_t v;

	gqk_writer_init(&w);
	for (v = 1; v <= 4; v++) {
		want.n = 0;
		if (v >= 3)
			b_i32(&want, 4);
		b_i32(&want, 1);
		b_fetch_topic(&want, v);
		if (v >= 2)
			b_i16(&want, 14);
		gqk_offset_fetch_resp_encode(&w, v, &resp);
		expect_writer(&w, &want);
		gqk_writer_free(&w);
	}
}

/*
 * DescribeGroups and ListGroups
 */

/* DescribeGroups v0 (group ids) and v3+ (IncludeAuthorizedOperations). */
Test(kapi_group, describe_groups_requests)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_describe_groups_req *d = &req.describe_groups;
	int16_t v;

	for (v = 0; v <= 4; v++) {
		b_header(&b, GQK_DESCRIBE_GROUPS, v, 60, "adminclient-1",
			 false);
		b_i32(&b, 2);
		b_str(&b, "g1");
		b_str(&b, "g2");
		if (v >= 3)
			b_i8(&b, 1);
		check_frame(&b, GQK_DESCRIBE_GROUPS, v);
		cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
		cr_assert(eq(i32, d->n_groups, 2));
		expect_str(d->groups[0], "g1");
		expect_str(d->groups[1], "g2");
		cr_assert(eq(int, d->include_authorized_operations, v >= 3));
		gqk_arena_free(&a);
	}
	/* Groups is not nullable. */
	b_header(&b, GQK_DESCRIBE_GROUPS, 0, 60, "adminclient-1", false);
	b_i32(&b, -1);
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EMALFORMED));
	gqk_arena_free(&a);
}

/* DescribeGroups responses v0-v4: one Stable group with two members (one
 * static) and one unknown group with only an error. */
Test(kapi_group, describe_groups_responses)
{
	struct bb sub, as, want;
	struct gqk_describe_groups_member m[2];
	struct gqk_describe_groups_group g[2];
	struct gqk_describe_groups_resp resp;
	struct gqk_writer w;
	int16_t v;

	b_subscription_v1(&sub, false);
	b_assignment(&as, 1, false);
	memset(m, 0, sizeof(m));
	memset(g, 0, sizeof(g));
	m[0].member_id = GQK_STR("rdkafka-5fe1");
	m[0].group_instance_id = GQK_STR_NULL;
	m[0].client_id = GQK_STR("rdkafka");
	m[0].client_host = GQK_STR("/127.0.0.1");
	m[0].member_metadata.p = sub.b;
	m[0].member_metadata.len = (int32_t)sub.n;
	m[0].member_assignment.p = as.b;
	m[0].member_assignment.len = (int32_t)as.n;
	m[1] = m[0];
	m[1].member_id = GQK_STR("rdkafka-7080");
	m[1].group_instance_id = GQK_STR("static-2");
	m[1].member_assignment = GQK_BYTES_NULL;
	g[0].group_id = GQK_STR("grp");
	g[0].group_state = GQK_STR("Stable");
	g[0].protocol_type = GQK_STR("consumer");
	g[0].protocol_data = GQK_STR("range");
	g[0].n_members = 2;
	g[0].members = m;
	g[0].authorized_operations = GQK_AUTHORIZED_OPERATIONS_OMITTED;
	g[1].error_code = GQK_ERR_GROUP_AUTHORIZATION_FAILED;
	g[1].group_id = GQK_STR("nope");
	g[1].group_state = GQK_STR("");
	g[1].protocol_type = GQK_STR("");
	g[1].protocol_data = GQK_STR("");
	g[1].authorized_operations = 0x108;
	resp.throttle_time_ms = 6;
	resp.n_groups = 2;
	resp.groups = g;

	gqk_writer_init(&w);
	for (v = 0; v <= 4; v++) {
		want.n = 0;
		if (v >= 1)
			b_i32(&want, 6);
		b_i32(&want, 2);
		b_i16(&want, 0);
		b_str(&want, "grp");
		b_str(&want, "Stable");
		b_str(&want, "consumer");
		b_str(&want, "range");
		b_i32(&want, 2);
		b_str(&want, "rdkafka-5fe1");
		if (v >= 4)
			b_str(&want, NULL);
		b_str(&want, "rdkafka");
		b_str(&want, "/127.0.0.1");
		b_blob(&want, &sub);
		b_blob(&want, &as);
		b_str(&want, "rdkafka-7080");
		if (v >= 4)
			b_str(&want, "static-2");
		b_str(&want, "rdkafka");
		b_str(&want, "/127.0.0.1");
		b_blob(&want, &sub);
		b_i32(&want, 0); /* null assignment written empty */
		if (v >= 3)
			b_i32(&want, INT32_MIN);
		b_i16(&want, 30);
		b_str(&want, "nope");
		b_str(&want, "");
		b_str(&want, "");
		b_str(&want, "");
		b_i32(&want, 0);
		if (v >= 3)
			b_i32(&want, 0x108);
		gqk_describe_groups_resp_encode(&w, v, &resp);
		expect_writer(&w, &want);
		gqk_writer_free(&w);
	}
}

/* ListGroups v0-v2 requests have an empty body. */
Test(kapi_group, list_groups_requests)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	int16_t v;

	for (v = 0; v <= 2; v++) {
		b_header(&b, GQK_LIST_GROUPS, v, 70, "adminclient-1", false);
		check_frame(&b, GQK_LIST_GROUPS, v);
		cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
		cr_assert(eq(i32, req.list_groups.n_states_filter, 0));
		cr_assert(eq(ptr, req.list_groups.states_filter, NULL));
		gqk_arena_free(&a);
	}
}

/* ListGroups responses: ThrottleTimeMs from v1, then ErrorCode and the
 * (GroupId, ProtocolType) pairs. */
Test(kapi_group, list_groups_responses)
{
	const struct gqk_list_groups_group groups[] = {
		{ GQK_STR("grp"), GQK_STR("consumer") },
		{ GQK_STR("connect"), GQK_STR("") },
	};
	const struct gqk_list_groups_resp resp = { 2, 0, 2, groups };
	struct gqk_writer w;
	struct bb want;
	int16_t v;

	gqk_writer_init(&w);
	for (v = 0; v <= 2; v++) {
		want.n = 0;
		if (v >= 1)
			b_i32(&want, 2);
		b_i16(&want, 0);
		b_i32(&want, 2);
		b_str(&want, "grp");
		b_str(&want, "consumer");
		b_str(&want, "connect");
		b_str(&want, "");
		gqk_list_groups_resp_encode(&w, v, &resp);
		expect_writer(&w, &want);
		gqk_writer_free(&w);
	}
}

/*
 * Versions
 */

/* Encoders refuse versions outside their range and write nothing. */
Test(kapi_group, encoder_version_check)
{
	const struct gqk_find_coordinator_resp fc = { 0 };
	const struct gqk_join_group_resp jg = { 0 };
	const struct gqk_sync_group_resp sg = { 0 };
	const struct gqk_heartbeat_resp hb = { 0 };
	const struct gqk_leave_group_resp lg = { 0 };
	const struct gqk_offset_commit_resp oc = { 0 };
	const struct gqk_offset_fetch_resp of = { 0 };
	const struct gqk_describe_groups_resp dg = { 0 };
	const struct gqk_list_groups_resp lsg = { 0 };
	struct gqk_writer w;

#define REFUSED(call)                                                     \
	do {                                                              \
		gqk_writer_init(&w);                                      \
		call;                                                     \
		cr_assert(eq(int, w.err, GQK_EUNSUPPORTED), "%s", #call); \
		cr_assert(eq(sz, w.len, 0));                              \
		gqk_writer_free(&w);                                      \
	} while (0)
	REFUSED(gqk_find_coordinator_resp_encode(&w, 3, &fc));
	REFUSED(gqk_find_coordinator_resp_encode(&w, -1, &fc));
	REFUSED(gqk_join_group_resp_encode(&w, 6, &jg));
	REFUSED(gqk_sync_group_resp_encode(&w, 4, &sg));
	REFUSED(gqk_heartbeat_resp_encode(&w, 4, &hb));
	REFUSED(gqk_leave_group_resp_encode(&w, 2, &lg));
	REFUSED(gqk_offset_commit_resp_encode(&w, 1, &oc));
	REFUSED(gqk_offset_commit_resp_encode(&w, 8, &oc));
	REFUSED(gqk_offset_fetch_resp_encode(&w, 0, &of));
	REFUSED(gqk_offset_fetch_resp_encode(&w, 6, &of));
	REFUSED(gqk_describe_groups_resp_encode(&w, 5, &dg));
	REFUSED(gqk_list_groups_resp_encode(&w, 3, &lsg));
#undef REFUSED
}

/* Per-API decoders reject versions outside their range on their own, and
 * the dispatcher rejects keys outside the advertised ranges. */
Test(kapi_group, decoder_version_check)
{
	static const uint8_t zero[8] = { 0 };
	struct gqk_reader r;
	struct gqk_arena a;
	union gqk_request q;
	struct bb b;
	struct gqk_header h;

	gqk_arena_init(&a, 0);
#define REFUSED(call)                                                    \
	do {                                                             \
		gqk_reader_init(&r, zero, sizeof(zero));                 \
		cr_assert(eq(int, call, GQK_EUNSUPPORTED), "%s", #call); \
	} while (0)
	REFUSED(gqk_find_coordinator_req_decode(&r, 3, &a,
						&q.find_coordinator));
	REFUSED(gqk_join_group_req_decode(&r, 6, &a, &q.join_group));
	REFUSED(gqk_join_group_req_decode(&r, -1, &a, &q.join_group));
	REFUSED(gqk_sync_group_req_decode(&r, 4, &a, &q.sync_group));
	REFUSED(gqk_heartbeat_req_decode(&r, 4, &a, &q.heartbeat));
	REFUSED(gqk_leave_group_req_decode(&r, 2, &a, &q.leave_group));
	REFUSED(gqk_offset_commit_req_decode(&r, 1, &a, &q.offset_commit));
	REFUSED(gqk_offset_commit_req_decode(&r, 8, &a, &q.offset_commit));
	REFUSED(gqk_offset_fetch_req_decode(&r, 0, &a, &q.offset_fetch));
	REFUSED(gqk_offset_fetch_req_decode(&r, 6, &a, &q.offset_fetch));
	REFUSED(gqk_describe_groups_req_decode(&r, 5, &a, &q.describe_groups));
	REFUSED(gqk_list_groups_req_decode(&r, 3, &a, &q.list_groups));
#undef REFUSED
	/* No version applies, so the out-struct is only zeroed, and nothing
	 * was read. */
	cr_assert(eq(i32, q.list_groups.n_states_filter, 0));
	gqk_reader_init(&r, zero, sizeof(zero));
	gqk_offset_commit_req_decode(&r, 1, &a, &q.offset_commit);
	cr_assert(eq(i64, q.offset_commit.retention_time_ms, 0));
	cr_assert(eq(ptr, (void *)q.offset_commit.group_instance_id.p, NULL));
	cr_assert(eq(sz, gqk_reader_remaining(&r), sizeof(zero)));
	gqk_arena_free(&a);

	/* ListGroups v3 is flexible and not advertised. */
	b_header(&b, GQK_LIST_GROUPS, 3, 1, "c", false);
	b_i8(&b, 0);
	b_i8(&b, 0);
	cr_assert(eq(int, decode(&b, &a, &h, &q), GQK_EUNSUPPORTED));
	cr_assert(h.flexible);
	gqk_arena_free(&a);
}

/*
 * Consumer protocol payloads
 */

/* Decode @len bytes of @p, copied to a heap block of exactly that size
 * (ASan sees over-reads), as an assignment or a subscription. */
static int
decode_payload(const struct bb *p, size_t len, bool assignment)
{
	struct gqk_consumer_subscription s;
	struct gqk_consumer_assignment as;
	struct gqk_arena a;
	struct gqk_bytes in;
	uint8_t *copy;
	int rv;

	copy = malloc(len != 0 ? len : 1);
	cr_assert(not(eq(ptr, copy, NULL)));
	memset(copy, 0, len);
	memcpy(copy, p->b, len < p->n ? len : p->n);
	in.p = copy;
	in.len = (int32_t)len;
	gqk_arena_init(&a, 0);
	if (assignment)
		rv = gqk_consumer_assignment_decode(in, &a, &as);
	else
		rv = gqk_consumer_subscription_decode(in, &a, &s);
	gqk_arena_free(&a);
	free(copy);
	return rv;
}

/*
 * Every prefix of the payload @p shorter than @layout (the bytes of the
 * layout the decoder knows: all of @p for a known version) fails with
 * GQK_EMALFORMED, except the empty one for an assignment (the empty
 * assignment); longer ones decode. One trailing byte fails when @layout
 * is all of @p, and is ignored otherwise (a newer version).
 */
static void
check_payload_truncations(const struct bb *p, bool assignment, size_t layout)
{
	size_t n;
	int want;

	for (n = 0; n < p->n; n++) {
		if (n >= layout || (n == 0 && assignment))
			want = 0;
		else
			want = GQK_EMALFORMED;
		cr_assert(eq(int, decode_payload(p, n, assignment), want),
			  "prefix %zu of %zu", n, p->n);
	}
	cr_assert(eq(int, decode_payload(p, p->n, assignment), 0));
	cr_assert(eq(int, decode_payload(p, p->n + 1, assignment),
		     layout == p->n ? GQK_EMALFORMED : 0),
		  "trailing byte");
}

/* Encode @s and compare with @want, then decode it back. */
static void
subscription_round_trip(const struct gqk_consumer_subscription *s,
			const struct bb *want, struct gqk_arena *a,
			struct gqk_consumer_subscription *out)
{
	struct gqk_writer w;
	struct gqk_bytes in;

	gqk_writer_init(&w);
	gqk_consumer_subscription_encode(&w, s);
	expect_writer(&w, want);
	gqk_writer_free(&w);
	in.p = want->b;
	in.len = (int32_t)want->n;
	cr_assert(eq(int, gqk_consumer_subscription_decode(in, a, out), 0));
}

/* Subscription v0 (kafka-python) and v1 (librdkafka, with and without
 * owned partitions): exact bytes, and the decoder gives back every
 * field. */
Test(kapi_group, consumer_subscription_round_trip)
{
	static const int32_t owned_parts[] = { 0, 2 };
	const struct gqk_str topics[] = { GQK_STR("t1"), GQK_STR("t2") };
	const struct gqk_consumer_topic_partitions owned = { GQK_STR("t1"), 2,
							     owned_parts };
	struct gqk_consumer_subscription s = { 0 }, out;
	struct gqk_arena a;
	struct bb want;

	gqk_arena_init(&a, 0);
	s.version = 0;
	s.n_topics = 1;
	s.topics = topics;
	s.user_data.p = (const uint8_t *)"";
	s.user_data.len = 0;
	b_subscription_v0(&want);
	subscription_round_trip(&s, &want, &a, &out);
	cr_assert(eq(i16, out.version, 0));
	cr_assert(eq(i32, out.n_topics, 1));
	expect_str(out.topics[0], "t1");
	cr_assert(eq(i32, out.user_data.len, 0));
	cr_assert(not(eq(ptr, (void *)out.user_data.p, NULL)));
	cr_assert(eq(i32, out.n_owned_partitions, 0));
	cr_assert(eq(ptr, (void *)out.owned_partitions, NULL));
	check_payload_truncations(&want, false, want.n);

	s.version = 1;
	s.n_topics = 2;
	s.user_data = GQK_BYTES_NULL;
	s.n_owned_partitions = 0;
	b_subscription_v1(&want, false);
	subscription_round_trip(&s, &want, &a, &out);
	cr_assert(eq(i16, out.version, 1));
	cr_assert(eq(i32, out.n_topics, 2));
	expect_str(out.topics[1], "t2");
	cr_assert(eq(i32, out.user_data.len, -1));
	cr_assert(eq(i32, out.n_owned_partitions, 0));
	check_payload_truncations(&want, false, want.n);

	s.n_owned_partitions = 1;
	s.owned_partitions = &owned;
	b_subscription_v1(&want, true);
	subscription_round_trip(&s, &want, &a, &out);
	cr_assert(eq(i32, out.n_owned_partitions, 1));
	expect_str(out.owned_partitions[0].topic, "t1");
	cr_assert(eq(i32, out.owned_partitions[0].n_partitions, 2));
	cr_assert(eq(i32, out.owned_partitions[0].partitions[0], 0));
	cr_assert(eq(i32, out.owned_partitions[0].partitions[1], 2));
	check_payload_truncations(&want, false, want.n);

	/* v0 drops the owned partitions. */
	s.version = 0;
	want.n = 0;
	b_i16(&want, 0);
	b_i32(&want, 2);
	b_str(&want, "t1");
	b_str(&want, "t2");
	b_bytes(&want, NULL, 0);
	subscription_round_trip(&s, &want, &a, &out);
	cr_assert(eq(i32, out.n_owned_partitions, 0));
	gqk_arena_free(&a);
}

/* Newer subscriptions (v2 GenerationId, v3 RackId) are read as v1 and the
 * rest is ignored, as Kafka does; a negative version, a null topic, an
 * empty or null payload and a forged count are malformed. */
Test(kapi_group, consumer_subscription_versions)
{
	struct gqk_consumer_subscription out;
	struct gqk_arena a;
	struct gqk_bytes in;
	struct bb p;

	gqk_arena_init(&a, 0);
	b_subscription_v1(&p, true);
	p.b[1] = 3;
	b_i32(&p, 7);       /* v2: GenerationId */
	b_str(&p, "rack1"); /* v3: RackId */
	in.p = p.b;
	in.len = (int32_t)p.n;
	cr_assert(eq(int, gqk_consumer_subscription_decode(in, &a, &out), 0));
	cr_assert(eq(i16, out.version, 3));
	cr_assert(eq(i32, out.n_topics, 2));
	cr_assert(eq(i32, out.n_owned_partitions, 1));
	cr_assert(eq(i32, out.owned_partitions[0].partitions[1], 2));
	/* Cutting inside the v1 fields still fails; after them it does not. */
	check_payload_truncations(&p, false, p.n - 11);

	b_subscription_v0(&p);
	p.b[0] = 0xff;
	p.b[1] = 0xff;
	cr_assert(eq(int, decode_payload(&p, p.n, false), GQK_EMALFORMED));

	p.n = 0;
	b_i16(&p, 0);
	b_i32(&p, 1);
	b_str(&p, NULL);
	b_bytes(&p, NULL, 0);
	cr_assert(eq(int, decode_payload(&p, p.n, false), GQK_EMALFORMED));

	in = GQK_BYTES_NULL;
	cr_assert(eq(int, gqk_consumer_subscription_decode(in, &a, &out),
		     GQK_EMALFORMED));

	p.n = 0;
	b_i16(&p, 1);
	b_i32(&p, 0x7fffffff);
	b_str(&p, "t1");
	in.p = p.b;
	in.len = (int32_t)p.n;
	gqk_arena_free(&a);
	cr_assert(eq(int, gqk_consumer_subscription_decode(in, &a, &out),
		     GQK_EMALFORMED));
	cr_assert(eq(sz, a.used, 0));
	gqk_arena_free(&a);
}

/* Assignment v0-v3 (one layout): exact bytes, every field back, and the
 * empty payload is the empty assignment. */
Test(kapi_group, consumer_assignment_round_trip)
{
	static const int32_t p1[] = { 0, 1 };
	static const int32_t p2[] = { 3 };
	const struct gqk_consumer_topic_partitions tp[] = {
		{ GQK_STR("t1"), 2, p1 },
		{ GQK_STR("t2"), 1, p2 },
	};
	struct gqk_consumer_assignment s = { 0 }, out;
	struct gqk_arena a;
	struct gqk_writer w;
	struct gqk_bytes in;
	struct bb want;
	int16_t v;

	gqk_arena_init(&a, 0);
	gqk_writer_init(&w);
	for (v = 0; v <= 3; v++) {
		s.version = v;
		s.n_assigned = 2;
		s.assigned = tp;
		s.user_data.p = (const uint8_t *)"ud";
		s.user_data.len = v == 1 ? -1 : 2;
		if (v == 1)
			s.user_data = GQK_BYTES_NULL;
		b_assignment(&want, v, v != 1);
		gqk_consumer_assignment_encode(&w, &s);
		expect_writer(&w, &want);
		gqk_writer_free(&w);
		in.p = want.b;
		in.len = (int32_t)want.n;
		cr_assert(eq(int, gqk_consumer_assignment_decode(in, &a, &out),
			     0));
		cr_assert(eq(i16, out.version, v));
		cr_assert(eq(i32, out.n_assigned, 2));
		expect_str(out.assigned[0].topic, "t1");
		cr_assert(eq(i32, out.assigned[0].n_partitions, 2));
		cr_assert(eq(i32, out.assigned[0].partitions[0], 0));
		cr_assert(eq(i32, out.assigned[0].partitions[1], 1));
		expect_str(out.assigned[1].topic, "t2");
		cr_assert(eq(i32, out.assigned[1].n_partitions, 1));
		cr_assert(eq(i32, out.assigned[1].partitions[0], 3));
		if (v == 1) {
			cr_assert(eq(i32, out.user_data.len, -1));
		} else {
			cr_assert(eq(i32, out.user_data.len, 2));
			cr_assert(eq(int, memcmp(out.user_data.p, "ud", 2), 0));
		}
		check_payload_truncations(&want, true, want.n);
	}

	/* Nothing assigned: an empty array, not an empty payload. */
	s.version = 0;
	s.n_assigned = -1;
	s.user_data = GQK_BYTES_NULL;
	want.n = 0;
	b_i16(&want, 0);
	b_i32(&want, 0);
	b_bytes(&want, NULL, 0);
	gqk_consumer_assignment_encode(&w, &s);
	expect_writer(&w, &want);
	gqk_writer_free(&w);

	/* The empty payload (a member the leader left out). */
	in.p = want.b;
	in.len = 0;
	cr_assert(eq(int, gqk_consumer_assignment_decode(in, &a, &out), 0));
	cr_assert(eq(i16, out.version, 0));
	cr_assert(eq(i32, out.n_assigned, 0));
	cr_assert(eq(ptr, (void *)out.assigned, NULL));
	cr_assert(eq(i32, out.user_data.len, -1));
	in = GQK_BYTES_NULL;
	cr_assert(eq(int, gqk_consumer_assignment_decode(in, &a, &out), 0));
	gqk_arena_free(&a);
}

/* A newer assignment version is read as v0 with the rest ignored; a
 * negative version and a null partition list are malformed. */
Test(kapi_group, consumer_assignment_versions)
{
	struct bb p;

	b_assignment(&p, 4, true);
	b_i32(&p, 99);
	check_payload_truncations(&p, true, p.n - 4);

	b_assignment(&p, -2, false);
	cr_assert(eq(int, decode_payload(&p, p.n, true), GQK_EMALFORMED));

	p.n = 0;
	b_i16(&p, 0);
	b_i32(&p, 1);
	b_str(&p, "t1");
	b_i32(&p, -1);
	b_bytes(&p, NULL, 0);
	cr_assert(eq(int, decode_payload(&p, p.n, true), GQK_EMALFORMED));
}

/* Payload encoders refuse versions they cannot write. */
Test(kapi_group, consumer_encoder_version_check)
{
	struct gqk_consumer_subscription s = { 0 };
	struct gqk_consumer_assignment as = { 0 };
	struct gqk_writer w;

	gqk_writer_init(&w);
	s.version = 2;
	gqk_consumer_subscription_encode(&w, &s);
	cr_assert(eq(int, w.err, GQK_EUNSUPPORTED));
	cr_assert(eq(sz, w.len, 0));
	gqk_writer_free(&w);
	s.version = -1;
	gqk_consumer_subscription_encode(&w, &s);
	cr_assert(eq(int, w.err, GQK_EUNSUPPORTED));
	gqk_writer_free(&w);
	as.version = 4;
	gqk_consumer_assignment_encode(&w, &as);
	cr_assert(eq(int, w.err, GQK_EUNSUPPORTED));
	cr_assert(eq(sz, w.len, 0));
	gqk_writer_free(&w);
}
