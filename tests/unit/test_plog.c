/* SPDX-License-Identifier: MIT */
/*
 * test_plog.c - the partition log: appends and byte-exact reads, segment
 * rolls, read limits and ranges, the time index, abort, reopen, every
 * recovery case (torn tail, truncated and corrupt batches, orphan and
 * missing segment files), retention, removal, and readers running
 * concurrently with appends and retention.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/tmpdir.h"
#include "batch.h"
#include "buf.h"
#include "plog.h"
#include "store.h"

#define EPOCH    7
#define MAX_MSGS 64

static const char *tmp;
static char pdir[600];
static char pdir2[600];
static struct gq__store *st;
static struct gq__plog *pl;
static struct gq__plog *pl2;
static char errmsg[GQ_ERRMSG_SIZE];

static void
setup(void)
{
	tmp = gqt_tmpdir_make();
	snprintf(pdir, sizeof(pdir), "%s/p1", tmp);
	snprintf(pdir2, sizeof(pdir2), "%s/p2", tmp);
	st = NULL;
	pl = NULL;
	pl2 = NULL;
	gq__store_open(tmp, &st, errmsg);
}

static void
teardown(void)
{
	gq__plog_close(pl);
	gq__plog_close(pl2);
	pl = pl2 = NULL;
	gq__store_close(st);
	st = NULL;
	gqt_tmpdir_remove();
}

TestSuite(plog, .init = setup, .fini = teardown, .timeout = 60);

static struct gq__plog_conf
mkconf(uint64_t segment_size, int64_t retention_ms, int64_t retention_bytes)
{
	struct gq__plog_conf c;

	c.segment_size = segment_size;
	c.retention_ms = retention_ms;
	c.retention_bytes = retention_bytes;
	return c;
}

static void
open_log(const struct gq__plog_conf *c, struct gq__plog_recovery *rep)
{
	int rv;

	cr_assert(ne(ptr, st, NULL), "store did not open: %s", errmsg);
	rv = gq__plog_open(st, 1, pdir, c, &pl, rep, errmsg);
	cr_assert(eq(int, rv, 0), "open: %s", errmsg);
}

static void
reopen(const struct gq__plog_conf *c, struct gq__plog_recovery *rep)
{
	gq__plog_close(pl);
	pl = NULL;
	open_log(c, rep);
}

/* A batch of @n records, all with timestamp @ts and @vlen-byte values
 * filled with @fill. */
static void
make_batch(struct gq__buf *out, size_t n, int64_t ts, size_t vlen, uint8_t fill)
{
	static uint8_t val[65536];
	struct gq_msg msgs[MAX_MSGS];
	size_t i;

	cr_assert(le(sz, n, MAX_MSGS));
	cr_assert(le(sz, vlen, sizeof(val)));
	memset(val, fill, vlen);
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < n; i++) {
		msgs[i].key = "k";
		msgs[i].key_len = 1;
		msgs[i].value = val;
		msgs[i].value_len = vlen;
		msgs[i].timestamp = ts;
	}
	*out = (struct gq__buf)GQ__BUF_INIT;
	cr_assert(eq(int, gq__batch_build(msgs, n, 0, 0, -1, -1, -1, ts, out),
		     0));
}

/* Append the @n batches as Raft entry @raft in one transaction and
 * commit; stores the assigned base offsets in @bases (may be NULL). */
static void
append_bufs(struct gq__plog *p, const struct gq__buf *bufs, size_t n,
	    uint64_t raft, int64_t *bases)
{
	struct gq__plog_batch b[16];
	MDB_txn *txn;
	size_t i;

	cr_assert(le(sz, n, 16));
	for (i = 0; i < n; i++) {
		b[i].data = bufs[i].base;
		b[i].len = bufs[i].len;
		b[i].base_offset = -1;
	}
	cr_assert(eq(int, gq__store_begin(st, true, &txn), 0));
	cr_assert(eq(int, gq__plog_append(p, txn, b, n, EPOCH, raft), 0));
	cr_assert(eq(int, gq__store_commit(txn), 0));
	gq__plog_commit(p);
	for (i = 0; bases != NULL && i < n; i++)
		bases[i] = b[i].base_offset;
}

/* Append one fresh batch as Raft entry @raft; returns its base offset and
 * stores its length in *len (may be NULL). */
static int64_t
append1(size_t nrec, int64_t ts, size_t vlen, uint64_t raft, size_t *len)
{
	struct gq__buf b;
	int64_t base;

	make_batch(&b, nrec, ts, vlen, (uint8_t)raft);
	append_bufs(pl, &b, 1, raft, &base);
	if (len != NULL)
		*len = b.len;
	gq__buf_free(&b);
	return base;
}

/* Walk the batches in @buf: each must validate; base offsets are
 * contiguous.  Returns the count; *first and *end get the first base and
 * the offset after the last batch. */
static size_t
walk(const struct gq__buf *buf, int64_t *first, int64_t *end)
{
	struct gq__batch_header h;
	size_t pos = 0;
	size_t n = 0;

	*first = *end = -1;
	while (pos < buf->len) {
		cr_assert(eq(
			int,
			gq__batch_validate(buf->base + pos, buf->len - pos, &h),
			0));
		if (n == 0)
			*first = h.base_offset;
		else
			cr_assert(eq(i64, h.base_offset, *end));
		cr_assert(eq(i32, h.leader_epoch, EPOCH));
		*end = gq__batch_last_offset(&h) + 1;
		pos += gq__batch_total_size(&h);
		n++;
	}
	return n;
}

/* Read the whole log and return the number of batches. */
static size_t
read_all_batches(int64_t from)
{
	struct gq__buf out = GQ__BUF_INIT;
	int64_t first;
	int64_t end;
	size_t n;

	cr_assert(
		eq(int,
		   gq__plog_read(pl, from, SIZE_MAX, &out, NULL, NULL, errmsg),
		   0),
		"%s", errmsg);
	n = walk(&out, &first, &end);
	if (n > 0)
		cr_assert(eq(i64, end, gq__plog_next_offset(pl)));
	gq__buf_free(&out);
	return n;
}

static void
seg_path(char *buf, size_t size, const char *dir, int64_t base)
{
	snprintf(buf, size, "%s/%020" PRId64 ".log", dir, base);
}

static bool
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static off_t
file_size(const char *path)
{
	struct stat sb;

	cr_assert(eq(int, stat(path, &sb), 0), "stat %s", path);
	return sb.st_size;
}

/* Appending then reading returns the same bytes, with the base offset and
 * leader epoch rewritten and nothing else changed. */
Test(plog, append_read_byte_exact)
{
	struct gq__plog_conf c = mkconf(1 << 20, -1, -1);
	struct gq__buf in[3];
	struct gq__buf out = GQ__BUF_INIT;
	struct gq__buf want = GQ__BUF_INIT;
	int64_t bases[3];
	int64_t hw;
	int64_t start;
	size_t i;
	size_t at;

	open_log(&c, NULL);
	make_batch(&in[0], 1, 1000, 10, 'a');
	make_batch(&in[1], 5, 2000, 100, 'b');
	make_batch(&in[2], 3, 3000, 7, 'c');
	append_bufs(pl, in, 3, 1, bases);
	cr_assert(eq(i64, bases[0], 0));
	cr_assert(eq(i64, bases[1], 1));
	cr_assert(eq(i64, bases[2], 6));
	cr_assert(eq(i64, gq__plog_next_offset(pl), 9));
	cr_assert(eq(u64, gq__plog_applied_index(pl), 1));
	for (i = 0; i < 3; i++) {
		at = want.len;
		cr_assert(eq(int, gq__buf_append(&want, in[i].base, in[i].len),
			     0));
		gq__be64_put(want.base + at, (uint64_t)bases[i]);
		gq__be32_put(want.base + at + 12, EPOCH);
		/* The caller's buffer is borrowed, never modified. */
		cr_assert(eq(u64, gq__be64_get(in[i].base), 0));
	}
	cr_assert(eq(int,
		     gq__plog_read(pl, 0, SIZE_MAX, &out, &hw, &start, errmsg),
		     0));
	cr_assert(eq(i64, hw, 9));
	cr_assert(eq(i64, start, 0));
	cr_assert(eq(sz, out.len, want.len));
	cr_assert(eq(int, memcmp(out.base, want.base, want.len), 0));
	/* An offset inside the second batch starts with that batch. */
	out.len = 0;
	cr_assert(eq(int,
		     gq__plog_read(pl, 3, SIZE_MAX, &out, NULL, NULL, errmsg),
		     0));
	cr_assert(eq(sz, out.len, in[1].len + in[2].len));
	cr_assert(eq(int, memcmp(out.base, want.base + in[0].len, out.len), 0));
	for (i = 0; i < 3; i++)
		gq__buf_free(&in[i]);
	gq__buf_free(&out);
	gq__buf_free(&want);
}

/* Offsets are contiguous across many appends and every offset reads back
 * the batch that contains it. */
Test(plog, offsets_contiguous)
{
	struct gq__plog_conf c = mkconf(1 << 20, -1, -1);
	struct gq__buf out = GQ__BUF_INIT;
	int64_t next = 0;
	int64_t base;
	int64_t first;
	int64_t end;
	int64_t o;
	size_t nrec;
	int i;

	open_log(&c, NULL);
	for (i = 0; i < 300; i++) {
		nrec = (size_t)(i % 5) + 1;
		base = append1(nrec, 1000 + i, 20, (uint64_t)i + 1, NULL);
		cr_assert(eq(i64, base, next));
		next += (int64_t)nrec;
	}
	cr_assert(eq(i64, gq__plog_next_offset(pl), next));
	for (o = 0; o < next; o++) {
		out.len = 0;
		cr_assert(eq(int,
			     gq__plog_read(pl, o, 1, &out, NULL, NULL, errmsg),
			     0));
		cr_assert(eq(sz, walk(&out, &first, &end), 1));
		cr_assert(le(i64, first, o));
		cr_assert(gt(i64, end, o));
	}
	gq__buf_free(&out);
}

/* Segments roll at segment_size, a batch bigger than that gets a segment
 * of its own, and a read spans segments. */
Test(plog, segment_roll_and_spanning_read)
{
	struct gq__plog_conf c = mkconf(4096, -1, -1);
	struct gq__plog_stats s;
	char path[700];
	size_t len;
	int64_t base;
	int64_t big;
	int i;

	open_log(&c, NULL);
	base = append1(1, 1, 900, 1, &len);
	cr_assert(eq(i64, base, 0));
	for (i = 1; i < 20; i++)
		append1(1, 1, 900, (uint64_t)i + 1, NULL);
	gq__plog_stats(pl, &s);
	/* Each segment holds as many whole batches as fit in 4096. */
	cr_assert(eq(u32, s.segments,
		     (uint32_t)((20 + 4096 / len - 1) / (4096 / len))));
	cr_assert(eq(u64, s.size_bytes, 20 * len));
	seg_path(path, sizeof(path), pdir, (int64_t)(4096 / len));
	cr_assert(exists(path), "%s", path);
	cr_assert(eq(i64, file_size(path), (off_t)((4096 / len) * len)));
	big = append1(2, 1, 5000, 21, NULL);
	append1(1, 1, 10, 22, NULL);
	seg_path(path, sizeof(path), pdir, big);
	cr_assert(exists(path));
	cr_assert(gt(i64, file_size(path), 4096));
	seg_path(path, sizeof(path), pdir, big + 2);
	cr_assert(exists(path), "the batch after a big one rolls again");
	cr_assert(eq(sz, read_all_batches(0), 22));
	cr_assert(eq(sz, read_all_batches(3), 22 - 3));
}

/* max_bytes caps a read at whole batches, but one batch always comes. */
Test(plog, max_bytes)
{
	struct gq__plog_conf c = mkconf(4096, -1, -1);
	struct gq__buf out = GQ__BUF_INIT;
	int64_t first;
	int64_t end;
	size_t len;
	int i;

	open_log(&c, NULL);
	for (i = 0; i < 10; i++)
		append1(1, 1, 300, (uint64_t)i + 1, &len);
	cr_assert(
		eq(int, gq__plog_read(pl, 0, 0, &out, NULL, NULL, errmsg), 0));
	cr_assert(eq(sz, out.len, len));
	out.len = 0;
	cr_assert(
		eq(int,
		   gq__plog_read(pl, 2, len * 5 / 2, &out, NULL, NULL, errmsg),
		   0));
	cr_assert(eq(sz, walk(&out, &first, &end), 2));
	cr_assert(eq(i64, first, 2));
	out.len = 0;
	cr_assert(eq(int,
		     gq__plog_read(pl, 1, len * 9, &out, NULL, NULL, errmsg),
		     0));
	cr_assert(eq(sz, out.len, len * 9));
	gq__buf_free(&out);
}

/* Offsets before the log start or past the end are GQ_EOFFSET; the end
 * itself reads as empty. */
Test(plog, offset_range)
{
	struct gq__plog_conf c = mkconf(4096, -1, -1);
	struct gq__buf out = GQ__BUF_INIT;
	int64_t hw = -5;
	int64_t start = -5;

	open_log(&c, NULL);
	cr_assert(eq(int, gq__plog_read(pl, 0, 100, &out, &hw, &start, errmsg),
		     0));
	cr_assert(eq(sz, out.len, 0));
	cr_assert(eq(i64, hw, 0));
	cr_assert(eq(int, gq__plog_read(pl, 1, 100, &out, NULL, NULL, errmsg),
		     GQ_EOFFSET));
	append1(4, 1, 10, 1, NULL);
	cr_assert(eq(int, gq__plog_read(pl, -1, 100, &out, NULL, NULL, errmsg),
		     GQ_EOFFSET));
	cr_assert(eq(int, gq__plog_read(pl, 5, 100, &out, NULL, NULL, errmsg),
		     GQ_EOFFSET));
	cr_assert(eq(int, gq__plog_read(pl, 4, 100, &out, &hw, &start, errmsg),
		     0));
	cr_assert(eq(sz, out.len, 0));
	cr_assert(eq(i64, hw, 4));
	cr_assert(eq(i64, start, 0));
	gq__buf_free(&out);
}

/* offset_for_time answers with the first batch whose running max
 * timestamp reaches the target, even when timestamps go backwards. */
Test(plog, offset_for_time_non_monotonic)
{
	static const int64_t ts[] = { 100, 300, 200, 400, 350, -1 };
	struct gq__plog_conf c = mkconf(1 << 20, -1, -1);
	int64_t b[6];
	int64_t o;
	size_t i;

	open_log(&c, NULL);
	cr_assert(eq(int, gq__plog_offset_for_time(pl, 0, &o), 0));
	cr_assert(eq(i64, o, 0));
	for (i = 0; i < 6; i++)
		b[i] = append1(2, ts[i], 5, i + 1, NULL);
	/* Running max: 100 300 300 400 400 400. */
	cr_assert(eq(int, gq__plog_offset_for_time(pl, -50, &o), 0));
	cr_assert(eq(i64, o, b[0]));
	cr_assert(eq(int, gq__plog_offset_for_time(pl, 100, &o), 0));
	cr_assert(eq(i64, o, b[0]));
	cr_assert(eq(int, gq__plog_offset_for_time(pl, 150, &o), 0));
	cr_assert(eq(i64, o, b[1]));
	cr_assert(eq(int, gq__plog_offset_for_time(pl, 250, &o), 0));
	cr_assert(eq(i64, o, b[1]));
	cr_assert(eq(int, gq__plog_offset_for_time(pl, 301, &o), 0));
	cr_assert(eq(i64, o, b[3]));
	cr_assert(eq(int, gq__plog_offset_for_time(pl, 400, &o), 0));
	cr_assert(eq(i64, o, b[3]));
	cr_assert(eq(int, gq__plog_offset_for_time(pl, 401, &o), 0));
	cr_assert(eq(i64, o, gq__plog_next_offset(pl)));
}

/* An aborted append leaves offsets, files, sizes and the applied index as
 * they were, including a segment the append had created. */
Test(plog, abort_restores)
{
	struct gq__plog_conf c = mkconf(2048, -1, -1);
	struct gq__plog_batch b[2];
	struct gq__plog_stats s0;
	struct gq__plog_stats s1;
	struct gq__buf x[2];
	char path[700];
	MDB_txn *txn;
	size_t len;
	int64_t base;

	open_log(&c, NULL);
	append1(1, 10, 900, 1, &len);
	append1(1, 10, 900, 2, NULL);
	gq__plog_stats(pl, &s0);
	make_batch(&x[0], 3, 20, 900, 'x');
	make_batch(&x[1], 3, 20, 900, 'y');
	b[0].data = x[0].base;
	b[0].len = x[0].len;
	b[1].data = x[1].base;
	b[1].len = x[1].len;
	cr_assert(eq(int, gq__store_begin(st, true, &txn), 0));
	cr_assert(eq(int, gq__plog_append(pl, txn, b, 2, EPOCH, 3), 0));
	cr_assert(eq(u64, gq__plog_applied_index(pl), 3));
	/* Not visible before the commit. */
	cr_assert(eq(i64, gq__plog_next_offset(pl), 2));
	seg_path(path, sizeof(path), pdir, 2);
	cr_assert(exists(path), "the append rolled");
	gq__store_abort(txn);
	gq__plog_abort(pl);
	cr_assert(not(exists(path)), "the rolled segment is gone");
	cr_assert(eq(u64, gq__plog_applied_index(pl), 2));
	gq__plog_stats(pl, &s1);
	cr_assert(eq(u64, s1.size_bytes, s0.size_bytes));
	cr_assert(eq(u32, s1.segments, s0.segments));
	seg_path(path, sizeof(path), pdir, 0);
	cr_assert(eq(i64, file_size(path), (off_t)(2 * len)));
	base = append1(1, 10, 5, 3, NULL);
	cr_assert(eq(i64, base, 2));
	cr_assert(eq(sz, read_all_batches(0), 3));
	/* The same after reopening: nothing of the abort survives. */
	reopen(&c, NULL);
	cr_assert(eq(sz, read_all_batches(0), 3));
	gq__buf_free(&x[0]);
	gq__buf_free(&x[1]);
}

/* Applying with a Raft index below the applied one is refused;
 * set_applied moves the index without data. */
Test(plog, applied_index)
{
	struct gq__plog_conf c = mkconf(1 << 20, -1, -1);
	struct gq__plog_batch b;
	struct gq__buf x;
	MDB_txn *txn;

	open_log(&c, NULL);
	append1(1, 1, 1, 5, NULL);
	cr_assert(eq(int, gq__store_begin(st, true, &txn), 0));
	cr_assert(eq(int, gq__plog_set_applied(pl, txn, 4), GQ_EINVAL));
	cr_assert(eq(int, gq__plog_set_applied(pl, txn, 9), 0));
	make_batch(&x, 1, 1, 1, 'q');
	b.data = x.base;
	b.len = x.len;
	cr_assert(
		eq(int, gq__plog_append(pl, txn, &b, 1, EPOCH, 8), GQ_EINVAL));
	b.len = x.len - 1;
	cr_assert(
		eq(int, gq__plog_append(pl, txn, &b, 1, EPOCH, 10), GQ_EINVAL));
	cr_assert(eq(int, gq__store_commit(txn), 0));
	gq__plog_commit(pl);
	reopen(&c, NULL);
	cr_assert(eq(u64, gq__plog_applied_index(pl), 9));
	cr_assert(eq(i64, gq__plog_next_offset(pl), 1));
	gq__buf_free(&x);
}

/* Closing and reopening keeps every batch, the offsets and the applied
 * index, and reports no repair. */
Test(plog, reopen_keeps_everything)
{
	struct gq__plog_conf c = mkconf(4096, -1, -1);
	struct gq__plog_recovery rep;
	struct gq__plog_stats s0;
	struct gq__plog_stats s1;
	int64_t o;
	int i;

	open_log(&c, &rep);
	cr_assert(not(rep.repaired));
	for (i = 0; i < 40; i++)
		append1(2, 100 * i, 200, (uint64_t)i + 1, NULL);
	gq__plog_stats(pl, &s0);
	reopen(&c, &rep);
	cr_assert(not(rep.repaired));
	gq__plog_stats(pl, &s1);
	cr_assert(eq(u64, s1.size_bytes, s0.size_bytes));
	cr_assert(eq(u32, s1.segments, s0.segments));
	cr_assert(eq(i64, s1.next_offset, 80));
	cr_assert(eq(i64, s1.log_start, 0));
	cr_assert(eq(u64, gq__plog_applied_index(pl), 40));
	cr_assert(eq(sz, read_all_batches(0), 40));
	cr_assert(eq(int, gq__plog_offset_for_time(pl, 1050, &o), 0));
	cr_assert(eq(i64, o, 22));
	/* Appends continue where they stopped, in the active segment. */
	cr_assert(eq(i64, append1(1, 1, 1, 41, NULL), 80));
	gq__plog_stats(pl, &s0);
	cr_assert(eq(u32, s0.segments, s1.segments));
}

/* Garbage after the last indexed batch (a torn tail) is cut off; nothing
 * indexed is dropped and the applied index stays. */
Test(plog, recovery_torn_tail)
{
	struct gq__plog_conf c = mkconf(1 << 20, -1, -1);
	struct gq__plog_recovery rep;
	char path[700];
	size_t len;
	int fd;

	open_log(&c, NULL);
	append1(1, 1, 50, 1, &len);
	append1(1, 1, 50, 2, NULL);
	gq__plog_close(pl);
	pl = NULL;
	seg_path(path, sizeof(path), pdir, 0);
	fd = open(path, O_WRONLY | O_APPEND);
	cr_assert(ge(int, fd, 0));
	cr_assert(eq(sz, (size_t)write(fd, "garbage-garbage-x", 17), 17));
	close(fd);
	open_log(&c, &rep);
	cr_assert(rep.repaired);
	cr_assert(eq(u64, rep.truncated_bytes, 17));
	cr_assert(eq(u64, rep.dropped_batches, 0));
	cr_assert(eq(u64, gq__plog_applied_index(pl), 2));
	cr_assert(eq(i64, file_size(path), (off_t)(2 * len)));
	cr_assert(eq(sz, read_all_batches(0), 2));
}

/* A segment cut in the middle of a batch loses that batch and the ones
 * after it from the index; the applied index drops to its Raft index - 1. */
Test(plog, recovery_truncated_mid_batch)
{
	struct gq__plog_conf c = mkconf(1 << 20, -1, -1);
	struct gq__plog_recovery rep;
	int64_t base[5];
	char path[700];
	size_t len;
	int i;

	open_log(&c, NULL);
	for (i = 0; i < 5; i++)
		base[i] = append1(2, 1, 50, (uint64_t)i + 1, &len);
	gq__plog_close(pl);
	pl = NULL;
	seg_path(path, sizeof(path), pdir, 0);
	cr_assert(eq(int, truncate(path, (off_t)(3 * len + 10)), 0));
	open_log(&c, &rep);
	cr_assert(rep.repaired);
	cr_assert(eq(u64, rep.dropped_batches, 2));
	cr_assert(eq(u64, rep.truncated_bytes, 10));
	cr_assert(eq(u64, gq__plog_applied_index(pl), 3));
	cr_assert(eq(i64, gq__plog_next_offset(pl), base[3]));
	cr_assert(eq(i64, file_size(path), (off_t)(3 * len)));
	cr_assert(eq(sz, read_all_batches(0), 3));
	/* Raft replays entry 4: it lands where it was. */
	cr_assert(eq(i64, append1(2, 1, 50, 4, NULL), base[3]));
	reopen(&c, &rep);
	cr_assert(not(rep.repaired));
	cr_assert(eq(sz, read_all_batches(0), 4));
}

/* A flipped byte inside the last batch fails its CRC: the batch is
 * dropped, with every other batch of the same Raft entry. */
Test(plog, recovery_flipped_byte)
{
	struct gq__plog_conf c = mkconf(1 << 20, -1, -1);
	struct gq__plog_recovery rep;
	struct gq__buf x[3];
	int64_t base[3];
	char path[700];
	size_t len;
	uint8_t byte;
	int fd;
	int i;

	open_log(&c, NULL);
	append1(1, 1, 50, 1, &len);
	for (i = 0; i < 3; i++)
		make_batch(&x[i], 2, 5, 60, (uint8_t)('a' + i));
	append_bufs(pl, x, 3, 2, base);
	gq__plog_close(pl);
	pl = NULL;
	seg_path(path, sizeof(path), pdir, 0);
	fd = open(path, O_RDWR);
	cr_assert(ge(int, fd, 0));
	cr_assert(eq(int,
		     (int)pread(fd, &byte, 1,
				(off_t)(len + x[0].len + x[1].len + 70)),
		     1));
	byte ^= 0x10;
	cr_assert(eq(int,
		     (int)pwrite(fd, &byte, 1,
				 (off_t)(len + x[0].len + x[1].len + 70)),
		     1));
	close(fd);
	open_log(&c, &rep);
	cr_assert(rep.repaired);
	cr_assert(eq(u64, rep.dropped_batches, 3));
	cr_assert(eq(u64, rep.truncated_bytes, x[0].len + x[1].len + x[2].len));
	cr_assert(eq(u64, gq__plog_applied_index(pl), 1));
	cr_assert(eq(i64, gq__plog_next_offset(pl), base[0]));
	cr_assert(eq(sz, read_all_batches(0), 1));
	for (i = 0; i < 3; i++)
		gq__buf_free(&x[i]);
}

/* A Raft entry whose batches straddle a segment roll is dropped whole: the
 * newer segment goes and the older one is cut back. */
Test(plog, recovery_entry_across_roll)
{
	struct gq__plog_conf c;
	struct gq__plog_recovery rep;
	struct gq__plog_stats s;
	struct gq__buf x[3];
	int64_t base[3];
	char path[700];
	size_t len;
	int i;

	c = mkconf(1 << 20, -1, -1);
	open_log(&c, NULL);
	append1(1, 1, 500, 1, &len);
	/* Room for A and B in the first segment, C and D in the second. */
	c = mkconf(2 * len + len / 2, -1, -1);
	gq__plog_set_conf(pl, &c);
	for (i = 0; i < 3; i++)
		make_batch(&x[i], 1, 1, 500, (uint8_t)('B' + i));
	append_bufs(pl, x, 3, 2, base);
	gq__plog_stats(pl, &s);
	cr_assert(eq(u32, s.segments, 2));
	gq__plog_close(pl);
	pl = NULL;
	seg_path(path, sizeof(path), pdir, base[1]);
	cr_assert(eq(int, truncate(path, (off_t)(len + 5)), 0));
	open_log(&c, &rep);
	cr_assert(eq(u64, rep.dropped_batches, 3));
	cr_assert(eq(u64, gq__plog_applied_index(pl), 1));
	cr_assert(eq(i64, gq__plog_next_offset(pl), 1));
	cr_assert(not(exists(path)));
	gq__plog_stats(pl, &s);
	cr_assert(eq(u32, s.segments, 1));
	cr_assert(eq(u64, s.size_bytes, len));
	seg_path(path, sizeof(path), pdir, 0);
	cr_assert(eq(i64, file_size(path), (off_t)len));
	cr_assert(eq(sz, read_all_batches(0), 1));
	for (i = 0; i < 3; i++)
		gq__buf_free(&x[i]);
}

/* A segment file no index entry names (an uncommitted roll) is deleted. */
Test(plog, recovery_orphan_deleted)
{
	struct gq__plog_conf c = mkconf(1 << 20, -1, -1);
	struct gq__plog_recovery rep;
	char path[700];
	char other[700];
	int fd;

	open_log(&c, NULL);
	append1(1, 1, 50, 1, NULL);
	gq__plog_close(pl);
	pl = NULL;
	seg_path(path, sizeof(path), pdir, 1);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	cr_assert(ge(int, fd, 0));
	cr_assert(eq(int, (int)write(fd, "x", 1), 1));
	close(fd);
	snprintf(other, sizeof(other), "%s/notes.txt", pdir);
	fd = open(other, O_WRONLY | O_CREAT, 0644);
	close(fd);
	open_log(&c, &rep);
	cr_assert(rep.repaired);
	cr_assert(eq(u32, rep.removed_files, 1));
	cr_assert(not(exists(path)));
	cr_assert(exists(other), "files that are not segments are left");
	cr_assert(eq(sz, read_all_batches(0), 1));
}

/* A segment the index references but whose file is missing makes open
 * fail with GQ_ECORRUPT, naming the file. */
Test(plog, recovery_missing_segment)
{
	struct gq__plog_conf c = mkconf(1024, -1, -1);
	char path[700];
	int rv;
	int i;

	open_log(&c, NULL);
	for (i = 0; i < 6; i++)
		append1(1, 1, 600, (uint64_t)i + 1, NULL);
	gq__plog_close(pl);
	pl = NULL;
	seg_path(path, sizeof(path), pdir, 2);
	cr_assert(eq(int, unlink(path), 0));
	rv = gq__plog_open(st, 1, pdir, &c, &pl, NULL, errmsg);
	cr_assert(eq(int, rv, GQ_ECORRUPT));
	cr_assert(eq(ptr, pl, NULL));
	cr_assert(ne(ptr, strstr(errmsg, "00000000000000000002.log"), NULL),
		  "%s", errmsg);
	/* The last one too. */
	seg_path(path, sizeof(path), pdir, 5);
	cr_assert(eq(int, unlink(path), 0));
	rv = gq__plog_open(st, 1, pdir, &c, &pl, NULL, errmsg);
	cr_assert(eq(int, rv, GQ_ECORRUPT));
}

/* Build the layout used by the retention tests: 10 batches of equal size
 * with timestamps 1000..10000, two per segment. */
static size_t
five_segments(void)
{
	struct gq__plog_conf c;
	struct gq__buf x;
	size_t len;
	int i;

	make_batch(&x, 1, 1, 400, 0);
	len = x.len;
	gq__buf_free(&x);
	c = mkconf(2 * len, -1, -1);
	open_log(&c, NULL);
	for (i = 1; i <= 10; i++)
		append1(1, 1000 * i, 400, (uint64_t)i, NULL);
	return len;
}

static uint64_t
retain(int64_t now_ms)
{
	MDB_txn *txn;
	uint64_t freed = 99;

	cr_assert(eq(int, gq__store_begin(st, true, &txn), 0));
	cr_assert(eq(int, gq__plog_retain(pl, txn, now_ms, &freed), 0));
	cr_assert(eq(int, gq__store_commit(txn), 0));
	gq__plog_commit(pl);
	return freed;
}

/* Time retention deletes whole old segments (never the active one); the
 * log start moves and reads below it are GQ_EOFFSET. */
Test(plog, retention_by_time)
{
	struct gq__plog_conf c;
	struct gq__plog_stats s;
	struct gq__buf out = GQ__BUF_INIT;
	char path[700];
	uint64_t freed;
	size_t len;
	MDB_txn *txn;
	int64_t o;

	len = five_segments();
	c = mkconf(2 * len, 5000, -1);
	gq__plog_set_conf(pl, &c);
	/* Cut-off 4500: segments ending at 2000 and 4000 go. */
	cr_assert(eq(int, gq__store_begin(st, true, &txn), 0));
	cr_assert(eq(int, gq__plog_retain(pl, txn, 9500, &freed), 0));
	cr_assert(eq(u64, freed, 4 * len));
	seg_path(path, sizeof(path), pdir, 0);
	cr_assert(exists(path), "unlinked only at commit");
	cr_assert(eq(i64, gq__plog_log_start(pl), 0));
	cr_assert(eq(int, gq__store_commit(txn), 0));
	gq__plog_commit(pl);
	cr_assert(not(exists(path)));
	seg_path(path, sizeof(path), pdir, 2);
	cr_assert(not(exists(path)));
	cr_assert(eq(i64, gq__plog_log_start(pl), 4));
	cr_assert(eq(int, gq__plog_read(pl, 3, 100, &out, NULL, NULL, errmsg),
		     GQ_EOFFSET));
	cr_assert(eq(sz, read_all_batches(4), 6));
	cr_assert(eq(int, gq__plog_offset_for_time(pl, 0, &o), 0));
	cr_assert(eq(i64, o, 4));
	cr_assert(eq(int, gq__plog_offset_for_time(pl, 7000, &o), 0));
	cr_assert(eq(i64, o, 6));
	/* Far in the future: all but the active segment. */
	cr_assert(eq(u64, retain(INT64_MAX), 4 * len));
	gq__plog_stats(pl, &s);
	cr_assert(eq(u32, s.segments, 1));
	cr_assert(eq(i64, s.log_start, 8));
	cr_assert(eq(u64, s.size_bytes, 2 * len));
	cr_assert(eq(int, gq__plog_offset_for_time(pl, 0, &o), 0));
	cr_assert(eq(i64, o, 8));
	reopen(&c, NULL);
	cr_assert(eq(i64, gq__plog_log_start(pl), 8));
	cr_assert(eq(sz, read_all_batches(8), 2));
	gq__buf_free(&out);
}

/* Size retention deletes the oldest segments while the partition is larger
 * than retention_bytes; an aborted pass changes nothing. */
Test(plog, retention_by_bytes)
{
	struct gq__plog_conf c;
	struct gq__plog_stats s;
	uint64_t freed;
	size_t len;
	MDB_txn *txn;

	len = five_segments();
	c = mkconf(2 * len, -1, (int64_t)(5 * len));
	gq__plog_set_conf(pl, &c);
	cr_assert(eq(int, gq__store_begin(st, true, &txn), 0));
	cr_assert(eq(int, gq__plog_retain(pl, txn, 0, &freed), 0));
	cr_assert(eq(u64, freed, 6 * len));
	gq__store_abort(txn);
	gq__plog_abort(pl);
	gq__plog_stats(pl, &s);
	cr_assert(eq(u32, s.segments, 5));
	cr_assert(eq(sz, read_all_batches(0), 10));
	cr_assert(eq(u64, retain(0), 6 * len));
	gq__plog_stats(pl, &s);
	cr_assert(eq(u32, s.segments, 2));
	cr_assert(eq(u64, s.size_bytes, 4 * len));
	cr_assert(eq(i64, s.log_start, 6));
	cr_assert(eq(u64, retain(0), 0));
}

/* drop_oldest deletes one segment at a time regardless of policy, and
 * oldest_timestamp names the one it would delete. */
Test(plog, drop_oldest)
{
	MDB_txn *txn;
	uint64_t freed;
	size_t len;
	int i;

	len = five_segments();
	for (i = 0; i < 4; i++) {
		cr_assert(
			eq(i64, gq__plog_oldest_timestamp(pl), 2000 * (i + 1)));
		cr_assert(eq(int, gq__store_begin(st, true, &txn), 0));
		cr_assert(eq(int, gq__plog_drop_oldest(pl, txn, &freed), 0));
		cr_assert(eq(u64, freed, 2 * len));
		cr_assert(eq(int, gq__store_commit(txn), 0));
		gq__plog_commit(pl);
		cr_assert(eq(i64, gq__plog_log_start(pl), 2 * (i + 1)));
	}
	cr_assert(eq(i64, gq__plog_oldest_timestamp(pl), INT64_MAX));
	cr_assert(eq(int, gq__store_begin(st, true, &txn), 0));
	cr_assert(eq(int, gq__plog_drop_oldest(pl, txn, &freed), 0));
	cr_assert(eq(u64, freed, 0));
	gq__store_abort(txn);
	gq__plog_abort(pl);
	cr_assert(eq(sz, read_all_batches(8), 2));
}

/* Count the keys of @dbi that start with be64 @uid. */
static size_t
count_keys(MDB_dbi dbi, uint64_t uid)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k;
	MDB_val v;
	size_t n = 0;
	int rv;

	cr_assert(eq(int, gq__store_begin(st, false, &txn), 0));
	cr_assert(eq(int, mdb_cursor_open(txn, dbi, &cur), 0));
	for (rv = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rv == 0;
	     rv = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size >= 8 && gq__be64_get(k.mv_data) == uid)
			n++;
	}
	mdb_cursor_close(cur);
	gq__store_abort(txn);
	return n;
}

/* Removing a partition deletes all its LMDB records and files and leaves
 * other partitions alone. */
Test(plog, remove)
{
	struct gq__plog_conf c = mkconf(1024, -1, -1);
	struct gq__buf x;
	MDB_txn *txn;
	int i;

	open_log(&c, NULL);
	cr_assert(eq(int, gq__plog_open(st, 2, pdir2, &c, &pl2, NULL, errmsg),
		     0));
	for (i = 0; i < 5; i++) {
		append1(1, 100 * i, 600, (uint64_t)i + 1, NULL);
		make_batch(&x, 1, 100 * i, 600, 'z');
		append_bufs(pl2, &x, 1, (uint64_t)i + 1, NULL);
		gq__buf_free(&x);
	}
	cr_assert(eq(sz, count_keys(st->offsets, 1), 5));
	cr_assert(gt(sz, count_keys(st->times, 1), 0));
	cr_assert(eq(sz, count_keys(st->pmeta, 1), 1));
	cr_assert(eq(int, gq__store_begin(st, true, &txn), 0));
	cr_assert(eq(int, gq__plog_remove(pl, txn), 0));
	cr_assert(eq(int, gq__store_commit(txn), 0));
	gq__plog_commit(pl);
	cr_assert(eq(int, gq__plog_remove_files(pl), 0));
	gq__plog_close(pl);
	pl = NULL;
	cr_assert(not(exists(pdir)));
	cr_assert(eq(sz, count_keys(st->offsets, 1), 0));
	cr_assert(eq(sz, count_keys(st->times, 1), 0));
	cr_assert(eq(sz, count_keys(st->pmeta, 1), 0));
	cr_assert(eq(sz, count_keys(st->offsets, 2), 5));
	cr_assert(eq(sz, count_keys(st->pmeta, 2), 1));
	/* The directory can be reused for a new, empty log. */
	open_log(&c, NULL);
	cr_assert(eq(i64, gq__plog_next_offset(pl), 0));
}

/* Syncing segments succeeds and is repeatable. */
Test(plog, sync)
{
	struct gq__plog_conf c = mkconf(1024, -1, -1);
	int i;

	open_log(&c, NULL);
	cr_assert(eq(int, gq__plog_sync(pl), 0));
	for (i = 0; i < 5; i++)
		append1(1, 1, 600, (uint64_t)i + 1, NULL);
	cr_assert(eq(int, gq__plog_sync(pl), 0));
	cr_assert(eq(int, gq__plog_sync(pl), 0));
	cr_assert(eq(int, gq__store_sync(st), 0));
}

/* A store file that is not LMDB is GQ_ECORRUPT, naming the file. */
Test(plog, store_not_lmdb)
{
	struct gq__store *s2 = NULL;
	char dir[700];
	char path[800];
	char junk[8192];
	int fd;

	snprintf(dir, sizeof(dir), "%s/other", tmp);
	cr_assert(eq(int, mkdir(dir, 0755), 0));
	snprintf(path, sizeof(path), "%s/index.lmdb", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	memset(junk, 'j', sizeof(junk));
	cr_assert(
		eq(int, (int)write(fd, junk, sizeof(junk)), (int)sizeof(junk)));
	close(fd);
	cr_assert(eq(int, gq__store_open(dir, &s2, errmsg), GQ_ECORRUPT));
	cr_assert(ne(ptr, strstr(errmsg, "index.lmdb"), NULL), "%s", errmsg);
	cr_assert(eq(ptr, s2, NULL));
}

struct reader {
	atomic_bool stop;
	atomic_ulong reads;
	atomic_ulong batches;
	atomic_ulong eoffset;
	atomic_ulong errors;
	char errmsg[GQ_ERRMSG_SIZE];
};

/* Check one read result without asserting (this is not the test thread). */
static bool
reader_check(const struct gq__buf *out, int64_t offset, int64_t hw,
	     int64_t start, unsigned long *nb)
{
	struct gq__batch_header h;
	size_t pos = 0;
	int64_t expect = -1;

	while (pos < out->len) {
		if (gq__batch_validate(out->base + pos, out->len - pos, &h) !=
		    0)
			return false;
		if (expect < 0 && (h.base_offset > offset ||
				   gq__batch_last_offset(&h) < offset))
			return false;
		if (expect >= 0 && h.base_offset != expect)
			return false;
		if (h.base_offset < start || h.base_offset >= hw)
			return false;
		expect = gq__batch_last_offset(&h) + 1;
		pos += gq__batch_total_size(&h);
		(*nb)++;
	}
	return offset == hw ? out->len == 0 : out->len > 0;
}

static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct gq__buf out = GQ__BUF_INIT;
	uint64_t x = 88172645463325252ull;
	unsigned long nb;
	int64_t start;
	int64_t next;
	int64_t off;
	int64_t hw;
	int64_t ls;
	int rv;

	while (!atomic_load(&r->stop)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		start = gq__plog_log_start(pl);
		next = gq__plog_next_offset(pl);
		off = next > start
			      ? start + (int64_t)(x %
						  (uint64_t)(next - start + 1))
			      : start;
		out.len = 0;
		rv = gq__plog_read(pl, off, (x >> 20) % 20000, &out, &hw, &ls,
				   r->errmsg);
		atomic_fetch_add(&r->reads, 1);
		nb = 0;
		if (rv == GQ_EOFFSET)
			atomic_fetch_add(&r->eoffset, 1);
		else if (rv != 0 || !reader_check(&out, off, hw, ls, &nb))
			atomic_fetch_add(&r->errors, 1);
		atomic_fetch_add(&r->batches, nb);
		if ((x & 63) == 0 && gq__plog_sync(pl) != 0)
			atomic_fetch_add(&r->errors, 1);
		if ((x & 7) == 1 && gq__plog_offset_for_time(pl, 5000, &off))
			atomic_fetch_add(&r->errors, 1);
	}
	gq__buf_free(&out);
	return NULL;
}

/* Readers running while the loop thread appends and applies retention see
 * only whole, valid batches within the published range, never a crash. */
Test(plog, concurrent_readers)
{
	struct gq__plog_conf c = mkconf(8192, -1, 64 * 1024);
	static struct reader r;
	pthread_t th[3];
	uint64_t freed;
	MDB_txn *txn;
	int i;

	memset(&r, 0, sizeof(r));
	open_log(&c, NULL);
	append1(1, 1, 100, 1, NULL);
	for (i = 0; i < 3; i++)
		cr_assert(eq(int, pthread_create(&th[i], NULL, reader_main, &r),
			     0));
	for (i = 2; i < 3000; i++) {
		append1((size_t)(i % 4) + 1, i, (size_t)(i % 7) * 60,
			(uint64_t)i, NULL);
		if (i % 25 == 0) {
			cr_assert(eq(int, gq__store_begin(st, true, &txn), 0));
			cr_assert(eq(int, gq__plog_retain(pl, txn, i, &freed),
				     0));
			cr_assert(eq(int, gq__store_commit(txn), 0));
			gq__plog_commit(pl);
		}
	}
	atomic_store(&r.stop, true);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	cr_assert(eq(ulong, atomic_load(&r.errors), 0), "last: %s", r.errmsg);
	cr_assert(gt(ulong, atomic_load(&r.reads), 100));
	cr_assert(gt(ulong, atomic_load(&r.batches), 100));
	cr_assert(gt(i64, gq__plog_log_start(pl), 0));
	cr_log_info("reads %lu batches %lu eoffset %lu", atomic_load(&r.reads),
		    atomic_load(&r.batches), atomic_load(&r.eoffset));
}

/* Restarting the log past its end (a replica behind a source's retention)
 * deletes every batch and its files; appends continue at the new offset
 * in a new segment, reads below it fail, and a reopen agrees.  An abort
 * puts everything back. */
Test(plog, restart_at)
{
	struct gq__plog_conf c = mkconf(4096, -1, -1);
	struct gq__plog_recovery rep;
	struct gq__plog_stats s;
	struct gq__buf out = GQ__BUF_INIT;
	char path[700];
	MDB_txn *txn;
	int64_t o;

	open_log(&c, &rep);
	for (int i = 0; i < 40; i++)
		append1(2, 100 * i, 200, (uint64_t)i + 1, NULL);
	seg_path(path, sizeof(path), pdir, 0);
	cr_assert(exists(path));

	/* Below the end is refused; an abort changes nothing. */
	cr_assert(eq(int, gq__store_begin(st, true, &txn), 0));
	cr_assert(eq(int, gq__plog_restart_at(pl, txn, 79), GQ_EINVAL));
	cr_assert(eq(int, gq__plog_restart_at(pl, txn, 1000), 0));
	gq__store_abort(txn);
	gq__plog_abort(pl);
	gq__plog_stats(pl, &s);
	cr_assert(eq(i64, s.log_start, 0));
	cr_assert(eq(i64, s.next_offset, 80));
	cr_assert(eq(sz, read_all_batches(0), 40));

	cr_assert(eq(int, gq__store_begin(st, true, &txn), 0));
	cr_assert(eq(int, gq__plog_restart_at(pl, txn, 1000), 0));
	cr_assert(eq(int, gq__store_commit(txn), 0));
	gq__plog_commit(pl);
	cr_assert(not(exists(path)), "old segment still there");
	gq__plog_stats(pl, &s);
	cr_assert(eq(i64, s.log_start, 1000));
	cr_assert(eq(i64, s.next_offset, 1000));
	cr_assert(eq(u32, s.segments, 0));
	cr_assert(eq(int,
		     gq__plog_read(pl, 10, 1 << 20, &out, NULL, NULL, errmsg),
		     GQ_EOFFSET));
	gq__buf_free(&out);

	cr_assert(eq(i64, append1(3, 5000, 100, 41, NULL), 1000));
	cr_assert(eq(i64, append1(1, 5001, 100, 42, NULL), 1003));
	seg_path(path, sizeof(path), pdir, 1000);
	cr_assert(exists(path));
	reopen(&c, &rep);
	cr_assert(not(rep.repaired));
	gq__plog_stats(pl, &s);
	cr_assert(eq(i64, s.log_start, 1000));
	cr_assert(eq(i64, s.next_offset, 1004));
	cr_assert(eq(sz, read_all_batches(1000), 2));
	cr_assert(eq(int, gq__plog_offset_for_time(pl, 5001, &o), 0));
	cr_assert(eq(i64, o, 1003));
}
