/* SPDX-License-Identifier: MIT */
/*
 * test_wait.c - the consumer long poll, gq_fetch_wait_async(): it reports
 * new data as soon as it is committed, times out when none comes, and
 * always completes exactly once, also when the topic goes or the node
 * closes.
 */
#include <criterion/criterion.h>
#include <goqueue.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/tmpdir.h"

static const char *dir;
static struct gq_node *node;

struct waitres {
	atomic_int calls;
	atomic_int status;
	double at; /* seconds after the wait started */
	double t0;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
on_wait(void *arg, int status)
{
	struct waitres *w = arg;

	w->at = now_s() - w->t0;
	atomic_store(&w->status, status);
	atomic_fetch_add(&w->calls, 1);
}

static void
start_wait(struct waitres *w, const char *topic, gq_offset off,
	   uint32_t timeout_ms)
{
	memset(w, 0, sizeof(*w));
	w->t0 = now_s();
	cr_assert_eq(gq_fetch_wait_async(node, topic, 0, off, timeout_ms,
					 on_wait, w),
		     0);
}

static void
await(struct waitres *w)
{
	for (int i = 0; i < 5000 && atomic_load(&w->calls) == 0; i++)
		usleep(1000);
	cr_assert_eq(atomic_load(&w->calls), 1);
}

static void
produce_one(const char *topic)
{
	struct gq_msg m;

	memset(&m, 0, sizeof(m));
	m.value = "x";
	m.value_len = 1;
	cr_assert_eq(gq_produce(node, topic, 0, &m, 1, NULL, NULL), 0);
}

static void
setup(void)
{
	dir = gqt_tmpdir_make();
	cr_assert_eq(gq_node_open(dir, NULL, &node), 0);
	cr_assert_eq(gq_topic_create(node, "w", 1, 1, NULL), 0);
}

static void
teardown(void)
{
	gq_node_close(node);
	gqt_tmpdir_remove();
}

TestSuite(wait, .init = setup, .fini = teardown, .timeout = 60);

/* With nothing to read the wait times out, not before its time. */
Test(wait, times_out)
{
	static struct waitres w;

	start_wait(&w, "w", 0, 150);
	await(&w);
	cr_assert_eq(atomic_load(&w.status), GQ_ETIMEDOUT);
	cr_assert_geq(w.at, 0.14);
}

/* Data that is already there answers at once. */
Test(wait, data_already_there)
{
	static struct waitres w;

	produce_one("w");
	start_wait(&w, "w", 0, 10000);
	await(&w);
	cr_assert_eq(atomic_load(&w.status), 0);
	cr_assert_lt(w.at, 1.0);
}

/* A produce wakes the waiter long before its timeout. */
Test(wait, woken_by_produce)
{
	static struct waitres w;

	produce_one("w");
	start_wait(&w, "w", 1, 10000);
	usleep(50000);
	cr_assert_eq(atomic_load(&w.calls), 0);
	produce_one("w");
	await(&w);
	cr_assert_eq(atomic_load(&w.status), 0);
	cr_assert_lt(w.at, 2.0);
}

/* Unknown topics and partitions are reported through the callback. */
Test(wait, unknown_topic)
{
	static struct waitres w;

	start_wait(&w, "nope", 0, 1000);
	await(&w);
	cr_assert_eq(atomic_load(&w.status), GQ_ENOTOPIC);
	memset(&w, 0, sizeof(w));
	cr_assert_eq(gq_fetch_wait_async(node, "w", 3, 0, 1000, on_wait, &w),
		     0);
	await(&w);
	cr_assert_eq(atomic_load(&w.status), GQ_ENOPARTITION);
	cr_assert_eq(gq_fetch_wait_async(node, "w", 0, -1, 1000, on_wait, &w),
		     GQ_EINVAL);
}

/* Deleting the topic completes its parked waits. */
Test(wait, topic_deleted)
{
	static struct waitres w;

	start_wait(&w, "w", 5, 10000);
	usleep(20000);
	cr_assert_eq(gq_topic_delete(node, "w"), 0);
	await(&w);
	cr_assert_eq(atomic_load(&w.status), GQ_ENOTOPIC);
}

/* Closing the node completes parked waits before close returns. */
Test(wait, node_close)
{
	static struct waitres w;

	start_wait(&w, "w", 5, 10000);
	usleep(20000);
	gq_node_close(node);
	node = NULL;
	cr_assert_eq(atomic_load(&w.calls), 1);
	cr_assert_eq(atomic_load(&w.status), GQ_ECLOSED);
}
