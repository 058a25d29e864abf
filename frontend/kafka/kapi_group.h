/* SPDX-License-Identifier: MIT */
/*
 * kapi_group.h - Kafka consumer group APIs, both directions (request and
 * response decoders and encoders) for FindCoordinator (10) 0-2, JoinGroup
 * (11) 0-5, SyncGroup (14) 0-3, Heartbeat (12) 0-3, LeaveGroup (13) 0-1,
 * OffsetCommit (8) 2-7, OffsetFetch (9) 1-5, DescribeGroups (15) 0-4 and
 * ListGroups (16) 0-2 (KAFKA-PROTOCOL.md 1.5 and Appendices A/B;
 * DescribeGroups and ListGroups from the Kafka 3.4.0 message JSON). Every
 * one of these versions is non-flexible. Included by kapi.h, whose
 * conventions apply unchanged: strict decoders that zero their out-struct,
 * give absent fields their Kafka default and reject trailing bytes;
 * encoders that borrow their input and refuse unknown versions with
 * GQK_EUNSUPPORTED.
 *
 * It also owns the consumer protocol payloads (section 3.3) that JoinGroup
 * and SyncGroup carry as opaque BYTES: the coordinator never needs them,
 * but an assignor does, in the library's embedded consumer as much as in
 * tests. They depend on kwire.h only and know nothing about gqd.
 *
 * Group ids, member ids and the other strings are not validated here (an
 * empty member id is how a new member joins); that is the coordinator's
 * job, as are error codes.
 */
#ifndef GQK_KAPI_GROUP_H
#define GQK_KAPI_GROUP_H

#include "kwire.h"

#include <stdbool.h>
#include <stdint.h>

/* FindCoordinator key types. */
#define GQK_COORDINATOR_GROUP       0
#define GQK_COORDINATOR_TRANSACTION 1

/* DescribeGroups AuthorizedOperations when they were not asked for. */
#define GQK_AUTHORIZED_OPERATIONS_OMITTED INT32_MIN

/*
 * FindCoordinator (10), v0-v2
 */

struct gqk_find_coordinator_req {
	struct gqk_str key; /* the group id (or transactional id) */
	int8_t key_type;    /* v1+, else GQK_COORDINATOR_GROUP */
};

struct gqk_find_coordinator_resp {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;
	struct gqk_str error_message; /* v1+, nullable; null before */
	int32_t node_id;              /* -1 with an error */
	struct gqk_str host;
	int32_t port;
};

/* Decode a FindCoordinator body: Key, and KeyType from v1. */
int gqk_find_coordinator_req_decode(struct gqk_reader *r, int16_t version,
				    struct gqk_arena *a,
				    struct gqk_find_coordinator_req *out);
/* Encode a FindCoordinator request body: Key, and KeyType from v1. */
void
gqk_find_coordinator_req_encode(struct gqk_writer *w, int16_t version,
				const struct gqk_find_coordinator_req *req);
/* Encode a FindCoordinator response: v1 adds ThrottleTimeMs (first) and
 * ErrorMessage. */
void
gqk_find_coordinator_resp_encode(struct gqk_writer *w, int16_t version,
				 const struct gqk_find_coordinator_resp *resp);
/* Decode a FindCoordinator response body (v0-v2). */
int gqk_find_coordinator_resp_decode(struct gqk_reader *r, int16_t version,
				     struct gqk_arena *a,
				     struct gqk_find_coordinator_resp *out);

/*
 * JoinGroup (11), v0-v5
 */

struct gqk_join_group_req_protocol {
	struct gqk_str name;       /* assignor: "range", "roundrobin", ... */
	struct gqk_bytes metadata; /* a consumer protocol subscription */
};

struct gqk_join_group_req {
	struct gqk_str group_id;
	int32_t session_timeout_ms;
	/* v1+. v0 has none and Kafka uses the session timeout instead, so
	 * that is what the decoder stores for v0. */
	int32_t rebalance_timeout_ms;
	struct gqk_str member_id;         /* "" for a new member */
	struct gqk_str group_instance_id; /* v5+, nullable; null before */
	struct gqk_str protocol_type;     /* "consumer" for consumers */
	int32_t n_protocols;
	struct gqk_join_group_req_protocol *protocols;
};

struct gqk_join_group_resp_member {
	struct gqk_str member_id;
	struct gqk_str group_instance_id; /* v5+, nullable; null before */
	struct gqk_bytes metadata;        /* null is written as empty */
};

struct gqk_join_group_resp {
	int32_t throttle_time_ms; /* v2+ */
	int16_t error_code;
	int32_t generation_id;
	struct gqk_str protocol_name;
	struct gqk_str leader;
	struct gqk_str member_id;
	int32_t n_members; /* non-empty only in the leader's response */
	const struct gqk_join_group_resp_member *members;
};

/* Decode a JoinGroup body: v1 adds RebalanceTimeoutMs, v5 GroupInstanceId. */
int gqk_join_group_req_decode(struct gqk_reader *r, int16_t version,
			      struct gqk_arena *a,
			      struct gqk_join_group_req *out);
/* Encode a JoinGroup request body: v1 adds RebalanceTimeoutMs, v5
 * GroupInstanceId. */
void gqk_join_group_req_encode(struct gqk_writer *w, int16_t version,
			       const struct gqk_join_group_req *req);
/* Encode a JoinGroup response: v2 adds ThrottleTimeMs (first), v5 the
 * members' GroupInstanceId. */
void gqk_join_group_resp_encode(struct gqk_writer *w, int16_t version,
				const struct gqk_join_group_resp *resp);
/* Decode a JoinGroup response body (v0-v5). */
int gqk_join_group_resp_decode(struct gqk_reader *r, int16_t version,
			       struct gqk_arena *a,
			       struct gqk_join_group_resp *out);

/*
 * SyncGroup (14), v0-v3
 */

struct gqk_sync_group_req_assignment {
	struct gqk_str member_id;
	struct gqk_bytes assignment; /* a consumer protocol assignment */
};

struct gqk_sync_group_req {
	struct gqk_str group_id;
	int32_t generation_id;
	struct gqk_str member_id;
	struct gqk_str group_instance_id; /* v3+, nullable; null before */
	int32_t n_assignments;            /* only the leader sends any */
	struct gqk_sync_group_req_assignment *assignments;
};

struct gqk_sync_group_resp {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;
	struct gqk_bytes assignment; /* null is written as empty */
};

/* Decode a SyncGroup body: v3 adds GroupInstanceId. */
int gqk_sync_group_req_decode(struct gqk_reader *r, int16_t version,
			      struct gqk_arena *a,
			      struct gqk_sync_group_req *out);
/* Encode a SyncGroup request body: v3 adds GroupInstanceId. */
void gqk_sync_group_req_encode(struct gqk_writer *w, int16_t version,
			       const struct gqk_sync_group_req *req);
/* Encode a SyncGroup response: v1 adds ThrottleTimeMs (first). */
void gqk_sync_group_resp_encode(struct gqk_writer *w, int16_t version,
				const struct gqk_sync_group_resp *resp);
/* Decode a SyncGroup response body (v0-v3). */
int gqk_sync_group_resp_decode(struct gqk_reader *r, int16_t version,
			       struct gqk_arena *a,
			       struct gqk_sync_group_resp *out);

/*
 * Heartbeat (12), v0-v3
 */

struct gqk_heartbeat_req {
	struct gqk_str group_id;
	int32_t generation_id;
	struct gqk_str member_id;
	struct gqk_str group_instance_id; /* v3+, nullable; null before */
};

struct gqk_heartbeat_resp {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;
};

/* Decode a Heartbeat body: v3 adds GroupInstanceId. */
int gqk_heartbeat_req_decode(struct gqk_reader *r, int16_t version,
			     struct gqk_arena *a,
			     struct gqk_heartbeat_req *out);
/* Encode a Heartbeat request body: v3 adds GroupInstanceId. */
void gqk_heartbeat_req_encode(struct gqk_writer *w, int16_t version,
			      const struct gqk_heartbeat_req *req);
/* Encode a Heartbeat response: v1 adds ThrottleTimeMs (first). */
void gqk_heartbeat_resp_encode(struct gqk_writer *w, int16_t version,
			       const struct gqk_heartbeat_resp *resp);
/* Decode a Heartbeat response body (v0-v3). */
int gqk_heartbeat_resp_decode(struct gqk_reader *r, int16_t version,
			      struct gqk_arena *a,
			      struct gqk_heartbeat_resp *out);

/*
 * LeaveGroup (13), v0-v1 (v3+ batches members; not advertised)
 */

struct gqk_leave_group_req {
	struct gqk_str group_id;
	struct gqk_str member_id;
};

struct gqk_leave_group_resp {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;
};

/* Decode a LeaveGroup body (v0-v1, identical). */
int gqk_leave_group_req_decode(struct gqk_reader *r, int16_t version,
			       struct gqk_arena *a,
			       struct gqk_leave_group_req *out);
/* Encode a LeaveGroup request body (v0-v1, identical). */
void gqk_leave_group_req_encode(struct gqk_writer *w, int16_t version,
				const struct gqk_leave_group_req *req);
/* Encode a LeaveGroup response: v1 adds ThrottleTimeMs (first). */
void gqk_leave_group_resp_encode(struct gqk_writer *w, int16_t version,
				 const struct gqk_leave_group_resp *resp);
/* Decode a LeaveGroup response body (v0-v1). */
int gqk_leave_group_resp_decode(struct gqk_reader *r, int16_t version,
				struct gqk_arena *a,
				struct gqk_leave_group_resp *out);

/*
 * OffsetCommit (8), v2-v7
 */

struct gqk_offset_commit_req_partition {
	int32_t partition_index;
	int64_t committed_offset;
	int32_t committed_leader_epoch;    /* v6+, else -1 */
	struct gqk_str committed_metadata; /* nullable */
};

struct gqk_offset_commit_req_topic {
	struct gqk_str name;
	int32_t n_partitions;
	struct gqk_offset_commit_req_partition *partitions;
};

struct gqk_offset_commit_req {
	struct gqk_str group_id;
	int32_t generation_id; /* -1 (with member "") for a simple commit */
	struct gqk_str member_id;
	struct gqk_str group_instance_id; /* v7+, nullable; null before */
	int64_t retention_time_ms;        /* v2-v4, else -1 (broker default) */
	int32_t n_topics;
	struct gqk_offset_commit_req_topic *topics;
};

struct gqk_offset_commit_resp_partition {
	int32_t partition_index;
	int16_t error_code;
};

struct gqk_offset_commit_resp_topic {
	struct gqk_str name;
	int32_t n_partitions;
	const struct gqk_offset_commit_resp_partition *partitions;
};

struct gqk_offset_commit_resp {
	int32_t throttle_time_ms; /* v3+ */
	int32_t n_topics;
	const struct gqk_offset_commit_resp_topic *topics;
};

/* Decode an OffsetCommit body: RetentionTimeMs for v2-v4, v6 adds
 * CommittedLeaderEpoch, v7 GroupInstanceId. */
int gqk_offset_commit_req_decode(struct gqk_reader *r, int16_t version,
				 struct gqk_arena *a,
				 struct gqk_offset_commit_req *out);
/* Encode an OffsetCommit request body: RetentionTimeMs for v2-v4, v6
 * adds CommittedLeaderEpoch, v7 GroupInstanceId. */
void gqk_offset_commit_req_encode(struct gqk_writer *w, int16_t version,
				  const struct gqk_offset_commit_req *req);
/* Encode an OffsetCommit response: v3 adds ThrottleTimeMs (first). */
void gqk_offset_commit_resp_encode(struct gqk_writer *w, int16_t version,
				   const struct gqk_offset_commit_resp *resp);
/* Decode an OffsetCommit response body (v2-v7). */
int gqk_offset_commit_resp_decode(struct gqk_reader *r, int16_t version,
				  struct gqk_arena *a,
				  struct gqk_offset_commit_resp *out);

/*
 * OffsetFetch (9), v1-v5
 */

struct gqk_offset_fetch_req_topic {
	struct gqk_str name;
	int32_t n_partition_indexes;
	int32_t *partition_indexes;
};

struct gqk_offset_fetch_req {
	struct gqk_str group_id;
	/* -1: null (v2+ only) = every partition with a committed offset; v1
	 * cannot say that, and the encoder writes a negative count as empty. */
	int32_t n_topics;
	struct gqk_offset_fetch_req_topic *topics;
	/* Derived: true when the topics array was null. */
	bool all_topics;
};

struct gqk_offset_fetch_resp_partition {
	int32_t partition_index;
	int64_t committed_offset;       /* -1: nothing committed */
	int32_t committed_leader_epoch; /* v5+; -1 if unknown, and before */
	struct gqk_str metadata; /* nullable; "" when nothing committed */
	int16_t error_code;
};

struct gqk_offset_fetch_resp_topic {
	struct gqk_str name;
	int32_t n_partitions;
	const struct gqk_offset_fetch_resp_partition *partitions;
};

struct gqk_offset_fetch_resp {
	int32_t throttle_time_ms; /* v3+, first */
	int32_t n_topics;
	const struct gqk_offset_fetch_resp_topic *topics;
	/* v2+, last. v1 has no group-level error: Kafka then repeats it in
	 * every requested partition, which is the caller's job. */
	int16_t error_code;
};

/* Decode an OffsetFetch body (v1-v5); Topics is nullable from v2. */
int gqk_offset_fetch_req_decode(struct gqk_reader *r, int16_t version,
				struct gqk_arena *a,
				struct gqk_offset_fetch_req *out);
/* Encode an OffsetFetch request body (v1-v5; Topics nullable from v2). */
void gqk_offset_fetch_req_encode(struct gqk_writer *w, int16_t version,
				 const struct gqk_offset_fetch_req *req);
/* Encode an OffsetFetch response: v2 adds the group ErrorCode (last), v3
 * ThrottleTimeMs (first), v5 CommittedLeaderEpoch. */
void gqk_offset_fetch_resp_encode(struct gqk_writer *w, int16_t version,
				  const struct gqk_offset_fetch_resp *resp);
/* Decode an OffsetFetch response body (v1-v5). */
int gqk_offset_fetch_resp_decode(struct gqk_reader *r, int16_t version,
				 struct gqk_arena *a,
				 struct gqk_offset_fetch_resp *out);

/*
 * DescribeGroups (15), v0-v4
 */

struct gqk_describe_groups_req {
	int32_t n_groups;
	struct gqk_str *groups;
	bool include_authorized_operations; /* v3+, else false */
};

struct gqk_describe_groups_member {
	struct gqk_str member_id;
	struct gqk_str group_instance_id; /* v4+, nullable; null before */
	struct gqk_str client_id;
	struct gqk_str client_host;
	struct gqk_bytes member_metadata;   /* null is written as empty */
	struct gqk_bytes member_assignment; /* null is written as empty */
};

struct gqk_describe_groups_group {
	int16_t error_code;
	struct gqk_str group_id;
	struct gqk_str group_state;   /* "Stable", "Empty", ... or "" */
	struct gqk_str protocol_type; /* or "" */
	struct gqk_str protocol_data; /* the chosen assignor, or "" */
	int32_t n_members;
	const struct gqk_describe_groups_member *members;
	/* v3+; GQK_AUTHORIZED_OPERATIONS_OMITTED unless requested, and
	 * before v3. */
	int32_t authorized_operations;
};

struct gqk_describe_groups_resp {
	int32_t throttle_time_ms; /* v1+ */
	int32_t n_groups;
	const struct gqk_describe_groups_group *groups;
};

/* Decode a DescribeGroups body: v3 adds IncludeAuthorizedOperations. */
int gqk_describe_groups_req_decode(struct gqk_reader *r, int16_t version,
				   struct gqk_arena *a,
				   struct gqk_describe_groups_req *out);
/* Encode a DescribeGroups request body: v3 adds
 * IncludeAuthorizedOperations. */
void gqk_describe_groups_req_encode(struct gqk_writer *w, int16_t version,
				    const struct gqk_describe_groups_req *req);
/* Encode a DescribeGroups response: v1 adds ThrottleTimeMs (first), v3
 * AuthorizedOperations, v4 the members' GroupInstanceId. */
void
gqk_describe_groups_resp_encode(struct gqk_writer *w, int16_t version,
				const struct gqk_describe_groups_resp *resp);
/* Decode a DescribeGroups response body (v0-v4). */
int gqk_describe_groups_resp_decode(struct gqk_reader *r, int16_t version,
				    struct gqk_arena *a,
				    struct gqk_describe_groups_resp *out);

/*
 * ListGroups (16), v0-v2
 */

struct gqk_list_groups_req {
	/* v4+ (KIP-518), so always empty here: list groups in any state. */
	int32_t n_states_filter;
	struct gqk_str *states_filter;
};

struct gqk_list_groups_group {
	struct gqk_str group_id;
	struct gqk_str protocol_type;
};

struct gqk_list_groups_resp {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;
	int32_t n_groups;
	const struct gqk_list_groups_group *groups;
};

/* Decode a ListGroups body: empty for v0-v2. */
int gqk_list_groups_req_decode(struct gqk_reader *r, int16_t version,
			       struct gqk_arena *a,
			       struct gqk_list_groups_req *out);
/* Encode a ListGroups request body: empty for v0-v2. */
void gqk_list_groups_req_encode(struct gqk_writer *w, int16_t version,
				const struct gqk_list_groups_req *req);
/* Encode a ListGroups response: v1 adds ThrottleTimeMs (first). */
void gqk_list_groups_resp_encode(struct gqk_writer *w, int16_t version,
				 const struct gqk_list_groups_resp *resp);
/* Decode a ListGroups response body (v0-v2). */
int gqk_list_groups_resp_decode(struct gqk_reader *r, int16_t version,
				struct gqk_arena *a,
				struct gqk_list_groups_resp *out);

/*
 * Consumer protocol payloads (protocol type "consumer")
 *
 * Layouts, all non-flexible and big-endian (KAFKA-PROTOCOL.md 3.3):
 *   Subscription := Version INT16, Topics ARRAY[STRING],
 *                   UserData NULLABLE_BYTES,
 *                   (v1+) OwnedPartitions ARRAY[TopicPartitions]
 *   Assignment   := Version INT16, AssignedPartitions ARRAY[TopicPartitions],
 *                   UserData NULLABLE_BYTES
 *   TopicPartitions := Topic STRING, Partitions ARRAY[INT32]
 *
 * Kafka only ever appends fields to these and parses a version newer than
 * it knows with the newest layout it knows, ignoring the rest (recent Java
 * consumers send Subscription v2 or v3, which append GenerationId and
 * RackId after OwnedPartitions). The decoders do the same: a newer version
 * is read as the newest known layout (Subscription v1; Assignment v0,
 * which Kafka's v1-v3 repeat) and what follows is ignored, while a known
 * version must be consumed exactly. Decoded arrays live in the arena,
 * strings and user data point into the payload: lent until the arena is
 * freed or the payload buffer reused.
 */

/* The newest payload versions the decoders know in full. */
#define GQK_CONSUMER_SUBSCRIPTION_VERSION_MAX 1
#define GQK_CONSUMER_ASSIGNMENT_VERSION_MAX   3

struct gqk_consumer_topic_partitions {
	struct gqk_str topic;
	int32_t n_partitions;
	const int32_t *partitions;
};

struct gqk_consumer_subscription {
	int16_t version; /* as sent; the encoder takes 0 or 1 */
	int32_t n_topics;
	const struct gqk_str *topics;
	struct gqk_bytes user_data; /* nullable: GQK_BYTES_NULL for none */
	/* v1+; empty for v0. */
	int32_t n_owned_partitions;
	const struct gqk_consumer_topic_partitions *owned_partitions;
};

struct gqk_consumer_assignment {
	int16_t version; /* as sent; the encoder takes 0 to 3 */
	int32_t n_assigned;
	const struct gqk_consumer_topic_partitions *assigned;
	struct gqk_bytes user_data; /* nullable: GQK_BYTES_NULL for none */
};

/*
 * Decode a ConsumerProtocolSubscription from @payload (borrowed, lent to
 * @out as above; e.g. a JoinGroup protocol's metadata). Returns 0,
 * GQK_EMALFORMED (short, a negative version, trailing bytes after a known
 * version, a null or empty payload) or GQK_ENOMEM (arena).
 */
int gqk_consumer_subscription_decode(struct gqk_bytes payload,
				     struct gqk_arena *a,
				     struct gqk_consumer_subscription *out);

/*
 * Append @s as a ConsumerProtocolSubscription of version s->version (0 or
 * 1; otherwise w->err is set to GQK_EUNSUPPORTED and nothing is written).
 * Owned partitions are dropped for v0. Everything is borrowed.
 */
void
gqk_consumer_subscription_encode(struct gqk_writer *w,
				 const struct gqk_consumer_subscription *s);

/*
 * Decode a ConsumerProtocolAssignment from @payload (borrowed, lent to
 * @out). An empty or null payload is the empty assignment (version 0,
 * nothing assigned, null user data): it is what a coordinator hands a
 * member the leader left out. Returns 0, GQK_EMALFORMED or GQK_ENOMEM, as
 * for subscriptions.
 */
int gqk_consumer_assignment_decode(struct gqk_bytes payload,
				   struct gqk_arena *a,
				   struct gqk_consumer_assignment *out);

/*
 * Append @s as a ConsumerProtocolAssignment of version s->version (0 to 3,
 * all the same layout; otherwise GQK_EUNSUPPORTED as above).
 */
void gqk_consumer_assignment_encode(struct gqk_writer *w,
				    const struct gqk_consumer_assignment *s);

#endif /* GQK_KAPI_GROUP_H */
