/* SPDX-License-Identifier: MIT */
/*
 * scrape.c - the node's state as Prometheus metrics (see scrape.h).
 *
 * The exposition format wants every sample of a family together, so
 * each source is read once into memory and then walked once per family.
 */
#include "scrape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A replica's labels: topic and partition, formatted once. */
struct replica_labels {
	struct gqd_prom_label l[2];
	char partition[16];
};

static void
replica_labels(const struct gq_replica_stats *s, struct replica_labels *rl)
{
	snprintf(rl->partition, sizeof(rl->partition), "%d", (int)s->partition);
	rl->l[0] = (struct gqd_prom_label){ "topic",
					    s->partition < 0 ? "" : s->topic };
	rl->l[1] = (struct gqd_prom_label){ "partition", rl->partition };
}

/* What a family takes from one replica. */
enum field {
	F_TERM,
	F_COMMIT,
	F_APPLIED,
	F_LAST,
	F_ROLE,
	F_LEADER,
	F_SERVING,
	F_HW,
	F_LOG_START,
	F_SIZE,
	F_SEGMENTS,
};

static const struct {
	const char *name;
	const char *type;
	const char *help;
	enum field f;
	bool partitions_only;
} replica_families[] = {
	{ "gq_raft_term", "gauge",
	  "Current Raft term of the group here (topic=\"\" partition=\"-1\" "
	  "is the controller).",
	  F_TERM, false },
	{ "gq_raft_commit_index", "gauge",
	  "Last Raft log index known committed.", F_COMMIT, false },
	{ "gq_raft_applied_index", "gauge", "Last Raft log index applied here.",
	  F_APPLIED, false },
	{ "gq_raft_last_index", "gauge", "Last index in the Raft log here.",
	  F_LAST, false },
	{ "gq_raft_role", "gauge",
	  "Role of this node in the group: 0 unavailable, 1 follower, "
	  "2 candidate, 3 leader.",
	  F_ROLE, false },
	{ "gq_raft_leader", "gauge", "1 when this node leads the group.",
	  F_LEADER, false },
	{ "gq_raft_serving", "gauge",
	  "1 when this node leads the group and has passed its barrier.",
	  F_SERVING, false },
	{ "gq_partition_high_watermark", "gauge",
	  "Offset the next message of the partition will get, as this "
	  "replica knows it.",
	  F_HW, true },
	{ "gq_partition_log_start_offset", "gauge",
	  "First offset still stored in this replica.", F_LOG_START, true },
	{ "gq_partition_size_bytes", "gauge",
	  "Bytes of segment files of this replica.", F_SIZE, true },
	{ "gq_partition_segments", "gauge", "Segment files of this replica.",
	  F_SEGMENTS, true },
};

static void
replica_sample(struct gqd_prom *p, const char *name, enum field f,
	       const struct gq_replica_stats *s, const struct gqd_prom_label *l)
{
	uint64_t u = 0;
	int64_t i = 0;
	bool is_signed = false;

	switch (f) {
	case F_TERM:
		u = s->term;
		break;
	case F_COMMIT:
		u = s->commit_index;
		break;
	case F_APPLIED:
		u = s->applied_index;
		break;
	case F_LAST:
		u = s->last_index;
		break;
	case F_ROLE:
		u = (uint64_t)s->role;
		break;
	case F_LEADER:
		u = s->role == GQ_RAFT_LEADER;
		break;
	case F_SERVING:
		u = s->serving;
		break;
	case F_HW:
		i = s->high_watermark;
		is_signed = true;
		break;
	case F_LOG_START:
		i = s->log_start;
		is_signed = true;
		break;
	case F_SIZE:
		u = s->size_bytes;
		break;
	case F_SEGMENTS:
		u = s->segments;
		break;
	}
	if (is_signed)
		gqd_prom_sample_i64(p, name, l, 2, i);
	else
		gqd_prom_sample_u64(p, name, l, 2, u);
}

static void
gauge(struct gqd_prom *p, const char *name, const char *help, double v)
{
	gqd_prom_family(p, name, "gauge", help);
	gqd_prom_sample(p, name, NULL, 0, v);
}

static void
scrape_stats(struct gq_node *node, struct gqd_prom *p)
{
	struct gq_node_stats *st;
	struct replica_labels rl;
	size_t fam, i;

	if (gq_node_stats(node, &st) != 0)
		return;
	for (fam = 0;
	     fam < sizeof(replica_families) / sizeof(replica_families[0]);
	     fam++) {
		gqd_prom_family(p, replica_families[fam].name,
				replica_families[fam].type,
				replica_families[fam].help);
		for (i = 0; i < st->replica_count; i++) {
			const struct gq_replica_stats *s = &st->replicas[i];

			if (replica_families[fam].partitions_only &&
			    s->partition < 0)
				continue;
			replica_labels(s, &rl);
			replica_sample(p, replica_families[fam].name,
				       replica_families[fam].f, s, rl.l);
		}
	}
	gauge(p, "gq_leaders", "Raft groups this node leads.", st->leaders);
	gauge(p, "gq_topics", "Topics in the cluster's metadata.", st->topics);
	gauge(p, "gq_disk_bytes",
	      "Bytes of files in the node's data directory.",
	      (double)st->disk_bytes);
	gauge(p, "gq_disk_free_bytes",
	      "Bytes free for the data directory on its file system.",
	      (double)st->disk_free);
	gauge(p, "gq_uptime_seconds", "Seconds since the node opened.",
	      (double)st->uptime_ms / 1000.0);
	gauge(p, "gq_controller_id",
	      "Node id of the controller's leader as seen here, -1 if none.",
	      st->controller);
	gq_node_stats_free(st);
}

static void
scrape_brokers(struct gq_node *node, struct gqd_prom *p)
{
	struct gq_broker_info *b;
	struct gqd_prom_label l;
	char id[16];
	size_t n;

	if (gq_cluster_brokers(node, &b, &n) != 0)
		return;
	gqd_prom_family(p, "gq_broker_alive", "gauge",
			"1 when the broker heartbeats the controller, by "
			"broker id.");
	for (size_t i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%d", (int)b[i].id);
		l = (struct gqd_prom_label){ "broker", id };
		gqd_prom_sample_u64(p, "gq_broker_alive", &l, 1, b[i].alive);
	}
	gq_cluster_brokers_free(b);
}

/* One group's committed offsets. */
struct group_lags {
	const char *group; /* in the group list */
	struct gq_group_lag *lags;
	size_t n;
};

static void
lag_family(struct gqd_prom *p, const struct group_lags *g, size_t n_groups,
	   bool committed)
{
	const char *name =
		committed ? "gq_group_committed_offset" : "gq_group_lag";
	struct gqd_prom_label l[3];
	char part[16];

	gqd_prom_family(p, name, "gauge",
			committed ? "Offset the group committed (the next it "
				    "reads), for the groups this node "
				    "coordinates."
				  : "High watermark minus the committed "
				    "offset, for the groups this node "
				    "coordinates (left out when no replica of "
				    "the partition is here).");
	for (size_t i = 0; i < n_groups; i++) {
		for (size_t j = 0; j < g[i].n; j++) {
			const struct gq_group_lag *lg = &g[i].lags[j];

			if (!committed && lg->lag < 0)
				continue;
			snprintf(part, sizeof(part), "%d", (int)lg->partition);
			l[0] = (struct gqd_prom_label){ "group", g[i].group };
			l[1] = (struct gqd_prom_label){ "topic", lg->topic };
			l[2] = (struct gqd_prom_label){ "partition", part };
			gqd_prom_sample_i64(p, name, l, 3,
					    committed ? lg->committed
						      : lg->lag);
		}
	}
}

static void
scrape_groups(struct gq_node *node, struct gqd_prom *p)
{
	struct gq_group_info *groups;
	struct group_lags *g;
	size_t n, k = 0;

	/* gq_group_list() names only the groups coordinated here, the only
	 * ones whose lags are current on this node. */
	if (gq_group_list(node, &groups, &n) != 0)
		return;
	if ((g = calloc(n + 1, sizeof(*g))) == NULL) {
		gq_group_list_free(groups, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (gq_group_lags(node, groups[i].group, &g[k].lags, &g[k].n) !=
		    0)
			continue;
		g[k++].group = groups[i].group;
	}
	lag_family(p, g, k, false);
	lag_family(p, g, k, true);
	for (size_t i = 0; i < k; i++)
		gq_group_lag_free(g[i].lags);
	free(g);
	gq_group_list_free(groups, n);
}

void
gqd_scrape_node(struct gq_node *node, struct gqd_prom *p)
{
	scrape_stats(node, p);
	scrape_brokers(node, p);
	scrape_groups(node, p);
}
