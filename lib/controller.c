/* SPDX-License-Identifier: MIT */
/*
 * controller.c - Raft group 0 and its state machine (see controller.h for
 * the stored layout).  Invariant: the LMDB state and "ctl/applied" change
 * together in one transaction per applied command.
 */
#include "controller.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "heap.h"
#include "node.h"
#include "rgroup.h"

#define CONTROLLER_GROUP_ID 0
#define FIRST_PRODUCER_ID   1000
#define MANIFEST_VERSION    1

enum cmd_type {
	CMD_TOPIC_CREATE = 1,
	CMD_TOPIC_DELETE = 2,
	CMD_PRODUCER_ID = 3,
};

struct ctl_result {
	int status;
	int64_t value;
	struct gq__topic *topic;
};

struct gq__controller {
	struct gq_node *node;
	struct gq__rgroup *rg;
	uint64_t applied;
	struct ctl_result result;
};

struct ctl_proposal {
	struct gq__rgroup_req rreq;
	struct gq__controller *c;
	struct gq__req *req;
};

static int
meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out)
{
	MDB_val k = { strlen(key), (void *)key };
	MDB_val v;
	int rv;

	rv = mdb_get(txn, dbi, &k, &v);
	if (rv == MDB_NOTFOUND) {
		*out = 0;
		return 0;
	}
	if (rv != 0)
		return gq__err_from_mdb(rv);
	if (v.mv_size != 8)
		return GQ_ECORRUPT;
	*out = gq__le64_get(v.mv_data);
	return 0;
}

static int
meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t value)
{
	uint8_t b[8];
	MDB_val k = { strlen(key), (void *)key };
	MDB_val v = { 8, b };

	gq__le64_put(b, value);
	return gq__err_from_mdb(mdb_put(txn, dbi, &k, &v, 0));
}

static int
topic_key(const char *name, char *key, size_t size)
{
	int n = snprintf(key, size, "topic/%s", name);

	return n < 0 || (size_t)n >= size ? GQ_EBADNAME : 0;
}

/* Decode a "topic/<name>" record into a new topic object. */
static int
topic_decode(const char *name, size_t name_len, const uint8_t *v, size_t len,
	     struct gq__topic **out)
{
	struct gq__topic *t;
	int rv;

	if (len < 12 || v[0] != 1 || name_len == 0 || name_len > GQ_NAME_MAX)
		return GQ_ECORRUPT;
	if ((t = gq__calloc(1, sizeof(*t))) == NULL)
		return GQ_ENOMEM;
	memcpy(t->name, name, name_len);
	t->replication_factor = (int16_t)(v[2] | v[3] << 8);
	t->id = gq__le32_get(v + 4);
	t->n_parts = (int32_t)gq__le32_get(v + 8);
	rv = gq__topic_conf_decode(v + 12, len - 12, &t->conf);
	if (rv != 0 || t->n_parts <= 0 || t->n_parts > 1000000 || t->id == 0) {
		gq__topic_free(t);
		return GQ_ECORRUPT;
	}
	t->parts = gq__calloc((size_t)t->n_parts, sizeof(*t->parts));
	if (t->parts == NULL) {
		gq__free(t);
		return GQ_ENOMEM;
	}
	*out = t;
	return 0;
}

static int
topic_encode(const struct gq__topic *t, struct gq__buf *out)
{
	uint8_t h[12] = { 1, 0 };

	h[2] = (uint8_t)t->replication_factor;
	h[3] = (uint8_t)((uint16_t)t->replication_factor >> 8);
	gq__le32_put(h + 4, t->id);
	gq__le32_put(h + 8, (uint32_t)t->n_parts);
	if (gq__buf_append(out, h, sizeof(h)) != 0)
		return GQ_ENOMEM;
	return gq__topic_conf_encode(&t->conf, out);
}

/* Load every committed topic into the node's table. */
static int
load_topics(struct gq__controller *c, char *errmsg)
{
	struct gq__store *st = c->node->store;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = { 6, "topic/" };
	MDB_val v;
	int op = MDB_SET_RANGE;
	int rv;

	if ((rv = gq__store_begin(st, false, &txn)) != 0)
		return rv;
	if ((rv = meta_get_u64(txn, st->meta, "ctl/applied", &c->applied)))
		goto out;
	if ((rv = gq__err_from_mdb(mdb_cursor_open(txn, st->meta, &cur))))
		goto out;
	while ((rv = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		struct gq__topic *t;

		op = MDB_NEXT;
		if (k.mv_size < 6 || memcmp(k.mv_data, "topic/", 6) != 0)
			break;
		rv = topic_decode((const char *)k.mv_data + 6, k.mv_size - 6,
				  v.mv_data, v.mv_size, &t);
		if (rv == 0 && (rv = gq__node_topic_add(c->node, t)) != 0)
			gq__topic_free(t);
		if (rv == GQ_ECORRUPT) {
			gq__errmsg_set(errmsg,
				       "controller state: bad record for "
				       "topic '%.*s' in index.lmdb",
				       (int)k.mv_size - 6,
				       (const char *)k.mv_data + 6);
			break;
		}
		if (rv != 0)
			break;
	}
	if (rv == MDB_NOTFOUND)
		rv = 0;
	else if (rv > 0)
		rv = gq__err_from_mdb(rv);
	mdb_cursor_close(cur);
out:
	gq__store_abort(txn);
	return rv;
}

static void
apply_create(struct gq__controller *c, MDB_txn *txn, const uint8_t *p,
	     size_t len, struct ctl_result *res)
{
	struct gq__store *st = c->node->store;
	struct gq__buf rec = GQ__BUF_INIT;
	struct gq__topic *t = NULL;
	char key[GQ_NAME_MAX + 8];
	uint64_t next_id;
	size_t name_len;
	MDB_val k, v;
	int rv;

	/* Body: u16 name length, name, u32 partitions, u16 rf, conf. */
	if (len < 2 || (name_len = p[0] | (size_t)p[1] << 8) == 0 ||
	    name_len > GQ_NAME_MAX || len < 2 + name_len + 6) {
		res->status = GQ_ECORRUPT;
		return;
	}
	if ((t = gq__calloc(1, sizeof(*t))) == NULL) {
		res->status = GQ_ENOMEM;
		return;
	}
	memcpy(t->name, p + 2, name_len);
	t->n_parts = (int32_t)gq__le32_get(p + 2 + name_len);
	t->replication_factor =
		(int16_t)(p[6 + name_len] | p[7 + name_len] << 8);
	rv = gq__topic_conf_decode(p + 8 + name_len, len - 8 - name_len,
				   &t->conf);
	if (rv != 0 || t->n_parts <= 0) {
		res->status = GQ_ECORRUPT;
		goto out;
	}
	topic_key(t->name, key, sizeof(key));
	k.mv_size = strlen(key);
	k.mv_data = key;
	if (mdb_get(txn, st->meta, &k, &v) == 0) {
		res->status = GQ_EEXIST;
		goto out;
	}
	if ((rv = meta_get_u64(txn, st->meta, "ctl/next_topic_id", &next_id)))
		goto fail;
	t->id = (uint32_t)(next_id == 0 ? 1 : next_id);
	if ((rv = meta_put_u64(txn, st->meta, "ctl/next_topic_id",
			       t->id + 1)) != 0)
		goto fail;
	if ((rv = topic_encode(t, &rec)) != 0)
		goto fail;
	v.mv_size = rec.len;
	v.mv_data = rec.base;
	if ((rv = gq__err_from_mdb(mdb_put(txn, st->meta, &k, &v, 0))))
		goto fail;
	t->parts = gq__calloc((size_t)t->n_parts, sizeof(*t->parts));
	if (t->parts == NULL) {
		rv = GQ_ENOMEM;
		goto fail;
	}
	res->topic = t;
	res->status = 0;
	t = NULL;
	goto out;
fail:
	res->status = rv;
out:
	gq__buf_free(&rec);
	gq__topic_free(t);
}

static void
apply_delete(struct gq__controller *c, MDB_txn *txn, const uint8_t *p,
	     size_t len, struct ctl_result *res)
{
	struct gq__store *st = c->node->store;
	char name[GQ_NAME_MAX + 1];
	char key[GQ_NAME_MAX + 8];
	MDB_val k;
	int rv;

	if (len == 0 || len > GQ_NAME_MAX) {
		res->status = GQ_ECORRUPT;
		return;
	}
	memcpy(name, p, len);
	name[len] = '\0';
	topic_key(name, key, sizeof(key));
	k.mv_size = strlen(key);
	k.mv_data = key;
	rv = mdb_del(txn, st->meta, &k, NULL);
	if (rv == MDB_NOTFOUND) {
		res->status = GQ_ENOTOPIC;
		return;
	}
	res->status = gq__err_from_mdb(rv);
	if (res->status == 0)
		res->topic = gq__node_topic_find(c->node, name);
}

static void
apply_producer_id(struct gq__controller *c, MDB_txn *txn,
		  struct ctl_result *res)
{
	struct gq__store *st = c->node->store;
	uint64_t next;
	int rv;

	if ((rv = meta_get_u64(txn, st->meta, "ctl/next_producer_id", &next)))
		goto out;
	if (next < FIRST_PRODUCER_ID)
		next = FIRST_PRODUCER_ID;
	rv = meta_put_u64(txn, st->meta, "ctl/next_producer_id", next + 1);
	res->value = (int64_t)next;
out:
	res->status = rv;
}

static void
ctl_apply(void *owner, uint64_t index, uint64_t term, uint32_t type,
	  const uint8_t *data, size_t len, void **result)
{
	struct gq__controller *c = owner;
	struct gq__store *st = c->node->store;
	struct ctl_result *res = &c->result;
	MDB_txn *txn;
	int rv;

	(void)term;
	memset(res, 0, sizeof(*res));
	*result = res;
	if (index <= c->applied) {
		res->status = GQ_EUNKNOWN; /* replayed: no proposer waits */
		return;
	}
	if ((rv = gq__store_begin(st, true, &txn)) != 0) {
		res->status = rv;
		gq__log(c->node, GQ_LOG_ERROR,
			"controller: cannot apply entry %llu: %s",
			(unsigned long long)index, gq_strerror(rv));
		return;
	}
	switch (type) {
	case CMD_TOPIC_CREATE:
		apply_create(c, txn, data, len, res);
		break;
	case CMD_TOPIC_DELETE:
		apply_delete(c, txn, data, len, res);
		break;
	case CMD_PRODUCER_ID:
		apply_producer_id(c, txn, res);
		break;
	default:
		res->status = GQ_ECORRUPT;
		break;
	}
	rv = meta_put_u64(txn, st->meta, "ctl/applied", index);
	if (rv == 0)
		rv = gq__store_commit(txn);
	else
		gq__store_abort(txn);
	if (rv != 0) {
		gq__log(c->node, GQ_LOG_ERROR,
			"controller: cannot record entry %llu: %s",
			(unsigned long long)index, gq_strerror(rv));
		if (res->topic != NULL && type == CMD_TOPIC_CREATE)
			gq__topic_free(res->topic);
		res->topic = NULL;
		res->status = rv;
		return;
	}
	c->applied = index;
	/* Side effects on the node only after the state is committed. */
	if (res->status == 0 && type == CMD_TOPIC_CREATE)
		gq__node_topic_created(c->node, res->topic);
	else if (res->status == 0 && type == CMD_TOPIC_DELETE &&
		 res->topic != NULL)
		gq__node_topic_deleted(c->node, res->topic);
}

static int
ctl_snapshot(void *owner, struct gq__buf *manifest)
{
	struct gq__controller *c = owner;
	uint8_t b[16];

	gq__le64_put(b, MANIFEST_VERSION);
	gq__le64_put(b + 8, c->applied);
	return gq__buf_append(manifest, b, sizeof(b));
}

static int
ctl_snapshot_sync(void *owner)
{
	struct gq__controller *c = owner;

	return gq__store_sync(c->node->store);
}

static int
ctl_restore(void *owner, const uint8_t *data, size_t len)
{
	struct gq__controller *c = owner;
	uint64_t applied;

	if (len < 16 || gq__le64_get(data) != MANIFEST_VERSION)
		return GQ_ECORRUPT;
	applied = gq__le64_get(data + 8);
	if (c->applied < applied) {
		/* The snapshot promises state LMDB does not have: refuse
		 * rather than serve a controller with lost topics. */
		gq__log(c->node, GQ_LOG_ERROR,
			"controller: index.lmdb applied %llu is behind the "
			"Raft snapshot at %llu",
			(unsigned long long)c->applied,
			(unsigned long long)applied);
		return GQ_ECORRUPT;
	}
	return 0;
}

static void
ctl_role(void *owner, bool leader, bool failed)
{
	struct gq__controller *c = owner;

	/* Leadership itself is read by the node every loop turn
	 * (gq__controller_ready()); only failures need saying. */
	(void)leader;
	if (failed)
		gq__log(c->node, GQ_LOG_ERROR, "controller group failed");
}

static const struct gq__rgroup_ops ctl_ops = {
	.apply = ctl_apply,
	.snapshot = ctl_snapshot,
	.snapshot_sync = ctl_snapshot_sync,
	.restore = ctl_restore,
	.role = ctl_role,
};

int
gq__controller_open(struct gq_node *node, struct gq__controller **out,
		    char *errmsg)
{
	struct gq__controller *c;
	struct gq__rgroup_conf rc;
	char dir[4200];
	int rv;

	if ((c = gq__calloc(1, sizeof(*c))) == NULL)
		return GQ_ENOMEM;
	c->node = node;
	if ((rv = load_topics(c, errmsg)) != 0)
		goto err;
	snprintf(dir, sizeof(dir), "%s/controller", node->dir);
	gq__node_rgroup_conf(node, true, &rc);
	rv = gq__rgroup_open(node->loop, dir, CONTROLLER_GROUP_ID, &rc,
			     &ctl_ops, c, &c->rg, errmsg);
	if (rv != 0)
		goto err;
	*out = c;
	return 0;
err:
	gq__free(c);
	return rv;
}

static void
proposal_done(struct gq__rgroup_req *rreq, int status, void *result)
{
	struct ctl_proposal *prop = rreq->data;
	struct ctl_result *res = result;
	struct gq__req *req = prop->req;
	struct gq_node *node = prop->c->node;

	gq__free(prop);
	if (status == 0 && res == NULL)
		status = GQ_EINTERNAL;
	if (status == 0)
		status = res->status;
	if (status != 0) {
		gq__req_complete(req, status);
		return;
	}
	switch (req->type) {
	case GQ__REQ_PRODUCER_ID:
		req->u.producer.id = res->value;
		req->u.producer.epoch = 0;
		gq__req_complete(req, 0);
		break;
	case GQ__REQ_TOPIC_CREATE:
	case GQ__REQ_TOPIC_DELETE:
		/* Completes once the partitions are open, or removed. */
		gq__node_topic_wait(node, res->topic, req);
		break;
	default:
		gq__req_complete(req, GQ_EINTERNAL);
	}
}

void
gq__controller_submit(struct gq__controller *c, struct gq__req *req)
{
	struct ctl_proposal *prop;
	struct gq__buf body = GQ__BUF_INIT;
	struct raft_buffer buf;
	uint32_t type;
	uint8_t *payload;
	uint8_t h[8];
	size_t name_len = strlen(req->topic);
	int rv = 0;

	switch (req->type) {
	case GQ__REQ_TOPIC_CREATE:
		type = CMD_TOPIC_CREATE;
		h[0] = (uint8_t)name_len;
		h[1] = (uint8_t)(name_len >> 8);
		rv = gq__buf_append(&body, h, 2);
		if (rv == 0)
			rv = gq__buf_append(&body, req->topic, name_len);
		gq__le32_put(h, (uint32_t)req->u.create.partitions);
		h[4] = (uint8_t)req->u.create.replication_factor;
		h[5] = (uint8_t)((uint16_t)req->u.create.replication_factor >>
				 8);
		if (rv == 0)
			rv = gq__buf_append(&body, h, 6);
		if (rv == 0)
			rv = gq__topic_conf_encode(&req->u.create.conf, &body);
		break;
	case GQ__REQ_TOPIC_DELETE:
		type = CMD_TOPIC_DELETE;
		rv = gq__buf_append(&body, req->topic, name_len);
		break;
	case GQ__REQ_PRODUCER_ID:
		type = CMD_PRODUCER_ID;
		break;
	default:
		gq__req_complete(req, GQ_EINTERNAL);
		return;
	}
	if (rv != 0)
		goto err;
	if ((prop = gq__calloc(1, sizeof(*prop))) == NULL) {
		rv = GQ_ENOMEM;
		goto err;
	}
	if ((payload = gq__rgroup_entry_alloc(body.len, &buf)) == NULL) {
		gq__free(prop);
		rv = GQ_ENOMEM;
		goto err;
	}
	if (body.len > 0)
		memcpy(payload, body.base, body.len);
	prop->c = c;
	prop->req = req;
	prop->rreq.data = prop;
	rv = gq__rgroup_propose(c->rg, &prop->rreq, type, &buf, body.len,
				proposal_done);
	if (rv != 0) {
		gq__free(prop);
		goto err;
	}
	gq__buf_free(&body);
	return;
err:
	gq__buf_free(&body);
	gq__req_complete(req, rv);
}

void
gq__controller_poll(struct gq__controller *c)
{
	gq__rgroup_poll(c->rg);
}

bool
gq__controller_ready(const struct gq__controller *c)
{
	return c != NULL && c->rg != NULL && gq__rgroup_is_leader(c->rg);
}

static void
controller_closed(struct gq__rgroup *g)
{
	struct gq__controller *c = g->owner;

	gq__node_group_closed(c->node, g);
	gq__free(c);
}

void
gq__controller_close(struct gq__controller *c)
{
	gq__node_group_closing(c->node, c->rg);
	gq__rgroup_close(c->rg, controller_closed);
}
