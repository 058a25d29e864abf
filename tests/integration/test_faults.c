/* SPDX-License-Identifier: MIT */
/*
 * test_faults.c - every allocation the library makes can fail: walk the
 * allocations of whole operations (open, create, produce, fetch, commit,
 * close), failing the Nth one, and check each call reports an error or
 * succeeds, never crashes, hangs or leaks (ASan), and that the node keeps
 * its data.
 */
#include <criterion/criterion.h>
#include <goqueue.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/tmpdir.h"

static const char *dir;

/* A heap that fails allocation number `fail_at` (counting from 0), once. */
static atomic_long counter;
static atomic_long fail_at = -1;
static atomic_long failures;

static void *
f_malloc(void *data, size_t size)
{
	(void)data;
	if (atomic_fetch_add(&counter, 1) == atomic_load(&fail_at)) {
		atomic_fetch_add(&failures, 1);
		return NULL;
	}
	return malloc(size);
}

static void *
f_calloc(void *data, size_t n, size_t size)
{
	(void)data;
	if (atomic_fetch_add(&counter, 1) == atomic_load(&fail_at)) {
		atomic_fetch_add(&failures, 1);
		return NULL;
	}
	return calloc(n, size);
}

static void *
f_realloc(void *data, void *p, size_t size)
{
	(void)data;
	if (atomic_fetch_add(&counter, 1) == atomic_load(&fail_at)) {
		atomic_fetch_add(&failures, 1);
		return NULL;
	}
	return realloc(p, size);
}

static void
f_free(void *data, void *p)
{
	(void)data;
	free(p);
}

static const struct gq_heap fault_heap = {
	.malloc = f_malloc,
	.calloc = f_calloc,
	.realloc = f_realloc,
	.free = f_free,
};

static void
arm(long n)
{
	atomic_store(&failures, 0);
	atomic_store(&counter, 0);
	atomic_store(&fail_at, n);
}

/* Stop failing; returns whether the armed failure happened. */
static bool
disarm(void)
{
	atomic_store(&fail_at, -1);
	return atomic_load(&failures) > 0;
}

static void
setup(void)
{
	dir = gqt_tmpdir_make();
	cr_assert_eq(gq_heap_set(&fault_heap), 0);
}

static void
teardown(void)
{
	atomic_store(&fail_at, -1);
	gq_heap_set(NULL);
	gqt_tmpdir_remove();
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = 600);

static bool
is_error(int rv)
{
	return rv <= -1000 && rv >= -1999;
}

/* Opening a node (new, then existing) with any single allocation failing
 * either works or fails cleanly; afterwards the node opens normally. */
Test(faults, node_open)
{
	for (int pass = 0; pass < 2; pass++) {
		long n;

		for (n = 0;; n++) {
			struct gq_node *node = NULL;
			bool failed;
			int rv;

			struct timespec t0, t1;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			arm(n);
			rv = gq_node_open(dir, NULL, &node);
			failed = disarm();
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if (t1.tv_sec - t0.tv_sec >= 1)
				cr_log_info("n=%ld took %lds rv=%d %s", n,
					    (long)(t1.tv_sec - t0.tv_sec), rv,
					    gq_node_errmsg(NULL));
			cr_assert(rv == 0 || is_error(rv), "n=%ld rv=%d", n,
				  rv);
			if (rv == 0)
				gq_node_close(node);
			else
				cr_assert_null(node);
			if (!failed)
				break; /* ran out of allocations to fail */
		}
		cr_log_info("pass %d: %ld allocations walked", pass, n);
	}
}

/* Topic creation, produce, fetch, commit and close with one allocation
 * failing: errors are reported, acknowledged data stays readable. */
Test(faults, operations)
{
	struct gq_node *node;
	gq_offset acked[4096];
	int n_acked = 0;
	long n;

	cr_assert_eq(gq_node_open(dir, NULL, &node), 0);
	cr_assert_eq(gq_topic_create(node, "t0", 2, 1, NULL), 0);
	for (n = 0;; n++) {
		struct gq_msg m;
		struct gq_fetch *f;
		struct gq_record r;
		char topic[32];
		gq_offset off = -1;
		int rv;

		snprintf(topic, sizeof(topic), "t%ld", n + 1);
		arm(n);
		rv = gq_topic_create(node, topic, 2, 1, NULL);
		cr_assert(rv == 0 || is_error(rv), "create n=%ld rv=%d", n, rv);
		memset(&m, 0, sizeof(m));
		m.key = "k";
		m.key_len = 1;
		m.value = "value";
		m.value_len = 5;
		rv = gq_produce(node, "t0", 0, &m, 1, NULL, &off);
		cr_assert(rv == 0 || is_error(rv), "produce n=%ld rv=%d", n,
			  rv);
		if (rv == 0 && n_acked < 4096)
			acked[n_acked++] = off;
		rv = gq_fetch(node, "t0", 0, 0, 1 << 20, &f);
		cr_assert(rv == 0 || is_error(rv), "fetch n=%ld rv=%d", n, rv);
		if (rv == 0) {
			while ((rv = gq_fetch_next(f, &r)) == 1)
				;
			cr_assert(rv == 0 || is_error(rv));
			gq_fetch_destroy(f);
		}
		rv = gq_group_commit(node, "g", "t0", 0, n, NULL);
		cr_assert(rv == 0 || is_error(rv), "commit n=%ld rv=%d", n, rv);
		if (!disarm())
			break;
	}
	cr_log_info("%ld allocations walked, %d produces acknowledged", n,
		    n_acked);
	gq_node_close(node);

	/* Everything acknowledged is there after a clean reopen. */
	cr_assert_eq(gq_node_open(dir, NULL, &node), 0);
	for (int i = 0; i < n_acked; i++) {
		struct gq_fetch *f;
		struct gq_record r;

		cr_assert_eq(gq_fetch(node, "t0", 0, acked[i], 4096, &f), 0);
		cr_assert_eq(gq_fetch_next(f, &r), 1);
		cr_assert_eq(r.offset, acked[i]);
		gq_fetch_destroy(f);
	}
	gq_node_close(node);
}

/* The value of retention_bytes that @node describes for topic "a". */
static long long
described_bytes(struct gq_node *node)
{
	struct gq_topic_info *info;
	long long v;

	cr_assert_eq(gq_topic_describe(node, "a", &info), 0);
	v = atoll(gq_config_get(gq_topic_info_config(info), "retention_bytes"));
	gq_topic_info_destroy(info);
	return v;
}

/* A topic's configuration change with one allocation failing either
 * applies or reports an error and leaves the previous value; what is
 * described last is what a restart finds. */
Test(faults, topic_alter)
{
	struct gq_node *node;
	long long last = -1;
	long n;

	cr_assert_eq(gq_node_open(dir, NULL, &node), 0);
	cr_assert_eq(gq_topic_create(node, "a", 1, 1, NULL), 0);
	for (n = 0;; n++) {
		struct gq_config *cfg;
		char v[32];
		bool failed;
		int rv;

		snprintf(v, sizeof(v), "%ld", 1000000 + n);
		cr_assert_eq(gq_config_create(&cfg), 0);
		cr_assert_eq(gq_config_set(cfg, "retention_bytes", v, NULL), 0);
		arm(n);
		rv = gq_topic_alter(node, "a", cfg);
		failed = disarm();
		gq_config_destroy(cfg);
		cr_assert(rv == 0 || is_error(rv), "alter n=%ld rv=%d", n, rv);
		if (rv == 0)
			cr_assert_eq(described_bytes(node), 1000000 + n);
		else
			cr_assert(described_bytes(node) == last ||
					  described_bytes(node) == 1000000 + n,
				  "n=%ld rv=%d", n, rv);
		last = described_bytes(node);
		if (!failed)
			break;
	}
	cr_log_info("%ld allocations walked", n);
	gq_node_close(node);
	cr_assert_eq(gq_node_open(dir, NULL, &node), 0);
	cr_assert_eq(described_bytes(node), last);
	gq_node_close(node);
}
