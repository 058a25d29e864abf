/* SPDX-License-Identifier: MIT */
/*
 * progress.h - a one-line progress bar on stderr for long work: check-store
 * over many partitions, producing files, consuming --count messages into
 * a file, waiting for a reassignment:
 *
 *	checking  [##########..........]  12/40  orders/3
 *
 * It draws only when enabled (gqctl turns it on when stderr is a terminal
 * and --json is off), redraws at most ten times a second, and erases
 * itself, so what is printed meanwhile stays clean: call progress_clear()
 * before writing to the same terminal.
 */
#ifndef GQCTL_PROGRESS_H
#define GQCTL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	bool on;
	const char *label; /* borrowed, for the life of the bar */
	uint64_t total;
	uint64_t done;
	uint64_t drawn_ms; /* when it was last drawn, 0 if never */
	bool visible;
};

/* Start a bar of @total steps labelled @label; draws nothing unless
 * @enabled. */
void progress_start(struct progress *p, bool enabled, const char *label,
		    uint64_t total);

/* @done steps are finished; @item (may be NULL) names the one under way. */
void progress_update(struct progress *p, uint64_t done, const char *item);

/* Erase the bar (the next update draws it again). */
void progress_clear(struct progress *p);

/* Erase the bar for good. */
void progress_finish(struct progress *p);

#endif /* GQCTL_PROGRESS_H */
