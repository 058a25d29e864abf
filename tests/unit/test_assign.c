/* SPDX-License-Identifier: MIT */
/*
 * test_assign.c - Kafka's consumer protocol payloads and assignors:
 * byte-exact version 0 encodings built by hand, round trips, hand-built
 * version 1, 3 and 4 subscriptions (owned partitions, generation, rack),
 * truncation at every length, corrupt lengths and counts, the range and
 * roundrobin assignors on the examples of Kafka's documentation and on
 * mixed subscriptions, independence from the members' order, and
 * allocation failure at every point of every call.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goqueue.h"

#include "../lib/failheap.h"

#include "assign.h"
#include "buf.h"

TestSuite(assign, .timeout = 30);

#define RES 512 /* room for one member's assignment as text */

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

/* Byte-for-byte equality, naming the first byte that differs. */
static void
check_bytes(const uint8_t *got, size_t glen, const uint8_t *want, size_t wlen)
{
	cr_assert(eq(sz, glen, wlen));
	for (size_t i = 0; i < wlen; i++)
		cr_assert(eq(u8, got[i], want[i]), "byte %zu", i);
}

/* @l as "t-0 t-1 u-3", in list order. */
static const char *
tps_str(const struct gq__tp_list *l, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s-%d",
					i > 0 ? " " : "", l->v[i].topic,
					l->v[i].partition);
	return buf;
}

/* @s's topics as "a,b,c". */
static const char *
sub_str(const struct gq__subscription *s, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s",
					i > 0 ? "," : "", s->topics[i]);
	return buf;
}

/* Decode @p and compare its topics with @want ("a,b"). */
static void
check_sub(const uint8_t *p, size_t len, const char *want)
{
	struct gq__subscription s;
	char got[RES];

	cr_assert(eq(int, gq__subscription_decode(p, len, &s), 0));
	cr_assert(eq(str, (char *)sub_str(&s, got, sizeof(got)), (char *)want));
	gq__subscription_free(&s);
}

/* A decode that must fail as corrupt and leave its output empty. */
static void
check_sub_corrupt(const uint8_t *p, size_t len)
{
	struct gq__subscription s;

	memset(&s, 0xa5, sizeof(s));
	cr_assert(eq(int, gq__subscription_decode(p, len, &s), GQ_ECORRUPT),
		  "length %zu", len);
	cr_assert(eq(ptr, (void *)s.topics, NULL));
	cr_assert(eq(sz, s.n, 0));
}

static void
check_asg_corrupt(const uint8_t *p, size_t len)
{
	struct gq__tp_list l;

	memset(&l, 0xa5, sizeof(l));
	cr_assert(eq(int, gq__assignment_decode(p, len, &l), GQ_ECORRUPT),
		  "length %zu", len);
	cr_assert(eq(ptr, (void *)l.v, NULL));
	cr_assert(eq(sz, l.n, 0));
}

/* A subscription to the comma-separated @csv ("" for none), through the
 * encoder and decoder. */
static void
mksub(struct gq__subscription *s, const char *csv)
{
	char copy[RES];
	const char *t[32];
	struct gq__buf b = GQ__BUF_INIT;
	size_t n = 0;
	char *save = NULL;

	snprintf(copy, sizeof(copy), "%s", csv);
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save))
		t[n++] = tok;
	cr_assert(eq(int, gq__subscription_encode(t, n, &b), 0));
	cr_assert(eq(int, gq__subscription_decode(b.base, b.len, s), 0));
	gq__buf_free(&b);
}

/* Topic metadata for the assignors: names and partition counts, ending
 * with a NULL name.  Topics not listed do not exist. */
struct meta {
	const char *topic;
	int32_t count;
};

static int32_t
meta_count(void *arg, const char *topic)
{
	const struct meta *m = arg;

	for (; m->topic != NULL; m++)
		if (strcmp(m->topic, topic) == 0)
			return m->count;
	return -1;
}

/* A group: member ids and their subscriptions (csv). */
struct group {
	size_t n;
	const char *ids[8];
	const char *subs[8];
};

/* Run @assignor over @g, @res[i] getting member i's partitions as text. */
static void
run(const char *assignor, const struct group *g, const struct meta *meta,
    char res[][RES])
{
	struct gq__subscription subs[8];
	struct gq__assign_member m[8];
	struct gq__tp_list out[8];

	memset(out, 0, sizeof(out));
	for (size_t i = 0; i < g->n; i++) {
		mksub(&subs[i], g->subs[i]);
		m[i].member_id = g->ids[i];
		m[i].sub = &subs[i];
	}
	cr_assert(
		eq(int,
		   gq__assign(assignor, m, g->n, meta_count, (void *)meta, out),
		   0));
	for (size_t i = 0; i < g->n; i++) {
		tps_str(&out[i], res[i], RES);
		gq__tp_list_free(&out[i]);
		gq__subscription_free(&subs[i]);
	}
}

/* Run and compare each member's result with @want. */
static void
check_run(const char *assignor, const struct group *g, const struct meta *meta,
	  const char *const *want)
{
	char res[8][RES];

	run(assignor, g, meta, res);
	for (size_t i = 0; i < g->n; i++)
		cr_assert(eq(str, res[i], (char *)want[i]), "member %s",
			  g->ids[i]);
}

/* ---------------------------------------------------------------------- */
/* Hand-built payloads                                                     */
/* ---------------------------------------------------------------------- */

/* Version 0 subscription of "a", "bb". */
static const uint8_t sub_v0[] = {
	0x00, 0x00,             /* version 0 */
	0x00, 0x00, 0x00, 0x02, /* 2 topics */
	0x00, 0x01, 'a',        /* "a" */
	0x00, 0x02, 'b',  'b',  /* "bb" */
	0xff, 0xff, 0xff, 0xff, /* user data: null */
};

/* Version 1, as librdkafka writes: topics "y", "x" (unsorted), user
 * data "abc", owned partitions x: 0, 2. */
static const uint8_t sub_v1[] = {
	0x00, 0x01,                            /* version 1 */
	0x00, 0x00, 0x00, 0x02,                /* 2 topics */
	0x00, 0x01, 'y',                       /* "y" */
	0x00, 0x01, 'x',                       /* "x" */
	0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c', /* user data */
	0x00, 0x00, 0x00, 0x01,                /* 1 owned topic */
	0x00, 0x01, 'x',                       /* "x" */
	0x00, 0x00, 0x00, 0x02,                /* 2 partitions */
	0x00, 0x00, 0x00, 0x00,                /* 0 */
	0x00, 0x00, 0x00, 0x02,                /* 2 */
};

/* Version 3: topics "zz", "a", "zz", user data null, owned a: 1, generation
 * 5, rack "r1". */
static const uint8_t sub_v3[] = {
	0x00, 0x03,             /* version 3 */
	0x00, 0x00, 0x00, 0x03, /* 3 topics */
	0x00, 0x02, 'z',  'z',  /* "zz" */
	0x00, 0x01, 'a',        /* "a" */
	0x00, 0x02, 'z',  'z',  /* "zz" again */
	0xff, 0xff, 0xff, 0xff, /* user data: null */
	0x00, 0x00, 0x00, 0x01, /* 1 owned topic */
	0x00, 0x01, 'a',        /* "a" */
	0x00, 0x00, 0x00, 0x01, /* 1 partition */
	0x00, 0x00, 0x00, 0x01, /* 1 */
	0x00, 0x00, 0x00, 0x05, /* generation 5 */
	0x00, 0x02, 'r',  '1',  /* rack "r1" */
};

/* Version 0 assignment: a: 2; b: 0, 1. */
static const uint8_t asg_v0[] = {
	0x00, 0x00,             /* version 0 */
	0x00, 0x00, 0x00, 0x02, /* 2 topics */
	0x00, 0x01, 'a',        /* "a" */
	0x00, 0x00, 0x00, 0x01, /* 1 partition */
	0x00, 0x00, 0x00, 0x02, /* 2 */
	0x00, 0x01, 'b',        /* "b" */
	0x00, 0x00, 0x00, 0x02, /* 2 partitions */
	0x00, 0x00, 0x00, 0x00, /* 0 */
	0x00, 0x00, 0x00, 0x01, /* 1 */
	0xff, 0xff, 0xff, 0xff, /* user data: null */
};

/* Version 3 assignment with user data, topics out of order: b: 7, 3;
 * a: 1. */
static const uint8_t asg_v3[] = {
	0x00, 0x03,                       /* version 3 */
	0x00, 0x00, 0x00, 0x02,           /* 2 topics */
	0x00, 0x01, 'b',                  /* "b" */
	0x00, 0x00, 0x00, 0x02,           /* 2 partitions */
	0x00, 0x00, 0x00, 0x07,           /* 7 */
	0x00, 0x00, 0x00, 0x03,           /* 3 */
	0x00, 0x01, 'a',                  /* "a" */
	0x00, 0x00, 0x00, 0x01,           /* 1 partition */
	0x00, 0x00, 0x00, 0x01,           /* 1 */
	0x00, 0x00, 0x00, 0x02, 'u', 'd', /* user data "ud" */
};

/* ---------------------------------------------------------------------- */
/* Subscriptions                                                           */
/* ---------------------------------------------------------------------- */

/* Encoding "a", "bb" gives exactly the bytes of Kafka's version 0. */
Test(assign, subscription_encode_bytes)
{
	const char *t[] = { "a", "bb" };
	struct gq__buf b = GQ__BUF_INIT;

	cr_assert(eq(int, gq__subscription_encode(t, 2, &b), 0));
	check_bytes(b.base, b.len, sub_v0, sizeof(sub_v0));
	gq__buf_free(&b);
}

/* Topics in any order with repeats encode sorted and distinct, appended
 * after what the buffer held. */
Test(assign, subscription_encode_canonical)
{
	const char *t[] = { "bb", "a", "bb", "a" };
	struct gq__buf b = GQ__BUF_INIT;

	cr_assert(eq(int, gq__buf_append(&b, "xyz", 3), 0));
	cr_assert(eq(int, gq__subscription_encode(t, 4, &b), 0));
	cr_assert(eq(int, memcmp(b.base, "xyz", 3), 0));
	check_bytes(b.base + 3, b.len - 3, sub_v0, sizeof(sub_v0));
	gq__buf_free(&b);
}

/* No topics: version, an empty array, null user data. */
Test(assign, subscription_encode_empty)
{
	static const uint8_t want[] = {
		0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff
	};
	struct gq__buf b = GQ__BUF_INIT;

	cr_assert(eq(int, gq__subscription_encode(NULL, 0, &b), 0));
	check_bytes(b.base, b.len, want, sizeof(want));
	check_sub(b.base, b.len, "");
	gq__buf_free(&b);
}

/* A NULL topic or one longer than GQ_NAME_MAX (what decoders accept) is
 * refused, and nothing is written. */
Test(assign, subscription_encode_invalid)
{
	const char *t[2] = { "a", NULL };
	struct gq__buf b = GQ__BUF_INIT;
	char big[GQ_NAME_MAX + 2];

	cr_assert(eq(int, gq__subscription_encode(t, 2, &b), GQ_EINVAL));
	cr_assert(eq(int, gq__subscription_encode(NULL, 1, &b), GQ_EINVAL));
	memset(big, 'x', GQ_NAME_MAX + 1);
	big[GQ_NAME_MAX + 1] = '\0';
	t[1] = big;
	cr_assert(eq(int, gq__subscription_encode(t, 2, &b), GQ_EINVAL));
	cr_assert(eq(sz, b.len, 0));
	big[GQ_NAME_MAX] = '\0'; /* the longest name */
	cr_assert(eq(int, gq__subscription_encode(t, 2, &b), 0));
	cr_assert(eq(sz, b.len, 2 + 4 + 3 + 2 + GQ_NAME_MAX + 4));
	gq__buf_free(&b);
}

/* Encode then decode: the topics come back sorted and distinct. */
Test(assign, subscription_round_trip)
{
	const char *t[] = { "orders", "audit", "payments", "audit", "a.b-c_9" };
	struct gq__buf b = GQ__BUF_INIT;

	cr_assert(eq(int, gq__subscription_encode(t, 5, &b), 0));
	check_sub(b.base, b.len, "a.b-c_9,audit,orders,payments");
	gq__buf_free(&b);
}

/* Kafka's version 0 bytes decode to "a", "bb". */
Test(assign, subscription_decode_v0)
{
	check_sub(sub_v0, sizeof(sub_v0), "a,bb");
}

/* Version 1 (user data, owned partitions) gives its topics, sorted. */
Test(assign, subscription_decode_v1)
{
	check_sub(sub_v1, sizeof(sub_v1), "x,y");
}

/* Version 3 (generation, rack) gives its topics, sorted and distinct. */
Test(assign, subscription_decode_v3)
{
	check_sub(sub_v3, sizeof(sub_v3), "a,zz");
}

/* A later version is read as version 3 and its extra fields ignored;
 * bytes after an earlier version's fields are ignored too. */
Test(assign, subscription_decode_later_versions)
{
	uint8_t p[sizeof(sub_v3) + 3];

	memcpy(p, sub_v3, sizeof(sub_v3));
	p[1] = 4;
	p[sizeof(sub_v3)] = 1;
	p[sizeof(sub_v3) + 1] = 2;
	p[sizeof(sub_v3) + 2] = 3;
	check_sub(p, sizeof(p), "a,zz");
	p[0] = 0x7f; /* version 32767 */
	p[1] = 0xff;
	check_sub(p, sizeof(p), "a,zz");
	memcpy(p, sub_v0, sizeof(sub_v0));
	check_sub(p, sizeof(sub_v0) + 3, "a,bb");
}

/* Every truncation of a valid payload is corrupt, including one that
 * stops after the fields of an earlier version. */
Test(assign, subscription_truncated)
{
	for (size_t len = 0; len < sizeof(sub_v0); len++)
		check_sub_corrupt(sub_v0, len);
	for (size_t len = 0; len < sizeof(sub_v1); len++)
		check_sub_corrupt(sub_v1, len);
	for (size_t len = 0; len < sizeof(sub_v3); len++)
		check_sub_corrupt(sub_v3, len);
	check_sub_corrupt(NULL, 0);
}

/* Bad versions, lengths, counts, names and partitions are corrupt. */
Test(assign, subscription_corrupt)
{
	uint8_t p[sizeof(sub_v3)];

#define MUTATE(off, ...)                              \
	do {                                          \
		const uint8_t m_[] = { __VA_ARGS__ }; \
		memcpy(p, sub_v3, sizeof(sub_v3));    \
		memcpy(p + (off), m_, sizeof(m_));    \
		check_sub_corrupt(p, sizeof(p));      \
	} while (0)
	MUTATE(0, 0xff, 0xff);              /* version -1 */
	MUTATE(0, 0x80, 0x00);              /* version -32768 */
	MUTATE(2, 0xff, 0xff, 0xff, 0xfe);  /* topic count -2 */
	MUTATE(2, 0x7f, 0xff, 0xff, 0xff);  /* more topics than bytes */
	MUTATE(2, 0x00, 0x00, 0x00, 0x13);  /* 19: as many as bytes allow */
	MUTATE(6, 0xff, 0xff);              /* null topic */
	MUTATE(6, 0xff, 0xfe);              /* topic length -2 */
	MUTATE(6, 0x00, 0x03);              /* topic runs into the next */
	MUTATE(8, 'z', 0x00);               /* NUL in a topic */
	MUTATE(17, 0xff, 0xff, 0xff, 0xfe); /* user data length -2 */
	MUTATE(17, 0x00, 0x00, 0x01, 0x00); /* user data past the end */
	MUTATE(21, 0xff, 0xff, 0xff, 0xfe); /* owned count -2 */
	MUTATE(21, 0x10, 0x00, 0x00, 0x00); /* owned count too large */
	MUTATE(25, 0xff, 0xff);             /* null owned topic */
	MUTATE(28, 0xff, 0xff, 0xff, 0xfe); /* owned partitions -2 */
	MUTATE(28, 0x00, 0x00, 0x00, 0x04); /* owned partitions too many */
	MUTATE(32, 0xff, 0xff, 0xff, 0xff); /* owned partition -1 */
	MUTATE(40, 0xff, 0xfe);             /* rack length -2 */
	MUTATE(40, 0x00, 0x03);             /* rack past the end */
#undef MUTATE
}

/* Null arrays and null strings where Kafka allows them are empty. */
Test(assign, subscription_nulls)
{
	static const uint8_t p[] = {
		0x00, 0x03,             /* version 3 */
		0xff, 0xff, 0xff, 0xff, /* topics: null */
		0xff, 0xff, 0xff, 0xff, /* user data: null */
		0xff, 0xff, 0xff, 0xff, /* owned: null */
		0xff, 0xff, 0xff, 0xff, /* generation -1 */
		0xff, 0xff,             /* rack: null */
	};

	check_sub(p, sizeof(p), "");
}

/* Topic names up to GQ_NAME_MAX bytes decode; one byte more is corrupt,
 * in the topics and in the owned partitions. */
Test(assign, subscription_name_max)
{
	const size_t max = GQ_NAME_MAX;
	uint8_t p[2 + 4 + 2 + GQ_NAME_MAX + 1 + 4 + 4 + 2 + GQ_NAME_MAX + 1 +
		  4];
	char want[GQ_NAME_MAX + 2];
	size_t off;

	for (size_t n = max; n <= max + 1; n++) {
		/* v1: topics [t], user data null, owned [(t, [])] */
		gq__be16_put(p, 1);
		gq__be32_put(p + 2, 1);
		gq__be16_put(p + 6, (uint16_t)n);
		memset(p + 8, 'q', n);
		off = 8 + n;
		gq__be32_put(p + off, UINT32_MAX);
		gq__be32_put(p + off + 4, 1);
		gq__be16_put(p + off + 8, (uint16_t)n);
		memset(p + off + 10, 'q', n);
		off += 10 + n;
		gq__be32_put(p + off, 0);
		off += 4;
		if (n == max) {
			memset(want, 'q', n);
			want[n] = '\0';
			check_sub(p, off, want);
			/* The owned topic alone too long. */
			gq__be16_put(p + 2 + 4 + 2 + n + 4 + 4,
				     (uint16_t)n + 1);
			check_sub_corrupt(p, off);
		} else {
			check_sub_corrupt(p, off);
		}
	}
}

/* ---------------------------------------------------------------------- */
/* Assignments                                                             */
/* ---------------------------------------------------------------------- */

/* An unsorted list with a repeat encodes grouped by topic, sorted, as
 * Kafka's version 0. */
Test(assign, assignment_encode_bytes)
{
	struct gq__tp_list l = { NULL, 0, 0 };
	struct gq__buf b = GQ__BUF_INIT;

	cr_assert(eq(int, gq__tp_list_add(&l, "b", 1), 0));
	cr_assert(eq(int, gq__tp_list_add(&l, "a", 2), 0));
	cr_assert(eq(int, gq__tp_list_add(&l, "b", 0), 0));
	cr_assert(eq(int, gq__tp_list_add(&l, "a", 2), 0));
	cr_assert(eq(int, gq__assignment_encode(&l, &b), 0));
	check_bytes(b.base, b.len, asg_v0, sizeof(asg_v0));
	cr_assert(eq(sz, l.n, 4)); /* the caller's list is untouched */
	cr_assert(eq(str, l.v[0].topic, "b"));
	gq__tp_list_free(&l);
	gq__buf_free(&b);
}

/* Nothing assigned: an empty array and null user data. */
Test(assign, assignment_encode_empty)
{
	static const uint8_t want[] = {
		0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff
	};
	struct gq__tp_list l = { NULL, 0, 0 };
	struct gq__tp_list d;
	struct gq__buf b = GQ__BUF_INIT;

	cr_assert(eq(int, gq__assignment_encode(&l, &b), 0));
	check_bytes(b.base, b.len, want, sizeof(want));
	cr_assert(eq(int, gq__assignment_decode(b.base, b.len, &d), 0));
	cr_assert(eq(sz, d.n, 0));
	gq__tp_list_free(&d);
	gq__buf_free(&b);
}

/* A negative partition, a NULL topic or one too long is refused. */
Test(assign, assignment_encode_invalid)
{
	struct gq__tp_list l = { NULL, 0, 0 };
	struct gq__buf b = GQ__BUF_INIT;
	char *big;

	cr_assert(eq(int, gq__tp_list_add(&l, "a", -1), 0));
	cr_assert(eq(int, gq__assignment_encode(&l, &b), GQ_EINVAL));
	l.v[0].partition = 0;
	big = malloc(32769);
	cr_assert(ne(ptr, big, NULL));
	memset(big, 'x', 32768);
	big[32768] = '\0';
	cr_assert(eq(int, gq__tp_list_add(&l, big, 0), 0));
	cr_assert(eq(int, gq__assignment_encode(&l, &b), GQ_EINVAL));
	gq__free(l.v[1].topic);
	l.v[1].topic = NULL;
	cr_assert(eq(int, gq__assignment_encode(&l, &b), GQ_EINVAL));
	cr_assert(eq(sz, b.len, 0));
	gq__tp_list_free(&l);
	free(big);
}

/* Encode then decode: sorted (topic, partition) pairs, repeats dropped. */
Test(assign, assignment_round_trip)
{
	struct gq__tp_list l = { NULL, 0, 0 };
	struct gq__tp_list d;
	struct gq__buf b = GQ__BUF_INIT;
	char got[RES];

	for (int32_t p = 9; p >= 0; p -= 3) {
		cr_assert(eq(int, gq__tp_list_add(&l, "zeta", p), 0));
		cr_assert(eq(int, gq__tp_list_add(&l, "alpha", p / 2), 0));
	}
	cr_assert(eq(int, gq__tp_list_add(&l, "zeta", 6), 0));
	cr_assert(eq(int, gq__assignment_encode(&l, &b), 0));
	cr_assert(eq(int, gq__assignment_decode(b.base, b.len, &d), 0));
	cr_assert(eq(str, (char *)tps_str(&d, got, sizeof(got)),
		     "alpha-0 alpha-1 alpha-3 alpha-4 zeta-0 zeta-3 zeta-6 "
		     "zeta-9"));
	gq__tp_list_free(&d);
	gq__tp_list_free(&l);
	gq__buf_free(&b);
}

/* Kafka's version 0 and a version 3 with user data decode, sorted; an
 * empty input is an empty assignment; later fields are ignored. */
Test(assign, assignment_decode)
{
	uint8_t p[sizeof(asg_v3) + 2];
	struct gq__tp_list d;
	char got[RES];

	cr_assert(
		eq(int, gq__assignment_decode(asg_v0, sizeof(asg_v0), &d), 0));
	cr_assert(
		eq(str, (char *)tps_str(&d, got, sizeof(got)), "a-2 b-0 b-1"));
	gq__tp_list_free(&d);
	cr_assert(
		eq(int, gq__assignment_decode(asg_v3, sizeof(asg_v3), &d), 0));
	cr_assert(
		eq(str, (char *)tps_str(&d, got, sizeof(got)), "a-1 b-3 b-7"));
	gq__tp_list_free(&d);
	memcpy(p, asg_v3, sizeof(asg_v3));
	p[1] = 9;
	p[sizeof(asg_v3)] = 0xee;
	p[sizeof(asg_v3) + 1] = 0xee;
	cr_assert(eq(int, gq__assignment_decode(p, sizeof(p), &d), 0));
	cr_assert(
		eq(str, (char *)tps_str(&d, got, sizeof(got)), "a-1 b-3 b-7"));
	gq__tp_list_free(&d);
	cr_assert(eq(int, gq__assignment_decode(NULL, 0, &d), 0));
	cr_assert(eq(sz, d.n, 0));
	cr_assert(eq(ptr, (void *)d.v, NULL));
}

/* Every non-empty truncation of a valid assignment is corrupt. */
Test(assign, assignment_truncated)
{
	for (size_t len = 1; len < sizeof(asg_v0); len++)
		check_asg_corrupt(asg_v0, len);
	for (size_t len = 1; len < sizeof(asg_v3); len++)
		check_asg_corrupt(asg_v3, len);
}

/* Bad versions, counts, names and partitions are corrupt. */
Test(assign, assignment_corrupt)
{
	uint8_t p[sizeof(asg_v3)];

#define MUTATE(off, ...)                              \
	do {                                          \
		const uint8_t m_[] = { __VA_ARGS__ }; \
		memcpy(p, asg_v3, sizeof(asg_v3));    \
		memcpy(p + (off), m_, sizeof(m_));    \
		check_asg_corrupt(p, sizeof(p));      \
	} while (0)
	MUTATE(0, 0xff, 0xfe);              /* version -2 */
	MUTATE(2, 0xff, 0xff, 0xff, 0xfe);  /* topic count -2 */
	MUTATE(2, 0x00, 0x00, 0x00, 0x07);  /* more topics than bytes */
	MUTATE(6, 0xff, 0xff);              /* null topic */
	MUTATE(6, 0x00, 0xf0);              /* topic past the end */
	MUTATE(8, 0x00);                    /* NUL as a topic */
	MUTATE(9, 0xff, 0xff, 0xff, 0xfe);  /* partition count -2 */
	MUTATE(9, 0x00, 0x00, 0x00, 0x09);  /* more partitions than bytes */
	MUTATE(13, 0x80, 0x00, 0x00, 0x00); /* partition INT32_MIN */
	MUTATE(32, 0xff, 0xff, 0xff, 0xfe); /* user data length -2 */
	MUTATE(32, 0x00, 0x00, 0x00, 0x03); /* user data past the end */
#undef MUTATE
}

/* ---------------------------------------------------------------------- */
/* Assignors                                                               */
/* ---------------------------------------------------------------------- */

/* Range, 3 members over 7 partitions: 3/2/2 in member-id order, whatever
 * order the members are given in. */
Test(assign, range_three_members)
{
	static const struct meta meta[] = { { "t", 7 }, { NULL, 0 } };
	static const struct group g = { 3,
					{ "m-c", "m-a", "m-b" },
					{ "t", "t", "t" } };
	static const char *const want[] = { "t-5 t-6", "t-0 t-1 t-2",
					    "t-3 t-4" };

	check_run("range", &g, meta, want);
}

/* Range with fewer partitions than members: the last get nothing. */
Test(assign, range_more_members)
{
	static const struct meta meta[] = { { "t", 2 }, { NULL, 0 } };
	static const struct group g = { 3,
					{ "c", "b", "a" },
					{ "t", "t", "t" } };
	static const char *const want[] = { "", "t-1", "t-0" };

	check_run("range", &g, meta, want);
}

/* Kafka's RangeAssignor example: C0 and C1 on t0 and t1 of 3 partitions
 * each get t0p0 t0p1 t1p0 t1p1 and t0p2 t1p2. */
Test(assign, range_two_topics)
{
	static const struct meta meta[] = { { "t0", 3 },
					    { "t1", 3 },
					    { NULL, 0 } };
	static const struct group g = { 2,
					{ "C1", "C0" },
					{ "t0,t1", "t1,t0" } };
	static const char *const want[] = { "t0-2 t1-2",
					    "t0-0 t0-1 t1-0 t1-1" };

	check_run("range", &g, meta, want);
}

/* Range per topic over its own subscribers: a (t0, t1), b (t1), c (t0)
 * with t0 of 4 and t1 of 3. */
Test(assign, range_mixed_subscriptions)
{
	static const struct meta meta[] = { { "t0", 4 },
					    { "t1", 3 },
					    { NULL, 0 } };
	static const struct group g = { 3,
					{ "a", "b", "c" },
					{ "t0,t1", "t1", "t0" } };
	static const char *const want[] = { "t0-0 t0-1 t1-0 t1-1", "t1-2",
					    "t0-2 t0-3" };

	check_run("range", &g, meta, want);
}

/* Kafka's RoundRobinAssignor example: C0 and C1 on t0 and t1 of 3
 * partitions each; dealing carries on from one topic to the next. */
Test(assign, roundrobin_two_topics)
{
	static const struct meta meta[] = { { "t0", 3 },
					    { "t1", 3 },
					    { NULL, 0 } };
	static const struct group g = { 2,
					{ "C1", "C0" },
					{ "t0,t1", "t0,t1" } };
	static const char *const want[] = { "t0-1 t1-0 t1-2",
					    "t0-0 t0-2 t1-1" };

	check_run("roundrobin", &g, meta, want);
}

/* Kafka's RoundRobinAssignor example with unequal subscriptions: C0 (t0),
 * C1 (t0, t1), C2 (t0, t1, t2), of 1, 2 and 3 partitions; members not
 * subscribed to a topic are skipped. */
Test(assign, roundrobin_unsubscribed)
{
	static const struct meta meta[] = {
		{ "t0", 1 }, { "t1", 2 }, { "t2", 3 }, { NULL, 0 }
	};
	static const struct group g = { 3,
					{ "C2", "C0", "C1" },
					{ "t0,t1,t2", "t0", "t0,t1" } };
	static const char *const want[] = { "t1-1 t2-0 t2-1 t2-2", "t0-0",
					    "t1-0" };

	check_run("roundrobin", &g, meta, want);
}

/* Members get nothing from topics they do not subscribe to; topics that
 * do not exist, or have no partitions, are skipped. */
Test(assign, unsubscribed_and_unknown)
{
	static const struct meta meta[] = { { "t", 4 },
					    { "empty", 0 },
					    { NULL, 0 } };
	static const struct group g = { 3,
					{ "a", "b", "c" },
					{ "t,gone", "gone,empty", "t" } };
	static const char *const range[] = { "t-0 t-1", "", "t-2 t-3" };
	static const char *const rr[] = { "t-0 t-2", "", "t-1 t-3" };

	check_run("range", &g, meta, range);
	check_run("roundrobin", &g, meta, rr);
}

/* Members with no subscription (or one that did not decode) get nothing
 * and do not disturb the others. */
Test(assign, empty_subscriptions)
{
	static const struct meta meta[] = { { "t", 3 }, { NULL, 0 } };
	struct gq__subscription s;
	struct gq__subscription none = { NULL, 0 };
	struct gq__assign_member m[3];
	struct gq__tp_list out[3];
	char got[RES];

	mksub(&s, "t");
	m[0].member_id = "a";
	m[0].sub = &none;
	m[1].member_id = "b";
	m[1].sub = NULL;
	m[2].member_id = "c";
	m[2].sub = &s;
	for (int rr = 0; rr < 2; rr++) {
		memset(out, 0, sizeof(out));
		cr_assert(eq(int,
			     gq__assign(rr ? "roundrobin" : "range", m, 3,
					meta_count, (void *)meta, out),
			     0));
		cr_assert(eq(sz, out[0].n, 0));
		cr_assert(eq(sz, out[1].n, 0));
		cr_assert(eq(str, (char *)tps_str(&out[2], got, sizeof(got)),
			     "t-0 t-1 t-2"));
		for (int i = 0; i < 3; i++)
			gq__tp_list_free(&out[i]);
	}
	gq__subscription_free(&s);
}

/* Each member's share depends on the member ids only, not on the order
 * the members are given in: every permutation of five gives the same. */
Test(assign, order_independent)
{
	static const struct meta meta[] = {
		{ "a", 5 }, { "b", 7 }, { "c", 2 }, { "d", 11 }, { NULL, 0 }
	};
	static const struct group base = {
		5,
		{ "m4", "m1", "m3", "m0", "m2" },
		{ "a,b,c,d", "b", "a,d", "c,d", "a,b" },
	};
	static const char *const assignors[] = { "range", "roundrobin" };
	char want[5][RES];
	char res[5][RES];
	size_t perm[5];
	struct group g;
	size_t tried;

	for (size_t a = 0; a < 2; a++) {
		run(assignors[a], &base, meta, want);
		tried = 0;
		/* Every permutation, as a base-5 counter skipping repeats. */
		for (size_t code = 0; code < 5 * 5 * 5 * 5 * 5; code++) {
			unsigned seen = 0;
			size_t c = code;

			for (size_t i = 0; i < 5; i++, c /= 5) {
				perm[i] = c % 5;
				seen |= 1u << perm[i];
			}
			if (seen != 0x1f)
				continue;
			g.n = 5;
			for (size_t i = 0; i < 5; i++) {
				g.ids[i] = base.ids[perm[i]];
				g.subs[i] = base.subs[perm[i]];
			}
			run(assignors[a], &g, meta, res);
			for (size_t i = 0; i < 5; i++)
				cr_assert(eq(str, res[i], want[perm[i]]),
					  "%s member %s", assignors[a],
					  g.ids[i]);
			tried++;
		}
		cr_assert(eq(sz, tried, 120));
	}
}

/* Every partition of every subscribed, existing topic is assigned exactly
 * once, by both assignors, on a larger group. */
Test(assign, complete_and_disjoint)
{
	static const struct meta meta[] = {
		{ "a", 13 }, { "b", 1 }, { "c", 8 }, { NULL, 0 }
	};
	static const struct group g = {
		7,
		{ "g", "f", "e", "d", "c", "b", "a" },
		{ "a", "a,b", "c", "a,b,c", "b,c", "zzz", "a,c" },
	};
	static const char *const assignors[] = { "range", "roundrobin" };
	char res[8][RES];

	for (size_t a = 0; a < 2; a++) {
		int seen[3][13];
		size_t total = 0;

		memset(seen, 0, sizeof(seen));
		run(assignors[a], &g, meta, res);
		for (size_t i = 0; i < g.n; i++) {
			char *save = NULL;

			for (char *tok = strtok_r(res[i], " ", &save);
			     tok != NULL; tok = strtok_r(NULL, " ", &save)) {
				int t = tok[0] - 'a';
				int p;

				p = atoi(tok + 2);

				cr_assert(lt(int, t, 3));
				/* Only a subscriber gets it. */
				cr_assert(ne(ptr,
					     (void *)strchr(g.subs[i], tok[0]),
					     NULL));
				seen[t][p]++;
				total++;
			}
		}
		cr_assert(eq(sz, total, 13 + 1 + 8));
		for (int t = 0; t < 3; t++)
			for (int p = 0; p < meta[t].count; p++)
				cr_assert(eq(int, seen[t][p], 1));
	}
}

/* An unknown assignor is GQ_EINVAL, with nothing assigned. */
Test(assign, unknown_assignor)
{
	static const struct meta meta[] = { { "t", 3 }, { NULL, 0 } };
	struct gq__subscription s;
	struct gq__assign_member m = { "a", NULL };
	struct gq__tp_list out = { NULL, 0, 0 };

	mksub(&s, "t");
	m.sub = &s;
	cr_assert(eq(int,
		     gq__assign("cooperative-sticky", &m, 1, meta_count,
				(void *)meta, &out),
		     GQ_EINVAL));
	cr_assert(eq(int,
		     gq__assign("Range", &m, 1, meta_count, (void *)meta, &out),
		     GQ_EINVAL));
	cr_assert(eq(int,
		     gq__assign(NULL, &m, 1, meta_count, (void *)meta, &out),
		     GQ_EINVAL));
	cr_assert(eq(int, gq__assign("", NULL, 0, meta_count, NULL, NULL),
		     GQ_EINVAL));
	cr_assert(eq(sz, out.n, 0));
	cr_assert(eq(int, gq__assign("range", NULL, 0, NULL, NULL, NULL), 0));
	gq__subscription_free(&s);
}

/* ---------------------------------------------------------------------- */
/* Allocation failure at every point                                       */
/* ---------------------------------------------------------------------- */

/* One call under test: does its work with the test heap installed,
 * checks its own results, frees everything, and returns the call's
 * result.  The first @setup allocations are its own and never fail. */
typedef int (*op_fn)(void);

/* Fail allocation N for every N until the call succeeds: each failure
 * is GQ_ENOMEM and leaks nothing; the success injected no failure.
 * Returns how many points were tried. */
static long
every_failure(op_fn op, long setup)
{
	long n;
	int rv;

	for (n = 0;; n++) {
		memset(&gqt_fh, 0, sizeof(gqt_fh));
		gqt_fh.fail_at = setup + n;
		cr_assert(eq(int, gq_heap_set(&gqt_failing_heap), 0));
		rv = op();
		cr_assert(eq(int, gq_heap_set(NULL), 0));
		cr_assert(eq(long, gqt_fh.live, 0), "alloc %ld leaked", n);
		if (rv == 0)
			break;
		cr_assert(eq(int, rv, GQ_ENOMEM), "alloc %ld", n);
		cr_assert(eq(long, gqt_fh.failed, 1));
		cr_assert(lt(long, n, 10000));
	}
	cr_assert(eq(long, gqt_fh.failed, 0));
	return n;
}

/* A 250-byte prefix fills most of the buffer's first 256 bytes, so the
 * encoders must grow it: on failure the prefix is all there is. */
#define PREFIX 250

static int
op_sub_encode(void)
{
	const char *t[] = { "bb", "a", "bb" };
	struct gq__buf b = GQ__BUF_INIT;
	uint8_t prefix[PREFIX];
	int rv;

	memset(prefix, 0x5a, sizeof(prefix));
	cr_assert(eq(int, gq__buf_append(&b, prefix, PREFIX), 0));
	rv = gq__subscription_encode(t, 3, &b);
	if (rv == 0)
		check_bytes(b.base + PREFIX, b.len - PREFIX, sub_v0,
			    sizeof(sub_v0));
	else
		cr_assert(eq(sz, b.len, PREFIX));
	cr_assert(eq(int, memcmp(b.base, prefix, PREFIX), 0));
	gq__buf_free(&b);
	return rv;
}

static int
op_sub_decode(void)
{
	struct gq__subscription s;
	char got[RES];
	int rv;

	rv = gq__subscription_decode(sub_v3, sizeof(sub_v3), &s);
	if (rv == 0)
		cr_assert(
			eq(str, (char *)sub_str(&s, got, sizeof(got)), "a,zz"));
	else
		cr_assert(eq(sz, s.n, 0));
	gq__subscription_free(&s);
	return rv;
}

static int
op_asg_encode(void)
{
	struct gq__tp_list l = { NULL, 0, 0 };
	struct gq__buf b = GQ__BUF_INIT;
	uint8_t prefix[PREFIX];
	int rv;

	memset(prefix, 0x5a, sizeof(prefix));
	cr_assert(eq(int, gq__buf_append(&b, prefix, PREFIX), 0));
	cr_assert(eq(int, gq__tp_list_add(&l, "b", 1), 0));
	cr_assert(eq(int, gq__tp_list_add(&l, "a", 2), 0));
	cr_assert(eq(int, gq__tp_list_add(&l, "b", 0), 0));
	rv = gq__assignment_encode(&l, &b);
	if (rv == 0)
		check_bytes(b.base + PREFIX, b.len - PREFIX, asg_v0,
			    sizeof(asg_v0));
	else
		cr_assert(eq(sz, b.len, PREFIX));
	gq__tp_list_free(&l);
	gq__buf_free(&b);
	return rv;
}

static int
op_asg_decode(void)
{
	struct gq__tp_list l;
	char got[RES];
	int rv;

	rv = gq__assignment_decode(asg_v3, sizeof(asg_v3), &l);
	if (rv == 0)
		cr_assert(eq(str, (char *)tps_str(&l, got, sizeof(got)),
			     "a-1 b-3 b-7"));
	else
		cr_assert(eq(sz, l.n, 0));
	gq__tp_list_free(&l);
	return rv;
}

/* Subscriptions for the assignor runs, made on the default heap. */
static struct gq__subscription op_subs[3];
static const char *op_assignor;

static int
op_assign(void)
{
	static const struct meta meta[] = { { "t0", 3 },
					    { "t1", 5 },
					    { NULL, 0 } };
	static const char *const ids[] = { "c", "a", "b" };
	/* Range: t0 to a and c, 2 + 1; t1 to a, b and c, 2 + 2 + 1.
	 * Roundrobin: a b c a b ..., b skipped in t0. */
	static const char *const range[] = { "t0-2 t1-4", "t0-0 t0-1 t1-0 t1-1",
					     "t1-2 t1-3" };
	static const char *const rr[] = { "t0-1 t1-1 t1-4", "t0-0 t0-2 t1-2",
					  "t1-0 t1-3" };
	const char *const *want =
		strcmp(op_assignor, "range") == 0 ? range : rr;
	struct gq__assign_member m[3];
	struct gq__tp_list out[3];
	char got[RES];
	int rv;

	memset(out, 0, sizeof(out));
	for (size_t i = 0; i < 3; i++) {
		m[i].member_id = ids[i];
		m[i].sub = &op_subs[i];
	}
	rv = gq__assign(op_assignor, m, 3, meta_count, (void *)meta, out);
	for (size_t i = 0; i < 3; i++) {
		if (rv == 0)
			cr_assert(eq(str,
				     (char *)tps_str(&out[i], got, sizeof(got)),
				     (char *)want[i]),
				  "%s member %s", op_assignor, ids[i]);
		gq__tp_list_free(&out[i]);
	}
	return rv;
}

/* Encoders: GQ_ENOMEM leaves the caller's buffer as it was. */
Test(assign, alloc_failures_encode)
{
	cr_assert(gt(long, every_failure(op_sub_encode, 1), 0));
	cr_assert(gt(long, every_failure(op_asg_encode, 5), 0));
}

/* Decoders: GQ_ENOMEM leaves an empty output and no leak. */
Test(assign, alloc_failures_decode)
{
	/* The topics array and three names (one a repeat). */
	cr_assert(ge(long, every_failure(op_sub_decode, 0), 4));
	/* An array growth and three topic copies. */
	cr_assert(ge(long, every_failure(op_asg_decode, 0), 4));
}

/* A count larger than the bytes left could hold is corrupt before
 * anything is allocated. */
Test(assign, corrupt_count_allocates_nothing)
{
	static const uint8_t p[] = { 0x00, 0x00, 0x7f, 0xff, 0xff,
				     0xff, 0x00, 0x01, 'a' };

	memset(&gqt_fh, 0, sizeof(gqt_fh));
	gqt_fh.fail_at = -1;
	cr_assert(eq(int, gq_heap_set(&gqt_failing_heap), 0));
	check_sub_corrupt(p, sizeof(p));
	check_asg_corrupt(p, sizeof(p));
	cr_assert(eq(int, gq_heap_set(NULL), 0));
	cr_assert(eq(long, gqt_fh.calls, 0));
}

/* gq__tp_list_sort orders by topic then partition and drops repeats,
 * freeing them. */
Test(assign, tp_list_sort)
{
	struct gq__tp_list l = { NULL, 0, 0 };
	char got[RES];

	memset(&gqt_fh, 0, sizeof(gqt_fh));
	gqt_fh.fail_at = -1;
	cr_assert(eq(int, gq_heap_set(&gqt_failing_heap), 0));
	gq__tp_list_sort(&l);
	cr_assert(eq(int, gq__tp_list_add(&l, "b", 10), 0));
	cr_assert(eq(int, gq__tp_list_add(&l, "b", 2), 0));
	cr_assert(eq(int, gq__tp_list_add(&l, "a", 5), 0));
	cr_assert(eq(int, gq__tp_list_add(&l, "b", 10), 0));
	cr_assert(eq(int, gq__tp_list_add(&l, "B", 0), 0));
	gq__tp_list_sort(&l);
	cr_assert(eq(str, (char *)tps_str(&l, got, sizeof(got)),
		     "B-0 a-5 b-2 b-10"));
	gq__tp_list_free(&l);
	gq__tp_list_free(&l); /* an empty list frees again */
	cr_assert(eq(int, gq_heap_set(NULL), 0));
	cr_assert(eq(long, gqt_fh.live, 0));
}

/* Assignors: GQ_ENOMEM with the outputs freeable, no leak. */
Test(assign, alloc_failures_assign)
{
	mksub(&op_subs[0], "t0,t1");
	mksub(&op_subs[1], "t0,t1");
	mksub(&op_subs[2], "t1");
	op_assignor = "range";
	cr_assert(ge(long, every_failure(op_assign, 0), 10));
	op_assignor = "roundrobin";
	cr_assert(ge(long, every_failure(op_assign, 0), 10));
	for (size_t i = 0; i < 3; i++)
		gq__subscription_free(&op_subs[i]);
}
