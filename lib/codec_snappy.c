/* SPDX-License-Identifier: MIT */
/*
 * codec_snappy.c - Kafka's snappy codec (attribute 2) on the snappy C API.
 *
 * Kafka clients write two formats (KAFKA-PROTOCOL.md 2.4): librdkafka a raw
 * snappy block, the Java producer and kafka-python the xerial (snappy-java)
 * framing, byte by byte:
 *
 *   offset 0   8 bytes  magic 82 53 4E 41 50 50 59 00 ("\x82SNAPPY\0")
 *   offset 8   int32 BE version, 1
 *   offset 12  int32 BE minimum compatible version, 1
 *   offset 16  repeated until the end: int32 BE length N, then N bytes of a
 *              raw snappy block holding at most 32 KiB of input
 *
 * We write the xerial framing, like the Java producer, and read both: input
 * that starts with the magic is xerial (as librdkafka and snappy-java decide),
 * anything else a raw block.  Header-only xerial input is empty output.
 *
 * Snappy's C API takes no allocator: the compressor's working memory (hash
 * table and scratch, tens of KiB per call, freed before it returns) comes
 * from C++ operator new, not gq__malloc(); every buffer this file owns does
 * go through heap.h.
 * Without libsnappy the entry points are stubs returning GQ_EUNSUPPORTED.
 */
#include "codec.h"

#include "goqueue.h"
#include "gq-config.h"

#if GQ_HAVE_SNAPPY

#include <snappy-c.h>

static const uint8_t xerial_magic[8] = {
	0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0
};

#define XERIAL_HEADER_SIZE 16
#define XERIAL_VERSION     1
#define XERIAL_COMPAT      1
/* snappy-java's default block size, which Kafka's producer keeps. */
#define XERIAL_CHUNK (32 * 1024)

static int
err_from_snappy(snappy_status st)
{
	switch (st) {
	case SNAPPY_OK:
		return 0;
	case SNAPPY_INVALID_INPUT:
		return GQ_ECORRUPT;
	default:
		/* SNAPPY_BUFFER_TOO_SMALL: we sized the buffer, so a bug. */
		return GQ_EINTERNAL;
	}
}

bool
gq__codec_snappy_available(void)
{
	return true;
}

int
gq__codec_snappy_compress(const void *src, size_t len, struct gq__buf *out)
{
	const char *in = src;
	size_t start = out->len;
	size_t chunk;
	size_t clen;
	uint8_t *p;
	int rv;

	if ((rv = gq__buf_reserve(out, XERIAL_HEADER_SIZE)) != 0)
		return rv;
	p = out->base + out->len;
	memcpy(p, xerial_magic, sizeof(xerial_magic));
	gq__be32_put(p + 8, XERIAL_VERSION);
	gq__be32_put(p + 12, XERIAL_COMPAT);
	out->len += XERIAL_HEADER_SIZE;
	while (len > 0) {
		chunk = len < XERIAL_CHUNK ? len : XERIAL_CHUNK;
		clen = snappy_max_compressed_length(chunk);
		if ((rv = gq__buf_reserve(out, 4 + clen)) != 0)
			goto err_truncate;
		p = out->base + out->len;
		rv = err_from_snappy(
			snappy_compress(in, chunk, (char *)p + 4, &clen));
		if (rv != 0)
			goto err_truncate;
		/* A 32 KiB chunk compresses to well under 2^31 bytes. */
		gq__be32_put(p, (uint32_t)clen);
		out->len += 4 + clen;
		in += chunk;
		len -= chunk;
	}
	return 0;
err_truncate:
	out->len = start;
	return rv;
}

/* Append one raw snappy block, producing at most @budget bytes. */
static int
raw_decompress(const uint8_t *src, size_t len, size_t budget,
	       struct gq__buf *out)
{
	size_t ulen;
	size_t got;
	int rv;

	/* Reads only the length varint, bounds-checked against @len. */
	if (len == 0 || snappy_uncompressed_length((const char *)src, len,
						   &ulen) != SNAPPY_OK)
		return GQ_ECORRUPT;
	if (ulen > budget)
		return GQ_ETOOBIG;
	if (ulen == 0) {
		/* Nothing to write, and out->base may still be NULL. */
		return err_from_snappy(snappy_validate_compressed_buffer(
			(const char *)src, len));
	}
	if ((rv = gq__buf_reserve(out, ulen)) != 0)
		return rv;
	got = ulen;
	rv = err_from_snappy(snappy_uncompress(
		(const char *)src, len, (char *)out->base + out->len, &got));
	if (rv != 0)
		return rv;
	if (got != ulen)
		return GQ_ECORRUPT;
	out->len += ulen;
	return 0;
}

static int
xerial_decompress(const uint8_t *src, size_t len, size_t max_out,
		  struct gq__buf *out)
{
	size_t start = out->len;
	size_t pos = XERIAL_HEADER_SIZE;
	uint32_t blen;
	int rv;

	/*
	 * The version words are not checked: snappy-java and librdkafka
	 * ignore them too, and every writer uses 1/1.
	 */
	if (len < XERIAL_HEADER_SIZE)
		return GQ_ECORRUPT;
	while (pos < len) {
		if (len - pos < 4)
			return GQ_ECORRUPT;
		blen = gq__be32_get(src + pos);
		pos += 4;
		if (blen == 0 || blen > len - pos)
			return GQ_ECORRUPT;
		rv = raw_decompress(src + pos, blen,
				    max_out - (out->len - start), out);
		if (rv != 0)
			return rv;
		pos += blen;
	}
	return 0;
}

int
gq__codec_snappy_decompress(const void *src, size_t len, size_t max_out,
			    struct gq__buf *out)
{
	size_t start = out->len;
	int rv;

	if (len >= sizeof(xerial_magic) &&
	    memcmp(src, xerial_magic, sizeof(xerial_magic)) == 0)
		rv = xerial_decompress(src, len, max_out, out);
	else
		rv = raw_decompress(src, len, max_out, out);
	if (rv != 0)
		out->len = start;
	return rv;
}

#else /* !GQ_HAVE_SNAPPY */

GQ__CODEC_UNAVAILABLE(snappy)

#endif /* GQ_HAVE_SNAPPY */
