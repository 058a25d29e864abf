/* SPDX-License-Identifier: MIT */
/*
 * cmd_group.c - `gqctl group list|describe|reset-offsets` over
 * /v1/groups.
 *
 * A node knows the groups it coordinates, so on a cluster `group list`
 * shows that node's share and `group describe` must be asked of the
 * group's coordinator: gqd answers 421 naming it, which rest.c turns into
 * the message.  --json prints the server's documents; the lag of each
 * committed offset is the partition's high watermark minus the offset, or
 * null when the node asked holds no replica of the partition.
 *
 * reset-offsets parses its modes here (dates with strptime, in local time
 * unless a zone is given) and sends one POST; gqd computes the offsets,
 * clamps them, refuses a group with members (409) and commits.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* ---- reset-offsets ---------------------------------------------------- */

enum {
	OPT_TO_EARLIEST = 256,
	OPT_TO_LATEST,
	OPT_TO_OFFSET,
	OPT_TO_DATETIME,
	OPT_BY_DURATION,
	OPT_SHIFT_BY,
	OPT_DRY_RUN,
};

struct reset_opts {
	const struct gqctl *g;
	const char *topic;
	json_t *partitions; /* NULL: all */
	const char *to;     /* the body's "to"; NULL: none given yet */
	const char *to_opt; /* the option that set it, for messages */
	long long value;
	bool dry_run;
	bool oom;
};

/* A decimal integer with an optional sign, for --shift-by. */
static bool
parse_signed(const char *s, long long *out)
{
	char *end;
	long long v;

	if (s == NULL ||
	    (!isdigit((unsigned char)s[0]) &&
	     ((s[0] != '-' && s[0] != '+') || !isdigit((unsigned char)s[1]))))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

/* The number of two decimal digits at @p, or -1. */
static int
two_digits(const char *p)
{
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/*
 * --to-datetime: milliseconds since the epoch (optionally after '@', as
 * topic consume's --from takes them), or an ISO 8601 date and time,
 * YYYY-MM-DD[THH:MM[:SS[.fff]]], then Z or +HH:MM / -HH:MM, or nothing for
 * local time (as kafka-consumer-groups.sh reads it).
 */
static bool
parse_datetime(const char *s, long long *ms)
{
	struct tm tm;
	const char *p;
	long long frac = 0;
	int scale = 1000;
	long off = 0;
	int sign, hh, mm = 0;
	int mday;
	bool utc = false;
	time_t t;

	if (gqctl_parse_int(s[0] == '@' ? s + 1 : s, INT64_MAX, ms))
		return true;
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return false;
	if ((*p == 'T' || *p == ' ') &&
	    (p = strptime(p + 1, "%H:%M", &tm)) == NULL)
		return false;
	if (*p == ':' && (p = strptime(p + 1, "%S", &tm)) == NULL)
		return false;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return false;
		/* Milliseconds: digits past the third are dropped. */
		for (; isdigit((unsigned char)*p); p++) {
			if (scale == 1)
				continue;
			scale /= 10;
			frac += (*p - '0') * scale;
		}
	}
	if (*p == 'Z') {
		utc = true;
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if ((hh = two_digits(p + 1)) < 0)
			return false;
		p += 3;
		if (*p == ':')
			p++;
		if (*p != '\0') {
			if ((mm = two_digits(p)) < 0)
				return false;
			p += 2;
		}
		off = sign * (hh * 3600L + mm * 60L);
		utc = true;
	}
	if (*p != '\0')
		return false;
	tm.tm_isdst = -1;
	mday = tm.tm_mday;
	t = utc ? timegm(&tm) - off : mktime(&tm);
	/* Both normalise: 2026-02-30 would become March 2nd. */
	if (t == (time_t)-1 || t < 0 || tm.tm_mday != mday)
		return false;
	*ms = (long long)t * 1000 + frac;
	return true;
}

/* Record the mode an option asks for; two modes are a usage error. */
static int
set_mode(struct reset_opts *o, const char *opt, const char *to, long long value)
{
	if (o->to != NULL) {
		gqctl_usage(o->g, "%s and %s: give one of them", o->to_opt,
			    opt);
		return -1;
	}
	o->to = to;
	o->to_opt = opt;
	o->value = value;
	return 0;
}

/* --partition N[,N...], repeatable. */
static int
add_partitions(struct reset_opts *o, const char *val)
{
	char *copy;
	char *tok;
	char *save;
	long long v;
	int rv = 0;

	if (o->partitions == NULL && (o->partitions = json_array()) == NULL) {
		o->oom = true;
		gqctl_err("out of memory");
		return -1;
	}
	if ((copy = strdup(val)) == NULL) {
		o->oom = true;
		gqctl_err("out of memory");
		return -1;
	}
	for (tok = strtok_r(copy, ",", &save); tok != NULL && rv == 0;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!gqctl_parse_int(tok, INT32_MAX, &v)) {
			gqctl_usage(o->g,
				    "--partition: not a number >= 0: '%s'",
				    tok);
			rv = -1;
		} else if (json_array_append_new(o->partitions,
						 json_integer(v)) != 0) {
			o->oom = true;
			gqctl_err("out of memory");
			rv = -1;
		}
	}
	if (rv == 0 && json_array_size(o->partitions) == 0) {
		gqctl_usage(o->g, "--partition: no partition in '%s'", val);
		rv = -1;
	}
	free(copy);
	return rv;
}

static int
reset_opt(void *arg, int opt, const char *val)
{
	struct reset_opts *o = arg;
	struct timespec now;
	long long v;
	long ms;

	switch (opt) {
	case 't':
		o->topic = val;
		return 0;
	case 'p':
		return add_partitions(o, val);
	case OPT_TO_EARLIEST:
		return set_mode(o, "--to-earliest", "earliest", 0);
	case OPT_TO_LATEST:
		return set_mode(o, "--to-latest", "latest", 0);
	case OPT_TO_OFFSET:
		if (!gqctl_parse_int(val, INT64_MAX, &v)) {
			gqctl_usage(o->g,
				    "--to-offset: not an offset >= 0: '%s'",
				    val);
			return -1;
		}
		return set_mode(o, "--to-offset", "offset", v);
	case OPT_TO_DATETIME:
		if (!parse_datetime(val, &v)) {
			gqctl_usage(o->g,
				    "--to-datetime: expected "
				    "YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM] or "
				    "milliseconds since the epoch, got '%s'",
				    val);
			return -1;
		}
		return set_mode(o, "--to-datetime", "timestamp", v);
	case OPT_BY_DURATION:
		if (!gqctl_parse_duration(val, &ms)) {
			gqctl_usage(o->g,
				    "--by-duration: not a duration: '%s' "
				    "(e.g. 30m, 1h30m, 2d)",
				    val);
			return -1;
		}
		clock_gettime(CLOCK_REALTIME, &now);
		v = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000 - ms;
		return set_mode(o, "--by-duration", "timestamp", v < 0 ? 0 : v);
	case OPT_SHIFT_BY:
		if (!parse_signed(val, &v)) {
			gqctl_usage(o->g,
				    "--shift-by: not a number (e.g. -10, 5): "
				    "'%s'",
				    val);
			return -1;
		}
		return set_mode(o, "--shift-by", "shift", v);
	case OPT_DRY_RUN:
		o->dry_run = true;
		return 0;
	}
	return 0;
}

static void
print_reset(const json_t *ans)
{
	static const char *const heads[] = { "TOPIC", ">PARTITION", ">OLD",
					     ">NEW", ">HIGH WATERMARK" };
	const char *topic = rest_str(ans, "topic", "?");
	struct table *t;
	size_t applied = 0;
	json_t *p;
	size_t i;

	if ((t = table_new(heads, 5)) == NULL) {
		gqctl_err("out of memory");
		return;
	}
	json_array_foreach(json_object_get(ans, "partitions"), i, p)
	{
		table_cell(t, "%s", topic);
		table_cell(t, "%lld", rest_int(p, "partition", -1));
		table_cell_num(t, rest_int(p, "old", -1));
		table_cell_num(t, rest_int(p, "new", -1));
		table_cell_num(t, rest_int(p, "high_watermark", -1));
		if (rest_bool(p, "applied", false))
			applied++;
	}
	table_print(t, stdout);
	table_free(t);
	if (rest_bool(ans, "dry_run", false))
		printf("\ndry run: nothing committed (run again without "
		       "--dry-run to apply)\n");
	else
		printf("\nreset %zu offset%s of group %s\n", applied,
		       applied == 1 ? "" : "s", rest_str(ans, "group", "?"));
}

static int
group_reset(struct gqctl *g, int argc, char **argv)
{
	struct reset_opts o;
	char what[300];
	json_t *body = NULL;
	json_t *ans = NULL;
	char *path = NULL;
	char *esc;
	bool help;
	int first;
	int rv;

	memset(&o, 0, sizeof(o));
	o.g = g;
	rv = gqctl_parse(g, argc, argv, reset_opt, &o, &first, &help);
	if (o.oom)
		rv = GQCTL_FAILED; /* reported: not a usage error */
	if (rv != GQCTL_OK || help)
		goto out;
	if ((rv = gqctl_want_args(g, argc, argv, first, 1, "GROUP")) !=
	    GQCTL_OK)
		goto out;
	if (o.topic == NULL) {
		rv = gqctl_usage(g, "--topic is required");
		goto out;
	}
	if (o.to == NULL) {
		rv = gqctl_usage(g, "say where to: --to-earliest, --to-latest, "
				    "--to-offset, --to-datetime, --by-duration "
				    "or --shift-by");
		goto out;
	}
	body = json_pack("{s:s, s:s, s:b}", "topic", o.topic, "to", o.to,
			 "dry_run", o.dry_run);
	if (body != NULL && o.partitions != NULL)
		json_object_set(body, "partitions", o.partitions);
	if (body != NULL && strcmp(o.to, "earliest") != 0 &&
	    strcmp(o.to, "latest") != 0)
		json_object_set_new(body, "value", json_integer(o.value));
	if (body == NULL) {
		gqctl_err("out of memory");
		rv = GQCTL_FAILED;
		goto out;
	}
	if ((esc = rest_escape(argv[first])) == NULL) {
		rv = GQCTL_FAILED;
		goto out;
	}
	if (asprintf(&path, "/v1/groups/%s/reset-offsets", esc) < 0) {
		path = NULL;
		free(esc);
		gqctl_err("out of memory");
		rv = GQCTL_FAILED;
		goto out;
	}
	free(esc);
	snprintf(what, sizeof(what), "group reset-offsets %s", argv[first]);
	if ((rv = rest_call(g, what, "POST", path, body, &ans)) != GQCTL_OK)
		goto out;
	if (g->json) {
		rv = gqctl_print_json(ans);
		ans = NULL;
		goto out;
	}
	print_reset(ans);
out:
	json_decref(ans);
	json_decref(body);
	json_decref(o.partitions);
	free(path);
	return rv;
}

static const struct option reset_options[] = {
	{ "topic", required_argument, NULL, 't' },
	{ "partition", required_argument, NULL, 'p' },
	{ "to-earliest", no_argument, NULL, OPT_TO_EARLIEST },
	{ "to-latest", no_argument, NULL, OPT_TO_LATEST },
	{ "to-offset", required_argument, NULL, OPT_TO_OFFSET },
	{ "to-datetime", required_argument, NULL, OPT_TO_DATETIME },
	{ "by-duration", required_argument, NULL, OPT_BY_DURATION },
	{ "shift-by", required_argument, NULL, OPT_SHIFT_BY },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ NULL, 0, NULL, 0 },
};

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
	{ "group", "reset-offsets",
	  "GROUP --topic TOPIC [--partition N]...\n"
	  "                                 (--to-earliest | --to-latest | "
	  "--to-offset N |\n"
	  "                                  --to-datetime TIME | "
	  "--by-duration DURATION |\n"
	  "                                  --shift-by N) [--dry-run]",
	  "Move a group's committed offsets in a topic",
	  "  GROUP                  the group id; it must have no active "
	  "member\n"
	  "  -t, --topic TOPIC      the topic whose offsets move\n"
	  "  -p, --partition N      only partition N (repeatable, or "
	  "N,N,...; default:\n"
	  "                         every partition, and with --shift-by "
	  "those the group\n"
	  "                         committed)\n"
	  "  --to-earliest          to each partition's log start\n"
	  "  --to-latest            to each partition's end (skip "
	  "everything)\n"
	  "  --to-offset N          to offset N\n"
	  "  --to-datetime TIME     to the first message at or after TIME:\n"
	  "                         YYYY-MM-DDTHH:MM[:SS[.fff]] with Z or "
	  "+HH:MM (local\n"
	  "                         time without), or milliseconds since "
	  "the epoch\n"
	  "  --by-duration DURATION as --to-datetime, DURATION ago (e.g. "
	  "1h30m)\n"
	  "  --shift-by N           N further (or back, N < 0) from the "
	  "committed offset\n"
	  "  --dry-run              show the new offsets, commit nothing\n"
	  "New offsets are kept within the partition's log start and high "
	  "watermark.\nAsk the group's coordinator; a group with members "
	  "is refused (exit 1):\nstop its consumers first.\n",
	  "  gqctl group reset-offsets billing --topic orders --to-datetime "
	  "2026-01-01T00:00Z\n"
	  "  gqctl group reset-offsets billing -t orders -p 0 --shift-by -10 "
	  "--dry-run\n",
	  group_reset, reset_options },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
