/* SPDX-License-Identifier: MIT */
/*
 * test_codec.c - the compression codecs: round trips at every interesting
 * size, the max_out limit (decompression bombs), truncated and bit-flipped
 * input, allocation failures, the byte formats Kafka producers write, and
 * decoding of fixed vectors made by other implementations (python's gzip,
 * the lz4 and zstd command-line tools, a hand-assembled snappy block).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gq-config.h"
#if GQ_HAVE_SNAPPY
#include <snappy-c.h>
#endif
#if GQ_HAVE_LZ4
#include <lz4frame.h>
#endif
#if GQ_HAVE_ZSTD
#include <zstd.h>
#endif

#include "buf.h"
#include "codec.h"
#include "goqueue.h"

TestSuite(codec, .timeout = 60);

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

static enum gq__codec all_codecs[] = { GQ__CODEC_GZIP, GQ__CODEC_SNAPPY,
				       GQ__CODEC_LZ4, GQ__CODEC_ZSTD };

/* Every parameterized test runs once per codec. */
#define CODEC_PARAMS(test)                                                 \
	ParameterizedTestParameters(codec, test)                           \
	{                                                                  \
		return cr_make_param_array(enum gq__codec, all_codecs,     \
					   sizeof(all_codecs) /            \
						   sizeof(all_codecs[0])); \
	}

static void
skip_unless_available(enum gq__codec c)
{
	if (!gq__codec_available(c))
		cr_skip_test("%s not built in", gq__codec_name(c));
}

/* Deterministic xorshift so failures reproduce. */
static uint64_t
rnd_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint8_t *
make_random(size_t n, uint64_t seed)
{
	uint8_t *p;
	uint64_t x = seed | 1;
	size_t i;

	p = malloc(n ? n : 1);
	cr_assert(p != NULL);
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(rnd_next(&x) >> 24);
	return p;
}

/* Text-like data drawn from a small vocabulary: compresses 3-5x. */
static uint8_t *
make_text(size_t n, uint64_t seed)
{
	static const char *const words[] = { "kafka ",     "queue ",  "raft ",
					     "offset ",    "batch ",  "topic ",
					     "partition ", "leader ", "\n" };
	uint8_t *p;
	uint64_t x = seed | 1;
	const char *w;
	size_t i = 0;
	size_t k;

	p = malloc(n ? n : 1);
	cr_assert(p != NULL);
	while (i < n) {
		w = words[rnd_next(&x) % 9];
		for (k = 0; w[k] != '\0' && i < n; k++)
			p[i++] = (uint8_t)w[k];
	}
	return p;
}

static size_t
hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		cr_assert(n < cap && sscanf(hex, "%2x", &v) == 1);
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

/* Compress @n bytes, decompress them, and compare; returns nothing. */
static void
check_round_trip(enum gq__codec c, const uint8_t *data, size_t n)
{
	struct gq__buf z = GQ__BUF_INIT;
	struct gq__buf out = GQ__BUF_INIT;

	cr_assert(eq(int, gq__codec_compress(c, data, n, &z), 0));
	cr_assert(eq(int, gq__codec_decompress(c, z.base, z.len, n, &out), 0),
		  "%s, %zu bytes", gq__codec_name(c), n);
	cr_assert(eq(sz, out.len, n));
	cr_assert(n == 0 || memcmp(out.base, data, n) == 0,
		  "%s: %zu bytes differ", gq__codec_name(c), n);
	gq__buf_free(&z);
	gq__buf_free(&out);
}

/* Decode @hex with @c and expect @want (NUL-terminated) back. */
static void
check_vector(enum gq__codec c, const char *hex, const char *want)
{
	struct gq__buf out = GQ__BUF_INIT;
	uint8_t in[256];
	size_t n;

	n = hex_decode(hex, in, sizeof(in));
	cr_assert(eq(int, gq__codec_decompress(c, in, n, 1024, &out), 0),
		  "%s vector %s", gq__codec_name(c), hex);
	cr_assert(eq(sz, out.len, strlen(want)));
	cr_assert(out.len == 0 || memcmp(out.base, want, out.len) == 0);
	gq__buf_free(&out);
}

/*
 * A counting, failure-injecting heap installed with gq_heap_set(): tracks
 * live and peak bytes, and fails the allocation numbered fail_at.
 */
struct theap {
	size_t live;
	size_t peak;
	long calls;
	long fail_at; /* -1: never */
};

static struct theap th;

#define THDR 16 /* keeps max_align_t alignment */

static void *
t_malloc(void *data, size_t size)
{
	uint8_t *p;

	(void)data;
	if (th.fail_at >= 0 && th.calls++ == th.fail_at)
		return NULL;
	if (size > SIZE_MAX - THDR || (p = malloc(THDR + size)) == NULL)
		return NULL;
	memcpy(p, &size, sizeof(size));
	th.live += size;
	if (th.live > th.peak)
		th.peak = th.live;
	return p + THDR;
}

static void *
t_calloc(void *data, size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	if ((p = t_malloc(data, nmemb * size)) != NULL)
		memset(p, 0, nmemb * size);
	return p;
}

static void *
t_realloc(void *data, void *ptr, size_t size)
{
	uint8_t *h;
	size_t old;

	if (ptr == NULL)
		return t_malloc(data, size);
	if (th.fail_at >= 0 && th.calls++ == th.fail_at)
		return NULL;
	h = (uint8_t *)ptr - THDR;
	memcpy(&old, h, sizeof(old));
	if (size > SIZE_MAX - THDR || (h = realloc(h, THDR + size)) == NULL)
		return NULL;
	memcpy(h, &size, sizeof(size));
	th.live = th.live - old + size;
	if (th.live > th.peak)
		th.peak = th.live;
	return h + THDR;
}

static void
t_free(void *data, void *ptr)
{
	uint8_t *h;
	size_t old;

	(void)data;
	if (ptr == NULL)
		return;
	h = (uint8_t *)ptr - THDR;
	memcpy(&old, h, sizeof(old));
	th.live -= old;
	free(h);
}

static const struct gq_heap test_heap = {
	.malloc = t_malloc,
	.calloc = t_calloc,
	.realloc = t_realloc,
	.free = t_free,
};

static void
theap_install(long fail_at)
{
	memset(&th, 0, sizeof(th));
	th.fail_at = fail_at;
	cr_assert(eq(int, gq_heap_set(&test_heap), 0));
}

/* ---------------------------------------------------------------------- */
/* Names and arguments                                                     */
/* ---------------------------------------------------------------------- */

/* Names parse case-insensitively to the Kafka attribute values. */
Test(codec, name_parse)
{
	enum gq__codec c = GQ__CODEC_NONE;

	cr_assert(eq(int, gq__codec_from_name("none", &c), 0));
	cr_assert(eq(int, c, 0));
	cr_assert(eq(int, gq__codec_from_name("GZIP", &c), 0));
	cr_assert(eq(int, c, 1));
	cr_assert(eq(int, gq__codec_from_name("Snappy", &c), 0));
	cr_assert(eq(int, c, 2));
	cr_assert(eq(int, gq__codec_from_name("lz4", &c), 0));
	cr_assert(eq(int, c, 3));
	cr_assert(eq(int, gq__codec_from_name("zStd", &c), 0));
	cr_assert(eq(int, c, 4));
}

/* Unknown names, prefixes, empty and NULL are GQ_EINVAL; *out untouched. */
Test(codec, name_parse_invalid)
{
	enum gq__codec c = GQ__CODEC_LZ4;

	cr_assert(eq(int, gq__codec_from_name("lzo", &c), GQ_EINVAL));
	cr_assert(eq(int, gq__codec_from_name("gzi", &c), GQ_EINVAL));
	cr_assert(eq(int, gq__codec_from_name("gzip ", &c), GQ_EINVAL));
	cr_assert(eq(int, gq__codec_from_name("", &c), GQ_EINVAL));
	cr_assert(eq(int, gq__codec_from_name(NULL, &c), GQ_EINVAL));
	cr_assert(eq(int, gq__codec_from_name("gzip", NULL), GQ_EINVAL));
	cr_assert(eq(int, c, GQ__CODEC_LZ4));
}

/* Values name themselves; anything outside the enum is "unknown". */
Test(codec, name_of_value)
{
	cr_assert(eq(str, (char *)gq__codec_name(GQ__CODEC_NONE), "none"));
	cr_assert(eq(str, (char *)gq__codec_name(GQ__CODEC_GZIP), "gzip"));
	cr_assert(eq(str, (char *)gq__codec_name(GQ__CODEC_SNAPPY), "snappy"));
	cr_assert(eq(str, (char *)gq__codec_name(GQ__CODEC_LZ4), "lz4"));
	cr_assert(eq(str, (char *)gq__codec_name(GQ__CODEC_ZSTD), "zstd"));
	cr_assert(
		eq(str, (char *)gq__codec_name((enum gq__codec)5), "unknown"));
	cr_assert(eq(str, (char *)gq__codec_name((enum gq__codec) - 1),
		     "unknown"));
}

/* NONE and gzip are always there; the others follow gq-config.h. */
Test(codec, available)
{
	cr_assert(gq__codec_available(GQ__CODEC_NONE));
	cr_assert(gq__codec_available(GQ__CODEC_GZIP));
	cr_assert(
		eq(int, gq__codec_available(GQ__CODEC_SNAPPY), GQ_HAVE_SNAPPY));
	cr_assert(eq(int, gq__codec_available(GQ__CODEC_LZ4), GQ_HAVE_LZ4));
	cr_assert(eq(int, gq__codec_available(GQ__CODEC_ZSTD), GQ_HAVE_ZSTD));
	cr_assert(not(gq__codec_available((enum gq__codec)7)));
}

/* NONE, out-of-range codecs and NULL pointers are GQ_EINVAL. */
Test(codec, invalid_arguments)
{
	struct gq__buf out = GQ__BUF_INIT;

	cr_assert(eq(int, gq__codec_compress(GQ__CODEC_NONE, "x", 1, &out),
		     GQ_EINVAL));
	cr_assert(eq(int, gq__codec_compress((enum gq__codec)9, "x", 1, &out),
		     GQ_EINVAL));
	cr_assert(eq(int,
		     gq__codec_decompress(GQ__CODEC_NONE, "x", 1, 10, &out),
		     GQ_EINVAL));
	cr_assert(eq(int, gq__codec_compress(GQ__CODEC_GZIP, NULL, 1, &out),
		     GQ_EINVAL));
	cr_assert(eq(int, gq__codec_compress(GQ__CODEC_GZIP, "x", 1, NULL),
		     GQ_EINVAL));
	cr_assert(eq(int,
		     gq__codec_decompress(GQ__CODEC_GZIP, NULL, 3, 10, &out),
		     GQ_EINVAL));
	cr_assert(eq(sz, out.len, 0));
	gq__buf_free(&out);
}

/* A codec that is not built in answers GQ_EUNSUPPORTED both ways. */
Test(codec, unsupported_when_not_built)
{
	struct gq__buf out = GQ__BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(all_codecs) / sizeof(all_codecs[0]); i++) {
		if (gq__codec_available(all_codecs[i]))
			continue;
		cr_assert(eq(int,
			     gq__codec_compress(all_codecs[i], "x", 1, &out),
			     GQ_EUNSUPPORTED));
		cr_assert(
			eq(int,
			   gq__codec_decompress(all_codecs[i], "x", 1, 9, &out),
			   GQ_EUNSUPPORTED));
	}
	gq__buf_free(&out);
}

/* ---------------------------------------------------------------------- */
/* Round trips                                                             */
/* ---------------------------------------------------------------------- */

CODEC_PARAMS(round_trip_empty)
/* Empty input compresses to a valid stream that decodes to nothing. */
ParameterizedTest(enum gq__codec *c, codec, round_trip_empty)
{
	skip_unless_available(*c);
	check_round_trip(*c, NULL, 0);
	check_round_trip(*c, (const uint8_t *)"", 0);
}

CODEC_PARAMS(round_trip_one_byte)
/* A single byte survives the round trip. */
ParameterizedTest(enum gq__codec *c, codec, round_trip_one_byte)
{
	skip_unless_available(*c);
	check_round_trip(*c, (const uint8_t *)"k", 1);
	check_round_trip(*c, (const uint8_t *)"\0", 1);
}

CODEC_PARAMS(round_trip_random_1mib)
/* 1 MiB of incompressible bytes survives the round trip. */
ParameterizedTest(enum gq__codec *c, codec, round_trip_random_1mib)
{
	uint8_t *data;

	skip_unless_available(*c);
	data = make_random(MiB, 42);
	check_round_trip(*c, data, MiB);
	free(data);
}

CODEC_PARAMS(round_trip_compressible_4mib)
/* 4 MiB of text-like data round-trips and really shrinks (by > 2x). */
ParameterizedTest(enum gq__codec *c, codec, round_trip_compressible_4mib)
{
	struct gq__buf z = GQ__BUF_INIT;
	uint8_t *data;

	skip_unless_available(*c);
	data = make_text(4 * MiB, 7);
	check_round_trip(*c, data, 4 * MiB);
	cr_assert(eq(int, gq__codec_compress(*c, data, 4 * MiB, &z), 0));
	cr_assert(lt(sz, z.len, 2 * MiB), "%s: %zu bytes", gq__codec_name(*c),
		  z.len);
	gq__buf_free(&z);
	free(data);
}

CODEC_PARAMS(round_trip_block_boundaries)
/* Sizes around snappy's 32 KiB chunks and lz4's 64 KiB blocks round-trip. */
ParameterizedTest(enum gq__codec *c, codec, round_trip_block_boundaries)
{
	static const size_t base[] = { 32 * KiB, 64 * KiB, 96 * KiB, 128 * KiB,
				       192 * KiB };
	uint8_t *rnd;
	uint8_t *txt;
	size_t i;
	int d;

	skip_unless_available(*c);
	rnd = make_random(192 * KiB + 1, 3);
	txt = make_text(192 * KiB + 1, 5);
	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		for (d = -1; d <= 1; d++) {
			check_round_trip(*c, rnd, base[i] + (size_t)d);
			check_round_trip(*c, txt, base[i] + (size_t)d);
		}
	}
	free(rnd);
	free(txt);
}

CODEC_PARAMS(appends)
/* Both directions append after existing bytes and leave them alone. */
ParameterizedTest(enum gq__codec *c, codec, appends)
{
	struct gq__buf z = GQ__BUF_INIT;
	struct gq__buf out = GQ__BUF_INIT;
	uint8_t *data;
	size_t zlen;

	skip_unless_available(*c);
	data = make_text(100 * KiB, 11);
	cr_assert(eq(int, gq__buf_append(&z, "PREFIX", 6), 0));
	cr_assert(eq(int, gq__codec_compress(*c, data, 100 * KiB, &z), 0));
	cr_assert(memcmp(z.base, "PREFIX", 6) == 0);
	zlen = z.len - 6;
	cr_assert(eq(int, gq__buf_append(&out, "head", 4), 0));
	cr_assert(
		eq(int,
		   gq__codec_decompress(*c, z.base + 6, zlen, 100 * KiB, &out),
		   0));
	cr_assert(eq(sz, out.len, 4 + 100 * KiB));
	cr_assert(memcmp(out.base, "head", 4) == 0);
	cr_assert(memcmp(out.base + 4, data, 100 * KiB) == 0);
	/* max_out counts only the new bytes, not what was there before. */
	out.len = 4;
	cr_assert(eq(
		int,
		gq__codec_decompress(*c, z.base + 6, zlen, 100 * KiB - 1, &out),
		GQ_ETOOBIG));
	cr_assert(eq(sz, out.len, 4));
	gq__buf_free(&z);
	gq__buf_free(&out);
	free(data);
}

/* ---------------------------------------------------------------------- */
/* The max_out limit                                                       */
/* ---------------------------------------------------------------------- */

CODEC_PARAMS(max_out_exact)
/* Output of exactly max_out bytes is fine; one byte less is GQ_ETOOBIG. */
ParameterizedTest(enum gq__codec *c, codec, max_out_exact)
{
	static const size_t sizes[] = { 1, 1000, 64 * KiB, 200 * KiB + 3 };
	struct gq__buf z = GQ__BUF_INIT;
	struct gq__buf out = GQ__BUF_INIT;
	uint8_t *data;
	size_t i;

	skip_unless_available(*c);
	data = make_text(200 * KiB + 3, 13);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		z.len = 0;
		out.len = 0;
		cr_assert(
			eq(int, gq__codec_compress(*c, data, sizes[i], &z), 0));
		cr_assert(eq(
			int,
			gq__codec_decompress(*c, z.base, z.len, sizes[i], &out),
			0));
		cr_assert(eq(sz, out.len, sizes[i]));
		cr_assert(eq(int,
			     gq__codec_decompress(*c, z.base, z.len,
						  sizes[i] - 1, &out),
			     GQ_ETOOBIG));
		cr_assert(eq(sz, out.len, sizes[i]));
	}
	/* Empty output fits in max_out 0. */
	z.len = 0;
	out.len = 0;
	cr_assert(eq(int, gq__codec_compress(*c, data, 0, &z), 0));
	cr_assert(eq(int, gq__codec_decompress(*c, z.base, z.len, 0, &out), 0));
	cr_assert(eq(sz, out.len, 0));
	gq__buf_free(&z);
	gq__buf_free(&out);
	free(data);
}

/* Decompress @z with max_out 1 MiB under the counting heap: GQ_ETOOBIG. */
static void
check_bomb(enum gq__codec c, const struct gq__buf *z)
{
	struct gq__buf out = GQ__BUF_INIT;
	size_t peak;
	int rv;

	theap_install(-1);
	rv = gq__codec_decompress(c, z->base, z->len, MiB, &out);
	peak = th.peak;
	gq__buf_free(&out);
	cr_assert(eq(sz, th.live, 0));
	gq_heap_set(NULL);
	cr_assert(eq(int, rv, GQ_ETOOBIG), "%s", gq__codec_name(c));
	/* max_out plus the decoders' working memory, far from 10 MiB. */
	cr_assert(le(sz, peak, MiB + 512 * KiB), "%s: peak %zu bytes",
		  gq__codec_name(c), peak);
}

CODEC_PARAMS(max_out_bomb)
/* 10 MiB of zeros with max_out 1 MiB is GQ_ETOOBIG without a big allocation. */
ParameterizedTest(enum gq__codec *c, codec, max_out_bomb)
{
	struct gq__buf z = GQ__BUF_INIT;
	uint8_t *zeros;

	skip_unless_available(*c);
	zeros = calloc(1, 10 * MiB);
	cr_assert(zeros != NULL);
	cr_assert(eq(int, gq__codec_compress(*c, zeros, 10 * MiB, &z), 0));
	free(zeros);
	cr_assert(lt(sz, z.len, MiB));
	check_bomb(*c, &z);
	gq__buf_free(&z);
}

#if GQ_HAVE_ZSTD
/* Compress @n bytes as a zstd stream whose header has no content size. */
static void
zstd_stream_compress(const void *src, size_t n, struct gq__buf *z)
{
	ZSTD_CCtx *cctx;
	ZSTD_inBuffer in = { src, 0, 0 };
	ZSTD_outBuffer o;
	size_t r;

	cctx = ZSTD_createCCtx();
	cr_assert(cctx != NULL);
	cr_assert(eq(int, gq__buf_reserve(z, ZSTD_compressBound(n) + 4096), 0));
	o.dst = z->base + z->len;
	o.size = z->cap - z->len;
	o.pos = 0;
	/* Feed 64 KiB pieces like a stream writer: the size stays unknown. */
	while (in.size < n) {
		in.size = n - in.size > 64 * KiB ? in.size + 64 * KiB : n;
		r = ZSTD_compressStream2(cctx, &o, &in, ZSTD_e_continue);
		cr_assert(not(ZSTD_isError(r)));
	}
	do {
		r = ZSTD_compressStream2(cctx, &o, &in, ZSTD_e_end);
		cr_assert(not(ZSTD_isError(r)));
	} while (r != 0);
	z->len += o.pos;
	ZSTD_freeCCtx(cctx);
	cr_assert(eq(u64, ZSTD_getFrameContentSize(z->base, z->len),
		     ZSTD_CONTENTSIZE_UNKNOWN));
}
#endif

/* A zstd stream without content size (Java's ZstdOutputStream) decodes. */
Test(codec, zstd_stream_without_content_size)
{
#if GQ_HAVE_ZSTD
	struct gq__buf z = GQ__BUF_INIT;
	struct gq__buf out = GQ__BUF_INIT;
	uint8_t *data;
	uint8_t *zeros;

	data = make_text(4 * MiB + 5, 17);
	zstd_stream_compress(data, 4 * MiB + 5, &z);
	cr_assert(eq(int,
		     gq__codec_decompress(GQ__CODEC_ZSTD, z.base, z.len,
					  64 * MiB, &out),
		     0));
	cr_assert(eq(sz, out.len, 4 * MiB + 5));
	cr_assert(memcmp(out.base, data, out.len) == 0);
	out.len = 0;
	cr_assert(eq(int,
		     gq__codec_decompress(GQ__CODEC_ZSTD, z.base, z.len,
					  4 * MiB + 4, &out),
		     GQ_ETOOBIG));
	/* The bomb variant: 10 MiB of zeros, no size in the header. */
	zeros = calloc(1, 10 * MiB);
	cr_assert(zeros != NULL);
	z.len = 0;
	zstd_stream_compress(zeros, 10 * MiB, &z);
	free(zeros);
	check_bomb(GQ__CODEC_ZSTD, &z);
	gq__buf_free(&z);
	gq__buf_free(&out);
	free(data);
#else
	cr_skip_test("zstd not built in");
#endif
}

/* A raw snappy block claiming 10 MiB is refused before any allocation. */
Test(codec, snappy_raw_bomb)
{
#if GQ_HAVE_SNAPPY
	struct gq__buf z = GQ__BUF_INIT;
	uint8_t *zeros;
	size_t n;

	zeros = calloc(1, 10 * MiB);
	n = snappy_max_compressed_length(10 * MiB);
	cr_assert(zeros != NULL);
	cr_assert(eq(int, gq__buf_reserve(&z, n), 0));
	cr_assert(
		eq(int,
		   snappy_compress((char *)zeros, 10 * MiB, (char *)z.base, &n),
		   SNAPPY_OK));
	z.len = n;
	free(zeros);
	check_bomb(GQ__CODEC_SNAPPY, &z);
	gq__buf_free(&z);
#else
	cr_skip_test("snappy not built in");
#endif
}

/* ---------------------------------------------------------------------- */
/* Hostile input                                                           */
/* ---------------------------------------------------------------------- */

CODEC_PARAMS(truncated)
/*
 * Every prefix of a valid stream (all of them near both ends, a stride in
 * between) gives GQ_ECORRUPT or a correct prefix of the data (xerial can
 * legitimately end at a block boundary), never a crash.
 */
ParameterizedTest(enum gq__codec *c, codec, truncated)
{
	struct gq__buf z = GQ__BUF_INIT;
	struct gq__buf out = GQ__BUF_INIT;
	size_t n = 70000; /* > 2 snappy chunks and > 1 lz4 block */
	uint8_t *data;
	size_t step;
	size_t cut;
	int rv;

	skip_unless_available(*c);
	data = make_text(n, 19);
	cr_assert(eq(int, gq__codec_compress(*c, data, n, &z), 0));
	step = z.len / 1500 + 1;
	for (cut = 0; cut < z.len;
	     cut += (cut < 256 || z.len - cut <= 256) ? 1 : step) {
		out.len = 0;
		rv = gq__codec_decompress(*c, z.base, cut, n, &out);
		if (rv == 0) {
			cr_assert(eq(int, *c, GQ__CODEC_SNAPPY),
				  "%s: prefix %zu of %zu decoded",
				  gq__codec_name(*c), cut, z.len);
			cr_assert(lt(sz, out.len, n));
			cr_assert(out.len == 0 ||
				  memcmp(out.base, data, out.len) == 0);
		} else {
			cr_assert(eq(int, rv, GQ_ECORRUPT),
				  "%s: prefix %zu of %zu", gq__codec_name(*c),
				  cut, z.len);
			cr_assert(eq(sz, out.len, 0));
		}
	}
	gq__buf_free(&z);
	gq__buf_free(&out);
	free(data);
}

/* Flip 1-3 random bytes of @z and decode, @rounds times; see callers. */
static void
flip_rounds(enum gq__codec c, const uint8_t *z, size_t zlen,
	    const uint8_t *data, size_t n, int rounds, bool checksummed)
{
	struct gq__buf out = GQ__BUF_INIT;
	uint8_t *bad;
	uint64_t x = 0x9E3779B97F4A7C15u ^ (uint64_t)c;
	int flips;
	int i;
	int rv;

	bad = malloc(zlen);
	cr_assert(bad != NULL);
	for (i = 0; i < rounds; i++) {
		memcpy(bad, z, zlen);
		for (flips = 1 + (int)(rnd_next(&x) % 3); flips > 0; flips--)
			bad[rnd_next(&x) % zlen] ^=
				(uint8_t)(1 + rnd_next(&x) % 255);
		out.len = 0;
		rv = gq__codec_decompress(c, bad, zlen, 2 * n + 64, &out);
		cr_assert(rv == 0 || rv == GQ_ECORRUPT || rv == GQ_ETOOBIG,
			  "%s: rv %d", gq__codec_name(c), rv);
		cr_assert(le(sz, out.len, 2 * n + 64));
		if (rv != 0)
			cr_assert(eq(sz, out.len, 0));
		else if (checksummed)
			cr_assert(out.len == n &&
					  memcmp(out.base, data, n) == 0,
				  "%s: round %d decoded wrong bytes",
				  gq__codec_name(c), i);
	}
	gq__buf_free(&out);
	free(bad);
}

CODEC_PARAMS(byte_flips)
/*
 * Random byte flips give an error or some output within max_out, never a
 * crash.  gzip carries a CRC, so it must also never return wrong bytes; the
 * others as Kafka writes them have no checksum (the batch CRC32C covers
 * that), so a flipped literal may legitimately decode.
 */
ParameterizedTest(enum gq__codec *c, codec, byte_flips)
{
	struct gq__buf z = GQ__BUF_INIT;
	size_t n = 70000;
	uint8_t *data;

	skip_unless_available(*c);
	data = make_text(n, 23);
	cr_assert(eq(int, gq__codec_compress(*c, data, n, &z), 0));
	flip_rounds(*c, z.base, z.len, data, n, 1500, *c == GQ__CODEC_GZIP);
	gq__buf_free(&z);
	free(data);
}

CODEC_PARAMS(empty_input)
/* Zero input bytes are not a stream of any codec: GQ_ECORRUPT. */
ParameterizedTest(enum gq__codec *c, codec, empty_input)
{
	struct gq__buf out = GQ__BUF_INIT;

	skip_unless_available(*c);
	cr_assert(eq(int, gq__codec_decompress(*c, NULL, 0, 100, &out),
		     GQ_ECORRUPT));
	cr_assert(eq(int, gq__codec_decompress(*c, "", 0, 100, &out),
		     GQ_ECORRUPT));
	cr_assert(eq(sz, out.len, 0));
	gq__buf_free(&out);
}

/* ---------------------------------------------------------------------- */
/* Allocation failures                                                     */
/* ---------------------------------------------------------------------- */

CODEC_PARAMS(alloc_failures)
/*
 * Failing the Nth allocation, for every N until the call succeeds, gives
 * GQ_ENOMEM with the buffer unchanged and nothing leaked; all the codecs'
 * memory is released when each call returns.
 */
ParameterizedTest(enum gq__codec *c, codec, alloc_failures)
{
	struct gq__buf z = GQ__BUF_INIT;
	struct gq__buf out = GQ__BUF_INIT;
	size_t n = 150 * KiB;
	uint8_t *data;
	long fail;
	int rv;

	skip_unless_available(*c);
	data = make_text(n, 29);
	for (fail = 0;; fail++) {
		cr_assert(lt(i64, fail, 100));
		theap_install(fail);
		rv = gq__codec_compress(*c, data, n, &z);
		if (rv != 0) {
			cr_assert(eq(sz, z.len, 0));
			gq__buf_free(&z);
		}
		cr_assert(eq(sz, th.live, z.cap), "%s: leak after failure %ld",
			  gq__codec_name(*c), fail);
		gq_heap_set(NULL);
		if (rv == 0)
			break;
		cr_assert(eq(int, rv, GQ_ENOMEM));
	}
	/* z was allocated by the test heap: free it under the same heap. */
	for (fail = 0;; fail++) {
		cr_assert(lt(i64, fail, 100));
		theap_install(fail);
		th.live = z.cap;
		rv = gq__codec_decompress(*c, z.base, z.len, n, &out);
		if (rv != 0) {
			cr_assert(eq(sz, out.len, 0));
			gq__buf_free(&out);
		}
		cr_assert(eq(sz, th.live, z.cap + out.cap),
			  "%s: leak after failure %ld", gq__codec_name(*c),
			  fail);
		if (rv == 0)
			break;
		gq_heap_set(NULL);
		cr_assert(eq(int, rv, GQ_ENOMEM));
	}
	cr_assert(eq(sz, out.len, n));
	cr_assert(memcmp(out.base, data, n) == 0);
	gq__buf_free(&out);
	gq__buf_free(&z);
	cr_assert(eq(sz, th.live, 0));
	gq_heap_set(NULL);
	free(data);
}

/* ---------------------------------------------------------------------- */
/* What we write is what Kafka producers write                             */
/* ---------------------------------------------------------------------- */

/* gzip output is one RFC 1952 member that plain zlib inflates. */
Test(codec, format_gzip)
{
	struct gq__buf z = GQ__BUF_INIT;
	uint8_t *data;
	uint8_t *back;
	z_stream zs = { 0 };

	data = make_text(100 * KiB, 31);
	back = malloc(100 * KiB);
	cr_assert(eq(int,
		     gq__codec_compress(GQ__CODEC_GZIP, data, 100 * KiB, &z),
		     0));
	cr_assert(z.base[0] == 0x1f && z.base[1] == 0x8b && z.base[2] == 8);
	cr_assert(eq(int, inflateInit2(&zs, 16 + MAX_WBITS), Z_OK));
	zs.next_in = z.base;
	zs.avail_in = (uInt)z.len;
	zs.next_out = back;
	zs.avail_out = 100 * KiB;
	cr_assert(eq(int, inflate(&zs, Z_FINISH), Z_STREAM_END));
	cr_assert(eq(u32, zs.avail_in, 0));
	cr_assert(eq(u32, zs.avail_out, 0));
	cr_assert(memcmp(back, data, 100 * KiB) == 0);
	inflateEnd(&zs);
	gq__buf_free(&z);
	free(back);
	free(data);
}

/* snappy output is xerial framing around 32 KiB raw snappy chunks. */
Test(codec, format_snappy_xerial)
{
#if GQ_HAVE_SNAPPY
	static const uint8_t header[16] = { 0x82, 'S', 'N', 'A', 'P', 'P',
					    'Y',  0,   0,   0,   0,   1,
					    0,    0,   0,   1 };
	struct gq__buf z = GQ__BUF_INIT;
	size_t n = 100 * KiB + 7;
	uint8_t *data;
	uint8_t *back;
	size_t pos = 16;
	size_t done = 0;
	size_t blen;
	size_t ulen;

	data = make_text(n, 37);
	back = malloc(32 * KiB);
	cr_assert(
		eq(int, gq__codec_compress(GQ__CODEC_SNAPPY, data, n, &z), 0));
	cr_assert(memcmp(z.base, header, 16) == 0);
	while (pos < z.len) {
		blen = gq__be32_get(z.base + pos);
		pos += 4;
		cr_assert(le(sz, blen, z.len - pos));
		ulen = 32 * KiB;
		cr_assert(eq(int,
			     snappy_uncompress((char *)z.base + pos, blen,
					       (char *)back, &ulen),
			     SNAPPY_OK));
		/* Every chunk but the last holds exactly 32 KiB. */
		cr_assert(eq(sz, ulen,
			     n - done < 32 * KiB ? n - done : 32 * KiB));
		cr_assert(memcmp(back, data + done, ulen) == 0);
		done += ulen;
		pos += blen;
	}
	cr_assert(eq(sz, done, n));
	gq__buf_free(&z);
	free(back);
	free(data);
#else
	cr_skip_test("snappy not built in");
#endif
}

/*
 * lz4 output is one frame with the Kafka/librdkafka header 04 22 4D 18 60
 * 40 82 (independent 64 KiB blocks, no checksums) that liblz4 decodes.
 */
Test(codec, format_lz4)
{
#if GQ_HAVE_LZ4
	static const uint8_t header[7] = { 0x04, 0x22, 0x4d, 0x18,
					   0x60, 0x40, 0x82 };
	struct gq__buf z = GQ__BUF_INIT;
	size_t n = 200 * KiB;
	uint8_t *data;
	uint8_t *back;
	LZ4F_dctx *dctx;
	size_t dlen = n;
	size_t slen;

	data = make_text(n, 41);
	back = malloc(n);
	cr_assert(eq(int, gq__codec_compress(GQ__CODEC_LZ4, data, n, &z), 0));
	cr_assert(memcmp(z.base, header, 7) == 0);
	cr_assert(not(LZ4F_isError(
		LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))));
	slen = z.len;
	cr_assert(eq(sz,
		     LZ4F_decompress(dctx, back, &dlen, z.base, &slen, NULL),
		     0));
	cr_assert(eq(sz, slen, z.len));
	cr_assert(eq(sz, dlen, n));
	cr_assert(memcmp(back, data, n) == 0);
	LZ4F_freeDecompressionContext(dctx);
	gq__buf_free(&z);
	free(back);
	free(data);
#else
	cr_skip_test("lz4 not built in");
#endif
}

/* zstd output is one frame with its content size, which libzstd decodes. */
Test(codec, format_zstd)
{
#if GQ_HAVE_ZSTD
	struct gq__buf z = GQ__BUF_INIT;
	size_t n = 200 * KiB;
	uint8_t *data;
	uint8_t *back;

	data = make_text(n, 43);
	back = malloc(n);
	cr_assert(eq(int, gq__codec_compress(GQ__CODEC_ZSTD, data, n, &z), 0));
	cr_assert(eq(u32, gq__le32_get(z.base), 0xFD2FB528u));
	cr_assert(eq(u64, ZSTD_getFrameContentSize(z.base, z.len), n));
	cr_assert(eq(sz, ZSTD_findFrameCompressedSize(z.base, z.len), z.len));
	cr_assert(eq(sz, ZSTD_decompress(back, n, z.base, z.len), n));
	cr_assert(memcmp(back, data, n) == 0);
	gq__buf_free(&z);
	free(back);
	free(data);
#else
	cr_skip_test("zstd not built in");
#endif
}

/* ---------------------------------------------------------------------- */
/* Bytes from other implementations                                        */
/* ---------------------------------------------------------------------- */

#define HELLO "hello kafka hello kafka hello kafka"

/* python3: gzip.compress(HELLO, mtime=0). */
#define GZIP_PY                                                              \
	"1f8b0800000000000203cb48cdc9c957c84e4ccb4e54c8c0ce060084d317b42300" \
	"0000"
/* Raw snappy, assembled by hand (and equal to snappy_compress() output):
 * length 35, literal "hello kafka ", copy 23 bytes from offset 12. */
#define SNAPPY_RAW "232c68656c6c6f206b61666b61205a0c00"
/* lz4 CLI 1.9.4 -B4 --no-frame-crc: exactly librdkafka's frame layout. */
#define LZ4_BLOCK "15000000ce68656c6c6f206b61666b61200c00506b61666b6100000000"
#define LZ4_KAFKA "04224d18604082" LZ4_BLOCK
/* zstd CLI 1.5.4 from a file: content size and checksum in the frame. */
#define ZSTD_FILE \
	"28b52ffd24239500006068656c6c6f206b61666b61200100af4b12c32e1c62"
/* zstd CLI 1.5.4 from a pipe: no content size (streaming). */
#define ZSTD_PIPE \
	"28b52ffd04589500006068656c6c6f206b61666b61200100af4b12c32e1c62"

/* python's gzip member decodes, alone and as two concatenated members. */
Test(codec, vector_gzip)
{
	check_vector(GQ__CODEC_GZIP, GZIP_PY, HELLO);
	check_vector(GQ__CODEC_GZIP, GZIP_PY GZIP_PY, HELLO HELLO);
}

/* A raw snappy block and its xerial framing both decode. */
Test(codec, vector_snappy)
{
	if (!gq__codec_available(GQ__CODEC_SNAPPY))
		cr_skip_test("snappy not built in");
	check_vector(GQ__CODEC_SNAPPY, SNAPPY_RAW, HELLO);
	check_vector(GQ__CODEC_SNAPPY,
		     "82534e4150505900 00000001 00000001 00000011" SNAPPY_RAW,
		     HELLO);
	/* Two xerial blocks, and a header with no block at all. */
	check_vector(GQ__CODEC_SNAPPY,
		     "82534e4150505900 00000001 00000001 00000011" SNAPPY_RAW
		     "00000011" SNAPPY_RAW,
		     HELLO HELLO);
	check_vector(GQ__CODEC_SNAPPY, "82534e4150505900 00000001 00000001",
		     "");
	/* Raw snappy of nothing is the single length byte 00. */
	check_vector(GQ__CODEC_SNAPPY, "00", "");
}

/*
 * Frames from the lz4 CLI decode: Kafka's layout, the default layout with
 * content checksum, with content size, and two frames in a row.
 */
Test(codec, vector_lz4)
{
	if (!gq__codec_available(GQ__CODEC_LZ4))
		cr_skip_test("lz4 not built in");
	check_vector(GQ__CODEC_LZ4, LZ4_KAFKA, HELLO);
	check_vector(GQ__CODEC_LZ4, "04224d186440a7" LZ4_BLOCK "61c4f6df",
		     HELLO);
	check_vector(GQ__CODEC_LZ4,
		     "04224d186c40230000000000000061" LZ4_BLOCK "61c4f6df",
		     HELLO);
	check_vector(GQ__CODEC_LZ4, LZ4_KAFKA LZ4_KAFKA, HELLO HELLO);
}

/*
 * Kafka 0.8's header checksum, taken over the magic too, is accepted:
 * XXH32(04 22 4D 18 60 40) = 0xC8581A3A gives HC 1A instead of 82 (the
 * hashes were computed with the lz4 CLI's content checksum, i.e. liblz4's
 * own XXH32).  Any other wrong HC is rejected.
 */
Test(codec, vector_lz4_broken_header_checksum)
{
	struct gq__buf out = GQ__BUF_INIT;
	uint8_t in[128];
	size_t n;

	if (!gq__codec_available(GQ__CODEC_LZ4))
		cr_skip_test("lz4 not built in");
	check_vector(GQ__CODEC_LZ4, "04224d1860401a" LZ4_BLOCK, HELLO);
	/* With content size (FLG 6C): XXH32 0x76BCF99C, HC F9 (right: 61). */
	check_vector(GQ__CODEC_LZ4,
		     "04224d186c402300000000000000f9" LZ4_BLOCK "61c4f6df",
		     HELLO);
	/* 18 hashed bytes take XXH32's 16-byte-stripe path (FLG 6D adds a
	 * dictionary id): right HC E9 (0x9157E9D7), Kafka 0.8's AE. */
	check_vector(GQ__CODEC_LZ4,
		     "04224d186d40230000000000000078563412e9" LZ4_BLOCK
		     "61c4f6df",
		     HELLO);
	check_vector(GQ__CODEC_LZ4,
		     "04224d186d40230000000000000078563412ae" LZ4_BLOCK
		     "61c4f6df",
		     HELLO);
	n = hex_decode("04224d1860401b" LZ4_BLOCK, in, sizeof(in));
	cr_assert(eq(int, gq__codec_decompress(GQ__CODEC_LZ4, in, n, 100, &out),
		     GQ_ECORRUPT));
	gq__buf_free(&out);
}

/* zstd frames with and without content size decode, also concatenated. */
Test(codec, vector_zstd)
{
	if (!gq__codec_available(GQ__CODEC_ZSTD))
		cr_skip_test("zstd not built in");
	check_vector(GQ__CODEC_ZSTD, ZSTD_FILE, HELLO);
	check_vector(GQ__CODEC_ZSTD, ZSTD_PIPE, HELLO);
	check_vector(GQ__CODEC_ZSTD, ZSTD_FILE ZSTD_FILE, HELLO HELLO);
	check_vector(GQ__CODEC_ZSTD, ZSTD_PIPE ZSTD_FILE, HELLO HELLO);
	/* A skippable frame (magic 184D2A50, 3 bytes) is ignored. */
	check_vector(GQ__CODEC_ZSTD, "502a4d1803000000aabbcc" ZSTD_PIPE, HELLO);
}

/*
 * Every single-bit flip of the checksummed vectors (lz4 content checksum,
 * zstd XXH64) gives an error or the right bytes.
 */
Test(codec, vector_bit_flips_checksummed)
{
	static const struct {
		enum gq__codec c;
		const char *hex;
	} v[] = {
		{ GQ__CODEC_GZIP, GZIP_PY },
		{ GQ__CODEC_LZ4, "04224d186440a7" LZ4_BLOCK "61c4f6df" },
		{ GQ__CODEC_ZSTD, ZSTD_FILE },
		{ GQ__CODEC_ZSTD, ZSTD_PIPE },
	};
	struct gq__buf out = GQ__BUF_INIT;
	uint8_t in[128];
	size_t i;
	size_t k;
	size_t n;
	int bit;
	int rv;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (!gq__codec_available(v[i].c))
			continue;
		n = hex_decode(v[i].hex, in, sizeof(in));
		for (k = 0; k < n; k++) {
			for (bit = 0; bit < 8; bit++) {
				in[k] ^= (uint8_t)(1u << bit);
				out.len = 0;
				rv = gq__codec_decompress(v[i].c, in, n, 1024,
							  &out);
				in[k] ^= (uint8_t)(1u << bit);
				if (rv != 0) {
					cr_assert(rv == GQ_ECORRUPT ||
						  rv == GQ_ETOOBIG);
					continue;
				}
				cr_assert(eq(sz, out.len, strlen(HELLO)),
					  "%s vector %zu: byte %zu bit %d",
					  gq__codec_name(v[i].c), i, k, bit);
				cr_assert(memcmp(out.base, HELLO, out.len) ==
					  0);
			}
		}
	}
	gq__buf_free(&out);
}

/* Deflate @n bytes into a gzip member with zlib directly, at @level. */
static void
zlib_gzip_member(const void *src, size_t n, int level, struct gq__buf *z)
{
	z_stream zs = { 0 };

	cr_assert(eq(int,
		     deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 9,
				  Z_DEFAULT_STRATEGY),
		     Z_OK));
	cr_assert(eq(int, gq__buf_reserve(z, deflateBound(&zs, n)), 0));
	zs.next_in = (Bytef *)(uintptr_t)src;
	zs.avail_in = (uInt)n;
	zs.next_out = z->base + z->len;
	zs.avail_out = (uInt)(z->cap - z->len);
	cr_assert(eq(int, deflate(&zs, Z_FINISH), Z_STREAM_END));
	z->len += zs.total_out;
	deflateEnd(&zs);
}

/*
 * Members written by zlib's deflateInit2() decode, alone and concatenated
 * (as Java's GZIPInputStream reads them); junk after a member is corrupt.
 */
Test(codec, gzip_zlib_members)
{
	struct gq__buf z = GQ__BUF_INIT;
	struct gq__buf out = GQ__BUF_INIT;
	uint8_t *a;
	uint8_t *b;

	a = make_text(300 * KiB, 47);
	b = make_random(70 * KiB, 53);
	zlib_gzip_member(a, 300 * KiB, 9, &z);
	cr_assert(eq(int,
		     gq__codec_decompress(GQ__CODEC_GZIP, z.base, z.len,
					  300 * KiB, &out),
		     0));
	cr_assert(eq(sz, out.len, 300 * KiB));
	cr_assert(memcmp(out.base, a, 300 * KiB) == 0);
	zlib_gzip_member(b, 70 * KiB, 1, &z);
	out.len = 0;
	cr_assert(eq(int,
		     gq__codec_decompress(GQ__CODEC_GZIP, z.base, z.len,
					  370 * KiB, &out),
		     0));
	cr_assert(eq(sz, out.len, 370 * KiB));
	cr_assert(memcmp(out.base, a, 300 * KiB) == 0);
	cr_assert(memcmp(out.base + 300 * KiB, b, 70 * KiB) == 0);
	/* The limit applies across members. */
	out.len = 0;
	cr_assert(eq(int,
		     gq__codec_decompress(GQ__CODEC_GZIP, z.base, z.len,
					  370 * KiB - 1, &out),
		     GQ_ETOOBIG));
	cr_assert(eq(int, gq__buf_append(&z, "\0\0\0", 3), 0));
	out.len = 0;
	cr_assert(eq(int,
		     gq__codec_decompress(GQ__CODEC_GZIP, z.base, z.len,
					  370 * KiB, &out),
		     GQ_ECORRUPT));
	cr_assert(eq(sz, out.len, 0));
	/* Empty input is not a gzip stream. */
	cr_assert(eq(int, gq__codec_decompress(GQ__CODEC_GZIP, "", 0, 10, &out),
		     GQ_ECORRUPT));
	gq__buf_free(&z);
	gq__buf_free(&out);
	free(a);
	free(b);
}

/* librdkafka's raw snappy (one block of the whole input) decodes. */
Test(codec, snappy_raw_large)
{
#if GQ_HAVE_SNAPPY
	struct gq__buf z = GQ__BUF_INIT;
	struct gq__buf out = GQ__BUF_INIT;
	size_t n = 300 * KiB + 1;
	uint8_t *data;
	size_t zlen;

	data = make_text(n, 59);
	zlen = snappy_max_compressed_length(n);
	cr_assert(eq(int, gq__buf_reserve(&z, zlen), 0));
	cr_assert(eq(int,
		     snappy_compress((char *)data, n, (char *)z.base, &zlen),
		     SNAPPY_OK));
	cr_assert(eq(
		int,
		gq__codec_decompress(GQ__CODEC_SNAPPY, z.base, zlen, n, &out),
		0));
	cr_assert(eq(sz, out.len, n));
	cr_assert(memcmp(out.base, data, n) == 0);
	out.len = 0;
	cr_assert(eq(int,
		     gq__codec_decompress(GQ__CODEC_SNAPPY, z.base, zlen, n - 1,
					  &out),
		     GQ_ETOOBIG));
	gq__buf_free(&z);
	gq__buf_free(&out);
	free(data);
#else
	cr_skip_test("snappy not built in");
#endif
}
