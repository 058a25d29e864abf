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

void
gqd_reload_apply(struct gqd_config *cur, const struct gqd_config *next,
		 struct gq_node *node, struct gqd_reload_outcome *out)
{
	const struct gqd_config_key *k, *log_file = NULL;
	char a[GQD_PATH_SIZE], b[GQD_PATH_SIZE], q[GQD_PATH_SIZE + 8];
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; (k = gqd_config_key_at(i)) != NULL; i++) {
		if (k->alias || gqd_config_format(cur, k->name, a, sizeof(a)) ||
		    gqd_config_format(next, k->name, b, sizeof(b)) ||
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
}
