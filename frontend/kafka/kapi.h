/* SPDX-License-Identifier: MIT */
/*
 * kapi.h - the Kafka API codec, both directions, for the APIs gqd speaks
 * (KAFKA-PROTOCOL.md sections 1.3-1.5, Appendices A and B): a server
 * decodes requests and encodes responses, a client encodes requests and
 * decodes responses, with the same structs. The group APIs (keys 8-16)
 * and the consumer protocol payloads are declared in kapi_group.h, which
 * this header includes.
 *
 * This module owns the per-API, per-version field layouts: which fields
 * exist in which version, where ThrottleTimeMs goes, which arrays may be
 * null, and which versions are flexible. Each body's layout is written
 * once and serves all four functions of its API. It also owns the table
 * of version ranges gqd advertises in ApiVersions, because those ranges
 * gate client features (librdkafka 2.0.2 checks overlap with specific old
 * versions); the codec handles exactly those versions of each API.
 *
 * Conventions shared by every API below:
 * - A decoder (gqk_*_req_decode, gqk_*_resp_decode) reads exactly one
 *   body: any byte left over is GQK_EMALFORMED, as is anything short or
 *   out of range, and a count or length claiming more than what remains
 *   fails before anything is allocated. A version outside the API's range
 *   is GQK_EUNSUPPORTED (nothing read, the out-struct only zeroed).
 *   Out-structs are zeroed first; fields absent from the version get their
 *   Kafka default (noted per field). Arrays live in the arena passed in
 *   (GQK_ENOMEM when it refuses); strings, byte arrays and records point
 *   into the buffer read: both are lent until the arena is freed or the
 *   buffer reused, whichever comes first. On error the out-struct is
 *   partially filled and only the arena needs freeing.
 * - An encoder (gqk_*_req_encode, gqk_*_resp_encode) appends one body
 *   (without the header or the frame size) for the version given, with the
 *   fields of that version and nothing else. Everything it is passed is
 *   borrowed and only read. Array counts are int32_t; a negative count
 *   writes an empty array, except for arrays that are nullable on the
 *   wire, where it writes null; a null string or byte array where the wire
 *   has no null is written empty. Fields the decoder derives (noted
 *   "derived") are not read. A version outside the API's range sets w->err
 *   to GQK_EUNSUPPORTED and writes nothing; other failures are the
 *   writer's (kwire.h).
 * - Every version listed here is non-flexible except ApiVersions v3,
 *   which is why no other API needs compact encodings yet.
 */
#ifndef GQK_KAPI_H
#define GQK_KAPI_H

#include "kapi_group.h"
#include "kwire.h"

#include <stdbool.h>
#include <stdint.h>

/* Kafka API keys known to the codec. */
enum gqk_api {
	GQK_PRODUCE = 0,
	GQK_FETCH = 1,
	GQK_LIST_OFFSETS = 2,
	GQK_METADATA = 3,
	GQK_OFFSET_COMMIT = 8,
	GQK_OFFSET_FETCH = 9,
	GQK_FIND_COORDINATOR = 10,
	GQK_JOIN_GROUP = 11,
	GQK_HEARTBEAT = 12,
	GQK_LEAVE_GROUP = 13,
	GQK_SYNC_GROUP = 14,
	GQK_DESCRIBE_GROUPS = 15,
	GQK_LIST_GROUPS = 16,
	GQK_API_VERSIONS = 18,
	GQK_CREATE_TOPICS = 19,
	GQK_DELETE_TOPICS = 20,
	GQK_INIT_PRODUCER_ID = 22,
	GQK_DESCRIBE_CONFIGS = 32,
	GQK_INCREMENTAL_ALTER_CONFIGS = 44,
};

/*
 * Kafka error codes (Errors.java, Kafka 3.4.0; KAFKA-PROTOCOL.md section 4
 * says when gqd returns each). X(name, code).
 */
#define GQK_ERR_MAP(X)                               \
	X(UNKNOWN_SERVER_ERROR, -1)                  \
	X(NONE, 0)                                   \
	X(OFFSET_OUT_OF_RANGE, 1)                    \
	X(CORRUPT_MESSAGE, 2)                        \
	X(UNKNOWN_TOPIC_OR_PARTITION, 3)             \
	X(INVALID_FETCH_SIZE, 4)                     \
	X(LEADER_NOT_AVAILABLE, 5)                   \
	X(NOT_LEADER_OR_FOLLOWER, 6)                 \
	X(REQUEST_TIMED_OUT, 7)                      \
	X(BROKER_NOT_AVAILABLE, 8)                   \
	X(REPLICA_NOT_AVAILABLE, 9)                  \
	X(MESSAGE_TOO_LARGE, 10)                     \
	X(OFFSET_METADATA_TOO_LARGE, 12)             \
	X(NETWORK_EXCEPTION, 13)                     \
	X(COORDINATOR_LOAD_IN_PROGRESS, 14)          \
	X(COORDINATOR_NOT_AVAILABLE, 15)             \
	X(NOT_COORDINATOR, 16)                       \
	X(INVALID_TOPIC_EXCEPTION, 17)               \
	X(RECORD_LIST_TOO_LARGE, 18)                 \
	X(NOT_ENOUGH_REPLICAS, 19)                   \
	X(NOT_ENOUGH_REPLICAS_AFTER_APPEND, 20)      \
	X(INVALID_REQUIRED_ACKS, 21)                 \
	X(ILLEGAL_GENERATION, 22)                    \
	X(INCONSISTENT_GROUP_PROTOCOL, 23)           \
	X(INVALID_GROUP_ID, 24)                      \
	X(UNKNOWN_MEMBER_ID, 25)                     \
	X(INVALID_SESSION_TIMEOUT, 26)               \
	X(REBALANCE_IN_PROGRESS, 27)                 \
	X(INVALID_COMMIT_OFFSET_SIZE, 28)            \
	X(TOPIC_AUTHORIZATION_FAILED, 29)            \
	X(GROUP_AUTHORIZATION_FAILED, 30)            \
	X(CLUSTER_AUTHORIZATION_FAILED, 31)          \
	X(INVALID_TIMESTAMP, 32)                     \
	X(UNSUPPORTED_VERSION, 35)                   \
	X(TOPIC_ALREADY_EXISTS, 36)                  \
	X(INVALID_PARTITIONS, 37)                    \
	X(INVALID_REPLICATION_FACTOR, 38)            \
	X(INVALID_REPLICA_ASSIGNMENT, 39)            \
	X(INVALID_CONFIG, 40)                        \
	X(NOT_CONTROLLER, 41)                        \
	X(INVALID_REQUEST, 42)                       \
	X(UNSUPPORTED_FOR_MESSAGE_FORMAT, 43)        \
	X(POLICY_VIOLATION, 44)                      \
	X(OUT_OF_ORDER_SEQUENCE_NUMBER, 45)          \
	X(DUPLICATE_SEQUENCE_NUMBER, 46)             \
	X(INVALID_PRODUCER_EPOCH, 47)                \
	X(INVALID_TXN_STATE, 48)                     \
	X(INVALID_PRODUCER_ID_MAPPING, 49)           \
	X(INVALID_TRANSACTION_TIMEOUT, 50)           \
	X(CONCURRENT_TRANSACTIONS, 51)               \
	X(TRANSACTION_COORDINATOR_FENCED, 52)        \
	X(TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 53) \
	X(SECURITY_DISABLED, 54)                     \
	X(OPERATION_NOT_ATTEMPTED, 55)               \
	X(KAFKA_STORAGE_ERROR, 56)                   \
	X(UNKNOWN_PRODUCER_ID, 59)                   \
	X(TOPIC_DELETION_DISABLED, 73)               \
	X(FENCED_LEADER_EPOCH, 74)                   \
	X(UNKNOWN_LEADER_EPOCH, 75)                  \
	X(UNSUPPORTED_COMPRESSION_TYPE, 76)          \
	X(OFFSET_NOT_AVAILABLE, 78)                  \
	X(MEMBER_ID_REQUIRED, 79)                    \
	X(FENCED_INSTANCE_ID, 82)                    \
	X(INVALID_RECORD, 87)                        \
	X(THROTTLING_QUOTA_EXCEEDED, 89)

#define GQK_ERR_ENUM(name, code) GQK_ERR_##name = code,
enum gqk_err { GQK_ERR_MAP(GQK_ERR_ENUM) };
#undef GQK_ERR_ENUM

/* The Kafka name of an error code ("UNKNOWN" if not in the map); static. */
const char *gqk_err_name(int16_t code);

/*
 * Advertised versions
 */

/* One ApiVersions entry. @group: advertised only when groups are enabled. */
struct gqk_api_range {
	int16_t key, min, max;
	bool group;
};

/*
 * The ranges gqd advertises, sorted by key (KAFKA-PROTOCOL.md 1.3):
 * Produce 0-7, Fetch 4-11, ListOffsets 0-2, Metadata 0-4, OffsetCommit 2-7*,
 * OffsetFetch 1-5*, FindCoordinator 0-2, JoinGroup 0-5*, Heartbeat 0-3*,
 * LeaveGroup 0-1*, SyncGroup 0-3*, DescribeGroups 0-4*, ListGroups 0-2*,
 * ApiVersions 0-3, CreateTopics 0-4, DeleteTopics 0-3, InitProducerId 0-1,
 * DescribeConfigs 0-2 (* = group).
 * FindCoordinator is never group-gated: librdkafka enables LZ4 and the
 * group coordinator only if it overlaps v0.
 */
extern const struct gqk_api_range gqk_supported[];
extern const size_t gqk_n_supported;

/* The table entry for @key, or NULL. */
const struct gqk_api_range *gqk_api_range(int16_t key);

/*
 * True if (@key, @version) lies in the advertised range, whether or not the
 * key is group-gated: gqk_request_decode() decodes the group APIs whatever
 * the caller advertised, and serving them is the caller's decision.
 */
bool gqk_api_supported(int16_t key, int16_t version);

/* The Kafka name of an API key ("Unknown" if not known); static string. */
const char *gqk_api_name(int16_t key);

/*
 * True if @version of @key uses the flexible encoding (compact types,
 * tagged fields, request header v2 / response header v1). Thresholds from
 * the Kafka 3.4.0 JSON for every key in enum gqk_api; false otherwise.
 */
bool gqk_api_flexible(int16_t key, int16_t version);

/*
 * Headers
 */

/* A request header; @client_id points into the request (null allowed). */
struct gqk_header {
	int16_t api_key, api_version;
	int32_t correlation_id;
	struct gqk_str client_id;
	bool flexible;
};

/*
 * Parse a request header: v1 (key, version, correlation id, client id as a
 * legacy NULLABLE_STRING), plus tagged fields (v2) when the API version is
 * flexible. Leaves @r at the body. An unknown key is parsed as v1 and is
 * not an error here. Fields read before an error stay set, so a reply can
 * still carry the correlation id. Returns 0 or GQK_EMALFORMED.
 */
int gqk_header_decode(struct gqk_reader *r, struct gqk_header *h);

/*
 * Write the request header of @h: v1 (key, version, correlation id, client
 * id as a legacy NULLABLE_STRING), plus empty tagged fields (v2) when
 * gqk_api_flexible() says the version is flexible; h->flexible is not
 * read. The inverse of gqk_header_decode().
 */
void gqk_request_header_put(struct gqk_writer *w, const struct gqk_header *h);

/*
 * Response header for @h (the request's): the correlation id, plus empty
 * tagged fields if h->flexible, except for ApiVersions, whose response
 * header is always v0 (KIP-511).
 */
void gqk_response_header_put(struct gqk_writer *w, const struct gqk_header *h);

/*
 * ApiVersions (18), v0-v3
 */

struct gqk_api_versions_req {
	/* v3+ (COMPACT_STRING); null before v3. */
	struct gqk_str client_software_name;
	struct gqk_str client_software_version;
};

struct gqk_api_versions_resp {
	int16_t error_code;
	int32_t throttle_time_ms; /* v1+ */
	/*
	 * The broker's ranges (@group false when decoded). The encoder takes
	 * NULL @api_keys to mean gqk_supported[] (see
	 * gqk_api_versions_resp_encode()).
	 */
	int32_t n_api_keys;
	const struct gqk_api_range *api_keys;
};

/* Decode an ApiVersions body: empty for v0-v2, the software name and
 * version (compact strings) and tagged fields for v3. */
int gqk_api_versions_req_decode(struct gqk_reader *r, int16_t version,
				struct gqk_arena *a,
				struct gqk_api_versions_req *out);
/* Encode an ApiVersions request body: nothing for v0-v2; for v3 the
 * software name and version (a null one is written empty, which a broker
 * refuses with INVALID_REQUEST) and empty tagged fields. */
void gqk_api_versions_req_encode(struct gqk_writer *w, int16_t version,
				 const struct gqk_api_versions_req *req);

/*
 * True if the v3 software name and version match Kafka's pattern
 * [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?; answer INVALID_REQUEST (42)
 * otherwise (librdkafka then retries with v0). True for v0-v2 (null).
 */
bool gqk_api_versions_req_valid(const struct gqk_api_versions_req *req);

/*
 * Encode the response with the key list of @resp, or when resp->api_keys
 * is NULL with that of gqk_supported[]: group-gated keys only if @groups,
 * and none at all if @resp has an error (Kafka's INVALID_REQUEST answer).
 * v0: ErrorCode, ApiKeys; v1-v2: + ThrottleTimeMs; v3: flexible body
 * (compact array, tagged fields, no feature tags).
 */
void gqk_api_versions_resp_encode(struct gqk_writer *w, int16_t version,
				  const struct gqk_api_versions_resp *resp,
				  bool groups);

/*
 * Decode an ApiVersions response body, tagged fields (the v3 feature tags)
 * skipped. A broker that does not know the flexible v3 answers with a v0
 * body carrying UNSUPPORTED_VERSION (KAFKA-PROTOCOL.md 1.4): when the v3
 * body does not parse, it is read as v0 and accepted only with that error
 * (then api_keys holds what the broker listed, e.g. its ApiVersions
 * range, and the caller retries with a version from it).
 */
int gqk_api_versions_resp_decode(struct gqk_reader *r, int16_t version,
				 struct gqk_arena *a,
				 struct gqk_api_versions_resp *out);

/*
 * The answer to an ApiVersions request of a version outside 0-3: a v0 body
 * with UNSUPPORTED_VERSION (35) and only the ApiVersions entry, as Kafka
 * sends. Use with gqk_response_header_put() (header v0).
 */
void gqk_api_versions_unsupported_encode(struct gqk_writer *w);

/*
 * Metadata (3), v0-v4
 */

struct gqk_metadata_req {
	/*
	 * -1: null (v1+). v0 has no null: an empty array means all topics,
	 * so the encoder writes a negative count as empty for v0.
	 */
	int32_t n_topics;
	struct gqk_str *topics;
	/* Derived: true for v0 with 0 topics and for v1+ with null. */
	bool all_topics;
	/* v4+; true before v4 (Kafka auto-creates for v0-v3). */
	bool allow_auto_topic_creation;
};

struct gqk_metadata_broker {
	int32_t node_id;
	struct gqk_str host;
	int32_t port;
	struct gqk_str rack; /* v1+, nullable; null before */
};

struct gqk_metadata_partition {
	int16_t error_code;
	int32_t partition_index;
	int32_t leader_id;
	int32_t n_replicas;
	const int32_t *replicas;
	int32_t n_isr;
	const int32_t *isr;
};

struct gqk_metadata_topic {
	int16_t error_code;
	struct gqk_str name;
	bool is_internal; /* v1+ */
	int32_t n_partitions;
	const struct gqk_metadata_partition *partitions;
};

struct gqk_metadata_resp {
	int32_t throttle_time_ms; /* v3+, first */
	int32_t n_brokers;
	const struct gqk_metadata_broker *brokers;
	struct gqk_str cluster_id; /* v2+, nullable; null before */
	int32_t controller_id;     /* v1+, else -1 */
	int32_t n_topics;
	const struct gqk_metadata_topic *topics;
};

/* Decode a Metadata body (v0-v4; see all_topics for null vs empty). */
int gqk_metadata_req_decode(struct gqk_reader *r, int16_t version,
			    struct gqk_arena *a, struct gqk_metadata_req *out);
/* Encode a Metadata request body: a negative n_topics asks for all
 * topics; v4 adds AllowAutoTopicCreation. */
void gqk_metadata_req_encode(struct gqk_writer *w, int16_t version,
			     const struct gqk_metadata_req *req);
/* Encode a Metadata response: v1 adds Rack, ControllerId, IsInternal; v2
 * ClusterId; v3 ThrottleTimeMs (first). */
void gqk_metadata_resp_encode(struct gqk_writer *w, int16_t version,
			      const struct gqk_metadata_resp *resp);
/* Decode a Metadata response body (v0-v4). */
int gqk_metadata_resp_decode(struct gqk_reader *r, int16_t version,
			     struct gqk_arena *a,
			     struct gqk_metadata_resp *out);

/*
 * Produce (0), v0-v7 (the request is identical for v3-v7)
 */

struct gqk_produce_req_partition {
	int32_t index;
	struct gqk_bytes records; /* zero-copy; may be null */
};

struct gqk_produce_req_topic {
	struct gqk_str name;
	int32_t n_partitions;
	struct gqk_produce_req_partition *partitions;
};

struct gqk_produce_req {
	struct gqk_str transactional_id; /* v3+, nullable; null before v3 */
	int16_t acks;                    /* -1, 0 or 1; not validated here */
	int32_t timeout_ms;
	int32_t n_topics;
	struct gqk_produce_req_topic *topics;
};

struct gqk_produce_resp_partition {
	int32_t index;
	int16_t error_code;
	int64_t base_offset;
	int64_t log_append_time_ms; /* v2+, -1 unless LogAppendTime */
	int64_t log_start_offset;   /* v5+, else -1 */
};

struct gqk_produce_resp_topic {
	struct gqk_str name;
	int32_t n_partitions;
	const struct gqk_produce_resp_partition *partitions;
};

struct gqk_produce_resp {
	int32_t n_topics;
	const struct gqk_produce_resp_topic *topics;
	int32_t throttle_time_ms; /* v1+, written LAST for Produce */
};

/* Decode a Produce body (v0-v7); records stay zero-copy and unchecked. */
int gqk_produce_req_decode(struct gqk_reader *r, int16_t version,
			   struct gqk_arena *a, struct gqk_produce_req *out);
/* Encode a Produce request body (TransactionalId from v3); records are
 * copied as they are. */
void gqk_produce_req_encode(struct gqk_writer *w, int16_t version,
			    const struct gqk_produce_req *req);
/* Encode a Produce response: v2 adds LogAppendTimeMs, v5 LogStartOffset;
 * ThrottleTimeMs (v1+) goes after the topics. */
void gqk_produce_resp_encode(struct gqk_writer *w, int16_t version,
			     const struct gqk_produce_resp *resp);
/* Decode a Produce response body (v0-v7). */
int gqk_produce_resp_decode(struct gqk_reader *r, int16_t version,
			    struct gqk_arena *a, struct gqk_produce_resp *out);

/*
 * Fetch (1), v4-v11
 */

struct gqk_fetch_req_partition {
	int32_t partition;
	int32_t current_leader_epoch; /* v9+, else -1 */
	int64_t fetch_offset;
	int64_t log_start_offset; /* v5+, else -1 */
	int32_t partition_max_bytes;
};

struct gqk_fetch_req_topic {
	struct gqk_str topic;
	int32_t n_partitions;
	struct gqk_fetch_req_partition *partitions;
};

struct gqk_fetch_req_forgotten {
	struct gqk_str topic;
	int32_t n_partitions;
	int32_t *partitions;
};

struct gqk_fetch_req {
	int32_t replica_id;
	int32_t max_wait_ms;
	int32_t min_bytes;
	int32_t max_bytes;
	int8_t isolation_level; /* 0 read_uncommitted, 1 read_committed */
	int32_t session_id;     /* v7+, else 0 */
	int32_t session_epoch;  /* v7+, else -1 */
	int32_t n_topics;
	struct gqk_fetch_req_topic *topics;
	int32_t n_forgotten; /* v7+, else 0 */
	struct gqk_fetch_req_forgotten *forgotten;
	struct gqk_str rack_id; /* v11+, else "" */
};

struct gqk_fetch_aborted {
	int64_t producer_id;
	int64_t first_offset;
};

struct gqk_fetch_resp_partition {
	int32_t partition_index;
	int16_t error_code;
	int64_t high_watermark;
	int64_t last_stable_offset;
	int64_t log_start_offset; /* v5+, else -1 */
	int32_t n_aborted;        /* negative: null */
	const struct gqk_fetch_aborted *aborted;
	int32_t preferred_read_replica; /* v11+, servers set -1; else -1 */
	/* Never sent as null: a null or empty @records goes out as a
	 * zero-length array (librdkafka rejects -1). Decoded as sent. */
	struct gqk_bytes records;
};

struct gqk_fetch_resp_topic {
	struct gqk_str topic;
	int32_t n_partitions;
	const struct gqk_fetch_resp_partition *partitions;
};

struct gqk_fetch_resp {
	int32_t throttle_time_ms;
	int16_t error_code; /* v7+ */
	int32_t session_id; /* v7+ */
	int32_t n_topics;
	const struct gqk_fetch_resp_topic *topics;
};

/* Decode a Fetch body (v4-v11), with defaults for absent fields. */
int gqk_fetch_req_decode(struct gqk_reader *r, int16_t version,
			 struct gqk_arena *a, struct gqk_fetch_req *out);
/* Encode a Fetch request body: v5 adds LogStartOffset, v7 the session
 * fields and ForgottenTopicsData, v9 CurrentLeaderEpoch, v11 RackId. */
void gqk_fetch_req_encode(struct gqk_writer *w, int16_t version,
			  const struct gqk_fetch_req *req);
/* Encode a Fetch response: v5 adds LogStartOffset, v7 ErrorCode and
 * SessionId, v11 PreferredReadReplica; Records is never null. */
void gqk_fetch_resp_encode(struct gqk_writer *w, int16_t version,
			   const struct gqk_fetch_resp *resp);
/* Decode a Fetch response body (v4-v11); Records may be null. */
int gqk_fetch_resp_decode(struct gqk_reader *r, int16_t version,
			  struct gqk_arena *a, struct gqk_fetch_resp *out);

/*
 * ListOffsets (2), v0-v2
 */

/* Special ListOffsets timestamps. */
#define GQK_TIMESTAMP_LATEST   (-1)
#define GQK_TIMESTAMP_EARLIEST (-2)

struct gqk_list_offsets_req_partition {
	int32_t partition_index;
	int64_t timestamp;
	int32_t max_num_offsets; /* v0 only, else 1 */
};

struct gqk_list_offsets_req_topic {
	struct gqk_str name;
	int32_t n_partitions;
	struct gqk_list_offsets_req_partition *partitions;
};

struct gqk_list_offsets_req {
	int32_t replica_id;
	int8_t isolation_level; /* v2+, else 0 */
	int32_t n_topics;
	struct gqk_list_offsets_req_topic *topics;
};

struct gqk_list_offsets_resp_partition {
	int32_t partition_index;
	int16_t error_code;
	int64_t timestamp; /* v1+; decoded v0: -1 */
	int64_t offset;    /* v1+; decoded v0: the first old-style one, or -1 */
	/*
	 * v0 only. If @old_style_offsets is NULL the v0 array is encoded
	 * from @offset: [offset] when error_code is 0 and offset >= 0, else
	 * empty.
	 */
	int32_t n_old_style_offsets;
	const int64_t *old_style_offsets;
};

struct gqk_list_offsets_resp_topic {
	struct gqk_str name;
	int32_t n_partitions;
	const struct gqk_list_offsets_resp_partition *partitions;
};

struct gqk_list_offsets_resp {
	int32_t throttle_time_ms; /* v2+ */
	int32_t n_topics;
	const struct gqk_list_offsets_resp_topic *topics;
};

/* Decode a ListOffsets body (v0-v2). */
int gqk_list_offsets_req_decode(struct gqk_reader *r, int16_t version,
				struct gqk_arena *a,
				struct gqk_list_offsets_req *out);
/* Encode a ListOffsets request body: v0 MaxNumOffsets, v2
 * IsolationLevel. */
void gqk_list_offsets_req_encode(struct gqk_writer *w, int16_t version,
				 const struct gqk_list_offsets_req *req);
/* Encode a ListOffsets response: v0 OldStyleOffsets, v1+ Timestamp and
 * Offset, v2 ThrottleTimeMs first. */
void gqk_list_offsets_resp_encode(struct gqk_writer *w, int16_t version,
				  const struct gqk_list_offsets_resp *resp);
/* Decode a ListOffsets response body (v0-v2). */
int gqk_list_offsets_resp_decode(struct gqk_reader *r, int16_t version,
				 struct gqk_arena *a,
				 struct gqk_list_offsets_resp *out);

/*
 * InitProducerId (22), v0-v1
 */

struct gqk_init_producer_id_req {
	struct gqk_str transactional_id; /* null for idempotence only */
	int32_t transaction_timeout_ms;
};

struct gqk_init_producer_id_resp {
	int32_t throttle_time_ms;
	int16_t error_code;
	int64_t producer_id;
	int16_t producer_epoch;
};

/* Decode an InitProducerId body (v0-v1, identical). */
int gqk_init_producer_id_req_decode(struct gqk_reader *r, int16_t version,
				    struct gqk_arena *a,
				    struct gqk_init_producer_id_req *out);
/* Encode an InitProducerId request body (v0-v1, identical). */
void
gqk_init_producer_id_req_encode(struct gqk_writer *w, int16_t version,
				const struct gqk_init_producer_id_req *req);
/* Encode an InitProducerId response (v0-v1, identical). */
void
gqk_init_producer_id_resp_encode(struct gqk_writer *w, int16_t version,
				 const struct gqk_init_producer_id_resp *resp);
/* Decode an InitProducerId response body (v0-v1, identical). */
int gqk_init_producer_id_resp_decode(struct gqk_reader *r, int16_t version,
				     struct gqk_arena *a,
				     struct gqk_init_producer_id_resp *out);

/*
 * CreateTopics (19), v0-v4
 */

struct gqk_create_topics_req_assignment {
	int32_t partition_index;
	int32_t n_broker_ids;
	int32_t *broker_ids;
};

struct gqk_create_topics_req_config {
	struct gqk_str name;
	struct gqk_str value; /* nullable */
};

struct gqk_create_topics_req_topic {
	struct gqk_str name;
	int32_t num_partitions;     /* -1: broker default (v4+ clients) */
	int16_t replication_factor; /* -1: broker default */
	int32_t n_assignments;
	struct gqk_create_topics_req_assignment *assignments;
	int32_t n_configs;
	struct gqk_create_topics_req_config *configs;
};

struct gqk_create_topics_req {
	int32_t n_topics;
	struct gqk_create_topics_req_topic *topics;
	int32_t timeout_ms;
	bool validate_only; /* v1+, else false */
};

struct gqk_create_topics_resp_topic {
	struct gqk_str name;
	int16_t error_code;
	struct gqk_str error_message; /* v1+, nullable; null before */
};

struct gqk_create_topics_resp {
	int32_t throttle_time_ms; /* v2+ */
	int32_t n_topics;
	const struct gqk_create_topics_resp_topic *topics;
};

/* Decode a CreateTopics body (v0-v4; v1 adds ValidateOnly). */
int gqk_create_topics_req_decode(struct gqk_reader *r, int16_t version,
				 struct gqk_arena *a,
				 struct gqk_create_topics_req *out);
/* Encode a CreateTopics request body (v1 adds ValidateOnly). */
void gqk_create_topics_req_encode(struct gqk_writer *w, int16_t version,
				  const struct gqk_create_topics_req *req);
/* Encode a CreateTopics response: v1 adds ErrorMessage, v2 ThrottleTimeMs
 * (first). */
void gqk_create_topics_resp_encode(struct gqk_writer *w, int16_t version,
				   const struct gqk_create_topics_resp *resp);
/* Decode a CreateTopics response body (v0-v4). */
int gqk_create_topics_resp_decode(struct gqk_reader *r, int16_t version,
				  struct gqk_arena *a,
				  struct gqk_create_topics_resp *out);

/*
 * DeleteTopics (20), v0-v3
 */

struct gqk_delete_topics_req {
	int32_t n_topic_names;
	struct gqk_str *topic_names;
	int32_t timeout_ms;
};

struct gqk_delete_topics_resp_topic {
	struct gqk_str name;
	int16_t error_code;
};

struct gqk_delete_topics_resp {
	int32_t throttle_time_ms; /* v1+ */
	int32_t n_responses;
	const struct gqk_delete_topics_resp_topic *responses;
};

/* Decode a DeleteTopics body (v0-v3, identical). */
int gqk_delete_topics_req_decode(struct gqk_reader *r, int16_t version,
				 struct gqk_arena *a,
				 struct gqk_delete_topics_req *out);
/* Encode a DeleteTopics request body (v0-v3, identical). */
void gqk_delete_topics_req_encode(struct gqk_writer *w, int16_t version,
				  const struct gqk_delete_topics_req *req);
/* Encode a DeleteTopics response: ThrottleTimeMs (first) from v1. */
void gqk_delete_topics_resp_encode(struct gqk_writer *w, int16_t version,
				   const struct gqk_delete_topics_resp *resp);
/* Decode a DeleteTopics response body (v0-v3). */
int gqk_delete_topics_resp_decode(struct gqk_reader *r, int16_t version,
				  struct gqk_arena *a,
				  struct gqk_delete_topics_resp *out);

/*
 * DescribeConfigs (32), v0-v2 (flexible only from v4)
 */

/* Resource types and config sources used by DescribeConfigs. */
#define GQK_RESOURCE_TOPIC                       2
#define GQK_RESOURCE_BROKER                      4
#define GQK_CONFIG_SOURCE_UNKNOWN                0
#define GQK_CONFIG_SOURCE_DYNAMIC_TOPIC          1
#define GQK_CONFIG_SOURCE_DYNAMIC_BROKER         2
#define GQK_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER 3
#define GQK_CONFIG_SOURCE_STATIC_BROKER          4
#define GQK_CONFIG_SOURCE_DEFAULT                5

struct gqk_describe_configs_req_resource {
	int8_t resource_type;
	struct gqk_str resource_name;
	int32_t n_configuration_keys; /* -1: null = all keys */
	struct gqk_str *configuration_keys;
};

struct gqk_describe_configs_req {
	int32_t n_resources;
	struct gqk_describe_configs_req_resource *resources;
	bool include_synonyms; /* v1+, else false */
};

struct gqk_describe_configs_synonym {
	struct gqk_str name;
	struct gqk_str value; /* nullable */
	int8_t source;
};

struct gqk_describe_configs_entry {
	struct gqk_str name;
	struct gqk_str value; /* nullable */
	bool read_only;
	bool is_default;      /* v0 only; decoded v1+: false */
	int8_t config_source; /* v1+; decoded v0: -1 */
	bool is_sensitive;
	int32_t n_synonyms; /* v1+ */
	const struct gqk_describe_configs_synonym *synonyms;
};

struct gqk_describe_configs_result {
	int16_t error_code;
	struct gqk_str error_message; /* nullable */
	int8_t resource_type;
	struct gqk_str resource_name;
	int32_t n_configs;
	const struct gqk_describe_configs_entry *configs;
};

struct gqk_describe_configs_resp {
	int32_t throttle_time_ms;
	int32_t n_results;
	const struct gqk_describe_configs_result *results;
};

/* Decode a DescribeConfigs body (v0-v2; v1 adds IncludeSynonyms). */
int gqk_describe_configs_req_decode(struct gqk_reader *r, int16_t version,
				    struct gqk_arena *a,
				    struct gqk_describe_configs_req *out);
/* Encode a DescribeConfigs request body (v1 adds IncludeSynonyms). */
void
gqk_describe_configs_req_encode(struct gqk_writer *w, int16_t version,
				const struct gqk_describe_configs_req *req);
/* Encode a DescribeConfigs response: v0 IsDefault, v1+ ConfigSource and
 * Synonyms instead. */
void
gqk_describe_configs_resp_encode(struct gqk_writer *w, int16_t version,
				 const struct gqk_describe_configs_resp *resp);
/* Decode a DescribeConfigs response body (v0-v2). */
int gqk_describe_configs_resp_decode(struct gqk_reader *r, int16_t version,
				     struct gqk_arena *a,
				     struct gqk_describe_configs_resp *out);

/*
 * IncrementalAlterConfigs (44), v0 only (flexible from v1)
 */

/* Config operations of IncrementalAlterConfigs. */
#define GQK_CONFIG_OP_SET      0
#define GQK_CONFIG_OP_DELETE   1
#define GQK_CONFIG_OP_APPEND   2
#define GQK_CONFIG_OP_SUBTRACT 3

struct gqk_alter_configs_req_config {
	struct gqk_str name;
	int8_t config_operation; /* GQK_CONFIG_OP_* */
	struct gqk_str value;    /* nullable */
};

struct gqk_alter_configs_req_resource {
	int8_t resource_type;
	struct gqk_str resource_name;
	int32_t n_configs;
	struct gqk_alter_configs_req_config *configs;
};

struct gqk_incremental_alter_configs_req {
	int32_t n_resources;
	struct gqk_alter_configs_req_resource *resources;
	bool validate_only;
};

struct gqk_alter_configs_resp_resource {
	int16_t error_code;
	struct gqk_str error_message; /* nullable */
	int8_t resource_type;
	struct gqk_str resource_name;
};

struct gqk_incremental_alter_configs_resp {
	int32_t throttle_time_ms;
	int32_t n_responses;
	const struct gqk_alter_configs_resp_resource *responses;
};

/* Decode an IncrementalAlterConfigs body (v0). */
int gqk_incremental_alter_configs_req_decode(
	struct gqk_reader *r, int16_t version, struct gqk_arena *a,
	struct gqk_incremental_alter_configs_req *out);
/* Encode an IncrementalAlterConfigs request body (v0). */
void gqk_incremental_alter_configs_req_encode(
	struct gqk_writer *w, int16_t version,
	const struct gqk_incremental_alter_configs_req *req);
/* Encode an IncrementalAlterConfigs response (v0). */
void gqk_incremental_alter_configs_resp_encode(
	struct gqk_writer *w, int16_t version,
	const struct gqk_incremental_alter_configs_resp *resp);
/* Decode an IncrementalAlterConfigs response body (v0). */
int gqk_incremental_alter_configs_resp_decode(
	struct gqk_reader *r, int16_t version, struct gqk_arena *a,
	struct gqk_incremental_alter_configs_resp *out);

/*
 * Dispatch
 */

/* A decoded request body; which member is valid follows header.api_key. */
union gqk_request {
	struct gqk_api_versions_req api_versions;
	struct gqk_metadata_req metadata;
	struct gqk_produce_req produce;
	struct gqk_fetch_req fetch;
	struct gqk_list_offsets_req list_offsets;
	struct gqk_init_producer_id_req init_producer_id;
	struct gqk_create_topics_req create_topics;
	struct gqk_delete_topics_req delete_topics;
	struct gqk_describe_configs_req describe_configs;
	struct gqk_incremental_alter_configs_req incremental_alter_configs;
	/* The group APIs (kapi_group.h). */
	struct gqk_find_coordinator_req find_coordinator;
	struct gqk_join_group_req join_group;
	struct gqk_sync_group_req sync_group;
	struct gqk_heartbeat_req heartbeat;
	struct gqk_leave_group_req leave_group;
	struct gqk_offset_commit_req offset_commit;
	struct gqk_offset_fetch_req offset_fetch;
	struct gqk_describe_groups_req describe_groups;
	struct gqk_list_groups_req list_groups;
};

/*
 * Decode one request: @frame holds the @len bytes after the 4-byte size
 * prefix (borrowed, and lent to @req until freed or reused). Returns 0,
 * GQK_EMALFORMED (bad header or body, trailing bytes), GQK_ENOMEM (arena),
 * or GQK_EUNSUPPORTED (a key/version outside gqk_supported[]; every key in
 * it has a body decoder, the group APIs included). @h is filled as
 * far as it could be read even on error, so the caller can still answer an
 * unsupported ApiVersions with gqk_api_versions_unsupported_encode(). Free
 * @a with gqk_arena_free() in every case.
 */
int gqk_request_decode(const uint8_t *frame, size_t len, struct gqk_arena *a,
		       struct gqk_header *h, union gqk_request *req);

/*
 * Append one whole request frame, ready to send as it is: the INT32 size,
 * the request header of @h (gqk_request_header_put()) and the body of
 * @req, the member h->api_key selects, at h->api_version. Everything is
 * borrowed. Returns w->err: 0, GQK_EUNSUPPORTED (a key or version outside
 * gqk_supported[]; nothing is written), GQK_ENOMEM or GQK_EMALFORMED
 * (something the protocol cannot carry, such as a string over 32767
 * bytes); after an error @w holds nothing usable.
 */
int gqk_request_encode(struct gqk_writer *w, const struct gqk_header *h,
		       const union gqk_request *req);

/* A decoded response body; which member is valid follows the request's
 * api key. */
union gqk_response {
	struct gqk_api_versions_resp api_versions;
	struct gqk_metadata_resp metadata;
	struct gqk_produce_resp produce;
	struct gqk_fetch_resp fetch;
	struct gqk_list_offsets_resp list_offsets;
	struct gqk_init_producer_id_resp init_producer_id;
	struct gqk_create_topics_resp create_topics;
	struct gqk_delete_topics_resp delete_topics;
	struct gqk_describe_configs_resp describe_configs;
	struct gqk_incremental_alter_configs_resp incremental_alter_configs;
	/* The group APIs (kapi_group.h). */
	struct gqk_find_coordinator_resp find_coordinator;
	struct gqk_join_group_resp join_group;
	struct gqk_sync_group_resp sync_group;
	struct gqk_heartbeat_resp heartbeat;
	struct gqk_leave_group_resp leave_group;
	struct gqk_offset_commit_resp offset_commit;
	struct gqk_offset_fetch_resp offset_fetch;
	struct gqk_describe_groups_resp describe_groups;
	struct gqk_list_groups_resp list_groups;
};

/*
 * Append one whole response frame to the request whose header is @h: the
 * INT32 size, gqk_response_header_put(), and the body of @resp at
 * h->api_version (an ApiVersions key list left NULL is all of
 * gqk_supported[], group keys included). Returns w->err as
 * gqk_request_encode() does.
 */
int gqk_response_encode(struct gqk_writer *w, const struct gqk_header *h,
			const union gqk_response *resp);

/*
 * Decode one response on the client side: @frame holds the @len bytes
 * after the 4-byte size prefix (borrowed, and lent to @resp until freed or
 * reused), @h is the header of the request it answers (api key, version
 * and correlation id are read; the flexible flag is derived again). The
 * response header is v0, or v1 with tagged fields for flexible versions
 * other than ApiVersions. Returns 0, GQK_EUNSUPPORTED (a key or version
 * outside gqk_supported[]; nothing is read), GQK_EMALFORMED (short
 * header, bad body, trailing bytes), GQK_ECORRELATION (the correlation id
 * is not h->correlation_id: the answer to another request, so the
 * connection is out of step) or GQK_ENOMEM (arena). Free @a with
 * gqk_arena_free() in every case.
 */
int gqk_response_decode(const uint8_t *frame, size_t len,
			const struct gqk_header *h, struct gqk_arena *a,
			union gqk_response *resp);

#endif /* GQK_KAPI_H */
