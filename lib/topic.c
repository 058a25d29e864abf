/* SPDX-License-Identifier: MIT */
/*
 * topic.c - the public topic API: create and delete go through the
 * controller on the loop thread; list and describe read the topic table
 * under the read lock, from the caller's thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "heap.h"
#include "names.h"
#include "node.h"
#include "partition.h"
#include "plog.h"

struct gq_topic_info {
	int32_t partitions;
	int16_t replication_factor;
	struct gq_config *config;
	struct gq_partition_info *parts;
};

int
gq__name_check(const char *name, bool internal, char *errmsg)
{
	size_t len;

	if (name == NULL || (len = strlen(name)) == 0 || len > GQ_NAME_MAX) {
		if (errmsg != NULL)
			gq__errmsg_set(errmsg,
				       "name must be 1 to %d bytes long",
				       GQ_NAME_MAX);
		return GQ_EBADNAME;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		goto bad;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			goto bad;
	}
	if (!internal && strncmp(name, "__", 2) == 0) {
		if (errmsg != NULL)
			gq__errmsg_set(errmsg,
				       "names starting with '__' are reserved "
				       "for internal topics: '%s'",
				       name);
		return GQ_EBADNAME;
	}
	return 0;
bad:
	if (errmsg != NULL)
		gq__errmsg_set(errmsg,
			       "invalid name '%.64s': use letters, digits, "
			       "'.', '_' and '-'",
			       name);
	return GQ_EBADNAME;
}

int
gq_topic_create(struct gq_node *node, const char *name, int32_t partitions,
		int16_t replication_factor, const struct gq_config *config)
{
	struct gq__req req;
	int rv;

	if (node == NULL)
		return GQ_EINVAL;
	memset(&req, 0, sizeof(req));
	if ((rv = gq__name_check(name, false, req.errmsg)) != 0)
		goto err;
	if (partitions < 1 || partitions > node->conf.max_topic_partitions) {
		gq__errmsg_set(req.errmsg,
			       "partitions must be 1 to %d (max_topic_"
			       "partitions), not %d",
			       node->conf.max_topic_partitions, partitions);
		rv = GQ_EINVAL;
		goto err;
	}
	if (replication_factor != 1) {
		/* A single node holds one replica; clusters come with #4. */
		gq__errmsg_set(req.errmsg,
			       "replication factor %d exceeds the 1 node of "
			       "this cluster",
			       replication_factor);
		rv = GQ_EINVAL;
		goto err;
	}
	rv = gq__topic_conf_from(config, &node->conf.topic_defaults,
				 &req.u.create.conf, req.errmsg);
	if (rv != 0)
		goto err;
	req.type = GQ__REQ_TOPIC_CREATE;
	snprintf(req.topic, sizeof(req.topic), "%s", name);
	req.u.create.partitions = partitions;
	req.u.create.replication_factor = replication_factor;
	return gq__node_call(node, &req);
err:
	gq__node_set_errmsg(node, req.errmsg);
	return rv;
}

int
gq_topic_delete(struct gq_node *node, const char *name)
{
	struct gq__req req;
	int rv;

	if (node == NULL)
		return GQ_EINVAL;
	memset(&req, 0, sizeof(req));
	if ((rv = gq__name_check(name, false, req.errmsg)) != 0) {
		gq__node_set_errmsg(node, req.errmsg);
		return rv;
	}
	req.type = GQ__REQ_TOPIC_DELETE;
	snprintf(req.topic, sizeof(req.topic), "%s", name);
	return gq__node_call(node, &req);
}

void
gq_topic_list_free(char **names, size_t count)
{
	if (names == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		gq__free(names[i]);
	gq__free(names);
}

int
gq_topic_list(struct gq_node *node, char ***names, size_t *count)
{
	char **out;
	size_t n;

	if (node == NULL || names == NULL || count == NULL)
		return GQ_EINVAL;
	pthread_rwlock_rdlock(&node->meta_lock);
	n = node->n_topics;
	if ((out = gq__calloc(n + 1, sizeof(*out))) == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		if ((out[i] = gq__strdup(node->topics[i]->name)) == NULL) {
			gq_topic_list_free(out, i);
			goto nomem;
		}
	}
	pthread_rwlock_unlock(&node->meta_lock);
	*names = out;
	*count = n;
	return 0;
nomem:
	pthread_rwlock_unlock(&node->meta_lock);
	return GQ_ENOMEM;
}

void
gq_topic_info_destroy(struct gq_topic_info *info)
{
	if (info == NULL)
		return;
	gq_config_destroy(info->config);
	gq__free(info->parts);
	gq__free(info);
}

int
gq_topic_describe(struct gq_node *node, const char *name,
		  struct gq_topic_info **out)
{
	struct gq_topic_info *info;
	struct gq__topic *t;
	char errmsg[GQ_ERRMSG_SIZE];
	int rv;

	if (node == NULL || out == NULL)
		return GQ_EINVAL;
	if ((rv = gq__name_check(name, true, errmsg)) != 0) {
		gq__node_set_errmsg(node, errmsg);
		return rv;
	}
	if ((info = gq__calloc(1, sizeof(*info))) == NULL)
		return GQ_ENOMEM;
	pthread_rwlock_rdlock(&node->meta_lock);
	if ((t = gq__node_topic_find(node, name)) == NULL) {
		rv = GQ_ENOTOPIC;
		gq__node_set_errmsg(node, "unknown topic");
		goto err;
	}
	info->partitions = t->n_parts;
	info->replication_factor = t->replication_factor;
	if ((rv = gq__config_from_topic_conf(&t->conf, &info->config)) != 0)
		goto err;
	info->parts = gq__calloc((size_t)t->n_parts, sizeof(*info->parts));
	if (info->parts == NULL) {
		rv = GQ_ENOMEM;
		goto err;
	}
	for (int32_t i = 0; i < t->n_parts; i++) {
		struct gq_partition_info *pi = &info->parts[i];
		struct gq__plog_stats s;

		pi->partition = i;
		pi->leader = -1;
		if (t->parts[i] == NULL)
			continue;
		pi->leader = gq__partition_leader(t->parts[i]);
		gq__plog_stats(gq__partition_plog(t->parts[i]), &s);
		pi->log_start = s.log_start;
		pi->high_watermark = s.next_offset;
		pi->size_bytes = s.size_bytes;
		pi->segments = s.segments;
	}
	pthread_rwlock_unlock(&node->meta_lock);
	*out = info;
	return 0;
err:
	pthread_rwlock_unlock(&node->meta_lock);
	gq_topic_info_destroy(info);
	return rv;
}

int32_t
gq_topic_info_partitions(const struct gq_topic_info *info)
{
	return info->partitions;
}

int16_t
gq_topic_info_replication_factor(const struct gq_topic_info *info)
{
	return info->replication_factor;
}

const struct gq_config *
gq_topic_info_config(const struct gq_topic_info *info)
{
	return info->config;
}

int
gq_topic_info_partition(const struct gq_topic_info *info, int32_t partition,
			struct gq_partition_info *out)
{
	if (info == NULL || out == NULL || partition < 0 ||
	    partition >= info->partitions)
		return GQ_ENOPARTITION;
	*out = info->parts[partition];
	return 0;
}
