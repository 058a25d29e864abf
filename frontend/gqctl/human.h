/* SPDX-License-Identifier: MIT */
/*
 * human.h - numbers for people in gqctl's tables: sizes in binary units
 * and durations in the units gqd's configuration uses.  The --json output
 * never goes through here: it keeps plain numbers.
 */
#ifndef GQCTL_HUMAN_H
#define GQCTL_HUMAN_H

#include <stddef.h>
#include <stdint.h>

/* "0 B", "512 B", "1.5 KiB", "12 MiB", "3.2 GiB" ... into @buf. */
void human_size(char *buf, size_t size, uint64_t bytes);

/* "250ms", "5s", "1m30s", "2h", "7d12h" ... into @buf; negative values
 * (meaning "never" or "unset" in goqueue) print as "-". */
void human_duration(char *buf, size_t size, int64_t ms);

#endif /* GQCTL_HUMAN_H */
