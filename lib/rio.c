/* SPDX-License-Identifier: MIT */
/*
 * rio.c - goqueue's raft_io over rlog (disk) and rmsg (network); rio.h
 * says why and what it guarantees.
 */
#include "rio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fsutil.h"
#include "heap.h"
#include "rlog.h"
#include "rmsg.h"

/* Requests waiting to complete, in the order they were made. */
enum op_kind { OP_APPEND, OP_SNAPSHOT_PUT, OP_SNAPSHOT_GET };

struct op {
	enum op_kind kind;
	union {
		struct raft_io_append *append;
		struct raft_io_snapshot_put *put;
		struct raft_io_snapshot_get *get;
	} req;
	uint64_t seq; /* the write it waits for (0: none) */
	int status;   /* set when it failed before completing */
	struct op *next;
};

/* Messages for a peer queue here while its connection is being made; the
 * oldest are failed past this many, as raft_uv does, since raft resends
 * what matters (heartbeats, AppendEntries from the follower's index). */
#define MAX_QUEUED_SENDS 3

struct client;

struct send {
	struct client *c;
	struct raft_io_send *req;
	struct gq__rmsg_out out;
	uv_write_t write;
	struct send *next;
};

/* The connection to one peer; messages only flow this way on it. */
struct client {
	struct rio *rio;
	raft_id id;
	char *address;
	uv_stream_t *stream; /* NULL while not connected */
	struct raft_uv_connect connect;
	bool connecting;
	uv_timer_t retry;    /* before the next connection attempt */
	struct send *queued; /* while not connected, oldest first */
	unsigned n_queued;
	unsigned n_handles; /* stream and timer not yet closed */
	bool closing;
	struct client *next;
};

/* A connection from one peer. */
struct server {
	struct rio *rio;
	raft_id id;
	char *address;
	uv_stream_t *stream;
	struct gq__rmsg_reader reader;
	struct server *next;
};

struct rio {
	struct raft_io *io;
	uv_loop_t *loop;
	char *dir;
	struct raft_uv_transport *t;
	struct gq__rio_opts opts;
	raft_id id;
	struct gq__rlog *log;

	uv_timer_t tick;
	raft_io_tick_cb tick_cb;
	raft_io_recv_cb recv_cb;

	struct op *ops, **ops_tail;
	uint64_t written;    /* sequence of the last write to the log */
	uint64_t durable;    /* sequence of the last write known synced */
	uv_timer_t complete; /* completes ops on the next loop turn */

	bool syncing;
	uv_work_t sync_work;
	struct gq__rlog_sync sync;
	uint64_t sync_upto; /* `written` when the running sync began */
	int sync_status;
	int error; /* a sync failed: what the log holds is unknown */

	struct client *clients;
	struct server *servers;

	bool started, closing;
	raft_io_close_cb close_cb;
	/* Handles, work and connections that will still call back: the
	 * close callback waits until none is left. */
	unsigned n_live;
	uint64_t rand_state;
};

static void maybe_closed(struct rio *rio);

static int
raft_code(int err)
{
	switch (err) {
	case 0:
		return 0;
	case GQ_ENOMEM:
		return RAFT_NOMEM;
	case GQ_ENOSPC:
		return RAFT_NOSPACE;
	case GQ_ECORRUPT:
		return RAFT_CORRUPT;
	default:
		return RAFT_IOERR;
	}
}

/* --- completion of ordered requests ------------------------------------ */

static void complete_fired(uv_timer_t *t);

static void
complete_later(struct rio *rio)
{
	if (!uv_is_active((uv_handle_t *)&rio->complete))
		uv_timer_start(&rio->complete, complete_fired, 0, 0);
}

static void
run_op(struct rio *rio, struct op *op, int status)
{
	struct raft_snapshot *snap = NULL;

	switch (op->kind) {
	case OP_APPEND:
		op->req.append->cb(op->req.append, status);
		break;
	case OP_SNAPSHOT_PUT:
		op->req.put->cb(op->req.put, status);
		break;
	case OP_SNAPSHOT_GET:
		if (status == 0)
			status = raft_code(
				gq__rlog_snapshot_get(rio->log, &snap));
		op->req.get->cb(op->req.get, status == 0 ? snap : NULL, status);
		break;
	}
}

/* Complete, in order, every request whose write is durable (or needs no
 * sync); with @cancel every request, canceled. */
static void
complete_ops(struct rio *rio, bool cancel)
{
	struct op *op;

	while ((op = rio->ops) != NULL) {
		int status = op->status;

		if (cancel)
			status = RAFT_CANCELED;
		else if (status == 0 && rio->error != 0)
			status = rio->error;
		else if (status == 0 && op->seq > rio->durable)
			break;
		rio->ops = op->next;
		if (rio->ops == NULL)
			rio->ops_tail = &rio->ops;
		run_op(rio, op, status);
		gq__free(op);
	}
}

static void sync_start(struct rio *rio);

static void
complete_fired(uv_timer_t *t)
{
	struct rio *rio = t->data;

	if (!rio->opts.fsync)
		rio->durable = rio->written;
	complete_ops(rio, false);
	if (rio->opts.fsync && rio->durable < rio->written)
		sync_start(rio);
}

static void
sync_work(uv_work_t *w)
{
	struct rio *rio = w->data;

	rio->sync_status = gq__rlog_sync_run(&rio->sync);
}

static void
sync_done(uv_work_t *w, int status)
{
	struct rio *rio = w->data;

	(void)status; /* the work is never canceled: it is always queued */
	rio->syncing = false;
	gq__rlog_sync_end(rio->log, &rio->sync, rio->sync_status);
	if (rio->sync_status != 0)
		rio->error = raft_code(rio->sync_status);
	else
		rio->durable = rio->sync_upto;
	rio->n_live--;
	if (rio->closing) {
		maybe_closed(rio);
		return;
	}
	complete_ops(rio, false);
	if (rio->durable < rio->written && rio->error == 0)
		sync_start(rio);
}

/* One sync at a time: appends made while it runs wait for the next one,
 * which then covers all of them. */
static void
sync_start(struct rio *rio)
{
	if (rio->syncing || rio->closing)
		return;
	gq__rlog_sync_begin(rio->log, &rio->sync);
	rio->sync_upto = rio->written;
	rio->syncing = true;
	rio->sync_work.data = rio;
	rio->n_live++;
	if (uv_queue_work(rio->loop, &rio->sync_work, sync_work, sync_done) !=
	    0) {
		/* Only possible with a bad loop: fail what waits on it. */
		rio->n_live--;
		rio->syncing = false;
		gq__rlog_sync_end(rio->log, &rio->sync, GQ_EIO);
		rio->error = RAFT_IOERR;
		complete_later(rio);
	}
}

/* Allocated before the request touches the disk, so a request refused
 * for memory has changed nothing raft does not know about. */
static struct op *
op_new(enum op_kind kind, void *req)
{
	struct op *op = gq__calloc(1, sizeof(*op));

	if (op != NULL) {
		op->kind = kind;
		op->req.append = req; /* any member: they share storage */
	}
	return op;
}

static void
queue_op(struct rio *rio, struct op *op, uint64_t seq)
{
	op->seq = seq;
	*rio->ops_tail = op;
	rio->ops_tail = &op->next;
	if (!rio->opts.fsync || seq <= rio->durable)
		complete_later(rio);
	else
		sync_start(rio);
}

/* --- disk ---------------------------------------------------------------- */

static int
io_load(struct raft_io *io, raft_term *term, raft_id *voted_for,
	struct raft_snapshot **snapshot, raft_index *start_index,
	struct raft_entry *entries[], size_t *n_entries)
{
	struct rio *rio = io->impl;

	return raft_code(gq__rlog_load(rio->log, term, voted_for, snapshot,
				       start_index, entries, n_entries));
}

static int
io_set_term(struct raft_io *io, raft_term term)
{
	struct rio *rio = io->impl;

	return raft_code(gq__rlog_set_term(rio->log, term));
}

static int
io_set_vote(struct raft_io *io, raft_id server_id)
{
	struct rio *rio = io->impl;

	return raft_code(gq__rlog_set_vote(rio->log, server_id));
}

/* Write one configuration entry after the last and sync it at once:
 * bootstrap and recover run before the group starts. */
static int
append_configuration(struct rio *rio, raft_term term,
		     const struct raft_configuration *conf)
{
	struct gq__rlog_sync s;
	struct raft_entry e;
	int rv;

	memset(&e, 0, sizeof(e));
	e.term = term;
	e.type = RAFT_CHANGE;
	if ((rv = raft_configuration_encode(conf, &e.buf)) != 0)
		return rv;
	rv = gq__rlog_append(rio->log, gq__rlog_last_index(rio->log) + 1, &e,
			     1);
	raft_free(e.buf.base);
	if (rv != 0)
		return raft_code(rv);
	gq__rlog_sync_begin(rio->log, &s);
	rv = gq__rlog_sync_run(&s);
	gq__rlog_sync_end(rio->log, &s, rv);
	return raft_code(rv);
}

/* A bootstrap cut short (a crash, a failed allocation) must not leave a
 * group that counts as bootstrapped yet has no configuration: it could
 * never elect a leader.  So the entry goes first, the term after, and a
 * log that is empty, or holds an entry but no term yet, is bootstrapped
 * (again); only a group with both is refused as already bootstrapped. */
static int
io_bootstrap(struct raft_io *io, const struct raft_configuration *conf)
{
	struct rio *rio = io->impl;
	int rv;

	if (gq__rlog_last_index(rio->log) == 0) {
		if ((rv = append_configuration(rio, 1, conf)) != 0)
			return rv;
	} else if (gq__rlog_term(rio->log) != 0) {
		return RAFT_CANTBOOTSTRAP;
	}
	if (gq__rlog_term(rio->log) == 0)
		return raft_code(gq__rlog_set_term(rio->log, 1));
	return 0;
}

static int
io_recover(struct raft_io *io, const struct raft_configuration *conf)
{
	struct rio *rio = io->impl;

	return append_configuration(rio, gq__rlog_term(rio->log), conf);
}

static int
io_append(struct raft_io *io, struct raft_io_append *req,
	  const struct raft_entry entries[], unsigned n, raft_io_append_cb cb)
{
	struct rio *rio = io->impl;
	struct op *op;
	int rv;

	if (rio->error != 0)
		return rio->error;
	if ((op = op_new(OP_APPEND, req)) == NULL)
		return RAFT_NOMEM;
	req->cb = cb;
	rv = gq__rlog_append(rio->log, gq__rlog_last_index(rio->log) + 1,
			     entries, n);
	if (rv != 0) {
		gq__free(op);
		return raft_code(rv);
	}
	queue_op(rio, op, ++rio->written);
	return 0;
}

static int
io_truncate(struct raft_io *io, raft_index index)
{
	struct rio *rio = io->impl;
	int rv;

	/* Appends still waiting for their sync complete as they would have
	 * had the truncation waited for them: raft counts on that order. */
	if ((rv = gq__rlog_truncate(rio->log, index)) != 0)
		return raft_code(rv);
	rio->written++;
	return 0;
}

static int
io_snapshot_put(struct raft_io *io, unsigned trailing,
		struct raft_io_snapshot_put *req,
		const struct raft_snapshot *snapshot,
		raft_io_snapshot_put_cb cb)
{
	struct rio *rio = io->impl;
	struct op *op;
	int rv;

	if ((op = op_new(OP_SNAPSHOT_PUT, req)) == NULL)
		return RAFT_NOMEM;
	req->cb = cb;
	/* The snapshot itself is durable when this returns; its callback
	 * still waits behind the appends made before it. */
	if ((rv = gq__rlog_snapshot_put(rio->log, snapshot, trailing)) != 0) {
		gq__free(op);
		return raft_code(rv);
	}
	queue_op(rio, op, rio->written);
	return 0;
}

static int
io_snapshot_get(struct raft_io *io, struct raft_io_snapshot_get *req,
		raft_io_snapshot_get_cb cb)
{
	struct rio *rio = io->impl;
	struct op *op;

	if ((op = op_new(OP_SNAPSHOT_GET, req)) == NULL)
		return RAFT_NOMEM;
	req->cb = cb;
	queue_op(rio, op, 0);
	return 0;
}

/* --- async work (FSM snapshots) ------------------------------------------ */

struct work {
	struct rio *rio;
	struct raft_io_async_work *req;
	uv_work_t w;
	int status;
};

static void
work_run(uv_work_t *w)
{
	struct work *wk = w->data;

	wk->status = wk->req->work(wk->req);
}

static void
work_done(uv_work_t *w, int status)
{
	struct work *wk = w->data;
	struct rio *rio = wk->rio;

	(void)status;
	wk->req->cb(wk->req, wk->status);
	gq__free(wk);
	rio->n_live--;
	maybe_closed(rio);
}

static int
io_async_work(struct raft_io *io, struct raft_io_async_work *req,
	      raft_io_async_work_cb cb)
{
	struct rio *rio = io->impl;
	struct work *wk;

	if ((wk = gq__calloc(1, sizeof(*wk))) == NULL)
		return RAFT_NOMEM;
	req->cb = cb;
	wk->rio = rio;
	wk->req = req;
	wk->w.data = wk;
	if (uv_queue_work(rio->loop, &wk->w, work_run, work_done) != 0) {
		gq__free(wk);
		return RAFT_IOERR;
	}
	rio->n_live++;
	return 0;
}

/* --- sending ------------------------------------------------------------- */

static void client_connect(struct client *c);

static void
send_free(struct send *s)
{
	gq__rmsg_out_free(&s->out);
	gq__free(s);
}

static void
send_fail(struct send *s, int status)
{
	struct raft_io_send *req = s->req;

	send_free(s);
	if (req->cb != NULL)
		req->cb(req, status);
}

static void
client_maybe_free(struct client *c)
{
	if (!c->closing || c->n_handles > 0 || c->connecting)
		return;
	gq__free(c->address);
	gq__free(c);
}

static void
client_handle_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	struct rio *rio = c->rio;

	if (h != (uv_handle_t *)&c->retry)
		raft_free(h);
	c->n_handles--;
	client_maybe_free(c);
	rio->n_live--;
	maybe_closed(rio);
}

/* Drop the connection (a write failed or the peer went away); the next
 * send makes a new one. */
static void
client_disconnect(struct client *c)
{
	uv_stream_t *s = c->stream;

	if (s == NULL)
		return;
	c->stream = NULL;
	s->data = c;
	uv_close((uv_handle_t *)s, client_handle_closed);
}

static void
send_written(uv_write_t *w, int status)
{
	struct send *s = w->data;
	struct client *c = s->c;

	if (status != 0 && !c->closing && c->stream != NULL)
		client_disconnect(c);
	send_fail(s, status == 0              ? 0
		     : status == UV_ECANCELED ? RAFT_CANCELED
					      : RAFT_IOERR);
}

static int
send_write(struct client *c, struct send *s)
{
	s->c = c;
	s->write.data = s;
	if (uv_write(&s->write, c->stream, s->out.bufs, s->out.n,
		     send_written) != 0)
		return RAFT_IOERR;
	return 0;
}

static void retry_fired(uv_timer_t *t);

static void
client_connected(struct raft_uv_connect *req, uv_stream_t *stream, int status)
{
	struct client *c = req->data;
	struct send *s;

	c->connecting = false;
	if (status == 0) {
		c->n_handles++;
		c->rio->n_live++;
		c->stream = stream;
		stream->data = c;
	}
	if (c->closing) {
		client_disconnect(c);
		client_maybe_free(c);
		return;
	}
	if (status != 0) {
		/* Keep the newest few messages for the next attempt. */
		while (c->n_queued > MAX_QUEUED_SENDS) {
			s = c->queued;
			c->queued = s->next;
			c->n_queued--;
			send_fail(s, RAFT_NOCONNECTION);
		}
		uv_timer_start(&c->retry, retry_fired,
			       c->rio->opts.connect_retry_ms, 0);
		return;
	}
	while ((s = c->queued) != NULL) {
		c->queued = s->next;
		c->n_queued--;
		if (send_write(c, s) != 0)
			send_fail(s, RAFT_IOERR);
	}
}

static void
retry_fired(uv_timer_t *t)
{
	struct client *c = t->data;

	client_connect(c);
}

static void
client_connect(struct client *c)
{
	struct rio *rio = c->rio;

	if (c->connecting || c->stream != NULL ||
	    uv_is_active((uv_handle_t *)&c->retry))
		return;
	c->connect.data = c;
	c->connecting = true;
	if (rio->t->connect(rio->t, &c->connect, c->id, c->address,
			    client_connected) != 0) {
		c->connecting = false;
		uv_timer_start(&c->retry, retry_fired,
			       rio->opts.connect_retry_ms, 0);
	}
}

static void client_abort(struct client *c);

static struct client *
client_get(struct rio *rio, raft_id id, const char *address)
{
	struct client **pp, *c;

	for (pp = &rio->clients; (c = *pp) != NULL; pp = &c->next) {
		if (c->id != id)
			continue;
		if (strcmp(c->address, address) == 0)
			return c;
		/* The peer moved: start over with its new address. */
		*pp = c->next;
		client_abort(c);
		break;
	}
	if ((c = gq__calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->address = gq__strdup(address)) == NULL) {
		gq__free(c);
		return NULL;
	}
	c->rio = rio;
	c->id = id;
	uv_timer_init(rio->loop, &c->retry);
	c->retry.data = c;
	c->n_handles = 1;
	rio->n_live++;
	c->next = rio->clients;
	rio->clients = c;
	return c;
}

static int
io_send(struct raft_io *io, struct raft_io_send *req,
	const struct raft_message *message, raft_io_send_cb cb)
{
	struct rio *rio = io->impl;
	struct client *c;
	struct send *s, **pp;
	int rv;

	req->cb = cb;
	if ((s = gq__calloc(1, sizeof(*s))) == NULL)
		return RAFT_NOMEM;
	s->req = req;
	if ((rv = gq__rmsg_encode(message, &s->out)) != 0) {
		gq__free(s);
		return rv == GQ_ENOMEM ? RAFT_NOMEM : RAFT_MALFORMED;
	}
	if ((c = client_get(rio, message->server_id,
			    message->server_address)) == NULL) {
		send_free(s);
		return RAFT_NOMEM;
	}
	s->c = c;
	if (c->stream != NULL) {
		if ((rv = send_write(c, s)) != 0)
			send_free(s);
		return rv;
	}
	/* Queued in order until connected. */
	pp = &c->queued;
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = s;
	c->n_queued++;
	client_connect(c);
	return 0;
}

/* Close a client: its stream (writes in flight complete canceled), its
 * timer, and the messages still queued. */
static void
client_abort(struct client *c)
{
	struct send *s;

	c->closing = true;
	while ((s = c->queued) != NULL) {
		c->queued = s->next;
		send_fail(s, RAFT_CANCELED);
	}
	c->n_queued = 0;
	uv_close((uv_handle_t *)&c->retry, client_handle_closed);
	client_disconnect(c);
}

/* --- receiving ----------------------------------------------------------- */

static void
server_closed(uv_handle_t *h)
{
	struct server *s = h->data;
	struct rio *rio = s->rio;

	gq__rmsg_reader_close(&s->reader);
	raft_free(h);
	gq__free(s->address);
	gq__free(s);
	rio->n_live--;
	maybe_closed(rio);
}

static void
server_abort(struct server *s)
{
	struct rio *rio = s->rio;
	struct server **pp;

	for (pp = &rio->servers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	uv_close((uv_handle_t *)s->stream, server_closed);
}

static void
server_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct server *s = h->data;

	(void)suggested;
	gq__rmsg_reader_alloc(&s->reader, buf);
}

static void
server_deliver(void *arg, struct raft_message *m)
{
	struct server *s = arg;

	m->server_id = s->id;
	m->server_address = s->address;
	s->rio->recv_cb(s->rio->io, m);
}

static void
server_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
	struct server *s = stream->data;

	(void)buf;
	if (n == 0)
		return;
	if (n < 0 || gq__rmsg_reader_consume(&s->reader, (size_t)n,
					     server_deliver, s) != 0)
		server_abort(s);
}

static void
stream_free(uv_handle_t *h)
{
	raft_free(h);
}

static void
accepted(struct raft_uv_transport *t, raft_id id, const char *address,
	 uv_stream_t *stream)
{
	struct rio *rio = t->data;
	struct server *s;

	if (rio->closing || (s = gq__calloc(1, sizeof(*s))) == NULL)
		goto drop;
	if ((s->address = gq__strdup(address)) == NULL) {
		gq__free(s);
		goto drop;
	}
	s->rio = rio;
	s->id = id;
	s->stream = stream;
	stream->data = s;
	gq__rmsg_reader_init(&s->reader, rio->opts.max_message);
	rio->n_live++;
	s->next = rio->servers;
	rio->servers = s;
	if (uv_read_start(stream, server_alloc, server_read) != 0)
		server_abort(s);
	return;
drop:
	uv_close((uv_handle_t *)stream, stream_free);
}

/* --- lifecycle ----------------------------------------------------------- */

static void
tick_fired(uv_timer_t *t)
{
	struct rio *rio = t->data;

	rio->tick_cb(rio->io);
}

/* Earlier goqueue versions stored Raft groups with raft_uv.  Opening such
 * a directory as empty would forget the term and vote this replica gave,
 * which Raft's safety rests on, so it is refused with what to do. */
static int
refuse_raft_uv_dir(const char *dir, char *errmsg)
{
	char path[4096];
	struct stat st;
	bool found = false;

	for (int i = 1; i <= 2 && !found; i++)
		found = gq__pathf(path, sizeof(path), "%s/metadata%d", dir,
				  i) == 0 &&
			stat(path, &st) == 0;
	if (!found)
		return 0;
	snprintf(errmsg, RAFT_ERRMSG_BUF_SIZE,
		 "%s holds a Raft group in the raft_uv format of goqueue "
		 "0.1, which this version does not read: empty the "
		 "node's data directory and let it catch up from its replicas",
		 dir);
	return RAFT_CORRUPT;
}

static int
io_init(struct raft_io *io, raft_id id, const char *address)
{
	struct rio *rio = io->impl;
	struct gq__rlog_opts lo = { .segment_size = rio->opts.segment_size };
	char errmsg[GQ_ERRMSG_SIZE] = "";
	int rv;

	rio->id = id;
	if ((rv = refuse_raft_uv_dir(rio->dir, io->errmsg)) != 0)
		return rv;
	/* Election timeouts must differ between replicas, including
	 * replicas started at the same moment in one process. */
	rio->rand_state = (uint64_t)uv_hrtime() ^ (id * 0x9e3779b97f4a7c15ULL) ^
			  (uint64_t)(uintptr_t)rio;
	if (rio->rand_state == 0)
		rio->rand_state = 1;
	if ((rv = gq__rlog_open(rio->dir, &lo, &rio->log, errmsg)) != 0) {
		snprintf(io->errmsg, sizeof(io->errmsg), "%s", errmsg);
		return raft_code(rv);
	}
	if ((rv = rio->t->init(rio->t, id, address)) != 0) {
		gq__rlog_close(rio->log);
		rio->log = NULL;
		return rv;
	}
	return 0;
}

static int
io_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
	 raft_io_recv_cb recv)
{
	struct rio *rio = io->impl;
	int rv;

	rio->tick_cb = tick;
	rio->recv_cb = recv;
	rio->t->data = rio;
	if ((rv = rio->t->listen(rio->t, accepted)) != 0)
		return rv;
	/* The timers exist from here on only: a group that never started
	 * has no handle to close. */
	uv_timer_init(rio->loop, &rio->tick);
	rio->tick.data = rio;
	uv_timer_init(rio->loop, &rio->complete);
	rio->complete.data = rio;
	rio->n_live += 2;
	rio->started = true;
	uv_timer_start(&rio->tick, tick_fired, msecs, msecs);
	return 0;
}

static raft_time
io_time(struct raft_io *io)
{
	struct rio *rio = io->impl;

	return uv_now(rio->loop);
}

static int
io_random(struct raft_io *io, int min, int max)
{
	struct rio *rio = io->impl;
	uint64_t x = rio->rand_state;

	if (max <= min)
		return min;
	/* xorshift64*: per group, so no lock and no shared sequence. */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rio->rand_state = x;
	return min +
	       (int)((x * 0x2545f4914f6cdd1dULL >> 33) % (uint64_t)(max - min));
}

/* Report the close once nothing can call back any more; requests still
 * waiting are canceled first, as raft_uv does. */
static void
maybe_closed(struct rio *rio)
{
	raft_io_close_cb cb = rio->close_cb;

	if (!rio->closing || rio->n_live > 0 || cb == NULL)
		return;
	rio->close_cb = NULL;
	complete_ops(rio, true);
	if (rio->log != NULL) {
		gq__rlog_close(rio->log);
		rio->log = NULL;
	}
	cb(rio->io);
}

static void
timer_closed(uv_handle_t *h)
{
	struct rio *rio = h->data;

	rio->n_live--;
	maybe_closed(rio);
}

static void
transport_closed(struct raft_uv_transport *t)
{
	struct rio *rio = t->data;

	rio->n_live--;
	maybe_closed(rio);
}

static void
io_close(struct raft_io *io, raft_io_close_cb cb)
{
	struct rio *rio = io->impl;

	rio->closing = true;
	rio->close_cb = cb;
	/* Held until this function returns: raft's callback never runs
	 * inside io->close. */
	rio->n_live++;
	if (rio->started) {
		uv_close((uv_handle_t *)&rio->tick, timer_closed);
		uv_close((uv_handle_t *)&rio->complete, timer_closed);
	}
	while (rio->clients != NULL) {
		struct client *c = rio->clients;

		rio->clients = c->next;
		client_abort(c);
	}
	while (rio->servers != NULL)
		server_abort(rio->servers);
	/* Connections still being made are reported canceled before the
	 * transport says it closed. */
	rio->n_live++;
	rio->t->data = rio;
	rio->t->close(rio->t, transport_closed);
	rio->n_live--;
	maybe_closed(rio);
}

int
gq__rio_init(struct raft_io *io, uv_loop_t *loop, const char *dir,
	     struct raft_uv_transport *t, const struct gq__rio_opts *o)
{
	struct rio *rio;

	memset(io, 0, sizeof(*io));
	if ((rio = gq__calloc(1, sizeof(*rio))) == NULL)
		return RAFT_NOMEM;
	if ((rio->dir = gq__strdup(dir)) == NULL) {
		gq__free(rio);
		return RAFT_NOMEM;
	}
	rio->io = io;
	rio->loop = loop;
	rio->t = t;
	rio->opts = *o;
	rio->ops_tail = &rio->ops;
	io->version = 2;
	io->impl = rio;
	io->init = io_init;
	io->close = io_close;
	io->load = io_load;
	io->start = io_start;
	io->bootstrap = io_bootstrap;
	io->recover = io_recover;
	io->set_term = io_set_term;
	io->set_vote = io_set_vote;
	io->send = io_send;
	io->append = io_append;
	io->truncate = io_truncate;
	io->snapshot_put = io_snapshot_put;
	io->snapshot_get = io_snapshot_get;
	io->time = io_time;
	io->random = io_random;
	io->async_work = io_async_work;
	return 0;
}

void
gq__rio_close(struct raft_io *io)
{
	struct rio *rio = io->impl;

	if (rio == NULL)
		return;
	if (rio->log != NULL)
		gq__rlog_close(rio->log);
	gq__free(rio->dir);
	gq__free(rio);
	io->impl = NULL;
}
