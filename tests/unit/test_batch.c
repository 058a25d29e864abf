/* SPDX-License-Identifier: MIT */
/*
 * test_batch.c - RecordBatch v2: the kafka-python worked example from
 * KAFKA-PROTOCOL.md 2.2 decoded field by field and re-encoded byte for
 * byte, build/iterate round trips (uncompressed and every codec), CRC
 * coverage, and hostile input: truncation at every length, corrupt varints,
 * record-count mismatches, unsupported magic, allocation failures.  The
 * zigzag varint helpers of varint.h are tested here too (suite varint).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goqueue.h"

#include "batch.h"
#include "buf.h"
#include "codec.h"
#include "crc32c.h"
#include "varint.h"

TestSuite(batch, .timeout = 30);
TestSuite(varint, .timeout = 30);

/* KAFKA-PROTOCOL.md 2.2: kafka-python, pid 4242, epoch 0, baseSequence 7. */
static const uint8_t example[91] = {
	/* baseOffset 0, batchLength 79, leaderEpoch 0, magic 2 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4f,
	0x00, 0x00, 0x00, 0x00, 0x02,
	/* crc 0x5dcb0cc5, attributes 0, lastOffsetDelta 1 */
	0x5d, 0xcb, 0x0c, 0xc5, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	/* baseTimestamp 1700000000000, maxTimestamp 1700000000005 */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x01, 0x8b,
	0xcf, 0xe5, 0x68, 0x05,
	/* producerId 4242, producerEpoch 0, baseSequence 7, recordCount 2 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x92, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x07, 0x00, 0x00, 0x00, 0x02,
	/* record #0: key "k1", value "hello", header h=v */
	0x22, 0x00, 0x00, 0x00, 0x04, 0x6b, 0x31, 0x0a, 0x68, 0x65, 0x6c, 0x6c,
	0x6f, 0x02, 0x02, 0x68, 0x02, 0x76,
	/* record #1: tsDelta 5, offsetDelta 1, null key, value "world" */
	0x16, 0x00, 0x0a, 0x02, 0x01, 0x0a, 0x77, 0x6f, 0x72, 0x6c, 0x64, 0x00
};

#define MAX_DECOMP (64u << 20)

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

/* Recompute the CRC of a batch of @total bytes after editing it. */
static void
fix_crc(uint8_t *b, size_t total)
{
	gq__be32_put(b + 17, gq__crc32c(0, b + 21, total - 21));
}

/* Decode "0a 1b ..." into bytes; returns the count. */
static size_t
hex_put(uint8_t *p, const char *hex)
{
	size_t n = 0;
	unsigned v;

	while (sscanf(hex, "%2x", &v) == 1) {
		p[n++] = (uint8_t)v;
		hex += 2;
		while (*hex == ' ')
			hex++;
	}
	return n;
}

/*
 * Wrap a raw records section in a valid header (base offset 0, base and
 * max timestamp 1000, no producer id) with a correct CRC; returns its
 * size.
 */
static size_t
make_batch(uint8_t *dst, const void *records, size_t rlen, int32_t count,
	   int32_t last_delta, int16_t attrs)
{
	memset(dst, 0, GQ__BATCH_HEADER_SIZE);
	gq__be32_put(dst + 8, (uint32_t)(rlen + 49));
	dst[16] = 2;
	gq__be16_put(dst + 21, (uint16_t)attrs);
	gq__be32_put(dst + 23, (uint32_t)last_delta);
	gq__be64_put(dst + 27, 1000);
	gq__be64_put(dst + 35, 1000);
	gq__be64_put(dst + 43, (uint64_t)-1);
	gq__be16_put(dst + 51, (uint16_t)-1);
	gq__be32_put(dst + 53, (uint32_t)-1);
	gq__be32_put(dst + 57, (uint32_t)count);
	memcpy(dst + GQ__BATCH_HEADER_SIZE, records, rlen);
	fix_crc(dst, rlen + GQ__BATCH_HEADER_SIZE);
	return rlen + GQ__BATCH_HEADER_SIZE;
}

/* Iterate a whole batch; returns the final iterator result (0 = clean
 * end) and the number of records seen. */
static int
iterate_all(const void *b, size_t len, int *nrec)
{
	struct gq__record_iter it;
	struct gq__record rec;
	int rv;

	*nrec = 0;
	if ((rv = gq__record_iter_init(&it, b, len, MAX_DECOMP)) != 0) {
		gq__record_iter_close(&it);
		return rv;
	}
	while ((rv = gq__record_iter_next(&it, &rec)) == 1)
		(*nrec)++;
	gq__record_iter_close(&it);
	return rv;
}

/* Wrap @records in a batch, check it validates, and iterate it all. */
static int
iterate_raw(const void *records, size_t rlen, int32_t count, int32_t last_delta)
{
	uint8_t b[512];
	size_t n;
	int nrec;

	n = make_batch(b, records, rlen, count, last_delta, 0);
	cr_assert(eq(int,
		     gq__batch_validate(b, n, &(struct gq__batch_header){ 0 }),
		     0));
	return iterate_all(b, n, &nrec);
}

static void
assert_bytes(const uint8_t *p, int64_t len, const char *want)
{
	cr_assert(ne(ptr, (void *)p, NULL));
	cr_assert(eq(i64, len, (int64_t)strlen(want)));
	cr_assert(eq(int, memcmp(p, want, strlen(want)), 0));
}

/* ---------------------------------------------------------------------- */
/* The worked example */

/* Every header field of the worked example decodes to the documented
 * value and its CRC verifies. */
Test(batch, example_header)
{
	struct gq__batch_header h;

	cr_assert(eq(int, gq__batch_validate(example, sizeof(example), &h), 0));
	cr_assert(eq(i64, h.base_offset, 0));
	cr_assert(eq(i32, h.batch_length, 79));
	cr_assert(eq(i32, h.leader_epoch, 0));
	cr_assert(eq(i8, h.magic, 2));
	cr_assert(eq(u32, h.crc, 0x5dcb0cc5u));
	cr_assert(eq(i16, h.attributes, 0));
	cr_assert(eq(i32, h.last_offset_delta, 1));
	cr_assert(eq(i64, h.base_timestamp, 1700000000000));
	cr_assert(eq(i64, h.max_timestamp, 1700000000005));
	cr_assert(eq(i64, h.producer_id, 4242));
	cr_assert(eq(i16, h.producer_epoch, 0));
	cr_assert(eq(i32, h.base_sequence, 7));
	cr_assert(eq(i32, h.record_count, 2));
	cr_assert(eq(sz, gq__batch_total_size(&h), 91));
	cr_assert(eq(i64, gq__batch_last_offset(&h), 1));
	cr_assert(eq(int, gq__batch_verify_crc(example, &h), 0));
	cr_assert(eq(u32, gq__crc32c(0, example + 21, 70), 0x5dcb0cc5u));
}

/* The example's two records decode to k1=hello (header h=v) at offset 0
 * and null=world at offset 1, five milliseconds later, then the end. */
Test(batch, example_records)
{
	struct gq__record_iter it;
	struct gq__record rec;
	struct gq_header hdr;

	cr_assert(eq(
		int,
		gq__record_iter_init(&it, example, sizeof(example), MAX_DECOMP),
		0));
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 1));
	cr_assert(eq(i64, rec.offset, 0));
	cr_assert(eq(i64, rec.timestamp, 1700000000000));
	assert_bytes(rec.key, rec.key_len, "k1");
	assert_bytes(rec.value, rec.value_len, "hello");
	cr_assert(eq(u32, rec.header_count, 1));
	cr_assert(eq(sz, rec.headers_len, 4));
	cr_assert(eq(int, gq__record_header(&rec, 0, &hdr), 0));
	assert_bytes((const uint8_t *)hdr.key, (int64_t)hdr.key_len, "h");
	assert_bytes(hdr.value, (int64_t)hdr.value_len, "v");
	cr_assert(eq(int, gq__record_header(&rec, 1, &hdr), GQ_EINVAL));

	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 1));
	cr_assert(eq(i64, rec.offset, 1));
	cr_assert(eq(i64, rec.timestamp, 1700000000005));
	cr_assert(eq(ptr, (void *)rec.key, NULL));
	cr_assert(eq(i64, rec.key_len, -1));
	assert_bytes(rec.value, rec.value_len, "world");
	cr_assert(eq(u32, rec.header_count, 0));
	cr_assert(eq(sz, rec.headers_len, 0));
	cr_assert(eq(int, gq__record_header(&rec, 0, &hdr), GQ_EINVAL));

	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 0));
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 0));
	gq__record_iter_close(&it);
}

/* Building the example's messages reproduces kafka-python's bytes
 * exactly, once the leader epoch (outside the CRC) is set to the
 * producer's 0. */
Test(batch, example_rebuilt_byte_for_byte)
{
	struct gq_header h = {
		.key = "h", .key_len = 1, .value = "v", .value_len = 1
	};
	struct gq_msg m[2];
	struct gq__buf out = GQ__BUF_INIT;

	memset(m, 0, sizeof(m));
	m[0].key = "k1";
	m[0].key_len = 2;
	m[0].value = "hello";
	m[0].value_len = 5;
	m[0].headers = &h;
	m[0].header_count = 1;
	m[0].timestamp = 1700000000000;
	m[1].value = "world";
	m[1].value_len = 5;
	m[1].timestamp = 1700000000005;
	cr_assert(eq(
		int,
		gq__batch_build(m, 2, GQ__CODEC_NONE, 0, 4242, 0, 7, 1, &out),
		0));
	cr_assert(eq(sz, out.len, sizeof(example)));
	cr_assert(eq(i32, (int32_t)gq__be32_get(out.base + 12), -1));
	gq__batch_set_leader_epoch(out.base, 0);
	cr_assert(eq(int, memcmp(out.base, example, sizeof(example)), 0));
	gq__buf_free(&out);
}

/* Rewriting base offset and leader epoch keeps the CRC valid and shifts
 * every record's offset. */
Test(batch, rewrite_outside_crc)
{
	uint8_t b[sizeof(example)];
	struct gq__batch_header h;
	struct gq__record_iter it;
	struct gq__record rec;

	memcpy(b, example, sizeof(b));
	gq__batch_set_base_offset(b, 1000000007);
	gq__batch_set_leader_epoch(b, 42);
	cr_assert(eq(int, gq__batch_validate(b, sizeof(b), &h), 0));
	cr_assert(eq(i64, h.base_offset, 1000000007));
	cr_assert(eq(i32, h.leader_epoch, 42));
	cr_assert(eq(i64, gq__batch_last_offset(&h), 1000000008));
	cr_assert(eq(int, gq__record_iter_init(&it, b, sizeof(b), MAX_DECOMP),
		     0));
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 1));
	cr_assert(eq(i64, rec.offset, 1000000007));
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 1));
	cr_assert(eq(i64, rec.offset, 1000000008));
	gq__record_iter_close(&it);
}

/* Flipping any byte the CRC covers (or the CRC itself) fails
 * validation; flipping base offset or leader epoch bytes does not; a
 * bad batchLength or magic is rejected too. */
Test(batch, crc_covers_every_byte)
{
	uint8_t b[sizeof(example)];
	struct gq__batch_header h;
	size_t i;
	int rv;

	for (i = 0; i < sizeof(example); i++) {
		memcpy(b, example, sizeof(b));
		b[i] ^= 0x01;
		rv = gq__batch_validate(b, sizeof(b), &h);
		if (i < 8 || (i >= 12 && i < 16))
			cr_assert(eq(int, rv, 0), "byte %zu", i);
		else if (i == 16)
			cr_assert(eq(int, rv, GQ_EUNSUPPORTED), "byte %zu", i);
		else
			cr_assert(eq(int, rv, GQ_ECORRUPT), "byte %zu", i);
	}
}

/* Two batches back to back: the header of the first is parsed and its
 * total size leads to the second. */
Test(batch, consecutive_batches)
{
	uint8_t b[2 * sizeof(example)];
	struct gq__batch_header h;
	size_t n;

	memcpy(b, example, sizeof(example));
	memcpy(b + sizeof(example), example, sizeof(example));
	gq__batch_set_base_offset(b + sizeof(example), 2);
	cr_assert(eq(int, gq__batch_validate(b, sizeof(b), &h), 0));
	n = gq__batch_total_size(&h);
	cr_assert(eq(sz, n, sizeof(example)));
	cr_assert(eq(int, gq__batch_validate(b + n, sizeof(b) - n, &h), 0));
	cr_assert(eq(i64, h.base_offset, 2));
}

/* ---------------------------------------------------------------------- */
/* Build and iterate */

/* Messages with keys, values, null and empty keys and values, headers
 * (null and empty parts included) and timestamps (0 = now, earlier than
 * the first) come back unchanged, with offsets 0..n-1. */
Test(batch, round_trip)
{
	static const struct gq_header hdrs[] = {
		{ .key = "trace",
		  .key_len = 5,
		  .value = "abc",
		  .value_len = 3 },
		{ .key = "tomb", .key_len = 4, .value = NULL, .value_len = 0 },
		{ .key = NULL, .key_len = 0, .value = "", .value_len = 0 },
	};
	static char big[70000];
	struct gq_msg m[6];
	struct gq__buf out = GQ__BUF_INIT;
	struct gq__batch_header h;
	struct gq__record_iter it;
	struct gq__record rec;
	struct gq_header hd;
	int64_t want_ts[6] = { 5000, 7000, 4000, 7000, 12345, 7000 };
	int i;

	memset(m, 0, sizeof(m));
	memset(big, 'z', sizeof(big));
	m[0] = (struct gq_msg){ .key = "key0",
				.key_len = 4,
				.value = "val0",
				.value_len = 4,
				.timestamp = 5000 };
	m[1] = (struct gq_msg){ .key = NULL,
				.value = "no key",
				.value_len = 6,
				.headers = hdrs,
				.header_count = 3 };
	m[2] = (struct gq_msg){ .key = "tombstone",
				.key_len = 9,
				.value = NULL,
				.timestamp = 4000 };
	m[3] = (struct gq_msg){
		.key = "", .key_len = 0, .value = "", .value_len = 0
	};
	m[4] = (struct gq_msg){ .key = "big",
				.key_len = 3,
				.value = big,
				.value_len = sizeof(big),
				.timestamp = 12345,
				.headers = hdrs,
				.header_count = 1 };
	m[5] = (struct gq_msg){ 0 };

	cr_assert(eq(int,
		     gq__batch_build(m, 6, GQ__CODEC_NONE, 0, 77, 3, 100, 7000,
				     &out),
		     0));
	cr_assert(eq(int, gq__batch_validate(out.base, out.len, &h), 0));
	cr_assert(eq(sz, gq__batch_total_size(&h), out.len));
	cr_assert(eq(i64, h.base_offset, 0));
	cr_assert(eq(i32, h.leader_epoch, -1));
	cr_assert(eq(i16, h.attributes, 0));
	cr_assert(eq(i32, h.last_offset_delta, 5));
	cr_assert(eq(i32, h.record_count, 6));
	cr_assert(eq(i64, h.base_timestamp, 5000));
	cr_assert(eq(i64, h.max_timestamp, 12345));
	cr_assert(eq(i64, h.producer_id, 77));
	cr_assert(eq(i16, h.producer_epoch, 3));
	cr_assert(eq(i32, h.base_sequence, 100));

	cr_assert(eq(int,
		     gq__record_iter_init(&it, out.base, out.len, MAX_DECOMP),
		     0));
	for (i = 0; i < 6; i++) {
		cr_assert(eq(int, gq__record_iter_next(&it, &rec), 1));
		cr_assert(eq(i64, rec.offset, i));
		cr_assert(eq(i64, rec.timestamp, want_ts[i]));
		if (m[i].key == NULL) {
			cr_assert(eq(ptr, (void *)rec.key, NULL));
			cr_assert(eq(i64, rec.key_len, -1));
		} else {
			cr_assert(ne(ptr, (void *)rec.key, NULL));
			cr_assert(eq(i64, rec.key_len, (int64_t)m[i].key_len));
			cr_assert(eq(int,
				     memcmp(rec.key, m[i].key, m[i].key_len),
				     0));
		}
		if (m[i].value == NULL) {
			cr_assert(eq(ptr, (void *)rec.value, NULL));
			cr_assert(eq(i64, rec.value_len, -1));
		} else {
			cr_assert(ne(ptr, (void *)rec.value, NULL));
			cr_assert(eq(i64, rec.value_len,
				     (int64_t)m[i].value_len));
			cr_assert(eq(
				int,
				memcmp(rec.value, m[i].value, m[i].value_len),
				0));
		}
		cr_assert(
			eq(u32, rec.header_count, (uint32_t)m[i].header_count));
	}
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 0));
	gq__record_iter_close(&it);

	/* Headers of record 1: trace=abc, tomb=null, ""="" */
	cr_assert(eq(int,
		     gq__record_iter_init(&it, out.base, out.len, MAX_DECOMP),
		     0));
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 1));
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 1));
	cr_assert(eq(int, gq__record_header(&rec, 0, &hd), 0));
	assert_bytes((const uint8_t *)hd.key, (int64_t)hd.key_len, "trace");
	assert_bytes(hd.value, (int64_t)hd.value_len, "abc");
	cr_assert(eq(int, gq__record_header(&rec, 1, &hd), 0));
	assert_bytes((const uint8_t *)hd.key, (int64_t)hd.key_len, "tomb");
	cr_assert(eq(ptr, (void *)hd.value, NULL));
	cr_assert(eq(sz, hd.value_len, 0));
	cr_assert(eq(int, gq__record_header(&rec, 2, &hd), 0));
	cr_assert(eq(sz, hd.key_len, 0));
	cr_assert(ne(ptr, (void *)hd.value, NULL));
	cr_assert(eq(sz, hd.value_len, 0));
	cr_assert(eq(int, gq__record_header(&rec, 3, &hd), GQ_EINVAL));
	gq__record_iter_close(&it);
	gq__buf_free(&out);
}

/* Six messages of every shape: keys, null keys and values, headers,
 * a 70 kB value, explicit timestamps before and after the first. */
static void
merge_msgs(struct gq_msg m[6])
{
	static const struct gq_header hdrs[] = {
		{ .key = "trace",
		  .key_len = 5,
		  .value = "abc",
		  .value_len = 3 },
		{ .key = "tomb", .key_len = 4, .value = NULL, .value_len = 0 },
	};
	static char big[70000];

	memset(big, 'z', sizeof(big));
	memset(m, 0, 6 * sizeof(*m));
	m[0] = (struct gq_msg){ .key = "key0",
				.key_len = 4,
				.value = "val0",
				.value_len = 4,
				.timestamp = 5000 };
	m[1] = (struct gq_msg){ .value = "no key",
				.value_len = 6,
				.headers = hdrs,
				.header_count = 2 };
	m[2] = (struct gq_msg){ .key = "tombstone",
				.key_len = 9,
				.timestamp = 4000 };
	m[3] = (struct gq_msg){ .key = "", .value = "", .timestamp = -20 };
	m[4] = (struct gq_msg){ .key = "big",
				.key_len = 3,
				.value = big,
				.value_len = sizeof(big),
				.timestamp = 12345,
				.headers = hdrs,
				.header_count = 1 };
	m[5] = (struct gq_msg){ 0 };
}

/* Batches of two messages each, merged, are byte for byte the batch of
 * all six built at once: offsets and timestamps re-based, the rest
 * copied. */
Test(batch, merge_equals_one_build)
{
	struct gq__batch_merge m = GQ__BATCH_MERGE_INIT;
	struct gq__buf part = GQ__BUF_INIT, merged = GQ__BUF_INIT;
	struct gq__buf whole = GQ__BUF_INIT;
	struct gq_msg msgs[6];

	merge_msgs(msgs);
	for (int i = 0; i < 6; i += 2) {
		cr_assert(eq(int,
			     gq__batch_build(&msgs[i], 2, GQ__CODEC_NONE, 0, -1,
					     -1, -1, 7000, &part),
			     0));
		cr_assert(eq(int, gq__batch_merge_add(&m, part.base, part.len),
			     0));
		gq__buf_free(&part);
	}
	cr_assert(eq(i32, m.count, 6));
	cr_assert(eq(int,
		     gq__batch_merge_finish(&m, GQ__CODEC_NONE, 0, 77, 3, 100,
					    &merged),
		     0));
	cr_assert(eq(i32, m.count, 0));
	cr_assert(eq(int,
		     gq__batch_build(msgs, 6, GQ__CODEC_NONE, 0, 77, 3, 100,
				     7000, &whole),
		     0));
	cr_assert(eq(sz, merged.len, whole.len));
	cr_assert(eq(int, memcmp(merged.base, whole.base, whole.len), 0));
	gq__buf_free(&merged);
	gq__buf_free(&whole);
}

/* A merge compressed on finishing decodes to the same records; a
 * compressed or corrupt input is refused and leaves the merge as it
 * was. */
Test(batch, merge_compressed_and_refusals)
{
	struct gq__batch_merge m = GQ__BATCH_MERGE_INIT;
	struct gq__buf a = GQ__BUF_INIT, z = GQ__BUF_INIT, out = GQ__BUF_INIT;
	struct gq__batch_header h;
	struct gq__record_iter it;
	struct gq__record rec;
	struct gq_msg msgs[6];
	size_t len;

	merge_msgs(msgs);
	cr_assert(eq(int,
		     gq__batch_build(msgs, 6, GQ__CODEC_NONE, 0, -1, -1, -1,
				     7000, &a),
		     0));
	cr_assert(eq(int,
		     gq__batch_build(msgs, 6, GQ__CODEC_GZIP, 0, -1, -1, -1,
				     7000, &z),
		     0));
	cr_assert(eq(int, gq__batch_merge_add(&m, a.base, a.len), 0));
	len = m.out.len;
	cr_assert(eq(int, gq__batch_merge_add(&m, z.base, z.len), GQ_EINVAL));
	/* Record 0's length is -1 (zigzag 0x01). */
	a.base[GQ__BATCH_HEADER_SIZE] = 0x01;
	cr_assert(eq(int, gq__batch_merge_add(&m, a.base, a.len), GQ_ECORRUPT));
	cr_assert(eq(sz, m.out.len, len));
	cr_assert(eq(i32, m.count, 6));
	cr_assert(
		eq(int,
		   gq__batch_merge_finish(&m, GQ__CODEC_GZIP, 0, 5, 1, 0, &out),
		   0));
	cr_assert(eq(int, gq__batch_validate(out.base, out.len, &h), 0));
	cr_assert(eq(i16, h.attributes & GQ__BATCH_ATTR_CODEC_MASK,
		     GQ__CODEC_GZIP));
	cr_assert(eq(i32, h.record_count, 6));
	cr_assert(eq(i64, h.base_timestamp, 5000));
	cr_assert(eq(i64, h.max_timestamp, 12345));
	cr_assert(eq(int,
		     gq__record_iter_init(&it, out.base, out.len, MAX_DECOMP),
		     0));
	for (int i = 0; i < 6; i++) {
		int64_t ts = msgs[i].timestamp != 0 ? msgs[i].timestamp : 7000;

		cr_assert(eq(int, gq__record_iter_next(&it, &rec), 1));
		cr_assert(eq(i64, rec.offset, i));
		cr_assert(eq(i64, rec.timestamp, ts));
		cr_assert(eq(i64, rec.value_len,
			     msgs[i].value != NULL ? (int64_t)msgs[i].value_len
						   : -1));
		cr_assert(eq(u32, rec.header_count,
			     (uint32_t)msgs[i].header_count));
	}
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 0));
	gq__record_iter_close(&it);
	/* Nothing gathered: nothing to finish. */
	gq__buf_free(&out);
	cr_assert(eq(
		int,
		gq__batch_merge_finish(&m, GQ__CODEC_NONE, 0, -1, -1, -1, &out),
		GQ_EINVAL));
	gq__buf_free(&a);
	gq__buf_free(&z);
}

/* Producer fields rewritten in place keep the CRC right. */
Test(batch, set_producer)
{
	struct gq__buf b = GQ__BUF_INIT;
	struct gq__batch_header h;
	struct gq_msg msgs[6];

	merge_msgs(msgs);
	cr_assert(eq(int,
		     gq__batch_build(msgs, 6, GQ__CODEC_NONE, 0, -1, -1, -1,
				     7000, &b),
		     0));
	cr_assert(eq(int, gq__batch_validate(b.base, b.len, &h), 0));
	gq__batch_set_producer(b.base, &h, 4242, 7, INT32_MAX - 2);
	cr_assert(eq(int, gq__batch_validate(b.base, b.len, &h), 0));
	cr_assert(eq(i64, h.producer_id, 4242));
	cr_assert(eq(i16, h.producer_epoch, 7));
	cr_assert(eq(i32, h.base_sequence, INT32_MAX - 2));
	gq__buf_free(&b);
}

/* A thousand records of growing size, with timestamps far on either
 * side of the first, round-trip through multi-byte varints. */
Test(batch, round_trip_many)
{
	static uint8_t data[2000];
	static struct gq_msg m[1000];
	struct gq__buf out = GQ__BUF_INIT;
	struct gq__batch_header h;
	struct gq__record_iter it;
	struct gq__record rec;
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	for (i = 0; i < 1000; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].key = data + i;
		m[i].key_len = i % 200;
		m[i].value = data;
		m[i].value_len = i;
		m[i].timestamp =
			(int64_t)1700000000000 +
			(int64_t)(i % 2 ? 1 : -1) * (int64_t)i * 86400000;
	}
	cr_assert(eq(int,
		     gq__batch_build(m, 1000, GQ__CODEC_NONE, 0, -1, -1, -1, 1,
				     &out),
		     0));
	cr_assert(eq(int, gq__batch_validate(out.base, out.len, &h), 0));
	cr_assert(eq(i64, h.producer_id, -1));
	cr_assert(eq(i16, h.producer_epoch, -1));
	cr_assert(eq(i32, h.base_sequence, -1));
	cr_assert(eq(i64, h.max_timestamp,
		     (int64_t)1700000000000 + (int64_t)999 * 86400000));
	cr_assert(eq(int,
		     gq__record_iter_init(&it, out.base, out.len, MAX_DECOMP),
		     0));
	for (i = 0; i < 1000; i++) {
		cr_assert(eq(int, gq__record_iter_next(&it, &rec), 1));
		cr_assert(eq(i64, rec.offset, (int64_t)i));
		cr_assert(eq(i64, rec.timestamp, m[i].timestamp));
		cr_assert(eq(i64, rec.key_len, (int64_t)(i % 200)));
		cr_assert(eq(i64, rec.value_len, (int64_t)i));
		cr_assert(eq(int, memcmp(rec.key, data + i, i % 200), 0));
		cr_assert(eq(int, memcmp(rec.value, data, i), 0));
	}
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 0));
	gq__record_iter_close(&it);
	gq__buf_free(&out);
}

/* With the LogAppendTime attribute, every record reports maxTimestamp. */
Test(batch, log_append_time)
{
	uint8_t b[sizeof(example)];
	struct gq__record_iter it;
	struct gq__record rec;

	memcpy(b, example, sizeof(b));
	b[22] |= GQ__BATCH_ATTR_LOG_APPEND_TIME;
	gq__be64_put(b + 35, 1800000000000);
	fix_crc(b, sizeof(b));
	cr_assert(eq(int, gq__record_iter_init(&it, b, sizeof(b), MAX_DECOMP),
		     0));
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 1));
	cr_assert(eq(i64, rec.timestamp, 1800000000000));
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 1));
	cr_assert(eq(i64, rec.timestamp, 1800000000000));
	gq__record_iter_close(&it);
}

/* Misuse gets GQ_EINVAL and leaves the output buffer empty. */
Test(batch, build_rejects_bad_arguments)
{
	struct gq_msg m = { .value = "v", .value_len = 1 };
	struct gq_msg bad;
	struct gq_header hb = { .key = NULL, .key_len = 3 };
	struct gq__buf out = GQ__BUF_INIT;

	cr_assert(eq(int, gq__batch_build(&m, 0, 0, 0, -1, -1, -1, 1, &out),
		     GQ_EINVAL));
	cr_assert(eq(int, gq__batch_build(NULL, 1, 0, 0, -1, -1, -1, 1, &out),
		     GQ_EINVAL));
	cr_assert(eq(int, gq__batch_build(&m, 1, 5, 0, -1, -1, -1, 1, &out),
		     GQ_EINVAL));
	cr_assert(eq(int, gq__batch_build(&m, 1, -1, 0, -1, -1, -1, 1, &out),
		     GQ_EINVAL));
	bad = m;
	bad.key_len = 3; /* NULL key with a length */
	cr_assert(eq(int, gq__batch_build(&bad, 1, 0, 0, -1, -1, -1, 1, &out),
		     GQ_EINVAL));
	bad = m;
	bad.value_len = (size_t)INT32_MAX + 1; /* never read: too long */
	cr_assert(eq(int, gq__batch_build(&bad, 1, 0, 0, -1, -1, -1, 1, &out),
		     GQ_EINVAL));
	bad = m;
	bad.header_count = 1; /* headers NULL */
	cr_assert(eq(int, gq__batch_build(&bad, 1, 0, 0, -1, -1, -1, 1, &out),
		     GQ_EINVAL));
	bad = m;
	bad.headers = &hb;
	bad.header_count = 1; /* NULL header key with a length */
	cr_assert(eq(int, gq__batch_build(&bad, 1, 0, 0, -1, -1, -1, 1, &out),
		     GQ_EINVAL));
	cr_assert(eq(sz, out.len, 0));
	cr_assert(eq(ptr, out.base, NULL));

	/* A non-empty output buffer is misuse too. */
	cr_assert(eq(int, gq__buf_append(&out, "x", 1), 0));
	cr_assert(eq(int, gq__batch_build(&m, 1, 0, 0, -1, -1, -1, 1, &out),
		     GQ_EINVAL));
	gq__buf_free(&out);
}

/* ---------------------------------------------------------------------- */
/* Compression */

ParameterizedTestParameters(batch, compressed_round_trip)
{
	static int codecs[] = { GQ__CODEC_GZIP, GQ__CODEC_SNAPPY, GQ__CODEC_LZ4,
				GQ__CODEC_ZSTD };

	return cr_make_param_array(int, codecs, 4);
}

/* At or above the threshold (the encoded batch size, header included)
 * each codec compresses the records section
 * (smaller, codec in the attributes, CRC valid) and iteration returns
 * the original records; below the threshold the batch is stored
 * uncompressed; a decompression limit below the records' size gives
 * GQ_ETOOBIG. */
ParameterizedTest(int *codec, batch, compressed_round_trip)
{
	static char text[100][64];
	struct gq_msg m[100];
	struct gq_header hdr = {
		.key = "k", .key_len = 1, .value = "x", .value_len = 1
	};
	struct gq__buf plain = GQ__BUF_INIT;
	struct gq__buf z = GQ__BUF_INIT;
	struct gq__batch_header h;
	struct gq__record_iter it;
	struct gq__record rec;
	size_t records;
	int nrec;
	int i;

	memset(m, 0, sizeof(m));
	for (i = 0; i < 100; i++) {
		snprintf(text[i], sizeof(text[i]),
			 "message number %d of a very repetitive batch", i);
		m[i].key = i % 3 ? "same-key" : NULL;
		m[i].key_len = i % 3 ? 8 : 0;
		m[i].value = text[i];
		m[i].value_len = strlen(text[i]);
		m[i].timestamp = 1000 + i;
		m[i].headers = &hdr;
		m[i].header_count = i % 2;
	}
	cr_assert(eq(
		int,
		gq__batch_build(m, 100, GQ__CODEC_NONE, 0, 1, 2, 3, 1, &plain),
		0));
	records = plain.len - GQ__BATCH_HEADER_SIZE;

	if (!gq__codec_available((enum gq__codec) * codec)) {
		cr_assert(eq(int,
			     gq__batch_build(m, 100, *codec, 0, 1, 2, 3, 1, &z),
			     GQ_EUNSUPPORTED));
		gq__buf_free(&plain);
		cr_skip_test("codec %d not built in", *codec);
	}

	/* Exactly at the threshold: compressed. */
	cr_assert(eq(int,
		     gq__batch_build(m, 100, *codec, plain.len, 1, 2, 3, 1, &z),
		     0));
	cr_assert(eq(int, gq__batch_validate(z.base, z.len, &h), 0));
	cr_assert(eq(int, h.attributes &GQ__BATCH_ATTR_CODEC_MASK, *codec));
	cr_assert(lt(sz, z.len, plain.len));
	cr_assert(eq(i32, h.record_count, 100));
	cr_assert(eq(i32, h.last_offset_delta, 99));
	cr_assert(eq(i64, h.base_timestamp, 1000));
	cr_assert(eq(i64, h.max_timestamp, 1099));
	cr_assert(eq(int, gq__record_iter_init(&it, z.base, z.len, MAX_DECOMP),
		     0));
	for (i = 0; i < 100; i++) {
		cr_assert(eq(int, gq__record_iter_next(&it, &rec), 1));
		cr_assert(eq(i64, rec.offset, i));
		cr_assert(eq(i64, rec.timestamp, 1000 + i));
		cr_assert(eq(i64, rec.key_len, i % 3 ? 8 : -1));
		assert_bytes(rec.value, rec.value_len, text[i]);
		cr_assert(eq(u32, rec.header_count, (uint32_t)(i % 2)));
	}
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 0));
	gq__record_iter_close(&it);

	/* The decompression limit is enforced. */
	cr_assert(eq(int, gq__record_iter_init(&it, z.base, z.len, records - 1),
		     GQ_ETOOBIG));
	gq__record_iter_close(&it);
	cr_assert(
		eq(int, gq__record_iter_init(&it, z.base, z.len, records), 0));
	gq__record_iter_close(&it);

	/* A compressed stream with a broken magic/header and a correct
	 * CRC gives GQ_ECORRUPT. */
	memset(z.base + GQ__BATCH_HEADER_SIZE, 0x00, 4);
	fix_crc(z.base, z.len);
	cr_assert(eq(int, iterate_all(z.base, z.len, &nrec), GQ_ECORRUPT));
	gq__buf_free(&z);

	/* A threshold one byte above the batch's size: stored
	 * uncompressed, the same bytes as the plain build. */
	cr_assert(eq(
		int,
		gq__batch_build(m, 100, *codec, plain.len + 1, 1, 2, 3, 1, &z),
		0));
	cr_assert(eq(sz, z.len, plain.len));
	cr_assert(eq(int, memcmp(z.base, plain.base, z.len), 0));
	gq__buf_free(&z);
	gq__buf_free(&plain);
}

ParameterizedTestParameters(batch, compressed_truncated)
{
	static int codecs[] = { GQ__CODEC_GZIP, GQ__CODEC_SNAPPY, GQ__CODEC_LZ4,
				GQ__CODEC_ZSTD };

	return cr_make_param_array(int, codecs, 4);
}

/* Truncating a compressed records section (header and CRC kept
 * consistent) gives GQ_ECORRUPT at every cut point, never a crash. */
ParameterizedTest(int *codec, batch, compressed_truncated)
{
	static char text[50][32];
	struct gq_msg m[50];
	struct gq__buf z = GQ__BUF_INIT;
	uint8_t *b;
	size_t cut;
	int nrec;
	int i;

	if (!gq__codec_available((enum gq__codec) * codec))
		cr_skip_test("codec %d not built in", *codec);
	memset(m, 0, sizeof(m));
	for (i = 0; i < 50; i++) {
		snprintf(text[i], sizeof(text[i]), "value %d value %d", i, i);
		m[i].value = text[i];
		m[i].value_len = strlen(text[i]);
	}
	cr_assert(eq(int, gq__batch_build(m, 50, *codec, 0, -1, -1, -1, 1, &z),
		     0));
	cr_assert(eq(int, gq__be16_get(z.base + 21) & 7, *codec));
	b = malloc(z.len);
	cr_assert(ne(ptr, b, NULL));
	for (cut = GQ__BATCH_HEADER_SIZE; cut < z.len; cut++) {
		memcpy(b, z.base, cut);
		gq__be32_put(b + 8, (uint32_t)(cut - 12));
		fix_crc(b, cut);
		cr_assert(eq(int, iterate_all(b, cut, &nrec), GQ_ECORRUPT),
			  "cut %zu", cut);
	}
	free(b);
	gq__buf_free(&z);
}

/* Data that does not compress is stored uncompressed even above the
 * threshold, as librdkafka does. */
Test(batch, incompressible_stored_plain)
{
	static uint8_t noise[4096];
	struct gq_msg m = { .value = noise, .value_len = sizeof(noise) };
	struct gq__buf out = GQ__BUF_INIT;
	struct gq__batch_header h;
	uint64_t x = 88172645463325252ull;
	size_t i;
	int nrec;

	for (i = 0; i < sizeof(noise); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		noise[i] = (uint8_t)(x >> 32);
	}
	cr_assert(eq(
		int,
		gq__batch_build(&m, 1, GQ__CODEC_GZIP, 0, -1, -1, -1, 1, &out),
		0));
	cr_assert(eq(int, gq__batch_validate(out.base, out.len, &h), 0));
	cr_assert(eq(int, h.attributes &GQ__BATCH_ATTR_CODEC_MASK, 0));
	cr_assert(eq(int, iterate_all(out.base, out.len, &nrec), 0));
	cr_assert(eq(int, nrec, 1));
	gq__buf_free(&out);
}

/* Codec values 5..7 in the attributes are GQ_EUNSUPPORTED. */
Test(batch, unknown_codec)
{
	uint8_t b[sizeof(example)];
	int nrec;
	int c;

	for (c = 5; c <= 7; c++) {
		memcpy(b, example, sizeof(b));
		b[22] = (uint8_t)c;
		fix_crc(b, sizeof(b));
		cr_assert(eq(int, iterate_all(b, sizeof(b), &nrec),
			     GQ_EUNSUPPORTED));
	}
}

/* ---------------------------------------------------------------------- */
/* Hostile input */

/* Every proper prefix of a valid batch is GQ_ECORRUPT for parsing,
 * validation and iteration alike. */
Test(batch, every_prefix_is_corrupt)
{
	static const struct gq_header hd = {
		.key = "hk", .key_len = 2, .value = "hv", .value_len = 2
	};
	struct gq_msg m[3] = {
		{ .key = "a",
		  .key_len = 1,
		  .value = "1",
		  .value_len = 1,
		  .headers = &hd,
		  .header_count = 1 },
		{ .value = "22", .value_len = 2 },
		{ .key = "ccc", .key_len = 3 },
	};
	struct gq__buf out = GQ__BUF_INIT;
	struct gq__batch_header h;
	struct gq__record_iter it;
	uint8_t *b;
	size_t len;

	cr_assert(eq(
		int,
		gq__batch_build(m, 3, GQ__CODEC_NONE, 0, -1, -1, -1, 1, &out),
		0));
	for (len = 0; len < out.len; len++) {
		/* A fresh allocation of exactly @len bytes lets ASan
		 * catch any read past the end. */
		b = malloc(len ? len : 1);
		cr_assert(ne(ptr, b, NULL));
		memcpy(b, out.base, len);
		cr_assert(eq(int, gq__batch_parse_header(b, len, &h),
			     GQ_ECORRUPT),
			  "len %zu", len);
		cr_assert(eq(int, gq__batch_validate(b, len, &h), GQ_ECORRUPT),
			  "len %zu", len);
		cr_assert(eq(int, gq__record_iter_init(&it, b, len, MAX_DECOMP),
			     GQ_ECORRUPT),
			  "len %zu", len);
		gq__record_iter_close(&it);
		free(b);
	}
	gq__buf_free(&out);

	for (len = 0; len < sizeof(example); len++)
		cr_assert(eq(int, gq__batch_validate(example, len, &h),
			     GQ_ECORRUPT),
			  "len %zu", len);
}

/* Cutting the records section anywhere (header and CRC rewritten to
 * match) is caught while iterating: never a crash, never a clean end. */
Test(batch, truncated_records_section)
{
	uint8_t b[sizeof(example)];
	uint8_t *c;
	size_t cut;
	int nrec;

	for (cut = GQ__BATCH_HEADER_SIZE; cut < sizeof(example); cut++) {
		memcpy(b, example, cut);
		gq__be32_put(b + 8, (uint32_t)(cut - 12));
		fix_crc(b, cut);
		c = malloc(cut);
		cr_assert(ne(ptr, c, NULL));
		memcpy(c, b, cut);
		cr_assert(eq(int, iterate_all(c, cut, &nrec), GQ_ECORRUPT),
			  "cut %zu", cut);
		free(c);
	}
}

/* Header fields that contradict each other are GQ_ECORRUPT; a compacted
 * batch (lastOffsetDelta above recordCount - 1) is fine. */
Test(batch, inconsistent_header)
{
	uint8_t b[sizeof(example)];
	uint8_t e[GQ__BATCH_HEADER_SIZE];
	struct gq__batch_header h;
	int nrec;

	/* batchLength below the fixed header, negative, past the buffer. */
	memcpy(b, example, sizeof(b));
	gq__be32_put(b + 8, 48);
	cr_assert(
		eq(int, gq__batch_parse_header(b, sizeof(b), &h), GQ_ECORRUPT));
	gq__be32_put(b + 8, (uint32_t)-1);
	cr_assert(
		eq(int, gq__batch_parse_header(b, sizeof(b), &h), GQ_ECORRUPT));
	gq__be32_put(b + 8, 80);
	cr_assert(
		eq(int, gq__batch_parse_header(b, sizeof(b), &h), GQ_ECORRUPT));

	/* Negative record count or last offset delta. */
	memcpy(b, example, sizeof(b));
	gq__be32_put(b + 57, (uint32_t)-1);
	cr_assert(
		eq(int, gq__batch_parse_header(b, sizeof(b), &h), GQ_ECORRUPT));
	memcpy(b, example, sizeof(b));
	gq__be32_put(b + 23, (uint32_t)-1);
	cr_assert(
		eq(int, gq__batch_parse_header(b, sizeof(b), &h), GQ_ECORRUPT));

	/* lastOffsetDelta below recordCount - 1. */
	memcpy(b, example, sizeof(b));
	gq__be32_put(b + 23, 0);
	cr_assert(
		eq(int, gq__batch_parse_header(b, sizeof(b), &h), GQ_ECORRUPT));

	/* More records than 30 uncompressed bytes can hold (7 each). */
	memcpy(b, example, sizeof(b));
	gq__be32_put(b + 57, 5);
	gq__be32_put(b + 23, 4);
	cr_assert(
		eq(int, gq__batch_parse_header(b, sizeof(b), &h), GQ_ECORRUPT));
	gq__be32_put(b + 57, 0x7fffffff);
	gq__be32_put(b + 23, 0x7fffffff);
	cr_assert(
		eq(int, gq__batch_parse_header(b, sizeof(b), &h), GQ_ECORRUPT));

	/* Compacted: a gap at the end is allowed; records still decode. */
	memcpy(b, example, sizeof(b));
	gq__be32_put(b + 23, 9);
	fix_crc(b, sizeof(b));
	cr_assert(eq(int, gq__batch_validate(b, sizeof(b), &h), 0));
	cr_assert(eq(i64, gq__batch_last_offset(&h), 9));
	cr_assert(eq(int, iterate_all(b, sizeof(b), &nrec), 0));
	cr_assert(eq(int, nrec, 2));

	/* An empty batch (all records compacted away) is valid. */
	make_batch(e, "", 0, 0, 3, 0);
	cr_assert(eq(int, gq__batch_validate(e, sizeof(e), &h), 0));
	cr_assert(eq(int, iterate_all(e, sizeof(e), &nrec), 0));
	cr_assert(eq(int, nrec, 0));
}

/* Magic 0 and 1 (old message sets) are GQ_EUNSUPPORTED, even when
 * shorter than a v2 header; magic 3 too. */
Test(batch, unsupported_magic)
{
	uint8_t b[sizeof(example)];
	struct gq__batch_header h;
	struct gq__record_iter it;

	memcpy(b, example, sizeof(b));
	b[16] = 1;
	cr_assert(eq(int, gq__batch_parse_header(b, sizeof(b), &h),
		     GQ_EUNSUPPORTED));
	cr_assert(
		eq(int, gq__batch_validate(b, sizeof(b), &h), GQ_EUNSUPPORTED));
	cr_assert(eq(int, gq__record_iter_init(&it, b, sizeof(b), MAX_DECOMP),
		     GQ_EUNSUPPORTED));
	gq__record_iter_close(&it);
	cr_assert(eq(int, gq__batch_parse_header(b, 26, &h), GQ_EUNSUPPORTED));
	b[16] = 0;
	cr_assert(eq(int, gq__batch_parse_header(b, 26, &h), GQ_EUNSUPPORTED));
	b[16] = 3;
	cr_assert(eq(int, gq__batch_parse_header(b, sizeof(b), &h),
		     GQ_EUNSUPPORTED));
}

/* recordCount larger or smaller than the records present is GQ_ECORRUPT
 * once the iterator gets there. */
Test(batch, record_count_mismatch)
{
	uint8_t b[sizeof(example)];
	int nrec;

	/* Three claimed, two present (30 bytes hold up to four). */
	memcpy(b, example, sizeof(b));
	gq__be32_put(b + 57, 3);
	gq__be32_put(b + 23, 2);
	fix_crc(b, sizeof(b));
	cr_assert(eq(int, iterate_all(b, sizeof(b), &nrec), GQ_ECORRUPT));
	cr_assert(eq(int, nrec, 2));

	/* One claimed, two present. */
	memcpy(b, example, sizeof(b));
	gq__be32_put(b + 57, 1);
	gq__be32_put(b + 23, 1);
	fix_crc(b, sizeof(b));
	cr_assert(eq(int, iterate_all(b, sizeof(b), &nrec), GQ_ECORRUPT));
	cr_assert(eq(int, nrec, 1));

	/* Zero claimed, two present. */
	memcpy(b, example, sizeof(b));
	gq__be32_put(b + 57, 0);
	gq__be32_put(b + 23, 0);
	fix_crc(b, sizeof(b));
	cr_assert(eq(int, iterate_all(b, sizeof(b), &nrec), GQ_ECORRUPT));
	cr_assert(eq(int, nrec, 0));
}

/* A record whose offsetDelta lies outside 0..lastOffsetDelta is
 * GQ_ECORRUPT. */
Test(batch, offset_delta_out_of_range)
{
	/* len 6: attr 0, ts 0, offsetDelta, key null, value null, 0
	 * headers */
	static const uint8_t pos[] = {
		0x0c, 0x00, 0x00, 0x04, 0x01, 0x01, 0x00
	};
	static const uint8_t neg[] = {
		0x0c, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00
	};

	cr_assert(eq(int, iterate_raw(pos, sizeof(pos), 1, 2), 0));
	cr_assert(eq(int, iterate_raw(pos, sizeof(pos), 1, 1), GQ_ECORRUPT));
	cr_assert(eq(int, iterate_raw(neg, sizeof(neg), 1, 0), GQ_ECORRUPT));
}

/* Corrupt varints and lengths inside records are GQ_ECORRUPT: overlong,
 * truncated, out-of-range and negative values, and records whose fields
 * do not fill exactly their declared length. */
Test(batch, corrupt_varints)
{
	static const struct {
		const char *what;
		const char *hex; /* the records section */
		int32_t count;
		int want;
	} cases[] = {
		/* length 6: attrs, ts 0, offset 0, null key, null
		   value, 0 hdrs */
		{ "well-formed control", "0c 00 00 00 01 01 00", 1, 0 },
		{ "length: 6 bytes", "ff ff ff ff ff 01 00 00", 1,
		  GQ_ECORRUPT },
		{ "length: bits above 32", "8c 80 80 80 70 00 00 00 01 01 00",
		  1, GQ_ECORRUPT },
		{ "length: negative", "01 00 00 00 01 01 00", 1, GQ_ECORRUPT },
		{ "length: zero", "00 00 00 00 01 01 00", 1, GQ_ECORRUPT },
		{ "length: past the end", "0e 00 00 00 01 01 00", 1,
		  GQ_ECORRUPT },
		{ "timestampDelta: 11 bytes",
		  "20 00 ff ff ff ff ff ff ff ff ff ff 01 00 01 01 00", 1,
		  GQ_ECORRUPT },
		{ "offsetDelta: bits above 32",
		  "14 00 00 ff ff ff ff 7f 01 01 00", 1, GQ_ECORRUPT },
		{ "keyLength: -2", "0c 00 00 00 03 01 00", 1, GQ_ECORRUPT },
		{ "keyLength: past the record", "0c 00 00 00 08 01 00 00 00 00",
		  1, GQ_ECORRUPT },
		{ "valueLength: truncated", "0a 00 00 00 01 80 00 00", 1,
		  GQ_ECORRUPT },
		{ "headerCount: negative", "0c 00 00 00 01 01 01", 1,
		  GQ_ECORRUPT },
		{ "headerCount: too large", "10 00 00 00 01 01 04 00 01", 1,
		  GQ_ECORRUPT },
		{ "header key: null", "10 00 00 00 01 01 02 01 01", 1,
		  GQ_ECORRUPT },
		{ "header value length: -2", "10 00 00 00 01 01 02 00 03", 1,
		  GQ_ECORRUPT },
		{ "fields shorter than length", "0e 00 00 00 01 01 00 00", 1,
		  GQ_ECORRUPT },
		/* A 16-byte record with a 10-byte value, then a cut
		   varint. */
		{ "length: cut at section end",
		  "20 00 00 00 01 14 30 31 32 33 34 35 36 37 38 39 00 "
		  "80",
		  2, GQ_ECORRUPT },
	};
	uint8_t raw[64];
	size_t n;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = hex_put(raw, cases[i].hex);
		cr_assert(eq(int,
			     iterate_raw(raw, n, cases[i].count,
					 cases[i].count - 1),
			     cases[i].want),
			  "%s", cases[i].what);
	}
}

/* After a GQ_ECORRUPT the iterator keeps returning GQ_ECORRUPT. */
Test(batch, corrupt_is_sticky)
{
	static const uint8_t recs[] = { 0x0c, 0x00, 0x00, 0x00, 0x01,
					0x01, 0x00, 0x01, 0x00, 0x00,
					0x00, 0x01, 0x01, 0x00 };
	uint8_t b[128];
	struct gq__record_iter it;
	struct gq__record rec;
	size_t n;

	n = make_batch(b, recs, sizeof(recs), 2, 1, 0);
	cr_assert(eq(int, gq__record_iter_init(&it, b, n, MAX_DECOMP), 0));
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), 1));
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), GQ_ECORRUPT));
	cr_assert(eq(int, gq__record_iter_next(&it, &rec), GQ_ECORRUPT));
	gq__record_iter_close(&it);
}

/* gq__record_header() on a hand-made record with bad header bytes is
 * GQ_ECORRUPT, never an out-of-bounds read. */
Test(batch, record_header_bounds)
{
	static const uint8_t raw[] = { 0x02, 'a', 0x7e }; /* value: 63 bytes */
	struct gq__record rec;
	struct gq_header h;

	memset(&rec, 0, sizeof(rec));
	rec.headers = raw;
	rec.headers_len = sizeof(raw);
	rec.header_count = 2;
	cr_assert(eq(int, gq__record_header(&rec, 0, &h), GQ_ECORRUPT));
	cr_assert(eq(int, gq__record_header(&rec, 1, &h), GQ_ECORRUPT));
	cr_assert(eq(int, gq__record_header(&rec, 2, &h), GQ_EINVAL));
	rec.headers = NULL;
	rec.headers_len = 0;
	cr_assert(eq(int, gq__record_header(&rec, 0, &h), GQ_ECORRUPT));
}

/* ---------------------------------------------------------------------- */
/* Allocation failures */

static struct {
	int fail_at; /* allocation number that fails, -1 = none */
	int count;   /* allocations so far */
	int live;    /* blocks allocated and not freed */
} fault;

static void *
fault_malloc(void *data, size_t size)
{
	void *p;

	(void)data;
	if (fault.count++ == fault.fail_at)
		return NULL;
	if ((p = malloc(size)) != NULL)
		fault.live++;
	return p;
}

static void *
fault_calloc(void *data, size_t nmemb, size_t size)
{
	void *p;

	(void)data;
	if (fault.count++ == fault.fail_at)
		return NULL;
	if ((p = calloc(nmemb, size)) != NULL)
		fault.live++;
	return p;
}

static void *
fault_realloc(void *data, void *ptr, size_t size)
{
	void *p;

	(void)data;
	if (fault.count++ == fault.fail_at)
		return NULL;
	if ((p = realloc(ptr, size)) != NULL && ptr == NULL)
		fault.live++;
	return p;
}

static void
fault_free(void *data, void *ptr)
{
	(void)data;
	if (ptr != NULL)
		fault.live--;
	free(ptr);
}

static const struct gq_heap fault_heap = {
	.malloc = fault_malloc,
	.calloc = fault_calloc,
	.realloc = fault_realloc,
	.free = fault_free,
};

/* Failing each allocation of a build (plain and gzip) and of a gzip
 * iterator in turn gives GQ_ENOMEM and leaks nothing; eventually all
 * succeed. */
Test(batch, allocation_failures)
{
	static char val[20000];
	struct gq_msg m[3];
	struct gq__buf out = GQ__BUF_INIT;
	struct gq__buf z = GQ__BUF_INIT;
	struct gq__record_iter it;
	int codec;
	int rv;
	int n;

	memset(val, 'q', sizeof(val));
	memset(m, 0, sizeof(m));
	m[0].value = val;
	m[0].value_len = 300;
	m[1].value = val;
	m[1].value_len = sizeof(val);
	m[2].key = "k";
	m[2].key_len = 1;
	/* Build the gzip batch to iterate before the fault heap goes
	 * in. */
	cr_assert(
		eq(int,
		   gq__batch_build(m, 3, GQ__CODEC_GZIP, 0, -1, -1, -1, 1, &z),
		   0));
	cr_assert(eq(int, gq__be16_get(z.base + 21) & 7, GQ__CODEC_GZIP));

	cr_assert(eq(int, gq_heap_set(&fault_heap), 0));
	for (codec = GQ__CODEC_NONE; codec <= GQ__CODEC_GZIP; codec++) {
		for (n = 0;; n++) {
			fault.fail_at = n;
			fault.count = 0;
			fault.live = 0;
			rv = gq__batch_build(m, 3, codec, 0, -1, -1, -1, 1,
					     &out);
			if (rv == 0) {
				gq__buf_free(&out);
				cr_assert(eq(int, fault.live, 0));
				break;
			}
			cr_assert(eq(int, rv, GQ_ENOMEM), "codec %d alloc %d",
				  codec, n);
			cr_assert(eq(int, fault.live, 0));
			cr_assert(eq(sz, out.len, 0));
			cr_assert(lt(int, n, 1000));
		}
	}
	for (n = 0;; n++) {
		fault.fail_at = n;
		fault.count = 0;
		fault.live = 0;
		rv = gq__record_iter_init(&it, z.base, z.len, MAX_DECOMP);
		gq__record_iter_close(&it);
		cr_assert(eq(int, fault.live, 0));
		if (rv == 0)
			break;
		cr_assert(eq(int, rv, GQ_ENOMEM), "alloc %d", n);
		cr_assert(lt(int, n, 1000));
	}
	cr_assert(eq(int, gq_heap_set(NULL), 0));
	gq__buf_free(&z);
}

/* ---------------------------------------------------------------------- */
/* varint.h                                                                */

/* The zigzag examples of KAFKA-PROTOCOL.md 2.1 encode and decode exactly,
 * as VARINT and as VARLONG. */
Test(varint, zigzag_examples)
{
	static const struct {
		int32_t v;
		const char *hex;
	} ex[] = {
		{ 0, "00" },     { -1, "01" },     { 1, "02" },
		{ 2, "04" },     { 63, "7e" },     { -64, "7f" },
		{ 64, "80 01" }, { 300, "d8 04" }, { -300, "d7 04" },
	};
	uint8_t want[16];
	uint8_t got[16];
	const uint8_t *p;
	int32_t v32;
	int64_t v64;
	size_t n;
	size_t i;

	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		n = hex_put(want, ex[i].hex);
		cr_assert(eq(sz, gq__varint_put(got, ex[i].v), n));
		cr_assert(eq(int, memcmp(got, want, n), 0), "%d", ex[i].v);
		cr_assert(eq(sz, gq__varint_size(ex[i].v), n));
		cr_assert(eq(sz, gq__varlong_put(got, ex[i].v), n));
		cr_assert(eq(int, memcmp(got, want, n), 0), "%d", ex[i].v);
		cr_assert(eq(sz, gq__varlong_size(ex[i].v), n));
		p = want;
		cr_assert(eq(int, gq__varint_get(&p, want + n, &v32), 0));
		cr_assert(eq(i32, v32, ex[i].v));
		cr_assert(eq(ptr, (void *)p, (void *)(want + n)));
		p = want;
		cr_assert(eq(int, gq__varlong_get(&p, want + n, &v64), 0));
		cr_assert(eq(i64, v64, ex[i].v));
	}
}

/* The unsigned examples of KAFKA-PROTOCOL.md 1.1 encode and decode. */
Test(varint, unsigned_examples)
{
	static const struct {
		uint32_t v;
		const char *hex;
	} ex[] = {
		{ 0, "00" },
		{ 127, "7f" },
		{ 128, "80 01" },
		{ 300, "ac 02" },
		{ UINT32_MAX, "ff ff ff ff 0f" },
	};
	uint8_t want[16];
	uint8_t got[16];
	const uint8_t *p;
	uint32_t v;
	size_t n;
	size_t i;

	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		n = hex_put(want, ex[i].hex);
		cr_assert(eq(sz, gq__uvarint_put(got, ex[i].v), n));
		cr_assert(eq(int, memcmp(got, want, n), 0));
		cr_assert(eq(sz, gq__uvarint_size(ex[i].v), n));
		p = want;
		cr_assert(eq(int, gq__uvarint32_get(&p, want + n, &v), 0));
		cr_assert(eq(u32, v, ex[i].v));
	}
}

/* Extreme and assorted values survive encode/decode at the maximum
 * lengths (5 and 10 bytes). */
Test(varint, round_trip_extremes)
{
	static const int64_t v[] = { INT64_MIN,
				     INT64_MIN + 1,
				     INT32_MIN - 1LL,
				     INT32_MIN,
				     -65536,
				     -1,
				     0,
				     1,
				     65535,
				     INT32_MAX,
				     INT32_MAX + 1LL,
				     INT64_MAX };
	uint8_t b[GQ__VARLONG_MAX];
	const uint8_t *p;
	int64_t v64;
	int32_t v32;
	uint64_t u;
	size_t n;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = gq__varlong_put(b, v[i]);
		cr_assert(le(sz, n, GQ__VARLONG_MAX));
		p = b;
		cr_assert(eq(int, gq__varlong_get(&p, b + n, &v64), 0));
		cr_assert(eq(i64, v64, v[i]));
		if (v[i] >= INT32_MIN && v[i] <= INT32_MAX) {
			n = gq__varint_put(b, (int32_t)v[i]);
			cr_assert(le(sz, n, GQ__VARINT_MAX));
			p = b;
			cr_assert(eq(int, gq__varint_get(&p, b + n, &v32), 0));
			cr_assert(eq(i32, v32, (int32_t)v[i]));
		}
	}
	cr_assert(eq(sz, gq__varlong_put(b, INT64_MIN), 10));
	cr_assert(eq(sz, gq__varint_put(b, INT32_MIN), 5));
	n = gq__uvarint_put(b, UINT64_MAX);
	cr_assert(eq(sz, n, 10));
	p = b;
	cr_assert(eq(int, gq__uvarint64_get(&p, b + n, &u), 0));
	cr_assert(eq(u64, u, UINT64_MAX));
}

/* Truncated, overlong and overflowing encodings are GQ_ECORRUPT and leave
 * the cursor where it was; non-minimal ones within the limit decode. */
Test(varint, malformed)
{
	uint8_t b[16];
	const uint8_t *p;
	int32_t v32;
	int64_t v64;
	uint32_t u32;
	size_t n;

	/* Truncated: empty, and a continuation bit on the last byte. */
	p = b;
	cr_assert(eq(int, gq__varint_get(&p, b, &v32), GQ_ECORRUPT));
	n = hex_put(b, "80 80");
	p = b;
	cr_assert(eq(int, gq__varint_get(&p, b + n, &v32), GQ_ECORRUPT));
	cr_assert(eq(ptr, (void *)p, (void *)b));
	p = b;
	cr_assert(eq(int, gq__varlong_get(&p, b + n, &v64), GQ_ECORRUPT));

	/* Six bytes for a VARINT, eleven for a VARLONG. */
	n = hex_put(b, "80 80 80 80 80 00");
	p = b;
	cr_assert(eq(int, gq__varint_get(&p, b + n, &v32), GQ_ECORRUPT));
	n = hex_put(b, "80 80 80 80 80 80 80 80 80 80 00");
	p = b;
	cr_assert(eq(int, gq__varlong_get(&p, b + n, &v64), GQ_ECORRUPT));

	/* Bits above 32 / 64 in the last byte. */
	n = hex_put(b, "ff ff ff ff 1f");
	p = b;
	cr_assert(eq(int, gq__varint_get(&p, b + n, &v32), GQ_ECORRUPT));
	p = b;
	cr_assert(eq(int, gq__uvarint32_get(&p, b + n, &u32), GQ_ECORRUPT));
	n = hex_put(b, "ff ff ff ff ff ff ff ff ff 03");
	p = b;
	cr_assert(eq(int, gq__varlong_get(&p, b + n, &v64), GQ_ECORRUPT));

	/* The largest legal values at full length. */
	n = hex_put(b, "ff ff ff ff 0f");
	p = b;
	cr_assert(eq(int, gq__varint_get(&p, b + n, &v32), 0));
	cr_assert(eq(i32, v32, INT32_MIN));
	n = hex_put(b, "ff ff ff ff ff ff ff ff ff 01");
	p = b;
	cr_assert(eq(int, gq__varlong_get(&p, b + n, &v64), 0));
	cr_assert(eq(i64, v64, INT64_MIN));

	/* Non-minimal but within the limit: accepted, as Kafka does. */
	n = hex_put(b, "82 80 80 80 00");
	p = b;
	cr_assert(eq(int, gq__varint_get(&p, b + n, &v32), 0));
	cr_assert(eq(i32, v32, 1));
	cr_assert(eq(ptr, (void *)p, (void *)(b + n)));
}
