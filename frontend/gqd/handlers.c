/* SPDX-License-Identifier: MIT */
/*
 * handlers.c - one function per Kafka API, serving a decoded request with
 * libgoqueue's public API and encoding the response: the shared helpers,
 * ApiVersions, Metadata and the dispatch here, the data path
 * (Produce, Fetch, ListOffsets, InitProducerId) in handlers_data.c, the
 * topic admin APIs in handlers_admin.c, the consumer-group APIs in
 * handlers_group.c.
 *
 * Produce goes through gq_produce_records_async() (batches stored as sent,
 * only base offset and leader epoch rewritten); its acknowledgements come
 * back from the node's thread through the server mailbox.  Fetch reads
 * with gq_fetch() and long-polls with gq_fetch_wait_async().  Calls that
 * wait for a Raft commit but have no async form (topic create/delete,
 * producer ids) run in the libuv threadpool.  Every library error maps to
 * the Kafka code clients treat right: retriable conditions are never
 * UNKNOWN_SERVER_ERROR (KAFKA-PROTOCOL.md section 4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "handlers.h"
#include "log.h"
#include "server.h"

#define CLUSTER_ID "goqueue"

/* ---- helpers -------------------------------------------------------- */

/* Map a libgoqueue error to the Kafka error code clients expect. */
int16_t
gqd_kafka_err(int rv)
{
	switch (rv) {
	case 0:
		return GQK_ERR_NONE;
	case GQ_ENOTOPIC:
	case GQ_ENOPARTITION:
		return GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	case GQ_EBADNAME:
		return GQK_ERR_INVALID_TOPIC_EXCEPTION;
	case GQ_EEXIST:
		return GQK_ERR_TOPIC_ALREADY_EXISTS;
	case GQ_ETOOBIG:
		return GQK_ERR_MESSAGE_TOO_LARGE;
	case GQ_ECORRUPT:
		return GQK_ERR_CORRUPT_MESSAGE;
	case GQ_EUNSUPPORTED:
		return GQK_ERR_INVALID_RECORD;
	case GQ_EOFFSET:
		return GQK_ERR_OFFSET_OUT_OF_RANGE;
	case GQ_ESEQUENCE:
		return GQK_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
	case GQ_EFENCED:
		return GQK_ERR_INVALID_PRODUCER_EPOCH;
	case GQ_ENOTLEADER:
	case GQ_ECLOSED:
		return GQK_ERR_NOT_LEADER_OR_FOLLOWER;
	case GQ_ENOTREADY:
		return GQK_ERR_LEADER_NOT_AVAILABLE;
	case GQ_EIO:
	case GQ_ENOSPC:
		return GQK_ERR_KAFKA_STORAGE_ERROR;
	case GQ_EUNKNOWN:
	case GQ_ETIMEDOUT:
	case GQ_ENOMEM:
	case GQ_EBUSY:
		return GQK_ERR_REQUEST_TIMED_OUT; /* retriable */
	case GQ_EINVAL:
		return GQK_ERR_INVALID_REQUEST;
	default:
		return GQK_ERR_UNKNOWN_SERVER_ERROR;
	}
}

/* Copy a protocol string into a topic-name buffer; false if it cannot be
 * a name (null, empty or too long). */
bool
gqd_name_of(struct gqk_str s, char out[GQ_NAME_MAX + 1])
{
	if (s.len <= 0 || s.len > GQ_NAME_MAX)
		return false;
	memcpy(out, s.p, (size_t)s.len);
	out[s.len] = '\0';
	return true;
}

void *
gqd_arena(struct gqd_req *req, size_t n, size_t size)
{
	void *p = NULL;

	if (n > 0 && size <= SIZE_MAX / n)
		p = gqk_arena_alloc(&req->arena, n * size);
	return p;
}

struct gqk_str
gqd_arena_str(struct gqd_req *req, const char *s)
{
	size_t len = strlen(s);
	char *p = gqk_arena_alloc(&req->arena, len + 1);

	if (p == NULL)
		return GQK_STR("");
	memcpy(p, s, len + 1);
	return (struct gqk_str){ p, (int32_t)len };
}

/* Nothing sensible can be answered (out of memory): drop the connection,
 * clients reconnect and retry. */
void
gqd_fail_close(struct gqd_req *req)
{
	req->silent = true;
	req->close_after = true;
	gqd_req_finish(req);
}

/* ---- library completions ---------------------------------------------- */

/* Library callbacks run on the node's loop thread: they record the outcome
 * and post the rest to gqd's loop, where the request lives. */
static void
async_main(void *arg)
{
	struct gqd_async *a = arg;
	struct gqd_req *req = a->req;

	a->fn(a);
	free(a);
	gqd_req_op_done(req);
}

void
gqd_async_post(struct gqd_async *a)
{
	if (gqd_server_post(gqd_req_server(a->req), async_main, a) != 0)
		gqd_log(GQ_LOG_ERROR, "mailbox full: completion lost", "%s",
			"");
}

void
gqd_async_done(void *arg, int status, const char *errmsg)
{
	struct gqd_async *a = arg;

	a->status = status;
	snprintf(a->errmsg, sizeof(a->errmsg), "%s", errmsg);
	gqd_async_post(a);
}

void
gqd_async_producer_id(void *arg, int status, int64_t id, int16_t epoch)
{
	struct gqd_async *a = arg;

	a->status = status;
	a->id = id;
	a->epoch = epoch;
	gqd_async_post(a);
}

struct gqd_async *
gqd_async_new(struct gqd_req *req, void (*fn)(struct gqd_async *), void *data,
	      int index)
{
	struct gqd_async *a = calloc(1, sizeof(*a));

	if (a != NULL) {
		a->req = req;
		a->fn = fn;
		a->data = data;
		a->index = index;
	}
	return a;
}

void
gqd_async_started(struct gqd_async *a, int rv)
{
	if (rv != 0)
		free(a);
	else if (a->parked)
		gqd_req_op_start_parked(a->req);
	else
		gqd_req_op_start(a->req);
}

/* ---- ApiVersions ------------------------------------------------------ */

static void
handle_api_versions(struct gqd_req *req)
{
	struct gqk_api_versions_resp resp = { 0 };

	if (req->hdr.api_version >= 3 &&
	    !gqk_api_versions_req_valid(&req->body.api_versions))
		resp.error_code = GQK_ERR_INVALID_REQUEST;
	gqd_req_error(req, resp.error_code);
	gqd_resp_begin(req);
	gqk_api_versions_resp_encode(&req->resp, req->hdr.api_version, &resp,
				     true);
	gqd_req_finish(req);
}

void
gqd_handle_undecodable(struct gqd_req *req, int err)
{
	if (err == GQK_EUNSUPPORTED && req->hdr.api_key == GQK_API_VERSIONS) {
		/* A version we do not know: answer in the v0 format so the
		 * client retries with v0 (KAFKA-PROTOCOL.md 1.4). */
		gqd_resp_begin(req);
		gqk_api_versions_unsupported_encode(&req->resp);
		gqd_req_finish(req);
		return;
	}
	gqd_req_error(req, err == GQK_EUNSUPPORTED ? GQK_ERR_UNSUPPORTED_VERSION
						   : GQK_ERR_INVALID_REQUEST);
	gqd_log(GQ_LOG_WARN, "undecodable request",
		"api_key=%d api_version=%d error=%s", req->hdr.api_key,
		req->hdr.api_version,
		err == GQK_EUNSUPPORTED ? "unsupported" : "malformed");
	gqd_fail_close(req);
}

/* ---- Metadata --------------------------------------------------------- */

bool
gqd_broker_endpoint(struct gqd_req *req, const struct gq_broker_info *reg,
		    struct gqk_metadata_broker *out)
{
	const struct gqd_config *cfg = gqd_req_config(req);
	char host[256];
	const char *colon;

	if (reg == NULL) {
		out->node_id = cfg->broker_id;
		out->host = gqd_arena_str(req, cfg->advertised.host);
		out->port = cfg->advertised.port;
		out->rack = cfg->rack[0] ? gqd_arena_str(req, cfg->rack)
					 : GQK_STR_NULL;
		return true;
	}
	if (!reg->alive || (colon = strrchr(reg->client_address, ':')) == NULL)
		return false;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - reg->client_address),
		 reg->client_address);
	out->node_id = reg->id;
	out->host = gqd_arena_str(req, host);
	out->port = (int32_t)strtol(colon + 1, NULL, 10);
	out->rack = reg->rack[0] ? gqd_arena_str(req, reg->rack) : GQK_STR_NULL;
	return true;
}

static void
auto_create_done(struct gqd_async *a)
{
	const char *name = a->data;

	if (a->status == 0)
		gqd_log(GQ_LOG_INFO, "topic auto-created", "topic=%s", name);
	else if (a->status != GQ_EEXIST)
		gqd_log(GQ_LOG_WARN, "topic auto-creation failed",
			"topic=%s error=\"%s\"", name, a->errmsg);
	free(a->data);
}

/* Describe @name into @t (arena memory). */
static void
describe_topic(struct gqd_req *req, const char *name, bool may_create,
	       struct gqk_metadata_topic *t)
{
	const struct gqd_config *cfg = gqd_req_config(req);
	struct gq_topic_info *info;
	struct gqk_metadata_partition *parts;
	int32_t n;
	int rv;

	t->name = gqd_arena_str(req, name);
	t->is_internal = strncmp(name, "__", 2) == 0;
	rv = gq_topic_describe(gqd_req_node(req), name, &info);
	if (rv == GQ_ENOTOPIC && may_create && cfg->auto_create_topics) {
		char *copy = strdup(name);
		struct gq_config *base = NULL;
		struct gqd_async *a;

		/* Kafka creates in the background and answers "no leader
		 * yet"; the client asks again. */
		if (copy != NULL && gqd_config_topic_base(cfg, &base) == 0 &&
		    (a = gqd_async_new(req, auto_create_done, copy, 0)) != NULL)
			gqd_async_started(
				a, gq_topic_create_async(
					   gqd_req_node(req), name,
					   cfg->default_partitions,
					   (int16_t)cfg
						   ->default_replication_factor,
					   base, gqd_async_done, a));
		else
			free(copy);
		gq_config_destroy(base);
		t->error_code = GQK_ERR_LEADER_NOT_AVAILABLE;
		return;
	}
	if (rv != 0) {
		t->error_code = gqd_kafka_err(rv);
		return;
	}
	n = gq_topic_info_partitions(info);
	parts = gqd_arena(req, (size_t)n, sizeof(*parts));
	if (parts == NULL) {
		gq_topic_info_destroy(info);
		t->error_code = GQK_ERR_REQUEST_TIMED_OUT;
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		struct gq_partition_info pi;
		int32_t *replicas, *isr;
		int32_t n_isr = 0;

		gq_topic_info_partition(info, i, &pi);
		replicas =
			gqd_arena(req, pi.replica_count + 1, sizeof(*replicas));
		isr = gqd_arena(req, pi.replica_count + 1, sizeof(*isr));
		if (replicas == NULL || isr == NULL) {
			gq_topic_info_destroy(info);
			t->error_code = GQK_ERR_REQUEST_TIMED_OUT;
			return;
		}
		/* In sync: the replicas on live nodes (Raft followers catch
		 * up by themselves; a majority holds every commit). */
		for (uint32_t j = 0; j < pi.replica_count; j++) {
			replicas[j] = pi.replicas[j];
			if (pi.live_mask & (1u << j))
				isr[n_isr++] = pi.replicas[j];
		}
		parts[i].partition_index = i;
		parts[i].leader_id = pi.leader;
		parts[i].error_code = pi.leader < 0
					      ? GQK_ERR_LEADER_NOT_AVAILABLE
					      : GQK_ERR_NONE;
		parts[i].n_replicas = (int32_t)pi.replica_count;
		parts[i].replicas = replicas;
		parts[i].n_isr = n_isr;
		parts[i].isr = isr;
	}
	t->n_partitions = n;
	t->partitions = parts;
	gq_topic_info_destroy(info);
}

static void
handle_metadata(struct gqd_req *req)
{
	const struct gqk_metadata_req *m = &req->body.metadata;
	const struct gqd_config *cfg = gqd_req_config(req);
	struct gqk_metadata_resp resp = { 0 };
	struct gqk_metadata_broker *brokers;
	struct gq_broker_info *reg = NULL;
	size_t n_reg = 0;
	int32_t n_brokers;
	struct gqk_metadata_topic *topics = NULL;
	char **names = NULL;
	size_t n_names = 0;
	int32_t n = 0;
	/* Before v4 every Metadata request may create; v4 says so itself. */
	bool may_create =
		req->hdr.api_version < 4 || m->allow_auto_topic_creation;

	if (gq_cluster_brokers(gqd_req_node(req), &reg, &n_reg) != 0 ||
	    (brokers = gqd_arena(req, n_reg + 1, sizeof(*brokers))) == NULL)
		goto nomem;
	/* This node as it listens, then every other live node as it
	 * registered with the controller. */
	gqd_broker_endpoint(req, NULL, &brokers[0]);
	n_brokers = 1;
	for (size_t i = 0; i < n_reg; i++)
		if (reg[i].id != cfg->broker_id &&
		    gqd_broker_endpoint(req, &reg[i], &brokers[n_brokers]))
			n_brokers++;
	gq_cluster_brokers_free(reg);
	reg = NULL;
	if (m->all_topics) {
		if (gq_topic_list(gqd_req_node(req), &names, &n_names) != 0)
			goto nomem;
		n = (int32_t)n_names;
	} else {
		n = m->n_topics;
	}
	if (n > 0 &&
	    (topics = gqd_arena(req, (size_t)n, sizeof(*topics))) == NULL)
		goto nomem;
	for (int32_t i = 0; i < n; i++) {
		char name[GQ_NAME_MAX + 1];

		if (m->all_topics) {
			describe_topic(req, names[i], false, &topics[i]);
		} else if (!gqd_name_of(m->topics[i], name)) {
			topics[i].name = m->topics[i];
			topics[i].error_code = GQK_ERR_INVALID_TOPIC_EXCEPTION;
		} else {
			describe_topic(req, name, may_create, &topics[i]);
		}
	}
	gq_topic_list_free(names, n_names);
	for (int32_t i = 0; i < n; i++)
		gqd_req_error(req, topics[i].error_code);
	resp.n_brokers = n_brokers;
	resp.brokers = brokers;
	resp.cluster_id = GQK_STR(CLUSTER_ID);
	resp.controller_id = gq_cluster_controller(gqd_req_node(req));
	resp.n_topics = n;
	resp.topics = topics;
	gqd_resp_begin(req);
	gqk_metadata_resp_encode(&req->resp, req->hdr.api_version, &resp);
	gqd_req_finish(req);
	return;
nomem:
	gq_cluster_brokers_free(reg);
	gq_topic_list_free(names, n_names);
	gqd_fail_close(req);
}

/* ---- dispatch ----------------------------------------------------------- */

void
gqd_handle(struct gqd_req *req)
{
	switch (req->hdr.api_key) {
	case GQK_API_VERSIONS:
		handle_api_versions(req);
		break;
	case GQK_METADATA:
		handle_metadata(req);
		break;
	case GQK_PRODUCE:
		gqd_handle_produce(req);
		break;
	case GQK_FETCH:
		gqd_handle_fetch(req);
		break;
	case GQK_LIST_OFFSETS:
		gqd_handle_list_offsets(req);
		break;
	case GQK_INIT_PRODUCER_ID:
		gqd_handle_init_producer_id(req);
		break;
	case GQK_CREATE_TOPICS:
		gqd_handle_create_topics(req);
		break;
	case GQK_DELETE_TOPICS:
		gqd_handle_delete_topics(req);
		break;
	case GQK_DESCRIBE_CONFIGS:
		gqd_handle_describe_configs(req);
		break;
	case GQK_INCREMENTAL_ALTER_CONFIGS:
		gqd_handle_incremental_alter_configs(req);
		break;
	case GQK_FIND_COORDINATOR:
		gqd_handle_find_coordinator(req);
		break;
	case GQK_JOIN_GROUP:
		gqd_handle_join_group(req);
		break;
	case GQK_SYNC_GROUP:
		gqd_handle_sync_group(req);
		break;
	case GQK_HEARTBEAT:
		gqd_handle_heartbeat(req);
		break;
	case GQK_LEAVE_GROUP:
		gqd_handle_leave_group(req);
		break;
	case GQK_OFFSET_COMMIT:
		gqd_handle_offset_commit(req);
		break;
	case GQK_OFFSET_FETCH:
		gqd_handle_offset_fetch(req);
		break;
	case GQK_DESCRIBE_GROUPS:
		gqd_handle_describe_groups(req);
		break;
	case GQK_LIST_GROUPS:
		gqd_handle_list_groups(req);
		break;
	default:
		/* Every key the decoder accepts is served above. */
		gqd_handle_undecodable(req, GQK_EUNSUPPORTED);
		break;
	}
}
