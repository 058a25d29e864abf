/* SPDX-License-Identifier: MIT */
/*
 * cluster.c - routing of controller requests, heartbeats, liveness and
 * partition leaders (see cluster.h); where replicas go is balance.c's.
 *
 * Invariants: a request is in exactly one place: parked (no controller
 * leader reachable yet), in flight (a proposal or an RPC whose callback
 * owns it), applying (waiting for this replica to apply its command), or
 * completed.  Everything here runs on the node's loop thread.
 */
#include "cluster.h"

#include <stdio.h>
#include <string.h>

#include "balance.h"
#include "buf.h"
#include "catchup.h"
#include "cluster_int.h"
#include "config.h"
#include "controller.h"
#include "error.h"
#include "forward.h"
#include "group_forward.h"
#include "heap.h"
#include "membership.h"
#include "node.h"
#include "partition.h"
#include "readindex.h"
#include "rgroup.h"
#include "rpc.h"

#define REQUEST_DEADLINE_MS 30000
#define RETRY_MS            100
#define RPC_TIMEOUT_MS      5000

/* Completion of a request handled by the controller leader. */
typedef void (*leader_done_fn)(void *arg, int status, int64_t value,
			       uint64_t index, const char *errmsg);

struct leader_op {
	struct gq__cluster *cl;
	leader_done_fn done;
	void *arg;
};

/* ---- liveness and leaders (controller leader) -------------------------- */

struct gq__live *
gq__cluster_live_find(struct gq__cluster *cl, uint64_t id)
{
	for (size_t i = 0; i < cl->n_live; i++)
		if (cl->live[i].id == id)
			return &cl->live[i];
	return NULL;
}

struct gq__live *
gq__cluster_live_get(struct gq__cluster *cl, uint64_t id)
{
	struct gq__live *found = gq__cluster_live_find(cl, id);

	if (found != NULL)
		return found;
	if (cl->n_live == cl->cap_live) {
		size_t cap = cl->cap_live ? cl->cap_live * 2 : 8;
		struct gq__live *l = gq__realloc(cl->live, cap * sizeof(*l));

		if (l == NULL)
			return NULL;
		cl->live = l;
		cl->cap_live = cap;
	}
	memset(&cl->live[cl->n_live], 0, sizeof(cl->live[0]));
	cl->live[cl->n_live].id = id;
	return &cl->live[cl->n_live++];
}

bool
gq__cluster_alive(struct gq__cluster *cl, uint64_t id)
{
	struct gq__live *l = gq__cluster_live_find(cl, id);

	return l != NULL &&
	       l->last_seen + SESSION_TIMEOUT_MS > gq__cluster_now(cl);
}

/* A new controller leader knows nothing of the past: every registered
 * broker gets a full session to heartbeat before it counts as dead. */
static void
leadership_gained(struct gq__cluster *cl)
{
	struct gq_node *node = cl->node;

	cl->n_live = 0;
	cl->n_leads = 0;
	cl->offsets_creating = false;
	for (size_t i = 0; i < node->n_brokers; i++) {
		struct gq__live *l =
			gq__cluster_live_get(cl, node->brokers[i].id);

		if (l != NULL)
			l->last_seen = gq__cluster_now(cl);
	}
	gq__log(node, GQ_LOG_INFO, "node %llu leads the controller",
		(unsigned long long)node->conf.node_id);
}

static size_t
lead_pos(const struct gq__cluster *cl, uint64_t uid, bool *found)
{
	size_t lo = 0, hi = cl->n_leads;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cl->leads[mid].uid == uid) {
			*found = true;
			return mid;
		}
		if (cl->leads[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
lead_report(struct gq__cluster *cl, uint64_t uid, uint64_t leader,
	    uint64_t term)
{
	bool found;
	size_t pos = lead_pos(cl, uid, &found);

	if (found) {
		if (term >= cl->leads[pos].term) {
			cl->leads[pos].leader = leader;
			cl->leads[pos].term = term;
		}
		return;
	}
	if (cl->n_leads == cl->cap_leads) {
		size_t cap = cl->cap_leads ? cl->cap_leads * 2 : 64;
		struct gq__lead *l = gq__realloc(cl->leads, cap * sizeof(*l));

		if (l == NULL)
			return; /* reported again next heartbeat */
		cl->leads = l;
		cl->cap_leads = cap;
	}
	memmove(&cl->leads[pos + 1], &cl->leads[pos],
		(cl->n_leads - pos) * sizeof(*cl->leads));
	cl->leads[pos] = (struct gq__lead){ uid, leader, term };
	cl->n_leads++;
}

/* ---- controller requests on the leader --------------------------------- */

static void
leader_op_done(void *arg, const struct gq__ctl_result *res)
{
	struct leader_op *op = arg;

	op->done(op->arg, res->status, res->value, res->index, "");
	gq__free(op);
}

/* The PARTITION_REASSIGN command for a request (cluster.h): checked
 * against the registry, with the current replicas when it names none and
 * its leader moved first. */
static int
reassign_command(struct gq__cluster *cl, struct gq__rd *r, struct gq__buf *cmd,
		 char *errmsg)
{
	struct gq_node *node = cl->node;
	char name[GQ_NAME_MAX + 1];
	int32_t ids[GQ__REPLICAS_MAX];
	const struct gq__topic *t;
	int32_t index, leader;
	uint8_t n;

	gq__rd_str16(r, name, sizeof(name));
	index = (int32_t)gq__rd_le32(r);
	leader = (int32_t)gq__rd_le32(r);
	n = gq__rd_u8(r);
	for (uint8_t i = 0; i < n && i < GQ__REPLICAS_MAX; i++)
		ids[i] = (int32_t)gq__rd_le32(r);
	if (r->bad || n > GQ__REPLICAS_MAX)
		return GQ_EINVAL;
	if ((t = gq__node_topic_find(node, name)) == NULL)
		return GQ_ENOTOPIC;
	if (index < 0 || index >= t->n_parts)
		return GQ_ENOPARTITION;
	if (n == 0) {
		n = t->routes[index].n_replicas;
		memcpy(ids, t->routes[index].replicas, n * sizeof(*ids));
	}
	if (!gq__replicas_distinct(ids, n)) {
		gq__errmsg_set(errmsg, "a broker is listed twice");
		return GQ_EINVAL;
	}
	for (uint8_t i = 0; i < n; i++) {
		if (ids[i] <= 0 ||
		    gq__node_broker_find(node, (uint64_t)ids[i]) == NULL) {
			gq__errmsg_set(errmsg, "broker %d is not registered",
				       ids[i]);
			return GQ_EINVAL;
		}
	}
	if (leader != 0) {
		uint8_t at = 0;

		while (at < n && ids[at] != leader)
			at++;
		if (at == n) {
			gq__errmsg_set(errmsg,
				       "broker %d holds no replica of %s/%d",
				       leader, name, index);
			return GQ_EINVAL;
		}
		memmove(&ids[1], &ids[0], at * sizeof(*ids));
		ids[0] = leader;
	}
	return gq__ctl_encode_reassign(cmd, t, index, ids, n);
}

/* The BROKER_REMOVE command for a request (cluster.h): the broker must be
 * registered, and the brokers left must be enough for the replicas it
 * holds. */
static int
remove_command(struct gq__cluster *cl, struct gq__rd *r, struct gq__buf *cmd,
	       char *errmsg)
{
	struct gq_node *node = cl->node;
	uint32_t id = gq__rd_le32(r);
	size_t others = 0;

	if (r->bad || id == 0)
		return GQ_EINVAL;
	if (gq__node_broker_find(node, id) == NULL) {
		gq__errmsg_set(errmsg, "broker %u is not registered", id);
		return GQ_EINVAL;
	}
	for (size_t i = 0; i < node->n_brokers; i++)
		others +=
			node->brokers[i].id != id && !node->brokers[i].removing;
	for (size_t i = 0; i < node->n_topics; i++) {
		const struct gq__topic *t = node->topics[i];

		for (int32_t j = 0; j < t->n_parts; j++) {
			const struct gq__route *rt = &t->routes[j];

			if (gq__route_has(rt, id) && rt->n_replicas > others) {
				gq__errmsg_set(errmsg,
					       "%s/%d has %u replicas and only "
					       "%zu other brokers would remain",
					       t->name, j, rt->n_replicas,
					       others);
				return GQ_EINVAL;
			}
		}
	}
	return gq__buf_put_le32(cmd, id) != 0 ? GQ_ENOMEM : 0;
}

/* The TOPIC_ALTER command for a request (cluster.h): the topic must
 * exist here, and its deduplication keys keep their values (apply checks
 * both again, against the state it meets). */
static int
alter_command(struct gq__cluster *cl, struct gq__rd *r, struct gq__buf *cmd,
	      char *errmsg)
{
	char name[GQ_NAME_MAX + 1];
	struct gq__topic_conf conf;
	const struct gq__topic *t;
	const char *key;
	uint32_t mask;

	gq__rd_str16(r, name, sizeof(name));
	mask = gq__rd_le32(r);
	if (r->bad || mask == 0 || (mask & ~GQ__TF_ALL) != 0 ||
	    gq__topic_conf_decode(r->p, r->left, &conf) != 0)
		return GQ_EINVAL;
	if ((t = gq__node_topic_find(cl->node, name)) == NULL) {
		gq__errmsg_set(errmsg, "unknown topic '%.200s'", name);
		return GQ_ENOTOPIC;
	}
	if (gq__ctl_alter_dedup(&t->conf, &conf, mask, &key)) {
		gq__errmsg_set(errmsg,
			       "'%s' cannot change on an existing topic: the "
			       "replicas of each partition apply it in the "
			       "order of their log (create a new topic)",
			       key);
		return GQ_EINVAL;
	}
	return gq__ctl_encode_alter(cmd, t, mask, &conf);
}

/* Handle a request body (cluster.h, CTL_REQUEST) on the controller
 * leader; @done runs once. */
static void
leader_request(struct gq__cluster *cl, const uint8_t *body, size_t len,
	       leader_done_fn done, void *arg)
{
	struct gq_node *node = cl->node;
	struct gq__rd r = gq__rd_init(body, len);
	struct gq__buf cmd = GQ__BUF_INIT;
	struct gq__route *routes = NULL;
	char errmsg[GQ_ERRMSG_SIZE] = "";
	uint32_t type = gq__rd_le32(&r);
	struct leader_op *op;
	int rv = 0;

	if (type == GQ__CTL_TOPIC_CREATE) {
		char name[GQ_NAME_MAX + 1];
		struct gq__topic_conf conf;
		int32_t n;
		int16_t rf;

		gq__rd_str16(&r, name, sizeof(name));
		n = (int32_t)gq__rd_le32(&r);
		rf = (int16_t)gq__rd_le16(&r);
		if (r.bad || n <= 0 || n > 1000000 ||
		    gq__topic_conf_decode(r.p, r.left, &conf) != 0) {
			rv = GQ_EINVAL;
		} else if (gq__node_topic_find(node, name) != NULL) {
			rv = GQ_EEXIST;
		} else if ((routes = gq__calloc((size_t)n, sizeof(*routes))) ==
			   NULL) {
			rv = GQ_ENOMEM;
		} else if ((rv = gq__balance_place(cl, n, rf, routes,
						   errmsg)) == 0) {
			rv = gq__ctl_encode_create(&cmd, name, n, rf, routes,
						   &conf);
		}
	} else if (type == GQ__CTL_TOPIC_DELETE) {
		char name[GQ_NAME_MAX + 1];

		gq__rd_str16(&r, name, sizeof(name));
		rv = r.bad ? GQ_EINVAL
			   : gq__buf_append(&cmd, name, strlen(name));
	} else if (type == GQ__CTL_PARTITION_REASSIGN) {
		rv = reassign_command(cl, &r, &cmd, errmsg);
	} else if (type == GQ__CTL_BROKER_REMOVE) {
		rv = remove_command(cl, &r, &cmd, errmsg);
	} else if (type == GQ__CTL_TOPIC_ALTER) {
		rv = alter_command(cl, &r, &cmd, errmsg);
	} else if (type != GQ__CTL_PRODUCER_ID) {
		rv = GQ_EINVAL;
	}
	gq__free(routes);
	if (rv == 0 && (op = gq__calloc(1, sizeof(*op))) == NULL)
		rv = GQ_ENOMEM;
	if (rv == 0) {
		op->cl = cl;
		op->done = done;
		op->arg = arg;
		rv = gq__controller_propose(node->ctl, type, cmd.base, cmd.len,
					    leader_op_done, op);
		if (rv != 0)
			gq__free(op);
	}
	gq__buf_free(&cmd);
	if (rv != 0)
		done(arg, rv, -1, 0, errmsg);
}

/* ---- controller requests from any node --------------------------------- */

static void
req_list_push(struct gq__req **list, struct gq__req *req)
{
	req->next = *list;
	*list = req;
}

static int
request_encode(const struct gq__req *req, struct gq__buf *out)
{
	int rv = 0;

	switch (req->type) {
	case GQ__REQ_TOPIC_CREATE:
		rv = gq__buf_put_le32(out, GQ__CTL_TOPIC_CREATE) |
		     gq__buf_put_str16(out, req->topic) |
		     gq__buf_put_le32(out, (uint32_t)req->u.create.partitions) |
		     gq__buf_put_le16(
			     out, (uint16_t)req->u.create.replication_factor);
		if (rv == 0)
			rv = gq__topic_conf_encode(&req->u.create.conf, out);
		break;
	case GQ__REQ_TOPIC_DELETE:
		rv = gq__buf_put_le32(out, GQ__CTL_TOPIC_DELETE) |
		     gq__buf_put_str16(out, req->topic);
		break;
	case GQ__REQ_TOPIC_ALTER:
		rv = gq__buf_put_le32(out, GQ__CTL_TOPIC_ALTER) |
		     gq__buf_put_str16(out, req->topic) |
		     gq__buf_put_le32(out, req->u.alter.mask);
		if (rv == 0)
			rv = gq__topic_conf_encode(&req->u.alter.conf, out);
		break;
	case GQ__REQ_PRODUCER_ID:
		rv = gq__buf_put_le32(out, GQ__CTL_PRODUCER_ID);
		break;
	case GQ__REQ_BROKER_REMOVE:
		rv = gq__buf_put_le32(out, GQ__CTL_BROKER_REMOVE) |
		     gq__buf_put_le32(out, (uint32_t)req->u.broker);
		break;
	case GQ__REQ_REASSIGN:
		rv = gq__buf_put_le32(out, GQ__CTL_PARTITION_REASSIGN) |
		     gq__buf_put_str16(out, req->topic) |
		     gq__buf_put_le32(out, (uint32_t)req->partition) |
		     gq__buf_put_le32(out, (uint32_t)req->u.reassign.leader) |
		     gq__buf_put_u8(out, req->u.reassign.n);
		for (uint8_t i = 0; i < req->u.reassign.n; i++)
			rv |= gq__buf_put_le32(
				out, (uint32_t)req->u.reassign.replicas[i]);
		break;
	default:
		return GQ_EINTERNAL;
	}
	return rv != 0 ? GQ_ENOMEM : 0;
}

static void request_retry(struct gq__cluster *cl, struct gq__req *req);

/* The command applied on the leader at @index: wait until it applied
 * here too, so the caller's next step sees it. */
static void
request_done(void *arg, int status, int64_t value, uint64_t index,
	     const char *errmsg)
{
	struct gq__req *req = arg;
	struct gq__cluster *cl = req->ctl.cl;

	if (status == GQ_ENOTREADY && !cl->closed) {
		/* A new controller leader still hears from the brokers. */
		request_retry(cl, req);
		return;
	}
	if (status == GQ_EEXIST && req->ctl.sent_before &&
	    req->type == GQ__REQ_TOPIC_CREATE) {
		/* An earlier attempt whose answer was lost created it. */
		status = 0;
		index = 0;
	}
	if (status != 0) {
		if (errmsg != NULL && errmsg[0] != '\0')
			snprintf(req->errmsg, sizeof(req->errmsg), "%s",
				 errmsg);
		gq__req_complete(req, status);
		return;
	}
	if (req->type == GQ__REQ_PRODUCER_ID) {
		req->u.producer.id = value;
		req->u.producer.epoch = 0;
	}
	req->ctl.index = index;
	req_list_push(&cl->applying, req);
}

/* The leader could not be reached, or was no longer the leader: try
 * again soon, until the deadline. */
static void
request_retry(struct gq__cluster *cl, struct gq__req *req)
{
	req->ctl.retry_at = gq__cluster_now(cl) + RETRY_MS;
	req_list_push(&cl->parked, req);
}

static void
request_replied(void *arg, int status, const uint8_t *body, size_t len)
{
	struct gq__req *req = arg;
	struct gq__cluster *cl = req->ctl.cl;
	struct gq__rd r = gq__rd_init(body, len);
	char errmsg[GQ_ERRMSG_SIZE] = "";
	int64_t value;
	uint64_t index;

	if (cl->closed) {
		gq__req_complete(req, GQ_ECLOSED);
		return;
	}
	if (status == GQ_ENOTLEADER || status == GQ_EIO ||
	    status == GQ_ETIMEDOUT || status == GQ_ENOTREADY) {
		req->ctl.sent_before |=
			status == GQ_EIO || status == GQ_ETIMEDOUT;
		request_retry(cl, req);
		return;
	}
	if (status != 0) {
		gq__rd_str16(&r, errmsg, sizeof(errmsg));
		request_done(req, status, -1, 0, errmsg);
		return;
	}
	value = (int64_t)gq__rd_le64(&r);
	index = gq__rd_le64(&r);
	if (r.bad)
		request_done(req, GQ_ECORRUPT, -1, 0,
			     "bad answer from the controller");
	else
		request_done(req, 0, value, index, NULL);
}

/* Send @req to the controller leader, or park it. */
static void
request_send(struct gq__cluster *cl, struct gq__req *req)
{
	struct gq_node *node = cl->node;
	struct gq__buf body = GQ__BUF_INIT;
	const char *address = NULL;
	uint64_t leader;
	int rv;

	if ((rv = request_encode(req, &body)) != 0) {
		gq__buf_free(&body);
		gq__req_complete(req, rv);
		return;
	}
	if (gq__controller_is_leader(node->ctl)) {
		leader_request(cl, body.base, body.len, request_done, req);
	} else if ((leader = gq__controller_leader(node->ctl, &address)) != 0 &&
		   leader != node->conf.node_id && address != NULL) {
		rv = gq__rpc_send(node->rpc, leader, address,
				  GQ__RPC_CTL_REQUEST, body.base, body.len,
				  RPC_TIMEOUT_MS, request_replied, req);
		if (rv != 0)
			request_retry(cl, req);
	} else {
		request_retry(cl, req);
	}
	gq__buf_free(&body);
}

void
gq__cluster_submit(struct gq__cluster *cl, struct gq__req *req)
{
	if (cl->closed) {
		gq__req_complete(req, GQ_ECLOSED);
		return;
	}
	req->ctl.cl = cl;
	req->ctl.deadline = gq__cluster_now(cl) + REQUEST_DEADLINE_MS;
	request_send(cl, req);
}

static void
resubmit_parked(struct gq__cluster *cl)
{
	struct gq__req *req = cl->parked;
	uint64_t now = gq__cluster_now(cl);

	cl->parked = NULL;
	while (req != NULL) {
		struct gq__req *next = req->next;

		if (now >= req->ctl.deadline) {
			snprintf(req->errmsg, sizeof(req->errmsg),
				 "no controller leader answered within %d s",
				 REQUEST_DEADLINE_MS / 1000);
			gq__req_complete(req, GQ_ETIMEDOUT);
		} else if (now >= req->ctl.retry_at) {
			request_send(cl, req);
		} else {
			req_list_push(&cl->parked, req);
		}
		req = next;
	}
}

/* Complete the requests whose command this replica has applied. */
static void
finish_applied(struct gq__cluster *cl)
{
	struct gq_node *node = cl->node;
	struct gq__req *req = cl->applying;
	uint64_t applied = gq__controller_applied(node->ctl);

	cl->applying = NULL;
	while (req != NULL) {
		struct gq__req *next = req->next;

		if (req->ctl.index > applied) {
			req_list_push(&cl->applying, req);
		} else if (req->type == GQ__REQ_PRODUCER_ID ||
			   req->type == GQ__REQ_REASSIGN ||
			   req->type == GQ__REQ_BROKER_REMOVE ||
			   req->type == GQ__REQ_TOPIC_ALTER) {
			gq__req_complete(req, 0);
		} else if (req->type == GQ__REQ_TOPIC_CREATE) {
			gq__node_topic_wait(
				node, gq__node_topic_find(node, req->topic),
				req);
		} else {
			gq__node_topic_wait(
				node, gq__node_deleting_find(node, req->topic),
				req);
		}
		req = next;
	}
}

/* ---- heartbeats ---------------------------------------------------------- */

static int
heartbeat_encode(struct gq__cluster *cl, struct gq__buf *out)
{
	struct gq_node *node = cl->node;
	struct gq__broker self;
	uint32_t n = 0;
	size_t n_at;
	int rv;

	memset(&self, 0, sizeof(self));
	self.id = node->conf.node_id;
	snprintf(self.raft_address, sizeof(self.raft_address), "%s",
		 node->conf.raft_address);
	snprintf(self.client_address, sizeof(self.client_address), "%s",
		 node->conf.advertised_address);
	snprintf(self.rack, sizeof(self.rack), "%s", node->conf.rack);
	rv = gq__ctl_encode_broker(out, &self);
	n_at = out->len;
	rv |= gq__buf_put_le32(out, 0);
	for (size_t i = 0; rv == 0 && i < node->n_topics; i++) {
		struct gq__topic *t = node->topics[i];

		for (int32_t j = 0; j < t->n_parts; j++) {
			if (t->parts[j] == NULL ||
			    atomic_load(&t->routes[j].leader) !=
				    (int32_t)node->conf.node_id)
				continue;
			rv |= gq__buf_put_le64(out, gq__part_uid(t, j)) |
			      gq__buf_put_le64(out,
					       (uint64_t)atomic_load(
						       &t->routes[j].epoch));
			n++;
		}
	}
	if (rv != 0)
		return GQ_ENOMEM;
	gq__le32_put(out->base + n_at, n);
	return 0;
}

static void
register_done(void *arg, const struct gq__ctl_result *res)
{
	struct gq__live *l;
	struct gq__cluster *cl = arg;

	(void)res;
	/* Whatever happened, the next heartbeat checks again. */
	for (size_t i = 0; i < cl->n_live; i++) {
		l = &cl->live[i];
		l->registering = false;
	}
}

/* The controller leader's side of a heartbeat: answer into @reply. */
static int
leader_heartbeat(struct gq__cluster *cl, const uint8_t *body, size_t len,
		 struct gq__buf *reply)
{
	struct gq_node *node = cl->node;
	struct gq__rd r = gq__rd_init(body, len);
	struct gq__broker b, *known;
	struct gq__live *l;
	bool registered;
	uint32_t n;
	int rv;

	memset(&b, 0, sizeof(b));
	b.id = gq__rd_le32(&r);
	gq__rd_str16(&r, b.raft_address, sizeof(b.raft_address));
	gq__rd_str16(&r, b.client_address, sizeof(b.client_address));
	gq__rd_str16(&r, b.rack, sizeof(b.rack));
	n = gq__rd_le32(&r);
	if (r.bad || b.id == 0 || b.id > INT32_MAX)
		return GQ_EINVAL;
	if ((l = gq__cluster_live_get(cl, b.id)) == NULL)
		return GQ_ENOMEM;
	l->last_seen = gq__cluster_now(cl);
	l->heard = true;
	known = gq__node_broker_find(node, b.id);
	registered = known != NULL &&
		     strcmp(known->raft_address, b.raft_address) == 0 &&
		     strcmp(known->client_address, b.client_address) == 0 &&
		     strcmp(known->rack, b.rack) == 0;
	if (!registered && !l->registering) {
		struct gq__buf cmd = GQ__BUF_INIT;

		if (gq__ctl_encode_broker(&cmd, &b) == 0 &&
		    gq__controller_propose(node->ctl, GQ__CTL_BROKER_REGISTER,
					   cmd.base, cmd.len, register_done,
					   cl) == 0) {
			l->registering = true;
			gq__log(node, GQ_LOG_INFO,
				"registering broker %llu (raft %s, clients %s)",
				(unsigned long long)b.id, b.raft_address,
				b.client_address[0] ? b.client_address : "-");
		}
		gq__buf_free(&cmd);
	}
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		uint64_t uid = gq__rd_le64(&r);
		uint64_t term = gq__rd_le64(&r);

		if (!r.bad)
			lead_report(cl, uid, b.id, term);
	}
	if (r.bad)
		return GQ_EINVAL;
	rv = gq__buf_put_u8(reply, registered) |
	     gq__buf_put_le32(reply, (uint32_t)node->n_brokers);
	for (size_t i = 0; i < node->n_brokers; i++)
		rv |= gq__buf_put_le32(reply, (uint32_t)node->brokers[i].id) |
		      gq__buf_put_u8(reply, gq__cluster_alive(
						    cl, node->brokers[i].id));
	rv |= gq__buf_put_le32(reply, (uint32_t)cl->n_leads);
	for (size_t i = 0; i < cl->n_leads; i++) {
		const struct gq__lead *ld = &cl->leads[i];
		bool alive = gq__cluster_alive(cl, ld->leader);

		rv |= gq__buf_put_le64(reply, ld->uid) |
		      gq__buf_put_le32(reply,
				       alive ? (uint32_t)ld->leader : 0) |
		      gq__buf_put_le64(reply, ld->term);
	}
	return rv != 0 ? GQ_ENOMEM : 0;
}

/* Learn from the controller's answer: our registration, liveness, and
 * the leaders of partitions we hold no replica of (our own replicas know
 * their leader first hand). */
static void
heartbeat_answer(struct gq__cluster *cl, const uint8_t *body, size_t len)
{
	struct gq_node *node = cl->node;
	struct gq__rd r = gq__rd_init(body, len);
	const uint8_t *leads;
	uint32_t n, m;

	cl->registered = gq__rd_u8(&r) != 0;
	n = gq__rd_le32(&r);
	pthread_rwlock_wrlock(&node->meta_lock);
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		uint64_t id = gq__rd_le32(&r);
		bool alive = gq__rd_u8(&r) != 0;
		struct gq__broker *b = gq__node_broker_find(node, id);

		if (!r.bad && b != NULL)
			b->alive = alive;
	}
	pthread_rwlock_unlock(&node->meta_lock);
	m = gq__rd_le32(&r);
	if (r.bad || (leads = gq__rd_take(&r, (size_t)m * 20)) == NULL)
		return;
	for (size_t i = 0; i < node->n_topics; i++) {
		struct gq__topic *t = node->topics[i];

		for (int32_t j = 0; j < t->n_parts; j++) {
			uint64_t uid = gq__part_uid(t, j);
			size_t lo = 0, hi = m;

			if (t->parts[j] != NULL &&
			    gq__partition_publishes(t->parts[j]))
				continue;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				uint64_t u = gq__le64_get(leads + mid * 20);

				if (u == uid) {
					const uint8_t *e = leads + mid * 20;
					uint32_t leader = gq__le32_get(e + 8);

					atomic_store(&t->routes[j].leader,
						     leader ? (int32_t)leader
							    : -1);
					atomic_store(
						&t->routes[j].epoch,
						(int32_t)gq__le64_get(e + 12));
					break;
				}
				if (u < uid)
					lo = mid + 1;
				else
					hi = mid;
			}
		}
	}
}

static void
heartbeat_replied(void *arg, int status, const uint8_t *body, size_t len)
{
	struct gq__cluster *cl = arg;

	cl->heartbeat_inflight = false;
	if (status == 0 && !cl->closed)
		heartbeat_answer(cl, body, len);
}

static void
create_offsets_done(void *arg, int status, int64_t value, uint64_t index,
		    const char *errmsg)
{
	struct gq__cluster *cl = arg;

	(void)value;
	(void)index;
	cl->offsets_creating = false;
	if (status != 0 && status != GQ_EEXIST)
		gq__log(cl->node, GQ_LOG_WARN, "cannot create %s yet: %s",
			GQ__OFFSETS_TOPIC,
			errmsg[0] ? errmsg : gq_strerror(status));
}

/* On the controller leader: create the offsets topic once enough brokers
 * are alive to give it its replicas. */
static void
ensure_offsets_topic(struct gq__cluster *cl)
{
	struct gq_node *node = cl->node;
	struct gq__topic_conf conf = node->conf.topic_defaults;
	struct gq__buf body = GQ__BUF_INIT;
	size_t want = node->n_peers < 3 ? node->n_peers : 3;
	size_t alive = 0;

	if (cl->offsets_creating ||
	    gq__node_topic_find(node, GQ__OFFSETS_TOPIC) != NULL)
		return;
	for (size_t i = 0; i < node->n_brokers; i++)
		alive += gq__cluster_alive(cl, node->brokers[i].id);
	if (want == 0)
		want = 1;
	if (alive < want)
		return;
	conf.compression_enabled = false;
	conf.dedup_enabled = false;
	conf.retention_ms = -1;
	conf.retention_bytes = -1;
	conf.segment_size = 1 << 20;
	if ((gq__buf_put_le32(&body, GQ__CTL_TOPIC_CREATE) |
	     gq__buf_put_str16(&body, GQ__OFFSETS_TOPIC) |
	     gq__buf_put_le32(&body, GQ__OFFSETS_PARTITIONS) |
	     gq__buf_put_le16(&body, (uint16_t)want)) == 0 &&
	    gq__topic_conf_encode(&conf, &body) == 0) {
		cl->offsets_creating = true;
		leader_request(cl, body.base, body.len, create_offsets_done,
			       cl);
	}
	gq__buf_free(&body);
}

void
gq__cluster_tick(struct gq__cluster *cl)
{
	struct gq_node *node = cl->node;
	struct gq__buf body = GQ__BUF_INIT;
	const char *address = NULL;
	uint64_t leader;

	if (cl->closed || heartbeat_encode(cl, &body) != 0)
		goto out;
	if (gq__controller_is_leader(node->ctl)) {
		struct gq__buf reply = GQ__BUF_INIT;

		if (leader_heartbeat(cl, body.base, body.len, &reply) == 0)
			heartbeat_answer(cl, reply.base, reply.len);
		gq__buf_free(&reply);
		ensure_offsets_topic(cl);
		gq__balance_heal(cl);
		gq__balance_controller(cl);
	} else if (!cl->heartbeat_inflight) {
		leader = gq__controller_leader(node->ctl, &address);
		if ((leader == 0 || address == NULL) && node->n_peers > 0) {
			/* A joining node has no controller replica yet: ask
			 * the initial members in turn (the others answer
			 * GQ_ENOTLEADER). */
			const struct gq__peer *p =
				&node->peers[cl->peer_turn++ % node->n_peers];

			leader = p->id;
			address = p->address;
		}
		if (leader != 0 && leader != node->conf.node_id &&
		    address != NULL &&
		    gq__rpc_send(node->rpc, leader, address, GQ__RPC_HEARTBEAT,
				 body.base, body.len, RPC_TIMEOUT_MS,
				 heartbeat_replied, cl) == 0)
			cl->heartbeat_inflight = true;
	}
out:
	gq__buf_free(&body);
}

/* ---- the RPC server ---------------------------------------------------- */

static void
rpc_request_done(void *arg, int status, int64_t value, uint64_t index,
		 const char *errmsg)
{
	struct gq__rpc_call *call = arg;
	struct gq__buf reply = GQ__BUF_INIT;

	if (status != 0) {
		gq__buf_put_str16(&reply, errmsg != NULL ? errmsg : "");
	} else if ((gq__buf_put_le64(&reply, (uint64_t)value) |
		    gq__buf_put_le64(&reply, index)) != 0) {
		status = GQ_ENOMEM;
	}
	gq__rpc_reply(call, status, reply.base, reply.len);
	gq__buf_free(&reply);
}

struct gq__partition *
gq__cluster_rpc_partition(struct gq_node *node, struct gq__rpc_call *call,
			  const struct gq__rd *r, uint64_t uid)
{
	struct gq__partition *p;

	if (r->bad) {
		gq__rpc_reply(call, GQ_EINVAL, NULL, 0);
		return NULL;
	}
	if ((p = gq__node_partition_find(node, uid)) == NULL)
		gq__rpc_reply(call, GQ_ENOPARTITION, NULL, 0);
	return p;
}

void
gq__cluster_on_rpc(void *arg, struct gq__rpc_call *call, uint64_t sender_id,
		   uint32_t type, const uint8_t *body, size_t len)
{
	struct gq_node *node = arg;
	struct gq__cluster *cl = node->cluster;
	struct gq__buf reply = GQ__BUF_INIT;
	int rv;

	(void)sender_id;
	if (cl == NULL || cl->closed) {
		gq__rpc_reply(call, GQ_ECLOSED, NULL, 0);
		return;
	}
	switch (type) {
	case GQ__RPC_HEARTBEAT:
	case GQ__RPC_CTL_REQUEST:
		if (!gq__controller_is_leader(node->ctl)) {
			gq__rpc_reply(call, GQ_ENOTLEADER, NULL, 0);
			return;
		}
		if (type == GQ__RPC_CTL_REQUEST) {
			leader_request(cl, body, len, rpc_request_done, call);
			return;
		}
		rv = leader_heartbeat(cl, body, len, &reply);
		gq__rpc_reply(call, rv, reply.base, reply.len);
		gq__buf_free(&reply);
		return;
	case GQ__RPC_PART_FETCH:
		gq__catchup_serve(node, call, body, len);
		return;
	case GQ__RPC_PRODUCE:
		gq__forward_serve(node, call, body, len);
		return;
	case GQ__RPC_PART_STATE:
		gq__membership_serve(node, call, body, len);
		return;
	case GQ__RPC_READ_INDEX:
		gq__read_index_serve(node, call, body, len);
		return;
	case GQ__RPC_GROUP:
		gq__group_forward_serve(node, call, body, len);
		return;
	default:
		gq__rpc_reply(call, GQ_EUNSUPPORTED, NULL, 0);
		return;
	}
}

/* ---- lifecycle ----------------------------------------------------------- */

int
gq__cluster_create(struct gq_node *node, struct gq__cluster **out)
{
	struct gq__cluster *cl;

	if ((cl = gq__calloc(1, sizeof(*cl))) == NULL)
		return GQ_ENOMEM;
	cl->node = node;
	*out = cl;
	return 0;
}

void
gq__cluster_poll(struct gq__cluster *cl)
{
	struct gq_node *node = cl->node;
	bool leading = gq__controller_is_leader(node->ctl);
	uint64_t leader = gq__controller_leader(node->ctl, NULL);

	if (cl->closed)
		return;
	atomic_store(&node->controller_id, leader ? (int32_t)leader : -1);
	if (leading && !cl->leading)
		leadership_gained(cl);
	cl->leading = leading;
	/* A starting leader registers itself and creates the offsets topic
	 * as fast as its commands apply, not one tick at a time. */
	if (leading && (!cl->registered ||
			gq__node_topic_find(node, GQ__OFFSETS_TOPIC) == NULL))
		gq__cluster_tick(cl);
	if (cl->parked != NULL)
		resubmit_parked(cl);
	if (cl->applying != NULL)
		finish_applied(cl);
}

bool
gq__cluster_registered(const struct gq__cluster *cl)
{
	return cl->registered;
}

void
gq__cluster_close(struct gq__cluster *cl)
{
	struct gq__req *parked = cl->parked;
	struct gq__req *applying = cl->applying;

	cl->closed = true;
	cl->parked = cl->applying = NULL;
	gq__req_complete_list(parked, GQ_ECLOSED);
	gq__req_complete_list(applying, GQ_ECLOSED);
}

void
gq__cluster_free(struct gq__cluster *cl)
{
	if (cl == NULL)
		return;
	gq__free(cl->live);
	gq__free(cl->leads);
	gq__free(cl);
}
