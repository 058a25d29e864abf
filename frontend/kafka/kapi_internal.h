/* SPDX-License-Identifier: MIT */
/*
 * kapi_internal.h - the one description of each message body that both
 * directions share. Not part of the codec's interface: only the codec's
 * own files include it.
 *
 * Every API body is written once, as a walker: a function that visits its
 * fields in wire order for a given version. The same walker decodes (a
 * struct kio holding a reader fills the message) and encodes (a struct kio
 * holding a writer reads the message), so the request decoders gqd uses
 * and the request encoders a client uses cannot disagree about a layout,
 * nor can the response encoders and decoders. Where the two directions
 * really differ (a default for a field the version lacks, a field the
 * server derives) the walker says so beside the field.
 *
 * Invariants kept here rather than in each walker:
 * - An array is allocated in the arena only after its count has been
 *   checked against the bytes left (times the smallest encoding of one
 *   element), so a forged count costs nothing.
 * - A body must be consumed exactly.
 * - Encoding never writes into the message: callers may pass const data.
 *
 * The helpers are static inline so that each file gets its own copy and
 * no internal symbol leaks from the static library; the tables of walkers
 * the dispatchers in kapi.c use are the only internal symbols, prefixed
 * gqk__.
 */
#ifndef GQK_KAPI_INTERNAL_H
#define GQK_KAPI_INTERNAL_H

#include "kapi.h"
#include "kwire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Decoding helpers
 */

/*
 * Allocate @count zeroed elements of @elem bytes, each taking at least
 * @min_wire bytes on the wire, for a count just read. Sets *n to the count
 * (-1 for an allowed null, 0 on error) and returns the elements, NULL when
 * there are none or on error (then r->err says why).
 */
static inline void *
alloc_array(struct gqk_reader *r, struct gqk_arena *a, int32_t count,
	    bool nullable, size_t elem, size_t min_wire, int32_t *n)
{
	void *p;

	*n = 0;
	if (r->err != 0)
		return NULL;
	if (count < 0) {
		if (nullable)
			*n = -1;
		else
			gqk_reader_fail(r, GQK_EMALFORMED);
		return NULL;
	}
	if (count == 0)
		return NULL;
	if ((size_t)count > gqk_reader_remaining(r) / min_wire ||
	    (size_t)count > SIZE_MAX / elem) {
		gqk_reader_fail(r, GQK_EMALFORMED);
		return NULL;
	}
	if ((p = gqk_arena_alloc(a, (size_t)count * elem)) == NULL) {
		gqk_reader_fail(r, GQK_ENOMEM);
		return NULL;
	}
	*n = count;
	return p;
}

/* The body must end exactly where the reader is. */
static inline int
finish(struct gqk_reader *r)
{
	if (r->err == 0 && r->p != r->end)
		gqk_reader_fail(r, GQK_EMALFORMED);
	return r->err;
}

/*
 * Encoding helpers
 */

/* False, with w->err set to GQK_EUNSUPPORTED, outside [min, max]. */
static inline bool
version_ok(struct gqk_writer *w, int16_t version, int16_t min, int16_t max)
{
	if (version >= min && version <= max)
		return true;
	gqk_writer_fail(w, GQK_EUNSUPPORTED);
	return false;
}

/* A count for a non-nullable array: negative means empty. */
static inline int32_t
count(int32_t n)
{
	return n < 0 ? 0 : n;
}

/*
 * Walkers
 */

/*
 * One direction of one walk: exactly one of @r (decoding, with the arena
 * @a for arrays) and @w (encoding) is set, and @err is its sticky error
 * (kept apart so that checking it never looks at the unset side).
 */
struct kio {
	struct gqk_reader *r;
	struct gqk_arena *a;
	struct gqk_writer *w;
	const int *err;
};

/* A body walker: visits the fields of @version of one message, @msg being
 * the message struct of that API and direction. */
typedef void (*kio_walk)(struct kio *io, int16_t version, void *msg);

/* The two bodies of one API. */
struct kio_api {
	int16_t key;
	kio_walk req, resp;
};

/* The walkers of kapi_data.c, kapi_admin.c and kapi_group.c (kapi.c,
 * which dispatches on them, has ApiVersions). */
extern const struct kio_api gqk__data_walkers[];
extern const size_t gqk__n_data_walkers;
extern const struct kio_api gqk__admin_walkers[];
extern const size_t gqk__n_admin_walkers;
extern const struct kio_api gqk__group_walkers[];
extern const size_t gqk__n_group_walkers;

static inline bool
kio_decoding(const struct kio *io)
{
	return io->r != NULL;
}

/* No error so far; loops stop early on one. */
static inline bool
kio_ok(const struct kio *io)
{
	return *io->err == 0;
}

/*
 * Decoding stores @p (an array just allocated) in the pointer @field;
 * encoding leaves the message alone, since it may be const.
 */
#define KIO_KEEP(io, field, p)         \
	do {                           \
		if ((io)->r != NULL)   \
			(field) = (p); \
	} while (0)

/*
 * The fixed-width fields: kio_i8(), kio_i16(), kio_i32(), kio_i64() and
 * kio_bool() walk one; kio_<type>_if() walks it only when @present, and
 * otherwise decoding stores Kafka's default for it, @absent (the message
 * was zeroed, so fields whose default is 0 need no such call).
 */
#define KIO_FIXED(name, type)                                            \
	static inline void kio_##name(struct kio *io, type *v)           \
	{                                                                \
		if (io->r != NULL)                                       \
			*v = gqk_read_##name(io->r);                     \
		else                                                     \
			gqk_put_##name(io->w, *v);                       \
	}                                                                \
	static inline void kio_##name##_if(struct kio *io, bool present, \
					   type *v, type absent)         \
	{                                                                \
		if (present)                                             \
			kio_##name(io, v);                               \
		else if (io->r != NULL)                                  \
			*v = absent;                                     \
	}
KIO_FIXED(i8, int8_t)
KIO_FIXED(i16, int16_t)
KIO_FIXED(i32, int32_t)
KIO_FIXED(i64, int64_t)
KIO_FIXED(bool, bool)
#undef KIO_FIXED

/* STRING: a null one is written as empty, and rejected when read. */
static inline void
kio_string(struct kio *io, struct gqk_str *s)
{
	if (io->r != NULL)
		gqk_read_string(io->r, s);
	else
		gqk_put_string(io->w, *s);
}

static inline void
kio_nullable_string(struct kio *io, struct gqk_str *s)
{
	if (io->r != NULL)
		gqk_read_nullable_string(io->r, s);
	else
		gqk_put_nullable_string(io->w, *s);
}

/* A NULLABLE_STRING that only some versions carry: null when absent. */
static inline void
kio_nullable_string_if(struct kio *io, bool present, struct gqk_str *s)
{
	if (present)
		kio_nullable_string(io, s);
	else if (io->r != NULL)
		*s = GQK_STR_NULL;
}

static inline void
kio_compact_string(struct kio *io, struct gqk_str *s)
{
	if (io->r != NULL)
		gqk_read_compact_string(io->r, s);
	else
		gqk_put_compact_string(io->w, *s);
}

/* BYTES: a null one is written as empty, and rejected when read. */
static inline void
kio_bytes(struct kio *io, struct gqk_bytes *b)
{
	if (io->r != NULL)
		gqk_read_bytes(io->r, b);
	else
		gqk_put_bytes(io->w, *b);
}

static inline void
kio_nullable_bytes(struct kio *io, struct gqk_bytes *b)
{
	if (io->r != NULL)
		gqk_read_nullable_bytes(io->r, b);
	else
		gqk_put_nullable_bytes(io->w, *b);
}

/* TAGGED_FIELDS: none known, so skipped when read and written empty. */
static inline void
kio_tagged(struct kio *io)
{
	if (io->r != NULL)
		gqk_skip_tagged_fields(io->r);
	else
		gqk_put_empty_tagged_fields(io->w);
}

/*
 * An array count and its elements (@elem bytes each, at least @min_wire
 * on the wire), INT32-counted or, if @compact, UVARINT-counted. Decoding
 * reads the count into *n and returns zeroed elements from the arena, to
 * be stored with KIO_KEEP(); encoding writes *n (a negative one as null if
 * @nullable, else as empty) and returns @cur. Either way the caller then
 * walks elements 0 to *n - 1 (none for a negative *n).
 */
static inline void *
kio_array_of(struct kio *io, bool compact, bool nullable, size_t elem,
	     size_t min_wire, int32_t *n, const void *cur)
{
	int32_t c;

	if (io->r != NULL) {
		c = compact ? gqk_read_compact_array_len(io->r)
			    : gqk_read_array_len(io->r);
		return alloc_array(io->r, io->a, c, nullable, elem, min_wire,
				   n);
	}
	c = nullable ? *n : count(*n);
	if (compact)
		gqk_put_compact_array_len(io->w, c);
	else
		gqk_put_array_len(io->w, c);
	/* Encoding only reads through the result. */
	return (void *)cur;
}

/* The usual, INT32-counted array. */
static inline void *
kio_array(struct kio *io, bool nullable, size_t elem, size_t min_wire,
	  int32_t *n, const void *cur)
{
	return kio_array_of(io, false, nullable, elem, min_wire, n, cur);
}

/* ARRAY[STRING] (non-nullable elements). */
static inline struct gqk_str *
kio_string_array(struct kio *io, bool nullable, int32_t *n,
		 const struct gqk_str *cur)
{
	struct gqk_str *s;
	int32_t i;

	s = kio_array(io, nullable, sizeof(*s), 2, n, cur);
	for (i = 0; i < *n && kio_ok(io); i++)
		kio_string(io, &s[i]);
	return s;
}

/* ARRAY[INT32], non-nullable. */
static inline int32_t *
kio_i32_array(struct kio *io, int32_t *n, const int32_t *cur)
{
	int32_t *v;
	int32_t i;

	v = kio_array(io, false, sizeof(*v), 4, n, cur);
	for (i = 0; i < *n && kio_ok(io); i++)
		kio_i32(io, &v[i]);
	return v;
}

/*
 * Decode one body of @version of @key into @out (@size bytes, zeroed
 * first) with @walk: GQK_EUNSUPPORTED outside the advertised range (and
 * nothing read), else the reader's error, trailing bytes included.
 */
static inline int
kio_decode(struct gqk_reader *r, struct gqk_arena *a, int16_t key,
	   int16_t version, kio_walk walk, void *out, size_t size)
{
	struct kio io = { r, a, NULL, &r->err };

	memset(out, 0, size);
	if (!gqk_api_supported(key, version))
		return GQK_EUNSUPPORTED;
	walk(&io, version, out);
	return finish(r);
}

/* Encode @msg with @walk, or fail @w with GQK_EUNSUPPORTED (writing
 * nothing) outside the advertised range of @key. */
static inline void
kio_encode(struct gqk_writer *w, int16_t key, int16_t version, kio_walk walk,
	   const void *msg)
{
	struct kio io = { NULL, NULL, w, &w->err };
	const struct gqk_api_range *e;

	e = gqk_api_range(key);
	if (!version_ok(w, version, e != NULL ? e->min : 0,
			e != NULL ? e->max : -1))
		return;
	/* The walker only reads the message when encoding. */
	walk(&io, version, (void *)msg);
}

/*
 * The four entry points of the API @key whose body walkers are @m_req and
 * @m_resp: gqk_<m>_req_decode(), gqk_<m>_req_encode(),
 * gqk_<m>_resp_decode() and gqk_<m>_resp_encode(), declared with their
 * contracts in kapi.h and kapi_group.h. They are nothing but the walkers
 * bound to a key and a struct, so they are generated: written out, they
 * were seventeen copies in which a wrong key or walker would compile. To
 * find the definition of one, grep for "KIO_ENTRY_POINTS(<m>," (STYLE.md's
 * "grep '^name'" rule gives way here, for that reason).
 */
#define KIO_ENTRY_POINTS(m, key)                                          \
	int gqk_##m##_req_decode(struct gqk_reader *r, int16_t version,   \
				 struct gqk_arena *a,                     \
				 struct gqk_##m##_req *out)               \
	{                                                                 \
		return kio_decode(r, a, key, version, m##_req, out,       \
				  sizeof(*out));                          \
	}                                                                 \
	void gqk_##m##_req_encode(struct gqk_writer *w, int16_t version,  \
				  const struct gqk_##m##_req *req)        \
	{                                                                 \
		kio_encode(w, key, version, m##_req, req);                \
	}                                                                 \
	int gqk_##m##_resp_decode(struct gqk_reader *r, int16_t version,  \
				  struct gqk_arena *a,                    \
				  struct gqk_##m##_resp *out)             \
	{                                                                 \
		return kio_decode(r, a, key, version, m##_resp, out,      \
				  sizeof(*out));                          \
	}                                                                 \
	void gqk_##m##_resp_encode(struct gqk_writer *w, int16_t version, \
				   const struct gqk_##m##_resp *resp)     \
	{                                                                 \
		kio_encode(w, key, version, m##_resp, resp);              \
	}

#endif /* GQK_KAPI_INTERNAL_H */
