/* SPDX-License-Identifier: MIT */
/*
 * client.h - what `topic produce` and `topic consume` share: a node
 * connected to the brokers of --brokers over the Kafka protocol
 * (gq_node_connect(), the public API only), the mapping of its GQ_E*
 * errors to gqctl's exit codes, the topic's shape, a clean stop on SIGINT
 * and SIGTERM, and small text helpers.
 *
 * Unlike the admin commands, these two run for a while and move data, so
 * they handle interruption themselves: the first SIGINT or SIGTERM sets a
 * flag the command polls (and interrupts a sleep or a read of stdin); a
 * second one kills as usual (SA_RESETHAND).
 */
#ifndef GQCTL_CLIENT_H
#define GQCTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <goqueue.h>

#include "gqctl.h"

/* How much a single gq_fetch() asks for, and the largest message gqctl
 * expects when the topic does not say. */
#define CLIENT_FETCH_BYTES      (1u << 20)
#define CLIENT_MAX_MESSAGE_SIZE 1048576u

/*
 * Install the SIGINT/SIGTERM handler (one shot, see above), then connect
 * to g->brokers with g->timeout_ms as the library's request_timeout (0:
 * as long as it allows).  The signals are blocked while the node starts
 * its loop thread, so only the calling thread ever takes them.
 * @return GQCTL_OK with *out set (close it with gq_node_close()), or
 *         GQCTL_UNREACHABLE (no broker answered), GQCTL_USAGE (a malformed
 *         list), GQCTL_FAILED, each reported with @what.
 */
int client_connect(struct gqctl *g, const char *what, struct gq_node **out);

/*
 * The number of partitions of @topic (> 0) and its max_message_size
 * (the library's default when the node does not know it).
 * @return GQCTL_OK, or the code of client_fail() (an unknown topic is
 *         GQCTL_FAILED with a message that says so).
 */
int client_topic(struct gq_node *node, const char *what, const char *topic,
		 int32_t *partitions, size_t *max_message_size);

/* The exit code for a GQ_E* error of a produce, fetch or list call:
 * GQCTL_UNREACHABLE when no broker or leader answered in time, else
 * GQCTL_FAILED. */
int client_exit_code(int err);

/*
 * Report @err of the last call on @node (made by this thread) as
 * "gqctl: <what>: <error>: <detail>" and return client_exit_code(@err).
 * @node may be NULL for a failed gq_node_connect().
 */
int client_fail(struct gq_node *node, const char *what, int err);

/* Whether SIGINT or SIGTERM arrived since client_connect(). */
bool client_stopped(void);

/* Sleep @ms milliseconds, or less if a signal stops the command. */
void client_sleep_ms(uint64_t ms);

/* Monotonic milliseconds and nanoseconds. */
uint64_t client_now_ms(void);
uint64_t client_now_ns(void);

/*
 * Decode the escapes \t \n \r \\ in a separator given on the command line
 * (typing a tab in a shell is awkward).  @out is a new string owned by the
 * caller (free()); its length is in *len.
 * @return false when @in is empty or out of memory.
 */
bool client_unescape(const char *in, char **out, size_t *len);

/* Partition ids 0..@n-1 whose @has is set, as "0-2,5" into @buf (cut to
 * fit, ending with "..."); "-" when none. */
void client_id_ranges(const bool *has, int32_t n, char *buf, size_t size);

/* The commands (cmd_produce.c, cmd_consume.c): cmd_topic.c lists them in
 * the topic noun's table. */
int client_produce(struct gqctl *g, int argc, char **argv);
int client_consume(struct gqctl *g, int argc, char **argv);
extern const struct option client_produce_options[];
extern const struct option client_consume_options[];
extern const char client_produce_args[];
extern const char client_produce_help[];
extern const char client_produce_example[];
extern const char client_consume_args[];
extern const char client_consume_help[];
extern const char client_consume_example[];

#endif /* GQCTL_CLIENT_H */
