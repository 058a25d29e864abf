/* SPDX-License-Identifier: MIT */
/*
 * client.c - the connection, errors, signals and helpers `topic produce`
 * and `topic consume` share (contracts in client.h).  Public API only.
 *
 * Signals: the node runs its own loop thread, and a process-directed
 * SIGINT goes to any thread that does not block it.  If the loop thread
 * took it, the main thread would sleep on in read(2) or nanosleep(2) and
 * miss the stop.  So the node is created from a short-lived thread that
 * blocks SIGINT and SIGTERM, and the loop thread inherits that mask; the
 * main thread keeps the default action while it waits for the
 * connection (Ctrl-C then ends a hung connect at once, nothing having been
 * sent), and installs the one-shot handler only once connected.
 */
#include "client.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The library refuses a request_timeout below this. */
#define MIN_REQUEST_TIMEOUT_MS 100L

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
install_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a read of stdin or a sleep returns EINTR, so the
	 * command sees the flag at once.  SA_RESETHAND: a second signal
	 * kills, for when a delivery wait takes too long. */
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool
client_stopped(void)
{
	return stop_flag != 0;
}

uint64_t
client_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
client_now_ms(void)
{
	return client_now_ns() / 1000000u;
}

void
client_sleep_ms(uint64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	/* EINTR with the flag set ends the sleep; any other signal (none is
	 * expected) just shortens it. */
	while (!client_stopped() && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

struct connect_job {
	const char *brokers;
	const struct gq_config *config;
	struct gq_node *node;
	int rv;
	char errmsg[GQ_ERRMSG_SIZE];
};

static void *
connect_thread(void *arg)
{
	struct connect_job *job = arg;

	job->rv = gq_node_connect(job->brokers, job->config, &job->node);
	/* The detail is per thread: copy it while on this one. */
	if (job->rv != 0)
		snprintf(job->errmsg, sizeof(job->errmsg), "%s",
			 gq_node_errmsg(NULL));
	return NULL;
}

int
client_connect(struct gqctl *g, const char *what, struct gq_node **out)
{
	struct connect_job job;
	struct gq_config *cfg;
	sigset_t block;
	sigset_t old;
	pthread_t tid;
	char value[32];
	long ms;
	int rv;

	memset(&job, 0, sizeof(job));
	if (gq_config_create(&cfg) != 0) {
		gqctl_err("%s: out of memory", what);
		return GQCTL_FAILED;
	}
	/* --timeout 0 ("wait for ever") becomes the largest the key takes. */
	ms = g->timeout_ms <= 0 || g->timeout_ms > INT32_MAX ? INT32_MAX
							     : g->timeout_ms;
	if (ms < MIN_REQUEST_TIMEOUT_MS)
		ms = MIN_REQUEST_TIMEOUT_MS;
	snprintf(value, sizeof(value), "%ldms", ms);
	if ((rv = gq_config_set(cfg, "request_timeout", value, job.errmsg)) !=
	    0) {
		gq_config_destroy(cfg);
		gqctl_err("%s: --timeout: %s", what, job.errmsg);
		return GQCTL_USAGE;
	}
	job.brokers = g->brokers;
	job.config = cfg;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rv = pthread_create(&tid, NULL, connect_thread, &job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rv != 0) {
		gq_config_destroy(cfg);
		gqctl_err("%s: cannot start a thread: %s", what, strerror(rv));
		return GQCTL_FAILED;
	}
	pthread_join(tid, NULL);
	gq_config_destroy(cfg);
	switch (job.rv) {
	case 0:
		install_handler();
		*out = job.node;
		return GQCTL_OK;
	case GQ_EINVAL:
		/* The detail quotes the list already. */
		gqctl_err("%s: --brokers: %s", what, job.errmsg);
		return GQCTL_USAGE;
	case GQ_EIO:
		gqctl_err("%s: cannot reach the brokers %s: %s", what,
			  g->brokers, job.errmsg);
		return GQCTL_UNREACHABLE;
	default:
		gqctl_err("%s: cannot connect to %s: %s: %s", what, g->brokers,
			  gq_strerror(job.rv), job.errmsg);
		return GQCTL_FAILED;
	}
}

int
client_exit_code(int err)
{
	switch (err) {
	case GQ_EIO:
	case GQ_ETIMEDOUT:
	case GQ_ENOTLEADER:
		/* The library retried within request_timeout already. */
		return GQCTL_UNREACHABLE;
	default:
		return GQCTL_FAILED;
	}
}

int
client_fail(struct gq_node *node, const char *what, int err)
{
	const char *why;
	const char *detail;

	why = gq_strerror(err);
	detail = gq_node_errmsg(node);
	/* The detail often repeats the error's name; print it once. */
	if (detail == NULL || detail[0] == '\0' || strcmp(detail, why) == 0)
		gqctl_err("%s: %s", what, why);
	else
		gqctl_err("%s: %s: %s", what, why, detail);
	return client_exit_code(err);
}

int
client_topic(struct gq_node *node, const char *what, const char *topic,
	     int32_t *partitions, size_t *max_message_size)
{
	struct gq_topic_info *info;
	const char *v;
	char *end;
	unsigned long long n;
	int rv;

	if ((rv = gq_topic_describe(node, topic, &info)) != 0) {
		if (rv == GQ_ENOTOPIC) {
			gqctl_err("%s: unknown topic '%s'", what, topic);
			return GQCTL_FAILED;
		}
		return client_fail(node, what, rv);
	}
	*partitions = gq_topic_info_partitions(info);
	*max_message_size = CLIENT_MAX_MESSAGE_SIZE;
	/* A remote node reports the library's topic defaults until it reads
	 * topic configs from the brokers; that is also the limit its produce
	 * path enforces, so it is the one to read lines against. */
	v = gq_config_get(gq_topic_info_config(info), "max_message_size");
	if (v != NULL) {
		errno = 0;
		n = strtoull(v, &end, 10);
		if (errno == 0 && *end == '\0' && n > 0 && n <= SIZE_MAX)
			*max_message_size = (size_t)n;
	}
	gq_topic_info_destroy(info);
	if (*partitions <= 0) {
		gqctl_err("%s: topic '%s' has no partitions", what, topic);
		return GQCTL_FAILED;
	}
	return GQCTL_OK;
}

bool
client_unescape(const char *in, char **out, size_t *len)
{
	size_t n = 0;
	char *s;

	if (in == NULL || in[0] == '\0' || (s = malloc(strlen(in) + 1)) == NULL)
		return false;
	for (; *in != '\0'; in++) {
		if (*in != '\\' || in[1] == '\0') {
			s[n++] = *in;
			continue;
		}
		switch (*++in) {
		case 't':
			s[n++] = '\t';
			break;
		case 'n':
			s[n++] = '\n';
			break;
		case 'r':
			s[n++] = '\r';
			break;
		case '\\':
			s[n++] = '\\';
			break;
		default:
			/* Not an escape we know: keep it as typed. */
			s[n++] = '\\';
			s[n++] = *in;
			break;
		}
	}
	s[n] = '\0';
	*out = s;
	*len = n;
	return true;
}

void
client_id_ranges(const bool *has, int32_t n, char *buf, size_t size)
{
	size_t used = 0;
	int32_t i = 0;
	int32_t j;
	int k;

	buf[0] = '\0';
	while (i < n) {
		if (!has[i]) {
			i++;
			continue;
		}
		for (j = i; j + 1 < n && has[j + 1]; j++)
			;
		k = j == i ? snprintf(buf + used, size - used, "%s%d",
				      used > 0 ? "," : "", (int)i)
			   : snprintf(buf + used, size - used, "%s%d-%d",
				      used > 0 ? "," : "", (int)i, (int)j);
		if (k < 0 || (size_t)k >= size - used) {
			/* Cut: end with an ellipsis where it still fits. */
			if (size >= 4)
				memcpy(buf + (used + 4 <= size ? used
							       : size - 4),
				       "...", 4);
			return;
		}
		used += (size_t)k;
		i = j + 1;
	}
	if (used == 0)
		snprintf(buf, size, "-");
}
