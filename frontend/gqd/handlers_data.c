/* SPDX-License-Identifier: MIT */
/*
 * handlers_data.c - the data-path Kafka APIs: Produce (batches stored as
 * sent through gq_produce_records_async(), acknowledgements back through
 * the server mailbox), Fetch (gq_fetch() with the long poll of
 * gq_fetch_wait_async()), ListOffsets and InitProducerId.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "handlers.h"
#include "log.h"
#include "metrics.h"
#include "server.h"

/* ---- Produce ---------------------------------------------------------- */

struct produce_state {
	struct gqk_produce_resp resp;
	struct gqk_produce_resp_topic *topics;
	int32_t waiting; /* partitions not acknowledged yet */
	bool any_error;
};

struct produce_ack {
	struct gqd_req *req;
	struct gqk_produce_resp_partition *part;
	char topic[GQ_NAME_MAX + 1];
	int status;
	gq_offset base;
	uint64_t records; /* for the metrics, once stored */
	uint64_t bytes;
};

/* Test hook: GQD_TEST_DROP_PRODUCE_RESPONSES=N loses every Nth produce
 * response after the data is stored (the connection closes instead), as a
 * network failure would, so tests can check that idempotent producers
 * retry without duplicates.  Never set in production. */
static bool
drop_this_response(void)
{
	static long every = -1;
	static long count;
	const char *v;

	if (every < 0) {
		v = getenv("GQD_TEST_DROP_PRODUCE_RESPONSES");
		every = v != NULL ? atol(v) : 0;
		if (every > 0)
			gqd_log(GQ_LOG_WARN, "test hook active",
				"drop_produce_responses_every=%ld", every);
	}
	return every > 0 && ++count % every == 0;
}

static void
produce_respond(struct gqd_req *req)
{
	struct produce_state *st = req->state;

	for (int32_t i = 0; i < st->resp.n_topics; i++)
		for (int32_t j = 0; j < st->topics[i].n_partitions; j++)
			gqd_req_error(req,
				      st->topics[i].partitions[j].error_code);
	if (!req->silent && drop_this_response()) {
		req->silent = true;
		req->close_after = true;
		gqd_req_finish(req);
		return;
	}
	if (req->silent) {
		/* acks=0: no response; a failure closes the connection, the
		 * only signal such a producer gets (as Kafka does). */
		req->close_after = st->any_error;
		gqd_req_finish(req);
		return;
	}
	gqd_resp_begin(req);
	gqk_produce_resp_encode(&req->resp, req->hdr.api_version, &st->resp);
	gqd_req_finish(req);
}

static void
produce_settle(struct gqd_req *req, struct gqk_produce_resp_partition *p,
	       const char *topic, int rv, gq_offset base)
{
	struct produce_state *st = req->state;

	p->error_code = gqd_kafka_err(rv);
	p->base_offset = rv == 0 ? base : -1;
	p->log_append_time_ms = -1;
	p->log_start_offset = -1;
	if (rv == 0) {
		gq_offset ls;

		if (gq_list_offsets(gqd_req_node(req), topic, p->index,
				    GQ_OFFSET_EARLIEST, &ls) == 0)
			p->log_start_offset = ls;
	} else {
		st->any_error = true;
	}
}

/* On gqd's loop: one partition's outcome. */
static void
produce_ack_main(void *arg)
{
	struct produce_ack *a = arg;
	struct gqd_req *req = a->req;
	struct produce_state *st = req->state;

	produce_settle(req, a->part, a->topic, a->status, a->base);
	if (a->status == 0)
		gqd_metrics_produced(gqd_req_metrics(req), a->records,
				     a->bytes);
	free(a);
	if (--st->waiting == 0)
		produce_respond(req);
	gqd_req_op_done(req);
}

/* On the node's loop thread: forward to gqd's loop. */
static void
produce_ack(void *arg, int status, int32_t partition, gq_offset base)
{
	struct produce_ack *a = arg;

	(void)partition;
	a->status = status;
	a->base = base;
	if (gqd_server_post(gqd_req_server(a->req), produce_ack_main, a) != 0)
		gqd_log(GQ_LOG_ERROR, "mailbox full: produce ack lost", "%s",
			"");
}

/* Kafka clients write to and read from the leader Metadata named; another
 * node answers NOT_LEADER_OR_FOLLOWER so the client refreshes its metadata
 * (the library would forward a write, hiding stale metadata).  True when
 * the partition is led here, or unknown (the read then reports why). */
static bool
led_here(struct gqd_req *req, const char *topic, int32_t partition)
{
	int32_t leader = -1;

	return gq_partition_leader(gqd_req_node(req), topic, partition, &leader,
				   NULL) != 0 ||
	       leader == gqd_req_config(req)->broker_id;
}

/* Checks Kafka makes on a partition's records before appending.  Produce
 * v0-v2 is advertised only so that librdkafka compresses (KAFKA-PROTOCOL.md
 * 1.3); their message formats (magic 0/1) are answered with
 * UNSUPPORTED_FOR_MESSAGE_FORMAT per partition. */
static int16_t
check_records(struct gqd_req *req, struct gqk_bytes rec)
{
	const uint8_t *b = rec.p;
	uint16_t attrs;

	/* The magic byte sits at offset 16 in every message format. */
	if (rec.len < 17)
		return GQK_ERR_CORRUPT_MESSAGE;
	if (b[16] != 2)
		return GQK_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
	if (rec.len < 61)
		return GQK_ERR_CORRUPT_MESSAGE;
	attrs = (uint16_t)(b[21] << 8 | b[22]);
	if ((attrs & 0x07) == 4 && req->hdr.api_version < 7)
		return GQK_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	if (attrs & 0x30) /* transactional or control: no transactions */
		return GQK_ERR_INVALID_RECORD;
	return GQK_ERR_NONE;
}

/* The records in @rec, a sequence of RecordBatch v2 (already checked
 * by check_records() and, fully, by the library): each batch's count
 * sits at byte 57, its length at byte 8. */
static uint64_t
count_records(struct gqk_bytes rec)
{
	const uint8_t *b = rec.p;
	size_t pos = 0, len = (size_t)rec.len;
	uint64_t n = 0;

	while (len - pos >= 61) {
		const uint8_t *h = b + pos;
		uint32_t blen = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 |
				(uint32_t)h[10] << 8 | h[11];

		n += (uint32_t)h[57] << 24 | (uint32_t)h[58] << 16 |
		     (uint32_t)h[59] << 8 | h[60];
		if (blen > len - pos - 12)
			break;
		pos += 12 + (size_t)blen;
	}
	return n;
}

static void
produce_cleanup(struct gqd_req *req)
{
	free(req->state);
	req->state = NULL;
}

void
gqd_handle_produce(struct gqd_req *req)
{
	const struct gqk_produce_req *pr = &req->body.produce;
	struct produce_state *st;
	bool acks_ok = pr->acks == -1 || pr->acks == 0 || pr->acks == 1;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		gqd_fail_close(req);
		return;
	}
	req->state = st;
	req->cleanup = produce_cleanup;
	req->silent = pr->acks == 0;
	st->topics = gqd_arena(req, (size_t)pr->n_topics, sizeof(*st->topics));
	if (pr->n_topics > 0 && st->topics == NULL) {
		gqd_fail_close(req);
		return;
	}
	st->resp.n_topics = pr->n_topics;
	st->resp.topics = st->topics;
	st->waiting = 1; /* held until every partition is submitted */
	for (int32_t i = 0; i < pr->n_topics; i++) {
		const struct gqk_produce_req_topic *t = &pr->topics[i];
		struct gqk_produce_resp_partition *parts;
		char name[GQ_NAME_MAX + 1];
		bool named = gqd_name_of(t->name, name);

		parts = gqd_arena(req, (size_t)t->n_partitions, sizeof(*parts));
		if (t->n_partitions > 0 && parts == NULL) {
			gqd_fail_close(req);
			return;
		}
		st->topics[i].name = t->name;
		st->topics[i].n_partitions = t->n_partitions;
		st->topics[i].partitions = parts;
		for (int32_t j = 0; j < t->n_partitions; j++) {
			const struct gqk_produce_req_partition *p =
				&t->partitions[j];
			struct produce_ack *a;
			int16_t err = GQK_ERR_NONE;
			int rv;

			parts[j].index = p->index;
			parts[j].base_offset = -1;
			parts[j].log_append_time_ms = -1;
			parts[j].log_start_offset = -1;
			if (!acks_ok)
				err = GQK_ERR_INVALID_REQUIRED_ACKS;
			else if (!gqk_str_is_null(pr->transactional_id))
				err = GQK_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
			else if (!named)
				err = GQK_ERR_INVALID_TOPIC_EXCEPTION;
			else if (!led_here(req, name, p->index))
				err = GQK_ERR_NOT_LEADER_OR_FOLLOWER;
			else
				err = check_records(req, p->records);
			if (err != GQK_ERR_NONE) {
				parts[j].error_code = err;
				st->any_error = true;
				continue;
			}
			if ((a = calloc(1, sizeof(*a))) == NULL) {
				parts[j].error_code = GQK_ERR_REQUEST_TIMED_OUT;
				st->any_error = true;
				continue;
			}
			a->req = req;
			a->part = &parts[j];
			a->records = count_records(p->records);
			a->bytes = (uint64_t)p->records.len;
			snprintf(a->topic, sizeof(a->topic), "%s", name);
			rv = gq_produce_records_async(
				gqd_req_node(req), name, p->index, p->records.p,
				(size_t)p->records.len, produce_ack, a);
			if (rv != 0) {
				free(a);
				produce_settle(req, &parts[j], name, rv, -1);
				continue;
			}
			st->waiting++;
			gqd_req_op_start(req);
		}
	}
	if (--st->waiting == 0)
		produce_respond(req);
}

/* ---- Fetch ------------------------------------------------------------ */

/* A partition answered without records: only where its log ends. */
static void
end_only(struct gqd_req *req, const char *topic,
	 struct gqk_fetch_resp_partition *o)
{
	gq_offset hw;

	if (gq_list_offsets(gqd_req_node(req), topic, o->partition_index,
			    GQ_OFFSET_LATEST, &hw) == 0)
		o->high_watermark = o->last_stable_offset = hw;
}

/* KIP-392: a live replica of @topic/@partition on the consumer's @rack,
 * other than this broker, to send the consumer to; or -1 (this broker is
 * on that rack, or none is). */
static int32_t
replica_in_rack(struct gqd_req *req, const char *topic, int32_t partition,
		struct gqk_str rack)
{
	const struct gqd_config *cfg = gqd_req_config(req);
	struct gq_topic_info *info = NULL;
	struct gq_partition_info pi;
	struct gq_broker_info *reg = NULL;
	size_t n_reg = 0;
	int32_t pick = -1;

	if ((size_t)rack.len == strlen(cfg->rack) &&
	    memcmp(rack.p, cfg->rack, (size_t)rack.len) == 0)
		return -1;
	if (gq_topic_describe(gqd_req_node(req), topic, &info) != 0 ||
	    gq_topic_info_partition(info, partition, &pi) != 0 ||
	    gq_cluster_brokers(gqd_req_node(req), &reg, &n_reg) != 0)
		goto out;
	for (uint32_t j = 0; j < pi.replica_count && pick < 0; j++) {
		if (pi.replicas[j] == cfg->broker_id ||
		    (pi.live_mask & 1u << j) == 0)
			continue;
		for (size_t i = 0; i < n_reg; i++)
			if (reg[i].id == pi.replicas[j] && reg[i].alive &&
			    (size_t)rack.len == strlen(reg[i].rack) &&
			    memcmp(rack.p, reg[i].rack, (size_t)rack.len) == 0)
				pick = reg[i].id;
	}
out:
	gq_cluster_brokers_free(reg);
	gq_topic_info_destroy(info);
	return pick;
}

struct fetch_state {
	struct gq_fetch **fetches; /* per partition, NULL if none */
	size_t n_fetches;
	bool answered;
};

struct fetch_wake {
	struct gqd_req *req;
	int status;
};

static void
fetch_release(struct fetch_state *st)
{
	for (size_t i = 0; i < st->n_fetches; i++) {
		gq_fetch_destroy(st->fetches[i]);
		st->fetches[i] = NULL;
	}
}

static void
fetch_cleanup(struct gqd_req *req)
{
	struct fetch_state *st = req->state;

	if (st != NULL) {
		fetch_release(st);
		free(st->fetches);
		free(st);
	}
	req->state = NULL;
}

/* Read every requested partition; returns the bytes gathered, or -1
 * when out of memory.  Fills @resp. */
static int64_t
fetch_all(struct gqd_req *req, struct gqk_fetch_resp *resp)
{
	const struct gqk_fetch_req *fr = &req->body.fetch;
	struct fetch_state *st = req->state;
	struct gqk_fetch_resp_topic *topics;
	int64_t budget = fr->max_bytes > 0 ? fr->max_bytes : INT32_MAX;
	bool follower_read = gqd_req_config(req)->follower_read;
	int64_t total = 0;
	size_t k = 0;

	topics = gqd_arena(req, (size_t)fr->n_topics, sizeof(*topics));
	if (fr->n_topics > 0 && topics == NULL)
		return -1;
	resp->n_topics = fr->n_topics;
	resp->topics = topics;
	for (int32_t i = 0; i < fr->n_topics; i++) {
		const struct gqk_fetch_req_topic *t = &fr->topics[i];
		struct gqk_fetch_resp_partition *parts;
		char name[GQ_NAME_MAX + 1];
		bool named = gqd_name_of(t->topic, name);

		parts = gqd_arena(req, (size_t)t->n_partitions, sizeof(*parts));
		if (t->n_partitions > 0 && parts == NULL)
			return -1;
		topics[i].topic = t->topic;
		topics[i].n_partitions = t->n_partitions;
		topics[i].partitions = parts;
		for (int32_t j = 0; j < t->n_partitions; j++, k++) {
			const struct gqk_fetch_req_partition *p =
				&t->partitions[j];
			struct gqk_fetch_resp_partition *o = &parts[j];
			struct gq_fetch *f = NULL;
			bool leads;
			size_t max;
			int rv;

			o->partition_index = p->partition;
			o->high_watermark = -1;
			o->last_stable_offset = -1;
			o->log_start_offset = -1;
			o->preferred_read_replica = -1;
			o->n_aborted = 0;
			o->records =
				(struct gqk_bytes){ (const uint8_t *)"", 0 };
			if (!named) {
				o->error_code =
					GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			leads = led_here(req, name, p->partition);
			if (!leads && !follower_read) {
				o->error_code = GQK_ERR_NOT_LEADER_OR_FOLLOWER;
				continue;
			}
			/* A consumer that names its rack reads from a replica
			 * there: sent on with no records, as Kafka does. */
			if (leads && follower_read && fr->rack_id.len > 0 &&
			    (o->preferred_read_replica =
				     replica_in_rack(req, name, p->partition,
						     fr->rack_id)) > 0) {
				end_only(req, name, o);
				continue;
			}
			/* KIP-74: the first batch comes whole even when it
			 * is larger than the limits; later ones must fit. */
			max = (size_t)(p->partition_max_bytes > 0
					       ? p->partition_max_bytes
					       : 1);
			if (total > 0 && (int64_t)max > budget - total)
				max = budget - total > 0
					      ? (size_t)(budget - total)
					      : 0;
			if (max == 0) {
				end_only(req, name, o);
				continue;
			}
			rv = gq_fetch(gqd_req_node(req), name, p->partition,
				      p->fetch_offset, max, &f);
			if (!leads && rv == GQ_EOFFSET &&
			    gq_list_offsets(gqd_req_node(req), name,
					    p->partition, GQ_OFFSET_LATEST,
					    &o->high_watermark) == 0 &&
			    p->fetch_offset > o->high_watermark) {
				/* A follower behind what the consumer read
				 * at the leader: nothing yet, no error. */
				o->last_stable_offset = o->high_watermark;
				continue;
			}
			if (rv != 0) {
				o->error_code = gqd_kafka_err(rv);
				o->high_watermark = -1;
				continue;
			}
			if (!leads && gqd_log_enabled(GQ_LOG_DEBUG))
				gqd_log(GQ_LOG_DEBUG,
					"fetch served by a follower",
					"topic=%s partition=%d offset=%lld",
					name, p->partition,
					(long long)p->fetch_offset);
			st->fetches[k] = f;
			o->high_watermark = gq_fetch_high_watermark(f);
			o->last_stable_offset = o->high_watermark;
			o->log_start_offset = gq_fetch_log_start(f);
			{
				const void *data;
				size_t len;

				gq_fetch_records(f, &data, &len);
				if (len > 0)
					o->records = (struct gqk_bytes){
						data, (int32_t)len
					};
				total += (int64_t)len;
			}
		}
	}
	return total;
}

/* Encode @resp, counting its partitions' errors and the record bytes it
 * carries. */
static void
fetch_encode(struct gqd_req *req, const struct gqk_fetch_resp *resp)
{
	uint64_t bytes = 0;

	for (int32_t i = 0; i < resp->n_topics; i++) {
		const struct gqk_fetch_resp_topic *t = &resp->topics[i];

		for (int32_t j = 0; j < t->n_partitions; j++) {
			gqd_req_error(req, t->partitions[j].error_code);
			bytes += (uint64_t)t->partitions[j].records.len;
		}
	}
	gqd_metrics_fetched(gqd_req_metrics(req), bytes);
	gqd_resp_begin(req);
	gqk_fetch_resp_encode(&req->resp, req->hdr.api_version, resp);
}

static void
fetch_respond(struct gqd_req *req)
{
	struct fetch_state *st = req->state;
	struct gqk_fetch_resp resp = { 0 };
	int64_t total;

	st->answered = true;
	fetch_release(st);
	if ((total = fetch_all(req, &resp)) < 0) {
		gqd_fail_close(req);
		return;
	}
	fetch_encode(req, &resp);
	fetch_release(st); /* the response holds a copy of the bytes */
	gqd_req_finish(req);
}

static void
fetch_wake_main(void *arg)
{
	struct fetch_wake *w = arg;
	struct gqd_req *req = w->req;
	struct fetch_state *st = req->state;

	free(w);
	/* The first wake-up (data or the deadline) answers; the others only
	 * release the request. */
	if (!st->answered && req->conn != NULL)
		fetch_respond(req);
	gqd_req_op_done(req);
}

static void
fetch_wake(void *arg, int status)
{
	struct fetch_wake *w = arg;

	w->status = status;
	if (gqd_server_post(gqd_req_server(w->req), fetch_wake_main, w) != 0)
		gqd_log(GQ_LOG_ERROR, "mailbox full: fetch wake-up lost", "%s",
			"");
}

void
gqd_handle_fetch(struct gqd_req *req)
{
	const struct gqk_fetch_req *fr = &req->body.fetch;
	struct gqk_fetch_resp resp = { 0 };
	struct fetch_state *st;
	size_t n = 0;
	int64_t total;
	int waits = 0;

	for (int32_t i = 0; i < fr->n_topics; i++)
		n += (size_t)fr->topics[i].n_partitions;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->fetches = calloc(n ? n : 1, sizeof(*st->fetches))) == NULL) {
		free(st);
		gqd_fail_close(req);
		return;
	}
	st->n_fetches = n;
	req->state = st;
	req->cleanup = fetch_cleanup;
	if ((total = fetch_all(req, &resp)) < 0) {
		gqd_fail_close(req);
		return;
	}
	if (total >= (fr->min_bytes > 0 ? fr->min_bytes : 1) ||
	    fr->max_wait_ms <= 0) {
		st->answered = true;
		fetch_encode(req, &resp);
		fetch_release(st);
		gqd_req_finish(req);
		return;
	}
	/* Long poll: wait on every readable partition at its offset. */
	fetch_release(st);
	for (int32_t i = 0; i < fr->n_topics; i++) {
		const struct gqk_fetch_req_topic *t = &fr->topics[i];
		char name[GQ_NAME_MAX + 1];

		if (!gqd_name_of(t->topic, name))
			continue;
		for (int32_t j = 0; j < t->n_partitions; j++) {
			struct fetch_wake *w = calloc(1, sizeof(*w));

			if (w == NULL)
				continue;
			w->req = req;
			if (gq_fetch_wait_async(
				    gqd_req_node(req), name,
				    t->partitions[j].partition,
				    t->partitions[j].fetch_offset < 0
					    ? 0
					    : t->partitions[j].fetch_offset,
				    (uint32_t)fr->max_wait_ms, fetch_wake,
				    w) != 0) {
				free(w);
				continue;
			}
			gqd_req_op_start(req);
			waits++;
		}
	}
	if (waits == 0)
		fetch_respond(req);
}

/* ---- ListOffsets ------------------------------------------------------ */

void
gqd_handle_list_offsets(struct gqd_req *req)
{
	const struct gqk_list_offsets_req *lr = &req->body.list_offsets;
	struct gqk_list_offsets_resp resp = { 0 };
	struct gqk_list_offsets_resp_topic *topics;

	topics = gqd_arena(req, (size_t)lr->n_topics, sizeof(*topics));
	if (lr->n_topics > 0 && topics == NULL) {
		gqd_fail_close(req);
		return;
	}
	for (int32_t i = 0; i < lr->n_topics; i++) {
		const struct gqk_list_offsets_req_topic *t = &lr->topics[i];
		struct gqk_list_offsets_resp_partition *parts;
		char name[GQ_NAME_MAX + 1];
		bool named = gqd_name_of(t->name, name);

		parts = gqd_arena(req, (size_t)t->n_partitions, sizeof(*parts));
		if (t->n_partitions > 0 && parts == NULL) {
			gqd_fail_close(req);
			return;
		}
		topics[i].name = t->name;
		topics[i].n_partitions = t->n_partitions;
		topics[i].partitions = parts;
		for (int32_t j = 0; j < t->n_partitions; j++) {
			const struct gqk_list_offsets_req_partition *p =
				&t->partitions[j];
			struct gqk_list_offsets_resp_partition *o = &parts[j];
			gq_offset off = -1, hw = -1;
			int64_t *old;
			int rv;

			o->partition_index = p->partition_index;
			o->timestamp = -1;
			o->offset = -1;
			if (!named) {
				o->error_code =
					GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			if (!led_here(req, name, p->partition_index)) {
				o->error_code = GQK_ERR_NOT_LEADER_OR_FOLLOWER;
				continue;
			}
			rv = gq_list_offsets(
				gqd_req_node(req), name, p->partition_index,
				p->timestamp < 0 ? p->timestamp : p->timestamp,
				&off);
			if (rv == 0 && p->timestamp >= 0 &&
			    gq_list_offsets(gqd_req_node(req), name,
					    p->partition_index,
					    GQ_OFFSET_LATEST, &hw) == 0 &&
			    off >= hw)
				off = -1; /* no message at or after it */
			o->error_code = gqd_kafka_err(rv);
			o->offset = rv == 0 ? off : -1;
			if (req->hdr.api_version == 0 && rv == 0 && off >= 0 &&
			    (old = gqd_arena(req, 1, sizeof(*old))) != NULL) {
				*old = off;
				o->n_old_style_offsets = 1;
				o->old_style_offsets = old;
			}
		}
	}
	resp.n_topics = lr->n_topics;
	resp.topics = topics;
	for (int32_t i = 0; i < lr->n_topics; i++)
		for (int32_t j = 0; j < topics[i].n_partitions; j++)
			gqd_req_error(req, topics[i].partitions[j].error_code);
	gqd_resp_begin(req);
	gqk_list_offsets_resp_encode(&req->resp, req->hdr.api_version, &resp);
	gqd_req_finish(req);
}

/* ---- InitProducerId --------------------------------------------------- */

static void
pid_done(struct gqd_async *a)
{
	struct gqd_req *req = a->req;
	struct gqk_init_producer_id_resp resp = { 0 };

	resp.error_code = gqd_kafka_err(a->status);
	resp.producer_id = a->status == 0 ? a->id : -1;
	resp.producer_epoch = a->status == 0 ? a->epoch : -1;
	gqd_req_error(req, resp.error_code);
	gqd_resp_begin(req);
	gqk_init_producer_id_resp_encode(&req->resp, req->hdr.api_version,
					 &resp);
	gqd_req_finish(req);
}

void
gqd_handle_init_producer_id(struct gqd_req *req)
{
	struct gqd_async *a;
	int rv;

	if (!gqk_str_is_null(req->body.init_producer_id.transactional_id)) {
		struct gqk_init_producer_id_resp resp = {
			.error_code =
				GQK_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
			.producer_id = -1,
			.producer_epoch = -1,
		};

		/* Idempotence only: transactions are not implemented. */
		gqd_req_error(req, resp.error_code);
		gqd_resp_begin(req);
		gqk_init_producer_id_resp_encode(&req->resp,
						 req->hdr.api_version, &resp);
		gqd_req_finish(req);
		return;
	}
	if ((a = gqd_async_new(req, pid_done, NULL, 0)) == NULL) {
		gqd_fail_close(req);
		return;
	}
	rv = gq_producer_id_async(gqd_req_node(req), gqd_async_producer_id, a);
	gqd_async_started(a, rv);
	if (rv != 0)
		gqd_fail_close(req);
}
