/* SPDX-License-Identifier: MIT */
/*
 * varint.h - the variable-length integers of the Kafka wire formats.
 *
 * Unsigned varints (UVARINT, protobuf/LEB128: 7 bits per byte, low group
 * first, high bit set on every byte but the last) carry the compact-protocol
 * lengths.  Records use *zigzag* signed varints (protobuf sint32/sint64):
 * VARINT for 32-bit values, at most 5 bytes, and VARLONG for 64-bit values,
 * at most 10 bytes.  Examples: 0 -> 00, -1 -> 01, 1 -> 02, 64 -> 80 01,
 * 300 -> d8 04, -300 -> d7 04.
 *
 * Encoders write into a caller-provided buffer that has room for
 * GQ__VARINT_MAX / GQ__VARLONG_MAX bytes and return the number written.
 * Decoders take a cursor (*@p) and an end pointer, never read at or past
 * @end, advance *@p only on success, and return GQ_ECORRUPT for a truncated
 * encoding, one longer than the maximum, or one whose value does not fit the
 * type.  Like Kafka's own ByteUtils, they accept non-minimal encodings
 * (80 00 for 0) as long as they stay within the maximum length.
 */
#ifndef GQ_VARINT_H
#define GQ_VARINT_H

#include <stddef.h>
#include <stdint.h>

#include "goqueue.h"

#define GQ__VARINT_MAX  5  /* bytes in the longest 32-bit varint */
#define GQ__VARLONG_MAX 10 /* bytes in the longest 64-bit varint */

static inline uint32_t
gq__zigzag32(int32_t v)
{
	return ((uint32_t)v << 1) ^ (uint32_t)(0 - ((uint32_t)v >> 31));
}

static inline uint64_t
gq__zigzag64(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(0 - ((uint64_t)v >> 63));
}

static inline int32_t
gq__unzigzag32(uint32_t u)
{
	/* Computed in unsigned arithmetic and converted back by hand, since
	 * converting an out-of-range unsigned value to a signed type is
	 * implementation-defined. */
	uint32_t m = (u >> 1) ^ (0 - (u & 1));

	return m <= INT32_MAX ? (int32_t)m : -(int32_t)(~m) - 1;
}

static inline int64_t
gq__unzigzag64(uint64_t u)
{
	uint64_t m = (u >> 1) ^ (0 - (u & 1));

	return m <= INT64_MAX ? (int64_t)m : -(int64_t)(~m) - 1;
}

/* Bytes needed to encode @v as an unsigned varint (1..10). */
static inline size_t
gq__uvarint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Bytes needed for @v as a zigzag VARINT (1..5) or VARLONG (1..10). */
static inline size_t
gq__varint_size(int32_t v)
{
	return gq__uvarint_size(gq__zigzag32(v));
}

static inline size_t
gq__varlong_size(int64_t v)
{
	return gq__uvarint_size(gq__zigzag64(v));
}

/* Write @v as an unsigned varint at @p; returns the bytes written. */
static inline size_t
gq__uvarint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Write @v as a zigzag VARINT / VARLONG at @p; returns the bytes written. */
static inline size_t
gq__varint_put(uint8_t *p, int32_t v)
{
	return gq__uvarint_put(p, gq__zigzag32(v));
}

static inline size_t
gq__varlong_put(uint8_t *p, int64_t v)
{
	return gq__uvarint_put(p, gq__zigzag64(v));
}

/*
 * Read an unsigned varint whose value must fit in @bits bits (32 or 64),
 * so at most 5 or 10 bytes.  Shared by the typed readers below.
 */
static inline int
gq__uvarint_get_bits(const uint8_t **p, const uint8_t *end, unsigned bits,
		     uint64_t *out)
{
	const uint8_t *q = *p;
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;

	for (;;) {
		if (q >= end)
			return GQ_ECORRUPT;
		b = *q++;
		/* The final group may only use the bits left in the type. */
		if (shift + 7 > bits && (b & 0x7f) >> (bits - shift) != 0)
			return GQ_ECORRUPT;
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			break;
		shift += 7;
		if (shift >= bits)
			return GQ_ECORRUPT;
	}
	*p = q;
	*out = v;
	return 0;
}

/* Read an unsigned varint that fits in 32 bits (compact lengths). */
static inline int
gq__uvarint32_get(const uint8_t **p, const uint8_t *end, uint32_t *out)
{
	uint64_t v;
	int rv;

	if ((rv = gq__uvarint_get_bits(p, end, 32, &v)) != 0)
		return rv;
	*out = (uint32_t)v;
	return 0;
}

/* Read an unsigned varint that fits in 64 bits. */
static inline int
gq__uvarint64_get(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	return gq__uvarint_get_bits(p, end, 64, out);
}

/* Read a zigzag VARINT (record lengths, offset deltas, counts). */
static inline int
gq__varint_get(const uint8_t **p, const uint8_t *end, int32_t *out)
{
	uint64_t v;
	int rv;

	if ((rv = gq__uvarint_get_bits(p, end, 32, &v)) != 0)
		return rv;
	*out = gq__unzigzag32((uint32_t)v);
	return 0;
}

/* Read a zigzag VARLONG (timestamp deltas). */
static inline int
gq__varlong_get(const uint8_t **p, const uint8_t *end, int64_t *out)
{
	uint64_t v;
	int rv;

	if ((rv = gq__uvarint_get_bits(p, end, 64, &v)) != 0)
		return rv;
	*out = gq__unzigzag64(v);
	return 0;
}

#endif /* GQ_VARINT_H */
