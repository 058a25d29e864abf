/* SPDX-License-Identifier: MIT */
/*
 * gcoord.c - the consumer-group coordinator state machine (gcoord.h,
 * KAFKA-PROTOCOL.md section 3, Kafka 3.4 GroupCoordinator): JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, OffsetCommit validation, DeleteGroups,
 * the timers, and the coordinator's life cycle.  Storage and lookup are in
 * gcoord_group.c; ownership is described in gcoord_int.h.
 *
 * Invariants:
 *   - a member's join_cb is set only in PreparingRebalance, its sync_cb
 *     only in CompletingRebalance, and every callback runs exactly once:
 *     reply_join()/reply_sync() are the only places that call them, after
 *     the member concerned has been updated;
 *   - callbacks cannot re-enter the coordinator (gc->in_cb refuses);
 *   - a call that runs out of memory changes nothing (everything is
 *     allocated before the first change), except the leader's SyncGroup,
 *     which abandons the generation; completing a rebalance never
 *     allocates;
 *   - a member's session restarts whenever a parked request of it is
 *     answered, and does not run while one is parked;
 *   - after gq__gcoord_tick(now), nothing is due at or before now.
 *
 * Group states (Kafka GroupState), checked on every move by set_state():
 *
 *   from \ to        Empty      Preparing       Completing  Stable  Dead
 *   Empty              -       member joins        -          -    delete,
 *                                                                  reap
 *   Preparing     completes, -                 completes      -      *
 *                 nobody left                  with members
 *   Completing         -       join, leave,        -       leader    *
 *                              expiry, OOM                 syncs
 *   Stable             -       join, leave,        -          -      *
 *                              expiry
 *
 *   (*: destroy.  Dead is final: the group is freed at once.)
 */
#include "gcoord_int.h"

#include <assert.h>
#include <string.h>

#include "goqueue.h"
#include "heap.h"

#define TO(s) (1u << (s))
static const unsigned transitions[] = {
	[GS_EMPTY] = TO(GS_PREPARING) | TO(GS_DEAD),
	[GS_PREPARING] = TO(GS_EMPTY) | TO(GS_COMPLETING) | TO(GS_DEAD),
	[GS_COMPLETING] = TO(GS_PREPARING) | TO(GS_STABLE) | TO(GS_DEAD),
	[GS_STABLE] = TO(GS_PREPARING) | TO(GS_DEAD),
	[GS_DEAD] = 0,
};

/* ---------------------------------------------------------------------- */
/* Small helpers                                                           */
/* ---------------------------------------------------------------------- */

static void
set_state(struct gq__gcoord *gc, struct group *g, enum gstate to)
{
	assert(transitions[g->state] & TO(to));
	g->state = to;
	/* A group that had a generation settled or went: worth saving. */
	if ((to == GS_STABLE || to == GS_EMPTY || to == GS_DEAD) &&
	    g->generation > 0 && !gc->destroying && gc->conf.settled != NULL)
		gc->conf.settled(gc->conf.settled_arg, g->name);
}

static int64_t
min_deadline(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* ---------------------------------------------------------------------- */
/* Replies: the only places callbacks run                                  */
/* ---------------------------------------------------------------------- */

static void
reply_join(struct gq__gcoord *gc, gq__gc_join_cb cb, void *arg,
	   const struct gq__gc_join_resp *resp)
{
	gc->in_cb++;
	cb(arg, resp);
	gc->in_cb--;
}

static void
reply_join_error(struct gq__gcoord *gc, gq__gc_join_cb cb, void *arg,
		 int16_t error, const char *member_id)
{
	struct gq__gc_join_resp r;

	memset(&r, 0, sizeof(r));
	r.error = error;
	r.generation = -1;
	r.leader = "";
	r.member_id = gq__gc_nz(member_id);
	reply_join(gc, cb, arg, &r);
}

static void
reply_sync(struct gq__gcoord *gc, gq__gc_sync_cb cb, void *arg, int16_t error,
	   const uint8_t *assignment, size_t len)
{
	gc->in_cb++;
	cb(arg, error, len > 0 ? assignment : NULL, len);
	gc->in_cb--;
}

/* The current generation, as a successful JoinGroup sees it; the member
 * list is filled by the caller for the leader. */
static void
current_resp(const struct group *g, const struct member *m,
	     struct gq__gc_join_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->error = GQ__GC_ERR_NONE;
	r->generation = g->generation;
	r->protocol_name = g->protocol;
	r->leader = g->leader != NULL ? g->leader->id : "";
	r->member_id = m->id;
}

static void
reply_current(struct gq__gcoord *gc, struct group *g, struct member *m,
	      gq__gc_join_cb cb, void *arg)
{
	struct gq__gc_join_resp r;

	current_resp(g, m, &r);
	if (m == g->leader) {
		gq__gc_fill_info(g);
		r.n_members = g->n_members;
		r.members = g->info;
	}
	reply_join(gc, cb, arg, &r);
}

/* ---------------------------------------------------------------------- */
/* Groups                                                                  */
/* ---------------------------------------------------------------------- */

/* Forget a group that never formed a generation and has nobody waiting:
 * it holds nothing worth listing, and keeping it would let clients grow
 * the coordinator without bound. */
static void
group_maybe_reap(struct gq__gcoord *gc, struct group *g)
{
	if (g == NULL || g->state != GS_EMPTY || g->generation != 0 ||
	    g->n_members > 0 || g->n_pending > 0)
		return;
	set_state(gc, g, GS_DEAD);
	gq__gc_group_remove(gc, g);
}

/* Take member @i out of the group; its parked requests get @error. */
static void
remove_member(struct gq__gcoord *gc, struct group *g, size_t i, int16_t error)
{
	struct member *m = g->members[i];
	gq__gc_join_cb jcb = m->join_cb;
	gq__gc_sync_cb scb = m->sync_cb;

	if (g->leader == m)
		g->leader = NULL;
	memmove(&g->members[i], &g->members[i + 1],
		(g->n_members - i - 1) * sizeof(*g->members));
	g->n_members--;
	if (jcb != NULL)
		reply_join_error(gc, jcb, m->join_arg, error, m->id);
	if (scb != NULL)
		reply_sync(gc, scb, m->sync_arg, error, NULL, 0);
	gq__gc_member_free(m);
}

/* ---------------------------------------------------------------------- */
/* Rebalancing                                                             */
/* ---------------------------------------------------------------------- */

/* Enter PreparingRebalance (Kafka prepareRebalance). */
static void
prepare_rebalance(struct gq__gcoord *gc, struct group *g, int64_t now)
{
	enum gstate from = g->state;
	int32_t timeout;
	int32_t delay = gc->conf.initial_rebalance_delay_ms;
	size_t i;

	set_state(gc, g, GS_PREPARING);
	g->sync_deadline = -1;
	timeout = gq__gc_max_rebalance_ms(g);
	if (from == GS_EMPTY && delay > 0) {
		g->initial = true;
		g->new_member_added = false;
		g->join_deadline = now + delay;
		g->remaining = timeout > delay ? timeout - delay : 0;
	} else {
		g->initial = false;
		g->join_deadline = now + timeout;
	}
	for (i = 0; i < g->n_members; i++) {
		struct member *m = g->members[i];
		gq__gc_sync_cb cb = m->sync_cb;

		m->pending_sync = false;
		if (cb != NULL) {
			/* Its session restarts when its parked request is
			 * answered (Kafka completeAndScheduleNext...). */
			m->sync_cb = NULL;
			m->last_heard = now;
			reply_sync(gc, cb, m->sync_arg,
				   GQ__GC_ERR_REBALANCE_IN_PROGRESS, NULL, 0);
		}
	}
}

/* Complete the join phase (Kafka onCompleteJoin): drop members that did
 * not rejoin, start the next generation, answer every parked JoinGroup. */
static void
complete_join(struct gq__gcoord *gc, struct group *g, int64_t now)
{
	struct gq__gc_join_resp r;
	struct member *m;
	gq__gc_join_cb cb;
	size_t i;

	for (i = g->n_members; i-- > 0;)
		if (g->members[i]->join_cb == NULL)
			remove_member(gc, g, i, GQ__GC_ERR_UNKNOWN_MEMBER_ID);
	g->generation++;
	g->initial = false;
	gq__gc_clear_assignments(g);
	if (g->n_members == 0) {
		g->protocol = NULL;
		g->leader = NULL;
		set_state(gc, g, GS_EMPTY);
		return;
	}
	strcpy(g->proto_buf, gq__gc_select_protocol(g));
	g->protocol = g->proto_buf;
	if (g->leader == NULL)
		g->leader = g->members[0];
	set_state(gc, g, GS_COMPLETING);
	g->sync_deadline = now + gq__gc_max_rebalance_ms(g);
	gq__gc_fill_info(g);
	for (i = 0; i < g->n_members; i++) {
		m = g->members[i];
		m->pending_sync = true;
		m->last_heard = now;
		cb = m->join_cb;
		m->join_cb = NULL;
		current_resp(g, m, &r);
		if (m == g->leader) {
			r.n_members = g->n_members;
			r.members = g->info;
		}
		reply_join(gc, cb, m->join_arg, &r);
	}
}

/* Kafka tryCompleteJoin: everybody (and no pending id) has joined. */
static void
try_complete_join(struct gq__gcoord *gc, struct group *g, int64_t now)
{
	size_t i;

	if (g->state != GS_PREPARING || g->initial || g->n_pending > 0)
		return;
	for (i = 0; i < g->n_members; i++)
		if (g->members[i]->join_cb == NULL)
			return;
	complete_join(gc, g, now);
}

/* After members were removed: rebalance, or finish the one under way. */
static void
members_left(struct gq__gcoord *gc, struct group *g, int64_t now)
{
	if (g->state == GS_COMPLETING || g->state == GS_STABLE)
		prepare_rebalance(gc, g, now);
	try_complete_join(gc, g, now);
}

/* ---------------------------------------------------------------------- */
/* JoinGroup                                                               */
/* ---------------------------------------------------------------------- */

/* Park @m's JoinGroup; a previous one of the same member is superseded. */
static void
park_join(struct gq__gcoord *gc, struct member *m, gq__gc_join_cb cb, void *arg)
{
	gq__gc_join_cb old = m->join_cb;

	m->join_cb = cb;
	if (old != NULL)
		reply_join_error(gc, old, m->join_arg,
				 GQ__GC_ERR_REBALANCE_IN_PROGRESS, m->id);
	m->join_arg = arg;
}

static int32_t
rebalance_ms_of(const struct gq__gc_join_req *req)
{
	return req->rebalance_timeout_ms > 0 ? req->rebalance_timeout_ms
					     : req->session_timeout_ms;
}

/*
 * Add a new member and park its join (Kafka addMemberAndRebalance).  Its id
 * is @id (owned; NULL means allocating it failed) or, when @pi is not
 * NPOS, the id of pending entry @pi, which becomes the member.  Everything
 * is allocated before the group changes, so a failure answers
 * COORDINATOR_NOT_AVAILABLE and leaves the group as it was.
 */
static void
add_member(struct gq__gcoord *gc, struct group *g,
	   const struct gq__gc_join_req *req, char *id, size_t pi,
	   const char *instance_id, int64_t now, gq__gc_join_cb cb, void *arg)
{
	struct member *m = NULL;
	char *type = NULL;

	if (pi == NPOS && id == NULL)
		goto err;
	if (gq__gc_group_reserve(g, g->n_members + 1) != 0 ||
	    gq__gc_group_reserve_proto(g, req) != 0)
		goto err_id;
	if (g->n_members == 0 &&
	    (type = gq__strdup(req->protocol_type)) == NULL)
		goto err_id;
	if ((m = gq__calloc(1, sizeof(*m))) == NULL)
		goto err_type;
	if ((m->prof = gq__gc_profile_new(req)) == NULL)
		goto err_member;
	if (instance_id != NULL &&
	    (m->instance_id = gq__strdup(instance_id)) == NULL)
		goto err_member;
	if (pi != NPOS) {
		id = g->pending[pi].id;
		g->pending[pi] = g->pending[--g->n_pending];
	}
	m->id = id;
	m->session_ms = req->session_timeout_ms;
	m->rebalance_ms = rebalance_ms_of(req);
	m->last_heard = now;
	m->join_cb = cb;
	m->join_arg = arg;
	if (type != NULL) {
		gq__free(g->protocol_type);
		g->protocol_type = type;
	}
	g->members[g->n_members++] = m;
	if (g->state == GS_PREPARING && g->initial)
		g->new_member_added = true;
	if (g->state != GS_PREPARING)
		prepare_rebalance(gc, g, now);
	try_complete_join(gc, g, now);
	return;
err_member:
	gq__free(m->prof);
	gq__free(m);
err_type:
	gq__free(type);
err_id:
	gq__free(id);
err:
	reply_join_error(gc, cb, arg, GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE,
			 req->member_id);
}

/* Allocate what @m needs to rejoin with @req: *pf is a new profile, or
 * NULL when nothing changed.  0 or GQ_ENOMEM. */
static int
rejoin_prepare(struct group *g, const struct member *m,
	       const struct gq__gc_join_req *req, struct profile **pf)
{
	*pf = NULL;
	if (gq__gc_profile_matches(m->prof, req))
		return 0;
	if (gq__gc_group_reserve_proto(g, req) != 0 ||
	    (*pf = gq__gc_profile_new(req)) == NULL)
		return GQ_ENOMEM;
	return 0;
}

/* A known member joins again (Kafka doJoinGroup for an existing member,
 * updateMemberAndRebalance); @pf comes from rejoin_prepare() (owned);
 * @force: rebalance even if nothing changed. */
static void
join_known(struct gq__gcoord *gc, struct group *g, struct member *m,
	   const struct gq__gc_join_req *req, struct profile *pf, bool force,
	   int64_t now, gq__gc_join_cb cb, void *arg)
{
	m->last_heard = now;
	if (pf == NULL && !force &&
	    (g->state == GS_COMPLETING ||
	     (g->state == GS_STABLE && m != g->leader))) {
		/* A lost JoinGroup response, or a follower without news:
		 * the current generation, no rebalance.  (The leader of a
		 * Stable group rejoins when topic metadata changed, so it
		 * always gets a rebalance.) */
		reply_current(gc, g, m, cb, arg);
		return;
	}
	if (pf != NULL) {
		gq__free(m->prof);
		m->prof = pf;
	}
	m->session_ms = req->session_timeout_ms;
	m->rebalance_ms = rebalance_ms_of(req);
	park_join(gc, m, cb, arg);
	if (g->state != GS_PREPARING)
		prepare_rebalance(gc, g, now);
	try_complete_join(gc, g, now);
}

/* A static member rejoins with no member id: it takes its old entry under
 * a new id (Kafka replaceStaticMember); the old id is fenced, and so are
 * requests the old incarnation has parked.  In CompletingRebalance the
 * leader may be assigning to the old id, so the group rebalances (Kafka
 * updateStaticMemberAndRebalance); in Stable the member just resumes. */
static void
replace_static(struct gq__gcoord *gc, struct group *g, struct member *m,
	       const struct gq__gc_join_req *req, int64_t now,
	       gq__gc_join_cb cb, void *arg)
{
	gq__gc_join_cb jcb = m->join_cb;
	gq__gc_sync_cb scb = m->sync_cb;
	struct profile *pf = NULL;
	char *id;

	id = gq__gc_member_id_new(gc, gq__gc_nz(req->client_id));
	if (id == NULL || rejoin_prepare(g, m, req, &pf) != 0) {
		gq__free(id);
		reply_join_error(gc, cb, arg,
				 GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE, "");
		return;
	}
	gq__free(m->prev_id);
	m->prev_id = m->id;
	m->id = id;
	m->join_cb = NULL;
	m->sync_cb = NULL;
	if (jcb != NULL)
		reply_join_error(gc, jcb, m->join_arg,
				 GQ__GC_ERR_FENCED_INSTANCE_ID, m->prev_id);
	if (scb != NULL)
		reply_sync(gc, scb, m->sync_arg, GQ__GC_ERR_FENCED_INSTANCE_ID,
			   NULL, 0);
	join_known(gc, g, m, req, pf, g->state == GS_COMPLETING, now, cb, arg);
}

static int16_t
join_validate(const struct gq__gcoord *gc, const struct gq__gc_join_req *req)
{
	size_t i;

	if (req->group == NULL || *req->group == '\0')
		return GQ__GC_ERR_INVALID_GROUP_ID;
	if (req->session_timeout_ms < gc->conf.min_session_ms ||
	    req->session_timeout_ms > gc->conf.max_session_ms)
		return GQ__GC_ERR_INVALID_SESSION_TIMEOUT;
	if (req->protocol_type == NULL || *req->protocol_type == '\0' ||
	    req->n_protocols == 0 || req->protocols == NULL)
		return GQ__GC_ERR_INCONSISTENT_GROUP_PROTOCOL;
	for (i = 0; i < req->n_protocols; i++)
		if (req->protocols[i].name == NULL ||
		    (req->protocols[i].len > 0 &&
		     req->protocols[i].metadata == NULL))
			return GQ__GC_ERR_INCONSISTENT_GROUP_PROTOCOL;
	return GQ__GC_ERR_NONE;
}

/* A JoinGroup with no member id. */
static void
join_new(struct gq__gcoord *gc, struct group *g,
	 const struct gq__gc_join_req *req, const char *instance_id,
	 int64_t now, gq__gc_join_cb cb, void *arg)
{
	struct member *m;
	char *id;

	if (instance_id != NULL &&
	    (m = gq__gc_member_by_instance(g, instance_id)) != NULL) {
		replace_static(gc, g, m, req, now, cb, arg);
		return;
	}
	id = gq__gc_member_id_new(gc, gq__gc_nz(req->client_id));
	if (instance_id != NULL || req->api_version < 4) {
		add_member(gc, g, req, id, NPOS, instance_id, now, cb, arg);
		return;
	}
	if (id == NULL ||
	    gq__gc_pending_add(g, id, now + req->session_timeout_ms) != 0) {
		gq__free(id);
		reply_join_error(gc, cb, arg,
				 GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE, "");
		return;
	}
	reply_join_error(gc, cb, arg, GQ__GC_ERR_MEMBER_ID_REQUIRED, id);
}

void
gq__gcoord_join(struct gq__gcoord *gc, const struct gq__gc_join_req *req,
		int64_t now_ms, gq__gc_join_cb cb, void *arg)
{
	const char *iid = req->group_instance_id;
	struct profile *pf;
	struct group *g;
	struct member *m;
	const char *mid;
	int16_t err;
	size_t pi;

	mid = gq__gc_nz(req->member_id);
	if (gc->in_cb) {
		reply_join_error(gc, cb, arg,
				 GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE, mid);
		return;
	}
	if ((err = join_validate(gc, req)) != GQ__GC_ERR_NONE) {
		reply_join_error(gc, cb, arg, err, mid);
		return;
	}
	if (iid != NULL && *iid == '\0')
		iid = NULL;
	g = gq__gc_group_find(gc, req->group);
	if (*mid == '\0' && g == NULL &&
	    (g = gq__gc_group_create(gc, req->group)) == NULL) {
		reply_join_error(gc, cb, arg,
				 GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE, mid);
		return;
	}
	if (g == NULL) {
		reply_join_error(gc, cb, arg, GQ__GC_ERR_UNKNOWN_MEMBER_ID,
				 mid);
		return;
	}
	if (!gq__gc_supports_protocols(g, req)) {
		reply_join_error(gc, cb, arg,
				 GQ__GC_ERR_INCONSISTENT_GROUP_PROTOCOL, mid);
	} else if (*mid == '\0') {
		join_new(gc, g, req, iid, now_ms, cb, arg);
	} else if ((pi = gq__gc_pending_index(g, mid)) != NPOS) {
		/* The KIP-394 rejoin: the pending id becomes a member. */
		add_member(gc, g, req, NULL, pi, iid, now_ms, cb, arg);
	} else if ((err = gq__gc_check_member(g, mid, iid, &m)) !=
		   GQ__GC_ERR_NONE) {
		reply_join_error(gc, cb, arg, err, mid);
	} else if (iid != NULL && gq__gc_member_by_instance(g, iid) == NULL) {
		/* Kafka: an instance id the group does not know. */
		reply_join_error(gc, cb, arg, GQ__GC_ERR_UNKNOWN_MEMBER_ID,
				 mid);
	} else if (rejoin_prepare(g, m, req, &pf) != 0) {
		reply_join_error(gc, cb, arg,
				 GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE, mid);
	} else {
		join_known(gc, g, m, req, pf, false, now_ms, cb, arg);
	}
	group_maybe_reap(gc, g);
}

/* ---------------------------------------------------------------------- */
/* SyncGroup, Heartbeat, LeaveGroup, OffsetCommit                          */
/* ---------------------------------------------------------------------- */

/* Find the group and member of a Sync/Heartbeat/Commit and check them. */
static int16_t
lookup(struct gq__gcoord *gc, const char *group, int32_t generation,
       const char *member_id, const char *instance_id, struct group **gp,
       struct member **mp)
{
	int16_t err;

	if (gc->in_cb)
		return GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE;
	if (group == NULL || *group == '\0')
		return GQ__GC_ERR_INVALID_GROUP_ID;
	if ((*gp = gq__gc_group_find(gc, group)) == NULL)
		return GQ__GC_ERR_UNKNOWN_MEMBER_ID;
	err = gq__gc_check_member(*gp, gq__gc_nz(member_id), instance_id, mp);
	if (err != GQ__GC_ERR_NONE)
		return err;
	if (generation != (*gp)->generation)
		return GQ__GC_ERR_ILLEGAL_GENERATION;
	return GQ__GC_ERR_NONE;
}

/* Park @m's SyncGroup; one it parked before is superseded. */
static void
park_sync(struct gq__gcoord *gc, struct member *m, gq__gc_sync_cb cb, void *arg)
{
	gq__gc_sync_cb old = m->sync_cb;

	m->sync_cb = cb;
	if (old != NULL)
		reply_sync(gc, old, m->sync_arg,
			   GQ__GC_ERR_REBALANCE_IN_PROGRESS, NULL, 0);
	m->sync_arg = arg;
}

/* Answer every parked SyncGroup of @g: its assignment, or @error. */
static void
answer_syncs(struct gq__gcoord *gc, struct group *g, int16_t error,
	     int64_t now_ms)
{
	for (size_t i = 0; i < g->n_members; i++) {
		struct member *m = g->members[i];
		gq__gc_sync_cb cb = m->sync_cb;

		if (cb == NULL)
			continue;
		m->sync_cb = NULL;
		m->last_heard = now_ms;
		if (error == GQ__GC_ERR_NONE)
			reply_sync(gc, cb, m->sync_arg, error, m->assignment,
				   m->assignment_len);
		else
			reply_sync(gc, cb, m->sync_arg, error, NULL, 0);
	}
}

void
gq__gcoord_sync(struct gq__gcoord *gc, const char *group, int32_t generation,
		const char *member_id, const char *group_instance_id, size_t n,
		const struct gq__gc_assignment *assignments, int64_t now_ms,
		gq__gc_sync_cb cb, void *arg)
{
	struct group *g;
	struct member *m;
	int16_t err;

	err = lookup(gc, group, generation, member_id, group_instance_id, &g,
		     &m);
	if (err != GQ__GC_ERR_NONE) {
		reply_sync(gc, cb, arg, err, NULL, 0);
		return;
	}
	m->last_heard = now_ms;
	if (g->state == GS_STABLE && g->saving == 0) {
		m->pending_sync = false;
		reply_sync(gc, cb, arg, GQ__GC_ERR_NONE, m->assignment,
			   m->assignment_len);
		return;
	}
	if (g->state == GS_STABLE) {
		/* Answered with the others once the generation is saved. */
		park_sync(gc, m, cb, arg);
		return;
	}
	if (g->state != GS_COMPLETING) {
		reply_sync(gc, cb, arg, GQ__GC_ERR_REBALANCE_IN_PROGRESS, NULL,
			   0);
		return;
	}
	m->pending_sync = false;
	if (m == g->leader &&
	    gq__gc_store_assignments(g, n, assignments) != 0) {
		/* Out of memory: abandon the generation (as Kafka does when
		 * storing fails) so every member starts over. */
		prepare_rebalance(gc, g, now_ms);
		reply_sync(gc, cb, arg, GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE,
			   NULL, 0);
		try_complete_join(gc, g, now_ms);
		return;
	}
	park_sync(gc, m, cb, arg);
	if (m != g->leader)
		return;
	set_state(gc, g, GS_STABLE);
	/* As Kafka, answer once the assignment is stored: a coordinator
	 * elected after the answers must know the generation the members
	 * were told, or their commits fail as fenced. */
	if (gc->conf.settled != NULL && !gc->destroying) {
		g->saving = g->generation;
		return;
	}
	answer_syncs(gc, g, GQ__GC_ERR_NONE, now_ms);
}

void
gq__gcoord_saved(struct gq__gcoord *gc, const char *group, int32_t generation,
		 int status, int64_t now_ms)
{
	struct group *g = gq__gc_group_find(gc, group);

	if (g == NULL || g->state != GS_STABLE || g->saving == 0 ||
	    g->saving != generation)
		return;
	g->saving = 0;
	if (status == 0) {
		answer_syncs(gc, g, GQ__GC_ERR_NONE, now_ms);
		return;
	}
	/* Kafka resetAndPropagateAssignmentError: everyone starts over. */
	answer_syncs(gc, g, GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE, now_ms);
	prepare_rebalance(gc, g, now_ms);
}

int32_t
gq__gcoord_generation(const struct gq__gcoord *gc, const char *group)
{
	const struct group *g = gq__gc_group_find(gc, group);

	return g != NULL ? g->generation : -1;
}

int16_t
gq__gcoord_heartbeat(struct gq__gcoord *gc, const char *group,
		     int32_t generation, const char *member_id, int64_t now_ms)
{
	struct group *g;
	struct member *m;
	int16_t err;

	err = lookup(gc, group, generation, member_id, NULL, &g, &m);
	if (err != GQ__GC_ERR_NONE)
		return err;
	m->last_heard = now_ms;
	return g->state == GS_PREPARING ? GQ__GC_ERR_REBALANCE_IN_PROGRESS
					: GQ__GC_ERR_NONE;
}

int16_t
gq__gcoord_leave(struct gq__gcoord *gc, const char *group,
		 const char *member_id, int64_t now_ms)
{
	struct group *g;
	size_t i;

	if (gc->in_cb)
		return GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE;
	if (group == NULL || *group == '\0')
		return GQ__GC_ERR_INVALID_GROUP_ID;
	if ((g = gq__gc_group_find(gc, group)) == NULL)
		return GQ__GC_ERR_UNKNOWN_MEMBER_ID;
	member_id = gq__gc_nz(member_id);
	if ((i = gq__gc_member_index(g, member_id)) != NPOS) {
		remove_member(gc, g, i, GQ__GC_ERR_UNKNOWN_MEMBER_ID);
		members_left(gc, g, now_ms);
	} else if ((i = gq__gc_pending_index(g, member_id)) != NPOS) {
		gq__gc_pending_remove(g, i);
		try_complete_join(gc, g, now_ms);
	} else {
		return gq__gc_is_fenced_id(g, member_id)
			       ? GQ__GC_ERR_FENCED_INSTANCE_ID
			       : GQ__GC_ERR_UNKNOWN_MEMBER_ID;
	}
	group_maybe_reap(gc, g);
	return GQ__GC_ERR_NONE;
}

int16_t
gq__gcoord_check_commit(struct gq__gcoord *gc, const char *group,
			int32_t generation, const char *member_id,
			int64_t now_ms)
{
	struct group *g;
	struct member *m;
	int16_t err;

	if (gc->in_cb)
		return GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE;
	if (group == NULL)
		return GQ__GC_ERR_INVALID_GROUP_ID;
	member_id = gq__gc_nz(member_id);
	if ((g = gq__gc_group_find(gc, group)) == NULL)
		return generation < 0 ? GQ__GC_ERR_NONE
				      : GQ__GC_ERR_ILLEGAL_GENERATION;
	if (generation >= 0 || *member_id != '\0') {
		if ((err = gq__gc_check_member(g, member_id, NULL, &m)) !=
		    GQ__GC_ERR_NONE)
			return err;
		if (generation != g->generation)
			return GQ__GC_ERR_ILLEGAL_GENERATION;
		m->last_heard = now_ms;
	} else if (g->state != GS_EMPTY) {
		/* Only members commit for a group that has some. */
		return GQ__GC_ERR_UNKNOWN_MEMBER_ID;
	}
	return g->state == GS_COMPLETING ? GQ__GC_ERR_REBALANCE_IN_PROGRESS
					 : GQ__GC_ERR_NONE;
}

int16_t
gq__gcoord_delete_group(struct gq__gcoord *gc, const char *group)
{
	struct group *g;
	bool found;
	size_t i;

	if (gc->in_cb)
		return GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE;
	if (group == NULL || *group == '\0')
		return GQ__GC_ERR_INVALID_GROUP_ID;
	i = gq__gc_group_index(gc, group, &found);
	if (!found)
		return GQ__GC_ERR_GROUP_ID_NOT_FOUND;
	g = gc->groups[i];
	if (g->state != GS_EMPTY)
		return GQ__GC_ERR_NON_EMPTY_GROUP;
	set_state(gc, g, GS_DEAD);
	gq__gc_group_remove(gc, g);
	return GQ__GC_ERR_NONE;
}

/* ---------------------------------------------------------------------- */
/* Timers                                                                  */
/* ---------------------------------------------------------------------- */

/* Parked members are alive: their connection is blocked on us (Kafka
 * hasSatisfiedHeartbeat, KAFKA-PROTOCOL.md 0.10). */
static bool
session_runs(const struct member *m)
{
	return m->join_cb == NULL && m->sync_cb == NULL;
}

static bool
any_pending_sync(const struct group *g)
{
	size_t i;

	for (i = 0; i < g->n_members; i++)
		if (g->members[i]->pending_sync)
			return true;
	return false;
}

/* Remove every member whose timer ran out: its session (unless parked),
 * or, once the sync deadline passed, its missing SyncGroup (Kafka
 * onExpirePendingSync).  True if any went. */
static bool
expire_members(struct gq__gcoord *gc, struct group *g, int64_t now)
{
	struct member *m;
	bool sync_due;
	bool removed = false;
	size_t i;

	sync_due = (g->state == GS_COMPLETING || g->state == GS_STABLE) &&
		   g->sync_deadline >= 0 && now >= g->sync_deadline;
	if (sync_due)
		g->sync_deadline = -1;
	for (i = g->n_members; i-- > 0;) {
		m = g->members[i];
		if ((session_runs(m) && now - m->last_heard >= m->session_ms) ||
		    (sync_due && m->pending_sync)) {
			remove_member(gc, g, i, GQ__GC_ERR_UNKNOWN_MEMBER_ID);
			removed = true;
		}
	}
	return removed;
}

/* Everything due in @g at @now; afterwards nothing is due before a later
 * time, so the next tick is always in the future. */
static void
tick_group(struct gq__gcoord *gc, struct group *g, int64_t now)
{
	int64_t d;
	size_t i;

	for (i = g->n_pending; i-- > 0;)
		if (now >= g->pending[i].deadline)
			gq__gc_pending_remove(g, i);
	if (expire_members(gc, g, now))
		members_left(gc, g, now);
	else
		try_complete_join(gc, g, now);
	if (g->state != GS_PREPARING || now < g->join_deadline)
		return;
	if (g->initial && g->new_member_added && g->remaining > 0) {
		/* Kafka InitialDelayedJoin: members keep arriving, wait
		 * once more, within the rebalance timeout. */
		d = gc->conf.initial_rebalance_delay_ms;
		if (d > g->remaining)
			d = g->remaining;
		g->new_member_added = false;
		g->remaining -= d;
		g->join_deadline = now + d;
	} else {
		complete_join(gc, g, now);
	}
}

int64_t
gq__gcoord_tick(struct gq__gcoord *gc, int64_t now_ms)
{
	size_t i;

	if (gc->in_cb)
		return now_ms;
	for (i = 0; i < gc->n_groups; i++)
		tick_group(gc, gc->groups[i], now_ms);
	for (i = gc->n_groups; i-- > 0;)
		group_maybe_reap(gc, gc->groups[i]);
	return gq__gcoord_next_tick(gc);
}

int64_t
gq__gcoord_next_tick(const struct gq__gcoord *gc)
{
	const struct group *g;
	const struct member *m;
	int64_t next = -1;
	size_t i;
	size_t j;

	for (i = 0; i < gc->n_groups; i++) {
		g = gc->groups[i];
		for (j = 0; j < g->n_pending; j++)
			next = min_deadline(next, g->pending[j].deadline);
		for (j = 0; j < g->n_members; j++) {
			m = g->members[j];
			if (session_runs(m))
				next = min_deadline(
					next, m->last_heard + m->session_ms);
		}
		if (g->state == GS_PREPARING)
			next = min_deadline(next, g->join_deadline);
		if ((g->state == GS_COMPLETING || g->state == GS_STABLE) &&
		    g->sync_deadline >= 0 && any_pending_sync(g))
			next = min_deadline(next, g->sync_deadline);
	}
	return next;
}

/* ---------------------------------------------------------------------- */
/* Life cycle                                                              */
/* ---------------------------------------------------------------------- */

void
gq__gcoord_conf_init(struct gq__gc_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->min_session_ms = 6000;
	conf->max_session_ms = 1800000;
	conf->initial_rebalance_delay_ms = 3000;
}

int
gq__gcoord_create(const struct gq__gc_conf *conf, struct gq__gcoord **out)
{
	struct gq__gcoord *gc;

	if (conf != NULL && (conf->min_session_ms < 1 ||
			     conf->max_session_ms < conf->min_session_ms ||
			     conf->initial_rebalance_delay_ms < 0))
		return GQ_EINVAL;
	if ((gc = gq__calloc(1, sizeof(*gc))) == NULL)
		return GQ_ENOMEM;
	if (conf != NULL)
		gc->conf = *conf;
	else
		gq__gcoord_conf_init(&gc->conf);
	*out = gc;
	return 0;
}

void
gq__gcoord_destroy(struct gq__gcoord *gc)
{
	struct group *g;
	struct member *m;
	size_t i;
	size_t j;

	if (gc == NULL)
		return;
	assert(gc->in_cb == 0);
	gc->destroying = true;
	for (i = 0; i < gc->n_groups; i++) {
		g = gc->groups[i];
		set_state(gc, g, GS_DEAD);
		for (j = 0; j < g->n_members; j++) {
			m = g->members[j];
			if (m->join_cb != NULL)
				reply_join_error(
					gc, m->join_cb, m->join_arg,
					GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE,
					m->id);
			if (m->sync_cb != NULL)
				reply_sync(gc, m->sync_cb, m->sync_arg,
					   GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE,
					   NULL, 0);
			m->join_cb = NULL;
			m->sync_cb = NULL;
		}
	}
	for (i = 0; i < gc->n_groups; i++)
		gq__gc_group_free(gc->groups[i]);
	gq__free(gc->groups);
	gq__free(gc);
}
