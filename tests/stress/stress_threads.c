/* SPDX-License-Identifier: MIT */
/*
 * stress_threads.c - many application threads on one node at once:
 * blocking and async producers, readers (fetch, list offsets, describe,
 * long polls) and a thread that creates and deletes topics, for a few
 * seconds.  Built for ThreadSanitizer (suite 'stress'; TSan cannot run
 * Criterion binaries), and checks what it reads: offsets contiguous,
 * every acknowledged message there.  Exit status 0 on success.
 */
#include <goqueue.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SECONDS 3
#define PARTS   4

static struct gq_node *node;
static atomic_bool stop;
static atomic_long produced[PARTS];
static atomic_int failures;

#define CHECK(cond, ...)                                \
	do {                                            \
		if (!(cond)) {                          \
			fprintf(stderr, __VA_ARGS__);   \
			fprintf(stderr, "\n");          \
			atomic_fetch_add(&failures, 1); \
		}                                       \
	} while (0)

static void *
producer(void *arg)
{
	int32_t part = (int32_t)(intptr_t)arg;
	char buf[64];

	while (!atomic_load(&stop)) {
		struct gq_msg m;
		int rv;

		memset(&m, 0, sizeof(m));
		snprintf(buf, sizeof(buf), "p%d", part);
		m.value = buf;
		m.value_len = strlen(buf);
		rv = gq_produce(node, "s", part, &m, 1, NULL, NULL);
		CHECK(rv == 0, "produce: %s", gq_strerror(rv));
		atomic_fetch_add(&produced[part], 1);
	}
	return NULL;
}

static atomic_long async_acks;

static void
on_ack(void *arg, int status, int32_t partition, gq_offset base)
{
	(void)arg;
	(void)base;
	CHECK(status == 0, "async produce: %s", gq_strerror(status));
	atomic_fetch_add(&produced[partition], 1);
	atomic_fetch_sub(&async_acks, 1);
}

static void *
async_producer(void *arg)
{
	struct gq_msg m;

	(void)arg;
	memset(&m, 0, sizeof(m));
	m.value = "async";
	m.value_len = 5;
	while (!atomic_load(&stop)) {
		if (atomic_load(&async_acks) > 256) {
			usleep(100);
			continue;
		}
		atomic_fetch_add(&async_acks, 1);
		if (gq_produce_async(node, "s", 3, &m, 1, on_ack, NULL) != 0)
			atomic_fetch_sub(&async_acks, 1);
	}
	while (atomic_load(&async_acks) > 0)
		usleep(1000);
	return NULL;
}

static void *
reader(void *arg)
{
	int32_t part = (int32_t)(intptr_t)arg;
	gq_offset next = 0;

	while (!atomic_load(&stop)) {
		struct gq_fetch *f;
		struct gq_record r;
		gq_offset hw;
		int rv;

		rv = gq_fetch(node, "s", part, next, 64 * 1024, &f);
		CHECK(rv == 0, "fetch: %s", gq_strerror(rv));
		if (rv != 0)
			continue;
		while ((rv = gq_fetch_next(f, &r)) == 1) {
			CHECK(r.offset == next, "offset %lld, expected %lld",
			      (long long)r.offset, (long long)next);
			next = r.offset + 1;
		}
		CHECK(rv == 0, "fetch_next: %s", gq_strerror(rv));
		gq_fetch_destroy(f);
		CHECK(gq_list_offsets(node, "s", part, GQ_OFFSET_LATEST, &hw) ==
				      0 &&
			      hw >= next,
		      "high watermark behind what was read");
	}
	return NULL;
}

static void
on_wait(void *arg, int status)
{
	(void)status;
	atomic_fetch_sub((atomic_int *)arg, 1);
}

static void *
admin(void *arg)
{
	static atomic_int waits;
	int i = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		struct gq_topic_info *info;
		int rv;

		rv = gq_topic_create(node, "churn", 2, 1, NULL);
		CHECK(rv == 0, "create churn: %s", gq_strerror(rv));
		atomic_fetch_add(&waits, 1);
		if (gq_fetch_wait_async(node, "churn", 0, 0, 50, on_wait,
					&waits) != 0)
			atomic_fetch_sub(&waits, 1);
		if (gq_topic_describe(node, "s", &info) == 0)
			gq_topic_info_destroy(info);
		rv = gq_topic_delete(node, "churn");
		CHECK(rv == 0, "delete churn: %s", gq_strerror(rv));
		i++;
	}
	while (atomic_load(&waits) > 0)
		usleep(1000);
	printf("admin: %d create/delete cycles\n", i);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t th[16];
	int n = 0;
	char dir[] = "/tmp/gqstress-XXXXXX";
	char cmd[128];
	long total = 0;

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL || gq_node_open(dir, NULL, &node) != 0 ||
	    gq_topic_create(node, "s", PARTS, 1, NULL) != 0) {
		fprintf(stderr, "setup failed: %s\n", gq_node_errmsg(NULL));
		return 1;
	}
	for (intptr_t p = 0; p < 3; p++)
		pthread_create(&th[n++], NULL, producer, (void *)p);
	pthread_create(&th[n++], NULL, async_producer, NULL);
	for (intptr_t p = 0; p < PARTS; p++)
		pthread_create(&th[n++], NULL, reader, (void *)p);
	pthread_create(&th[n++], NULL, admin, NULL);
	sleep(SECONDS);
	atomic_store(&stop, true);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	for (int p = 0; p < PARTS; p++) {
		gq_offset hw = -1;

		gq_list_offsets(node, "s", p, GQ_OFFSET_LATEST, &hw);
		CHECK(hw == atomic_load(&produced[p]),
		      "partition %d: %lld stored, %ld acknowledged", p,
		      (long long)hw, atomic_load(&produced[p]));
		total += hw;
	}
	gq_node_close(node);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	printf("%ld messages, %d failures\n", total, atomic_load(&failures));
	return atomic_load(&failures) == 0 ? 0 : 1;
}
