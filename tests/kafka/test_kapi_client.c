/* SPDX-License-Identifier: MIT */
/*
 * test_kapi_client.c - the client direction of the Kafka codec: request
 * encoders and response decoders, for ApiVersions, the data path APIs and
 * the admin APIs (the group APIs are in test_kapi_group_client.c).
 *
 * For every API and every version gqd serves, a request struct goes
 * through gqk_request_encode() and the server's gqk_request_decode(), and
 * a response struct through the server's gqk_response_encode() and
 * gqk_response_decode(); both come back field by field, with Kafka's
 * defaults for the fields a version lacks. The per-API functions are
 * checked against the frame's body. Every response frame is also cut at
 * every length, extended by a byte, given another correlation id and
 * decoded with arenas too small (kround.h). Known frames, assembled with
 * the codec-independent builder of kbytes.h, pin the bytes.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kapi.h"
#include "kbytes.h"
#include "kround.h"
#include "kwire.h"

TestSuite(kapi_client, .timeout = 60);

/* A stand-in for a RecordBatch: the codec does not look inside. */
static const uint8_t batch[] = { 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 9, 2 };
#define BATCH_INIT                            \
	{                                     \
		batch, (int32_t)sizeof(batch) \
	}
#define BATCH ((struct gqk_bytes)BATCH_INIT)

/*
 * Headers and frames
 */

/* Request header v1 for non-flexible versions, v2 (tagged fields) for
 * flexible ones, whatever h->flexible says; a null client id is -1. */
Test(kapi_client, request_header)
{
	struct gqk_header h = { 0 };
	struct gqk_writer w;
	struct bb want;

	h.api_key = GQK_METADATA;
	h.api_version = 4;
	h.correlation_id = 0x01020304;
	h.client_id = GQK_STR("rdkafka");
	h.flexible = true;
	b_header(&want, GQK_METADATA, 4, 0x01020304, "rdkafka", false);
	gqk_writer_init(&w);
	gqk_request_header_put(&w, &h);
	expect_writer(&w, &want);
	gqk_writer_free(&w);

	h.api_key = GQK_API_VERSIONS;
	h.api_version = 3;
	h.client_id = GQK_STR_NULL;
	h.flexible = false;
	b_header(&want, GQK_API_VERSIONS, 3, 0x01020304, NULL, true);
	gqk_request_header_put(&w, &h);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/* librdkafka's ApiVersions v3 request, byte for byte (36 bytes after the
 * size prefix, KAFKA-PROTOCOL.md 1.2). */
Test(kapi_client, api_versions_v3_request_bytes)
{
	const struct gqk_header h = { GQK_API_VERSIONS, 3, 1,
				      GQK_STR("rdkafka"), true };
	union gqk_request q;
	struct gqk_writer w;
	struct bb want;

	q.api_versions.client_software_name = GQK_STR("librdkafka");
	q.api_versions.client_software_version = GQK_STR("2.0.2");
	gqk_writer_init(&w);
	cr_assert(eq(int, gqk_request_encode(&w, &h, &q), 0));
	frame_api_versions_v3(&want);
	cr_assert(eq(sz, w.len, 4 + 36));
	cr_assert(eq(sz, want.n, 36));
	cr_assert(eq(int, memcmp(w.base, "\0\0\0\x24", 4), 0));
	cr_assert(eq(int, memcmp(w.base + 4, want.b, want.n), 0));
	gqk_writer_free(&w);
}

/* librdkafka's Metadata v4 and kafka-python's Metadata v0 probe, byte for
 * byte, from the layouts of section 1.5. */
Test(kapi_client, metadata_request_bytes)
{
	struct gqk_str topics[] = { GQK_STR("t1") };
	struct gqk_header h = { GQK_METADATA, 4, 4, GQK_STR("rdkafka"), false };
	union gqk_request q = { 0 };
	struct gqk_writer w;
	struct bb want;

	q.metadata.n_topics = 1;
	q.metadata.topics = topics;
	q.metadata.allow_auto_topic_creation = true;
	b_header(&want, GQK_METADATA, 4, 4, "rdkafka", false);
	b_i32(&want, 1);
	b_str(&want, "t1");
	b_i8(&want, 1);
	gqk_writer_init(&w);
	cr_assert(eq(int, gqk_request_encode(&w, &h, &q), 0));
	cr_assert(eq(sz, w.len, want.n + 4));
	cr_assert(eq(int, memcmp(w.base + 4, want.b, want.n), 0));
	gqk_writer_free(&w);

	/* v0 with every topic: an empty array, not null. */
	h.api_version = 0;
	h.correlation_id = 2;
	h.client_id = GQK_STR("kafka-python-2.0.2");
	q.metadata.n_topics = -1;
	b_header(&want, GQK_METADATA, 0, 2, "kafka-python-2.0.2", false);
	b_i32(&want, 0);
	cr_assert(eq(int, gqk_request_encode(&w, &h, &q), 0));
	cr_assert(eq(sz, w.len, want.n + 4));
	cr_assert(eq(int, memcmp(w.base + 4, want.b, want.n), 0));
	gqk_writer_free(&w);
}

/* Frames append: two requests pipelined in one buffer decode one by one
 * at the offsets their size prefixes give. */
Test(kapi_client, request_frames_append)
{
	struct gqk_header h = { GQK_API_VERSIONS, 0, 1, GQK_STR("c"), false };
	union gqk_request q = { 0 }, out;
	struct gqk_header got;
	struct gqk_arena a;
	struct gqk_writer w;
	size_t first;

	gqk_writer_init(&w);
	cr_assert(eq(int, gqk_request_encode(&w, &h, &q), 0));
	first = w.len;
	h.api_key = GQK_METADATA;
	h.correlation_id = 2;
	q.metadata.n_topics = 0;
	cr_assert(eq(int, gqk_request_encode(&w, &h, &q), 0));
	gqk_arena_init(&a, 0);
	cr_assert(eq(int,
		     gqk_request_decode(w.base + 4, first - 4, &a, &got, &out),
		     0));
	cr_assert(eq(i16, got.api_key, GQK_API_VERSIONS));
	cr_assert(eq(int,
		     gqk_request_decode(w.base + first + 4, w.len - first - 4,
					&a, &got, &out),
		     0));
	cr_assert(eq(i16, got.api_key, GQK_METADATA));
	cr_assert(eq(i32, got.correlation_id, 2));
	cr_assert(out.metadata.all_topics);
	gqk_arena_free(&a);
	gqk_writer_free(&w);
}

/* Keys and versions outside the table are refused in both directions,
 * with nothing written or read; encoders do the same. */
Test(kapi_client, unsupported)
{
	struct gqk_header h = { GQK_METADATA, 5, 1, GQK_STR("c"), false };
	union gqk_request q = { 0 };
	union gqk_response p = { 0 };
	static const uint8_t frame[] = { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct gqk_arena a;
	struct gqk_writer w;
	struct gqk_reader r;

	gqk_writer_init(&w);
	cr_assert(eq(int, gqk_request_encode(&w, &h, &q), GQK_EUNSUPPORTED));
	cr_assert(eq(sz, w.len, 0));
	gqk_writer_free(&w);
	cr_assert(eq(int, gqk_response_encode(&w, &h, &p), GQK_EUNSUPPORTED));
	cr_assert(eq(sz, w.len, 0));
	gqk_writer_free(&w);
	gqk_arena_init(&a, 0);
	cr_assert(eq(int, gqk_response_decode(frame, sizeof(frame), &h, &a, &p),
		     GQK_EUNSUPPORTED));
	h.api_key = 99;
	h.api_version = 0;
	cr_assert(eq(int, gqk_response_decode(frame, sizeof(frame), &h, &a, &p),
		     GQK_EUNSUPPORTED));
	cr_assert(eq(int, gqk_request_encode(&w, &h, &q), GQK_EUNSUPPORTED));
	gqk_writer_free(&w);
	gqk_metadata_req_encode(&w, 5, &q.metadata);
	cr_assert(eq(int, w.err, GQK_EUNSUPPORTED));
	cr_assert(eq(sz, w.len, 0));
	gqk_writer_free(&w);
	gqk_fetch_req_encode(&w, 3, &q.fetch);
	cr_assert(eq(int, w.err, GQK_EUNSUPPORTED));
	gqk_writer_free(&w);
	gqk_reader_init(&r, frame, sizeof(frame));
	cr_assert(eq(int, gqk_produce_resp_decode(&r, 8, &a, &p.produce),
		     GQK_EUNSUPPORTED));
	cr_assert(eq(sz, gqk_reader_remaining(&r), sizeof(frame)));
	gqk_arena_free(&a);
}

/* A response header too short for its correlation id is malformed; the
 * correlation id is checked before the body. */
Test(kapi_client, response_header)
{
	static const uint8_t other[] = { 0, 0, 0, 2, 0, 0 };
	static const uint8_t mine[] = { 0, 0, 0, 1, 0, 0 };
	const struct gqk_header h = { GQK_HEARTBEAT, 0, 1, GQK_STR("c"),
				      false };
	union gqk_response p;
	struct gqk_arena a;

	gqk_arena_init(&a, 0);
	cr_assert(eq(int, gqk_response_decode(mine, 3, &h, &a, &p),
		     GQK_EMALFORMED));
	cr_assert(eq(int, gqk_response_decode(other, 4, &h, &a, &p),
		     GQK_ECORRELATION));
	cr_assert(eq(int, gqk_response_decode(mine, sizeof(mine), &h, &a, &p),
		     0));
	cr_assert(eq(i16, p.heartbeat.error_code, 0));
	gqk_arena_free(&a);
}

/* A string the protocol cannot carry fails the whole frame. */
Test(kapi_client, request_too_long_string)
{
	static char name[40000];
	struct gqk_str topics[1];
	struct gqk_header h = { GQK_METADATA, 1, 1, GQK_STR("c"), false };
	union gqk_request q = { 0 };
	struct gqk_writer w;

	memset(name, 'x', sizeof(name));
	topics[0].p = name;
	topics[0].len = (int32_t)sizeof(name);
	q.metadata.n_topics = 1;
	q.metadata.topics = topics;
	gqk_writer_init(&w);
	cr_assert(eq(int, gqk_request_encode(&w, &h, &q), GQK_EMALFORMED));
	gqk_writer_free(&w);
}

/*
 * ApiVersions
 */

static const struct gqk_api_range broker_keys[] = {
	{ GQK_PRODUCE, 0, 9, false },
	{ GQK_FETCH, 0, 13, false },
	{ GQK_API_VERSIONS, 0, 3, false },
};

static void
fill_api_versions_resp(struct gqk_api_versions_resp *m, int variant)
{
	memset(m, 0, sizeof(*m));
	switch (variant) {
	case 0: /* a broker's own list */
		m->throttle_time_ms = 5;
		m->n_api_keys = 3;
		m->api_keys = broker_keys;
		break;
	case 1: /* gqd's table */
		m->throttle_time_ms = INT32_MIN;
		break;
	default: /* INVALID_REQUEST: no keys */
		m->error_code = GQK_ERR_INVALID_REQUEST;
		break;
	}
}

static void
check_api_versions_resp(int16_t v, const struct gqk_api_versions_resp *in,
			const struct gqk_api_versions_resp *out)
{
	const struct gqk_api_range *keys = in->api_keys;
	int32_t i, n = in->n_api_keys;

	if (keys == NULL) {
		keys = gqk_supported;
		n = in->error_code == 0 ? (int32_t)gqk_n_supported : 0;
	}
	cr_assert(eq(i16, out->error_code, in->error_code));
	cr_assert(eq(i32, out->throttle_time_ms,
		     v >= 1 ? in->throttle_time_ms : 0));
	cr_assert(eq(i32, out->n_api_keys, n));
	for (i = 0; i < n; i++) {
		cr_assert(eq(i16, out->api_keys[i].key, keys[i].key));
		cr_assert(eq(i16, out->api_keys[i].min, keys[i].min));
		cr_assert(eq(i16, out->api_keys[i].max, keys[i].max));
		cr_assert(not(out->api_keys[i].group));
	}
}

/* ApiVersions: every version, both directions. */
Test(kapi_client, api_versions)
{
	union gqk_request q, qd;
	union gqk_response p, pd;
	struct trip t;
	int16_t v, min, max;
	int variant;

	versions(GQK_API_VERSIONS, &min, &max);
	for (v = min; v <= max; v++) {
		q.api_versions.client_software_name = GQK_STR("goqueue");
		q.api_versions.client_software_version = GQK_STR("0.1.0");
		request_trip(&t, GQK_API_VERSIONS, v, &q, &qd);
		if (v >= 3) {
			expect_str_eq(qd.api_versions.client_software_name,
				      GQK_STR("goqueue"));
			expect_str_eq(qd.api_versions.client_software_version,
				      GQK_STR("0.1.0"));
		} else {
			cr_assert(gqk_str_is_null(
				qd.api_versions.client_software_name));
		}
		gqk_api_versions_req_encode(trip_direct(&t), v,
					    &q.api_versions);
		trip_expect_direct(&t);
		trip_free(&t);
		for (variant = 0; variant < 3; variant++) {
			fill_api_versions_resp(&p.api_versions, variant);
			response_trip(&t, GQK_API_VERSIONS, v, &p, &pd);
			check_api_versions_resp(v, &p.api_versions,
						&pd.api_versions);
			gqk_api_versions_resp_encode(trip_direct(&t), v,
						     &p.api_versions, true);
			trip_expect_direct(&t);
			cr_assert(eq(int,
				     gqk_api_versions_resp_decode(
					     trip_body(&t), v, &t.a2,
					     &pd.api_versions),
				     0));
			check_api_versions_resp(v, &p.api_versions,
						&pd.api_versions);
			trip_free(&t);
		}
	}
}

/* A v3 response as a broker may send it, with feature tags in the body
 * and a tag in a key entry: the tags are skipped. */
Test(kapi_client, api_versions_v3_tagged_fields)
{
	struct gqk_header h = { GQK_API_VERSIONS, 3, 9, GQK_STR("c"), true };
	union gqk_response p;
	struct gqk_arena a;
	struct bb b;

	b.n = 0;
	b_i32(&b, 9); /* header v0, even for v3 */
	b_i16(&b, 0);
	b_i8(&b, 3); /* two keys */
	b_i16(&b, GQK_PRODUCE);
	b_i16(&b, 0);
	b_i16(&b, 9);
	b_i8(&b, 1); /* one tagged field: tag 5, two bytes */
	b_i8(&b, 5);
	b_i8(&b, 2);
	b_i16(&b, 0x7777);
	b_i16(&b, GQK_API_VERSIONS);
	b_i16(&b, 0);
	b_i16(&b, 3);
	b_i8(&b, 0);
	b_i32(&b, 11); /* throttle */
	b_i8(&b, 2);   /* SupportedFeatures (empty), ZkMigrationReady */
	b_i8(&b, 0);
	b_i8(&b, 1);
	b_i8(&b, 1);
	b_i8(&b, 3);
	b_i8(&b, 1);
	b_i8(&b, 1);
	gqk_arena_init(&a, 0);
	cr_assert(eq(int, gqk_response_decode(b.b, b.n, &h, &a, &p), 0));
	cr_assert(eq(i32, p.api_versions.n_api_keys, 2));
	cr_assert(eq(i16, p.api_versions.api_keys[0].max, 9));
	cr_assert(eq(i16, p.api_versions.api_keys[1].key, GQK_API_VERSIONS));
	cr_assert(eq(i32, p.api_versions.throttle_time_ms, 11));
	gqk_arena_free(&a);
	check_response_failures(&h, b.b, b.n, 0);
}

/* A v3 request answered by a broker that only knows v0-v2 (or by gqd
 * for v4+): the v0 body with UNSUPPORTED_VERSION and the ApiVersions
 * range, exactly as gqk_api_versions_unsupported_encode() writes it, is
 * taken as that answer; a v0 body with any other error is not a v3
 * response. */
Test(kapi_client, api_versions_v3_fallback)
{
	struct gqk_header h = { GQK_API_VERSIONS, 3, 7, GQK_STR("c"), true };
	union gqk_response p;
	struct gqk_writer w;
	struct gqk_arena a;
	struct bb b;

	b.n = 0;
	b_i32(&b, 7);
	b_i16(&b, 35);
	b_i32(&b, 1);
	b_i16(&b, 18);
	b_i16(&b, 0);
	b_i16(&b, 2);
	gqk_arena_init(&a, 0);
	cr_assert(eq(int, gqk_response_decode(b.b, b.n, &h, &a, &p), 0));
	cr_assert(eq(i16, p.api_versions.error_code, 35));
	cr_assert(eq(i32, p.api_versions.n_api_keys, 1));
	cr_assert(eq(i16, p.api_versions.api_keys[0].key, 18));
	cr_assert(eq(i16, p.api_versions.api_keys[0].max, 2));
	gqk_arena_free(&a);
	/* The same through gqd's own fallback encoder. */
	gqk_writer_init(&w);
	gqk_put_i32(&w, 7);
	gqk_api_versions_unsupported_encode(&w);
	cr_assert(eq(int, gqk_response_decode(w.base, w.len, &h, &a, &p), 0));
	cr_assert(eq(i16, p.api_versions.error_code, 35));
	cr_assert(eq(i16, p.api_versions.api_keys[0].max, 3));
	gqk_arena_free(&a);
	gqk_writer_free(&w);
	/* Not the fallback: another error code, or a non-flexible version. */
	b.b[5] = 42;
	cr_assert(eq(int, gqk_response_decode(b.b, b.n, &h, &a, &p),
		     GQK_EMALFORMED));
	gqk_arena_free(&a);
	b.b[5] = 35;
	h.api_version = 2;
	cr_assert(eq(int, gqk_response_decode(b.b, b.n, &h, &a, &p),
		     GQK_EMALFORMED));
	gqk_arena_free(&a);
	h.api_version = 3;
	check_response_failures(&h, b.b, b.n, 0);
}

/*
 * Metadata
 */

static struct gqk_str metadata_topics[] = { STR_INIT("t1"), STR_INIT(""),
					    STR_INIT("events") };

static void
fill_metadata_req(struct gqk_metadata_req *m, int variant)
{
	memset(m, 0, sizeof(*m));
	switch (variant) {
	case 0:
		m->n_topics = 3;
		m->topics = metadata_topics;
		break;
	case 1: /* all topics */
		m->n_topics = -1;
		m->allow_auto_topic_creation = true;
		break;
	default: /* none (v1+), or all (v0) */
		break;
	}
}

static void
check_metadata_req(int16_t v, const struct gqk_metadata_req *in,
		   const struct gqk_metadata_req *out)
{
	int32_t i;

	cr_assert(eq(i32, out->n_topics, sent_count(in->n_topics, v >= 1)));
	for (i = 0; i < out->n_topics; i++)
		expect_str_eq(out->topics[i], in->topics[i]);
	cr_assert(eq(int, out->allow_auto_topic_creation,
		     v >= 4 ? in->allow_auto_topic_creation : true));
	cr_assert(eq(int, out->all_topics,
		     out->n_topics < 0 || (v == 0 && out->n_topics == 0)));
}

static const int32_t replicas[] = { 1, 2, 3 };
static const struct gqk_metadata_broker brokers[] = {
	{ 1, STR_INIT("broker-1"), 9092, STR_INIT("rack-a") },
	{ 2, STR_INIT("broker-2"), 9093, STR_NULL_INIT },
};
static const struct gqk_metadata_partition metadata_parts[] = {
	{ 0, 0, 1, 3, replicas, 2, replicas },
	{ GQK_ERR_LEADER_NOT_AVAILABLE, 1, -1, 0, NULL, -5, NULL },
};
static const struct gqk_metadata_topic metadata_topic_list[] = {
	{ 0, STR_INIT("t1"), false, 2, metadata_parts },
	{ GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION, STR_INIT("gone"), true, -1,
	  NULL },
};

static void
fill_metadata_resp(struct gqk_metadata_resp *m, int variant)
{
	memset(m, 0, sizeof(*m));
	if (variant == 0) {
		m->throttle_time_ms = 7;
		m->n_brokers = 2;
		m->brokers = brokers;
		m->cluster_id = GQK_STR("gq");
		m->controller_id = 2;
		m->n_topics = 2;
		m->topics = metadata_topic_list;
	} else {
		m->throttle_time_ms = -1;
		m->n_brokers = -1;
		m->cluster_id = GQK_STR_NULL;
		m->controller_id = -1;
	}
}

static void
check_i32s(int32_t n_out, const int32_t *out, int32_t n_in, const int32_t *in)
{
	int32_t i;

	cr_assert(eq(i32, n_out, sent_count(n_in, false)));
	for (i = 0; i < n_out; i++)
		cr_assert(eq(i32, out[i], in[i]));
}

static void
check_metadata_resp(int16_t v, const struct gqk_metadata_resp *in,
		    const struct gqk_metadata_resp *out)
{
	const struct gqk_metadata_partition *pi, *po;
	int32_t i, j;

	cr_assert(eq(i32, out->throttle_time_ms,
		     v >= 3 ? in->throttle_time_ms : 0));
	cr_assert(eq(i32, out->n_brokers, sent_count(in->n_brokers, false)));
	for (i = 0; i < out->n_brokers; i++) {
		cr_assert(eq(i32, out->brokers[i].node_id,
			     in->brokers[i].node_id));
		expect_str_eq(out->brokers[i].host, in->brokers[i].host);
		cr_assert(eq(i32, out->brokers[i].port, in->brokers[i].port));
		expect_str_eq(out->brokers[i].rack,
			      v >= 1 ? in->brokers[i].rack : GQK_STR_NULL);
	}
	expect_str_eq(out->cluster_id, v >= 2 ? in->cluster_id : GQK_STR_NULL);
	cr_assert(eq(i32, out->controller_id, v >= 1 ? in->controller_id : -1));
	cr_assert(eq(i32, out->n_topics, sent_count(in->n_topics, false)));
	for (i = 0; i < out->n_topics; i++) {
		cr_assert(eq(i16, out->topics[i].error_code,
			     in->topics[i].error_code));
		expect_str_eq(out->topics[i].name, in->topics[i].name);
		cr_assert(eq(int, out->topics[i].is_internal,
			     v >= 1 && in->topics[i].is_internal));
		cr_assert(eq(i32, out->topics[i].n_partitions,
			     sent_count(in->topics[i].n_partitions, false)));
		for (j = 0; j < out->topics[i].n_partitions; j++) {
			pi = &in->topics[i].partitions[j];
			po = &out->topics[i].partitions[j];
			cr_assert(eq(i16, po->error_code, pi->error_code));
			cr_assert(eq(i32, po->partition_index,
				     pi->partition_index));
			cr_assert(eq(i32, po->leader_id, pi->leader_id));
			check_i32s(po->n_replicas, po->replicas, pi->n_replicas,
				   pi->replicas);
			check_i32s(po->n_isr, po->isr, pi->n_isr, pi->isr);
		}
	}
}

/* Metadata: every version, both directions. */
API_TRIP_TEST(kapi_client, metadata, GQK_METADATA, 3, 2)

/* A Metadata v1 response built field by field decodes to its fields, its
 * strings pointing into the frame. */
Test(kapi_client, metadata_v1_response_bytes)
{
	struct gqk_header h = { GQK_METADATA, 1, 3, GQK_STR("c"), false };
	const struct gqk_metadata_partition *part;
	union gqk_response p;
	struct gqk_arena a;
	struct bb b;

	b.n = 0;
	b_i32(&b, 3);
	b_i32(&b, 1); /* brokers */
	b_i32(&b, 1);
	b_str(&b, "localhost");
	b_i32(&b, 9092);
	b_str(&b, NULL); /* rack */
	b_i32(&b, 1);    /* controller */
	b_i32(&b, 1);    /* topics */
	b_i16(&b, 0);
	b_str(&b, "t1");
	b_i8(&b, 0);
	b_i32(&b, 1); /* partitions */
	b_i16(&b, 0);
	b_i32(&b, 0);
	b_i32(&b, 1);
	b_i32(&b, 2);
	b_i32(&b, 1);
	b_i32(&b, 2);
	b_i32(&b, 1);
	b_i32(&b, 1);
	gqk_arena_init(&a, 0);
	cr_assert(eq(int, gqk_response_decode(b.b, b.n, &h, &a, &p), 0));
	cr_assert(eq(i32, p.metadata.n_brokers, 1));
	cr_assert(gqk_str_eq(p.metadata.brokers[0].host, "localhost"));
	cr_assert(eq(ptr, (void *)p.metadata.brokers[0].host.p,
		     (void *)(b.b + 14)));
	cr_assert(gqk_str_is_null(p.metadata.brokers[0].rack));
	cr_assert(gqk_str_is_null(p.metadata.cluster_id));
	cr_assert(eq(i32, p.metadata.controller_id, 1));
	part = &p.metadata.topics[0].partitions[0];
	cr_assert(eq(i32, part->leader_id, 1));
	cr_assert(eq(i32, part->n_replicas, 2));
	cr_assert(eq(i32, part->replicas[1], 2));
	cr_assert(eq(i32, part->isr[0], 1));
	gqk_arena_free(&a);
	check_response_failures(&h, b.b, b.n, 0);
}

/* A response too big for the arena's first chunk fails with GQK_ENOMEM at
 * every later allocation too (3 topics of 60 partitions each take chunks
 * of their own). */
Test(kapi_client, metadata_response_arena_limits)
{
	static struct gqk_metadata_partition parts[60];
	struct gqk_metadata_topic topics[3];
	struct gqk_header h = { GQK_METADATA, 4, 1, GQK_STR("c"), false };
	union gqk_response p = { 0 }, out;
	struct gqk_writer w;
	struct gqk_arena a;
	size_t need;
	int i;

	memset(topics, 0, sizeof(topics));
	for (i = 0; i < 60; i++) {
		parts[i].partition_index = i;
		parts[i].n_replicas = 3;
		parts[i].replicas = replicas;
	}
	for (i = 0; i < 3; i++) {
		topics[i].name = GQK_STR("t");
		topics[i].n_partitions = 60;
		topics[i].partitions = parts;
	}
	p.metadata.n_topics = 3;
	p.metadata.topics = topics;
	gqk_writer_init(&w);
	cr_assert(eq(int, gqk_response_encode(&w, &h, &p), 0));
	gqk_arena_init(&a, 0);
	cr_assert(eq(int,
		     gqk_response_decode(w.base + 4, w.len - 4, &h, &a, &out),
		     0));
	need = a.used;
	cr_assert(gt(sz, need, 3 * 60 * sizeof(parts[0])));
	check_metadata_resp(4, &p.metadata, &out.metadata);
	gqk_arena_free(&a);
	check_response_failures(&h, w.base + 4, w.len - 4, need);
	gqk_writer_free(&w);
}

/*
 * Produce
 */

static const struct gqk_produce_req_partition produce_parts[] = {
	{ 0, BATCH_INIT },
	{ 3, BYTES_NULL_INIT },
	{ -1, { batch, 0 } },
};
static const struct gqk_produce_req_topic produce_topics[] = {
	{ STR_INIT("t1"), 3,
	  (struct gqk_produce_req_partition *)produce_parts },
	{ STR_INIT("t2"), -1, NULL },
};

static void
fill_produce_req(struct gqk_produce_req *m, int variant)
{
	memset(m, 0, sizeof(*m));
	if (variant == 0) {
		m->transactional_id = GQK_STR_NULL;
		m->acks = -1;
		m->timeout_ms = 30000;
		m->n_topics = 2;
		m->topics = (struct gqk_produce_req_topic *)produce_topics;
	} else {
		m->transactional_id = GQK_STR("txn-1");
		m->acks = 0;
		m->timeout_ms = INT32_MAX;
	}
}

static void
check_produce_req(int16_t v, const struct gqk_produce_req *in,
		  const struct gqk_produce_req *out)
{
	const struct gqk_produce_req_topic *ti, *to;
	int32_t i, j;

	expect_str_eq(out->transactional_id,
		      v >= 3 ? in->transactional_id : GQK_STR_NULL);
	cr_assert(eq(i16, out->acks, in->acks));
	cr_assert(eq(i32, out->timeout_ms, in->timeout_ms));
	cr_assert(eq(i32, out->n_topics, sent_count(in->n_topics, false)));
	for (i = 0; i < out->n_topics; i++) {
		ti = &in->topics[i];
		to = &out->topics[i];
		expect_str_eq(to->name, ti->name);
		cr_assert(eq(i32, to->n_partitions,
			     sent_count(ti->n_partitions, false)));
		for (j = 0; j < to->n_partitions; j++) {
			cr_assert(eq(i32, to->partitions[j].index,
				     ti->partitions[j].index));
			expect_bytes_eq(to->partitions[j].records,
					ti->partitions[j].records);
		}
	}
}

static const struct gqk_produce_resp_partition produce_resp_parts[] = {
	{ 0, 0, 42, -1, 0 },
	{ 3, GQK_ERR_NOT_LEADER_OR_FOLLOWER, -1, INT64_MAX, INT64_MIN },
};
static const struct gqk_produce_resp_topic produce_resp_topics[] = {
	{ STR_INIT("t1"), 2, produce_resp_parts },
	{ STR_INIT(""), 0, NULL },
};

static void
fill_produce_resp(struct gqk_produce_resp *m, int variant)
{
	memset(m, 0, sizeof(*m));
	if (variant == 0) {
		m->n_topics = 2;
		m->topics = produce_resp_topics;
		m->throttle_time_ms = 9;
	} else {
		m->n_topics = -3;
		m->throttle_time_ms = -9;
	}
}

static void
check_produce_resp(int16_t v, const struct gqk_produce_resp *in,
		   const struct gqk_produce_resp *out)
{
	const struct gqk_produce_resp_partition *pi, *po;
	int32_t i, j;

	cr_assert(eq(i32, out->throttle_time_ms,
		     v >= 1 ? in->throttle_time_ms : 0));
	cr_assert(eq(i32, out->n_topics, sent_count(in->n_topics, false)));
	for (i = 0; i < out->n_topics; i++) {
		expect_str_eq(out->topics[i].name, in->topics[i].name);
		cr_assert(eq(i32, out->topics[i].n_partitions,
			     sent_count(in->topics[i].n_partitions, false)));
		for (j = 0; j < out->topics[i].n_partitions; j++) {
			pi = &in->topics[i].partitions[j];
			po = &out->topics[i].partitions[j];
			cr_assert(eq(i32, po->index, pi->index));
			cr_assert(eq(i16, po->error_code, pi->error_code));
			cr_assert(eq(i64, po->base_offset, pi->base_offset));
			cr_assert(eq(i64, po->log_append_time_ms,
				     v >= 2 ? pi->log_append_time_ms : -1));
			cr_assert(eq(i64, po->log_start_offset,
				     v >= 5 ? pi->log_start_offset : -1));
		}
	}
}

/* Produce: every version, both directions. */
API_TRIP_TEST(kapi_client, produce, GQK_PRODUCE, 2, 2)

/* Produce v7 as librdkafka sends it (section 1.5), byte for byte. */
Test(kapi_client, produce_v7_request_bytes)
{
	struct gqk_produce_req_partition part = { 0, BATCH };
	struct gqk_produce_req_topic topic = { GQK_STR("t1"), 1, &part };
	struct gqk_header h = { GQK_PRODUCE, 7, 5, GQK_STR("rdkafka"), false };
	union gqk_request q = { 0 };
	struct gqk_writer w;
	struct bb want;

	q.produce.transactional_id = GQK_STR_NULL;
	q.produce.acks = -1;
	q.produce.timeout_ms = 30000;
	q.produce.n_topics = 1;
	q.produce.topics = &topic;
	b_header(&want, GQK_PRODUCE, 7, 5, "rdkafka", false);
	b_str(&want, NULL);
	b_i16(&want, -1);
	b_i32(&want, 30000);
	b_i32(&want, 1);
	b_str(&want, "t1");
	b_i32(&want, 1);
	b_i32(&want, 0);
	b_bytes(&want, batch, sizeof(batch));
	gqk_writer_init(&w);
	cr_assert(eq(int, gqk_request_encode(&w, &h, &q), 0));
	cr_assert(eq(sz, w.len, want.n + 4));
	cr_assert(eq(int, memcmp(w.base + 4, want.b, want.n), 0));
	gqk_writer_free(&w);
}

/*
 * Fetch
 */

static const struct gqk_fetch_req_partition fetch_req_parts[] = {
	{ 0, 5, 100, 0, 1048576 },
	{ 1, -1, 0, -1, 1 },
};
static const struct gqk_fetch_req_topic fetch_req_topics[] = {
	{ STR_INIT("t1"), 2,
	  (struct gqk_fetch_req_partition *)fetch_req_parts },
	{ STR_INIT("t2"), 0, NULL },
};
static const int32_t forgotten_parts[] = { 0, 7 };
static const struct gqk_fetch_req_forgotten fetch_forgotten[] = {
	{ STR_INIT("old"), 2, (int32_t *)forgotten_parts },
};

static void
fill_fetch_req(struct gqk_fetch_req *m, int variant)
{
	memset(m, 0, sizeof(*m));
	m->replica_id = -1;
	if (variant == 0) {
		m->max_wait_ms = 500;
		m->min_bytes = 1;
		m->max_bytes = 52428800;
		m->isolation_level = 1;
		m->session_epoch = -1;
		m->n_topics = 2;
		m->topics = (struct gqk_fetch_req_topic *)fetch_req_topics;
		m->n_forgotten = 1;
		m->forgotten =
			(struct gqk_fetch_req_forgotten *)fetch_forgotten;
		m->rack_id = GQK_STR("rack-a");
	} else {
		m->max_bytes = INT32_MAX;
		m->session_id = 12;
		m->session_epoch = 3;
		m->n_forgotten = -1;
		m->rack_id = GQK_STR_NULL; /* written as "" */
	}
}

static void
check_fetch_req(int16_t v, const struct gqk_fetch_req *in,
		const struct gqk_fetch_req *out)
{
	const struct gqk_fetch_req_partition *pi, *po;
	int32_t i, j;

	cr_assert(eq(i32, out->replica_id, in->replica_id));
	cr_assert(eq(i32, out->max_wait_ms, in->max_wait_ms));
	cr_assert(eq(i32, out->min_bytes, in->min_bytes));
	cr_assert(eq(i32, out->max_bytes, in->max_bytes));
	cr_assert(eq(i8, out->isolation_level, in->isolation_level));
	cr_assert(eq(i32, out->session_id, v >= 7 ? in->session_id : 0));
	cr_assert(eq(i32, out->session_epoch, v >= 7 ? in->session_epoch : -1));
	cr_assert(eq(i32, out->n_topics, sent_count(in->n_topics, false)));
	for (i = 0; i < out->n_topics; i++) {
		expect_str_eq(out->topics[i].topic, in->topics[i].topic);
		cr_assert(eq(i32, out->topics[i].n_partitions,
			     in->topics[i].n_partitions));
		for (j = 0; j < out->topics[i].n_partitions; j++) {
			pi = &in->topics[i].partitions[j];
			po = &out->topics[i].partitions[j];
			cr_assert(eq(i32, po->partition, pi->partition));
			cr_assert(eq(i32, po->current_leader_epoch,
				     v >= 9 ? pi->current_leader_epoch : -1));
			cr_assert(eq(i64, po->fetch_offset, pi->fetch_offset));
			cr_assert(eq(i64, po->log_start_offset,
				     v >= 5 ? pi->log_start_offset : -1));
			cr_assert(eq(i32, po->partition_max_bytes,
				     pi->partition_max_bytes));
		}
	}
	cr_assert(eq(i32, out->n_forgotten,
		     v >= 7 ? sent_count(in->n_forgotten, false) : 0));
	for (i = 0; i < out->n_forgotten; i++) {
		expect_str_eq(out->forgotten[i].topic, in->forgotten[i].topic);
		check_i32s(out->forgotten[i].n_partitions,
			   out->forgotten[i].partitions,
			   in->forgotten[i].n_partitions,
			   in->forgotten[i].partitions);
	}
	if (v >= 11)
		expect_nonnull_str_eq(out->rack_id, in->rack_id);
	else
		expect_str_eq(out->rack_id, GQK_STR(""));
}

static const struct gqk_fetch_aborted aborted[] = { { 7, 10 }, { 8, -20 } };
static const struct gqk_fetch_resp_partition fetch_resp_parts[] = {
	{ 0, 0, 100, 100, 0, -1, NULL, -1, BATCH_INIT },
	{ 1, GQK_ERR_OFFSET_OUT_OF_RANGE, -1, -1, -1, 2, aborted, 3,
	  BYTES_NULL_INIT },
	{ 2, 0, INT64_MAX, INT64_MIN, 5, 0, NULL, -1, { batch, 0 } },
};
static const struct gqk_fetch_resp_topic fetch_resp_topics[] = {
	{ STR_INIT("t1"), 3, fetch_resp_parts },
};

static void
fill_fetch_resp(struct gqk_fetch_resp *m, int variant)
{
	memset(m, 0, sizeof(*m));
	if (variant == 0) {
		m->n_topics = 1;
		m->topics = fetch_resp_topics;
	} else {
		m->throttle_time_ms = 3;
		m->error_code = GQK_ERR_UNKNOWN_SERVER_ERROR;
		m->session_id = 99;
	}
}

static void
check_fetch_resp(int16_t v, const struct gqk_fetch_resp *in,
		 const struct gqk_fetch_resp *out)
{
	const struct gqk_fetch_resp_partition *pi, *po;
	int32_t i, j, k;

	cr_assert(eq(i32, out->throttle_time_ms, in->throttle_time_ms));
	cr_assert(eq(i16, out->error_code, v >= 7 ? in->error_code : 0));
	cr_assert(eq(i32, out->session_id, v >= 7 ? in->session_id : 0));
	cr_assert(eq(i32, out->n_topics, sent_count(in->n_topics, false)));
	for (i = 0; i < out->n_topics; i++) {
		expect_str_eq(out->topics[i].topic, in->topics[i].topic);
		cr_assert(eq(i32, out->topics[i].n_partitions,
			     in->topics[i].n_partitions));
		for (j = 0; j < out->topics[i].n_partitions; j++) {
			pi = &in->topics[i].partitions[j];
			po = &out->topics[i].partitions[j];
			cr_assert(eq(i32, po->partition_index,
				     pi->partition_index));
			cr_assert(eq(i16, po->error_code, pi->error_code));
			cr_assert(eq(i64, po->high_watermark,
				     pi->high_watermark));
			cr_assert(eq(i64, po->last_stable_offset,
				     pi->last_stable_offset));
			cr_assert(eq(i64, po->log_start_offset,
				     v >= 5 ? pi->log_start_offset : -1));
			cr_assert(eq(i32, po->n_aborted,
				     sent_count(pi->n_aborted, true)));
			for (k = 0; k < po->n_aborted; k++) {
				cr_assert(eq(i64, po->aborted[k].producer_id,
					     pi->aborted[k].producer_id));
				cr_assert(eq(i64, po->aborted[k].first_offset,
					     pi->aborted[k].first_offset));
			}
			cr_assert(
				eq(i32, po->preferred_read_replica,
				   v >= 11 ? pi->preferred_read_replica : -1));
			/* Null records travel as empty, never as -1. */
			expect_nonnull_bytes_eq(po->records, pi->records);
			cr_assert(not(eq(ptr, (void *)po->records.p, NULL)));
		}
	}
}

/* Fetch: every version, both directions. */
API_TRIP_TEST(kapi_client, fetch, GQK_FETCH, 2, 2)

/* A Fetch v11 response from another broker may carry null records (-1):
 * the client takes it as null, and records point into the frame. */
Test(kapi_client, fetch_v11_response_bytes)
{
	struct gqk_header h = { GQK_FETCH, 11, 8, GQK_STR("c"), false };
	const struct gqk_fetch_resp_partition *part;
	union gqk_response p;
	struct gqk_arena a;
	struct bb b;
	size_t records_at = 0;
	int i;

	b.n = 0;
	b_i32(&b, 8);
	b_i32(&b, 0); /* throttle */
	b_i16(&b, 0);
	b_i32(&b, 0); /* session */
	b_i32(&b, 1);
	b_str(&b, "t1");
	b_i32(&b, 2);
	for (i = 0; i < 2; i++) {
		b_i32(&b, i);
		b_i16(&b, 0);
		b_i64(&b, 10);
		b_i64(&b, 10);
		b_i64(&b, 0);
		b_i32(&b, -1); /* aborted: null */
		b_i32(&b, -1); /* preferred read replica */
		if (i == 0) {
			records_at = b.n + 4;
			b_bytes(&b, batch, sizeof(batch));
		} else {
			b_bytes(&b, NULL, 0);
		}
	}
	gqk_arena_init(&a, 0);
	cr_assert(eq(int, gqk_response_decode(b.b, b.n, &h, &a, &p), 0));
	part = p.fetch.topics[0].partitions;
	cr_assert(eq(i32, part[0].n_aborted, -1));
	cr_assert(eq(i32, part[0].records.len, (int32_t)sizeof(batch)));
	cr_assert(
		eq(ptr, (void *)part[0].records.p, (void *)(b.b + records_at)));
	cr_assert(eq(i32, part[1].records.len, -1));
	gqk_arena_free(&a);
	check_response_failures(&h, b.b, b.n, 0);
}

/*
 * ListOffsets
 */

static const struct gqk_list_offsets_req_partition lo_req_parts[] = {
	{ 0, GQK_TIMESTAMP_EARLIEST, 1 },
	{ 1, GQK_TIMESTAMP_LATEST, 5 },
	{ 2, 1700000000000, -1 },
};
static const struct gqk_list_offsets_req_topic lo_req_topics[] = {
	{ STR_INIT("t1"), 3,
	  (struct gqk_list_offsets_req_partition *)lo_req_parts },
};

static void
fill_list_offsets_req(struct gqk_list_offsets_req *m, int variant)
{
	memset(m, 0, sizeof(*m));
	if (variant == 0) {
		m->replica_id = -1;
		m->isolation_level = 1;
		m->n_topics = 1;
		m->topics = (struct gqk_list_offsets_req_topic *)lo_req_topics;
	} else {
		m->replica_id = 3;
		m->n_topics = -1;
	}
}

static void
check_list_offsets_req(int16_t v, const struct gqk_list_offsets_req *in,
		       const struct gqk_list_offsets_req *out)
{
	const struct gqk_list_offsets_req_partition *pi, *po;
	int32_t i, j;

	cr_assert(eq(i32, out->replica_id, in->replica_id));
	cr_assert(
		eq(i8, out->isolation_level, v >= 2 ? in->isolation_level : 0));
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
			cr_assert(eq(i64, po->timestamp, pi->timestamp));
			cr_assert(eq(i32, po->max_num_offsets,
				     v == 0 ? pi->max_num_offsets : 1));
		}
	}
}

static const int64_t old_offsets[] = { 7, 3 };
static const struct gqk_list_offsets_resp_partition lo_resp_parts[] = {
	{ 0, 0, 1000, 42, 0, NULL },
	{ 1, GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1, 0, NULL },
	{ 2, 0, -1, 9, 2, old_offsets },
	{ 3, 0, -1, 9, -1, old_offsets },
};
static const struct gqk_list_offsets_resp_topic lo_resp_topics[] = {
	{ STR_INIT("t1"), 4, lo_resp_parts },
};

static void
fill_list_offsets_resp(struct gqk_list_offsets_resp *m, int variant)
{
	memset(m, 0, sizeof(*m));
	if (variant == 0) {
		m->throttle_time_ms = 4;
		m->n_topics = 1;
		m->topics = lo_resp_topics;
	}
}

/* v0 carries an offset array: the one given, or [offset] if found. */
static void
check_old_style(const struct gqk_list_offsets_resp_partition *pi,
		const struct gqk_list_offsets_resp_partition *po)
{
	int32_t n, k;
	const int64_t *want;

	if (pi->old_style_offsets != NULL) {
		n = sent_count(pi->n_old_style_offsets, false);
		want = pi->old_style_offsets;
	} else {
		n = pi->error_code == 0 && pi->offset >= 0 ? 1 : 0;
		want = &pi->offset;
	}
	cr_assert(eq(i32, po->n_old_style_offsets, n));
	for (k = 0; k < n; k++)
		cr_assert(eq(i64, po->old_style_offsets[k], want[k]));
	cr_assert(eq(i64, po->timestamp, -1));
	cr_assert(eq(i64, po->offset, n > 0 ? want[0] : -1));
}

static void
check_list_offsets_resp(int16_t v, const struct gqk_list_offsets_resp *in,
			const struct gqk_list_offsets_resp *out)
{
	const struct gqk_list_offsets_resp_partition *pi, *po;
	int32_t i, j;

	cr_assert(eq(i32, out->throttle_time_ms,
		     v >= 2 ? in->throttle_time_ms : 0));
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
			cr_assert(eq(i16, po->error_code, pi->error_code));
			if (v == 0) {
				check_old_style(pi, po);
				continue;
			}
			cr_assert(eq(i64, po->timestamp, pi->timestamp));
			cr_assert(eq(i64, po->offset, pi->offset));
			cr_assert(eq(i32, po->n_old_style_offsets, 0));
		}
	}
}

/* ListOffsets: every version, both directions. */
API_TRIP_TEST(kapi_client, list_offsets, GQK_LIST_OFFSETS, 2, 2)

/*
 * InitProducerId
 */

static const struct gqk_init_producer_id_req init_reqs[] = {
	{ STR_NULL_INIT, -1 },
	{ STR_INIT("txn-1"), 60000 },
};

static void
fill_init_producer_id_req(struct gqk_init_producer_id_req *m, int variant)
{
	*m = init_reqs[variant];
}

static void
check_init_producer_id_req(int16_t v, const struct gqk_init_producer_id_req *in,
			   const struct gqk_init_producer_id_req *out)
{
	(void)v;
	expect_str_eq(out->transactional_id, in->transactional_id);
	cr_assert(eq(i32, out->transaction_timeout_ms,
		     in->transaction_timeout_ms));
}

static const struct gqk_init_producer_id_resp init_resps[] = {
	{ 0, 0, 4242, 0 },
	{ INT32_MAX, GQK_ERR_INVALID_TRANSACTION_TIMEOUT, -1, -1 },
};

static void
fill_init_producer_id_resp(struct gqk_init_producer_id_resp *m, int variant)
{
	*m = init_resps[variant];
}

static void
check_init_producer_id_resp(int16_t v,
			    const struct gqk_init_producer_id_resp *in,
			    const struct gqk_init_producer_id_resp *out)
{
	(void)v;
	cr_assert(eq(i32, out->throttle_time_ms, in->throttle_time_ms));
	cr_assert(eq(i16, out->error_code, in->error_code));
	cr_assert(eq(i64, out->producer_id, in->producer_id));
	cr_assert(eq(i16, out->producer_epoch, in->producer_epoch));
}

/* InitProducerId: every version, both directions. */
API_TRIP_TEST(kapi_client, init_producer_id, GQK_INIT_PRODUCER_ID, 2, 2)

/*
 * CreateTopics
 */

static const int32_t broker_ids[] = { 1, 2 };
static const struct gqk_create_topics_req_assignment assignments[] = {
	{ 0, 2, (int32_t *)broker_ids },
	{ 1, 0, NULL },
};
static const struct gqk_create_topics_req_config configs[] = {
	{ STR_INIT("retention.ms"), STR_INIT("1000") },
	{ STR_INIT("cleanup.policy"), STR_NULL_INIT },
};
static const struct gqk_create_topics_req_topic create_topics[] = {
	{ STR_INIT("t1"), 3, 1, 0, NULL, 2,
	  (struct gqk_create_topics_req_config *)configs },
	{ STR_INIT("t2"), -1, -1, 2,
	  (struct gqk_create_topics_req_assignment *)assignments, -1, NULL },
};

static void
fill_create_topics_req(struct gqk_create_topics_req *m, int variant)
{
	memset(m, 0, sizeof(*m));
	if (variant == 0) {
		m->n_topics = 2;
		m->topics = (struct gqk_create_topics_req_topic *)create_topics;
		m->timeout_ms = 30000;
		m->validate_only = true;
	} else {
		m->timeout_ms = -1;
	}
}

static void
check_create_topic(const struct gqk_create_topics_req_topic *ti,
		   const struct gqk_create_topics_req_topic *to)
{
	int32_t j;

	expect_str_eq(to->name, ti->name);
	cr_assert(eq(i32, to->num_partitions, ti->num_partitions));
	cr_assert(eq(i16, to->replication_factor, ti->replication_factor));
	cr_assert(eq(i32, to->n_assignments,
		     sent_count(ti->n_assignments, false)));
	for (j = 0; j < to->n_assignments; j++) {
		cr_assert(eq(i32, to->assignments[j].partition_index,
			     ti->assignments[j].partition_index));
		check_i32s(to->assignments[j].n_broker_ids,
			   to->assignments[j].broker_ids,
			   ti->assignments[j].n_broker_ids,
			   ti->assignments[j].broker_ids);
	}
	cr_assert(eq(i32, to->n_configs, sent_count(ti->n_configs, false)));
	for (j = 0; j < to->n_configs; j++) {
		expect_str_eq(to->configs[j].name, ti->configs[j].name);
		expect_str_eq(to->configs[j].value, ti->configs[j].value);
	}
}

static void
check_create_topics_req(int16_t v, const struct gqk_create_topics_req *in,
			const struct gqk_create_topics_req *out)
{
	int32_t i;

	cr_assert(eq(i32, out->n_topics, sent_count(in->n_topics, false)));
	for (i = 0; i < out->n_topics; i++)
		check_create_topic(&in->topics[i], &out->topics[i]);
	cr_assert(eq(i32, out->timeout_ms, in->timeout_ms));
	cr_assert(eq(int, out->validate_only, v >= 1 && in->validate_only));
}

static const struct gqk_create_topics_resp_topic created[] = {
	{ STR_INIT("t1"), 0, STR_NULL_INIT },
	{ STR_INIT("t2"), GQK_ERR_TOPIC_ALREADY_EXISTS,
	  STR_INIT("Topic 't2' already exists.") },
};

static void
check_create_topics_resp(int16_t v, const struct gqk_create_topics_resp *in,
			 const struct gqk_create_topics_resp *out)
{
	int32_t i;

	cr_assert(eq(i32, out->throttle_time_ms,
		     v >= 2 ? in->throttle_time_ms : 0));
	cr_assert(eq(i32, out->n_topics, sent_count(in->n_topics, false)));
	for (i = 0; i < out->n_topics; i++) {
		expect_str_eq(out->topics[i].name, in->topics[i].name);
		cr_assert(eq(i16, out->topics[i].error_code,
			     in->topics[i].error_code));
		expect_str_eq(out->topics[i].error_message,
			      v >= 1 ? in->topics[i].error_message
				     : GQK_STR_NULL);
	}
}

static const struct gqk_create_topics_resp create_resps[] = {
	{ 1, 2, created },
	{ -1, 0, NULL },
};

static void
fill_create_topics_resp(struct gqk_create_topics_resp *m, int variant)
{
	*m = create_resps[variant];
}

/* CreateTopics: every version, both directions. */
API_TRIP_TEST(kapi_client, create_topics, GQK_CREATE_TOPICS, 2, 2)

/*
 * DeleteTopics
 */

static const struct gqk_str delete_names[] = { STR_INIT("a"), STR_INIT("bb") };
static const struct gqk_delete_topics_req delete_reqs[] = {
	{ 2, (struct gqk_str *)delete_names, 5000 },
	{ -1, NULL, -1 },
};

static void
fill_delete_topics_req(struct gqk_delete_topics_req *m, int variant)
{
	*m = delete_reqs[variant];
}

static void
check_delete_topics_req(int16_t v, const struct gqk_delete_topics_req *in,
			const struct gqk_delete_topics_req *out)
{
	int32_t i;

	(void)v;
	cr_assert(eq(i32, out->n_topic_names,
		     sent_count(in->n_topic_names, false)));
	for (i = 0; i < out->n_topic_names; i++)
		expect_str_eq(out->topic_names[i], in->topic_names[i]);
	cr_assert(eq(i32, out->timeout_ms, in->timeout_ms));
}

static const struct gqk_delete_topics_resp_topic deleted[] = {
	{ STR_INIT("a"), 0 },
	{ STR_INIT("bb"), GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION },
};
static const struct gqk_delete_topics_resp delete_resps[] = {
	{ 9, 2, deleted },
	{ 0, 0, NULL },
};

static void
fill_delete_topics_resp(struct gqk_delete_topics_resp *m, int variant)
{
	*m = delete_resps[variant];
}

static void
check_delete_topics_resp(int16_t v, const struct gqk_delete_topics_resp *in,
			 const struct gqk_delete_topics_resp *out)
{
	int32_t i;

	cr_assert(eq(i32, out->throttle_time_ms,
		     v >= 1 ? in->throttle_time_ms : 0));
	cr_assert(
		eq(i32, out->n_responses, sent_count(in->n_responses, false)));
	for (i = 0; i < out->n_responses; i++) {
		expect_str_eq(out->responses[i].name, in->responses[i].name);
		cr_assert(eq(i16, out->responses[i].error_code,
			     in->responses[i].error_code));
	}
}

/* DeleteTopics: every version, both directions. */
API_TRIP_TEST(kapi_client, delete_topics, GQK_DELETE_TOPICS, 2, 2)

/*
 * DescribeConfigs
 */

static const struct gqk_str config_keys[] = { STR_INIT("log.retention.ms") };
static const struct gqk_describe_configs_req_resource resources[] = {
	{ GQK_RESOURCE_TOPIC, STR_INIT("t1"), -1, NULL },
	{ GQK_RESOURCE_BROKER, STR_INIT("1"), 1,
	  (struct gqk_str *)config_keys },
	{ GQK_RESOURCE_TOPIC, STR_INIT("t2"), 0, NULL },
};

static void
check_describe_configs_req(int16_t v, const struct gqk_describe_configs_req *in,
			   const struct gqk_describe_configs_req *out)
{
	const struct gqk_describe_configs_req_resource *ri, *ro;
	int32_t i, j;

	cr_assert(
		eq(i32, out->n_resources, sent_count(in->n_resources, false)));
	for (i = 0; i < out->n_resources; i++) {
		ri = &in->resources[i];
		ro = &out->resources[i];
		cr_assert(eq(i8, ro->resource_type, ri->resource_type));
		expect_str_eq(ro->resource_name, ri->resource_name);
		cr_assert(eq(i32, ro->n_configuration_keys,
			     sent_count(ri->n_configuration_keys, true)));
		for (j = 0; j < ro->n_configuration_keys; j++)
			expect_str_eq(ro->configuration_keys[j],
				      ri->configuration_keys[j]);
	}
	cr_assert(
		eq(int, out->include_synonyms, v >= 1 && in->include_synonyms));
}

static const struct gqk_describe_configs_synonym synonyms[] = {
	{ STR_INIT("log.retention.ms"), STR_INIT("1000"),
	  GQK_CONFIG_SOURCE_STATIC_BROKER },
	{ STR_INIT("x"), STR_NULL_INIT, GQK_CONFIG_SOURCE_DEFAULT },
};
static const struct gqk_describe_configs_entry entries[] = {
	{ STR_INIT("retention.ms"), STR_INIT("1000"), false, true,
	  GQK_CONFIG_SOURCE_DEFAULT, false, 2, synonyms },
	{ STR_INIT("secret"), STR_NULL_INIT, true, false,
	  GQK_CONFIG_SOURCE_DYNAMIC_TOPIC, true, 0, NULL },
};
static const struct gqk_describe_configs_result results[] = {
	{ 0, STR_NULL_INIT, GQK_RESOURCE_TOPIC, STR_INIT("t1"), 2, entries },
	{ GQK_ERR_INVALID_TOPIC_EXCEPTION, STR_INIT("bad name"),
	  GQK_RESOURCE_TOPIC, STR_INIT(""), -1, NULL },
};

static void
check_config_entry(int16_t v, const struct gqk_describe_configs_entry *ci,
		   const struct gqk_describe_configs_entry *co)
{
	int32_t k;

	expect_str_eq(co->name, ci->name);
	expect_str_eq(co->value, ci->value);
	cr_assert(eq(int, co->read_only, ci->read_only));
	cr_assert(eq(int, co->is_default, v == 0 && ci->is_default));
	cr_assert(eq(i8, co->config_source, v >= 1 ? ci->config_source : -1));
	cr_assert(eq(int, co->is_sensitive, ci->is_sensitive));
	cr_assert(eq(i32, co->n_synonyms,
		     v >= 1 ? sent_count(ci->n_synonyms, false) : 0));
	for (k = 0; k < co->n_synonyms; k++) {
		expect_str_eq(co->synonyms[k].name, ci->synonyms[k].name);
		expect_str_eq(co->synonyms[k].value, ci->synonyms[k].value);
		cr_assert(
			eq(i8, co->synonyms[k].source, ci->synonyms[k].source));
	}
}

static void
check_describe_configs_resp(int16_t v,
			    const struct gqk_describe_configs_resp *in,
			    const struct gqk_describe_configs_resp *out)
{
	const struct gqk_describe_configs_result *ri, *ro;
	int32_t i, j;

	cr_assert(eq(i32, out->throttle_time_ms, in->throttle_time_ms));
	cr_assert(eq(i32, out->n_results, sent_count(in->n_results, false)));
	for (i = 0; i < out->n_results; i++) {
		ri = &in->results[i];
		ro = &out->results[i];
		cr_assert(eq(i16, ro->error_code, ri->error_code));
		expect_str_eq(ro->error_message, ri->error_message);
		cr_assert(eq(i8, ro->resource_type, ri->resource_type));
		expect_str_eq(ro->resource_name, ri->resource_name);
		cr_assert(eq(i32, ro->n_configs,
			     sent_count(ri->n_configs, false)));
		for (j = 0; j < ro->n_configs; j++)
			check_config_entry(v, &ri->configs[j], &ro->configs[j]);
	}
}

static const struct gqk_describe_configs_req configs_reqs[] = {
	{ 3, (struct gqk_describe_configs_req_resource *)resources, true },
	{ 0, NULL, false },
};

static void
fill_describe_configs_req(struct gqk_describe_configs_req *m, int variant)
{
	*m = configs_reqs[variant];
}

static const struct gqk_describe_configs_resp configs_resps[] = {
	{ 0, 2, results },
	{ 100, -1, NULL },
};

static void
fill_describe_configs_resp(struct gqk_describe_configs_resp *m, int variant)
{
	*m = configs_resps[variant];
}

/* DescribeConfigs: every version, both directions. */
API_TRIP_TEST(kapi_client, describe_configs, GQK_DESCRIBE_CONFIGS, 2, 2)

/*
 * IncrementalAlterConfigs
 */

static const struct gqk_alter_configs_req_config alter_configs[] = {
	{ STR_INIT("retention.ms"), GQK_CONFIG_OP_SET, STR_INIT("1000") },
	{ STR_INIT("compression.type"), GQK_CONFIG_OP_DELETE, STR_NULL_INIT },
};
static const struct gqk_alter_configs_req_resource alter_resources[] = {
	{ GQK_RESOURCE_TOPIC, STR_INIT("t1"), 2,
	  (struct gqk_alter_configs_req_config *)alter_configs },
	{ GQK_RESOURCE_BROKER, STR_INIT("1"), -1, NULL },
};
static const struct gqk_incremental_alter_configs_req alter_reqs[] = {
	{ 2, (struct gqk_alter_configs_req_resource *)alter_resources, true },
	{ -1, NULL, false },
};

static void
fill_incremental_alter_configs_req(struct gqk_incremental_alter_configs_req *m,
				   int variant)
{
	*m = alter_reqs[variant];
}

static void
check_incremental_alter_configs_req(
	int16_t v, const struct gqk_incremental_alter_configs_req *in,
	const struct gqk_incremental_alter_configs_req *out)
{
	const struct gqk_alter_configs_req_resource *ri, *ro;
	int32_t i, j;

	(void)v;
	cr_assert(
		eq(i32, out->n_resources, sent_count(in->n_resources, false)));
	for (i = 0; i < out->n_resources; i++) {
		ri = &in->resources[i];
		ro = &out->resources[i];
		cr_assert(eq(i8, ro->resource_type, ri->resource_type));
		expect_str_eq(ro->resource_name, ri->resource_name);
		cr_assert(eq(i32, ro->n_configs,
			     sent_count(ri->n_configs, false)));
		for (j = 0; j < ro->n_configs; j++) {
			expect_str_eq(ro->configs[j].name, ri->configs[j].name);
			cr_assert(eq(i8, ro->configs[j].config_operation,
				     ri->configs[j].config_operation));
			expect_str_eq(ro->configs[j].value,
				      ri->configs[j].value);
		}
	}
	cr_assert(eq(int, out->validate_only, in->validate_only));
}

static const struct gqk_alter_configs_resp_resource altered[] = {
	{ 0, STR_NULL_INIT, GQK_RESOURCE_TOPIC, STR_INIT("t1") },
	{ GQK_ERR_INVALID_CONFIG, STR_INIT("unknown key"), GQK_RESOURCE_TOPIC,
	  STR_INIT("t2") },
};
static const struct gqk_incremental_alter_configs_resp alter_resps[] = {
	{ 3, 2, altered },
	{ 0, -1, NULL },
};

static void
fill_incremental_alter_configs_resp(
	struct gqk_incremental_alter_configs_resp *m, int variant)
{
	*m = alter_resps[variant];
}

static void
check_incremental_alter_configs_resp(
	int16_t v, const struct gqk_incremental_alter_configs_resp *in,
	const struct gqk_incremental_alter_configs_resp *out)
{
	int32_t i;

	(void)v;
	cr_assert(eq(i32, out->throttle_time_ms, in->throttle_time_ms));
	cr_assert(
		eq(i32, out->n_responses, sent_count(in->n_responses, false)));
	for (i = 0; i < out->n_responses; i++) {
		cr_assert(eq(i16, out->responses[i].error_code,
			     in->responses[i].error_code));
		expect_str_eq(out->responses[i].error_message,
			      in->responses[i].error_message);
		cr_assert(eq(i8, out->responses[i].resource_type,
			     in->responses[i].resource_type));
		expect_str_eq(out->responses[i].resource_name,
			      in->responses[i].resource_name);
	}
}

/* IncrementalAlterConfigs: v0, both directions. */
API_TRIP_TEST(kapi_client, incremental_alter_configs,
	      GQK_INCREMENTAL_ALTER_CONFIGS, 2, 2)
