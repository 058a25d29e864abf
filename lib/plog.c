/* SPDX-License-Identifier: MIT */
/*
 * plog.c - one partition's log: segment files of RecordBatch v2 blobs and
 * the partition's offset index, time index and metadata in LMDB (formats
 * in plog.h and doc/storage.md).
 *
 * State comes in two copies.  The loop thread's working copy (next_offset,
 * log_start, applied, segment sizes) includes the changes of the pending
 * transaction; `saved` holds what the last commit left, so an abort can
 * restore it.  Readers on other threads see only what gq__plog_commit()
 * published under `lock`: the high watermark, the log start, the size.
 *
 * Invariants:
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
#include "plog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "batch.h"
#include "error.h"
#include "heap.h"

#define ENTRY_VERSION 1
#define ENTRY_SIZE    56
#define PMETA_VERSION 1
#define PMETA_SIZE    32
#define OKEY_SIZE     16
#define TKEY_SIZE     24
#define NAME_DIGITS   20
#define NAME_SIZE     (NAME_DIGITS + sizeof(".log")) /* with the NUL */
#define CHUNK         64                             /* batches per pwritev() */

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
 * Encoding.
 */

static void
okey(uint8_t k[OKEY_SIZE], uint64_t uid, int64_t base)
{
	gq__be64_put(k, uid);
	gq__be64_put(k + 8, (uint64_t)base);
}

static uint64_t
ts_flip(int64_t ts)
{
	return (uint64_t)ts ^ (UINT64_C(1) << 63);
}

static void
tkey(uint8_t k[TKEY_SIZE], uint64_t uid, int64_t ts, int64_t base)
{
	gq__be64_put(k, uid);
	gq__be64_put(k + 8, ts_flip(ts));
	gq__be64_put(k + 16, (uint64_t)base);
}

static void
entry_encode(const struct entry *e, uint8_t v[ENTRY_SIZE])
{
	memset(v, 0, ENTRY_SIZE);
	v[0] = ENTRY_VERSION;
	gq__be32_put(v + 4, e->len);
	gq__be64_put(v + 8, (uint64_t)e->seg);
	gq__be64_put(v + 16, e->pos);
	gq__be64_put(v + 24, (uint64_t)e->last);
	gq__be64_put(v + 32, (uint64_t)e->max_ts);
	gq__be64_put(v + 40, (uint64_t)e->run_max);
	gq__be64_put(v + 48, e->raft_index);
}

/* Decode and bounds-check an offsets record; NOTFOUND if it belongs to
 * another partition. */
static int
entry_decode(const MDB_val *k, const MDB_val *v, uint64_t uid, struct entry *e)
{
	const uint8_t *kb = k->mv_data;
	const uint8_t *vb = v->mv_data;

	if (k->mv_size != OKEY_SIZE)
		return GQ_ECORRUPT;
	if (gq__be64_get(kb) != uid)
		return NOTFOUND;
	if (v->mv_size != ENTRY_SIZE || vb[0] != ENTRY_VERSION)
		return GQ_ECORRUPT;
	e->base = (int64_t)gq__be64_get(kb + 8);
	e->len = gq__be32_get(vb + 4);
	e->seg = (int64_t)gq__be64_get(vb + 8);
	e->pos = gq__be64_get(vb + 16);
	e->last = (int64_t)gq__be64_get(vb + 24);
	e->max_ts = (int64_t)gq__be64_get(vb + 32);
	e->run_max = (int64_t)gq__be64_get(vb + 40);
	e->raft_index = gq__be64_get(vb + 48);
	if (e->base < 0 || e->seg < 0 || e->seg > e->base ||
	    e->last < e->base || e->len < GQ__BATCH_HEADER_SIZE ||
	    e->len > (uint32_t)INT32_MAX + GQ__BATCH_OVERHEAD ||
	    e->pos > (uint64_t)INT64_MAX - e->len)
		return GQ_ECORRUPT;
	return 0;
}

static void
pmeta_encode(const struct gq__plog *p, uint8_t v[PMETA_SIZE])
{
	memset(v, 0, PMETA_SIZE);
	v[0] = PMETA_VERSION;
	gq__be64_put(v + 8, (uint64_t)p->log_start);
	gq__be64_put(v + 16, (uint64_t)p->next_offset);
	gq__be64_put(v + 24, p->applied);
}

static int
pmeta_put(struct gq__plog *p, MDB_txn *txn)
{
	uint8_t kb[8];
	uint8_t vb[PMETA_SIZE];
	MDB_val k = { sizeof(kb), kb };
	MDB_val v = { sizeof(vb), vb };

	gq__be64_put(kb, p->uid);
	pmeta_encode(p, vb);
	return gq__err_from_mdb(mdb_put(txn, p->st->pmeta, &k, &v, 0));
}

/*
 * Cursor helpers over the offsets database.  Each returns 0 with *e
 * filled, NOTFOUND when no entry of the partition is there, or an error.
 */

static int
cursor_decode(MDB_cursor *cur, int rv, const MDB_val *k, const MDB_val *v,
	      uint64_t uid, struct entry *e)
{
	(void)cur;
	if (rv == MDB_NOTFOUND)
		return NOTFOUND;
	if (rv != 0)
		return gq__err_from_mdb(rv);
	return entry_decode(k, v, uid, e);
}

/* The entry with the smallest base >= @off. */
static int
seek_ge(MDB_cursor *cur, uint64_t uid, int64_t off, struct entry *e)
{
	uint8_t kb[OKEY_SIZE];
	MDB_val k = { sizeof(kb), kb };
	MDB_val v;
	int rv;

	okey(kb, uid, off);
	rv = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	return cursor_decode(cur, rv, &k, &v, uid, e);
}

/* The entry with the largest base <= @off: the batch that contains @off
 * if any does.  LMDB only seeks forward (MDB_SET_RANGE), so step back one
 * unless the key matched exactly, or take the last key when none is >=. */
static int
seek_le(MDB_cursor *cur, uint64_t uid, int64_t off, struct entry *e)
{
	uint8_t kb[OKEY_SIZE];
	MDB_val k = { sizeof(kb), kb };
	MDB_val v;
	int rv;

	okey(kb, uid, off);
	rv = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rv == 0 &&
	    (k.mv_size != OKEY_SIZE || memcmp(k.mv_data, kb, OKEY_SIZE) != 0))
		rv = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	else if (rv == MDB_NOTFOUND)
		rv = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	return cursor_decode(cur, rv, &k, &v, uid, e);
}

/* The next (MDB_NEXT) or previous (MDB_PREV) entry. */
static int
step(MDB_cursor *cur, MDB_cursor_op op, uint64_t uid, struct entry *e)
{
	MDB_val k;
	MDB_val v;
	int rv;

	rv = mdb_cursor_get(cur, &k, &v, op);
	return cursor_decode(cur, rv, &k, &v, uid, e);
}

/* Delete the offsets entries of the partition with base in [from, to);
 * adds the number deleted to *count.  Only keys are looked at, so corrupt
 * values can be deleted too. */
static int
del_offsets(struct gq__plog *p, MDB_txn *txn, int64_t from, int64_t to,
	    uint64_t *count)
{
	uint8_t kb[OKEY_SIZE];
	MDB_cursor *cur;
	MDB_val k;
	MDB_val v;
	int rv;

	if ((rv = mdb_cursor_open(txn, p->st->offsets, &cur)) != 0)
		return gq__err_from_mdb(rv);
	for (;;) {
		/* Re-seek after each delete: simple and always right. */
		okey(kb, p->uid, from);
		k.mv_size = sizeof(kb);
		k.mv_data = kb;
		if ((rv = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) != 0)
			break;
		if (k.mv_size != OKEY_SIZE ||
		    gq__be64_get(k.mv_data) != p->uid ||
		    (int64_t)gq__be64_get((const uint8_t *)k.mv_data + 8) >= to)
			break;
		from = (int64_t)gq__be64_get((const uint8_t *)k.mv_data + 8);
		if ((rv = mdb_cursor_del(cur, 0)) != 0)
			break;
		if (count != NULL)
			(*count)++;
	}
	mdb_cursor_close(cur);
	return rv == MDB_NOTFOUND ? 0 : gq__err_from_mdb(rv);
}

/* Delete time-index entries of the partition: from the oldest while their
 * base is below @below (@below >= 0), or from the newest while their base
 * is at least @from_end (@below < 0).  Running max timestamps never fall,
 * so time keys are in base order too and both scans are ranges. */
static int
del_times(struct gq__plog *p, MDB_txn *txn, int64_t below, int64_t from_end)
{
	uint8_t kb[TKEY_SIZE];
	MDB_cursor *cur;
	MDB_val k;
	MDB_val v;
	int64_t base;
	int rv;

	if ((rv = mdb_cursor_open(txn, p->st->times, &cur)) != 0)
		return gq__err_from_mdb(rv);
	for (;;) {
		k.mv_size = sizeof(kb);
		k.mv_data = kb;
		if (below >= 0) {
			gq__be64_put(kb, p->uid);
			memset(kb + 8, 0, 16);
			rv = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		} else {
			memset(kb, 0xff, sizeof(kb));
			gq__be64_put(kb, p->uid);
			rv = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			if (rv == 0)
				rv = mdb_cursor_get(cur, &k, &v, MDB_PREV);
			else if (rv == MDB_NOTFOUND)
				rv = mdb_cursor_get(cur, &k, &v, MDB_LAST);
		}
		if (rv != 0)
			break;
		if (k.mv_size != TKEY_SIZE || gq__be64_get(k.mv_data) != p->uid)
			break;
		base = (int64_t)gq__be64_get((const uint8_t *)k.mv_data + 16);
		if (below >= 0 ? base >= below : base < from_end)
			break;
		if ((rv = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rv == MDB_NOTFOUND ? 0 : gq__err_from_mdb(rv);
}

static int
put_time(struct gq__plog *p, MDB_txn *txn, int64_t ts, int64_t base)
{
	uint8_t kb[TKEY_SIZE];
	MDB_val k = { sizeof(kb), kb };
	MDB_val v = { 0, kb };

	tkey(kb, p->uid, ts, base);
	return gq__err_from_mdb(mdb_put(txn, p->st->times, &k, &v, 0));
}

/*
 * Segments.
 */

static void
seg_name(char name[NAME_SIZE], int64_t base)
{
	snprintf(name, NAME_SIZE, "%020" PRId64 ".log", base);
}

/* Parse a segment file name; false for anything else. */
static bool
seg_parse(const char *name, int64_t *base)
{
	uint64_t v = 0;
	size_t i;

	if (strlen(name) != NAME_SIZE - 1 ||
	    strcmp(name + NAME_DIGITS, ".log") != 0)
		return false;
	for (i = 0; i < NAME_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		if (v > ((uint64_t)INT64_MAX - (uint64_t)(name[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	*base = (int64_t)v;
	return true;
}

static struct segment *
seg_new(int64_t base, int fd)
{
	struct segment *s;

	if ((s = gq__calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->base = base;
	s->fd = fd;
	s->refs = 1;
	s->max_ts = INT64_MIN;
	return s;
}

static void
seg_free(struct segment *s)
{
	close(s->fd);
	gq__free(s);
}

/* Drop a reference taken with seg_get() (any thread). */
static void
seg_put(struct gq__plog *p, struct segment *s)
{
	bool last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&p->lock);
	if (last)
		seg_free(s);
}

/* Find the listed segment with base @base and take a reference; NULL if it
 * is not listed.  Any thread. */
static struct segment *
seg_get(struct gq__plog *p, int64_t base)
{
	struct segment *s = NULL;
	size_t lo = 0;
	size_t hi;
	size_t mid;

	pthread_mutex_lock(&p->lock);
	hi = p->nsegs;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p->segs[mid]->base < base) {
			lo = mid + 1;
		} else if (p->segs[mid]->base > base) {
			hi = mid;
		} else {
			s = p->segs[mid];
			s->refs++;
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return s;
}

/* Append @s to the list; the caller holds the lock or is alone. */
static int
segs_push(struct gq__plog *p, struct segment *s)
{
	struct segment **a;
	size_t cap;

	if (p->nsegs == p->cap) {
		cap = p->cap == 0 ? 8 : p->cap * 2;
		if ((a = gq__realloc(p->segs, cap * sizeof(*a))) == NULL)
			return GQ_ENOMEM;
		p->segs = a;
		p->cap = cap;
	}
	p->segs[p->nsegs++] = s;
	return 0;
}

/* Create segment file @base for the pending append. */
static int
seg_create(struct gq__plog *p, int64_t base, struct segment **out)
{
	char name[NAME_SIZE];
	struct segment *s;
	int fd;
	int rv;

	seg_name(name, base);
	/* O_TRUNC: a file of that name can only be debris of an abort. */
	fd = openat(p->dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return gq__err_from_errno(errno);
	rv = GQ_ENOMEM;
	if ((s = seg_new(base, fd)) == NULL)
		goto err_unlink;
	s->max_ts = p->have_run_max ? p->run_max : INT64_MIN;
	pthread_mutex_lock(&p->lock);
	rv = segs_push(p, s);
	if (rv == 0)
		p->dir_unsynced = true;
	pthread_mutex_unlock(&p->lock);
	if (rv != 0)
		goto err_free;
	*out = s;
	return 0;
err_free:
	gq__free(s);
err_unlink:
	close(fd);
	unlinkat(p->dirfd, name, 0);
	return rv;
}

static int
write_all(int fd, struct iovec *iov, int cnt, uint64_t off)
{
	ssize_t n;

	while (cnt > 0) {
		n = pwritev(fd, iov, cnt, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return gq__err_from_errno(errno);
		}
		if (n == 0)
			return GQ_EIO;
		off += (uint64_t)n;
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Read exactly @len bytes at @off: 0, NOTFOUND if the file is shorter, or
 * an error. */
static int
read_all(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	ssize_t n;

	while (len > 0) {
		n = pread(fd, buf, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return gq__err_from_errno(errno);
		}
		if (n == 0)
			return NOTFOUND;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Check that the @e.len bytes at @buf are the batch @e describes: header,
 * CRC, length, offsets, max timestamp. */
static bool
batch_matches(const uint8_t *buf, const struct entry *e)
{
	struct gq__batch_header h;

	if (gq__batch_validate(buf, e->len, &h) != 0)
		return false;
	return gq__batch_total_size(&h) == e->len && h.base_offset == e->base &&
	       gq__batch_last_offset(&h) == e->last &&
	       h.max_timestamp == e->max_ts;
}

/*
 * Pending-transaction bookkeeping.
 */

/* Cut uncommitted bytes off a segment.  Failure is harmless (see the
 * invariants at the top): later writes overwrite the bytes and recovery
 * cuts them, so there is nothing to report. */
static void
cut_quietly(int fd, uint64_t size)
{
	int rv;

	rv = ftruncate(fd, (off_t)size);
	(void)rv;
}

static void
pending_begin(struct gq__plog *p)
{
	struct segment *last;

	if (p->pending)
		return;
	p->saved.next_offset = p->next_offset;
	p->saved.log_start = p->log_start;
	p->saved.applied = p->applied;
	p->saved.run_max = p->run_max;
	p->saved.have_run_max = p->have_run_max;
	p->saved.nsegs = p->nsegs;
	last = p->nsegs > 0 ? p->segs[p->nsegs - 1] : NULL;
	p->saved.last_size = last != NULL ? last->size : 0;
	p->saved.last_max_ts = last != NULL ? last->max_ts : INT64_MIN;
	p->pending = true;
}

/* Committed size of the listed segments not doomed; loop thread. */
static uint64_t
live_size(const struct gq__plog *p)
{
	uint64_t total = 0;
	size_t i;

	for (i = p->ndoomed; i < p->nsegs; i++)
		total += p->segs[i]->size;
	return total;
}

void
gq__plog_commit(struct gq__plog *p)
{
	struct segment *reap = NULL;
	struct segment *s;
	char name[NAME_SIZE];
	size_t k = p->ndoomed;
	size_t i;

	if (!p->pending)
		return;
	/* Unlinking first is fine: holders keep their fd, and new lookups
	 * still find the segment until it leaves the list just below. */
	for (i = 0; i < k; i++) {
		seg_name(name, p->segs[i]->base);
		unlinkat(p->dirfd, name, 0);
	}
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < k; i++) {
		s = p->segs[i];
		if (--s->refs == 0) {
			s->next = reap;
			reap = s;
		}
	}
	if (k > 0) {
		memmove(p->segs, p->segs + k,
			(p->nsegs - k) * sizeof(*p->segs));
		p->nsegs -= k;
		p->dir_unsynced = true;
	}
	p->ndoomed = 0;
	p->hw = p->next_offset;
	p->pub_start = p->log_start;
	p->lost_below = p->log_start;
	p->pub_size = live_size(p);
	p->pub_nsegs = (uint32_t)p->nsegs;
	pthread_mutex_unlock(&p->lock);
	while ((s = reap) != NULL) {
		reap = s->next;
		seg_free(s);
	}
	p->pending = false;
}

void
gq__plog_abort(struct gq__plog *p)
{
	struct segment *s;
	char name[NAME_SIZE];
	size_t n = p->nsegs;
	size_t i;

	if (!p->pending)
		return;
	/* Segments the pending appends created.  Readers cannot reach them
	 * (no committed entry names them) but a sync may hold one. */
	pthread_mutex_lock(&p->lock);
	p->nsegs = p->saved.nsegs;
	p->lost_below = p->pub_start;
	p->removing = false;
	pthread_mutex_unlock(&p->lock);
	for (i = p->saved.nsegs; i < n; i++) {
		s = p->segs[i];
		seg_name(name, s->base);
		unlinkat(p->dirfd, name, 0);
		seg_put(p, s);
	}
	if (p->saved.nsegs > 0) {
		s = p->segs[p->saved.nsegs - 1];
		if (s->size != p->saved.last_size)
			cut_quietly(s->fd, p->saved.last_size);
		s->size = p->saved.last_size;
		s->max_ts = p->saved.last_max_ts;
	}
	for (i = 0; i < p->nsegs; i++)
		p->segs[i]->doomed = false;
	p->ndoomed = 0;
	p->next_offset = p->saved.next_offset;
	p->log_start = p->saved.log_start;
	p->applied = p->saved.applied;
	p->run_max = p->saved.run_max;
	p->have_run_max = p->saved.have_run_max;
	p->removed = false;
	p->pending = false;
}

/*
 * Appends.
 */

/* Check the batches before changing anything. */
static int
check_batches(const struct gq__plog *p, const struct gq__plog_batch *b,
	      size_t n)
{
	struct gq__batch_header h;
	int64_t next = p->next_offset;
	size_t i;

	for (i = 0; i < n; i++) {
		if (b[i].data == NULL ||
		    gq__batch_parse_header(b[i].data, b[i].len, &h) != 0 ||
		    gq__batch_total_size(&h) != b[i].len)
			return GQ_EINVAL;
		if (next > INT64_MAX - 1 - h.last_offset_delta)
			return GQ_EINVAL;
		next += (int64_t)h.last_offset_delta + 1;
	}
	return 0;
}

/* Write and index batches b[0..] into @s, as many as fit (at least one)
 * and at most CHUNK; returns how many through *done. */
static int
append_chunk(struct gq__plog *p, MDB_txn *txn, struct segment *s,
	     struct gq__plog_batch *b, size_t n, int32_t epoch,
	     uint64_t raft_index, size_t *done)
{
	struct gq__batch_header h;
	struct iovec iov[2 * CHUNK];
	uint8_t pre[CHUNK][16];
	uint8_t kb[OKEY_SIZE];
	uint8_t vb[ENTRY_SIZE];
	struct entry e[CHUNK];
	bool grew[CHUNK];
	MDB_val k = { sizeof(kb), kb };
	MDB_val v = { sizeof(vb), vb };
	uint64_t pos = s->size;
	int64_t next = p->next_offset;
	int64_t run_max = p->run_max;
	bool have = p->have_run_max;
	size_t cnt;
	int rv;

	for (cnt = 0; cnt < n && cnt < CHUNK; cnt++) {
		if (cnt > 0 && pos + b[cnt].len > p->conf.segment_size)
			break;
		/* Checked by check_batches(): cannot fail here. */
		gq__batch_parse_header(b[cnt].data, b[cnt].len, &h);
		grew[cnt] = !have || h.max_timestamp > run_max;
		if (grew[cnt]) {
			run_max = h.max_timestamp;
			have = true;
		}
		e[cnt].base = next;
		e[cnt].len = (uint32_t)b[cnt].len;
		e[cnt].seg = s->base;
		e[cnt].pos = pos;
		e[cnt].last = next + h.last_offset_delta;
		e[cnt].max_ts = h.max_timestamp;
		e[cnt].run_max = run_max;
		e[cnt].raft_index = raft_index;
		memcpy(pre[cnt], b[cnt].data, 16);
		gq__be64_put(pre[cnt], (uint64_t)next);
		gq__be32_put(pre[cnt] + GQ__BATCH_OFF_LEADER_EPOCH,
			     (uint32_t)epoch);
		iov[2 * cnt].iov_base = pre[cnt];
		iov[2 * cnt].iov_len = 16;
		iov[2 * cnt + 1].iov_base =
			(void *)(uintptr_t)(b[cnt].data + 16);
		iov[2 * cnt + 1].iov_len = b[cnt].len - 16;
		pos += b[cnt].len;
		next = e[cnt].last + 1;
	}
	if ((rv = write_all(s->fd, iov, (int)(2 * cnt), s->size)) != 0)
		return rv;
	pthread_mutex_lock(&p->lock);
	s->unsynced = true;
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < cnt; i++) {
		okey(kb, p->uid, e[i].base);
		entry_encode(&e[i], vb);
		if ((rv = mdb_put(txn, p->st->offsets, &k, &v, 0)) != 0)
			return gq__err_from_mdb(rv);
		if (grew[i] && (rv = put_time(p, txn, e[i].run_max, e[i].base)))
			return rv;
		b[i].base_offset = e[i].base;
	}
	s->size = pos;
	s->max_ts = run_max;
	p->next_offset = next;
	p->run_max = run_max;
	p->have_run_max = have;
	*done = cnt;
	return 0;
}

int
gq__plog_append(struct gq__plog *p, MDB_txn *txn, struct gq__plog_batch *b,
		size_t n, int32_t leader_epoch, uint64_t raft_index)
{
	struct segment *s;
	size_t i = 0;
	size_t done;
	int rv;

	if (p->removed)
		return GQ_ECLOSED;
	if (raft_index < p->applied || (n > 0 && b == NULL))
		return GQ_EINVAL;
	if ((rv = check_batches(p, b, n)) != 0)
		return rv;
	pending_begin(p);
	while (i < n) {
		s = p->nsegs > 0 ? p->segs[p->nsegs - 1] : NULL;
		/* Roll when the batch would not fit, unless the segment is
		 * still empty: a batch larger than segment_size then gets a
		 * segment of its own, and no segment is ever empty. */
		if (s == NULL || (s->size > 0 &&
				  s->size + b[i].len > p->conf.segment_size)) {
			if ((rv = seg_create(p, p->next_offset, &s)) != 0)
				goto err;
		}
		rv = append_chunk(p, txn, s, b + i, n - i, leader_epoch,
				  raft_index, &done);
		if (rv != 0)
			goto err;
		i += done;
	}
	p->applied = raft_index;
	if ((rv = pmeta_put(p, txn)) != 0)
		goto err;
	return 0;
err:
	gq__plog_abort(p);
	return rv;
}

int
gq__plog_set_applied(struct gq__plog *p, MDB_txn *txn, uint64_t raft_index)
{
	int rv;

	if (p->removed)
		return GQ_ECLOSED;
	if (raft_index < p->applied)
		return GQ_EINVAL;
	pending_begin(p);
	p->applied = raft_index;
	if ((rv = pmeta_put(p, txn)) != 0)
		gq__plog_abort(p);
	return rv;
}

uint64_t
gq__plog_applied_index(const struct gq__plog *p)
{
	return p->applied;
}

void
gq__plog_set_conf(struct gq__plog *p, const struct gq__plog_conf *conf)
{
	p->conf = *conf;
}

/*
 * Any-thread accessors.
 */

/* Register an any-thread call; GQ_ECLOSED once closing or removed.  The
 * count lets gq__plog_close() wait for calls in progress; the high
 * watermark and log start are read together so a call works against one
 * published state. */
static int
user_enter(struct gq__plog *p, int64_t *hw, int64_t *start)
{
	int rv = 0;

	pthread_mutex_lock(&p->lock);
	if (p->closing || p->gone) {
		rv = GQ_ECLOSED;
	} else {
		p->users++;
		*hw = p->hw;
		*start = p->pub_start;
	}
	pthread_mutex_unlock(&p->lock);
	return rv;
}

static void
user_leave(struct gq__plog *p)
{
	pthread_mutex_lock(&p->lock);
	if (--p->users == 0 && p->closing)
		pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->lock);
}

/* A committed entry for @offset was not found (or its segment was not
 * listed): retention or removal got there first, or the index is bad. */
static int
missing(struct gq__plog *p, int64_t offset, char *errmsg)
{
	int rv;

	pthread_mutex_lock(&p->lock);
	if (p->removing || p->gone)
		rv = GQ_ECLOSED;
	else if (offset < p->lost_below || offset < p->pub_start)
		rv = GQ_EOFFSET;
	else
		rv = GQ_ECORRUPT;
	pthread_mutex_unlock(&p->lock);
	if (rv == GQ_ECORRUPT)
		ERRMSG(errmsg,
		       "%s: partition %" PRIu64 ": no index entry for "
		       "offset %" PRId64,
		       GQ__STORE_FILE, p->uid, offset);
	return rv;
}

int64_t
gq__plog_log_start(struct gq__plog *p)
{
	int64_t v;

	pthread_mutex_lock(&p->lock);
	v = p->pub_start;
	pthread_mutex_unlock(&p->lock);
	return v;
}

int64_t
gq__plog_next_offset(struct gq__plog *p)
{
	int64_t v;

	pthread_mutex_lock(&p->lock);
	v = p->hw;
	pthread_mutex_unlock(&p->lock);
	return v;
}

void
gq__plog_stats(struct gq__plog *p, struct gq__plog_stats *out)
{
	pthread_mutex_lock(&p->lock);
	out->size_bytes = p->pub_size;
	out->segments = p->pub_nsegs;
	out->log_start = p->pub_start;
	out->next_offset = p->hw;
	pthread_mutex_unlock(&p->lock);
}

/* Read and check the batch @e describes into @out (appended). */
static int
read_batch(struct gq__plog *p, struct segment *s, const struct entry *e,
	   struct gq__buf *out, char *errmsg)
{
	uint8_t *dst;
	int rv;

	if ((rv = gq__buf_reserve(out, e->len)) != 0)
		return rv;
	dst = out->base + out->len;
	rv = read_all(s->fd, dst, e->len, e->pos);
	if (rv < 0) {
		ERRMSG(errmsg, "%s/%020" PRId64 ".log: read failed", p->dir,
		       s->base);
		return rv;
	}
	if (rv == NOTFOUND || !batch_matches(dst, e)) {
		ERRMSG(errmsg,
		       "%s/%020" PRId64 ".log: position %" PRIu64 ": batch "
		       "at offset %" PRId64 " is %s",
		       p->dir, s->base, e->pos, e->base,
		       rv == NOTFOUND ? "truncated" : "corrupt");
		return GQ_ECORRUPT;
	}
	out->len += e->len;
	return 0;
}

int
gq__plog_read(struct gq__plog *p, int64_t offset, size_t max_bytes,
	      struct gq__buf *out, int64_t *hw_out, int64_t *start_out,
	      char *errmsg)
{
	struct segment *s = NULL;
	MDB_cursor *cur;
	MDB_txn *txn;
	struct entry e;
	size_t old_len = out->len;
	size_t total = 0;
	int64_t hw;
	int64_t start;
	int64_t prev_last = 0;
	int rv;

	if (errmsg != NULL)
		errmsg[0] = '\0';
	if ((rv = user_enter(p, &hw, &start)) != 0)
		return rv;
	if (hw_out != NULL)
		*hw_out = hw;
	if (start_out != NULL)
		*start_out = start;
	if (offset < start || offset > hw) {
		rv = GQ_EOFFSET;
		goto out_leave;
	}
	if (offset == hw)
		goto out_leave;
	/* Begun after reading hw: the snapshot holds every entry below it,
	 * because gq__plog_commit() runs after the LMDB commit. */
	if ((rv = gq__store_begin(p->st, false, &txn)) != 0)
		goto out_leave;
	if ((rv = mdb_cursor_open(txn, p->st->offsets, &cur)) != 0) {
		rv = gq__err_from_mdb(rv);
		goto out_txn;
	}
	/* A missing entry below hw means a retention or removal committed
	 * in LMDB but not yet published; missing() tells that apart from a
	 * damaged index. */
	rv = seek_le(cur, p->uid, offset, &e);
	if (rv == 0 && e.last < offset)
		rv = NOTFOUND;
	if (rv == NOTFOUND) {
		rv = missing(p, offset, errmsg);
		goto out_cursor;
	}
	while (rv == 0 && e.base < hw) {
		if (total > 0 &&
		    (total >= max_bytes || e.len > max_bytes - total))
			break;
		if (s == NULL || s->base != e.seg) {
			seg_put(p, s);
			if ((s = seg_get(p, e.seg)) == NULL) {
				if (total == 0)
					rv = missing(p, e.base, errmsg);
				break;
			}
		}
		if ((rv = read_batch(p, s, &e, out, errmsg)) != 0)
			break;
		total += e.len;
		prev_last = e.last;
		rv = step(cur, MDB_NEXT, p->uid, &e);
		if (rv == 0 && e.base != prev_last + 1) {
			ERRMSG(errmsg,
			       "%s: partition %" PRIu64 ": index gap after "
			       "offset %" PRId64,
			       GQ__STORE_FILE, p->uid, prev_last);
			rv = GQ_ECORRUPT;
		}
	}
	if (rv == NOTFOUND)
		rv = 0;
	seg_put(p, s);
out_cursor:
	if (rv == GQ_ECORRUPT && errmsg != NULL && errmsg[0] == '\0')
		ERRMSG(errmsg, "%s: partition %" PRIu64 ": bad index entry",
		       GQ__STORE_FILE, p->uid);
	mdb_cursor_close(cur);
out_txn:
	gq__store_abort(txn);
out_leave:
	user_leave(p);
	if (rv != 0)
		out->len = old_len;
	return rv;
}

int
gq__plog_offset_for_time(struct gq__plog *p, int64_t ts, int64_t *out)
{
	uint8_t kb[TKEY_SIZE];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k = { sizeof(kb), kb };
	MDB_val v;
	int64_t hw;
	int64_t start;
	int64_t base;
	int rv;

	if ((rv = user_enter(p, &hw, &start)) != 0)
		return rv;
	*out = hw;
	if (start == hw)
		goto out_leave;
	if ((rv = gq__store_begin(p->st, false, &txn)) != 0)
		goto out_leave;
	if ((rv = mdb_cursor_open(txn, p->st->times, &cur)) != 0) {
		rv = gq__err_from_mdb(rv);
		goto out_txn;
	}
	tkey(kb, p->uid, ts, 0);
	rv = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rv == 0 && k.mv_size == TKEY_SIZE &&
	    gq__be64_get(k.mv_data) == p->uid) {
		base = (int64_t)gq__be64_get((const uint8_t *)k.mv_data + 16);
		/* Entries below the log start are being deleted by a pending
		 * retention: the first stored batch inherits their running
		 * max, so the answer is the log start. */
		if (base < start)
			base = start;
		if (base < hw)
			*out = base;
		rv = 0;
	} else if (rv == 0 && k.mv_size != TKEY_SIZE) {
		rv = GQ_ECORRUPT;
	} else {
		rv = rv == MDB_NOTFOUND || rv == 0 ? 0 : gq__err_from_mdb(rv);
	}
	mdb_cursor_close(cur);
out_txn:
	gq__store_abort(txn);
out_leave:
	user_leave(p);
	return rv;
}

int
gq__plog_sync(struct gq__plog *p)
{
	struct segment *s;
	int64_t from = INT64_MIN;
	int64_t hw;
	int64_t start;
	bool dir;
	size_t i;
	int rv;

	if ((rv = user_enter(p, &hw, &start)) != 0)
		return rv;
	for (;;) {
		/* One segment at a time, without holding the lock over I/O;
		 * the flag is cleared before syncing, so a write racing with
		 * this sync marks it again. */
		s = NULL;
		pthread_mutex_lock(&p->lock);
		for (i = 0; i < p->nsegs; i++) {
			if (p->segs[i]->base >= from && p->segs[i]->unsynced) {
				s = p->segs[i];
				s->unsynced = false;
				s->refs++;
				break;
			}
		}
		pthread_mutex_unlock(&p->lock);
		if (s == NULL)
			break;
		from = s->base + 1;
		if (fdatasync(s->fd) != 0) {
			rv = gq__err_from_errno(errno);
			pthread_mutex_lock(&p->lock);
			s->unsynced = true;
			pthread_mutex_unlock(&p->lock);
		}
		seg_put(p, s);
		if (rv != 0)
			goto out;
	}
	pthread_mutex_lock(&p->lock);
	dir = p->dir_unsynced;
	p->dir_unsynced = false;
	pthread_mutex_unlock(&p->lock);
	if (dir && fsync(p->dirfd) != 0) {
		rv = gq__err_from_errno(errno);
		pthread_mutex_lock(&p->lock);
		p->dir_unsynced = true;
		pthread_mutex_unlock(&p->lock);
	}
out:
	user_leave(p);
	return rv;
}

/*
 * Retention and removal.
 */

/* Delete the oldest segment not yet doomed (never the last) in @txn. */
static int
doom_oldest(struct gq__plog *p, MDB_txn *txn, uint64_t *freed)
{
	struct segment *s = p->segs[p->ndoomed];
	struct segment *next = p->segs[p->ndoomed + 1];
	uint8_t kb[OKEY_SIZE];
	MDB_val k = { sizeof(kb), kb };
	MDB_val v;
	struct entry e;
	int rv;

	pending_begin(p);
	/* Tell readers first: once the caller commits, entries below the
	 * new start vanish before gq__plog_commit() publishes it. */
	pthread_mutex_lock(&p->lock);
	p->lost_below = next->base;
	pthread_mutex_unlock(&p->lock);
	if ((rv = del_offsets(p, txn, s->base, next->base, NULL)) != 0)
		return rv;
	if ((rv = del_times(p, txn, next->base, 0)) != 0)
		return rv;
	/* The new first batch inherits the running max of the deleted ones;
	 * give it a time entry so offset_for_time still finds it. */
	okey(kb, p->uid, next->base);
	if ((rv = mdb_get(txn, p->st->offsets, &k, &v)) != 0)
		return rv == MDB_NOTFOUND ? GQ_ECORRUPT : gq__err_from_mdb(rv);
	if ((rv = entry_decode(&k, &v, p->uid, &e)) != 0)
		return rv == NOTFOUND ? GQ_ECORRUPT : rv;
	if ((rv = put_time(p, txn, e.run_max, e.base)) != 0)
		return rv;
	s->doomed = true;
	p->ndoomed++;
	p->log_start = next->base;
	*freed += s->size;
	return 0;
}

static bool
expired(const struct gq__plog *p, const struct segment *s, int64_t now_ms,
	uint64_t total)
{
	int64_t ms = p->conf.retention_ms;
	int64_t bytes = p->conf.retention_bytes;

	if (ms >= 0 && now_ms >= INT64_MIN + ms && s->max_ts < now_ms - ms)
		return true;
	return bytes >= 0 && total > (uint64_t)bytes;
}

int
gq__plog_retain(struct gq__plog *p, MDB_txn *txn, int64_t now_ms,
		uint64_t *freed_bytes)
{
	uint64_t total = live_size(p);
	uint64_t freed = 0;
	int rv = 0;

	*freed_bytes = 0;
	if (p->removed)
		return GQ_ECLOSED;
	while (p->ndoomed + 1 < p->nsegs &&
	       expired(p, p->segs[p->ndoomed], now_ms, total)) {
		total -= p->segs[p->ndoomed]->size;
		if ((rv = doom_oldest(p, txn, &freed)) != 0)
			goto err;
	}
	if (freed > 0 && (rv = pmeta_put(p, txn)) != 0)
		goto err;
	*freed_bytes = freed;
	return 0;
err:
	gq__plog_abort(p);
	return rv;
}

int
gq__plog_drop_oldest(struct gq__plog *p, MDB_txn *txn, uint64_t *freed_bytes)
{
	uint64_t freed = 0;
	int rv;

	*freed_bytes = 0;
	if (p->removed)
		return GQ_ECLOSED;
	if (p->ndoomed + 1 >= p->nsegs)
		return 0;
	if ((rv = doom_oldest(p, txn, &freed)) != 0 ||
	    (rv = pmeta_put(p, txn)) != 0) {
		gq__plog_abort(p);
		return rv;
	}
	*freed_bytes = freed;
	return 0;
}

int64_t
gq__plog_oldest_timestamp(struct gq__plog *p)
{
	if (p->ndoomed + 1 >= p->nsegs)
		return INT64_MAX;
	return p->segs[p->ndoomed]->max_ts;
}

int
gq__plog_remove(struct gq__plog *p, MDB_txn *txn)
{
	uint8_t kb[8];
	MDB_val k = { sizeof(kb), kb };
	int rv;

	pending_begin(p);
	pthread_mutex_lock(&p->lock);
	p->removing = true;
	pthread_mutex_unlock(&p->lock);
	p->removed = true;
	if ((rv = del_offsets(p, txn, 0, INT64_MAX, NULL)) != 0 ||
	    (rv = del_times(p, txn, INT64_MAX, 0)) != 0)
		goto err;
	gq__be64_put(kb, p->uid);
	rv = mdb_del(txn, p->st->pmeta, &k, NULL);
	if (rv != 0 && rv != MDB_NOTFOUND) {
		rv = gq__err_from_mdb(rv);
		goto err;
	}
	return 0;
err:
	gq__plog_abort(p);
	return rv;
}

/* Unlink every file in the directory that looks like a segment. */
static int
unlink_segment_files(struct gq__plog *p)
{
	struct dirent *d;
	int64_t base;
	DIR *dir;
	int rv = 0;

	if ((dir = opendir(p->dir)) == NULL)
		return errno == ENOENT ? 0 : gq__err_from_errno(errno);
	while ((d = readdir(dir)) != NULL) {
		if (seg_parse(d->d_name, &base) &&
		    unlinkat(p->dirfd, d->d_name, 0) != 0 && errno != ENOENT)
			rv = GQ_EIO;
	}
	closedir(dir);
	return rv;
}

int
gq__plog_remove_files(struct gq__plog *p)
{
	struct segment *reap = NULL;
	struct segment *s;
	size_t i;
	int rv;

	pthread_mutex_lock(&p->lock);
	p->gone = true;
	for (i = 0; i < p->nsegs; i++) {
		s = p->segs[i];
		if (--s->refs == 0) {
			s->next = reap;
			reap = s;
		}
	}
	p->nsegs = 0;
	pthread_mutex_unlock(&p->lock);
	while ((s = reap) != NULL) {
		reap = s->next;
		seg_free(s);
	}
	p->pending = false;
	p->ndoomed = 0;
	if ((rv = unlink_segment_files(p)) != 0)
		return rv;
	if (rmdir(p->dir) != 0 && errno != ENOENT)
		return GQ_EIO;
	return 0;
}

/*
 * Open and recovery.
 */

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a;
	int64_t y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The sorted bases of the segment files present. */
static int
list_files(struct gq__plog *p, int64_t **out, size_t *n, char *errmsg)
{
	struct dirent *d;
	int64_t *a = NULL;
	int64_t *na;
	size_t cap = 0;
	int64_t base;
	DIR *dir;

	*n = 0;
	if ((dir = opendir(p->dir)) == NULL) {
		ERRMSG(errmsg, "%s: opendir: errno %d", p->dir, errno);
		return gq__err_from_errno(errno);
	}
	while ((d = readdir(dir)) != NULL) {
		if (!seg_parse(d->d_name, &base))
			continue;
		if (*n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((na = gq__realloc(a, cap * sizeof(*a))) == NULL) {
				closedir(dir);
				gq__free(a);
				return GQ_ENOMEM;
			}
			a = na;
		}
		a[(*n)++] = base;
	}
	closedir(dir);
	if (*n > 0)
		qsort(a, *n, sizeof(*a), cmp_i64);
	*out = a;
	return 0;
}

/* Recovery's working memory. */
struct recovery {
	MDB_txn *txn;
	MDB_cursor *cur;
	int64_t *files; /* bases of the segment files present, sorted */
	size_t nfiles;
	bool *keep;         /* files[i] is referenced by the index */
	uint64_t *fsize;    /* file size per listed segment */
	struct gq__buf buf; /* batch read buffer */
	struct gq__plog_recovery rep;
	bool dirty; /* the txn changed something */
};

static int
corrupt_missing(struct gq__plog *p, int64_t seg, char *errmsg)
{
	ERRMSG(errmsg,
	       "%s/%020" PRId64 ".log: segment referenced by the index "
	       "(partition %" PRIu64 ") is missing",
	       p->dir, seg, p->uid);
	return GQ_ECORRUPT;
}

static int
corrupt_index(struct gq__plog *p, const char *what, int64_t off, char *errmsg)
{
	ERRMSG(errmsg, "%s: partition %" PRIu64 " (%s): %s at offset %" PRId64,
	       GQ__STORE_FILE, p->uid, p->dir, what, off);
	return GQ_ECORRUPT;
}

/* An error met while reading index entries: corruption gets a message. */
static int
idx_err(struct gq__plog *p, int rv, int64_t off, char *errmsg)
{
	if (rv == GQ_ECORRUPT)
		return corrupt_index(p, "bad index entry", off, errmsg);
	return rv;
}

/* Read the pmeta record, or default to a new empty log. */
static int
load_pmeta(struct gq__plog *p, struct recovery *r, char *errmsg)
{
	uint8_t kb[8];
	MDB_val k = { sizeof(kb), kb };
	MDB_val v;
	const uint8_t *vb;
	int rv;

	gq__be64_put(kb, p->uid);
	rv = mdb_get(r->txn, p->st->pmeta, &k, &v);
	if (rv == MDB_NOTFOUND)
		return 0;
	if (rv != 0)
		return gq__err_from_mdb(rv);
	vb = v.mv_data;
	if (v.mv_size != PMETA_SIZE || vb[0] != PMETA_VERSION)
		return corrupt_index(p, "bad metadata record", 0, errmsg);
	p->log_start = (int64_t)gq__be64_get(vb + 8);
	p->next_offset = (int64_t)gq__be64_get(vb + 16);
	p->applied = gq__be64_get(vb + 24);
	if (p->log_start < 0 || p->next_offset < p->log_start)
		return corrupt_index(p, "metadata out of range", p->log_start,
				     errmsg);
	return 0;
}

/*
 * Match files against the index: keep[] marks the files whose base is the
 * first batch of a segment; then check that the segments named by the
 * index are exactly the kept files, contiguous, from the log start to the
 * next offset.  Builds p->segs (sizes = indexed ends) with r->fsize.
 */
static int
match_segments(struct gq__plog *p, struct recovery *r, char *errmsg)
{
	struct segment *s;
	struct entry first;
	struct entry e;
	char name[NAME_SIZE];
	struct stat sb;
	size_t i;
	size_t j;
	int64_t b;
	int fd;
	int rv;

	for (i = 0; i < r->nfiles; i++) {
		rv = seek_ge(r->cur, p->uid, r->files[i], &e);
		if (rv < 0)
			return idx_err(p, rv, r->files[i], errmsg);
		r->keep[i] = rv == 0 && e.base == r->files[i] &&
			     e.seg == r->files[i];
	}
	rv = seek_ge(r->cur, p->uid, 0, &first);
	if (rv < 0)
		return idx_err(p, rv, 0, errmsg);
	if (rv == NOTFOUND) {
		if (p->next_offset != p->log_start)
			return corrupt_index(p, "empty index, next offset",
					     p->next_offset, errmsg);
		return 0;
	}
	if (first.base != p->log_start)
		return corrupt_index(p, "first entry is not the log start",
				     first.base, errmsg);
	if ((r->fsize = gq__calloc(r->nfiles + 1, sizeof(*r->fsize))) == NULL)
		return GQ_ENOMEM;
	b = first.seg;
	for (i = 0; i < r->nfiles; i++) {
		if (!r->keep[i])
			continue;
		if (r->files[i] != b)
			return corrupt_missing(p, b, errmsg);
		/* The last entry before the next kept file must be ours. */
		for (j = i + 1; j < r->nfiles && !r->keep[j]; j++)
			;
		rv = seek_le(r->cur, p->uid,
			     j < r->nfiles ? r->files[j] - 1 : INT64_MAX, &e);
		if (rv != 0)
			return idx_err(p, rv == NOTFOUND ? GQ_ECORRUPT : rv, b,
				       errmsg);
		if (e.seg != b)
			return corrupt_missing(p, e.seg, errmsg);
		if (j == r->nfiles && e.last + 1 != p->next_offset)
			return corrupt_index(p,
					     "last entry ends before next "
					     "offset",
					     e.last, errmsg);
		seg_name(name, b);
		if ((fd = openat(p->dirfd, name, O_RDWR | O_CLOEXEC)) < 0 ||
		    fstat(fd, &sb) != 0) {
			rv = gq__err_from_errno(errno);
			ERRMSG(errmsg, "%s/%s: open: errno %d", p->dir, name,
			       errno);
			if (fd >= 0)
				close(fd);
			return rv;
		}
		/* Indexed end, not file size: bytes past it are cut below. */
		if ((s = seg_new(b, fd)) == NULL || segs_push(p, s) != 0) {
			if (s != NULL)
				gq__free(s);
			close(fd);
			return GQ_ENOMEM;
		}
		s->size = e.pos + e.len;
		s->max_ts = e.run_max;
		r->fsize[p->nsegs - 1] = (uint64_t)sb.st_size;
		b = e.last + 1;
		if (j < r->nfiles && b != r->files[j])
			return corrupt_index(p, "gap before segment", b,
					     errmsg);
	}
	if (p->nsegs == 0)
		return corrupt_missing(p, first.seg, errmsg);
	return 0;
}

/* Walk segment @i batch by batch.  *bad is set to the first entry whose
 * batch is bad or missing (and true returned through *found). */
static int
walk_segment(struct gq__plog *p, struct recovery *r, size_t i,
	     struct entry *bad, bool *found, char *errmsg)
{
	struct segment *s = p->segs[i];
	struct entry e;
	uint64_t pos = 0;
	int rv;

	*found = false;
	r->buf.len = 0;
	for (rv = seek_ge(r->cur, p->uid, s->base, &e);
	     rv == 0 && e.seg == s->base;
	     rv = step(r->cur, MDB_NEXT, p->uid, &e)) {
		if (e.pos != pos)
			return corrupt_index(p, "entry out of place", e.base,
					     errmsg);
		if (e.pos + e.len > r->fsize[i]) {
			rv = NOTFOUND;
		} else {
			if ((rv = gq__buf_reserve(&r->buf, e.len)) != 0)
				return rv;
			rv = read_all(s->fd, r->buf.base, e.len, e.pos);
			if (rv < 0) {
				ERRMSG(errmsg,
				       "%s/%020" PRId64 ".log: read "
				       "failed",
				       p->dir, s->base);
				return rv;
			}
		}
		if (rv == NOTFOUND || !batch_matches(r->buf.base, &e)) {
			*bad = e;
			*found = true;
			return 0;
		}
		pos += e.len;
	}
	if (rv < 0)
		return idx_err(p, rv, s->base, errmsg);
	return 0;
}

/* Drop every batch from the first one of @bad's Raft entry on. */
static int
drop_from(struct gq__plog *p, struct recovery *r, const struct entry *bad,
	  size_t *cut_seg, uint64_t *cut_pos)
{
	struct entry from = *bad;
	struct entry e;
	size_t i;
	int rv;

	/* Earlier batches of the same Raft entry go too: replaying the
	 * entry re-appends all of its batches. */
	rv = seek_le(r->cur, p->uid, bad->base, &e);
	while (rv == 0) {
		rv = step(r->cur, MDB_PREV, p->uid, &e);
		if (rv != 0 || e.raft_index != bad->raft_index)
			break;
		from = e;
	}
	if (rv < 0)
		return idx_err(p, rv, from.base, NULL);
	if ((rv = del_offsets(p, r->txn, from.base, INT64_MAX,
			      &r->rep.dropped_batches)) != 0 ||
	    (rv = del_times(p, r->txn, -1, from.base)) != 0)
		return rv;
	p->next_offset = from.base;
	if (bad->raft_index > 0 && bad->raft_index - 1 < p->applied)
		p->applied = bad->raft_index - 1;
	else if (bad->raft_index == 0)
		p->applied = 0;
	for (i = 0; i < p->nsegs && p->segs[i]->base != from.seg; i++)
		;
	*cut_seg = i;
	*cut_pos = from.pos;
	r->dirty = true;
	return 0;
}

/* Recover the log; the repair commits in its own transaction, then the
 * files change (so a crash in between only repeats the repair). */
static int
recover(struct gq__plog *p, struct recovery *r, char *errmsg)
{
	struct entry bad;
	struct entry e;
	char name[NAME_SIZE];
	size_t cut = SIZE_MAX;
	uint64_t cut_pos = 0;
	bool found = false;
	size_t i;
	int rv;

	if ((rv = list_files(p, &r->files, &r->nfiles, errmsg)) != 0)
		return rv;
	if ((r->keep = gq__calloc(r->nfiles + 1, sizeof(*r->keep))) == NULL)
		return GQ_ENOMEM;
	if ((rv = gq__store_begin(p->st, true, &r->txn)) != 0)
		return rv;
	if ((rv = mdb_cursor_open(r->txn, p->st->offsets, &r->cur)) != 0)
		return gq__err_from_mdb(rv);
	if ((rv = load_pmeta(p, r, errmsg)) != 0 ||
	    (rv = match_segments(p, r, errmsg)) != 0)
		return rv;
	/* Only the last segment can hold unsynced appends in normal
	 * operation; older ones are walked only when their size is off (a
	 * crash before their data reached the disk, or damage). */
	for (i = 0; i < p->nsegs && !found; i++) {
		if (i + 1 < p->nsegs && r->fsize[i] == p->segs[i]->size)
			continue;
		if ((rv = walk_segment(p, r, i, &bad, &found, errmsg)) != 0)
			return rv;
	}
	if (found && (rv = drop_from(p, r, &bad, &cut, &cut_pos)) != 0)
		return rv;
	/* The new log end's running max timestamp. */
	p->have_run_max = false;
	if (p->next_offset > p->log_start) {
		if ((rv = seek_le(r->cur, p->uid, p->next_offset - 1, &e)) != 0)
			return idx_err(p, rv == NOTFOUND ? GQ_ECORRUPT : rv,
				       p->next_offset, errmsg);
		p->run_max = e.run_max;
		p->have_run_max = true;
		if (cut < p->nsegs)
			p->segs[cut]->max_ts = e.run_max;
	}
	if (r->dirty) {
		if ((rv = pmeta_put(p, r->txn)) != 0)
			return rv;
		mdb_cursor_close(r->cur);
		r->cur = NULL;
		rv = gq__store_commit(r->txn);
		r->txn = NULL;
		if (rv != 0)
			return rv;
	}
	/* Files.  Dropped segments and bytes first. */
	if (cut < p->nsegs) {
		if (cut_pos > 0) {
			r->rep.truncated_bytes += r->fsize[cut] - cut_pos;
			p->segs[cut]->size = cut_pos;
			r->fsize[cut] = cut_pos;
			if (ftruncate(p->segs[cut]->fd, (off_t)cut_pos) != 0)
				goto err_io;
			cut++;
		}
		/* A file left behind is unreferenced now: the next open
		 * deletes it, and a roll to its name truncates it. */
		for (i = cut; i < p->nsegs; i++) {
			r->rep.truncated_bytes += r->fsize[i];
			seg_name(name, p->segs[i]->base);
			unlinkat(p->dirfd, name, 0);
			seg_free(p->segs[i]);
		}
		p->nsegs = cut;
	}
	/* Torn tails. */
	for (i = 0; i < p->nsegs; i++) {
		if (r->fsize[i] <= p->segs[i]->size)
			continue;
		r->rep.truncated_bytes += r->fsize[i] - p->segs[i]->size;
		if (ftruncate(p->segs[i]->fd, (off_t)p->segs[i]->size) != 0)
			goto err_io;
	}
	for (i = 0; i < r->nfiles; i++) {
		if (r->keep[i])
			continue;
		seg_name(name, r->files[i]);
		if (unlinkat(p->dirfd, name, 0) != 0 && errno != ENOENT)
			goto err_io;
		r->rep.removed_files++;
	}
	r->rep.repaired = r->dirty || r->rep.truncated_bytes > 0 ||
			  r->rep.removed_files > 0;
	return 0;
err_io:
	rv = gq__err_from_errno(errno);
	ERRMSG(errmsg, "%s: repair failed: errno %d", p->dir, errno);
	return rv;
}

int
gq__plog_open(struct gq__store *st, uint64_t uid, const char *dir,
	      const struct gq__plog_conf *conf, struct gq__plog **out,
	      struct gq__plog_recovery *report, char *errmsg)
{
	struct recovery r;
	struct gq__plog *p;
	size_t i;
	int rv;

	if (st == NULL || dir == NULL || conf == NULL || out == NULL ||
	    errmsg == NULL)
		return GQ_EINVAL;
	errmsg[0] = '\0';
	memset(&r, 0, sizeof(r));
	if ((p = gq__calloc(1, sizeof(*p))) == NULL)
		return GQ_ENOMEM;
	p->st = st;
	p->uid = uid;
	p->conf = *conf;
	p->dirfd = -1;
	rv = GQ_ENOMEM;
	if ((p->dir = gq__strdup(dir)) == NULL)
		goto err_free;
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		goto err_dir;
	if (pthread_cond_init(&p->idle, NULL) != 0)
		goto err_mutex;
	if ((mkdir(dir, 0755) != 0 && errno != EEXIST) ||
	    (p->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rv = gq__err_from_errno(errno);
		ERRMSG(errmsg, "%s: errno %d", dir, errno);
		goto err_cond;
	}
	rv = recover(p, &r, errmsg);
	if (r.cur != NULL)
		mdb_cursor_close(r.cur);
	gq__store_abort(r.txn);
	gq__free(r.files);
	gq__free(r.keep);
	gq__free(r.fsize);
	gq__buf_free(&r.buf);
	if (rv != 0)
		goto err_segs;
	p->hw = p->next_offset;
	p->pub_start = p->log_start;
	p->lost_below = p->log_start;
	p->pub_size = live_size(p);
	p->pub_nsegs = (uint32_t)p->nsegs;
	if (report != NULL)
		*report = r.rep;
	*out = p;
	return 0;
err_segs:
	for (i = 0; i < p->nsegs; i++)
		seg_free(p->segs[i]);
	gq__free(p->segs);
	close(p->dirfd);
err_cond:
	pthread_cond_destroy(&p->idle);
err_mutex:
	pthread_mutex_destroy(&p->lock);
err_dir:
	gq__free(p->dir);
err_free:
	gq__free(p);
	return rv;
}

void
gq__plog_close(struct gq__plog *p)
{
	size_t i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->closing = true;
	while (p->users > 0)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
	gq__plog_abort(p);
	/* No other holder is left: every reference was taken inside a
	 * user_enter()/user_leave() pair. */
	for (i = 0; i < p->nsegs; i++)
		seg_put(p, p->segs[i]);
	gq__free(p->segs);
	close(p->dirfd);
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->lock);
	gq__free(p->dir);
	gq__free(p);
}
