/* SPDX-License-Identifier: MIT */
/*
 * gqremote.c - load gqd through libgoqueue's own remote client
 * (gq_node_connect): produce N messages of S bytes asynchronously to one
 * partition, then measure blocking produce latency one call at a time.
 * Prints msg/s, MB/s and latency p50/p99, to compare with gqload (the same
 * load through librdkafka).
 *
 *   gqremote -b 127.0.0.1:9092 [-t TOPIC] [-n N] [-s SIZE] [-l SAMPLES]
 *            [-L LINGER] [-I (idempotence off)] [-w WINDOW] [-z CODEC]
 *
 * CODEC (none, gzip, snappy, lz4, zstd) is the compression of the topic
 * it creates; without -z the topic takes the brokers' default (gzip
 * unless configured otherwise).
 *
 * WINDOW bounds the async calls outstanding at once (default 100000), as
 * an application bounds its memory.
 */
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <goqueue.h>

static atomic_long done, failed;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
on_produced(void *arg, int status, int32_t partition, gq_offset offset)
{
	(void)arg;
	(void)partition;
	(void)offset;
	if (status != 0)
		atomic_fetch_add(&failed, 1);
	atomic_fetch_add(&done, 1);
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
usage(void)
{
	fprintf(stderr, "usage: gqremote -b BROKERS [-t TOPIC] [-n N] "
			"[-s SIZE] [-l SAMPLES] [-L LINGER] [-I] [-w WINDOW] "
			"[-z CODEC]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *brokers = "127.0.0.1:9092", *topic = "gqremote";
	const char *linger = "0", *idem = "true", *codec = NULL;
	struct gq_config *tcfg = NULL;
	long n = 500000, size = 1024, samples = 2000, window = 100000;
	struct gq_config *cfg;
	struct gq_node *node;
	struct gq_broker_info *info;
	size_t n_brokers = 0;
	int16_t rf = 1;
	struct gq_msg m;
	double t0, dt, *lat;
	char *payload;
	int c, rv;

	while ((c = getopt(argc, argv, "b:t:n:s:l:L:Iw:z:")) != -1) {
		switch (c) {
		case 'b':
			brokers = optarg;
			break;
		case 't':
			topic = optarg;
			break;
		case 'n':
			n = atol(optarg);
			break;
		case 's':
			size = atol(optarg);
			break;
		case 'l':
			samples = atol(optarg);
			break;
		case 'L':
			linger = optarg;
			break;
		case 'I':
			idem = "false";
			break;
		case 'w':
			window = atol(optarg);
			break;
		case 'z':
			codec = optarg;
			break;
		default:
			usage();
		}
	}
	if (n < 0 || size < 0 || samples < 1 || window < 1)
		usage();
	if (gq_config_create(&cfg) != 0 ||
	    gq_config_set(cfg, "linger", linger, NULL) != 0 ||
	    gq_config_set(cfg, "enable_idempotence", idem, NULL) != 0) {
		fprintf(stderr, "gqremote: bad linger '%s'\n", linger);
		return 2;
	}
	if ((rv = gq_node_connect(brokers, cfg, &node)) != 0) {
		fprintf(stderr, "gqremote: %s: %s\n", brokers,
			gq_node_errmsg(NULL));
		return 1;
	}
	gq_config_destroy(cfg);
	/* Replicated on every broker, three at most, as #4's benchmark. */
	if (gq_cluster_brokers(node, &info, &n_brokers) == 0) {
		gq_cluster_brokers_free(info);
		rf = n_brokers < 3 ? (int16_t)n_brokers : 3;
	}
	if (codec != NULL &&
	    (gq_config_create(&tcfg) != 0 ||
	     gq_config_set(tcfg, "compression_enabled",
			   strcmp(codec, "none") != 0 ? "true" : "false",
			   NULL) != 0 ||
	     (strcmp(codec, "none") != 0 &&
	      gq_config_set(tcfg, "compression_type", codec, NULL) != 0))) {
		fprintf(stderr, "gqremote: bad codec '%s'\n", codec);
		return 2;
	}
	rv = gq_topic_create(node, topic, 1, rf, tcfg);
	gq_config_destroy(tcfg);
	if (rv != 0 && rv != GQ_EEXIST) {
		fprintf(stderr, "gqremote: create %s: %s\n", topic,
			gq_node_errmsg(node));
		return 1;
	}
	payload = malloc((size_t)size + 1);
	lat = calloc((size_t)samples, sizeof(*lat));
	if (payload == NULL || lat == NULL)
		return 1;
	for (long i = 0; i < size; i++)
		payload[i] = (char)('a' + (i * 7 + i / 13) % 26);
	memset(&m, 0, sizeof(m));
	m.value = payload;
	m.value_len = (size_t)size;

	t0 = now_s();
	for (long i = 0; i < n; i++) {
		while (i - atomic_load(&done) >= window)
			usleep(100);
		if ((rv = gq_produce_async(node, topic, 0, &m, 1, on_produced,
					   NULL)) != 0) {
			fprintf(stderr, "gqremote: produce: %s\n",
				gq_node_errmsg(node));
			return 1;
		}
	}
	while (atomic_load(&done) < n)
		usleep(100);
	dt = now_s() - t0;
	printf("remote produce %ld x %ld B acks=all idempotent=%s linger=%s "
	       "codec=%s: %.0f msg/s %.1f MB/s, %ld failed\n",
	       n, size, idem, linger, codec != NULL ? codec : "default",
	       (double)n / dt, (double)n * (double)size / dt / 1e6,
	       atomic_load(&failed));

	for (long i = 0; i < samples; i++) {
		double s = now_s();

		if ((rv = gq_produce(node, topic, 0, &m, 1, NULL, NULL)) != 0) {
			fprintf(stderr, "gqremote: produce: %s\n",
				gq_node_errmsg(node));
			return 1;
		}
		lat[i] = (now_s() - s) * 1e6;
	}
	qsort(lat, (size_t)samples, sizeof(*lat), cmp);
	printf("remote produce latency (blocking, %ld samples): p50 %.0f us, "
	       "p99 %.0f us\n",
	       samples, lat[samples / 2], lat[samples * 99 / 100]);
	gq_node_close(node);
	free(lat);
	free(payload);
	return atomic_load(&failed) == 0 ? 0 : 1;
}
