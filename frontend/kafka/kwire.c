/* SPDX-License-Identifier: MIT */
/*
 * kwire.c - Kafka wire primitives (see kwire.h for the contracts).
 *
 * The reader checks every length against the bytes left before it moves,
 * so no read can pass `end`, whatever the input. Errors are sticky on both
 * the reader and the writer. The arena hands out zeroed memory from
 * calloc'd chunks that are only ever freed all together.
 */
#include "kwire.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct gqk_str
gqk_str_from(const char *s)
{
	struct gqk_str out = GQK_STR_NULL;
	size_t n;

	if (s == NULL)
		return out;
	n = strlen(s);
	if (n > INT32_MAX)
		return out;
	out.p = s;
	out.len = (int32_t)n;
	return out;
}

bool
gqk_str_is_null(struct gqk_str s)
{
	return s.len < 0;
}

bool
gqk_str_eq(struct gqk_str s, const char *c)
{
	size_t n;

	if (s.len < 0 || c == NULL)
		return false;
	n = strlen(c);
	if (n != (size_t)s.len)
		return false;
	return n == 0 || memcmp(s.p, c, n) == 0;
}

/*
 * Reader
 */

void
gqk_reader_init(struct gqk_reader *r, const void *buf, size_t len)
{
	r->err = 0;
	r->p = buf;
	r->end = r->p;
	/* NULL + 0 is undefined; a NULL buffer is an empty one. */
	if (buf != NULL)
		r->end += len;
}

size_t
gqk_reader_remaining(const struct gqk_reader *r)
{
	if (r->err != 0)
		return 0;
	return (size_t)(r->end - r->p);
}

int
gqk_reader_fail(struct gqk_reader *r, int err)
{
	if (r->err == 0)
		r->err = err;
	return r->err;
}

/* Consume @n bytes and return where they start, or NULL if they are not all
 * there (which fails the reader). */
static const uint8_t *
take(struct gqk_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->err != 0)
		return NULL;
	if ((size_t)(r->end - r->p) < n) {
		r->err = GQK_EMALFORMED;
		return NULL;
	}
	p = r->p;
	r->p += n;
	return p;
}

int8_t
gqk_read_i8(struct gqk_reader *r)
{
	const uint8_t *p;

	p = take(r, 1);
	return p == NULL ? 0 : (int8_t)p[0];
}

int16_t
gqk_read_i16(struct gqk_reader *r)
{
	const uint8_t *p;

	p = take(r, 2);
	if (p == NULL)
		return 0;
	return (int16_t)(uint16_t)((unsigned)p[0] << 8 | p[1]);
}

int32_t
gqk_read_i32(struct gqk_reader *r)
{
	const uint8_t *p;

	p = take(r, 4);
	if (p == NULL)
		return 0;
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			 (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

int64_t
gqk_read_i64(struct gqk_reader *r)
{
	const uint8_t *p;
	uint64_t v = 0;
	int i;

	p = take(r, 8);
	if (p == NULL)
		return 0;
	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

bool
gqk_read_bool(struct gqk_reader *r)
{
	return gqk_read_i8(r) != 0;
}

/* Read a varint of at most @max_bytes bytes whose last byte may carry at
 * most @last_bits significant bits. */
static uint64_t
read_varint(struct gqk_reader *r, int max_bytes, int last_bits)
{
	const uint8_t *p;
	uint64_t v = 0;
	int i;

	for (i = 0; i < max_bytes; i++) {
		if ((p = take(r, 1)) == NULL)
			return 0;
		if (i == max_bytes - 1 && (*p >> last_bits) != 0)
			break;
		v |= (uint64_t)(*p & 0x7f) << (7 * i);
		if ((*p & 0x80) == 0)
			return v;
	}
	gqk_reader_fail(r, GQK_EMALFORMED);
	return 0;
}

uint32_t
gqk_read_uvarint(struct gqk_reader *r)
{
	/* 4 x 7 bits, then at most 4 more bits and no continuation. */
	return (uint32_t)read_varint(r, 5, 4);
}

uint64_t
gqk_read_uvarint64(struct gqk_reader *r)
{
	/* 9 x 7 bits, then at most 1 more bit. */
	return read_varint(r, 10, 1);
}

/* Shared tail of every string/bytes reader: @len is the decoded length
 * (-1 for null). Validates it against what is left, then points at it. */
static int
read_span(struct gqk_reader *r, int64_t len, bool nullable, const void **p,
	  int32_t *out_len)
{
	const uint8_t *at;

	*p = NULL;
	*out_len = -1;
	if (r->err != 0)
		return r->err;
	if (len == -1 && nullable)
		return 0;
	if (len < 0 || len > INT32_MAX)
		return gqk_reader_fail(r, GQK_EMALFORMED);
	if ((at = take(r, (size_t)len)) == NULL)
		return r->err;
	*p = at;
	*out_len = (int32_t)len;
	return 0;
}

static int
read_str(struct gqk_reader *r, int64_t len, bool nullable, struct gqk_str *s)
{
	const void *p;
	int rv;

	rv = read_span(r, len, nullable, &p, &s->len);
	s->p = p;
	return rv;
}

static int
read_bytes(struct gqk_reader *r, int64_t len, bool nullable,
	   struct gqk_bytes *b)
{
	const void *p;
	int rv;

	rv = read_span(r, len, nullable, &p, &b->len);
	b->p = p;
	return rv;
}

/* A compact length: UVARINT n, n = 0 for null, else n - 1. */
static int64_t
read_compact_len(struct gqk_reader *r)
{
	return (int64_t)gqk_read_uvarint(r) - 1;
}

int
gqk_read_string(struct gqk_reader *r, struct gqk_str *s)
{
	int16_t len;

	len = gqk_read_i16(r);
	return read_str(r, len, false, s);
}

int
gqk_read_nullable_string(struct gqk_reader *r, struct gqk_str *s)
{
	int16_t len;

	len = gqk_read_i16(r);
	return read_str(r, len, true, s);
}

int
gqk_read_compact_string(struct gqk_reader *r, struct gqk_str *s)
{
	int64_t len;

	len = read_compact_len(r);
	return read_str(r, len, false, s);
}

int
gqk_read_compact_nullable_string(struct gqk_reader *r, struct gqk_str *s)
{
	int64_t len;

	len = read_compact_len(r);
	return read_str(r, len, true, s);
}

int
gqk_read_bytes(struct gqk_reader *r, struct gqk_bytes *b)
{
	int32_t len;

	len = gqk_read_i32(r);
	return read_bytes(r, len, false, b);
}

int
gqk_read_nullable_bytes(struct gqk_reader *r, struct gqk_bytes *b)
{
	int32_t len;

	len = gqk_read_i32(r);
	return read_bytes(r, len, true, b);
}

int
gqk_read_compact_bytes(struct gqk_reader *r, struct gqk_bytes *b)
{
	int64_t len;

	len = read_compact_len(r);
	return read_bytes(r, len, false, b);
}

int
gqk_read_compact_nullable_bytes(struct gqk_reader *r, struct gqk_bytes *b)
{
	int64_t len;

	len = read_compact_len(r);
	return read_bytes(r, len, true, b);
}

/* Validate an element count read by either array form. */
static int32_t
check_count(struct gqk_reader *r, int64_t n)
{
	if (r->err != 0)
		return 0;
	if (n == -1)
		return -1;
	if (n < -1 || n > INT32_MAX || (uint64_t)n > gqk_reader_remaining(r)) {
		gqk_reader_fail(r, GQK_EMALFORMED);
		return 0;
	}
	return (int32_t)n;
}

int32_t
gqk_read_array_len(struct gqk_reader *r)
{
	int32_t n;

	n = gqk_read_i32(r);
	return check_count(r, n);
}

int32_t
gqk_read_compact_array_len(struct gqk_reader *r)
{
	int64_t n;

	n = read_compact_len(r);
	return check_count(r, n);
}

int
gqk_skip_tagged_fields(struct gqk_reader *r)
{
	uint32_t n, i, size;

	n = gqk_read_uvarint(r);
	/* Each field takes at least two bytes, so the loop below is bounded by
	 * the input even for a huge count; this only fails faster. */
	if (r->err == 0 && n > gqk_reader_remaining(r) / 2)
		return gqk_reader_fail(r, GQK_EMALFORMED);
	for (i = 0; i < n && r->err == 0; i++) {
		(void)gqk_read_uvarint(r); /* tag */
		size = gqk_read_uvarint(r);
		(void)take(r, size);
	}
	return r->err;
}

/*
 * Writer
 */

void
gqk_writer_init(struct gqk_writer *w)
{
	w->base = NULL;
	w->len = 0;
	w->cap = 0;
	w->err = 0;
}

void
gqk_writer_free(struct gqk_writer *w)
{
	free(w->base);
	gqk_writer_init(w);
}

void
gqk_writer_fail(struct gqk_writer *w, int err)
{
	if (w->err == 0)
		w->err = err;
}

/* Make room for @n more bytes and return where they go, or NULL. */
static uint8_t *
grow(struct gqk_writer *w, size_t n)
{
	size_t cap;
	uint8_t *base;

	if (w->err != 0)
		return NULL;
	if (n > SIZE_MAX - w->len) {
		w->err = GQK_ENOMEM;
		return NULL;
	}
	if (w->len + n > w->cap) {
		cap = w->cap != 0 ? w->cap : 256;
		while (cap < w->len + n) {
			if (cap > SIZE_MAX / 2) {
				cap = w->len + n;
				break;
			}
			cap *= 2;
		}
		if ((base = realloc(w->base, cap)) == NULL) {
			w->err = GQK_ENOMEM;
			return NULL;
		}
		w->base = base;
		w->cap = cap;
	}
	base = w->base + w->len;
	w->len += n;
	return base;
}

void
gqk_put_raw(struct gqk_writer *w, const void *p, size_t n)
{
	uint8_t *at;

	at = grow(w, n);
	if (at != NULL && n != 0)
		memcpy(at, p, n);
}

/* Store the low @n bytes of @v big-endian at @at. */
static void
store_be(uint8_t *at, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		at[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void
put_be(struct gqk_writer *w, uint64_t v, int n)
{
	uint8_t *at;

	at = grow(w, (size_t)n);
	if (at != NULL)
		store_be(at, v, n);
}

void
gqk_put_i8(struct gqk_writer *w, int8_t v)
{
	put_be(w, (uint8_t)v, 1);
}

void
gqk_put_i16(struct gqk_writer *w, int16_t v)
{
	put_be(w, (uint16_t)v, 2);
}

void
gqk_put_i32(struct gqk_writer *w, int32_t v)
{
	put_be(w, (uint32_t)v, 4);
}

void
gqk_put_i64(struct gqk_writer *w, int64_t v)
{
	put_be(w, (uint64_t)v, 8);
}

void
gqk_put_bool(struct gqk_writer *w, bool v)
{
	put_be(w, v ? 1 : 0, 1);
}

void
gqk_put_uvarint(struct gqk_writer *w, uint64_t v)
{
	uint8_t buf[10];
	size_t n = 0;

	while (v >= 0x80) {
		buf[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	buf[n++] = (uint8_t)v;
	gqk_put_raw(w, buf, n);
}

void
gqk_put_string(struct gqk_writer *w, struct gqk_str s)
{
	if (s.len < 0)
		s.len = 0;
	gqk_put_nullable_string(w, s);
}

void
gqk_put_nullable_string(struct gqk_writer *w, struct gqk_str s)
{
	if (s.len < 0) {
		gqk_put_i16(w, -1);
		return;
	}
	if (s.len > INT16_MAX) {
		gqk_writer_fail(w, GQK_EMALFORMED);
		return;
	}
	gqk_put_i16(w, (int16_t)s.len);
	gqk_put_raw(w, s.p, (size_t)s.len);
}

void
gqk_put_compact_string(struct gqk_writer *w, struct gqk_str s)
{
	if (s.len < 0)
		s.len = 0;
	gqk_put_compact_nullable_string(w, s);
}

void
gqk_put_compact_nullable_string(struct gqk_writer *w, struct gqk_str s)
{
	if (s.len < 0) {
		gqk_put_uvarint(w, 0);
		return;
	}
	gqk_put_uvarint(w, (uint64_t)s.len + 1);
	gqk_put_raw(w, s.p, (size_t)s.len);
}

void
gqk_put_bytes(struct gqk_writer *w, struct gqk_bytes b)
{
	if (b.len < 0)
		b.len = 0;
	gqk_put_nullable_bytes(w, b);
}

void
gqk_put_nullable_bytes(struct gqk_writer *w, struct gqk_bytes b)
{
	if (b.len < 0) {
		gqk_put_i32(w, -1);
		return;
	}
	gqk_put_i32(w, b.len);
	gqk_put_raw(w, b.p, (size_t)b.len);
}

void
gqk_put_compact_bytes(struct gqk_writer *w, struct gqk_bytes b)
{
	if (b.len < 0)
		b.len = 0;
	gqk_put_compact_nullable_bytes(w, b);
}

void
gqk_put_compact_nullable_bytes(struct gqk_writer *w, struct gqk_bytes b)
{
	if (b.len < 0) {
		gqk_put_uvarint(w, 0);
		return;
	}
	gqk_put_uvarint(w, (uint64_t)b.len + 1);
	gqk_put_raw(w, b.p, (size_t)b.len);
}

void
gqk_put_array_len(struct gqk_writer *w, int32_t n)
{
	gqk_put_i32(w, n < 0 ? -1 : n);
}

void
gqk_put_compact_array_len(struct gqk_writer *w, int32_t n)
{
	gqk_put_uvarint(w, n < 0 ? 0 : (uint64_t)n + 1);
}

void
gqk_put_empty_tagged_fields(struct gqk_writer *w)
{
	gqk_put_uvarint(w, 0);
}

size_t
gqk_reserve_i32(struct gqk_writer *w)
{
	size_t pos = w->len;

	put_be(w, 0, 4);
	return pos;
}

void
gqk_patch_i32(struct gqk_writer *w, size_t pos, int32_t v)
{
	if (w->err != 0 || pos > w->len || w->len - pos < 4)
		return;
	store_be(w->base + pos, (uint32_t)v, 4);
}

size_t
gqk_frame_begin(struct gqk_writer *w)
{
	return gqk_reserve_i32(w);
}

void
gqk_frame_end(struct gqk_writer *w, size_t pos)
{
	size_t n;

	if (w->err != 0 || pos > w->len || w->len - pos < 4)
		return;
	n = w->len - pos - 4;
	if (n > INT32_MAX) {
		gqk_writer_fail(w, GQK_EMALFORMED);
		return;
	}
	gqk_patch_i32(w, pos, (int32_t)n);
}

/*
 * Arena
 */

/* Chunks are a singly linked list; the head is the one being carved. */
struct gqk_arena_chunk {
	struct gqk_arena_chunk *next;
	size_t cap, off;
	max_align_t data[];
};

/* Data bytes of an ordinary chunk; larger requests get a chunk of their
 * own so that the head keeps its free space. */
#define CHUNK_DATA 4096

void
gqk_arena_init(struct gqk_arena *a, size_t limit)
{
	a->head = NULL;
	a->used = 0;
	a->limit = limit;
}

static struct gqk_arena_chunk *
chunk_new(struct gqk_arena *a, size_t cap)
{
	struct gqk_arena_chunk *c;
	size_t total;

	if (cap > SIZE_MAX - sizeof(*c))
		return NULL;
	total = sizeof(*c) + cap;
	if (a->limit != 0 && (total > a->limit || a->used > a->limit - total))
		return NULL;
	if ((c = calloc(1, total)) == NULL)
		return NULL;
	c->cap = cap;
	c->off = 0;
	a->used += total;
	return c;
}

void *
gqk_arena_alloc(struct gqk_arena *a, size_t size)
{
	const size_t align = _Alignof(max_align_t);
	struct gqk_arena_chunk *c;
	uint8_t *p;

	if (size > SIZE_MAX - align)
		return NULL;
	size = (size + align - 1) & ~(align - 1);
	if (size == 0)
		size = align;
	c = a->head;
	if (c == NULL || c->cap - c->off < size) {
		if (size > CHUNK_DATA / 4) {
			if ((c = chunk_new(a, size)) == NULL)
				return NULL;
			/* Keep the current head (and its free space) first. */
			if (a->head != NULL) {
				c->next = a->head->next;
				a->head->next = c;
			} else {
				a->head = c;
			}
		} else {
			if ((c = chunk_new(a, CHUNK_DATA)) == NULL)
				return NULL;
			c->next = a->head;
			a->head = c;
		}
	}
	/* Chunks come from calloc and space is never handed out twice, so
	 * the bytes are already zero. */
	p = (uint8_t *)c->data + c->off;
	c->off += size;
	return p;
}

void
gqk_arena_free(struct gqk_arena *a)
{
	struct gqk_arena_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = 0;
}
