/* SPDX-License-Identifier: MIT */
/*
 * test_metrics.c - gqd's Prometheus text: escaping of label values and
 * help texts, float formatting, cumulative histogram buckets whose +Inf
 * bucket is the count, and the registry's rendering (duration buckets,
 * errors by name, unknown API keys and error codes folded into one
 * series each).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../frontend/gqd/metrics.h"
#include "../../frontend/gqd/prom.h"

TestSuite(prom, .timeout = 10);
TestSuite(metrics, .timeout = 10);

/* Whether @text holds the line @line (a whole line). */
static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* How many lines of @text start with @prefix. */
static int
count_prefix(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return n;
}

/* Label values escape backslash, double quote and newline, and nothing
 * else. */
Test(prom, label_escaping)
{
	struct gqd_prom p;
	struct gqd_prom_label l[2] = { { "group", "a\"b\\c\nd" },
				       { "topic", "t{1}=x" } };

	gqd_prom_init(&p);
	gqd_prom_sample_u64(&p, "m", l, 2, 7);
	cr_assert(gqd_prom_failed(&p) == false);
	cr_assert(eq(str, p.buf,
		     "m{group=\"a\\\"b\\\\c\\nd\",topic=\"t{1}=x\"} 7\n"));
	gqd_prom_free(&p);
}

/* Help texts escape backslash and newline but keep quotes. */
Test(prom, help_escaping)
{
	struct gqd_prom p;

	gqd_prom_init(&p);
	gqd_prom_family(&p, "m_total", "counter", "a \"q\" \\ and\nmore");
	cr_assert(eq(str, p.buf,
		     "# HELP m_total a \"q\" \\\\ and\\nmore\n"
		     "# TYPE m_total counter\n"));
	gqd_prom_free(&p);
}

/* Floats print in their shortest exact form; specials as Prometheus
 * spells them; integers without a fraction. */
Test(prom, floats)
{
	char b[64];

	cr_assert(eq(str, (char *)gqd_prom_float(b, sizeof(b), 0.0001),
		     "0.0001"));
	cr_assert(eq(str, (char *)gqd_prom_float(b, sizeof(b), 0.00025),
		     "0.00025"));
	cr_assert(eq(str, (char *)gqd_prom_float(b, sizeof(b), 2.5), "2.5"));
	cr_assert(eq(str, (char *)gqd_prom_float(b, sizeof(b), 10), "10"));
	cr_assert(eq(str, (char *)gqd_prom_float(b, sizeof(b), -3), "-3"));
	cr_assert(eq(str, (char *)gqd_prom_float(b, sizeof(b), 0.1 + 0.2),
		     "0.30000000000000004"));
	cr_assert(eq(str, (char *)gqd_prom_float(b, sizeof(b), 1.0 / 0.0),
		     "+Inf"));
	cr_assert(eq(str, (char *)gqd_prom_float(b, sizeof(b), -1.0 / 0.0),
		     "-Inf"));
	cr_assert(eq(str, (char *)gqd_prom_float(b, sizeof(b), 0.0 / 0.0),
		     "NaN"));
}

/* Buckets are cumulative, le comes last, +Inf equals _count. */
Test(prom, histogram)
{
	static const double bounds[] = { 0.5, 1 };
	static const uint64_t counts[] = { 2, 0, 3 };
	struct gqd_prom p;
	struct gqd_prom_label l = { "api", "Fetch" };

	gqd_prom_init(&p);
	gqd_prom_histogram(&p, "d_seconds", &l, 1, bounds, counts, 2, 7.25);
	cr_assert(eq(str, p.buf,
		     "d_seconds_bucket{api=\"Fetch\",le=\"0.5\"} 2\n"
		     "d_seconds_bucket{api=\"Fetch\",le=\"1\"} 2\n"
		     "d_seconds_bucket{api=\"Fetch\",le=\"+Inf\"} 5\n"
		     "d_seconds_sum{api=\"Fetch\"} 7.25\n"
		     "d_seconds_count{api=\"Fetch\"} 5\n"));
	gqd_prom_free(&p);
	/* Without labels, le stands alone. */
	gqd_prom_init(&p);
	gqd_prom_histogram(&p, "d", NULL, 0, bounds, counts, 2, 0);
	cr_assert(has_line(p.buf, "d_bucket{le=\"0.5\"} 2"));
	cr_assert(has_line(p.buf, "d_sum 0"));
	cr_assert(has_line(p.buf, "d_count 5"));
	gqd_prom_free(&p);
}

/* A large text grows the buffer and stays whole. */
Test(prom, growth)
{
	struct gqd_prom p;
	char name[32];

	gqd_prom_init(&p);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		gqd_prom_sample_i64(&p, name, NULL, 0, -i);
	}
	cr_assert(gqd_prom_failed(&p) == false);
	cr_assert(has_line(p.buf, "m0 0"));
	cr_assert(has_line(p.buf, "m4999 -4999"));
	cr_assert(eq(sz, strlen(p.buf), p.len));
	gqd_prom_free(&p);
}

static char *
render(struct gqd_metrics *m)
{
	struct gqd_prom p;

	gqd_prom_init(&p);
	gqd_metrics_render(m, &p);
	cr_assert(gqd_prom_failed(&p) == false);
	return p.buf;
}

/* A duration lands in the first bucket whose bound it does not exceed;
 * past the last bound only +Inf counts it. */
Test(metrics, duration_buckets)
{
	struct gqd_metrics *m;
	char *t;

	cr_assert(eq(int, gqd_metrics_create(&m), 0));
	gqd_metrics_request(m, 0);
	gqd_metrics_request_done(m, 0, 100000);      /* 100 us exactly */
	gqd_metrics_request_done(m, 0, 100001);      /* just above */
	gqd_metrics_request_done(m, 0, 10500000000); /* 10.5 s */
	t = render(m);
	cr_assert(has_line(t, "gqd_kafka_requests_total{api=\"Produce\"} 1"));
	cr_assert(has_line(t, "gqd_kafka_request_duration_seconds_bucket{"
			      "api=\"Produce\",le=\"0.0001\"} 1"));
	cr_assert(has_line(t, "gqd_kafka_request_duration_seconds_bucket{"
			      "api=\"Produce\",le=\"0.00025\"} 2"));
	cr_assert(has_line(t, "gqd_kafka_request_duration_seconds_bucket{"
			      "api=\"Produce\",le=\"10\"} 2"));
	cr_assert(has_line(t, "gqd_kafka_request_duration_seconds_bucket{"
			      "api=\"Produce\",le=\"+Inf\"} 3"));
	cr_assert(has_line(t, "gqd_kafka_request_duration_seconds_count{"
			      "api=\"Produce\"} 3"));
	cr_assert(has_line(t, "gqd_kafka_request_duration_seconds_sum{"
			      "api=\"Produce\"} 10.500200001"));
	/* Every served API is listed, at zero if need be. */
	cr_assert(has_line(t, "gqd_kafka_requests_total{api=\"Fetch\"} 0"));
	free(t);
	gqd_metrics_destroy(m);
}

/* Errors are counted by name; keys and codes without a name fold into
 * one series each, listed once. */
Test(metrics, unknown_folded)
{
	struct gqd_metrics *m;
	char *t;

	cr_assert(eq(int, gqd_metrics_create(&m), 0));
	gqd_metrics_request(m, 50);   /* not a key gqd knows */
	gqd_metrics_request(m, 66);   /* nor this */
	gqd_metrics_request(m, 1000); /* out of any range */
	gqd_metrics_error(m, 1, 6);   /* Fetch NOT_LEADER_OR_FOLLOWER */
	gqd_metrics_error(m, 1, 6);
	gqd_metrics_error(m, 1, 0);   /* ignored */
	gqd_metrics_error(m, 1, 11);  /* no such Kafka code */
	gqd_metrics_error(m, 1, 999); /* out of range */
	t = render(m);
	cr_assert(has_line(t, "gqd_kafka_requests_total{api=\"Unknown\"} 3"));
	cr_assert(
		eq(int,
		   count_prefix(t, "gqd_kafka_requests_total{api=\"Unknown\"}"),
		   1));
	cr_assert(has_line(t, "gqd_kafka_request_errors_total{api=\"Fetch\","
			      "error=\"NOT_LEADER_OR_FOLLOWER\"} 2"));
	cr_assert(has_line(t, "gqd_kafka_request_errors_total{api=\"Fetch\","
			      "error=\"UNKNOWN\"} 2"));
	cr_assert(
		eq(int, count_prefix(t, "gqd_kafka_request_errors_total{"), 2));
	cr_assert(eq(int,
		     count_prefix(t, "gqd_kafka_request_duration_seconds_count{"
				     "api=\"Unknown\"}"),
		     1));
	free(t);
	gqd_metrics_destroy(m);
}

/* Byte, message and connection counters render as they were counted. */
Test(metrics, counters)
{
	struct gqd_metrics *m;
	char *t;

	cr_assert(eq(int, gqd_metrics_create(&m), 0));
	gqd_metrics_bytes_in(m, 10);
	gqd_metrics_bytes_out(m, 20);
	gqd_metrics_produced(m, 3, 300);
	gqd_metrics_fetched(m, 40);
	gqd_metrics_conn_accepted(m, 1);
	gqd_metrics_conn_accepted(m, 2);
	gqd_metrics_conn_rejected(m);
	gqd_metrics_conn_closed(m, 1);
	t = render(m);
	cr_assert(has_line(t, "gqd_kafka_bytes_received_total 10"));
	cr_assert(has_line(t, "gqd_kafka_bytes_sent_total 20"));
	cr_assert(has_line(t, "gqd_kafka_produced_messages_total 3"));
	cr_assert(has_line(t, "gqd_kafka_produced_bytes_total 300"));
	cr_assert(has_line(t, "gqd_kafka_fetched_bytes_total 40"));
	cr_assert(has_line(t, "gqd_connections 1"));
	cr_assert(has_line(t, "gqd_connections_accepted_total 2"));
	cr_assert(has_line(t, "gqd_connections_rejected_total 1"));
	cr_assert(has_line(t, "# TYPE gqd_connections gauge"));
	free(t);
	gqd_metrics_destroy(m);
}
