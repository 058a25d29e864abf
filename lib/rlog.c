/* SPDX-License-Identifier: MIT */
/*
 * rlog.c - the writing half of one Raft group's disk state (rlog.h has the
 * formats and rules, rlog_int.h the state): term and vote, appends and
 * segment rolls, truncation, snapshots, and the split sync.  Opening,
 * recovery and reading back are in rlog_open.c.
 *
 * Appends go to the page cache with one pwritev per batch of entries,
 * straight from raft's buffers; only the small record headers are built
 * here.  Segments with unsynced writes keep their fd open until a sync
 * covered them, so that the sync can dup it; the others are closed.
 */
#include "rlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "buf.h"
#include "crc32c.h"
#include "error.h"
#include "fsutil.h"
#include "heap.h"
#include "rconf.h"
#include "rlog_int.h"

/* --- shared file helpers ------------------------------------------------- */

int
gq__rlog_read_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	ssize_t k;

	while (len > 0) {
		k = pread(fd, p, len, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return errno_code();
		if (k == 0)
			return GQ_ECORRUPT; /* shorter than measured */
		p += k;
		len -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

/* Make creations, renames and removals in the directory durable. */
int
gq__rlog_dir_sync(struct gq__rlog *l)
{
	if (fsync(l->dirfd) != 0)
		return errno_code();
	l->dir_dirty = false;
	return 0;
}

int
gq__rlog_seg_fd(struct gq__rlog *l, struct seg *s)
{
	char name[NAME_SIZE];

	if (s->fd >= 0)
		return s->fd;
	seg_name(name, s->first);
	if ((s->fd = open_at(l, name, O_RDWR)) < 0)
		return errno_code();
	return s->fd;
}

/* Remove segments [from, n) from disk and from the list. */
int
gq__rlog_drop_segs(struct gq__rlog *l, size_t from)
{
	char name[NAME_SIZE];
	int rv = 0;

	while (l->n > from) {
		struct seg *s = &l->segs[--l->n];

		seg_close(s);
		seg_name(name, s->first);
		if (unlinkat(l->dirfd, name, 0) != 0 && errno != ENOENT &&
		    rv == 0)
			rv = errno_code();
		l->dir_dirty = true;
	}
	return rv;
}

int
gq__rlog_seg_push(struct gq__rlog *l, raft_index first)
{
	struct seg *p;

	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 8 : l->cap * 2;

		if ((p = gq__realloc(l->segs, cap * sizeof(*p))) == NULL)
			return GQ_ENOMEM;
		l->segs = p;
		l->cap = cap;
	}
	memset(&l->segs[l->n], 0, sizeof(*p));
	l->segs[l->n].first = first;
	l->segs[l->n].last = first - 1;
	l->segs[l->n].fd = -1;
	l->n++;
	return 0;
}

/* --- writing ------------------------------------------------------------- */

static void
meta_encode(uint8_t *p, uint64_t seq, raft_term term, raft_id vote)
{
	memcpy(p, META_MAGIC, 8);
	gq__le64_put(p + 8, seq);
	gq__le64_put(p + 16, term);
	gq__le64_put(p + 24, vote);
	gq__le32_put(p + 32, gq__crc32c(0, p, 32));
}

static int
meta_write(struct gq__rlog *l, raft_term term, raft_id vote)
{
	uint8_t p[META_LEN];
	struct iovec iov = { p, sizeof(p) };
	uint64_t seq = l->meta_seq + 1;
	int rv;

	/* The slot of the older value: the newer one survives a torn
	 * write. */
	meta_encode(p, seq, term, vote);
	if ((rv = gq__pwritev_all(l->metafd, &iov, 1, (seq & 1) * META_SLOT)) ||
	    (rv = datasync(l->metafd)))
		return rv;
	l->meta_seq = seq;
	l->term = term;
	l->vote = vote;
	return 0;
}

static int
snap_write(struct gq__rlog *l, const struct raft_snapshot *s)
{
	struct gq__buf h = GQ__BUF_INIT;
	uint8_t tail[4];
	struct iovec iov;
	uint64_t dlen = 0;
	uint64_t off;
	uint32_t crc;
	size_t cpos;
	int fd;
	int rv;

	for (unsigned i = 0; i < s->n_bufs; i++)
		dlen += s->bufs[i].len;
	rv = gq__buf_append(&h, SNAP_MAGIC, 8) |
	     gq__buf_put_le64(&h, s->index) | gq__buf_put_le64(&h, s->term) |
	     gq__buf_put_le64(&h, s->configuration_index) |
	     gq__buf_put_le32(&h, 0);
	if (rv != 0)
		goto out;
	cpos = h.len - 4;
	if ((rv = gq__rconf_encode(&s->configuration, &h)) != 0)
		goto out;
	if (h.len - cpos - 4 > UINT32_MAX) {
		rv = GQ_EINVAL;
		goto out;
	}
	gq__le32_put(h.base + cpos, (uint32_t)(h.len - cpos - 4));
	if ((rv = gq__buf_put_le64(&h, dlen)) != 0)
		goto out;
	if ((fd = open_at(l, SNAP_TMP, O_WRONLY | O_CREAT | O_TRUNC)) < 0) {
		rv = errno_code();
		goto out;
	}
	crc = gq__crc32c(0, h.base, h.len);
	iov = (struct iovec){ h.base, h.len };
	rv = gq__pwritev_all(fd, &iov, 1, 0);
	off = h.len;
	for (unsigned i = 0; rv == 0 && i < s->n_bufs; i++) {
		crc = gq__crc32c(crc, s->bufs[i].base, s->bufs[i].len);
		iov = (struct iovec){ s->bufs[i].base, s->bufs[i].len };
		rv = gq__pwritev_all(fd, &iov, 1, off);
		off += s->bufs[i].len;
	}
	gq__le32_put(tail, crc);
	iov = (struct iovec){ tail, 4 };
	if (rv == 0)
		rv = gq__pwritev_all(fd, &iov, 1, off);
	if (rv == 0)
		rv = datasync(fd);
	close(fd);
	if (rv != 0)
		unlinkat(l->dirfd, SNAP_TMP, 0);
out:
	gq__buf_free(&h);
	return rv;
}

int
gq__rlog_snapshot_put(struct gq__rlog *l, const struct raft_snapshot *s,
		      unsigned trailing)
{
	char name[NAME_SIZE];
	char old[NAME_SIZE];
	bool had = l->has_snap;
	raft_index cut;
	size_t k;
	int rv;

	if ((rv = snap_write(l, s)) != 0)
		return rv;
	snap_name(name, s->term, s->index);
	snap_name(old, l->snap_term, l->snap_index);
	if (renameat(l->dirfd, SNAP_TMP, l->dirfd, name) != 0) {
		rv = errno_code();
		unlinkat(l->dirfd, SNAP_TMP, 0);
		return rv;
	}
	/* Once the rename is durable the new snapshot is the state; until
	 * then the old one still is, so it goes only afterwards. */
	if ((rv = gq__rlog_dir_sync(l)) != 0)
		return rv;
	l->has_snap = true;
	l->snap_index = s->index;
	l->snap_term = s->term;
	if (had && strcmp(old, name) != 0)
		unlinkat(l->dirfd, old, 0);
	if (trailing == 0) {
		rv = gq__rlog_drop_segs(l, 0);
		l->last = s->index;
		if (l->durable < s->index)
			l->durable = s->index;
		if (l->sync_limit > s->index)
			l->sync_limit = s->index;
	} else {
		cut = s->index > trailing ? s->index - trailing : 0;
		for (k = 0; k < l->n && l->segs[k].last < cut; k++)
			;
		/* The oldest go first: a crash midway leaves a contiguous
		 * log. */
		for (size_t i = 0; i < k && rv == 0; i++) {
			seg_name(name, l->segs[i].first);
			seg_close(&l->segs[i]);
			if (unlinkat(l->dirfd, name, 0) != 0 && errno != ENOENT)
				rv = errno_code();
		}
		memmove(l->segs, l->segs + k, (l->n - k) * sizeof(*l->segs));
		l->n -= k;
		l->dir_dirty = l->dir_dirty || k > 0;
		l->last = tail_last(l) > l->last ? tail_last(l) : l->last;
		if (l->n == 0 && l->last < s->index)
			l->last = s->index;
	}
	/* With the log replaced, stale segments must not come back beside
	 * the new ones a later append creates. */
	if (rv == 0 && l->dir_dirty)
		rv = gq__rlog_dir_sync(l);
	return rv;
}

raft_term
gq__rlog_term(const struct gq__rlog *l)
{
	return l->term;
}

raft_id
gq__rlog_vote(const struct gq__rlog *l)
{
	return l->vote;
}

raft_index
gq__rlog_last_index(const struct gq__rlog *l)
{
	return l->last;
}

raft_index
gq__rlog_first_index(const struct gq__rlog *l)
{
	return l->n > 0 ? l->segs[0].first : 0;
}

raft_index
gq__rlog_durable_index(const struct gq__rlog *l)
{
	return l->durable;
}

unsigned
gq__rlog_repairs(const struct gq__rlog *l)
{
	return l->repairs;
}

int
gq__rlog_set_term(struct gq__rlog *l, raft_term term)
{
	return meta_write(l, term, 0);
}

int
gq__rlog_set_vote(struct gq__rlog *l, raft_id id)
{
	return meta_write(l, l->term, id);
}

/* Past this many segments with unsynced writes, sync the oldest here so
 * that one sync (directory included) always fits GQ__RLOG_SYNC_MAX. */
static int
limit_dirty(struct gq__rlog *l)
{
	struct seg *oldest = NULL;
	unsigned n = 0;
	int rv;

	for (size_t i = 0; i < l->n; i++) {
		if (l->segs[i].dirty && n++ == 0)
			oldest = &l->segs[i];
	}
	if (n + 2 < GQ__RLOG_SYNC_MAX)
		return 0;
	/* Only with segments much smaller than one append. */
	if ((rv = datasync(oldest->fd)) != 0)
		return rv;
	oldest->dirty = false;
	seg_close(oldest);
	return 0;
}

/* Start segment @first as the new active one. */
static int
roll(struct gq__rlog *l, raft_index first)
{
	char name[NAME_SIZE];
	uint8_t h[SEG_HDR];
	struct iovec iov = { h, sizeof(h) };
	struct seg *s;
	int rv;

	if (l->n > 0) {
		s = &l->segs[l->n - 1];
		if (!s->dirty)
			seg_close(s);
		if ((rv = limit_dirty(l)) != 0)
			return rv;
	}
	if ((rv = gq__rlog_seg_push(l, first)) != 0)
		return rv;
	s = &l->segs[l->n - 1];
	seg_name(name, first);
	/* A leftover of a failed undo is replaced. */
	if ((s->fd = open_at(l, name, O_RDWR | O_CREAT | O_TRUNC)) < 0) {
		l->n--;
		return errno_code();
	}
	l->dir_dirty = true;
	s->dirty = true;
	memset(h, 0, sizeof(h));
	memcpy(h, SEG_MAGIC, 8);
	gq__le32_put(h + 8, SEG_VERSION);
	if ((rv = gq__pwritev_all(s->fd, &iov, 1, 0)) != 0)
		return rv; /* the caller's undo removes it */
	s->size = SEG_HDR;
	return 0;
}

/* Write entries [0, n) of @es (indexes from @index) into the active
 * segment, as many as fit before it is full.  Returns how many, or a
 * negative code. */
static int
write_some(struct gq__rlog *l, raft_index index, const struct raft_entry *es,
	   unsigned n)
{
	uint8_t hdr[BATCH][REC_HDR];
	struct iovec iov[2 * BATCH];
	struct seg *s = &l->segs[l->n - 1];
	uint64_t bytes = 0;
	int cnt = 0;
	unsigned k;
	int rv;

	for (k = 0; k < n && k < BATCH; k++) {
		const struct raft_entry *e = &es[k];
		uint8_t *h = hdr[k];

		if (k > 0 && s->size + bytes >= l->segment_size)
			break;
		memset(h, 0, REC_HDR);
		gq__le32_put(h + 4, (uint32_t)e->buf.len);
		gq__le64_put(h + 8, index + k);
		gq__le64_put(h + 16, e->term);
		h[24] = (uint8_t)e->type;
		gq__le32_put(h + 28, gq__crc32c(0, h + 4, 24));
		gq__le32_put(h, gq__crc32c(gq__crc32c(0, h + 4, 28),
					   e->buf.base, e->buf.len));
		iov[cnt++] = (struct iovec){ h, REC_HDR };
		if (e->buf.len > 0)
			iov[cnt++] = (struct iovec){ e->buf.base, e->buf.len };
		bytes += REC_HDR + e->buf.len;
	}
	if ((rv = gq__pwritev_all(s->fd, iov, cnt, s->size)) != 0)
		return rv;
	s->size += bytes;
	s->last = index + k - 1;
	s->dirty = true;
	return (int)k;
}

/* Put the log back as it was before a failed append. */
static void
undo_append(struct gq__rlog *l, size_t n0, const struct seg *old)
{
	struct seg *s;

	(void)gq__rlog_drop_segs(l, n0);
	if (n0 == 0)
		return;
	s = &l->segs[n0 - 1];
	if (s->size != old->size && (gq__rlog_seg_fd(l, s) < 0 ||
				     ftruncate(s->fd, (off_t)old->size) != 0))
		l->broken = GQ_EIO; /* later appends would follow garbage */
	s->size = old->size;
	s->last = old->last;
}

int
gq__rlog_append(struct gq__rlog *l, raft_index first_index,
		const struct raft_entry *entries, unsigned n)
{
	struct seg old;
	size_t n0 = l->n;
	unsigned done = 0;
	int rv = 0;

	if (l->broken != 0)
		return l->broken;
	if (first_index != l->last + 1)
		return GQ_EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (entries[i].buf.len > UINT32_MAX || entries[i].type > 255 ||
		    entries[i].type == 0 || entries[i].term == 0)
			return GQ_EINVAL;
	}
	if (n == 0)
		return 0;
	memset(&old, 0, sizeof(old));
	if (n0 > 0) {
		old = l->segs[n0 - 1];
		if ((rv = gq__rlog_seg_fd(l, &l->segs[n0 - 1])) < 0)
			return rv;
	}
	while (done < n) {
		struct seg *s = l->n > 0 ? &l->segs[l->n - 1] : NULL;

		if (s == NULL || s->size >= l->segment_size)
			rv = roll(l, first_index + done);
		if (rv >= 0)
			rv = write_some(l, first_index + done, entries + done,
					n - done);
		if (rv < 0) {
			undo_append(l, n0, &old);
			return rv;
		}
		done += (unsigned)rv;
		rv = 0;
	}
	l->last = first_index + n - 1;
	return 0;
}

/* The offset of record @index in segment @s, reading headers only. */
static int
find_record(struct gq__rlog *l, struct seg *s, raft_index index, uint64_t *off)
{
	uint8_t h[REC_HDR];
	uint64_t pos = SEG_HDR;
	int fd;
	int rv;

	if ((fd = gq__rlog_seg_fd(l, s)) < 0)
		return fd;
	for (raft_index i = s->first; i < index; i++) {
		if (pos + REC_HDR > s->size)
			return GQ_ECORRUPT;
		if ((rv = gq__rlog_read_all(fd, h, REC_HDR, pos)) != 0)
			return rv;
		if (gq__le32_get(h + 28) != gq__crc32c(0, h + 4, 24) ||
		    gq__le64_get(h + 8) != i)
			return GQ_ECORRUPT;
		pos += REC_HDR + gq__le32_get(h + 4);
	}
	if (pos >= s->size)
		return GQ_ECORRUPT;
	*off = pos;
	return 0;
}

int
gq__rlog_truncate(struct gq__rlog *l, raft_index index)
{
	struct seg *s;
	uint64_t off;
	size_t k;
	int rv;

	if (l->n == 0 || index > l->segs[l->n - 1].last)
		return 0;
	if (index < l->segs[0].first)
		return GQ_EINVAL;
	for (k = l->n - 1; l->segs[k].first > index; k--)
		;
	s = &l->segs[k];
	if (index > s->first) {
		if ((rv = find_record(l, s, index, &off)) != 0)
			return rv;
		if (ftruncate(s->fd, (off_t)off) != 0)
			return errno_code();
		s->size = off;
		s->last = index - 1;
		k++;
	}
	if ((rv = gq__rlog_drop_segs(l, k)) != 0)
		return rv;
	l->last = index - 1;
	if (l->durable > l->last)
		l->durable = l->last;
	if (l->sync_limit > l->last)
		l->sync_limit = l->last;
	/* Synced now, since appends that follow reuse these indexes: old
	 * records must not reappear after a crash, beside or under new
	 * ones.  Truncation is rare (a leader change). */
	if (index > s->first && (rv = datasync(s->fd)) != 0)
		return rv;
	return l->dir_dirty ? gq__rlog_dir_sync(l) : 0;
}

static void
sync_add(struct gq__rlog_sync *s, int fd, raft_index seg)
{
	int d;

	do
		d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	while (d < 0 && errno == EINTR);
	if (d < 0) {
		if (s->err == 0)
			s->err = errno_code();
		return;
	}
	s->fds[s->n] = d;
	s->segs[s->n++] = seg;
}

void
gq__rlog_sync_begin(struct gq__rlog *l, struct gq__rlog_sync *s)
{
	memset(s, 0, sizeof(*s));
	s->upto = l->last;
	l->sync_limit = l->last;
	for (size_t i = 0; i < l->n; i++) {
		struct seg *g = &l->segs[i];

		if (!g->dirty || g->fd < 0)
			continue;
		/* limit_dirty() keeps room for the directory. */
		if (s->n + 1 >= GQ__RLOG_SYNC_MAX)
			break;
		sync_add(s, g->fd, g->first);
		g->dirty = false;
	}
	if (l->dir_dirty) {
		sync_add(s, l->dirfd, 0);
		l->dir_dirty = false;
	}
}

int
gq__rlog_sync_run(struct gq__rlog_sync *s)
{
	int rv = s->err;

	for (unsigned i = 0; i < s->n; i++) {
		/* The directory needs fsync: fdatasync may skip its
		 * entries on some file systems. */
		int r = s->segs[i] == 0 ? fsync(s->fds[i])
					: fdatasync(s->fds[i]);

		if (r != 0 && rv == 0)
			rv = errno_code();
	}
	return rv;
}

void
gq__rlog_sync_end(struct gq__rlog *l, struct gq__rlog_sync *s, int status)
{
	raft_index upto = s->upto < l->sync_limit ? s->upto : l->sync_limit;

	for (unsigned i = 0; i < s->n; i++) {
		close(s->fds[i]);
		if (status == 0)
			continue;
		if (s->segs[i] == 0)
			l->dir_dirty = true;
		for (size_t j = 0; j < l->n; j++) {
			if (l->segs[j].first == s->segs[i])
				l->segs[j].dirty = true;
		}
	}
	s->n = 0;
	if (status != 0)
		return;
	if (upto > l->durable)
		l->durable = upto;
	/* Old segments were kept open only to be synced. */
	for (size_t j = 0; j + 1 < l->n; j++) {
		if (!l->segs[j].dirty)
			seg_close(&l->segs[j]);
	}
}
