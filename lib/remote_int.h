/* SPDX-License-Identifier: MIT */
/*
 * remote_int.h - the inside of a remote node (remote.h), shared by its
 * modules: remote.c (connections, metadata, data and topic calls) and
 * remote_group.c (the consumer-group calls).  Loop thread only.
 */
#ifndef GQ_REMOTE_INT_H
#define GQ_REMOTE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "goqueue.h"
#include "kapi.h"

struct gq_node;
struct gq__req;
struct gq__kconn;

/* Versions this client speaks: the newest of each API gqd serves, all of
 * them old enough for any Kafka broker since 2.3. */
#define V_METADATA      4
#define V_PRODUCE       7
#define V_FETCH         11
#define V_LIST_OFFSETS  2
#define V_CREATE_TOPICS 3
#define V_DELETE_TOPICS 3
#define V_INIT_PRODUCER 1

#define TICK_MS          100
#define METADATA_MAX_AGE (5 * 60 * 1000)
#define BACKOFF_MIN_MS   100
#define BACKOFF_MAX_MS   10000
#define MAX_FRAME        (128u << 20)
#define MAX_INFLIGHT     5

/* Coordinators of groups, as FindCoordinator last named them. */
#define GQ__R_COORDS 64

struct gq__r_coord {
	char group[GQ_NAME_MAX + 1]; /* "" for a free slot */
	int32_t broker;
	uint64_t used; /* loop time, for replacing the oldest */
};

struct rbroker {
	int32_t id; /* -1: a bootstrap address */
	char address[262];
	struct gq__kconn *conn;
	/* Long polls (Fetch with a wait) on their own connection: a broker
	 * answers a connection's requests in order, so on the main one they
	 * would hold up every produce behind them. */
	struct gq__kconn *wait_conn;
	uint64_t retry_at; /* loop time before which it is not dialled */
	uint32_t backoff_ms;
	struct gq__r_outbox *outbox; /* remote_produce.c: batches to send */
};

struct call;
struct gq__r_outbox;
typedef void (*call_done)(struct call *c, int status,
			  const union gqk_response *resp);

/* One Kafka request in flight for one application request. */
struct call {
	struct gq__remote *r;
	struct gq__req *req; /* NULL for a metadata refresh */
	void *ctx;           /* the caller's, when @req is NULL */
	int16_t api, version;
	call_done done;
};

struct gq__remote {
	struct gq_node *node;
	struct rbroker **brokers; /* the bootstrap addresses first */
	size_t n_brokers, n_seeds;
	size_t next_seed;
	uv_timer_t timer;
	uv_timer_t linger_timer; /* remote_produce.c */
	bool started, closing;
	bool draining; /* closing once the produce calls are done */
	void (*closed_cb)(void *arg);
	void *closed_arg;
	unsigned handles;

	uint32_t request_timeout_ms;
	char client_id[64];

	bool have_meta;
	bool meta_inflight;
	uint64_t meta_gen;  /* metadata answers applied so far */
	uint64_t meta_due;  /* loop time of the next refresh */
	uint64_t start_end; /* the bootstrap gives up then */
	int start_status;
	char start_errmsg[GQ_ERRMSG_SIZE];
	struct gq__req *parked; /* waiting for the next metadata, last first */
	bool configs_inflight;  /* remote_admin.c: a DescribeConfigs is out */
	bool configs_read;      /* every topic's was asked for once */
	uint64_t configs_due;   /* loop time every topic's is read again */
	struct gq__req *config_waiters; /* creates done once configs are */
	struct gq__r_coord coords[GQ__R_COORDS]; /* remote_group.c */
	struct gq__r_produce *produce;           /* remote_produce.c */
};

/* Loop time now. */
uint64_t gq__r_now(const struct gq__remote *r);

/* A Kafka error code as a GQ_E* code. */
int gq__r_from_kafka(int16_t err);

/* Put "@what: ERROR_NAME" into @req's errmsg. */
void gq__r_set_kafka_errmsg(struct gq__req *req, int16_t err, const char *what);

/* The broker with node id @id from the metadata, or NULL. */
struct rbroker *gq__r_broker_by_id(struct gq__remote *r, int32_t id);

/* Any broker with a usable connection now (for a request any broker
 * answers), or NULL. */
struct rbroker *gq__r_any_broker(struct gq__remote *r);

/* Park @req until the next metadata and serve it again then, or complete
 * it with @status (GQ_ECLOSED when closing) once its deadline passed. */
void gq__r_park(struct gq__remote *r, struct gq__req *req, int status);

/* Send @body (api @api at @version) to @b for @req, with an answer due
 * within @timeout_ms; @done runs with the outcome.  0, or GQ_EIO (no
 * usable connection to @b now), GQ_ENOMEM; then @done does not run. */
int gq__r_call(struct gq__remote *r, struct rbroker *b, struct gq__req *req,
	       int16_t api, int16_t version, const union gqk_request *body,
	       uint32_t timeout_ms, call_done done);

/* gq__r_call() with another client id in the request header (NULL: the
 * node's). */
int gq__r_call_as(struct gq__remote *r, struct rbroker *b, struct gq__req *req,
		  const char *client_id, int16_t api, int16_t version,
		  const union gqk_request *body, uint32_t timeout_ms,
		  call_done done);

/* gq__r_call() for a call not made for one request: @ctx goes into the
 * call's ctx. */
int gq__r_call_ctx(struct gq__remote *r, struct rbroker *b, void *ctx,
		   int16_t api, int16_t version, const union gqk_request *body,
		   uint32_t timeout_ms, call_done done);

/* The same on @b's long-poll connection. */
int gq__r_call_wait(struct gq__remote *r, struct rbroker *b,
		    struct gq__req *req, int16_t api, int16_t version,
		    const union gqk_request *body, uint32_t timeout_ms,
		    call_done done);

/* How long @req may take in all, retries included: the request timeout,
 * plus the wait of a long poll or of a join held for a rebalance. */
uint64_t gq__r_budget_ms(const struct gq__remote *r, const struct gq__req *req);

/* Ask some broker for all metadata; with @req, complete it with the
 * outcome once applied (GQ_EIO when no broker answers). */
void gq__r_ask_metadata(struct gq__remote *r, struct gq__req *req);

/* remote_admin.c: serve a GQ__REQ_TOPIC_CREATE or _DELETE. */
void gq__r_topic_admin(struct gq__remote *r, struct gq__req *req);

/* remote_admin.c: serve a GQ__REQ_TOPIC_ALTER with IncrementalAlterConfigs
 * to the controller; it completes once this node has read the topic's new
 * configuration back. */
void gq__r_topic_alter(struct gq__remote *r, struct gq__req *req);

/* remote_admin.c: read the configuration of the topics whose `conf` is
 * not known yet (or is older than the metadata age) from the brokers. */
void gq__r_topic_configs(struct gq__remote *r);

/* Complete @req (a create whose topic the metadata shows, or an alter
 * the controller made) once every topic's configuration is read. */
void gq__r_topic_configs_wait(struct gq__remote *r, struct gq__req *req);

/* Ask for metadata unless a request for it is out already. */
void gq__r_refresh(struct gq__remote *r);

/* The metadata generation that settles what is unknown now: the next
 * answer asked for from now on. */
uint64_t gq__r_settling_gen(const struct gq__remote *r);

/* Whether a Kafka error means the route is stale: refresh and retry. */
bool gq__r_stale_route(int16_t err);

/* remote_produce.c: the accumulators, created with the remote node. */
int gq__r_produce_create(struct gq__remote *r);
/* Serve a GQ__REQ_PRODUCE that produce.c encoded for accumulating, or a
 * GQ__REQ_PRODUCER_ID. */
void gq__r_produce(struct gq__remote *r, struct gq__req *req);
/* Fresh metadata came: held partitions go again. */
void gq__r_produce_metadata(struct gq__remote *r);
/* Whether produce calls are waiting or on the wire. */
bool gq__r_produce_pending(const struct gq__remote *r);
/* Timer tick: fail what waited past its deadline. */
void gq__r_produce_tick(struct gq__remote *r);
/* Closing: fail every call not on the wire (those on it fail with their
 * connections). */
void gq__r_produce_close(struct gq__remote *r);
void gq__r_produce_free(struct gq__remote *r);
void gq__r_outbox_free(struct gq__r_outbox *o);

/* remote_group.c: serve a GQ__REQ_GROUP request. */
void gq__remote_group(struct gq__remote *r, struct gq__req *req);

/* remote_group.c, for gq_group_lags() on a remote node, from any thread
 * but the loop's: every partition @group committed, by topic and
 * partition, with its committed offset (high_watermark and lag -1), asked
 * of the coordinator with one OffsetFetch.  *@out is NULL when there are
 * none, else the caller's to free with gq__free().  0, or the errors of
 * gq_group_offsets(). */
int gq__remote_group_committed(struct gq_node *node, const char *group,
			       struct gq_group_lag **out, size_t *count);

#endif /* GQ_REMOTE_INT_H */
