/* SPDX-License-Identifier: MIT */
/*
 * rmsg.h - goqueue's wire codec for libraft 0.15 messages (struct
 * raft_message), replacing raft_uv's.  rio.c sends what gq__rmsg_encode()
 * produces and feeds each inbound stream to one gq__rmsg_reader.
 *
 * Frame, all integers little-endian:
 *
 *   off len
 *     0   4  magic 0x47515231 ("GQR1" read as a little-endian u32)
 *     4   2  type, RAFT_IO_APPEND_ENTRIES .. RAFT_IO_TIMEOUT_NOW
 *     6   2  reserved, 0
 *     8   4  H, header length, at most GQ__RMSG_HEADER_MAX
 *    12   8  P, payload length, at most the reader's max_payload
 *    20   4  CRC-32C of the H header bytes followed by the P payload bytes
 *    24   4  CRC-32C of bytes 0..23
 *    28   H  header: the message's fixed fields (below)
 *  28+H   P  payload
 *
 * Headers (u64 unless marked; bools and raft_tribool are one byte):
 *
 *   AppendEntries        term prev_log_index prev_log_term leader_commit
 *                        u32 n, n x (term, u8 type, u32 length)
 *                        payload: the entries' data back to back, no padding
 *   AppendEntriesResult  term rejected last_log_index
 *   RequestVote          term candidate_id last_log_index last_log_term
 *                        u8 disrupt_leader, u8 pre_vote
 *   RequestVoteResult    term, u8 vote_granted, u8 pre_vote (raft_tribool)
 *   InstallSnapshot      term last_index last_term conf_index, then the
 *                        configuration in rconf.h's encoding;
 *                        payload: the snapshot data
 *   TimeoutNow           term last_log_index last_log_term
 *
 * server_id and server_address are not sent: the stream's handshake names
 * the sender, and the receiver fills them in.  A frame whose header has
 * bytes left over, a length that disagrees with its fields, or a bool that
 * is neither 0 nor 1 is malformed.
 *
 * Thread safety: none; an encoder output or a reader is used by one thread.
 */
#ifndef GQ_RMSG_H
#define GQ_RMSG_H

#include <raft.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define GQ__RMSG_MAGIC      0x47515231u
#define GQ__RMSG_PREFIX     28
#define GQ__RMSG_HEADER_MAX (1u << 20)

/*
 * One encoded message, ready for uv_write(out->bufs, out->n).  bufs[0] is
 * the prefix and header, owned by this structure; each following buffer
 * (one per non-empty entry, or the snapshot data) points into the caller's
 * message and is not copied.  bufs itself lives in the same allocation as
 * bufs[0], so the structure may be moved or copied freely.
 */
struct gq__rmsg_out {
	uv_buf_t *bufs;
	unsigned n;
};

/*
 * Encode @m into @out.  @m is borrowed, but the memory its entries or
 * snapshot data point to is lent until gq__rmsg_out_free(): the output
 * refers to it.  On failure @out is left empty (free is then a no-op).
 * Return 0, GQ_ENOMEM, or GQ_EINVAL: an unknown type, a header over
 * GQ__RMSG_HEADER_MAX (too many entries, too large a configuration), an
 * entry over 4 GiB - 1 or of a type other than command, barrier or change,
 * or a raft_tribool outside its enum.
 */
int gq__rmsg_encode(const struct raft_message *m, struct gq__rmsg_out *out);

/* Free what gq__rmsg_encode() allocated; the caller's buffers are not
 * touched.  Safe on a zeroed or already freed @out. */
void gq__rmsg_out_free(struct gq__rmsg_out *out);

/*
 * Incremental decoder for one stream.  Small frames are read into a
 * staging buffer and their payload copied once into the delivered
 * message.  Once the prefix and header of a frame with a payload over
 * GQ__RMSG_DIRECT bytes have arrived, the payload buffer that will be
 * delivered is allocated and later reads go straight into it.  The
 * fields are private.
 */
#define GQ__RMSG_STAGE  (64u * 1024)
#define GQ__RMSG_DIRECT (16u * 1024)

struct gq__rmsg_reader {
	size_t max_payload;
	uint8_t *stage;   /* gq__malloc'd on first use, or NULL */
	size_t cap;       /* bytes at stage */
	size_t start;     /* first byte not yet decoded */
	size_t end;       /* end of received bytes */
	uint8_t *payload; /* raft_malloc'd; non-NULL while reading into it */
	size_t got;       /* payload bytes received so far */
	uint32_t crc;     /* running CRC over header and payload so far */
	int failed;       /* the first error returned; sticky */
};

/* Prepare @r to accept payloads of up to @max_payload bytes.  Allocates
 * nothing. */
void gq__rmsg_reader_init(struct gq__rmsg_reader *r, size_t max_payload);

/* Free everything @r holds, including a partly received message.  @r may
 * then be initialised again. */
void gq__rmsg_reader_close(struct gq__rmsg_reader *r);

/*
 * Set @buf to where the next read must land (a libuv alloc_cb).  The
 * region stays valid until the next consume or close, and repeated calls
 * without a consume return the same region.  If memory for the staging
 * buffer cannot be allocated, @buf is {NULL, 0} and libuv reports
 * UV_ENOBUFS to the read callback.
 */
void gq__rmsg_reader_alloc(struct gq__rmsg_reader *r, uv_buf_t *buf);

/*
 * Account for @nread bytes that landed at the start of the region the last
 * gq__rmsg_reader_alloc() returned, decode every complete frame, and call
 * @deliver for each, in stream order.  @deliver receives a message it owns
 * with libraft's recv contract (server_id/server_address zero, for the
 * caller to fill in): AppendEntries with n_entries > 0 has a raft_malloc'd
 * entries array and one raft_malloc'd batch, never NULL, that every
 * entry's .batch names and every non-empty .buf points into (.buf.base is
 * NULL for an empty entry); InstallSnapshot has a configuration to close
 * with raft_configuration_close and raft_malloc'd data, never NULL.  The
 * struct raft_message itself is only valid during the call.  @deliver must
 * not call consume or close on @r.
 * Return 0, GQ_ECORRUPT (a malformed frame: the stream cannot be trusted
 * further) or GQ_ENOMEM.  Messages before the failing frame have been
 * delivered; after a failure every later call returns the same error and
 * the caller should close the stream and the reader.
 */
int gq__rmsg_reader_consume(struct gq__rmsg_reader *r, size_t nread,
			    void (*deliver)(void *arg, struct raft_message *m),
			    void *arg);

#endif /* GQ_RMSG_H */
