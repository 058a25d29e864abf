/* SPDX-License-Identifier: MIT */
/*
 * cmd_produce.c - `gqctl topic produce TOPIC [FILE...]`: one message per
 * line of stdin or of the files, sent over the Kafka port through a node
 * connected to the brokers (client.h; public API only).
 *
 * Lines collect in a pending batch that goes out as one
 * gq_produce_async() call when it is full, when the next line cannot
 * join it, before a read that may block (so a slow or interactive stream
 * is sent as it comes, never held back), and before the rate limiter
 * sleeps.  At most MAX_INFLIGHT calls and MAX_INFLIGHT_BYTES are out at
 * once; their callbacks, on the node's loop thread, count deliveries
 * under `lock`, and the command exits only once every call has answered.
 *
 * Which lines share a batch: one call writes one partition, which the
 * library picks from the batch's first message (its key's hash, or round
 * robin without a key) unless --partition says.  So a batch only holds
 * messages that partitioner sends to the same place: any with
 * --partition; keyless ones together (round robin by batch, as Kafka's
 * sticky partitioner does); keyed ones only with the same key.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"
#include "gqctl.h"
#include "human.h"
#include "lines.h"
#include "progress.h"

#define BATCH_MSGS         1000
#define BATCH_BYTES_MAX    (1u << 20)
#define MAX_INFLIGHT       32
#define MAX_INFLIGHT_BYTES (32u << 20)
/* What a record costs beyond its key, value and headers in a batch
 * (length, attributes, deltas, counts as varints), with room to spare. */
#define RECORD_OVERHEAD 24
#define HEADER_OVERHEAD 12

enum {
	OPT_RATE = 256,
	OPT_NULL_VALUE,
	OPT_SKIP_EMPTY,
};

/* The command line. */
struct popts {
	const struct gqctl *g;
	char *key_sep; /* NULL: no keys */
	size_t key_sep_len;
	struct gq_header *headers;
	size_t n_headers;
	long long partition; /* -1: the library's partitioner */
	long long rate;      /* messages per second, 0 unlimited */
	bool null_value;
	bool skip_empty;
	bool oom;
};

/* A message of the pending batch: offsets into producer.data, which may
 * move as it grows. */
struct pmsg {
	size_t key_off;
	size_t key_len;
	size_t value_off;
	size_t value_len;
	bool has_key;
	bool has_value;
};

/* A growing byte buffer. */
struct gbuf {
	char *p;
	size_t len;
	size_t cap;
};

/* What was delivered to one partition. */
struct acc {
	uint64_t messages;
	gq_offset first;
	gq_offset last;
};

struct producer {
	const struct popts *o;
	struct gq_node *node;
	const char *topic;
	int32_t partition; /* GQ_PARTITION_ANY or --partition */
	int32_t n_parts;
	size_t batch_cap; /* estimated bytes per batch */
	size_t headers_bytes;

	/* The input. */
	struct lines in;
	struct progress prog;
	int read_errno;
	const char *read_source;

	/* The pending batch. */
	struct gbuf data;
	struct pmsg *pm;
	size_t n_pm;
	size_t cap_pm;
	struct gq_msg *msgs;
	size_t cap_msgs;
	size_t pend_est;
	const char *pend_source;
	uint64_t pend_line;

	/* The rate limiter: a token bucket. */
	double tokens;
	double max_tokens;
	uint64_t last_ns;

	/* Shared with the callbacks on the loop thread. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t inflight;
	uint64_t inflight_bytes;
	uint64_t delivered;
	uint64_t delivered_bytes;
	uint64_t failed;
	struct acc *acc;
	int first_err;
	char first_msg[GQ_ERRMSG_SIZE + 128];
	bool fatal; /* stop reading: nothing more can succeed */
};

/* One gq_produce_async() call in flight. */
struct call {
	struct producer *pr;
	size_t count;
	uint64_t bytes;
	uint64_t est;
	const char *source;
	uint64_t line;
};

static int
gbuf_append(struct gbuf *b, const void *p, size_t n)
{
	size_t cap;
	char *q;

	if (b->len + n > b->cap) {
		cap = b->cap > 0 ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		if ((q = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = q;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* ---- accounting (under pr->lock) --------------------------------------- */

/* Keep the first failure's story: where, and why. */
static void
note_error(struct producer *pr, int err, size_t count, const char *source,
	   uint64_t line, const char *detail)
{
	const char *why;

	if (pr->first_err != 0)
		return;
	why = gq_strerror(err);
	pr->first_err = err;
	if (detail == NULL || detail[0] == '\0' || strcmp(detail, why) == 0)
		detail = NULL;
	snprintf(pr->first_msg, sizeof(pr->first_msg),
		 "%s line %" PRIu64 " of %s: %s%s%s",
		 count > 1 ? "the batch from" : "the message at", line, source,
		 why, detail != NULL ? ": " : "", detail != NULL ? detail : "");
}

static bool
fatal_error(int err)
{
	/* Per-message errors (too big) leave the rest to try; these do not. */
	return err == GQ_ENOTOPIC || err == GQ_ECLOSED || err == GQ_ENOMEM ||
	       err == GQ_EINVAL;
}

static void
delivered(void *arg, int status, int32_t partition, gq_offset base)
{
	struct call *c = arg;
	struct producer *pr = c->pr;
	struct acc *a;

	pthread_mutex_lock(&pr->lock);
	if (status == 0) {
		pr->delivered += c->count;
		pr->delivered_bytes += c->bytes;
		if (partition >= 0 && partition < pr->n_parts) {
			a = &pr->acc[partition];
			if (a->messages == 0 || base < a->first)
				a->first = base;
			if (base + (gq_offset)c->count - 1 > a->last)
				a->last = base + (gq_offset)c->count - 1;
			a->messages += c->count;
		}
	} else {
		pr->failed += c->count;
		note_error(pr, status, c->count, c->source, c->line, NULL);
	}
	pr->inflight--;
	pr->inflight_bytes -= c->est;
	pthread_cond_signal(&pr->cond);
	pthread_mutex_unlock(&pr->lock);
	free(c);
}

/* ---- the pending batch ------------------------------------------------- */

static void
reset_pending(struct producer *pr)
{
	pr->data.len = 0;
	pr->n_pm = 0;
	pr->pend_est = 0;
}

/* Send the pending batch (if any) as one call, once the in-flight limits
 * allow. */
static void
flush(struct producer *pr)
{
	const struct popts *o = pr->o;
	struct gq_msg *m;
	struct call *c;
	uint64_t bytes = 0;
	size_t n = pr->n_pm;
	size_t i;
	int rv;

	if (n == 0)
		return;
	if (n > pr->cap_msgs) {
		free(pr->msgs);
		pr->cap_msgs = pr->cap_pm;
		if ((pr->msgs = calloc(pr->cap_msgs, sizeof(*m))) == NULL)
			pr->cap_msgs = 0;
	}
	if (pr->msgs == NULL || (c = calloc(1, sizeof(*c))) == NULL) {
		pthread_mutex_lock(&pr->lock);
		pr->failed += n;
		note_error(pr, GQ_ENOMEM, n, pr->pend_source, pr->pend_line,
			   NULL);
		pr->fatal = true;
		pthread_mutex_unlock(&pr->lock);
		reset_pending(pr);
		return;
	}
	for (i = 0; i < n; i++) {
		m = &pr->msgs[i];
		memset(m, 0, sizeof(*m));
		m->key = pr->pm[i].has_key ? pr->data.p + pr->pm[i].key_off
					   : NULL;
		m->key_len = pr->pm[i].key_len;
		/* A non-null empty value still needs a non-NULL pointer. */
		m->value = pr->pm[i].has_value
				   ? pr->data.p + pr->pm[i].value_off
				   : NULL;
		m->value_len = pr->pm[i].value_len;
		m->headers = o->headers;
		m->header_count = o->n_headers;
		bytes += pr->pm[i].key_len + pr->pm[i].value_len;
	}
	c->pr = pr;
	c->count = n;
	c->bytes = bytes;
	c->est = pr->pend_est;
	c->source = pr->pend_source;
	c->line = pr->pend_line;
	pthread_mutex_lock(&pr->lock);
	while (pr->inflight >= MAX_INFLIGHT ||
	       (pr->inflight > 0 &&
		pr->inflight_bytes + c->est > MAX_INFLIGHT_BYTES))
		pthread_cond_wait(&pr->cond, &pr->lock);
	pr->inflight++;
	pr->inflight_bytes += c->est;
	pthread_mutex_unlock(&pr->lock);
	rv = gq_produce_async(pr->node, pr->topic, pr->partition, pr->msgs, n,
			      delivered, c);
	if (rv != 0) {
		/* The callback will not run: undo and count the failure. */
		pthread_mutex_lock(&pr->lock);
		pr->inflight--;
		pr->inflight_bytes -= c->est;
		pr->failed += n;
		note_error(pr, rv, n, c->source, c->line,
			   gq_node_errmsg(pr->node));
		if (fatal_error(rv))
			pr->fatal = true;
		pthread_mutex_unlock(&pr->lock);
		free(c);
	}
	reset_pending(pr);
}

/* Whether a message with this key may join the pending batch (see the
 * top of the file). */
static bool
can_join(const struct producer *pr, bool has_key, const char *key,
	 size_t key_len, size_t est)
{
	const struct pmsg *first;

	if (pr->n_pm == 0)
		return true;
	first = &pr->pm[0];
	if (pr->n_pm >= BATCH_MSGS || pr->pend_est + est > pr->batch_cap)
		return false;
	if (pr->partition != GQ_PARTITION_ANY)
		return true;
	if (!has_key || !first->has_key)
		return !has_key && !first->has_key;
	return key_len == first->key_len &&
	       memcmp(key, pr->data.p + first->key_off, key_len) == 0;
}

/* Add the message of one input line to the pending batch. */
static void
add_line(struct producer *pr, const char *line, size_t len)
{
	const struct popts *o = pr->o;
	const char *key = NULL;
	const char *value = line;
	const char *sep = NULL;
	size_t key_len = 0;
	size_t value_len = len;
	struct pmsg *pm;
	size_t est;
	size_t cap;

	if (o->key_sep != NULL && len >= o->key_sep_len)
		sep = memmem(line, len, o->key_sep, o->key_sep_len);
	if (sep != NULL) {
		key = line;
		key_len = (size_t)(sep - line);
		value = sep + o->key_sep_len;
		value_len = len - key_len - o->key_sep_len;
	}
	est = key_len + value_len + pr->headers_bytes + RECORD_OVERHEAD;
	if (!can_join(pr, key != NULL, key, key_len, est))
		flush(pr);
	if (pr->n_pm == pr->cap_pm) {
		cap = pr->cap_pm > 0 ? pr->cap_pm * 2 : 64;
		if ((pm = realloc(pr->pm, cap * sizeof(*pm))) == NULL)
			goto nomem;
		pr->pm = pm;
		pr->cap_pm = cap;
	}
	pm = &pr->pm[pr->n_pm];
	memset(pm, 0, sizeof(*pm));
	pm->has_key = key != NULL;
	pm->key_off = pr->data.len;
	pm->key_len = key_len;
	if (gbuf_append(&pr->data, key, key_len) != 0)
		goto nomem;
	pm->has_value = value_len > 0 || !o->null_value;
	pm->value_off = pr->data.len;
	pm->value_len = value_len;
	if (gbuf_append(&pr->data, value, value_len) != 0)
		goto nomem;
	if (pr->n_pm == 0) {
		pr->pend_source = pr->in.name;
		pr->pend_line = pr->in.lineno;
	}
	pr->n_pm++;
	pr->pend_est += est;
	return;
nomem:
	pthread_mutex_lock(&pr->lock);
	pr->failed++;
	note_error(pr, GQ_ENOMEM, 1, pr->in.name, pr->in.lineno, NULL);
	pr->fatal = true;
	pthread_mutex_unlock(&pr->lock);
}

/* Wait for a token of the --rate bucket. */
static void
rate_wait(struct producer *pr)
{
	uint64_t now;
	double ms;

	if (pr->o->rate <= 0)
		return;
	for (;;) {
		now = client_now_ns();
		pr->tokens +=
			(double)(now - pr->last_ns) * (double)pr->o->rate / 1e9;
		if (pr->tokens > pr->max_tokens)
			pr->tokens = pr->max_tokens;
		pr->last_ns = now;
		if (pr->tokens >= 1.0 || client_stopped())
			break;
		/* What was read goes now, not after the wait. */
		flush(pr);
		ms = (1.0 - pr->tokens) * 1000.0 / (double)pr->o->rate;
		client_sleep_ms(ms < 1.0 ? 1 : (uint64_t)ms);
	}
	pr->tokens -= 1.0;
}

/* ---- input ------------------------------------------------------------- */

/* lines.before_wait: do not hold a batch back while waiting for input
 * that may take its time (a pipe, a terminal). */
static void
before_wait(void *arg)
{
	flush(arg);
}

/* Produce every line of the open input pr->in.  false on a read error
 * (kept in read_errno) or once nothing more can be sent. */
static bool
produce_input(struct producer *pr)
{
	const char *line;
	size_t len;
	bool too_long;
	bool fatal;
	int rv;

	while ((rv = lines_next(&pr->in, &line, &len, &too_long)) == 1) {
		if (too_long) {
			char why[96];

			snprintf(why, sizeof(why),
				 "longer than max_message_size (%zu bytes)",
				 pr->in.max_len);
			pthread_mutex_lock(&pr->lock);
			pr->failed++;
			note_error(pr, GQ_ETOOBIG, 1, pr->in.name,
				   pr->in.lineno, why);
			pthread_mutex_unlock(&pr->lock);
			continue;
		}
		if (len == 0 && pr->o->skip_empty)
			continue;
		rate_wait(pr);
		add_line(pr, line, len);
		/* fatal is written under the lock by callbacks too. */
		pthread_mutex_lock(&pr->lock);
		fatal = pr->fatal;
		pthread_mutex_unlock(&pr->lock);
		if (fatal || client_stopped())
			return !fatal;
	}
	if (rv < 0) {
		pr->read_errno = errno;
		pr->read_source = pr->in.name;
		return false;
	}
	return true;
}

/* ---- the command ------------------------------------------------------- */

static int
produce_opt(void *arg, int opt, const char *val)
{
	struct popts *o = arg;
	struct gq_header *h;
	const char *eq;

	switch (opt) {
	case 'K':
		free(o->key_sep);
		o->key_sep = NULL;
		if (!client_unescape(val, &o->key_sep, &o->key_sep_len)) {
			gqctl_usage(o->g, "--key-separator: must not be empty");
			return -1;
		}
		return 0;
	case 'H':
		if ((eq = strchr(val, '=')) == NULL || eq == val) {
			gqctl_usage(o->g,
				    "--header: expected KEY=VALUE, got '%s'",
				    val);
			return -1;
		}
		h = realloc(o->headers, (o->n_headers + 1) * sizeof(*h));
		if (h == NULL) {
			o->oom = true;
			gqctl_err("out of memory");
			return -1;
		}
		o->headers = h;
		/* Borrowed from argv, which outlives the command. */
		h[o->n_headers].key = val;
		h[o->n_headers].key_len = (size_t)(eq - val);
		h[o->n_headers].value = eq + 1;
		h[o->n_headers].value_len = strlen(eq + 1);
		o->n_headers++;
		return 0;
	case 'p':
		if (!gqctl_parse_int(val, INT32_MAX, &o->partition)) {
			gqctl_usage(o->g,
				    "--partition: not a number >= 0: '%s'",
				    val);
			return -1;
		}
		return 0;
	case OPT_RATE:
		if (!gqctl_parse_int(val, 1000000000, &o->rate)) {
			gqctl_usage(o->g,
				    "--rate: not a number of messages per "
				    "second: '%s'",
				    val);
			return -1;
		}
		return 0;
	case OPT_NULL_VALUE:
		o->null_value = true;
		return 0;
	case OPT_SKIP_EMPTY:
		o->skip_empty = true;
		return 0;
	}
	return 0;
}

/* Open the inputs (argv[first..argc-1], "-" or none for stdin) before
 * connecting, so a mistyped name sends nothing.  Sets *fds (owned) and
 * *total, the bytes to read when all are regular files (else 0). */
static int
open_inputs(const char *what, int argc, char **argv, int first, int **fds,
	    uint64_t *total)
{
	struct stat st;
	int n = argc - first;
	int i;

	*total = 0;
	if ((*fds = calloc(n > 0 ? (size_t)n : 1, sizeof(int))) == NULL) {
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	if (n == 0) {
		(*fds)[0] = STDIN_FILENO;
		return GQCTL_OK;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(argv[first + i], "-") == 0) {
			(*fds)[i] = STDIN_FILENO;
		} else if (((*fds)[i] = open(argv[first + i],
					     O_RDONLY | O_CLOEXEC)) < 0) {
			gqctl_err("%s: cannot open %s: %s", what,
				  argv[first + i], strerror(errno));
			while (i-- > 0)
				if ((*fds)[i] != STDIN_FILENO)
					close((*fds)[i]);
			free(*fds);
			*fds = NULL;
			return GQCTL_FAILED;
		}
	}
	for (i = 0; i < n; i++) {
		if (fstat((*fds)[i], &st) != 0 || !S_ISREG(st.st_mode)) {
			*total = 0;
			break;
		}
		*total += (uint64_t)st.st_size;
	}
	return GQCTL_OK;
}

static json_t *
summary_json(const struct producer *pr, uint64_t elapsed_ms, double rate)
{
	json_t *parts;
	json_t *doc;
	int32_t i;

	if ((parts = json_array()) == NULL)
		return NULL;
	for (i = 0; i < pr->n_parts; i++) {
		if (pr->acc[i].messages == 0)
			continue;
		json_array_append_new(
			parts,
			json_pack("{s:i,s:I,s:I,s:I}", "partition", (int)i,
				  "messages", (json_int_t)pr->acc[i].messages,
				  "first_offset", (json_int_t)pr->acc[i].first,
				  "last_offset", (json_int_t)pr->acc[i].last));
	}
	/* Whole messages per second: more digits would be noise. */
	doc = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "topic", pr->topic,
			"messages", (json_int_t)pr->delivered, "failed",
			(json_int_t)pr->failed, "bytes",
			(json_int_t)pr->delivered_bytes, "elapsed_ms",
			(json_int_t)elapsed_ms, "rate",
			(json_int_t)(rate + 0.5), "partitions", parts);
	if (doc != NULL)
		json_object_set_new(doc, "error",
				    pr->first_err != 0
					    ? json_string(pr->first_msg)
					    : json_null());
	return doc;
}

static int
summary(const struct producer *pr, const struct gqctl *g, uint64_t elapsed_ms)
{
	char where[160] = "";
	char parts[128];
	char size[32];
	char took[32];
	int32_t written = 0;
	double rate;
	bool *has;
	int32_t i;

	rate = elapsed_ms > 0
		       ? (double)pr->delivered * 1000.0 / (double)elapsed_ms
		       : (double)pr->delivered;
	if (g->json)
		return gqctl_print_json(summary_json(pr, elapsed_ms, rate));
	if ((has = calloc((size_t)pr->n_parts, sizeof(*has))) == NULL) {
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	for (i = 0; i < pr->n_parts; i++) {
		has[i] = pr->acc[i].messages > 0;
		written += has[i];
	}
	client_id_ranges(has, pr->n_parts, parts, sizeof(parts));
	free(has);
	/* "partition 2" when one, so it does not read as a count. */
	if (written > 0)
		snprintf(where, sizeof(where), " partition%s %s",
			 written == 1 ? "" : "s", parts);
	human_size(size, sizeof(size), pr->delivered_bytes);
	human_duration(took, sizeof(took), (int64_t)elapsed_ms);
	if (pr->failed == 0)
		printf("produced %" PRIu64 " message%s (%s) to %s%s in %s "
		       "(%.0f msg/s)\n",
		       pr->delivered, pr->delivered == 1 ? "" : "s", size,
		       pr->topic, where, took, rate);
	else
		printf("produced %" PRIu64 " of %" PRIu64 " messages (%s) to "
		       "%s%s in %s (%.0f msg/s); %" PRIu64 " failed\n",
		       pr->delivered, pr->delivered + pr->failed, size,
		       pr->topic, where, took, rate, pr->failed);
	return GQCTL_OK;
}

/* Read every input and send it; returns once every call has answered. */
static void
produce_all(struct producer *pr, int *fds, int n_inputs, char **names,
	    uint64_t total, bool progress)
{
	int i;

	progress_start(&pr->prog, progress && total > 0, "producing", total);
	pr->in.before_wait = before_wait;
	pr->in.arg = pr;
	pr->in.progress = &pr->prog;
	for (i = 0; i < n_inputs; i++) {
		if (lines_open(&pr->in, fds[i],
			       names != NULL && strcmp(names[i], "-") != 0
				       ? names[i]
				       : "stdin") != 0) {
			pr->read_errno = ENOMEM;
			pr->read_source = "input";
			break;
		}
		if (!produce_input(pr) || client_stopped())
			break;
	}
	flush(pr);
	pthread_mutex_lock(&pr->lock);
	while (pr->inflight > 0)
		pthread_cond_wait(&pr->cond, &pr->lock);
	pthread_mutex_unlock(&pr->lock);
	progress_finish(&pr->prog);
}

int
client_produce(struct gqctl *g, int argc, char **argv)
{
	struct popts o;
	struct producer pr;
	char what[GQ_NAME_MAX + 32];
	uint64_t total;
	uint64_t start;
	int *fds = NULL;
	int n_inputs;
	int first;
	bool help;
	int rv;
	int i;

	memset(&o, 0, sizeof(o));
	memset(&pr, 0, sizeof(pr));
	o.g = g;
	o.partition = -1;
	rv = gqctl_parse(g, argc, argv, produce_opt, &o, &first, &help);
	if (o.oom)
		rv = GQCTL_FAILED;
	if (rv != GQCTL_OK || help)
		goto out_opts;
	if (argc - first < 1) {
		rv = gqctl_usage(g, "missing TOPIC");
		goto out_opts;
	}
	snprintf(what, sizeof(what), "topic produce %s", argv[first]);
	n_inputs = argc - first - 1;
	if ((rv = open_inputs(what, argc, argv, first + 1, &fds, &total)) !=
	    GQCTL_OK)
		goto out_opts;
	pr.o = &o;
	pr.topic = argv[first];
	pthread_mutex_init(&pr.lock, NULL);
	pthread_cond_init(&pr.cond, NULL);
	if ((rv = client_connect(g, what, &pr.node)) != GQCTL_OK)
		goto out_files;
	rv = client_topic(pr.node, what, pr.topic, &pr.n_parts, &pr.in.max_len);
	if (rv != GQCTL_OK)
		goto out_node;
	if (o.partition >= pr.n_parts) {
		gqctl_err("%s: --partition %lld: the topic has %d partition%s",
			  what, o.partition, (int)pr.n_parts,
			  pr.n_parts == 1 ? "" : "s");
		rv = GQCTL_FAILED;
		goto out_node;
	}
	pr.partition =
		o.partition >= 0 ? (int32_t)o.partition : GQ_PARTITION_ANY;
	for (size_t k = 0; k < o.n_headers; k++)
		pr.headers_bytes += o.headers[k].key_len +
				    o.headers[k].value_len + HEADER_OVERHEAD;
	/* Half the limit leaves room for what the estimate misses; a
	 * message that is big alone still goes, alone. */
	pr.batch_cap = pr.in.max_len / 2 < BATCH_BYTES_MAX ? pr.in.max_len / 2
							   : BATCH_BYTES_MAX;
	/* A burst of a tenth of a second at most. */
	pr.max_tokens = o.rate >= 10 ? (double)o.rate / 10.0 : 1.0;
	pr.tokens = pr.max_tokens;
	pr.last_ns = client_now_ns();
	if ((pr.acc = calloc((size_t)pr.n_parts, sizeof(*pr.acc))) == NULL) {
		gqctl_err("%s: out of memory", what);
		rv = GQCTL_FAILED;
		goto out_node;
	}
	start = client_now_ms();
	produce_all(&pr, fds, n_inputs > 0 ? n_inputs : 1,
		    n_inputs > 0 ? argv + first + 1 : NULL, total, g->progress);
	rv = summary(&pr, g, client_now_ms() - start);
	if (pr.read_errno != 0) {
		gqctl_err("%s: reading %s: %s", what, pr.read_source,
			  strerror(pr.read_errno));
		rv = GQCTL_FAILED;
	}
	if (pr.failed > 0) {
		gqctl_err("%s: %" PRIu64 " of %" PRIu64
			  " messages failed%s; the first: %s",
			  what, pr.failed, pr.delivered + pr.failed,
			  pr.fatal ? " and reading stopped" : "", pr.first_msg);
		rv = GQCTL_FAILED;
	}
out_node:
	gq_node_close(pr.node);
out_files:
	pthread_cond_destroy(&pr.cond);
	pthread_mutex_destroy(&pr.lock);
	for (i = 0; i < n_inputs; i++)
		if (fds[i] != STDIN_FILENO)
			close(fds[i]);
	free(fds);
	free(pr.acc);
	lines_free(&pr.in);
	free(pr.data.p);
	free(pr.pm);
	free(pr.msgs);
out_opts:
	free(o.key_sep);
	free(o.headers);
	return rv;
}

/* ---- help -------------------------------------------------------------- */

const struct option client_produce_options[] = {
	{ "key-separator", required_argument, NULL, 'K' },
	{ "header", required_argument, NULL, 'H' },
	{ "partition", required_argument, NULL, 'p' },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "null-value", no_argument, NULL, OPT_NULL_VALUE },
	{ "skip-empty", no_argument, NULL, OPT_SKIP_EMPTY },
	{ NULL, 0, NULL, 0 },
};

const char client_produce_args[] =
	"TOPIC [FILE...] [--key-separator SEP]\n"
	"                           [--header KEY=VALUE]... [--partition N]\n"
	"                           [--rate N] [--null-value] [--skip-empty]";

const char client_produce_help[] =
	"  TOPIC                    the topic (it must exist)\n"
	"  FILE...                  read these files in turn (\"-\" is "
	"stdin); none: stdin\n"
	"  -K, --key-separator SEP  a line's text before the first SEP is "
	"the key, the\n"
	"                           rest the value; a line without SEP has "
	"no key.\n"
	"                           \\t \\n \\r \\\\ are escapes\n"
	"  -H, --header KEY=VALUE   add this header to every message; "
	"repeat for more\n"
	"  -p, --partition N        write partition N (default: by the "
	"key's hash, or\n"
	"                           round robin by batch without a key)\n"
	"  --rate N                 send at most N messages a second "
	"(default 0: no\n"
	"                           limit)\n"
	"  --null-value             send an empty value (an empty line, or "
	"nothing after\n"
	"                           SEP) as null, a tombstone, instead of "
	"\"\"\n"
	"  --skip-empty             skip empty lines instead of sending "
	"them\n"
	"One message per line, without its newline, bytes as they are; a "
	"last line\n"
	"without a newline counts too.  A line longer than the topic's "
	"max_message_size\n"
	"fails.  Messages are sent to the Kafka port of --brokers, "
	"acknowledged by\n"
	"every in-sync replica; gqctl waits for each, then prints a summary "
	"(--json: one\n"
	"object).  Exit 1 if any message failed, 3 if no broker answers.  "
	"Ctrl-C stops\n"
	"reading and waits for what was read.\n";

const char client_produce_example[] =
	"  printf 'user-7:{\"total\":42}\\n' | gqctl topic produce orders "
	"-K :\n"
	"  gqctl --brokers 10.0.0.1:9092 topic produce orders events.txt "
	"--rate 1000\n";
