/* SPDX-License-Identifier: MIT */
/*
 * error.h - translation of foreign error codes (errno, libuv, raft, LMDB,
 * codecs) into GQ_E* at the library boundary, and error-detail formatting.
 * No foreign code leaves lib/.
 */
#ifndef GQ_ERROR_H
#define GQ_ERROR_H

#include <stddef.h>

#include "goqueue.h"

/* Translate a positive errno value (EIO, ENOSPC, ...). */
int gq__err_from_errno(int err);
/* Translate a libuv code (negative errno on Linux). */
int gq__err_from_uv(int rv);
/* Translate a canonical/raft code (RAFT_NOMEM, ...). */
int gq__err_from_raft(int rv);
/* Translate an LMDB code (MDB_* or a positive errno). */
int gq__err_from_mdb(int rv);

/* Format into a GQ_ERRMSG_SIZE buffer; never fails, truncates. */
void gq__errmsg_set(char *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* GQ_ERROR_H */
