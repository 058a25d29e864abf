/* SPDX-License-Identifier: MIT */
/*
 * balance.c - where replicas go, decided on the controller leader (see
 * balance.h).  Loop thread only.
 */
#include "balance.h"

#include <string.h>

#include "buf.h"
#include "cluster_int.h"
#include "config.h"
#include "controller.h"
#include "error.h"
#include "heap.h"
#include "node.h"
#include "rgroup.h"

/* ---- placement ---------------------------------------------------------- */

struct load {
	uint64_t id;
	uint32_t replicas;
	uint32_t leaders;
};

static struct load *
load_find(struct load *l, size_t n, int32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].id == (uint64_t)id)
			return &l[i];
	return NULL;
}

/* The live brokers that heartbeated this leader (a broker given the
 * benefit of the doubt after an election may be dead) and are not being
 * removed, with the replicas and preferred leaderships the topics give
 * each.  *unheard counts live ones not heard from yet.  NULL on ENOMEM. */
static struct load *
load_get(struct gq__cluster *cl, size_t *n, size_t *unheard)
{
	struct gq_node *node = cl->node;
	struct load *load;

	*n = *unheard = 0;
	if ((load = gq__calloc(node->n_brokers + 1, sizeof(*load))) == NULL)
		return NULL;
	for (size_t i = 0; i < node->n_brokers; i++) {
		struct gq__live *l =
			gq__cluster_live_get(cl, node->brokers[i].id);

		if (!gq__cluster_alive(cl, node->brokers[i].id) || l == NULL ||
		    node->brokers[i].removing)
			continue;
		if (l->heard)
			load[(*n)++].id = node->brokers[i].id;
		else
			(*unheard)++;
	}
	for (size_t i = 0; i < node->n_topics; i++) {
		struct gq__topic *t = node->topics[i];

		for (int32_t j = 0; j < t->n_parts; j++) {
			struct gq__route *r = &t->routes[j];
			struct load *l;

			for (uint8_t k = 0; k < r->n_replicas; k++)
				if ((l = load_find(load, *n, r->replicas[k])))
					l->replicas++;
			if ((l = load_find(load, *n, r->replicas[0])) != NULL)
				l->leaders++;
		}
	}
	return load;
}

/* Add to @r the broker holding the fewest replicas (for its first replica,
 * the one leading the fewest partitions; ties by id) among those not in
 * it yet, counting it.  False when every broker is taken. */
static bool
load_pick(struct load *load, size_t n, struct gq__route *r)
{
	bool first = r->n_replicas == 0;
	struct load *best = NULL;

	for (size_t i = 0; i < n; i++) {
		struct load *l = &load[i];

		if (gq__route_has(r, l->id))
			continue;
		if (best == NULL || (first && l->leaders != best->leaders
					     ? l->leaders < best->leaders
					     : l->replicas < best->replicas))
			best = l;
	}
	if (best == NULL)
		return false;
	best->replicas++;
	best->leaders += first;
	r->replicas[r->n_replicas++] = (int32_t)best->id;
	return true;
}

/* Place @n_parts partitions of @rf replicas by load over the live
 * brokers, counting what is placed as it goes.  GQ_ENOTREADY while too
 * few have reported since the election. */
int
gq__balance_place(struct gq__cluster *cl, int32_t n_parts, int16_t rf,
		  struct gq__route *routes, char *errmsg)
{
	struct load *load;
	size_t n, unheard;

	if ((load = load_get(cl, &n, &unheard)) == NULL)
		return GQ_ENOMEM;
	/* Brokers not heard from yet (this leader is new, or the node is
	 * still registering itself) may well make up the count. */
	if (rf >= 1 && (size_t)rf > n &&
	    ((size_t)rf <= n + unheard || n == 0)) {
		gq__free(load);
		return GQ_ENOTREADY;
	}
	if (rf < 1 || (size_t)rf > n || rf > GQ__REPLICAS_MAX) {
		gq__errmsg_set(errmsg,
			       "replication factor %d: this cluster has %zu "
			       "live broker%s (at most %d replicas)",
			       rf, n, n == 1 ? "" : "s", GQ__REPLICAS_MAX);
		gq__free(load);
		return GQ_EINVAL;
	}
	for (int32_t p = 0; p < n_parts; p++) {
		routes[p].n_replicas = 0;
		for (int16_t k = 0; k < rf; k++)
			load_pick(load, n, &routes[p]);
	}
	gq__free(load);
	return 0;
}

/* ---- healing (controller leader) ------------------------------------------
 */

/* At most this many reassignments in flight from one healing pass. */
#define HEAL_BATCH 64

static void
heal_done(void *arg, const struct gq__ctl_result *res)
{
	struct gq__cluster *cl = arg;

	cl->healing--;
	if (res->status != 0 && res->status != GQ_ENOTOPIC)
		gq__log(cl->node, GQ_LOG_WARN,
			"cannot move a dead broker's replica: %s",
			gq_strerror(res->status));
}

/* Whether broker @id has been silent for dead_broker_grace. */
static bool
dead_past_grace(struct gq__cluster *cl, int32_t id)
{
	int64_t grace = cl->node->conf.dead_broker_grace_ms;
	uint64_t now = gq__cluster_now(cl);
	struct gq__live *l = gq__cluster_live_find(cl, (uint64_t)id);

	return l != NULL && grace > 0 && !gq__cluster_alive(cl, (uint64_t)id) &&
	       now - l->last_seen >= (uint64_t)grace;
}

/* Whether the replicas of broker @id go elsewhere: it is dead past the
 * grace, or being removed. */
static bool
must_move(struct gq__cluster *cl, int32_t id)
{
	const struct gq__broker *b =
		gq__node_broker_find(cl->node, (uint64_t)id);

	return (b != NULL && b->removing) || dead_past_grace(cl, id);
}

/* Re-create on live brokers the replicas of brokers silent for longer
 * than dead_broker_grace, or being removed: each such replica is replaced by
 * the least loaded live broker not holding the partition yet (placed last, so
 * the survivors keep their order and the preferred leader stays if it lives).
 * A partition with no broker to spare keeps its dead replica. */
void
gq__balance_heal(struct gq__cluster *cl)
{
	struct gq_node *node = cl->node;
	struct load *load = NULL;
	size_t n = 0, unheard;
	bool any = false;

	if (cl->healing > 0)
		return;
	for (size_t i = 0; i < node->n_brokers && !any; i++)
		any = must_move(cl, (int32_t)node->brokers[i].id);
	if (!any)
		return;
	for (size_t i = 0; i < node->n_topics && cl->healing < HEAL_BATCH;
	     i++) {
		struct gq__topic *t = node->topics[i];

		for (int32_t j = 0; j < t->n_parts && cl->healing < HEAL_BATCH;
		     j++) {
			const struct gq__route *r = &t->routes[j];
			struct gq__route next = { 0 };
			struct gq__buf cmd = GQ__BUF_INIT;
			uint8_t dead = 0, picked = 0;

			for (uint8_t k = 0; k < r->n_replicas; k++) {
				if (must_move(cl, r->replicas[k]))
					dead++;
				else
					next.replicas[next.n_replicas++] =
						r->replicas[k];
			}
			if (dead == 0)
				continue;
			if (load == NULL &&
			    (load = load_get(cl, &n, &unheard)) == NULL)
				return;
			for (uint8_t k = 0; k < dead; k++)
				picked += load_pick(load, n, &next);
			if (picked == 0)
				continue; /* no live broker to spare */
			for (uint8_t k = 0; k < r->n_replicas; k++)
				if (next.n_replicas < r->n_replicas &&
				    must_move(cl, r->replicas[k]))
					next.replicas[next.n_replicas++] =
						r->replicas[k];
			if (gq__ctl_encode_reassign(&cmd, t, j, next.replicas,
						    next.n_replicas) == 0 &&
			    gq__controller_propose(
				    node->ctl, GQ__CTL_PARTITION_REASSIGN,
				    cmd.base, cmd.len, heal_done, cl) == 0) {
				cl->healing++;
				gq__log(node, GQ_LOG_INFO,
					"partition %s/%d: moving the replicas "
					"of dead or removed brokers",
					t->name, j);
			}
			gq__buf_free(&cmd);
		}
	}
	gq__free(load);
}

/* ---- the controller group's members (controller leader) ------------------ */

/* Whether broker @id is being removed and holds no replica any more. */
static bool
drained_out(struct gq__cluster *cl, uint64_t id)
{
	struct gq_node *node = cl->node;
	const struct gq__broker *b = gq__node_broker_find(node, id);

	if (b == NULL || !b->removing)
		return false;
	for (size_t i = 0; i < node->n_topics; i++)
		for (int32_t j = 0; j < node->topics[i]->n_parts; j++)
			if (gq__route_has(&node->topics[i]->routes[j], id))
				return false;
	return true;
}

/* Keep group 0's membership in step with the registry, one change at a
 * time: a registered live broker that is not a member joins as a standby
 * (it replicates the controller state but does not vote); a voter dead
 * past dead_broker_grace, or being removed and drained of replicas, is
 * replaced by a live standby when there is one, then removed (a dead one
 * only while more voters than initial_cluster named remain); dead
 * standbys and drained brokers are removed.  A dead broker that comes
 * back is added again; a removed one is not. */
void
gq__balance_controller(struct gq__cluster *cl)
{
	struct gq_node *node = cl->node;
	struct gq__rgroup *rg = gq__controller_rgroup(node->ctl);
	const struct raft_configuration *conf = &rg->raft.configuration;
	uint64_t standby = 0; /* a live one */
	unsigned voters = 0;
	uint64_t id = 0;
	int rv;

	if (rg->change_pending || rg->transfer_pending)
		return;
	for (size_t i = 0; i < node->n_brokers && id == 0; i++) {
		const struct gq__broker *b = &node->brokers[i];
		const struct gq__live *l = gq__cluster_live_find(cl, b->id);

		if (l != NULL && l->heard && gq__cluster_alive(cl, b->id) &&
		    !b->removing && gq__rgroup_member(rg, b->id) == NULL)
			id = b->id;
	}
	if (id != 0) {
		rv = gq__rgroup_change(
			rg, GQ__MEMBER_ADD, id,
			gq__node_broker_find(node, id)->raft_address, 0);
		gq__log(node, rv == 0 ? GQ_LOG_INFO : GQ_LOG_WARN,
			"controller: adding broker %llu%s%s",
			(unsigned long long)id, rv ? ": " : "",
			rv ? gq_strerror(rv) : "");
		return;
	}
	for (unsigned i = 0; i < conf->n; i++) {
		const struct raft_server *s = &conf->servers[i];

		if (s->role == RAFT_SPARE) {
			gq__rgroup_change(rg, GQ__MEMBER_ASSIGN, s->id, NULL,
					  RAFT_STANDBY);
			return;
		}
		voters += s->role == RAFT_VOTER;
		if (s->role == RAFT_STANDBY && gq__cluster_alive(cl, s->id))
			standby = s->id;
	}
	for (unsigned i = 0; i < conf->n; i++) {
		uint64_t dead = conf->servers[i].id;
		bool votes = conf->servers[i].role == RAFT_VOTER;
		bool drained = drained_out(cl, dead);

		if (!drained && !dead_past_grace(cl, (int32_t)dead))
			continue;
		if (votes && voters <= node->n_peers && standby != 0) {
			rv = gq__rgroup_change(rg, GQ__MEMBER_ASSIGN, standby,
					       NULL, RAFT_VOTER);
			gq__log(node, GQ_LOG_INFO,
				"controller: broker %llu votes in place of "
				"%s broker %llu%s%s",
				(unsigned long long)standby,
				drained ? "drained" : "dead",
				(unsigned long long)dead, rv ? ": " : "",
				rv ? gq_strerror(rv) : "");
			return;
		}
		if (!votes || voters > node->n_peers || drained) {
			rv = gq__rgroup_change(rg, GQ__MEMBER_REMOVE, dead,
					       NULL, 0);
			gq__log(node, GQ_LOG_INFO,
				"controller: removing %s broker %llu from the "
				"group%s%s",
				drained ? "drained" : "dead",
				(unsigned long long)dead, rv ? ": " : "",
				rv ? gq_strerror(rv) : "");
			return;
		}
	}
}
