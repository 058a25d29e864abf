/* SPDX-License-Identifier: MIT */
/*
 * failheap.h - an allocator for gq_heap_set() that fails one chosen
 * allocation (and, with a seed, one in sixteen at random) and counts the
 * allocations still live, so a test can check that every failure point is
 * handled and leaks nothing: fail the Nth call for N = 0, 1, ... until a
 * run has nothing left to fail.
 */
#ifndef GQT_FAILHEAP_H
#define GQT_FAILHEAP_H

#include <goqueue.h>
#include <stdint.h>

struct gqt_failheap {
	long live;    /* allocations not freed */
	long calls;   /* allocation calls so far */
	long fail_at; /* fail this call; -1: never */
	uint64_t rng; /* when non-zero: also fail 1 in 16 at random */
	long failed;  /* calls failed */
};

/* The counters; reset them (memset, fail_at set) before each run. */
extern struct gqt_failheap gqt_fh;

/* The allocator, for gq_heap_set(). */
extern const struct gq_heap gqt_failing_heap;

#endif /* GQT_FAILHEAP_H */
