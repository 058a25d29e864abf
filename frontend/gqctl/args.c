/* SPDX-License-Identifier: MIT */
/*
 * args.c - the command line of one gqctl command (contracts in gqctl.h):
 * getopt_long over the command's own options merged with the global ones,
 * number and duration parsing, usage errors, per-command help, and the
 * error printer every module uses.
 *
 * getopt runs with opterr = 0 so every message has gqctl's own form
 * ("gqctl: <what>: <why>"), and it permutes, so options may follow the
 * positional arguments (`gqctl topic create orders --partitions 3`); "--"
 * ends the options for names that begin with '-'.
 */
#include "gqctl.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

/* Codes of the global options; commands use printable characters (a short
 * option too) or values from 256 on. */
enum {
	OPT_ADMIN = 1000,
	OPT_BROKERS,
	OPT_JSON,
	OPT_TIMEOUT,
};

static const struct option global_options[] = {
	{ "admin", required_argument, NULL, OPT_ADMIN },
	{ "brokers", required_argument, NULL, OPT_BROKERS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
};

#define N_GLOBAL (sizeof(global_options) / sizeof(global_options[0]))

void
gqctl_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("gqctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
cmd_name(const struct gqctl_cmd *c, char *buf, size_t size)
{
	if (c->verb != NULL)
		snprintf(buf, size, "%s %s", c->noun, c->verb);
	else
		snprintf(buf, size, "%s", c->noun);
}

int
gqctl_usage(const struct gqctl *g, const char *fmt, ...)
{
	char name[64];
	va_list ap;

	fflush(stdout);
	fputs("gqctl: ", stderr);
	if (g->cmd != NULL) {
		cmd_name(g->cmd, name, sizeof(name));
		fprintf(stderr, "%s: ", name);
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (g->cmd != NULL)
		fprintf(stderr,
			"Usage: gqctl %s %s\nRun 'gqctl %s --help' for "
			"more.\n",
			name, g->cmd->args, name);
	else
		fputs("Run 'gqctl --help' for usage.\n", stderr);
	return GQCTL_USAGE;
}

void
gqctl_cmd_help(const struct gqctl_cmd *c, FILE *f)
{
	char name[64];

	cmd_name(c, name, sizeof(name));
	fprintf(f, "Usage: gqctl %s %s\n\n%s.\n", name, c->args, c->summary);
	if (c->help != NULL && c->help[0] != '\0')
		fprintf(f, "\nArguments and options:\n%s", c->help);
	fputs("\nGlobal options (before or after the command): --admin "
	      "HOST:PORT,\n--brokers HOST:PORT[,...], --json, --timeout "
	      "DURATION, -h/--help.  See\n'gqctl --help' and gqctl(1).\n",
	      f);
	if (c->example != NULL)
		fprintf(f, "\nExample:\n%s", c->example);
}

bool
gqctl_parse_int(const char *s, long long max, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

bool
gqctl_parse_duration(const char *s, long *ms)
{
	static const struct {
		const char *unit;
		long long ms;
	} units[] = {
		{ "ms", 1 },      { "s", 1000 },     { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	long long total = 0;
	long long v;
	char *end;
	size_t i;
	size_t len;

	if (s == NULL || s[0] == '\0')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return false;
	if (*end == '\0') {
		/* A bare number is seconds, as kubectl's --request-timeout. */
		if (v > LONG_MAX / 1000)
			return false;
		*ms = (long)(v * 1000);
		return true;
	}
	for (;;) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			len = strlen(units[i].unit);
			/* "m" must not take the "m" of "ms". */
			if (strncmp(end, units[i].unit, len) == 0 &&
			    !isalpha((unsigned char)end[len]))
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return false;
		if (v > (LONG_MAX - total) / units[i].ms)
			return false;
		total += v * units[i].ms;
		s = end + len;
		if (*s == '\0')
			break;
		if (!isdigit((unsigned char)*s))
			return false;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno != 0)
			return false;
	}
	*ms = (long)total;
	return true;
}

/* The short-option string for getopt_long: ':' first (so a missing value
 * is told apart from an unknown option), then the command's options that
 * have a letter, and 'h'. */
static char *
short_options(const struct option *opts, size_t n)
{
	char *s = malloc(2 * n + 3);
	size_t k = 0;
	size_t i;

	if (s == NULL)
		return NULL;
	s[k++] = ':';
	for (i = 0; i < n; i++) {
		if (opts[i].val <= 0 || opts[i].val > 127 ||
		    !isalpha(opts[i].val))
			continue;
		s[k++] = (char)opts[i].val;
		if (opts[i].has_arg == required_argument)
			s[k++] = ':';
	}
	s[k] = '\0';
	return s;
}

/* The option getopt just stopped at, for a message. */
static const char *
offender(char **argv, int ind)
{
	return ind > 0 ? argv[ind - 1] : "?";
}

int
gqctl_parse(struct gqctl *g, int argc, char **argv,
	    int (*on_opt)(void *arg, int opt, const char *val), void *arg,
	    int *first, bool *help)
{
	const struct option *own = g->cmd->options;
	struct option *all;
	size_t n_own = 0;
	char *shorts;
	int rv = GQCTL_OK;
	int c;

	*help = false;
	while (own != NULL && own[n_own].name != NULL)
		n_own++;
	if ((all = calloc(n_own + N_GLOBAL + 1, sizeof(*all))) == NULL) {
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	if (n_own > 0)
		memcpy(all, own, n_own * sizeof(*all));
	memcpy(all + n_own, global_options, sizeof(global_options));
	if ((shorts = short_options(all, n_own + N_GLOBAL)) == NULL) {
		free(all);
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	/* 0 re-initialises glibc's getopt: main.c ran it before. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, all, NULL)) != -1) {
		switch (c) {
		case OPT_ADMIN:
			g->admin = optarg;
			break;
		case OPT_BROKERS:
			g->brokers = optarg;
			break;
		case OPT_JSON:
			g->json = true;
			break;
		case OPT_TIMEOUT:
			if (!gqctl_parse_duration(optarg, &g->timeout_ms)) {
				rv = gqctl_usage(g,
						 "--timeout: not a duration: "
						 "'%s' (e.g. 10s, 500ms, 2m)",
						 optarg);
				goto out;
			}
			break;
		case 'h':
			*help = true;
			gqctl_cmd_help(g->cmd, stdout);
			goto out;
		case ':':
			rv = gqctl_usage(g, "option '%s' needs a value",
					 offender(argv, optind));
			goto out;
		case '?':
			if (optopt != 0 && optopt < 128)
				rv = gqctl_usage(g, "unknown option '-%c'",
						 optopt);
			else
				rv = gqctl_usage(g, "unknown option '%s'",
						 offender(argv, optind));
			goto out;
		default:
			if (on_opt != NULL && on_opt(arg, c, optarg) != 0) {
				rv = GQCTL_USAGE;
				goto out;
			}
		}
	}
	*first = optind;
out:
	g->progress = !g->json && isatty(STDERR_FILENO);
	free(shorts);
	free(all);
	return rv;
}

int
gqctl_want_args(const struct gqctl *g, int argc, char **argv, int first, int n,
		const char *names)
{
	if (argc - first < n)
		return gqctl_usage(g, "missing %s", names);
	if (argc - first > n)
		return gqctl_usage(g, "unexpected argument '%s'",
				   argv[first + n]);
	return GQCTL_OK;
}

int
gqctl_print_json(void *doc)
{
	int rv = GQCTL_OK;

	if (doc == NULL) {
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) !=
		    0 ||
	    fputc('\n', stdout) == EOF)
		rv = GQCTL_FAILED;
	json_decref(doc);
	return rv;
}

int
gqctl_args(struct gqctl *g, int argc, char **argv, int n, const char *names,
	   int *first, bool *help)
{
	int rv = gqctl_parse(g, argc, argv, NULL, NULL, first, help);

	if (rv != GQCTL_OK || *help)
		return rv;
	return gqctl_want_args(g, argc, argv, *first, n, names);
}
