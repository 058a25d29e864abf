/* SPDX-License-Identifier: MIT */
/*
 * progress.c - the progress bar (contract in progress.h).  It writes "\r",
 * the bar, and "ESC [K" (erase to the end of the line), so a shorter
 * redraw leaves nothing behind; the item name is cut to fit the terminal
 * so the line never wraps.
 */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BAR      20
#define EVERY_MS 100

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

void
progress_start(struct progress *p, bool enabled, const char *label,
	       uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->on = enabled;
	p->label = label;
	p->total = total;
}

void
progress_update(struct progress *p, uint64_t done, const char *item)
{
	char bar[BAR + 1];
	char count[48];
	uint64_t now;
	size_t fill;
	int room;
	int used;

	p->done = done;
	if (!p->on)
		return;
	now = now_ms();
	if (p->visible && done < p->total && now - p->drawn_ms < EVERY_MS)
		return;
	p->drawn_ms = now;
	fill = p->total > 0
		       ? (size_t)(BAR * (done > p->total ? p->total : done) /
				  p->total)
		       : BAR;
	memset(bar, '#', fill);
	memset(bar + fill, '.', BAR - fill);
	bar[BAR] = '\0';
	snprintf(count, sizeof(count), "%llu/%llu", (unsigned long long)done,
		 (unsigned long long)p->total);
	used = fprintf(stderr, "\r%s  [%s]  %s", p->label, bar, count) - 1;
	room = columns() - used - 3;
	if (item != NULL && room > 3)
		fprintf(stderr, "  %.*s", room, item);
	fputs("\033[K", stderr);
	fflush(stderr);
	p->visible = true;
}

void
progress_clear(struct progress *p)
{
	if (!p->on || !p->visible)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->visible = false;
}

void
progress_finish(struct progress *p)
{
	progress_clear(p);
	p->on = false;
}
