/* SPDX-License-Identifier: MIT */
/*
 * prom.c - the Prometheus text exposition writer (see prom.h).
 *
 * Invariant: buf[0..len) is the text written so far and, when buf is
 * not NULL, buf[len] is a NUL; once `failed` is set nothing is appended
 * any more, so a scrape never serves a line cut in the middle.
 */
#include "prom.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROM_INITIAL_CAP 4096

void
gqd_prom_init(struct gqd_prom *p)
{
	memset(p, 0, sizeof(*p));
}

void
gqd_prom_free(struct gqd_prom *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

bool
gqd_prom_failed(const struct gqd_prom *p)
{
	return p->failed;
}

/* Room for @n more bytes and the NUL. */
static bool
reserve(struct gqd_prom *p, size_t n)
{
	size_t cap;
	char *b;

	if (p->failed)
		return false;
	if (p->len + n + 1 <= p->cap)
		return true;
	cap = p->cap > 0 ? p->cap : PROM_INITIAL_CAP;
	while (cap < p->len + n + 1) {
		if (cap > SIZE_MAX / 2) {
			p->failed = true;
			return false;
		}
		cap *= 2;
	}
	if ((b = realloc(p->buf, cap)) == NULL) {
		p->failed = true;
		return false;
	}
	p->buf = b;
	p->cap = cap;
	return true;
}

static void
put(struct gqd_prom *p, const char *s, size_t n)
{
	if (!reserve(p, n))
		return;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void
put_str(struct gqd_prom *p, const char *s)
{
	put(p, s, strlen(s));
}

static void putf(struct gqd_prom *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
putf(struct gqd_prom *p, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* Only numbers go through here: they always fit. */
	if (n > 0 && (size_t)n < sizeof(tmp))
		put(p, tmp, (size_t)n);
}

/* @s with backslash and newline escaped, and the double quote too when
 * @quote (label values; help texts leave it alone). */
static void
put_escaped(struct gqd_prom *p, const char *s, bool quote)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *esc = NULL;

		if (*s == '\\')
			esc = "\\\\";
		else if (*s == '\n')
			esc = "\\n";
		else if (*s == '"' && quote)
			esc = "\\\"";
		if (esc == NULL)
			continue;
		put(p, run, (size_t)(s - run));
		put_str(p, esc);
		run = s + 1;
	}
	put(p, run, (size_t)(s - run));
}

const char *
gqd_prom_float(char *buf, size_t size, double v)
{
	if (isnan(v))
		snprintf(buf, size, "NaN");
	else if (isinf(v))
		snprintf(buf, size, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		snprintf(buf, size, "%.0f", v);
	else {
		/* The shortest of %.15g..%.17g that reads back exactly, so
		 * that a bucket bound of 0.0001 prints as written. */
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(buf, size, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
	return buf;
}

void
gqd_prom_family(struct gqd_prom *p, const char *name, const char *type,
		const char *help)
{
	put_str(p, "# HELP ");
	put_str(p, name);
	put_str(p, " ");
	put_escaped(p, help, false);
	put_str(p, "\n# TYPE ");
	put_str(p, name);
	put_str(p, " ");
	put_str(p, type);
	put_str(p, "\n");
}

/* "name{a="x",b="y"" up to the closing brace, which the caller writes
 * (a histogram bucket appends le first). */
static void
put_name_labels(struct gqd_prom *p, const char *name, const char *suffix,
		const struct gqd_prom_label *labels, size_t n)
{
	put_str(p, name);
	put_str(p, suffix);
	put_str(p, "{");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			put_str(p, ",");
		put_str(p, labels[i].name);
		put_str(p, "=\"");
		put_escaped(p, labels[i].value, true);
		put_str(p, "\"");
	}
}

/* Close the label set ("name{}" is legal, but "name" reads better). */
static void
put_sample_head(struct gqd_prom *p, const char *name, const char *suffix,
		const struct gqd_prom_label *labels, size_t n)
{
	if (n == 0) {
		put_str(p, name);
		put_str(p, suffix);
		put_str(p, " ");
		return;
	}
	put_name_labels(p, name, suffix, labels, n);
	put_str(p, "} ");
}

void
gqd_prom_sample(struct gqd_prom *p, const char *name,
		const struct gqd_prom_label *labels, size_t n_labels,
		double value)
{
	char num[64];

	put_sample_head(p, name, "", labels, n_labels);
	put_str(p, gqd_prom_float(num, sizeof(num), value));
	put_str(p, "\n");
}

void
gqd_prom_sample_u64(struct gqd_prom *p, const char *name,
		    const struct gqd_prom_label *labels, size_t n_labels,
		    uint64_t value)
{
	put_sample_head(p, name, "", labels, n_labels);
	putf(p, "%" PRIu64 "\n", value);
}

void
gqd_prom_sample_i64(struct gqd_prom *p, const char *name,
		    const struct gqd_prom_label *labels, size_t n_labels,
		    int64_t value)
{
	put_sample_head(p, name, "", labels, n_labels);
	putf(p, "%" PRId64 "\n", value);
}

void
gqd_prom_histogram(struct gqd_prom *p, const char *name,
		   const struct gqd_prom_label *labels, size_t n_labels,
		   const double *bounds, const uint64_t *counts,
		   size_t n_bounds, double sum)
{
	char num[64];
	uint64_t cum = 0;

	for (size_t i = 0; i <= n_bounds; i++) {
		cum += counts[i];
		put_name_labels(p, name, "_bucket", labels, n_labels);
		put_str(p, n_labels > 0 ? ",le=\"" : "le=\"");
		put_str(p, i < n_bounds
				   ? gqd_prom_float(num, sizeof(num), bounds[i])
				   : "+Inf");
		putf(p, "\"} %" PRIu64 "\n", cum);
	}
	put_sample_head(p, name, "_sum", labels, n_labels);
	put_str(p, gqd_prom_float(num, sizeof(num), sum));
	put_str(p, "\n");
	put_sample_head(p, name, "_count", labels, n_labels);
	putf(p, "%" PRIu64 "\n", cum);
}
