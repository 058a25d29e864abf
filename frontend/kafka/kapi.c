/* SPDX-License-Identifier: MIT */
/*
 * kapi.c - the message level of the Kafka codec (see kapi.h): the tables
 * of API keys and advertised versions, request and response headers,
 * ApiVersions (whose body is made of that table), and the dispatchers
 * that turn a whole frame into a tagged union and back, in both
 * directions.
 *
 * The dispatchers know no layout: they look up the API's walkers (the
 * per-API bodies in kapi_data.c, kapi_admin.c and kapi_group.c, each
 * written once for both directions, see kapi_internal.h) and run them
 * over the union member, whose address is the union's.
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
	{ GQK_INCREMENTAL_ALTER_CONFIGS, 1, "IncrementalAlterConfigs" },
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
	{ GQK_INCREMENTAL_ALTER_CONFIGS, 0, 0, false },
};

#define N_SUPPORTED (sizeof(gqk_supported) / sizeof(gqk_supported[0]))

const size_t gqk_n_supported = N_SUPPORTED;

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
gqk_request_header_put(struct gqk_writer *w, const struct gqk_header *h)
{
	gqk_put_i16(w, h->api_key);
	gqk_put_i16(w, h->api_version);
	gqk_put_i32(w, h->correlation_id);
	gqk_put_nullable_string(w, h->client_id);
	if (gqk_api_flexible(h->api_key, h->api_version))
		gqk_put_empty_tagged_fields(w);
}

void
gqk_response_header_put(struct gqk_writer *w, const struct gqk_header *h)
{
	gqk_put_i32(w, h->correlation_id);
	/* ApiVersions answers with header v0 whatever its version (KIP-511). */
	if (h->flexible && h->api_key != GQK_API_VERSIONS)
		gqk_put_empty_tagged_fields(w);
}

/*
 * ApiVersions
 */

static void
api_versions_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_api_versions_req *m = msg;

	if (v < 3) {
		if (kio_decoding(io)) {
			m->client_software_name = GQK_STR_NULL;
			m->client_software_version = GQK_STR_NULL;
		}
		return;
	}
	kio_compact_string(io, &m->client_software_name);
	kio_compact_string(io, &m->client_software_version);
	kio_tagged(io);
}

static void
api_versions_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_api_versions_resp *m = msg;
	struct gqk_api_range *k;
	int32_t i;

	kio_i16(io, &m->error_code);
	/* ApiVersion: key, min, max (6), and tagged fields (1) from v3. */
	k = kio_array_of(io, v >= 3, false, sizeof(*k), v >= 3 ? 7 : 6,
			 &m->n_api_keys, m->api_keys);
	KIO_KEEP(io, m->api_keys, k);
	for (i = 0; i < m->n_api_keys && kio_ok(io); i++) {
		kio_i16(io, &k[i].key);
		kio_i16(io, &k[i].min);
		kio_i16(io, &k[i].max);
		if (v >= 3)
			kio_tagged(io);
	}
	if (v >= 1)
		kio_i32(io, &m->throttle_time_ms);
	/* v3 feature tags (SupportedFeatures, ...) are optional: none are
	 * written, and those a broker sends are skipped. */
	if (v >= 3)
		kio_tagged(io);
}

int
gqk_api_versions_req_decode(struct gqk_reader *r, int16_t version,
			    struct gqk_arena *a,
			    struct gqk_api_versions_req *out)
{
	return kio_decode(r, a, GQK_API_VERSIONS, version, api_versions_req,
			  out, sizeof(*out));
}

void
gqk_api_versions_req_encode(struct gqk_writer *w, int16_t version,
			    const struct gqk_api_versions_req *req)
{
	kio_encode(w, GQK_API_VERSIONS, version, api_versions_req, req);
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
	struct gqk_api_range keys[N_SUPPORTED];
	struct gqk_api_versions_resp full;
	size_t i;

	if (resp->api_keys == NULL) {
		full = *resp;
		full.n_api_keys = 0;
		/* Kafka lists no keys in an error response (INVALID_REQUEST,
		 * ...). */
		for (i = 0; i < N_SUPPORTED && resp->error_code == 0; i++) {
			if (groups || !gqk_supported[i].group)
				keys[full.n_api_keys++] = gqk_supported[i];
		}
		full.api_keys = keys;
		resp = &full;
	}
	kio_encode(w, GQK_API_VERSIONS, version, api_versions_resp, resp);
}

void
gqk_api_versions_unsupported_encode(struct gqk_writer *w)
{
	const struct gqk_api_versions_resp resp = {
		.error_code = GQK_ERR_UNSUPPORTED_VERSION,
		.n_api_keys = 1,
		.api_keys = gqk_api_range(GQK_API_VERSIONS),
	};

	gqk_api_versions_resp_encode(w, 0, &resp, false);
}

int
gqk_api_versions_resp_decode(struct gqk_reader *r, int16_t version,
			     struct gqk_arena *a,
			     struct gqk_api_versions_resp *out)
{
	struct gqk_reader start = *r;
	int rv;

	rv = kio_decode(r, a, GQK_API_VERSIONS, version, api_versions_resp, out,
			sizeof(*out));
	if (rv != GQK_EMALFORMED ||
	    !gqk_api_flexible(GQK_API_VERSIONS, version))
		return rv;
	/*
	 * A broker that does not know this flexible version answers with a
	 * v0 body and UNSUPPORTED_VERSION (KAFKA-PROTOCOL.md 1.4; gqd does
	 * the same), which does not parse as the version asked for. Read it
	 * as v0, as Kafka's own client does, but take it only as that answer.
	 */
	*r = start;
	rv = kio_decode(r, a, GQK_API_VERSIONS, 0, api_versions_resp, out,
			sizeof(*out));
	if (rv == 0 && out->error_code != GQK_ERR_UNSUPPORTED_VERSION)
		rv = gqk_reader_fail(r, GQK_EMALFORMED);
	return rv;
}

/*
 * Dispatch
 */

static const struct kio_api *
find_in(const struct kio_api *apis, size_t n, int16_t key)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (apis[i].key == key)
			return &apis[i];
	}
	return NULL;
}

/* The walkers of @key, or NULL. */
static const struct kio_api *
find_walkers(int16_t key)
{
	static const struct kio_api api_versions = { GQK_API_VERSIONS,
						     api_versions_req,
						     api_versions_resp };
	const struct kio_api *api;

	if (key == GQK_API_VERSIONS)
		return &api_versions;
	api = find_in(gqk__data_walkers, gqk__n_data_walkers, key);
	if (api == NULL)
		api = find_in(gqk__admin_walkers, gqk__n_admin_walkers, key);
	if (api == NULL)
		api = find_in(gqk__group_walkers, gqk__n_group_walkers, key);
	return api;
}

int
gqk_request_decode(const uint8_t *frame, size_t len, struct gqk_arena *a,
		   struct gqk_header *h, union gqk_request *req)
{
	const struct kio_api *api;
	struct gqk_reader r;
	int rv;

	memset(req, 0, sizeof(*req));
	gqk_reader_init(&r, frame, len);
	if ((rv = gqk_header_decode(&r, h)) != 0)
		return rv;
	/* Every advertised key has walkers; the check is for the table. */
	api = find_walkers(h->api_key);
	if (api == NULL || !gqk_api_supported(h->api_key, h->api_version))
		return GQK_EUNSUPPORTED;
	return kio_decode(&r, a, h->api_key, h->api_version, api->req, req,
			  sizeof(*req));
}

/*
 * The frame of gqk_request_encode() and gqk_response_encode(): nothing at
 * all for an API or version outside the table, else the size, the header
 * @put writes, and @body, the request or (if @response) response of
 * h->api_key.
 */
static int
encode_frame(struct gqk_writer *w, const struct gqk_header *h,
	     void (*put)(struct gqk_writer *, const struct gqk_header *),
	     bool response, const void *body)
{
	const struct kio_api *api;
	size_t frame;

	api = find_walkers(h->api_key);
	if (api == NULL || !gqk_api_supported(h->api_key, h->api_version)) {
		gqk_writer_fail(w, GQK_EUNSUPPORTED);
		return w->err;
	}
	frame = gqk_frame_begin(w);
	put(w, h);
	if (response && h->api_key == GQK_API_VERSIONS)
		gqk_api_versions_resp_encode(w, h->api_version, body, true);
	else
		kio_encode(w, h->api_key, h->api_version,
			   response ? api->resp : api->req, body);
	gqk_frame_end(w, frame);
	return w->err;
}

int
gqk_request_encode(struct gqk_writer *w, const struct gqk_header *h,
		   const union gqk_request *req)
{
	return encode_frame(w, h, gqk_request_header_put, false, req);
}

int
gqk_response_encode(struct gqk_writer *w, const struct gqk_header *h,
		    const union gqk_response *resp)
{
	return encode_frame(w, h, gqk_response_header_put, true, resp);
}

int
gqk_response_decode(const uint8_t *frame, size_t len,
		    const struct gqk_header *h, struct gqk_arena *a,
		    union gqk_response *resp)
{
	const struct kio_api *api;
	struct gqk_reader r;
	int32_t correlation_id;
	int16_t key = h->api_key, v = h->api_version;

	memset(resp, 0, sizeof(*resp));
	api = find_walkers(key);
	if (api == NULL || !gqk_api_supported(key, v))
		return GQK_EUNSUPPORTED;
	gqk_reader_init(&r, frame, len);
	correlation_id = gqk_read_i32(&r);
	/* Response header v1 has tagged fields; ApiVersions always uses v0. */
	if (key != GQK_API_VERSIONS && gqk_api_flexible(key, v))
		gqk_skip_tagged_fields(&r);
	if (r.err != 0)
		return r.err;
	if (correlation_id != h->correlation_id)
		return GQK_ECORRELATION;
	if (key == GQK_API_VERSIONS)
		return gqk_api_versions_resp_decode(&r, v, a,
						    &resp->api_versions);
	return kio_decode(&r, a, key, v, api->resp, resp, sizeof(*resp));
}
