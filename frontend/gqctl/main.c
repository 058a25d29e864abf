/* SPDX-License-Identifier: MIT */
/*
 * main.c - gqctl's entry point: the global options, the table of nouns and
 * their commands, help at every level, and dispatch.
 *
 *	gqctl [global options] <noun> <verb> [arguments]
 *	gqctl [global options] check-store DIR [--repair]
 *	gqctl help [<noun> [<verb>]]
 *
 * Each noun's commands live in its own file (cmd_topic.c, ...); adding a
 * command is adding an entry to that file's table.  `topic produce` and
 * `topic consume` are entries of the topic table, implemented in
 * cmd_produce.c and cmd_consume.c over the Kafka port (--brokers).
 *
 * Exit codes are in gqctl.h and gqctl(1).
 */
#include "gqctl.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "goqueue-version.h"
#include "rest.h"

#define DEFAULT_ADMIN      "127.0.0.1:9644"
#define DEFAULT_BROKERS    "127.0.0.1:9092"
#define DEFAULT_TIMEOUT_MS 30000L

struct noun {
	const char *name;
	const char *summary;
	const struct gqctl_cmd *cmds;
};

static const struct noun nouns[] = {
	{ "topic",
	  "Create, delete, list, describe, alter, produce to and "
	  "consume topics",
	  gqctl_topic_cmds },
	{ "group", "List, describe and reset consumer groups",
	  gqctl_group_cmds },
	{ "cluster", "Status, brokers and leaders of the cluster",
	  gqctl_cluster_cmds },
	{ "partition", "Move a partition's leader or replicas",
	  gqctl_partition_cmds },
	{ "config", "Show or reload the node's effective configuration",
	  gqctl_config_cmds },
	{ "check-store", "Verify or repair a stopped node's data directory",
	  gqctl_check_store_cmds },
};

#define N_NOUNS (sizeof(nouns) / sizeof(nouns[0]))

static void
top_help(FILE *f)
{
	const struct gqctl_cmd *c;
	char name[64];
	size_t i;

	fputs("Usage: gqctl [global options] <command> [arguments]\n\n"
	      "Manage a goqueue cluster through gqd's admin port, produce and "
	      "consume\nthrough its Kafka port, and check a stopped node's "
	      "data directory.\n\nCommands:\n",
	      f);
	for (i = 0; i < N_NOUNS; i++) {
		for (c = nouns[i].cmds; c->noun != NULL; c++) {
			if (c->verb != NULL)
				snprintf(name, sizeof(name), "%s %s", c->noun,
					 c->verb);
			else
				snprintf(name, sizeof(name), "%s", c->noun);
			fprintf(f, "  %-24s %s\n", name, c->summary);
		}
	}
	fputs("\nGlobal options:\n"
	      "  --admin HOST:PORT        gqd's admin address (default "
	      "$GQCTL_ADMIN, else\n"
	      "                           " DEFAULT_ADMIN ")\n"
	      "  --brokers HOST:PORT[,...]\n"
	      "                           gqd's Kafka port(s), for topic "
	      "produce and consume\n"
	      "                           (default $GQCTL_BROKERS, "
	      "else " DEFAULT_BROKERS ")\n"
	      "  --json                   print one JSON document on stdout "
	      "instead of tables\n"
	      "  --timeout DURATION       give up on a request after "
	      "DURATION (default 30s;\n"
	      "                           0 waits forever)\n"
	      "  -h, --help               this help; after a command, its "
	      "help\n"
	      "  --version                print the version\n\n"
	      "Exit status: 0 done, 1 the operation failed, 2 usage error, "
	      "3 the server\ncannot be reached (or timed out, or is not "
	      "ready), 4 check-store found damage.\n\n"
	      "Run 'gqctl <command> --help' for a command's arguments; see "
	      "gqctl(1).\n",
	      f);
}

static void
noun_help(const struct noun *n, FILE *f)
{
	const struct gqctl_cmd *c;

	fprintf(f, "Usage: gqctl %s <verb> [arguments]\n\n%s.\n\nVerbs:\n",
		n->name, n->summary);
	for (c = n->cmds; c->noun != NULL; c++)
		fprintf(f, "  %-14s %s\n", c->verb, c->summary);
	fprintf(f, "\nRun 'gqctl %s <verb> --help' for a verb's arguments.\n",
		n->name);
}

static const struct noun *
find_noun(const char *name)
{
	size_t i;

	for (i = 0; i < N_NOUNS; i++)
		if (strcmp(nouns[i].name, name) == 0)
			return &nouns[i];
	return NULL;
}

static const struct gqctl_cmd *
find_verb(const struct noun *n, const char *verb)
{
	const struct gqctl_cmd *c;

	for (c = n->cmds; c->noun != NULL; c++)
		if (c->verb != NULL && strcmp(c->verb, verb) == 0)
			return c;
	return NULL;
}

/* The noun's one command when it has no verbs (check-store). */
static const struct gqctl_cmd *
verbless(const struct noun *n)
{
	return n->cmds[0].verb == NULL ? &n->cmds[0] : NULL;
}

/* `gqctl help [noun [verb]]`. */
static int
help(int argc, char **argv)
{
	const struct gqctl_cmd *c;
	const struct noun *n;

	if (argc < 2) {
		top_help(stdout);
		return GQCTL_OK;
	}
	if ((n = find_noun(argv[1])) == NULL) {
		gqctl_err("help: unknown command '%s'", argv[1]);
		return GQCTL_USAGE;
	}
	if ((c = verbless(n)) != NULL) {
		gqctl_cmd_help(c, stdout);
		return GQCTL_OK;
	}
	if (argc < 3) {
		noun_help(n, stdout);
		return GQCTL_OK;
	}
	if ((c = find_verb(n, argv[2])) == NULL) {
		gqctl_err("help: unknown command '%s %s'", argv[1], argv[2]);
		return GQCTL_USAGE;
	}
	gqctl_cmd_help(c, stdout);
	return GQCTL_OK;
}

/* The global options before the noun; getopt stops at the first
 * argument that is not an option ('+'), which is the noun. */
static int
parse_globals(struct gqctl *g, int argc, char **argv, bool *done)
{
	static const struct option opts[] = {
		{ "admin", required_argument, NULL, 'a' },
		{ "brokers", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*done = false;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			g->admin = optarg;
			break;
		case 'b':
			g->brokers = optarg;
			break;
		case 'j':
			g->json = true;
			break;
		case 't':
			if (!gqctl_parse_duration(optarg, &g->timeout_ms))
				return gqctl_usage(g,
						   "--timeout: not a duration: "
						   "'%s' (e.g. 10s, 500ms, 2m)",
						   optarg);
			break;
		case 'h':
			top_help(stdout);
			*done = true;
			return GQCTL_OK;
		case 'V':
			printf("gqctl (goqueue) %s\n", GQ_VERSION_STRING);
			*done = true;
			return GQCTL_OK;
		case ':':
			return gqctl_usage(g, "option '%s' needs a value",
					   argv[optind - 1]);
		default:
			return gqctl_usage(g, "unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	return GQCTL_OK;
}

static int
dispatch(struct gqctl *g, int argc, char **argv)
{
	const struct noun *n;
	const char *verb;

	if (argc < 1) {
		gqctl_err("no command given");
		top_help(stderr);
		return GQCTL_USAGE;
	}
	if (strcmp(argv[0], "help") == 0)
		return help(argc, argv);
	if ((n = find_noun(argv[0])) == NULL)
		return gqctl_usage(g, "unknown command '%s'", argv[0]);
	if ((g->cmd = verbless(n)) != NULL)
		return g->cmd->run(g, argc, argv);
	verb = argc > 1 ? argv[1] : NULL;
	if (verb != NULL &&
	    (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0)) {
		noun_help(n, stdout);
		return GQCTL_OK;
	}
	if (verb == NULL || verb[0] == '-') {
		gqctl_err("%s: %s", n->name,
			  verb == NULL ? "no verb given"
				       : "a verb comes first");
		noun_help(n, stderr);
		return GQCTL_USAGE;
	}
	if ((g->cmd = find_verb(n, verb)) == NULL) {
		gqctl_err("unknown command '%s %s'", n->name, verb);
		noun_help(n, stderr);
		return GQCTL_USAGE;
	}
	return g->cmd->run(g, argc - 1, argv + 1);
}

int
main(int argc, char **argv)
{
	struct gqctl g;
	const char *env;
	bool done;
	int rv;

	memset(&g, 0, sizeof(g));
	g.argv0 = argv[0];
	env = getenv("GQCTL_ADMIN");
	g.admin = env != NULL && env[0] != '\0' ? env : DEFAULT_ADMIN;
	env = getenv("GQCTL_BROKERS");
	g.brokers = env != NULL && env[0] != '\0' ? env : DEFAULT_BROKERS;
	g.timeout_ms = DEFAULT_TIMEOUT_MS;
	if ((rv = parse_globals(&g, argc, argv, &done)) != GQCTL_OK || done)
		return rv;
	g.progress = !g.json && isatty(STDERR_FILENO);
	rv = dispatch(&g, argc - optind, argv + optind);
	rest_close(&g);
	if (fflush(stdout) != 0 && rv == GQCTL_OK) {
		gqctl_err("cannot write the output");
		rv = GQCTL_FAILED;
	}
	return rv;
}
