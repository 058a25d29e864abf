/* SPDX-License-Identifier: MIT */
/*
 * handlers_group.c - the Kafka consumer-group APIs, served by the node's
 * group coordinator through the public API (goqueue.h, "Group
 * coordination"): FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups and ListGroups.
 *
 * The asynchronous calls complete on the node's loop thread: their
 * callbacks copy what the library lends them into the completion record
 * and post it to gqd's loop (gqd_async_post()), where the response is
 * encoded.  A JoinGroup or SyncGroup may stay parked for a whole rebalance
 * (seconds, up to the members' rebalance timeout): it is counted as a
 * parked operation, which the connection answers in order like a long-poll
 * Fetch, and which does not hold gqd's shutdown (server.h).
 *
 * One function, group_err(), maps the coordinator's errors to the Kafka
 * codes of KAFKA-PROTOCOL.md section 4.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "handlers.h"
#include "server.h"

/* The operations a group's AuthorizedOperations lists when asked (Kafka
 * AclOperation codes READ 3, DELETE 6, DESCRIBE 8): no authorizer, so
 * all of them. */
#define GROUP_OPERATIONS ((1 << 3) | (1 << 6) | (1 << 8))

/* ---- helpers -------------------------------------------------------- */

/* The Kafka code for a coordinator error.  @partition: the error of one
 * partition of an OffsetCommit, where a timeout means "maybe stored, try
 * again" rather than "find the coordinator again". */
static int16_t
group_err(int rv, bool partition)
{
	switch (rv) {
	case 0:
		return GQK_ERR_NONE;
	case GQ_ENOTCOORD:
		return GQK_ERR_NOT_COORDINATOR;
	case GQ_ENOTREADY:
		return GQK_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	case GQ_EMEMBER:
		return GQK_ERR_UNKNOWN_MEMBER_ID;
	case GQ_EGENERATION:
		return GQK_ERR_ILLEGAL_GENERATION;
	case GQ_EREBALANCE:
		return GQK_ERR_REBALANCE_IN_PROGRESS;
	case GQ_EMEMBERID:
		return GQK_ERR_MEMBER_ID_REQUIRED;
	case GQ_EGROUPPROTOCOL:
		return GQK_ERR_INCONSISTENT_GROUP_PROTOCOL;
	case GQ_ESESSION:
		return GQK_ERR_INVALID_SESSION_TIMEOUT;
	case GQ_EINSTANCE:
		return GQK_ERR_FENCED_INSTANCE_ID;
	case GQ_EBADNAME:
		return GQK_ERR_INVALID_GROUP_ID;
	case GQ_ENOTOPIC:
	case GQ_ENOPARTITION:
		return GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	case GQ_ETOOBIG:
		return GQK_ERR_OFFSET_METADATA_TOO_LARGE;
	case GQ_EINVAL:
		return GQK_ERR_INVALID_REQUEST;
	case GQ_ETIMEDOUT:
	case GQ_EUNKNOWN:
		return partition ? GQK_ERR_REQUEST_TIMED_OUT
				 : GQK_ERR_COORDINATOR_NOT_AVAILABLE;
	default: /* GQ_ECLOSED, GQ_ENOMEM, GQ_EIO...: clients look again */
		return GQK_ERR_COORDINATOR_NOT_AVAILABLE;
	}
}

/* @s as a C string in the request's arena: NULL for the null string, ""
 * with *@oom set when out of memory. */
static const char *
cstr(struct gqd_req *req, struct gqk_str s, bool *oom)
{
	char *p;

	if (gqk_str_is_null(s))
		return NULL;
	if ((p = gqk_arena_alloc(&req->arena, (size_t)s.len + 1)) == NULL) {
		*oom = true;
		return "";
	}
	memcpy(p, s.p, (size_t)s.len);
	return p;
}

/* A C string the library lent, for an encoder: NULL stays null. */
static struct gqk_str
str_or_empty(const char *s)
{
	return s != NULL ? gqk_str_from(s) : GQK_STR("");
}

/* A topic @name as a C string in the request's arena, or NULL when it
 * cannot be a topic's (that partition is answered
 * UNKNOWN_TOPIC_OR_PARTITION without asking the library). */
static const char *
topic_cstr(struct gqd_req *req, struct gqk_str name, bool *oom)
{
	char buf[GQ_NAME_MAX + 1];

	return gqd_name_of(name, buf) ? cstr(req, name, oom) : NULL;
}

/*
 * Kafka clients send group calls to the node FindCoordinator named; one that
 * reaches another node (a stale answer, or leadership moved since) is told
 * NOT_COORDINATOR so that the client asks again, as Kafka does.  The
 * library would forward the call, but then the node a client takes for its
 * coordinator and the one that answers drift apart: librdkafka 2.0.2 goes
 * on joining through the old node and, once an OffsetFetch there is
 * refused, never asks for its committed offsets again.
 */
static bool
coordinated_elsewhere(struct gqd_req *req, const char *group)
{
	int32_t coordinator;

	return gq_group_coordinator(gqd_req_node(req),
				    group != NULL ? group : "",
				    &coordinator) == 0 &&
	       coordinator != gqd_req_config(req)->broker_id;
}

/* ---- FindCoordinator -------------------------------------------------- */

static void
find_coordinator_respond(struct gqd_req *req, int16_t err, const char *msg,
			 const struct gqk_metadata_broker *b)
{
	struct gqk_find_coordinator_resp resp = { 0 };

	resp.error_code = err;
	resp.error_message =
		msg != NULL ? gqd_arena_str(req, msg) : GQK_STR_NULL;
	resp.node_id = b != NULL ? b->node_id : -1;
	resp.host = b != NULL ? b->host : GQK_STR("");
	resp.port = b != NULL ? b->port : -1;
	gqd_resp_begin(req);
	gqk_find_coordinator_resp_encode(&req->resp, req->hdr.api_version,
					 &resp);
	gqd_req_finish(req);
}

/* Where clients reach broker @id, as Metadata lists it; false when it is
 * not known to be alive with a client address. */
static bool
coordinator_endpoint(struct gqd_req *req, int32_t id,
		     struct gqk_metadata_broker *out)
{
	struct gq_broker_info *reg = NULL;
	size_t n_reg = 0;
	bool found = false;

	if (id == gqd_req_config(req)->broker_id)
		return gqd_broker_endpoint(req, NULL, out);
	if (gq_cluster_brokers(gqd_req_node(req), &reg, &n_reg) != 0)
		return false;
	for (size_t i = 0; i < n_reg && !found; i++)
		if (reg[i].id == id)
			found = gqd_broker_endpoint(req, &reg[i], out);
	gq_cluster_brokers_free(reg);
	return found;
}

void
gqd_handle_find_coordinator(struct gqd_req *req)
{
	const struct gqk_find_coordinator_req *fr = &req->body.find_coordinator;
	struct gqk_metadata_broker b = { 0 };
	const char *group;
	bool oom = false;
	int32_t id = -1;
	int rv;

	if (fr->key_type == GQK_COORDINATOR_TRANSACTION) {
		/* As InitProducerId does for a transactional id: a fatal,
		 * clear error rather than a coordinator never found. */
		find_coordinator_respond(
			req, GQK_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
			"transactions are not supported", NULL);
		return;
	}
	if (fr->key_type != GQK_COORDINATOR_GROUP) {
		find_coordinator_respond(req, GQK_ERR_INVALID_REQUEST,
					 "unknown key type", NULL);
		return;
	}
	group = cstr(req, fr->key, &oom);
	if (oom) {
		gqd_fail_close(req);
		return;
	}
	rv = gq_group_coordinator(gqd_req_node(req), group != NULL ? group : "",
				  &id);
	if (rv != 0) {
		/* GQ_ENOTREADY: no coordinator yet (the offsets topic is being
		 * created or elects a leader); clients ask again. */
		find_coordinator_respond(
			req,
			rv == GQ_ENOTREADY ? GQK_ERR_COORDINATOR_NOT_AVAILABLE
					   : group_err(rv, false),
			gq_strerror(rv), NULL);
		return;
	}
	if (!coordinator_endpoint(req, id, &b)) {
		find_coordinator_respond(req, GQK_ERR_COORDINATOR_NOT_AVAILABLE,
					 "coordinator not reachable", NULL);
		return;
	}
	find_coordinator_respond(req, GQK_ERR_NONE, NULL, &b);
}

/* ---- JoinGroup -------------------------------------------------------- */

/* A join's outcome, copied off the node's thread in one block. */
struct joined_copy {
	int32_t generation;
	const char *protocol; /* NULL when the library gave none */
	const char *leader;
	const char *member_id;
	size_t n_members;
	struct gq_group_member *members;
};

/* Reserve @len bytes (and a NUL with @nul) at *@at of @base, copying @p
 * there; with @base NULL only count.  NULL @p stays NULL. */
static void *
put(char *base, size_t *at, const void *p, size_t len, bool nul)
{
	char *out = base != NULL && p != NULL ? base + *at : NULL;

	if (out != NULL) {
		memcpy(out, p, len);
		if (nul)
			out[len] = '\0';
	}
	if (p != NULL)
		*at += (len + (nul ? 1 : 0) + 7) & ~(size_t)7;
	return out;
}

static const char *
put_str(char *base, size_t *at, const char *s)
{
	return s != NULL ? put(base, at, s, strlen(s), true) : NULL;
}

/* A copy of @j (lent to a join callback), or NULL when out of memory: a
 * sizing pass, then a copying one into a single allocation. */
static struct joined_copy *
joined_copy(const struct gq_group_joined *j)
{
	size_t head = (sizeof(struct joined_copy) + 7) & ~(size_t)7;
	struct joined_copy scratch, *c = NULL;
	char *base = NULL;
	size_t at = head;

	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && (base = calloc(1, at)) == NULL)
			return NULL;
		c = base != NULL ? (struct joined_copy *)(void *)base
				 : &scratch;
		c->members = base != NULL
				     ? (struct gq_group_member *)(void *)(base +
									  head)
				     : NULL;
		at = head + j->n_members * sizeof(struct gq_group_member);
		c->generation = j->generation;
		c->n_members = j->n_members;
		c->protocol = put_str(base, &at, j->protocol);
		c->leader = put_str(base, &at, j->leader);
		c->member_id = put_str(base, &at, j->member_id);
		for (size_t i = 0; i < j->n_members; i++) {
			const struct gq_group_member *m = &j->members[i];
			struct gq_group_member o;

			o.member_id = put_str(base, &at, m->member_id);
			o.group_instance_id =
				put_str(base, &at, m->group_instance_id);
			o.metadata = put(base, &at, m->metadata, m->len, false);
			o.len = m->metadata != NULL ? m->len : 0;
			if (base != NULL)
				c->members[i] = o;
		}
	}
	return c;
}

/* On the node's loop thread. */
static void
join_cb(void *arg, int status, const struct gq_group_joined *joined)
{
	struct gqd_async *a = arg;

	a->status = status;
	if (joined != NULL && (a->data = joined_copy(joined)) == NULL &&
	    status == 0)
		a->status = GQ_ENOMEM;
	gqd_async_post(a);
}

static void
join_respond(struct gqd_req *req, int status, const struct joined_copy *j)
{
	const struct gqk_join_group_req *jr = &req->body.join_group;
	struct gqk_join_group_resp resp = { 0 };
	struct gqk_join_group_resp_member *members = NULL;
	bool ok = status == 0 && j != NULL;

	resp.error_code = group_err(status, false);
	resp.generation_id = ok ? j->generation : -1;
	resp.protocol_name = str_or_empty(ok ? j->protocol : NULL);
	resp.leader = str_or_empty(ok ? j->leader : NULL);
	/* With an error Kafka echoes the member id sent, except for
	 * MEMBER_ID_REQUIRED, which carries the id to join with. */
	resp.member_id = j != NULL && j->member_id != NULL
				 ? gqk_str_from(j->member_id)
				 : jr->member_id;
	if (ok && j->n_members > 0) {
		members = gqd_arena(req, j->n_members, sizeof(*members));
		if (members == NULL) {
			gqd_fail_close(req);
			return;
		}
		for (size_t i = 0; i < j->n_members; i++) {
			const struct gq_group_member *m = &j->members[i];

			members[i].member_id = str_or_empty(m->member_id);
			members[i].group_instance_id =
				gqk_str_from(m->group_instance_id);
			members[i].metadata =
				(struct gqk_bytes){ m->metadata,
						    (int32_t)m->len };
		}
		resp.n_members = (int32_t)j->n_members;
		resp.members = members;
	}
	gqd_resp_begin(req);
	gqk_join_group_resp_encode(&req->resp, req->hdr.api_version, &resp);
	gqd_req_finish(req);
}

static void
join_done(struct gqd_async *a)
{
	join_respond(a->req, a->status, a->data);
	free(a->data);
}

/* The "/ip" Kafka reports as a member's client host. */
static const char *
client_host(struct gqd_req *req, bool *oom)
{
	const char *peer, *colon;
	size_t len;
	char *host;

	peer = gqd_req_peer(req);
	colon = strrchr(peer, ':');
	len = colon != NULL ? (size_t)(colon - peer) : strlen(peer);
	if ((host = gqd_arena(req, len + 2, 1)) == NULL) {
		*oom = true;
		return "";
	}
	host[0] = '/';
	memcpy(host + 1, peer, len);
	return host;
}

void
gqd_handle_join_group(struct gqd_req *req)
{
	const struct gqk_join_group_req *jr = &req->body.join_group;
	struct gq_group_join j = { 0 };
	struct gq_group_protocol *protos = NULL;
	struct gqd_async *a;
	bool oom = false;
	int rv;

	if (jr->n_protocols <= 0 || gqk_str_is_null(jr->protocol_type) ||
	    jr->protocol_type.len == 0) {
		/* Kafka: nothing to agree on. */
		join_respond(req, GQ_EGROUPPROTOCOL, NULL);
		return;
	}
	protos = gqd_arena(req, (size_t)jr->n_protocols, sizeof(*protos));
	if (protos == NULL) {
		gqd_fail_close(req);
		return;
	}
	for (int32_t i = 0; i < jr->n_protocols; i++) {
		const struct gqk_join_group_req_protocol *p = &jr->protocols[i];

		protos[i].name = cstr(req, p->name, &oom);
		protos[i].metadata = p->metadata.p;
		protos[i].len =
			p->metadata.len > 0 ? (size_t)p->metadata.len : 0;
	}
	j.group = cstr(req, jr->group_id, &oom);
	j.member_id = cstr(req, jr->member_id, &oom);
	j.group_instance_id = cstr(req, jr->group_instance_id, &oom);
	j.client_id = cstr(req, req->hdr.client_id, &oom);
	j.client_host = client_host(req, &oom);
	j.protocol_type = cstr(req, jr->protocol_type, &oom);
	j.session_timeout_ms = jr->session_timeout_ms;
	j.rebalance_timeout_ms = jr->rebalance_timeout_ms;
	/* KIP-394: from v4 a new member first gets its id, then joins. */
	j.require_member_id = req->hdr.api_version >= 4;
	j.n_protocols = (size_t)jr->n_protocols;
	j.protocols = protos;
	if (oom) {
		gqd_fail_close(req);
		return;
	}
	if (coordinated_elsewhere(req, j.group)) {
		join_respond(req, GQ_ENOTCOORD, NULL);
		return;
	}
	if ((a = gqd_async_new(req, join_done, NULL, 0)) == NULL) {
		gqd_fail_close(req);
		return;
	}
	a->parked = true;
	rv = gq_group_join_async(gqd_req_node(req), &j, join_cb, a);
	gqd_async_started(a, rv);
	if (rv != 0)
		join_respond(req, rv, NULL);
}

/* ---- SyncGroup -------------------------------------------------------- */

/* On the node's loop thread: copy the assignment lent for the call. */
static void
sync_cb(void *arg, int status, const void *assignment, size_t len)
{
	struct gqd_async *a = arg;

	a->status = status;
	if (status == 0 && len > 0) {
		if ((a->data = malloc(len)) == NULL) {
			a->status = GQ_ENOMEM;
		} else {
			memcpy(a->data, assignment, len);
			a->id = (int64_t)len;
		}
	}
	gqd_async_post(a);
}

static void
sync_respond(struct gqd_req *req, int status, const void *assignment,
	     size_t len)
{
	struct gqk_sync_group_resp resp = { 0 };

	resp.error_code = group_err(status, false);
	resp.assignment = (struct gqk_bytes){ status == 0 && len > 0
						      ? assignment
						      : (const uint8_t *)"",
					      status == 0 ? (int32_t)len : 0 };
	gqd_resp_begin(req);
	gqk_sync_group_resp_encode(&req->resp, req->hdr.api_version, &resp);
	gqd_req_finish(req);
}

static void
sync_done(struct gqd_async *a)
{
	sync_respond(a->req, a->status, a->data, (size_t)a->id);
	free(a->data);
}

void
gqd_handle_sync_group(struct gqd_req *req)
{
	const struct gqk_sync_group_req *sr = &req->body.sync_group;
	struct gq_group_assignment *as = NULL;
	const char *group, *member, *instance;
	struct gqd_async *a;
	bool oom = false;
	int rv;

	if (sr->n_assignments > 0 &&
	    (as = gqd_arena(req, (size_t)sr->n_assignments, sizeof(*as))) ==
		    NULL) {
		gqd_fail_close(req);
		return;
	}
	for (int32_t i = 0; i < sr->n_assignments; i++) {
		const struct gqk_sync_group_req_assignment *s =
			&sr->assignments[i];

		as[i].member_id = cstr(req, s->member_id, &oom);
		as[i].data = s->assignment.p;
		as[i].len =
			s->assignment.len > 0 ? (size_t)s->assignment.len : 0;
	}
	group = cstr(req, sr->group_id, &oom);
	member = cstr(req, sr->member_id, &oom);
	instance = cstr(req, sr->group_instance_id, &oom);
	if (oom) {
		gqd_fail_close(req);
		return;
	}
	if (coordinated_elsewhere(req, group)) {
		sync_respond(req, GQ_ENOTCOORD, NULL, 0);
		return;
	}
	if ((a = gqd_async_new(req, sync_done, NULL, 0)) == NULL) {
		gqd_fail_close(req);
		return;
	}
	a->parked = true;
	rv = gq_group_sync_async(gqd_req_node(req), group, sr->generation_id,
				 member, instance, (size_t)sr->n_assignments,
				 as, sync_cb, a);
	gqd_async_started(a, rv);
	if (rv != 0)
		sync_respond(req, rv, NULL, 0);
}

/* ---- Heartbeat and LeaveGroup ------------------------------------------ */

/* The two answers that are only an error code. */
static void
status_respond(struct gqd_req *req, int status)
{
	int16_t err = group_err(status, false);

	gqd_resp_begin(req);
	if (req->hdr.api_key == GQK_HEARTBEAT) {
		struct gqk_heartbeat_resp resp = { .error_code = err };

		gqk_heartbeat_resp_encode(&req->resp, req->hdr.api_version,
					  &resp);
	} else {
		struct gqk_leave_group_resp resp = { .error_code = err };

		gqk_leave_group_resp_encode(&req->resp, req->hdr.api_version,
					    &resp);
	}
	gqd_req_finish(req);
}

static void
status_done(struct gqd_async *a)
{
	status_respond(a->req, a->status);
}

/* Start a Heartbeat or a LeaveGroup of @member in @group. */
static void
member_op(struct gqd_req *req, struct gqk_str group, int32_t generation,
	  struct gqk_str member)
{
	const char *g, *m;
	struct gqd_async *a;
	bool oom = false;
	int rv;

	g = cstr(req, group, &oom);
	m = cstr(req, member, &oom);
	if (oom) {
		gqd_fail_close(req);
		return;
	}
	if (coordinated_elsewhere(req, g)) {
		status_respond(req, GQ_ENOTCOORD);
		return;
	}
	if ((a = gqd_async_new(req, status_done, NULL, 0)) == NULL) {
		gqd_fail_close(req);
		return;
	}
	rv = req->hdr.api_key == GQK_HEARTBEAT
		     ? gq_group_heartbeat_async(gqd_req_node(req), g,
						generation, m, gqd_async_done,
						a)
		     : gq_group_leave_async(gqd_req_node(req), g, m,
					    gqd_async_done, a);
	gqd_async_started(a, rv);
	if (rv != 0)
		status_respond(req, rv);
}

void
gqd_handle_heartbeat(struct gqd_req *req)
{
	const struct gqk_heartbeat_req *hr = &req->body.heartbeat;

	member_op(req, hr->group_id, hr->generation_id, hr->member_id);
}

void
gqd_handle_leave_group(struct gqd_req *req)
{
	const struct gqk_leave_group_req *lr = &req->body.leave_group;

	member_op(req, lr->group_id, -1, lr->member_id);
}

/* ---- OffsetCommit ----------------------------------------------------- */

/* A commit in flight: what the library fills in, and where each of its
 * statuses goes in the response. */
struct commit_job {
	struct gqk_offset_commit_resp resp;
	struct gq_group_offset *offsets;
	struct gqk_offset_commit_resp_partition **slots;
	size_t n;
};

static void
commit_respond(struct gqd_req *req, struct commit_job *job, int status)
{
	for (size_t k = 0; k < job->n; k++)
		job->slots[k]->error_code = group_err(
			status != 0 ? status : job->offsets[k].status, true);
	gqd_resp_begin(req);
	gqk_offset_commit_resp_encode(&req->resp, req->hdr.api_version,
				      &job->resp);
	gqd_req_finish(req);
}

/* On the node's loop thread: the statuses are in job->offsets. */
static void
commit_cb(void *arg, int status, struct gq_group_offset *offsets, size_t n)
{
	struct gqd_async *a = arg;

	(void)offsets;
	(void)n;
	a->status = status;
	gqd_async_post(a);
}

static void
commit_done(struct gqd_async *a)
{
	commit_respond(a->req, a->data, a->status);
}

/* The response skeleton of @cr, and the offsets to store (@job->n of
 * them, in the request's arena; partitions of topics that cannot exist
 * are answered UNKNOWN_TOPIC_OR_PARTITION here).  False when out of
 * memory. */
static bool
commit_job_build(struct gqd_req *req, const struct gqk_offset_commit_req *cr,
		 struct commit_job *job)
{
	struct gqk_offset_commit_resp_topic *topics;
	size_t total = 0;
	bool oom = false;

	for (int32_t i = 0; i < cr->n_topics; i++)
		total += (size_t)cr->topics[i].n_partitions;
	topics = gqd_arena(req, (size_t)cr->n_topics + 1, sizeof(*topics));
	job->offsets = gqd_arena(req, total + 1, sizeof(*job->offsets));
	job->slots = gqd_arena(req, total + 1, sizeof(*job->slots));
	if (topics == NULL || job->offsets == NULL || job->slots == NULL)
		return false;
	job->resp.n_topics = cr->n_topics;
	job->resp.topics = topics;
	for (int32_t i = 0; i < cr->n_topics; i++) {
		const struct gqk_offset_commit_req_topic *t = &cr->topics[i];
		struct gqk_offset_commit_resp_partition *parts;
		const char *topic;

		topic = topic_cstr(req, t->name, &oom);
		parts = gqd_arena(req, (size_t)t->n_partitions + 1,
				  sizeof(*parts));
		if (parts == NULL)
			return false;
		topics[i].name = t->name;
		topics[i].n_partitions = t->n_partitions;
		topics[i].partitions = parts;
		for (int32_t j = 0; j < t->n_partitions; j++) {
			const struct gqk_offset_commit_req_partition *p =
				&t->partitions[j];
			struct gq_group_offset *o = &job->offsets[job->n];

			parts[j].partition_index = p->partition_index;
			if (topic == NULL) {
				parts[j].error_code =
					GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			o->topic = topic;
			o->partition = p->partition_index;
			o->offset = p->committed_offset;
			o->metadata = cstr(req, p->committed_metadata, &oom);
			job->slots[job->n++] = &parts[j];
		}
	}
	return !oom;
}

void
gqd_handle_offset_commit(struct gqd_req *req)
{
	const struct gqk_offset_commit_req *cr = &req->body.offset_commit;
	struct commit_job *job;
	const char *group, *member;
	struct gqd_async *a;
	bool oom = false;
	int rv;

	/* Retention (v2-v4) is the broker's; leader epochs (v6) and the
	 * instance id (v7) are not checked. */
	job = gqd_arena(req, 1, sizeof(*job));
	group = cstr(req, cr->group_id, &oom);
	member = cstr(req, cr->member_id, &oom);
	if (job == NULL || oom || !commit_job_build(req, cr, job)) {
		gqd_fail_close(req);
		return;
	}
	if (coordinated_elsewhere(req, group)) {
		commit_respond(req, job, GQ_ENOTCOORD);
		return;
	}
	if (job->n == 0) {
		commit_respond(req, job, 0);
		return;
	}
	if ((a = gqd_async_new(req, commit_done, job, 0)) == NULL) {
		gqd_fail_close(req);
		return;
	}
	rv = gq_group_commit_async(gqd_req_node(req), group, cr->generation_id,
				   member != NULL ? member : "", job->offsets,
				   job->n, commit_cb, a);
	gqd_async_started(a, rv);
	if (rv != 0)
		commit_respond(req, job, rv);
}

/* ---- OffsetFetch ------------------------------------------------------ */

/* The topics of an OffsetFetch: those asked for, or (null topics) every
 * partition the group committed, as gq_group_lags() lists them. */
struct fetch_list {
	size_t n;
	struct gq_group_offset *offsets;
	int32_t n_topics;
	struct gqk_offset_fetch_resp_topic *topics;
	struct gqk_offset_fetch_resp_partition **slots;
};

/* The offsets of the topics @fr names.  False when out of memory. */
static bool
fetch_list_requested(struct gqd_req *req, const struct gqk_offset_fetch_req *fr,
		     struct fetch_list *fl)
{
	size_t total = 0;
	bool oom = false;

	for (int32_t i = 0; i < fr->n_topics; i++)
		total += (size_t)fr->topics[i].n_partition_indexes;
	fl->topics =
		gqd_arena(req, (size_t)fr->n_topics + 1, sizeof(*fl->topics));
	fl->offsets = gqd_arena(req, total + 1, sizeof(*fl->offsets));
	fl->slots = gqd_arena(req, total + 1, sizeof(*fl->slots));
	if (fl->topics == NULL || fl->offsets == NULL || fl->slots == NULL)
		return false;
	fl->n_topics = fr->n_topics;
	for (int32_t i = 0; i < fr->n_topics; i++) {
		const struct gqk_offset_fetch_req_topic *t = &fr->topics[i];
		struct gqk_offset_fetch_resp_partition *parts;
		const char *topic;

		topic = topic_cstr(req, t->name, &oom);
		parts = gqd_arena(req, (size_t)t->n_partition_indexes + 1,
				  sizeof(*parts));
		if (parts == NULL)
			return false;
		fl->topics[i].name = t->name;
		fl->topics[i].n_partitions = t->n_partition_indexes;
		fl->topics[i].partitions = parts;
		for (int32_t j = 0; j < t->n_partition_indexes; j++) {
			parts[j].partition_index = t->partition_indexes[j];
			parts[j].committed_offset = -1;
			parts[j].committed_leader_epoch = -1;
			parts[j].metadata = GQK_STR("");
			if (topic == NULL) {
				parts[j].error_code =
					GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			fl->offsets[fl->n].topic = topic;
			fl->offsets[fl->n].partition = t->partition_indexes[j];
			fl->slots[fl->n++] = &parts[j];
		}
	}
	return !oom;
}

/* Every partition @group committed, grouped by topic.  0, or the error of
 * gq_group_lags(). */
static int
fetch_list_all(struct gqd_req *req, const char *group, struct fetch_list *fl)
{
	struct gqk_offset_fetch_resp_partition *parts;
	struct gq_group_lag *lags = NULL;
	size_t count = 0;
	int rv;

	if ((rv = gq_group_lags(gqd_req_node(req), group, &lags, &count)) != 0)
		return rv;
	fl->topics = gqd_arena(req, count + 1, sizeof(*fl->topics));
	fl->offsets = gqd_arena(req, count + 1, sizeof(*fl->offsets));
	fl->slots = gqd_arena(req, count + 1, sizeof(*fl->slots));
	parts = gqd_arena(req, count + 1, sizeof(*parts));
	if (fl->topics == NULL || fl->offsets == NULL || fl->slots == NULL ||
	    parts == NULL) {
		gq_group_lag_free(lags);
		return GQ_ENOMEM;
	}
	for (size_t k = 0; k < count; k++) {
		struct gqk_offset_fetch_resp_topic *t;

		/* The list is by topic then partition: a topic's partitions
		 * are contiguous in @parts. */
		if (k == 0 || strcmp(lags[k].topic, lags[k - 1].topic) != 0) {
			t = &fl->topics[fl->n_topics++];
			t->name = gqd_arena_str(req, lags[k].topic);
			t->partitions = &parts[k];
		}
		fl->topics[fl->n_topics - 1].n_partitions++;
		parts[k].partition_index = lags[k].partition;
		parts[k].committed_offset = -1;
		parts[k].committed_leader_epoch = -1;
		parts[k].metadata = GQK_STR("");
		fl->offsets[k].topic = fl->topics[fl->n_topics - 1].name.p;
		fl->offsets[k].partition = lags[k].partition;
		fl->slots[k] = &parts[k];
	}
	fl->n = count;
	gq_group_lag_free(lags);
	return 0;
}

static void
offset_fetch_respond(struct gqd_req *req, struct fetch_list *fl, int rv)
{
	struct gqk_offset_fetch_resp resp = { 0 };
	int16_t group_error = group_err(rv, false);

	for (size_t k = 0; k < fl->n; k++) {
		struct gqk_offset_fetch_resp_partition *p = fl->slots[k];
		const struct gq_group_offset *o = &fl->offsets[k];

		/* v1 has no group-level error: Kafka repeats it in every
		 * partition. */
		p->error_code =
			rv != 0 ? (req->hdr.api_version < 2 ? group_error
							    : GQK_ERR_NONE)
				: group_err(o->status, false);
		p->committed_offset =
			rv == 0 && o->status == 0 ? o->offset : -1;
	}
	if (rv == 0 || req->hdr.api_version < 2) {
		resp.n_topics = fl->n_topics;
		resp.topics = fl->topics;
	}
	resp.error_code = group_error;
	gqd_resp_begin(req);
	gqk_offset_fetch_resp_encode(&req->resp, req->hdr.api_version, &resp);
	gqd_req_finish(req);
}

void
gqd_handle_offset_fetch(struct gqd_req *req)
{
	const struct gqk_offset_fetch_req *fr = &req->body.offset_fetch;
	struct fetch_list fl = { 0 };
	struct gq_group_offset none = { 0 };
	const char *group;
	bool oom = false;
	int rv = 0;

	group = cstr(req, fr->group_id, &oom);
	if (oom) {
		gqd_fail_close(req);
		return;
	}
	if (group == NULL)
		group = "";
	if (!fr->all_topics && !fetch_list_requested(req, fr, &fl)) {
		gqd_fail_close(req);
		return;
	}
	/* Also because gq_group_lags() only knows what this node stored. */
	if (coordinated_elsewhere(req, group)) {
		offset_fetch_respond(req, &fl, GQ_ENOTCOORD);
		return;
	}
	if (fr->all_topics)
		rv = fetch_list_all(req, group, &fl);
	/* Asked even with nothing to look up: only the coordinator answers,
	 * once it has loaded. */
	if (rv == 0)
		rv = gq_group_offsets(gqd_req_node(req), group,
				      fl.n > 0 ? fl.offsets : &none, fl.n);
	offset_fetch_respond(req, &fl, rv);
}

/* ---- DescribeGroups and ListGroups ------------------------------------ */

/* @g described from @info (borrowed until the response is encoded). */
static bool
describe_one(struct gqd_req *req, const struct gq_group_info *info,
	     struct gqk_describe_groups_group *g)
{
	struct gqk_describe_groups_member *members = NULL;

	g->group_state = gqk_str_from(info->state);
	g->protocol_type = str_or_empty(info->protocol_type);
	g->protocol_data = str_or_empty(info->protocol);
	if (info->n_members > 0 &&
	    (members = gqd_arena(req, info->n_members, sizeof(*members))) ==
		    NULL)
		return false;
	for (size_t i = 0; i < info->n_members; i++) {
		const struct gq_group_member_info *m = &info->members[i];

		members[i].member_id = str_or_empty(m->member_id);
		members[i].group_instance_id =
			gqk_str_from(m->group_instance_id);
		members[i].client_id = str_or_empty(m->client_id);
		members[i].client_host = str_or_empty(m->client_host);
		members[i].member_metadata = (struct gqk_bytes){
			m->metadata,
			m->metadata != NULL ? (int32_t)m->metadata_len : 0
		};
		members[i].member_assignment = (struct gqk_bytes){
			m->assignment,
			m->assignment != NULL ? (int32_t)m->assignment_len : 0
		};
	}
	g->n_members = (int32_t)info->n_members;
	g->members = members;
	return true;
}

void
gqd_handle_describe_groups(struct gqd_req *req)
{
	const struct gqk_describe_groups_req *dr = &req->body.describe_groups;
	struct gqk_describe_groups_resp resp = { 0 };
	struct gqk_describe_groups_group *groups;
	struct gq_group_info **infos;
	size_t n = dr->n_groups > 0 ? (size_t)dr->n_groups : 0;
	bool oom = false;

	groups = gqd_arena(req, n + 1, sizeof(*groups));
	infos = gqd_arena(req, n + 1, sizeof(*infos));
	if (groups == NULL || infos == NULL) {
		gqd_fail_close(req);
		return;
	}
	for (size_t i = 0; i < n && !oom; i++) {
		struct gqk_describe_groups_group *g = &groups[i];
		const char *name;
		int rv;

		name = cstr(req, dr->groups[i], &oom);
		g->group_id = dr->groups[i];
		g->group_state = GQK_STR("");
		g->protocol_type = GQK_STR("");
		g->protocol_data = GQK_STR("");
		g->authorized_operations =
			dr->include_authorized_operations
				? GROUP_OPERATIONS
				: GQK_AUTHORIZED_OPERATIONS_OMITTED;
		/* An unknown group is "Dead" with no members, error NONE. */
		rv = gq_group_describe(gqd_req_node(req),
				       name != NULL ? name : "", &infos[i]);
		if (rv != 0)
			g->error_code = group_err(rv, false);
		else if (!describe_one(req, infos[i], g))
			oom = true;
	}
	if (!oom) {
		resp.n_groups = (int32_t)n;
		resp.groups = groups;
		gqd_resp_begin(req);
		gqk_describe_groups_resp_encode(&req->resp,
						req->hdr.api_version, &resp);
	}
	for (size_t i = 0; i < n; i++)
		gq_group_info_destroy(infos[i]);
	if (oom)
		gqd_fail_close(req);
	else
		gqd_req_finish(req);
}

void
gqd_handle_list_groups(struct gqd_req *req)
{
	struct gqk_list_groups_resp resp = { 0 };
	struct gqk_list_groups_group *groups = NULL;
	struct gq_group_info *infos = NULL;
	size_t count = 0;
	int rv;

	rv = gq_group_list(gqd_req_node(req), &infos, &count);
	if (rv == 0 &&
	    (groups = gqd_arena(req, count + 1, sizeof(*groups))) == NULL) {
		gq_group_list_free(infos, count);
		gqd_fail_close(req);
		return;
	}
	resp.error_code = group_err(rv, false);
	for (size_t i = 0; rv == 0 && i < count; i++) {
		groups[i].group_id = gqd_arena_str(req, infos[i].group);
		groups[i].protocol_type =
			gqd_arena_str(req, infos[i].protocol_type != NULL
						   ? infos[i].protocol_type
						   : "");
	}
	resp.n_groups = rv == 0 ? (int32_t)count : 0;
	resp.groups = groups;
	gq_group_list_free(infos, count);
	gqd_resp_begin(req);
	gqk_list_groups_resp_encode(&req->resp, req->hdr.api_version, &resp);
	gqd_req_finish(req);
}
