/* SPDX-License-Identifier: MIT */
/*
 * catchup.h - filling a replica whose log is behind a Raft snapshot.
 *
 * Partition snapshots are manifests, not data (DESIGN.md section 5): a
 * follower that receives one (InstallSnapshot) or finds its own stored
 * data behind its snapshot at start has no way to rebuild the log from
 * Raft.  It copies what it is missing from another replica over the RPC
 * channel instead, before it serves anything:
 *
 *   - every Raft entry applied meanwhile is queued, in order, not applied;
 *   - PART_FETCH requests copy the batches from the replica's log,
 *     starting at our log end, a few MiB at a time, each reply appended
 *     and committed as it comes (progress survives a crash);
 *   - the reply that reaches the replica's log end also carries its
 *     applied Raft index and the partition's LMDB records besides the log
 *     (producer state and the dedup window; for the offsets topic the
 *     committed group offsets), all read in one loop turn so they agree;
 *     they replace ours in the transaction that appends the last batches;
 *   - the partition then applies the queued entries above that index.
 *
 * A source is used only once it applied at least the snapshot's index.
 * The leader is asked first, then the other replicas in turn.  When the
 * source's log starts past our end (its retention deleted what we miss),
 * our log restarts where the source's starts (gq__plog_restart_at), as a
 * Kafka follower behind its leader's log start does.
 *
 * PART_FETCH request (little-endian): u64 partition uid, i64 offset,
 * u32 max bytes.  Reply: u64 applied index, i64 log start, i64 log end,
 * u32 n, n bytes of RecordBatch v2 blobs starting at the offset, u8
 * complete; when complete (the blobs reach the log end): u32 count, then
 * count x (u8 table 0 producers / 1 groups, u16 key len, key, u32 value
 * len, value).  Errors: GQ_ENOPARTITION (no replica there), GQ_ENOTREADY
 * (that replica is catching up itself).
 *
 * Everything runs on the node's loop thread.
 */
#ifndef GQ_CATCHUP_H
#define GQ_CATCHUP_H

#include <stddef.h>
#include <stdint.h>

struct gq_node;
struct gq__partition;
struct gq__rpc_call;
struct gq__catchup;

/* A Raft entry applied while catching up, kept for later. */
struct gq__catchup_entry {
	struct gq__catchup_entry *next;
	uint64_t index;
	uint64_t term;
	uint32_t type;
	size_t len;
	uint8_t data[];
};

/* Start filling partition @p up to the snapshot at Raft index @target.
 * 0 or GQ_ENOMEM. */
int gq__catchup_create(struct gq__partition *p, uint64_t target,
		       struct gq__catchup **out);

/* Another snapshot was installed meanwhile: aim at @target and drop the
 * queued entries it covers. */
void gq__catchup_retarget(struct gq__catchup *c, uint64_t target);

/* Queue an entry applied by Raft meanwhile (copied).  0 or GQ_ENOMEM. */
int gq__catchup_queue(struct gq__catchup *c, uint64_t index, uint64_t term,
		      uint32_t type, const uint8_t *data, size_t len);

/* Loop turn: ask a source for the next range when nothing is in flight.
 * Returns 1 once the data is installed (drain with gq__catchup_next(),
 * then free), else 0. */
int gq__catchup_step(struct gq__catchup *c);

/* The applied index the copied data stands for (after step returned 1). */
uint64_t gq__catchup_applied(const struct gq__catchup *c);

/* The next queued entry, or NULL; it stays valid until the next call or
 * the free. */
const struct gq__catchup_entry *gq__catchup_next(struct gq__catchup *c);

/* Stop and free; a request in flight frees it when it completes. */
void gq__catchup_free(struct gq__catchup *c);

/* The RPC server side of PART_FETCH. */
void gq__catchup_serve(struct gq_node *node, struct gq__rpc_call *call,
		       const uint8_t *body, size_t len);

#endif /* GQ_CATCHUP_H */
