/* SPDX-License-Identifier: MIT */
/*
 * test_idempotence.c - exactly-once appends through the public API:
 * producer ids are unique and never reused across restarts; a retried
 * gq_producer_send() batch is stored once and answered with its original
 * offset, also after the node restarted; raw Kafka batches carrying a
 * producer id, epoch and sequence are checked like Kafka does (gaps,
 * fenced epochs, duplicates of the last five batches, sequence wrap); and
 * content deduplication (deduplication_enabled) stores a message once per
 * window, across restarts.
 */
#include <criterion/criterion.h>
#include <goqueue.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../lib/fixture.h"
#include "../lib/kbatch.h"

static const char *dir;
static struct gq_node *node;

static void
setup(void)
{
	dir = gqt_node_setup(&node);
}

static void destroy_producers(void);

/* Producers before the node they belong to; buffers after the node, whose
 * close ends any produce still using one. */
static void
teardown(void)
{
	destroy_producers();
	gqt_node_teardown();
	kb_release_all();
}

TestSuite(idempotence, .init = setup, .fini = teardown, .timeout = 120);

/* ---------------------------------------------------------------------- */
/* Produce and fetch helpers                                               */
/* ---------------------------------------------------------------------- */

/* A batch of @n records "<tag>-<i>" from producer @pid/@epoch starting at
 * sequence @seq, as a Kafka idempotent producer sends it. */
static void
idem_batch(struct kbuf *out, int64_t pid, int16_t epoch, int32_t seq, int n,
	   const char *tag)
{
	struct gq_msg m[16];
	char vals[16][48];
	struct kbuf rec = { 0 };
	int64_t ts = gqt_now_ms();

	cr_assert_leq(n, 16);
	memset(m, 0, sizeof(m));
	for (int i = 0; i < n; i++) {
		snprintf(vals[i], sizeof(vals[i]), "%s-%d", tag, i);
		m[i].value = vals[i];
		m[i].value_len = strlen(vals[i]);
		m[i].timestamp = ts;
	}
	kb_records(&rec, m, (size_t)n);
	kb_batch(out, rec.p, rec.len, 0, n, ts, ts, pid, epoch, seq);
	kb_free(&rec);
}

/* A raw idempotent batch that must be stored at @expect. */
static void
raw_ok(const char *topic, int64_t pid, int16_t epoch, int32_t seq, int n,
       gq_offset expect)
{
	struct kbuf b = { 0 };
	gq_offset off;
	int rv;

	idem_batch(&b, pid, epoch, seq, n, "r");
	rv = gqt_produce_raw(node, topic, 0, b.p, b.len, &off);
	cr_assert_eq(rv, 0, "pid %lld epoch %d seq %d: %s: %s", (long long)pid,
		     epoch, seq, gq_strerror(rv), gq_node_errmsg(node));
	cr_assert_eq(off, expect, "pid %lld epoch %d seq %d: offset %lld",
		     (long long)pid, epoch, seq, (long long)off);
	kb_free(&b);
}

/* A raw idempotent batch that must be refused with @err. */
static void
raw_fails(const char *topic, int64_t pid, int16_t epoch, int32_t seq, int n,
	  int err)
{
	struct kbuf b = { 0 };
	gq_offset off;
	int rv;

	idem_batch(&b, pid, epoch, seq, n, "bad");
	rv = gqt_produce_raw(node, topic, 0, b.p, b.len, &off);
	cr_assert_eq(rv, err, "pid %lld epoch %d seq %d: got %s, want %s",
		     (long long)pid, epoch, seq, gq_strerror(rv),
		     gq_strerror(err));
	cr_assert_eq(off, -1);
	kb_free(&b);
}

static gq_offset
hw(const char *topic, int32_t part)
{
	gq_offset off = -1;

	cr_assert_eq(gq_list_offsets(node, topic, part, GQ_OFFSET_LATEST, &off),
		     0);
	return off;
}

/* Messages stored in the partition, checking offsets are contiguous. */
static size_t
count_messages(const char *topic, int32_t part)
{
	struct gq_fetch *f;
	struct gq_record r;
	gq_offset next;
	size_t n = 0;
	int rv;

	cr_assert_eq(
		gq_fetch(node, topic, part, GQ_OFFSET_EARLIEST, 64 << 20, &f),
		0);
	next = gq_fetch_log_start(f);
	while ((rv = gq_fetch_next(f, &r)) == 1) {
		cr_assert_eq(r.offset, next);
		next++;
		n++;
	}
	cr_assert_eq(rv, 0);
	cr_assert_eq(next, gq_fetch_high_watermark(f));
	gq_fetch_destroy(f);
	return n;
}

/* The value stored at @off must be @value. */
static void
check_value(const char *topic, int32_t part, gq_offset off, const char *value)
{
	struct gq_fetch *f;
	struct gq_record r;

	cr_assert_eq(gq_fetch(node, topic, part, off, 1 << 20, &f), 0);
	cr_assert_eq(gq_fetch_next(f, &r), 1);
	cr_assert_eq(r.offset, off);
	cr_assert_eq(r.value_len, strlen(value), "offset %lld", (long long)off);
	cr_assert_eq(memcmp(r.value, value, r.value_len), 0, "offset %lld",
		     (long long)off);
	gq_fetch_destroy(f);
}

/* Single-message produce of @value; returns its offset. */
static gq_offset
produce_value(const char *topic, const char *key, const char *value)
{
	struct gq_msg m;
	gq_offset off = -1;
	int rv;

	memset(&m, 0, sizeof(m));
	m.key = key;
	m.key_len = key ? strlen(key) : 0;
	m.value = value;
	m.value_len = strlen(value);
	rv = gq_produce(node, topic, 0, &m, 1, NULL, &off);
	cr_assert_eq(rv, 0, "produce %s: %s: %s", value, gq_strerror(rv),
		     gq_node_errmsg(node));
	return off;
}

/* Fill @m with @n messages whose values are the strings in @values. */
static void
msgs_of(struct gq_msg *m, const char *const *values, size_t n)
{
	memset(m, 0, n * sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		m[i].value = values[i];
		m[i].value_len = strlen(values[i]);
	}
}

/* The stored batch holding @off, as a client would resend it (base offset
 * and leader epoch zeroed). */
static void
stored_batch_copy(const char *topic, gq_offset off, struct kbuf *out)
{
	struct gq_fetch *f;
	const void *data;
	size_t len, size;

	cr_assert_eq(gq_fetch(node, topic, 0, off, 1, &f), 0);
	gq_fetch_records(f, &data, &len);
	cr_assert_geq(len, 61);
	size = 12 + (size_t)kb_be32((const uint8_t *)data + 8);
	cr_assert_leq(size, len);
	cr_assert_eq((gq_offset)kb_be64(data), off, "batch starts at %lld",
		     (long long)off);
	out->len = 0;
	kb_put(out, data, size);
	memset(out->p, 0, 8);
	memset(out->p + 12, 0, 4);
	gq_fetch_destroy(f);
}

/* ---------------------------------------------------------------------- */
/* Idempotent producers                                                    */
/* ---------------------------------------------------------------------- */

/* Producers of the running test, destroyed by destroy_producers() (also
 * from the teardown, when a failed assertion ended the test). */
static struct gq_producer *producers[8];

static struct gq_producer *
new_producer(void)
{
	for (size_t i = 0; i < sizeof(producers) / sizeof(producers[0]); i++) {
		if (producers[i] == NULL) {
			int rv = gq_producer_create(node, &producers[i]);

			cr_assert_eq(rv, 0, "producer: %s", gq_strerror(rv));
			return producers[i];
		}
	}
	cr_assert_fail("too many producers");
	return NULL;
}

static void
destroy_producers(void)
{
	for (size_t i = 0; i < sizeof(producers) / sizeof(producers[0]); i++) {
		gq_producer_destroy(producers[i]);
		producers[i] = NULL;
	}
}

/* Producer ids are distinct and increasing, and never reused after the
 * node restarts. */
Test(idempotence, producer_ids_never_reused)
{
	int64_t id[5];
	int16_t epoch;

	gqt_open(&node);
	for (int i = 0; i < 3; i++) {
		gq_producer_id(new_producer(), &id[i], &epoch);
		cr_assert_geq(id[i], 0);
		cr_assert_geq(epoch, 0);
		if (i > 0)
			cr_assert_gt(id[i], id[i - 1]);
	}
	destroy_producers();
	gqt_reopen(&node);
	gq_producer_id(new_producer(), &id[3], NULL);
	destroy_producers();
	cr_assert_gt(id[3], id[2], "id %lld after restart, had %lld",
		     (long long)id[3], (long long)id[2]);
	gqt_reopen(&node);
	gq_producer_id(new_producer(), &id[4], NULL);
	cr_assert_gt(id[4], id[3]);
}

/* A retried send is answered with the offset of the first attempt and the
 * log holds the batch once; later sends continue after it. */
Test(idempotence, send_then_retry_same_offset)
{
	static const char *const v1[] = { "a", "b", "c" };
	static const char *const v2[] = { "d", "e" };
	struct gq_producer *pr;
	struct gq_msg m1[3], m2[2];
	gq_offset off;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "t", 1, 1, NULL), 0);
	pr = new_producer();
	cr_assert_eq(gq_producer_retry(pr, &off), GQ_EINVAL);
	msgs_of(m1, v1, 3);
	msgs_of(m2, v2, 2);
	cr_assert_eq(gq_producer_send(pr, "t", 0, m1, 3, &off), 0, "%s",
		     gq_node_errmsg(node));
	cr_assert_eq(off, 0);
	for (int i = 0; i < 3; i++) {
		off = -5;
		cr_assert_eq(gq_producer_retry(pr, &off), 0, "%s",
			     gq_node_errmsg(node));
		cr_assert_eq(off, 0);
	}
	cr_assert_eq(hw("t", 0), 3);
	cr_assert_eq(count_messages("t", 0), 3);
	cr_assert_eq(gq_producer_send(pr, "t", 0, m2, 2, &off), 0);
	cr_assert_eq(off, 3);
	cr_assert_eq(gq_producer_retry(pr, &off), 0);
	cr_assert_eq(off, 3);
	cr_assert_eq(count_messages("t", 0), 5);
	check_value("t", 0, 0, "a");
	check_value("t", 0, 2, "c");
	check_value("t", 0, 3, "d");
	check_value("t", 0, 4, "e");
}

/* Sequences are per partition: sends to two partitions interleave and
 * retries on each are deduplicated. */
Test(idempotence, sequences_per_partition)
{
	static const char *const v[] = { "x" };
	struct gq_producer *pr;
	struct gq_msg m[1];
	gq_offset off;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "two", 2, 1, NULL), 0);
	pr = new_producer();
	msgs_of(m, v, 1);
	cr_assert_eq(gq_producer_send(pr, "two", 0, m, 1, &off), 0);
	cr_assert_eq(off, 0);
	cr_assert_eq(gq_producer_send(pr, "two", 1, m, 1, &off), 0);
	cr_assert_eq(off, 0);
	cr_assert_eq(gq_producer_retry(pr, &off), 0);
	cr_assert_eq(off, 0);
	cr_assert_eq(gq_producer_send(pr, "two", 0, m, 1, &off), 0);
	cr_assert_eq(off, 1);
	cr_assert_eq(gq_producer_send(pr, "two", 1, m, 1, &off), 0);
	cr_assert_eq(off, 1);
	cr_assert_eq(count_messages("two", 0), 2);
	cr_assert_eq(count_messages("two", 1), 2);
}

/* The producer state survives a restart (with and without a flush of the
 * log in between): resending stored batches gives their original offsets
 * and stores nothing, the next sequence is accepted, a gap is refused. */
Test(idempotence, retry_after_restart)
{
	static const char *const v1[] = { "a", "b", "c" };
	static const char *const v2[] = { "d", "e" };
	struct gq_config *cfg;
	struct gq_producer *pr;
	struct gq_msg m1[3], m2[2];
	struct kbuf first = { 0 }, last = { 0 };
	gq_offset off;
	int64_t pid;
	int16_t epoch;

	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "flush_interval", "100ms", NULL), 0);
	cr_assert_eq(gq_node_open(dir, cfg, &node), 0);
	cr_assert_eq(gq_topic_create(node, "t", 1, 1, NULL), 0);
	pr = new_producer();
	gq_producer_id(pr, &pid, &epoch);
	msgs_of(m1, v1, 3);
	msgs_of(m2, v2, 2);
	cr_assert_eq(gq_producer_send(pr, "t", 0, m1, 3, &off), 0);
	cr_assert_eq(off, 0);
	cr_assert_eq(gq_producer_send(pr, "t", 0, m2, 2, &off), 0);
	cr_assert_eq(off, 3);
	stored_batch_copy("t", 0, &first);
	stored_batch_copy("t", 3, &last);
	cr_assert_eq((int64_t)kb_be64(last.p + 43), pid);
	cr_assert_eq(kb_be32(last.p + 53), 3, "base sequence of the 2nd send");
	destroy_producers();

	/* Straight restart: the Raft log is replayed. */
	gqt_reopen(&node);
	cr_assert_eq(gqt_produce_raw(node, "t", 0, last.p, last.len, &off), 0,
		     "%s", gq_node_errmsg(node));
	cr_assert_eq(off, 3);
	cr_assert_eq(gqt_produce_raw(node, "t", 0, first.p, first.len, &off),
		     0);
	cr_assert_eq(off, 0);
	cr_assert_eq(hw("t", 0), 5);

	/* Restart after a flush (Raft log compacted). */
	gq_node_close(node);
	node = NULL;
	cr_assert_eq(gq_node_open(dir, cfg, &node), 0);
	usleep(500 * 1000);
	gq_node_close(node);
	node = NULL;
	cr_assert_eq(gq_node_open(dir, cfg, &node), 0);
	gq_config_destroy(cfg);
	cr_assert_eq(gqt_produce_raw(node, "t", 0, last.p, last.len, &off), 0);
	cr_assert_eq(off, 3);
	cr_assert_eq(hw("t", 0), 5);
	cr_assert_eq(count_messages("t", 0), 5);
	/* The producer continues at sequence 5; a gap is still refused, so
	 * its state really was restored rather than forgotten. */
	raw_fails("t", pid, epoch, 9, 1, GQ_ESEQUENCE);
	raw_ok("t", pid, epoch, 5, 2, 5);
	raw_fails("t", pid, epoch, 8, 1, GQ_ESEQUENCE);
	raw_ok("t", pid, epoch, 7, 1, 7);
	cr_assert_eq(count_messages("t", 0), 8);
	kb_free(&first);
	kb_free(&last);
}

/* ---------------------------------------------------------------------- */
/* Raw batches with producer state (Kafka ProducerStateManager rules)      */
/* ---------------------------------------------------------------------- */

/* A batch that skips sequence numbers, or overlaps the last one without
 * being a duplicate, is refused with GQ_ESEQUENCE and not stored. */
Test(idempotence, sequence_gap_refused)
{
	const int64_t pid = 900001;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "s", 1, 1, NULL), 0);
	raw_ok("s", pid, 0, 0, 2, 0); /* sequences 0-1 */
	raw_fails("s", pid, 0, 3, 1, GQ_ESEQUENCE);
	raw_fails("s", pid, 0, 1, 2, GQ_ESEQUENCE);
	raw_fails("s", pid, 0, 0, 1, GQ_ESEQUENCE);
	cr_assert_eq(hw("s", 0), 2);
	raw_ok("s", pid, 0, 2, 3, 2); /* 2-4 */
	raw_ok("s", pid, 0, 5, 1, 5);
	cr_assert_eq(count_messages("s", 0), 6);
	/* Another producer has its own sequences. */
	raw_ok("s", pid + 1, 0, 0, 1, 6);
	raw_fails("s", pid + 1, 0, 2, 1, GQ_ESEQUENCE);
	cr_assert_eq(count_messages("s", 0), 7);
}

/* Once a producer id has used a newer epoch, batches of an older epoch,
 * duplicates included, are fenced with GQ_EFENCED, also after a restart. */
Test(idempotence, old_epoch_fenced)
{
	const int64_t pid = 900002;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "e", 1, 1, NULL), 0);
	raw_ok("e", pid, 0, 0, 1, 0);
	raw_ok("e", pid, 0, 1, 1, 1);
	raw_ok("e", pid, 1, 0, 1, 2);
	raw_fails("e", pid, 0, 2, 1, GQ_EFENCED);
	raw_fails("e", pid, 0, 1, 1, GQ_EFENCED);
	cr_assert_eq(hw("e", 0), 3);
	gqt_reopen(&node);
	raw_fails("e", pid, 0, 2, 1, GQ_EFENCED);
	raw_ok("e", pid, 1, 1, 1, 3);
	cr_assert_eq(count_messages("e", 0), 4);
}

/* A new epoch must start its sequences at 0 (Kafka: OUT_OF_ORDER). */
Test(idempotence, new_epoch_starts_at_zero)
{
	const int64_t pid = 900003;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "z", 1, 1, NULL), 0);
	raw_ok("z", pid, 0, 0, 3, 0);
	raw_fails("z", pid, 1, 3, 1, GQ_ESEQUENCE);
	raw_fails("z", pid, 1, 5, 1, GQ_ESEQUENCE);
	cr_assert_eq(hw("z", 0), 3);
	raw_ok("z", pid, 1, 0, 1, 3);
	raw_ok("z", pid, 1, 1, 1, 4);
	cr_assert_eq(count_messages("z", 0), 5);
}

/* A duplicate of any of the last five batches is answered with its
 * original offset and not stored; a duplicate of an older batch is out of
 * order (GQ_ESEQUENCE); the producer then continues normally. */
Test(idempotence, duplicates_of_last_five)
{
	const int64_t pid = 900004;
	struct kbuf b[7];
	gq_offset off;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "d", 1, 1, NULL), 0);
	memset(b, 0, sizeof(b));
	for (int i = 0; i < 7; i++) {
		idem_batch(&b[i], pid, 0, 2 * i, 2, "dup");
		cr_assert_eq(
			gqt_produce_raw(node, "d", 0, b[i].p, b[i].len, &off),
			0);
		cr_assert_eq(off, 2 * i);
	}
	/* The window holds batches 2..6. */
	for (int i = 6; i >= 2; i--) {
		int rv = gqt_produce_raw(node, "d", 0, b[i].p, b[i].len, &off);

		cr_assert_eq(rv, 0, "duplicate of batch %d: %s", i,
			     gq_strerror(rv));
		cr_assert_eq(off, 2 * i, "duplicate of batch %d: offset %lld",
			     i, (long long)off);
	}
	cr_assert_eq(hw("d", 0), 14);
	for (int i = 0; i < 2; i++) {
		int rv = gqt_produce_raw(node, "d", 0, b[i].p, b[i].len, &off);

		cr_assert_eq(rv, GQ_ESEQUENCE,
			     "duplicate of batch %d, older than the last five: "
			     "%s",
			     i, gq_strerror(rv));
	}
	cr_assert_eq(hw("d", 0), 14);
	cr_assert_eq(count_messages("d", 0), 14);
	raw_ok("d", pid, 0, 14, 1, 14);
	/* The window moved: batch 2 is now too old, batch 3 still a dup. */
	cr_assert_eq(gqt_produce_raw(node, "d", 0, b[2].p, b[2].len, &off),
		     GQ_ESEQUENCE);
	cr_assert_eq(gqt_produce_raw(node, "d", 0, b[3].p, b[3].len, &off), 0);
	cr_assert_eq(off, 6);
	cr_assert_eq(count_messages("d", 0), 15);
	for (int i = 0; i < 7; i++)
		kb_free(&b[i]);
}

/* Retries of batches still in flight (sent again before the first answer,
 * as librdkafka does after a timeout) are answered with the original
 * offsets and stored once. */
Test(idempotence, in_flight_duplicates)
{
	const int64_t pid = 900005;
	static struct gqt_waiter w[10];
	struct kbuf b[5];

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "f", 1, 1, NULL), 0);
	memset(b, 0, sizeof(b));
	memset(w, 0, sizeof(w));
	for (int i = 0; i < 5; i++)
		idem_batch(&b[i], pid, 0, i, 1, "inflight");
	for (int i = 0; i < 10; i++)
		cr_assert_eq(gq_produce_records_async(node, "f", 0, b[i % 5].p,
						      b[i % 5].len,
						      gqt_waiter_cb, &w[i]),
			     0);
	for (int i = 0; i < 10; i++)
		gqt_waiter_wait(&w[i]);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(w[i].status, 0, "send %d: %s", i,
			     gq_strerror(w[i].status));
		cr_assert_eq(w[i].offset, i % 5,
			     "send %d (batch %d): offset "
			     "%lld",
			     i, i % 5, (long long)w[i].offset);
	}
	cr_assert_eq(count_messages("f", 0), 5);
	for (int i = 0; i < 5; i++)
		kb_free(&b[i]);
}

/* Sequences wrap from INT32_MAX to 0 as in Kafka: a batch whose sequences
 * cross INT32_MAX is followed by the one after 0, and its duplicate is
 * recognised. */
Test(idempotence, sequence_wraps_at_int32_max)
{
	const int64_t pid = 900006;
	struct kbuf b = { 0 };
	gq_offset off;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "w", 1, 1, NULL), 0);
	raw_ok("w", pid, 0, INT32_MAX - 2, 2, 0); /* ..2147483646 */
	/* 2147483647 and 0 */
	idem_batch(&b, pid, 0, INT32_MAX, 2, "wrap");
	cr_assert_eq(gqt_produce_raw(node, "w", 0, b.p, b.len, &off), 0);
	cr_assert_eq(off, 2);
	raw_ok("w", pid, 0, 1, 1, 4);
	cr_assert_eq(gqt_produce_raw(node, "w", 0, b.p, b.len, &off), 0);
	cr_assert_eq(off, 2);
	cr_assert_eq(count_messages("w", 0), 5);
	kb_free(&b);
}

/* ---------------------------------------------------------------------- */
/* Content deduplication                                                   */
/* ---------------------------------------------------------------------- */

static void
create_dedup_topic(const char *topic, const char *window)
{
	const char *kv[] = { "deduplication_enabled", "true",
			     "deduplication_window", window };

	gqt_create_topic(node, topic, 1, kv, window != NULL ? 4 : 2);
}

/* Without deduplication the same content is stored twice. */
Test(idempotence, no_dedup_by_default)
{
	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "plain", 1, 1, NULL), 0);
	cr_assert_eq(produce_value("plain", NULL, "A"), 0);
	cr_assert_eq(produce_value("plain", NULL, "A"), 1);
	cr_assert_eq(count_messages("plain", 0), 2);
}

/* With deduplication, content seen before gets its first offset and is
 * not stored again; different content (value or key) is stored; this
 * holds after a restart. */
Test(idempotence, dedup_same_content_same_offset)
{
	gqt_open(&node);
	create_dedup_topic("dd", NULL);
	cr_assert_eq(produce_value("dd", NULL, "A"), 0);
	cr_assert_eq(produce_value("dd", NULL, "A"), 0);
	cr_assert_eq(produce_value("dd", NULL, "B"), 1);
	cr_assert_eq(produce_value("dd", NULL, "A"), 0);
	cr_assert_eq(produce_value("dd", "k", "A"), 2);
	cr_assert_eq(produce_value("dd", "k", "A"), 2);
	cr_assert_eq(hw("dd", 0), 3);
	cr_assert_eq(count_messages("dd", 0), 3);
	gqt_reopen(&node);
	cr_assert_eq(produce_value("dd", NULL, "A"), 0);
	cr_assert_eq(produce_value("dd", NULL, "B"), 1);
	cr_assert_eq(produce_value("dd", "k", "A"), 2);
	cr_assert_eq(produce_value("dd", NULL, "C"), 3);
	cr_assert_eq(count_messages("dd", 0), 4);
	check_value("dd", 0, 0, "A");
	check_value("dd", 0, 1, "B");
	check_value("dd", 0, 3, "C");
}

/* The window remembers the last deduplication_window distinct contents:
 * older ones are stored again. */
Test(idempotence, dedup_window_evicts_oldest)
{
	gqt_open(&node);
	create_dedup_topic("win", "3");
	cr_assert_eq(produce_value("win", NULL, "A"), 0);
	cr_assert_eq(produce_value("win", NULL, "B"), 1);
	cr_assert_eq(produce_value("win", NULL, "C"), 2);
	cr_assert_eq(produce_value("win", NULL, "D"), 3); /* evicts A */
	cr_assert_eq(produce_value("win", NULL, "B"), 1);
	cr_assert_eq(produce_value("win", NULL, "A"), 4); /* evicts B */
	cr_assert_eq(produce_value("win", NULL, "D"), 3);
	cr_assert_eq(produce_value("win", NULL, "B"), 5); /* evicts C */
	cr_assert_eq(produce_value("win", NULL, "A"), 4);
	cr_assert_eq(count_messages("win", 0), 6);
}

/* After a restart the window evicts in the same order as before it: the
 * oldest entry goes first, not the newest. */
Test(idempotence, dedup_window_order_survives_restart)
{
	gqt_open(&node);
	create_dedup_topic("wr", "3");
	cr_assert_eq(produce_value("wr", NULL, "A"), 0);
	cr_assert_eq(produce_value("wr", NULL, "B"), 1);
	cr_assert_eq(produce_value("wr", NULL, "C"), 2);
	cr_assert_eq(produce_value("wr", NULL, "D"), 3); /* window B C D */
	gqt_reopen(&node);
	cr_assert_eq(produce_value("wr", NULL, "E"), 4); /* window C D E */
	cr_assert_eq(produce_value("wr", NULL, "D"), 3,
		     "D was evicted instead of B");
	cr_assert_eq(produce_value("wr", NULL, "C"), 2);
	cr_assert_eq(produce_value("wr", NULL, "E"), 4);
	cr_assert_eq(count_messages("wr", 0), 5);
}

/* Identical messages produced in one burst (in flight together) are
 * stored once, and every callback reports that offset. */
Test(idempotence, dedup_in_flight_burst)
{
	static struct gqt_waiter w[20];
	struct gq_msg m;

	gqt_open(&node);
	create_dedup_topic("burst", NULL);
	memset(w, 0, sizeof(w));
	memset(&m, 0, sizeof(m));
	m.value = "same";
	m.value_len = 4;
	for (int i = 0; i < 20; i++)
		cr_assert_eq(gq_produce_async(node, "burst", 0, &m, 1,
					      gqt_waiter_cb, &w[i]),
			     0);
	for (int i = 0; i < 20; i++)
		gqt_waiter_wait(&w[i]);
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(w[i].status, 0);
		cr_assert_eq(w[i].offset, 0, "produce %d stored at %lld", i,
			     (long long)w[i].offset);
	}
	cr_assert_eq(count_messages("burst", 0), 1);
}

/* An idempotent producer on a deduplicating topic: a repeated content is
 * deduplicated, and the producer's next send is still in sequence. */
Test(idempotence, dedup_with_idempotent_producer)
{
	static const char *const va[] = { "A" };
	static const char *const vb[] = { "B" };
	struct gq_producer *pr;
	struct gq_msg a[1], b[1];
	gq_offset off;
	int rv;

	gqt_open(&node);
	create_dedup_topic("dp", NULL);
	pr = new_producer();
	msgs_of(a, va, 1);
	msgs_of(b, vb, 1);
	cr_assert_eq(gq_producer_send(pr, "dp", 0, a, 1, &off), 0);
	cr_assert_eq(off, 0);
	cr_assert_eq(gq_producer_send(pr, "dp", 0, a, 1, &off), 0);
	cr_assert_eq(off, 0);
	rv = gq_producer_send(pr, "dp", 0, b, 1, &off);
	cr_assert_eq(rv, 0, "send after a deduplicated send: %s",
		     gq_strerror(rv));
	cr_assert_eq(off, 1);
	cr_assert_eq(count_messages("dp", 0), 2);
}
