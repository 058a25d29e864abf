/* SPDX-License-Identifier: MIT */
/*
 * consumer.c - the embedded group consumer (goqueue.h, "Group
 * consumers"): Kafka's consumer-side group protocol over the public
 * coordination calls, with eager rebalancing.
 *
 * Two threads share a consumer:
 *   - the membership thread joins, runs the assignor when it leads,
 *     syncs, heartbeats and commits automatically.  Coordination calls
 *     are asynchronous; it waits for each on the consumer's condition;
 *   - the application's thread polls: it applies new assignments (their
 *     positions from the group's committed offsets), runs the rebalance
 *     callbacks, and reads partitions with gq_fetch(), waiting for data
 *     with gq_fetch_wait_async().
 * Everything below `mu` in struct gq_consumer is shared and changed under
 * it.  The assignment (`parts`) is changed by the application's thread
 * only, under mu, so that thread reads it without the lock.
 *
 * Rebalance (eager): when a heartbeat says the group rebalances, the
 * membership thread asks the application to give its partitions up
 * (revoke_needed) and waits, at most the rebalance timeout, until the next
 * poll revoked them (committing first with auto_commit); then it joins.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "assign.h"
#include "goqueue.h"
#include "heap.h"
#include "names.h"
#include "node.h"

/* How much a poll fetches at once, and how long it waits for data before
 * it looks at the membership again. */
#define FETCH_BYTES    (1u << 20)
#define WAIT_SLICE_MS  200
#define RETRY_MS       200
#define CONSUMER_PROTO "consumer"

struct part {
	char *topic;
	int32_t partition;
	gq_offset position; /* next offset to read; -1 until known */
	bool paused;
	struct gq_fetch *fetch; /* being read */
};

struct gq_consumer {
	struct gq_node *node;
	struct gq_consumer_options opts; /* strings point to the copies: */
	char *group;
	char *client_id;
	char *assignor;
	pthread_t thread;
	bool thread_started;

	/* The assignment, changed by the application's thread under mu. */
	struct part *parts;
	size_t n_parts;
	size_t cursor; /* the partition poll reads next */
	/* The generation that gave them: positions are committed in it
	 * only, so a member that fell behind a rebalance cannot overwrite
	 * the offsets of partitions another member owns now. */
	int32_t parts_generation;
	/* The fetch the message poll returned last was read from, for its
	 * headers (gq_consumer_header()), or NULL. */
	struct gq_fetch *last;

	pthread_mutex_t mu;
	pthread_cond_t cv; /* any change below */
	bool closing;
	int fatal;     /* an error the group cannot recover from */
	char **topics; /* subscription, sorted */
	size_t n_topics;
	bool need_join;
	char member_id[GQ_NAME_MAX + 64];
	int32_t generation; /* -1 outside a generation */
	bool revoke_needed;
	bool pending; /* a new assignment for the application */
	struct gq__tp_list pending_parts;
	int waits;       /* gq_fetch_wait_async() calls outstanding */
	bool data_ready; /* one reported data */
};

/* ---- helpers ----------------------------------------------------------- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait on the consumer's condition (mu held) until @deadline_ms. */
static void
wait_until(struct gq_consumer *c, uint64_t deadline_ms)
{
	struct timespec ts;
	uint64_t now = now_ms();
	uint64_t ms = deadline_ms > now ? deadline_ms - now : 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&c->cv, &c->mu, &ts);
}

/* One coordination call in flight: its answer, copied. */
struct call {
	struct gq_consumer *c;
	bool done;
	int status;
	int32_t generation;
	char member_id[GQ_NAME_MAX + 64];
	bool leader;
	/* JOIN, for the leader: every member's id and metadata. */
	size_t n_members;
	char **member_ids;
	uint8_t **metadata;
	size_t *metadata_len;
	/* SYNC: this member's assignment. */
	uint8_t *assignment;
	size_t assignment_len;
};

static void
call_free(struct call *k)
{
	for (size_t i = 0; i < k->n_members; i++) {
		gq__free(k->member_ids[i]);
		gq__free(k->metadata[i]);
	}
	gq__free(k->member_ids);
	gq__free(k->metadata);
	gq__free(k->metadata_len);
	gq__free(k->assignment);
	memset(k, 0, sizeof(*k));
}

static void
call_finish(struct call *k, int status)
{
	pthread_mutex_lock(&k->c->mu);
	k->status = status;
	k->done = true;
	pthread_cond_broadcast(&k->c->cv);
	pthread_mutex_unlock(&k->c->mu);
}

/* Wait for @k's callback (mu not held); returns its status. */
static int
call_wait(struct call *k)
{
	pthread_mutex_lock(&k->c->mu);
	while (!k->done)
		pthread_cond_wait(&k->c->cv, &k->c->mu);
	pthread_mutex_unlock(&k->c->mu);
	return k->status;
}

static void
on_join(void *arg, int status, const struct gq_group_joined *j)
{
	struct call *k = arg;
	size_t n = j->n_members;

	k->generation = j->generation;
	snprintf(k->member_id, sizeof(k->member_id), "%s", j->member_id);
	k->leader = status == 0 && strcmp(j->leader, j->member_id) == 0;
	if (status == 0 && n > 0) {
		k->member_ids = gq__calloc(n, sizeof(*k->member_ids));
		k->metadata = gq__calloc(n, sizeof(*k->metadata));
		k->metadata_len = gq__calloc(n, sizeof(*k->metadata_len));
		if (k->member_ids == NULL || k->metadata == NULL ||
		    k->metadata_len == NULL)
			status = GQ_ENOMEM;
		else
			k->n_members = n;
		for (size_t i = 0; status == 0 && i < n; i++) {
			k->member_ids[i] = gq__strdup(j->members[i].member_id);
			k->metadata[i] = gq__malloc(j->members[i].len + 1);
			if (k->member_ids[i] == NULL ||
			    k->metadata[i] == NULL) {
				status = GQ_ENOMEM;
				break;
			}
			memcpy(k->metadata[i], j->members[i].metadata,
			       j->members[i].len);
			k->metadata_len[i] = j->members[i].len;
		}
	}
	call_finish(k, status);
}

static void
on_sync(void *arg, int status, const void *assignment, size_t len)
{
	struct call *k = arg;

	if (status == 0 && (k->assignment = gq__malloc(len + 1)) == NULL)
		status = GQ_ENOMEM;
	else if (status == 0 && len > 0)
		memcpy(k->assignment, assignment, len);
	k->assignment_len = len;
	call_finish(k, status);
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
	/* A partition the coordinator refused fails the commit. */
	for (size_t i = 0; status == 0 && i < n; i++)
		status = o[i].status;
	call_finish(arg, status);
}

/* ---- committing -------------------------------------------------------- */

/* The positions worth committing (mu held), with copies of the topic
 * names the caller frees with offsets_free(). */
static int
offsets_snapshot(struct gq_consumer *c, struct gq_group_offset **out, size_t *n)
{
	struct gq_group_offset *o;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (c->n_parts == 0)
		return 0;
	if ((o = gq__calloc(c->n_parts, sizeof(*o))) == NULL)
		return GQ_ENOMEM;
	for (size_t i = 0; i < c->n_parts; i++) {
		if (c->parts[i].position < 0)
			continue;
		if ((o[k].topic = gq__strdup(c->parts[i].topic)) == NULL) {
			for (size_t j = 0; j < k; j++)
				gq__free((char *)o[j].topic);
			gq__free(o);
			return GQ_ENOMEM;
		}
		o[k].partition = c->parts[i].partition;
		o[k].offset = c->parts[i].position;
		k++;
	}
	*out = o;
	*n = k;
	return 0;
}

static void
offsets_free(struct gq_group_offset *o, size_t n)
{
	for (size_t i = 0; o != NULL && i < n; i++)
		gq__free((char *)o[i].topic);
	gq__free(o);
}

/* Commit the positions now and wait (mu not held). */
static int
commit_positions(struct gq_consumer *c)
{
	struct gq_group_offset *o;
	struct call k = { .c = c };
	char member[sizeof(c->member_id)];
	int32_t generation;
	size_t n;
	int rv;

	pthread_mutex_lock(&c->mu);
	rv = offsets_snapshot(c, &o, &n);
	generation = c->generation;
	memcpy(member, c->member_id, sizeof(member));
	if (rv == 0 && n > 0 && generation != c->parts_generation)
		rv = GQ_EREBALANCE;
	pthread_mutex_unlock(&c->mu);
	if (rv != 0 || n == 0) {
		offsets_free(o, n);
		return rv;
	}
	rv = gq_group_commit_async(c->node, c->group, generation, member, o, n,
				   on_commit, &k);
	if (rv == 0)
		rv = call_wait(&k);
	offsets_free(o, n);
	return rv;
}

/* ---- the membership thread --------------------------------------------- */

static int32_t
partition_count(void *arg, const char *topic)
{
	struct gq_topic_info *info;
	int32_t n;

	if (gq_topic_describe(arg, topic, &info) != 0)
		return -1;
	n = gq_topic_info_partitions(info);
	gq_topic_info_destroy(info);
	return n;
}

/* As the group's leader: assign every member its share, encoded for
 * SyncGroup into @as (@k's members' order).  0 or GQ_ENOMEM. */
static int
leader_assign(struct gq_consumer *c, const struct call *k,
	      struct gq_group_assignment *as, struct gq__buf *bufs)
{
	struct gq__subscription *subs;
	struct gq__assign_member *m;
	struct gq__tp_list *out;
	size_t n = k->n_members;
	int rv = GQ_ENOMEM;

	subs = gq__calloc(n, sizeof(*subs));
	m = gq__calloc(n, sizeof(*m));
	out = gq__calloc(n, sizeof(*out));
	if (subs == NULL || m == NULL || out == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		/* A member whose subscription does not parse gets nothing. */
		if (gq__subscription_decode(k->metadata[i], k->metadata_len[i],
					    &subs[i]) != 0)
			memset(&subs[i], 0, sizeof(subs[i]));
		m[i].member_id = k->member_ids[i];
		m[i].sub = &subs[i];
	}
	if ((rv = gq__assign(c->assignor, m, n, partition_count, c->node,
			     out)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((rv = gq__assignment_encode(&out[i], &bufs[i])) != 0)
			goto out;
		as[i].member_id = k->member_ids[i];
		as[i].data = bufs[i].base;
		as[i].len = bufs[i].len;
	}
out:
	for (size_t i = 0; subs != NULL && i < n; i++)
		gq__subscription_free(&subs[i]);
	for (size_t i = 0; out != NULL && i < n; i++)
		gq__tp_list_free(&out[i]);
	gq__free(subs);
	gq__free(m);
	gq__free(out);
	return rv;
}

/* Join, assign if leader, sync (mu not held).  0 with a new pending
 * assignment, or the error that stopped it. */
static int
join_and_sync(struct gq_consumer *c)
{
	struct gq_group_protocol proto;
	struct gq_group_join j;
	struct gq__buf sub = GQ__BUF_INIT;
	struct gq_group_assignment *as = NULL;
	struct gq__buf *bufs = NULL;
	struct gq__tp_list parts = { NULL, 0, 0 };
	struct call k = { .c = c };
	size_t n_as = 0;
	int rv;

	pthread_mutex_lock(&c->mu);
	rv = gq__subscription_encode((const char *const *)c->topics,
				     c->n_topics, &sub);
	memset(&j, 0, sizeof(j));
	j.member_id = gq__strdup(c->member_id);
	pthread_mutex_unlock(&c->mu);
	if (rv != 0 || j.member_id == NULL) {
		rv = rv != 0 ? rv : GQ_ENOMEM;
		goto out;
	}
	proto.name = c->assignor;
	proto.metadata = sub.base;
	proto.len = sub.len;
	j.group = c->group;
	j.client_id = c->client_id;
	j.client_host = "embedded";
	j.protocol_type = CONSUMER_PROTO;
	j.session_timeout_ms = (int32_t)c->opts.session_timeout_ms;
	j.rebalance_timeout_ms = (int32_t)c->opts.rebalance_timeout_ms;
	j.require_member_id = true;
	j.n_protocols = 1;
	j.protocols = &proto;
	if ((rv = gq_group_join_async(c->node, &j, on_join, &k)) == 0)
		rv = call_wait(&k);
	pthread_mutex_lock(&c->mu);
	/* Our id, even with MEMBER_ID_REQUIRED; forgotten when unknown. */
	snprintf(c->member_id, sizeof(c->member_id), "%s",
		 rv == GQ_EMEMBER ? "" : k.member_id);
	pthread_mutex_unlock(&c->mu);
	if (rv != 0)
		goto out;
	if (k.leader) {
		n_as = k.n_members;
		as = gq__calloc(n_as, sizeof(*as));
		bufs = gq__calloc(n_as, sizeof(*bufs));
		if (as == NULL || bufs == NULL ||
		    (rv = leader_assign(c, &k, as, bufs)) != 0) {
			rv = rv != 0 ? rv : GQ_ENOMEM;
			goto out;
		}
	}
	k.done = false;
	if ((rv = gq_group_sync_async(c->node, c->group, k.generation,
				      k.member_id, NULL, n_as, as, on_sync,
				      &k)) == 0)
		rv = call_wait(&k);
	if (rv == 0)
		rv = gq__assignment_decode(k.assignment, k.assignment_len,
					   &parts);
	gq__log(c->node, GQ_LOG_DEBUG,
		"consumer of group %s: generation %d%s, %zu partitions: %s",
		c->group, k.generation, k.leader ? " (leader)" : "", parts.n,
		gq_strerror(rv));
	if (rv == 0) {
		pthread_mutex_lock(&c->mu);
		gq__tp_list_free(&c->pending_parts);
		c->pending_parts = parts;
		memset(&parts, 0, sizeof(parts));
		c->pending = true;
		c->generation = k.generation;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
out:
	for (size_t i = 0; bufs != NULL && i < n_as; i++)
		gq__buf_free(&bufs[i]);
	gq__free(bufs);
	gq__free(as);
	gq__tp_list_free(&parts);
	gq__free((char *)j.member_id);
	gq__buf_free(&sub);
	call_free(&k);
	return rv;
}

/* Errors a join or heartbeat recovers from by trying again. */
static bool
transient(int rv)
{
	return rv == GQ_ENOTCOORD || rv == GQ_ENOTREADY || rv == GQ_ENOMEM ||
	       rv == GQ_EIO || rv == GQ_ETIMEDOUT || rv == GQ_EUNKNOWN ||
	       rv == GQ_EREBALANCE || rv == GQ_EGENERATION ||
	       rv == GQ_EMEMBER || rv == GQ_EMEMBERID;
}

/* Rebalance: have the application give its partitions up (mu held). */
static void
await_revoke(struct gq_consumer *c)
{
	uint64_t until = now_ms() + c->opts.rebalance_timeout_ms;

	if (c->n_parts == 0 && !c->pending)
		return;
	c->revoke_needed = true;
	pthread_cond_broadcast(&c->cv);
	while (c->revoke_needed && !c->closing && now_ms() < until)
		wait_until(c, until);
}

static void *
membership_thread(void *arg)
{
	struct gq_consumer *c = arg;
	uint64_t next_beat = 0;
	uint64_t next_commit = now_ms() + c->opts.auto_commit_interval_ms;

	pthread_mutex_lock(&c->mu);
	while (!c->closing && c->fatal == 0) {
		int rv;

		if (c->n_topics == 0) {
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		if (c->need_join) {
			await_revoke(c);
			if (c->closing)
				break;
			c->generation = -1;
			pthread_mutex_unlock(&c->mu);
			rv = join_and_sync(c);
			pthread_mutex_lock(&c->mu);
			if (rv == 0) {
				c->need_join = false;
				next_beat = now_ms() +
					    c->opts.heartbeat_interval_ms;
			} else if (rv == GQ_EMEMBERID) {
				continue; /* join again at once, with the id */
			} else if (!transient(rv)) {
				gq__log(c->node, GQ_LOG_ERROR,
					"consumer of group %s gives up: %s",
					c->group, gq_strerror(rv));
				c->fatal = rv;
				pthread_cond_broadcast(&c->cv);
			} else {
				wait_until(c, now_ms() + RETRY_MS);
			}
			continue;
		}
		if (now_ms() < next_beat && now_ms() < next_commit) {
			wait_until(c, next_beat < next_commit ? next_beat
							      : next_commit);
			continue;
		}
		if (now_ms() >= next_commit) {
			next_commit =
				now_ms() + c->opts.auto_commit_interval_ms;
			if (c->opts.auto_commit && c->generation >= 0) {
				pthread_mutex_unlock(&c->mu);
				commit_positions(c);
				pthread_mutex_lock(&c->mu);
			}
			continue;
		}
		next_beat = now_ms() + c->opts.heartbeat_interval_ms;
		{
			struct call k = { .c = c };
			char member[sizeof(c->member_id)];
			int32_t generation = c->generation;

			memcpy(member, c->member_id, sizeof(member));
			pthread_mutex_unlock(&c->mu);
			rv = gq_group_heartbeat_async(c->node, c->group,
						      generation, member,
						      on_done, &k);
			if (rv == 0)
				rv = call_wait(&k);
			pthread_mutex_lock(&c->mu);
		}
		if (rv == GQ_EMEMBER)
			c->member_id[0] = '\0';
		if (rv == GQ_EREBALANCE || rv == GQ_EMEMBER ||
		    rv == GQ_EGENERATION || rv == GQ_EINSTANCE)
			c->need_join = true;
		else if (rv == GQ_ECLOSED)
			c->fatal = rv;
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* ---- the application's side -------------------------------------------- */

void
gq_consumer_options_init(struct gq_consumer_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->client_id = "goqueue";
	opts->assignor = "range";
	opts->session_timeout_ms = 10000;
	opts->rebalance_timeout_ms = 30000;
	opts->heartbeat_interval_ms = 1000;
	opts->auto_commit = true;
	opts->auto_commit_interval_ms = 5000;
	opts->offset_reset = GQ_RESET_LATEST;
}

static void
topics_free(char **topics, size_t n)
{
	for (size_t i = 0; topics != NULL && i < n; i++)
		gq__free(topics[i]);
	gq__free(topics);
}

int
gq_consumer_create(struct gq_node *node, const struct gq_consumer_options *o,
		   struct gq_consumer **out)
{
	struct gq_consumer *c;
	int rv;

	if (node == NULL || o == NULL || out == NULL || o->client_id == NULL ||
	    o->assignor == NULL || o->session_timeout_ms == 0 ||
	    o->heartbeat_interval_ms == 0 || o->rebalance_timeout_ms == 0 ||
	    o->heartbeat_interval_ms >= o->session_timeout_ms ||
	    o->auto_commit_interval_ms == 0 ||
	    (strcmp(o->assignor, "range") != 0 &&
	     strcmp(o->assignor, "roundrobin") != 0) ||
	    (o->offset_reset != GQ_RESET_LATEST &&
	     o->offset_reset != GQ_RESET_EARLIEST))
		return GQ_EINVAL;
	if ((rv = gq__group_name_check(o->group, NULL)) != 0)
		return rv;
	if ((c = gq__calloc(1, sizeof(*c))) == NULL)
		return GQ_ENOMEM;
	c->node = node;
	c->opts = *o;
	c->group = gq__strdup(o->group);
	c->client_id = gq__strdup(o->client_id);
	c->assignor = gq__strdup(o->assignor);
	c->generation = -1;
	if (c->group == NULL || c->client_id == NULL || c->assignor == NULL) {
		gq__free(c->group);
		gq__free(c->client_id);
		gq__free(c->assignor);
		gq__free(c);
		return GQ_ENOMEM;
	}
	c->opts.group = c->group;
	c->opts.client_id = c->client_id;
	c->opts.assignor = c->assignor;
	pthread_mutex_init(&c->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&c->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	*out = c;
	return 0;
}

int
gq_consumer_subscribe(struct gq_consumer *c, const char *const *topics,
		      size_t n)
{
	char **copy;
	int rv;

	/* No topics is no membership: gq_consumer_close() leaves. */
	if (c == NULL || n == 0 || topics == NULL)
		return GQ_EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((rv = gq__name_check(topics[i], true, NULL)) != 0)
			return rv;
	if ((copy = gq__calloc(n, sizeof(*copy))) == NULL)
		return GQ_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((copy[i] = gq__strdup(topics[i])) == NULL) {
			topics_free(copy, i);
			return GQ_ENOMEM;
		}
	}
	pthread_mutex_lock(&c->mu);
	topics_free(c->topics, c->n_topics);
	c->topics = copy;
	c->n_topics = n;
	c->need_join = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (!c->thread_started) {
		if (pthread_create(&c->thread, NULL, membership_thread, c) != 0)
			return GQ_ENOMEM;
		c->thread_started = true;
	}
	return 0;
}

/* The assignment as the callbacks see it; NULL when out of memory. */
static struct gq_topic_partition *
tp_view(const struct part *parts, size_t n)
{
	struct gq_topic_partition *v = gq__calloc(n > 0 ? n : 1, sizeof(*v));

	for (size_t i = 0; v != NULL && i < n; i++) {
		v[i].topic = parts[i].topic;
		v[i].partition = parts[i].partition;
	}
	return v;
}

static void
callback(struct gq_consumer *c, gq_rebalance_cb cb)
{
	struct gq_topic_partition *v;

	if (cb == NULL || (v = tp_view(c->parts, c->n_parts)) == NULL)
		return;
	cb(c->opts.cb_arg, c, v, c->n_parts);
	gq__free(v);
}

static void
part_clear(struct part *p)
{
	gq_fetch_destroy(p->fetch);
	p->fetch = NULL;
	gq__free(p->topic);
}

/* Give the assignment up: callback, commit, forget (mu not held). */
static void
revoke_assignment(struct gq_consumer *c)
{
	struct part *old;
	size_t n;

	if (c->n_parts > 0) {
		callback(c, c->opts.on_revoke);
		if (c->opts.auto_commit)
			commit_positions(c);
	}
	/* Waits outstanding point at no partition: they just end.  An
	 * assignment not taken yet is superseded by the coming rebalance. */
	pthread_mutex_lock(&c->mu);
	old = c->parts;
	n = c->n_parts;
	c->parts = NULL;
	c->n_parts = 0;
	c->cursor = 0;
	if (c->revoke_needed) {
		gq__tp_list_free(&c->pending_parts);
		c->pending = false;
	}
	c->revoke_needed = false;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	for (size_t i = 0; i < n; i++)
		part_clear(&old[i]);
	gq__free(old);
}

/* Where to start in @p when the group committed nothing (or its offset
 * is gone). */
static void
reset_position(struct gq_consumer *c, struct part *p)
{
	gq_offset off;

	if (gq_list_offsets(c->node, p->topic, p->partition,
			    c->opts.offset_reset == GQ_RESET_EARLIEST
				    ? GQ_OFFSET_EARLIEST
				    : GQ_OFFSET_LATEST,
			    &off) == 0)
		p->position = off;
}

/* Positions of partitions that have none yet: committed, else reset. */
static void
resolve_positions(struct gq_consumer *c)
{
	for (size_t i = 0; i < c->n_parts; i++) {
		struct part *p = &c->parts[i];
		struct gq_group_offset o = { .topic = p->topic,
					     .partition = p->partition };

		if (p->position >= 0)
			continue;
		if (gq_group_offsets(c->node, c->group, &o, 1) != 0 ||
		    (o.status != 0 && o.status != GQ_ENOTOPIC &&
		     o.status != GQ_ENOPARTITION))
			continue; /* tried again at the next poll */
		if (o.status == 0 && o.offset >= 0)
			p->position = o.offset;
		else
			reset_position(c, p);
	}
}

/* Take the assignment the membership thread got (mu held on entry and
 * exit; released around the work). */
static int
apply_assignment(struct gq_consumer *c)
{
	struct gq__tp_list l = c->pending_parts;
	size_t n = l.n;
	struct part *parts = NULL;
	int rv = 0;

	memset(&c->pending_parts, 0, sizeof(c->pending_parts));
	c->pending = false;
	pthread_mutex_unlock(&c->mu);
	if (c->n_parts > 0)
		revoke_assignment(c); /* what we had but never gave up */
	if (n > 0 && (parts = gq__calloc(n, sizeof(*parts))) == NULL)
		rv = GQ_ENOMEM;
	for (size_t i = 0; rv == 0 && i < n; i++) {
		parts[i].topic = l.v[i].topic;
		l.v[i].topic = NULL; /* moved */
		parts[i].partition = l.v[i].partition;
		parts[i].position = -1;
	}
	gq__tp_list_free(&l);
	pthread_mutex_lock(&c->mu);
	if (rv != 0) {
		/* Rejoin for another try rather than consume nothing. */
		c->need_join = true;
		pthread_cond_broadcast(&c->cv);
		return rv;
	}
	c->parts = parts;
	c->n_parts = n;
	c->cursor = 0;
	c->parts_generation = c->generation;
	pthread_mutex_unlock(&c->mu);
	resolve_positions(c);
	callback(c, c->opts.on_assign);
	pthread_mutex_lock(&c->mu);
	return 0;
}

static struct part *
part_find(struct gq_consumer *c, const char *topic, int32_t partition)
{
	for (size_t i = 0; topic != NULL && i < c->n_parts; i++)
		if (c->parts[i].partition == partition &&
		    strcmp(c->parts[i].topic, topic) == 0)
			return &c->parts[i];
	return NULL;
}

/* The next message of the assignment, without waiting: 1, 0 or an
 * error (mu not held). */
static int
next_message(struct gq_consumer *c, struct gq_consumer_message *out)
{
	/* Each partition may take two turns: fetch, then read. */
	for (size_t tries = 0; tries <= 2 * c->n_parts && c->n_parts > 0;
	     tries++) {
		struct part *p = &c->parts[c->cursor % c->n_parts];
		int rv;

		if (p->fetch != NULL) {
			rv = gq_fetch_next(p->fetch, &out->record);
			if (rv == 1) {
				out->topic = p->topic;
				out->partition = p->partition;
				c->last = p->fetch;
				pthread_mutex_lock(&c->mu);
				p->position = out->record.offset + 1;
				pthread_mutex_unlock(&c->mu);
				return 1;
			}
			gq_fetch_destroy(p->fetch);
			p->fetch = NULL;
			if (rv < 0)
				return rv;
			c->cursor++;
			continue;
		}
		if (p->paused || p->position < 0) {
			c->cursor++;
			continue;
		}
		rv = gq_fetch(c->node, p->topic, p->partition, p->position,
			      FETCH_BYTES, &p->fetch);
		if (rv == GQ_EOFFSET) {
			/* Retention removed it, or a seek went too far. */
			reset_position(c, p);
			c->cursor++;
			continue;
		}
		if (rv == GQ_ECLOSED || rv == GQ_ENOMEM)
			return rv;
		if (rv != 0) { /* no replica here, or gone: skip it */
			p->fetch = NULL;
			c->cursor++;
			continue;
		}
		/* Read it at the next turn. */
	}
	return 0;
}

static void
on_data(void *arg, int status)
{
	struct gq_consumer *c = arg;

	pthread_mutex_lock(&c->mu);
	c->waits--;
	if (status == 0)
		c->data_ready = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* Ask to be told when any readable partition gets data (mu held). */
static void
arm_waits(struct gq_consumer *c, uint32_t timeout_ms)
{
	c->data_ready = false;
	for (size_t i = 0; i < c->n_parts; i++) {
		struct part *p = &c->parts[i];

		if (p->paused || p->position < 0)
			continue;
		if (gq_fetch_wait_async(c->node, p->topic, p->partition,
					p->position, timeout_ms, on_data,
					c) == 0)
			c->waits++;
	}
}

int
gq_consumer_poll(struct gq_consumer *c, uint32_t timeout_ms,
		 struct gq_consumer_message *out)
{
	uint64_t deadline = now_ms() + timeout_ms;
	int rv = 0;

	if (c == NULL || out == NULL)
		return GQ_EINVAL;
	c->last = NULL; /* the previous message's lending ends */
	pthread_mutex_lock(&c->mu);
	for (;;) {
		uint64_t now;
		uint32_t slice;

		if (c->fatal != 0) {
			rv = c->fatal;
			break;
		}
		if (c->revoke_needed) {
			pthread_mutex_unlock(&c->mu);
			revoke_assignment(c);
			pthread_mutex_lock(&c->mu);
			continue;
		}
		if (c->pending && (rv = apply_assignment(c)) != 0)
			break;
		pthread_mutex_unlock(&c->mu);
		resolve_positions(c);
		rv = next_message(c, out);
		pthread_mutex_lock(&c->mu);
		if (rv != 0 || (now = now_ms()) >= deadline)
			break;
		slice = (uint32_t)(deadline - now < WAIT_SLICE_MS
					   ? deadline - now
					   : WAIT_SLICE_MS);
		arm_waits(c, slice);
		while (!c->data_ready && !c->revoke_needed && !c->pending &&
		       c->fatal == 0 && now_ms() < now + slice)
			wait_until(c, now + slice);
	}
	pthread_mutex_unlock(&c->mu);
	return rv;
}

int
gq_consumer_header(struct gq_consumer *c, size_t i, struct gq_header *out)
{
	if (c == NULL || out == NULL || c->last == NULL)
		return GQ_EINVAL;
	return gq_fetch_header(c->last, i, out);
}

int
gq_consumer_commit(struct gq_consumer *c)
{
	if (c == NULL)
		return GQ_EINVAL;
	return commit_positions(c);
}

/* An asynchronous commit in flight. */
struct async_commit {
	struct gq_group_offset *offsets;
	size_t n;
	gq_done_cb cb;
	void *arg;
};

static void
async_committed(void *arg, int status, struct gq_group_offset *o, size_t n)
{
	struct async_commit *a = arg;

	for (size_t i = 0; status == 0 && i < n; i++)
		status = o[i].status;
	if (a->cb != NULL)
		a->cb(a->arg, status, status != 0 ? gq_strerror(status) : "");
	offsets_free(a->offsets, a->n);
	gq__free(a);
}

int
gq_consumer_commit_async(struct gq_consumer *c, gq_done_cb cb, void *arg)
{
	struct async_commit *a;
	char member[sizeof(c->member_id)];
	int32_t generation;
	int rv;

	if (c == NULL)
		return GQ_EINVAL;
	if ((a = gq__calloc(1, sizeof(*a))) == NULL)
		return GQ_ENOMEM;
	a->cb = cb;
	a->arg = arg;
	pthread_mutex_lock(&c->mu);
	rv = offsets_snapshot(c, &a->offsets, &a->n);
	generation = c->generation;
	memcpy(member, c->member_id, sizeof(member));
	if (rv == 0 && generation != c->parts_generation)
		rv = GQ_EREBALANCE;
	pthread_mutex_unlock(&c->mu);
	if (rv == 0)
		rv = gq_group_commit_async(c->node, c->group, generation,
					   member, a->offsets, a->n,
					   async_committed, a);
	if (rv != 0) {
		offsets_free(a->offsets, a->n);
		gq__free(a);
	}
	return rv;
}

int
gq_consumer_seek(struct gq_consumer *c, const char *topic, int32_t partition,
		 gq_offset offset)
{
	struct part *p;

	if (c == NULL || (p = part_find(c, topic, partition)) == NULL ||
	    offset < GQ_OFFSET_EARLIEST)
		return GQ_EINVAL;
	if (p->fetch == c->last)
		c->last = NULL;
	gq_fetch_destroy(p->fetch);
	p->fetch = NULL;
	if (offset < 0) {
		if (gq_list_offsets(c->node, topic, partition, offset,
				    &offset) != 0)
			return GQ_EIO;
	}
	pthread_mutex_lock(&c->mu);
	p->position = offset;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static int
set_paused(struct gq_consumer *c, const char *topic, int32_t partition,
	   bool paused)
{
	struct part *p;

	if (c == NULL || (p = part_find(c, topic, partition)) == NULL)
		return GQ_EINVAL;
	p->paused = paused;
	return 0;
}

int
gq_consumer_pause(struct gq_consumer *c, const char *topic, int32_t partition)
{
	return set_paused(c, topic, partition, true);
}

int
gq_consumer_resume(struct gq_consumer *c, const char *topic, int32_t partition)
{
	return set_paused(c, topic, partition, false);
}

void
gq_consumer_assignment_free(struct gq_topic_partition *parts,
			    gq_offset *positions, size_t n)
{
	for (size_t i = 0; parts != NULL && i < n; i++)
		gq__free((char *)parts[i].topic);
	gq__free(parts);
	gq__free(positions);
}

int
gq_consumer_assignment(struct gq_consumer *c, struct gq_topic_partition **parts,
		       gq_offset **positions, size_t *n)
{
	struct gq_topic_partition *v;
	gq_offset *pos = NULL;
	size_t count;

	if (c == NULL || parts == NULL || n == NULL)
		return GQ_EINVAL;
	count = c->n_parts;
	v = gq__calloc(count > 0 ? count : 1, sizeof(*v));
	if (positions != NULL)
		pos = gq__calloc(count > 0 ? count : 1, sizeof(*pos));
	if (v == NULL || (positions != NULL && pos == NULL)) {
		gq__free(v);
		gq__free(pos);
		return GQ_ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		v[i].partition = c->parts[i].partition;
		if ((v[i].topic = gq__strdup(c->parts[i].topic)) == NULL) {
			gq_consumer_assignment_free(v, pos, i);
			return GQ_ENOMEM;
		}
		if (pos != NULL)
			pos[i] = c->parts[i].position;
	}
	*parts = v;
	if (positions != NULL)
		*positions = pos;
	*n = count;
	return 0;
}

void
gq_consumer_close(struct gq_consumer *c)
{
	char member[sizeof(c->member_id)];

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->closing = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->thread_started)
		pthread_join(c->thread, NULL);
	/* Revoke (and commit), then leave so the others need not wait for
	 * our session to expire. */
	if (c->generation >= 0)
		revoke_assignment(c);
	memcpy(member, c->member_id, sizeof(member));
	if (member[0] != '\0') {
		struct call k = { .c = c };

		if (gq_group_leave_async(c->node, c->group, member, on_done,
					 &k) == 0)
			call_wait(&k);
	}
	pthread_mutex_lock(&c->mu);
	while (c->waits > 0)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	for (size_t i = 0; i < c->n_parts; i++)
		part_clear(&c->parts[i]);
	gq__free(c->parts);
	gq__tp_list_free(&c->pending_parts);
	topics_free(c->topics, c->n_topics);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	gq__free(c->group);
	gq__free(c->client_id);
	gq__free(c->assignor);
	gq__free(c);
}
