/* SPDX-License-Identifier: MIT */
/*
 * plog_read.c - the calls on a partition's log that any thread may make:
 * gq__plog_read(), gq__plog_offset_for_time(), gq__plog_sync() and the
 * published log start, high watermark and stats (contracts in plog.h,
 * structures in plog_int.h).  They run concurrently with the loop
 * thread's appends, retention and close.
 *
 * Invariants kept here: every call that touches segments or LMDB is
 * bracketed by user_enter()/user_leave(), so gq__plog_close() can wait for
 * it, and works against the high watermark and log start read together in
 * user_enter(); only index entries below that high watermark are read, so
 * an uncommitted append is never seen; a segment is used only through a
 * reference taken under `lock` (seg_get()), so retention or an abort can
 * take it off the list while a reader still holds its fd; the lock is
 * never held over I/O.
 */
#include "plog.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <unistd.h>

#include "error.h"
#include "plog_int.h"

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

/* The two accessors below read the published values through
 * gq__plog_stats(), under the same lock. */
int64_t
gq__plog_log_start(struct gq__plog *p)
{
	struct gq__plog_stats s;

	gq__plog_stats(p, &s);
	return s.log_start;
}

int64_t
gq__plog_next_offset(struct gq__plog *p)
{
	struct gq__plog_stats s;

	gq__plog_stats(p, &s);
	return s.next_offset;
}

/* Begin a read-only transaction with a cursor on @dbi; on success the
 * caller closes the cursor and aborts the transaction. */
static int
cursor_begin(struct gq__plog *p, MDB_dbi dbi, MDB_txn **txn, MDB_cursor **cur)
{
	int rv;

	if ((rv = gq__store_begin(p->st, false, txn)) != 0)
		return rv;
	if ((rv = mdb_cursor_open(*txn, dbi, cur)) != 0) {
		gq__store_abort(*txn);
		return gq__err_from_mdb(rv);
	}
	return 0;
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
	rv = gq__plog_read_all(s->fd, dst, e->len, e->pos);
	if (rv < 0) {
		ERRMSG(errmsg, "%s/%020" PRId64 ".log: read failed", p->dir,
		       s->base);
		return rv;
	}
	if (rv == NOTFOUND || !gq__plog_batch_matches(dst, e)) {
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
	if ((rv = cursor_begin(p, p->st->offsets, &txn, &cur)) != 0)
		goto out_leave;
	/* A missing entry below hw means a retention or removal committed
	 * in LMDB but not yet published; missing() tells that apart from a
	 * damaged index. */
	rv = gq__plog_seek_le(cur, p->uid, offset, &e);
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
			gq__plog_seg_put(p, s);
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
		rv = gq__plog_step(cur, MDB_NEXT, p->uid, &e);
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
	gq__plog_seg_put(p, s);
out_cursor:
	if (rv == GQ_ECORRUPT && errmsg != NULL && errmsg[0] == '\0')
		ERRMSG(errmsg, "%s: partition %" PRIu64 ": bad index entry",
		       GQ__STORE_FILE, p->uid);
	mdb_cursor_close(cur);
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
	if ((rv = cursor_begin(p, p->st->times, &txn, &cur)) != 0)
		goto out_leave;
	gq__plog_tkey(kb, p->uid, ts, 0);
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
		gq__plog_seg_put(p, s);
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
