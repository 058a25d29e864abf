/* SPDX-License-Identifier: MIT */
/*
 * coordinator.h - this node's consumer-group coordinator: the gcoord.h
 * state machine for the groups of every __consumer_offsets partition the
 * node leads, fed by the public gq_group_* calls (group.c posts them as
 * GQ__REQ_GROUP requests).
 *
 * A group belongs to offsets partition gq__coord_partition(group).  A
 * coordinator comes to life when that partition starts serving here (its
 * leader's barrier applied, so every commit of earlier terms is in LMDB)
 * and dies with the leadership: its parked JoinGroup and SyncGroup calls
 * then fail with GQ_ENOTCOORD and the members find the new coordinator.
 *
 * Whenever a group settles (Stable or Empty) its state is proposed to the
 * partition (a GROUP_STATE entry, kept in LMDB), and a new coordinator
 * restores every saved group before it serves: members carry on in their
 * generation with fresh sessions.  A rebalance under way is not resumed:
 * its members get GQ_EMEMBER or GQ_EGENERATION and join again.  A state
 * is saved after the members are answered, so a failover right then
 * resumes the previous generation, which its members also rejoin from.
 *
 * Commits are checked against the member and generation here, then
 * proposed to the offsets partition, one entry per offset.
 *
 * Loop thread only.
 */
#ifndef GQ_COORDINATOR_H
#define GQ_COORDINATOR_H

#include <stdbool.h>
#include <stdint.h>

struct gq_node;
struct gq__partition;
struct gq__req;
struct gq__coord;

/* The offsets partition that owns @group. */
int32_t gq__coord_partition(const char *group);

/* 0 or GQ_ENOMEM.  The coordinator runs its timers on node->group_timer,
 * which the node initialises before and closes after it. */
int gq__coord_create(struct gq_node *node, struct gq__coord **out);

/* Node closing: every parked call fails with GQ_ECLOSED, timers stop. */
void gq__coord_stop(struct gq__coord *c);

/* Free (after stop); NULL is a no-op. */
void gq__coord_free(struct gq__coord *c);

/* Offsets partition @p started (@serving) or stopped serving here. */
void gq__coord_role(struct gq__coord *c, const struct gq__partition *p,
		    bool serving);

/* Handle a GQ__REQ_GROUP request; it completes now or later. */
void gq__coord_dispatch(struct gq__coord *c, struct gq__req *req);

#endif /* GQ_COORDINATOR_H */
