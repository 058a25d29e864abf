/* SPDX-License-Identifier: MIT */
/*
 * kconn.h - one Kafka-protocol connection from a remote node to one broker
 * (doc/client.md), on the node's loop thread.
 *
 * It resolves and dials "host:port", then carries whole request frames
 * (INT32 size, then a request header whose correlation id it assigns) and
 * hands back each response frame to the request it answers.  Kafka answers
 * requests on a connection in order, so a response that never comes (a
 * timeout) or a broken stream leaves nothing to resynchronise with: the
 * connection then fails every request it holds and goes down for good.
 * Reconnecting is the owner's decision: it opens a new one.
 *
 * Requests given while it connects wait; at most max_inflight are on the
 * wire at once.  Every request's callback runs exactly once, on the loop
 * thread, possibly from within gq__kconn_send()'s caller's later calls but
 * never from within gq__kconn_send() itself.
 */
#ifndef GQ_KCONN_H
#define GQ_KCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"

struct gq__kconn;

/*
 * A request's outcome: @status 0 and its response frame (after the size
 * prefix: correlation id first), lent for the call; or, with @frame NULL,
 * GQ_ETIMEDOUT (no answer within its timeout), GQ_EIO (the connection
 * failed after the request was handed to the socket: the broker may have
 * acted on it), GQ_ECANCELED (the connection failed before the request was
 * written: refused, unresolvable, or down while it waited its turn; the
 * broker never saw it), GQ_ECLOSED (gq__kconn_close()).
 */
typedef void (*gq__kconn_cb)(void *arg, int status, const uint8_t *frame,
			     size_t len);

/* The connection went down on its own (not through gq__kconn_close());
 * @status says why, gq__kconn_errmsg() says more.  Called once, after the
 * requests it held failed. */
typedef void (*gq__kconn_down_cb)(void *arg, int status);

struct gq__kconn_conf {
	const char *address;         /* "host:port"; copied */
	uint32_t connect_timeout_ms; /* resolve and connect */
	uint32_t max_frame;          /* larger responses break the stream */
	unsigned max_inflight;       /* requests on the wire at once, >= 1 */
};

/* Start connecting.  GQ_EINVAL (not "host:port"), GQ_ENOMEM. */
int gq__kconn_open(uv_loop_t *loop, const struct gq__kconn_conf *conf,
		   gq__kconn_down_cb down, void *arg, struct gq__kconn **out);

/*
 * Send the request in @frame (taken over: emptied here, whatever the
 * outcome), whose header's correlation id is overwritten.  The response,
 * or a failure, reaches @cb within @timeout_ms of now.  Returns 0, or
 * GQ_EIO (the connection is down; @cb is not called), GQ_EINVAL (not a
 * request frame).
 */
int gq__kconn_send(struct gq__kconn *c, struct gq__buf *frame,
		   uint32_t timeout_ms, gq__kconn_cb cb, void *arg);

/* Whether it is up (connected) or still connecting: it takes requests. */
bool gq__kconn_usable(const struct gq__kconn *c);

/* Requests it holds: waiting to be sent or awaiting their answer. */
size_t gq__kconn_pending(const struct gq__kconn *c);

/* Why it went down ("" while it has not). */
const char *gq__kconn_errmsg(const struct gq__kconn *c);

/* The address it was opened with. */
const char *gq__kconn_address(const struct gq__kconn *c);

/* Fail every request with GQ_ECLOSED, close, free once libuv is done with
 * its handles.  No callback of @c runs afterwards except those failures. */
void gq__kconn_close(struct gq__kconn *c);

#endif /* GQ_KCONN_H */
