/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - gqd's own instruments: what its Kafka listener counts
 * (requests, errors and latency per API, bytes in and out, messages
 * produced, connections), kept as plain C11 atomics and rendered in
 * Prometheus text format (prom.h).
 *
 * Threading: the Kafka server's loop thread updates; any thread renders.
 * Every update is a relaxed atomic add, so the hot path takes no lock and
 * a scrape reads each value without tearing.  A scrape is not a snapshot
 * of all values at one instant (Prometheus does not ask for one), but
 * each histogram renders _count as the sum of the buckets it read, so
 * its lines always agree with each other.
 *
 * The families (names are part of gqd's interface, see gqd(8)):
 *	gqd_kafka_requests_total{api}                      counter
 *	gqd_kafka_request_errors_total{api,error}          counter
 *	gqd_kafka_request_duration_seconds{api}            histogram
 *	gqd_kafka_bytes_received_total, _bytes_sent_total  counter
 *	gqd_kafka_produced_messages_total, _produced_bytes_total,
 *	gqd_kafka_fetched_bytes_total                      counter
 *	gqd_connections                                    gauge
 *	gqd_connections_accepted_total, _rejected_total    counter
 */
#ifndef GQD_METRICS_H
#define GQD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "prom.h"

struct gqd_metrics;

/* A registry with every value at zero.  Returns 0 or GQ_ENOMEM. */
int gqd_metrics_create(struct gqd_metrics **out);

/* Free the registry; NULL is a no-op.  Nothing may update or render it
 * any more. */
void gqd_metrics_destroy(struct gqd_metrics *m);

/* A request of Kafka API @api_key arrived (any key; unknown ones share
 * one "Unknown" series). */
void gqd_metrics_request(struct gqd_metrics *m, int16_t api_key);

/* A request of @api_key was answered (or dropped) @ns nanoseconds after
 * it arrived. */
void gqd_metrics_request_done(struct gqd_metrics *m, int16_t api_key,
			      uint64_t ns);

/* A request of @api_key met Kafka error @code (a partition's, a topic's
 * or the request's own); 0 is ignored. */
void gqd_metrics_error(struct gqd_metrics *m, int16_t api_key, int16_t code);

/* Bytes read from / written to Kafka client connections. */
void gqd_metrics_bytes_in(struct gqd_metrics *m, uint64_t n);
void gqd_metrics_bytes_out(struct gqd_metrics *m, uint64_t n);

/* @messages records in @bytes of record batches were stored. */
void gqd_metrics_produced(struct gqd_metrics *m, uint64_t messages,
			  uint64_t bytes);

/* @bytes of record batches went out in Fetch responses. */
void gqd_metrics_fetched(struct gqd_metrics *m, uint64_t bytes);

/* A connection was accepted (@open connections now), refused at the
 * max_connections limit, or closed (@open left). */
void gqd_metrics_conn_accepted(struct gqd_metrics *m, unsigned open);
void gqd_metrics_conn_rejected(struct gqd_metrics *m);
void gqd_metrics_conn_closed(struct gqd_metrics *m, unsigned open);

/* Append every family above to @p. */
void gqd_metrics_render(const struct gqd_metrics *m, struct gqd_prom *p);

/* The upper bounds of the duration histogram, in seconds, and their
 * number (for tests). */
extern const double gqd_metrics_duration_bounds[];
extern const size_t gqd_metrics_n_duration_bounds;

#endif /* GQD_METRICS_H */
