/* SPDX-License-Identifier: MIT */
/*
 * group.c - consumer-group committed offsets.  A commit is a Raft entry of
 * the internal offsets topic's partition that owns the group (by hash), so
 * it is as durable as a produce; a read looks the offset up in LMDB from
 * the caller's thread.
 */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "heap.h"
#include "names.h"
#include "node.h"
#include "partition.h"

static int
check_target(struct gq_node *node, const char *group, const char *topic,
	     int32_t partition, char *errmsg)
{
	struct gq__topic *t;
	int rv;

	if ((rv = gq__name_check(group, false, errmsg)) != 0 ||
	    (rv = gq__name_check(topic, true, errmsg)) != 0)
		return rv;
	pthread_rwlock_rdlock(&node->meta_lock);
	t = gq__node_topic_find(node, topic);
	if (t == NULL) {
		gq__errmsg_set(errmsg, "unknown topic '%s'", topic);
		rv = GQ_ENOTOPIC;
	} else if (partition < 0 || partition >= t->n_parts) {
		gq__errmsg_set(errmsg, "topic '%s' has no partition %d", topic,
			       partition);
		rv = GQ_ENOPARTITION;
	}
	pthread_rwlock_unlock(&node->meta_lock);
	return rv;
}

int
gq_group_commit(struct gq_node *node, const char *group, const char *topic,
		int32_t partition, gq_offset offset, const char *metadata)
{
	struct gq__req req;
	int rv;

	if (node == NULL || offset < 0)
		return GQ_EINVAL;
	memset(&req, 0, sizeof(req));
	if ((rv = check_target(node, group, topic, partition, req.errmsg))) {
		gq__node_set_errmsg(node, req.errmsg);
		return rv;
	}
	if (metadata != NULL && strlen(metadata) > 4096) {
		gq__node_set_errmsg(node, "metadata longer than 4096 bytes");
		return GQ_EINVAL;
	}
	req.type = GQ__REQ_GROUP_COMMIT;
	snprintf(req.topic, sizeof(req.topic), "%s", topic);
	snprintf(req.u.commit.group, sizeof(req.u.commit.group), "%s", group);
	req.partition = partition;
	req.u.commit.offset = offset;
	if (metadata != NULL &&
	    (req.u.commit.metadata = gq__strdup(metadata)) == NULL)
		return GQ_ENOMEM;
	rv = gq__node_call(node, &req);
	gq__free(req.u.commit.metadata);
	return rv;
}

int
gq_group_fetch_offset(struct gq_node *node, const char *group,
		      const char *topic, int32_t partition, gq_offset *offset)
{
	char errmsg[GQ_ERRMSG_SIZE];
	uint8_t key[2 * GQ_NAME_MAX + 8];
	MDB_txn *txn;
	MDB_val k, v;
	int rv;

	if (node == NULL || offset == NULL)
		return GQ_EINVAL;
	if ((rv = check_target(node, group, topic, partition, errmsg))) {
		gq__node_set_errmsg(node, errmsg);
		return rv;
	}
	k.mv_size = gq__group_key(group, topic, partition, key, sizeof(key));
	k.mv_data = key;
	if ((rv = gq__store_begin(node->store, false, &txn)) != 0)
		return rv;
	rv = mdb_get(txn, node->store->groups, &k, &v);
	if (rv == MDB_NOTFOUND) {
		*offset = -1;
		rv = 0;
	} else if (rv == 0 && v.mv_size >= 8) {
		*offset = (gq_offset)gq__le64_get(v.mv_data);
	} else {
		rv = rv == 0 ? GQ_ECORRUPT : gq__err_from_mdb(rv);
	}
	gq__store_abort(txn);
	return rv;
}
