/* SPDX-License-Identifier: MIT */
/*
 * remote_group.c - the consumer-group calls of a remote node (remote.h):
 * join, sync, heartbeat, leave, commit and offsets become JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, OffsetCommit and OffsetFetch to the
 * group's coordinator, which FindCoordinator names.  These are all the
 * embedded group consumer (consumer.c) needs, so it works on a remote node
 * unchanged.
 *
 * The coordinator of each group is remembered (a small table, the oldest
 * entry replaced) until an answer says it moved (NOT_COORDINATOR,
 * COORDINATOR_NOT_AVAILABLE) or its connection fails; the request then
 * waits for fresh metadata and asks again, as a stale partition leader
 * does in remote.c.
 */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "heap.h"
#include "node.h"
#include "remote_int.h"

/* The versions gqd serves last (KAFKA-PROTOCOL.md section 1.3). */
#define V_FIND_COORDINATOR 2
#define V_JOIN_GROUP       5
#define V_SYNC_GROUP       3
#define V_HEARTBEAT        3
#define V_LEAVE_GROUP      1
#define V_OFFSET_COMMIT    7
#define V_OFFSET_FETCH     5

/* A Kafka group error as the embedded calls report it. */
static int
group_error(int16_t err)
{
	switch (err) {
	case GQK_ERR_MEMBER_ID_REQUIRED:
		return GQ_EMEMBERID;
	case GQK_ERR_UNKNOWN_MEMBER_ID:
		return GQ_EMEMBER;
	case GQK_ERR_ILLEGAL_GENERATION:
		return GQ_EGENERATION;
	case GQK_ERR_REBALANCE_IN_PROGRESS:
		return GQ_EREBALANCE;
	case GQK_ERR_INCONSISTENT_GROUP_PROTOCOL:
		return GQ_EGROUPPROTOCOL;
	case GQK_ERR_INVALID_SESSION_TIMEOUT:
		return GQ_ESESSION;
	case GQK_ERR_FENCED_INSTANCE_ID:
		return GQ_EINSTANCE;
	case GQK_ERR_INVALID_GROUP_ID:
		return GQ_EBADNAME;
	case GQK_ERR_NOT_COORDINATOR:
		return GQ_ENOTCOORD;
	case GQK_ERR_COORDINATOR_NOT_AVAILABLE:
	case GQK_ERR_COORDINATOR_LOAD_IN_PROGRESS:
		return GQ_ENOTREADY;
	case GQK_ERR_OFFSET_METADATA_TOO_LARGE:
		return GQ_ETOOBIG;
	default:
		return gq__r_from_kafka(err);
	}
}

/* Whether @err says to ask for the coordinator again. */
static bool
coordinator_moved(int16_t err)
{
	return err == GQK_ERR_NOT_COORDINATOR ||
	       err == GQK_ERR_COORDINATOR_NOT_AVAILABLE ||
	       err == GQK_ERR_COORDINATOR_LOAD_IN_PROGRESS;
}

/* ---- the coordinator table ---------------------------------------------- */

static struct gq__r_coord *
coord_find(struct gq__remote *r, const char *group)
{
	for (size_t i = 0; i < GQ__R_COORDS; i++)
		if (strcmp(r->coords[i].group, group) == 0)
			return &r->coords[i];
	return NULL;
}

static void
coord_put(struct gq__remote *r, const char *group, int32_t broker)
{
	struct gq__r_coord *c = coord_find(r, group), *oldest = &r->coords[0];

	for (size_t i = 0; c == NULL && i < GQ__R_COORDS; i++)
		if (r->coords[i].used < oldest->used)
			oldest = &r->coords[i];
	if (c == NULL) {
		c = oldest;
		snprintf(c->group, sizeof(c->group), "%s", group);
	}
	c->broker = broker;
	c->used = gq__r_now(r);
}

static void
coord_forget(struct gq__remote *r, const char *group)
{
	struct gq__r_coord *c = coord_find(r, group);

	if (c != NULL)
		memset(c, 0, sizeof(*c));
}

/* ---- the calls ---------------------------------------------------------- */

static void send_op(struct gq__remote *r, struct rbroker *b,
		    struct gq__req *req);

static void
found(struct call *c, int status, const union gqk_response *resp)
{
	struct gq__req *req = c->req;
	const struct gqk_find_coordinator_resp *f;
	struct rbroker *b;

	if (status != 0) {
		gq__r_park(c->r, req, GQ_ENOTREADY);
		return;
	}
	f = &resp->find_coordinator;
	if (f->error_code != 0) {
		gq__r_set_kafka_errmsg(req, f->error_code, "find coordinator");
		if (coordinator_moved(f->error_code))
			gq__r_park(c->r, req, group_error(f->error_code));
		else
			gq__req_complete(req, group_error(f->error_code));
		return;
	}
	coord_put(c->r, req->u.group.group, f->node_id);
	/* A broker the metadata does not list yet: refresh, then retry. */
	if ((b = gq__r_broker_by_id(c->r, f->node_id)) == NULL)
		gq__r_park(c->r, req, GQ_ENOTREADY);
	else
		send_op(c->r, b, req);
}

static void
find(struct gq__remote *r, struct gq__req *req)
{
	struct rbroker *b = gq__r_any_broker(r);
	union gqk_request body;

	memset(&body, 0, sizeof(body));
	body.find_coordinator.key = gqk_str_from(req->u.group.group);
	body.find_coordinator.key_type = 0; /* a group */
	if (b == NULL ||
	    gq__r_call(r, b, req, GQK_FIND_COORDINATOR, V_FIND_COORDINATOR,
		       &body, r->request_timeout_ms, found) != 0)
		gq__r_park(r, req, GQ_ENOTREADY);
}

/* The answer's error for @req: 0; or the request is taken care of (retried
 * at a new coordinator, or completed with the error) and true is
 * returned. */
static bool
failed(struct call *c, int status, int16_t err, const char *what)
{
	struct gq__req *req = c->req;

	if (status != 0 || coordinator_moved(err)) {
		coord_forget(c->r, req->u.group.group);
		/* A commit sent and lost may have been stored: unknown. */
		if (status != 0 && status != GQ_ECANCELED &&
		    req->u.group.op == GQ__GROUP_COMMIT) {
			gq__errmsg_set(req->errmsg,
				       "no answer from the coordinator");
			gq__req_complete(req, GQ_EUNKNOWN);
		} else {
			gq__r_park(c->r, req,
				   status != 0 ? GQ_ENOTCOORD
					       : group_error(err));
		}
		return true;
	}
	if (err != 0) {
		gq__r_set_kafka_errmsg(req, err, what);
		gq__req_complete(req, group_error(err));
		return true;
	}
	return false;
}

/* Copy a wire string into @arena as a C string (NULL for null). */
static const char *
cstr(struct gqk_arena *a, struct gqk_str s)
{
	char *p;

	if (s.len < 0)
		return NULL;
	if ((p = gqk_arena_alloc(a, (size_t)s.len + 1)) == NULL)
		return NULL;
	memcpy(p, s.p, (size_t)s.len);
	p[s.len] = '\0';
	return p;
}

static void
joined(struct call *c, int status, const union gqk_response *resp)
{
	const struct gqk_join_group_resp *jr;
	struct gq__req *req = c->req;
	struct gq_group_member *m = NULL;
	struct gq_group_joined j;
	struct gqk_arena a;
	int rv;

	if (status != 0 || coordinator_moved(resp->join_group.error_code)) {
		failed(c, status, status == 0 ? resp->join_group.error_code : 0,
		       "join");
		return;
	}
	jr = &resp->join_group;
	gqk_arena_init(&a, 0);
	memset(&j, 0, sizeof(j));
	j.generation = jr->generation_id;
	j.protocol = cstr(&a, jr->protocol_name);
	j.leader = cstr(&a, jr->leader);
	j.member_id = cstr(&a, jr->member_id);
	rv = group_error(jr->error_code);
	if (jr->n_members > 0 &&
	    (m = gq__calloc((size_t)jr->n_members, sizeof(*m))) == NULL)
		rv = GQ_ENOMEM;
	for (int32_t i = 0; m != NULL && i < jr->n_members; i++) {
		m[i].member_id = cstr(&a, jr->members[i].member_id);
		m[i].group_instance_id =
			cstr(&a, jr->members[i].group_instance_id);
		m[i].metadata = jr->members[i].metadata.p;
		m[i].len = jr->members[i].metadata.len > 0
				   ? (size_t)jr->members[i].metadata.len
				   : 0;
	}
	if (j.leader == NULL)
		j.leader = "";
	if (j.member_id == NULL)
		j.member_id = "";
	j.n_members = m != NULL ? (size_t)jr->n_members : 0;
	j.members = m;
	if (jr->error_code != 0)
		gq__r_set_kafka_errmsg(req, jr->error_code, "join");
	/* Lent to the callback, which runs within the completion. */
	req->u.group.joined = &j;
	gq__req_complete(req, rv);
	gq__free(m);
	gqk_arena_free(&a);
}

static void
synced(struct call *c, int status, const union gqk_response *resp)
{
	const struct gqk_sync_group_resp *sr = &resp->sync_group;
	struct gq__req *req = c->req;

	if (failed(c, status, status == 0 ? sr->error_code : 0, "sync"))
		return;
	req->u.group.assignment = sr->assignment.p;
	req->u.group.assignment_len =
		sr->assignment.len > 0 ? (size_t)sr->assignment.len : 0;
	gq__req_complete(req, 0);
}

static void
answered(struct call *c, int status, const union gqk_response *resp)
{
	int16_t err = 0;

	if (status == 0)
		err = c->req->u.group.op == GQ__GROUP_HEARTBEAT
			      ? resp->heartbeat.error_code
			      : resp->leave_group.error_code;
	if (!failed(c, status, err,
		    c->req->u.group.op == GQ__GROUP_HEARTBEAT ? "heartbeat"
							      : "leave"))
		gq__req_complete(c->req, 0);
}

/* The answer for offsets[i] of @req in an OffsetCommit or OffsetFetch
 * answer's topics (searched by name and partition). */
static void
offsets_answered(struct gq__req *req, const union gqk_response *resp,
		 bool commit)
{
	for (size_t i = 0; i < req->u.group.n; i++) {
		struct gq_group_offset *o = &req->u.group.offsets[i];
		int32_t nt = commit ? resp->offset_commit.n_topics
				    : resp->offset_fetch.n_topics;

		o->status = GQ_EINTERNAL; /* unless the answer has it */
		for (int32_t t = 0; t < nt; t++) {
			struct gqk_str name =
				commit ? resp->offset_commit.topics[t].name
				       : resp->offset_fetch.topics[t].name;
			int32_t np = commit ? resp->offset_commit.topics[t]
						      .n_partitions
					    : resp->offset_fetch.topics[t]
						      .n_partitions;

			if (!gqk_str_eq(name, o->topic))
				continue;
			for (int32_t p = 0; p < np; p++) {
				if (commit) {
					const struct gqk_offset_commit_resp_partition
						*cp = &resp->offset_commit
							       .topics[t]
							       .partitions[p];

					if (cp->partition_index == o->partition)
						o->status = group_error(
							cp->error_code);
				} else {
					const struct gqk_offset_fetch_resp_partition
						*fp = &resp->offset_fetch
							       .topics[t]
							       .partitions[p];

					if (fp->partition_index != o->partition)
						continue;
					o->status = group_error(fp->error_code);
					o->offset = fp->committed_offset;
				}
			}
		}
	}
}

static void
committed(struct call *c, int status, const union gqk_response *resp)
{
	struct gq__req *req = c->req;
	int16_t err = 0;

	/* A commit whose generation or member is stale fails as a whole,
	 * as the embedded coordinator's does. */
	if (status == 0 && resp->offset_commit.n_topics > 0 &&
	    resp->offset_commit.topics[0].n_partitions > 0)
		err = resp->offset_commit.topics[0].partitions[0].error_code;
	if (failed(c, status,
		   coordinator_moved(err) ||
				   err == GQK_ERR_ILLEGAL_GENERATION ||
				   err == GQK_ERR_UNKNOWN_MEMBER_ID ||
				   err == GQK_ERR_REBALANCE_IN_PROGRESS
			   ? err
			   : 0,
		   "commit"))
		return;
	offsets_answered(req, resp, true);
	gq__req_complete(req, 0);
}

static void
fetched(struct call *c, int status, const union gqk_response *resp)
{
	if (failed(c, status, status == 0 ? resp->offset_fetch.error_code : 0,
		   "offset fetch"))
		return;
	offsets_answered(c->req, resp, false);
	gq__req_complete(c->req, 0);
}

/*
 * The topics of @req's offsets, grouped for OffsetCommit or OffsetFetch in
 * @a: one topic entry per name, in first-seen order.  NULL when out of
 * memory.
 */
static bool
offset_topics(struct gq__req *req, struct gqk_arena *a, bool commit,
	      union gqk_request *body)
{
	size_t n = req->u.group.n;
	struct gqk_offset_commit_req_topic *ct = NULL;
	struct gqk_offset_fetch_req_topic *ft = NULL;
	int32_t nt = 0;

	if (commit)
		ct = gqk_arena_alloc(a, (n > 0 ? n : 1) * sizeof(*ct));
	else
		ft = gqk_arena_alloc(a, (n > 0 ? n : 1) * sizeof(*ft));
	if (ct == NULL && ft == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct gq_group_offset *o = &req->u.group.offsets[i];
		int32_t t = 0;
		size_t count = 0;

		while (t < nt &&
		       !gqk_str_eq(commit ? ct[t].name : ft[t].name, o->topic))
			t++;
		if (t < nt)
			continue; /* filled when first seen */
		nt++;
		for (size_t k = i; k < n; k++)
			count += strcmp(req->u.group.offsets[k].topic,
					o->topic) == 0;
		if (commit) {
			ct[t].name = gqk_str_from(o->topic);
			ct[t].partitions = gqk_arena_alloc(
				a, count * sizeof(*ct[t].partitions));
			if (ct[t].partitions == NULL)
				return false;
		} else {
			ft[t].name = gqk_str_from(o->topic);
			ft[t].partition_indexes = gqk_arena_alloc(
				a, count * sizeof(*ft[t].partition_indexes));
			if (ft[t].partition_indexes == NULL)
				return false;
		}
		for (size_t k = i; k < n; k++) {
			const struct gq_group_offset *q =
				&req->u.group.offsets[k];

			if (strcmp(q->topic, o->topic) != 0)
				continue;
			if (commit) {
				struct gqk_offset_commit_req_partition *p =
					&ct[t].partitions[ct[t].n_partitions++];

				p->partition_index = q->partition;
				p->committed_offset = q->offset;
				p->committed_leader_epoch = -1;
				p->committed_metadata =
					gqk_str_from(q->metadata);
			} else {
				ft[t].partition_indexes
					[ft[t].n_partition_indexes++] =
					q->partition;
			}
		}
	}
	if (commit) {
		body->offset_commit.n_topics = nt;
		body->offset_commit.topics = ct;
	} else {
		body->offset_fetch.n_topics = nt;
		body->offset_fetch.topics = ft;
	}
	return true;
}

static void
send_op(struct gq__remote *r, struct rbroker *b, struct gq__req *req)
{
	const struct gq_group_join *jn = &req->u.group.join;
	struct gqk_join_group_req_protocol *protos = NULL;
	struct gqk_sync_group_req_assignment *as = NULL;
	struct gqk_str group = gqk_str_from(req->u.group.group);
	struct gqk_str member = gqk_str_from(req->u.group.member_id);
	struct gqk_str instance = gqk_str_from(req->u.group.instance_id);
	union gqk_request body;
	struct gqk_arena a;
	int16_t api = 0, version = 0;
	call_done done = NULL;
	int rv = 0;

	gqk_arena_init(&a, 0);
	memset(&body, 0, sizeof(body));
	switch (req->u.group.op) {
	case GQ__GROUP_JOIN:
		protos = gqk_arena_alloc(&a, (jn->n_protocols + 1) *
						     sizeof(*protos));
		if (protos == NULL) {
			rv = GQ_ENOMEM;
			break;
		}
		for (size_t i = 0; i < jn->n_protocols; i++) {
			protos[i].name = gqk_str_from(jn->protocols[i].name);
			protos[i].metadata = (struct gqk_bytes){
				jn->protocols[i].metadata,
				(int32_t)jn->protocols[i].len
			};
		}
		body.join_group.group_id = group;
		body.join_group.session_timeout_ms = jn->session_timeout_ms;
		body.join_group.rebalance_timeout_ms =
			jn->rebalance_timeout_ms > 0 ? jn->rebalance_timeout_ms
						     : jn->session_timeout_ms;
		body.join_group.member_id = gqk_str_from(
			jn->member_id != NULL ? jn->member_id : "");
		body.join_group.group_instance_id =
			jn->group_instance_id != NULL &&
					jn->group_instance_id[0] != '\0'
				? gqk_str_from(jn->group_instance_id)
				: GQK_STR_NULL;
		body.join_group.protocol_type = gqk_str_from(jn->protocol_type);
		body.join_group.n_protocols = (int32_t)jn->n_protocols;
		body.join_group.protocols = protos;
		api = GQK_JOIN_GROUP;
		version = V_JOIN_GROUP;
		done = joined;
		break;
	case GQ__GROUP_SYNC:
		as = gqk_arena_alloc(&a, (req->u.group.n + 1) * sizeof(*as));
		if (as == NULL) {
			rv = GQ_ENOMEM;
			break;
		}
		for (size_t i = 0; i < req->u.group.n; i++) {
			const struct gq_group_assignment *x =
				&req->u.group.assignments[i];

			as[i].member_id = gqk_str_from(x->member_id);
			as[i].assignment =
				(struct gqk_bytes){ x->data, (int32_t)x->len };
		}
		body.sync_group.group_id = group;
		body.sync_group.generation_id = req->u.group.generation;
		body.sync_group.member_id = member;
		body.sync_group.group_instance_id = instance;
		body.sync_group.n_assignments = (int32_t)req->u.group.n;
		body.sync_group.assignments = as;
		api = GQK_SYNC_GROUP;
		version = V_SYNC_GROUP;
		done = synced;
		break;
	case GQ__GROUP_HEARTBEAT:
		body.heartbeat.group_id = group;
		body.heartbeat.generation_id = req->u.group.generation;
		body.heartbeat.member_id = member;
		body.heartbeat.group_instance_id = instance;
		api = GQK_HEARTBEAT;
		version = V_HEARTBEAT;
		done = answered;
		break;
	case GQ__GROUP_LEAVE:
		body.leave_group.group_id = group;
		body.leave_group.member_id = member;
		api = GQK_LEAVE_GROUP;
		version = V_LEAVE_GROUP;
		done = answered;
		break;
	case GQ__GROUP_COMMIT:
		if (!offset_topics(req, &a, true, &body)) {
			rv = GQ_ENOMEM;
			break;
		}
		body.offset_commit.group_id = group;
		body.offset_commit.generation_id = req->u.group.generation;
		body.offset_commit.member_id = member;
		body.offset_commit.group_instance_id = instance;
		body.offset_commit.retention_time_ms = -1;
		api = GQK_OFFSET_COMMIT;
		version = V_OFFSET_COMMIT;
		done = committed;
		break;
	case GQ__GROUP_OFFSETS:
		if (!offset_topics(req, &a, false, &body)) {
			rv = GQ_ENOMEM;
			break;
		}
		body.offset_fetch.group_id = group;
		api = GQK_OFFSET_FETCH;
		version = V_OFFSET_FETCH;
		done = fetched;
		break;
	default:
		rv = GQ_EUNSUPPORTED;
		break;
	}
	if (rv == 0) {
		/* The request (and what @a holds) is encoded into the frame
		 * before gq__r_call() returns. */
		if (gq__r_call(r, b, req, api, version, &body,
			       (uint32_t)gq__r_budget_ms(r, req), done) != 0) {
			coord_forget(r, req->u.group.group);
			gq__r_park(r, req, GQ_ENOTCOORD);
		}
	} else {
		if (rv == GQ_EUNSUPPORTED)
			gq__errmsg_set(req->errmsg,
				       "not available on a node connected "
				       "to remote brokers yet");
		gq__req_complete(req, rv);
	}
	gqk_arena_free(&a);
}

void
gq__remote_group(struct gq__remote *r, struct gq__req *req)
{
	struct gq__r_coord *c;
	struct rbroker *b;

	switch (req->u.group.op) {
	case GQ__GROUP_JOIN:
	case GQ__GROUP_SYNC:
	case GQ__GROUP_HEARTBEAT:
	case GQ__GROUP_LEAVE:
	case GQ__GROUP_COMMIT:
	case GQ__GROUP_OFFSETS:
		break;
	default:
		gq__errmsg_set(req->errmsg,
			       "not available on a node connected to remote "
			       "brokers yet");
		gq__req_complete(req, GQ_EUNSUPPORTED);
		return;
	}
	c = coord_find(r, req->u.group.group);
	b = c != NULL ? gq__r_broker_by_id(r, c->broker) : NULL;
	if (b == NULL) {
		find(r, req);
		return;
	}
	c->used = gq__r_now(r);
	send_op(r, b, req);
}
