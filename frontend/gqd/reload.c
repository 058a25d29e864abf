/* SPDX-License-Identifier: MIT */
/*
 * reload.c - applying a re-read configuration (see reload.h).
 *
 * Invariant: the running configuration changes only in keys of reload
 * class GQD_RELOAD_YES, and a key is reported as applied only once it
 * really runs with the new value (a log file that cannot be opened stays
 * the old one and is reported in log_error instead).
 */
#include "reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void
gqd_reload_failed(struct gqd_reload_outcome *out, int rv, const char *err)
{
	char q[600];

	memset(out, 0, sizeof(*out));
	out->status = rv != 0 ? rv : GQ_EINVAL;
	snprintf(out->error, sizeof(out->error), "%s", err);
	gqd_log(GQ_LOG_ERROR, "reload failed, configuration unchanged",
		"error=%s", gqd_log_quote(q, sizeof(q), err));
}

static void
note(const struct gqd_config_key **list, size_t *n,
     const struct gqd_config_key *k)
{
	if (*n < GQD_RELOAD_KEYS_MAX)
		list[(*n)++] = k;
}

static bool
is_topic_key(const struct gqd_config_key *k)
{
	for (size_t i = 0; i < GQD_N_TOPIC_KEYS; i++)
		if (strcmp(k->name, gqd_topic_keys[i]) == 0)
			return true;
	return false;
}

/* @k's value in @c as text; a library key as the library prints it
 * (gq_topic_info_config()): the value set, or the key's default, so that
 * a key set to its default and a key not set compare equal.  False if
 * that cannot be had. */
static bool
value_of(const struct gqd_config *c, const struct gqd_config_key *k,
	 struct gq_config *scratch, char *buf, size_t len)
{
	const char *v;

	if (gqd_config_format(c, k->name, buf, len) != 0)
		return false;
	if (!k->library)
		return true;
	if (buf[0] == '\0')
		snprintf(buf, len, "%s", k->def);
	if (buf[0] == '\0')
		return true;
	if (gq_config_set(scratch, k->name, buf, NULL) != 0 ||
	    (v = gq_config_get(scratch, k->name)) == NULL)
		return false;
	snprintf(buf, len, "%s", v);
	return true;
}

static void
topic_altered(void *arg, int status, const char *errmsg)
{
	char q[600];

	if (status == 0)
		gqd_log(GQ_LOG_INFO, "topic follows the reloaded defaults",
			"topic=%s", (char *)arg);
	else
		gqd_log(GQ_LOG_WARN, "cannot apply reloaded defaults to topic",
			"topic=%s error=%s", (char *)arg,
			gqd_log_quote(q, sizeof(q), errmsg));
	free(arg);
}

/* Alter @name to the new value of each of the @n keys @keys whose value
 * it has is the old default @old[i].  True if an alter started. */
static bool
follow(struct gq_node *node, const char *name,
       const struct gqd_config_key *const *keys, size_t n, char (*old)[64],
       char (*nw)[64])
{
	struct gq_config *changes = NULL;
	struct gq_topic_info *info;
	char *copy;
	bool started = false;

	if (gq_topic_describe(node, name, &info) != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *v = gq_config_get(gq_topic_info_config(info),
					      keys[i]->name);

		if (v == NULL || strcmp(v, old[i]) != 0)
			continue;
		if ((changes == NULL && gq_config_create(&changes) != 0) ||
		    gq_config_set(changes, keys[i]->name, nw[i], NULL) != 0)
			goto out;
	}
	if (changes == NULL || (copy = strdup(name)) == NULL)
		goto out;
	if (gq_topic_alter_async(node, name, changes, topic_altered, copy) == 0)
		started = true;
	else
		topic_altered(copy, GQ_EINVAL, gq_node_errmsg(node));
out:
	gq_config_destroy(changes);
	gq_topic_info_destroy(info);
	return started;
}

/* The @n topic keys @keys changed from @cur to @next: the defaults of new
 * topics change in @cur, and existing topics follow (reload.h). */
static void
retopic(struct gqd_config *cur, const struct gqd_config *next,
	const struct gqd_config_key *const *keys, size_t n,
	struct gq_config *scratch, struct gq_node *node,
	struct gqd_reload_outcome *out)
{
	char old[GQD_N_TOPIC_KEYS][64], nw[GQD_N_TOPIC_KEYS][64];
	char **names = NULL;
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		if (!value_of(cur, keys[i], scratch, old[i], sizeof(old[i])) ||
		    !value_of(next, keys[i], scratch, nw[i], sizeof(nw[i])) ||
		    gq_config_set(cur->lib, keys[i]->name, nw[i], NULL) != 0)
			gqd_log(GQ_LOG_ERROR, "cannot apply reloaded key",
				"key=%s", keys[i]->name);
	}
	if (n == 0)
		return;
	if (node == NULL || gq_topic_list(node, &names, &count) != 0)
		return;
	for (size_t t = 0; t < count; t++)
		if (strncmp(names[t], "__", 2) != 0 &&
		    follow(node, names[t], keys, n, old, nw))
			out->n_topics++;
	gq_topic_list_free(names, count);
}

void
gqd_reload_apply(struct gqd_config *cur, const struct gqd_config *next,
		 struct gq_node *node, struct gqd_reload_outcome *out)
{
	const struct gqd_config_key *k, *log_file = NULL;
	const struct gqd_config_key *topic_keys[GQD_N_TOPIC_KEYS];
	size_t n_topic_keys = 0;
	struct gq_config *scratch;
	char a[GQD_PATH_SIZE], b[GQD_PATH_SIZE], q[GQD_PATH_SIZE + 8];
	size_t i;

	memset(out, 0, sizeof(*out));
	if (gq_config_create(&scratch) != 0) {
		gqd_reload_failed(out, GQ_ENOMEM, "out of memory");
		return;
	}
	for (i = 0; (k = gqd_config_key_at(i)) != NULL; i++) {
		if (k->alias || !value_of(cur, k, scratch, a, sizeof(a)) ||
		    !value_of(next, k, scratch, b, sizeof(b)) ||
		    strcmp(a, b) == 0)
			continue;
		if (k->reload != GQD_RELOAD_YES) {
			gqd_log(GQ_LOG_WARN,
				k->reload == GQD_RELOAD_LATER
					? "reload not yet supported for this "
					  "key, restart to apply"
					: "key cannot change at run time, "
					  "restart to apply",
				"key=%s", k->name);
			note(out->restart, &out->n_restart, k);
			continue;
		}
		gqd_log(GQ_LOG_INFO, "reloaded", "key=%s value=%s", k->name,
			gqd_log_quote(q, sizeof(q), b));
		if (strcmp(k->name, "log_file") == 0)
			log_file = k; /* applied below, if it opens */
		else
			note(out->applied, &out->n_applied, k);
		if (is_topic_key(k) && n_topic_keys < GQD_N_TOPIC_KEYS)
			topic_keys[n_topic_keys++] = k;
	}
	if (log_file != NULL) {
		if (gqd_log_open(next->log_file, next->log_level,
				 out->log_error, sizeof(out->log_error)) != 0) {
			gqd_log(GQ_LOG_ERROR, "cannot switch log file",
				"error=%s",
				gqd_log_quote(q, sizeof(q), out->log_error));
		} else {
			memcpy(cur->log_file, next->log_file,
			       sizeof(cur->log_file));
			note(out->applied, &out->n_applied, log_file);
		}
	}
	/* The Kafka listener reads these limits where it uses them (new
	 * connections, the next frame, the next auto-created topic), on
	 * this same loop thread: copying them is applying them. */
	cur->max_connections = next->max_connections;
	cur->max_frame_size = next->max_frame_size;
	cur->max_inflight_per_connection = next->max_inflight_per_connection;
	cur->idle_timeout_ms = next->idle_timeout_ms;
	cur->auto_create_topics = next->auto_create_topics;
	cur->default_partitions = next->default_partitions;
	cur->default_replication_factor = next->default_replication_factor;
	cur->log_level = next->log_level;
	gqd_log_set_level(next->log_level);
	if (node != NULL)
		gq_node_set_log_cb(node, gqd_log_node_cb, NULL,
				   next->log_level);
	retopic(cur, next, topic_keys, n_topic_keys, scratch, node, out);
	gq_config_destroy(scratch);
}
