/* SPDX-License-Identifier: MIT */
/*
 * codec_lz4.c - Kafka's lz4 codec (attribute 3) on liblz4's frame API.
 *
 * Compression writes what librdkafka and the Java producer write for
 * magic-2 batches: one LZ4 frame with FLG 0x60 (version 01, independent
 * blocks, no block or content checksum, no content size), BD 0x40 (64 KiB
 * maximum block size) and the correct header checksum, i.e. the header
 * 04 22 4D 18 60 40 82.
 *
 * Decompression accepts any valid frame (any block size, checksums, content
 * size, concatenated and skippable frames), and also the header checksum of
 * Kafka 0.8's KafkaLZ4BlockOutputStream, which hashed the magic number too:
 * HC = (XXH32(magic..descriptor) >> 8) & 0xFF instead of XXH32(descriptor).
 * Such a header is fixed up in a copy before liblz4 sees it.  The decoder's
 * working memory (up to 2 x 4 MiB for 4 MiB blocks) is allocated through
 * gq__malloc() but is not counted against max_out.
 *
 * The LZ4F contexts are created with LZ4F_CustomMem (LZ4F_STATIC_LINKING_ONLY
 * API, exported by liblz4 >= 1.9.4 as shipped in Debian 12) so that liblz4
 * allocates through heap.h.  Without liblz4 this file compiles to stubs
 * returning GQ_EUNSUPPORTED.
 */
#include "codec.h"

#include "goqueue.h"
#include "gq-config.h"

#if GQ_HAVE_LZ4

#define LZ4F_STATIC_LINKING_ONLY
#include <lz4frame.h>

#include "heap.h"

#define LZ4_MAGIC           0x184D2204u
#define LZ4_HEADER_MIN      7
#define LZ4_FLG_CONTENTSIZE 0x08
#define LZ4_FLG_DICTID      0x01

static void *
lz4_alloc(void *opaque, size_t size)
{
	(void)opaque;
	return gq__malloc(size);
}

static void *
lz4_calloc(void *opaque, size_t size)
{
	(void)opaque;
	return gq__calloc(1, size);
}

static void
lz4_free(void *opaque, void *ptr)
{
	(void)opaque;
	gq__free(ptr);
}

static const LZ4F_CustomMem lz4_mem = {
	.customAlloc = lz4_alloc,
	.customCalloc = lz4_calloc,
	.customFree = lz4_free,
	.opaqueState = NULL,
};

/* Translate an LZ4F result known to be an error. */
static int
err_from_lz4(size_t r, int bad_input)
{
	switch (LZ4F_getErrorCode(r)) {
	case LZ4F_ERROR_allocation_failed:
		return GQ_ENOMEM;
	case LZ4F_ERROR_parameter_null:
	case LZ4F_ERROR_srcPtr_wrong:
	case LZ4F_ERROR_frameDecoding_alreadyStarted:
	case LZ4F_ERROR_compressionState_uninitialized:
		return GQ_EINTERNAL;
	default:
		/* Decode errors blame the bytes; encode errors are ours. */
		return bad_input;
	}
}

/*
 * XXH32 (https://github.com/Cyan4973/xxHash), needed to recognise the
 * broken header checksum; liblz4 does not export its copy.
 */
#define XXH_P1 2654435761u
#define XXH_P2 2246822519u
#define XXH_P3 3266489917u
#define XXH_P4 668265263u
#define XXH_P5 374761393u

static uint32_t
xxh_rotl(uint32_t x, unsigned r)
{
	return (x << r) | (x >> (32 - r));
}

static uint32_t
xxh_round(uint32_t acc, uint32_t input)
{
	acc += input * XXH_P2;
	return xxh_rotl(acc, 13) * XXH_P1;
}

static uint32_t
xxh32(const uint8_t *p, size_t len, uint32_t seed)
{
	const uint8_t *end = p + len;
	uint32_t v[4];
	uint32_t h;

	if (len >= 16) {
		v[0] = seed + XXH_P1 + XXH_P2;
		v[1] = seed + XXH_P2;
		v[2] = seed;
		v[3] = seed - XXH_P1;
		for (; end - p >= 16; p += 16) {
			v[0] = xxh_round(v[0], gq__le32_get(p));
			v[1] = xxh_round(v[1], gq__le32_get(p + 4));
			v[2] = xxh_round(v[2], gq__le32_get(p + 8));
			v[3] = xxh_round(v[3], gq__le32_get(p + 12));
		}
		h = xxh_rotl(v[0], 1) + xxh_rotl(v[1], 7) + xxh_rotl(v[2], 12) +
		    xxh_rotl(v[3], 18);
	} else {
		h = seed + XXH_P5;
	}
	h += (uint32_t)len;
	for (; end - p >= 4; p += 4)
		h = xxh_rotl(h + gq__le32_get(p) * XXH_P3, 17) * XXH_P4;
	for (; p < end; p++)
		h = xxh_rotl(h + *p * XXH_P5, 11) * XXH_P1;
	h ^= h >> 15;
	h *= XXH_P2;
	h ^= h >> 13;
	h *= XXH_P3;
	h ^= h >> 16;
	return h;
}

/*
 * If @src starts with a frame header carrying Kafka 0.8's broken checksum,
 * copy the header into @fixed with the correct checksum and return its
 * length; otherwise return 0 and let liblz4 judge the header.
 */
static size_t
fix_broken_header(const uint8_t *src, size_t len,
		  uint8_t fixed[LZ4F_HEADER_SIZE_MAX])
{
	size_t hlen = LZ4_HEADER_MIN;
	uint8_t hc;

	if (len < LZ4_HEADER_MIN || gq__le32_get(src) != LZ4_MAGIC)
		return 0;
	if (src[4] & LZ4_FLG_CONTENTSIZE)
		hlen += 8;
	if (src[4] & LZ4_FLG_DICTID)
		hlen += 4;
	if (len < hlen)
		return 0;
	hc = (uint8_t)(xxh32(src + 4, hlen - 5, 0) >> 8);
	if (src[hlen - 1] == hc ||
	    src[hlen - 1] != (uint8_t)(xxh32(src, hlen - 1, 0) >> 8))
		return 0;
	memcpy(fixed, src, hlen - 1);
	fixed[hlen - 1] = hc;
	return hlen;
}

bool
gq__codec_lz4_available(void)
{
	return true;
}

int
gq__codec_lz4_compress(const void *src, size_t len, struct gq__buf *out)
{
	LZ4F_preferences_t prefs = { 0 };
	LZ4F_cctx *cctx;
	size_t start = out->len;
	size_t bound;
	size_t r;
	int rv;

	prefs.frameInfo.blockSizeID = LZ4F_max64KB;
	prefs.frameInfo.blockMode = LZ4F_blockIndependent;
	prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
	prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
	/* autoFlush with independent blocks needs no staging buffer. */
	prefs.autoFlush = 1;
	cctx = LZ4F_createCompressionContext_advanced(lz4_mem, LZ4F_VERSION);
	if (cctx == NULL)
		return GQ_ENOMEM;
	/* Worst case of header + every block + end mark. */
	bound = LZ4F_compressBound(len, &prefs);
	if (bound > SIZE_MAX - LZ4F_HEADER_SIZE_MAX) {
		rv = GQ_ENOMEM;
		goto err_free;
	}
	if ((rv = gq__buf_reserve(out, LZ4F_HEADER_SIZE_MAX + bound)) != 0)
		goto err_free;
	r = LZ4F_compressBegin(cctx, out->base + out->len, out->cap - out->len,
			       &prefs);
	if (LZ4F_isError(r))
		goto err_lz4;
	out->len += r;
	if (len > 0) {
		r = LZ4F_compressUpdate(cctx, out->base + out->len,
					out->cap - out->len, src, len, NULL);
		if (LZ4F_isError(r))
			goto err_lz4;
		out->len += r;
	}
	r = LZ4F_compressEnd(cctx, out->base + out->len, out->cap - out->len,
			     NULL);
	if (LZ4F_isError(r))
		goto err_lz4;
	out->len += r;
	LZ4F_freeCompressionContext(cctx);
	return 0;
err_lz4:
	rv = err_from_lz4(r, GQ_EINTERNAL);
err_free:
	LZ4F_freeCompressionContext(cctx);
	out->len = start;
	return rv;
}

int
gq__codec_lz4_decompress(const void *src, size_t len, size_t max_out,
			 struct gq__buf *out)
{
	uint8_t fixed[LZ4F_HEADER_SIZE_MAX];
	const uint8_t *in = src;
	LZ4F_dctx *dctx;
	size_t start = out->len;
	size_t in_left = len;
	size_t fixed_len;
	size_t room;
	size_t src_size;
	size_t dst_size;
	size_t r;
	uint8_t probe;
	int rv;

	dctx = LZ4F_createDecompressionContext_advanced(lz4_mem, LZ4F_VERSION);
	if (dctx == NULL)
		return GQ_ENOMEM;
	/* Only the first frame can come from Kafka 0.8; check it once. */
	fixed_len = fix_broken_header(in, in_left, fixed);
	for (;;) {
		if ((rv = gq__codec_out_room(out, start, max_out, &room)) != 0)
			goto err_free;
		/* At max_out, one scratch byte tells whether more follows. */
		dst_size = room > 0 ? room : 1;
		if (fixed_len > 0) {
			src_size = fixed_len;
			r = LZ4F_decompress(
				dctx, room > 0 ? out->base + out->len : &probe,
				&dst_size, fixed, &src_size, NULL);
			/* The header is consumed whole, and no data with it. */
			if (!LZ4F_isError(r) && src_size != fixed_len) {
				rv = GQ_ECORRUPT;
				goto err_free;
			}
			fixed_len = 0;
		} else {
			src_size = in_left;
			r = LZ4F_decompress(
				dctx, room > 0 ? out->base + out->len : &probe,
				&dst_size, in, &src_size, NULL);
		}
		if (LZ4F_isError(r))
			goto err_lz4;
		in += src_size;
		in_left -= src_size;
		if (room == 0 && dst_size > 0) {
			rv = GQ_ETOOBIG;
			goto err_free;
		}
		out->len += dst_size;
		/* 0: a frame ended exactly here; another may follow. */
		if (r == 0 && in_left == 0)
			break;
		/*
		 * No progress: liblz4 wants more input and there is none
		 * (truncated).  Also a guard against looping forever.
		 */
		if (src_size == 0 && dst_size == 0) {
			rv = GQ_ECORRUPT;
			goto err_free;
		}
	}
	LZ4F_freeDecompressionContext(dctx);
	return 0;
err_lz4:
	rv = err_from_lz4(r, GQ_ECORRUPT);
err_free:
	LZ4F_freeDecompressionContext(dctx);
	out->len = start;
	return rv;
}

#else /* !GQ_HAVE_LZ4 */

GQ__CODEC_UNAVAILABLE(lz4)

#endif /* GQ_HAVE_LZ4 */
