/* SPDX-License-Identifier: MIT */
/*
 * test_rmsg.c - the Raft message codec: every message type round trips
 * field by field, streams are decoded whatever the read sizes, any flipped
 * bit or inconsistent length is GQ_ECORRUPT, partial frames leak nothing,
 * large payloads are read straight into the delivered batch, and
 * allocation failures on both sides are clean.
 *
 * A counting raft heap is installed for every test, so that each test can
 * check that the messages it was delivered, once freed the way libraft
 * frees them, leave nothing behind, and how large an allocation was asked.
 */
#include <criterion/criterion.h>
#include <raft.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "../lib/failheap.h"
#include "buf.h"
#include "crc32c.h"
#include "error.h"
#include "rmsg.h"

#define MAX_PAYLOAD (256u << 20)
#define MAX_GOT     512

/* --- a counting, optionally failing, raft heap ------------------------- */

static struct {
	long live;
	long calls;
	long fail_at; /* -1: never */
	size_t max_size;
} rh;

static bool
rh_fail(size_t size)
{
	if (size > rh.max_size)
		rh.max_size = size;
	return rh.calls++ == rh.fail_at;
}

static void *
rh_malloc(void *data, size_t size)
{
	void *p;

	(void)data;
	if (rh_fail(size) || (p = malloc(size)) == NULL)
		return NULL;
	rh.live++;
	return p;
}

static void
rh_free(void *data, void *ptr)
{
	(void)data;
	if (ptr != NULL)
		rh.live--;
	free(ptr);
}

static void *
rh_calloc(void *data, size_t nmemb, size_t size)
{
	void *p;

	(void)data;
	if (rh_fail(nmemb * size) || (p = calloc(nmemb, size)) == NULL)
		return NULL;
	rh.live++;
	return p;
}

static void *
rh_realloc(void *data, void *ptr, size_t size)
{
	void *p;

	(void)data;
	if (rh_fail(size) || (p = realloc(ptr, size)) == NULL)
		return NULL;
	if (ptr == NULL)
		rh.live++;
	return p;
}

static void *
rh_aligned_alloc(void *data, size_t alignment, size_t size)
{
	void *p;

	(void)data;
	if (rh_fail(size) || (p = aligned_alloc(alignment, size)) == NULL)
		return NULL;
	rh.live++;
	return p;
}

static void
rh_aligned_free(void *data, size_t alignment, void *ptr)
{
	(void)alignment;
	rh_free(data, ptr);
}

static struct raft_heap counting_heap = {
	NULL,       rh_malloc,        rh_free,         rh_calloc,
	rh_realloc, rh_aligned_alloc, rh_aligned_free,
};

static void
setup(void)
{
	memset(&rh, 0, sizeof(rh));
	rh.fail_at = -1;
	raft_heap_set(&counting_heap);
}

static void
teardown(void)
{
	raft_heap_set_default();
	gq_heap_set(NULL);
}

TestSuite(rmsg, .init = setup, .fini = teardown, .timeout = 120);

/* --- helpers --------------------------------------------------------- */

/* Messages delivered so far, and the most delivered by one consume. */
struct got {
	struct raft_message m[MAX_GOT];
	size_t n;
	size_t in_call;
	size_t max_per_call;
};

static void
collect(void *arg, struct raft_message *m)
{
	struct got *g = arg;

	cr_assert_lt(g->n, MAX_GOT);
	cr_assert_eq(m->server_id, 0);
	cr_assert_null(m->server_address);
	g->m[g->n++] = *m;
	g->in_call++;
}

/* Free a delivered message the way libraft 0.15 does. */
static void
msg_free(struct raft_message *m)
{
	struct raft_append_entries *ae = &m->append_entries;

	if (m->type == RAFT_IO_APPEND_ENTRIES && ae->n_entries > 0) {
		raft_free(ae->entries[0].batch);
		raft_free(ae->entries);
	} else if (m->type == RAFT_IO_INSTALL_SNAPSHOT) {
		raft_configuration_close(&m->install_snapshot.conf);
		raft_free(m->install_snapshot.data.base);
	}
}

static void
got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		msg_free(&g->m[i]);
	g->n = 0;
}

/* Encode @m into one contiguous frame, appended to @b. */
static void
frame_append(const struct raft_message *m, struct gq__buf *b)
{
	struct gq__rmsg_out out;

	cr_assert_eq(gq__rmsg_encode(m, &out), 0);
	for (unsigned i = 0; i < out.n; i++)
		cr_assert_eq(
			gq__buf_append(b, out.bufs[i].base, out.bufs[i].len),
			0);
	gq__rmsg_out_free(&out);
}

/* Recompute both CRCs of the frame at @f after a deliberate edit. */
static void
fix_crcs(uint8_t *f)
{
	uint32_t h = gq__le32_get(f + 8);
	uint64_t p = gq__le64_get(f + 12);

	gq__le32_put(f + 20, gq__crc32c(0, f + GQ__RMSG_PREFIX, h + p));
	gq__le32_put(f + 24, gq__crc32c(0, f, 24));
}

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Feed @len bytes through alloc/consume, each read at most @chunk bytes
 * (0: as much as alloc offers; SIZE_MAX: random sizes up to 70000).
 * Return the first error of consume, or 0.
 */
static int
feed(struct gq__rmsg_reader *r, const uint8_t *p, size_t len, size_t chunk,
     struct got *g)
{
	size_t off = 0;
	uv_buf_t buf;
	size_t n;
	int rv;

	while (off < len) {
		gq__rmsg_reader_alloc(r, &buf);
		cr_assert_not_null(buf.base);
		cr_assert_gt(buf.len, 0);
		n = len - off;
		if (n > buf.len)
			n = buf.len;
		if (chunk == SIZE_MAX)
			n = n < 70000 ? 1 + rnd() % n : 1 + rnd() % 70000;
		else if (chunk != 0 && n > chunk)
			n = chunk;
		memcpy(buf.base, p + off, n);
		off += n;
		g->in_call = 0;
		rv = gq__rmsg_reader_consume(r, n, collect, g);
		if (g->in_call > g->max_per_call)
			g->max_per_call = g->in_call;
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* Decode @len bytes with a fresh reader; return consume's result. */
static int
decode_all(const uint8_t *p, size_t len, size_t chunk, struct got *g)
{
	struct gq__rmsg_reader r;
	int rv;

	gq__rmsg_reader_init(&r, MAX_PAYLOAD);
	rv = feed(&r, p, len, chunk, g);
	gq__rmsg_reader_close(&r);
	return rv;
}

/* --- sample messages --------------------------------------------------- */

/* Entry data lives here (plain malloc), owned by the test. */
struct sample {
	struct raft_message m;
	void *mem[2];
};

static void
sample_free(struct sample *s)
{
	if (s->m.type == RAFT_IO_INSTALL_SNAPSHOT)
		raft_configuration_close(&s->m.install_snapshot.conf);
	free(s->mem[0]);
	free(s->mem[1]);
	memset(s, 0, sizeof(*s));
}

static void
fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

/* AppendEntries with @n entries of the given lengths (cycled). */
static void
make_ae(struct sample *s, unsigned n, const size_t *lens, size_t n_lens)
{
	struct raft_append_entries *ae = &s->m.append_entries;
	size_t total = 0;
	uint8_t *data;

	memset(s, 0, sizeof(*s));
	s->m.type = RAFT_IO_APPEND_ENTRIES;
	ae->term = 0x1111222233334444ULL;
	ae->prev_log_index = 0x0102030405060708ULL;
	ae->prev_log_term = 0xfedcba9876543210ULL;
	ae->leader_commit = 0x0a0b0c0d0e0f1011ULL;
	ae->n_entries = n;
	for (unsigned i = 0; i < n; i++)
		total += lens[i % n_lens];
	ae->entries = n > 0 ? calloc(n, sizeof(*ae->entries)) : NULL;
	data = malloc(total > 0 ? total : 1);
	cr_assert(n == 0 || ae->entries != NULL);
	cr_assert_not_null(data);
	s->mem[0] = ae->entries;
	s->mem[1] = data;
	for (unsigned i = 0; i < n; i++) {
		struct raft_entry *e = &ae->entries[i];

		e->term = 0x8000000000000000ULL + i * 0x10001ULL;
		e->type = (unsigned short)(RAFT_COMMAND + i % 3);
		e->buf.len = lens[i % n_lens];
		e->buf.base = e->buf.len > 0 ? data : NULL;
		fill(data, e->buf.len, i);
		data += e->buf.len;
	}
}

static void
make_is(struct sample *s, size_t data_len)
{
	struct raft_install_snapshot *is = &s->m.install_snapshot;

	memset(s, 0, sizeof(*s));
	s->m.type = RAFT_IO_INSTALL_SNAPSHOT;
	is->term = 0x0706050403020100ULL;
	is->last_index = 0x1234567890abcdefULL;
	is->last_term = 0x5555aaaa5555aaaaULL;
	is->conf_index = 0x0102030405060709ULL;
	raft_configuration_init(&is->conf);
	cr_assert_eq(raft_configuration_add(&is->conf, 1, "127.0.0.1:9001",
					    RAFT_VOTER),
		     0);
	cr_assert_eq(raft_configuration_add(&is->conf, 0xabcdef0123ULL,
					    "node-b.example:1234",
					    RAFT_STANDBY),
		     0);
	cr_assert_eq(raft_configuration_add(&is->conf, UINT64_MAX, "[::1]:5",
					    RAFT_SPARE),
		     0);
	s->mem[0] = malloc(data_len > 0 ? data_len : 1);
	cr_assert_not_null(s->mem[0]);
	fill(s->mem[0], data_len, 99);
	is->data.base = data_len > 0 ? s->mem[0] : NULL;
	is->data.len = data_len;
}

/* The fixed-size messages, each field distinct.  @variant flips the
 * bools and walks the tribool. */
static void
make_small(struct sample *s, unsigned short type, unsigned variant)
{
	memset(s, 0, sizeof(*s));
	s->m.type = type;
	switch (type) {
	case RAFT_IO_REQUEST_VOTE:
		s->m.request_vote.term = 0x1020304050607080ULL + variant;
		s->m.request_vote.candidate_id = 0x1112131415161718ULL;
		s->m.request_vote.last_log_index = 0x2122232425262728ULL;
		s->m.request_vote.last_log_term = 0x3132333435363738ULL;
		s->m.request_vote.disrupt_leader = variant & 1;
		s->m.request_vote.pre_vote = (variant >> 1) & 1;
		break;
	case RAFT_IO_REQUEST_VOTE_RESULT:
		s->m.request_vote_result.term = 0x4142434445464748ULL;
		s->m.request_vote_result.vote_granted = variant & 1;
		s->m.request_vote_result.pre_vote = (raft_tribool)(variant % 3);
		break;
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		s->m.append_entries_result.term = 0x5152535455565758ULL;
		s->m.append_entries_result.rejected =
			0x6162636465666768ULL + variant;
		s->m.append_entries_result.last_log_index =
			0x7172737475767778ULL;
		break;
	case RAFT_IO_TIMEOUT_NOW:
		s->m.timeout_now.term = 0x8182838485868788ULL;
		s->m.timeout_now.last_log_index =
			0x9192939495969798ULL + variant;
		s->m.timeout_now.last_log_term = 0xa1a2a3a4a5a6a7a8ULL;
		break;
	default:
		cr_assert_fail("not a small type");
	}
}

/* Assert that @b, as delivered, equals what was sent in @a, field by
 * field, and that the delivered memory follows libraft's contract. */
static void
assert_msg_eq(const struct raft_message *a, const struct raft_message *b)
{
	cr_assert_eq(b->type, a->type);
	switch (a->type) {
	case RAFT_IO_APPEND_ENTRIES: {
		const struct raft_append_entries *x = &a->append_entries;
		const struct raft_append_entries *y = &b->append_entries;
		const uint8_t *pos;

		cr_assert_eq(y->term, x->term);
		cr_assert_eq(y->prev_log_index, x->prev_log_index);
		cr_assert_eq(y->prev_log_term, x->prev_log_term);
		cr_assert_eq(y->leader_commit, x->leader_commit);
		cr_assert_eq(y->n_entries, x->n_entries);
		if (x->n_entries == 0) {
			cr_assert_null(y->entries);
			break;
		}
		cr_assert_not_null(y->entries);
		cr_assert_not_null(y->entries[0].batch);
		pos = y->entries[0].batch;
		for (unsigned i = 0; i < x->n_entries; i++) {
			const struct raft_entry *ex = &x->entries[i];
			const struct raft_entry *ey = &y->entries[i];

			cr_assert_eq(ey->term, ex->term, "entry %u", i);
			cr_assert_eq(ey->type, ex->type, "entry %u", i);
			cr_assert_eq(ey->buf.len, ex->buf.len, "entry %u", i);
			cr_assert_eq(ey->batch, y->entries[0].batch);
			if (ex->buf.len == 0) {
				cr_assert_null(ey->buf.base);
				continue;
			}
			/* Packed in order, no padding, inside the batch. */
			cr_assert_eq(ey->buf.base, pos, "entry %u", i);
			cr_assert_eq(
				memcmp(ey->buf.base, ex->buf.base, ex->buf.len),
				0, "entry %u", i);
			pos += ey->buf.len;
		}
		break;
	}
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		cr_assert_eq(b->append_entries_result.term,
			     a->append_entries_result.term);
		cr_assert_eq(b->append_entries_result.rejected,
			     a->append_entries_result.rejected);
		cr_assert_eq(b->append_entries_result.last_log_index,
			     a->append_entries_result.last_log_index);
		break;
	case RAFT_IO_REQUEST_VOTE:
		cr_assert_eq(b->request_vote.term, a->request_vote.term);
		cr_assert_eq(b->request_vote.candidate_id,
			     a->request_vote.candidate_id);
		cr_assert_eq(b->request_vote.last_log_index,
			     a->request_vote.last_log_index);
		cr_assert_eq(b->request_vote.last_log_term,
			     a->request_vote.last_log_term);
		cr_assert_eq(b->request_vote.disrupt_leader,
			     a->request_vote.disrupt_leader);
		cr_assert_eq(b->request_vote.pre_vote,
			     a->request_vote.pre_vote);
		break;
	case RAFT_IO_REQUEST_VOTE_RESULT:
		cr_assert_eq(b->request_vote_result.term,
			     a->request_vote_result.term);
		cr_assert_eq(b->request_vote_result.vote_granted,
			     a->request_vote_result.vote_granted);
		cr_assert_eq(b->request_vote_result.pre_vote,
			     a->request_vote_result.pre_vote);
		break;
	case RAFT_IO_INSTALL_SNAPSHOT: {
		const struct raft_install_snapshot *x = &a->install_snapshot;
		const struct raft_install_snapshot *y = &b->install_snapshot;

		cr_assert_eq(y->term, x->term);
		cr_assert_eq(y->last_index, x->last_index);
		cr_assert_eq(y->last_term, x->last_term);
		cr_assert_eq(y->conf_index, x->conf_index);
		cr_assert_eq(y->conf.n, x->conf.n);
		for (unsigned i = 0; i < x->conf.n; i++) {
			cr_assert_eq(y->conf.servers[i].id,
				     x->conf.servers[i].id);
			cr_assert_eq(y->conf.servers[i].role,
				     x->conf.servers[i].role);
			cr_assert_str_eq(y->conf.servers[i].address,
					 x->conf.servers[i].address);
		}
		cr_assert_eq(y->data.len, x->data.len);
		cr_assert_not_null(y->data.base);
		if (x->data.len > 0)
			cr_assert_eq(
				memcmp(y->data.base, x->data.base, x->data.len),
				0);
		break;
	}
	case RAFT_IO_TIMEOUT_NOW:
		cr_assert_eq(b->timeout_now.term, a->timeout_now.term);
		cr_assert_eq(b->timeout_now.last_log_index,
			     a->timeout_now.last_log_index);
		cr_assert_eq(b->timeout_now.last_log_term,
			     a->timeout_now.last_log_term);
		break;
	default:
		cr_assert_fail("unexpected type %u", a->type);
	}
}

/* A mix of every type and shape; the caller frees with sample_free. */
#define N_MIX 19

static const size_t mixed_lens[] = { 0, 1, 7, 8, 9, 100, 4095, 0, 3, 17000 };

static void
make_mix(struct sample *s)
{
	static const size_t one[] = { 12345 };
	static const size_t empty[] = { 0 };
	unsigned k = 0;

	for (unsigned v = 0; v < 4; v++)
		make_small(&s[k++], RAFT_IO_REQUEST_VOTE, v);
	for (unsigned v = 0; v < 6; v++)
		make_small(&s[k++], RAFT_IO_REQUEST_VOTE_RESULT, v);
	make_small(&s[k++], RAFT_IO_APPEND_ENTRIES_RESULT, 0);
	make_small(&s[k++], RAFT_IO_TIMEOUT_NOW, 0);
	make_ae(&s[k++], 0, NULL, 0);
	make_ae(&s[k++], 1, one, 1);
	make_ae(&s[k++], 50, mixed_lens, 10);
	make_ae(&s[k++], 3, empty, 1);
	make_is(&s[k++], 0);
	make_is(&s[k++], 5000);
	make_is(&s[k++], 100000); /* over GQ__RMSG_DIRECT */
	cr_assert_eq(k, N_MIX);
}

/* Encode all of @s back to back into @b. */
static void
encode_all(struct sample *s, size_t n, struct gq__buf *b)
{
	for (size_t i = 0; i < n; i++)
		frame_append(&s[i].m, b);
}

/* --- round trips ------------------------------------------------------- */

/* Each message of every type decodes, alone, to what was encoded. */
Test(rmsg, round_trip_each)
{
	static struct sample s[N_MIX];
	static struct got g;

	make_mix(s);
	for (unsigned i = 0; i < N_MIX; i++) {
		struct gq__buf b = GQ__BUF_INIT;

		frame_append(&s[i].m, &b);
		cr_assert_eq(decode_all(b.base, b.len, 0, &g), 0);
		cr_assert_eq(g.n, 1, "sample %u", i);
		assert_msg_eq(&s[i].m, &g.m[0]);
		got_free(&g);
		gq__buf_free(&b);
		sample_free(&s[i]);
	}
	cr_assert_eq(rh.live, 0);
}

/* AppendEntries with a 1 MiB entry among small and empty ones. */
Test(rmsg, round_trip_one_mib_entry)
{
	static const size_t lens[] = { 3, 1u << 20, 0, 11 };
	static struct got g;
	struct sample s;
	struct gq__buf b = GQ__BUF_INIT;

	make_ae(&s, 4, lens, 4);
	frame_append(&s.m, &b);
	cr_assert_eq(decode_all(b.base, b.len, 0, &g), 0);
	cr_assert_eq(g.n, 1);
	assert_msg_eq(&s.m, &g.m[0]);
	got_free(&g);
	gq__buf_free(&b);
	sample_free(&s);
	cr_assert_eq(rh.live, 0);
}

/* Entries all empty: a batch still exists (libraft asserts on it). */
Test(rmsg, empty_entries_have_a_batch)
{
	static const size_t empty[] = { 0 };
	static struct got g;
	struct sample s;
	struct gq__buf b = GQ__BUF_INIT;

	make_ae(&s, 5, empty, 1);
	frame_append(&s.m, &b);
	cr_assert_eq(gq__le64_get(b.base + 12), 0);
	cr_assert_eq(decode_all(b.base, b.len, 0, &g), 0);
	cr_assert_eq(g.n, 1);
	cr_assert_not_null(g.m[0].append_entries.entries[4].batch);
	cr_assert_null(g.m[0].append_entries.entries[4].buf.base);
	got_free(&g);
	gq__buf_free(&b);
	sample_free(&s);
	cr_assert_eq(rh.live, 0);
}

/* The encoder copies no payload: entry buffers go out as they are, and an
 * empty entry gets no buffer. */
Test(rmsg, encode_is_zero_copy)
{
	static const size_t lens[] = { 10, 0, 20 };
	struct gq__rmsg_out out;
	struct sample s;

	make_ae(&s, 3, lens, 3);
	cr_assert_eq(gq__rmsg_encode(&s.m, &out), 0);
	cr_assert_eq(out.n, 3);
	cr_assert_eq(out.bufs[0].len, GQ__RMSG_PREFIX + 36 + 3 * 13);
	cr_assert_eq((void *)out.bufs[1].base,
		     s.m.append_entries.entries[0].buf.base);
	cr_assert_eq((void *)out.bufs[2].base,
		     s.m.append_entries.entries[2].buf.base);
	cr_assert_eq(out.bufs[2].len, 20);
	cr_assert_eq(gq__le32_get((uint8_t *)out.bufs[0].base), GQ__RMSG_MAGIC);
	cr_assert_eq(memcmp(out.bufs[0].base, "1RQG", 4), 0);
	gq__rmsg_out_free(&out);
	gq__rmsg_out_free(&out); /* idempotent */
	sample_free(&s);

	make_is(&s, 777);
	cr_assert_eq(gq__rmsg_encode(&s.m, &out), 0);
	cr_assert_eq(out.n, 2);
	cr_assert_eq((void *)out.bufs[1].base, s.m.install_snapshot.data.base);
	gq__rmsg_out_free(&out);
	sample_free(&s);
}

/* --- streams ----------------------------------------------------------- */

static void
stream_check(size_t chunk, unsigned rounds)
{
	static struct sample s[N_MIX];
	static struct got g;
	struct gq__buf b = GQ__BUF_INIT;

	make_mix(s);
	encode_all(s, N_MIX, &b);
	for (unsigned k = 0; k < rounds; k++) {
		rng_state = k + 1;
		memset(&g, 0, sizeof(g));
		cr_assert_eq(decode_all(b.base, b.len, chunk, &g), 0);
		cr_assert_eq(g.n, N_MIX, "round %u", k);
		for (unsigned i = 0; i < N_MIX; i++)
			assert_msg_eq(&s[i].m, &g.m[i]);
		got_free(&g);
	}
	for (unsigned i = 0; i < N_MIX; i++)
		sample_free(&s[i]);
	gq__buf_free(&b);
	cr_assert_eq(rh.live, 0);
}

/* Every message arrives intact when the stream comes one byte at a time. */
Test(rmsg, stream_byte_by_byte)
{
	stream_check(1, 1);
}

/* ... and in reads of random sizes. */
Test(rmsg, stream_random_chunks)
{
	stream_check(SIZE_MAX, 30);
}

/* ... and in reads as large as the reader offers. */
Test(rmsg, stream_whole_reads)
{
	stream_check(0, 1);
}

/* Many small frames in one read are all delivered, in order, by that one
 * consume. */
Test(rmsg, many_in_one_read)
{
	static struct got g;
	static struct sample s[400];
	struct gq__buf b = GQ__BUF_INIT;
	struct gq__rmsg_reader r;
	uv_buf_t buf;

	for (unsigned i = 0; i < 400; i++)
		make_small(&s[i],
			   i % 2 ? RAFT_IO_TIMEOUT_NOW
				 : RAFT_IO_APPEND_ENTRIES_RESULT,
			   i);
	encode_all(s, 400, &b);
	gq__rmsg_reader_init(&r, MAX_PAYLOAD);
	gq__rmsg_reader_alloc(&r, &buf);
	cr_assert_geq(buf.len, b.len);
	memcpy(buf.base, b.base, b.len);
	cr_assert_eq(gq__rmsg_reader_consume(&r, b.len, collect, &g), 0);
	cr_assert_eq(g.n, 400);
	for (unsigned i = 0; i < 400; i++)
		assert_msg_eq(&s[i].m, &g.m[i]);
	gq__rmsg_reader_close(&r);
	gq__buf_free(&b);
}

/* A header larger than the staging buffer (10000 entries) is received in
 * a grown stage, which shrinks again afterwards. */
Test(rmsg, header_larger_than_stage)
{
	static const size_t lens[] = { 0, 2, 0, 1 };
	static struct got g;
	struct sample s;
	struct gq__buf b = GQ__BUF_INIT;
	struct gq__rmsg_reader r;

	make_ae(&s, 10000, lens, 4);
	frame_append(&s.m, &b);
	cr_assert_gt(gq__le32_get(b.base + 8), GQ__RMSG_STAGE);
	frame_append(&s.m, &b);
	gq__rmsg_reader_init(&r, MAX_PAYLOAD);
	rng_state = 7;
	cr_assert_eq(feed(&r, b.base, b.len, SIZE_MAX, &g), 0);
	cr_assert_eq(g.n, 2);
	assert_msg_eq(&s.m, &g.m[0]);
	assert_msg_eq(&s.m, &g.m[1]);
	cr_assert_leq(r.cap, GQ__RMSG_STAGE);
	gq__rmsg_reader_close(&r);
	got_free(&g);
	gq__buf_free(&b);
	sample_free(&s);
	cr_assert_eq(rh.live, 0);
}

/* --- the direct path --------------------------------------------------- */

/* Once prefix and header of a large AppendEntries are in, alloc offers the
 * rest of the batch that is then delivered: the payload is not copied. */
Test(rmsg, large_payload_read_into_batch)
{
	static const size_t lens[] = { 300000, 0, 700000 };
	static struct got g;
	struct sample s;
	struct gq__buf b = GQ__BUF_INIT;
	struct gq__rmsg_reader r;
	size_t head, plen, off;
	uint8_t *first;
	uv_buf_t buf;

	make_ae(&s, 3, lens, 3);
	frame_append(&s.m, &b);
	head = GQ__RMSG_PREFIX + gq__le32_get(b.base + 8);
	plen = gq__le64_get(b.base + 12);
	cr_assert_eq(plen, 1000000);
	gq__rmsg_reader_init(&r, MAX_PAYLOAD);
	/* Prefix, header and 100 payload bytes arrive in the stage. */
	cr_assert_eq(feed(&r, b.base, head + 100, 0, &g), 0);
	cr_assert_eq(g.n, 0);
	gq__rmsg_reader_alloc(&r, &buf);
	cr_assert_eq(buf.len, plen - 100);
	first = (uint8_t *)buf.base;
	/* Then 64 KiB at a time, each read continuing the last. */
	for (off = head + 100; off < b.len;) {
		size_t n = b.len - off < 65536 ? b.len - off : 65536;

		gq__rmsg_reader_alloc(&r, &buf);
		cr_assert_eq((uint8_t *)buf.base, first + (off - head - 100));
		memcpy(buf.base, b.base + off, n);
		off += n;
		cr_assert_eq(gq__rmsg_reader_consume(&r, n, collect, &g), 0);
	}
	cr_assert_eq(g.n, 1);
	assert_msg_eq(&s.m, &g.m[0]);
	cr_assert_eq(first,
		     (uint8_t *)g.m[0].append_entries.entries[0].batch + 100);
	/* The payload was the only large raft allocation. */
	cr_assert_eq(rh.max_size, plen);
	gq__rmsg_reader_close(&r);
	got_free(&g);
	gq__buf_free(&b);
	sample_free(&s);
	cr_assert_eq(rh.live, 0);
}

/* The same for InstallSnapshot data, and a small frame right after it is
 * still decoded. */
Test(rmsg, large_snapshot_read_into_data)
{
	static struct got g;
	struct sample s[2];
	struct gq__buf b = GQ__BUF_INIT;
	struct gq__rmsg_reader r;
	size_t head;
	uv_buf_t buf;
	uint8_t *first;

	make_is(&s[0], 2u << 20);
	make_small(&s[1], RAFT_IO_TIMEOUT_NOW, 3);
	encode_all(s, 2, &b);
	head = GQ__RMSG_PREFIX + gq__le32_get(b.base + 8);
	gq__rmsg_reader_init(&r, MAX_PAYLOAD);
	cr_assert_eq(feed(&r, b.base, head, 0, &g), 0);
	gq__rmsg_reader_alloc(&r, &buf);
	first = (uint8_t *)buf.base;
	cr_assert_eq(buf.len, 2u << 20);
	cr_assert_eq(feed(&r, b.base + head, b.len - head, 0, &g), 0);
	cr_assert_eq(g.n, 2);
	assert_msg_eq(&s[0].m, &g.m[0]);
	assert_msg_eq(&s[1].m, &g.m[1]);
	cr_assert_eq(first, g.m[0].install_snapshot.data.base);
	gq__rmsg_reader_close(&r);
	got_free(&g);
	gq__buf_free(&b);
	sample_free(&s[0]);
	sample_free(&s[1]);
	cr_assert_eq(rh.live, 0);
}

/* --- corruption -------------------------------------------------------- */

/* Any single flipped bit, anywhere in a frame, is GQ_ECORRUPT and
 * delivers nothing; the message before it was delivered. */
Test(rmsg, flipped_bit_anywhere)
{
	static const size_t lens[] = { 5, 0, 9 };
	static struct got g;
	struct sample s[7];
	struct gq__buf ok = GQ__BUF_INIT;

	make_small(&s[0], RAFT_IO_REQUEST_VOTE, 3);
	make_small(&s[1], RAFT_IO_REQUEST_VOTE_RESULT, 1);
	make_small(&s[2], RAFT_IO_APPEND_ENTRIES_RESULT, 0);
	make_small(&s[3], RAFT_IO_TIMEOUT_NOW, 0);
	make_ae(&s[4], 3, lens, 3);
	make_is(&s[5], 40);
	make_ae(&s[6], 0, NULL, 0);
	frame_append(&s[3].m, &ok);
	for (unsigned k = 0; k < 7; k++) {
		struct gq__buf b = GQ__BUF_INIT;
		size_t base;

		/* A good frame first, then the damaged one. */
		cr_assert_eq(gq__buf_append(&b, ok.base, ok.len), 0);
		base = b.len;
		frame_append(&s[k].m, &b);
		for (size_t i = base; i < b.len; i++) {
			for (unsigned bit = 0; bit < 8; bit++) {
				b.base[i] ^= (uint8_t)(1u << bit);
				cr_assert_eq(decode_all(b.base, b.len, 0, &g),
					     GQ_ECORRUPT, "msg %u byte %zu", k,
					     i - base);
				cr_assert_eq(g.n, 1);
				got_free(&g);
				b.base[i] ^= (uint8_t)(1u << bit);
			}
		}
		gq__buf_free(&b);
		sample_free(&s[k]);
	}
	gq__buf_free(&ok);
	cr_assert_eq(rh.live, 0);
}

/* A flipped bit in a payload read directly into its buffer is caught when
 * the payload completes, and the buffer is freed. */
Test(rmsg, flipped_bit_in_direct_payload)
{
	static const size_t lens[] = { 50000 };
	static struct got g;
	struct sample s;
	struct gq__buf b = GQ__BUF_INIT;
	size_t positions[] = { 0, 1, 25000, 49999 };

	make_ae(&s, 1, lens, 1);
	frame_append(&s.m, &b);
	for (unsigned k = 0; k < 4; k++) {
		size_t at = b.len - lens[0] + positions[k];

		b.base[at] ^= 0x10;
		cr_assert_eq(decode_all(b.base, b.len, 1000, &g), GQ_ECORRUPT);
		cr_assert_eq(g.n, 0);
		b.base[at] ^= 0x10;
	}
	cr_assert_eq(decode_all(b.base, b.len, 1000, &g), 0);
	got_free(&g);
	gq__buf_free(&b);
	sample_free(&s);
	cr_assert_eq(rh.live, 0);
}

/* A stream cut short delivers nothing and close frees the partial frame,
 * whatever state the reader was in. */
Test(rmsg, truncated_stream)
{
	static struct sample s[N_MIX];
	static struct got g;
	long live;

	make_mix(s);
	live = rh.live; /* the samples' configurations */
	for (unsigned i = 0; i < N_MIX; i++) {
		struct gq__buf b = GQ__BUF_INIT;
		size_t h, cuts[6];

		frame_append(&s[i].m, &b);
		h = GQ__RMSG_PREFIX + gq__le32_get(b.base + 8);
		cuts[0] = 1;
		cuts[1] = GQ__RMSG_PREFIX - 1;
		cuts[2] = GQ__RMSG_PREFIX;
		cuts[3] = h - 1;
		cuts[4] = h + (b.len - h) / 2;
		cuts[5] = b.len - 1;
		for (unsigned c = 0; c < 6; c++) {
			if (cuts[c] >= b.len || cuts[c] == 0)
				continue;
			cr_assert_eq(decode_all(b.base, cuts[c], 0, &g), 0);
			cr_assert_eq(g.n, 0, "sample %u cut %zu", i, cuts[c]);
			cr_assert_eq(rh.live, live); /* all freed */
		}
		gq__buf_free(&b);
	}
	for (unsigned i = 0; i < N_MIX; i++)
		sample_free(&s[i]);
	cr_assert_eq(rh.live, 0);
}

/* A payload length over the reader's limit is GQ_ECORRUPT before any
 * payload memory is asked for. */
Test(rmsg, oversize_payload)
{
	static struct got g;
	struct sample s;
	struct gq__buf b = GQ__BUF_INIT;
	struct gq__rmsg_reader r;
	uint64_t sizes[] = { 100001, UINT64_MAX };

	make_is(&s, 100000);
	frame_append(&s.m, &b);
	gq__rmsg_reader_init(&r, 100000);
	cr_assert_eq(feed(&r, b.base, b.len, 0, &g), 0);
	cr_assert_eq(g.n, 1);
	got_free(&g);
	gq__rmsg_reader_close(&r);
	for (unsigned k = 0; k < 2; k++) {
		gq__le64_put(b.base + 12, sizes[k]);
		gq__le32_put(b.base + 24, gq__crc32c(0, b.base, 24));
		rh.max_size = 0;
		gq__rmsg_reader_init(&r, 100000);
		cr_assert_eq(feed(&r, b.base, b.len, 0, &g), GQ_ECORRUPT);
		cr_assert_eq(g.n, 0);
		cr_assert_lt(rh.max_size, 100000);
		/* Sticky: the stream is not read further. */
		cr_assert_eq(gq__rmsg_reader_consume(&r, 0, collect, &g),
			     GQ_ECORRUPT);
		gq__rmsg_reader_close(&r);
	}
	gq__buf_free(&b);
	sample_free(&s);
	cr_assert_eq(rh.live, 0);
}

/* A header length over 1 MiB is GQ_ECORRUPT and the stage does not grow
 * for it. */
Test(rmsg, oversize_header)
{
	static struct got g;
	uint8_t f[GQ__RMSG_PREFIX] = { 0 };
	struct gq__rmsg_reader r;

	gq__le32_put(f, GQ__RMSG_MAGIC);
	f[4] = RAFT_IO_APPEND_ENTRIES;
	/* The smallest well-formed AppendEntries length over the limit. */
	gq__le32_put(f + 8, 36 + 13 * ((GQ__RMSG_HEADER_MAX - 36) / 13 + 1));
	cr_assert_gt(gq__le32_get(f + 8), GQ__RMSG_HEADER_MAX);
	gq__le32_put(f + 24, gq__crc32c(0, f, 24));
	gq__rmsg_reader_init(&r, MAX_PAYLOAD);
	cr_assert_eq(feed(&r, f, sizeof(f), 0, &g), GQ_ECORRUPT);
	cr_assert_leq(r.cap, GQ__RMSG_STAGE);
	gq__rmsg_reader_close(&r);
	cr_assert_eq(g.n, 0);
}

/* Edits of a frame that keep both CRCs valid but break its structure. */
typedef void (*mutate_fn)(uint8_t *f, size_t *len);

static void
mut_none(uint8_t *f, size_t *len)
{
	(void)f;
	(void)len;
}

/* Entry 1's length is at 28 + 36 + 13 + 9. */
static void
mut_entry_len_long(uint8_t *f, size_t *len)
{
	(void)len;
	gq__le32_put(f + 28 + 36 + 13 + 9,
		     gq__le32_get(f + 28 + 36 + 13 + 9) + 1);
}

static void
mut_entry_len_short(uint8_t *f, size_t *len)
{
	(void)len;
	gq__le32_put(f + 28 + 36 + 9, gq__le32_get(f + 28 + 36 + 9) - 1);
}

static void
mut_n_entries(uint8_t *f, size_t *len)
{
	(void)len;
	gq__le32_put(f + 28 + 32, gq__le32_get(f + 28 + 32) + 1);
}

static void
mut_entry_type0(uint8_t *f, size_t *len)
{
	(void)len;
	f[28 + 36 + 8] = 0;
}

static void
mut_entry_type4(uint8_t *f, size_t *len)
{
	(void)len;
	f[28 + 36 + 13 + 8] = 4;
}

static void
mut_payload_longer(uint8_t *f, size_t *len)
{
	/* One more payload byte than the entries account for. */
	gq__le64_put(f + 12, gq__le64_get(f + 12) + 1);
	f[*len] = 0;
	(*len)++;
}

static void
mut_type0(uint8_t *f, size_t *len)
{
	(void)len;
	f[4] = 0;
}

static void
mut_type7(uint8_t *f, size_t *len)
{
	(void)len;
	f[4] = 7;
}

static void
mut_type_high(uint8_t *f, size_t *len)
{
	(void)len;
	f[5] = 1;
}

static void
mut_reserved(uint8_t *f, size_t *len)
{
	(void)len;
	f[7] = 1;
}

static void
mut_magic(uint8_t *f, size_t *len)
{
	(void)len;
	f[0] ^= 1;
}

/* A longer header (one extra byte) for any message type. */
static void
mut_header_longer(uint8_t *f, size_t *len)
{
	uint32_t h = gq__le32_get(f + 8);

	memmove(f + 28 + h + 1, f + 28 + h, *len - 28 - h);
	f[28 + h] = 0;
	gq__le32_put(f + 8, h + 1);
	(*len)++;
}

static void
mut_header_shorter(uint8_t *f, size_t *len)
{
	uint32_t h = gq__le32_get(f + 8);

	memmove(f + 28 + h - 1, f + 28 + h, *len - 28 - h);
	gq__le32_put(f + 8, h - 1);
	(*len)--;
}

/* RequestVote's pre_vote byte, RequestVoteResult's tribool byte. */
static void
mut_rv_bool2(uint8_t *f, size_t *len)
{
	(void)len;
	f[28 + 33] = 2;
}

static void
mut_rvr_granted2(uint8_t *f, size_t *len)
{
	(void)len;
	f[28 + 8] = 2;
}

static void
mut_rvr_tribool3(uint8_t *f, size_t *len)
{
	(void)len;
	f[28 + 9] = 3;
}

/* InstallSnapshot: server 0's role (after 32 fixed bytes, u32 n, u64 id),
 * its id, and the server count. */
static void
mut_conf_role(uint8_t *f, size_t *len)
{
	(void)len;
	f[28 + 32 + 4 + 8] = 7;
}

static void
mut_conf_id0(uint8_t *f, size_t *len)
{
	(void)len;
	gq__le64_put(f + 28 + 32 + 4, 0);
}

static void
mut_conf_dup_id(uint8_t *f, size_t *len)
{
	size_t addr = gq__le32_get(f + 28 + 32 + 4 + 9) & 0xffff;

	(void)len;
	/* Server 1's id := server 0's id (1). */
	gq__le64_put(f + 28 + 32 + 4 + 11 + addr, 1);
}

static void
mut_conf_count(uint8_t *f, size_t *len)
{
	(void)len;
	gq__le32_put(f + 28 + 32, 4);
}

static void
mut_small_payload(uint8_t *f, size_t *len)
{
	gq__le64_put(f + 12, 1);
	f[*len] = 0;
	(*len)++;
}

struct mutation {
	const char *name;
	unsigned short type; /* which sample it applies to */
	mutate_fn fn;
};

static const struct mutation mutations[] = {
	{ "entry length long", RAFT_IO_APPEND_ENTRIES, mut_entry_len_long },
	{ "entry length short", RAFT_IO_APPEND_ENTRIES, mut_entry_len_short },
	{ "n_entries", RAFT_IO_APPEND_ENTRIES, mut_n_entries },
	{ "entry type 0", RAFT_IO_APPEND_ENTRIES, mut_entry_type0 },
	{ "entry type 4", RAFT_IO_APPEND_ENTRIES, mut_entry_type4 },
	{ "payload longer", RAFT_IO_APPEND_ENTRIES, mut_payload_longer },
	{ "ae header longer", RAFT_IO_APPEND_ENTRIES, mut_header_longer },
	{ "type 0", RAFT_IO_TIMEOUT_NOW, mut_type0 },
	{ "type 7", RAFT_IO_TIMEOUT_NOW, mut_type7 },
	{ "type 256+", RAFT_IO_TIMEOUT_NOW, mut_type_high },
	{ "reserved", RAFT_IO_TIMEOUT_NOW, mut_reserved },
	{ "magic", RAFT_IO_TIMEOUT_NOW, mut_magic },
	{ "tn header longer", RAFT_IO_TIMEOUT_NOW, mut_header_longer },
	{ "tn header shorter", RAFT_IO_TIMEOUT_NOW, mut_header_shorter },
	{ "tn payload", RAFT_IO_TIMEOUT_NOW, mut_small_payload },
	{ "aer header longer", RAFT_IO_APPEND_ENTRIES_RESULT,
	  mut_header_longer },
	{ "aer payload", RAFT_IO_APPEND_ENTRIES_RESULT, mut_small_payload },
	{ "rv bool 2", RAFT_IO_REQUEST_VOTE, mut_rv_bool2 },
	{ "rv header shorter", RAFT_IO_REQUEST_VOTE, mut_header_shorter },
	{ "rv payload", RAFT_IO_REQUEST_VOTE, mut_small_payload },
	{ "rvr granted 2", RAFT_IO_REQUEST_VOTE_RESULT, mut_rvr_granted2 },
	{ "rvr tribool 3", RAFT_IO_REQUEST_VOTE_RESULT, mut_rvr_tribool3 },
	{ "rvr header longer", RAFT_IO_REQUEST_VOTE_RESULT, mut_header_longer },
	{ "conf role", RAFT_IO_INSTALL_SNAPSHOT, mut_conf_role },
	{ "conf id 0", RAFT_IO_INSTALL_SNAPSHOT, mut_conf_id0 },
	{ "conf duplicate id", RAFT_IO_INSTALL_SNAPSHOT, mut_conf_dup_id },
	{ "conf count", RAFT_IO_INSTALL_SNAPSHOT, mut_conf_count },
	{ "conf trailing byte", RAFT_IO_INSTALL_SNAPSHOT, mut_header_longer },
	{ "conf cut", RAFT_IO_INSTALL_SNAPSHOT, mut_header_shorter },
};

/* Frames with valid CRCs but inconsistent contents are GQ_ECORRUPT,
 * whole or fed byte by byte, and leave nothing allocated. */
Test(rmsg, malformed_with_valid_crcs)
{
	static const size_t lens[] = { 20, 30, 0 };
	static struct got g;
	struct sample ae, is, small[4];
	const struct raft_message *by_type[7] = { NULL };
	long live;

	make_ae(&ae, 3, lens, 3);
	make_is(&is, 64);
	make_small(&small[0], RAFT_IO_TIMEOUT_NOW, 0);
	make_small(&small[1], RAFT_IO_APPEND_ENTRIES_RESULT, 0);
	make_small(&small[2], RAFT_IO_REQUEST_VOTE, 3);
	make_small(&small[3], RAFT_IO_REQUEST_VOTE_RESULT, 3);
	live = rh.live;
	by_type[RAFT_IO_APPEND_ENTRIES] = &ae.m;
	by_type[RAFT_IO_INSTALL_SNAPSHOT] = &is.m;
	for (unsigned i = 0; i < 4; i++)
		by_type[small[i].m.type] = &small[i].m;

	for (unsigned t = 1; t < 7; t++) {
		struct gq__buf b = GQ__BUF_INIT;
		size_t len;

		/* The CRC fixer itself changes nothing valid. */
		frame_append(by_type[t], &b);
		len = b.len;
		mut_none(b.base, &len);
		fix_crcs(b.base);
		cr_assert_eq(decode_all(b.base, len, 0, &g), 0);
		cr_assert_eq(g.n, 1);
		got_free(&g);
		gq__buf_free(&b);
	}
	for (size_t k = 0; k < sizeof(mutations) / sizeof(mutations[0]); k++) {
		const struct mutation *mu = &mutations[k];
		struct gq__buf b = GQ__BUF_INIT;
		size_t len;

		frame_append(by_type[mu->type], &b);
		cr_assert_eq(gq__buf_reserve(&b, 16), 0);
		len = b.len;
		mu->fn(b.base, &len);
		fix_crcs(b.base);
		cr_assert_eq(decode_all(b.base, len, 0, &g), GQ_ECORRUPT, "%s",
			     mu->name);
		cr_assert_eq(decode_all(b.base, len, 1, &g), GQ_ECORRUPT,
			     "%s, byte by byte", mu->name);
		cr_assert_eq(g.n, 0, "%s", mu->name);
		cr_assert_eq(rh.live, live, "%s", mu->name);
		gq__buf_free(&b);
	}
	sample_free(&ae);
	sample_free(&is);
	cr_assert_eq(rh.live, 0);
}

/* --- encoder errors ---------------------------------------------------- */

/* What the wire cannot carry is GQ_EINVAL, with nothing to free. */
Test(rmsg, encode_invalid)
{
	static const size_t lens[] = { 4 };
	struct gq__rmsg_out out;
	struct raft_message m;
	struct sample s;
	char *addr;

	memset(&m, 0, sizeof(m));
	m.type = 0;
	cr_assert_eq(gq__rmsg_encode(&m, &out), GQ_EINVAL);
	cr_assert_null(out.bufs);
	cr_assert_eq(out.n, 0);
	gq__rmsg_out_free(&out);
	m.type = 7;
	cr_assert_eq(gq__rmsg_encode(&m, &out), GQ_EINVAL);

	m.type = RAFT_IO_REQUEST_VOTE_RESULT;
	m.request_vote_result.pre_vote = (raft_tribool)3;
	cr_assert_eq(gq__rmsg_encode(&m, &out), GQ_EINVAL);

	make_ae(&s, 2, lens, 1);
	s.m.append_entries.entries[1].type = 9;
	cr_assert_eq(gq__rmsg_encode(&s.m, &out), GQ_EINVAL);
	s.m.append_entries.entries[1].type = RAFT_BARRIER;
	s.m.append_entries.n_entries = 1u << 20; /* header over 1 MiB */
	cr_assert_eq(gq__rmsg_encode(&s.m, &out), GQ_EINVAL);
	s.m.append_entries.n_entries = 2;
	s.m.append_entries.entries[0].buf.len = (size_t)UINT32_MAX + 1;
	cr_assert_eq(gq__rmsg_encode(&s.m, &out), GQ_EINVAL);
	sample_free(&s);

	/* A configuration too large for a header. */
	make_is(&s, 1);
	addr = malloc(1001);
	cr_assert_not_null(addr);
	for (unsigned i = 0; i < 1100; i++) {
		snprintf(addr, 1001, "%0999u", i);
		cr_assert_eq(raft_configuration_add(&s.m.install_snapshot.conf,
						    1000 + i, addr, RAFT_SPARE),
			     0);
	}
	free(addr);
	cr_assert_eq(gq__rmsg_encode(&s.m, &out), GQ_EINVAL);
	cr_assert_null(out.bufs);
	sample_free(&s);
	cr_assert_eq(rh.live, 0);
}

/* --- allocation failures ----------------------------------------------- */

/* Encoding under a failing heap: GQ_ENOMEM at each allocation, nothing
 * leaked, then success. */
Test(rmsg, encode_nomem)
{
	static const size_t lens[] = { 4, 500 };
	struct gq__rmsg_out out;
	struct sample s[2];

	make_ae(&s[0], 200, lens, 2);
	make_is(&s[1], 10);
	for (unsigned k = 0; k < 2; k++) {
		for (long n = 0;; n++) {
			int rv;

			memset(&gqt_fh, 0, sizeof(gqt_fh));
			gqt_fh.fail_at = n;
			gq_heap_set(&gqt_failing_heap);
			rv = gq__rmsg_encode(&s[k].m, &out);
			if (rv == 0) {
				gq__rmsg_out_free(&out);
				gq_heap_set(NULL);
				cr_assert_eq(gqt_fh.live, 0);
				break;
			}
			cr_assert_eq(rv, GQ_ENOMEM);
			cr_assert_null(out.bufs);
			gq_heap_set(NULL);
			cr_assert_eq(gqt_fh.live, 0);
			cr_assert_lt(n, 100);
		}
	}
	sample_free(&s[0]);
	sample_free(&s[1]);
}

/* Decoding under a failing raft heap: every allocation failure is
 * GQ_ENOMEM with nothing left allocated, and decoding then succeeds. */
Test(rmsg, decode_nomem)
{
	static const size_t lens[] = { 3, 0, 30000 };
	static struct got g;
	struct sample s[3];
	long live;
	int rv;

	make_ae(&s[0], 3, lens, 3);
	make_is(&s[1], 100);
	make_is(&s[2], 40000);
	live = rh.live;
	for (unsigned k = 0; k < 3; k++) {
		struct gq__buf b = GQ__BUF_INIT;

		frame_append(&s[k].m, &b);
		for (long n = 0;; n++) {
			rh.fail_at = n;
			rh.calls = 0;
			rv = decode_all(b.base, b.len, 0, &g);
			if (rv == 0)
				break;
			cr_assert_eq(rv, GQ_ENOMEM, "sample %u at %ld", k, n);
			cr_assert_eq(g.n, 0);
			cr_assert_eq(rh.live, live);
		}
		rh.fail_at = -1;
		cr_assert_eq(g.n, 1);
		assert_msg_eq(&s[k].m, &g.m[0]);
		got_free(&g);
		gq__buf_free(&b);
	}
	for (unsigned k = 0; k < 3; k++)
		sample_free(&s[k]);
	cr_assert_eq(rh.live, 0);
}

/* Without memory for the stage, alloc offers an empty buffer (libuv then
 * reports UV_ENOBUFS) and the reader still closes cleanly. */
Test(rmsg, stage_nomem)
{
	struct gq__rmsg_reader r;
	uv_buf_t buf;

	memset(&gqt_fh, 0, sizeof(gqt_fh));
	gqt_fh.fail_at = 0;
	gq_heap_set(&gqt_failing_heap);
	gq__rmsg_reader_init(&r, MAX_PAYLOAD);
	gq__rmsg_reader_alloc(&r, &buf);
	cr_assert_null(buf.base);
	cr_assert_eq(buf.len, 0);
	gq__rmsg_reader_alloc(&r, &buf);
	cr_assert_not_null(buf.base);
	gq__rmsg_reader_close(&r);
	gq_heap_set(NULL);
	cr_assert_eq(gqt_fh.live, 0);
}
