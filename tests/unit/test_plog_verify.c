/* SPDX-License-Identifier: MIT */
/*
 * test_plog_verify.c - the read-only verifier behind gqctl check-store:
 * a clean log has no problem; each kind of damage (flipped byte, short
 * and missing segments, torn tails, stray files, index gaps, a wrong
 * time index or pmeta, a batch that is not the indexed one) is reported
 * with its segment and offset; nothing is ever changed; and what it calls
 * bad in the last segment is what recovery then repairs.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/tmpdir.h"
#include "batch.h"
#include "buf.h"
#include "heap.h"
#include "plog.h"
#include "store.h"

#define UID 7

static const char *tmp;
static char pdir[600];
static struct gq__store *st;
static struct gq__plog *pl;
static char errmsg[GQ_ERRMSG_SIZE];

/* What the callback saw. */
static struct gq__plog_problem seen[64];
static size_t nseen;

static void
setup(void)
{
	tmp = gqt_tmpdir_make();
	snprintf(pdir, sizeof(pdir), "%s/p", tmp);
	st = NULL;
	pl = NULL;
	nseen = 0;
	gq__store_open(tmp, &st, errmsg);
}

static void
teardown(void)
{
	gq__plog_close(pl);
	pl = NULL;
	gq__store_close(st);
	st = NULL;
	gqt_tmpdir_remove();
}

TestSuite(plog_verify, .init = setup, .fini = teardown, .timeout = 60);

static void
on_problem(void *arg, const struct gq__plog_problem *pr)
{
	(void)arg;
	if (nseen < sizeof(seen) / sizeof(seen[0]))
		seen[nseen++] = *pr;
}

/* How many problems of @kind were seen. */
static size_t
count(enum gq__plog_problem_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < nseen; i++)
		n += seen[i].kind == kind;
	return n;
}

static const struct gq__plog_problem *
first(enum gq__plog_problem_kind kind)
{
	for (size_t i = 0; i < nseen; i++)
		if (seen[i].kind == kind)
			return &seen[i];
	cr_assert(false, "no %s problem", gq__plog_problem_name(kind));
	return NULL;
}

static struct gq__plog_verify_report
verify(void)
{
	struct gq__plog_verify_report rep;
	int rv;

	nseen = 0;
	memset(&rep, 0xee, sizeof(rep));
	rv = gq__plog_verify(st, UID, pdir, on_problem, NULL, &rep, errmsg);
	cr_assert(eq(int, rv, 0), "verify: %s", errmsg);
	cr_assert(eq(u64, rep.problems, (uint64_t)nseen));
	return rep;
}

/* A log of @n one-record batches (timestamps 1000 + i, Raft entries 1..n)
 * in segments of @seg_size bytes, then closed.  Returns one batch's
 * length. */
static size_t
fill(int n, uint64_t seg_size)
{
	struct gq__plog_conf c = { seg_size, -1, -1 };
	struct gq__plog_batch b;
	struct gq_msg m;
	struct gq__buf buf;
	MDB_txn *txn;
	size_t len = 0;
	char val[40];

	cr_assert(ne(ptr, st, NULL), "store: %s", errmsg);
	cr_assert(
		eq(int, gq__plog_open(st, UID, pdir, &c, &pl, NULL, errmsg), 0),
		"%s", errmsg);
	for (int i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		snprintf(val, sizeof(val), "value-%04d", i);
		m.value = val;
		m.value_len = strlen(val);
		m.timestamp = 1000 + i;
		buf = (struct gq__buf)GQ__BUF_INIT;
		cr_assert(eq(int,
			     gq__batch_build(&m, 1, 0, 0, -1, -1, -1, 0, &buf),
			     0));
		b.data = buf.base;
		b.len = buf.len;
		len = buf.len;
		cr_assert(eq(int, gq__store_begin(st, true, &txn), 0));
		cr_assert(
			eq(int,
			   gq__plog_append(pl, txn, &b, 1, 3, (uint64_t)i + 1),
			   0));
		cr_assert(eq(int, gq__store_commit(txn), 0));
		gq__plog_commit(pl);
		gq__buf_free(&buf);
	}
	gq__plog_close(pl);
	pl = NULL;
	return len;
}

static void
seg_path(char *out, size_t size, int64_t base)
{
	snprintf(out, size, "%s/%020" PRId64 ".log", pdir, base);
}

static off_t
size_of(const char *path)
{
	struct stat sb;

	cr_assert(eq(int, stat(path, &sb), 0), "%s", path);
	return sb.st_size;
}

static void
flip(const char *path, off_t pos)
{
	int fd = open(path, O_RDWR);
	unsigned char c;

	cr_assert(ge(int, fd, 0));
	cr_assert(eq(int, (int)pread(fd, &c, 1, pos), 1));
	c ^= 0xff;
	cr_assert(eq(int, (int)pwrite(fd, &c, 1, pos), 1));
	close(fd);
}

/* Delete the LMDB record @key of @dbi, or put @val there when not NULL. */
static void
poke(MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key };
	MDB_val v = { vlen, (void *)val };
	MDB_txn *txn;

	cr_assert(eq(int, gq__store_begin(st, true, &txn), 0));
	if (val == NULL)
		cr_assert(eq(int, mdb_del(txn, dbi, &k, NULL), 0));
	else
		cr_assert(eq(int, mdb_put(txn, dbi, &k, &v, 0), 0));
	cr_assert(eq(int, gq__store_commit(txn), 0));
}

static void
okey(uint8_t k[16], int64_t base)
{
	gq__be64_put(k, UID);
	gq__be64_put(k + 8, (uint64_t)base);
}

/* A clean log: nothing reported, and the report describes it. */
Test(plog_verify, clean)
{
	struct gq__plog_verify_report rep;
	size_t len = fill(30, 1024);

	rep = verify();
	cr_assert(eq(u64, rep.problems, 0));
	cr_assert(eq(u64, rep.batches, 30));
	cr_assert(eq(u64, rep.bytes, 30 * len));
	cr_assert(eq(i64, rep.log_start, 0));
	cr_assert(eq(i64, rep.next_offset, 30));
	cr_assert(eq(u64, rep.applied, 30));
	cr_assert(gt(u32, rep.segments, 2));
}

/* A partition with no records and no directory is a clean, empty log. */
Test(plog_verify, empty)
{
	struct gq__plog_verify_report rep;

	cr_assert(ne(ptr, st, NULL));
	rep = verify();
	cr_assert(eq(u64, rep.problems, 0));
	cr_assert(eq(u64, rep.batches, 0));
	cr_assert(eq(u32, rep.segments, 0));
}

/* A flipped byte inside a batch of an older, full-sized segment (which
 * recovery does not walk) is a bad CRC at that batch; the batches after
 * it are still checked and fine. */
Test(plog_verify, flipped_byte_anywhere)
{
	char path[700];
	size_t len = fill(30, 1024);

	seg_path(path, sizeof(path), 0);
	flip(path, (off_t)(2 * len + len - 2));
	verify();
	cr_assert(eq(sz, nseen, 1));
	cr_assert(eq(int, seen[0].kind, GQ__PLOG_BAD_CRC));
	cr_assert(eq(i64, seen[0].segment, 0));
	cr_assert(eq(i64, seen[0].offset, 2));
	cr_assert(eq(u64, seen[0].position, 2 * len));
	/* The magic byte: the header no longer parses. */
	flip(path, (off_t)(2 * len + len - 2));
	flip(path, (off_t)(len + 16));
	verify();
	cr_assert(eq(int, first(GQ__PLOG_BAD_HEADER)->offset, 1));
	cr_assert(eq(sz, nseen, 1));
}

/* A base offset rewritten (outside the CRC) makes a valid batch that is
 * not the one indexed. */
Test(plog_verify, batch_mismatch)
{
	char path[700];
	size_t len = fill(5, 1 << 20);

	seg_path(path, sizeof(path), 0);
	flip(path, (off_t)(3 * len + 7));
	verify();
	cr_assert(eq(sz, nseen, 1));
	cr_assert(eq(i64, first(GQ__PLOG_BATCH_MISMATCH)->offset, 3));
}

/* A segment cut mid-batch is reported once, at the first batch cut,
 * however many batches it loses. */
Test(plog_verify, short_segment)
{
	struct gq__plog_verify_report rep;
	char path[700];
	size_t len = fill(10, 1 << 20);

	seg_path(path, sizeof(path), 0);
	cr_assert(eq(int, truncate(path, (off_t)(6 * len + 5)), 0));
	rep = verify();
	cr_assert(eq(sz, nseen, 1));
	cr_assert(eq(i64, first(GQ__PLOG_SHORT_SEGMENT)->offset, 6));
	cr_assert(eq(u64, first(GQ__PLOG_SHORT_SEGMENT)->position, 6 * len));
	cr_assert(eq(u64, rep.short_batches, 4));
}

/* Bytes past the indexed end are a torn tail, at that end. */
Test(plog_verify, torn_tail)
{
	char path[700];
	size_t len = fill(10, 1 << 20);
	int fd;

	seg_path(path, sizeof(path), 0);
	fd = open(path, O_WRONLY | O_APPEND);
	cr_assert(ge(int, fd, 0));
	cr_assert(eq(int, (int)write(fd, "garbage", 7), 7));
	close(fd);
	verify();
	cr_assert(eq(sz, nseen, 1));
	cr_assert(eq(u64, first(GQ__PLOG_TORN_TAIL)->position, 10 * len));
}

/* A missing segment and a stray one are both named. */
Test(plog_verify, missing_and_extra_segments)
{
	char path[700];
	int64_t b;
	int fd;

	fill(30, 1024);
	/* The second segment, named by its first batch's offset. */
	for (b = 1; b < 30; b++) {
		seg_path(path, sizeof(path), b);
		if (access(path, F_OK) == 0)
			break;
	}
	cr_assert(lt(i64, b, 30));
	cr_assert(eq(int, unlink(path), 0));
	verify();
	cr_assert(eq(sz, nseen, 1));
	cr_assert(eq(i64, first(GQ__PLOG_MISSING_SEGMENT)->segment, b));
	cr_assert(eq(i64, first(GQ__PLOG_MISSING_SEGMENT)->offset, b));

	seg_path(path, sizeof(path), 12345);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	cr_assert(ge(int, fd, 0));
	close(fd);
	verify();
	cr_assert(eq(sz, count(GQ__PLOG_EXTRA_SEGMENT), 1));
	cr_assert(eq(i64, first(GQ__PLOG_EXTRA_SEGMENT)->segment, 12345));
}

/* Index records that disagree with each other or with pmeta. */
Test(plog_verify, index_and_pmeta)
{
	uint8_t k[16];
	uint8_t pk[8];
	uint8_t pv[32];

	fill(5, 1 << 20);
	/* An entry gone from the middle: a gap, and the next batch is not
	 * where the previous one ends. */
	okey(k, 2);
	poke(st->offsets, k, sizeof(k), NULL, 0);
	verify();
	cr_assert(eq(i64, first(GQ__PLOG_INDEX_GAP)->offset, 3));
	cr_assert(eq(i64, first(GQ__PLOG_INDEX_ORDER)->offset, 3));

	/* pmeta's next offset beyond the index, then pmeta undecodable. */
	gq__be64_put(pk, UID);
	memset(pv, 0, sizeof(pv));
	pv[0] = 1;
	gq__be64_put(pv + 16, 9);
	gq__be64_put(pv + 24, 5);
	poke(st->pmeta, pk, sizeof(pk), pv, sizeof(pv));
	verify();
	cr_assert(ge(sz, count(GQ__PLOG_INDEX_GAP), 2));
	poke(st->pmeta, pk, sizeof(pk), pv, 7);
	verify();
	cr_assert(eq(sz, count(GQ__PLOG_BAD_PMETA), 1));
}

/* The time index must hold exactly one entry per rise of the running
 * max timestamp. */
Test(plog_verify, time_index)
{
	uint8_t k[24];

	fill(5, 1 << 20);
	/* Batch 2's entry (timestamp 1002) goes missing. */
	gq__be64_put(k, UID);
	gq__be64_put(k + 8, (uint64_t)1002 ^ (UINT64_C(1) << 63));
	gq__be64_put(k + 16, 2);
	poke(st->times, k, sizeof(k), NULL, 0);
	verify();
	cr_assert(eq(sz, nseen, 1));
	cr_assert(eq(i64, first(GQ__PLOG_TIME_INDEX)->offset, 2));
	/* One that matches no batch. */
	poke(st->times, k, sizeof(k), "", 0);
	gq__be64_put(k + 8, (uint64_t)5000 ^ (UINT64_C(1) << 63));
	gq__be64_put(k + 16, 4);
	poke(st->times, k, sizeof(k), "", 0);
	verify();
	cr_assert(eq(sz, nseen, 1));
	cr_assert(eq(i64, first(GQ__PLOG_TIME_INDEX)->offset, 4));
}

/* Verifying changes nothing: files and index stay as they were, damage
 * included. */
Test(plog_verify, read_only)
{
	char path[700];
	size_t len = fill(10, 1 << 20);
	uint64_t *uids;
	size_t n;
	int fd;

	seg_path(path, sizeof(path), 0);
	fd = open(path, O_WRONLY | O_APPEND);
	cr_assert(eq(int, (int)write(fd, "tail", 4), 4));
	close(fd);
	flip(path, (off_t)(len - 2));
	verify();
	cr_assert(eq(sz, nseen, 2));
	verify();
	cr_assert(eq(sz, nseen, 2));
	cr_assert(eq(i64, size_of(path), (off_t)(10 * len + 4)));
	cr_assert(eq(int, gq__plog_list_uids(st, &uids, &n), 0));
	cr_assert(eq(sz, n, 1));
	cr_assert(eq(u64, uids[0], UID));
	gq__free(uids);
}

/* What the verifier calls bad in the last segment is exactly what
 * recovery drops: after gq__plog_open() the log verifies clean. */
Test(plog_verify, agrees_with_recovery)
{
	struct gq__plog_conf c = { 1 << 20, -1, -1 };
	struct gq__plog_recovery rec;
	char path[700];
	size_t len = fill(10, 1 << 20);

	seg_path(path, sizeof(path), 0);
	flip(path, (off_t)(7 * len + 40));
	verify();
	cr_assert(eq(sz, nseen, 1));
	cr_assert(eq(i64, first(GQ__PLOG_BAD_CRC)->offset, 7));
	cr_assert(eq(int, gq__plog_open(st, UID, pdir, &c, &pl, &rec, errmsg),
		     0));
	cr_assert(eq(u64, rec.dropped_batches, 3));
	gq__plog_close(pl);
	pl = NULL;
	verify();
	cr_assert(eq(sz, nseen, 0));
}

/* Every partition with a record is listed once, in order. */
Test(plog_verify, list_uids)
{
	struct gq__plog_conf c = { 1 << 20, -1, -1 };
	struct gq__plog *other;
	char dir2[700];
	uint64_t *uids;
	size_t n;

	fill(3, 1 << 20);
	snprintf(dir2, sizeof(dir2), "%s/q", tmp);
	cr_assert(eq(int, gq__plog_open(st, 3, dir2, &c, &other, NULL, errmsg),
		     0));
	gq__plog_close(other);
	cr_assert(eq(int, gq__plog_list_uids(st, &uids, &n), 0));
	/* A log never appended to has no record at all. */
	cr_assert(eq(sz, n, 1));
	cr_assert(eq(u64, uids[0], UID));
	gq__free(uids);
}
