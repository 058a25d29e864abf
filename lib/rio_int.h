/* SPDX-License-Identifier: MIT */
/*
 * rio_int.h - what rio.c (storage, ordering, lifecycle) and rio_net.c
 * (the connections to and from peers) share.
 */
#ifndef GQ_RIO_INT_H
#define GQ_RIO_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "rio.h"
#include "rlog.h"

struct op;
struct client;
struct server;

struct rio {
	struct raft_io *io;
	uv_loop_t *loop;
	char *dir;
	struct raft_uv_transport *t;
	struct gq__rio_opts opts;
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
	/* The sync's hand-over to the worker and back, each a release
	 * store read with acquire: libuv's own locking is invisible to
	 * ThreadSanitizer (uninstrumented), these edges are not, and they
	 * order everything written before them. */
	atomic_int sync_gate;
	atomic_int sync_status;
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

/* Report the close to raft once nothing can call back any more. */
void gq__rio_maybe_closed(struct rio *rio);

/* raft_io->send. */
int gq__rio_send(struct raft_io *io, struct raft_io_send *req,
		 const struct raft_message *message, raft_io_send_cb cb);

/* The transport's accept callback: a peer's stream for this group. */
void gq__rio_accepted(struct raft_uv_transport *t, raft_id id,
		      const char *address, uv_stream_t *stream);

/* Close every connection; messages in flight complete canceled. */
void gq__rio_net_close(struct rio *rio);

#endif /* GQ_RIO_INT_H */
