/* SPDX-License-Identifier: MIT */
/*
 * test_rlog.c - a Raft group's disk state: term and vote across reopens
 * and torn metadata writes; appends across segments read back byte for
 * byte; truncation; torn and corrupt segments; snapshots replacing or
 * trimming the log; and the split sync.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/tmpdir.h"
#include "goqueue.h"
#include "rlog.h"

#define SEG_SIZE 512
#define MAX_E    512

static const char *tmp;
static char dir[600];
static struct gq__rlog *lg;
static char errmsg[GQ_ERRMSG_SIZE];

static void
setup(void)
{
	tmp = gqt_tmpdir_make();
	snprintf(dir, sizeof(dir), "%s/g1", tmp);
	lg = NULL;
}

static void
teardown(void)
{
	gq__rlog_close(lg);
	lg = NULL;
	gqt_tmpdir_remove();
}

TestSuite(rlog, .init = setup, .fini = teardown, .timeout = 20);

static int
reopen(void)
{
	struct gq__rlog_opts o = { .segment_size = SEG_SIZE };

	gq__rlog_close(lg);
	lg = NULL;
	errmsg[0] = '\0';
	return gq__rlog_open(dir, &o, &lg, errmsg);
}

/* The payload of entry @index written in @term: its length varies, zero
 * included, and its bytes depend on both. */
static size_t
payload_len(raft_index index)
{
	return (size_t)((index * 7) % 41);
}

static uint8_t
payload_byte(raft_index index, raft_term term, size_t i)
{
	return (uint8_t)(index * 31 + term * 17 + i);
}

static unsigned short
entry_type(raft_index index)
{
	return index % 3 == 0 ? RAFT_BARRIER : RAFT_COMMAND;
}

/* Append entries [from, to] of @term, @per at a time. */
static void
append_range(raft_index from, raft_index to, raft_term term, unsigned per)
{
	static uint8_t bytes[MAX_E][64];
	static struct raft_entry es[MAX_E];
	raft_index i = from;

	while (i <= to) {
		unsigned n = 0;

		for (; n < per && i + n <= to; n++) {
			raft_index x = i + n;

			memset(&es[n], 0, sizeof(es[n]));
			es[n].term = term;
			es[n].type = entry_type(x);
			es[n].buf.len = payload_len(x);
			es[n].buf.base = es[n].buf.len > 0 ? bytes[n] : NULL;
			for (size_t b = 0; b < es[n].buf.len; b++)
				bytes[n][b] = payload_byte(x, term, b);
		}
		cr_assert(eq(int, gq__rlog_append(lg, i, es, n), 0));
		i += n;
	}
	cr_assert(eq(u64, gq__rlog_last_index(lg), to));
}

/* Load and check entries [start, last]; terms from @term_of. */
static void
check_load(raft_index start, raft_index last, raft_term (*term_of)(raft_index))
{
	struct raft_snapshot *snap;
	struct raft_entry *es;
	raft_index si;
	raft_term term;
	raft_id vote;
	size_t n;

	cr_assert(eq(int, gq__rlog_load(lg, &term, &vote, &snap, &si, &es, &n),
		     0));
	cr_assert(eq(u64, si, start));
	cr_assert(eq(sz, n, (size_t)(last + 1 - start)));
	for (size_t k = 0; k < n; k++) {
		raft_index x = start + k;
		raft_term t = term_of(x);

		cr_assert(eq(u64, es[k].term, t), "entry %zu", (size_t)x);
		cr_assert(eq(int, (int)es[k].type, (int)entry_type(x)));
		cr_assert(eq(sz, es[k].buf.len, payload_len(x)));
		cr_assert(es[k].batch == NULL);
		for (size_t b = 0; b < es[k].buf.len; b++)
			cr_assert(eq(u8, ((uint8_t *)es[k].buf.base)[b],
				     payload_byte(x, t, b)));
		raft_free(es[k].buf.base);
	}
	raft_free(es);
	if (snap != NULL) {
		raft_configuration_close(&snap->configuration);
		raft_free(snap->bufs[0].base);
		raft_free(snap->bufs);
		raft_free(snap);
	}
}

static raft_term
term1(raft_index x)
{
	(void)x;
	return 1;
}

/* Sorted names of the files starting with @prefix. */
static size_t
list(const char *prefix, char names[][64], size_t max)
{
	struct dirent *d;
	size_t n = 0;
	DIR *dp = opendir(dir);

	cr_assert(dp != NULL);
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, prefix, strlen(prefix)) == 0 && n < max)
			snprintf(names[n++], 64, "%.63s", d->d_name);
	}
	closedir(dp);
	qsort(names, n, 64, (int (*)(const void *, const void *))strcmp);
	return n;
}

static off_t
file_size(const char *name)
{
	char path[800];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert(eq(int, stat(path, &st), 0));
	return st.st_size;
}

static void
cut_file(const char *name, off_t size)
{
	char path[800];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert(eq(int, truncate(path, size), 0));
}

static void
poke(const char *name, off_t off, uint8_t xor, size_t len)
{
	char path[800];
	uint8_t b;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR);
	cr_assert(fd >= 0);
	for (size_t i = 0; i < len; i++) {
		cr_assert(eq(int, (int)pread(fd, &b, 1, off + (off_t)i), 1));
		b = xor == 0 ? 0 : (uint8_t)(b ^ xor);
		cr_assert(eq(int, (int)pwrite(fd, &b, 1, off + (off_t)i), 1));
	}
	close(fd);
}

/* A new directory loads as nothing at all. */
Test(rlog, empty)
{
	struct raft_snapshot *snap = (void *)1;
	struct raft_entry *es = (void *)1;
	raft_index si;
	raft_term term = 9;
	raft_id vote = 9;
	size_t n = 9;

	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(int, gq__rlog_load(lg, &term, &vote, &snap, &si, &es, &n),
		     0));
	cr_assert(eq(u64, term, 0));
	cr_assert(eq(u64, vote, 0));
	cr_assert(snap == NULL);
	cr_assert(es == NULL);
	cr_assert(eq(sz, n, 0));
	cr_assert(eq(u64, si, 1));
	cr_assert(eq(u64, gq__rlog_last_index(lg), 0));
	cr_assert(eq(int, gq__rlog_snapshot_get(lg, &snap), GQ_EINVAL));
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(u32, gq__rlog_repairs(lg), 0));
}

/* Term and vote survive a reopen; a new term clears the vote. */
Test(rlog, term_vote)
{
	cr_assert(eq(int, reopen(), 0));
	cr_assert(eq(int, gq__rlog_set_term(lg, 5), 0));
	cr_assert(eq(int, gq__rlog_set_vote(lg, 3), 0));
	cr_assert(eq(int, reopen(), 0));
	cr_assert(eq(u64, gq__rlog_term(lg), 5));
	cr_assert(eq(u64, gq__rlog_vote(lg), 3));
	cr_assert(eq(int, gq__rlog_set_term(lg, 6), 0));
	cr_assert(eq(u64, gq__rlog_vote(lg), 0));
	cr_assert(eq(int, reopen(), 0));
	cr_assert(eq(u64, gq__rlog_term(lg), 6));
	cr_assert(eq(u64, gq__rlog_vote(lg), 0));
}

/* A torn newest slot leaves the previous value; both bad is corruption. */
Test(rlog, meta_torn)
{
	cr_assert(eq(int, reopen(), 0));
	cr_assert(eq(int, gq__rlog_set_term(lg, 5), 0)); /* seq 1: slot 1 */
	cr_assert(eq(int, gq__rlog_set_vote(lg, 3), 0)); /* seq 2: slot 0 */
	gq__rlog_close(lg);
	lg = NULL;
	poke("meta", 20, 0xff, 1);
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(u64, gq__rlog_term(lg), 5));
	cr_assert(eq(u64, gq__rlog_vote(lg), 0));
	/* The next write goes over the bad slot, and wins. */
	cr_assert(eq(int, gq__rlog_set_vote(lg, 4), 0));
	cr_assert(eq(int, reopen(), 0));
	cr_assert(eq(u64, gq__rlog_vote(lg), 4));
	gq__rlog_close(lg);
	lg = NULL;
	poke("meta", 8, 0x01, 1);
	poke("meta", 4096 + 8, 0x01, 1);
	cr_assert(eq(int, reopen(), GQ_ECORRUPT));
	cr_assert(strstr(errmsg, "meta") != NULL, "%s", errmsg);
}

/* Entries written across many segments load back identical. */
Test(rlog, append_reopen)
{
	char names[64][64];

	cr_assert(eq(int, reopen(), 0));
	append_range(1, 1, 1, 1);
	append_range(2, 40, 1, 3);
	append_range(41, 200, 1, 64);
	cr_assert(list("seg-", names, 64) >= 5);
	cr_assert(eq(str, names[0], "seg-00000000000000000001"));
	check_load(1, 200, term1);
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(u32, gq__rlog_repairs(lg), 0));
	cr_assert(eq(u64, gq__rlog_last_index(lg), 200));
	cr_assert(eq(u64, gq__rlog_first_index(lg), 1));
	check_load(1, 200, term1);
	/* Only the next index is accepted. */
	append_range(201, 210, 1, 4);
	cr_assert(eq(int, gq__rlog_append(lg, 212, NULL, 0), GQ_EINVAL));
	cr_assert(eq(int, gq__rlog_append(lg, 210, NULL, 0), GQ_EINVAL));
	cr_assert(eq(int, reopen(), 0));
	check_load(1, 210, term1);
}

static raft_term
term_after_57(raft_index x)
{
	return x >= 57 ? 2 : 1;
}

static raft_term
term_after_10(raft_index x)
{
	return x >= 57 ? 3 : x >= 10 ? 2 : 1;
}

/* Truncating in a segment and across segments, then appending anew. */
Test(rlog, truncate)
{
	cr_assert(eq(int, reopen(), 0));
	append_range(1, 100, 1, 7);
	/* Past the end: nothing happens. */
	cr_assert(eq(int, gq__rlog_truncate(lg, 101), 0));
	cr_assert(eq(u64, gq__rlog_last_index(lg), 100));
	cr_assert(eq(int, gq__rlog_truncate(lg, 57), 0));
	cr_assert(eq(u64, gq__rlog_last_index(lg), 56));
	append_range(57, 90, 2, 5);
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	check_load(1, 90, term_after_57);
	/* Across several segments. */
	cr_assert(eq(int, gq__rlog_truncate(lg, 10), 0));
	append_range(10, 56, 2, 9);
	append_range(57, 70, 3, 9);
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(u32, gq__rlog_repairs(lg), 0));
	check_load(1, 70, term_after_10);
	/* At the first index: the log is empty. */
	cr_assert(eq(int, gq__rlog_truncate(lg, 1), 0));
	cr_assert(eq(u64, gq__rlog_last_index(lg), 0));
	append_range(1, 30, 1, 4);
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	check_load(1, 30, term1);
}

/* Truncating exactly at a segment's first index drops that file whole. */
Test(rlog, truncate_at_segment_start)
{
	char names[64][64];
	size_t n;
	raft_index second;

	cr_assert(eq(int, reopen(), 0));
	append_range(1, 60, 1, 1);
	n = list("seg-", names, 64);
	cr_assert(n >= 3);
	second = strtoull(names[1] + 4, NULL, 10);
	cr_assert(eq(int, gq__rlog_truncate(lg, second), 0));
	cr_assert(eq(sz, list("seg-", names, 64), 1));
	cr_assert(eq(u64, gq__rlog_last_index(lg), second - 1));
	append_range(second, 80, 1, 3);
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	check_load(1, 80, term1);
}

/* A last segment cut mid-record or with a bad last record is cut back to
 * its last good record; the rest loads. */
Test(rlog, torn_tail)
{
	char names[64][64];
	size_t n;
	raft_index last;

	cr_assert(eq(int, reopen(), 0));
	append_range(1, 100, 1, 10);
	gq__rlog_close(lg);
	lg = NULL;
	n = list("seg-", names, 64);
	/* 100 % 7 * 41 ... entry 100 has a payload: cut it in half. */
	cr_assert(payload_len(100) > 2);
	cut_file(names[n - 1],
		 file_size(names[n - 1]) - (off_t)payload_len(100) / 2);
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(u32, gq__rlog_repairs(lg), 1));
	cr_assert(eq(u64, gq__rlog_last_index(lg), 99));
	check_load(1, 99, term1);
	/* Entry 99 ends the file: flip a payload byte. */
	gq__rlog_close(lg);
	lg = NULL;
	poke(names[n - 1], file_size(names[n - 1]) - 1, 0x40, 1);
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(u32, gq__rlog_repairs(lg), 1));
	last = gq__rlog_last_index(lg);
	cr_assert(eq(u64, last, 98));
	check_load(1, 98, term1);
	/* Appending goes on from the cut, and a reopen sees no damage. */
	append_range(99, 120, 1, 5);
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(u32, gq__rlog_repairs(lg), 0));
	check_load(1, 120, term1);
}

/* A flipped byte in an earlier segment is corruption, named in errmsg. */
Test(rlog, corrupt_middle)
{
	char names[64][64];

	cr_assert(eq(int, reopen(), 0));
	append_range(1, 100, 1, 10);
	gq__rlog_close(lg);
	lg = NULL;
	cr_assert(list("seg-", names, 64) >= 3);
	/* Inside the first record's header (the 16-byte file header, then
	 * the record's index field). */
	poke(names[1], 16 + 9, 0x01, 1);
	cr_assert(eq(int, reopen(), GQ_ECORRUPT));
	cr_assert(strstr(errmsg, names[1]) != NULL, "%s", errmsg);
	cr_assert(strstr(errmsg, "offset 16") != NULL, "%s", errmsg);
}

/* A huge length in an earlier segment is corruption, not an allocation. */
Test(rlog, corrupt_length)
{
	char names[64][64];

	cr_assert(eq(int, reopen(), 0));
	append_range(1, 100, 1, 10);
	gq__rlog_close(lg);
	lg = NULL;
	cr_assert(list("seg-", names, 64) >= 3);
	poke(names[0], 16 + 7, 0x7f, 1);
	cr_assert(eq(int, reopen(), GQ_ECORRUPT));
	cr_assert(strstr(errmsg, names[0]) != NULL, "%s", errmsg);
}

/* Where record @index starts in the segment whose first index is @first. */
static off_t
record_offset(raft_index first, raft_index index)
{
	off_t off = 16;

	for (raft_index i = first; i < index; i++)
		off += 32 + (off_t)payload_len(i);
	return off;
}

/* An earlier segment that ends inside a record, or in zeros from a record
 * on (a crash before its tail reached the disk, while a later segment's
 * did), is cut there and the later segments go. */
Test(rlog, torn_earlier_segment)
{
	char names[64][64];
	raft_index second;
	off_t off;

	cr_assert(eq(int, reopen(), 0));
	append_range(1, 100, 1, 10);
	gq__rlog_close(lg);
	lg = NULL;
	cr_assert(list("seg-", names, 64) >= 3);
	second = strtoull(names[1] + 4, NULL, 10);
	/* Zeros from the last record of the first segment on. */
	off = record_offset(1, second - 1);
	cr_assert(eq(sz, (size_t)(file_size(names[0]) - off),
		     32 + payload_len(second - 1)));
	poke(names[0], off, 0, (size_t)(file_size(names[0]) - off));
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(u32, gq__rlog_repairs(lg), 1));
	cr_assert(eq(sz, list("seg-", names, 64), 1));
	cr_assert(eq(u64, gq__rlog_last_index(lg), second - 2));
	check_load(1, second - 2, term1);
	/* Short inside a record with a good header. */
	append_range(second - 1, 100, 1, 10);
	gq__rlog_close(lg);
	lg = NULL;
	cr_assert(list("seg-", names, 64) >= 3);
	second = strtoull(names[1] + 4, NULL, 10);
	cut_file(names[0], record_offset(1, second - 1) + 33);
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(u32, gq__rlog_repairs(lg), 1));
	cr_assert(eq(u64, gq__rlog_last_index(lg), second - 2));
	check_load(1, second - 2, term1);
}

/* A flipped payload byte in an earlier segment's last record is
 * corruption, not a tear. */
Test(rlog, corrupt_last_record_of_earlier_segment)
{
	char names[64][64];

	cr_assert(eq(int, reopen(), 0));
	append_range(1, 100, 1, 10);
	gq__rlog_close(lg);
	lg = NULL;
	cr_assert(list("seg-", names, 64) >= 3);
	poke(names[0], file_size(names[0]) - 1, 0x20, 1);
	cr_assert(eq(int, reopen(), GQ_ECORRUPT));
	cr_assert(strstr(errmsg, "CRC mismatch") != NULL, "%s", errmsg);
}

static void
make_conf(struct raft_configuration *c)
{
	raft_configuration_init(c);
	cr_assert(eq(int,
		     raft_configuration_add(c, 1, "127.0.0.1:9001", RAFT_VOTER),
		     0));
	cr_assert(
		eq(int,
		   raft_configuration_add(c, 2, "127.0.0.1:9002", RAFT_STANDBY),
		   0));
}

static void
put_snapshot(raft_index index, raft_term term, unsigned trailing)
{
	static uint8_t a[100];
	static uint8_t b[3000];
	struct raft_buffer bufs[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct raft_snapshot s;

	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i + index);
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 3 + term);
	memset(&s, 0, sizeof(s));
	s.index = index;
	s.term = term;
	make_conf(&s.configuration);
	s.configuration_index = 7;
	s.bufs = bufs;
	s.n_bufs = 2;
	cr_assert(eq(int, gq__rlog_snapshot_put(lg, &s, trailing), 0));
	raft_configuration_close(&s.configuration);
}

static void
check_snapshot(const struct raft_snapshot *s, raft_index index, raft_term term)
{
	const uint8_t *p;

	cr_assert(s != NULL);
	cr_assert(eq(u64, s->index, index));
	cr_assert(eq(u64, s->term, term));
	cr_assert(eq(u64, s->configuration_index, 7));
	cr_assert(eq(u32, s->n_bufs, 1));
	cr_assert(eq(sz, s->bufs[0].len, 3100));
	p = s->bufs[0].base;
	for (size_t i = 0; i < 100; i++)
		cr_assert(eq(u8, p[i], (uint8_t)(i + index)));
	for (size_t i = 0; i < 3000; i++)
		cr_assert(eq(u8, p[100 + i], (uint8_t)(i * 3 + term)));
	cr_assert(eq(u32, s->configuration.n, 2));
	cr_assert(eq(u64, s->configuration.servers[0].id, 1));
	cr_assert(
		eq(str, s->configuration.servers[0].address, "127.0.0.1:9001"));
	cr_assert(eq(int, s->configuration.servers[0].role, RAFT_VOTER));
	cr_assert(eq(u64, s->configuration.servers[1].id, 2));
	cr_assert(eq(int, s->configuration.servers[1].role, RAFT_STANDBY));
}

static void
free_snapshot(struct raft_snapshot *s)
{
	raft_configuration_close(&s->configuration);
	raft_free(s->bufs[0].base);
	raft_free(s->bufs);
	raft_free(s);
}

static raft_term
term3(raft_index x)
{
	(void)x;
	return 3;
}

/* A snapshot with no trailing entries replaces the whole log. */
Test(rlog, snapshot_replaces_log)
{
	struct raft_snapshot *snap;
	struct raft_entry *es;
	char names[64][64];
	raft_index si;
	raft_term term;
	raft_id vote;
	size_t n;

	cr_assert(eq(int, reopen(), 0));
	append_range(1, 50, 1, 10);
	put_snapshot(60, 3, 0);
	cr_assert(eq(sz, list("seg-", names, 64), 0));
	cr_assert(eq(u64, gq__rlog_last_index(lg), 60));
	cr_assert(eq(int, gq__rlog_load(lg, &term, &vote, &snap, &si, &es, &n),
		     0));
	check_snapshot(snap, 60, 3);
	free_snapshot(snap);
	cr_assert(eq(u64, si, 61));
	cr_assert(eq(sz, n, 0));
	cr_assert(es == NULL);
	cr_assert(eq(int, gq__rlog_snapshot_get(lg, &snap), 0));
	check_snapshot(snap, 60, 3);
	free_snapshot(snap);
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(u64, gq__rlog_last_index(lg), 60));
	append_range(61, 90, 3, 6);
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	check_load(61, 90, term3);
	/* A newer snapshot replaces the older file. */
	put_snapshot(90, 3, 0);
	cr_assert(eq(sz, list("snap-", names, 64), 1));
	cr_assert(eq(str, names[0],
		     "snap-00000000000000000003-00000000000000000090"));
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(int, gq__rlog_snapshot_get(lg, &snap), 0));
	check_snapshot(snap, 90, 3);
	free_snapshot(snap);
}

/* With trailing entries, only whole segments before them are deleted. */
Test(rlog, snapshot_trailing)
{
	char names[64][64];
	size_t before;
	raft_index first;

	cr_assert(eq(int, reopen(), 0));
	append_range(1, 200, 1, 16);
	before = list("seg-", names, 64);
	put_snapshot(150, 1, 20);
	first = gq__rlog_first_index(lg);
	cr_assert(first > 1);
	cr_assert(first <= 130);
	cr_assert(list("seg-", names, 64) < before);
	cr_assert(eq(u64, strtoull(names[0] + 4, NULL, 10), first));
	cr_assert(eq(u64, gq__rlog_last_index(lg), 200));
	check_load(first, 200, term1);
	/* Entries before the first on disk cannot be truncated. */
	cr_assert(eq(int, gq__rlog_truncate(lg, first - 1), GQ_EINVAL));
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(u32, gq__rlog_repairs(lg), 0));
	check_load(first, 200, term1);
	append_range(201, 220, 1, 5);
	check_load(first, 220, term1);
}

/* A log left beside a snapshot it disagrees with (a crash during an
 * install) is discarded at open. */
Test(rlog, stale_log_behind_snapshot)
{
	char names[64][64];

	cr_assert(eq(int, reopen(), 0));
	append_range(1, 50, 1, 10);
	put_snapshot(40, 2, 20); /* entry 40 has term 1 */
	cr_assert(list("seg-", names, 64) > 0);
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(u32, gq__rlog_repairs(lg), 1));
	cr_assert(eq(sz, list("seg-", names, 64), 0));
	cr_assert(eq(u64, gq__rlog_last_index(lg), 40));
}

/* A corrupt snapshot fails the open. */
Test(rlog, corrupt_snapshot)
{
	char names[4][64];

	cr_assert(eq(int, reopen(), 0));
	put_snapshot(10, 1, 0);
	gq__rlog_close(lg);
	lg = NULL;
	cr_assert(eq(sz, list("snap-", names, 4), 1));
	poke(names[0], 200, 0x10, 1);
	cr_assert(eq(int, reopen(), GQ_ECORRUPT));
	cr_assert(strstr(errmsg, "snap-") != NULL, "%s", errmsg);
}

/* An older snapshot left by a crash goes once the newest proved valid;
 * while the newest is corrupt, it stays. */
Test(rlog, older_snapshot_pruned)
{
	char names[4][64];
	char from[800];
	char to[800];

	cr_assert(eq(int, reopen(), 0));
	put_snapshot(10, 1, 0);
	gq__rlog_close(lg);
	lg = NULL;
	cr_assert(eq(sz, list("snap-", names, 4), 1));
	snprintf(from, sizeof(from), "%s/%s", dir, names[0]);
	snprintf(to, sizeof(to),
		 "%s/snap-00000000000000000001-00000000000000000005", dir);
	cr_assert(eq(int, link(from, to), 0));
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(sz, list("snap-", names, 4), 1));
	cr_assert(eq(str, names[0],
		     "snap-00000000000000000001-00000000000000000010"));
	gq__rlog_close(lg);
	lg = NULL;
	cr_assert(eq(int, link(from, to), 0));
	poke(names[0], 100, 0x08, 1);
	cr_assert(eq(int, reopen(), GQ_ECORRUPT));
	cr_assert(eq(sz, list("snap-", names, 4), 2));
}

/* Leftover temporary files are removed at open. */
Test(rlog, temp_removed)
{
	char path[800];
	char names[4][64];
	int fd;

	cr_assert(eq(int, reopen(), 0));
	snprintf(path, sizeof(path), "%s/tmp-snap", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	cr_assert(fd >= 0);
	cr_assert(eq(int, (int)write(fd, "junk", 4), 4));
	close(fd);
	cr_assert(eq(int, reopen(), 0), "%s", errmsg);
	cr_assert(eq(sz, list("tmp-", names, 4), 0));
}

/* A sync covers what was appended before it began, and only that. */
Test(rlog, sync)
{
	struct gq__rlog_sync s;

	cr_assert(eq(int, reopen(), 0));
	cr_assert(eq(u64, gq__rlog_durable_index(lg), 0));
	append_range(1, 100, 1, 10);
	cr_assert(eq(u64, gq__rlog_durable_index(lg), 0));
	gq__rlog_sync_begin(lg, &s);
	cr_assert(s.n >= 2);           /* segments and the directory */
	append_range(101, 110, 1, 10); /* while the sync runs */
	cr_assert(eq(int, gq__rlog_sync_run(&s), 0));
	gq__rlog_sync_end(lg, &s, 0);
	cr_assert(eq(u64, gq__rlog_durable_index(lg), 100));
	/* A failed sync advances nothing; the next covers everything. */
	gq__rlog_sync_begin(lg, &s);
	gq__rlog_sync_end(lg, &s, GQ_EIO);
	cr_assert(eq(u64, gq__rlog_durable_index(lg), 100));
	gq__rlog_sync_begin(lg, &s);
	cr_assert(s.n >= 1);
	/* A truncation meanwhile caps what the sync may claim. */
	cr_assert(eq(int, gq__rlog_truncate(lg, 105), 0));
	cr_assert(eq(int, gq__rlog_sync_run(&s), 0));
	gq__rlog_sync_end(lg, &s, 0);
	cr_assert(eq(u64, gq__rlog_durable_index(lg), 104));
	/* Nothing to sync is fine too. */
	gq__rlog_sync_begin(lg, &s);
	cr_assert(eq(int, gq__rlog_sync_run(&s), 0));
	gq__rlog_sync_end(lg, &s, 0);
	cr_assert(eq(u64, gq__rlog_durable_index(lg), 104));
	cr_assert(eq(int, reopen(), 0));
	cr_assert(eq(u64, gq__rlog_durable_index(lg), 104));
}
