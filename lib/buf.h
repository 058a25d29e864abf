/* SPDX-License-Identifier: MIT */
/*
 * buf.h - a growable byte buffer, the one way modules hand each other
 * variable-size bytes.  Memory comes from the library heap (heap.h).
 */
#ifndef GQ_BUF_H
#define GQ_BUF_H

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

#endif /* GQ_BUF_H */
