/* SPDX-License-Identifier: MIT */
/*
 * buf.h - a growable byte buffer, the one way modules hand each other
 * variable-size bytes.  Memory comes from the library heap (heap.h).
 */
#ifndef GQ_BUF_H
#define GQ_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "goqueue.h"
#include "heap.h"

struct gq__buf {
	uint8_t *base;
	size_t len; /* bytes in use */
	size_t cap; /* bytes allocated */
};

#define GQ__BUF_INIT       \
	{                  \
		NULL, 0, 0 \
	}

/* Make room for @extra more bytes; GQ_ENOMEM on failure (buffer intact). */
static inline int
gq__buf_reserve(struct gq__buf *b, size_t extra)
{
	size_t want;
	size_t cap;
	uint8_t *p;

	if (extra > SIZE_MAX - b->len)
		return GQ_ENOMEM;
	want = b->len + extra;
	if (want <= b->cap)
		return 0;
	cap = b->cap < 256 ? 256 : b->cap;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	if ((p = gq__realloc(b->base, cap)) == NULL)
		return GQ_ENOMEM;
	b->base = p;
	b->cap = cap;
	return 0;
}

/* Append @n bytes. */
static inline int
gq__buf_append(struct gq__buf *b, const void *data, size_t n)
{
	int rv;

	if (n == 0)
		return 0;
	if ((rv = gq__buf_reserve(b, n)) != 0)
		return rv;
	memcpy(b->base + b->len, data, n);
	b->len += n;
	return 0;
}

/* Release the memory; the buffer is empty and reusable afterwards. */
static inline void
gq__buf_free(struct gq__buf *b)
{
	gq__free(b->base);
	b->base = NULL;
	b->len = b->cap = 0;
}

/* Big-endian and little-endian fixed-width helpers for wire formats. */
static inline void
gq__be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
gq__be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
gq__be64_put(uint8_t *p, uint64_t v)
{
	gq__be32_put(p, (uint32_t)(v >> 32));
	gq__be32_put(p + 4, (uint32_t)v);
}

static inline uint16_t
gq__be16_get(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
gq__be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
gq__be64_get(const uint8_t *p)
{
	return (uint64_t)gq__be32_get(p) << 32 | gq__be32_get(p + 4);
}

static inline void
gq__le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void
gq__le64_put(uint8_t *p, uint64_t v)
{
	gq__le32_put(p, (uint32_t)v);
	gq__le32_put(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t
gq__le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t
gq__le64_get(const uint8_t *p)
{
	return (uint64_t)gq__le32_get(p) | (uint64_t)gq__le32_get(p + 4) << 32;
}

/* Little-endian appends for the node's own formats (Raft commands, RPC
 * bodies).  Each returns 0 or GQ_ENOMEM; a sequence of them may be OR-ed
 * together and checked once, since GQ_ENOMEM is the only failure. */
static inline int
gq__buf_put_u8(struct gq__buf *b, uint8_t v)
{
	return gq__buf_append(b, &v, 1);
}

static inline int
gq__buf_put_le16(struct gq__buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	return gq__buf_append(b, x, 2);
}

static inline int
gq__buf_put_le32(struct gq__buf *b, uint32_t v)
{
	uint8_t x[4];

	gq__le32_put(x, v);
	return gq__buf_append(b, x, 4);
}

static inline int
gq__buf_put_le64(struct gq__buf *b, uint64_t v)
{
	uint8_t x[8];

	gq__le64_put(x, v);
	return gq__buf_append(b, x, 8);
}

/* A string as u16 length and bytes (no NUL). */
static inline int
gq__buf_put_str16(struct gq__buf *b, const char *s)
{
	size_t n = strlen(s);

	if (n > UINT16_MAX)
		return GQ_EINVAL;
	return gq__buf_put_le16(b, (uint16_t)n) | gq__buf_append(b, s, n);
}

/*
 * A bounds-checked reader over bytes from disk or the network: a read past
 * the end sets `bad` and yields zeros, so a decoder reads every field and
 * checks `bad` once at the end.
 */
struct gq__rd {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static inline struct gq__rd
gq__rd_init(const void *p, size_t len)
{
	struct gq__rd r = { (const uint8_t *)p, len, false };

	return r;
}

/* The next @n bytes, or NULL (and bad) if fewer are left. */
static inline const uint8_t *
gq__rd_take(struct gq__rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || n > r->left) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static inline uint8_t
gq__rd_u8(struct gq__rd *r)
{
	const uint8_t *p = gq__rd_take(r, 1);

	return p != NULL ? p[0] : 0;
}

static inline uint16_t
gq__rd_le16(struct gq__rd *r)
{
	const uint8_t *p = gq__rd_take(r, 2);

	return p != NULL ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

static inline uint32_t
gq__rd_le32(struct gq__rd *r)
{
	const uint8_t *p = gq__rd_take(r, 4);

	return p != NULL ? gq__le32_get(p) : 0;
}

static inline uint64_t
gq__rd_le64(struct gq__rd *r)
{
	const uint8_t *p = gq__rd_take(r, 8);

	return p != NULL ? gq__le64_get(p) : 0;
}

/* Big-endian reads, for Kafka's formats. */
static inline uint16_t
gq__rd_be16(struct gq__rd *r)
{
	const uint8_t *p = gq__rd_take(r, 2);

	return p != NULL ? gq__be16_get(p) : 0;
}

static inline uint32_t
gq__rd_be32(struct gq__rd *r)
{
	const uint8_t *p = gq__rd_take(r, 4);

	return p != NULL ? gq__be32_get(p) : 0;
}

/* A u16-length string into @out (@size bytes, NUL added); a string that
 * does not fit makes the reader bad. */
static inline void
gq__rd_str16(struct gq__rd *r, char *out, size_t size)
{
	size_t n = gq__rd_le16(r);
	const uint8_t *p = gq__rd_take(r, n);

	if (p == NULL || n >= size) {
		r->bad = true;
		out[0] = '\0';
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

#endif /* GQ_BUF_H */
