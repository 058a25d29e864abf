/* SPDX-License-Identifier: MIT */
/*
 * cmd_group.c - `gqctl group list|describe` over /v1/groups.
 *
 * A node knows the groups it coordinates, so on a cluster `group list`
 * shows that node's share and `group describe` must be asked of the
 * group's coordinator: gqd answers 421 naming it, which rest.c turns into
 * the message.  --json prints the server's documents; the lag of each
 * committed offset is the partition's high watermark minus the offset, or
 * null when the node asked holds no replica of the partition.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gqctl.h"
#include "rest.h"
#include "table.h"

static int
group_list(struct gqctl *g, int argc, char **argv)
{
	static const char *const heads[] = { "GROUP",       "STATE",
					     ">MEMBERS",    "PROTOCOL TYPE",
					     "PROTOCOL",    ">GENERATION",
					     ">COORDINATOR" };
	struct table *t;
	json_t *ans = NULL;
	json_t *o;
	size_t i;
	bool help;
	int first;
	int rv;

	if ((rv = gqctl_args(g, argc, argv, 0, "", &first, &help)) !=
		    GQCTL_OK ||
	    help)
		return rv;
	if ((rv = rest_get(g, "group list", "/v1/groups", &ans)) != GQCTL_OK)
		return rv;
	if (g->json)
		return gqctl_print_json(ans);
	if ((t = table_new(heads, 7)) == NULL) {
		json_decref(ans);
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	json_array_foreach(json_object_get(ans, "groups"), i, o)
	{
		table_cell(t, "%s", rest_str(o, "group", "?"));
		table_cell(t, "%s", rest_str(o, "state", "?"));
		table_cell_num(t, rest_int(o, "members", -1));
		table_cell(t, "%s", rest_str(o, "protocol_type", "-"));
		table_cell(t, "%s", rest_str(o, "protocol", "-"));
		table_cell_num(t, rest_int(o, "generation", -1));
		table_cell_num(t, rest_int(ans, "coordinator", -1));
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(ans);
	return GQCTL_OK;
}

static void
print_group(const json_t *gr)
{
	static const char *const mheads[] = { "MEMBER", "INSTANCE", "CLIENT ID",
					      "HOST" };
	static const char *const oheads[] = { "TOPIC", ">PARTITION",
					      ">COMMITTED", ">HIGH WATERMARK",
					      ">LAG" };
	const json_t *offsets = json_object_get(gr, "offsets");
	const json_t *members = json_object_get(gr, "members");
	const char *pairs[16];
	char gen[24];
	char coord[24];
	char nmem[24];
	char total[64];
	long long sum = 0;
	bool known = true;
	struct table *t;
	json_t *o;
	size_t i;

	json_array_foreach((json_t *)offsets, i, o)
	{
		if (rest_int(o, "lag", -1) < 0)
			known = false;
		else
			sum += rest_int(o, "lag", 0);
	}
	snprintf(gen, sizeof(gen), "%lld", rest_int(gr, "generation", -1));
	snprintf(coord, sizeof(coord), "%lld", rest_int(gr, "coordinator", -1));
	snprintf(nmem, sizeof(nmem), "%zu", json_array_size(members));
	if (known)
		snprintf(total, sizeof(total), "%lld", sum);
	else
		snprintf(total, sizeof(total),
			 "%lld (some partitions "
			 "unknown here)",
			 sum);
	pairs[0] = "GROUP";
	pairs[1] = rest_str(gr, "group", "?");
	pairs[2] = "STATE";
	pairs[3] = rest_str(gr, "state", "?");
	pairs[4] = "PROTOCOL";
	pairs[5] = rest_str(gr, "protocol", "");
	if (pairs[5][0] == '\0')
		pairs[5] = NULL;
	pairs[6] = "GENERATION";
	pairs[7] = gen;
	pairs[8] = "COORDINATOR";
	pairs[9] = coord;
	pairs[10] = "MEMBERS";
	pairs[11] = nmem;
	pairs[12] = "TOTAL LAG";
	pairs[13] = total;
	table_print_pairs(stdout, pairs, 7);
	if (json_array_size(members) > 0 &&
	    (t = table_new(mheads, 4)) != NULL) {
		json_array_foreach((json_t *)members, i, o)
		{
			table_cell(t, "%s", rest_str(o, "member_id", "?"));
			table_cell(t, "%s",
				   rest_str(o, "group_instance_id", "-"));
			table_cell(t, "%s", rest_str(o, "client_id", "-"));
			table_cell(t, "%s", rest_str(o, "client_host", "-"));
		}
		putchar('\n');
		table_print(t, stdout);
		table_free(t);
	}
	if ((t = table_new(oheads, 5)) == NULL)
		return;
	json_array_foreach((json_t *)offsets, i, o)
	{
		table_cell(t, "%s", rest_str(o, "topic", "?"));
		table_cell(t, "%lld", rest_int(o, "partition", -1));
		table_cell_num(t, rest_int(o, "committed", -1));
		table_cell_num(t, rest_int(o, "high_watermark", -1));
		table_cell_num(t, rest_int(o, "lag", -1));
	}
	putchar('\n');
	table_print(t, stdout);
	table_free(t);
}

static int
group_describe(struct gqctl *g, int argc, char **argv)
{
	char what[300];
	json_t *ans = NULL;
	char *path = NULL;
	char *esc;
	bool help;
	int first;
	int rv;

	if ((rv = gqctl_args(g, argc, argv, 1, "GROUP", &first, &help)) !=
		    GQCTL_OK ||
	    help)
		return rv;
	snprintf(what, sizeof(what), "group describe %s", argv[first]);
	if ((esc = rest_escape(argv[first])) == NULL)
		return GQCTL_FAILED;
	if (asprintf(&path, "/v1/groups/%s", esc) < 0) {
		free(esc);
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	free(esc);
	rv = rest_get(g, what, path, &ans);
	free(path);
	if (rv != GQCTL_OK)
		return rv;
	if (g->json)
		return gqctl_print_json(ans);
	print_group(ans);
	json_decref(ans);
	return GQCTL_OK;
}

const struct gqctl_cmd gqctl_group_cmds[] = {
	{ "group", "list", "", "List the consumer groups the node coordinates",
	  "On a cluster each node coordinates a share of the groups: ask "
	  "each node,\nor use 'group describe' with a name.\n",
	  "  gqctl group list\n", group_list, NULL },
	{ "group", "describe", "GROUP",
	  "Show a group's members, offsets and lag",
	  "  GROUP  the group id\n"
	  "Ask the group's coordinator: another node answers with its id "
	  "(exit 1).\n",
	  "  gqctl group describe billing\n", group_describe, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
