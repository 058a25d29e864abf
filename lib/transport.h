/* SPDX-License-Identifier: MIT */
/*
 * transport.h - one TCP port per node for all its Raft groups (DESIGN.md
 * section 5, RAFT-0.15-NOTES.md section 3.4).
 *
 * A node has one hub: it owns the listener and the connections still
 * in their handshake.  Every Raft group gets its own raft_uv_transport
 * whose listen() registers the group with the hub and whose connect()
 * dials the peer's hub and sends a handshake naming the group:
 *
 *   u64 magic "GQRAFT01" | u64 group id | u64 sender node id |
 *   u64 address length (NUL included, padded to 8) | address
 *
 * all little-endian.  The accepting hub reads exactly those bytes (its
 * read buffer never extends past them, so no byte of the first Raft
 * message is swallowed), then hands the stream to the group's accept
 * callback; a handshake for a group not open here closes the connection
 * and raft_uv on the other side retries.  Connections are one-way, as
 * raft_uv uses them.  A hub without an address listens nowhere (a single
 * node): its groups' connects fail with RAFT_NOCONNECTION.
 */
#ifndef GQ_TRANSPORT_H
#define GQ_TRANSPORT_H

#include <netinet/in.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct gq__hub;

/* Create the hub of node @node_id on @loop; with @address ("a.b.c.d:port",
 * or NULL/"" for none) it listens there.  0, GQ_EINVAL (bad address),
 * GQ_EIO (cannot listen: errmsg says why), GQ_ENOMEM. */
int gq__hub_create(uv_loop_t *loop, uint64_t node_id, const char *address,
		   struct gq__hub **out, char *errmsg);

/* Close the hub: the listener and the handshakes in progress.  Groups
 * must all be closed already.  @cb runs once everything is closed and the
 * hub freed. */
void gq__hub_close(struct gq__hub *hub, void (*cb)(void *arg), void *arg);

/* Route incoming RPC connections (handshake magic "GQRPC001", group id 0)
 * to @cb; NULL closes them instead.  The stream was allocated with
 * raft_malloc(): @cb owns it (uv_close it, raft_free it afterwards) and
 * receives the sender's node id and address.  No byte past the handshake
 * has been read. */
typedef void (*gq__hub_rpc_cb)(void *arg, uv_tcp_t *stream, uint64_t sender_id,
			       const char *sender_address);
void gq__hub_set_rpc(struct gq__hub *hub, gq__hub_rpc_cb cb, void *arg);

/* The hub's loop, node id and listening address ("" if none). */
uv_loop_t *gq__hub_loop(struct gq__hub *hub);
uint64_t gq__hub_node_id(struct gq__hub *hub);
const char *gq__hub_address(struct gq__hub *hub);

/* A handshake from this hub (RPC, or Raft for @group_id) in *@out
 * (gq__free it), *@len bytes.  0 or GQ_ENOMEM. */
int gq__hub_handshake(struct gq__hub *hub, bool rpc, uint64_t group_id,
		      uint8_t **out, size_t *len);

/* Parse "a.b.c.d:port".  0 or GQ_EINVAL. */
int gq__parse_address(const char *address, struct sockaddr_in *out);

/* Prepare @t for group @group_id of @hub.  RAFT_NOMEM on failure (a raft
 * code: raft_uv is the caller of everything in the vtable). */
int gq__transport_init(struct raft_uv_transport *t, struct gq__hub *hub,
		       uint64_t group_id);

/* Free what gq__transport_init() allocated.  Call only after the Raft
 * instance using @t has closed. */
void gq__transport_close(struct raft_uv_transport *t);

#endif /* GQ_TRANSPORT_H */
