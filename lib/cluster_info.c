/* SPDX-License-Identifier: MIT */
/*
 * cluster_info.c - the public cluster API: the view of the cluster
 * (brokers, the controller leader, partition leaders) and partition
 * moves.  Application threads read the node's tables under meta_lock;
 * the loop thread keeps them current (cluster.c, partition.c).  Moves are
 * controller requests (cluster.c) carried out by the partitions'
 * leaders (membership.h).
 */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "heap.h"
#include "names.h"
#include "node.h"
#include "remote.h"

int
gq_cluster_brokers(struct gq_node *node, struct gq_broker_info **out,
		   size_t *count)
{
	struct gq_broker_info *info;

	if (node == NULL || out == NULL || count == NULL)
		return GQ_EINVAL;
	if (node->remote != NULL) {
		int rv = gq__remote_refresh(node);

		if (rv != 0)
			return rv;
	}
	pthread_rwlock_rdlock(&node->meta_lock);
	info = gq__calloc(node->n_brokers + 1, sizeof(*info));
	if (info == NULL) {
		pthread_rwlock_unlock(&node->meta_lock);
		return GQ_ENOMEM;
	}
	for (size_t i = 0; i < node->n_brokers; i++) {
		const struct gq__broker *b = &node->brokers[i];

		info[i].id = (int32_t)b->id;
		info[i].alive = b->alive;
		info[i].removing = b->removing;
		snprintf(info[i].raft_address, sizeof(info[i].raft_address),
			 "%s", b->raft_address);
		snprintf(info[i].client_address, sizeof(info[i].client_address),
			 "%s", b->client_address);
		snprintf(info[i].rack, sizeof(info[i].rack), "%s", b->rack);
	}
	*count = node->n_brokers;
	pthread_rwlock_unlock(&node->meta_lock);
	*out = info;
	return 0;
}

void
gq_cluster_brokers_free(struct gq_broker_info *brokers)
{
	gq__free(brokers);
}

int32_t
gq_cluster_controller(struct gq_node *node)
{
	return node != NULL ? atomic_load(&node->controller_id) : -1;
}

int32_t
gq_node_id(struct gq_node *node)
{
	return node != NULL ? (int32_t)node->conf.node_id : -1;
}

int
gq_partition_leader(struct gq_node *node, const char *topic, int32_t partition,
		    int32_t *leader, int32_t *epoch)
{
	struct gq__topic *t;
	int rv = 0;

	if (node == NULL || topic == NULL || leader == NULL)
		return GQ_EINVAL;
	pthread_rwlock_rdlock(&node->meta_lock);
	if ((t = gq__node_topic_find(node, topic)) == NULL) {
		rv = GQ_ENOTOPIC;
	} else if (partition < 0 || partition >= t->n_parts) {
		rv = GQ_ENOPARTITION;
	} else {
		*leader = atomic_load(&t->routes[partition].leader);
		if (epoch != NULL)
			*epoch = atomic_load(&t->routes[partition].epoch);
	}
	pthread_rwlock_unlock(&node->meta_lock);
	return rv;
}

/* Post a PARTITION_REASSIGN request and wait for it. */
static int
reassign(struct gq_node *node, const char *topic, int32_t partition,
	 int32_t leader, const int32_t *replicas, size_t count)
{
	struct gq__req req;
	int rv;

	if (node == NULL)
		return GQ_EINVAL;
	memset(&req, 0, sizeof(req));
	if ((rv = gq__name_check(topic, false, req.errmsg)) != 0) {
		gq__node_set_errmsg(node, req.errmsg);
		return rv;
	}
	if (count > GQ__REPLICAS_MAX || (replicas == NULL && count != 0)) {
		gq__node_set_errmsg(node, "between 1 and 8 replicas");
		return GQ_EINVAL;
	}
	req.type = GQ__REQ_REASSIGN;
	snprintf(req.topic, sizeof(req.topic), "%s", topic);
	req.partition = partition;
	req.u.reassign.leader = leader;
	req.u.reassign.n = (uint8_t)count;
	if (count > 0)
		memcpy(req.u.reassign.replicas, replicas,
		       count * sizeof(*replicas));
	return gq__node_call(node, &req);
}

int
gq_partition_reassign(struct gq_node *node, const char *topic,
		      int32_t partition, const int32_t *replicas, size_t count)
{
	if (count == 0) {
		if (node != NULL)
			gq__node_set_errmsg(node, "no replicas given");
		return GQ_EINVAL;
	}
	return reassign(node, topic, partition, 0, replicas, count);
}

int
gq_partition_move_leader(struct gq_node *node, const char *topic,
			 int32_t partition, int32_t broker)
{
	if (broker <= 0) {
		if (node != NULL)
			gq__node_set_errmsg(node, "not a node id");
		return GQ_EINVAL;
	}
	return reassign(node, topic, partition, broker, NULL, 0);
}

int
gq_cluster_remove_broker(struct gq_node *node, int32_t broker)
{
	struct gq__req req;

	if (node == NULL)
		return GQ_EINVAL;
	if (broker <= 0) {
		gq__node_set_errmsg(node, "not a node id");
		return GQ_EINVAL;
	}
	memset(&req, 0, sizeof(req));
	req.type = GQ__REQ_BROKER_REMOVE;
	req.u.broker = broker;
	return gq__node_call(node, &req);
}
