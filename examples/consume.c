/* SPDX-License-Identifier: MIT */
/*
 * consume.c - read every message of the topic "demo" from an embedded
 * node, resuming from the consumer group's committed offsets.
 *
 *   consume [DATA_DIR [GROUP]]
 *
 * For each partition: start at the committed offset of GROUP (default
 * "demo-reader"), or at the beginning, print each message, and commit the
 * next offset so a second run prints only what is new.
 */
#include <goqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
consume_partition(struct gq_node *node, const char *group, int32_t part,
		  long *total)
{
	gq_offset next;
	int rv;

	if ((rv = gq_group_fetch_offset(node, group, "demo", part, &next)))
		return rv;
	if (next < 0)
		next = GQ_OFFSET_EARLIEST;
	for (;;) {
		struct gq_fetch *fetch;
		struct gq_record rec;
		long got = 0;

		if ((rv = gq_fetch(node, "demo", part, next, 1 << 20, &fetch)))
			return rv;
		while ((rv = gq_fetch_next(fetch, &rec)) == 1) {
			printf("demo/%d offset %-5lld key=%-7.*s %.*s\n", part,
			       (long long)rec.offset, (int)rec.key_len,
			       (const char *)rec.key, (int)rec.value_len,
			       (const char *)rec.value);
			next = rec.offset + 1;
			got++;
		}
		gq_fetch_destroy(fetch);
		if (rv < 0)
			return rv;
		if (got == 0)
			break;
		*total += got;
	}
	if (next >= 0)
		return gq_group_commit(node, group, "demo", part, next, NULL);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "./goqueue-data";
	const char *group = argc > 2 ? argv[2] : "demo-reader";
	struct gq_topic_info *info;
	struct gq_node *node;
	long total = 0;
	int rv;

	if ((rv = gq_node_open(dir, NULL, &node)) != 0) {
		fprintf(stderr, "cannot open node in %s: %s (%s)\n", dir,
			gq_strerror(rv), gq_node_errmsg(NULL));
		return 1;
	}
	if ((rv = gq_topic_describe(node, "demo", &info)) != 0) {
		fprintf(stderr, "no topic 'demo' yet: run produce first\n");
		gq_node_close(node);
		return 1;
	}
	for (int32_t p = 0; p < gq_topic_info_partitions(info); p++) {
		if ((rv = consume_partition(node, group, p, &total)) != 0) {
			fprintf(stderr, "partition %d: %s (%s)\n", p,
				gq_strerror(rv), gq_node_errmsg(node));
			break;
		}
	}
	gq_topic_info_destroy(info);
	printf("%ld new messages for group %s\n", total, group);
	gq_node_close(node);
	return rv == 0 ? 0 : 1;
}
