/* SPDX-License-Identifier: MIT */
/*
 * gcall.h - the group coordination calls (gq_group_*_async) made blocking
 * for tests: each starts a call whose callback copies what it reported
 * into a struct gqt_call, which the test then waits on.
 */
#ifndef GQT_GCALL_H
#define GQT_GCALL_H

#include <goqueue.h>
#include <pthread.h>
#include <stdbool.h>

struct gqt_call {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int status;
	int32_t generation;
	char member_id[256];
	char leader[256];
	char protocol[64];
	size_t n_members;
	char assignment[64];
};

/* Start a join of @member_id ("" for a new member) to @group, protocol
 * "range", KIP-394 on; the start must succeed. */
void gqt_join_start(struct gq_node *node, struct gqt_call *c, const char *group,
		    const char *member_id, int32_t session_ms);

/* A new member: MEMBER_ID_REQUIRED first (asserted), then the join
 * proper starts with the id given. */
void gqt_join_new(struct gq_node *node, struct gqt_call *c, const char *group,
		  int32_t session_ms);

/* Start a SyncGroup with @n assignments. */
void gqt_sync_start(struct gq_node *node, struct gqt_call *c, const char *group,
		    const char *member_id, int32_t generation, size_t n,
		    const struct gq_group_assignment *a);

/* Wait (20 s at most, asserted) for the callback; returns its status. */
int gqt_call_wait(struct gqt_call *c);

/* Whether the callback ran. */
bool gqt_call_done(struct gqt_call *c);

/* The blocking forms of heartbeat, leave and commit: their status. */
int gqt_heartbeat(struct gq_node *node, const char *group,
		  const char *member_id, int32_t generation);
int gqt_leave(struct gq_node *node, const char *group, const char *member_id);
int gqt_commit(struct gq_node *node, const char *group, const char *member_id,
	       int32_t generation, struct gq_group_offset *o, size_t n);

#endif /* GQT_GCALL_H */
