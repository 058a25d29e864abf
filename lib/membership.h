/* SPDX-License-Identifier: MIT */
/*
 * membership.h - a partition's Raft membership follows the replicas the
 * controller assigned it (route.replicas), so replicas can move between
 * nodes: for a manual reassignment, a leader move, a new node taking
 * load, or a dead node's replicas re-created elsewhere.
 *
 * The partition's leader takes one single-server step at a time, each
 * committed before the next (raft 0.15 has no joint consensus):
 *   1. an assigned replica missing from the configuration is added (as a
 *      spare), then made a standby: it receives the log, or a snapshot
 *      and then the data through catch-up (catchup.h);
 *   2. once that replica answers that it holds the data (PART_STATE: open
 *      and not catching up) it is promoted to voter;
 *   3. when every assigned replica votes, members no longer assigned are
 *      removed; a leader that is itself no longer assigned first hands
 *      leadership to an assigned voter.
 * So the group never has fewer voters holding the data than before.
 *
 * A replica no longer assigned keeps running (it may still be needed for
 * a quorum) and asks the assigned replicas in turn until one of them,
 * leading, answers that it is out of the configuration; then the
 * partition closes and deletes its data.  A node that was down during
 * the move finds the data on disk at start, opens it, and asks the same.
 *
 * RPC 5 PART_STATE (the type is in cluster.h): u64 partition uid.  Reply:
 * u8 flags (1: the replica holds the data, 2: it leads), u8 n, n x (u32
 * member id, u8 role) of the configuration it has.  GQ_ENOPARTITION when
 * no replica is open there.
 */
#ifndef GQ_MEMBERSHIP_H
#define GQ_MEMBERSHIP_H

#include <stddef.h>
#include <stdint.h>

struct gq_node;
struct gq__partition;
struct gq__membership;
struct gq__rpc_call;

/* Create the membership state of @p.  NULL on ENOMEM. */
struct gq__membership *gq__membership_create(struct gq__partition *p);

/* The partition is closing: forget it.  Freed now, or when the RPC in
 * flight returns. */
void gq__membership_free(struct gq__membership *m);

/* The assignment changed: take the next step at once. */
void gq__membership_kick(struct gq__membership *m);

/* Loop turn: take the next step when one is due. */
void gq__membership_step(struct gq__membership *m);

/* Answer a PART_STATE request. */
void gq__membership_serve(struct gq_node *node, struct gq__rpc_call *call,
			  const uint8_t *body, size_t len);

#endif /* GQ_MEMBERSHIP_H */
