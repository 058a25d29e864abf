/* SPDX-License-Identifier: MIT */
/*
 * group.h - building the GQ__REQ_GROUP requests of the public group calls
 * (group.c), for the calls themselves and for coordinator calls that
 * arrive from another node (group_forward.h).  A request owns a copy of
 * every argument; it is not posted, and has no completion yet.
 */
#ifndef GQ_GROUP_H
#define GQ_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "goqueue.h"
#include "node.h"

/* Most protocols one JoinGroup may offer; longest commit metadata. */
#define GQ__GROUP_PROTOCOLS_MAX 64
#define GQ__GROUP_METADATA_MAX  4096

/* A JOIN request for @join: 0, GQ_EINVAL, GQ_EBADNAME, GQ_ENOMEM. */
int gq__group_join_req(const struct gq_group_join *join, struct gq__req **out);

/* A request of @op (SYNC, HEARTBEAT, LEAVE or COMMIT; @n assignments for
 * SYNC) from a member: 0, GQ_EINVAL, GQ_EBADNAME, GQ_ENOMEM.  A COMMIT's
 * offsets are set by the caller. */
int gq__group_member_req(enum gq__group_op op, const char *group,
			 const char *member_id, const char *instance_id,
			 int32_t generation, size_t n,
			 const struct gq_group_assignment *assignments,
			 struct gq__req **out);

/* Set each offset's status: 0, or GQ_ENOTOPIC (no valid topic name) or
 * GQ_ETOOBIG (metadata too long), which the commit then skips. */
void gq__group_check_offsets(struct gq_group_offset *offsets, size_t n);

/* Read @group's committed offsets into @offsets (each gets its offset, -1
 * when none, and status) from this node's LMDB.  0, or an LMDB error. */
int gq__group_read_offsets(struct gq_node *node, const char *group,
			   struct gq_group_offset *offsets, size_t n);

/* A completed JOIN's result: what the coordinator answered, or, when the
 * request failed before it got there, @none filled as the error answer
 * (generation -1, the request's member id). */
const struct gq_group_joined *gq__group_joined(const struct gq__req *req,
					       struct gq_group_joined *none);

/* Free a request made above (not the offsets of a COMMIT). */
void gq__group_req_free(struct gq__req *req);

#endif /* GQ_GROUP_H */
