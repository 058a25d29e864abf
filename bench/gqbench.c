/* SPDX-License-Identifier: MIT */
/*
 * gqbench.c - libgoqueue benchmark: durable produce throughput through the
 * async API, blocking-produce latency, fetch throughput.  Public API only.
 *
 *   gqbench [-d DIR] [-n MESSAGES] [-b BATCH] [-w WINDOW] [-l LAT_COUNT]
 *
 * Every produce is acknowledged only when durable (Raft commit after
 * fdatasync), as the library always does.  Figures go to stdout.
 */
#include <getopt.h>
#include <goqueue.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct window {
	atomic_long outstanding;
	atomic_long failed;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
on_ack(void *arg, int status, int32_t partition, gq_offset base)
{
	struct window *w = arg;

	(void)partition;
	(void)base;
	if (status != 0)
		atomic_fetch_add(&w->failed, 1);
	atomic_fetch_sub(&w->outstanding, 1);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
die(const char *what, int rv, struct gq_node *node)
{
	fprintf(stderr, "%s: %s (%s)\n", what, gq_strerror(rv),
		gq_node_errmsg(node));
	exit(1);
}

/* Produce @n messages of @size bytes in calls of @batch messages, keeping
 * at most @window calls in flight. */
static void
bench_produce(struct gq_node *node, const char *topic, long n, size_t size,
	      int batch, long window)
{
	struct gq_msg *msgs = calloc((size_t)batch, sizeof(*msgs));
	char *payload = malloc(size);
	struct window w = { 0 };
	double t0, dt;
	long sent = 0;

	for (size_t i = 0; i < size; i++)
		payload[i] = (char)('a' + (i * 7) % 26);
	for (int i = 0; i < batch; i++) {
		msgs[i].value = payload;
		msgs[i].value_len = size;
	}
	t0 = now_s();
	while (sent < n) {
		int k = (int)(n - sent < batch ? n - sent : batch);
		int rv;

		while (atomic_load(&w.outstanding) >= window)
			usleep(20);
		atomic_fetch_add(&w.outstanding, 1);
		rv = gq_produce_async(node, topic, 0, msgs, (size_t)k, on_ack,
				      &w);
		if (rv != 0)
			die("produce_async", rv, node);
		sent += k;
	}
	while (atomic_load(&w.outstanding) > 0)
		usleep(50);
	dt = now_s() - t0;
	printf("produce  %5zu B x %-8ld batch %-4d window %-5ld: "
	       "%10.0f msg/s %8.1f MB/s  (%ld failed)\n",
	       size, n, batch, window, (double)n / dt,
	       (double)n * (double)size / dt / 1e6, atomic_load(&w.failed));
	free(msgs);
	free(payload);
}

static void
bench_latency(struct gq_node *node, const char *topic, long count)
{
	double *lat = calloc((size_t)count, sizeof(*lat));
	char payload[100];
	struct gq_msg m;

	memset(payload, 'x', sizeof(payload));
	memset(&m, 0, sizeof(m));
	m.value = payload;
	m.value_len = sizeof(payload);
	for (long i = 0; i < count; i++) {
		double t0 = now_s();
		int rv = gq_produce(node, topic, 0, &m, 1, NULL, NULL);

		if (rv != 0)
			die("produce", rv, node);
		lat[i] = (now_s() - t0) * 1e6;
	}
	qsort(lat, (size_t)count, sizeof(*lat), cmp_double);
	printf("blocking produce latency (100 B, %ld calls): p50 %.0f us, "
	       "p99 %.0f us, max %.0f us\n",
	       count, lat[count / 2], lat[count * 99 / 100], lat[count - 1]);
	free(lat);
}

static void
bench_fetch(struct gq_node *node, const char *topic)
{
	gq_offset next = 0;
	long msgs = 0;
	size_t bytes = 0;
	double t0 = now_s(), dt;

	for (;;) {
		struct gq_fetch *f;
		struct gq_record r;
		long got = 0;
		int rv;

		if ((rv = gq_fetch(node, topic, 0, next, 4 << 20, &f)) != 0)
			die("fetch", rv, node);
		while ((rv = gq_fetch_next(f, &r)) == 1) {
			bytes += r.value_len;
			next = r.offset + 1;
			got++;
		}
		gq_fetch_destroy(f);
		if (rv < 0)
			die("fetch_next", rv, node);
		if (got == 0)
			break;
		msgs += got;
	}
	dt = now_s() - t0;
	printf("fetch    %ld messages: %10.0f msg/s %8.1f MB/s\n", msgs,
	       (double)msgs / dt, (double)bytes / dt / 1e6);
}

static struct gq_node *
fresh_node(const char *dir)
{
	struct gq_node *node;
	char cmd[4200];
	int rv;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		exit(1);
	if ((rv = gq_node_open(dir, NULL, &node)) != 0)
		die("open", rv, NULL);
	return node;
}

static void
make_topic(struct gq_node *node, const char *name, const char *codec)
{
	struct gq_config *cfg;
	int rv;

	gq_config_create(&cfg);
	gq_config_set(cfg, "compression_type", codec, NULL);
	gq_config_set(cfg, "segment_size", "256MiB", NULL);
	if ((rv = gq_topic_create(node, name, 1, 1, cfg)) != 0)
		die("topic create", rv, node);
	gq_config_destroy(cfg);
}

int
main(int argc, char **argv)
{
	const char *dir = "./gqbench-data";
	long n = 300000, window = 256, lat = 2000;
	int batch = 64;
	struct gq_node *node;
	int c;

	while ((c = getopt(argc, argv, "d:n:b:w:l:")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 'b':
			batch = atoi(optarg);
			break;
		case 'w':
			window = strtol(optarg, NULL, 10);
			break;
		case 'l':
			lat = strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: gqbench [-d DIR] [-n MESSAGES] "
					"[-b BATCH] [-w WINDOW] [-l LAT]\n");
			return 2;
		}
	}
	printf("goqueue %d, data in %s, durable acks (fdatasync)\n",
	       gq_version_number(), dir);
	node = fresh_node(dir);
	make_topic(node, "b100", "none");
	make_topic(node, "b1k", "none");
	make_topic(node, "lat", "none");
	bench_produce(node, "b100", n, 100, batch, window);
	bench_produce(node, "b1k", n, 1024, batch, window);
	bench_produce(node, "b1k", n / 10, 1024, 1, window * 4);
	bench_latency(node, "lat", lat);
	bench_fetch(node, "b100");
	bench_fetch(node, "b1k");
	gq_node_close(node);
	return 0;
}
