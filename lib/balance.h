/* SPDX-License-Identifier: MIT */
/*
 * balance.h - where replicas go, decided on the controller leader: new
 * topics placed by load over the live brokers, the replicas of brokers
 * dead past dead_broker_grace or being removed moved to others (the
 * partitions' leaders then carry the moves out, membership.h), and the
 * controller group's own members kept in step with the registry.  Only
 * deterministic data goes into the commands it proposes.
 */
#ifndef GQ_BALANCE_H
#define GQ_BALANCE_H

#include <stdint.h>

struct gq__cluster;
struct gq__route;

/* Place @n_parts partitions of @rf replicas into @routes: each first
 * replica (the preferred leader) on the broker leading the fewest
 * partitions, the others on those holding the fewest replicas (ties by
 * id), among live brokers heard since this leader's election and not
 * being removed.  0, GQ_ENOTREADY (too few heard from yet), GQ_EINVAL
 * (@errmsg says why), GQ_ENOMEM. */
int gq__balance_place(struct gq__cluster *cl, int32_t n_parts, int16_t rf,
		      struct gq__route *routes, char *errmsg);

/* Heartbeat tick: propose reassignments for partitions with replicas on
 * brokers dead past the grace or being removed (a batch at a time). */
void gq__balance_heal(struct gq__cluster *cl);

/* Heartbeat tick: one membership change of the controller group toward
 * the registry (joining brokers as standbys, dead or drained voters
 * replaced and removed). */
void gq__balance_controller(struct gq__cluster *cl);

#endif /* GQ_BALANCE_H */
