/* SPDX-License-Identifier: MIT */
/*
 * membership.c - moving a partition's Raft membership to its assigned
 * replicas (see membership.h).  Everything runs on the loop thread.
 */
#include "membership.h"

#include <string.h>

#include "buf.h"
#include "cluster.h"
#include "error.h"
#include "heap.h"
#include "node.h"
#include "partition.h"
#include "rgroup.h"
#include "rpc.h"

#define STEP_MS        500
#define ASK_TIMEOUT_MS 2000

#define STATE_HOLDS 1u /* open, its data complete (not catching up) */
#define STATE_LEADS 2u

struct gq__membership {
	struct gq__partition *p; /* NULL once the partition closed */
	uint64_t next_at;        /* loop time of the next step */
	bool asking;             /* a PART_STATE request is in flight */
	uint64_t asked_id;       /* whom */
	uint64_t asked_index;    /* our applied index when we asked */
	uint64_t ready_id;       /* a standby that answered it is ready */
	unsigned turn;           /* which replica a leaving one asks next */
};

struct gq__membership *
gq__membership_create(struct gq__partition *p)
{
	struct gq__membership *m = gq__calloc(1, sizeof(*m));

	if (m != NULL)
		m->p = p;
	return m;
}

void
gq__membership_free(struct gq__membership *m)
{
	if (m == NULL)
		return;
	m->p = NULL;
	if (!m->asking)
		gq__free(m);
}

void
gq__membership_kick(struct gq__membership *m)
{
	m->next_at = 0;
}

static struct gq_node *
node_of(const struct gq__membership *m)
{
	return gq__partition_node(m->p);
}

static void
say(struct gq__membership *m, int level, const char *what, uint64_t id, int rv)
{
	gq__log(node_of(m), rv == 0 ? level : GQ_LOG_WARN,
		"partition %s/%d: %s %llu%s%s", gq__partition_topic(m->p)->name,
		gq__partition_index(m->p), what, (unsigned long long)id,
		rv == 0 ? "" : ": ", rv == 0 ? "" : gq_strerror(rv));
}

/* ---- asking another replica --------------------------------------------- */

static bool
config_has(const uint8_t *members, uint8_t n, uint64_t id)
{
	for (uint8_t i = 0; i < n; i++)
		if (gq__le32_get(members + 5 * (size_t)i) == id)
			return true;
	return false;
}

static void
asked(void *arg, int status, const uint8_t *body, size_t len)
{
	struct gq__membership *m = arg;
	struct gq__rd r = gq__rd_init(body, len);
	struct gq_node *node;
	struct gq__rgroup *rg;
	const uint8_t *members;
	uint64_t applied;
	uint8_t flags, n;

	m->asking = false;
	if (m->p == NULL) {
		gq__free(m);
		return;
	}
	flags = gq__rd_u8(&r);
	applied = gq__rd_le64(&r);
	n = gq__rd_u8(&r);
	members = gq__rd_take(&r, (size_t)n * 5);
	if (status != 0 || r.bad || members == NULL)
		return; /* asked again at the next step */
	node = node_of(m);
	rg = gq__partition_rgroup(m->p);
	if (gq__rgroup_is_leader(rg)) {
		/* Asked a standby whether it holds everything up to where we
		 * were when asking. */
		if ((flags & STATE_HOLDS) != 0 && applied >= m->asked_index)
			m->ready_id = m->asked_id;
		m->next_at = 0;
		return;
	}
	/* A replica no longer assigned asked: has the leader removed us? */
	if ((flags & STATE_LEADS) == 0 ||
	    config_has(members, n, node->conf.node_id) ||
	    gq__route_has(gq__partition_route(m->p), node->conf.node_id))
		return;
	say(m, GQ_LOG_INFO, "left the group; removing the data here, leader",
	    m->asked_id, 0);
	gq__partition_leave(m->p);
}

static void
ask(struct gq__membership *m, uint64_t id)
{
	struct gq_node *node = node_of(m);
	const struct gq__broker *b = gq__node_broker_find(node, id);
	uint8_t req[8];

	if (b == NULL || b->raft_address[0] == '\0' || id == node->conf.node_id)
		return;
	gq__le64_put(req, gq__partition_uid(m->p));
	if (gq__rpc_send(node->rpc, id, b->raft_address, GQ__RPC_PART_STATE,
			 req, sizeof(req), ASK_TIMEOUT_MS, asked, m) != 0)
		return;
	m->asking = true;
	m->asked_id = id;
	m->asked_index = raft_last_applied(&gq__partition_rgroup(m->p)->raft);
}

/* ---- the leader's steps ------------------------------------------------ */

static void
change(struct gq__membership *m, enum gq__member_op op, uint64_t id, int role,
       const char *what)
{
	struct gq__rgroup *rg = gq__partition_rgroup(m->p);
	const struct gq__broker *b = gq__node_broker_find(node_of(m), id);
	int rv;

	if (op == GQ__MEMBER_ADD && (b == NULL || b->raft_address[0] == '\0'))
		return; /* not registered yet: try again later */
	rv = gq__rgroup_change(rg, op, id, b != NULL ? b->raft_address : NULL,
			       role);
	say(m, GQ_LOG_INFO, what, id, rv);
}

/* The next step toward the assigned replicas, if any is due. */
static void
lead_step(struct gq__membership *m)
{
	struct gq__rgroup *rg = gq__partition_rgroup(m->p);
	const struct gq__route *route = gq__partition_route(m->p);
	const struct raft_configuration *conf = &rg->raft.configuration;
	uint64_t self = node_of(m)->conf.node_id;

	if (rg->change_pending || rg->transfer_pending)
		return;
	if (rg->change_status != 0) {
		gq__log(node_of(m), GQ_LOG_WARN,
			"partition %s/%d: membership change failed: %s "
			"(retrying)",
			gq__partition_topic(m->p)->name,
			gq__partition_index(m->p),
			gq_strerror(rg->change_status));
		rg->change_status = 0;
	}
	for (uint8_t i = 0; i < route->n_replicas; i++) {
		uint64_t id = (uint64_t)route->replicas[i];
		const struct raft_server *s = gq__rgroup_member(rg, id);

		if (s == NULL) {
			change(m, GQ__MEMBER_ADD, id, 0, "adding replica");
			return;
		}
		if (s->role == RAFT_SPARE) {
			change(m, GQ__MEMBER_ASSIGN, id, RAFT_STANDBY,
			       "replicating to new replica");
			return;
		}
		if (s->role == RAFT_STANDBY) {
			if (m->ready_id == id) {
				m->ready_id = 0;
				change(m, GQ__MEMBER_ASSIGN, id, RAFT_VOTER,
				       "promoting to voter replica");
			} else if (!m->asking) {
				ask(m, id);
			}
			return;
		}
	}
	for (unsigned i = 0; i < conf->n; i++) {
		uint64_t id = conf->servers[i].id;

		if (gq__route_has(route, id))
			continue;
		if (id != self) {
			change(m, GQ__MEMBER_REMOVE, id, 0, "removing replica");
			return;
		}
		/* We are leaving: a live assigned voter (the preferred one
		 * first) takes over and then removes us. */
		for (uint8_t j = 0; j < route->n_replicas; j++) {
			uint64_t to = (uint64_t)route->replicas[j];
			const struct gq__broker *b =
				gq__node_broker_find(node_of(m), to);

			if (b != NULL && b->alive) {
				say(m, GQ_LOG_INFO,
				    "leaving; handing leadership to", to,
				    gq__rgroup_transfer(rg, to));
				return;
			}
		}
		return;
	}
}

void
gq__membership_step(struct gq__membership *m)
{
	struct gq_node *node = node_of(m);
	const struct gq__route *route = gq__partition_route(m->p);
	uint64_t now = uv_now(node->loop);

	if (now < m->next_at)
		return;
	m->next_at = now + STEP_MS;
	if (gq__rgroup_is_leader(gq__partition_rgroup(m->p))) {
		lead_step(m);
	} else if (!gq__route_has(route, node->conf.node_id) && !m->asking &&
		   route->n_replicas > 0) {
		ask(m,
		    (uint64_t)route->replicas[m->turn++ % route->n_replicas]);
	}
}

/* ---- the answering side ------------------------------------------------- */

void
gq__membership_serve(struct gq_node *node, struct gq__rpc_call *call,
		     const uint8_t *body, size_t len)
{
	struct gq__rd r = gq__rd_init(body, len);
	uint64_t uid = gq__rd_le64(&r);
	struct gq__buf out = GQ__BUF_INIT;
	const struct raft_configuration *conf;
	struct gq__partition *p;
	struct gq__rgroup *rg;
	uint8_t flags = 0;
	int rv;

	if ((p = gq__cluster_rpc_partition(node, call, &r, uid)) == NULL)
		return;
	rg = gq__partition_rgroup(p);
	conf = &rg->raft.configuration;
	if (!gq__partition_catching_up(p))
		flags |= STATE_HOLDS;
	if (gq__rgroup_is_leader(rg))
		flags |= STATE_LEADS;
	rv = gq__buf_put_u8(&out, flags) |
	     gq__buf_put_le64(&out, raft_last_applied(&rg->raft)) |
	     gq__buf_put_u8(&out, (uint8_t)conf->n);
	for (unsigned i = 0; i < conf->n && conf->n <= UINT8_MAX; i++)
		rv |= gq__buf_put_le32(&out, (uint32_t)conf->servers[i].id) |
		      gq__buf_put_u8(&out, (uint8_t)conf->servers[i].role);
	if (rv != 0)
		gq__rpc_reply(call, GQ_ENOMEM, NULL, 0);
	else
		gq__rpc_reply(call, 0, out.base, out.len);
	gq__buf_free(&out);
}
