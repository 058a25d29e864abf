/* SPDX-License-Identifier: MIT */
/*
 * failheap.c - the failing, counting allocator of failheap.h.
 */
#include "failheap.h"

#include <stdbool.h>
#include <stdlib.h>

struct gqt_failheap gqt_fh;

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static bool
should_fail(void)
{
	bool fail = gqt_fh.calls++ == gqt_fh.fail_at;

	if (gqt_fh.rng != 0 && rnd(&gqt_fh.rng) % 16 == 0)
		fail = true;
	if (fail)
		gqt_fh.failed++;
	return fail;
}

static void *
fh_malloc(void *data, size_t size)
{
	void *p;

	(void)data;
	if (should_fail() || (p = malloc(size)) == NULL)
		return NULL;
	gqt_fh.live++;
	return p;
}

static void *
fh_calloc(void *data, size_t nmemb, size_t size)
{
	void *p;

	(void)data;
	if (should_fail() || (p = calloc(nmemb, size)) == NULL)
		return NULL;
	gqt_fh.live++;
	return p;
}

static void *
fh_realloc(void *data, void *ptr, size_t size)
{
	void *p;

	(void)data;
	if (should_fail() || (p = realloc(ptr, size)) == NULL)
		return NULL;
	if (ptr == NULL)
		gqt_fh.live++;
	return p;
}

static void
fh_free(void *data, void *ptr)
{
	(void)data;
	if (ptr != NULL)
		gqt_fh.live--;
	free(ptr);
}

const struct gq_heap gqt_failing_heap = {
	.malloc = fh_malloc,
	.calloc = fh_calloc,
	.realloc = fh_realloc,
	.free = fh_free,
};
