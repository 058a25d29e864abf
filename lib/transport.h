/* SPDX-License-Identifier: MIT */
/*
 * transport.h - the raft_uv_transport every Raft group of a node uses.
 *
 * DESIGN.md section 5 wants one port per node for all groups, with a
 * handshake naming the group.  This module owns that seam.  Today a node
 * has no peers (single node), so a group's transport listens nowhere and
 * its connects fail with RAFT_NOCONNECTION, which raft_uv retries; the
 * multi-node issue (#4) fills in the shared listener and the handshake
 * behind the same functions.
 */
#ifndef GQ_TRANSPORT_H
#define GQ_TRANSPORT_H

#include <raft.h>
#include <raft/uv.h>
#include <stdint.h>
#include <uv.h>

/* Prepare @t for group @group_id on @loop.  RAFT_NOMEM on failure (a raft
 * code, because raft_uv is the caller of everything in the vtable). */
int gq__transport_init(struct raft_uv_transport *t, uv_loop_t *loop,
		       uint64_t group_id);

/* Free what gq__transport_init() allocated.  Call only after the Raft
 * instance using @t has closed. */
void gq__transport_close(struct raft_uv_transport *t);

#endif /* GQ_TRANSPORT_H */
