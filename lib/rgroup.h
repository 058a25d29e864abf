/* SPDX-License-Identifier: MIT */
/*
 * rgroup.h - one Raft group (canonical/raft 0.15.0 over rio.h), wrapped
 * with every workaround DESIGN.md section 5 requires:
 *   - entries are padded to 8 bytes; an 8-byte header carries the real
 *     length and the owner's entry type;
 *   - after winning an election the group issues raft_barrier() and reports
 *     itself leader only once the barrier applied (0.15.0 has no no-op);
 *   - the owner's apply never fails (failures go into the result);
 *   - close first drains: no apply in flight and last_stored equal to the
 *     last index, because raft_close() with queued appends corrupts the heap;
 *   - FSM v3 (asynchronous snapshots) with io.version forced to 2;
 *   - no state callback exists, so gq__rgroup_poll() compares the state
 *     every loop turn.
 *
 * Lifecycle (checked on every move):
 *   OPENING -> FOLLOWER <-> (BARRIER -> LEADER) -> DRAINING -> CLOSING ->
 * CLOSED any state but CLOSED -> DRAINING on gq__rgroup_close(). A group found
 * RAFT_UNAVAILABLE while not closing becomes FAILED (the owner is told and
 * closes it).
 */
#ifndef GQ_RGROUP_H
#define GQ_RGROUP_H

#include <raft.h>
#include <raft/uv.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"

#define GQ__ENTRY_HEADER 8

enum gq__rgroup_state {
	GQ__RG_OPENING,
	GQ__RG_FOLLOWER,
	GQ__RG_BARRIER,
	GQ__RG_LEADER,
	GQ__RG_FAILED,
	GQ__RG_DRAINING,
	GQ__RG_CLOSING,
	GQ__RG_CLOSED,
};

/* What the group's owner (partition, controller) provides.  All run on the
 * loop thread except snapshot_sync, which runs in the libuv threadpool. */
struct gq__rgroup_ops {
	/* Apply committed entry @index, in the current @term (entries may be
	 * applied during gq__rgroup_open(), before it returned).  Never
	 * fails: put the outcome in *result (owner memory, read by the
	 * proposer's callback at once). */
	void (*apply)(void *owner, uint64_t index, uint64_t term, uint32_t type,
		      const uint8_t *data, size_t len, void **result);
	/* Append the snapshot manifest for everything applied so far. */
	int (*snapshot)(void *owner, struct gq__buf *manifest);
	/* Make everything the manifest names durable (fdatasync, LMDB sync). */
	int (*snapshot_sync)(void *owner);
	/* Check a manifest at start or on InstallSnapshot. */
	int (*restore)(void *owner, const uint8_t *data, size_t len);
	/* Leadership: true once leader and the barrier applied; false when
	 * lost.  FAILED is reported as false too, with failed set. */
	void (*role)(void *owner, bool leader, bool failed);
};

struct gq__rgroup;

/* A read barrier in flight.  Memory owned by the caller until cb runs. */
struct gq__rgroup_barrier {
	struct raft_barrier raft;
	struct gq__rgroup *g;
	void (*cb)(struct gq__rgroup_barrier *b, int status);
	void *data;
};

/* A proposal in flight.  Memory owned by the proposer until cb runs. */
struct gq__rgroup_req {
	struct raft_apply raft;
	struct gq__rgroup *g;
	void (*cb)(struct gq__rgroup_req *req, int status, void *result);
	void *data;
};

struct gq__rgroup {
	struct raft_uv_transport transport;
	struct raft_io io;
	struct raft_fsm fsm;
	struct raft raft;
	struct raft_barrier barrier;
	struct raft_transfer transfer;
	struct raft_change change;
	uint64_t id;
	uv_loop_t *loop;
	const struct gq__rgroup_ops *ops;
	void *owner;
	enum gq__rgroup_state state;
	unsigned inflight;         /* proposals without callback yet */
	uint64_t bytes_since_snap; /* payload bytes applied since snapshot */
	unsigned threshold;        /* normal snapshot threshold (entries) */
	uint64_t snapshot_budget;
	bool barrier_pending;
	bool transfer_pending; /* raft owns `transfer` */
	bool change_pending;   /* raft owns `change` */
	int change_status;     /* of the last change: 0 or a GQ_E* code */
	void (*close_cb)(struct gq__rgroup *g);
	struct gq__rgroup *close_next; /* the node's list of closing groups */
};

struct gq__hub;

struct gq__rgroup_conf {
	struct gq__hub *hub; /* the node's Raft port (transport.h) */
	uint64_t node_id;
	const char *address; /* this node's Raft address */
	bool bootstrap;      /* bootstrap if new: with the voters below,
				or this node alone when there are none */
	unsigned n_voters;   /* identical on every initial replica */
	const uint64_t *voter_ids;
	const char *const *voter_addresses;
	size_t raft_segment_size; /* Raft log file size (rio.h) */
	bool raft_fsync;          /* sync the Raft log before acknowledging */
	uint64_t snapshot_budget; /* bytes of log kept in RAM before a
				     snapshot is forced */
	unsigned election_ms;
	unsigned heartbeat_ms;
};

/* Open and start the group stored in @dir (created if needed).  The group
 * owns its memory: it is freed after gq__rgroup_close()'s callback ran.  On
 * error nothing is returned, errmsg (GQ_ERRMSG_SIZE) says why, and any
 * raft state already started is closed and freed in the background. */
int gq__rgroup_open(uv_loop_t *loop, const char *dir, uint64_t group_id,
		    const struct gq__rgroup_conf *conf,
		    const struct gq__rgroup_ops *ops, void *owner,
		    struct gq__rgroup **out, char *errmsg);

/* Allocate an entry able to hold @payload_len bytes (raft memory).  Write
 * the payload at the returned pointer, then pass @buf to propose. */
uint8_t *gq__rgroup_entry_alloc(size_t payload_len, struct raft_buffer *buf);

/* Propose an entry made by gq__rgroup_entry_alloc() with @payload_len
 * bytes used.  On 0 the entry is raft's and @cb runs once; on error the
 * entry has been freed and @cb never runs.  GQ_ENOTLEADER, GQ_ECLOSED,
 * GQ_ENOMEM, GQ_EIO. */
int gq__rgroup_propose(struct gq__rgroup *g, struct gq__rgroup_req *req,
		       uint32_t type, struct raft_buffer *buf,
		       size_t payload_len,
		       void (*cb)(struct gq__rgroup_req *, int, void *));

/* Commit a barrier (leader only): @cb runs once, with 0 when everything
 * committed before it is applied here (so this replica led all along), or
 * an error (GQ_ENOTLEADER when leadership moved).  0, GQ_ENOTLEADER,
 * GQ_ECLOSED, GQ_ENOMEM; on error @cb never runs. */
int gq__rgroup_read_barrier(struct gq__rgroup *g, struct gq__rgroup_barrier *b,
			    void (*cb)(struct gq__rgroup_barrier *, int));

/* Compare raft's state with the last seen one and act on a change; drive
 * draining and closing.  Call every loop turn. */
void gq__rgroup_poll(struct gq__rgroup *g);

/* True once leader with the barrier applied. */
bool gq__rgroup_is_leader(const struct gq__rgroup *g);

/* Take a snapshot after the next applied entry if anything was applied
 * since the last one. */
void gq__rgroup_request_snapshot(struct gq__rgroup *g);

/* Current term (the Kafka leader epoch). */
uint64_t gq__rgroup_term(const struct gq__rgroup *g);

/* Hand leadership to voter @to once it is up to date (raft_transfer):
 * proposals are refused (GQ_ENOTLEADER) until it took over or an election
 * timeout passed.  0, GQ_ENOTLEADER, GQ_EBUSY (a transfer is pending) or
 * GQ_EINVAL (not a voter). */
int gq__rgroup_transfer(struct gq__rgroup *g, uint64_t to);

enum gq__member_op {
	GQ__MEMBER_ADD,    /* raft_add: joins as a spare (no log, no vote) */
	GQ__MEMBER_ASSIGN, /* raft_assign: RAFT_STANDBY or RAFT_VOTER */
	GQ__MEMBER_REMOVE, /* raft_remove */
};

/* Start one membership change (leader only; single-server changes, one
 * at a time: raft refuses a second while one is uncommitted or a
 * promotion is catching up).  Its outcome lands in g->change_status once
 * g->change_pending clears.  0, GQ_ENOTLEADER, GQ_EBUSY, GQ_EINVAL (no
 * such member, or it has that role already), GQ_ENOMEM. */
int gq__rgroup_change(struct gq__rgroup *g, enum gq__member_op op, uint64_t id,
		      const char *address, int role);

/* The member @id in the configuration this replica has, or NULL. */
const struct raft_server *gq__rgroup_member(const struct gq__rgroup *g,
					    uint64_t id);

/* Begin closing: no new proposals are accepted; @cb (may be NULL) runs once
 * the group drained and raft closed; the group frees itself right after.
 * Requires gq__rgroup_poll() to keep being called. */
void gq__rgroup_close(struct gq__rgroup *g, void (*cb)(struct gq__rgroup *));

#endif /* GQ_RGROUP_H */
