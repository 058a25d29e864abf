/* SPDX-License-Identifier: MIT */
/*
 * remote.c - a node that is a client of remote brokers (remote.h,
 * doc/client.md): the broker table and its connections, the metadata
 * cache, and the Kafka requests behind each public call.
 *
 * Every call is a `struct call`: one Kafka request to one broker, with the
 * application request it serves and what to do with the answer.  A call
 * that meets a stale route (NOT_LEADER_OR_FOLLOWER, an unknown topic or
 * leader, a lost connection) parks its request until the next metadata
 * refresh and tries again, until the request's deadline.
 */
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "heap.h"
#include "kapi.h"
#include "kconn.h"
#include "node.h"
#include "remote_int.h"

/* ---- helpers ------------------------------------------------------------ */

uint64_t
gq__r_now(const struct gq__remote *r)
{
	return uv_now(r->node->loop);
}

/* Kafka error code -> GQ_E*. */
int
gq__r_from_kafka(int16_t err)
{
	switch (err) {
	case GQK_ERR_NONE:
		return 0;
	case GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION:
		return GQ_ENOTOPIC;
	case GQK_ERR_OFFSET_OUT_OF_RANGE:
		return GQ_EOFFSET;
	case GQK_ERR_MESSAGE_TOO_LARGE:
	case GQK_ERR_RECORD_LIST_TOO_LARGE:
		return GQ_ETOOBIG;
	case GQK_ERR_CORRUPT_MESSAGE:
		return GQ_ECORRUPT;
	case GQK_ERR_NOT_LEADER_OR_FOLLOWER:
	case GQK_ERR_LEADER_NOT_AVAILABLE:
	case GQK_ERR_NOT_CONTROLLER:
		return GQ_ENOTLEADER;
	case GQK_ERR_REQUEST_TIMED_OUT:
		return GQ_EUNKNOWN;
	case GQK_ERR_TOPIC_ALREADY_EXISTS:
		return GQ_EEXIST;
	case GQK_ERR_INVALID_TOPIC_EXCEPTION:
		return GQ_EBADNAME;
	case GQK_ERR_INVALID_PARTITIONS:
	case GQK_ERR_INVALID_REPLICATION_FACTOR:
	case GQK_ERR_INVALID_CONFIG:
	case GQK_ERR_INVALID_REQUEST:
		return GQ_EINVAL;
	case GQK_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
		return GQ_ESEQUENCE;
	case GQK_ERR_UNSUPPORTED_VERSION:
		return GQ_EUNSUPPORTED;
	default:
		return GQ_EINTERNAL;
	}
}

bool
gq__r_stale_route(int16_t err)
{
	return err == GQK_ERR_NOT_LEADER_OR_FOLLOWER ||
	       err == GQK_ERR_LEADER_NOT_AVAILABLE ||
	       err == GQK_ERR_NOT_CONTROLLER ||
	       err == GQK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
}

void
gq__r_set_kafka_errmsg(struct gq__req *req, int16_t err, const char *what)
{
	gq__errmsg_set(req->errmsg, "%s: %s", what, gqk_err_name(err));
}

struct rbroker *
gq__r_broker_by_id(struct gq__remote *r, int32_t id)
{
	for (size_t i = r->n_seeds; i < r->n_brokers; i++)
		if (r->brokers[i]->id == id)
			return r->brokers[i];
	return NULL;
}

static struct gq__kconn *conn_of(struct gq__remote *r, struct rbroker *b);

struct rbroker *
gq__r_any_broker(struct gq__remote *r)
{
	for (size_t k = 0; k < r->n_brokers; k++) {
		struct rbroker *b =
			r->brokers[(r->next_seed + k) % r->n_brokers];

		if (conn_of(r, b) != NULL)
			return b;
	}
	return NULL;
}

/* ---- connections -------------------------------------------------------- */

static void
conn_down(void *arg, int status)
{
	struct rbroker *b = arg;

	(void)status;
	/* Dialled again on demand, after a growing pause. */
	b->backoff_ms = b->backoff_ms == 0 ? BACKOFF_MIN_MS
			: b->backoff_ms >= BACKOFF_MAX_MS / 2
				? BACKOFF_MAX_MS
				: b->backoff_ms * 2;
}

/* A usable connection in *@slot to @b, dialling it if needed; NULL while
 * @b is backing off or cannot be dialled. */
static struct gq__kconn *
dial(struct gq__remote *r, struct rbroker *b, struct gq__kconn **slot,
     unsigned max_inflight)
{
	struct gq__kconn_conf conf;

	if (*slot != NULL && gq__kconn_usable(*slot))
		return *slot;
	if (*slot != NULL) {
		gq__kconn_close(*slot);
		*slot = NULL;
		b->retry_at = gq__r_now(r) + b->backoff_ms;
	}
	if (gq__r_now(r) < b->retry_at)
		return NULL;
	conf.address = b->address;
	conf.connect_timeout_ms = r->request_timeout_ms;
	conf.max_frame = MAX_FRAME;
	conf.max_inflight = max_inflight;
	if (gq__kconn_open(r->node->loop, &conf, conn_down, b, slot) != 0) {
		*slot = NULL;
		b->retry_at = gq__r_now(r) + BACKOFF_MAX_MS;
		return NULL;
	}
	return *slot;
}

static struct gq__kconn *
conn_of(struct gq__remote *r, struct rbroker *b)
{
	return dial(r, b, &b->conn, MAX_INFLIGHT);
}

/* ---- calls -------------------------------------------------------------- */

static void
call_answered(void *arg, int status, const uint8_t *frame, size_t len)
{
	struct call *c = arg;
	union gqk_response resp;
	struct gqk_arena a;

	gqk_arena_init(&a, 0);
	if (status == 0) {
		/* kconn matched the correlation id already. */
		struct gqk_header h = { .api_key = c->api,
					.api_version = c->version,
					.correlation_id =
						(int32_t)gq__be32_get(frame) };

		if (gqk_response_decode(frame, len, &h, &a, &resp) != 0)
			status = GQ_EIO;
	}
	c->done(c, status, status == 0 ? &resp : NULL);
	gqk_arena_free(&a);
	gq__free(c);
}

static int
call_on(struct gq__remote *r, struct gq__kconn *conn, struct gq__req *req,
	void *ctx, const char *client_id, int16_t api, int16_t version,
	const union gqk_request *body, uint32_t timeout_ms, call_done done)
{
	struct gqk_header h = { 0 };
	struct gqk_writer w;
	struct gq__buf frame;
	struct call *c;
	int rv;

	if (conn == NULL)
		return GQ_EIO;
	if ((c = gq__calloc(1, sizeof(*c))) == NULL)
		return GQ_ENOMEM;
	h.api_key = api;
	h.api_version = version;
	h.client_id =
		gqk_str_from(client_id != NULL ? client_id : r->client_id);
	gqk_writer_init(&w);
	if (gqk_request_encode(&w, &h, body) != 0) {
		gqk_writer_free(&w);
		gq__free(c);
		return GQ_ENOMEM;
	}
	frame.base = w.base;
	frame.len = w.len;
	frame.cap = w.cap;
	c->r = r;
	c->req = req;
	c->ctx = ctx;
	c->api = api;
	c->version = version;
	c->done = done;
	if ((rv = gq__kconn_send(conn, &frame, timeout_ms, call_answered, c)) !=
	    0) {
		gq__free(c);
		return rv;
	}
	return 0;
}

int
gq__r_call(struct gq__remote *r, struct rbroker *b, struct gq__req *req,
	   int16_t api, int16_t version, const union gqk_request *body,
	   uint32_t timeout_ms, call_done done)
{
	return call_on(r, conn_of(r, b), req, NULL, NULL, api, version, body,
		       timeout_ms, done);
}

int
gq__r_call_as(struct gq__remote *r, struct rbroker *b, struct gq__req *req,
	      const char *client_id, int16_t api, int16_t version,
	      const union gqk_request *body, uint32_t timeout_ms,
	      call_done done)
{
	return call_on(r, conn_of(r, b), req, NULL, client_id, api, version,
		       body, timeout_ms, done);
}

int
gq__r_call_ctx(struct gq__remote *r, struct rbroker *b, void *ctx, int16_t api,
	       int16_t version, const union gqk_request *body,
	       uint32_t timeout_ms, call_done done)
{
	return call_on(r, conn_of(r, b), NULL, ctx, NULL, api, version, body,
		       timeout_ms, done);
}

int
gq__r_call_wait(struct gq__remote *r, struct rbroker *b, struct gq__req *req,
		int16_t api, int16_t version, const union gqk_request *body,
		uint32_t timeout_ms, call_done done)
{
	/* One long poll per partition a consumer reads. */
	return call_on(r, dial(r, b, &b->wait_conn, 64), req, NULL, NULL, api,
		       version, body, timeout_ms, done);
}

/* ---- metadata ----------------------------------------------------------- */

static void retry_parked(struct gq__remote *r);

uint64_t
gq__r_settling_gen(const struct gq__remote *r)
{
	return r->meta_gen + 1 + r->meta_inflight;
}

/* Park @req until the next metadata, or fail it if its time is up. */
void
gq__r_park(struct gq__remote *r, struct gq__req *req, int status)
{
	if (r->closing || r->draining)
		status = GQ_ECLOSED;
	if (gq__r_now(r) >= req->ctl.deadline || r->closing || r->draining) {
		if (req->errmsg[0] == '\0')
			gq__errmsg_set(req->errmsg, "%s", gq_strerror(status));
		gq__req_complete(req, status);
		return;
	}
	/* Metadata asked for from now on settles it: a topic that lacks is
	 * gone (ctl.index: that answer's generation; one already on its
	 * way may predate the topic). */
	req->ctl.index = gq__r_settling_gen(r);
	req->next = r->parked;
	r->parked = req;
	gq__r_refresh(r);
}

/* A topic as Metadata describes it, or NULL (out of memory, or a topic
 * in error). */
static struct gq__topic *
topic_from(struct gq__remote *r, const struct gqk_metadata_topic *mt)
{
	struct gq__topic *t;

	if (mt->error_code != 0 || mt->n_partitions <= 0 || mt->name.len <= 0 ||
	    mt->name.len > GQ_NAME_MAX ||
	    (t = gq__topic_alloc(mt->n_partitions)) == NULL)
		return NULL;
	memcpy(t->name, mt->name.p, (size_t)mt->name.len);
	t->name[mt->name.len] = '\0';
	t->conf = r->node->conf.topic_defaults;
	for (int32_t i = 0; i < mt->n_partitions; i++) {
		const struct gqk_metadata_partition *mp = &mt->partitions[i];
		struct gq__route *rt;
		uint8_t n = 0;

		if (mp->partition_index < 0 ||
		    mp->partition_index >= mt->n_partitions)
			continue;
		rt = &t->routes[mp->partition_index];
		for (int32_t j = 0; j < mp->n_replicas && n < GQ__REPLICAS_MAX;
		     j++)
			rt->replicas[n++] = mp->replicas[j];
		rt->n_replicas = rt->n_initial = n;
		memcpy(rt->initial, rt->replicas, sizeof(rt->initial));
		atomic_store(&rt->leader,
			     mp->error_code == 0 ? mp->leader_id : -1);
		if (i == 0)
			t->replication_factor = (int16_t)n;
	}
	return t;
}

static void
broker_free(struct rbroker *b)
{
	if (b != NULL) {
		/* No callback of the connections reaches @b afterwards. */
		gq__kconn_close(b->conn);
		gq__kconn_close(b->wait_conn);
		gq__r_outbox_free(b->outbox);
		gq__free(b);
	}
}

/* Replace the node's brokers and topics with @m's. */
static void
apply_metadata(struct gq__remote *r, const struct gqk_metadata_resp *m)
{
	struct gq_node *node = r->node;
	struct rbroker **nb;
	size_t n;

	/* The brokers: those still listed at the same address keep their
	 * connection. */
	n = r->n_seeds + (size_t)(m->n_brokers > 0 ? m->n_brokers : 0);
	if ((nb = gq__calloc(n, sizeof(*nb))) == NULL)
		return;
	memcpy(nb, r->brokers, r->n_seeds * sizeof(*nb));
	for (int32_t i = 0; i < m->n_brokers; i++) {
		const struct gqk_metadata_broker *mb = &m->brokers[i];
		char address[sizeof(nb[0]->address)];
		struct rbroker *b = gq__r_broker_by_id(r, mb->node_id);

		snprintf(address, sizeof(address), "%.*s:%d",
			 mb->host.len > 0 ? (int)mb->host.len : 0,
			 mb->host.len > 0 ? mb->host.p : "", (int)mb->port);
		for (size_t j = r->n_seeds;
		     b != NULL && j < r->n_seeds + (size_t)i; j++)
			if (nb[j] == b) /* an id listed twice */
				b = NULL;
		if (b != NULL && strcmp(b->address, address) == 0) {
			/* Kept, with its connection. */
		} else if ((b = gq__calloc(1, sizeof(*b))) == NULL) {
			n = r->n_seeds + (size_t)i;
			break;
		}
		b->id = mb->node_id;
		memcpy(b->address, address, sizeof(address));
		nb[r->n_seeds + (size_t)i] = b;
	}
	for (size_t i = r->n_seeds; i < r->n_brokers; i++) {
		bool kept = false;

		for (size_t j = r->n_seeds; j < n && !kept; j++)
			kept = nb[j] == r->brokers[i];
		if (!kept)
			broker_free(r->brokers[i]);
	}
	gq__free(r->brokers);
	r->brokers = nb;
	r->n_brokers = n;

	pthread_rwlock_wrlock(&node->meta_lock);
	node->n_brokers = 0;
	pthread_rwlock_unlock(&node->meta_lock);
	for (int32_t i = 0; i < m->n_brokers; i++) {
		struct gq__broker b;

		memset(&b, 0, sizeof(b));
		b.id = (uint64_t)m->brokers[i].node_id;
		b.alive = true;
		if (r->n_seeds + (size_t)i < n)
			snprintf(b.client_address, sizeof(b.client_address),
				 "%.255s",
				 r->brokers[r->n_seeds + (size_t)i]->address);
		if (m->brokers[i].rack.len > 0)
			snprintf(b.rack, sizeof(b.rack), "%.*s",
				 (int)m->brokers[i].rack.len,
				 m->brokers[i].rack.p);
		gq__node_broker_put(node, &b);
	}
	atomic_store(&node->controller_id, m->controller_id);

	/* The topics: the table becomes exactly what the brokers listed. */
	for (size_t i = node->n_topics; i-- > 0;) {
		struct gq__topic *t = node->topics[i];
		bool listed = false;

		for (int32_t j = 0; j < m->n_topics && !listed; j++)
			listed = m->topics[j].error_code == 0 &&
				 gqk_str_eq(m->topics[j].name, t->name);
		if (!listed) {
			gq__node_topic_remove(node, t);
			gq__topic_free(t);
		}
	}
	for (int32_t j = 0; j < m->n_topics; j++) {
		struct gq__topic *t = topic_from(r, &m->topics[j]), *old;

		if (t == NULL)
			continue;
		old = gq__node_topic_find(node, t->name);
		if (old != NULL && old->n_parts == t->n_parts) {
			/* Same shape: update in place, readers keep it. */
			for (int32_t p = 0; p < t->n_parts; p++) {
				struct gq__route *o = &old->routes[p];
				struct gq__route *nr = &t->routes[p];

				pthread_rwlock_wrlock(&node->meta_lock);
				o->n_replicas = nr->n_replicas;
				memcpy(o->replicas, nr->replicas,
				       sizeof(o->replicas));
				pthread_rwlock_unlock(&node->meta_lock);
				atomic_store(&o->leader,
					     atomic_load(&nr->leader));
			}
			gq__topic_free(t);
			continue;
		}
		if (old != NULL) {
			gq__node_topic_remove(node, old);
			gq__topic_free(old);
		}
		if (gq__node_topic_add(node, t) != 0)
			gq__topic_free(t);
	}
}

static void
metadata_done(struct call *c, int status, const union gqk_response *resp)
{
	struct gq__remote *r = c->r;
	struct gq__req *req = c->req;

	r->meta_inflight = false;
	if (status == 0) {
		apply_metadata(r, &resp->metadata);
		r->meta_gen++;
		r->have_meta = true;
		r->meta_due = gq__r_now(r) + METADATA_MAX_AGE;
	} else {
		/* Another broker next time. */
		r->next_seed++;
		r->meta_due = gq__r_now(r) + BACKOFF_MIN_MS;
	}
	/* A topic just created is ready once its configuration is read
	 * too: produce calls right after the create compress as it says. */
	if (req != NULL && status == 0 && req->type == GQ__REQ_TOPIC_CREATE)
		gq__r_topic_configs_wait(r, req);
	else if (req != NULL)
		gq__req_complete(req, status == 0 ? 0 : GQ_EIO);
	if (status == 0) {
		retry_parked(r);
		gq__r_produce_metadata(r);
		gq__r_topic_configs(r);
	}
}

void
gq__r_ask_metadata(struct gq__remote *r, struct gq__req *req)
{
	union gqk_request m = { .metadata = { .n_topics = -1,
					      .all_topics = true } };

	/* Known brokers first, then the bootstrap list, round robin. */
	for (size_t k = 0; k < r->n_brokers; k++) {
		size_t i = (r->next_seed + k) % r->n_brokers;

		if (gq__r_call(r, r->brokers[i], req, GQK_METADATA, V_METADATA,
			       &m, r->request_timeout_ms, metadata_done) == 0) {
			r->meta_inflight = true;
			return;
		}
	}
	if (req != NULL) {
		gq__errmsg_set(req->errmsg, "no broker reachable");
		gq__req_complete(req, GQ_EIO);
	}
	r->meta_due = gq__r_now(r) + BACKOFF_MIN_MS;
}

void
gq__r_refresh(struct gq__remote *r)
{
	if (!r->meta_inflight && !r->closing)
		gq__r_ask_metadata(r, NULL);
}

/* ---- produce ------------------------------------------------------------ */

/*
 * What answers about one partition have in common: true when @req was
 * taken care of because the answer has no entry for it (@p NULL: complete
 * with @malformed), names a stale route (park it for fresh metadata) or
 * an error (complete with it).  @what names the call in the detail.
 */
static bool
partition_failed(struct call *c, const void *p, int16_t err, int malformed,
		 const char *what)
{
	struct gq__req *req = c->req;

	if (p == NULL) {
		gq__errmsg_set(req->errmsg, "malformed %s answer", what);
		gq__req_complete(req, malformed);
		return true;
	}
	if (err == 0)
		return false;
	gq__r_set_kafka_errmsg(req, err, what);
	if (gq__r_stale_route(err))
		gq__r_park(c->r, req, gq__r_from_kafka(err));
	else
		gq__req_complete(req, gq__r_from_kafka(err));
	return true;
}

static void send_produce(struct gq__remote *r, struct gq__req *req);

static void
produce_done(struct call *c, int status, const union gqk_response *resp)
{
	struct gq__req *req = c->req;
	const struct gqk_produce_resp_partition *p = NULL;

	if (status == GQ_ECANCELED) {
		/* Never written: the broker did not see it, retry. */
		gq__r_park(c->r, req, GQ_ENOTLEADER);
		return;
	}
	if (status != 0) {
		/* Sent and lost: it may have been stored. */
		gq__errmsg_set(req->errmsg, "no answer from the leader");
		gq__req_complete(req, GQ_EUNKNOWN);
		return;
	}
	if (resp->produce.n_topics == 1 &&
	    resp->produce.topics[0].n_partitions == 1)
		p = &resp->produce.topics[0].partitions[0];
	if (partition_failed(c, p, p != NULL ? p->error_code : 0, GQ_EUNKNOWN,
			     "produce"))
		return;
	req->u.produce.base_offset = p->base_offset;
	gq__req_complete(req, 0);
}

/*
 * The leader of @req's partition as the metadata says.  NULL when it is
 * not known: then @req is parked for the next metadata, or failed when
 * that metadata came already and has no such topic or partition.
 */
static struct rbroker *
leader_of(struct gq__remote *r, struct gq__req *req)
{
	struct gq__topic *t = gq__node_topic_find(r->node, req->topic);
	struct rbroker *b;

	if (t != NULL && (req->partition < 0 || req->partition >= t->n_parts)) {
		gq__errmsg_set(req->errmsg, "topic '%s' has no partition %d",
			       req->topic, req->partition);
		gq__req_complete(req, GQ_ENOPARTITION);
		return NULL;
	}
	if (t == NULL && req->ctl.index != 0 && r->meta_gen >= req->ctl.index) {
		gq__errmsg_set(req->errmsg, "unknown topic '%s'", req->topic);
		gq__req_complete(req, GQ_ENOTOPIC);
		return NULL;
	}
	b = t != NULL
		    ? gq__r_broker_by_id(
			      r, atomic_load(&t->routes[req->partition].leader))
		    : NULL;
	if (b == NULL)
		gq__r_park(r, req, t == NULL ? GQ_ENOTOPIC : GQ_ENOTLEADER);
	return b;
}

static void
send_produce(struct gq__remote *r, struct gq__req *req)
{
	struct gqk_produce_req_partition part;
	struct gqk_produce_req_topic topic;
	union gqk_request body;
	struct gqk_produce_req *pr = &body.produce;
	struct rbroker *b = leader_of(r, req);

	if (b == NULL)
		return;
	part.index = req->partition;
	part.records =
		(struct gqk_bytes){ req->u.produce.batches.base,
				    (int32_t)req->u.produce.batches.len };
	topic.name = gqk_str_from(req->topic);
	topic.n_partitions = 1;
	topic.partitions = &part;
	memset(&body, 0, sizeof(body));
	pr->transactional_id = GQK_STR_NULL;
	pr->acks = -1;
	pr->timeout_ms = (int32_t)r->request_timeout_ms;
	pr->n_topics = 1;
	pr->topics = &topic;
	if (gq__r_call(r, b, req, GQK_PRODUCE, V_PRODUCE, &body,
		       r->request_timeout_ms, produce_done) != 0)
		gq__r_park(r, req, GQ_ENOTLEADER);
}

/* ---- fetch and offsets -------------------------------------------------- */

static void
fetch_done(struct call *c, int status, const union gqk_response *resp)
{
	struct gq__req *req = c->req;
	const struct gqk_fetch_resp_partition *p = NULL;

	if (status != 0) {
		gq__r_park(c->r, req, GQ_EIO);
		return;
	}
	if (resp->fetch.n_topics == 1 &&
	    resp->fetch.topics[0].n_partitions == 1)
		p = &resp->fetch.topics[0].partitions[0];
	if (partition_failed(c, p, p != NULL ? p->error_code : 0, GQ_EIO,
			     "fetch"))
		return;
	if (req->type == GQ__REQ_WAIT) {
		/* gq_fetch_wait_async(): data now, or the wait ran out. */
		gq__req_complete(req, p->records.len > 0 ? 0 : GQ_ETIMEDOUT);
		return;
	}
	req->u.rfetch.hw = p->high_watermark;
	req->u.rfetch.log_start = p->log_start_offset;
	if (p->records.len > 0 &&
	    gq__buf_append(&req->u.rfetch.raw, p->records.p,
			   (size_t)p->records.len) != 0) {
		gq__req_complete(req, GQ_ENOMEM);
		return;
	}
	gq__req_complete(req, 0);
}

static void
send_fetch(struct gq__remote *r, struct gq__req *req)
{
	struct gqk_fetch_req_partition part = { 0 };
	struct gqk_fetch_req_topic topic;
	union gqk_request body;
	struct gqk_fetch_req *fr = &body.fetch;
	struct rbroker *b = leader_of(r, req);
	bool wait = req->type == GQ__REQ_WAIT;
	int rv;

	if (b == NULL)
		return;
	part.partition = req->partition;
	part.current_leader_epoch = -1;
	part.log_start_offset = -1;
	if (wait) {
		/* Only whether data is there matters: a broker still sends a
		 * whole first batch. */
		part.fetch_offset = req->u.wait.offset;
		part.partition_max_bytes = 1;
	} else {
		part.fetch_offset = req->u.rfetch.offset;
		part.partition_max_bytes = (int32_t)req->u.rfetch.max_bytes;
	}
	topic.topic = gqk_str_from(req->topic);
	topic.n_partitions = 1;
	topic.partitions = &part;
	memset(&body, 0, sizeof(body));
	fr->replica_id = -1;
	fr->max_wait_ms = wait ? (int32_t)req->u.wait.timeout_ms : 0;
	fr->min_bytes = 1;
	fr->max_bytes = part.partition_max_bytes;
	fr->session_epoch = -1;
	fr->n_topics = 1;
	fr->topics = &topic;
	fr->rack_id = GQK_STR("");
	rv = wait ? gq__r_call_wait(r, b, req, GQK_FETCH, V_FETCH, &body,
				    req->u.wait.timeout_ms +
					    r->request_timeout_ms,
				    fetch_done)
		  : gq__r_call(r, b, req, GQK_FETCH, V_FETCH, &body,
			       r->request_timeout_ms, fetch_done);
	if (rv != 0)
		gq__r_park(r, req, GQ_EIO);
}

static void
offsets_done(struct call *c, int status, const union gqk_response *resp)
{
	struct gq__req *req = c->req;
	const struct gqk_list_offsets_resp_partition *p = NULL;

	if (status != 0) {
		gq__r_park(c->r, req, GQ_EIO);
		return;
	}
	if (resp->list_offsets.n_topics == 1 &&
	    resp->list_offsets.topics[0].n_partitions == 1)
		p = &resp->list_offsets.topics[0].partitions[0];
	if (partition_failed(c, p, p != NULL ? p->error_code : 0, GQ_EIO,
			     "list offsets"))
		return;
	req->u.rfetch.offset = p->offset;
	gq__req_complete(req, 0);
}

static void
send_list_offsets(struct gq__remote *r, struct gq__req *req)
{
	struct gqk_list_offsets_req_partition part;
	struct gqk_list_offsets_req_topic topic;
	union gqk_request body;
	struct gqk_list_offsets_req *lr = &body.list_offsets;
	struct rbroker *b = leader_of(r, req);

	if (b == NULL)
		return;
	part.partition_index = req->partition;
	part.timestamp = req->u.rfetch.when;
	part.max_num_offsets = 1;
	topic.name = gqk_str_from(req->topic);
	topic.n_partitions = 1;
	topic.partitions = &part;
	memset(&body, 0, sizeof(body));
	lr->replica_id = -1;
	lr->n_topics = 1;
	lr->topics = &topic;
	if (gq__r_call(r, b, req, GQK_LIST_OFFSETS, V_LIST_OFFSETS, &body,
		       r->request_timeout_ms, offsets_done) != 0)
		gq__r_park(r, req, GQ_EIO);
}

/* ---- dispatch ----------------------------------------------------------- */

static void
serve(struct gq__remote *r, struct gq__req *req)
{
	switch (req->type) {
	case GQ__REQ_PRODUCE:
		if (req->u.produce.merge_records > 0)
			gq__r_produce(r, req);
		else
			send_produce(r, req);
		break;
	case GQ__REQ_PRODUCER_ID:
		gq__r_produce(r, req);
		break;
	case GQ__REQ_RFETCH:
		if (req->u.rfetch.list)
			send_list_offsets(r, req);
		else
			send_fetch(r, req);
		break;
	case GQ__REQ_TOPIC_CREATE:
	case GQ__REQ_TOPIC_DELETE:
		gq__r_topic_admin(r, req);
		break;
	case GQ__REQ_TOPIC_ALTER:
		gq__r_topic_alter(r, req);
		break;
	case GQ__REQ_METADATA:
		gq__r_ask_metadata(r, req);
		break;
	case GQ__REQ_WAIT:
		send_fetch(r, req);
		break;
	case GQ__REQ_GROUP:
		gq__remote_group(r, req);
		break;
	default:
		gq__errmsg_set(req->errmsg,
			       "not available on a node connected to remote "
			       "brokers");
		gq__req_complete(req, GQ_EUNSUPPORTED);
		break;
	}
}

uint64_t
gq__r_budget_ms(const struct gq__remote *r, const struct gq__req *req)
{
	uint64_t ms = r->request_timeout_ms;
	int32_t wait = 0;

	if (req->type == GQ__REQ_WAIT) {
		ms += req->u.wait.timeout_ms;
	} else if (req->type == GQ__REQ_GROUP &&
		   req->u.group.op == GQ__GROUP_JOIN) {
		/* The coordinator holds a join until the rebalance ends. */
		wait = req->u.group.join.rebalance_timeout_ms > 0
			       ? req->u.group.join.rebalance_timeout_ms
			       : req->u.group.join.session_timeout_ms;
		ms += wait > 0 ? (uint64_t)wait : 0;
	}
	return ms;
}

void
gq__remote_dispatch(struct gq__remote *r, struct gq__req *req)
{
	if (r->closing) {
		gq__req_complete(req, GQ_ECLOSED);
		return;
	}
	if (req->ctl.deadline == 0)
		req->ctl.deadline = gq__r_now(r) + gq__r_budget_ms(r, req);
	serve(r, req);
}

static void
retry_parked(struct gq__remote *r)
{
	struct gq__req *req = NULL, *p = r->parked;

	/* Parked last first: serve them in the order they came, or the
	 * messages of one partition would be sent out of order. */
	r->parked = NULL;
	while (p != NULL) {
		struct gq__req *next = p->next;

		p->next = req;
		req = p;
		p = next;
	}
	while (req != NULL) {
		struct gq__req *next = req->next;

		req->next = NULL;
		serve(r, req);
		req = next;
	}
}

/* ---- life cycle --------------------------------------------------------- */

static void
tick(uv_timer_t *t)
{
	struct gq__remote *r = t->data;
	struct gq__req *req, **pp;

	if (r->closing)
		return;
	if (!r->have_meta && r->start_status == 0 &&
	    gq__r_now(r) >= r->start_end) {
		r->start_status = GQ_EIO;
		gq__errmsg_set(r->start_errmsg,
			       "no broker of '%s' answered within %u ms",
			       r->brokers[0]->address, r->request_timeout_ms);
	}
	if (gq__r_now(r) >= r->meta_due)
		gq__r_refresh(r);
	gq__r_produce_tick(r);
	gq__r_topic_configs(r);
	/* Parked requests whose time is up fail now, not at the next
	 * metadata. */
	pp = &r->parked;
	while ((req = *pp) != NULL) {
		if (gq__r_now(r) < req->ctl.deadline) {
			pp = &req->next;
			continue;
		}
		*pp = req->next;
		req->next = NULL;
		if (req->errmsg[0] == '\0')
			gq__errmsg_set(req->errmsg,
				       "no leader reachable in time");
		gq__req_complete(req, GQ_ETIMEDOUT);
	}
}

int
gq__remote_create(struct gq_node *node, const char *bootstrap,
		  struct gq__remote **out, char *errmsg)
{
	struct gq__remote *r;
	const char *p = bootstrap;
	size_t n = 1;

	if (bootstrap == NULL || bootstrap[0] == '\0') {
		gq__errmsg_set(errmsg, "no bootstrap brokers");
		return GQ_EINVAL;
	}
	for (const char *q = bootstrap; *q != '\0'; q++)
		n += *q == ',';
	if ((r = gq__calloc(1, sizeof(*r))) == NULL ||
	    (r->brokers = gq__calloc(n, sizeof(*r->brokers))) == NULL) {
		gq__free(r);
		return GQ_ENOMEM;
	}
	r->node = node;
	for (size_t i = 0; i < n; i++) {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if ((r->brokers[i] = gq__calloc(1, sizeof(**r->brokers))) ==
		    NULL) {
			r->n_brokers = i;
			gq__remote_free(r);
			return GQ_ENOMEM;
		}
		r->n_brokers = i + 1;

		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
		if (len == 0 || len >= sizeof(r->brokers[i]->address) ||
		    memchr(p, ':', len) == NULL) {
			gq__errmsg_set(errmsg,
				       "bootstrap list '%s': expected "
				       "host:port[,host:port...]",
				       bootstrap);
			gq__remote_free(r);
			return GQ_EINVAL;
		}
		r->brokers[i]->id = -1;
		memcpy(r->brokers[i]->address, p, len);
		p = end != NULL ? end + 1 : p + len;
	}
	r->n_brokers = r->n_seeds = n;
	r->request_timeout_ms = node->conf.request_timeout_ms;
	if (gq__r_produce_create(r) != 0) {
		gq__remote_free(r);
		return GQ_ENOMEM;
	}
	snprintf(r->client_id, sizeof(r->client_id), "goqueue-%d",
		 gq_version_number());
	*out = r;
	return 0;
}

void
gq__remote_start(struct gq__remote *r)
{
	uv_timer_init(r->node->loop, &r->timer);
	uv_timer_init(r->node->loop, &r->linger_timer);
	r->timer.data = r;
	r->linger_timer.data = r;
	r->handles = 2;
	r->started = true;
	uv_timer_start(&r->timer, tick, TICK_MS, TICK_MS);
	r->start_end = gq__r_now(r) + r->request_timeout_ms;
	gq__r_ask_metadata(r, NULL);
}

int
gq__remote_start_status(const struct gq__remote *r, char *errmsg)
{
	if (r->start_status != 0)
		snprintf(errmsg, GQ_ERRMSG_SIZE, "%s", r->start_errmsg);
	return r->start_status;
}

bool
gq__remote_ready(const struct gq__remote *r)
{
	/* Topic configurations too: the first produce compresses and
	 * bounds its batches as its topic says. */
	return r->have_meta && r->configs_read;
}

static void
timer_closed(uv_handle_t *h)
{
	struct gq__remote *r = h->data;

	if (--r->handles == 0 && r->closed_cb != NULL)
		r->closed_cb(r->closed_arg);
}

void
gq__remote_drain(struct gq__remote *r)
{
	struct gq__req *req = r->parked;

	r->parked = NULL;
	gq__req_complete_list(req, GQ_ECLOSED);
	r->draining = true;
}

bool
gq__remote_draining(const struct gq__remote *r)
{
	return r->draining && gq__r_produce_pending(r);
}

void
gq__remote_close(struct gq__remote *r, void (*cb)(void *arg), void *arg)
{
	struct gq__req *req = r->parked;

	r->closing = true;
	r->closed_cb = cb;
	r->closed_arg = arg;
	r->parked = NULL;
	gq__req_complete_list(req, GQ_ECLOSED);
	gq__r_produce_close(r);
	/* Created; only their configuration is not read. */
	gq__req_complete_list(r->config_waiters, 0);
	r->config_waiters = NULL;
	/* Closing a connection fails its calls (GQ_ECLOSED), which complete
	 * their requests; kconn frees itself once libuv is done. */
	for (size_t i = 0; i < r->n_brokers; i++) {
		gq__kconn_close(r->brokers[i]->conn);
		gq__kconn_close(r->brokers[i]->wait_conn);
		r->brokers[i]->conn = r->brokers[i]->wait_conn = NULL;
	}
	if (!r->started) {
		if (cb != NULL)
			cb(arg);
		return;
	}
	uv_close((uv_handle_t *)&r->timer, timer_closed);
	uv_close((uv_handle_t *)&r->linger_timer, timer_closed);
}

int
gq__remote_refresh(struct gq_node *node)
{
	struct gq__req req;

	memset(&req, 0, sizeof(req));
	req.type = GQ__REQ_METADATA;
	return gq__node_call(node, &req);
}

void
gq__remote_free(struct gq__remote *r)
{
	if (r == NULL)
		return;
	gq__r_produce_free(r);
	for (size_t i = 0; i < r->n_brokers; i++)
		broker_free(r->brokers[i]);
	gq__free(r->brokers);
	gq__free(r);
}
