/* SPDX-License-Identifier: MIT */
/*
 * plog_int.h - the private side of the partition log, shared by its parts:
 * plog.c (record encoding, index cursors, segment files, append, commit,
 * abort, retention, removal, close), plog_read.c (the calls any thread may
 * make: reads, time lookups, sync, published values), plog_recover.c
 * (open and recovery, and the batch walk both use) and plog_verify.c (the
 * read-only check behind gqctl check-store).  Formats are in plog.h and
 * doc/storage.md.  Only plog*.c include this header, so its short names stay
 * inside the module.
 *
 * State comes in two copies.  The loop thread's working copy (next_offset,
 * log_start, applied, segment sizes) includes the changes of the pending
 * transaction; `saved` holds what the last commit left, so an abort can
 * restore it.  Readers on other threads see only what gq__plog_commit()
 * published under `lock`: the high watermark, the log start, the size.
 *
 * Invariants, kept by all the parts:
 *   - p->segs is sorted by base offset and only the loop thread changes it,
 *     always under `lock`; other threads look segments up under `lock` and
 *     take a reference, so a segment's fd stays open until its last holder
 *     drops it even after retention or an abort took it off the list;
 *   - readers read only index entries below the published high watermark,
 *     so bytes of an uncommitted append are never returned;
 *   - writes are positional (pwritev at the segment's working size), never
 *     O_APPEND: bytes left past the working size by a failed ftruncate are
 *     simply overwritten later, and recovery cuts them if the node stops
 *     first.  That is why an abort cannot fail;
 *   - segments deleted by a pending retention stay on the list (marked
 *     doomed) until the commit, so readers of the old state keep working.
 */
#ifndef GQ_PLOG_INT_H
#define GQ_PLOG_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "plog.h"

#define ENTRY_VERSION 1
#define ENTRY_SIZE    56
#define PMETA_VERSION 1
#define PMETA_SIZE    32
#define OKEY_SIZE     16
#define TKEY_SIZE     24
#define NAME_DIGITS   20
#define NAME_SIZE     (NAME_DIGITS + sizeof(".log")) /* with the NUL */

/* A positive "no such entry" result of the cursor helpers (errors are
 * negative GQ_E* codes). */
#define NOTFOUND 1

#define ERRMSG(buf, ...)                                    \
	do {                                                \
		if ((buf) != NULL)                          \
			gq__errmsg_set((buf), __VA_ARGS__); \
	} while (0)

/* One decoded offsets entry. */
struct entry {
	int64_t base;
	uint32_t len;
	int64_t seg;
	uint64_t pos;
	int64_t last;
	int64_t max_ts;
	int64_t run_max;
	uint64_t raft_index;
};

struct segment {
	int64_t base;
	int fd;
	unsigned refs;        /* lock: 1 for the list, 1 per other holder */
	bool unsynced;        /* lock: written since the last sync */
	uint64_t size;        /* loop: working size (indexed end) */
	int64_t max_ts;       /* loop: running max ts of its last batch */
	bool doomed;          /* loop: deleted by the pending transaction */
	struct segment *next; /* reap list while closing fds */
};

/* What the last commit left, for gq__plog_abort(). */
struct saved {
	int64_t next_offset;
	int64_t log_start;
	uint64_t applied;
	int64_t run_max;
	bool have_run_max;
	size_t nsegs;
	uint64_t last_size;
	int64_t last_max_ts;
};

struct gq__plog {
	struct gq__store *st;
	uint64_t uid;
	char *dir;
	int dirfd;
	struct gq__plog_conf conf;

	/* Loop thread: the working state. */
	int64_t next_offset;
	int64_t log_start;
	uint64_t applied;
	int64_t run_max; /* running max timestamp at the log end */
	bool have_run_max;
	bool pending;   /* changes not yet committed or aborted */
	bool removed;   /* gq__plog_remove() called */
	size_t ndoomed; /* leading segments doomed by the pending txn */
	struct saved saved;

	pthread_mutex_t lock;
	pthread_cond_t idle;
	/* Changed by the loop thread under lock; read by others under it. */
	struct segment **segs;
	size_t nsegs;
	size_t cap;
	/* Guarded by lock. */
	int64_t hw;
	int64_t pub_start;
	int64_t lost_below; /* offsets below may vanish (pending retention) */
	uint64_t pub_size;
	uint32_t pub_nsegs;
	unsigned users; /* any-thread calls in progress */
	bool closing;
	bool gone;     /* files removed */
	bool removing; /* LMDB records being removed */
	bool dir_unsynced;
};

/*
 * Index records (plog.c).
 */

/* Fill @k with the times key of (@uid, running max @ts, batch @base). */
void gq__plog_tkey(uint8_t k[TKEY_SIZE], uint64_t uid, int64_t ts,
		   int64_t base);

/* Put @p's pmeta record (log start, next offset, applied) in @txn. */
int gq__plog_pmeta_put(struct gq__plog *p, MDB_txn *txn);

/* Decode a pmeta value: 0, or GQ_ECORRUPT for a wrong size or version or
 * offsets out of range (the outputs may then be partly written). */
int gq__plog_pmeta_decode(const MDB_val *v, int64_t *log_start,
			  int64_t *next_offset, uint64_t *applied);

/* Split a times key into its fields; false when its size is wrong. */
bool gq__plog_tkey_parse(const MDB_val *k, uint64_t *uid, int64_t *ts,
			 int64_t *base);

/*
 * Cursor helpers over the offsets database.  Each returns 0 with *e
 * filled, NOTFOUND when no entry of partition @uid is there, or an error
 * (GQ_ECORRUPT for a record that does not decode).
 */

/* The entry with the smallest base >= @off. */
int gq__plog_seek_ge(MDB_cursor *cur, uint64_t uid, int64_t off,
		     struct entry *e);

/* The entry with the largest base <= @off: the batch that contains @off
 * if any does. */
int gq__plog_seek_le(MDB_cursor *cur, uint64_t uid, int64_t off,
		     struct entry *e);

/* The next (MDB_NEXT) or previous (MDB_PREV) entry. */
int gq__plog_step(MDB_cursor *cur, MDB_cursor_op op, uint64_t uid,
		  struct entry *e);

/* Delete the offsets entries of the partition with base in [from, to);
 * adds the number deleted to *count (may be NULL).  Only keys are looked
 * at, so corrupt values can be deleted too. */
int gq__plog_del_offsets(struct gq__plog *p, MDB_txn *txn, int64_t from,
			 int64_t to, uint64_t *count);

/* Delete time-index entries of the partition: from the oldest while their
 * base is below @below (@below >= 0), or from the newest while their base
 * is at least @from_end (@below < 0). */
int gq__plog_del_times(struct gq__plog *p, MDB_txn *txn, int64_t below,
		       int64_t from_end);

/*
 * Segments (plog.c).
 */

/* Write the file name of segment @base into @name. */
void gq__plog_seg_name(char name[NAME_SIZE], int64_t base);

/* Parse a segment file name into *base; false for anything else. */
bool gq__plog_seg_parse(const char *name, int64_t *base);

/* A segment for @fd (owned from now on) with one reference, for the list;
 * NULL when out of memory (then @fd is still the caller's). */
struct segment *gq__plog_seg_new(int64_t base, int fd);

/* Close the fd of @s and free it; the caller holds its last reference. */
void gq__plog_seg_free(struct segment *s);

/* Drop a reference to @s (NULL is a no-op), freeing it with the last one.
 * Any thread. */
void gq__plog_seg_put(struct gq__plog *p, struct segment *s);

/* Append @s to p->segs; the caller holds the lock or is alone.
 * @return 0 or GQ_ENOMEM (then @s is still the caller's). */
int gq__plog_segs_push(struct gq__plog *p, struct segment *s);

/* Read exactly @len bytes at @off of @fd: 0, NOTFOUND if the file is
 * shorter, or an error. */
int gq__plog_read_all(int fd, uint8_t *buf, size_t len, uint64_t off);

/* How the bytes stored for an index entry compare with it. */
enum batch_verdict {
	BATCH_OK,
	BATCH_SHORT,    /* the file ends before the batch does */
	BATCH_HEADER,   /* the fixed header does not parse (batch.h) */
	BATCH_CRC,      /* the CRC-32C does not match the bytes */
	BATCH_MISMATCH, /* a valid batch, but not the one the entry describes:
			   length, base or last offset, max timestamp */
};

/* Check the @e->len bytes at @buf against @e: header, CRC, then length,
 * offsets and max timestamp.  Never BATCH_SHORT. */
enum batch_verdict gq__plog_batch_check(const uint8_t *buf,
					const struct entry *e);

/* gq__plog_batch_check() == BATCH_OK. */
bool gq__plog_batch_matches(const uint8_t *buf, const struct entry *e);

/* Committed size of the listed segments not doomed.  Loop thread. */
uint64_t gq__plog_live_size(const struct gq__plog *p);

/*
 * The batch walk (plog_recover.c), shared by recovery and by the read-only
 * verifier (plog_verify.c) so both judge a stored batch the same way.
 */

/* The bases of the segment files in @dir, sorted, in *out (freed with
 * gq__free(); NULL when there are none) and their number in *n.  Other
 * names are ignored.  GQ_ENOMEM, or the opendir() error with @errmsg set
 * (may be NULL). */
int gq__plog_list_files(const char *dir, int64_t **out, size_t *n,
			char *errmsg);

/* One step of gq__plog_walk_segment(): entry @e, which should start at
 * byte @pos of the segment (where the previous entry ended), and what its
 * bytes hold.  Returning non-zero stops the walk with that value. */
typedef int (*gq__plog_walk_cb)(void *arg, const struct entry *e, uint64_t pos,
				enum batch_verdict v);

struct gq__plog_walk {
	MDB_cursor *cur;     /* on the offsets database */
	uint64_t uid;        /* the partition */
	int64_t seg;         /* the segment's base offset */
	int fd;              /* its file, read with pread() */
	uint64_t fsize;      /* and its size */
	struct gq__buf *buf; /* read buffer, grown as needed */
	gq__plog_walk_cb cb;
	void *arg;
	bool read_failed; /* out: stopped by a failed read (not a short file) */
};

/*
 * Visit the index entries of segment @w->seg in offset order, reading each
 * batch at the position its entry gives (BATCH_SHORT when the file ends
 * first, without reading) and passing the verdict to @w->cb.  The walk
 * follows the index, not the bytes, so a bad batch does not hide the ones
 * after it.
 * @return 0 at the segment's end, the callback's non-zero value, a read
 * error (w->read_failed set), or a cursor error (GQ_ECORRUPT for an index
 * record that does not decode).
 */
int gq__plog_walk_segment(struct gq__plog_walk *w);

#endif /* GQ_PLOG_INT_H */
