/* SPDX-License-Identifier: MIT */
/*
 * test_kwire.c - Kafka wire primitives: exact encodings of every type
 * (KAFKA-PROTOCOL.md 1.1), round trips, sticky errors, every truncation,
 * lengths that claim more than is there, the writer's growth and patching,
 * and the arena's zeroing, alignment and limit.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kwire.h"

TestSuite(kwire, .timeout = 60);

/* Assert that the writer holds exactly @n bytes equal to @want. */
static void
expect_bytes(const struct gqk_writer *w, const uint8_t *want, size_t n)
{
	size_t i;

	cr_assert(eq(int, w->err, 0));
	cr_assert(eq(sz, w->len, n));
	for (i = 0; i < n; i++) {
		if (w->base[i] != want[i])
			cr_fatal("byte %zu: got %02x, want %02x", i, w->base[i],
				 want[i]);
	}
}

/* UVARINT examples of section 1.1: 0, 127, 128, 300. */
Test(kwire, uvarint_examples)
{
	static const struct {
		uint32_t v;
		uint8_t b[5];
		size_t n;
	} ex[] = {
		{ 0, { 0x00 }, 1 },
		{ 127, { 0x7f }, 1 },
		{ 128, { 0x80, 0x01 }, 2 },
		{ 300, { 0xac, 0x02 }, 2 },
		{ UINT32_MAX, { 0xff, 0xff, 0xff, 0xff, 0x0f }, 5 },
	};
	struct gqk_writer w;
	struct gqk_reader r;
	size_t i;

	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		gqk_writer_init(&w);
		gqk_put_uvarint(&w, ex[i].v);
		expect_bytes(&w, ex[i].b, ex[i].n);
		gqk_reader_init(&r, ex[i].b, ex[i].n);
		cr_assert(eq(u32, gqk_read_uvarint(&r), ex[i].v));
		cr_assert(eq(int, r.err, 0));
		cr_assert(eq(sz, gqk_reader_remaining(&r), 0));
		gqk_writer_free(&w);
	}
}

/* A 32-bit varint longer than 5 bytes or above UINT32_MAX is malformed. */
Test(kwire, uvarint_overlong)
{
	static const uint8_t six[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
	static const uint8_t big[] = { 0xff, 0xff, 0xff, 0xff, 0x1f };
	static const uint8_t open[] = { 0x80, 0x80 };
	struct gqk_reader r;

	gqk_reader_init(&r, six, sizeof(six));
	cr_assert(eq(u32, gqk_read_uvarint(&r), 0));
	cr_assert(eq(int, r.err, GQK_EMALFORMED));
	gqk_reader_init(&r, big, sizeof(big));
	gqk_read_uvarint(&r);
	cr_assert(eq(int, r.err, GQK_EMALFORMED));
	gqk_reader_init(&r, open, sizeof(open));
	gqk_read_uvarint(&r);
	cr_assert(eq(int, r.err, GQK_EMALFORMED));
}

/* The 64-bit varint covers UINT64_MAX in 10 bytes and no more. */
Test(kwire, uvarint64)
{
	static const uint8_t max[] = { 0xff, 0xff, 0xff, 0xff, 0xff,
				       0xff, 0xff, 0xff, 0xff, 0x01 };
	static const uint8_t over[] = { 0xff, 0xff, 0xff, 0xff, 0xff,
					0xff, 0xff, 0xff, 0xff, 0x02 };
	struct gqk_writer w;
	struct gqk_reader r;

	gqk_writer_init(&w);
	gqk_put_uvarint(&w, UINT64_MAX);
	expect_bytes(&w, max, sizeof(max));
	gqk_writer_free(&w);
	gqk_reader_init(&r, max, sizeof(max));
	cr_assert(eq(u64, gqk_read_uvarint64(&r), UINT64_MAX));
	cr_assert(eq(int, r.err, 0));
	gqk_reader_init(&r, over, sizeof(over));
	gqk_read_uvarint64(&r);
	cr_assert(eq(int, r.err, GQK_EMALFORMED));
}

/* Fixed-width integers are big-endian and round-trip at their extremes. */
Test(kwire, fixed_width_round_trip)
{
	static const uint8_t want[] = {
		0x80,                   /* i8 -128 */
		0x01,                   /* bool true */
		0x00,                   /* bool false */
		0xfe, 0xdc,             /* i16 */
		0x80, 0x00, 0x00, 0x00, /* i32 INT32_MIN */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* i64 */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* i64 -1 */
	};
	struct gqk_writer w;
	struct gqk_reader r;

	gqk_writer_init(&w);
	gqk_put_i8(&w, INT8_MIN);
	gqk_put_bool(&w, true);
	gqk_put_bool(&w, false);
	gqk_put_i16(&w, (int16_t)0xfedc);
	gqk_put_i32(&w, INT32_MIN);
	gqk_put_i64(&w, 0x0102030405060708);
	gqk_put_i64(&w, -1);
	expect_bytes(&w, want, sizeof(want));
	gqk_reader_init(&r, w.base, w.len);
	cr_assert(eq(i8, gqk_read_i8(&r), INT8_MIN));
	cr_assert(gqk_read_bool(&r));
	cr_assert(not(gqk_read_bool(&r)));
	cr_assert(eq(i16, gqk_read_i16(&r), (int16_t)0xfedc));
	cr_assert(eq(i32, gqk_read_i32(&r), INT32_MIN));
	cr_assert(eq(i64, gqk_read_i64(&r), 0x0102030405060708));
	cr_assert(eq(i64, gqk_read_i64(&r), -1));
	cr_assert(eq(int, r.err, 0));
	cr_assert(eq(sz, gqk_reader_remaining(&r), 0));
	gqk_writer_free(&w);
}

/* Null and empty strings, bytes and arrays have the section 1.1 forms. */
Test(kwire, null_encodings)
{
	static const uint8_t want[] = {
		0xff, 0xff,             /* nullable string null */
		0x00, 0x00,             /* string "" */
		0x00,                   /* compact nullable string null */
		0x01,                   /* compact string "" */
		0xff, 0xff, 0xff, 0xff, /* nullable bytes null */
		0x00, 0x00, 0x00, 0x00, /* bytes empty */
		0x00,                   /* compact nullable bytes null */
		0x01,                   /* compact bytes empty */
		0xff, 0xff, 0xff, 0xff, /* array null */
		0x00,                   /* compact array null */
		0x01,                   /* compact array empty */
		0x00,                   /* empty tagged fields */
		0x00, 0x00,             /* non-nullable string given null */
		0x01,                   /* compact string given null */
	};
	struct gqk_writer w;

	gqk_writer_init(&w);
	gqk_put_nullable_string(&w, GQK_STR_NULL);
	gqk_put_string(&w, GQK_STR(""));
	gqk_put_compact_nullable_string(&w, GQK_STR_NULL);
	gqk_put_compact_string(&w, GQK_STR(""));
	gqk_put_nullable_bytes(&w, GQK_BYTES_NULL);
	gqk_put_bytes(&w, (struct gqk_bytes){ NULL, 0 });
	gqk_put_compact_nullable_bytes(&w, GQK_BYTES_NULL);
	gqk_put_compact_bytes(&w, (struct gqk_bytes){ NULL, 0 });
	gqk_put_array_len(&w, -1);
	gqk_put_compact_array_len(&w, -1);
	gqk_put_compact_array_len(&w, 0);
	gqk_put_empty_tagged_fields(&w);
	gqk_put_string(&w, GQK_STR_NULL);
	gqk_put_compact_string(&w, GQK_STR_NULL);
	expect_bytes(&w, want, sizeof(want));
	gqk_writer_free(&w);
}

/* Reading the null forms back gives null, and zero-copy empty values. */
Test(kwire, null_decodings)
{
	static const uint8_t in[] = {
		0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff,
		0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		0xff, 0xff, 0xff, 0xff, 0x00, 0x01,
	};
	struct gqk_reader r;
	struct gqk_str s;
	struct gqk_bytes b;

	gqk_reader_init(&r, in, sizeof(in));
	gqk_read_nullable_string(&r, &s);
	cr_assert(eq(i32, s.len, -1));
	cr_assert(eq(ptr, (void *)s.p, NULL));
	gqk_read_string(&r, &s);
	cr_assert(eq(i32, s.len, 0));
	gqk_read_compact_nullable_string(&r, &s);
	cr_assert(gqk_str_is_null(s));
	gqk_read_compact_string(&r, &s);
	cr_assert(eq(i32, s.len, 0));
	gqk_read_nullable_bytes(&r, &b);
	cr_assert(eq(i32, b.len, -1));
	gqk_read_bytes(&r, &b);
	cr_assert(eq(i32, b.len, 0));
	gqk_read_compact_nullable_bytes(&r, &b);
	cr_assert(eq(i32, b.len, -1));
	gqk_read_compact_bytes(&r, &b);
	cr_assert(eq(i32, b.len, 0));
	cr_assert(eq(i32, gqk_read_array_len(&r), -1));
	cr_assert(eq(i32, gqk_read_compact_array_len(&r), -1));
	cr_assert(eq(i32, gqk_read_compact_array_len(&r), 0));
	cr_assert(eq(int, r.err, 0));
	cr_assert(eq(sz, gqk_reader_remaining(&r), 0));
}

/* Strings and bytes round-trip in all four encodings, zero-copy. */
Test(kwire, string_bytes_round_trip)
{
	static const uint8_t raw[] = { 0, 1, 2, 0xff };
	const struct gqk_bytes rb = { raw, sizeof(raw) };
	struct gqk_writer w;
	struct gqk_reader r;
	struct gqk_str s;
	struct gqk_bytes b;

	gqk_writer_init(&w);
	gqk_put_string(&w, GQK_STR("rdkafka"));
	gqk_put_nullable_string(&w, gqk_str_from("t1"));
	gqk_put_compact_string(&w, GQK_STR("librdkafka"));
	gqk_put_compact_nullable_string(&w, GQK_STR("2.0.2"));
	gqk_put_bytes(&w, rb);
	gqk_put_nullable_bytes(&w, rb);
	gqk_put_compact_bytes(&w, rb);
	gqk_put_compact_nullable_bytes(&w, rb);
	cr_assert(eq(int, w.err, 0));
	/* The compact length of "librdkafka" is 11: one byte 0x0b. */
	cr_assert(eq(u8, w.base[13], 0x0b));

	gqk_reader_init(&r, w.base, w.len);
	gqk_read_string(&r, &s);
	cr_assert(gqk_str_eq(s, "rdkafka"));
	cr_assert(eq(ptr, (void *)s.p, (void *)(w.base + 2)));
	gqk_read_nullable_string(&r, &s);
	cr_assert(gqk_str_eq(s, "t1"));
	gqk_read_compact_string(&r, &s);
	cr_assert(gqk_str_eq(s, "librdkafka"));
	gqk_read_compact_nullable_string(&r, &s);
	cr_assert(gqk_str_eq(s, "2.0.2"));
	gqk_read_bytes(&r, &b);
	cr_assert(eq(i32, b.len, 4));
	cr_assert(eq(int, memcmp(b.p, raw, 4), 0));
	gqk_read_nullable_bytes(&r, &b);
	cr_assert(eq(int, memcmp(b.p, raw, 4), 0));
	gqk_read_compact_bytes(&r, &b);
	cr_assert(eq(int, memcmp(b.p, raw, 4), 0));
	gqk_read_compact_nullable_bytes(&r, &b);
	cr_assert(eq(i32, b.len, 4));
	cr_assert(eq(int, r.err, 0));
	cr_assert(eq(sz, gqk_reader_remaining(&r), 0));
	gqk_writer_free(&w);
}

/* The non-nullable readers reject a null length, and every reader rejects
 * a length below -1. */
Test(kwire, null_where_not_allowed)
{
	static const uint8_t m1_16[] = { 0xff, 0xff };
	static const uint8_t m2_16[] = { 0xff, 0xfe };
	static const uint8_t m1_32[] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t m2_32[] = { 0xff, 0xff, 0xff, 0xfe, 0, 0 };
	static const uint8_t c0[] = { 0x00 };
	struct gqk_reader r;
	struct gqk_str s;
	struct gqk_bytes b;

	gqk_reader_init(&r, m1_16, 2);
	cr_assert(eq(int, gqk_read_string(&r, &s), GQK_EMALFORMED));
	gqk_reader_init(&r, m2_16, 2);
	cr_assert(eq(int, gqk_read_nullable_string(&r, &s), GQK_EMALFORMED));
	gqk_reader_init(&r, m1_32, 4);
	cr_assert(eq(int, gqk_read_bytes(&r, &b), GQK_EMALFORMED));
	gqk_reader_init(&r, m2_32, sizeof(m2_32));
	cr_assert(eq(int, gqk_read_nullable_bytes(&r, &b), GQK_EMALFORMED));
	gqk_reader_init(&r, m2_32, sizeof(m2_32));
	cr_assert(eq(i32, gqk_read_array_len(&r), 0));
	cr_assert(eq(int, r.err, GQK_EMALFORMED));
	gqk_reader_init(&r, c0, 1);
	cr_assert(eq(int, gqk_read_compact_string(&r, &s), GQK_EMALFORMED));
	gqk_reader_init(&r, c0, 1);
	cr_assert(eq(int, gqk_read_compact_bytes(&r, &b), GQK_EMALFORMED));
}

/* Lengths and counts claiming far more than the buffer holds fail at once,
 * without consuming anything after them. */
Test(kwire, huge_lengths)
{
	static const uint8_t s16[] = { 0x7f, 0xff, 'a', 'b' };
	static const uint8_t b32[] = { 0x7f, 0xff, 0xff, 0xff, 'a' };
	static const uint8_t c32[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 'a' };
	static const uint8_t arr[] = { 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	static const uint8_t carr[] = { 0xff, 0xff, 0xff, 0xff, 0x07, 0 };
	static const uint8_t tags[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0 };
	static const uint8_t tag_size[] = { 0x01, 0x00, 0xff, 0xff, 0x03 };
	struct gqk_reader r;
	struct gqk_str s;
	struct gqk_bytes b;

	gqk_reader_init(&r, s16, sizeof(s16));
	cr_assert(eq(int, gqk_read_string(&r, &s), GQK_EMALFORMED));
	cr_assert(eq(i32, s.len, -1));
	gqk_reader_init(&r, b32, sizeof(b32));
	cr_assert(eq(int, gqk_read_bytes(&r, &b), GQK_EMALFORMED));
	gqk_reader_init(&r, c32, sizeof(c32));
	cr_assert(eq(int, gqk_read_compact_bytes(&r, &b), GQK_EMALFORMED));
	gqk_reader_init(&r, c32, sizeof(c32));
	cr_assert(eq(int, gqk_read_compact_nullable_string(&r, &s),
		     GQK_EMALFORMED));
	gqk_reader_init(&r, arr, sizeof(arr));
	gqk_read_array_len(&r);
	cr_assert(eq(int, r.err, GQK_EMALFORMED));
	gqk_reader_init(&r, carr, sizeof(carr));
	gqk_read_compact_array_len(&r);
	cr_assert(eq(int, r.err, GQK_EMALFORMED));
	gqk_reader_init(&r, tags, sizeof(tags));
	cr_assert(eq(int, gqk_skip_tagged_fields(&r), GQK_EMALFORMED));
	gqk_reader_init(&r, tag_size, sizeof(tag_size));
	cr_assert(eq(int, gqk_skip_tagged_fields(&r), GQK_EMALFORMED));
}

/* Tagged fields are skipped whole: count, then tag, size, data each. */
Test(kwire, tagged_fields_skip)
{
	static const uint8_t in[] = {
		0x02,                   /* two fields */
		0x00, 0x02, 0xaa, 0xbb, /* tag 0, 2 bytes */
		0x03, 0x00,             /* tag 3, empty */
		0x7e,                   /* next field of the message */
	};
	struct gqk_reader r;

	gqk_reader_init(&r, in, sizeof(in));
	cr_assert(eq(int, gqk_skip_tagged_fields(&r), 0));
	cr_assert(eq(i8, gqk_read_i8(&r), 0x7e));
	cr_assert(eq(sz, gqk_reader_remaining(&r), 0));
}

/* The sequence of reads used by the truncation test, one of each kind. */
static int
read_everything(const uint8_t *p, size_t n)
{
	struct gqk_reader r;
	struct gqk_str s;
	struct gqk_bytes b;

	gqk_reader_init(&r, p, n);
	gqk_read_i8(&r);
	gqk_read_bool(&r);
	gqk_read_i16(&r);
	gqk_read_i32(&r);
	gqk_read_i64(&r);
	gqk_read_uvarint(&r);
	gqk_read_uvarint64(&r);
	gqk_read_string(&r, &s);
	gqk_read_nullable_string(&r, &s);
	gqk_read_compact_string(&r, &s);
	gqk_read_compact_nullable_string(&r, &s);
	gqk_read_bytes(&r, &b);
	gqk_read_nullable_bytes(&r, &b);
	gqk_read_compact_bytes(&r, &b);
	gqk_read_compact_nullable_bytes(&r, &b);
	gqk_read_array_len(&r);
	gqk_read_compact_array_len(&r);
	gqk_skip_tagged_fields(&r);
	if (r.err == 0 && gqk_reader_remaining(&r) != 0)
		return 1;
	return r.err;
}

/* Every strict prefix of a buffer holding each type fails cleanly, and
 * the whole buffer reads exactly. */
Test(kwire, every_truncation)
{
	struct gqk_writer w;
	uint8_t *copy;
	size_t n;

	gqk_writer_init(&w);
	gqk_put_i8(&w, 1);
	gqk_put_bool(&w, true);
	gqk_put_i16(&w, 2);
	gqk_put_i32(&w, 3);
	gqk_put_i64(&w, 4);
	gqk_put_uvarint(&w, 300);
	gqk_put_uvarint(&w, UINT64_MAX);
	gqk_put_string(&w, GQK_STR("abc"));
	gqk_put_nullable_string(&w, GQK_STR("de"));
	gqk_put_compact_string(&w, GQK_STR("f"));
	gqk_put_compact_nullable_string(&w, GQK_STR("gh"));
	gqk_put_bytes(&w, (struct gqk_bytes){ (const uint8_t *)"ij", 2 });
	gqk_put_nullable_bytes(&w,
			       (struct gqk_bytes){ (const uint8_t *)"k", 1 });
	gqk_put_compact_bytes(&w,
			      (struct gqk_bytes){ (const uint8_t *)"l", 1 });
	gqk_put_compact_nullable_bytes(
		&w, (struct gqk_bytes){ (const uint8_t *)"m", 1 });
	gqk_put_array_len(&w, 1);
	gqk_put_compact_array_len(&w, 1);
	gqk_put_uvarint(&w, 1); /* one tagged field */
	gqk_put_uvarint(&w, 5);
	gqk_put_uvarint(&w, 2);
	gqk_put_raw(&w, "zz", 2);
	cr_assert(eq(int, w.err, 0));
	cr_assert(eq(int, read_everything(w.base, w.len), 0));
	for (n = 0; n < w.len; n++) {
		/* A heap copy of exactly n bytes lets ASan catch over-reads. */
		copy = malloc(n != 0 ? n : 1);
		cr_assert(not(eq(ptr, copy, NULL)));
		if (n != 0)
			memcpy(copy, w.base, n);
		cr_assert(eq(int, read_everything(copy, n), GQK_EMALFORMED),
			  "prefix of %zu bytes", n);
		free(copy);
	}
	gqk_writer_free(&w);
}

/* After the first error every read returns zero and consumes nothing. */
Test(kwire, sticky_reader_error)
{
	static const uint8_t in[] = { 0x00, 0x09, 'a', 0x00, 0x00, 0x00, 0x07 };
	struct gqk_reader r;
	struct gqk_str s;

	gqk_reader_init(&r, in, sizeof(in));
	cr_assert(eq(int, gqk_read_string(&r, &s), GQK_EMALFORMED));
	cr_assert(eq(i32, gqk_read_i32(&r), 0));
	cr_assert(eq(i8, gqk_read_i8(&r), 0));
	cr_assert(eq(sz, gqk_reader_remaining(&r), 0));
	cr_assert(eq(int, gqk_reader_fail(&r, GQK_ENOMEM), GQK_EMALFORMED));
}

/* An empty or NULL buffer reads as empty. */
Test(kwire, empty_reader)
{
	struct gqk_reader r;

	gqk_reader_init(&r, NULL, 0);
	cr_assert(eq(sz, gqk_reader_remaining(&r), 0));
	gqk_read_i8(&r);
	cr_assert(eq(int, r.err, GQK_EMALFORMED));
}

/* Reserved INT32s are patched in place, frames get their own length, and
 * the buffer grows across many writes. */
Test(kwire, writer_reserve_patch_grow)
{
	struct gqk_writer w;
	struct gqk_reader r;
	size_t frame, cnt, i;

	gqk_writer_init(&w);
	frame = gqk_frame_begin(&w);
	cnt = gqk_reserve_i32(&w);
	for (i = 0; i < 100000; i++)
		gqk_put_i8(&w, (int8_t)i);
	gqk_patch_i32(&w, cnt, 100000);
	gqk_frame_end(&w, frame);
	cr_assert(eq(int, w.err, 0));
	cr_assert(eq(sz, w.len, 100008));
	cr_assert(ge(sz, w.cap, w.len));
	gqk_reader_init(&r, w.base, w.len);
	cr_assert(eq(i32, gqk_read_i32(&r), 100004));
	cr_assert(eq(i32, gqk_read_i32(&r), 100000));
	cr_assert(eq(u8, w.base[8 + 99999], (uint8_t)99999));
	/* Patching outside the buffer is ignored. */
	gqk_patch_i32(&w, w.len - 2, 1);
	cr_assert(eq(int, w.err, 0));
	gqk_writer_free(&w);
	cr_assert(eq(ptr, w.base, NULL));
	cr_assert(eq(sz, w.len, 0));
}

/* A string too long for an INT16 length fails the writer, stickily. */
Test(kwire, writer_unrepresentable)
{
	struct gqk_writer w;
	char *big;

	big = calloc(1, 40000);
	cr_assert(not(eq(ptr, big, NULL)));
	gqk_writer_init(&w);
	gqk_put_string(&w, (struct gqk_str){ big, 40000 });
	cr_assert(eq(int, w.err, GQK_EMALFORMED));
	gqk_put_i32(&w, 1);
	cr_assert(eq(sz, w.len, 0));
	gqk_writer_free(&w);
	/* The compact form has no such limit. */
	gqk_put_compact_string(&w, (struct gqk_str){ big, 40000 });
	cr_assert(eq(int, w.err, 0));
	cr_assert(eq(sz, w.len, 3 + 40000));
	gqk_writer_free(&w);
	free(big);
}

/* Arena memory is zeroed and aligned, large blocks work, and free
 * releases everything. */
Test(kwire, arena_alloc)
{
	struct gqk_arena a;
	uint8_t *p, *q, *big;
	size_t i;

	gqk_arena_init(&a, 0);
	p = gqk_arena_alloc(&a, 3);
	q = gqk_arena_alloc(&a, 24);
	big = gqk_arena_alloc(&a, 100000);
	cr_assert(not(eq(ptr, p, NULL)));
	cr_assert(not(eq(ptr, q, NULL)));
	cr_assert(not(eq(ptr, big, NULL)));
	cr_assert(eq(sz, (uintptr_t)q % _Alignof(max_align_t), 0));
	cr_assert(eq(sz, (uintptr_t)big % _Alignof(max_align_t), 0));
	for (i = 0; i < 100000; i++) {
		if (big[i] != 0)
			cr_fatal("byte %zu not zero", i);
	}
	memset(big, 0xaa, 100000);
	for (i = 0; i < 24; i++)
		cr_assert(eq(u8, q[i], 0));
	/* Many small allocations span several chunks. */
	for (i = 0; i < 10000; i++) {
		p = gqk_arena_alloc(&a, 40);
		cr_assert(not(eq(ptr, p, NULL)));
		cr_assert(eq(u8, p[39], 0));
		p[39] = 1;
	}
	cr_assert(gt(sz, a.used, 400000));
	gqk_arena_free(&a);
	cr_assert(eq(sz, a.used, 0));
	cr_assert(eq(ptr, a.head, NULL));
}

/* An arena never takes more than its limit from malloc. */
Test(kwire, arena_limit)
{
	struct gqk_arena a;

	gqk_arena_init(&a, 10000);
	cr_assert(not(eq(ptr, gqk_arena_alloc(&a, 100), NULL)));
	cr_assert(eq(ptr, gqk_arena_alloc(&a, 20000), NULL));
	cr_assert(not(eq(ptr, gqk_arena_alloc(&a, 100), NULL)));
	cr_assert(eq(ptr, gqk_arena_alloc(&a, SIZE_MAX - 4), NULL));
	cr_assert(le(sz, a.used, 10000));
	gqk_arena_free(&a);
	cr_assert(eq(sz, a.limit, 10000));
}

/* gqk_str helpers: C-string wrapping and comparison. */
Test(kwire, str_helpers)
{
	cr_assert(gqk_str_is_null(gqk_str_from(NULL)));
	cr_assert(gqk_str_eq(gqk_str_from("abc"), "abc"));
	cr_assert(not(gqk_str_eq(gqk_str_from("abc"), "ab")));
	cr_assert(not(gqk_str_eq(GQK_STR_NULL, "")));
	cr_assert(gqk_str_eq(GQK_STR(""), ""));
}
