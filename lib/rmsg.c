/* SPDX-License-Identifier: MIT */
/*
 * rmsg.c - goqueue's framing of Raft messages (the format is in rmsg.h).
 *
 * The encoder copies nothing but the header: entry data and snapshot data
 * go to uv_write() from the caller's memory, and the frame CRC is computed
 * over them in place.  The reader keeps these invariants between calls:
 *
 *   - stage[start, end) holds received bytes not yet delivered; the first
 *     of them begin a frame.  After consume returns, end < cap, so alloc
 *     always has room to offer.
 *   - payload != NULL only in the direct state: stage[start, end) is then
 *     exactly the prefix and header of the current frame (already
 *     validated), got < P payload bytes have arrived, and crc covers the
 *     header and those bytes.  Reads go to payload + got.
 *   - failed != 0 after an error; nothing is decoded after that.
 */
#include "rmsg.h"

#include <assert.h>
#include <string.h>

#include "buf.h"
#include "crc32c.h"
#include "error.h"
#include "heap.h"
#include "rconf.h"

/* Bytes of the fixed fields of each header. */
#define AE_FIXED    36 /* 4 x u64 + u32 n */
#define AE_ENTRY    13 /* u64 term, u8 type, u32 length */
#define AER_SIZE    24
#define RV_SIZE     34
#define RVR_SIZE    10
#define IS_FIXED    32 /* before the configuration */
#define TN_SIZE     24
#define CONF_MIN    4 /* an empty configuration: its u32 count */
#define ENTRY_MAX   UINT32_MAX
#define ENTRIES_MAX ((GQ__RMSG_HEADER_MAX - AE_FIXED) / AE_ENTRY)

/* Compact the staging buffer when less than this is free at its end, so
 * that a stream of small reads does not shrink each read further. */
#define READ_MIN 4096

/* What the prefix of the current frame says. */
struct frame {
	unsigned type;
	uint32_t hlen;
	uint64_t plen;
	uint32_t crc;
};

static bool
entry_type_ok(unsigned type)
{
	return type == RAFT_COMMAND || type == RAFT_BARRIER ||
	       type == RAFT_CHANGE;
}

/* --- encoding ------------------------------------------------------------ */

/* Check what the wire cannot carry, and count the payload buffers. */
static int
encode_check(const struct raft_message *m, unsigned *n_bufs)
{
	const struct raft_append_entries *ae = &m->append_entries;

	*n_bufs = 1;
	switch (m->type) {
	case RAFT_IO_APPEND_ENTRIES:
		if (ae->n_entries > ENTRIES_MAX ||
		    (ae->n_entries > 0 && ae->entries == NULL))
			return GQ_EINVAL;
		for (unsigned i = 0; i < ae->n_entries; i++) {
			const struct raft_entry *e = &ae->entries[i];

			if (e->buf.len > ENTRY_MAX ||
			    (e->buf.len > 0 && e->buf.base == NULL) ||
			    !entry_type_ok(e->type))
				return GQ_EINVAL;
			/* Empty entries get no uv_buf_t of their own. */
			if (e->buf.len > 0)
				(*n_bufs)++;
		}
		return 0;
	case RAFT_IO_REQUEST_VOTE_RESULT:
		if ((unsigned)m->request_vote_result.pre_vote >
		    raft_tribool_false)
			return GQ_EINVAL;
		return 0;
	case RAFT_IO_INSTALL_SNAPSHOT:
		if (m->install_snapshot.data.len > 0) {
			if (m->install_snapshot.data.base == NULL)
				return GQ_EINVAL;
			(*n_bufs)++;
		}
		return 0;
	case RAFT_IO_APPEND_ENTRIES_RESULT:
	case RAFT_IO_REQUEST_VOTE:
	case RAFT_IO_TIMEOUT_NOW:
		return 0;
	default:
		return GQ_EINVAL;
	}
}

/* Append the header of @m to @b.  0, GQ_ENOMEM or GQ_EINVAL (from the
 * configuration encoder). */
static int
encode_header(const struct raft_message *m, struct gq__buf *b)
{
	const struct raft_append_entries *ae = &m->append_entries;
	const struct raft_install_snapshot *is = &m->install_snapshot;
	int rv = 0;

	switch (m->type) {
	case RAFT_IO_APPEND_ENTRIES:
		rv |= gq__buf_put_le64(b, ae->term);
		rv |= gq__buf_put_le64(b, ae->prev_log_index);
		rv |= gq__buf_put_le64(b, ae->prev_log_term);
		rv |= gq__buf_put_le64(b, ae->leader_commit);
		rv |= gq__buf_put_le32(b, ae->n_entries);
		for (unsigned i = 0; i < ae->n_entries; i++) {
			const struct raft_entry *e = &ae->entries[i];

			rv |= gq__buf_put_le64(b, e->term);
			rv |= gq__buf_put_u8(b, (uint8_t)e->type);
			rv |= gq__buf_put_le32(b, (uint32_t)e->buf.len);
		}
		return rv;
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		rv |= gq__buf_put_le64(b, m->append_entries_result.term);
		rv |= gq__buf_put_le64(b, m->append_entries_result.rejected);
		rv |= gq__buf_put_le64(b,
				       m->append_entries_result.last_log_index);
		return rv;
	case RAFT_IO_REQUEST_VOTE:
		rv |= gq__buf_put_le64(b, m->request_vote.term);
		rv |= gq__buf_put_le64(b, m->request_vote.candidate_id);
		rv |= gq__buf_put_le64(b, m->request_vote.last_log_index);
		rv |= gq__buf_put_le64(b, m->request_vote.last_log_term);
		rv |= gq__buf_put_u8(b, m->request_vote.disrupt_leader ? 1 : 0);
		rv |= gq__buf_put_u8(b, m->request_vote.pre_vote ? 1 : 0);
		return rv;
	case RAFT_IO_REQUEST_VOTE_RESULT:
		rv |= gq__buf_put_le64(b, m->request_vote_result.term);
		rv |= gq__buf_put_u8(
			b, m->request_vote_result.vote_granted ? 1 : 0);
		rv |= gq__buf_put_u8(b,
				     (uint8_t)m->request_vote_result.pre_vote);
		return rv;
	case RAFT_IO_INSTALL_SNAPSHOT:
		rv |= gq__buf_put_le64(b, is->term);
		rv |= gq__buf_put_le64(b, is->last_index);
		rv |= gq__buf_put_le64(b, is->last_term);
		rv |= gq__buf_put_le64(b, is->conf_index);
		if (rv != 0)
			return rv;
		/* GQ_EINVAL and GQ_ENOMEM must stay apart here. */
		return gq__rconf_encode(&is->conf, b);
	case RAFT_IO_TIMEOUT_NOW:
		rv |= gq__buf_put_le64(b, m->timeout_now.term);
		rv |= gq__buf_put_le64(b, m->timeout_now.last_log_index);
		rv |= gq__buf_put_le64(b, m->timeout_now.last_log_term);
		return rv;
	default:
		return GQ_EINVAL;
	}
}

int
gq__rmsg_encode(const struct raft_message *m, struct gq__rmsg_out *out)
{
	struct gq__buf b = GQ__BUF_INIT;
	const struct raft_append_entries *ae = &m->append_entries;
	uv_buf_t *bufs;
	uint8_t *head;
	size_t off, hlen, hint;
	uint64_t plen = 0;
	uint32_t crc;
	unsigned n_bufs, k;
	int rv;

	out->bufs = NULL;
	out->n = 0;
	if ((rv = encode_check(m, &n_bufs)) != 0)
		return rv;
	/* One allocation holds the uv_buf_t array and then the prefix and
	 * header: the array is written last, once the buffer stops moving.
	 * malloc's alignment suits uv_buf_t, and off keeps it. */
	off = (size_t)n_bufs * sizeof(uv_buf_t);
	hint = m->type == RAFT_IO_APPEND_ENTRIES
		       ? AE_FIXED + (size_t)ae->n_entries * AE_ENTRY
		       : 64;
	if ((rv = gq__buf_reserve(&b, off + GQ__RMSG_PREFIX + hint)) != 0)
		return rv;
	memset(b.base, 0, off + GQ__RMSG_PREFIX);
	b.len = off + GQ__RMSG_PREFIX;
	if ((rv = encode_header(m, &b)) != 0)
		goto err;
	hlen = b.len - off - GQ__RMSG_PREFIX;
	if (hlen > GQ__RMSG_HEADER_MAX) {
		rv = GQ_EINVAL;
		goto err;
	}
	head = b.base + off;
	bufs = (uv_buf_t *)(void *)b.base;

	crc = gq__crc32c(0, head + GQ__RMSG_PREFIX, hlen);
	bufs[0].base = (char *)head;
	bufs[0].len = GQ__RMSG_PREFIX + hlen;
	k = 1;
	if (m->type == RAFT_IO_APPEND_ENTRIES) {
		for (unsigned i = 0; i < ae->n_entries; i++) {
			const struct raft_buffer *eb = &ae->entries[i].buf;

			if (eb->len == 0)
				continue;
			crc = gq__crc32c(crc, eb->base, eb->len);
			plen += eb->len;
			bufs[k].base = eb->base;
			bufs[k].len = eb->len;
			k++;
		}
	} else if (m->type == RAFT_IO_INSTALL_SNAPSHOT &&
		   m->install_snapshot.data.len > 0) {
		const struct raft_buffer *d = &m->install_snapshot.data;

		crc = gq__crc32c(crc, d->base, d->len);
		plen = d->len;
		bufs[k].base = d->base;
		bufs[k].len = d->len;
		k++;
	}
	assert(k == n_bufs);

	gq__le32_put(head, GQ__RMSG_MAGIC);
	head[4] = (uint8_t)m->type;
	head[5] = (uint8_t)(m->type >> 8);
	/* head[6..7], reserved, are already zero. */
	gq__le32_put(head + 8, (uint32_t)hlen);
	gq__le64_put(head + 12, plen);
	gq__le32_put(head + 20, crc);
	gq__le32_put(head + 24, gq__crc32c(0, head, 24));

	out->bufs = bufs;
	out->n = n_bufs;
	return 0;
err:
	gq__buf_free(&b);
	return rv;
}

void
gq__rmsg_out_free(struct gq__rmsg_out *out)
{
	/* bufs is the start of the one allocation encode made. */
	gq__free(out->bufs);
	out->bufs = NULL;
	out->n = 0;
}

/* --- decoding ------------------------------------------------------------ */

/* Read and check a prefix; the type-specific length rules are checked
 * here too, so that no payload is allocated for a frame already known to
 * be malformed. */
static int
prefix_parse(const struct gq__rmsg_reader *r, const uint8_t *p, struct frame *f)
{
	if (gq__crc32c(0, p, 24) != gq__le32_get(p + 24) ||
	    gq__le32_get(p) != GQ__RMSG_MAGIC || p[6] != 0 || p[7] != 0)
		return GQ_ECORRUPT;
	f->type = (unsigned)(p[4] | p[5] << 8);
	f->hlen = gq__le32_get(p + 8);
	f->plen = gq__le64_get(p + 12);
	f->crc = gq__le32_get(p + 20);
	if (f->hlen > GQ__RMSG_HEADER_MAX || f->plen > r->max_payload)
		return GQ_ECORRUPT;
	switch (f->type) {
	case RAFT_IO_APPEND_ENTRIES:
		if (f->hlen < AE_FIXED || (f->hlen - AE_FIXED) % AE_ENTRY != 0)
			return GQ_ECORRUPT;
		return 0;
	case RAFT_IO_INSTALL_SNAPSHOT:
		return f->hlen < IS_FIXED + CONF_MIN ? GQ_ECORRUPT : 0;
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		return f->hlen != AER_SIZE || f->plen != 0 ? GQ_ECORRUPT : 0;
	case RAFT_IO_REQUEST_VOTE:
		return f->hlen != RV_SIZE || f->plen != 0 ? GQ_ECORRUPT : 0;
	case RAFT_IO_REQUEST_VOTE_RESULT:
		return f->hlen != RVR_SIZE || f->plen != 0 ? GQ_ECORRUPT : 0;
	case RAFT_IO_TIMEOUT_NOW:
		return f->hlen != TN_SIZE || f->plen != 0 ? GQ_ECORRUPT : 0;
	default:
		return GQ_ECORRUPT;
	}
}

/* Check an AppendEntries entry table against the frame before any
 * payload is allocated: the count must match H, the types be known, and
 * the lengths add up to P. */
static int
entries_check(const struct frame *f, const uint8_t *hdr)
{
	uint32_t n = gq__le32_get(hdr + 32);
	uint64_t sum = 0;
	const uint8_t *e;

	if (n != (f->hlen - AE_FIXED) / AE_ENTRY)
		return GQ_ECORRUPT;
	for (uint32_t i = 0; i < n; i++) {
		e = hdr + AE_FIXED + (size_t)i * AE_ENTRY;
		if (!entry_type_ok(e[8]))
			return GQ_ECORRUPT;
		/* No overflow: n < 2^17 lengths of < 2^32 each. */
		sum += gq__le32_get(e + 9);
	}
	return sum == f->plen ? 0 : GQ_ECORRUPT;
}

/* Whether a frame of this shape delivers a payload buffer.  AppendEntries
 * with entries needs a batch even when every entry is empty, because
 * libraft (entryBatchesDestroy) asserts that .batch is set. */
static bool
has_payload(const struct frame *f, const uint8_t *hdr)
{
	if (f->type == RAFT_IO_INSTALL_SNAPSHOT)
		return true;
	return f->type == RAFT_IO_APPEND_ENTRIES && gq__le32_get(hdr + 32) > 0;
}

static bool
rd_bool(struct gq__rd *rd)
{
	uint8_t v = gq__rd_u8(rd);

	if (v > 1)
		rd->bad = true;
	return v == 1;
}

/*
 * Build @m from a checked frame: @hdr holds its header, @payload (owned,
 * raft_malloc'd, or NULL when has_payload() is false) its payload, whose
 * CRC has been verified.  On success @m owns @payload; on failure
 * everything, @payload included, is freed.
 */
static int
decode(const struct frame *f, const uint8_t *hdr, uint8_t *payload,
       struct raft_message *m)
{
	struct gq__rd rd = gq__rd_init(hdr, f->hlen);
	struct raft_append_entries *ae = &m->append_entries;
	struct raft_install_snapshot *is = &m->install_snapshot;
	struct raft_request_vote_result *rvr = &m->request_vote_result;
	size_t pos = 0;
	int rv;

	memset(m, 0, sizeof(*m));
	m->type = (unsigned short)f->type;
	switch (f->type) {
	case RAFT_IO_APPEND_ENTRIES:
		ae->term = gq__rd_le64(&rd);
		ae->prev_log_index = gq__rd_le64(&rd);
		ae->prev_log_term = gq__rd_le64(&rd);
		ae->leader_commit = gq__rd_le64(&rd);
		ae->n_entries = gq__rd_le32(&rd);
		if (ae->n_entries == 0)
			break;
		ae->entries = raft_malloc(ae->n_entries * sizeof(*ae->entries));
		if (ae->entries == NULL) {
			raft_free(payload);
			return GQ_ENOMEM;
		}
		for (unsigned i = 0; i < ae->n_entries; i++) {
			struct raft_entry *e = &ae->entries[i];

			e->term = gq__rd_le64(&rd);
			e->type = gq__rd_u8(&rd);
			e->buf.len = gq__rd_le32(&rd);
			e->buf.base = e->buf.len > 0 ? payload + pos : NULL;
			e->batch = payload;
			pos += e->buf.len;
		}
		break;
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		m->append_entries_result.term = gq__rd_le64(&rd);
		m->append_entries_result.rejected = gq__rd_le64(&rd);
		m->append_entries_result.last_log_index = gq__rd_le64(&rd);
		break;
	case RAFT_IO_REQUEST_VOTE:
		m->request_vote.term = gq__rd_le64(&rd);
		m->request_vote.candidate_id = gq__rd_le64(&rd);
		m->request_vote.last_log_index = gq__rd_le64(&rd);
		m->request_vote.last_log_term = gq__rd_le64(&rd);
		m->request_vote.disrupt_leader = rd_bool(&rd);
		m->request_vote.pre_vote = rd_bool(&rd);
		break;
	case RAFT_IO_REQUEST_VOTE_RESULT:
		rvr->term = gq__rd_le64(&rd);
		rvr->vote_granted = rd_bool(&rd);
		rvr->pre_vote = (raft_tribool)gq__rd_u8(&rd);
		if ((unsigned)rvr->pre_vote > raft_tribool_false)
			rd.bad = true;
		break;
	case RAFT_IO_INSTALL_SNAPSHOT:
		is->term = gq__rd_le64(&rd);
		is->last_index = gq__rd_le64(&rd);
		is->last_term = gq__rd_le64(&rd);
		is->conf_index = gq__rd_le64(&rd);
		if ((rv = gq__rconf_decode(&rd, &is->conf)) != 0) {
			raft_free(payload);
			return rv;
		}
		is->data.base = payload;
		is->data.len = (size_t)f->plen;
		break;
	case RAFT_IO_TIMEOUT_NOW:
		m->timeout_now.term = gq__rd_le64(&rd);
		m->timeout_now.last_log_index = gq__rd_le64(&rd);
		m->timeout_now.last_log_term = gq__rd_le64(&rd);
		break;
	default:
		rd.bad = true;
		break;
	}
	if (rd.bad || rd.left != 0)
		goto corrupt;
	return 0;
corrupt:
	if (f->type == RAFT_IO_APPEND_ENTRIES)
		raft_free(ae->entries);
	else if (f->type == RAFT_IO_INSTALL_SNAPSHOT)
		raft_configuration_close(&is->conf);
	raft_free(payload);
	memset(m, 0, sizeof(*m));
	return GQ_ECORRUPT;
}

/* Allocate the payload buffer a frame delivers; never NULL on success,
 * because libraft does not expect NULL batches or snapshot data. */
static uint8_t *
payload_alloc(const struct frame *f)
{
	return raft_malloc(f->plen > 0 ? (size_t)f->plen : 1);
}

/* Make room for @need bytes from start, moving or growing the staging
 * buffer.  Afterwards end < cap. */
static int
stage_reserve(struct gq__rmsg_reader *r, size_t need)
{
	size_t used = r->end - r->start;
	size_t cap;
	uint8_t *p;

	assert(used < need);
	/* Moving bytes down is worth it only when the room left for reads
	 * has become small; each move copies less than one frame, and
	 * happens at most once per frame delivered. */
	if (r->cap - r->start >= need &&
	    (r->start == 0 || r->cap - r->end >= READ_MIN))
		return 0;
	if (r->cap >= need) {
		memmove(r->stage, r->stage + r->start, used);
		r->start = 0;
		r->end = used;
		return 0;
	}
	/* A frame larger than the stage (or no stage yet); the stage drops
	 * back to the default size once it is empty. */
	cap = need > GQ__RMSG_STAGE ? need : GQ__RMSG_STAGE;
	if ((p = gq__malloc(cap)) == NULL)
		return GQ_ENOMEM;
	if (used > 0)
		memcpy(p, r->stage + r->start, used);
	gq__free(r->stage);
	r->stage = p;
	r->cap = cap;
	r->start = 0;
	r->end = used;
	return 0;
}

/* Finish the direct-state frame whose payload has fully arrived. */
static int
direct_finish(struct gq__rmsg_reader *r, struct raft_message *m)
{
	const uint8_t *p = r->stage + r->start;
	struct frame f;
	uint8_t *payload = r->payload;
	int rv;

	/* Already validated when the direct state began. */
	rv = prefix_parse(r, p, &f);
	assert(rv == 0);
	(void)rv;
	r->payload = NULL;
	r->start = r->end;
	if (r->crc != f.crc) {
		raft_free(payload);
		return GQ_ECORRUPT;
	}
	return decode(&f, p + GQ__RMSG_PREFIX, payload, m);
}

/*
 * Decode the frame at stage + start, if it is complete, into @m and set
 * *@done.  When it is not complete, either make room for it or, for a large
 * payload, switch to the direct state.
 */
static int
stage_next(struct gq__rmsg_reader *r, struct raft_message *m, bool *done)
{
	const uint8_t *p = r->stage + r->start;
	size_t avail = r->end - r->start;
	const uint8_t *hdr = p + GQ__RMSG_PREFIX;
	uint8_t *payload = NULL;
	struct frame f;
	size_t have;
	uint32_t crc;
	int rv;

	*done = false;
	if (avail < GQ__RMSG_PREFIX)
		return stage_reserve(r, GQ__RMSG_PREFIX);
	if ((rv = prefix_parse(r, p, &f)) != 0)
		return rv;
	if (avail < GQ__RMSG_PREFIX + (size_t)f.hlen)
		return stage_reserve(r, GQ__RMSG_PREFIX + (size_t)f.hlen);
	if (f.type == RAFT_IO_APPEND_ENTRIES &&
	    (rv = entries_check(&f, hdr)) != 0)
		return rv;
	have = avail - GQ__RMSG_PREFIX - f.hlen;
	if (have < f.plen && f.plen <= GQ__RMSG_DIRECT)
		return stage_reserve(r,
				     GQ__RMSG_PREFIX + f.hlen + (size_t)f.plen);
	if (have < f.plen) {
		/* A large payload: later reads go straight into the buffer
		 * the message is delivered in. */
		if ((payload = payload_alloc(&f)) == NULL)
			return GQ_ENOMEM;
		memcpy(payload, hdr + f.hlen, have);
		r->crc = gq__crc32c(gq__crc32c(0, hdr, f.hlen), payload, have);
		r->payload = payload;
		r->got = have;
		r->end = r->start + GQ__RMSG_PREFIX + f.hlen;
		return 0;
	}
	crc = gq__crc32c(0, hdr, f.hlen + (size_t)f.plen);
	if (crc != f.crc)
		return GQ_ECORRUPT;
	if (has_payload(&f, hdr)) {
		if ((payload = payload_alloc(&f)) == NULL)
			return GQ_ENOMEM;
		memcpy(payload, hdr + f.hlen, (size_t)f.plen);
	}
	r->start += GQ__RMSG_PREFIX + f.hlen + (size_t)f.plen;
	if ((rv = decode(&f, hdr, payload, m)) != 0)
		return rv;
	*done = true;
	return 0;
}

void
gq__rmsg_reader_init(struct gq__rmsg_reader *r, size_t max_payload)
{
	memset(r, 0, sizeof(*r));
	r->max_payload = max_payload;
}

void
gq__rmsg_reader_close(struct gq__rmsg_reader *r)
{
	gq__free(r->stage);
	raft_free(r->payload);
	r->stage = NULL;
	r->payload = NULL;
	r->cap = r->start = r->end = r->got = 0;
}

void
gq__rmsg_reader_alloc(struct gq__rmsg_reader *r, uv_buf_t *buf)
{
	if (r->payload != NULL) {
		buf->base = (char *)r->payload + r->got;
		buf->len = (size_t)(gq__le64_get(r->stage + r->start + 12) -
				    r->got);
		return;
	}
	if (r->stage == NULL) {
		r->stage = gq__malloc(GQ__RMSG_STAGE);
		r->cap = r->stage != NULL ? GQ__RMSG_STAGE : 0;
		r->start = r->end = 0;
	}
	buf->base = (char *)r->stage + r->end;
	buf->len = r->cap - r->end;
}

int
gq__rmsg_reader_consume(struct gq__rmsg_reader *r, size_t nread,
			void (*deliver)(void *arg, struct raft_message *m),
			void *arg)
{
	struct raft_message m;
	uint64_t plen;
	bool done;
	int rv;

	if (r->failed != 0)
		return r->failed;
	if (nread == 0)
		return 0;
	if (r->payload != NULL) {
		plen = gq__le64_get(r->stage + r->start + 12);
		assert(nread <= plen - r->got);
		r->crc = gq__crc32c(r->crc, r->payload + r->got, nread);
		r->got += nread;
		if (r->got < plen)
			return 0;
		if ((rv = direct_finish(r, &m)) != 0)
			goto fail;
		deliver(arg, &m);
	} else {
		assert(r->stage != NULL && nread <= r->cap - r->end);
		r->end += nread;
	}
	for (;;) {
		if ((rv = stage_next(r, &m, &done)) != 0)
			goto fail;
		if (!done)
			break;
		deliver(arg, &m);
	}
	/* An empty oversized stage goes back to the default size. */
	if (r->payload == NULL && r->start == r->end) {
		r->start = r->end = 0;
		if (r->cap > GQ__RMSG_STAGE) {
			gq__free(r->stage);
			r->stage = NULL;
			r->cap = 0;
		}
	}
	return 0;
fail:
	r->failed = rv;
	return rv;
}
