/* SPDX-License-Identifier: MIT */
/*
 * codec_zlib.c - Kafka's gzip codec (attribute 1) on zlib.  Compression
 * writes one gzip member (RFC 1952) at zlib's default level, as the Java
 * producer (GZIPOutputStream) and librdkafka do.  Decompression accepts a
 * concatenation of members, as Java's GZIPInputStream does, but unlike it
 * rejects trailing bytes that are not a gzip member: a Kafka batch payload
 * is exactly its compressed bytes, so junk after it means corruption.
 *
 * zlib allocates through gq__malloc() (zalloc/zfree), and its Z_* codes are
 * translated here and never leave this file.  zlib counts in uInt, so inputs
 * and outputs larger than UINT_MAX are fed to it in pieces.
 */
#include "codec.h"

#include <limits.h>
#include <stdint.h>
#include <zlib.h>

#include "goqueue.h"
#include "heap.h"

/* windowBits for deflateInit2()/inflateInit2(): 32 KiB window, gzip wrapper. */
#define GZIP_WINDOW_BITS (16 + MAX_WBITS)

static voidpf
zlib_alloc(voidpf opaque, uInt items, uInt size)
{
	(void)opaque;
	/* Two uInt factors cannot overflow a 64-bit size_t; check anyway. */
	if (size != 0 && items > SIZE_MAX / size)
		return Z_NULL;
	return gq__malloc((size_t)items * size);
}

static void
zlib_free(voidpf opaque, voidpf ptr)
{
	(void)opaque;
	gq__free(ptr);
}

/* Translate a zlib error; Z_DATA_ERROR and friends mean bad input. */
static int
err_from_zlib(int zrv)
{
	switch (zrv) {
	case Z_OK:
	case Z_STREAM_END:
		return 0;
	case Z_MEM_ERROR:
		return GQ_ENOMEM;
	case Z_DATA_ERROR:
	case Z_NEED_DICT:
	case Z_BUF_ERROR:
		return GQ_ECORRUPT;
	default:
		return GQ_EINTERNAL;
	}
}

static uInt
clamp_uint(size_t n)
{
	return n > UINT_MAX ? UINT_MAX : (uInt)n;
}

int
gq__codec_zlib_compress(const void *src, size_t len, struct gq__buf *out)
{
	z_stream zs = { 0 };
	const uint8_t *in = src;
	size_t in_left = len;
	size_t start = out->len;
	uInt avail_in;
	uInt avail_out;
	int flush;
	int zrv;
	int rv;

	zs.zalloc = zlib_alloc;
	zs.zfree = zlib_free;
	zs.opaque = Z_NULL;
	zrv = deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
			   GZIP_WINDOW_BITS, 8, Z_DEFAULT_STRATEGY);
	if (zrv != Z_OK)
		return zrv == Z_MEM_ERROR ? GQ_ENOMEM : GQ_EINTERNAL;
	/* One reservation is enough for all but multi-GiB inputs. */
	if ((rv = gq__buf_reserve(out, deflateBound(&zs, len))) != 0)
		goto err_end;
	for (;;) {
		if (out->cap == out->len &&
		    (rv = gq__buf_reserve(out, GQ__CODEC_OUT_STEP)) != 0)
			goto err_end;
		avail_in = clamp_uint(in_left);
		avail_out = clamp_uint(out->cap - out->len);
		flush = in_left == avail_in ? Z_FINISH : Z_NO_FLUSH;
		zs.next_in = (Bytef *)(uintptr_t)in;
		zs.avail_in = avail_in;
		zs.next_out = out->base + out->len;
		zs.avail_out = avail_out;
		zrv = deflate(&zs, flush);
		in += avail_in - zs.avail_in;
		in_left -= avail_in - zs.avail_in;
		out->len += avail_out - zs.avail_out;
		if (zrv == Z_STREAM_END)
			break;
		/* Z_BUF_ERROR only says "no progress": the loop adds room. */
		if (zrv != Z_OK && zrv != Z_BUF_ERROR) {
			rv = GQ_EINTERNAL;
			goto err_end;
		}
	}
	deflateEnd(&zs);
	return 0;
err_end:
	deflateEnd(&zs);
	out->len = start;
	return rv;
}

int
gq__codec_zlib_decompress(const void *src, size_t len, size_t max_out,
			  struct gq__buf *out)
{
	z_stream zs = { 0 };
	const uint8_t *in = src;
	size_t in_left = len;
	size_t start = out->len;
	size_t room;
	uint8_t probe;
	uInt avail_in;
	uInt avail_out;
	int zrv;
	int rv;

	zs.zalloc = zlib_alloc;
	zs.zfree = zlib_free;
	zs.opaque = Z_NULL;
	if ((zrv = inflateInit2(&zs, GZIP_WINDOW_BITS)) != Z_OK)
		return zrv == Z_MEM_ERROR ? GQ_ENOMEM : GQ_EINTERNAL;
	for (;;) {
		if ((rv = gq__codec_out_room(out, start, max_out, &room)) != 0)
			goto err_end;
		avail_in = clamp_uint(in_left);
		zs.next_in = (Bytef *)(uintptr_t)in;
		zs.avail_in = avail_in;
		if (room > 0) {
			avail_out = clamp_uint(room);
			zs.next_out = out->base + out->len;
		} else {
			/*
			 * max_out reached: inflate into one scratch byte to
			 * learn whether the stream ends here or goes on.
			 */
			avail_out = 1;
			zs.next_out = &probe;
		}
		zs.avail_out = avail_out;
		zrv = inflate(&zs, Z_NO_FLUSH);
		in += avail_in - zs.avail_in;
		in_left -= avail_in - zs.avail_in;
		if (room == 0 && zs.avail_out == 0) {
			rv = GQ_ETOOBIG;
			goto err_end;
		}
		if (room > 0)
			out->len += avail_out - zs.avail_out;
		if (zrv == Z_STREAM_END) {
			if (in_left == 0)
				break;
			/* Another member follows (Java GZIPInputStream). */
			if (inflateReset(&zs) != Z_OK) {
				rv = GQ_EINTERNAL;
				goto err_end;
			}
			continue;
		}
		/*
		 * With input and output space left inflate() always makes
		 * progress, so Z_BUF_ERROR means the input ended early.
		 */
		if (zrv != Z_OK) {
			rv = err_from_zlib(zrv);
			goto err_end;
		}
	}
	inflateEnd(&zs);
	return 0;
err_end:
	inflateEnd(&zs);
	out->len = start;
	return rv;
}
