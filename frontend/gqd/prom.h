/* SPDX-License-Identifier: MIT */
/*
 * prom.h - a writer of the Prometheus text exposition format, version
 * 0.0.4: families (# HELP, # TYPE), samples with labels, and histograms
 * (cumulative _bucket{le=...}, _sum, _count) appended to one growing
 * buffer.
 *
 * The writer only formats: it knows nothing of where values come from.
 * Label values and help texts are escaped here (\\, \" and \n in label
 * values; \\ and \n in help), so callers pass raw topic and group names.
 * Names of metrics and labels are the caller's constants and are not
 * checked.  A family's samples must be written right after its header,
 * before the next family starts; the writer does not reorder.
 *
 * Out of memory makes every later call a no-op and gqd_prom_failed()
 * true, so a caller checks once at the end.  Nothing here is shared: one
 * writer belongs to one thread.
 */
#ifndef GQD_PROM_H
#define GQD_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The Content-Type of what the writer produces. */
#define GQD_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct gqd_prom {
	char *buf; /* owned; NUL-terminated once anything was written */
	size_t len;
	size_t cap;
	bool failed; /* an allocation failed: the text is incomplete */
};

/* One label; both strings borrowed for the call. */
struct gqd_prom_label {
	const char *name;
	const char *value;
};

/* Start an empty text. */
void gqd_prom_init(struct gqd_prom *p);

/* Free the buffer; @p may be initialised again. */
void gqd_prom_free(struct gqd_prom *p);

/* Whether an allocation failed since gqd_prom_init(). */
bool gqd_prom_failed(const struct gqd_prom *p);

/* Start a family: "# HELP @name @help" and "# TYPE @name @type", where
 * @type is "counter", "gauge" or "histogram". */
void gqd_prom_family(struct gqd_prom *p, const char *name, const char *type,
		     const char *help);

/* One sample "@name{labels} @value".  Integers up to 2^53 print exactly;
 * NaN and the infinities print as Prometheus spells them. */
void gqd_prom_sample(struct gqd_prom *p, const char *name,
		     const struct gqd_prom_label *labels, size_t n_labels,
		     double value);

/* As gqd_prom_sample(), for a counter or gauge that is an integer. */
void gqd_prom_sample_u64(struct gqd_prom *p, const char *name,
			 const struct gqd_prom_label *labels, size_t n_labels,
			 uint64_t value);
void gqd_prom_sample_i64(struct gqd_prom *p, const char *name,
			 const struct gqd_prom_label *labels, size_t n_labels,
			 int64_t value);

/*
 * The samples of one histogram series: @counts holds @n_bounds + 1
 * per-bucket (not cumulative) counts, the last one for observations above
 * every bound; @bounds are the upper bounds, ascending.  Writes a
 * cumulative _bucket line per bound plus le="+Inf", then _sum (@sum) and
 * _count, which always equals the +Inf bucket.  @labels come first, le
 * last.
 */
void gqd_prom_histogram(struct gqd_prom *p, const char *name,
			const struct gqd_prom_label *labels, size_t n_labels,
			const double *bounds, const uint64_t *counts,
			size_t n_bounds, double sum);

/* Format @v as the exposition format wants a float: the shortest text
 * that reads back as @v ("0.0001", "2.5", "10"), or NaN, +Inf, -Inf.
 * Returns @buf. */
const char *gqd_prom_float(char *buf, size_t size, double v);

#endif /* GQD_PROM_H */
