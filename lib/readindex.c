/* SPDX-License-Identifier: MIT */
/*
 * readindex.c - linearizable reads of a local replica (see readindex.h).
 * Everything runs on the loop thread.  A follower's request stays on the
 * partition's list until it completes; the answer to its READ_INDEX finds
 * it again by partition uid and sequence number, so a request that timed
 * out or a partition that closed meanwhile leaves nothing dangling.
 */
#include "readindex.h"

#include <stdatomic.h>
#include <stdio.h>

#include "buf.h"
#include "cluster.h"
#include "error.h"
#include "heap.h"
#include "node.h"
#include "partition.h"
#include "rgroup.h"
#include "rpc.h"

#define ASK_TIMEOUT_MS 2000
#define RETRY_MS       20

/* A barrier on the leader, for a local request or a follower's RPC. */
struct barrier {
	struct gq__rgroup_barrier b;
	struct gq__req *req;       /* local, or */
	struct gq__rpc_call *call; /* remote */
};

/* A READ_INDEX in flight from a follower. */
struct ask {
	struct gq_node *node;
	uint64_t uid;
	uint64_t seq;
};

static atomic_uint_fast64_t next_seq = 1;

static uint64_t
now_ms(struct gq__partition *p)
{
	return uv_now(gq__partition_node(p)->loop);
}

static void
barrier_done(struct gq__rgroup_barrier *b, int status)
{
	struct barrier *br = b->data;
	uint8_t reply[8];

	if (br->req != NULL) {
		gq__req_complete(br->req, status);
	} else if (status != 0) {
		gq__rpc_reply(br->call, status, NULL, 0);
	} else {
		gq__le64_put(reply, raft_last_applied(&b->g->raft));
		gq__rpc_reply(br->call, 0, reply, sizeof(reply));
	}
	gq__free(br);
}

/* Barrier on the leader for @req or @call; on error nothing was started. */
static int
barrier_start(struct gq__partition *p, struct gq__req *req,
	      struct gq__rpc_call *call)
{
	struct barrier *br = gq__calloc(1, sizeof(*br));
	int rv;

	if (br == NULL)
		return GQ_ENOMEM;
	br->req = req;
	br->call = call;
	br->b.data = br;
	rv = gq__rgroup_read_barrier(gq__partition_rgroup(p), &br->b,
				     barrier_done);
	if (rv != 0)
		gq__free(br);
	return rv;
}

void
gq__read_index(struct gq__partition *p, struct gq__req **waiting,
	       struct gq__req *req)
{
	if (gq__rgroup_is_leader(gq__partition_rgroup(p)) &&
	    barrier_start(p, req, NULL) == 0)
		return;
	req->u.sync.index = req->u.sync.asked = 0;
	req->ctl.retry_at = 0;
	req->next = *waiting;
	*waiting = req;
}

static void
asked(void *arg, int status, const uint8_t *body, size_t len)
{
	struct ask *a = arg;
	struct gq__partition *p = gq__node_partition_find(a->node, a->uid);
	struct gq__rd r = gq__rd_init(body, len);
	uint64_t index = gq__rd_le64(&r);

	for (struct gq__req *req = p != NULL ? gq__partition_read_waiters(p)
					     : NULL;
	     req != NULL; req = req->next) {
		if (req->u.sync.asked != a->seq)
			continue;
		req->u.sync.asked = 0;
		if (status == 0 && !r.bad && index > 0)
			req->u.sync.index = index;
		else
			req->ctl.retry_at = now_ms(p) + RETRY_MS;
	}
	gq__free(a);
}

/* Ask the leader for @req's index. */
static void
ask(struct gq__partition *p, struct gq__req *req)
{
	struct gq_node *node = gq__partition_node(p);
	struct gq__rgroup *rg = gq__partition_rgroup(p);
	raft_id leader = 0;
	const char *address = NULL;
	uint8_t body[8];
	struct ask *a;

	req->ctl.retry_at = now_ms(p) + RETRY_MS;
	raft_leader(&rg->raft, &leader, &address);
	if (leader == 0 || leader == node->conf.node_id || address == NULL ||
	    (a = gq__calloc(1, sizeof(*a))) == NULL)
		return;
	a->node = node;
	a->uid = gq__partition_uid(p);
	a->seq = atomic_fetch_add(&next_seq, 1);
	gq__le64_put(body, a->uid);
	if (gq__rpc_send(node->rpc, leader, address, GQ__RPC_READ_INDEX, body,
			 sizeof(body), ASK_TIMEOUT_MS, asked, a) != 0) {
		gq__free(a);
		return;
	}
	req->u.sync.asked = a->seq;
}

void
gq__read_index_poll(struct gq__partition *p, struct gq__req **waiting)
{
	struct gq__rgroup *rg = gq__partition_rgroup(p);
	struct gq__req *req = *waiting;
	uint64_t now = now_ms(p);

	*waiting = NULL;
	while (req != NULL) {
		struct gq__req *next = req->next;

		if (req->u.sync.index > 0 && !gq__partition_catching_up(p) &&
		    raft_last_applied(&rg->raft) >= req->u.sync.index) {
			gq__req_complete(req, 0);
			req = next;
			continue;
		}
		if (now >= req->ctl.deadline) {
			snprintf(req->errmsg, sizeof(req->errmsg),
				 "%.200s/%d: no read index from the leader in "
				 "time",
				 req->topic, req->partition);
			gq__req_complete(req, GQ_ETIMEDOUT);
			req = next;
			continue;
		}
		if (req->u.sync.index == 0 && req->u.sync.asked == 0 &&
		    now >= req->ctl.retry_at) {
			/* Leading now (an election): the barrier takes it. */
			if (gq__rgroup_is_leader(rg) &&
			    barrier_start(p, req, NULL) == 0) {
				req = next;
				continue;
			}
			ask(p, req);
		}
		req->next = *waiting;
		*waiting = req;
		req = next;
	}
}

void
gq__read_index_serve(struct gq_node *node, struct gq__rpc_call *call,
		     const uint8_t *body, size_t len)
{
	struct gq__rd r = gq__rd_init(body, len);
	uint64_t uid = gq__rd_le64(&r);
	struct gq__partition *p;
	int rv;

	if ((p = gq__cluster_rpc_partition(node, call, &r, uid)) == NULL)
		return;
	if ((rv = barrier_start(p, NULL, call)) != 0)
		gq__rpc_reply(call, rv, NULL, 0);
}
