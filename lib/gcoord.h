/* SPDX-License-Identifier: MIT */
/*
 * gcoord.h - the consumer-group coordinator core: every group one
 * coordinator owns, as a pure state machine (Kafka 3.4 GroupCoordinator,
 * KAFKA-PROTOCOL.md section 3).  It does no I/O, starts no timer, reads no
 * clock and keeps no global state: each call carries the time (@now_ms, any
 * monotonic millisecond clock), and gq__gcoord_tick() runs the timers
 * (sessions, rebalance and initial delays, pending-sync and pending member
 * id expiry).  Offsets are stored elsewhere (group.c); this module only
 * validates commits.
 *
 * Requests Kafka parks (JoinGroup in PreparingRebalance, a follower's
 * SyncGroup in CompletingRebalance) complete later through the callback
 * given with the call.  Every callback runs exactly once: from inside the
 * call for immediate answers, from a later call or tick when released, or
 * from gq__gcoord_destroy() (COORDINATOR_NOT_AVAILABLE).  Callbacks must
 * not call the mutating functions of the same coordinator (join, sync,
 * heartbeat, leave, check_commit, delete_group, tick, destroy): those are
 * refused with COORDINATOR_NOT_AVAILABLE (join and sync run their callback
 * at once with it).  The introspection functions may be called.
 *
 * Errors are Kafka error codes (int16), GQ__GC_ERR_* below; the public API
 * translates.  Out of memory is reported as COORDINATOR_NOT_AVAILABLE,
 * which every client treats as "retry later", and never leaves a half-made
 * change behind.
 *
 * Thread safety: none; one thread (the node's loop) owns a coordinator.
 */
#ifndef GQ_GCOORD_H
#define GQ_GCOORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kafka error codes (Errors.java) the coordinator answers with. */
#define GQ__GC_ERR_NONE                        0
#define GQ__GC_ERR_COORDINATOR_NOT_AVAILABLE   15
#define GQ__GC_ERR_ILLEGAL_GENERATION          22
#define GQ__GC_ERR_INCONSISTENT_GROUP_PROTOCOL 23
#define GQ__GC_ERR_INVALID_GROUP_ID            24
#define GQ__GC_ERR_UNKNOWN_MEMBER_ID           25
#define GQ__GC_ERR_INVALID_SESSION_TIMEOUT     26
#define GQ__GC_ERR_REBALANCE_IN_PROGRESS       27
#define GQ__GC_ERR_NON_EMPTY_GROUP             68
#define GQ__GC_ERR_GROUP_ID_NOT_FOUND          69
#define GQ__GC_ERR_MEMBER_ID_REQUIRED          79
#define GQ__GC_ERR_FENCED_INSTANCE_ID          82

struct gq__gcoord;

/* Broker settings, all in milliseconds (Kafka names in brackets). */
struct gq__gc_conf {
	/* Accepted SessionTimeoutMs range, bounds included
	 * [group.min.session.timeout.ms 6000, group.max... 1800000]. */
	int32_t min_session_ms;
	int32_t max_session_ms;
	/* How long a rebalance that starts from Empty waits for more members,
	 * extended by as much again while members keep arriving, up to the
	 * rebalance timeout [group.initial.rebalance.delay.ms 3000].  0 turns
	 * it off: the rebalance completes as soon as everybody has joined. */
	int32_t initial_rebalance_delay_ms;
	/* Member ids are clientId "-" and a UUID-shaped suffix made from this
	 * seed and a counter, unique within one coordinator (no randomness,
	 * so tests are reproducible).  Give each coordinator incarnation a
	 * different seed (e.g. node id and boot time) so ids do not repeat
	 * across a failover.  Default 0. */
	uint64_t member_id_seed;
	/* Called when a group that had a generation settles (enters Stable
	 * or Empty) or goes (deleted; not at destroy): the moments to save
	 * it with gq__gcoord_save().  It must not call the mutating
	 * functions.  NULL: nobody is told. */
	void (*settled)(void *arg, const char *group);
	void *settled_arg;
};

/* Fill @conf with the defaults above. */
void gq__gcoord_conf_init(struct gq__gc_conf *conf);

/* Create a coordinator owning no group.  @conf is borrowed (copied); NULL
 * means defaults.  Returns 0, GQ_EINVAL (min session < 1, min > max,
 * negative delay) or GQ_ENOMEM; *out is set on success only. */
int gq__gcoord_create(const struct gq__gc_conf *conf, struct gq__gcoord **out);

/* Complete every parked JoinGroup and SyncGroup with
 * COORDINATOR_NOT_AVAILABLE, then free everything.  NULL is a no-op.  Must
 * not be called from a callback. */
void gq__gcoord_destroy(struct gq__gcoord *gc);

/* One (name, metadata) pair of a JoinGroup; borrowed for the call. */
struct gq__gc_protocol {
	const char *name;
	const uint8_t *metadata;
	size_t len;
};

/* A JoinGroup request; everything is borrowed for the call. */
struct gq__gc_join_req {
	const char *group;
	const char *member_id;         /* "" (or NULL): a new member */
	const char *group_instance_id; /* NULL or "": dynamic member */
	const char *client_id;         /* NULL is taken as "" */
	const char *client_host;       /* NULL is taken as "" */
	const char *protocol_type;     /* e.g. "consumer" */
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms; /* <= 0 (JoinGroup v0): session timeout */
	int16_t api_version; /* >= 4: new dynamic members get an id through
				MEMBER_ID_REQUIRED first (KIP-394) */
	size_t n_protocols;
	const struct gq__gc_protocol *protocols;
};

/* One member in the leader's JoinGroup response. */
struct gq__gc_member_info {
	const char *member_id;
	const char *group_instance_id; /* NULL for dynamic members */
	const uint8_t *metadata;       /* for the chosen protocol */
	size_t len;
};

/* A JoinGroup response, lent to the callback for the duration of the call.
 * On error: generation -1, protocol_name NULL, leader "", member_id the
 * request's (MEMBER_ID_REQUIRED: the id to rejoin with). */
struct gq__gc_join_resp {
	int16_t error;
	int32_t generation;
	const char *protocol_name;
	const char *leader;
	const char *member_id;
	size_t n_members; /* non-zero only in the leader's response */
	const struct gq__gc_member_info *members;
};

typedef void (*gq__gc_join_cb)(void *arg, const struct gq__gc_join_resp *resp);

/*
 * JoinGroup.  @req is borrowed.  @cb runs exactly once: at once for an
 * error, for MEMBER_ID_REQUIRED, and for a follower re-joining a Stable
 * group, or any member re-joining a CompletingRebalance group, with
 * unchanged protocols (the current generation is returned, no rebalance;
 * the leader's answer lists the members); otherwise the join is parked
 * and a rebalance starts (the leader re-joining Stable always starts one,
 * as Kafka: it does so when topic metadata changed).  A parked join
 * completes when the rebalance does (possibly inside this call), when the
 * member is removed (UNKNOWN_MEMBER_ID), fenced by a restart of its static
 * member (FENCED_INSTANCE_ID), superseded by another JoinGroup of the same
 * member (REBALANCE_IN_PROGRESS), or at destroy
 * (COORDINATOR_NOT_AVAILABLE).
 * Errors: INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT,
 * INCONSISTENT_GROUP_PROTOCOL (empty type or protocol list, another type,
 * or no protocol every member supports), UNKNOWN_MEMBER_ID (also: a known
 * member with an instance id the group does not know), FENCED_INSTANCE_ID,
 * MEMBER_ID_REQUIRED, COORDINATOR_NOT_AVAILABLE (out of memory: nothing
 * changed).
 * Static members (group_instance_id set) never get MEMBER_ID_REQUIRED.
 * One joining with "" and a known instance id takes the old member's place
 * (position, leadership, assignment) under a new id; the old id is fenced
 * from then on (only the latest one per member is remembered; older ones
 * get UNKNOWN_MEMBER_ID).  In Stable with unchanged protocols it resumes
 * without a rebalance; in CompletingRebalance it forces one, since the
 * leader may be assigning to the old id (Kafka 3.4 does the same).
 */
void gq__gcoord_join(struct gq__gcoord *gc, const struct gq__gc_join_req *req,
		     int64_t now_ms, gq__gc_join_cb cb, void *arg);

/* One entry of the leader's SyncGroup; borrowed for the call. */
struct gq__gc_assignment {
	const char *member_id;
	const uint8_t *data;
	size_t len;
};

/* @assignment is lent for the duration of the callback (NULL if len 0). */
typedef void (*gq__gc_sync_cb)(void *arg, int16_t error,
			       const uint8_t *assignment, size_t len);

/*
 * SyncGroup.  The leader's @assignments (borrowed; ignored from followers,
 * in Stable, and for ids that are not members; members missing get empty
 * bytes; a repeated id: the last entry wins) move a CompletingRebalance
 * group to Stable and release every parked SyncGroup with its member's
 * bytes.  A follower's SyncGroup in CompletingRebalance is parked; in Stable
 * it gets the current assignment at once.  @cb runs exactly once, as for
 * gq__gcoord_join() (a superseded or cancelled SyncGroup gets
 * REBALANCE_IN_PROGRESS).  Errors: INVALID_GROUP_ID, UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS,
 * COORDINATOR_NOT_AVAILABLE (out of memory storing the leader's
 * assignments: the generation is abandoned and the group rebalances).
 * @group_instance_id may be NULL.
 */
void gq__gcoord_sync(struct gq__gcoord *gc, const char *group,
		     int32_t generation, const char *member_id,
		     const char *group_instance_id, size_t n,
		     const struct gq__gc_assignment *assignments,
		     int64_t now_ms, gq__gc_sync_cb cb, void *arg);

/* Heartbeat: NONE (Stable, CompletingRebalance), REBALANCE_IN_PROGRESS
 * (PreparingRebalance), or INVALID_GROUP_ID, UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID, ILLEGAL_GENERATION.  Resets the member's session. */
int16_t gq__gcoord_heartbeat(struct gq__gcoord *gc, const char *group,
			     int32_t generation, const char *member_id,
			     int64_t now_ms);

/* LeaveGroup: remove the member (a parked request of it completes with
 * UNKNOWN_MEMBER_ID) and rebalance; a pending MEMBER_ID_REQUIRED id is just
 * forgotten.  NONE, INVALID_GROUP_ID, UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID. */
int16_t gq__gcoord_leave(struct gq__gcoord *gc, const char *group,
			 const char *member_id, int64_t now_ms);

/*
 * OffsetCommit validation (KAFKA-PROTOCOL.md 1.5, Kafka 3.4
 * validateOffsetCommit): unknown group: NONE if @generation < 0 (a simple,
 * unmanaged commit; the group is not created), else ILLEGAL_GENERATION.
 * Known group: with @generation >= 0 or a non-empty @member_id, the member
 * must exist (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID) and the generation
 * match (ILLEGAL_GENERATION); otherwise only an Empty group accepts
 * (UNKNOWN_MEMBER_ID).  Then CompletingRebalance -> REBALANCE_IN_PROGRESS,
 * anything else NONE.  A valid member's session is reset.  NULL @group ->
 * INVALID_GROUP_ID ("" is a valid group for commits).
 */
int16_t gq__gcoord_check_commit(struct gq__gcoord *gc, const char *group,
				int32_t generation, const char *member_id,
				int64_t now_ms);

/* DeleteGroups for one group: NONE (an Empty group is forgotten),
 * INVALID_GROUP_ID, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP. */
int16_t gq__gcoord_delete_group(struct gq__gcoord *gc, const char *group);

/*
 * Run the timers due at @now_ms: forget pending MEMBER_ID_REQUIRED ids
 * after their session timeout; remove members whose session expired
 * (never one parked in JoinGroup or SyncGroup); complete rebalances whose
 * timeout or initial delay passed (dropping members that did not rejoin);
 * remove members that have not sent SyncGroup a rebalance timeout after
 * their generation began.  Returns gq__gcoord_next_tick().
 */
int64_t gq__gcoord_tick(struct gq__gcoord *gc, int64_t now_ms);

/* The earliest time (ms) gq__gcoord_tick() has work, or -1 if none.  Any
 * mutating call may move it earlier.  Cost: linear in members. */
int64_t gq__gcoord_next_tick(const struct gq__gcoord *gc);

/* ---------------------------------------------------------------------- */
/* Introspection (ListGroups, DescribeGroups, lag).  What these return is  */
/* lent until the next mutating call on the coordinator.                   */
/* ---------------------------------------------------------------------- */

/* One member as DescribeGroups reports it. */
struct gq__gc_member_desc {
	const char *member_id;
	const char *group_instance_id; /* NULL for dynamic members */
	const char *client_id;
	const char *client_host;
	/* Only in Stable (as Kafka): metadata for the chosen protocol and
	 * the assignment the leader gave; NULL/0 otherwise. */
	const uint8_t *metadata;
	size_t metadata_len;
	const uint8_t *assignment;
	size_t assignment_len;
};

struct gq__gc_group_info {
	const char *group_id;
	/* "Empty", "PreparingRebalance", "CompletingRebalance", "Stable" or
	 * "Dead" (a group the coordinator does not know). */
	const char *state;
	const char *protocol_type; /* "" if none yet */
	const char *protocol;      /* "" unless Stable (as Kafka) */
	int32_t generation;
	const char *leader; /* "" while none */
	size_t n_members;   /* in join order */
	const struct gq__gc_member_desc *members;
};

/* Number of groups the coordinator knows. */
size_t gq__gcoord_group_count(const struct gq__gcoord *gc);

/* Describe the @i-th group in byte order of names; 0, or GQ_EINVAL if @i is
 * out of range.  Groups that never had a generation and have nobody
 * waiting are not kept. */
int gq__gcoord_group_at(struct gq__gcoord *gc, size_t i,
			struct gq__gc_group_info *out);

/* Describe @group; an unknown group is reported "Dead" with no member (as
 * Kafka does).  NONE or INVALID_GROUP_ID. */
int16_t gq__gcoord_describe(struct gq__gcoord *gc, const char *group,
			    struct gq__gc_group_info *out);

/* ---------------------------------------------------------------------- */
/* Persistence (gcoord_save.c): a new coordinator resumes settled groups   */
/* ---------------------------------------------------------------------- */

struct gq__buf;

/*
 * Append what restoring @group needs to @out: for a Stable group its
 * generation, protocol, leader and members (ids, client id and host,
 * timeouts, protocols, assignment); for an Empty one its generation and
 * protocol type.  Nothing is appended for a group that is gone, or in a
 * rebalance (a rebalance is not resumed: its members join again).
 * Returns 0, or GQ_ENOMEM.
 */
int gq__gcoord_save(const struct gq__gcoord *gc, const char *group,
		    struct gq__buf *out);

/* What gq__gcoord_save() wrote for @group at @generation is stored
 * (@status 0) or could not be.  With a settled hook, a new generation's
 * SyncGroup answers wait for this, as Kafka's wait for the assignment to
 * reach the log: a coordinator elected after the answers must know the
 * generation the members were told.  A failure sends every member back to
 * join.  Ignored unless @group is still Stable at @generation. */
void gq__gcoord_saved(struct gq__gcoord *gc, const char *group,
		      int32_t generation, int status, int64_t now_ms);

/* @group's generation, or -1 when it is not known here. */
int32_t gq__gcoord_generation(const struct gq__gcoord *gc, const char *group);

/* Recreate @group from what gq__gcoord_save() wrote, its members' sessions
 * starting at @now_ms.  0; GQ_EEXIST (the group is known here already);
 * GQ_ECORRUPT; GQ_ENOMEM; nothing changed unless 0. */
int gq__gcoord_restore(struct gq__gcoord *gc, const char *group,
		       const uint8_t *data, size_t len, int64_t now_ms);

#endif /* GQ_GCOORD_H */
