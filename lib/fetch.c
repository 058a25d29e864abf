/* SPDX-License-Identifier: MIT */
/*
 * fetch.c - the public read API.  Reads run on the caller's thread under
 * the node's read lock (the partition log supports readers concurrent
 * with the loop's appends), so fetching never waits for the loop.
 */
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "error.h"
#include "heap.h"
#include "names.h"
#include "node.h"
#include "partition.h"
#include "plog.h"

/* Decompressed size allowed for one stored batch. */
#define MAX_DECOMPRESSED (256u << 20)

struct gq_fetch {
	struct gq__buf raw;
	gq_offset from;
	gq_offset hw;
	gq_offset log_start;
	size_t pos; /* next batch in raw */
	bool in_batch;
	struct gq__record_iter it;
	struct gq__record cur;
};

/* Find the partition log of topic/partition; on 0 the read lock is held
 * and the caller must release it. */
static int
lookup(struct gq_node *node, const char *topic, int32_t partition,
       struct gq__plog **out)
{
	struct gq__topic *t;
	char errmsg[GQ_ERRMSG_SIZE];
	int rv;

	if ((rv = gq__name_check(topic, true, errmsg)) != 0) {
		gq__node_set_errmsg(node, errmsg);
		return rv;
	}
	pthread_rwlock_rdlock(&node->meta_lock);
	t = gq__node_topic_find(node, topic);
	if (t == NULL || t->deleting) {
		rv = GQ_ENOTOPIC;
		gq__errmsg_set(errmsg, "unknown topic '%s'", topic);
	} else if (partition < 0 || partition >= t->n_parts) {
		rv = GQ_ENOPARTITION;
		gq__errmsg_set(errmsg, "topic '%s' has no partition %d", topic,
			       partition);
	} else if (t->parts[partition] == NULL &&
		   !gq__route_has(&t->routes[partition], node->conf.node_id)) {
		rv = GQ_ENOTLEADER;
		gq__errmsg_set(errmsg,
			       "no replica of %s/%d on this node; its leader "
			       "is node %d",
			       topic, partition,
			       atomic_load(&t->routes[partition].leader));
	} else if (t->parts[partition] == NULL) {
		rv = GQ_ENOTREADY;
		gq__errmsg_set(errmsg, "partition %s/%d is not open", topic,
			       partition);
	} else {
		*out = gq__partition_plog(t->parts[partition]);
		return 0;
	}
	pthread_rwlock_unlock(&node->meta_lock);
	gq__node_set_errmsg(node, errmsg);
	return rv;
}

/* A node connected to remote brokers asks the partition's leader: a
 * ListOffsets (@list) or a Fetch, through its loop (remote.h). */
static int
remote_call(struct gq_node *node, const char *topic, int32_t partition,
	    bool list, int64_t when, gq_offset offset, size_t max_bytes,
	    struct gq__req *req)
{
	int rv;

	memset(req, 0, sizeof(*req));
	if ((rv = gq__name_check(topic, true, req->errmsg)) != 0) {
		gq__node_set_errmsg(node, req->errmsg);
		return rv;
	}
	req->type = GQ__REQ_RFETCH;
	snprintf(req->topic, sizeof(req->topic), "%s", topic);
	req->partition = partition;
	req->u.rfetch.list = list;
	req->u.rfetch.when = when;
	req->u.rfetch.offset = offset;
	req->u.rfetch.max_bytes = max_bytes < INT32_MAX ? max_bytes : INT32_MAX;
	return gq__node_call(node, req);
}

static int
remote_fetch(struct gq_node *node, const char *topic, int32_t partition,
	     gq_offset offset, size_t max_bytes, struct gq_fetch *f)
{
	struct gq__req req;
	int rv;

	if (offset < 0) {
		rv = remote_call(node, topic, partition, true, offset, 0, 0,
				 &req);
		if (rv != 0)
			return rv;
		offset = req.u.rfetch.offset;
	}
	rv = remote_call(node, topic, partition, false, 0, offset, max_bytes,
			 &req);
	if (rv != 0) {
		gq__buf_free(&req.u.rfetch.raw);
		return rv;
	}
	f->raw = req.u.rfetch.raw;
	f->from = offset;
	f->hw = req.u.rfetch.hw;
	f->log_start = req.u.rfetch.log_start;
	return 0;
}

int
gq_fetch(struct gq_node *node, const char *topic, int32_t partition,
	 gq_offset offset, size_t max_bytes, struct gq_fetch **out)
{
	char errmsg[GQ_ERRMSG_SIZE] = "";
	struct gq_fetch *f;
	struct gq__plog *pl;
	int64_t hw, ls;
	int rv;

	if (node == NULL || out == NULL || offset < GQ_OFFSET_EARLIEST)
		return GQ_EINVAL;
	if ((f = gq__calloc(1, sizeof(*f))) == NULL)
		return GQ_ENOMEM;
	if (node->remote != NULL) {
		if ((rv = remote_fetch(node, topic, partition, offset,
				       max_bytes, f)) != 0)
			goto err;
		*out = f;
		return 0;
	}
	if ((rv = lookup(node, topic, partition, &pl)) != 0)
		goto err;
	if (offset == GQ_OFFSET_EARLIEST)
		offset = gq__plog_log_start(pl);
	else if (offset == GQ_OFFSET_LATEST)
		offset = gq__plog_next_offset(pl);
	rv = gq__plog_read(pl, offset, max_bytes, &f->raw, &hw, &ls, errmsg);
	pthread_rwlock_unlock(&node->meta_lock);
	if (rv != 0) {
		if (rv == GQ_EOFFSET && errmsg[0] == '\0')
			gq__errmsg_set(errmsg,
				       "offset %lld is outside [%lld, %lld]",
				       (long long)offset, (long long)ls,
				       (long long)hw);
		gq__node_set_errmsg(node, errmsg[0] ? errmsg : gq_strerror(rv));
		goto err;
	}
	f->from = offset;
	f->hw = hw;
	f->log_start = ls;
	*out = f;
	return 0;
err:
	gq__buf_free(&f->raw);
	gq__free(f);
	return rv;
}

int
gq_fetch_next(struct gq_fetch *f, struct gq_record *rec)
{
	int rv;

	if (f == NULL || rec == NULL)
		return GQ_EINVAL;
	for (;;) {
		if (!f->in_batch) {
			struct gq__batch_header h;

			if (f->pos >= f->raw.len)
				return 0;
			rv = gq__batch_parse_header(f->raw.base + f->pos,
						    f->raw.len - f->pos, &h);
			if (rv != 0)
				return rv;
			if (h.attributes & GQ__BATCH_ATTR_CONTROL) {
				/* Transaction markers are not messages. */
				f->pos += gq__batch_total_size(&h);
				continue;
			}
			rv = gq__record_iter_init(&f->it, f->raw.base + f->pos,
						  gq__batch_total_size(&h),
						  MAX_DECOMPRESSED);
			if (rv != 0)
				return rv;
			f->pos += gq__batch_total_size(&h);
			f->in_batch = true;
		}
		rv = gq__record_iter_next(&f->it, &f->cur);
		if (rv < 0)
			return rv;
		if (rv == 0) {
			gq__record_iter_close(&f->it);
			f->in_batch = false;
			continue;
		}
		if (f->cur.offset < f->from)
			continue; /* the first batch may start earlier */
		memset(rec, 0, sizeof(*rec));
		rec->offset = f->cur.offset;
		rec->timestamp = f->cur.timestamp;
		rec->key = f->cur.key_len < 0 ? NULL : f->cur.key;
		rec->key_len = f->cur.key_len < 0 ? 0 : (size_t)f->cur.key_len;
		rec->value = f->cur.value_len < 0 ? NULL : f->cur.value;
		rec->value_len =
			f->cur.value_len < 0 ? 0 : (size_t)f->cur.value_len;
		rec->header_count = f->cur.header_count;
		return 1;
	}
}

int
gq_fetch_header(struct gq_fetch *f, size_t i, struct gq_header *out)
{
	if (f == NULL || out == NULL || !f->in_batch ||
	    i >= f->cur.header_count)
		return GQ_EINVAL;
	return gq__record_header(&f->cur, (uint32_t)i, out);
}

gq_offset
gq_fetch_high_watermark(const struct gq_fetch *f)
{
	return f->hw;
}

gq_offset
gq_fetch_log_start(const struct gq_fetch *f)
{
	return f->log_start;
}

void
gq_fetch_records(const struct gq_fetch *f, const void **data, size_t *len)
{
	*data = f->raw.base;
	*len = f->raw.len;
}

void
gq_fetch_destroy(struct gq_fetch *f)
{
	if (f == NULL)
		return;
	if (f->in_batch)
		gq__record_iter_close(&f->it);
	gq__buf_free(&f->raw);
	gq__free(f);
}

/* The time index finds the first batch whose running maximum timestamp
 * reaches @ts; the message wanted may sit later inside it. */
static int
first_at_or_after(struct gq__plog *pl, int64_t ts, gq_offset *off)
{
	struct gq__buf raw = GQ__BUF_INIT;
	struct gq__record_iter it;
	struct gq__record rec;
	int64_t hw, ls;
	int rv;

	if (*off >= gq__plog_next_offset(pl))
		return 0;
	rv = gq__plog_read(pl, *off, 1, &raw, &hw, &ls, NULL);
	if (rv != 0 || raw.len == 0)
		goto out;
	if ((rv = gq__record_iter_init(&it, raw.base, raw.len,
				       MAX_DECOMPRESSED)) != 0)
		goto out;
	while ((rv = gq__record_iter_next(&it, &rec)) == 1) {
		if (rec.offset >= *off && rec.timestamp >= ts) {
			*off = rec.offset;
			break;
		}
	}
	gq__record_iter_close(&it);
	rv = rv < 0 ? rv : 0;
out:
	gq__buf_free(&raw);
	return rv;
}

int
gq_list_offsets(struct gq_node *node, const char *topic, int32_t partition,
		int64_t when, gq_offset *out)
{
	struct gq__plog *pl;
	int rv;

	if (node == NULL || out == NULL || when < GQ_OFFSET_EARLIEST)
		return GQ_EINVAL;
	if (node->remote != NULL) {
		struct gq__req req;

		rv = remote_call(node, topic, partition, true, when, 0, 0,
				 &req);
		if (rv == 0)
			*out = req.u.rfetch.offset;
		return rv;
	}
	if ((rv = lookup(node, topic, partition, &pl)) != 0)
		return rv;
	if (when == GQ_OFFSET_EARLIEST)
		*out = gq__plog_log_start(pl);
	else if (when == GQ_OFFSET_LATEST)
		*out = gq__plog_next_offset(pl);
	else if ((rv = gq__plog_offset_for_time(pl, when, out)) == 0)
		rv = first_at_or_after(pl, when, out);
	pthread_rwlock_unlock(&node->meta_lock);
	return rv;
}

static void
wait_done(struct gq__req *req)
{
	req->u.wait.cb(req->u.wait.arg, req->status);
	gq__free(req);
}

int
gq_fetch_wait_async(struct gq_node *node, const char *topic, int32_t partition,
		    gq_offset offset, uint32_t timeout_ms, gq_wait_cb cb,
		    void *arg)
{
	struct gq__req *req;
	int rv;

	if (node == NULL || cb == NULL || offset < 0 ||
	    gq__name_check(topic, true, NULL) != 0)
		return GQ_EINVAL;
	if ((req = gq__calloc(1, sizeof(*req))) == NULL)
		return GQ_ENOMEM;
	req->type = GQ__REQ_WAIT;
	snprintf(req->topic, sizeof(req->topic), "%s", topic);
	req->partition = partition;
	req->u.wait.offset = offset;
	req->u.wait.timeout_ms = timeout_ms;
	req->u.wait.cb = cb;
	req->u.wait.arg = arg;
	req->done = wait_done;
	if ((rv = gq__node_post(node, req)) != 0)
		gq__free(req);
	return rv;
}

int
gq_partition_sync(struct gq_node *node, const char *topic, int32_t partition,
		  uint32_t timeout_ms)
{
	struct gq__req req;
	int rv;

	if (node == NULL)
		return GQ_EINVAL;
	memset(&req, 0, sizeof(req));
	if ((rv = gq__name_check(topic, true, req.errmsg)) != 0) {
		gq__node_set_errmsg(node, req.errmsg);
		return rv;
	}
	req.type = GQ__REQ_SYNC;
	snprintf(req.topic, sizeof(req.topic), "%s", topic);
	req.partition = partition;
	req.u.sync.timeout_ms = timeout_ms;
	return gq__node_call(node, &req);
}
