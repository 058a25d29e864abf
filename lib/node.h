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

enum gq__node_state {
	GQ__NODE_STARTING,
	GQ__NODE_READY,
	GQ__NODE_FAILED,
	GQ__NODE_CLOSING,
	GQ__NODE_CLOSED,
};

/* A topic as the node knows it.  Immutable after creation except `parts`
 * entries (set by the loop while opening) and `deleting`. */
struct gq__topic {
	char name[GQ_NAME_MAX + 1];
	uint32_t id; /* assigned by the controller, never reused */
	int32_t n_parts;
	int16_t replication_factor;
	struct gq__topic_conf conf;
	struct gq__partition **parts;
	int32_t n_ready;  /* partitions serving */
	int32_t n_closed; /* partitions closed after a delete */
	int status;       /* first partition open failure, or 0 */
	bool deleting;
	struct gq__req *waiters; /* create/delete requests to complete */
};

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
	} async_cb; /* the application's callback, with its argument */
	void *async_arg;
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
		} produce;
		struct {
			int32_t partitions;
			int16_t replication_factor;
			struct gq__topic_conf conf;
		} create;
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
			gq_offset offset;
			uint32_t timeout_ms;
			gq_wait_cb cb;
			void *arg;
			uv_timer_t *timer; /* while parked */
		} wait;
	} u;
};

struct gq_node {
	char dir[4096];
	struct gq__node_conf conf;
	enum gq__node_state state;
	int open_status;
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
	struct gq__rgroup *closing; /* groups draining or closing */
	size_t open_handles;        /* handles left to close at the end */

	int lock_fd;
	struct gq__hub *hub; /* the Raft port of every group */
	struct gq__store *store;
	struct gq__controller *ctl;

	pthread_mutex_t queue_lock;
	struct gq__req *queue_head;
	struct gq__req *queue_tail;
	bool queue_closed;

	pthread_rwlock_t meta_lock;
	struct gq__topic **topics;
	size_t n_topics;
	size_t cap_topics;

	/* Partitions with produce requests waiting to be proposed. */
	struct gq__partition **dirty;
	size_t n_dirty;
	size_t cap_dirty;
	bool offsets_creating;
	struct gq__req *ctl_waiting; /* parked until the controller serves */
	atomic_uint rr_counter;      /* round-robin partitioner */

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

/* Free a topic object (its partitions are closed already); NULL is a
 * no-op. */
void gq__topic_free(struct gq__topic *t);

/* Loop thread: open every partition of @t that is not open; failures are
 * recorded in t->status (and fail the node's start while starting). */
void gq__topic_open_partitions(struct gq_node *node, struct gq__topic *t);

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

/* Loop thread: a partition of @t started serving, or failed. */
void gq__node_partition_ready(struct gq_node *node, struct gq__topic *t);
void gq__node_partition_failed(struct gq_node *node, struct gq__topic *t,
			       int status);
/* Loop thread: a partition of a deleted topic finished closing. */
void gq__node_partition_removed(struct gq_node *node, struct gq__topic *t);

/* Loop thread, controller apply: a topic was created (add it to the table
 * and open its partitions) or deleted (close and remove them). */
void gq__node_topic_created(struct gq_node *node, struct gq__topic *t);
void gq__node_topic_deleted(struct gq_node *node, struct gq__topic *t);

/* Loop thread: complete @req when @t's partitions are all open (create)
 * or all removed (delete); at once if @t is NULL. */
void gq__node_topic_wait(struct gq_node *node, struct gq__topic *t,
			 struct gq__req *req);

/* Loop thread: a raft group began closing (the node keeps polling it until
 * it drained) / finished closing. */
void gq__node_group_closing(struct gq_node *node, struct gq__rgroup *g);
void gq__node_group_closed(struct gq_node *node, struct gq__rgroup *g);

/* Loop thread: the partition has produce requests waiting / is going. */
void gq__node_mark_dirty(struct gq_node *node, struct gq__partition *p);
void gq__node_unmark_dirty(struct gq_node *node, struct gq__partition *p);

/* Set this thread's error detail for @node. */
void gq__node_set_errmsg(struct gq_node *node, const char *msg);

/* Directory helpers: "<dir>/data/<topic>.<id>[/<partition>]". */
int gq__node_topic_dir(struct gq_node *node, const struct gq__topic *t,
		       char *out, size_t size);

/* The Raft settings every group of this node uses. */
void gq__node_rgroup_conf(struct gq_node *node, bool bootstrap,
			  struct gq__rgroup_conf *out);

#endif /* GQ_NODE_H */
