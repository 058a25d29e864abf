/* SPDX-License-Identifier: MIT */
/*
 * remote_group.c - the consumer-group calls of a remote node (remote.h):
 * join, sync, heartbeat, leave, commit and offsets become JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, OffsetCommit and OffsetFetch to the
 * group's coordinator, which FindCoordinator names.  These are all the
 * embedded group consumer (consumer.c) needs, so it works on a remote node
 * unchanged.  The admin calls ride on the same paths: gq_group_describe()
 * is a DescribeGroups to the coordinator, gq_group_lags() an OffsetFetch
 * of every partition (null topics), gq_group_commit() an OffsetCommit
 * without member or generation (group.c), and gq_group_list() asks every
 * broker (ListGroups, then DescribeGroups for the states).
 *
 * The coordinator of each group is remembered (a small table, the oldest
 * entry replaced) until an answer says it moved (NOT_COORDINATOR,
 * COORDINATOR_NOT_AVAILABLE) or its connection fails; the request then
 * waits for fresh metadata and asks again, as a stale partition leader
 * does in remote.c.
 */
#include <stdio.h>
#include <stdlib.h>
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
#define V_DESCRIBE_GROUPS  4
#define V_LIST_GROUPS      2

/* A GQ__GROUP_OFFSETS request with no offsets and this count asks for
 * every partition the group committed (OffsetFetch with null topics, v2+):
 * its answer is an array of struct gq_group_lag in u.group.blob, their
 * count in u.group.n.  gq_group_offsets() refuses such a count, so no
 * caller's request looks like one. */
#define ALL_OFFSETS SIZE_MAX

static bool
all_offsets(const struct gq__req *req)
{
	return req->u.group.op == GQ__GROUP_OFFSETS &&
	       req->u.group.offsets == NULL && req->u.group.n == ALL_OFFSETS;
}

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

/* The answer to an ALL_OFFSETS request: each partition with a committed
 * offset, as a lag without figures (group.c adds them), into
 * u.group.blob.  0 or GQ_ENOMEM. */
static int
all_committed(struct gq__req *req, const struct gqk_offset_fetch_resp *fr)
{
	struct gq_group_lag *lags;
	size_t n = 0, k = 0;

	for (int32_t t = 0; t < fr->n_topics; t++)
		n += fr->topics[t].n_partitions > 0
			     ? (size_t)fr->topics[t].n_partitions
			     : 0;
	if ((lags = gq__calloc(n > 0 ? n : 1, sizeof(*lags))) == NULL)
		return GQ_ENOMEM;
	for (int32_t t = 0; t < fr->n_topics; t++) {
		const struct gqk_offset_fetch_resp_topic *ft = &fr->topics[t];

		if (ft->name.len <= 0 || ft->name.len > GQ_NAME_MAX)
			continue;
		for (int32_t p = 0; p < ft->n_partitions; p++) {
			const struct gqk_offset_fetch_resp_partition *fp =
				&ft->partitions[p];
			struct gq_group_lag *l;

			/* A partition of a deleted topic answers with an
			 * error: the group's offset there reads nothing. */
			if (fp->error_code != 0 || fp->committed_offset < 0)
				continue;
			l = &lags[k++];
			memcpy(l->topic, ft->name.p, (size_t)ft->name.len);
			l->partition = fp->partition_index;
			l->committed = fp->committed_offset;
			l->high_watermark = -1;
			l->lag = -1;
		}
	}
	req->u.group.blob = lags;
	req->u.group.n = k;
	return 0;
}

static void
fetched(struct call *c, int status, const union gqk_response *resp)
{
	if (failed(c, status, status == 0 ? resp->offset_fetch.error_code : 0,
		   "offset fetch"))
		return;
	if (all_offsets(c->req)) {
		gq__req_complete(c->req,
				 all_committed(c->req, &resp->offset_fetch));
		return;
	}
	offsets_answered(c->req, resp, false);
	gq__req_complete(c->req, 0);
}

/* ---- describing groups -------------------------------------------------- */

/* A wire string as a new C string: NULL for a null one when @keep_null,
 * "" otherwise.  Sets *@oom when out of memory. */
static char *
str_dup(struct gqk_str s, bool keep_null, bool *oom)
{
	char *p;

	if (s.len < 0 && keep_null)
		return NULL;
	p = gq__strndup(s.len > 0 ? s.p : "", s.len > 0 ? (size_t)s.len : 0);
	if (p == NULL)
		*oom = true;
	return p;
}

/* Wire bytes as a new buffer, NULL (and *@len 0) when empty. */
static void *
bytes_dup(struct gqk_bytes b, size_t *len, bool *oom)
{
	void *p;

	*len = 0;
	if (b.len <= 0)
		return NULL;
	if ((p = gq__malloc((size_t)b.len)) == NULL) {
		*oom = true;
		return NULL;
	}
	memcpy(p, b.p, (size_t)b.len);
	*len = (size_t)b.len;
	return p;
}

/*
 * Fill @out (zeroed) from a DescribeGroups entry as the embedded
 * coordinator fills it (coordinator.c), with the members when @members
 * and only their count otherwise.  DescribeGroups carries neither the
 * generation nor the leader: they are -1 and "" (generation 0 for a Dead
 * group, as a coordinator describes a group it does not know).  0, or
 * GQ_ENOMEM with @out holding what was copied, for the caller to free.
 */
static int
info_fill(struct gq_group_info *out, const struct gqk_describe_groups_group *g,
	  bool members)
{
	size_t n = g->n_members > 0 ? (size_t)g->n_members : 0;
	bool oom = false;

	out->group = str_dup(g->group_id, false, &oom);
	out->state = str_dup(g->group_state, false, &oom);
	out->protocol_type = str_dup(g->protocol_type, false, &oom);
	out->protocol = str_dup(g->protocol_data, false, &oom);
	out->leader = str_dup(GQK_STR(""), false, &oom);
	out->generation = gqk_str_eq(g->group_state, "Dead") ? 0 : -1;
	out->n_members = n;
	if (!members || n == 0 || oom)
		return oom ? GQ_ENOMEM : 0;
	if ((out->members = gq__calloc(n, sizeof(*out->members))) == NULL) {
		out->n_members = 0;
		return GQ_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct gqk_describe_groups_member *d = &g->members[i];
		struct gq_group_member_info *m = &out->members[i];

		m->member_id = str_dup(d->member_id, false, &oom);
		m->group_instance_id =
			str_dup(d->group_instance_id, true, &oom);
		m->client_id = str_dup(d->client_id, false, &oom);
		m->client_host = str_dup(d->client_host, false, &oom);
		m->metadata =
			bytes_dup(d->member_metadata, &m->metadata_len, &oom);
		m->assignment = bytes_dup(d->member_assignment,
					  &m->assignment_len, &oom);
	}
	return oom ? GQ_ENOMEM : 0;
}

static void
described(struct call *c, int status, const union gqk_response *resp)
{
	const struct gqk_describe_groups_group *g = NULL;
	struct gq__req *req = c->req;

	if (status == 0 && resp->describe_groups.n_groups == 1 &&
	    gqk_str_eq(resp->describe_groups.groups[0].group_id,
		       req->u.group.group))
		g = &resp->describe_groups.groups[0];
	if (failed(c, status, g != NULL ? g->error_code : 0, "describe group"))
		return;
	if (g == NULL) {
		gq__errmsg_set(req->errmsg,
			       "describe group: the answer is about other "
			       "groups");
		gq__req_complete(req, GQ_EIO);
		return;
	}
	gq__req_complete(req, info_fill(req->u.group.info, g, true));
}

/* ---- listing groups ----------------------------------------------------- */

/*
 * gq_group_list() asks every broker of the metadata for the groups it
 * coordinates (ListGroups), then the same broker for their states and
 * member counts, which ListGroups does not carry (DescribeGroups of all
 * of them at once).  As Kafka's AdminClient does, the listing fails as a
 * whole when a broker does not answer: a partial list would look
 * complete.  A group described as Dead went in between, and one listed
 * twice (it moved meanwhile) is kept once.
 */
struct listing;

/* One broker's part, the context of its calls. */
struct list_part {
	struct listing *l;
	int32_t broker;
};

struct listing {
	struct gq__req *req; /* u.group.info and n: the groups so far */
	size_t cap;          /* of u.group.info */
	size_t pending;      /* calls out, plus one while sending */
	int status;          /* the first failure */
	struct list_part parts[];
};

/* Record @status as the listing's outcome unless it failed already;
 * true when this is the first failure, to say why in req->errmsg. */
static bool
list_failed(struct listing *l, int status)
{
	if (l->status != 0)
		return false;
	l->status = status;
	return true;
}

/* What a call that got no answer means for the listing. */
static int
no_answer(const struct gq__remote *r)
{
	return r->closing ? GQ_ECLOSED : GQ_EIO;
}

static int
info_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gq_group_info *)a)->group,
		      ((const struct gq_group_info *)b)->group);
}

/* A call of @l ended: once the last has, complete the request. */
static void
list_end(struct listing *l)
{
	struct gq__req *req = l->req;

	if (--l->pending > 0)
		return;
	if (l->status == 0 && req->u.group.n > 1)
		qsort(req->u.group.info, req->u.group.n,
		      sizeof(*req->u.group.info), info_cmp);
	/* On failure gq_group_list() frees the groups gathered. */
	gq__req_complete(req, l->status);
	gq__free(l);
}

/* Add the group @g describes, unless it is gone or listed already. */
static void
list_add(struct listing *l, const struct gqk_describe_groups_group *g)
{
	struct gq__req *req = l->req;
	struct gq_group_info *info;

	if (gqk_str_eq(g->group_state, "Dead"))
		return;
	for (size_t i = 0; i < req->u.group.n; i++)
		if (gqk_str_eq(g->group_id, req->u.group.info[i].group))
			return;
	if (req->u.group.n == l->cap) {
		size_t cap = l->cap > 0 ? 2 * l->cap : 16;

		if ((info = gq__realloc(req->u.group.info,
					cap * sizeof(*info))) == NULL) {
			list_failed(l, GQ_ENOMEM);
			return;
		}
		req->u.group.info = info;
		l->cap = cap;
	}
	info = &req->u.group.info[req->u.group.n++];
	memset(info, 0, sizeof(*info));
	if (info_fill(info, g, false) != 0)
		list_failed(l, GQ_ENOMEM);
}

static void
list_described(struct call *c, int status, const union gqk_response *resp)
{
	struct list_part *p = c->ctx;
	struct listing *l = p->l;

	if (status != 0) {
		if (list_failed(l, no_answer(c->r)))
			gq__errmsg_set(l->req->errmsg,
				       "broker %d: no answer to DescribeGroups",
				       (int)p->broker);
	}
	for (int32_t i = 0; status == 0 && l->status == 0 &&
			    i < resp->describe_groups.n_groups;
	     i++) {
		const struct gqk_describe_groups_group *g =
			&resp->describe_groups.groups[i];

		if (g->error_code == 0) {
			list_add(l, g);
		} else if (list_failed(l, group_error(g->error_code))) {
			/* Moved or loading since listed: ask again. */
			gq__errmsg_set(l->req->errmsg,
				       "describe group '%.*s' at broker %d: %s",
				       (int)g->group_id.len, g->group_id.p,
				       (int)p->broker,
				       gqk_err_name(g->error_code));
		}
	}
	list_end(l);
}

static void
list_listed(struct call *c, int status, const union gqk_response *resp)
{
	struct list_part *p = c->ctx;
	struct listing *l = p->l;
	const struct gqk_list_groups_resp *lr;
	struct gqk_str *ids;
	union gqk_request body;
	struct rbroker *b;
	int rv;

	if (status != 0) {
		if (list_failed(l, no_answer(c->r)))
			gq__errmsg_set(l->req->errmsg,
				       "broker %d: no answer to ListGroups",
				       (int)p->broker);
		list_end(l);
		return;
	}
	lr = &resp->list_groups;
	if (lr->error_code != 0) {
		if (list_failed(l, group_error(lr->error_code)))
			gq__errmsg_set(
				l->req->errmsg, "broker %d: list groups: %s",
				(int)p->broker, gqk_err_name(lr->error_code));
		list_end(l);
		return;
	}
	if (lr->n_groups <= 0 || l->status != 0) {
		list_end(l);
		return;
	}
	if ((ids = gq__calloc((size_t)lr->n_groups, sizeof(*ids))) == NULL) {
		list_failed(l, GQ_ENOMEM);
		list_end(l);
		return;
	}
	for (int32_t i = 0; i < lr->n_groups; i++)
		ids[i] = lr->groups[i].group_id;
	memset(&body, 0, sizeof(body));
	body.describe_groups.n_groups = lr->n_groups;
	body.describe_groups.groups = ids;
	/* The groups it coordinates, so the same broker describes them. */
	b = gq__r_broker_by_id(c->r, p->broker);
	l->pending++;
	rv = b != NULL
		     ? gq__r_call_ctx(c->r, b, p, GQK_DESCRIBE_GROUPS,
				      V_DESCRIBE_GROUPS, &body,
				      c->r->request_timeout_ms, list_described)
		     : GQ_EIO;
	if (rv != 0) {
		l->pending--;
		if (list_failed(l, rv))
			gq__errmsg_set(l->req->errmsg, "broker %d: %s",
				       (int)p->broker,
				       rv == GQ_EIO ? "not reachable"
						    : gq_strerror(rv));
	}
	gq__free(ids);
	list_end(l);
}

/* Serve a GQ__GROUP_LIST request. */
static void
list_groups(struct gq__remote *r, struct gq__req *req)
{
	size_t n = r->n_brokers - r->n_seeds;
	struct listing *l;
	union gqk_request body;

	if ((l = gq__calloc(1, sizeof(*l) + n * sizeof(l->parts[0]))) == NULL) {
		gq__req_complete(req, GQ_ENOMEM);
		return;
	}
	l->req = req;
	l->pending = 1;
	req->u.group.info = NULL;
	req->u.group.n = 0;
	memset(&body, 0, sizeof(body));
	for (size_t i = 0; i < n; i++) {
		struct rbroker *b = r->brokers[r->n_seeds + i];
		struct list_part *p = &l->parts[i];
		int rv;

		p->l = l;
		p->broker = b->id;
		l->pending++;
		rv = gq__r_call_ctx(r, b, p, GQK_LIST_GROUPS, V_LIST_GROUPS,
				    &body, r->request_timeout_ms, list_listed);
		if (rv != 0) {
			l->pending--;
			if (list_failed(l, rv))
				gq__errmsg_set(req->errmsg, "broker %d: %s",
					       (int)b->id,
					       rv == GQ_EIO ? "not reachable"
							    : gq_strerror(rv));
		}
	}
	list_end(l);
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
		if (all_offsets(req)) {
			body.offset_fetch.n_topics = -1; /* null: all */
			body.offset_fetch.all_topics = true;
		} else if (!offset_topics(req, &a, false, &body)) {
			rv = GQ_ENOMEM;
			break;
		}
		body.offset_fetch.group_id = group;
		api = GQK_OFFSET_FETCH;
		version = V_OFFSET_FETCH;
		done = fetched;
		break;
	case GQ__GROUP_DESCRIBE:
		body.describe_groups.n_groups = 1;
		body.describe_groups.groups = &group;
		api = GQK_DESCRIBE_GROUPS;
		version = V_DESCRIBE_GROUPS;
		done = described;
		break;
	default:
		rv = GQ_EUNSUPPORTED;
		break;
	}
	if (rv == 0) {
		/* The request (and what @a holds) is encoded into the frame
		 * before gq__r_call() returns. */
		/* A member joins under its own client id, which
		 * DescribeGroups shows, as a Kafka consumer's does. */
		const char *client_id = req->u.group.op == GQ__GROUP_JOIN &&
							jn->client_id != NULL &&
							jn->client_id[0] != '\0'
						? jn->client_id
						: NULL;

		if (gq__r_call_as(r, b, req, client_id, api, version, &body,
				  (uint32_t)gq__r_budget_ms(r, req),
				  done) != 0) {
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
	case GQ__GROUP_DESCRIBE:
		break;
	case GQ__GROUP_LIST: /* every broker, not one coordinator */
		list_groups(r, req);
		return;
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

static int
lag_cmp(const void *a, const void *b)
{
	const struct gq_group_lag *x = a, *y = b;
	int c;

	if ((c = strcmp(x->topic, y->topic)) != 0)
		return c;
	return (x->partition > y->partition) - (x->partition < y->partition);
}

int
gq__remote_group_committed(struct gq_node *node, const char *group,
			   struct gq_group_lag **out, size_t *count)
{
	struct gq_group_lag *lags;
	struct gq__req req;
	size_t n;
	int rv;

	memset(&req, 0, sizeof(req));
	req.type = GQ__REQ_GROUP;
	req.u.group.op = GQ__GROUP_OFFSETS;
	req.u.group.group = group;
	req.u.group.member_id = "";
	req.u.group.generation = -1;
	req.u.group.n = ALL_OFFSETS;
	if ((rv = gq__node_call(node, &req)) != 0) {
		gq__free(req.u.group.blob);
		return rv;
	}
	lags = req.u.group.blob;
	n = req.u.group.n;
	if (n == 0) {
		gq__free(lags);
		lags = NULL;
	} else {
		/* In the order the embedded node's table has them. */
		qsort(lags, n, sizeof(*lags), lag_cmp);
	}
	*out = lags;
	*count = n;
	return 0;
}
