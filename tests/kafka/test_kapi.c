/* SPDX-License-Identifier: MIT */
/*
 * test_kapi.c - Kafka API codecs against hand-built frames.
 *
 * Every request frame is assembled here field by field from the layouts in
 * KAFKA-PROTOCOL.md (Appendix A/B) by a builder that shares no code with
 * the codec, for the exact versions the target clients send. Decoding
 * checks every field; encoding checks exact bytes for the responses that
 * clients are picky about. Every request is also cut at every length and
 * extended by one byte, which must fail cleanly (run under ASan for leaks
 * and over-reads).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kapi.h"
#include "kbytes.h"
#include "kwire.h"

TestSuite(kapi, .timeout = 60);

/* The whole frame decodes, then every truncation and trailing garbage
 * fails. Returns nothing: the caller decodes again to check fields. */
static void
check_frame(const struct bb *b)
{
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	cr_assert(eq(int, decode(b, &a, &h, &req), 0));
	gqk_arena_free(&a);
	check_truncations(b);
}

/*
 * Tables and headers
 */

/* The advertised ranges are those of section 1.3, FindCoordinator is never
 * group-gated, and unknown keys are unsupported. */
Test(kapi, supported_table)
{
	const struct gqk_api_range *e;

	cr_assert(gqk_api_supported(GQK_PRODUCE, 0));
	cr_assert(gqk_api_supported(GQK_PRODUCE, 7));
	cr_assert(not(gqk_api_supported(GQK_PRODUCE, 8)));
	cr_assert(not(gqk_api_supported(GQK_FETCH, 3)));
	cr_assert(gqk_api_supported(GQK_FETCH, 11));
	cr_assert(not(gqk_api_supported(GQK_FETCH, 12)));
	cr_assert(gqk_api_supported(GQK_API_VERSIONS, 3));
	cr_assert(not(gqk_api_supported(GQK_API_VERSIONS, 4)));
	cr_assert(gqk_api_supported(GQK_INIT_PRODUCER_ID, 0));
	cr_assert(not(gqk_api_supported(GQK_INIT_PRODUCER_ID, 2)));
	cr_assert(gqk_api_supported(GQK_DESCRIBE_CONFIGS, 2));
	cr_assert(not(gqk_api_supported(GQK_DESCRIBE_CONFIGS, 3)));
	cr_assert(not(gqk_api_supported(GQK_OFFSET_COMMIT, 1)));
	cr_assert(not(gqk_api_supported(GQK_OFFSET_FETCH, 6)));
	cr_assert(not(gqk_api_supported(99, 0)));
	cr_assert(gqk_api_supported(GQK_LIST_GROUPS, 2));
	cr_assert(not(gqk_api_supported(GQK_LIST_GROUPS, 3)));
	cr_assert(gqk_api_supported(GQK_DESCRIBE_GROUPS, 4));
	cr_assert(not(gqk_api_supported(GQK_DESCRIBE_GROUPS, 5)));
	e = gqk_api_range(GQK_FIND_COORDINATOR);
	cr_assert(not(eq(ptr, (void *)e, NULL)));
	cr_assert(eq(i16, e->min, 0));
	cr_assert(eq(i16, e->max, 2));
	cr_assert(not(e->group));
	e = gqk_api_range(GQK_JOIN_GROUP);
	cr_assert(e->group);
	cr_assert(eq(i16, e->max, 5));
	cr_assert(gqk_api_range(GQK_DESCRIBE_GROUPS)->group);
	cr_assert(gqk_api_range(GQK_LIST_GROUPS)->group);
	cr_assert(gqk_api_supported(GQK_INCREMENTAL_ALTER_CONFIGS, 0));
	cr_assert(not(gqk_api_supported(GQK_INCREMENTAL_ALTER_CONFIGS, 1)));
	cr_assert(eq(sz, gqk_n_supported, 19));
}

/* Names and flexible thresholds follow the Kafka 3.4.0 JSON. */
Test(kapi, names_and_flexible)
{
	cr_assert(
		eq(str, (char *)gqk_api_name(GQK_API_VERSIONS), "ApiVersions"));
	cr_assert(eq(str, (char *)gqk_api_name(GQK_DESCRIBE_CONFIGS),
		     "DescribeConfigs"));
	cr_assert(eq(str, (char *)gqk_api_name(77), "Unknown"));
	cr_assert(gqk_api_flexible(GQK_API_VERSIONS, 3));
	cr_assert(not(gqk_api_flexible(GQK_API_VERSIONS, 2)));
	cr_assert(not(gqk_api_flexible(GQK_PRODUCE, 7)));
	cr_assert(gqk_api_flexible(GQK_PRODUCE, 9));
	cr_assert(not(gqk_api_flexible(GQK_FETCH, 11)));
	cr_assert(gqk_api_flexible(GQK_FETCH, 12));
	cr_assert(gqk_api_flexible(GQK_INIT_PRODUCER_ID, 2));
	cr_assert(not(gqk_api_flexible(GQK_INIT_PRODUCER_ID, 1)));
	cr_assert(not(gqk_api_flexible(GQK_DESCRIBE_CONFIGS, 3)));
	cr_assert(gqk_api_flexible(GQK_DESCRIBE_CONFIGS, 4));
	cr_assert(gqk_api_flexible(GQK_DELETE_TOPICS, 4));
	cr_assert(not(gqk_api_flexible(GQK_INCREMENTAL_ALTER_CONFIGS, 0)));
	cr_assert(gqk_api_flexible(GQK_INCREMENTAL_ALTER_CONFIGS, 1));
	cr_assert(not(gqk_api_flexible(GQK_CREATE_TOPICS, 4)));
	cr_assert(gqk_api_flexible(GQK_OFFSET_FETCH, 6));
	cr_assert(not(gqk_api_flexible(GQK_OFFSET_FETCH, 5)));
	cr_assert(not(gqk_api_flexible(99, 50)));
	cr_assert(eq(str, (char *)gqk_err_name(GQK_ERR_UNSUPPORTED_VERSION),
		     "UNSUPPORTED_VERSION"));
	cr_assert(eq(str, (char *)gqk_err_name(-1), "UNKNOWN_SERVER_ERROR"));
	cr_assert(eq(str, (char *)gqk_err_name(999), "UNKNOWN"));
}

/* Error code constants have their Kafka values. */
Test(kapi, error_codes)
{
	cr_assert(eq(int, GQK_ERR_NONE, 0));
	cr_assert(eq(int, GQK_ERR_UNKNOWN_SERVER_ERROR, -1));
	cr_assert(eq(int, GQK_ERR_OFFSET_OUT_OF_RANGE, 1));
	cr_assert(eq(int, GQK_ERR_NOT_LEADER_OR_FOLLOWER, 6));
	cr_assert(eq(int, GQK_ERR_MESSAGE_TOO_LARGE, 10));
	cr_assert(eq(int, GQK_ERR_INVALID_TOPIC_EXCEPTION, 17));
	cr_assert(eq(int, GQK_ERR_INVALID_REQUIRED_ACKS, 21));
	cr_assert(eq(int, GQK_ERR_TOPIC_ALREADY_EXISTS, 36));
	cr_assert(eq(int, GQK_ERR_INVALID_REQUEST, 42));
	cr_assert(eq(int, GQK_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, 45));
	cr_assert(eq(int, GQK_ERR_INVALID_PRODUCER_EPOCH, 47));
	cr_assert(eq(int, GQK_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 53));
	cr_assert(eq(int, GQK_ERR_KAFKA_STORAGE_ERROR, 56));
	cr_assert(eq(int, GQK_ERR_UNKNOWN_PRODUCER_ID, 59));
	cr_assert(eq(int, GQK_ERR_UNSUPPORTED_COMPRESSION_TYPE, 76));
	cr_assert(eq(int, GQK_ERR_MEMBER_ID_REQUIRED, 79));
	cr_assert(eq(int, GQK_ERR_INVALID_RECORD, 87));
}

/* An unknown API key is unsupported, with the header still filled in. */
Test(kapi, unknown_api_key)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	b_header(&b, 99, 0, 42, "x", false);
	b_i32(&b, 0);
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EUNSUPPORTED));
	cr_assert(eq(i16, h.api_key, 99));
	cr_assert(eq(i32, h.correlation_id, 42));
	gqk_arena_free(&a);
}

/* Versions outside the advertised range are unsupported, group APIs
 * included (their bodies are tested in test_kapi_group.c). */
Test(kapi, unsupported_versions)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	b_header(&b, GQK_METADATA, 5, 1, "c", false);
	b_i32(&b, -1);
	b_i8(&b, 1);
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EUNSUPPORTED));
	gqk_arena_free(&a);
	b_header(&b, GQK_FETCH, 3, 1, "c", false);
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EUNSUPPORTED));
	gqk_arena_free(&a);
	b_header(&b, GQK_FIND_COORDINATOR, 3, 1, "c", true);
	b_cstr(&b, "grp");
	b_i8(&b, 0);
	b_i8(&b, 0);
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EUNSUPPORTED));
	gqk_arena_free(&a);
	b_header(&b, GQK_JOIN_GROUP, 6, 1, "c", true);
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EUNSUPPORTED));
	gqk_arena_free(&a);
	b_header(&b, GQK_OFFSET_COMMIT, 1, 1, "c", false);
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EUNSUPPORTED));
	gqk_arena_free(&a);
}

/* A too-new ApiVersions (v4, flexible header) is unsupported but its header
 * is read, and the fallback answer is the v0 body of section 1.4:
 * error 35 and the ApiVersions entry only. */
Test(kapi, api_versions_fallback)
{
	struct bb b, want;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_writer w;

	b_header(&b, GQK_API_VERSIONS, 4, 7, "rdkafka", true);
	b_cstr(&b, "librdkafka");
	b_cstr(&b, "9.9.9");
	b_i8(&b, 0);
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EUNSUPPORTED));
	cr_assert(eq(i16, h.api_key, GQK_API_VERSIONS));
	cr_assert(eq(i16, h.api_version, 4));
	cr_assert(eq(i32, h.correlation_id, 7));
	cr_assert(h.flexible);
	gqk_arena_free(&a);

	gqk_writer_init(&w);
	gqk_response_header_put(&w, &h);
	gqk_api_versions_unsupported_encode(&w);
	want.n = 0;
	b_i32(&want, 7); /* header v0: no tagged fields */
	b_i16(&want, 35);
	b_i32(&want, 1);
	b_i16(&want, 18);
	b_i16(&want, 0);
	b_i16(&want, 3);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/* Response headers: v0 for non-flexible versions and for ApiVersions v3,
 * v1 (tagged fields) for any other flexible version. */
Test(kapi, response_header)
{
	struct gqk_header h = { 0 };
	struct gqk_writer w;
	static const uint8_t v0[] = { 0, 0, 1, 2 };
	static const uint8_t v1[] = { 0, 0, 1, 2, 0 };

	h.correlation_id = 0x102;
	h.api_key = GQK_API_VERSIONS;
	h.api_version = 3;
	h.flexible = true;
	gqk_writer_init(&w);
	gqk_response_header_put(&w, &h);
	cr_assert(eq(sz, w.len, 4));
	cr_assert(eq(int, memcmp(w.base, v0, 4), 0));
	gqk_writer_free(&w);

	h.api_key = GQK_METADATA;
	h.api_version = 9;
	gqk_response_header_put(&w, &h);
	cr_assert(eq(sz, w.len, 5));
	cr_assert(eq(int, memcmp(w.base, v1, 5), 0));
	gqk_writer_free(&w);

	h.api_version = 4;
	h.flexible = false;
	gqk_response_header_put(&w, &h);
	cr_assert(eq(sz, w.len, 4));
	gqk_writer_free(&w);
}

/* A request header with a null client id is accepted. */
Test(kapi, header_null_client_id)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	b_header(&b, GQK_API_VERSIONS, 0, 3, NULL, false);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(gqk_str_is_null(h.client_id));
	gqk_arena_free(&a);
}

/*
 * ApiVersions
 */

/* kafka-python's ApiVersions v0: header v1 and an empty body. */
static void
frame_api_versions_v0(struct bb *b)
{
	b_header(b, GQK_API_VERSIONS, 0, 1, "kafka-python-2.0.2", false);
}

/* ApiVersions v0 decodes to an empty request with a v1 header. */
Test(kapi, api_versions_v0_request)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	frame_api_versions_v0(&b);
	check_frame(&b);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(eq(i16, h.api_key, 18));
	cr_assert(eq(i16, h.api_version, 0));
	cr_assert(eq(i32, h.correlation_id, 1));
	cr_assert(gqk_str_eq(h.client_id, "kafka-python-2.0.2"));
	cr_assert(not(h.flexible));
	cr_assert(gqk_str_is_null(req.api_versions.client_software_name));
	cr_assert(gqk_api_versions_req_valid(&req.api_versions));
	gqk_arena_free(&a);
}

/* ApiVersions v3 has a v2 header and a flexible body with the software
 * name and version. */
Test(kapi, api_versions_v3_request)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	frame_api_versions_v3(&b);
	cr_assert(eq(sz, b.n, 36));
	check_frame(&b);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(eq(i16, h.api_version, 3));
	cr_assert(h.flexible);
	cr_assert(gqk_str_eq(h.client_id, "rdkafka"));
	cr_assert(gqk_str_eq(req.api_versions.client_software_name,
			     "librdkafka"));
	cr_assert(
		gqk_str_eq(req.api_versions.client_software_version, "2.0.2"));
	/* Zero-copy: the name points into the frame. */
	cr_assert(eq(ptr, (void *)req.api_versions.client_software_name.p,
		     (void *)(b.b + 19)));
	cr_assert(gqk_api_versions_req_valid(&req.api_versions));
	gqk_arena_free(&a);
}

/* Software names outside Kafka's pattern are invalid (answer 42). */
Test(kapi, api_versions_software_name_pattern)
{
	struct gqk_api_versions_req r;

	r.client_software_name = GQK_STR("confluent-kafka-python");
	r.client_software_version = GQK_STR("1.7.0-rdkafka-2.0.2");
	cr_assert(gqk_api_versions_req_valid(&r));
	r.client_software_name = GQK_STR("-bad");
	cr_assert(not(gqk_api_versions_req_valid(&r)));
	r.client_software_name = GQK_STR("bad.");
	cr_assert(not(gqk_api_versions_req_valid(&r)));
	r.client_software_name = GQK_STR("a b");
	cr_assert(not(gqk_api_versions_req_valid(&r)));
	r.client_software_name = GQK_STR("");
	cr_assert(not(gqk_api_versions_req_valid(&r)));
	r.client_software_name = GQK_STR("x");
	cr_assert(gqk_api_versions_req_valid(&r));
}

/* The advertised keys in table order, groups or not. */
static void
b_api_keys(struct bb *b, bool groups, bool compact)
{
	static const int16_t all[][4] = {
		/* key, min, max, group */
		{ 0, 0, 7, 0 },  { 1, 4, 11, 0 }, { 2, 0, 2, 0 },
		{ 3, 0, 4, 0 },  { 8, 2, 7, 1 },  { 9, 1, 5, 1 },
		{ 10, 0, 2, 0 }, { 11, 0, 5, 1 }, { 12, 0, 3, 1 },
		{ 13, 0, 1, 1 }, { 14, 0, 3, 1 }, { 15, 0, 4, 1 },
		{ 16, 0, 2, 1 }, { 18, 0, 3, 0 }, { 19, 0, 4, 0 },
		{ 20, 0, 3, 0 }, { 22, 0, 1, 0 }, { 32, 0, 2, 0 },
		{ 44, 0, 0, 0 },
	};
	size_t i, n = 0;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (groups || !all[i][3])
			n++;
	}
	if (compact)
		b_i8(b, (int8_t)(n + 1));
	else
		b_i32(b, (int32_t)n);
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!groups && all[i][3])
			continue;
		b_i16(b, all[i][0]);
		b_i16(b, all[i][1]);
		b_i16(b, all[i][2]);
		if (compact)
			b_i8(b, 0);
	}
}

/* ApiVersions v0 response: ErrorCode, ApiKeys (11 keys without groups). */
Test(kapi, api_versions_v0_response)
{
	struct gqk_api_versions_resp resp = { 0 };
	struct gqk_writer w;
	struct bb want;

	want.n = 0;
	b_i16(&want, 0);
	b_api_keys(&want, false, false);
	cr_assert(eq(sz, want.n, 2 + 4 + 11 * 6));
	gqk_writer_init(&w);
	gqk_api_versions_resp_encode(&w, 0, &resp, false);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/* ApiVersions v1/v2 add ThrottleTimeMs after the keys. */
Test(kapi, api_versions_v2_response)
{
	struct gqk_api_versions_resp resp = { .throttle_time_ms = 5 };
	struct gqk_writer w;
	struct bb want;

	want.n = 0;
	b_i16(&want, 0);
	b_api_keys(&want, true, false);
	b_i32(&want, 5);
	gqk_writer_init(&w);
	gqk_api_versions_resp_encode(&w, 2, &resp, true);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/* ApiVersions v3: compact array of keys each with tagged fields, then
 * ThrottleTimeMs and empty top-level tagged fields. */
Test(kapi, api_versions_v3_response)
{
	struct gqk_api_versions_resp resp = { 0 };
	struct gqk_writer w;
	struct bb want;

	want.n = 0;
	b_i16(&want, 0);
	b_api_keys(&want, true, true);
	b_i32(&want, 0);
	b_i8(&want, 0);
	cr_assert(eq(sz, want.n, 2 + 1 + 19 * 7 + 4 + 1));
	gqk_writer_init(&w);
	gqk_api_versions_resp_encode(&w, 3, &resp, true);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
	/* Without groups, FindCoordinator is still there. */
	want.n = 0;
	b_i16(&want, 0);
	b_api_keys(&want, false, true);
	b_i32(&want, 0);
	b_i8(&want, 0);
	gqk_api_versions_resp_encode(&w, 3, &resp, false);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/* An ApiVersions v3 error response (INVALID_REQUEST) lists no keys. */
Test(kapi, api_versions_v3_error_response)
{
	struct gqk_api_versions_resp resp = {
		.error_code = GQK_ERR_INVALID_REQUEST,
	};
	struct gqk_writer w;
	struct bb want;

	want.n = 0;
	b_i16(&want, 42);
	b_i8(&want, 1); /* empty compact array */
	b_i32(&want, 0);
	b_i8(&want, 0);
	gqk_writer_init(&w);
	gqk_api_versions_resp_encode(&w, 3, &resp, true);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/* Encoders refuse versions they do not know and write nothing. */
Test(kapi, encoder_version_check)
{
	struct gqk_api_versions_resp av = { 0 };
	struct gqk_produce_resp pr = { 0 };
	struct gqk_fetch_resp fr = { 0 };
	struct gqk_writer w;

	gqk_writer_init(&w);
	gqk_api_versions_resp_encode(&w, 4, &av, false);
	cr_assert(eq(int, w.err, GQK_EUNSUPPORTED));
	cr_assert(eq(sz, w.len, 0));
	gqk_writer_free(&w);
	gqk_produce_resp_encode(&w, 8, &pr);
	cr_assert(eq(int, w.err, GQK_EUNSUPPORTED));
	gqk_writer_free(&w);
	gqk_fetch_resp_encode(&w, 3, &fr);
	cr_assert(eq(int, w.err, GQK_EUNSUPPORTED));
	gqk_writer_free(&w);
}

/*
 * Metadata
 */

/* v0 with an empty topic list (kafka-python's probe): all topics. */
Test(kapi, metadata_v0_empty_means_all)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	b_header(&b, GQK_METADATA, 0, 2, "kafka-python-2.0.2", false);
	b_i32(&b, 0);
	check_frame(&b);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(eq(i32, req.metadata.n_topics, 0));
	cr_assert(req.metadata.all_topics);
	cr_assert(req.metadata.allow_auto_topic_creation);
	gqk_arena_free(&a);
	/* v0 has no null array. */
	b_header(&b, GQK_METADATA, 0, 2, "kafka-python-2.0.2", false);
	b_i32(&b, -1);
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EMALFORMED));
	gqk_arena_free(&a);
}

/* v0 with two topics lists them. */
Test(kapi, metadata_v0_topics)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	b_header(&b, GQK_METADATA, 0, 2, "c", false);
	b_i32(&b, 2);
	b_str(&b, "t1");
	b_str(&b, "events");
	check_frame(&b);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(eq(i32, req.metadata.n_topics, 2));
	cr_assert(not(req.metadata.all_topics));
	cr_assert(gqk_str_eq(req.metadata.topics[0], "t1"));
	cr_assert(gqk_str_eq(req.metadata.topics[1], "events"));
	gqk_arena_free(&a);
}

/* v1: null is all topics, empty is none (librdkafka's brokers-only). */
Test(kapi, metadata_v1_null_vs_empty)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	b_header(&b, GQK_METADATA, 1, 3, "kafka-python-2.0.2", false);
	b_i32(&b, -1);
	check_frame(&b);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(eq(i32, req.metadata.n_topics, -1));
	cr_assert(req.metadata.all_topics);
	gqk_arena_free(&a);

	b_header(&b, GQK_METADATA, 1, 3, "kafka-python-2.0.2", false);
	b_i32(&b, 0);
	check_frame(&b);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(eq(i32, req.metadata.n_topics, 0));
	cr_assert(not(req.metadata.all_topics));
	gqk_arena_free(&a);
}

/* v4 (librdkafka): topics plus AllowAutoTopicCreation; null is all. */
Test(kapi, metadata_v4)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	b_header(&b, GQK_METADATA, 4, 4, "rdkafka", false);
	b_i32(&b, 1);
	b_str(&b, "t1");
	b_i8(&b, 1);
	check_frame(&b);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(eq(i32, req.metadata.n_topics, 1));
	cr_assert(gqk_str_eq(req.metadata.topics[0], "t1"));
	cr_assert(req.metadata.allow_auto_topic_creation);
	gqk_arena_free(&a);

	b_header(&b, GQK_METADATA, 4, 4, "rdkafka", false);
	b_i32(&b, -1);
	b_i8(&b, 0);
	check_frame(&b);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(req.metadata.all_topics);
	cr_assert(not(req.metadata.allow_auto_topic_creation));
	gqk_arena_free(&a);
}

/* Metadata responses carry each version's fields: v0 bare, v1 rack,
 * controller and IsInternal, v2 ClusterId, v3+ ThrottleTimeMs first. */
Test(kapi, metadata_responses)
{
	static const int32_t replicas[] = { 1, 2 };
	static const int32_t isr[] = { 1 };
	const struct gqk_metadata_broker brokers[] = {
		{ 1, GQK_STR("localhost"), 9092, GQK_STR_NULL },
	};
	const struct gqk_metadata_partition parts[] = {
		{ 0, 0, 1, 2, replicas, 1, isr },
	};
	const struct gqk_metadata_topic topics[] = {
		{ 0, GQK_STR("t1"), false, 1, parts },
	};
	struct gqk_metadata_resp resp = {
		.throttle_time_ms = 0,
		.n_brokers = 1,
		.brokers = brokers,
		.cluster_id = GQK_STR("gq"),
		.controller_id = 1,
		.n_topics = 1,
		.topics = topics,
	};
	struct gqk_writer w;
	struct bb want;
	int16_t v;

	gqk_writer_init(&w);
	for (v = 0; v <= 4; v++) {
		want.n = 0;
		if (v >= 3)
			b_i32(&want, 0);
		b_i32(&want, 1);
		b_i32(&want, 1);
		b_str(&want, "localhost");
		b_i32(&want, 9092);
		if (v >= 1)
			b_str(&want, NULL);
		if (v >= 2)
			b_str(&want, "gq");
		if (v >= 1)
			b_i32(&want, 1);
		b_i32(&want, 1);
		b_i16(&want, 0);
		b_str(&want, "t1");
		if (v >= 1)
			b_i8(&want, 0);
		b_i32(&want, 1);
		b_i16(&want, 0);
		b_i32(&want, 0);
		b_i32(&want, 1);
		b_i32(&want, 2);
		b_i32(&want, 1);
		b_i32(&want, 2);
		b_i32(&want, 1);
		b_i32(&want, 1);
		gqk_metadata_resp_encode(&w, v, &resp);
		expect_writer(&w, &want);
		gqk_writer_free(&w);
	}
}

/*
 * Produce
 */

/* A tiny stand-in for a RecordBatch: the codec does not look inside. */
static const uint8_t batch[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 2 };

static void
frame_produce(struct bb *b, int16_t version, const char *txn)
{
	b_header(b, GQK_PRODUCE, version, 5, "rdkafka", false);
	if (version >= 3)
		b_str(b, txn);
	b_i16(b, -1);    /* acks */
	b_i32(b, 30000); /* timeout */
	b_i32(b, 1);     /* topics */
	b_str(b, "t1");
	b_i32(b, 2); /* partitions */
	b_i32(b, 0);
	b_i32(b, (int32_t)sizeof(batch));
	b_raw(b, batch, sizeof(batch));
	b_i32(b, 3);
	b_i32(b, -1); /* null records */
}

static void
check_produce(int16_t version, const char *txn)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_produce_req *p = &req.produce;

	frame_produce(&b, version, txn);
	check_frame(&b);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	if (txn == NULL)
		cr_assert(gqk_str_is_null(p->transactional_id));
	else
		cr_assert(gqk_str_eq(p->transactional_id, txn));
	cr_assert(eq(i16, p->acks, -1));
	cr_assert(eq(i32, p->timeout_ms, 30000));
	cr_assert(eq(i32, p->n_topics, 1));
	cr_assert(gqk_str_eq(p->topics[0].name, "t1"));
	cr_assert(eq(i32, p->topics[0].n_partitions, 2));
	cr_assert(eq(i32, p->topics[0].partitions[0].index, 0));
	cr_assert(eq(i32, p->topics[0].partitions[0].records.len,
		     (int32_t)sizeof(batch)));
	cr_assert(eq(int,
		     memcmp(p->topics[0].partitions[0].records.p, batch,
			    sizeof(batch)),
		     0));
	/* Zero-copy: the records point into the frame. */
	cr_assert(ge(ptr, (void *)p->topics[0].partitions[0].records.p,
		     (void *)b.b));
	cr_assert(lt(ptr, (void *)p->topics[0].partitions[0].records.p,
		     (void *)(b.b + b.n)));
	cr_assert(eq(i32, p->topics[0].partitions[1].index, 3));
	cr_assert(eq(i32, p->topics[0].partitions[1].records.len, -1));
	gqk_arena_free(&a);
}

/* Produce v3 (kafka-python on 0.11 brokers): transactional id and all
 * fields, records zero-copy, null records allowed. */
Test(kapi, produce_v3_request)
{
	check_produce(3, NULL);
	check_produce(3, "txn-1");
}

/* Produce v7 (librdkafka, kafka-python): same request layout as v3. */
Test(kapi, produce_v7_request)
{
	check_produce(7, NULL);
}

/* Produce v0-v2 have no TransactionalId. */
Test(kapi, produce_v0_request)
{
	check_produce(0, NULL);
	check_produce(2, NULL);
}

/* A forged topic count fails before anything is allocated. */
Test(kapi, produce_huge_count_no_alloc)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	b_header(&b, GQK_PRODUCE, 7, 5, "rdkafka", false);
	b_str(&b, NULL);
	b_i16(&b, 1);
	b_i32(&b, 1000);
	b_i32(&b, 0x7fffffff);
	b_str(&b, "t1");
	b_i32(&b, 0);
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EMALFORMED));
	cr_assert(eq(sz, a.used, 0));
	gqk_arena_free(&a);
	/* The same with a records length claiming 2 GB. */
	b_header(&b, GQK_PRODUCE, 7, 5, "rdkafka", false);
	b_str(&b, NULL);
	b_i16(&b, 1);
	b_i32(&b, 1000);
	b_i32(&b, 1);
	b_str(&b, "t1");
	b_i32(&b, 1);
	b_i32(&b, 0);
	b_i32(&b, 0x7fffffff);
	b_raw(&b, batch, sizeof(batch));
	cr_assert(eq(int, decode(&b, &a, &h, &req), GQK_EMALFORMED));
	gqk_arena_free(&a);
}

/* An arena limit too small for the arrays gives GQK_ENOMEM. */
Test(kapi, produce_arena_limit)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	frame_produce(&b, 7, NULL);
	gqk_arena_init(&a, 64);
	cr_assert(eq(int, gqk_request_decode(b.b, b.n, &a, &h, &req),
		     GQK_ENOMEM));
	gqk_arena_free(&a);
}

/* Produce v7 response: LogStartOffset per partition, ThrottleTimeMs at the
 * END of the body. */
Test(kapi, produce_v7_response)
{
	const struct gqk_produce_resp_partition parts[] = {
		{ 0, 0, 42, -1, 0 },
		{ 3, GQK_ERR_NOT_LEADER_OR_FOLLOWER, -1, -1, -1 },
	};
	const struct gqk_produce_resp_topic topics[] = {
		{ GQK_STR("t1"), 2, parts },
	};
	const struct gqk_produce_resp resp = { 1, topics, 7 };
	struct gqk_writer w;
	struct bb want;

	want.n = 0;
	b_i32(&want, 1);
	b_str(&want, "t1");
	b_i32(&want, 2);
	b_i32(&want, 0);
	b_i16(&want, 0);
	b_i64(&want, 42);
	b_i64(&want, -1);
	b_i64(&want, 0);
	b_i32(&want, 3);
	b_i16(&want, 6);
	b_i64(&want, -1);
	b_i64(&want, -1);
	b_i64(&want, -1);
	b_i32(&want, 7); /* ThrottleTimeMs last */
	gqk_writer_init(&w);
	gqk_produce_resp_encode(&w, 7, &resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/* Produce v3 response: no LogStartOffset; v0: nor LogAppendTime nor
 * ThrottleTimeMs. */
Test(kapi, produce_old_responses)
{
	const struct gqk_produce_resp_partition parts[] = {
		{ 1, 0, 5, -1, 0 },
	};
	const struct gqk_produce_resp_topic topics[] = {
		{ GQK_STR("t"), 1, parts },
	};
	const struct gqk_produce_resp resp = { 1, topics, 0 };
	struct gqk_writer w;
	struct bb want;

	want.n = 0;
	b_i32(&want, 1);
	b_str(&want, "t");
	b_i32(&want, 1);
	b_i32(&want, 1);
	b_i16(&want, 0);
	b_i64(&want, 5);
	b_i64(&want, -1);
	b_i32(&want, 0);
	gqk_writer_init(&w);
	gqk_produce_resp_encode(&w, 3, &resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);

	want.n = 0;
	b_i32(&want, 1);
	b_str(&want, "t");
	b_i32(&want, 1);
	b_i32(&want, 1);
	b_i16(&want, 0);
	b_i64(&want, 5);
	gqk_produce_resp_encode(&w, 0, &resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/*
 * Fetch
 */

/* kafka-python's Fetch v4. */
static void
frame_fetch_v4(struct bb *b)
{
	b_header(b, GQK_FETCH, 4, 9, "kafka-python-2.0.2", false);
	b_i32(b, -1);       /* replica */
	b_i32(b, 500);      /* max wait */
	b_i32(b, 1);        /* min bytes */
	b_i32(b, 52428800); /* max bytes */
	b_i8(b, 0);         /* isolation */
	b_i32(b, 1);
	b_str(b, "t1");
	b_i32(b, 2);
	b_i32(b, 0);
	b_i64(b, 5);
	b_i32(b, 1048576);
	b_i32(b, 1);
	b_i64(b, 0);
	b_i32(b, 65536);
}

/* Fetch v4: every field, with the defaults of fields it lacks. */
Test(kapi, fetch_v4_request)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_fetch_req *f = &req.fetch;

	frame_fetch_v4(&b);
	check_frame(&b);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(eq(i32, f->replica_id, -1));
	cr_assert(eq(i32, f->max_wait_ms, 500));
	cr_assert(eq(i32, f->min_bytes, 1));
	cr_assert(eq(i32, f->max_bytes, 52428800));
	cr_assert(eq(i8, f->isolation_level, 0));
	cr_assert(eq(i32, f->session_id, 0));
	cr_assert(eq(i32, f->session_epoch, -1));
	cr_assert(eq(i32, f->n_topics, 1));
	cr_assert(gqk_str_eq(f->topics[0].topic, "t1"));
	cr_assert(eq(i32, f->topics[0].n_partitions, 2));
	cr_assert(eq(i32, f->topics[0].partitions[0].partition, 0));
	cr_assert(eq(i32, f->topics[0].partitions[0].current_leader_epoch, -1));
	cr_assert(eq(i64, f->topics[0].partitions[0].fetch_offset, 5));
	cr_assert(eq(i64, f->topics[0].partitions[0].log_start_offset, -1));
	cr_assert(eq(i32, f->topics[0].partitions[0].partition_max_bytes,
		     1048576));
	cr_assert(eq(i32, f->topics[0].partitions[1].partition, 1));
	cr_assert(
		eq(i32, f->topics[0].partitions[1].partition_max_bytes, 65536));
	cr_assert(eq(i32, f->n_forgotten, 0));
	cr_assert(gqk_str_eq(f->rack_id, ""));
	gqk_arena_free(&a);
}

/* librdkafka's Fetch v11, with a forgotten topic to cover that array. */
static void
frame_fetch_v11(struct bb *b)
{
	b_header(b, GQK_FETCH, 11, 10, "rdkafka", false);
	b_i32(b, -1);
	b_i32(b, 500);
	b_i32(b, 1);
	b_i32(b, 52428800);
	b_i8(b, 1);  /* read_committed */
	b_i32(b, 0); /* session id */
	b_i32(b, -1);
	b_i32(b, 1);
	b_str(b, "t1");
	b_i32(b, 1);
	b_i32(b, 2);       /* partition */
	b_i32(b, -1);      /* current leader epoch */
	b_i64(b, 100);     /* fetch offset */
	b_i64(b, -1);      /* log start offset */
	b_i32(b, 1048576); /* partition max bytes */
	b_i32(b, 1);       /* forgotten topics */
	b_str(b, "old");
	b_i32(b, 2);
	b_i32(b, 4);
	b_i32(b, 5);
	b_str(b, ""); /* rack id */
}

/* Fetch v11: session fields, leader epoch, log start offset, forgotten
 * topics and rack id. */
Test(kapi, fetch_v11_request)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_fetch_req *f = &req.fetch;

	frame_fetch_v11(&b);
	check_frame(&b);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(eq(i8, f->isolation_level, 1));
	cr_assert(eq(i32, f->session_id, 0));
	cr_assert(eq(i32, f->session_epoch, -1));
	cr_assert(eq(i32, f->n_topics, 1));
	cr_assert(eq(i32, f->topics[0].partitions[0].partition, 2));
	cr_assert(eq(i32, f->topics[0].partitions[0].current_leader_epoch, -1));
	cr_assert(eq(i64, f->topics[0].partitions[0].fetch_offset, 100));
	cr_assert(eq(i64, f->topics[0].partitions[0].log_start_offset, -1));
	cr_assert(eq(i32, f->topics[0].partitions[0].partition_max_bytes,
		     1048576));
	cr_assert(eq(i32, f->n_forgotten, 1));
	cr_assert(gqk_str_eq(f->forgotten[0].topic, "old"));
	cr_assert(eq(i32, f->forgotten[0].n_partitions, 2));
	cr_assert(eq(i32, f->forgotten[0].partitions[0], 4));
	cr_assert(eq(i32, f->forgotten[0].partitions[1], 5));
	cr_assert(gqk_str_eq(f->rack_id, ""));
	cr_assert(not(gqk_str_is_null(f->rack_id)));
	gqk_arena_free(&a);
}

/* Fetch v11 response for a partition with an error: every v11 field, null
 * AbortedTransactions, PreferredReadReplica -1, and Records a zero-length
 * (not null) byte array even though none were given. */
Test(kapi, fetch_v11_error_partition_response)
{
	const struct gqk_fetch_resp_partition parts[] = {
		{
			.partition_index = 0,
			.error_code = GQK_ERR_OFFSET_OUT_OF_RANGE,
			.high_watermark = 10,
			.last_stable_offset = 10,
			.log_start_offset = 0,
			.n_aborted = -1,
			.preferred_read_replica = -1,
			.records = GQK_BYTES_NULL,
		},
	};
	const struct gqk_fetch_resp_topic topics[] = {
		{ GQK_STR("t1"), 1, parts },
	};
	const struct gqk_fetch_resp resp = { 0, 0, 0, 1, topics };
	struct gqk_writer w;
	struct bb want;

	want.n = 0;
	b_i32(&want, 0); /* throttle */
	b_i16(&want, 0); /* error */
	b_i32(&want, 0); /* session id */
	b_i32(&want, 1); /* topics */
	b_str(&want, "t1");
	b_i32(&want, 1);  /* partitions */
	b_i32(&want, 0);  /* index */
	b_i16(&want, 1);  /* OFFSET_OUT_OF_RANGE */
	b_i64(&want, 10); /* high watermark */
	b_i64(&want, 10); /* last stable offset */
	b_i64(&want, 0);  /* log start offset */
	b_i32(&want, -1); /* aborted transactions: null */
	b_i32(&want, -1); /* preferred read replica */
	b_i32(&want, 0);  /* records: empty, not null */
	gqk_writer_init(&w);
	gqk_fetch_resp_encode(&w, 11, &resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/* Fetch v4 response: no session fields, no LogStartOffset, no preferred
 * replica; aborted transactions and records are carried through. */
Test(kapi, fetch_v4_response)
{
	const struct gqk_fetch_aborted ab[] = { { 77, 3 } };
	const struct gqk_fetch_resp_partition parts[] = {
		{
			.partition_index = 1,
			.high_watermark = 20,
			.last_stable_offset = 18,
			.log_start_offset = 0,
			.n_aborted = 1,
			.aborted = ab,
			.preferred_read_replica = -1,
			.records = { batch, (int32_t)sizeof(batch) },
		},
	};
	const struct gqk_fetch_resp_topic topics[] = {
		{ GQK_STR("t1"), 1, parts },
	};
	const struct gqk_fetch_resp resp = { 3, 0, 0, 1, topics };
	struct gqk_writer w;
	struct bb want;

	want.n = 0;
	b_i32(&want, 3);
	b_i32(&want, 1);
	b_str(&want, "t1");
	b_i32(&want, 1);
	b_i32(&want, 1);
	b_i16(&want, 0);
	b_i64(&want, 20);
	b_i64(&want, 18);
	b_i32(&want, 1);
	b_i64(&want, 77);
	b_i64(&want, 3);
	b_i32(&want, (int32_t)sizeof(batch));
	b_raw(&want, batch, sizeof(batch));
	gqk_writer_init(&w);
	gqk_fetch_resp_encode(&w, 4, &resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/*
 * ListOffsets
 */

static void
frame_list_offsets(struct bb *b, int16_t version)
{
	b_header(b, GQK_LIST_OFFSETS, version, 11, "c", false);
	b_i32(b, -1);
	if (version >= 2)
		b_i8(b, 1);
	b_i32(b, 1);
	b_str(b, "t1");
	b_i32(b, 2);
	b_i32(b, 0);
	b_i64(b, GQK_TIMESTAMP_EARLIEST);
	if (version == 0)
		b_i32(b, 1);
	b_i32(b, 1);
	b_i64(b, 1700000000000);
	if (version == 0)
		b_i32(b, 5);
}

/* ListOffsets v0 (MaxNumOffsets), v1 (kafka-python), v2 (librdkafka:
 * IsolationLevel) decode every field. */
Test(kapi, list_offsets_requests)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_list_offsets_req *l = &req.list_offsets;
	int16_t v;

	for (v = 0; v <= 2; v++) {
		frame_list_offsets(&b, v);
		check_frame(&b);
		cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
		cr_assert(eq(i32, l->replica_id, -1));
		cr_assert(eq(i8, l->isolation_level, v >= 2 ? 1 : 0));
		cr_assert(eq(i32, l->n_topics, 1));
		cr_assert(gqk_str_eq(l->topics[0].name, "t1"));
		cr_assert(eq(i32, l->topics[0].n_partitions, 2));
		cr_assert(eq(i64, l->topics[0].partitions[0].timestamp, -2));
		cr_assert(
			eq(i32, l->topics[0].partitions[0].max_num_offsets, 1));
		cr_assert(
			eq(i32, l->topics[0].partitions[1].partition_index, 1));
		cr_assert(eq(i64, l->topics[0].partitions[1].timestamp,
			     1700000000000));
		cr_assert(eq(i32, l->topics[0].partitions[1].max_num_offsets,
			     v == 0 ? 5 : 1));
		gqk_arena_free(&a);
	}
}

/* ListOffsets responses: v0 OldStyleOffsets (derived from Offset, empty on
 * error), v1 Timestamp+Offset, v2 ThrottleTimeMs first. */
Test(kapi, list_offsets_responses)
{
	const struct gqk_list_offsets_resp_partition parts[] = {
		{ 0, 0, -1, 42, 0, NULL },
		{ 1, GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1, 0, NULL },
	};
	const struct gqk_list_offsets_resp_topic topics[] = {
		{ GQK_STR("t1"), 2, parts },
	};
	const struct gqk_list_offsets_resp resp = { 0, 1, topics };
	struct gqk_writer w;
	struct bb want;
	int16_t v;

	gqk_writer_init(&w);
	for (v = 0; v <= 2; v++) {
		want.n = 0;
		if (v >= 2)
			b_i32(&want, 0);
		b_i32(&want, 1);
		b_str(&want, "t1");
		b_i32(&want, 2);
		b_i32(&want, 0);
		b_i16(&want, 0);
		if (v == 0) {
			b_i32(&want, 1);
			b_i64(&want, 42);
		} else {
			b_i64(&want, -1);
			b_i64(&want, 42);
		}
		b_i32(&want, 1);
		b_i16(&want, 3);
		if (v == 0) {
			b_i32(&want, 0);
		} else {
			b_i64(&want, -1);
			b_i64(&want, -1);
		}
		gqk_list_offsets_resp_encode(&w, v, &resp);
		expect_writer(&w, &want);
		gqk_writer_free(&w);
	}
}

/*
 * InitProducerId
 */

/* InitProducerId v1 as librdkafka sends it: null id, timeout -1... */
Test(kapi, init_producer_id_v1_request)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;

	b_header(&b, GQK_INIT_PRODUCER_ID, 1, 12, "rdkafka", false);
	b_str(&b, NULL);
	b_i32(&b, -1);
	check_frame(&b);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(gqk_str_is_null(req.init_producer_id.transactional_id));
	cr_assert(eq(i32, req.init_producer_id.transaction_timeout_ms, -1));
	gqk_arena_free(&a);
	/* ...and with a transactional id. */
	b_header(&b, GQK_INIT_PRODUCER_ID, 1, 12, "rdkafka", false);
	b_str(&b, "tx");
	b_i32(&b, 60000);
	check_frame(&b);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(gqk_str_eq(req.init_producer_id.transactional_id, "tx"));
	cr_assert(eq(i32, req.init_producer_id.transaction_timeout_ms, 60000));
	gqk_arena_free(&a);
}

/* InitProducerId v0/v1 response: throttle, error, id, epoch. */
Test(kapi, init_producer_id_response)
{
	const struct gqk_init_producer_id_resp resp = { 0, 0, 4242, 0 };
	struct gqk_writer w;
	struct bb want;

	want.n = 0;
	b_i32(&want, 0);
	b_i16(&want, 0);
	b_i64(&want, 4242);
	b_i16(&want, 0);
	gqk_writer_init(&w);
	gqk_init_producer_id_resp_encode(&w, 1, &resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}

/*
 * CreateTopics
 */

static void
frame_create_topics(struct bb *b, int16_t version)
{
	b_header(b, GQK_CREATE_TOPICS, version, 13, "adminclient-1", false);
	b_i32(b, 2);
	b_str(b, "new");
	b_i32(b, 3);
	b_i16(b, 1);
	b_i32(b, 0); /* assignments */
	b_i32(b, 2); /* configs */
	b_str(b, "cleanup.policy");
	b_str(b, "compact");
	b_str(b, "retention.ms");
	b_str(b, NULL);
	b_str(b, "placed");
	b_i32(b, -1);
	b_i16(b, -1);
	b_i32(b, 1);
	b_i32(b, 0);
	b_i32(b, 2);
	b_i32(b, 1);
	b_i32(b, 2);
	b_i32(b, 0);
	b_i32(b, 5000);
	if (version >= 1)
		b_i8(b, 1);
}

/* CreateTopics v0 and v4: topics with configs (nullable values) and
 * replica assignments, timeout, and v1+ ValidateOnly. */
Test(kapi, create_topics_requests)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_create_topics_req *c = &req.create_topics;
	int16_t v;

	for (v = 0; v <= 4; v += 4) {
		frame_create_topics(&b, v);
		check_frame(&b);
		cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
		cr_assert(eq(i32, c->n_topics, 2));
		cr_assert(gqk_str_eq(c->topics[0].name, "new"));
		cr_assert(eq(i32, c->topics[0].num_partitions, 3));
		cr_assert(eq(i16, c->topics[0].replication_factor, 1));
		cr_assert(eq(i32, c->topics[0].n_assignments, 0));
		cr_assert(eq(i32, c->topics[0].n_configs, 2));
		cr_assert(gqk_str_eq(c->topics[0].configs[0].name,
				     "cleanup.policy"));
		cr_assert(gqk_str_eq(c->topics[0].configs[0].value, "compact"));
		cr_assert(gqk_str_is_null(c->topics[0].configs[1].value));
		cr_assert(gqk_str_eq(c->topics[1].name, "placed"));
		cr_assert(eq(i32, c->topics[1].num_partitions, -1));
		cr_assert(eq(i16, c->topics[1].replication_factor, -1));
		cr_assert(eq(i32, c->topics[1].n_assignments, 1));
		cr_assert(eq(i32, c->topics[1].assignments[0].partition_index,
			     0));
		cr_assert(eq(i32, c->topics[1].assignments[0].n_broker_ids, 2));
		cr_assert(
			eq(i32, c->topics[1].assignments[0].broker_ids[1], 2));
		cr_assert(eq(i32, c->topics[1].n_configs, 0));
		cr_assert(eq(i32, c->timeout_ms, 5000));
		cr_assert(eq(int, c->validate_only, v >= 1));
		gqk_arena_free(&a);
	}
}

/* CreateTopics responses: v0 name+error, v1 ErrorMessage, v2+ throttle. */
Test(kapi, create_topics_responses)
{
	const struct gqk_create_topics_resp_topic topics[] = {
		{ GQK_STR("new"), 0, GQK_STR_NULL },
		{ GQK_STR("dup"), GQK_ERR_TOPIC_ALREADY_EXISTS,
		  GQK_STR("exists") },
	};
	const struct gqk_create_topics_resp resp = { 0, 2, topics };
	struct gqk_writer w;
	struct bb want;
	int16_t v;

	gqk_writer_init(&w);
	for (v = 0; v <= 4; v++) {
		want.n = 0;
		if (v >= 2)
			b_i32(&want, 0);
		b_i32(&want, 2);
		b_str(&want, "new");
		b_i16(&want, 0);
		if (v >= 1)
			b_str(&want, NULL);
		b_str(&want, "dup");
		b_i16(&want, 36);
		if (v >= 1)
			b_str(&want, "exists");
		gqk_create_topics_resp_encode(&w, v, &resp);
		expect_writer(&w, &want);
		gqk_writer_free(&w);
	}
}

/*
 * DeleteTopics
 */

/* DeleteTopics v0 and v3: topic names and timeout. */
Test(kapi, delete_topics_requests)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	int16_t v;

	for (v = 0; v <= 3; v += 3) {
		b_header(&b, GQK_DELETE_TOPICS, v, 14, "adminclient-1", false);
		b_i32(&b, 2);
		b_str(&b, "a");
		b_str(&b, "bb");
		b_i32(&b, 30000);
		check_frame(&b);
		cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
		cr_assert(eq(i32, req.delete_topics.n_topic_names, 2));
		cr_assert(gqk_str_eq(req.delete_topics.topic_names[0], "a"));
		cr_assert(gqk_str_eq(req.delete_topics.topic_names[1], "bb"));
		cr_assert(eq(i32, req.delete_topics.timeout_ms, 30000));
		gqk_arena_free(&a);
	}
}

/* DeleteTopics responses: ThrottleTimeMs from v1. */
Test(kapi, delete_topics_responses)
{
	const struct gqk_delete_topics_resp_topic topics[] = {
		{ GQK_STR("a"), 0 },
		{ GQK_STR("bb"), GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION },
	};
	const struct gqk_delete_topics_resp resp = { 9, 2, topics };
	struct gqk_writer w;
	struct bb want;
	int16_t v;

	gqk_writer_init(&w);
	for (v = 0; v <= 3; v++) {
		want.n = 0;
		if (v >= 1)
			b_i32(&want, 9);
		b_i32(&want, 2);
		b_str(&want, "a");
		b_i16(&want, 0);
		b_str(&want, "bb");
		b_i16(&want, 3);
		gqk_delete_topics_resp_encode(&w, v, &resp);
		expect_writer(&w, &want);
		gqk_writer_free(&w);
	}
}

/*
 * DescribeConfigs
 */

/* DescribeConfigs v0 and v1: resources with null (all) and listed keys;
 * v1 adds IncludeSynonyms. */
Test(kapi, describe_configs_requests)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_describe_configs_req *d = &req.describe_configs;
	int16_t v;

	for (v = 0; v <= 1; v++) {
		b_header(&b, GQK_DESCRIBE_CONFIGS, v, 15, "adminclient-1",
			 false);
		b_i32(&b, 2);
		b_i8(&b, GQK_RESOURCE_TOPIC);
		b_str(&b, "t1");
		b_i32(&b, -1);
		b_i8(&b, GQK_RESOURCE_BROKER);
		b_str(&b, "1");
		b_i32(&b, 1);
		b_str(&b, "log.retention.ms");
		if (v >= 1)
			b_i8(&b, 1);
		check_frame(&b);
		cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
		cr_assert(eq(i32, d->n_resources, 2));
		cr_assert(eq(i8, d->resources[0].resource_type, 2));
		cr_assert(gqk_str_eq(d->resources[0].resource_name, "t1"));
		cr_assert(eq(i32, d->resources[0].n_configuration_keys, -1));
		cr_assert(eq(i8, d->resources[1].resource_type, 4));
		cr_assert(eq(i32, d->resources[1].n_configuration_keys, 1));
		cr_assert(gqk_str_eq(d->resources[1].configuration_keys[0],
				     "log.retention.ms"));
		cr_assert(eq(int, d->include_synonyms, v >= 1));
		gqk_arena_free(&a);
	}
}

/* DescribeConfigs responses: v0 has IsDefault, v1+ ConfigSource and
 * Synonyms instead. */
Test(kapi, describe_configs_responses)
{
	const struct gqk_describe_configs_synonym syn[] = {
		{ GQK_STR("log.retention.ms"), GQK_STR("1000"),
		  GQK_CONFIG_SOURCE_STATIC_BROKER },
	};
	const struct gqk_describe_configs_entry cfg[] = {
		{ GQK_STR("retention.ms"), GQK_STR("1000"), false, true,
		  GQK_CONFIG_SOURCE_DEFAULT, false, 1, syn },
	};
	const struct gqk_describe_configs_result res[] = {
		{ 0, GQK_STR_NULL, GQK_RESOURCE_TOPIC, GQK_STR("t1"), 1, cfg },
	};
	const struct gqk_describe_configs_resp resp = { 0, 1, res };
	struct gqk_writer w;
	struct bb want;
	int16_t v;

	gqk_writer_init(&w);
	for (v = 0; v <= 2; v++) {
		want.n = 0;
		b_i32(&want, 0);
		b_i32(&want, 1);
		b_i16(&want, 0);
		b_str(&want, NULL);
		b_i8(&want, 2);
		b_str(&want, "t1");
		b_i32(&want, 1);
		b_str(&want, "retention.ms");
		b_str(&want, "1000");
		b_i8(&want, 0); /* read only */
		if (v == 0)
			b_i8(&want, 1); /* is default */
		else
			b_i8(&want, 5); /* config source */
		b_i8(&want, 0);         /* sensitive */
		if (v >= 1) {
			b_i32(&want, 1);
			b_str(&want, "log.retention.ms");
			b_str(&want, "1000");
			b_i8(&want, 4);
		}
		gqk_describe_configs_resp_encode(&w, v, &resp);
		expect_writer(&w, &want);
		gqk_writer_free(&w);
	}
}

/*
 * Direct per-API decoders
 */

/* Per-API decoders reject versions outside their range and trailing
 * bytes, independently of the dispatcher. */
Test(kapi, direct_decoders)
{
	static const uint8_t empty_topics[] = { 0, 0, 0, 0, 0 };
	struct gqk_reader r;
	struct gqk_arena a;
	struct gqk_metadata_req m;
	struct gqk_produce_req p;

	gqk_arena_init(&a, 0);
	gqk_reader_init(&r, empty_topics, 4);
	cr_assert(eq(int, gqk_metadata_req_decode(&r, 0, &a, &m), 0));
	gqk_reader_init(&r, empty_topics, 5);
	cr_assert(eq(int, gqk_metadata_req_decode(&r, 0, &a, &m),
		     GQK_EMALFORMED));
	gqk_reader_init(&r, empty_topics, 5);
	cr_assert(eq(int, gqk_metadata_req_decode(&r, 5, &a, &m),
		     GQK_EUNSUPPORTED));
	gqk_reader_init(&r, empty_topics, 5);
	cr_assert(eq(int, gqk_produce_req_decode(&r, 8, &a, &p),
		     GQK_EUNSUPPORTED));
	gqk_arena_free(&a);
}

/*
 * IncrementalAlterConfigs
 */

/* IncrementalAlterConfigs v0: resources with their operations, then
 * ValidateOnly. */
Test(kapi, incremental_alter_configs_request)
{
	struct bb b;
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	struct gqk_incremental_alter_configs_req *m =
		&req.incremental_alter_configs;

	b_header(&b, GQK_INCREMENTAL_ALTER_CONFIGS, 0, 16, "adminclient-1",
		 false);
	b_i32(&b, 2);
	b_i8(&b, GQK_RESOURCE_TOPIC);
	b_str(&b, "t1");
	b_i32(&b, 2);
	b_str(&b, "retention.ms");
	b_i8(&b, GQK_CONFIG_OP_SET);
	b_str(&b, "1000");
	b_str(&b, "compression.type");
	b_i8(&b, GQK_CONFIG_OP_DELETE);
	b_i16(&b, -1);
	b_i8(&b, GQK_RESOURCE_BROKER);
	b_str(&b, "1");
	b_i32(&b, 0);
	b_i8(&b, 1);
	check_frame(&b);
	cr_assert(eq(int, decode(&b, &a, &h, &req), 0));
	cr_assert(eq(i32, m->n_resources, 2));
	cr_assert(eq(i8, m->resources[0].resource_type, 2));
	cr_assert(gqk_str_eq(m->resources[0].resource_name, "t1"));
	cr_assert(eq(i32, m->resources[0].n_configs, 2));
	cr_assert(gqk_str_eq(m->resources[0].configs[0].name, "retention.ms"));
	cr_assert(eq(i8, m->resources[0].configs[0].config_operation, 0));
	cr_assert(gqk_str_eq(m->resources[0].configs[0].value, "1000"));
	cr_assert(eq(i8, m->resources[0].configs[1].config_operation, 1));
	cr_assert(eq(i32, m->resources[0].configs[1].value.len, -1));
	cr_assert(eq(i8, m->resources[1].resource_type, 4));
	cr_assert(eq(i32, m->resources[1].n_configs, 0));
	cr_assert(m->validate_only);
	gqk_arena_free(&a);
}

/* IncrementalAlterConfigs v0 response: ThrottleTimeMs, then per resource
 * ErrorCode, ErrorMessage, ResourceType and ResourceName. */
Test(kapi, incremental_alter_configs_response)
{
	const struct gqk_alter_configs_resp_resource res[] = {
		{ 0, GQK_STR_NULL, GQK_RESOURCE_TOPIC, GQK_STR("t1") },
		{ GQK_ERR_INVALID_CONFIG, GQK_STR("bad"), GQK_RESOURCE_TOPIC,
		  GQK_STR("t2") },
	};
	const struct gqk_incremental_alter_configs_resp resp = { 7, 2, res };
	struct gqk_writer w;
	struct bb want;

	want.n = 0;
	b_i32(&want, 7);
	b_i32(&want, 2);
	b_i16(&want, 0);
	b_i16(&want, -1);
	b_i8(&want, 2);
	b_str(&want, "t1");
	b_i16(&want, GQK_ERR_INVALID_CONFIG);
	b_str(&want, "bad");
	b_i8(&want, 2);
	b_str(&want, "t2");
	gqk_writer_init(&w);
	gqk_incremental_alter_configs_resp_encode(&w, 0, &resp);
	expect_writer(&w, &want);
	gqk_writer_free(&w);
}
