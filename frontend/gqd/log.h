/* SPDX-License-Identifier: MIT */
/*
 * log.h - gqd's structured log: one line per event, logfmt style,
 *
 *	ts=2026-11-25T16:00:00.123Z level=info msg="listening" addr=0.0.0.0:9092
 *
 * written with a single write(2) to stderr or to an append-only log file
 * that gqd_log_reopen() reopens (SIGHUP, for logrotate).  Levels are
 * libgoqueue's enum gq_log_level, so the node's own messages (installed with
 * gq_node_set_log_cb(node, gqd_log_node_cb, NULL, level)) pass through
 * unchanged, tagged src=node.
 *
 * The logger is process-wide state (gqd is one process with one log) and
 * every function here is thread-safe: the node's loop thread logs through
 * the callback while the main thread runs the network.  Before
 * gqd_log_open() lines go to stderr at level info.
 */
#ifndef GQD_LOG_H
#define GQD_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include <goqueue.h>

/* Send lines to @path, appended and created (mode 0644, missing parent
 * directories 0755) if needed, or to stderr when @path is NULL or "", and
 * drop lines below @min.  Returns 0 or a negative errno, with @err saying
 * what failed; the previous destination is kept on failure. */
int gqd_log_open(const char *path, enum gq_log_level min, char *err,
		 size_t errlen);

/* Reopen the current file (after logrotate moved it away).  A no-op for
 * stderr.  Returns as gqd_log_open(). */
int gqd_log_reopen(char *err, size_t errlen);

/* Change the lowest level written. */
void gqd_log_set_level(enum gq_log_level min);

/* Whether a line at @level would be written: to skip costly formatting. */
bool gqd_log_enabled(enum gq_log_level level);

/* Close the file (lines go to stderr again). */
void gqd_log_close(void);

/*
 * Log @msg (quoted and escaped by the logger) followed by the key=value
 * fields that printf-style @kv_fmt produces, e.g.
 *	gqd_log(GQ_LOG_INFO, "listening", "addr=%s port=%u", host, port);
 * Field values that may hold spaces, quotes or '=' should go through
 * gqd_log_quote().  A line longer than 4 KiB is cut and ends in "...".
 */
void gqd_log(enum gq_log_level level, const char *msg, const char *kv_fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* gqd_log() without fields. */
void gqd_log_msg(enum gq_log_level level, const char *msg);

/* @s as a logfmt value into @buf (@size bytes): unchanged when it is
 * non-empty and has no space, quote, '=', backslash or control character,
 * else in double quotes with \" \\ \n \t \xHH escapes.  Returns @buf. */
const char *gqd_log_quote(char *buf, size_t size, const char *s);

/* A gq_log_cb for gq_node_set_log_cb(); @arg is unused. */
void gqd_log_node_cb(void *arg, enum gq_log_level level, const char *msg);

/* "debug", "info", "warn", "error". */
const char *gqd_log_level_name(enum gq_log_level level);

#endif /* GQD_LOG_H */
