/* SPDX-License-Identifier: MIT */
/*
 * cmd_consume.c - `gqctl topic consume TOPIC`: read partitions from the
 * Kafka port through a node connected to the brokers (client.h; public
 * API only) and print each message as its value, as key SEP value, or as
 * one JSON object per line.
 *
 * Each partition gets a start offset (--from) and, without --follow, an
 * end: its high watermark when the command started, so a busy topic
 * still ends.  The partitions are read in turn with gq_fetch() (at most
 * CLIENT_FETCH_BYTES each); while following, a round that found nothing
 * flushes stdout and long-polls every partition (gq_fetch_wait_async())
 * until one has news, so a follower prints a message as soon as it is
 * committed without polling.  With --group the library's group consumer
 * reads instead (see "as a group member").
 *
 * JSON: keys, values and header values are JSON strings when their bytes
 * are UTF-8 (jansson checks), null when null, and otherwise base64 with a
 * sibling "<name>_encoding": "base64", so any bytes round-trip.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"
#include "gqctl.h"
#include "progress.h"

/* How long a follower sleeps after a round that found nothing, and after
 * an error it retries. */
/* One long poll of a partition while following; it answers as soon as
 * the partition has news. */
#define WAIT_MS  1000
#define RETRY_MS 1000

/* A group member's poll slice (how soon it sees Ctrl-C), and how often it
 * commits while messages flow. */
#define MEMBER_POLL_MS 200
#define COMMIT_MS      1000

enum format { FMT_VALUE, FMT_KV, FMT_JSON };

enum from { FROM_EARLIEST, FROM_LATEST, FROM_OFFSET, FROM_TIME, FROM_LAST };

enum {
	OPT_FROM = 256,
	OPT_FOLLOW,
	OPT_FORMAT,
	OPT_SEPARATOR,
};

struct copts {
	const struct gqctl *g;
	long long partition; /* -1: all */
	enum from from;
	long long from_value; /* offset, timestamp or count */
	long long count;      /* 0: no limit */
	bool follow;
	enum format format;
	bool format_set;
	char *sep;
	size_t sep_len;
	const char *group;    /* --group: consume as a member of it */
	const char *from_arg; /* --from as given, for messages */
};

struct news;

struct cpart {
	int32_t id;
	gq_offset pos; /* the next offset to print */
	gq_offset end; /* stop there (without --follow) */
	struct news *news;
	bool waiting; /* a long poll of it is out (under news->lock) */
	bool done;
	bool failing; /* a retried error was reported */
};

/* The long polls of --follow: their answers come on the node's loop
 * thread; the reading thread waits for the first. */
struct news {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned outstanding; /* polls not answered yet */
	unsigned answered;    /* since the reading thread last looked */
};

struct consumer {
	const struct copts *o;
	struct gq_node *node;
	struct gq_consumer *member; /* with --group */
	const char *topic;
	const char *what;
	struct cpart *parts;
	int32_t n;
	uint64_t printed;
	struct progress bar; /* of --count, when the output is not a tty */
};

/* ---- output ------------------------------------------------------------ */

static char *
base64(const unsigned char *p, size_t n)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out;
	char *o;
	uint32_t v;
	size_t i;

	if ((out = malloc(4 * ((n + 2) / 3) + 1)) == NULL)
		return NULL;
	o = out;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = digits[v >> 18 & 63];
		*o++ = digits[v >> 12 & 63];
		*o++ = digits[v >> 6 & 63];
		*o++ = digits[v & 63];
	}
	if (i < n) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		*o++ = digits[v >> 18 & 63];
		*o++ = digits[v >> 12 & 63];
		*o++ = i + 1 < n ? digits[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* Set @name in @obj to the bytes @p/@n (NULL: null) as described at the
 * top of the file.  0, or -1 when out of memory. */
static int
set_bytes(json_t *obj, const char *name, const void *p, size_t n)
{
	char enc[32];
	json_t *s;
	char *b;

	if (p == NULL)
		return json_object_set_new(obj, name, json_null());
	if ((s = json_stringn(p, n)) != NULL)
		return json_object_set_new(obj, name, s);
	if ((b = base64(p, n)) == NULL)
		return -1;
	snprintf(enc, sizeof(enc), "%s_encoding", name);
	s = json_string(b);
	free(b);
	if (json_object_set_new(obj, name, s) != 0 ||
	    json_object_set_new(obj, enc, json_string("base64")) != 0)
		return -1;
	return 0;
}

static int
print_json(struct consumer *c, struct gq_fetch *f, int32_t partition,
	   const struct gq_record *r)
{
	struct gq_header h;
	json_t *headers;
	json_t *hdr;
	json_t *o;
	size_t i;
	int rv = -1;

	o = json_pack("{s:s,s:i,s:I,s:I}", "topic", c->topic, "partition",
		      (int)partition, "offset", (json_int_t)r->offset,
		      "timestamp", (json_int_t)r->timestamp);
	if (o == NULL || set_bytes(o, "key", r->key, r->key_len) != 0 ||
	    set_bytes(o, "value", r->value, r->value_len) != 0 ||
	    (headers = json_array()) == NULL)
		goto out;
	if (json_object_set_new(o, "headers", headers) != 0)
		goto out;
	for (i = 0; i < r->header_count; i++) {
		if ((c->member != NULL ? gq_consumer_header(c->member, i, &h)
				       : gq_fetch_header(f, i, &h)) != 0 ||
		    (hdr = json_object()) == NULL)
			goto out;
		if (json_array_append_new(headers, hdr) != 0 ||
		    set_bytes(hdr, "key", h.key, h.key_len) != 0 ||
		    set_bytes(hdr, "value", h.value, h.value_len) != 0)
			goto out;
	}
	if (json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 &&
	    putchar('\n') != EOF)
		rv = 0;
out:
	json_decref(o);
	return rv;
}

/* Print one message in the chosen format; @f is the fetch it came from
 * (NULL for a group member's).  0, or -1 (out of memory, or stdout
 * failed). */
static int
print_record(struct consumer *c, struct gq_fetch *f, int32_t partition,
	     const struct gq_record *r)
{
	const struct copts *o = c->o;

	switch (o->format) {
	case FMT_JSON:
		return print_json(c, f, partition, r);
	case FMT_KV:
		if (r->key_len > 0)
			fwrite(r->key, 1, r->key_len, stdout);
		fwrite(o->sep, 1, o->sep_len, stdout);
		/* fall through */
	case FMT_VALUE:
		if (r->value_len > 0)
			fwrite(r->value, 1, r->value_len, stdout);
		putchar('\n');
		break;
	}
	return ferror(stdout) ? -1 : 0;
}

/* ---- positions --------------------------------------------------------- */

/* Where @p starts and, without --follow, ends. */
static int
start_at(struct consumer *c, struct cpart *p)
{
	const struct copts *o = c->o;
	gq_offset lo;
	gq_offset hi;
	gq_offset at;
	int rv;

	if ((rv = gq_list_offsets(c->node, c->topic, p->id, GQ_OFFSET_EARLIEST,
				  &lo)) != 0 ||
	    (rv = gq_list_offsets(c->node, c->topic, p->id, GQ_OFFSET_LATEST,
				  &hi)) != 0)
		return rv;
	switch (o->from) {
	case FROM_EARLIEST:
		at = lo;
		break;
	case FROM_LATEST:
		at = hi;
		break;
	case FROM_OFFSET:
		/* Clamped to what the partition holds, as a Kafka consumer's
		 * reset would. */
		at = o->from_value < lo   ? lo
		     : o->from_value > hi ? hi
					  : o->from_value;
		break;
	case FROM_LAST:
		at = hi - lo > o->from_value ? hi - o->from_value : lo;
		break;
	case FROM_TIME:
	default:
		if ((rv = gq_list_offsets(c->node, c->topic, p->id,
					  o->from_value, &at)) != 0)
			return rv;
		if (at < 0 || at > hi)
			at = hi;
		break;
	}
	p->pos = at;
	p->end = o->follow ? INT64_MAX : hi;
	p->done = p->pos >= p->end;
	return 0;
}

/* The fetch position fell out of the partition's range (retention
 * deleted it, or the log was cut): move to the nearest end. */
static int
reposition(struct consumer *c, struct cpart *p)
{
	gq_offset lo;
	gq_offset hi;
	int rv;

	if ((rv = gq_list_offsets(c->node, c->topic, p->id, GQ_OFFSET_EARLIEST,
				  &lo)) != 0 ||
	    (rv = gq_list_offsets(c->node, c->topic, p->id, GQ_OFFSET_LATEST,
				  &hi)) != 0)
		return rv;
	if (p->pos < lo) {
		fflush(stdout);
		gqctl_err("%s: partition %d: offsets %" PRId64 " to %" PRId64
			  " are gone; reading on from %" PRId64,
			  c->what, (int)p->id, p->pos, lo - 1, lo);
		p->pos = lo;
	} else if (p->pos > hi) {
		p->pos = hi;
	}
	p->done = p->pos >= p->end;
	return 0;
}

/* ---- reading ----------------------------------------------------------- */

static bool
transient(int err)
{
	return err == GQ_EIO || err == GQ_ETIMEDOUT || err == GQ_ENOTLEADER;
}

static bool
enough(const struct consumer *c)
{
	return c->o->count > 0 && c->printed >= (uint64_t)c->o->count;
}

/*
 * One fetch from @p, printing what it brings.  *got: something was
 * printed.  Returns GQCTL_OK, or an exit code (reported).
 */
static int
read_once(struct consumer *c, struct cpart *p, bool *got)
{
	struct gq_fetch *f;
	struct gq_record r;
	int rv;

	rv = gq_fetch(c->node, c->topic, p->id, p->pos, CLIENT_FETCH_BYTES, &f);
	if (rv == GQ_EOFFSET && (rv = reposition(c, p)) == 0)
		return GQCTL_OK; /* read from the new position next round */
	if (rv != 0 && transient(rv) && c->o->follow) {
		/* A follower outlives a broker's restart: the library
		 * reconnects; say so once per streak of errors. */
		if (!p->failing) {
			fflush(stdout);
			gqctl_err("%s: partition %d: %s; retrying", c->what,
				  (int)p->id, gq_strerror(rv));
		}
		p->failing = true;
		client_sleep_ms(RETRY_MS);
		return GQCTL_OK;
	}
	if (rv != 0) {
		char what[GQ_NAME_MAX + 64];

		snprintf(what, sizeof(what), "%s: partition %d", c->what,
			 (int)p->id);
		return client_fail(c->node, what, rv);
	}
	if (p->failing) {
		p->failing = false;
		gqctl_err("%s: partition %d: reading again", c->what,
			  (int)p->id);
	}
	while (!enough(c) && (rv = gq_fetch_next(f, &r)) == 1) {
		if (r.offset >= p->end) {
			p->done = true;
			break;
		}
		if (print_record(c, f, p->id, &r) != 0) {
			gq_fetch_destroy(f);
			gqctl_err("%s: cannot write the output", c->what);
			return GQCTL_FAILED;
		}
		p->pos = r.offset + 1;
		c->printed++;
		progress_update(&c->bar, c->printed, NULL);
		*got = true;
	}
	if (rv < 0) {
		char what[GQ_NAME_MAX + 64];

		gq_fetch_destroy(f);
		snprintf(what, sizeof(what),
			 "%s: partition %d, offset %" PRId64, c->what,
			 (int)p->id, p->pos);
		return client_fail(c->node, what, rv);
	}
	/* Nothing more before the end this run set (the fetch brought no
	 * message: the log ends, or holds no message, before it). */
	if (!*got && !c->o->follow && rv == 0)
		p->done = true;
	if (p->pos >= p->end)
		p->done = true;
	gq_fetch_destroy(f);
	return GQCTL_OK;
}

static void
news_came(void *arg, int status)
{
	struct cpart *p = arg;
	struct news *n = p->news;

	(void)status; /* the next read says what went wrong, if anything */
	pthread_mutex_lock(&n->lock);
	p->waiting = false;
	n->outstanding--;
	n->answered++;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

/* Long-poll every partition that has no poll out, then wait until one
 * answers (or the command is stopped). */
static void
wait_for_news(struct consumer *c, struct news *n)
{
	struct timespec until;

	pthread_mutex_lock(&n->lock);
	for (int32_t i = 0; i < c->n; i++) {
		struct cpart *p = &c->parts[i];

		if (p->done || p->waiting)
			continue;
		p->news = n;
		p->waiting = true;
		n->outstanding++;
		if (gq_fetch_wait_async(c->node, c->topic, p->id, p->pos,
					WAIT_MS, news_came, p) != 0) {
			p->waiting = false;
			n->outstanding--;
			n->answered++; /* read it again at once */
		}
	}
	/* In slices, so that Ctrl-C is seen. */
	while (n->answered == 0 && !client_stopped()) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&n->cond, &n->lock, &until);
	}
	n->answered = 0;
	pthread_mutex_unlock(&n->lock);
}

/* Wait for the polls still out: their answers name partitions of @c. */
static void
news_drain(struct news *n)
{
	pthread_mutex_lock(&n->lock);
	while (n->outstanding > 0)
		pthread_cond_wait(&n->cond, &n->lock);
	pthread_mutex_unlock(&n->lock);
}

static int
consume_all(struct consumer *c, struct news *n)
{
	bool active;
	bool got;
	bool any;
	int32_t i;
	int rv;

	while (!client_stopped() && !enough(c)) {
		active = false;
		any = false;
		for (i = 0; i < c->n && !client_stopped() && !enough(c); i++) {
			if (c->parts[i].done)
				continue;
			got = false;
			if ((rv = read_once(c, &c->parts[i], &got)) != GQCTL_OK)
				return rv;
			any = any || got;
			active = active || !c->parts[i].done;
		}
		if (!active)
			break;
		if (!any) {
			/* Show what was printed before waiting. */
			if (fflush(stdout) != 0) {
				gqctl_err("%s: cannot write the output",
					  c->what);
				return GQCTL_FAILED;
			}
			wait_for_news(c, n);
		}
	}
	return GQCTL_OK;
}

/* ---- as a group member ------------------------------------------------- */

/*
 * With --group the command is one member of the group: the group assigns
 * it partitions (all of them when it is alone), each read from the
 * group's committed offset, or where --from says (earliest or latest)
 * when the group has none: Kafka's auto.offset.reset.  Positions are
 * committed only after what was read is printed and flushed: every
 * COMMIT_MS while messages flow, when the partitions run dry, before a
 * rebalance takes them away, and at the end, synchronously, so that two
 * runs with --count N read consecutive messages.  Without --follow each
 * assigned partition ends at its high watermark when it was assigned: a
 * message past it is given back (sought to, and the partition paused),
 * so that the next run reads it.
 */

/* What the rebalance callbacks share with the loop; both run on the
 * command's thread (the callbacks inside gq_consumer_poll()). */
struct member {
	struct consumer *c;
	gq_offset *ends; /* by partition: where this run stops */
	bool assigned;   /* an assignment holds (it may be empty) */
	size_t n_parts;  /* partitions in it */
	bool changed;    /* since the loop last looked */
	int err;         /* a failed gq_list_offsets() */
	bool warned;     /* a failed commit was reported */
	bool closing;    /* committed for the last time */
};

static void
member_assigned(void *arg, struct gq_consumer *gc,
		const struct gq_topic_partition *parts, size_t n)
{
	struct member *m = arg;
	struct consumer *c = m->c;
	gq_offset hi;
	size_t i;
	int rv;

	(void)gc;
	m->assigned = true;
	m->changed = true;
	m->n_parts = n;
	for (i = 0; i < n; i++) {
		if (parts[i].partition < 0 || parts[i].partition >= c->n)
			continue; /* added since the start: read to the end */
		if (c->o->follow) {
			m->ends[parts[i].partition] = INT64_MAX;
			continue;
		}
		rv = gq_list_offsets(c->node, c->topic, parts[i].partition,
				     GQ_OFFSET_LATEST, &hi);
		if (rv != 0 && m->err == 0)
			m->err = rv;
		m->ends[parts[i].partition] = rv == 0 ? hi : INT64_MAX;
	}
}

/* Commit what was printed.  @final: at the end of the run, where a
 * failure is the command's; otherwise it is reported once and the next
 * commit tries again. */
static int
member_commit(struct member *m, struct gq_consumer *gc, bool final)
{
	struct consumer *c = m->c;
	int rv;

	if (fflush(stdout) != 0) {
		gqctl_err("%s: cannot write the output", c->what);
		return GQCTL_FAILED;
	}
	if ((rv = gq_consumer_commit(gc)) == 0) {
		m->warned = false;
		return GQCTL_OK;
	}
	if (final) {
		gqctl_err("%s: cannot commit the offsets of group %s: %s",
			  c->what, c->o->group, gq_strerror(rv));
		return client_exit_code(rv);
	}
	if (!m->warned)
		gqctl_err("%s: cannot commit the offsets of group %s: %s; "
			  "trying again",
			  c->what, c->o->group, gq_strerror(rv));
	m->warned = true;
	return GQCTL_OK;
}

static void
member_revoked(void *arg, struct gq_consumer *gc,
	       const struct gq_topic_partition *parts, size_t n)
{
	struct member *m = arg;

	(void)parts;
	(void)n;
	/* Hand the partitions over at the positions printed, so their next
	 * owner neither skips nor repeats a message. */
	if (!m->closing)
		member_commit(m, gc, false);
	m->assigned = false;
	m->changed = true;
	m->n_parts = 0;
}

/* Without --follow: every assigned partition is at its end. */
static bool
member_done(struct member *m, struct gq_consumer *gc)
{
	struct gq_topic_partition *parts;
	gq_offset *pos;
	int32_t id;
	bool done = true;
	size_t n;
	size_t i;

	if (!m->assigned || gq_consumer_assignment(gc, &parts, &pos, &n) != 0)
		return false;
	for (i = 0; i < n && done; i++) {
		id = parts[i].partition;
		if (id >= 0 && id < m->c->n)
			done = pos[i] >= 0 && pos[i] >= m->ends[id];
	}
	gq_consumer_assignment_free(parts, pos, n);
	return done;
}

/* Start the member: join the group as the membership thread does, with
 * SIGINT and SIGTERM blocked so that they reach the command's thread. */
static int
member_start(struct member *m, struct gq_consumer **out)
{
	struct consumer *c = m->c;
	struct gq_consumer_options opts;
	const char *topics[1];
	sigset_t block;
	sigset_t old;
	int rv;

	gq_consumer_options_init(&opts);
	opts.group = c->o->group;
	opts.client_id = "gqctl";
	opts.auto_commit = false; /* member_commit() after printing */
	opts.offset_reset =
		c->o->from == FROM_LATEST ? GQ_RESET_LATEST : GQ_RESET_EARLIEST;
	opts.on_assign = member_assigned;
	opts.on_revoke = member_revoked;
	opts.cb_arg = m;
	if ((rv = gq_consumer_create(c->node, &opts, out)) != 0)
		return client_fail(c->node, c->what, rv);
	topics[0] = c->topic;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rv = gq_consumer_subscribe(*out, topics, 1);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rv != 0) {
		gq_consumer_close(*out);
		*out = NULL;
		return client_fail(c->node, c->what, rv);
	}
	return GQCTL_OK;
}

/* One polled message: print it, or give it back when it lies past the
 * end of this run.  *printed tells which. */
static int
member_message(struct member *m, struct gq_consumer *gc,
	       const struct gq_consumer_message *msg, bool *printed)
{
	struct consumer *c = m->c;
	int32_t id = msg->partition;

	*printed = false;
	if (!c->o->follow && id >= 0 && id < c->n &&
	    msg->record.offset >= m->ends[id]) {
		gq_consumer_seek(gc, c->topic, id, msg->record.offset);
		gq_consumer_pause(gc, c->topic, id);
		return GQCTL_OK;
	}
	if (print_record(c, NULL, id, &msg->record) != 0) {
		gqctl_err("%s: cannot write the output", c->what);
		return GQCTL_FAILED;
	}
	c->printed++;
	progress_update(&c->bar, c->printed, NULL);
	*printed = true;
	return GQCTL_OK;
}

static int
consume_group(struct consumer *c)
{
	struct gq_consumer_message msg;
	struct gq_consumer *gc = NULL;
	struct member m;
	uint64_t committed_at;
	uint64_t progress_at;
	uint64_t now;
	bool dirty = false;
	bool printed;
	int rv;
	int frv;

	memset(&m, 0, sizeof(m));
	m.c = c;
	if ((m.ends = calloc((size_t)c->n, sizeof(*m.ends))) == NULL) {
		gqctl_err("%s: out of memory", c->what);
		return GQCTL_FAILED;
	}
	if ((rv = member_start(&m, &gc)) != GQCTL_OK)
		goto out;
	c->member = gc;
	committed_at = progress_at = client_now_ms();
	while (!client_stopped() && !enough(c)) {
		frv = gq_consumer_poll(gc, MEMBER_POLL_MS, &msg);
		now = client_now_ms();
		if (m.err != 0) {
			rv = client_fail(c->node, c->what, m.err);
			break;
		}
		if (frv < 0) {
			rv = client_fail(c->node, c->what, frv);
			break;
		}
		if (frv == 1) {
			if ((rv = member_message(&m, gc, &msg, &printed)) !=
			    GQCTL_OK)
				break;
			dirty = dirty || printed;
			progress_at = printed ? now : progress_at;
		}
		if (m.changed) {
			m.changed = false;
			progress_at = now;
		}
		if (dirty && (frv == 0 || now - committed_at >= COMMIT_MS)) {
			if ((rv = member_commit(&m, gc, false)) != GQCTL_OK)
				break;
			dirty = false;
			committed_at = now;
		}
		if (frv == 1 || c->o->follow)
			continue;
		if (member_done(&m, gc)) {
			if (m.n_parts == 0)
				gqctl_err("%s: group %s gave this member no "
					  "partition (its other members hold "
					  "them)",
					  c->what, c->o->group);
			break;
		}
		if (c->o->g->timeout_ms > 0 &&
		    now - progress_at > (uint64_t)c->o->g->timeout_ms) {
			gqctl_err("%s: group %s: no partition assigned, or "
				  "nothing read, within --timeout",
				  c->what, c->o->group);
			rv = GQCTL_UNREACHABLE;
			break;
		}
	}
	/* Whatever happened, what was printed is committed: with --from
	 * latest that is also where a new group starts next time. */
	if (m.assigned) {
		frv = member_commit(&m, gc, true);
		rv = rv != GQCTL_OK ? rv : frv;
	}
	m.closing = true;
out:
	c->member = NULL;
	gq_consumer_close(gc);
	free(m.ends);
	return rv;
}

/* ---- the command ------------------------------------------------------- */

static int
parse_from(struct copts *o, const char *val)
{
	long long v;

	if (strcmp(val, "earliest") == 0) {
		o->from = FROM_EARLIEST;
	} else if (strcmp(val, "latest") == 0) {
		o->from = FROM_LATEST;
	} else if (val[0] == '@' && gqctl_parse_int(val + 1, INT64_MAX, &v)) {
		o->from = FROM_TIME;
		o->from_value = v;
	} else if (val[0] == '-' && gqctl_parse_int(val + 1, INT64_MAX, &v) &&
		   v > 0) {
		o->from = FROM_LAST;
		o->from_value = v;
	} else if (gqctl_parse_int(val, INT64_MAX, &v)) {
		o->from = FROM_OFFSET;
		o->from_value = v;
	} else {
		gqctl_usage(o->g,
			    "--from: expected earliest, latest, an offset, "
			    "@TIMESTAMP_MS or -N, got '%s'",
			    val);
		return -1;
	}
	return 0;
}

static int
consume_opt(void *arg, int opt, const char *val)
{
	struct copts *o = arg;

	switch (opt) {
	case 'p':
		if (!gqctl_parse_int(val, INT32_MAX, &o->partition)) {
			gqctl_usage(o->g,
				    "--partition: not a number >= 0: '%s'",
				    val);
			return -1;
		}
		return 0;
	case 'c':
		if (!gqctl_parse_int(val, INT64_MAX, &o->count) ||
		    o->count < 1) {
			gqctl_usage(o->g, "--count: not a number >= 1: '%s'",
				    val);
			return -1;
		}
		return 0;
	case OPT_FROM:
		o->from_arg = val;
		return parse_from(o, val);
	case OPT_FOLLOW:
		o->follow = true;
		return 0;
	case OPT_FORMAT:
		if (strcmp(val, "value") == 0) {
			o->format = FMT_VALUE;
		} else if (strcmp(val, "kv") == 0) {
			o->format = FMT_KV;
		} else if (strcmp(val, "json") == 0) {
			o->format = FMT_JSON;
		} else {
			gqctl_usage(o->g,
				    "--format: expected value, kv or json, got "
				    "'%s'",
				    val);
			return -1;
		}
		o->format_set = true;
		return 0;
	case OPT_SEPARATOR:
		free(o->sep);
		o->sep = NULL;
		if (!client_unescape(val, &o->sep, &o->sep_len)) {
			gqctl_usage(o->g, "--separator: must not be empty");
			return -1;
		}
		return 0;
	case 'g':
		o->group = val;
		return 0;
	}
	return 0;
}

int
client_consume(struct gqctl *g, int argc, char **argv)
{
	struct copts o;
	struct consumer c;
	struct news news;
	char what[GQ_NAME_MAX + 32];
	int32_t n_parts;
	size_t max_message_size;
	int32_t i;
	bool help;
	int first;
	int rv;

	memset(&o, 0, sizeof(o));
	memset(&c, 0, sizeof(c));
	memset(&news, 0, sizeof(news));
	pthread_mutex_init(&news.lock, NULL);
	pthread_cond_init(&news.cond, NULL);
	o.g = g;
	o.partition = -1;
	rv = gqctl_parse(g, argc, argv, consume_opt, &o, &first, &help);
	if (rv != GQCTL_OK || help)
		goto out;
	if ((rv = gqctl_want_args(g, argc, argv, first, 1, "TOPIC")) !=
	    GQCTL_OK)
		goto out;
	/* --json asks for machine output: here that is one JSON object per
	 * message. */
	if (g->json && o.format_set && o.format != FMT_JSON) {
		rv = gqctl_usage(g, "--json prints JSON: it cannot go with "
				    "--format value or kv");
		goto out;
	}
	if (g->json)
		o.format = FMT_JSON;
	if (o.group != NULL && o.partition >= 0) {
		rv = gqctl_usage(g, "--partition: with --group the group "
				    "assigns the partitions");
		goto out;
	}
	/* A member starts from the group's committed offsets: --from only
	 * says where a partition the group never committed starts. */
	if (o.group != NULL && o.from_arg != NULL && o.from != FROM_EARLIEST &&
	    o.from != FROM_LATEST) {
		rv = gqctl_usage(g,
				 "--from %s: with --group only earliest or "
				 "latest (where a partition the group never "
				 "committed starts); move the group's offsets "
				 "with 'gqctl group reset-offsets'",
				 o.from_arg);
		goto out;
	}
	if (o.sep == NULL && !client_unescape("\\t", &o.sep, &o.sep_len)) {
		gqctl_err("out of memory");
		rv = GQCTL_FAILED;
		goto out;
	}
	snprintf(what, sizeof(what), "topic consume %s", argv[first]);
	/* On the terminal the messages themselves show the progress. */
	progress_start(&c.bar,
		       g->progress && o.count > 0 && !isatty(STDOUT_FILENO),
		       "consuming", (uint64_t)o.count);
	c.o = &o;
	c.topic = argv[first];
	c.what = what;
	if ((rv = client_connect(g, what, &c.node)) != GQCTL_OK)
		goto out;
	rv = client_topic(c.node, what, c.topic, &n_parts, &max_message_size);
	if (rv != GQCTL_OK)
		goto out_node;
	if (o.partition >= n_parts) {
		gqctl_err("%s: --partition %lld: the topic has %d partition%s",
			  what, o.partition, (int)n_parts,
			  n_parts == 1 ? "" : "s");
		rv = GQCTL_FAILED;
		goto out_node;
	}
	if (o.group != NULL) {
		c.n = n_parts;
		rv = consume_group(&c);
		goto out_node;
	}
	c.n = o.partition >= 0 ? 1 : n_parts;
	if ((c.parts = calloc((size_t)c.n, sizeof(*c.parts))) == NULL) {
		gqctl_err("%s: out of memory", what);
		rv = GQCTL_FAILED;
		goto out_node;
	}
	for (i = 0; i < c.n; i++) {
		c.parts[i].id = o.partition >= 0 ? (int32_t)o.partition : i;
		if ((rv = start_at(&c, &c.parts[i])) != 0) {
			char where[GQ_NAME_MAX + 64];

			snprintf(where, sizeof(where), "%s: partition %d", what,
				 (int)c.parts[i].id);
			rv = client_fail(c.node, where, rv);
			goto out_node;
		}
	}
	rv = consume_all(&c, &news);
out_node:
	progress_finish(&c.bar);
	/* The node answers the polls still out as it closes. */
	gq_node_close(c.node);
	news_drain(&news);
out:
	pthread_cond_destroy(&news.cond);
	pthread_mutex_destroy(&news.lock);
	free(c.parts);
	free(o.sep);
	return rv;
}

/* ---- help -------------------------------------------------------------- */

const struct option client_consume_options[] = {
	{ "partition", required_argument, NULL, 'p' },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "count", required_argument, NULL, 'c' },
	{ "follow", no_argument, NULL, OPT_FOLLOW },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "separator", required_argument, NULL, OPT_SEPARATOR },
	{ "group", required_argument, NULL, 'g' },
	{ NULL, 0, NULL, 0 },
};

const char client_consume_args[] =
	"TOPIC [--partition N | --group GROUP] [--from WHERE]\n"
	"                           [--count N] [--follow] "
	"[--format value|kv|json]\n"
	"                           [--separator SEP]";

const char client_consume_help[] =
	"  TOPIC               the topic\n"
	"  -p, --partition N   read partition N only (default: all)\n"
	"  --from WHERE        where each partition starts: earliest "
	"(default), latest,\n"
	"                      an OFFSET, @TIMESTAMP_MS (the first message "
	"at or after\n"
	"                      it, in ms since the epoch), or -N (its last N "
	"messages)\n"
	"  -c, --count N       stop after N messages\n"
	"  --follow            wait for new messages until Ctrl-C; without "
	"it, stop at\n"
	"                      the end each partition had when the command "
	"started\n"
	"  --format FORMAT     value (default): the value and a newline;\n"
	"                      kv: the key, SEP, the value and a newline;\n"
	"                      json: one JSON object per line (topic, "
	"partition,\n"
	"                      offset, timestamp, key, value, headers); "
	"bytes that are\n"
	"                      not UTF-8 are base64, with "
	"\"value_encoding\": \"base64\"\n"
	"                      (or key_encoding) beside them\n"
	"  --separator SEP     between key and value in kv (default: a tab;"
	"\n"
	"                      \\t \\n \\r \\\\ are escapes)\n"
	"  -g, --group GROUP   read as a member of consumer group GROUP: the "
	"partitions\n"
	"                      it assigns, from its committed offsets "
	"(--from earliest,\n"
	"                      the default, or latest where it has none), "
	"committing\n"
	"                      what was printed as it goes and before "
	"exiting\n"
	"Messages are read from the Kafka port of --brokers; --json is "
	"--format json.\nNull keys and values print empty (null in json).  "
	"Ctrl-C stops after the\nmessage being printed, with exit 0.\n";

const char client_consume_example[] =
	"  gqctl topic consume orders --from -10 --format kv\n"
	"  gqctl topic consume orders --partition 2 --from @1767225600000 "
	"--follow --json\n"
	"  gqctl topic consume orders --group audit --count 100\n";
