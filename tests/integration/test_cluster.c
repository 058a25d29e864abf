/* SPDX-License-Identifier: MIT */
/*
 * test_cluster.c - three nodes in one process on loopback ports: the
 * cluster forms from initial_cluster, places replicas, replicates, routes
 * (produce calls forwarded to the leader), fails over when a leader or
 * the controller leader goes, and a returning node catches up; the
 * group coordinator moves with its offsets partition.
 */
#include <criterion/criterion.h>
#include <goqueue.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/gcall.h"
#include "../lib/tmpdir.h"

#define N     3 /* the initial members */
#define N_MAX 4 /* and one that joins */

static const char *root;
static struct gq_node *nodes[N_MAX + 1]; /* by id, 1..N_MAX */
static int base_port;
static char cluster[256];
static atomic_int log_copies;   /* "copied the log" messages seen */
static atomic_int log_drained;  /* "removing drained broker" */
static const char *grace;       /* dead_broker_grace, if set */
static const char *cleanup;     /* cleanup_interval, if set */
static atomic_int log_restored; /* "state restored from a snapshot" */

static void
setup(void)
{
	root = gqt_tmpdir_make();
	memset(nodes, 0, sizeof(nodes));
	grace = "0";
	cleanup = NULL;
	/* Ports per process, so parallel builds do not collide, and below
	 * Linux's ephemeral range (32768 and up), where a connection's local
	 * port may hold one of them. */
	base_port = 21000 + (int)(getpid() % 1100) * 10;
	snprintf(cluster, sizeof(cluster),
		 "1@127.0.0.1:%d,2@127.0.0.1:%d,3@127.0.0.1:%d", base_port + 1,
		 base_port + 2, base_port + 3);
}

static void
teardown(void)
{
	for (int i = 1; i <= N_MAX; i++) {
		gq_node_close(nodes[i]);
		nodes[i] = NULL;
	}
	gqt_tmpdir_remove();
}

TestSuite(cluster, .init = setup, .fini = teardown, .timeout = 120);

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
log_cb(void *arg, enum gq_log_level level, const char *msg)
{
	(void)arg;
	(void)level;
	if (getenv("GQT_LOG"))
		fprintf(stderr, "log: %s\n", msg);
	if (strstr(msg, "copied the log") != NULL)
		atomic_fetch_add(&log_copies, 1);
	if (strstr(msg, "removing drained broker") != NULL)
		atomic_fetch_add(&log_drained, 1);
	if (strstr(msg, "controller: state restored from a snapshot") != NULL)
		atomic_fetch_add(&log_restored, 1);
}

struct opener {
	int id;
	int rv;
	char err[GQ_ERRMSG_SIZE];
};

static void *
open_thread(void *arg)
{
	struct opener *o = arg;
	struct gq_config *cfg;
	char dir[512], id[16], addr[32];

	snprintf(dir, sizeof(dir), "%s/n%d", root, o->id);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", base_port + o->id);
	snprintf(id, sizeof(id), "%d", o->id);
	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "node_id", id, NULL), 0);
	cr_assert_eq(gq_config_set(cfg, "initial_cluster", cluster, o->err), 0,
		     "%s", o->err);
	/* A node beyond initial_cluster joins at its own address. */
	if (o->id > N)
		cr_assert_eq(gq_config_set(cfg, "raft_address", addr, NULL), 0);
	cr_assert_eq(gq_config_set(cfg, "election_timeout", "300ms", NULL), 0);
	cr_assert_eq(gq_config_set(cfg, "dead_broker_grace", grace, NULL), 0);
	if (cleanup != NULL)
		cr_assert_eq(
			gq_config_set(cfg, "cleanup_interval", cleanup, NULL),
			0);
	cr_assert_eq(
		gq_config_set(cfg, "group_initial_rebalance_delay", "0", NULL),
		0);
	gq_config_set_log_cb(cfg, log_cb, NULL, GQ_LOG_INFO);
	o->rv = gq_node_open(dir, cfg, &nodes[o->id]);
	if (o->rv != 0)
		snprintf(o->err, sizeof(o->err), "%s", gq_node_errmsg(NULL));
	gq_config_destroy(cfg);
	return NULL;
}

/* Open the nodes in @ids at once: each waits for a quorum. */
static void
open_nodes(const int *ids, int n)
{
	pthread_t th[N_MAX];
	struct opener o[N_MAX];

	for (int i = 0; i < n; i++) {
		memset(&o[i], 0, sizeof(o[i]));
		o[i].id = ids[i];
		pthread_create(&th[i], NULL, open_thread, &o[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(o[i].rv, 0, "node %d: %s: %s", ids[i],
			     gq_strerror(o[i].rv), o[i].err);
	}
}

static void
open_all(void)
{
	static const int ids[N] = { 1, 2, 3 };

	open_nodes(ids, N);
}

/* The leader of @topic/@part as @via sees it, waiting up to 10 s for one
 * that is a live node of ours. */
static int32_t
leader_of(int via, const char *topic, int32_t part)
{
	uint64_t until = now_ms() + 10000;
	int32_t leader = -1;

	while (now_ms() < until) {
		int rv = gq_partition_leader(nodes[via], topic, part, &leader,
					     NULL);

		cr_assert_eq(rv, 0, "leader of %s/%d: %s", topic, part,
			     gq_strerror(rv));
		if (leader >= 1 && leader <= N_MAX && nodes[leader] != NULL)
			return leader;
		usleep(20000);
	}
	cr_assert_fail("no leader for %s/%d via node %d (last %d)", topic, part,
		       via, leader);
	return -1;
}

static gq_offset
produce_on(int id, const char *topic, int32_t part, const char *value,
	   int *status)
{
	struct gq_msg m;
	gq_offset off = -1;

	memset(&m, 0, sizeof(m));
	m.value = value;
	m.value_len = strlen(value);
	*status = gq_produce(nodes[id], topic, part, &m, 1, NULL, &off);
	return off;
}

/* The offset of the last message of @topic/@part as node @via holds it
 * once it has a leader's committed data, if its value is @value; or -1. */
static gq_offset
stored_at(int via, const char *topic, int32_t part, const char *value)
{
	gq_offset hw = -1, found = -1;
	struct gq_fetch *f;
	struct gq_record rec;
	int32_t leader = leader_of(via, topic, part);

	/* The new leader's barrier committed everything before it. */
	if (gq_list_offsets(nodes[leader], topic, part, GQ_OFFSET_LATEST,
			    &hw) != 0 ||
	    hw <= 0)
		return -1;
	if (gq_fetch(nodes[leader], topic, part, hw - 1, 1 << 20, &f) != 0)
		return -1;
	while (gq_fetch_next(f, &rec) == 1)
		if (rec.offset == hw - 1 && rec.value_len == strlen(value) &&
		    memcmp(rec.value, value, rec.value_len) == 0)
			found = rec.offset;
	gq_fetch_destroy(f);
	return found;
}

/* Produce through the partition's current leader, retrying while the
 * leadership moves. */
static gq_offset
produce(const char *topic, int32_t part, const char *value)
{
	uint64_t until = now_ms() + 15000;
	int rv = -1;

	while (now_ms() < until) {
		int via = 0;
		int32_t leader;
		gq_offset off;

		for (int i = 1; i <= N_MAX && via == 0; i++)
			if (nodes[i] != NULL)
				via = i;
		leader = leader_of(via, topic, part);
		off = produce_on(leader, topic, part, value, &rv);
		if (rv == 0)
			return off;
		/* Proposed, but the leader changed before it knew the
		 * outcome: the message may be stored.  Each value is unique,
		 * so look at the end of the log before sending it again, once
		 * a new leader is published (its barrier committed whatever
		 * it holds; the old one may still show it uncommitted). */
		if (rv == GQ_EUNKNOWN) {
			for (int i = 0;
			     i < 100 && leader_of(via, topic, part) == leader;
			     i++)
				usleep(20 * 1000);
			if ((off = stored_at(via, topic, part, value)) >= 0)
				return off;
		}
		cr_assert(rv == GQ_ENOTLEADER || rv == GQ_EUNKNOWN ||
				  rv == GQ_ENOTREADY || rv == GQ_ECLOSED,
			  "produce: %s", gq_strerror(rv));
		usleep(50000);
	}
	cr_assert_fail("produce to %s/%d kept failing: %s", topic, part,
		       gq_strerror(rv));
	return -1;
}

/* Produce "<prefix>-<k>" for k from @from up to @to, each landing at
 * offset k of @topic/@part. */
static void
produce_range(const char *topic, int32_t part, const char *prefix, int from,
	      int to)
{
	char v[64];

	for (int k = from; k < to; k++) {
		snprintf(v, sizeof(v), "%s-%d", prefix, k);
		cr_assert_eq(produce(topic, part, v), k);
	}
}

/* Wait until node @id holds @n messages of @topic/@part (replication
 * reaches followers asynchronously), then check their values. */
static void
expect_replica(int id, const char *topic, int32_t part, int n,
	       const char *prefix)
{
	uint64_t until = now_ms() + 10000;
	gq_offset hw = -1;
	struct gq_fetch *f;
	struct gq_record rec;
	int got = 0;

	while (now_ms() < until) {
		int rv = gq_list_offsets(nodes[id], topic, part,
					 GQ_OFFSET_LATEST, &hw);

		/* A partition still opening is not an answer yet, nor one
		 * the node has not yet heard is placed on it. */
		cr_assert(rv == 0 || rv == GQ_ENOTREADY || rv == GQ_ENOTLEADER,
			  "node %d: %s", id, gq_strerror(rv));
		if (rv == 0 && hw >= n)
			break;
		usleep(20000);
	}
	cr_assert_eq(hw, n, "node %d holds %lld of %d messages of %s/%d", id,
		     (long long)hw, n, topic, part);
	cr_assert_eq(gq_fetch(nodes[id], topic, part, 0, 1 << 24, &f), 0);
	while (gq_fetch_next(f, &rec) == 1) {
		char want[64];

		snprintf(want, sizeof(want), "%s-%d", prefix, got);
		cr_assert_eq(rec.offset, got);
		cr_assert_eq(rec.value_len, strlen(want));
		cr_assert(memcmp(rec.value, want, rec.value_len) == 0,
			  "node %d offset %d", id, got);
		got++;
	}
	gq_fetch_destroy(f);
	cr_assert_eq(got, n);
}

/* The cluster forms, registers every node, places 6 x 3 replicas evenly
 * and replicates what the leaders acknowledge to every replica. */
Test(cluster, form_place_replicate)
{
	struct gq_broker_info *b;
	struct gq_topic_info *info;
	size_t nb;
	int load[N + 1] = { 0 }, leads[N + 1] = { 0 };
	int rv;

	open_all();
	for (int i = 1; i <= N; i++) {
		cr_assert_eq(gq_node_id(nodes[i]), i);
		cr_assert_eq(gq_cluster_brokers(nodes[i], &b, &nb), 0);
		cr_assert_eq(nb, N, "node %d knows %zu brokers", i, nb);
		for (size_t j = 0; j < nb; j++)
			cr_assert_eq(b[j].id, (int32_t)j + 1);
		gq_cluster_brokers_free(b);
		cr_assert_gt(gq_cluster_controller(nodes[i]), 0);
	}
	/* From a node that may well not lead the controller. */
	rv = gq_topic_create(nodes[2], "orders", 6, 3, NULL);
	cr_assert_eq(rv, 0, "%s: %s", gq_strerror(rv),
		     gq_node_errmsg(nodes[2]));
	cr_assert_eq(gq_topic_create(nodes[3], "orders", 6, 3, NULL),
		     GQ_EEXIST);
	cr_assert_eq(gq_topic_create(nodes[1], "wide", 1, 4, NULL), GQ_EINVAL);
	for (int i = 1; i <= N; i++) {
		cr_assert_eq(gq_topic_describe(nodes[i], "orders", &info), 0,
			     "node %d does not know the topic", i);
		cr_assert_eq(gq_topic_info_replication_factor(info), 3);
		for (int32_t p = 0; p < 6; p++) {
			struct gq_partition_info pi;

			cr_assert_eq(gq_topic_info_partition(info, p, &pi), 0);
			cr_assert_eq(pi.replica_count, 3);
			if (i == 1) {
				for (uint32_t r = 0; r < 3; r++)
					load[pi.replicas[r]]++;
				leads[pi.replicas[0]]++;
			}
		}
		gq_topic_info_destroy(info);
	}
	for (int i = 1; i <= N; i++) {
		cr_assert_eq(load[i], 6, "node %d holds %d replicas", i,
			     load[i]);
		cr_assert_eq(leads[i], 2, "node %d prefers %d leaders", i,
			     leads[i]);
	}
	for (int32_t p = 0; p < 6; p++) {
		int32_t leader = leader_of(1, "orders", p);
		int other = leader % N + 1;
		char v[64];

		for (int k = 0; k < 20; k++) {
			snprintf(v, sizeof(v), "p%d-%d", p, k);
			cr_assert_eq(produce("orders", p, v), k);
		}
		/* A node that does not lead the partition forwards. */
		snprintf(v, sizeof(v), "p%d-%d", p, 20);
		cr_assert_eq(produce_on(other, "orders", p, v, &rv), 20,
			     "produce through node %d: %s", other,
			     gq_strerror(rv));
		snprintf(v, sizeof(v), "p%d", p);
		for (int i = 1; i <= N; i++)
			expect_replica(i, "orders", p, 21, v);
	}
}

/* Every partition's leader becomes its preferred replica, the first
 * placed, so leaders spread as evenly as replicas; after a failover the
 * returning node gets its leaders back. */
static void
expect_preferred_leaders(const char *topic, int32_t parts)
{
	uint64_t until = now_ms() + 20000;

	for (;;) {
		struct gq_topic_info *info;
		int32_t wrong = -1;

		cr_assert_eq(gq_topic_describe(nodes[1], topic, &info), 0);
		for (int32_t p = 0; p < parts && wrong < 0; p++) {
			struct gq_partition_info pi;

			cr_assert_eq(gq_topic_info_partition(info, p, &pi), 0);
			if (pi.leader != pi.replicas[0])
				wrong = p;
		}
		gq_topic_info_destroy(info);
		if (wrong < 0)
			return;
		cr_assert_lt(now_ms(), until,
			     "partition %d not led by its preferred replica",
			     wrong);
		usleep(50000);
	}
}

/* Whether gq_node_stats() on every node agrees with @info: one controller
 * leader, which all name; each partition of @topic led by its preferred
 * replica and by no other node, which the others name; 3 voters
 * everywhere.  If not, @why says what differs. */
static bool
stats_agree(const char *topic, int32_t parts, const struct gq_topic_info *info,
	    char *why, size_t size)
{
	int ctl_leaders = 0, part_leaders[16] = { 0 };

	for (int id = 1; id <= N; id++) {
		struct gq_node_stats *st;

		cr_assert_eq(gq_node_stats(nodes[id], &st), 0);
		cr_assert_eq(st->node_id, id);
		cr_assert_eq(st->replicas[0].partition, -1);
		cr_assert_eq(st->replicas[0].voters, 3);
		if (st->controller != gq_cluster_controller(nodes[1]))
			snprintf(why, size, "node %d: controller %d", id,
				 st->controller);
		if (st->replicas[0].role == GQ_RAFT_LEADER &&
		    st->replicas[0].serving && st->controller == id)
			ctl_leaders++;
		for (size_t i = 1; i < st->replica_count; i++) {
			const struct gq_replica_stats *r = &st->replicas[i];
			struct gq_partition_info pi;

			if (strcmp(r->topic, topic) != 0)
				continue;
			cr_assert_eq(r->voters, 3);
			cr_assert_eq(gq_topic_info_partition(info, r->partition,
							     &pi),
				     0);
			if (r->role == GQ_RAFT_LEADER)
				part_leaders[r->partition] +=
					pi.replicas[0] == id ? 1 : 100;
			else if (r->serving || r->leader != pi.replicas[0])
				snprintf(why, size,
					 "node %d: partition %d follows %d", id,
					 r->partition, r->leader);
		}
		gq_node_stats_free(st);
	}
	if (ctl_leaders != 1)
		snprintf(why, size, "%d controller leaders", ctl_leaders);
	for (int32_t p = 0; p < parts; p++)
		if (part_leaders[p] != 1)
			snprintf(why, size, "partition %d: leaders %d", p,
				 part_leaders[p]);
	return why[0] == 0;
}

static void
expect_stats_agree(const char *topic, int32_t parts)
{
	uint64_t until = now_ms() + 10000;
	struct gq_topic_info *info;
	char why[200];

	cr_assert_leq(parts, 16);
	cr_assert_eq(gq_topic_describe(nodes[1], topic, &info), 0);
	for (;;) {
		why[0] = 0;
		if (stats_agree(topic, parts, info, why, sizeof(why)))
			break;
		cr_assert_lt(now_ms(), until, "%s", why);
		usleep(50000);
	}
	gq_topic_info_destroy(info);
}

Test(cluster, preferred_leaders)
{
	int ids[1];

	open_all();
	cr_assert_eq(gq_topic_create(nodes[1], "spread", 6, 3, NULL), 0);
	expect_preferred_leaders("spread", 6);
	expect_stats_agree("spread", 6);
	ids[0] = 2;
	gq_node_close(nodes[2]);
	nodes[2] = NULL;
	for (int32_t p = 0; p < 6; p++)
		cr_assert_neq(leader_of(1, "spread", p), 2);
	open_nodes(ids, 1);
	expect_preferred_leaders("spread", 6);
}

/* Produce calls on nodes holding no replica reach the only one. */
Test(cluster, forward_to_the_only_replica)
{
	int32_t leader;
	char v[32];
	int rv;

	open_all();
	cr_assert_eq(gq_topic_create(nodes[1], "narrow", 1, 1, NULL), 0);
	leader = leader_of(1, "narrow", 0);
	for (int i = 1; i <= N; i++) {
		snprintf(v, sizeof(v), "n-%d", i - 1);
		cr_assert_eq(produce_on(i, "narrow", 0, v, &rv), i - 1,
			     "through node %d: %s", i, gq_strerror(rv));
	}
	expect_replica(leader, "narrow", 0, N, "n");
}

/* The leader of a partition goes: another replica takes over, nothing
 * acknowledged is lost, and the node catches up when it comes back. */
Test(cluster, leader_failover_and_catch_up)
{
	int32_t leader;
	int ids[1];

	open_all();
	cr_assert_eq(gq_topic_create(nodes[1], "events", 1, 3, NULL), 0);
	produce_range("events", 0, "e", 0, 50);
	leader = leader_of(1, "events", 0);
	gq_node_close(nodes[leader]);
	nodes[leader] = NULL;
	produce_range("events", 0, "e", 50, 100);
	for (int i = 1; i <= N; i++)
		if (nodes[i] != NULL)
			expect_replica(i, "events", 0, 100, "e");
	ids[0] = leader;
	open_nodes(ids, 1);
	expect_replica(leader, "events", 0, 100, "e");
}

/* The controller leader goes: the others elect one and keep creating
 * topics; deleting one removes its data on every node. */
Test(cluster, controller_failover_and_delete)
{
	int32_t ctl;
	int via;
	char path[600];
	struct stat st;

	open_all();
	ctl = gq_cluster_controller(nodes[1]);
	cr_assert(ctl >= 1 && ctl <= N);
	gq_node_close(nodes[ctl]);
	nodes[ctl] = NULL;
	via = ctl % N + 1;
	cr_assert_eq(gq_topic_create(nodes[via], "after", 2, 2, NULL), 0, "%s",
		     gq_node_errmsg(nodes[via]));
	cr_assert_eq(produce("after", 0, "a-0"), 0);
	cr_assert_eq(produce("after", 1, "a-0"), 0);
	cr_assert_eq(gq_topic_delete(nodes[via], "after"), 0);
	for (int i = 1; i <= N; i++) {
		uint64_t until = now_ms() + 5000;
		struct gq_topic_info *info;

		if (nodes[i] == NULL)
			continue;
		while (gq_topic_describe(nodes[i], "after", &info) == 0) {
			gq_topic_info_destroy(info);
			cr_assert_lt(now_ms(), until, "node %d keeps it", i);
			usleep(20000);
		}
		/* Topic ids start at 1; "__consumer_offsets" got the first,
		 * so "after" is 2. */
		snprintf(path, sizeof(path), "%s/n%d/data/after.2", root, i);
		until = now_ms() + 5000;
		while (stat(path, &st) == 0) {
			cr_assert_lt(now_ms(), until, "%s remains", path);
			usleep(20000);
		}
	}
}

/* A node that was away while the others compacted their Raft log past
 * what it has gets a manifest snapshot instead of entries: it copies the
 * missing log from another replica, then follows and can lead. */
Test(cluster, snapshot_catch_up, .timeout = 240)
{
	int32_t leader;
	int away, ids[1];

	open_all();
	cr_assert_eq(gq_topic_create(nodes[1], "deep", 1, 3, NULL), 0);
	produce_range("deep", 0, "d", 0, 30);
	leader = leader_of(1, "deep", 0);
	away = leader % N + 1;
	gq_node_close(nodes[away]);
	nodes[away] = NULL;
	/* One entry each: past two snapshots (every 1024 entries), so the
	 * log the node would need is gone from memory and disk. */
	produce_range("deep", 0, "d", 30, 2200);
	ids[0] = away;
	atomic_store(&log_copies, 0);
	open_nodes(ids, 1);
	expect_replica(away, "deep", 0, 2200, "d");
	cr_assert_geq(atomic_load(&log_copies), 1,
		      "the log came by a copy, not by Raft entries");
	/* Take the leader away: the node that copied its log leads or
	 * follows, and the partition keeps every message. */
	leader = leader_of(away, "deep", 0);
	gq_node_close(nodes[leader]);
	nodes[leader] = NULL;
	produce_range("deep", 0, "d", 2200, 2220);
	expect_replica(away, "deep", 0, 2220, "d");
}

/* Offset @which (GQ_OFFSET_EARLIEST/LATEST) of @topic/@part on node @id,
 * once the node answers (it may still be opening or catching up). */
static gq_offset
offset_on(int id, const char *topic, int32_t part, gq_offset which)
{
	uint64_t until = now_ms() + 20000;
	gq_offset off = -1;
	int rv;

	while ((rv = gq_list_offsets(nodes[id], topic, part, which, &off)) !=
	       0) {
		cr_assert(rv == GQ_ENOTREADY || rv == GQ_ENOTLEADER,
			  "node %d: %s", id, gq_strerror(rv));
		cr_assert_lt(now_ms(), until, "node %d never answered", id);
		usleep(20000);
	}
	return off;
}

/* A replica comes back after retention deleted, on the other replicas,
 * the messages it misses: it continues from where their logs start, as a
 * Kafka follower behind its leader's log start does, instead of waiting
 * forever for data nobody holds; and it serves exactly their messages. */
Test(cluster, catch_up_past_retention, .timeout = 240)
{
	struct gq_config *cfg;
	struct gq_fetch *f;
	struct gq_record rec;
	gq_offset start, end, at;
	int32_t leader;
	int away, ids[1];

	cleanup = "200ms";
	open_all();
	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "segment_size", "4096", NULL), 0);
	cr_assert_eq(gq_config_set(cfg, "retention_bytes", "16384", NULL), 0);
	cr_assert_eq(gq_topic_create(nodes[1], "gone", 1, 3, cfg), 0);
	gq_config_destroy(cfg);
	produce_range("gone", 0, "g", 0, 30);
	leader = leader_of(1, "gone", 0);
	away = leader % N + 1;
	expect_replica(away, "gone", 0, 30, "g");
	gq_node_close(nodes[away]);
	nodes[away] = NULL;
	/* Past two snapshots (so Raft cannot replay it) and through dozens
	 * of 4 KiB segments, most of them deleted by retention. */
	produce_range("gone", 0, "g", 30, 2200);
	for (uint64_t until = now_ms() + 20000;;) {
		start = offset_on(leader, "gone", 0, GQ_OFFSET_EARLIEST);
		if (start > 30)
			break;
		cr_assert_lt(now_ms(), until, "retention kept offset %lld",
			     (long long)start);
		usleep(50000);
	}
	ids[0] = away;
	open_nodes(ids, 1);
	for (uint64_t until = now_ms() + 30000;;) {
		end = offset_on(away, "gone", 0, GQ_OFFSET_LATEST);
		if (end == 2200)
			break;
		cr_assert_lt(now_ms(), until, "the replica holds %lld of 2200",
			     (long long)end);
		usleep(50000);
	}
	start = offset_on(away, "gone", 0, GQ_OFFSET_EARLIEST);
	cr_assert_gt(start, 30, "the replica kept offsets it never had");
	cr_assert_eq(gq_fetch(nodes[away], "gone", 0, start, 1 << 24, &f), 0);
	for (at = start; gq_fetch_next(f, &rec) == 1; at++) {
		char want[64];

		snprintf(want, sizeof(want), "g-%lld", (long long)at);
		cr_assert_eq(rec.offset, at);
		cr_assert_eq(rec.value_len, strlen(want));
		cr_assert(memcmp(rec.value, want, rec.value_len) == 0,
			  "offset %lld", (long long)at);
	}
	gq_fetch_destroy(f);
	cr_assert_eq(at, 2200, "fetched up to %lld", (long long)at);
}

/* The replicas of @topic/@part as node @via describes them. */
static void
replicas_of(int via, const char *topic, int32_t part, int32_t *out, uint32_t *n)
{
	struct gq_topic_info *info;
	struct gq_partition_info pi;

	cr_assert_eq(gq_topic_describe(nodes[via], topic, &info), 0);
	cr_assert_eq(gq_topic_info_partition(info, part, &pi), 0);
	*n = pi.replica_count;
	memcpy(out, pi.replicas, sizeof(pi.replicas));
	gq_topic_info_destroy(info);
}

/* Wait until node @id holds no replica of @topic/@part any more: its
 * describe says so and the directory is gone. */
static void
expect_gone(int id, const char *topic, uint32_t topic_id, int32_t part)
{
	uint64_t until = now_ms() + 20000;
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/n%d/data/%s.%u/%d", root, id, topic,
		 topic_id, part);
	for (;;) {
		struct gq_topic_info *info;
		struct gq_partition_info pi;

		cr_assert_eq(gq_topic_describe(nodes[id], topic, &info), 0);
		cr_assert_eq(gq_topic_info_partition(info, part, &pi), 0);
		gq_topic_info_destroy(info);
		if (pi.log_start == -1 && stat(path, &st) != 0)
			return;
		cr_assert_lt(now_ms(), until,
			     "node %d keeps its replica of %s/%d", id, topic,
			     part);
		usleep(50000);
	}
}

static void
expect_leader(const char *topic, int32_t part, int32_t want)
{
	uint64_t until = now_ms() + 10000;
	int32_t leader;

	while ((leader = leader_of(want, topic, part)) != want) {
		cr_assert_lt(now_ms(), until, "%s/%d: leader %d, not %d", topic,
			     part, leader, want);
		usleep(50000);
	}
}

/* A partition's replicas move to another node: the new one copies the
 * data (past a snapshot, so by catch-up), becomes a voter and the
 * preferred leader, the old one deletes its data, and nothing is lost. */
Test(cluster, reassign_moves_replicas, .timeout = 240)
{
	int32_t was[GQ_REPLICAS_MAX], now[GQ_REPLICAS_MAX], target[2];
	uint32_t n;
	int out = 0, in = 0;

	open_all();
	cr_assert_eq(gq_topic_create(nodes[1], "moving", 1, 2, NULL), 0);
	replicas_of(1, "moving", 0, was, &n);
	cr_assert_eq(n, 2);
	for (int i = 1; i <= N; i++)
		if (i != was[0] && i != was[1])
			in = i;
	out = was[1];
	/* Past one snapshot (every 1024 entries): the new replica gets a
	 * manifest and copies the log. */
	produce_range("moving", 0, "m", 0, 1100);
	atomic_store(&log_copies, 0);
	target[0] = in;
	target[1] = was[0];
	cr_assert_eq(gq_partition_reassign(nodes[out], "moving", 0, target, 2),
		     0, "%s", gq_node_errmsg(nodes[out]));
	replicas_of(out, "moving", 0, now, &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(now[0], in);
	cr_assert_eq(now[1], was[0]);
	expect_replica(in, "moving", 0, 1100, "m");
	expect_gone(out, "moving", 2, 0);
	cr_assert_geq(atomic_load(&log_copies), 1);
	expect_leader("moving", 0, in);
	produce_range("moving", 0, "m", 1100, 1120);
	expect_replica(in, "moving", 0, 1120, "m");
	expect_replica(was[0], "moving", 0, 1120, "m");
}

/* A single replica moves (its leader hands over, then is removed);
 * leadership moves on request; bad requests are refused. */
Test(cluster, move_single_replica_and_leader)
{
	int32_t from, to, leader, target[3];
	int rv;

	open_all();
	cr_assert_eq(gq_topic_create(nodes[1], "solo", 1, 1, NULL), 0);
	produce_range("solo", 0, "s", 0, 10);
	from = leader_of(1, "solo", 0);
	to = from % N + 1;
	cr_assert_eq(gq_partition_reassign(nodes[1], "solo", 0, &to, 1), 0);
	expect_replica(to, "solo", 0, 10, "s");
	expect_gone(from, "solo", 2, 0);
	expect_leader("solo", 0, to);
	cr_assert_eq(produce("solo", 0, "s-10"), 10);

	cr_assert_eq(gq_topic_create(nodes[1], "lead", 1, 3, NULL), 0);
	leader = leader_of(1, "lead", 0);
	cr_assert_eq(
		gq_partition_move_leader(nodes[2], "lead", 0, leader % N + 1),
		0);
	expect_leader("lead", 0, leader % N + 1);

	target[0] = target[1] = 1;
	cr_assert_eq(gq_partition_reassign(nodes[1], "lead", 0, target, 2),
		     GQ_EINVAL);
	target[1] = 9;
	cr_assert_eq(gq_partition_reassign(nodes[1], "lead", 0, target, 2),
		     GQ_EINVAL);
	cr_assert_eq(gq_partition_reassign(nodes[1], "none", 0, target, 1),
		     GQ_ENOTOPIC);
	cr_assert_eq(gq_partition_reassign(nodes[1], "lead", 4, target, 1),
		     GQ_ENOPARTITION);
	rv = gq_partition_move_leader(nodes[1], "solo", 0, from);
	cr_assert_eq(rv, GQ_EINVAL, "%s: %s", gq_strerror(rv),
		     gq_node_errmsg(nodes[1]));
}

/* A node that was down while its replica was removed (the replication
 * factor lowered) finds the data at start, learns it left the group, and
 * deletes it. */
Test(cluster, removed_while_down)
{
	int32_t was[GQ_REPLICAS_MAX];
	uint32_t n;
	int down, ids[1];

	open_all();
	cr_assert_eq(gq_topic_create(nodes[1], "away", 1, 3, NULL), 0);
	replicas_of(1, "away", 0, was, &n);
	produce_range("away", 0, "a", 0, 20);
	down = was[2];
	gq_node_close(nodes[down]);
	nodes[down] = NULL;
	cr_assert_eq(gq_partition_reassign(nodes[was[0]], "away", 0, was, 2), 0,
		     "%s", gq_node_errmsg(nodes[was[0]]));
	cr_assert_eq(produce("away", 0, "a-20"), 20);
	ids[0] = down;
	open_nodes(ids, 1);
	expect_gone(down, "away", 2, 0);
	cr_assert_eq(produce("away", 0, "a-21"), 21);
	expect_replica(was[0], "away", 0, 22, "a");
	expect_replica(was[1], "away", 0, 22, "a");
}

/* A fourth node joins the running cluster: it learns the topics, new
 * replicas can be placed on it, and when a node stays dead past
 * dead_broker_grace its replicas are re-created on the others (the
 * controller too: the newcomer votes in its place).  When the dead node
 * comes back, what it held is deleted. */
Test(cluster, join_and_recreate_dead_replicas, .timeout = 180)
{
	int32_t r[GQ_REPLICAS_MAX];
	struct gq_broker_info *b;
	size_t nb;
	uint32_t n;
	int dead, ids[1] = { N_MAX };

	grace = "2s";
	open_all();
	cr_assert_eq(gq_topic_create(nodes[1], "heal", 4, 3, NULL), 0);
	open_nodes(ids, 1);
	cr_assert_eq(gq_cluster_brokers(nodes[N_MAX], &b, &nb), 0);
	gq_cluster_brokers_free(b);
	cr_assert_eq(nb, N_MAX, "the new node knows %zu brokers", nb);
	for (int32_t p = 0; p < 4; p++)
		produce_range("heal", p, "h", 0, 10);
	/* The new node can take a replica by hand. */
	replicas_of(N_MAX, "heal", 0, r, &n);
	r[2] = N_MAX;
	cr_assert_eq(gq_partition_reassign(nodes[N_MAX], "heal", 0, r, 3), 0,
		     "%s", gq_node_errmsg(nodes[N_MAX]));
	expect_replica(N_MAX, "heal", 0, 10, "h");
	/* The controller leader dies for good. */
	dead = gq_cluster_controller(nodes[N_MAX]);
	cr_assert(dead >= 1 && dead <= N, "controller %d", dead);
	gq_node_close(nodes[dead]);
	nodes[dead] = NULL;
	for (int32_t p = 0; p < 4; p++) {
		uint64_t until = now_ms() + 60000;

		for (;;) {
			replicas_of(N_MAX, "heal", p, r, &n);
			cr_assert_eq(n, 3);
			if (r[0] != dead && r[1] != dead && r[2] != dead)
				break;
			cr_assert_lt(now_ms(), until, "%d still holds heal/%d",
				     dead, p);
			usleep(100000);
		}
		for (uint32_t i = 0; i < n; i++)
			expect_replica(r[i], "heal", p, 10, "h");
	}
	/* Back, it deletes what it held. */
	ids[0] = dead;
	open_nodes(ids, 1);
	for (int32_t p = 0; p < 4; p++)
		expect_gone(dead, "heal", 2, p);
	/* The controller has three voters again (the newcomer replaced the
	 * dead one): it survives the loss of another initial member. */
	ids[0] = dead % N + 1;
	gq_node_close(nodes[ids[0]]);
	nodes[ids[0]] = NULL;
	cr_assert_eq(gq_topic_delete(nodes[N_MAX], "heal"), 0, "%s",
		     gq_node_errmsg(nodes[N_MAX]));
}

/* A broker removed on purpose hands every replica to the others, leaves
 * the controller group (the newcomer votes instead), and can then be
 * stopped along with another one without losing the controller. */
Test(cluster, remove_broker, .timeout = 180)
{
	struct gq_broker_info *b;
	int32_t r[GQ_REPLICAS_MAX];
	int ids[1] = { N_MAX };
	uint64_t until;
	size_t nb;
	uint32_t n;

	open_all();
	cr_assert_eq(gq_topic_create(nodes[1], "drain", 3, 3, NULL), 0);
	open_nodes(ids, 1);
	for (int32_t p = 0; p < 3; p++)
		produce_range("drain", p, "d", 0, 10);
	atomic_store(&log_drained, 0);
	cr_assert_eq(gq_cluster_remove_broker(nodes[N_MAX], 9), GQ_EINVAL);
	cr_assert_eq(gq_cluster_remove_broker(nodes[N_MAX], 1), 0, "%s",
		     gq_node_errmsg(nodes[N_MAX]));
	/* Two brokers would be left for three replicas. */
	cr_assert_eq(gq_cluster_remove_broker(nodes[N_MAX], 2), GQ_EINVAL);
	cr_assert_eq(gq_cluster_brokers(nodes[N_MAX], &b, &nb), 0);
	cr_assert_eq(nb, N_MAX);
	cr_assert(b[0].id == 1 && b[0].removing && !b[1].removing);
	gq_cluster_brokers_free(b);
	for (int32_t p = 0; p < 3; p++) {
		expect_gone(1, "drain", 2, p);
		replicas_of(N_MAX, "drain", p, r, &n);
		cr_assert_eq(n, 3);
		for (uint32_t i = 0; i < n; i++) {
			cr_assert_neq(r[i], 1);
			expect_replica(r[i], "drain", p, 10, "d");
		}
	}
	until = now_ms() + 20000;
	while (atomic_load(&log_drained) == 0) {
		cr_assert_lt(now_ms(), until, "broker 1 never left group 0");
		usleep(50000);
	}
	sleep(1); /* the removal commits */
	for (int i = 1; i <= 2; i++) {
		gq_node_close(nodes[i]);
		nodes[i] = NULL;
	}
	cr_assert_eq(gq_topic_delete(nodes[N_MAX], "drain"), 0, "%s",
		     gq_node_errmsg(nodes[N_MAX]));
}

/* After gq_partition_sync(), a follower's local reads see every message
 * the leader acknowledged before the call (a read index); a node with no
 * replica is told so. */
Test(cluster, linearizable_follower_reads)
{
	int32_t leader, other;
	gq_offset hw;
	char v[32];
	int lagging = 0;

	open_all();
	cr_assert_eq(gq_topic_create(nodes[1], "lin", 1, 3, NULL), 0);
	leader = leader_of(1, "lin", 0);
	for (int k = 0; k < 50; k++) {
		int rv;

		snprintf(v, sizeof(v), "l-%d", k);
		cr_assert_eq(produce_on(leader, "lin", 0, v, &rv), k, "%s",
			     gq_strerror(rv));
		for (int f = 1; f <= N; f++) {
			/* Without the read index a follower may lag. */
			cr_assert_eq(gq_list_offsets(nodes[f], "lin", 0,
						     GQ_OFFSET_LATEST, &hw),
				     0);
			lagging += hw < k + 1;
			rv = gq_partition_sync(nodes[f], "lin", 0, 5000);
			cr_assert_eq(rv, 0, "node %d: %s", f, gq_strerror(rv));
			cr_assert_eq(gq_list_offsets(nodes[f], "lin", 0,
						     GQ_OFFSET_LATEST, &hw),
				     0);
			cr_assert_eq(hw, k + 1, "node %d after sync: %lld", f,
				     (long long)hw);
		}
	}
	cr_log_info("followers lagged %d times without the read index",
		    lagging);
	cr_assert_eq(gq_topic_create(nodes[1], "one", 1, 1, NULL), 0);
	leader = leader_of(1, "one", 0);
	other = leader % N + 1;
	cr_assert_eq(gq_partition_sync(nodes[other], "one", 0, 1000),
		     GQ_ENOTLEADER);
	cr_assert_eq(gq_partition_sync(nodes[leader], "one", 0, 1000), 0);
	cr_assert_eq(gq_partition_sync(nodes[leader], "none", 0, 1000),
		     GQ_ENOTOPIC);
}

/* The coordinator of @group as node @via sees it, waiting up to 10 s for
 * one that is open. */
static int32_t
coordinator_of(int via, const char *group)
{
	uint64_t until = now_ms() + 10000;
	int32_t c = -1;

	while (now_ms() < until) {
		if (gq_group_coordinator(nodes[via], group, &c) == 0 && c > 0 &&
		    c <= N && nodes[c] != NULL)
			return c;
		usleep(20 * 1000);
	}
	cr_assert_fail("no coordinator for %s", group);
	return -1;
}

/* Group calls work on any node (they go to the coordinator), and a
 * group's members, generation and committed offsets outlive its
 * coordinator: the next one resumes the group, members heartbeat on in
 * their generation, and offsets read back there. */
Test(cluster, group_coordinator_failover, .timeout = 180)
{
	struct gqt_call ja, jb, sa, sb;
	struct gq_group_assignment as[2];
	struct gq_group_offset o = { .topic = "t",
				     .partition = 0,
				     .offset = 7 };
	struct gq_group_info *info;
	char a[256], b[256];
	int32_t c, c2, other;
	int rv = 0;

	open_all();
	cr_assert_eq(gq_topic_create(nodes[1], "t", 1, 3, NULL), 0);
	c = coordinator_of(1, "g");
	other = c % N + 1;
	gqt_join_new(nodes[c], &ja, "g", 6000);
	cr_assert_eq(gqt_call_wait(&ja), 0);
	snprintf(a, sizeof(a), "%s", ja.member_id);
	as[0] = (struct gq_group_assignment){ a, "all", 3 };
	gqt_sync_start(nodes[c], &sa, "g", a, 1, 1, as);
	cr_assert_eq(gqt_call_wait(&sa), 0);

	/* B joins through another node; its call waits there for the
	 * rebalance A learns of from its heartbeat. */
	gqt_join_new(nodes[other], &jb, "g", 6000);
	for (int i = 0; i < 100 && rv != GQ_EREBALANCE; i++) {
		rv = gqt_heartbeat(nodes[c], "g", a, 1);
		cr_assert(rv == 0 || rv == GQ_EREBALANCE, "%s",
			  gq_strerror(rv));
		usleep(10 * 1000);
	}
	cr_assert_eq(rv, GQ_EREBALANCE);
	gqt_join_start(nodes[c], &ja, "g", a, 6000);
	cr_assert_eq(gqt_call_wait(&ja), 0);
	cr_assert_eq(gqt_call_wait(&jb), 0);
	snprintf(b, sizeof(b), "%s", jb.member_id);
	cr_assert_eq(jb.generation, 2);
	cr_assert_str_eq(jb.leader, a);
	cr_assert_eq(ja.n_members, 2);
	gqt_sync_start(nodes[other], &sb, "g", b, 2, 0, NULL);
	as[0] = (struct gq_group_assignment){ a, "t-0", 3 };
	as[1] = (struct gq_group_assignment){ b, "none", 4 };
	gqt_sync_start(nodes[c], &sa, "g", a, 2, 2, as);
	cr_assert_eq(gqt_call_wait(&sa), 0);
	cr_assert_eq(gqt_call_wait(&sb), 0);
	cr_assert_str_eq(sb.assignment, "none");
	cr_assert_eq(gqt_commit(nodes[other], "g", a, 2, &o, 1), 0);
	cr_assert_eq(o.status, 0);
	cr_assert_eq(gqt_commit(nodes[other], "g", a, 1, &o, 1),
		     GQ_EGENERATION);
	cr_assert_eq(gqt_heartbeat(nodes[other], "g", b, 2), 0);
	/* Offsets are read where they are current: on the coordinator. */
	o.offset = -1;
	cr_assert_eq(gq_group_offsets(nodes[other], "g", &o, 1), 0);
	cr_assert_eq(o.status, 0);
	cr_assert_eq(o.offset, 7);

	gq_node_close(nodes[c]);
	nodes[c] = NULL;
	c2 = coordinator_of(other, "g");
	cr_assert_neq(c2, c);
	/* It serves once its barrier applied and the saved group is back;
	 * B's calls keep going through its own node. */
	for (int i = 0; i < 500; i++) {
		rv = gqt_heartbeat(nodes[other], "g", b, 2);
		if (rv != GQ_ENOTREADY && rv != GQ_ENOTCOORD)
			break;
		usleep(20 * 1000);
	}
	cr_assert_eq(rv, 0, "heartbeat: %s", gq_strerror(rv));
	cr_assert_eq(gqt_heartbeat(nodes[c2], "g", a, 2), 0);
	o.offset = -1;
	cr_assert_eq(gq_group_offsets(nodes[c2], "g", &o, 1), 0);
	cr_assert_eq(o.offset, 7);
	cr_assert_eq(gq_group_describe(nodes[c2], "g", &info), 0);
	cr_assert_str_eq(info->state, "Stable");
	cr_assert_eq(info->generation, 2);
	cr_assert_eq(info->n_members, 2);
	gq_group_info_destroy(info);
	/* The resumed group takes commits of its generation only. */
	o.offset = 9;
	cr_assert_eq(gqt_commit(nodes[c2], "g", b, 2, &o, 1), 0);
	cr_assert_eq(gqt_commit(nodes[c2], "g", b, 3, &o, 1), GQ_EGENERATION);
}

/* Embedded group consumers on two different nodes share a topic: the
 * group's calls go to its coordinator from wherever they are made, and
 * every message is read once. */
Test(cluster, consumers_on_two_nodes, .timeout = 180)
{
	const char *topics[] = { "shared" };
	struct gq_consumer *c[2];
	int got[400] = { 0 };
	int read = 0, owners = 0;
	uint64_t until;

	open_all();
	cr_assert_eq(gq_topic_create(nodes[1], "shared", 4, 3, NULL), 0);
	for (int k = 0; k < 400; k++) {
		char v[16];

		snprintf(v, sizeof(v), "%d", k);
		cr_assert_geq(produce("shared", k % 4, v), 0);
	}
	for (int i = 0; i < 2; i++) {
		struct gq_consumer_options o;

		gq_consumer_options_init(&o);
		o.group = "across";
		o.offset_reset = GQ_RESET_EARLIEST;
		o.heartbeat_interval_ms = 200;
		cr_assert_eq(gq_consumer_create(nodes[i + 1], &o, &c[i]), 0);
		cr_assert_eq(gq_consumer_subscribe(c[i], topics, 1), 0);
	}
	/* Poll both in turns until everything is read. */
	until = now_ms() + 60000;
	while (read < 400 && now_ms() < until) {
		for (int i = 0; i < 2; i++) {
			struct gq_consumer_message m;
			int rv = gq_consumer_poll(c[i], 50, &m);
			char v[16];

			cr_assert_geq(rv, 0, "poll: %s", gq_strerror(rv));
			if (rv == 0)
				continue;
			snprintf(v, sizeof(v), "%.*s", (int)m.record.value_len,
				 (const char *)m.record.value);
			got[atoi(v)]++;
			read++;
		}
	}
	cr_assert_eq(read, 400);
	for (int k = 0; k < 400; k++)
		cr_assert_eq(got[k], 1, "message %d read %d times", k, got[k]);
	for (int i = 0; i < 2; i++) {
		struct gq_topic_partition *parts;
		size_t n;

		cr_assert_eq(gq_consumer_assignment(c[i], &parts, NULL, &n), 0);
		owners += n > 0;
		gq_consumer_assignment_free(parts, NULL, n);
	}
	cr_assert_eq(owners, 2, "both members hold partitions");
	gq_consumer_close(c[0]);
	gq_consumer_close(c[1]);
}

/* Wait until node @id describes @topic with @key at @want. */
static void
expect_config(int id, const char *topic, const char *key, const char *want)
{
	uint64_t until = now_ms() + 10000;
	char got[64] = "";

	for (;;) {
		struct gq_topic_info *info;
		const char *v;

		cr_assert_eq(gq_topic_describe(nodes[id], topic, &info), 0);
		v = gq_config_get(gq_topic_info_config(info), key);
		snprintf(got, sizeof(got), "%s", v != NULL ? v : "(none)");
		gq_topic_info_destroy(info);
		if (strcmp(got, want) == 0)
			return;
		cr_assert_lt(now_ms(), until, "node %d: %s %s is %s, not %s",
			     id, topic, key, got, want);
		usleep(20000);
	}
}

/* A topic's configuration changed through a node that does not lead the
 * controller (forwarded to the leader) reaches every node, where a
 * lowered max_message_size holds at once; refusals come back with their
 * detail; a node that was down during a change learns it when it
 * returns. */
Test(cluster, alter_topic_config)
{
	static char big[2000];
	struct gq_config *cfg;
	struct gq_msg m;
	int32_t ctl = -1;
	uint64_t until;
	int via, down, ids[1], rv;

	open_all();
	cr_assert_eq(gq_topic_create(nodes[1], "conf", 2, 3, NULL), 0, "%s",
		     gq_node_errmsg(nodes[1]));
	until = now_ms() + 10000;
	while ((ctl = gq_cluster_controller(nodes[1])) < 1) {
		cr_assert_lt(now_ms(), until, "no controller leader");
		usleep(20000);
	}
	/* Two nodes that do not lead the controller. */
	via = ctl % N + 1;
	down = via % N + 1;

	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "retention_time", "3h", NULL), 0);
	cr_assert_eq(gq_config_set(cfg, "max_message_size", "1KiB", NULL), 0);
	cr_assert_eq(gq_config_set(cfg, "compression_enabled", "no", NULL), 0);
	rv = gq_topic_alter(nodes[via], "conf", cfg);
	gq_config_destroy(cfg);
	cr_assert_eq(rv, 0, "alter via node %d: %s: %s", via, gq_strerror(rv),
		     gq_node_errmsg(nodes[via]));
	memset(big, 'x', sizeof(big));
	memset(&m, 0, sizeof(m));
	m.value = big;
	m.value_len = sizeof(big);
	for (int i = 1; i <= N; i++) {
		expect_config(i, "conf", "retention_time", "3h");
		expect_config(i, "conf", "max_message_size", "1024");
		expect_config(i, "conf", "compression_enabled", "false");
		expect_config(i, "conf", "segment_size", "104857600");
		rv = gq_produce(nodes[i], "conf", 0, &m, 1, NULL, NULL);
		cr_assert_eq(rv, GQ_ETOOBIG, "node %d: %s", i, gq_strerror(rv));
	}

	/* Refused by the controller leader, detail included. */
	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "deduplication_window", "7", NULL), 0);
	rv = gq_topic_alter(nodes[via], "conf", cfg);
	cr_assert_eq(rv, GQ_EINVAL, "dedup: %s", gq_strerror(rv));
	cr_assert(strstr(gq_node_errmsg(nodes[via]), "deduplication_window") !=
			  NULL,
		  "detail: %s", gq_node_errmsg(nodes[via]));
	rv = gq_topic_alter(nodes[via], "none", cfg);
	cr_assert_eq(rv, GQ_ENOTOPIC, "unknown: %s", gq_strerror(rv));
	gq_config_destroy(cfg);

	/* Down during a change: it replays it from the controller's log. */
	gq_node_close(nodes[down]);
	nodes[down] = NULL;
	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "segment_size", "8192", NULL), 0);
	rv = gq_topic_alter(nodes[via], "conf", cfg);
	gq_config_destroy(cfg);
	cr_assert_eq(rv, 0, "%s: %s", gq_strerror(rv),
		     gq_node_errmsg(nodes[via]));
	expect_config(ctl, "conf", "segment_size", "8192");
	ids[0] = down;
	open_nodes(ids, 1);
	expect_config(down, "conf", "segment_size", "8192");
	expect_config(down, "conf", "retention_time", "3h");
	rv = gq_produce(nodes[down], "conf", 1, &m, 1, NULL, NULL);
	cr_assert_eq(rv, GQ_ETOOBIG, "node %d: %s", down, gq_strerror(rv));
}

/* Node @id's replica of @topic/@part: its log start, or -1 until it is
 * open and holds at least @hw messages. */
static gq_offset
local_start(int id, const char *topic, int32_t part, gq_offset hw)
{
	struct gq_topic_info *info;
	struct gq_partition_info pi;

	cr_assert_eq(gq_topic_describe(nodes[id], topic, &info), 0);
	cr_assert_eq(gq_topic_info_partition(info, part, &pi), 0);
	gq_topic_info_destroy(info);
	return pi.high_watermark >= hw ? pi.log_start : -1;
}

/* A node away while a topic's configuration changed, and then for more
 * than a controller snapshot's worth of other changes, gets the state as
 * a snapshot (no later entry repeats the change): its topic table takes
 * the new configuration, and its replica the new retention, which
 * deletes the old segments it holds. */
Test(cluster, alter_reaches_a_node_by_snapshot, .timeout = 240)
{
	static char value[200];
	struct gq_config *cfg;
	struct gq_msg m;
	int64_t old = (int64_t)time(NULL) * 1000 - 3600 * 1000;
	int32_t ctl = -1, leader;
	uint64_t until;
	int down, ids[1], rv;
	char v[32];

	cleanup = "200ms";
	open_all();
	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "segment_size", "4096", NULL), 0);
	cr_assert_eq(gq_config_set(cfg, "retention_time", "-1", NULL), 0);
	cr_assert_eq(gq_config_set(cfg, "compression_type", "none", NULL), 0);
	rv = gq_topic_create(nodes[1], "snap", 1, 3, cfg);
	gq_config_destroy(cfg);
	cr_assert_eq(rv, 0, "%s", gq_node_errmsg(nodes[1]));
	cr_assert_eq(gq_topic_create(nodes[1], "other", 1, 1, NULL), 0);
	memset(value, 'o', sizeof(value));
	memset(&m, 0, sizeof(m));
	m.value = value;
	m.value_len = sizeof(value);
	leader = leader_of(1, "snap", 0);
	for (int i = 0; i < 60; i++) {
		m.timestamp = old + i;
		rv = gq_produce(nodes[leader], "snap", 0, &m, 1, NULL, NULL);
		cr_assert_eq(rv, 0, "produce %d: %s", i, gq_strerror(rv));
	}
	until = now_ms() + 10000;
	while ((ctl = gq_cluster_controller(nodes[1])) < 1) {
		cr_assert_lt(now_ms(), until, "no controller leader");
		usleep(20000);
	}
	down = ctl % N + 1;
	until = now_ms() + 10000;
	while (local_start(down, "snap", 0, 60) != 0) {
		cr_assert_lt(now_ms(), until, "node %d lacks the data", down);
		usleep(20000);
	}
	gq_node_close(nodes[down]);
	nodes[down] = NULL;

	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "retention_time", "1s", NULL), 0);
	cr_assert_eq(gq_config_set(cfg, "retention_bytes", "1GiB", NULL), 0);
	rv = gq_topic_alter(nodes[ctl], "snap", cfg);
	gq_config_destroy(cfg);
	cr_assert_eq(rv, 0, "%s: %s", gq_strerror(rv),
		     gq_node_errmsg(nodes[ctl]));
	/* Past two controller snapshots (every 1024 entries), so the
	 * entries the node misses are gone: one entry per change of another
	 * topic, made on the controller leader, which need not wait for a
	 * heartbeat to learn each commit. */
	for (int k = 0; k < 2200; k++) {
		cr_assert_eq(gq_config_create(&cfg), 0);
		snprintf(v, sizeof(v), "%d", (1 << 20) + k);
		cr_assert_eq(gq_config_set(cfg, "retention_bytes", v, NULL), 0);
		rv = gq_topic_alter(nodes[ctl], "other", cfg);
		gq_config_destroy(cfg);
		cr_assert_eq(rv, 0, "change %d: %s: %s", k, gq_strerror(rv),
			     gq_node_errmsg(nodes[ctl]));
	}
	atomic_store(&log_restored, 0);
	ids[0] = down;
	open_nodes(ids, 1);
	expect_config(down, "snap", "retention_time", "1s");
	expect_config(down, "snap", "retention_bytes", "1073741824");
	snprintf(v, sizeof(v), "%d", (1 << 20) + 2199);
	expect_config(down, "other", "retention_bytes", v);
	cr_assert_geq(atomic_load(&log_restored), 1,
		      "the change came by a snapshot, not by entries");
	until = now_ms() + 10000;
	while (local_start(down, "snap", 0, 60) <= 0) {
		cr_assert_lt(now_ms(), until, "node %d kept its old segments",
			     down);
		usleep(50000);
	}
}
