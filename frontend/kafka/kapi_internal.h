/* SPDX-License-Identifier: MIT */
/*
 * kapi_internal.h - decoding and encoding helpers shared by the per-API
 * codecs (kapi.c, kapi_group.c). Not part of the codec's interface: only
 * those files include it.
 *
 * The helpers keep the codec's two decoding invariants in one place: an
 * array is allocated in the arena only after its count has been checked
 * against the bytes left (times the smallest encoding of one element), so
 * a forged count costs nothing; and a body must be consumed exactly.
 * They are static inline so that each file gets its own copy and no
 * internal symbol leaks from the static library.
 */
#ifndef GQK_KAPI_INTERNAL_H
#define GQK_KAPI_INTERNAL_H

#include "kwire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decoding helpers
 */

/*
 * Read an INT32 array count and allocate that many zeroed elements of
 * @elem bytes, each taking at least @min_wire bytes on the wire. Sets *n to
 * the count (-1 for an allowed null, 0 on error) and returns the elements,
 * NULL when there are none or on error (then r->err says why).
 */
static inline void *
read_array(struct gqk_reader *r, struct gqk_arena *a, bool nullable,
	   size_t elem, size_t min_wire, int32_t *n)
{
	int32_t count;
	void *p;

	*n = 0;
	count = gqk_read_array_len(r);
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

/* ARRAY[STRING] (non-nullable elements). */
static inline struct gqk_str *
read_string_array(struct gqk_reader *r, struct gqk_arena *a, bool nullable,
		  int32_t *n)
{
	struct gqk_str *s;
	int32_t i;

	s = read_array(r, a, nullable, sizeof(*s), 2, n);
	for (i = 0; i < *n && r->err == 0; i++)
		gqk_read_string(r, &s[i]);
	return s;
}

/* ARRAY[INT32]. */
static inline int32_t *
read_i32_array(struct gqk_reader *r, struct gqk_arena *a, int32_t *n)
{
	int32_t *v;
	int32_t i;

	v = read_array(r, a, false, sizeof(*v), 4, n);
	for (i = 0; i < *n && r->err == 0; i++)
		v[i] = gqk_read_i32(r);
	return v;
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

/* ARRAY[INT32], non-nullable. */
static inline void
put_i32_array(struct gqk_writer *w, int32_t n, const int32_t *v)
{
	int32_t i;

	n = count(n);
	gqk_put_array_len(w, n);
	for (i = 0; i < n; i++)
		gqk_put_i32(w, v[i]);
}

#endif /* GQK_KAPI_INTERNAL_H */
