/* SPDX-License-Identifier: MIT */
/*
 * forward.h - produce calls made on a node that does not lead the
 * partition go to the node that does, over the RPC channel, so an
 * application may call gq_produce() on any node of a cluster.
 *
 * PRODUCE request (little-endian): str16 topic, u32 partition, u32 n
 * batches, then the n RecordBatch v2 blobs.  Reply: i64 base offset; on
 * error (the RPC status) str16 detail.  The receiving node stores the
 * batches only if it leads the partition itself (GQ_ENOTLEADER
 * otherwise): a request is forwarded at most once.
 *
 * An answer lost with the connection or the timeout leaves the outcome
 * unknown: the call fails with GQ_EUNKNOWN, as a proposal that lost its
 * leader does, and an idempotent producer's retry is then safe.
 *
 * Loop thread only.
 */
#ifndef GQ_FORWARD_H
#define GQ_FORWARD_H

#include <stddef.h>
#include <stdint.h>

struct gq_node;
struct gq__req;
struct gq__rpc_call;

/* Send produce request @req to node @leader; it completes later. */
void gq__forward_produce(struct gq_node *node, struct gq__req *req,
			 int32_t leader);

/* The RPC server side of PRODUCE. */
void gq__forward_serve(struct gq_node *node, struct gq__rpc_call *call,
		       const uint8_t *body, size_t len);

#endif /* GQ_FORWARD_H */
