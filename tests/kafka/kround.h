/* SPDX-License-Identifier: MIT */
/*
 * kround.h - what the client-direction tests of the Kafka codec share
 * (test_kapi_client.c, test_kapi_group_client.c): whole-frame round trips
 * through both directions, the failure checks every valid response frame
 * must pass, and field comparisons.
 *
 * A request trip encodes with the client's gqk_request_encode() and
 * decodes with the server's gqk_request_decode(); a response trip encodes
 * with the server's gqk_response_encode() and decodes with the client's
 * gqk_response_decode(). Each keeps the frame so that a test can also
 * check the per-API functions against its body.
 */
#ifndef GQ_TEST_KROUND_H
#define GQ_TEST_KROUND_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kapi.h"

/* The correlation id of every trip, with all four bytes distinct. */
#define TRIP_CORRELATION 0x1a2b3c4d

struct trip {
	struct gqk_writer frame;  /* the whole frame, size prefix included */
	size_t body_at;           /* where the body starts in it */
	struct gqk_arena a;       /* the decoded frame's arrays */
	struct gqk_writer direct; /* for a per-API encoder's output */
	struct gqk_arena a2;      /* for a per-API decoder's arrays */
	struct gqk_reader body;   /* over the body, for a per-API decoder */
};

static inline void
trip_free(struct trip *t)
{
	gqk_writer_free(&t->frame);
	gqk_writer_free(&t->direct);
	gqk_arena_free(&t->a);
	gqk_arena_free(&t->a2);
}

/* The writer a per-API encoder writes its body to, for trip_expect_direct(). */
static inline struct gqk_writer *
trip_direct(struct trip *t)
{
	gqk_writer_free(&t->direct);
	return &t->direct;
}

/* The per-API encoder wrote exactly the body of the frame. */
static inline void
trip_expect_direct(const struct trip *t)
{
	cr_assert(eq(int, t->direct.err, 0));
	cr_assert(eq(sz, t->direct.len, t->frame.len - t->body_at));
	/* An empty body leaves the writer without a buffer. */
	if (t->direct.len != 0)
		cr_assert(eq(int,
			     memcmp(t->direct.base, t->frame.base + t->body_at,
				    t->direct.len),
			     0));
}

/* A reader over the frame's body, for a per-API decoder. */
static inline struct gqk_reader *
trip_body(struct trip *t)
{
	gqk_reader_init(&t->body, t->frame.base + t->body_at,
			t->frame.len - t->body_at);
	return &t->body;
}

/* The INT32 size prefix covers exactly the rest of the frame. */
static inline void
expect_size_prefix(const struct gqk_writer *w)
{
	uint32_t size;

	cr_assert(ge(sz, w->len, 4));
	size = (uint32_t)w->base[0] << 24 | (uint32_t)w->base[1] << 16 |
	       (uint32_t)w->base[2] << 8 | w->base[3];
	cr_assert(eq(sz, (size_t)size, w->len - 4));
}

/*
 * Encode @in as a request frame for (@key, @v) and decode it back with
 * the server's decoder into @out; the header comes back as sent.
 */
static inline void
request_trip(struct trip *t, int16_t key, int16_t v,
	     const union gqk_request *in, union gqk_request *out)
{
	struct gqk_header h = { 0 }, got;
	bool flexible;

	memset(t, 0, sizeof(*t));
	h.api_key = key;
	h.api_version = v;
	h.correlation_id = TRIP_CORRELATION;
	h.client_id = GQK_STR("client-1");
	flexible = gqk_api_flexible(key, v);
	cr_assert(eq(int, gqk_request_encode(&t->frame, &h, in), 0));
	expect_size_prefix(&t->frame);
	/* Size, key, version, correlation id, client id, tagged fields. */
	t->body_at = 4 + 2 + 2 + 4 + 2 + 8 + (flexible ? 1 : 0);
	cr_assert(eq(int,
		     gqk_request_decode(t->frame.base + 4, t->frame.len - 4,
					&t->a, &got, out),
		     0),
		  "%s v%d", gqk_api_name(key), v);
	cr_assert(eq(i16, got.api_key, key));
	cr_assert(eq(i16, got.api_version, v));
	cr_assert(eq(i32, got.correlation_id, TRIP_CORRELATION));
	cr_assert(gqk_str_eq(got.client_id, "client-1"));
	cr_assert(eq(int, got.flexible, flexible));
}

/* Decode a copy of the first @n bytes of @frame, plus a zero byte if
 * @extra, in a heap block of exactly that size so that ASan sees any
 * over-read, with an arena of @limit bytes (0: any). */
static inline int
decode_copy(const struct gqk_header *h, const uint8_t *frame, size_t n,
	    bool extra, size_t limit)
{
	union gqk_response out;
	struct gqk_arena a;
	size_t size = n + (extra ? 1 : 0);
	uint8_t *copy;
	int rv;

	copy = malloc(size != 0 ? size : 1);
	cr_assert(not(eq(ptr, copy, NULL)));
	if (n != 0)
		memcpy(copy, frame, n);
	if (extra)
		copy[n] = 0;
	gqk_arena_init(&a, limit);
	rv = gqk_response_decode(copy, size, h, &a, &out);
	gqk_arena_free(&a);
	free(copy);
	return rv;
}

/*
 * Every strict prefix of the response frame @frame (@len bytes after the
 * size prefix) fails with GQK_EMALFORMED, as does the frame plus one
 * byte; another correlation id is GQK_ECORRELATION; and arenas smaller
 * than what it needs (@need bytes, sampled) give GQK_ENOMEM, while @need
 * suffices. Arenas are freed each time, so LSan checks every path.
 */
static inline void
check_response_failures(const struct gqk_header *h, const uint8_t *frame,
			size_t len, size_t need)
{
	struct gqk_header other = *h;
	union gqk_response out;
	struct gqk_arena a;
	size_t n;

	for (n = 0; n < len; n++)
		cr_assert(eq(int, decode_copy(h, frame, n, false, 0),
			     GQK_EMALFORMED),
			  "%s v%d: %zu of %zu", gqk_api_name(h->api_key),
			  h->api_version, n, len);
	cr_assert(eq(int, decode_copy(h, frame, len, true, 0), GQK_EMALFORMED),
		  "trailing byte");
	other.correlation_id = h->correlation_id + 1;
	gqk_arena_init(&a, 0);
	cr_assert(eq(int, gqk_response_decode(frame, len, &other, &a, &out),
		     GQK_ECORRELATION));
	gqk_arena_free(&a);
	if (need == 0)
		return;
	for (n = 1; n < need; n += need / 64 + 1)
		cr_assert(eq(int, decode_copy(h, frame, len, false, n),
			     GQK_ENOMEM),
			  "limit %zu of %zu", n, need);
	cr_assert(eq(int, decode_copy(h, frame, len, false, need - 1),
		     GQK_ENOMEM));
	cr_assert(eq(int, decode_copy(h, frame, len, false, need), 0));
}

/*
 * Encode @in as the response frame to a (@key, @v) request and decode it
 * back with the client's decoder into @out, then run every failure check
 * on that frame.
 */
static inline void
response_trip(struct trip *t, int16_t key, int16_t v,
	      const union gqk_response *in, union gqk_response *out)
{
	struct gqk_header h = { 0 };

	memset(t, 0, sizeof(*t));
	h.api_key = key;
	h.api_version = v;
	h.correlation_id = TRIP_CORRELATION;
	h.flexible = gqk_api_flexible(key, v);
	cr_assert(eq(int, gqk_response_encode(&t->frame, &h, in), 0));
	expect_size_prefix(&t->frame);
	/* Response header v0 only: ApiVersions is the one flexible API. */
	t->body_at = 4 + 4;
	cr_assert(eq(int,
		     gqk_response_decode(t->frame.base + 4, t->frame.len - 4,
					 &h, &t->a, out),
		     0),
		  "%s v%d", gqk_api_name(key), v);
	check_response_failures(&h, t->frame.base + 4, t->frame.len - 4,
				t->a.used);
}

/* The versions of @key that gqd serves: [*min, *max]. */
static inline void
versions(int16_t key, int16_t *min, int16_t *max)
{
	const struct gqk_api_range *e;

	e = gqk_api_range(key);
	cr_assert(not(eq(ptr, (void *)e, NULL)));
	*min = e->min;
	*max = e->max;
}

/*
 * The test @m of the API @key: for every version gqd serves, @n_req
 * requests and @n_resp responses that fill_<m>_req() and fill_<m>_resp()
 * make (struct, variant) each go through a trip and come back as
 * check_<m>_req() and check_<m>_resp() (version, sent, received) want;
 * and the per-API gqk_<m>_req_encode(), gqk_<m>_resp_encode() and
 * gqk_<m>_resp_decode() agree with the frames.
 */
#define API_TRIP_TEST(suite, m, key, n_req, n_resp)                           \
	Test(suite, m)                                                        \
	{                                                                     \
		union gqk_request q, qd;                                      \
		union gqk_response p, pd;                                     \
		struct trip t;                                                \
		int16_t v, min, max;                                          \
		int i;                                                        \
                                                                              \
		versions(key, &min, &max);                                    \
		for (v = min; v <= max; v++) {                                \
			for (i = 0; i < (n_req); i++) {                       \
				fill_##m##_req(&q.m, i);                      \
				request_trip(&t, key, v, &q, &qd);            \
				check_##m##_req(v, &q.m, &qd.m);              \
				gqk_##m##_req_encode(trip_direct(&t), v,      \
						     &q.m);                   \
				trip_expect_direct(&t);                       \
				trip_free(&t);                                \
			}                                                     \
			for (i = 0; i < (n_resp); i++) {                      \
				fill_##m##_resp(&p.m, i);                     \
				response_trip(&t, key, v, &p, &pd);           \
				check_##m##_resp(v, &p.m, &pd.m);             \
				gqk_##m##_resp_encode(trip_direct(&t), v,     \
						      &p.m);                  \
				trip_expect_direct(&t);                       \
				cr_assert(eq(int,                             \
					     gqk_##m##_resp_decode(           \
						     trip_body(&t), v, &t.a2, \
						     &pd.m),                  \
					     0));                             \
				check_##m##_resp(v, &p.m, &pd.m);             \
				trip_free(&t);                                \
			}                                                     \
		}                                                             \
	}

/* Initialisers for static tables, where compound literals such as
 * GQK_STR() are not constant expressions. */
#define STR_INIT(lit)                             \
	{                                         \
		(lit), (int32_t)(sizeof(lit) - 1) \
	}
#define STR_NULL_INIT    \
	{                \
		NULL, -1 \
	}
#define BYTES_NULL_INIT  \
	{                \
		NULL, -1 \
	}

/*
 * Comparisons
 */

/* Both null, or the same bytes. */
static inline void
expect_str_eq(struct gqk_str got, struct gqk_str want)
{
	if (gqk_str_is_null(want)) {
		cr_assert(gqk_str_is_null(got), "want null, got \"%.*s\"",
			  got.len < 0 ? 0 : got.len, got.p);
		return;
	}
	cr_assert(eq(i32, got.len, want.len), "want \"%.*s\"", want.len,
		  want.p);
	cr_assert(
		eq(int, got.len == 0 || memcmp(got.p, want.p, got.len) == 0, 1),
		"want \"%.*s\", got \"%.*s\"", want.len, want.p, got.len,
		got.p);
}

/* For a non-nullable STRING: a null one travels as empty. */
static inline void
expect_nonnull_str_eq(struct gqk_str got, struct gqk_str want)
{
	if (gqk_str_is_null(want))
		want = GQK_STR("");
	expect_str_eq(got, want);
}

static inline void
expect_bytes_eq(struct gqk_bytes got, struct gqk_bytes want)
{
	cr_assert(eq(i32, got.len, want.len));
	if (want.len > 0)
		cr_assert(eq(int, memcmp(got.p, want.p, (size_t)want.len), 0));
}

/* For non-nullable BYTES: a null array travels as empty. */
static inline void
expect_nonnull_bytes_eq(struct gqk_bytes got, struct gqk_bytes want)
{
	if (want.len < 0)
		want.len = 0;
	expect_bytes_eq(got, want);
}

/* The count a decoder gives for a count @n an encoder was given. */
static inline int32_t
sent_count(int32_t n, bool nullable)
{
	if (n < 0)
		return nullable ? -1 : 0;
	return n;
}

#endif /* GQ_TEST_KROUND_H */
