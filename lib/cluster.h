/* SPDX-License-Identifier: MIT */
/*
 * cluster.h - what a node does as a member of a cluster, around the
 * replicated controller state (controller.h):
 *
 *   - routes controller requests (topic create/delete, producer ids) to the
 *     controller leader: proposed here when this node leads group 0,
 *     otherwise sent over the RPC channel; the requester then waits until
 *     its own replica applied the command, so what the caller sees next is
 *     consistent with it;
 *   - on the controller leader: places new topics' replicas by load over
 *     the live brokers, keeps broker liveness (heartbeats within the
 *     session timeout) and the map of partition leaders, both in memory
 *     (they are facts about the present, not replicated state), and
 *     creates the internal offsets topic;
 *   - on every node: heartbeats the controller leader with its addresses
 *     and the partitions it leads (the leader registers the broker when
 *     the registry differs), and learns from the answer which brokers are
 *     alive and who leads the partitions it hosts no replica of.
 *
 * RPC messages (types on the RPC channel; little-endian bodies):
 *   1 HEARTBEAT    u32 broker id, str16 raft address, str16 client
 *                  address, str16 rack, u32 n, n x (u64 partition uid, u64
 * term) it leads.  Reply: u8 registered, u32 n, n x (u32 broker id, u8 alive),
 * u32 m, m x (u64 uid, u32 leader, u64 term). 2 CTL_REQUEST  u32 request type
 * (enum gq__ctl_cmd), then for TOPIC_CREATE: str16 name, u32 partitions, u16
 *                  replication factor, topic configuration; TOPIC_DELETE:
 *                  str16 name; PRODUCER_ID: nothing; PARTITION_REASSIGN:
 *                  str16 topic, i32 partition, i32 broker to make the
 *                  preferred leader (0: none), u8 n (0: the current
 *                  replicas), n x u32 broker id; BROKER_REMOVE: u32
 *                  broker id; TOPIC_ALTER: str16 name, u32 mask of the
 *                  keys set (GQ__TF_*), topic configuration (only the
 *                  masked fields count).  Reply: i64 value,
 *                  u64 applied index; on error (the RPC status) str16
 *                  error detail.
 *   3 PART_FETCH   a lagging replica copies a range (catchup.h).
 *   4 PRODUCE      a produce call made elsewhere (forward.h).
 *   5 PART_STATE   a replica's state and membership (membership.h).
 *   6 READ_INDEX   the leader's applied index after a barrier
 *                  (readindex.h).
 */
#ifndef GQ_CLUSTER_H
#define GQ_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gq_node;
struct gq__req;
struct gq__cluster;
struct gq__rpc_call;
struct gq__partition;
struct gq__rd;

enum gq__rpc_type {
	GQ__RPC_HEARTBEAT = 1,
	GQ__RPC_CTL_REQUEST = 2,
	GQ__RPC_PART_FETCH = 3, /* catchup.h */
	GQ__RPC_PRODUCE = 4,    /* forward.h */
	GQ__RPC_PART_STATE = 5, /* membership.h */
	GQ__RPC_READ_INDEX = 6, /* readindex.h */
	GQ__RPC_GROUP = 7,      /* group_forward.h */
};

/* Create the node's cluster state (the node's rpc and controller exist). */
int gq__cluster_create(struct gq_node *node, struct gq__cluster **out);

/* Free it after gq__cluster_close(). */
void gq__cluster_free(struct gq__cluster *cl);

/* Fail every parked request with GQ_ECLOSED and stop heartbeats. */
void gq__cluster_close(struct gq__cluster *cl);

/* Loop turn: notice controller leadership changes, resubmit parked
 * requests, complete requests whose command applied here. */
void gq__cluster_poll(struct gq__cluster *cl);

/* Heartbeat timer: heartbeat the controller leader; on the leader, age
 * liveness and create the offsets topic when it is missing. */
void gq__cluster_tick(struct gq__cluster *cl);

/* Route a GQ__REQ_TOPIC_CREATE / TOPIC_DELETE / TOPIC_ALTER / PRODUCER_ID /
 * REASSIGN / BROKER_REMOVE request; it completes later. */
void gq__cluster_submit(struct gq__cluster *cl, struct gq__req *req);

/* The controller answered our heartbeat and has us registered. */
bool gq__cluster_registered(const struct gq__cluster *cl);

/* For an RPC about partition @uid read from @r: the replica open here, or
 * NULL once @call was answered GQ_EINVAL (@r is bad) or GQ_ENOPARTITION. */
struct gq__partition *gq__cluster_rpc_partition(struct gq_node *node,
						struct gq__rpc_call *call,
						const struct gq__rd *r,
						uint64_t uid);

/* The RPC handler of the node (rpc.h). */
void gq__cluster_on_rpc(void *arg, struct gq__rpc_call *call,
			uint64_t sender_id, uint32_t type, const uint8_t *body,
			size_t len);

#endif /* GQ_CLUSTER_H */
