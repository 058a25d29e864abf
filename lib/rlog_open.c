/* SPDX-License-Identifier: MIT */
/*
 * rlog_open.c - the reading half of one Raft group's disk state (rlog.h
 * has the formats and the recovery rules): gq__rlog_open() lists the
 * directory, checks the metadata slots, the newest snapshot and every
 * record of every segment, cuts torn tails and drops what a crash left
 * behind; gq__rlog_load() and gq__rlog_snapshot_get() read it all back.
 *
 * Every length read from disk is checked against the bytes actually
 * present before anything is allocated from it.
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

/* Parse exactly @ndig decimal digits. */
static bool
parse_num(const char *s, size_t ndig, uint64_t *out)
{
	uint64_t v = 0;

	for (size_t i = 0; i < ndig; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* Read a whole file into a gq__malloc'd buffer (NULL when empty). */
static int
slurp(int fd, uint8_t **out, uint64_t *size)
{
	struct stat st;
	uint8_t *p = NULL;
	int rv;

	*out = NULL;
	if (fstat(fd, &st) != 0)
		return errno_code();
	*size = (uint64_t)st.st_size;
	if (*size == 0)
		return 0;
	if (*size > SIZE_MAX || (p = gq__malloc((size_t)*size)) == NULL)
		return GQ_ENOMEM;
	if ((rv = gq__rlog_read_all(fd, p, (size_t)*size, 0)) != 0) {
		gq__free(p);
		return rv;
	}
	*out = p;
	return 0;
}

static bool
meta_decode(const uint8_t *p, uint64_t *seq, raft_term *term, raft_id *vote)
{
	if (memcmp(p, META_MAGIC, 8) != 0 ||
	    gq__le32_get(p + 32) != gq__crc32c(0, p, 32))
		return false;
	*seq = gq__le64_get(p + 8);
	*term = gq__le64_get(p + 16);
	*vote = gq__le64_get(p + 24);
	return true;
}

static int
meta_open(struct gq__rlog *l, char *errmsg)
{
	uint8_t p[META_SLOT + META_LEN];
	uint64_t seq;
	raft_term term;
	raft_id vote;
	bool any = false;
	struct stat st;

	if ((l->metafd = open_at(l, META_FILE, O_RDWR | O_CREAT)) < 0 ||
	    fstat(l->metafd, &st) != 0) {
		gq__errmsg_set(errmsg, "%s/%s: %s", l->dir, META_FILE,
			       strerror(errno));
		return errno_code();
	}
	memset(p, 0, sizeof(p));
	if (pread(l->metafd, p, sizeof(p), 0) < 0) {
		gq__errmsg_set(errmsg, "%s/%s: read: %s", l->dir, META_FILE,
			       strerror(errno));
		return errno_code();
	}
	for (int i = 0; i < 2; i++) {
		if (!meta_decode(p + i * META_SLOT, &seq, &term, &vote) ||
		    (any && seq <= l->meta_seq))
			continue;
		any = true;
		l->meta_seq = seq;
		l->term = term;
		l->vote = vote;
	}
	/* No valid slot in a file that was written: both copies bad. */
	if (!any) {
		for (size_t i = 0; i < sizeof(p); i++) {
			if (p[i] != 0) {
				gq__errmsg_set(errmsg,
					       "%s/%s: no valid slot at "
					       "offset 0 or %d",
					       l->dir, META_FILE, META_SLOT);
				return GQ_ECORRUPT;
			}
		}
	}
	return 0;
}

/* Check the records in @p[0..size); with w->out, copy them out. */
static int
walk(const uint8_t *p, uint64_t size, struct walk *w)
{
	uint64_t off = SEG_HDR;
	raft_index idx = w->first;
	raft_term prev = w->min_term;

	w->good = 0;
	w->last = w->first - 1;
	w->last_term = prev;
	w->why = NULL;
	w->tear = false;
	w->copied = 0;
	w->probe_term = 0;
	if (size < SEG_HDR) {
		w->why = "short file header";
		w->tear = true;
		return 0;
	}
	if (memcmp(p, SEG_MAGIC, 8) != 0 ||
	    gq__le32_get(p + 8) != SEG_VERSION) {
		w->why = "bad file header";
		goto bad;
	}
	w->good = off;
	while (off < size) {
		const uint8_t *h = p + off;
		uint64_t len;
		raft_term term;
		uint8_t type;

		if (size - off < REC_HDR) {
			w->why = "short record header";
			w->tear = true;
			return 0;
		}
		/* The header's own CRC makes the length safe to follow. */
		if (gq__le32_get(h + 28) != gq__crc32c(0, h + 4, 24)) {
			w->why = "bad record header";
			goto bad;
		}
		len = gq__le32_get(h + 4);
		if (len > size - off - REC_HDR) {
			w->why = "record runs past the end";
			w->tear = true;
			return 0;
		}
		if (gq__le32_get(h) != gq__crc32c(gq__crc32c(0, h + 4, 28),
						  h + REC_HDR, (size_t)len)) {
			w->why = "CRC mismatch";
			goto bad;
		}
		term = gq__le64_get(h + 16);
		type = h[24];
		if (gq__le64_get(h + 8) != idx) {
			w->why = "index out of sequence";
			goto bad;
		}
		if (term == 0 || term < prev || type == 0) {
			w->why = "bad term or type";
			goto bad;
		}
		if (w->out != NULL) {
			struct raft_entry *e = &w->out[w->copied];

			memset(e, 0, sizeof(*e));
			e->term = term;
			e->type = type;
			e->buf.len = (size_t)len;
			if (len > 0) {
				if ((e->buf.base = raft_malloc(len)) == NULL)
					return GQ_ENOMEM;
				memcpy(e->buf.base, h + REC_HDR, (size_t)len);
			}
			w->copied++;
		}
		if (idx == w->probe)
			w->probe_term = term;
		prev = term;
		w->last = idx++;
		w->last_term = term;
		off += REC_HDR + len;
		w->good = off;
	}
	return 0;
bad:
	/* A file extended by a crash before its data was written reads as
	 * zeros from there on. */
	w->tear = true;
	for (uint64_t i = w->good; i < size; i++) {
		if (p[i] != 0) {
			w->tear = false;
			break;
		}
	}
	return 0;
}

static void
snapshot_free(struct raft_snapshot *s)
{
	if (s == NULL)
		return;
	raft_configuration_close(&s->configuration);
	if (s->bufs != NULL)
		raft_free(s->bufs[0].base);
	raft_free(s->bufs);
	raft_free(s);
}

/*
 * Read and check snapshot file @name; with @out, also build the raft
 * snapshot.  The sizes in the file must add up to its length, so nothing
 * is allocated from a corrupt length.
 */
static int
snap_read(struct gq__rlog *l, const char *name, raft_index *index,
	  raft_term *term, struct raft_snapshot **out, char *errmsg)
{
	struct raft_snapshot *s = NULL;
	struct gq__rd r;
	const uint8_t *data;
	uint8_t *p = NULL;
	uint64_t size;
	uint64_t dlen;
	uint32_t clen;
	int fd;
	int rv;

	if ((fd = open_at(l, name, O_RDONLY)) < 0) {
		gq__errmsg_set(errmsg, "%s/%s: %s", l->dir, name,
			       strerror(errno));
		return errno_code();
	}
	rv = slurp(fd, &p, &size);
	close(fd);
	if (rv != 0) {
		gq__errmsg_set(errmsg, "%s/%s: read failed", l->dir, name);
		return rv;
	}
	rv = GQ_ECORRUPT;
	if (size < 48 || memcmp(p, SNAP_MAGIC, 8) != 0 ||
	    gq__le32_get(p + size - 4) != gq__crc32c(0, p, (size_t)size - 4))
		goto corrupt;
	r = gq__rd_init(p + 8, (size_t)size - 12);
	*index = gq__rd_le64(&r);
	*term = gq__rd_le64(&r);
	if (out == NULL) {
		rv = 0;
		goto done;
	}
	if ((s = raft_calloc(1, sizeof(*s))) == NULL) {
		rv = GQ_ENOMEM;
		goto done;
	}
	raft_configuration_init(&s->configuration);
	s->index = *index;
	s->term = *term;
	s->configuration_index = gq__rd_le64(&r);
	clen = gq__rd_le32(&r);
	if (r.bad || clen > r.left)
		goto corrupt;
	{
		struct gq__rd c = gq__rd_init(r.p, clen);

		if ((rv = gq__rconf_decode(&c, &s->configuration)) != 0 ||
		    c.left != 0) {
			rv = rv == GQ_ENOMEM ? rv : GQ_ECORRUPT;
			goto corrupt;
		}
	}
	gq__rd_take(&r, clen);
	dlen = gq__rd_le64(&r);
	if (r.bad || dlen != r.left)
		goto corrupt;
	data = r.p;
	rv = GQ_ENOMEM;
	if ((s->bufs = raft_calloc(1, sizeof(*s->bufs))) == NULL ||
	    (s->bufs[0].base = raft_malloc(dlen > 0 ? dlen : 1)) == NULL)
		goto done;
	memcpy(s->bufs[0].base, data, (size_t)dlen);
	s->bufs[0].len = (size_t)dlen;
	s->n_bufs = 1;
	*out = s;
	s = NULL;
	rv = 0;
	goto done;
corrupt:
	if (rv == GQ_ECORRUPT)
		gq__errmsg_set(errmsg,
			       "%s/%s: corrupt snapshot (size %" PRIu64 ")",
			       l->dir, name, size);
done:
	snapshot_free(s);
	gq__free(p);
	return rv;
}

int
gq__rlog_snapshot_get(struct gq__rlog *l, struct raft_snapshot **out)
{
	char name[NAME_SIZE];
	char errmsg[GQ_ERRMSG_SIZE];
	raft_index index;
	raft_term term;
	int rv;

	*out = NULL;
	if (!l->has_snap)
		return GQ_EINVAL;
	snap_name(name, l->snap_term, l->snap_index);
	rv = snap_read(l, name, &index, &term, out, errmsg);
	if (rv == 0 && (index != l->snap_index || term != l->snap_term)) {
		snapshot_free(*out);
		*out = NULL;
		rv = GQ_ECORRUPT;
	}
	return rv;
}

static int
cmp_index(const void *a, const void *b)
{
	raft_index x = ((const struct seg *)a)->first;
	raft_index y = ((const struct seg *)b)->first;

	return (x > y) - (x < y);
}

/* Remove every snapshot file but @keep. */
static void
prune_snaps(struct gq__rlog *l, const char *keep)
{
	struct dirent *d;
	DIR *dir;
	int fd;

	if ((fd = dup(l->dirfd)) < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return; /* tried again at the next open */
	}
	rewinddir(dir); /* the dup shares the offset scan_dir() moved */
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, "snap-", 5) == 0 &&
		    strcmp(d->d_name, keep) != 0)
			unlinkat(l->dirfd, d->d_name, 0);
	}
	closedir(dir);
}

/* List the directory: segments into l->segs, the newest snapshot into
 * @snap; temp files are removed. */
static int
scan_dir(struct gq__rlog *l, char *snap, char *errmsg)
{
	struct dirent *d;
	uint64_t a;
	uint64_t b;
	raft_index si = 0;
	raft_term st = 0;
	DIR *dir;
	int fd;
	int rv = 0;

	snap[0] = '\0';
	if ((fd = dup(l->dirfd)) < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		gq__errmsg_set(errmsg, "%s: opendir: %s", l->dir,
			       strerror(errno));
		return errno_code();
	}
	rewinddir(dir);
	while (rv == 0 && (d = readdir(dir)) != NULL) {
		const char *n = d->d_name;

		if (strncmp(n, "tmp-", 4) == 0) {
			unlinkat(l->dirfd, n, 0);
		} else if (strlen(n) == 24 && strncmp(n, "seg-", 4) == 0 &&
			   parse_num(n + 4, 20, &a) && a > 0) {
			rv = gq__rlog_seg_push(l, a);
		} else if (strlen(n) == 46 && strncmp(n, "snap-", 5) == 0 &&
			   n[25] == '-' && parse_num(n + 5, 20, &a) &&
			   parse_num(n + 26, 20, &b)) {
			/* Older ones go only once this one proved valid. */
			if (snap[0] != '\0' &&
			    (b < si || (b == si && a < st))) {
				l->old_snaps = true;
				continue;
			}
			l->old_snaps = l->old_snaps || snap[0] != '\0';
			snprintf(snap, NAME_SIZE, "%s", n);
			si = b;
			st = a;
		}
	}
	closedir(dir);
	if (l->n > 1)
		qsort(l->segs, l->n, sizeof(*l->segs), cmp_index);
	return rv;
}

static int
corrupt(struct gq__rlog *l, const struct seg *s, uint64_t off, const char *why,
	char *errmsg)
{
	char name[NAME_SIZE];

	seg_name(name, s->first);
	gq__errmsg_set(errmsg, "%s/%s: %s at offset %" PRIu64, l->dir, name,
		       why, off);
	return GQ_ECORRUPT;
}

/*
 * Check segment @i, whose records must follow on from term *@prev (updated
 * to its last term); note the term of the snapshot's entry in *@probe.  On
 * a tolerated tear cut the file and drop what follows.
 */
static int
check_seg(struct gq__rlog *l, size_t i, raft_term *prev, raft_term *probe,
	  char *errmsg)
{
	struct seg *s = &l->segs[i];
	struct walk w;
	uint8_t *p = NULL;
	uint64_t size;
	int rv;

	memset(&w, 0, sizeof(w));
	if (i > 0 && s->first != l->segs[i - 1].last + 1)
		return corrupt(l, s, 0, "index gap with previous segment",
			       errmsg);
	if ((rv = gq__rlog_seg_fd(l, s)) < 0 ||
	    (rv = slurp(s->fd, &p, &size)) != 0) {
		gq__errmsg_set(errmsg, "%s: cannot read segment %llu", l->dir,
			       (unsigned long long)s->first);
		return rv;
	}
	w.first = s->first;
	w.min_term = *prev;
	w.probe = l->snap_index;
	walk(p, size, &w);
	gq__free(p);
	if (w.probe_term != 0)
		*probe = w.probe_term;
	s->last = w.last;
	s->size = w.good;
	*prev = w.last_term;
	/* Synced here so that what a crashed process left in the page
	 * cache counts as durable from now on. */
	if (w.why == NULL)
		return datasync(s->fd);
	if (i + 1 < l->n && !w.tear)
		return corrupt(l, s, w.good, w.why, errmsg);
	/* A torn tail: nothing after it was ever synced. */
	l->repairs++;
	if ((rv = gq__rlog_drop_segs(l, i + 1)) != 0)
		return rv;
	if (w.good < SEG_HDR || w.last < s->first)
		return gq__rlog_drop_segs(l, i);
	if (ftruncate(s->fd, (off_t)w.good) != 0)
		return errno_code();
	return datasync(s->fd);
}

/* The snapshot file, named @snap, must be valid and hold what its name
 * says. */
static int
open_snap(struct gq__rlog *l, const char *snap, char *errmsg)
{
	char want[NAME_SIZE];
	int rv;

	rv = snap_read(l, snap, &l->snap_index, &l->snap_term, NULL, errmsg);
	if (rv != 0)
		return rv;
	snap_name(want, l->snap_term, l->snap_index);
	if (strcmp(want, snap) != 0) {
		gq__errmsg_set(errmsg, "%s/%s: holds term %llu index %llu",
			       l->dir, snap, (unsigned long long)l->snap_term,
			       (unsigned long long)l->snap_index);
		return GQ_ECORRUPT;
	}
	l->has_snap = true;
	return 0;
}

int
gq__rlog_open(const char *dir, const struct gq__rlog_opts *o,
	      struct gq__rlog **out, char *errmsg)
{
	char snap[NAME_SIZE];
	struct gq__rlog *l;
	raft_term prev = 0;
	raft_term probe = 0;
	int rv;

	*out = NULL;
	if ((rv = gq__mkdirs(dir, errmsg)) != 0)
		return rv;
	if ((l = gq__calloc(1, sizeof(*l))) == NULL)
		return GQ_ENOMEM;
	l->metafd = -1;
	l->dirfd = -1;
	l->segment_size =
		o != NULL && o->segment_size > 0 ? o->segment_size : 8u << 20;
	if ((l->dir = gq__strdup(dir)) == NULL) {
		rv = GQ_ENOMEM;
		goto err;
	}
	if ((l->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		gq__errmsg_set(errmsg, "%s: %s", dir, strerror(errno));
		rv = errno_code();
		goto err;
	}
	if ((rv = meta_open(l, errmsg)) != 0 ||
	    (rv = scan_dir(l, snap, errmsg)) != 0)
		goto err;
	if (snap[0] != '\0' && (rv = open_snap(l, snap, errmsg)) != 0)
		goto err;
	if (l->old_snaps)
		prune_snaps(l, snap);
	for (size_t i = 0; i < l->n; i++) {
		if ((rv = check_seg(l, i, &prev, &probe, errmsg)) != 0)
			goto err;
		if (i + 1 < l->n)
			seg_close(&l->segs[i]);
	}
	if (l->n > 0 && l->has_snap) {
		raft_index first = l->segs[0].first;
		raft_index last = l->segs[l->n - 1].last;

		if (first > l->snap_index + 1) {
			rv = corrupt(l, &l->segs[0], 0,
				     "log starts after the snapshot", errmsg);
			goto err;
		}
		/* The remains of a log that a snapshot install replaced. */
		if (last < l->snap_index ||
		    (first <= l->snap_index && probe != l->snap_term)) {
			l->repairs++;
			if ((rv = gq__rlog_drop_segs(l, 0)) != 0)
				goto err;
		}
	}
	l->last = tail_last(l);
	l->durable = l->last;
	l->sync_limit = l->last;
	/* Files created and removed by the repairs above, and the meta file
	 * itself, must not come back after a crash. */
	if ((rv = gq__rlog_dir_sync(l)) != 0) {
		gq__errmsg_set(errmsg, "%s: fsync: %s", dir, strerror(errno));
		goto err;
	}
	*out = l;
	return 0;
err:
	gq__rlog_close(l);
	return rv;
}

void
gq__rlog_close(struct gq__rlog *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		seg_close(&l->segs[i]);
	if (l->metafd >= 0)
		close(l->metafd);
	if (l->dirfd >= 0)
		close(l->dirfd);
	gq__free(l->segs);
	gq__free(l->dir);
	gq__free(l);
}

int
gq__rlog_load(struct gq__rlog *l, raft_term *term, raft_id *voted_for,
	      struct raft_snapshot **snapshot, raft_index *start_index,
	      struct raft_entry **entries, size_t *n_entries)
{
	struct raft_snapshot *snap = NULL;
	struct raft_entry *e = NULL;
	size_t total = 0;
	size_t done = 0;
	int rv;

	*snapshot = NULL;
	*entries = NULL;
	*n_entries = 0;
	if (l->has_snap && (rv = gq__rlog_snapshot_get(l, &snap)) != 0)
		return rv;
	if (l->n > 0)
		total = (size_t)(l->segs[l->n - 1].last - l->segs[0].first + 1);
	if (total > 0 && (e = raft_calloc(total, sizeof(*e))) == NULL) {
		rv = GQ_ENOMEM;
		goto err;
	}
	for (size_t i = 0; i < l->n; i++) {
		struct seg *s = &l->segs[i];
		struct walk w;
		uint8_t *p = NULL;
		uint64_t size;
		int fd;

		memset(&w, 0, sizeof(w));
		if ((fd = gq__rlog_seg_fd(l, s)) < 0) {
			rv = fd;
			goto err;
		}
		rv = slurp(fd, &p, &size);
		if (i + 1 < l->n && !s->dirty)
			seg_close(s);
		if (rv != 0)
			goto err;
		w.first = s->first;
		w.out = e + done;
		w.probe = 0;
		/* Only the measured prefix: what lies past it was cut. */
		rv = walk(p, size < s->size ? size : s->size, &w);
		gq__free(p);
		done += w.copied;
		if (rv == 0 && (w.why != NULL || w.last != s->last))
			rv = GQ_ECORRUPT;
		if (rv != 0)
			goto err;
	}
	*term = l->term;
	*voted_for = l->vote;
	*snapshot = snap;
	*start_index = l->n > 0 ? l->segs[0].first : l->snap_index + 1;
	*entries = e;
	*n_entries = total;
	return 0;
err:
	for (size_t i = 0; i < done; i++)
		raft_free(e[i].buf.base);
	raft_free(e);
	snapshot_free(snap);
	return rv;
}
