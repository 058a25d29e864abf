/* SPDX-License-Identifier: MIT */
/*
 * cmd_config.c - `gqctl config show|reload`: the node's effective
 * configuration (/v1/config) and a reload, which is what SIGHUP does
 * (/v1/config/reload): gqd re-reads its file and environment and applies
 * the keys that can change at run time.  Values are text, as in gqd.conf
 * ("10m", "1048576"), in both outputs.
 */
#include <stdint.h>
#include <string.h>

#include "gqctl.h"
#include "rest.h"
#include "table.h"

static int
config_show(struct gqctl *g, int argc, char **argv)
{
	static const char *const heads[] = { "KEY", "VALUE", "RELOADABLE" };
	struct table *t;
	json_t *ans = NULL;
	const char *key;
	json_t *k;
	bool help;
	int first;
	int rv;

	if ((rv = gqctl_args(g, argc, argv, 0, "", &first, &help)) !=
		    GQCTL_OK ||
	    help)
		return rv;
	if ((rv = rest_get(g, "config show", "/v1/config", &ans)) != GQCTL_OK)
		return rv;
	if (g->json)
		return gqctl_print_json(ans);
	if ((t = table_new(heads, 3)) == NULL) {
		json_decref(ans);
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	json_object_foreach(json_object_get(ans, "keys"), key, k)
	{
		const char *v = rest_str(k, "value", "");
		const char *reload = rest_str(k, "reload", "no");

		table_cell(t, "%s", key);
		table_cell(t, "%s%s", v[0] != '\0' ? v : "\"\"",
			   rest_bool(k, "library_default", false) ? " (default)"
								  : "");
		table_cell(t, "%s",
			   strcmp(reload, "yes") == 0     ? "yes"
			   : strcmp(reload, "later") == 0 ? "no (not yet)"
							  : "no");
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(ans);
	return GQCTL_OK;
}

static int
config_reload(struct gqctl *g, int argc, char **argv)
{
	static const char *const heads[] = { "KEY", "VALUE" };
	const json_t *applied;
	const json_t *restart;
	struct table *t;
	json_t *ans = NULL;
	json_t *k;
	size_t i;
	bool help;
	int first;
	int rv;

	if ((rv = gqctl_args(g, argc, argv, 0, "", &first, &help)) !=
		    GQCTL_OK ||
	    help)
		return rv;
	rv = rest_call(g, "config reload", "POST", "/v1/config/reload", NULL,
		       &ans);
	if (rv != GQCTL_OK)
		return rv;
	if (g->json)
		return gqctl_print_json(ans != NULL ? ans : json_object());
	applied = json_object_get(ans, "applied");
	restart = json_object_get(ans, "restart_required");
	printf("reloaded: %zu %s applied", json_array_size(applied),
	       json_array_size(applied) == 1 ? "change" : "changes");
	if (json_integer_value(json_object_get(ans, "topics_altered")) > 0)
		printf("; %lld topics follow the new topic defaults",
		       (long long)json_integer_value(
			       json_object_get(ans, "topics_altered")));
	if (json_array_size(restart) > 0) {
		printf("; changed but needing a restart:");
		json_array_foreach((json_t *)restart, i, k)
			printf(" %s", rest_str(k, "key", "?"));
	}
	putchar('\n');
	if (rest_str(ans, "log_error", NULL) != NULL)
		gqctl_err("config reload: the log file: %s",
			  rest_str(ans, "log_error", ""));
	if (json_array_size(applied) > 0 && (t = table_new(heads, 2)) != NULL) {
		json_array_foreach((json_t *)applied, i, k)
		{
			table_cell(t, "%s", rest_str(k, "key", "?"));
			table_cell(t, "%s", rest_str(k, "value", ""));
		}
		putchar('\n');
		table_print(t, stdout);
		table_free(t);
	}
	json_decref(ans);
	return GQCTL_OK;
}

const struct gqctl_cmd gqctl_config_cmds[] = {
	{ "config", "show", "", "Show the node's effective configuration",
	  "Library keys never set show their default, marked (default).\n",
	  "  gqctl config show\n", config_show, NULL },
	{ "config", "reload", "", "Reload gqd's configuration, as SIGHUP does",
	  "A file that does not parse or validate changes nothing (exit "
	  "1).\n",
	  "  gqctl config reload\n", config_reload, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
