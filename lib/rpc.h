/* SPDX-License-Identifier: MIT */
/*
 * rpc.h - the node-to-node request/response channel on the hub's port
 * (DESIGN.md section 5): controller requests, heartbeats, and later
 * forwarding and catch-up reads.
 *
 * A node dials a peer once and reuses the connection: the handshake is
 * the hub's with magic "GQRPC001" (transport.h), then frames flow both
 * ways, all little-endian:
 *
 *   u32 length of the rest | u32 type (a reply: request type | 1 << 31) |
 *   u64 correlation id | i32 status (0 in requests) | u32 0 | body
 *
 * The dialling side sends requests and reads replies (in any order,
 * matched by id); the accepting side reads requests and writes replies on
 * the same connection.  A frame over GQ__RPC_FRAME_MAX, or any malformed
 * frame, closes the connection; requests pending on a lost connection
 * fail with GQ_EIO (they may or may not have been handled).  Everything
 * runs on the hub's loop thread.
 */
#ifndef GQ_RPC_H
#define GQ_RPC_H

#include <stddef.h>
#include <stdint.h>

#define GQ__RPC_FRAME_MAX (64u << 20)

struct gq__hub;
struct gq__rpc;
struct gq__rpc_call;

/* Server side: a request arrived.  @body is valid during the call only.
 * The handler calls gq__rpc_reply() exactly once for @call, now or later
 * (on the loop thread). */
typedef void (*gq__rpc_handler)(void *arg, struct gq__rpc_call *call,
				uint64_t sender_id, uint32_t type,
				const uint8_t *body, size_t len);

/* Client side: the reply (status 0, or the status the server replied
 * with, and its body), or GQ_ETIMEDOUT, GQ_EIO (cannot connect, or the
 * connection was lost), GQ_ECLOSED.  @body is valid during the call. */
typedef void (*gq__rpc_cb)(void *arg, int status, const uint8_t *body,
			   size_t len);

/* Create the node's RPC endpoint on @hub; incoming requests go to
 * @handler.  0 or GQ_ENOMEM. */
int gq__rpc_create(struct gq__hub *hub, gq__rpc_handler handler, void *arg,
		   struct gq__rpc **out);

/* Send request @type with @body to node @peer_id at @address
 * ("a.b.c.d:port").  @cb runs exactly once, always later from the loop,
 * at the latest @timeout_ms after this call.  0, or GQ_ENOMEM /
 * GQ_EINVAL (bad address, oversize body) / GQ_ECLOSED, and then @cb never
 * runs. */
int gq__rpc_send(struct gq__rpc *rpc, uint64_t peer_id, const char *address,
		 uint32_t type, const void *body, size_t len,
		 uint32_t timeout_ms, gq__rpc_cb cb, void *arg);

/* Answer @call with @status (0 or a GQ_E* code) and an optional body, and
 * free it.  After the connection or the endpoint closed, the answer is
 * dropped. */
void gq__rpc_reply(struct gq__rpc_call *call, int status, const void *body,
		   size_t len);

/* Close: pending requests complete with GQ_ECLOSED, connections close;
 * @cb runs once every handle closed and the endpoint was freed.  Calls
 * not yet answered stay valid until answered. */
void gq__rpc_close(struct gq__rpc *rpc, void (*cb)(void *arg), void *arg);

#endif /* GQ_RPC_H */
