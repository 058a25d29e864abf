/* SPDX-License-Identifier: MIT */
/*
 * batch.h - Kafka RecordBatch v2 (magic 2), the unit goqueue stores,
 * replicates and serves byte for byte.  Layout, all big-endian
 * (doc/KAFKA-PROTOCOL.md section 2.1):
 *
 *   off len field                 off len field
 *    0   8  baseOffset            27   8  baseTimestamp
 *    8   4  batchLength           35   8  maxTimestamp
 *   12   4  partitionLeaderEpoch  43   8  producerId
 *   16   1  magic (2)             51   2  producerEpoch
 *   17   4  crc (CRC-32C, 21..)   53   4  baseSequence
 *   21   2  attributes            57   4  recordCount
 *   23   4  lastOffsetDelta       61   .  records (compressed if codec != 0)
 *
 * batchLength counts the bytes after itself, so a batch is 12 + batchLength
 * bytes.  baseOffset and the leader epoch lie outside the CRC: the leader
 * rewrites them in place on append without re-checksumming.
 *
 * Each record, with zigzag varints (varint.h): length, attributes (int8 0),
 * timestampDelta (varlong), offsetDelta, keyLength (-1 null), key,
 * valueLength (-1 null), value, headerCount, then per header keyLength, key,
 * valueLength (-1 null), value.
 */
#ifndef GQ_BATCH_H
#define GQ_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "goqueue.h"

#include "buf.h"

#define GQ__BATCH_HEADER_SIZE 61 /* bytes before the first record */
#define GQ__BATCH_OVERHEAD    12 /* baseOffset + batchLength */
#define GQ__BATCH_MAGIC       2

/* Byte offsets of the fields the code reads or patches directly. */
#define GQ__BATCH_OFF_LEADER_EPOCH 12
#define GQ__BATCH_OFF_MAGIC        16
#define GQ__BATCH_OFF_CRC          17
#define GQ__BATCH_OFF_ATTRIBUTES   21 /* first byte the CRC covers */

/* The fixed header, decoded into host order. */
struct gq__batch_header {
	int64_t base_offset;
	int32_t batch_length;
	int32_t leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t record_count;
};

/* codec = attributes & 7; bit 3 timestamp type; bit 4 transactional; bit 5
 * control. */
#define GQ__BATCH_ATTR_CODEC_MASK      0x07
#define GQ__BATCH_ATTR_LOG_APPEND_TIME 0x08
#define GQ__BATCH_ATTR_TRANSACTIONAL   0x10
#define GQ__BATCH_ATTR_CONTROL         0x20

/*
 * Parse and validate the fixed header of the batch at @buf, which has @len
 * bytes available and may hold more batches after this one.  Checks, in
 * order: at least 17 bytes (up to the magic), magic == 2, at least 61 bytes,
 * batchLength >= 49, 12 + batchLength <= @len, recordCount >= 0,
 * lastOffsetDelta >= 0, recordCount == 0 or lastOffsetDelta >=
 * recordCount - 1, and for uncompressed batches recordCount no larger than
 * the records section could hold (7 bytes per record at least).  Does not
 * check the CRC nor the codec.  Fills @out on success only.
 * @return 0, GQ_ECORRUPT (truncated or inconsistent) or GQ_EUNSUPPORTED
 * (magic other than 2).
 */
int gq__batch_parse_header(const void *buf, size_t len,
			   struct gq__batch_header *out);

/* Total size of the batch in bytes: 12 + batchLength. */
static inline size_t
gq__batch_total_size(const struct gq__batch_header *h)
{
	return (size_t)GQ__BATCH_OVERHEAD + (size_t)h->batch_length;
}

/* Offset of the batch's last record: baseOffset + lastOffsetDelta. */
static inline int64_t
gq__batch_last_offset(const struct gq__batch_header *h)
{
	return (int64_t)((uint64_t)h->base_offset +
			 (uint64_t)h->last_offset_delta);
}

/*
 * Verify the CRC-32C stored at bytes 17..20 against bytes 21 .. 12 +
 * batchLength of @buf; @h must come from gq__batch_parse_header() on the
 * same bytes.  @return 0 or GQ_ECORRUPT.
 */
int gq__batch_verify_crc(const void *buf, const struct gq__batch_header *h);

/*
 * gq__batch_parse_header() then gq__batch_verify_crc(): the check for bytes
 * arriving from a client, a peer or the disk.  Records are not decoded.
 * @return 0, GQ_ECORRUPT or GQ_EUNSUPPORTED.
 */
int gq__batch_validate(const void *buf, size_t len,
		       struct gq__batch_header *out);

/* Rewrite baseOffset (bytes 0-7) in place; the CRC stays valid. */
void gq__batch_set_base_offset(void *buf, int64_t base_offset);

/* Rewrite partitionLeaderEpoch (bytes 12-15) in place; CRC stays valid. */
void gq__batch_set_leader_epoch(void *buf, int32_t epoch);

/*
 * Build one batch from the @n messages at @msgs (borrowed; a timestamp of 0
 * means @now_ms).  Records are encoded uncompressed; if @codec (enum
 * gq__codec, codec.h) is not 0 and the encoded batch (header included) is
 * at least @threshold bytes, the records section is compressed with
 * gq__codec_compress() and the codec goes into the attributes -- unless
 * compression does not make it smaller, in which case it is stored uncompressed
 * as librdkafka does.  The batch has base offset 0, leader epoch -1 (the leader
 * rewrites both), lastOffsetDelta n - 1, offset deltas 0..n-1, CreateTime
 * timestamps, baseTimestamp = the first record's timestamp, maxTimestamp = the
 * largest, the given producer id, epoch and base sequence (-1, -1, -1 for a
 * non-idempotent producer), and a correct CRC.
 * @param out  Must be empty (len 0).  On success it holds exactly the batch
 *             (free with gq__buf_free()); on failure it is empty and freed.
 * @return 0; GQ_EINVAL for n == 0, a NULL pointer with a non-zero length, an
 * unknown codec, a non-empty @out, or a length that does not fit the format
 * (INT32_MAX); GQ_ENOMEM; or the codec's error (GQ_EUNSUPPORTED when the
 * codec is not built in).
 */
int gq__batch_build(const struct gq_msg *msgs, size_t n, int codec,
		    size_t threshold, int64_t producer_id,
		    int16_t producer_epoch, int32_t base_sequence,
		    int64_t now_ms, struct gq__buf *out);

/*
 * A batch assembled from the records of other batches: a remote node's
 * per-partition accumulator (lib/remote_produce.c) joins the small
 * batches of many produce calls into one.  Each record is copied whole
 * with only its offset and timestamp deltas encoded again against the new
 * batch, so keys, values and headers are never decoded.
 */
struct gq__batch_merge {
	struct gq__buf out; /* header space, then the records */
	int64_t base_ts;
	int64_t max_ts;
	int32_t count;
};

#define GQ__BATCH_MERGE_INIT          \
	{                             \
		GQ__BUF_INIT, 0, 0, 0 \
	}

/*
 * Append the records of the uncompressed batch @batch (@len bytes, made by
 * gq__batch_build() or validated).  On failure @m is unchanged.
 * @return 0, GQ_ENOMEM, GQ_EINVAL (compressed, or the merge would pass
 * INT32_MAX bytes or records), GQ_ECORRUPT.
 */
int gq__batch_merge_add(struct gq__batch_merge *m, const void *batch,
			size_t len);

/*
 * Finish the batch as gq__batch_build() does (compression by @codec above
 * @threshold, the producer fields, the CRC) and move it to @out, which
 * must be empty; @m is empty afterwards, also on failure.
 * @return 0, GQ_EINVAL (no records), GQ_ENOMEM or the codec's error.
 */
int gq__batch_merge_finish(struct gq__batch_merge *m, int codec,
			   size_t threshold, int64_t producer_id,
			   int16_t producer_epoch, int32_t base_sequence,
			   struct gq__buf *out);

/* Drop the records gathered so far. */
void gq__batch_merge_free(struct gq__batch_merge *m);

/*
 * Rewrite the producer id, epoch and base sequence of the batch at @buf
 * (@h from gq__batch_parse_header() on it) and its CRC, which covers them.
 */
void gq__batch_set_producer(void *buf, const struct gq__batch_header *h,
			    int64_t producer_id, int16_t producer_epoch,
			    int32_t base_sequence);

/*
 * One decoded record.  Every pointer points into the batch, or into the
 * iterator's decompressed copy, and is lent until the iterator is closed.
 */
struct gq__record {
	int64_t offset;     /* base_offset + offsetDelta */
	int64_t timestamp;  /* base_timestamp + delta, or max_timestamp if
			       the batch has LogAppendTime (attribute bit 3) */
	const uint8_t *key; /* NULL when key_len is -1 (null key) */
	int64_t key_len;
	const uint8_t *value; /* NULL when value_len is -1 (null value) */
	int64_t value_len;
	const uint8_t *headers; /* raw header bytes, see gq__record_header() */
	size_t headers_len;
	uint32_t header_count;
};

/* Iterator over the records of one batch; fields are private. */
struct gq__record_iter {
	struct gq__batch_header hdr; /* the batch's header, readable */
	const uint8_t *cur;          /* next record */
	const uint8_t *end;          /* end of the records section */
	int32_t remaining;           /* records not yet returned */
	struct gq__buf decompressed; /* owns the records if compressed */
};

/*
 * Start iterating the records of the batch at @batch (@len bytes available;
 * the caller has validated it, normally with gq__batch_validate(), and keeps
 * it alive and unchanged until gq__record_iter_close()).  A compressed batch
 * is decompressed into the iterator, at most @max_decompressed bytes.
 * gq__record_iter_close() is required after success and harmless after a
 * failure.
 * @return 0, GQ_ECORRUPT, GQ_EUNSUPPORTED (unknown or not built-in codec),
 * GQ_ENOMEM, or GQ_ETOOBIG (decompressed size above @max_decompressed).
 */
int gq__record_iter_init(struct gq__record_iter *it, const void *batch,
			 size_t len, size_t max_decompressed);

/*
 * Decode the next record into @rec.  Every varint and length is bounds
 * checked; each record must end exactly where its length says, its offset
 * delta must lie in 0..lastOffsetDelta, and the records section must hold
 * exactly recordCount records.
 * @return 1 with a record, 0 at the end, or GQ_ECORRUPT (after which the
 * iterator returns GQ_ECORRUPT again).
 */
int gq__record_iter_next(struct gq__record_iter *it, struct gq__record *rec);

/* Release the iterator's memory; the records it returned become invalid. */
void gq__record_iter_close(struct gq__record_iter *it);

/*
 * Decode header @i of @rec by walking its raw header bytes.  @out's key and
 * value point into the record (value NULL for a null value) and are lent as
 * long as the record is.
 * @return 0, GQ_EINVAL (@i >= header_count) or GQ_ECORRUPT.
 */
int gq__record_header(const struct gq__record *rec, uint32_t i,
		      struct gq_header *out);

#endif /* GQ_BATCH_H */
