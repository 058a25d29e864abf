/* SPDX-License-Identifier: MIT */
/*
 * controller.h - the controller: Raft group 0, whose state machine owns
 * cluster metadata: the broker registry (ids and addresses), topics (name,
 * id, partition count, replica assignment, configuration), the topic-id
 * counter and the producer-id counter.  Which node leads it, which brokers
 * are alive and which node leads each partition are not replicated state:
 * cluster.c keeps them in memory.
 *
 * Its state lives in the node's LMDB `meta` database and changes only by
 * applying committed commands, each applied in one transaction together
 * with the applied Raft index, so a replay after a crash skips what is
 * already there.  Commands carry only deterministic data: ids are assigned
 * from counters inside apply, never from clocks or random numbers, and
 * replica placement is decided by the leader before it proposes.
 *
 * Commands (the entry type, then the payload, little-endian):
 *   1 TOPIC_CREATE     str16 name, u32 partitions, u16 replication factor,
 *                      per partition: u8 n, n x u32 broker id (the first
 *                      is the preferred leader), then the topic
 *                      configuration (config.h encoding) to the end
 *   2 TOPIC_DELETE     the name, to the end
 *   3 PRODUCER_ID      empty
 *   4 BROKER_REGISTER  u32 id, str16 raft address, str16 client address,
 *                      str16 rack
 *   5 PARTITION_REASSIGN  str16 topic name, u32 topic id, i32 partition,
 *                      u8 n, n x u32 broker id: the partition's new
 *                      replicas (distinct; the first is preferred)
 *   6 BROKER_REMOVE    u32 id: the broker is drained, then leaves
 *   7 TOPIC_ALTER      u8 version 1, str16 topic name, u32 topic id,
 *                      u32 mask of the keys set (enum gq__topic_field,
 *                      config.h), then a whole topic configuration
 *                      (config.h encoding) to the end, of which only the
 *                      fields in the mask count.  Apply merges those
 *                      into the stored configuration: two changes of
 *                      different keys committed back to back both hold,
 *                      where a full configuration decided by the
 *                      proposer from a state that had not yet applied
 *                      the first would undo it.  The deduplication keys
 *                      may only be set to the value they have (their
 *                      state is part of each partition's log order).
 *
 * LMDB `meta` layout (keys are ASCII, values little-endian):
 *   "ctl/applied"          u64  last applied Raft index of group 0
 *   "ctl/next_topic_id"    u32  next topic id (ids start at 1)
 *   "ctl/next_producer_id" u64  next producer id (ids start at 1000)
 *   "topic/<name>"         u8 version 3, u8 pad, i16 replication factor,
 *                          u32 id, i32 partitions, per partition its
 *                          replicas (u8 n, n x u32) then the replicas it
 *                          was created with (same form), then the
 *                          configuration.  Version 2 has no second list
 *                          (the partitions were never reassigned);
 *                          version 1 (a single node's, no assignment) is
 *                          read as every partition on this node.
 *   "broker/<10-digit id>" u8 version 1, u8 flags (1: being removed),
 *                          str16 raft address, str16 client address,
 *                          str16 rack (absent in records written before
 *                          racks: none)
 *
 * Snapshots carry the whole state (it is small): u64 version 2, u64
 * applied index, u32 count, then count x (u32 key length, key, u32 value
 * length, value) for every "ctl/", "topic/" and "broker/" record but
 * "ctl/applied".  A replica restoring one replaces its state with it.
 */
#ifndef GQ_CONTROLLER_H
#define GQ_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct gq_node;
struct gq__controller;
struct gq__broker;
struct gq__route;
struct gq__topic_conf;
struct gq__topic;

enum gq__ctl_cmd {
	GQ__CTL_TOPIC_CREATE = 1,
	GQ__CTL_TOPIC_DELETE = 2,
	GQ__CTL_PRODUCER_ID = 3,
	GQ__CTL_BROKER_REGISTER = 4,
	GQ__CTL_PARTITION_REASSIGN = 5,
	GQ__CTL_BROKER_REMOVE = 6,
	GQ__CTL_TOPIC_ALTER = 7,
};

/* What a command did, for its proposer. */
struct gq__ctl_result {
	int status;
	int64_t value;  /* PRODUCER_ID: the id */
	uint64_t index; /* the Raft index it applied at */
};

typedef void (*gq__ctl_cb)(void *arg, const struct gq__ctl_result *res);

/* Open group 0 and load its committed state into the node (topic table
 * and brokers; partitions are not opened here).  A node with an
 * initial_cluster bootstraps the group with those voters, else alone. */
int gq__controller_open(struct gq_node *node, struct gq__controller **out,
			char *errmsg);

/* Propose a command (leader only).  On 0 @cb runs once, when the command
 * applied here or failed (GQ_ENOTLEADER, GQ_EUNKNOWN...).  On error @cb
 * never runs. */
int gq__controller_propose(struct gq__controller *c, uint32_t type,
			   const void *body, size_t len, gq__ctl_cb cb,
			   void *arg);

/* Append a TOPIC_CREATE / BROKER_REGISTER payload.  0, GQ_ENOMEM. */
int gq__ctl_encode_create(struct gq__buf *out, const char *name,
			  int32_t partitions, int16_t replication_factor,
			  const struct gq__route *routes,
			  const struct gq__topic_conf *conf);
int gq__ctl_encode_broker(struct gq__buf *out, const struct gq__broker *b);

/* Append a PARTITION_REASSIGN payload.  0, GQ_ENOMEM. */
int gq__ctl_encode_reassign(struct gq__buf *out, const struct gq__topic *t,
			    int32_t partition, const int32_t *replicas,
			    uint8_t n);

/* Append a TOPIC_ALTER payload setting the fields of @conf that @mask
 * names (GQ__TF_*) on @t.  0, GQ_EINVAL (@conf out of range), GQ_ENOMEM. */
int gq__ctl_encode_alter(struct gq__buf *out, const struct gq__topic *t,
			 uint32_t mask, const struct gq__topic_conf *conf);

/* Whether @mask would change a deduplication key of @cur to another
 * value; its name into *@key then. */
bool gq__ctl_alter_dedup(const struct gq__topic_conf *cur,
			 const struct gq__topic_conf *conf, uint32_t mask,
			 const char **key);

/* Loop turn: poll the group. */
void gq__controller_poll(struct gq__controller *c);

/* Leader with its barrier applied: commands can be proposed here. */
bool gq__controller_is_leader(const struct gq__controller *c);

/* The leader as this replica last heard (its id, and its Raft address in
 * *address, valid until the next loop turn), or 0 if none is known. */
uint64_t gq__controller_leader(struct gq__controller *c, const char **address);

/* Its Raft group, for membership changes (cluster.c). */
struct gq__rgroup *gq__controller_rgroup(struct gq__controller *c);

/* The last Raft index applied here. */
uint64_t gq__controller_applied(const struct gq__controller *c);

/* Close the group (asynchronously; the node counts closing groups). */
void gq__controller_close(struct gq__controller *c);

#endif /* GQ_CONTROLLER_H */
