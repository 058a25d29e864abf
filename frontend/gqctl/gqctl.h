/* SPDX-License-Identifier: MIT */
/*
 * gqctl.h - what every gqctl module shares: the global options, the exit
 * codes, the command table's entry type, the option parser each command
 * uses, and the one error printer.
 *
 * gqctl is `gqctl [global options] <noun> <verb> [args]`.  main.c owns the
 * table of commands and dispatches; each cmd_*.c file implements the verbs
 * of one noun on top of rest.h (the admin HTTP API), table.h (human
 * output) and jansson (--json output); `topic produce` and `topic consume`
 * move data over the Kafka port instead, through a node connected to the
 * brokers (client.h); check_store.c works offline on a data directory.
 * Output rules: results go to stdout (a table, or with --json exactly one
 * JSON document; consume's messages are its results, one JSON object per
 * line), diagnostics to stderr as "gqctl: <what>: <why>", and the exit
 * code says what happened (below, and in gqctl(1)).
 */
#ifndef GQCTL_H
#define GQCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* Exit codes; gqctl(1) documents them and scripts rely on them. */
enum gqctl_exit {
	GQCTL_OK = 0,          /* done */
	GQCTL_FAILED = 1,      /* the operation failed: the server said no
				  (unknown topic, already exists, ...), or
				  check-store could not run */
	GQCTL_USAGE = 2,       /* bad command line */
	GQCTL_UNREACHABLE = 3, /* no answer: cannot connect, timeout, or the
				  server is not ready (HTTP 503); for
				  produce/consume, no broker answered */
	GQCTL_DAMAGE = 4,      /* check-store found damage */
};

/* The global options, after the command line and the environment. */
struct gqctl {
	const char *admin;   /* HOST:PORT or a URL of gqd's admin port */
	const char *brokers; /* HOST:PORT[,...] of Kafka ports (produce,
				consume) */
	long timeout_ms;     /* whole request; 0 = none */
	bool json;           /* machine output */
	bool progress;       /* stderr is a terminal and not --json */
	const char *argv0;   /* for messages */
	const struct gqctl_cmd *cmd; /* the command running */
	struct rest *rest;           /* opened on the first request (rest.h) */
};

/*
 * One command.  A noun with a NULL verb is a command by itself
 * (check-store).  Help text is plain: @args is the synopsis after the
 * command's name, @help lists arguments and options one per line, @example
 * is one or more command lines.
 */
struct gqctl_cmd {
	const char *noun;
	const char *verb;
	const char *args;
	const char *summary;
	const char *help;
	const char *example;
	/* Run with argv[0] the verb (or noun) and the arguments after it;
	 * returns an exit code. */
	int (*run)(struct gqctl *g, int argc, char **argv);
	/* Options of its own, as getopt_long's table (NULL-terminated), or
	 * NULL for none; the global options are accepted too. */
	const struct option *options;
};

/* "gqctl: <fmt>" and a newline on stderr. */
void gqctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A usage error: the message, then how to get help.  Returns GQCTL_USAGE. */
int gqctl_usage(const struct gqctl *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The command's full help on @f. */
void gqctl_cmd_help(const struct gqctl_cmd *c, FILE *f);

/*
 * Parse the options of the running command (g->cmd) from @argc/@argv
 * (argv[0] the verb), global options included, so `gqctl topic list --json`
 * works as well as `gqctl --json topic list`.  Each of the command's own
 * options is handed to @on_opt (its getopt value and argument; NULL for a
 * command without options); returning non-zero from it is a usage error
 * already reported.  Positional
 * arguments end up in argv[*first .. argc-1].  -h/--help prints the
 * command's help and returns GQCTL_OK with *help set.
 * @return GQCTL_OK or GQCTL_USAGE (reported).
 */
int gqctl_parse(struct gqctl *g, int argc, char **argv,
		int (*on_opt)(void *arg, int opt, const char *val), void *arg,
		int *first, bool *help);

/* gqctl_parse() for a command without options of its own, then
 * gqctl_want_args(@n, @names): the whole argument handling of most
 * commands.  GQCTL_OK (with *help set for -h) or GQCTL_USAGE. */
int gqctl_args(struct gqctl *g, int argc, char **argv, int n, const char *names,
	       int *first, bool *help);

/* Check that exactly @n positional arguments remain (@names for the
 * message, e.g. "TOPIC PARTITION").  GQCTL_OK or GQCTL_USAGE (reported). */
int gqctl_want_args(const struct gqctl *g, int argc, char **argv, int first,
		    int n, const char *names);

/* Parse a non-negative decimal integer no larger than @max; false if it
 * is not one. */
bool gqctl_parse_int(const char *s, long long max, long long *out);

/* Parse a duration: an integer with a unit ms, s, m, h or d (or several:
 * "1m30s"); a bare integer is seconds.  false if it does not parse or
 * overflows. */
bool gqctl_parse_duration(const char *s, long *ms);

/* Print @doc on stdout as one indented JSON document and a newline, and
 * drop the reference.  Returns GQCTL_OK, or GQCTL_FAILED when @doc is NULL
 * (out of memory building it) or stdout fails. */
int gqctl_print_json(void *doc);

/* The commands of each noun (cmd_*.c, check_store.c), each array ending
 * with a zeroed entry. */
extern const struct gqctl_cmd gqctl_topic_cmds[];
extern const struct gqctl_cmd gqctl_group_cmds[];
extern const struct gqctl_cmd gqctl_cluster_cmds[];
extern const struct gqctl_cmd gqctl_partition_cmds[];
extern const struct gqctl_cmd gqctl_config_cmds[];
extern const struct gqctl_cmd gqctl_check_store_cmds[];

#endif /* GQCTL_H */
