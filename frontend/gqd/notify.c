/* SPDX-License-Identifier: MIT */
/*
 * notify.c - the sd_notify protocol (systemd.service Type=notify), written
 * here rather than linking libsystemd for three one-line messages: a
 * datagram on an AF_UNIX socket whose path is $NOTIFY_SOCKET, where a
 * leading '@' names the abstract namespace.
 */
#include "notify.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static void
send_state(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len;
	socklen_t salen;
	int fd;

	if (path == NULL || path[0] == '\0')
		return;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path)) {
		gqd_log(GQ_LOG_WARN, "NOTIFY_SOCKET ignored",
			"reason=\"not an absolute or abstract socket path\"");
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
			    (path[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	/* The manager may be gone or slow: never block or fail gqd on it. */
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT,
		   (struct sockaddr *)&sa, salen) < 0)
		gqd_log_msg(GQ_LOG_DEBUG, "service manager notification lost");
	close(fd);
}

void
gqd_notify_ready(void)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld", (long)getpid());
	send_state(msg);
}

void
gqd_notify_reloading(void)
{
	struct timespec ts;
	char msg[80];

	/* systemd 253+ matches RELOADING=1 with the monotonic time of the
	 * request; older versions ignore the extra field. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
			 (unsigned long long)ts.tv_nsec / 1000);
	send_state(msg);
}

void
gqd_notify_stopping(void)
{
	send_state("STOPPING=1");
}
