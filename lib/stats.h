/* SPDX-License-Identifier: MIT */
/*
 * stats.h - the loop-thread half of gq_node_stats() (stats.c).
 */
#ifndef GQ_STATS_H
#define GQ_STATS_H

#include <stdint.h>

struct gq_node;
struct gq__req;

/* Loop thread: fill the GQ__REQ_STATS request's struct gq_node_stats with
 * the controller and every partition replica open here, and complete
 * it. */
void gq__stats_collect(struct gq_node *node, struct gq__req *req);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t gq__monotonic_ms(void);

#endif /* GQ_STATS_H */
