/* SPDX-License-Identifier: MIT */
/*
 * rconf.h - a Raft configuration (the servers of a group) in goqueue's own
 * encoding, shared by the Raft log's snapshot files (rlog.c) and the
 * InstallSnapshot message (rmsg.c).  libraft 0.15 exports an encoder of its
 * own format but no decoder, so goqueue keeps one it can read back:
 *
 *   u32 n | n x (u64 id | u8 role | u16 address length | address bytes)
 *
 * little-endian, the address without its NUL.  Log entries of type
 * RAFT_CHANGE still carry libraft's format (raft_configuration_encode):
 * raft decodes those itself.
 */
#ifndef GQ_RCONF_H
#define GQ_RCONF_H

#include <raft.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Longest address accepted, NUL excluded. */
#define GQ__RCONF_ADDRESS_MAX 1023

/* Append @c to @out.  0 or GQ_ENOMEM. */
int gq__rconf_encode(const struct raft_configuration *c, struct gq__buf *out);

/* Read a configuration from @r into @c (initialised here; on success the
 * caller closes it with raft_configuration_close).  0, GQ_ECORRUPT (the
 * bytes are not a configuration: @r is marked bad) or GQ_ENOMEM. */
int gq__rconf_decode(struct gq__rd *r, struct raft_configuration *c);

#endif /* GQ_RCONF_H */
