/* SPDX-License-Identifier: MIT */
/*
 * assign.c - Kafka's consumer protocol payloads and the "range" and
 * "roundrobin" assignors (assign.h has the byte layouts).
 *
 * Decoders take bytes from other clients, so they trust nothing: every
 * length and count is checked against the bytes left before anything is
 * allocated, names must be 0..GQ_NAME_MAX bytes with no NUL, partitions
 * must not be negative, and anything else is GQ_ECORRUPT.  Each payload is
 * read twice, first to validate it and then to copy it out, so a corrupt
 * payload is GQ_ECORRUPT whatever the heap does, and an error leaves no
 * half-made output.  Encoders size their output first, then reserve it in
 * one step, so they never leave a partial payload in the caller's buffer.
 *
 * The assignors follow Kafka's RangeAssignor and RoundRobinAssignor
 * (AbstractPartitionAssignor): members ordered by member id (Java's
 * String order, which is byte order for the ASCII ids brokers issue),
 * topics in sorted order, topics without metadata skipped.  Members
 * sharing an id are ordered by their index, so the result is
 * deterministic even then.
 */
#include "assign.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "goqueue.h"
#include "heap.h"

/* ---------------------------------------------------------------------- */
/* Lists                                                                   */
/* ---------------------------------------------------------------------- */

/* Add (@topic, @len bytes) and @partition; the list is unchanged on
 * failure. */
static int
tp_add(struct gq__tp_list *l, const char *topic, size_t len, int32_t partition)
{
	struct gq__tp *v;
	size_t cap;
	char *t;

	if (l->n == l->cap) {
		cap = l->cap == 0 ? 8 : l->cap * 2;
		if (cap > SIZE_MAX / sizeof(*v) ||
		    (v = gq__realloc(l->v, cap * sizeof(*v))) == NULL)
			return GQ_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if ((t = gq__strndup(topic, len)) == NULL)
		return GQ_ENOMEM;
	l->v[l->n].topic = t;
	l->v[l->n].partition = partition;
	l->n++;
	return 0;
}

int
gq__tp_list_add(struct gq__tp_list *l, const char *topic, int32_t partition)
{
	return tp_add(l, topic, strlen(topic), partition);
}

void
gq__tp_list_free(struct gq__tp_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		gq__free(l->v[i].topic);
	gq__free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Order by @a, @b (byte order), then by @x, @y. */
static int
str_int_cmp(const char *a, const char *b, int64_t x, int64_t y)
{
	int c;

	c = strcmp(a, b);
	return c != 0 ? c : (x > y) - (x < y);
}

static int
tp_cmp(const void *a, const void *b)
{
	const struct gq__tp *x = a;
	const struct gq__tp *y = b;

	return str_int_cmp(x->topic, y->topic, x->partition, y->partition);
}

/* Sort @v and drop repeats (freeing their topics when @owned); returns
 * how many are left. */
static size_t
tp_sort(struct gq__tp *v, size_t n, bool owned)
{
	size_t m = 0;

	if (n < 2)
		return n;
	qsort(v, n, sizeof(*v), tp_cmp);
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && tp_cmp(&v[m - 1], &v[i]) == 0) {
			if (owned)
				gq__free(v[i].topic);
			continue;
		}
		v[m++] = v[i];
	}
	return m;
}

void
gq__tp_list_sort(struct gq__tp_list *l)
{
	l->n = tp_sort(l->v, l->n, true);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort the names @v and drop repeats (freeing them when @owned); returns
 * how many are left.  Unowned arrays hold const names cast to char *,
 * never written through. */
static size_t
name_sort(char **v, size_t n, bool owned)
{
	size_t m = 0;

	if (n < 2)
		return n;
	qsort(v, n, sizeof(*v), name_cmp);
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && strcmp(v[m - 1], v[i]) == 0) {
			if (owned)
				gq__free(v[i]);
			continue;
		}
		v[m++] = v[i];
	}
	return m;
}

void
gq__subscription_free(struct gq__subscription *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		gq__free(s->topics[i]);
	gq__free(s->topics);
	s->topics = NULL;
	s->n = 0;
}

/* ---------------------------------------------------------------------- */
/* Encoding                                                                */
/* ---------------------------------------------------------------------- */

/* A writer that only counts when @p is NULL (the sizing pass). */
struct wr {
	uint8_t *p;
	size_t len;
};

static void
wr_i16(struct wr *w, int16_t v)
{
	if (w->p != NULL)
		gq__be16_put(w->p + w->len, (uint16_t)v);
	w->len += 2;
}

static void
wr_i32(struct wr *w, int32_t v)
{
	if (w->p != NULL)
		gq__be32_put(w->p + w->len, (uint32_t)v);
	w->len += 4;
}

/* A STRING; the caller checked it fits an i16 length. */
static void
wr_str(struct wr *w, const char *s)
{
	size_t n;

	n = strlen(s);
	wr_i16(w, (int16_t)n);
	if (w->p != NULL)
		memcpy(w->p + w->len, s, n);
	w->len += n;
}

/* A payload writer: @put writes @arg through the writer. */
typedef void (*put_fn)(struct wr *w, const void *arg, size_t n);

/* Append what @put writes: sized, reserved, then written, so @out gains
 * all of it or nothing.  0 or GQ_ENOMEM. */
static int
emit(struct gq__buf *out, put_fn put, const void *arg, size_t n)
{
	struct wr w = { NULL, 0 };
	int rv;

	put(&w, arg, n);
	if ((rv = gq__buf_reserve(out, w.len)) != 0)
		return rv;
	w.p = out->base + out->len;
	w.len = 0;
	put(&w, arg, n);
	out->len += w.len;
	return 0;
}

/* Version 0 subscription of the sorted, distinct names @arg (@n). */
static void
put_subscription(struct wr *w, const void *arg, size_t n)
{
	char *const *t = arg;

	wr_i16(w, 0);
	wr_i32(w, (int32_t)n);
	for (size_t i = 0; i < n; i++)
		wr_str(w, t[i]);
	wr_i32(w, -1); /* user data: null */
}

int
gq__subscription_encode(const char *const *topics, size_t n,
			struct gq__buf *out)
{
	char **t;
	int rv;

	if (n > INT32_MAX || (n > 0 && topics == NULL))
		return GQ_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (topics[i] == NULL || strlen(topics[i]) > GQ_NAME_MAX)
			return GQ_EINVAL;
	/* Sorted and distinct, so equal subscriptions are equal bytes: the
	 * coordinator compares metadata to see whether a member changed. */
	if ((t = gq__malloc(n * sizeof(*t))) == NULL)
		return GQ_ENOMEM;
	for (size_t i = 0; i < n; i++)
		t[i] = (char *)topics[i];
	n = name_sort(t, n, false);
	rv = emit(out, put_subscription, t, n);
	gq__free(t);
	return rv;
}

/* Version 0 assignment of the sorted, distinct pairs @arg (@n). */
static void
put_assignment(struct wr *w, const void *arg, size_t n)
{
	const struct gq__tp *v = arg;
	size_t topics = 0;
	size_t j;

	for (size_t i = 0; i < n; i++)
		topics += i == 0 || strcmp(v[i - 1].topic, v[i].topic) != 0;
	wr_i16(w, 0);
	wr_i32(w, (int32_t)topics);
	for (size_t i = 0; i < n; i = j) {
		for (j = i; j < n && strcmp(v[i].topic, v[j].topic) == 0; j++)
			;
		wr_str(w, v[i].topic);
		wr_i32(w, (int32_t)(j - i));
		for (size_t k = i; k < j; k++)
			wr_i32(w, v[k].partition);
	}
	wr_i32(w, -1); /* user data: null */
}

int
gq__assignment_encode(const struct gq__tp_list *parts, struct gq__buf *out)
{
	struct gq__tp *v;
	size_t n = parts->n;
	int rv;

	if (n > INT32_MAX)
		return GQ_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (parts->v[i].topic == NULL ||
		    strlen(parts->v[i].topic) > GQ_NAME_MAX ||
		    parts->v[i].partition < 0)
			return GQ_EINVAL;
	/* A shallow copy to group by topic: the caller's list is const. */
	if ((v = gq__malloc(n * sizeof(*v))) == NULL)
		return GQ_ENOMEM;
	if (n > 0)
		memcpy(v, parts->v, n * sizeof(*v));
	n = tp_sort(v, n, false);
	rv = emit(out, put_assignment, v, n);
	gq__free(v);
	return rv;
}

/* ---------------------------------------------------------------------- */
/* Decoding                                                                */
/* ---------------------------------------------------------------------- */

/* Each reader below leaves @r bad on anything out of bounds or invalid;
 * callers check once at the end. */

static int16_t
rd_i16(struct gq__rd *r)
{
	return (int16_t)gq__rd_be16(r);
}

static int32_t
rd_i32(struct gq__rd *r)
{
	return (int32_t)gq__rd_be32(r);
}

/* An array count: -1 (null) is an empty array, and a count the bytes
 * left could not hold at @min bytes an element is bad, so nothing is
 * allocated for it. */
static size_t
rd_count(struct gq__rd *r, size_t min)
{
	int32_t n;

	n = rd_i32(r);
	if (r->bad || n == -1)
		return 0;
	if (n < 0 || (size_t)n > r->left / min) {
		r->bad = true;
		return 0;
	}
	return (size_t)n;
}

/* A topic name (STRING, not null, 0..GQ_NAME_MAX bytes, no NUL), left in
 * the input: its start, length in *@len; NULL when bad. */
static const char *
rd_topic(struct gq__rd *r, size_t *len)
{
	const uint8_t *p;
	int16_t n;

	n = rd_i16(r);
	if (n < 0 || n > GQ_NAME_MAX)
		r->bad = true;
	/* A bad reader takes nothing, so a negative @n is never a size. */
	if ((p = gq__rd_take(r, (size_t)n)) == NULL ||
	    memchr(p, '\0', (size_t)n) != NULL) {
		r->bad = true;
		return NULL;
	}
	*len = (size_t)n;
	return (const char *)p;
}

/* Skip a nullable STRING (@wide false) or BYTES (@wide true). */
static void
rd_skip(struct gq__rd *r, bool wide)
{
	int32_t n;

	n = wide ? rd_i32(r) : rd_i16(r);
	if (n < -1)
		r->bad = true;
	else if (n > 0)
		gq__rd_take(r, (size_t)n);
}

/* The topics of a subscription, copied into @s unless it is NULL.  0 or
 * GQ_ENOMEM (@s keeps what it has, for the caller to free). */
static int
rd_topics(struct gq__rd *r, struct gq__subscription *s)
{
	const char *name;
	size_t len;
	size_t n;

	n = rd_count(r, 2);
	if (s != NULL && n > 0 &&
	    (s->topics = gq__calloc(n, sizeof(*s->topics))) == NULL)
		return GQ_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((name = rd_topic(r, &len)) == NULL)
			return 0;
		if (s == NULL)
			continue;
		if ((s->topics[i] = gq__strndup(name, len)) == NULL)
			return GQ_ENOMEM;
		s->n++;
	}
	return 0;
}

/* An ARRAY of (STRING topic, ARRAY i32 partition), added to @l unless it
 * is NULL.  0 or GQ_ENOMEM. */
static int
rd_tps(struct gq__rd *r, struct gq__tp_list *l)
{
	const char *name;
	size_t len = 0;
	size_t n;
	size_t k;
	int32_t part;
	int rv;

	n = rd_count(r, 6);
	for (size_t i = 0; i < n && !r->bad; i++) {
		name = rd_topic(r, &len);
		k = rd_count(r, 4);
		for (size_t j = 0; j < k && !r->bad; j++) {
			if ((part = rd_i32(r)) < 0)
				r->bad = true;
			if (l != NULL && !r->bad &&
			    (rv = tp_add(l, name, len, part)) != 0)
				return rv;
		}
	}
	return 0;
}

/* Read a whole subscription, into @s unless it is NULL.  0, GQ_ECORRUPT
 * or GQ_ENOMEM. */
static int
rd_subscription(const uint8_t *p, size_t len, struct gq__subscription *s)
{
	struct gq__rd r;
	int16_t version;
	int rv;

	r = gq__rd_init(p, len);
	version = rd_i16(&r);
	if (version < 0)
		r.bad = true;
	if ((rv = rd_topics(&r, s)) != 0)
		return rv;
	rd_skip(&r, true); /* user data */
	if (version >= 1)
		rd_tps(&r, NULL); /* owned partitions: checked, not kept */
	if (version >= 2)
		rd_i32(&r); /* generation */
	if (version >= 3)
		rd_skip(&r, false); /* rack */
	return r.bad ? GQ_ECORRUPT : 0;
}

int
gq__subscription_decode(const uint8_t *p, size_t len,
			struct gq__subscription *out)
{
	struct gq__subscription s = { NULL, 0 };
	int rv;

	out->topics = NULL;
	out->n = 0;
	if ((rv = rd_subscription(p, len, NULL)) != 0)
		return rv;
	if ((rv = rd_subscription(p, len, &s)) != 0) {
		gq__subscription_free(&s);
		return rv;
	}
	s.n = name_sort(s.topics, s.n, true);
	*out = s;
	return 0;
}

/* Read a whole assignment, into @l unless it is NULL.  0, GQ_ECORRUPT or
 * GQ_ENOMEM. */
static int
rd_assignment(const uint8_t *p, size_t len, struct gq__tp_list *l)
{
	struct gq__rd r;
	int rv;

	r = gq__rd_init(p, len);
	if (rd_i16(&r) < 0)
		r.bad = true;
	if ((rv = rd_tps(&r, l)) != 0)
		return rv;
	rd_skip(&r, true); /* user data */
	return r.bad ? GQ_ECORRUPT : 0;
}

int
gq__assignment_decode(const uint8_t *p, size_t len, struct gq__tp_list *out)
{
	struct gq__tp_list l = { NULL, 0, 0 };
	int rv;

	out->v = NULL;
	out->n = out->cap = 0;
	if (len == 0)
		return 0;
	if ((rv = rd_assignment(p, len, NULL)) != 0)
		return rv;
	if ((rv = rd_assignment(p, len, &l)) != 0) {
		gq__tp_list_free(&l);
		return rv;
	}
	gq__tp_list_sort(&l);
	*out = l;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Assignors                                                               */
/* ---------------------------------------------------------------------- */

/* A member's place in id order. */
struct slot {
	const char *id;
	const struct gq__subscription *sub;
	size_t idx; /* in the caller's members and out */
};

static int
slot_cmp(const void *a, const void *b)
{
	const struct slot *x = a;
	const struct slot *y = b;

	return str_int_cmp(x->id, y->id, (int64_t)x->idx, (int64_t)y->idx);
}

/* One run of an assignor. */
struct run {
	const struct slot *ord; /* members by id */
	size_t n;
	bool *in;    /* in[j]: ord[j] subscribes the current topic */
	size_t k;    /* how many do (at least 1) */
	size_t next; /* roundrobin: where dealing resumes */
	struct gq__tp_list *out;
};

typedef int (*deal_fn)(struct run *x, const char *topic, int32_t count);

/* RangeAssignor: the subscribed members, in id order, take consecutive
 * ranges; the first (count % k) take one extra. */
static int
deal_range(struct run *x, const char *topic, int32_t count)
{
	size_t per = (size_t)count / x->k;
	size_t extra = (size_t)count % x->k;
	size_t len;
	size_t i = 0;
	int32_t p = 0;
	int rv;

	len = strlen(topic);
	for (size_t j = 0; j < x->n; j++) {
		if (!x->in[j])
			continue;
		for (size_t q = 0; q < per + (i < extra); q++)
			if ((rv = tp_add(&x->out[x->ord[j].idx], topic, len,
					 p++)) != 0)
				return rv;
		i++;
	}
	return 0;
}

/* RoundRobinAssignor: one circular pass over the members in id order
 * that carries on from topic to topic, each partition going to the next
 * member subscribed to its topic. */
static int
deal_roundrobin(struct run *x, const char *topic, int32_t count)
{
	size_t len;
	int rv;

	len = strlen(topic);
	for (int32_t p = 0; p < count; p++) {
		while (!x->in[x->next])
			x->next = (x->next + 1) % x->n;
		if ((rv = tp_add(&x->out[x->ord[x->next].idx], topic, len,
				 p)) != 0)
			return rv;
		x->next = (x->next + 1) % x->n;
	}
	return 0;
}

static bool
subscribes(const struct gq__subscription *s, const char *topic)
{
	char *key = (char *)topic;

	return s->n > 0 && bsearch(&key, s->topics, s->n, sizeof(*s->topics),
				   name_cmp) != NULL;
}

/* Deal every topic in @topics (@nt, sorted) with @deal. */
static int
deal_all(struct run *x, deal_fn deal, char *const *topics, size_t nt,
	 gq__partition_count_fn count, void *arg)
{
	int32_t c;
	int rv;

	for (size_t t = 0; t < nt; t++) {
		if ((c = count(arg, topics[t])) <= 0)
			continue; /* no metadata (or no partitions) */
		x->k = 0;
		for (size_t j = 0; j < x->n; j++) {
			x->in[j] = subscribes(x->ord[j].sub, topics[t]);
			x->k += x->in[j];
		}
		/* Never 0 for sorted subscriptions, as the topic came from
		 * one; guards dealing against a caller's unsorted one. */
		if (x->k > 0 && (rv = deal(x, topics[t], c)) != 0)
			return rv;
	}
	return 0;
}

int
gq__assign(const char *assignor, const struct gq__assign_member *members,
	   size_t n, gq__partition_count_fn count, void *arg,
	   struct gq__tp_list *out)
{
	static const struct gq__subscription none = { NULL, 0 };
	struct run x = { NULL, n, NULL, 0, 0, out };
	struct slot *ord = NULL;
	char **topics = NULL;
	bool *in = NULL;
	deal_fn deal;
	size_t nt = 0;
	int rv = GQ_ENOMEM;

	if (assignor != NULL && strcmp(assignor, "range") == 0)
		deal = deal_range;
	else if (assignor != NULL && strcmp(assignor, "roundrobin") == 0)
		deal = deal_roundrobin;
	else
		return GQ_EINVAL;
	if (n == 0)
		return 0;
	if (members == NULL || count == NULL || out == NULL)
		return GQ_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (members[i].member_id == NULL)
			return GQ_EINVAL;
		if (members[i].sub != NULL)
			nt += members[i].sub->n;
	}
	ord = gq__calloc(n, sizeof(*ord));
	in = gq__calloc(n, sizeof(*in));
	topics = gq__calloc(nt, sizeof(*topics));
	if (ord == NULL || in == NULL || topics == NULL)
		goto out;
	/* The members in id order, and the union of their topics. */
	nt = 0;
	for (size_t i = 0; i < n; i++) {
		ord[i].id = members[i].member_id;
		ord[i].sub = members[i].sub != NULL ? members[i].sub : &none;
		ord[i].idx = i;
		for (size_t j = 0; j < ord[i].sub->n; j++)
			topics[nt++] = ord[i].sub->topics[j];
	}
	qsort(ord, n, sizeof(*ord), slot_cmp);
	nt = name_sort(topics, nt, false);
	x.ord = ord;
	x.in = in;
	if ((rv = deal_all(&x, deal, topics, nt, count, arg)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		gq__tp_list_sort(&out[i]);
out:
	gq__free(topics);
	gq__free(in);
	gq__free(ord);
	return rv;
}
