/* SPDX-License-Identifier: MIT */
/*
 * handlers.h - what the Kafka API handlers share (private to gqd): error
 * mapping, request-arena helpers, blocking library calls run in the
 * threadpool, and the handlers that live in handlers_data.c.
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
};

/* A completion record for @req, or NULL when out of memory. */
struct gqd_async *gqd_async_new(struct gqd_req *req,
				void (*fn)(struct gqd_async *), void *data,
				int index);

/* The library call given @a returned @rv: on 0 the completion is counted
 * as an operation of the request; otherwise @a is freed. */
void gqd_async_started(struct gqd_async *a, int rv);

/* Library callbacks (gq_done_cb, gq_producer_id_cb) taking a gqd_async. */
void gqd_async_done(void *arg, int status, const char *errmsg);
void gqd_async_producer_id(void *arg, int status, int64_t id, int16_t epoch);

/* The data-path handlers (handlers_data.c). */
void gqd_handle_produce(struct gqd_req *req);
void gqd_handle_fetch(struct gqd_req *req);
void gqd_handle_list_offsets(struct gqd_req *req);
void gqd_handle_init_producer_id(struct gqd_req *req);

#endif /* GQD_HANDLERS_H */
