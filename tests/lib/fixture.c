/* SPDX-License-Identifier: MIT */
/*
 * fixture.c - the single-node fixture.  Criterion runs every test in its
 * own process, so one scratch directory and one node slot per process is
 * all the state there is.
 */
#include "fixture.h"

#include <stddef.h>

#include <criterion/criterion.h>

#include "tmpdir.h"

static const char *dir;
static struct gq_node **slot;

const char *
gqt_node_setup(struct gq_node **node)
{
	dir = gqt_tmpdir_make();
	slot = node;
	*slot = NULL;
	return dir;
}

/* gq_node_close(NULL) is a no-op: the test may have closed the node, or
 * never opened it. */
void
gqt_node_teardown(void)
{
	if (slot != NULL) {
		gq_node_close(*slot);
		*slot = NULL;
	}
	gqt_tmpdir_remove();
}

void
gqt_open(struct gq_node **node)
{
	int rv = gq_node_open(dir, NULL, node);

	cr_assert_eq(rv, 0, "open: %s: %s", gq_strerror(rv),
		     gq_node_errmsg(NULL));
}

void
gqt_open_with(struct gq_node **node, const char *const *kv)
{
	struct gq_config *cfg;
	char err[GQ_ERRMSG_SIZE] = "";
	int rv;

	cr_assert_eq(gq_config_create(&cfg), 0);
	for (; kv[0] != NULL; kv += 2)
		cr_assert_eq(gq_config_set(cfg, kv[0], kv[1], err), 0, "%s: %s",
			     kv[0], err);
	rv = gq_node_open(dir, cfg, node);
	gq_config_destroy(cfg);
	cr_assert_eq(rv, 0, "open: %s: %s", gq_strerror(rv),
		     gq_node_errmsg(NULL));
}

void
gqt_reopen(struct gq_node **node)
{
	gq_node_close(*node);
	*node = NULL;
	gqt_open(node);
}
