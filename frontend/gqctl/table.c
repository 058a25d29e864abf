/* SPDX-License-Identifier: MIT */
/*
 * table.c - aligned tables for gqctl's human output (contract in table.h).
 * Rows are kept until printing because a column's width is its widest
 * cell.  The last column is not padded, so lines carry no trailing blanks.
 */
#include "table.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define GAP 3

struct table {
	size_t ncols;
	char **headers;
	bool *right;
	size_t *width;
	char **cells; /* rows * ncols, row-major */
	size_t nrows;
	size_t cap;
	char **pending; /* the row table_cell() is building */
	size_t npending;
};

/* Characters, not bytes: UTF-8 continuation bytes do not count. */
static size_t
text_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

struct table *
table_new(const char *const *headers, size_t n)
{
	struct table *t;
	size_t i;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ncols = n;
	t->headers = calloc(n, sizeof(*t->headers));
	t->right = calloc(n, sizeof(*t->right));
	t->width = calloc(n, sizeof(*t->width));
	t->pending = calloc(n, sizeof(*t->pending));
	if (t->headers == NULL || t->right == NULL || t->width == NULL ||
	    t->pending == NULL)
		goto err;
	for (i = 0; i < n; i++) {
		t->right[i] = headers[i][0] == '>';
		if ((t->headers[i] = strdup(headers[i] + t->right[i])) == NULL)
			goto err;
		t->width[i] = text_width(t->headers[i]);
	}
	return t;
err:
	table_free(t);
	return NULL;
}

int
table_add(struct table *t, const char *const *cells)
{
	char **row;
	char **nc;
	size_t i;

	if (t->nrows == t->cap) {
		size_t cap = t->cap == 0 ? 16 : t->cap * 2;

		nc = realloc(t->cells, cap * t->ncols * sizeof(*nc));
		if (nc == NULL)
			return -1;
		t->cells = nc;
		t->cap = cap;
	}
	row = &t->cells[t->nrows * t->ncols];
	for (i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i] != NULL ? cells[i] : "-");
		if (row[i] == NULL) {
			while (i-- > 0)
				free(row[i]);
			return -1;
		}
	}
	for (i = 0; i < t->ncols; i++) {
		size_t w = text_width(row[i]);

		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
	return 0;
}

int
table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	size_t i;
	int rv;

	va_start(ap, fmt);
	rv = vasprintf(&t->pending[t->npending], fmt, ap);
	va_end(ap);
	if (rv < 0) {
		t->pending[t->npending] = NULL;
		return -1;
	}
	if (++t->npending < t->ncols)
		return 0;
	rv = table_add(t, (const char *const *)t->pending);
	for (i = 0; i < t->ncols; i++) {
		free(t->pending[i]);
		t->pending[i] = NULL;
	}
	t->npending = 0;
	return rv;
}

int
table_cell_num(struct table *t, long long v)
{
	return v < 0 ? table_cell(t, "-") : table_cell(t, "%lld", v);
}

size_t
table_rows(const struct table *t)
{
	return t->nrows;
}

static void
print_row(const struct table *t, char *const *row, FILE *f)
{
	size_t i;
	size_t pad;

	for (i = 0; i < t->ncols; i++) {
		pad = t->width[i] - text_width(row[i]);
		if (t->right[i])
			fprintf(f, "%*s%s", (int)pad, "", row[i]);
		else if (i + 1 < t->ncols)
			fprintf(f, "%s%*s", row[i], (int)pad, "");
		else
			fputs(row[i], f);
		if (i + 1 < t->ncols)
			fprintf(f, "%*s", GAP, "");
	}
	fputc('\n', f);
}

void
table_print(const struct table *t, FILE *f)
{
	size_t r;

	print_row(t, t->headers, f);
	for (r = 0; r < t->nrows; r++)
		print_row(t, &t->cells[r * t->ncols], f);
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	for (i = 0; t->headers != NULL && i < t->ncols; i++)
		free(t->headers[i]);
	for (i = 0; t->pending != NULL && i < t->ncols; i++)
		free(t->pending[i]);
	free(t->cells);
	free(t->headers);
	free(t->right);
	free(t->width);
	free(t->pending);
	free(t);
}

void
table_print_pairs(FILE *f, const char *const *pairs, size_t n_pairs)
{
	size_t w = 0;
	size_t i;
	size_t kw;

	for (i = 0; i < n_pairs; i++) {
		kw = text_width(pairs[2 * i]);
		if (kw > w)
			w = kw;
	}
	for (i = 0; i < n_pairs; i++) {
		kw = text_width(pairs[2 * i]);
		fprintf(f, "%s:%*s%s\n", pairs[2 * i], (int)(w - kw + GAP - 1),
			"", pairs[2 * i + 1] != NULL ? pairs[2 * i + 1] : "-");
	}
}
