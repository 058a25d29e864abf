/* SPDX-License-Identifier: MIT */
/*
 * node.c - node lifecycle, the loop thread, the request queue and the
 * topic table (see node.h for the threading rules).
 *
 * Start (loop thread): open the controller group, which loads the
 * committed topics; remove data directories of topics that no longer
 * exist (a delete interrupted by a crash); open every partition; once the
 * controller leads, every partition serves and the internal offsets topic
 * exists, the node is READY and gq_node_open() returns.
 *
 * Close (loop thread): refuse new requests, fail queued ones, close every
 * Raft group (each drains first), then close the handles; the loop then
 * has nothing left and uv_run() returns on the node's own thread.
 */
#include "node.h"

#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "controller.h"
#include "coordinator.h"
#include "error.h"
#include "forward.h"
#include "fsutil.h"
#include "heap.h"
#include "partition.h"
#include "plog.h"
#include "remote.h"
#include "rpc.h"
#include "stats.h"
#include "transport.h"

#define SNAPSHOT_BUDGET (32u << 20)
#define HEARTBEAT_MS    300
#define LEADER_WAIT_MS  10000 /* a produce call waits for a leader */

/* Per-thread error detail (gq_node_errmsg()). */
static _Thread_local struct {
	const struct gq_node *node;
	char msg[GQ_ERRMSG_SIZE];
} tls_err;

void
gq__node_set_errmsg(struct gq_node *node, const char *msg)
{
	tls_err.node = node;
	snprintf(tls_err.msg, sizeof(tls_err.msg), "%s", msg);
}

const char *
gq_node_errmsg(struct gq_node *node)
{
	return tls_err.node == node ? tls_err.msg : "";
}

void
gq__log(struct gq_node *node, enum gq_log_level level, const char *fmt, ...)
{
	char msg[1024];
	gq_log_cb cb;
	void *arg;
	va_list ap;

	pthread_mutex_lock(&node->log_lock);
	cb = level >= node->log_min ? node->log_cb : NULL;
	arg = node->log_arg;
	pthread_mutex_unlock(&node->log_lock);
	if (cb == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cb(arg, level, msg);
}

void
gq_node_set_log_cb(struct gq_node *node, gq_log_cb cb, void *arg,
		   enum gq_log_level min_level)
{
	pthread_mutex_lock(&node->log_lock);
	node->log_cb = cb;
	node->log_arg = arg;
	node->log_min = min_level;
	pthread_mutex_unlock(&node->log_lock);
}

/* ---- requests -------------------------------------------------------- */

static void
waiter_init(struct gq__waiter *w)
{
	pthread_mutex_init(&w->mutex, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->done = false;
}

static void
waiter_wait(struct gq__waiter *w)
{
	pthread_mutex_lock(&w->mutex);
	while (!w->done)
		pthread_cond_wait(&w->cond, &w->mutex);
	pthread_mutex_unlock(&w->mutex);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mutex);
}

static void
waiter_signal(struct gq__waiter *w)
{
	pthread_mutex_lock(&w->mutex);
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mutex);
}

void
gq__req_complete(struct gq__req *req, int status)
{
	req->status = status;
	if (status != 0 && req->errmsg[0] == '\0')
		snprintf(req->errmsg, sizeof(req->errmsg), "%s",
			 gq_strerror(status));
	if (req->waiter != NULL)
		waiter_signal(req->waiter); /* req may be gone after this */
	else if (req->done != NULL)
		req->done(req);
}

void
gq__req_complete_list(struct gq__req *req, int status)
{
	while (req != NULL) {
		struct gq__req *next = req->next;

		gq__req_complete(req, status);
		req = next;
	}
}

int
gq__node_post(struct gq_node *node, struct gq__req *req)
{
	pthread_mutex_lock(&node->queue_lock);
	if (node->queue_closed) {
		pthread_mutex_unlock(&node->queue_lock);
		return GQ_ECLOSED;
	}
	req->next = NULL;
	if (node->queue_tail != NULL)
		node->queue_tail->next = req;
	else
		node->queue_head = req;
	node->queue_tail = req;
	pthread_mutex_unlock(&node->queue_lock);
	uv_async_send(&node->wake);
	return 0;
}

static bool
node_on_loop_thread(struct gq_node *node)
{
	uv_thread_t self = uv_thread_self();

	return uv_thread_equal(&self, &node->thread);
}

int
gq__node_call(struct gq_node *node, struct gq__req *req)
{
	struct gq__waiter w;
	int rv;

	if (node->loop == NULL || node_on_loop_thread(node)) {
		gq__node_set_errmsg(node, "blocking call from the loop thread");
		return GQ_EINVAL;
	}
	waiter_init(&w);
	req->waiter = &w;
	if ((rv = gq__node_post(node, req)) != 0) {
		pthread_cond_destroy(&w.cond);
		pthread_mutex_destroy(&w.mutex);
		gq__node_set_errmsg(node, "node is closing");
		return rv;
	}
	waiter_wait(&w);
	if (req->status != 0)
		gq__node_set_errmsg(node, req->errmsg);
	return req->status;
}

/* ---- Raft groups ----------------------------------------------------- */

void
gq__node_rgroup_conf(struct gq_node *node, bool bootstrap,
		     struct gq__rgroup_conf *out)
{
	unsigned election = (unsigned)node->conf.election_timeout_ms;

	memset(out, 0, sizeof(*out));
	out->hub = node->hub;
	out->node_id = node->conf.node_id;
	out->address = gq__node_raft_address(node);
	out->bootstrap = bootstrap;
	out->raft_segment_size = (size_t)node->conf.raft_segment_size;
	out->raft_fsync = node->conf.raft_fsync;
	out->snapshot_budget = SNAPSHOT_BUDGET;
	out->election_ms = election;
	out->heartbeat_ms = election / 6 > 10 ? election / 6 : 10;
}

const char *
gq__node_raft_address(const struct gq_node *node)
{
	return node->conf.raft_address[0] ? node->conf.raft_address
					  : "127.0.0.1:0";
}

void
gq__node_group_closing(struct gq_node *node, struct gq__rgroup *g)
{
	g->close_next = node->closing;
	node->closing = g;
}

void
gq__node_group_closed(struct gq_node *node, struct gq__rgroup *g)
{
	struct gq__rgroup **pp;

	for (pp = &node->closing; *pp != NULL; pp = &(*pp)->close_next) {
		if (*pp == g) {
			*pp = g->close_next;
			break;
		}
	}
	/* The check handle finishes a node close; make sure it runs soon. */
	if (node->closing == NULL)
		uv_async_send(&node->wake);
}

/* ---- dirty partitions ------------------------------------------------ */

void
gq__node_mark_dirty(struct gq_node *node, struct gq__partition *p)
{
	if (node->n_dirty == node->cap_dirty) {
		size_t cap = node->cap_dirty ? node->cap_dirty * 2 : 64;
		struct gq__partition **items;

		items = gq__realloc(node->dirty, cap * sizeof(*items));
		if (items == NULL) {
			gq__partition_flush(p); /* propose now instead */
			return;
		}
		node->dirty = items;
		node->cap_dirty = cap;
	}
	node->dirty[node->n_dirty++] = p;
}

static void
flush_dirty(struct gq_node *node)
{
	/* Flushing may complete requests whose callbacks produce again and
	 * mark partitions dirty: drain until empty. */
	while (node->n_dirty > 0)
		gq__partition_flush(node->dirty[--node->n_dirty]);
}

/* ---- loop ------------------------------------------------------------ */

static void start_close(struct gq_node *node);
static void finish_close(struct gq_node *node);
static void node_free(struct gq_node *node);

/* The topic of a request naming a topic and partition, or NULL after
 * completing the request with the reason the pair does not exist. */
static struct gq__topic *
target_topic(struct gq_node *node, struct gq__req *req)
{
	struct gq__topic *t = gq__node_topic_find(node, req->topic);

	if (t == NULL || t->deleting) {
		snprintf(req->errmsg, sizeof(req->errmsg),
			 "unknown topic '%.200s'", req->topic);
		gq__req_complete(req, GQ_ENOTOPIC);
		return NULL;
	}
	if (req->partition < 0 || req->partition >= t->n_parts) {
		snprintf(req->errmsg, sizeof(req->errmsg),
			 "topic '%.200s' has no partition %d (it has %d)",
			 req->topic, req->partition, t->n_parts);
		gq__req_complete(req, GQ_ENOPARTITION);
		return NULL;
	}
	return t;
}

/* As target_topic(), and the partition must be open: otherwise the
 * request completes with @not_open. */
static struct gq__partition *
target(struct gq_node *node, struct gq__req *req, int not_open)
{
	struct gq__topic *t = target_topic(node, req);

	if (t == NULL)
		return NULL;
	if (t->parts[req->partition] == NULL) {
		int32_t leader = atomic_load(&t->routes[req->partition].leader);

		if (!gq__route_has(&t->routes[req->partition],
				   node->conf.node_id)) {
			/* No leader is known to forward to yet: the
			 * caller retries. */
			snprintf(req->errmsg, sizeof(req->errmsg),
				 "no replica of %.200s/%d on node %llu; its "
				 "leader is node %d",
				 req->topic, req->partition,
				 (unsigned long long)node->conf.node_id,
				 leader);
			not_open = GQ_ENOTLEADER;
		}
		gq__req_complete(req, not_open);
		return NULL;
	}
	return t->parts[req->partition];
}

void
gq__node_produce_here(struct gq_node *node, struct gq__req *req)
{
	struct gq__partition *p = target(node, req, GQ_ENOTREADY);

	if (p != NULL)
		gq__partition_enqueue(p, req);
}

/* Writes go to the partition's leader: here, or forwarded once to the
 * node that leads it. */
static void
dispatch_produce(struct gq_node *node, struct gq__req *req)
{
	struct gq__topic *t = target_topic(node, req);
	int32_t leader;

	if (t == NULL)
		return;
	leader = atomic_load(&t->routes[req->partition].leader);
	if (leader > 0 && (uint64_t)leader != node->conf.node_id) {
		gq__forward_produce(node, req, leader);
	} else if (leader <= 0 && t->parts[req->partition] == NULL &&
		   !gq__route_has(&t->routes[req->partition],
				  node->conf.node_id)) {
		/* The heartbeat answer names it soon. */
		if (req->ctl.deadline == 0)
			req->ctl.deadline = uv_now(node->loop) + LEADER_WAIT_MS;
		req->next = node->leaderless;
		node->leaderless = req;
	} else {
		gq__node_produce_here(node, req);
	}
}

/* Loop turn: produce requests whose leader was unknown try again, or
 * give up after LEADER_WAIT_MS. */
static void
retry_leaderless(struct gq_node *node)
{
	struct gq__req *req = node->leaderless;
	uint64_t now = uv_now(node->loop);

	node->leaderless = NULL;
	while (req != NULL) {
		struct gq__req *next = req->next;

		if (now >= req->ctl.deadline)
			gq__node_produce_here(node, req); /* says why */
		else
			dispatch_produce(node, req);
		req = next;
	}
}

static void
dispatch_commit(struct gq_node *node, struct gq__req *req)
{
	struct gq__topic *off = gq__node_topic_find(node, GQ__OFFSETS_TOPIC);
	int32_t part;

	/* The committed partition must exist; the commit itself goes to
	 * the offsets partition that owns the group. */
	if (target_topic(node, req) == NULL)
		return;
	if (off == NULL) {
		gq__req_complete(req, GQ_ENOTREADY);
		return;
	}
	part = gq__coord_partition(req->u.commit.group);
	if (off->parts[part] == NULL) {
		gq__req_complete(req, atomic_load(&off->routes[part].leader) > 0
					      ? GQ_ENOTLEADER
					      : GQ_ENOTREADY);
		return;
	}
	gq__partition_enqueue(off->parts[part], req);
}

static void
dispatch(struct gq_node *node, struct gq__req *req)
{
	struct gq__partition *p;

	if (node->remote != NULL && req->type != GQ__REQ_CLOSE) {
		gq__remote_dispatch(node->remote, req);
		return;
	}
	switch (req->type) {
	case GQ__REQ_PRODUCE:
		dispatch_produce(node, req);
		break;
	case GQ__REQ_GROUP_COMMIT:
		dispatch_commit(node, req);
		break;
	case GQ__REQ_TOPIC_CREATE:
	case GQ__REQ_TOPIC_DELETE:
	case GQ__REQ_TOPIC_ALTER:
	case GQ__REQ_PRODUCER_ID:
	case GQ__REQ_REASSIGN:
	case GQ__REQ_BROKER_REMOVE:
		gq__cluster_submit(node->cluster, req);
		break;
	case GQ__REQ_WAIT:
		if ((p = target(node, req, GQ_ETIMEDOUT)) != NULL)
			gq__partition_wait(p, req);
		break;
	case GQ__REQ_SYNC:
		if ((p = target(node, req, GQ_ENOTREADY)) != NULL)
			gq__partition_sync(p, req);
		break;
	case GQ__REQ_GROUP_STATE: /* the coordinator enqueues these itself */
		gq__req_complete(req, GQ_EINTERNAL);
		break;
	case GQ__REQ_GROUP:
		if (node->coord != NULL)
			gq__coord_dispatch(node->coord, req);
		else
			gq__req_complete(req, GQ_ENOTREADY);
		break;
	case GQ__REQ_STATS:
		gq__stats_collect(node, req);
		break;
	case GQ__REQ_METADATA: /* only remote nodes have these */
	case GQ__REQ_RFETCH:
		gq__req_complete(req, GQ_EINTERNAL);
		break;
	case GQ__REQ_CLOSE:
		node->close_req = req;
		start_close(node);
		break;
	}
}

static void
wake_cb(uv_async_t *h)
{
	struct gq_node *node = h->data;
	struct gq__req *req;

	pthread_mutex_lock(&node->queue_lock);
	req = node->queue_head;
	node->queue_head = node->queue_tail = NULL;
	pthread_mutex_unlock(&node->queue_lock);
	while (req != NULL) {
		struct gq__req *next = req->next;

		dispatch(node, req);
		req = next;
	}
	flush_dirty(node);
}

static void
poll_groups(struct gq_node *node)
{
	if (node->ctl != NULL)
		gq__controller_poll(node->ctl);
	if (node->cluster != NULL && node->ctl != NULL)
		gq__cluster_poll(node->cluster);
	retry_leaderless(node);
	/* A poll only starts raft_close(); groups leave the list later, from
	 * their close callbacks, so the walk is safe. */
	for (struct gq__rgroup *g = node->closing; g != NULL; g = g->close_next)
		gq__rgroup_poll(g);
	for (size_t i = 0; i < node->n_topics; i++) {
		struct gq__topic *t = node->topics[i];

		for (int32_t j = 0; j < t->n_parts; j++)
			if (t->parts[j] != NULL)
				gq__partition_poll(t->parts[j]);
		gq__topic_check_waiters(node, t);
	}
}

/* While starting: ready once the controller has a leader that has us
 * registered, the offsets topic exists and every partition with a replica
 * here knows its leader. */
static void
check_ready(struct gq_node *node)
{
	if (node->remote != NULL && node->open_status == 0) {
		node->open_status = gq__remote_start_status(node->remote,
							    node->open_errmsg);
		if (node->open_status == 0 && !gq__remote_ready(node->remote))
			return;
	}
	if (node->open_status != 0) {
		node->state = GQ__NODE_FAILED;
		if (node->open_waiter != NULL) {
			waiter_signal(node->open_waiter);
			node->open_waiter = NULL;
		}
		return;
	}
	if (node->remote != NULL) {
		node->state = GQ__NODE_READY;
		gq__log(node, GQ_LOG_INFO, "connected: %zu topics",
			node->n_topics);
		if (node->open_waiter != NULL) {
			waiter_signal(node->open_waiter);
			node->open_waiter = NULL;
		}
		return;
	}
	if (!gq__cluster_registered(node->cluster) ||
	    gq__node_topic_find(node, GQ__OFFSETS_TOPIC) == NULL)
		return;
	for (size_t i = 0; i < node->n_topics; i++) {
		struct gq__topic *t = node->topics[i];

		for (int32_t j = 0; j < t->n_parts; j++)
			if (t->parts[j] != NULL &&
			    atomic_load(&t->routes[j].leader) < 0)
				return;
	}
	node->state = GQ__NODE_READY;
	gq__log(node, GQ_LOG_INFO, "node %llu ready: %zu topics in %s",
		(unsigned long long)node->conf.node_id, node->n_topics,
		node->dir);
	if (node->open_waiter != NULL) {
		waiter_signal(node->open_waiter);
		node->open_waiter = NULL;
	}
}

void
gq__node_unmark_dirty(struct gq_node *node, struct gq__partition *p)
{
	for (size_t i = 0; i < node->n_dirty; i++) {
		if (node->dirty[i] == p)
			node->dirty[i--] = node->dirty[--node->n_dirty];
	}
}

/* ---- retention and flushing ------------------------------------------ */

static void
run_retention(struct gq_node *node)
{
	uint64_t total = 0;
	int64_t now = (int64_t)uv_now(node->loop);
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	for (size_t i = 0; i < node->n_topics; i++) {
		struct gq__topic *t = node->topics[i];

		for (int32_t j = 0; j < t->n_parts; j++) {
			struct gq__plog *pl;
			struct gq__plog_stats s;
			uint64_t freed = 0;
			MDB_txn *txn;
			int rv;

			if (t->parts[j] == NULL)
				continue;
			pl = gq__partition_plog(t->parts[j]);
			if ((rv = gq__store_begin(node->store, true, &txn)))
				return;
			rv = gq__plog_retain(pl, txn, now, &freed);
			if (rv == 0 && (rv = gq__store_commit(txn)) == 0) {
				gq__plog_commit(pl);
			} else {
				if (rv != 0 && txn != NULL)
					gq__store_abort(txn);
				gq__plog_abort(pl);
				gq__log(node, GQ_LOG_WARN,
					"retention of %s/%d failed: %s",
					t->name, j, gq_strerror(rv));
			}
			if (freed > 0)
				gq__log(node, GQ_LOG_INFO,
					"retention: %s/%d freed %llu bytes",
					t->name, j, (unsigned long long)freed);
			gq__plog_stats(pl, &s);
			total += s.size_bytes;
		}
	}
	/* Node-wide cap: drop the globally oldest segment until under it. */
	while (total > node->conf.max_storage_size) {
		struct gq__plog *oldest = NULL;
		int64_t oldest_ts = INT64_MAX;
		uint64_t freed = 0;
		MDB_txn *txn;

		for (size_t i = 0; i < node->n_topics; i++) {
			struct gq__topic *t = node->topics[i];

			for (int32_t j = 0; j < t->n_parts; j++) {
				struct gq__plog *pl;
				int64_t ts2;

				if (t->parts[j] == NULL)
					continue;
				pl = gq__partition_plog(t->parts[j]);
				ts2 = gq__plog_oldest_timestamp(pl);
				if (ts2 >= 0 && ts2 < oldest_ts) {
					oldest_ts = ts2;
					oldest = pl;
				}
			}
		}
		if (oldest == NULL ||
		    gq__store_begin(node->store, true, &txn) != 0)
			break;
		if (gq__plog_drop_oldest(oldest, txn, &freed) != 0 ||
		    gq__store_commit(txn) != 0) {
			gq__plog_abort(oldest);
			break;
		}
		gq__plog_commit(oldest);
		if (freed == 0)
			break;
		total -= freed < total ? freed : total;
	}
}

static void
cleanup_cb(uv_timer_t *h)
{
	struct gq_node *node = h->data;

	if (node->state == GQ__NODE_READY)
		run_retention(node);
}

static void
flush_cb(uv_timer_t *h)
{
	struct gq_node *node = h->data;

	/* A snapshot syncs segments and the index in the threadpool and lets
	 * Raft compact its log: that is the periodic flush. */
	for (size_t i = 0; i < node->n_topics; i++) {
		struct gq__topic *t = node->topics[i];

		for (int32_t j = 0; j < t->n_parts; j++)
			if (t->parts[j] != NULL)
				gq__partition_request_snapshot(t->parts[j]);
	}
}

static void
heartbeat_cb(uv_timer_t *h)
{
	struct gq_node *node = h->data;

	if (node->cluster != NULL && node->ctl != NULL)
		gq__cluster_tick(node->cluster);
}

/* ---- start and close ------------------------------------------------- */

static void
check_cb(uv_check_t *h)
{
	struct gq_node *node = h->data;

	poll_groups(node);
	flush_dirty(node);
	if (node->state == GQ__NODE_STARTING)
		check_ready(node);
	if (node->state == GQ__NODE_CLOSING && node->closing == NULL &&
	    node->ctl == NULL &&
	    (node->remote == NULL || !gq__remote_draining(node->remote)))
		finish_close(node);
}

/* Remove data directories of topics the controller no longer knows
 * (a delete interrupted by a crash). */
static void
remove_orphans(struct gq_node *node)
{
	char path[4200];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/data", node->dir);
	if ((d = opendir(path)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char name[GQ_NAME_MAX + 1];
		const char *dot = strrchr(e->d_name, '.');
		struct gq__topic *t;
		size_t len;

		if (e->d_name[0] == '.' || dot == NULL)
			continue;
		len = (size_t)(dot - e->d_name);
		if (len == 0 || len > GQ_NAME_MAX)
			continue;
		memcpy(name, e->d_name, len);
		name[len] = '\0';
		t = gq__node_topic_find(node, name);
		if (t != NULL && t->id == strtoul(dot + 1, NULL, 10))
			continue;
		if (gq__pathf(path, sizeof(path), "%s/data/%s", node->dir,
			      e->d_name) != 0)
			continue;
		gq__log(node, GQ_LOG_INFO, "removing leftover %s", path);
		gq__rm_rf(path);
	}
	closedir(d);
}

static void
start(struct gq_node *node)
{
	char errmsg[GQ_ERRMSG_SIZE] = "";
	int rv;

	if (node->remote != NULL) {
		gq__remote_start(node->remote);
		return;
	}
	rv = gq__hub_create(node->loop, node->conf.node_id,
			    node->conf.raft_address, &node->hub, errmsg);
	if (rv == 0)
		rv = gq__rpc_create(node->hub, gq__cluster_on_rpc, node,
				    &node->rpc);
	if (rv == 0)
		rv = gq__cluster_create(node, &node->cluster);
	if (rv == 0)
		rv = gq__coord_create(node, &node->coord);
	if (rv == 0)
		rv = gq__controller_open(node, &node->ctl, errmsg);
	if (rv != 0) {
		node->open_status = rv;
		snprintf(node->open_errmsg, sizeof(node->open_errmsg), "%s",
			 errmsg[0] ? errmsg : gq_strerror(rv));
		return;
	}
	remove_orphans(node);
	for (size_t i = 0; i < node->n_topics && node->open_status == 0; i++)
		gq__topic_open_partitions(node, node->topics[i]);
}

static void
node_handle_gone(struct gq_node *node)
{
	if (--node->open_handles > 0)
		return;
	/* Everything of ours is closed; on our own loop uv_run() returns
	 * now, on the caller's loop we free and report here. */
	if (node->close_req != NULL) {
		struct gq__req *req = node->close_req;

		node->close_req = NULL;
		gq__req_complete(req, 0);
	}
	if (!node->own_thread) {
		void (*cb)(void *) = node->close_cb;
		void *arg = node->close_arg;

		node_free(node);
		if (cb != NULL)
			cb(arg);
	}
}

static void
handle_closed(uv_handle_t *h)
{
	node_handle_gone(h->data);
}

static void
hub_closed(void *arg)
{
	node_handle_gone(arg);
}

static void
finish_close(struct gq_node *node)
{
	uv_handle_t *handles[] = {
		(uv_handle_t *)&node->wake,
		(uv_handle_t *)&node->check,
		(uv_handle_t *)&node->cleanup_timer,
		(uv_handle_t *)&node->flush_timer,
		(uv_handle_t *)&node->heartbeat_timer,
		(uv_handle_t *)&node->group_timer,
	};

	node->state = GQ__NODE_CLOSED;
	for (size_t i = 0; i < node->n_topics; i++)
		gq__topic_free(node->topics[i]);
	node->n_topics = 0;
	while (node->deleting != NULL) {
		struct gq__topic *t = node->deleting;

		node->deleting = t->next_deleting;
		gq__topic_free(t);
	}
	/* Set the count first: the hub may report closed at once. */
	node->open_handles = sizeof(handles) / sizeof(handles[0]) +
			     (node->hub != NULL) + (node->rpc != NULL) +
			     (node->remote != NULL);
	if (node->remote != NULL)
		gq__remote_close(node->remote, hub_closed, node);
	for (size_t i = 0; i < sizeof(handles) / sizeof(handles[0]); i++)
		uv_close(handles[i], handle_closed);
	if (node->rpc != NULL)
		gq__rpc_close(node->rpc, hub_closed, node);
	if (node->hub != NULL)
		gq__hub_close(node->hub, hub_closed, node);
}

static void
start_close(struct gq_node *node)
{
	struct gq__req *req;

	if (node->state == GQ__NODE_CLOSING || node->state == GQ__NODE_CLOSED)
		return;
	node->state = GQ__NODE_CLOSING;
	pthread_mutex_lock(&node->queue_lock);
	node->queue_closed = true;
	req = node->queue_head;
	node->queue_head = node->queue_tail = NULL;
	pthread_mutex_unlock(&node->queue_lock);
	while (req != NULL) {
		struct gq__req *next = req->next;

		if (req->type == GQ__REQ_CLOSE)
			node->close_req = req;
		else
			gq__req_complete(req, GQ_ECLOSED);
		req = next;
	}
	gq__req_complete_list(node->leaderless, GQ_ECLOSED);
	node->leaderless = NULL;
	if (node->remote != NULL)
		gq__remote_drain(node->remote);
	if (node->cluster != NULL)
		gq__cluster_close(node->cluster);
	gq__coord_stop(node->coord);
	uv_timer_stop(&node->cleanup_timer);
	uv_timer_stop(&node->flush_timer);
	uv_timer_stop(&node->heartbeat_timer);
	for (size_t i = 0; i < node->n_topics; i++) {
		struct gq__topic *t = node->topics[i];

		for (int32_t j = 0; j < t->n_parts; j++) {
			if (t->parts[j] != NULL) {
				gq__partition_close(t->parts[j], false);
				t->parts[j] = NULL;
			}
		}
		gq__req_complete_list(t->waiters, GQ_ECLOSED);
		t->waiters = NULL;
	}
	if (node->ctl != NULL) {
		gq__controller_close(node->ctl);
		node->ctl = NULL;
	}
}

static void
node_free(struct gq_node *node)
{
	gq__store_close(node->store);
	gq__dir_unlock(node->lock_fd);
	gq__free(node->topics);
	gq__free(node->brokers);
	gq__free(node->dirty);
	gq__cluster_free(node->cluster);
	gq__coord_free(node->coord);
	gq__remote_free(node->remote);
	pthread_rwlock_destroy(&node->meta_lock);
	pthread_mutex_destroy(&node->queue_lock);
	pthread_mutex_destroy(&node->log_lock);
	gq__free(node);
}

/* Check initial_cluster against the node's id and Raft address; the
 * address defaults to the node's entry in it.  A node not in it, with a
 * raft_address of its own, joins the cluster its members formed. */
static int
cluster_conf(struct gq_node *node, char *errmsg)
{
	struct gq__node_conf *c = &node->conf;
	const struct gq__peer *self = NULL;

	if (c->initial_cluster[0] == '\0')
		return 0;
	if (gq__peers_parse(c->initial_cluster, node->peers, &node->n_peers))
		return GQ_EINVAL; /* validated when set: not reached */
	for (size_t i = 0; i < node->n_peers; i++)
		if (node->peers[i].id == c->node_id)
			self = &node->peers[i];
	if (self == NULL) {
		/* Not one of the first voters: it joins the cluster they
		 * formed, at its own address. */
		if (c->raft_address[0] != '\0') {
			node->joining = true;
			return 0;
		}
		gq__errmsg_set(errmsg,
			       "node_id %llu is not in initial_cluster '%s': "
			       "set raft_address to join that cluster",
			       (unsigned long long)c->node_id,
			       c->initial_cluster);
		return GQ_EINVAL;
	}
	if (c->raft_address[0] == '\0') {
		snprintf(c->raft_address, sizeof(c->raft_address), "%s",
			 self->address);
	} else if (strcmp(c->raft_address, self->address) != 0) {
		gq__errmsg_set(errmsg,
			       "raft_address %s differs from node %llu's "
			       "entry in initial_cluster (%s)",
			       c->raft_address, (unsigned long long)c->node_id,
			       self->address);
		return GQ_EINVAL;
	}
	return 0;
}

/* The node object with its locks and configuration, nothing else. */
static int
node_alloc(const struct gq_config *config, struct gq_node **out, char *errmsg)
{
	struct gq_node *node;
	pthread_rwlockattr_t attr;
	int rv;

	if ((node = gq__calloc(1, sizeof(*node))) == NULL)
		return GQ_ENOMEM;
	node->opened_ms = gq__monotonic_ms();
	node->lock_fd = -1;
	pthread_mutex_init(&node->queue_lock, NULL);
	pthread_mutex_init(&node->log_lock, NULL);
	/* Writers (the loop) must not starve behind a stream of fetches. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(
		&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&node->meta_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	node->log_min = GQ_LOG_INFO;
	node->log_cb =
		gq__config_log_cb(config, &node->log_arg, &node->log_min);
	atomic_init(&node->controller_id, -1);
	if ((rv = gq__node_conf_from(config, &node->conf, errmsg)) != 0) {
		node_free(node);
		return rv;
	}
	*out = node;
	return 0;
}

/* Create the node object, lock the directory and open the index; nothing
 * runs yet. */
static int
node_create(const char *dir, const struct gq_config *config,
	    struct gq_node **out, char *errmsg)
{
	struct gq_node *node;
	char path[4200];
	int rv;

	if (dir == NULL || dir[0] == '\0' || strlen(dir) >= 3800) {
		gq__errmsg_set(errmsg, "invalid data directory");
		return GQ_EINVAL;
	}
	if ((rv = node_alloc(config, &node, errmsg)) != 0)
		return rv;
	snprintf(node->dir, sizeof(node->dir), "%s", dir);
	if ((rv = cluster_conf(node, errmsg)) != 0)
		goto err;
	if ((rv = gq__mkdirs(dir, errmsg)) != 0)
		goto err;
	snprintf(path, sizeof(path), "%s/data", dir);
	if ((rv = gq__mkdirs(path, errmsg)) != 0)
		goto err;
	if ((rv = gq__dir_lock(dir, errmsg)) < 0)
		goto err;
	node->lock_fd = rv;
	if ((rv = gq__store_open(dir, &node->store, errmsg)) != 0)
		goto err;
	*out = node;
	return 0;
err:
	node_free(node);
	return rv;
}

/* Initialise the node's handles on @loop and begin starting. */
static int
node_start_on(struct gq_node *node, uv_loop_t *loop)
{
	node->loop = loop;
	uv_async_init(loop, &node->wake, wake_cb);
	node->wake.data = node;
	uv_check_init(loop, &node->check);
	node->check.data = node;
	uv_check_start(&node->check, check_cb);
	uv_timer_init(loop, &node->cleanup_timer);
	node->cleanup_timer.data = node;
	uv_timer_start(&node->cleanup_timer, cleanup_cb,
		       (uint64_t)node->conf.cleanup_interval_ms,
		       (uint64_t)node->conf.cleanup_interval_ms);
	uv_timer_init(loop, &node->flush_timer);
	node->flush_timer.data = node;
	uv_timer_start(&node->flush_timer, flush_cb,
		       (uint64_t)node->conf.flush_interval_ms,
		       (uint64_t)node->conf.flush_interval_ms);
	uv_timer_init(loop, &node->heartbeat_timer);
	node->heartbeat_timer.data = node;
	uv_timer_start(&node->heartbeat_timer, heartbeat_cb, HEARTBEAT_MS,
		       HEARTBEAT_MS);
	uv_timer_init(loop, &node->group_timer);
	node->group_timer.data = node;
	start(node);
	/* The first check reports readiness or a failed start: make the loop
	 * turn now rather than at its first timer. */
	uv_async_send(&node->wake);
	return 0;
}

static void
loop_thread(void *arg)
{
	struct gq_node *node = arg;
	sigset_t pipe;

	/* A peer that closes its end makes writes raise SIGPIPE in the
	 * writing thread; blocked here, they fail with EPIPE instead and the
	 * application's handlers are left alone. */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);

	node_start_on(node, node->loop);
	uv_run(node->loop, UV_RUN_DEFAULT);
}

static int run_on_own_thread(struct gq_node *node, struct gq_node **out);

int
gq_node_open(const char *dir, const struct gq_config *config,
	     struct gq_node **out)
{
	char errmsg[GQ_ERRMSG_SIZE] = "";
	struct gq_node *node;
	int rv;

	if (out == NULL) {
		gq__node_set_errmsg(NULL, "out is NULL");
		return GQ_EINVAL;
	}
	if ((rv = node_create(dir, config, &node, errmsg)) != 0) {
		gq__node_set_errmsg(NULL, errmsg[0] ? errmsg : gq_strerror(rv));
		return rv;
	}
	return run_on_own_thread(node, out);
}

int
gq_node_connect(const char *bootstrap, const struct gq_config *config,
		struct gq_node **out)
{
	char errmsg[GQ_ERRMSG_SIZE] = "";
	struct gq_node *node = NULL;
	int rv;

	if (out == NULL) {
		gq__node_set_errmsg(NULL, "out is NULL");
		return GQ_EINVAL;
	}
	if ((rv = node_alloc(config, &node, errmsg)) != 0 ||
	    (rv = gq__remote_create(node, bootstrap, &node->remote, errmsg)) !=
		    0) {
		if (node != NULL)
			node_free(node);
		gq__node_set_errmsg(NULL, errmsg[0] ? errmsg : gq_strerror(rv));
		return rv;
	}
	return run_on_own_thread(node, out);
}

/* Start @node's loop thread and wait until it serves or failed to start;
 * on failure @node is gone. */
static int
run_on_own_thread(struct gq_node *node, struct gq_node **out)
{
	char errmsg[GQ_ERRMSG_SIZE] = "";
	struct gq__waiter w;
	int rv;

	if ((rv = uv_loop_init(&node->own_loop)) != 0) {
		node_free(node);
		gq__node_set_errmsg(NULL, "cannot create the event loop");
		return gq__err_from_uv(rv);
	}
	node->loop = &node->own_loop;
	node->own_thread = true;
	waiter_init(&w);
	node->open_waiter = &w;
	if ((rv = uv_thread_create(&node->thread, loop_thread, node)) != 0) {
		uv_loop_close(&node->own_loop);
		node_free(node);
		gq__node_set_errmsg(NULL, "cannot start the loop thread");
		return gq__err_from_uv(rv);
	}
	waiter_wait(&w);
	if (node->state != GQ__NODE_READY) {
		rv = node->open_status != 0 ? node->open_status : GQ_EINTERNAL;
		snprintf(errmsg, sizeof(errmsg), "%s", node->open_errmsg);
		gq_node_close(node);
		gq__node_set_errmsg(NULL, errmsg[0] ? errmsg : gq_strerror(rv));
		return rv;
	}
	*out = node;
	return 0;
}

int
gq_node_open_on_loop(const char *dir, const struct gq_config *config,
		     struct uv_loop_s *loop, struct gq_node **out)
{
	char errmsg[GQ_ERRMSG_SIZE] = "";
	struct gq_node *node;
	int rv;

	if (loop == NULL || out == NULL) {
		gq__node_set_errmsg(NULL, "loop or out is NULL");
		return GQ_EINVAL;
	}
	if ((rv = node_create(dir, config, &node, errmsg)) != 0) {
		gq__node_set_errmsg(NULL, errmsg[0] ? errmsg : gq_strerror(rv));
		return rv;
	}
	node->thread = uv_thread_self();
	node_start_on(node, loop);
	if (node->open_status != 0) {
		rv = node->open_status;
		gq__node_set_errmsg(NULL, node->open_errmsg);
		start_close(node);
		return rv;
	}
	*out = node;
	return 0;
}

bool
gq_node_ready(struct gq_node *node)
{
	return node != NULL && node->state == GQ__NODE_READY;
}

void
gq_node_close(struct gq_node *node)
{
	struct gq__req req;

	if (node == NULL)
		return;
	memset(&req, 0, sizeof(req));
	req.type = GQ__REQ_CLOSE;
	if (node->own_thread) {
		gq__node_call(node, &req);
		uv_thread_join(&node->thread);
		uv_loop_close(&node->own_loop);
		node_free(node);
		return;
	}
	gq__node_call(node, &req);
}

void
gq_node_close_async(struct gq_node *node, void (*cb)(void *arg), void *arg)
{
	if (node == NULL)
		return;
	node->close_cb = cb;
	node->close_arg = arg;
	start_close(node);
}

int
gq_version_number(void)
{
	return GQ_VERSION_NUMBER;
}
