/* SPDX-License-Identifier: MIT */
/*
 * plog.h - one partition's log: a directory of segment files holding Kafka
 * RecordBatch v2 blobs exactly as served, plus the partition's records in
 * the node's LMDB environment (store.h).  DESIGN.md section 4: the Raft log
 * is the write-ahead log, so an append writes into the page cache only and
 * records its index entries, the partition metadata and the Raft index it
 * applies in ONE LMDB write transaction owned by the caller; recovery
 * truncates segments back to what the index says and lowers the applied
 * index when it had to drop committed batches, so Raft replays them.
 *
 * On-disk formats (also in doc/storage.md).  All integers are big-endian.
 *
 * Segment files: <dir>/<base offset as %020" PRId64 ">.log, e.g.
 * 00000000000000001234.log, a plain concatenation of RecordBatch v2 blobs
 * (batch.h) with nothing between them; the file's name is the base offset
 * of its first batch.  A segment is never empty once committed.  Bytes 0-7
 * (base offset) and 12-15 (partition leader epoch) of each batch are the
 * ones the plog wrote; the rest is the producer's bytes.
 *
 * LMDB "offsets": one entry per stored batch.
 *   key (16 bytes):   0 be64 partition uid
 *                     8 be64 base offset of the batch
 *   value (56 bytes): 0 u8   version (1)
 *                     1 u8*3 reserved, zero
 *                     4 be32 batch length in bytes (12 + batchLength)
 *                     8 be64 segment base offset (the file it is in)
 *                    16 be64 position of the batch in that file
 *                    24 be64 last offset (base + lastOffsetDelta)
 *                    32 be64 max timestamp of this batch (two's complement)
 *                    40 be64 running max timestamp: the largest max
 *                        timestamp of this batch and every earlier one
 *                    48 be64 Raft index of the entry that appended it
 *
 * LMDB "times": an entry for each batch whose running max timestamp is
 * larger than the previous batch's (and for the first batch of the log).
 *   key (24 bytes):   0 be64 partition uid
 *                     8 be64 running max timestamp XOR 2^63 (so negative
 *                        timestamps sort first)
 *                    16 be64 base offset of the batch
 *   value: empty.
 *
 * LMDB "pmeta": the partition's metadata.
 *   key (8 bytes):    0 be64 partition uid
 *   value (32 bytes): 0 u8   version (1)
 *                     1 u8*7 reserved, zero
 *                     8 be64 log start offset (first stored offset)
 *                    16 be64 next offset (log end; next batch's base)
 *                    24 be64 applied Raft index
 * No pmeta entry means an empty new log (0, 0, 0).
 *
 * Invariants kept by every committed transaction: the offsets entries of a
 * partition cover [log start, next offset) without gaps, in segment order,
 * each segment's batches back to back from position 0; the first entry's
 * base is the log start; every segment file named by an entry exists and
 * is at least as long as its entries say.  Files with no entry are debris
 * of an uncommitted roll or of an unlink that did not happen, deleted at
 * open.
 *
 * Threading.  The node's loop thread calls every mutating function and
 * owns the write transaction.  gq__plog_read(), gq__plog_offset_for_time(),
 * gq__plog_sync(), gq__plog_log_start(), gq__plog_next_offset() and
 * gq__plog_stats() may run on any thread, concurrently with appends,
 * retention and close.  A mutex guards the segment list and the values
 * published by gq__plog_commit() (high watermark, log start, size);
 * segments are reference counted, so a segment deleted by retention keeps
 * its file descriptor open until the last reader drops it.  Readers only
 * ever read index entries below the published high watermark, so they
 * never see an uncommitted append.
 */
#ifndef GQ_PLOG_H
#define GQ_PLOG_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "store.h"

struct gq__plog;

/* Per-partition policy, copied by gq__plog_open() and gq__plog_set_conf(). */
struct gq__plog_conf {
	uint64_t segment_size;   /* roll when a segment would exceed it */
	int64_t retention_ms;    /* -1: keep forever */
	int64_t retention_bytes; /* -1: unlimited */
};

/* One batch to append, already validated by the caller (header + CRC). */
struct gq__plog_batch {
	/* Borrowed, never modified: the plog writes a patched copy of bytes
	 * 0-7 (base offset) and 12-15 (leader epoch) and the rest as is. */
	const uint8_t *data;
	size_t len;
	int64_t base_offset; /* out: the offset assigned */
};

/* What gq__plog_open() had to repair. */
struct gq__plog_recovery {
	uint64_t truncated_bytes; /* bytes cut from segments (torn tails and
				     dropped batches) */
	uint64_t dropped_batches; /* indexed batches dropped (bad or missing) */
	uint32_t removed_files;   /* unreferenced segment files deleted */
	bool repaired;            /* anything at all changed */
};

/* A consistent view for monitoring. */
struct gq__plog_stats {
	uint64_t size_bytes; /* committed bytes in all segments */
	uint32_t segments;
	int64_t log_start;
	int64_t next_offset;
};

/*
 * Open the log of partition @uid stored in @dir (created if missing; its
 * parent must exist) and recover it:
 *   - read its pmeta (none: a new empty log);
 *   - delete segment files no index entry references;
 *   - a segment referenced by the index but missing, or an index that does
 *     not match its pmeta, is GQ_ECORRUPT;
 *   - walk the last segment, and any segment whose file size differs from
 *     its indexed end, batch by batch (header, CRC, agreement with the
 *     index entry); at the first bad or missing batch, drop every batch of
 *     that batch's Raft entry and everything after (index and time index
 *     entries, file bytes, emptied segment files) and lower the applied
 *     index to that Raft index - 1, so the caller's Raft replay re-applies
 *     those entries (records the caller keeps for the same entries, e.g.
 *     producer state, must tolerate the replay);
 *   - cut bytes past the last indexed batch (a torn tail) without touching
 *     the applied index;
 *   - commit the repair in its own transaction, then change the files.
 * @param conf    Borrowed (copied).
 * @param out     On success the log, freed with gq__plog_close().
 * @param report  May be NULL; filled on success.
 * @param errmsg  GQ_ERRMSG_SIZE buffer (borrowed); says what and where.
 * @return 0, GQ_ECORRUPT, GQ_EIO, GQ_ENOSPC, GQ_ENOMEM, GQ_EINVAL.
 * Thread safety: loop thread, with no write transaction open.
 */
int gq__plog_open(struct gq__store *st, uint64_t uid, const char *dir,
		  const struct gq__plog_conf *conf, struct gq__plog **out,
		  struct gq__plog_recovery *report, char *errmsg);

/* Replace the policy; it applies to the next append or retention pass.
 * Loop thread. */
void gq__plog_set_conf(struct gq__plog *p, const struct gq__plog_conf *conf);

/*
 * Close and free @p; NULL is a no-op.  Reads, syncs and other any-thread
 * calls in progress are waited for (they are short: one bounded read);
 * any-thread calls that begin while close waits get GQ_ECLOSED.  The
 * caller must make sure no call begins after this returns (drain queued
 * work first).  An append or retention not yet committed is aborted.
 * Loop thread.
 */
void gq__plog_close(struct gq__plog *p);

/*
 * Append the @n batches at @b, in order, at the log end inside @txn:
 * assign base offsets from the next offset (each batch advances it by
 * lastOffsetDelta + 1; written to b[i].base_offset), roll to a new segment
 * when the active one would exceed segment_size (a batch bigger than that
 * gets a segment of its own), write the bytes with the patched base offset
 * and @leader_epoch, put index and time-index entries and the pmeta with
 * applied index @raft_index.  Several appends, retention passes and
 * gq__plog_set_applied() calls may share one transaction.  Afterwards call
 * gq__plog_commit() once the caller committed @txn, or gq__plog_abort() if
 * it aborted it.  On error the plog has already restored its files and
 * memory to the state of the last commit (a later gq__plog_abort() is a
 * harmless no-op) and the caller must abort @txn.
 * @return 0, GQ_EINVAL (a batch whose header or length does not parse, an
 * offset overflow, @raft_index below the applied index), GQ_EIO,
 * GQ_ENOSPC, GQ_ENOMEM, GQ_ECLOSED (after gq__plog_remove()).
 * Thread safety: loop thread.
 */
int gq__plog_append(struct gq__plog *p, MDB_txn *txn, struct gq__plog_batch *b,
		    size_t n, int32_t leader_epoch, uint64_t raft_index);

/*
 * Record inside @txn that Raft entry @raft_index was applied without an
 * append (a rejected produce, a no-op).  Same commit/abort rule as append.
 * @return 0, GQ_EINVAL (below the applied index), GQ_ENOSPC, GQ_EIO.
 * Loop thread.
 */
int gq__plog_set_applied(struct gq__plog *p, MDB_txn *txn, uint64_t raft_index);

/* The caller committed the transaction of the pending appends, retention
 * and set_applied calls: publish the new end and log start to readers and
 * unlink the files of deleted segments.  No-op if nothing is pending.
 * Loop thread. */
void gq__plog_commit(struct gq__plog *p);

/* The caller aborted that transaction: cut the files back, delete segments
 * the appends created, restore the in-memory state.  No-op if nothing is
 * pending.  Loop thread. */
void gq__plog_abort(struct gq__plog *p);

/* Last applied Raft index, including changes pending in the current
 * transaction (undone by gq__plog_abort()).  Loop thread. */
uint64_t gq__plog_applied_index(const struct gq__plog *p);

/* First offset stored, as of the last commit.  Any thread. */
int64_t gq__plog_log_start(struct gq__plog *p);

/* Committed end of the log (the high watermark), as of the last commit.
 * Any thread. */
int64_t gq__plog_next_offset(struct gq__plog *p);

/* Committed size, segment count, log start and end, read together.
 * Any thread. */
void gq__plog_stats(struct gq__plog *p, struct gq__plog_stats *out);

/*
 * Append to @out the stored batches starting with the one that contains
 * @offset, whole, up to @max_bytes in total but always at least one batch
 * when @offset is below the high watermark; the batches may come from
 * several segments.  Each batch's header and CRC are verified and its base
 * offset checked against the index.  *hw and *log_start receive the high
 * watermark and log start this read was made against (both may be NULL).
 * On error @out keeps its previous length.
 * @return 0 (possibly with no bytes when @offset is the high watermark),
 * GQ_EOFFSET (@offset below the log start, above the high watermark, or
 * deleted by retention while reading), GQ_ECORRUPT (errmsg names the file
 * and position, or the index entry), GQ_EIO, GQ_ENOMEM, GQ_EBUSY (LMDB
 * reader table full), GQ_ECLOSED (closing or removed).
 * Thread safety: any thread (blocking: use the threadpool).
 */
int gq__plog_read(struct gq__plog *p, int64_t offset, size_t max_bytes,
		  struct gq__buf *out, int64_t *hw, int64_t *log_start,
		  char *errmsg);

/*
 * Kafka ListOffsets by time: the base offset of the first batch at or after
 * the log start whose running max timestamp is >= @ts, or the high
 * watermark if there is none.
 * @return 0, GQ_ECORRUPT, GQ_EIO, GQ_EBUSY, GQ_ECLOSED.
 * Thread safety: any thread.
 */
int gq__plog_offset_for_time(struct gq__plog *p, int64_t ts, int64_t *out);

/*
 * fdatasync every segment written since the last sync, and the directory
 * if segments were created or deleted since then.  Runs in the threadpool
 * before a Raft snapshot, concurrently with appends; everything committed
 * before the call started is durable when it returns 0 (together with
 * gq__store_sync()).  After GQ_EIO the page cache may have dropped the
 * data: treat the partition's log as lost beyond its last snapshot.
 * @return 0, GQ_EIO, GQ_ENOSPC, GQ_ECLOSED.
 * Thread safety: any thread.
 */
int gq__plog_sync(struct gq__plog *p);

/*
 * Retention: inside @txn, delete whole segments from the oldest end, never
 * the active (last) one, while (a) the segment's max timestamp is older
 * than @now_ms - retention_ms, or (b) the partition is larger than
 * retention_bytes.  A segment's max timestamp is the running max timestamp
 * of its last batch (so batches without timestamps, -1, expire at once
 * when retention_ms is set).  Index entries, time-index entries and pmeta
 * change in @txn; files are unlinked at gq__plog_commit() (readers holding
 * a segment keep reading it).  *freed_bytes is the size deleted.
 * @return 0, GQ_ENOSPC, GQ_EIO, GQ_ECORRUPT, GQ_ENOMEM.  On error, abort
 * @txn and call gq__plog_abort().
 * Thread safety: loop thread.
 */
int gq__plog_retain(struct gq__plog *p, MDB_txn *txn, int64_t now_ms,
		    uint64_t *freed_bytes);

/*
 * Delete the oldest segment regardless of policy (node-wide storage
 * limit), as one retention step: 0 with *freed_bytes = 0 if only the
 * active segment remains.  Same errors and commit rule as retention.
 * Thread safety: loop thread.
 */
int gq__plog_drop_oldest(struct gq__plog *p, MDB_txn *txn,
			 uint64_t *freed_bytes);

/*
 * Restart the log at @offset, at or past its end: inside @txn every batch
 * is deleted, and the next append starts a new segment at @offset.  For a
 * replica whose missing range no replica holds any more (retention
 * deleted it): like a Kafka follower behind its leader's log start, it
 * continues from where the source's log starts.  Same commit rule as
 * retention.  0, GQ_EINVAL (@offset below the end), GQ_ECLOSED,
 * GQ_ENOSPC, GQ_EIO.  Loop thread.
 */
int gq__plog_restart_at(struct gq__plog *p, MDB_txn *txn, int64_t offset);

/* Max timestamp of the segment gq__plog_drop_oldest() would delete, so the
 * node can pick the partition holding the oldest data; INT64_MAX if only
 * the active segment remains.  Loop thread. */
int64_t gq__plog_oldest_timestamp(struct gq__plog *p);

/*
 * Delete every LMDB record of the partition (index, time index, pmeta)
 * inside @txn.  After the caller commits, call gq__plog_remove_files() and
 * then gq__plog_close(); if it aborts, gq__plog_abort() cancels.  Appends
 * fail with GQ_ECLOSED from here on.
 * @return 0, GQ_ENOSPC, GQ_EIO.  Loop thread.
 */
int gq__plog_remove(struct gq__plog *p, MDB_txn *txn);

/*
 * Unlink every segment file (referenced or not) and the directory.  Reads
 * from now on get GQ_ECLOSED; readers already holding a segment finish
 * with it.  @return 0 or GQ_EIO (something could not be deleted; retrying
 * is safe).  Loop thread.
 */
int gq__plog_remove_files(struct gq__plog *p);

/*
 * Offline verification (plog_verify.c), for gqctl check-store: a read-only
 * pass over a stopped node's partition logs that reports every problem it
 * finds instead of repairing the first one.  Repairing is gq__plog_open()'s
 * job; the verifier judges batches with the same walk, so what it calls a
 * bad batch is what recovery would drop.
 */

/* What is wrong.  The names are stable (gq__plog_problem_name()). */
enum gq__plog_problem_kind {
	GQ__PLOG_BAD_PMETA,       /* pmeta record undecodable or out of range,
				     or absent while the index has entries */
	GQ__PLOG_BAD_ENTRY,       /* an offsets record that does not decode */
	GQ__PLOG_INDEX_GAP,       /* entries not contiguous from the log start
				     to the next offset */
	GQ__PLOG_INDEX_ORDER,     /* segments or positions out of order, a
				     segment not starting at its first batch,
				     Raft indexes falling or above the
				     applied index, running max timestamp
				     wrong */
	GQ__PLOG_MISSING_SEGMENT, /* referenced by the index, no file */
	GQ__PLOG_EXTRA_SEGMENT,   /* a segment file no entry references */
	GQ__PLOG_SHORT_SEGMENT,   /* the file ends before its indexed end */
	GQ__PLOG_TORN_TAIL,       /* bytes past the indexed end */
	GQ__PLOG_BAD_HEADER,      /* a batch header that does not parse */
	GQ__PLOG_BAD_CRC,         /* a batch whose CRC-32C does not match */
	GQ__PLOG_BATCH_MISMATCH,  /* a valid batch other than the one its
				     entry describes */
	GQ__PLOG_TIME_INDEX,      /* a time-index entry missing or extra */
};

/* One problem, lent to the callback for the duration of the call. */
struct gq__plog_problem {
	enum gq__plog_problem_kind kind;
	int64_t segment;   /* base offset naming the segment file, or -1 */
	int64_t offset;    /* base offset of the batch concerned, or -1 */
	uint64_t position; /* byte position in the segment, or UINT64_MAX */
	char detail[200];  /* one line, without the partition or file */
};

typedef void (*gq__plog_problem_cb)(void *arg,
				    const struct gq__plog_problem *pr);

/* What gq__plog_verify() looked at. */
struct gq__plog_verify_report {
	int64_t log_start;      /* from pmeta (0 when absent) */
	int64_t next_offset;    /* from pmeta */
	uint64_t applied;       /* from pmeta */
	uint32_t segments;      /* segments the index references */
	uint64_t batches;       /* index entries */
	uint64_t bytes;         /* bytes the entries cover */
	uint64_t problems;      /* calls made to the callback */
	uint64_t short_batches; /* entries past their file's end (reported
				   once per segment) */
};

/*
 * Check partition @uid's records in @st against the segment files in @dir
 * (its "segments" directory; a missing directory counts as one with no
 * files), changing nothing: pmeta; every offsets entry (decodes, contiguous
 * from the log start to the next offset, in segment and position order,
 * each segment starting at its first batch, Raft indexes not falling and
 * not above the applied index, running max timestamps right); every batch
 * read at the position its entry gives (header, CRC-32C, agreement with
 * the entry); each file's size against its indexed end; files no entry
 * references; the time index against the entries.  Each problem goes to
 * @cb (may be NULL) as it is found.
 * @param out     Filled on success.
 * @param errmsg  GQ_ERRMSG_SIZE buffer (borrowed): why the check could not
 *                be made.
 * @return 0 whatever was found, or GQ_EIO, GQ_ENOMEM, GQ_EBUSY (the check
 * could not be made).
 * Thread safety: any thread, one read transaction; nothing may write the
 * partition meanwhile (the caller holds the data directory's lock).
 */
int gq__plog_verify(struct gq__store *st, uint64_t uid, const char *dir,
		    gq__plog_problem_cb cb, void *arg,
		    struct gq__plog_verify_report *out, char *errmsg);

/*
 * Every partition uid that has a record in @st's offsets, times or pmeta
 * database, ascending, in *out (freed with gq__free(); NULL when none) and
 * their number in *n.  Finds records left without a directory.
 * @return 0, GQ_ENOMEM, GQ_EBUSY, GQ_EIO.
 * Thread safety: any thread.
 */
int gq__plog_list_uids(struct gq__store *st, uint64_t **out, size_t *n);

/* The stable lower-case name of @kind ("bad_crc", ...). */
const char *gq__plog_problem_name(enum gq__plog_problem_kind kind);

#endif /* GQ_PLOG_H */
