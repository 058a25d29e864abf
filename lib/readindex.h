/* SPDX-License-Identifier: MIT */
/*
 * readindex.h - linearizable reads of a local replica (gq_partition_sync):
 * a Raft read index.  The caller waits until this replica has applied
 * everything the group had committed when the call began, so a read of
 * the local log afterwards sees every acknowledged write before it.
 *
 * On the leader: a raft_barrier, which commits only while it still
 * leads, and applies after everything before it.  On a follower: the
 * leader does the same on request (RPC 6 READ_INDEX: u64 partition uid;
 * reply u64 the leader's applied index once its barrier applied), then
 * the follower waits until its own applied index reaches that one and it
 * is not copying missing data (catchup.h).
 */
#ifndef GQ_READINDEX_H
#define GQ_READINDEX_H

#include <stddef.h>
#include <stdint.h>

struct gq_node;
struct gq__partition;
struct gq__req;
struct gq__rpc_call;

/* Start a GQ__REQ_SYNC request on replica @p, parking it on @waiting (the
 * partition's list) while it needs the leader; it completes later: 0,
 * GQ_ETIMEDOUT (its deadline, req->ctl.deadline, passed), GQ_ENOTLEADER
 * (leadership moved during the barrier: retry), GQ_ECLOSED. */
void gq__read_index(struct gq__partition *p, struct gq__req **waiting,
		    struct gq__req *req);

/* Loop turn: ask the leader for parked requests, complete those whose
 * index this replica reached, time out the rest.  @waiting is the
 * partition's list. */
void gq__read_index_poll(struct gq__partition *p, struct gq__req **waiting);

/* Answer a READ_INDEX request (on the leader). */
void gq__read_index_serve(struct gq_node *node, struct gq__rpc_call *call,
			  const uint8_t *body, size_t len);

#endif /* GQ_READINDEX_H */
