/* SPDX-License-Identifier: MIT */
/*
 * kbatch.h - an independent Kafka RecordBatch v2 encoder for the
 * integration tests, written from the Kafka protocol (KAFKA-PROTOCOL.md
 * section 2) and not from lib/: batches built here cross-check the
 * library's decoder, and the stored batches the library returns are
 * checked with a second CRC-32C and byte-order reader.  It therefore uses
 * the public API (<goqueue.h>), libc and Criterion only, and must never
 * include or link anything from lib/.
 *
 * Buffers are tracked while they hold heap memory, so that a suite's .fini
 * can free, with kb_release_all(), those that a failed assertion left
 * behind.  Also here: the raw-produce and topic helpers of the tests that
 * send such batches.  Helpers fail the running test on errors.
 */
#ifndef GQ_TEST_KBATCH_H
#define GQ_TEST_KBATCH_H

#include <goqueue.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer: zero-initialise it, release it with kb_free(). */
struct kbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

/* Append @n uninitialised bytes to @b and return them; fails if no memory. */
uint8_t *kb_grow(struct kbuf *b, size_t n);
/* Append the @n bytes at @d to @b. */
void kb_put(struct kbuf *b, const void *d, size_t n);
/* Free @b's memory and leave it empty (zeroed), ready for reuse. */
void kb_free(struct kbuf *b);
/* Free every buffer not yet passed to kb_free(); for a suite's .fini. */
void kb_release_all(void);
/* Append the low @bytes bytes of @v to @b, big-endian. */
void kb_be(struct kbuf *b, uint64_t v, int bytes);
/* Append @v to @b as a zigzag varint (protobuf sint64), as records use. */
void kb_varint(struct kbuf *b, int64_t v);
/* Append a varint length and the @n bytes at @d, or length -1 if @d NULL. */
void kb_bytes(struct kbuf *b, const void *d, size_t n);
/* The big-endian 32-bit integer at @p. */
uint32_t kb_be32(const uint8_t *p);
/* The big-endian 64-bit integer at @p. */
uint64_t kb_be64(const uint8_t *p);
/* CRC-32C (Castagnoli) of @n bytes at @p, computed bitwise. */
uint32_t kb_crc32c(const uint8_t *p, size_t n);
/* Append the records of @m[0..n) (timestamps relative to m[0]'s) to @out. */
void kb_records(struct kbuf *out, const struct gq_msg *m, size_t n);
/* Append a whole batch around @rlen bytes of (maybe compressed) records. */
void kb_batch(struct kbuf *out, const uint8_t *records, size_t rlen,
	      int16_t attrs, int32_t count, int64_t base_ts, int64_t max_ts,
	      int64_t pid, int16_t epoch, int32_t seq);

/* The wall clock in milliseconds since the epoch, as Kafka timestamps. */
int64_t gqt_now_ms(void);
/* Create @topic with @parts partitions and config key/value pairs @kv[n]. */
void gqt_create_topic(struct gq_node *node, const char *topic, int32_t parts,
		      const char *const *kv, size_t n);

/* The outcome of one asynchronous produce, filled by gqt_waiter_cb(). */
struct gqt_waiter {
	int done;
	int status;
	int32_t partition;
	gq_offset offset;
};

/* A gq_produce_cb that records its arguments in the gqt_waiter @arg. */
void gqt_waiter_cb(void *arg, int status, int32_t partition, gq_offset base);
/* Wait until gqt_waiter_cb() has run for @w. */
void gqt_waiter_wait(struct gqt_waiter *w);
/* Raw produce and wait: the call's error, or the callback's status and base. */
int gqt_produce_raw(struct gq_node *node, const char *topic, int32_t part,
		    const void *b, size_t len, gq_offset *off);

#endif /* GQ_TEST_KBATCH_H */
