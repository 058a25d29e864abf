/* SPDX-License-Identifier: MIT */
/*
 * produce.c - the public produce API and idempotent producers.  Batches
 * are encoded and compressed on the caller's thread (so the loop only
 * copies bytes into Raft entries) using the topic's configuration read
 * under the node's read lock.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "codec.h"
#include "error.h"
#include "heap.h"
#include "names.h"
#include "node.h"
#include "remote.h"

/* Retries of a producer send whose outcome is unknown or whose partition
 * is not serving yet; the node makes the resend safe. */
#define PRODUCER_RETRIES  5
#define PRODUCER_RETRY_MS 100

struct seq_slot {
	char topic[GQ_NAME_MAX + 1];
	int32_t partition;
	int32_t next_seq;
};

struct gq_producer {
	struct gq_node *node;
	int64_t id;
	int16_t epoch;
	struct seq_slot *seqs;
	size_t n_seqs;
	size_t cap_seqs;
	/* The last batch sent, kept for gq_producer_retry(). */
	struct gq__buf last;
	char last_topic[GQ_NAME_MAX + 1];
	int32_t last_partition;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Kafka's murmur2 (as the Java client's default partitioner uses), so a
 * key maps to the same partition here and from Kafka clients. */
static uint32_t
murmur2(const uint8_t *data, size_t len)
{
	const uint32_t m = 0x5bd1e995;
	uint32_t h = 0x9747b28c ^ (uint32_t)len;
	size_t i = 0;

	for (; i + 4 <= len; i += 4) {
		uint32_t k = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 |
			     (uint32_t)data[i + 2] << 16 |
			     (uint32_t)data[i + 3] << 24;

		k *= m;
		k ^= k >> 24;
		k *= m;
		h *= m;
		h ^= k;
	}
	switch (len - i) {
	case 3:
		h ^= (uint32_t)data[i + 2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32_t)data[i + 1] << 8;
		/* fall through */
	case 1:
		h ^= data[i];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return h;
}

/* What the caller thread needs to know about a topic to encode for it. */
struct encode_plan {
	int32_t partition;
	int codec;
	size_t threshold;
	uint32_t max_message_size;
};

static int
plan(struct gq_node *node, const char *topic, int32_t partition,
     const struct gq_msg *first, struct encode_plan *out, char *errmsg)
{
	struct gq__topic *t;
	int rv = 0;

	if ((rv = gq__name_check(topic, true, errmsg)) != 0)
		return rv;
	pthread_rwlock_rdlock(&node->meta_lock);
	if ((t = gq__node_topic_find(node, topic)) == NULL || t->deleting) {
		gq__errmsg_set(errmsg, "unknown topic '%s'", topic);
		rv = GQ_ENOTOPIC;
		goto out;
	}
	if (partition == GQ_PARTITION_ANY) {
		if (first != NULL && first->key != NULL)
			partition =
				(int32_t)((murmur2(first->key, first->key_len) &
					   0x7fffffff) %
					  (uint32_t)t->n_parts);
		else
			partition = (int32_t)(atomic_fetch_add(
						      &node->rr_counter, 1) %
					      (uint32_t)t->n_parts);
	}
	if (partition < 0 || partition >= t->n_parts) {
		gq__errmsg_set(errmsg, "topic '%s' has no partition %d", topic,
			       partition);
		rv = GQ_ENOPARTITION;
		goto out;
	}
	out->partition = partition;
	out->codec = t->conf.compression_enabled ? t->conf.compression_type
						 : GQ__CODEC_NONE;
	out->threshold = t->conf.compression_threshold;
	out->max_message_size = t->conf.max_message_size;
out:
	pthread_rwlock_unlock(&node->meta_lock);
	return rv;
}

/* Fill @req with one batch of @msgs encoded as @pl says. */
static int
encode(struct gq__req *req, const char *topic, const struct encode_plan *pl,
       const struct gq_msg *msgs, size_t count, int64_t pid, int16_t epoch,
       int32_t seq)
{
	int rv;

	req->type = GQ__REQ_PRODUCE;
	snprintf(req->topic, sizeof(req->topic), "%s", topic);
	req->partition = pl->partition;
	rv = gq__batch_build(msgs, count, pl->codec, pl->threshold, pid, epoch,
			     seq, now_ms(), &req->u.produce.batches);
	if (rv != 0) {
		gq__errmsg_set(req->errmsg, "cannot encode the batch: %s",
			       gq_strerror(rv));
		return rv;
	}
	req->u.produce.n_batches = 1;
	if (req->u.produce.batches.len > pl->max_message_size) {
		gq__errmsg_set(req->errmsg,
			       "batch of %zu bytes exceeds max_message_size "
			       "%u",
			       req->u.produce.batches.len,
			       pl->max_message_size);
		gq__buf_free(&req->u.produce.batches);
		return GQ_ETOOBIG;
	}
	return 0;
}

/* Check the messages, plan for the topic and encode into @req. */
static int
prepare(struct gq_node *node, struct gq__req *req, const char *topic,
	int32_t partition, const struct gq_msg *msgs, size_t count,
	bool may_block)
{
	struct encode_plan pl;
	int rv;

	if (msgs == NULL || count == 0) {
		gq__errmsg_set(req->errmsg, "no messages");
		return GQ_EINVAL;
	}
	rv = plan(node, topic, partition, msgs, &pl, req->errmsg);
	/* A remote node learns of new topics from the brokers; only a
	 * blocking call may wait for them (async ones run in callbacks). */
	if (rv == GQ_ENOTOPIC && node->remote != NULL && may_block &&
	    gq__remote_refresh(node) == 0)
		rv = plan(node, topic, partition, msgs, &pl, req->errmsg);
	if (rv != 0)
		return rv;
	/* A remote node joins the calls of a partition into one batch and
	 * compresses it there (remote_produce.c). */
	if (node->remote != NULL)
		pl.codec = GQ__CODEC_NONE;
	if ((rv = encode(req, topic, &pl, msgs, count, -1, -1, -1)) != 0)
		return rv;
	if (node->remote != NULL)
		req->u.produce.merge_records = (int32_t)count;
	return 0;
}

int
gq_produce(struct gq_node *node, const char *topic, int32_t partition,
	   const struct gq_msg *msgs, size_t count, int32_t *out_partition,
	   gq_offset *base_offset)
{
	struct gq__req req;
	int rv;

	if (node == NULL)
		return GQ_EINVAL;
	memset(&req, 0, sizeof(req));
	rv = prepare(node, &req, topic, partition, msgs, count, true);
	if (rv != 0) {
		gq__node_set_errmsg(node, req.errmsg);
		return rv;
	}
	rv = gq__node_call(node, &req);
	gq__buf_free(&req.u.produce.batches);
	if (out_partition != NULL)
		*out_partition = req.partition;
	if (base_offset != NULL)
		*base_offset = rv == 0 ? req.u.produce.base_offset : -1;
	return rv;
}

static void
async_done(struct gq__req *req)
{
	req->u.produce.cb(req->u.produce.arg, req->status, req->partition,
			  req->status == 0 ? req->u.produce.base_offset : -1);
	gq__buf_free(&req->u.produce.batches);
	gq__free(req);
}

static int
post_async(struct gq_node *node, struct gq__req *req, gq_produce_cb cb,
	   void *arg)
{
	int rv;

	req->u.produce.cb = cb;
	req->u.produce.arg = arg;
	req->done = async_done;
	if ((rv = gq__node_post(node, req)) != 0) {
		gq__node_set_errmsg(node, "node is closing");
		gq__buf_free(&req->u.produce.batches);
		gq__free(req);
	}
	return rv;
}

int
gq_produce_async(struct gq_node *node, const char *topic, int32_t partition,
		 const struct gq_msg *msgs, size_t count, gq_produce_cb cb,
		 void *arg)
{
	struct gq__req *req;
	int rv;

	if (node == NULL || cb == NULL)
		return GQ_EINVAL;
	if ((req = gq__calloc(1, sizeof(*req))) == NULL)
		return GQ_ENOMEM;
	rv = prepare(node, req, topic, partition, msgs, count, false);
	if (rv != 0) {
		gq__node_set_errmsg(node, req->errmsg);
		gq__free(req);
		return rv;
	}
	return post_async(node, req, cb, arg);
}

int
gq_produce_records_async(struct gq_node *node, const char *topic,
			 int32_t partition, const void *records, size_t len,
			 gq_produce_cb cb, void *arg)
{
	struct encode_plan pl;
	struct gq__req *req;
	size_t pos = 0;
	int rv;

	if (node == NULL || cb == NULL || records == NULL || len == 0)
		return GQ_EINVAL;
	if ((req = gq__calloc(1, sizeof(*req))) == NULL)
		return GQ_ENOMEM;
	if (partition < 0) {
		gq__errmsg_set(req->errmsg, "an explicit partition is needed");
		rv = GQ_EINVAL;
		goto err;
	}
	if ((rv = plan(node, topic, partition, NULL, &pl, req->errmsg)) != 0)
		goto err;
	/* Validate every batch here, off the loop: header, bounds, CRC. */
	while (pos < len) {
		struct gq__batch_header h;
		size_t size;

		rv = gq__batch_validate((const uint8_t *)records + pos,
					len - pos, &h);
		if (rv != 0) {
			gq__errmsg_set(req->errmsg,
				       "invalid record batch at byte %zu: %s",
				       pos, gq_strerror(rv));
			goto err;
		}
		size = gq__batch_total_size(&h);
		if (size > pl.max_message_size) {
			gq__errmsg_set(req->errmsg,
				       "batch of %zu bytes exceeds "
				       "max_message_size %u",
				       size, pl.max_message_size);
			rv = GQ_ETOOBIG;
			goto err;
		}
		pos += size;
		req->u.produce.n_batches++;
	}
	if ((rv = gq__buf_append(&req->u.produce.batches, records, len)))
		goto err;
	req->type = GQ__REQ_PRODUCE;
	snprintf(req->topic, sizeof(req->topic), "%s", topic);
	req->partition = partition;
	return post_async(node, req, cb, arg);
err:
	gq__node_set_errmsg(node, req->errmsg);
	gq__buf_free(&req->u.produce.batches);
	gq__free(req);
	return rv;
}

/* ---- idempotent producers -------------------------------------------- */

static void
producer_id_done(struct gq__req *req)
{
	gq_producer_id_cb cb = req->async_cb.producer_id;

	cb(req->async_arg, req->status,
	   req->status == 0 ? req->u.producer.id : -1,
	   req->status == 0 ? req->u.producer.epoch : -1);
	gq__free(req);
}

int
gq_producer_id_async(struct gq_node *node, gq_producer_id_cb cb, void *arg)
{
	struct gq__req *req;
	int rv;

	if (node == NULL || cb == NULL)
		return GQ_EINVAL;
	if ((req = gq__calloc(1, sizeof(*req))) == NULL)
		return GQ_ENOMEM;
	req->type = GQ__REQ_PRODUCER_ID;
	req->async_cb.producer_id = cb;
	req->async_arg = arg;
	req->done = producer_id_done;
	if ((rv = gq__node_post(node, req)) != 0)
		gq__free(req);
	return rv;
}

int
gq_producer_create(struct gq_node *node, struct gq_producer **out)
{
	struct gq_producer *pr;
	struct gq__req req;
	int rv;

	if (node == NULL || out == NULL)
		return GQ_EINVAL;
	memset(&req, 0, sizeof(req));
	req.type = GQ__REQ_PRODUCER_ID;
	if ((rv = gq__node_call(node, &req)) != 0)
		return rv;
	if ((pr = gq__calloc(1, sizeof(*pr))) == NULL)
		return GQ_ENOMEM;
	pr->node = node;
	pr->id = req.u.producer.id;
	pr->epoch = req.u.producer.epoch;
	*out = pr;
	return 0;
}

void
gq_producer_destroy(struct gq_producer *pr)
{
	if (pr == NULL)
		return;
	gq__buf_free(&pr->last);
	gq__free(pr->seqs);
	gq__free(pr);
}

void
gq_producer_id(const struct gq_producer *pr, int64_t *id, int16_t *epoch)
{
	if (id != NULL)
		*id = pr->id;
	if (epoch != NULL)
		*epoch = pr->epoch;
}

static struct seq_slot *
seq_slot(struct gq_producer *pr, const char *topic, int32_t partition)
{
	struct seq_slot *s;

	for (size_t i = 0; i < pr->n_seqs; i++) {
		s = &pr->seqs[i];
		if (s->partition == partition && strcmp(s->topic, topic) == 0)
			return s;
	}
	if (pr->n_seqs == pr->cap_seqs) {
		size_t cap = pr->cap_seqs ? pr->cap_seqs * 2 : 8;

		if ((s = gq__realloc(pr->seqs, cap * sizeof(*s))) == NULL)
			return NULL;
		pr->seqs = s;
		pr->cap_seqs = cap;
	}
	s = &pr->seqs[pr->n_seqs++];
	snprintf(s->topic, sizeof(s->topic), "%s", topic);
	s->partition = partition;
	s->next_seq = 0;
	return s;
}

static bool
retriable(int rv)
{
	return rv == GQ_EUNKNOWN || rv == GQ_ENOTREADY || rv == GQ_ENOTLEADER ||
	       rv == GQ_ETIMEDOUT;
}

/* Send the producer's last batch, retrying while the outcome is unknown:
 * the node answers a duplicate with the original offset. */
static int
send_last(struct gq_producer *pr, gq_offset *base_offset)
{
	int rv = 0;

	for (int attempt = 0; attempt <= PRODUCER_RETRIES; attempt++) {
		struct gq__req req;

		if (attempt > 0) {
			struct timespec ts = { 0,
					       PRODUCER_RETRY_MS * 1000000L };

			nanosleep(&ts, NULL);
		}
		memset(&req, 0, sizeof(req));
		req.type = GQ__REQ_PRODUCE;
		snprintf(req.topic, sizeof(req.topic), "%s", pr->last_topic);
		req.partition = pr->last_partition;
		req.u.produce.batches = pr->last; /* borrowed */
		req.u.produce.n_batches = 1;
		rv = gq__node_call(pr->node, &req);
		if (rv == 0 && base_offset != NULL)
			*base_offset = req.u.produce.base_offset;
		if (!retriable(rv))
			break;
	}
	return rv;
}

int
gq_producer_send(struct gq_producer *pr, const char *topic, int32_t partition,
		 const struct gq_msg *msgs, size_t count,
		 gq_offset *base_offset)
{
	struct gq__req req;
	struct seq_slot *s;
	struct encode_plan pl;
	int rv;

	if (pr == NULL || msgs == NULL || count == 0 || count > INT32_MAX)
		return GQ_EINVAL;
	memset(&req, 0, sizeof(req));
	/* Resolve the partition first: sequences are per partition. */
	rv = plan(pr->node, topic, partition, msgs, &pl, req.errmsg);
	if (rv != 0) {
		gq__node_set_errmsg(pr->node, req.errmsg);
		return rv;
	}
	if ((s = seq_slot(pr, topic, pl.partition)) == NULL)
		return GQ_ENOMEM;
	/* Planned once above: the partition decides the sequence slot. */
	rv = encode(&req, topic, &pl, msgs, count, pr->id, pr->epoch,
		    s->next_seq);
	if (rv != 0) {
		gq__node_set_errmsg(pr->node, req.errmsg);
		return rv;
	}
	gq__buf_free(&pr->last);
	pr->last = req.u.produce.batches;
	snprintf(pr->last_topic, sizeof(pr->last_topic), "%s", topic);
	pr->last_partition = pl.partition;
	/* The sequence is used once the batch leaves, whatever happens to
	 * it: a retry resends the same numbers. */
	s->next_seq = (int32_t)(((int64_t)s->next_seq + (int64_t)count) %
				((int64_t)INT32_MAX + 1));
	return send_last(pr, base_offset);
}

int
gq_producer_retry(struct gq_producer *pr, gq_offset *base_offset)
{
	if (pr == NULL || pr->last.len == 0)
		return GQ_EINVAL;
	return send_last(pr, base_offset);
}
