/* SPDX-License-Identifier: MIT */
/*
 * check_store.c - `gqctl check-store DIR [--repair]`: the offline checker of
 * a stopped node's data directory, in the manner of redis-check-aof.
 *
 * Unlike the rest of gqctl it does not talk to gqd: it reads the directory
 * itself, through libgoqueue's internal storage functions (gq__store_*,
 * gq__plog_verify(), gq__plog_open()), which is why gqctl links the
 * internal static library, as the unit tests do.  A frontend otherwise
 * sees only <goqueue.h>; the verifier has no public API because nothing
 * but an operator's tool should open a node's files behind its back.
 *
 * Safety: it takes the data directory's lock (the one gq_node_open() takes,
 * gq__dir_lock()) for the whole run, so it refuses to run beside a gqd and
 * no gqd can start while it runs.  Without --repair it changes nothing but
 * the lock file's pid and LMDB's reader table (index.lmdb-lock, not data).
 * --repair runs the library's own recovery, gq__plog_open(), on each
 * damaged partition, exactly what the node would do at its next start
 * (cut torn tails, drop a bad batch and everything after it so Raft
 * replays them, delete unreferenced files), then checks again; damage the
 * recovery refuses (a missing segment, an inconsistent index) or does not
 * look for (a bad batch inside an older, full-sized segment) remains and
 * is reported.
 *
 * Partitions are found two ways and merged: the directories
 * data/<topic>.<id>/<partition>/segments (the layout of lib/topic.c and
 * lib/partition.c), and every partition uid with records in the index, so
 * records whose directory vanished are reported too.
 */
#include "gqctl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <goqueue.h>
#include <jansson.h>

#include "fsutil.h"
#include "heap.h"
#include "human.h"
#include "plog.h"
#include "progress.h"
#include "store.h"

/* Problems printed per partition and pass; the rest are counted. */
#define SHOW_MAX 50

/* Partition uids are the topic id shifted over the partition index, as
 * gq__part_uid() (lib/node.h) makes them. */
#define UID_SHIFT 20

struct part {
	char *topic; /* from its directory, or "#<id>" */
	uint32_t topic_id;
	int32_t index;
	uint64_t uid;
	char *segdir; /* <dir>/data/<topic>.<id>/<index>/segments */
	bool has_dir; /* the partition's directory exists */
	struct gq__plog_verify_report rep;
	uint64_t problems;  /* before any repair */
	uint64_t remaining; /* after --repair */
	json_t *json;       /* its object in the --json document */
};

struct check {
	struct gqctl *g;
	const char *dir;
	bool repair;
	struct gq__store *st;
	struct part *parts;
	size_t nparts;
	size_t cap;
	struct progress bar;

	/* The partition being checked and the pass. */
	struct part *cur;
	bool after;
	uint64_t shown;
	json_t *jproblems;
};

static int
on_opt(void *arg, int opt, const char *val)
{
	struct check *c = arg;

	(void)val;
	if (opt == 'r')
		c->repair = true;
	return 0;
}

static struct part *
add_part(struct check *c, const char *topic, uint32_t id, int32_t index,
	 const char *topic_dir)
{
	struct part *p;
	struct stat sb;

	if (c->nparts == c->cap) {
		size_t cap = c->cap == 0 ? 32 : c->cap * 2;

		p = realloc(c->parts, cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		c->parts = p;
		c->cap = cap;
	}
	p = &c->parts[c->nparts];
	memset(p, 0, sizeof(*p));
	p->topic_id = id;
	p->index = index;
	p->uid = (uint64_t)id << UID_SHIFT | (uint64_t)index;
	if ((p->topic = strdup(topic)) == NULL ||
	    asprintf(&p->segdir, "%s/%d/segments", topic_dir, (int)index) < 0) {
		free(p->topic);
		return NULL;
	}
	p->has_dir = stat(p->segdir, &sb) == 0;
	c->nparts++;
	return p;
}

/* All digits, and at most @max. */
static bool
number(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' && *out <= max;
}

/* The partitions of one topic directory, data/<topic>.<id>. */
static int
scan_topic(struct check *c, const char *path, const char *topic, uint32_t id)
{
	unsigned long long index;
	struct dirent *e;
	DIR *d;

	if ((d = opendir(path)) == NULL)
		return 0; /* not a directory: not ours */
	while ((e = readdir(d)) != NULL) {
		if (!number(e->d_name, (1u << UID_SHIFT) - 1, &index))
			continue;
		if (add_part(c, topic, id, (int32_t)index, path) == NULL) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

static int
scan_data(struct check *c)
{
	unsigned long long id;
	struct dirent *e;
	char *path = NULL;
	char *topic;
	char *dot;
	DIR *d;
	int rv = 0;

	if (asprintf(&path, "%s/data", c->dir) < 0)
		return -1;
	d = opendir(path);
	free(path);
	if (d == NULL)
		return 0; /* a node that never had a topic */
	while (rv == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' ||
		    (dot = strrchr(e->d_name, '.')) == NULL ||
		    !number(dot + 1, UINT32_MAX, &id))
			continue;
		if ((topic = strndup(e->d_name, (size_t)(dot - e->d_name))) ==
			    NULL ||
		    asprintf(&path, "%s/data/%s", c->dir, e->d_name) < 0) {
			free(topic);
			rv = -1;
			break;
		}
		rv = scan_topic(c, path, topic, (uint32_t)id);
		free(topic);
		free(path);
	}
	closedir(d);
	return rv;
}

static int
cmp_uid(const void *a, const void *b)
{
	const struct part *x = a;
	const struct part *y = b;

	return (x->uid > y->uid) - (x->uid < y->uid);
}

static int
cmp_name(const void *a, const void *b)
{
	const struct part *x = a;
	const struct part *y = b;
	int r = strcmp(x->topic, y->topic);

	if (r != 0)
		return r;
	return (x->index > y->index) - (x->index < y->index);
}

/* Partitions with index records but no directory. */
static int
add_orphans(struct check *c, char *errmsg)
{
	uint64_t *uids = NULL;
	struct part key;
	const char *topic;
	char name[32];
	char *tdir;
	size_t n = 0;
	size_t known;
	size_t i;
	size_t j;
	int rv;

	if ((rv = gq__plog_list_uids(c->st, &uids, &n)) != 0) {
		snprintf(errmsg, GQ_ERRMSG_SIZE, "%s/%s: %s", c->dir,
			 GQ__STORE_FILE, gq_strerror(rv));
		return rv;
	}
	known = c->nparts;
	if (known > 1)
		qsort(c->parts, known, sizeof(*c->parts), cmp_uid);
	for (i = 0; i < n; i++) {
		key.uid = uids[i];
		if (known > 0 && bsearch(&key, c->parts, known,
					 sizeof(*c->parts), cmp_uid) != NULL)
			continue;
		/* Name it after a directory of the same topic id if any. */
		snprintf(name, sizeof(name), "#%" PRIu64, uids[i] >> UID_SHIFT);
		topic = name;
		for (j = 0; j < known; j++)
			if (c->parts[j].topic_id == uids[i] >> UID_SHIFT)
				topic = c->parts[j].topic;
		if (asprintf(&tdir, "%s/data/%s.%" PRIu64, c->dir, topic,
			     uids[i] >> UID_SHIFT) < 0 ||
		    add_part(c, topic, (uint32_t)(uids[i] >> UID_SHIFT),
			     (int32_t)(uids[i] & ((1u << UID_SHIFT) - 1)),
			     tdir) == NULL) {
			gq__free(uids);
			snprintf(errmsg, GQ_ERRMSG_SIZE, "out of memory");
			return GQ_ENOMEM;
		}
		free(tdir);
	}
	gq__free(uids);
	return 0;
}

static const char *
plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void
on_problem(void *arg, const struct gq__plog_problem *pr)
{
	struct check *c = arg;
	char file[32];
	char where[96];
	json_t *o;

	if (pr->segment >= 0)
		snprintf(file, sizeof(file), "%020" PRId64 ".log", pr->segment);
	else
		snprintf(file, sizeof(file), "%s", GQ__STORE_FILE);
	if (c->g->json) {
		o = json_pack("{s:s, s:s?, s:o, s:o, s:s}", "kind",
			      gq__plog_problem_name(pr->kind), "file",
			      pr->segment >= 0 ? file : NULL, "offset",
			      pr->offset >= 0 ? json_integer(pr->offset)
					      : json_null(),
			      "position",
			      pr->position != UINT64_MAX
				      ? json_integer((json_int_t)pr->position)
				      : json_null(),
			      "detail", pr->detail);
		json_array_append_new(c->jproblems, o);
		return;
	}
	if (++c->shown > SHOW_MAX)
		return;
	where[0] = '\0';
	if (pr->offset >= 0 && pr->position != UINT64_MAX)
		snprintf(where, sizeof(where),
			 "offset %" PRId64 ", byte %" PRIu64 ": ", pr->offset,
			 pr->position);
	else if (pr->offset >= 0)
		snprintf(where, sizeof(where), "offset %" PRId64 ": ",
			 pr->offset);
	else if (pr->position != UINT64_MAX)
		snprintf(where, sizeof(where), "byte %" PRIu64 ": ",
			 pr->position);
	progress_clear(&c->bar);
	printf("%s%s/%d: %s: %s%s: %s\n", c->after ? "after repair: " : "",
	       c->cur->topic, (int)c->cur->index, file, where,
	       gq__plog_problem_name(pr->kind), pr->detail);
}

/* Verify one partition; the problems are printed, or with --json
 * collected into *problems (owned by the caller). */
static int
verify_part(struct check *c, struct part *p, bool after, json_t **problems,
	    char *errmsg)
{
	struct gq__plog_verify_report rep;
	int rv;

	*problems = NULL;
	c->cur = p;
	c->after = after;
	c->shown = 0;
	c->jproblems = c->g->json ? json_array() : NULL;
	if (c->g->json && c->jproblems == NULL) {
		snprintf(errmsg, GQ_ERRMSG_SIZE, "out of memory");
		return GQ_ENOMEM;
	}
	rv = gq__plog_verify(c->st, p->uid, p->segdir, on_problem, c, &rep,
			     errmsg);
	if (rv != 0) {
		json_decref(c->jproblems);
		return rv;
	}
	if (!after) {
		p->rep = rep;
		p->problems = rep.problems;
	}
	p->remaining = rep.problems;
	if (!c->g->json && c->shown > SHOW_MAX)
		printf("%s%s/%d: %" PRIu64 " more problems not shown\n",
		       after ? "after repair: " : "", p->topic, (int)p->index,
		       c->shown - SHOW_MAX);
	*problems = c->jproblems;
	return 0;
}

static json_t *
part_json(const struct part *p)
{
	return json_pack(
		"{s:s, s:i, s:I, s:s?, s:I, s:I, s:I, s:i, s:I, s:I}", "topic",
		p->topic, "partition", (int)p->index, "uid", (json_int_t)p->uid,
		"dir", p->has_dir ? p->segdir : NULL, "log_start",
		(json_int_t)p->rep.log_start, "next_offset",
		(json_int_t)p->rep.next_offset, "applied_index",
		(json_int_t)p->rep.applied, "segments", (int)p->rep.segments,
		"batches", (json_int_t)p->rep.batches, "bytes",
		(json_int_t)p->rep.bytes);
}

/* The library's recovery on one damaged partition. */
static int
repair_part(struct check *c, struct part *p)
{
	struct gq__plog_conf conf;
	struct gq__plog_recovery rec;
	struct gq__plog *pl;
	char errmsg[GQ_ERRMSG_SIZE];
	char cut[32];
	int rv;

	if (!p->has_dir) {
		/* gq__plog_open() would create an empty directory and still
		 * find the index's segments missing. */
		rv = GQ_ECORRUPT;
		snprintf(errmsg, sizeof(errmsg),
			 "its directory is missing; recovery cannot rebuild "
			 "it");
		goto failed;
	}
	/* Policy is irrelevant to recovery; nothing is appended. */
	memset(&conf, 0, sizeof(conf));
	conf.segment_size = UINT64_MAX;
	conf.retention_ms = -1;
	conf.retention_bytes = -1;
	memset(&rec, 0, sizeof(rec));
	rv = gq__plog_open(c->st, p->uid, p->segdir, &conf, &pl, &rec, errmsg);
	if (rv != 0)
		goto failed;
	gq__plog_close(pl);
	if (c->g->json) {
		json_object_set_new(p->json, "repair",
				    json_pack("{s:b, s:I, s:I, s:i, s:n}",
					      "repaired", rec.repaired,
					      "truncated_bytes",
					      (json_int_t)rec.truncated_bytes,
					      "dropped_batches",
					      (json_int_t)rec.dropped_batches,
					      "removed_files",
					      (int)rec.removed_files, "error"));
		return 0;
	}
	human_size(cut, sizeof(cut), rec.truncated_bytes);
	progress_clear(&c->bar);
	if (!rec.repaired)
		printf("repair: %s/%d: recovery changed nothing\n", p->topic,
		       (int)p->index);
	else
		printf("repair: %s/%d: %s cut, %" PRIu64 " %s dropped%s, "
		       "%" PRIu32 " %s deleted\n",
		       p->topic, (int)p->index, cut, rec.dropped_batches,
		       plural(rec.dropped_batches, "batch", "batches"),
		       rec.dropped_batches > 0
			       ? " (the node replays them from its Raft log "
				 "or a replica at its next start)"
			       : "",
		       rec.removed_files,
		       plural(rec.removed_files, "file", "files"));
	return 0;
failed:
	if (c->g->json) {
		json_object_set_new(
			p->json, "repair",
			json_pack("{s:b, s:i, s:i, s:i, s:s}", "repaired", 0,
				  "truncated_bytes", 0, "dropped_batches", 0,
				  "removed_files", 0, "error", errmsg));
	} else {
		progress_clear(&c->bar);
		printf("repair: %s/%d: cannot repair (%s): %s\n", p->topic,
		       (int)p->index, gq_strerror(rv), errmsg);
	}
	/* Other errors than the damage itself stop the run. */
	return rv == GQ_ECORRUPT ? 0 : rv;
}

static void
label(const struct part *p, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%d", p->topic, (int)p->index);
}

/* Pass 1: verify every partition. */
static int
check_all(struct check *c, json_t *jparts, uint64_t *damaged)
{
	char errmsg[GQ_ERRMSG_SIZE];
	char name[300];
	json_t *problems;
	size_t i;
	int rv;

	*damaged = 0;
	progress_start(&c->bar, c->g->progress, "checking", c->nparts);
	for (i = 0; i < c->nparts; i++) {
		struct part *p = &c->parts[i];

		label(p, name, sizeof(name));
		progress_update(&c->bar, i, name);
		if ((rv = verify_part(c, p, false, &problems, errmsg)) != 0)
			goto failed;
		if (p->problems > 0)
			(*damaged)++;
		if (!c->g->json)
			continue;
		if ((p->json = part_json(p)) == NULL ||
		    json_object_set_new(p->json, "problems", problems) != 0 ||
		    json_array_append_new(jparts, p->json) != 0) {
			progress_finish(&c->bar);
			gqctl_err("check-store: out of memory");
			return GQCTL_FAILED;
		}
	}
	progress_update(&c->bar, c->nparts, NULL);
	progress_finish(&c->bar);
	return GQCTL_OK;
failed:
	progress_finish(&c->bar);
	gqctl_err("check-store: %s/%d: %s", c->parts[i].topic,
		  (int)c->parts[i].index, errmsg);
	return GQCTL_FAILED;
}

/* Pass 2 (--repair): recover each damaged partition, verify it again. */
static int
repair_all(struct check *c, uint64_t damaged, uint64_t *remaining)
{
	char errmsg[GQ_ERRMSG_SIZE];
	char name[300];
	json_t *problems;
	size_t i;
	int rv;

	*remaining = 0;
	progress_start(&c->bar, c->g->progress, "repairing", damaged);
	for (i = 0; i < c->nparts; i++) {
		struct part *p = &c->parts[i];

		if (p->problems == 0)
			continue;
		label(p, name, sizeof(name));
		progress_update(&c->bar, c->bar.done, name);
		if ((rv = repair_part(c, p)) != 0) {
			snprintf(errmsg, sizeof(errmsg), "repair: %s",
				 gq_strerror(rv));
			goto failed;
		}
		if ((rv = verify_part(c, p, true, &problems, errmsg)) != 0)
			goto failed;
		if (p->remaining > 0)
			(*remaining)++;
		if (c->g->json &&
		    json_object_set_new(p->json, "remaining", problems) != 0) {
			snprintf(errmsg, sizeof(errmsg), "out of memory");
			goto failed;
		}
		progress_update(&c->bar, c->bar.done + 1, name);
	}
	progress_finish(&c->bar);
	return GQCTL_OK;
failed:
	progress_finish(&c->bar);
	gqctl_err("check-store: %s/%d: %s", c->parts[i].topic,
		  (int)c->parts[i].index, errmsg);
	return GQCTL_FAILED;
}

struct totals {
	uint64_t segments;
	uint64_t batches;
	uint64_t bytes;
	uint64_t problems;
	uint64_t remaining;
};

static void
add_up(const struct check *c, struct totals *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < c->nparts; i++) {
		t->segments += c->parts[i].rep.segments;
		t->batches += c->parts[i].rep.batches;
		t->bytes += c->parts[i].rep.bytes;
		t->problems += c->parts[i].problems;
		t->remaining += c->parts[i].remaining;
	}
}

/* The human line after pass 1. */
static void
print_found(const struct check *c, uint64_t damaged)
{
	struct totals t;
	char size[32];

	add_up(c, &t);
	human_size(size, sizeof(size), t.bytes);
	printf("checked %zu %s (%" PRIu64 " %s, %" PRIu64 " %s, %s) in %s: ",
	       c->nparts, plural(c->nparts, "partition", "partitions"),
	       t.segments, plural(t.segments, "segment", "segments"), t.batches,
	       plural(t.batches, "batch", "batches"), size, c->dir);
	if (t.problems == 0)
		printf("clean\n");
	else
		printf("%" PRIu64 " %s in %" PRIu64 " %s\n", t.problems,
		       plural(t.problems, "problem", "problems"), damaged,
		       plural(damaged, "partition", "partitions"));
	if (t.problems > 0 && !c->repair)
		printf("run 'gqctl check-store %s --repair' to repair what "
		       "the node's recovery can\n",
		       c->dir);
}

/* The human line after a repair. */
static void
print_repaired(const struct check *c, uint64_t remaining)
{
	struct totals t;

	add_up(c, &t);
	if (t.remaining == 0)
		printf("after repair: clean\n");
	else
		printf("after repair: %" PRIu64 " %s left in %" PRIu64
		       " %s, which the node's recovery cannot repair (restore "
		       "those partitions from a replica or a backup)\n",
		       t.remaining, plural(t.remaining, "problem", "problems"),
		       remaining, plural(remaining, "partition", "partitions"));
}

/* The --json document's summary. */
static int
print_json(const struct check *c, json_t *doc, uint64_t damaged,
	   uint64_t remaining)
{
	struct totals t;
	uint64_t left;

	add_up(c, &t);
	left = c->repair ? t.remaining : t.problems;
	json_object_set_new(
		doc, "summary",
		json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			  "partitions", (json_int_t)c->nparts, "segments",
			  (json_int_t)t.segments, "batches",
			  (json_int_t)t.batches, "bytes", (json_int_t)t.bytes,
			  "problems", (json_int_t)t.problems,
			  "damaged_partitions", (json_int_t)damaged,
			  "remaining_problems", (json_int_t)left,
			  "remaining_damaged_partitions",
			  (json_int_t)(c->repair ? remaining : damaged)));
	json_object_set_new(doc, "clean", json_boolean(left == 0));
	return gqctl_print_json(json_incref(doc));
}

/* Both passes and the report; returns the exit code. */
static int
run(struct check *c, json_t *doc)
{
	uint64_t damaged;
	uint64_t remaining = 0;
	struct totals t;
	int rv;

	if ((rv = check_all(c, json_object_get(doc, "partitions"), &damaged)) !=
	    GQCTL_OK)
		return rv;
	if (!c->g->json)
		print_found(c, damaged);
	if (c->repair && damaged > 0) {
		if ((rv = repair_all(c, damaged, &remaining)) != GQCTL_OK)
			return rv;
		if (!c->g->json)
			print_repaired(c, remaining);
	} else {
		/* Nothing repaired: what is left is what was found. */
		for (size_t i = 0; i < c->nparts; i++)
			c->parts[i].remaining = c->parts[i].problems;
		remaining = damaged;
	}
	if (c->g->json && print_json(c, doc, damaged, remaining) != GQCTL_OK)
		return GQCTL_FAILED;
	add_up(c, &t);
	return t.remaining == 0 ? GQCTL_OK : GQCTL_DAMAGE;
}

/* The store itself is unreadable: that is damage too, and nothing here
 * can repair it. */
static int
store_damaged(struct check *c, const char *errmsg)
{
	json_t *doc;

	if (!c->g->json) {
		printf("%s: %s\n", GQ__STORE_FILE, errmsg);
		printf("checked 0 partitions in %s: the index cannot be "
		       "read\n",
		       c->dir);
		return GQCTL_DAMAGE;
	}
	doc = json_pack("{s:s, s:b, s:[], s:{s:s}, s:b}", "dir", c->dir,
			"repair", c->repair, "partitions", "store", "error",
			errmsg, "clean", 0);
	return gqctl_print_json(doc) == GQCTL_OK ? GQCTL_DAMAGE : GQCTL_FAILED;
}

static int
check_store(struct gqctl *g, int argc, char **argv)
{
	struct check c;
	char errmsg[GQ_ERRMSG_SIZE] = "";
	json_t *doc = NULL;
	struct stat sb;
	char *path = NULL;
	bool help;
	int first;
	int lock;
	int rv;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.g = g;
	if ((rv = gqctl_parse(g, argc, argv, on_opt, &c, &first, &help)) !=
		    GQCTL_OK ||
	    help)
		return rv;
	if ((rv = gqctl_want_args(g, argc, argv, first, 1, "DIR")) != GQCTL_OK)
		return rv;
	c.dir = argv[first];
	if (stat(c.dir, &sb) != 0) {
		gqctl_err("check-store: %s: %s", c.dir, strerror(errno));
		return GQCTL_FAILED;
	}
	if (!S_ISDIR(sb.st_mode)) {
		gqctl_err("check-store: %s: not a directory", c.dir);
		return GQCTL_FAILED;
	}
	if (asprintf(&path, "%s/%s", c.dir, GQ__STORE_FILE) < 0) {
		gqctl_err("check-store: out of memory");
		return GQCTL_FAILED;
	}
	rv = stat(path, &sb);
	free(path);
	if (rv != 0) {
		gqctl_err("check-store: %s: not a goqueue data directory (no "
			  "%s)",
			  c.dir, GQ__STORE_FILE);
		return GQCTL_FAILED;
	}
	if ((lock = gq__dir_lock(c.dir, errmsg)) < 0) {
		if (lock == GQ_EBUSY)
			gqctl_err("check-store: %s is in use by a running gqd "
				  "(it holds %s/LOCK); stop it first",
				  c.dir, c.dir);
		else
			gqctl_err("check-store: %s", errmsg);
		return GQCTL_FAILED;
	}
	if ((rv = gq__store_open(c.dir, &c.st, errmsg)) != 0) {
		if (rv == GQ_ECORRUPT) {
			rv = store_damaged(&c, errmsg);
		} else {
			gqctl_err("check-store: %s", errmsg);
			rv = GQCTL_FAILED;
		}
		goto out_unlock;
	}
	rv = GQCTL_FAILED;
	if (scan_data(&c) != 0) {
		gqctl_err("check-store: %s: out of memory", c.dir);
		goto out_store;
	}
	if (add_orphans(&c, errmsg) != 0) {
		gqctl_err("check-store: %s", errmsg);
		goto out_store;
	}
	if (c.nparts > 1)
		qsort(c.parts, c.nparts, sizeof(*c.parts), cmp_name);
	if (g->json &&
	    (doc = json_pack("{s:s, s:b, s:[]}", "dir", c.dir, "repair",
			     c.repair, "partitions")) == NULL) {
		gqctl_err("check-store: out of memory");
		goto out_store;
	}
	rv = run(&c, doc);
	json_decref(doc);
out_store:
	gq__store_close(c.st);
	for (i = 0; i < c.nparts; i++) {
		free(c.parts[i].topic);
		free(c.parts[i].segdir);
	}
	free(c.parts);
out_unlock:
	gq__dir_unlock(lock);
	return rv;
}

static const struct option check_store_options[] = {
	{ "repair", no_argument, NULL, 'r' },
	{ NULL, 0, NULL, 0 },
};

const struct gqctl_cmd gqctl_check_store_cmds[] = {
	{ "check-store", NULL, "DIR [--repair]",
	  "Verify or repair a stopped node's data directory",
	  "  DIR           the node's data directory (gqd's -data-dir); the "
	  "node must be\n"
	  "                stopped: check-store takes its lock\n"
	  "  -r, --repair  run the node's recovery on each damaged partition "
	  "(cut torn\n"
	  "                tails, drop bad batches and what follows them, "
	  "delete\n"
	  "                unreferenced files), then check again\n"
	  "\n"
	  "Checked: the index (LMDB) against the segment files (missing, "
	  "extra and\n"
	  "short segments, bytes past the indexed end), every batch's header "
	  "and\n"
	  "CRC-32C, offsets contiguous from the log start to the next "
	  "offset, the\n"
	  "time index, the partition metadata.  Each problem is one line:\n"
	  "  TOPIC/PARTITION: FILE: offset N, byte P: KIND: detail\n"
	  "Exit status: 0 clean (after --repair: clean now), 4 damage found "
	  "(or left),\n"
	  "1 cannot check (the node is running, not a data directory, I/O "
	  "error).\n",
	  "  systemctl stop gqd\n"
	  "  gqctl check-store /var/lib/gqd || gqctl check-store "
	  "/var/lib/gqd --repair\n",
	  check_store, check_store_options },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
