/* SPDX-License-Identifier: MIT */
/*
 * test_codecs.c - compression through the public API: every topic codec
 * round-trips keys, values, headers and timestamps and is visible in the
 * stored RecordBatch v2 attributes only above compression_threshold;
 * batches built and compressed here the way Kafka clients do (an
 * independent encoder, CRC-32C and the system compression libraries) are
 * accepted by gq_produce_records_async() and decode through gq_fetch_next();
 * corrupt, truncated and oversize raw batches are refused and not stored.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <goqueue.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#if GQT_HAVE_SNAPPY
#include <snappy-c.h>
#endif
#if GQT_HAVE_LZ4
#include <lz4frame.h>
#endif
#if GQT_HAVE_ZSTD
#include <zstd.h>
#endif

#include "../lib/fixture.h"
#include "../lib/kbatch.h"

static struct gq_node *node;

static void
setup(void)
{
	gqt_node_setup(&node);
}

/* After the node, whose close ends any produce still using a buffer. */
static void
teardown(void)
{
	gqt_node_teardown();
	kb_release_all();
}

TestSuite(codecs, .init = setup, .fini = teardown, .timeout = 120);

/* ---------------------------------------------------------------------- */
/* Compression the way Kafka clients do it, with the system libraries      */
/* ---------------------------------------------------------------------- */

enum kcomp {
	K_NONE,
	K_GZIP,          /* gzip member (librdkafka, Java, kafka-python) */
	K_SNAPPY_RAW,    /* raw snappy block (librdkafka) */
	K_SNAPPY_XERIAL, /* xerial framing (Java, kafka-python) */
	K_LZ4,           /* LZ4 frame, FLG 0x60 (librdkafka) */
	K_LZ4_SIZE,      /* LZ4 frame with content size, FLG 0x68 */
	K_ZSTD,          /* zstd frame with content size */
	K_ZSTD_NOSIZE,   /* zstd frame without content size */
};

static int
kcomp_codec(enum kcomp c)
{
	static const int codec[] = { 0, 1, 2, 2, 3, 3, 4, 4 };

	return codec[c];
}

static bool
kcomp_available(enum kcomp c)
{
	switch (kcomp_codec(c)) {
	case 2:
		return GQT_HAVE_SNAPPY;
	case 3:
		return GQT_HAVE_LZ4;
	case 4:
		return GQT_HAVE_ZSTD;
	default:
		return true;
	}
}

static void
compress_gzip(const uint8_t *in, size_t n, struct kbuf *out)
{
	z_stream zs;
	size_t cap;
	uint8_t *dst;

	memset(&zs, 0, sizeof(zs));
	cr_assert_eq(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8,
				  Z_DEFAULT_STRATEGY),
		     Z_OK);
	cap = deflateBound(&zs, (uLong)n) + 32;
	dst = kb_grow(out, cap);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = dst;
	zs.avail_out = (uInt)cap;
	cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	out->len -= zs.avail_out;
	deflateEnd(&zs);
}

#if GQT_HAVE_SNAPPY
static void
compress_snappy_block(const uint8_t *in, size_t n, struct kbuf *out)
{
	size_t cap = snappy_max_compressed_length(n);
	size_t olen = cap;
	uint8_t *dst = kb_grow(out, cap);

	cr_assert_eq(snappy_compress((const char *)in, n, (char *)dst, &olen),
		     SNAPPY_OK);
	out->len -= cap - olen;
}

static void
compress_snappy_xerial(const uint8_t *in, size_t n, struct kbuf *out)
{
	static const uint8_t magic[8] = {
		0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0
	};
	const size_t chunk = 32 * 1024;

	kb_put(out, magic, sizeof(magic));
	kb_be(out, 1, 4); /* version */
	kb_be(out, 1, 4); /* compatible version */
	for (size_t off = 0; off < n; off += chunk) {
		size_t len = n - off < chunk ? n - off : chunk;
		size_t at = out->len;

		kb_be(out, 0, 4);
		compress_snappy_block(in + off, len, out);
		uint32_t clen = (uint32_t)(out->len - at - 4);
		out->p[at] = (uint8_t)(clen >> 24);
		out->p[at + 1] = (uint8_t)(clen >> 16);
		out->p[at + 2] = (uint8_t)(clen >> 8);
		out->p[at + 3] = (uint8_t)clen;
	}
}
#endif

#if GQT_HAVE_LZ4
static void
compress_lz4(const uint8_t *in, size_t n, bool content_size, struct kbuf *out)
{
	LZ4F_preferences_t prefs;
	size_t cap;
	size_t r;
	uint8_t *dst;

	memset(&prefs, 0, sizeof(prefs));
	prefs.frameInfo.blockSizeID = LZ4F_max64KB;
	prefs.frameInfo.blockMode = LZ4F_blockIndependent;
	prefs.frameInfo.contentSize = content_size ? n : 0;
	cap = LZ4F_compressFrameBound(n, &prefs);
	dst = kb_grow(out, cap);
	r = LZ4F_compressFrame(dst, cap, in, n, &prefs);
	cr_assert(!LZ4F_isError(r), "lz4: %s", LZ4F_getErrorName(r));
	/* FLG: version 01, independent blocks, content size as asked. */
	cr_assert_eq(dst[4], content_size ? 0x68 : 0x60);
	out->len -= cap - r;
}
#endif

#if GQT_HAVE_ZSTD
static void
compress_zstd(const uint8_t *in, size_t n, bool content_size, struct kbuf *out)
{
	size_t cap = ZSTD_compressBound(n);
	uint8_t *dst = kb_grow(out, cap);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	size_t r;

	cr_assert_not_null(cctx);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag,
			       content_size ? 1 : 0);
	r = ZSTD_compress2(cctx, dst, cap, in, n);
	cr_assert(!ZSTD_isError(r), "zstd: %s", ZSTD_getErrorName(r));
	cr_assert_eq(ZSTD_getFrameContentSize(dst, r) ==
			     ZSTD_CONTENTSIZE_UNKNOWN,
		     !content_size);
	ZSTD_freeCCtx(cctx);
	out->len -= cap - r;
}
#endif

static void
kcompress(enum kcomp c, const uint8_t *in, size_t n, struct kbuf *out)
{
	switch (c) {
	case K_NONE:
		kb_put(out, in, n);
		return;
	case K_GZIP:
		compress_gzip(in, n, out);
		return;
#if GQT_HAVE_SNAPPY
	case K_SNAPPY_RAW:
		compress_snappy_block(in, n, out);
		return;
	case K_SNAPPY_XERIAL:
		compress_snappy_xerial(in, n, out);
		return;
#endif
#if GQT_HAVE_LZ4
	case K_LZ4:
	case K_LZ4_SIZE:
		compress_lz4(in, n, c == K_LZ4_SIZE, out);
		return;
#endif
#if GQT_HAVE_ZSTD
	case K_ZSTD:
	case K_ZSTD_NOSIZE:
		compress_zstd(in, n, c == K_ZSTD, out);
		return;
#endif
	default:
		cr_assert_fail("codec %d not available", (int)c);
	}
}

/* Append one batch of @n messages, compressed with @c, as a Kafka client
 * would build it. */
static void
kafka_batch(struct kbuf *out, const struct gq_msg *m, size_t n, enum kcomp c,
	    int64_t pid, int16_t epoch, int32_t seq)
{
	struct kbuf rec = { 0 };
	struct kbuf z = { 0 };
	int64_t max_ts = m[0].timestamp;

	for (size_t i = 1; i < n; i++)
		if (m[i].timestamp > max_ts)
			max_ts = m[i].timestamp;
	kb_records(&rec, m, n);
	kcompress(c, rec.p, rec.len, &z);
	kb_batch(out, z.p, z.len, (int16_t)kcomp_codec(c), (int32_t)n,
		 m[0].timestamp, max_ts, pid, epoch, seq);
	kb_free(&rec);
	kb_free(&z);
}

/* ---------------------------------------------------------------------- */
/* Produce and fetch helpers                                               */
/* ---------------------------------------------------------------------- */

/* A raw produce that must be refused by the call itself with @expect, its
 * callback never running, and nothing stored. */
static void
produce_raw_refused(const char *topic, const void *b, size_t len, int expect)
{
	/* Static: if the call wrongly succeeds, the callback may still run
	 * after this function returned. */
	static struct gqt_waiter w;
	gq_offset before, after;
	int rv;

	memset(&w, 0, sizeof(w));
	cr_assert_eq(gq_list_offsets(node, topic, 0, GQ_OFFSET_LATEST, &before),
		     0);
	rv = gq_produce_records_async(node, topic, 0, b, len, gqt_waiter_cb,
				      &w);
	cr_assert_eq(rv, expect, "len %zu: got %s, want %s", len,
		     gq_strerror(rv), gq_strerror(expect));
	usleep(20000);
	cr_assert_eq(__atomic_load_n(&w.done, __ATOMIC_SEQ_CST), 0);
	cr_assert_eq(gq_list_offsets(node, topic, 0, GQ_OFFSET_LATEST, &after),
		     0);
	cr_assert_eq(after, before);
}

/* Fill @m[0..n) with distinct, compressible messages: keys "key-<i>" (null
 * for every 5th), values of @vlen bytes (null for every 7th but the first),
 * two headers on every 3rd (one with a null value), timestamps ts0 + 7i.
 * Storage comes from @store (n * (vlen + 32) bytes). */
static void
fill_msgs(struct gq_msg *m, struct gq_header hdrs[2], size_t n, size_t vlen,
	  int64_t ts0, char *store)
{
	hdrs[0].key = "trace-id";
	hdrs[0].key_len = 8;
	hdrs[0].value = "abc123";
	hdrs[0].value_len = 6;
	hdrs[1].key = "empty";
	hdrs[1].key_len = 5;
	hdrs[1].value = NULL;
	hdrs[1].value_len = 0;
	memset(m, 0, n * sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		char *k = store + i * (vlen + 32);
		char *v = k + 16;

		snprintf(k, 16, "key-%zu", i);
		for (size_t j = 0; j < vlen; j++)
			v[j] = "the quick brown fox "[(i + j) % 20];
		if (vlen >= 8)
			memcpy(v, "value-", 6);
		if (i % 5 != 4) {
			m[i].key = k;
			m[i].key_len = strlen(k);
		}
		if (i == 0 || i % 7 != 6) {
			m[i].value = v;
			m[i].value_len = vlen;
		}
		if (i % 3 == 0) {
			m[i].headers = hdrs;
			m[i].header_count = 2;
		}
		m[i].timestamp = ts0 + 7 * (int64_t)i;
	}
}

/* Fetch from @from and compare @n messages with @m, offsets from @from. */
static void
check_fetch(const char *topic, int32_t part, gq_offset from,
	    const struct gq_msg *m, size_t n)
{
	struct gq_fetch *f;
	struct gq_record r;
	struct gq_header h;
	int rv;

	rv = gq_fetch(node, topic, part, from, 64 << 20, &f);
	cr_assert_eq(rv, 0, "fetch: %s: %s", gq_strerror(rv),
		     gq_node_errmsg(node));
	for (size_t i = 0; i < n; i++) {
		rv = gq_fetch_next(f, &r);
		cr_assert_eq(rv, 1, "message %zu: %s", i,
			     rv < 0 ? gq_strerror(rv) : "missing");
		cr_assert_eq(r.offset, from + (gq_offset)i);
		cr_assert_eq(r.timestamp, m[i].timestamp, "message %zu", i);
		if (m[i].key == NULL) {
			cr_assert_null(r.key, "message %zu", i);
		} else {
			cr_assert_eq(r.key_len, m[i].key_len, "message %zu", i);
			cr_assert_eq(memcmp(r.key, m[i].key, r.key_len), 0);
		}
		if (m[i].value == NULL) {
			cr_assert_null(r.value, "message %zu", i);
		} else {
			cr_assert_not_null(r.value, "message %zu", i);
			cr_assert_eq(r.value_len, m[i].value_len, "message %zu",
				     i);
			cr_assert_eq(memcmp(r.value, m[i].value, r.value_len),
				     0, "message %zu", i);
		}
		cr_assert_eq(r.header_count, m[i].header_count, "message %zu",
			     i);
		for (size_t j = 0; j < m[i].header_count; j++) {
			const struct gq_header *e = &m[i].headers[j];

			cr_assert_eq(gq_fetch_header(f, j, &h), 0);
			cr_assert_eq(h.key_len, e->key_len);
			cr_assert_eq(memcmp(h.key, e->key, h.key_len), 0);
			if (e->value == NULL) {
				cr_assert_null(h.value);
			} else {
				cr_assert_eq(h.value_len, e->value_len);
				cr_assert_eq(
					memcmp(h.value, e->value, h.value_len),
					0);
			}
		}
		cr_assert_eq(gq_fetch_header(f, m[i].header_count, &h),
			     GQ_EINVAL);
	}
	gq_fetch_destroy(f);
}

/* The partition's high watermark. */
static gq_offset
hw(const char *topic)
{
	gq_offset off = -1;

	cr_assert_eq(gq_list_offsets(node, topic, 0, GQ_OFFSET_LATEST, &off),
		     0);
	return off;
}

/* What a stored batch looks like from its raw bytes. */
struct stored {
	gq_offset base;
	int32_t count;
	int codec;
	size_t size;
};

/* Check the raw bytes of the fetch at @from as Kafka would (magic 2,
 * lengths, CRC-32C) and describe the batch that holds @from. */
static struct stored
stored_batch(const char *topic, int32_t part, gq_offset from)
{
	struct stored s = { -1, 0, -1, 0 };
	struct gq_fetch *f;
	const uint8_t *d;
	const void *data;
	size_t len, pos = 0;

	cr_assert_eq(gq_fetch(node, topic, part, from, 1, &f), 0);
	gq_fetch_records(f, &data, &len);
	d = data;
	cr_assert_geq(len, 61);
	while (pos < len) {
		const uint8_t *b = d + pos;
		size_t size;
		gq_offset base;
		int32_t last;

		cr_assert_geq(len - pos, 61);
		size = 12 + (size_t)kb_be32(b + 8);
		cr_assert_leq(size, len - pos);
		cr_assert_eq(b[16], 2, "magic");
		cr_assert_eq(kb_crc32c(b + 21, size - 21), kb_be32(b + 17),
			     "stored batch at offset %lld fails its CRC",
			     (long long)kb_be64(b));
		base = (gq_offset)kb_be64(b);
		last = (int32_t)kb_be32(b + 23);
		if (from >= base && from <= base + last) {
			s.base = base;
			s.count = (int32_t)kb_be32(b + 57);
			s.codec = (int)(((unsigned)b[21] << 8 | b[22]) & 7);
			s.size = size;
		}
		pos += size;
	}
	gq_fetch_destroy(f);
	cr_assert_neq(s.base, -1, "no stored batch holds offset %lld",
		      (long long)from);
	return s;
}

/* ---------------------------------------------------------------------- */
/* Topic codecs                                                            */
/* ---------------------------------------------------------------------- */

/* Codec names, indexed by their attribute value.  Parameters are indexes:
 * Criterion runs each test in a new process, where pointers from the
 * parameter table would be stale. */
static const char *const codec_names[] = { "none", "gzip", "snappy", "lz4",
					   "zstd" };
static int codec_params[] = { 0, 1, 2, 3, 4 };

static bool
codec_available(int codec)
{
	return kcomp_available(codec == 0   ? K_NONE
			       : codec == 1 ? K_GZIP
			       : codec == 2 ? K_SNAPPY_RAW
			       : codec == 3 ? K_LZ4
					    : K_ZSTD);
}

ParameterizedTestParameters(codecs, topic_codec_round_trip)
{
	return cr_make_param_array(int, codec_params,
				   sizeof(codec_params) /
					   sizeof(codec_params[0]));
}

/* Each topic codec compresses batches at or above compression_threshold
 * (codec bits = the codec) and stores smaller ones uncompressed (bits 0);
 * every key, value, header and timestamp comes back unchanged. */
ParameterizedTest(int *codec, codecs, topic_codec_round_trip)
{
	const char *name = codec_names[*codec];
	const char *kv[] = { "compression_type", name, "compression_threshold",
			     "512" };
	static char store[64 * 232];
	struct gq_header hdrs[2];
	struct gq_msg big[40];
	struct gq_msg small[2];
	struct gq_msg big2[40];
	int64_t t0 = gqt_now_ms() - 60000;
	gq_offset off;
	struct stored s;

	if (!codec_available(*codec))
		cr_skip_test("%s not built", name);
	gqt_open(&node);
	gqt_create_topic(node, "t", 1, kv, 4);
	fill_msgs(big, hdrs, 40, 200, t0, store);
	cr_assert_eq(gq_produce(node, "t", 0, big, 40, NULL, &off), 0, "%s",
		     gq_node_errmsg(node));
	cr_assert_eq(off, 0);
	/* Two tiny messages: far below the threshold. */
	memset(small, 0, sizeof(small));
	small[0].key = "k";
	small[0].key_len = 1;
	small[0].value = "tiny";
	small[0].value_len = 4;
	small[0].timestamp = t0 + 1000;
	small[1].value = "tinier";
	small[1].value_len = 6;
	small[1].timestamp = t0 + 999; /* not in order: still kept */
	small[1].headers = hdrs;
	small[1].header_count = 1;
	cr_assert_eq(gq_produce(node, "t", 0, small, 2, NULL, &off), 0);
	cr_assert_eq(off, 40);
	/* The same keys and values again (same storage), later timestamps. */
	fill_msgs(big2, hdrs, 40, 200, t0 + 5000, store);
	cr_assert_eq(gq_produce(node, "t", 0, big2, 40, NULL, &off), 0);
	cr_assert_eq(off, 42);

	s = stored_batch("t", 0, 0);
	cr_assert_eq(s.base, 0);
	cr_assert_eq(s.count, 40);
	cr_assert_eq(s.codec, *codec, "codec bits %d, want %d (%s)", s.codec,
		     *codec, name);
	if (*codec != 0)
		cr_assert_lt(s.size, 40 * 200 / 2, "not compressed: %zu",
			     s.size);
	s = stored_batch("t", 0, 41);
	cr_assert_eq(s.base, 40);
	cr_assert_eq(s.count, 2);
	cr_assert_eq(s.codec, 0, "small batch stored with codec %d", s.codec);
	s = stored_batch("t", 0, 81);
	cr_assert_eq(s.base, 42);
	cr_assert_eq(s.codec, *codec);

	check_fetch("t", 0, 0, big, 40);
	check_fetch("t", 0, 40, small, 2);
	check_fetch("t", 0, 42, big2, 40);
	cr_assert_eq(hw("t"), 82);
	/* From the middle of a compressed batch: earlier records skipped. */
	check_fetch("t", 0, 17, big + 17, 23);
	/* The data stays readable after a restart. */
	gqt_reopen(&node);
	check_fetch("t", 0, 0, big, 40);
	check_fetch("t", 0, 42, big2, 40);
}

/* With compression_enabled=false nothing is compressed, whatever the type
 * and size, and the data still round-trips. */
Test(codecs, compression_disabled)
{
	const char *kv[] = { "compression_enabled",   "false",
			     "compression_type",      "gzip",
			     "compression_threshold", "0" };
	static char store[40 * 232];
	struct gq_header hdrs[2];
	struct gq_msg m[40];

	gqt_open(&node);
	gqt_create_topic(node, "off", 1, kv, 6);
	fill_msgs(m, hdrs, 40, 200, gqt_now_ms(), store);
	cr_assert_eq(gq_produce(node, "off", 0, m, 40, NULL, NULL), 0);
	cr_assert_eq(stored_batch("off", 0, 0).codec, 0);
	cr_assert_eq(gq_produce(node, "off", 0, m, 1, NULL, NULL), 0);
	cr_assert_eq(stored_batch("off", 0, 40).codec, 0);
	check_fetch("off", 0, 0, m, 40);
	cr_assert_eq(hw("off"), 41);
}

/* The default topic configuration is gzip above 1024 bytes. */
Test(codecs, default_is_gzip_above_1024)
{
	static char store[40 * 232];
	struct gq_header hdrs[2];
	struct gq_msg m[40];

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "d", 1, 1, NULL), 0);
	fill_msgs(m, hdrs, 40, 200, gqt_now_ms(), store);
	cr_assert_eq(gq_produce(node, "d", 0, m, 40, NULL, NULL), 0);
	cr_assert_eq(gq_produce(node, "d", 0, m, 3, NULL, NULL), 0);
	cr_assert_eq(stored_batch("d", 0, 0).codec, 1);
	cr_assert_eq(stored_batch("d", 0, 40).codec, 0);
	check_fetch("d", 0, 0, m, 40);
	check_fetch("d", 0, 40, m, 3);
	cr_assert_eq(hw("d"), 43);
}

/* Size of the uncompressed RecordBatch v2 encoding of @m[0..n). */
static size_t
encoded_size(const struct gq_msg *m, size_t n)
{
	struct kbuf rec = { 0 };
	size_t size;

	kb_records(&rec, m, n);
	size = 61 + rec.len;
	kb_free(&rec);
	return size;
}

/* compression_threshold is the batch size the header documents: a batch
 * whose encoding is exactly the threshold is compressed ("reaches
 * compression_threshold"), one byte less is not ("smaller than"). */
Test(codecs, threshold_is_the_encoded_batch_size)
{
	const char *kv[] = { "compression_type", "gzip",
			     "compression_threshold", "600" };
	char value[700];
	struct gq_msg m;

	gqt_open(&node);
	gqt_create_topic(node, "th", 1, kv, 4);
	memset(value, 'a', sizeof(value));
	memset(&m, 0, sizeof(m));
	m.value = value;
	m.timestamp = gqt_now_ms();
	/* Find the value length whose batch encodes to exactly 600 bytes. */
	for (m.value_len = 400; m.value_len < sizeof(value); m.value_len++)
		if (encoded_size(&m, 1) == 600)
			break;
	cr_assert_eq(encoded_size(&m, 1), 600);
	cr_assert_eq(gq_produce(node, "th", 0, &m, 1, NULL, NULL), 0);
	m.value_len--;
	cr_assert_eq(encoded_size(&m, 1), 599);
	cr_assert_eq(gq_produce(node, "th", 0, &m, 1, NULL, NULL), 0);
	cr_assert_eq(stored_batch("th", 0, 1).codec, 0,
		     "a 599-byte batch is below the threshold");
	cr_assert_eq(stored_batch("th", 0, 0).codec, 1,
		     "a 600-byte batch reaches compression_threshold 600 but "
		     "was stored uncompressed");
}

/* ---------------------------------------------------------------------- */
/* Batches from Kafka clients                                              */
/* ---------------------------------------------------------------------- */

/* KAFKA-PROTOCOL.md section 2.2: kafka-python's batch, pid 4242, epoch 0,
 * baseSequence 7, records "k1"="hello" (header h=v) and null="world". */
static const uint8_t kafka_example[91] = {
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00, /* baseOffset */
	0x00,
	0x00,
	0x00,
	0x4f, /* batchLength */
	0x00,
	0x00,
	0x00,
	0x00, /* leader epoch */
	0x02, /* magic */
	0x5d,
	0xcb,
	0x0c,
	0xc5, /* crc */
	0x00,
	0x00, /* attributes */
	0x00,
	0x00,
	0x00,
	0x01, /* lastOffsetDelta */
	0x00,
	0x00,
	0x01,
	0x8b,
	0xcf,
	0xe5,
	0x68,
	0x00, /* baseTimestamp */
	0x00,
	0x00,
	0x01,
	0x8b,
	0xcf,
	0xe5,
	0x68,
	0x05, /* maxTimestamp */
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x10,
	0x92, /* producerId */
	0x00,
	0x00, /* producerEpoch */
	0x00,
	0x00,
	0x00,
	0x07, /* baseSequence */
	0x00,
	0x00,
	0x00,
	0x02, /* recordCount */
	/* record 0 */
	0x22,
	0x00,
	0x00,
	0x00,
	0x04,
	0x6b,
	0x31,
	0x0a,
	0x68,
	0x65,
	0x6c,
	0x6c,
	0x6f,
	0x02,
	0x02,
	0x68,
	0x02,
	0x76,
	/* record 1 */
	0x16,
	0x00,
	0x0a,
	0x02,
	0x01,
	0x0a,
	0x77,
	0x6f,
	0x72,
	0x6c,
	0x64,
	0x00,
};

static const struct gq_header example_hdr = { "h", 1, "v", 1 };

static void
example_msgs(struct gq_msg m[2])
{
	memset(m, 0, 2 * sizeof(*m));
	m[0].key = "k1";
	m[0].key_len = 2;
	m[0].value = "hello";
	m[0].value_len = 5;
	m[0].headers = &example_hdr;
	m[0].header_count = 1;
	m[0].timestamp = 1700000000000;
	m[1].value = "world";
	m[1].value_len = 5;
	m[1].timestamp = 1700000000005;
}

/* The test's own encoder and CRC reproduce the documented bytes exactly
 * (so the batches built below are what a Kafka client sends). */
Test(codecs, test_encoder_matches_kafka_example)
{
	static const uint8_t check[] = "123456789";
	struct kbuf b = { 0 };
	struct gq_msg m[2];

	cr_assert_eq(kb_crc32c(check, 9), 0xE3069283u);
	cr_assert_eq(kb_crc32c(kafka_example + 21, sizeof(kafka_example) - 21),
		     0x5dcb0cc5u);
	example_msgs(m);
	kafka_batch(&b, m, 2, K_NONE, 4242, 0, 7);
	cr_assert_eq(b.len, sizeof(kafka_example));
	cr_assert_eq(memcmp(b.p, kafka_example, b.len), 0);
	kb_free(&b);
}

/* kafka-python's batch from the protocol notes is accepted as is, stored
 * byte for byte (but for base offset and leader epoch) and decodes. */
Test(codecs, kafka_example_batch)
{
	struct gq_msg m[2];
	struct gq_fetch *f;
	const void *data;
	size_t len;
	gq_offset off;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "k", 1, 1, NULL), 0);
	example_msgs(m);
	/* Put it after something so its base offset gets rewritten. */
	cr_assert_eq(gq_produce(node, "k", 0, m, 1, NULL, NULL), 0);
	cr_assert_eq(gqt_produce_raw(node, "k", 0, kafka_example,
				     sizeof(kafka_example), &off),
		     0, "%s", gq_node_errmsg(node));
	cr_assert_eq(off, 1);
	check_fetch("k", 0, 1, m, 2);
	cr_assert_eq(hw("k"), 3);

	cr_assert_eq(gq_fetch(node, "k", 0, 1, 1, &f), 0);
	gq_fetch_records(f, &data, &len);
	cr_assert_eq(len, sizeof(kafka_example));
	cr_assert_eq(kb_be64(data), 1, "base offset rewritten");
	cr_assert_eq(memcmp((const uint8_t *)data + 16, kafka_example + 16,
			    len - 16),
		     0, "stored unchanged from the magic on");
	gq_fetch_destroy(f);
}

static const char *const kcomp_names[] = {
	"none",
	"gzip",
	"snappy (raw, librdkafka)",
	"snappy (xerial, Java)",
	"lz4 (frame, librdkafka)",
	"lz4 (frame with content size, kafka-python)",
	"zstd (with content size)",
	"zstd (no content size)",
};
static enum kcomp kafka_params[] = { K_GZIP,          K_SNAPPY_RAW,
				     K_SNAPPY_XERIAL, K_LZ4,
				     K_LZ4_SIZE,      K_ZSTD,
				     K_ZSTD_NOSIZE };

ParameterizedTestParameters(codecs, kafka_compressed_batches)
{
	return cr_make_param_array(enum kcomp, kafka_params,
				   sizeof(kafka_params) /
					   sizeof(kafka_params[0]));
}

/* Batches compressed by a Kafka producer, small and large (several snappy
 * chunks and LZ4 blocks), are stored with the producer's codec, unchanged,
 * and every record decodes through gq_fetch_next(). */
ParameterizedTest(enum kcomp *comp, codecs, kafka_compressed_batches)
{
	static char store[600 * 232];
	struct gq_header hdrs[2];
	static struct gq_msg m[600];
	struct kbuf b = { 0 };
	struct gq_fetch *f;
	const void *data;
	size_t len, first_len;
	gq_offset off;
	struct stored s;
	int rv;

	if (!kcomp_available(*comp))
		cr_skip_test("%s not built", kcomp_names[*comp]);
	gqt_open(&node);
	/* The topic's own codec (default gzip) does not matter for these. */
	cr_assert_eq(gq_topic_create(node, "kc", 1, 1, NULL), 0);
	fill_msgs(m, hdrs, 600, 200, gqt_now_ms() - 1000, store);

	kafka_batch(&b, m, 5, *comp, -1, -1, -1);
	first_len = b.len;
	rv = gqt_produce_raw(node, "kc", 0, b.p, b.len, &off);
	cr_assert_eq(rv, 0, "%s: %s: %s", kcomp_names[*comp], gq_strerror(rv),
		     gq_node_errmsg(node));
	cr_assert_eq(off, 0);
	b.len = 0;
	kafka_batch(&b, m + 5, 595, *comp, -1, -1, -1);
	cr_assert_gt(595 * 200, 100 * 1024, "large enough for many blocks");
	rv = gqt_produce_raw(node, "kc", 0, b.p, b.len, &off);
	cr_assert_eq(rv, 0, "%s: %s: %s", kcomp_names[*comp], gq_strerror(rv),
		     gq_node_errmsg(node));
	cr_assert_eq(off, 5);

	s = stored_batch("kc", 0, 0);
	cr_assert_eq(s.codec, kcomp_codec(*comp));
	cr_assert_eq(s.size, first_len, "stored as sent, not recompressed");
	s = stored_batch("kc", 0, 5);
	cr_assert_eq(s.codec, kcomp_codec(*comp));
	cr_assert_eq(s.size, b.len);
	cr_assert_eq(gq_fetch(node, "kc", 0, 5, 1, &f), 0);
	gq_fetch_records(f, &data, &len);
	cr_assert_eq(len, b.len);
	cr_assert_eq(memcmp((const uint8_t *)data + 16, b.p + 16, len - 16), 0);
	gq_fetch_destroy(f);

	check_fetch("kc", 0, 0, m, 600);
	check_fetch("kc", 0, 300, m + 300, 300);
	cr_assert_eq(hw("kc"), 600);
	kb_free(&b);
}

/* Several batches in one call are all stored, at consecutive offsets. */
Test(codecs, raw_several_batches_in_one_call)
{
	static char store[30 * 232];
	struct gq_header hdrs[2];
	struct gq_msg m[30];
	struct kbuf b = { 0 };
	gq_offset off;

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "multi", 1, 1, NULL), 0);
	fill_msgs(m, hdrs, 30, 100, gqt_now_ms(), store);
	kafka_batch(&b, m, 10, K_NONE, -1, -1, -1);
	kafka_batch(&b, m + 10, 10, K_GZIP, -1, -1, -1);
	kafka_batch(&b, m + 20, 10, K_NONE, -1, -1, -1);
	cr_assert_eq(gqt_produce_raw(node, "multi", 0, b.p, b.len, &off), 0);
	cr_assert_eq(off, 0);
	check_fetch("multi", 0, 0, m, 30);
	cr_assert_eq(hw("multi"), 30);
	cr_assert_eq(stored_batch("multi", 0, 15).base, 10);
	cr_assert_eq(stored_batch("multi", 0, 15).codec, 1);
	kb_free(&b);
}

/* A batch whose CRC does not match (bit flipped in the records, in the
 * header, or in the CRC itself) is refused with GQ_ECORRUPT and nothing is
 * stored; a good batch next to a bad one is not stored either. */
Test(codecs, raw_bad_crc_refused)
{
	static char store[10 * 132];
	struct gq_header hdrs[2];
	struct gq_msg m[10];
	struct kbuf b = { 0 };
	struct kbuf two = { 0 };
	gq_offset off;
	size_t flips[] = { 17, 20, 21, 30, 58, 61, 100 };

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "crc", 1, 1, NULL), 0);
	fill_msgs(m, hdrs, 10, 100, gqt_now_ms(), store);
	kafka_batch(&b, m, 10, K_NONE, -1, -1, -1);
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		b.p[flips[i]] ^= 0x10;
		produce_raw_refused("crc", b.p, b.len, GQ_ECORRUPT);
		b.p[flips[i]] ^= 0x10;
	}
	b.p[b.len - 1] ^= 1; /* the last byte of the last record */
	produce_raw_refused("crc", b.p, b.len, GQ_ECORRUPT);
	b.p[b.len - 1] ^= 1;
	/* good + bad in one call: all or nothing */
	kb_put(&two, b.p, b.len);
	kb_put(&two, b.p, b.len);
	two.p[b.len + 70] ^= 0xff;
	produce_raw_refused("crc", two.p, two.len, GQ_ECORRUPT);
	/* A compressed batch too. */
	two.len = 0;
	kafka_batch(&two, m, 10, K_GZIP, -1, -1, -1);
	two.p[two.len - 3] ^= 0x01;
	produce_raw_refused("crc", two.p, two.len, GQ_ECORRUPT);
	/* The untouched batch is fine, and lands at offset 0. */
	cr_assert_eq(gqt_produce_raw(node, "crc", 0, b.p, b.len, &off), 0);
	cr_assert_eq(off, 0);
	check_fetch("crc", 0, 0, m, 10);
	cr_assert_eq(hw("crc"), 10);
	kb_free(&b);
	kb_free(&two);
}

/* A batch cut short anywhere, or followed by a partial one, is refused
 * with GQ_ECORRUPT and nothing is stored. */
Test(codecs, raw_truncated_refused)
{
	static char store[10 * 132];
	struct gq_header hdrs[2];
	struct gq_msg m[10];
	struct kbuf b = { 0 };
	struct kbuf two = { 0 };
	size_t cuts[] = { 1, 12, 16, 17, 21, 40, 60, 61, 62, 0 };

	gqt_open(&node);
	cr_assert_eq(gq_topic_create(node, "cut", 1, 1, NULL), 0);
	fill_msgs(m, hdrs, 10, 100, gqt_now_ms(), store);
	kafka_batch(&b, m, 10, K_NONE, -1, -1, -1);
	cuts[sizeof(cuts) / sizeof(cuts[0]) - 1] = b.len - 1;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		produce_raw_refused("cut", b.p, cuts[i], GQ_ECORRUPT);
	/* A whole batch followed by the first 30 bytes of another. */
	kb_put(&two, b.p, b.len);
	kb_put(&two, b.p, 30);
	produce_raw_refused("cut", two.p, two.len, GQ_ECORRUPT);
	/* batchLength claiming more bytes than were sent */
	two.len = 0;
	kb_put(&two, b.p, b.len);
	two.p[11] += 1;
	produce_raw_refused("cut", two.p, two.len, GQ_ECORRUPT);
	kb_free(&b);
	kb_free(&two);
}

/* A batch larger than the topic's max_message_size is refused with
 * GQ_ETOOBIG; one just within the limit is stored. */
Test(codecs, raw_too_big_refused)
{
	const char *kv[] = { "max_message_size", "2048" };
	static char store[40 * 232];
	struct gq_header hdrs[2];
	struct gq_msg m[40];
	struct kbuf b = { 0 };
	gq_offset off;
	size_t n;

	gqt_open(&node);
	gqt_create_topic(node, "big", 1, kv, 2);
	fill_msgs(m, hdrs, 40, 200, gqt_now_ms(), store);
	kafka_batch(&b, m, 40, K_NONE, -1, -1, -1);
	cr_assert_gt(b.len, 2048);
	produce_raw_refused("big", b.p, b.len, GQ_ETOOBIG);
	/* Compressed, the same records fit. */
	b.len = 0;
	kafka_batch(&b, m, 40, GQT_HAVE_ZSTD ? K_ZSTD : K_GZIP, -1, -1, -1);
	cr_assert_leq(b.len, 2048);
	cr_assert_eq(gqt_produce_raw(node, "big", 0, b.p, b.len, &off), 0);
	cr_assert_eq(off, 0);
	/* The largest uncompressed batch that fits is stored. */
	for (n = 40; n > 0; n--) {
		b.len = 0;
		kafka_batch(&b, m, n, K_NONE, -1, -1, -1);
		if (b.len <= 2048)
			break;
	}
	cr_assert_eq(gqt_produce_raw(node, "big", 0, b.p, b.len, &off), 0);
	cr_assert_eq(off, 40);
	check_fetch("big", 0, 40, m, n);
	cr_assert_eq(hw("big"), 40 + (gq_offset)n);
	kb_free(&b);
}
