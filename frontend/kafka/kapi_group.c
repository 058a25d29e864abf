/* SPDX-License-Identifier: MIT */
/*
 * kapi_group.c - the consumer group APIs of the Kafka codec and the
 * consumer protocol payloads (contracts in kapi_group.h).
 *
 * Same rules as kapi_data.c: one walker per body for both directions
 * (kapi_internal.h), field order from the Kafka 3.4.0 message JSON of
 * each version (KAFKA-PROTOCOL.md Appendix A/B), the smallest wire size of
 * each array element noted at its kio_array() call, Kafka's defaults for
 * fields a version lacks, and an exact end of body. The consumer protocol
 * payloads are walked the same way, with their own version rule.
 */
#include "kapi_group.h"

#include <string.h>

#include "kapi_internal.h"

/*
 * FindCoordinator
 */

static void
find_coordinator_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_find_coordinator_req *m = msg;

	kio_string(io, &m->key);
	/* The default, GQK_COORDINATOR_GROUP, is 0. */
	if (v >= 1)
		kio_i8(io, &m->key_type);
}

static void
find_coordinator_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_find_coordinator_resp *m = msg;

	if (v >= 1)
		kio_i32(io, &m->throttle_time_ms);
	kio_i16(io, &m->error_code);
	kio_nullable_string_if(io, v >= 1, &m->error_message);
	kio_i32(io, &m->node_id);
	kio_string(io, &m->host);
	kio_i32(io, &m->port);
}

KIO_ENTRY_POINTS(find_coordinator, GQK_FIND_COORDINATOR)

/*
 * JoinGroup
 */

static void
join_group_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_join_group_req *m = msg;
	struct gqk_join_group_req_protocol *p;
	int32_t i;

	kio_string(io, &m->group_id);
	kio_i32(io, &m->session_timeout_ms);
	/* v0 has none: Kafka's JoinGroupRequest copies the session timeout. */
	kio_i32_if(io, v >= 1, &m->rebalance_timeout_ms, m->session_timeout_ms);
	kio_string(io, &m->member_id);
	kio_nullable_string_if(io, v >= 5, &m->group_instance_id);
	kio_string(io, &m->protocol_type);
	/* Protocol: name (2) + metadata length (4). */
	p = kio_array(io, false, sizeof(*p), 6, &m->n_protocols, m->protocols);
	KIO_KEEP(io, m->protocols, p);
	for (i = 0; i < m->n_protocols && kio_ok(io); i++) {
		kio_string(io, &p[i].name);
		kio_bytes(io, &p[i].metadata);
	}
}

static void
join_group_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_join_group_resp *m = msg;
	struct gqk_join_group_resp_member *mb;
	int32_t i;

	if (v >= 2)
		kio_i32(io, &m->throttle_time_ms);
	kio_i16(io, &m->error_code);
	kio_i32(io, &m->generation_id);
	kio_string(io, &m->protocol_name);
	kio_string(io, &m->leader);
	kio_string(io, &m->member_id);
	/* Member: member id (2) + metadata length (4). */
	mb = kio_array(io, false, sizeof(*mb), 6, &m->n_members, m->members);
	KIO_KEEP(io, m->members, mb);
	for (i = 0; i < m->n_members && kio_ok(io); i++) {
		kio_string(io, &mb[i].member_id);
		kio_nullable_string_if(io, v >= 5, &mb[i].group_instance_id);
		kio_bytes(io, &mb[i].metadata);
	}
}

KIO_ENTRY_POINTS(join_group, GQK_JOIN_GROUP)

/*
 * SyncGroup
 */

static void
sync_group_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_sync_group_req *m = msg;
	struct gqk_sync_group_req_assignment *as;
	int32_t i;

	kio_string(io, &m->group_id);
	kio_i32(io, &m->generation_id);
	kio_string(io, &m->member_id);
	kio_nullable_string_if(io, v >= 3, &m->group_instance_id);
	/* Assignment: member id (2) + assignment length (4). */
	as = kio_array(io, false, sizeof(*as), 6, &m->n_assignments,
		       m->assignments);
	KIO_KEEP(io, m->assignments, as);
	for (i = 0; i < m->n_assignments && kio_ok(io); i++) {
		kio_string(io, &as[i].member_id);
		kio_bytes(io, &as[i].assignment);
	}
}

static void
sync_group_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_sync_group_resp *m = msg;

	if (v >= 1)
		kio_i32(io, &m->throttle_time_ms);
	kio_i16(io, &m->error_code);
	kio_bytes(io, &m->assignment);
}

KIO_ENTRY_POINTS(sync_group, GQK_SYNC_GROUP)

/*
 * Heartbeat
 */

static void
heartbeat_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_heartbeat_req *m = msg;

	kio_string(io, &m->group_id);
	kio_i32(io, &m->generation_id);
	kio_string(io, &m->member_id);
	kio_nullable_string_if(io, v >= 3, &m->group_instance_id);
}

/* The Heartbeat and LeaveGroup responses (v0-v1 of the latter) are the
 * same: ThrottleTimeMs from v1, ErrorCode. */
static void
throttle_error_resp(struct kio *io, int16_t v, int32_t *throttle_time_ms,
		    int16_t *error_code)
{
	if (v >= 1)
		kio_i32(io, throttle_time_ms);
	kio_i16(io, error_code);
}

static void
heartbeat_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_heartbeat_resp *m = msg;

	throttle_error_resp(io, v, &m->throttle_time_ms, &m->error_code);
}

KIO_ENTRY_POINTS(heartbeat, GQK_HEARTBEAT)

/*
 * LeaveGroup
 */

static void
leave_group_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_leave_group_req *m = msg;

	(void)v;
	kio_string(io, &m->group_id);
	kio_string(io, &m->member_id);
}

static void
leave_group_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_leave_group_resp *m = msg;

	throttle_error_resp(io, v, &m->throttle_time_ms, &m->error_code);
}

KIO_ENTRY_POINTS(leave_group, GQK_LEAVE_GROUP)

/*
 * OffsetCommit
 */

/* One topic's partitions of an OffsetCommit request. */
static void
commit_partitions(struct kio *io, int16_t v,
		  struct gqk_offset_commit_req_topic *t)
{
	struct gqk_offset_commit_req_partition *p;
	int32_t j;

	/* Partition: index 4, offset 8, metadata 2, v6+ leader epoch 4. */
	p = kio_array(io, false, sizeof(*p), v >= 6 ? 18 : 14, &t->n_partitions,
		      t->partitions);
	KIO_KEEP(io, t->partitions, p);
	for (j = 0; j < t->n_partitions && kio_ok(io); j++) {
		kio_i32(io, &p[j].partition_index);
		kio_i64(io, &p[j].committed_offset);
		kio_i32_if(io, v >= 6, &p[j].committed_leader_epoch, -1);
		kio_nullable_string(io, &p[j].committed_metadata);
	}
}

static void
offset_commit_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_offset_commit_req *m = msg;
	struct gqk_offset_commit_req_topic *t;
	int32_t i;

	kio_string(io, &m->group_id);
	kio_i32(io, &m->generation_id);
	kio_string(io, &m->member_id);
	kio_nullable_string_if(io, v >= 7, &m->group_instance_id);
	/* -1: the broker's default retention. */
	kio_i64_if(io, v <= 4, &m->retention_time_ms, -1);
	/* Topic: name (2) + partition count (4). */
	t = kio_array(io, false, sizeof(*t), 6, &m->n_topics, m->topics);
	KIO_KEEP(io, m->topics, t);
	for (i = 0; i < m->n_topics && kio_ok(io); i++) {
		kio_string(io, &t[i].name);
		commit_partitions(io, v, &t[i]);
	}
}

static void
offset_commit_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_offset_commit_resp *m = msg;
	struct gqk_offset_commit_resp_topic *t;
	struct gqk_offset_commit_resp_partition *p;
	int32_t i, j;

	if (v >= 3)
		kio_i32(io, &m->throttle_time_ms);
	/* Topic: name (2) + partition count (4). */
	t = kio_array(io, false, sizeof(*t), 6, &m->n_topics, m->topics);
	KIO_KEEP(io, m->topics, t);
	for (i = 0; i < m->n_topics && kio_ok(io); i++) {
		kio_string(io, &t[i].name);
		/* Partition: index (4) + error (2). */
		p = kio_array(io, false, sizeof(*p), 6, &t[i].n_partitions,
			      t[i].partitions);
		KIO_KEEP(io, t[i].partitions, p);
		for (j = 0; j < t[i].n_partitions && kio_ok(io); j++) {
			kio_i32(io, &p[j].partition_index);
			kio_i16(io, &p[j].error_code);
		}
	}
}

KIO_ENTRY_POINTS(offset_commit, GQK_OFFSET_COMMIT)

/*
 * OffsetFetch
 */

static void
offset_fetch_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_offset_fetch_req *m = msg;
	struct gqk_offset_fetch_req_topic *t;
	int32_t i, *ids;

	kio_string(io, &m->group_id);
	/* Topic: name (2) + partition count (4); null from v2. */
	t = kio_array(io, v >= 2, sizeof(*t), 6, &m->n_topics, m->topics);
	KIO_KEEP(io, m->topics, t);
	for (i = 0; i < m->n_topics && kio_ok(io); i++) {
		kio_string(io, &t[i].name);
		ids = kio_i32_array(io, &t[i].n_partition_indexes,
				    t[i].partition_indexes);
		KIO_KEEP(io, t[i].partition_indexes, ids);
	}
	if (kio_decoding(io))
		m->all_topics = m->n_topics < 0;
}

static void
offset_fetch_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_offset_fetch_resp *m = msg;
	struct gqk_offset_fetch_resp_topic *t;
	struct gqk_offset_fetch_resp_partition *p;
	int32_t i, j;

	if (v >= 3)
		kio_i32(io, &m->throttle_time_ms);
	/* Topic: name (2) + partition count (4). */
	t = kio_array(io, false, sizeof(*t), 6, &m->n_topics, m->topics);
	KIO_KEEP(io, m->topics, t);
	for (i = 0; i < m->n_topics && kio_ok(io); i++) {
		kio_string(io, &t[i].name);
		/* Partition: index 4, offset 8, metadata 2, error 2. */
		p = kio_array(io, false, sizeof(*p), 16, &t[i].n_partitions,
			      t[i].partitions);
		KIO_KEEP(io, t[i].partitions, p);
		for (j = 0; j < t[i].n_partitions && kio_ok(io); j++) {
			kio_i32(io, &p[j].partition_index);
			kio_i64(io, &p[j].committed_offset);
			kio_i32_if(io, v >= 5, &p[j].committed_leader_epoch,
				   -1);
			kio_nullable_string(io, &p[j].metadata);
			kio_i16(io, &p[j].error_code);
		}
	}
	/* The group-level error goes after the topics. */
	if (v >= 2)
		kio_i16(io, &m->error_code);
}

KIO_ENTRY_POINTS(offset_fetch, GQK_OFFSET_FETCH)

/*
 * DescribeGroups
 */

static void
describe_groups_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_describe_groups_req *m = msg;
	struct gqk_str *groups;

	groups = kio_string_array(io, false, &m->n_groups, m->groups);
	KIO_KEEP(io, m->groups, groups);
	if (v >= 3)
		kio_bool(io, &m->include_authorized_operations);
}

/* One DescribedGroupMember. */
static void
described_member(struct kio *io, int16_t v,
		 struct gqk_describe_groups_member *m)
{
	kio_string(io, &m->member_id);
	kio_nullable_string_if(io, v >= 4, &m->group_instance_id);
	kio_string(io, &m->client_id);
	kio_string(io, &m->client_host);
	kio_bytes(io, &m->member_metadata);
	kio_bytes(io, &m->member_assignment);
}

static void
describe_groups_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_describe_groups_resp *m = msg;
	struct gqk_describe_groups_group *g;
	struct gqk_describe_groups_member *mb;
	int32_t i, j;

	if (v >= 1)
		kio_i32(io, &m->throttle_time_ms);
	/* Group: error 2, four strings 8, member count 4. */
	g = kio_array(io, false, sizeof(*g), 14, &m->n_groups, m->groups);
	KIO_KEEP(io, m->groups, g);
	for (i = 0; i < m->n_groups && kio_ok(io); i++) {
		kio_i16(io, &g[i].error_code);
		kio_string(io, &g[i].group_id);
		kio_string(io, &g[i].group_state);
		kio_string(io, &g[i].protocol_type);
		kio_string(io, &g[i].protocol_data);
		/* Member: three strings 6, two byte arrays 8. */
		mb = kio_array(io, false, sizeof(*mb), 14, &g[i].n_members,
			       g[i].members);
		KIO_KEEP(io, g[i].members, mb);
		for (j = 0; j < g[i].n_members && kio_ok(io); j++)
			described_member(io, v, &mb[j]);
		kio_i32_if(io, v >= 3, &g[i].authorized_operations,
			   GQK_AUTHORIZED_OPERATIONS_OMITTED);
	}
}

KIO_ENTRY_POINTS(describe_groups, GQK_DESCRIBE_GROUPS)

/*
 * ListGroups
 */

static void
list_groups_req(struct kio *io, int16_t v, void *msg)
{
	/* Empty before v4 (StatesFilter). */
	(void)io;
	(void)v;
	(void)msg;
}

static void
list_groups_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_list_groups_resp *m = msg;
	struct gqk_list_groups_group *g;
	int32_t i;

	if (v >= 1)
		kio_i32(io, &m->throttle_time_ms);
	kio_i16(io, &m->error_code);
	/* Group: id (2) + protocol type (2). */
	g = kio_array(io, false, sizeof(*g), 4, &m->n_groups, m->groups);
	KIO_KEEP(io, m->groups, g);
	for (i = 0; i < m->n_groups && kio_ok(io); i++) {
		kio_string(io, &g[i].group_id);
		kio_string(io, &g[i].protocol_type);
	}
}

KIO_ENTRY_POINTS(list_groups, GQK_LIST_GROUPS)

/*
 * The walkers of this file, for the dispatchers in kapi.c.
 */

const struct kio_api gqk__group_walkers[] = {
	{ GQK_OFFSET_COMMIT, offset_commit_req, offset_commit_resp },
	{ GQK_OFFSET_FETCH, offset_fetch_req, offset_fetch_resp },
	{ GQK_FIND_COORDINATOR, find_coordinator_req, find_coordinator_resp },
	{ GQK_JOIN_GROUP, join_group_req, join_group_resp },
	{ GQK_HEARTBEAT, heartbeat_req, heartbeat_resp },
	{ GQK_LEAVE_GROUP, leave_group_req, leave_group_resp },
	{ GQK_SYNC_GROUP, sync_group_req, sync_group_resp },
	{ GQK_DESCRIBE_GROUPS, describe_groups_req, describe_groups_resp },
	{ GQK_LIST_GROUPS, list_groups_req, list_groups_resp },
};

const size_t gqk__n_group_walkers =
	sizeof(gqk__group_walkers) / sizeof(gqk__group_walkers[0]);

/*
 * Consumer protocol payloads
 */

/* ARRAY[Topic STRING, Partitions ARRAY[INT32]] (non-nullable). */
static struct gqk_consumer_topic_partitions *
topic_partitions(struct kio *io, int32_t *n,
		 const struct gqk_consumer_topic_partitions *cur)
{
	struct gqk_consumer_topic_partitions *tp;
	int32_t i, *ids;

	/* Element: topic (2) + partition count (4). */
	tp = kio_array(io, false, sizeof(*tp), 6, n, cur);
	for (i = 0; i < *n && kio_ok(io); i++) {
		kio_string(io, &tp[i].topic);
		ids = kio_i32_array(io, &tp[i].n_partitions, tp[i].partitions);
		KIO_KEEP(io, tp[i].partitions, ids);
	}
	return tp;
}

/*
 * The payload version: a negative one is malformed. Returns false when the
 * bytes after the known layout must be ignored (a version above @max).
 */
static bool
payload_version(struct kio *io, int16_t max, int16_t *version)
{
	kio_i16(io, version);
	if (kio_decoding(io) && io->r->err == 0 && *version < 0)
		gqk_reader_fail(io->r, GQK_EMALFORMED);
	return *version <= max;
}

/* A Subscription; true if its layout is known in full. */
static bool
subscription(struct kio *io, struct gqk_consumer_subscription *s)
{
	struct gqk_consumer_topic_partitions *tp;
	struct gqk_str *topics;
	bool exact;

	exact = payload_version(io, GQK_CONSUMER_SUBSCRIPTION_VERSION_MAX,
				&s->version);
	topics = kio_string_array(io, false, &s->n_topics, s->topics);
	KIO_KEEP(io, s->topics, topics);
	kio_nullable_bytes(io, &s->user_data);
	if (s->version >= 1) {
		tp = topic_partitions(io, &s->n_owned_partitions,
				      s->owned_partitions);
		KIO_KEEP(io, s->owned_partitions, tp);
	}
	return exact;
}

/* An Assignment; true if its layout is known in full. */
static bool
assignment(struct kio *io, struct gqk_consumer_assignment *s)
{
	struct gqk_consumer_topic_partitions *tp;
	bool exact;

	exact = payload_version(io, GQK_CONSUMER_ASSIGNMENT_VERSION_MAX,
				&s->version);
	tp = topic_partitions(io, &s->n_assigned, s->assigned);
	KIO_KEEP(io, s->assigned, tp);
	kio_nullable_bytes(io, &s->user_data);
	return exact;
}

int
gqk_consumer_subscription_decode(struct gqk_bytes payload, struct gqk_arena *a,
				 struct gqk_consumer_subscription *out)
{
	struct gqk_reader r;
	struct kio io = { &r, a, NULL, &r.err };

	memset(out, 0, sizeof(*out));
	out->user_data = GQK_BYTES_NULL;
	if (payload.len <= 0)
		return GQK_EMALFORMED;
	gqk_reader_init(&r, payload.p, (size_t)payload.len);
	return subscription(&io, out) ? finish(&r) : r.err;
}

void
gqk_consumer_subscription_encode(struct gqk_writer *w,
				 const struct gqk_consumer_subscription *s)
{
	struct kio io = { NULL, NULL, w, &w->err };

	if (!version_ok(w, s->version, 0, 1))
		return;
	/* Encoding only reads @s. */
	(void)subscription(&io, (struct gqk_consumer_subscription *)s);
}

int
gqk_consumer_assignment_decode(struct gqk_bytes payload, struct gqk_arena *a,
			       struct gqk_consumer_assignment *out)
{
	struct gqk_reader r;
	struct kio io = { &r, a, NULL, &r.err };

	memset(out, 0, sizeof(*out));
	out->user_data = GQK_BYTES_NULL;
	/* What the coordinator sends a member the leader did not assign. */
	if (payload.len <= 0)
		return 0;
	gqk_reader_init(&r, payload.p, (size_t)payload.len);
	return assignment(&io, out) ? finish(&r) : r.err;
}

void
gqk_consumer_assignment_encode(struct gqk_writer *w,
			       const struct gqk_consumer_assignment *s)
{
	struct kio io = { NULL, NULL, w, &w->err };

	if (!version_ok(w, s->version, 0, GQK_CONSUMER_ASSIGNMENT_VERSION_MAX))
		return;
	/* Encoding only reads @s. */
	(void)assignment(&io, (struct gqk_consumer_assignment *)s);
}
