/* SPDX-License-Identifier: MIT */
/*
 * stats.c - gq_node_stats(): a snapshot of a node's Raft groups and
 * storage for monitoring.
 *
 * Raft state (term, indexes, role) belongs to the loop thread, so the
 * snapshot of the groups is taken there in one pass (GQ__REQ_STATS); the
 * walk of the data directory, which may touch thousands of files, runs on
 * the caller's thread afterwards so that it never stalls the loop.
 */
#define _XOPEN_SOURCE 700 /* nftw */

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "controller.h"
#include "heap.h"
#include "node.h"
#include "partition.h"
#include "plog.h"
#include "rgroup.h"
#include "stats.h"

uint64_t
gq__monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The Raft view of @g into @out. */
static void
raft_view(const struct gq__rgroup *g, struct gq_replica_stats *out)
{
	const struct raft *r = &g->raft;
	raft_id leader = 0;
	const char *address = NULL;

	switch (raft_state((struct raft *)r)) {
	case RAFT_LEADER:
		out->role = GQ_RAFT_LEADER;
		break;
	case RAFT_CANDIDATE:
		out->role = GQ_RAFT_CANDIDATE;
		break;
	case RAFT_FOLLOWER:
		out->role = GQ_RAFT_FOLLOWER;
		break;
	default:
		out->role = GQ_RAFT_UNAVAILABLE;
		break;
	}
	if (g->state < GQ__RG_FOLLOWER || g->state > GQ__RG_LEADER)
		out->role = GQ_RAFT_UNAVAILABLE;
	raft_leader((struct raft *)r, &leader, &address);
	out->leader = leader != 0 ? (int32_t)leader : -1;
	for (unsigned i = 0; i < r->configuration.n; i++)
		out->voters += r->configuration.servers[i].role == RAFT_VOTER;
	out->term = r->current_term;
	out->last_index = raft_last_index((struct raft *)r);
	out->commit_index = r->commit_index;
	out->applied_index = r->last_applied;
}

static size_t
count_groups(struct gq_node *node)
{
	size_t n = node->ctl != NULL && gq__controller_rgroup(node->ctl);

	for (size_t i = 0; i < node->n_topics; i++) {
		const struct gq__topic *t = node->topics[i];

		for (int32_t j = 0; j < t->n_parts; j++)
			n += t->parts[j] != NULL;
	}
	return n;
}

static void
partition_view(struct gq__partition *p, const struct gq__topic *t,
	       struct gq_replica_stats *out)
{
	struct gq__plog_stats s;

	snprintf(out->topic, sizeof(out->topic), "%s", t->name);
	out->partition = gq__partition_index(p);
	raft_view(gq__partition_rgroup(p), out);
	out->serving = gq__partition_serving(p) &&
		       gq__rgroup_is_leader(gq__partition_rgroup(p));
	out->catching_up = gq__partition_catching_up(p);
	gq__plog_stats(gq__partition_plog(p), &s);
	out->log_start = s.log_start;
	out->high_watermark = s.next_offset;
	out->size_bytes = s.size_bytes;
	out->segments = s.segments;
}

void
gq__stats_collect(struct gq_node *node, struct gq__req *req)
{
	struct gq_node_stats *st = req->u.stats;
	struct gq_replica_stats *r;
	struct gq__rgroup *ctl;
	size_t n = count_groups(node);

	st->node_id = (int32_t)node->conf.node_id;
	st->controller = atomic_load(&node->controller_id);
	st->uptime_ms = gq__monotonic_ms() - node->opened_ms;
	st->topics = (uint32_t)node->n_topics;
	if (n > 0 && (st->replicas = gq__calloc(n, sizeof(*r))) == NULL) {
		gq__req_complete(req, GQ_ENOMEM);
		return;
	}
	r = st->replicas;
	ctl = node->ctl != NULL ? gq__controller_rgroup(node->ctl) : NULL;
	if (ctl != NULL) {
		r->partition = -1;
		r->log_start = r->high_watermark = -1;
		raft_view(ctl, r);
		r->serving = gq__rgroup_is_leader(ctl);
		r++;
	}
	/* The topic table is sorted by name (gq__node_topic_find). */
	for (size_t i = 0; i < node->n_topics; i++) {
		const struct gq__topic *t = node->topics[i];

		for (int32_t j = 0; j < t->n_parts; j++)
			if (t->parts[j] != NULL)
				partition_view(t->parts[j], t, r++);
	}
	st->replica_count = n;
	for (size_t i = 0; i < n; i++)
		st->leaders += st->replicas[i].role == GQ_RAFT_LEADER;
	gq__req_complete(req, 0);
}

/* nftw has no argument for its callback: the sum goes through a
 * thread-local. */
static _Thread_local uint64_t walk_bytes;

static int
add_file(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F)
		walk_bytes += (uint64_t)sb->st_blocks * 512;
	return 0;
}

int
gq_node_stats(struct gq_node *node, struct gq_node_stats **out)
{
	struct gq_node_stats *st;
	struct statvfs vfs;
	struct gq__req req;
	int rv;

	if (node == NULL || out == NULL)
		return GQ_EINVAL;
	if ((st = gq__calloc(1, sizeof(*st))) == NULL)
		return GQ_ENOMEM;
	memset(&req, 0, sizeof(req));
	req.type = GQ__REQ_STATS;
	req.u.stats = st;
	if ((rv = gq__node_call(node, &req)) != 0) {
		gq_node_stats_free(st);
		return rv;
	}
	/* Files vanish while we walk (retention, compaction): nftw skips
	 * what it cannot stat, which is what we want. */
	walk_bytes = 0;
	nftw(node->dir, add_file, 16, FTW_PHYS);
	st->disk_bytes = walk_bytes;
	if (statvfs(node->dir, &vfs) == 0)
		st->disk_free = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	*out = st;
	return 0;
}

void
gq_node_stats_free(struct gq_node_stats *stats)
{
	if (stats == NULL)
		return;
	gq__free(stats->replicas);
	gq__free(stats);
}
