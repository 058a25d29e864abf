/* SPDX-License-Identifier: MIT */
/*
 * rgroup.c - one Raft group over rio.c with the 0.15.0 workarounds listed
 * in rgroup.h.  Invariants: the owner's apply runs only for well-formed
 * entries; `inflight` counts proposals and the leadership barrier, so a
 * close never starts while raft still owns a request of ours.
 */
#include "rgroup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "heap.h"
#include "rio.h"
#include "transport.h"

/* Entries above the budget force a snapshot; below it, snapshots happen
 * after this many entries, so small entries do not cost one each. */
#define SNAPSHOT_THRESHOLD          1024
#define SNAPSHOT_TRAILING           16
#define INSTALL_SNAPSHOT_TIMEOUT_MS 2000
/* A dead peer is dialled again this often. */
#define CONNECT_RETRY_MS 500
/* libraft 0.15 puts every entry a follower misses into one AppendEntries:
 * up to the snapshot budget plus one largest batch.  The frame's own CRC
 * vouches for the length before anything that size is allocated. */
#define MAX_MESSAGE (1024u << 20)

static size_t
pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

uint8_t *
gq__rgroup_entry_alloc(size_t payload_len, struct raft_buffer *buf)
{
	size_t len = pad8(GQ__ENTRY_HEADER + payload_len);

	buf->base = raft_malloc(len);
	if (buf->base == NULL)
		return NULL;
	buf->len = len;
	return (uint8_t *)buf->base + GQ__ENTRY_HEADER;
}

static int
fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
	struct gq__rgroup *g = fsm->data;
	/* 0.15.0 updates last_applied after apply: this is the entry's index.
	 */
	uint64_t index = g->raft.last_applied + 1;
	const uint8_t *p = buf->base;
	uint32_t len;

	*result = NULL;
	if (buf->len < GQ__ENTRY_HEADER)
		return 0;
	len = gq__le32_get(p);
	if (len > buf->len - GQ__ENTRY_HEADER)
		return 0; /* not ours or damaged: skipping beats wedging */
	g->bytes_since_snap += buf->len;
	if (g->bytes_since_snap >= g->snapshot_budget)
		raft_set_snapshot_threshold(&g->raft, 1);
	g->ops->apply(g->owner, index, g->raft.current_term,
		      gq__le32_get(p + 4), p + GQ__ENTRY_HEADER, len, result);
	return 0;
}

static int
fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n)
{
	struct gq__rgroup *g = fsm->data;
	struct gq__buf manifest = GQ__BUF_INIT;
	struct raft_buffer *b;

	if (g->ops->snapshot(g->owner, &manifest) != 0)
		goto err;
	if ((b = raft_malloc(sizeof(*b))) == NULL)
		goto err;
	b->len = pad8(manifest.len == 0 ? 8 : manifest.len);
	if ((b->base = raft_calloc(1, b->len)) == NULL) {
		raft_free(b);
		goto err;
	}
	memcpy(b->base, manifest.base, manifest.len);
	gq__buf_free(&manifest);
	*bufs = b;
	*n = 1;
	g->bytes_since_snap = 0;
	raft_set_snapshot_threshold(&g->raft, g->threshold);
	return 0;
err:
	/* Out of memory is transient: RAFT_BUSY skips this round and raft
	 * tries again after later entries. */
	gq__buf_free(&manifest);
	return RAFT_BUSY;
}

static int
fsm_snapshot_async(struct raft_fsm *fsm, struct raft_buffer *bufs[],
		   unsigned *n)
{
	struct gq__rgroup *g = fsm->data;

	(void)bufs;
	(void)n;
	return g->ops->snapshot_sync(g->owner) == 0 ? 0 : RAFT_IOERR;
}

static int
fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[],
		      unsigned *n)
{
	(void)fsm;
	if (*bufs != NULL) {
		for (unsigned i = 0; i < *n; i++)
			raft_free((*bufs)[i].base);
		raft_free(*bufs);
	}
	*bufs = NULL;
	*n = 0;
	return 0;
}

static int
fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct gq__rgroup *g = fsm->data;
	int rv;

	rv = g->ops->restore(g->owner, buf->base, buf->len);
	if (rv != 0)
		return RAFT_CORRUPT;
	raft_free(buf->base);
	return 0;
}

static void
raft_closed(struct raft *r)
{
	struct gq__rgroup *g = r->data;

	gq__rio_close(&g->io);
	gq__transport_close(&g->transport);
	g->state = GQ__RG_CLOSED;
	if (g->close_cb != NULL)
		g->close_cb(g);
	gq__free(g);
}

static int
make_dir(const char *dir, char *errmsg)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		gq__errmsg_set(errmsg, "cannot create %s: %s", dir,
			       strerror(errno));
		return gq__err_from_errno(errno);
	}
	return 0;
}

static int
bootstrap(struct gq__rgroup *g, const struct gq__rgroup_conf *conf)
{
	struct raft_configuration c;
	int rv;

	raft_configuration_init(&c);
	if (conf->n_voters == 0)
		rv = raft_configuration_add(&c, conf->node_id, conf->address,
					    RAFT_VOTER);
	else
		rv = 0;
	/* Every initial replica must bootstrap with a byte-identical
	 * configuration: same ids, addresses and order. */
	for (unsigned i = 0; rv == 0 && i < conf->n_voters; i++)
		rv = raft_configuration_add(&c, conf->voter_ids[i],
					    conf->voter_addresses[i],
					    RAFT_VOTER);
	if (rv == 0)
		rv = raft_bootstrap(&g->raft, &c);
	raft_configuration_close(&c);
	return rv == RAFT_CANTBOOTSTRAP ? 0 : rv; /* already bootstrapped */
}

int
gq__rgroup_open(uv_loop_t *loop, const char *dir, uint64_t group_id,
		const struct gq__rgroup_conf *conf,
		const struct gq__rgroup_ops *ops, void *owner,
		struct gq__rgroup **out, char *errmsg)
{
	struct gq__rio_opts rio = {
		.segment_size = conf->raft_segment_size,
		.fsync = conf->raft_fsync,
		.connect_retry_ms = CONNECT_RETRY_MS,
		.max_message = MAX_MESSAGE,
	};
	struct gq__rgroup *g;
	int rv;

	if ((rv = make_dir(dir, errmsg)) != 0)
		return rv;
	if ((g = gq__calloc(1, sizeof(*g))) == NULL)
		return GQ_ENOMEM;
	g->id = group_id;
	g->loop = loop;
	g->ops = ops;
	g->owner = owner;
	g->state = GQ__RG_OPENING;
	g->threshold = SNAPSHOT_THRESHOLD;
	g->snapshot_budget = conf->snapshot_budget;
	if ((rv = gq__transport_init(&g->transport, conf->hub, group_id)) != 0)
		goto err_free;
	if ((rv = gq__rio_init(&g->io, loop, dir, &g->transport, &rio)) != 0)
		goto err_transport;
	g->fsm.version = 3;
	g->fsm.data = g;
	g->fsm.apply = fsm_apply;
	g->fsm.snapshot = fsm_snapshot;
	g->fsm.restore = fsm_restore;
	g->fsm.snapshot_finalize = fsm_snapshot_finalize;
	g->fsm.snapshot_async = fsm_snapshot_async;
	if ((rv = raft_init(&g->raft, &g->io, &g->fsm, conf->node_id,
			    conf->address)) != 0) {
		gq__errmsg_set(errmsg, "raft group %llu in %s: %s",
			       (unsigned long long)group_id, dir,
			       raft_errmsg(&g->raft));
		goto err_io;
	}
	g->raft.data = g;
	raft_set_election_timeout(&g->raft, conf->election_ms);
	raft_set_heartbeat_timeout(&g->raft, conf->heartbeat_ms);
	raft_set_pre_vote(&g->raft, true);
	raft_set_snapshot_threshold(&g->raft, g->threshold);
	raft_set_snapshot_trailing(&g->raft, SNAPSHOT_TRAILING);
	/* Snapshots are manifests of a few dozen bytes: resending a lost
	 * InstallSnapshot soon costs nothing, waiting 30 s stalls a replica. */
	raft_set_install_snapshot_timeout(&g->raft,
					  INSTALL_SNAPSHOT_TIMEOUT_MS);
	if (conf->bootstrap && (rv = bootstrap(g, conf)) != 0) {
		gq__errmsg_set(errmsg, "bootstrap of raft group %llu: %s",
			       (unsigned long long)group_id, raft_strerror(rv));
		goto err_raft;
	}
	if ((rv = raft_start(&g->raft)) != 0) {
		gq__errmsg_set(errmsg, "start of raft group %llu in %s: %s",
			       (unsigned long long)group_id, dir,
			       raft_errmsg(&g->raft));
		goto err_raft;
	}
	g->state = GQ__RG_FOLLOWER;
	*out = g;
	return 0;
err_raft:
	/* raft_init succeeded: only raft_close may release it, and the
	 * memory goes once its callback ran. */
	g->state = GQ__RG_CLOSING;
	raft_close(&g->raft, raft_closed);
	return gq__err_from_raft(rv);
err_io:
	gq__rio_close(&g->io);
err_transport:
	gq__transport_close(&g->transport);
err_free:
	gq__free(g);
	return rv < 0 ? rv : gq__err_from_raft(rv);
}

static void
apply_done(struct raft_apply *raft_req, int status, void *result)
{
	struct gq__rgroup_req *req = raft_req->data;
	struct gq__rgroup *g = req->g;

	g->inflight--;
	req->cb(req, gq__err_from_raft(status), result);
}

int
gq__rgroup_propose(struct gq__rgroup *g, struct gq__rgroup_req *req,
		   uint32_t type, struct raft_buffer *buf, size_t payload_len,
		   void (*cb)(struct gq__rgroup_req *, int, void *))
{
	uint8_t *p = buf->base;
	int rv;

	if (g->state != GQ__RG_LEADER) {
		raft_free(buf->base);
		return g->state >= GQ__RG_FAILED ? GQ_ECLOSED : GQ_ENOTLEADER;
	}
	gq__le32_put(p, (uint32_t)payload_len);
	gq__le32_put(p + 4, type);
	/* Padding bytes go to disk and to followers: make them defined. */
	memset(p + GQ__ENTRY_HEADER + payload_len, 0,
	       buf->len - GQ__ENTRY_HEADER - payload_len);
	req->g = g;
	req->cb = cb;
	req->raft.data = req;
	rv = raft_apply(&g->raft, &req->raft, buf, 1, apply_done);
	if (rv != 0) {
		raft_free(buf->base);
		return gq__err_from_raft(rv);
	}
	g->inflight++;
	return 0;
}

static void
read_barrier_done(struct raft_barrier *raft_req, int status)
{
	struct gq__rgroup_barrier *b = raft_req->data;

	b->g->inflight--;
	b->cb(b, status == RAFT_LEADERSHIPLOST || status == RAFT_NOTLEADER
			 ? GQ_ENOTLEADER
			 : gq__err_from_raft(status));
}

int
gq__rgroup_read_barrier(struct gq__rgroup *g, struct gq__rgroup_barrier *b,
			void (*cb)(struct gq__rgroup_barrier *, int))
{
	int rv;

	if (g->state != GQ__RG_LEADER)
		return g->state >= GQ__RG_FAILED ? GQ_ECLOSED : GQ_ENOTLEADER;
	b->g = g;
	b->cb = cb;
	b->raft.data = b;
	if ((rv = raft_barrier(&g->raft, &b->raft, read_barrier_done)) != 0)
		return gq__err_from_raft(rv);
	g->inflight++;
	return 0;
}

static void
barrier_done(struct raft_barrier *b, int status)
{
	struct gq__rgroup *g = b->data;

	g->inflight--;
	g->barrier_pending = false;
	if (g->state != GQ__RG_BARRIER)
		return;
	if (status == 0 && raft_state(&g->raft) == RAFT_LEADER) {
		g->state = GQ__RG_LEADER;
		g->ops->role(g->owner, true, false);
	} else {
		g->state = GQ__RG_FOLLOWER; /* the next poll retries */
	}
}

static void
poll_role(struct gq__rgroup *g)
{
	int st = raft_state(&g->raft);

	if (st == RAFT_UNAVAILABLE) {
		g->state = GQ__RG_FAILED;
		g->ops->role(g->owner, false, true);
		return;
	}
	if (st == RAFT_LEADER) {
		if (g->state != GQ__RG_FOLLOWER || g->barrier_pending)
			return;
		g->barrier.data = g;
		if (raft_barrier(&g->raft, &g->barrier, barrier_done) == 0) {
			g->inflight++;
			g->barrier_pending = true;
			g->state = GQ__RG_BARRIER;
		}
		return;
	}
	if (g->state == GQ__RG_LEADER) {
		g->state = GQ__RG_FOLLOWER;
		g->ops->role(g->owner, false, false);
	} else if (g->state == GQ__RG_BARRIER) {
		g->state = GQ__RG_FOLLOWER;
	}
}

void
gq__rgroup_poll(struct gq__rgroup *g)
{
	switch (g->state) {
	case GQ__RG_FOLLOWER:
	case GQ__RG_BARRIER:
	case GQ__RG_LEADER:
		poll_role(g);
		break;
	case GQ__RG_DRAINING:
		/* raft_close() with appends still queued corrupts the heap in
		 * 0.15.0: wait until every entry reached the disk. */
		if (g->inflight == 0 &&
		    g->raft.last_stored == raft_last_index(&g->raft)) {
			g->state = GQ__RG_CLOSING;
			raft_close(&g->raft, raft_closed);
		}
		break;
	default:
		break;
	}
}

bool
gq__rgroup_is_leader(const struct gq__rgroup *g)
{
	return g->state == GQ__RG_LEADER;
}

void
gq__rgroup_request_snapshot(struct gq__rgroup *g)
{
	if (g->bytes_since_snap > 0 && g->state <= GQ__RG_LEADER)
		raft_set_snapshot_threshold(&g->raft, 1);
}

uint64_t
gq__rgroup_term(const struct gq__rgroup *g)
{
	return g->raft.current_term;
}

/* raft calls this when the new leader is known, the transfer expired
 * (one election timeout), or the group closes. */
static void
transfer_done(struct raft_transfer *t)
{
	struct gq__rgroup *g = t->data;

	g->transfer_pending = false;
}

int
gq__rgroup_transfer(struct gq__rgroup *g, uint64_t to)
{
	int rv;

	if (g->state != GQ__RG_LEADER)
		return GQ_ENOTLEADER;
	if (g->transfer_pending)
		return GQ_EBUSY;
	g->transfer.data = g;
	rv = raft_transfer(&g->raft, &g->transfer, to, transfer_done);
	if (rv == RAFT_BADID || rv == RAFT_NOTFOUND)
		return GQ_EINVAL;
	if (rv != 0)
		return gq__err_from_raft(rv);
	g->transfer_pending = true;
	return 0;
}

/* raft calls this when the configuration entry committed, a promotion
 * gave up (RAFT_NOCONNECTION), or leadership was lost. */
static void
change_done(struct raft_change *req, int status)
{
	struct gq__rgroup *g = req->data;

	g->change_pending = false;
	g->change_status = status == RAFT_NOCONNECTION
				   ? GQ_ETIMEDOUT
				   : gq__err_from_raft(status);
}

int
gq__rgroup_change(struct gq__rgroup *g, enum gq__member_op op, uint64_t id,
		  const char *address, int role)
{
	int rv;

	if (g->state != GQ__RG_LEADER)
		return GQ_ENOTLEADER;
	if (g->change_pending || g->transfer_pending)
		return GQ_EBUSY;
	g->change.data = g;
	switch (op) {
	case GQ__MEMBER_ADD:
		rv = raft_add(&g->raft, &g->change, id, address, change_done);
		break;
	case GQ__MEMBER_ASSIGN:
		rv = raft_assign(&g->raft, &g->change, id, role, change_done);
		break;
	case GQ__MEMBER_REMOVE:
		rv = raft_remove(&g->raft, &g->change, id, change_done);
		break;
	default:
		return GQ_EINVAL;
	}
	switch (rv) {
	case 0:
		g->change_pending = true;
		return 0;
	case RAFT_CANTCHANGE:
		return GQ_EBUSY;
	case RAFT_BADID:
	case RAFT_NOTFOUND:
	case RAFT_BADROLE:
	case RAFT_DUPLICATEID:
	case RAFT_DUPLICATEADDRESS:
		return GQ_EINVAL;
	default:
		return gq__err_from_raft(rv);
	}
}

const struct raft_server *
gq__rgroup_member(const struct gq__rgroup *g, uint64_t id)
{
	const struct raft_configuration *c = &g->raft.configuration;

	for (unsigned i = 0; i < c->n; i++)
		if (c->servers[i].id == id)
			return &c->servers[i];
	return NULL;
}

void
gq__rgroup_close(struct gq__rgroup *g, void (*cb)(struct gq__rgroup *))
{
	enum gq__rgroup_state prev = g->state;

	if (prev >= GQ__RG_DRAINING)
		return;
	g->close_cb = cb;
	if (prev == GQ__RG_FAILED) {
		/* An unavailable instance never persists again: nothing to
		 * drain, and waiting would hang. */
		g->state = GQ__RG_CLOSING;
		raft_close(&g->raft, raft_closed);
		return;
	}
	g->state = GQ__RG_DRAINING;
	gq__rgroup_poll(g);
}
