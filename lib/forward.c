/* SPDX-License-Identifier: MIT */
/*
 * forward.c - produce requests sent to the partition's leader (see
 * forward.h).  Invariant: a forwarded request completes exactly once,
 * from the RPC callback; a served one answers its call exactly once, from
 * the request's completion.
 */
#include "forward.h"

#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "buf.h"
#include "cluster.h"
#include "error.h"
#include "heap.h"
#include "node.h"
#include "rpc.h"

/* Long enough for a loaded leader's commit, short of a stuck caller. */
#define FORWARD_TIMEOUT_MS 30000

static void
forward_replied(void *arg, int status, const uint8_t *body, size_t len)
{
	struct gq__req *req = arg;
	struct gq__rd r = gq__rd_init(body, len);

	if (status == GQ_EIO || status == GQ_ETIMEDOUT) {
		snprintf(req->errmsg, sizeof(req->errmsg),
			 "the leader of %.100s/%d did not answer (%.40s): "
			 "the messages may or may not be stored",
			 req->topic, req->partition, gq_strerror(status));
		status = GQ_EUNKNOWN;
	} else if (status != 0) {
		gq__rd_str16(&r, req->errmsg, sizeof(req->errmsg));
	} else {
		req->u.produce.base_offset = (gq_offset)gq__rd_le64(&r);
		if (r.bad)
			status = GQ_EUNKNOWN;
	}
	gq__req_complete(req, status);
}

void
gq__forward_produce(struct gq_node *node, struct gq__req *req, int32_t leader)
{
	const struct gq__broker *b =
		gq__node_broker_find(node, (uint64_t)leader);
	struct gq__buf body = GQ__BUF_INIT;
	int rv;

	if (b == NULL || b->raft_address[0] == '\0') {
		snprintf(req->errmsg, sizeof(req->errmsg),
			 "%.100s/%d is led by node %d, whose address is not "
			 "known yet",
			 req->topic, req->partition, leader);
		gq__req_complete(req, GQ_ENOTLEADER);
		return;
	}
	if ((gq__buf_put_str16(&body, req->topic) |
	     gq__buf_put_le32(&body, (uint32_t)req->partition) |
	     gq__buf_put_le32(&body, req->u.produce.n_batches) |
	     gq__buf_append(&body, req->u.produce.batches.base,
			    req->u.produce.batches.len)) != 0) {
		gq__buf_free(&body);
		gq__req_complete(req, GQ_ENOMEM);
		return;
	}
	rv = gq__rpc_send(node->rpc, b->id, b->raft_address, GQ__RPC_PRODUCE,
			  body.base, body.len, FORWARD_TIMEOUT_MS,
			  forward_replied, req);
	gq__buf_free(&body);
	if (rv != 0)
		gq__req_complete(req, rv);
}

/* The forwarded request completed here: answer the call. */
static void
forward_served(struct gq__req *req)
{
	struct gq__rpc_call *call = req->owner;
	struct gq__buf reply = GQ__BUF_INIT;
	int status = req->status;

	if (status == 0) {
		if (gq__buf_put_le64(&reply,
				     (uint64_t)req->u.produce.base_offset) != 0)
			status = GQ_EUNKNOWN; /* stored, offset lost */
	} else {
		gq__buf_put_str16(&reply, req->errmsg);
	}
	gq__rpc_reply(call, status, reply.base, reply.len);
	gq__buf_free(&reply);
	gq__buf_free(&req->u.produce.batches);
	gq__free(req);
}

/* Count the batches of @b, checking each whole (header and CRC): bytes
 * from the network are not trusted. */
static int
batches_count(const uint8_t *b, size_t len, uint32_t *n)
{
	*n = 0;
	for (size_t pos = 0; pos < len;) {
		struct gq__batch_header h;

		if (gq__batch_validate(b + pos, len - pos, &h) != 0)
			return GQ_ECORRUPT;
		pos += gq__batch_total_size(&h);
		(*n)++;
	}
	return 0;
}

void
gq__forward_serve(struct gq_node *node, struct gq__rpc_call *call,
		  const uint8_t *body, size_t len)
{
	struct gq__rd r = gq__rd_init(body, len);
	struct gq__req *req = gq__calloc(1, sizeof(*req));
	uint32_t n, counted;

	if (req == NULL) {
		gq__rpc_reply(call, GQ_ENOMEM, NULL, 0);
		return;
	}
	gq__rd_str16(&r, req->topic, sizeof(req->topic));
	req->partition = (int32_t)gq__rd_le32(&r);
	n = gq__rd_le32(&r);
	if (r.bad || n == 0 || batches_count(r.p, r.left, &counted) != 0 ||
	    counted != n ||
	    gq__buf_append(&req->u.produce.batches, r.p, r.left) != 0) {
		gq__buf_free(&req->u.produce.batches);
		gq__free(req);
		gq__rpc_reply(call, r.bad ? GQ_EINVAL : GQ_ECORRUPT, NULL, 0);
		return;
	}
	req->type = GQ__REQ_PRODUCE;
	req->u.produce.n_batches = n;
	req->u.produce.base_offset = -1;
	req->done = forward_served;
	req->owner = call;
	gq__node_produce_here(node, req);
}
