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

/* A blocking library call for a request, run in the libuv threadpool. */
struct gqd_blocking {
	uv_work_t work;
	struct gqd_req *req;
	void (*run)(struct gqd_blocking *b);  /* threadpool */
	void (*done)(struct gqd_blocking *b); /* loop */
	void *data;
};

/* Run @run(b) in the threadpool, then @done(b) on the loop, counted as
 * one operation of @req.  0, -ENOMEM or -EAGAIN (nothing will run). */
int gqd_run_blocking(struct gqd_req *req, void (*run)(struct gqd_blocking *),
		     void (*done)(struct gqd_blocking *), void *data);

/* The data-path handlers (handlers_data.c). */
void gqd_handle_produce(struct gqd_req *req);
void gqd_handle_fetch(struct gqd_req *req);
void gqd_handle_list_offsets(struct gqd_req *req);
void gqd_handle_init_producer_id(struct gqd_req *req);

#endif /* GQD_HANDLERS_H */
