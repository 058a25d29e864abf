/* SPDX-License-Identifier: MIT */
/*
 * partition.h - one partition: its Raft group, its log (plog.h) and the
 * state machine that turns committed entries into stored batches.
 *
 * Produce path (loop thread): requests queue on the partition's backlog;
 * once per loop turn gq__partition_flush() packs the backlog into entries
 * of up to GQ__ENTRY_MAX bytes (many requests, one Raft entry), proposes
 * them, and completes each request from the entry's apply result.
 *
 * Apply (every replica, loop thread) checks idempotent-producer sequences
 * and the optional content-hash window, appends accepted batches, and
 * records producer state, the window and the applied index in one LMDB
 * transaction, so a replay after a crash skips applied entries and a
 * retried batch is recognised after a restart.
 *
 * Entry payloads (after rgroup's 8-byte header), little-endian:
 *   PRODUCE       u32 n, then n x (u32 len, len bytes of RecordBatch v2)
 *   GROUP_COMMIT  u16 group len, group, u16 topic len, topic,
 *                 i32 partition, i64 offset, u32 metadata len, metadata
 *   GROUP_STATE   u16 group len, group, the coordinator's saved state
 *                 (gq__gcoord_save()); none: the group is gone
 *
 * LMDB `producers` layout (owned here):
 *   (be64 uid, be64 producer id) -> u8 version 1, u8 n (<= 5), i16 epoch,
 *        then n x (i32 first seq, i32 last seq, i64 base offset)
 *   (be64 uid, u8 0xff, be32 slot) -> u64 content hash, i64 base offset
 * LMDB `groups` layout: group NUL topic NUL be32 partition ->
 *        i64 offset, metadata bytes; group NUL 0xff -> saved state
 *
 * Lifecycle: OPENING -> SERVING <-> WAITING (not leader) -> CLOSING.
 * A replica whose stored data is behind its Raft snapshot copies the
 * rest from another replica first (catchup.h): it queues what Raft
 * applies meanwhile and neither serves nor snapshots until done.  The
 * group's membership follows the replicas the controller assigns
 * (membership.h).
 */
#ifndef GQ_PARTITION_H
#define GQ_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "goqueue.h"

struct gq_node;
struct gq__topic;
struct gq__req;
struct gq__plog;
struct gq__partition;
struct gq__route;

/* Largest entry the produce path builds (several requests coalesced). */
#define GQ__ENTRY_MAX (1u << 20)

/* Open partition @index of @t: recover its log, start its group.  The node
 * is told through gq__node_partition_ready() when it serves. */
int gq__partition_open(struct gq_node *node, struct gq__topic *t, int32_t index,
		       struct gq__partition **out, char *errmsg);

/* Queue a produce or group-commit request; it completes later. */
void gq__partition_enqueue(struct gq__partition *p, struct gq__req *req);

/* Park a GQ__REQ_WAIT request until the partition holds a message at or
 * after its offset, its timeout passes, or the partition closes. */
void gq__partition_wait(struct gq__partition *p, struct gq__req *req);

/* Start a GQ__REQ_SYNC request (readindex.h); it completes later. */
void gq__partition_sync(struct gq__partition *p, struct gq__req *req);

/* Its parked GQ__REQ_SYNC requests, for the read-index module. */
struct gq__req *gq__partition_read_waiters(const struct gq__partition *p);

/* Propose the backlog (loop turn). */
void gq__partition_flush(struct gq__partition *p);

/* Loop turn: poll the Raft group. */
void gq__partition_poll(struct gq__partition *p);

/* Close; with @remove, delete its data afterwards.  Queued requests fail
 * with GQ_ECLOSED (GQ_ENOTOPIC when removing).  The node is told through
 * gq__node_group_closed() (and gq__node_partition_removed()). */
void gq__partition_close(struct gq__partition *p, bool remove);

/* The log, for readers on any thread under the node's meta_lock. */
struct gq__plog *gq__partition_plog(struct gq__partition *p);

/* Whether the partition serves produce. */
bool gq__partition_serving(const struct gq__partition *p);

/* Ask for a snapshot soon, so the data applied so far gets synced and the
 * Raft log compacted (the node's flush_interval). */
void gq__partition_request_snapshot(struct gq__partition *p);

/* Node id of the leader as last seen by the loop, or -1.  Any thread. */
int32_t gq__partition_leader(struct gq__partition *p);

/* LMDB keys for a group offset and a group's saved state; each returns
 * its length (0 if @size is too small). */
size_t gq__group_key(const char *group, const char *topic, int32_t partition,
		     uint8_t *out, size_t size);
size_t gq__group_state_key(const char *group, uint8_t *out, size_t size);

/* The controller changed its replicas: move the group's membership, or
 * leadership to a new preferred replica, without waiting. */
void gq__partition_reassigned(struct gq__partition *p);

/* It is no longer a member of its group (membership.h): close it and
 * delete its data; the node forgets the replica. */
void gq__partition_leave(struct gq__partition *p);

/* Whether this replica's view of the leader is the one to publish: it is
 * assigned here, or it leads.  Otherwise the controller's view is. */
bool gq__partition_publishes(const struct gq__partition *p);

/* Who and where it is, for the catch-up and membership modules. */
struct gq__rgroup *gq__partition_rgroup(const struct gq__partition *p);
struct gq_node *gq__partition_node(const struct gq__partition *p);
struct gq__topic *gq__partition_topic(const struct gq__partition *p);
int32_t gq__partition_index(const struct gq__partition *p);
uint64_t gq__partition_uid(const struct gq__partition *p);
const struct gq__route *gq__partition_route(const struct gq__partition *p);

/* Whether its replica also stores the committed group offsets. */
bool gq__partition_owns_groups(const struct gq__partition *p);

/* Whether it is copying missing data from another replica. */
bool gq__partition_catching_up(const struct gq__partition *p);

#endif /* GQ_PARTITION_H */
