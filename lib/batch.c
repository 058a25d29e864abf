/* SPDX-License-Identifier: MIT */
/*
 * batch.c - encoding and decoding of Kafka RecordBatch v2 (layout in
 * batch.h and doc/KAFKA-PROTOCOL.md section 2).  Batches arrive from
 * clients, peers and disk, so every decoder treats its input as hostile:
 * each length is checked against the bytes that remain before it is used,
 * nothing is read past the end, and bad bytes give GQ_ECORRUPT.  The module
 * has no state of its own; an iterator owns at most one decompressed copy of
 * a records section.
 */
#include "batch.h"

#include <stdbool.h>
#include <string.h>

#include "codec.h"
#include "crc32c.h"
#include "varint.h"

/* Bytes of batchLength that follow it but precede the records. */
#define HEADER_AFTER_LENGTH (GQ__BATCH_HEADER_SIZE - GQ__BATCH_OVERHEAD)

/*
 * The smallest record: length, attributes, timestampDelta, offsetDelta,
 * keyLength, valueLength and headerCount, one byte each.
 */
#define MIN_RECORD_SIZE 7

/* The smallest header: keyLength and valueLength, one byte each. */
#define MIN_HEADER_SIZE 2

int
gq__batch_parse_header(const void *buf, size_t len,
		       struct gq__batch_header *out)
{
	const uint8_t *p = buf;
	struct gq__batch_header h;
	size_t records;

	/* Magic sits at byte 16 in every message format version, so a v0/v1
	 * message set is told apart before its (shorter) size is judged. */
	if (len <= GQ__BATCH_OFF_MAGIC)
		return GQ_ECORRUPT;
	if (p[GQ__BATCH_OFF_MAGIC] != GQ__BATCH_MAGIC)
		return GQ_EUNSUPPORTED;
	if (len < GQ__BATCH_HEADER_SIZE)
		return GQ_ECORRUPT;

	h.base_offset = (int64_t)gq__be64_get(p);
	h.batch_length = (int32_t)gq__be32_get(p + 8);
	h.leader_epoch = (int32_t)gq__be32_get(p + 12);
	h.magic = (int8_t)p[16];
	h.crc = gq__be32_get(p + 17);
	h.attributes = (int16_t)gq__be16_get(p + 21);
	h.last_offset_delta = (int32_t)gq__be32_get(p + 23);
	h.base_timestamp = (int64_t)gq__be64_get(p + 27);
	h.max_timestamp = (int64_t)gq__be64_get(p + 35);
	h.producer_id = (int64_t)gq__be64_get(p + 43);
	h.producer_epoch = (int16_t)gq__be16_get(p + 51);
	h.base_sequence = (int32_t)gq__be32_get(p + 53);
	h.record_count = (int32_t)gq__be32_get(p + 57);

	if (h.batch_length < HEADER_AFTER_LENGTH)
		return GQ_ECORRUPT;
	if ((size_t)h.batch_length > len - GQ__BATCH_OVERHEAD)
		return GQ_ECORRUPT;
	if (h.record_count < 0 || h.last_offset_delta < 0)
		return GQ_ECORRUPT;
	/* Compaction may remove records but never renumbers them, so the
	 * delta can exceed count - 1; it can never be smaller. */
	if (h.record_count > 0 && h.last_offset_delta < h.record_count - 1)
		return GQ_ECORRUPT;
	/* A cheap bound that stops a forged count early; compressed batches
	 * get the same check against their decompressed size. */
	records = (size_t)h.batch_length - HEADER_AFTER_LENGTH;
	if ((h.attributes & GQ__BATCH_ATTR_CODEC_MASK) == 0 &&
	    (size_t)h.record_count > records / MIN_RECORD_SIZE)
		return GQ_ECORRUPT;
	*out = h;
	return 0;
}

int
gq__batch_verify_crc(const void *buf, const struct gq__batch_header *h)
{
	const uint8_t *p = buf;
	size_t n;

	n = gq__batch_total_size(h) - GQ__BATCH_OFF_ATTRIBUTES;
	if (gq__crc32c(0, p + GQ__BATCH_OFF_ATTRIBUTES, n) !=
	    gq__be32_get(p + GQ__BATCH_OFF_CRC))
		return GQ_ECORRUPT;
	return 0;
}

int
gq__batch_validate(const void *buf, size_t len, struct gq__batch_header *out)
{
	struct gq__batch_header h;
	int rv;

	if ((rv = gq__batch_parse_header(buf, len, &h)) != 0)
		return rv;
	if ((rv = gq__batch_verify_crc(buf, &h)) != 0)
		return rv;
	*out = h;
	return 0;
}

void
gq__batch_set_base_offset(void *buf, int64_t base_offset)
{
	gq__be64_put(buf, (uint64_t)base_offset);
}

void
gq__batch_set_leader_epoch(void *buf, int32_t epoch)
{
	gq__be32_put((uint8_t *)buf + GQ__BATCH_OFF_LEADER_EPOCH,
		     (uint32_t)epoch);
}

/* ---------------------------------------------------------------------- */
/* Encoding                                                                */

/*
 * Two's-complement difference and sum of int64 values.  Timestamps are
 * caller data, so a delta may wrap; the decoder's wrapping sum undoes it
 * exactly, and neither side has signed overflow.
 */
static int64_t
wrap_sub(int64_t a, int64_t b)
{
	uint64_t d = (uint64_t)a - (uint64_t)b;

	return d <= INT64_MAX ? (int64_t)d : -(int64_t)(~d) - 1;
}

static int64_t
wrap_add(int64_t a, int64_t b)
{
	uint64_t s = (uint64_t)a + (uint64_t)b;

	return s <= INT64_MAX ? (int64_t)s : -(int64_t)(~s) - 1;
}

/*
 * Add the encoded size of a length-prefixed byte string (NULL = null, -1)
 * to *@size.  GQ_EINVAL if the length does not fit an INT32 or a NULL
 * pointer comes with a non-zero length.
 */
static int
bytes_size(const void *data, size_t len, uint64_t *size)
{
	if (data == NULL) {
		if (len != 0)
			return GQ_EINVAL;
		*size += 1;
		return 0;
	}
	if (len > INT32_MAX)
		return GQ_EINVAL;
	*size += gq__varint_size((int32_t)len) + (uint64_t)len;
	return 0;
}

static uint8_t *
bytes_put(uint8_t *p, const void *data, size_t len)
{
	if (data == NULL)
		return p + gq__varint_put(p, -1);
	p += gq__varint_put(p, (int32_t)len);
	memcpy(p, data, len);
	return p + len;
}

/*
 * Size of the record body (everything after its length varint).  A header
 * key is never null in Kafka's format, so a NULL key encodes as "".
 */
static int
record_body_size(const struct gq_msg *m, int64_t ts_delta, int32_t off_delta,
		 uint64_t *out)
{
	const struct gq_header *h;
	uint64_t size;
	size_t i;
	int rv;

	size = 1 + gq__varlong_size(ts_delta) + gq__varint_size(off_delta);
	if ((rv = bytes_size(m->key, m->key_len, &size)) != 0)
		return rv;
	if ((rv = bytes_size(m->value, m->value_len, &size)) != 0)
		return rv;
	if (m->header_count > INT32_MAX ||
	    (m->headers == NULL && m->header_count != 0))
		return GQ_EINVAL;
	size += gq__varint_size((int32_t)m->header_count);
	for (i = 0; i < m->header_count; i++) {
		h = &m->headers[i];
		if (h->key == NULL && h->key_len != 0)
			return GQ_EINVAL;
		if ((rv = bytes_size("", h->key_len, &size)) != 0)
			return rv;
		if ((rv = bytes_size(h->value, h->value_len, &size)) != 0)
			return rv;
		/* Checked per header so the sum cannot overflow. */
		if (size > INT32_MAX)
			return GQ_EINVAL;
	}
	if (size > INT32_MAX)
		return GQ_EINVAL;
	*out = size;
	return 0;
}

/* Append one record; @body_size comes from record_body_size(). */
static int
record_put(struct gq__buf *b, const struct gq_msg *m, int64_t ts_delta,
	   int32_t off_delta, uint64_t body_size)
{
	const struct gq_header *h;
	uint8_t *p;
	size_t need;
	size_t i;
	int rv;

	need = gq__varint_size((int32_t)body_size) + (size_t)body_size;
	if ((rv = gq__buf_reserve(b, need)) != 0)
		return rv;
	p = b->base + b->len;
	p += gq__varint_put(p, (int32_t)body_size);
	*p++ = 0; /* attributes */
	p += gq__varlong_put(p, ts_delta);
	p += gq__varint_put(p, off_delta);
	p = bytes_put(p, m->key, m->key_len);
	p = bytes_put(p, m->value, m->value_len);
	p += gq__varint_put(p, (int32_t)m->header_count);
	for (i = 0; i < m->header_count; i++) {
		h = &m->headers[i];
		p = bytes_put(p, h->key != NULL ? (const void *)h->key : "",
			      h->key_len);
		p = bytes_put(p, h->value, h->value_len);
	}
	b->len += need;
	return 0;
}

static int64_t
msg_timestamp(const struct gq_msg *m, int64_t now_ms)
{
	return m->timestamp != 0 ? m->timestamp : now_ms;
}

/*
 * Replace the uncompressed records section of @out (which starts at byte
 * 61) by its compressed form, unless that is not smaller.  Sets *@attrs to
 * the codec actually used.
 */
static int
records_compress(struct gq__buf *out, int codec, int16_t *attrs)
{
	struct gq__buf z = GQ__BUF_INIT;
	size_t records = out->len - GQ__BATCH_HEADER_SIZE;
	int rv;

	rv = gq__codec_compress((enum gq__codec)codec,
				out->base + GQ__BATCH_HEADER_SIZE, records, &z);
	if (rv != 0)
		goto err_free;
	if (z.len < records) {
		/* Shrinking within the current capacity cannot fail. */
		out->len = GQ__BATCH_HEADER_SIZE;
		rv = gq__buf_append(out, z.base, z.len);
		*attrs = (int16_t)codec;
	}
err_free:
	gq__buf_free(&z);
	return rv;
}

/* Fill in the 61-byte header of the finished batch in @out, CRC last. */
static void
header_put(struct gq__buf *out, int16_t attrs, int32_t count, int64_t base_ts,
	   int64_t max_ts, int64_t producer_id, int16_t producer_epoch,
	   int32_t base_sequence)
{
	uint8_t *p = out->base;
	size_t n;

	gq__be64_put(p, 0);
	gq__be32_put(p + 8, (uint32_t)(out->len - GQ__BATCH_OVERHEAD));
	gq__be32_put(p + 12, (uint32_t)-1);
	p[16] = GQ__BATCH_MAGIC;
	gq__be16_put(p + 21, (uint16_t)attrs);
	gq__be32_put(p + 23, (uint32_t)(count - 1));
	gq__be64_put(p + 27, (uint64_t)base_ts);
	gq__be64_put(p + 35, (uint64_t)max_ts);
	gq__be64_put(p + 43, (uint64_t)producer_id);
	gq__be16_put(p + 51, (uint16_t)producer_epoch);
	gq__be32_put(p + 53, (uint32_t)base_sequence);
	gq__be32_put(p + 57, (uint32_t)count);
	n = out->len - GQ__BATCH_OFF_ATTRIBUTES;
	gq__be32_put(p + GQ__BATCH_OFF_CRC,
		     gq__crc32c(0, p + GQ__BATCH_OFF_ATTRIBUTES, n));
}

int
gq__batch_build(const struct gq_msg *msgs, size_t n, int codec,
		size_t threshold, int64_t producer_id, int16_t producer_epoch,
		int32_t base_sequence, int64_t now_ms, struct gq__buf *out)
{
	uint64_t body;
	int64_t base_ts;
	int64_t max_ts;
	int64_t ts;
	int16_t attrs = 0;
	size_t i;
	int rv;

	if (msgs == NULL || n == 0 || n > INT32_MAX || out == NULL ||
	    out->len != 0 || codec < GQ__CODEC_NONE || codec > GQ__CODEC_ZSTD)
		return GQ_EINVAL;
	if ((rv = gq__buf_reserve(out, GQ__BATCH_HEADER_SIZE)) != 0)
		goto err_free;
	memset(out->base, 0, GQ__BATCH_HEADER_SIZE);
	out->len = GQ__BATCH_HEADER_SIZE;

	base_ts = msg_timestamp(&msgs[0], now_ms);
	max_ts = base_ts;
	for (i = 0; i < n; i++) {
		ts = msg_timestamp(&msgs[i], now_ms);
		if (ts > max_ts)
			max_ts = ts;
		rv = record_body_size(&msgs[i], wrap_sub(ts, base_ts),
				      (int32_t)i, &body);
		if (rv != 0)
			goto err_free;
		rv = record_put(out, &msgs[i], wrap_sub(ts, base_ts),
				(int32_t)i, body);
		if (rv != 0)
			goto err_free;
	}

	/* The threshold is on the encoded batch, header included, as the
	 * API documents it. */
	if (codec != GQ__CODEC_NONE && out->len >= threshold) {
		if ((rv = records_compress(out, codec, &attrs)) != 0)
			goto err_free;
	}
	if (out->len - GQ__BATCH_OVERHEAD > INT32_MAX) {
		rv = GQ_EINVAL;
		goto err_free;
	}
	header_put(out, attrs, (int32_t)n, base_ts, max_ts, producer_id,
		   producer_epoch, base_sequence);
	return 0;
err_free:
	gq__buf_free(out);
	return rv;
}

/* ---------------------------------------------------------------------- */
/* Merging                                                                 */

int
gq__batch_merge_add(struct gq__batch_merge *m, const void *batch, size_t len)
{
	struct gq__batch_header h;
	const uint8_t *p, *end;
	size_t start = m->out.len;
	int32_t count = m->count;
	int64_t base_ts = m->base_ts, max_ts = m->max_ts;
	int rv;

	if ((rv = gq__batch_parse_header(batch, len, &h)) != 0)
		return rv;
	if ((h.attributes & GQ__BATCH_ATTR_CODEC_MASK) != GQ__CODEC_NONE ||
	    h.record_count > INT32_MAX - count)
		return GQ_EINVAL;
	if (start == 0) {
		if ((rv = gq__buf_reserve(&m->out, GQ__BATCH_HEADER_SIZE)))
			return rv;
		memset(m->out.base, 0, GQ__BATCH_HEADER_SIZE);
		m->out.len = start = GQ__BATCH_HEADER_SIZE;
	}
	p = (const uint8_t *)batch + GQ__BATCH_HEADER_SIZE;
	end = (const uint8_t *)batch + gq__batch_total_size(&h);
	for (int32_t i = 0; i < h.record_count; i++) {
		const uint8_t *rec, *rest;
		int32_t body, off_delta;
		int64_t ts_delta, ts;
		uint8_t attrs;
		size_t tail, need, body_size;
		uint8_t *w;

		if (gq__varint_get(&p, end, &body) != 0 || body < 3 ||
		    body > end - p)
			goto corrupt;
		rec = p;
		attrs = *p++;
		if (gq__varlong_get(&p, rec + body, &ts_delta) != 0 ||
		    gq__varint_get(&p, rec + body, &off_delta) != 0)
			goto corrupt;
		rest = p;
		tail = (size_t)(rec + body - rest);
		ts = wrap_add(h.base_timestamp, ts_delta);
		if (count == 0)
			base_ts = max_ts = ts;
		else if (ts > max_ts)
			max_ts = ts;
		ts_delta = wrap_sub(ts, base_ts);
		body_size = 1 + gq__varlong_size(ts_delta) +
			    gq__varint_size(count) + tail;
		if (body_size > INT32_MAX ||
		    m->out.len + body_size > INT32_MAX) {
			rv = GQ_EINVAL;
			goto undo;
		}
		need = gq__varint_size((int32_t)body_size) + body_size;
		if ((rv = gq__buf_reserve(&m->out, need)) != 0)
			goto undo;
		w = m->out.base + m->out.len;
		w += gq__varint_put(w, (int32_t)body_size);
		*w++ = attrs;
		w += gq__varlong_put(w, ts_delta);
		w += gq__varint_put(w, count);
		memcpy(w, rest, tail);
		m->out.len += need;
		count++;
		p = rec + body;
	}
	m->count = count;
	m->base_ts = base_ts;
	m->max_ts = max_ts;
	return 0;
corrupt:
	rv = GQ_ECORRUPT;
undo:
	m->out.len = start;
	return rv;
}

int
gq__batch_merge_finish(struct gq__batch_merge *m, int codec, size_t threshold,
		       int64_t producer_id, int16_t producer_epoch,
		       int32_t base_sequence, struct gq__buf *out)
{
	int16_t attrs = 0;
	int rv = GQ_EINVAL;

	if (m->count == 0 || out->len != 0)
		goto out;
	if (codec != GQ__CODEC_NONE && m->out.len >= threshold &&
	    (rv = records_compress(&m->out, codec, &attrs)) != 0)
		goto out;
	header_put(&m->out, attrs, m->count, m->base_ts, m->max_ts, producer_id,
		   producer_epoch, base_sequence);
	gq__buf_free(out);
	*out = m->out;
	m->out = (struct gq__buf)GQ__BUF_INIT;
	rv = 0;
out:
	gq__batch_merge_free(m);
	return rv;
}

void
gq__batch_merge_free(struct gq__batch_merge *m)
{
	gq__buf_free(&m->out);
	m->count = 0;
	m->base_ts = m->max_ts = 0;
}

void
gq__batch_set_producer(void *buf, const struct gq__batch_header *h,
		       int64_t producer_id, int16_t producer_epoch,
		       int32_t base_sequence)
{
	uint8_t *p = buf;
	size_t n = gq__batch_total_size(h) - GQ__BATCH_OFF_ATTRIBUTES;

	gq__be64_put(p + 43, (uint64_t)producer_id);
	gq__be16_put(p + 51, (uint16_t)producer_epoch);
	gq__be32_put(p + 53, (uint32_t)base_sequence);
	gq__be32_put(p + GQ__BATCH_OFF_CRC,
		     gq__crc32c(0, p + GQ__BATCH_OFF_ATTRIBUTES, n));
}

/* ---------------------------------------------------------------------- */
/* Decoding                                                                */

int
gq__record_iter_init(struct gq__record_iter *it, const void *batch, size_t len,
		     size_t max_decompressed)
{
	const uint8_t *records;
	size_t size;
	int codec;
	int rv;

	memset(it, 0, sizeof(*it));
	it->remaining = -1; /* next() fails if init did */
	if ((rv = gq__batch_parse_header(batch, len, &it->hdr)) != 0)
		return rv;
	records = (const uint8_t *)batch + GQ__BATCH_HEADER_SIZE;
	size = gq__batch_total_size(&it->hdr) - GQ__BATCH_HEADER_SIZE;
	codec = it->hdr.attributes & GQ__BATCH_ATTR_CODEC_MASK;
	if (codec == GQ__CODEC_NONE) {
		it->cur = records;
		it->end = records + size;
	} else if (codec <= GQ__CODEC_ZSTD) {
		rv = gq__codec_decompress((enum gq__codec)codec, records, size,
					  max_decompressed, &it->decompressed);
		if (rv != 0)
			goto err_free;
		/* An empty output may have no buffer at all. */
		it->cur = it->end = records;
		if (it->decompressed.base != NULL) {
			it->cur = it->decompressed.base;
			it->end = it->cur + it->decompressed.len;
		}
		if ((size_t)it->hdr.record_count >
		    it->decompressed.len / MIN_RECORD_SIZE) {
			rv = GQ_ECORRUPT;
			goto err_free;
		}
	} else {
		return GQ_EUNSUPPORTED;
	}
	it->remaining = it->hdr.record_count;
	return 0;
err_free:
	gq__buf_free(&it->decompressed);
	return rv;
}

/*
 * Read a length that is -1 (null) or 0..(end - *p) bytes and step over the
 * bytes; *@data is NULL for null.  GQ_ECORRUPT for anything else.
 */
static int
bytes_get(const uint8_t **p, const uint8_t *end, bool nullable,
	  const uint8_t **data, int32_t *len)
{
	int32_t n;

	if (gq__varint_get(p, end, &n) != 0)
		return GQ_ECORRUPT;
	if (n == -1 && nullable) {
		*data = NULL;
		*len = -1;
		return 0;
	}
	if (n < 0 || n > end - *p)
		return GQ_ECORRUPT;
	*data = *p;
	*len = n;
	*p += n;
	return 0;
}

/* Decode one header at *@p, or only step over it when @out is NULL. */
static int
header_get(const uint8_t **p, const uint8_t *end, struct gq_header *out)
{
	const uint8_t *key;
	const uint8_t *value;
	int32_t key_len;
	int32_t value_len;

	if (bytes_get(p, end, false, &key, &key_len) != 0 ||
	    bytes_get(p, end, true, &value, &value_len) != 0)
		return GQ_ECORRUPT;
	if (out != NULL) {
		out->key = (const char *)key;
		out->key_len = (size_t)key_len;
		out->value = value;
		out->value_len = value_len < 0 ? 0 : (size_t)value_len;
	}
	return 0;
}

/* Decode the record at it->cur; on success it->cur moves past it. */
static int
record_get(struct gq__record_iter *it, struct gq__record *rec)
{
	const uint8_t *p = it->cur;
	const uint8_t *end;
	int64_t ts_delta;
	int32_t len;
	int32_t off_delta;
	int32_t key_len;
	int32_t value_len;
	int32_t count;
	int32_t i;

	if (gq__varint_get(&p, it->end, &len) != 0 || len < 1 ||
	    len > it->end - p)
		return GQ_ECORRUPT;
	end = p + len;
	p++; /* attributes: unused in v2 */
	if (gq__varlong_get(&p, end, &ts_delta) != 0 ||
	    gq__varint_get(&p, end, &off_delta) != 0)
		return GQ_ECORRUPT;
	if (off_delta < 0 || off_delta > it->hdr.last_offset_delta)
		return GQ_ECORRUPT;
	if (bytes_get(&p, end, true, &rec->key, &key_len) != 0 ||
	    bytes_get(&p, end, true, &rec->value, &value_len) != 0)
		return GQ_ECORRUPT;
	if (gq__varint_get(&p, end, &count) != 0 || count < 0 ||
	    count > (end - p) / MIN_HEADER_SIZE)
		return GQ_ECORRUPT;
	rec->headers = p;
	for (i = 0; i < count; i++) {
		if (header_get(&p, end, NULL) != 0)
			return GQ_ECORRUPT;
	}
	/* Kafka rejects a record whose fields do not fill its length. */
	if (p != end)
		return GQ_ECORRUPT;

	rec->headers_len = (size_t)(end - rec->headers);
	rec->header_count = (uint32_t)count;
	rec->key_len = key_len;
	rec->value_len = value_len;
	rec->offset = wrap_add(it->hdr.base_offset, off_delta);
	if (it->hdr.attributes & GQ__BATCH_ATTR_LOG_APPEND_TIME)
		rec->timestamp = it->hdr.max_timestamp;
	else
		rec->timestamp = wrap_add(it->hdr.base_timestamp, ts_delta);
	it->cur = end;
	return 0;
}

int
gq__record_iter_next(struct gq__record_iter *it, struct gq__record *rec)
{
	if (it->remaining < 0)
		return GQ_ECORRUPT;
	if (it->remaining == 0) {
		/* Bytes left over mean recordCount is too small. */
		if (it->cur != it->end)
			goto err;
		return 0;
	}
	if (it->cur == it->end || record_get(it, rec) != 0)
		goto err;
	it->remaining--;
	return 1;
err:
	it->remaining = -1;
	return GQ_ECORRUPT;
}

void
gq__record_iter_close(struct gq__record_iter *it)
{
	gq__buf_free(&it->decompressed);
	it->cur = it->end = NULL;
	it->remaining = -1;
}

int
gq__record_header(const struct gq__record *rec, uint32_t i,
		  struct gq_header *out)
{
	const uint8_t *p;
	const uint8_t *end;
	uint32_t j;

	if (rec == NULL || out == NULL || i >= rec->header_count)
		return GQ_EINVAL;
	if (rec->headers == NULL)
		return GQ_ECORRUPT;
	p = rec->headers;
	end = rec->headers + rec->headers_len;
	for (j = 0; j < i; j++) {
		if (header_get(&p, end, NULL) != 0)
			return GQ_ECORRUPT;
	}
	return header_get(&p, end, out);
}
