/* SPDX-License-Identifier: MIT */
/*
 * tmpdir.h - per-test scratch directories.  Each test gets a fresh
 * directory under $GQ_TEST_TMPDIR (or /tmp), removed afterwards.
 */
#ifndef GQ_TEST_TMPDIR_H
#define GQ_TEST_TMPDIR_H

/* Create a fresh empty directory and return its path (static storage). */
const char *gqt_tmpdir_make(void);
/* Remove the directory made by gqt_tmpdir_make(), recursively. */
void gqt_tmpdir_remove(void);
/* Remove any path recursively (used by tests to delete files). */
int gqt_rm_rf(const char *path);

#endif /* GQ_TEST_TMPDIR_H */
