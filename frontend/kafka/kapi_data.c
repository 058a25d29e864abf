/* SPDX-License-Identifier: MIT */
/*
 * kapi_data.c - the data path APIs of the Kafka codec: Metadata,
 * Produce, Fetch, ListOffsets and InitProducerId (contracts in kapi.h).
 *
 * Each body is one walker, run by the decoders and the encoders of both
 * directions (kapi_internal.h): field order from the Kafka 3.4.0 message
 * JSON of each version (KAFKA-PROTOCOL.md Appendix A/B), the smallest
 * wire size of each array element noted at its kio_array() call, and for
 * fields a version lacks, the default decoding gives them. The few places
 * where a server writes something other than what it was given (Fetch
 * records never null, ListOffsets v0 offsets derived) are marked.
 */
#include "kapi.h"

#include "kapi_internal.h"

/*
 * Metadata
 */

static void
metadata_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_metadata_req *m = msg;
	struct gqk_str *t;

	/* Null (all topics) only from v1; v0 says "all" with no topics. */
	t = kio_string_array(io, v >= 1, &m->n_topics, m->topics);
	KIO_KEEP(io, m->topics, t);
	/* Kafka auto-creates for v0-v3. */
	kio_bool_if(io, v >= 4, &m->allow_auto_topic_creation, true);
	if (kio_decoding(io))
		m->all_topics = m->n_topics < 0 || (v == 0 && m->n_topics == 0);
}

static void
metadata_partition(struct kio *io, struct gqk_metadata_partition *p)
{
	int32_t *ids;

	kio_i16(io, &p->error_code);
	kio_i32(io, &p->partition_index);
	kio_i32(io, &p->leader_id);
	ids = kio_i32_array(io, &p->n_replicas, p->replicas);
	KIO_KEEP(io, p->replicas, ids);
	ids = kio_i32_array(io, &p->n_isr, p->isr);
	KIO_KEEP(io, p->isr, ids);
}

static void
metadata_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_metadata_resp *m = msg;
	struct gqk_metadata_broker *b;
	struct gqk_metadata_topic *t;
	struct gqk_metadata_partition *p;
	int32_t i, j;

	if (v >= 3)
		kio_i32(io, &m->throttle_time_ms);
	/* Broker: node id (4), host (2), port (4). */
	b = kio_array(io, false, sizeof(*b), 10, &m->n_brokers, m->brokers);
	KIO_KEEP(io, m->brokers, b);
	for (i = 0; i < m->n_brokers && kio_ok(io); i++) {
		kio_i32(io, &b[i].node_id);
		kio_string(io, &b[i].host);
		kio_i32(io, &b[i].port);
		kio_nullable_string_if(io, v >= 1, &b[i].rack);
	}
	kio_nullable_string_if(io, v >= 2, &m->cluster_id);
	kio_i32_if(io, v >= 1, &m->controller_id, -1);
	/* Topic: error (2), name (2), partition count (4). */
	t = kio_array(io, false, sizeof(*t), 8, &m->n_topics, m->topics);
	KIO_KEEP(io, m->topics, t);
	for (i = 0; i < m->n_topics && kio_ok(io); i++) {
		kio_i16(io, &t[i].error_code);
		kio_string(io, &t[i].name);
		if (v >= 1)
			kio_bool(io, &t[i].is_internal);
		/* Partition: error, index, leader, two counts (18). */
		p = kio_array(io, false, sizeof(*p), 18, &t[i].n_partitions,
			      t[i].partitions);
		KIO_KEEP(io, t[i].partitions, p);
		for (j = 0; j < t[i].n_partitions && kio_ok(io); j++)
			metadata_partition(io, &p[j]);
	}
}

KIO_ENTRY_POINTS(metadata, GQK_METADATA)

/*
 * Produce
 */

static void
produce_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_produce_req *m = msg;
	struct gqk_produce_req_topic *t;
	struct gqk_produce_req_partition *p;
	int32_t i, j;

	kio_nullable_string_if(io, v >= 3, &m->transactional_id);
	kio_i16(io, &m->acks);
	kio_i32(io, &m->timeout_ms);
	/* Topic: name (2) + partition count (4). */
	t = kio_array(io, false, sizeof(*t), 6, &m->n_topics, m->topics);
	KIO_KEEP(io, m->topics, t);
	for (i = 0; i < m->n_topics && kio_ok(io); i++) {
		kio_string(io, &t[i].name);
		/* Partition: index (4) + records length (4). */
		p = kio_array(io, false, sizeof(*p), 8, &t[i].n_partitions,
			      t[i].partitions);
		KIO_KEEP(io, t[i].partitions, p);
		for (j = 0; j < t[i].n_partitions && kio_ok(io); j++) {
			kio_i32(io, &p[j].index);
			kio_nullable_bytes(io, &p[j].records);
		}
	}
}

static void
produce_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_produce_resp *m = msg;
	struct gqk_produce_resp_topic *t;
	struct gqk_produce_resp_partition *p;
	int32_t i, j;

	/* Topic: name (2) + partition count (4). */
	t = kio_array(io, false, sizeof(*t), 6, &m->n_topics, m->topics);
	KIO_KEEP(io, m->topics, t);
	for (i = 0; i < m->n_topics && kio_ok(io); i++) {
		kio_string(io, &t[i].name);
		/* Partition: index (4), error (2), base offset (8). */
		p = kio_array(io, false, sizeof(*p), 14, &t[i].n_partitions,
			      t[i].partitions);
		KIO_KEEP(io, t[i].partitions, p);
		for (j = 0; j < t[i].n_partitions && kio_ok(io); j++) {
			kio_i32(io, &p[j].index);
			kio_i16(io, &p[j].error_code);
			kio_i64(io, &p[j].base_offset);
			kio_i64_if(io, v >= 2, &p[j].log_append_time_ms, -1);
			kio_i64_if(io, v >= 5, &p[j].log_start_offset, -1);
		}
	}
	/* Produce is the one API with ThrottleTimeMs at the end. */
	if (v >= 1)
		kio_i32(io, &m->throttle_time_ms);
}

KIO_ENTRY_POINTS(produce, GQK_PRODUCE)

/*
 * Fetch
 */

static void
fetch_req_topic(struct kio *io, int16_t v, struct gqk_fetch_req_topic *t)
{
	struct gqk_fetch_req_partition *p;
	int32_t j;

	kio_string(io, &t->topic);
	/* Partition: at least partition, offset, max bytes (16). */
	p = kio_array(io, false, sizeof(*p), 16, &t->n_partitions,
		      t->partitions);
	KIO_KEEP(io, t->partitions, p);
	for (j = 0; j < t->n_partitions && kio_ok(io); j++) {
		kio_i32(io, &p[j].partition);
		kio_i32_if(io, v >= 9, &p[j].current_leader_epoch, -1);
		kio_i64(io, &p[j].fetch_offset);
		kio_i64_if(io, v >= 5, &p[j].log_start_offset, -1);
		kio_i32(io, &p[j].partition_max_bytes);
	}
}

static void
fetch_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_fetch_req *m = msg;
	struct gqk_fetch_req_topic *t;
	struct gqk_fetch_req_forgotten *f;
	int32_t i, *ids;

	kio_i32(io, &m->replica_id);
	kio_i32(io, &m->max_wait_ms);
	kio_i32(io, &m->min_bytes);
	kio_i32(io, &m->max_bytes);
	kio_i8(io, &m->isolation_level);
	if (v >= 7)
		kio_i32(io, &m->session_id);
	kio_i32_if(io, v >= 7, &m->session_epoch, -1);
	/* Topic: name (2) + partition count (4). */
	t = kio_array(io, false, sizeof(*t), 6, &m->n_topics, m->topics);
	KIO_KEEP(io, m->topics, t);
	for (i = 0; i < m->n_topics && kio_ok(io); i++)
		fetch_req_topic(io, v, &t[i]);
	if (v >= 7) {
		/* Forgotten topic: name (2) + partition count (4). */
		f = kio_array(io, false, sizeof(*f), 6, &m->n_forgotten,
			      m->forgotten);
		KIO_KEEP(io, m->forgotten, f);
		for (i = 0; i < m->n_forgotten && kio_ok(io); i++) {
			kio_string(io, &f[i].topic);
			ids = kio_i32_array(io, &f[i].n_partitions,
					    f[i].partitions);
			KIO_KEEP(io, f[i].partitions, ids);
		}
	}
	if (v >= 11)
		kio_string(io, &m->rack_id);
	else if (kio_decoding(io))
		m->rack_id = GQK_STR("");
}

/*
 * Records: nullable on the wire, and decoded as such (a broker may send
 * null), but never written as null: librdkafka 2.0.2 fails the whole
 * response on a -1 MessageSetSize.
 */
static void
fetch_records(struct kio *io, struct gqk_bytes *b)
{
	struct gqk_bytes records;

	if (kio_decoding(io)) {
		kio_nullable_bytes(io, b);
		return;
	}
	records = *b;
	if (records.p == NULL)
		records.len = 0;
	gqk_put_bytes(io->w, records);
}

static void
fetch_resp_partition(struct kio *io, int16_t v,
		     struct gqk_fetch_resp_partition *p)
{
	struct gqk_fetch_aborted *ab;
	int32_t k;

	kio_i32(io, &p->partition_index);
	kio_i16(io, &p->error_code);
	kio_i64(io, &p->high_watermark);
	kio_i64(io, &p->last_stable_offset);
	kio_i64_if(io, v >= 5, &p->log_start_offset, -1);
	/* Aborted transaction: producer id (8) + first offset (8). */
	ab = kio_array(io, true, sizeof(*ab), 16, &p->n_aborted, p->aborted);
	KIO_KEEP(io, p->aborted, ab);
	for (k = 0; k < p->n_aborted && kio_ok(io); k++) {
		kio_i64(io, &ab[k].producer_id);
		kio_i64(io, &ab[k].first_offset);
	}
	kio_i32_if(io, v >= 11, &p->preferred_read_replica, -1);
	fetch_records(io, &p->records);
}

static void
fetch_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_fetch_resp *m = msg;
	struct gqk_fetch_resp_topic *t;
	struct gqk_fetch_resp_partition *p;
	int32_t i, j;

	kio_i32(io, &m->throttle_time_ms);
	if (v >= 7) {
		kio_i16(io, &m->error_code);
		kio_i32(io, &m->session_id);
	}
	/* Topic: name (2) + partition count (4). */
	t = kio_array(io, false, sizeof(*t), 6, &m->n_topics, m->topics);
	KIO_KEEP(io, m->topics, t);
	for (i = 0; i < m->n_topics && kio_ok(io); i++) {
		kio_string(io, &t[i].topic);
		/* Partition: index 4, error 2, two offsets 16, aborted count
		 * 4, records length 4. */
		p = kio_array(io, false, sizeof(*p), 30, &t[i].n_partitions,
			      t[i].partitions);
		KIO_KEEP(io, t[i].partitions, p);
		for (j = 0; j < t[i].n_partitions && kio_ok(io); j++)
			fetch_resp_partition(io, v, &p[j]);
	}
}

KIO_ENTRY_POINTS(fetch, GQK_FETCH)

/*
 * ListOffsets
 */

static void
list_offsets_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_list_offsets_req *m = msg;
	struct gqk_list_offsets_req_topic *t;
	struct gqk_list_offsets_req_partition *p;
	int32_t i, j;

	kio_i32(io, &m->replica_id);
	if (v >= 2)
		kio_i8(io, &m->isolation_level);
	/* Topic: name (2) + partition count (4). */
	t = kio_array(io, false, sizeof(*t), 6, &m->n_topics, m->topics);
	KIO_KEEP(io, m->topics, t);
	for (i = 0; i < m->n_topics && kio_ok(io); i++) {
		kio_string(io, &t[i].name);
		/* Partition: index + timestamp (12), v0 + max offsets (16). */
		p = kio_array(io, false, sizeof(*p), v == 0 ? 16 : 12,
			      &t[i].n_partitions, t[i].partitions);
		KIO_KEEP(io, t[i].partitions, p);
		for (j = 0; j < t[i].n_partitions && kio_ok(io); j++) {
			kio_i32(io, &p[j].partition_index);
			kio_i64(io, &p[j].timestamp);
			kio_i32_if(io, v == 0, &p[j].max_num_offsets, 1);
		}
	}
}

/*
 * The v0 OldStyleOffsets of one partition. A server that gives none
 * writes [Offset] when it was found and nothing otherwise; decoding keeps
 * the array and, as Kafka's client does, takes its first offset as
 * Offset (-1 if empty), with no Timestamp (-1).
 */
static void
old_style_offsets(struct kio *io, struct gqk_list_offsets_resp_partition *p)
{
	int32_t n = p->n_old_style_offsets, k;
	const int64_t *cur = p->old_style_offsets;
	int64_t *o;

	if (!kio_decoding(io) && cur == NULL) {
		n = p->error_code == GQK_ERR_NONE && p->offset >= 0 ? 1 : 0;
		cur = &p->offset;
	}
	/* Offset: 8 bytes. */
	o = kio_array(io, false, sizeof(*o), 8, &n, cur);
	for (k = 0; k < n && kio_ok(io); k++)
		kio_i64(io, &o[k]);
	if (kio_decoding(io)) {
		p->n_old_style_offsets = n;
		p->old_style_offsets = o;
		p->timestamp = -1;
		p->offset = n > 0 ? o[0] : -1;
	}
}

static void
list_offsets_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_list_offsets_resp *m = msg;
	struct gqk_list_offsets_resp_topic *t;
	struct gqk_list_offsets_resp_partition *p;
	int32_t i, j;

	if (v >= 2)
		kio_i32(io, &m->throttle_time_ms);
	/* Topic: name (2) + partition count (4). */
	t = kio_array(io, false, sizeof(*t), 6, &m->n_topics, m->topics);
	KIO_KEEP(io, m->topics, t);
	for (i = 0; i < m->n_topics && kio_ok(io); i++) {
		kio_string(io, &t[i].name);
		/* Partition: index 4, error 2, then an offset count 4 (v0)
		 * or timestamp and offset 16 (v1+). */
		p = kio_array(io, false, sizeof(*p), v == 0 ? 10 : 22,
			      &t[i].n_partitions, t[i].partitions);
		KIO_KEEP(io, t[i].partitions, p);
		for (j = 0; j < t[i].n_partitions && kio_ok(io); j++) {
			kio_i32(io, &p[j].partition_index);
			kio_i16(io, &p[j].error_code);
			if (v == 0) {
				old_style_offsets(io, &p[j]);
				continue;
			}
			kio_i64(io, &p[j].timestamp);
			kio_i64(io, &p[j].offset);
		}
	}
}

KIO_ENTRY_POINTS(list_offsets, GQK_LIST_OFFSETS)

/*
 * InitProducerId
 */

static void
init_producer_id_req(struct kio *io, int16_t v, void *msg)
{
	struct gqk_init_producer_id_req *m = msg;

	(void)v;
	kio_nullable_string(io, &m->transactional_id);
	kio_i32(io, &m->transaction_timeout_ms);
}

static void
init_producer_id_resp(struct kio *io, int16_t v, void *msg)
{
	struct gqk_init_producer_id_resp *m = msg;

	(void)v;
	kio_i32(io, &m->throttle_time_ms);
	kio_i16(io, &m->error_code);
	kio_i64(io, &m->producer_id);
	kio_i16(io, &m->producer_epoch);
}

KIO_ENTRY_POINTS(init_producer_id, GQK_INIT_PRODUCER_ID)

/*
 * The walkers of this file, for the dispatchers in kapi.c.
 */

const struct kio_api gqk__data_walkers[] = {
	{ GQK_PRODUCE, produce_req, produce_resp },
	{ GQK_FETCH, fetch_req, fetch_resp },
	{ GQK_LIST_OFFSETS, list_offsets_req, list_offsets_resp },
	{ GQK_METADATA, metadata_req, metadata_resp },
	{ GQK_INIT_PRODUCER_ID, init_producer_id_req, init_producer_id_resp },
};

const size_t gqk__n_data_walkers =
	sizeof(gqk__data_walkers) / sizeof(gqk__data_walkers[0]);
