/* SPDX-License-Identifier: MIT */
/*
 * handlers_admin.c - the admin Kafka APIs: CreateTopics, DeleteTopics and
 * IncrementalAlterConfigs (gq_topic_create_async(), _delete_async() and
 * _alter_async(), answered once every topic's call has completed), and
 * DescribeConfigs.  Topic configurations go under Kafka's names (with
 * their units) or goqueue's own topic keys, which a remote libgoqueue
 * node sends (lib/remote_admin.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "handlers.h"
#include "log.h"
#include "server.h"

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
	int16_t replication_factor;
	struct gq_config *config;
	int16_t error; /* decided before running, or GQK_ERR_NONE */
	char message[GQ_ERRMSG_SIZE];
	int rv;
};

struct topics_job {
	int32_t n;
	struct topic_op *ops;
	int32_t waiting; /* library calls not completed yet */
	bool validate_only;
	bool delete;
	bool alter; /* IncrementalAlterConfigs: op->config holds the changes */
	void (*respond)(struct gqd_req *req, struct topics_job *job);
};

/* The goqueue key a config name means, Kafka's (with the unit its value
 * takes, into @unit) or goqueue's own; NULL if none. */
static const char *
topic_key_of(struct gqk_str name, const char **unit)
{
	size_t k;

	*unit = "";
	for (k = 0; k < sizeof(config_names) / sizeof(config_names[0]); k++) {
		if (gqk_str_eq(name, config_names[k].kafka)) {
			*unit = config_names[k].unit;
			return config_names[k].key;
		}
	}
	/* goqueue's own names too: a remote libgoqueue node sends those
	 * (lib/remote_admin.c). */
	for (k = 0; k < GQD_N_TOPIC_KEYS; k++)
		if (gqk_str_eq(name, gqd_topic_keys[k]))
			return gqd_topic_keys[k];
	return NULL;
}

/* Set the key @name means to @value in @conf, the message into @message
 * on error.  Returns GQK_ERR_NONE or GQK_ERR_INVALID_CONFIG. */
static int16_t
set_topic_key(struct gq_config *conf, struct gqk_str name, struct gqk_str value,
	      char message[GQ_ERRMSG_SIZE])
{
	char buf[128];
	const char *unit;
	const char *key = topic_key_of(name, &unit);

	if (key == NULL || value.len < 0 ||
	    (size_t)value.len + strlen(unit) >= sizeof(buf)) {
		snprintf(message, GQ_ERRMSG_SIZE, "unsupported config '%.*s'",
			 name.len > 0 ? (int)name.len : 0,
			 name.p ? name.p : "");
		return GQK_ERR_INVALID_CONFIG;
	}
	snprintf(buf, sizeof(buf), "%.*s%s", (int)value.len, value.p, unit);
	/* "producer": keep what producers send, which is what the Kafka
	 * path always does. */
	if (strcmp(key, "compression_type") == 0 &&
	    (strcmp(buf, "producer") == 0 || strcmp(buf, "uncompressed") == 0))
		snprintf(buf, sizeof(buf), "none");
	if (gq_config_set(conf, key, buf, message) != 0)
		return GQK_ERR_INVALID_CONFIG;
	return GQK_ERR_NONE;
}

static int16_t
topic_config(const struct gqd_config *cfg,
	     const struct gqk_create_topics_req_topic *t, struct topic_op *op)
{
	int16_t err;

	if (gqd_config_topic_base(cfg, &op->config) != 0)
		return GQK_ERR_REQUEST_TIMED_OUT;
	for (int32_t i = 0; i < t->n_configs; i++) {
		err = set_topic_key(op->config, t->configs[i].name,
				    t->configs[i].value, op->message);
		if (err != GQK_ERR_NONE)
			return err;
	}
	return GQK_ERR_NONE;
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
topic_op_done(struct gqd_async *a)
{
	struct topics_job *job = a->data;
	struct topic_op *op = &job->ops[a->index];

	op->rv = a->status;
	snprintf(op->message, sizeof(op->message), "%s", a->errmsg);
	if (--job->waiting == 0)
		job->respond(a->req, job);
}

/* Start the create, delete or alter of every valid topic of @job; the response
 * goes out once the last one completed. */
static void
topics_start(struct gqd_req *req, struct topics_job *job)
{
	job->waiting = 1; /* held while starting */
	for (int32_t i = 0; i < job->n && !job->validate_only; i++) {
		struct topic_op *op = &job->ops[i];
		struct gqd_async *a;
		int rv;

		if (op->error != GQK_ERR_NONE ||
		    (job->alter && op->config == NULL))
			continue;
		if ((a = gqd_async_new(req, topic_op_done, job, i)) == NULL) {
			op->error = GQK_ERR_REQUEST_TIMED_OUT;
			continue;
		}
		if (job->delete)
			rv = gq_topic_delete_async(gqd_req_node(req), op->name,
						   gqd_async_done, a);
		else if (job->alter)
			rv = gq_topic_alter_async(gqd_req_node(req), op->name,
						  op->config, gqd_async_done,
						  a);
		else
			rv = gq_topic_create_async(
				gqd_req_node(req), op->name, op->partitions,
				op->replication_factor, op->config,
				gqd_async_done, a);
		gqd_async_started(a, rv);
		if (rv != 0) {
			op->rv = rv;
			snprintf(op->message, sizeof(op->message), "%s",
				 gq_node_errmsg(gqd_req_node(req)));
		} else {
			job->waiting++;
		}
	}
	if (--job->waiting == 0)
		job->respond(req, job);
}

static void
create_respond(struct gqd_req *req, struct topics_job *job)
{
	const struct gqk_create_topics_req *cr = &req->body.create_topics;
	struct gqk_create_topics_resp resp = { 0 };
	struct gqk_create_topics_resp_topic *topics;

	topics = gqd_arena(req, (size_t)job->n, sizeof(*topics));
	if (job->n > 0 && topics == NULL) {
		topics_job_free(job);
		gqd_fail_close(req);
		return;
	}
	for (int32_t i = 0; i < job->n; i++) {
		struct topic_op *op = &job->ops[i];
		int16_t err = op->error;

		if (err == GQK_ERR_NONE && op->rv == GQ_EINVAL)
			err = strncmp(op->message, "replication factor", 18) ==
					      0
				      ? GQK_ERR_INVALID_REPLICATION_FACTOR
				      : GQK_ERR_INVALID_PARTITIONS;
		else if (err == GQK_ERR_NONE)
			err = gqd_kafka_err(op->rv);
		topics[i].name = cr->topics[i].name;
		topics[i].error_code = err;
		gqd_req_error(req, err);
		topics[i].error_message =
			err == GQK_ERR_NONE ? GQK_STR_NULL
					    : gqd_arena_str(req, op->message);
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

void
gqd_handle_create_topics(struct gqd_req *req)
{
	const struct gqk_create_topics_req *cr = &req->body.create_topics;
	const struct gqd_config *cfg = gqd_req_config(req);
	struct topics_job *job = calloc(1, sizeof(*job));

	if (job == NULL || (job->ops = calloc((size_t)cr->n_topics + 1,
					      sizeof(*job->ops))) == NULL) {
		free(job);
		gqd_fail_close(req);
		return;
	}
	job->n = cr->n_topics;
	job->validate_only = cr->validate_only;
	for (int32_t i = 0; i < cr->n_topics; i++) {
		const struct gqk_create_topics_req_topic *t = &cr->topics[i];
		struct topic_op *op = &job->ops[i];

		op->partitions = t->num_partitions < 0 ? cfg->default_partitions
						       : t->num_partitions;
		op->replication_factor =
			t->replication_factor < 0
				? (int16_t)cfg->default_replication_factor
				: t->replication_factor;
		if (!gqd_name_of(t->name, op->name))
			op->error = GQK_ERR_INVALID_TOPIC_EXCEPTION;
		else if (op->replication_factor < 1 ||
			 op->replication_factor > GQ_REPLICAS_MAX)
			op->error = GQK_ERR_INVALID_REPLICATION_FACTOR;
		else if (t->n_assignments > 0)
			op->error = GQK_ERR_INVALID_REPLICA_ASSIGNMENT;
		else if (op->partitions <= 0)
			op->error = GQK_ERR_INVALID_PARTITIONS;
		else
			op->error = topic_config(cfg, t, op);
		if (op->error == GQK_ERR_INVALID_REPLICATION_FACTOR)
			snprintf(op->message, sizeof(op->message),
				 "replication factor must be 1 to %d, not %d",
				 GQ_REPLICAS_MAX, t->replication_factor);
	}
	job->respond = create_respond;
	topics_start(req, job);
}

static void
delete_respond(struct gqd_req *req, struct topics_job *job)
{
	const struct gqk_delete_topics_req *dr = &req->body.delete_topics;
	struct gqk_delete_topics_resp resp = { 0 };
	struct gqk_delete_topics_resp_topic *topics;

	topics = gqd_arena(req, (size_t)job->n, sizeof(*topics));
	if (job->n > 0 && topics == NULL) {
		topics_job_free(job);
		gqd_fail_close(req);
		return;
	}
	for (int32_t i = 0; i < job->n; i++) {
		struct topic_op *op = &job->ops[i];

		topics[i].name = dr->topic_names[i];
		topics[i].error_code = op->error != GQK_ERR_NONE
					       ? op->error
					       : gqd_kafka_err(op->rv);
		gqd_req_error(req, topics[i].error_code);
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

void
gqd_handle_delete_topics(struct gqd_req *req)
{
	const struct gqk_delete_topics_req *dr = &req->body.delete_topics;
	struct topics_job *job = calloc(1, sizeof(*job));

	if (job == NULL || (job->ops = calloc((size_t)dr->n_topic_names + 1,
					      sizeof(*job->ops))) == NULL) {
		free(job);
		gqd_fail_close(req);
		return;
	}
	job->n = dr->n_topic_names;
	job->delete = true;
	for (int32_t i = 0; i < job->n; i++)
		if (!gqd_name_of(dr->topic_names[i], job->ops[i].name))
			job->ops[i].error = GQK_ERR_INVALID_TOPIC_EXCEPTION;
	job->respond = delete_respond;
	topics_start(req, job);
}

/* ---- IncrementalAlterConfigs ------------------------------------------ */

/* Put into @op->config the change one DELETE of @name asks for: the key
 * back to gqd's running topic default, which for a key gqd's configuration
 * leaves unset is the default of gqd's key table (gqd.conf(5), the
 * library's own: the public API has no call that reads it).  A key with no
 * default to go back to is refused (INVALID_REQUEST): SET it instead. */
static int16_t
alter_delete(const struct gqd_config *cfg, struct gqk_str name,
	     struct topic_op *op)
{
	const struct gqd_config_key *k;
	struct gq_config *base = NULL;
	const char *unit, *v;
	const char *key = topic_key_of(name, &unit);
	int16_t err = GQK_ERR_NONE;

	if (key == NULL) {
		snprintf(op->message, sizeof(op->message),
			 "unsupported config '%.*s'",
			 name.len > 0 ? (int)name.len : 0,
			 name.p ? name.p : "");
		return GQK_ERR_INVALID_CONFIG;
	}
	if (gqd_config_topic_base(cfg, &base) != 0)
		return GQK_ERR_REQUEST_TIMED_OUT;
	if ((v = gq_config_get(base, key)) == NULL &&
	    (k = gqd_config_key_find(key)) != NULL && k->def[0] != '\0')
		v = k->def;
	if (v == NULL) {
		snprintf(op->message, sizeof(op->message),
			 "%s has no default to go back to: SET its value "
			 "instead",
			 key);
		err = GQK_ERR_INVALID_REQUEST;
	} else if (gq_config_set(op->config, key, v, op->message) != 0) {
		err = GQK_ERR_INVALID_CONFIG;
	}
	gq_config_destroy(base);
	return err;
}

/* Build @op->config, the changes of @r; returns a Kafka error decided
 * before anything runs, with op->message set. */
static int16_t
alter_changes(const struct gqd_config *cfg,
	      const struct gqk_alter_configs_req_resource *r,
	      struct topic_op *op)
{
	int16_t err = GQK_ERR_NONE;

	if (r->resource_type != GQK_RESOURCE_TOPIC) {
		snprintf(op->message, sizeof(op->message),
			 "resource type %d cannot be altered: topics (2) "
			 "only",
			 r->resource_type);
		return GQK_ERR_INVALID_REQUEST;
	}
	if (!gqd_name_of(r->resource_name, op->name))
		return GQK_ERR_INVALID_TOPIC_EXCEPTION;
	if (gq_config_create(&op->config) != 0)
		return GQK_ERR_REQUEST_TIMED_OUT;
	for (int32_t i = 0; i < r->n_configs && err == GQK_ERR_NONE; i++) {
		const struct gqk_alter_configs_req_config *c = &r->configs[i];

		switch (c->config_operation) {
		case GQK_CONFIG_OP_SET:
			err = set_topic_key(op->config, c->name, c->value,
					    op->message);
			break;
		case GQK_CONFIG_OP_DELETE:
			err = alter_delete(cfg, c->name, op);
			break;
		default:
			/* APPEND and SUBTRACT: goqueue has no list keys. */
			snprintf(op->message, sizeof(op->message),
				 "config '%.*s': operation %d: not a list key",
				 c->name.len > 0 ? (int)c->name.len : 0,
				 c->name.p ? c->name.p : "",
				 c->config_operation);
			err = GQK_ERR_INVALID_REQUEST;
			break;
		}
	}
	return err;
}

static void
alter_respond(struct gqd_req *req, struct topics_job *job)
{
	const struct gqk_incremental_alter_configs_req *ar =
		&req->body.incremental_alter_configs;
	struct gqk_incremental_alter_configs_resp resp = { 0 };
	struct gqk_alter_configs_resp_resource *res;

	res = gqd_arena(req, (size_t)job->n, sizeof(*res));
	if (job->n > 0 && res == NULL) {
		topics_job_free(job);
		gqd_fail_close(req);
		return;
	}
	for (int32_t i = 0; i < job->n; i++) {
		struct topic_op *op = &job->ops[i];
		int16_t err = op->error;

		/* The library's GQ_EINVAL names the key it refused (a
		 * deduplication key changed, say). */
		if (err == GQK_ERR_NONE && op->rv == GQ_EINVAL)
			err = GQK_ERR_INVALID_CONFIG;
		else if (err == GQK_ERR_NONE)
			err = gqd_kafka_err(op->rv);
		res[i].resource_type = ar->resources[i].resource_type;
		res[i].resource_name = ar->resources[i].resource_name;
		res[i].error_code = err;
		res[i].error_message =
			err == GQK_ERR_NONE || op->message[0] == '\0'
				? GQK_STR_NULL
				: gqd_arena_str(req, op->message);
		gqd_req_error(req, err);
		if (err == GQK_ERR_NONE && !job->validate_only)
			gqd_log(GQ_LOG_INFO, "topic altered", "topic=%s",
				op->name);
	}
	resp.n_responses = job->n;
	resp.responses = res;
	topics_job_free(job);
	gqd_resp_begin(req);
	gqk_incremental_alter_configs_resp_encode(&req->resp,
						  req->hdr.api_version, &resp);
	gqd_req_finish(req);
}

void
gqd_handle_incremental_alter_configs(struct gqd_req *req)
{
	const struct gqk_incremental_alter_configs_req *ar =
		&req->body.incremental_alter_configs;
	const struct gqd_config *cfg = gqd_req_config(req);
	struct topics_job *job = calloc(1, sizeof(*job));
	struct gq_topic_info *info;
	int rv;

	if (job == NULL || (job->ops = calloc((size_t)ar->n_resources + 1,
					      sizeof(*job->ops))) == NULL) {
		free(job);
		gqd_fail_close(req);
		return;
	}
	job->n = ar->n_resources;
	job->alter = true;
	/* validate_only checks names and values here; what only the
	 * controller knows (a deduplication key changed) is not checked. */
	job->validate_only = ar->validate_only;
	for (int32_t i = 0; i < job->n; i++) {
		struct topic_op *op = &job->ops[i];

		op->error = alter_changes(cfg, &ar->resources[i], op);
		if (op->error != GQK_ERR_NONE || ar->resources[i].n_configs > 0)
			continue;
		/* Nothing to change (the library refuses an empty change):
		 * only say whether the topic exists. */
		rv = gq_topic_describe(gqd_req_node(req), op->name, &info);
		if (rv == 0)
			gq_topic_info_destroy(info);
		op->error = gqd_kafka_err(rv);
		/* No changes: topics_start() skips it. */
		gq_config_destroy(op->config);
		op->config = NULL;
	}
	job->respond = alter_respond;
	topics_start(req, job);
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

	if (!gqd_name_of(res->resource_name, name)) {
		out->error_code = GQK_ERR_INVALID_TOPIC_EXCEPTION;
		return;
	}
	if ((rv = gq_topic_describe(gqd_req_node(req), name, &info)) != 0) {
		out->error_code = gqd_kafka_err(rv);
		return;
	}
	entries = gqd_arena(req, nk + GQD_N_TOPIC_KEYS, sizeof(*entries));
	/* goqueue's own keys, only when asked for by name: a remote
	 * libgoqueue node reads a topic's whole configuration so (Kafka
	 * tools asking for everything see Kafka's names alone). */
	for (size_t k = 0; entries != NULL && k < GQD_N_TOPIC_KEYS; k++) {
		const char *v = gq_config_get(gq_topic_info_config(info),
					      gqd_topic_keys[k]);

		for (int32_t i = 0; v != NULL && i < res->n_configuration_keys;
		     i++) {
			if (!gqk_str_eq(res->configuration_keys[i],
					gqd_topic_keys[k]))
				continue;
			entries[n].name = gqd_arena_str(req, gqd_topic_keys[k]);
			entries[n].value = gqd_arena_str(req, v);
			entries[n].config_source =
				GQK_CONFIG_SOURCE_DYNAMIC_TOPIC;
			n++;
			break;
		}
	}
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
		entries[n].name = gqd_arena_str(req, config_names[k].kafka);
		entries[n].value = gqd_arena_str(req, v);
		entries[n].config_source = GQK_CONFIG_SOURCE_DYNAMIC_TOPIC;
		n++;
	}
	gq_topic_info_destroy(info);
	out->n_configs = n;
	out->configs = entries;
}

void
gqd_handle_describe_configs(struct gqd_req *req)
{
	const struct gqk_describe_configs_req *dr = &req->body.describe_configs;
	struct gqk_describe_configs_resp resp = { 0 };
	struct gqk_describe_configs_result *results;

	results = gqd_arena(req, (size_t)dr->n_resources, sizeof(*results));
	if (dr->n_resources > 0 && results == NULL) {
		gqd_fail_close(req);
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
	for (int32_t i = 0; i < dr->n_resources; i++)
		gqd_req_error(req, results[i].error_code);
	resp.n_results = dr->n_resources;
	resp.results = results;
	gqd_resp_begin(req);
	gqk_describe_configs_resp_encode(&req->resp, req->hdr.api_version,
					 &resp);
	gqd_req_finish(req);
}
