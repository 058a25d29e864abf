/* SPDX-License-Identifier: MIT */
/*
 * lines.c - line input for `topic produce` (contract in lines.h).  Lines
 * are split in the read buffer; only a line that spans two reads is
 * copied, into `line`, and only up to max_len: past that its bytes are
 * dropped as they come, so a huge line costs no memory.
 */
#include "lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"

#define CHUNK (64u << 10)

int
lines_open(struct lines *l, int fd, const char *name)
{
	struct stat st;

	if (l->buf == NULL && (l->buf = malloc(CHUNK)) == NULL)
		return -1;
	l->fd = fd;
	l->name = name;
	l->may_wait = fstat(fd, &st) != 0 || !S_ISREG(st.st_mode);
	l->lineno = 0;
	l->pos = l->len = 0;
	l->eof = false;
	return 0;
}

void
lines_free(struct lines *l)
{
	free(l->buf);
	free(l->line);
	l->buf = l->line = NULL;
	l->line_cap = l->line_len = 0;
}

/* Read the next chunk: 0 with data, 1 at the end (or when stopped), -1
 * on an error. */
static int
fill(struct lines *l)
{
	ssize_t n;

	if (l->may_wait && l->before_wait != NULL)
		l->before_wait(l->arg);
	for (;;) {
		if (client_stopped()) {
			l->eof = true;
			return 1;
		}
		if ((n = read(l->fd, l->buf, CHUNK)) >= 0)
			break;
		if (errno != EINTR)
			return -1;
	}
	if (n == 0) {
		l->eof = true;
		return 1;
	}
	l->pos = 0;
	l->len = (size_t)n;
	l->bytes_read += (uint64_t)n;
	if (l->progress != NULL)
		progress_update(l->progress, l->bytes_read, l->name);
	return 0;
}

static int
keep(struct lines *l, const char *p, size_t n)
{
	size_t cap;
	char *q;

	if (l->line_len + n > l->line_cap) {
		cap = l->line_cap > 0 ? l->line_cap : 4096;
		while (cap < l->line_len + n)
			cap *= 2;
		if ((q = realloc(l->line, cap)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		l->line = q;
		l->line_cap = cap;
	}
	memcpy(l->line + l->line_len, p, n);
	l->line_len += n;
	return 0;
}

int
lines_next(struct lines *l, const char **line, size_t *len, bool *too_long)
{
	bool partial = false;
	const char *start;
	const char *nl;
	size_t n;

	l->line_len = 0;
	*too_long = false;
	for (;;) {
		if (l->pos == l->len) {
			if (l->eof)
				break;
			if (fill(l) < 0)
				return -1;
			continue;
		}
		start = l->buf + l->pos;
		nl = memchr(start, '\n', l->len - l->pos);
		n = nl != NULL ? (size_t)(nl - start) : l->len - l->pos;
		partial = true;
		if (nl != NULL && l->line_len == 0 && !*too_long) {
			/* The whole line is in the buffer: lend it. */
			l->pos += n + 1;
			l->lineno++;
			*too_long = n > l->max_len;
			*line = *too_long ? NULL : start;
			*len = *too_long ? 0 : n;
			return 1;
		}
		if (!*too_long && l->line_len + n > l->max_len)
			*too_long = true;
		else if (!*too_long && keep(l, start, n) != 0)
			return -1;
		l->pos += n;
		if (nl != NULL) {
			l->pos++;
			goto done;
		}
	}
	if (!partial || client_stopped())
		return 0;
done:
	l->lineno++;
	*line = *too_long ? NULL : l->line != NULL ? l->line : "";
	*len = *too_long ? 0 : l->line_len;
	return 1;
}
