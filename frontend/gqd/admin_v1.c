/* SPDX-License-Identifier: MIT */
/*
 * admin_v1.c - the REST admin API under /v1 (routes in admin.c, answers
 * described in gqd(8)): cluster and brokers, topics and their
 * partitions, consumer groups, and gqd's configuration.
 *
 * Every handler answers from the node's thread-safe public API, on the
 * admin port's thread, except the configuration routes, whose state
 * belongs to gqd's loop thread and is read and reloaded there
 * (gqd_admin_on_loop()).  Input is checked here before the library sees
 * it (types, ranges, unknown members), so that a typo is a 400 that says
 * what was wrong rather than a default silently taken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "admin_int.h"
#include "config.h"
#include "reload.h"

/* ---- helpers -------------------------------------------------------- */

static void
bad_request(struct gqd_admin_req *r, const char *msg)
{
	gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL", "%s", msg);
}

/* Every member of the body is one of @allowed (NULL-terminated); false
 * with a 400 set otherwise. */
static bool
only_members(struct gqd_admin_req *r, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(r->body, key, v)
	{
		size_t i;

		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (allowed[i] == NULL) {
			gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
					"unknown member '%.64s' in the body",
					key);
			return false;
		}
	}
	return true;
}

/* The body's integer member @name within [min, max] into @out; absent
 * leaves @out alone unless @required.  False with a 400 set. */
static bool
int_member(struct gqd_admin_req *r, const char *name, bool required,
	   int64_t min, int64_t max, int64_t *out)
{
	json_t *v = r->body != NULL ? json_object_get(r->body, name) : NULL;

	if (v == NULL && !required)
		return true;
	if (v == NULL) {
		gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
				"the body needs '%s'", name);
		return false;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
				"'%s' must be an integer from %lld to %lld",
				name, (long long)min, (long long)max);
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

bool
gqd_admin_body_only(struct gqd_admin_req *r, const char *const *allowed)
{
	return only_members(r, allowed);
}

bool
gqd_admin_body_int(struct gqd_admin_req *r, const char *name, bool required,
		   int64_t min, int64_t max, int64_t *out)
{
	return int_member(r, name, required, min, max, out);
}

/* The partition number in the path (second parameter). */
static bool
path_partition(struct gqd_admin_req *r, int32_t *out)
{
	int64_t v;

	if (!gqd_admin_parse_int(r->params[1], 0, INT32_MAX, &v)) {
		gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
				"partition '%.32s' is not a number",
				r->params[1]);
		return false;
	}
	*out = (int32_t)v;
	return true;
}

static json_t *
int_array(const int32_t *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

static json_t *
broker_json(const struct gq_broker_info *b)
{
	return json_pack("{s:i, s:b, s:b, s:s, s:s, s:s}", "id", (int)b->id,
			 "alive", b->alive, "removing", b->removing,
			 "raft_address", b->raft_address, "client_address",
			 b->client_address, "rack", b->rack);
}

static json_t *
brokers_json(const struct gq_broker_info *b, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, broker_json(&b[i]));
	return a;
}

/* A partition as every view shows it: leader and replicas.  @detail
 * adds this node's replica (offsets and size; -1 when none is here). */
static json_t *
partition_json(const struct gq_partition_info *pi, bool detail)
{
	int32_t live[GQ_REPLICAS_MAX];
	size_t n_live = 0;
	json_t *j;

	for (uint32_t i = 0; i < pi->replica_count; i++)
		if (pi->live_mask & (1u << i))
			live[n_live++] = pi->replicas[i];
	j = json_pack("{s:i, s:i, s:i, s:o, s:o}", "partition",
		      (int)pi->partition, "leader", (int)pi->leader,
		      "leader_epoch", (int)pi->leader_epoch, "replicas",
		      int_array(pi->replicas, pi->replica_count),
		      "live_replicas", int_array(live, n_live));
	if (j == NULL || !detail)
		return j;
	json_object_set_new(j, "log_start", json_integer(pi->log_start));
	json_object_set_new(j, "high_watermark",
			    json_integer(pi->high_watermark));
	json_object_set_new(j, "size_bytes",
			    json_integer((json_int_t)pi->size_bytes));
	json_object_set_new(j, "segments", json_integer(pi->segments));
	return j;
}

/* Describe @name into @out: partitions always, and with @detail each
 * partition's local replica and the effective configuration. */
static int
topic_json(struct gq_node *node, const char *name, bool detail, json_t **out)
{
	struct gq_topic_info *info;
	struct gq_partition_info pi;
	json_t *j, *parts, *cfg;
	int32_t n;
	int rv;

	if ((rv = gq_topic_describe(node, name, &info)) != 0)
		return rv;
	n = gq_topic_info_partitions(info);
	parts = json_array();
	for (int32_t i = 0; parts != NULL && i < n; i++)
		if (gq_topic_info_partition(info, i, &pi) == 0)
			json_array_append_new(parts,
					      partition_json(&pi, detail));
	j = json_pack("{s:s, s:b, s:i, s:o}", "name", name, "internal",
		      strncmp(name, "__", 2) == 0, "replication_factor",
		      (int)gq_topic_info_replication_factor(info), "partitions",
		      parts);
	if (j != NULL && detail && (cfg = json_object()) != NULL) {
		for (size_t k = 0; k < GQD_N_TOPIC_KEYS; k++) {
			const char *v = gq_config_get(
				gq_topic_info_config(info), gqd_topic_keys[k]);

			if (v != NULL)
				json_object_set_new(cfg, gqd_topic_keys[k],
						    json_string(v));
		}
		json_object_set_new(j, "config", cfg);
	}
	gq_topic_info_destroy(info);
	*out = j;
	return j != NULL ? 0 : GQ_ENOMEM;
}

/* ---- cluster and brokers ---------------------------------------------- */

void
gqd_admin_v1_cluster(struct gqd_admin_req *r)
{
	struct gq_broker_info *b;
	char **names;
	size_t n_b, n_t;
	json_t *j, *topics, *t;
	int rv;

	if ((rv = gq_cluster_brokers(r->node, &b, &n_b)) != 0) {
		gqd_admin_gq_error(r, rv, "brokers");
		return;
	}
	if ((rv = gq_topic_list(r->node, &names, &n_t)) != 0) {
		gq_cluster_brokers_free(b);
		gqd_admin_gq_error(r, rv, "topics");
		return;
	}
	topics = json_array();
	for (size_t i = 0; topics != NULL && i < n_t; i++) {
		/* A topic deleted since the list is simply left out. */
		if (topic_json(r->node, names[i], false, &t) == 0)
			json_array_append_new(topics, t);
	}
	j = json_pack("{s:i, s:i, s:o, s:o}", "node_id",
		      (int)gq_node_id(r->node), "controller",
		      (int)gq_cluster_controller(r->node), "brokers",
		      brokers_json(b, n_b), "topics", topics);
	gq_topic_list_free(names, n_t);
	gq_cluster_brokers_free(b);
	gqd_admin_json(r, MHD_HTTP_OK, j);
}

void
gqd_admin_v1_brokers(struct gqd_admin_req *r)
{
	struct gq_broker_info *b;
	size_t n;
	int rv;

	if ((rv = gq_cluster_brokers(r->node, &b, &n)) != 0) {
		gqd_admin_gq_error(r, rv, "brokers");
		return;
	}
	gqd_admin_json(r, MHD_HTTP_OK,
		       json_pack("{s:i, s:o}", "controller",
				 (int)gq_cluster_controller(r->node), "brokers",
				 brokers_json(b, n)));
	gq_cluster_brokers_free(b);
}

void
gqd_admin_v1_broker_remove(struct gqd_admin_req *r)
{
	int64_t id;
	char what[32];
	int rv;

	if (!gqd_admin_parse_int(r->params[0], 1, INT32_MAX, &id)) {
		gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
				"broker id '%.32s' is not a number >= 1",
				r->params[0]);
		return;
	}
	snprintf(what, sizeof(what), "broker %lld", (long long)id);
	if ((rv = gq_cluster_remove_broker(r->node, (int32_t)id)) != 0) {
		gqd_admin_gq_error(r, rv, what);
		return;
	}
	/* Committed; the replicas move away in the background. */
	gqd_admin_json(
		r, MHD_HTTP_ACCEPTED,
		json_pack("{s:i, s:b}", "broker", (int)id, "removing", 1));
}

/* ---- topics ----------------------------------------------------------- */

void
gqd_admin_v1_topics(struct gqd_admin_req *r)
{
	char **names;
	size_t n;
	json_t *topics, *t;
	int rv;

	if ((rv = gq_topic_list(r->node, &names, &n)) != 0) {
		gqd_admin_gq_error(r, rv, "topics");
		return;
	}
	topics = json_array();
	for (size_t i = 0; topics != NULL && i < n; i++) {
		if (topic_json(r->node, names[i], false, &t) != 0)
			continue;
		/* The list says how many partitions, not each. */
		json_object_set_new(t, "partitions",
				    json_integer((json_int_t)json_array_size(
					    json_object_get(t, "partitions"))));
		json_array_append_new(topics, t);
	}
	gq_topic_list_free(names, n);
	gqd_admin_json(r, MHD_HTTP_OK, json_pack("{s:o}", "topics", topics));
}

/* The body's "config" object set over @base (taken over; NULL: an empty
 * configuration) into *@out; false with a 400 set (naming the key) when a
 * key or value is refused. */
static bool
topic_config(struct gqd_admin_req *r, struct gq_config *base,
	     struct gq_config **out)
{
	json_t *cfg = json_object_get(r->body, "config"), *v;
	char msg[GQ_ERRMSG_SIZE], num[32];
	const char *key, *text;

	*out = base;
	if (cfg == NULL)
		return true;
	if (!json_is_object(cfg)) {
		gq_config_destroy(base);
		*out = NULL;
		bad_request(r, "'config' must be an object of keys and values");
		return false;
	}
	if (base == NULL && gq_config_create(out) != 0) {
		gqd_admin_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "GQ_ENOMEM",
				"out of memory");
		return false;
	}
	json_object_foreach(cfg, key, v)
	{
		if (json_is_string(v)) {
			text = json_string_value(v);
		} else if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(v));
			text = num;
		} else if (json_is_boolean(v)) {
			text = json_is_true(v) ? "true" : "false";
		} else {
			gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
					"config '%.64s' must be a string, an "
					"integer or a boolean",
					key);
			goto err_destroy;
		}
		msg[0] = '\0';
		if (gq_config_set(*out, key, text, msg) != 0) {
			gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
					"config '%.64s': %s", key,
					msg[0] != '\0' ? msg : "invalid");
			goto err_destroy;
		}
	}
	return true;
err_destroy:
	gq_config_destroy(*out);
	*out = NULL;
	return false;
}

void
gqd_admin_v1_topic_create(struct gqd_admin_req *r)
{
	static const char *const members[] = { "name", "partitions",
					       "replication_factor", "config",
					       NULL };
	struct gq_config *cfg, *base;
	json_t *name, *t;
	int32_t def_parts;
	int16_t def_rf;
	int64_t parts, rf;
	int rv;

	if (r->body == NULL) {
		bad_request(r, "a JSON body is required: {\"name\": ..., "
			       "\"partitions\": ..., \"replication_factor\": "
			       "..., \"config\": {...}}");
		return;
	}
	if (!only_members(r, members))
		return;
	name = json_object_get(r->body, "name");
	if (!json_is_string(name) ||
	    strlen(json_string_value(name)) != json_string_length(name)) {
		bad_request(r, "'name' must be a string");
		return;
	}
	if (gqd_admin_topic_defaults(r->admin, &def_parts, &def_rf, &base)) {
		gqd_admin_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "GQ_ENOMEM",
				"out of memory");
		return;
	}
	parts = def_parts;
	rf = def_rf;
	if (!int_member(r, "partitions", false, 1, INT32_MAX, &parts) ||
	    !int_member(r, "replication_factor", false, 1, GQ_REPLICAS_MAX,
			&rf)) {
		gq_config_destroy(base);
		return;
	}
	if (!topic_config(r, base, &cfg))
		return;
	rv = gq_topic_create(r->node, json_string_value(name), (int32_t)parts,
			     (int16_t)rf, cfg);
	gq_config_destroy(cfg);
	if (rv != 0) {
		gqd_admin_gq_error(r, rv, json_string_value(name));
		return;
	}
	if (topic_json(r->node, json_string_value(name), true, &t) != 0)
		t = json_pack("{s:s}", "name", json_string_value(name));
	gqd_admin_json(r, MHD_HTTP_CREATED, t);
}

void
gqd_admin_v1_topic(struct gqd_admin_req *r)
{
	json_t *t;
	int rv;

	if ((rv = topic_json(r->node, r->params[0], true, &t)) != 0) {
		gqd_admin_gq_error(r, rv, r->params[0]);
		return;
	}
	gqd_admin_json(r, MHD_HTTP_OK, t);
}

void
gqd_admin_v1_topic_delete(struct gqd_admin_req *r)
{
	int rv;

	if ((rv = gq_topic_delete(r->node, r->params[0])) != 0) {
		gqd_admin_gq_error(r, rv, r->params[0]);
		return;
	}
	gqd_admin_json(r, MHD_HTTP_OK,
		       json_pack("{s:s}", "deleted", r->params[0]));
}

/* A partial topic document, as JSON merge patches go: only its "config"
 * may change, the keys given taking their new values. */
void
gqd_admin_v1_topic_alter(struct gqd_admin_req *r)
{
	static const char *const members[] = { "config", NULL };
	static const char *const fixed[] = { "name", "partitions",
					     "replication_factor", "internal" };
	struct gq_config *cfg;
	json_t *t;
	int rv;

	if (r->body == NULL) {
		bad_request(r, "a JSON body is required: {\"config\": "
			       "{\"retention_time\": \"24h\", ...}}");
		return;
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (json_object_get(r->body, fixed[i]) != NULL) {
			gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
					"'%s' cannot change: only 'config' "
					"can (replicas move with "
					".../partitions/{p}/reassign)",
					fixed[i]);
			return;
		}
	}
	if (!only_members(r, members) || !topic_config(r, NULL, &cfg))
		return;
	rv = gq_topic_alter(r->node, r->params[0], cfg);
	gq_config_destroy(cfg);
	if (rv != 0) {
		gqd_admin_gq_error(r, rv, r->params[0]);
		return;
	}
	if ((rv = topic_json(r->node, r->params[0], true, &t)) != 0) {
		gqd_admin_gq_error(r, rv, r->params[0]);
		return;
	}
	gqd_admin_json(r, MHD_HTTP_OK, t);
}

void
gqd_admin_v1_move_leader(struct gqd_admin_req *r)
{
	static const char *const members[] = { "broker", NULL };
	int32_t partition;
	int64_t broker;
	char what[GQ_NAME_MAX + 32];
	int rv;

	if (!path_partition(r, &partition))
		return;
	if (r->body == NULL) {
		bad_request(r, "a JSON body is required: {\"broker\": id}");
		return;
	}
	if (!only_members(r, members) ||
	    !int_member(r, "broker", true, 1, INT32_MAX, &broker))
		return;
	snprintf(what, sizeof(what), "%s/%d", r->params[0], (int)partition);
	rv = gq_partition_move_leader(r->node, r->params[0], partition,
				      (int32_t)broker);
	if (rv != 0) {
		gqd_admin_gq_error(r, rv, what);
		return;
	}
	/* Committed; the leader hands over within about a second. */
	gqd_admin_json(r, MHD_HTTP_ACCEPTED,
		       json_pack("{s:s, s:i, s:i}", "topic", r->params[0],
				 "partition", (int)partition, "broker",
				 (int)broker));
}

void
gqd_admin_v1_reassign(struct gqd_admin_req *r)
{
	static const char *const members[] = { "replicas", NULL };
	int32_t ids[GQ_REPLICAS_MAX];
	char what[GQ_NAME_MAX + 32];
	int32_t partition;
	json_t *a, *v;
	size_t i, n;
	int rv;

	if (!path_partition(r, &partition))
		return;
	if (r->body == NULL) {
		bad_request(r, "a JSON body is required: "
			       "{\"replicas\": [id, ...]}");
		return;
	}
	if (!only_members(r, members))
		return;
	a = json_object_get(r->body, "replicas");
	n = json_array_size(a);
	if (!json_is_array(a) || n == 0 || n > GQ_REPLICAS_MAX) {
		gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
				"'replicas' must be an array of 1 to %d "
				"broker ids",
				GQ_REPLICAS_MAX);
		return;
	}
	json_array_foreach(a, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > INT32_MAX) {
			bad_request(r, "'replicas' must hold broker ids >= 1");
			return;
		}
		ids[i] = (int32_t)json_integer_value(v);
	}
	snprintf(what, sizeof(what), "%s/%d", r->params[0], (int)partition);
	rv = gq_partition_reassign(r->node, r->params[0], partition, ids, n);
	if (rv != 0) {
		gqd_admin_gq_error(r, rv, what);
		return;
	}
	/* Committed; replicas are added and removed in the background. */
	gqd_admin_json(r, MHD_HTTP_ACCEPTED,
		       json_pack("{s:s, s:i, s:o}", "topic", r->params[0],
				 "partition", (int)partition, "replicas",
				 int_array(ids, n)));
}

/* ---- groups ----------------------------------------------------------- */

void
gqd_admin_v1_groups(struct gqd_admin_req *r)
{
	struct gq_group_info *g;
	json_t *a;
	size_t n;
	int rv;

	if ((rv = gq_group_list(r->node, &g, &n)) != 0) {
		gqd_admin_gq_error(r, rv, "groups");
		return;
	}
	a = json_array();
	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(
			a, json_pack("{s:s, s:s, s:s, s:s, s:i, s:i}", "group",
				     g[i].group, "state", g[i].state,
				     "protocol_type", g[i].protocol_type,
				     "protocol", g[i].protocol, "generation",
				     (int)g[i].generation, "members",
				     (int)g[i].n_members));
	gq_group_list_free(g, n);
	/* Each node lists the groups it coordinates. */
	gqd_admin_json(r, MHD_HTTP_OK,
		       json_pack("{s:i, s:o}", "coordinator",
				 (int)gq_node_id(r->node), "groups", a));
}

static json_t *
members_json(const struct gq_group_info *g)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < g->n_members; i++) {
		const struct gq_group_member_info *m = &g->members[i];

		json_array_append_new(
			a,
			json_pack("{s:s, s:s?, s:s, s:s, s:i}", "member_id",
				  m->member_id, "group_instance_id",
				  m->group_instance_id, "client_id",
				  m->client_id, "client_host", m->client_host,
				  "assignment_bytes", (int)m->assignment_len));
	}
	return a;
}

static json_t *
offsets_json(struct gq_node *node, const char *group)
{
	struct gq_group_lag *lags;
	json_t *a = json_array();
	size_t n;

	if (a == NULL || gq_group_lags(node, group, &lags, &n) != 0)
		return a;
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack(
			"{s:s, s:i, s:I, s:I}", "topic", lags[i].topic,
			"partition", (int)lags[i].partition, "committed",
			(json_int_t)lags[i].committed, "high_watermark",
			(json_int_t)lags[i].high_watermark);

		/* Unknown without a replica here: null rather than -1. */
		if (o != NULL)
			json_object_set_new(o, "lag",
					    lags[i].lag >= 0
						    ? json_integer(lags[i].lag)
						    : json_null());
		json_array_append_new(a, o);
	}
	gq_group_lag_free(lags);
	return a;
}

bool
gqd_admin_misdirected(struct gqd_admin_req *r, const char *group)
{
	int32_t coordinator;

	if (gq_group_coordinator(r->node, group, &coordinator) != 0)
		return false;
	gqd_admin_json(r, MHD_HTTP_MISDIRECTED_REQUEST,
		       json_pack("{s:s, s:s, s:i}", "error",
				 "this node does not coordinate the group: "
				 "ask its coordinator",
				 "code", "GQ_ENOTCOORD", "coordinator",
				 (int)coordinator));
	snprintf(r->error, sizeof(r->error), "not the coordinator");
	return true;
}

void
gqd_admin_v1_group(struct gqd_admin_req *r)
{
	const char *group = r->params[0];
	struct gq_group_info *g;
	int rv;

	rv = gq_group_describe(r->node, group, &g);
	if (rv == GQ_ENOTCOORD && gqd_admin_misdirected(r, group))
		return;
	if (rv != 0) {
		gqd_admin_gq_error(r, rv, group);
		return;
	}
	if (strcmp(g->state, "Dead") == 0) {
		gq_group_info_destroy(g);
		gqd_admin_error(r, MHD_HTTP_NOT_FOUND, "GQ_ENOTFOUND",
				"no group '%.*s'", GQ_NAME_MAX, group);
		return;
	}
	gqd_admin_json(
		r, MHD_HTTP_OK,
		json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:o, s:o}",
			  "group", g->group, "state", g->state, "protocol_type",
			  g->protocol_type, "protocol", g->protocol,
			  "generation", (int)g->generation, "leader", g->leader,
			  "coordinator", (int)gq_node_id(r->node), "members",
			  members_json(g), "offsets",
			  offsets_json(r->node, group)));
	gq_group_info_destroy(g);
}

/* ---- configuration ---------------------------------------------------- */

static const char *
reload_name(enum gqd_reload reload)
{
	switch (reload) {
	case GQD_RELOAD_YES:
		return "yes";
	case GQD_RELOAD_LATER:
		return "later";
	default:
		return "no";
	}
}

/* { key: {"value", "reload", "reloadable"} } of @cfg, on the loop. */
static json_t *
config_json(const struct gqd_config *cfg)
{
	const struct gqd_config_key *k;
	char v[GQD_PATH_SIZE];
	json_t *keys = json_object();
	bool dflt;

	for (size_t i = 0; keys != NULL && (k = gqd_config_key_at(i)); i++) {
		if (k->alias || gqd_config_format(cfg, k->name, v, sizeof(v)))
			continue;
		/* An unset library key runs with the library's default. */
		dflt = k->library && v[0] == '\0';
		json_object_set_new(keys, k->name,
				    json_pack("{s:s, s:s, s:b, s:b}", "value",
					      dflt ? k->def : v, "reload",
					      reload_name(k->reload),
					      "reloadable",
					      k->reload == GQD_RELOAD_YES,
					      "library_default", dflt));
	}
	return keys;
}

struct config_call {
	json_t *out;
	bool reload;
	struct gqd_reload_outcome outcome;
};

static json_t *
key_list(const struct gqd_config_key *const *keys, size_t n,
	 const struct gqd_config *cfg, bool values)
{
	char v[GQD_PATH_SIZE];
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++) {
		json_t *o = json_pack("{s:s, s:s}", "key", keys[i]->name,
				      "reload", reload_name(keys[i]->reload));

		if (o != NULL && values &&
		    gqd_config_format(cfg, keys[i]->name, v, sizeof(v)) == 0)
			json_object_set_new(o, "value", json_string(v));
		json_array_append_new(a, o);
	}
	return a;
}

/* On gqd's loop thread. */
static void
config_main(const struct gqd_admin_daemon *d, void *arg)
{
	struct config_call *c = arg;
	const struct gqd_reload_outcome *o = &c->outcome;

	if (!c->reload) {
		c->out = json_pack("{s:o}", "keys", config_json(d->cfg));
		return;
	}
	d->reload(d->arg, &c->outcome);
	if (o->status != 0)
		return;
	c->out = json_pack("{s:o, s:o}", "applied",
			   key_list(o->applied, o->n_applied, d->cfg, true),
			   "restart_required",
			   key_list(o->restart, o->n_restart, d->cfg, false));
	if (c->out != NULL)
		json_object_set_new(c->out, "topics_altered",
				    json_integer((json_int_t)o->n_topics));
	if (c->out != NULL && o->log_error[0] != '\0')
		json_object_set_new(c->out, "log_error",
				    json_string(o->log_error));
}

static void
config_call(struct gqd_admin_req *r, bool reload)
{
	struct config_call c;
	int rv;

	memset(&c, 0, sizeof(c));
	c.reload = reload;
	if ((rv = gqd_admin_on_loop(r->admin, config_main, &c)) != 0) {
		gqd_admin_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				gqd_admin_code(rv), "%s",
				rv == GQ_ECLOSED ? "gqd is shutting down"
						 : "gqd is still starting");
		return;
	}
	if (reload && c.outcome.status != 0) {
		/* Nothing changed: the file does not parse or validate. */
		gqd_admin_error(r,
				c.outcome.status == GQ_EIO
					? MHD_HTTP_INTERNAL_SERVER_ERROR
					: MHD_HTTP_BAD_REQUEST,
				gqd_admin_code(c.outcome.status), "%s",
				c.outcome.error);
		return;
	}
	gqd_admin_json(r, MHD_HTTP_OK, c.out);
}

void
gqd_admin_v1_config(struct gqd_admin_req *r)
{
	config_call(r, false);
}

void
gqd_admin_v1_config_reload(struct gqd_admin_req *r)
{
	config_call(r, true);
}
