/* SPDX-License-Identifier: MIT */
/*
 * remote.h - a node that is a client of remote brokers: what
 * gq_node_connect() returns (doc/client.md).
 *
 * Such a node has no storage, Raft or controller.  It keeps the node's
 * topic table and broker list filled from Metadata responses, so the
 * public calls that read them work unchanged, and the loop hands every
 * request to gq__remote_dispatch(), which turns it into Kafka requests to
 * the broker that can answer it.  Everything here runs on the node's loop
 * thread except gq__remote_create() and gq__remote_free().
 */
#ifndef GQ_REMOTE_H
#define GQ_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

struct gq_node;
struct gq__req;
struct gq__remote;

/* For @node, with its bootstrap list "host:port[,host:port...]".
 * GQ_EINVAL (with @errmsg), GQ_ENOMEM. */
int gq__remote_create(struct gq_node *node, const char *bootstrap,
		      struct gq__remote **out, char *errmsg);

/* Start: dial the bootstrap brokers and ask for the cluster's metadata. */
void gq__remote_start(struct gq__remote *r);

/* 0 while starting or once ready (gq__remote_ready()); a GQ_E* code, with
 * @errmsg (GQ_ERRMSG_SIZE) filled, once no bootstrap broker answered within
 * the request timeout. */
int gq__remote_start_status(const struct gq__remote *r, char *errmsg);

/* The first metadata arrived. */
bool gq__remote_ready(const struct gq__remote *r);

/* Serve a request posted to the node. */
void gq__remote_dispatch(struct gq__remote *r, struct gq__req *req);

/* Fail every request with GQ_ECLOSED and close the connections; @cb runs
 * once the last libuv handle is closed. */
/* The node is closing: fail what waits for metadata, and let the produce
 * calls in progress finish (within their deadlines). */
void gq__remote_drain(struct gq__remote *r);

/* Whether produce calls are still in progress after gq__remote_drain():
 * the close waits for them. */
bool gq__remote_draining(const struct gq__remote *r);

void gq__remote_close(struct gq__remote *r, void (*cb)(void *arg), void *arg);

/* Any thread but the loop's: ask for fresh metadata and wait for it, so
 * that what the caller reads next from the node's topic table is current.
 * 0, GQ_EIO (no broker answered), GQ_ECLOSED. */
int gq__remote_refresh(struct gq_node *node);

/* Free (after gq__remote_close()'s callback, or if never started). */
void gq__remote_free(struct gq__remote *r);

#endif /* GQ_REMOTE_H */
