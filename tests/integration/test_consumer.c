/* SPDX-License-Identifier: MIT */
/*
 * test_consumer.c - embedded group consumers on one node: a lone member
 * reads everything and resumes from its commits, two members share the
 * partitions without reading a message twice, a member that closes hands
 * its partitions over at once, seek, pause and resume, headers of a
 * polled message, bad options.
 */
#include <criterion/criterion.h>
#include <goqueue.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/fixture.h"

static const char *dir;
static struct gq_node *node;

static void
setup(void)
{
	dir = gqt_node_setup(&node);
}

TestSuite(consumer, .init = setup, .fini = gqt_node_teardown, .timeout = 120);

static void
open_node(void)
{
	static const char *const kv[] = { "group_initial_rebalance_delay", "0",
					  NULL };

	gqt_open_with(&node, kv);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Produce values "<k>" for k in [from, to) round-robin over @parts. */
static void
produce_n(const char *topic, int32_t parts, int from, int to)
{
	for (int k = from; k < to; k++) {
		char v[16];
		struct gq_msg m = { 0 };

		snprintf(v, sizeof(v), "%d", k);
		m.value = v;
		m.value_len = strlen(v);
		cr_assert_eq(
			gq_produce(node, topic, k % parts, &m, 1, NULL, NULL),
			0);
	}
}

/* Rebalance callbacks count what they saw. */
struct seen {
	atomic_int assigns;
	atomic_int revokes;
	atomic_int assigned; /* partitions in the last assignment */
};

static void
on_assign(void *arg, struct gq_consumer *c, const struct gq_topic_partition *p,
	  size_t n)
{
	struct seen *s = arg;

	(void)c;
	(void)p;
	atomic_fetch_add(&s->assigns, 1);
	atomic_store(&s->assigned, (int)n);
}

static void
on_revoke(void *arg, struct gq_consumer *c, const struct gq_topic_partition *p,
	  size_t n)
{
	struct seen *s = arg;

	(void)c;
	(void)p;
	(void)n;
	atomic_fetch_add(&s->revokes, 1);
}

static struct gq_consumer *
consumer_new(const char *group, struct seen *s)
{
	struct gq_consumer_options o;
	struct gq_consumer *c;
	const char *topics[] = { "t" };

	gq_consumer_options_init(&o);
	o.group = group;
	o.offset_reset = GQ_RESET_EARLIEST;
	o.heartbeat_interval_ms = 200;
	o.session_timeout_ms = 30000; /* handovers must not wait for it */
	o.on_assign = on_assign;
	o.on_revoke = on_revoke;
	o.cb_arg = s;
	cr_assert_eq(gq_consumer_create(node, &o, &c), 0);
	cr_assert_eq(gq_consumer_subscribe(c, topics, 1), 0);
	return c;
}

/* Poll @c until @n messages or @ms pass; marks each value in @got (which
 * counts how often each was read).  Returns how many it read. */
static int
poll_n(struct gq_consumer *c, int n, uint64_t ms, atomic_int *got)
{
	uint64_t until = now_ms() + ms;
	int k = 0;

	while (k < n && now_ms() < until) {
		struct gq_consumer_message m;
		int rv = gq_consumer_poll(c, 100, &m);

		cr_assert_geq(rv, 0, "poll: %s", gq_strerror(rv));
		if (rv == 1) {
			char v[16];

			snprintf(v, sizeof(v), "%.*s", (int)m.record.value_len,
				 (const char *)m.record.value);
			atomic_fetch_add(&got[atoi(v)], 1);
			k++;
		}
	}
	return k;
}

/* A lone member gets every partition, reads everything, and a member
 * that replaces it after close resumes from the committed positions. */
Test(consumer, lone_member_resumes_from_commits)
{
	static atomic_int got[100];
	struct seen s = { 0 };
	struct gq_consumer *c;
	struct gq_topic_partition *parts;
	gq_offset *pos;
	size_t n;

	open_node();
	cr_assert_eq(gq_topic_create(node, "t", 3, 1, NULL), 0);
	produce_n("t", 3, 0, 30);
	c = consumer_new("g", &s);
	cr_assert_eq(poll_n(c, 30, 20000, got), 30);
	cr_assert_eq(atomic_load(&s.assigns), 1);
	cr_assert_eq(atomic_load(&s.assigned), 3);
	cr_assert_eq(gq_consumer_assignment(c, &parts, &pos, &n), 0);
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(parts[i].topic, "t");
		cr_assert_eq(parts[i].partition, (int32_t)i);
		cr_assert_eq(pos[i], 10);
	}
	gq_consumer_assignment_free(parts, pos, n);
	for (int k = 0; k < 30; k++)
		cr_assert_eq(atomic_load(&got[k]), 1, "message %d", k);
	gq_consumer_close(c);

	/* Nothing is read twice; new messages are. */
	produce_n("t", 3, 30, 36);
	memset(&s, 0, sizeof(s));
	c = consumer_new("g", &s);
	cr_assert_eq(poll_n(c, 100, 3000, got), 6);
	for (int k = 0; k < 36; k++)
		cr_assert_eq(atomic_load(&got[k]), 1, "message %d", k);
	gq_consumer_close(c);
}

struct member {
	struct gq_consumer *c;
	struct seen s;
	atomic_int *got;
	atomic_int read;
	atomic_bool stop;
	pthread_t th;
};

static void *
member_thread(void *arg)
{
	struct member *m = arg;

	while (!atomic_load(&m->stop))
		atomic_fetch_add(&m->read, poll_n(m->c, 1, 100, m->got));
	return NULL;
}

/* Wait until @m holds @n partitions (its last on_assign). */
static void
await_assigned(struct member *m, int n)
{
	uint64_t until = now_ms() + 15000;

	while (atomic_load(&m->s.assigned) != n && now_ms() < until)
		usleep(20 * 1000);
	cr_assert_eq(atomic_load(&m->s.assigned), n);
}

/* Two members split four partitions; every message is read exactly
 * once across them; when one closes the other takes everything without
 * waiting for a session to expire. */
Test(consumer, two_members_share_and_hand_over)
{
	static atomic_int got[2000];
	struct member a = { 0 }, b = { 0 };
	uint64_t t0;
	int total;

	open_node();
	cr_assert_eq(gq_topic_create(node, "t", 4, 1, NULL), 0);
	produce_n("t", 4, 0, 1000);
	a.got = b.got = got;
	a.c = consumer_new("shared", &a.s);
	pthread_create(&a.th, NULL, member_thread, &a);
	await_assigned(&a, 4);
	b.c = consumer_new("shared", &b.s);
	pthread_create(&b.th, NULL, member_thread, &b);
	await_assigned(&b, 2);
	await_assigned(&a, 2);
	cr_assert_geq(atomic_load(&a.s.revokes), 1);
	produce_n("t", 4, 1000, 2000);
	t0 = now_ms();
	while (atomic_load(&a.read) + atomic_load(&b.read) < 2000 &&
	       now_ms() - t0 < 30000)
		usleep(20 * 1000);
	total = atomic_load(&a.read) + atomic_load(&b.read);
	cr_assert_eq(total, 2000, "read %d", total);
	for (int k = 0; k < 2000; k++)
		cr_assert_eq(atomic_load(&got[k]), 1,
			     "message %d read %d times", k,
			     atomic_load(&got[k]));
	cr_assert_gt(atomic_load(&b.read), 0);

	/* b leaves: a has all four back well within the 30 s session. */
	atomic_store(&b.stop, true);
	pthread_join(b.th, NULL);
	t0 = now_ms();
	gq_consumer_close(b.c);
	await_assigned(&a, 4);
	cr_assert_lt(now_ms() - t0, 10000);
	atomic_store(&a.stop, true);
	pthread_join(a.th, NULL);
	gq_consumer_close(a.c);
}

/* Seek moves a partition's position; a paused partition is not read
 * until resumed. */
Test(consumer, seek_pause_resume)
{
	static atomic_int got[100];
	struct seen s = { 0 };
	struct gq_consumer *c;

	open_node();
	cr_assert_eq(gq_topic_create(node, "t", 2, 1, NULL), 0);
	produce_n("t", 2, 0, 20);
	c = consumer_new("g", &s);
	cr_assert_eq(poll_n(c, 20, 20000, got), 20);
	cr_assert_eq(gq_consumer_seek(c, "t", 0, 5), 0);
	cr_assert_eq(poll_n(c, 100, 1500, got), 5, "offsets 5..9 again");
	cr_assert_eq(atomic_load(&got[18]), 2); /* offset 9 of partition 0 */
	cr_assert_eq(atomic_load(&got[19]), 1);
	cr_assert_eq(gq_consumer_pause(c, "t", 1), 0);
	produce_n("t", 2, 20, 30);
	cr_assert_eq(poll_n(c, 100, 1500, got), 5, "only partition 0");
	cr_assert_eq(atomic_load(&got[21]), 0);
	cr_assert_eq(gq_consumer_resume(c, "t", 1), 0);
	cr_assert_eq(poll_n(c, 100, 1500, got), 5);
	cr_assert_eq(atomic_load(&got[21]), 1);
	cr_assert_eq(gq_consumer_seek(c, "t", 7, 0), GQ_EINVAL);
	cr_assert_eq(gq_consumer_pause(c, "nope", 0), GQ_EINVAL);
	cr_assert_eq(gq_consumer_commit(c), 0);
	gq_consumer_close(c);
}

/* Options are checked at create. */
Test(consumer, bad_options)
{
	struct gq_consumer_options o;
	struct gq_consumer *c;

	open_node();
	gq_consumer_options_init(&o);
	cr_assert_eq(gq_consumer_create(node, &o, &c), GQ_EBADNAME);
	o.group = "g";
	o.assignor = "sticky";
	cr_assert_eq(gq_consumer_create(node, &o, &c), GQ_EINVAL);
	o.assignor = "roundrobin";
	o.heartbeat_interval_ms = o.session_timeout_ms;
	cr_assert_eq(gq_consumer_create(node, &o, &c), GQ_EINVAL);
	gq_consumer_options_init(&o);
	o.group = "g";
	cr_assert_eq(gq_consumer_create(node, &o, &c), 0);
	cr_assert_eq(
		gq_consumer_subscribe(c, (const char *const[]){ "a/b" }, 1),
		GQ_EBADNAME);
	gq_consumer_close(c);
}

/* gq_consumer_header() reads the headers of the message polled last,
 * and refuses once no message is lent. */
Test(consumer, headers_of_polled_message)
{
	static const struct gq_header hs[] = {
		{ "trace", 5, "abc", 3 },
		{ "empty", 5, NULL, 0 },
	};
	struct gq_consumer_message m;
	struct gq_msg msg = { 0 };
	struct gq_header h;
	struct seen s = { 0 };
	struct gq_consumer *c;
	uint64_t until;
	int rv = 0;

	open_node();
	cr_assert_eq(gq_topic_create(node, "t", 1, 1, NULL), 0);
	msg.value = "v";
	msg.value_len = 1;
	msg.headers = hs;
	msg.header_count = 2;
	cr_assert_eq(gq_produce(node, "t", 0, &msg, 1, NULL, NULL), 0);
	c = consumer_new("g", &s);
	cr_assert_eq(gq_consumer_header(c, 0, &h), GQ_EINVAL);
	for (until = now_ms() + 20000; rv == 0 && now_ms() < until;)
		rv = gq_consumer_poll(c, 100, &m);
	cr_assert_eq(rv, 1, "poll: %s", gq_strerror(rv));
	cr_assert_eq(m.record.header_count, 2);
	cr_assert_eq(gq_consumer_header(c, 0, &h), 0);
	cr_assert_eq(h.key_len, 5);
	cr_assert_eq(memcmp(h.key, "trace", 5), 0);
	cr_assert_eq(h.value_len, 3);
	cr_assert_eq(memcmp(h.value, "abc", 3), 0);
	cr_assert_eq(gq_consumer_header(c, 1, &h), 0);
	cr_assert_null(h.value);
	cr_assert_eq(gq_consumer_header(c, 2, &h), GQ_EINVAL);
	cr_assert_eq(gq_consumer_header(c, 0, NULL), GQ_EINVAL);
	cr_assert_eq(gq_consumer_seek(c, "t", 0, 0), 0);
	cr_assert_eq(gq_consumer_header(c, 0, &h), GQ_EINVAL);
	cr_assert_eq(gq_consumer_header(NULL, 0, &h), GQ_EINVAL);
	gq_consumer_close(c);
}
