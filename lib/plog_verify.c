/* SPDX-License-Identifier: MIT */
/*
 * plog_verify.c - the read-only check of one partition's log behind
 * `gqctl check-store` (contract in plog.h, formats in plog.h and
 * doc/storage.md).  Recovery (plog_recover.c) stops at the first problem
 * and repairs it; this pass changes nothing and goes on, so an operator
 * sees every problem of a stopped node's data before deciding what to do.
 *
 * Three passes, in one read transaction:
 *   1. the offsets entries in order, against pmeta and each other (the
 *      invariants of plog.h), collecting the segments they reference and
 *      the time-index entries they imply;
 *   2. each referenced segment file, batch by batch through recovery's own
 *      walk (gq__plog_walk_segment()), then its size against its indexed
 *      end; files nothing references;
 *   3. the time-index entries of the partition against those implied.
 *
 * The walk follows the index, not the bytes, so one bad batch does not
 * hide the next.  Nothing here opens a file for writing or a write
 * transaction.
 */
#include "plog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "error.h"
#include "heap.h"
#include "plog_int.h"

/* A segment the index references, in index order. */
struct vseg {
	int64_t base;
	int64_t first; /* base offset of its first entry */
	int64_t last;  /* last offset of its last entry */
	uint64_t end;  /* indexed end: position + length of its last entry */
};

/* A time-index entry the offsets entries imply. */
struct want {
	int64_t base;
	int64_t ts;
	bool seen;
};

struct verify {
	struct gq__store *st;
	uint64_t uid;
	const char *dir;
	gq__plog_problem_cb cb;
	void *arg;
	struct gq__plog_verify_report *rep;
	char *errmsg;

	MDB_txn *txn;
	MDB_cursor *cur;
	bool have_pmeta; /* a pmeta record exists and decodes */
	bool bad_pmeta;  /* one exists but does not (reported once) */

	struct vseg *segs;
	size_t nsegs;
	size_t cap_segs;
	struct want *want;
	size_t nwant;
	size_t cap_want;
	struct gq__buf buf;

	/* The segment being walked. */
	int64_t seg;
	uint64_t fsize;
	uint64_t end;
	bool short_told;
};

static void problem(struct verify *v, enum gq__plog_problem_kind kind,
		    int64_t seg, int64_t off, uint64_t pos, const char *fmt,
		    ...) __attribute__((format(printf, 6, 7)));

static void
problem(struct verify *v, enum gq__plog_problem_kind kind, int64_t seg,
	int64_t off, uint64_t pos, const char *fmt, ...)
{
	struct gq__plog_problem pr;
	va_list ap;

	pr.kind = kind;
	pr.segment = seg;
	pr.offset = off;
	pr.position = pos;
	va_start(ap, fmt);
	vsnprintf(pr.detail, sizeof(pr.detail), fmt, ap);
	va_end(ap);
	v->rep->problems++;
	if (v->cb != NULL)
		v->cb(v->arg, &pr);
}

static int
push_seg(struct verify *v, const struct entry *e)
{
	struct vseg *n;

	if (v->nsegs == v->cap_segs) {
		v->cap_segs = v->cap_segs == 0 ? 16 : v->cap_segs * 2;
		n = gq__realloc(v->segs, v->cap_segs * sizeof(*n));
		if (n == NULL)
			return GQ_ENOMEM;
		v->segs = n;
	}
	n = &v->segs[v->nsegs++];
	n->base = e->seg;
	n->first = e->base;
	n->last = e->last;
	n->end = e->pos + e->len;
	return 0;
}

static int
push_want(struct verify *v, const struct entry *e)
{
	struct want *n;

	if (v->nwant == v->cap_want) {
		v->cap_want = v->cap_want == 0 ? 16 : v->cap_want * 2;
		n = gq__realloc(v->want, v->cap_want * sizeof(*n));
		if (n == NULL)
			return GQ_ENOMEM;
		v->want = n;
	}
	n = &v->want[v->nwant++];
	n->base = e->base;
	n->ts = e->run_max;
	n->seen = false;
	return 0;
}

/* Read pmeta; an absent record is a new log (0, 0, 0), fine while the
 * index is empty too. */
static int
check_pmeta(struct verify *v)
{
	uint8_t kb[8];
	MDB_val k = { sizeof(kb), kb };
	MDB_val val;
	int rv;

	gq__be64_put(kb, v->uid);
	rv = mdb_get(v->txn, v->st->pmeta, &k, &val);
	if (rv == MDB_NOTFOUND)
		return 0;
	if (rv != 0)
		return gq__err_from_mdb(rv);
	if (gq__plog_pmeta_decode(&val, &v->rep->log_start,
				  &v->rep->next_offset, &v->rep->applied)) {
		problem(v, GQ__PLOG_BAD_PMETA, -1, -1, UINT64_MAX,
			"metadata record does not decode (%zu bytes, "
			"version %d)",
			val.mv_size,
			val.mv_size > 0 ? *(const uint8_t *)val.mv_data : -1);
		v->rep->log_start = v->rep->next_offset = 0;
		v->rep->applied = 0;
		v->bad_pmeta = true;
		return 0;
	}
	v->have_pmeta = true;
	return 0;
}

/* After gq__plog_step() or a seek said GQ_ECORRUPT: whether the record
 * under the cursor still belongs to this partition (so it is reported
 * here) rather than being the first record of the next one. */
static bool
current_is_ours(struct verify *v)
{
	MDB_val k;
	MDB_val val;

	if (mdb_cursor_get(v->cur, &k, &val, MDB_GET_CURRENT) != 0 ||
	    k.mv_size < 8)
		return false;
	return gq__be64_get(k.mv_data) == v->uid;
}

/* Checks of one entry against the one before it (@prev, NULL for the
 * first). */
static int
check_entry(struct verify *v, const struct entry *e, const struct entry *prev)
{
	struct vseg *s = v->nsegs > 0 ? &v->segs[v->nsegs - 1] : NULL;
	int64_t run;
	int rv;

	if (prev == NULL && v->have_pmeta && e->base != v->rep->log_start)
		problem(v, GQ__PLOG_INDEX_GAP, e->seg, e->base, e->pos,
			"first batch is at offset %" PRId64
			", the log start is %" PRId64,
			e->base, v->rep->log_start);
	if (prev != NULL && e->base != prev->last + 1)
		problem(v, GQ__PLOG_INDEX_GAP, e->seg, e->base, e->pos,
			"batch follows offset %" PRId64
			", expected offset %" PRId64,
			prev->last, prev->last + 1);
	if (s == NULL || e->seg != s->base) {
		if (s != NULL && e->seg < s->base)
			problem(v, GQ__PLOG_INDEX_ORDER, e->seg, e->base,
				e->pos,
				"segment %" PRId64
				" comes after segment %" PRId64 " in the index",
				e->seg, s->base);
		if (e->seg != e->base)
			problem(v, GQ__PLOG_INDEX_ORDER, e->seg, e->base,
				e->pos,
				"first batch of the segment is at offset "
				"%" PRId64,
				e->base);
		if ((rv = push_seg(v, e)) != 0)
			return rv;
	} else {
		s->last = e->last;
		s->end = e->pos + e->len;
	}
	if (prev != NULL && e->raft_index < prev->raft_index)
		problem(v, GQ__PLOG_INDEX_ORDER, e->seg, e->base, e->pos,
			"Raft index %" PRIu64 " after %" PRIu64, e->raft_index,
			prev->raft_index);
	if (v->have_pmeta && e->raft_index > v->rep->applied)
		problem(v, GQ__PLOG_INDEX_ORDER, e->seg, e->base, e->pos,
			"Raft index %" PRIu64
			" above the applied index %" PRIu64,
			e->raft_index, v->rep->applied);
	/* The first entry's running max may include batches retention
	 * deleted, so it can only be checked from below. */
	run = prev == NULL || e->max_ts > prev->run_max ? e->max_ts
							: prev->run_max;
	if (prev == NULL && e->run_max < e->max_ts)
		problem(v, GQ__PLOG_INDEX_ORDER, e->seg, e->base, e->pos,
			"running max timestamp %" PRId64
			" below the batch's max timestamp %" PRId64,
			e->run_max, e->max_ts);
	if (prev != NULL && e->run_max != run)
		problem(v, GQ__PLOG_INDEX_ORDER, e->seg, e->base, e->pos,
			"running max timestamp %" PRId64 ", expected %" PRId64,
			e->run_max, run);
	if (prev == NULL || e->run_max > prev->run_max)
		return push_want(v, e);
	return 0;
}

/* Pass 1: the offsets entries, in order. */
static int
check_index(struct verify *v)
{
	struct entry prev;
	struct entry e;
	bool have_prev = false;
	int rv;

	for (rv = gq__plog_seek_ge(v->cur, v->uid, 0, &e); rv != NOTFOUND;
	     rv = gq__plog_step(v->cur, MDB_NEXT, v->uid, &e)) {
		if (rv == GQ_ECORRUPT) {
			if (!current_is_ours(v))
				break;
			problem(v, GQ__PLOG_BAD_ENTRY, -1,
				have_prev ? prev.last + 1 : -1, UINT64_MAX,
				"an index record does not decode");
			continue;
		}
		if (rv != 0)
			return rv;
		v->rep->batches++;
		v->rep->bytes += e.len;
		if ((rv = check_entry(v, &e, have_prev ? &prev : NULL)) != 0)
			return rv;
		prev = e;
		have_prev = true;
	}
	if (!v->have_pmeta) {
		if (have_prev && !v->bad_pmeta)
			problem(v, GQ__PLOG_BAD_PMETA, -1, -1, UINT64_MAX,
				"no metadata record, but the index has "
				"%" PRIu64 " batches",
				v->rep->batches);
		return 0;
	}
	if (have_prev && prev.last + 1 != v->rep->next_offset)
		problem(v, GQ__PLOG_INDEX_GAP, prev.seg, prev.base, prev.pos,
			"the index ends at offset %" PRId64
			", the next offset is %" PRId64,
			prev.last + 1, v->rep->next_offset);
	if (!have_prev && v->rep->next_offset != v->rep->log_start)
		problem(v, GQ__PLOG_INDEX_GAP, -1, v->rep->log_start,
			UINT64_MAX,
			"the index is empty, the metadata says offsets %" PRId64
			"..%" PRId64,
			v->rep->log_start, v->rep->next_offset - 1);
	return 0;
}

/* The walk's callback: report, never stop. */
static int
batch_cb(void *arg, const struct entry *e, uint64_t pos, enum batch_verdict bv)
{
	struct verify *v = arg;
	struct gq__batch_header h;

	if (e->pos != pos)
		problem(v, GQ__PLOG_INDEX_ORDER, v->seg, e->base, e->pos,
			"batch indexed at position %" PRIu64
			", the previous one ends at %" PRIu64,
			e->pos, pos);
	switch (bv) {
	case BATCH_OK:
		break;
	case BATCH_SHORT:
		/* Everything after the first cut batch is cut too: say so
		 * once per segment, not once per batch. */
		v->rep->short_batches++;
		if (v->short_told)
			break;
		v->short_told = true;
		problem(v, GQ__PLOG_SHORT_SEGMENT, v->seg, e->base, e->pos,
			"file is %" PRIu64 " bytes, the index expects %" PRIu64
			": the batch at offset %" PRId64
			" and those after it are missing or cut",
			v->fsize, v->end, e->base);
		break;
	case BATCH_HEADER:
		problem(v, GQ__PLOG_BAD_HEADER, v->seg, e->base, e->pos,
			"batch header does not parse");
		break;
	case BATCH_CRC:
		problem(v, GQ__PLOG_BAD_CRC, v->seg, e->base, e->pos,
			"batch CRC-32C does not match its bytes");
		break;
	case BATCH_MISMATCH:
		/* The bytes are a valid batch, so its header is readable. */
		gq__batch_parse_header(v->buf.base, e->len, &h);
		problem(v, GQ__PLOG_BATCH_MISMATCH, v->seg, e->base, e->pos,
			"stored batch holds offsets %" PRId64 "..%" PRId64
			" (%zu bytes, max timestamp %" PRId64
			"), the index says %" PRId64 "..%" PRId64 " (%" PRIu32
			" bytes, max timestamp %" PRId64 ")",
			h.base_offset, gq__batch_last_offset(&h),
			gq__batch_total_size(&h), h.max_timestamp, e->base,
			e->last, e->len, e->max_ts);
		break;
	}
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a;
	int64_t y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Walk one referenced segment that exists. */
static int
check_segment(struct verify *v, const struct vseg *s, int dirfd)
{
	struct gq__plog_walk w;
	char name[NAME_SIZE];
	struct stat sb;
	int fd;
	int rv;

	gq__plog_seg_name(name, s->base);
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sb) != 0) {
		rv = gq__err_from_errno(errno);
		ERRMSG(v->errmsg, "%s/%s: open: %s", v->dir, name,
		       strerror(errno));
		if (fd >= 0)
			close(fd);
		return rv;
	}
	v->seg = s->base;
	v->fsize = (uint64_t)sb.st_size;
	v->end = s->end;
	v->short_told = false;
	memset(&w, 0, sizeof(w));
	w.cur = v->cur;
	w.uid = v->uid;
	w.seg = s->base;
	w.fd = fd;
	w.fsize = v->fsize;
	w.buf = &v->buf;
	w.cb = batch_cb;
	w.arg = v;
	rv = gq__plog_walk_segment(&w);
	close(fd);
	if (rv < 0 && w.read_failed) {
		ERRMSG(v->errmsg, "%s/%s: read failed: %s", v->dir, name,
		       gq_strerror(rv));
		return rv;
	}
	/* An undecodable entry stopped the walk: pass 1 reported it. */
	if (rv < 0 && rv != GQ_ECORRUPT)
		return rv;
	if (v->fsize > s->end)
		problem(v, GQ__PLOG_TORN_TAIL, s->base, -1, s->end,
			"%" PRIu64 " bytes past the indexed end (%" PRIu64
			" of %" PRIu64 " bytes)",
			v->fsize - s->end, s->end, v->fsize);
	return 0;
}

/* Pass 2: the segment files. */
static int
check_files(struct verify *v)
{
	int64_t *files = NULL;
	bool *used = NULL;
	struct stat sb;
	int64_t *hit;
	size_t nfiles = 0;
	size_t i;
	int dirfd = -1;
	int rv = 0;

	/* A partition whose directory is gone has no files. */
	if (stat(v->dir, &sb) == 0) {
		rv = gq__plog_list_files(v->dir, &files, &nfiles, v->errmsg);
		if (rv != 0)
			return rv;
		dirfd = open(v->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0) {
			rv = gq__err_from_errno(errno);
			ERRMSG(v->errmsg, "%s: %s", v->dir, strerror(errno));
			goto out;
		}
	} else if (errno != ENOENT) {
		ERRMSG(v->errmsg, "%s: %s", v->dir, strerror(errno));
		return gq__err_from_errno(errno);
	}
	if ((used = gq__calloc(nfiles + 1, sizeof(*used))) == NULL) {
		rv = GQ_ENOMEM;
		goto out;
	}
	v->rep->segments = (uint32_t)v->nsegs;
	for (i = 0; i < v->nsegs; i++) {
		const struct vseg *s = &v->segs[i];

		hit = nfiles > 0 ? bsearch(&s->base, files, nfiles,
					   sizeof(*files), cmp_i64)
				 : NULL;
		if (hit == NULL) {
			problem(v, GQ__PLOG_MISSING_SEGMENT, s->base, s->first,
				UINT64_MAX,
				"file not found; the index puts offsets "
				"%" PRId64 "..%" PRId64 " in it",
				s->first, s->last);
			continue;
		}
		used[hit - files] = true;
		if ((rv = check_segment(v, s, dirfd)) != 0)
			goto out;
	}
	for (i = 0; i < nfiles; i++) {
		char name[NAME_SIZE];

		if (used[i])
			continue;
		gq__plog_seg_name(name, files[i]);
		if (fstatat(dirfd, name, &sb, 0) != 0)
			sb.st_size = 0;
		problem(v, GQ__PLOG_EXTRA_SEGMENT, files[i], -1, UINT64_MAX,
			"no index entry references this file (%lld bytes)",
			(long long)sb.st_size);
	}
out:
	if (dirfd >= 0)
		close(dirfd);
	gq__free(used);
	gq__free(files);
	return rv;
}

static int
cmp_want(const void *a, const void *b)
{
	const struct want *x = a;
	const struct want *y = b;

	return (x->base > y->base) - (x->base < y->base);
}

/* Pass 3: the time index holds exactly the entries pass 1 implied. */
static int
check_times(struct verify *v)
{
	uint8_t kb[8];
	MDB_cursor *cur;
	MDB_val k = { sizeof(kb), kb };
	MDB_val val;
	struct want key;
	struct want *w;
	uint64_t uid;
	int64_t ts;
	int64_t base;
	size_t i;
	int rv;

	if (v->nwant > 1)
		qsort(v->want, v->nwant, sizeof(*v->want), cmp_want);
	if ((rv = mdb_cursor_open(v->txn, v->st->times, &cur)) != 0)
		return gq__err_from_mdb(rv);
	gq__be64_put(kb, v->uid);
	for (rv = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE); rv == 0;
	     rv = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
		if (k.mv_size < 8 || gq__be64_get(k.mv_data) != v->uid)
			break;
		if (!gq__plog_tkey_parse(&k, &uid, &ts, &base)) {
			problem(v, GQ__PLOG_TIME_INDEX, -1, -1, UINT64_MAX,
				"a time-index record does not decode "
				"(%zu-byte key)",
				k.mv_size);
			continue;
		}
		key.base = base;
		w = v->nwant > 0 ? bsearch(&key, v->want, v->nwant,
					   sizeof(*v->want), cmp_want)
				 : NULL;
		if (w != NULL && w->ts == ts && !w->seen) {
			w->seen = true;
			continue;
		}
		problem(v, GQ__PLOG_TIME_INDEX, -1, base, UINT64_MAX,
			"time-index entry (timestamp %" PRId64
			") matches no batch's running max",
			ts);
	}
	mdb_cursor_close(cur);
	if (rv != 0 && rv != MDB_NOTFOUND)
		return gq__err_from_mdb(rv);
	for (i = 0; i < v->nwant; i++) {
		if (!v->want[i].seen)
			problem(v, GQ__PLOG_TIME_INDEX, -1, v->want[i].base,
				UINT64_MAX,
				"no time-index entry for running max "
				"timestamp %" PRId64,
				v->want[i].ts);
	}
	return 0;
}

int
gq__plog_verify(struct gq__store *st, uint64_t uid, const char *dir,
		gq__plog_problem_cb cb, void *arg,
		struct gq__plog_verify_report *out, char *errmsg)
{
	struct gq__plog_verify_report rep;
	struct verify v;
	int rv;

	if (st == NULL || dir == NULL || out == NULL || errmsg == NULL)
		return GQ_EINVAL;
	errmsg[0] = '\0';
	memset(&rep, 0, sizeof(rep));
	memset(&v, 0, sizeof(v));
	v.st = st;
	v.uid = uid;
	v.dir = dir;
	v.cb = cb;
	v.arg = arg;
	v.rep = &rep;
	v.errmsg = errmsg;
	v.buf = (struct gq__buf)GQ__BUF_INIT;
	if ((rv = gq__store_begin(st, false, &v.txn)) != 0)
		return rv;
	if ((rv = mdb_cursor_open(v.txn, st->offsets, &v.cur)) != 0) {
		rv = gq__err_from_mdb(rv);
		goto out;
	}
	if ((rv = check_pmeta(&v)) != 0 || (rv = check_index(&v)) != 0 ||
	    (rv = check_files(&v)) != 0 || (rv = check_times(&v)) != 0)
		goto out;
	*out = rep;
out:
	if (v.cur != NULL)
		mdb_cursor_close(v.cur);
	gq__store_abort(v.txn);
	gq__free(v.segs);
	gq__free(v.want);
	gq__buf_free(&v.buf);
	return rv;
}

/* Add the uids of @dbi's keys (all begin with the be64 uid) to @a. */
static int
collect_uids(MDB_txn *txn, MDB_dbi dbi, uint64_t **a, size_t *n, size_t *cap)
{
	uint8_t kb[8];
	MDB_cursor *cur;
	MDB_val k;
	MDB_val val;
	uint64_t *na;
	uint64_t uid;
	int rv;

	if ((rv = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return gq__err_from_mdb(rv);
	for (rv = mdb_cursor_get(cur, &k, &val, MDB_FIRST); rv == 0;) {
		if (k.mv_size < 8) {
			rv = mdb_cursor_get(cur, &k, &val, MDB_NEXT);
			continue;
		}
		uid = gq__be64_get(k.mv_data);
		if (*n == *cap) {
			*cap = *cap == 0 ? 64 : *cap * 2;
			if ((na = gq__realloc(*a, *cap * sizeof(*na))) ==
			    NULL) {
				rv = GQ_ENOMEM;
				break;
			}
			*a = na;
		}
		(*a)[(*n)++] = uid;
		if (uid == UINT64_MAX)
			break;
		/* Skip the rest of this partition's records. */
		gq__be64_put(kb, uid + 1);
		k.mv_size = sizeof(kb);
		k.mv_data = kb;
		rv = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE);
	}
	mdb_cursor_close(cur);
	if (rv == GQ_ENOMEM)
		return rv;
	return rv == 0 || rv == MDB_NOTFOUND ? 0 : gq__err_from_mdb(rv);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int
gq__plog_list_uids(struct gq__store *st, uint64_t **out, size_t *n)
{
	uint64_t *a = NULL;
	size_t cap = 0;
	size_t len = 0;
	size_t i;
	size_t j;
	MDB_txn *txn;
	int rv;

	if (st == NULL || out == NULL || n == NULL)
		return GQ_EINVAL;
	if ((rv = gq__store_begin(st, false, &txn)) != 0)
		return rv;
	if ((rv = collect_uids(txn, st->pmeta, &a, &len, &cap)) != 0 ||
	    (rv = collect_uids(txn, st->offsets, &a, &len, &cap)) != 0 ||
	    (rv = collect_uids(txn, st->times, &a, &len, &cap)) != 0) {
		gq__store_abort(txn);
		gq__free(a);
		return rv;
	}
	gq__store_abort(txn);
	if (len > 1)
		qsort(a, len, sizeof(*a), cmp_u64);
	for (i = 0, j = 0; i < len; i++) {
		if (j == 0 || a[j - 1] != a[i])
			a[j++] = a[i];
	}
	*out = a;
	*n = j;
	return 0;
}

const char *
gq__plog_problem_name(enum gq__plog_problem_kind kind)
{
	switch (kind) {
	case GQ__PLOG_BAD_PMETA:
		return "bad_pmeta";
	case GQ__PLOG_BAD_ENTRY:
		return "bad_index_entry";
	case GQ__PLOG_INDEX_GAP:
		return "index_gap";
	case GQ__PLOG_INDEX_ORDER:
		return "index_order";
	case GQ__PLOG_MISSING_SEGMENT:
		return "missing_segment";
	case GQ__PLOG_EXTRA_SEGMENT:
		return "extra_segment";
	case GQ__PLOG_SHORT_SEGMENT:
		return "short_segment";
	case GQ__PLOG_TORN_TAIL:
		return "torn_tail";
	case GQ__PLOG_BAD_HEADER:
		return "bad_batch_header";
	case GQ__PLOG_BAD_CRC:
		return "bad_crc";
	case GQ__PLOG_BATCH_MISMATCH:
		return "batch_mismatch";
	case GQ__PLOG_TIME_INDEX:
		return "time_index";
	}
	return "unknown";
}
