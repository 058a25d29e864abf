/* SPDX-License-Identifier: MIT */
/*
 * log.c - gqd's structured log.  A line is formatted into a stack buffer
 * and written with one write(2) on an O_APPEND descriptor, so lines from
 * several threads (and several processes sharing a file) never interleave
 * within a line.  The mutex only protects the descriptor and path while a
 * line is written or the file is swapped; the level is an atomic so that
 * filtered-out lines cost one load.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = STDERR_FILENO; /* under lock */
static char log_path[PATH_MAX];    /* under lock; "" = stderr */
static atomic_int min_level = GQ_LOG_INFO;

const char *
gqd_log_level_name(enum gq_log_level level)
{
	switch (level) {
	case GQ_LOG_DEBUG:
		return "debug";
	case GQ_LOG_INFO:
		return "info";
	case GQ_LOG_WARN:
		return "warn";
	case GQ_LOG_ERROR:
		return "error";
	}
	return "info";
}

/* Create the directories above @path that are missing, as mkdir -p. */
static void
make_parents(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	if (strlen(path) >= sizeof(dir))
		return;
	memcpy(dir, path, strlen(path) + 1);
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(dir, 0755); /* EEXIST and the like show at open() */
		*p = '/';
	}
}

static int
open_file(const char *path, char *err, size_t errlen)
{
	int fd, flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC;

	fd = open(path, flags, 0644);
	if (fd < 0 && errno == ENOENT) {
		make_parents(path);
		fd = open(path, flags, 0644);
	}
	if (fd < 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "cannot open log file %s: %s", path,
			 strerror(errno));
	return fd < 0 ? -errno : fd;
}

/* Make @fd (or stderr) the destination, closing the old file. */
static void
swap_fd(int fd, const char *path)
{
	int old;

	pthread_mutex_lock(&lock);
	old = log_fd;
	log_fd = fd;
	snprintf(log_path, sizeof(log_path), "%s", path);
	pthread_mutex_unlock(&lock);
	if (old != STDERR_FILENO && old != fd)
		close(old);
}

int
gqd_log_open(const char *path, enum gq_log_level min, char *err, size_t errlen)
{
	int fd = STDERR_FILENO;

	if (path != NULL && path[0] != '\0') {
		if (strlen(path) >= PATH_MAX) {
			snprintf(err, errlen, "log file name too long");
			return -ENAMETOOLONG;
		}
		if ((fd = open_file(path, err, errlen)) < 0)
			return fd;
	}
	swap_fd(fd, fd == STDERR_FILENO ? "" : path);
	gqd_log_set_level(min);
	return 0;
}

int
gqd_log_reopen(char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd;

	pthread_mutex_lock(&lock);
	memcpy(path, log_path, sizeof(path));
	pthread_mutex_unlock(&lock);
	if (path[0] == '\0')
		return 0;
	if ((fd = open_file(path, err, errlen)) < 0)
		return fd;
	swap_fd(fd, path);
	return 0;
}

void
gqd_log_set_level(enum gq_log_level min)
{
	atomic_store(&min_level, (int)min);
}

bool
gqd_log_enabled(enum gq_log_level level)
{
	return (int)level >= atomic_load(&min_level);
}

void
gqd_log_close(void)
{
	swap_fd(STDERR_FILENO, "");
}

/* gqd_log_quote(), always quoting when @force. */
static const char *
quote(char *buf, size_t size, const char *s, bool force)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	size_t n = 0;
	bool plain = !force && s[0] != '\0';

	if (size == 0)
		return "";
	for (p = (const unsigned char *)s; plain && *p != '\0'; p++)
		plain = *p > ' ' && *p != '"' && *p != '=' && *p != '\\' &&
			*p != 0x7f;
	if (plain) {
		snprintf(buf, size, "%s", s);
		return buf;
	}
	/* Room for the closing quote and the NUL is kept at every step. */
	if (size < 3) {
		buf[0] = '\0';
		return buf;
	}
	buf[n++] = '"';
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		char esc[5];
		size_t elen = 0;

		if (*p == '"' || *p == '\\') {
			esc[elen++] = '\\';
			esc[elen++] = (char)*p;
		} else if (*p == '\n') {
			esc[elen++] = '\\';
			esc[elen++] = 'n';
		} else if (*p == '\t') {
			esc[elen++] = '\\';
			esc[elen++] = 't';
		} else if (*p < ' ' || *p == 0x7f) {
			esc[elen++] = '\\';
			esc[elen++] = 'x';
			esc[elen++] = hex[*p >> 4];
			esc[elen++] = hex[*p & 0xf];
		} else {
			esc[elen++] = (char)*p;
		}
		if (n + elen + 2 > size)
			break;
		memcpy(buf + n, esc, elen);
		n += elen;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

const char *
gqd_log_quote(char *buf, size_t size, const char *s)
{
	return quote(buf, size, s, false);
}

/* Write the head "ts=... level=... msg=..." into @line; returns its length
 * (at most @size - 1). */
static size_t
head(char *line, size_t size, enum gq_log_level level, const char *msg)
{
	char quoted[1024];
	struct timespec ts;
	struct tm tm;
	char when[32];
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/* msg is always quoted, even a single word, so that it reads the
	 * same in every line. */
	quote(quoted, sizeof(quoted), msg, true);
	n = snprintf(line, size, "ts=%s.%03ldZ level=%s msg=%s", when,
		     ts.tv_nsec / 1000000, gqd_log_level_name(level), quoted);
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

/* Terminate @line (of @len bytes, within LINE_MAX_BYTES) and write it. */
static void
emit(char *line, size_t len, bool cut)
{
	ssize_t w;
	size_t off = 0;

	if (cut) {
		len = LINE_MAX_BYTES - 5;
		memcpy(line + len, "...", 3);
		len += 3;
	}
	line[len++] = '\n';
	pthread_mutex_lock(&lock);
	while (off < len) {
		w = write(log_fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* nowhere left to report it */
		off += (size_t)w;
	}
	pthread_mutex_unlock(&lock);
}

static void
vlog(enum gq_log_level level, const char *src, const char *msg,
     const char *kv_fmt, va_list ap)
{
	char line[LINE_MAX_BYTES];
	size_t len;
	bool cut = false;
	int n;

	if (!gqd_log_enabled(level))
		return;
	len = head(line, LINE_MAX_BYTES - 1, level, msg);
	if (src != NULL && len < LINE_MAX_BYTES - 2) {
		n = snprintf(line + len, LINE_MAX_BYTES - 1 - len, " src=%s",
			     src);
		len += n > 0 ? (size_t)n : 0;
	}
	if (kv_fmt != NULL && len < LINE_MAX_BYTES - 2) {
		line[len++] = ' ';
		n = vsnprintf(line + len, LINE_MAX_BYTES - 1 - len, kv_fmt, ap);
		len += n > 0 ? (size_t)n : 0;
	}
	if (len >= LINE_MAX_BYTES - 1) {
		cut = true;
		len = LINE_MAX_BYTES - 2;
	}
	emit(line, len, cut);
}

void
gqd_log(enum gq_log_level level, const char *msg, const char *kv_fmt, ...)
{
	va_list ap;

	va_start(ap, kv_fmt);
	vlog(level, NULL, msg, kv_fmt, ap);
	va_end(ap);
}

/* vlog() needs a va_list even without fields. */
static void
log_plain(enum gq_log_level level, const char *src, const char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	vlog(level, src, msg, NULL, ap);
	va_end(ap);
}

void
gqd_log_msg(enum gq_log_level level, const char *msg)
{
	log_plain(level, NULL, msg);
}

void
gqd_log_node_cb(void *arg, enum gq_log_level level, const char *msg)
{
	(void)arg;
	log_plain(level, "node", msg);
}
