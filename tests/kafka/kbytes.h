/* SPDX-License-Identifier: MIT */
/*
 * kbytes.h - the byte builder the Kafka codec tests assemble frames with,
 * field by field from the layouts in KAFKA-PROTOCOL.md: it shares no code
 * with the codec it checks.  Shared by the Kafka codec tests.
 */
#ifndef GQ_TEST_KBYTES_H
#define GQ_TEST_KBYTES_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kapi.h"

struct bb {
	uint8_t b[4096];
	size_t n;
};

static inline void
b_raw(struct bb *b, const void *p, size_t n)
{
	cr_assert(le(sz, b->n + n, sizeof(b->b)));
	if (n != 0)
		memcpy(b->b + b->n, p, n);
	b->n += n;
}

static inline void
b_be(struct bb *b, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		cr_assert(lt(sz, b->n, sizeof(b->b)));
		b->b[b->n++] = (uint8_t)(v >> (8 * i));
	}
}

static inline void
b_i8(struct bb *b, int8_t v)
{
	b_be(b, (uint8_t)v, 1);
}

static inline void
b_i16(struct bb *b, int16_t v)
{
	b_be(b, (uint16_t)v, 2);
}

static inline void
b_i32(struct bb *b, int32_t v)
{
	b_be(b, (uint32_t)v, 4);
}

static inline void
b_i64(struct bb *b, int64_t v)
{
	b_be(b, (uint64_t)v, 8);
}

/* STRING: INT16 length + bytes; NULL gives the null string (-1). */
static inline void
b_str(struct bb *b, const char *s)
{
	if (s == NULL) {
		b_i16(b, -1);
		return;
	}
	b_i16(b, (int16_t)strlen(s));
	b_raw(b, s, strlen(s));
}

/* COMPACT_STRING of at most 126 bytes: one length byte. */
static inline void
b_cstr(struct bb *b, const char *s)
{
	b_i8(b, (int8_t)(strlen(s) + 1));
	b_raw(b, s, strlen(s));
}

/* BYTES: INT32 length + bytes; NULL gives null (-1). */
static inline void
b_bytes(struct bb *b, const void *p, size_t n)
{
	if (p == NULL) {
		b_i32(b, -1);
		return;
	}
	b_i32(b, (int32_t)n);
	b_raw(b, p, n);
}

/* A nested payload (a consumer protocol blob) as BYTES. */
static inline void
b_blob(struct bb *b, const struct bb *payload)
{
	b_bytes(b, payload->b, payload->n);
}

/* Request header v1, or v2 (empty tagged fields) if @flexible. */
static inline void
b_header(struct bb *b, int16_t key, int16_t version, int32_t corr,
	 const char *client, bool flexible)
{
	b->n = 0;
	b_i16(b, key);
	b_i16(b, version);
	b_i32(b, corr);
	b_str(b, client);
	if (flexible)
		b_i8(b, 0);
}

/* librdkafka's ApiVersions v3 exactly as on the wire (36 bytes after the
 * size prefix: "Sent ApiVersionRequest (v3, 40 bytes"), for the decoder
 * (test_kapi.c) and the encoder (test_kapi_client.c). */
static inline void
frame_api_versions_v3(struct bb *b)
{
	static const uint8_t bytes[] = {
		0x00, 0x12, 0x00, 0x03, /* key 18, version 3 */
		0x00, 0x00, 0x00, 0x01, /* correlation id 1 */
		0x00, 0x07, 'r',  'd',  'k', 'a', 'f', 'k', 'a', /* client */
		0x00, /* header tagged fields */
		0x0b, 'l',  'i',  'b',  'r', 'd', 'k', 'a', 'f',
		'k',  'a',  0x06, '2',  '.', '0', '.', '2', /* software version
							     */
		0x00, /* body tagged fields */
	};

	b->n = 0;
	b_raw(b, bytes, sizeof(bytes));
}

/* Assert that the writer holds exactly the builder's bytes. */
static inline void
expect_writer(const struct gqk_writer *w, const struct bb *want)
{
	size_t i;

	cr_assert(eq(int, w->err, 0));
	cr_assert(eq(sz, w->len, want->n));
	for (i = 0; i < want->n; i++) {
		if (w->base[i] != want->b[i])
			cr_fatal("byte %zu: got %02x, want %02x", i, w->base[i],
				 want->b[i]);
	}
}

/* Decode @b as a whole frame with a fresh arena; the caller frees it. */
static inline int
decode(const struct bb *b, struct gqk_arena *a, struct gqk_header *h,
       union gqk_request *req)
{
	gqk_arena_init(a, 0);
	return gqk_request_decode(b->b, b->n, a, h, req);
}

/*
 * Every strict prefix of @b, copied to a heap block of exactly that size
 * so that ASan sees any over-read, fails with GQK_EMALFORMED; so does @b
 * plus one trailing byte. The arena is freed each time (LSan checks).
 */
static inline void
check_truncations(const struct bb *b)
{
	struct gqk_arena a;
	struct gqk_header h;
	union gqk_request req;
	uint8_t *copy;
	size_t n;
	int rv;

	for (n = 0; n < b->n; n++) {
		copy = malloc(n != 0 ? n : 1);
		cr_assert(not(eq(ptr, copy, NULL)));
		memcpy(copy, b->b, n);
		gqk_arena_init(&a, 0);
		rv = gqk_request_decode(copy, n, &a, &h, &req);
		gqk_arena_free(&a);
		free(copy);
		cr_assert(eq(int, rv, GQK_EMALFORMED), "prefix %zu of %zu", n,
			  b->n);
	}
	copy = malloc(b->n + 1);
	cr_assert(not(eq(ptr, copy, NULL)));
	memcpy(copy, b->b, b->n);
	copy[b->n] = 0;
	gqk_arena_init(&a, 0);
	rv = gqk_request_decode(copy, b->n + 1, &a, &h, &req);
	gqk_arena_free(&a);
	free(copy);
	cr_assert(eq(int, rv, GQK_EMALFORMED), "trailing byte");
}

#endif /* GQ_TEST_KBYTES_H */
