/* SPDX-License-Identifier: MIT */
/*
 * kapi.c - Kafka request decoders and response encoders (see kapi.h).
 *
 * Each decoder follows the field order of the Kafka 3.4.0 message JSON for
 * its version range (KAFKA-PROTOCOL.md Appendix A/B), relying on the
 * reader's sticky error so that a run of fields needs one check. Arrays are
 * allocated in the arena only after their count has been checked against
 * the bytes left (times the smallest encoding of one element), so a forged
 * count costs nothing. Every decoder ends by requiring that the body was
 * consumed exactly (the helpers for both rules are in kapi_internal.h,
 * shared with kapi_group.c). Encoders write the fields present in the
 * requested version and nothing else.
 */
#include "kapi.h"

#include <string.h>

#include "kapi_internal.h"

/*
 * Tables
 */

/* Everything the codec knows about one API key. */
struct api_info {
	int16_t key;
	int16_t flexible_from; /* first flexible version (Kafka 3.4.0 JSON) */
	const char *name;
};

static const struct api_info api_info[] = {
	{ GQK_PRODUCE, 9, "Produce" },
	{ GQK_FETCH, 12, "Fetch" },
	{ GQK_LIST_OFFSETS, 6, "ListOffsets" },
	{ GQK_METADATA, 9, "Metadata" },
	{ GQK_OFFSET_COMMIT, 8, "OffsetCommit" },
	{ GQK_OFFSET_FETCH, 6, "OffsetFetch" },
	{ GQK_FIND_COORDINATOR, 3, "FindCoordinator" },
	{ GQK_JOIN_GROUP, 6, "JoinGroup" },
	{ GQK_HEARTBEAT, 4, "Heartbeat" },
	{ GQK_LEAVE_GROUP, 4, "LeaveGroup" },
	{ GQK_SYNC_GROUP, 4, "SyncGroup" },
	{ GQK_DESCRIBE_GROUPS, 5, "DescribeGroups" },
	{ GQK_LIST_GROUPS, 3, "ListGroups" },
	{ GQK_API_VERSIONS, 3, "ApiVersions" },
	{ GQK_CREATE_TOPICS, 5, "CreateTopics" },
	{ GQK_DELETE_TOPICS, 4, "DeleteTopics" },
	{ GQK_INIT_PRODUCER_ID, 2, "InitProducerId" },
	{ GQK_DESCRIBE_CONFIGS, 4, "DescribeConfigs" },
};

/*
 * What gqd advertises. The lower bounds are client-visible: Produce must
 * reach v0 (librdkafka compression gating), Fetch v4 and Produce v3
 * (MsgVer2), FindCoordinator and InitProducerId v0; the upper bounds keep
 * every request but ApiVersions v3 non-flexible.
 */
const struct gqk_api_range gqk_supported[] = {
	{ GQK_PRODUCE, 0, 7, false },
	{ GQK_FETCH, 4, 11, false },
	{ GQK_LIST_OFFSETS, 0, 2, false },
	{ GQK_METADATA, 0, 4, false },
	{ GQK_OFFSET_COMMIT, 2, 7, true },
	{ GQK_OFFSET_FETCH, 1, 5, true },
	{ GQK_FIND_COORDINATOR, 0, 2, false },
	{ GQK_JOIN_GROUP, 0, 5, true },
	{ GQK_HEARTBEAT, 0, 3, true },
	{ GQK_LEAVE_GROUP, 0, 1, true },
	{ GQK_SYNC_GROUP, 0, 3, true },
	{ GQK_DESCRIBE_GROUPS, 0, 4, true },
	{ GQK_LIST_GROUPS, 0, 2, true },
	{ GQK_API_VERSIONS, 0, 3, false },
	{ GQK_CREATE_TOPICS, 0, 4, false },
	{ GQK_DELETE_TOPICS, 0, 3, false },
	{ GQK_INIT_PRODUCER_ID, 0, 1, false },
	{ GQK_DESCRIBE_CONFIGS, 0, 2, false },
};

const size_t gqk_n_supported = sizeof(gqk_supported) / sizeof(gqk_supported[0]);

static const struct api_info *
find_info(int16_t key)
{
	size_t i;

	for (i = 0; i < sizeof(api_info) / sizeof(api_info[0]); i++) {
		if (api_info[i].key == key)
			return &api_info[i];
	}
	return NULL;
}

const struct gqk_api_range *
gqk_api_range(int16_t key)
{
	size_t i;

	for (i = 0; i < gqk_n_supported; i++) {
		if (gqk_supported[i].key == key)
			return &gqk_supported[i];
	}
	return NULL;
}

bool
gqk_api_supported(int16_t key, int16_t version)
{
	const struct gqk_api_range *e;

	e = gqk_api_range(key);
	return e != NULL && version >= e->min && version <= e->max;
}

const char *
gqk_api_name(int16_t key)
{
	const struct api_info *i;

	i = find_info(key);
	return i != NULL ? i->name : "Unknown";
}

bool
gqk_api_flexible(int16_t key, int16_t version)
{
	const struct api_info *i;

	i = find_info(key);
	return i != NULL && version >= i->flexible_from;
}

const char *
gqk_err_name(int16_t code)
{
#define GQK_ERR_CASE(name, value) \
	case value:               \
		return #name;
	switch (code) {
		GQK_ERR_MAP(GQK_ERR_CASE)
	default:
		return "UNKNOWN";
	}
#undef GQK_ERR_CASE
}

/*
 * Headers
 */

int
gqk_header_decode(struct gqk_reader *r, struct gqk_header *h)
{
	memset(h, 0, sizeof(*h));
	h->client_id = GQK_STR_NULL;
	h->api_key = gqk_read_i16(r);
	h->api_version = gqk_read_i16(r);
	h->correlation_id = gqk_read_i32(r);
	/* The client id keeps the legacy INT16 encoding even in header v2. */
	gqk_read_nullable_string(r, &h->client_id);
	if (r->err != 0)
		return r->err;
	h->flexible = gqk_api_flexible(h->api_key, h->api_version);
	if (h->flexible)
		gqk_skip_tagged_fields(r);
	return r->err;
}

void
gqk_response_header_put(struct gqk_writer *w, const struct gqk_header *h)
{
	gqk_put_i32(w, h->correlation_id);
	if (h->flexible && h->api_key != GQK_API_VERSIONS)
		gqk_put_empty_tagged_fields(w);
}

/*
 * ApiVersions
 */

int
gqk_api_versions_req_decode(struct gqk_reader *r, int16_t version,
			    struct gqk_arena *a,
			    struct gqk_api_versions_req *out)
{
	(void)a;
	memset(out, 0, sizeof(*out));
	out->client_software_name = GQK_STR_NULL;
	out->client_software_version = GQK_STR_NULL;
	if (version < 0 || version > 3)
		return GQK_EUNSUPPORTED;
	if (version >= 3) {
		gqk_read_compact_string(r, &out->client_software_name);
		gqk_read_compact_string(r, &out->client_software_version);
		gqk_skip_tagged_fields(r);
	}
	return finish(r);
}

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? */
static bool
software_token_ok(struct gqk_str s)
{
	int32_t i;

	if (s.len <= 0 || !is_alnum(s.p[0]) || !is_alnum(s.p[s.len - 1]))
		return false;
	for (i = 1; i < s.len - 1; i++) {
		if (!is_alnum(s.p[i]) && s.p[i] != '-' && s.p[i] != '.')
			return false;
	}
	return true;
}

bool
gqk_api_versions_req_valid(const struct gqk_api_versions_req *req)
{
	if (gqk_str_is_null(req->client_software_name) &&
	    gqk_str_is_null(req->client_software_version))
		return true;
	return software_token_ok(req->client_software_name) &&
	       software_token_ok(req->client_software_version);
}

void
gqk_api_versions_resp_encode(struct gqk_writer *w, int16_t version,
			     const struct gqk_api_versions_resp *resp,
			     bool groups)
{
	const struct gqk_api_range *e;
	int32_t n = 0;
	size_t i;

	if (!version_ok(w, version, 0, 3))
		return;
	/* Kafka lists no keys in an error response (INVALID_REQUEST, ...). */
	for (i = 0; i < gqk_n_supported && resp->error_code == 0; i++) {
		if (groups || !gqk_supported[i].group)
			n++;
	}
	gqk_put_i16(w, resp->error_code);
	if (version >= 3)
		gqk_put_compact_array_len(w, n);
	else
		gqk_put_array_len(w, n);
	for (i = 0; i < gqk_n_supported && resp->error_code == 0; i++) {
		e = &gqk_supported[i];
		if (!groups && e->group)
			continue;
		gqk_put_i16(w, e->key);
		gqk_put_i16(w, e->min);
		gqk_put_i16(w, e->max);
		if (version >= 3)
			gqk_put_empty_tagged_fields(w);
	}
	if (version >= 1)
		gqk_put_i32(w, resp->throttle_time_ms);
	/* v3 feature tags (SupportedFeatures, ...) are optional: none. */
	if (version >= 3)
		gqk_put_empty_tagged_fields(w);
}

void
gqk_api_versions_unsupported_encode(struct gqk_writer *w)
{
	const struct gqk_api_range *e;

	e = gqk_api_range(GQK_API_VERSIONS);
	gqk_put_i16(w, GQK_ERR_UNSUPPORTED_VERSION);
	gqk_put_array_len(w, 1);
	gqk_put_i16(w, GQK_API_VERSIONS);
	gqk_put_i16(w, e != NULL ? e->min : 0);
	gqk_put_i16(w, e != NULL ? e->max : 0);
}

/*
 * Metadata
 */

int
gqk_metadata_req_decode(struct gqk_reader *r, int16_t version,
			struct gqk_arena *a, struct gqk_metadata_req *out)
{
	memset(out, 0, sizeof(*out));
	out->allow_auto_topic_creation = true;
	if (version < 0 || version > 4)
		return GQK_EUNSUPPORTED;
	out->topics = read_string_array(r, a, version >= 1, &out->n_topics);
	if (version >= 4)
		out->allow_auto_topic_creation = gqk_read_bool(r);
	if (finish(r) != 0)
		return r->err;
	out->all_topics =
		out->n_topics < 0 || (version == 0 && out->n_topics == 0);
	return 0;
}

void
gqk_metadata_resp_encode(struct gqk_writer *w, int16_t version,
			 const struct gqk_metadata_resp *resp)
{
	const struct gqk_metadata_broker *b;
	const struct gqk_metadata_topic *t;
	const struct gqk_metadata_partition *p;
	int32_t i, j, nb, nt, np;

	if (!version_ok(w, version, 0, 4))
		return;
	if (version >= 3)
		gqk_put_i32(w, resp->throttle_time_ms);
	nb = count(resp->n_brokers);
	gqk_put_array_len(w, nb);
	for (i = 0; i < nb; i++) {
		b = &resp->brokers[i];
		gqk_put_i32(w, b->node_id);
		gqk_put_string(w, b->host);
		gqk_put_i32(w, b->port);
		if (version >= 1)
			gqk_put_nullable_string(w, b->rack);
	}
	if (version >= 2)
		gqk_put_nullable_string(w, resp->cluster_id);
	if (version >= 1)
		gqk_put_i32(w, resp->controller_id);
	nt = count(resp->n_topics);
	gqk_put_array_len(w, nt);
	for (i = 0; i < nt; i++) {
		t = &resp->topics[i];
		gqk_put_i16(w, t->error_code);
		gqk_put_string(w, t->name);
		if (version >= 1)
			gqk_put_bool(w, t->is_internal);
		np = count(t->n_partitions);
		gqk_put_array_len(w, np);
		for (j = 0; j < np; j++) {
			p = &t->partitions[j];
			gqk_put_i16(w, p->error_code);
			gqk_put_i32(w, p->partition_index);
			gqk_put_i32(w, p->leader_id);
			put_i32_array(w, p->n_replicas, p->replicas);
			put_i32_array(w, p->n_isr, p->isr);
		}
	}
}

/*
 * Produce
 */

int
gqk_produce_req_decode(struct gqk_reader *r, int16_t version,
		       struct gqk_arena *a, struct gqk_produce_req *out)
{
	struct gqk_produce_req_topic *t;
	struct gqk_produce_req_partition *p;
	int32_t i, j;

	memset(out, 0, sizeof(*out));
	out->transactional_id = GQK_STR_NULL;
	if (version < 0 || version > 7)
		return GQK_EUNSUPPORTED;
	if (version >= 3)
		gqk_read_nullable_string(r, &out->transactional_id);
	out->acks = gqk_read_i16(r);
	out->timeout_ms = gqk_read_i32(r);
	/* Topic: name (2) + partition count (4). */
	out->topics = read_array(r, a, false, sizeof(*t), 6, &out->n_topics);
	for (i = 0; i < out->n_topics && r->err == 0; i++) {
		t = &out->topics[i];
		gqk_read_string(r, &t->name);
		/* Partition: index (4) + records length (4). */
		t->partitions = read_array(r, a, false, sizeof(*p), 8,
					   &t->n_partitions);
		for (j = 0; j < t->n_partitions && r->err == 0; j++) {
			p = &t->partitions[j];
			p->index = gqk_read_i32(r);
			gqk_read_nullable_bytes(r, &p->records);
		}
	}
	return finish(r);
}

void
gqk_produce_resp_encode(struct gqk_writer *w, int16_t version,
			const struct gqk_produce_resp *resp)
{
	const struct gqk_produce_resp_topic *t;
	const struct gqk_produce_resp_partition *p;
	int32_t i, j, nt, np;

	if (!version_ok(w, version, 0, 7))
		return;
	nt = count(resp->n_topics);
	gqk_put_array_len(w, nt);
	for (i = 0; i < nt; i++) {
		t = &resp->topics[i];
		gqk_put_string(w, t->name);
		np = count(t->n_partitions);
		gqk_put_array_len(w, np);
		for (j = 0; j < np; j++) {
			p = &t->partitions[j];
			gqk_put_i32(w, p->index);
			gqk_put_i16(w, p->error_code);
			gqk_put_i64(w, p->base_offset);
			if (version >= 2)
				gqk_put_i64(w, p->log_append_time_ms);
			if (version >= 5)
				gqk_put_i64(w, p->log_start_offset);
		}
	}
	/* Produce is the one API with ThrottleTimeMs at the end. */
	if (version >= 1)
		gqk_put_i32(w, resp->throttle_time_ms);
}

/*
 * Fetch
 */

int
gqk_fetch_req_decode(struct gqk_reader *r, int16_t version, struct gqk_arena *a,
		     struct gqk_fetch_req *out)
{
	struct gqk_fetch_req_topic *t;
	struct gqk_fetch_req_partition *p;
	struct gqk_fetch_req_forgotten *f;
	int32_t i, j;

	memset(out, 0, sizeof(*out));
	out->session_epoch = -1;
	out->rack_id = GQK_STR("");
	if (version < 4 || version > 11)
		return GQK_EUNSUPPORTED;
	out->replica_id = gqk_read_i32(r);
	out->max_wait_ms = gqk_read_i32(r);
	out->min_bytes = gqk_read_i32(r);
	out->max_bytes = gqk_read_i32(r);
	out->isolation_level = gqk_read_i8(r);
	if (version >= 7) {
		out->session_id = gqk_read_i32(r);
		out->session_epoch = gqk_read_i32(r);
	}
	out->topics = read_array(r, a, false, sizeof(*t), 6, &out->n_topics);
	for (i = 0; i < out->n_topics && r->err == 0; i++) {
		t = &out->topics[i];
		gqk_read_string(r, &t->topic);
		/* Partition: at least partition, offset, max bytes (16). */
		t->partitions = read_array(r, a, false, sizeof(*p), 16,
					   &t->n_partitions);
		for (j = 0; j < t->n_partitions && r->err == 0; j++) {
			p = &t->partitions[j];
			p->partition = gqk_read_i32(r);
			p->current_leader_epoch =
				version >= 9 ? gqk_read_i32(r) : -1;
			p->fetch_offset = gqk_read_i64(r);
			p->log_start_offset =
				version >= 5 ? gqk_read_i64(r) : -1;
			p->partition_max_bytes = gqk_read_i32(r);
		}
	}
	if (version >= 7) {
		out->forgotten = read_array(r, a, false, sizeof(*f), 6,
					    &out->n_forgotten);
		for (i = 0; i < out->n_forgotten && r->err == 0; i++) {
			f = &out->forgotten[i];
			gqk_read_string(r, &f->topic);
			f->partitions = read_i32_array(r, a, &f->n_partitions);
		}
	}
	if (version >= 11)
		gqk_read_string(r, &out->rack_id);
	return finish(r);
}

void
gqk_fetch_resp_encode(struct gqk_writer *w, int16_t version,
		      const struct gqk_fetch_resp *resp)
{
	const struct gqk_fetch_resp_topic *t;
	const struct gqk_fetch_resp_partition *p;
	struct gqk_bytes records;
	int32_t i, j, k, nt, np;

	if (!version_ok(w, version, 4, 11))
		return;
	gqk_put_i32(w, resp->throttle_time_ms);
	if (version >= 7) {
		gqk_put_i16(w, resp->error_code);
		gqk_put_i32(w, resp->session_id);
	}
	nt = count(resp->n_topics);
	gqk_put_array_len(w, nt);
	for (i = 0; i < nt; i++) {
		t = &resp->topics[i];
		gqk_put_string(w, t->topic);
		np = count(t->n_partitions);
		gqk_put_array_len(w, np);
		for (j = 0; j < np; j++) {
			p = &t->partitions[j];
			gqk_put_i32(w, p->partition_index);
			gqk_put_i16(w, p->error_code);
			gqk_put_i64(w, p->high_watermark);
			gqk_put_i64(w, p->last_stable_offset);
			if (version >= 5)
				gqk_put_i64(w, p->log_start_offset);
			gqk_put_array_len(w, p->n_aborted);
			for (k = 0; k < p->n_aborted; k++) {
				gqk_put_i64(w, p->aborted[k].producer_id);
				gqk_put_i64(w, p->aborted[k].first_offset);
			}
			if (version >= 11)
				gqk_put_i32(w, p->preferred_read_replica);
			/* Never null: librdkafka 2.0.2 fails the whole
			 * response on a -1 MessageSetSize. */
			records = p->records;
			if (records.p == NULL)
				records.len = 0;
			gqk_put_bytes(w, records);
		}
	}
}

/*
 * ListOffsets
 */

int
gqk_list_offsets_req_decode(struct gqk_reader *r, int16_t version,
			    struct gqk_arena *a,
			    struct gqk_list_offsets_req *out)
{
	struct gqk_list_offsets_req_topic *t;
	struct gqk_list_offsets_req_partition *p;
	int32_t i, j;

	memset(out, 0, sizeof(*out));
	if (version < 0 || version > 2)
		return GQK_EUNSUPPORTED;
	out->replica_id = gqk_read_i32(r);
	if (version >= 2)
		out->isolation_level = gqk_read_i8(r);
	out->topics = read_array(r, a, false, sizeof(*t), 6, &out->n_topics);
	for (i = 0; i < out->n_topics && r->err == 0; i++) {
		t = &out->topics[i];
		gqk_read_string(r, &t->name);
		/* Partition: index + timestamp (12), v0 + max offsets (16). */
		t->partitions =
			read_array(r, a, false, sizeof(*p),
				   version == 0 ? 16 : 12, &t->n_partitions);
		for (j = 0; j < t->n_partitions && r->err == 0; j++) {
			p = &t->partitions[j];
			p->partition_index = gqk_read_i32(r);
			p->timestamp = gqk_read_i64(r);
			p->max_num_offsets = version == 0 ? gqk_read_i32(r) : 1;
		}
	}
	return finish(r);
}

/* The v0 OldStyleOffsets array of one partition. */
static void
put_old_style_offsets(struct gqk_writer *w,
		      const struct gqk_list_offsets_resp_partition *p)
{
	int32_t k, n;

	if (p->old_style_offsets != NULL) {
		n = count(p->n_old_style_offsets);
		gqk_put_array_len(w, n);
		for (k = 0; k < n; k++)
			gqk_put_i64(w, p->old_style_offsets[k]);
	} else if (p->error_code == GQK_ERR_NONE && p->offset >= 0) {
		gqk_put_array_len(w, 1);
		gqk_put_i64(w, p->offset);
	} else {
		gqk_put_array_len(w, 0);
	}
}

void
gqk_list_offsets_resp_encode(struct gqk_writer *w, int16_t version,
			     const struct gqk_list_offsets_resp *resp)
{
	const struct gqk_list_offsets_resp_topic *t;
	const struct gqk_list_offsets_resp_partition *p;
	int32_t i, j, nt, np;

	if (!version_ok(w, version, 0, 2))
		return;
	if (version >= 2)
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
			gqk_put_i16(w, p->error_code);
			if (version == 0) {
				put_old_style_offsets(w, p);
			} else {
				gqk_put_i64(w, p->timestamp);
				gqk_put_i64(w, p->offset);
			}
		}
	}
}

/*
 * InitProducerId
 */

int
gqk_init_producer_id_req_decode(struct gqk_reader *r, int16_t version,
				struct gqk_arena *a,
				struct gqk_init_producer_id_req *out)
{
	(void)a;
	memset(out, 0, sizeof(*out));
	out->transactional_id = GQK_STR_NULL;
	if (version < 0 || version > 1)
		return GQK_EUNSUPPORTED;
	gqk_read_nullable_string(r, &out->transactional_id);
	out->transaction_timeout_ms = gqk_read_i32(r);
	return finish(r);
}

void
gqk_init_producer_id_resp_encode(struct gqk_writer *w, int16_t version,
				 const struct gqk_init_producer_id_resp *resp)
{
	if (!version_ok(w, version, 0, 1))
		return;
	gqk_put_i32(w, resp->throttle_time_ms);
	gqk_put_i16(w, resp->error_code);
	gqk_put_i64(w, resp->producer_id);
	gqk_put_i16(w, resp->producer_epoch);
}

/*
 * CreateTopics
 */

/* One CreatableTopic's assignments and configs. */
static void
read_creatable_topic(struct gqk_reader *r, struct gqk_arena *a,
		     struct gqk_create_topics_req_topic *t)
{
	struct gqk_create_topics_req_assignment *as;
	struct gqk_create_topics_req_config *c;
	int32_t j;

	gqk_read_string(r, &t->name);
	t->num_partitions = gqk_read_i32(r);
	t->replication_factor = gqk_read_i16(r);
	/* Assignment: index (4) + broker id count (4). */
	t->assignments =
		read_array(r, a, false, sizeof(*as), 8, &t->n_assignments);
	for (j = 0; j < t->n_assignments && r->err == 0; j++) {
		as = &t->assignments[j];
		as->partition_index = gqk_read_i32(r);
		as->broker_ids = read_i32_array(r, a, &as->n_broker_ids);
	}
	/* Config: name (2) + value (2). */
	t->configs = read_array(r, a, false, sizeof(*c), 4, &t->n_configs);
	for (j = 0; j < t->n_configs && r->err == 0; j++) {
		c = &t->configs[j];
		gqk_read_string(r, &c->name);
		gqk_read_nullable_string(r, &c->value);
	}
}

int
gqk_create_topics_req_decode(struct gqk_reader *r, int16_t version,
			     struct gqk_arena *a,
			     struct gqk_create_topics_req *out)
{
	struct gqk_create_topics_req_topic *t;
	int32_t i;

	memset(out, 0, sizeof(*out));
	if (version < 0 || version > 4)
		return GQK_EUNSUPPORTED;
	/* Topic: name 2, partitions 4, replication 2, two counts 8. */
	out->topics = read_array(r, a, false, sizeof(*t), 16, &out->n_topics);
	for (i = 0; i < out->n_topics && r->err == 0; i++)
		read_creatable_topic(r, a, &out->topics[i]);
	out->timeout_ms = gqk_read_i32(r);
	if (version >= 1)
		out->validate_only = gqk_read_bool(r);
	return finish(r);
}

void
gqk_create_topics_resp_encode(struct gqk_writer *w, int16_t version,
			      const struct gqk_create_topics_resp *resp)
{
	const struct gqk_create_topics_resp_topic *t;
	int32_t i, nt;

	if (!version_ok(w, version, 0, 4))
		return;
	if (version >= 2)
		gqk_put_i32(w, resp->throttle_time_ms);
	nt = count(resp->n_topics);
	gqk_put_array_len(w, nt);
	for (i = 0; i < nt; i++) {
		t = &resp->topics[i];
		gqk_put_string(w, t->name);
		gqk_put_i16(w, t->error_code);
		if (version >= 1)
			gqk_put_nullable_string(w, t->error_message);
	}
}

/*
 * DeleteTopics
 */

int
gqk_delete_topics_req_decode(struct gqk_reader *r, int16_t version,
			     struct gqk_arena *a,
			     struct gqk_delete_topics_req *out)
{
	memset(out, 0, sizeof(*out));
	if (version < 0 || version > 3)
		return GQK_EUNSUPPORTED;
	out->topic_names = read_string_array(r, a, false, &out->n_topic_names);
	out->timeout_ms = gqk_read_i32(r);
	return finish(r);
}

void
gqk_delete_topics_resp_encode(struct gqk_writer *w, int16_t version,
			      const struct gqk_delete_topics_resp *resp)
{
	int32_t i, n;

	if (!version_ok(w, version, 0, 3))
		return;
	if (version >= 1)
		gqk_put_i32(w, resp->throttle_time_ms);
	n = count(resp->n_responses);
	gqk_put_array_len(w, n);
	for (i = 0; i < n; i++) {
		gqk_put_string(w, resp->responses[i].name);
		gqk_put_i16(w, resp->responses[i].error_code);
	}
}

/*
 * DescribeConfigs
 */

int
gqk_describe_configs_req_decode(struct gqk_reader *r, int16_t version,
				struct gqk_arena *a,
				struct gqk_describe_configs_req *out)
{
	struct gqk_describe_configs_req_resource *res;
	int32_t i;

	memset(out, 0, sizeof(*out));
	if (version < 0 || version > 2)
		return GQK_EUNSUPPORTED;
	/* Resource: type 1, name 2, key count 4. */
	out->resources =
		read_array(r, a, false, sizeof(*res), 7, &out->n_resources);
	for (i = 0; i < out->n_resources && r->err == 0; i++) {
		res = &out->resources[i];
		res->resource_type = gqk_read_i8(r);
		gqk_read_string(r, &res->resource_name);
		res->configuration_keys = read_string_array(
			r, a, true, &res->n_configuration_keys);
	}
	if (version >= 1)
		out->include_synonyms = gqk_read_bool(r);
	return finish(r);
}

/* One DescribeConfigsResourceResult. */
static void
put_config_entry(struct gqk_writer *w, int16_t version,
		 const struct gqk_describe_configs_entry *c)
{
	const struct gqk_describe_configs_synonym *s;
	int32_t k, ns;

	gqk_put_string(w, c->name);
	gqk_put_nullable_string(w, c->value);
	gqk_put_bool(w, c->read_only);
	if (version == 0)
		gqk_put_bool(w, c->is_default);
	else
		gqk_put_i8(w, c->config_source);
	gqk_put_bool(w, c->is_sensitive);
	if (version == 0)
		return;
	ns = count(c->n_synonyms);
	gqk_put_array_len(w, ns);
	for (k = 0; k < ns; k++) {
		s = &c->synonyms[k];
		gqk_put_string(w, s->name);
		gqk_put_nullable_string(w, s->value);
		gqk_put_i8(w, s->source);
	}
}

void
gqk_describe_configs_resp_encode(struct gqk_writer *w, int16_t version,
				 const struct gqk_describe_configs_resp *resp)
{
	const struct gqk_describe_configs_result *res;
	int32_t i, j, nr, nc;

	if (!version_ok(w, version, 0, 2))
		return;
	gqk_put_i32(w, resp->throttle_time_ms);
	nr = count(resp->n_results);
	gqk_put_array_len(w, nr);
	for (i = 0; i < nr; i++) {
		res = &resp->results[i];
		gqk_put_i16(w, res->error_code);
		gqk_put_nullable_string(w, res->error_message);
		gqk_put_i8(w, res->resource_type);
		gqk_put_string(w, res->resource_name);
		nc = count(res->n_configs);
		gqk_put_array_len(w, nc);
		for (j = 0; j < nc; j++)
			put_config_entry(w, version, &res->configs[j]);
	}
}

/*
 * Dispatch
 */

int
gqk_request_decode(const uint8_t *frame, size_t len, struct gqk_arena *a,
		   struct gqk_header *h, union gqk_request *req)
{
	struct gqk_reader r;
	int16_t v;
	int rv;

	memset(req, 0, sizeof(*req));
	gqk_reader_init(&r, frame, len);
	if ((rv = gqk_header_decode(&r, h)) != 0)
		return rv;
	if (!gqk_api_supported(h->api_key, h->api_version))
		return GQK_EUNSUPPORTED;
	v = h->api_version;
	switch (h->api_key) {
	case GQK_API_VERSIONS:
		return gqk_api_versions_req_decode(&r, v, a,
						   &req->api_versions);
	case GQK_METADATA:
		return gqk_metadata_req_decode(&r, v, a, &req->metadata);
	case GQK_PRODUCE:
		return gqk_produce_req_decode(&r, v, a, &req->produce);
	case GQK_FETCH:
		return gqk_fetch_req_decode(&r, v, a, &req->fetch);
	case GQK_LIST_OFFSETS:
		return gqk_list_offsets_req_decode(&r, v, a,
						   &req->list_offsets);
	case GQK_INIT_PRODUCER_ID:
		return gqk_init_producer_id_req_decode(&r, v, a,
						       &req->init_producer_id);
	case GQK_CREATE_TOPICS:
		return gqk_create_topics_req_decode(&r, v, a,
						    &req->create_topics);
	case GQK_DELETE_TOPICS:
		return gqk_delete_topics_req_decode(&r, v, a,
						    &req->delete_topics);
	case GQK_DESCRIBE_CONFIGS:
		return gqk_describe_configs_req_decode(&r, v, a,
						       &req->describe_configs);
	case GQK_FIND_COORDINATOR:
		return gqk_find_coordinator_req_decode(&r, v, a,
						       &req->find_coordinator);
	case GQK_JOIN_GROUP:
		return gqk_join_group_req_decode(&r, v, a, &req->join_group);
	case GQK_SYNC_GROUP:
		return gqk_sync_group_req_decode(&r, v, a, &req->sync_group);
	case GQK_HEARTBEAT:
		return gqk_heartbeat_req_decode(&r, v, a, &req->heartbeat);
	case GQK_LEAVE_GROUP:
		return gqk_leave_group_req_decode(&r, v, a, &req->leave_group);
	case GQK_OFFSET_COMMIT:
		return gqk_offset_commit_req_decode(&r, v, a,
						    &req->offset_commit);
	case GQK_OFFSET_FETCH:
		return gqk_offset_fetch_req_decode(&r, v, a,
						   &req->offset_fetch);
	case GQK_DESCRIBE_GROUPS:
		return gqk_describe_groups_req_decode(&r, v, a,
						      &req->describe_groups);
	case GQK_LIST_GROUPS:
		return gqk_list_groups_req_decode(&r, v, a, &req->list_groups);
	default:
		/* Unreachable: every advertised key has a case above. */
		return GQK_EUNSUPPORTED;
	}
}
