/* SPDX-License-Identifier: MIT */
/*
 * admin.h - gqd's HTTP admin port: liveness and readiness probes,
 * Prometheus metrics and the REST admin API (routes in gqd(8)), served by
 * libmicrohttpd on threads of its own.
 *
 * Life cycle, driven by main.c:
 *
 *	gqd_admin_start()            listening; node routes answer 503
 *	  -> gqd_admin_set_node()    the node is open: its routes serve
 *	  -> gqd_admin_set_daemon()  the Kafka listener runs: /readyz may
 *	                             pass, configuration routes serve
 *	  -> gqd_admin_set_stopping() shutdown began: /readyz fails
 *	  -> gqd_admin_stop()        no handler runs any more; then the node
 *	                             may close
 *
 * The admin port starts before the node opens, so that its probes answer
 * while a cluster node waits for a quorum of its peers (gq_node_open()
 * returns only then): /healthz says the process is alive, /readyz says
 * why it does not serve yet.
 *
 * Threading: handlers run on libmicrohttpd's threads and call only the
 * node's thread-safe public API.  Whatever belongs to gqd's loop thread
 * (the running configuration, reload) goes through
 * gqd_admin_daemon.run, which runs a function there and waits.
 */
#ifndef GQD_ADMIN_H
#define GQD_ADMIN_H

#include <stddef.h>

#include <goqueue.h>

struct gqd_admin;
struct gqd_config;
struct gqd_metrics;
struct gqd_reload_outcome;

/* What the admin port needs from the daemon that runs it. */
struct gqd_admin_daemon {
	/* Run @fn(@fnarg) on gqd's loop thread and wait for it; 0, or
	 * GQ_ECLOSED when the loop no longer takes calls (@fn did not
	 * run).  Called on the admin port's threads. */
	int (*run)(void *arg, void (*fn)(void *fnarg), void *fnarg);
	/* On the loop thread: what SIGHUP does (reopen the log, re-read and
	 * apply the configuration), reporting the outcome. */
	void (*reload)(void *arg, struct gqd_reload_outcome *out);
	/* The running configuration: read on the loop thread only. */
	const struct gqd_config *cfg;
	void *arg;
};

/*
 * Listen on @cfg's admin address (which must be set and validated) and
 * serve.  @cfg is read during the call only; @metrics is borrowed and must
 * outlive the admin port.  Returns 0, or GQ_EIO (cannot listen: @err says
 * why, e.g. the address is in use) or GQ_ENOMEM.
 */
int gqd_admin_start(const struct gqd_config *cfg, struct gqd_metrics *metrics,
		    struct gqd_admin **out, char *err, size_t errlen);

/* The node is open: routes that use it serve from now on.  @node is
 * borrowed until gqd_admin_stop(). */
void gqd_admin_set_node(struct gqd_admin *a, struct gq_node *node);

/* The Kafka listener runs and @d (copied) reaches the daemon's loop. */
void gqd_admin_set_daemon(struct gqd_admin *a,
			  const struct gqd_admin_daemon *d);

/* Shutdown began: /readyz answers 503 from now on. */
void gqd_admin_set_stopping(struct gqd_admin *a);

/* Stop listening, wait for the handlers running, free @a.  NULL is a
 * no-op.  Not from a handler; must not be called from the daemon's loop
 * thread unless the daemon's run() already refuses calls (else a handler
 * waiting on the loop would never return). */
void gqd_admin_stop(struct gqd_admin *a);

#endif /* GQD_ADMIN_H */
