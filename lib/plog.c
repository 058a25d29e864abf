/* SPDX-License-Identifier: MIT */
/*
 * plog.c - the loop thread's side of one partition's log: the encoding of
 * its offsets, times and pmeta records (formats in plog.h and
 * doc/storage.md), the index cursor and segment helpers the other parts
 * share, append, commit and abort of the pending transaction, retention,
 * removal and close.  Reads and the other any-thread calls are in
 * plog_read.c, open and recovery in plog_recover.c; the structures and the
 * invariants all the parts keep are in plog_int.h.
 *
 * This part keeps the write-side invariants: once the log is open, only
 * it changes p->segs (loop thread, under `lock`); bytes are written
 * positionally at a segment's working size, so gq__plog_abort() cannot
 * fail; `saved` is taken before the first change of a transaction
 * (pending_begin()) and is what an abort restores; segments doomed by a
 * pending retention stay listed until gq__plog_commit() publishes the new
 * log start.
 */
#include "plog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "batch.h"
#include "error.h"
#include "fsutil.h"
#include "heap.h"
#include "plog_int.h"

#define CHUNK 64 /* batches per pwritev() */

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

void
gq__plog_tkey(uint8_t k[TKEY_SIZE], uint64_t uid, int64_t ts, int64_t base)
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

int
gq__plog_pmeta_decode(const MDB_val *v, int64_t *log_start,
		      int64_t *next_offset, uint64_t *applied)
{
	const uint8_t *vb = v->mv_data;

	if (v->mv_size != PMETA_SIZE || vb[0] != PMETA_VERSION)
		return GQ_ECORRUPT;
	*log_start = (int64_t)gq__be64_get(vb + 8);
	*next_offset = (int64_t)gq__be64_get(vb + 16);
	*applied = gq__be64_get(vb + 24);
	if (*log_start < 0 || *next_offset < *log_start)
		return GQ_ECORRUPT;
	return 0;
}

bool
gq__plog_tkey_parse(const MDB_val *k, uint64_t *uid, int64_t *ts, int64_t *base)
{
	const uint8_t *kb = k->mv_data;

	if (k->mv_size != TKEY_SIZE)
		return false;
	*uid = gq__be64_get(kb);
	*ts = (int64_t)(gq__be64_get(kb + 8) ^ (UINT64_C(1) << 63));
	*base = (int64_t)gq__be64_get(kb + 16);
	return true;
}

int
gq__plog_pmeta_put(struct gq__plog *p, MDB_txn *txn)
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
 * Cursor helpers over the offsets database (contracts in plog_int.h).
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

int
gq__plog_seek_ge(MDB_cursor *cur, uint64_t uid, int64_t off, struct entry *e)
{
	uint8_t kb[OKEY_SIZE];
	MDB_val k = { sizeof(kb), kb };
	MDB_val v;
	int rv;

	okey(kb, uid, off);
	rv = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	return cursor_decode(cur, rv, &k, &v, uid, e);
}

/* LMDB only seeks forward (MDB_SET_RANGE), so step back one unless the key
 * matched exactly, or take the last key when none is >=. */
int
gq__plog_seek_le(MDB_cursor *cur, uint64_t uid, int64_t off, struct entry *e)
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

int
gq__plog_step(MDB_cursor *cur, MDB_cursor_op op, uint64_t uid, struct entry *e)
{
	MDB_val k;
	MDB_val v;
	int rv;

	rv = mdb_cursor_get(cur, &k, &v, op);
	return cursor_decode(cur, rv, &k, &v, uid, e);
}

int
gq__plog_del_offsets(struct gq__plog *p, MDB_txn *txn, int64_t from, int64_t to,
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

/* Running max timestamps never fall, so time keys are in base order too
 * and both scans are ranges. */
int
gq__plog_del_times(struct gq__plog *p, MDB_txn *txn, int64_t below,
		   int64_t from_end)
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

	gq__plog_tkey(kb, p->uid, ts, base);
	return gq__err_from_mdb(mdb_put(txn, p->st->times, &k, &v, 0));
}

/*
 * Segments.
 */

void
gq__plog_seg_name(char name[NAME_SIZE], int64_t base)
{
	snprintf(name, NAME_SIZE, "%020" PRId64 ".log", base);
}

bool
gq__plog_seg_parse(const char *name, int64_t *base)
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

struct segment *
gq__plog_seg_new(int64_t base, int fd)
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

void
gq__plog_seg_free(struct segment *s)
{
	close(s->fd);
	gq__free(s);
}

void
gq__plog_seg_put(struct gq__plog *p, struct segment *s)
{
	bool last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&p->lock);
	if (last)
		gq__plog_seg_free(s);
}

int
gq__plog_segs_push(struct gq__plog *p, struct segment *s)
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

	gq__plog_seg_name(name, base);
	/* O_TRUNC: a file of that name can only be debris of an abort. */
	fd = openat(p->dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return gq__err_from_errno(errno);
	rv = GQ_ENOMEM;
	if ((s = gq__plog_seg_new(base, fd)) == NULL)
		goto err_unlink;
	s->max_ts = p->have_run_max ? p->run_max : INT64_MIN;
	pthread_mutex_lock(&p->lock);
	rv = gq__plog_segs_push(p, s);
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

int
gq__plog_read_all(int fd, uint8_t *buf, size_t len, uint64_t off)
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

enum batch_verdict
gq__plog_batch_check(const uint8_t *buf, const struct entry *e)
{
	struct gq__batch_header h;

	if (gq__batch_parse_header(buf, e->len, &h) != 0)
		return BATCH_HEADER;
	if (gq__batch_verify_crc(buf, &h) != 0)
		return BATCH_CRC;
	if (gq__batch_total_size(&h) != e->len || h.base_offset != e->base ||
	    gq__batch_last_offset(&h) != e->last ||
	    h.max_timestamp != e->max_ts)
		return BATCH_MISMATCH;
	return BATCH_OK;
}

bool
gq__plog_batch_matches(const uint8_t *buf, const struct entry *e)
{
	return gq__plog_batch_check(buf, e) == BATCH_OK;
}

/*
 * Pending-transaction bookkeeping.
 */

/* Cut uncommitted bytes off a segment.  Failure is harmless (see the
 * invariants in plog_int.h): later writes overwrite the bytes and recovery
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

uint64_t
gq__plog_live_size(const struct gq__plog *p)
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
		gq__plog_seg_name(name, p->segs[i]->base);
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
	p->pub_size = gq__plog_live_size(p);
	p->pub_nsegs = (uint32_t)p->nsegs;
	pthread_mutex_unlock(&p->lock);
	while ((s = reap) != NULL) {
		reap = s->next;
		gq__plog_seg_free(s);
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
		gq__plog_seg_name(name, s->base);
		unlinkat(p->dirfd, name, 0);
		gq__plog_seg_put(p, s);
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
	if ((rv = gq__pwritev_all(s->fd, iov, (int)(2 * cnt), s->size)) != 0)
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
		 * segment of its own, and no segment is ever empty.  After a
		 * restart every segment is doomed: the log starts anew. */
		if (s == NULL || s->doomed ||
		    (s->size > 0 &&
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
	if ((rv = gq__plog_pmeta_put(p, txn)) != 0)
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
	if ((rv = gq__plog_pmeta_put(p, txn)) != 0)
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
	if ((rv = gq__plog_del_offsets(p, txn, s->base, next->base, NULL)) != 0)
		return rv;
	if ((rv = gq__plog_del_times(p, txn, next->base, 0)) != 0)
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

int
gq__plog_restart_at(struct gq__plog *p, MDB_txn *txn, int64_t offset)
{
	int rv;

	if (p->removed)
		return GQ_ECLOSED;
	if (offset < p->next_offset)
		return GQ_EINVAL;
	if (offset == p->next_offset && p->log_start == offset)
		return 0;
	pending_begin(p);
	pthread_mutex_lock(&p->lock);
	p->lost_below = offset;
	pthread_mutex_unlock(&p->lock);
	if ((rv = gq__plog_del_offsets(p, txn, 0, INT64_MAX, NULL)) != 0 ||
	    (rv = gq__plog_del_times(p, txn, INT64_MAX, 0)) != 0)
		goto err;
	for (size_t i = p->ndoomed; i < p->nsegs; i++)
		p->segs[i]->doomed = true;
	p->ndoomed = p->nsegs;
	p->log_start = offset;
	p->next_offset = offset;
	p->have_run_max = false;
	if ((rv = gq__plog_pmeta_put(p, txn)) != 0)
		goto err;
	return 0;
err:
	gq__plog_abort(p);
	return rv;
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
	uint64_t total = gq__plog_live_size(p);
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
	if (freed > 0 && (rv = gq__plog_pmeta_put(p, txn)) != 0)
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
	    (rv = gq__plog_pmeta_put(p, txn)) != 0) {
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
	if ((rv = gq__plog_del_offsets(p, txn, 0, INT64_MAX, NULL)) != 0 ||
	    (rv = gq__plog_del_times(p, txn, INT64_MAX, 0)) != 0)
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
		if (gq__plog_seg_parse(d->d_name, &base) &&
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
		gq__plog_seg_free(s);
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
 * Close.
 */

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
	 * user_enter()/user_leave() pair (plog_read.c). */
	for (i = 0; i < p->nsegs; i++)
		gq__plog_seg_put(p, p->segs[i]);
	gq__free(p->segs);
	close(p->dirfd);
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->lock);
	gq__free(p->dir);
	gq__free(p);
}
