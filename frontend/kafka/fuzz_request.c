/* SPDX-License-Identifier: MIT */
/*
 * fuzz_request.c - libFuzzer target for the Kafka codec.
 *
 * The input is one request frame without its 4-byte size prefix, exactly
 * what gqd hands to gqk_request_decode(). Whatever decodes is turned into
 * a response echoing it (topic names, partitions, records) and encoded at
 * the same version, so the encoders see decoder output too. The same bytes
 * also go through every primitive reader. Built only with clang:
 *
 *   CC=clang meson setup build-fuzz && ninja -C build-fuzz fuzz_request
 *   mkdir -p corpus && ./build-fuzz/frontend/kafka/fuzz_request \
 *           -max_total_time=60 corpus seeds
 */
#include "kapi.h"
#include "kwire.h"

#include <stddef.h>
#include <stdint.h>
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

/* Encode a response echoing the decoded request @q. */
static void
echo(struct gqk_writer *w, struct gqk_arena *a, const struct gqk_header *h,
     const union gqk_request *q, const uint8_t *data, size_t size)
{
	const struct gqk_api_versions_resp av = { 0, 0 };
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
	default:
		break;
	}
	gqk_frame_end(w, frame);
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
	int rv;

	gqk_arena_init(&a, FUZZ_ARENA_LIMIT);
	gqk_writer_init(&w);
	rv = gqk_request_decode(data, size, &a, &h, &req);
	if (rv == 0)
		echo(&w, &a, &h, &req, data, size);
	else if (rv == GQK_EUNSUPPORTED && h.api_key == GQK_API_VERSIONS)
		gqk_api_versions_unsupported_encode(&w);
	gqk_writer_free(&w);
	gqk_arena_free(&a);
	read_primitives(data, size);
	return 0;
}
