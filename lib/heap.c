/* SPDX-License-Identifier: MIT */
/*
 * heap.c - the replaceable allocator.  The current heap is the only
 * process-wide mutable state of the library; it is set before any node
 * exists (documented in gq_heap_set()), so reads need no lock.
 */
#include "heap.h"

#include <stdlib.h>
#include <string.h>

#include "goqueue.h"

static void *
default_malloc(void *data, size_t size)
{
	(void)data;
	return malloc(size);
}

static void *
default_calloc(void *data, size_t nmemb, size_t size)
{
	(void)data;
	return calloc(nmemb, size);
}

static void *
default_realloc(void *data, void *ptr, size_t size)
{
	(void)data;
	return realloc(ptr, size);
}

static void
default_free(void *data, void *ptr)
{
	(void)data;
	free(ptr);
}

static const struct gq_heap default_heap = {
	.malloc = default_malloc,
	.calloc = default_calloc,
	.realloc = default_realloc,
	.free = default_free,
};

static const struct gq_heap *heap = &default_heap;

int
gq_heap_set(const struct gq_heap *h)
{
	if (h == NULL) {
		heap = &default_heap;
		return 0;
	}
	if (h->malloc == NULL || h->calloc == NULL || h->realloc == NULL ||
	    h->free == NULL)
		return GQ_EINVAL;
	heap = h;
	return 0;
}

void *
gq__malloc(size_t size)
{
	return heap->malloc(heap->data, size == 0 ? 1 : size);
}

void *
gq__calloc(size_t nmemb, size_t size)
{
	return heap->calloc(heap->data, nmemb == 0 ? 1 : nmemb,
			    size == 0 ? 1 : size);
}

void *
gq__realloc(void *ptr, size_t size)
{
	return heap->realloc(heap->data, ptr, size == 0 ? 1 : size);
}

void
gq__free(void *ptr)
{
	if (ptr != NULL)
		heap->free(heap->data, ptr);
}

char *
gq__strndup(const char *s, size_t n)
{
	char *p = gq__malloc(n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
gq__strdup(const char *s)
{
	return gq__strndup(s, strlen(s));
}
