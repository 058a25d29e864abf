/* SPDX-License-Identifier: MIT */
/*
 * group_forward.c - group calls sent to their coordinator (see
 * group_forward.h).  Invariant: a forwarded request completes exactly
 * once, from the RPC callback; a served one answers its call exactly
 * once, from the request's completion.
 */
#include "group_forward.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cluster.h"
#include "coordinator.h"
#include "group.h"
#include "heap.h"
#include "node.h"
#include "rpc.h"

/* Calls answered at once; parked ones get their rebalance time more. */
#define FORWARD_TIMEOUT_MS 30000
#define SYNC_TIMEOUT_MS    (5 * 60 * 1000)

#define NSTR_NULL 0xffff

static int
put_nstr(struct gq__buf *b, const char *s)
{
	return s != NULL ? gq__buf_put_str16(b, s)
			 : gq__buf_put_le16(b, NSTR_NULL);
}

static int
put_bytes(struct gq__buf *b, const void *p, size_t len)
{
	return gq__buf_put_le32(b, (uint32_t)len) | gq__buf_append(b, p, len);
}

/*
 * Strings read from a message, NUL-terminated into one arena: a string of
 * n bytes took n + 2 in the message and takes n + 1 here, so an arena as
 * long as the message always has room.
 */
struct arena {
	char *base;
	size_t used;
};

static const char *
rd_nstr(struct gq__rd *r, struct arena *a)
{
	size_t n = gq__rd_le16(r);
	const uint8_t *p;
	char *s;

	if (n == NSTR_NULL)
		return NULL;
	if ((p = gq__rd_take(r, n)) == NULL)
		return "";
	s = a->base + a->used;
	memcpy(s, p, n);
	s[n] = '\0';
	a->used += n + 1;
	return s;
}

static const void *
rd_bytes(struct gq__rd *r, size_t *len)
{
	*len = gq__rd_le32(r);
	return gq__rd_take(r, *len);
}

/* ---- the calling side -------------------------------------------------- */

static int
encode_request(const struct gq__req *req, struct gq__buf *b)
{
	const struct gq_group_join *j = &req->u.group.join;
	enum gq__group_op op = req->u.group.op;
	int rv = gq__buf_put_u8(b, (uint8_t)op) |
		 put_nstr(b, req->u.group.group);

	if (op == GQ__GROUP_JOIN)
		rv |= put_nstr(b, j->member_id) |
		      put_nstr(b, j->group_instance_id);
	else
		rv |= put_nstr(b, req->u.group.member_id) |
		      put_nstr(b, req->u.group.instance_id);
	rv |= gq__buf_put_le32(b, (uint32_t)req->u.group.generation);
	switch (op) {
	case GQ__GROUP_JOIN:
		rv |= put_nstr(b, j->client_id) | put_nstr(b, j->client_host) |
		      put_nstr(b, j->protocol_type) |
		      gq__buf_put_le32(b, (uint32_t)j->session_timeout_ms) |
		      gq__buf_put_le32(b, (uint32_t)j->rebalance_timeout_ms) |
		      gq__buf_put_u8(b, j->require_member_id) |
		      gq__buf_put_le16(b, (uint16_t)j->n_protocols);
		for (size_t i = 0; i < j->n_protocols; i++)
			rv |= put_nstr(b, j->protocols[i].name) |
			      put_bytes(b, j->protocols[i].metadata,
					j->protocols[i].len);
		break;
	case GQ__GROUP_SYNC:
		rv |= gq__buf_put_le32(b, (uint32_t)req->u.group.n);
		for (size_t i = 0; i < req->u.group.n; i++) {
			const struct gq_group_assignment *a =
				&req->u.group.assignments[i];

			rv |= put_nstr(b, a->member_id) |
			      put_bytes(b, a->data, a->len);
		}
		break;
	case GQ__GROUP_COMMIT:
		rv |= gq__buf_put_le32(b, (uint32_t)req->u.group.n);
		for (size_t i = 0; i < req->u.group.n; i++) {
			const struct gq_group_offset *o =
				&req->u.group.offsets[i];

			rv |= put_nstr(b, o->topic) |
			      gq__buf_put_le32(b, (uint32_t)o->partition) |
			      gq__buf_put_le64(b, (uint64_t)o->offset) |
			      put_nstr(b, o->metadata);
		}
		break;
	case GQ__GROUP_OFFSETS:
		rv |= gq__buf_put_le32(b, (uint32_t)req->u.group.n);
		for (size_t i = 0; i < req->u.group.n; i++)
			rv |= put_nstr(b, req->u.group.offsets[i].topic) |
			      gq__buf_put_le32(b,
					       (uint32_t)req->u.group.offsets[i]
						       .partition);
		break;
	default:
		break;
	}
	return rv;
}

/* The coordinator's answer to a JOIN: complete @req with it. */
static void
join_replied(struct gq__req *req, int status, struct gq__rd *r, struct arena *a)
{
	struct gq_group_member *m = NULL;
	struct gq_group_joined j;
	size_t n;

	j.generation = (int32_t)gq__rd_le32(r);
	j.protocol = rd_nstr(r, a);
	j.leader = rd_nstr(r, a);
	j.member_id = rd_nstr(r, a);
	n = gq__rd_le32(r);
	if (!r->bad && n > r->left / 10)
		r->bad = true;
	if (!r->bad && n > 0 && (m = gq__calloc(n, sizeof(*m))) == NULL)
		status = status != 0 ? status : GQ_ENOMEM;
	for (size_t i = 0; m != NULL && i < n && !r->bad; i++) {
		m[i].member_id = rd_nstr(r, a);
		m[i].group_instance_id = rd_nstr(r, a);
		m[i].metadata = rd_bytes(r, &m[i].len);
	}
	if (r->bad || j.leader == NULL || j.member_id == NULL) {
		gq__req_complete(req, GQ_EIO);
	} else {
		j.n_members = m != NULL ? n : 0;
		j.members = m;
		req->u.group.joined = &j;
		gq__req_complete(req, status);
	}
	gq__free(m);
}

static void
forward_replied(void *arg, int status, const uint8_t *body, size_t len)
{
	struct gq__req *req = arg;
	struct gq__rd r = gq__rd_init(body, len);
	struct arena a = { NULL, 0 };
	enum gq__group_op op = req->u.group.op;

	if (status == GQ_EIO || status == GQ_ETIMEDOUT) {
		snprintf(req->errmsg, sizeof(req->errmsg),
			 "the coordinator of group %.100s did not answer "
			 "(%.40s)",
			 req->u.group.group, gq_strerror(status));
		gq__req_complete(req, op == GQ__GROUP_COMMIT ? GQ_EUNKNOWN
							     : GQ_ENOTCOORD);
		return;
	}
	if (op == GQ__GROUP_JOIN) {
		if ((a.base = gq__malloc(len + 1)) == NULL) {
			gq__req_complete(req, GQ_ENOMEM);
			return;
		}
		join_replied(req, status, &r, &a);
		gq__free(a.base);
		return;
	}
	if (status == 0 && op == GQ__GROUP_SYNC) {
		req->u.group.assignment =
			rd_bytes(&r, &req->u.group.assignment_len);
	} else if (status == 0 &&
		   (op == GQ__GROUP_COMMIT || op == GQ__GROUP_OFFSETS)) {
		if (gq__rd_le32(&r) != req->u.group.n)
			r.bad = true;
		for (size_t i = 0; i < req->u.group.n && !r.bad; i++) {
			struct gq_group_offset *o = &req->u.group.offsets[i];

			if (op == GQ__GROUP_OFFSETS)
				o->offset = (gq_offset)gq__rd_le64(&r);
			o->status = (int)(int32_t)gq__rd_le32(&r);
		}
	}
	gq__req_complete(req, r.bad ? GQ_EIO : status);
}

void
gq__group_forward(struct gq_node *node, struct gq__req *req,
		  int32_t coordinator)
{
	const struct gq__broker *b =
		gq__node_broker_find(node, (uint64_t)coordinator);
	struct gq__buf body = GQ__BUF_INIT;
	uint32_t timeout = FORWARD_TIMEOUT_MS;
	int rv;

	if (b == NULL || b->raft_address[0] == '\0') {
		snprintf(req->errmsg, sizeof(req->errmsg),
			 "group %.100s is coordinated by node %d, whose "
			 "address is not known yet",
			 req->u.group.group, coordinator);
		gq__req_complete(req, GQ_ENOTCOORD);
		return;
	}
	if (encode_request(req, &body) != 0) {
		gq__buf_free(&body);
		gq__req_complete(req, GQ_ENOMEM);
		return;
	}
	if (req->u.group.op == GQ__GROUP_JOIN) {
		int32_t t = req->u.group.join.rebalance_timeout_ms > 0
				    ? req->u.group.join.rebalance_timeout_ms
				    : req->u.group.join.session_timeout_ms;

		timeout += t > 0 ? (uint32_t)t : 0;
	} else if (req->u.group.op == GQ__GROUP_SYNC) {
		timeout += SYNC_TIMEOUT_MS;
	}
	rv = gq__rpc_send(node->rpc, b->id, b->raft_address, GQ__RPC_GROUP,
			  body.base, body.len, timeout, forward_replied, req);
	gq__buf_free(&body);
	if (rv != 0)
		gq__req_complete(req, rv);
}

/* ---- the serving side -------------------------------------------------- */

/* A call being served: what the request borrows lives here (its
 * async_arg). */
struct served {
	struct gq__rpc_call *call;
	char *arena;
	struct gq_group_offset *offsets; /* COMMIT */
};

static void
served_free(struct served *s)
{
	gq__free(s->arena);
	gq__free(s->offsets);
	gq__free(s);
}

static int
encode_joined(const struct gq_group_joined *j, struct gq__buf *b)
{
	int rv = gq__buf_put_le32(b, (uint32_t)j->generation) |
		 put_nstr(b, j->protocol) | put_nstr(b, j->leader) |
		 put_nstr(b, j->member_id) |
		 gq__buf_put_le32(b, (uint32_t)j->n_members);

	for (size_t i = 0; i < j->n_members; i++)
		rv |= put_nstr(b, j->members[i].member_id) |
		      put_nstr(b, j->members[i].group_instance_id) |
		      put_bytes(b, j->members[i].metadata, j->members[i].len);
	return rv;
}

/* The request completed here: answer the call. */
static void
served_done(struct gq__req *req)
{
	struct served *s = req->async_arg;
	struct gq__buf reply = GQ__BUF_INIT;
	int status = req->status;
	int rv = 0;

	switch (req->u.group.op) {
	case GQ__GROUP_JOIN: {
		struct gq_group_joined none;

		rv = encode_joined(gq__group_joined(req, &none), &reply);
		break;
	}
	case GQ__GROUP_SYNC:
		if (status == 0)
			rv = put_bytes(&reply, req->u.group.assignment,
				       req->u.group.assignment_len);
		break;
	case GQ__GROUP_COMMIT:
	case GQ__GROUP_OFFSETS:
		if (status != 0)
			break;
		rv = gq__buf_put_le32(&reply, (uint32_t)req->u.group.n);
		for (size_t i = 0; i < req->u.group.n; i++) {
			const struct gq_group_offset *o =
				&req->u.group.offsets[i];

			if (req->u.group.op == GQ__GROUP_OFFSETS)
				rv |= gq__buf_put_le64(&reply,
						       (uint64_t)o->offset);
			rv |= gq__buf_put_le32(&reply, (uint32_t)o->status);
		}
		break;
	default:
		break;
	}
	if (rv != 0) {
		reply.len = 0;
		status = GQ_ENOMEM;
	}
	gq__rpc_reply(s->call, status, reply.base, reply.len);
	gq__buf_free(&reply);
	served_free(s);
	gq__group_req_free(req);
}

/* Decode a JOIN's own fields and make its request. */
static int
serve_join(struct gq__rd *r, struct arena *a, const char *group,
	   const char *member_id, const char *instance_id, struct gq__req **out)
{
	struct gq_group_protocol protos[GQ__GROUP_PROTOCOLS_MAX];
	struct gq_group_join j;

	memset(&j, 0, sizeof(j));
	j.group = group;
	j.member_id = member_id;
	j.group_instance_id = instance_id;
	j.client_id = rd_nstr(r, a);
	j.client_host = rd_nstr(r, a);
	j.protocol_type = rd_nstr(r, a);
	j.session_timeout_ms = (int32_t)gq__rd_le32(r);
	j.rebalance_timeout_ms = (int32_t)gq__rd_le32(r);
	j.require_member_id = gq__rd_u8(r) != 0;
	j.n_protocols = gq__rd_le16(r);
	if (j.n_protocols > GQ__GROUP_PROTOCOLS_MAX)
		return GQ_EINVAL;
	for (size_t i = 0; i < j.n_protocols; i++) {
		protos[i].name = rd_nstr(r, a);
		protos[i].metadata = rd_bytes(r, &protos[i].len);
	}
	j.protocols = protos;
	if (r->bad || r->left != 0)
		return GQ_EINVAL;
	return gq__group_join_req(&j, out);
}

/* Decode a SYNC's assignments and make its request. */
static int
serve_sync(struct gq__rd *r, struct arena *a, const char *group,
	   const char *member_id, const char *instance_id, int32_t generation,
	   struct gq__req **out)
{
	struct gq_group_assignment *as = NULL;
	size_t n = gq__rd_le32(r);
	int rv;

	/* Each takes six bytes at least. */
	if (r->bad || n > r->left / 6)
		return GQ_EINVAL;
	if (n > 0 && (as = gq__calloc(n, sizeof(*as))) == NULL)
		return GQ_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		as[i].member_id = rd_nstr(r, a);
		as[i].data = rd_bytes(r, &as[i].len);
	}
	rv = r->bad || r->left != 0
		     ? GQ_EINVAL
		     : gq__group_member_req(GQ__GROUP_SYNC, group, member_id,
					    instance_id, generation, n, as,
					    out);
	gq__free(as);
	return rv;
}

/* Decode a COMMIT's offsets into @s and make its request. */
static int
serve_commit(struct gq__rd *r, struct arena *a, struct served *s,
	     const char *group, const char *member_id, int32_t generation,
	     struct gq__req **out)
{
	size_t n = gq__rd_le32(r);
	int rv;

	/* Each takes sixteen bytes at least. */
	if (r->bad || n > r->left / 16)
		return GQ_EINVAL;
	if (n > 0 && (s->offsets = gq__calloc(n, sizeof(*s->offsets))) == NULL)
		return GQ_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct gq_group_offset *o = &s->offsets[i];

		o->topic = rd_nstr(r, a);
		o->partition = (int32_t)gq__rd_le32(r);
		o->offset = (gq_offset)gq__rd_le64(r);
		o->metadata = rd_nstr(r, a);
	}
	if (r->bad || r->left != 0)
		return GQ_EINVAL;
	gq__group_check_offsets(s->offsets, n);
	if ((rv = gq__group_member_req(GQ__GROUP_COMMIT, group, member_id, NULL,
				       generation, 0, NULL, out)) != 0)
		return rv;
	(*out)->u.group.offsets = s->offsets;
	(*out)->u.group.n = n;
	return 0;
}

/* Decode an OFFSETS list into @s and make its request. */
static int
serve_offsets(struct gq__rd *r, struct arena *a, struct served *s,
	      const char *group, struct gq__req **out)
{
	size_t n = gq__rd_le32(r);
	int rv;

	/* Each takes six bytes at least. */
	if (r->bad || n > r->left / 6)
		return GQ_EINVAL;
	if (n > 0 && (s->offsets = gq__calloc(n, sizeof(*s->offsets))) == NULL)
		return GQ_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s->offsets[i].topic = rd_nstr(r, a);
		s->offsets[i].partition = (int32_t)gq__rd_le32(r);
	}
	if (r->bad || r->left != 0)
		return GQ_EINVAL;
	if ((rv = gq__group_member_req(GQ__GROUP_OFFSETS, group, "", NULL, -1,
				       0, NULL, out)) != 0)
		return rv;
	(*out)->u.group.offsets = s->offsets;
	(*out)->u.group.n = n;
	return 0;
}

void
gq__group_forward_serve(struct gq_node *node, struct gq__rpc_call *call,
			const uint8_t *body, size_t len)
{
	struct gq__rd r = gq__rd_init(body, len);
	struct served *s = gq__calloc(1, sizeof(*s));
	struct arena a = { NULL, 0 };
	const char *group, *member_id, *instance_id;
	struct gq__req *req = NULL;
	int32_t generation;
	uint8_t op;
	int rv;

	if (s == NULL || (a.base = gq__malloc(len + 1)) == NULL) {
		gq__free(s);
		gq__rpc_reply(call, GQ_ENOMEM, NULL, 0);
		return;
	}
	s->call = call;
	s->arena = a.base;
	op = gq__rd_u8(&r);
	group = rd_nstr(&r, &a);
	member_id = rd_nstr(&r, &a);
	instance_id = rd_nstr(&r, &a);
	generation = (int32_t)gq__rd_le32(&r);
	if (r.bad) {
		rv = GQ_EINVAL;
	} else if (op == GQ__GROUP_JOIN) {
		rv = serve_join(&r, &a, group, member_id, instance_id, &req);
	} else if (op == GQ__GROUP_SYNC) {
		rv = serve_sync(&r, &a, group, member_id, instance_id,
				generation, &req);
	} else if (op == GQ__GROUP_COMMIT) {
		rv = serve_commit(&r, &a, s, group, member_id, generation,
				  &req);
	} else if (op == GQ__GROUP_OFFSETS) {
		rv = serve_offsets(&r, &a, s, group, &req);
	} else if ((op == GQ__GROUP_HEARTBEAT || op == GQ__GROUP_LEAVE) &&
		   r.left == 0) {
		rv = gq__group_member_req((enum gq__group_op)op, group,
					  member_id, NULL, generation, 0, NULL,
					  &req);
	} else {
		rv = GQ_EINVAL;
	}
	/* This node is closing.  Not GQ_ECLOSED: the caller's own node is
	 * fine, and its consumer would take that as the end of it; a
	 * coordinator going away means looking for the next one. */
	if (rv == 0 && node->coord == NULL)
		rv = GQ_ENOTCOORD;
	if (rv != 0) {
		if (req != NULL)
			gq__group_req_free(req);
		served_free(s);
		gq__rpc_reply(call, rv, NULL, 0);
		return;
	}
	req->u.group.forwarded = true;
	req->done = served_done;
	req->async_arg = s;
	gq__coord_dispatch(node->coord, req);
}
