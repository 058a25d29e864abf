/* SPDX-License-Identifier: MIT */
/*
 * gcall.c - blocking wrappers of the group coordination calls (gcall.h).
 */
#include "gcall.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void
call_init(struct gqt_call *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
}

static void
call_finish(struct gqt_call *c, int status)
{
	pthread_mutex_lock(&c->mu);
	c->status = status;
	c->done = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

int
gqt_call_wait(struct gqt_call *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&c->mu);
	while (!c->done)
		cr_assert_eq(pthread_cond_timedwait(&c->cv, &c->mu, &ts), 0,
			     "no answer");
	pthread_mutex_unlock(&c->mu);
	return c->status;
}

bool
gqt_call_done(struct gqt_call *c)
{
	bool d;

	pthread_mutex_lock(&c->mu);
	d = c->done;
	pthread_mutex_unlock(&c->mu);
	return d;
}

static void
on_join(void *arg, int status, const struct gq_group_joined *j)
{
	struct gqt_call *c = arg;

	c->generation = j->generation;
	snprintf(c->member_id, sizeof(c->member_id), "%s", j->member_id);
	snprintf(c->leader, sizeof(c->leader), "%s", j->leader);
	snprintf(c->protocol, sizeof(c->protocol), "%s",
		 j->protocol != NULL ? j->protocol : "");
	c->n_members = j->n_members;
	call_finish(c, status);
}

static void
on_sync(void *arg, int status, const void *assignment, size_t len)
{
	struct gqt_call *c = arg;

	snprintf(c->assignment, sizeof(c->assignment), "%.*s", (int)len,
		 assignment != NULL ? (const char *)assignment : "");
	call_finish(c, status);
}

static void
on_done(void *arg, int status, const char *errmsg)
{
	(void)errmsg;
	call_finish(arg, status);
}

static void
on_commit(void *arg, int status, struct gq_group_offset *o, size_t n)
{
	(void)o;
	(void)n;
	call_finish(arg, status);
}

void
gqt_join_start(struct gq_node *node, struct gqt_call *c, const char *group,
	       const char *member_id, int32_t session_ms)
{
	struct gq_group_protocol proto = { "range", "meta", 4 };
	struct gq_group_join j;

	memset(&j, 0, sizeof(j));
	j.group = group;
	j.member_id = member_id;
	j.client_id = "test";
	j.client_host = "/127.0.0.1";
	j.protocol_type = "consumer";
	j.session_timeout_ms = session_ms;
	j.rebalance_timeout_ms = 10000;
	j.require_member_id = true;
	j.n_protocols = 1;
	j.protocols = &proto;
	call_init(c);
	cr_assert_eq(gq_group_join_async(node, &j, on_join, c), 0);
}

void
gqt_join_new(struct gq_node *node, struct gqt_call *c, const char *group,
	     int32_t session_ms)
{
	char id[256];

	gqt_join_start(node, c, group, "", session_ms);
	cr_assert_eq(gqt_call_wait(c), GQ_EMEMBERID);
	cr_assert_neq(c->member_id[0], '\0');
	snprintf(id, sizeof(id), "%s", c->member_id);
	gqt_join_start(node, c, group, id, session_ms);
}

void
gqt_sync_start(struct gq_node *node, struct gqt_call *c, const char *group,
	       const char *member_id, int32_t generation, size_t n,
	       const struct gq_group_assignment *a)
{
	call_init(c);
	cr_assert_eq(gq_group_sync_async(node, group, generation, member_id,
					 NULL, n, a, on_sync, c),
		     0);
}

int
gqt_heartbeat(struct gq_node *node, const char *group, const char *member_id,
	      int32_t generation)
{
	struct gqt_call c;

	call_init(&c);
	cr_assert_eq(gq_group_heartbeat_async(node, group, generation,
					      member_id, on_done, &c),
		     0);
	return gqt_call_wait(&c);
}

int
gqt_leave(struct gq_node *node, const char *group, const char *member_id)
{
	struct gqt_call c;

	call_init(&c);
	cr_assert_eq(gq_group_leave_async(node, group, member_id, on_done, &c),
		     0);
	return gqt_call_wait(&c);
}

int
gqt_commit(struct gq_node *node, const char *group, const char *member_id,
	   int32_t generation, struct gq_group_offset *o, size_t n)
{
	struct gqt_call c;

	call_init(&c);
	cr_assert_eq(gq_group_commit_async(node, group, generation, member_id,
					   o, n, on_commit, &c),
		     0);
	return gqt_call_wait(&c);
}
