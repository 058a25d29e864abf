/* SPDX-License-Identifier: MIT */
/*
 * codec_zstd.c - Kafka's zstd codec (attribute 4) on libzstd.
 *
 * Compression writes one zstd frame (magic 28 B5 2F FD) at level 3, Kafka's
 * and librdkafka's default, with the content size in the header and no
 * checksum, as librdkafka's ZSTD_compress() does.
 *
 * Decompression accepts one or more frames (skippable ones included), with
 * or without a content size: the Java producer's streaming ZstdOutputStream
 * omits it.  It always decodes in one shot into the output buffer, so the
 * decoder never allocates a window: when every frame declares its size the
 * output is reserved once (GQ_ETOOBIG straight away if the total exceeds
 * max_out); otherwise decoding is retried into a buffer that grows 4x per
 * attempt up to max_out, which costs at most ~1/3 extra work and keeps a
 * bomb from allocating more than max_out.
 *
 * The contexts are created with ZSTD_customMem (ZSTD_STATIC_LINKING_ONLY
 * API, unchanged since zstd 1.3) so libzstd allocates through heap.h.
 * Without libzstd this file compiles to stubs returning GQ_EUNSUPPORTED.
 */
#include "codec.h"

#include "goqueue.h"
#include "gq-config.h"

#if GQ_HAVE_ZSTD

#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include "heap.h"

#define ZSTD_KAFKA_LEVEL 3

static void *
zstd_alloc(void *opaque, size_t size)
{
	(void)opaque;
	return gq__malloc(size);
}

static void
zstd_free(void *opaque, void *ptr)
{
	(void)opaque;
	gq__free(ptr);
}

static const ZSTD_customMem zstd_mem = {
	.customAlloc = zstd_alloc,
	.customFree = zstd_free,
	.opaque = NULL,
};

/* Translate a ZSTD result known to be an error. */
static int
err_from_zstd(size_t r, int bad_input)
{
	switch (ZSTD_getErrorCode(r)) {
	case ZSTD_error_memory_allocation:
		return GQ_ENOMEM;
	case ZSTD_error_dstSize_tooSmall:
		return GQ_ETOOBIG;
	default:
		return bad_input;
	}
}

bool
gq__codec_zstd_available(void)
{
	return true;
}

int
gq__codec_zstd_compress(const void *src, size_t len, struct gq__buf *out)
{
	ZSTD_CCtx *cctx;
	size_t bound;
	size_t r;
	int rv;

	bound = ZSTD_compressBound(len);
	if (ZSTD_isError(bound))
		return GQ_ENOMEM; /* input too large to ever fit in memory */
	if ((rv = gq__buf_reserve(out, bound)) != 0)
		return rv;
	if ((cctx = ZSTD_createCCtx_advanced(zstd_mem)) == NULL)
		return GQ_ENOMEM;
	r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel,
				   ZSTD_KAFKA_LEVEL);
	if (!ZSTD_isError(r)) {
		r = ZSTD_compress2(cctx, out->base + out->len,
				   out->cap - out->len, src, len);
	}
	ZSTD_freeCCtx(cctx);
	if (ZSTD_isError(r))
		return err_from_zstd(r, GQ_EINTERNAL);
	out->len += r;
	return 0;
}

/* Decode all of @src into exactly @cap bytes reserved at the end of @out. */
static int
decode_into(ZSTD_DCtx *dctx, const void *src, size_t len, size_t cap,
	    struct gq__buf *out, size_t *produced)
{
	uint8_t dummy;
	size_t r;
	int rv;

	if ((rv = gq__buf_reserve(out, cap)) != 0)
		return rv;
	/* out->base is NULL while nothing was ever reserved. */
	r = ZSTD_decompressDCtx(dctx, cap > 0 ? out->base + out->len : &dummy,
				cap, src, len);
	if (ZSTD_isError(r))
		return err_from_zstd(r, GQ_ECORRUPT);
	*produced = r;
	return 0;
}

int
gq__codec_zstd_decompress(const void *src, size_t len, size_t max_out,
			  struct gq__buf *out)
{
	unsigned long long total;
	ZSTD_DCtx *dctx;
	size_t produced = 0;
	size_t cap;
	int rv;

	/*
	 * Walks the frame headers only (bounds-checked).  Empty input is not
	 * a frame: libzstd would call it zero frames, zero bytes.
	 */
	if (len == 0)
		return GQ_ECORRUPT;
	total = ZSTD_findDecompressedSize(src, len);
	if (total == ZSTD_CONTENTSIZE_ERROR)
		return GQ_ECORRUPT;
	if ((dctx = ZSTD_createDCtx_advanced(zstd_mem)) == NULL)
		return GQ_ENOMEM;
	if (total != ZSTD_CONTENTSIZE_UNKNOWN) {
		if (total > max_out) {
			rv = GQ_ETOOBIG;
			goto out_free;
		}
		rv = decode_into(dctx, src, len, (size_t)total, out, &produced);
		/* The declared sizes are checked by libzstd while decoding. */
		if (rv == GQ_ETOOBIG || (rv == 0 && produced != total))
			rv = GQ_ECORRUPT;
		goto out_free;
	}
	cap = len < max_out / 4 ? len * 4 : max_out;
	if (cap < GQ__CODEC_OUT_STEP)
		cap = GQ__CODEC_OUT_STEP < max_out ? GQ__CODEC_OUT_STEP
						   : max_out;
	for (;;) {
		rv = decode_into(dctx, src, len, cap, out, &produced);
		if (rv != GQ_ETOOBIG || cap == max_out)
			break;
		cap = cap < max_out / 4 ? cap * 4 : max_out;
	}
out_free:
	ZSTD_freeDCtx(dctx);
	if (rv == 0)
		out->len += produced;
	return rv;
}

#else /* !GQ_HAVE_ZSTD */

GQ__CODEC_UNAVAILABLE(zstd)

#endif /* GQ_HAVE_ZSTD */
