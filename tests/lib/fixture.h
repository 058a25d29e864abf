/* SPDX-License-Identifier: MIT */
/*
 * fixture.h - the single-node fixture of the integration tests: a fresh
 * scratch directory per test, and the test's node pointer, which the
 * teardown closes whatever state a failed assertion left it in.  The test
 * owns the pointer (a static in its file); the fixture only remembers
 * where it is, from gqt_node_setup() until gqt_node_teardown().
 */
#ifndef GQ_TEST_FIXTURE_H
#define GQ_TEST_FIXTURE_H

#include <goqueue.h>

/* Make the scratch directory, clear *@node and remember it; returns the dir. */
const char *gqt_node_setup(struct gq_node **node);
/* A suite's .fini: close the remembered node and remove the scratch dir. */
void gqt_node_teardown(void);
/* Open *@node on the scratch dir with the default config, or fail the test. */
void gqt_open(struct gq_node **node);
/* Open *@node on the scratch dir with config @kv: key, value, ..., NULL. */
void gqt_open_with(struct gq_node **node, const char *const *kv);
/* Close *@node and open it again with gqt_open(). */
void gqt_reopen(struct gq_node **node);

#endif /* GQ_TEST_FIXTURE_H */
