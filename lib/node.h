/* SPDX-License-Identifier: MIT */
/*
 * node.h - the node: its loop thread, the request queue from application
 * threads, the topic table, and the lifecycle that ties the controller and
 * the partitions together.
 *
 * Threading: everything here belongs to the loop thread except
 *   - the request queue (queue_lock), which any thread appends to;
 *   - the topic table (meta_lock): the loop thread changes it under the
 *     write lock; application threads look topics up and read partition
 *     logs under the read lock (fetch, list offsets, describe), so reads
 *     never wait for the loop.  Readers hold the lock for the whole read
 *     so a topic cannot be freed under them.
 *
 * Node lifecycle: STARTING -> READY -> CLOSING -> CLOSED, or STARTING ->
 * FAILED -> CLOSING -> CLOSED when recovery fails.
 */
#ifndef GQ_NODE_H
#define GQ_NODE_H

#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>

#include "buf.h"
#include "config.h"
#include "goqueue.h"
#include "rgroup.h"
#include "store.h"

struct gq__partition;
struct gq__controller;
struct gq__cluster;
struct gq__coord;
struct gq__rpc;
struct gq__remote;

/* Most replicas one partition may have (a replica move adds one). */
#define GQ__REPLICAS_MAX 8

/* A broker as the controller registered it, plus what the node last heard
 * of its liveness.  Changed by the loop under meta_lock. */
struct gq__broker {
	uint64_t id;
	char raft_address[64];
	char client_address[256];
	char rack[64]; /* "" when none was configured */
	bool alive;
	bool removing; /* drained (gq_cluster_remove_broker), then leaves */
};

/* Where a partition lives: its replicas (the first is the preferred
 * leader), the replicas it was created with (they alone bootstrap its
 * Raft group, with that identical configuration; replicas added later
 * join empty), and the leader last seen, published for application
 * threads.  The replicas change (under meta_lock) when the controller
 * reassigns the partition. */
struct gq__route {
	uint8_t n_replicas;
	uint8_t n_initial;
	int32_t replicas[GQ__REPLICAS_MAX];
	int32_t initial[GQ__REPLICAS_MAX];
	atomic_int_least32_t leader; /* node id, or -1 */
	atomic_int_least32_t epoch;  /* its Raft term: the Kafka leader epoch */
};

enum gq__node_state {
	GQ__NODE_STARTING,
	GQ__NODE_READY,
	GQ__NODE_FAILED,
	GQ__NODE_CLOSING,
	GQ__NODE_CLOSED,
};

/* A topic as the node knows it.  Immutable after creation except `parts`
 * entries (set by the loop while opening), `deleting`, and `conf`, which
 * the loop replaces under meta_lock when the controller alters it (the
 * partitions' dedup settings never change: gq_topic_alter() refuses). */
struct gq__topic {
	char name[GQ_NAME_MAX + 1];
	uint32_t id; /* assigned by the controller, never reused */
	int32_t n_parts;
	int16_t replication_factor;
	struct gq__topic_conf conf;
	struct gq__route *routes;     /* n_parts */
	struct gq__partition **parts; /* NULL where no replica is here */
	int32_t n_closed; /* local partitions closed after a delete */
	int status;       /* first partition open failure, or 0 */
	bool deleting;
	bool conf_known; /* a remote node read `conf` from the brokers */
	struct gq__topic *next_deleting; /* the node's deleting list */
	struct gq__req *waiters; /* create/delete requests to complete */
	uint64_t wait_until;     /* loop time the create waiters give up */
};

/* The internal topic of committed group offsets. */
#define GQ__OFFSETS_TOPIC      "__consumer_offsets"
#define GQ__OFFSETS_PARTITIONS 1

/* A partition's id across the cluster and its Raft group id: unique
 * because topic ids are never reused. */
static inline uint64_t
gq__part_uid(const struct gq__topic *t, int32_t index)
{
	return (uint64_t)t->id << 20 | (uint64_t)index;
}

/* Blocking callers wait on one of these, on their own stack. */
struct gq__waiter {
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	bool done;
};

enum gq__req_type {
	GQ__REQ_PRODUCE,
	GQ__REQ_TOPIC_CREATE,
	GQ__REQ_TOPIC_DELETE,
	GQ__REQ_GROUP_COMMIT,
	GQ__REQ_PRODUCER_ID,
	GQ__REQ_CLOSE,
	GQ__REQ_WAIT,
	GQ__REQ_REASSIGN,
	GQ__REQ_BROKER_REMOVE,
	GQ__REQ_SYNC,
	GQ__REQ_GROUP,       /* coordinator.h */
	GQ__REQ_GROUP_STATE, /* a group's saved state, to its partition */
	GQ__REQ_STATS,       /* stats.h */
	GQ__REQ_METADATA,    /* remote.h: refresh the metadata */
	GQ__REQ_RFETCH,      /* remote.h: Fetch or ListOffsets */
	GQ__REQ_TOPIC_ALTER, /* topic.c: set some of a topic's keys */
};

/* What a GQ__REQ_GROUP request asks the coordinator. */
enum gq__group_op {
	GQ__GROUP_JOIN,
	GQ__GROUP_SYNC,
	GQ__GROUP_HEARTBEAT,
	GQ__GROUP_LEAVE,
	GQ__GROUP_COMMIT,
	GQ__GROUP_OFFSETS,
	GQ__GROUP_DESCRIBE,
	GQ__GROUP_LIST,
};

/* A request posted from any thread to the loop.  Completed exactly once by
 * gq__req_complete() on the loop thread: the waiter is signalled or the
 * callback runs. */
struct gq__req {
	enum gq__req_type type;
	struct gq__req *next; /* queue, partition backlog, topic waiters */
	int status;
	struct gq__waiter *waiter;
	void (*done)(struct gq__req *req); /* async completion, frees req */
	void *owner; /* for done: the producer, the node... */
	union {
		gq_done_cb done;
		gq_producer_id_cb producer_id;
		gq_group_join_cb join;
		gq_group_sync_cb sync;
		gq_group_commit_cb commit;
	} async_cb; /* the application's callback, with its argument */
	void *async_arg;
	struct {
		struct gq__cluster *cl;
		uint64_t deadline; /* loop time it fails with ETIMEDOUT */
		uint64_t retry_at; /* loop time of the next attempt */
		uint64_t index;    /* controller index to see applied */
		bool sent_before;  /* an earlier attempt may have landed */
	} ctl; /* controller requests (cluster.c); deadline also bounds a
		  produce request's wait for a leader (node.c) */
	char errmsg[GQ_ERRMSG_SIZE];
	char topic[GQ_NAME_MAX + 1];
	int32_t partition;
	union {
		struct {
			struct gq__buf batches; /* one or more batches */
			uint32_t n_batches;
			gq_produce_cb cb;
			void *arg;
			gq_offset base_offset; /* out */
			/* A remote node's accumulator may join it with
			 * others (remote_produce.c): an uncompressed batch
			 * without producer fields, of this many records. */
			int32_t merge_records;
		} produce;
		struct {
			int32_t partitions;
			int16_t replication_factor;
			struct gq__topic_conf conf;
			uint32_t mask; /* GQ__TF_*: the keys the caller set */
		} create;
		struct {
			uint32_t mask; /* GQ__TF_*: the fields of conf set */
			struct gq__topic_conf conf;
			/* A remote node's DescribeConfigs in flight when the
			 * change was made: its answer may predate it, so the
			 * topic is read again (remote_admin.c). */
			bool reread;
		} alter;
		struct {
			char group[GQ_NAME_MAX + 1];
			gq_offset offset;
			char *metadata; /* owned, may be NULL */
		} commit;
		struct {
			int64_t id; /* out */
			int16_t epoch;
		} producer;
		struct {
			char group[GQ_NAME_MAX + 1];
			struct gq__buf data; /* owned; empty: the group went */
			int32_t generation;  /* the one saved */
		} state;
		struct {
			gq_offset offset;
			uint32_t timeout_ms;
			gq_wait_cb cb;
			void *arg;
			uv_timer_t *timer; /* while parked */
		} wait;
		struct {
			int32_t leader; /* to put first, or 0 */
			uint8_t n;      /* 0: keep the replicas */
			int32_t replicas[GQ__REPLICAS_MAX];
		} reassign;
		int32_t broker;              /* GQ__REQ_BROKER_REMOVE */
		struct gq_node_stats *stats; /* GQ__REQ_STATS: filled in */
		struct {
			bool list;          /* ListOffsets, not Fetch */
			int64_t when;       /* ListOffsets: a timestamp or
					       GQ_OFFSET_* */
			gq_offset offset;   /* Fetch: from; ListOffsets: out */
			size_t max_bytes;   /* Fetch */
			struct gq__buf raw; /* Fetch: out, owned */
			gq_offset hw, log_start; /* Fetch: out */
		} rfetch;
		struct {
			uint64_t index; /* to reach here; 0 until known */
			uint64_t asked; /* READ_INDEX in flight, or 0 */
			uint32_t timeout_ms;
		} sync; /* readindex.h; ctl.deadline and ctl.retry_at */
		struct {
			enum gq__group_op op;
			void *blob; /* owned: the strings and arrays below */
			const char *group;
			const char *member_id;
			const char *instance_id;
			int32_t generation;
			struct gq_group_join join; /* JOIN */
			size_t n; /* assignments, offsets, *count */
			const struct gq_group_assignment *assignments;
			struct gq_group_offset *offsets; /* the caller's */
			size_t pending; /* COMMIT: offsets still proposed */
			/* Lent to the callback: a JOIN's or SYNC's result. */
			const struct gq_group_joined *joined;
			const void *assignment;
			size_t assignment_len;
			struct gq_group_info *info; /* DESCRIBE, LIST: out */
			/* Sent by another node (group_forward.h): answered
			 * here, never sent on. */
			bool forwarded;
		} group; /* group.c, coordinator.c */
	} u;
};

struct gq_node {
	char dir[4096];
	struct gq__node_conf conf;
	enum gq__node_state state;
	int open_status;
	uint64_t opened_ms; /* gq__monotonic_ms() at open */
	char open_errmsg[GQ_ERRMSG_SIZE];

	uv_loop_t own_loop;
	uv_loop_t *loop;
	uv_thread_t thread;
	bool own_thread;
	uv_async_t wake;
	uv_check_t check;
	uv_timer_t cleanup_timer;
	uv_timer_t flush_timer;
	uv_timer_t open_timer;
	struct gq__waiter *open_waiter;
	void (*close_cb)(void *arg);
	void *close_arg;
	struct gq__req *close_req;
	/* Produce requests for a partition with no replica here whose
	 * leader is not known yet (a new topic, an election): retried each
	 * loop turn until ctl.deadline. */
	struct gq__req *leaderless;
	struct gq__rgroup *closing; /* groups draining or closing */
	size_t open_handles;        /* handles left to close at the end */

	int lock_fd;
	struct gq__hub *hub; /* the Raft port of every group */
	struct gq__rpc *rpc; /* node-to-node requests on that port */
	struct gq__store *store;
	struct gq__controller *ctl;
	struct gq__cluster *cluster;
	struct gq__coord *coord; /* consumer groups (coordinator.h) */
	/* Set on a node gq_node_connect() made: no storage, Raft or
	 * controller above; requests go to remote brokers (remote.h). */
	struct gq__remote *remote;
	uv_timer_t group_timer;               /* run by coord */
	struct gq__peer peers[GQ__PEERS_MAX]; /* initial_cluster */
	size_t n_peers;
	bool joining; /* not in initial_cluster: the controller adds it */
	atomic_int_least32_t controller_id; /* leader of group 0, or -1 */

	pthread_mutex_t queue_lock;
	struct gq__req *queue_head;
	struct gq__req *queue_tail;
	bool queue_closed;

	pthread_rwlock_t meta_lock;
	struct gq__topic **topics;
	size_t n_topics;
	size_t cap_topics;
	struct gq__broker *brokers; /* sorted by id */
	size_t n_brokers;
	size_t cap_brokers;
	struct gq__topic *deleting; /* deleted, local partitions closing */

	/* Partitions with produce requests waiting to be proposed. */
	struct gq__partition **dirty;
	size_t n_dirty;
	size_t cap_dirty;
	uv_timer_t heartbeat_timer;
	atomic_uint rr_counter; /* round-robin partitioner */

	pthread_mutex_t log_lock;
	gq_log_cb log_cb;
	void *log_arg;
	enum gq_log_level log_min;
};

/* Log through the application's callback, if any and if the level passes. */
void gq__log(struct gq_node *node, enum gq_log_level level, const char *fmt,
	     ...) __attribute__((format(printf, 3, 4)));

/* Finish a request on the loop thread: signal its waiter or run its
 * completion.  Safe to call once per request. */
void gq__req_complete(struct gq__req *req, int status);

/* Complete every request of a list linked through ->next. */
void gq__req_complete_list(struct gq__req *req, int status);

/* A topic object with @n_parts partitions, no replica open and unknown
 * leaders; NULL if out of memory or @n_parts is not 1..1000000. */
struct gq__topic *gq__topic_alloc(int32_t n_parts);

/* Free a topic object (its partitions are closed already); NULL is a
 * no-op. */
void gq__topic_free(struct gq__topic *t);

/* Loop thread: open partition @index of @t, or every one, where a replica
 * belongs on this node and is not open yet; failures are recorded in
 * t->status (and fail the node's start while starting). */
void gq__topic_open_partition(struct gq_node *node, struct gq__topic *t,
			      int32_t index);
void gq__topic_open_partitions(struct gq_node *node, struct gq__topic *t);

/* Loop turn: complete @t's create waiters once every partition has a
 * leader (or fail them: open failure, timeout). */
void gq__topic_check_waiters(struct gq_node *node, struct gq__topic *t);

/* Post @req to the loop (any thread).  GQ_ECLOSED once the node closes. */
int gq__node_post(struct gq_node *node, struct gq__req *req);

/* Post and wait (any thread but the loop's).  Returns the request status;
 * the request's errmsg becomes this thread's gq_node_errmsg(). */
int gq__node_call(struct gq_node *node, struct gq__req *req);

/* Loop thread: find a topic.  Callers off the loop hold meta_lock. */
struct gq__topic *gq__node_topic_find(struct gq_node *node, const char *name);

/* Loop thread: add a topic to the table (write lock taken inside). */
int gq__node_topic_add(struct gq_node *node, struct gq__topic *t);

/* Loop thread: remove a topic from the table (write lock taken inside). */
void gq__node_topic_remove(struct gq_node *node, struct gq__topic *t);

/* Loop thread: a partition of @t failed to start. */
/* Queue a produce request on this node's replica (loop thread); it fails
 * with GQ_ENOTLEADER when the partition is led elsewhere. */
void gq__node_produce_here(struct gq_node *node, struct gq__req *req);

void gq__node_partition_failed(struct gq_node *node, struct gq__topic *t,
			       int status);
/* Loop thread: a partition of a deleted topic finished closing. */
void gq__node_partition_removed(struct gq_node *node, struct gq__topic *t);

/* Loop thread, controller apply: a topic was created (add it to the table
 * and open its partitions) or deleted (close and remove them). */
void gq__node_topic_created(struct gq_node *node, struct gq__topic *t);
void gq__node_topic_deleted(struct gq_node *node, struct gq__topic *t);

/* Loop thread, controller apply or restore: @t's configuration is now
 * @conf.  Publish it (write lock taken inside; produce calls read it) and
 * give each local partition its new storage policy. */
void gq__node_topic_altered(struct gq_node *node, struct gq__topic *t,
			    const struct gq__topic_conf *conf);

/* Loop thread: complete @req when every partition of @t has a leader
 * (create) or its local partitions are all removed (delete); at once if @t
 * is NULL. */
void gq__node_topic_wait(struct gq_node *node, struct gq__topic *t,
			 struct gq__req *req);

/* Loop thread: a raft group began closing (the node keeps polling it until
 * it drained) / finished closing. */
void gq__node_group_closing(struct gq_node *node, struct gq__rgroup *g);
void gq__node_group_closed(struct gq_node *node, struct gq__rgroup *g);

/* Loop thread: the partition has produce requests waiting / is going. */
void gq__node_mark_dirty(struct gq_node *node, struct gq__partition *p);
void gq__node_unmark_dirty(struct gq_node *node, struct gq__partition *p);

/* Loop thread: a deleted topic whose local partitions are still closing,
 * or NULL. */
struct gq__topic *gq__node_deleting_find(struct gq_node *node,
					 const char *name);

/* Loop thread: record a broker (write lock taken inside); replaces the
 * one with the same id.  GQ_ENOMEM. */
int gq__node_broker_put(struct gq_node *node, const struct gq__broker *b);

/* Loop thread: the broker with @id, or NULL.  Callers off the loop hold
 * meta_lock. */
struct gq__broker *gq__node_broker_find(struct gq_node *node, uint64_t id);

/* Whether this node holds a replica of @r. */
bool gq__route_has(const struct gq__route *r, uint64_t node_id);

/* No id appears twice among @ids. */
bool gq__replicas_distinct(const int32_t *ids, uint8_t n);

/* The controller gave partition @index of @t the replicas @ids: publish
 * them, open a replica newly placed here, and tell an open one (its
 * leader moves the group's membership; a replica no longer assigned
 * leaves once it is out of the group). */
void gq__node_partition_reassigned(struct gq_node *node, struct gq__topic *t,
				   int32_t index, const int32_t *ids,
				   uint8_t n);

/* The partition with uid @uid if a replica of it is open here, or NULL. */
struct gq__partition *gq__node_partition_find(struct gq_node *node,
					      uint64_t uid);

/* Set this thread's error detail for @node. */
void gq__node_set_errmsg(struct gq_node *node, const char *msg);

/* Directory helpers: "<dir>/data/<topic>.<id>[/<partition>]". */
int gq__node_topic_dir(struct gq_node *node, const struct gq__topic *t,
		       char *out, size_t size);

/* The Raft settings every group of this node uses (no voters: the
 * caller adds them). */
void gq__node_rgroup_conf(struct gq_node *node, bool bootstrap,
			  struct gq__rgroup_conf *out);

/* This node's Raft address ("127.0.0.1:0" when it has none). */
const char *gq__node_raft_address(const struct gq_node *node);

#endif /* GQ_NODE_H */
