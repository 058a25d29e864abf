/* SPDX-License-Identifier: MIT */
/*
 * kwire.h - Kafka wire primitives: a bounds-checked reader, a growable
 * writer and a per-request arena.
 *
 * This module owns the byte-level encodings of the Kafka protocol
 * (KAFKA-PROTOCOL.md section 1.1): big-endian fixed-width integers,
 * unsigned LEB128 varints, INT16/INT32-length strings and byte arrays, their
 * compact (UVARINT length + 1) variants, array counts and tagged fields.
 *
 * Invariants it keeps:
 * - A reader never reads outside [p, end). Every length is checked against
 *   the bytes that remain before it is trusted, so a length claiming 2 GB
 *   fails at once and never reaches an allocator.
 * - Errors are sticky: after the first failure every read returns zero and
 *   consumes nothing, so a decoder may read a run of fields and check `err`
 *   once. The same holds for the writer.
 * - Strings and byte arrays read from a buffer point into that buffer
 *   (zero-copy): they are lent until the buffer is freed or reused.
 * - Nothing here does I/O or keeps global state; only libc is used.
 */
#ifndef GQK_KWIRE_H
#define GQK_KWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Return codes of the codec: 0 or one of these. */
#define GQK_EMALFORMED   (-1) /* bytes that do not follow the protocol */
#define GQK_ENOMEM       (-2) /* allocation failed or arena limit reached */
#define GQK_EUNSUPPORTED (-3) /* unknown API key or version */
#define GQK_ECORRELATION (-4) /* a response to another request */

/*
 * A string on the wire. @len is -1 for a null string (then @p is NULL).
 * Decoded strings point into the request buffer and are not NUL-terminated.
 */
struct gqk_str {
	const char *p;
	int32_t len;
};

/* A byte array on the wire; @len is -1 for null, as for struct gqk_str. */
struct gqk_bytes {
	const uint8_t *p;
	int32_t len;
};

/* A string literal as a struct gqk_str, for encoders. */
#define GQK_STR(lit) ((struct gqk_str){ (lit), (int32_t)(sizeof(lit) - 1) })
/* The null string and byte array. */
#define GQK_STR_NULL   ((struct gqk_str){ NULL, -1 })
#define GQK_BYTES_NULL ((struct gqk_bytes){ NULL, -1 })

/*
 * Wrap a NUL-terminated C string (borrowed; NULL gives the null string).
 * Strings longer than INT32_MAX are not representable and give null too.
 */
struct gqk_str gqk_str_from(const char *s);

/* True if @s is the null string (any negative length counts as null). */
bool gqk_str_is_null(struct gqk_str s);

/* True if @s holds exactly the bytes of the C string @c (never for null). */
bool gqk_str_eq(struct gqk_str s, const char *c);

/*
 * Reader
 */

/* A cursor over received bytes; @err is 0 or a negative GQK_E* code. */
struct gqk_reader {
	const uint8_t *p, *end;
	int err;
};

/* Start reading @len bytes at @buf (borrowed; must outlive the reader). */
void gqk_reader_init(struct gqk_reader *r, const void *buf, size_t len);

/* Bytes not consumed yet (0 once an error is set). */
size_t gqk_reader_remaining(const struct gqk_reader *r);

/*
 * Mark the reader failed with @err (the first error wins) and return the
 * error now stored.
 */
int gqk_reader_fail(struct gqk_reader *r, int err);

/*
 * Fixed-width big-endian integers and BOOL (any non-zero byte is true, as in
 * Kafka). On a short buffer they set GQK_EMALFORMED and return 0.
 */
int8_t gqk_read_i8(struct gqk_reader *r);
int16_t gqk_read_i16(struct gqk_reader *r);
int32_t gqk_read_i32(struct gqk_reader *r);
int64_t gqk_read_i64(struct gqk_reader *r);
bool gqk_read_bool(struct gqk_reader *r);

/*
 * UVARINT (unsigned LEB128). The 32-bit form accepts at most 5 bytes and
 * rejects values above UINT32_MAX; the 64-bit form at most 10 bytes.
 */
uint32_t gqk_read_uvarint(struct gqk_reader *r);
uint64_t gqk_read_uvarint64(struct gqk_reader *r);

/*
 * Strings, zero-copy into the buffer. All return r->err. The non-nullable
 * forms reject a null length; the nullable forms set @s to GQK_STR_NULL.
 * STRING: INT16 length. COMPACT: UVARINT length + 1 (0 = null).
 */
int gqk_read_string(struct gqk_reader *r, struct gqk_str *s);
int gqk_read_nullable_string(struct gqk_reader *r, struct gqk_str *s);
int gqk_read_compact_string(struct gqk_reader *r, struct gqk_str *s);
int gqk_read_compact_nullable_string(struct gqk_reader *r, struct gqk_str *s);

/* Byte arrays, as the strings but with an INT32 (or compact) length. */
int gqk_read_bytes(struct gqk_reader *r, struct gqk_bytes *b);
int gqk_read_nullable_bytes(struct gqk_reader *r, struct gqk_bytes *b);
int gqk_read_compact_bytes(struct gqk_reader *r, struct gqk_bytes *b);
int gqk_read_compact_nullable_bytes(struct gqk_reader *r, struct gqk_bytes *b);

/*
 * Array counts: the element count, or -1 for a null array. A count below -1
 * or above the remaining byte count (every element takes at least one byte)
 * sets GQK_EMALFORMED and returns 0. Whether null is allowed is the
 * caller's decision.
 */
int32_t gqk_read_array_len(struct gqk_reader *r);
int32_t gqk_read_compact_array_len(struct gqk_reader *r);

/*
 * Skip a TAGGED_FIELDS section (UVARINT count, then UVARINT tag, UVARINT
 * size and size bytes per field). No tag is known to this codec, so all are
 * skipped; their order is not checked (Kafka's parser does not either).
 * Returns r->err.
 */
int gqk_skip_tagged_fields(struct gqk_reader *r);

/*
 * Writer
 */

/*
 * A growable output buffer (malloc/realloc). @err is sticky: GQK_ENOMEM
 * when growing failed, GQK_EMALFORMED when asked to write something the
 * protocol cannot represent (a string longer than INT16_MAX, say), or
 * GQK_EUNSUPPORTED from an encoder given a version it does not know. Once
 * set, further writes are ignored. A zeroed struct is a valid empty writer.
 */
struct gqk_writer {
	uint8_t *base;
	size_t len, cap;
	int err;
};

/* Initialise an empty writer; nothing is allocated until the first put. */
void gqk_writer_init(struct gqk_writer *w);

/* Free the buffer and reset @w to empty (it may be reused). */
void gqk_writer_free(struct gqk_writer *w);

/* Mark the writer failed with @err unless it has failed already. */
void gqk_writer_fail(struct gqk_writer *w, int err);

/* Append raw bytes (borrowed). @p may be NULL when @n is 0. */
void gqk_put_raw(struct gqk_writer *w, const void *p, size_t n);

/* Fixed-width big-endian integers and BOOL (written as 0 or 1). */
void gqk_put_i8(struct gqk_writer *w, int8_t v);
void gqk_put_i16(struct gqk_writer *w, int16_t v);
void gqk_put_i32(struct gqk_writer *w, int32_t v);
void gqk_put_i64(struct gqk_writer *w, int64_t v);
void gqk_put_bool(struct gqk_writer *w, bool v);

/* UVARINT, 1 to 10 bytes. */
void gqk_put_uvarint(struct gqk_writer *w, uint64_t v);

/*
 * Strings (borrowed). The non-nullable forms write a null @s as the empty
 * string, since a null there would make the message unreadable.
 */
void gqk_put_string(struct gqk_writer *w, struct gqk_str s);
void gqk_put_nullable_string(struct gqk_writer *w, struct gqk_str s);
void gqk_put_compact_string(struct gqk_writer *w, struct gqk_str s);
void gqk_put_compact_nullable_string(struct gqk_writer *w, struct gqk_str s);

/* Byte arrays (borrowed); null is written as empty by the non-null forms. */
void gqk_put_bytes(struct gqk_writer *w, struct gqk_bytes b);
void gqk_put_nullable_bytes(struct gqk_writer *w, struct gqk_bytes b);
void gqk_put_compact_bytes(struct gqk_writer *w, struct gqk_bytes b);
void gqk_put_compact_nullable_bytes(struct gqk_writer *w, struct gqk_bytes b);

/* Array counts; a negative @n writes the null array (-1, or 0 compact). */
void gqk_put_array_len(struct gqk_writer *w, int32_t n);
void gqk_put_compact_array_len(struct gqk_writer *w, int32_t n);

/* An empty TAGGED_FIELDS section (a single 0x00). */
void gqk_put_empty_tagged_fields(struct gqk_writer *w);

/*
 * Reserve four bytes for an INT32 known only later (a frame size, an array
 * count) and return their offset, to be filled by gqk_patch_i32().
 */
size_t gqk_reserve_i32(struct gqk_writer *w);

/* Store @v big-endian at offset @pos; a no-op once the writer has failed. */
void gqk_patch_i32(struct gqk_writer *w, size_t pos, int32_t v);

/*
 * Start a size-prefixed frame: reserve its INT32 size and return its offset.
 * gqk_frame_end() then stores the number of bytes written after the prefix.
 */
size_t gqk_frame_begin(struct gqk_writer *w);
void gqk_frame_end(struct gqk_writer *w, size_t pos);

/*
 * Arena
 */

struct gqk_arena_chunk;

/*
 * Per-request memory for decoded arrays: many allocations, freed together.
 * @used counts the bytes taken from malloc; @limit caps it (0 = no cap), so a
 * connection can bound what one request may cost. A zeroed struct is a valid
 * empty arena without a cap.
 */
struct gqk_arena {
	struct gqk_arena_chunk *head;
	size_t used;
	size_t limit;
};

/* Initialise an empty arena that may take at most @limit bytes (0: any). */
void gqk_arena_init(struct gqk_arena *a, size_t limit);

/*
 * Return @size zeroed bytes aligned for any type, valid until
 * gqk_arena_free(); NULL when malloc fails or the limit would be passed.
 */
void *gqk_arena_alloc(struct gqk_arena *a, size_t size);

/* Free every allocation at once; the arena stays usable, with its limit. */
void gqk_arena_free(struct gqk_arena *a);

#endif /* GQK_KWIRE_H */
