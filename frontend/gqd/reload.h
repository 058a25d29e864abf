/* SPDX-License-Identifier: MIT */
/*
 * reload.h - applying a re-read configuration to a running gqd, the
 * common part of SIGHUP and POST /v1/config/reload: which keys changed,
 * which of them take effect now (reload class GQD_RELOAD_YES: logging,
 * the listener's limits, the topic keys) and which need a restart,
 * logged as SIGHUP always did and reported to the caller.
 *
 * A topic key (retention_time, segment_size, ...) is a default: topics gqd
 * creates afterwards take the new value, and every existing topic whose
 * value is the old default is altered to the new one (gq_topic_alter(3)),
 * so that topics nobody configured follow the file, as Kafka's topics
 * follow a changed broker default.  A topic set to its own value keeps
 * it.
 *
 * Threading: gqd's loop thread, which owns the running configuration.
 */
#ifndef GQD_RELOAD_H
#define GQD_RELOAD_H

#include <stddef.h>

#include <goqueue.h>

#include "config.h"

/* More than the key table holds (config.c); checked when applying. */
#define GQD_RELOAD_KEYS_MAX 64

/* What a reload did. */
struct gqd_reload_outcome {
	/* 0, or why the new configuration could not be built (GQ_EINVAL:
	 * syntax, unknown key, bad value; GQ_EIO: the file cannot be read);
	 * then nothing changed and @error says why in one line. */
	int status;
	char error[512];
	/* Keys whose value changed and now runs (pointers into the static
	 * key table; table order, but log_file last, once it opened). */
	size_t n_applied;
	const struct gqd_config_key *applied[GQD_RELOAD_KEYS_MAX];
	/* Keys whose value changed but which only a restart applies. */
	size_t n_restart;
	const struct gqd_config_key *restart[GQD_RELOAD_KEYS_MAX];
	/* A log file that could not be opened (the old one stays), or "". */
	char log_error[512];
	/* Existing topics changed to follow new topic defaults (alters
	 * started; each logs its outcome). */
	size_t n_topics;
};

/*
 * Compare the running configuration @cur with @next (both validated),
 * log each changed key, and apply the reloadable ones to @cur, to the
 * log and, when @node is not NULL, to the node's log callback and its
 * topics.  @next is borrowed.  @out is filled from scratch.
 */
void gqd_reload_apply(struct gqd_config *cur, const struct gqd_config *next,
		      struct gq_node *node, struct gqd_reload_outcome *out);

/* Record in @out that building the new configuration failed with @rv and
 * message @err, and log it ("reload failed, configuration unchanged"). */
void gqd_reload_failed(struct gqd_reload_outcome *out, int rv, const char *err);

#endif /* GQD_RELOAD_H */
