/* SPDX-License-Identifier: MIT */
/*
 * kapi_group.c - Kafka consumer group request decoders, response encoders
 * and consumer protocol payloads (see kapi_group.h).
 *
 * Same rules as kapi.c: field order from the Kafka 3.4.0 message JSON of
 * each version (KAFKA-PROTOCOL.md Appendix A/B), the reader's sticky error
 * so that a run of fields needs one check, arrays allocated only after
 * their count has been checked against the bytes left (the minimum element
 * size is noted at each read_array() call), and an exact end of body.
 * Encoders write the fields of the requested version and nothing else.
 */
#include "kapi_group.h"

#include <string.h>

#include "kapi_internal.h"

/*
 * FindCoordinator
 */

int
gqk_find_coordinator_req_decode(struct gqk_reader *r, int16_t version,
				struct gqk_arena *a,
				struct gqk_find_coordinator_req *out)
{
	(void)a;
	memset(out, 0, sizeof(*out));
	out->key_type = GQK_COORDINATOR_GROUP;
	if (version < 0 || version > 2)
		return GQK_EUNSUPPORTED;
	gqk_read_string(r, &out->key);
	if (version >= 1)
		out->key_type = gqk_read_i8(r);
	return finish(r);
}

void
gqk_find_coordinator_resp_encode(struct gqk_writer *w, int16_t version,
				 const struct gqk_find_coordinator_resp *resp)
{
	if (!version_ok(w, version, 0, 2))
		return;
	if (version >= 1)
		gqk_put_i32(w, resp->throttle_time_ms);
	gqk_put_i16(w, resp->error_code);
	if (version >= 1)
		gqk_put_nullable_string(w, resp->error_message);
	gqk_put_i32(w, resp->node_id);
	gqk_put_string(w, resp->host);
	gqk_put_i32(w, resp->port);
}

/*
 * JoinGroup
 */

int
gqk_join_group_req_decode(struct gqk_reader *r, int16_t version,
			  struct gqk_arena *a, struct gqk_join_group_req *out)
{
	struct gqk_join_group_req_protocol *p;
	int32_t i;

	memset(out, 0, sizeof(*out));
	out->rebalance_timeout_ms = -1;
	out->group_instance_id = GQK_STR_NULL;
	if (version < 0 || version > 5)
		return GQK_EUNSUPPORTED;
	gqk_read_string(r, &out->group_id);
	out->session_timeout_ms = gqk_read_i32(r);
	/* v0 has none: Kafka's JoinGroupRequest copies the session timeout. */
	out->rebalance_timeout_ms =
		version >= 1 ? gqk_read_i32(r) : out->session_timeout_ms;
	gqk_read_string(r, &out->member_id);
	if (version >= 5)
		gqk_read_nullable_string(r, &out->group_instance_id);
	gqk_read_string(r, &out->protocol_type);
	/* Protocol: name (2) + metadata length (4). */
	out->protocols =
		read_array(r, a, false, sizeof(*p), 6, &out->n_protocols);
	for (i = 0; i < out->n_protocols && r->err == 0; i++) {
		p = &out->protocols[i];
		gqk_read_string(r, &p->name);
		gqk_read_bytes(r, &p->metadata);
	}
	return finish(r);
}

void
gqk_join_group_resp_encode(struct gqk_writer *w, int16_t version,
			   const struct gqk_join_group_resp *resp)
{
	const struct gqk_join_group_resp_member *m;
	int32_t i, n;

	if (!version_ok(w, version, 0, 5))
		return;
	if (version >= 2)
		gqk_put_i32(w, resp->throttle_time_ms);
	gqk_put_i16(w, resp->error_code);
	gqk_put_i32(w, resp->generation_id);
	gqk_put_string(w, resp->protocol_name);
	gqk_put_string(w, resp->leader);
	gqk_put_string(w, resp->member_id);
	n = count(resp->n_members);
	gqk_put_array_len(w, n);
	for (i = 0; i < n; i++) {
		m = &resp->members[i];
		gqk_put_string(w, m->member_id);
		if (version >= 5)
			gqk_put_nullable_string(w, m->group_instance_id);
		gqk_put_bytes(w, m->metadata);
	}
}

/*
 * SyncGroup
 */

int
gqk_sync_group_req_decode(struct gqk_reader *r, int16_t version,
			  struct gqk_arena *a, struct gqk_sync_group_req *out)
{
	struct gqk_sync_group_req_assignment *as;
	int32_t i;

	memset(out, 0, sizeof(*out));
	out->group_instance_id = GQK_STR_NULL;
	if (version < 0 || version > 3)
		return GQK_EUNSUPPORTED;
	gqk_read_string(r, &out->group_id);
	out->generation_id = gqk_read_i32(r);
	gqk_read_string(r, &out->member_id);
	if (version >= 3)
		gqk_read_nullable_string(r, &out->group_instance_id);
	/* Assignment: member id (2) + assignment length (4). */
	out->assignments =
		read_array(r, a, false, sizeof(*as), 6, &out->n_assignments);
	for (i = 0; i < out->n_assignments && r->err == 0; i++) {
		as = &out->assignments[i];
		gqk_read_string(r, &as->member_id);
		gqk_read_bytes(r, &as->assignment);
	}
	return finish(r);
}

void
gqk_sync_group_resp_encode(struct gqk_writer *w, int16_t version,
			   const struct gqk_sync_group_resp *resp)
{
	if (!version_ok(w, version, 0, 3))
		return;
	if (version >= 1)
		gqk_put_i32(w, resp->throttle_time_ms);
	gqk_put_i16(w, resp->error_code);
	gqk_put_bytes(w, resp->assignment);
}

/*
 * Heartbeat
 */

int
gqk_heartbeat_req_decode(struct gqk_reader *r, int16_t version,
			 struct gqk_arena *a, struct gqk_heartbeat_req *out)
{
	(void)a;
	memset(out, 0, sizeof(*out));
	out->group_instance_id = GQK_STR_NULL;
	if (version < 0 || version > 3)
		return GQK_EUNSUPPORTED;
	gqk_read_string(r, &out->group_id);
	out->generation_id = gqk_read_i32(r);
	gqk_read_string(r, &out->member_id);
	if (version >= 3)
		gqk_read_nullable_string(r, &out->group_instance_id);
	return finish(r);
}

void
gqk_heartbeat_resp_encode(struct gqk_writer *w, int16_t version,
			  const struct gqk_heartbeat_resp *resp)
{
	if (!version_ok(w, version, 0, 3))
		return;
	if (version >= 1)
		gqk_put_i32(w, resp->throttle_time_ms);
	gqk_put_i16(w, resp->error_code);
}

/*
 * LeaveGroup
 */

int
gqk_leave_group_req_decode(struct gqk_reader *r, int16_t version,
			   struct gqk_arena *a, struct gqk_leave_group_req *out)
{
	(void)a;
	memset(out, 0, sizeof(*out));
	if (version < 0 || version > 1)
		return GQK_EUNSUPPORTED;
	gqk_read_string(r, &out->group_id);
	gqk_read_string(r, &out->member_id);
	return finish(r);
}

void
gqk_leave_group_resp_encode(struct gqk_writer *w, int16_t version,
			    const struct gqk_leave_group_resp *resp)
{
	if (!version_ok(w, version, 0, 1))
		return;
	if (version >= 1)
		gqk_put_i32(w, resp->throttle_time_ms);
	gqk_put_i16(w, resp->error_code);
}

/*
 * OffsetCommit
 */

/* One topic's partitions of an OffsetCommit request. */
static void
read_commit_partitions(struct gqk_reader *r, int16_t version,
		       struct gqk_arena *a,
		       struct gqk_offset_commit_req_topic *t)
{
	struct gqk_offset_commit_req_partition *p;
	int32_t j;

	/* Partition: index 4, offset 8, metadata 2, v6+ leader epoch 4. */
	t->partitions = read_array(r, a, false, sizeof(*p),
				   version >= 6 ? 18 : 14, &t->n_partitions);
	for (j = 0; j < t->n_partitions && r->err == 0; j++) {
		p = &t->partitions[j];
		p->partition_index = gqk_read_i32(r);
		p->committed_offset = gqk_read_i64(r);
		p->committed_leader_epoch = version >= 6 ? gqk_read_i32(r) : -1;
		gqk_read_nullable_string(r, &p->committed_metadata);
	}
}

int
gqk_offset_commit_req_decode(struct gqk_reader *r, int16_t version,
			     struct gqk_arena *a,
			     struct gqk_offset_commit_req *out)
{
	struct gqk_offset_commit_req_topic *t;
	int32_t i;

	memset(out, 0, sizeof(*out));
	out->generation_id = -1;
	out->group_instance_id = GQK_STR_NULL;
	out->retention_time_ms = -1;
	if (version < 2 || version > 7)
		return GQK_EUNSUPPORTED;
	gqk_read_string(r, &out->group_id);
	out->generation_id = gqk_read_i32(r);
	gqk_read_string(r, &out->member_id);
	if (version >= 7)
		gqk_read_nullable_string(r, &out->group_instance_id);
	if (version <= 4)
		out->retention_time_ms = gqk_read_i64(r);
	/* Topic: name (2) + partition count (4). */
	out->topics = read_array(r, a, false, sizeof(*t), 6, &out->n_topics);
	for (i = 0; i < out->n_topics && r->err == 0; i++) {
		t = &out->topics[i];
		gqk_read_string(r, &t->name);
		read_commit_partitions(r, version, a, t);
	}
	return finish(r);
}

void
gqk_offset_commit_resp_encode(struct gqk_writer *w, int16_t version,
			      const struct gqk_offset_commit_resp *resp)
{
	const struct gqk_offset_commit_resp_topic *t;
	int32_t i, j, nt, np;

	if (!version_ok(w, version, 2, 7))
		return;
	if (version >= 3)
		gqk_put_i32(w, resp->throttle_time_ms);
	nt = count(resp->n_topics);
	gqk_put_array_len(w, nt);
	for (i = 0; i < nt; i++) {
		t = &resp->topics[i];
		gqk_put_string(w, t->name);
		np = count(t->n_partitions);
		gqk_put_array_len(w, np);
		for (j = 0; j < np; j++) {
			gqk_put_i32(w, t->partitions[j].partition_index);
			gqk_put_i16(w, t->partitions[j].error_code);
		}
	}
}

/*
 * OffsetFetch
 */

int
gqk_offset_fetch_req_decode(struct gqk_reader *r, int16_t version,
			    struct gqk_arena *a,
			    struct gqk_offset_fetch_req *out)
{
	struct gqk_offset_fetch_req_topic *t;
	int32_t i;

	memset(out, 0, sizeof(*out));
	if (version < 1 || version > 5)
		return GQK_EUNSUPPORTED;
	gqk_read_string(r, &out->group_id);
	/* Topic: name (2) + partition count (4); null from v2. */
	out->topics =
		read_array(r, a, version >= 2, sizeof(*t), 6, &out->n_topics);
	for (i = 0; i < out->n_topics && r->err == 0; i++) {
		t = &out->topics[i];
		gqk_read_string(r, &t->name);
		t->partition_indexes =
			read_i32_array(r, a, &t->n_partition_indexes);
	}
	if (finish(r) != 0)
		return r->err;
	out->all_topics = out->n_topics < 0;
	return 0;
}

void
gqk_offset_fetch_resp_encode(struct gqk_writer *w, int16_t version,
			     const struct gqk_offset_fetch_resp *resp)
{
	const struct gqk_offset_fetch_resp_topic *t;
	const struct gqk_offset_fetch_resp_partition *p;
	int32_t i, j, nt, np;

	if (!version_ok(w, version, 1, 5))
		return;
	if (version >= 3)
		gqk_put_i32(w, resp->throttle_time_ms);
	nt = count(resp->n_topics);
	gqk_put_array_len(w, nt);
	for (i = 0; i < nt; i++) {
		t = &resp->topics[i];
		gqk_put_string(w, t->name);
		np = count(t->n_partitions);
		gqk_put_array_len(w, np);
		for (j = 0; j < np; j++) {
			p = &t->partitions[j];
			gqk_put_i32(w, p->partition_index);
			gqk_put_i64(w, p->committed_offset);
			if (version >= 5)
				gqk_put_i32(w, p->committed_leader_epoch);
			gqk_put_nullable_string(w, p->metadata);
			gqk_put_i16(w, p->error_code);
		}
	}
	/* The group-level error goes after the topics. */
	if (version >= 2)
		gqk_put_i16(w, resp->error_code);
}

/*
 * DescribeGroups
 */

int
gqk_describe_groups_req_decode(struct gqk_reader *r, int16_t version,
			       struct gqk_arena *a,
			       struct gqk_describe_groups_req *out)
{
	memset(out, 0, sizeof(*out));
	if (version < 0 || version > 4)
		return GQK_EUNSUPPORTED;
	out->groups = read_string_array(r, a, false, &out->n_groups);
	if (version >= 3)
		out->include_authorized_operations = gqk_read_bool(r);
	return finish(r);
}

/* One DescribedGroupMember. */
static void
put_described_member(struct gqk_writer *w, int16_t version,
		     const struct gqk_describe_groups_member *m)
{
	gqk_put_string(w, m->member_id);
	if (version >= 4)
		gqk_put_nullable_string(w, m->group_instance_id);
	gqk_put_string(w, m->client_id);
	gqk_put_string(w, m->client_host);
	gqk_put_bytes(w, m->member_metadata);
	gqk_put_bytes(w, m->member_assignment);
}

void
gqk_describe_groups_resp_encode(struct gqk_writer *w, int16_t version,
				const struct gqk_describe_groups_resp *resp)
{
	const struct gqk_describe_groups_group *g;
	int32_t i, j, ng, nm;

	if (!version_ok(w, version, 0, 4))
		return;
	if (version >= 1)
		gqk_put_i32(w, resp->throttle_time_ms);
	ng = count(resp->n_groups);
	gqk_put_array_len(w, ng);
	for (i = 0; i < ng; i++) {
		g = &resp->groups[i];
		gqk_put_i16(w, g->error_code);
		gqk_put_string(w, g->group_id);
		gqk_put_string(w, g->group_state);
		gqk_put_string(w, g->protocol_type);
		gqk_put_string(w, g->protocol_data);
		nm = count(g->n_members);
		gqk_put_array_len(w, nm);
		for (j = 0; j < nm; j++)
			put_described_member(w, version, &g->members[j]);
		if (version >= 3)
			gqk_put_i32(w, g->authorized_operations);
	}
}

/*
 * ListGroups
 */

int
gqk_list_groups_req_decode(struct gqk_reader *r, int16_t version,
			   struct gqk_arena *a, struct gqk_list_groups_req *out)
{
	(void)a;
	memset(out, 0, sizeof(*out));
	if (version < 0 || version > 2)
		return GQK_EUNSUPPORTED;
	return finish(r);
}

void
gqk_list_groups_resp_encode(struct gqk_writer *w, int16_t version,
			    const struct gqk_list_groups_resp *resp)
{
	int32_t i, n;

	if (!version_ok(w, version, 0, 2))
		return;
	if (version >= 1)
		gqk_put_i32(w, resp->throttle_time_ms);
	gqk_put_i16(w, resp->error_code);
	n = count(resp->n_groups);
	gqk_put_array_len(w, n);
	for (i = 0; i < n; i++) {
		gqk_put_string(w, resp->groups[i].group_id);
		gqk_put_string(w, resp->groups[i].protocol_type);
	}
}

/*
 * Consumer protocol payloads
 */

/* ARRAY[Topic STRING, Partitions ARRAY[INT32]] (non-nullable). */
static const struct gqk_consumer_topic_partitions *
read_topic_partitions(struct gqk_reader *r, struct gqk_arena *a, int32_t *n)
{
	struct gqk_consumer_topic_partitions *tp;
	int32_t i;

	/* Element: topic (2) + partition count (4). */
	tp = read_array(r, a, false, sizeof(*tp), 6, n);
	for (i = 0; i < *n && r->err == 0; i++) {
		gqk_read_string(r, &tp[i].topic);
		tp[i].partitions = read_i32_array(r, a, &tp[i].n_partitions);
	}
	return tp;
}

static void
put_topic_partitions(struct gqk_writer *w, int32_t n,
		     const struct gqk_consumer_topic_partitions *tp)
{
	int32_t i;

	n = count(n);
	gqk_put_array_len(w, n);
	for (i = 0; i < n; i++) {
		gqk_put_string(w, tp[i].topic);
		put_i32_array(w, tp[i].n_partitions, tp[i].partitions);
	}
}

/*
 * The payload version: a negative one is malformed. Returns false when the
 * bytes after the known layout must be ignored (a version above @max).
 */
static bool
read_payload_version(struct gqk_reader *r, int16_t max, int16_t *version)
{
	*version = gqk_read_i16(r);
	if (r->err == 0 && *version < 0)
		gqk_reader_fail(r, GQK_EMALFORMED);
	return *version <= max;
}

int
gqk_consumer_subscription_decode(struct gqk_bytes payload, struct gqk_arena *a,
				 struct gqk_consumer_subscription *out)
{
	struct gqk_reader r;
	bool exact;

	memset(out, 0, sizeof(*out));
	out->user_data = GQK_BYTES_NULL;
	if (payload.len <= 0)
		return GQK_EMALFORMED;
	gqk_reader_init(&r, payload.p, (size_t)payload.len);
	exact = read_payload_version(&r, GQK_CONSUMER_SUBSCRIPTION_VERSION_MAX,
				     &out->version);
	out->topics = read_string_array(&r, a, false, &out->n_topics);
	gqk_read_nullable_bytes(&r, &out->user_data);
	if (out->version >= 1)
		out->owned_partitions =
			read_topic_partitions(&r, a, &out->n_owned_partitions);
	return exact ? finish(&r) : r.err;
}

void
gqk_consumer_subscription_encode(struct gqk_writer *w,
				 const struct gqk_consumer_subscription *s)
{
	int32_t i, n;

	if (!version_ok(w, s->version, 0, 1))
		return;
	gqk_put_i16(w, s->version);
	n = count(s->n_topics);
	gqk_put_array_len(w, n);
	for (i = 0; i < n; i++)
		gqk_put_string(w, s->topics[i]);
	gqk_put_nullable_bytes(w, s->user_data);
	if (s->version >= 1)
		put_topic_partitions(w, s->n_owned_partitions,
				     s->owned_partitions);
}

int
gqk_consumer_assignment_decode(struct gqk_bytes payload, struct gqk_arena *a,
			       struct gqk_consumer_assignment *out)
{
	struct gqk_reader r;
	bool exact;

	memset(out, 0, sizeof(*out));
	out->user_data = GQK_BYTES_NULL;
	/* What the coordinator sends a member the leader did not assign. */
	if (payload.len <= 0)
		return 0;
	gqk_reader_init(&r, payload.p, (size_t)payload.len);
	exact = read_payload_version(&r, GQK_CONSUMER_ASSIGNMENT_VERSION_MAX,
				     &out->version);
	out->assigned = read_topic_partitions(&r, a, &out->n_assigned);
	gqk_read_nullable_bytes(&r, &out->user_data);
	return exact ? finish(&r) : r.err;
}

void
gqk_consumer_assignment_encode(struct gqk_writer *w,
			       const struct gqk_consumer_assignment *s)
{
	if (!version_ok(w, s->version, 0, GQK_CONSUMER_ASSIGNMENT_VERSION_MAX))
		return;
	gqk_put_i16(w, s->version);
	put_topic_partitions(w, s->n_assigned, s->assigned);
	gqk_put_nullable_bytes(w, s->user_data);
}
