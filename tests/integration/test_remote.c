/* SPDX-License-Identifier: MIT */
/*
 * test_remote.c - a node connected to a real gqd (gq_node_connect()): the
 * same public calls as on an embedded node, over the Kafka protocol.
 * Each test starts its own gqd (path in $GQD) on loopback ports.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <goqueue.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/port.h"
#include "../lib/tmpdir.h"

static void gqd_wait(int i);

extern char **environ;

#define BROKERS 3

static const char *root;
/* The gqd processes: one for most tests, three for the cluster ones. */
static struct {
	pid_t pid;
	int kafka, raft, admin;
} procs[BROKERS];
static int n_procs;
static char peers[256]; /* initial_cluster, or "" for one node */
static char bootstrap[160];
static struct gq_node *remote;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool
listening(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Start gqd number @i (broker id @i + 1); with @wait, until it listens
 * (a cluster node listens once a quorum of its peers is up). */
static void
gqd_start(int i, bool wait)
{
	const char *gqd = getenv("GQD");
	posix_spawn_file_actions_t fa;
	char a[6][300], log[300];
	char *argv[8];
	int n = 0;

	cr_assert_not_null(gqd, "set GQD to the gqd binary");
	snprintf(a[n++], sizeof(a[0]), "-data-dir=%s/node%d", root, i + 1);
	snprintf(a[n++], sizeof(a[0]), "-client-addr=127.0.0.1:%d",
		 procs[i].kafka);
	snprintf(a[n++], sizeof(a[0]), "-raft-addr=127.0.0.1:%d",
		 procs[i].raft);
	snprintf(a[n++], sizeof(a[0]), "-admin-addr=127.0.0.1:%d",
		 procs[i].admin);
	snprintf(a[n++], sizeof(a[0]), "-broker-id=%d", i + 1);
	if (peers[0] != '\0')
		snprintf(a[n++], sizeof(a[0]), "-initial-cluster=%s", peers);
	snprintf(log, sizeof(log), "%s/gqd%d.log", root, i + 1);
	argv[0] = (char *)gqd;
	for (int k = 0; k < n; k++)
		argv[k + 1] = a[k];
	argv[n + 1] = NULL;
	/* Its log (stderr) goes to a file the failure messages name. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, log,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	cr_assert_eq(posix_spawn(&procs[i].pid, gqd, &fa, NULL, argv, environ),
		     0);
	posix_spawn_file_actions_destroy(&fa);
	if (wait)
		gqd_wait(i);
}

static void
gqd_wait(int i)
{
	uint64_t until = now_ms() + 60000;

	while (!listening(procs[i].kafka)) {
		int st;

		cr_assert_eq(waitpid(procs[i].pid, &st, WNOHANG), 0,
			     "gqd %d exited; see %s/gqd%d.log", i + 1, root,
			     i + 1);
		cr_assert_lt(now_ms(), until, "gqd %d did not listen", i + 1);
		usleep(50000);
	}
}

static void
gqd_stop(int i, int sig)
{
	int st;

	if (procs[i].pid <= 0)
		return;
	kill(procs[i].pid, sig);
	waitpid(procs[i].pid, &st, 0);
	procs[i].pid = 0;
}

/* @n brokers on fresh ports; a cluster when @n > 1. */
static void
brokers_setup(int n)
{
	size_t len = 0;

	root = gqt_tmpdir_make();
	n_procs = n;
	peers[0] = bootstrap[0] = '\0';
	for (int i = 0; i < n; i++) {
		procs[i].kafka = gqt_free_port();
		procs[i].raft = gqt_free_port();
		procs[i].admin = gqt_free_port();
		len += (size_t)snprintf(
			bootstrap + len, sizeof(bootstrap) - len,
			"%s127.0.0.1:%d", i > 0 ? "," : "", procs[i].kafka);
	}
	for (int i = 0, at = 0; n > 1 && i < n; i++)
		at += snprintf(peers + at, sizeof(peers) - (size_t)at,
			       "%s%d@127.0.0.1:%d", i > 0 ? "," : "", i + 1,
			       procs[i].raft);
	remote = NULL;
	for (int i = 0; i < n; i++)
		gqd_start(i, false);
	for (int i = 0; i < n; i++)
		gqd_wait(i);
}

static void
setup(void)
{
	brokers_setup(1);
}

static void
teardown(void)
{
	gq_node_close(remote);
	remote = NULL;
	for (int i = 0; i < n_procs; i++)
		gqd_stop(i, SIGTERM);
	gqt_tmpdir_remove();
}

TestSuite(remote, .init = setup, .fini = teardown, .timeout = 120);

/* Connect `remote`, with @key set to @value unless @key is NULL. */
static void
connect_remote_with(const char *key, const char *value)
{
	struct gq_config *cfg = NULL;
	int rv;

	if (key != NULL) {
		cr_assert_eq(gq_config_create(&cfg), 0);
		cr_assert_eq(gq_config_set(cfg, key, value, NULL), 0);
	}
	rv = gq_node_connect(bootstrap, cfg, &remote);
	gq_config_destroy(cfg);
	cr_assert_eq(rv, 0, "%s: %s", gq_strerror(rv), gq_node_errmsg(NULL));
	cr_assert(gq_node_ready(remote));
}

static void
connect_remote(void)
{
	connect_remote_with(NULL, NULL);
}

static gq_offset
produce_str(const char *topic, int32_t part, const char *key, const char *value)
{
	struct gq_msg m;
	gq_offset off = -1;
	int32_t got = -1;
	int rv;

	memset(&m, 0, sizeof(m));
	m.key = key;
	m.key_len = key != NULL ? strlen(key) : 0;
	m.value = value;
	m.value_len = strlen(value);
	rv = gq_produce(remote, topic, part, &m, 1, &got, &off);
	cr_assert_eq(rv, 0, "produce: %s: %s", gq_strerror(rv),
		     gq_node_errmsg(remote));
	if (part >= 0)
		cr_assert_eq(got, part);
	return off;
}

/* Topics made and seen through a remote node, and the cluster view. */
Test(remote, topics_and_cluster)
{
	struct gq_broker_info *brokers;
	struct gq_topic_info *info;
	struct gq_partition_info pi;
	char **names;
	size_t n;
	int32_t leader = -2;
	bool found = false;

	connect_remote();
	cr_assert_eq(gq_topic_create(remote, "orders", 3, 1, NULL), 0, "%s",
		     gq_node_errmsg(remote));
	cr_assert_eq(gq_topic_create(remote, "orders", 3, 1, NULL), GQ_EEXIST);
	cr_assert_eq(gq_topic_list(remote, &names, &n), 0);
	for (size_t i = 0; i < n; i++)
		found |= strcmp(names[i], "orders") == 0;
	gq_topic_list_free(names, n);
	cr_assert(found, "orders is listed");
	cr_assert_eq(gq_topic_describe(remote, "orders", &info), 0);
	cr_assert_eq(gq_topic_info_partitions(info), 3);
	cr_assert_eq(gq_topic_info_replication_factor(info), 1);
	cr_assert_eq(gq_topic_info_partition(info, 2, &pi), 0);
	cr_assert_eq(pi.leader, 1);
	cr_assert_eq(pi.replica_count, 1);
	cr_assert_eq(pi.replicas[0], 1);
	cr_assert_eq(pi.log_start, -1, "no replica on a remote node");
	gq_topic_info_destroy(info);
	cr_assert_eq(gq_topic_describe(remote, "nope", &info), GQ_ENOTOPIC);

	cr_assert_eq(gq_cluster_brokers(remote, &brokers, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(brokers[0].id, 1);
	cr_assert_str_eq(brokers[0].client_address, bootstrap);
	gq_cluster_brokers_free(brokers);
	cr_assert_eq(gq_cluster_controller(remote), 1);
	cr_assert_eq(gq_partition_leader(remote, "orders", 1, &leader, NULL),
		     0);
	cr_assert_eq(leader, 1);

	cr_assert_eq(gq_topic_delete(remote, "orders"), 0, "%s",
		     gq_node_errmsg(remote));
	cr_assert_eq(gq_topic_describe(remote, "orders", &info), GQ_ENOTOPIC);
	cr_assert_eq(gq_topic_delete(remote, "orders"), GQ_ENOTOPIC);
}

static int async_done;
static int async_failed;

static void
on_produced(void *arg, int status, int32_t partition, gq_offset offset)
{
	(void)arg;
	(void)partition;
	(void)offset;
	if (status != 0)
		__atomic_add_fetch(&async_failed, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&async_done, 1, __ATOMIC_SEQ_CST);
}

/* What a remote node produces reads back through it, in order, with keys
 * and headers; offsets are listed; keys pick the same partition as on an
 * embedded node (murmur2, as Kafka's clients). */
Test(remote, produce_and_fetch)
{
	struct gq_header hdr = { "h", 1, "v", 1 };
	struct gq_fetch *f;
	struct gq_record rec;
	struct gq_msg m;
	char value[32];
	gq_offset off;
	int32_t p1 = -1, p2 = -2;
	int n = 0;

	connect_remote();
	cr_assert_eq(gq_topic_create(remote, "events", 2, 1, NULL), 0);
	cr_assert_eq(produce_str("events", 0, NULL, "first"), 0);
	memset(&m, 0, sizeof(m));
	m.key = "user-7";
	m.key_len = 6;
	m.value = "keyed";
	m.value_len = 5;
	m.headers = &hdr;
	m.header_count = 1;
	cr_assert_eq(gq_produce(remote, "events", GQ_PARTITION_ANY, &m, 1, &p1,
				&off),
		     0);
	cr_assert_eq(gq_produce(remote, "events", GQ_PARTITION_ANY, &m, 1, &p2,
				&off),
		     0);
	cr_assert_eq(p1, p2, "a key always maps to one partition");

	async_done = async_failed = 0;
	for (int i = 0; i < 200; i++) {
		snprintf(value, sizeof(value), "m%d", i);
		memset(&m, 0, sizeof(m));
		m.value = value;
		m.value_len = strlen(value);
		cr_assert_eq(gq_produce_async(remote, "events", 1, &m, 1,
					      on_produced, NULL),
			     0);
	}
	while (__atomic_load_n(&async_done, __ATOMIC_SEQ_CST) < 200)
		usleep(10000);
	cr_assert_eq(async_failed, 0);

	cr_assert_eq(
		gq_list_offsets(remote, "events", 1, GQ_OFFSET_EARLIEST, &off),
		0);
	cr_assert_eq(off, 0);
	cr_assert_eq(
		gq_list_offsets(remote, "events", 1, GQ_OFFSET_LATEST, &off),
		0);
	cr_assert_eq(off, 200 + (p1 == 1 ? 2 : 0));

	/* Partition 0 from the start: "first", then the keyed ones if the
	 * key went there. */
	cr_assert_eq(
		gq_fetch(remote, "events", 0, GQ_OFFSET_EARLIEST, 1 << 20, &f),
		0);
	cr_assert_eq(gq_fetch_next(f, &rec), 1);
	cr_assert_eq(rec.offset, 0);
	cr_assert_eq(rec.value_len, 5);
	cr_assert_eq(memcmp(rec.value, "first", 5), 0);
	gq_fetch_destroy(f);

	/* Partition 1, all 200 (and the keyed two) in order. */
	for (gq_offset from = 0; n < 200;) {
		cr_assert_eq(gq_fetch(remote, "events", 1, from, 4096, &f), 0,
			     "%s", gq_node_errmsg(remote));
		cr_assert_eq(gq_fetch_high_watermark(f),
			     200 + (p1 == 1 ? 2 : 0));
		while (gq_fetch_next(f, &rec) == 1) {
			from = rec.offset + 1;
			if (rec.key_len > 0)
				continue;
			snprintf(value, sizeof(value), "m%d", n++);
			cr_assert_eq(rec.value_len, strlen(value));
			cr_assert_eq(memcmp(rec.value, value, rec.value_len),
				     0);
		}
		gq_fetch_destroy(f);
	}
	cr_assert_eq(gq_fetch(remote, "events", 1, 5000, 4096, &f), GQ_EOFFSET);
	cr_assert_eq(gq_fetch(remote, "nope", 0, 0, 4096, &f), GQ_ENOTOPIC);
	cr_assert_eq(gq_produce(remote, "events", 7, &m, 1, NULL, NULL),
		     GQ_ENOPARTITION);
}

static int restart_status[5];

static void
on_restart_produced(void *arg, int status, int32_t partition, gq_offset offset)
{
	(void)partition;
	(void)offset;
	__atomic_store_n(&restart_status[(intptr_t)arg], status,
			 __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&async_done, 1, __ATOMIC_SEQ_CST);
}

/* gqd restarts under a connected node: the calls after it reconnect, and
 * async calls made while it was down wait for it and are stored once
 * each, in the order they were made (a batch that went out on the dying
 * connection is sent again, which idempotence makes safe). */
Test(remote, broker_restart)
{
	static const char vals[] = "abcde";
	char want[8], got[8];
	struct gq_fetch *f;
	struct gq_record rec;
	struct gq_msg m;
	size_t nw = 0, ng = 0;

	connect_remote();
	cr_assert_eq(gq_topic_create(remote, "t", 1, 1, NULL), 0);
	cr_assert_eq(produce_str("t", 0, NULL, "before"), 0);
	gqd_stop(0, SIGTERM);
	async_done = 0;
	for (intptr_t i = 0; i < 5; i++) {
		memset(&m, 0, sizeof(m));
		m.value = &vals[i];
		m.value_len = 1;
		cr_assert_eq(gq_produce_async(remote, "t", 0, &m, 1,
					      on_restart_produced, (void *)i),
			     0);
		usleep(100000);
	}
	gqd_start(0, true);
	while (__atomic_load_n(&async_done, __ATOMIC_SEQ_CST) < 5)
		usleep(10000);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(restart_status[i], 0, "call %d: %s", i,
			     gq_strerror(restart_status[i]));
		want[nw++] = vals[i];
	}
	produce_str("t", 0, NULL, "after");
	cr_assert_eq(gq_fetch(remote, "t", 0, 1, 1 << 16, &f), 0);
	while (gq_fetch_next(f, &rec) == 1 && rec.value_len == 1) {
		const char *at = memchr(vals, *(const char *)rec.value, 5);

		cr_assert_not_null(at);
		cr_assert_lt(ng, sizeof(got), "a message stored twice");
		got[ng++] = *at;
	}
	gq_fetch_destroy(f);
	cr_assert_eq(ng, nw);
	cr_assert_eq(memcmp(got, want, nw), 0, "stored %.*s, made %.*s",
		     (int)ng, got, (int)nw, want);
}

/* The codec of the stored batch of @topic/0 that holds @offset. */
static int
stored_codec_at(const char *topic, gq_offset offset)
{
	struct gq_fetch *f;
	const uint8_t *p;
	const void *data;
	size_t len;
	int codec;

	cr_assert_eq(gq_fetch(remote, topic, 0, offset, 1 << 20, &f), 0, "%s",
		     gq_node_errmsg(remote));
	gq_fetch_records(f, &data, &len);
	cr_assert_geq(len, 61);
	p = data;
	codec = p[22] & 7; /* attributes, bytes 21-22 */
	gq_fetch_destroy(f);
	return codec;
}

/* The codec of the first stored batch of @topic/0. */
static int
stored_codec(const char *topic)
{
	return stored_codec_at(topic, 0);
}

/* Topic configurations go both ways: a create sends the keys set (the
 * broker's defaults fill the rest), describe reads the topic's back, and
 * produce calls compress as the topic says. */
Test(remote, topic_configs)
{
	struct gq_topic_info *info;
	const struct gq_config *tc;
	struct gq_config *cfg;
	char value[3000];

	/* A broker default that differs from the library's. */
	gqd_stop(0, SIGTERM);
	setenv("GQ_RETENTION_BYTES", "1073741824", 1);
	gqd_start(0, true);
	unsetenv("GQ_RETENTION_BYTES");
	connect_remote();
	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "retention_time", "2h", NULL), 0);
	cr_assert_eq(gq_config_set(cfg, "compression_type", "zstd", NULL), 0);
	cr_assert_eq(gq_config_set(cfg, "compression_threshold", "100", NULL),
		     0);
	cr_assert_eq(gq_topic_create(remote, "z", 1, 1, cfg), 0, "%s",
		     gq_node_errmsg(remote));
	gq_config_destroy(cfg);
	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "compression_enabled", "false", NULL),
		     0);
	cr_assert_eq(gq_topic_create(remote, "plain", 1, 1, cfg), 0);
	gq_config_destroy(cfg);

	cr_assert_eq(gq_topic_describe(remote, "z", &info), 0);
	tc = gq_topic_info_config(info);
	cr_assert_str_eq(gq_config_get(tc, "retention_time"), "2h");
	cr_assert_str_eq(gq_config_get(tc, "compression_type"), "zstd");
	cr_assert_str_eq(gq_config_get(tc, "compression_threshold"), "100");
	cr_assert_str_eq(gq_config_get(tc, "retention_bytes"), "1073741824",
			 "the broker's default, not the library's");
	gq_topic_info_destroy(info);

	memset(value, 'a', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	produce_str("z", 0, NULL, value);
	produce_str("plain", 0, NULL, value);
	cr_assert_eq(stored_codec("z"), 4, "zstd");
	cr_assert_eq(stored_codec("plain"), 0, "uncompressed");
}

/* gq_topic_alter on a remote node goes to the controller as
 * IncrementalAlterConfigs: a describe right after it returns shows the
 * new values, and the next produce compresses with the new codec. */
Test(remote, topic_alter)
{
	struct gq_topic_info *info;
	const struct gq_config *tc;
	struct gq_config *cfg;
	char value[3000];
	gq_offset off;
	int rv;

	connect_remote();
	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "compression_type", "gzip", NULL), 0);
	cr_assert_eq(gq_config_set(cfg, "compression_threshold", "100", NULL),
		     0);
	cr_assert_eq(gq_topic_create(remote, "al", 1, 1, cfg), 0, "%s",
		     gq_node_errmsg(remote));
	gq_config_destroy(cfg);
	memset(value, 'a', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	produce_str("al", 0, NULL, value);
	cr_assert_eq(stored_codec("al"), 1, "gzip");

	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "retention_time", "3h", NULL), 0);
	cr_assert_eq(gq_config_set(cfg, "compression_type", "zstd", NULL), 0);
	rv = gq_topic_alter(remote, "al", cfg);
	cr_assert_eq(rv, 0, "%s: %s", gq_strerror(rv), gq_node_errmsg(remote));
	cr_assert_eq(gq_topic_describe(remote, "al", &info), 0);
	tc = gq_topic_info_config(info);
	cr_assert_str_eq(gq_config_get(tc, "retention_time"), "3h");
	cr_assert_str_eq(gq_config_get(tc, "compression_type"), "zstd");
	cr_assert_str_eq(gq_config_get(tc, "compression_threshold"), "100",
			 "a key not changed keeps its value");
	gq_topic_info_destroy(info);
	off = produce_str("al", 0, NULL, value);
	cr_assert_eq(stored_codec_at("al", off), 4, "zstd");

	/* A topic nobody made. */
	rv = gq_topic_alter(remote, "nosuch", cfg);
	cr_assert_eq(rv, GQ_ENOTOPIC, "%s: %s", gq_strerror(rv),
		     gq_node_errmsg(remote));
	gq_config_destroy(cfg);

	/* Bad values and keys never leave this node. */
	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "retention_time", "soon", NULL),
		     GQ_EINVAL);
	cr_assert_eq(gq_topic_alter(remote, "al", cfg), GQ_EINVAL,
		     "no key to change");
	cr_assert_eq(gq_config_set(cfg, "batch_size", "65536", NULL), 0);
	cr_assert_eq(gq_topic_alter(remote, "al", cfg), GQ_EINVAL,
		     "a node key");
	gq_config_destroy(cfg);

	/* The controller refuses a deduplication change, in its words. */
	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "deduplication_window", "77", NULL), 0);
	rv = gq_topic_alter(remote, "al", cfg);
	cr_assert_eq(rv, GQ_EINVAL, "%s: %s", gq_strerror(rv),
		     gq_node_errmsg(remote));
	cr_assert(strstr(gq_node_errmsg(remote), "deduplication_window") !=
			  NULL,
		  "%s", gq_node_errmsg(remote));
	gq_config_destroy(cfg);
	cr_assert_eq(gq_topic_describe(remote, "al", &info), 0);
	cr_assert_str_eq(
		gq_config_get(gq_topic_info_config(info), "compression_type"),
		"zstd");
	gq_topic_info_destroy(info);
}

static atomic_int drained_ok, drained_failed;

/* The stored batches @f holds, counted from their batchLength fields. */
static int
count_batches(struct gq_fetch *f)
{
	const uint8_t *p;
	const void *data;
	size_t len, at = 0;
	int n = 0;

	gq_fetch_records(f, &data, &len);
	p = data;
	while (at + 12 <= len) {
		uint32_t blen = (uint32_t)p[at + 8] << 24 |
				(uint32_t)p[at + 9] << 16 |
				(uint32_t)p[at + 10] << 8 | p[at + 11];

		at += 12 + blen;
		n++;
	}
	return n;
}

static void
on_drained(void *arg, int status, int32_t partition, gq_offset offset)
{
	(void)arg;
	(void)partition;
	(void)offset;
	if (status == 0)
		atomic_fetch_add(&drained_ok, 1);
	else
		atomic_fetch_add(&drained_failed, 1);
}

/* Closing a remote node lets the produce calls in progress finish: every
 * call made before gq_node_close() is acknowledged and stored, in order,
 * with batches joined from many calls. */
Test(remote, close_waits_for_produce_calls)
{
	enum { N = 5000 };
	struct gq_fetch *f;
	struct gq_record rec;
	gq_offset from = 0;
	char v[16];
	int batches;

	connect_remote();
	cr_assert_eq(gq_topic_create(remote, "t", 2, 1, NULL), 0);
	for (int i = 0; i < N; i++) {
		struct gq_msg m;

		memset(&m, 0, sizeof(m));
		snprintf(v, sizeof(v), "%d", i);
		m.value = v;
		m.value_len = strlen(v);
		cr_assert_eq(gq_produce_async(remote, "t", i % 2, &m, 1,
					      on_drained, NULL),
			     0);
	}
	gq_node_close(remote);
	remote = NULL;
	cr_assert_eq(atomic_load(&drained_ok), N, "%d acknowledged, %d failed",
		     atomic_load(&drained_ok), atomic_load(&drained_failed));
	connect_remote();
	for (int part = 0; part < 2; part++) {
		int want = part;

		from = 0;
		while (want < N) {
			cr_assert_eq(
				gq_fetch(remote, "t", part, from, 1 << 20, &f),
				0, "%s", gq_node_errmsg(remote));
			while (gq_fetch_next(f, &rec) == 1) {
				snprintf(v, sizeof(v), "%.*s",
					 (int)rec.value_len,
					 (const char *)rec.value);
				cr_assert_eq(atoi(v), want,
					     "partition %d offset %lld", part,
					     (long long)rec.offset);
				want += 2;
				from = rec.offset + 1;
			}
			gq_fetch_destroy(f);
		}
		cr_assert_eq(from, N / 2, "partition %d holds more", part);
		cr_assert_eq(gq_fetch(remote, "t", part, 0, 64 << 20, &f), 0);
		batches = count_batches(f);
		gq_fetch_destroy(f);
		cr_log_info("partition %d: %d messages in %d batches", part,
			    N / 2, batches);
		/* The calls came faster than the broker answered: most of
		 * them went out joined with others. */
		cr_assert_leq(batches, N / 2 / 4, "%d batches", batches);
	}
}

/* With a linger, async calls wait to go out together: a hundred made at
 * once are stored in a few batches; a blocking call waits for no linger
 * and takes the waiting calls of its partition with it. */
Test(remote, linger_joins_calls)
{
	enum { N = 100 };
	struct gq_fetch *f;
	gq_offset off = -1;
	char v[16];

	connect_remote_with("linger", "60s");
	cr_assert_eq(gq_topic_create(remote, "lg", 1, 1, NULL), 0);
	atomic_store(&drained_ok, 0);
	for (int i = 0; i < N; i++) {
		struct gq_msg m;

		memset(&m, 0, sizeof(m));
		snprintf(v, sizeof(v), "%d", i);
		m.value = v;
		m.value_len = strlen(v);
		cr_assert_eq(gq_produce_async(remote, "lg", 0, &m, 1,
					      on_drained, NULL),
			     0);
	}
	/* Nothing went: the linger is a minute. */
	cr_assert_eq(gq_list_offsets(remote, "lg", 0, GQ_OFFSET_LATEST, &off),
		     0);
	cr_assert_eq(off, 0, "%lld stored before the linger ended",
		     (long long)off);
	off = produce_str("lg", 0, NULL, "last");
	cr_assert_eq(off, N, "the blocking call comes after the waiting ones");
	cr_assert_eq(atomic_load(&drained_ok), N,
		     "the waiting calls went with the blocking one");
	cr_assert_eq(gq_fetch(remote, "lg", 0, 0, 1 << 20, &f), 0);
	cr_assert_eq(count_batches(f), 1, "one batch for all %d calls", N + 1);
	gq_fetch_destroy(f);
}

/* A linger that runs out sends what waited, by itself. */
Test(remote, linger_expires)
{
	enum { N = 50 };
	struct gq_fetch *f;
	char v[16];
	int batches;

	connect_remote_with("linger", "300ms");
	cr_assert_eq(gq_topic_create(remote, "le", 1, 1, NULL), 0);
	atomic_store(&drained_ok, 0);
	for (int i = 0; i < N; i++) {
		struct gq_msg m;

		memset(&m, 0, sizeof(m));
		snprintf(v, sizeof(v), "%d", i);
		m.value = v;
		m.value_len = strlen(v);
		cr_assert_eq(gq_produce_async(remote, "le", 0, &m, 1,
					      on_drained, NULL),
			     0);
	}
	while (atomic_load(&drained_ok) + atomic_load(&drained_failed) < N)
		usleep(10000);
	cr_assert_eq(atomic_load(&drained_ok), N);
	cr_assert_eq(gq_fetch(remote, "le", 0, 0, 1 << 20, &f), 0);
	batches = count_batches(f);
	gq_fetch_destroy(f);
	/* Made well within the linger: one batch, two if the calls
	 * straddled its end. */
	cr_assert_leq(batches, 2, "%d batches", batches);
}

/* What a remote node cannot do yet says so; bad lists and unreachable
 * brokers fail the connect. */
Test(remote, errors)
{
	struct gq_config *cfg;
	struct gq_node *n2 = NULL;
	char list[200];
	int rv;

	connect_remote();
	cr_assert_eq(gq_topic_create(remote, "t", 1, 1, NULL), 0);
	cr_assert_eq(gq_partition_sync(remote, "t", 0, 100), GQ_EUNSUPPORTED);
	cr_assert(strstr(gq_node_errmsg(remote), "remote") != NULL);

	cr_assert_eq(gq_node_connect("", NULL, &n2), GQ_EINVAL);
	cr_assert_eq(gq_node_connect("no-port", NULL, &n2), GQ_EINVAL);
	cr_assert_eq(gq_node_connect(bootstrap, NULL, NULL), GQ_EINVAL);
	cr_assert_eq(gq_config_create(&cfg), 0);
	cr_assert_eq(gq_config_set(cfg, "request_timeout", "500ms", NULL), 0);
	snprintf(list, sizeof(list), "127.0.0.1:%d", gqt_free_port());
	rv = gq_node_connect(list, cfg, &n2);
	cr_assert_eq(rv, GQ_EIO, "%s", gq_strerror(rv));
	cr_assert(strstr(gq_node_errmsg(NULL), list) != NULL, "%s",
		  gq_node_errmsg(NULL));
	/* A dead address first, a live one next: it connects. */
	snprintf(list, sizeof(list), "127.0.0.1:%d,%s", gqt_free_port(),
		 bootstrap);
	cr_assert_eq(gq_node_connect(list, cfg, &n2), 0, "%s",
		     gq_node_errmsg(NULL));
	gq_node_close(n2);
	gq_config_destroy(cfg);
}

/* ---- consumer groups ----------------------------------------------------- */

struct member {
	struct gq_node *node;
	struct gq_consumer *c;
	pthread_t th;
	atomic_int read;
	atomic_int assigned;
	atomic_bool stop;
	atomic_int *got;
};

static void
on_assign(void *arg, struct gq_consumer *c, const struct gq_topic_partition *p,
	  size_t n)
{
	struct member *m = arg;

	(void)c;
	(void)p;
	atomic_store(&m->assigned, (int)n);
}

static void *
member_thread(void *arg)
{
	struct member *m = arg;

	while (!atomic_load(&m->stop)) {
		struct gq_consumer_message msg;
		int rv = gq_consumer_poll(m->c, 100, &msg);
		char v[16];

		if (rv != 1)
			continue;
		snprintf(v, sizeof(v), "%.*s", (int)msg.record.value_len,
			 (const char *)msg.record.value);
		atomic_fetch_add(&m->got[atoi(v)], 1);
		atomic_fetch_add(&m->read, 1);
	}
	return NULL;
}

static void
member_start(struct member *m, atomic_int *got)
{
	struct gq_consumer_options o;
	const char *topics[] = { "g" };
	int rv;

	m->got = got;
	rv = gq_node_connect(bootstrap, NULL, &m->node);
	cr_assert_eq(rv, 0, "%s", gq_node_errmsg(NULL));
	gq_consumer_options_init(&o);
	o.group = "remote-group";
	o.offset_reset = GQ_RESET_EARLIEST;
	o.heartbeat_interval_ms = 300;
	o.session_timeout_ms = 30000;
	o.on_assign = on_assign;
	o.cb_arg = m;
	cr_assert_eq(gq_consumer_create(m->node, &o, &m->c), 0);
	cr_assert_eq(gq_consumer_subscribe(m->c, topics, 1), 0);
	pthread_create(&m->th, NULL, member_thread, m);
}

static void
member_stop(struct member *m)
{
	atomic_store(&m->stop, true);
	pthread_join(m->th, NULL);
	gq_consumer_close(m->c);
	gq_node_close(m->node);
}

static void
await(atomic_int *v, int want)
{
	uint64_t until = now_ms() + 60000;

	while (atomic_load(v) != want && now_ms() < until)
		usleep(20000);
	cr_assert_eq(atomic_load(v), want);
}

/* The embedded group consumer on two remote nodes: they split the four
 * partitions through gqd's coordinator, every message is read once, and
 * when one closes the other takes all four; the group's commits are
 * what a third member resumes from. */
Test(remote, group_consumers)
{
	static atomic_int got[400];
	struct member a = { 0 }, b = { 0 };
	uint64_t until;
	struct gq_msg m;
	char v[16];

	connect_remote();
	cr_assert_eq(gq_topic_create(remote, "g", 4, 1, NULL), 0);
	for (int k = 0; k < 200; k++) {
		memset(&m, 0, sizeof(m));
		snprintf(v, sizeof(v), "%d", k);
		m.value = v;
		m.value_len = strlen(v);
		cr_assert_eq(gq_produce(remote, "g", k % 4, &m, 1, NULL, NULL),
			     0);
	}
	member_start(&a, got);
	await(&a.assigned, 4);
	member_start(&b, got);
	await(&b.assigned, 2);
	await(&a.assigned, 2);
	for (int k = 200; k < 400; k++) {
		memset(&m, 0, sizeof(m));
		snprintf(v, sizeof(v), "%d", k);
		m.value = v;
		m.value_len = strlen(v);
		cr_assert_eq(gq_produce(remote, "g", k % 4, &m, 1, NULL, NULL),
			     0);
	}
	until = now_ms() + 60000;
	while (atomic_load(&a.read) + atomic_load(&b.read) < 400 &&
	       now_ms() < until)
		usleep(20000);
	for (int k = 0; k < 400; k++)
		cr_assert_eq(atomic_load(&got[k]), 1,
			     "message %d read %d times", k,
			     atomic_load(&got[k]));
	cr_assert_gt(atomic_load(&b.read), 0);
	member_stop(&b);
	await(&a.assigned, 4);
	member_stop(&a);
}

/* ---- a three-broker cluster ---------------------------------------------- */

static void
cluster_setup(void)
{
	brokers_setup(BROKERS);
}

TestSuite(remote_cluster, .init = cluster_setup, .fini = teardown,
	  .timeout = 240);

/* Produce "<k>", retrying while the outcome is unknown (a request that
 * was on the wire when its connection broke), as an application without
 * idempotence does; returns how many retries that took. */
static int
produce_retrying(int k)
{
	struct gq_msg m;
	char v[16];
	int retries = 0, rv;

	memset(&m, 0, sizeof(m));
	snprintf(v, sizeof(v), "%d", k);
	m.value = v;
	m.value_len = strlen(v);
	while ((rv = gq_produce(remote, "f", 0, &m, 1, NULL, NULL)) ==
	       GQ_EUNKNOWN)
		retries++;
	cr_assert_eq(rv, 0, "produce %d: %s: %s", k, gq_strerror(rv),
		     gq_node_errmsg(remote));
	return retries;
}

/* How often each "<k>" of topic "f" partition 0 up to @end is stored,
 * into @seen[0..n); every value must be one of those, in increasing
 * order where @ordered. */
static void
read_back(gq_offset end, int *seen, int n, bool ordered)
{
	uint64_t until = now_ms() + 30000;
	gq_offset from = 0;
	struct gq_fetch *f;
	struct gq_record rec;
	char v[16];
	int last = -1;

	while (from < end && now_ms() < until) {
		cr_assert_eq(gq_fetch(remote, "f", 0, from, 1 << 16, &f), 0,
			     "%s", gq_node_errmsg(remote));
		while (gq_fetch_next(f, &rec) == 1) {
			int k;

			snprintf(v, sizeof(v), "%.*s", (int)rec.value_len,
				 (const char *)rec.value);
			k = atoi(v);
			cr_assert(k >= 0 && k < n, "stray value %s", v);
			cr_assert(!ordered || k > last,
				  "%d stored after %d: out of order", k, last);
			last = k;
			seen[k]++;
			from = rec.offset + 1;
		}
		gq_fetch_destroy(f);
	}
	cr_assert_geq(from, end, "read up to %lld of %lld", (long long)from,
		      (long long)end);
}

/* SIGKILL the leader of "f"/0 and return its id. */
static int32_t
kill_leader(void)
{
	int32_t leader = -1;

	cr_assert_eq(gq_partition_leader(remote, "f", 0, &leader, NULL), 0);
	cr_assert(leader >= 1 && leader <= BROKERS, "leader %d", leader);
	gqd_stop(leader - 1, SIGKILL);
	return leader;
}

#define STREAM 3000

static int stream_status[STREAM];
static gq_offset stream_offset[STREAM];

static void
on_stream_produced(void *arg, int status, int32_t partition, gq_offset offset)
{
	intptr_t k = (intptr_t)arg;

	(void)partition;
	stream_offset[k] = offset;
	__atomic_store_n(&stream_status[k], status, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&async_done, 1, __ATOMIC_SEQ_CST);
}

/* A stream of async calls through a remote node (idempotent, the
 * default) while the partition's leader is SIGKILLed: every call
 * succeeds, and every message is stored exactly once, in the order the
 * calls were made. */
Test(remote_cluster, leader_failover)
{
	static int seen[STREAM];
	int32_t leader, now_leader = -1;
	gq_offset end;
	char v[16];
	int rv;

	connect_remote();
	rv = gq_topic_create(remote, "f", 1, 3, NULL);
	cr_assert_eq(rv, 0, "%s", gq_node_errmsg(remote));
	async_done = 0;
	leader = -1;
	for (intptr_t k = 0; k < STREAM; k++) {
		struct gq_msg m;

		memset(&m, 0, sizeof(m));
		snprintf(v, sizeof(v), "%d", (int)k);
		m.value = v;
		m.value_len = strlen(v);
		stream_status[k] = 1;
		rv = gq_produce_async(remote, "f", 0, &m, 1, on_stream_produced,
				      (void *)k);
		cr_assert_eq(rv, 0, "%s", gq_strerror(rv));
		if (k == STREAM / 3)
			leader = kill_leader();
		if (k % 100 == 0)
			usleep(20000);
	}
	while (__atomic_load_n(&async_done, __ATOMIC_SEQ_CST) < STREAM)
		usleep(10000);
	for (int k = 0; k < STREAM; k++) {
		cr_assert_eq(stream_status[k], 0, "call %d: %s", k,
			     gq_strerror(stream_status[k]));
		cr_assert(k == 0 || stream_offset[k] > stream_offset[k - 1],
			  "call %d at offset %lld after %lld", k,
			  (long long)stream_offset[k],
			  (long long)stream_offset[k - 1]);
	}
	cr_assert_eq(gq_partition_leader(remote, "f", 0, &now_leader, NULL), 0);
	cr_assert_neq(now_leader, leader);
	cr_assert_eq(gq_list_offsets(remote, "f", 0, GQ_OFFSET_LATEST, &end),
		     0);
	cr_assert_eq(end, STREAM, "%lld stored for %d calls", (long long)end,
		     STREAM);
	read_back(end, seen, STREAM, true);
	for (int k = 0; k < STREAM; k++)
		cr_assert_eq(seen[k], 1, "message %d stored %d times", k,
			     seen[k]);
}

/* Without idempotence the same failover loses nothing acknowledged, and
 * duplicates come only from retries after GQ_EUNKNOWN. */
Test(remote_cluster, leader_failover_not_idempotent)
{
	static int seen[200];
	int32_t leader, now_leader = -1;
	gq_offset end;
	int retries = 0, dups = 0;
	char v[16];
	int rv;

	connect_remote_with("enable_idempotence", "false");
	rv = gq_topic_create(remote, "f", 1, 3, NULL);
	cr_assert_eq(rv, 0, "%s", gq_node_errmsg(remote));
	for (int k = 0; k < 100; k++) {
		snprintf(v, sizeof(v), "%d", k);
		produce_str("f", 0, NULL, v);
	}
	leader = kill_leader();
	for (int k = 100; k < 200; k++)
		retries += produce_retrying(k);
	cr_assert_eq(gq_partition_leader(remote, "f", 0, &now_leader, NULL), 0);
	cr_assert_neq(now_leader, leader);
	cr_assert_eq(gq_list_offsets(remote, "f", 0, GQ_OFFSET_LATEST, &end),
		     0);
	cr_assert_geq(end, 200);
	cr_assert_leq(end, 200 + retries);
	read_back(end, seen, 200, false);
	for (int k = 0; k < 200; k++) {
		cr_assert_geq(seen[k], 1, "acknowledged message %d lost", k);
		dups += seen[k] - 1;
	}
	cr_assert_leq(dups, retries);
}

/* ---- consumer-group admin calls ------------------------------------------ */

/*
 * gq_group_describe(), gq_group_list(), gq_group_lags() and the blocking
 * gq_group_commit() on a remote node: DescribeGroups, ListGroups to every
 * broker, OffsetFetch of all partitions and OffsetCommit without member,
 * with the results the embedded calls document (gq_group_coordinator(3)).
 */

#define ADMIN_GROUP "admin-group"
#define ADMIN_PARTS 4

TestSuite(remote_groups_admin, .init = setup, .fini = teardown, .timeout = 180);

/* Start @m as a consumer of ADMIN_GROUP on topic "ga", on a node of its
 * own. */
static void
admin_member_start(struct member *m, atomic_int *got, const char *client_id)
{
	struct gq_consumer_options o;
	const char *topics[] = { "ga" };
	int rv;

	m->got = got;
	rv = gq_node_connect(bootstrap, NULL, &m->node);
	cr_assert_eq(rv, 0, "%s", gq_node_errmsg(NULL));
	gq_consumer_options_init(&o);
	o.group = ADMIN_GROUP;
	o.client_id = client_id;
	o.offset_reset = GQ_RESET_EARLIEST;
	o.heartbeat_interval_ms = 300;
	o.session_timeout_ms = 30000;
	o.on_assign = on_assign;
	o.cb_arg = m;
	cr_assert_eq(gq_consumer_create(m->node, &o, &m->c), 0);
	cr_assert_eq(gq_consumer_subscribe(m->c, topics, 1), 0);
	pthread_create(&m->th, NULL, member_thread, m);
}

/* Produce "<k>" for k in [@from, @to) to partition k % ADMIN_PARTS of
 * "ga". */
static void
admin_produce(int from, int to)
{
	char v[16];

	for (int k = from; k < to; k++) {
		snprintf(v, sizeof(v), "%d", k);
		produce_str("ga", k % ADMIN_PARTS, NULL, v);
	}
}

static int16_t
be16(const uint8_t *p)
{
	return (int16_t)((p[0] << 8) | p[1]);
}

static int32_t
be32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			 (uint32_t)p[2] << 8 | p[3]);
}

/* Count in @seen each partition of "ga" a ConsumerProtocolAssignment
 * (Version INT16, [Topic STRING, [Partition INT32]], UserData BYTES)
 * gives; every topic in it must be "ga". */
static void
assignment_count(const uint8_t *p, size_t len, int *seen)
{
	const uint8_t *end = p + len;
	int32_t n_topics;

	cr_assert_geq(len, 6, "assignment of %zu bytes", len);
	cr_assert_geq(be16(p), 0);
	n_topics = be32(p + 2);
	p += 6;
	for (int32_t t = 0; t < n_topics; t++) {
		int16_t tl;
		int32_t np;

		cr_assert_leq(p + 2, end);
		tl = be16(p);
		cr_assert(tl == 2 && p + 2 + tl + 4 <= end &&
				  memcmp(p + 2, "ga", 2) == 0,
			  "assignment of another topic");
		p += 2 + tl;
		np = be32(p);
		p += 4;
		cr_assert_leq(p + 4 * (size_t)np, end);
		for (int32_t k = 0; k < np; k++, p += 4) {
			int32_t part = be32(p);

			cr_assert(part >= 0 && part < ADMIN_PARTS,
				  "partition %d", part);
			seen[part]++;
		}
	}
}

/* Describe ADMIN_GROUP until it is in @state (a rebalance or a leave may
 * still be settling), and return that description. */
static struct gq_group_info *
describe_until(const char *group, const char *state)
{
	uint64_t until = now_ms() + 30000;
	struct gq_group_info *info = NULL;
	int rv;

	for (;;) {
		rv = gq_group_describe(remote, group, &info);
		cr_assert_eq(rv, 0, "describe: %s: %s", gq_strerror(rv),
			     gq_node_errmsg(remote));
		if (strcmp(info->state, state) == 0 || now_ms() >= until)
			break;
		gq_group_info_destroy(info);
		usleep(100000);
	}
	cr_assert_str_eq(info->state, state);
	return info;
}

/* The entry of @group in a listing, or NULL. */
static const struct gq_group_info *
listed(const struct gq_group_info *g, size_t n, const char *group)
{
	const struct gq_group_info *found = NULL;

	for (size_t i = 0; i < n; i++) {
		cr_assert_not_null(g[i].group);
		cr_assert_null(g[i].members);
		if (i > 0)
			cr_assert_lt(strcmp(g[i - 1].group, g[i].group), 0,
				     "listed out of order, or twice: %s",
				     g[i].group);
		if (strcmp(g[i].group, group) == 0)
			found = &g[i];
	}
	return found;
}

/* Two remote consumers in a group: describe shows it Stable with both
 * members and assignments that cover every partition once, the listing
 * has it, and the memberless commit is refused while they are in it.
 * Once they left: Empty; commits land, and the lags, offsets and fetched
 * offset are the values committed against the high watermarks. */
Test(remote_groups_admin, describe_list_lags_commit)
{
	static atomic_int got[400];
	static const gq_offset want[ADMIN_PARTS] = { 2, 3, 4, 20 };
	struct member a = { 0 }, b = { 0 };
	struct gq_group_offset offs[ADMIN_PARTS];
	const struct gq_group_info *e;
	struct gq_group_info *info, *groups;
	struct gq_group_lag *lags;
	int seen[ADMIN_PARTS] = { 0 };
	int seen_ids = 0;
	gq_offset off;
	size_t n;
	uint64_t until;
	int rv;

	connect_remote();
	cr_assert_eq(gq_topic_create(remote, "ga", ADMIN_PARTS, 1, NULL), 0);
	admin_produce(0, 40); /* 10 per partition */
	admin_member_start(&a, got, "admin-a");
	await(&a.assigned, ADMIN_PARTS);
	admin_member_start(&b, got, "admin-b");
	await(&b.assigned, 2);
	await(&a.assigned, 2);
	until = now_ms() + 60000;
	while (atomic_load(&a.read) + atomic_load(&b.read) < 40 &&
	       now_ms() < until)
		usleep(20000);
	cr_assert_eq(atomic_load(&a.read) + atomic_load(&b.read), 40);

	/* Stable, two members, the four partitions assigned once. */
	info = describe_until(ADMIN_GROUP, "Stable");
	cr_assert_str_eq(info->group, ADMIN_GROUP);
	cr_assert_str_eq(info->protocol_type, "consumer");
	cr_assert_str_eq(info->protocol, "range");
	cr_assert_eq(info->generation, -1); /* DescribeGroups has none */
	cr_assert_str_eq(info->leader, "");
	cr_assert_eq(info->n_members, 2);
	cr_assert_not_null(info->members);
	for (size_t i = 0; i < info->n_members; i++) {
		const struct gq_group_member_info *m = &info->members[i];

		cr_assert(m->member_id != NULL && m->member_id[0] != '\0');
		cr_assert_null(m->group_instance_id);
		/* Each member's own client id (its JoinGroup's header). */
		cr_assert(m->client_id != NULL &&
				  (strcmp(m->client_id, "admin-a") == 0 ||
				   strcmp(m->client_id, "admin-b") == 0),
			  "client id %s", m->client_id);
		seen_ids |= strcmp(m->client_id, "admin-a") == 0 ? 1 : 2;
		cr_assert_str_eq(m->client_host, "/127.0.0.1");
		cr_assert(m->metadata != NULL && m->metadata_len > 0);
		cr_assert(m->assignment != NULL && m->assignment_len > 0);
		assignment_count(m->assignment, m->assignment_len, seen);
	}
	cr_assert_str_neq(info->members[0].member_id,
			  info->members[1].member_id);
	cr_assert_eq(seen_ids, 3, "both client ids shown");
	for (int p = 0; p < ADMIN_PARTS; p++)
		cr_assert_eq(seen[p], 1, "partition %d assigned %d times", p,
			     seen[p]);
	gq_group_info_destroy(info);

	/* The listing has it, without members. */
	rv = gq_group_list(remote, &groups, &n);
	cr_assert_eq(rv, 0, "list: %s: %s", gq_strerror(rv),
		     gq_node_errmsg(remote));
	e = listed(groups, n, ADMIN_GROUP);
	cr_assert_not_null(e, "%s not listed", ADMIN_GROUP);
	cr_assert_str_eq(e->state, "Stable");
	cr_assert_str_eq(e->protocol_type, "consumer");
	cr_assert_eq(e->n_members, 2);
	gq_group_list_free(groups, n);

	/* The brokers take a commit without member only from an Empty
	 * group (an embedded node stores it anyway). */
	rv = gq_group_commit(remote, ADMIN_GROUP, "ga", 0, 1, NULL);
	cr_assert_eq(rv, GQ_EMEMBER, "%s", gq_strerror(rv));
	cr_assert(strstr(gq_node_errmsg(remote), "members") != NULL, "%s",
		  gq_node_errmsg(remote));

	member_stop(&b);
	member_stop(&a);
	info = describe_until(ADMIN_GROUP, "Empty");
	cr_assert_eq(info->n_members, 0);
	cr_assert_null(info->members);
	cr_assert_str_eq(info->protocol, "");
	gq_group_info_destroy(info);

	/* Known offsets on the Empty group (one past the high watermark),
	 * then more messages: 15 per partition. */
	for (int p = 0; p < ADMIN_PARTS; p++) {
		rv = gq_group_commit(remote, ADMIN_GROUP, "ga", p, want[p],
				     p == 0 ? "admin" : NULL);
		cr_assert_eq(rv, 0, "commit %d: %s: %s", p, gq_strerror(rv),
			     gq_node_errmsg(remote));
	}
	admin_produce(40, 60);
	rv = gq_group_lags(remote, ADMIN_GROUP, &lags, &n);
	cr_assert_eq(rv, 0, "lags: %s: %s", gq_strerror(rv),
		     gq_node_errmsg(remote));
	cr_assert_eq(n, ADMIN_PARTS);
	for (int p = 0; p < ADMIN_PARTS; p++) {
		gq_offset hw;

		cr_assert_eq(
			gq_list_offsets(remote, "ga", p, GQ_OFFSET_LATEST, &hw),
			0);
		cr_assert_eq(hw, 15);
		cr_assert_str_eq(lags[p].topic, "ga");
		cr_assert_eq(lags[p].partition, p);
		cr_assert_eq(lags[p].committed, want[p]);
		cr_assert_eq(lags[p].high_watermark, hw);
		cr_assert_eq(lags[p].lag, want[p] < hw ? hw - want[p] : 0,
			     "partition %d: lag %lld", p,
			     (long long)lags[p].lag);
	}
	gq_group_lag_free(lags);

	/* Read back through both calls. */
	for (int p = 0; p < ADMIN_PARTS; p++) {
		memset(&offs[p], 0, sizeof(offs[p]));
		offs[p].topic = "ga";
		offs[p].partition = p;
	}
	cr_assert_eq(gq_group_offsets(remote, ADMIN_GROUP, offs, ADMIN_PARTS),
		     0);
	for (int p = 0; p < ADMIN_PARTS; p++) {
		cr_assert_eq(offs[p].status, 0);
		cr_assert_eq(offs[p].offset, want[p]);
	}
	cr_assert_eq(gq_group_fetch_offset(remote, ADMIN_GROUP, "ga", 3, &off),
		     0);
	cr_assert_eq(off, 20);

	/* Still listed, Empty. */
	cr_assert_eq(gq_group_list(remote, &groups, &n), 0);
	e = listed(groups, n, ADMIN_GROUP);
	cr_assert_not_null(e);
	cr_assert_str_eq(e->state, "Empty");
	cr_assert_eq(e->n_members, 0);
	gq_group_list_free(groups, n);
}

/* What the embedded calls answer for a group nobody used, and for one
 * that only commits (no member ever joined): the same through a remote
 * node. */
Test(remote_groups_admin, unknown_and_commit_only_groups)
{
	struct gq_group_info *info, *groups;
	const struct gq_group_info *e;
	struct gq_group_lag *lags = (void *)1;
	gq_offset off = 0;
	size_t n = 1;
	int rv;

	connect_remote();
	cr_assert_eq(gq_topic_create(remote, "gu", 2, 1, NULL), 0);

	/* Unknown: "Dead", generation 0, nothing else; no offsets. */
	rv = gq_group_describe(remote, "nobody", &info);
	cr_assert_eq(rv, 0, "%s: %s", gq_strerror(rv), gq_node_errmsg(remote));
	cr_assert_str_eq(info->group, "nobody");
	cr_assert_str_eq(info->state, "Dead");
	cr_assert_eq(info->generation, 0);
	cr_assert_str_eq(info->protocol_type, "");
	cr_assert_str_eq(info->protocol, "");
	cr_assert_str_eq(info->leader, "");
	cr_assert_eq(info->n_members, 0);
	cr_assert_null(info->members);
	gq_group_info_destroy(info);
	rv = gq_group_lags(remote, "nobody", &lags, &n);
	cr_assert_eq(rv, 0, "%s: %s", gq_strerror(rv), gq_node_errmsg(remote));
	cr_assert_eq(n, 0);
	cr_assert_null(lags);
	cr_assert_eq(gq_group_fetch_offset(remote, "nobody", "gu", 0, &off), 0);
	cr_assert_eq(off, -1);
	cr_assert_eq(gq_group_list(remote, &groups, &n), 0);
	cr_assert_null(listed(groups, n, "nobody"));
	gq_group_list_free(groups, n);

	/* Bad arguments fail here, as on an embedded node. */
	cr_assert_eq(gq_group_describe(remote, "", &info), GQ_EBADNAME);
	cr_assert_eq(gq_group_lags(remote, "", &lags, &n), GQ_EBADNAME);
	cr_assert_eq(gq_group_describe(remote, "x", NULL), GQ_EINVAL);
	cr_assert_eq(gq_group_list(remote, NULL, &n), GQ_EINVAL);
	cr_assert_eq(gq_group_commit(remote, "only", "nope", 0, 1, NULL),
		     GQ_ENOTOPIC);
	cr_assert_eq(gq_group_commit(remote, "only", "gu", 2, 1, NULL),
		     GQ_ENOPARTITION);
	cr_assert_eq(gq_group_commit(remote, "only", "gu", 0, -1, NULL),
		     GQ_EINVAL);

	/* Commits alone: described and listed as Empty. */
	cr_assert_eq(gq_group_commit(remote, "only", "gu", 1, 7, "m"), 0, "%s",
		     gq_node_errmsg(remote));
	cr_assert_eq(gq_group_commit(remote, "only", "gu", 1, 9, NULL), 0);
	info = describe_until("only", "Empty");
	cr_assert_eq(info->n_members, 0);
	cr_assert_str_eq(info->protocol_type, "");
	gq_group_info_destroy(info);
	cr_assert_eq(gq_group_list(remote, &groups, &n), 0);
	e = listed(groups, n, "only");
	cr_assert_not_null(e, "a group with offsets only is listed");
	cr_assert_str_eq(e->state, "Empty");
	gq_group_list_free(groups, n);
	cr_assert_eq(gq_group_lags(remote, "only", &lags, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(lags[0].topic, "gu");
	cr_assert_eq(lags[0].partition, 1);
	cr_assert_eq(lags[0].committed, 9);
	cr_assert_eq(lags[0].high_watermark, 0);
	cr_assert_eq(lags[0].lag, 0);
	gq_group_lag_free(lags);
}

TestSuite(remote_groups_admin_cluster, .init = cluster_setup, .fini = teardown,
	  .timeout = 240);

/* Every broker is asked (gqd has one offsets partition, so one broker
 * coordinates every group and the others answer empty lists): the groups
 * are all listed, once and in order; a broker that cannot be reached
 * fails the whole listing, even one that coordinates nothing. */
Test(remote_groups_admin_cluster, list_every_broker)
{
	struct gq_group_info *groups;
	struct gq_group_lag *lags;
	int32_t coord = -1, broker = -1, other;
	char name[32], want[32];
	size_t n;
	int rv;

	connect_remote();
	rv = gq_topic_create(remote, "gl", 2, 3, NULL);
	cr_assert_eq(rv, 0, "%s", gq_node_errmsg(remote));
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "list-%02d", i);
		rv = gq_group_commit(remote, name, "gl", i % 2, i + 1, NULL);
		cr_assert_eq(rv, 0, "commit %s: %s: %s", name, gq_strerror(rv),
			     gq_node_errmsg(remote));
		cr_assert_eq(gq_group_coordinator(remote, name, &broker), 0);
		cr_assert(coord < 0 || broker == coord);
		coord = broker;
	}
	cr_assert(coord >= 1 && coord <= BROKERS, "coordinator %d", coord);

	rv = gq_group_list(remote, &groups, &n);
	cr_assert_eq(rv, 0, "list: %s: %s", gq_strerror(rv),
		     gq_node_errmsg(remote));
	for (int i = 0; i < 12; i++) {
		const struct gq_group_info *e;

		snprintf(name, sizeof(name), "list-%02d", i);
		e = listed(groups, n, name);
		cr_assert_not_null(e, "%s not listed", name);
		cr_assert_str_eq(e->state, "Empty");
		cr_assert_eq(e->n_members, 0);
	}
	gq_group_list_free(groups, n);
	rv = gq_group_lags(remote, "list-05", &lags, &n);
	cr_assert_eq(rv, 0, "%s", gq_node_errmsg(remote));
	cr_assert_eq(n, 1);
	cr_assert_eq(lags[0].partition, 1);
	cr_assert_eq(lags[0].committed, 6);
	gq_group_lag_free(lags);

	/* A broker that coordinates nothing goes: its part of the listing
	 * is missing, so there is none. */
	other = coord % BROKERS + 1;
	gqd_stop(other - 1, SIGKILL);
	rv = gq_group_list(remote, &groups, &n);
	cr_assert_eq(rv, GQ_EIO, "%s", gq_strerror(rv));
	snprintf(want, sizeof(want), "broker %d", (int)other);
	cr_assert(strstr(gq_node_errmsg(remote), want) != NULL, "%s",
		  gq_node_errmsg(remote));
}
