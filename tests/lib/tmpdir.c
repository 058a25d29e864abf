/* SPDX-License-Identifier: MIT */
/* tmpdir.c - scratch directories for tests. */
#include "tmpdir.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[512];

const char *
gqt_tmpdir_make(void)
{
	const char *base = getenv("GQ_TEST_TMPDIR");

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	mkdir(base, 0755);
	snprintf(dir, sizeof(dir), "%s/gqtest-XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return dir;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
gqt_rm_rf(const char *path)
{
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
gqt_tmpdir_remove(void)
{
	/* GQ_TEST_KEEP=1 keeps the directory for a post-mortem. */
	if (getenv("GQ_TEST_KEEP") != NULL) {
		fprintf(stderr, "kept %s\n", dir);
		return;
	}
	if (dir[0] != '\0')
		gqt_rm_rf(dir);
	dir[0] = '\0';
}
