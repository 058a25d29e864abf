/* SPDX-License-Identifier: MIT */
/*
 * gqbench.c - libgoqueue benchmark: durable produce throughput through the
 * async API, blocking-produce latency, fetch throughput.  Public API only.
 *
 *   gqbench [-d DIR] [-n MESSAGES] [-b BATCH] [-w WINDOW] [-l LAT_COUNT]
 *           [-c PORT [-i PARTITIONS] [-S RAFT_SEGMENT_SIZE]]
 *
 * Every produce is acknowledged only when durable (Raft commit after
 * fdatasync), as the library always does.  Figures go to stdout.
 *
 * With -c, three nodes in this process form a cluster on 127.0.0.1 ports
 * PORT+1..PORT+3 instead: produce to a partition with three replicas
 * (1 KiB messages), blocking-produce latency, then the time from closing
 * the partition's leader to the first produce the others accept.  With
 * -i as well, they create PARTITIONS partitions of three replicas (so each
 * node hosts that many) and report the time until all are led, memory,
 * threads, descriptors, and the CPU used while they sit idle for 20 s.
 * -S sets the nodes' raft_segment_size (the size of each Raft log file).
 */
#include <dirent.h>
#include <getopt.h>
#include <goqueue.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct window {
	atomic_long outstanding;
	atomic_long failed;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
on_ack(void *arg, int status, int32_t partition, gq_offset base)
{
	struct window *w = arg;

	(void)partition;
	(void)base;
	if (status != 0)
		atomic_fetch_add(&w->failed, 1);
	atomic_fetch_sub(&w->outstanding, 1);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
die(const char *what, int rv, struct gq_node *node)
{
	fprintf(stderr, "%s: %s (%s)\n", what, gq_strerror(rv),
		gq_node_errmsg(node));
	exit(1);
}

/* Produce @n messages of @size bytes in calls of @batch messages, keeping
 * at most @window calls in flight. */
static void
bench_produce(struct gq_node *node, const char *topic, long n, size_t size,
	      int batch, long window)
{
	struct gq_msg *msgs = calloc((size_t)batch, sizeof(*msgs));
	char *payload = malloc(size);
	struct window w = { 0 };
	double t0, dt;
	long sent = 0;

	for (size_t i = 0; i < size; i++)
		payload[i] = (char)('a' + (i * 7) % 26);
	for (int i = 0; i < batch; i++) {
		msgs[i].value = payload;
		msgs[i].value_len = size;
	}
	t0 = now_s();
	while (sent < n) {
		int k = (int)(n - sent < batch ? n - sent : batch);
		int rv;

		while (atomic_load(&w.outstanding) >= window)
			usleep(20);
		atomic_fetch_add(&w.outstanding, 1);
		rv = gq_produce_async(node, topic, 0, msgs, (size_t)k, on_ack,
				      &w);
		if (rv != 0)
			die("produce_async", rv, node);
		sent += k;
	}
	while (atomic_load(&w.outstanding) > 0)
		usleep(50);
	dt = now_s() - t0;
	printf("produce  %5zu B x %-8ld batch %-4d window %-5ld: "
	       "%10.0f msg/s %8.1f MB/s  (%ld failed)\n",
	       size, n, batch, window, (double)n / dt,
	       (double)n * (double)size / dt / 1e6, atomic_load(&w.failed));
	free(msgs);
	free(payload);
}

static void
bench_latency(struct gq_node *node, const char *topic, long count, size_t size)
{
	double *lat = calloc((size_t)count, sizeof(*lat));
	char *payload = malloc(size);
	struct gq_msg m;

	memset(payload, 'x', size);
	memset(&m, 0, sizeof(m));
	m.value = payload;
	m.value_len = size;
	for (long i = 0; i < count; i++) {
		double t0 = now_s();
		int rv = gq_produce(node, topic, 0, &m, 1, NULL, NULL);

		if (rv != 0)
			die("produce", rv, node);
		lat[i] = (now_s() - t0) * 1e6;
	}
	qsort(lat, (size_t)count, sizeof(*lat), cmp_double);
	printf("blocking produce latency (%zu B, %ld calls): p50 %.0f us, "
	       "p99 %.0f us, max %.0f us\n",
	       size, count, lat[count / 2], lat[count * 99 / 100],
	       lat[count - 1]);
	free(lat);
	free(payload);
}

static void
bench_fetch(struct gq_node *node, const char *topic)
{
	gq_offset next = 0;
	long msgs = 0;
	size_t bytes = 0;
	double t0 = now_s(), dt;

	for (;;) {
		struct gq_fetch *f;
		struct gq_record r;
		long got = 0;
		int rv;

		if ((rv = gq_fetch(node, topic, 0, next, 4 << 20, &f)) != 0)
			die("fetch", rv, node);
		while ((rv = gq_fetch_next(f, &r)) == 1) {
			bytes += r.value_len;
			next = r.offset + 1;
			got++;
		}
		gq_fetch_destroy(f);
		if (rv < 0)
			die("fetch_next", rv, node);
		if (got == 0)
			break;
		msgs += got;
	}
	dt = now_s() - t0;
	printf("fetch    %ld messages: %10.0f msg/s %8.1f MB/s\n", msgs,
	       (double)msgs / dt, (double)bytes / dt / 1e6);
}

static struct gq_node *
fresh_node(const char *dir)
{
	struct gq_node *node;
	char cmd[4200];
	int rv;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		exit(1);
	if ((rv = gq_node_open(dir, NULL, &node)) != 0)
		die("open", rv, NULL);
	return node;
}

static void
make_topic(struct gq_node *node, const char *name, const char *codec,
	   int16_t replicas)
{
	struct gq_config *cfg;
	int rv;

	gq_config_create(&cfg);
	gq_config_set(cfg, "compression_type", codec, NULL);
	gq_config_set(cfg, "segment_size", "256MiB", NULL);
	if ((rv = gq_topic_create(node, name, 1, replicas, cfg)) != 0)
		die("topic create", rv, node);
	gq_config_destroy(cfg);
}

/* ---- three nodes in this process ------------------------------------- */

#define CLUSTER_NODES 3

static const char *raft_segment_size; /* -S, or the library's default */

struct member {
	char dir[4200];
	char peers[256];
	int id;
	struct gq_node *node;
};

static void *
member_open(void *arg)
{
	struct member *m = arg;
	struct gq_config *cfg;
	char id[16];
	int rv;

	snprintf(id, sizeof(id), "%d", m->id);
	gq_config_create(&cfg);
	gq_config_set(cfg, "node_id", id, NULL);
	gq_config_set(cfg, "initial_cluster", m->peers, NULL);
	if (raft_segment_size != NULL &&
	    (rv = gq_config_set(cfg, "raft_segment_size", raft_segment_size,
				NULL)) != 0)
		die("raft_segment_size", rv, NULL);
	if ((rv = gq_node_open(m->dir, cfg, &m->node)) != 0)
		die("open", rv, NULL);
	gq_config_destroy(cfg);
	return NULL;
}

static int32_t
leader_of(struct gq_node *node, const char *topic)
{
	int32_t leader = -1;

	while (gq_partition_leader(node, topic, 0, &leader, NULL) != 0 ||
	       leader <= 0)
		usleep(1000);
	return leader;
}

/* Form a fresh three-node cluster in @dir on ports @port+1..+3. */
static void
cluster_open(const char *dir, int port, struct member *m)
{
	pthread_t th[CLUSTER_NODES];
	char peers[256], cmd[4300];

	snprintf(peers, sizeof(peers),
		 "1@127.0.0.1:%d,2@127.0.0.1:%d,"
		 "3@127.0.0.1:%d",
		 port + 1, port + 2, port + 3);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		exit(1);
	for (int i = 0; i < CLUSTER_NODES; i++) {
		snprintf(m[i].dir, sizeof(m[i].dir), "%s/n%d", dir, i + 1);
		snprintf(m[i].peers, sizeof(m[i].peers), "%s", peers);
		m[i].id = i + 1;
		pthread_create(&th[i], NULL, member_open, &m[i]);
	}
	for (int i = 0; i < CLUSTER_NODES; i++)
		pthread_join(th[i], NULL);
}

static void
bench_cluster(const char *dir, int port, long n, int batch, long window,
	      long lat)
{
	struct member m[CLUSTER_NODES];
	struct gq_node *leader, *other = NULL;
	struct gq_msg msg;
	double t0;
	int32_t id;
	int rv;

	cluster_open(dir, port, m);
	printf("three nodes on 127.0.0.1:%d-%d, topic with 3 replicas\n",
	       port + 1, port + 3);
	make_topic(m[0].node, "c1k", "none", 3);
	make_topic(m[0].node, "clat", "none", 3);
	leader = m[leader_of(m[0].node, "c1k") - 1].node;
	bench_produce(leader, "c1k", n, 1024, batch, window);
	bench_produce(leader, "c1k", n / 10, 1024, 1, window * 4);
	id = leader_of(m[0].node, "clat");
	bench_latency(m[id - 1].node, "clat", lat, 1024);
	/* Failover: the leader goes; produce through another node (it
	 * forwards to whoever leads) until one is accepted. */
	for (int i = 0; i < CLUSTER_NODES; i++)
		if (m[i].id != id)
			other = m[i].node;
	memset(&msg, 0, sizeof(msg));
	msg.value = "after";
	msg.value_len = 5;
	t0 = now_s();
	gq_node_close(m[id - 1].node);
	m[id - 1].node = NULL;
	while ((rv = gq_produce(other, "clat", 0, &msg, 1, NULL, NULL)) != 0) {
		if (rv != GQ_ENOTLEADER && rv != GQ_EUNKNOWN)
			die("produce after failover", rv, other);
		usleep(1000);
	}
	printf("failover: leader closed -> first accepted produce in %.0f "
	       "ms (election_timeout 600ms)\n",
	       (now_s() - t0) * 1e3);
	for (int i = 0; i < CLUSTER_NODES; i++)
		gq_node_close(m[i].node);
}

/* ---- idle partitions -------------------------------------------------- */

/* A /proc/self/status field in KiB ("VmRSS", "VmHWM"), or -1. */
static long
status_kib(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, len) == 0 && line[len] == ':')
			v = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

static int
count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
print_process(const char *when)
{
	printf("%-22s RSS %ld MiB (peak %ld MiB), %d threads, %d fds\n", when,
	       status_kib("VmRSS") / 1024, status_kib("VmHWM") / 1024,
	       count_entries("/proc/self/task"),
	       count_entries("/proc/self/fd"));
}

/* @parts partitions with three replicas, on three nodes in this process
 * (each node hosts @parts replicas): how long until all have leaders,
 * then memory, threads, descriptors and the CPU they use idle for
 * @idle_s seconds. */
static void
bench_idle(const char *dir, int port, long parts, int idle_s)
{
	struct member m[CLUSTER_NODES];
	struct rlimit rl = { 65536, 65536 };
	long rss0, per_topic = 100, done = 0;
	double t0, c0;
	char name[32];
	int rv;

	/* About eight descriptors per replica (Raft segments, the log
	 * segment, a connection per peer each way): raise the limit. */
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 &&
	    getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	printf("descriptor limit       %llu, raft_segment_size %s\n",
	       (unsigned long long)rl.rlim_cur,
	       raft_segment_size != NULL ? raft_segment_size : "default");
	cluster_open(dir, port, m);
	print_process("three nodes open:");
	rss0 = status_kib("VmRSS");
	t0 = now_s();
	for (int k = 0; done < parts; k++) {
		long n = parts - done < per_topic ? parts - done : per_topic;

		snprintf(name, sizeof(name), "idle%d", k);
		if ((rv = gq_topic_create(m[0].node, name, (int32_t)n, 3,
					  NULL)) != 0)
			die("topic create", rv, m[0].node);
		done += n;
	}
	printf("%ld partitions x 3 replicas created and led in %.1f s "
	       "(topics of %ld)\n",
	       parts, now_s() - t0, per_topic);
	print_process("with the partitions:");
	printf("memory per replica     %.1f KiB\n",
	       (double)(status_kib("VmRSS") - rss0) / (double)(parts * 3));
	sleep(2); /* let the last elections and rebalances settle */
	c0 = cpu_s();
	t0 = now_s();
	sleep((unsigned)idle_s);
	printf("idle %d s: CPU %.1f %% of one core for the process, %.1f %% "
	       "per node\n",
	       idle_s, 100 * (cpu_s() - c0) / (now_s() - t0),
	       100 * (cpu_s() - c0) / (now_s() - t0) / CLUSTER_NODES);
	for (int i = 0; i < CLUSTER_NODES; i++)
		gq_node_close(m[i].node);
}

int
main(int argc, char **argv)
{
	const char *dir = "./gqbench-data";
	long n = 300000, window = 256, lat = 2000, idle = 0;
	int batch = 64, port = 0;
	struct gq_node *node;
	int c;

	while ((c = getopt(argc, argv, "d:n:b:w:l:c:i:S:")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 'b':
			batch = atoi(optarg);
			break;
		case 'w':
			window = strtol(optarg, NULL, 10);
			break;
		case 'l':
			lat = strtol(optarg, NULL, 10);
			break;
		case 'c':
			port = atoi(optarg);
			break;
		case 'i':
			idle = strtol(optarg, NULL, 10);
			break;
		case 'S':
			raft_segment_size = optarg;
			break;
		default:
			fprintf(stderr, "usage: gqbench [-d DIR] [-n MESSAGES] "
					"[-b BATCH] [-w WINDOW] [-l LAT] "
					"[-c PORT [-i PARTITIONS] [-S "
					"RAFT_SEGMENT_SIZE]]\n");
			return 2;
		}
	}
	printf("goqueue %d, data in %s, durable acks (fdatasync)\n",
	       gq_version_number(), dir);
	if (port > 0 && idle > 0) {
		bench_idle(dir, port, idle, 20);
		return 0;
	}
	if (port > 0) {
		bench_cluster(dir, port, n, batch, window, lat);
		return 0;
	}
	node = fresh_node(dir);
	make_topic(node, "b100", "none", 1);
	make_topic(node, "b1k", "none", 1);
	make_topic(node, "lat", "none", 1);
	bench_produce(node, "b100", n, 100, batch, window);
	bench_produce(node, "b1k", n, 1024, batch, window);
	bench_produce(node, "b1k", n / 10, 1024, 1, window * 4);
	bench_latency(node, "lat", lat, 100);
	bench_fetch(node, "b100");
	bench_fetch(node, "b1k");
	gq_node_close(node);
	return 0;
}
