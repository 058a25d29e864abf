/* SPDX-License-Identifier: MIT */
/*
 * assign.h - the client side of Kafka's "consumer" group protocol, for the
 * embedded group consumer (consumer.c): the payloads JoinGroup and
 * SyncGroup carry as opaque bytes, and the assignors a group leader runs.
 * The wire formats are Kafka's (KAFKA-PROTOCOL.md section 3.3), so an
 * embedded consumer can share a group with Kafka clients served by gqd.
 *
 *   ConsumerProtocolSubscription (version 0 written; 0 to 3 read):
 *     i16 version | i32 n, n x string topic | bytes user data (nullable)
 *     | v1+: i32 n owned, n x (string topic, i32 n, n x i32 partition)
 *     | v2+: i32 generation | v3+: string rack (nullable)
 *   ConsumerProtocolAssignment (version 0 written; 0 to 3 read):
 *     i16 version | i32 n, n x (string topic, i32 n, n x i32 partition)
 *     | bytes user data (nullable)
 *   string: i16 length (-1 null) and bytes; bytes: i32 length (-1 null)
 *   and bytes; all big-endian.  Fields past those listed are ignored.
 *
 * Pure functions: no I/O, no globals.  Memory from gq__malloc().
 */
#ifndef GQ_ASSIGN_H
#define GQ_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A topic's partitions, as a list of (topic, partition) pairs sorted by
 * topic (byte order) then partition. */
struct gq__tp {
	char *topic;
	int32_t partition;
};

struct gq__tp_list {
	struct gq__tp *v;
	size_t n;
	size_t cap;
};

/* Add (copying @topic) / free.  0 or GQ_ENOMEM. */
int gq__tp_list_add(struct gq__tp_list *l, const char *topic,
		    int32_t partition);
void gq__tp_list_free(struct gq__tp_list *l);

/* Sort by (topic, partition) and drop duplicates. */
void gq__tp_list_sort(struct gq__tp_list *l);

/* A subscription: the topics a member wants, sorted, distinct. */
struct gq__subscription {
	char **topics;
	size_t n;
};

void gq__subscription_free(struct gq__subscription *s);

/* Append a version 0 subscription of @topics (@n, any order, duplicates
 * allowed) to @out.  0, GQ_EINVAL (a NULL topic, or one longer than
 * GQ_NAME_MAX) or GQ_ENOMEM (@out as it was). */
int gq__subscription_encode(const char *const *topics, size_t n,
			    struct gq__buf *out);

/* Decode one (versions 0 to 3; later fields ignored).  0, GQ_ECORRUPT or
 * GQ_ENOMEM; *out is empty on error. */
int gq__subscription_decode(const uint8_t *p, size_t len,
			    struct gq__subscription *out);

/* Append a version 0 assignment of @parts (sorted or not) to @out, grouped
 * by topic.  0, GQ_EINVAL (a NULL or too long topic, a negative
 * partition) or GQ_ENOMEM (@out as it was). */
int gq__assignment_encode(const struct gq__tp_list *parts, struct gq__buf *out);

/* Decode one (versions 0 to 3) into @out (sorted), which is overwritten:
 * pass an empty list; it is empty on error.  An empty input (a member
 * the leader gave nothing) is an empty assignment.  0, GQ_ECORRUPT or
 * GQ_ENOMEM. */
int gq__assignment_decode(const uint8_t *p, size_t len,
			  struct gq__tp_list *out);

/* What the leader knows when it assigns. */
struct gq__assign_member {
	const char *member_id;
	const struct gq__subscription *sub;
};

/* The partition count of @topic, or -1 when it does not exist. */
typedef int32_t (*gq__partition_count_fn)(void *arg, const char *topic);

/*
 * Assign the partitions of every subscribed topic to the @n members, as
 * Kafka's assignors do, into @out[0..n-1] (initialised empty by the
 * caller, in the members' order):
 *   "range": per topic, its members sorted by member id, partitions split
 *     in consecutive ranges, the first (count % members) getting one more;
 *   "roundrobin": every (topic, partition) of all subscribed topics in
 *     sorted order dealt in turn to the members sorted by id, skipping
 *     members not subscribed to its topic.
 * Subscriptions must be sorted and distinct, as decoded; a NULL one is
 * empty.  Static members are ordered by member id like the others (Kafka
 * puts them first, by instance id).  Topics that do not exist are
 * skipped.  0, GQ_EINVAL (unknown assignor, NULL arguments or member id)
 * or GQ_ENOMEM (then @out may be partly filled; the caller frees).
 */
int gq__assign(const char *assignor, const struct gq__assign_member *members,
	       size_t n, gq__partition_count_fn count, void *arg,
	       struct gq__tp_list *out);

#endif /* GQ_ASSIGN_H */
