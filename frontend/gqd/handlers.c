/* SPDX-License-Identifier: MIT */
/*
 * handlers.c - one function per Kafka API, serving a decoded request with
 * libgoqueue's public API and encoding the response.
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
#include "log.h"
#include "server.h"

#define CLUSTER_ID "goqueue"

/* ---- helpers -------------------------------------------------------- */

/* Map a libgoqueue error to the Kafka error code clients expect. */
static int16_t
kafka_err(int rv)
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
static bool
name_of(struct gqk_str s, char out[GQ_NAME_MAX + 1])
{
	if (s.len <= 0 || s.len > GQ_NAME_MAX)
		return false;
	memcpy(out, s.p, (size_t)s.len);
	out[s.len] = '\0';
	return true;
}

static void *
arena(struct gqd_req *req, size_t n, size_t size)
{
	void *p = NULL;

	if (n > 0 && size <= SIZE_MAX / n)
		p = gqk_arena_alloc(&req->arena, n * size);
	return p;
}

static struct gqk_str
arena_str(struct gqd_req *req, const char *s)
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
static void
fail_close(struct gqd_req *req)
{
	req->silent = true;
	req->close_after = true;
	gqd_req_finish(req);
}

/* ---- blocking library calls in the threadpool ------------------------ */

struct blocking {
	uv_work_t work;
	struct gqd_req *req;
	void (*run)(struct blocking *b);  /* threadpool */
	void (*done)(struct blocking *b); /* loop */
	void *data;
};

static void
blocking_work(uv_work_t *w)
{
	struct blocking *b = w->data;

	b->run(b);
}

static void
blocking_after(uv_work_t *w, int status)
{
	struct blocking *b = w->data;
	struct gqd_req *req = b->req;

	(void)status;
	b->done(b);
	free(b);
	gqd_req_op_done(req);
}

static int
run_blocking(struct gqd_req *req, void (*run)(struct blocking *),
	     void (*done)(struct blocking *), void *data)
{
	struct blocking *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	b->req = req;
	b->run = run;
	b->done = done;
	b->data = data;
	b->work.data = b;
	if (uv_queue_work(gqd_req_loop(req), &b->work, blocking_work,
			  blocking_after) != 0) {
		free(b);
		return -EAGAIN;
	}
	gqd_req_op_start(req);
	return 0;
}

/* ---- ApiVersions ------------------------------------------------------ */

static void
handle_api_versions(struct gqd_req *req)
{
	struct gqk_api_versions_resp resp = { 0 };

	if (req->hdr.api_version >= 3 &&
	    !gqk_api_versions_req_valid(&req->body.api_versions))
		resp.error_code = GQK_ERR_INVALID_REQUEST;
	gqd_resp_begin(req);
	gqk_api_versions_resp_encode(&req->resp, req->hdr.api_version, &resp,
				     false);
	gqd_req_finish(req);
}

/* FindCoordinator is advertised from the start (librdkafka gates LZ4 and
 * its group support on it) while groups are not served yet (#5): answer
 * COORDINATOR_NOT_AVAILABLE, which clients retry, instead of dropping the
 * connection.  Layout: KAFKA-PROTOCOL.md 1.5. */
static bool
answer_find_coordinator(struct gqd_req *req)
{
	struct gqk_reader r;
	struct gqk_header h;
	struct gqk_str key;
	int16_t v = req->hdr.api_version;

	if (req->hdr.api_key != GQK_FIND_COORDINATOR || v < 0 || v > 2)
		return false;
	gqk_reader_init(&r, req->frame, req->frame_len);
	if (gqk_header_decode(&r, &h) != 0)
		return false;
	gqk_read_string(&r, &key);
	if (v >= 1)
		gqk_read_i8(&r); /* key type */
	if (r.err != 0 || gqk_reader_remaining(&r) != 0)
		return false;
	gqd_resp_begin(req);
	if (v >= 1)
		gqk_put_i32(&req->resp, 0); /* throttle */
	gqk_put_i16(&req->resp, GQK_ERR_COORDINATOR_NOT_AVAILABLE);
	if (v >= 1)
		gqk_put_nullable_string(
			&req->resp, GQK_STR("consumer groups are not served "
					    "yet"));
	gqk_put_i32(&req->resp, -1);
	gqk_put_string(&req->resp, GQK_STR(""));
	gqk_put_i32(&req->resp, -1);
	gqd_req_finish(req);
	return true;
}

void
gqd_handle_undecodable(struct gqd_req *req, int err)
{
	if (err == GQK_EUNSUPPORTED && answer_find_coordinator(req))
		return;
	if (err == GQK_EUNSUPPORTED && req->hdr.api_key == GQK_API_VERSIONS) {
		/* A version we do not know: answer in the v0 format so the
		 * client retries with v0 (KAFKA-PROTOCOL.md 1.4). */
		gqd_resp_begin(req);
		gqk_api_versions_unsupported_encode(&req->resp);
		gqd_req_finish(req);
		return;
	}
	gqd_log(GQ_LOG_WARN, "undecodable request",
		"api_key=%d api_version=%d error=%s", req->hdr.api_key,
		req->hdr.api_version,
		err == GQK_EUNSUPPORTED ? "unsupported" : "malformed");
	fail_close(req);
}

/* ---- Metadata --------------------------------------------------------- */

struct auto_create {
	char name[GQ_NAME_MAX + 1];
	int32_t partitions;
	int rv;
};

static void
auto_create_run(struct blocking *b)
{
	struct auto_create *ac = b->data;

	ac->rv = gq_topic_create(gqd_req_node(b->req), ac->name, ac->partitions,
				 1, NULL);
}

static void
auto_create_done(struct blocking *b)
{
	struct auto_create *ac = b->data;

	if (ac->rv == 0)
		gqd_log(GQ_LOG_INFO, "topic auto-created",
			"topic=%s partitions=%d", ac->name, ac->partitions);
	else if (ac->rv != GQ_EEXIST)
		gqd_log(GQ_LOG_WARN, "topic auto-creation failed",
			"topic=%s error=\"%s\"", ac->name, gq_strerror(ac->rv));
	free(ac);
}

/* Describe @name into @t (arena memory). */
static void
describe_topic(struct gqd_req *req, const char *name, bool may_create,
	       struct gqk_metadata_topic *t)
{
	const struct gqd_config *cfg = gqd_req_config(req);
	struct gq_topic_info *info;
	struct gqk_metadata_partition *parts;
	int32_t *self;
	int32_t n;
	int rv;

	t->name = arena_str(req, name);
	t->is_internal = strncmp(name, "__", 2) == 0;
	rv = gq_topic_describe(gqd_req_node(req), name, &info);
	if (rv == GQ_ENOTOPIC && may_create && cfg->auto_create_topics) {
		struct auto_create *ac = calloc(1, sizeof(*ac));

		/* Kafka creates in the background and answers "no leader
		 * yet"; the client asks again. */
		if (ac != NULL) {
			snprintf(ac->name, sizeof(ac->name), "%s", name);
			ac->partitions = cfg->default_partitions;
			if (run_blocking(req, auto_create_run, auto_create_done,
					 ac) != 0)
				free(ac);
		}
		t->error_code = GQK_ERR_LEADER_NOT_AVAILABLE;
		return;
	}
	if (rv != 0) {
		t->error_code = kafka_err(rv);
		return;
	}
	n = gq_topic_info_partitions(info);
	parts = arena(req, (size_t)n, sizeof(*parts));
	self = arena(req, 1, sizeof(*self));
	if (parts == NULL || self == NULL) {
		gq_topic_info_destroy(info);
		t->error_code = GQK_ERR_REQUEST_TIMED_OUT;
		return;
	}
	*self = cfg->broker_id;
	for (int32_t i = 0; i < n; i++) {
		struct gq_partition_info pi;

		gq_topic_info_partition(info, i, &pi);
		parts[i].partition_index = i;
		parts[i].leader_id = pi.leader;
		parts[i].error_code = pi.leader < 0
					      ? GQK_ERR_LEADER_NOT_AVAILABLE
					      : GQK_ERR_NONE;
		parts[i].n_replicas = 1;
		parts[i].replicas = self;
		parts[i].n_isr = pi.leader < 0 ? 0 : 1;
		parts[i].isr = self;
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
	struct gqk_metadata_broker *broker;
	struct gqk_metadata_topic *topics = NULL;
	char **names = NULL;
	size_t n_names = 0;
	int32_t n = 0;
	/* Before v4 every Metadata request may create; v4 says so itself. */
	bool may_create =
		req->hdr.api_version < 4 || m->allow_auto_topic_creation;

	broker = arena(req, 1, sizeof(*broker));
	if (broker == NULL)
		goto nomem;
	broker->node_id = cfg->broker_id;
	broker->host = arena_str(req, cfg->advertised.host);
	broker->port = cfg->advertised.port;
	broker->rack = GQK_STR_NULL;
	if (m->all_topics) {
		if (gq_topic_list(gqd_req_node(req), &names, &n_names) != 0)
			goto nomem;
		n = (int32_t)n_names;
	} else {
		n = m->n_topics;
	}
	if (n > 0 && (topics = arena(req, (size_t)n, sizeof(*topics))) == NULL)
		goto nomem;
	for (int32_t i = 0; i < n; i++) {
		char name[GQ_NAME_MAX + 1];

		if (m->all_topics) {
			describe_topic(req, names[i], false, &topics[i]);
		} else if (!name_of(m->topics[i], name)) {
			topics[i].name = m->topics[i];
			topics[i].error_code = GQK_ERR_INVALID_TOPIC_EXCEPTION;
		} else {
			describe_topic(req, name, may_create, &topics[i]);
		}
	}
	gq_topic_list_free(names, n_names);
	resp.n_brokers = 1;
	resp.brokers = broker;
	resp.cluster_id = GQK_STR(CLUSTER_ID);
	resp.controller_id = cfg->broker_id;
	resp.n_topics = n;
	resp.topics = topics;
	gqd_resp_begin(req);
	gqk_metadata_resp_encode(&req->resp, req->hdr.api_version, &resp);
	gqd_req_finish(req);
	return;
nomem:
	gq_topic_list_free(names, n_names);
	fail_close(req);
}

/* ---- Produce ---------------------------------------------------------- */

struct produce_state {
	struct gqk_produce_resp resp;
	struct gqk_produce_resp_topic *topics;
	int32_t waiting; /* partitions not acknowledged yet */
	bool any_error;
};

struct produce_ack {
	struct gqd_req *req;
	struct gqk_produce_resp_partition *part;
	char topic[GQ_NAME_MAX + 1];
	int status;
	gq_offset base;
};

/* Test hook: GQD_TEST_DROP_PRODUCE_RESPONSES=N loses every Nth produce
 * response after the data is stored (the connection closes instead), as a
 * network failure would, so tests can check that idempotent producers
 * retry without duplicates.  Never set in production. */
static bool
drop_this_response(void)
{
	static long every = -1;
	static long count;
	const char *v;

	if (every < 0) {
		v = getenv("GQD_TEST_DROP_PRODUCE_RESPONSES");
		every = v != NULL ? atol(v) : 0;
		if (every > 0)
			gqd_log(GQ_LOG_WARN, "test hook active",
				"drop_produce_responses_every=%ld", every);
	}
	return every > 0 && ++count % every == 0;
}

static void
produce_respond(struct gqd_req *req)
{
	struct produce_state *st = req->state;

	if (!req->silent && drop_this_response()) {
		req->silent = true;
		req->close_after = true;
		gqd_req_finish(req);
		return;
	}
	if (req->silent) {
		/* acks=0: no response; a failure closes the connection, the
		 * only signal such a producer gets (as Kafka does). */
		req->close_after = st->any_error;
		gqd_req_finish(req);
		return;
	}
	gqd_resp_begin(req);
	gqk_produce_resp_encode(&req->resp, req->hdr.api_version, &st->resp);
	gqd_req_finish(req);
}

static void
produce_settle(struct gqd_req *req, struct gqk_produce_resp_partition *p,
	       const char *topic, int rv, gq_offset base)
{
	struct produce_state *st = req->state;

	p->error_code = kafka_err(rv);
	p->base_offset = rv == 0 ? base : -1;
	p->log_append_time_ms = -1;
	p->log_start_offset = -1;
	if (rv == 0) {
		gq_offset ls;

		if (gq_list_offsets(gqd_req_node(req), topic, p->index,
				    GQ_OFFSET_EARLIEST, &ls) == 0)
			p->log_start_offset = ls;
	} else {
		st->any_error = true;
	}
}

/* On gqd's loop: one partition's outcome. */
static void
produce_ack_main(void *arg)
{
	struct produce_ack *a = arg;
	struct gqd_req *req = a->req;
	struct produce_state *st = req->state;

	produce_settle(req, a->part, a->topic, a->status, a->base);
	free(a);
	if (--st->waiting == 0)
		produce_respond(req);
	gqd_req_op_done(req);
}

/* On the node's loop thread: forward to gqd's loop. */
static void
produce_ack(void *arg, int status, int32_t partition, gq_offset base)
{
	struct produce_ack *a = arg;

	(void)partition;
	a->status = status;
	a->base = base;
	if (gqd_server_post(gqd_req_server(a->req), produce_ack_main, a) != 0)
		gqd_log(GQ_LOG_ERROR, "mailbox full: produce ack lost", "%s",
			"");
}

/* Checks Kafka makes on a partition's records before appending.  Produce
 * v0-v2 is advertised only so that librdkafka compresses (KAFKA-PROTOCOL.md
 * 1.3); their message formats (magic 0/1) are answered with
 * UNSUPPORTED_FOR_MESSAGE_FORMAT per partition. */
static int16_t
check_records(struct gqd_req *req, struct gqk_bytes rec)
{
	const uint8_t *b = rec.p;
	uint16_t attrs;

	/* The magic byte sits at offset 16 in every message format. */
	if (rec.len < 17)
		return GQK_ERR_CORRUPT_MESSAGE;
	if (b[16] != 2)
		return GQK_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
	if (rec.len < 61)
		return GQK_ERR_CORRUPT_MESSAGE;
	attrs = (uint16_t)(b[21] << 8 | b[22]);
	if ((attrs & 0x07) == 4 && req->hdr.api_version < 7)
		return GQK_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	if (attrs & 0x30) /* transactional or control: no transactions */
		return GQK_ERR_INVALID_RECORD;
	return GQK_ERR_NONE;
}

static void
produce_cleanup(struct gqd_req *req)
{
	free(req->state);
	req->state = NULL;
}

static void
handle_produce(struct gqd_req *req)
{
	const struct gqk_produce_req *pr = &req->body.produce;
	struct produce_state *st;
	bool acks_ok = pr->acks == -1 || pr->acks == 0 || pr->acks == 1;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		fail_close(req);
		return;
	}
	req->state = st;
	req->cleanup = produce_cleanup;
	req->silent = pr->acks == 0;
	st->topics = arena(req, (size_t)pr->n_topics, sizeof(*st->topics));
	if (pr->n_topics > 0 && st->topics == NULL) {
		fail_close(req);
		return;
	}
	st->resp.n_topics = pr->n_topics;
	st->resp.topics = st->topics;
	st->waiting = 1; /* held until every partition is submitted */
	for (int32_t i = 0; i < pr->n_topics; i++) {
		const struct gqk_produce_req_topic *t = &pr->topics[i];
		struct gqk_produce_resp_partition *parts;
		char name[GQ_NAME_MAX + 1];
		bool named = name_of(t->name, name);

		parts = arena(req, (size_t)t->n_partitions, sizeof(*parts));
		if (t->n_partitions > 0 && parts == NULL) {
			fail_close(req);
			return;
		}
		st->topics[i].name = t->name;
		st->topics[i].n_partitions = t->n_partitions;
		st->topics[i].partitions = parts;
		for (int32_t j = 0; j < t->n_partitions; j++) {
			const struct gqk_produce_req_partition *p =
				&t->partitions[j];
			struct produce_ack *a;
			int16_t err = GQK_ERR_NONE;
			int rv;

			parts[j].index = p->index;
			parts[j].base_offset = -1;
			parts[j].log_append_time_ms = -1;
			parts[j].log_start_offset = -1;
			if (!acks_ok)
				err = GQK_ERR_INVALID_REQUIRED_ACKS;
			else if (!gqk_str_is_null(pr->transactional_id))
				err = GQK_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
			else if (!named)
				err = GQK_ERR_INVALID_TOPIC_EXCEPTION;
			else
				err = check_records(req, p->records);
			if (err != GQK_ERR_NONE) {
				parts[j].error_code = err;
				st->any_error = true;
				continue;
			}
			if ((a = calloc(1, sizeof(*a))) == NULL) {
				parts[j].error_code = GQK_ERR_REQUEST_TIMED_OUT;
				st->any_error = true;
				continue;
			}
			a->req = req;
			a->part = &parts[j];
			snprintf(a->topic, sizeof(a->topic), "%s", name);
			rv = gq_produce_records_async(
				gqd_req_node(req), name, p->index, p->records.p,
				(size_t)p->records.len, produce_ack, a);
			if (rv != 0) {
				free(a);
				produce_settle(req, &parts[j], name, rv, -1);
				continue;
			}
			st->waiting++;
			gqd_req_op_start(req);
		}
	}
	if (--st->waiting == 0)
		produce_respond(req);
}

/* ---- Fetch ------------------------------------------------------------ */

struct fetch_state {
	struct gq_fetch **fetches; /* per partition, NULL if none */
	size_t n_fetches;
	bool answered;
};

struct fetch_wake {
	struct gqd_req *req;
	int status;
};

static void
fetch_release(struct fetch_state *st)
{
	for (size_t i = 0; i < st->n_fetches; i++) {
		gq_fetch_destroy(st->fetches[i]);
		st->fetches[i] = NULL;
	}
}

static void
fetch_cleanup(struct gqd_req *req)
{
	struct fetch_state *st = req->state;

	if (st != NULL) {
		fetch_release(st);
		free(st->fetches);
		free(st);
	}
	req->state = NULL;
}

/* Read every requested partition; returns the bytes gathered, or -1
 * when out of memory.  Fills @resp. */
static int64_t
fetch_all(struct gqd_req *req, struct gqk_fetch_resp *resp)
{
	const struct gqk_fetch_req *fr = &req->body.fetch;
	struct fetch_state *st = req->state;
	struct gqk_fetch_resp_topic *topics;
	int64_t budget = fr->max_bytes > 0 ? fr->max_bytes : INT32_MAX;
	int64_t total = 0;
	size_t k = 0;

	topics = arena(req, (size_t)fr->n_topics, sizeof(*topics));
	if (fr->n_topics > 0 && topics == NULL)
		return -1;
	resp->n_topics = fr->n_topics;
	resp->topics = topics;
	for (int32_t i = 0; i < fr->n_topics; i++) {
		const struct gqk_fetch_req_topic *t = &fr->topics[i];
		struct gqk_fetch_resp_partition *parts;
		char name[GQ_NAME_MAX + 1];
		bool named = name_of(t->topic, name);

		parts = arena(req, (size_t)t->n_partitions, sizeof(*parts));
		if (t->n_partitions > 0 && parts == NULL)
			return -1;
		topics[i].topic = t->topic;
		topics[i].n_partitions = t->n_partitions;
		topics[i].partitions = parts;
		for (int32_t j = 0; j < t->n_partitions; j++, k++) {
			const struct gqk_fetch_req_partition *p =
				&t->partitions[j];
			struct gqk_fetch_resp_partition *o = &parts[j];
			struct gq_fetch *f = NULL;
			size_t max;
			int rv;

			o->partition_index = p->partition;
			o->high_watermark = -1;
			o->last_stable_offset = -1;
			o->log_start_offset = -1;
			o->preferred_read_replica = -1;
			o->n_aborted = 0;
			o->records =
				(struct gqk_bytes){ (const uint8_t *)"", 0 };
			if (!named) {
				o->error_code =
					GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			/* KIP-74: the first batch comes whole even when it
			 * is larger than the limits; later ones must fit. */
			max = (size_t)(p->partition_max_bytes > 0
					       ? p->partition_max_bytes
					       : 1);
			if (total > 0 && (int64_t)max > budget - total)
				max = budget - total > 0
					      ? (size_t)(budget - total)
					      : 0;
			if (max == 0) {
				gq_offset hw;

				if (gq_list_offsets(gqd_req_node(req), name,
						    p->partition,
						    GQ_OFFSET_LATEST, &hw) == 0)
					o->high_watermark =
						o->last_stable_offset = hw;
				continue;
			}
			rv = gq_fetch(gqd_req_node(req), name, p->partition,
				      p->fetch_offset, max, &f);
			if (rv != 0) {
				o->error_code = kafka_err(rv);
				continue;
			}
			st->fetches[k] = f;
			o->high_watermark = gq_fetch_high_watermark(f);
			o->last_stable_offset = o->high_watermark;
			o->log_start_offset = gq_fetch_log_start(f);
			{
				const void *data;
				size_t len;

				gq_fetch_records(f, &data, &len);
				if (len > 0)
					o->records = (struct gqk_bytes){
						data, (int32_t)len
					};
				total += (int64_t)len;
			}
		}
	}
	return total;
}

static void
fetch_respond(struct gqd_req *req)
{
	struct fetch_state *st = req->state;
	struct gqk_fetch_resp resp = { 0 };
	int64_t total;

	st->answered = true;
	fetch_release(st);
	if ((total = fetch_all(req, &resp)) < 0) {
		fail_close(req);
		return;
	}
	gqd_resp_begin(req);
	gqk_fetch_resp_encode(&req->resp, req->hdr.api_version, &resp);
	fetch_release(st); /* the response holds a copy of the bytes */
	gqd_req_finish(req);
}

static void
fetch_wake_main(void *arg)
{
	struct fetch_wake *w = arg;
	struct gqd_req *req = w->req;
	struct fetch_state *st = req->state;

	free(w);
	/* The first wake-up (data or the deadline) answers; the others only
	 * release the request. */
	if (!st->answered && req->conn != NULL)
		fetch_respond(req);
	gqd_req_op_done(req);
}

static void
fetch_wake(void *arg, int status)
{
	struct fetch_wake *w = arg;

	w->status = status;
	if (gqd_server_post(gqd_req_server(w->req), fetch_wake_main, w) != 0)
		gqd_log(GQ_LOG_ERROR, "mailbox full: fetch wake-up lost", "%s",
			"");
}

static void
handle_fetch(struct gqd_req *req)
{
	const struct gqk_fetch_req *fr = &req->body.fetch;
	struct gqk_fetch_resp resp = { 0 };
	struct fetch_state *st;
	size_t n = 0;
	int64_t total;
	int waits = 0;

	for (int32_t i = 0; i < fr->n_topics; i++)
		n += (size_t)fr->topics[i].n_partitions;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->fetches = calloc(n ? n : 1, sizeof(*st->fetches))) == NULL) {
		free(st);
		fail_close(req);
		return;
	}
	st->n_fetches = n;
	req->state = st;
	req->cleanup = fetch_cleanup;
	if ((total = fetch_all(req, &resp)) < 0) {
		fail_close(req);
		return;
	}
	if (total >= (fr->min_bytes > 0 ? fr->min_bytes : 1) ||
	    fr->max_wait_ms <= 0) {
		st->answered = true;
		gqd_resp_begin(req);
		gqk_fetch_resp_encode(&req->resp, req->hdr.api_version, &resp);
		fetch_release(st);
		gqd_req_finish(req);
		return;
	}
	/* Long poll: wait on every readable partition at its offset. */
	fetch_release(st);
	for (int32_t i = 0; i < fr->n_topics; i++) {
		const struct gqk_fetch_req_topic *t = &fr->topics[i];
		char name[GQ_NAME_MAX + 1];

		if (!name_of(t->topic, name))
			continue;
		for (int32_t j = 0; j < t->n_partitions; j++) {
			struct fetch_wake *w = calloc(1, sizeof(*w));

			if (w == NULL)
				continue;
			w->req = req;
			if (gq_fetch_wait_async(
				    gqd_req_node(req), name,
				    t->partitions[j].partition,
				    t->partitions[j].fetch_offset < 0
					    ? 0
					    : t->partitions[j].fetch_offset,
				    (uint32_t)fr->max_wait_ms, fetch_wake,
				    w) != 0) {
				free(w);
				continue;
			}
			gqd_req_op_start(req);
			waits++;
		}
	}
	if (waits == 0)
		fetch_respond(req);
}

/* ---- ListOffsets ------------------------------------------------------ */

static void
handle_list_offsets(struct gqd_req *req)
{
	const struct gqk_list_offsets_req *lr = &req->body.list_offsets;
	struct gqk_list_offsets_resp resp = { 0 };
	struct gqk_list_offsets_resp_topic *topics;

	topics = arena(req, (size_t)lr->n_topics, sizeof(*topics));
	if (lr->n_topics > 0 && topics == NULL) {
		fail_close(req);
		return;
	}
	for (int32_t i = 0; i < lr->n_topics; i++) {
		const struct gqk_list_offsets_req_topic *t = &lr->topics[i];
		struct gqk_list_offsets_resp_partition *parts;
		char name[GQ_NAME_MAX + 1];
		bool named = name_of(t->name, name);

		parts = arena(req, (size_t)t->n_partitions, sizeof(*parts));
		if (t->n_partitions > 0 && parts == NULL) {
			fail_close(req);
			return;
		}
		topics[i].name = t->name;
		topics[i].n_partitions = t->n_partitions;
		topics[i].partitions = parts;
		for (int32_t j = 0; j < t->n_partitions; j++) {
			const struct gqk_list_offsets_req_partition *p =
				&t->partitions[j];
			struct gqk_list_offsets_resp_partition *o = &parts[j];
			gq_offset off = -1, hw = -1;
			int64_t *old;
			int rv;

			o->partition_index = p->partition_index;
			o->timestamp = -1;
			o->offset = -1;
			if (!named) {
				o->error_code =
					GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			rv = gq_list_offsets(
				gqd_req_node(req), name, p->partition_index,
				p->timestamp < 0 ? p->timestamp : p->timestamp,
				&off);
			if (rv == 0 && p->timestamp >= 0 &&
			    gq_list_offsets(gqd_req_node(req), name,
					    p->partition_index,
					    GQ_OFFSET_LATEST, &hw) == 0 &&
			    off >= hw)
				off = -1; /* no message at or after it */
			o->error_code = kafka_err(rv);
			o->offset = rv == 0 ? off : -1;
			if (req->hdr.api_version == 0 && rv == 0 && off >= 0 &&
			    (old = arena(req, 1, sizeof(*old))) != NULL) {
				*old = off;
				o->n_old_style_offsets = 1;
				o->old_style_offsets = old;
			}
		}
	}
	resp.n_topics = lr->n_topics;
	resp.topics = topics;
	gqd_resp_begin(req);
	gqk_list_offsets_resp_encode(&req->resp, req->hdr.api_version, &resp);
	gqd_req_finish(req);
}

/* ---- InitProducerId --------------------------------------------------- */

struct pid_result {
	int rv;
	int64_t id;
	int16_t epoch;
};

static void
pid_run(struct blocking *b)
{
	struct pid_result *r = b->data;
	struct gq_producer *pr;

	r->rv = gq_producer_create(gqd_req_node(b->req), &pr);
	if (r->rv == 0) {
		gq_producer_id(pr, &r->id, &r->epoch);
		gq_producer_destroy(pr);
	}
}

static void
pid_done(struct blocking *b)
{
	struct pid_result *r = b->data;
	struct gqd_req *req = b->req;
	struct gqk_init_producer_id_resp resp = { 0 };

	resp.error_code = kafka_err(r->rv);
	resp.producer_id = r->rv == 0 ? r->id : -1;
	resp.producer_epoch = r->rv == 0 ? r->epoch : -1;
	free(r);
	gqd_resp_begin(req);
	gqk_init_producer_id_resp_encode(&req->resp, req->hdr.api_version,
					 &resp);
	gqd_req_finish(req);
}

static void
handle_init_producer_id(struct gqd_req *req)
{
	struct pid_result *r;

	if (!gqk_str_is_null(req->body.init_producer_id.transactional_id)) {
		struct gqk_init_producer_id_resp resp = {
			.error_code =
				GQK_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
			.producer_id = -1,
			.producer_epoch = -1,
		};

		/* Idempotence only: transactions are not implemented. */
		gqd_resp_begin(req);
		gqk_init_producer_id_resp_encode(&req->resp,
						 req->hdr.api_version, &resp);
		gqd_req_finish(req);
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    run_blocking(req, pid_run, pid_done, r) != 0) {
		free(r);
		fail_close(req);
	}
}

/* ---- CreateTopics and DeleteTopics ------------------------------------ */

/* Kafka topic config names and the goqueue keys they set. */
static const struct {
	const char *kafka;
	const char *key;
	const char *unit; /* appended to the value, e.g. "ms" */
} config_names[] = {
	{ "retention.ms", "retention_time", "ms" },
	{ "retention.bytes", "retention_bytes", "" },
	{ "segment.bytes", "segment_size", "" },
	{ "max.message.bytes", "max_message_size", "" },
	{ "compression.type", "compression_type", "" },
};

struct topic_op {
	char name[GQ_NAME_MAX + 1];
	int32_t partitions;
	struct gq_config *config;
	int16_t error; /* decided before running, or GQK_ERR_NONE */
	char message[GQ_ERRMSG_SIZE];
	int rv;
};

struct topics_job {
	int32_t n;
	struct topic_op *ops;
	bool validate_only;
	bool delete;
};

static int16_t
topic_config(const struct gqk_create_topics_req_topic *t, struct topic_op *op)
{
	if (gq_config_create(&op->config) != 0)
		return GQK_ERR_REQUEST_TIMED_OUT;
	for (int32_t i = 0; i < t->n_configs; i++) {
		const struct gqk_create_topics_req_config *c = &t->configs[i];
		char value[128];
		const char *key = NULL;
		const char *unit = "";
		size_t k;

		for (k = 0; k < sizeof(config_names) / sizeof(config_names[0]);
		     k++) {
			if (gqk_str_eq(c->name, config_names[k].kafka)) {
				key = config_names[k].key;
				unit = config_names[k].unit;
			}
		}
		if (key == NULL || c->value.len < 0 ||
		    (size_t)c->value.len + strlen(unit) >= sizeof(value)) {
			snprintf(op->message, sizeof(op->message),
				 "unsupported config '%.*s'",
				 c->name.len > 0 ? (int)c->name.len : 0,
				 c->name.p ? c->name.p : "");
			return GQK_ERR_INVALID_CONFIG;
		}
		snprintf(value, sizeof(value), "%.*s%s", (int)c->value.len,
			 c->value.p, unit);
		/* "producer": keep what producers send, which is what the
		 * Kafka path always does. */
		if (strcmp(key, "compression_type") == 0 &&
		    (strcmp(value, "producer") == 0 ||
		     strcmp(value, "uncompressed") == 0))
			snprintf(value, sizeof(value), "none");
		if (gq_config_set(op->config, key, value, op->message) != 0)
			return GQK_ERR_INVALID_CONFIG;
	}
	return GQK_ERR_NONE;
}

static void
topics_run(struct blocking *b)
{
	struct topics_job *job = b->data;
	struct gq_node *node = gqd_req_node(b->req);

	for (int32_t i = 0; i < job->n; i++) {
		struct topic_op *op = &job->ops[i];

		if (op->error != GQK_ERR_NONE || job->validate_only)
			continue;
		op->rv = job->delete ? gq_topic_delete(node, op->name)
				     : gq_topic_create(node, op->name,
						       op->partitions, 1,
						       op->config);
		if (op->rv != 0)
			snprintf(op->message, sizeof(op->message), "%s",
				 gq_node_errmsg(node));
	}
}

static void
topics_job_free(struct topics_job *job)
{
	for (int32_t i = 0; i < job->n; i++)
		gq_config_destroy(job->ops[i].config);
	free(job->ops);
	free(job);
}

static void
create_done(struct blocking *b)
{
	struct topics_job *job = b->data;
	struct gqd_req *req = b->req;
	const struct gqk_create_topics_req *cr = &req->body.create_topics;
	struct gqk_create_topics_resp resp = { 0 };
	struct gqk_create_topics_resp_topic *topics;

	topics = arena(req, (size_t)job->n, sizeof(*topics));
	if (job->n > 0 && topics == NULL) {
		topics_job_free(job);
		fail_close(req);
		return;
	}
	for (int32_t i = 0; i < job->n; i++) {
		struct topic_op *op = &job->ops[i];
		int16_t err = op->error;

		if (err == GQK_ERR_NONE && op->rv == GQ_EINVAL)
			err = GQK_ERR_INVALID_PARTITIONS;
		else if (err == GQK_ERR_NONE)
			err = kafka_err(op->rv);
		topics[i].name = cr->topics[i].name;
		topics[i].error_code = err;
		topics[i].error_message = err == GQK_ERR_NONE
						  ? GQK_STR_NULL
						  : arena_str(req, op->message);
		if (err == GQK_ERR_NONE && !job->validate_only)
			gqd_log(GQ_LOG_INFO, "topic created",
				"topic=%s partitions=%d", op->name,
				op->partitions);
	}
	topics_job_free(job);
	resp.n_topics = cr->n_topics;
	resp.topics = topics;
	gqd_resp_begin(req);
	gqk_create_topics_resp_encode(&req->resp, req->hdr.api_version, &resp);
	gqd_req_finish(req);
}

static void
handle_create_topics(struct gqd_req *req)
{
	const struct gqk_create_topics_req *cr = &req->body.create_topics;
	const struct gqd_config *cfg = gqd_req_config(req);
	struct topics_job *job = calloc(1, sizeof(*job));

	if (job == NULL || (job->ops = calloc((size_t)cr->n_topics + 1,
					      sizeof(*job->ops))) == NULL) {
		free(job);
		fail_close(req);
		return;
	}
	job->n = cr->n_topics;
	job->validate_only = cr->validate_only;
	for (int32_t i = 0; i < cr->n_topics; i++) {
		const struct gqk_create_topics_req_topic *t = &cr->topics[i];
		struct topic_op *op = &job->ops[i];

		op->partitions = t->num_partitions < 0 ? cfg->default_partitions
						       : t->num_partitions;
		if (!name_of(t->name, op->name))
			op->error = GQK_ERR_INVALID_TOPIC_EXCEPTION;
		else if (t->replication_factor > 1)
			op->error = GQK_ERR_INVALID_REPLICATION_FACTOR;
		else if (t->n_assignments > 0)
			op->error = GQK_ERR_INVALID_REPLICA_ASSIGNMENT;
		else if (op->partitions <= 0)
			op->error = GQK_ERR_INVALID_PARTITIONS;
		else
			op->error = topic_config(t, op);
		if (op->error == GQK_ERR_INVALID_REPLICATION_FACTOR)
			snprintf(op->message, sizeof(op->message),
				 "replication factor %d exceeds the 1 broker "
				 "of this cluster",
				 t->replication_factor);
	}
	if (run_blocking(req, topics_run, create_done, job) != 0) {
		topics_job_free(job);
		fail_close(req);
	}
}

static void
delete_done(struct blocking *b)
{
	struct topics_job *job = b->data;
	struct gqd_req *req = b->req;
	const struct gqk_delete_topics_req *dr = &req->body.delete_topics;
	struct gqk_delete_topics_resp resp = { 0 };
	struct gqk_delete_topics_resp_topic *topics;

	topics = arena(req, (size_t)job->n, sizeof(*topics));
	if (job->n > 0 && topics == NULL) {
		topics_job_free(job);
		fail_close(req);
		return;
	}
	for (int32_t i = 0; i < job->n; i++) {
		struct topic_op *op = &job->ops[i];

		topics[i].name = dr->topic_names[i];
		topics[i].error_code = op->error != GQK_ERR_NONE
					       ? op->error
					       : kafka_err(op->rv);
		if (topics[i].error_code == GQK_ERR_NONE)
			gqd_log(GQ_LOG_INFO, "topic deleted", "topic=%s",
				op->name);
	}
	resp.n_responses = job->n;
	resp.responses = topics;
	topics_job_free(job);
	gqd_resp_begin(req);
	gqk_delete_topics_resp_encode(&req->resp, req->hdr.api_version, &resp);
	gqd_req_finish(req);
}

static void
handle_delete_topics(struct gqd_req *req)
{
	const struct gqk_delete_topics_req *dr = &req->body.delete_topics;
	struct topics_job *job = calloc(1, sizeof(*job));

	if (job == NULL || (job->ops = calloc((size_t)dr->n_topic_names + 1,
					      sizeof(*job->ops))) == NULL) {
		free(job);
		fail_close(req);
		return;
	}
	job->n = dr->n_topic_names;
	job->delete = true;
	for (int32_t i = 0; i < job->n; i++)
		if (!name_of(dr->topic_names[i], job->ops[i].name))
			job->ops[i].error = GQK_ERR_INVALID_TOPIC_EXCEPTION;
	if (run_blocking(req, topics_run, delete_done, job) != 0) {
		topics_job_free(job);
		fail_close(req);
	}
}

/* ---- DescribeConfigs --------------------------------------------------- */

/* A duration as goqueue prints it ("168h", "30m", "-1") in milliseconds. */
static long long
duration_ms(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (strcmp(end, "ms") == 0 || *end == '\0')
		return v;
	if (strcmp(end, "s") == 0)
		return v * 1000;
	if (strcmp(end, "m") == 0)
		return v * 60000;
	if (strcmp(end, "h") == 0)
		return v * 3600000;
	if (strcmp(end, "d") == 0)
		return v * 86400000;
	return -1;
}

static void
describe_topic_configs(struct gqd_req *req,
		       const struct gqk_describe_configs_req_resource *res,
		       struct gqk_describe_configs_result *out)
{
	size_t nk = sizeof(config_names) / sizeof(config_names[0]);
	struct gqk_describe_configs_entry *entries;
	struct gq_topic_info *info;
	char name[GQ_NAME_MAX + 1];
	int32_t n = 0;
	int rv;

	if (!name_of(res->resource_name, name)) {
		out->error_code = GQK_ERR_INVALID_TOPIC_EXCEPTION;
		return;
	}
	if ((rv = gq_topic_describe(gqd_req_node(req), name, &info)) != 0) {
		out->error_code = kafka_err(rv);
		return;
	}
	entries = arena(req, nk, sizeof(*entries));
	for (size_t k = 0; entries != NULL && k < nk; k++) {
		const char *v = gq_config_get(gq_topic_info_config(info),
					      config_names[k].key);
		char buf[64];
		bool wanted = res->n_configuration_keys < 0;

		for (int32_t i = 0; i < res->n_configuration_keys; i++)
			if (gqk_str_eq(res->configuration_keys[i],
				       config_names[k].kafka))
				wanted = true;
		if (!wanted || v == NULL)
			continue;
		if (strcmp(config_names[k].unit, "ms") == 0) {
			snprintf(buf, sizeof(buf), "%lld", duration_ms(v));
			v = buf;
		}
		entries[n].name = arena_str(req, config_names[k].kafka);
		entries[n].value = arena_str(req, v);
		entries[n].config_source = GQK_CONFIG_SOURCE_DYNAMIC_TOPIC;
		n++;
	}
	gq_topic_info_destroy(info);
	out->n_configs = n;
	out->configs = entries;
}

static void
handle_describe_configs(struct gqd_req *req)
{
	const struct gqk_describe_configs_req *dr = &req->body.describe_configs;
	struct gqk_describe_configs_resp resp = { 0 };
	struct gqk_describe_configs_result *results;

	results = arena(req, (size_t)dr->n_resources, sizeof(*results));
	if (dr->n_resources > 0 && results == NULL) {
		fail_close(req);
		return;
	}
	for (int32_t i = 0; i < dr->n_resources; i++) {
		const struct gqk_describe_configs_req_resource *r =
			&dr->resources[i];

		results[i].resource_type = r->resource_type;
		results[i].resource_name = r->resource_name;
		results[i].error_message = GQK_STR_NULL;
		if (r->resource_type == GQK_RESOURCE_TOPIC)
			describe_topic_configs(req, r, &results[i]);
		else if (r->resource_type != GQK_RESOURCE_BROKER)
			results[i].error_code = GQK_ERR_INVALID_REQUEST;
		/* Brokers: no dynamic configs to report. */
	}
	resp.n_results = dr->n_resources;
	resp.results = results;
	gqd_resp_begin(req);
	gqk_describe_configs_resp_encode(&req->resp, req->hdr.api_version,
					 &resp);
	gqd_req_finish(req);
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
		handle_produce(req);
		break;
	case GQK_FETCH:
		handle_fetch(req);
		break;
	case GQK_LIST_OFFSETS:
		handle_list_offsets(req);
		break;
	case GQK_INIT_PRODUCER_ID:
		handle_init_producer_id(req);
		break;
	case GQK_CREATE_TOPICS:
		handle_create_topics(req);
		break;
	case GQK_DELETE_TOPICS:
		handle_delete_topics(req);
		break;
	case GQK_DESCRIBE_CONFIGS:
		handle_describe_configs(req);
		break;
	default:
		/* Decoded but not served here (group APIs come with #5). */
		gqd_handle_undecodable(req, GQK_EUNSUPPORTED);
		break;
	}
}
