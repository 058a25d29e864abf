/* SPDX-License-Identifier: MIT */
/*
 * test_loop.c - a node on the application's own libuv loop, and Raft
 * snapshots with restart.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <goqueue.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "../lib/tmpdir.h"

static const char *dir;

static void
setup(void)
{
	dir = gqt_tmpdir_make();
}

TestSuite(loop, .init = setup, .fini = gqt_tmpdir_remove, .timeout = 120);

struct app {
	uv_loop_t loop;
	uv_timer_t timer;
	struct gq_node *node;
	pthread_t worker;
	int worker_rv;
	bool worker_done;
	bool closed;
	int acks;
	gq_offset last_ack;
};

/* An application thread using the blocking API while the loop runs. */
static void *
worker(void *arg)
{
	struct app *a = arg;
	struct gq_msg m;
	struct gq_fetch *f;
	struct gq_record r;
	int rv;

	memset(&m, 0, sizeof(m));
	m.value = "from a thread";
	m.value_len = 13;
	rv = gq_topic_create(a->node, "l", 1, 1, NULL);
	if (rv == 0)
		rv = gq_produce(a->node, "l", 0, &m, 1, NULL, NULL);
	if (rv == 0)
		rv = gq_fetch(a->node, "l", 0, 0, 4096, &f);
	if (rv == 0) {
		rv = gq_fetch_next(f, &r) == 1 && r.value_len == 13 ? 0 : -1;
		gq_fetch_destroy(f);
	}
	a->worker_rv = rv;
	__atomic_store_n(&a->worker_done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

static void
on_ack(void *arg, int status, int32_t partition, gq_offset base)
{
	struct app *a = arg;

	(void)partition;
	if (status == 0) {
		a->acks++;
		a->last_ack = base;
	}
}

static void
on_closed(void *arg)
{
	struct app *a = arg;

	a->closed = true;
}

/* Drive the test from the loop: wait for readiness and the worker, then
 * produce asynchronously from the loop thread itself, then close. */
static void
tick(uv_timer_t *t)
{
	struct app *a = t->data;
	struct gq_msg m;
	int rv;

	if (!gq_node_ready(a->node) ||
	    !__atomic_load_n(&a->worker_done, __ATOMIC_SEQ_CST))
		return;
	if (a->acks == 0 && a->last_ack == 0) {
		memset(&m, 0, sizeof(m));
		m.value = "from the loop";
		m.value_len = 13;
		a->last_ack = -1;
		rv = gq_produce_async(a->node, "l", 0, &m, 1, on_ack, a);
		cr_assert_eq(rv, 0, "%s: %s (worker %d)", gq_strerror(rv),
			     gq_node_errmsg(a->node), a->worker_rv);
		/* Blocking calls are refused on the loop thread. */
		cr_assert_eq(gq_produce(a->node, "l", 0, &m, 1, NULL, NULL),
			     GQ_EINVAL);
		return;
	}
	if (a->acks == 1) {
		uv_timer_stop(t);
		uv_close((uv_handle_t *)t, NULL);
		gq_node_close_async(a->node, on_closed, a);
	}
}

/* A node runs on the caller's loop: blocking calls from other threads,
 * async calls from the loop thread, and an asynchronous close. */
Test(loop, node_on_application_loop)
{
	static struct app a;

	cr_assert_eq(uv_loop_init(&a.loop), 0);
	cr_assert_eq(gq_node_open_on_loop(dir, NULL, &a.loop, &a.node), 0, "%s",
		     gq_node_errmsg(NULL));
	cr_assert_eq(pthread_create(&a.worker, NULL, worker, &a), 0);
	uv_timer_init(&a.loop, &a.timer);
	a.timer.data = &a;
	uv_timer_start(&a.timer, tick, 5, 5);
	uv_run(&a.loop, UV_RUN_DEFAULT);
	pthread_join(a.worker, NULL);
	cr_assert_eq(a.worker_rv, 0);
	cr_assert_eq(a.acks, 1);
	cr_assert_eq(a.last_ack, 1);
	cr_assert(a.closed);
	cr_assert_eq(uv_loop_close(&a.loop), 0);
}

static bool
has_snapshot(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool found = false;

	if (d == NULL)
		return false;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "snap-", 5) == 0)
			found = true;
	closedir(d);
	return found;
}

/* After enough entries Raft takes a manifest snapshot and compacts its
 * log; a restart restores from it and replays only what follows. */
Test(loop, snapshot_and_restart)
{
	struct gq_node *node;
	struct gq_fetch *f;
	struct gq_record r;
	char raft[600];
	char buf[32];
	int64_t n = 0;

	cr_assert_eq(gq_node_open(dir, NULL, &node), 0);
	cr_assert_eq(gq_topic_create(node, "s", 1, 1, NULL), 0);
	/* Each blocking produce is one entry: pass the 1024-entry
	 * threshold. */
	for (int i = 0; i < 1100; i++) {
		struct gq_msg m;

		memset(&m, 0, sizeof(m));
		snprintf(buf, sizeof(buf), "%d", i);
		m.value = buf;
		m.value_len = strlen(buf);
		cr_assert_eq(gq_produce(node, "s", 0, &m, 1, NULL, NULL), 0);
	}
	gq_node_close(node);
	snprintf(raft, sizeof(raft), "%s/data/s.2/0/raft", dir);
	cr_assert(has_snapshot(raft), "no snapshot in %s", raft);

	cr_assert_eq(gq_node_open(dir, NULL, &node), 0, "%s",
		     gq_node_errmsg(NULL));
	cr_assert_eq(gq_fetch(node, "s", 0, 0, 1 << 20, &f), 0);
	while (gq_fetch_next(f, &r) == 1) {
		snprintf(buf, sizeof(buf), "%lld", (long long)n);
		cr_assert_eq(r.offset, n);
		cr_assert_eq(r.value_len, strlen(buf));
		cr_assert_eq(memcmp(r.value, buf, r.value_len), 0);
		n++;
	}
	gq_fetch_destroy(f);
	cr_assert_eq(n, 1100);
	gq_node_close(node);
}
