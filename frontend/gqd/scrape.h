/* SPDX-License-Identifier: MIT */
/*
 * scrape.h - the node's own state as Prometheus metrics, read from the
 * library's public API at scrape time (gq_node_stats(),
 * gq_cluster_brokers(), gq_group_list() and gq_group_lags()).
 *
 * The families (names are part of gqd's interface, see gqd(8)):
 *	gq_raft_term, gq_raft_commit_index, gq_raft_applied_index,
 *	gq_raft_last_index, gq_raft_role, gq_raft_leader, gq_raft_serving
 *	    {topic, partition}: every Raft group hosted here; the
 *	    controller's group is topic="" partition="-1"
 *	gq_partition_high_watermark, gq_partition_log_start_offset,
 *	gq_partition_size_bytes, gq_partition_segments {topic, partition}:
 *	    every partition replica hosted here
 *	gq_leaders, gq_topics, gq_disk_bytes, gq_disk_free_bytes,
 *	gq_uptime_seconds, gq_controller_id: the node
 *	gq_broker_alive{broker}: the brokers the controller registered
 *	gq_group_lag, gq_group_committed_offset {group, topic, partition}:
 *	    the groups this node coordinates
 *
 * A source that fails (the node closing, out of memory) leaves its
 * families out of the scrape rather than failing it.
 */
#ifndef GQD_SCRAPE_H
#define GQD_SCRAPE_H

#include <goqueue.h>

#include "prom.h"

/* Append the families above for @node to @p.  Blocks on the node's
 * loop for its snapshots: any thread but that loop's. */
void gqd_scrape_node(struct gq_node *node, struct gqd_prom *p);

#endif /* GQD_SCRAPE_H */
