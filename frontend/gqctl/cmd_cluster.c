/* SPDX-License-Identifier: MIT */
/*
 * cmd_cluster.c - `gqctl cluster status|brokers|leaders`.
 *
 * `status` and `leaders` read one document, /v1/cluster (the brokers and
 * the topology of every topic), and compute their views from it, so both
 * outputs come from one consistent snapshot; their --json documents are
 * gqctl's own (listed in gqctl(1)).  `brokers` prints /v1/brokers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gqctl.h"
#include "rest.h"
#include "table.h"

/* ---- status ------------------------------------------------------------ */

struct counts {
	long long brokers;
	long long alive;
	long long topics;
	long long partitions;
	long long leaderless;
	long long under_replicated;
};

static void
count(const json_t *cl, struct counts *c)
{
	const json_t *t;
	const json_t *p;
	size_t i;
	size_t j;

	memset(c, 0, sizeof(*c));
	json_array_foreach(json_object_get(cl, "brokers"), i, t)
	{
		c->brokers++;
		if (rest_bool(t, "alive", false))
			c->alive++;
	}
	json_array_foreach(json_object_get(cl, "topics"), i, t)
	{
		c->topics++;
		json_array_foreach(json_object_get(t, "partitions"), j, p)
		{
			c->partitions++;
			if (rest_int(p, "leader", -1) < 0)
				c->leaderless++;
			if (json_array_size(
				    json_object_get(p, "live_replicas")) <
			    json_array_size(json_object_get(p, "replicas")))
				c->under_replicated++;
		}
	}
}

static int
cluster_status(struct gqctl *g, int argc, char **argv)
{
	char node[24], ctl[24], brokers[48], topics[24], parts[24],
		leaderless[24], under[24];
	const char *pairs[14];
	struct counts c;
	json_t *ans = NULL;
	bool help;
	int first;
	int rv;

	if ((rv = gqctl_args(g, argc, argv, 0, "", &first, &help)) !=
		    GQCTL_OK ||
	    help)
		return rv;
	if ((rv = rest_get(g, "cluster status", "/v1/cluster", &ans)) !=
	    GQCTL_OK)
		return rv;
	count(ans, &c);
	if (g->json) {
		rv = gqctl_print_json(json_pack(
			"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "node_id",
			(json_int_t)rest_int(ans, "node_id", -1), "controller",
			(json_int_t)rest_int(ans, "controller", -1), "brokers",
			(json_int_t)c.brokers, "brokers_alive",
			(json_int_t)c.alive, "topics", (json_int_t)c.topics,
			"partitions", (json_int_t)c.partitions,
			"partitions_without_leader", (json_int_t)c.leaderless,
			"under_replicated_partitions",
			(json_int_t)c.under_replicated));
		json_decref(ans);
		return rv;
	}
	snprintf(node, sizeof(node), "%lld", rest_int(ans, "node_id", -1));
	if (rest_int(ans, "controller", -1) < 0)
		snprintf(ctl, sizeof(ctl), "none");
	else
		snprintf(ctl, sizeof(ctl), "%lld",
			 rest_int(ans, "controller", -1));
	snprintf(brokers, sizeof(brokers), "%lld of %lld", c.alive, c.brokers);
	snprintf(topics, sizeof(topics), "%lld", c.topics);
	snprintf(parts, sizeof(parts), "%lld", c.partitions);
	snprintf(leaderless, sizeof(leaderless), "%lld", c.leaderless);
	snprintf(under, sizeof(under), "%lld", c.under_replicated);
	pairs[0] = "NODE ID";
	pairs[1] = node;
	pairs[2] = "CONTROLLER";
	pairs[3] = ctl;
	pairs[4] = "BROKERS ALIVE";
	pairs[5] = brokers;
	pairs[6] = "TOPICS";
	pairs[7] = topics;
	pairs[8] = "PARTITIONS";
	pairs[9] = parts;
	pairs[10] = "WITHOUT LEADER";
	pairs[11] = leaderless;
	pairs[12] = "UNDER-REPLICATED";
	pairs[13] = under;
	table_print_pairs(stdout, pairs, 7);
	json_decref(ans);
	return GQCTL_OK;
}

/* ---- brokers ----------------------------------------------------------- */

static int
cluster_brokers(struct gqctl *g, int argc, char **argv)
{
	static const char *const heads[] = {
		">ID",          "STATUS",         "CONTROLLER",
		"RAFT ADDRESS", "CLIENT ADDRESS", "RACK"
	};
	struct table *t;
	json_t *ans = NULL;
	json_t *b;
	long long ctl;
	size_t i;
	bool help;
	int first;
	int rv;

	if ((rv = gqctl_args(g, argc, argv, 0, "", &first, &help)) !=
		    GQCTL_OK ||
	    help)
		return rv;
	if ((rv = rest_get(g, "cluster brokers", "/v1/brokers", &ans)) !=
	    GQCTL_OK)
		return rv;
	if (g->json)
		return gqctl_print_json(ans);
	if ((t = table_new(heads, 6)) == NULL) {
		json_decref(ans);
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	ctl = rest_int(ans, "controller", -1);
	json_array_foreach(json_object_get(ans, "brokers"), i, b)
	{
		const char *client = rest_str(b, "client_address", "");
		const char *rack = rest_str(b, "rack", "");

		table_cell(t, "%lld", rest_int(b, "id", -1));
		table_cell(t, "%s",
			   rest_bool(b, "removing", false) ? "removing"
			   : rest_bool(b, "alive", false)  ? "alive"
							   : "down");
		table_cell(t, "%s", rest_int(b, "id", -1) == ctl ? "yes" : "");
		table_cell(t, "%s", rest_str(b, "raft_address", "-"));
		table_cell(t, "%s", client[0] != '\0' ? client : "-");
		table_cell(t, "%s", rack[0] != '\0' ? rack : "-");
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(ans);
	return GQCTL_OK;
}

/* ---- leaders ----------------------------------------------------------- */

static int
cluster_leaders(struct gqctl *g, int argc, char **argv)
{
	static const char *const heads[] = { "TOPIC", ">PARTITION", ">LEADER",
					     ">EPOCH", "REPLICAS" };
	struct table *t = NULL;
	json_t *ans = NULL;
	json_t *out = NULL;
	json_t *topic;
	json_t *p;
	size_t i;
	size_t j;
	bool help;
	int first;
	int rv;

	if ((rv = gqctl_args(g, argc, argv, 0, "", &first, &help)) !=
		    GQCTL_OK ||
	    help)
		return rv;
	if ((rv = rest_get(g, "cluster leaders", "/v1/cluster", &ans)) !=
	    GQCTL_OK)
		return rv;
	if (g->json ? (out = json_array()) == NULL
		    : (t = table_new(heads, 5)) == NULL) {
		json_decref(ans);
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	json_array_foreach(json_object_get(ans, "topics"), i, topic)
	{
		const char *name = rest_str(topic, "name", "?");

		json_array_foreach(json_object_get(topic, "partitions"), j, p)
		{
			char reps[128];

			if (g->json) {
				json_array_append_new(
					out,
					json_pack(
						"{s:s, s:I, s:I, s:I, s:O?}",
						"topic", name, "partition",
						(json_int_t)rest_int(
							p, "partition", -1),
						"leader",
						(json_int_t)rest_int(
							p, "leader", -1),
						"leader_epoch",
						(json_int_t)rest_int(
							p, "leader_epoch", -1),
						"replicas",
						json_object_get(p,
								"replicas")));
				continue;
			}
			rest_ids(json_object_get(p, "replicas"), reps,
				 sizeof(reps));
			table_cell(t, "%s", name);
			table_cell(t, "%lld", rest_int(p, "partition", -1));
			table_cell_num(t, rest_int(p, "leader", -1));
			table_cell_num(t, rest_int(p, "leader_epoch", -1));
			table_cell(t, "%s", reps);
		}
	}
	json_decref(ans);
	if (g->json)
		return gqctl_print_json(json_pack("{s:o}", "leaders", out));
	table_print(t, stdout);
	table_free(t);
	return GQCTL_OK;
}

const struct gqctl_cmd gqctl_cluster_cmds[] = {
	{ "cluster", "status", "",
	  "Show controller, live brokers, leaderless partitions", "",
	  "  gqctl cluster status\n", cluster_status, NULL },
	{ "cluster", "brokers", "", "List the brokers and their state", "",
	  "  gqctl cluster brokers\n", cluster_brokers, NULL },
	{ "cluster", "leaders", "",
	  "List each partition's leader and leader epoch", "",
	  "  gqctl --admin 10.0.0.2:9644 cluster leaders\n", cluster_leaders,
	  NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
