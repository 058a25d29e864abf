/* SPDX-License-Identifier: MIT */
/*
 * gcoord_save.c - a settled group (gcoord.h) saved as bytes and restored,
 * so a new coordinator resumes its groups: members keep their ids and
 * generation, and heartbeat on as if nothing happened.
 *
 * Layout, little-endian (str16: u16 length, bytes):
 *   u8 version 1 | u8 state (1 Empty, 2 Stable) | i32 generation |
 *   str16 protocol type
 *   Stable only: str16 protocol | str16 leader id | u32 n members, each:
 *     str16 id | u8 static? | [str16 instance id] | str16 client id |
 *     str16 client host | i32 session ms | i32 rebalance ms |
 *     u16 n protocols x (str16 name, u32 length, metadata) |
 *     u32 assignment length, assignment
 */
#include <string.h>

#include "buf.h"
#include "gcoord_int.h"
#include "goqueue.h"
#include "heap.h"

#define SAVE_VERSION 1
#define SAVED_EMPTY  1
#define SAVED_STABLE 2

static int
put_member(struct gq__buf *b, const struct member *m)
{
	int rv = gq__buf_put_str16(b, m->id) |
		 gq__buf_put_u8(b, m->instance_id != NULL);

	if (m->instance_id != NULL)
		rv |= gq__buf_put_str16(b, m->instance_id);
	rv |= gq__buf_put_str16(b, m->prof->client_id) |
	      gq__buf_put_str16(b, m->prof->client_host) |
	      gq__buf_put_le32(b, (uint32_t)m->session_ms) |
	      gq__buf_put_le32(b, (uint32_t)m->rebalance_ms) |
	      gq__buf_put_le16(b, (uint16_t)m->prof->n);
	for (size_t i = 0; i < m->prof->n; i++)
		rv |= gq__buf_put_str16(b, m->prof->p[i].name) |
		      gq__buf_put_le32(b, (uint32_t)m->prof->p[i].len) |
		      gq__buf_append(b, m->prof->p[i].meta, m->prof->p[i].len);
	return rv | gq__buf_put_le32(b, (uint32_t)m->assignment_len) |
	       gq__buf_append(b, m->assignment, m->assignment_len);
}

int
gq__gcoord_save(const struct gq__gcoord *gc, const char *group,
		struct gq__buf *out)
{
	const struct group *g = gq__gc_group_find(gc, group);
	size_t start = out->len;
	int rv;

	if (g == NULL || (g->state != GS_STABLE && g->state != GS_EMPTY))
		return 0;
	rv = gq__buf_put_u8(out, SAVE_VERSION) |
	     gq__buf_put_u8(out, g->state == GS_STABLE ? SAVED_STABLE
						       : SAVED_EMPTY) |
	     gq__buf_put_le32(out, (uint32_t)g->generation) |
	     gq__buf_put_str16(out, gq__gc_nz(g->protocol_type));
	if (g->state == GS_STABLE) {
		rv |= gq__buf_put_str16(out, gq__gc_nz(g->protocol)) |
		      gq__buf_put_str16(out, g->leader != NULL ? g->leader->id
							       : "") |
		      gq__buf_put_le32(out, (uint32_t)g->n_members);
		for (size_t i = 0; i < g->n_members; i++)
			rv |= put_member(out, g->members[i]);
	}
	if (rv != 0) {
		out->len = start;
		return GQ_ENOMEM;
	}
	return 0;
}

/* ---- restore ----------------------------------------------------------- */

/* A str16 as a new NUL-terminated string; NULL (and r bad, or *oom) on
 * failure. */
static char *
rd_dup(struct gq__rd *r, bool *oom)
{
	size_t n = gq__rd_le16(r);
	const uint8_t *p = gq__rd_take(r, n);
	char *s;

	if (p == NULL)
		return NULL;
	if ((s = gq__malloc(n + 1)) == NULL) {
		*oom = true;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* A member as read, before it joins the group. */
struct saved {
	char *id;
	char *instance_id;
	char *client_id;
	char *client_host;
	int32_t session_ms;
	int32_t rebalance_ms;
	size_t n_protocols;
	struct gq__gc_protocol *protocols;   /* names owned, metadata lent */
	struct gq__gc_assignment assignment; /* data lent */
};

static void
saved_free(struct saved *s, size_t n)
{
	for (size_t i = 0; s != NULL && i < n; i++) {
		gq__free(s[i].id);
		gq__free(s[i].instance_id);
		gq__free(s[i].client_id);
		gq__free(s[i].client_host);
		for (size_t j = 0; j < s[i].n_protocols; j++)
			gq__free((char *)s[i].protocols[j].name);
		gq__free(s[i].protocols);
	}
	gq__free(s);
}

static void
read_member(struct gq__rd *r, struct saved *s, bool *oom)
{
	size_t n;

	s->id = rd_dup(r, oom);
	if (gq__rd_u8(r) != 0)
		s->instance_id = rd_dup(r, oom);
	s->client_id = rd_dup(r, oom);
	s->client_host = rd_dup(r, oom);
	s->session_ms = (int32_t)gq__rd_le32(r);
	s->rebalance_ms = (int32_t)gq__rd_le32(r);
	n = gq__rd_le16(r);
	if (r->bad || *oom)
		return;
	if (n == 0) { /* every member has one */
		r->bad = true;
		return;
	}
	if ((s->protocols = gq__calloc(n, sizeof(*s->protocols))) == NULL) {
		*oom = true;
		return;
	}
	s->n_protocols = n;
	for (size_t i = 0; i < s->n_protocols && !r->bad && !*oom; i++) {
		s->protocols[i].name = rd_dup(r, oom);
		s->protocols[i].len = gq__rd_le32(r);
		s->protocols[i].metadata = gq__rd_take(r, s->protocols[i].len);
	}
	s->assignment.member_id = s->id;
	s->assignment.len = gq__rd_le32(r);
	s->assignment.data = gq__rd_take(r, s->assignment.len);
}

/* A member for @s, allocated; NULL when out of memory. */
static struct member *
member_new(struct group *g, struct saved *s, int64_t now_ms)
{
	struct gq__gc_join_req req = {
		.client_id = s->client_id,
		.client_host = s->client_host,
		.n_protocols = s->n_protocols,
		.protocols = s->protocols,
	};
	struct member *m = gq__calloc(1, sizeof(*m));

	if (m == NULL || gq__gc_group_reserve_proto(g, &req) != 0 ||
	    (m->prof = gq__gc_profile_new(&req)) == NULL) {
		gq__free(m);
		return NULL;
	}
	/* The strings move to the member. */
	m->id = s->id;
	m->instance_id = s->instance_id;
	s->id = s->instance_id = NULL;
	m->session_ms = s->session_ms;
	m->rebalance_ms = s->rebalance_ms;
	m->last_heard = now_ms;
	return m;
}

/* Fill the new group @g with the @n members of @s: 0, GQ_ENOMEM or
 * GQ_ECORRUPT (the protocol or leader is not theirs). */
static int
fill_stable(struct group *g, struct saved *s, size_t n, const char *protocol,
	    const char *leader, int64_t now_ms)
{
	struct gq__gc_assignment *as;
	int rv = 0;

	if (gq__gc_group_reserve(g, n) != 0 ||
	    (as = gq__calloc(n, sizeof(*as))) == NULL)
		return GQ_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct member *m;

		as[i] = s[i].assignment;
		if ((m = member_new(g, &s[i], now_ms)) == NULL) {
			rv = GQ_ENOMEM;
			break;
		}
		g->members[g->n_members++] = m;
		if (strcmp(m->id, leader) == 0)
			g->leader = m;
		if (gq__gc_profile_find(m->prof, protocol) == NULL)
			rv = GQ_ECORRUPT;
	}
	if (rv == 0 && (g->leader == NULL || strlen(protocol) >= g->proto_cap))
		rv = GQ_ECORRUPT;
	if (rv == 0 && gq__gc_store_assignments(g, n, as) != 0)
		rv = GQ_ENOMEM;
	gq__free(as);
	if (rv != 0)
		return rv;
	strcpy(g->proto_buf, protocol);
	g->protocol = g->proto_buf;
	gq__gc_fill_info(g);
	g->state = GS_STABLE;
	return 0;
}

int
gq__gcoord_restore(struct gq__gcoord *gc, const char *group,
		   const uint8_t *data, size_t len, int64_t now_ms)
{
	struct gq__rd r = gq__rd_init(data, len);
	char *type = NULL, *protocol = NULL, *leader = NULL;
	struct saved *s = NULL;
	struct group *g = NULL;
	size_t n = 0;
	uint8_t state;
	int32_t generation;
	bool oom = false;
	int rv = GQ_ECORRUPT;

	if (gq__gc_group_find(gc, group) != NULL)
		return GQ_EEXIST;
	if (gq__rd_u8(&r) != SAVE_VERSION)
		return GQ_ECORRUPT;
	state = gq__rd_u8(&r);
	generation = (int32_t)gq__rd_le32(&r);
	type = rd_dup(&r, &oom);
	if (state == SAVED_STABLE) {
		protocol = rd_dup(&r, &oom);
		leader = rd_dup(&r, &oom);
		n = gq__rd_le32(&r);
		/* Each member takes at least 19 bytes: no huge allocation
		 * from a corrupt count. */
		if (n == 0 || n > r.left / 19)
			r.bad = true;
		else if ((s = gq__calloc(n, sizeof(*s))) == NULL)
			oom = true;
		for (size_t i = 0; s != NULL && i < n && !r.bad && !oom; i++)
			read_member(&r, &s[i], &oom);
	}
	if (oom) {
		rv = GQ_ENOMEM;
		goto out;
	}
	if (r.bad || r.left != 0 || generation <= 0 ||
	    (state != SAVED_EMPTY && state != SAVED_STABLE))
		goto out;
	if ((g = gq__gc_group_create(gc, group)) == NULL) {
		rv = GQ_ENOMEM;
		goto out;
	}
	g->generation = generation;
	if (type[0] != '\0') {
		g->protocol_type = type;
		type = NULL;
	}
	rv = state == SAVED_STABLE
		     ? fill_stable(g, s, n, protocol, leader, now_ms)
		     : 0;
	if (rv != 0)
		gq__gc_group_remove(gc, g);
out:
	saved_free(s, n);
	gq__free(type);
	gq__free(protocol);
	gq__free(leader);
	return rv;
}
