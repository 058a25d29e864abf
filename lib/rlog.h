/* SPDX-License-Identifier: MIT */
/*
 * rlog.h - the persistent state of one Raft group in one directory: the
 * current term and vote, the entry log and the latest snapshot.  It
 * replaces raft_uv's storage (rio.h says why) and is used by rio.c only.
 *
 * Files in the directory (all integers little-endian):
 *
 *   meta   two 4 KiB slots, at offsets 0 and 4096, each
 *          "GQRMETA1" | u64 seq | u64 term | u64 vote | u32 crc32c(0..32)
 *          A write goes to the slot of the older sequence number and is
 *          fdatasync'ed, so a torn write leaves the previous value; the
 *          valid slot with the higher sequence number wins.
 *
 *   seg-%020llu  (first index) entries, a 16-byte file header
 *          "GQRLOG01" | u32 version (1) | u32 0
 *          then records, each a 32-byte header followed by its payload
 *          (no padding):
 *          u32 crc32c (header bytes 4..32 then payload) | u32 length |
 *          u64 index | u64 term | u8 type | 3 zero bytes |
 *          u32 crc32c (header bytes 4..28)
 *          The header's own CRC lets a reader trust the length before it
 *          reads the payload, so a bad length is told from a torn tail.
 *          Indexes are consecutive within and across segments; terms
 *          never decrease.
 *
 *   snap-%020llu-%020llu  (term, index) the snapshot:
 *          "GQRSNAP1" | u64 index | u64 term | u64 configuration_index |
 *          u32 conf length | conf (rconf.h) | u64 data length | data |
 *          u32 crc32c of everything before it
 *          Written as tmp-snap, synced, renamed, directory synced.
 *
 *   tmp-*  a snapshot being written; removed at open.
 *
 * Recovery at open: a bad record (short, CRC mismatch, index gap or
 * repeat, decreasing term) in the last segment is a torn write: the file is
 * cut there.  In an earlier segment it is corruption, except when the file
 * ends inside a record with a valid header, or is all zeros from a record
 * on: what a crash leaves when a later segment reached the disk before
 * this one's tail.  Then the file is cut and every later segment deleted,
 * since no sync ever covered them.  A log that does not hold the snapshot's
 * last entry with its term is the remains of a snapshot install cut short by a
 * crash, and is discarded.
 *
 * Durability: set_term, set_vote, truncate and snapshot_put are durable
 * when they return (they sync on the calling thread: all are rare).
 * Appends are written to the page cache only and made durable by the
 * sync_begin/run/end split, whose run step may go to a worker thread.
 *
 * Thread safety: one thread (the group's loop) calls everything except
 * gq__rlog_sync_run(), which may run on any thread while the loop goes on
 * calling the rest, including appends, truncate and snapshot_put.
 */
#ifndef GQ_RLOG_H
#define GQ_RLOG_H

#include <raft.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gq__rlog;

struct gq__rlog_opts {
	/* Roll to a new segment file once the current one holds this many
	 * bytes (e.g. 8 MiB).  0 means 8 MiB. */
	size_t segment_size;
};

/*
 * Open (creating @dir if missing) the state stored in @dir, checking every
 * record's CRC and repairing torn tails as described above.  @o is
 * borrowed.  On success *@out is the log, to free with gq__rlog_close().
 * @errmsg (GQ_ERRMSG_SIZE) gets the detail on failure.
 * Returns 0, GQ_ECORRUPT (the message names the file and offset), GQ_EIO,
 * GQ_ENOSPC, GQ_ENOMEM or GQ_EINVAL (path too long).
 */
int gq__rlog_open(const char *dir, const struct gq__rlog_opts *o,
		  struct gq__rlog **out, char *errmsg);

/* Close the files and free @l.  NULL is a no-op.  No sync may be running. */
void gq__rlog_close(struct gq__rlog *l);

/*
 * raft_io->load: read everything back from the files.  *@snapshot is NULL
 * or raft_malloc'd (struct, bufs array of one buffer, the buffer, and the
 * configuration: free with raft_configuration_close and raft_free).
 * *@entries is a raft_malloc'd array (NULL when empty) of every entry on
 * disk in index order, each buf raft_malloc'd (NULL when empty) with
 * batch NULL; *@start_index is the index of entries[0], or the snapshot
 * index + 1 (1 without snapshot) when there are none.  The caller owns
 * all of it.  Returns 0, GQ_ECORRUPT (the files changed since open),
 * GQ_EIO or GQ_ENOMEM; nothing is allocated on failure.
 */
int gq__rlog_load(struct gq__rlog *l, raft_term *term, raft_id *voted_for,
		  struct raft_snapshot **snapshot, raft_index *start_index,
		  struct raft_entry **entries, size_t *n_entries);

/* The current term and vote (0: none). */
raft_term gq__rlog_term(const struct gq__rlog *l);
raft_id gq__rlog_vote(const struct gq__rlog *l);

/* The last entry's index, or the snapshot's index when the log is empty,
 * or 0 when there is neither. */
raft_index gq__rlog_last_index(const struct gq__rlog *l);

/* The index of the first entry on disk, or 0 when the log is empty. */
raft_index gq__rlog_first_index(const struct gq__rlog *l);

/* The last index covered by a completed sync (or found at open). */
raft_index gq__rlog_durable_index(const struct gq__rlog *l);

/* Repairs made at open: torn tails cut, empty or stale segments removed,
 * a log discarded behind a snapshot.  Nothing else reports them. */
unsigned gq__rlog_repairs(const struct gq__rlog *l);

/* Set the term and reset the vote to 0, durably.  0, GQ_EIO, GQ_ENOSPC;
 * on failure the values in memory are unchanged. */
int gq__rlog_set_term(struct gq__rlog *l, raft_term term);

/* Record the vote for @id in the current term, durably.  As set_term. */
int gq__rlog_set_vote(struct gq__rlog *l, raft_id id);

/*
 * Append @n entries (borrowed: payloads are written straight from their
 * buffers) with indexes from @first_index, which must be last_index + 1.
 * Written to the page cache, not synced.  Returns 0, GQ_EINVAL (wrong
 * index, a payload over 4 GiB, a type of 0 or over 255, a term of 0),
 * GQ_ENOSPC, GQ_EIO or GQ_ENOMEM; on failure the log is as it was
 * (partial writes are cut away; if even that fails, every later append
 * fails with GQ_EIO).
 */
int gq__rlog_append(struct gq__rlog *l, raft_index first_index,
		    const struct raft_entry *entries, unsigned n);

/*
 * Delete every entry with index >= @index, durably.  An @index past the
 * last is a no-op; one below the first index on disk is GQ_EINVAL.
 * Returns 0, GQ_EINVAL, GQ_ECORRUPT (the segment's records changed since
 * open), GQ_EIO or GQ_ENOMEM.
 */
int gq__rlog_truncate(struct gq__rlog *l, raft_index index);

/*
 * Store @s (borrowed) durably and atomically, then remove older snapshots.
 * @trailing == 0: the log is replaced: every segment is deleted and
 * last_index becomes s->index.  @trailing > 0: only whole segments whose
 * last index is below s->index - @trailing are deleted.  Returns 0,
 * GQ_EINVAL (an address too long for the configuration encoding),
 * GQ_ENOSPC, GQ_EIO or GQ_ENOMEM; on failure the previous snapshot stays.
 */
int gq__rlog_snapshot_put(struct gq__rlog *l, const struct raft_snapshot *s,
			  unsigned trailing);

/* Read the snapshot back, allocated as in gq__rlog_load() (the caller
 * owns it).  0, GQ_EINVAL (there is none), GQ_ECORRUPT, GQ_EIO or
 * GQ_ENOMEM. */
int gq__rlog_snapshot_get(struct gq__rlog *l, struct raft_snapshot **out);

/* At most this many files in one sync (segments plus the directory);
 * append syncs an old segment itself rather than exceed it. */
#define GQ__RLOG_SYNC_MAX 8

/* One sync: caller-owned, filled by begin, emptied by end. */
struct gq__rlog_sync {
	int fds[GQ__RLOG_SYNC_MAX];         /* dups: segments, directory */
	raft_index segs[GQ__RLOG_SYNC_MAX]; /* each fd's segment (0: dir) */
	unsigned n;
	raft_index upto; /* last index written when it began */
	int err;         /* a dup failed: run returns this */
};

/* On the loop: note which files have unsynced writes (dup'ing their fds
 * into @s) and the last index they cover.  Never fails: a failure shows
 * in gq__rlog_sync_run()'s result.  One sync at a time per log. */
void gq__rlog_sync_begin(struct gq__rlog *l, struct gq__rlog_sync *s);

/* On any thread: fdatasync the files in @s.  0, GQ_EIO or GQ_ENOSPC.
 * Touches nothing but @s. */
int gq__rlog_sync_run(struct gq__rlog_sync *s);

/* On the loop: close @s's fds; with @status 0, advance the durable index
 * to what @s covered (minus what was truncated or replaced meanwhile);
 * otherwise the files count as unsynced again. */
void gq__rlog_sync_end(struct gq__rlog *l, struct gq__rlog_sync *s, int status);

#endif /* GQ_RLOG_H */
