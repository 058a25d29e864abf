/* SPDX-License-Identifier: MIT */
/*
 * cmd_partition.c - `gqctl partition move-leader|reassign`.
 *
 * gqd answers both once the controller has committed the change (202);
 * the leader hands over, or replicas are added, caught up and removed, in
 * the background.  --wait polls the topic until the change shows (the
 * leader is the broker asked for; the replicas are the ones asked for and
 * all live), within --timeout, so scripts can go on safely; a
 * reassignment shows a progress bar of the new replicas live meanwhile.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gqctl.h"
#include "progress.h"
#include "rest.h"

#define POLL_MS 250

struct part_opts {
	bool wait;
};

static int
part_opt(void *arg, int opt, const char *val)
{
	(void)val;
	if (opt == 'w')
		((struct part_opts *)arg)->wait = true;
	return 0;
}

/* TOPIC PARTITION from the command line; GQCTL_USAGE (reported) if the
 * partition is not a number. */
static int
topic_partition(const struct gqctl *g, char **argv, int first,
		long long *partition)
{
	if (!gqctl_parse_int(argv[first + 1], INT32_MAX, partition))
		return gqctl_usage(g, "PARTITION: not a partition number: '%s'",
				   argv[first + 1]);
	return GQCTL_OK;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Whether @have (a JSON array of ids) holds exactly @want[0..n). */
static bool
same_ids(const json_t *have, const long long *want, size_t n)
{
	size_t i;
	size_t j;
	json_t *v;

	if (json_array_size(have) != n)
		return false;
	for (i = 0; i < n; i++) {
		bool found = false;

		json_array_foreach((json_t *)have, j, v)
		{
			if (json_integer_value(v) == want[i])
				found = true;
		}
		if (!found)
			return false;
	}
	return true;
}

/* How many of @ids @p lists as live replicas. */
static uint64_t
live_count(const json_t *p, const long long *ids, size_t n)
{
	const json_t *live = json_object_get(p, "live_replicas");
	uint64_t count = 0;
	size_t i, j;
	json_t *v;

	for (i = 0; i < n; i++)
		json_array_foreach((json_t *)live, j, v)
		{
			if (json_integer_value(v) == ids[i]) {
				count++;
				break;
			}
		}
	return count;
}

/* A reassignment is over when the replicas are exactly @ids, all live,
 * and one of them leads: until the leader is among them, the old leader
 * may still be handing over. */
static bool
settled(const json_t *p, const long long *ids, size_t n)
{
	long long leader = rest_int(p, "leader", -1);
	size_t i;

	if (!same_ids(json_object_get(p, "replicas"), ids, n) ||
	    !same_ids(json_object_get(p, "live_replicas"), ids, n))
		return false;
	for (i = 0; i < n; i++)
		if (ids[i] == leader)
			return true;
	return false;
}

/* Poll the topic until partition @partition shows the change: leader
 * @leader (> 0), or the replicas @ids (n > 0) settled. */
static int
wait_for(struct gqctl *g, const char *what, const char *topic,
	 long long partition, long long leader, const long long *ids, size_t n)
{
	uint64_t deadline = now_ms() + (uint64_t)g->timeout_ms;
	struct timespec pause = { 0, POLL_MS * 1000000L };
	char *esc = rest_escape(topic);
	char *path = NULL;
	struct progress bar;
	json_t *ans;
	json_t *p;
	int rv;

	if (esc == NULL)
		return GQCTL_FAILED;
	progress_start(&bar, g->progress && n > 0, "reassigning", n);
	rv = asprintf(&path, "/v1/topics/%s", esc);
	free(esc);
	if (rv < 0) {
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	for (;;) {
		if ((rv = rest_get(g, what, path, &ans)) != GQCTL_OK)
			break;
		p = json_array_get(json_object_get(ans, "partitions"),
				   (size_t)partition);
		progress_update(&bar, live_count(p, ids, n), topic);
		if (leader > 0 ? rest_int(p, "leader", -1) == leader
			       : settled(p, ids, n)) {
			json_decref(ans);
			break;
		}
		json_decref(ans);
		if (g->timeout_ms > 0 && now_ms() >= deadline) {
			progress_clear(&bar);
			gqctl_err("%s: timed out waiting for the change to "
				  "show",
				  what);
			rv = GQCTL_UNREACHABLE;
			break;
		}
		nanosleep(&pause, NULL);
	}
	progress_finish(&bar);
	free(path);
	return rv;
}

/* POST @body to /v1/topics/<topic>/partitions/<p>/<action>. */
static int
post_partition(struct gqctl *g, const char *what, const char *topic,
	       long long partition, const char *action, json_t *body,
	       json_t **ans)
{
	char *esc = rest_escape(topic);
	char *path = NULL;
	int rv;

	if (esc == NULL)
		return GQCTL_FAILED;
	rv = asprintf(&path, "/v1/topics/%s/partitions/%lld/%s", esc, partition,
		      action);
	free(esc);
	if (rv < 0) {
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	rv = rest_call(g, what, "POST", path, body, ans);
	free(path);
	return rv;
}

static int
move_leader(struct gqctl *g, int argc, char **argv)
{
	struct part_opts o = { false };
	long long partition;
	long long broker;
	char what[320];
	json_t *body;
	json_t *ans = NULL;
	bool help;
	int first;
	int rv;

	if ((rv = gqctl_parse(g, argc, argv, part_opt, &o, &first, &help)) !=
		    GQCTL_OK ||
	    help)
		return rv;
	if ((rv = gqctl_want_args(g, argc, argv, first, 3,
				  "TOPIC PARTITION BROKER")) != GQCTL_OK ||
	    (rv = topic_partition(g, argv, first, &partition)) != GQCTL_OK)
		return rv;
	if (!gqctl_parse_int(argv[first + 2], INT32_MAX, &broker) || broker < 1)
		return gqctl_usage(g, "BROKER: not a broker id: '%s'",
				   argv[first + 2]);
	snprintf(what, sizeof(what), "partition move-leader %s/%lld",
		 argv[first], partition);
	if ((body = json_pack("{s:I}", "broker", (json_int_t)broker)) == NULL) {
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	rv = post_partition(g, what, argv[first], partition, "move-leader",
			    body, &ans);
	json_decref(body);
	if (rv == GQCTL_OK && o.wait)
		rv = wait_for(g, what, argv[first], partition, broker, NULL, 0);
	if (rv != GQCTL_OK) {
		json_decref(ans);
		return rv;
	}
	if (g->json)
		return gqctl_print_json(
			ans != NULL ? ans
				    : json_pack("{s:s, s:I, s:I}", "topic",
						argv[first], "partition",
						(json_int_t)partition, "broker",
						(json_int_t)broker));
	json_decref(ans);
	if (o.wait)
		printf("broker %lld leads %s/%lld\n", broker, argv[first],
		       partition);
	else
		printf("leadership of %s/%lld is moving to broker %lld\n",
		       argv[first], partition, broker);
	return GQCTL_OK;
}

static int
reassign(struct gqctl *g, int argc, char **argv)
{
	struct part_opts o = { false };
	long long ids[8];
	long long partition;
	char what[320];
	json_t *body = NULL;
	json_t *list;
	json_t *ans = NULL;
	char *copy;
	char *tok;
	char *save;
	size_t n = 0;
	bool help;
	int first;
	int rv;

	if ((rv = gqctl_parse(g, argc, argv, part_opt, &o, &first, &help)) !=
		    GQCTL_OK ||
	    help)
		return rv;
	if ((rv = gqctl_want_args(g, argc, argv, first, 3,
				  "TOPIC PARTITION BROKER[,BROKER...]")) !=
		    GQCTL_OK ||
	    (rv = topic_partition(g, argv, first, &partition)) != GQCTL_OK)
		return rv;
	if ((copy = strdup(argv[first + 2])) == NULL ||
	    (list = json_array()) == NULL) {
		free(copy);
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == sizeof(ids) / sizeof(ids[0]) ||
		    !gqctl_parse_int(tok, INT32_MAX, &ids[n]) || ids[n] < 1) {
			rv = gqctl_usage(g,
					 n == sizeof(ids) / sizeof(ids[0])
						 ? "at most 8 replicas: '%s'"
						 : "not a list of broker ids: "
						   "'%s'",
					 argv[first + 2]);
			goto out;
		}
		json_array_append_new(list, json_integer(ids[n]));
		n++;
	}
	if (n == 0) {
		rv = gqctl_usage(g, "no broker ids in '%s'", argv[first + 2]);
		goto out;
	}
	snprintf(what, sizeof(what), "partition reassign %s/%lld", argv[first],
		 partition);
	if ((body = json_pack("{s:O}", "replicas", list)) == NULL) {
		gqctl_err("out of memory");
		rv = GQCTL_FAILED;
		goto out;
	}
	rv = post_partition(g, what, argv[first], partition, "reassign", body,
			    &ans);
	if (rv == GQCTL_OK && o.wait)
		rv = wait_for(g, what, argv[first], partition, 0, ids, n);
	if (rv != GQCTL_OK)
		goto out;
	if (g->json) {
		rv = gqctl_print_json(
			ans != NULL ? json_incref(ans)
				    : json_pack("{s:s, s:I, s:O}", "topic",
						argv[first], "partition",
						(json_int_t)partition,
						"replicas", list));
		goto out;
	}
	printf("%s/%lld %s brokers %s\n", argv[first], partition,
	       o.wait ? "is on" : "is moving to", argv[first + 2]);
out:
	json_decref(ans);
	json_decref(body);
	json_decref(list);
	free(copy);
	return rv;
}

static const struct option part_options[] = {
	{ "wait", no_argument, NULL, 'w' },
	{ NULL, 0, NULL, 0 },
};

const struct gqctl_cmd gqctl_partition_cmds[] = {
	{ "partition", "move-leader", "TOPIC PARTITION BROKER [--wait]",
	  "Make a replica's broker the partition's leader",
	  "  TOPIC PARTITION  the partition\n"
	  "  BROKER           the broker id to lead it; it must hold a "
	  "replica\n"
	  "  -w, --wait       wait until it leads (within --timeout)\n",
	  "  gqctl partition move-leader orders 0 2 --wait\n", move_leader,
	  part_options },
	{ "partition", "reassign",
	  "TOPIC PARTITION BROKER[,BROKER...] [--wait]",
	  "Move a partition's replicas to other brokers",
	  "  TOPIC PARTITION    the partition\n"
	  "  BROKER[,BROKER...] the new replicas, the preferred leader first "
	  "(1 to 8)\n"
	  "  -w, --wait         wait until they all hold it and a leader "
	  "serves it\n"
	  "                     (within --timeout)\n",
	  "  gqctl partition reassign orders 0 2,3,4 --wait --timeout 5m\n",
	  reassign, part_options },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
