/* SPDX-License-Identifier: MIT */
/*
 * plog_recover.c - opening a partition's log: gq__plog_open() and the
 * recovery it runs (contract in plog.h, formats in plog.h and
 * doc/storage.md, structures in plog_int.h).  It lists the segment files,
 * matches them against the index and pmeta, walks the active segment (and
 * any whose size is off) batch by batch, drops the first bad or missing
 * batch's whole Raft entry and everything after it, cuts torn tails and
 * deletes unreferenced files.  The batch walk and the file listing are
 * shared with the read-only verifier (plog_verify.c), so a batch that
 * check-store calls bad is exactly one that recovery would drop.
 *
 * Invariants kept here: the repair of LMDB records commits in its own
 * transaction before any file changes, so a crash in between only repeats
 * the repair; the applied index is only ever lowered, and only when
 * committed batches are dropped (to the first dropped Raft index - 1, so
 * Raft replays them), never for a torn tail; a file is deleted only when
 * no index entry references it; the opened log publishes exactly the
 * recovered state, with nothing pending.
 */
#include "plog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "heap.h"
#include "plog_int.h"

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a;
	int64_t y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
gq__plog_list_files(const char *path, int64_t **out, size_t *n, char *errmsg)
{
	struct dirent *d;
	int64_t *a = NULL;
	int64_t *na;
	size_t cap = 0;
	int64_t base;
	DIR *dir;

	*out = NULL;
	*n = 0;
	if ((dir = opendir(path)) == NULL) {
		ERRMSG(errmsg, "%s: opendir: errno %d", path, errno);
		return gq__err_from_errno(errno);
	}
	while ((d = readdir(dir)) != NULL) {
		if (!gq__plog_seg_parse(d->d_name, &base))
			continue;
		if (*n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((na = gq__realloc(a, cap * sizeof(*a))) == NULL) {
				closedir(dir);
				gq__free(a);
				*n = 0;
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

int
gq__plog_walk_segment(struct gq__plog_walk *w)
{
	enum batch_verdict v;
	struct entry e;
	uint64_t pos = 0;
	int rv;

	w->read_failed = false;
	w->buf->len = 0;
	for (rv = gq__plog_seek_ge(w->cur, w->uid, w->seg, &e);
	     rv == 0 && e.seg == w->seg;
	     rv = gq__plog_step(w->cur, MDB_NEXT, w->uid, &e)) {
		/* The entry says where its batch is; a file too short for it
		 * is judged without reading. */
		if (e.pos + e.len > w->fsize) {
			v = BATCH_SHORT;
		} else {
			if ((rv = gq__buf_reserve(w->buf, e.len)) != 0)
				return rv;
			rv = gq__plog_read_all(w->fd, w->buf->base, e.len,
					       e.pos);
			if (rv == NOTFOUND) {
				/* Shrunk since it was measured. */
				v = BATCH_SHORT;
			} else if (rv < 0) {
				w->read_failed = true;
				return rv;
			} else {
				v = gq__plog_batch_check(w->buf->base, &e);
			}
		}
		if ((rv = w->cb(w->arg, &e, pos, v)) != 0)
			return rv;
		pos = e.pos + e.len;
	}
	return rv < 0 ? rv : 0;
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
	int rv;

	gq__be64_put(kb, p->uid);
	rv = mdb_get(r->txn, p->st->pmeta, &k, &v);
	if (rv == MDB_NOTFOUND)
		return 0;
	if (rv != 0)
		return gq__err_from_mdb(rv);
	if (gq__plog_pmeta_decode(&v, &p->log_start, &p->next_offset,
				  &p->applied) != 0)
		return corrupt_index(p, "bad metadata record", p->log_start,
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
		rv = gq__plog_seek_ge(r->cur, p->uid, r->files[i], &e);
		if (rv < 0)
			return idx_err(p, rv, r->files[i], errmsg);
		r->keep[i] = rv == 0 && e.base == r->files[i] &&
			     e.seg == r->files[i];
	}
	rv = gq__plog_seek_ge(r->cur, p->uid, 0, &first);
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
		rv = gq__plog_seek_le(
			r->cur, p->uid,
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
		gq__plog_seg_name(name, b);
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
		if ((s = gq__plog_seg_new(b, fd)) == NULL ||
		    gq__plog_segs_push(p, s) != 0) {
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

/* What walk_segment() is looking for. */
struct first_bad {
	struct gq__plog *p;
	struct entry *bad;
	char *errmsg;
	bool misplaced; /* stopped at an entry out of place */
};

/* Recovery stops at the first bad or missing batch; an entry out of place
 * means the index itself is wrong, which replaying cannot fix. */
static int
first_bad_cb(void *arg, const struct entry *e, uint64_t pos,
	     enum batch_verdict v)
{
	struct first_bad *fb = arg;

	if (e->pos != pos) {
		fb->misplaced = true;
		return corrupt_index(fb->p, "entry out of place", e->base,
				     fb->errmsg);
	}
	if (v == BATCH_OK)
		return 0;
	*fb->bad = *e;
	return NOTFOUND;
}

/* Walk segment @i batch by batch.  *bad is set to the first entry whose
 * batch is bad or missing (and true returned through *found). */
static int
walk_segment(struct gq__plog *p, struct recovery *r, size_t i,
	     struct entry *bad, bool *found, char *errmsg)
{
	struct first_bad fb = { p, bad, errmsg, false };
	struct gq__plog_walk w;
	int rv;

	*found = false;
	memset(&w, 0, sizeof(w));
	w.cur = r->cur;
	w.uid = p->uid;
	w.seg = p->segs[i]->base;
	w.fd = p->segs[i]->fd;
	w.fsize = r->fsize[i];
	w.buf = &r->buf;
	w.cb = first_bad_cb;
	w.arg = &fb;
	rv = gq__plog_walk_segment(&w);
	if (rv == NOTFOUND) {
		*found = true;
		return 0;
	}
	if (rv < 0 && w.read_failed) {
		ERRMSG(errmsg, "%s/%020" PRId64 ".log: read failed", p->dir,
		       w.seg);
		return rv;
	}
	if (fb.misplaced)
		return rv;
	if (rv < 0)
		return idx_err(p, rv, w.seg, errmsg);
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
	rv = gq__plog_seek_le(r->cur, p->uid, bad->base, &e);
	while (rv == 0) {
		rv = gq__plog_step(r->cur, MDB_PREV, p->uid, &e);
		if (rv != 0 || e.raft_index != bad->raft_index)
			break;
		from = e;
	}
	if (rv < 0)
		return idx_err(p, rv, from.base, NULL);
	if ((rv = gq__plog_del_offsets(p, r->txn, from.base, INT64_MAX,
				       &r->rep.dropped_batches)) != 0 ||
	    (rv = gq__plog_del_times(p, r->txn, -1, from.base)) != 0)
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

	if ((rv = gq__plog_list_files(p->dir, &r->files, &r->nfiles, errmsg)) !=
	    0)
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
		if ((rv = gq__plog_seek_le(r->cur, p->uid, p->next_offset - 1,
					   &e)) != 0)
			return idx_err(p, rv == NOTFOUND ? GQ_ECORRUPT : rv,
				       p->next_offset, errmsg);
		p->run_max = e.run_max;
		p->have_run_max = true;
		if (cut < p->nsegs)
			p->segs[cut]->max_ts = e.run_max;
	}
	if (r->dirty) {
		if ((rv = gq__plog_pmeta_put(p, r->txn)) != 0)
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
			gq__plog_seg_name(name, p->segs[i]->base);
			unlinkat(p->dirfd, name, 0);
			gq__plog_seg_free(p->segs[i]);
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
		gq__plog_seg_name(name, r->files[i]);
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
	p->pub_size = gq__plog_live_size(p);
	p->pub_nsegs = (uint32_t)p->nsegs;
	if (report != NULL)
		*report = r.rep;
	*out = p;
	return 0;
err_segs:
	for (i = 0; i < p->nsegs; i++)
		gq__plog_seg_free(p->segs[i]);
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
