/* SPDX-License-Identifier: MIT */
/*
 * catchup.c - copying a lagging replica's missing log from another
 * replica (see catchup.h).
 *
 * Invariants: at most one PART_FETCH is in flight per catch-up, and its
 * callback owns the object once gq__catchup_free() was called; every
 * reply is checked whole (lengths, batch headers and CRCs, offsets that
 * continue our log) before anything is written; the applied index moves
 * only with the reply that brings the source's full state.
 */
#include "catchup.h"

#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "buf.h"
#include "cluster.h"
#include "error.h"
#include "heap.h"
#include "node.h"
#include "partition.h"
#include "plog.h"
#include "rpc.h"

#define FETCH_MAX_BYTES  (4u << 20)
#define FETCH_TIMEOUT_MS 10000
#define RETRY_MS         200

enum record_table {
	TABLE_PRODUCERS = 0,
	TABLE_GROUPS = 1,
};

struct gq__catchup {
	struct gq__partition *p;
	uint64_t target;  /* Raft index the data must reach */
	uint64_t applied; /* what the installed data stands for */
	struct gq__catchup_entry *head;
	struct gq__catchup_entry *tail;
	struct gq__catchup_entry *popped; /* returned by _next, freed next */
	size_t queued_bytes;
	uint64_t retry_at; /* loop time of the next request */
	unsigned attempt;  /* picks the source: leader first, then others */
	bool inflight;
	bool freed; /* the partition let go; the callback frees */
	bool done;
	/* Where the next copy starts when it is past our log end: a source
	 * whose retention deleted what we miss has its log start here. */
	int64_t restart_at;
};

static uint64_t
now_ms(const struct gq__catchup *c)
{
	return uv_now(gq__partition_node(c->p)->loop);
}

/* The offset the next copy starts at: our log end, or past it once a
 * source showed that retention deleted the range in between. */
static int64_t
copy_from(const struct gq__catchup *c)
{
	int64_t end = gq__plog_next_offset(gq__partition_plog(c->p));

	return c->restart_at > end ? c->restart_at : end;
}

static const char *
part_name(const struct gq__catchup *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%d", gq__partition_topic(c->p)->name,
		 gq__partition_index(c->p));
	return buf;
}

int
gq__catchup_create(struct gq__partition *p, uint64_t target,
		   struct gq__catchup **out)
{
	struct gq__catchup *c = gq__calloc(1, sizeof(*c));

	if (c == NULL)
		return GQ_ENOMEM;
	c->p = p;
	c->target = target;
	*out = c;
	return 0;
}

static void
entries_free(struct gq__catchup_entry *e)
{
	while (e != NULL) {
		struct gq__catchup_entry *next = e->next;

		gq__free(e);
		e = next;
	}
}

void
gq__catchup_retarget(struct gq__catchup *c, uint64_t target)
{
	if (target > c->target)
		c->target = target;
	if (c->target > c->applied)
		c->done = false;
	while (c->head != NULL && c->head->index <= c->target) {
		struct gq__catchup_entry *e = c->head;

		c->head = e->next;
		c->queued_bytes -= e->len;
		gq__free(e);
	}
	if (c->head == NULL)
		c->tail = NULL;
}

int
gq__catchup_queue(struct gq__catchup *c, uint64_t index, uint64_t term,
		  uint32_t type, const uint8_t *data, size_t len)
{
	struct gq__catchup_entry *e = gq__malloc(sizeof(*e) + len);

	if (e == NULL)
		return GQ_ENOMEM;
	e->next = NULL;
	e->index = index;
	e->term = term;
	e->type = type;
	e->len = len;
	memcpy(e->data, data, len);
	if (c->tail != NULL)
		c->tail->next = e;
	else
		c->head = e;
	c->tail = e;
	c->queued_bytes += len;
	return 0;
}

const struct gq__catchup_entry *
gq__catchup_next(struct gq__catchup *c)
{
	gq__free(c->popped);
	c->popped = c->head;
	if (c->head != NULL) {
		c->head = c->head->next;
		if (c->head == NULL)
			c->tail = NULL;
	}
	return c->popped;
}

uint64_t
gq__catchup_applied(const struct gq__catchup *c)
{
	return c->applied;
}

static void
catchup_destroy(struct gq__catchup *c)
{
	entries_free(c->head);
	gq__free(c->popped);
	gq__free(c);
}

void
gq__catchup_free(struct gq__catchup *c)
{
	if (c == NULL)
		return;
	if (c->inflight)
		c->freed = true;
	else
		catchup_destroy(c);
}

/* ---- follower side ----------------------------------------------------- */

/* Replace the partition's LMDB records besides the log with the source's:
 * its producer state, and for the offsets topic every committed offset
 * (all groups map to its single partition). */
static int
records_replace(struct gq__catchup *c, MDB_txn *txn, struct gq__rd *r)
{
	struct gq__partition *p = c->p;
	struct gq__store *st = gq__partition_node(p)->store;
	bool offsets = gq__partition_owns_groups(p);
	uint64_t uid = gq__partition_uid(p);
	uint8_t prefix[8];
	MDB_cursor *cur;
	MDB_val k = { sizeof(prefix), prefix };
	MDB_val v;
	uint32_t n;
	int rv;

	_Static_assert(GQ__OFFSETS_PARTITIONS == 1,
		       "catch-up ships every group to the offsets partition");
	gq__be64_put(prefix, uid);
	if ((rv = mdb_cursor_open(txn, st->producers, &cur)) != 0)
		return gq__err_from_mdb(rv);
	for (;;) {
		k.mv_size = sizeof(prefix);
		k.mv_data = prefix;
		rv = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rv != 0 || k.mv_size < 8 ||
		    memcmp(k.mv_data, prefix, 8) != 0)
			break;
		if ((rv = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rv != 0 && rv != MDB_NOTFOUND)
		return gq__err_from_mdb(rv);
	if (offsets && (rv = mdb_drop(txn, st->groups, 0)) != 0)
		return gq__err_from_mdb(rv);
	n = gq__rd_le32(r);
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		uint8_t table = gq__rd_u8(r);
		size_t klen = gq__rd_le16(r);
		const uint8_t *key = gq__rd_take(r, klen);
		size_t vlen = gq__rd_le32(r);
		const uint8_t *val = gq__rd_take(r, vlen);
		MDB_dbi dbi;

		if (r->bad)
			break;
		if (table == TABLE_PRODUCERS && klen > 8 &&
		    gq__be64_get(key) == uid)
			dbi = st->producers;
		else if (table == TABLE_GROUPS && offsets && klen > 0)
			dbi = st->groups;
		else
			return GQ_ECORRUPT;
		k.mv_size = klen;
		k.mv_data = (void *)key;
		v.mv_size = vlen;
		v.mv_data = (void *)val;
		if ((rv = mdb_put(txn, dbi, &k, &v, 0)) != 0)
			return gq__err_from_mdb(rv);
	}
	return r->bad ? GQ_ECORRUPT : 0;
}

/* Check the batches of a reply: whole, valid, starting at @from and
 * following each other.  Fills @pb (n entries) and *end. */
static int
batches_check(const uint8_t *b, size_t len, int64_t from,
	      struct gq__plog_batch **pbs, size_t *n, int64_t *end)
{
	struct gq__plog_batch *pb = NULL;
	size_t count = 0;
	size_t cap = 0;
	int64_t next = from;

	for (size_t pos = 0; pos < len;) {
		struct gq__batch_header h;
		size_t size;

		if (gq__batch_validate(b + pos, len - pos, &h) != 0 ||
		    h.base_offset != next)
			goto bad;
		size = gq__batch_total_size(&h);
		if (count == cap) {
			struct gq__plog_batch *grown;

			cap = cap == 0 ? 64 : 2 * cap;
			grown = gq__realloc(pb, cap * sizeof(*pb));
			if (grown == NULL) {
				gq__free(pb);
				return GQ_ENOMEM;
			}
			pb = grown;
		}
		pb[count].data = b + pos;
		pb[count].len = size;
		pb[count].base_offset = -1;
		count++;
		next = gq__batch_last_offset(&h) + 1;
		pos += size;
	}
	*pbs = pb;
	*n = count;
	*end = next;
	return 0;
bad:
	gq__free(pb);
	return GQ_ECORRUPT;
}

/* Append @n checked batches, each run of one leader epoch in one call so
 * the copy keeps the source's epochs. */
static int
batches_append(struct gq__plog *plog, MDB_txn *txn, struct gq__plog_batch *pb,
	       size_t n)
{
	uint64_t applied = gq__plog_applied_index(plog);

	for (size_t i = 0; i < n;) {
		int32_t epoch = (int32_t)gq__be32_get(pb[i].data + 12);
		size_t j = i + 1;
		int rv;

		while (j < n && (int32_t)gq__be32_get(pb[j].data + 12) == epoch)
			j++;
		rv = gq__plog_append(plog, txn, pb + i, j - i, epoch, applied);
		if (rv != 0)
			return rv;
		i = j;
	}
	return 0;
}

/* Store one reply.  0 (c->done once complete), GQ_ENOTREADY when the source
 * cannot help (behind us, or its log starts past our end), or an error. */
static int
reply_store(struct gq__catchup *c, const uint8_t *body, size_t len)
{
	struct gq__partition *p = c->p;
	struct gq_node *node = gq__partition_node(p);
	struct gq__plog *plog = gq__partition_plog(p);
	struct gq__rd r = gq__rd_init(body, len);
	struct gq__plog_batch *pb = NULL;
	int64_t from = copy_from(c);
	uint64_t applied = gq__rd_le64(&r);
	int64_t start = (int64_t)gq__rd_le64(&r);
	int64_t end = (int64_t)gq__rd_le64(&r);
	uint32_t blen = gq__rd_le32(&r);
	const uint8_t *batches = gq__rd_take(&r, blen);
	bool complete = gq__rd_u8(&r) != 0;
	int64_t reached;
	size_t n = 0;
	MDB_txn *txn;
	char name[GQ_NAME_MAX + 16];
	int rv;

	if (r.bad)
		return GQ_ECORRUPT;
	if (applied < c->target || end < from)
		return GQ_ENOTREADY; /* that replica is behind: try another */
	if (start > from) {
		/* Retention at the source deleted what we miss, and it is
		 * as up to date as we need: continue where its log starts,
		 * as a Kafka follower behind its leader's log start does. */
		gq__log(node, GQ_LOG_WARN,
			"partition %s: the source's log starts at %lld, past "
			"our end %lld (retention deleted the rest there): "
			"this replica's log restarts at %lld",
			part_name(c, name, sizeof(name)), (long long)start,
			(long long)from, (long long)start);
		c->restart_at = start;
		return 0; /* ask again at once, from there */
	}
	if ((rv = batches_check(batches, blen, from, &pb, &n, &reached)) != 0)
		return rv;
	if (complete != (reached == end)) {
		gq__free(pb);
		return GQ_ECORRUPT;
	}
	if ((rv = gq__store_begin(node->store, true, &txn)) != 0) {
		gq__free(pb);
		return rv;
	}
	rv = 0;
	if (from > gq__plog_next_offset(plog))
		rv = gq__plog_restart_at(plog, txn, from);
	if (rv == 0)
		rv = batches_append(plog, txn, pb, n);
	if (rv == 0 && complete) {
		if (applied > gq__plog_applied_index(plog))
			rv = gq__plog_set_applied(plog, txn, applied);
		if (rv == 0)
			rv = records_replace(c, txn, &r);
	}
	if (rv == 0)
		rv = gq__store_commit(txn);
	else
		gq__store_abort(txn);
	gq__free(pb);
	if (rv != 0) {
		gq__plog_abort(plog);
		return rv;
	}
	gq__plog_commit(plog);
	if (complete) {
		c->applied = gq__plog_applied_index(plog);
		c->done = true;
		gq__log(node, GQ_LOG_INFO,
			"partition %s: copied the log up to offset %lld "
			"(applied index %llu) from another replica",
			part_name(c, name, sizeof(name)), (long long)end,
			(unsigned long long)c->applied);
	}
	return 0;
}

static void
fetch_replied(void *arg, int status, const uint8_t *body, size_t len)
{
	struct gq__catchup *c = arg;
	char name[GQ_NAME_MAX + 16];

	c->inflight = false;
	if (c->freed) {
		catchup_destroy(c);
		return;
	}
	if (status == 0)
		status = reply_store(c, body, len);
	if (status == 0) {
		c->retry_at = 0; /* more to copy: ask again at once */
		return;
	}
	if (status != GQ_ENOTREADY && status != GQ_ETIMEDOUT &&
	    status != GQ_EIO && status != GQ_ECLOSED)
		gq__log(gq__partition_node(c->p), GQ_LOG_WARN,
			"partition %s: catch-up copy failed: %s (retrying)",
			part_name(c, name, sizeof(name)), gq_strerror(status));
	c->attempt++;
	c->retry_at = now_ms(c) + RETRY_MS;
}

/* The replica to copy from: the leader first, then the others in turn. */
static const struct gq__broker *
source_pick(struct gq__catchup *c)
{
	struct gq_node *node = gq__partition_node(c->p);
	const struct gq__route *route = gq__partition_route(c->p);
	int32_t leader = atomic_load(&route->leader);
	uint64_t self = node->conf.node_id;
	int32_t ids[GQ__REPLICAS_MAX + 1];
	size_t n = 0;

	if (leader > 0 && (uint64_t)leader != self)
		ids[n++] = leader;
	for (uint8_t i = 0; i < route->n_replicas; i++)
		if ((uint64_t)route->replicas[i] != self &&
		    route->replicas[i] != leader)
			ids[n++] = route->replicas[i];
	if (n == 0)
		return NULL;
	return gq__node_broker_find(node, (uint64_t)ids[c->attempt % n]);
}

int
gq__catchup_step(struct gq__catchup *c)
{
	struct gq_node *node = gq__partition_node(c->p);
	const struct gq__broker *b;
	uint8_t req[20];

	if (c->done)
		return 1;
	if (c->inflight || now_ms(c) < c->retry_at)
		return 0;
	c->retry_at = now_ms(c) + RETRY_MS;
	if ((b = source_pick(c)) == NULL || b->raft_address[0] == '\0') {
		c->attempt++;
		return 0;
	}
	gq__le64_put(req, gq__partition_uid(c->p));
	gq__le64_put(req + 8, (uint64_t)copy_from(c));
	gq__le32_put(req + 16, FETCH_MAX_BYTES);
	if (gq__rpc_send(node->rpc, b->id, b->raft_address, GQ__RPC_PART_FETCH,
			 req, sizeof(req), FETCH_TIMEOUT_MS, fetch_replied,
			 c) == 0)
		c->inflight = true;
	return 0;
}

/* ---- source side ------------------------------------------------------- */

/* Append the records of one table under @prefix (all if @plen is 0). */
static int
records_put(MDB_txn *txn, MDB_dbi dbi, uint8_t table, const uint8_t *prefix,
	    size_t plen, struct gq__buf *out, uint32_t *count)
{
	MDB_cursor *cur;
	MDB_val k = { plen, (void *)prefix };
	MDB_val v;
	int rv;

	if ((rv = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return gq__err_from_mdb(rv);
	rv = mdb_cursor_get(cur, &k, &v, plen > 0 ? MDB_SET_RANGE : MDB_FIRST);
	while (rv == 0 && k.mv_size >= plen &&
	       (plen == 0 || memcmp(k.mv_data, prefix, plen) == 0)) {
		if (k.mv_size > UINT16_MAX || v.mv_size > UINT32_MAX ||
		    (gq__buf_put_u8(out, table) |
		     gq__buf_put_le16(out, (uint16_t)k.mv_size) |
		     gq__buf_append(out, k.mv_data, k.mv_size) |
		     gq__buf_put_le32(out, (uint32_t)v.mv_size) |
		     gq__buf_append(out, v.mv_data, v.mv_size)) != 0) {
			rv = GQ_ENOMEM;
			break;
		}
		(*count)++;
		rv = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rv == MDB_NOTFOUND)
		return 0;
	return rv > 0 ? gq__err_from_mdb(rv) : rv;
}

/* The offset after the last of the batches gq__plog_read() returned (it
 * checked their CRCs already): headers only. */
static int64_t
batches_end(const uint8_t *b, size_t len, int64_t from)
{
	int64_t end = from;

	for (size_t pos = 0; pos < len;) {
		struct gq__batch_header h;

		if (gq__batch_parse_header(b + pos, len - pos, &h) != 0)
			return -1;
		end = gq__batch_last_offset(&h) + 1;
		pos += gq__batch_total_size(&h);
	}
	return end;
}

static int
serve_records(struct gq__partition *p, struct gq__buf *out)
{
	struct gq__store *st = gq__partition_node(p)->store;
	size_t at = out->len;
	uint32_t count = 0;
	uint8_t prefix[8];
	MDB_txn *txn;
	int rv;

	gq__be64_put(prefix, gq__partition_uid(p));
	if ((rv = gq__buf_put_le32(out, 0)) != 0 ||
	    (rv = gq__store_begin(st, false, &txn)) != 0)
		return rv;
	rv = records_put(txn, st->producers, TABLE_PRODUCERS, prefix,
			 sizeof(prefix), out, &count);
	if (rv == 0 && gq__partition_owns_groups(p))
		rv = records_put(txn, st->groups, TABLE_GROUPS, NULL, 0, out,
				 &count);
	gq__store_abort(txn);
	gq__le32_put(out->base + at, count);
	return rv;
}

void
gq__catchup_serve(struct gq_node *node, struct gq__rpc_call *call,
		  const uint8_t *body, size_t len)
{
	struct gq__rd r = gq__rd_init(body, len);
	uint64_t uid = gq__rd_le64(&r);
	int64_t from = (int64_t)gq__rd_le64(&r);
	uint32_t max = gq__rd_le32(&r);
	struct gq__buf out = GQ__BUF_INIT;
	struct gq__partition *p;
	struct gq__plog *plog;
	struct gq__plog_stats s;
	char errmsg[GQ_ERRMSG_SIZE];
	int64_t reached;
	bool complete;
	size_t at;
	int rv;

	if ((p = gq__cluster_rpc_partition(node, call, &r, uid)) == NULL)
		return;
	if (gq__partition_catching_up(p)) {
		gq__rpc_reply(call, GQ_ENOTREADY, NULL, 0);
		return;
	}
	/* One loop turn: no apply runs between reading the log, its end,
	 * the applied index and the records, so they agree. */
	plog = gq__partition_plog(p);
	gq__plog_stats(plog, &s);
	if (max > FETCH_MAX_BYTES)
		max = FETCH_MAX_BYTES;
	if ((gq__buf_put_le64(&out, gq__plog_applied_index(plog)) |
	     gq__buf_put_le64(&out, (uint64_t)s.log_start) |
	     gq__buf_put_le64(&out, (uint64_t)s.next_offset) |
	     gq__buf_put_le32(&out, 0)) != 0) {
		rv = GQ_ENOMEM;
		goto fail;
	}
	at = out.len;
	if (from >= s.log_start && from < s.next_offset) {
		rv = gq__plog_read(plog, from, max, &out, NULL, NULL, errmsg);
		if (rv == GQ_EOFFSET)
			rv = 0; /* retention raced us: the client sees the
				   new log start and stops */
		if (rv != 0) {
			gq__log(node, GQ_LOG_WARN,
				"catch-up read of partition %llu: %s",
				(unsigned long long)uid, errmsg);
			goto fail;
		}
	}
	gq__le32_put(out.base + at - 4, (uint32_t)(out.len - at));
	/* Complete when the blobs reach the log end. */
	if ((reached = batches_end(out.base + at, out.len - at, from)) < 0) {
		rv = GQ_ECORRUPT;
		goto fail;
	}
	complete = from >= s.log_start && reached == s.next_offset;
	if ((rv = gq__buf_put_u8(&out, complete)) != 0 ||
	    (complete && (rv = serve_records(p, &out)) != 0))
		goto fail;
	gq__rpc_reply(call, 0, out.base, out.len);
	gq__buf_free(&out);
	return;
fail:
	gq__buf_free(&out);
	gq__rpc_reply(call, rv != 0 ? rv : GQ_ENOMEM, NULL, 0);
}
