/* SPDX-License-Identifier: MIT */
/*
 * cmd_topic.c - `gqctl topic create|delete|list|describe|alter` over the
 * admin API's /v1/topics routes, and the table of the topic noun, which
 * also lists `topic produce` and `topic consume` (client.h).
 *
 * --json prints the server's topic documents as they are (gqd(8) and
 * gqctl(1) list their members), except that `topic list` drops internal
 * topics unless asked, in both outputs alike.  Per-partition offsets and
 * sizes are those of the replica on the node asked; -1 (shown "-") means
 * it holds none.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "gqctl.h"
#include "human.h"
#include "rest.h"
#include "table.h"

/* ---- create ----------------------------------------------------------- */

struct create_opts {
	const struct gqctl *g;
	long long partitions; /* -1: the server's default */
	long long rf;
	json_t *config;
	bool oom;
};

static int
create_opt(void *arg, int opt, const char *val)
{
	struct create_opts *o = arg;
	const char *eq;
	char *key;

	switch (opt) {
	case 'p':
		if (!gqctl_parse_int(val, INT32_MAX, &o->partitions) ||
		    o->partitions < 1) {
			gqctl_usage(o->g,
				    "--partitions: not a number >= 1: '%s'",
				    val);
			return -1;
		}
		return 0;
	case 'r':
		if (!gqctl_parse_int(val, 8, &o->rf) || o->rf < 1) {
			gqctl_usage(o->g,
				    "--replication-factor: not a number from 1 "
				    "to 8: '%s'",
				    val);
			return -1;
		}
		return 0;
	case 'c':
		if ((eq = strchr(val, '=')) == NULL || eq == val) {
			gqctl_usage(o->g,
				    "--config: expected KEY=VALUE, got "
				    "'%s'",
				    val);
			return -1;
		}
		/* Values go as text: the server parses each key's type
		 * (sizes, durations, booleans) as gqd.conf does. */
		if ((key = strndup(val, (size_t)(eq - val))) == NULL ||
		    json_object_set_new(o->config, key, json_string(eq + 1))) {
			free(key);
			o->oom = true;
			gqctl_err("out of memory");
			return -1;
		}
		free(key);
		return 0;
	}
	return 0;
}

/* Print a topic document's "config" object as a table. */
static void
print_config(const json_t *cfg)
{
	static const char *const cheads[] = { "CONFIG", "VALUE" };
	struct table *ct;
	const char *key;
	json_t *v;

	if (!json_is_object(cfg) || (ct = table_new(cheads, 2)) == NULL)
		return;
	json_object_foreach((json_t *)cfg, key, v)
	{
		table_cell(ct, "%s", key);
		table_cell(ct, "%s",
			   json_is_string(v) ? json_string_value(v) : "?");
	}
	table_print(ct, stdout);
	table_free(ct);
}

/* Print the describe of @t (a topic document). */
static void
print_topic(const json_t *t)
{
	static const char *const pheads[] = {
		">PARTITION",    ">LEADER",    ">EPOCH",          "REPLICAS",
		"LIVE REPLICAS", ">LOG START", ">HIGH WATERMARK", ">SIZE",
	};
	const json_t *parts = json_object_get(t, "partitions");
	const json_t *cfg = json_object_get(t, "config");
	const char *pairs[8];
	struct table *pt;
	char rf[16];
	char np[16];
	json_t *p;
	size_t i;

	snprintf(np, sizeof(np), "%zu", json_array_size(parts));
	snprintf(rf, sizeof(rf), "%lld", rest_int(t, "replication_factor", -1));
	pairs[0] = "NAME";
	pairs[1] = rest_str(t, "name", "?");
	pairs[2] = "INTERNAL";
	pairs[3] = rest_bool(t, "internal", false) ? "yes" : "no";
	pairs[4] = "PARTITIONS";
	pairs[5] = np;
	pairs[6] = "REPLICATION FACTOR";
	pairs[7] = rf;
	table_print_pairs(stdout, pairs, 4);
	if ((pt = table_new(pheads, 8)) == NULL)
		return;
	json_array_foreach(parts, i, p)
	{
		char reps[128] = "";
		char live[128] = "";
		char size[32] = "-";
		long long v;

		rest_ids(json_object_get(p, "replicas"), reps, sizeof(reps));
		rest_ids(json_object_get(p, "live_replicas"), live,
			 sizeof(live));
		if ((v = rest_int(p, "size_bytes", -1)) >= 0 &&
		    rest_int(p, "log_start", -1) >= 0)
			human_size(size, sizeof(size), (uint64_t)v);
		table_cell(pt, "%lld", rest_int(p, "partition", -1));
		table_cell_num(pt, rest_int(p, "leader", -1));
		table_cell_num(pt, rest_int(p, "leader_epoch", -1));
		table_cell(pt, "%s", reps);
		table_cell(pt, "%s", live);
		table_cell_num(pt, rest_int(p, "log_start", -1));
		table_cell_num(pt, rest_int(p, "high_watermark", -1));
		table_cell(pt, "%s", size);
	}
	putchar('\n');
	table_print(pt, stdout);
	table_free(pt);
	if (!json_is_object(cfg))
		return;
	putchar('\n');
	print_config(cfg);
}

/* The options of create and alter into @o (whose config object is made
 * here), and the NAME they need.  GQCTL_OK with *@first, or an exit
 * code; *@help when --help was answered. */
static int
parse_topic_opts(struct gqctl *g, int argc, char **argv, struct create_opts *o,
		 int *first, bool *help)
{
	int rv;

	*help = false;
	if ((o->config = json_object()) == NULL) {
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	rv = gqctl_parse(g, argc, argv, create_opt, o, first, help);
	if (rv != GQCTL_OK || *help)
		return rv;
	if (o->oom)
		return GQCTL_FAILED;
	return gqctl_want_args(g, argc, argv, *first, 1, "NAME");
}

static int
topic_create(struct gqctl *g, int argc, char **argv)
{
	struct create_opts o = { g, -1, -1, NULL, false };
	char what[300];
	json_t *body = NULL;
	json_t *ans = NULL;
	bool help;
	int first;
	int rv;

	rv = parse_topic_opts(g, argc, argv, &o, &first, &help);
	if (rv != GQCTL_OK || help)
		goto out;
	snprintf(what, sizeof(what), "topic create %s", argv[first]);
	if ((body = json_pack("{s:s}", "name", argv[first])) == NULL ||
	    (o.partitions > 0 &&
	     json_object_set_new(body, "partitions",
				 json_integer(o.partitions)) != 0) ||
	    (o.rf > 0 && json_object_set_new(body, "replication_factor",
					     json_integer(o.rf)) != 0) ||
	    (json_object_size(o.config) > 0 &&
	     json_object_set(body, "config", o.config) != 0)) {
		gqctl_err("%s: out of memory", what);
		rv = GQCTL_FAILED;
		goto out;
	}
	rv = rest_call(g, what, "POST", "/v1/topics", body, &ans);
	if (rv != GQCTL_OK)
		goto out;
	if (g->json) {
		rv = gqctl_print_json(
			ans != NULL ? json_incref(ans)
				    : json_pack("{s:s}", "name", argv[first]));
		goto out;
	}
	printf("created topic %s: %zu partitions, replication factor %lld\n",
	       argv[first], json_array_size(json_object_get(ans, "partitions")),
	       rest_int(ans, "replication_factor", o.rf));
out:
	json_decref(ans);
	json_decref(body);
	json_decref(o.config);
	return rv;
}

/* ---- delete, describe --------------------------------------------------- */

/* The path /v1/topics/<name> with @name escaped, then @tail. */
static char *
topic_path(const char *name, const char *tail)
{
	char *esc = rest_escape(name);
	char *path = NULL;

	if (esc == NULL)
		return NULL;
	if (asprintf(&path, "/v1/topics/%s%s", esc, tail) < 0) {
		gqctl_err("out of memory");
		path = NULL;
	}
	free(esc);
	return path;
}

static int
topic_delete(struct gqctl *g, int argc, char **argv)
{
	char what[300];
	json_t *ans = NULL;
	char *path;
	bool help;
	int first;
	int rv;

	if ((rv = gqctl_args(g, argc, argv, 1, "NAME", &first, &help)) !=
		    GQCTL_OK ||
	    help)
		return rv;
	snprintf(what, sizeof(what), "topic delete %s", argv[first]);
	if ((path = topic_path(argv[first], "")) == NULL)
		return GQCTL_FAILED;
	rv = rest_call(g, what, "DELETE", path, NULL, &ans);
	free(path);
	if (rv != GQCTL_OK)
		return rv;
	if (g->json)
		return gqctl_print_json(
			ans != NULL
				? ans
				: json_pack("{s:s}", "deleted", argv[first]));
	json_decref(ans);
	printf("deleted topic %s\n", argv[first]);
	return GQCTL_OK;
}

static int
topic_describe(struct gqctl *g, int argc, char **argv)
{
	char what[300];
	json_t *ans = NULL;
	char *path;
	bool help;
	int first;
	int rv;

	if ((rv = gqctl_args(g, argc, argv, 1, "NAME", &first, &help)) !=
		    GQCTL_OK ||
	    help)
		return rv;
	snprintf(what, sizeof(what), "topic describe %s", argv[first]);
	if ((path = topic_path(argv[first], "")) == NULL)
		return GQCTL_FAILED;
	rv = rest_get(g, what, path, &ans);
	free(path);
	if (rv != GQCTL_OK)
		return rv;
	if (g->json)
		return gqctl_print_json(ans);
	print_topic(ans);
	json_decref(ans);
	return GQCTL_OK;
}

/* ---- alter -------------------------------------------------------------- */

static int
topic_alter(struct gqctl *g, int argc, char **argv)
{
	struct create_opts o = { g, -1, -1, NULL, false };
	char what[300];
	json_t *body = NULL;
	json_t *ans = NULL;
	char *path = NULL;
	bool help;
	int first;
	int rv;

	rv = parse_topic_opts(g, argc, argv, &o, &first, &help);
	if (rv != GQCTL_OK || help)
		goto out;
	if (json_object_size(o.config) == 0) {
		rv = gqctl_usage(g, "give at least one --config KEY=VALUE");
		goto out;
	}
	snprintf(what, sizeof(what), "topic alter %s", argv[first]);
	if ((body = json_pack("{s:O}", "config", o.config)) == NULL) {
		gqctl_err("%s: out of memory", what);
		rv = GQCTL_FAILED;
		goto out;
	}
	if ((path = topic_path(argv[first], "")) == NULL) {
		rv = GQCTL_FAILED;
		goto out;
	}
	rv = rest_call(g, what, "PATCH", path, body, &ans);
	if (rv != GQCTL_OK)
		goto out;
	if (g->json) {
		rv = gqctl_print_json(json_incref(ans));
		goto out;
	}
	print_config(json_object_get(ans, "config"));
out:
	free(path);
	json_decref(ans);
	json_decref(body);
	json_decref(o.config);
	return rv;
}

/* ---- list --------------------------------------------------------------- */

static int
list_opt(void *arg, int opt, const char *val)
{
	(void)val;
	if (opt == 'i')
		*(bool *)arg = true;
	return 0;
}

static int
topic_list(struct gqctl *g, int argc, char **argv)
{
	static const char *const heads[] = { "NAME", ">PARTITIONS",
					     ">REPLICATION FACTOR" };
	bool internal = false;
	struct table *t;
	json_t *ans = NULL;
	json_t *topics;
	json_t *o;
	size_t i;
	bool help;
	int first;
	int rv;

	if ((rv = gqctl_parse(g, argc, argv, list_opt, &internal, &first,
			      &help)) != GQCTL_OK ||
	    help)
		return rv;
	if ((rv = gqctl_want_args(g, argc, argv, first, 0, "")) != GQCTL_OK)
		return rv;
	if ((rv = rest_get(g, "topic list", "/v1/topics", &ans)) != GQCTL_OK)
		return rv;
	topics = json_object_get(ans, "topics");
	/* Same filter for both outputs: --json shows what the table shows. */
	for (i = json_array_size(topics); i-- > 0;) {
		o = json_array_get(topics, i);
		if (!internal && rest_bool(o, "internal", false))
			json_array_remove(topics, i);
	}
	if (g->json)
		return gqctl_print_json(ans);
	if ((t = table_new(heads, 3)) == NULL) {
		json_decref(ans);
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	json_array_foreach(topics, i, o)
	{
		table_cell(t, "%s", rest_str(o, "name", "?"));
		table_cell(t, "%lld", rest_int(o, "partitions", -1));
		table_cell(t, "%lld", rest_int(o, "replication_factor", -1));
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(ans);
	return GQCTL_OK;
}

static const struct option create_options[] = {
	{ "partitions", required_argument, NULL, 'p' },
	{ "replication-factor", required_argument, NULL, 'r' },
	{ "config", required_argument, NULL, 'c' },
	{ NULL, 0, NULL, 0 },
};

static const struct option alter_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ NULL, 0, NULL, 0 },
};

static const struct option list_options[] = {
	{ "internal", no_argument, NULL, 'i' },
	{ NULL, 0, NULL, 0 },
};

/* produce and consume (cmd_produce.c, cmd_consume.c) go through the Kafka
 * port rather than the admin API; their help lives with their code. */
const struct gqctl_cmd gqctl_topic_cmds[] = {
	{ "topic", "create",
	  "NAME [--partitions N] [--replication-factor N] [--config "
	  "KEY=VALUE]...",
	  "Create a topic",
	  "  NAME                        1 to 249 characters of a-z A-Z 0-9 "
	  ". _ -\n"
	  "  -p, --partitions N          partitions (default: gqd's "
	  "default_partitions)\n"
	  "  -r, --replication-factor N  replicas of each partition, 1 to 8\n"
	  "                              (default: "
	  "default_replication_factor)\n"
	  "  -c, --config KEY=VALUE      a topic setting (segment_size,\n"
	  "                              retention_time, retention_bytes,\n"
	  "                              compression_type, ...; see "
	  "gqd.conf(5));\n"
	  "                              repeat for several\n",
	  "  gqctl topic create orders --partitions 6 --replication-factor "
	  "3 \\\n"
	  "      --config retention_time=72h --config "
	  "compression_type=zstd\n",
	  topic_create, create_options },
	{ "topic", "delete", "NAME", "Delete a topic and all its data",
	  "  NAME  the topic\n", "  gqctl topic delete orders\n", topic_delete,
	  NULL },
	{ "topic", "list", "[--internal]", "List the topics",
	  "  -i, --internal  include internal topics "
	  "(__consumer_offsets)\n",
	  "  gqctl topic list\n", topic_list, list_options },
	{ "topic", "describe", "NAME",
	  "Show a topic's partitions, offsets and configuration",
	  "  NAME  the topic\n"
	  "Offsets and size are those of the replica on the node asked; "
	  "\"-\" when it\nholds none.\n",
	  "  gqctl topic describe orders\n", topic_describe, NULL },
	{ "topic", "alter", "NAME --config KEY=VALUE...",
	  "Change a topic's configuration",
	  "  NAME                    the topic\n"
	  "  -c, --config KEY=VALUE  a topic setting to change "
	  "(retention_time,\n"
	  "                          retention_bytes, segment_size,\n"
	  "                          max_message_size, compression_*; see\n"
	  "                          gqd.conf(5)); repeat for several.  The\n"
	  "                          others keep their values; the\n"
	  "                          deduplication keys and the partition\n"
	  "                          count cannot change\n"
	  "Prints the topic's whole configuration once every key is applied.\n",
	  "  gqctl topic alter orders --config retention_time=24h \\\n"
	  "      --config max_message_size=4MiB\n",
	  topic_alter, alter_options },
	{ "topic", "produce", client_produce_args,
	  "Send lines of stdin or files as messages (Kafka port)",
	  client_produce_help, client_produce_example, client_produce,
	  client_produce_options },
	{ "topic", "consume", client_consume_args,
	  "Print a topic's messages (Kafka port)", client_consume_help,
	  client_consume_example, client_consume, client_consume_options },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
