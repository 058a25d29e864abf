/* SPDX-License-Identifier: MIT */
/*
 * fuzz_request.c - libFuzzer target for the Kafka codec, both directions.
 *
 * The input is one request frame without its 4-byte size prefix, exactly
 * what gqd hands to gqk_request_decode(). Whatever decodes is turned into
 * a response echoing it (topic names, partitions, records) and encoded at
 * the same version, so the encoders see decoder output too. The client
 * direction must agree: the echoed response decodes with
 * gqk_response_decode() and re-encodes to the very same frame, and the
 * decoded request re-encodes with gqk_request_encode() to a frame that
 * decodes and re-encodes identically. The input is also read as a
 * response frame (two leading bytes choose the API and version), which,
 * when it decodes, must re-encode stably too. Any disagreement is a codec
 * bug and abort()s. Consumer protocol payloads (JoinGroup metadata,
 * SyncGroup assignments, and the raw input itself) are decoded, and those
 * of a fully known version must re-encode to the very same bytes. The
 * same bytes also go through every primitive reader. Built only with
 * clang:
 *
 *   CC=clang meson setup build-fuzz && ninja -C build-fuzz fuzz_request
 *   mkdir -p corpus && ./build-fuzz/frontend/kafka/fuzz_request \
 *           -max_total_time=60 corpus seeds
 */
#include "kapi.h"
#include "kwire.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Arena cap per input: well above what any valid frame of libFuzzer's
 * default size needs, low enough to catch runaway amplification. */
#define FUZZ_ARENA_LIMIT (64u << 20)

static void *
alloc_n(struct gqk_arena *a, int32_t n, size_t elem)
{
	if (n <= 0)
		return NULL;
	return gqk_arena_alloc(a, (size_t)n * elem);
}

static void
echo_metadata(struct gqk_writer *w, int16_t v, struct gqk_arena *a,
	      const struct gqk_metadata_req *q)
{
	static const int32_t nodes[] = { 1 };
	const struct gqk_metadata_broker broker = { 1, GQK_STR("localhost"),
						    9092, GQK_STR_NULL };
	const struct gqk_metadata_partition part = {
		0, 0, 1, 1, nodes, 1, nodes
	};
	struct gqk_metadata_topic *t;
	struct gqk_metadata_resp resp = { 0 };
	int32_t i;

	t = alloc_n(a, q->n_topics, sizeof(*t));
	if (q->n_topics > 0 && t == NULL)
		return;
	for (i = 0; i < q->n_topics; i++) {
		t[i].name = q->topics[i];
		t[i].n_partitions = 1;
		t[i].partitions = &part;
	}
	resp.n_brokers = 1;
	resp.brokers = &broker;
	resp.cluster_id = GQK_STR("fuzz");
	resp.n_topics = q->n_topics;
	resp.topics = t;
	gqk_metadata_resp_encode(w, v, &resp);
}

static void
echo_produce(struct gqk_writer *w, int16_t v, struct gqk_arena *a,
	     const struct gqk_produce_req *q)
{
	struct gqk_produce_resp_topic *t;
	struct gqk_produce_resp_partition *p;
	struct gqk_produce_resp resp = { 0 };
	int32_t i, j;

	t = alloc_n(a, q->n_topics, sizeof(*t));
	if (q->n_topics > 0 && t == NULL)
		return;
	for (i = 0; i < q->n_topics; i++) {
		p = alloc_n(a, q->topics[i].n_partitions, sizeof(*p));
		t[i].name = q->topics[i].name;
		t[i].n_partitions = p != NULL ? q->topics[i].n_partitions : 0;
		t[i].partitions = p;
		for (j = 0; j < t[i].n_partitions; j++) {
			p[j].index = q->topics[i].partitions[j].index;
			p[j].base_offset =
				q->topics[i].partitions[j].records.len;
			p[j].log_append_time_ms = -1;
		}
	}
	resp.n_topics = q->n_topics;
	resp.topics = t;
	gqk_produce_resp_encode(w, v, &resp);
}

static void
echo_fetch(struct gqk_writer *w, int16_t v, struct gqk_arena *a,
	   const struct gqk_fetch_req *q, const uint8_t *data, size_t size)
{
	struct gqk_fetch_resp_topic *t;
	struct gqk_fetch_resp_partition *p;
	struct gqk_fetch_resp resp = { 0 };
	int32_t i, j;

	t = alloc_n(a, q->n_topics, sizeof(*t));
	if (q->n_topics > 0 && t == NULL)
		return;
	for (i = 0; i < q->n_topics; i++) {
		p = alloc_n(a, q->topics[i].n_partitions, sizeof(*p));
		t[i].topic = q->topics[i].topic;
		t[i].n_partitions = p != NULL ? q->topics[i].n_partitions : 0;
		t[i].partitions = p;
		for (j = 0; j < t[i].n_partitions; j++) {
			p[j].partition_index =
				q->topics[i].partitions[j].partition;
			p[j].n_aborted = j % 2 == 0 ? -1 : 0;
			p[j].preferred_read_replica = -1;
			/* Alternate null records and a slice of the input. */
			if (j % 2 == 0) {
				p[j].records = GQK_BYTES_NULL;
			} else {
				p[j].records.p = data;
				p[j].records.len = (int32_t)(size / 2);
			}
		}
	}
	resp.session_id = q->session_id;
	resp.n_topics = q->n_topics;
	resp.topics = t;
	gqk_fetch_resp_encode(w, v, &resp);
}

static void
echo_list_offsets(struct gqk_writer *w, int16_t v, struct gqk_arena *a,
		  const struct gqk_list_offsets_req *q)
{
	struct gqk_list_offsets_resp_topic *t;
	struct gqk_list_offsets_resp_partition *p;
	struct gqk_list_offsets_resp resp = { 0 };
	int32_t i, j;

	t = alloc_n(a, q->n_topics, sizeof(*t));
	if (q->n_topics > 0 && t == NULL)
		return;
	for (i = 0; i < q->n_topics; i++) {
		p = alloc_n(a, q->topics[i].n_partitions, sizeof(*p));
		t[i].name = q->topics[i].name;
		t[i].n_partitions = p != NULL ? q->topics[i].n_partitions : 0;
		t[i].partitions = p;
		for (j = 0; j < t[i].n_partitions; j++) {
			p[j].partition_index =
				q->topics[i].partitions[j].partition_index;
			p[j].timestamp = q->topics[i].partitions[j].timestamp;
			p[j].offset = p[j].timestamp;
		}
	}
	resp.n_topics = q->n_topics;
	resp.topics = t;
	gqk_list_offsets_resp_encode(w, v, &resp);
}

static void
echo_create_topics(struct gqk_writer *w, int16_t v, struct gqk_arena *a,
		   const struct gqk_create_topics_req *q)
{
	struct gqk_create_topics_resp_topic *t;
	struct gqk_create_topics_resp resp = { 0 };
	int32_t i;

	t = alloc_n(a, q->n_topics, sizeof(*t));
	if (q->n_topics > 0 && t == NULL)
		return;
	for (i = 0; i < q->n_topics; i++) {
		t[i].name = q->topics[i].name;
		t[i].error_message = q->topics[i].n_configs > 0
					     ? q->topics[i].configs[0].value
					     : GQK_STR_NULL;
	}
	resp.n_topics = q->n_topics;
	resp.topics = t;
	gqk_create_topics_resp_encode(w, v, &resp);
}

static void
echo_delete_topics(struct gqk_writer *w, int16_t v, struct gqk_arena *a,
		   const struct gqk_delete_topics_req *q)
{
	struct gqk_delete_topics_resp_topic *t;
	struct gqk_delete_topics_resp resp = { 0 };
	int32_t i;

	t = alloc_n(a, q->n_topic_names, sizeof(*t));
	if (q->n_topic_names > 0 && t == NULL)
		return;
	for (i = 0; i < q->n_topic_names; i++)
		t[i].name = q->topic_names[i];
	resp.n_responses = q->n_topic_names;
	resp.responses = t;
	gqk_delete_topics_resp_encode(w, v, &resp);
}

static void
echo_incremental_alter_configs(
	struct gqk_writer *w, int16_t v, struct gqk_arena *a,
	const struct gqk_incremental_alter_configs_req *q)
{
	struct gqk_alter_configs_resp_resource *t;
	struct gqk_incremental_alter_configs_resp resp = { 0 };
	int32_t i;

	t = alloc_n(a, q->n_resources, sizeof(*t));
	if (q->n_resources > 0 && t == NULL)
		return;
	for (i = 0; i < q->n_resources; i++) {
		t[i].resource_type = q->resources[i].resource_type;
		t[i].resource_name = q->resources[i].resource_name;
		t[i].error_message = q->resources[i].n_configs > 0
					     ? q->resources[i].configs[0].value
					     : GQK_STR_NULL;
	}
	resp.n_responses = q->n_resources;
	resp.responses = t;
	gqk_incremental_alter_configs_resp_encode(w, v, &resp);
}

static void
echo_describe_configs(struct gqk_writer *w, int16_t v, struct gqk_arena *a,
		      const struct gqk_describe_configs_req *q)
{
	struct gqk_describe_configs_result *r;
	struct gqk_describe_configs_entry *c;
	struct gqk_describe_configs_resp resp = { 0 };
	int32_t i, j, n;

	r = alloc_n(a, q->n_resources, sizeof(*r));
	if (q->n_resources > 0 && r == NULL)
		return;
	for (i = 0; i < q->n_resources; i++) {
		n = q->resources[i].n_configuration_keys;
		c = alloc_n(a, n, sizeof(*c));
		r[i].resource_type = q->resources[i].resource_type;
		r[i].resource_name = q->resources[i].resource_name;
		r[i].error_message = GQK_STR_NULL;
		r[i].n_configs = c != NULL ? n : 0;
		r[i].configs = c;
		for (j = 0; j < r[i].n_configs; j++) {
			c[j].name = q->resources[i].configuration_keys[j];
			c[j].value = GQK_STR_NULL;
			c[j].config_source = GQK_CONFIG_SOURCE_DEFAULT;
		}
	}
	resp.n_results = q->n_resources;
	resp.results = r;
	gqk_describe_configs_resp_encode(w, v, &resp);
}

/*
 * A subscription that decodes at a version known in full must re-encode to
 * exactly its input; anything else is a codec bug, so abort().
 */
static void
round_trip_subscription(struct gqk_arena *a, struct gqk_bytes b)
{
	struct gqk_consumer_subscription s;
	struct gqk_writer w;

	if (gqk_consumer_subscription_decode(b, a, &s) != 0 ||
	    s.version > GQK_CONSUMER_SUBSCRIPTION_VERSION_MAX)
		return;
	gqk_writer_init(&w);
	gqk_consumer_subscription_encode(&w, &s);
	if (w.err != 0 || w.len != (size_t)b.len ||
	    memcmp(w.base, b.p, w.len) != 0)
		abort();
	gqk_writer_free(&w);
}

/* The same for an assignment (the empty payload decodes to nothing). */
static void
round_trip_assignment(struct gqk_arena *a, struct gqk_bytes b)
{
	struct gqk_consumer_assignment s;
	struct gqk_writer w;

	if (b.len <= 0 || gqk_consumer_assignment_decode(b, a, &s) != 0 ||
	    s.version > GQK_CONSUMER_ASSIGNMENT_VERSION_MAX)
		return;
	gqk_writer_init(&w);
	gqk_consumer_assignment_encode(&w, &s);
	if (w.err != 0 || w.len != (size_t)b.len ||
	    memcmp(w.base, b.p, w.len) != 0)
		abort();
	gqk_writer_free(&w);
}

static void
echo_find_coordinator(struct gqk_writer *w, int16_t v,
		      const struct gqk_find_coordinator_req *q)
{
	struct gqk_find_coordinator_resp resp = { 0 };

	resp.error_message = q->key;
	resp.node_id = q->key_type;
	resp.host = q->key;
	resp.port = 9092;
	gqk_find_coordinator_resp_encode(w, v, &resp);
}

/* The leader's answer: one member per protocol, with its metadata. */
static void
echo_join_group(struct gqk_writer *w, int16_t v, struct gqk_arena *a,
		const struct gqk_join_group_req *q)
{
	struct gqk_join_group_resp_member *m;
	struct gqk_join_group_resp resp = { 0 };
	int32_t i;

	m = alloc_n(a, q->n_protocols, sizeof(*m));
	if (q->n_protocols > 0 && m == NULL)
		return;
	for (i = 0; i < q->n_protocols; i++) {
		m[i].member_id = q->protocols[i].name;
		m[i].group_instance_id = q->group_instance_id;
		m[i].metadata = q->protocols[i].metadata;
		round_trip_subscription(a, q->protocols[i].metadata);
	}
	resp.generation_id = q->session_timeout_ms;
	resp.protocol_name =
		q->n_protocols > 0 ? q->protocols[0].name : GQK_STR_NULL;
	resp.leader = q->member_id;
	resp.member_id = q->member_id;
	resp.n_members = q->n_protocols;
	resp.members = m;
	gqk_join_group_resp_encode(w, v, &resp);
}

static void
echo_sync_group(struct gqk_writer *w, int16_t v, struct gqk_arena *a,
		const struct gqk_sync_group_req *q)
{
	struct gqk_sync_group_resp resp = { 0 };
	int32_t i;

	for (i = 0; i < q->n_assignments; i++)
		round_trip_assignment(a, q->assignments[i].assignment);
	resp.assignment = q->n_assignments > 0 ? q->assignments[0].assignment
					       : GQK_BYTES_NULL;
	gqk_sync_group_resp_encode(w, v, &resp);
}

static void
echo_offset_commit(struct gqk_writer *w, int16_t v, struct gqk_arena *a,
		   const struct gqk_offset_commit_req *q)
{
	struct gqk_offset_commit_resp_topic *t;
	struct gqk_offset_commit_resp_partition *p;
	struct gqk_offset_commit_resp resp = { 0 };
	int32_t i, j;

	t = alloc_n(a, q->n_topics, sizeof(*t));
	if (q->n_topics > 0 && t == NULL)
		return;
	for (i = 0; i < q->n_topics; i++) {
		p = alloc_n(a, q->topics[i].n_partitions, sizeof(*p));
		t[i].name = q->topics[i].name;
		t[i].n_partitions = p != NULL ? q->topics[i].n_partitions : 0;
		t[i].partitions = p;
		for (j = 0; j < t[i].n_partitions; j++) {
			p[j].partition_index =
				q->topics[i].partitions[j].partition_index;
			p[j].error_code = (int16_t)j;
		}
	}
	resp.n_topics = q->n_topics;
	resp.topics = t;
	gqk_offset_commit_resp_encode(w, v, &resp);
}

static void
echo_offset_fetch(struct gqk_writer *w, int16_t v, struct gqk_arena *a,
		  const struct gqk_offset_fetch_req *q)
{
	struct gqk_offset_fetch_resp_topic *t;
	struct gqk_offset_fetch_resp_partition *p;
	struct gqk_offset_fetch_resp resp = { 0 };
	int32_t i, j;

	t = alloc_n(a, q->n_topics, sizeof(*t));
	if (q->n_topics > 0 && t == NULL)
		return;
	for (i = 0; i < q->n_topics; i++) {
		p = alloc_n(a, q->topics[i].n_partition_indexes, sizeof(*p));
		t[i].name = q->topics[i].name;
		t[i].n_partitions =
			p != NULL ? q->topics[i].n_partition_indexes : 0;
		t[i].partitions = p;
		for (j = 0; j < t[i].n_partitions; j++) {
			p[j].partition_index =
				q->topics[i].partition_indexes[j];
			p[j].committed_offset = -1;
			p[j].committed_leader_epoch = -1;
			p[j].metadata = j % 2 == 0 ? GQK_STR_NULL : t[i].name;
		}
	}
	resp.n_topics = q->n_topics;
	resp.topics = t;
	resp.error_code = q->all_topics ? GQK_ERR_NOT_COORDINATOR : 0;
	gqk_offset_fetch_resp_encode(w, v, &resp);
}

static void
echo_describe_groups(struct gqk_writer *w, int16_t v, struct gqk_arena *a,
		     const struct gqk_describe_groups_req *q,
		     const uint8_t *data, size_t size)
{
	struct gqk_describe_groups_group *g;
	struct gqk_describe_groups_member m = { 0 };
	struct gqk_describe_groups_resp resp = { 0 };
	int32_t i;

	g = alloc_n(a, q->n_groups, sizeof(*g));
	if (q->n_groups > 0 && g == NULL)
		return;
	m.member_id = GQK_STR("m");
	m.group_instance_id = GQK_STR_NULL;
	m.member_metadata.p = data;
	m.member_metadata.len = (int32_t)(size / 3);
	m.member_assignment = GQK_BYTES_NULL;
	for (i = 0; i < q->n_groups; i++) {
		g[i].group_id = q->groups[i];
		g[i].group_state = GQK_STR("Stable");
		g[i].n_members = i % 2;
		g[i].members = &m;
		g[i].authorized_operations =
			q->include_authorized_operations
				? 0
				: GQK_AUTHORIZED_OPERATIONS_OMITTED;
	}
	resp.n_groups = q->n_groups;
	resp.groups = g;
	gqk_describe_groups_resp_encode(w, v, &resp);
}

/* The group APIs; heartbeat-like answers need nothing from the request. */
static void
echo_group(struct gqk_writer *w, struct gqk_arena *a, int16_t key, int16_t v,
	   const union gqk_request *q, const uint8_t *data, size_t size)
{
	const struct gqk_heartbeat_resp hb = { 0, GQK_ERR_NONE };
	const struct gqk_leave_group_resp lg = { 0, GQK_ERR_NONE };
	const struct gqk_list_groups_group lgg = { GQK_STR("g"),
						   GQK_STR("consumer") };
	const struct gqk_list_groups_resp ls = { 0, 0, 1, &lgg };

	switch (key) {
	case GQK_FIND_COORDINATOR:
		echo_find_coordinator(w, v, &q->find_coordinator);
		break;
	case GQK_JOIN_GROUP:
		echo_join_group(w, v, a, &q->join_group);
		break;
	case GQK_SYNC_GROUP:
		echo_sync_group(w, v, a, &q->sync_group);
		break;
	case GQK_HEARTBEAT:
		gqk_heartbeat_resp_encode(w, v, &hb);
		break;
	case GQK_LEAVE_GROUP:
		gqk_leave_group_resp_encode(w, v, &lg);
		break;
	case GQK_OFFSET_COMMIT:
		echo_offset_commit(w, v, a, &q->offset_commit);
		break;
	case GQK_OFFSET_FETCH:
		echo_offset_fetch(w, v, a, &q->offset_fetch);
		break;
	case GQK_DESCRIBE_GROUPS:
		echo_describe_groups(w, v, a, &q->describe_groups, data, size);
		break;
	case GQK_LIST_GROUPS:
		gqk_list_groups_resp_encode(w, v, &ls);
		break;
	default:
		break;
	}
}

/* Encode a response echoing the decoded request @q. */
static void
echo(struct gqk_writer *w, struct gqk_arena *a, const struct gqk_header *h,
     const union gqk_request *q, const uint8_t *data, size_t size)
{
	const struct gqk_api_versions_resp av = { 0 };
	const struct gqk_init_producer_id_resp ip = { 0, 0, 1, 0 };
	int16_t v = h->api_version;
	size_t frame;

	frame = gqk_frame_begin(w);
	gqk_response_header_put(w, h);
	switch (h->api_key) {
	case GQK_API_VERSIONS:
		(void)gqk_api_versions_req_valid(&q->api_versions);
		gqk_api_versions_resp_encode(w, v, &av, (size & 1) != 0);
		break;
	case GQK_METADATA:
		echo_metadata(w, v, a, &q->metadata);
		break;
	case GQK_PRODUCE:
		echo_produce(w, v, a, &q->produce);
		break;
	case GQK_FETCH:
		echo_fetch(w, v, a, &q->fetch, data, size);
		break;
	case GQK_LIST_OFFSETS:
		echo_list_offsets(w, v, a, &q->list_offsets);
		break;
	case GQK_INIT_PRODUCER_ID:
		gqk_init_producer_id_resp_encode(w, v, &ip);
		break;
	case GQK_CREATE_TOPICS:
		echo_create_topics(w, v, a, &q->create_topics);
		break;
	case GQK_DELETE_TOPICS:
		echo_delete_topics(w, v, a, &q->delete_topics);
		break;
	case GQK_DESCRIBE_CONFIGS:
		echo_describe_configs(w, v, a, &q->describe_configs);
		break;
	case GQK_INCREMENTAL_ALTER_CONFIGS:
		echo_incremental_alter_configs(w, v, a,
					       &q->incremental_alter_configs);
		break;
	default:
		echo_group(w, a, h->api_key, v, q, data, size);
		break;
	}
	gqk_frame_end(w, frame);
}

/* Encode @q as a request frame for @h into @w; abort() on failure, since
 * everything a decoder accepts can be written again. */
static void
request_encode_or_die(struct gqk_writer *w, const struct gqk_header *h,
		      const union gqk_request *q)
{
	gqk_writer_init(w);
	if (gqk_request_encode(w, h, q) != 0)
		abort();
}

/*
 * The decoded request @q re-encodes to a frame that decodes again, and
 * that second request re-encodes to the same bytes (the first encoding
 * drops what decoding forgets: tagged fields, non-canonical varints and
 * booleans).
 */
static void
round_trip_request(const struct gqk_header *h, const union gqk_request *q)
{
	struct gqk_writer w1, w2;
	struct gqk_header h2;
	union gqk_request q2;
	struct gqk_arena a;

	request_encode_or_die(&w1, h, q);
	gqk_arena_init(&a, FUZZ_ARENA_LIMIT);
	if (gqk_request_decode(w1.base + 4, w1.len - 4, &a, &h2, &q2) != 0)
		abort();
	request_encode_or_die(&w2, &h2, &q2);
	if (w1.len != w2.len || memcmp(w1.base, w2.base, w1.len) != 0)
		abort();
	gqk_arena_free(&a);
	gqk_writer_free(&w1);
	gqk_writer_free(&w2);
}

/*
 * The response frame @frame (@len bytes after the size prefix), decoded
 * into @p for the request @h, re-encodes to exactly @frame if @exact (a
 * frame gqk_response_encode() wrote), and otherwise to a frame that
 * decodes and re-encodes to itself.
 */
static void
round_trip_response(const struct gqk_header *h, const union gqk_response *p,
		    const uint8_t *frame, size_t len, bool exact)
{
	struct gqk_writer w1, w2;
	union gqk_response p2;
	struct gqk_arena a;

	gqk_writer_init(&w1);
	if (gqk_response_encode(&w1, h, p) != 0)
		abort();
	if (exact &&
	    (w1.len - 4 != len || memcmp(w1.base + 4, frame, len) != 0))
		abort();
	gqk_arena_init(&a, FUZZ_ARENA_LIMIT);
	if (gqk_response_decode(w1.base + 4, w1.len - 4, h, &a, &p2) != 0)
		abort();
	gqk_writer_init(&w2);
	if (gqk_response_encode(&w2, h, &p2) != 0 || w1.len != w2.len ||
	    memcmp(w1.base, w2.base, w1.len) != 0)
		abort();
	gqk_arena_free(&a);
	gqk_writer_free(&w1);
	gqk_writer_free(&w2);
}

/* The response gqd would send, @w's frame, is what a client reads. */
static void
client_reads_echo(const struct gqk_header *h, const struct gqk_writer *w)
{
	union gqk_response p;
	struct gqk_arena a;

	if (w->err != 0)
		return;
	gqk_arena_init(&a, FUZZ_ARENA_LIMIT);
	if (gqk_response_decode(w->base + 4, w->len - 4, h, &a, &p) != 0)
		abort();
	round_trip_response(h, &p, w->base + 4, w->len - 4, true);
	gqk_arena_free(&a);
}

/*
 * The input as a response: data[0] picks the API from gqk_supported[],
 * data[1] the version in its range, and the rest is the frame, whose own
 * correlation id is taken as the one expected so that bodies get decoded.
 */
static void
fuzz_response(const uint8_t *data, size_t size)
{
	const struct gqk_api_range *e;
	struct gqk_header h = { 0 };
	union gqk_response p;
	struct gqk_arena a;
	const uint8_t *frame = data + 2;
	size_t len;

	if (size < 2)
		return;
	len = size - 2;
	e = &gqk_supported[data[0] % gqk_n_supported];
	h.api_key = e->key;
	h.api_version = (int16_t)(e->min + data[1] % (e->max - e->min + 1));
	h.flexible = gqk_api_flexible(h.api_key, h.api_version);
	if (len >= 4)
		h.correlation_id =
			(int32_t)((uint32_t)frame[0] << 24 |
				  (uint32_t)frame[1] << 16 |
				  (uint32_t)frame[2] << 8 | frame[3]);
	gqk_arena_init(&a, FUZZ_ARENA_LIMIT);
	if (gqk_response_decode(frame, len, &h, &a, &p) == 0)
		round_trip_response(&h, &p, frame, len, false);
	gqk_arena_free(&a);
}

/* Every primitive reader over the raw input. */
static void
read_primitives(const uint8_t *data, size_t size)
{
	struct gqk_reader r;
	struct gqk_str s;
	struct gqk_bytes b;

	gqk_reader_init(&r, data, size);
	while (r.err == 0 && gqk_reader_remaining(&r) != 0) {
		switch (gqk_read_i8(&r) & 15) {
		case 0:
			gqk_read_uvarint(&r);
			break;
		case 1:
			gqk_read_uvarint64(&r);
			break;
		case 2:
			gqk_read_string(&r, &s);
			break;
		case 3:
			gqk_read_nullable_string(&r, &s);
			break;
		case 4:
			gqk_read_compact_string(&r, &s);
			break;
		case 5:
			gqk_read_compact_nullable_string(&r, &s);
			break;
		case 6:
			gqk_read_bytes(&r, &b);
			break;
		case 7:
			gqk_read_nullable_bytes(&r, &b);
			break;
		case 8:
			gqk_read_compact_bytes(&r, &b);
			break;
		case 9:
			gqk_read_compact_nullable_bytes(&r, &b);
			break;
		case 10:
			gqk_read_array_len(&r);
			break;
		case 11:
			gqk_read_compact_array_len(&r);
			break;
		case 12:
			gqk_skip_tagged_fields(&r);
			break;
		case 13:
			gqk_read_i64(&r);
			break;
		default:
			gqk_read_i32(&r);
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_writer w;
	struct gqk_bytes payload;
	int rv;

	gqk_arena_init(&a, FUZZ_ARENA_LIMIT);
	gqk_writer_init(&w);
	rv = gqk_request_decode(data, size, &a, &h, &req);
	if (rv == 0) {
		echo(&w, &a, &h, &req, data, size);
		client_reads_echo(&h, &w);
		round_trip_request(&h, &req);
	} else if (rv == GQK_EUNSUPPORTED && h.api_key == GQK_API_VERSIONS) {
		gqk_api_versions_unsupported_encode(&w);
	}
	gqk_writer_free(&w);
	/* The raw input as a consumer protocol payload, too. */
	payload.p = data;
	payload.len = size <= INT32_MAX ? (int32_t)size : INT32_MAX;
	round_trip_subscription(&a, payload);
	round_trip_assignment(&a, payload);
	gqk_arena_free(&a);
	fuzz_response(data, size);
	read_primitives(data, size);
	return 0;
}
