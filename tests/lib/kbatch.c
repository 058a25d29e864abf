/* SPDX-License-Identifier: MIT */
/*
 * kbatch.c - the tests' own RecordBatch v2 encoder (KAFKA-PROTOCOL.md
 * section 2), kept independent of lib/ on purpose: it is the second
 * implementation the library is checked against.  Every heap block a kbuf
 * holds is listed in kb_live until kb_free() or kb_release_all().
 */
#include "kbatch.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

/* Heap blocks of live kbufs, freed by the teardown when a failed
 * assertion ends a test before its kb_free() calls. */
static void *kb_live[64];

static void
kb_track(void *old, void *now)
{
	for (size_t i = 0; i < sizeof(kb_live) / sizeof(kb_live[0]); i++) {
		if (kb_live[i] == old) {
			kb_live[i] = now;
			return;
		}
	}
	cr_assert_fail("too many live buffers");
}

void
kb_release_all(void)
{
	for (size_t i = 0; i < sizeof(kb_live) / sizeof(kb_live[0]); i++) {
		free(kb_live[i]);
		kb_live[i] = NULL;
	}
}

uint8_t *
kb_grow(struct kbuf *b, size_t n)
{
	uint8_t *r;

	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		cr_assert_not_null(p);
		kb_track(b->p, p);
		b->p = p;
		b->cap = cap;
	}
	r = b->p + b->len;
	b->len += n;
	return r;
}

void
kb_put(struct kbuf *b, const void *d, size_t n)
{
	uint8_t *dst = kb_grow(b, n);

	if (n > 0)
		memcpy(dst, d, n);
}

void
kb_free(struct kbuf *b)
{
	if (b->p != NULL)
		kb_track(b->p, NULL);
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
kb_be(struct kbuf *b, uint64_t v, int bytes)
{
	uint8_t *p = kb_grow(b, (size_t)bytes);

	for (int i = bytes - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void
kb_varint(struct kbuf *b, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (0 - (uint64_t)(v < 0));

	while (z >= 0x80) {
		*kb_grow(b, 1) = (uint8_t)(z | 0x80);
		z >>= 7;
	}
	*kb_grow(b, 1) = (uint8_t)z;
}

void
kb_bytes(struct kbuf *b, const void *d, size_t n)
{
	if (d == NULL) {
		kb_varint(b, -1);
		return;
	}
	kb_varint(b, (int64_t)n);
	kb_put(b, d, n);
}

uint32_t
kb_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

uint64_t
kb_be64(const uint8_t *p)
{
	return (uint64_t)kb_be32(p) << 32 | kb_be32(p + 4);
}

/* Bitwise with the reflected polynomial 0x82F63B78: slow, but short
 * enough to check by eye against the specification. */
uint32_t
kb_crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0 - (c & 1)));
	}
	return ~c;
}

/*
 * Each record: length (varint), attributes (int8, 0), timestampDelta,
 * offsetDelta (varints), key and value (varint length, -1 for null, then
 * the bytes), header count (varint) and each header's key and value.
 */
void
kb_records(struct kbuf *out, const struct gq_msg *m, size_t n)
{
	struct kbuf body = { 0 };

	for (size_t i = 0; i < n; i++) {
		body.len = 0;
		*kb_grow(&body, 1) = 0; /* attributes */
		kb_varint(&body, m[i].timestamp - m[0].timestamp);
		kb_varint(&body, (int64_t)i);
		kb_bytes(&body, m[i].key, m[i].key_len);
		kb_bytes(&body, m[i].value, m[i].value_len);
		kb_varint(&body, (int64_t)m[i].header_count);
		for (size_t j = 0; j < m[i].header_count; j++) {
			const struct gq_header *h = &m[i].headers[j];

			kb_bytes(&body, h->key, h->key_len);
			kb_bytes(&body, h->value, h->value_len);
		}
		kb_varint(out, (int64_t)body.len);
		kb_put(out, body.p, body.len);
	}
	kb_free(&body);
}

/* The 61-byte header, big-endian; the CRC covers everything from the
 * attributes (byte 21) to the end of the batch. */
void
kb_batch(struct kbuf *out, const uint8_t *records, size_t rlen, int16_t attrs,
	 int32_t count, int64_t base_ts, int64_t max_ts, int64_t pid,
	 int16_t epoch, int32_t seq)
{
	size_t start = out->len;
	uint8_t *p;
	uint32_t crc;

	kb_be(out, 0, 8);               /* baseOffset */
	kb_be(out, 49 + rlen, 4);       /* batchLength */
	kb_be(out, 0, 4);               /* partitionLeaderEpoch */
	kb_be(out, 2, 1);               /* magic */
	kb_be(out, 0, 4);               /* crc, below */
	kb_be(out, (uint16_t)attrs, 2); /* attributes */
	kb_be(out, (uint32_t)(count - 1), 4);
	kb_be(out, (uint64_t)base_ts, 8);
	kb_be(out, (uint64_t)max_ts, 8);
	kb_be(out, (uint64_t)pid, 8);
	kb_be(out, (uint16_t)epoch, 2);
	kb_be(out, (uint32_t)seq, 4);
	kb_be(out, (uint32_t)count, 4);
	kb_put(out, records, rlen);
	p = out->p + start;
	crc = kb_crc32c(p + 21, out->len - start - 21);
	p[17] = (uint8_t)(crc >> 24);
	p[18] = (uint8_t)(crc >> 16);
	p[19] = (uint8_t)(crc >> 8);
	p[20] = (uint8_t)crc;
}

int64_t
gqt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
gqt_create_topic(struct gq_node *node, const char *topic, int32_t parts,
		 const char *const *kv, size_t n)
{
	struct gq_config *cfg;
	char err[GQ_ERRMSG_SIZE];
	int rv;

	cr_assert_eq(gq_config_create(&cfg), 0);
	for (size_t i = 0; i + 1 < n; i += 2)
		cr_assert_eq(gq_config_set(cfg, kv[i], kv[i + 1], err), 0,
			     "%s=%s: %s", kv[i], kv[i + 1], err);
	rv = gq_topic_create(node, topic, parts, 1, cfg);
	gq_config_destroy(cfg);
	cr_assert_eq(rv, 0, "create %s: %s: %s", topic, gq_strerror(rv),
		     gq_node_errmsg(node));
}

void
gqt_waiter_cb(void *arg, int status, int32_t partition, gq_offset base)
{
	struct gqt_waiter *w = arg;

	w->status = status;
	w->partition = partition;
	w->offset = base;
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
}

void
gqt_waiter_wait(struct gqt_waiter *w)
{
	while (!__atomic_load_n(&w->done, __ATOMIC_SEQ_CST))
		usleep(1000);
}

/* *@off stays -2 when the call itself refuses the batch, so that a test
 * can tell that from a callback reporting offset -1. */
int
gqt_produce_raw(struct gq_node *node, const char *topic, int32_t part,
		const void *b, size_t len, gq_offset *off)
{
	struct gqt_waiter w;
	int rv;

	memset(&w, 0, sizeof(w));
	*off = -2;
	rv = gq_produce_records_async(node, topic, part, b, len, gqt_waiter_cb,
				      &w);
	if (rv != 0)
		return rv;
	gqt_waiter_wait(&w);
	*off = w.offset;
	return w.status;
}
