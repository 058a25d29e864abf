/* SPDX-License-Identifier: MIT */
/*
 * port.h - a loopback TCP port free at the time of the call, for tests
 * that listen (another process may still take it; tests accept that).
 */
#ifndef GQ_TEST_PORT_H
#define GQ_TEST_PORT_H

/* A port on 127.0.0.1 the kernel just handed out and released. */
int gqt_free_port(void);

#endif /* GQ_TEST_PORT_H */
