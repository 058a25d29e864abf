/* SPDX-License-Identifier: MIT */
/*
 * admin.c - the HTTP admin port (see admin.h): libmicrohttpd's daemon,
 * request bodies, routing, answers and the access log, and the probes
 * and metrics routes; the REST handlers are in admin_v1.c (and
 * admin_reset.c).
 *
 * libmicrohttpd parses HTTP.  gqd only keeps the path as sent (the
 * unescape callback leaves it alone) so that it can split it on '/'
 * before percent-decoding each segment: a group named "a/b" arrives as
 * "a%2Fb" and stays one segment.
 *
 * A request goes through the access handler several times: first with
 * its headers (a body announced larger than MAX_BODY is refused with 413
 * at once), then once per piece of body (kept up to MAX_BODY), then once
 * to be answered.  Its state lives in *con_cls and is freed by the
 * completion callback, whatever happened.
 */
#include "admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "admin_int.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "prom.h"
#include "scrape.h"

#define MAX_BODY      (1u << 20) /* bytes of a request body */
#define MAX_PATH      2048
#define MAX_SEGMENTS  8
#define CONN_LIMIT    64
#define CONN_TIMEOUT  30 /* seconds a connection may stay idle */
#define POOL_THREADS  4
#define READY_DETAILS 20 /* groups listed by a failing /readyz */
#define JSON_TYPE     "application/json"

enum phase {
	PHASE_OPENING,  /* the node is not open yet */
	PHASE_SERVING,  /* the Kafka listener runs */
	PHASE_STOPPING, /* shutdown began */
};

struct gqd_admin {
	struct MHD_Daemon *mhd;
	struct gqd_metrics *metrics;
	_Atomic(struct gq_node *) node;
	atomic_int phase;
	pthread_mutex_t lock; /* guards daemon and has_daemon */
	struct gqd_admin_daemon daemon;
	bool has_daemon;
	/* Copied from the configuration at start: the broker id never
	 * changes; the topic defaults hold until the listener runs
	 * (gqd_admin_topic_defaults() reads them there afterwards). */
	int32_t broker_id;
	int32_t default_partitions;
	int16_t default_replication_factor;
	/* libmicrohttpd's last message while starting, for the error. */
	atomic_bool starting;
	char start_error[256];
};

/* What a connection's request accumulates between calls. */
struct conn_state {
	char *body;
	size_t len;
	size_t cap;
	bool too_big;
	bool answered; /* refused before its body was read */
};

/* ---- answers -------------------------------------------------------- */

void
gqd_admin_text(struct gqd_admin_req *r, unsigned status,
	       const char *content_type, char *text, size_t len)
{
	free(r->text);
	r->status = status;
	r->content_type = content_type;
	r->text = text;
	r->text_len = len;
}

void
gqd_admin_json(struct gqd_admin_req *r, unsigned status, json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	char *t;
	size_t len;

	json_decref(j);
	if (s == NULL) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		t = strdup("{\"error\":\"out of memory\","
			   "\"code\":\"GQ_ENOMEM\"}\n");
		gqd_admin_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, JSON_TYPE, t,
			       t != NULL ? strlen(t) : 0);
		return;
	}
	/* A final newline, for curl users. */
	len = strlen(s);
	if ((t = realloc(s, len + 2)) == NULL) {
		free(s);
		gqd_admin_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, JSON_TYPE,
			       NULL, 0);
		return;
	}
	t[len] = '\n';
	t[len + 1] = '\0';
	gqd_admin_text(r, status, JSON_TYPE, t, len + 1);
}

void
gqd_admin_error(struct gqd_admin_req *r, unsigned status, const char *code,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	gqd_admin_json(
		r, status,
		json_pack("{s:s, s:s}", "error", r->error, "code", code));
}

const char *
gqd_admin_code(int rv)
{
	switch (rv) {
#define GQD_CODE_CASE(name, value, text) \
	case GQ_##name:                  \
		return "GQ_" #name;
		GQ_ERRNO_MAP(GQD_CODE_CASE)
#undef GQD_CODE_CASE
	default:
		return "GQ_EUNKNOWN_CODE";
	}
}

static unsigned
status_of(int rv)
{
	switch (rv) {
	case GQ_EINVAL:
	case GQ_EBADNAME:
		return MHD_HTTP_BAD_REQUEST;
	case GQ_ENOTOPIC:
	case GQ_ENOPARTITION:
		return MHD_HTTP_NOT_FOUND;
	case GQ_EEXIST:
		return MHD_HTTP_CONFLICT;
	case GQ_ETOOBIG:
		return MHD_HTTP_CONTENT_TOO_LARGE;
	case GQ_ENOTCOORD:
		return MHD_HTTP_MISDIRECTED_REQUEST;
	case GQ_ENOTREADY:
	case GQ_ETIMEDOUT:
	case GQ_ECLOSED:
	case GQ_EBUSY:
	case GQ_EUNKNOWN:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

void
gqd_admin_gq_error(struct gqd_admin_req *r, int rv, const char *what)
{
	const char *detail = r->node != NULL ? gq_node_errmsg(r->node) : "";

	/* The detail is per thread: this thread made the failed call. */
	if (detail[0] == '\0')
		detail = gq_strerror(rv);
	/* The library's detail often names the topic already. */
	if (what != NULL && strstr(detail, what) == NULL)
		gqd_admin_error(r, status_of(rv), gqd_admin_code(rv), "%s: %s",
				what, detail);
	else
		gqd_admin_error(r, status_of(rv), gqd_admin_code(rv), "%s",
				detail);
}

bool
gqd_admin_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || s[0] == '\0' || s[0] == '+' || s[0] == ' ')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

int32_t
gqd_admin_broker_id(const struct gqd_admin *a)
{
	return a->broker_id;
}

struct topic_defaults {
	int32_t partitions;
	int16_t replication_factor;
	struct gq_config *base;
	int rv;
};

static void
topic_defaults_main(const struct gqd_admin_daemon *d, void *arg)
{
	struct topic_defaults *td = arg;

	td->partitions = d->cfg->default_partitions;
	td->replication_factor = (int16_t)d->cfg->default_replication_factor;
	td->rv = gqd_config_topic_base(d->cfg, &td->base);
}

int
gqd_admin_topic_defaults(struct gqd_admin *a, int32_t *partitions,
			 int16_t *replication_factor, struct gq_config **base)
{
	struct topic_defaults td = { a->default_partitions,
				     a->default_replication_factor, NULL, 0 };

	/* Before the listener runs, nothing was reloaded yet: the
	 * configuration gqd started with holds. */
	if (gqd_admin_on_loop(a, topic_defaults_main, &td) != 0)
		td.rv = 0;
	*partitions = td.partitions;
	*replication_factor = td.replication_factor;
	*base = td.base;
	return td.rv;
}

/* What gqd_admin_on_loop() runs there. */
struct on_loop {
	void (*fn)(const struct gqd_admin_daemon *d, void *arg);
	void *arg;
	const struct gqd_admin_daemon *d;
};

static void
on_loop_main(void *arg)
{
	struct on_loop *c = arg;

	c->fn(c->d, c->arg);
}

int
gqd_admin_on_loop(struct gqd_admin *a,
		  void (*fn)(const struct gqd_admin_daemon *d, void *arg),
		  void *arg)
{
	struct gqd_admin_daemon d;
	struct on_loop c;
	bool has;

	pthread_mutex_lock(&a->lock);
	has = a->has_daemon;
	d = a->daemon;
	pthread_mutex_unlock(&a->lock);
	if (!has)
		return GQ_ENOTREADY;
	c.fn = fn;
	c.arg = arg;
	c.d = &d;
	return d.run(d.arg, on_loop_main, &c);
}

/* ---- probes and metrics --------------------------------------------- */

static void
handle_healthz(struct gqd_admin_req *r)
{
	char *t = strdup("ok\n");

	gqd_admin_text(r,
		       t != NULL ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR,
		       "text/plain; charset=utf-8", t, t != NULL ? 3 : 0);
}

/* Whether this node should lead @topic/@partition: it is the preferred
 * (first) replica. */
static bool
preferred_here(struct gq_node *node, const char *topic, int32_t partition)
{
	struct gq_topic_info *info;
	struct gq_partition_info pi;
	bool here = false;

	if (gq_topic_describe(node, topic, &info) != 0)
		return false;
	if (gq_topic_info_partition(info, partition, &pi) == 0 &&
	    pi.replica_count > 0)
		here = pi.replicas[0] == gq_node_id(node);
	gq_topic_info_destroy(info);
	return here;
}

/* The Raft groups that keep the node from serving, into @waiting;
 * returns how many there are. */
static size_t
groups_not_serving(struct gq_node *node, const struct gq_node_stats *st,
		   json_t *waiting)
{
	size_t n = 0;

	for (size_t i = 0; i < st->replica_count; i++) {
		const struct gq_replica_stats *s = &st->replicas[i];
		const char *why = NULL;

		if (s->role == GQ_RAFT_LEADER && !s->serving)
			why = "leader has not passed its barrier";
		else if (s->catching_up && s->partition >= 0 &&
			 preferred_here(node, s->topic, s->partition))
			why = "preferred leader still catching up";
		if (why == NULL)
			continue;
		if (n++ < READY_DETAILS)
			json_array_append_new(
				waiting,
				json_pack("{s:s, s:i, s:s}", "topic",
					  s->partition < 0 ? "" : s->topic,
					  "partition", (int)s->partition, "why",
					  why));
	}
	return n;
}

static void
not_ready(struct gqd_admin_req *r, const char *reason, json_t *waiting)
{
	json_t *j = json_pack("{s:b, s:s}", "ready", 0, "reason", reason);

	snprintf(r->error, sizeof(r->error), "not ready: %s", reason);
	if (j != NULL && waiting != NULL)
		json_object_set(j, "waiting", waiting);
	json_decref(waiting);
	gqd_admin_json(r, MHD_HTTP_SERVICE_UNAVAILABLE, j);
}

static void
handle_readyz(struct gqd_admin_req *r)
{
	struct gq_node_stats *st;
	char reason[128];
	json_t *waiting;
	size_t n;
	int rv;

	switch (atomic_load(&r->admin->phase)) {
	case PHASE_STOPPING:
		not_ready(r, "shutting down", NULL);
		return;
	case PHASE_OPENING:
		not_ready(r,
			  r->node == NULL
				  ? "the node is opening (recovering its data "
				    "or waiting for a quorum of the cluster)"
				  : "the Kafka listener is not started yet",
			  NULL);
		return;
	default:
		break;
	}
	if (gq_cluster_controller(r->node) < 0) {
		not_ready(r, "no controller leader is known", NULL);
		return;
	}
	if ((rv = gq_node_stats(r->node, &st)) != 0) {
		snprintf(reason, sizeof(reason),
			 "cannot read the node's state: %s", gq_strerror(rv));
		not_ready(r, reason, NULL);
		return;
	}
	waiting = json_array();
	n = groups_not_serving(r->node, st, waiting);
	gq_node_stats_free(st);
	if (n > 0) {
		snprintf(reason, sizeof(reason),
			 "%zu Raft group%s this node leads or should lead "
			 "%s not serving yet",
			 n, n == 1 ? "" : "s", n == 1 ? "is" : "are");
		not_ready(r, reason, waiting);
		return;
	}
	json_decref(waiting);
	gqd_admin_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ready", 1));
}

static void
handle_metrics(struct gqd_admin_req *r)
{
	struct gqd_prom p;

	gqd_prom_init(&p);
	gqd_metrics_render(r->admin->metrics, &p);
	if (r->node != NULL)
		gqd_scrape_node(r->node, &p);
	if (gqd_prom_failed(&p) || p.buf == NULL) {
		gqd_prom_free(&p);
		gqd_admin_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "GQ_ENOMEM",
				"out of memory");
		return;
	}
	gqd_admin_text(r, MHD_HTTP_OK, GQD_PROM_CONTENT_TYPE, p.buf, p.len);
}

/* ---- routing -------------------------------------------------------- */

struct route {
	const char *method;
	/* Literal segments, "*" for a parameter; NULL-terminated. */
	const char *path[MAX_SEGMENTS + 1];
	void (*fn)(struct gqd_admin_req *r);
	bool node; /* needs the node open */
};

static const struct route routes[] = {
	{ "GET", { "healthz", NULL }, handle_healthz, false },
	{ "GET", { "readyz", NULL }, handle_readyz, false },
	{ "GET", { "metrics", NULL }, handle_metrics, false },
	{ "GET", { "v1", "cluster", NULL }, gqd_admin_v1_cluster, true },
	{ "GET", { "v1", "brokers", NULL }, gqd_admin_v1_brokers, true },
	{ "POST",
	  { "v1", "brokers", "*", "remove", NULL },
	  gqd_admin_v1_broker_remove,
	  true },
	{ "GET", { "v1", "topics", NULL }, gqd_admin_v1_topics, true },
	{ "POST", { "v1", "topics", NULL }, gqd_admin_v1_topic_create, true },
	{ "GET", { "v1", "topics", "*", NULL }, gqd_admin_v1_topic, true },
	{ "DELETE",
	  { "v1", "topics", "*", NULL },
	  gqd_admin_v1_topic_delete,
	  true },
	{ "PATCH",
	  { "v1", "topics", "*", NULL },
	  gqd_admin_v1_topic_alter,
	  true },
	{ "POST",
	  { "v1", "topics", "*", "partitions", "*", "move-leader", NULL },
	  gqd_admin_v1_move_leader,
	  true },
	{ "POST",
	  { "v1", "topics", "*", "partitions", "*", "reassign", NULL },
	  gqd_admin_v1_reassign,
	  true },
	{ "GET", { "v1", "groups", NULL }, gqd_admin_v1_groups, true },
	{ "GET", { "v1", "groups", "*", NULL }, gqd_admin_v1_group, true },
	{ "POST",
	  { "v1", "groups", "*", "reset-offsets", NULL },
	  gqd_admin_v1_group_reset_offsets,
	  true },
	{ "GET", { "v1", "config", NULL }, gqd_admin_v1_config, false },
	{ "POST",
	  { "v1", "config", "reload", NULL },
	  gqd_admin_v1_config_reload,
	  false },
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

static bool
path_matches(const struct route *rt, char **segs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (rt->path[i] == NULL || (strcmp(rt->path[i], "*") != 0 &&
					    strcmp(rt->path[i], segs[i]) != 0))
			return false;
	}
	return rt->path[i] == NULL;
}

/* Split @path (a writable copy) into segments; false when it cannot be
 * a route (empty segment, too many). */
static bool
split_path(char *path, char **segs, size_t *n)
{
	char *p = path, *slash;
	size_t len = strlen(path);

	*n = 0;
	if (p[0] != '/')
		return false;
	if (len > 1 && p[len - 1] == '/')
		p[len - 1] = '\0'; /* "/v1/topics/" is "/v1/topics" */
	for (p++; *p != '\0'; p = slash + 1) {
		if (*n == MAX_SEGMENTS)
			return false;
		segs[(*n)++] = p;
		if ((slash = strchr(p, '/')) == NULL)
			break;
		*slash = '\0';
		if (slash[1] == '\0' || slash[1] == '/')
			return false;
	}
	return true;
}

/* Pick the route for @r and run it, or answer 404 / 405. */
static void
route(struct gqd_admin_req *r, char *path)
{
	char *segs[MAX_SEGMENTS];
	char allow[64] = "";
	const struct route *hit = NULL;
	size_t n, k = 0;

	if (!split_path(path, segs, &n)) {
		gqd_admin_error(r, MHD_HTTP_NOT_FOUND, "GQ_ENOTFOUND",
				"no such route");
		return;
	}
	for (size_t i = 0; i < N_ROUTES; i++) {
		if (!path_matches(&routes[i], segs, n))
			continue;
		if (strcmp(routes[i].method, r->method) == 0)
			hit = &routes[i];
		/* HEAD is served as GET (libmicrohttpd drops the body). */
		if (strstr(allow, routes[i].method) == NULL)
			snprintf(allow + strlen(allow),
				 sizeof(allow) - strlen(allow), "%s%s%s",
				 allow[0] != '\0' ? ", " : "", routes[i].method,
				 strcmp(routes[i].method, "GET") == 0 ? ", HEAD"
								      : "");
	}
	if (hit == NULL && allow[0] == '\0') {
		gqd_admin_error(r, MHD_HTTP_NOT_FOUND, "GQ_ENOTFOUND",
				"no such route");
		return;
	}
	if (hit == NULL) {
		gqd_admin_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "GQ_EINVAL",
				"method %s not allowed here (allowed: %s)",
				r->method, allow);
		snprintf(r->allow, sizeof(r->allow), "%s", allow);
		return;
	}
	/* Parameters: percent-decoded, and free of NUL bytes, which no
	 * topic or group name may hold. */
	for (size_t i = 0; i < n; i++) {
		if (strcmp(hit->path[i], "*") != 0)
			continue;
		if (MHD_http_unescape(segs[i]) != strlen(segs[i])) {
			gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
					"path segment %zu holds a NUL byte",
					i + 1);
			return;
		}
		if (k < GQD_ADMIN_PARAMS_MAX)
			r->params[k++] = segs[i];
	}
	if (hit->node && r->node == NULL) {
		gqd_admin_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "GQ_ENOTREADY",
				"the node is still opening (recovering its "
				"data or waiting for a quorum of the "
				"cluster)");
		return;
	}
	hit->fn(r);
}

/* The request's body as a JSON object in @r->body; false with the
 * answer set when it is not one. */
static bool
parse_body(struct gqd_admin_req *r, struct MHD_Connection *conn,
	   const struct conn_state *cs)
{
	const char *ct;
	json_error_t jerr;
	size_t tlen;

	if (cs->len == 0)
		return true;
	ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					 MHD_HTTP_HEADER_CONTENT_TYPE);
	tlen = strlen(JSON_TYPE);
	if (ct == NULL || strncasecmp(ct, JSON_TYPE, tlen) != 0 ||
	    (ct[tlen] != '\0' && ct[tlen] != ';' && ct[tlen] != ' ')) {
		gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
				"the body must be JSON sent as "
				"Content-Type: application/json, not %s",
				ct != NULL ? ct : "without a Content-Type");
		return false;
	}
	r->body = json_loadb(cs->body, cs->len, JSON_REJECT_DUPLICATES, &jerr);
	if (r->body == NULL) {
		gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
				"the body is not valid JSON: %s (line %d, "
				"column %d)",
				jerr.text, jerr.line, jerr.column);
		/* The answer quotes the body near the error; the log must
		 * not. */
		snprintf(r->error, sizeof(r->error),
			 "the body is not valid JSON");
		return false;
	}
	if (!json_is_object(r->body)) {
		gqd_admin_error(r, MHD_HTTP_BAD_REQUEST, "GQ_EINVAL",
				"the body must be a JSON object");
		return false;
	}
	return true;
}

/* ---- libmicrohttpd glue ---------------------------------------------- */

static enum MHD_Result
send_answer(struct MHD_Connection *conn, struct gqd_admin_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer_with_free_callback(
		r->text_len, r->text, free);
	if (resp == NULL)
		return MHD_NO;
	r->text = NULL; /* the response owns it now */
	if (r->content_type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					r->content_type);
	if (r->allow[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
peer_of(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	char ip[INET6_ADDRSTRLEN] = "?";

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci != NULL ? ci->client_addr : NULL;
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET,
			  &((const struct sockaddr_in *)(const void *)sa)
				   ->sin_addr,
			  ip, sizeof(ip));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)(const void *)sa)
				   ->sin6_addr,
			  ip, sizeof(ip));
	snprintf(buf, len, "%s", ip);
}

/* Errors only, at debug level, and never a body. */
static void
access_log(struct MHD_Connection *conn, const struct gqd_admin_req *r)
{
	char peer[INET6_ADDRSTRLEN], qp[MAX_PATH + 16],
		qe[sizeof(r->error) + 16];

	if (r->status < 400 || !gqd_log_enabled(GQ_LOG_DEBUG))
		return;
	peer_of(conn, peer, sizeof(peer));
	gqd_log(GQ_LOG_DEBUG, "admin request failed",
		"peer=%s method=%s path=%s status=%u error=%s", peer, r->method,
		gqd_log_quote(qp, sizeof(qp), r->path), r->status,
		gqd_log_quote(qe, sizeof(qe), r->error));
}

/* Answer @status at once, before the body was read. */
static enum MHD_Result
refuse_early(struct gqd_admin *a, struct MHD_Connection *conn,
	     const char *method, const char *url, unsigned status,
	     const char *code, const char *msg)
{
	struct gqd_admin_req r;
	enum MHD_Result ret;

	memset(&r, 0, sizeof(r));
	r.admin = a;
	r.method = method;
	r.path = url;
	gqd_admin_error(&r, status, code, "%s", msg);
	access_log(conn, &r);
	ret = send_answer(conn, &r);
	free(r.text);
	return ret;
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *conn, const char *url,
	  const char *method, const char *version, const char *upload_data,
	  size_t *upload_data_size, void **con_cls)
{
	struct gqd_admin *a = cls;
	struct conn_state *cs = *con_cls;
	struct gqd_admin_req r;
	char path[MAX_PATH];
	enum MHD_Result ret;
	const char *cl;
	int64_t announced;

	(void)version;
	if (cs == NULL) {
		/* Headers only so far. */
		if ((cs = calloc(1, sizeof(*cs))) == NULL)
			return MHD_NO;
		*con_cls = cs;
		cl = MHD_lookup_connection_value(
			conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL &&
		    gqd_admin_parse_int(cl, 0, INT64_MAX, &announced) &&
		    announced > (int64_t)MAX_BODY) {
			cs->too_big = true;
			cs->answered = true;
			return refuse_early(a, conn, method, url,
					    MHD_HTTP_CONTENT_TOO_LARGE,
					    "GQ_ETOOBIG",
					    "the body is larger than 1 MiB");
		}
		return MHD_YES;
	}
	if (cs->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (cs->too_big || n > MAX_BODY - cs->len) {
			cs->too_big = true; /* drop the rest */
			free(cs->body);
			cs->body = NULL;
			cs->len = cs->cap = 0;
			return MHD_YES;
		}
		if (cs->len + n > cs->cap) {
			size_t cap = cs->cap > 0 ? cs->cap : 4096;
			char *b;

			while (cap < cs->len + n)
				cap *= 2;
			if ((b = realloc(cs->body, cap)) == NULL)
				return MHD_NO;
			cs->body = b;
			cs->cap = cap;
		}
		memcpy(cs->body + cs->len, upload_data, n);
		cs->len += n;
		return MHD_YES;
	}
	memset(&r, 0, sizeof(r));
	r.admin = a;
	r.node = atomic_load(&a->node);
	r.method = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ? "GET" : method;
	r.path = url;
	if (cs->too_big)
		gqd_admin_error(&r, MHD_HTTP_CONTENT_TOO_LARGE, "GQ_ETOOBIG",
				"the body is larger than 1 MiB");
	else if (strlen(url) >= sizeof(path))
		gqd_admin_error(&r, MHD_HTTP_NOT_FOUND, "GQ_ENOTFOUND",
				"no such route");
	else if (parse_body(&r, conn, cs)) {
		memcpy(path, url, strlen(url) + 1);
		route(&r, path);
	}
	if (r.status == 0)
		gqd_admin_error(&r, MHD_HTTP_INTERNAL_SERVER_ERROR,
				"GQ_EINTERNAL", "the handler set no answer");
	access_log(conn, &r);
	ret = send_answer(conn, &r);
	free(r.text);
	json_decref(r.body);
	return ret;
}

static void
completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct conn_state *cs = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (cs != NULL) {
		free(cs->body);
		free(cs);
		*con_cls = NULL;
	}
}

/* Keep the path as sent: route() decodes each segment itself. */
static size_t
keep_escaped(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct gqd_admin *a = cls;
	char msg[256], q[300];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
		msg[--n] = '\0';
	if (atomic_load(&a->starting)) {
		/* Only the starting thread runs now. */
		memcpy(a->start_error, msg, n + 1);
		return;
	}
	gqd_log(GQ_LOG_WARN, "admin port", "detail=%s",
		gqd_log_quote(q, sizeof(q), msg));
}

/* ---- life cycle ----------------------------------------------------- */

static int
make_sockaddr(const struct gqd_config *cfg, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (cfg->admin.family == AF_INET6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(cfg->admin.port);
		return inet_pton(AF_INET6, cfg->admin.ip, &s6->sin6_addr) == 1
			       ? 0
			       : GQ_EINVAL;
	}
	s4->sin_family = AF_INET;
	s4->sin_port = htons(cfg->admin.port);
	return inet_pton(AF_INET, cfg->admin.ip, &s4->sin_addr) == 1
		       ? 0
		       : GQ_EINVAL;
}

int
gqd_admin_start(const struct gqd_config *cfg, struct gqd_metrics *metrics,
		struct gqd_admin **out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct gqd_admin *a;
	unsigned flags;

	if (make_sockaddr(cfg, &ss) != 0) {
		snprintf(err, errlen, "bad admin address '%s'",
			 cfg->admin_addr);
		return GQ_EINVAL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return GQ_ENOMEM;
	}
	a->metrics = metrics;
	atomic_init(&a->node, NULL);
	atomic_init(&a->phase, PHASE_OPENING);
	pthread_mutex_init(&a->lock, NULL);
	a->broker_id = cfg->broker_id;
	a->default_partitions = cfg->default_partitions;
	a->default_replication_factor =
		(int16_t)cfg->default_replication_factor;
	atomic_init(&a->starting, true);
	/* A pool of threads, so that a slow call (a reassignment waits for
	 * the controller, a topic for its partitions) does not hold up the
	 * probes; epoll (MHD_USE_AUTO), because select() cannot watch the
	 * descriptors above 1023 that a node with many partitions has. */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
		MHD_USE_ERROR_LOG;
	if (cfg->admin.family == AF_INET6)
		flags |= MHD_USE_DUAL_STACK;
	a->mhd = MHD_start_daemon(
		flags, cfg->admin.port, NULL, NULL, access_cb, a,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned)POOL_THREADS, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)CONN_TIMEOUT, MHD_OPTION_NOTIFY_COMPLETED,
		completed_cb, a, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, a,
		MHD_OPTION_END);
	atomic_store(&a->starting, false);
	if (a->mhd == NULL) {
		snprintf(err, errlen, "cannot listen on %s: %s",
			 cfg->admin_addr,
			 a->start_error[0] != '\0' ? a->start_error
						   : "libmicrohttpd failed");
		pthread_mutex_destroy(&a->lock);
		free(a);
		return GQ_EIO;
	}
	gqd_log(GQ_LOG_INFO, "admin listener started", "addr=%s",
		cfg->admin_addr);
	*out = a;
	return 0;
}

void
gqd_admin_set_node(struct gqd_admin *a, struct gq_node *node)
{
	atomic_store(&a->node, node);
}

void
gqd_admin_set_daemon(struct gqd_admin *a, const struct gqd_admin_daemon *d)
{
	pthread_mutex_lock(&a->lock);
	a->daemon = *d;
	a->has_daemon = true;
	pthread_mutex_unlock(&a->lock);
	atomic_store(&a->phase, PHASE_SERVING);
}

void
gqd_admin_set_stopping(struct gqd_admin *a)
{
	atomic_store(&a->phase, PHASE_STOPPING);
}

void
gqd_admin_stop(struct gqd_admin *a)
{
	if (a == NULL)
		return;
	MHD_stop_daemon(a->mhd);
	pthread_mutex_destroy(&a->lock);
	free(a);
	gqd_log_msg(GQ_LOG_INFO, "admin listener stopped");
}
