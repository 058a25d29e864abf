/* SPDX-License-Identifier: MIT */
/*
 * coordinator.c - hosting the group coordinator (coordinator.h): which
 * gcoord answers a request, its timers on the node's loop, Kafka error
 * codes turned into GQ_E* codes, commits checked and proposed, and the
 * coordinator's groups copied out for describe and list.
 */
#include "coordinator.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "gcoord.h"
#include "group.h"
#include "group_forward.h"
#include "heap.h"
#include "node.h"
#include "partition.h"
#include "store.h"

struct gq__coord {
	struct gq_node *node;
	/* The state machine of each offsets partition serving here. */
	struct gq__gcoord *gc[GQ__OFFSETS_PARTITIONS];
	/* While a gcoord is destroyed: what its parked calls are told. */
	int dropping;
	bool stopped;
	/* Groups that settled since their states were last proposed. */
	char **settled;
	size_t n_settled;
	size_t cap_settled;
};

int32_t
gq__coord_partition(const char *group)
{
	uint32_t h = 2166136261u; /* FNV-1a: stable across versions */

	for (const char *s = group; *s != '\0'; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return (int32_t)(h % GQ__OFFSETS_PARTITIONS);
}

/* The coordinator's answer (a Kafka error code) as a GQ_E* code. */
static int
status_of(const struct gq__coord *c, int16_t error)
{
	switch (error) {
	case GQ__GC_ERR_NONE:
		return 0;
	case GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE:
		/* Out of memory, unless the coordinator is going away. */
		return c->dropping != 0 ? c->dropping : GQ_ENOMEM;
	case GQ__GC_ERR_ILLEGAL_GENERATION:
		return GQ_EGENERATION;
	case GQ__GC_ERR_INCONSISTENT_GROUP_PROTOCOL:
		return GQ_EGROUPPROTOCOL;
	case GQ__GC_ERR_INVALID_GROUP_ID:
		return GQ_EBADNAME;
	case GQ__GC_ERR_UNKNOWN_MEMBER_ID:
		return GQ_EMEMBER;
	case GQ__GC_ERR_INVALID_SESSION_TIMEOUT:
		return GQ_ESESSION;
	case GQ__GC_ERR_REBALANCE_IN_PROGRESS:
		return GQ_EREBALANCE;
	case GQ__GC_ERR_MEMBER_ID_REQUIRED:
		return GQ_EMEMBERID;
	case GQ__GC_ERR_FENCED_INSTANCE_ID:
		return GQ_EINSTANCE;
	default:
		return GQ_EINTERNAL;
	}
}

static int64_t
now_ms(const struct gq__coord *c)
{
	return (int64_t)uv_now(c->node->loop);
}

/* ---- timers ------------------------------------------------------------ */

static void timer_cb(uv_timer_t *t);
static void save_settled(struct gq__coord *c);

/* Run the group timer at the earliest time a gcoord has work. */
static void
arm(struct gq__coord *c)
{
	int64_t next = -1, now = now_ms(c);

	for (int i = 0; i < GQ__OFFSETS_PARTITIONS; i++) {
		int64_t t;

		if (c->gc[i] == NULL ||
		    (t = gq__gcoord_next_tick(c->gc[i])) < 0)
			continue;
		if (next < 0 || t < next)
			next = t;
	}
	if (next < 0 || c->stopped) {
		uv_timer_stop(&c->node->group_timer);
		return;
	}
	uv_timer_start(&c->node->group_timer, timer_cb,
		       next > now ? (uint64_t)(next - now) : 0, 0);
}

static void
timer_cb(uv_timer_t *t)
{
	struct gq_node *node = t->data;
	struct gq__coord *c = node->coord;

	for (int i = 0; i < GQ__OFFSETS_PARTITIONS; i++)
		if (c->gc[i] != NULL)
			gq__gcoord_tick(c->gc[i], now_ms(c));
	save_settled(c);
	arm(c);
}

/* ---- life cycle -------------------------------------------------------- */

int
gq__coord_create(struct gq_node *node, struct gq__coord **out)
{
	struct gq__coord *c = gq__calloc(1, sizeof(*c));

	if (c == NULL)
		return GQ_ENOMEM;
	c->node = node;
	*out = c;
	return 0;
}

/* Destroy partition @i's gcoord; its parked calls fail with @status. */
static void
drop(struct gq__coord *c, int32_t i, int status)
{
	struct gq__gcoord *gc = c->gc[i];

	if (gc == NULL)
		return;
	c->gc[i] = NULL;
	c->dropping = status;
	gq__gcoord_destroy(gc);
	c->dropping = 0;
	arm(c);
}

void
gq__coord_stop(struct gq__coord *c)
{
	if (c == NULL)
		return;
	c->stopped = true;
	for (int32_t i = 0; i < GQ__OFFSETS_PARTITIONS; i++)
		drop(c, i, GQ_ECLOSED);
}

void
gq__coord_free(struct gq__coord *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_settled; i++)
		gq__free(c->settled[i]);
	gq__free(c->settled);
	gq__free(c);
}

/* ---- saved group states ----------------------------------------------- */

/* gcoord's settled hook: remember @group until save_settled(). */
static void
on_settled(void *arg, const char *group)
{
	struct gq__coord *c = arg;
	char *name;

	for (size_t i = 0; i < c->n_settled; i++)
		if (strcmp(c->settled[i], group) == 0)
			return;
	if (c->n_settled == c->cap_settled) {
		size_t cap = c->cap_settled > 0 ? 2 * c->cap_settled : 8;
		char **p = gq__realloc(c->settled, cap * sizeof(*p));

		if (p == NULL)
			goto oom;
		c->settled = p;
		c->cap_settled = cap;
	}
	if ((name = gq__strdup(group)) == NULL)
		goto oom;
	c->settled[c->n_settled++] = name;
	return;
oom:
	/* The saved state stays older: after a failover the members find
	 * their generation stale and join again. */
	gq__log(c->node, GQ_LOG_WARN, "group %s: state not saved: %s", group,
		gq_strerror(GQ_ENOMEM));
}

static void
state_saved(struct gq__req *req)
{
	struct gq_node *node = req->owner;
	struct gq__coord *c = node->coord;
	const char *group = req->u.state.group;
	int32_t part = gq__coord_partition(group);

	if (req->status != 0 && req->status != GQ_ECLOSED)
		gq__log(node, GQ_LOG_WARN, "group %s: state not saved: %s",
			group, req->errmsg);
	/* The coordinator may have stopped, or restarted with a new gcoord
	 * that ignores a generation it does not hold at Stable. */
	if (c != NULL && c->gc[part] != NULL)
		gq__gcoord_saved(c->gc[part], group, req->u.state.generation,
				 req->status, now_ms(c));
	gq__buf_free(&req->u.state.data);
	gq__free(req);
}

/* Propose the state of every group that settled to its partition. */
static void
save_settled(struct gq__coord *c)
{
	struct gq_node *node = c->node;
	struct gq__topic *off = gq__node_topic_find(node, GQ__OFFSETS_TOPIC);
	/* Taken out first: a failed save starts a rebalance, and gcoord's
	 * hook may add to the list while this walks it. */
	char **settled = c->settled;
	size_t n = c->n_settled;

	c->settled = NULL;
	c->n_settled = c->cap_settled = 0;
	for (size_t i = 0; i < n; i++) {
		char *group = settled[i];
		int32_t part = gq__coord_partition(group);
		struct gq__req *req;

		if (c->gc[part] == NULL) {
			gq__free(group);
			continue;
		}
		if (off == NULL || off->parts[part] == NULL ||
		    (req = gq__calloc(1, sizeof(*req))) == NULL) {
			/* Its SyncGroup answers must not wait forever. */
			gq__gcoord_saved(
				c->gc[part], group,
				gq__gcoord_generation(c->gc[part], group),
				GQ_ENOMEM, now_ms(c));
		} else {
			req->type = GQ__REQ_GROUP_STATE;
			req->done = state_saved;
			req->owner = node;
			snprintf(req->u.state.group, sizeof(req->u.state.group),
				 "%s", group);
			req->u.state.generation =
				gq__gcoord_generation(c->gc[part], group);
			if (gq__gcoord_save(c->gc[part], group,
					    &req->u.state.data) == 0)
				gq__partition_enqueue(off->parts[part], req);
			else
				gq__req_complete(req, GQ_ENOMEM);
		}
		gq__free(group);
	}
	gq__free(settled);
}

/* Restore the saved groups of offsets partition @i into its new gcoord:
 * LMDB holds every state committed before this leader's term. */
static void
restore(struct gq__coord *c, int32_t i)
{
	struct gq_node *node = c->node;
	int64_t now = now_ms(c);
	size_t restored = 0, bad = 0;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rv;

	if (gq__store_begin(node->store, false, &txn) != 0)
		return;
	if (mdb_cursor_open(txn, node->store->groups, &cur) != 0) {
		gq__store_abort(txn);
		return;
	}
	for (rv = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rv == 0;
	     rv = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *key = k.mv_data;
		char group[GQ_NAME_MAX + 1];
		size_t gl = k.mv_size - 2;

		/* group NUL 0xff: a saved state (gq__group_state_key). */
		if (k.mv_size < 3 || k.mv_size > GQ_NAME_MAX + 2 ||
		    key[k.mv_size - 1] != 0xff || key[gl] != 0 ||
		    memchr(key, 0, gl) != NULL)
			continue;
		memcpy(group, key, gl);
		group[gl] = '\0';
		if (gq__coord_partition(group) != i)
			continue;
		if (gq__gcoord_restore(c->gc[i], group, v.mv_data, v.mv_size,
				       now) == 0)
			restored++;
		else
			bad++;
	}
	mdb_cursor_close(cur);
	gq__store_abort(txn);
	if (restored > 0 || bad > 0)
		gq__log(node, bad > 0 ? GQ_LOG_WARN : GQ_LOG_INFO,
			"%s/%d: resumed %zu groups, %zu could not be",
			GQ__OFFSETS_TOPIC, i, restored, bad);
}

void
gq__coord_role(struct gq__coord *c, const struct gq__partition *p, bool serving)
{
	struct gq_node *node;
	struct gq__gc_conf conf;
	int32_t i = gq__partition_index(p);
	int rv;

	if (c == NULL || i < 0 || i >= GQ__OFFSETS_PARTITIONS)
		return;
	node = c->node;
	if (!serving) {
		if (c->gc[i] != NULL)
			gq__log(node, GQ_LOG_INFO,
				"no longer coordinating the groups of %s/%d",
				GQ__OFFSETS_TOPIC, i);
		drop(c, i, GQ_ENOTCOORD);
		return;
	}
	if (c->gc[i] != NULL || c->stopped)
		return;
	gq__gcoord_conf_init(&conf);
	conf.min_session_ms = (int32_t)node->conf.group_min_session_timeout_ms;
	conf.max_session_ms = (int32_t)node->conf.group_max_session_timeout_ms;
	conf.initial_rebalance_delay_ms =
		(int32_t)node->conf.group_initial_rebalance_delay_ms;
	/* Member ids must not repeat across coordinators: mix in who we are
	 * and when. */
	conf.member_id_seed = node->conf.node_id << 40 ^ uv_hrtime();
	conf.settled = on_settled;
	conf.settled_arg = c;
	if ((rv = gq__gcoord_create(&conf, &c->gc[i])) != 0) {
		gq__log(node, GQ_LOG_ERROR,
			"cannot coordinate the groups of %s/%d: %s",
			GQ__OFFSETS_TOPIC, i, gq_strerror(rv));
		return;
	}
	gq__log(node, GQ_LOG_INFO, "coordinating the groups of %s/%d",
		GQ__OFFSETS_TOPIC, i);
	restore(c, i);
	arm(c);
}

/* ---- requests ---------------------------------------------------------- */

/* The gcoord that owns @group here, or NULL with *status telling whether
 * another node coordinates it (GQ_ENOTCOORD, that node in *elsewhere) or
 * nobody yet (GQ_ENOTREADY). */
static struct gq__gcoord *
gcoord_of(struct gq__coord *c, const char *group, int *status,
	  int32_t *elsewhere)
{
	struct gq_node *node = c->node;
	int32_t i = gq__coord_partition(group);
	struct gq__topic *off;
	int32_t leader;

	if (c->gc[i] != NULL)
		return c->gc[i];
	off = gq__node_topic_find(node, GQ__OFFSETS_TOPIC);
	leader = off != NULL && i < off->n_parts
			 ? atomic_load(&off->routes[i].leader)
			 : -1;
	*status = leader > 0 && (uint64_t)leader != node->conf.node_id
			  ? GQ_ENOTCOORD
			  : GQ_ENOTREADY;
	*elsewhere = leader;
	return NULL;
}

static void
on_join(void *arg, const struct gq__gc_join_resp *r)
{
	struct gq__req *req = arg;
	struct gq__coord *c = req->owner;
	struct gq_group_member *m = NULL;
	struct gq_group_joined j = {
		.generation = r->generation,
		.protocol = r->protocol_name,
		.leader = r->leader,
		.member_id = r->member_id,
	};
	int status = status_of(c, r->error);

	if (r->n_members > 0) {
		if ((m = gq__calloc(r->n_members, sizeof(*m))) == NULL) {
			status = GQ_ENOMEM;
		} else {
			for (size_t i = 0; i < r->n_members; i++) {
				m[i].member_id = r->members[i].member_id;
				m[i].group_instance_id =
					r->members[i].group_instance_id;
				m[i].metadata = r->members[i].metadata;
				m[i].len = r->members[i].len;
			}
			j.n_members = r->n_members;
			j.members = m;
		}
	}
	req->u.group.joined = &j;
	gq__req_complete(req, status);
	gq__free(m);
}

static void
on_sync(void *arg, int16_t error, const uint8_t *assignment, size_t len)
{
	struct gq__req *req = arg;

	req->u.group.assignment = assignment;
	req->u.group.assignment_len = len;
	gq__req_complete(req, status_of(req->owner, error));
}

static void
join(struct gq__gcoord *gc, struct gq__req *req, int64_t now)
{
	const struct gq_group_join *in = &req->u.group.join;
	struct gq__gc_protocol protos[GQ__GROUP_PROTOCOLS_MAX];
	struct gq__gc_join_req r = {
		.group = in->group,
		.member_id = in->member_id,
		.group_instance_id = in->group_instance_id,
		.client_id = in->client_id,
		.client_host = in->client_host,
		.protocol_type = in->protocol_type,
		.session_timeout_ms = in->session_timeout_ms,
		.rebalance_timeout_ms = in->rebalance_timeout_ms,
		.api_version = in->require_member_id ? 4 : 0,
		.n_protocols = in->n_protocols,
		.protocols = protos,
	};

	/* group.c refuses more protocols than fit. */
	for (size_t i = 0; i < in->n_protocols; i++) {
		protos[i].name = in->protocols[i].name;
		protos[i].metadata = in->protocols[i].metadata;
		protos[i].len = in->protocols[i].len;
	}
	gq__gcoord_join(gc, &r, now, on_join, req);
}

static void
sync_group(struct gq__gcoord *gc, struct gq__req *req, int64_t now)
{
	const struct gq_group_assignment *in = req->u.group.assignments;
	size_t n = req->u.group.n;
	struct gq__gc_assignment *a = NULL;

	if (n > 0 && (a = gq__calloc(n, sizeof(*a))) == NULL) {
		gq__req_complete(req, GQ_ENOMEM);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		a[i].member_id = in[i].member_id;
		a[i].data = in[i].data;
		a[i].len = in[i].len;
	}
	gq__gcoord_sync(gc, req->u.group.group, req->u.group.generation,
			req->u.group.member_id, req->u.group.instance_id, n, a,
			now, on_sync, req);
	gq__free(a);
}

/* One offset of a commit was stored (or not). */
static void
commit_one_done(struct gq__req *sub)
{
	struct gq__req *req = sub->owner;
	struct gq_group_offset *o = sub->async_arg;

	o->status = sub->status;
	gq__free(sub->u.commit.metadata);
	gq__free(sub);
	if (--req->u.group.pending == 0)
		gq__req_complete(req, 0);
}

/* Propose each offset of a checked commit to the offsets partition; the
 * request completes once all are stored or failed. */
static void
commit(struct gq__coord *c, struct gq__req *req)
{
	struct gq_node *node = c->node;
	const char *group = req->u.group.group;
	struct gq__topic *off = gq__node_topic_find(node, GQ__OFFSETS_TOPIC);
	struct gq__partition *p = off->parts[gq__coord_partition(group)];

	req->u.group.pending = 1; /* until every offset is on its way */
	for (size_t i = 0; i < req->u.group.n; i++) {
		struct gq_group_offset *o = &req->u.group.offsets[i];
		struct gq__topic *t;
		struct gq__req *sub;

		if (o->status != 0) /* refused by gq__group_check_offsets() */
			continue;
		t = gq__node_topic_find(node, o->topic);
		if (t == NULL || t->deleting) {
			o->status = GQ_ENOTOPIC;
			continue;
		}
		if (o->partition < 0 || o->partition >= t->n_parts) {
			o->status = GQ_ENOPARTITION;
			continue;
		}
		if ((sub = gq__calloc(1, sizeof(*sub))) == NULL ||
		    (o->metadata != NULL &&
		     (sub->u.commit.metadata = gq__strdup(o->metadata)) ==
			     NULL)) {
			gq__free(sub);
			o->status = GQ_ENOMEM;
			continue;
		}
		sub->type = GQ__REQ_GROUP_COMMIT;
		snprintf(sub->topic, sizeof(sub->topic), "%s", o->topic);
		snprintf(sub->u.commit.group, sizeof(sub->u.commit.group), "%s",
			 group);
		sub->partition = o->partition;
		sub->u.commit.offset = o->offset;
		sub->done = commit_one_done;
		sub->owner = req;
		sub->async_arg = o;
		req->u.group.pending++;
		gq__partition_enqueue(p, sub);
	}
	if (--req->u.group.pending == 0)
		gq__req_complete(req, 0);
}

static char *
dup_or_null(const char *s, bool *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = gq__strdup(s)) == NULL)
		*failed = true;
	return d;
}

static void *
dup_bytes(const void *b, size_t len, bool *failed)
{
	void *d;

	if (b == NULL || len == 0)
		return NULL;
	if ((d = gq__malloc(len)) == NULL)
		*failed = true;
	else
		memcpy(d, b, len);
	return d;
}

/* Copy @in into @out (members too with @members); 0 or GQ_ENOMEM, and
 * then @out holds what was copied, for gq__group_info_clear(). */
static int
info_copy(const struct gq__gc_group_info *in, bool members,
	  struct gq_group_info *out)
{
	bool failed = false;

	memset(out, 0, sizeof(*out));
	out->group = dup_or_null(in->group_id, &failed);
	out->state = dup_or_null(in->state, &failed);
	out->protocol_type = dup_or_null(in->protocol_type, &failed);
	out->protocol = dup_or_null(in->protocol, &failed);
	out->leader = dup_or_null(in->leader, &failed);
	out->generation = in->generation;
	out->n_members = in->n_members;
	if (!members || in->n_members == 0 || failed)
		return failed ? GQ_ENOMEM : 0;
	if ((out->members = gq__calloc(in->n_members, sizeof(*out->members))) ==
	    NULL) {
		out->n_members = 0;
		return GQ_ENOMEM;
	}
	for (size_t i = 0; i < in->n_members; i++) {
		const struct gq__gc_member_desc *d = &in->members[i];
		struct gq_group_member_info *m = &out->members[i];

		m->member_id = dup_or_null(d->member_id, &failed);
		m->group_instance_id =
			dup_or_null(d->group_instance_id, &failed);
		m->client_id = dup_or_null(d->client_id, &failed);
		m->client_host = dup_or_null(d->client_host, &failed);
		m->metadata = dup_bytes(d->metadata, d->metadata_len, &failed);
		m->metadata_len = m->metadata != NULL ? d->metadata_len : 0;
		m->assignment =
			dup_bytes(d->assignment, d->assignment_len, &failed);
		m->assignment_len =
			m->assignment != NULL ? d->assignment_len : 0;
	}
	return failed ? GQ_ENOMEM : 0;
}

/*
 * Groups that only commit offsets (consumers that assign partitions
 * themselves) never join, so gcoord does not know them; Kafka lists and
 * describes them as Empty.  They are found by their offsets in LMDB, whose
 * keys start with the group's name and a NUL (partition.h).
 */

/* Whether @group has committed offsets or a saved state here. */
static bool
has_offsets(struct gq__coord *c, const char *group)
{
	size_t len = strlen(group) + 1;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k = { len, (void *)group }, v;
	bool found = false;

	if (gq__store_begin(c->node->store, false, &txn) != 0)
		return false;
	if (mdb_cursor_open(txn, c->node->store->groups, &cur) == 0) {
		found = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == 0 &&
			k.mv_size > len && memcmp(k.mv_data, group, len) == 0;
		mdb_cursor_close(cur);
	}
	gq__store_abort(txn);
	return found;
}

/* A group known only by its offsets, as gcoord would describe it. */
static void
offsets_only(const char *group, struct gq__gc_group_info *out)
{
	memset(out, 0, sizeof(*out));
	out->group_id = group;
	out->state = "Empty";
	out->protocol_type = "";
	out->protocol = "";
	out->leader = "";
}

static void
describe(struct gq__coord *c, struct gq__gcoord *gc, struct gq__req *req)
{
	struct gq__gc_group_info in;

	gq__gcoord_describe(gc, req->u.group.group, &in);
	if (strcmp(in.state, "Dead") == 0 && has_offsets(c, req->u.group.group))
		offsets_only(req->u.group.group, &in);
	gq__req_complete(req, info_copy(&in, true, req->u.group.info));
}

/* Append to @out (grown as needed) the groups coordinated here that
 * gcoord does not know but LMDB holds offsets of. */
static int
list_offsets_only(struct gq__coord *c, struct gq_group_info **out, size_t *n)
{
	char name[GQ_NAME_MAX + 1], last[GQ_NAME_MAX + 1] = "";
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	size_t cap = *n;
	int rv, op = MDB_FIRST;

	if ((rv = gq__store_begin(c->node->store, false, &txn)) != 0)
		return rv;
	if ((rv = mdb_cursor_open(txn, c->node->store->groups, &cur)) != 0) {
		gq__store_abort(txn);
		return gq__err_from_mdb(rv);
	}
	rv = 0;
	for (; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
		const char *nul = memchr(k.mv_data, 0, k.mv_size);
		size_t len =
			nul != NULL ? (size_t)(nul - (char *)k.mv_data) : 0;
		struct gq__gcoord *gc;
		struct gq__gc_group_info in;

		if (nul == NULL || len == 0 || len > GQ_NAME_MAX)
			continue;
		memcpy(name, k.mv_data, len);
		name[len] = '\0';
		if (strcmp(name, last) == 0)
			continue;
		memcpy(last, name, len + 1);
		gc = c->gc[gq__coord_partition(name)];
		if (gc == NULL || gq__gcoord_generation(gc, name) >= 0)
			continue;
		if (*n == cap) {
			struct gq_group_info *grown;

			cap = cap > 0 ? 2 * cap : 8;
			grown = gq__realloc(*out, cap * sizeof(**out));
			if (grown == NULL) {
				rv = GQ_ENOMEM;
				break;
			}
			*out = grown;
		}
		offsets_only(name, &in);
		if ((rv = info_copy(&in, false, &(*out)[(*n)++])) != 0)
			break;
	}
	mdb_cursor_close(cur);
	gq__store_abort(txn);
	return rv;
}

/* Every group coordinated here, without members. */
static void
list(struct gq__coord *c, struct gq__req *req)
{
	struct gq_group_info *out = NULL;
	size_t n = 0, k = 0;
	int rv = 0;

	for (int i = 0; i < GQ__OFFSETS_PARTITIONS; i++)
		if (c->gc[i] != NULL)
			n += gq__gcoord_group_count(c->gc[i]);
	if (n > 0 && (out = gq__calloc(n, sizeof(*out))) == NULL)
		rv = GQ_ENOMEM;
	for (int i = 0; rv == 0 && i < GQ__OFFSETS_PARTITIONS; i++) {
		size_t count =
			c->gc[i] != NULL ? gq__gcoord_group_count(c->gc[i]) : 0;

		for (size_t j = 0; rv == 0 && j < count; j++) {
			struct gq__gc_group_info in;

			if (gq__gcoord_group_at(c->gc[i], j, &in) == 0)
				rv = info_copy(&in, false, &out[k++]);
		}
	}
	if (rv == 0)
		rv = list_offsets_only(c, &out, &k);
	req->u.group.info = out;
	req->u.group.n = k;
	gq__req_complete(req, rv);
}

void
gq__coord_dispatch(struct gq__coord *c, struct gq__req *req)
{
	struct gq__gcoord *gc = NULL;
	int32_t elsewhere = -1;
	int64_t now;
	int status = 0;

	req->owner = c;
	if (c->stopped) {
		gq__req_complete(req, GQ_ECLOSED);
		return;
	}
	if (req->u.group.op == GQ__GROUP_LIST) {
		list(c, req);
		return;
	}
	if ((gc = gcoord_of(c, req->u.group.group, &status, &elsewhere)) ==
	    NULL) {
		/* The embedded API works on any node: the call goes to the
		 * coordinator, once. */
		if (status == GQ_ENOTCOORD && !req->u.group.forwarded &&
		    req->u.group.op != GQ__GROUP_DESCRIBE)
			gq__group_forward(c->node, req, elsewhere);
		else
			gq__req_complete(req, status);
		return;
	}
	now = now_ms(c);
	switch (req->u.group.op) {
	case GQ__GROUP_JOIN:
		join(gc, req, now);
		break;
	case GQ__GROUP_SYNC:
		sync_group(gc, req, now);
		break;
	case GQ__GROUP_HEARTBEAT:
		gq__req_complete(
			req,
			status_of(c, gq__gcoord_heartbeat(
					     gc, req->u.group.group,
					     req->u.group.generation,
					     req->u.group.member_id, now)));
		break;
	case GQ__GROUP_LEAVE:
		gq__req_complete(
			req,
			status_of(c, gq__gcoord_leave(gc, req->u.group.group,
						      req->u.group.member_id,
						      now)));
		break;
	case GQ__GROUP_COMMIT:
		status = status_of(c, gq__gcoord_check_commit(
					      gc, req->u.group.group,
					      req->u.group.generation,
					      req->u.group.member_id, now));
		if (status != 0)
			gq__req_complete(req, status);
		else
			commit(c, req);
		break;
	case GQ__GROUP_OFFSETS:
		gq__req_complete(
			req, gq__group_read_offsets(c->node, req->u.group.group,
						    req->u.group.offsets,
						    req->u.group.n));
		break;
	case GQ__GROUP_DESCRIBE:
		describe(c, gc, req);
		break;
	case GQ__GROUP_LIST:
		break;
	}
	save_settled(c);
	arm(c);
}
