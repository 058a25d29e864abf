/* SPDX-License-Identifier: MIT */
/*
 * goqueue.h - the public API of libgoqueue, an embeddable, replicated,
 * durable message queue.
 *
 * OVERVIEW
 *
 * An application opens a *node* on a data directory.  The node owns topics;
 * each topic has a fixed number of partitions; each partition is an ordered,
 * append-only log of messages addressed by a 64-bit offset.  Every partition,
 * and the controller that owns topic metadata, is a Raft group, so the same
 * code runs as a single durable node (the default: nothing to configure) and
 * as a replicated cluster.  Messages are stored, replicated and served as
 * Kafka RecordBatch v2, so data produced through this API can be read by
 * Kafka clients through gqd(8) and the other way round.
 *
 * THREADING
 *
 * A node runs one libuv loop on one thread: its own thread by default, or
 * the application's loop (gq_node_open_on_loop()).  All node state lives on
 * that thread.  Every function here may be called from any thread unless its
 * documentation says otherwise: a call posts a request to the loop and either
 * blocks until it completes ("blocking") or returns at once and completes
 * through a callback that runs on the loop thread ("async").  A callback must
 * not block; it may call the async functions of this API but never a
 * blocking one (that would deadlock the loop it runs on).
 *
 * When the node runs on the application's loop, blocking calls may not be
 * made from that loop's thread: they return GQ_EINVAL.
 *
 * OWNERSHIP
 *
 *  - "borrowed": the library keeps no reference after the call returns.
 *  - "lent until X": memory the library owns, valid until event X; the
 *    caller never frees it.
 *  - "owned by the caller": free it with the named function.
 *
 * ERRORS
 *
 * Fallible calls return 0 or a negative GQ_E* code (values in
 * [-1999, -1000], never colliding with -errno).  gq_strerror() names a code;
 * gq_node_errmsg() gives the detail of the last failure on a node, for the
 * calling thread.  The library never aborts, exits or prints on a runtime
 * condition; it reports through return codes and the optional log callback.
 *
 * DURABILITY
 *
 * A produce is acknowledged (blocking call returns 0, async callback gets 0)
 * only once its Raft entry is committed, which means it is on disk
 * (fdatasync'ed) on a majority of the partition's replicas.  A produce whose
 * outcome is unknown (node closed mid-commit, leadership lost) is reported
 * as GQ_EUNKNOWN, never as a plain failure: idempotent producers
 * (gq_producer_create()) make the retry safe.
 */
#ifndef GOQUEUE_H
#define GOQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "goqueue-version.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef GQ_API
#define GQ_API __attribute__((visibility("default")))
#endif

/** Marks API that is not frozen yet and may change in a minor release. */
#define GQ_EXPERIMENTAL

/* The caller's libuv loop, forward-declared so this header needs no uv.h. */
struct uv_loop_s;

/**
 * The error table: GQ_ERRNO_MAP(X) expands X(name, value, description) once
 * per code.  The list is append-only; values never change.
 */
#define GQ_ERRNO_MAP(X)                                                 \
	X(EINVAL, -1000, "invalid argument")                            \
	X(ENOMEM, -1001, "out of memory")                               \
	X(ENOTOPIC, -1002, "unknown topic")                             \
	X(ENOPARTITION, -1003, "unknown partition")                     \
	X(EEXIST, -1004, "topic already exists")                        \
	X(EBADNAME, -1005, "invalid name")                              \
	X(ETOOBIG, -1006, "message or batch too large")                 \
	X(ECORRUPT, -1007, "corrupt data")                              \
	X(EIO, -1008, "input/output error")                             \
	X(ENOSPC, -1009, "no space left on device")                     \
	X(EOFFSET, -1010, "offset out of range")                        \
	X(ENOTLEADER, -1011, "not the leader for this partition")       \
	X(ECLOSED, -1012, "node is closing or closed")                  \
	X(ECANCELED, -1013, "operation canceled")                       \
	X(ETIMEDOUT, -1014, "operation timed out")                      \
	X(EUNKNOWN, -1015,                                              \
	  "outcome unknown: the write may or may not persist")          \
	X(EBUSY, -1016, "resource busy")                                \
	X(ESEQUENCE, -1017, "producer sequence out of order")           \
	X(EFENCED, -1018, "producer epoch fenced by a newer producer")  \
	X(ENOTREADY, -1019, "not ready: partition still loading")       \
	X(EUNSUPPORTED, -1020, "unsupported feature or format")         \
	X(EINTERNAL, -1021, "internal error")                           \
	X(ENOTCOORD, -1022, "not the coordinator of this group")        \
	X(EMEMBER, -1023, "unknown group member")                       \
	X(EGENERATION, -1024, "stale group generation")                 \
	X(EREBALANCE, -1025, "group is rebalancing: join again")        \
	X(EMEMBERID, -1026,                                             \
	  "member id required: join again with the id returned")        \
	X(EGROUPPROTOCOL, -1027,                                        \
	  "group protocol inconsistent with the group's")               \
	X(ESESSION, -1028, "session timeout outside the allowed range") \
	X(EINSTANCE, -1029, "static member fenced by a newer instance of it")

/** Error codes returned by every fallible function (negative). */
enum gq_error {
#define GQ__ERR_ENUM(name, value, text) GQ_##name = value,
	GQ_ERRNO_MAP(GQ__ERR_ENUM)
#undef GQ__ERR_ENUM
};

/** Size of the buffer behind gq_node_errmsg(), including the NUL. */
#define GQ_ERRMSG_SIZE 256

/** Special offsets for gq_list_offsets() and gq_fetch(). */
#define GQ_OFFSET_LATEST   (-1)
#define GQ_OFFSET_EARLIEST (-2)

/** "Any partition" for produce: chosen by key hash, or round-robin. */
#define GQ_PARTITION_ANY (-1)

/** Maximum length of topic and consumer-group names, in bytes. */
#define GQ_NAME_MAX 249

/** Message offsets within a partition. */
typedef int64_t gq_offset;

struct gq_node;
struct gq_config;
struct gq_producer;
struct gq_fetch;
struct gq_topic_info;

/* ---------------------------------------------------------------------- */
/* Library                                                                 */
/* ---------------------------------------------------------------------- */

/**
 * Name an error code.
 * @return A static string, never NULL ("unknown error" for a value that is
 *         not a GQ_E* code).  Do not parse it.
 * Thread safety: any thread.
 */
GQ_API const char *gq_strerror(int code);

/**
 * The library's version at run time, as GQ_VERSION_NUMBER
 * (major * 10000 + minor * 100 + patch).
 * Thread safety: any thread.
 */
GQ_API int gq_version_number(void);

/**
 * Memory functions the library uses for every allocation it makes itself
 * (libuv, LMDB and the codecs keep their own).  All four must be set.
 * Each receives @data as its first argument.
 */
struct gq_heap {
	void *data;
	void *(*malloc)(void *data, size_t size);
	void *(*calloc)(void *data, size_t nmemb, size_t size);
	void *(*realloc)(void *data, void *ptr, size_t size);
	void (*free)(void *data, void *ptr);
	uint64_t reserved[4];
};

/**
 * Replace the allocator, or restore the default with NULL.
 * @param heap  Borrowed pointer, but the structure must stay valid until the
 *              allocator is replaced again.
 * @return 0, or GQ_EINVAL if a function pointer is missing.
 * Thread safety: call before any other function of the library, when no
 * node exists; not safe concurrently with anything else.
 */
GQ_API int gq_heap_set(const struct gq_heap *heap);

/* ---------------------------------------------------------------------- */
/* Configuration                                                           */
/* ---------------------------------------------------------------------- */

/**
 * A set of configuration keys, used for a node (gq_node_open()) and for a
 * topic (gq_topic_create()).  Keys and values are strings, as in gqd.conf(5),
 * and are validated when set.
 *
 * Topic keys (also accepted by a node, where they are the defaults for new
 * topics):
 *   segment_size           bytes per segment file before it rolls
 *                          (default 104857600; min 4096)
 *   retention_time         delete segments older than this: a duration
 *                          "168h", "30m", "10s", "500ms"; "0" or "-1" keeps
 *                          forever (default 168h)
 *   retention_bytes        per partition size limit; -1 unlimited (default)
 *   max_message_size       largest accepted record batch, bytes (1048576)
 *   compression_enabled    "true"/"false" (default true)
 *   compression_type       none, gzip, snappy, lz4, zstd (default gzip)
 *   compression_threshold  batches smaller than this many bytes are stored
 *                          uncompressed (default 1024)
 *   deduplication_enabled  drop a message whose content hash was seen in
 *                          the window (default false)
 *   deduplication_window   how many recent hashes to remember per
 *                          partition (default 10000)
 *
 * Node keys:
 *   max_storage_size       total bytes of segment data on this node before
 *                          the oldest segments are deleted (1073741824000)
 *   flush_interval         how often segments and the index are synced so
 *                          the Raft log can be compacted (duration, "5s")
 *   cleanup_interval       how often retention runs (duration, "1h")
 *   max_topic_partitions   most partitions a topic may have (1000)
 *   enable_follower_read   "true"/"false" (default true)
 *   node_id                this node's Raft id, a positive integer (1)
 *   raft_address           "ip:port" this node's Raft port listens on;
 *                          empty (default) for a single node that listens
 *                          nowhere, or the node's initial_cluster entry
 *   initial_cluster        "id@ip:port,..." the Raft addresses of the
 *                          first nodes of a cluster, identical on each of
 *                          them; they are the controller's voters.  A
 *                          node not listed (with its own raft_address)
 *                          joins the cluster they formed.  Empty
 *                          (default): a single node
 *   advertised_address     "host:port" Kafka clients use to reach this
 *                          node (gqd sets it); empty by default
 *   rack                   this node's rack or zone (Kafka's broker.rack);
 *                          empty by default.  Kafka consumers of the same
 *                          rack read from a replica there (follower read)
 *   raft_segment_size      size of each Raft log file before the next
 *                          one starts (8 MiB, 1 MiB to 64 MiB); files
 *                          grow as written, nothing is preallocated
 *   raft_fsync             "true" (default): a replica syncs its Raft log
 *                          to disk before it counts a write as stored, so
 *                          acknowledged writes survive power loss of every
 *                          node; "false": the page cache holds them until
 *                          the kernel writes them back, as Kafka does by
 *                          default: faster, and acknowledged writes still
 *                          survive any process crash and the loss of
 *                          fewer than half the machines of a partition
 *   election_timeout       Raft election timeout ("600ms"); a dead
 *                          leader is replaced after about one to two of
 *                          these
 *   leader_rebalance_interval  how often a partition leader hands
 *                          leadership back to its preferred replica (the
 *                          first placed) when that one is alive ("10s");
 *                          "0" turns it off
 *   dead_broker_grace      how long a node may be silent before the
 *                          controller re-creates its replicas on live
 *                          nodes and, if it voted in the controller, a
 *                          live standby votes instead ("10m"); "0" never
 *   group_initial_rebalance_delay  how long a consumer group starting
 *                          from no member waits for more before its first
 *                          generation ("3s"; "0" does not wait)
 *   group_min_session_timeout, group_max_session_timeout  the session
 *                          timeouts group members may ask for ("6s",
 *                          "30m")
 *
 * A cluster: start every node of initial_cluster with its own node_id.
 * Each gq_node_open() returns once a majority of them is up and the
 * cluster serves.  A topic's partitions are placed on replication_factor
 * live nodes by load; any node answers for any topic.  More nodes join
 * later with the same initial_cluster, their own node_id and
 * raft_address; gq_partition_reassign() moves replicas to them.
 */

/**
 * Create an empty configuration.
 * @param out  Owned by the caller; free with gq_config_destroy().
 * @return 0 or GQ_ENOMEM.
 * Thread safety: any thread; one configuration must not be used by two
 * threads at once.
 */
GQ_API int gq_config_create(struct gq_config **out);

/**
 * Free a configuration.  NULL is a no-op.
 * Thread safety: as gq_config_create().
 */
GQ_API void gq_config_destroy(struct gq_config *config);

/**
 * Set @key to @value, replacing an earlier value.
 * @param key, value  Borrowed.
 * @param errmsg      Optional (may be NULL) caller buffer of GQ_ERRMSG_SIZE
 *                    bytes that receives a sentence naming the bad key or
 *                    value on failure.
 * @return 0, GQ_EINVAL (unknown key or invalid value), GQ_ENOMEM.
 * Thread safety: as gq_config_create().
 */
GQ_API int gq_config_set(struct gq_config *config, const char *key,
			 const char *value, char *errmsg);

/**
 * Read back a key.
 * @return The value (lent until the key is set again or the configuration
 *         destroyed), or NULL if the key was never set.
 * Thread safety: as gq_config_create().
 */
GQ_API const char *gq_config_get(const struct gq_config *config,
				 const char *key);

/* ---------------------------------------------------------------------- */
/* Node                                                                    */
/* ---------------------------------------------------------------------- */

/** Severity of a log message passed to the log callback. */
enum gq_log_level {
	GQ_LOG_DEBUG = 0,
	GQ_LOG_INFO = 1,
	GQ_LOG_WARN = 2,
	GQ_LOG_ERROR = 3,
};

/**
 * Receives the node's log messages.  @msg is lent for the call only.  Runs on
 * the loop thread; must
 * not call back into the node.
 */
typedef void (*gq_log_cb)(void *arg, enum gq_log_level level, const char *msg);

/**
 * Open (creating it if needed) the node stored in @dir and start it.
 *
 * On return the node is ready: its partitions have recovered (torn segment
 * tails truncated, indexes repaired, the Raft log replayed) and it accepts
 * requests.  Two nodes cannot share a directory: the second gets GQ_EBUSY.
 *
 * @param dir     Borrowed.  Created (mode 0755) if missing.
 * @param config  Borrowed, may be NULL for all defaults.
 * @param out     Owned by the caller; release with gq_node_close().  Set only
 *                on success.
 * @return 0, GQ_EINVAL (bad argument or configuration), GQ_EBUSY (directory
 *         in use), GQ_EIO, GQ_ENOSPC, GQ_ECORRUPT (data that cannot be
 *         repaired; the detail names the file), GQ_ENOMEM.  On failure the
 *         detail is available through gq_node_errmsg(NULL).
 * Thread safety: any thread.  Blocking.
 */
GQ_API int gq_node_open(const char *dir, const struct gq_config *config,
			struct gq_node **out);

/**
 * As gq_node_open(), but run the node on the caller's libuv @loop instead of
 * a thread of its own.  Recovery (segments, index, Raft logs) runs inside
 * this call and its failures are returned by it; the Raft groups then
 * elect themselves while the caller runs the loop, and gq_node_ready()
 * turns true.  Requests made before that wait for it.
 * Blocking calls must not be made from the loop's thread.  A node with a
 * raft_address writes to sockets: block or ignore SIGPIPE in the loop's
 * thread (gq_node_open() does so on its own thread).
 * @param loop  Borrowed; must outlive the node.
 * Thread safety: the loop's thread only.
 */
GQ_API int gq_node_open_on_loop(const char *dir, const struct gq_config *config,
				struct uv_loop_s *loop, struct gq_node **out);

/**
 * Connect to remote brokers instead of opening a node here: the returned
 * node speaks the Kafka protocol to a cluster of gqd daemons (or Kafka
 * brokers) and the same calls work on it, so moving a program between an
 * embedded queue and a remote cluster changes only this call
 * (doc/client.md, gq_node_connect(3)).  It covers topics (create,
 * delete, list, describe), the cluster view (brokers, controller,
 * partition leaders), produce (acknowledged by every in-sync replica,
 * acks=all; joined into batches per partition; idempotent unless the
 * `enable_idempotence` key is false), fetch, list offsets and
 * gq_fetch_wait_async(), the group calls (a member's, so the group
 * consumer gq_consumer_create() works on it, and describe, list, lags and
 * commits); calls that only make sense inside a node (gq_node_stats(),
 * replica moves, gq_partition_sync()) answer GQ_EUNSUPPORTED.
 * A described partition has no replica here: its log_start and
 * high_watermark are -1 (use gq_list_offsets()).  Requests that meet a
 * stale leader wait for fresh metadata and retry, for up to the
 * `request_timeout` key of @config (30s).
 * @param bootstrap  "host:port[,host:port...]": where to ask for the
 *                   cluster's metadata first.
 * @param config     Borrowed; may be NULL.
 * @param out        Receives the node; close it with gq_node_close().
 * @return 0; GQ_EINVAL (a bad list or key); GQ_EIO (no broker of the list
 *         answered within request_timeout); GQ_ENOMEM.
 * Thread safety: any thread (blocks until connected).
 */
GQ_API int gq_node_connect(const char *bootstrap,
			   const struct gq_config *config,
			   struct gq_node **out);

/**
 * Whether the node has finished recovery and serves requests.  Always true
 * after gq_node_open() returns.
 * Thread safety: any thread.
 */
GQ_API bool gq_node_ready(struct gq_node *node);

/**
 * Give the node opened with @config a log callback from the start, so that
 * what gq_node_open() itself logs (recovery of damaged files, replayed
 * entries) reaches the application too; the same as gq_node_set_log_cb()
 * afterwards.  @cb may be NULL.
 * Thread safety: as gq_config_set().
 */
GQ_API void gq_config_set_log_cb(struct gq_config *config, gq_log_cb cb,
				 void *arg, enum gq_log_level min_level);

/**
 * Install a log callback (default: none, the library prints nothing).
 * @param min_level  Messages below this level are not formatted at all.
 * Thread safety: any thread; takes effect for messages after the call.
 */
GQ_API void gq_node_set_log_cb(struct gq_node *node, gq_log_cb cb, void *arg,
			       enum gq_log_level min_level);

/**
 * Close the node: stop accepting requests, fail queued ones with
 * GQ_ECLOSED (or GQ_EUNKNOWN for produces already proposed), let in-flight
 * writes reach the disk, sync storage, stop the loop thread and free
 * everything.  NULL is a no-op.  Blocking.  On the caller's loop, close
 * returns once the node's handles are closed; the caller keeps running the
 * loop until then from another thread, or use gq_node_close_async().
 * Thread safety: any thread except the node's loop thread; no other call on
 * @node may start after close starts.
 */
GQ_API void gq_node_close(struct gq_node *node);

/**
 * Close a node running on the caller's loop without blocking: @cb runs on
 * the loop thread once every handle is closed and the node freed.
 * Thread safety: the loop's thread only.
 */
GQ_API void gq_node_close_async(struct gq_node *node, void (*cb)(void *arg),
				void *arg);

/**
 * The detail of the last failed call on @node made by the calling thread
 * (or of the last failed gq_node_open() on this thread when @node is NULL).
 * @return A NUL-terminated string, lent until the next call by this thread;
 *         "" if there was no failure.
 * Thread safety: any thread; the detail is per thread.
 */
GQ_API const char *gq_node_errmsg(struct gq_node *node);

/* ---------------------------------------------------------------------- */
/* Topics                                                                  */
/* ---------------------------------------------------------------------- */

/**
 * Create a topic.  Names are 1..GQ_NAME_MAX bytes of [A-Za-z0-9._-], not
 * "." or "..", and not starting with "__" (reserved for internal topics).
 * @param partitions          1..max_topic_partitions.
 * @param replication_factor  Replicas per partition (1 on a single node).
 * @param config              Borrowed, may be NULL: the node's topic keys
 *                            apply.  Node-only keys are rejected.
 * @return 0, GQ_EEXIST, GQ_EBADNAME, GQ_EINVAL (partition count, factor
 *         larger than the number of nodes, config), GQ_ECLOSED, GQ_EIO,
 *         GQ_ENOMEM, GQ_EUNKNOWN.
 * Thread safety: any thread.  Blocking: returns once the topic's partitions
 * are open and accept produce.
 */
GQ_API int gq_topic_create(struct gq_node *node, const char *name,
			   int32_t partitions, int16_t replication_factor,
			   const struct gq_config *config);

/**
 * Completion of an asynchronous administrative call.  Runs once, on the
 * loop thread.
 * @param status  0, or the error the blocking variant would return.
 * @param errmsg  The detail of a failure ("" on success); lent for the
 *                call.
 */
typedef void (*gq_done_cb)(void *arg, int status, const char *errmsg);

/**
 * As gq_topic_create(), but return at once; @cb reports the outcome once
 * the partitions are open (or the create failed).  For event loops that
 * must not block: a server answering Kafka CreateTopics, for instance.
 * @return 0 (cb will run), or the validation errors of gq_topic_create()
 *         (GQ_EBADNAME, GQ_EINVAL...), GQ_ECLOSED, GQ_ENOMEM (cb will not).
 * Thread safety: any thread, including from inside a callback.
 */
GQ_API int gq_topic_create_async(struct gq_node *node, const char *name,
				 int32_t partitions, int16_t replication_factor,
				 const struct gq_config *config, gq_done_cb cb,
				 void *arg);

/**
 * Delete a topic: its partitions close and their segment files, index
 * entries and Raft logs are removed from disk.
 * @return 0, GQ_ENOTOPIC, GQ_EBADNAME, GQ_ECLOSED, GQ_EIO, GQ_ENOMEM.
 * Thread safety: any thread.  Blocking.  Produce and fetch calls racing with
 * the delete fail with GQ_ENOTOPIC.
 */
GQ_API int gq_topic_delete(struct gq_node *node, const char *name);

/**
 * List the topics (internal ones included, they start with "__").
 * @param names  Set to an array of @count NUL-terminated names, sorted,
 *               owned by the caller: free with gq_topic_list_free().
 * @return 0, GQ_ECLOSED, GQ_ENOMEM.
 * Thread safety: any thread.  Blocking.
 */
GQ_API int gq_topic_list(struct gq_node *node, char ***names, size_t *count);

/**
 * As gq_topic_delete(), but return at once; @cb reports the outcome once
 * the data is removed.
 * @return 0 (cb will run), GQ_EBADNAME, GQ_ECLOSED, GQ_ENOMEM (cb will
 *         not).
 * Thread safety: any thread, including from inside a callback.
 */
GQ_API int gq_topic_delete_async(struct gq_node *node, const char *name,
				 gq_done_cb cb, void *arg);

/**
 * Change some of a topic's configuration keys: those set in @changes take
 * their new values, the others keep theirs.  The change is committed by
 * the controller and applied on every node: retention_time,
 * retention_bytes and segment_size apply to each replica's next
 * retention pass and next segment roll (segments already written keep
 * their size); compression_* and max_message_size to the next produce
 * call.  deduplication_enabled and deduplication_window cannot change
 * (each partition's replicas apply them in log order): setting either
 * to another value than its current one is GQ_EINVAL.  The partition
 * count cannot change either.  The new configuration survives restarts
 * and is what gq_topic_describe() reports.
 * @param changes  Borrowed: topic keys only (as gq_topic_create()), at
 *                 least one.  A value is validated as at create.
 * @return 0, GQ_ENOTOPIC, GQ_EBADNAME (including internal topics, whose
 *         names start with "__"), GQ_EINVAL (no key, a node-only key, a
 *         deduplication key changed; the detail names the key),
 *         GQ_ETIMEDOUT (no controller leader), GQ_ECLOSED, GQ_ENOMEM,
 *         GQ_EUNKNOWN.  On a node made by gq_node_connect() the change
 *         is a Kafka IncrementalAlterConfigs to the controller broker,
 *         and a refusal's detail is the broker's message.
 * Thread safety: any thread.  Blocking: returns once the change is
 * applied on this node (a remote node: read back from the brokers), so
 * a describe or produce that follows sees it.
 */
GQ_API int gq_topic_alter(struct gq_node *node, const char *name,
			  const struct gq_config *changes);

/**
 * As gq_topic_alter(), but return at once; @cb reports the outcome once
 * the change is applied on this node (or failed).
 * @return 0 (cb will run), or the validation errors of gq_topic_alter()
 *         (GQ_EBADNAME, GQ_EINVAL), GQ_ECLOSED, GQ_ENOMEM (cb will not).
 * Thread safety: any thread, including from inside a callback.
 */
GQ_API int gq_topic_alter_async(struct gq_node *node, const char *name,
				const struct gq_config *changes, gq_done_cb cb,
				void *arg);

/**
 * Free what gq_topic_list() returned.  NULL is a no-op.
 * Thread safety: any thread.
 */
GQ_API void gq_topic_list_free(char **names, size_t count);

/**
 * Describe a topic: partition count, replication factor, configuration and
 * per-partition state.
 * @param out  Owned by the caller; free with gq_topic_info_destroy().
 * @return 0, GQ_ENOTOPIC, GQ_EBADNAME, GQ_ECLOSED, GQ_ENOMEM.
 * Thread safety: any thread.  Blocking.  The result is a snapshot.
 */
GQ_API int gq_topic_describe(struct gq_node *node, const char *name,
			     struct gq_topic_info **out);

/**
 * Free a description.  NULL is a no-op.
 * Thread safety: any thread; a description is used by one thread at a
 * time, as are the gq_topic_info_*() readers below.
 */
GQ_API void gq_topic_info_destroy(struct gq_topic_info *info);

/** Number of partitions of the described topic. */
GQ_API int32_t gq_topic_info_partitions(const struct gq_topic_info *info);

/** Replication factor of the described topic. */
GQ_API int16_t
gq_topic_info_replication_factor(const struct gq_topic_info *info);

/**
 * The topic's effective configuration (node defaults merged with the
 * topic's own keys).  Lent until gq_topic_info_destroy().
 */
GQ_API const struct gq_config *
gq_topic_info_config(const struct gq_topic_info *info);

/** State of one partition, as gq_topic_info_partition() reports it. */
/** Most replicas a partition may have. */
#define GQ_REPLICAS_MAX 8

struct gq_partition_info {
	int32_t partition;
	int32_t leader; /**< Node id of the leader, -1 if none is known. */
	/** First offset still stored; -1 when this node holds no replica
	 *  (then high_watermark, size_bytes and segments are -1 / 0 too). */
	gq_offset log_start;
	gq_offset high_watermark; /**< Offset the next message will get. */
	uint64_t size_bytes;      /**< Bytes in segment files. */
	uint32_t segments;        /**< Segment files. */
	int32_t leader_epoch;     /**< The leader's Raft term, -1 if unknown. */
	/** Node ids of the replicas; the first is the preferred leader. */
	int32_t replicas[GQ_REPLICAS_MAX];
	uint32_t replica_count;
	uint32_t live_mask; /**< Bit i set: replicas[i] is on a live node. */
	uint64_t reserved[4];
};

/**
 * Copy the state of partition @partition into @out.
 * @return 0 or GQ_ENOPARTITION.
 */
GQ_API int gq_topic_info_partition(const struct gq_topic_info *info,
				   int32_t partition,
				   struct gq_partition_info *out);

/* ---------------------------------------------------------------------- */
/* Cluster                                                                 */
/* ---------------------------------------------------------------------- */

/** A node of the cluster, as the controller registered it. */
struct gq_broker_info {
	int32_t id;
	bool alive; /**< Heartbeating the controller within its session. */
	/** Being removed (gq_cluster_remove_broker()): its replicas move
	 *  away, then it leaves the controller group. */
	bool removing;
	char raft_address[64];    /**< "ip:port" of its Raft port. */
	char client_address[256]; /**< Its advertised_address, maybe "". */
	char rack[64];            /**< Its rack, maybe "". */
	uint64_t reserved[4];
};

/**
 * The registered nodes, by id.
 * @param out    Owned by the caller: free with gq_cluster_brokers_free().
 * @return 0, GQ_EINVAL, GQ_ENOMEM.
 * Thread safety: any thread.
 */
GQ_API int gq_cluster_brokers(struct gq_node *node, struct gq_broker_info **out,
			      size_t *count);

/** Free what gq_cluster_brokers() returned.  NULL is a no-op. */
GQ_API void gq_cluster_brokers_free(struct gq_broker_info *brokers);

/**
 * Remove a broker from the cluster for good, without losing a replica:
 * no new replicas are placed on it, each of its replicas is re-created
 * on another broker (as gq_partition_reassign() does), and once it holds
 * none it leaves the controller group (a standby takes its vote).  Stop
 * it then.  Returns once the controller committed the decision; the
 * move runs in the background (gq_cluster_brokers() shows `removing`,
 * gq_topic_describe() the replicas).  A removed id cannot rejoin.
 * @return 0; GQ_EINVAL (not a registered broker, or some partition on it
 *         has more replicas than brokers would remain); GQ_ETIMEDOUT;
 *         GQ_ECLOSED.
 * Thread safety: any thread (blocks).
 */
GQ_API int gq_cluster_remove_broker(struct gq_node *node, int32_t broker);

/**
 * Node id of the controller's leader as this node last saw it, or -1.
 * Thread safety: any thread.
 */
GQ_API int32_t gq_cluster_controller(struct gq_node *node);

/** This node's id.  Thread safety: any thread. */
GQ_API int32_t gq_node_id(struct gq_node *node);

/**
 * Who leads a partition, as this node last saw it: cheap, for routing.
 * @param leader  Receives the leader's node id, or -1 if none is known.
 * @param epoch   Optional: receives its leader epoch (Raft term), or -1.
 * @return 0, GQ_EINVAL, GQ_ENOTOPIC, GQ_ENOPARTITION.
 * Thread safety: any thread.
 */
GQ_API int gq_partition_leader(struct gq_node *node, const char *topic,
			       int32_t partition, int32_t *leader,
			       int32_t *epoch);

/**
 * Give a partition a new set of replicas (node ids; the first becomes its
 * preferred leader).  Returns once the controller committed the new
 * assignment; the move then runs in the background, one Raft membership
 * change at a time: the partition's leader adds each new replica, which
 * copies the data, makes it a voter once it holds everything, and then
 * removes the replicas no longer listed, which delete their data.  No
 * acknowledged message is lost, and the partition keeps serving.
 * gq_topic_describe() shows the new replicas at once; a node's
 * gq_partition_info log_start turns -1 once its replica is gone.
 * @return 0; GQ_EINVAL (no replicas, more than GQ_REPLICAS_MAX, one
 *         listed twice, or a node id no broker registered); GQ_ENOTOPIC;
 *         GQ_ENOPARTITION; GQ_ETIMEDOUT (no controller leader); GQ_ECLOSED.
 * Thread safety: any thread (blocks).
 */
GQ_API int gq_partition_reassign(struct gq_node *node, const char *topic,
				 int32_t partition, const int32_t *replicas,
				 size_t count);

/**
 * Move a partition's leadership to @broker, one of its replicas: it
 * becomes the preferred leader (first in the replica list) and the
 * current leader hands over within a second, while @broker is alive and
 * in sync.  Returns once the new preference is committed.
 * @return as gq_partition_reassign(); GQ_EINVAL also when @broker holds
 *         no replica of the partition.
 * Thread safety: any thread (blocks).
 */
GQ_API int gq_partition_move_leader(struct gq_node *node, const char *topic,
				    int32_t partition, int32_t broker);

/* ---------------------------------------------------------------------- */
/* Statistics                                                              */
/* ---------------------------------------------------------------------- */

/** This node's part in one Raft group. */
enum gq_raft_role {
	GQ_RAFT_UNAVAILABLE = 0, /**< Opening, closing or not started. */
	GQ_RAFT_FOLLOWER = 1,
	GQ_RAFT_CANDIDATE = 2,
	GQ_RAFT_LEADER = 3,
};

/** One Raft group hosted on this node: a partition replica, or the
 *  controller (topic "", partition -1). */
struct gq_replica_stats {
	char topic[GQ_NAME_MAX + 1];
	int32_t partition;
	int32_t role;   /**< enum gq_raft_role. */
	int32_t leader; /**< Node id of the leader as seen here, or -1. */
	/** Leader that passed its first barrier: it answers produce (and,
	 *  for the controller, topic changes).  False on followers. */
	bool serving;
	/** Copying data it misses from another replica (catch-up); it does
	 *  not serve reads until done. */
	bool catching_up;
	uint32_t voters; /**< Voting members of the group's configuration. */
	uint64_t term;
	uint64_t last_index;    /**< Last entry in its Raft log. */
	uint64_t commit_index;  /**< Last entry known committed. */
	uint64_t applied_index; /**< Last entry applied here. */
	/** Partitions only (-1 / 0 for the controller): as in
	 *  struct gq_partition_info. */
	gq_offset log_start;
	gq_offset high_watermark;
	uint64_t size_bytes;
	uint32_t segments;
	uint64_t reserved[4];
};

/** A snapshot of a node's state, for monitoring. */
struct gq_node_stats {
	int32_t node_id;
	int32_t controller;  /**< As gq_cluster_controller(). */
	uint64_t uptime_ms;  /**< Since gq_node_open(). */
	uint32_t topics;     /**< Topics in the cluster's metadata. */
	uint32_t leaders;    /**< Groups in @replicas this node leads. */
	uint64_t disk_bytes; /**< Bytes of files in the data directory. */
	uint64_t disk_free;  /**< Bytes free for it on its file system. */
	size_t replica_count;
	/** The controller first, then partition replicas by topic and
	 *  partition. */
	struct gq_replica_stats *replicas;
	uint64_t reserved[8];
};

/**
 * Take a snapshot of the node's Raft groups and storage, for monitoring:
 * one pass over the groups on the loop thread, then a walk of the data
 * directory on the caller's.
 * @param out  Owned by the caller: free with gq_node_stats_free().
 * @return 0, GQ_EINVAL, GQ_ENOMEM, GQ_ECLOSED.
 * Thread safety: any thread but the node's loop (blocks).
 */
GQ_API int gq_node_stats(struct gq_node *node, struct gq_node_stats **out);

/** Free what gq_node_stats() returned.  NULL is a no-op. */
GQ_API void gq_node_stats_free(struct gq_node_stats *stats);

/* ---------------------------------------------------------------------- */
/* Produce                                                                 */
/* ---------------------------------------------------------------------- */

/** A message header: a key and an optional value. */
struct gq_header {
	const char *key; /**< UTF-8, @key_len bytes, not NUL-terminated. */
	size_t key_len;
	const void *value; /**< NULL for a null value. */
	size_t value_len;
};

/**
 * A message to produce.  Zero-initialise it, then set what you need; every
 * pointer is borrowed for the duration of the produce call only (the library
 * encodes the message before the call returns).
 */
struct gq_msg {
	const void *key; /**< NULL for a null key. */
	size_t key_len;
	const void *value; /**< NULL for a null value (a tombstone). */
	size_t value_len;
	const struct gq_header *headers;
	size_t header_count;
	int64_t timestamp; /**< Milliseconds since the epoch; 0 = now. */
	uint64_t reserved[4];
};

/**
 * Completion of an asynchronous produce.  Runs once, on the loop thread.
 * @param status       0 (durable), or GQ_ENOTOPIC, GQ_ENOPARTITION,
 *                     GQ_ETOOBIG, GQ_ESEQUENCE, GQ_EFENCED, GQ_EIO,
 *                     GQ_ENOSPC, GQ_ECLOSED (never proposed),
 *                     GQ_EUNKNOWN (proposed, outcome unknown).
 * @param partition    The partition written.
 * @param base_offset  Offset of the first message (messages are contiguous),
 *                     -1 on error.
 */
typedef void (*gq_produce_cb)(void *arg, int status, int32_t partition,
			      gq_offset base_offset);

/**
 * Append @count messages to one partition, as one batch, and wait until they
 * are durable.  The batch is compressed with the topic's codec when its
 * encoded size reaches compression_threshold.
 * @param partition    A partition, or GQ_PARTITION_ANY: by the hash of the
 *                     first message's key, or round-robin if it has none.
 * @param msgs         Borrowed.
 * @param base_offset  Optional (may be NULL): receives the first offset.
 * @param out_partition Optional: receives the partition written.
 * @return 0, GQ_EINVAL, GQ_ENOTOPIC, GQ_ENOPARTITION, GQ_ETOOBIG
 *         (max_message_size), GQ_EIO, GQ_ENOSPC, GQ_ECLOSED, GQ_EUNKNOWN,
 *         GQ_ENOMEM.
 * Thread safety: any thread but a loop thread.  Blocking.
 */
GQ_API int gq_produce(struct gq_node *node, const char *topic,
		      int32_t partition, const struct gq_msg *msgs,
		      size_t count, int32_t *out_partition,
		      gq_offset *base_offset);

/**
 * As gq_produce(), but return at once; @cb reports the outcome.  Requests
 * for one partition are appended in the order of the calls and coalesced
 * into one Raft entry per loop turn, so many requests in flight give high
 * throughput.
 * @return 0 (cb will run), or GQ_EINVAL, GQ_ETOOBIG, GQ_ECLOSED,
 *         GQ_ENOMEM (cb will not run).  Unknown topics are reported through
 *         the callback.
 * Thread safety: any thread, including from inside a callback.
 */
GQ_API int gq_produce_async(struct gq_node *node, const char *topic,
			    int32_t partition, const struct gq_msg *msgs,
			    size_t count, gq_produce_cb cb, void *arg);

/**
 * Append Kafka RecordBatch v2 bytes as they are (gqd's path for Kafka
 * producers).  @records holds one or more complete batches; each is
 * validated (magic, lengths, CRC-32C, record count, max_message_size) and
 * stored unchanged apart from its base offset and partition leader epoch.
 * Batches that carry a producer id are checked against that producer's
 * state: a duplicate of one of the last five batches is answered with the
 * original offset and not stored again.
 * @param records  Borrowed; copied before the call returns.
 * @return as gq_produce_async(), plus GQ_ECORRUPT for bad bytes.
 * Thread safety: any thread.
 */
GQ_API int gq_produce_records_async(struct gq_node *node, const char *topic,
				    int32_t partition, const void *records,
				    size_t len, gq_produce_cb cb, void *arg);

/* ---------------------------------------------------------------------- */
/* Idempotent producers                                                    */
/* ---------------------------------------------------------------------- */

/**
 * Create an idempotent producer: it gets a producer id and epoch that are
 * never reused, and numbers its batches per partition, so the node appends
 * each batch exactly once even when the producer retries after GQ_EUNKNOWN
 * or a timeout, across restarts of the node.
 * @param out  Owned by the caller; free with gq_producer_destroy().
 * @return 0, GQ_ECLOSED, GQ_EIO, GQ_ENOMEM.
 * Thread safety: any thread.  Blocking.  One producer handle must not be
 * used by two threads at once.
 */
GQ_API int gq_producer_create(struct gq_node *node, struct gq_producer **out);

/**
 * Completion of gq_producer_id_async(): a new producer id and epoch
 * (-1, -1 on error).  Runs once, on the loop thread.
 */
typedef void (*gq_producer_id_cb)(void *arg, int status, int64_t id,
				  int16_t epoch);

/**
 * Allocate a producer id and epoch without a producer handle, without
 * blocking: for a server handing ids to remote idempotent producers
 * (Kafka InitProducerId).  Ids are never reused.
 * @return 0 (cb will run), GQ_EINVAL, GQ_ECLOSED, GQ_ENOMEM (cb will not).
 * Thread safety: any thread, including from inside a callback.
 */
GQ_API int gq_producer_id_async(struct gq_node *node, gq_producer_id_cb cb,
				void *arg);

/**
 * Free a producer.  NULL is a no-op.  Call it after the producer's last
 * send returned, and before gq_node_close() of its node.
 * Thread safety: the thread that uses the producer.
 */
GQ_API void gq_producer_destroy(struct gq_producer *producer);

/**
 * The producer id and epoch the node assigned.
 * Thread safety: any thread.
 */
GQ_API void gq_producer_id(const struct gq_producer *producer, int64_t *id,
			   int16_t *epoch);

/**
 * As gq_produce(), through the idempotent producer.  The call itself
 * resends the batch (same sequence numbers) a few times while its outcome
 * is unknown or the partition is not serving; if it still returns
 * GQ_EUNKNOWN or GQ_ENOTREADY, call gq_producer_retry() later to resend
 * the same batch: the node stores it at most once and answers a duplicate
 * with its original offset.  Sequence numbers are used once a batch was
 * sent, so skipping the retry leaves a gap the next send reports as
 * GQ_ESEQUENCE.
 * @return as gq_produce(), plus GQ_ESEQUENCE and GQ_EFENCED.
 * Thread safety: one thread at a time per producer.  Blocking.
 */
GQ_API int gq_producer_send(struct gq_producer *producer, const char *topic,
			    int32_t partition, const struct gq_msg *msgs,
			    size_t count, gq_offset *base_offset);

/**
 * Resend the last batch gq_producer_send() tried, unchanged.
 * @return as gq_producer_send(); GQ_EINVAL if nothing was sent yet.
 */
GQ_API int gq_producer_retry(struct gq_producer *producer,
			     gq_offset *base_offset);

/* ---------------------------------------------------------------------- */
/* Fetch                                                                   */
/* ---------------------------------------------------------------------- */

/** One message read by gq_fetch_next().  Every pointer is lent until
 *  gq_fetch_destroy() of the fetch it came from. */
struct gq_record {
	gq_offset offset;
	int64_t timestamp; /**< Milliseconds since the epoch. */
	const void *key;   /**< NULL for a null key. */
	size_t key_len;
	const void *value; /**< NULL for a null value. */
	size_t value_len;
	size_t header_count;
	uint64_t reserved[4];
};

/**
 * Read messages of one partition starting at @offset.
 * @param offset     A message offset, GQ_OFFSET_EARLIEST or
 *                   GQ_OFFSET_LATEST (then the fetch is empty).
 * @param max_bytes  Stop after this many bytes of stored batches; at least
 *                   one batch is returned if any exists, even if larger.
 * @param out        Owned by the caller: iterate with gq_fetch_next(), free
 *                   with gq_fetch_destroy().
 * @return 0 (possibly with no messages, at the end of the log), GQ_EINVAL,
 *         GQ_ENOTOPIC, GQ_ENOPARTITION, GQ_EOFFSET (before the log start or
 *         past the high watermark), GQ_ECORRUPT (a stored batch failed its
 *         CRC; the detail names it), GQ_EIO, GQ_ECLOSED, GQ_ENOMEM.
 * Thread safety: any thread but a loop thread.  Blocking; the read itself
 * runs off the loop.
 */
GQ_API int gq_fetch(struct gq_node *node, const char *topic, int32_t partition,
		    gq_offset offset, size_t max_bytes, struct gq_fetch **out);

/**
 * Step to the next message.  Messages before the requested offset in the
 * first batch are skipped.  Compressed batches are decompressed here.
 * @param rec  Filled on 1.
 * @return 1 (a message), 0 (no more), GQ_ECORRUPT, GQ_EUNSUPPORTED (codec
 *         not built in), GQ_ENOMEM.
 * Thread safety: one thread at a time per fetch.
 */
GQ_API int gq_fetch_next(struct gq_fetch *fetch, struct gq_record *rec);

/**
 * Header @i (0-based, < rec->header_count) of the message gq_fetch_next()
 * returned last.  Pointers lent as the record's.
 * @return 0 or GQ_EINVAL.
 */
GQ_API int gq_fetch_header(struct gq_fetch *fetch, size_t i,
			   struct gq_header *out);

/**
 * High watermark of the partition when the fetch was served.
 * Thread safety: as gq_fetch_next(), for this and the accessors below.
 */
GQ_API gq_offset gq_fetch_high_watermark(const struct gq_fetch *fetch);

/** Log start offset of the partition when the fetch was served. */
GQ_API gq_offset gq_fetch_log_start(const struct gq_fetch *fetch);

/**
 * The stored RecordBatch v2 bytes of the fetch, exactly as a Kafka Fetch
 * response carries them (the first batch may start before the requested
 * offset).  Lent until gq_fetch_destroy().
 */
GQ_API void gq_fetch_records(const struct gq_fetch *fetch, const void **data,
			     size_t *len);

/** Free a fetch.  NULL is a no-op. */
GQ_API void gq_fetch_destroy(struct gq_fetch *fetch);

/**
 * Completion of gq_fetch_wait_async().  Runs once, on the loop thread.
 * @param status  0 (the partition has a message at or after the offset),
 *                GQ_ETIMEDOUT, GQ_ENOTOPIC, GQ_ENOPARTITION, GQ_ECLOSED.
 */
typedef void (*gq_wait_cb)(void *arg, int status);

/**
 * Wait until partition @partition of @topic holds a message at or after
 * @offset (its high watermark passes @offset), for at most @timeout_ms: the
 * long poll of a consumer.  Then fetch with gq_fetch().
 * @param offset      The next offset the caller wants (>= 0).
 * @param timeout_ms  0 checks once and reports at once.
 * @return 0 (cb will run), GQ_EINVAL, GQ_ECLOSED, GQ_ENOMEM (cb will not).
 * Thread safety: any thread, including from inside a callback.
 */
GQ_API int gq_fetch_wait_async(struct gq_node *node, const char *topic,
			       int32_t partition, gq_offset offset,
			       uint32_t timeout_ms, gq_wait_cb cb, void *arg);

/**
 * Find an offset: GQ_OFFSET_EARLIEST (log start), GQ_OFFSET_LATEST (high
 * watermark), or a timestamp >= 0 (the first offset whose message has a
 * timestamp >= it, as Kafka's ListOffsets; the high watermark if none).
 * @return 0, GQ_EINVAL, GQ_ENOTOPIC, GQ_ENOPARTITION, GQ_ECLOSED.
 * Thread safety: any thread but a loop thread.  Blocking.
 */
GQ_API int gq_list_offsets(struct gq_node *node, const char *topic,
			   int32_t partition, int64_t when, gq_offset *out);

/**
 * Make the next reads of this node's replica linearizable (a Raft read
 * index): wait until the replica here holds everything the partition had
 * committed when the call began.  gq_fetch() and gq_list_offsets() on
 * this node then see every message acknowledged before the call, even on
 * a follower.  Costs a round trip to the leader and one small Raft entry.
 * @param timeout_ms  How long to wait for the leader; 0 fails at once
 *                    when it is needed.
 * @return 0; GQ_EINVAL; GQ_ENOTOPIC; GQ_ENOPARTITION; GQ_ENOTLEADER (no
 *         replica on this node, or leadership moved: retry);
 *         GQ_ENOTREADY (the replica is still opening); GQ_ETIMEDOUT;
 *         GQ_ECLOSED.
 * Thread safety: any thread but a loop thread.  Blocking.
 */
GQ_API int gq_partition_sync(struct gq_node *node, const char *topic,
			     int32_t partition, uint32_t timeout_ms);

/* ---------------------------------------------------------------------- */
/* Consumer-group offsets                                                  */
/* ---------------------------------------------------------------------- */

/**
 * Durably store @group's committed @offset for a partition (the next offset
 * the group will read), with optional @metadata (borrowed, may be NULL).
 * @return 0, GQ_EBADNAME, GQ_ENOTOPIC, GQ_ENOPARTITION, GQ_EINVAL,
 *         GQ_ECLOSED, GQ_EUNKNOWN, GQ_EIO.
 * Thread safety: any thread but a loop thread.  Blocking.
 */
GQ_API int gq_group_commit(struct gq_node *node, const char *group,
			   const char *topic, int32_t partition,
			   gq_offset offset, const char *metadata);

/**
 * Read @group's committed offset for a partition.
 * @param offset  Receives the offset, or -1 if the group never committed.
 * @return 0, GQ_EBADNAME, GQ_ENOTOPIC, GQ_ENOPARTITION, GQ_ECLOSED.
 * Thread safety: any thread but a loop thread.  Blocking.
 */
GQ_API int gq_group_fetch_offset(struct gq_node *node, const char *group,
				 const char *topic, int32_t partition,
				 gq_offset *offset);

/* ---------------------------------------------------------------------- */
/* Group coordination (the broker side of Kafka's group protocol)         */
/* ---------------------------------------------------------------------- */

/*
 * Every node of a cluster can coordinate consumer groups.  A group belongs
 * to one partition of the internal topic __consumer_offsets (by a hash of
 * its name); the leader of that partition is the group's coordinator.  It
 * keeps the members, runs rebalances (Kafka's state machine: Empty,
 * PreparingRebalance, CompletingRebalance, Stable) and stores the offsets
 * the group commits in that partition, so both fail over with it.
 *
 * These calls are for servers that speak a group protocol to remote
 * clients (gqd answers Kafka JoinGroup, SyncGroup... with them) and for
 * consumers embedded in an application.  Any node takes the asynchronous
 * ones: a node that does not coordinate the group sends the call to the
 * one that does, once; GQ_ENOTCOORD means the coordinator moved or could
 * not be reached, and gq_group_coordinator() tells where it is now.
 * gq_group_describe() answers only on the coordinator (GQ_ENOTCOORD
 * elsewhere).  While a new coordinator loads,
 * calls fail with GQ_ENOTREADY.
 */

/**
 * Which broker coordinates @group now.
 * @param broker  Receives its id.
 * @return 0; GQ_EBADNAME; GQ_ENOTREADY (no coordinator yet: the offsets
 *         topic is being created or its partition elects a leader; ask
 *         again); GQ_EINVAL.
 * Thread safety: any thread.  Does not block.
 */
GQ_API int gq_group_coordinator(struct gq_node *node, const char *group,
				int32_t *broker);

/** One protocol a joining member supports (Kafka JoinGroup Protocols). */
struct gq_group_protocol {
	const char *name;     /**< e.g. "range", "cooperative-sticky" */
	const void *metadata; /**< opaque to the coordinator */
	size_t len;
};

/** A JoinGroup request; everything is borrowed for the call. */
struct gq_group_join {
	const char *group;
	const char *member_id; /**< "" or NULL: a new member */
	/** Static membership (KIP-345), or NULL/"" for a dynamic member. */
	const char *group_instance_id;
	const char *client_id;     /**< NULL is taken as "" */
	const char *client_host;   /**< NULL is taken as "" */
	const char *protocol_type; /**< e.g. "consumer" */
	int32_t session_timeout_ms;
	/** How long a rebalance waits for members to rejoin; <= 0: the
	 *  session timeout. */
	int32_t rebalance_timeout_ms;
	/** A new dynamic member first gets its id with GQ_EMEMBERID and
	 *  joins again with it (KIP-394; Kafka JoinGroup v4+). */
	bool require_member_id;
	size_t n_protocols;
	const struct gq_group_protocol *protocols;
	uint64_t reserved[4];
};

/** A member as the group leader's join result lists it. */
struct gq_group_member {
	const char *member_id;
	const char *group_instance_id; /**< NULL for a dynamic member */
	const void *metadata;          /**< for the chosen protocol */
	size_t len;
};

/** The outcome of a join, lent to the callback for its duration. */
struct gq_group_joined {
	int32_t generation;    /**< -1 on error */
	const char *protocol;  /**< the protocol chosen, NULL on error */
	const char *leader;    /**< the leader's member id, maybe "" */
	const char *member_id; /**< this member's id (with GQ_EMEMBERID:
				    the id to join again with) */
	size_t n_members;      /**< non-zero for the leader only */
	const struct gq_group_member *members;
};

/**
 * Completion of gq_group_join_async().  Runs once, on the loop thread.
 * @param status  0, GQ_EMEMBERID, GQ_EMEMBER, GQ_EINSTANCE, GQ_EREBALANCE
 *                (superseded by another join of the same member),
 *                GQ_EGROUPPROTOCOL, GQ_ESESSION, GQ_EBADNAME,
 *                GQ_ENOTCOORD, GQ_ENOTREADY, GQ_ECLOSED, GQ_ENOMEM.
 */
typedef void (*gq_group_join_cb)(void *arg, int status,
				 const struct gq_group_joined *joined);

/**
 * Join @req->group, or rejoin it.  The answer may wait for a rebalance:
 * until every known member rejoined or the rebalance timeout passed (a
 * group starting from Empty waits group_initial_rebalance_delay more).
 * @return 0 (cb will run), GQ_EINVAL, GQ_EBADNAME, GQ_ENOMEM, GQ_ECLOSED
 *         (cb will not).
 * Thread safety: any thread, including from inside a callback.
 */
GQ_API int gq_group_join_async(struct gq_node *node,
			       const struct gq_group_join *req,
			       gq_group_join_cb cb, void *arg);

/** One member's assignment in the leader's SyncGroup. */
struct gq_group_assignment {
	const char *member_id;
	const void *data; /**< opaque to the coordinator */
	size_t len;
};

/**
 * Completion of gq_group_sync_async(): this member's assignment (lent for
 * the call; NULL when empty).  Runs once, on the loop thread.
 * @param status  0, GQ_EMEMBER, GQ_EINSTANCE, GQ_EGENERATION,
 *                GQ_EREBALANCE, GQ_EBADNAME, GQ_ENOTCOORD, GQ_ENOTREADY,
 *                GQ_ECLOSED, GQ_ENOMEM.
 */
typedef void (*gq_group_sync_cb)(void *arg, int status, const void *assignment,
				 size_t len);

/**
 * SyncGroup: the leader hands in every member's assignment (@n entries,
 * borrowed for the call; ignored from other members); each member gets
 * its own once the leader's arrived.
 * @param group_instance_id  NULL for a dynamic member.
 * @return 0 (cb will run), GQ_EINVAL, GQ_EBADNAME, GQ_ENOMEM, GQ_ECLOSED
 *         (cb will not).
 * Thread safety: any thread, including from inside a callback.
 */
GQ_API int gq_group_sync_async(struct gq_node *node, const char *group,
			       int32_t generation, const char *member_id,
			       const char *group_instance_id, size_t n,
			       const struct gq_group_assignment *assignments,
			       gq_group_sync_cb cb, void *arg);

/**
 * Heartbeat: keeps the member's session.  @cb gets 0 (Stable, or waiting
 * for the leader's SyncGroup), or
 * GQ_EREBALANCE (join again), GQ_EMEMBER, GQ_EINSTANCE, GQ_EGENERATION,
 * GQ_EBADNAME, GQ_ENOTCOORD, GQ_ENOTREADY, GQ_ECLOSED.
 * @return 0 (cb will run), GQ_EINVAL, GQ_EBADNAME, GQ_ENOMEM, GQ_ECLOSED
 *         (cb will not).
 * Thread safety: any thread, including from inside a callback.
 */
GQ_API int gq_group_heartbeat_async(struct gq_node *node, const char *group,
				    int32_t generation, const char *member_id,
				    gq_done_cb cb, void *arg);

/**
 * LeaveGroup: remove the member now (the group rebalances without waiting
 * for its session to expire).  @cb gets 0, GQ_EMEMBER, GQ_EINSTANCE,
 * GQ_EBADNAME, GQ_ENOTCOORD, GQ_ENOTREADY, GQ_ECLOSED.
 * @return 0 (cb will run), GQ_EINVAL, GQ_EBADNAME, GQ_ENOMEM, GQ_ECLOSED
 *         (cb will not).
 * Thread safety: any thread, including from inside a callback.
 */
GQ_API int gq_group_leave_async(struct gq_node *node, const char *group,
				const char *member_id, gq_done_cb cb,
				void *arg);

/** One partition's offset in a group commit or fetch. */
struct gq_group_offset {
	const char *topic;
	int32_t partition;
	gq_offset offset;     /**< the next offset to read; -1: none */
	const char *metadata; /**< commit: borrowed, may be NULL */
	int status;           /**< out: 0, GQ_ENOTOPIC, GQ_ENOPARTITION... */
};

/**
 * Completion of gq_group_commit_async().  Runs once, on the loop thread.
 * @param status  0 when the request as a whole was valid (then each
 *                offset's own status is set), or for every offset:
 *                GQ_EGENERATION, GQ_EMEMBER, GQ_EINSTANCE, GQ_EREBALANCE,
 *                GQ_EBADNAME, GQ_ENOTCOORD, GQ_ENOTREADY, GQ_ECLOSED.
 */
typedef void (*gq_group_commit_cb)(void *arg, int status,
				   struct gq_group_offset *offsets, size_t n);

/**
 * OffsetCommit: durably store @n offsets of @group, checked against the
 * member and generation as Kafka does (@generation -1 and member "" for a
 * group that does not use the coordinator's membership).  @offsets, and
 * the topic and metadata strings it points to, stay the caller's and
 * must stay valid until @cb, which fills in each status.  Offsets are
 * stored as given (Kafka does not check them either).  Sent from another
 * node, a commit whose answer was lost ends with GQ_EUNKNOWN.
 * @return 0 (cb will run), GQ_EINVAL, GQ_EBADNAME, GQ_ENOMEM, GQ_ECLOSED
 *         (cb will not).
 * Thread safety: any thread, including from inside a callback.
 */
GQ_API int gq_group_commit_async(struct gq_node *node, const char *group,
				 int32_t generation, const char *member_id,
				 struct gq_group_offset *offsets, size_t n,
				 gq_group_commit_cb cb, void *arg);

/**
 * OffsetFetch: fill in each entry's offset (-1 when the group committed
 * none) and status, as the coordinator has them.  On the coordinator it
 * reads them at once; elsewhere it asks the coordinator and waits.
 * @return 0; GQ_ENOTCOORD (the coordinator moved or did not answer);
 *         GQ_ENOTREADY; GQ_EBADNAME; GQ_EINVAL; GQ_ECLOSED; GQ_EIO.
 * Thread safety: any thread but a loop thread.
 */
GQ_API int gq_group_offsets(struct gq_node *node, const char *group,
			    struct gq_group_offset *offsets, size_t n);

/** A committed offset of a group, with how far behind it is. */
struct gq_group_lag {
	char topic[GQ_NAME_MAX + 1];
	int32_t partition;
	gq_offset committed;
	/** The partition's high watermark as this node knows it, or -1
	 *  when no replica is here. */
	gq_offset high_watermark;
	int64_t lag; /**< high_watermark - committed, or -1 */
};

/**
 * Every offset @group committed, by topic and partition, with its lag.
 * On a cluster, call it on the coordinator for current figures; a remote
 * node (gq_node_connect()) asks the coordinator and each partition's
 * leader.
 * @param out  Owned by the caller: free with gq_group_lag_free().
 * @return 0, GQ_EBADNAME, GQ_EINVAL, GQ_ENOMEM, GQ_EIO.
 * Thread safety: any thread; on a remote node any thread but a loop
 * thread (blocking).
 */
GQ_API int gq_group_lags(struct gq_node *node, const char *group,
			 struct gq_group_lag **out, size_t *count);

/** Free what gq_group_lags() returned.  NULL is a no-op. */
GQ_API void gq_group_lag_free(struct gq_group_lag *lags);

/** A member as gq_group_describe() shows it. */
struct gq_group_member_info {
	char *member_id;
	char *group_instance_id; /**< NULL for a dynamic member */
	char *client_id;
	char *client_host;
	/** Stable groups only: the member's metadata for the chosen
	 *  protocol, and its assignment. */
	void *metadata;
	size_t metadata_len;
	void *assignment;
	size_t assignment_len;
};

/** A group as its coordinator knows it. */
struct gq_group_info {
	char *group;
	/** "Empty", "PreparingRebalance", "CompletingRebalance", "Stable",
	 *  or "Dead" for a group the coordinator does not know. */
	char *state;
	char *protocol_type; /**< "" if none yet */
	char *protocol;      /**< "" unless Stable */
	int32_t generation;
	char *leader; /**< member id, or "" */
	size_t n_members;
	struct gq_group_member_info *members;
};

/**
 * Describe @group (on its coordinator; a remote node asks the
 * coordinator, and cannot tell the generation (-1) nor the leader ("")).
 * @param out  Owned by the caller: free with gq_group_info_destroy().
 * @return 0, GQ_ENOTCOORD, GQ_ENOTREADY, GQ_EBADNAME, GQ_EINVAL,
 *         GQ_ECLOSED, GQ_ENOMEM.
 * Thread safety: any thread but a loop thread.  Blocking (briefly).
 */
GQ_API int gq_group_describe(struct gq_node *node, const char *group,
			     struct gq_group_info **out);

/** Free what gq_group_describe() returned.  NULL is a no-op. */
GQ_API void gq_group_info_destroy(struct gq_group_info *info);

/**
 * The groups this node coordinates, with their states (members are not
 * filled in: n_members is their count, members NULL); on a remote node,
 * the groups of every broker (GQ_EIO if one does not answer).
 * @param out  Owned by the caller: free with gq_group_list_free().
 * @return 0, GQ_EINVAL, GQ_ECLOSED, GQ_ENOMEM.
 * Thread safety: any thread but a loop thread.  Blocking (briefly).
 */
GQ_API int gq_group_list(struct gq_node *node, struct gq_group_info **out,
			 size_t *count);

/** Free what gq_group_list() returned.  NULL is a no-op. */
GQ_API void gq_group_list_free(struct gq_group_info *groups, size_t count);

/* ---------------------------------------------------------------------- */
/* Group consumers                                                         */
/* ---------------------------------------------------------------------- */

/*
 * A consumer in a consumer group, embedded: the partitions of the topics
 * the group's members subscribe to are divided among them, re-divided
 * when a member joins, leaves or dies, and each member reads its share
 * from the positions the group committed.  It speaks Kafka's "consumer"
 * protocol (range and roundrobin assignors, eager rebalancing), so Kafka
 * clients served by gqd can be members of the same group.
 *
 * A background thread keeps the membership (joins, heartbeats, automatic
 * commits); messages, and the assignment callbacks, come from
 * gq_consumer_poll() on the application's thread.  On a cluster the
 * consumer may run on any node; it reads partitions that have a replica
 * on its node.
 */

/** Where a consumer starts in a partition its group never committed. */
enum gq_offset_reset {
	GQ_RESET_LATEST = 0,   /**< only new messages (Kafka's default) */
	GQ_RESET_EARLIEST = 1, /**< from the log start */
};

/** A partition of a topic. */
struct gq_topic_partition {
	const char *topic;
	int32_t partition;
};

struct gq_consumer;

/**
 * The consumer's assignment changed: @parts (lent for the call) were
 * revoked, or assigned.  Runs inside gq_consumer_poll(), on its thread;
 * it may call gq_consumer_commit(), gq_consumer_seek() and the other
 * calls, but not gq_consumer_poll() or gq_consumer_close().
 */
typedef void (*gq_rebalance_cb)(void *arg, struct gq_consumer *consumer,
				const struct gq_topic_partition *parts,
				size_t n);

/** Consumer settings; gq_consumer_options_init() fills the defaults. */
struct gq_consumer_options {
	const char *group;             /**< required */
	const char *client_id;         /**< "goqueue" */
	const char *assignor;          /**< "range" (default) or "roundrobin" */
	uint32_t session_timeout_ms;   /**< 10000 */
	uint32_t rebalance_timeout_ms; /**< 30000 */
	uint32_t heartbeat_interval_ms;    /**< 1000 */
	bool auto_commit;                  /**< true */
	uint32_t auto_commit_interval_ms;  /**< 5000 */
	enum gq_offset_reset offset_reset; /**< GQ_RESET_LATEST */
	gq_rebalance_cb on_assign;         /**< NULL: none */
	gq_rebalance_cb on_revoke;         /**< NULL: none */
	void *cb_arg;
	uint64_t reserved[8];
};

/** Fill @opts with the defaults above (group NULL). */
GQ_API void gq_consumer_options_init(struct gq_consumer_options *opts);

/**
 * Create a consumer of group @opts->group on @node (@opts and its strings
 * are copied).  It joins the group at gq_consumer_subscribe().
 * @param out  Free with gq_consumer_close().
 * @return 0, GQ_EINVAL, GQ_EBADNAME, GQ_ENOMEM.
 * Thread safety: any thread.
 */
GQ_API int gq_consumer_create(struct gq_node *node,
			      const struct gq_consumer_options *opts,
			      struct gq_consumer **out);

/**
 * Subscribe to @n >= 1 topics (replacing any earlier subscription) and
 * join the group.  Topics that do not exist get partitions at the first
 * rebalance after they do.
 * @return 0, GQ_EINVAL, GQ_EBADNAME, GQ_ENOMEM.
 * Thread safety: the consumer's thread (the one that polls).
 */
GQ_API int gq_consumer_subscribe(struct gq_consumer *consumer,
				 const char *const *topics, size_t n);

/** A message gq_consumer_poll() returned. */
struct gq_consumer_message {
	const char *topic; /**< lent until the next poll */
	int32_t partition;
	struct gq_record record; /**< its pointers lent likewise */
};

/**
 * Wait up to @timeout_ms for the next message of the assignment.
 * Rebalance callbacks run from here, and with auto_commit, positions are
 * committed before partitions are revoked.  A partition whose next batch
 * cannot be read returns the error at each poll until the application
 * seeks past it.
 * @return 1 (@out filled), 0 (none in time), GQ_EINVAL, GQ_ECLOSED,
 *         GQ_ECORRUPT, GQ_EUNSUPPORTED, GQ_ENOMEM, or the error that
 *         stopped the membership for good (GQ_EGROUPPROTOCOL,
 *         GQ_ESESSION...).
 * Thread safety: one thread, the consumer's.
 */
GQ_API int gq_consumer_poll(struct gq_consumer *consumer, uint32_t timeout_ms,
			    struct gq_consumer_message *out);

/**
 * Header @i (0-based, < record.header_count) of the message
 * gq_consumer_poll() returned last, as gq_fetch_header() reads them.
 * Pointers lent as the message's: until the next poll, or a seek of its
 * partition.
 * @return 0, or GQ_EINVAL (no such header, or no message lent now).
 * Thread safety: the consumer's thread.
 */
GQ_API int gq_consumer_header(struct gq_consumer *consumer, size_t i,
			      struct gq_header *out);

/**
 * Commit the position (the offset after the last message polled, or
 * where it was sought) of every assigned partition, and wait until the
 * coordinator stored them.  Positions are committed only in the
 * generation that assigned the partitions.
 * @return 0, GQ_EREBALANCE / GQ_EGENERATION / GQ_EMEMBER (the group moved
 *         on: these partitions may belong to another member now),
 *         GQ_ENOTCOORD, GQ_ENOTREADY, GQ_EUNKNOWN, GQ_ECLOSED, GQ_ENOMEM,
 *         GQ_EINVAL, or a partition's own error (GQ_ENOTOPIC...).
 * Thread safety: the consumer's thread.
 */
GQ_API int gq_consumer_commit(struct gq_consumer *consumer);

/**
 * Commit as gq_consumer_commit() but without waiting: @cb (may be NULL)
 * reports the outcome, on the node's loop thread.
 * @return 0 (cb will run), GQ_EINVAL, GQ_EREBALANCE, GQ_ENOMEM,
 *         GQ_ECLOSED (cb will not).
 * Thread safety: the consumer's thread.
 */
GQ_API int gq_consumer_commit_async(struct gq_consumer *consumer, gq_done_cb cb,
				    void *arg);

/**
 * Make the next poll of an assigned partition read from @offset (or
 * GQ_OFFSET_EARLIEST / GQ_OFFSET_LATEST).
 * @return 0, GQ_EINVAL (not assigned), GQ_ECLOSED.
 * Thread safety: the consumer's thread.
 */
GQ_API int gq_consumer_seek(struct gq_consumer *consumer, const char *topic,
			    int32_t partition, gq_offset offset);

/**
 * Stop (pause) or restart (resume) reading an assigned partition; the
 * member keeps it.  A new assignment starts unpaused.
 * @return 0, GQ_EINVAL (not assigned).
 * Thread safety: the consumer's thread.
 */
GQ_API int gq_consumer_pause(struct gq_consumer *consumer, const char *topic,
			     int32_t partition);
GQ_API int gq_consumer_resume(struct gq_consumer *consumer, const char *topic,
			      int32_t partition);

/**
 * The current assignment with each partition's position (-1 until it is
 * known), sorted by topic and partition.
 * @param parts      Owned by the caller: free with
 *                   gq_consumer_assignment_free().
 * @param positions  Owned likewise (NULL: not wanted).
 * @return 0, GQ_ENOMEM.
 * Thread safety: the consumer's thread.
 */
GQ_API int gq_consumer_assignment(struct gq_consumer *consumer,
				  struct gq_topic_partition **parts,
				  gq_offset **positions, size_t *n);

/** Free what gq_consumer_assignment() returned.  NULLs are no-ops. */
GQ_API void gq_consumer_assignment_free(struct gq_topic_partition *parts,
					gq_offset *positions, size_t n);

/**
 * Leave the group promptly (on_revoke runs, and with auto_commit the
 * positions are committed first) and free the consumer.  The others take
 * its partitions without waiting for its session to expire.  A join in
 * progress is finished first (at most the rebalance timeout).  NULL is a
 * no-op.
 * Thread safety: the consumer's thread; not from a callback.
 */
GQ_API void gq_consumer_close(struct gq_consumer *consumer);

#ifdef __cplusplus
}
#endif

#endif /* GOQUEUE_H */
