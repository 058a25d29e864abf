/* SPDX-License-Identifier: MIT */
/*
 * remote_produce.c - produce on a remote node (doc/client.md).
 *
 * Each partition has an accumulator.  The calls for it (produce.c encodes
 * each as a small uncompressed batch without producer fields) wait there
 * until they are sealed into one batch, compressed with the topic's codec
 * and given the accumulator's producer id and the next sequence numbers.
 * A Produce request carries one batch for each partition its broker leads,
 * as Kafka requires from v3.
 *
 * A partition has at most MAX_INFLIGHT batches on the wire: the window in
 * which a broker recognises a batch sent again as a duplicate.  While they
 * are out, new calls gather into the next batch, so batches grow with the
 * load and nothing waits when there is none (unless `linger` asks for a
 * wait).  With idempotence (the default) every failure short of a
 * definite refusal sends the same batch again after fresh metadata, so a
 * leader failover neither loses nor duplicates a message.  When a
 * sequence gap cannot be closed (a batch refused for good, or given up at
 * its deadline), the accumulator moves to a new producer id, numbering
 * its unsent batches again from 0, as Kafka's producers bump their epoch.
 *
 * Without idempotence a batch whose request was lost after it was written
 * fails with GQ_EUNKNOWN instead.
 *
 * Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "codec.h"
#include "config.h"
#include "error.h"
#include "heap.h"
#include "kapi.h"
#include "node.h"
#include "remote_int.h"

#define N_BUCKETS 256

/* A sealed batch: its calls, its place in the partition's sequence. */
struct pbatch {
	struct pbatch *next;
	struct gq__buf buf;
	struct gq__req *reqs; /* in order, through req->next */
	int32_t records;
	int64_t pid;
	int32_t seq;
	uint64_t deadline; /* the earliest of its calls' */
	bool on_wire;
	bool maybe_stored; /* an attempt was lost after it was written */
};

/* The calls of one partition. */
struct pacc {
	struct pacc *bucket_next;
	struct pacc *dirty_next, *held_next, *linger_next;
	bool dirty, held, lingering;
	char topic[GQ_NAME_MAX + 1];
	int32_t partition;

	struct gq__req *open, **open_tail; /* not sealed yet */
	size_t open_bytes;
	uint64_t open_since; /* loop time the oldest open call came */
	bool flush;          /* a blocking call is open: no lingering */

	struct pbatch *batches; /* sealed, in sequence order */
	unsigned on_wire;

	int64_t pid; /* -1 until one is taken */
	int16_t epoch;
	int32_t next_seq;
	int64_t burned_pid; /* a gap is open under this id: never again */
	uint64_t hold_gen;  /* held for this metadata generation */
};

/* What one broker's next Produce request carries. */
struct gq__r_outbox {
	size_t n, cap;
	struct pentry {
		struct pacc *acc;
		struct pbatch *batch;
	} * e;
};

/* A Produce request on the wire. */
struct pcall {
	struct gq__remote *r;
	size_t n;
	struct pentry e[];
};

struct gq__r_produce {
	struct pacc *buckets[N_BUCKETS];
	struct pacc *dirty, *held;
	struct pacc *linger_head, **linger_tail;

	uint64_t linger_ms;
	size_t batch_size;
	bool idempotent;

	/* The producer id new accumulators take (idempotence). */
	int64_t pid;
	int16_t epoch;
	bool pid_asking;
	bool pid_wanted; /* an accumulator waits for a new id */
	uint64_t pid_retry_at;
	struct gq__req *id_waiters; /* GQ__REQ_PRODUCER_ID calls */
};

static void kick(struct gq__remote *r);

/* ---- accumulators ------------------------------------------------------- */

static size_t
bucket_of(const char *topic, int32_t partition)
{
	uint32_t h = 2166136261u;

	for (const char *p = topic; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ (uint32_t)partition) * 16777619u;
	return h % N_BUCKETS;
}

static struct pacc *
acc_get(struct gq__r_produce *p, const char *topic, int32_t partition)
{
	size_t b = bucket_of(topic, partition);
	struct pacc *a;

	for (a = p->buckets[b]; a != NULL; a = a->bucket_next)
		if (a->partition == partition && strcmp(a->topic, topic) == 0)
			return a;
	if ((a = gq__calloc(1, sizeof(*a))) == NULL)
		return NULL;
	snprintf(a->topic, sizeof(a->topic), "%s", topic);
	a->partition = partition;
	a->open_tail = &a->open;
	a->pid = -1;
	a->epoch = -1;
	a->burned_pid = -1;
	a->bucket_next = p->buckets[b];
	p->buckets[b] = a;
	return a;
}

static void
mark_dirty(struct gq__r_produce *p, struct pacc *a)
{
	if (a->dirty)
		return;
	a->dirty = true;
	a->dirty_next = p->dirty;
	p->dirty = a;
}

/* Hold @a until the metadata that settles its route, and ask for it. */
static void
hold(struct gq__remote *r, struct pacc *a)
{
	struct gq__r_produce *p = r->produce;

	a->hold_gen = gq__r_settling_gen(r);
	if (!a->held) {
		a->held = true;
		a->held_next = p->held;
		p->held = a;
	}
	gq__r_refresh(r);
}

static void linger_fired(uv_timer_t *t);

/* Make @a's open calls go when their linger is over. */
static void
linger(struct gq__remote *r, struct pacc *a)
{
	struct gq__r_produce *p = r->produce;
	uint64_t due = a->open_since + p->linger_ms, now = gq__r_now(r);

	if (a->lingering)
		return;
	a->lingering = true;
	a->linger_next = NULL;
	*p->linger_tail = a;
	p->linger_tail = &a->linger_next;
	if (p->linger_head == a)
		uv_timer_start(&r->linger_timer, linger_fired,
			       due > now ? due - now : 0, 0);
}

static void
linger_fired(uv_timer_t *t)
{
	struct gq__remote *r = t->data;
	struct gq__r_produce *p = r->produce;
	uint64_t now = gq__r_now(r);
	struct pacc *a;

	while ((a = p->linger_head) != NULL) {
		uint64_t due = a->open_since + p->linger_ms;

		if (a->open != NULL && due > now) {
			uv_timer_start(t, linger_fired, due - now, 0);
			break;
		}
		p->linger_head = a->linger_next;
		if (p->linger_head == NULL)
			p->linger_tail = &p->linger_head;
		a->lingering = false;
		mark_dirty(p, a);
	}
	kick(r);
}

/* ---- completing calls --------------------------------------------------- */

/* Complete the calls of a list with @status; on success with offsets
 * from @base_offset on (-1 when the broker did not say). */
static void
complete_calls(struct gq__req *req, int status, gq_offset base_offset,
	       const char *errmsg)
{
	while (req != NULL) {
		struct gq__req *next = req->next;

		req->next = NULL;
		req->u.produce.base_offset = base_offset;
		if (status == 0 && base_offset >= 0)
			base_offset += req->u.produce.merge_records;
		if (status != 0 && errmsg != NULL && req->errmsg[0] == '\0')
			gq__errmsg_set(req->errmsg, "%s", errmsg);
		gq__req_complete(req, status);
		req = next;
	}
}

static void
batch_unlink(struct pacc *a, struct pbatch *b)
{
	struct pbatch **pp = &a->batches;

	while (*pp != b)
		pp = &(*pp)->next;
	*pp = b->next;
}

/* Complete @b's calls and drop it.  A batch that leaves unstored opens a
 * gap in its producer's sequence: the accumulator moves to a new id. */
static void
batch_done(struct gq__r_produce *p, struct pacc *a, struct pbatch *b,
	   int status, gq_offset base_offset, const char *errmsg)
{
	if (status != 0 && p->idempotent && b->pid == a->pid && a->pid >= 0) {
		a->burned_pid = a->pid;
		a->pid = -1;
	}
	batch_unlink(a, b);
	complete_calls(b->reqs, status, base_offset, errmsg);
	gq__buf_free(&b->buf);
	gq__free(b);
}

/* Fail every call of @a that is not on the wire. */
static void
acc_fail(struct gq__r_produce *p, struct pacc *a, int status,
	 const char *errmsg)
{
	struct pbatch *b = a->batches, *next;
	struct gq__req *open = a->open;

	a->open = NULL;
	a->open_tail = &a->open;
	a->open_bytes = 0;
	a->flush = false;
	complete_calls(open, status, -1, errmsg);
	for (; b != NULL; b = next) {
		next = b->next;
		if (!b->on_wire)
			batch_done(p, a, b,
				   b->maybe_stored ? GQ_EUNKNOWN : status, -1,
				   errmsg);
	}
}

/* ---- producer ids ------------------------------------------------------- */

static void ask_pid(struct gq__remote *r);

static void
pid_answered(struct call *c, int status, const union gqk_response *resp)
{
	struct gq__remote *r = c->r;
	struct gq__r_produce *p = r->produce;
	struct gq__req *w = p->id_waiters;
	int16_t err = status == 0 ? resp->init_producer_id.error_code : 0;

	p->pid_asking = false;
	if (status != 0 || err != 0) {
		/* Waiters wait on; the tick asks again. */
		p->pid_retry_at = gq__r_now(r) + BACKOFF_MIN_MS;
		return;
	}
	p->pid = resp->init_producer_id.producer_id;
	p->epoch = resp->init_producer_id.producer_epoch;
	p->pid_wanted = false;
	p->id_waiters = NULL;
	while (w != NULL) {
		struct gq__req *next = w->next;

		w->next = NULL;
		w->u.producer.id = p->pid;
		w->u.producer.epoch = p->epoch;
		gq__req_complete(w, 0);
		w = next;
	}
	/* Every accumulator waiting for an id may go. */
	for (size_t i = 0; i < N_BUCKETS; i++)
		for (struct pacc *a = p->buckets[i]; a != NULL;
		     a = a->bucket_next)
			if (a->pid < 0)
				mark_dirty(p, a);
	kick(r);
}

static void
ask_pid(struct gq__remote *r)
{
	struct gq__r_produce *p = r->produce;
	union gqk_request body;
	struct rbroker *b;

	if (p->pid_asking || gq__r_now(r) < p->pid_retry_at)
		return;
	if ((b = gq__r_any_broker(r)) == NULL) {
		p->pid_retry_at = gq__r_now(r) + BACKOFF_MIN_MS;
		return;
	}
	memset(&body, 0, sizeof(body));
	body.init_producer_id.transactional_id = GQK_STR_NULL;
	body.init_producer_id.transaction_timeout_ms = -1;
	if (gq__r_call_ctx(r, b, NULL, GQK_INIT_PRODUCER_ID, V_INIT_PRODUCER,
			   &body, r->request_timeout_ms, pid_answered) == 0)
		p->pid_asking = true;
	else
		p->pid_retry_at = gq__r_now(r) + BACKOFF_MIN_MS;
}

/* A fresh producer id for @a, or false while one is asked for. */
static bool
take_pid(struct gq__remote *r, struct pacc *a)
{
	struct gq__r_produce *p = r->produce;

	if (a->pid >= 0)
		return true;
	if (p->pid < 0 || p->pid == a->burned_pid) {
		p->pid_wanted = true;
		ask_pid(r);
		return false;
	}
	a->pid = p->pid;
	a->epoch = p->epoch;
	a->next_seq = 0;
	return true;
}

/* ---- sealing and sending ------------------------------------------------ */

static int32_t
seq_add(int32_t seq, int32_t n)
{
	/* Sequences wrap from INT32_MAX to 0, as in Kafka. */
	return (int32_t)(((int64_t)seq + n) % ((int64_t)INT32_MAX + 1));
}

/* Give @b the accumulator's id and next sequence numbers. */
static void
number(struct pacc *a, struct pbatch *b)
{
	struct gq__batch_header h;

	b->pid = a->pid;
	b->seq = a->pid >= 0 ? a->next_seq : -1;
	if (a->pid >= 0)
		a->next_seq = seq_add(a->next_seq, b->records);
	if (gq__batch_parse_header(b->buf.base, b->buf.len, &h) == 0)
		gq__batch_set_producer(b->buf.base, &h, b->pid,
				       a->pid >= 0 ? a->epoch : -1, b->seq);
}

/* Seal @a's open calls, up to batch_size bytes, into a new batch at the
 * end of its list.  NULL when out of memory or the merge failed (then
 * the calls it could not take failed). */
static struct pbatch *
seal(struct gq__remote *r, struct pacc *a, const struct gq__topic *t)
{
	struct gq__r_produce *p = r->produce;
	struct gq__batch_merge m = GQ__BATCH_MERGE_INIT;
	struct gq__req **tail, *req;
	struct pbatch *b, **pp;
	int codec = t->conf.compression_enabled ? t->conf.compression_type
						: GQ__CODEC_NONE;
	size_t cap = p->batch_size < t->conf.max_message_size
			     ? p->batch_size
			     : t->conf.max_message_size;
	int rv;

	if ((b = gq__calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->deadline = UINT64_MAX;
	tail = &b->reqs;
	while ((req = a->open) != NULL) {
		size_t len = req->u.produce.batches.len;

		if (b->reqs != NULL && m.out.len + len > cap)
			break;
		rv = gq__batch_merge_add(&m, req->u.produce.batches.base, len);
		a->open = req->next;
		a->open_bytes -= len;
		req->next = NULL;
		if (rv != 0) {
			gq__errmsg_set(req->errmsg, "cannot join the batch: %s",
				       gq_strerror(rv));
			gq__req_complete(req, rv);
			continue;
		}
		/* The merged copy is all that is needed from now on. */
		gq__buf_free(&req->u.produce.batches);
		if (req->ctl.deadline < b->deadline)
			b->deadline = req->ctl.deadline;
		*tail = req;
		tail = &req->next;
	}
	if (a->open == NULL) {
		a->open_tail = &a->open;
		a->flush = false;
	} else {
		a->open_since = gq__r_now(r);
	}
	if (b->reqs == NULL) {
		gq__batch_merge_free(&m);
		gq__free(b);
		return NULL;
	}
	b->records = m.count;
	rv = gq__batch_merge_finish(&m, codec, t->conf.compression_threshold,
				    -1, -1, -1, &b->buf);
	if (rv != 0) {
		complete_calls(b->reqs, rv, -1, "cannot encode the batch");
		gq__free(b);
		return NULL;
	}
	number(a, b);
	for (pp = &a->batches; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = b;
	return b;
}

/* Whether @a's open calls should be sealed now. */
static bool
due(struct gq__remote *r, const struct pacc *a)
{
	const struct gq__r_produce *p = r->produce;

	return a->open != NULL &&
	       (a->flush || p->linger_ms == 0 ||
		a->open_bytes >= p->batch_size ||
		gq__r_now(r) >= a->open_since + p->linger_ms);
}

/*
 * The broker leading @a's partition, or NULL: then @a is held for fresh
 * metadata, or its calls failed because that metadata came and has no
 * such topic or partition.
 */
static struct rbroker *
route(struct gq__remote *r, struct pacc *a, struct gq__topic **tp)
{
	struct gq__topic *t = gq__node_topic_find(r->node, a->topic);
	struct rbroker *b = NULL;

	if (t != NULL && a->partition >= t->n_parts) {
		char msg[GQ_ERRMSG_SIZE];

		gq__errmsg_set(msg, "topic '%s' has no partition %d", a->topic,
			       a->partition);
		acc_fail(r->produce, a, GQ_ENOPARTITION, msg);
		return NULL;
	}
	if (t == NULL && a->hold_gen != 0 && r->meta_gen >= a->hold_gen) {
		char msg[GQ_ERRMSG_SIZE];

		gq__errmsg_set(msg, "unknown topic '%s'", a->topic);
		acc_fail(r->produce, a, GQ_ENOTOPIC, msg);
		return NULL;
	}
	if (t != NULL)
		b = gq__r_broker_by_id(
			r, atomic_load(&t->routes[a->partition].leader));
	if (b == NULL)
		hold(r, a);
	*tp = t;
	return b;
}

/*
 * The next batch of @a to send, sealing one if it is time, or NULL.
 * Batches go in sequence order: one sent again after a failure waits
 * until every later one came back.
 */
static struct pbatch *
next_batch(struct gq__remote *r, struct pacc *a, const struct gq__topic *t)
{
	struct gq__r_produce *p = r->produce;
	struct pbatch *b, *first = NULL;

	if (a->on_wire >= MAX_INFLIGHT)
		return NULL;
	for (b = a->batches; b != NULL; b = b->next) {
		if (first == NULL && !b->on_wire)
			first = b;
		else if (first != NULL && b->on_wire)
			return NULL;
	}
	if (first != NULL) {
		/* Numbered under an id abandoned since: number it again,
		 * unless an earlier attempt may have stored it. */
		if (p->idempotent && first->pid != a->pid &&
		    !first->maybe_stored) {
			if (!take_pid(r, a))
				return NULL;
			number(a, first);
		}
		return first;
	}
	if (!due(r, a)) {
		if (a->open != NULL)
			linger(r, a);
		return NULL;
	}
	if (p->idempotent && !take_pid(r, a))
		return NULL;
	return seal(r, a, t);
}

static int
outbox_add(struct rbroker *b, struct pacc *a, struct pbatch *batch)
{
	struct gq__r_outbox *o = b->outbox;

	if (o == NULL && (o = b->outbox = gq__calloc(1, sizeof(*o))) == NULL)
		return GQ_ENOMEM;
	if (o->n == o->cap) {
		size_t cap = o->cap != 0 ? o->cap * 2 : 16;
		struct pentry *e = gq__realloc(o->e, cap * sizeof(*e));

		if (e == NULL)
			return GQ_ENOMEM;
		o->e = e;
		o->cap = cap;
	}
	o->e[o->n].acc = a;
	o->e[o->n].batch = batch;
	o->n++;
	return 0;
}

static int
entry_cmp(const void *x, const void *y)
{
	const struct pentry *a = x, *b = y;
	int c = strcmp(a->acc->topic, b->acc->topic);

	return c != 0 ? c
		      : (a->acc->partition > b->acc->partition) -
				(a->acc->partition < b->acc->partition);
}

static void produce_answered(struct call *c, int status,
			     const union gqk_response *resp);

/* Send @b's outbox as one Produce request.  On failure the batches stay
 * unsent and their partitions are held. */
static void
send_outbox(struct gq__remote *r, struct rbroker *b)
{
	struct gq__r_outbox *o = b->outbox;
	struct gqk_produce_req_partition *parts = NULL;
	struct gqk_produce_req_topic *topics = NULL;
	union gqk_request body;
	struct pcall *pc;
	size_t n = o->n, n_topics = 0;

	o->n = 0;
	pc = gq__calloc(1, sizeof(*pc) + n * sizeof(pc->e[0]));
	parts = gq__calloc(n, sizeof(*parts));
	topics = gq__calloc(n, sizeof(*topics));
	if (pc == NULL || parts == NULL || topics == NULL)
		goto fail;
	pc->r = r;
	pc->n = n;
	memcpy(pc->e, o->e, n * sizeof(pc->e[0]));
	qsort(pc->e, n, sizeof(pc->e[0]), entry_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct pentry *e = &pc->e[i];

		if (i == 0 || strcmp(e->acc->topic, pc->e[i - 1].acc->topic)) {
			topics[n_topics].name = gqk_str_from(e->acc->topic);
			topics[n_topics].partitions = &parts[i];
			n_topics++;
		}
		topics[n_topics - 1].n_partitions++;
		parts[i].index = e->acc->partition;
		parts[i].records =
			(struct gqk_bytes){ e->batch->buf.base,
					    (int32_t)e->batch->buf.len };
	}
	memset(&body, 0, sizeof(body));
	body.produce.transactional_id = GQK_STR_NULL;
	body.produce.acks = -1;
	body.produce.timeout_ms = (int32_t)r->request_timeout_ms;
	body.produce.n_topics = (int32_t)n_topics;
	body.produce.topics = topics;
	if (gq__r_call_ctx(r, b, pc, GQK_PRODUCE, V_PRODUCE, &body,
			   r->request_timeout_ms, produce_answered) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		pc->e[i].batch->on_wire = true;
		pc->e[i].acc->on_wire++;
	}
	gq__free(parts);
	gq__free(topics);
	return;
fail:
	for (size_t i = 0; i < n; i++)
		hold(r, o->e[i].acc);
	gq__free(pc);
	gq__free(parts);
	gq__free(topics);
}

/* Send what can go: one batch per partition per round, every broker's
 * batches of a round in one request, until nothing more can go. */
static void
kick(struct gq__remote *r)
{
	struct gq__r_produce *p = r->produce;

	while (p->dirty != NULL && !r->closing) {
		struct pacc *a = p->dirty, *again = NULL;

		p->dirty = NULL;
		while (a != NULL) {
			struct pacc *next = a->dirty_next;
			struct gq__topic *t = NULL;
			struct pbatch *batch;
			struct rbroker *b;

			a->dirty = false;
			/* Held: it goes again with fresh metadata. */
			if (!a->held && (b = route(r, a, &t)) != NULL &&
			    (batch = next_batch(r, a, t)) != NULL) {
				if (outbox_add(b, a, batch) != 0) {
					hold(r, a);
				} else if (batch->next != NULL || due(r, a)) {
					/* More to send: next round. */
					a->dirty = true;
					a->dirty_next = again;
					again = a;
				}
			}
			a = next;
		}
		for (size_t i = 0; i < r->n_brokers; i++)
			if (r->brokers[i]->outbox != NULL &&
			    r->brokers[i]->outbox->n > 0)
				send_outbox(r, r->brokers[i]);
		p->dirty = again;
	}
}

/* ---- answers ------------------------------------------------------------ */

static const struct gqk_produce_resp_partition *
find_answer(const struct gqk_produce_resp *resp, const struct pacc *a)
{
	for (int32_t i = 0; i < resp->n_topics; i++) {
		const struct gqk_produce_resp_topic *t = &resp->topics[i];

		if (!gqk_str_eq(t->name, a->topic))
			continue;
		for (int32_t j = 0; j < t->n_partitions; j++)
			if (t->partitions[j].index == a->partition)
				return &t->partitions[j];
	}
	return NULL;
}

/* Whether @b has an earlier batch of its partition still unanswered. */
static bool
has_earlier(const struct pacc *a, const struct pbatch *b)
{
	return a->batches != b;
}

/* One partition's outcome in a Produce answer (@p NULL: no answer for
 * it; @status: the call's own failure). */
static void
batch_answered(struct gq__remote *r, struct pacc *a, struct pbatch *b,
	       int status, const struct gqk_produce_resp_partition *p)
{
	struct gq__r_produce *pr = r->produce;
	char msg[GQ_ERRMSG_SIZE];
	int16_t err;

	b->on_wire = false;
	a->on_wire--;
	mark_dirty(pr, a);
	if (status == GQ_ECANCELED) {
		/* Never written: the broker did not see it. */
		hold(r, a);
		return;
	}
	if (status != 0 && (r->closing || !pr->idempotent)) {
		/* Sent and lost: it may have been stored. */
		batch_done(pr, a, b, GQ_EUNKNOWN, -1,
			   "no answer from the leader");
		return;
	}
	if (status != 0) {
		b->maybe_stored = true;
		hold(r, a);
		return;
	}
	if (p == NULL) {
		batch_done(pr, a, b, GQ_EUNKNOWN, -1,
			   "malformed produce answer");
		return;
	}
	err = p->error_code;
	if (err == GQK_ERR_NONE) {
		batch_done(pr, a, b, 0, p->base_offset, NULL);
		return;
	}
	if (err == GQK_ERR_DUPLICATE_SEQUENCE_NUMBER) {
		/* Stored before, at an offset the broker no longer knows. */
		batch_done(pr, a, b, 0, -1, NULL);
		return;
	}
	if (gq__r_stale_route(err) ||
	    (err == GQK_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER &&
	     has_earlier(a, b))) {
		/* Not stored; after the batches before it, it goes again. */
		hold(r, a);
		return;
	}
	gq__errmsg_set(msg, "produce: %s", gqk_err_name(err));
	batch_done(pr, a, b,
		   b->maybe_stored ? GQ_EUNKNOWN : gq__r_from_kafka(err), -1,
		   msg);
}

static void
produce_answered(struct call *c, int status, const union gqk_response *resp)
{
	struct pcall *pc = c->ctx;
	struct gq__remote *r = pc->r;

	for (size_t i = 0; i < pc->n; i++) {
		struct pacc *a = pc->e[i].acc;

		batch_answered(r, a, pc->e[i].batch, status,
			       status == 0 ? find_answer(&resp->produce, a)
					   : NULL);
	}
	gq__free(pc);
	kick(r);
}

/* ---- the remote node's entry points ------------------------------------- */

int
gq__r_produce_create(struct gq__remote *r)
{
	const struct gq__node_conf *conf = &r->node->conf;
	struct gq__r_produce *p;

	if ((p = gq__calloc(1, sizeof(*p))) == NULL)
		return GQ_ENOMEM;
	p->linger_tail = &p->linger_head;
	p->linger_ms = (uint64_t)conf->linger_ms;
	p->batch_size = (size_t)conf->batch_size;
	p->idempotent = conf->enable_idempotence;
	p->pid = -1;
	p->epoch = -1;
	r->produce = p;
	return 0;
}

void
gq__r_produce(struct gq__remote *r, struct gq__req *req)
{
	struct gq__r_produce *p = r->produce;
	struct pacc *a;

	if (req->type == GQ__REQ_PRODUCER_ID) {
		req->next = p->id_waiters;
		p->id_waiters = req;
		p->pid_retry_at = 0;
		ask_pid(r);
		return;
	}
	if ((a = acc_get(p, req->topic, req->partition)) == NULL) {
		gq__req_complete(req, GQ_ENOMEM);
		return;
	}
	if (a->open == NULL)
		a->open_since = gq__r_now(r);
	req->next = NULL;
	*a->open_tail = req;
	a->open_tail = &req->next;
	a->open_bytes += req->u.produce.batches.len;
	/* A blocking caller waits for nothing but its answer. */
	if (req->waiter != NULL)
		a->flush = true;
	mark_dirty(p, a);
	kick(r);
}

void
gq__r_produce_metadata(struct gq__remote *r)
{
	struct gq__r_produce *p = r->produce;
	struct pacc *a = p->held;

	/* route() decides again with this metadata, and holds again those
	 * it still cannot send. */
	p->held = NULL;
	while (a != NULL) {
		struct pacc *next = a->held_next;

		a->held = false;
		mark_dirty(p, a);
		a = next;
	}
	kick(r);
}

bool
gq__r_produce_pending(const struct gq__remote *r)
{
	const struct gq__r_produce *p = r->produce;

	if (p->id_waiters != NULL)
		return true;
	for (size_t i = 0; i < N_BUCKETS; i++)
		for (const struct pacc *a = p->buckets[i]; a != NULL;
		     a = a->bucket_next)
			if (a->open != NULL || a->batches != NULL)
				return true;
	return false;
}

void
gq__r_produce_tick(struct gq__remote *r)
{
	struct gq__r_produce *p = r->produce;
	uint64_t now = gq__r_now(r);

	if (p->id_waiters != NULL || p->pid_wanted)
		ask_pid(r);
	for (size_t i = 0; i < N_BUCKETS; i++) {
		for (struct pacc *a = p->buckets[i]; a != NULL;
		     a = a->bucket_next) {
			struct gq__req **pp = &a->open, *req;
			struct pbatch *b, *next;

			while ((req = *pp) != NULL) {
				if (now < req->ctl.deadline) {
					pp = &req->next;
					continue;
				}
				*pp = req->next;
				req->next = NULL;
				a->open_bytes -= req->u.produce.batches.len;
				gq__errmsg_set(req->errmsg,
					       "no leader reachable in time");
				gq__req_complete(req, GQ_ETIMEDOUT);
			}
			a->open_tail = pp;
			if (a->open == NULL)
				a->flush = false;
			for (b = a->batches; b != NULL; b = next) {
				next = b->next;
				if (!b->on_wire && now >= b->deadline)
					batch_done(p, a, b,
						   b->maybe_stored
							   ? GQ_EUNKNOWN
							   : GQ_ETIMEDOUT,
						   -1,
						   "no leader reachable in "
						   "time");
			}
		}
	}
}

void
gq__r_produce_close(struct gq__remote *r)
{
	struct gq__r_produce *p = r->produce;

	if (p == NULL)
		return;
	gq__req_complete_list(p->id_waiters, GQ_ECLOSED);
	p->id_waiters = NULL;
	for (size_t i = 0; i < N_BUCKETS; i++)
		for (struct pacc *a = p->buckets[i]; a != NULL;
		     a = a->bucket_next)
			acc_fail(p, a, GQ_ECLOSED, "node is closing");
}

void
gq__r_outbox_free(struct gq__r_outbox *o)
{
	if (o != NULL)
		gq__free(o->e);
	gq__free(o);
}

void
gq__r_produce_free(struct gq__remote *r)
{
	struct gq__r_produce *p = r->produce;

	if (p == NULL)
		return;
	for (size_t i = 0; i < N_BUCKETS; i++) {
		struct pacc *a = p->buckets[i], *next;

		for (; a != NULL; a = next) {
			next = a->bucket_next;
			/* Closing failed every call; batches on the wire
			 * failed with their connections. */
			while (a->batches != NULL)
				batch_done(p, a, a->batches, GQ_ECLOSED, -1,
					   "node is closing");
			gq__free(a);
		}
	}
	gq__free(p);
	r->produce = NULL;
}
