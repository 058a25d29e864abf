/* SPDX-License-Identifier: MIT */
/*
 * rio.h - goqueue's own raft_io: the storage and messaging libraft 0.15
 * runs on, in place of raft_uv (DESIGN.md section 5).
 *
 * Why not raft_uv: it checksums every byte with a byte-wise CRC-32 on the
 * loop thread (a quarter of a broker's CPU under load, measured), writes
 * only with O_DSYNC, preallocates three 8 MiB segments per group, and its
 * entry encoding corrupts entries whose length is not a multiple of 8.
 *
 * rio keeps the same division of labour:
 *   - disk: rlog.c (term and vote, entry segments with CRC-32C records,
 *     snapshots).  Entries are written to the page cache at once; with
 *     `fsync` on, an append completes only after an fdatasync in the libuv
 *     threadpool covered it, one sync at a time per group so appends that
 *     arrive meanwhile share the next one (group commit).  With `fsync`
 *     off an append completes on the next loop turn: acknowledged data then
 *     survives any process crash, and a machine crash as long as a majority
 *     of replicas' page caches survive, as with Kafka's default flush.
 *   - network: rmsg.c frames (CRC-32C checked) over the streams of the
 *     group's raft_uv_transport (transport.c: one port per node).
 *
 * Requests complete in the order they were made (appends, snapshot puts
 * and gets share one queue), which is the order raft_uv completes them in
 * and the order libraft 0.15 expects.
 */
#ifndef GQ_RIO_H
#define GQ_RIO_H

#include <raft.h>
#include <raft/uv.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct gq__rio_opts {
	size_t segment_size;       /* roll the log to a new file past this */
	bool fsync;                /* fdatasync before an append completes */
	unsigned connect_retry_ms; /* after a failed connection to a peer */
	size_t max_message;        /* largest message payload accepted */
};

/* Prepare @io for a group stored in @dir, talking through @t (set up by
 * gq__transport_init()).  Nothing is opened before raft_init() calls
 * io->init.  0 or RAFT_NOMEM (a raft code: raft is the caller of the
 * vtable).  Free with gq__rio_close() after raft's close callback ran, or
 * after a failed raft_init(). */
int gq__rio_init(struct raft_io *io, uv_loop_t *loop, const char *dir,
		 struct raft_uv_transport *t, const struct gq__rio_opts *o);

/* Release what gq__rio_init() and io->init allocated. */
void gq__rio_close(struct raft_io *io);

#endif /* GQ_RIO_H */
