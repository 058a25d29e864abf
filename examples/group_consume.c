/* SPDX-License-Identifier: MIT */
/*
 * group_consume.c - one member of a consumer group, embedded: open a node
 * (alone, or one of a cluster), optionally create the topic and produce
 * to it, then read the partitions the group gives this member, printing
 * "topic partition offset value" per message, until nothing came for a
 * while.  Run it several times at once with the same group and the
 * members share the partitions.
 *
 *   group_consume -d DIR [-g GROUP] [-t TOPIC] [-p PARTITIONS] [-n COUNT]
 *                 [-i NODE_ID -r RAFT_ADDR -c INITIAL_CLUSTER]
 *                 [-w IDLE_SECONDS]
 *
 *   -p, -n  create TOPIC with PARTITIONS partitions (replicated on every
 *           node of initial_cluster) and produce COUNT messages "0".."N-1"
 *   -w      stop after this many seconds without a message (default 5)
 */
#include <getopt.h>
#include <goqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
die(const char *what, int rv, struct gq_node *node)
{
	fprintf(stderr, "group_consume: %s: %s (%s)\n", what, gq_strerror(rv),
		node != NULL ? gq_node_errmsg(node) : gq_node_errmsg(NULL));
	exit(1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
on_assign(void *arg, struct gq_consumer *c, const struct gq_topic_partition *p,
	  size_t n)
{
	(void)arg;
	(void)c;
	fprintf(stderr, "assigned:");
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %s/%d", p[i].topic, p[i].partition);
	fprintf(stderr, "\n");
}

/* Create @topic (an existing one is fine) and produce @count messages. */
static void
produce(struct gq_node *node, const char *topic, int32_t parts,
	int16_t replicas, long count)
{
	int rv = gq_topic_create(node, topic, parts, replicas, NULL);

	if (rv != 0 && rv != GQ_EEXIST)
		die("topic create", rv, node);
	for (long k = 0; k < count; k++) {
		char v[32];
		struct gq_msg m = { 0 };

		snprintf(v, sizeof(v), "%ld", k);
		m.value = v;
		m.value_len = strlen(v);
		if ((rv = gq_produce(node, topic, (int32_t)(k % parts), &m, 1,
				     NULL, NULL)) != 0)
			die("produce", rv, node);
	}
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *group = "demo-group", *topic = "demo";
	const char *id = NULL, *raft = NULL, *cluster = NULL;
	struct gq_consumer_options o;
	struct gq_consumer *consumer;
	struct gq_config *cfg;
	struct gq_node *node;
	int32_t parts = 0;
	int16_t replicas = 1;
	long count = 0, got = 0;
	double idle = 5, last;
	int opt, rv;

	while ((opt = getopt(argc, argv, "d:g:t:p:n:i:r:c:w:")) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'g':
			group = optarg;
			break;
		case 't':
			topic = optarg;
			break;
		case 'p':
			parts = atoi(optarg);
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 'i':
			id = optarg;
			break;
		case 'r':
			raft = optarg;
			break;
		case 'c':
			cluster = optarg;
			break;
		case 'w':
			idle = atof(optarg);
			break;
		default:
			dir = NULL;
			argc = 0;
			break;
		}
	}
	if (dir == NULL) {
		fprintf(stderr,
			"usage: group_consume -d DIR [-g GROUP] "
			"[-t TOPIC] [-p PARTITIONS] [-n COUNT] [-i ID "
			"-r RAFT_ADDR -c INITIAL_CLUSTER] [-w SECONDS]\n");
		return 2;
	}
	if ((rv = gq_config_create(&cfg)) != 0)
		die("config", rv, NULL);
	if ((id != NULL && (rv = gq_config_set(cfg, "node_id", id, NULL))) ||
	    (raft != NULL &&
	     (rv = gq_config_set(cfg, "raft_address", raft, NULL))) ||
	    (cluster != NULL &&
	     (rv = gq_config_set(cfg, "initial_cluster", cluster, NULL))))
		die("config", rv, NULL);
	if ((rv = gq_node_open(dir, cfg, &node)) != 0)
		die("open", rv, NULL);
	gq_config_destroy(cfg);
	if (cluster != NULL)
		for (const char *p = cluster; (p = strchr(p, ',')) != NULL; p++)
			replicas++;
	if (parts > 0)
		produce(node, topic, parts, replicas, count);

	gq_consumer_options_init(&o);
	o.group = group;
	o.offset_reset = GQ_RESET_EARLIEST;
	o.on_assign = on_assign;
	if ((rv = gq_consumer_create(node, &o, &consumer)) != 0 ||
	    (rv = gq_consumer_subscribe(consumer, &topic, 1)) != 0)
		die("consumer", rv, node);
	last = now_s();
	while (now_s() - last < idle) {
		struct gq_consumer_message m;

		if ((rv = gq_consumer_poll(consumer, 200, &m)) < 0)
			die("poll", rv, node);
		if (rv == 0)
			continue;
		printf("%s %d %lld %.*s\n", m.topic, m.partition,
		       (long long)m.record.offset, (int)m.record.value_len,
		       (const char *)m.record.value);
		got++;
		last = now_s();
	}
	fflush(stdout);
	fprintf(stderr, "group_consume: %ld messages\n", got);
	gq_consumer_close(consumer);
	gq_node_close(node);
	return 0;
}
