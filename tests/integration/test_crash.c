/* SPDX-License-Identifier: MIT */
/*
 * test_crash.c - durability under SIGKILL.  A child process produces with
 * blocking acks and reports every acknowledged offset through a pipe; the
 * parent kills it at a random moment (during open, topic creation,
 * produce, segment rolls, snapshots), many times over the same directory,
 * then checks that every acknowledged message is present, once, in order.
 *
 * The child resumes from the last stored value, so the log must end up as
 * exactly 0, 1, 2, ... with value == offset: a lost acknowledged message,
 * a duplicate or a reordering all break that.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <goqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/tmpdir.h"

#define ROUNDS 50
#define TOPIC  "crash"

static const char *dir;

static void
setup(void)
{
	dir = gqt_tmpdir_make();
}

TestSuite(crash, .init = setup, .fini = gqt_tmpdir_remove, .timeout = 900);

struct ack {
	int64_t offset;
	int64_t value;
};

/* Encode @v into a message whose size varies with it, so segments roll at
 * different points in different rounds. */
static size_t
make_value(int64_t v, char *buf, size_t cap)
{
	size_t len = 16 + (size_t)(v * 37 % 700);

	if (len > cap)
		len = cap;
	memset(buf, 'a' + (int)(v % 26), len);
	memcpy(buf, &v, sizeof(v));
	return len;
}

static int64_t
value_of(const struct gq_record *r)
{
	int64_t v = -1;

	if (r->value_len >= sizeof(v))
		memcpy(&v, r->value, sizeof(v));
	return v;
}

/* The node's raft_fsync: a SIGKILL leaves the page cache intact, so
 * acknowledged writes must survive it either way. */
static const char *raft_fsync = "true";

static struct gq_node *
open_retrying(void)
{
	struct gq_node *node = NULL;
	struct gq_config *cfg;
	int rv;

	if (gq_config_create(&cfg) != 0 ||
	    gq_config_set(cfg, "raft_fsync", raft_fsync, NULL) != 0)
		return NULL;
	/* The killed child's lock goes with its process; a tiny window
	 * remains while the kernel tears it down. */
	for (int i = 0; i < 100; i++) {
		rv = gq_node_open(dir, cfg, &node);
		if (rv != GQ_EBUSY)
			break;
		usleep(10000);
	}
	gq_config_destroy(cfg);
	if (rv != 0) {
		fprintf(stderr, "open failed: %s: %s\n", gq_strerror(rv),
			gq_node_errmsg(NULL));
		return NULL;
	}
	return node;
}

static void
child(int fd)
{
	struct gq_config *cfg;
	struct gq_node *node;
	struct gq_fetch *f;
	struct gq_record r;
	gq_offset hw;
	int64_t next = 0;
	char buf[1024];
	int rv;

	if ((node = open_retrying()) == NULL)
		_exit(2);
	gq_config_create(&cfg);
	gq_config_set(cfg, "segment_size", "65536", NULL);
	gq_config_set(cfg, "compression_type", "lz4", NULL);
	rv = gq_topic_create(node, TOPIC, 1, 1, cfg);
	gq_config_destroy(cfg);
	if (rv != 0 && rv != GQ_EEXIST)
		_exit(3);
	if (gq_list_offsets(node, TOPIC, 0, GQ_OFFSET_LATEST, &hw) != 0)
		_exit(4);
	if (hw > 0) {
		if (gq_fetch(node, TOPIC, 0, hw - 1, 4096, &f) != 0 ||
		    gq_fetch_next(f, &r) != 1)
			_exit(5);
		next = value_of(&r) + 1;
		gq_fetch_destroy(f);
	}
	for (;;) {
		struct gq_msg m;
		struct ack a;

		memset(&m, 0, sizeof(m));
		m.value = buf;
		m.value_len = make_value(next, buf, sizeof(buf));
		rv = gq_produce(node, TOPIC, 0, &m, 1, NULL, &a.offset);
		if (rv != 0)
			_exit(6);
		a.value = next++;
		if (write(fd, &a, sizeof(a)) != (ssize_t)sizeof(a))
			_exit(7);
	}
}

/* Every acknowledged message survives 50 SIGKILLs, once and in order. */
static void
kill_rounds(void)
{
	static struct ack acks[2000000];
	size_t n_acks = 0;
	struct gq_node *node;
	struct gq_fetch *f;
	struct gq_record r;
	int64_t expect = 0;
	int exited_early = 0;

	srand((unsigned)time(NULL));
	for (int round = 0; round < ROUNDS; round++) {
		int fds[2];
		pid_t pid;
		int status;
		ssize_t got;
		struct ack a;

		cr_assert_eq(pipe(fds), 0);
		pid = fork();
		cr_assert_neq(pid, -1);
		if (pid == 0) {
			close(fds[0]);
			child(fds[1]);
		}
		close(fds[1]);
		/* Kill anywhere from the middle of open to deep in produce. */
		usleep((useconds_t)(50000 + rand() % 700000));
		kill(pid, SIGKILL);
		while ((got = read(fds[0], &a, sizeof(a))) == sizeof(a)) {
			cr_assert_lt(n_acks, sizeof(acks) / sizeof(acks[0]));
			acks[n_acks++] = a;
		}
		close(fds[0]);
		waitpid(pid, &status, 0);
		if (!WIFSIGNALED(status)) {
			exited_early++;
			cr_assert(WIFSIGNALED(status),
				  "round %d: child exited with %d before the "
				  "kill",
				  round, WEXITSTATUS(status));
		}
	}
	cr_assert_gt(n_acks, 0, "no message was ever acknowledged");

	node = open_retrying();
	cr_assert_not_null(node);
	for (;;) {
		int got = 0;
		int rv;

		rv = gq_fetch(node, TOPIC, 0, expect, 1 << 20, &f);
		cr_assert_eq(rv, 0, "fetch at %lld: %s", (long long)expect,
			     gq_node_errmsg(node));
		while ((rv = gq_fetch_next(f, &r)) == 1) {
			cr_assert_eq(r.offset, expect);
			cr_assert_eq(value_of(&r), expect,
				     "offset %lld holds value %lld",
				     (long long)r.offset,
				     (long long)value_of(&r));
			expect++;
			got++;
		}
		cr_assert_eq(rv, 0);
		gq_fetch_destroy(f);
		if (got == 0)
			break;
	}
	for (size_t i = 0; i < n_acks; i++) {
		cr_assert_eq(acks[i].offset, acks[i].value,
			     "acknowledged value %lld at offset %lld",
			     (long long)acks[i].value,
			     (long long)acks[i].offset);
		cr_assert_lt(acks[i].offset, expect,
			     "acknowledged offset %lld missing (log ends at "
			     "%lld)",
			     (long long)acks[i].offset, (long long)expect);
	}
	cr_log_info("raft_fsync=%s: %d rounds, %zu acknowledged, %lld stored",
		    raft_fsync, ROUNDS, n_acks, (long long)expect);
	gq_node_close(node);
}

Test(crash, sigkill_during_blocking_produce)
{
	kill_rounds();
}

Test(crash, sigkill_without_raft_fsync)
{
	raft_fsync = "false";
	kill_rounds();
}
