/* SPDX-License-Identifier: MIT */
/*
 * config_parse.h - gqd's value parsers, private to config.c (and its tests):
 * the text forms of gqd's own keys (counts, sizes, durations, booleans, log
 * levels, broker ids, addresses) and the formatters that write them back.
 * libgoqueue's keys are never parsed here; the library validates those.
 *
 * Every parser takes a NUL-terminated string, returns 0 or -1, and writes
 * its output only on success.  None of them allocates, keeps state or
 * prints, so all are thread-safe.
 */
#ifndef GQD_CONFIG_PARSE_H
#define GQD_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <goqueue.h>

/* Decimal digits only, no sign or spaces, into @out; -1 on overflow. */
int gqd_parse_uint(const char *s, uint64_t *out);

/* Bytes: digits with an optional suffix "KiB".."TiB" or "KB".."TB". */
int gqd_parse_size(const char *s, uint64_t *out);

/* Milliseconds: plain digits, or unit terms such as "1h30m", "500ms". */
int gqd_parse_duration(const char *s, uint64_t *out);

/* true/false, 1/0, yes/no, on/off, in any case. */
int gqd_parse_bool(const char *s, bool *out);

/* debug, info, warn (or warning), error, in any case. */
int gqd_parse_level(const char *s, enum gq_log_level *out);

/* "7" or "broker7" -> 7: trailing digits after nothing or a lettered name. */
int gqd_parse_broker_id(const char *s, int64_t *out);

/* "host:port"/"[v6]:port"/":port" -> @host (GQD_HOST_SIZE), @port; or *@why. */
int gqd_split_addr(const char *s, char *host, uint16_t *port, const char **why);

/* @host:@port into @out (@len bytes), IPv6 in brackets; -1 if it won't fit. */
int gqd_join_addr(char *out, size_t len, const char *host, unsigned port);

/* @ms in the largest unit that divides it ("2h", "90s", "0"), cut to @len. */
void gqd_format_ms(char *buf, size_t len, uint64_t ms);

#endif /* GQD_CONFIG_PARSE_H */
