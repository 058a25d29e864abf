/* SPDX-License-Identifier: MIT */
/*
 * test_retention.c - segment retention through the public API: by time
 * (message timestamps, not file age), by partition size (retention_bytes)
 * and by node size (max_storage_size); the log start moves, reads below it
 * fail with GQ_EOFFSET, GQ_OFFSET_EARLIEST and time lookups follow it, the
 * newest data and the active segment are never deleted, and all of it
 * holds after a restart.
 */
#include <criterion/criterion.h>
#include <goqueue.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/fixture.h"

static const char *dir;
static struct gq_node *node;
static struct gq_config *node_cfg;

static void
setup(void)
{
	dir = gqt_node_setup(&node);
	node_cfg = NULL;
}

static void
teardown(void)
{
	gqt_node_teardown();
	gq_config_destroy(node_cfg);
}

TestSuite(retention, .init = setup, .fini = teardown, .timeout = 120);

static struct gq_config *
make_config(const char *const *kv, size_t n)
{
	struct gq_config *cfg;
	char err[GQ_ERRMSG_SIZE];

	cr_assert_eq(gq_config_create(&cfg), 0);
	for (size_t i = 0; i + 1 < n; i += 2)
		cr_assert_eq(gq_config_set(cfg, kv[i], kv[i + 1], err), 0,
			     "%s=%s: %s", kv[i], kv[i + 1], err);
	return cfg;
}

/* Open the node with the node keys @kv (kept for reopen_node()). */
static void
open_node(const char *const *kv, size_t n)
{
	int rv;

	gq_config_destroy(node_cfg);
	node_cfg = make_config(kv, n);
	rv = gq_node_open(dir, node_cfg, &node);
	cr_assert_eq(rv, 0, "open: %s: %s", gq_strerror(rv),
		     gq_node_errmsg(NULL));
}

static void
reopen_node(void)
{
	int rv;

	gq_node_close(node);
	node = NULL;
	rv = gq_node_open(dir, node_cfg, &node);
	cr_assert_eq(rv, 0, "reopen: %s: %s", gq_strerror(rv),
		     gq_node_errmsg(NULL));
}

/* Retention runs every 200 ms; the log is flushed every 100 ms. */
static const char *const fast_cleanup[] = { "cleanup_interval", "200ms",
					    "flush_interval", "100ms" };

static void
create_topic(const char *topic, const char *const *kv, size_t n)
{
	struct gq_config *cfg = make_config(kv, n);
	int rv = gq_topic_create(node, topic, 1, 1, cfg);

	gq_config_destroy(cfg);
	cr_assert_eq(rv, 0, "create %s: %s: %s", topic, gq_strerror(rv),
		     gq_node_errmsg(node));
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	usleep((useconds_t)ms * 1000);
}

struct waiter {
	int done;
	int status;
	gq_offset offset;
};

static void
waiter_cb(void *arg, int status, int32_t partition, gq_offset base)
{
	struct waiter *w = arg;

	(void)partition;
	w->status = status;
	w->offset = base;
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
}

/*
 * Produce @n messages to partition 0 of @topic, each its own batch, in one
 * asynchronous burst, and wait for all.  Each value is the @len bytes of
 * @payload with "<i>:" written over its start; message i has timestamp
 * @ts + i (or the current time when @ts is 0).  Returns the first offset;
 * the offsets are checked to be contiguous.
 */
static gq_offset
produce_n(const char *topic, int n, const char *payload, size_t len, int64_t ts)
{
	/* Static: a failed assertion must not leave callbacks pointing at a
	 * dead stack frame, nor leak. */
	static struct waiter w[256];
	static char value[1024];
	struct gq_msg m;
	gq_offset first;

	cr_assert_leq(n, 256);
	cr_assert_leq(len, sizeof(value));
	memset(w, 0, sizeof(w));
	memset(&m, 0, sizeof(m));
	for (int i = 0; i < n; i++) {
		char tag[24];
		int tl = snprintf(tag, sizeof(tag), "%d:", i);

		memcpy(value, payload, len);
		memcpy(value, tag, (size_t)tl < len ? (size_t)tl : len);
		m.value = value;
		m.value_len = len;
		m.timestamp = ts != 0 ? ts + i : 0;
		cr_assert_eq(gq_produce_async(node, topic, 0, &m, 1, waiter_cb,
					      &w[i]),
			     0);
	}
	for (int i = 0; i < n; i++)
		while (!__atomic_load_n(&w[i].done, __ATOMIC_SEQ_CST))
			usleep(1000);
	first = w[0].offset;
	for (int i = 0; i < n; i++) {
		cr_assert_eq(w[i].status, 0, "message %d: %s", i,
			     gq_strerror(w[i].status));
		cr_assert_eq(w[i].offset, first + i);
	}
	return first;
}

static struct gq_partition_info
part_info(const char *topic)
{
	struct gq_topic_info *info;
	struct gq_partition_info pi;

	cr_assert_eq(gq_topic_describe(node, topic, &info), 0);
	cr_assert_eq(gq_topic_info_partition(info, 0, &pi), 0);
	gq_topic_info_destroy(info);
	return pi;
}

static gq_offset
list_offset(const char *topic, int64_t when)
{
	gq_offset off = -100;

	cr_assert_eq(gq_list_offsets(node, topic, 0, when, &off), 0);
	return off;
}

/* Read everything from @from (an offset or GQ_OFFSET_EARLIEST): the
 * offsets must run contiguously from @expect_first to the high watermark.
 * Returns the number of messages. */
static gq_offset
read_all(const char *topic, gq_offset from, gq_offset expect_first)
{
	struct gq_fetch *f;
	struct gq_record r;
	gq_offset next = expect_first;
	int rv;

	rv = gq_fetch(node, topic, 0, from, 64 << 20, &f);
	cr_assert_eq(rv, 0, "fetch %s at %lld: %s: %s", topic, (long long)from,
		     gq_strerror(rv), gq_node_errmsg(node));
	while ((rv = gq_fetch_next(f, &r)) == 1) {
		cr_assert_eq(r.offset, next);
		next++;
	}
	cr_assert_eq(rv, 0);
	cr_assert_eq(next, gq_fetch_high_watermark(f));
	gq_fetch_destroy(f);
	return next - expect_first;
}

/* Timestamp of the message at @off. */
static int64_t
timestamp_at(const char *topic, gq_offset off)
{
	struct gq_fetch *f;
	struct gq_record r;
	int64_t ts;

	cr_assert_eq(gq_fetch(node, topic, 0, off, 1, &f), 0);
	cr_assert_eq(gq_fetch_next(f, &r), 1);
	cr_assert_eq(r.offset, off);
	ts = r.timestamp;
	gq_fetch_destroy(f);
	return ts;
}

static void
fetch_fails(const char *topic, gq_offset off, int err)
{
	struct gq_fetch *f = NULL;
	int rv = gq_fetch(node, topic, 0, off, 1 << 20, &f);

	cr_assert_eq(rv, err, "fetch at %lld: got %s, want %s", (long long)off,
		     gq_strerror(rv), gq_strerror(err));
	cr_assert_null(f);
}

static char payload[200];

static void
fill_payload(void)
{
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (char)('a' + i % 26);
}

/* Segments older than retention_time are deleted: the log start moves to
 * the active segment, reads below it fail with GQ_EOFFSET, EARLIEST and
 * time lookups follow it, the newest data stays readable, the active
 * segment stays, and a restart keeps all of that. */
Test(retention, time_deletes_old_segments)
{
	const char *kv[] = { "segment_size",     "4096", "retention_time", "1s",
			     "compression_type", "none" };
	struct gq_partition_info before, after;
	struct gq_fetch *f;
	struct gq_record r;
	int64_t t0 = now_ms();
	gq_offset start;

	fill_payload();
	open_node(fast_cleanup, 4);
	create_topic("rt", kv, 6);
	cr_assert_eq(produce_n("rt", 100, payload, sizeof(payload), t0), 0);
	before = part_info("rt");
	cr_assert_eq(before.high_watermark, 100);
	cr_assert_geq(before.segments, 5, "segments: %u", before.segments);
	cr_assert_geq(before.size_bytes, 100 * sizeof(payload));

	sleep_ms(2500);
	after = part_info("rt");
	start = after.log_start;
	cr_assert_gt(start, 0, "nothing was deleted");
	cr_assert_lt(start, 100, "the active segment was deleted");
	cr_assert_eq(after.segments, 1, "segments: %u", after.segments);
	cr_assert_lt(after.size_bytes, before.size_bytes);
	cr_assert_gt(after.size_bytes, 0);
	cr_assert_eq(after.high_watermark, 100);

	fetch_fails("rt", 0, GQ_EOFFSET);
	fetch_fails("rt", start - 1, GQ_EOFFSET);
	cr_assert_eq(read_all("rt", GQ_OFFSET_EARLIEST, start), 100 - start);
	cr_assert_eq(read_all("rt", start, start), 100 - start);
	cr_assert_eq(timestamp_at("rt", 99), t0 + 99);
	cr_assert_eq(gq_fetch(node, "rt", 0, GQ_OFFSET_EARLIEST, 1, &f), 0);
	cr_assert_eq(gq_fetch_log_start(f), start);
	cr_assert_eq(gq_fetch_next(f, &r), 1);
	cr_assert_eq(r.offset, start);
	gq_fetch_destroy(f);
	cr_assert_eq(list_offset("rt", GQ_OFFSET_EARLIEST), start);
	cr_assert_eq(list_offset("rt", GQ_OFFSET_LATEST), 100);
	/* By time: before everything -> the log start; exact timestamps of
	 * stored messages -> their offsets; after everything -> the end. */
	cr_assert_eq(list_offset("rt", 0), start);
	cr_assert_eq(list_offset("rt", t0), start);
	cr_assert_eq(list_offset("rt", t0 + start), start);
	cr_assert_eq(list_offset("rt", t0 + start + 1), start + 1);
	cr_assert_eq(list_offset("rt", t0 + 99), 99);
	cr_assert_eq(list_offset("rt", t0 + 100), 100);

	/* Appends continue at the high watermark. */
	cr_assert_eq(produce_n("rt", 1, payload, sizeof(payload), 0), 100);
	reopen_node();
	after = part_info("rt");
	cr_assert_geq(after.log_start, start);
	start = after.log_start;
	cr_assert_eq(after.high_watermark, 101);
	fetch_fails("rt", 0, GQ_EOFFSET);
	cr_assert_eq(read_all("rt", GQ_OFFSET_EARLIEST, start), 101 - start);
	cr_assert_eq(timestamp_at("rt", 99), t0 + 99);
}

/* The active segment is never deleted, however old or large its data. */
Test(retention, active_segment_never_deleted)
{
	const char *by_time[] = { "segment_size",     "4096",
				  "retention_time",   "1s",
				  "compression_type", "none" };
	const char *by_size[] = { "segment_size",     "4096",
				  "retention_bytes",  "1",
				  "compression_type", "none" };
	int64_t old = now_ms() - 3600 * 1000;

	fill_payload();
	open_node(fast_cleanup, 4);
	create_topic("at", by_time, 6);
	create_topic("as", by_size, 6);
	cr_assert_eq(produce_n("at", 5, payload, sizeof(payload), old), 0);
	cr_assert_eq(produce_n("as", 5, payload, sizeof(payload), 0), 0);
	cr_assert_eq(part_info("at").segments, 1);
	sleep_ms(1500);
	cr_assert_eq(part_info("at").segments, 1);
	cr_assert_eq(part_info("at").log_start, 0);
	cr_assert_eq(read_all("at", GQ_OFFSET_EARLIEST, 0), 5);
	cr_assert_eq(part_info("as").segments, 1);
	cr_assert_eq(part_info("as").log_start, 0);
	cr_assert_eq(read_all("as", GQ_OFFSET_EARLIEST, 0), 5);
}

/* retention_bytes bounds the partition's size: the oldest segments go
 * until the size is at most the limit, and no more than needed. */
Test(retention, bytes_limit_size)
{
	const char *kv[] = { "segment_size",     "4096",
			     "retention_bytes",  "8192",
			     "retention_time",   "-1",
			     "compression_type", "none" };
	struct gq_partition_info pi;
	gq_offset start;

	fill_payload();
	open_node(fast_cleanup, 4);
	create_topic("rb", kv, 8);
	cr_assert_eq(produce_n("rb", 150, payload, sizeof(payload), 0), 0);
	sleep_ms(1000);
	pi = part_info("rb");
	cr_assert_leq(pi.size_bytes, 8192, "size %llu",
		      (unsigned long long)pi.size_bytes);
	cr_assert_gt(pi.size_bytes, 8192 - 4096, "deleted too much: %llu",
		     (unsigned long long)pi.size_bytes);
	cr_assert_geq(pi.segments, 2);
	cr_assert_gt(pi.log_start, 0);
	cr_assert_eq(pi.high_watermark, 150);
	start = pi.log_start;
	fetch_fails("rb", start - 1, GQ_EOFFSET);
	cr_assert_eq(read_all("rb", GQ_OFFSET_EARLIEST, start), 150 - start);

	cr_assert_eq(produce_n("rb", 100, payload, sizeof(payload), 0), 150);
	sleep_ms(1000);
	pi = part_info("rb");
	cr_assert_leq(pi.size_bytes, 8192);
	cr_assert_gt(pi.log_start, start);
	cr_assert_eq(read_all("rb", GQ_OFFSET_EARLIEST, pi.log_start),
		     250 - pi.log_start);
	cr_assert_eq(list_offset("rb", GQ_OFFSET_EARLIEST), pi.log_start);
}

/* Retention goes by message timestamps, not by when data was written:
 * segments holding only messages stamped two hours ago are deleted under
 * a one-hour retention, the segment where recent messages start is kept,
 * and lookups by time stay right.  The old data is written while retention
 * is idle, so the segment boundaries are known exactly. */
Test(retention, old_timestamps_deleted_by_time)
{
	const char *idle[] = { "cleanup_interval", "1h" };
	const char *kv[] = { "segment_size",     "4096", "retention_time", "1h",
			     "compression_type", "none" };
	int64_t old = now_ms() - 2 * 3600 * 1000;
	int64_t recent;
	gq_offset last_old = -1, first_new;
	struct gq_partition_info pi;

	fill_payload();
	open_node(idle, 2);
	create_topic("ot", kv, 6);
	/* Old messages until the third segment starts with one of them. */
	for (int i = 0; i < 200; i++) {
		last_old = produce_n("ot", 1, payload, sizeof(payload),
				     old + 10 * i);
		cr_assert_eq(last_old, i);
		if (part_info("ot").segments == 3)
			break;
	}
	cr_assert_eq(part_info("ot").segments, 3);
	recent = now_ms();
	first_new = produce_n("ot", 5, payload, sizeof(payload), recent);
	cr_assert_eq(first_new, last_old + 1);
	cr_assert_eq(part_info("ot").segments, 3);
	cr_assert_eq(list_offset("ot", old), 0);

	gq_config_destroy(node_cfg);
	node_cfg = make_config(fast_cleanup, 4);
	reopen_node();
	sleep_ms(1000);
	pi = part_info("ot");
	cr_assert_eq(pi.log_start, last_old,
		     "log start %lld, want %lld (first offset of the segment "
		     "holding recent messages)",
		     (long long)pi.log_start, (long long)last_old);
	cr_assert_eq(pi.segments, 1);
	cr_assert_eq(pi.high_watermark, first_new + 5);
	fetch_fails("ot", last_old - 1, GQ_EOFFSET);
	cr_assert_eq(read_all("ot", GQ_OFFSET_EARLIEST, last_old), 6);
	cr_assert_eq(timestamp_at("ot", last_old), old + 10 * last_old);
	cr_assert_eq(timestamp_at("ot", first_new + 4), recent + 4);
	cr_assert_eq(list_offset("ot", 0), last_old);
	cr_assert_eq(list_offset("ot", old), last_old);
	cr_assert_eq(list_offset("ot", old + 10 * last_old), last_old);
	cr_assert_eq(list_offset("ot", old + 10 * last_old + 1), first_new);
	cr_assert_eq(list_offset("ot", recent - 1000), first_new);
	cr_assert_eq(list_offset("ot", recent + 2), first_new + 2);
	cr_assert_eq(list_offset("ot", recent + 3600 * 1000), first_new + 5);
}

/* Sum of segment bytes over every partition of every topic. */
static uint64_t
node_bytes(void)
{
	struct gq_topic_info *info;
	struct gq_partition_info pi;
	char **names;
	size_t n;
	uint64_t total = 0;

	cr_assert_eq(gq_topic_list(node, &names, &n), 0);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(gq_topic_describe(node, names[i], &info), 0);
		for (int32_t p = 0; p < gq_topic_info_partitions(info); p++) {
			cr_assert_eq(gq_topic_info_partition(info, p, &pi), 0);
			total += pi.size_bytes;
		}
		gq_topic_info_destroy(info);
	}
	gq_topic_list_free(names, n);
	return total;
}

/* max_storage_size caps the node's segment bytes across topics: the
 * globally oldest segments are deleted (here all from the topic with the
 * older messages), the other topic is untouched, and every topic keeps its
 * active segment. */
Test(retention, max_storage_size_across_topics)
{
	const char *nkv[] = { "cleanup_interval", "200ms",
			      "flush_interval",   "100ms",
			      "max_storage_size", "16384" };
	const char *kv[] = { "segment_size", "4096", "compression_type",
			     "none" };
	int64_t now = now_ms();
	struct gq_partition_info a, b;

	fill_payload();
	open_node(nkv, 6);
	create_topic("older", kv, 4);
	create_topic("newer", kv, 4);
	cr_assert_eq(produce_n("older", 40, payload, sizeof(payload),
			       now - 600 * 1000),
		     0);
	cr_assert_eq(produce_n("newer", 40, payload, sizeof(payload), now), 0);
	sleep_ms(1000);
	a = part_info("older");
	b = part_info("newer");
	cr_assert_leq(node_bytes(), 16384, "node holds %llu bytes",
		      (unsigned long long)node_bytes());
	cr_assert_gt(node_bytes(), 16384 - 4096, "deleted too much: %llu",
		     (unsigned long long)node_bytes());
	cr_assert_gt(a.log_start, 0);
	cr_assert_geq(a.segments, 1);
	cr_assert_eq(b.log_start, 0, "the newer topic lost data first");
	cr_assert_eq(a.high_watermark, 40);
	cr_assert_eq(b.high_watermark, 40);
	fetch_fails("older", 0, GQ_EOFFSET);
	cr_assert_eq(read_all("older", GQ_OFFSET_EARLIEST, a.log_start),
		     40 - a.log_start);
	cr_assert_eq(read_all("newer", GQ_OFFSET_EARLIEST, 0), 40);

	/* More new data: now the newer topic's oldest segments go too, but
	 * neither topic loses its active segment. */
	cr_assert_eq(produce_n("newer", 80, payload, sizeof(payload), 0), 40);
	sleep_ms(1000);
	a = part_info("older");
	b = part_info("newer");
	cr_assert_leq(node_bytes(), 16384);
	cr_assert_geq(a.segments, 1);
	cr_assert_geq(b.segments, 1);
	cr_assert_gt(b.log_start, 0);
	cr_assert_eq(read_all("older", GQ_OFFSET_EARLIEST, a.log_start),
		     40 - a.log_start);
	cr_assert_eq(read_all("newer", GQ_OFFSET_EARLIEST, b.log_start),
		     120 - b.log_start);
	cr_assert_eq(timestamp_at("older", 39), now - 600 * 1000 + 39);
}

/* ---- changing a topic's configuration (gq_topic_alter) ---------------- */

TestSuite(topic_alter, .init = setup, .fini = teardown, .timeout = 120);

/* The value of @key in @topic's described configuration, in @out. */
static void
described(const char *topic, const char *key, char *out, size_t size)
{
	struct gq_topic_info *info;
	const char *v;

	cr_assert_eq(gq_topic_describe(node, topic, &info), 0);
	v = gq_config_get(gq_topic_info_config(info), key);
	cr_assert_not_null(v, "%s has no %s", topic, key);
	snprintf(out, size, "%s", v);
	gq_topic_info_destroy(info);
}

static void
expect_described(const char *topic, const char *key, const char *want)
{
	char v[64];

	described(topic, key, v, sizeof(v));
	cr_assert_str_eq(v, want, "%s %s: %s, want %s", topic, key, v, want);
}

static int
alter(const char *topic, const char *const *kv, size_t n)
{
	struct gq_config *cfg = make_config(kv, n);
	int rv = gq_topic_alter(node, topic, cfg);

	gq_config_destroy(cfg);
	return rv;
}

/* The keys set take their new values, the others keep theirs (including
 * keys the topic was created with), describe shows it at once, and the
 * configuration survives a restart; a second change of other keys keeps
 * the first. */
Test(topic_alter, describe_and_restart)
{
	const char *create[] = { "retention_bytes", "1MiB", "compression_type",
				 "lz4" };
	const char *first[] = { "retention_time", "90m", "max_message_size",
				"2KiB" };
	const char *second[] = { "segment_size", "8192", "compression_enabled",
				 "off" };

	open_node(fast_cleanup, 4);
	create_topic("cfg", create, 4);
	expect_described("cfg", "retention_time", "168h");
	cr_assert_eq(alter("cfg", first, 4), 0, "%s", gq_node_errmsg(node));
	expect_described("cfg", "retention_time", "90m");
	expect_described("cfg", "max_message_size", "2048");
	expect_described("cfg", "retention_bytes", "1048576");
	expect_described("cfg", "compression_type", "lz4");
	expect_described("cfg", "segment_size", "104857600");
	cr_assert_eq(alter("cfg", second, 4), 0, "%s", gq_node_errmsg(node));
	expect_described("cfg", "segment_size", "8192");
	expect_described("cfg", "compression_enabled", "false");
	expect_described("cfg", "retention_time", "90m");
	expect_described("cfg", "max_message_size", "2048");

	reopen_node();
	expect_described("cfg", "retention_time", "90m");
	expect_described("cfg", "max_message_size", "2048");
	expect_described("cfg", "segment_size", "8192");
	expect_described("cfg", "compression_enabled", "false");
	expect_described("cfg", "retention_bytes", "1048576");
	expect_described("cfg", "compression_type", "lz4");
	expect_described("cfg", "deduplication_enabled", "false");
}

/* A topic kept forever keeps its old segments through retention passes;
 * once retention_time is lowered the next pass deletes them, and a
 * lowered segment_size makes the partition roll at the new size. */
Test(topic_alter, retention_and_segment_size_apply_live)
{
	const char *kv[] = { "segment_size",     "4096", "retention_time", "-1",
			     "compression_type", "none" };
	const char *keep_1s[] = { "retention_time", "1s" };
	const char *big[] = { "segment_size", "1MiB", "retention_time", "-1" };
	const char *small[] = { "segment_size", "4096" };
	int64_t old = now_ms() - 3600 * 1000;
	struct gq_partition_info pi;

	fill_payload();
	open_node(fast_cleanup, 4);
	create_topic("live", kv, 6);
	cr_assert_eq(produce_n("live", 60, payload, sizeof(payload), old), 0);
	sleep_ms(600);
	pi = part_info("live");
	cr_assert_geq(pi.segments, 3, "segments: %u", pi.segments);
	cr_assert_eq(pi.log_start, 0, "deleted under retention_time -1");

	cr_assert_eq(alter("live", keep_1s, 2), 0, "%s", gq_node_errmsg(node));
	sleep_ms(1000);
	pi = part_info("live");
	cr_assert_gt(pi.log_start, 0, "the new retention deleted nothing");
	cr_assert_eq(pi.segments, 1, "segments: %u", pi.segments);
	cr_assert_eq(pi.high_watermark, 60);
	fetch_fails("live", 0, GQ_EOFFSET);
	cr_assert_eq(read_all("live", GQ_OFFSET_EARLIEST, pi.log_start),
		     60 - pi.log_start);

	/* Kept forever again, with larger segments: 40 more messages
	 * (about 11 KiB) stay in the active segment; back to 4 KiB, the
	 * next 40 need several. */
	cr_assert_eq(alter("live", big, 4), 0, "%s", gq_node_errmsg(node));
	cr_assert_eq(produce_n("live", 40, payload, sizeof(payload), 0), 60);
	pi = part_info("live");
	cr_assert_leq(pi.segments, 2, "segments: %u", pi.segments);
	cr_assert_eq(alter("live", small, 2), 0, "%s", gq_node_errmsg(node));
	cr_assert_eq(produce_n("live", 40, payload, sizeof(payload), 0), 100);
	cr_assert_geq(part_info("live").segments, pi.segments + 2,
		      "segments: %u", part_info("live").segments);
}

/* A lowered max_message_size refuses a batch it accepted before, at
 * once and after a restart; raised again, the batch goes through. */
Test(topic_alter, max_message_size_applies_to_produce)
{
	const char *kv[] = { "compression_enabled", "false" };
	const char *lower[] = { "max_message_size", "1024" };
	const char *raise[] = { "max_message_size", "1MiB" };
	static char value[2000];
	struct gq_msg m;
	gq_offset off = -1;
	int rv;

	memset(value, 'v', sizeof(value));
	memset(&m, 0, sizeof(m));
	m.value = value;
	m.value_len = sizeof(value);
	open_node(fast_cleanup, 4);
	create_topic("big", kv, 2);
	cr_assert_eq(gq_produce(node, "big", 0, &m, 1, NULL, &off), 0);
	cr_assert_eq(off, 0);
	cr_assert_eq(alter("big", lower, 2), 0, "%s", gq_node_errmsg(node));
	rv = gq_produce(node, "big", 0, &m, 1, NULL, &off);
	cr_assert_eq(rv, GQ_ETOOBIG, "got %s", gq_strerror(rv));
	cr_assert(strstr(gq_node_errmsg(node), "max_message_size") != NULL,
		  "detail: %s", gq_node_errmsg(node));
	reopen_node();
	rv = gq_produce(node, "big", 0, &m, 1, NULL, &off);
	cr_assert_eq(rv, GQ_ETOOBIG, "after a restart: %s", gq_strerror(rv));
	cr_assert_eq(alter("big", raise, 2), 0, "%s", gq_node_errmsg(node));
	cr_assert_eq(gq_produce(node, "big", 0, &m, 1, NULL, &off), 0);
	cr_assert_eq(off, 1);
}

/* Errors: an unknown topic, a node key, no key at all, an internal or
 * malformed name, a changed deduplication key (the same value is
 * accepted); the detail names the key, and nothing changed. */
Test(topic_alter, errors)
{
	const char *dedup[] = { "deduplication_enabled", "true" };
	const char *window[] = { "deduplication_window", "500" };
	const char *same[] = { "deduplication_enabled", "false",
			       "deduplication_window",  "10000",
			       "retention_time",        "2h" };
	const char *ok[] = { "retention_time", "1h" };
	struct gq_config *cfg;
	char err[GQ_ERRMSG_SIZE];
	int rv;

	open_node(fast_cleanup, 4);
	create_topic("e", NULL, 0);
	rv = alter("nope", ok, 2);
	cr_assert_eq(rv, GQ_ENOTOPIC, "got %s", gq_strerror(rv));

	cr_assert_eq(gq_config_create(&cfg), 0);
	/* Unknown keys and bad values never get into a configuration. */
	cr_assert_eq(gq_config_set(cfg, "retention_tme", "1h", err), GQ_EINVAL);
	cr_assert(strstr(err, "retention_tme") != NULL, "%s", err);
	cr_assert_eq(gq_config_set(cfg, "segment_size", "12", err), GQ_EINVAL);
	cr_assert(strstr(err, "segment_size") != NULL, "%s", err);
	rv = gq_topic_alter(node, "e", cfg);
	cr_assert_eq(rv, GQ_EINVAL, "no key: %s", gq_strerror(rv));
	rv = gq_topic_alter(node, "e", NULL);
	cr_assert_eq(rv, GQ_EINVAL, "NULL: %s", gq_strerror(rv));
	cr_assert_eq(gq_config_set(cfg, "cleanup_interval", "1s", err), 0);
	rv = gq_topic_alter(node, "e", cfg);
	cr_assert_eq(rv, GQ_EINVAL, "node key: %s", gq_strerror(rv));
	cr_assert(strstr(gq_node_errmsg(node), "cleanup_interval") != NULL,
		  "detail: %s", gq_node_errmsg(node));
	gq_config_destroy(cfg);

	rv = alter("__consumer_offsets", ok, 2);
	cr_assert_eq(rv, GQ_EBADNAME, "internal: %s", gq_strerror(rv));
	rv = alter("a/b", ok, 2);
	cr_assert_eq(rv, GQ_EBADNAME, "bad name: %s", gq_strerror(rv));

	rv = alter("e", dedup, 2);
	cr_assert_eq(rv, GQ_EINVAL, "dedup: %s", gq_strerror(rv));
	cr_assert(strstr(gq_node_errmsg(node), "deduplication_enabled") != NULL,
		  "detail: %s", gq_node_errmsg(node));
	rv = alter("e", window, 2);
	cr_assert_eq(rv, GQ_EINVAL, "window: %s", gq_strerror(rv));
	cr_assert(strstr(gq_node_errmsg(node), "deduplication_window") != NULL,
		  "detail: %s", gq_node_errmsg(node));
	expect_described("e", "retention_time", "168h");
	expect_described("e", "deduplication_window", "10000");

	cr_assert_eq(alter("e", same, 6), 0, "%s", gq_node_errmsg(node));
	expect_described("e", "retention_time", "2h");
	expect_described("e", "deduplication_enabled", "false");
}

struct done {
	int calls;
	int status;
	char errmsg[GQ_ERRMSG_SIZE];
};

static void
done_cb(void *arg, int status, const char *errmsg)
{
	struct done *d = arg;

	d->status = status;
	snprintf(d->errmsg, sizeof(d->errmsg), "%s", errmsg);
	__atomic_add_fetch(&d->calls, 1, __ATOMIC_SEQ_CST);
}

static void
wait_done(struct done *d)
{
	for (int i = 0;
	     i < 10000 && !__atomic_load_n(&d->calls, __ATOMIC_SEQ_CST); i++)
		sleep_ms(1);
	cr_assert_eq(__atomic_load_n(&d->calls, __ATOMIC_SEQ_CST), 1);
}

/* gq_topic_alter_async reports through its callback, once: success with
 * the change visible, failure with the detail; a validation error is
 * returned and the callback never runs. */
Test(topic_alter, async)
{
	const char *ok[] = { "retention_bytes", "64MiB" };
	static struct done d1, d2;
	struct gq_config *cfg;

	open_node(fast_cleanup, 4);
	create_topic("as", NULL, 0);
	cfg = make_config(ok, 2);
	cr_assert_eq(gq_topic_alter_async(node, "as", cfg, done_cb, &d1), 0);
	cr_assert_eq(gq_topic_alter_async(node, "gone", cfg, done_cb, &d2), 0);
	cr_assert_eq(gq_topic_alter_async(node, "as", NULL, done_cb, &d2),
		     GQ_EINVAL);
	gq_config_destroy(cfg);
	wait_done(&d1);
	cr_assert_eq(d1.status, 0, "%s", d1.errmsg);
	expect_described("as", "retention_bytes", "67108864");
	wait_done(&d2);
	cr_assert_eq(d2.status, GQ_ENOTOPIC);
	cr_assert(strstr(d2.errmsg, "gone") != NULL, "%s", d2.errmsg);
}
