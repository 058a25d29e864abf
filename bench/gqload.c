/* SPDX-License-Identifier: MIT */
/*
 * gqload.c - load a Kafka broker (gqd) with librdkafka: produce N messages
 * of S bytes with acks=all, then consume them all back; print msg/s, MB/s
 * and the produce latency (enqueue to delivery report) p50/p99.
 *
 *   gqload -b 127.0.0.1:9092 [-t TOPIC] [-n N] [-s SIZE] [-z CODEC]
 *          [-i (idempotent)] [-l LATENCY_SAMPLES]
 *
 * Throughput is measured with everything queued at once (so its latency
 * figures are queueing time); the latency phase then sends one message at
 * a time and waits for each acknowledgement.
 */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double *lat;
static long n_lat, n_failed;

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	double sent = *(double *)m->_private;

	(void)rk;
	(void)opaque;
	if (m->err != 0)
		n_failed++;
	else
		lat[n_lat++] = (now_s() - sent) * 1e6;
	free(m->_private);
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static rd_kafka_t *
client(rd_kafka_type_t type, const char *brokers, const char **kv, int n)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512];
	rd_kafka_t *rk;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err,
			      sizeof(err)) != RD_KAFKA_CONF_OK)
		goto bad;
	for (int i = 0; i + 1 < n; i += 2)
		if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], err,
				      sizeof(err)) != RD_KAFKA_CONF_OK)
			goto bad;
	if (type == RD_KAFKA_PRODUCER)
		rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	if ((rk = rd_kafka_new(type, conf, err, sizeof(err))) == NULL)
		goto bad;
	return rk;
bad:
	fprintf(stderr, "gqload: %s\n", err);
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *brokers = "127.0.0.1:9092", *topic = "gqload";
	const char *codec = "none", *idem = "false";
	long n = 500000, size = 1024, got = 0, samples = 2000;
	char *payload;
	double t0, dt;
	int c;

	while ((c = getopt(argc, argv, "b:t:n:s:z:il:")) != -1) {
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
		case 'z':
			codec = optarg;
			break;
		case 'i':
			idem = "true";
			break;
		case 'l':
			samples = atol(optarg);
			break;
		default:
			fprintf(stderr, "usage: gqload -b BROKERS [-t TOPIC] "
					"[-n N] [-s SIZE] [-z CODEC] [-i]\n");
			return 2;
		}
	}
	lat = calloc((size_t)(n > samples ? n : samples), sizeof(*lat));
	payload = malloc((size_t)size);
	for (long i = 0; i < size; i++)
		payload[i] = (char)('a' + (i * 7 + i / 13) % 26);
	{
		const char *kv[] = { "acks",
				     "all",
				     "linger.ms",
				     "5",
				     "batch.num.messages",
				     "10000",
				     "queue.buffering.max.messages",
				     "1000000",
				     "compression.type",
				     codec,
				     "enable.idempotence",
				     idem };
		rd_kafka_t *p = client(RD_KAFKA_PRODUCER, brokers, kv, 12);

		t0 = now_s();
		for (long i = 0; i < n; i++) {
			double *sent = malloc(sizeof(*sent));

			*sent = now_s();
			while (rd_kafka_producev(
				       p, RD_KAFKA_V_TOPIC(topic),
				       RD_KAFKA_V_PARTITION(0),
				       RD_KAFKA_V_VALUE(payload, (size_t)size),
				       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				       RD_KAFKA_V_OPAQUE(sent),
				       RD_KAFKA_V_END) != 0)
				rd_kafka_poll(p, 1);
			if (i % 1000 == 0)
				rd_kafka_poll(p, 0);
		}
		rd_kafka_flush(p, 120000);
		dt = now_s() - t0;
		printf("produce %ld x %ld B acks=all codec=%s idempotent=%s: "
		       "%.0f msg/s %.1f MB/s, %ld failed\n",
		       n, size, codec, idem, (double)n / dt,
		       (double)n * (double)size / dt / 1e6, n_failed);
		/* Latency: one message in flight at a time. */
		n_lat = 0;
		for (long i = 0; i < samples; i++) {
			double *sent = malloc(sizeof(*sent));

			*sent = now_s();
			rd_kafka_producev(
				p, RD_KAFKA_V_TOPIC(topic),
				RD_KAFKA_V_PARTITION(0),
				RD_KAFKA_V_VALUE(payload, (size_t)size),
				RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				RD_KAFKA_V_OPAQUE(sent), RD_KAFKA_V_END);
			rd_kafka_flush(p, 10000);
		}
		rd_kafka_destroy(p);
	}
	qsort(lat, (size_t)n_lat, sizeof(*lat), cmp);
	if (n_lat > 0)
		printf("produce latency (one in flight, %ld samples): p50 %.0f "
		       "us, p99 %.0f us\n",
		       n_lat, lat[n_lat / 2], lat[n_lat * 99 / 100]);
	n += samples;
	{
		const char *kv[] = { "group.id",
				     "gqload",
				     "enable.auto.commit",
				     "false",
				     "fetch.max.bytes",
				     "52428800",
				     "max.partition.fetch.bytes",
				     "8388608" };
		rd_kafka_t *cons = client(RD_KAFKA_CONSUMER, brokers, kv, 8);
		rd_kafka_topic_partition_list_t *l =
			rd_kafka_topic_partition_list_new(1);

		rd_kafka_topic_partition_list_add(l, topic, 0)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
		rd_kafka_assign(cons, l);
		rd_kafka_topic_partition_list_destroy(l);
		t0 = now_s();
		while (got < n) {
			rd_kafka_message_t *m =
				rd_kafka_consumer_poll(cons, 5000);

			if (m == NULL)
				break;
			if (m->err == 0)
				got++;
			rd_kafka_message_destroy(m);
		}
		dt = now_s() - t0;
		rd_kafka_consumer_close(cons);
		rd_kafka_destroy(cons);
	}
	printf("consume %ld messages: %.0f msg/s %.1f MB/s\n", got,
	       (double)got / dt, (double)got * (double)size / dt / 1e6);
	free(lat);
	free(payload);
	return got == n && n_failed == 0 ? 0 : 1;
}
