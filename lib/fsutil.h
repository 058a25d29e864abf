/* SPDX-License-Identifier: MIT */
/*
 * fsutil.h - small file-system helpers shared by the node and partitions:
 * directory creation, recursive removal, and the data-directory lock.
 */
#ifndef GQ_FSUTIL_H
#define GQ_FSUTIL_H

#include <stddef.h>
#include <stdint.h>

/* snprintf into a path buffer; GQ_EINVAL if it does not fit. */
int gq__pathf(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct iovec;

/* pwritev() all of @iov (@cnt entries, modified as it goes) at @off,
 * resuming after short writes and EINTR.  0 or a GQ_E* code (GQ_ENOSPC for
 * a full disk, GQ_EIO when the file stops growing). */
int gq__pwritev_all(int fd, struct iovec *iov, int cnt, uint64_t off);

/* Create @path and its missing parents (mode 0755).  errmsg may be NULL. */
int gq__mkdirs(const char *path, char *errmsg);

/* Remove @path recursively; a missing path is success.  GQ_EIO on error. */
int gq__rm_rf(const char *path);

/* Take an exclusive, non-blocking lock on <dir>/LOCK and write our pid
 * into it.  Returns the fd (>= 0) or GQ_EBUSY (held by another process
 * or node) / GQ_EIO, with errmsg set. */
int gq__dir_lock(const char *dir, char *errmsg);

/* Release the lock taken by gq__dir_lock(). */
void gq__dir_unlock(int fd);

#endif /* GQ_FSUTIL_H */
