/* SPDX-License-Identifier: MIT */
/*
 * codec.h - batch compression in the byte formats Kafka clients use
 * (KAFKA-PROTOCOL.md section 2.4).  codec.c dispatches on the codec and owns
 * the name table; each codec_<lib>.c owns one compression library (zlib,
 * snappy, lz4, zstd), translates that library's error codes to GQ_E* and
 * routes its allocations through heap.h.  A codec whose library was not
 * found at configure time compiles to stubs that return GQ_EUNSUPPORTED.
 *
 * Output is always APPENDED to a struct gq__buf (buf.h); on error the buffer
 * keeps its previous length (bytes past it may have been scribbled on).
 * Decompression never produces more than max_out bytes and never grows the
 * buffer for more (gq__buf_reserve() may round its capacity up to a power of
 * two); the libraries' own working memory, bounded and independent of the
 * claimed output size, comes on top (see each codec_*.c).  Input is treated
 * as hostile: corrupt or truncated input gives GQ_ECORRUPT, never a crash or
 * an out-of-bounds read.
 */
#ifndef GQ_CODEC_H
#define GQ_CODEC_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The values are the Kafka RecordBatch attribute bits 0-2. */
enum gq__codec {
	GQ__CODEC_NONE = 0,
	GQ__CODEC_GZIP = 1,
	GQ__CODEC_SNAPPY = 2,
	GQ__CODEC_LZ4 = 3,
	GQ__CODEC_ZSTD = 4
};

/*
 * Name <-> value: "none", "gzip", "snappy", "lz4", "zstd" (case-insensitive
 * parse).  0 and *out set, or GQ_EINVAL on an unknown name or NULL argument.
 */
int gq__codec_from_name(const char *name, enum gq__codec *out);

/* Static lower-case name of @c; "unknown" for values outside the enum. */
const char *gq__codec_name(enum gq__codec c);

/* True if @c can be used here: NONE and GZIP always, the others if built. */
bool gq__codec_available(enum gq__codec c);

/*
 * Compress @len bytes of @src (borrowed; may be NULL when @len is 0) and
 * APPEND the result to @out in the format Kafka producers write: a gzip
 * member; snappy in xerial framing (32 KiB chunks); an LZ4 frame with
 * independent 64 KiB blocks and a correct header checksum; a zstd frame.
 * 0, GQ_EINVAL (bad codec or NONE), GQ_EUNSUPPORTED (not built), GQ_ENOMEM,
 * GQ_EINTERNAL.
 */
int gq__codec_compress(enum gq__codec c, const void *src, size_t len,
		       struct gq__buf *out);

/*
 * Decompress @len bytes of @src (borrowed) and APPEND to @out, producing at
 * most @max_out bytes.  Accepts multi-member gzip, raw or xerial-framed
 * snappy, LZ4 frames (also with the Kafka 0.8 broken header checksum) and
 * zstd frames with or without a content size, concatenated frames included.
 * 0, GQ_EINVAL, GQ_EUNSUPPORTED, GQ_ENOMEM, GQ_ETOOBIG (output would exceed
 * @max_out) or GQ_ECORRUPT (corrupt or truncated input).
 */
int gq__codec_decompress(enum gq__codec c, const void *src, size_t len,
			 size_t max_out, struct gq__buf *out);

/*
 * Per-library back ends, with the contracts of gq__codec_compress() and
 * gq__codec_decompress() for one codec, except that @src must not be NULL
 * (codec.c checks the arguments).  Each returns GQ_EUNSUPPORTED when its
 * library is not built in.
 */
int gq__codec_zlib_compress(const void *src, size_t len, struct gq__buf *out);
int gq__codec_zlib_decompress(const void *src, size_t len, size_t max_out,
			      struct gq__buf *out);
int gq__codec_snappy_compress(const void *src, size_t len, struct gq__buf *out);
int gq__codec_snappy_decompress(const void *src, size_t len, size_t max_out,
				struct gq__buf *out);
int gq__codec_lz4_compress(const void *src, size_t len, struct gq__buf *out);
int gq__codec_lz4_decompress(const void *src, size_t len, size_t max_out,
			     struct gq__buf *out);
int gq__codec_zstd_compress(const void *src, size_t len, struct gq__buf *out);
int gq__codec_zstd_decompress(const void *src, size_t len, size_t max_out,
			      struct gq__buf *out);

/* True if the back end's library was found at configure time. */
bool gq__codec_snappy_available(void);
bool gq__codec_lz4_available(void);
bool gq__codec_zstd_available(void);

/* The streaming decoders' first output reservation and minimum step. */
#define GQ__CODEC_OUT_STEP (64 * 1024)

/*
 * Shared by the streaming decoders: make room in @out for more output of a
 * decompression that started at length @start and may produce @max_out bytes
 * in all.  Sets *room to the bytes that may be written at out->base + out->len
 * (0 once max_out is reached: the caller then probes whether more would
 * follow, for GQ_ETOOBIG).  Growth roughly doubles and never asks for more
 * than @max_out in all, so a decompression bomb cannot inflate the buffer.
 */
static inline int
gq__codec_out_room(struct gq__buf *out, size_t start, size_t max_out,
		   size_t *room)
{
	size_t produced = out->len - start;
	size_t left = max_out - produced;
	size_t step;
	int rv;

	if (left == 0) {
		*room = 0;
		return 0;
	}
	if (out->cap == out->len) {
		step = produced > GQ__CODEC_OUT_STEP ? produced
						     : GQ__CODEC_OUT_STEP;
		if ((rv = gq__buf_reserve(out, step < left ? step : left)) != 0)
			return rv;
	}
	*room = out->cap - out->len < left ? out->cap - out->len : left;
	return 0;
}

/* The three functions of a codec whose library this build lacks: not
 * available, and every call GQ_EUNSUPPORTED. */
#define GQ__CODEC_UNAVAILABLE(name)                                            \
	bool gq__codec_##name##_available(void)                                \
	{                                                                      \
		return false;                                                  \
	}                                                                      \
	int gq__codec_##name##_compress(const void *src, size_t len,           \
					struct gq__buf *out)                   \
	{                                                                      \
		(void)src;                                                     \
		(void)len;                                                     \
		(void)out;                                                     \
		return GQ_EUNSUPPORTED;                                        \
	}                                                                      \
	int gq__codec_##name##_decompress(const void *src, size_t len,         \
					  size_t max_out, struct gq__buf *out) \
	{                                                                      \
		(void)src;                                                     \
		(void)len;                                                     \
		(void)max_out;                                                 \
		(void)out;                                                     \
		return GQ_EUNSUPPORTED;                                        \
	}

#endif /* GQ_CODEC_H */
