/* SPDX-License-Identifier: MIT */
/*
 * topic.c - topics on a node: the table (sorted by name, changed by the
 * loop thread under the write lock), each topic's lifecycle (partitions
 * opened when the controller commits a create, closed and removed on a
 * delete, waiting requests completed when that is done, its
 * configuration replaced when the controller alters it), and the public
 * topic API.  Create, delete and alter go through the controller on the
 * loop thread; list and describe read the table under the read lock, from
 * the caller's thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fsutil.h"
#include "heap.h"
#include "names.h"
#include "node.h"
#include "partition.h"
#include "plog.h"
#include "remote.h"

struct gq_topic_info {
	int32_t partitions;
	int16_t replication_factor;
	struct gq_config *config;
	struct gq_partition_info *parts;
};

/* ---- the node's topic table ------------------------------------------ */

static size_t
topic_pos(struct gq_node *node, const char *name, bool *found)
{
	size_t lo = 0;
	size_t hi = node->n_topics;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(node->topics[mid]->name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct gq__topic *
gq__node_topic_find(struct gq_node *node, const char *name)
{
	bool found;
	size_t pos = topic_pos(node, name, &found);

	return found ? node->topics[pos] : NULL;
}

int
gq__node_topic_add(struct gq_node *node, struct gq__topic *t)
{
	bool found;
	size_t pos;

	pthread_rwlock_wrlock(&node->meta_lock);
	pos = topic_pos(node, t->name, &found);
	if (found) {
		pthread_rwlock_unlock(&node->meta_lock);
		return GQ_EEXIST;
	}
	if (node->n_topics == node->cap_topics) {
		size_t cap = node->cap_topics ? node->cap_topics * 2 : 16;
		struct gq__topic **nt;

		nt = gq__realloc(node->topics, cap * sizeof(*nt));
		if (nt == NULL) {
			pthread_rwlock_unlock(&node->meta_lock);
			return GQ_ENOMEM;
		}
		node->topics = nt;
		node->cap_topics = cap;
	}
	memmove(&node->topics[pos + 1], &node->topics[pos],
		(node->n_topics - pos) * sizeof(*node->topics));
	node->topics[pos] = t;
	node->n_topics++;
	pthread_rwlock_unlock(&node->meta_lock);
	return 0;
}

void
gq__node_topic_remove(struct gq_node *node, struct gq__topic *t)
{
	bool found;
	size_t pos;

	pthread_rwlock_wrlock(&node->meta_lock);
	pos = topic_pos(node, t->name, &found);
	if (found && node->topics[pos] == t) {
		memmove(&node->topics[pos], &node->topics[pos + 1],
			(node->n_topics - pos - 1) * sizeof(*node->topics));
		node->n_topics--;
	}
	pthread_rwlock_unlock(&node->meta_lock);
}

int
gq__node_topic_dir(struct gq_node *node, const struct gq__topic *t, char *out,
		   size_t size)
{
	int n = snprintf(out, size, "%s/data/%s.%u", node->dir, t->name, t->id);

	return n < 0 || (size_t)n >= size ? GQ_EINVAL : 0;
}

struct gq__topic *
gq__topic_alloc(int32_t n_parts)
{
	struct gq__topic *t;

	if (n_parts <= 0 || n_parts > 1000000 ||
	    (t = gq__calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->n_parts = n_parts;
	t->parts = gq__calloc((size_t)n_parts, sizeof(*t->parts));
	t->routes = gq__calloc((size_t)n_parts, sizeof(*t->routes));
	if (t->parts == NULL || t->routes == NULL) {
		gq__topic_free(t);
		return NULL;
	}
	for (int32_t i = 0; i < n_parts; i++) {
		atomic_init(&t->routes[i].leader, -1);
		atomic_init(&t->routes[i].epoch, -1);
	}
	return t;
}

void
gq__topic_free(struct gq__topic *t)
{
	if (t == NULL)
		return;
	gq__free(t->parts);
	gq__free(t->routes);
	gq__free(t);
}

bool
gq__route_has(const struct gq__route *r, uint64_t node_id)
{
	for (uint8_t i = 0; i < r->n_replicas; i++)
		if (r->replicas[i] == (int32_t)node_id)
			return true;
	return false;
}

bool
gq__replicas_distinct(const int32_t *ids, uint8_t n)
{
	for (uint8_t i = 0; i < n; i++)
		for (uint8_t j = 0; j < i; j++)
			if (ids[i] == ids[j])
				return false;
	return true;
}

struct gq__partition *
gq__node_partition_find(struct gq_node *node, uint64_t uid)
{
	uint32_t topic_id = (uint32_t)(uid >> 20);
	int32_t index = (int32_t)(uid & 0xfffff);

	for (size_t i = 0; i < node->n_topics; i++) {
		struct gq__topic *t = node->topics[i];

		if (t->id == topic_id && !t->deleting && index < t->n_parts)
			return t->parts[index];
	}
	return NULL;
}

/* ---- the node's brokers ------------------------------------------------ */

struct gq__broker *
gq__node_broker_find(struct gq_node *node, uint64_t id)
{
	size_t lo = 0, hi = node->n_brokers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (node->brokers[mid].id == id)
			return &node->brokers[mid];
		if (node->brokers[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int
gq__node_broker_put(struct gq_node *node, const struct gq__broker *b)
{
	struct gq__broker *old = gq__node_broker_find(node, b->id);
	size_t pos = 0;

	pthread_rwlock_wrlock(&node->meta_lock);
	if (old != NULL) {
		bool alive = old->alive;

		*old = *b;
		old->alive = alive;
		pthread_rwlock_unlock(&node->meta_lock);
		return 0;
	}
	if (node->n_brokers == node->cap_brokers) {
		size_t cap = node->cap_brokers ? node->cap_brokers * 2 : 8;
		struct gq__broker *nb;

		nb = gq__realloc(node->brokers, cap * sizeof(*nb));
		if (nb == NULL) {
			pthread_rwlock_unlock(&node->meta_lock);
			return GQ_ENOMEM;
		}
		node->brokers = nb;
		node->cap_brokers = cap;
	}
	while (pos < node->n_brokers && node->brokers[pos].id < b->id)
		pos++;
	memmove(&node->brokers[pos + 1], &node->brokers[pos],
		(node->n_brokers - pos) * sizeof(*node->brokers));
	node->brokers[pos] = *b;
	/* Alive until the controller says otherwise: a new broker just
	 * heartbeated. */
	node->brokers[pos].alive = true;
	node->n_brokers++;
	pthread_rwlock_unlock(&node->meta_lock);
	return 0;
}

static void
complete_waiters(struct gq__topic *t, int status)
{
	struct gq__req *req = t->waiters;

	t->waiters = NULL;
	gq__req_complete_list(req, status);
}

/* Whether partition @index of @t has data here. */
static bool
partition_on_disk(struct gq_node *node, const struct gq__topic *t,
		  int32_t index)
{
	char dir[4200], path[4300];
	struct stat st;

	return gq__node_topic_dir(node, t, dir, sizeof(dir)) == 0 &&
	       gq__pathf(path, sizeof(path), "%s/%d/raft", dir, index) == 0 &&
	       stat(path, &st) == 0;
}

void
gq__topic_open_partition(struct gq_node *node, struct gq__topic *t,
			 int32_t index)
{
	char errmsg[GQ_ERRMSG_SIZE] = "";
	int rv;

	/* At start, a replica moved away while this node was down is still
	 * on disk, not assigned: it opens to hear that it left.  Later an
	 * unassigned replica is either open already or gone. */
	if (t->parts[index] != NULL ||
	    (!gq__route_has(&t->routes[index], node->conf.node_id) &&
	     (node->state != GQ__NODE_STARTING ||
	      !partition_on_disk(node, t, index))))
		return;
	rv = gq__partition_open(node, t, index, &t->parts[index], errmsg);
	if (rv == 0)
		return;
	gq__log(node, GQ_LOG_ERROR, "cannot open partition %s/%d: %s", t->name,
		index, errmsg[0] ? errmsg : gq_strerror(rv));
	if (t->status == 0)
		t->status = rv;
	if (node->state == GQ__NODE_STARTING && node->open_status == 0) {
		node->open_status = rv;
		snprintf(node->open_errmsg, sizeof(node->open_errmsg), "%s",
			 errmsg[0] ? errmsg : gq_strerror(rv));
	}
}

void
gq__topic_open_partitions(struct gq_node *node, struct gq__topic *t)
{
	for (int32_t i = 0; i < t->n_parts; i++)
		gq__topic_open_partition(node, t, i);
}

void
gq__node_topic_created(struct gq_node *node, struct gq__topic *t)
{
	if (gq__node_topic_add(node, t) != 0) {
		/* Only possible on ENOMEM: the topic is committed and will be
		 * loaded at the next start. */
		gq__log(node, GQ_LOG_ERROR, "cannot add topic %s", t->name);
		gq__topic_free(t);
		return;
	}
	gq__topic_open_partitions(node, t);
}

void
gq__node_partition_reassigned(struct gq_node *node, struct gq__topic *t,
			      int32_t index, const int32_t *ids, uint8_t n)
{
	struct gq__route *r = &t->routes[index];
	char list[GQ__REPLICAS_MAX * 12] = "";
	size_t at = 0;

	pthread_rwlock_wrlock(&node->meta_lock);
	r->n_replicas = n;
	memcpy(r->replicas, ids, n * sizeof(*ids));
	pthread_rwlock_unlock(&node->meta_lock);
	for (uint8_t i = 0; i < n && at < sizeof(list); i++)
		at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%d",
				       i ? "," : "", ids[i]);
	gq__log(node, GQ_LOG_INFO, "partition %s/%d: replicas are now %s",
		t->name, index, list);
	if (t->parts[index] != NULL)
		gq__partition_reassigned(t->parts[index]);
	else
		gq__topic_open_partition(node, t, index);
}

void
gq__node_topic_altered(struct gq_node *node, struct gq__topic *t,
		       const struct gq__topic_conf *conf)
{
	struct gq__topic_conf next = *conf;
	struct gq__plog_conf pc;

	/* Each partition sized its dedup window when it opened, and apply
	 * never changes these two (controller.h, TOPIC_ALTER): keep them
	 * whatever comes, so a window can never be read past its end. */
	next.dedup_enabled = t->conf.dedup_enabled;
	next.dedup_window = t->conf.dedup_window;
	pthread_rwlock_wrlock(&node->meta_lock);
	t->conf = next;
	pthread_rwlock_unlock(&node->meta_lock);
	/* Size and time limits and the segment size are the plog's; the
	 * codec and max_message_size are read by each produce call. */
	pc.segment_size = next.segment_size;
	pc.retention_ms = next.retention_ms;
	pc.retention_bytes = next.retention_bytes;
	for (int32_t i = 0; i < t->n_parts; i++)
		if (t->parts[i] != NULL)
			gq__plog_set_conf(gq__partition_plog(t->parts[i]), &pc);
	gq__log(node, GQ_LOG_INFO, "topic %s: configuration changed", t->name);
}

/* The last local partition of a deleted topic closed: drop its
 * directory and finish. */
static void
topic_removed(struct gq_node *node, struct gq__topic *t)
{
	struct gq__topic **pp;
	char dir[4200];

	for (pp = &node->deleting; *pp != NULL; pp = &(*pp)->next_deleting) {
		if (*pp == t) {
			*pp = t->next_deleting;
			break;
		}
	}
	if (gq__node_topic_dir(node, t, dir, sizeof(dir)) == 0)
		gq__rm_rf(dir);
	complete_waiters(t, 0);
	gq__topic_free(t);
}

void
gq__node_topic_deleted(struct gq_node *node, struct gq__topic *t)
{
	int32_t open = 0;

	t->deleting = true;
	gq__node_topic_remove(node, t);
	t->next_deleting = node->deleting;
	node->deleting = t;
	/* Create waiters cannot be satisfied any more. */
	complete_waiters(t, GQ_ENOTOPIC);
	for (int32_t i = 0; i < t->n_parts; i++)
		open += t->parts[i] != NULL;
	t->n_closed = t->n_parts - open;
	if (open == 0) {
		topic_removed(node, t);
		return;
	}
	for (int32_t i = 0; i < t->n_parts; i++)
		if (t->parts[i] != NULL)
			gq__partition_close(t->parts[i], true);
}

struct gq__topic *
gq__node_deleting_find(struct gq_node *node, const char *name)
{
	for (struct gq__topic *t = node->deleting; t != NULL;
	     t = t->next_deleting)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

void
gq__node_partition_removed(struct gq_node *node, struct gq__topic *t)
{
	if (++t->n_closed == t->n_parts)
		topic_removed(node, t);
}

/* Every partition of @t has a leader somewhere. */
static bool
topic_led(const struct gq__topic *t)
{
	for (int32_t i = 0; i < t->n_parts; i++)
		if (atomic_load(&t->routes[i].leader) < 0)
			return false;
	return true;
}

#define CREATE_WAIT_MS 30000

void
gq__node_topic_wait(struct gq_node *node, struct gq__topic *t,
		    struct gq__req *req)
{
	if (t == NULL) {
		gq__req_complete(req, 0);
		return;
	}
	if (req->type == GQ__REQ_TOPIC_CREATE) {
		if (t->status != 0) {
			gq__req_complete(req, t->status);
			return;
		}
		if (topic_led(t)) {
			gq__req_complete(req, 0);
			return;
		}
		t->wait_until = uv_now(node->loop) + CREATE_WAIT_MS;
	}
	req->next = t->waiters;
	t->waiters = req;
}

void
gq__topic_check_waiters(struct gq_node *node, struct gq__topic *t)
{
	if (t->waiters == NULL || t->deleting)
		return;
	if (t->status != 0) {
		complete_waiters(t, t->status);
	} else if (topic_led(t)) {
		complete_waiters(t, 0);
	} else if (uv_now(node->loop) >= t->wait_until) {
		for (struct gq__req *r = t->waiters; r != NULL; r = r->next)
			snprintf(r->errmsg, sizeof(r->errmsg),
				 "topic '%.150s' created, but not every "
				 "partition elected a leader within %d s",
				 t->name, CREATE_WAIT_MS / 1000);
		complete_waiters(t, GQ_ETIMEDOUT);
	}
}

void
gq__node_partition_failed(struct gq_node *node, struct gq__topic *t, int status)
{
	if (t->status == 0)
		t->status = status;
	if (node->state == GQ__NODE_STARTING && node->open_status == 0) {
		node->open_status = status;
		snprintf(node->open_errmsg, sizeof(node->open_errmsg),
			 "partition of topic %.200s failed to start", t->name);
	}
	if (!t->deleting)
		complete_waiters(t, status);
}

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
gq__group_name_check(const char *group, char *errmsg)
{
	size_t len;

	if (group == NULL || (len = strlen(group)) == 0 || len > GQ_NAME_MAX) {
		if (errmsg != NULL)
			gq__errmsg_set(errmsg,
				       "group id must be 1 to %d bytes long",
				       GQ_NAME_MAX);
		return GQ_EBADNAME;
	}
	for (size_t i = 0; i < len; i++) {
		if ((uint8_t)group[i] < 0x20 || group[i] == 0x7f) {
			if (errmsg != NULL)
				gq__errmsg_set(errmsg,
					       "group id with a control "
					       "character");
			return GQ_EBADNAME;
		}
	}
	return 0;
}

/* Validate a create on the caller's thread and fill @req. */
static int
create_prepare(struct gq_node *node, struct gq__req *req, const char *name,
	       int32_t partitions, int16_t replication_factor,
	       const struct gq_config *config)
{
	int rv;

	if ((rv = gq__name_check(name, false, req->errmsg)) != 0)
		return rv;
	if (partitions < 1 || partitions > node->conf.max_topic_partitions) {
		gq__errmsg_set(req->errmsg,
			       "partitions must be 1 to %d (max_topic_"
			       "partitions), not %d",
			       node->conf.max_topic_partitions, partitions);
		return GQ_EINVAL;
	}
	if (replication_factor < 1 || replication_factor > GQ__REPLICAS_MAX) {
		/* The controller leader checks it against the live brokers. */
		gq__errmsg_set(req->errmsg,
			       "replication factor must be 1 to %d, not %d",
			       GQ__REPLICAS_MAX, replication_factor);
		return GQ_EINVAL;
	}
	req->u.create.conf = node->conf.topic_defaults;
	/* The keys set are what a remote node sends (remote_admin.c). */
	if (config != NULL &&
	    (rv = gq__topic_conf_changes(
		     config, &node->conf.topic_defaults, &req->u.create.conf,
		     &req->u.create.mask, req->errmsg)) != 0)
		return rv;
	req->type = GQ__REQ_TOPIC_CREATE;
	snprintf(req->topic, sizeof(req->topic), "%s", name);
	req->u.create.partitions = partitions;
	req->u.create.replication_factor = replication_factor;
	return 0;
}

/* Validate an alter on the caller's thread and fill @req: the values as
 * at create, and at least one key.  Whether the topic exists, and the
 * deduplication keys against its configuration, are checked by the
 * controller leader. */
static int
alter_prepare(struct gq_node *node, struct gq__req *req, const char *name,
	      const struct gq_config *changes)
{
	int rv;

	if ((rv = gq__name_check(name, false, req->errmsg)) != 0)
		return rv;
	/* The keys not set take the node's defaults only to make the
	 * payload a whole, valid configuration: apply ignores them. */
	if (changes != NULL &&
	    (rv = gq__topic_conf_changes(changes, &node->conf.topic_defaults,
					 &req->u.alter.conf, &req->u.alter.mask,
					 req->errmsg)) != 0)
		return rv;
	if (changes == NULL || req->u.alter.mask == 0) {
		gq__errmsg_set(req->errmsg, "no configuration key to change");
		return GQ_EINVAL;
	}
	req->type = GQ__REQ_TOPIC_ALTER;
	snprintf(req->topic, sizeof(req->topic), "%s", name);
	return 0;
}

static int
delete_prepare(struct gq__req *req, const char *name)
{
	int rv;

	if ((rv = gq__name_check(name, false, req->errmsg)) != 0)
		return rv;
	req->type = GQ__REQ_TOPIC_DELETE;
	snprintf(req->topic, sizeof(req->topic), "%s", name);
	return 0;
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
	rv = create_prepare(node, &req, name, partitions, replication_factor,
			    config);
	if (rv != 0) {
		gq__node_set_errmsg(node, req.errmsg);
		return rv;
	}
	return gq__node_call(node, &req);
}

int
gq_topic_delete(struct gq_node *node, const char *name)
{
	struct gq__req req;
	int rv;

	if (node == NULL)
		return GQ_EINVAL;
	memset(&req, 0, sizeof(req));
	if ((rv = delete_prepare(&req, name)) != 0) {
		gq__node_set_errmsg(node, req.errmsg);
		return rv;
	}
	return gq__node_call(node, &req);
}

int
gq_topic_alter(struct gq_node *node, const char *name,
	       const struct gq_config *changes)
{
	struct gq__req req;
	int rv;

	if (node == NULL)
		return GQ_EINVAL;
	memset(&req, 0, sizeof(req));
	if ((rv = alter_prepare(node, &req, name, changes)) != 0) {
		gq__node_set_errmsg(node, req.errmsg);
		return rv;
	}
	return gq__node_call(node, &req);
}

static void
async_done(struct gq__req *req)
{
	gq_done_cb cb = req->async_cb.done;

	cb(req->async_arg, req->status, req->status != 0 ? req->errmsg : "");
	gq__free(req);
}

/* Post @req (prepared with status @rv) with its callback, or fail. */
static int
post_async(struct gq_node *node, struct gq__req *req, int rv, gq_done_cb cb,
	   void *arg)
{
	if (rv == 0) {
		req->async_cb.done = cb;
		req->async_arg = arg;
		req->done = async_done;
		if ((rv = gq__node_post(node, req)) != 0)
			gq__errmsg_set(req->errmsg, "node is closing");
	}
	if (rv != 0) {
		gq__node_set_errmsg(node, req->errmsg);
		gq__free(req);
	}
	return rv;
}

int
gq_topic_create_async(struct gq_node *node, const char *name,
		      int32_t partitions, int16_t replication_factor,
		      const struct gq_config *config, gq_done_cb cb, void *arg)
{
	struct gq__req *req;

	if (node == NULL || cb == NULL)
		return GQ_EINVAL;
	if ((req = gq__calloc(1, sizeof(*req))) == NULL)
		return GQ_ENOMEM;
	return post_async(node, req,
			  create_prepare(node, req, name, partitions,
					 replication_factor, config),
			  cb, arg);
}

int
gq_topic_delete_async(struct gq_node *node, const char *name, gq_done_cb cb,
		      void *arg)
{
	struct gq__req *req;

	if (node == NULL || cb == NULL)
		return GQ_EINVAL;
	if ((req = gq__calloc(1, sizeof(*req))) == NULL)
		return GQ_ENOMEM;
	return post_async(node, req, delete_prepare(req, name), cb, arg);
}

int
gq_topic_alter_async(struct gq_node *node, const char *name,
		     const struct gq_config *changes, gq_done_cb cb, void *arg)
{
	struct gq__req *req;

	if (node == NULL || cb == NULL)
		return GQ_EINVAL;
	if ((req = gq__calloc(1, sizeof(*req))) == NULL)
		return GQ_ENOMEM;
	return post_async(node, req, alter_prepare(node, req, name, changes),
			  cb, arg);
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
	int rv;

	if (node == NULL || names == NULL || count == NULL)
		return GQ_EINVAL;
	if (node->remote != NULL && (rv = gq__remote_refresh(node)) != 0)
		return rv;
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
	if (node->remote != NULL && (rv = gq__remote_refresh(node)) != 0)
		return rv;
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
		pi->leader = atomic_load(&t->routes[i].leader);
		pi->leader_epoch = atomic_load(&t->routes[i].epoch);
		pi->replica_count = t->routes[i].n_replicas;
		for (uint8_t j = 0; j < t->routes[i].n_replicas; j++) {
			const struct gq__broker *b = gq__node_broker_find(
				node, (uint64_t)t->routes[i].replicas[j]);

			pi->replicas[j] = t->routes[i].replicas[j];
			if (b == NULL || b->alive)
				pi->live_mask |= 1u << j;
		}
		if (t->parts[i] == NULL) {
			pi->log_start = pi->high_watermark = -1;
			continue;
		}
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
