/* SPDX-License-Identifier: MIT */
/*
 * gcoord_int.h - the private side of the group coordinator, shared by its
 * two parts: gcoord.c (the state machine: rebalances, the requests,
 * timers, life cycle) and gcoord_group.c (storage and lookup of groups,
 * members, pending ids and profiles, member ids, protocol selection,
 * assignment storage, introspection).  Only gcoord*.c include this header,
 * so its short type names stay inside the module.
 *
 * gcoord_save.c saves a settled group and restores it.
 *
 * Ownership: the coordinator owns its groups (sorted by name); a group
 * owns its members (in join order, which decides the fallback leader and
 * the protocol tie-break), its pending ids and one assignment blob per
 * generation; a member owns its id, the id it had before a static
 * replacement (fenced from then on), its instance id and one profile
 * allocation holding its client id, host and protocols.
 *
 * Nothing a rebalance completion needs is allocated then: the leader's
 * member list (info), DescribeGroups' (desc) and the chosen protocol's name
 * (proto_buf) are reserved whenever a member joins.
 */
#ifndef GQ_GCOORD_INT_H
#define GQ_GCOORD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gcoord.h"

/* "Not found" for the index lookups. */
#define NPOS SIZE_MAX

/* Group states (Kafka GroupState); transitions are listed and checked in
 * gcoord.c. */
enum gstate { GS_EMPTY, GS_PREPARING, GS_COMPLETING, GS_STABLE, GS_DEAD };

/* A protocol of a member; votes and candidate are selection scratch. */
struct proto {
	const char *name;
	const uint8_t *meta;
	size_t len;
	size_t votes;
	bool candidate;
};

/* One allocation: this header, the protocols, then every string/bytes. */
struct profile {
	const char *client_id;
	const char *client_host;
	size_t n;
	struct proto p[];
};

/* A member of a group.  join_cb is set only while its JoinGroup is parked
 * (PreparingRebalance), sync_cb while its SyncGroup is (CompletingRebalance).
 */
struct member {
	char *id;
	char *prev_id;     /* fenced id of a replaced static member, or NULL */
	char *instance_id; /* NULL: dynamic */
	struct profile *prof;
	int32_t session_ms;
	int32_t rebalance_ms;
	int64_t last_heard;
	bool pending_sync;         /* no SyncGroup yet in this generation */
	const uint8_t *assignment; /* into group->assign_blob */
	size_t assignment_len;
	gq__gc_join_cb join_cb; /* parked JoinGroup */
	void *join_arg;
	gq__gc_sync_cb sync_cb; /* parked SyncGroup */
	void *sync_arg;
};

/* A KIP-394 id handed out with MEMBER_ID_REQUIRED, not yet joined. */
struct pending {
	char *id;
	int64_t deadline;
};

/* One group; arrays are owned, strings too unless said. */
struct group {
	char *name;
	enum gstate state;
	int32_t generation;
	/* The generation whose Stable state is being saved: its SyncGroup
	 * answers wait for gq__gcoord_saved().  0: none. */
	int32_t saving;
	char *protocol_type; /* NULL until a member joins */
	char *protocol;      /* NULL, or proto_buf: the chosen protocol */
	char *proto_buf;     /* reserved for the longest protocol name */
	size_t proto_cap;
	struct member *leader;
	struct member **members; /* join order */
	struct gq__gc_member_info *info;
	struct gq__gc_member_desc *desc;
	size_t n_members;
	size_t cap; /* of members, info and desc */
	struct pending *pending;
	size_t n_pending;
	size_t pending_cap;
	uint8_t *assign_blob;
	/* PreparingRebalance: completion time; with initial set, the initial
	 * delay (extended while new members arrive, within remaining). */
	int64_t join_deadline;
	int64_t remaining;
	bool initial;
	bool new_member_added;
	/* CompletingRebalance/Stable: members not synced by then go; -1 when
	 * nobody is pending. */
	int64_t sync_deadline;
};

struct gq__gcoord {
	struct gq__gc_conf conf;
	struct group **groups; /* sorted by name */
	size_t n_groups;
	size_t cap;
	uint64_t id_counter;
	int in_cb;       /* callbacks running: mutating calls are refused */
	bool destroying; /* nothing settles any more */
};

/* NULL strings are taken as "". */
static inline const char *
gq__gc_nz(const char *s)
{
	return s != NULL ? s : "";
}

/* Add @n to *@total; false (and *@total unchanged) on overflow. */
static inline bool
gq__gc_size_add(size_t *total, size_t n)
{
	if (n > SIZE_MAX - *total)
		return false;
	*total += n;
	return true;
}

/* A new member id, clientId "-" a UUID-shaped suffix unique within @gc;
 * NULL when out of memory.  Free with gq__free(). */
char *gq__gc_member_id_new(struct gq__gcoord *gc, const char *client_id);

/* Copy what @req says about its member (client id, host, protocols) into
 * one allocation; NULL when out of memory.  Free with gq__free(). */
struct profile *gq__gc_profile_new(const struct gq__gc_join_req *req);

/* Whether @req has the same protocols, names and metadata, in the same
 * order (Kafka MemberMetadata.matches). */
bool gq__gc_profile_matches(const struct profile *pf,
			    const struct gq__gc_join_req *req);

/* The protocol called @name in @pf, or NULL. */
const struct proto *gq__gc_profile_find(const struct profile *pf,
					const char *name);

/* Free a member and everything it owns (not its parked callbacks: the
 * caller answers those first). */
void gq__gc_member_free(struct member *m);

/* Index of group @name, or where it would be inserted (*found false). */
size_t gq__gc_group_index(const struct gq__gcoord *gc, const char *name,
			  bool *found);

/* Group @name, or NULL. */
struct group *gq__gc_group_find(const struct gq__gcoord *gc, const char *name);

/* Create and insert an Empty group @name (which must not exist); NULL when
 * out of memory, nothing changed. */
struct group *gq__gc_group_create(struct gq__gcoord *gc, const char *name);

/* Free a group already taken off gc->groups, members and all. */
void gq__gc_group_free(struct group *g);

/* Take @g off gc->groups and free it. */
void gq__gc_group_remove(struct gq__gcoord *gc, struct group *g);

/* Make room for @want members (members, info, desc); 0 or GQ_ENOMEM. */
int gq__gc_group_reserve(struct group *g, size_t want);

/* Make room in proto_buf for any protocol name of @req; 0 or GQ_ENOMEM. */
int gq__gc_group_reserve_proto(struct group *g,
			       const struct gq__gc_join_req *req);

/* Index of member @id, or NPOS. */
size_t gq__gc_member_index(const struct group *g, const char *id);

/* Member @id, or NULL. */
struct member *gq__gc_member_find(const struct group *g, const char *id);

/* The member holding @instance_id, or NULL. */
struct member *gq__gc_member_by_instance(const struct group *g,
					 const char *instance_id);

/* Whether @id is the fenced former id of a replaced static member. */
bool gq__gc_is_fenced_id(const struct group *g, const char *id);

/* Kafka validateCurrentMember: FENCED_INSTANCE_ID if @instance_id (may be
 * NULL) belongs to another member or @id was replaced, UNKNOWN_MEMBER_ID
 * if @id is no member, else NONE with the member in *out. */
int16_t gq__gc_check_member(const struct group *g, const char *id,
			    const char *instance_id, struct member **out);

/* Index of pending id @id, or NPOS. */
size_t gq__gc_pending_index(const struct group *g, const char *id);

/* Forget pending entry @i (order is not kept). */
void gq__gc_pending_remove(struct group *g, size_t i);

/* Remember pending @id (owned on success) until @deadline; 0 or
 * GQ_ENOMEM. */
int gq__gc_pending_add(struct group *g, char *id, int64_t deadline);

/* The group's rebalance timeout: the largest of its members', 0 if none. */
int32_t gq__gc_max_rebalance_ms(const struct group *g);

/* Kafka supportsProtocols: @req's type matches and one of its protocols is
 * supported by every current member (true for a memberless group). */
bool gq__gc_supports_protocols(const struct group *g,
			       const struct gq__gc_join_req *req);

/* Kafka selectProtocol over the current members (at least one); the name
 * returned lives in the first member's profile.  Never allocates. */
const char *gq__gc_select_protocol(const struct group *g);

/* Fill g->info with every member and its metadata for g->protocol. */
void gq__gc_fill_info(struct group *g);

/* Drop the generation's assignments. */
void gq__gc_clear_assignments(struct group *g);

/* Replace the assignments with copies of the leader's @a (last entry per
 * member wins, members missing get none), all or nothing; 0 or
 * GQ_ENOMEM (assignments unchanged). */
int gq__gc_store_assignments(struct group *g, size_t n,
			     const struct gq__gc_assignment *a);

#endif /* GQ_GCOORD_INT_H */
