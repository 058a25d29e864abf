/* SPDX-License-Identifier: MIT */
/*
 * rio.c - goqueue's raft_io (rio.h says why and what it guarantees): the
 * vtable, requests on disk through rlog.c completed in order, and the
 * lifecycle.  The connections to peers are in rio_net.c.
 */
#include "rio.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fsutil.h"
#include "heap.h"
#include "rio_int.h"

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
	/* From the request's address, not w->data: see rio->sync_gate. */
	struct rio *rio =
		(struct rio *)((char *)w - offsetof(struct rio, sync_work));

	(void)atomic_load_explicit(&rio->sync_gate, memory_order_acquire);
	atomic_store_explicit(&rio->sync_status, gq__rlog_sync_run(&rio->sync),
			      memory_order_release);
}

static void
sync_done(uv_work_t *w, int status)
{
	struct rio *rio = w->data;

	int rv = atomic_load_explicit(&rio->sync_status, memory_order_acquire);

	(void)status; /* the work is never canceled: it is always queued */
	rio->syncing = false;
	gq__rlog_sync_end(rio->log, &rio->sync, rv);
	if (rv != 0)
		rio->error = raft_code(rv);
	else
		rio->durable = rio->sync_upto;
	rio->n_live--;
	if (rio->closing) {
		gq__rio_maybe_closed(rio);
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
	atomic_store_explicit(&rio->sync_gate, 1, memory_order_release);
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
	atomic_int gate, status; /* release/acquire: see rio->sync_gate */
};

static void
work_run(uv_work_t *w)
{
	struct work *wk = (struct work *)((char *)w - offsetof(struct work, w));

	(void)atomic_load_explicit(&wk->gate, memory_order_acquire);
	atomic_store_explicit(&wk->status, wk->req->work(wk->req),
			      memory_order_release);
}

static void
work_done(uv_work_t *w, int status)
{
	struct work *wk = w->data;
	struct rio *rio = wk->rio;

	(void)status;
	wk->req->cb(wk->req,
		    atomic_load_explicit(&wk->status, memory_order_acquire));
	gq__free(wk);
	rio->n_live--;
	gq__rio_maybe_closed(rio);
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
	atomic_store_explicit(&wk->gate, 1, memory_order_release);
	if (uv_queue_work(rio->loop, &wk->w, work_run, work_done) != 0) {
		gq__free(wk);
		return RAFT_IOERR;
	}
	rio->n_live++;
	return 0;
}

/* --- lifecycle ----------------------------------------------------------- */

static void
tick_fired(uv_timer_t *t)
{
	struct rio *rio = t->data;

	rio->tick_cb(rio->io);
}

/* goqueue 0.1 stored Raft groups with raft_uv.  Opening such
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
	if ((rv = rio->t->listen(rio->t, gq__rio_accepted)) != 0)
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

/* Requests still waiting are canceled first, as raft_uv does. */
void
gq__rio_maybe_closed(struct rio *rio)
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
	gq__rio_maybe_closed(rio);
}

static void
transport_closed(struct raft_uv_transport *t)
{
	struct rio *rio = t->data;

	rio->n_live--;
	gq__rio_maybe_closed(rio);
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
	gq__rio_net_close(rio);
	/* Connections still being made are reported canceled before the
	 * transport says it closed. */
	rio->n_live++;
	rio->t->data = rio;
	rio->t->close(rio->t, transport_closed);
	rio->n_live--;
	gq__rio_maybe_closed(rio);
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
	io->send = gq__rio_send;
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
