/* SPDX-License-Identifier: MIT */
/*
 * server.h - gqd's Kafka listener: connections, framing, per-connection
 * ordering of responses, limits and backpressure, and the mailbox that
 * brings completions from the node's loop thread back to gqd's loop.
 *
 * Threading: everything here runs on gqd's network loop.  The node runs on
 * its own thread; its callbacks (produce acknowledgements, long-poll
 * wake-ups) post a completion to the server's mailbox and return.
 */
#ifndef GQD_SERVER_H
#define GQD_SERVER_H

#include <goqueue.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "kapi.h"
#include "kwire.h"

struct gqd_config;
struct gqd_metrics;
struct gqd_server;
struct gqd_conn;

/* One Kafka request being served.  Responses leave in request order. */
struct gqd_req {
	struct gqd_server *srv;
	struct gqd_conn *conn; /* NULL once the connection closed */
	struct gqd_req *next;  /* the connection's queue, in arrival order */
	uint8_t *frame;        /* owned: header and body (no size prefix) */
	size_t frame_len;
	struct gqk_arena arena; /* decoder allocations */
	struct gqk_header hdr;
	union gqk_request body;
	struct gqk_writer resp; /* the encoded response, size prefix first */
	int pending;            /* asynchronous operations outstanding */
	bool done;              /* resp is complete */
	bool silent;            /* acks=0 produce: no response */
	bool close_after;       /* close the connection after this one */
	bool parked;            /* its operation waits on a group rebalance */
	uint64_t arrived_ns;    /* uv_hrtime() when it was read */
	void *state;            /* the handler's own, freed by its cleanup */
	void (*cleanup)(struct gqd_req *req);
};

/* Start the Kafka listener on @loop for @node, counting what it serves in
 * @metrics (borrowed; must outlive the server); 0, or a negative errno
 * with the reason logged. */
int gqd_server_start(uv_loop_t *loop, struct gq_node *node,
		     const struct gqd_config *cfg, struct gqd_metrics *metrics,
		     struct gqd_server **out);

/* Stop accepting, finish in-flight requests, close connections; @cb runs
 * on the loop when everything is closed but the mailbox, which stays open
 * (the server with it) until every parked operation (see
 * gqd_req_op_start_parked()) completed; then the server is freed.  So the
 * node is closed after @cb, and the loop runs until it ends. */
void gqd_server_stop(struct gqd_server *srv, void (*cb)(void *arg), void *arg);

/* Handlers: the node and configuration the request is served with. */
struct gq_node *gqd_req_node(const struct gqd_req *req);
const struct gqd_config *gqd_req_config(const struct gqd_req *req);
uv_loop_t *gqd_req_loop(const struct gqd_req *req);

/* Handlers: the registry their counts go to (metrics.h). */
struct gqd_metrics *gqd_req_metrics(const struct gqd_req *req);

/* Count Kafka error @code (0 is ignored) against @req's API: one per
 * partition or topic in error where the API has them, else one for the
 * request. */
void gqd_req_error(const struct gqd_req *req, int16_t code);

/* Start a response: the size placeholder and the response header.  The
 * handler then appends the body and calls gqd_req_finish(). */
void gqd_resp_begin(struct gqd_req *req);

/* The response is complete (or, for a silent request, there is none):
 * patch its size and send what is ready, in order. */
void gqd_req_finish(struct gqd_req *req);

/* Post @fn(@arg) to run on the server's loop; callable from any thread.
 * Used by node callbacks.  0 or -ENOMEM. */
int gqd_server_post(struct gqd_server *srv, void (*fn)(void *arg), void *arg);

/* Count an asynchronous operation of @req (a node call whose callback
 * will come back through the mailbox) / its completion.  The request is
 * kept until every operation completed, even if its connection closes. */
void gqd_req_op_start(struct gqd_req *req);
void gqd_req_op_done(struct gqd_req *req);

/* Count the one asynchronous operation of @req that may wait without
 * bound (a JoinGroup or SyncGroup parked for a rebalance, which can last
 * the members' rebalance timeout, minutes).  Shutdown does not wait for
 * it: gqd_server_stop() closes the connection holding it, reports the
 * server stopped, and keeps only its mailbox open until the operation
 * completed (GQ_ECLOSED, once the node closes).  Completes through
 * gqd_req_op_done() like any other. */
void gqd_req_op_start_parked(struct gqd_req *req);

/* The peer of the connection @req arrived on, "ip:port", or "" once that
 * connection closed. */
const char *gqd_req_peer(const struct gqd_req *req);

/* The server a request belongs to. */
struct gqd_server *gqd_req_server(const struct gqd_req *req);

/* Dispatch a decoded request to its handler (handlers.c).  The handler
 * finishes the request now or later. */
void gqd_handle(struct gqd_req *req);

/* Called when a request could not be decoded: the response the protocol
 * wants (ApiVersions fallback), or close. */
void gqd_handle_undecodable(struct gqd_req *req, int err);

#endif /* GQD_SERVER_H */
