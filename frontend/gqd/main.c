/* SPDX-License-Identifier: MIT */
/*
 * main.c - gqd's life cycle: flags, configuration, the admin port, the
 * node, the Kafka listener and signals.
 *
 * Threads: the node runs on its own loop thread (gq_node_open()); gqd runs
 * the network on a second libuv loop in the main thread, and every signal
 * is handled there through uv_signal; the admin port (admin.h) runs on
 * libmicrohttpd's threads and reaches the loop through a loopcall.
 *
 * Start: the admin port first (its probes answer while a cluster node
 * waits for its peers), then the node, then the loop and the Kafka
 * listener.  Shutdown (SIGTERM/SIGINT) is:
 *
 *	RUNNING --signal--> STOPPING_SERVER --server stopped--> CLOSING_NODE
 *	        --admin port stopped, node closed (closer thread)--> DONE
 *	        (loop ends, exit 0)
 *
 * The admin port stops before the node closes, since its handlers call
 * the node; the loopcall refuses calls from the start of shutdown, so
 * that stopping the port never waits on a handler waiting on the loop.
 *
 * Requests parked in a group rebalance do not hold the server's stop:
 * they complete (GQ_ECLOSED) while the node closes, through the server's
 * mailbox, which outlives the stop report until then.
 *
 * gq_node_close() blocks, so it runs on a short-lived thread while the
 * loop keeps serving signals: a second SIGTERM/SIGINT in any shutdown
 * state logs one line and exits at once with status 1.
 *
 * Exit status: 0 clean shutdown, 1 runtime failure (the node cannot open,
 * the listener cannot start, a forced exit), 2 usage or configuration
 * error.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <goqueue.h>
#include <uv.h>

#include "admin.h"
#include "config.h"
#include "log.h"
#include "loopcall.h"
#include "metrics.h"
#include "notify.h"
#include "reload.h"
#include "server.h"

#define EXIT_USAGE 2

#define MAX_FLAG_SETS 16

/* A flag that sets a configuration key, kept for SIGHUP's re-read. */
struct flag_set {
	const char *key;
	const char *value; /* points into argv */
	const char *flag;
};

struct opts {
	const char *config; /* -config, or NULL */
	struct flag_set sets[MAX_FLAG_SETS];
	size_t n_sets;
	bool help;
	bool version;
};

/* The flags: the original's four, then gqd's. */
static const struct {
	const char *name;
	const char *key; /* configuration key, or NULL for the others */
	bool is_bool;
	const char *arg;
	const char *help;
} flags[] = {
	{ "config", NULL, false, "FILE", "JSON configuration file" },
	{ "broker-id", "broker_id", false, "ID",
	  "broker id: a number >= 1, or a name ending in one (broker1)" },
	{ "raft-addr", "raft_addr", false, "HOST:PORT",
	  "Raft and node-to-node port (default 127.0.0.1:7001)" },
	{ "client-addr", "client_addr", false, "HOST:PORT",
	  "Kafka listener (default 0.0.0.0:9092)" },
	{ "admin-addr", "admin_addr", false, "HOST:PORT",
	  "HTTP admin port (default 127.0.0.1:9644; \"\" for none)" },
	{ "initial-cluster", "initial_cluster", false, "ID@IP:PORT,...",
	  "Raft addresses of the first nodes of a cluster" },
	{ "data-dir", "data_dir", false, "DIR",
	  "node data directory (default ./data)" },
	{ "log-level", "log_level", false, "LEVEL",
	  "debug, info, warn or error (default info)" },
	{ "version", NULL, true, NULL, "print the version and exit" },
	{ "help", NULL, true, NULL, "print this help and exit" },
	{ "h", NULL, true, NULL, NULL },
};

#define N_FLAGS (sizeof(flags) / sizeof(flags[0]))

static void
usage(FILE *f)
{
	char left[40];
	size_t i;

	fprintf(f, "Usage: gqd [flags]\n\n"
		   "Serve a goqueue node over the Kafka protocol.\n\n"
		   "Flags (also --flag=value and -flag value):\n");
	for (i = 0; i < N_FLAGS; i++) {
		if (flags[i].help == NULL)
			continue;
		snprintf(left, sizeof(left), "-%s%s%s", flags[i].name,
			 flags[i].arg != NULL ? "=" : "",
			 flags[i].arg != NULL ? flags[i].arg : "");
		fprintf(f, "  %-24s %s\n", left, flags[i].help);
	}
	fprintf(f, "\nPrecedence: defaults < config file < GQ_* environment "
		   "< flags.\nSee gqd(8) and gqd.conf(5).\n");
}

static void usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gqd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'gqd -help' for usage.\n");
}

/* Go's flag syntax: -name, --name, -name=value, -name value (non-boolean
 * flags only), "--" ends the flags.  Returns 0 or EXIT_USAGE. */
static int
parse_flags(int argc, char **argv, struct opts *o)
{
	char name[64];
	const char *arg, *eq, *value;
	size_t i, len;
	bool b;
	int ai;

	memset(o, 0, sizeof(*o));
	for (ai = 1; ai < argc; ai++) {
		arg = argv[ai];
		if (strcmp(arg, "--") == 0) {
			if (ai + 1 < argc) {
				usage_error("unexpected argument '%s'",
					    argv[ai + 1]);
				return EXIT_USAGE;
			}
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			usage_error("unexpected argument '%s'", arg);
			return EXIT_USAGE;
		}
		arg += arg[1] == '-' ? 2 : 1;
		eq = strchr(arg, '=');
		len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		if (len == 0 || len >= sizeof(name) || arg[0] == '-') {
			usage_error("bad flag syntax: %s", argv[ai]);
			return EXIT_USAGE;
		}
		memcpy(name, arg, len);
		name[len] = '\0';
		for (i = 0; i < N_FLAGS; i++) {
			if (strcmp(flags[i].name, name) == 0)
				break;
		}
		if (i == N_FLAGS) {
			usage_error("unknown flag -%s", name);
			return EXIT_USAGE;
		}
		if (flags[i].is_bool) {
			b = true;
			if (eq != NULL) {
				if (strcmp(eq + 1, "true") == 0 ||
				    strcmp(eq + 1, "1") == 0)
					b = true;
				else if (strcmp(eq + 1, "false") == 0 ||
					 strcmp(eq + 1, "0") == 0)
					b = false;
				else {
					usage_error("invalid boolean value "
						    "'%s' for flag -%s",
						    eq + 1, name);
					return EXIT_USAGE;
				}
			}
			if (strcmp(name, "version") == 0)
				o->version = b;
			else
				o->help = b;
			continue;
		}
		if (eq != NULL) {
			value = eq + 1;
		} else if (ai + 1 < argc) {
			value = argv[++ai];
		} else {
			usage_error("flag needs an argument: -%s", name);
			return EXIT_USAGE;
		}
		if (flags[i].key == NULL) {
			o->config = value;
			continue;
		}
		if (o->n_sets == MAX_FLAG_SETS) {
			usage_error("too many flags");
			return EXIT_USAGE;
		}
		o->sets[o->n_sets].key = flags[i].key;
		o->sets[o->n_sets].value = value;
		o->sets[o->n_sets].flag = flags[i].name;
		o->n_sets++;
	}
	return 0;
}

/* All layers, then validation.  Returns 0, or GQ_E* with @err one line. */
static int
build_config(const struct opts *o, struct gqd_config *c, char *err,
	     size_t errlen)
{
	char msg[512];
	size_t i;
	int rv;

	if ((rv = gqd_config_load(o->config, c, err, errlen)) != 0)
		return rv;
	if ((rv = gqd_config_apply_env(c, err, errlen)) != 0)
		goto err_free;
	for (i = 0; i < o->n_sets; i++) {
		rv = gqd_config_set(c, o->sets[i].key, o->sets[i].value, msg,
				    sizeof(msg));
		if (rv != 0) {
			snprintf(err, errlen, "flag -%s: %s", o->sets[i].flag,
				 msg);
			goto err_free;
		}
	}
	if ((rv = gqd_config_validate(c, err, errlen)) != 0)
		goto err_free;
	return 0;
err_free:
	gqd_config_free(c);
	return rv;
}

/* ---------------------------------------------------------------------- */
/* Running                                                                */
/* ---------------------------------------------------------------------- */

enum state {
	RUNNING,
	STOPPING_SERVER,
	CLOSING_NODE,
	DONE,
};

struct daemon {
	uv_loop_t loop;
	uv_signal_t sig_term;
	uv_signal_t sig_int;
	uv_signal_t sig_hup;
	uv_async_t node_closed;
	uv_thread_t closer;
	struct gqd_loopcall calls; /* from the admin port's threads */
	struct gq_node *node;
	struct gqd_server *server;
	struct gqd_admin *admin; /* NULL when admin_addr is "" */
	struct gqd_metrics *metrics;
	struct gqd_config cfg;
	const struct opts *opts;
	enum state state;
};

static void
on_handle_closed(uv_handle_t *h)
{
	(void)h;
}

static void
close_handles(struct daemon *d)
{
	uv_close((uv_handle_t *)&d->sig_term, on_handle_closed);
	uv_close((uv_handle_t *)&d->sig_int, on_handle_closed);
	uv_close((uv_handle_t *)&d->sig_hup, on_handle_closed);
	uv_close((uv_handle_t *)&d->node_closed, on_handle_closed);
	if (!d->calls.closed)
		gqd_loopcall_close(&d->calls, on_handle_closed);
}

static void
on_node_closed(uv_async_t *a)
{
	struct daemon *d = a->data;

	uv_thread_join(&d->closer);
	d->node = NULL;
	d->state = DONE;
	close_handles(d);
}

/* The admin port's handlers call the node: they end before it closes. */
static void
stop_admin_close_node(struct daemon *d)
{
	gqd_admin_stop(d->admin);
	d->admin = NULL;
	gq_node_close(d->node);
}

static void
closer_main(void *arg)
{
	struct daemon *d = arg;

	stop_admin_close_node(d);
	uv_async_send(&d->node_closed);
}

static void
on_server_stopped(void *arg)
{
	struct daemon *d = arg;
	int rv;

	d->server = NULL;
	d->state = CLOSING_NODE;
	gqd_log_msg(GQ_LOG_INFO, "listener stopped, closing node");
	if ((rv = uv_thread_create(&d->closer, closer_main, d)) != 0) {
		/* No thread: close here; the loop waits, which is fine now
		 * that nothing else is served (and the loopcall refuses the
		 * admin port's calls). */
		stop_admin_close_node(d);
		d->node = NULL;
		d->state = DONE;
		close_handles(d);
	}
}

static void
on_stop_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (d->state != RUNNING) {
		gqd_log(GQ_LOG_WARN,
			"second signal during shutdown, exiting now",
			"signal=%s", signum == SIGINT ? "SIGINT" : "SIGTERM");
		_exit(1);
	}
	gqd_log(GQ_LOG_INFO, "shutting down", "signal=%s",
		signum == SIGINT ? "SIGINT" : "SIGTERM");
	d->state = STOPPING_SERVER;
	gqd_notify_stopping();
	if (d->admin != NULL)
		gqd_admin_set_stopping(d->admin);
	gqd_loopcall_close(&d->calls, on_handle_closed);
	gqd_server_stop(d->server, on_server_stopped, d);
}

/* Re-read the configuration (same file, environment and flags) and apply
 * the keys that can change at run time, reporting what happened. */
static void
reload(struct daemon *d, struct gqd_reload_outcome *out)
{
	struct gqd_config next;
	char err[512];
	int rv;

	if ((rv = build_config(d->opts, &next, err, sizeof(err))) != 0) {
		gqd_reload_failed(out, rv, err);
		return;
	}
	/* No call on the node may start once its close has. */
	gqd_reload_apply(&d->cfg, &next,
			 d->state == RUNNING || d->state == STOPPING_SERVER
				 ? d->node
				 : NULL,
			 out);
	gqd_config_free(&next);
}

/* What SIGHUP does, and POST /v1/config/reload: reopen the log, say so
 * (@msg), then reload.  On the loop thread. */
static void
hup(struct daemon *d, const char *msg, struct gqd_reload_outcome *out)
{
	char err[512], q[600];

	if (gqd_log_reopen(err, sizeof(err)) != 0)
		gqd_log(GQ_LOG_ERROR, "cannot reopen log file", "error=%s",
			gqd_log_quote(q, sizeof(q), err));
	gqd_log(GQ_LOG_INFO, msg, "config=%s",
		gqd_log_quote(q, sizeof(q),
			      d->opts->config != NULL ? d->opts->config : ""));
	gqd_notify_reloading();
	reload(d, out);
	gqd_notify_ready();
}

static void
on_hup(uv_signal_t *s, int signum)
{
	struct gqd_reload_outcome out;

	(void)signum;
	hup(s->data, "SIGHUP: log reopened, reloading configuration", &out);
}

/* The admin port's view of the daemon (struct gqd_admin_daemon). */
static int
admin_run(void *arg, void (*fn)(void *fnarg), void *fnarg)
{
	struct daemon *d = arg;

	return gqd_loopcall_run(&d->calls, fn, fnarg);
}

static void
admin_reload(void *arg, struct gqd_reload_outcome *out)
{
	hup(arg, "admin: log reopened, reloading configuration", out);
}

static int
start_signals(struct daemon *d)
{
	int rv;

	uv_signal_init(&d->loop, &d->sig_term);
	uv_signal_init(&d->loop, &d->sig_int);
	uv_signal_init(&d->loop, &d->sig_hup);
	d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
	if ((rv = uv_signal_start(&d->sig_term, on_stop_signal, SIGTERM)) !=
		    0 ||
	    (rv = uv_signal_start(&d->sig_int, on_stop_signal, SIGINT)) != 0 ||
	    (rv = uv_signal_start(&d->sig_hup, on_hup, SIGHUP)) != 0)
		return rv;
	return 0;
}

/* Log every effective key at debug level: what this gqd really runs with. */
static void
log_config(const struct gqd_config *c)
{
	const struct gqd_config_key *k;
	char v[GQD_PATH_SIZE], q[GQD_PATH_SIZE + 8];
	size_t i;

	if (!gqd_log_enabled(GQ_LOG_DEBUG))
		return;
	for (i = 0; (k = gqd_config_key_at(i)) != NULL; i++) {
		if (k->alias ||
		    gqd_config_format(c, k->name, v, sizeof(v)) != 0)
			continue;
		/* An unset library key runs with the library's default, which
		 * the table documents. */
		if (k->library && v[0] == '\0')
			snprintf(v, sizeof(v), "%s", k->def);
		gqd_log(GQ_LOG_DEBUG, "config", "key=%s value=%s", k->name,
			gqd_log_quote(q, sizeof(q), v));
	}
}

/* Print and log a fatal start-up error.  stderr always gets it, so that an
 * operator starting gqd by hand sees it even when logs go to a file. */
static void
fatal(const struct gqd_config *c, const char *msg, const char *detail)
{
	char q[GQ_ERRMSG_SIZE + 300];

	gqd_log(GQ_LOG_ERROR, msg, "error=%s",
		gqd_log_quote(q, sizeof(q), detail));
	if (c->log_file[0] != '\0')
		fprintf(stderr, "gqd: %s: %s\n", msg, detail);
}

/* Every partition replica holds about eight descriptors (Raft segments,
 * its log segment, a connection to each peer each way): take all the
 * descriptors the hard limit allows, as Kafka's and Redpanda's service
 * files do. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		gqd_log(GQ_LOG_INFO, "descriptor limit raised", "limit=%llu",
			(unsigned long long)rl.rlim_cur);
}

static int
open_node(struct daemon *d)
{
	struct gq_config *lc;
	char err[512], q[GQD_PATH_SIZE + 8];
	int rv;

	if ((rv = gqd_config_node_config(&d->cfg, &lc, err, sizeof(err))) !=
	    0) {
		fatal(&d->cfg, "bad node configuration", err);
		return EXIT_USAGE;
	}
	raise_fd_limit();
	gqd_log(GQ_LOG_INFO, "opening node", "data_dir=%s broker_id=%d",
		gqd_log_quote(q, sizeof(q), d->cfg.data_dir),
		(int)d->cfg.broker_id);
	/* From the start, so recovery messages of the open reach the log. */
	gq_config_set_log_cb(lc, gqd_log_node_cb, NULL, d->cfg.log_level);
	rv = gq_node_open(d->cfg.data_dir, lc, &d->node);
	gq_config_destroy(lc);
	if (rv != 0) {
		snprintf(err, sizeof(err), "%s: %s", gq_strerror(rv),
			 gq_node_errmsg(NULL));
		fatal(&d->cfg, "cannot open node", err);
		/* GQ_EINVAL from open is a configuration the library refused;
		 * anything else (GQ_EBUSY, GQ_EIO, ...) is a runtime failure.
		 */
		return rv == GQ_EINVAL ? EXIT_USAGE : 1;
	}
	return 0;
}

/* The metrics registry, and the admin port unless admin_addr is "".
 * Returns 0 or the exit status. */
static int
start_admin(struct daemon *d)
{
	char err[512];

	if (gqd_metrics_create(&d->metrics) != 0) {
		fatal(&d->cfg, "cannot start", gq_strerror(GQ_ENOMEM));
		return 1;
	}
	if (d->cfg.admin.port == 0)
		return 0;
	if (gqd_admin_start(&d->cfg, d->metrics, &d->admin, err, sizeof(err)) !=
	    0) {
		fatal(&d->cfg, "cannot start the admin port", err);
		return 1;
	}
	return 0;
}

/* The node is open: serve until a signal stops us.  Returns the exit
 * status. */
static int
serve(struct daemon *d)
{
	char err[128];
	int rv;

	if ((rv = uv_loop_init(&d->loop)) != 0) {
		fatal(&d->cfg, "cannot create the network loop",
		      uv_strerror(rv));
		stop_admin_close_node(d);
		return 1;
	}
	uv_async_init(&d->loop, &d->node_closed, on_node_closed);
	d->node_closed.data = d;
	if ((rv = gqd_loopcall_init(&d->loop, &d->calls)) != 0) {
		/* Marked closed, so that close_handles() leaves it. */
		d->calls.closed = true;
		fatal(&d->cfg, "cannot create the admin port's mailbox",
		      uv_strerror(rv));
		goto err_close;
	}
	if ((rv = start_signals(d)) != 0) {
		fatal(&d->cfg, "cannot install signal handlers",
		      uv_strerror(rv));
		goto err_close;
	}
	if ((rv = gqd_server_start(&d->loop, d->node, &d->cfg, d->metrics,
				   &d->server)) != 0) {
		snprintf(err, sizeof(err), "%s",
			 rv <= -1000 ? gq_strerror(rv) : uv_strerror(rv));
		fatal(&d->cfg, "cannot start the Kafka listener", err);
		goto err_close;
	}
	gqd_log(GQ_LOG_INFO, "gqd ready",
		"client_addr=%s:%u advertised=%s:%u "
		"raft_addr=%s broker_id=%d",
		d->cfg.client.host, (unsigned)d->cfg.client.port,
		d->cfg.advertised.host, (unsigned)d->cfg.advertised.port,
		d->cfg.raft_addr[0] != '\0' ? d->cfg.raft_addr : "none",
		(int)d->cfg.broker_id);
	if (d->admin != NULL) {
		struct gqd_admin_daemon ad = { admin_run, admin_reload, &d->cfg,
					       d };

		gqd_admin_set_daemon(d->admin, &ad);
	}
	gqd_notify_ready();
	uv_run(&d->loop, UV_RUN_DEFAULT);
	uv_loop_close(&d->loop);
	gqd_log_msg(GQ_LOG_INFO, "gqd stopped");
	return 0;
err_close:
	if (!d->calls.closed)
		gqd_loopcall_close(&d->calls, on_handle_closed);
	close_handles(d);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	uv_loop_close(&d->loop);
	stop_admin_close_node(d);
	return 1;
}

int
main(int argc, char **argv)
{
	static struct daemon
		d; /* large (the configuration); not on the stack */
	struct sigaction sa;
	struct opts o;
	char err[1024];
	int rv;

	if ((rv = parse_flags(argc, argv, &o)) != 0)
		return rv;
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (o.version) {
		printf("gqd %s (libgoqueue %d.%d.%d)\n", GQ_VERSION_STRING,
		       gq_version_number() / 10000,
		       gq_version_number() / 100 % 100,
		       gq_version_number() % 100);
		return 0;
	}
	/* A client that goes away must cost an EPIPE, not the process. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (build_config(&o, &d.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "gqd: %s\n", err);
		return EXIT_USAGE;
	}
	d.opts = &o;
	if (gqd_log_open(d.cfg.log_file, d.cfg.log_level, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, "gqd: %s\n", err);
		gqd_config_free(&d.cfg);
		return 1;
	}
	gqd_log(GQ_LOG_INFO, "gqd starting", "version=%s pid=%ld config=%s",
		GQ_VERSION_STRING, (long)getpid(),
		gqd_log_quote(err, sizeof(err),
			      o.config != NULL ? o.config : ""));
	log_config(&d.cfg);
	if ((rv = start_admin(&d)) == 0) {
		if ((rv = open_node(&d)) == 0) {
			if (d.admin != NULL)
				gqd_admin_set_node(d.admin, d.node);
			rv = serve(&d);
		} else {
			gqd_admin_stop(d.admin);
		}
	}
	gqd_metrics_destroy(d.metrics);
	gqd_log_close();
	gqd_config_free(&d.cfg);
	return rv;
}
