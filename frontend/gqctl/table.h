/* SPDX-License-Identifier: MIT */
/*
 * table.h - the human output of gqctl: a table with a header row, columns
 * padded to their widest cell and separated by three spaces, numbers
 * right-aligned, as kubectl and rpk print.  Cells are copied in, so
 * callers may pass temporary buffers.  Widths count UTF-8 characters, not
 * bytes, so names in any script line up.
 */
#ifndef GQCTL_TABLE_H
#define GQCTL_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct table;

/*
 * A table with the @n columns named in @headers (borrowed).  A header
 * starting with '>' is right-aligned (the '>' is not printed): use it for
 * numbers.  Returns NULL when out of memory.
 */
struct table *table_new(const char *const *headers, size_t n);

/* Add a row of n cells (the column count); NULL prints as "-".  Returns
 * 0, or -1 when out of memory (the row is not added). */
int table_add(struct table *t, const char *const *cells);

/* printf() into the next cell of the row being built; the row is added
 * when its last cell is set.  Returns 0 or -1 (out of memory). */
int table_cell(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* table_cell() with @v in decimal, or "-" when it is negative (goqueue's
 * "none" or "unknown": no leader, no replica here). */
int table_cell_num(struct table *t, long long v);

/* Rows added so far. */
size_t table_rows(const struct table *t);

/* Print the header and every row on @f. */
void table_print(const struct table *t, FILE *f);

/* Free @t; NULL is a no-op. */
void table_free(struct table *t);

/* Print "KEY:  value" lines for a record (the upper part of a describe),
 * keys padded to the longest: @pairs alternates keys and values, NULL
 * values print as "-". */
void table_print_pairs(FILE *f, const char *const *pairs, size_t n_pairs);

#endif /* GQCTL_TABLE_H */
