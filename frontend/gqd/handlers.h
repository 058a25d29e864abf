/* SPDX-License-Identifier: MIT */
/*
 * handlers.h - what the Kafka API handlers share (private to gqd): error
 * mapping, request-arena helpers, library completions handed back to
 * gqd's loop, and the handlers that live in handlers_data.c,
 * handlers_admin.c and handlers_group.c.
 */
#ifndef GQD_HANDLERS_H
#define GQD_HANDLERS_H

#include <goqueue.h>
#include <stdbool.h>
#include <uv.h>

#include "server.h"

/* The Kafka error code clients expect for a libgoqueue error: retriable
 * conditions are never UNKNOWN_SERVER_ERROR. */
int16_t gqd_kafka_err(int rv);

/* Copy a protocol string into a topic-name buffer; false if it cannot be
 * a name (null, empty or too long). */
bool gqd_name_of(struct gqk_str s, char out[GQ_NAME_MAX + 1]);

/* @n zeroed elements of @size bytes from the request's arena, or NULL. */
void *gqd_arena(struct gqd_req *req, size_t n, size_t size);

/* A copy of @s in the request's arena ("" when out of memory). */
struct gqk_str gqd_arena_str(struct gqd_req *req, const char *s);

/* Where Kafka clients reach a broker, as Metadata lists it: this node as
 * it listens (@reg NULL), or another as it registered with the controller
 * (@reg, borrowed).  Strings go to the request's arena.  False when @reg is
 * not alive or registered no client address. */
bool gqd_broker_endpoint(struct gqd_req *req, const struct gq_broker_info *reg,
			 struct gqk_metadata_broker *out);

/* Nothing sensible can be answered (out of memory): drop the connection;
 * clients reconnect and retry. */
void gqd_fail_close(struct gqd_req *req);

/* A library call made for a request: its completion, which arrives on
 * the node's thread, is handed to @fn on gqd's loop. */
struct gqd_async {
	struct gqd_req *req;
	void (*fn)(struct gqd_async *a); /* on gqd's loop, then freed */
	void *data;
	int index;
	int status;
	char errmsg[GQ_ERRMSG_SIZE];
	int64_t id;
	int16_t epoch;
	/* Set before gqd_async_started() for a call that may stay parked in
	 * a group rebalance (gqd_req_op_start_parked()). */
	bool parked;
};

/* A completion record for @req, or NULL when out of memory. */
struct gqd_async *gqd_async_new(struct gqd_req *req,
				void (*fn)(struct gqd_async *), void *data,
				int index);

/* The library call given @a returned @rv: on 0 the completion is counted
 * as an operation of the request (a parked one if @a->parked); otherwise
 * @a is freed. */
void gqd_async_started(struct gqd_async *a, int rv);

/* Hand @a, its outcome recorded, to gqd's loop (from the node's loop
 * thread, where library callbacks run): @a->fn runs there, then @a is
 * freed and the operation counted done. */
void gqd_async_post(struct gqd_async *a);

/* Library callbacks (gq_done_cb, gq_producer_id_cb) taking a gqd_async. */
void gqd_async_done(void *arg, int status, const char *errmsg);
void gqd_async_producer_id(void *arg, int status, int64_t id, int16_t epoch);

/* The data-path handlers (handlers_data.c). */
void gqd_handle_produce(struct gqd_req *req);
void gqd_handle_fetch(struct gqd_req *req);
void gqd_handle_list_offsets(struct gqd_req *req);
void gqd_handle_init_producer_id(struct gqd_req *req);

/* The topic admin handlers (handlers_admin.c): CreateTopics, DeleteTopics
 * and IncrementalAlterConfigs answer once every topic's library call has
 * completed; DescribeConfigs at once. */
void gqd_handle_create_topics(struct gqd_req *req);
void gqd_handle_delete_topics(struct gqd_req *req);
void gqd_handle_incremental_alter_configs(struct gqd_req *req);
void gqd_handle_describe_configs(struct gqd_req *req);

/* The consumer-group handlers (handlers_group.c): FindCoordinator,
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
 * DescribeGroups and ListGroups, served by the node's group coordinator. */
void gqd_handle_find_coordinator(struct gqd_req *req);
void gqd_handle_join_group(struct gqd_req *req);
void gqd_handle_sync_group(struct gqd_req *req);
void gqd_handle_heartbeat(struct gqd_req *req);
void gqd_handle_leave_group(struct gqd_req *req);
void gqd_handle_offset_commit(struct gqd_req *req);
void gqd_handle_offset_fetch(struct gqd_req *req);
void gqd_handle_describe_groups(struct gqd_req *req);
void gqd_handle_list_groups(struct gqd_req *req);

#endif /* GQD_HANDLERS_H */
