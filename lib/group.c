/* SPDX-License-Identifier: MIT */
/*
 * group.c - the public consumer-group calls.  The coordination calls copy
 * their arguments into a GQ__REQ_GROUP request for the coordinator on the
 * loop (coordinator.h) and report through the caller's callback.  A
 * commit is a Raft entry of the internal offsets topic's partition that
 * owns the group, so it is as durable as a produce; reads look offsets up
 * in LMDB from the caller's thread.  A remote node (remote.h) has no LMDB
 * nor offsets partition: every call goes through its loop to the
 * brokers (remote_group.c).
 */
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include "coordinator.h"
#include "error.h"
#include "group.h"
#include "heap.h"
#include "names.h"
#include "node.h"
#include "partition.h"
#include "remote_int.h"

static int
check_target(struct gq_node *node, const char *group, const char *topic,
	     int32_t partition, char *errmsg)
{
	struct gq__topic *t;
	int rv;

	if ((rv = gq__group_name_check(group, errmsg)) != 0 ||
	    (rv = gq__name_check(topic, true, errmsg)) != 0)
		return rv;
	pthread_rwlock_rdlock(&node->meta_lock);
	t = gq__node_topic_find(node, topic);
	if (t == NULL) {
		gq__errmsg_set(errmsg, "unknown topic '%s'", topic);
		rv = GQ_ENOTOPIC;
	} else if (partition < 0 || partition >= t->n_parts) {
		gq__errmsg_set(errmsg, "topic '%s' has no partition %d", topic,
			       partition);
		rv = GQ_ENOPARTITION;
	}
	pthread_rwlock_unlock(&node->meta_lock);
	return rv;
}

/*
 * gq_group_commit() on a remote node, which has no offsets partition to
 * write to: an OffsetCommit without member or generation to the group's
 * coordinator (remote_group.c).  Kafka brokers take that only for a group
 * without members, so unlike the embedded commit it fails with
 * GQ_EMEMBER (or GQ_EREBALANCE) while the group has some.
 */
static int
remote_commit(struct gq_node *node, const char *group, const char *topic,
	      int32_t partition, gq_offset offset, const char *metadata)
{
	struct gq_group_offset o = { topic, partition, offset, metadata, 0 };
	struct gq__req req;
	int rv;

	memset(&req, 0, sizeof(req));
	req.type = GQ__REQ_GROUP;
	req.u.group.op = GQ__GROUP_COMMIT;
	req.u.group.group = group;
	req.u.group.member_id = "";
	req.u.group.generation = -1;
	req.u.group.offsets = &o;
	req.u.group.n = 1;
	rv = gq__node_call(node, &req);
	if (rv == GQ_EMEMBER || rv == GQ_EREBALANCE) {
		gq__node_set_errmsg(node, "the group has members: the brokers "
					  "take commits only from them");
	} else if (rv == 0 && (rv = o.status) != 0) {
		snprintf(req.errmsg, sizeof(req.errmsg), "commit: %s",
			 gq_strerror(rv));
		gq__node_set_errmsg(node, req.errmsg);
	}
	return rv;
}

int
gq_group_commit(struct gq_node *node, const char *group, const char *topic,
		int32_t partition, gq_offset offset, const char *metadata)
{
	struct gq__req req;
	int rv;

	if (node == NULL || offset < 0)
		return GQ_EINVAL;
	memset(&req, 0, sizeof(req));
	if ((rv = check_target(node, group, topic, partition, req.errmsg))) {
		gq__node_set_errmsg(node, req.errmsg);
		return rv;
	}
	if (metadata != NULL && strlen(metadata) > GQ__GROUP_METADATA_MAX) {
		gq__node_set_errmsg(node, "metadata longer than 4096 bytes");
		return GQ_EINVAL;
	}
	if (node->remote != NULL)
		return remote_commit(node, group, topic, partition, offset,
				     metadata);
	req.type = GQ__REQ_GROUP_COMMIT;
	snprintf(req.topic, sizeof(req.topic), "%s", topic);
	snprintf(req.u.commit.group, sizeof(req.u.commit.group), "%s", group);
	req.partition = partition;
	req.u.commit.offset = offset;
	if (metadata != NULL &&
	    (req.u.commit.metadata = gq__strdup(metadata)) == NULL)
		return GQ_ENOMEM;
	rv = gq__node_call(node, &req);
	gq__free(req.u.commit.metadata);
	return rv;
}

/* Read @group's offset of @topic/@partition in @txn: -1 when none. */
static int
read_offset(struct gq_node *node, MDB_txn *txn, const char *group,
	    const char *topic, int32_t partition, gq_offset *offset)
{
	uint8_t key[2 * GQ_NAME_MAX + 8];
	MDB_val k, v;
	int rv;

	k.mv_size = gq__group_key(group, topic, partition, key, sizeof(key));
	k.mv_data = key;
	rv = mdb_get(txn, node->store->groups, &k, &v);
	if (rv == MDB_NOTFOUND) {
		*offset = -1;
		return 0;
	}
	if (rv != 0)
		return gq__err_from_mdb(rv);
	if (v.mv_size < 8)
		return GQ_ECORRUPT;
	*offset = (gq_offset)gq__le64_get(v.mv_data);
	return 0;
}

int
gq_group_fetch_offset(struct gq_node *node, const char *group,
		      const char *topic, int32_t partition, gq_offset *offset)
{
	char errmsg[GQ_ERRMSG_SIZE];
	MDB_txn *txn;
	int rv;

	if (node == NULL || offset == NULL)
		return GQ_EINVAL;
	if ((rv = check_target(node, group, topic, partition, errmsg))) {
		gq__node_set_errmsg(node, errmsg);
		return rv;
	}
	if (node->remote != NULL) {
		struct gq_group_offset o = { topic, partition, -1, NULL, 0 };

		if ((rv = gq_group_offsets(node, group, &o, 1)) == 0 &&
		    (rv = o.status) == 0)
			*offset = o.offset;
		return rv;
	}
	if ((rv = gq__store_begin(node->store, false, &txn)) != 0)
		return rv;
	rv = read_offset(node, txn, group, topic, partition, offset);
	gq__store_abort(txn);
	return rv;
}

/* ---- coordination ------------------------------------------------------ */

int
gq_group_coordinator(struct gq_node *node, const char *group, int32_t *broker)
{
	char errmsg[GQ_ERRMSG_SIZE];
	struct gq__topic *off;
	int32_t i, leader = -1;
	int rv;

	if (node == NULL || broker == NULL)
		return GQ_EINVAL;
	if ((rv = gq__group_name_check(group, errmsg)) != 0) {
		gq__node_set_errmsg(node, errmsg);
		return rv;
	}
	i = gq__coord_partition(group);
	pthread_rwlock_rdlock(&node->meta_lock);
	off = gq__node_topic_find(node, GQ__OFFSETS_TOPIC);
	if (off != NULL && i < off->n_parts)
		leader = atomic_load(&off->routes[i].leader);
	pthread_rwlock_unlock(&node->meta_lock);
	if (leader <= 0)
		return GQ_ENOTREADY;
	*broker = leader;
	return 0;
}

/* Whether this node coordinates @group now: 0, GQ_ENOTCOORD or
 * GQ_ENOTREADY.  Its partition publishes us as leader only once the
 * barrier of our term applied, so LMDB then holds every commit. */
static int
coordinating(struct gq_node *node, const char *group)
{
	int32_t broker;
	int rv = gq_group_coordinator(node, group, &broker);

	if (rv != 0)
		return rv;
	return (uint64_t)broker == node->conf.node_id ? 0 : GQ_ENOTCOORD;
}

/*
 * Copies of the caller's arguments, in one allocation per request: a
 * sizing pass (base NULL) adds up what a filling pass then copies.  Arrays
 * of structs come first, so they are aligned as malloc aligns.
 */
struct pack {
	char *base;
	size_t len;
};

static void *
pack_take(struct pack *pk, size_t size)
{
	void *p = pk->base != NULL ? pk->base + pk->len : NULL;

	pk->len +=
		(size + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
	return p;
}

static const void *
pack_bytes(struct pack *pk, const void *b, size_t len)
{
	void *p;

	if (b == NULL || len == 0)
		return NULL;
	if ((p = pack_take(pk, len)) != NULL)
		memcpy(p, b, len);
	return p;
}

static const char *
pack_str(struct pack *pk, const char *s)
{
	return s != NULL ? pack_bytes(pk, s, strlen(s) + 1) : NULL;
}

/* Run @fill twice: size, then copy into a new blob owned by @req. */
static int
pack_request(struct gq__req *req, void (*fill)(struct pack *, void *),
	     void *arg)
{
	struct pack pk = { NULL, 0 };

	fill(&pk, arg);
	if ((pk.base = gq__malloc(pk.len > 0 ? pk.len : 1)) == NULL)
		return GQ_ENOMEM;
	req->u.group.blob = pk.base;
	pk.len = 0;
	fill(&pk, arg);
	return 0;
}

const struct gq_group_joined *
gq__group_joined(const struct gq__req *req, struct gq_group_joined *none)
{
	if (req->u.group.joined != NULL)
		return req->u.group.joined;
	memset(none, 0, sizeof(*none));
	none->generation = -1;
	none->leader = "";
	none->member_id = req->u.group.join.member_id != NULL
				  ? req->u.group.join.member_id
				  : "";
	return none;
}

/* The request's completion: the caller's callback, then the request goes. */
static void
group_done(struct gq__req *req)
{
	int status = req->status;
	void *arg = req->async_arg;
	const char *msg = status != 0 ? req->errmsg : "";

	switch (req->u.group.op) {
	case GQ__GROUP_JOIN: {
		struct gq_group_joined none;

		req->async_cb.join(arg, status, gq__group_joined(req, &none));
		break;
	}
	case GQ__GROUP_SYNC:
		req->async_cb.sync(arg, status, req->u.group.assignment,
				   status == 0 ? req->u.group.assignment_len
					       : 0);
		break;
	case GQ__GROUP_COMMIT:
		if (status != 0)
			for (size_t i = 0; i < req->u.group.n; i++)
				req->u.group.offsets[i].status = status;
		req->async_cb.commit(arg, status, req->u.group.offsets,
				     req->u.group.n);
		break;
	default:
		req->async_cb.done(arg, status, msg);
		break;
	}
	gq__group_req_free(req);
}

/* A new asynchronous request of @op; NULL when out of memory. */
static struct gq__req *
group_req(enum gq__group_op op)
{
	struct gq__req *req = gq__calloc(1, sizeof(*req));

	if (req == NULL)
		return NULL;
	req->type = GQ__REQ_GROUP;
	req->u.group.op = op;
	req->done = group_done;
	return req;
}

/* Post @req; on failure it is freed. */
static int
group_post(struct gq_node *node, struct gq__req *req)
{
	int rv = gq__node_post(node, req);

	if (rv != 0)
		gq__group_req_free(req);
	return rv;
}

struct join_args {
	struct gq__req *req;
	const struct gq_group_join *in;
};

static void
fill_join(struct pack *pk, void *arg)
{
	struct join_args *a = arg;
	const struct gq_group_join *in = a->in;
	struct gq_group_join *out = &a->req->u.group.join;
	struct gq_group_protocol *protos =
		pack_take(pk, in->n_protocols * sizeof(*protos));

	if (pk->base != NULL) {
		*out = *in;
		out->protocols = protos;
	}
	for (size_t i = 0; i < in->n_protocols; i++) {
		const char *name = pack_str(pk, in->protocols[i].name);
		const void *meta = pack_bytes(pk, in->protocols[i].metadata,
					      in->protocols[i].len);

		if (protos != NULL) {
			protos[i].name = name;
			protos[i].metadata = meta;
			protos[i].len = in->protocols[i].len;
		}
	}
	out->group = pack_str(pk, in->group);
	out->member_id = pack_str(pk, in->member_id);
	out->group_instance_id = pack_str(pk, in->group_instance_id);
	out->client_id = pack_str(pk, in->client_id);
	out->client_host = pack_str(pk, in->client_host);
	out->protocol_type = pack_str(pk, in->protocol_type);
}

int
gq__group_join_req(const struct gq_group_join *join, struct gq__req **out)
{
	struct join_args a = { NULL, join };
	struct gq__req *req;
	int rv;

	if (join == NULL ||
	    (join->n_protocols > 0 && join->protocols == NULL) ||
	    join->n_protocols > GQ__GROUP_PROTOCOLS_MAX)
		return GQ_EINVAL;
	for (size_t i = 0; i < join->n_protocols; i++)
		if (join->protocols[i].name == NULL ||
		    (join->protocols[i].len > 0 &&
		     join->protocols[i].metadata == NULL))
			return GQ_EINVAL;
	if ((rv = gq__group_name_check(join->group, NULL)) != 0)
		return rv;
	if ((req = a.req = group_req(GQ__GROUP_JOIN)) == NULL)
		return GQ_ENOMEM;
	if (pack_request(req, fill_join, &a) != 0) {
		gq__free(req);
		return GQ_ENOMEM;
	}
	req->u.group.group = req->u.group.join.group;
	*out = req;
	return 0;
}

int
gq_group_join_async(struct gq_node *node, const struct gq_group_join *join,
		    gq_group_join_cb cb, void *arg)
{
	struct gq__req *req;
	int rv;

	if (node == NULL || cb == NULL)
		return GQ_EINVAL;
	if ((rv = gq__group_join_req(join, &req)) != 0)
		return rv;
	req->async_cb.join = cb;
	req->async_arg = arg;
	return group_post(node, req);
}

/* The arguments common to the calls below, to be copied. */
struct member_args {
	struct gq__req *req;
	const char *group;
	const char *member_id;
	const char *instance_id;
	size_t n;
	const struct gq_group_assignment *assignments;
};

static void
fill_member(struct pack *pk, void *arg)
{
	struct member_args *a = arg;
	struct gq__req *req = a->req;
	struct gq_group_assignment *as = pack_take(pk, a->n * sizeof(*as));

	for (size_t i = 0; i < a->n; i++) {
		const char *id = pack_str(pk, a->assignments[i].member_id);
		const void *data = pack_bytes(pk, a->assignments[i].data,
					      a->assignments[i].len);

		if (as != NULL) {
			as[i].member_id = id;
			as[i].data = data;
			as[i].len = a->assignments[i].len;
		}
	}
	req->u.group.assignments = as;
	req->u.group.group = pack_str(pk, a->group);
	req->u.group.member_id =
		pack_str(pk, a->member_id != NULL ? a->member_id : "");
	req->u.group.instance_id = pack_str(pk, a->instance_id);
}

int
gq__group_member_req(enum gq__group_op op, const char *group,
		     const char *member_id, const char *instance_id,
		     int32_t generation, size_t n,
		     const struct gq_group_assignment *assignments,
		     struct gq__req **out)
{
	struct member_args a = { NULL,        group, member_id,
				 instance_id, n,     assignments };
	int rv;

	if ((rv = gq__group_name_check(group, NULL)) != 0)
		return rv;
	if (n > 0 && assignments == NULL)
		return GQ_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (assignments[i].member_id == NULL ||
		    (assignments[i].len > 0 && assignments[i].data == NULL))
			return GQ_EINVAL;
	if ((a.req = group_req(op)) == NULL)
		return GQ_ENOMEM;
	if (pack_request(a.req, fill_member, &a) != 0) {
		gq__free(a.req);
		return GQ_ENOMEM;
	}
	a.req->u.group.generation = generation;
	a.req->u.group.n = n;
	*out = a.req;
	return 0;
}

void
gq__group_check_offsets(struct gq_group_offset *offsets, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		offsets[i].status = 0;
		if (gq__name_check(offsets[i].topic, true, NULL) != 0)
			offsets[i].status = GQ_ENOTOPIC;
		else if (offsets[i].metadata != NULL &&
			 strlen(offsets[i].metadata) > GQ__GROUP_METADATA_MAX)
			offsets[i].status = GQ_ETOOBIG;
	}
}

void
gq__group_req_free(struct gq__req *req)
{
	gq__free(req->u.group.blob);
	gq__free(req);
}

int
gq_group_sync_async(struct gq_node *node, const char *group, int32_t generation,
		    const char *member_id, const char *group_instance_id,
		    size_t n, const struct gq_group_assignment *assignments,
		    gq_group_sync_cb cb, void *arg)
{
	struct gq__req *req;
	int rv;

	if (node == NULL || cb == NULL)
		return GQ_EINVAL;
	if ((rv = gq__group_member_req(GQ__GROUP_SYNC, group, member_id,
				       group_instance_id, generation, n,
				       assignments, &req)))
		return rv;
	req->async_cb.sync = cb;
	req->async_arg = arg;
	return group_post(node, req);
}

int
gq_group_heartbeat_async(struct gq_node *node, const char *group,
			 int32_t generation, const char *member_id,
			 gq_done_cb cb, void *arg)
{
	struct gq__req *req;
	int rv;

	if (node == NULL || cb == NULL)
		return GQ_EINVAL;
	if ((rv = gq__group_member_req(GQ__GROUP_HEARTBEAT, group, member_id,
				       NULL, generation, 0, NULL, &req)))
		return rv;
	req->async_cb.done = cb;
	req->async_arg = arg;
	return group_post(node, req);
}

int
gq_group_leave_async(struct gq_node *node, const char *group,
		     const char *member_id, gq_done_cb cb, void *arg)
{
	struct gq__req *req;
	int rv;

	if (node == NULL || cb == NULL)
		return GQ_EINVAL;
	if ((rv = gq__group_member_req(GQ__GROUP_LEAVE, group, member_id, NULL,
				       -1, 0, NULL, &req)))
		return rv;
	req->async_cb.done = cb;
	req->async_arg = arg;
	return group_post(node, req);
}

int
gq_group_commit_async(struct gq_node *node, const char *group,
		      int32_t generation, const char *member_id,
		      struct gq_group_offset *offsets, size_t n,
		      gq_group_commit_cb cb, void *arg)
{
	struct gq__req *req;
	int rv;

	if (node == NULL || cb == NULL || (n > 0 && offsets == NULL))
		return GQ_EINVAL;
	gq__group_check_offsets(offsets, n);
	if ((rv = gq__group_member_req(GQ__GROUP_COMMIT, group, member_id, NULL,
				       generation, 0, NULL, &req)))
		return rv;
	req->u.group.offsets = offsets;
	req->u.group.n = n;
	req->async_cb.commit = cb;
	req->async_arg = arg;
	return group_post(node, req);
}

int
gq__group_read_offsets(struct gq_node *node, const char *group,
		       struct gq_group_offset *offsets, size_t n)
{
	char errmsg[GQ_ERRMSG_SIZE];
	MDB_txn *txn;
	int rv;

	if ((rv = gq__store_begin(node->store, false, &txn)) != 0)
		return rv;
	for (size_t i = 0; i < n; i++) {
		struct gq_group_offset *o = &offsets[i];

		o->offset = -1;
		o->status = check_target(node, group, o->topic, o->partition,
					 errmsg);
		if (o->status == 0)
			o->status = read_offset(node, txn, group, o->topic,
						o->partition, &o->offset);
	}
	gq__store_abort(txn);
	return 0;
}

int
gq_group_offsets(struct gq_node *node, const char *group,
		 struct gq_group_offset *offsets, size_t n)
{
	struct gq__req req;
	int rv;

	if (node == NULL || (n > 0 && offsets == NULL))
		return GQ_EINVAL;
	/* A remote node stores nothing: its loop asks the coordinator. */
	if (node->remote == NULL &&
	    (rv = coordinating(node, group)) != GQ_ENOTCOORD)
		return rv == 0 ? gq__group_read_offsets(node, group, offsets, n)
			       : rv;
	/* Ask the coordinator, through the loop. */
	memset(&req, 0, sizeof(req));
	req.type = GQ__REQ_GROUP;
	req.u.group.op = GQ__GROUP_OFFSETS;
	req.u.group.group = group;
	req.u.group.member_id = "";
	req.u.group.generation = -1;
	req.u.group.offsets = offsets;
	req.u.group.n = n;
	return gq__node_call(node, &req);
}

/* Every record of @group in the groups table, as lags without figures. */
static int
committed(struct gq_node *node, const char *group, struct gq_group_lag **out,
	  size_t *count)
{
	size_t gl = strlen(group), n = 0, cap = 0;
	struct gq_group_lag *lags = NULL;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k = { gl + 1, (void *)group }, v;
	int rv;

	if ((rv = gq__store_begin(node->store, false, &txn)) != 0)
		return rv;
	if ((rv = mdb_cursor_open(txn, node->store->groups, &cur)) != 0) {
		gq__store_abort(txn);
		return gq__err_from_mdb(rv);
	}
	for (rv = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rv == 0;
	     rv = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *key = k.mv_data;
		size_t tl;
		struct gq_group_lag *l;

		/* group NUL topic NUL be32 partition */
		if (k.mv_size < gl + 1 || memcmp(key, group, gl + 1) != 0)
			break;
		tl = strnlen(key + gl + 1, k.mv_size - gl - 1);
		if (k.mv_size != gl + tl + 6 || tl > GQ_NAME_MAX ||
		    v.mv_size < 8)
			continue;
		if (n == cap) {
			size_t ncap = cap > 0 ? 2 * cap : 16;
			void *p = gq__realloc(lags, ncap * sizeof(*lags));

			if (p == NULL) {
				rv = GQ_ENOMEM;
				break;
			}
			lags = p;
			cap = ncap;
		}
		l = &lags[n++];
		memset(l, 0, sizeof(*l));
		memcpy(l->topic, key + gl + 1, tl);
		l->partition = (int32_t)gq__be32_get((const uint8_t *)key + gl +
						     tl + 2);
		l->committed = (gq_offset)gq__le64_get(v.mv_data);
	}
	mdb_cursor_close(cur);
	gq__store_abort(txn);
	if (rv != 0 && rv != MDB_NOTFOUND) {
		gq__free(lags);
		return rv == GQ_ENOMEM ? rv : gq__err_from_mdb(rv);
	}
	*out = lags;
	*count = n;
	return 0;
}

int
gq_group_lags(struct gq_node *node, const char *group,
	      struct gq_group_lag **out, size_t *count)
{
	char errmsg[GQ_ERRMSG_SIZE];
	int rv;

	if (node == NULL || out == NULL || count == NULL)
		return GQ_EINVAL;
	if ((rv = gq__group_name_check(group, errmsg)) != 0) {
		gq__node_set_errmsg(node, errmsg);
		return rv;
	}
	/* A remote node asks the coordinator for what it committed, then
	 * each partition's leader for its high watermark, below. */
	rv = node->remote != NULL
		     ? gq__remote_group_committed(node, group, out, count)
		     : committed(node, group, out, count);
	if (rv != 0)
		return rv;
	for (size_t i = 0; i < *count; i++) {
		struct gq_group_lag *l = &(*out)[i];

		if (gq_list_offsets(node, l->topic, l->partition,
				    GQ_OFFSET_LATEST, &l->high_watermark) != 0)
			l->high_watermark = -1;
		l->lag = l->high_watermark >= 0 && l->committed >= 0
				 ? (l->high_watermark > l->committed
					    ? l->high_watermark - l->committed
					    : 0)
				 : -1;
	}
	return 0;
}

void
gq_group_lag_free(struct gq_group_lag *lags)
{
	gq__free(lags);
}

static void
info_clear(struct gq_group_info *g)
{
	for (size_t i = 0; g->members != NULL && i < g->n_members; i++) {
		struct gq_group_member_info *m = &g->members[i];

		gq__free(m->member_id);
		gq__free(m->group_instance_id);
		gq__free(m->client_id);
		gq__free(m->client_host);
		gq__free(m->metadata);
		gq__free(m->assignment);
	}
	gq__free(g->members);
	gq__free(g->group);
	gq__free(g->state);
	gq__free(g->protocol_type);
	gq__free(g->protocol);
	gq__free(g->leader);
}

int
gq_group_describe(struct gq_node *node, const char *group,
		  struct gq_group_info **out)
{
	struct gq_group_info *info;
	struct gq__req req;
	int rv;

	if (node == NULL || out == NULL)
		return GQ_EINVAL;
	memset(&req, 0, sizeof(req));
	if ((rv = gq__group_name_check(group, req.errmsg)) != 0) {
		gq__node_set_errmsg(node, req.errmsg);
		return rv;
	}
	if ((info = gq__calloc(1, sizeof(*info))) == NULL)
		return GQ_ENOMEM;
	req.type = GQ__REQ_GROUP;
	req.u.group.op = GQ__GROUP_DESCRIBE;
	req.u.group.group = group;
	req.u.group.info = info;
	if ((rv = gq__node_call(node, &req)) != 0) {
		gq_group_info_destroy(info);
		return rv;
	}
	*out = info;
	return 0;
}

void
gq_group_info_destroy(struct gq_group_info *info)
{
	if (info == NULL)
		return;
	info_clear(info);
	gq__free(info);
}

int
gq_group_list(struct gq_node *node, struct gq_group_info **out, size_t *count)
{
	struct gq__req req;
	int rv;

	if (node == NULL || out == NULL || count == NULL)
		return GQ_EINVAL;
	memset(&req, 0, sizeof(req));
	req.type = GQ__REQ_GROUP;
	req.u.group.op = GQ__GROUP_LIST;
	rv = gq__node_call(node, &req);
	if (rv != 0) {
		gq_group_list_free(req.u.group.info, req.u.group.n);
		return rv;
	}
	*out = req.u.group.info;
	*count = req.u.group.n;
	return 0;
}

void
gq_group_list_free(struct gq_group_info *groups, size_t count)
{
	for (size_t i = 0; groups != NULL && i < count; i++)
		info_clear(&groups[i]);
	gq__free(groups);
}
