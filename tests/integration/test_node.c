/* SPDX-License-Identifier: MIT */
/*
 * test_node.c - a single node through the public API: lifecycle, topics,
 * produce and fetch, offsets, errors.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <goqueue.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/fixture.h"

static const char *dir;
static struct gq_node *node;

static void
setup(void)
{
	dir = gqt_node_setup(&node);
}

TestSuite(node, .init = setup, .fini = gqt_node_teardown, .timeout = 60);

static gq_offset
produce_str(const char *topic, int32_t part, const char *key, const char *value)
{
	struct gq_msg m;
	gq_offset off = -1;
	int rv;

	memset(&m, 0, sizeof(m));
	m.key = key;
	m.key_len = key ? strlen(key) : 0;
	m.value = value;
	m.value_len = value ? strlen(value) : 0;
	rv = gq_produce(node, topic, part, &m, 1, NULL, &off);
	cr_assert_eq(rv, 0, "produce: %s: %s", gq_strerror(rv),
		     gq_node_errmsg(node));
	return off;
}

/* A fresh directory opens, has only the internal offsets topic, and closes. */
Test(node, open_close_empty)
{
	char **names;
	size_t n;

	gqt_open(&node);
	cr_assert(gq_node_ready(node));
	cr_assert_eq(gq_topic_list(node, &names, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(names[0], "__consumer_offsets");
	gq_topic_list_free(names, n);
}

/* Created topics are listed, described and survive a reopen. */
Test(node, topic_create_list_describe)
{
	struct gq_topic_info *info;
	struct gq_partition_info pi;
	char **names;
	size_t n;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "orders", 3, 1, NULL), 0, "%s",
		     gq_node_errmsg(node));
	cr_assert_eq(gq_topic_create(node, "orders", 3, 1, NULL), GQ_EEXIST);
	gqt_reopen(&node);
	cr_assert_eq(gq_topic_list(node, &names, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(names[1], "orders");
	gq_topic_list_free(names, n);
	cr_assert_eq(gq_topic_describe(node, "orders", &info), 0);
	cr_assert_eq(gq_topic_info_partitions(info), 3);
	cr_assert_eq(gq_topic_info_replication_factor(info), 1);
	cr_assert_str_eq(
		gq_config_get(gq_topic_info_config(info), "compression_type"),
		"gzip");
	cr_assert_eq(gq_topic_info_partition(info, 2, &pi), 0);
	cr_assert_eq(pi.partition, 2);
	cr_assert_eq(pi.leader, 1);
	cr_assert_eq(pi.high_watermark, 0);
	cr_assert_eq(gq_topic_info_partition(info, 3, &pi), GQ_ENOPARTITION);
	gq_topic_info_destroy(info);
}

static bool
dir_has_entry_prefix(const char *path, const char *prefix)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool found = false;

	if (d == NULL)
		return false;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			found = true;
	closedir(d);
	return found;
}

/* Deleting a topic removes its data from disk; the name can be reused. */
Test(node, topic_delete_removes_data)
{
	char data[600];
	struct gq_fetch *f;

	gqt_open(&node);
	snprintf(data, sizeof(data), "%s/data", dir);
	cr_assert_eq(gq_topic_create(node, "tmp", 2, 1, NULL), 0);
	produce_str("tmp", 0, NULL, "hello");
	cr_assert(dir_has_entry_prefix(data, "tmp."));
	cr_assert_eq(gq_topic_delete(node, "tmp"), 0);
	cr_assert(!dir_has_entry_prefix(data, "tmp."));
	cr_assert_eq(gq_topic_delete(node, "tmp"), GQ_ENOTOPIC);
	cr_assert_eq(gq_fetch(node, "tmp", 0, 0, 1024, &f), GQ_ENOTOPIC);
	cr_assert_eq(gq_topic_create(node, "tmp", 1, 1, NULL), 0);
	cr_assert_eq(produce_str("tmp", 0, NULL, "again"), 0);
	gqt_reopen(&node);
	cr_assert(dir_has_entry_prefix(data, "tmp."));
}

/* Messages come back with their keys, values, headers and timestamps. */
Test(node, produce_fetch_round_trip)
{
	struct gq_header hdrs[2] = {
		{ "h1", 2, "v1", 2 },
		{ "h2", 2, NULL, 0 },
	};
	struct gq_msg m[3];
	struct gq_record r;
	struct gq_header h;
	struct gq_fetch *f;
	gq_offset off;
	int32_t part;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "t", 1, 1, NULL), 0);
	memset(m, 0, sizeof(m));
	m[0].key = "k0";
	m[0].key_len = 2;
	m[0].value = "value-0";
	m[0].value_len = 7;
	m[0].headers = hdrs;
	m[0].header_count = 2;
	m[0].timestamp = 1700000000123;
	m[1].value = "value-1"; /* null key */
	m[1].value_len = 7;
	m[2].key = "k2"; /* null value: a tombstone */
	m[2].key_len = 2;
	cr_assert_eq(gq_produce(node, "t", 0, m, 3, &part, &off), 0);
	cr_assert_eq(part, 0);
	cr_assert_eq(off, 0);
	cr_assert_eq(produce_str("t", 0, "k3", "value-3"), 3);

	cr_assert_eq(gq_fetch(node, "t", 0, 0, 1 << 20, &f), 0);
	cr_assert_eq(gq_fetch_high_watermark(f), 4);
	cr_assert_eq(gq_fetch_next(f, &r), 1);
	cr_assert_eq(r.offset, 0);
	cr_assert_eq(r.timestamp, 1700000000123);
	cr_assert_eq(r.key_len, 2);
	cr_assert_eq(memcmp(r.key, "k0", 2), 0);
	cr_assert_eq(memcmp(r.value, "value-0", 7), 0);
	cr_assert_eq(r.header_count, 2);
	cr_assert_eq(gq_fetch_header(f, 0, &h), 0);
	cr_assert_eq(h.key_len, 2);
	cr_assert_eq(memcmp(h.key, "h1", 2), 0);
	cr_assert_eq(memcmp(h.value, "v1", 2), 0);
	cr_assert_eq(gq_fetch_header(f, 1, &h), 0);
	cr_assert_null(h.value);
	cr_assert_eq(gq_fetch_header(f, 2, &h), GQ_EINVAL);
	cr_assert_eq(gq_fetch_next(f, &r), 1);
	cr_assert_eq(r.offset, 1);
	cr_assert_null(r.key);
	cr_assert_gt(r.timestamp, 1700000000123);
	cr_assert_eq(gq_fetch_next(f, &r), 1);
	cr_assert_eq(r.offset, 2);
	cr_assert_null(r.value);
	cr_assert_eq(gq_fetch_next(f, &r), 1);
	cr_assert_eq(r.offset, 3);
	cr_assert_eq(gq_fetch_next(f, &r), 0);
	gq_fetch_destroy(f);

	/* From the middle of a batch: earlier records are skipped. */
	cr_assert_eq(gq_fetch(node, "t", 0, 1, 1 << 20, &f), 0);
	cr_assert_eq(gq_fetch_next(f, &r), 1);
	cr_assert_eq(r.offset, 1);
	gq_fetch_destroy(f);
	/* At the end: empty; past it: out of range. */
	cr_assert_eq(gq_fetch(node, "t", 0, 4, 1 << 20, &f), 0);
	cr_assert_eq(gq_fetch_next(f, &r), 0);
	gq_fetch_destroy(f);
	cr_assert_eq(gq_fetch(node, "t", 0, 5, 1 << 20, &f), GQ_EOFFSET);
}

struct async_state {
	int done;
	int failed;
	gq_offset offsets[1000];
};

static void
async_cb(void *arg, int status, int32_t partition, gq_offset base)
{
	struct async_state *s = arg;

	(void)partition;
	if (status != 0)
		s->failed++;
	else
		s->offsets[s->done] = base;
	__atomic_add_fetch(&s->done, 1, __ATOMIC_SEQ_CST);
}

/* Many async produces in flight all complete, in order, offsets contiguous. */
Test(node, async_many_in_flight)
{
	static struct async_state s;
	struct gq_msg m;
	char buf[32];

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "a", 1, 1, NULL), 0);
	memset(&m, 0, sizeof(m));
	for (int i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "m%d", i);
		m.value = buf;
		m.value_len = strlen(buf);
		cr_assert_eq(
			gq_produce_async(node, "a", 0, &m, 1, async_cb, &s), 0);
	}
	while (__atomic_load_n(&s.done, __ATOMIC_SEQ_CST) < 1000)
		usleep(1000);
	cr_assert_eq(s.failed, 0);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(s.offsets[i], i);
}

/* The offsets of the earliest, latest and by-time queries are right. */
Test(node, list_offsets)
{
	struct gq_msg m;
	gq_offset off;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "o", 1, 1, NULL), 0);
	memset(&m, 0, sizeof(m));
	m.value = "x";
	m.value_len = 1;
	for (int i = 0; i < 5; i++) {
		m.timestamp = 1000 * (i + 1);
		cr_assert_eq(gq_produce(node, "o", 0, &m, 1, NULL, NULL), 0);
	}
	cr_assert_eq(gq_list_offsets(node, "o", 0, GQ_OFFSET_EARLIEST, &off),
		     0);
	cr_assert_eq(off, 0);
	cr_assert_eq(gq_list_offsets(node, "o", 0, GQ_OFFSET_LATEST, &off), 0);
	cr_assert_eq(off, 5);
	cr_assert_eq(gq_list_offsets(node, "o", 0, 2500, &off), 0);
	cr_assert_eq(off, 2);
	cr_assert_eq(gq_list_offsets(node, "o", 0, 99999, &off), 0);
	cr_assert_eq(off, 5);
}

/* Keyed produce to any partition lands on the same partition each time. */
Test(node, key_partitioning_is_stable)
{
	struct gq_msg m;
	int32_t first, part;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "k", 8, 1, NULL), 0);
	memset(&m, 0, sizeof(m));
	m.key = "customer-42";
	m.key_len = strlen("customer-42");
	m.value = "v";
	m.value_len = 1;
	cr_assert_eq(
		gq_produce(node, "k", GQ_PARTITION_ANY, &m, 1, &first, NULL),
		0);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(gq_produce(node, "k", GQ_PARTITION_ANY, &m, 1,
					&part, NULL),
			     0);
		cr_assert_eq(part, first);
	}
}

/* Bad names, unknown topics and partitions, oversize batches all fail
 * with their own codes and leave the node working. */
Test(node, bad_input)
{
	struct gq_config *cfg;
	struct gq_msg m;
	struct gq_fetch *f;
	static char big[4096];
	char err[GQ_ERRMSG_SIZE];

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "bad/name", 1, 1, NULL),
		     GQ_EBADNAME);
	cr_assert_eq(gq_topic_create(node, "", 1, 1, NULL), GQ_EBADNAME);
	cr_assert_eq(gq_topic_create(node, "..", 1, 1, NULL), GQ_EBADNAME);
	cr_assert_eq(gq_topic_create(node, "__mine", 1, 1, NULL), GQ_EBADNAME);
	cr_assert_eq(gq_topic_create(node, "zero", 0, 1, NULL), GQ_EINVAL);
	cr_assert_eq(gq_topic_create(node, "rf", 1, 3, NULL), GQ_EINVAL);
	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "no_such_key", "1", err), GQ_EINVAL);
	cr_assert(strstr(err, "no_such_key") != NULL);
	cr_assert_eq(gq_config_set(cfg, "max_message_size", "1024", err), 0);
	cr_assert_eq(gq_config_set(cfg, "compression_type", "none", err), 0);
	cr_assert_eq(gq_topic_create(node, "small", 2, 1, cfg), 0);
	gq_config_destroy(cfg);

	memset(&m, 0, sizeof(m));
	m.value = big;
	m.value_len = sizeof(big);
	cr_assert_eq(gq_produce(node, "small", 0, &m, 1, NULL, NULL),
		     GQ_ETOOBIG);
	cr_assert(strstr(gq_node_errmsg(node), "max_message_size") != NULL);
	m.value_len = 10;
	cr_assert_eq(gq_produce(node, "nope", 0, &m, 1, NULL, NULL),
		     GQ_ENOTOPIC);
	cr_assert_eq(gq_produce(node, "small", 2, &m, 1, NULL, NULL),
		     GQ_ENOPARTITION);
	cr_assert_eq(gq_produce(node, "small", 0, &m, 0, NULL, NULL),
		     GQ_EINVAL);
	cr_assert_eq(gq_fetch(node, "small", 7, 0, 100, &f), GQ_ENOPARTITION);
	cr_assert_eq(gq_fetch(node, "small", 0, 3, 100, &f), GQ_EOFFSET);
	cr_assert_eq(gq_produce(node, "small", 0, &m, 1, NULL, NULL), 0);
}

/* A second node cannot open a directory that is in use. */
Test(node, directory_lock)
{
	struct gq_node *second = NULL;

	gqt_open(&node);
	cr_assert_eq(gq_node_open(dir, NULL, &second), GQ_EBUSY);
	cr_assert(strstr(gq_node_errmsg(NULL), "in use") != NULL);
	cr_assert_null(second);
}

/* An invalid node configuration is refused with the key named. */
Test(node, bad_config)
{
	struct gq_config *cfg;

	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "segment_size", "12", NULL), GQ_EINVAL);
	cr_assert_eq(gq_config_set(cfg, "cleanup_interval", "1s", NULL), 0);
	cr_assert_eq(gq_node_open(dir, cfg, &node), 0);
	gq_config_destroy(cfg);
}

/* Committed group offsets are durable and per group and partition. */
Test(node, group_offsets)
{
	gq_offset off;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "g", 2, 1, NULL), 0);
	cr_assert_eq(gq_group_fetch_offset(node, "grp", "g", 0, &off), 0);
	cr_assert_eq(off, -1);
	cr_assert_eq(gq_group_commit(node, "grp", "g", 0, 42, "meta"), 0);
	cr_assert_eq(gq_group_commit(node, "grp", "g", 1, 7, NULL), 0);
	cr_assert_eq(gq_group_commit(node, "other", "g", 0, 1, NULL), 0);
	cr_assert_eq(gq_group_commit(node, "grp", "nope", 0, 1, NULL),
		     GQ_ENOTOPIC);
	cr_assert_eq(gq_group_commit(node, "grp", "g", 9, 1, NULL),
		     GQ_ENOPARTITION);
	gqt_reopen(&node);
	cr_assert_eq(gq_group_fetch_offset(node, "grp", "g", 0, &off), 0);
	cr_assert_eq(off, 42);
	cr_assert_eq(gq_group_fetch_offset(node, "grp", "g", 1, &off), 0);
	cr_assert_eq(off, 7);
	cr_assert_eq(gq_group_fetch_offset(node, "other", "g", 0, &off), 0);
	cr_assert_eq(off, 1);
}

/* Data produced before a close is all there after reopening, in order. */
Test(node, reopen_keeps_messages)
{
	struct gq_record r;
	struct gq_fetch *f;
	char buf[32];
	int n = 0;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "d", 1, 1, NULL), 0);
	for (int i = 0; i < 200; i++) {
		snprintf(buf, sizeof(buf), "msg-%d", i);
		cr_assert_eq(produce_str("d", 0, NULL, buf), i);
	}
	gqt_reopen(&node);
	cr_assert_eq(produce_str("d", 0, NULL, "msg-200"), 200);
	cr_assert_eq(gq_fetch(node, "d", 0, 0, 1 << 20, &f), 0);
	while (gq_fetch_next(f, &r) == 1) {
		snprintf(buf, sizeof(buf), "msg-%d", n);
		cr_assert_eq(r.offset, n);
		cr_assert_eq(r.value_len, strlen(buf));
		cr_assert_eq(memcmp(r.value, buf, r.value_len), 0);
		n++;
	}
	gq_fetch_destroy(f);
	cr_assert_eq(n, 201);
}

struct close_state {
	int calls;
	int acked;
	int other;
	gq_offset max_acked;
};

static void
close_cb(void *arg, int status, int32_t partition, gq_offset base)
{
	struct close_state *s = arg;

	(void)partition;
	s->calls++;
	if (status == 0) {
		s->acked++;
		if (base > s->max_acked)
			s->max_acked = base;
	} else if (status != GQ_ECLOSED && status != GQ_EUNKNOWN) {
		s->other++;
	}
}

/* Closing with thousands of produces in flight drains them safely: every
 * callback runs exactly once (acknowledged, GQ_ECLOSED or GQ_EUNKNOWN),
 * and everything acknowledged is there after reopening. */
Test(node, close_with_produces_in_flight)
{
	static struct close_state s = { .max_acked = -1 };
	struct gq_msg m;
	gq_offset hw;
	int sent = 0;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "busy", 1, 1, NULL), 0);
	memset(&m, 0, sizeof(m));
	m.value = "payload";
	m.value_len = 7;
	for (int i = 0; i < 5000; i++) {
		if (gq_produce_async(node, "busy", 0, &m, 1, close_cb, &s) != 0)
			break;
		sent++;
	}
	gq_node_close(node); /* callbacks have all run when this returns */
	node = NULL;
	cr_assert_eq(s.calls, sent);
	cr_assert_eq(s.other, 0);
	gqt_open(&node);
	cr_assert_eq(gq_list_offsets(node, "busy", 0, GQ_OFFSET_LATEST, &hw),
		     0);
	cr_assert_geq(hw, s.acked);
	cr_assert_gt(hw, s.max_acked);
	cr_log_info("%d sent, %d acknowledged, %lld stored", sent, s.acked,
		    (long long)hw);
}

struct async_admin {
	atomic_int calls;
	atomic_int status;
	int64_t id;
	char errmsg[GQ_ERRMSG_SIZE];
};

static void
admin_done(void *arg, int status, const char *errmsg)
{
	struct async_admin *a = arg;

	atomic_store(&a->status, status);
	snprintf(a->errmsg, sizeof(a->errmsg), "%s", errmsg);
	atomic_fetch_add(&a->calls, 1);
}

static void
pid_done(void *arg, int status, int64_t id, int16_t epoch)
{
	struct async_admin *a = arg;

	(void)epoch;
	a->id = id;
	atomic_store(&a->status, status);
	atomic_fetch_add(&a->calls, 1);
}

static void
await_calls(struct async_admin *a, int n)
{
	for (int i = 0; i < 10000 && atomic_load(&a->calls) < n; i++)
		usleep(1000);
	cr_assert_eq(atomic_load(&a->calls), n);
}

/* The asynchronous admin calls report through their callbacks: create
 * (then the topic serves), a duplicate, delete, and producer ids that
 * never repeat. */
Test(node, async_admin_calls)
{
	static struct async_admin a, b, p1, p2;

	gqt_open(&node);
	cr_assert_eq(
		gq_topic_create_async(node, "as", 2, 1, NULL, admin_done, &a),
		0);
	await_calls(&a, 1);
	cr_assert_eq(atomic_load(&a.status), 0, "%s", a.errmsg);
	cr_assert_eq(produce_str("as", 1, NULL, "x"), 0);
	cr_assert_eq(
		gq_topic_create_async(node, "as", 2, 1, NULL, admin_done, &b),
		0);
	await_calls(&b, 1);
	cr_assert_eq(atomic_load(&b.status), GQ_EEXIST);
	cr_assert_neq(b.errmsg[0], '\0');
	cr_assert_eq(gq_topic_create_async(node, "bad/name", 1, 1, NULL,
					   admin_done, &b),
		     GQ_EBADNAME);
	cr_assert_eq(gq_topic_delete_async(node, "as", admin_done, &a), 0);
	await_calls(&a, 2);
	cr_assert_eq(atomic_load(&a.status), 0);
	cr_assert_eq(gq_producer_id_async(node, pid_done, &p1), 0);
	cr_assert_eq(gq_producer_id_async(node, pid_done, &p2), 0);
	await_calls(&p1, 1);
	await_calls(&p2, 1);
	cr_assert_eq(atomic_load(&p1.status), 0);
	cr_assert_gt(p1.id, 0);
	cr_assert_neq(p1.id, p2.id);
}

/* gq_node_stats(): the controller first, then each partition replica by
 * topic and partition, all led and serving on a lone node, with indexes
 * that move as messages are produced and offsets that match them. */
Test(node, stats)
{
	struct gq_node_stats *st, *st2;
	const struct gq_replica_stats *r;
	char value[100];

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "beta", 2, 1, NULL), 0);
	cr_assert_eq(gq_topic_create(node, "alpha", 1, 1, NULL), 0);
	for (int i = 0; i < 30; i++) {
		snprintf(value, sizeof(value), "message %d", i);
		produce_str("beta", i % 2, NULL, value);
	}
	produce_str("alpha", 0, NULL, "one");
	cr_assert_eq(gq_node_stats(node, &st), 0, "%s", gq_node_errmsg(node));
	cr_assert_eq(st->node_id, gq_node_id(node));
	cr_assert_eq(st->controller, gq_node_id(node));
	cr_assert_eq(st->topics, 3); /* with __consumer_offsets */
	/* controller, __consumer_offsets/0, alpha/0, beta/0, beta/1 */
	cr_assert_eq(st->replica_count, 5);
	cr_assert_eq(st->leaders, 5);
	cr_assert_str_eq(st->replicas[0].topic, "");
	cr_assert_eq(st->replicas[0].partition, -1);
	cr_assert_str_eq(st->replicas[1].topic, "__consumer_offsets");
	cr_assert_str_eq(st->replicas[2].topic, "alpha");
	cr_assert_str_eq(st->replicas[3].topic, "beta");
	cr_assert_eq(st->replicas[3].partition, 0);
	cr_assert_eq(st->replicas[4].partition, 1);
	for (size_t i = 0; i < st->replica_count; i++) {
		r = &st->replicas[i];
		cr_assert_eq(r->role, GQ_RAFT_LEADER, "%zu", i);
		cr_assert(r->serving, "%zu", i);
		cr_assert_not(r->catching_up);
		cr_assert_eq(r->leader, gq_node_id(node));
		cr_assert_eq(r->voters, 1);
		cr_assert_geq(r->term, 1);
		cr_assert_geq(r->last_index, r->commit_index);
		cr_assert_geq(r->commit_index, r->applied_index);
		cr_assert_gt(r->applied_index, 0);
	}
	cr_assert_eq(st->replicas[0].high_watermark, -1);
	cr_assert_eq(st->replicas[2].high_watermark, 1);
	cr_assert_eq(st->replicas[3].high_watermark, 15);
	cr_assert_eq(st->replicas[4].high_watermark, 15);
	cr_assert_eq(st->replicas[3].log_start, 0);
	cr_assert_gt(st->replicas[3].size_bytes, 0);
	cr_assert_eq(st->replicas[3].segments, 1);
	cr_assert_gt(st->disk_bytes, st->replicas[3].size_bytes);
	cr_assert_gt(st->disk_free, 0);

	/* Ten more messages: beta/0's log grows by ten entries or fewer
	 * (coalesced), and its offsets by exactly ten. */
	for (int i = 0; i < 10; i++)
		produce_str("beta", 0, NULL, "more");
	cr_assert_eq(gq_node_stats(node, &st2), 0);
	cr_assert_eq(st2->replicas[3].high_watermark, 25);
	cr_assert_gt(st2->replicas[3].applied_index,
		     st->replicas[3].applied_index);
	cr_assert_leq(st2->replicas[3].applied_index,
		      st->replicas[3].applied_index + 10);
	cr_assert_gt(st2->replicas[3].size_bytes, st->replicas[3].size_bytes);
	cr_assert_geq(st2->uptime_ms, st->uptime_ms);
	gq_node_stats_free(st2);
	gq_node_stats_free(st);
	gq_node_stats_free(NULL);
	cr_assert_eq(gq_node_stats(NULL, &st), GQ_EINVAL);
	cr_assert_eq(gq_node_stats(node, NULL), GQ_EINVAL);
}
