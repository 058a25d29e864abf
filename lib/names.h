/* SPDX-License-Identifier: MIT */
/*
 * names.h - validation of topic and group names, shared by every entry
 * point that takes one.  Topic names follow Kafka's rules: 1..249 bytes
 * of [A-Za-z0-9._-], not "." or "..".
 */
#ifndef GQ_NAMES_H
#define GQ_NAMES_H

#include <stdbool.h>

/* 0 or GQ_EBADNAME with a sentence in errmsg (GQ_ERRMSG_SIZE, may be
 * NULL).  Names starting with "__" are internal: allowed only with
 * @internal. */
int gq__name_check(const char *name, bool internal, char *errmsg);

/* Group ids are freer than topic names, as Kafka's: 1..GQ_NAME_MAX bytes
 * with no control character.  0 or GQ_EBADNAME, as above. */
int gq__group_name_check(const char *group, char *errmsg);

#endif /* GQ_NAMES_H */
