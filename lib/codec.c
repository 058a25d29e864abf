/* SPDX-License-Identifier: MIT */
/*
 * codec.c - the codec name table and the dispatch to the per-library back
 * ends (codec_zlib.c, codec_snappy.c, codec_lz4.c, codec_zstd.c).  This file
 * checks the arguments every back end relies on, so the back ends may assume
 * a valid buffer and a non-NULL source pointer (an empty input is pointed at
 * a static byte, so no back end ever does arithmetic on NULL).
 */
#include "codec.h"

#include <strings.h>

#include "goqueue.h"

/* Indexed by enum gq__codec; the strings are the Kafka configuration values. */
static const char *const codec_names[] = {
	[GQ__CODEC_NONE] = "none",     [GQ__CODEC_GZIP] = "gzip",
	[GQ__CODEC_SNAPPY] = "snappy", [GQ__CODEC_LZ4] = "lz4",
	[GQ__CODEC_ZSTD] = "zstd",
};

#define CODEC_COUNT (sizeof(codec_names) / sizeof(codec_names[0]))

/* What an empty input points at when the caller passed NULL. */
static const uint8_t no_bytes[1];

int
gq__codec_from_name(const char *name, enum gq__codec *out)
{
	size_t i;

	if (name == NULL || out == NULL)
		return GQ_EINVAL;
	for (i = 0; i < CODEC_COUNT; i++) {
		if (strcasecmp(name, codec_names[i]) == 0) {
			*out = (enum gq__codec)i;
			return 0;
		}
	}
	return GQ_EINVAL;
}

const char *
gq__codec_name(enum gq__codec c)
{
	/* Compare as unsigned so a negative value out of the enum is caught. */
	if ((unsigned)c >= CODEC_COUNT)
		return "unknown";
	return codec_names[c];
}

bool
gq__codec_available(enum gq__codec c)
{
	switch (c) {
	case GQ__CODEC_NONE:
	case GQ__CODEC_GZIP:
		return true;
	case GQ__CODEC_SNAPPY:
		return gq__codec_snappy_available();
	case GQ__CODEC_LZ4:
		return gq__codec_lz4_available();
	case GQ__CODEC_ZSTD:
		return gq__codec_zstd_available();
	default:
		return false;
	}
}

int
gq__codec_compress(enum gq__codec c, const void *src, size_t len,
		   struct gq__buf *out)
{
	if (out == NULL || (src == NULL && len > 0))
		return GQ_EINVAL;
	if (src == NULL)
		src = no_bytes;
	switch (c) {
	case GQ__CODEC_GZIP:
		return gq__codec_zlib_compress(src, len, out);
	case GQ__CODEC_SNAPPY:
		return gq__codec_snappy_compress(src, len, out);
	case GQ__CODEC_LZ4:
		return gq__codec_lz4_compress(src, len, out);
	case GQ__CODEC_ZSTD:
		return gq__codec_zstd_compress(src, len, out);
	default:
		/* NONE included: there is nothing to compress "into". */
		return GQ_EINVAL;
	}
}

int
gq__codec_decompress(enum gq__codec c, const void *src, size_t len,
		     size_t max_out, struct gq__buf *out)
{
	if (out == NULL || (src == NULL && len > 0))
		return GQ_EINVAL;
	if (src == NULL)
		src = no_bytes;
	switch (c) {
	case GQ__CODEC_GZIP:
		return gq__codec_zlib_decompress(src, len, max_out, out);
	case GQ__CODEC_SNAPPY:
		return gq__codec_snappy_decompress(src, len, max_out, out);
	case GQ__CODEC_LZ4:
		return gq__codec_lz4_decompress(src, len, max_out, out);
	case GQ__CODEC_ZSTD:
		return gq__codec_zstd_decompress(src, len, max_out, out);
	default:
		return GQ_EINVAL;
	}
}
