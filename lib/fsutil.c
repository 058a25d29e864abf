/* SPDX-License-Identifier: MIT */
/*
 * fsutil.c - file-system helpers.  The directory lock uses an open file
 * description lock (F_OFD_SETLK), so two nodes in one process exclude each
 * other too, which flock() on separate opens would also do but POSIX
 * record locks would not.
 */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "error.h"

int
gq__pathf(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? GQ_EINVAL : 0;
}

int
gq__mkdirs(const char *path, char *errmsg)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp)) {
		if (errmsg != NULL)
			gq__errmsg_set(errmsg, "bad directory path '%s'", path);
		return GQ_EINVAL;
	}
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	if (errmsg != NULL)
		gq__errmsg_set(errmsg, "cannot create directory %s: %s", tmp,
			       strerror(errno));
	return gq__err_from_errno(errno);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

int
gq__rm_rf(const char *path)
{
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0 &&
	    errno != ENOENT)
		return GQ_EIO;
	return 0;
}

int
gq__dir_lock(const char *dir, char *errmsg)
{
	char path[4200];
	char pid[32];
	struct flock fl;
	int fd;
	int n;

	snprintf(path, sizeof(path), "%s/LOCK", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		gq__errmsg_set(errmsg, "cannot open %s: %s", path,
			       strerror(errno));
		return gq__err_from_errno(errno);
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
		gq__errmsg_set(errmsg,
			       "data directory %s is in use by another node "
			       "(lock %s held)",
			       dir, path);
		close(fd);
		return GQ_EBUSY;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0) {
		/* The pid is informative only; the lock is what counts. */
	}
	return fd;
}

void
gq__dir_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int
gq__pwritev_all(int fd, struct iovec *iov, int cnt, uint64_t off)
{
	ssize_t n;

	while (cnt > 0) {
		n = pwritev(fd, iov, cnt, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == 0 ? GQ_EIO : gq__err_from_errno(errno);
		}
		if (n == 0)
			return GQ_EIO;
		off += (uint64_t)n;
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}
