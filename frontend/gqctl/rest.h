/* SPDX-License-Identifier: MIT */
/*
 * rest.h - calls to gqd's admin HTTP API: one libcurl easy handle reused
 * for every request of a gqctl run (keep-alive), JSON bodies through
 * jansson, and the mapping of every failure to an exit code and one
 * "gqctl: <what>: <why>" line, so commands never look at HTTP themselves.
 *
 * Mapping (gqctl(1), EXIT STATUS): a 2xx answer is GQCTL_OK; no answer at
 * all (connection refused, name not resolved, timeout) and 503 (the node is
 * not ready, or has no controller) are GQCTL_UNREACHABLE, since retrying
 * later may work; any other answer is GQCTL_FAILED, with the server's
 * {"error": ..., "code": ...} in the message.
 */
#ifndef GQCTL_REST_H
#define GQCTL_REST_H

#include <jansson.h>

#include "gqctl.h"

/*
 * Send @method @path (already percent-encoded, starting with '/') to the
 * admin port, with @body (borrowed; NULL for none) as JSON.  On GQCTL_OK,
 * *out (if not NULL) is the answer's JSON (owned: json_decref()), or NULL
 * when the answer has no body.  On failure the error is printed with
 * @what ("topic create orders") and *out is NULL.
 * @return GQCTL_OK, GQCTL_FAILED or GQCTL_UNREACHABLE.
 */
int rest_call(struct gqctl *g, const char *what, const char *method,
	      const char *path, json_t *body, json_t **out);

/* rest_call() for GET. */
int rest_get(struct gqctl *g, const char *what, const char *path, json_t **out);

/*
 * Percent-encode @s for one path segment.  Returns a string owned by the
 * caller (free()), or NULL when out of memory (reported).
 */
char *rest_escape(const char *s);

/* Release the connection and libcurl; safe when nothing was opened. */
void rest_close(struct gqctl *g);

/*
 * Typed reads of the answer's fields, for the commands.  Each returns the
 * member @key of object @o converted, or @def when it is absent or of
 * another type: the server may add fields, and an older one may lack some.
 */
long long rest_int(const json_t *o, const char *key, long long def);
const char *rest_str(const json_t *o, const char *key, const char *def);
bool rest_bool(const json_t *o, const char *key, bool def);

/* The integers of array @a as "1,2,3" into @buf ("-" when empty or not an
 * array), cut to fit. */
void rest_ids(const json_t *a, char *buf, size_t size);

#endif /* GQCTL_REST_H */
