/* SPDX-License-Identifier: MIT */
/*
 * notify.h - tell the service manager how gqd is doing (systemd's
 * sd_notify protocol: datagrams of KEY=VALUE lines sent to the socket named
 * by $NOTIFY_SOCKET).  Without that variable every call does nothing, so
 * gqd behaves the same under any supervisor.
 */
#ifndef GQD_NOTIFY_H
#define GQD_NOTIFY_H

/* Serving: the node is open and every listener accepts (READY=1). */
void gqd_notify_ready(void);

/* Re-reading the configuration (RELOADING=1); gqd_notify_ready() follows
 * when done. */
void gqd_notify_reloading(void);

/* Shutting down (STOPPING=1). */
void gqd_notify_stopping(void);

#endif /* GQD_NOTIFY_H */
