/* SPDX-License-Identifier: MIT */
/*
 * remote_admin.c - the topic administration of a remote node (remote.h):
 * create, delete and alter become CreateTopics, DeleteTopics and
 * IncrementalAlterConfigs to the controller, and each topic's
 * configuration is read with DescribeConfigs, so that gq_topic_describe()
 * shows it and produce calls compress and bound their batches as the
 * topic says.
 *
 * Configurations travel under goqueue's own key names (segment_size,
 * retention_time, ...), which gqd accepts beside Kafka's: a create sends
 * only the keys the caller set (the brokers' defaults fill the rest, as
 * for any Kafka client), an alter one SET per key changed, and a describe
 * asks for every topic key by name.  An alter completes once the topic's
 * configuration has been read back, so a describe or produce that follows
 * on this node sees it.
 * Topics are described when they first appear in the metadata, and all
 * again every metadata age, which is how an alter made elsewhere reaches
 * this node.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "error.h"
#include "heap.h"
#include "node.h"
#include "remote_int.h"

#define V_DESCRIBE_CONFIGS          1
#define V_INCREMENTAL_ALTER_CONFIGS 0

/* Topics one DescribeConfigs asks about. */
#define DESCRIBE_MAX 64

/* More than the topic keys of config.c. */
#define TOPIC_KEYS_MAX 16

/* ---- create and delete -------------------------------------------------- */

/* Whether the controller did not answer @c's request, which was then
 * taken care of: never written, it is retried after fresh metadata; lost
 * after it was written, its outcome is unknown. */
static bool
unanswered(struct call *c, int status)
{
	if (status == GQ_ECANCELED) {
		gq__r_park(c->r, c->req, GQ_ENOTLEADER);
		return true;
	}
	if (status != 0) {
		gq__errmsg_set(c->req->errmsg, "no answer from the controller");
		gq__req_complete(c->req, GQ_EUNKNOWN);
		return true;
	}
	return false;
}

static void
admin_done(struct call *c, int status, const union gqk_response *resp)
{
	struct gq__req *req = c->req;
	int16_t err;

	if (unanswered(c, status))
		return;
	if (c->api == GQK_CREATE_TOPICS)
		err = resp->create_topics.n_topics == 1
			      ? resp->create_topics.topics[0].error_code
			      : GQK_ERR_UNKNOWN_SERVER_ERROR;
	else
		err = resp->delete_topics.n_responses == 1
			      ? resp->delete_topics.responses[0].error_code
			      : GQK_ERR_UNKNOWN_SERVER_ERROR;
	if (err == GQK_ERR_NOT_CONTROLLER) {
		gq__r_park(c->r, req, GQ_ENOTLEADER);
		return;
	}
	if (err != 0) {
		gq__r_set_kafka_errmsg(req, err,
				       c->api == GQK_CREATE_TOPICS
					       ? "create topic"
					       : "delete topic");
		gq__req_complete(req, gq__r_from_kafka(err));
		return;
	}
	/* What the caller reads next (gq_topic_list(), a produce) must see
	 * the change: complete once the metadata shows it. */
	gq__r_ask_metadata(c->r, req);
}

/* The keys @req's caller set, as CreateTopics configs (their values in
 * @texts, GQ__TF bit order); how many, or -1 (out of memory). */
static int32_t
create_configs(const struct gq__req *req,
	       struct gqk_create_topics_req_config *out, char (*texts)[32])
{
	struct gq_config *cfg;
	int32_t n = 0;

	if (req->u.create.mask == 0)
		return 0;
	if (gq__config_from_topic_conf(&req->u.create.conf, &cfg) != 0)
		return -1;
	for (uint32_t bit = 1; bit <= GQ__TF_ALL; bit <<= 1) {
		const char *key = gq__topic_field_name(bit);
		const char *v = gq_config_get(cfg, key);

		if ((req->u.create.mask & bit) == 0 || v == NULL)
			continue;
		snprintf(texts[n], sizeof(texts[n]), "%s", v);
		out[n].name = gqk_str_from(key);
		out[n].value = gqk_str_from(texts[n]);
		n++;
	}
	gq_config_destroy(cfg);
	return n;
}

void
gq__r_topic_admin(struct gq__remote *r, struct gq__req *req)
{
	struct rbroker *b =
		gq__r_broker_by_id(r, atomic_load(&r->node->controller_id));
	struct gqk_create_topics_req_config configs[32];
	struct gqk_create_topics_req_topic topic = { 0 };
	struct gqk_str name = gqk_str_from(req->topic);
	char texts[32][32];
	union gqk_request body;
	int rv;

	if (b == NULL) {
		gq__r_park(r, req, GQ_ENOTLEADER);
		return;
	}
	memset(&body, 0, sizeof(body));
	if (req->type == GQ__REQ_TOPIC_CREATE) {
		topic.name = name;
		topic.num_partitions = req->u.create.partitions;
		topic.replication_factor = req->u.create.replication_factor;
		topic.n_configs = create_configs(req, configs, texts);
		topic.configs = configs;
		if (topic.n_configs < 0) {
			gq__req_complete(req, GQ_ENOMEM);
			return;
		}
		body.create_topics.n_topics = 1;
		body.create_topics.topics = &topic;
		body.create_topics.timeout_ms = (int32_t)r->request_timeout_ms;
		rv = gq__r_call(r, b, req, GQK_CREATE_TOPICS, V_CREATE_TOPICS,
				&body, r->request_timeout_ms, admin_done);
	} else {
		body.delete_topics.n_topic_names = 1;
		body.delete_topics.topic_names = &name;
		body.delete_topics.timeout_ms = (int32_t)r->request_timeout_ms;
		rv = gq__r_call(r, b, req, GQK_DELETE_TOPICS, V_DELETE_TOPICS,
				&body, r->request_timeout_ms, admin_done);
	}
	if (rv != 0)
		gq__r_park(r, req, GQ_ENOTLEADER);
}

/* ---- alter -------------------------------------------------------------- */

static void
alter_done(struct call *c, int status, const union gqk_response *resp)
{
	const struct gqk_incremental_alter_configs_resp *a =
		&resp->incremental_alter_configs;
	const struct gqk_alter_configs_resp_resource *res;
	struct gq__req *req = c->req;
	struct gq__topic *t;
	int16_t err;

	if (unanswered(c, status))
		return;
	res = a->n_responses == 1 ? &a->responses[0] : NULL;
	err = res != NULL ? res->error_code : GQK_ERR_UNKNOWN_SERVER_ERROR;
	if (err == GQK_ERR_NOT_CONTROLLER) {
		gq__r_park(c->r, req, GQ_ENOTLEADER);
		return;
	}
	if (err != 0) {
		/* The controller's own words say which key it refused. */
		if (res != NULL && res->error_message.len > 0)
			gq__errmsg_set(req->errmsg, "alter topic: %.*s",
				       (int)res->error_message.len,
				       res->error_message.p);
		else
			gq__r_set_kafka_errmsg(req, err, "alter topic");
		gq__req_complete(req, gq__r_from_kafka(err));
		return;
	}
	/* Read the new configuration before completing; a DescribeConfigs
	 * out now may have been answered before the change. */
	if ((t = gq__node_topic_find(c->r->node, req->topic)) != NULL)
		t->conf_known = false;
	req->u.alter.reread = c->r->configs_inflight;
	gq__r_topic_configs_wait(c->r, req);
}

void
gq__r_topic_alter(struct gq__remote *r, struct gq__req *req)
{
	struct rbroker *b =
		gq__r_broker_by_id(r, atomic_load(&r->node->controller_id));
	struct gqk_alter_configs_req_config configs[32];
	struct gqk_alter_configs_req_resource res = { 0 };
	struct gq_config *cfg;
	char texts[32][32];
	union gqk_request body;
	int32_t n = 0;
	int rv;

	if (b == NULL) {
		gq__r_park(r, req, GQ_ENOTLEADER);
		return;
	}
	if (gq__config_from_topic_conf(&req->u.alter.conf, &cfg) != 0) {
		gq__req_complete(req, GQ_ENOMEM);
		return;
	}
	/* One SET per key the caller changed, under goqueue's names. */
	for (uint32_t bit = 1; bit <= GQ__TF_ALL && n < 32; bit <<= 1) {
		const char *key = gq__topic_field_name(bit);
		const char *v = gq_config_get(cfg, key);

		if ((req->u.alter.mask & bit) == 0 || v == NULL)
			continue;
		snprintf(texts[n], sizeof(texts[n]), "%s", v);
		configs[n].name = gqk_str_from(key);
		configs[n].config_operation = GQK_CONFIG_OP_SET;
		configs[n].value = gqk_str_from(texts[n]);
		n++;
	}
	gq_config_destroy(cfg);
	res.resource_type = GQK_RESOURCE_TOPIC;
	res.resource_name = gqk_str_from(req->topic);
	res.n_configs = n;
	res.configs = configs;
	memset(&body, 0, sizeof(body));
	body.incremental_alter_configs.n_resources = 1;
	body.incremental_alter_configs.resources = &res;
	rv = gq__r_call(r, b, req, GQK_INCREMENTAL_ALTER_CONFIGS,
			V_INCREMENTAL_ALTER_CONFIGS, &body,
			r->request_timeout_ms, alter_done);
	if (rv != 0)
		gq__r_park(r, req, GQ_ENOTLEADER);
}

/* ---- topic configurations ----------------------------------------------- */

/* @res's configuration over the node's topic defaults into @out; false
 * when it holds a value this library refuses. */
static bool
conf_of(struct gq__remote *r, const struct gqk_describe_configs_result *res,
	struct gq__topic_conf *out)
{
	char key[64], value[64], errmsg[GQ_ERRMSG_SIZE];
	struct gq_config *cfg;
	bool ok = true;

	if (gq_config_create(&cfg) != 0)
		return false;
	for (int32_t i = 0; ok && i < res->n_configs; i++) {
		const struct gqk_describe_configs_entry *e = &res->configs[i];
		const struct gq__config_key *k;

		if (e->name.len <= 0 || (size_t)e->name.len >= sizeof(key) ||
		    e->value.len < 0 || (size_t)e->value.len >= sizeof(value))
			continue;
		memcpy(key, e->name.p, (size_t)e->name.len);
		key[e->name.len] = '\0';
		memcpy(value, e->value.p, (size_t)e->value.len);
		value[e->value.len] = '\0';
		/* Kafka's names, if a broker adds them, are not ours. */
		if ((k = gq__config_key_find(key)) == NULL ||
		    k->scope != GQ__CONFIG_TOPIC)
			continue;
		ok = gq_config_set(cfg, key, value, errmsg) == 0;
	}
	ok = ok && gq__topic_conf_from(cfg, &r->node->conf.topic_defaults, out,
				       errmsg) == 0;
	gq_config_destroy(cfg);
	return ok;
}

/* The alters that waited while a DescribeConfigs sent before them was out:
 * their topics are read once more. */
static void
reread_altered(struct gq__remote *r)
{
	struct gq__topic *t;

	for (struct gq__req *q = r->config_waiters; q != NULL; q = q->next) {
		if (q->type != GQ__REQ_TOPIC_ALTER || !q->u.alter.reread)
			continue;
		q->u.alter.reread = false;
		if ((t = gq__node_topic_find(r->node, q->topic)) != NULL)
			t->conf_known = false;
	}
}

static void
configs_done(struct call *c, int status, const union gqk_response *resp)
{
	struct gq__remote *r = c->r;
	const struct gqk_describe_configs_resp *d = &resp->describe_configs;

	r->configs_inflight = false;
	if (status != 0) {
		/* The next tick asks again; the creates waiting are done
		 * all the same. */
		gq__req_complete_list(r->config_waiters, 0);
		r->config_waiters = NULL;
		r->configs_read = true; /* nothing better will come soon */
		return;
	}
	for (int32_t i = 0; i < d->n_results; i++) {
		const struct gqk_describe_configs_result *res = &d->results[i];
		char name[GQ_NAME_MAX + 1];
		struct gq__topic_conf conf;
		struct gq__topic *t;

		if (res->resource_name.len <= 0 ||
		    res->resource_name.len > GQ_NAME_MAX)
			continue;
		memcpy(name, res->resource_name.p,
		       (size_t)res->resource_name.len);
		name[res->resource_name.len] = '\0';
		if ((t = gq__node_topic_find(r->node, name)) == NULL)
			continue;
		/* A topic in error (gone, or a broker that cannot say)
		 * keeps what it has until the next round. */
		t->conf_known = true;
		if (res->error_code != 0 || !conf_of(r, res, &conf))
			continue;
		pthread_rwlock_wrlock(&r->node->meta_lock);
		t->conf = conf;
		pthread_rwlock_unlock(&r->node->meta_lock);
	}
	reread_altered(r);
	gq__r_topic_configs(r);
}

void
gq__r_topic_configs_wait(struct gq__remote *r, struct gq__req *req)
{
	req->next = r->config_waiters;
	r->config_waiters = req;
	gq__r_topic_configs(r);
}

void
gq__r_topic_configs(struct gq__remote *r)
{
	struct gqk_describe_configs_req_resource res[DESCRIBE_MAX];
	struct gqk_str keys[TOPIC_KEYS_MAX];
	struct gq_node *node = r->node;
	const struct gq__config_key *k;
	union gqk_request body;
	struct rbroker *b;
	int32_t n = 0, n_keys = 0;

	if (r->configs_inflight || r->closing)
		return;
	if (gq__r_now(r) >= r->configs_due) {
		r->configs_due = gq__r_now(r) + METADATA_MAX_AGE;
		for (size_t i = 0; i < node->n_topics; i++)
			node->topics[i]->conf_known = false;
	}
	for (size_t i = 0; i < node->n_topics && n < DESCRIBE_MAX; i++) {
		struct gq__topic *t = node->topics[i];

		if (t->conf_known)
			continue;
		memset(&res[n], 0, sizeof(res[n]));
		res[n].resource_type = GQK_RESOURCE_TOPIC;
		res[n].resource_name = gqk_str_from(t->name);
		res[n].configuration_keys = keys;
		n++;
	}
	if (n == 0 || (b = gq__r_any_broker(r)) == NULL) {
		gq__req_complete_list(r->config_waiters, 0);
		r->config_waiters = NULL;
		r->configs_read = r->have_meta;
		return;
	}
	for (size_t i = 0; (k = gq__config_key_at(i)) != NULL; i++)
		if (k->scope == GQ__CONFIG_TOPIC && n_keys < TOPIC_KEYS_MAX)
			keys[n_keys++] = gqk_str_from(k->name);
	for (int32_t i = 0; i < n; i++)
		res[i].n_configuration_keys = n_keys;
	memset(&body, 0, sizeof(body));
	body.describe_configs.n_resources = n;
	body.describe_configs.resources = res;
	if (gq__r_call_ctx(r, b, NULL, GQK_DESCRIBE_CONFIGS, V_DESCRIBE_CONFIGS,
			   &body, r->request_timeout_ms, configs_done) == 0)
		r->configs_inflight = true;
}
