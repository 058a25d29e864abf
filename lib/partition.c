/* SPDX-License-Identifier: MIT */
/*
 * partition.c - a partition's produce path and state machine (see
 * partition.h for formats).  Invariants: apply changes the log, producer
 * state, the dedup window and the applied index in one LMDB transaction;
 * the in-memory producer table and window mirror LMDB after every apply
 * (they are reloaded from LMDB when a transaction fails).
 */
#include "partition.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "catchup.h"
#include "coordinator.h"
#include "error.h"
#include "fsutil.h"
#include "heap.h"
#include "membership.h"
#include "node.h"
#include "plog.h"
#include "readindex.h"
#include "rgroup.h"

#define MANIFEST_VERSION   1
#define PRODUCER_WINDOW    5 /* Kafka keeps the last five batches */
#define REBALANCE_FIRST_MS 1000

enum entry_type {
	ENTRY_PRODUCE = 1,
	ENTRY_GROUP_COMMIT = 2,
	ENTRY_GROUP_STATE = 3,
};

enum part_state {
	PART_OPENING,
	PART_SERVING,
	PART_WAITING,
	PART_CLOSING,
};

struct producer_batch {
	int32_t first_seq;
	int32_t last_seq;
	int64_t base_offset;
};

struct producer {
	int64_t id;
	int16_t epoch;
	uint8_t n; /* batches in the window, newest last */
	struct producer_batch win[PRODUCER_WINDOW];
	bool dirty; /* changed by the entry being applied */
};

struct dedup_slot {
	uint64_t hash;
	int64_t base_offset;
	uint64_t seq; /* age: the oldest slot is overwritten first */
	bool used;
	bool dirty; /* changed by the entry being applied */
};

/* What apply reports per batch to the proposer. */
struct batch_result {
	int status;
	int64_t base_offset;
	int64_t dup_of; /* duplicate of accepted batch i of this entry, or -1 */
};

struct gq__partition {
	struct gq_node *node;
	struct gq__topic *topic;
	int32_t index;
	uint64_t uid;
	char dir[4200];
	enum part_state state;
	bool remove_on_close;
	struct gq__rgroup *rg;
	struct gq__plog *plog;
	struct gq__catchup *catchup; /* copying missing data, or NULL */
	struct gq__membership *members;
	struct gq__req *read_waiters; /* gq_partition_sync (readindex.h) */
	uint64_t rebalance_at;        /* loop time of the next preferred-
					 leader check, while leading */
	bool move_leader; /* the preferred replica changed: check even when
			     periodic rebalancing is off */

	struct gq__req *backlog_head;
	struct gq__req *backlog_tail;
	struct gq__req *waiters; /* long polls (gq_fetch_wait_async) */
	bool dirty;              /* listed in the node's dirty array */
	struct gq__route *route; /* in the topic: replicas, leader */

	struct producer *producers; /* sorted by id */
	size_t n_producers;
	size_t cap_producers;

	struct dedup_slot *dedup; /* ring of conf.dedup_window slots */
	uint32_t dedup_next;
	uint64_t dedup_seq;
	/* Hash index over the ring: chains of slots per bucket. */
	int32_t *dedup_heads;   /* dedup_buckets entries, -1 = empty */
	int32_t *dedup_chain;   /* per slot: next slot in its bucket */
	uint32_t dedup_buckets; /* a power of two */

	/* What the entry being applied changed, persisted after it. */
	int64_t *touched_producers;
	size_t n_touched_producers;
	size_t cap_touched_producers;
	uint32_t *touched_slots;
	size_t n_touched_slots;
	size_t cap_touched_slots;

	struct batch_result *results;
	size_t cap_results;
	size_t n_results;
};

struct proposal {
	struct gq__rgroup_req rreq;
	struct gq__partition *p;
	struct gq__req *reqs; /* linked through req->next, in entry order */
};

static void dedup_index(struct gq__partition *p);

/* ---- producer table -------------------------------------------------- */

static struct producer *
producer_find(struct gq__partition *p, int64_t id, size_t *pos)
{
	size_t lo = 0;
	size_t hi = p->n_producers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->producers[mid].id == id)
			return &p->producers[mid];
		if (p->producers[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return NULL;
}

static struct producer *
producer_get(struct gq__partition *p, int64_t id)
{
	struct producer *pr;
	size_t pos = 0;

	if ((pr = producer_find(p, id, &pos)) != NULL)
		return pr;
	if (p->n_producers == p->cap_producers) {
		size_t cap = p->cap_producers ? p->cap_producers * 2 : 16;
		struct producer *np;

		np = gq__realloc(p->producers, cap * sizeof(*np));
		if (np == NULL)
			return NULL;
		p->producers = np;
		p->cap_producers = cap;
	}
	memmove(&p->producers[pos + 1], &p->producers[pos],
		(p->n_producers - pos) * sizeof(*p->producers));
	p->n_producers++;
	pr = &p->producers[pos];
	memset(pr, 0, sizeof(*pr));
	pr->id = id;
	pr->epoch = -1;
	return pr;
}

static void
producer_key(uint64_t uid, int64_t id, uint8_t key[16])
{
	gq__be64_put(key, uid);
	gq__be64_put(key + 8, (uint64_t)id);
}

static int
producer_store(struct gq__partition *p, MDB_txn *txn, const struct producer *pr)
{
	uint8_t key[16];
	uint8_t val[4 + PRODUCER_WINDOW * 16];
	MDB_val k = { sizeof(key), key };
	MDB_val v;

	producer_key(p->uid, pr->id, key);
	val[0] = 1;
	val[1] = pr->n;
	val[2] = (uint8_t)pr->epoch;
	val[3] = (uint8_t)((uint16_t)pr->epoch >> 8);
	for (unsigned i = 0; i < pr->n; i++) {
		uint8_t *e = val + 4 + i * 16;

		gq__le32_put(e, (uint32_t)pr->win[i].first_seq);
		gq__le32_put(e + 4, (uint32_t)pr->win[i].last_seq);
		gq__le64_put(e + 8, (uint64_t)pr->win[i].base_offset);
	}
	v.mv_size = 4 + (size_t)pr->n * 16;
	v.mv_data = val;
	return gq__err_from_mdb(
		mdb_put(txn, p->node->store->producers, &k, &v, 0));
}

static void
dedup_key(uint64_t uid, uint32_t slot, uint8_t key[13])
{
	gq__be64_put(key, uid);
	key[8] = 0xff;
	gq__be32_put(key + 9, slot);
}

/* Load producer state and the dedup window of this partition from LMDB,
 * dropping what refers to offsets at or past the log end (batches a
 * recovery truncated will be re-applied by the Raft replay). */
static int
state_load(struct gq__partition *p)
{
	struct gq__store *st = p->node->store;
	int64_t end = gq__plog_next_offset(p->plog);
	uint8_t start[8];
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = { sizeof(start), start };
	MDB_val v;
	int op = MDB_SET_RANGE;
	int rv;

	p->n_producers = 0;
	p->n_touched_producers = 0;
	p->n_touched_slots = 0;
	if (p->dedup != NULL)
		memset(p->dedup, 0,
		       p->topic->conf.dedup_window * sizeof(*p->dedup));
	p->dedup_next = 0;
	p->dedup_seq = 0;
	gq__be64_put(start, p->uid);
	if ((rv = gq__store_begin(st, false, &txn)) != 0)
		return rv;
	if ((rv = gq__err_from_mdb(mdb_cursor_open(txn, st->producers, &cur))))
		goto out;
	while ((rv = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		const uint8_t *kb = k.mv_data;
		const uint8_t *vb = v.mv_data;

		op = MDB_NEXT;
		if (k.mv_size < 8 || gq__be64_get(kb) != p->uid)
			break;
		if (k.mv_size == 16) {
			struct producer *pr;

			if (v.mv_size < 4 || vb[0] != 1 ||
			    vb[1] > PRODUCER_WINDOW ||
			    v.mv_size != 4 + (size_t)vb[1] * 16) {
				rv = GQ_ECORRUPT;
				break;
			}
			pr = producer_get(p, (int64_t)gq__be64_get(kb + 8));
			if (pr == NULL) {
				rv = GQ_ENOMEM;
				break;
			}
			pr->epoch = (int16_t)(vb[2] | vb[3] << 8);
			pr->n = 0;
			for (unsigned i = 0; i < vb[1]; i++) {
				const uint8_t *e = vb + 4 + i * 16;
				struct producer_batch b;

				b.first_seq = (int32_t)gq__le32_get(e);
				b.last_seq = (int32_t)gq__le32_get(e + 4);
				b.base_offset = (int64_t)gq__le64_get(e + 8);
				if (b.base_offset < end)
					pr->win[pr->n++] = b;
			}
		} else if (k.mv_size == 13 && p->dedup != NULL &&
			   v.mv_size == 24) {
			uint32_t slot = gq__be32_get(kb + 9);
			int64_t off = (int64_t)gq__le64_get(vb + 8);
			uint64_t seq = gq__le64_get(vb + 16);

			if (slot >= p->topic->conf.dedup_window)
				continue;
			/* The ring continues after the newest slot. */
			if (seq > p->dedup_seq) {
				p->dedup_seq = seq;
				p->dedup_next = slot + 1;
			}
			if (off < end) {
				p->dedup[slot].hash = gq__le64_get(vb);
				p->dedup[slot].base_offset = off;
				p->dedup[slot].seq = seq;
				p->dedup[slot].used = true;
			}
		}
	}
	if (rv == MDB_NOTFOUND)
		rv = 0;
	else if (rv > 0)
		rv = gq__err_from_mdb(rv);
	if (p->dedup_next >= p->topic->conf.dedup_window)
		p->dedup_next = 0;
	if (p->dedup != NULL)
		dedup_index(p);
	mdb_cursor_close(cur);
out:
	gq__store_abort(txn);
	return rv;
}

/* ---- apply ----------------------------------------------------------- */

static uint64_t
content_hash(const uint8_t *b, size_t len)
{
	/* FNV-1a over the records section (after the fixed header), so the
	 * same messages hash the same whatever offsets they were given. */
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = GQ__BATCH_HEADER_SIZE; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ len;
}

static uint32_t
dedup_bucket(const struct gq__partition *p, uint64_t h)
{
	return (uint32_t)(h ^ h >> 32) & (p->dedup_buckets - 1);
}

static void
dedup_link(struct gq__partition *p, uint32_t slot)
{
	uint32_t b = dedup_bucket(p, p->dedup[slot].hash);

	p->dedup_chain[slot] = p->dedup_heads[b];
	p->dedup_heads[b] = (int32_t)slot;
}

static void
dedup_unlink(struct gq__partition *p, uint32_t slot)
{
	int32_t *pp = &p->dedup_heads[dedup_bucket(p, p->dedup[slot].hash)];

	while (*pp >= 0 && *pp != (int32_t)slot)
		pp = &p->dedup_chain[*pp];
	if (*pp >= 0)
		*pp = p->dedup_chain[slot];
}

static struct dedup_slot *
dedup_find(struct gq__partition *p, uint64_t h)
{
	int32_t s = p->dedup_heads[dedup_bucket(p, h)];

	for (; s >= 0; s = p->dedup_chain[s])
		if (p->dedup[s].hash == h)
			return &p->dedup[s];
	return NULL;
}

/* Rebuild the hash index from the ring (after a load). */
static void
dedup_index(struct gq__partition *p)
{
	for (uint32_t b = 0; b < p->dedup_buckets; b++)
		p->dedup_heads[b] = -1;
	for (uint32_t i = 0; i < p->topic->conf.dedup_window; i++)
		if (p->dedup[i].used)
			dedup_link(p, i);
}

static int
touch(void *arrp, size_t *n, size_t *cap, size_t size, const void *item)
{
	uint8_t **arr = arrp;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		uint8_t *a = gq__realloc(*arr, c * size);

		if (a == NULL)
			return GQ_ENOMEM;
		*arr = a;
		*cap = c;
	}
	memcpy(*arr + *n * size, item, size);
	(*n)++;
	return 0;
}

/* Offsets of batches accepted by the entry being applied are not known
 * until the append: window and dedup slots refer to them as "pending
 * batch i" meanwhile. */
#define PENDING_OFFSET(i)  (-2 - (int64_t)(i))
#define PENDING_INDEX(off) ((size_t)(-2 - (off)))

static int32_t
seq_add(int32_t seq, int32_t delta)
{
	/* Sequences wrap from INT32_MAX to 0, as in Kafka. */
	return (int32_t)(((int64_t)seq + delta) % ((int64_t)INT32_MAX + 1));
}

/* Decide what to do with one batch of an idempotent producer.  Returns 0
 * to append, 1 for a duplicate (its offset, maybe pending, in *dup), or
 * an error. */
static int
producer_check(struct gq__partition *p, const struct gq__batch_header *h,
	       int64_t *dup)
{
	struct producer *pr;
	int32_t last = seq_add(h->base_sequence, h->last_offset_delta);

	if ((pr = producer_get(p, h->producer_id)) == NULL)
		return GQ_ENOMEM;
	if (pr->epoch >= 0 && h->producer_epoch < pr->epoch)
		return GQ_EFENCED;
	if (pr->epoch >= 0 && h->producer_epoch == pr->epoch) {
		for (unsigned i = 0; i < pr->n; i++) {
			if (pr->win[i].first_seq == h->base_sequence &&
			    pr->win[i].last_seq == last) {
				*dup = pr->win[i].base_offset;
				return 1;
			}
		}
		if (pr->n > 0 &&
		    seq_add(pr->win[pr->n - 1].last_seq, 1) != h->base_sequence)
			return GQ_ESEQUENCE;
		return 0;
	}
	/* A new epoch starts its sequences at 0; an unknown producer (its
	 * state expired with the log) may continue where it was. */
	if (pr->epoch >= 0 && h->base_sequence != 0)
		return GQ_ESEQUENCE;
	return 0;
}

/* Remember a batch in its producer's window of the last five. */
static int
producer_record(struct gq__partition *p, const struct gq__batch_header *h,
		int64_t base_offset)
{
	struct producer *pr = producer_get(p, h->producer_id);

	if (pr == NULL)
		return GQ_ENOMEM;
	if (pr->epoch != h->producer_epoch) {
		pr->epoch = h->producer_epoch;
		pr->n = 0;
	}
	if (pr->n == PRODUCER_WINDOW) {
		memmove(&pr->win[0], &pr->win[1],
			(PRODUCER_WINDOW - 1) * sizeof(pr->win[0]));
		pr->n--;
	}
	pr->win[pr->n].first_seq = h->base_sequence;
	pr->win[pr->n].last_seq =
		seq_add(h->base_sequence, h->last_offset_delta);
	pr->win[pr->n].base_offset = base_offset;
	pr->n++;
	if (!pr->dirty) {
		int rv = touch(&p->touched_producers, &p->n_touched_producers,
			       &p->cap_touched_producers, sizeof(int64_t),
			       &pr->id);

		if (rv != 0)
			return rv;
		pr->dirty = true;
	}
	return 0;
}

static int
results_reserve(struct gq__partition *p, size_t n)
{
	struct batch_result *r;

	p->n_results = 0;
	if (n <= p->cap_results)
		return 0;
	if ((r = gq__realloc(p->results, n * sizeof(*r))) == NULL)
		return GQ_ENOMEM;
	p->results = r;
	p->cap_results = n;
	return 0;
}

/* Take the next dedup slot, the oldest, for @hash (offset pending or
 * known). */
static int
dedup_take(struct gq__partition *p, uint64_t hash, int64_t offset)
{
	uint32_t slot = p->dedup_next;
	struct dedup_slot *d = &p->dedup[slot];

	if (!d->dirty && touch(&p->touched_slots, &p->n_touched_slots,
			       &p->cap_touched_slots, sizeof(slot), &slot))
		return GQ_ENOMEM;
	if (d->used)
		dedup_unlink(p, slot);
	d->hash = hash;
	d->base_offset = offset;
	d->seq = ++p->dedup_seq;
	d->used = true;
	d->dirty = true;
	dedup_link(p, slot);
	p->dedup_next = (slot + 1) % p->topic->conf.dedup_window;
	return 0;
}

static int64_t
resolve(int64_t off, const struct gq__plog_batch *pb)
{
	return off <= -2 ? pb[PENDING_INDEX(off)].base_offset : off;
}

/* After the append: replace pending offsets with real ones and persist
 * every producer and dedup slot the entry changed. */
static int
store_side_state(struct gq__partition *p, MDB_txn *txn,
		 const struct gq__plog_batch *pb)
{
	int rv;

	for (size_t i = 0; i < p->n_touched_producers; i++) {
		size_t pos;
		struct producer *pr =
			producer_find(p, p->touched_producers[i], &pos);

		if (pr == NULL || !pr->dirty)
			continue;
		for (unsigned j = 0; j < pr->n; j++)
			pr->win[j].base_offset =
				resolve(pr->win[j].base_offset, pb);
		if ((rv = producer_store(p, txn, pr)) != 0)
			return rv;
		pr->dirty = false;
	}
	for (size_t i = 0; i < p->n_touched_slots; i++) {
		uint32_t slot = p->touched_slots[i];
		struct dedup_slot *d = &p->dedup[slot];
		uint8_t key[13];
		uint8_t val[24];
		MDB_val k = { sizeof(key), key };
		MDB_val v = { sizeof(val), val };

		d->base_offset = resolve(d->base_offset, pb);
		dedup_key(p->uid, slot, key);
		gq__le64_put(val, d->hash);
		gq__le64_put(val + 8, (uint64_t)d->base_offset);
		gq__le64_put(val + 16, d->seq);
		rv = mdb_put(txn, p->node->store->producers, &k, &v, 0);
		if (rv != 0)
			return gq__err_from_mdb(rv);
		d->dirty = false;
	}
	p->n_touched_producers = 0;
	p->n_touched_slots = 0;
	return 0;
}

/* Decide for one batch: append it (returns 1 and fills @pb), answer it
 * as a duplicate or reject it (returns 0, outcome in @r). */
static int
decide(struct gq__partition *p, const uint8_t *b, uint32_t blen, size_t n_ok,
       struct batch_result *r, struct gq__plog_batch *pb)
{
	struct gq__batch_header h;
	uint64_t hash = 0;
	int64_t dup = -1;
	int rv;

	r->base_offset = -1;
	r->dup_of = -1;
	if ((r->status = gq__batch_parse_header(b, blen, &h)) != 0)
		return 0;
	if (h.producer_id >= 0) {
		rv = producer_check(p, &h, &dup);
		if (rv < 0) {
			r->status = rv;
			return 0;
		}
		if (rv == 1)
			goto duplicate;
	}
	if (p->dedup != NULL) {
		struct dedup_slot *s;

		hash = content_hash(b, blen);
		if ((s = dedup_find(p, hash)) != NULL) {
			dup = s->base_offset;
			/* Same content from an idempotent producer still
			 * consumes its sequence numbers. */
			if (h.producer_id >= 0 &&
			    (r->status = producer_record(p, &h, dup)) != 0)
				return 0;
			goto duplicate;
		}
	}
	if (h.producer_id >= 0 &&
	    (r->status = producer_record(p, &h, PENDING_OFFSET(n_ok))) != 0)
		return 0;
	if (p->dedup != NULL &&
	    (r->status = dedup_take(p, hash, PENDING_OFFSET(n_ok))) != 0)
		return 0;
	pb->data = b;
	pb->len = blen;
	return 1;
duplicate:
	if (dup <= -2)
		r->dup_of = (int64_t)PENDING_INDEX(dup);
	else
		r->base_offset = dup;
	return 0;
}

static void
wait_timer_closed(uv_handle_t *h)
{
	gq__free(h);
}

static void
wait_finish(struct gq__partition *p, struct gq__req *req, int status)
{
	struct gq__req **pp;

	for (pp = &p->waiters; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == req) {
			*pp = req->next;
			break;
		}
	}
	uv_timer_stop(req->u.wait.timer);
	uv_close((uv_handle_t *)req->u.wait.timer, wait_timer_closed);
	gq__req_complete(req, status);
}

static void
wait_timeout(uv_timer_t *t)
{
	struct gq__req *req = t->data;

	wait_finish(req->owner, req, GQ_ETIMEDOUT);
}

/* Complete the long polls that new data satisfies, or all of them with
 * @status when it is not 0 (the partition closes). */
static void
wake_waiters(struct gq__partition *p, int status)
{
	int64_t hw = gq__plog_next_offset(p->plog);
	struct gq__req *req = p->waiters;

	while (req != NULL) {
		struct gq__req *next = req->next;

		if (status != 0)
			wait_finish(p, req, status);
		else if (req->u.wait.offset < hw)
			wait_finish(p, req, 0);
		req = next;
	}
}

void
gq__partition_wait(struct gq__partition *p, struct gq__req *req)
{
	uv_timer_t *t;

	if (p->state == PART_CLOSING) {
		gq__req_complete(req, GQ_ECLOSED);
		return;
	}
	if (req->u.wait.offset < gq__plog_next_offset(p->plog)) {
		gq__req_complete(req, 0);
		return;
	}
	if (req->u.wait.timeout_ms == 0) {
		gq__req_complete(req, GQ_ETIMEDOUT);
		return;
	}
	if ((t = gq__malloc(sizeof(*t))) == NULL) {
		gq__req_complete(req, GQ_ENOMEM);
		return;
	}
	uv_timer_init(p->node->loop, t);
	t->data = req;
	uv_timer_start(t, wait_timeout, req->u.wait.timeout_ms, 0);
	req->owner = p;
	req->u.wait.timer = t;
	req->next = p->waiters;
	p->waiters = req;
}

static void
apply_produce(struct gq__partition *p, uint64_t index, uint64_t term,
	      const uint8_t *data, size_t len)
{
	struct gq__plog_batch *pb = NULL;
	size_t *owner = NULL; /* result index of each accepted batch */
	MDB_txn *txn = NULL;
	size_t n_ok = 0;
	size_t pos = 4;
	uint32_t n;
	int rv;

	if (len < 4 || (n = gq__le32_get(data)) == 0 || n > len / 4) {
		p->n_results = 0;
		return;
	}
	if ((rv = results_reserve(p, n)) != 0)
		goto fail_all;
	pb = gq__calloc(n, sizeof(*pb));
	owner = gq__calloc(n, sizeof(*owner));
	if (pb == NULL || owner == NULL) {
		rv = GQ_ENOMEM;
		goto fail_all;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct batch_result *r = &p->results[p->n_results++];
		uint32_t blen;

		if (pos + 4 > len ||
		    (blen = gq__le32_get(data + pos)) > len - pos - 4) {
			r->status = GQ_ECORRUPT;
			r->base_offset = -1;
			r->dup_of = -1;
			break;
		}
		pos += 4;
		if (decide(p, data + pos, blen, n_ok, r, &pb[n_ok]))
			owner[n_ok++] = i;
		pos += blen;
	}
	if ((rv = gq__store_begin(p->node->store, true, &txn)) != 0)
		goto fail_reload;
	if (n_ok > 0)
		rv = gq__plog_append(p->plog, txn, pb, n_ok, (int32_t)term,
				     index);
	else
		rv = gq__plog_set_applied(p->plog, txn, index);
	if (rv != 0 || (rv = store_side_state(p, txn, pb)) != 0) {
		gq__store_abort(txn);
		gq__plog_abort(p->plog);
		goto fail_reload;
	}
	if ((rv = gq__store_commit(txn)) != 0) {
		gq__plog_abort(p->plog);
		goto fail_reload;
	}
	gq__plog_commit(p->plog);
	if (n_ok > 0 && p->waiters != NULL)
		wake_waiters(p, 0);
	for (size_t i = 0; i < n_ok; i++)
		p->results[owner[i]].base_offset = pb[i].base_offset;
	for (size_t i = 0; i < p->n_results; i++)
		if (p->results[i].dup_of >= 0)
			p->results[i].base_offset =
				pb[p->results[i].dup_of].base_offset;
	gq__free(pb);
	gq__free(owner);
	return;
fail_reload:
	gq__log(p->node, rv == GQ_ENOSPC ? GQ_LOG_ERROR : GQ_LOG_WARN,
		"partition %s/%d: entry %llu not stored: %s", p->topic->name,
		p->index, (unsigned long long)index, gq_strerror(rv));
	/* Producer and dedup state went ahead in memory: reload it. */
	state_load(p);
	for (size_t i = 0; i < n_ok; i++)
		p->results[owner[i]].status = rv;
	for (size_t i = 0; i < p->n_results; i++)
		if (p->results[i].dup_of >= 0)
			p->results[i].status = rv;
	gq__free(pb);
	gq__free(owner);
	return;
fail_all:
	gq__free(pb);
	gq__free(owner);
	p->n_results = 0;
}

size_t
gq__group_key(const char *group, const char *topic, int32_t partition,
	      uint8_t *out, size_t size)
{
	size_t gl = strlen(group);
	size_t tl = strlen(topic);

	if (gl + tl + 6 > size)
		return 0;
	memcpy(out, group, gl + 1);
	memcpy(out + gl + 1, topic, tl + 1);
	gq__be32_put(out + gl + tl + 2, (uint32_t)partition);
	return gl + tl + 6;
}

size_t
gq__group_state_key(const char *group, uint8_t *out, size_t size)
{
	size_t gl = strlen(group);

	if (gl + 2 > size)
		return 0;
	memcpy(out, group, gl + 1);
	out[gl + 1] = 0xff; /* no topic name starts so */
	return gl + 2;
}

/* Store @k -> @v in the groups table (delete @k when @v is NULL) with the
 * applied @index, in one transaction: the entry's result. */
static void
groups_put(struct gq__partition *p, uint64_t index, MDB_val *k, MDB_val *v)
{
	MDB_txn *txn;
	int rv;

	p->results[0].status = GQ_ECORRUPT;
	p->results[0].base_offset = -1;
	p->n_results = 1;
	if ((rv = gq__store_begin(p->node->store, true, &txn)) != 0)
		goto out;
	if (v != NULL)
		rv = mdb_put(txn, p->node->store->groups, k, v, 0);
	else if ((rv = mdb_del(txn, p->node->store->groups, k, NULL)) ==
		 MDB_NOTFOUND)
		rv = 0;
	rv = gq__err_from_mdb(rv);
	if (rv == 0)
		rv = gq__plog_set_applied(p->plog, txn, index);
	if (rv == 0) {
		rv = gq__store_commit(txn);
		if (rv == 0)
			gq__plog_commit(p->plog);
		else
			gq__plog_abort(p->plog);
	} else {
		gq__store_abort(txn);
		gq__plog_abort(p->plog);
	}
out:
	p->results[0].status = rv;
}

static void
apply_group_commit(struct gq__partition *p, uint64_t index, const uint8_t *d,
		   size_t len)
{
	char group[GQ_NAME_MAX + 1];
	char topic[GQ_NAME_MAX + 1];
	uint8_t key[2 * GQ_NAME_MAX + 8];
	struct gq__buf val = GQ__BUF_INIT;
	size_t gl, tl, ml;
	MDB_val k, v;

	p->results[0].status = GQ_ECORRUPT;
	p->results[0].base_offset = -1;
	p->n_results = 1;
	if (len < 2 || (gl = d[0] | (size_t)d[1] << 8) > GQ_NAME_MAX ||
	    len < 4 + gl ||
	    (tl = d[2 + gl] | (size_t)d[3 + gl] << 8) > GQ_NAME_MAX ||
	    len < 4 + gl + tl + 16)
		return;
	ml = gq__le32_get(d + 4 + gl + tl + 12);
	if (ml > len - (4 + gl + tl + 16))
		return;
	memcpy(group, d + 2, gl);
	group[gl] = '\0';
	memcpy(topic, d + 4 + gl, tl);
	topic[tl] = '\0';
	k.mv_size = gq__group_key(group, topic,
				  (int32_t)gq__le32_get(d + 4 + gl + tl), key,
				  sizeof(key));
	k.mv_data = key;
	if (gq__buf_append(&val, d + 8 + gl + tl, 8) != 0 ||
	    gq__buf_append(&val, d + 4 + gl + tl + 16, ml) != 0) {
		gq__buf_free(&val);
		p->results[0].status = GQ_ENOMEM;
		return;
	}
	v.mv_size = val.len;
	v.mv_data = val.base;
	groups_put(p, index, &k, &v);
	gq__buf_free(&val);
}

/* GROUP_STATE: a group's saved coordinator state, or its removal. */
static void
apply_group_state(struct gq__partition *p, uint64_t index, const uint8_t *d,
		  size_t len)
{
	char group[GQ_NAME_MAX + 1];
	uint8_t key[GQ_NAME_MAX + 2];
	size_t gl;
	MDB_val k, v;

	p->results[0].status = GQ_ECORRUPT;
	p->results[0].base_offset = -1;
	p->n_results = 1;
	if (len < 2 || (gl = d[0] | (size_t)d[1] << 8) == 0 ||
	    gl > GQ_NAME_MAX || len < 2 + gl || memchr(d + 2, 0, gl) != NULL)
		return;
	memcpy(group, d + 2, gl);
	group[gl] = '\0';
	k.mv_size = gq__group_state_key(group, key, sizeof(key));
	k.mv_data = key;
	v.mv_size = len - 2 - gl;
	v.mv_data = (void *)(d + 2 + gl);
	groups_put(p, index, &k, v.mv_size > 0 ? &v : NULL);
}

static void
part_apply(void *owner, uint64_t index, uint64_t term, uint32_t type,
	   const uint8_t *data, size_t len, void **result)
{
	struct gq__partition *p = owner;

	p->n_results = 0;
	*result = p;
	if (index <= gq__plog_applied_index(p->plog))
		return; /* replay of an entry already stored */
	if (p->catchup != NULL) {
		/* Out of memory: the copy must then include this entry's
		 * effect, so wait for a source that applied it. */
		if (gq__catchup_queue(p->catchup, index, term, type, data,
				      len) != 0)
			gq__catchup_retarget(p->catchup, index);
		return;
	}
	switch (type) {
	case ENTRY_PRODUCE:
		apply_produce(p, index, term, data, len);
		break;
	case ENTRY_GROUP_COMMIT:
		if (results_reserve(p, 1) == 0)
			apply_group_commit(p, index, data, len);
		break;
	case ENTRY_GROUP_STATE:
		if (results_reserve(p, 1) == 0)
			apply_group_state(p, index, data, len);
		break;
	default:
		gq__log(p->node, GQ_LOG_WARN,
			"partition %s/%d: unknown entry type %u at %llu",
			p->topic->name, p->index, type,
			(unsigned long long)index);
		break;
	}
}

static int
part_snapshot(void *owner, struct gq__buf *manifest)
{
	struct gq__partition *p = owner;
	struct gq__plog_stats s;
	uint8_t b[32];

	/* Our applied index is not Raft's while catching up. */
	if (p->catchup != NULL)
		return GQ_EBUSY;
	gq__plog_stats(p->plog, &s);
	gq__le64_put(b, MANIFEST_VERSION);
	gq__le64_put(b + 8, gq__plog_applied_index(p->plog));
	gq__le64_put(b + 16, (uint64_t)s.log_start);
	gq__le64_put(b + 24, (uint64_t)s.next_offset);
	return gq__buf_append(manifest, b, sizeof(b));
}

static int
part_snapshot_sync(void *owner)
{
	struct gq__partition *p = owner;
	int rv;

	/* Segments first: LMDB must never point at bytes not on disk. */
	if ((rv = gq__plog_sync(p->plog)) != 0)
		return rv;
	return gq__store_sync(p->node->store);
}

static int
part_restore(void *owner, const uint8_t *data, size_t len)
{
	struct gq__partition *p = owner;
	uint64_t applied;
	bool lost;

	if (len < 32 || gq__le64_get(data) != MANIFEST_VERSION)
		return GQ_ECORRUPT;
	applied = gq__le64_get(data + 8);
	if (gq__plog_applied_index(p->plog) >= applied)
		return 0;
	if (p->catchup != NULL) {
		gq__catchup_retarget(p->catchup, applied);
		return 0;
	}
	/* Alone, nobody has the rest: refuse to start rather than serve a
	 * log with a hole. */
	lost = p->route->n_replicas <= 1;
	gq__log(p->node, lost ? GQ_LOG_ERROR : GQ_LOG_INFO,
		"partition %s/%d: stored data (applied %llu) is behind the "
		"Raft snapshot (%llu): %s",
		p->topic->name, p->index,
		(unsigned long long)gq__plog_applied_index(p->plog),
		(unsigned long long)applied,
		lost ? "data was lost from disk"
		     : "copying the rest from another replica");
	if (lost)
		return GQ_ECORRUPT;
	return gq__catchup_create(p, applied, &p->catchup);
}

static void
fail_backlog(struct gq__partition *p, int status)
{
	struct gq__req *req = p->backlog_head;

	p->backlog_head = p->backlog_tail = NULL;
	gq__req_complete_list(req, status);
}

static void
mark_dirty(struct gq__partition *p)
{
	if (!p->dirty) {
		p->dirty = true;
		gq__node_mark_dirty(p->node, p);
	}
}

static void
part_role(void *owner, bool leader, bool failed)
{
	struct gq__partition *p = owner;
	enum part_state prev = p->state;

	if (p->state == PART_CLOSING)
		return;
	if (failed) {
		gq__log(p->node, GQ_LOG_ERROR,
			"partition %s/%d: raft group failed", p->topic->name,
			p->index);
		p->state = PART_WAITING;
		fail_backlog(p, GQ_EIO);
		if (prev == PART_OPENING)
			gq__node_partition_failed(p->node, p->topic, GQ_EIO);
		return;
	}
	p->state = leader && p->catchup == NULL ? PART_SERVING : PART_WAITING;
	if (gq__partition_owns_groups(p))
		gq__coord_role(p->node->coord, p, p->state == PART_SERVING);
	/* Give the preferred replica a moment to connect and catch up. */
	if (leader && prev != PART_SERVING)
		p->rebalance_at = uv_now(p->node->loop) + REBALANCE_FIRST_MS;
	(void)prev;
	if (leader && p->backlog_head != NULL)
		mark_dirty(p);
}

/* Publish the leader this replica sees (for describe, Metadata and the
 * heartbeat); a leader elsewhere gets the produce backlog refused, since
 * it will not be proposed here. */
static void
route_update(struct gq__partition *p)
{
	struct gq__rgroup *g = p->rg;
	uint64_t self = p->node->conf.node_id;
	raft_id id = 0;
	const char *addr = NULL;
	int32_t leader;

	if (!gq__partition_publishes(p))
		return;
	if (g->state >= GQ__RG_FAILED)
		id = 0;
	else if (gq__rgroup_is_leader(g))
		id = self;
	else
		raft_leader(&g->raft, &id, &addr);
	/* Our own election is not a leader until its barrier applied. */
	leader = id == 0 || (id == self &&
			     (!gq__rgroup_is_leader(g) || p->catchup != NULL))
			 ? -1
			 : (int32_t)id;
	if (atomic_load(&p->route->leader) != leader) {
		atomic_store(&p->route->epoch, (int32_t)gq__rgroup_term(g));
		atomic_store(&p->route->leader, leader);
		if (leader > 0 && (uint64_t)leader != self)
			fail_backlog(p, GQ_ENOTLEADER);
	}
}

static const struct gq__rgroup_ops part_ops = {
	.apply = part_apply,
	.snapshot = part_snapshot,
	.snapshot_sync = part_snapshot_sync,
	.restore = part_restore,
	.role = part_role,
};

/* The voters the partition's group was created with: its initial
 * replicas, at the Raft addresses the controller registered.  Only they
 * bootstrap (identically); a replica added later joins empty, and the
 * leader brings it in (membership.h).  A partition whose only replica is
 * this node bootstraps alone, at whatever address the node has. */
static int
voters(struct gq__partition *p, struct gq__rgroup_conf *rc, uint64_t *ids,
       const char **addrs, char *errmsg)
{
	const struct gq__route *r = p->route;
	uint64_t self = p->node->conf.node_id;

	rc->bootstrap = false;
	for (uint8_t i = 0; i < r->n_initial; i++)
		rc->bootstrap |= (uint64_t)r->initial[i] == self;
	if (!rc->bootstrap ||
	    (r->n_initial == 1 && (uint64_t)r->initial[0] == self))
		return 0;
	for (uint8_t i = 0; i < r->n_initial; i++) {
		const struct gq__broker *b =
			gq__node_broker_find(p->node, (uint64_t)r->initial[i]);

		if (b == NULL || b->raft_address[0] == '\0') {
			gq__errmsg_set(errmsg,
				       "partition %s/%d: replica %d is not a "
				       "registered broker with a Raft address",
				       p->topic->name, p->index, r->initial[i]);
			return GQ_ECORRUPT;
		}
		ids[i] = b->id;
		addrs[i] = b->raft_address;
	}
	rc->n_voters = r->n_initial;
	rc->voter_ids = ids;
	rc->voter_addresses = addrs;
	return 0;
}

/* Free the partition object and what it owns in memory. */
static void
partition_free(struct gq__partition *p)
{
	gq__catchup_free(p->catchup);
	gq__membership_free(p->members);
	gq__free(p->dedup);
	gq__free(p->dedup_chain);
	gq__free(p->dedup_heads);
	gq__free(p->producers);
	gq__free(p->touched_producers);
	gq__free(p->touched_slots);
	gq__free(p->results);
	gq__free(p);
}

int
gq__partition_open(struct gq_node *node, struct gq__topic *t, int32_t index,
		   struct gq__partition **out, char *errmsg)
{
	struct gq__partition *p;
	struct gq__plog_conf pc;
	struct gq__plog_recovery rec;
	struct gq__rgroup_conf rc;
	const char *addrs[GQ__REPLICAS_MAX];
	uint64_t ids[GQ__REPLICAS_MAX];
	char path[4300];
	int rv;

	if ((p = gq__calloc(1, sizeof(*p))) == NULL)
		return GQ_ENOMEM;
	p->node = node;
	p->topic = t;
	p->index = index;
	p->uid = gq__part_uid(t, index);
	p->state = PART_OPENING;
	p->route = &t->routes[index];
	if ((p->members = gq__membership_create(p)) == NULL) {
		rv = GQ_ENOMEM;
		goto err_free;
	}
	if ((rv = gq__node_topic_dir(node, t, path, sizeof(path))) != 0)
		goto err_free;
	if ((rv = gq__pathf(p->dir, sizeof(p->dir), "%s/%d", path, index)))
		goto err_free;
	if ((rv = gq__mkdirs(p->dir, errmsg)) != 0)
		goto err_free;
	if (t->conf.dedup_enabled) {
		p->dedup_buckets = 16;
		while (p->dedup_buckets < 2 * t->conf.dedup_window)
			p->dedup_buckets *= 2;
		p->dedup = gq__calloc(t->conf.dedup_window, sizeof(*p->dedup));
		p->dedup_chain = gq__calloc(t->conf.dedup_window,
					    sizeof(*p->dedup_chain));
		p->dedup_heads =
			gq__calloc(p->dedup_buckets, sizeof(*p->dedup_heads));
		if (p->dedup == NULL || p->dedup_chain == NULL ||
		    p->dedup_heads == NULL) {
			rv = GQ_ENOMEM;
			goto err_free;
		}
	}
	pc.segment_size = t->conf.segment_size;
	pc.retention_ms = t->conf.retention_ms;
	pc.retention_bytes = t->conf.retention_bytes;
	snprintf(path, sizeof(path), "%s/segments", p->dir);
	rv = gq__plog_open(node->store, p->uid, path, &pc, &p->plog, &rec,
			   errmsg);
	if (rv != 0)
		goto err_free;
	if (rec.repaired)
		gq__log(node, GQ_LOG_WARN,
			"partition %s/%d: recovered: %llu bytes truncated, "
			"%llu batches dropped (they are replayed from Raft)",
			t->name, index, (unsigned long long)rec.truncated_bytes,
			(unsigned long long)rec.dropped_batches);
	if ((rv = state_load(p)) != 0) {
		gq__errmsg_set(errmsg, "partition %s/%d: producer state: %s",
			       t->name, index, gq_strerror(rv));
		goto err_plog;
	}
	snprintf(path, sizeof(path), "%s/raft", p->dir);
	gq__node_rgroup_conf(node, true, &rc);
	if ((rv = voters(p, &rc, ids, addrs, errmsg)) != 0)
		goto err_plog;
	/* Group ids: the controller is 0, partitions are their uid. */
	rv = gq__rgroup_open(node->loop, path, p->uid, &rc, &part_ops, p,
			     &p->rg, errmsg);
	if (rv != 0)
		goto err_plog;
	*out = p;
	return 0;
err_plog:
	gq__plog_close(p->plog);
err_free:
	partition_free(p);
	return rv;
}

void
gq__partition_enqueue(struct gq__partition *p, struct gq__req *req)
{
	int32_t leader = atomic_load(&p->route->leader);

	if (p->state == PART_CLOSING) {
		gq__req_complete(req, GQ_ECLOSED);
		return;
	}
	if (p->state != PART_SERVING && leader > 0 &&
	    (uint64_t)leader != p->node->conf.node_id) {
		snprintf(req->errmsg, sizeof(req->errmsg),
			 "partition %.200s/%d is led by node %d",
			 p->topic->name, p->index, leader);
		gq__req_complete(req, GQ_ENOTLEADER);
		return;
	}
	req->next = NULL;
	if (p->backlog_tail != NULL)
		p->backlog_tail->next = req;
	else
		p->backlog_head = req;
	p->backlog_tail = req;
	if (p->state == PART_SERVING)
		mark_dirty(p);
}

static void
proposal_done(struct gq__rgroup_req *rreq, int status, void *result)
{
	struct proposal *prop = rreq->data;
	struct gq__partition *p = result;
	struct gq__req *req = prop->reqs;
	size_t i = 0;

	gq__free(prop);
	if (status == 0 && p == NULL)
		status = GQ_EINTERNAL;
	while (req != NULL) {
		struct gq__req *next = req->next;
		int st = status;

		if (st != 0) {
			/* Proposed but not known to be applied. */
			if (st != GQ_ENOSPC)
				st = GQ_EUNKNOWN;
			gq__req_complete(req, st);
		} else if (req->type == GQ__REQ_PRODUCE) {
			uint32_t nb = req->u.produce.n_batches;

			req->u.produce.base_offset = -1;
			for (uint32_t b = 0; b < nb; b++, i++) {
				if (i >= p->n_results) {
					st = GQ_EINTERNAL;
					break;
				}
				if (b == 0)
					req->u.produce.base_offset =
						p->results[i].base_offset;
				if (st == 0)
					st = p->results[i].status;
			}
			gq__req_complete(req, st);
		} else {
			st = i < p->n_results ? p->results[i].status
					      : GQ_EINTERNAL;
			i++;
			gq__req_complete(req, st);
		}
		req = next;
	}
}

/* Bytes a request adds to an entry. */
static size_t
req_entry_size(const struct gq__req *req)
{
	if (req->type == GQ__REQ_PRODUCE)
		return req->u.produce.batches.len +
		       4 * (size_t)req->u.produce.n_batches;
	return 0;
}

static int
encode_commit(const struct gq__req *req, struct gq__buf *out)
{
	size_t gl = strlen(req->u.commit.group);
	size_t tl = strlen(req->topic);
	size_t ml = req->u.commit.metadata ? strlen(req->u.commit.metadata) : 0;
	uint8_t h[16];
	int rv;

	h[0] = (uint8_t)gl;
	h[1] = (uint8_t)(gl >> 8);
	if ((rv = gq__buf_append(out, h, 2)) ||
	    (rv = gq__buf_append(out, req->u.commit.group, gl)))
		return rv;
	h[0] = (uint8_t)tl;
	h[1] = (uint8_t)(tl >> 8);
	if ((rv = gq__buf_append(out, h, 2)) ||
	    (rv = gq__buf_append(out, req->topic, tl)))
		return rv;
	gq__le32_put(h, (uint32_t)req->partition);
	gq__le64_put(h + 4, (uint64_t)req->u.commit.offset);
	gq__le32_put(h + 12, (uint32_t)ml);
	if ((rv = gq__buf_append(out, h, 16)))
		return rv;
	return gq__buf_append(out, req->u.commit.metadata, ml);
}

static void
propose(struct gq__partition *p, uint32_t type, struct gq__req *reqs,
	const uint8_t *body, size_t len)
{
	struct proposal *prop;
	struct raft_buffer buf;
	uint8_t *payload;
	int rv;

	if ((prop = gq__calloc(1, sizeof(*prop))) == NULL) {
		rv = GQ_ENOMEM;
		goto fail;
	}
	if ((payload = gq__rgroup_entry_alloc(len, &buf)) == NULL) {
		gq__free(prop);
		rv = GQ_ENOMEM;
		goto fail;
	}
	memcpy(payload, body, len);
	prop->p = p;
	prop->reqs = reqs;
	prop->rreq.data = prop;
	rv = gq__rgroup_propose(p->rg, &prop->rreq, type, &buf, len,
				proposal_done);
	if (rv == 0)
		return;
	gq__free(prop);
fail:
	gq__req_complete_list(reqs, rv);
}

void
gq__partition_flush(struct gq__partition *p)
{
	struct gq__buf body = GQ__BUF_INIT;

	p->dirty = false;
	while (p->state == PART_SERVING && p->backlog_head != NULL) {
		struct gq__req *first = p->backlog_head;
		struct gq__req *last = first;
		size_t size = req_entry_size(first);
		uint32_t n = 0;
		int rv = 0;

		body.len = 0;
		if (first->type == GQ__REQ_GROUP_COMMIT) {
			/* One commit per entry: they are small and rare; so are
			 * group states, below. */
			p->backlog_head = first->next;
			first->next = NULL;
			if (encode_commit(first, &body) != 0) {
				gq__req_complete(first, GQ_ENOMEM);
				continue;
			}
			propose(p, ENTRY_GROUP_COMMIT, first, body.base,
				body.len);
			continue;
		}
		if (first->type == GQ__REQ_GROUP_STATE) {
			p->backlog_head = first->next;
			first->next = NULL;
			if (gq__buf_put_str16(&body, first->u.state.group) !=
				    0 ||
			    gq__buf_append(&body, first->u.state.data.base,
					   first->u.state.data.len) != 0) {
				gq__req_complete(first, GQ_ENOMEM);
				continue;
			}
			propose(p, ENTRY_GROUP_STATE, first, body.base,
				body.len);
			continue;
		}
		/* Coalesce consecutive produce requests up to the entry
		 * budget; one oversize request still goes alone. */
		while (last->next != NULL &&
		       last->next->type == GQ__REQ_PRODUCE &&
		       size + req_entry_size(last->next) <= GQ__ENTRY_MAX) {
			last = last->next;
			size += req_entry_size(last);
		}
		p->backlog_head = last->next;
		last->next = NULL;
		if (gq__buf_reserve(&body, 4 + size) != 0)
			rv = GQ_ENOMEM;
		body.len = 4;
		for (struct gq__req *r = first; rv == 0 && r != NULL;
		     r = r->next) {
			const uint8_t *b = r->u.produce.batches.base;
			size_t off = 0;

			for (uint32_t i = 0; i < r->u.produce.n_batches; i++) {
				uint32_t bl =
					(uint32_t)(12 +
						   gq__be32_get(b + off + 8));

				gq__le32_put(body.base + body.len, bl);
				memcpy(body.base + body.len + 4, b + off, bl);
				body.len += 4 + bl;
				off += bl;
				n++;
			}
		}
		if (rv != 0) {
			gq__req_complete_list(first, rv);
			continue;
		}
		gq__le32_put(body.base, n);
		propose(p, ENTRY_PRODUCE, first, body.base, body.len);
	}
	if (p->backlog_head == NULL)
		p->backlog_tail = NULL;
	gq__buf_free(&body);
}

/* Leadership goes back to the preferred replica (the first), as Kafka's
 * auto.leader.rebalance does, so leaders stay spread as placed: checked a
 * moment after winning an election, then every leader_rebalance_interval,
 * and only while the preferred replica is alive. */
static void
rebalance(struct gq__partition *p)
{
	struct gq_node *node = p->node;
	uint64_t now = uv_now(node->loop);
	int64_t interval = node->conf.leader_rebalance_interval_ms;
	int32_t preferred = p->route->replicas[0];
	const struct gq__broker *b;
	const struct raft_server *m;
	int rv;

	if (p->state != PART_SERVING || p->route->n_replicas < 2 ||
	    now < p->rebalance_at || (uint64_t)preferred == node->conf.node_id)
		return;
	if (interval <= 0 && !p->move_leader)
		return;
	p->move_leader = false;
	p->rebalance_at = now + (uint64_t)(interval > 0 ? interval : 1000);
	b = gq__node_broker_find(node, (uint64_t)preferred);
	m = gq__rgroup_member(p->rg, (uint64_t)preferred);
	if (b == NULL || !b->alive || m == NULL || m->role != RAFT_VOTER)
		return; /* dead, or still joining (membership.h) */
	rv = gq__rgroup_transfer(p->rg, (uint64_t)preferred);
	gq__log(node, rv == 0 ? GQ_LOG_INFO : GQ_LOG_WARN,
		"partition %s/%d: %s leadership to preferred replica %d%s%s",
		p->topic->name, p->index, rv == 0 ? "handing" : "cannot hand",
		preferred, rv == 0 ? "" : ": ", rv == 0 ? "" : gq_strerror(rv));
}

/* The copied data is in: apply what Raft delivered meanwhile. */
static void
catchup_finish(struct gq__partition *p)
{
	struct gq__catchup *c = p->catchup;
	const struct gq__catchup_entry *e;
	void *result;
	int rv;

	p->catchup = NULL;
	if ((rv = state_load(p)) != 0)
		gq__log(p->node, GQ_LOG_ERROR,
			"partition %s/%d: producer state after catch-up: %s",
			p->topic->name, p->index, gq_strerror(rv));
	while ((e = gq__catchup_next(c)) != NULL)
		part_apply(p, e->index, e->term, e->type, e->data, e->len,
			   &result);
	gq__catchup_free(c);
	if (gq__rgroup_is_leader(p->rg))
		part_role(p, true, false);
}

void
gq__partition_poll(struct gq__partition *p)
{
	gq__rgroup_poll(p->rg);
	if (p->catchup != NULL && p->state != PART_CLOSING &&
	    gq__catchup_step(p->catchup) == 1)
		catchup_finish(p);
	rebalance(p);
	if (p->state != PART_CLOSING) {
		gq__membership_step(p->members);
		route_update(p);
	}
	if (p->read_waiters != NULL)
		gq__read_index_poll(p, &p->read_waiters);
}

void
gq__partition_sync(struct gq__partition *p, struct gq__req *req)
{
	if (p->state == PART_CLOSING) {
		gq__req_complete(req, GQ_ECLOSED);
		return;
	}
	req->ctl.deadline = uv_now(p->node->loop) + req->u.sync.timeout_ms;
	gq__read_index(p, &p->read_waiters, req);
}

struct gq__req *
gq__partition_read_waiters(const struct gq__partition *p)
{
	return p->read_waiters;
}

void
gq__partition_reassigned(struct gq__partition *p)
{
	p->move_leader = true;
	p->rebalance_at = 0;
	gq__membership_kick(p->members);
}

void
gq__partition_leave(struct gq__partition *p)
{
	gq__partition_close(p, true);
}

bool
gq__partition_publishes(const struct gq__partition *p)
{
	return gq__route_has(p->route, p->node->conf.node_id) ||
	       gq__rgroup_is_leader(p->rg);
}

static void
partition_closed(struct gq__rgroup *g)
{
	struct gq__partition *p = g->owner;
	struct gq_node *node = p->node;
	struct gq__topic *t = p->topic;
	int32_t index = p->index;
	bool removed = p->remove_on_close;
	bool leaving = removed && !t->deleting;
	MDB_txn *txn;
	int rv;

	if (removed) {
		rv = gq__store_begin(node->store, true, &txn);
		if (rv == 0 && (rv = gq__plog_remove(p->plog, txn)) == 0)
			rv = gq__store_commit(txn);
		else if (rv == 0 || txn != NULL)
			gq__store_abort(txn);
		if (rv == 0)
			rv = gq__plog_remove_files(p->plog);
		if (rv != 0)
			gq__log(node, GQ_LOG_WARN,
				"partition %s/%d: data not fully removed: %s "
				"(removed at next start)",
				t->name, p->index, gq_strerror(rv));
		else
			gq__rm_rf(p->dir);
	}
	/* A replica that left (its topic lives on): readers stop finding
	 * it before its log goes. */
	if (leaving) {
		pthread_rwlock_wrlock(&node->meta_lock);
		t->parts[index] = NULL;
		pthread_rwlock_unlock(&node->meta_lock);
	}
	gq__node_unmark_dirty(node, p);
	gq__plog_close(p->plog);
	partition_free(p);
	if (removed && !leaving)
		gq__node_partition_removed(node, t);
	gq__node_group_closed(node, g);
	/* Assigned here again while it was leaving. */
	if (leaving && node->state != GQ__NODE_CLOSING)
		gq__topic_open_partition(node, t, index);
}

void
gq__partition_close(struct gq__partition *p, bool remove)
{
	if (p->state == PART_CLOSING)
		return;
	p->state = PART_CLOSING;
	if (gq__partition_owns_groups(p))
		gq__coord_role(p->node->coord, p, false);
	p->remove_on_close = remove;
	gq__catchup_free(p->catchup);
	p->catchup = NULL;
	fail_backlog(p, remove ? GQ_ENOTOPIC : GQ_ECLOSED);
	wake_waiters(p, remove ? GQ_ENOTOPIC : GQ_ECLOSED);
	gq__req_complete_list(p->read_waiters, GQ_ECLOSED);
	p->read_waiters = NULL;
	gq__node_group_closing(p->node, p->rg);
	gq__rgroup_close(p->rg, partition_closed);
}

struct gq__plog *
gq__partition_plog(struct gq__partition *p)
{
	return p->plog;
}

bool
gq__partition_serving(const struct gq__partition *p)
{
	return p->state == PART_SERVING;
}

void
gq__partition_request_snapshot(struct gq__partition *p)
{
	gq__rgroup_request_snapshot(p->rg);
}

int32_t
gq__partition_leader(struct gq__partition *p)
{
	return atomic_load(&p->route->leader);
}

struct gq_node *
gq__partition_node(const struct gq__partition *p)
{
	return p->node;
}

struct gq__topic *
gq__partition_topic(const struct gq__partition *p)
{
	return p->topic;
}

int32_t
gq__partition_index(const struct gq__partition *p)
{
	return p->index;
}

uint64_t
gq__partition_uid(const struct gq__partition *p)
{
	return p->uid;
}

struct gq__rgroup *
gq__partition_rgroup(const struct gq__partition *p)
{
	return p->rg;
}

const struct gq__route *
gq__partition_route(const struct gq__partition *p)
{
	return p->route;
}

bool
gq__partition_owns_groups(const struct gq__partition *p)
{
	return strcmp(p->topic->name, GQ__OFFSETS_TOPIC) == 0;
}

bool
gq__partition_catching_up(const struct gq__partition *p)
{
	return p->catchup != NULL;
}
