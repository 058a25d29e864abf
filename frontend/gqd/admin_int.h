/* SPDX-License-Identifier: MIT */
/*
 * admin_int.h - what the admin port's modules share (private to gqd):
 * the request a route handler answers, the helpers that set its answer
 * or check its body, and the REST handlers of admin_v1.c and
 * admin_reset.c that admin.c routes to.
 *
 * A handler reads the request (method, decoded path parameters, the
 * parsed JSON body) and sets exactly one answer with gqd_admin_json(),
 * gqd_admin_text() or one of the error helpers; admin.c sends it.
 */
#ifndef GQD_ADMIN_INT_H
#define GQD_ADMIN_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <goqueue.h>
#include <jansson.h>

#include "admin.h"

/* Decoded path segments a route captures ("{name}", "{p}"). */
#define GQD_ADMIN_PARAMS_MAX 4

struct gqd_admin_req {
	struct gqd_admin *admin;
	struct gq_node *node; /* NULL while the node opens */
	const char *method;   /* "GET" (also for HEAD), "POST", "PATCH"... */
	const char *path;     /* as sent, for messages and logs */
	const char *params[GQD_ADMIN_PARAMS_MAX]; /* percent-decoded */
	json_t *body; /* the JSON object sent, or NULL: borrowed */

	/* The answer. */
	unsigned status;
	const char *content_type;
	char *text; /* owned (malloc) */
	size_t text_len;
	char allow[48];                  /* for 405: the methods allowed */
	char error[GQ_ERRMSG_SIZE + 64]; /* for the access log */
};

/* Answer @status with @j (stolen; NULL answers 500 "out of memory"). */
void gqd_admin_json(struct gqd_admin_req *r, unsigned status, json_t *j);

/* Answer @status with @text (@len bytes, owned: malloc'ed, taken over)
 * of @content_type (a static string). */
void gqd_admin_text(struct gqd_admin_req *r, unsigned status,
		    const char *content_type, char *text, size_t len);

/* Answer @status with {"error": message, "code": @code}. */
void gqd_admin_error(struct gqd_admin_req *r, unsigned status, const char *code,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Answer the library error @rv of a call on @r->node about @what (a
 * topic, a group...; may be NULL), with the status it calls for (400
 * bad input, 404 unknown topic or partition, 409 exists, 421 not the
 * group's coordinator, 503 not ready / no controller / timed out, 500
 * otherwise) and the node's detail of the failure. */
void gqd_admin_gq_error(struct gqd_admin_req *r, int rv, const char *what);

/* "GQ_EINVAL" for GQ_EINVAL, and so on ("GQ_EUNKNOWN_CODE" for others). */
const char *gqd_admin_code(int rv);

/* Parse @s as a decimal integer within [min, max]. */
bool gqd_admin_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* This node's id. */
int32_t gqd_admin_broker_id(const struct gqd_admin *a);

/* The defaults of a new topic as gqd runs now (a reload may change
 * them): its partitions, replication factor and configuration (*@base,
 * owned by the caller; NULL for the library's defaults).  Returns 0 or
 * GQ_ENOMEM. */
int gqd_admin_topic_defaults(struct gqd_admin *a, int32_t *partitions,
			     int16_t *replication_factor,
			     struct gq_config **base);

/* Run @fn(@arg) on the daemon's loop with its running configuration.
 * Returns 0, GQ_ENOTREADY (the Kafka listener does not run yet) or
 * GQ_ECLOSED (shutting down). */
int gqd_admin_on_loop(struct gqd_admin *a,
		      void (*fn)(const struct gqd_admin_daemon *d, void *arg),
		      void *arg);

/* Every member of @r's body is one of @allowed (NULL-terminated); false
 * with a 400 set otherwise. */
bool gqd_admin_body_only(struct gqd_admin_req *r, const char *const *allowed);

/* The body's integer member @name within [min, max] into @out; absent
 * leaves @out alone unless @required.  False with a 400 set. */
bool gqd_admin_body_int(struct gqd_admin_req *r, const char *name,
			bool required, int64_t min, int64_t max, int64_t *out);

/* After gq_group_describe() said GQ_ENOTCOORD: answer 421 naming the
 * group's coordinator and return true, or false (nothing answered) when
 * the coordinator is not known either. */
bool gqd_admin_misdirected(struct gqd_admin_req *r, const char *group);

/* The REST handlers (admin_v1.c; admin_reset.c for reset-offsets). */
void gqd_admin_v1_cluster(struct gqd_admin_req *r);
void gqd_admin_v1_brokers(struct gqd_admin_req *r);
void gqd_admin_v1_broker_remove(struct gqd_admin_req *r);
void gqd_admin_v1_topics(struct gqd_admin_req *r);
void gqd_admin_v1_topic_create(struct gqd_admin_req *r);
void gqd_admin_v1_topic(struct gqd_admin_req *r);
void gqd_admin_v1_topic_delete(struct gqd_admin_req *r);
void gqd_admin_v1_topic_alter(struct gqd_admin_req *r);
void gqd_admin_v1_move_leader(struct gqd_admin_req *r);
void gqd_admin_v1_reassign(struct gqd_admin_req *r);
void gqd_admin_v1_groups(struct gqd_admin_req *r);
void gqd_admin_v1_group(struct gqd_admin_req *r);
void gqd_admin_v1_group_reset_offsets(struct gqd_admin_req *r);
void gqd_admin_v1_config(struct gqd_admin_req *r);
void gqd_admin_v1_config_reload(struct gqd_admin_req *r);

#endif /* GQD_ADMIN_INT_H */
