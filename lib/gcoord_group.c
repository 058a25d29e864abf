/* SPDX-License-Identifier: MIT */
/*
 * gcoord_group.c - storage and lookup for the group coordinator (see
 * gcoord_int.h): groups sorted by name, members in join order, pending
 * KIP-394 ids, member profiles in one allocation each, deterministic member
 * ids, protocol selection, the leader's assignments in one blob, and the
 * introspection calls of gcoord.h.  Nothing here moves a group between
 * states; gcoord.c does, through its checked transitions.
 */
#include "gcoord_int.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "goqueue.h"
#include "heap.h"

static const char *const state_names[] = {
	[GS_EMPTY] = "Empty",
	[GS_PREPARING] = "PreparingRebalance",
	[GS_COMPLETING] = "CompletingRebalance",
	[GS_STABLE] = "Stable",
	[GS_DEAD] = "Dead",
};

/* ---------------------------------------------------------------------- */
/* Member ids and profiles                                                 */
/* ---------------------------------------------------------------------- */

/* splitmix64's finaliser: a bijection on 64 bits. */
static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* clientId "-" UUID-shaped suffix.  seed + n * odd is injective in n and
 * mix64 is a bijection, so the first 64 bits never repeat; the suffix has
 * a fixed length, so the client id cannot make two ids collide. */
char *
gq__gc_member_id_new(struct gq__gcoord *gc, const char *client_id)
{
	uint64_t a;
	uint64_t b;
	size_t n;
	char *id;

	a = mix64(gc->conf.member_id_seed +
		  ++gc->id_counter * 0x9e3779b97f4a7c15ULL);
	b = mix64(a ^ gc->conf.member_id_seed ^ 0xd1b54a32d192ed03ULL);
	n = strlen(client_id);
	if ((id = gq__malloc(n + 38)) == NULL)
		return NULL;
	snprintf(id, n + 38,
		 "%s-%08" PRIx32 "-%04" PRIx32 "-%04" PRIx32 "-%04" PRIx32
		 "-%012" PRIx64,
		 client_id, (uint32_t)(a >> 32), (uint32_t)(a >> 16) & 0xffff,
		 (uint32_t)a & 0xffff, (uint32_t)(b >> 48),
		 (uint64_t)(b & 0xffffffffffffULL));
	return id;
}

static char *
put_str(char **cur, const char *s)
{
	char *at = *cur;
	size_t n;

	n = strlen(s) + 1;
	memcpy(at, s, n);
	*cur += n;
	return at;
}

/* One allocation per profile, laid out as the header, the protocol array,
 * then the client id, host and each protocol's name and metadata.  The
 * total is computed with overflow checks: the lengths come from the wire. */
struct profile *
gq__gc_profile_new(const struct gq__gc_join_req *req)
{
	struct profile *pf;
	size_t total = sizeof(*pf);
	char *cur;
	size_t i;

	if (req->n_protocols > (SIZE_MAX - total) / sizeof(struct proto))
		return NULL;
	total += req->n_protocols * sizeof(struct proto);
	if (!gq__gc_size_add(&total, strlen(gq__gc_nz(req->client_id)) + 1) ||
	    !gq__gc_size_add(&total, strlen(gq__gc_nz(req->client_host)) + 1))
		return NULL;
	for (i = 0; i < req->n_protocols; i++)
		if (!gq__gc_size_add(&total,
				     strlen(gq__gc_nz(req->protocols[i].name)) +
					     1) ||
		    !gq__gc_size_add(&total, req->protocols[i].len))
			return NULL;
	if ((pf = gq__malloc(total)) == NULL)
		return NULL;
	cur = (char *)&pf->p[req->n_protocols];
	pf->client_id = put_str(&cur, gq__gc_nz(req->client_id));
	pf->client_host = put_str(&cur, gq__gc_nz(req->client_host));
	pf->n = req->n_protocols;
	for (i = 0; i < pf->n; i++) {
		pf->p[i].name =
			put_str(&cur, gq__gc_nz(req->protocols[i].name));
		pf->p[i].len = req->protocols[i].len;
		pf->p[i].meta = NULL;
		if (pf->p[i].len > 0) {
			memcpy(cur, req->protocols[i].metadata, pf->p[i].len);
			pf->p[i].meta = (const uint8_t *)cur;
			cur += pf->p[i].len;
		}
		pf->p[i].votes = 0;
		pf->p[i].candidate = false;
	}
	return pf;
}

/* What "changed metadata" means for a rejoin: a follower rejoining Stable
 * with a matching profile gets the current generation, no rebalance. */
bool
gq__gc_profile_matches(const struct profile *pf,
		       const struct gq__gc_join_req *req)
{
	size_t i;

	if (pf->n != req->n_protocols)
		return false;
	for (i = 0; i < pf->n; i++) {
		if (strcmp(pf->p[i].name, gq__gc_nz(req->protocols[i].name)) !=
			    0 ||
		    pf->p[i].len != req->protocols[i].len ||
		    (pf->p[i].len > 0 &&
		     memcmp(pf->p[i].meta, req->protocols[i].metadata,
			    pf->p[i].len) != 0))
			return false;
	}
	return true;
}

const struct proto *
gq__gc_profile_find(const struct profile *pf, const char *name)
{
	size_t i;

	for (i = 0; i < pf->n; i++)
		if (strcmp(pf->p[i].name, name) == 0)
			return &pf->p[i];
	return NULL;
}

void
gq__gc_member_free(struct member *m)
{
	gq__free(m->id);
	gq__free(m->prev_id);
	gq__free(m->instance_id);
	gq__free(m->prof);
	gq__free(m);
}

/* ---------------------------------------------------------------------- */
/* Groups                                                                  */
/* ---------------------------------------------------------------------- */

/* Groups stay sorted by name: lookups are logarithmic and ListGroups
 * (gq__gcoord_group_at) pages in a stable order. */
size_t
gq__gc_group_index(const struct gq__gcoord *gc, const char *name, bool *found)
{
	size_t lo = 0;
	size_t hi = gc->n_groups;
	size_t mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(gc->groups[mid]->name, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

struct group *
gq__gc_group_find(const struct gq__gcoord *gc, const char *name)
{
	bool found;
	size_t i;

	i = gq__gc_group_index(gc, name, &found);
	return found ? gc->groups[i] : NULL;
}

struct group *
gq__gc_group_create(struct gq__gcoord *gc, const char *name)
{
	struct group **groups;
	struct group *g;
	size_t cap;
	size_t i;
	bool found;

	i = gq__gc_group_index(gc, name, &found);
	assert(!found);
	/* A grown array is harmless if what follows fails, so the insert
	 * itself, last, is all or nothing. */
	if (gc->n_groups == gc->cap) {
		cap = gc->cap < 8 ? 8 : gc->cap * 2;
		groups = gq__realloc(gc->groups, cap * sizeof(*groups));
		if (groups == NULL)
			return NULL;
		gc->groups = groups;
		gc->cap = cap;
	}
	if ((g = gq__calloc(1, sizeof(*g))) == NULL)
		return NULL;
	if ((g->name = gq__strdup(name)) == NULL) {
		gq__free(g);
		return NULL;
	}
	g->state = GS_EMPTY;
	g->sync_deadline = -1;
	memmove(&gc->groups[i + 1], &gc->groups[i],
		(gc->n_groups - i) * sizeof(*gc->groups));
	gc->groups[i] = g;
	gc->n_groups++;
	return g;
}

void
gq__gc_group_remove(struct gq__gcoord *gc, struct group *g)
{
	bool found;
	size_t i = gq__gc_group_index(gc, g->name, &found);

	assert(found && gc->groups[i] == g);
	memmove(&gc->groups[i], &gc->groups[i + 1],
		(gc->n_groups - i - 1) * sizeof(*gc->groups));
	gc->n_groups--;
	gq__gc_group_free(g);
}

void
gq__gc_group_free(struct group *g)
{
	size_t i;

	for (i = 0; i < g->n_members; i++)
		gq__gc_member_free(g->members[i]);
	for (i = 0; i < g->n_pending; i++)
		gq__free(g->pending[i].id);
	gq__free(g->members);
	gq__free(g->info);
	gq__free(g->desc);
	gq__free(g->pending);
	gq__free(g->assign_blob);
	gq__free(g->protocol_type);
	gq__free(g->proto_buf);
	gq__free(g->name);
	gq__free(g);
}

int
gq__gc_group_reserve(struct group *g, size_t want)
{
	struct member **members;
	struct gq__gc_member_info *info;
	struct gq__gc_member_desc *desc;
	size_t cap;

	if (want <= g->cap)
		return 0;
	cap = g->cap < 4 ? 4 : g->cap;
	while (cap < want)
		cap *= 2;
	/* A failure after the first realloc leaves bigger arrays and the old
	 * capacity: harmless. */
	if ((members = gq__realloc(g->members, cap * sizeof(*members))) == NULL)
		return GQ_ENOMEM;
	g->members = members;
	if ((info = gq__realloc(g->info, cap * sizeof(*info))) == NULL)
		return GQ_ENOMEM;
	g->info = info;
	if ((desc = gq__realloc(g->desc, cap * sizeof(*desc))) == NULL)
		return GQ_ENOMEM;
	g->desc = desc;
	g->cap = cap;
	return 0;
}

int
gq__gc_group_reserve_proto(struct group *g, const struct gq__gc_join_req *req)
{
	size_t need = 0;
	size_t i;
	size_t n;
	char *buf;

	for (i = 0; i < req->n_protocols; i++) {
		n = strlen(gq__gc_nz(req->protocols[i].name)) + 1;
		if (n > need)
			need = n;
	}
	if (need <= g->proto_cap)
		return 0;
	if ((buf = gq__realloc(g->proto_buf, need)) == NULL)
		return GQ_ENOMEM;
	/* The chosen protocol lives in proto_buf: follow it. */
	if (g->protocol != NULL)
		g->protocol = buf;
	g->proto_buf = buf;
	g->proto_cap = need;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Members and pending ids                                                 */
/* ---------------------------------------------------------------------- */

/* Linear scans: a group has few members (one per consumer), and every
 * request names one member. */
size_t
gq__gc_member_index(const struct group *g, const char *id)
{
	size_t i;

	for (i = 0; i < g->n_members; i++)
		if (strcmp(g->members[i]->id, id) == 0)
			return i;
	return NPOS;
}

struct member *
gq__gc_member_find(const struct group *g, const char *id)
{
	size_t i;

	i = gq__gc_member_index(g, id);
	return i != NPOS ? g->members[i] : NULL;
}

struct member *
gq__gc_member_by_instance(const struct group *g, const char *instance_id)
{
	size_t i;

	for (i = 0; i < g->n_members; i++)
		if (g->members[i]->instance_id != NULL &&
		    strcmp(g->members[i]->instance_id, instance_id) == 0)
			return g->members[i];
	return NULL;
}

bool
gq__gc_is_fenced_id(const struct group *g, const char *id)
{
	size_t i;

	for (i = 0; i < g->n_members; i++)
		if (g->members[i]->prev_id != NULL &&
		    strcmp(g->members[i]->prev_id, id) == 0)
			return true;
	return false;
}

int16_t
gq__gc_check_member(const struct group *g, const char *id,
		    const char *instance_id, struct member **out)
{
	struct member *m;

	/* The instance id first, as Kafka: a stale incarnation of a static
	 * member must learn it was fenced (fatal in librdkafka, which is
	 * the point) instead of rejoining as a new member. */
	if (instance_id != NULL && *instance_id != '\0' &&
	    (m = gq__gc_member_by_instance(g, instance_id)) != NULL &&
	    strcmp(m->id, id) != 0)
		return GQ__GC_ERR_FENCED_INSTANCE_ID;
	if ((*out = gq__gc_member_find(g, id)) != NULL)
		return GQ__GC_ERR_NONE;
	return gq__gc_is_fenced_id(g, id) ? GQ__GC_ERR_FENCED_INSTANCE_ID
					  : GQ__GC_ERR_UNKNOWN_MEMBER_ID;
}

size_t
gq__gc_pending_index(const struct group *g, const char *id)
{
	size_t i;

	for (i = 0; i < g->n_pending; i++)
		if (strcmp(g->pending[i].id, id) == 0)
			return i;
	return NPOS;
}

void
gq__gc_pending_remove(struct group *g, size_t i)
{
	/* Order is irrelevant: pending ids are only looked up. */
	gq__free(g->pending[i].id);
	g->pending[i] = g->pending[--g->n_pending];
}

int
gq__gc_pending_add(struct group *g, char *id, int64_t deadline)
{
	struct pending *p;
	size_t cap;

	if (g->n_pending == g->pending_cap) {
		cap = g->pending_cap < 4 ? 4 : g->pending_cap * 2;
		if ((p = gq__realloc(g->pending, cap * sizeof(*p))) == NULL)
			return GQ_ENOMEM;
		g->pending = p;
		g->pending_cap = cap;
	}
	g->pending[g->n_pending].id = id;
	g->pending[g->n_pending].deadline = deadline;
	g->n_pending++;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Protocols and assignments                                               */
/* ---------------------------------------------------------------------- */

int32_t
gq__gc_max_rebalance_ms(const struct group *g)
{
	int32_t t = 0;
	size_t i;

	for (i = 0; i < g->n_members; i++)
		if (g->members[i]->rebalance_ms > t)
			t = g->members[i]->rebalance_ms;
	return t;
}

/*
 * Protocol selection (Kafka selectProtocol): candidates are the protocols
 * every member supports; each member votes for its first candidate; most
 * votes wins, ties going to the first-joined member's preference.  The
 * tallies live in that member's profile, so nothing is allocated.
 */
const char *
gq__gc_select_protocol(const struct group *g)
{
	struct profile *p0 = g->members[0]->prof;
	const struct proto *q;
	const struct proto *best = NULL;
	size_t i;
	size_t j;
	size_t k;

	for (j = 0; j < p0->n; j++) {
		p0->p[j].votes = 0;
		p0->p[j].candidate = true;
		for (i = 1; i < g->n_members && p0->p[j].candidate; i++)
			if (gq__gc_profile_find(g->members[i]->prof,
						p0->p[j].name) == NULL)
				p0->p[j].candidate = false;
	}
	for (i = 0; i < g->n_members; i++) {
		for (k = 0; k < g->members[i]->prof->n; k++) {
			q = gq__gc_profile_find(p0,
						g->members[i]->prof->p[k].name);
			if (q != NULL && q->candidate) {
				p0->p[q - p0->p].votes++;
				break;
			}
		}
	}
	for (j = 0; j < p0->n; j++)
		if (p0->p[j].candidate &&
		    (best == NULL || p0->p[j].votes > best->votes))
			best = &p0->p[j];
	/* Joins are refused unless they share a protocol with everybody, so
	 * there is always a candidate; stay defined regardless. */
	assert(best != NULL);
	return best != NULL ? best->name : p0->p[0].name;
}

void
gq__gc_fill_info(struct group *g)
{
	const struct proto *p;
	struct member *m;
	size_t i;

	for (i = 0; i < g->n_members; i++) {
		m = g->members[i];
		p = g->protocol != NULL
			    ? gq__gc_profile_find(m->prof, g->protocol)
			    : NULL;
		g->info[i].member_id = m->id;
		g->info[i].group_instance_id = m->instance_id;
		g->info[i].metadata = p != NULL ? p->meta : NULL;
		g->info[i].len = p != NULL ? p->len : 0;
	}
}

bool
gq__gc_supports_protocols(const struct group *g,
			  const struct gq__gc_join_req *req)
{
	size_t i;
	size_t j;

	/* A memberless group (Empty, or waiting for pending ids) takes any
	 * type: it adopts the first member's. */
	if (g->n_members == 0)
		return true;
	if (strcmp(gq__gc_nz(g->protocol_type), req->protocol_type) != 0)
		return false;
	for (j = 0; j < req->n_protocols; j++) {
		for (i = 0; i < g->n_members; i++)
			if (gq__gc_profile_find(
				    g->members[i]->prof,
				    gq__gc_nz(req->protocols[j].name)) == NULL)
				break;
		if (i == g->n_members)
			return true;
	}
	return false;
}

void
gq__gc_clear_assignments(struct group *g)
{
	size_t i;

	for (i = 0; i < g->n_members; i++) {
		g->members[i]->assignment = NULL;
		g->members[i]->assignment_len = 0;
	}
	gq__free(g->assign_blob);
	g->assign_blob = NULL;
}

/* The last entry for @id in the leader's list, or NULL. */
static const struct gq__gc_assignment *
assignment_for(const char *id, size_t n, const struct gq__gc_assignment *a)
{
	size_t i;

	for (i = n; i-- > 0;)
		if (a[i].member_id != NULL && strcmp(a[i].member_id, id) == 0)
			return &a[i];
	return NULL;
}

int
gq__gc_store_assignments(struct group *g, size_t n,
			 const struct gq__gc_assignment *a)
{
	const struct gq__gc_assignment *e;
	size_t total = 0;
	uint8_t *blob = NULL;
	size_t i;

	/* Two passes: size, allocate, and only then replace, so a failure
	 * leaves the previous assignments in place.  Entries for ids that
	 * are not members are ignored, as Kafka does. */
	for (i = 0; i < g->n_members; i++)
		if ((e = assignment_for(g->members[i]->id, n, a)) != NULL &&
		    e->data != NULL && !gq__gc_size_add(&total, e->len))
			return GQ_ENOMEM;
	if (total > 0 && (blob = gq__malloc(total)) == NULL)
		return GQ_ENOMEM;
	gq__gc_clear_assignments(g);
	g->assign_blob = blob;
	total = 0;
	for (i = 0; i < g->n_members; i++) {
		e = assignment_for(g->members[i]->id, n, a);
		if (blob == NULL || e == NULL || e->data == NULL || e->len == 0)
			continue;
		memcpy(blob + total, e->data, e->len);
		g->members[i]->assignment = blob + total;
		g->members[i]->assignment_len = e->len;
		total += e->len;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Introspection                                                           */
/* ---------------------------------------------------------------------- */

/* Kafka GroupMetadata.summary: metadata and assignment only when Stable,
 * when they are consistent with the generation. */
static void
describe_group(struct group *g, struct gq__gc_group_info *out)
{
	const struct proto *p;
	struct gq__gc_member_desc *d;
	struct member *m;
	bool stable = g->state == GS_STABLE;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->group_id = g->name;
	out->state = state_names[g->state];
	out->protocol_type = gq__gc_nz(g->protocol_type);
	out->protocol = stable ? gq__gc_nz(g->protocol) : "";
	out->generation = g->generation;
	out->leader = g->leader != NULL ? g->leader->id : "";
	out->n_members = g->n_members;
	out->members = g->desc;
	for (i = 0; i < g->n_members; i++) {
		m = g->members[i];
		d = &g->desc[i];
		memset(d, 0, sizeof(*d));
		d->member_id = m->id;
		d->group_instance_id = m->instance_id;
		d->client_id = m->prof->client_id;
		d->client_host = m->prof->client_host;
		if (!stable)
			continue;
		if ((p = gq__gc_profile_find(m->prof, g->protocol)) != NULL) {
			d->metadata = p->meta;
			d->metadata_len = p->len;
		}
		d->assignment = m->assignment;
		d->assignment_len = m->assignment_len;
	}
}

size_t
gq__gcoord_group_count(const struct gq__gcoord *gc)
{
	return gc->n_groups;
}

int
gq__gcoord_group_at(struct gq__gcoord *gc, size_t i,
		    struct gq__gc_group_info *out)
{
	if (i >= gc->n_groups)
		return GQ_EINVAL;
	describe_group(gc->groups[i], out);
	return 0;
}

int16_t
gq__gcoord_describe(struct gq__gcoord *gc, const char *group,
		    struct gq__gc_group_info *out)
{
	struct group *g;

	if (group == NULL || *group == '\0')
		return GQ__GC_ERR_INVALID_GROUP_ID;
	if ((g = gq__gc_group_find(gc, group)) != NULL) {
		describe_group(g, out);
		return GQ__GC_ERR_NONE;
	}
	/* Kafka answers an unknown group with state Dead and no error. */
	memset(out, 0, sizeof(*out));
	out->group_id = group;
	out->state = state_names[GS_DEAD];
	out->protocol_type = "";
	out->protocol = "";
	out->leader = "";
	return GQ__GC_ERR_NONE;
}
