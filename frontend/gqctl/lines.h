/* SPDX-License-Identifier: MIT */
/*
 * lines.h - the input of `topic produce`: lines of a file or of stdin,
 * read with read(2) in large chunks and handed out without copying when
 * they lie whole in the buffer.  It counts the bytes read (for the
 * progress bar), caps each line at a length (longer ones are skipped,
 * not buffered: a line may be any size), and calls a hook before a read
 * that may wait, so the producer can send what it holds first.  A read
 * interrupted by a signal that stopped the command ends the input
 * (client_stopped()).
 */
#ifndef GQCTL_LINES_H
#define GQCTL_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "progress.h"

struct lines {
	/* Set by the caller before lines_open(); kept across inputs. */
	size_t max_len;                 /* longest line accepted */
	void (*before_wait)(void *arg); /* before a read that may block */
	void *arg;
	struct progress *progress; /* updated with bytes_read; may be NULL */
	uint64_t bytes_read;       /* over every input so far */

	/* The input, for lines_open()/lines_next(). */
	int fd;
	const char *name; /* for the progress bar and messages */
	bool may_wait;    /* not a regular file */
	uint64_t lineno;  /* lines returned from this input */
	char *buf;
	size_t pos;
	size_t len;
	bool eof;
	char *line; /* a line that spans reads */
	size_t line_len;
	size_t line_cap;
};

/* Start reading @fd (borrowed; the caller closes it), named @name
 * (borrowed).  Returns 0, or -1 when out of memory. */
int lines_open(struct lines *l, int fd, const char *name);

/*
 * The next line, without its newline, lent until the next call; a last
 * line without a newline counts too, unless the command was stopped in
 * the middle of it.  *too_long: the line was longer than max_len (then
 * *line is NULL, *len 0, and the line was skipped).
 * @return 1 (a line; l->lineno counts it), 0 (the end), -1 (a read error
 *         or out of memory, errno set).
 */
int lines_next(struct lines *l, const char **line, size_t *len, bool *too_long);

/* Free the buffers (the descriptor stays the caller's). */
void lines_free(struct lines *l);

#endif /* GQCTL_LINES_H */
