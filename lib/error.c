/* SPDX-License-Identifier: MIT */
/*
 * error.c - gq_strerror() from the X-macro table in goqueue.h, and the
 * boundary translations of foreign error codes.
 */
#include "error.h"

#include <errno.h>
#include <lmdb.h>
#include <raft.h>
#include <stdarg.h>
#include <stdio.h>
#include <uv.h>

const char *
gq_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
#define GQ__ERR_CASE(name, value, text) \
	case value:                     \
		return text;
		GQ_ERRNO_MAP(GQ__ERR_CASE)
#undef GQ__ERR_CASE
	default:
		return "unknown error";
	}
}

int
gq__err_from_errno(int err)
{
	switch (err) {
	case 0:
		return 0;
	case ENOMEM:
		return GQ_ENOMEM;
	case ENOSPC:
	case EDQUOT:
		return GQ_ENOSPC;
	case EINVAL:
		return GQ_EINVAL;
	case ENOENT:
		return GQ_EIO;
	case EBUSY:
	case EAGAIN:
		return GQ_EBUSY;
	case ECANCELED:
		return GQ_ECANCELED;
	case ETIMEDOUT:
		return GQ_ETIMEDOUT;
	default:
		return GQ_EIO;
	}
}

int
gq__err_from_uv(int rv)
{
	if (rv == UV_ECANCELED)
		return GQ_ECANCELED;
	return rv < 0 ? gq__err_from_errno(-rv) : gq__err_from_errno(rv);
}

int
gq__err_from_raft(int rv)
{
	switch (rv) {
	case 0:
		return 0;
	case RAFT_NOMEM:
		return GQ_ENOMEM;
	case RAFT_NOTLEADER:
		return GQ_ENOTLEADER;
	case RAFT_LEADERSHIPLOST:
		return GQ_EUNKNOWN;
	case RAFT_SHUTDOWN:
	case RAFT_CANCELED:
		return GQ_ECLOSED;
	case RAFT_CORRUPT:
	case RAFT_MALFORMED:
		return GQ_ECORRUPT;
	case RAFT_NOSPACE:
		return GQ_ENOSPC;
	case RAFT_IOERR:
	case RAFT_NOTFOUND:
	case RAFT_UNAUTHORIZED:
		return GQ_EIO;
	case RAFT_TOOBIG:
		return GQ_ETOOBIG;
	case RAFT_BUSY:
		return GQ_EBUSY;
	case RAFT_INVALID:
	case RAFT_NAMETOOLONG:
		return GQ_EINVAL;
	default:
		return GQ_EINTERNAL;
	}
}

int
gq__err_from_mdb(int rv)
{
	switch (rv) {
	case MDB_SUCCESS:
		return 0;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		return GQ_ENOSPC;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return GQ_ECORRUPT;
	case MDB_NOTFOUND:
		return GQ_EINTERNAL;
	default:
		return rv > 0 ? gq__err_from_errno(rv) : GQ_EINTERNAL;
	}
}

void
gq__errmsg_set(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, GQ_ERRMSG_SIZE, fmt, ap);
	va_end(ap);
}
