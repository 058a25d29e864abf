/* SPDX-License-Identifier: MIT */
/*
 * group_forward.h - group coordination calls made on a node that does not
 * coordinate the group go to the node that does, over the RPC channel, so
 * the embedded API works on any node of a cluster.  The receiving node
 * answers them itself or with GQ_ENOTCOORD: a call is forwarded at most
 * once.  A call parked there (a JoinGroup in a rebalance) is answered
 * when it completes.
 *
 * GROUP request, little-endian; nstr is a u16 length and bytes, 0xffff
 * for NULL:
 *   u8 op | nstr group | nstr member id | nstr instance id | i32 generation
 *   JOIN   nstr client id, nstr client host, nstr protocol type,
 *          i32 session ms, i32 rebalance ms, u8 require member id,
 *          u16 n x (nstr name, u32 len, metadata)
 *   SYNC   u32 n x (nstr member id, u32 len, assignment)
 *   COMMIT u32 n x (nstr topic, i32 partition, i64 offset, nstr metadata)
 *   OFFSETS u32 n x (nstr topic, i32 partition)
 * Reply, for JOIN also with an error status:
 *   JOIN   i32 generation, nstr protocol, nstr leader, nstr member id,
 *          u32 n x (nstr id, nstr instance id, u32 len, metadata)
 *   SYNC   u32 len, assignment
 *   COMMIT u32 n x i32 status
 *   OFFSETS u32 n x (i64 offset, i32 status)
 *   others nothing
 * A coordinator that cannot be reached is reported as GQ_ENOTCOORD (look
 * it up again), or GQ_EUNKNOWN for a commit (it may have been stored).
 *
 * Loop thread only.
 */
#ifndef GQ_GROUP_FORWARD_H
#define GQ_GROUP_FORWARD_H

#include <stddef.h>
#include <stdint.h>

struct gq_node;
struct gq__req;
struct gq__rpc_call;

/* Send GQ__REQ_GROUP request @req to node @coordinator; it completes
 * later. */
void gq__group_forward(struct gq_node *node, struct gq__req *req,
		       int32_t coordinator);

/* The RPC server side of GROUP. */
void gq__group_forward_serve(struct gq_node *node, struct gq__rpc_call *call,
			     const uint8_t *body, size_t len);

#endif /* GQ_GROUP_FORWARD_H */
