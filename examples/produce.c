/* SPDX-License-Identifier: MIT */
/*
 * produce.c - embed a goqueue node and produce messages durably.
 *
 *   produce [DATA_DIR [COUNT]]
 *
 * Opens (or creates) a node in DATA_DIR (default ./goqueue-data), creates
 * the topic "demo" with 3 partitions if it does not exist, produces COUNT
 * (default 10) keyed messages with gq_produce(), which returns once each
 * message is on disk, and prints where each one went.
 */
#include <goqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "./goqueue-data";
	long count = argc > 2 ? strtol(argv[2], NULL, 10) : 10;
	struct gq_node *node;
	int rv;

	if ((rv = gq_node_open(dir, NULL, &node)) != 0) {
		fprintf(stderr, "cannot open node in %s: %s (%s)\n", dir,
			gq_strerror(rv), gq_node_errmsg(NULL));
		return 1;
	}
	rv = gq_topic_create(node, "demo", 3, 1, NULL);
	if (rv != 0 && rv != GQ_EEXIST) {
		fprintf(stderr, "cannot create topic: %s\n",
			gq_node_errmsg(node));
		gq_node_close(node);
		return 1;
	}
	for (long i = 0; i < count; i++) {
		char key[32], value[64];
		struct gq_msg msg;
		int32_t partition;
		gq_offset offset;

		snprintf(key, sizeof(key), "user-%ld", i % 5);
		snprintf(value, sizeof(value), "order #%ld for %s", i, key);
		memset(&msg, 0, sizeof(msg));
		msg.key = key;
		msg.key_len = strlen(key);
		msg.value = value;
		msg.value_len = strlen(value);
		rv = gq_produce(node, "demo", GQ_PARTITION_ANY, &msg, 1,
				&partition, &offset);
		if (rv != 0) {
			fprintf(stderr, "produce failed: %s\n",
				gq_node_errmsg(node));
			gq_node_close(node);
			return 1;
		}
		printf("produced %-28s key=%-7s -> demo/%d offset %lld\n",
		       value, key, partition, (long long)offset);
	}
	gq_node_close(node);
	return 0;
}
