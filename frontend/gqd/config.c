/* SPDX-License-Identifier: MIT */
/*
 * config.c - gqd's configuration keys.  The table `keys` below is the one
 * place a key is described; loading the JSON file, the environment, the
 * flags, formatting for reload and the tests all walk it.  gqd's own keys
 * are parsed here into struct gqd_config, their text forms by the parsers in
 * config_parse.c; libgoqueue's keys are handed to gq_config_set() as text and
 * validated by the library alone.
 *
 * Invariant: every typed field always holds a valid value (the defaults
 * first, then only values that parsed), so a failed set leaves the
 * configuration as it was.
 */
#include "config.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <jansson.h>

#include "config_parse.h"
#include "log.h"

/* How a key's text is parsed. */
enum kind {
	K_PATH,      /* a string; min 1 = must not be empty */
	K_ADDR,      /* "host:port"; min 0 = may be "" */
	K_BROKER_ID, /* an integer >= 1, or a name ending in one ("broker1") */
	K_PORT,      /* server.port: rewrites the port of client_addr */
	K_COUNT,     /* a decimal integer within [min, max] */
	K_SIZE,      /* bytes, with an optional KiB/MiB/... suffix */
	K_DURATION,  /* "10m", "5s", a plain integer is milliseconds */
	K_BOOL,      /* true/false, 1/0, yes/no, on/off */
	K_LEVEL,     /* debug, info, warn, error */
	K_LIB,       /* libgoqueue's key of the same name */
};

/* JSON types a key accepts. */
#define J_STR  0x1u
#define J_INT  0x2u
#define J_BOOL 0x4u

struct key {
	struct gqd_config_key pub;
	enum kind kind;
	unsigned json; /* J_* mask */
	size_t off;    /* field in struct gqd_config (not for K_LIB) */
	size_t size;   /* size of that field */
	int64_t min;   /* inclusive limits of counts, sizes, durations */
	int64_t max;
	const char *aka; /* the key an alias writes */
};

#define FIELD(f) \
	offsetof(struct gqd_config, f), sizeof(((struct gqd_config *)0)->f)

#define OWN(name, env, type, def, reload, kind, json, f, min, max)          \
	{                                                                   \
		{ name, env, type, def, reload, false, false }, kind, json, \
			FIELD(f), min, max, NULL                            \
	}
#define ALIAS(name, env, type, reload, kind, json, aka)                      \
	{                                                                    \
		{ name, env, type, "", reload, false, true }, kind, json, 0, \
			0, 0, 0, aka                                         \
	}
#define LIB(name, env, type, def, reload, json)                                \
	{                                                                      \
		{ name, env, type, def, reload, true, false }, K_LIB, json, 0, \
			0, 0, 0, NULL                                          \
	}

#define MIB (INT64_C(1) << 20)
#define NO  GQD_RELOAD_NO
#define LTR GQD_RELOAD_LATER
#define YES GQD_RELOAD_YES

/*
 * In the order the layers apply them: client_addr before server.port (which
 * then sets only the port), server.log_file before log_file (so log_file wins
 * when a file has both).
 */
static const struct key keys[] = {
	/* The original's keys. */
	OWN("data_dir", "GQ_DATA_DIR", "path", "./data", NO, K_PATH, J_STR,
	    data_dir, 1, 0),
	LIB("max_topic_partitions", "GQ_MAX_TOPIC_PARTITIONS", "count", "1000",
	    NO, J_INT | J_STR),
	/* The topic keys reload (reload.c): topics created afterwards take
	 * the new values, and topics that had the old one follow. */
	LIB("segment_size", "GQ_SEGMENT_SIZE", "size", "104857600", YES,
	    J_INT | J_STR),
	LIB("retention_time", "GQ_RETENTION_TIME", "duration", "168h", YES,
	    J_STR),
	LIB("retention_bytes", "GQ_RETENTION_BYTES", "size", "-1", YES,
	    J_INT | J_STR),
	LIB("max_storage_size", "GQ_MAX_STORAGE_SIZE", "size", "1073741824000",
	    LTR, J_INT | J_STR),
	LIB("flush_interval", "GQ_FLUSH_INTERVAL", "duration", "5s", NO, J_STR),
	LIB("cleanup_interval", "GQ_CLEANUP_INTERVAL", "duration", "1h", LTR,
	    J_STR),
	LIB("max_message_size", "GQ_MAX_MESSAGE_SIZE", "size", "1048576", YES,
	    J_INT | J_STR),
	LIB("compression_enabled", "GQ_COMPRESSION_ENABLED", "bool", "true",
	    YES, J_BOOL),
	LIB("compression_type", "GQ_COMPRESSION_TYPE", "codec", "gzip", YES,
	    J_STR),
	LIB("compression_threshold", "GQ_COMPRESSION_THRESHOLD", "size", "1024",
	    YES, J_INT | J_STR),
	/* A partition sizes its deduplication window once: these cannot
	 * change on a live topic (gq_topic_alter(3)). */
	LIB("deduplication_enabled", "GQ_DEDUPLICATION_ENABLED", "bool",
	    "false", NO, J_BOOL),
	LIB("deduplication_window", "GQ_DEDUPLICATION_WINDOW", "count", "10000",
	    NO, J_INT | J_STR),
	LIB("enable_follower_read", "GQ_ENABLE_FOLLOWER_READ", "bool", "true",
	    NO, J_BOOL),
	/* Cluster keys, passed to the library as they are. */
	LIB("initial_cluster", "GQ_INITIAL_CLUSTER", "peers", "", NO, J_STR),
	LIB("rack", "GQ_RACK", "label", "", NO, J_STR),
	LIB("raft_segment_size", "GQ_RAFT_SEGMENT_SIZE", "size", "8388608", NO,
	    J_STR | J_INT),
	LIB("raft_fsync", "GQ_RAFT_FSYNC", "bool", "true", NO, J_BOOL),
	LIB("election_timeout", "GQ_ELECTION_TIMEOUT", "duration", "600ms", NO,
	    J_STR),
	LIB("leader_rebalance_interval", "GQ_LEADER_REBALANCE_INTERVAL",
	    "duration", "10s", NO, J_STR),
	LIB("dead_broker_grace", "GQ_DEAD_BROKER_GRACE", "duration", "10m", NO,
	    J_STR),
	/* Consumer-group coordinator keys, passed to the library as they
	 * are. */
	LIB("group_initial_rebalance_delay", "GQ_GROUP_INITIAL_REBALANCE_DELAY",
	    "duration", "3s", NO, J_STR),
	LIB("group_min_session_timeout", "GQ_GROUP_MIN_SESSION_TIMEOUT",
	    "duration", "6s", NO, J_STR),
	LIB("group_max_session_timeout", "GQ_GROUP_MAX_SESSION_TIMEOUT",
	    "duration", "30m", NO, J_STR),
	/* gqd's own keys. */
	OWN("broker_id", "GQ_BROKER_ID", "id", "1", NO, K_BROKER_ID,
	    J_INT | J_STR, broker_id, 1, INT32_MAX),
	OWN("raft_addr", "GQ_RAFT_ADDR", "address", "127.0.0.1:7001", NO,
	    K_ADDR, J_STR, raft_addr, 0, 0),
	OWN("client_addr", "GQ_CLIENT_ADDR", "address", "0.0.0.0:9092", NO,
	    K_ADDR, J_STR, client_addr, 1, 0),
	ALIAS("server.port", "GQ_SERVER_PORT", "port", NO, K_PORT,
	      J_INT | J_STR, "client_addr"),
	OWN("advertised_addr", "GQ_ADVERTISED_ADDR", "address", "", LTR, K_ADDR,
	    J_STR, advertised_addr, 0, 0),
	OWN("admin_addr", "GQ_ADMIN_ADDR", "address", "127.0.0.1:9644", NO,
	    K_ADDR, J_STR, admin_addr, 0, 0),
	OWN("log_level", "GQ_LOG_LEVEL", "level", "info", YES, K_LEVEL, J_STR,
	    log_level, 0, 0),
	ALIAS("server.log_file", "GQ_SERVER_LOG_FILE", "path", YES, K_PATH,
	      J_STR, "log_file"),
	OWN("log_file", "GQ_LOG_FILE", "path", "", YES, K_PATH, J_STR, log_file,
	    0, 0),
	OWN("max_connections", "GQ_MAX_CONNECTIONS", "count", "1024", YES,
	    K_COUNT, J_INT | J_STR, max_connections, 1, 1000000),
	OWN("max_frame_size", "GQ_MAX_FRAME_SIZE", "size", "104857600", YES,
	    K_SIZE, J_INT | J_STR, max_frame_size, MIB, INT32_MAX),
	OWN("max_inflight_per_connection", "GQ_MAX_INFLIGHT_PER_CONNECTION",
	    "count", "16", YES, K_COUNT, J_INT | J_STR,
	    max_inflight_per_connection, 1, 1024),
	OWN("idle_timeout", "GQ_IDLE_TIMEOUT", "duration", "10m", YES,
	    K_DURATION, J_STR, idle_timeout_ms, 0, INT64_MAX),
	OWN("auto_create_topics", "GQ_AUTO_CREATE_TOPICS", "bool", "true", YES,
	    K_BOOL, J_BOOL, auto_create_topics, 0, 1),
	OWN("default_partitions", "GQ_DEFAULT_PARTITIONS", "count", "1", YES,
	    K_COUNT, J_INT | J_STR, default_partitions, 1, 100000),
	OWN("default_replication_factor", "GQ_DEFAULT_REPLICATION_FACTOR",
	    "count", "1", YES, K_COUNT, J_INT | J_STR,
	    default_replication_factor, 1, GQ_REPLICAS_MAX),
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* Names people write for a key that has another name here. */
static const struct {
	const char *wrong;
	const char *right;
} name_hints[] = {
	{ "node_id", "broker_id" },
	{ "raft_address", "raft_addr" },
	{ "port", "server.port" },
	{ "listen", "client_addr" },
	{ "listeners", "client_addr" },
	{ "advertised_listeners", "advertised_addr" },
	{ "log_dir", "data_dir" },
	{ "log_dirs", "data_dir" },
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Put @prefix and ": " in front of the message already in @err. */
static void
prefix_err(char *err, size_t errlen, const char *prefix)
{
	char tmp[1024];

	if (err == NULL || errlen == 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s", err);
	snprintf(err, errlen, "%s: %s", prefix, tmp);
}

const struct gqd_config_key *
gqd_config_key_at(size_t i)
{
	return i < N_KEYS ? &keys[i].pub : NULL;
}

static const struct key *
find(const char *name)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].pub.name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

const struct gqd_config_key *
gqd_config_key_find(const char *name)
{
	const struct key *k = name != NULL ? find(name) : NULL;

	return k != NULL ? &k->pub : NULL;
}

/* Edit distance, for "did you mean".  Names are short: one row suffices. */
static size_t
distance(const char *a, const char *b)
{
	size_t row[64];
	size_t la = strlen(a), lb = strlen(b);
	size_t i, j, diag, up;

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/* The key @name was probably meant to be, or NULL. */
static const char *
suggest(const char *name)
{
	const char *best = NULL;
	size_t i, d, best_d = 3;

	for (i = 0; i < sizeof(name_hints) / sizeof(name_hints[0]); i++) {
		if (strcasecmp(name, name_hints[i].wrong) == 0)
			return name_hints[i].right;
	}
	for (i = 0; i < N_KEYS; i++) {
		d = distance(name, keys[i].pub.name);
		/* "retention" for "retention_time": a prefix counts as close.
		 */
		if (d >= best_d && strlen(name) >= 4 &&
		    strncmp(keys[i].pub.name, name, strlen(name)) == 0)
			d = best_d - 1;
		if (d < best_d) {
			best_d = d;
			best = keys[i].pub.name;
		}
	}
	return best;
}

static void
unknown_key(const char *name, char *err, size_t errlen)
{
	const char *s = suggest(name);

	if (s != NULL)
		seterr(err, errlen, "unknown key '%s' (did you mean '%s'?)",
		       name, s);
	else
		seterr(err, errlen, "unknown key '%s'", name);
}

/* ---------------------------------------------------------------------- */
/* Setting one key from text                                              */
/* ---------------------------------------------------------------------- */

/* Store @v in an integer field of @size bytes; the value is in range. */
static void
store_int(void *field, size_t size, int64_t v)
{
	uint64_t u64 = (uint64_t)v;
	uint32_t u32 = (uint32_t)v;

	if (size == sizeof(u64))
		memcpy(field, &u64, sizeof(u64));
	else
		memcpy(field, &u32, sizeof(u32));
}

static int
set_text(char *field, size_t size, const struct key *k, const char *v,
	 char *err, size_t errlen)
{
	if (strlen(v) >= size) {
		seterr(err, errlen,
		       "value for '%s' is too long (at most %zu "
		       "bytes)",
		       k->pub.name, size - 1);
		return GQ_EINVAL;
	}
	memcpy(field, v, strlen(v) + 1);
	return 0;
}

static int
set_key(struct gqd_config *c, const struct key *k, const char *v, char *err,
	size_t errlen)
{
	char *field = (char *)c + k->off;
	char host[GQD_HOST_SIZE];
	char addr[GQD_ADDR_SIZE];
	char libmsg[GQ_ERRMSG_SIZE];
	const char *why = "";
	enum gq_log_level level;
	uint16_t port;
	uint64_t u;
	int64_t i;
	bool b;
	int rv;

	switch (k->kind) {
	case K_PATH:
		if (k->aka != NULL)
			return set_key(c, find(k->aka), v, err, errlen);
		if (k->min > 0 && v[0] == '\0') {
			seterr(err, errlen, "'%s' must not be empty",
			       k->pub.name);
			return GQ_EINVAL;
		}
		return set_text(field, k->size, k, v, err, errlen);
	case K_ADDR:
		if (v[0] == '\0' && k->min == 0)
			return set_text(field, k->size, k, v, err, errlen);
		if (gqd_split_addr(v, host, &port, &why) != 0) {
			seterr(err, errlen,
			       "invalid address '%.64s' for '%s': %s", v,
			       k->pub.name, why);
			return GQ_EINVAL;
		}
		return set_text(field, k->size, k, v, err, errlen);
	case K_PORT:
		if (gqd_parse_uint(v, &u) != 0 || u < 1 || u > 65535) {
			seterr(err, errlen,
			       "invalid value '%.64s' for '%s': expected a "
			       "port "
			       "between 1 and 65535",
			       v, k->pub.name);
			return GQ_EINVAL;
		}
		/* client_addr is always valid, so it splits. */
		gqd_split_addr(c->client_addr, host, &port, &why);
		if (gqd_join_addr(addr, sizeof(addr), host, (unsigned)u) != 0) {
			seterr(err, errlen, "'%s' makes client_addr too long",
			       k->pub.name);
			return GQ_EINVAL;
		}
		memcpy(c->client_addr, addr, strlen(addr) + 1);
		return 0;
	case K_BROKER_ID:
		if (gqd_parse_broker_id(v, &i) != 0 || i < k->min ||
		    i > k->max) {
			seterr(err, errlen,
			       "invalid value '%.64s' for '%s': expected an "
			       "integer between 1 and %" PRId64
			       ", or a name ending in one such as broker1",
			       v, k->pub.name, k->max);
			return GQ_EINVAL;
		}
		store_int(field, k->size, i);
		return 0;
	case K_COUNT:
	case K_SIZE:
	case K_DURATION:
		rv = k->kind == K_COUNT  ? gqd_parse_uint(v, &u)
		     : k->kind == K_SIZE ? gqd_parse_size(v, &u)
					 : gqd_parse_duration(v, &u);
		if (rv != 0 || u < (uint64_t)k->min || u > (uint64_t)k->max) {
			seterr(err, errlen,
			       "invalid value '%.64s' for '%s': expected %s", v,
			       k->pub.name,
			       k->kind == K_COUNT  ? "an integer in range"
			       : k->kind == K_SIZE ? "a size such as 1048576, "
						     "64MiB or 1GiB, in range"
						   : "a duration such as 30s, "
						     "10m or 1h, or 0");
			if (rv == 0) {
				/* Say the range only when the syntax was
				 * right. */
				snprintf(err + strlen(err),
					 errlen - strlen(err),
					 " [%" PRId64 ", %" PRId64 "]", k->min,
					 k->max);
			}
			return GQ_EINVAL;
		}
		store_int(field, k->size, (int64_t)u);
		return 0;
	case K_BOOL:
		if (gqd_parse_bool(v, &b) != 0) {
			seterr(err, errlen,
			       "invalid value '%.64s' for '%s': expected true "
			       "or false",
			       v, k->pub.name);
			return GQ_EINVAL;
		}
		memcpy(field, &b, sizeof(b));
		return 0;
	case K_LEVEL:
		if (gqd_parse_level(v, &level) != 0) {
			seterr(err, errlen,
			       "invalid value '%.64s' for '%s': expected "
			       "debug, info, warn or error",
			       v, k->pub.name);
			return GQ_EINVAL;
		}
		memcpy(field, &level, sizeof(level));
		return 0;
	case K_LIB:
		libmsg[0] = '\0';
		rv = gq_config_set(c->lib, k->pub.name, v, libmsg);
		if (rv != 0) {
			seterr(err, errlen, "%s",
			       libmsg[0] != '\0' ? libmsg : gq_strerror(rv));
			return rv;
		}
		return 0;
	}
	return GQ_EINVAL;
}

int
gqd_config_set(struct gqd_config *c, const char *key, const char *value,
	       char *err, size_t errlen)
{
	const struct key *k;

	if (c == NULL || key == NULL || value == NULL) {
		seterr(err, errlen, "gqd_config_set: NULL argument");
		return GQ_EINVAL;
	}
	if ((k = find(key)) == NULL) {
		unknown_key(key, err, errlen);
		return GQ_EINVAL;
	}
	c->validated = false;
	return set_key(c, k, value, err, errlen);
}

int
gqd_config_init(struct gqd_config *c, char *err, size_t errlen)
{
	size_t i;
	int rv;

	memset(c, 0, sizeof(*c));
	if ((rv = gq_config_create(&c->lib)) != 0) {
		seterr(err, errlen, "cannot create configuration: %s",
		       gq_strerror(rv));
		return rv;
	}
	/* The library keeps its own defaults; only gqd's are applied. */
	for (i = 0; i < N_KEYS; i++) {
		if (keys[i].kind == K_LIB || keys[i].aka != NULL)
			continue;
		if ((rv = set_key(c, &keys[i], keys[i].pub.def, err, errlen)) !=
		    0) {
			gqd_config_free(c);
			return rv;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Environment                                                            */
/* ---------------------------------------------------------------------- */

int
gqd_config_apply_env(struct gqd_config *c, char *err, size_t errlen)
{
	const char *v;
	size_t i;
	int rv;

	for (i = 0; i < N_KEYS; i++) {
		if ((v = getenv(keys[i].pub.env)) == NULL)
			continue;
		c->validated = false;
		if ((rv = set_key(c, &keys[i], v, err, errlen)) != 0) {
			prefix_err(err, errlen, keys[i].pub.env);
			return rv;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* JSON file                                                              */
/* ---------------------------------------------------------------------- */

static const char *
json_type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction or exponent";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "a value";
}

/* What @k accepts in JSON, for messages. */
static const char *
json_expected(const struct key *k)
{
	switch (k->json) {
	case J_STR:
		if (strcmp(k->pub.type, "duration") == 0)
			return "a string such as \"5s\" or \"168h\"";
		return "a string";
	case J_BOOL:
		return "true or false";
	default:
		if (strcmp(k->pub.type, "size") == 0)
			return "an integer or a string such as \"100MiB\"";
		return "an integer or a string of digits";
	}
}

/* Set key @k from JSON value @j, checking its type first. */
static int
set_json(struct gqd_config *c, const struct key *k, const json_t *j, char *err,
	 size_t errlen)
{
	char num[32];
	const char *v;

	if (json_is_string(j) && (k->json & J_STR) != 0) {
		v = json_string_value(j);
		if (strlen(v) != json_string_length(j)) {
			seterr(err, errlen, "'%s' contains a NUL byte",
			       k->pub.name);
			return GQ_EINVAL;
		}
	} else if (json_is_integer(j) && (k->json & J_INT) != 0) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(j));
		v = num;
	} else if (json_is_boolean(j) && (k->json & J_BOOL) != 0) {
		v = json_is_true(j) ? "true" : "false";
	} else {
		seterr(err, errlen, "'%s' must be %s, not %s", k->pub.name,
		       json_expected(k), json_type_name(j));
		return GQ_EINVAL;
	}
	return set_key(c, k, v, err, errlen);
}

/* Every member of @obj (the root, or "server" with @prefix "server.") must
 * name a key. */
static int
check_members(json_t *obj, const char *prefix, char *err, size_t errlen)
{
	char name[128];
	const char *member;
	json_t *v;

	json_object_foreach(obj, member, v)
	{
		if (prefix[0] == '\0' && strcmp(member, "server") == 0) {
			if (!json_is_object(v)) {
				seterr(err, errlen,
				       "'server' must be an object, not %s",
				       json_type_name(v));
				return GQ_EINVAL;
			}
			continue;
		}
		snprintf(name, sizeof(name), "%s%.100s", prefix, member);
		/* Nested names exist only inside "server". */
		if ((prefix[0] == '\0' && strchr(member, '.') != NULL) ||
		    find(name) == NULL) {
			unknown_key(name, err, errlen);
			return GQ_EINVAL;
		}
	}
	return 0;
}

static int
apply_json(struct gqd_config *c, json_t *root, char *err, size_t errlen)
{
	json_t *server, *v;
	size_t i;
	int rv;

	if (!json_is_object(root)) {
		seterr(err, errlen, "the top level must be an object, not %s",
		       json_type_name(root));
		return GQ_EINVAL;
	}
	if ((rv = check_members(root, "", err, errlen)) != 0)
		return rv;
	server = json_object_get(root, "server");
	if (server != NULL &&
	    (rv = check_members(server, "server.", err, errlen)) != 0)
		return rv;
	/* Table order, not file order, so that the result does not depend on
	 * how the file is arranged. */
	for (i = 0; i < N_KEYS; i++) {
		if (strncmp(keys[i].pub.name, "server.", 7) == 0)
			v = server != NULL
				    ? json_object_get(server,
						      keys[i].pub.name + 7)
				    : NULL;
		else
			v = json_object_get(root, keys[i].pub.name);
		if (v == NULL)
			continue;
		if ((rv = set_json(c, &keys[i], v, err, errlen)) != 0)
			return rv;
	}
	return 0;
}

int
gqd_config_load(const char *path, struct gqd_config *out, char *err,
		size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int rv;

	if ((rv = gqd_config_init(out, err, errlen)) != 0)
		return rv;
	if (path == NULL)
		return 0;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		rv = json_error_code(&jerr) == json_error_cannot_open_file
			     ? GQ_EIO
			     : GQ_EINVAL;
		if (rv == GQ_EIO)
			seterr(err, errlen, "%s", jerr.text);
		else
			seterr(err, errlen, "%s:%d:%d: %s", path, jerr.line,
			       jerr.column, jerr.text);
		gqd_config_free(out);
		return rv;
	}
	rv = apply_json(out, root, err, errlen);
	json_decref(root);
	if (rv != 0) {
		prefix_err(err, errlen, path);
		gqd_config_free(out);
	}
	return rv;
}

/* ---------------------------------------------------------------------- */
/* Validation                                                             */
/* ---------------------------------------------------------------------- */

static bool
is_wildcard(const char *host)
{
	return host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 ||
	       strcmp(host, "::") == 0;
}

/* Split @text (key @name) into @a and, when @resolve, resolve its host to a
 * numeric address of @family (AF_UNSPEC for any). */
static int
make_addr(const char *name, const char *text, bool resolve, int family,
	  struct gqd_addr *a, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	const char *why = "";
	const void *src;
	int rv;

	memset(a, 0, sizeof(*a));
	if (text[0] == '\0')
		return 0;
	if (gqd_split_addr(text, a->host, &a->port, &why) != 0) {
		seterr(err, errlen, "invalid address '%.64s' for '%s': %s",
		       text, name, why);
		return GQ_EINVAL;
	}
	if (a->host[0] == '\0')
		snprintf(a->host, sizeof(a->host), "0.0.0.0");
	if (!resolve)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	/* IPv4 first when a name has both ("localhost" may list ::1 first),
	 * so that the address bound matches what most clients try first. */
	hints.ai_family = AF_INET;
	rv = getaddrinfo(a->host, NULL, &hints, &res);
	if (rv != 0 && family != AF_INET) {
		hints.ai_family = family;
		rv = getaddrinfo(a->host, NULL, &hints, &res);
	}
	if (rv != 0) {
		seterr(err, errlen,
		       "cannot resolve the host of '%s' ('%.64s')%s: %s", name,
		       a->host, family == AF_INET ? " to IPv4" : "",
		       gai_strerror(rv));
		return GQ_EINVAL;
	}
	a->family = res->ai_family;
	if (res->ai_family == AF_INET6)
		src = &((struct sockaddr_in6 *)(void *)res->ai_addr)->sin6_addr;
	else
		src = &((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr;
	inet_ntop(res->ai_family, src, a->ip, sizeof(a->ip));
	freeaddrinfo(res);
	return 0;
}

/* Two bound addresses clash when they share a port and an interface. */
static int
check_clash(const char *an, const struct gqd_addr *a, const char *bn,
	    const struct gqd_addr *b, char *err, size_t errlen)
{
	if (a->port == 0 || b->port == 0 || a->port != b->port)
		return 0;
	if (strcmp(a->ip, b->ip) != 0 && !is_wildcard(a->ip) &&
	    !is_wildcard(b->ip))
		return 0;
	seterr(err, errlen, "'%s' and '%s' both use port %u", an, bn,
	       (unsigned)a->port);
	return GQ_EINVAL;
}

int
gqd_config_validate(struct gqd_config *c, char *err, size_t errlen)
{
	const char *mtp;
	uint64_t max_parts;
	int rv;

	c->validated = false;
	if ((rv = make_addr("raft_addr", c->raft_addr, true, AF_INET, &c->raft,
			    err, errlen)) != 0 ||
	    (rv = make_addr("client_addr", c->client_addr, true, AF_UNSPEC,
			    &c->client, err, errlen)) != 0 ||
	    (rv = make_addr("admin_addr", c->admin_addr, true, AF_UNSPEC,
			    &c->admin, err, errlen)) != 0)
		return rv;
	if (c->advertised_addr[0] != '\0') {
		if ((rv = make_addr("advertised_addr", c->advertised_addr,
				    false, 0, &c->advertised, err, errlen)) !=
		    0)
			return rv;
		if (is_wildcard(c->advertised.host)) {
			seterr(err, errlen,
			       "'advertised_addr' must name a host clients "
			       "can reach, not '%s'",
			       c->advertised.host);
			return GQ_EINVAL;
		}
	} else {
		c->advertised = c->client;
		c->advertised.ip[0] = '\0';
		c->advertised.family = 0;
		if (is_wildcard(c->advertised.host))
			snprintf(c->advertised.host, sizeof(c->advertised.host),
				 "127.0.0.1");
	}
	if ((rv = check_clash("client_addr", &c->client, "raft_addr", &c->raft,
			      err, errlen)) != 0 ||
	    (rv = check_clash("admin_addr", &c->admin, "raft_addr", &c->raft,
			      err, errlen)) != 0 ||
	    (rv = check_clash("client_addr", &c->client, "admin_addr",
			      &c->admin, err, errlen)) != 0)
		return rv;
	/* Only when set: the library's default is its own business, and it
	 * checks a topic's partition count itself at creation. */
	mtp = gq_config_get(c->lib, "max_topic_partitions");
	if (mtp != NULL && gqd_parse_uint(mtp, &max_parts) == 0 &&
	    (uint64_t)c->default_partitions > max_parts) {
		seterr(err, errlen,
		       "'default_partitions' (%" PRId32
		       ") is above 'max_topic_partitions' (%s)",
		       c->default_partitions, mtp);
		return GQ_EINVAL;
	}
	mtp = gq_config_get(c->lib, "enable_follower_read");
	c->follower_read = mtp == NULL || strcmp(mtp, "true") == 0;
	mtp = gq_config_get(c->lib, "rack");
	snprintf(c->rack, sizeof(c->rack), "%s", mtp != NULL ? mtp : "");
	c->validated = true;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Library configuration, formatting, freeing                            */
/* ---------------------------------------------------------------------- */

const char *const gqd_topic_keys[GQD_N_TOPIC_KEYS] = {
	"segment_size",          "retention_time",
	"retention_bytes",       "max_message_size",
	"compression_enabled",   "compression_type",
	"compression_threshold", "deduplication_enabled",
	"deduplication_window",
};

int
gqd_config_topic_base(const struct gqd_config *c, struct gq_config **out)
{
	struct gq_config *base;

	if (gq_config_create(&base) != 0)
		return GQ_ENOMEM;
	for (size_t i = 0; i < GQD_N_TOPIC_KEYS; i++) {
		const char *v = gq_config_get(c->lib, gqd_topic_keys[i]);

		/* Set in @c, so valid. */
		if (v != NULL &&
		    gq_config_set(base, gqd_topic_keys[i], v, NULL) != 0) {
			gq_config_destroy(base);
			return GQ_ENOMEM;
		}
	}
	*out = base;
	return 0;
}

int
gqd_config_node_config(const struct gqd_config *c, struct gq_config **out,
		       char *err, size_t errlen)
{
	struct gq_config *lc;
	char buf[GQD_ADDR_SIZE];
	char libmsg[GQ_ERRMSG_SIZE];
	const char *v;
	size_t i;
	int rv;

	if (!c->validated) {
		seterr(err, errlen, "configuration not validated");
		return GQ_EINVAL;
	}
	if ((rv = gq_config_create(&lc)) != 0) {
		seterr(err, errlen, "cannot create configuration: %s",
		       gq_strerror(rv));
		return rv;
	}
	libmsg[0] = '\0';
	for (i = 0; i < N_KEYS; i++) {
		if (keys[i].kind != K_LIB ||
		    (v = gq_config_get(c->lib, keys[i].pub.name)) == NULL)
			continue;
		if ((rv = gq_config_set(lc, keys[i].pub.name, v, libmsg)) != 0)
			goto err_destroy;
	}
	snprintf(buf, sizeof(buf), "%" PRId32, c->broker_id);
	if ((rv = gq_config_set(lc, "node_id", buf, libmsg)) != 0)
		goto err_destroy;
	buf[0] = '\0';
	if (c->raft.port != 0)
		snprintf(buf, sizeof(buf), "%s:%u", c->raft.ip,
			 (unsigned)c->raft.port);
	if ((rv = gq_config_set(lc, "raft_address", buf, libmsg)) != 0)
		goto err_destroy;
	/* What other nodes tell Kafka clients about this one. */
	snprintf(buf, sizeof(buf), "%s:%u", c->advertised.host,
		 (unsigned)c->advertised.port);
	if ((rv = gq_config_set(lc, "advertised_address", buf, libmsg)) != 0)
		goto err_destroy;
	*out = lc;
	return 0;
err_destroy:
	seterr(err, errlen, "%s", libmsg[0] != '\0' ? libmsg : gq_strerror(rv));
	gq_config_destroy(lc);
	return rv;
}

int
gqd_config_format(const struct gqd_config *c, const char *key, char *buf,
		  size_t len)
{
	const struct key *k = key != NULL ? find(key) : NULL;
	char host[GQD_HOST_SIZE];
	const char *field, *why, *v;
	uint16_t port = 0;
	uint64_t u64 = 0;
	uint32_t u32 = 0;
	int n;

	if (k == NULL || len == 0)
		return GQ_EINVAL;
	field = (const char *)c + k->off;
	switch (k->kind) {
	case K_PATH:
		if (k->aka != NULL)
			return gqd_config_format(c, k->aka, buf, len);
		/* fallthrough */
	case K_ADDR:
		n = snprintf(buf, len, "%s", field);
		break;
	case K_PORT:
		if (gqd_split_addr(c->client_addr, host, &port, &why) != 0)
			port = 0;
		n = snprintf(buf, len, "%u", (unsigned)port);
		break;
	case K_BROKER_ID:
		n = snprintf(buf, len, "%" PRId32, c->broker_id);
		break;
	case K_COUNT:
	case K_SIZE:
	case K_DURATION:
		if (k->size == sizeof(u64)) {
			memcpy(&u64, field, sizeof(u64));
		} else {
			memcpy(&u32, field, sizeof(u32));
			u64 = u32;
		}
		if (k->kind == K_DURATION) {
			gqd_format_ms(buf, len, u64);
			n = (int)strlen(buf);
		} else {
			n = snprintf(buf, len, "%" PRIu64, u64);
		}
		break;
	case K_BOOL:
		n = snprintf(buf, len, "%s",
			     *(const bool *)field ? "true" : "false");
		break;
	case K_LEVEL:
		n = snprintf(buf, len, "%s", gqd_log_level_name(c->log_level));
		break;
	case K_LIB:
		v = gq_config_get(c->lib, k->pub.name);
		n = snprintf(buf, len, "%s", v != NULL ? v : "");
		break;
	default:
		return GQ_EINVAL;
	}
	return n < 0 || (size_t)n >= len ? GQ_ENOMEM : 0;
}

void
gqd_config_free(struct gqd_config *c)
{
	if (c == NULL)
		return;
	gq_config_destroy(c->lib);
	c->lib = NULL;
	c->validated = false;
}
