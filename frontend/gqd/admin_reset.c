/* SPDX-License-Identifier: MIT */
/*
 * admin_reset.c - POST /v1/groups/{group}/reset-offsets (route in
 * admin.c, body and answer in gqd(8)): move a group's committed offsets
 * in one topic, as kafka-consumer-groups.sh --reset-offsets does.
 *
 * Only a group without members is reset (Empty, or unknown to the
 * coordinator, "Dead"): a member would commit its own positions over the
 * new ones.  This is checked twice: gq_group_describe() first, for a 409
 * that says so, then by the commit itself, a checked one (generation -1,
 * no member id) that the coordinator refuses once a member has joined,
 * so a consumer starting in between cannot lose the race silently.
 * Targets come from this node's replicas (gq_list_offsets()), clamped to
 * [log start, high watermark]; a shift moves from the committed offset.
 * Public API only, on the admin port's thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "admin_int.h"

enum reset_to {
	RESET_EARLIEST,
	RESET_LATEST,
	RESET_OFFSET,
	RESET_TIMESTAMP,
	RESET_SHIFT,
};

static const char *const reset_names[] = { "earliest", "latest", "offset",
					   "timestamp", "shift" };

#define N_RESET_NAMES (sizeof(reset_names) / sizeof(reset_names[0]))

struct reset_part {
	int32_t partition;
	gq_offset old; /* committed, -1: none */
	gq_offset log_start;
	gq_offset high_watermark;
	gq_offset target; /* -1: left alone (shift without a commit) */
};

/* A checked commit waited for from the admin thread. */
struct reset_commit {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int status;
};

/* On the loop thread. */
static void
reset_committed(void *arg, int status, struct gq_group_offset *o, size_t n)
{
	struct reset_commit *w = arg;

	for (size_t i = 0; status == 0 && i < n; i++)
		status = o[i].status;
	pthread_mutex_lock(&w->mu);
	w->status = status;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Commit the targets of @parts as a group without members would. */
static int
reset_commit(struct gq_node *node, const char *group, const char *topic,
	     const struct reset_part *parts, size_t n)
{
	struct gq_group_offset *o;
	struct reset_commit w;
	size_t k = 0;
	int rv;

	if ((o = calloc(n, sizeof(*o))) == NULL)
		return GQ_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (parts[i].target < 0)
			continue;
		o[k].topic = topic;
		o[k].partition = parts[i].partition;
		o[k].offset = parts[i].target;
		k++;
	}
	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	rv = gq_group_commit_async(node, group, -1, "", o, k, reset_committed,
				   &w);
	if (rv == 0) {
		pthread_mutex_lock(&w.mu);
		while (!w.done)
			pthread_cond_wait(&w.cv, &w.mu);
		rv = w.status;
		pthread_mutex_unlock(&w.mu);
	}
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	free(o);
	return rv;
}

/* The body's "partitions" (absent: every one of the topic's @n) into
 * @parts; *named tells which.  False with a 400/404 set. */
static bool
reset_partitions(struct gqd_admin_req *r, const char *topic, int32_t n,
		 struct reset_part **parts, size_t *count, bool *named)
{
	json_t *a = json_object_get(r->body, "partitions"), *v;
	size_t i, k;

	*named = a != NULL;
	if (a != NULL && (!json_is_array(a) || json_array_size(a) == 0)) {
		gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
				"'partitions' must be an array of partition "
				"numbers");
		return false;
	}
	*count = a != NULL ? json_array_size(a) : (size_t)n;
	if ((*parts = calloc(*count, sizeof(**parts))) == NULL) {
		gqd_admin_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "GQ_ENOMEM",
				"out of memory");
		return false;
	}
	for (i = 0; i < *count; i++)
		(*parts)[i].partition = (int32_t)i;
	json_array_foreach(a, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > INT32_MAX) {
			gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
					"'partitions' must hold partition "
					"numbers >= 0");
			goto err_free;
		}
		if (json_integer_value(v) >= n) {
			gqd_admin_error(
				r, MHD_HTTP_NOT_FOUND, "GQ_ENOPARTITION",
				"topic '%s' has no partition %lld", topic,
				(long long)json_integer_value(v));
			goto err_free;
		}
		(*parts)[i].partition = (int32_t)json_integer_value(v);
		for (k = 0; k < i; k++) {
			if ((*parts)[k].partition == (*parts)[i].partition) {
				gqd_admin_error(r, MHD_HTTP_BAD_REQUEST,
						"GQ_EINVAL",
						"partition %d is listed twice",
						(int)(*parts)[i].partition);
				goto err_free;
			}
		}
	}
	return true;
err_free:
	free(*parts);
	*parts = NULL;
	return false;
}

/* "to" and "value" of the body.  False with a 400 set. */
static bool
reset_mode(struct gqd_admin_req *r, enum reset_to *to, int64_t *value)
{
	json_t *v = json_object_get(r->body, "to");
	size_t i;

	for (i = 0; json_is_string(v) && i < N_RESET_NAMES; i++)
		if (strcmp(json_string_value(v), reset_names[i]) == 0)
			break;
	if (!json_is_string(v) || i == N_RESET_NAMES) {
		gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
				"'to' must be one of earliest, latest, offset, "
				"timestamp, shift");
		return false;
	}
	*to = (enum reset_to)i;
	*value = 0;
	switch (*to) {
	case RESET_EARLIEST:
	case RESET_LATEST:
		if (json_object_get(r->body, "value") == NULL)
			return true;
		gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
				"'value' does not go with \"to\": \"%s\"",
				reset_names[i]);
		return false;
	case RESET_SHIFT:
		return gqd_admin_body_int(r, "value", true, INT64_MIN,
					  INT64_MAX, value);
	default:
		return gqd_admin_body_int(r, "value", true, 0, INT64_MAX,
					  value);
	}
}

/* Where @p goes; 0 or the error of gq_list_offsets(). */
static int
reset_target(struct gq_node *node, const char *topic, enum reset_to to,
	     int64_t value, struct reset_part *p)
{
	gq_offset lo, hi, at;
	int rv;

	if ((rv = gq_list_offsets(node, topic, p->partition, GQ_OFFSET_EARLIEST,
				  &lo)) != 0 ||
	    (rv = gq_list_offsets(node, topic, p->partition, GQ_OFFSET_LATEST,
				  &hi)) != 0)
		return rv;
	p->log_start = lo;
	p->high_watermark = hi;
	switch (to) {
	case RESET_EARLIEST:
		at = lo;
		break;
	case RESET_LATEST:
		at = hi;
		break;
	case RESET_TIMESTAMP:
		if ((rv = gq_list_offsets(node, topic, p->partition, value,
					  &at)) != 0)
			return rv;
		break;
	case RESET_SHIFT:
		if (p->old < 0) {
			p->target = -1;
			return 0;
		}
		/* Compared, not added, so that no sum overflows. */
		at = value > hi - p->old   ? hi
		     : value < lo - p->old ? lo
					   : p->old + value;
		break;
	case RESET_OFFSET:
	default:
		at = value;
		break;
	}
	/* Into what the partition holds, as Kafka's tool does. */
	p->target = at < lo ? lo : at > hi ? hi : at;
	return 0;
}

static json_t *
reset_json(const char *group, const char *topic, enum reset_to to, bool dry_run,
	   const struct reset_part *parts, size_t n)
{
	json_t *a = json_array(), *o;

	for (size_t i = 0; a != NULL && i < n; i++) {
		const struct reset_part *p = &parts[i];

		o = json_pack(
			"{s:i, s:o, s:o, s:I, s:I, s:b}", "partition",
			(int)p->partition, "old",
			p->old >= 0 ? json_integer(p->old) : json_null(), "new",
			p->target >= 0 ? json_integer(p->target) : json_null(),
			"log_start", (json_int_t)p->log_start, "high_watermark",
			(json_int_t)p->high_watermark, "applied",
			!dry_run && p->target >= 0);
		json_array_append_new(a, o);
	}
	return json_pack("{s:s, s:s, s:s, s:b, s:o}", "group", group, "topic",
			 topic, "to", reset_names[to], "dry_run", dry_run,
			 "partitions", a);
}

/* The group's offsets of @parts into each one's old; false with the
 * error answered. */
static bool
reset_old(struct gqd_admin_req *r, const char *group, const char *topic,
	  struct reset_part *parts, size_t n)
{
	struct gq_group_offset *o;
	int rv;

	if ((o = calloc(n, sizeof(*o))) == NULL) {
		gqd_admin_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "GQ_ENOMEM",
				"out of memory");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		o[i].topic = topic;
		o[i].partition = parts[i].partition;
	}
	rv = gq_group_offsets(r->node, group, o, n);
	for (size_t i = 0; rv == 0 && i < n; i++) {
		rv = o[i].status;
		parts[i].old = o[i].offset;
	}
	free(o);
	if (rv != 0)
		gqd_admin_gq_error(r, rv, group);
	return rv == 0;
}

/* Answer the commit's failure @rv: a member that joined since
 * reset_allowed() is the same 409, a coordinator that moved or is not
 * ready a 503. */
static void
reset_commit_failed(struct gqd_admin_req *r, const char *group, int rv)
{
	unsigned status = MHD_HTTP_INTERNAL_SERVER_ERROR;

	if (rv == GQ_EMEMBER || rv == GQ_EGENERATION || rv == GQ_EREBALANCE) {
		gqd_admin_error(r, MHD_HTTP_CONFLICT, "GQ_EBUSY",
				"group '%s' got a member during the reset: "
				"stop its consumers first",
				group);
		return;
	}
	if (rv == GQ_ENOTCOORD || rv == GQ_ENOTREADY || rv == GQ_EUNKNOWN ||
	    rv == GQ_ETIMEDOUT || rv == GQ_ECLOSED)
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
	gqd_admin_error(r, status, gqd_admin_code(rv),
			"committing the offsets of group '%s': %s", group,
			gq_strerror(rv));
}

/* A group with members keeps its offsets: 409.  Returns false with the
 * answer set when the reset cannot go on. */
static bool
reset_allowed(struct gqd_admin_req *r, const char *group)
{
	struct gq_group_info *g;
	int rv;

	rv = gq_group_describe(r->node, group, &g);
	if (rv == GQ_ENOTCOORD && gqd_admin_misdirected(r, group))
		return false;
	if (rv != 0) {
		gqd_admin_gq_error(r, rv, group);
		return false;
	}
	if (strcmp(g->state, "Empty") != 0 && strcmp(g->state, "Dead") != 0) {
		gqd_admin_error(r, MHD_HTTP_CONFLICT, "GQ_EBUSY",
				"group '%s' has %zu active member%s (state "
				"%s): stop its consumers first, their commits "
				"would overwrite the reset",
				group, g->n_members,
				g->n_members == 1 ? "" : "s", g->state);
		gq_group_info_destroy(g);
		return false;
	}
	gq_group_info_destroy(g);
	return true;
}

void
gqd_admin_v1_group_reset_offsets(struct gqd_admin_req *r)
{
	static const char *const members[] = { "topic", "partitions", "to",
					       "value", "dry_run",    NULL };
	const char *group = r->params[0];
	struct gq_topic_info *info;
	struct reset_part *parts = NULL;
	const char *topic;
	json_t *v;
	enum reset_to to;
	int64_t value;
	bool dry_run = false, named, any = false;
	size_t n = 0;
	int32_t n_topic;
	int rv;

	if (r->body == NULL) {
		gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
				"a JSON body is required: {\"topic\": ..., "
				"\"to\": \"earliest\"|\"latest\"|\"offset\"|"
				"\"timestamp\"|\"shift\", \"value\": ..., "
				"\"partitions\": [...], \"dry_run\": ...}");
		return;
	}
	if (!gqd_admin_body_only(r, members))
		return;
	v = json_object_get(r->body, "topic");
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
				"'topic' must be a string");
		return;
	}
	topic = json_string_value(v);
	v = json_object_get(r->body, "dry_run");
	if (v != NULL && !json_is_boolean(v)) {
		gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
				"'dry_run' must be true or false");
		return;
	}
	dry_run = json_is_true(v);
	if (!reset_mode(r, &to, &value))
		return;
	if ((rv = gq_topic_describe(r->node, topic, &info)) != 0) {
		gqd_admin_gq_error(r, rv, topic);
		return;
	}
	n_topic = gq_topic_info_partitions(info);
	gq_topic_info_destroy(info);
	if (!reset_partitions(r, topic, n_topic, &parts, &n, &named))
		return;
	if (!reset_allowed(r, group) || !reset_old(r, group, topic, parts, n))
		goto out;
	for (size_t i = 0; i < n; i++) {
		rv = reset_target(r->node, topic, to, value, &parts[i]);
		if (rv != 0) {
			char what[GQ_NAME_MAX + 32];

			snprintf(what, sizeof(what), "%s/%d", topic,
				 (int)parts[i].partition);
			gqd_admin_gq_error(r, rv, what);
			goto out;
		}
		/* A shift moves from a committed offset: one that was
		 * named must have one. */
		if (parts[i].target < 0 && named) {
			gqd_admin_error(r, MHD_HTTP_CONFLICT, "GQ_EOFFSET",
					"group '%s' has no committed offset "
					"in %s/%d to shift",
					group, topic, (int)parts[i].partition);
			goto out;
		}
		any = any || parts[i].target >= 0;
	}
	if (!any) {
		gqd_admin_error(r, MHD_HTTP_CONFLICT, "GQ_EOFFSET",
				"group '%s' has no committed offset in topic "
				"'%s' to shift",
				group, topic);
		goto out;
	}
	if (!dry_run &&
	    (rv = reset_commit(r->node, group, topic, parts, n)) != 0) {
		reset_commit_failed(r, group, rv);
		goto out;
	}
	gqd_admin_json(r, MHD_HTTP_OK,
		       reset_json(group, topic, to, dry_run, parts, n));
out:
	free(parts);
}
