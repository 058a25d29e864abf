/* SPDX-License-Identifier: MIT */
/*
 * controller.c - Raft group 0 and its state machine (see controller.h for
 * the commands and the stored layout).  Invariant: the LMDB state and
 * "ctl/applied" change together in one transaction per applied command or
 * restored snapshot; the node's topic table and broker list are changed
 * only after that transaction committed.
 */
#include "controller.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "error.h"
#include "heap.h"
#include "node.h"
#include "rgroup.h"

#define CONTROLLER_GROUP_ID 0
#define FIRST_PRODUCER_ID   1000
#define SNAPSHOT_VERSION    2
#define TOPIC_RECORD_V1     1
#define TOPIC_RECORD_V2     2
#define TOPIC_RECORD_V3     3
#define ALTER_VERSION       1 /* of a TOPIC_ALTER payload */
#define BROKER_REMOVING     1 /* flag in a broker record */

struct gq__controller {
	struct gq_node *node;
	struct gq__rgroup *rg;
	uint64_t applied;
	struct gq__ctl_result result; /* of the entry being applied */
	struct gq__topic *created;    /* by the entry being applied */
	struct gq__topic *deleted;
	struct gq__topic *reassigned; /* by the entry being applied: */
	int32_t reassigned_index;     /* its partition */
	uint8_t reassigned_n;         /* and new replicas */
	int32_t reassigned_ids[GQ__REPLICAS_MAX];
	struct gq__topic *altered;          /* by the entry being applied: */
	struct gq__topic_conf altered_conf; /* its new configuration */
};

struct ctl_proposal {
	struct gq__rgroup_req rreq;
	gq__ctl_cb cb;
	void *arg;
};

/* The prefixes of the records that make up the controller's state. */
static const char *const state_prefixes[] = { "ctl/", "topic/", "broker/" };

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
meta_put(MDB_txn *txn, MDB_dbi dbi, const char *key, const void *val,
	 size_t len)
{
	MDB_val k = { strlen(key), (void *)key };
	MDB_val v = { len, (void *)val };

	return gq__err_from_mdb(mdb_put(txn, dbi, &k, &v, 0));
}

static int
meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t value)
{
	uint8_t b[8];

	gq__le64_put(b, value);
	return meta_put(txn, dbi, key, b, sizeof(b));
}

/* ---- records ---------------------------------------------------------- */

/* Read a replica list: u8 n (1..GQ__REPLICAS_MAX), n x u32 broker id. */
static uint8_t
replicas_read(struct gq__rd *r, int32_t *ids)
{
	uint8_t n = gq__rd_u8(r);

	if (n == 0 || n > GQ__REPLICAS_MAX)
		r->bad = true;
	for (uint8_t j = 0; j < n && !r->bad; j++) {
		ids[j] = (int32_t)gq__rd_le32(r);
		if (ids[j] <= 0)
			r->bad = true;
	}
	return r->bad ? 0 : n;
}

static int
replicas_write(struct gq__buf *out, uint8_t n, const int32_t *ids)
{
	int rv = gq__buf_put_u8(out, n);

	for (uint8_t j = 0; j < n; j++)
		rv |= gq__buf_put_le32(out, (uint32_t)ids[j]);
	return rv;
}

/* Read the assignment of @t's partitions: their replicas and, when
 * @with_initial (topic records from version 3), the replicas each was
 * created with; otherwise those are the current ones. */
static void
assignment_read(struct gq__rd *r, struct gq__topic *t, bool with_initial)
{
	for (int32_t i = 0; i < t->n_parts && !r->bad; i++) {
		struct gq__route *rt = &t->routes[i];

		rt->n_replicas = replicas_read(r, rt->replicas);
		if (with_initial) {
			rt->n_initial = replicas_read(r, rt->initial);
		} else {
			rt->n_initial = rt->n_replicas;
			memcpy(rt->initial, rt->replicas, sizeof(rt->initial));
		}
	}
}

static int
assignment_write(struct gq__buf *out, int32_t n_parts,
		 const struct gq__route *routes, bool with_initial)
{
	int rv = 0;

	for (int32_t i = 0; i < n_parts; i++) {
		rv |= replicas_write(out, routes[i].n_replicas,
				     routes[i].replicas);
		if (with_initial)
			rv |= replicas_write(out, routes[i].n_initial,
					     routes[i].initial);
	}
	return rv != 0 ? GQ_ENOMEM : 0;
}

/* The key of @name's "topic/<name>" record, written into @key. */
static MDB_val
topic_key(const char *name, char key[GQ_NAME_MAX + 8])
{
	MDB_val k;

	snprintf(key, GQ_NAME_MAX + 8, "topic/%s", name);
	k.mv_size = strlen(key);
	k.mv_data = key;
	return k;
}

/* Decode a "topic/<name>" record into a new topic object. */
static int
topic_decode(struct gq__controller *c, const char *name, size_t name_len,
	     const uint8_t *v, size_t len, struct gq__topic **out)
{
	struct gq__rd r = gq__rd_init(v, len);
	struct gq__topic *t;
	uint8_t version = gq__rd_u8(&r);
	int16_t rf;
	uint32_t id;
	int32_t n;

	gq__rd_u8(&r);
	rf = (int16_t)gq__rd_le16(&r);
	id = gq__rd_le32(&r);
	n = (int32_t)gq__rd_le32(&r);
	if (r.bad || version < TOPIC_RECORD_V1 || version > TOPIC_RECORD_V3 ||
	    name_len == 0 || name_len > GQ_NAME_MAX || id == 0)
		return GQ_ECORRUPT;
	if ((t = gq__topic_alloc(n)) == NULL)
		return n <= 0 || n > 1000000 ? GQ_ECORRUPT : GQ_ENOMEM;
	memcpy(t->name, name, name_len);
	t->replication_factor = rf;
	t->id = id;
	if (version != TOPIC_RECORD_V1) {
		assignment_read(&r, t, version == TOPIC_RECORD_V3);
	} else {
		for (int32_t i = 0; i < n; i++) {
			struct gq__route *rt = &t->routes[i];

			rt->n_replicas = rt->n_initial = 1;
			rt->replicas[0] = rt->initial[0] =
				(int32_t)c->node->conf.node_id;
		}
	}
	if (r.bad || gq__topic_conf_decode(r.p, r.left, &t->conf) != 0) {
		gq__topic_free(t);
		return GQ_ECORRUPT;
	}
	*out = t;
	return 0;
}

static int
topic_encode(const struct gq__topic *t, struct gq__buf *out)
{
	uint8_t h[12] = { TOPIC_RECORD_V3, 0 };
	int rv;

	h[2] = (uint8_t)t->replication_factor;
	h[3] = (uint8_t)((uint16_t)t->replication_factor >> 8);
	gq__le32_put(h + 4, t->id);
	gq__le32_put(h + 8, (uint32_t)t->n_parts);
	if (gq__buf_append(out, h, sizeof(h)) != 0 ||
	    assignment_write(out, t->n_parts, t->routes, true) != 0)
		return GQ_ENOMEM;
	rv = gq__topic_conf_encode(&t->conf, out);
	return rv;
}

static int
broker_decode(uint64_t id, const uint8_t *v, size_t len, struct gq__broker *b)
{
	struct gq__rd r = gq__rd_init(v, len);

	memset(b, 0, sizeof(*b));
	b->id = id;
	if (gq__rd_u8(&r) != 1)
		return GQ_ECORRUPT;
	b->removing = (gq__rd_u8(&r) & BROKER_REMOVING) != 0;
	gq__rd_str16(&r, b->raft_address, sizeof(b->raft_address));
	gq__rd_str16(&r, b->client_address, sizeof(b->client_address));
	if (r.left > 0) /* records before racks have none */
		gq__rd_str16(&r, b->rack, sizeof(b->rack));
	return r.bad || id == 0 || id > INT32_MAX ? GQ_ECORRUPT : 0;
}

/* The id in a "broker/<10 digits>" key, or 0. */
static uint64_t
broker_key_id(const char *digits, size_t len)
{
	uint64_t id = 0;

	if (len != 10)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (digits[i] < '0' || digits[i] > '9')
			return 0;
		id = id * 10 + (uint64_t)(digits[i] - '0');
	}
	return id;
}

static void
broker_key(uint64_t id, char *key, size_t size)
{
	snprintf(key, size, "broker/%010llu", (unsigned long long)id);
}

/* Load the committed topics and brokers into the node's tables. */
static int
load_state(struct gq__controller *c, MDB_txn *txn, char *errmsg)
{
	struct gq__store *st = c->node->store;
	MDB_cursor *cur;
	MDB_val k = { 6, "broker" };
	MDB_val v;
	int op = MDB_SET_RANGE;
	int rv;

	if ((rv = meta_get_u64(txn, st->meta, "ctl/applied", &c->applied)))
		return rv;
	if ((rv = gq__err_from_mdb(mdb_cursor_open(txn, st->meta, &cur))))
		return rv;
	/* "broker/" sorts before "topic/": brokers are known first. */
	while ((rv = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		const char *key = k.mv_data;
		char what[80];

		op = MDB_NEXT;
		if (k.mv_size > 7 && memcmp(key, "broker/", 7) == 0) {
			struct gq__broker b;

			rv = broker_decode(
				broker_key_id(key + 7, k.mv_size - 7),
				v.mv_data, v.mv_size, &b);
			if (rv == 0)
				rv = gq__node_broker_put(c->node, &b);
			snprintf(what, sizeof(what), "broker %.*s",
				 (int)k.mv_size - 7, key + 7);
		} else if (k.mv_size > 6 && memcmp(key, "topic/", 6) == 0) {
			struct gq__topic *t;

			rv = topic_decode(c, key + 6, k.mv_size - 6, v.mv_data,
					  v.mv_size, &t);
			if (rv == 0 && (rv = gq__node_topic_add(c->node, t)))
				gq__topic_free(t);
			snprintf(what, sizeof(what), "topic '%.*s'",
				 (int)k.mv_size - 6, key + 6);
		} else {
			continue;
		}
		if (rv == GQ_ECORRUPT)
			gq__errmsg_set(errmsg,
				       "controller state: bad record for %s in "
				       "index.lmdb",
				       what);
		if (rv != 0)
			break;
	}
	if (rv == MDB_NOTFOUND)
		rv = 0;
	else if (rv > 0)
		rv = gq__err_from_mdb(rv);
	mdb_cursor_close(cur);
	return rv;
}

/* ---- apply ------------------------------------------------------------ */

static void
apply_create(struct gq__controller *c, MDB_txn *txn, const uint8_t *p,
	     size_t len, struct gq__ctl_result *res)
{
	struct gq__store *st = c->node->store;
	struct gq__rd r = gq__rd_init(p, len);
	struct gq__buf rec = GQ__BUF_INIT;
	struct gq__topic *t;
	char name[GQ_NAME_MAX + 1];
	char key[GQ_NAME_MAX + 8];
	uint64_t next_id;
	int32_t n;
	int16_t rf;
	MDB_val k, v;
	int rv;

	gq__rd_str16(&r, name, sizeof(name));
	n = (int32_t)gq__rd_le32(&r);
	rf = (int16_t)gq__rd_le16(&r);
	if (r.bad || name[0] == '\0' || (t = gq__topic_alloc(n)) == NULL) {
		res->status = r.bad || n <= 0 ? GQ_ECORRUPT : GQ_ENOMEM;
		return;
	}
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->replication_factor = rf;
	assignment_read(&r, t, false);
	if (r.bad || gq__topic_conf_decode(r.p, r.left, &t->conf) != 0) {
		res->status = GQ_ECORRUPT;
		goto out;
	}
	k = topic_key(t->name, key);
	if (mdb_get(txn, st->meta, &k, &v) == 0) {
		res->status = GQ_EEXIST;
		goto out;
	}
	if ((rv = meta_get_u64(txn, st->meta, "ctl/next_topic_id", &next_id)))
		goto fail;
	t->id = (uint32_t)(next_id == 0 ? 1 : next_id);
	if ((rv = meta_put_u64(txn, st->meta, "ctl/next_topic_id",
			       t->id + 1)) != 0 ||
	    (rv = topic_encode(t, &rec)) != 0 ||
	    (rv = meta_put(txn, st->meta, key, rec.base, rec.len)) != 0)
		goto fail;
	c->created = t;
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
	     size_t len, struct gq__ctl_result *res)
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
	k = topic_key(name, key);
	rv = mdb_del(txn, st->meta, &k, NULL);
	if (rv == MDB_NOTFOUND) {
		res->status = GQ_ENOTOPIC;
		return;
	}
	res->status = gq__err_from_mdb(rv);
	if (res->status == 0)
		c->deleted = gq__node_topic_find(c->node, name);
}

static void
apply_producer_id(struct gq__controller *c, MDB_txn *txn,
		  struct gq__ctl_result *res)
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

static int
broker_write(MDB_txn *txn, MDB_dbi dbi, const struct gq__broker *b)
{
	struct gq__buf rec = GQ__BUF_INIT;
	char key[32];
	int rv;

	broker_key(b->id, key, sizeof(key));
	if (gq__buf_put_u8(&rec, 1) |
	    gq__buf_put_u8(&rec, b->removing ? BROKER_REMOVING : 0) |
	    gq__buf_put_str16(&rec, b->raft_address) |
	    gq__buf_put_str16(&rec, b->client_address) |
	    gq__buf_put_str16(&rec, b->rack))
		rv = GQ_ENOMEM;
	else
		rv = meta_put(txn, dbi, key, rec.base, rec.len);
	gq__buf_free(&rec);
	return rv;
}

/* The stored record of broker @id into *b: 0, GQ_EINVAL (no such
 * broker), GQ_ECORRUPT or an LMDB error. */
static int
broker_read(MDB_txn *txn, MDB_dbi dbi, uint64_t id, struct gq__broker *b)
{
	char key[32];
	MDB_val k, v;
	int rv;

	broker_key(id, key, sizeof(key));
	k.mv_size = strlen(key);
	k.mv_data = key;
	if ((rv = mdb_get(txn, dbi, &k, &v)) != 0)
		return rv == MDB_NOTFOUND ? GQ_EINVAL : gq__err_from_mdb(rv);
	return broker_decode(id, v.mv_data, v.mv_size, b);
}

static void
apply_broker(struct gq__controller *c, MDB_txn *txn, const uint8_t *p,
	     size_t len, struct gq__broker *b, struct gq__ctl_result *res)
{
	struct gq__rd r = gq__rd_init(p, len);
	struct gq__broker old;

	memset(b, 0, sizeof(*b));
	b->id = gq__rd_le32(&r);
	gq__rd_str16(&r, b->raft_address, sizeof(b->raft_address));
	gq__rd_str16(&r, b->client_address, sizeof(b->client_address));
	gq__rd_str16(&r, b->rack, sizeof(b->rack));
	if (r.bad || b->id == 0 || b->id > INT32_MAX) {
		res->status = GQ_ECORRUPT;
		return;
	}
	/* New addresses do not undo a removal. */
	if (broker_read(txn, c->node->store->meta, b->id, &old) == 0)
		b->removing = old.removing;
	res->status = broker_write(txn, c->node->store->meta, b);
}

/* Mark a broker as being removed: it gets no new replicas, loses the ones
 * it has (cluster.c), then leaves the controller group. */
static void
apply_broker_remove(struct gq__controller *c, MDB_txn *txn, const uint8_t *p,
		    size_t len, struct gq__broker *b,
		    struct gq__ctl_result *res)
{
	struct gq__rd r = gq__rd_init(p, len);
	uint64_t id = gq__rd_le32(&r);

	if (r.bad || r.left != 0 || id == 0) {
		res->status = GQ_ECORRUPT;
		return;
	}
	if ((res->status = broker_read(txn, c->node->store->meta, id, b)) != 0)
		return;
	b->removing = true;
	res->status = broker_write(txn, c->node->store->meta, b);
}

/* The stored record of topic @name (its LMDB key written into @key),
 * decoded into *@out, when it is still the topic of id @id that the
 * proposer saw: 0, GQ_ENOTOPIC (gone, or deleted and created again), or
 * an LMDB or decoding error. */
static int
stored_topic(struct gq__controller *c, MDB_txn *txn, const char *name,
	     uint32_t id, char *key, struct gq__topic **out)
{
	MDB_val k = topic_key(name, key), v;
	int rv;

	if ((rv = mdb_get(txn, c->node->store->meta, &k, &v)) != 0)
		return rv == MDB_NOTFOUND ? GQ_ENOTOPIC : gq__err_from_mdb(rv);
	if ((rv = topic_decode(c, name, strlen(name), v.mv_data, v.mv_size,
			       out)) != 0)
		return rv;
	if ((*out)->id != id) {
		gq__topic_free(*out);
		*out = NULL;
		return GQ_ENOTOPIC;
	}
	return 0;
}

/* Give a partition a new replica set (its Raft membership follows, see
 * membership.h).  The topic must still be the one the proposer saw. */
static void
apply_reassign(struct gq__controller *c, MDB_txn *txn, const uint8_t *p,
	       size_t len, struct gq__ctl_result *res)
{
	struct gq__store *st = c->node->store;
	struct gq__rd r = gq__rd_init(p, len);
	struct gq__buf rec = GQ__BUF_INIT;
	struct gq__topic *t = NULL;
	struct gq__route *rt;
	char name[GQ_NAME_MAX + 1];
	char key[GQ_NAME_MAX + 8];
	int32_t ids[GQ__REPLICAS_MAX];
	uint32_t id;
	int32_t index;
	uint8_t n;
	int rv;

	gq__rd_str16(&r, name, sizeof(name));
	id = gq__rd_le32(&r);
	index = (int32_t)gq__rd_le32(&r);
	n = replicas_read(&r, ids);
	if (r.bad || r.left != 0 || !gq__replicas_distinct(ids, n)) {
		res->status = GQ_ECORRUPT;
		return;
	}
	if ((res->status = stored_topic(c, txn, name, id, key, &t)) != 0)
		return;
	if (index < 0 || index >= t->n_parts) {
		res->status = GQ_ENOPARTITION;
	} else {
		rt = &t->routes[index];
		rt->n_replicas = n;
		memcpy(rt->replicas, ids, n * sizeof(*ids));
		if ((rv = topic_encode(t, &rec)) == 0)
			rv = meta_put(txn, st->meta, key, rec.base, rec.len);
		res->status = rv;
		c->reassigned = gq__node_topic_find(c->node, name);
		c->reassigned_index = index;
		c->reassigned_n = n;
		memcpy(c->reassigned_ids, ids, n * sizeof(*ids));
	}
	gq__buf_free(&rec);
	gq__topic_free(t);
}

bool
gq__ctl_alter_dedup(const struct gq__topic_conf *cur,
		    const struct gq__topic_conf *conf, uint32_t mask,
		    const char **key)
{
	if ((mask & GQ__TF_DEDUP_ENABLED) &&
	    conf->dedup_enabled != cur->dedup_enabled) {
		*key = gq__topic_field_name(GQ__TF_DEDUP_ENABLED);
		return true;
	}
	if ((mask & GQ__TF_DEDUP_WINDOW) &&
	    conf->dedup_window != cur->dedup_window) {
		*key = gq__topic_field_name(GQ__TF_DEDUP_WINDOW);
		return true;
	}
	return false;
}

/* Set some keys of a topic's configuration (controller.h, TOPIC_ALTER):
 * merged into the stored record, so that the result depends only on the
 * commands before it.  The topic must still be the one the proposer saw. */
static void
apply_alter(struct gq__controller *c, MDB_txn *txn, const uint8_t *p,
	    size_t len, struct gq__ctl_result *res)
{
	struct gq__store *st = c->node->store;
	struct gq__rd r = gq__rd_init(p, len);
	struct gq__buf rec = GQ__BUF_INIT;
	struct gq__topic_conf conf;
	struct gq__topic *t = NULL;
	char name[GQ_NAME_MAX + 1];
	char key[GQ_NAME_MAX + 8];
	const char *dedup_key;
	uint8_t version;
	uint32_t id, mask;
	int rv;

	version = gq__rd_u8(&r);
	gq__rd_str16(&r, name, sizeof(name));
	id = gq__rd_le32(&r);
	mask = gq__rd_le32(&r);
	if (r.bad || version != ALTER_VERSION || mask == 0 ||
	    (mask & ~GQ__TF_ALL) != 0 ||
	    gq__topic_conf_decode(r.p, r.left, &conf) != 0) {
		res->status = GQ_ECORRUPT;
		return;
	}
	if ((res->status = stored_topic(c, txn, name, id, key, &t)) != 0)
		return;
	if (gq__ctl_alter_dedup(&t->conf, &conf, mask, &dedup_key)) {
		res->status = GQ_EINVAL;
	} else {
		gq__topic_conf_merge(&t->conf, &conf, mask);
		if ((rv = topic_encode(t, &rec)) == 0)
			rv = meta_put(txn, st->meta, key, rec.base, rec.len);
		res->status = rv;
		c->altered = gq__node_topic_find(c->node, name);
		c->altered_conf = t->conf;
	}
	gq__buf_free(&rec);
	gq__topic_free(t);
}

static void
ctl_apply(void *owner, uint64_t index, uint64_t term, uint32_t type,
	  const uint8_t *data, size_t len, void **result)
{
	struct gq__controller *c = owner;
	struct gq__store *st = c->node->store;
	struct gq__ctl_result *res = &c->result;
	struct gq__broker broker;
	MDB_txn *txn;
	int rv;

	(void)term;
	memset(res, 0, sizeof(*res));
	res->index = index;
	c->created = c->deleted = c->reassigned = c->altered = NULL;
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
	case GQ__CTL_TOPIC_CREATE:
		apply_create(c, txn, data, len, res);
		break;
	case GQ__CTL_TOPIC_DELETE:
		apply_delete(c, txn, data, len, res);
		break;
	case GQ__CTL_PRODUCER_ID:
		apply_producer_id(c, txn, res);
		break;
	case GQ__CTL_BROKER_REGISTER:
		apply_broker(c, txn, data, len, &broker, res);
		break;
	case GQ__CTL_PARTITION_REASSIGN:
		apply_reassign(c, txn, data, len, res);
		break;
	case GQ__CTL_BROKER_REMOVE:
		apply_broker_remove(c, txn, data, len, &broker, res);
		break;
	case GQ__CTL_TOPIC_ALTER:
		apply_alter(c, txn, data, len, res);
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
		gq__topic_free(c->created);
		c->created = c->deleted = c->reassigned = c->altered = NULL;
		res->status = rv;
		return;
	}
	c->applied = index;
	if (res->status != 0)
		return;
	/* Side effects on the node only after the state is committed. */
	if (c->created != NULL)
		gq__node_topic_created(c->node, c->created);
	else if (c->deleted != NULL)
		gq__node_topic_deleted(c->node, c->deleted);
	else if (c->reassigned != NULL)
		gq__node_partition_reassigned(
			c->node, c->reassigned, c->reassigned_index,
			c->reassigned_ids, c->reassigned_n);
	else if (c->altered != NULL)
		gq__node_topic_altered(c->node, c->altered, &c->altered_conf);
	else if ((type == GQ__CTL_BROKER_REGISTER ||
		  type == GQ__CTL_BROKER_REMOVE) &&
		 gq__node_broker_put(c->node, &broker) != 0)
		gq__log(c->node, GQ_LOG_ERROR,
			"controller: no memory to record broker %llu",
			(unsigned long long)broker.id);
	c->created = c->deleted = c->reassigned = c->altered = NULL;
}

/* ---- snapshots -------------------------------------------------------- */

static bool
is_state_key(const MDB_val *k)
{
	for (size_t i = 0; i < sizeof(state_prefixes) / sizeof(*state_prefixes);
	     i++) {
		size_t n = strlen(state_prefixes[i]);

		if (k->mv_size > n &&
		    memcmp(k->mv_data, state_prefixes[i], n) == 0)
			return k->mv_size != 11 ||
			       memcmp(k->mv_data, "ctl/applied", 11) != 0;
	}
	return false;
}

static int
ctl_snapshot(void *owner, struct gq__buf *manifest)
{
	struct gq__controller *c = owner;
	struct gq__store *st = c->node->store;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	uint32_t count = 0;
	size_t count_at;
	int op = MDB_FIRST;
	int rv;

	if ((rv = gq__store_begin(st, false, &txn)) != 0)
		return rv;
	if ((rv = gq__err_from_mdb(mdb_cursor_open(txn, st->meta, &cur)))) {
		gq__store_abort(txn);
		return rv;
	}
	rv = gq__buf_put_le64(manifest, SNAPSHOT_VERSION) |
	     gq__buf_put_le64(manifest, c->applied);
	count_at = manifest->len;
	rv |= gq__buf_put_le32(manifest, 0);
	while (rv == 0 && mdb_cursor_get(cur, &k, &v, op) == 0) {
		op = MDB_NEXT;
		if (!is_state_key(&k))
			continue;
		rv = gq__buf_put_le32(manifest, (uint32_t)k.mv_size) |
		     gq__buf_append(manifest, k.mv_data, k.mv_size) |
		     gq__buf_put_le32(manifest, (uint32_t)v.mv_size) |
		     gq__buf_append(manifest, v.mv_data, v.mv_size);
		count++;
	}
	mdb_cursor_close(cur);
	gq__store_abort(txn);
	if (rv != 0)
		return GQ_ENOMEM;
	gq__le32_put(manifest->base + count_at, count);
	return 0;
}

static int
ctl_snapshot_sync(void *owner)
{
	struct gq__controller *c = owner;

	return gq__store_sync(c->node->store);
}

/* Replace every state record with the snapshot's, in @txn. */
static int
state_replace(struct gq__controller *c, MDB_txn *txn, struct gq__rd *r,
	      uint64_t applied)
{
	struct gq__store *st = c->node->store;
	MDB_cursor *cur;
	MDB_val k, v;
	uint32_t count;
	int rv;

	if ((rv = gq__err_from_mdb(mdb_cursor_open(txn, st->meta, &cur))))
		return rv;
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		if (is_state_key(&k) &&
		    (rv = gq__err_from_mdb(mdb_cursor_del(cur, 0))) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rv != 0)
		return rv;
	count = gq__rd_le32(r);
	for (uint32_t i = 0; i < count && !r->bad; i++) {
		k.mv_size = gq__rd_le32(r);
		k.mv_data = (void *)gq__rd_take(r, k.mv_size);
		v.mv_size = gq__rd_le32(r);
		v.mv_data = (void *)gq__rd_take(r, v.mv_size);
		if (r->bad || !is_state_key(&k))
			return GQ_ECORRUPT;
		if ((rv = gq__err_from_mdb(mdb_put(txn, st->meta, &k, &v, 0))))
			return rv;
	}
	if (r->bad)
		return GQ_ECORRUPT;
	return meta_put_u64(txn, st->meta, "ctl/applied", applied);
}

/* After a restore: make the node's tables match the new state.  Topics
 * that vanished (or were recreated under a new id) are deleted, new ones
 * created; brokers are replaced. */
static int
tables_reload(struct gq__controller *c)
{
	struct gq_node *node = c->node;
	struct gq__topic **old;
	size_t n_old = node->n_topics;
	char errmsg[GQ_ERRMSG_SIZE];
	MDB_txn *txn;
	int rv;

	if ((old = gq__calloc(n_old + 1, sizeof(*old))) == NULL)
		return GQ_ENOMEM;
	memcpy(old, node->topics, n_old * sizeof(*old));
	pthread_rwlock_wrlock(&node->meta_lock);
	node->n_topics = 0;
	node->n_brokers = 0;
	pthread_rwlock_unlock(&node->meta_lock);
	if ((rv = gq__store_begin(node->store, false, &txn)) == 0) {
		rv = load_state(c, txn, errmsg);
		gq__store_abort(txn);
	}
	for (size_t i = 0; i < n_old; i++) {
		struct gq__topic *t = gq__node_topic_find(node, old[i]->name);

		if (t != NULL && t->id == old[i]->id) {
			/* The same topic: keep the live object, with the
			 * replicas and configuration the snapshot has; drop
			 * the copy. */
			gq__node_topic_remove(node, t);
			gq__node_topic_add(node, old[i]);
			if (!gq__topic_conf_equal(&t->conf, &old[i]->conf))
				gq__node_topic_altered(node, old[i], &t->conf);
			for (int32_t j = 0; j < t->n_parts; j++) {
				const struct gq__route *now = &t->routes[j];
				const struct gq__route *was =
					&old[i]->routes[j];

				if (now->n_replicas != was->n_replicas ||
				    memcmp(now->replicas, was->replicas,
					   now->n_replicas *
						   sizeof(*now->replicas)) != 0)
					gq__node_partition_reassigned(
						node, old[i], j, now->replicas,
						now->n_replicas);
			}
			gq__topic_free(t);
			old[i] = NULL;
		}
	}
	for (size_t i = 0; i < n_old; i++) {
		if (old[i] != NULL)
			gq__node_topic_deleted(node, old[i]);
	}
	for (size_t i = 0; i < node->n_topics; i++)
		gq__topic_open_partitions(node, node->topics[i]);
	gq__free(old);
	return rv;
}

static int
ctl_restore(void *owner, const uint8_t *data, size_t len)
{
	struct gq__controller *c = owner;
	struct gq__rd r = gq__rd_init(data, len);
	uint64_t version = gq__rd_le64(&r);
	uint64_t applied = gq__rd_le64(&r);
	MDB_txn *txn;
	int rv;

	if (r.bad || (version != 1 && version != SNAPSHOT_VERSION))
		return GQ_ECORRUPT;
	if (applied <= c->applied)
		return 0; /* our own, or older than what we hold */
	if (version == 1) {
		/* A single node's manifest without state: LMDB lost what
		 * Raft compacted away; refuse rather than serve without
		 * topics. */
		gq__log(c->node, GQ_LOG_ERROR,
			"controller: index.lmdb applied %llu is behind the "
			"Raft snapshot at %llu",
			(unsigned long long)c->applied,
			(unsigned long long)applied);
		return GQ_ECORRUPT;
	}
	if ((rv = gq__store_begin(c->node->store, true, &txn)) != 0)
		return rv;
	if ((rv = state_replace(c, txn, &r, applied)) != 0) {
		gq__store_abort(txn);
		return rv;
	}
	if ((rv = gq__store_commit(txn)) != 0)
		return rv;
	c->applied = applied;
	gq__log(c->node, GQ_LOG_INFO,
		"controller: state restored from a snapshot at index %llu",
		(unsigned long long)applied);
	return tables_reload(c);
}

static void
ctl_role(void *owner, bool leader, bool failed)
{
	struct gq__controller *c = owner;

	/* Leadership itself is read by the node every loop turn; only
	 * failures need saying. */
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

/* ---- the group --------------------------------------------------------- */

int
gq__controller_open(struct gq_node *node, struct gq__controller **out,
		    char *errmsg)
{
	const char *addrs[GQ__PEERS_MAX];
	uint64_t ids[GQ__PEERS_MAX];
	struct gq__controller *c;
	struct gq__rgroup_conf rc;
	char dir[4200];
	MDB_txn *txn;
	int rv;

	if ((c = gq__calloc(1, sizeof(*c))) == NULL)
		return GQ_ENOMEM;
	c->node = node;
	if ((rv = gq__store_begin(node->store, false, &txn)) != 0)
		goto err;
	rv = load_state(c, txn, errmsg);
	gq__store_abort(txn);
	if (rv != 0)
		goto err;
	snprintf(dir, sizeof(dir), "%s/controller", node->dir);
	gq__node_rgroup_conf(node, true, &rc);
	/* Every initial member bootstraps the same voters, in the same
	 * order (initial_cluster must be identical on all of them); a
	 * joining node starts empty and is added by the leader. */
	for (size_t i = 0; i < node->n_peers; i++) {
		ids[i] = node->peers[i].id;
		addrs[i] = node->peers[i].address;
	}
	rc.n_voters = (unsigned)node->n_peers;
	rc.bootstrap = !node->joining;
	rc.voter_ids = ids;
	rc.voter_addresses = addrs;
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
	struct gq__ctl_result res = { status, -1, 0 };

	if (status == 0 && result == NULL)
		res.status = GQ_EINTERNAL;
	else if (status == 0)
		res = *(struct gq__ctl_result *)result;
	else if (status != GQ_ENOTLEADER && status != GQ_ECLOSED)
		res.status = GQ_EUNKNOWN; /* proposed, outcome unknown */
	prop->cb(prop->arg, &res);
	gq__free(prop);
}

int
gq__controller_propose(struct gq__controller *c, uint32_t type,
		       const void *body, size_t len, gq__ctl_cb cb, void *arg)
{
	struct ctl_proposal *prop;
	struct raft_buffer buf;
	uint8_t *payload;
	int rv;

	if ((prop = gq__calloc(1, sizeof(*prop))) == NULL)
		return GQ_ENOMEM;
	if ((payload = gq__rgroup_entry_alloc(len, &buf)) == NULL) {
		gq__free(prop);
		return GQ_ENOMEM;
	}
	if (len > 0)
		memcpy(payload, body, len);
	prop->cb = cb;
	prop->arg = arg;
	prop->rreq.data = prop;
	rv = gq__rgroup_propose(c->rg, &prop->rreq, type, &buf, len,
				proposal_done);
	if (rv != 0)
		gq__free(prop);
	return rv;
}

int
gq__ctl_encode_create(struct gq__buf *out, const char *name, int32_t partitions,
		      int16_t replication_factor,
		      const struct gq__route *routes,
		      const struct gq__topic_conf *conf)
{
	if ((gq__buf_put_str16(out, name) |
	     gq__buf_put_le32(out, (uint32_t)partitions) |
	     gq__buf_put_le16(out, (uint16_t)replication_factor)) != 0 ||
	    assignment_write(out, partitions, routes, false) != 0)
		return GQ_ENOMEM;
	return gq__topic_conf_encode(conf, out);
}

int
gq__ctl_encode_broker(struct gq__buf *out, const struct gq__broker *b)
{
	if ((gq__buf_put_le32(out, (uint32_t)b->id) |
	     gq__buf_put_str16(out, b->raft_address) |
	     gq__buf_put_str16(out, b->client_address) |
	     gq__buf_put_str16(out, b->rack)) != 0)
		return GQ_ENOMEM;
	return 0;
}

int
gq__ctl_encode_reassign(struct gq__buf *out, const struct gq__topic *t,
			int32_t partition, const int32_t *replicas, uint8_t n)
{
	if ((gq__buf_put_str16(out, t->name) | gq__buf_put_le32(out, t->id) |
	     gq__buf_put_le32(out, (uint32_t)partition) |
	     replicas_write(out, n, replicas)) != 0)
		return GQ_ENOMEM;
	return 0;
}

int
gq__ctl_encode_alter(struct gq__buf *out, const struct gq__topic *t,
		     uint32_t mask, const struct gq__topic_conf *conf)
{
	if ((gq__buf_put_u8(out, ALTER_VERSION) |
	     gq__buf_put_str16(out, t->name) | gq__buf_put_le32(out, t->id) |
	     gq__buf_put_le32(out, mask)) != 0)
		return GQ_ENOMEM;
	return gq__topic_conf_encode(conf, out);
}

struct gq__rgroup *
gq__controller_rgroup(struct gq__controller *c)
{
	return c->rg;
}

void
gq__controller_poll(struct gq__controller *c)
{
	gq__rgroup_poll(c->rg);
}

bool
gq__controller_is_leader(const struct gq__controller *c)
{
	return c != NULL && c->rg != NULL && gq__rgroup_is_leader(c->rg);
}

uint64_t
gq__controller_leader(struct gq__controller *c, const char **address)
{
	raft_id id = 0;
	const char *addr = NULL;

	if (c == NULL || c->rg == NULL || c->rg->state >= GQ__RG_FAILED)
		return 0;
	raft_leader(&c->rg->raft, &id, &addr);
	if (address != NULL)
		*address = addr;
	return id;
}

uint64_t
gq__controller_applied(const struct gq__controller *c)
{
	return c->applied;
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
