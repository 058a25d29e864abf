/* SPDX-License-Identifier: MIT */
/*
 * kapi_admin.c - the admin APIs of the Kafka codec: CreateTopics,
 * DeleteTopics, DescribeConfigs and IncrementalAlterConfigs (contracts in
 * kapi.h).
 *
 * Same rules as kapi_data.c: one walker per body for both directions
 * (kapi_internal.h), field order from the Kafka 3.4.0 message JSON
 * (KAFKA-PROTOCOL.md Appendix A/B), the smallest wire size of each array
 * element noted at its kio_array() call, and Kafka's defaults for fields
 * a version lacks.
 */
#include "kapi.h"

#include "kapi_internal.h"

/*
 * CreateTopics
 */

/* One CreatableTopic with its assignments and configs. */
static void
creatable_topic(struct kio *io, struct gqk_create_topics_req_topic *t)
{
	struct gqk_create_topics_req_assignment *as;
	struct gqk_create_topics_req_config *c;
	int32_t j, *ids;

	kio_string(io, &t->name);
	kio_i32(io, &t->num_partitions);
	kio_i16(io, &t->replication_factor);
	/* Assignment: index (4) + broker id count (4). */
	as = kio_array(io, false, sizeof(*as), 8, &t->n_assignments,
		       t->assignments);
	KIO_KEEP(io, t->assignments, as);
	for (j = 0; j < t->n_assignments && kio_ok(io); j++) {
		kio_i32(io, &as[j].partition_index);
		ids = kio_i32_array(io, &as[j].n_broker_ids, as[j].broker_ids);
		KIO_KEEP(io, as[j].broker_ids, ids);
	}
	/* Config: name (2) + value (2). */
	c = kio_array(io, false, sizeof(*c), 4, &t->n_configs, t->configs);
	KIO_KEEP(io, t->configs, c);
	for (j = 0; j < t->n_configs && kio_ok(io); j++) {
		kio_string(io, &c[j].name);
		kio_nullable_string(io, &c[j].value);
	}
}

static void
create_topics_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_create_topics_req *m = msg;
	struct gqk_create_topics_req_topic *t;
	int32_t i;

	/* Topic: name 2, partitions 4, replication 2, two counts 8. */
	t = kio_array(io, false, sizeof(*t), 16, &m->n_topics, m->topics);
	KIO_KEEP(io, m->topics, t);
	for (i = 0; i < m->n_topics && kio_ok(io); i++)
		creatable_topic(io, &t[i]);
	kio_i32(io, &m->timeout_ms);
	if (v >= 1)
		kio_bool(io, &m->validate_only);
}

static void
create_topics_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_create_topics_resp *m = msg;
	struct gqk_create_topics_resp_topic *t;
	int32_t i;

	if (v >= 2)
		kio_i32(io, &m->throttle_time_ms);
	/* Topic: name (2) + error (2). */
	t = kio_array(io, false, sizeof(*t), 4, &m->n_topics, m->topics);
	KIO_KEEP(io, m->topics, t);
	for (i = 0; i < m->n_topics && kio_ok(io); i++) {
		kio_string(io, &t[i].name);
		kio_i16(io, &t[i].error_code);
		kio_nullable_string_if(io, v >= 1, &t[i].error_message);
	}
}

KIO_ENTRY_POINTS(create_topics, GQK_CREATE_TOPICS)

/*
 * DeleteTopics
 */

static void
delete_topics_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_delete_topics_req *m = msg;
	struct gqk_str *names;

	(void)v;
	names = kio_string_array(io, false, &m->n_topic_names, m->topic_names);
	KIO_KEEP(io, m->topic_names, names);
	kio_i32(io, &m->timeout_ms);
}

static void
delete_topics_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_delete_topics_resp *m = msg;
	struct gqk_delete_topics_resp_topic *t;
	int32_t i;

	if (v >= 1)
		kio_i32(io, &m->throttle_time_ms);
	/* Result: name (2) + error (2). */
	t = kio_array(io, false, sizeof(*t), 4, &m->n_responses, m->responses);
	KIO_KEEP(io, m->responses, t);
	for (i = 0; i < m->n_responses && kio_ok(io); i++) {
		kio_string(io, &t[i].name);
		kio_i16(io, &t[i].error_code);
	}
}

KIO_ENTRY_POINTS(delete_topics, GQK_DELETE_TOPICS)

/*
 * DescribeConfigs
 */

static void
describe_configs_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_describe_configs_req *m = msg;
	struct gqk_describe_configs_req_resource *res;
	struct gqk_str *keys;
	int32_t i;

	/* Resource: type 1, name 2, key count 4. */
	res = kio_array(io, false, sizeof(*res), 7, &m->n_resources,
			m->resources);
	KIO_KEEP(io, m->resources, res);
	for (i = 0; i < m->n_resources && kio_ok(io); i++) {
		kio_i8(io, &res[i].resource_type);
		kio_string(io, &res[i].resource_name);
		/* Null asks for every key. */
		keys = kio_string_array(io, true, &res[i].n_configuration_keys,
					res[i].configuration_keys);
		KIO_KEEP(io, res[i].configuration_keys, keys);
	}
	if (v >= 1)
		kio_bool(io, &m->include_synonyms);
}

/* One DescribeConfigsResourceResult's config entry. */
static void
config_entry(struct kio *io, int16_t v, struct gqk_describe_configs_entry *c)
{
	struct gqk_describe_configs_synonym *s;
	int32_t k;

	kio_string(io, &c->name);
	kio_nullable_string(io, &c->value);
	kio_bool(io, &c->read_only);
	/* v0 says IsDefault where v1+ says ConfigSource (default -1). */
	if (v == 0)
		kio_bool(io, &c->is_default);
	kio_i8_if(io, v >= 1, &c->config_source, -1);
	kio_bool(io, &c->is_sensitive);
	if (v == 0)
		return;
	/* Synonym: name 2, value 2, source 1. */
	s = kio_array(io, false, sizeof(*s), 5, &c->n_synonyms, c->synonyms);
	KIO_KEEP(io, c->synonyms, s);
	for (k = 0; k < c->n_synonyms && kio_ok(io); k++) {
		kio_string(io, &s[k].name);
		kio_nullable_string(io, &s[k].value);
		kio_i8(io, &s[k].source);
	}
}

static void
describe_configs_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_describe_configs_resp *m = msg;
	struct gqk_describe_configs_result *res;
	struct gqk_describe_configs_entry *c;
	int32_t i, j;

	kio_i32(io, &m->throttle_time_ms);
	/* Result: error 2, message 2, type 1, name 2, config count 4. */
	res = kio_array(io, false, sizeof(*res), 11, &m->n_results, m->results);
	KIO_KEEP(io, m->results, res);
	for (i = 0; i < m->n_results && kio_ok(io); i++) {
		kio_i16(io, &res[i].error_code);
		kio_nullable_string(io, &res[i].error_message);
		kio_i8(io, &res[i].resource_type);
		kio_string(io, &res[i].resource_name);
		/* Entry: name 2, value 2, three flags 3 (v0). */
		c = kio_array(io, false, sizeof(*c), 7, &res[i].n_configs,
			      res[i].configs);
		KIO_KEEP(io, res[i].configs, c);
		for (j = 0; j < res[i].n_configs && kio_ok(io); j++)
			config_entry(io, v, &c[j]);
	}
}

KIO_ENTRY_POINTS(describe_configs, GQK_DESCRIBE_CONFIGS)

/*
 * IncrementalAlterConfigs
 */

static void
incremental_alter_configs_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_incremental_alter_configs_req *m = msg;
	struct gqk_alter_configs_req_resource *res;
	struct gqk_alter_configs_req_config *c;
	int32_t i, j;

	(void)v;
	/* Resource: type 1, name 2, config count 4. */
	res = kio_array(io, false, sizeof(*res), 7, &m->n_resources,
			m->resources);
	KIO_KEEP(io, m->resources, res);
	for (i = 0; i < m->n_resources && kio_ok(io); i++) {
		kio_i8(io, &res[i].resource_type);
		kio_string(io, &res[i].resource_name);
		/* Config: name 2, operation 1, value 2. */
		c = kio_array(io, false, sizeof(*c), 5, &res[i].n_configs,
			      res[i].configs);
		KIO_KEEP(io, res[i].configs, c);
		for (j = 0; j < res[i].n_configs && kio_ok(io); j++) {
			kio_string(io, &c[j].name);
			kio_i8(io, &c[j].config_operation);
			kio_nullable_string(io, &c[j].value);
		}
	}
	kio_bool(io, &m->validate_only);
}

static void
incremental_alter_configs_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_incremental_alter_configs_resp *m = msg;
	struct gqk_alter_configs_resp_resource *res;
	int32_t i;

	(void)v;
	kio_i32(io, &m->throttle_time_ms);
	/* Response: error 2, message 2, type 1, name 2. */
	res = kio_array(io, false, sizeof(*res), 7, &m->n_responses,
			m->responses);
	KIO_KEEP(io, m->responses, res);
	for (i = 0; i < m->n_responses && kio_ok(io); i++) {
		kio_i16(io, &res[i].error_code);
		kio_nullable_string(io, &res[i].error_message);
		kio_i8(io, &res[i].resource_type);
		kio_string(io, &res[i].resource_name);
	}
}

KIO_ENTRY_POINTS(incremental_alter_configs, GQK_INCREMENTAL_ALTER_CONFIGS)

/*
 * The walkers of this file, for the dispatchers in kapi.c.
 */

const struct kio_api gqk__admin_walkers[] = {
	{ GQK_CREATE_TOPICS, create_topics_req, create_topics_resp },
	{ GQK_DELETE_TOPICS, delete_topics_req, delete_topics_resp },
	{ GQK_DESCRIBE_CONFIGS, describe_configs_req, describe_configs_resp },
	{ GQK_INCREMENTAL_ALTER_CONFIGS, incremental_alter_configs_req,
	  incremental_alter_configs_resp },
};

const size_t gqk__n_admin_walkers =
	sizeof(gqk__admin_walkers) / sizeof(gqk__admin_walkers[0]);
