/* SPDX-License-Identifier: MIT */
/*
 * cluster_int.h - the cluster state shared by cluster.c (requests,
 * heartbeats, liveness) and balance.c (placement, healing, the controller
 * group's members).  Loop thread only.
 */
#ifndef GQ_CLUSTER_INT_H
#define GQ_CLUSTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "node.h"

#define SESSION_TIMEOUT_MS 6000

/* Liveness of a broker, as the controller leader sees it. */
struct gq__live {
	uint64_t id;
	uint64_t last_seen; /* loop time of its last heartbeat */
	bool heard;         /* it heartbeated since this node leads */
	bool registering;   /* a BROKER_REGISTER for it is in flight */
};

/* Who leads a partition, as its leaders reported it. */
struct gq__lead {
	uint64_t uid;
	uint64_t leader;
	uint64_t term;
};

struct gq__cluster {
	struct gq_node *node;
	bool leading; /* of the controller, as of the last poll */
	bool closed;

	/* Controller-leader side. */
	struct gq__live *live;
	size_t n_live;
	size_t cap_live;
	struct gq__lead *leads; /* sorted by uid */
	size_t n_leads;
	size_t cap_leads;
	bool offsets_creating;
	unsigned healing; /* reassignments gq__balance_heal() has in flight */

	/* Requester side. */
	struct gq__req *parked;   /* waiting for a reachable leader */
	struct gq__req *applying; /* waiting for this replica to apply */
	bool registered;
	bool heartbeat_inflight;
	unsigned peer_turn; /* the initial member a joining node asks next */
};

static inline uint64_t
gq__cluster_now(const struct gq__cluster *cl)
{
	return uv_now(cl->node->loop);
}

/* The liveness record of broker @id, or NULL; _get adds one (NULL on
 * ENOMEM). */
struct gq__live *gq__cluster_live_find(struct gq__cluster *cl, uint64_t id);
struct gq__live *gq__cluster_live_get(struct gq__cluster *cl, uint64_t id);

/* Broker @id heartbeated this controller leader within the session. */
bool gq__cluster_alive(struct gq__cluster *cl, uint64_t id);

#endif /* GQ_CLUSTER_INT_H */
