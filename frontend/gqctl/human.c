/* SPDX-License-Identifier: MIT */
/*
 * human.c - sizes and durations for tables (contract in human.h).  Sizes
 * keep one decimal below 10 of a unit and none above, as ls -h does;
 * durations show at most their two largest adjacent units ("1h30m",
 * "2d"), which is what a person reads; --json keeps the exact number.
 */
#include "human.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void
human_size(char *buf, size_t size, uint64_t bytes)
{
	static const char *const unit[] = { "B",   "KiB", "MiB",
					    "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64 " B", bytes);
	else if (v < 10.0)
		snprintf(buf, size, "%.1f %s", v, unit[u]);
	else
		snprintf(buf, size, "%.0f %s", v, unit[u]);
}

void
human_duration(char *buf, size_t size, int64_t ms)
{
	static const struct {
		const char *name;
		int64_t ms;
	} unit[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 },     { "ms", 1 },
	};
	size_t used = 0;
	size_t i;
	int parts = 0;
	int n;

	if (ms < 0) {
		snprintf(buf, size, "-");
		return;
	}
	if (ms == 0) {
		snprintf(buf, size, "0s");
		return;
	}
	buf[0] = '\0';
	for (i = 0; i < sizeof(unit) / sizeof(unit[0]) && parts < 2; i++) {
		if (ms < unit[i].ms) {
			if (parts > 0)
				break; /* "1h" then nothing of "m": stop */
			continue;
		}
		n = snprintf(buf + used, size - used, "%" PRId64 "%s",
			     ms / unit[i].ms, unit[i].name);
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
		ms %= unit[i].ms;
		parts++;
		if (ms == 0)
			break;
	}
}
