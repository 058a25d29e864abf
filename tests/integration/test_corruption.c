/* SPDX-License-Identifier: MIT */
/*
 * test_corruption.c - damaged files at open and at read: torn tails are
 * cut, an index that disagrees with its segments is repaired from the
 * Raft log, flipped bytes are reported, missing files are named, and
 * nothing acknowledged is lost where the data still exists somewhere.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <goqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/fixture.h"

#define N 300

static const char *dir;
static struct gq_node *node;

static void
setup(void)
{
	dir = gqt_node_setup(&node);
}

TestSuite(corruption, .init = setup, .fini = gqt_node_teardown, .timeout = 120);

/* Produce N messages "m<i>" into t/0 with small segments, then close. */
static void
fill(void)
{
	struct gq_config *cfg;
	char buf[64];

	gqt_open(&node);
	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "segment_size", "4096", NULL), 0);
	cr_assert_eq(gq_config_set(cfg, "compression_type", "none", NULL), 0);
	cr_assert_eq(gq_topic_create(node, "t", 1, 1, cfg), 0);
	gq_config_destroy(cfg);
	for (int i = 0; i < N; i++) {
		struct gq_msg m;

		memset(&m, 0, sizeof(m));
		snprintf(buf, sizeof(buf), "m%d", i);
		m.value = buf;
		m.value_len = strlen(buf);
		cr_assert_eq(gq_produce(node, "t", 0, &m, 1, NULL, NULL), 0);
	}
	gq_node_close(node);
	node = NULL;
}

/* Path of the segment directory of t/0. */
static void
segdir(char *out, size_t size)
{
	char data[300];
	struct dirent *e;
	DIR *d;

	snprintf(data, sizeof(data), "%s/data", dir);
	d = opendir(data);
	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "t.", 2) == 0)
			break;
	cr_assert_not_null(e);
	cr_assert_lt(strlen(data) + strlen(e->d_name) + 12, size);
	strcpy(out, data);
	strcat(out, "/");
	strcat(out, e->d_name);
	strcat(out, "/0/segments");
	closedir(d);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The @i-th segment file (sorted by base offset); -1 for the last. */
static void
segment(int i, char *out, size_t size)
{
	char sd[600];
	char *names[256];
	int n = 0;
	struct dirent *e;
	DIR *d;

	segdir(sd, sizeof(sd));
	d = opendir(sd);
	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL && n < 256)
		if (strstr(e->d_name, ".log") != NULL)
			names[n++] = strdup(e->d_name);
	closedir(d);
	cr_assert_gt(n, 2, "expected several segments, found %d", n);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	snprintf(out, size, "%s/%s", sd, names[i < 0 ? n - 1 : i]);
	for (int j = 0; j < n; j++)
		free(names[j]);
}

/* Fetch everything from offset 0 and check it is exactly m0..m<N-1>. */
static void
check_all(void)
{
	struct gq_fetch *f;
	struct gq_record r;
	char buf[64];
	int64_t next = 0;

	for (;;) {
		int got = 0;
		int rv;

		rv = gq_fetch(node, "t", 0, next, 1 << 20, &f);
		cr_assert_eq(rv, 0, "fetch %lld: %s", (long long)next,
			     gq_node_errmsg(node));
		while ((rv = gq_fetch_next(f, &r)) == 1) {
			snprintf(buf, sizeof(buf), "m%lld", (long long)next);
			cr_assert_eq(r.offset, next);
			cr_assert_eq(r.value_len, strlen(buf));
			cr_assert_eq(memcmp(r.value, buf, r.value_len), 0);
			next++;
			got++;
		}
		gq_fetch_destroy(f);
		if (got == 0)
			break;
	}
	cr_assert_eq(next, N);
}

static void
append_garbage(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	char junk[777];

	cr_assert_geq(fd, 0);
	memset(junk, 0xA5, sizeof(junk));
	cr_assert_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
}

static void
flip_byte(const char *path, off_t pos)
{
	int fd = open(path, O_RDWR);
	unsigned char c;

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &c, 1, pos), 1);
	c ^= 0xff;
	cr_assert_eq(pwrite(fd, &c, 1, pos), 1);
	close(fd);
}

/* Garbage after the last batch (a torn write) is cut off at open. */
Test(corruption, torn_tail_is_truncated)
{
	char path[1024];
	struct gq_msg m;
	gq_offset off;

	fill();
	segment(-1, path, sizeof(path));
	append_garbage(path);
	gqt_open(&node);
	check_all();
	memset(&m, 0, sizeof(m));
	m.value = "after";
	m.value_len = 5;
	cr_assert_eq(gq_produce(node, "t", 0, &m, 1, NULL, &off), 0);
	cr_assert_eq(off, N);
}

static char recovery_log[4096];

static void
log_cb(void *arg, enum gq_log_level level, const char *msg)
{
	(void)arg;
	if (level >= GQ_LOG_WARN &&
	    strlen(recovery_log) + strlen(msg) + 2 < sizeof(recovery_log)) {
		strcat(recovery_log, msg);
		strcat(recovery_log, "\n");
	}
}

/* What recovery repairs during open is reported to a log callback given
 * in the configuration. */
Test(corruption, recovery_is_logged)
{
	struct gq_config *cfg;
	char path[1024];

	fill();
	segment(-1, path, sizeof(path));
	append_garbage(path);
	cr_assert_eq(gq_config_create(&cfg), 0);
	gq_config_set_log_cb(cfg, log_cb, NULL, GQ_LOG_INFO);
	cr_assert_eq(gq_node_open(dir, cfg, &node), 0);
	gq_config_destroy(cfg);
	cr_assert(strstr(recovery_log, "recovered") != NULL, "log: %s",
		  recovery_log);
	cr_assert(strstr(recovery_log, "777 bytes truncated") != NULL,
		  "log: %s", recovery_log);
	check_all();
}

/* A last segment cut short (the index promises more) is repaired: the
 * lost batches are re-applied from the Raft log. */
Test(corruption, truncated_segment_is_replayed)
{
	char path[1024];
	struct stat st;

	fill();
	segment(-1, path, sizeof(path));
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_gt(st.st_size, 100);
	cr_assert_eq(truncate(path, st.st_size / 2), 0);
	gqt_open(&node);
	check_all();
}

/* A flipped byte inside the last batch is detected by its CRC and the
 * batch is restored from the Raft log. */
Test(corruption, flipped_byte_in_tail_is_replayed)
{
	char path[1024];
	struct stat st;

	fill();
	segment(-1, path, sizeof(path));
	cr_assert_eq(stat(path, &st), 0);
	flip_byte(path, st.st_size - 3);
	gqt_open(&node);
	check_all();
}

/* A flipped byte in an older segment is reported on read as GQ_ECORRUPT
 * naming the file; the rest of the partition stays readable. */
Test(corruption, flipped_byte_in_old_segment_reported)
{
	char path[1024];
	struct gq_fetch *f;
	gq_offset off;
	int rv;

	fill();
	segment(0, path, sizeof(path));
	flip_byte(path, 100);
	gqt_open(&node);
	rv = gq_fetch(node, "t", 0, 0, 1 << 20, &f);
	cr_assert_eq(rv, GQ_ECORRUPT, "got %s", gq_strerror(rv));
	cr_assert(strstr(gq_node_errmsg(node), ".log") != NULL, "errmsg: %s",
		  gq_node_errmsg(node));
	cr_assert_eq(gq_list_offsets(node, "t", 0, GQ_OFFSET_LATEST, &off), 0);
	cr_assert_eq(off, N);
	cr_assert_eq(gq_fetch(node, "t", 0, N - 1, 1 << 20, &f), 0);
	gq_fetch_destroy(f);
}

/* A missing segment file is a clear open error naming it, not a crash. */
Test(corruption, missing_segment_fails_open)
{
	char path[1024];
	int rv;

	fill();
	segment(1, path, sizeof(path));
	cr_assert_eq(unlink(path), 0);
	rv = gq_node_open(dir, NULL, &node);
	cr_assert_eq(rv, GQ_ECORRUPT, "got %s", gq_strerror(rv));
	cr_assert(strstr(gq_node_errmsg(NULL), ".log") != NULL, "errmsg: %s",
		  gq_node_errmsg(NULL));
	cr_assert_null(node);
}

/* A destroyed index file is reported as corrupt, never a crash. */
Test(corruption, garbage_index_fails_open)
{
	char path[1024];
	char junk[8192];
	int fd;
	int rv;

	fill();
	snprintf(path, sizeof(path), "%s/index.lmdb", dir);
	fd = open(path, O_WRONLY);
	cr_assert_geq(fd, 0);
	memset(junk, 0x5a, sizeof(junk));
	cr_assert_eq(pwrite(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	close(fd);
	rv = gq_node_open(dir, NULL, &node);
	cr_assert(rv == GQ_ECORRUPT || rv == GQ_EIO, "got %s", gq_strerror(rv));
	cr_assert_neq(gq_node_errmsg(NULL)[0], '\0');
	cr_assert_null(node);
}
