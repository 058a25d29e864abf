/* SPDX-License-Identifier: MIT */
/*
 * rlog_int.h - what rlog.c (writing: metadata, appends, truncation,
 * snapshots, syncs) and rlog_open.c (reading: recovery at open, load,
 * snapshot reads) share: the in-memory state and a few file helpers.
 * Formats and rules are in rlog.h.
 *
 * In memory the log keeps only per-segment metadata: first and last index,
 * size, an fd while the segment is the active one or has unsynced writes,
 * and whether it has any.  Payloads are never kept: raft holds them.
 *
 * Invariants: segs[] is sorted and contiguous (segs[i + 1].first ==
 * segs[i].last + 1), every listed segment holds at least one record, and
 * each segment's size is the end of its last valid record, which is where
 * the next append goes; `last` is the last entry's index, or the snapshot
 * index when the log is empty.
 */
#ifndef GQ_RLOG_INT_H
#define GQ_RLOG_INT_H

#include "rlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "error.h"

#define META_FILE   "meta"
#define META_MAGIC  "GQRMETA1"
#define META_SLOT   4096
#define META_LEN    36
#define SEG_MAGIC   "GQRLOG01"
#define SEG_VERSION 1
#define SEG_HDR     16
#define REC_HDR     32
#define SNAP_MAGIC  "GQRSNAP1"
#define SNAP_TMP    "tmp-snap"
#define NAME_SIZE   64
/* Entries per pwritev: two iovecs each, well under IOV_MAX. */
#define BATCH 64

struct seg {
	raft_index first;
	raft_index last;
	uint64_t size; /* bytes of valid records, file header included */
	int fd;        /* -1 unless active or dirty */
	bool dirty;    /* written since the last sync began */
};

struct gq__rlog {
	char *dir;
	int dirfd;
	int metafd;
	size_t segment_size;
	raft_term term;
	raft_id vote;
	uint64_t meta_seq;
	bool has_snap;
	raft_index snap_index;
	raft_term snap_term;
	struct seg *segs;
	size_t n;
	size_t cap;
	raft_index last;
	raft_index durable;
	raft_index sync_limit; /* cap on what the running sync may claim */
	bool dir_dirty;        /* entries created or removed since a sync */
	int broken;            /* an append could not be undone */
	unsigned repairs;
	bool old_snaps; /* open found snapshots older than the newest */
};

/* The outcome of walking one segment's bytes. */
struct walk {
	raft_index first;       /* expected first index */
	raft_term min_term;     /* terms may not go below this */
	struct raft_entry *out; /* where to copy entries, or NULL */
	/* Results: */
	uint64_t good;   /* end of the last valid record (0: bad header) */
	raft_index last; /* last valid index (first - 1 if none) */
	raft_term last_term;
	raft_index probe;     /* find this index's term... */
	raft_term probe_term; /* ...here (0: not found) */
	const char *why;      /* NULL when the whole file is valid */
	bool tear;            /* the bad part is short or all zeros */
	size_t copied;        /* entries placed in out */
};

/* File names, and errno turned into a GQ code (EIO when unset). */
static inline void
seg_name(char *out, raft_index first)
{
	snprintf(out, NAME_SIZE, "seg-%020llu", (unsigned long long)first);
}

static inline void
snap_name(char *out, raft_term term, raft_index index)
{
	snprintf(out, NAME_SIZE, "snap-%020llu-%020llu",
		 (unsigned long long)term, (unsigned long long)index);
}

static inline int
errno_code(void)
{
	return errno == 0 ? GQ_EIO : gq__err_from_errno(errno);
}

static inline int
datasync(int fd)
{
	return fdatasync(fd) != 0 ? errno_code() : 0;
}

static inline int
open_at(struct gq__rlog *l, const char *name, int flags)
{
	int fd;

	do
		fd = openat(l->dirfd, name, flags | O_CLOEXEC, 0644);
	while (fd < 0 && errno == EINTR);
	return fd;
}

static inline void
seg_close(struct seg *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static inline raft_index
tail_last(const struct gq__rlog *l)
{
	return l->n > 0 ? l->segs[l->n - 1].last : l->snap_index;
}

/* pread exactly @len bytes at @off: 0, GQ_ECORRUPT (the file is shorter)
 * or the errno's code. */
int gq__rlog_read_all(int fd, void *buf, size_t len, uint64_t off);

/* fsync the directory and clear dir_dirty. */
int gq__rlog_dir_sync(struct gq__rlog *l);

/* @s's fd, opened read-write if it was closed; or a negative code. */
int gq__rlog_seg_fd(struct gq__rlog *l, struct seg *s);

/* Close and delete segments [from, n) (not synced: sets dir_dirty). */
int gq__rlog_drop_segs(struct gq__rlog *l, size_t from);

/* Add an empty segment starting at @first to the list (no file). */
int gq__rlog_seg_push(struct gq__rlog *l, raft_index first);

#endif /* GQ_RLOG_INT_H */
