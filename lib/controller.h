/* SPDX-License-Identifier: MIT */
/*
 * controller.h - the controller: Raft group 0, whose state machine owns
 * cluster metadata: topics (name, id, partition count, replication factor,
 * configuration), the topic-id counter and the producer-id counter.
 *
 * Its state lives in the node's LMDB `meta` database and changes only by
 * applying committed commands, each applied in one transaction together
 * with the applied Raft index, so a replay after a crash skips what is
 * already there.  Commands carry only deterministic data: ids are assigned
 * from counters inside apply, never from clocks or random numbers.
 *
 * LMDB `meta` layout (keys are ASCII, values little-endian):
 *   "ctl/applied"          u64  last applied Raft index of group 0
 *   "ctl/next_topic_id"    u32  next topic id (ids start at 1)
 *   "ctl/next_producer_id" u64  next producer id (ids start at 1000)
 *   "topic/<name>"         u8 version (1), u8 pad, i16 replication factor,
 *                          u32 id, i32 partitions, then the topic
 *                          configuration (config.h encoding)
 */
#ifndef GQ_CONTROLLER_H
#define GQ_CONTROLLER_H

#include <stdbool.h>

struct gq_node;
struct gq__req;
struct gq__controller;

/* Open group 0 and load the topics it already committed into the node's
 * topic table (their partitions are not opened here). */
int gq__controller_open(struct gq_node *node, struct gq__controller **out,
			char *errmsg);

/* Propose a topic create/delete or a producer-id allocation for @req.
 * The request completes when the command applied (creates then wait for
 * their partitions, see node.c).  Errors complete @req at once. */
void gq__controller_submit(struct gq__controller *c, struct gq__req *req);

/* Loop turn: poll the group. */
void gq__controller_poll(struct gq__controller *c);

/* Leader with its barrier applied: commands can be proposed. */
bool gq__controller_ready(const struct gq__controller *c);

/* Close the group (asynchronously; the node counts closing groups). */
void gq__controller_close(struct gq__controller *c);

#endif /* GQ_CONTROLLER_H */
