/* SPDX-License-Identifier: MIT */
/*
 * config_parse.c - the text forms of gqd's own configuration values: counts,
 * sizes, durations, booleans, log levels, broker ids and host:port
 * addresses, and the formatters that write them back for reload and
 * gqd_config_format().  config.c owns the key table and the messages; these
 * functions only say whether a string parses and what it means.
 */
#include "config_parse.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"

/* One or more decimal digits at *@p, advancing *@p; no sign, no overflow. */
static int
digits(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	unsigned d;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return 0;
}

int
gqd_parse_uint(const char *s, uint64_t *out)
{
	return digits(&s, out) == 0 && *s == '\0' ? 0 : -1;
}

/* Bytes: an integer with an optional suffix, as libgoqueue writes sizes. */
int
gqd_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mul;
	} sfx[] = {
		{ "", 1 },
		{ "KiB", UINT64_C(1) << 10 },
		{ "MiB", UINT64_C(1) << 20 },
		{ "GiB", UINT64_C(1) << 30 },
		{ "TiB", UINT64_C(1) << 40 },
		{ "KB", UINT64_C(1000) },
		{ "MB", UINT64_C(1000000) },
		{ "GB", UINT64_C(1000000000) },
		{ "TB", UINT64_C(1000000000000) },
	};
	uint64_t n;
	size_t i;

	if (digits(&s, &n) != 0)
		return -1;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (strcmp(s, sfx[i].suffix) == 0)
			break;
	}
	if (i == sizeof(sfx) / sizeof(sfx[0]) || n > UINT64_MAX / sfx[i].mul)
		return -1;
	*out = n * sfx[i].mul;
	return 0;
}

/* Milliseconds: a plain integer, or terms such as "1h30m", "500ms". */
int
gqd_parse_duration(const char *s, uint64_t *out)
{
	/* "ms" before "m" so that the longer unit wins. */
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 },      { "s", 1000 },     { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	uint64_t total = 0, n;
	size_t i, len;

	if (digits(&s, &n) != 0)
		return -1;
	if (*s == '\0') {
		*out = n;
		return 0;
	}
	for (;;) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			len = strlen(units[i].unit);
			if (strncmp(s, units[i].unit, len) == 0)
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		s += len;
		if (n > (UINT64_MAX - total) / units[i].ms)
			return -1;
		total += n * units[i].ms;
		if (*s == '\0')
			break;
		if (digits(&s, &n) != 0)
			return -1;
	}
	*out = total;
	return 0;
}

int
gqd_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

int
gqd_parse_level(const char *s, enum gq_log_level *out)
{
	static const struct {
		const char *name;
		enum gq_log_level level;
	} levels[] = {
		{ "debug", GQ_LOG_DEBUG }, { "info", GQ_LOG_INFO },
		{ "warn", GQ_LOG_WARN },   { "warning", GQ_LOG_WARN },
		{ "error", GQ_LOG_ERROR },
	};
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcasecmp(s, levels[i].name) == 0) {
			*out = levels[i].level;
			return 0;
		}
	}
	return -1;
}

/* "broker7" or "7" -> 7: the trailing decimal digits of @s, after nothing
 * or after a name with at least one letter (so "-1" is not 1). */
int
gqd_parse_broker_id(const char *s, int64_t *out)
{
	const char *p = s + strlen(s);
	const char *q;
	bool letter = false;
	uint64_t v;

	while (p > s && p[-1] >= '0' && p[-1] <= '9')
		p--;
	for (q = s; q < p; q++)
		letter = letter || isalpha((unsigned char)*q);
	if (*p == '\0' || (p > s && !letter) || strlen(p) > 10 ||
	    gqd_parse_uint(p, &v) != 0)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/*
 * Split "host:port", "[v6]:port" or ":port" into @host (GQD_HOST_SIZE) and
 * @port.  Returns 0 or -1 with a reason in @why.
 */
int
gqd_split_addr(const char *s, char *host, uint16_t *port, const char **why)
{
	const char *colon, *h = s;
	size_t hlen;
	uint64_t p;

	if (s[0] == '[') {
		h = s + 1;
		if ((colon = strchr(h, ']')) == NULL || colon[1] != ':') {
			*why = "expected [ipv6]:port";
			return -1;
		}
		hlen = (size_t)(colon - h);
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL) {
			*why = "expected host:port";
			return -1;
		}
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			*why = "write an IPv6 address in brackets, "
			       "[::1]:port";
			return -1;
		}
		hlen = (size_t)(colon - s);
	}
	if (hlen >= GQD_HOST_SIZE) {
		*why = "host name too long";
		return -1;
	}
	if (gqd_parse_uint(colon + 1, &p) != 0 || p < 1 || p > 65535) {
		*why = "expected a port between 1 and 65535";
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* Write host and port back as one address, bracketing an IPv6 host. */
int
gqd_join_addr(char *out, size_t len, const char *host, unsigned port)
{
	int n;

	if (strchr(host, ':') != NULL)
		n = snprintf(out, len, "[%s]:%u", host, port);
	else
		n = snprintf(out, len, "%s:%u", host, port);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Milliseconds in the largest unit that divides them. */
void
gqd_format_ms(char *buf, size_t len, uint64_t ms)
{
	if (ms == 0)
		snprintf(buf, len, "0");
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%" PRIu64 "h", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%" PRIu64 "m", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%" PRIu64 "s", ms / 1000);
	else
		snprintf(buf, len, "%" PRIu64 "ms", ms);
}
