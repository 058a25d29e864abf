/* SPDX-License-Identifier: MIT */
/*
 * metrics.c - gqd's own instruments (see metrics.h).
 *
 * Storage is fixed at creation, so an update never allocates or locks:
 * one slot per Kafka API key below API_SLOTS (the last slot takes every
 * other key), and per API one error counter per Kafka error code in
 * [-1, ERR_SLOTS - 2] (the last takes every other code).  Names are
 * looked up only when rendering; keys and codes without a name are summed
 * into one "Unknown" / "UNKNOWN" series there, so no series is ever
 * written twice.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <goqueue.h>

#include "kapi.h"

#define API_SLOTS    72 /* Kafka 3.4 keys end at 67 */
#define API_OTHER    (API_SLOTS - 1)
#define ERR_SLOTS    128
#define ERR_OTHER    (ERR_SLOTS - 1)
#define N_BOUNDS     16
#define NS_PER_SEC   1e9
#define UNKNOWN_API  "Unknown" /* gqk_api_name() of a key it does not know */
#define UNKNOWN_CODE "UNKNOWN" /* gqk_err_name() likewise */

/* 100 us to 10 s: a ListOffsets answered from memory takes well under a
 * millisecond, a Fetch long poll up to its max_wait_ms (seconds). */
const double gqd_metrics_duration_bounds[N_BOUNDS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
	0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10,
};
const size_t gqd_metrics_n_duration_bounds = N_BOUNDS;

struct api_stats {
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t buckets[N_BOUNDS + 1];
	atomic_uint_fast64_t sum_ns;
	atomic_uint_fast64_t errors[ERR_SLOTS];
};

struct gqd_metrics {
	struct api_stats api[API_SLOTS];
	uint64_t bounds_ns[N_BOUNDS];
	atomic_uint_fast64_t bytes_in;
	atomic_uint_fast64_t bytes_out;
	atomic_uint_fast64_t produced_messages;
	atomic_uint_fast64_t produced_bytes;
	atomic_uint_fast64_t fetched_bytes;
	atomic_uint_fast64_t conns_open;
	atomic_uint_fast64_t conns_accepted;
	atomic_uint_fast64_t conns_rejected;
};

/* What one API's slot (or several merged) held when read. */
struct api_snap {
	uint64_t requests;
	uint64_t buckets[N_BOUNDS + 1];
	uint64_t sum_ns;
	uint64_t errors[ERR_SLOTS];
	bool merged; /* summed into another slot: not rendered itself */
};

static void
add(atomic_uint_fast64_t *a, uint64_t n)
{
	atomic_fetch_add_explicit(a, n, memory_order_relaxed);
}

static uint64_t
load(const atomic_uint_fast64_t *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

int
gqd_metrics_create(struct gqd_metrics **out)
{
	struct gqd_metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return GQ_ENOMEM;
	for (size_t i = 0; i < N_BOUNDS; i++)
		m->bounds_ns[i] =
			(uint64_t)(gqd_metrics_duration_bounds[i] * NS_PER_SEC +
				   0.5);
	*out = m;
	return 0;
}

void
gqd_metrics_destroy(struct gqd_metrics *m)
{
	free(m);
}

static struct api_stats *
api_slot(struct gqd_metrics *m, int16_t key)
{
	return &m->api[key >= 0 && key < API_OTHER ? key : API_OTHER];
}

void
gqd_metrics_request(struct gqd_metrics *m, int16_t api_key)
{
	add(&api_slot(m, api_key)->requests, 1);
}

void
gqd_metrics_request_done(struct gqd_metrics *m, int16_t api_key, uint64_t ns)
{
	struct api_stats *a = api_slot(m, api_key);
	size_t b = 0;

	while (b < N_BOUNDS && ns > m->bounds_ns[b])
		b++;
	add(&a->buckets[b], 1);
	add(&a->sum_ns, ns);
}

void
gqd_metrics_error(struct gqd_metrics *m, int16_t api_key, int16_t code)
{
	int slot = code + 1;

	if (code == 0)
		return;
	if (slot < 0 || slot >= ERR_OTHER)
		slot = ERR_OTHER;
	add(&api_slot(m, api_key)->errors[slot], 1);
}

void
gqd_metrics_bytes_in(struct gqd_metrics *m, uint64_t n)
{
	add(&m->bytes_in, n);
}

void
gqd_metrics_bytes_out(struct gqd_metrics *m, uint64_t n)
{
	add(&m->bytes_out, n);
}

void
gqd_metrics_produced(struct gqd_metrics *m, uint64_t messages, uint64_t bytes)
{
	add(&m->produced_messages, messages);
	add(&m->produced_bytes, bytes);
}

void
gqd_metrics_fetched(struct gqd_metrics *m, uint64_t bytes)
{
	add(&m->fetched_bytes, bytes);
}

void
gqd_metrics_conn_accepted(struct gqd_metrics *m, unsigned open)
{
	add(&m->conns_accepted, 1);
	atomic_store_explicit(&m->conns_open, open, memory_order_relaxed);
}

void
gqd_metrics_conn_rejected(struct gqd_metrics *m)
{
	add(&m->conns_rejected, 1);
}

void
gqd_metrics_conn_closed(struct gqd_metrics *m, unsigned open)
{
	atomic_store_explicit(&m->conns_open, open, memory_order_relaxed);
}

/* ---- rendering ------------------------------------------------------ */

static const char *
api_name(size_t slot)
{
	return slot == API_OTHER ? UNKNOWN_API : gqk_api_name((int16_t)slot);
}

static const char *
err_name(size_t slot)
{
	return slot == ERR_OTHER ? UNKNOWN_CODE
				 : gqk_err_name((int16_t)((int)slot - 1));
}

/* Read every slot, then fold the ones without a name into the "other"
 * slots, so that each label set appears once. */
static void
snapshot(const struct gqd_metrics *m, struct api_snap *s)
{
	for (size_t i = 0; i < API_SLOTS; i++) {
		const struct api_stats *a = &m->api[i];

		s[i].requests = load(&a->requests);
		for (size_t b = 0; b <= N_BOUNDS; b++)
			s[i].buckets[b] = load(&a->buckets[b]);
		s[i].sum_ns = load(&a->sum_ns);
		for (size_t e = 0; e < ERR_SLOTS; e++)
			s[i].errors[e] = load(&a->errors[e]);
		for (size_t e = 0; e < ERR_OTHER; e++) {
			if (s[i].errors[e] == 0 ||
			    strcmp(err_name(e), UNKNOWN_CODE) != 0)
				continue;
			s[i].errors[ERR_OTHER] += s[i].errors[e];
			s[i].errors[e] = 0;
		}
	}
	for (size_t i = 0; i < API_OTHER; i++) {
		struct api_snap *o = &s[API_OTHER];

		if (strcmp(api_name(i), UNKNOWN_API) != 0)
			continue;
		s[i].merged = true;
		o->requests += s[i].requests;
		for (size_t b = 0; b <= N_BOUNDS; b++)
			o->buckets[b] += s[i].buckets[b];
		o->sum_ns += s[i].sum_ns;
		for (size_t e = 0; e < ERR_SLOTS; e++)
			o->errors[e] += s[i].errors[e];
	}
}

/* Every API gqd serves is always listed, so that dashboards see zeros;
 * other keys only once a client sent one. */
static bool
listed(const struct api_snap *s, size_t slot)
{
	if (s[slot].merged)
		return false;
	return slot == API_OTHER ? s[slot].requests > 0
				 : gqk_api_range((int16_t)slot) != NULL ||
					   s[slot].requests > 0;
}

static void
render_requests(const struct api_snap *s, struct gqd_prom *p)
{
	struct gqd_prom_label l[2];

	gqd_prom_family(p, "gqd_kafka_requests_total", "counter",
			"Kafka requests received, by API.");
	for (size_t i = 0; i < API_SLOTS; i++) {
		if (!listed(s, i))
			continue;
		l[0] = (struct gqd_prom_label){ "api", api_name(i) };
		gqd_prom_sample_u64(p, "gqd_kafka_requests_total", l, 1,
				    s[i].requests);
	}
	gqd_prom_family(p, "gqd_kafka_request_errors_total", "counter",
			"Kafka error codes returned, by API and error (one "
			"per partition or topic in error where the API has "
			"them, else one per request).");
	for (size_t i = 0; i < API_SLOTS; i++) {
		if (s[i].merged)
			continue;
		for (size_t e = 0; e < ERR_SLOTS; e++) {
			if (s[i].errors[e] == 0)
				continue;
			l[0] = (struct gqd_prom_label){ "api", api_name(i) };
			l[1] = (struct gqd_prom_label){ "error", err_name(e) };
			gqd_prom_sample_u64(p, "gqd_kafka_request_errors_total",
					    l, 2, s[i].errors[e]);
		}
	}
	gqd_prom_family(p, "gqd_kafka_request_duration_seconds", "histogram",
			"Time from a Kafka request's arrival to its response "
			"being queued, by API.");
	for (size_t i = 0; i < API_SLOTS; i++) {
		if (!listed(s, i))
			continue;
		l[0] = (struct gqd_prom_label){ "api", api_name(i) };
		gqd_prom_histogram(p, "gqd_kafka_request_duration_seconds", l,
				   1, gqd_metrics_duration_bounds, s[i].buckets,
				   N_BOUNDS, (double)s[i].sum_ns / NS_PER_SEC);
	}
}

static void
counter(struct gqd_prom *p, const char *name, const char *help, uint64_t v)
{
	gqd_prom_family(p, name, "counter", help);
	gqd_prom_sample_u64(p, name, NULL, 0, v);
}

void
gqd_metrics_render(const struct gqd_metrics *m, struct gqd_prom *p)
{
	struct api_snap *s = calloc(API_SLOTS, sizeof(*s));

	if (s == NULL) {
		p->failed = true;
		return;
	}
	snapshot(m, s);
	render_requests(s, p);
	free(s);
	counter(p, "gqd_kafka_bytes_received_total",
		"Bytes read from Kafka client connections.",
		load(&m->bytes_in));
	counter(p, "gqd_kafka_bytes_sent_total",
		"Bytes written to Kafka client connections.",
		load(&m->bytes_out));
	counter(p, "gqd_kafka_produced_messages_total",
		"Records stored through Produce.", load(&m->produced_messages));
	counter(p, "gqd_kafka_produced_bytes_total",
		"Bytes of record batches stored through Produce.",
		load(&m->produced_bytes));
	counter(p, "gqd_kafka_fetched_bytes_total",
		"Bytes of record batches sent in Fetch responses.",
		load(&m->fetched_bytes));
	gqd_prom_family(p, "gqd_connections", "gauge",
			"Kafka client connections open now.");
	gqd_prom_sample_u64(p, "gqd_connections", NULL, 0,
			    load(&m->conns_open));
	counter(p, "gqd_connections_accepted_total",
		"Kafka client connections accepted.", load(&m->conns_accepted));
	counter(p, "gqd_connections_rejected_total",
		"Kafka client connections refused at max_connections.",
		load(&m->conns_rejected));
}
