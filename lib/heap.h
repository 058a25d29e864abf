/* SPDX-License-Identifier: MIT */
/*
 * heap.h - every allocation the library makes goes through these, so an
 * application can substitute its allocator (gq_heap_set()) and tests can
 * inject allocation failures.
 */
#ifndef GQ_HEAP_H
#define GQ_HEAP_H

#include <stddef.h>

/* Allocate; NULL on failure (callers turn it into GQ_ENOMEM). */
void *gq__malloc(size_t size);
void *gq__calloc(size_t nmemb, size_t size);
void *gq__realloc(void *ptr, size_t size);
/* Free; NULL is a no-op. */
void gq__free(void *ptr);
/* Duplicate a NUL-terminated string, or @n bytes plus a NUL. */
char *gq__strdup(const char *s);
char *gq__strndup(const char *s, size_t n);

#endif /* GQ_HEAP_H */
