/* SPDX-License-Identifier: MIT */
/*
 * config.c - configuration keys.  The sorted table `keys` below is the one
 * place a key is described: its name, scope, how its value is parsed and
 * printed, its default, limits and the struct field it fills.  Every other
 * function walks that table, so adding a key is adding one line (plus, for a
 * topic key, a field in the byte form of gq__topic_conf_encode()).
 *
 * Invariants: a struct gq_config holds, per key, either NULL (never set) or
 * the canonical string of a value that passed validation, so resolving it
 * again cannot fail; a typed view is only written once it is complete.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "gq-config.h"
#include "heap.h"

/* How a key's value is written, parsed and printed. */
enum kind {
	KIND_SIZE,              /* gq__parse_size(), within [min, max] */
	KIND_SIZE_OR_UNLIMITED, /* "-1", or a size within [1, max] */
	KIND_DURATION,          /* gq__parse_duration_ms(), within [min, max] */
	KIND_DURATION_OR_FOREVER, /* "0" or "-1" (forever, kept as -1), or a
				     duration within [1, max] */
	KIND_COUNT,    /* a plain decimal integer within [min, max] */
	KIND_BOOL,     /* gq__parse_bool() */
	KIND_CODEC,    /* a name in `codecs` */
	KIND_ADDRESS,  /* "a.b.c.d:port" or "" */
	KIND_HOSTPORT, /* "host:port" with a DNS name or IPv4 host, or "" */
	KIND_PEERS,    /* "id@a.b.c.d:port,..." (gq__peers_parse()), or "" */
	KIND_LABEL,    /* letters, digits, '.', '_', '-', or "" */
};

/* The C type of the field a key fills, found with _Generic so that the
 * table cannot disagree with the structs. */
enum ctype {
	CT_U64,
	CT_I64,
	CT_U32,
	CT_INT, /* int and int32_t: the same type on every supported ABI */
	CT_BOOL,
	CT_STR, /* char[size], NUL-terminated */
};

/* Scratch space for the canonical form of any value, string keys
 * included; string fields are at most this long. */
#define STR_SIZE 512

#define CTYPE_OF(type, field) \
	_Generic(((type *)0)->field,                                           \
		uint64_t: CT_U64,                                              \
		int64_t: CT_I64,                                               \
		uint32_t: CT_U32,                                              \
		int: CT_INT,                                                   \
		bool: CT_BOOL,                                                 \
		char *: CT_STR)

struct key {
	struct gq__config_key pub;
	enum kind kind;
	enum ctype ctype;
	size_t offset; /* in gq__topic_conf or gq__node_conf, by scope */
	size_t size;   /* of the field */
};

#define KEY(scope, type, name, kind, field, tname, def, min, max, doc) \
	{                                                              \
		{ name, scope, tname, def, min, max, doc }, kind,      \
			CTYPE_OF(type, field), offsetof(type, field),  \
			sizeof(((type *)0)->field)                     \
	}
#define TOPIC(...) KEY(GQ__CONFIG_TOPIC, struct gq__topic_conf, __VA_ARGS__)
#define NODE(...)  KEY(GQ__CONFIG_NODE, struct gq__node_conf, __VA_ARGS__)

#define KIB (INT64_C(1) << 10)
#define MIB (INT64_C(1) << 20)
#define TIB (INT64_C(1) << 40)

/* Sorted by name (strcmp); gq__config_key_find() bisects it. */
static const struct key keys[] = {
	NODE("advertised_address", KIND_HOSTPORT, advertised_address,
	     "host:port", "", 0, 0,
	     "host:port Kafka clients use to reach this node"),
	NODE("batch_size", KIND_SIZE, batch_size, "size", "1048576", 1 * KIB,
	     256 * MIB,
	     "a node connected to remote brokers joins the produce calls of "
	     "one partition into batches of up to this many bytes"),
	NODE("cleanup_interval", KIND_DURATION, cleanup_interval_ms, "duration",
	     "1h", 1, INT64_MAX, "how often retention runs"),
	TOPIC("compression_enabled", KIND_BOOL, compression_enabled, "bool",
	      "true", 0, 1,
	      "compress batches of at least compression_threshold"),
	TOPIC("compression_threshold", KIND_SIZE, compression_threshold, "size",
	      "1024", 0, UINT32_MAX,
	      "batches smaller than this are stored uncompressed"),
	TOPIC("compression_type", KIND_CODEC, compression_type, "codec", "gzip",
	      0, 4, "none, gzip, snappy, lz4 or zstd"),
	NODE("dead_broker_grace", KIND_DURATION, dead_broker_grace_ms,
	     "duration", "10m", 0, INT64_MAX,
	     "how long a broker may be silent before its replicas are "
	     "re-created on live brokers; 0 never"),
	TOPIC("deduplication_enabled", KIND_BOOL, dedup_enabled, "bool",
	      "false", 0, 1,
	      "drop a message whose content hash was seen in the window"),
	TOPIC("deduplication_window", KIND_COUNT, dedup_window, "count",
	      "10000", 1, 10000000,
	      "how many recent hashes to remember per partition"),
	NODE("election_timeout", KIND_DURATION, election_timeout_ms, "duration",
	     "600ms", 50, 60000,
	     "Raft election timeout; heartbeats go at a sixth of it"),
	NODE("enable_follower_read", KIND_BOOL, enable_follower_read, "bool",
	     "true", 0, 1, "followers serve fetches from committed data"),
	NODE("enable_idempotence", KIND_BOOL, enable_idempotence, "bool",
	     "true", 0, 1,
	     "a node connected to remote brokers produces as an idempotent "
	     "producer, so a retry never stores a message twice"),
	NODE("flush_interval", KIND_DURATION, flush_interval_ms, "duration",
	     "5s", 1, INT64_MAX, "how often segments and the index are synced"),
	NODE("group_initial_rebalance_delay", KIND_DURATION,
	     group_initial_rebalance_delay_ms, "duration", "3s", 0, 300000,
	     "how long a group starting from Empty waits for more members "
	     "before its first rebalance completes (Kafka's "
	     "group.initial.rebalance.delay.ms); 0 completes as soon as "
	     "everybody joined"),
	NODE("group_max_session_timeout", KIND_DURATION,
	     group_max_session_timeout_ms, "duration", "30m", 1, INT32_MAX,
	     "longest session timeout a group member may ask for "
	     "(group.max.session.timeout.ms)"),
	NODE("group_min_session_timeout", KIND_DURATION,
	     group_min_session_timeout_ms, "duration", "6s", 1, INT32_MAX,
	     "shortest session timeout a group member may ask for "
	     "(group.min.session.timeout.ms)"),
	NODE("initial_cluster", KIND_PEERS, initial_cluster, "peers", "", 0, 0,
	     "id@ip:port of the first controller voters, this node "
	     "included; empty for a single node"),
	NODE("leader_rebalance_interval", KIND_DURATION,
	     leader_rebalance_interval_ms, "duration", "10s", 0, INT64_MAX,
	     "how often a leader hands over to its preferred replica; "
	     "0 turns rebalancing off"),
	NODE("linger", KIND_DURATION, linger_ms, "duration", "0", 0, 60000,
	     "how long a node connected to remote brokers holds a "
	     "partition's produce calls to send more of them in one batch; "
	     "0 sends at once, batching only while earlier batches are out"),
	TOPIC("max_message_size", KIND_SIZE, max_message_size, "size",
	      "1048576", 1, 256 * MIB, "largest accepted record batch"),
	NODE("max_storage_size", KIND_SIZE, max_storage_size, "size",
	     "1073741824000", 1, INT64_MAX,
	     "segment bytes on this node before the oldest are deleted"),
	NODE("max_topic_partitions", KIND_COUNT, max_topic_partitions, "count",
	     "1000", 1, 100000, "most partitions a topic may have"),
	NODE("node_id", KIND_COUNT, node_id, "count", "1", 1, INT32_MAX,
	     "this node's Raft id"),
	NODE("rack", KIND_LABEL, rack, "label", "", 0, 0,
	     "this node's rack or zone (Kafka's broker.rack), for follower "
	     "reads"),
	NODE("raft_address", KIND_ADDRESS, raft_address, "address", "", 0, 0,
	     "ip:port the Raft port listens on; empty for none"),
	NODE("raft_fsync", KIND_BOOL, raft_fsync, "bool", "true", 0, 0,
	     "sync the Raft log to disk before a write counts as stored on "
	     "this replica; false leaves it to the page cache, as Kafka "
	     "does"),
	NODE("raft_segment_size", KIND_SIZE, raft_segment_size, "size",
	     "8388608", 1 * MIB, 64 * MIB,
	     "size of each Raft log file before the next one starts"),
	NODE("request_timeout", KIND_DURATION, request_timeout_ms, "duration",
	     "30s", 100, INT32_MAX,
	     "how long a node connected to remote brokers "
	     "(gq_node_connect) waits for an answer or a leader"),
	TOPIC("retention_bytes", KIND_SIZE_OR_UNLIMITED, retention_bytes,
	      "size", "-1", -1, INT64_MAX,
	      "per-partition size limit; -1 for unlimited"),
	TOPIC("retention_time", KIND_DURATION_OR_FOREVER, retention_ms,
	      "duration", "168h", -1, INT64_MAX,
	      "delete segments older than this; 0 or -1 keeps forever"),
	TOPIC("segment_size", KIND_SIZE, segment_size, "size", "104857600",
	      4 * KIB, TIB, "bytes per segment file before it rolls"),
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* Codec names, indexed by enum gq__codec (lib/codec.h), and whether this
 * build can use them. */
static const struct {
	const char *name;
	bool built;
} codecs[] = {
	{ "none", true },
	{ "gzip", true },
	{ "snappy", GQ_HAVE_SNAPPY },
	{ "lz4", GQ_HAVE_LZ4 },
	{ "zstd", GQ_HAVE_ZSTD },
};

#define N_CODECS (sizeof(codecs) / sizeof(codecs[0]))

/* One canonical value string per key; NULL when never set. */
struct gq_config {
	char *values[N_KEYS];
	/* The node's log callback, so messages of gq_node_open() itself
	 * (recovery) reach it. */
	gq_log_cb log_cb;
	void *log_arg;
	enum gq_log_level log_min;
};

void
gq_config_set_log_cb(struct gq_config *config, gq_log_cb cb, void *arg,
		     enum gq_log_level min_level)
{
	config->log_cb = cb;
	config->log_arg = arg;
	config->log_min = min_level;
}

gq_log_cb
gq__config_log_cb(const struct gq_config *config, void **arg,
		  enum gq_log_level *min_level)
{
	if (config == NULL)
		return NULL;
	*arg = config->log_arg;
	*min_level = config->log_min;
	return config->log_cb;
}

/* Longest canonical value: 20 digits of an int64, a duration with its
 * unit, or an address. */
#define CANON_SIZE STR_SIZE

static void seterr(char *errmsg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
seterr(char *errmsg, const char *fmt, ...)
{
	va_list ap;

	if (errmsg == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(errmsg, GQ_ERRMSG_SIZE, fmt, ap);
	va_end(ap);
}

const struct gq__config_key *
gq__config_key_at(size_t i)
{
	return i < N_KEYS ? &keys[i].pub : NULL;
}

static int
key_cmp(const void *name, const void *elem)
{
	const struct key *k = elem;

	return strcmp(name, k->pub.name);
}

static const struct key *
find(const char *name)
{
	return bsearch(name, keys, N_KEYS, sizeof(keys[0]), key_cmp);
}

const struct gq__config_key *
gq__config_key_find(const char *name)
{
	const struct key *k;

	if (name == NULL)
		return NULL;
	k = find(name);
	return k != NULL ? &k->pub : NULL;
}

/* ---------------------------------------------------------------------- */
/* Parsers                                                                 */
/* ---------------------------------------------------------------------- */

/* Read one or more decimal digits at *@p into @out, advancing *@p. */
static int
parse_digits(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	unsigned d;

	if (*s < '0' || *s > '9')
		return GQ_EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return GQ_EINVAL;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return 0;
}

/* A whole string of decimal digits. */
static int
parse_uint(const char *s, uint64_t *out)
{
	uint64_t v;

	if (parse_digits(&s, &v) != 0 || *s != '\0')
		return GQ_EINVAL;
	*out = v;
	return 0;
}

int
gq__parse_duration_ms(const char *s, int64_t *out)
{
	/* "ms" precedes "m" so that the longer unit wins. */
	static const struct {
		const char *unit;
		size_t len;
		int64_t ms;
	} units[] = {
		{ "ms", 2, 1 },      { "s", 1, 1000 },     { "m", 1, 60000 },
		{ "h", 1, 3600000 }, { "d", 1, 86400000 },
	};
	int64_t total = 0;
	uint64_t n;
	size_t i;

	if (s == NULL)
		return GQ_EINVAL;
	if (strcmp(s, "-1") == 0) {
		*out = -1;
		return 0;
	}
	if (parse_digits(&s, &n) != 0)
		return GQ_EINVAL;
	if (*s == '\0') {
		if (n > INT64_MAX)
			return GQ_EINVAL;
		*out = (int64_t)n;
		return 0;
	}
	for (;;) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (strncmp(s, units[i].unit, units[i].len) == 0)
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return GQ_EINVAL;
		s += units[i].len;
		if (n > (uint64_t)(INT64_MAX / units[i].ms))
			return GQ_EINVAL;
		if ((int64_t)n * units[i].ms > INT64_MAX - total)
			return GQ_EINVAL;
		total += (int64_t)n * units[i].ms;
		if (*s == '\0')
			break;
		if (parse_digits(&s, &n) != 0)
			return GQ_EINVAL;
	}
	*out = total;
	return 0;
}

int
gq__parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mul;
	} suffixes[] = {
		{ "", 1 },
		{ "KiB", UINT64_C(1) << 10 },
		{ "MiB", UINT64_C(1) << 20 },
		{ "GiB", UINT64_C(1) << 30 },
		{ "TiB", UINT64_C(1) << 40 },
		{ "KB", UINT64_C(1000) },
		{ "MB", UINT64_C(1000000) },
		{ "GB", UINT64_C(1000000000) },
		{ "TB", UINT64_C(1000000000000) },
	};
	uint64_t n;
	size_t i;

	if (s == NULL || parse_digits(&s, &n) != 0)
		return GQ_EINVAL;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (strcmp(s, suffixes[i].suffix) == 0)
			break;
	}
	if (i == sizeof(suffixes) / sizeof(suffixes[0]))
		return GQ_EINVAL;
	if (n > UINT64_MAX / suffixes[i].mul)
		return GQ_EINVAL;
	*out = n * suffixes[i].mul;
	return 0;
}

int
gq__parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };
	size_t i;

	if (s == NULL)
		return GQ_EINVAL;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return GQ_EINVAL;
}

/* One decimal field of an address: 1..@maxlen digits, no leading zero (so
 * "010" cannot be mistaken for octal), at most @max. */
static int
parse_addr_field(const char **p, size_t maxlen, unsigned max, unsigned *out)
{
	const char *s = *p;
	unsigned v = 0;
	size_t len = 0;

	while (*s >= '0' && *s <= '9') {
		if (++len > maxlen)
			return GQ_EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
		s++;
	}
	if (len == 0 || (len > 1 && **p == '0') || v > max)
		return GQ_EINVAL;
	*p = s;
	*out = v;
	return 0;
}

/* "a.b.c.d:port" with a numeric IPv4 address and a port 1..65535, or "". */
static int
parse_address(const char *s, char *out)
{
	unsigned f[5];
	size_t i;

	if (*s == '\0') {
		out[0] = '\0';
		return 0;
	}
	for (i = 0; i < 4; i++) {
		if (parse_addr_field(&s, 3, 255, &f[i]) != 0)
			return GQ_EINVAL;
		if (*s++ != (i < 3 ? '.' : ':'))
			return GQ_EINVAL;
	}
	if (parse_addr_field(&s, 5, 65535, &f[4]) != 0 || f[4] == 0 ||
	    *s != '\0')
		return GQ_EINVAL;
	snprintf(out, STR_SIZE, "%u.%u.%u.%u:%u", f[0], f[1], f[2], f[3], f[4]);
	return 0;
}

/* "host:port" where host is a DNS name or IPv4 address (letters, digits,
 * '.' and '-', at most 253 bytes) and port 1..65535, or "". */
static int
parse_hostport(const char *s, char *out)
{
	const char *colon = strrchr(s, ':');
	const char *p;
	unsigned port;

	if (*s == '\0') {
		out[0] = '\0';
		return 0;
	}
	if (colon == NULL || colon == s || colon - s > 253)
		return GQ_EINVAL;
	for (p = s; p < colon; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			return GQ_EINVAL;
	}
	p = colon + 1;
	if (parse_addr_field(&p, 5, 65535, &port) != 0 || port == 0 ||
	    *p != '\0')
		return GQ_EINVAL;
	snprintf(out, STR_SIZE, "%s", s);
	return 0;
}

int
gq__peers_parse(const char *s, struct gq__peer *out, size_t *n)
{
	struct gq__peer peers[GQ__PEERS_MAX];
	size_t count = 0;

	while (*s != '\0') {
		char addr[STR_SIZE];
		const char *end = strchr(s, ',');
		size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
		uint64_t id;

		if (count == GQ__PEERS_MAX || len >= sizeof(addr) ||
		    parse_digits(&s, &id) != 0 || id == 0 || id > INT32_MAX ||
		    (*s != '@' && *s != '='))
			return GQ_EINVAL;
		s++;
		len = end != NULL ? (size_t)(end - s) : strlen(s);
		memcpy(addr, s, len);
		addr[len] = '\0';
		if (parse_address(addr, peers[count].address) != 0 ||
		    peers[count].address[0] == '\0')
			return GQ_EINVAL;
		peers[count].id = id;
		for (size_t i = 0; i < count; i++) {
			if (peers[i].id == id ||
			    strcmp(peers[i].address, peers[count].address) == 0)
				return GQ_EINVAL;
		}
		count++;
		s += len;
		if (*s == ',' && *++s == '\0')
			return GQ_EINVAL; /* a trailing comma */
	}
	if (count == 0)
		return GQ_EINVAL;
	memcpy(out, peers, count * sizeof(*peers));
	*n = count;
	return 0;
}

/* The canonical "id@address,..." form of a peer list, or "". */
static int
parse_peers(const char *s, char *out)
{
	struct gq__peer peers[GQ__PEERS_MAX];
	size_t n, used = 0;

	out[0] = '\0';
	if (*s == '\0')
		return 0;
	if (gq__peers_parse(s, peers, &n) != 0)
		return GQ_EINVAL;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + used, STR_SIZE - used, "%s%llu@%s",
				 i > 0 ? "," : "",
				 (unsigned long long)peers[i].id,
				 peers[i].address);

		if (w < 0 || (size_t)w >= STR_SIZE - used)
			return GQ_EINVAL;
		used += (size_t)w;
	}
	return 0;
}

/* A label such as a rack name: letters, digits, '.', '_' and '-'. */
static int
parse_label(const char *s, char *out)
{
	for (const char *c = s; *c != '\0'; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' &&
		    *c != '-')
			return GQ_EINVAL;
	snprintf(out, STR_SIZE, "%s", s);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Typed values                                                            */
/* ---------------------------------------------------------------------- */

/* What a key expects, for error messages. */
static const char *
expected(const struct key *k)
{
	switch (k->kind) {
	case KIND_SIZE:
		return "a size in bytes";
	case KIND_SIZE_OR_UNLIMITED:
		return "-1 for unlimited, or a size in bytes";
	case KIND_DURATION:
		return k->pub.min > 0
			       ? "a positive duration such as 500ms, 10s, 30m "
				 "or 168h"
			       : "a duration such as 500ms, 10s, 30m or 168h, "
				 "or 0";
	case KIND_DURATION_OR_FOREVER:
		return "a duration such as 500ms, 10s, 30m or 168h, "
		       "or 0 or -1 to keep forever";
	case KIND_COUNT:
		return "an integer";
	case KIND_BOOL:
		return "true or false";
	case KIND_CODEC:
		return "one of none, gzip, snappy, lz4, zstd";
	case KIND_ADDRESS:
		return "an IPv4 address and port such as 127.0.0.1:7001, "
		       "or an empty string";
	case KIND_HOSTPORT:
		return "a host name or IPv4 address and a port such as "
		       "broker1.example.com:9092, or an empty string";
	case KIND_PEERS:
		return "a list of node id@IPv4 address:port such as "
		       "1@127.0.0.1:7001,2@127.0.0.1:7002 (distinct ids and "
		       "addresses), or an empty string";
	case KIND_LABEL:
		return "up to 63 letters, digits, '.', '_' or '-', or an "
		       "empty string";
	}
	return "a valid value";
}

/* Whether typed value @v is acceptable for @k (the address is checked by
 * its parser). */
static bool
in_range(const struct key *k, int64_t v)
{
	switch (k->kind) {
	case KIND_SIZE_OR_UNLIMITED:
	case KIND_DURATION_OR_FOREVER:
		return v == -1 || (v >= 1 && v <= k->pub.max);
	case KIND_DURATION:
		return v >= k->pub.min && v <= k->pub.max;
	case KIND_ADDRESS:
	case KIND_HOSTPORT:
	case KIND_PEERS:
	case KIND_LABEL:
		return true;
	default:
		return v >= k->pub.min && v <= k->pub.max;
	}
}

/*
 * Parse @s for key @k into @v (every kind but KIND_ADDRESS) or @addr
 * (STR_SIZE bytes).  On GQ_EINVAL, @errmsg (may be NULL) names the key
 * and the value.
 */
static int
parse_value(const struct key *k, const char *s, int64_t *v, char *addr,
	    char *errmsg)
{
	uint64_t u = 0;
	int64_t d = 0;
	bool b = false;
	size_t i;

	switch (k->kind) {
	case KIND_SIZE:
	case KIND_COUNT:
		if ((k->kind == KIND_SIZE ? gq__parse_size(s, &u)
					  : parse_uint(s, &u)) != 0)
			goto err_syntax;
		if (u > (uint64_t)k->pub.max || !in_range(k, (int64_t)u))
			goto err_range;
		*v = (int64_t)u;
		return 0;
	case KIND_SIZE_OR_UNLIMITED:
		if (strcmp(s, "-1") == 0) {
			*v = -1;
			return 0;
		}
		if (gq__parse_size(s, &u) != 0)
			goto err_syntax;
		if (u > (uint64_t)k->pub.max || !in_range(k, (int64_t)u))
			goto err_range;
		*v = (int64_t)u;
		return 0;
	case KIND_DURATION:
	case KIND_DURATION_OR_FOREVER:
		if (gq__parse_duration_ms(s, &d) != 0)
			goto err_syntax;
		if (k->kind == KIND_DURATION_OR_FOREVER && d == 0)
			d = -1;
		if (!in_range(k, d))
			goto err_syntax;
		*v = d;
		return 0;
	case KIND_BOOL:
		if (gq__parse_bool(s, &b) != 0)
			goto err_syntax;
		*v = b;
		return 0;
	case KIND_CODEC:
		for (i = 0; i < N_CODECS; i++) {
			if (strcasecmp(s, codecs[i].name) == 0)
				break;
		}
		if (i == N_CODECS)
			goto err_syntax;
		if (!codecs[i].built) {
			seterr(errmsg,
			       "invalid value '%s' for '%s': this build of "
			       "libgoqueue has no %s codec",
			       codecs[i].name, k->pub.name, codecs[i].name);
			return GQ_EINVAL;
		}
		*v = (int64_t)i;
		return 0;
	case KIND_ADDRESS:
	case KIND_HOSTPORT:
	case KIND_PEERS:
	case KIND_LABEL:
		if (strlen(s) >= STR_SIZE ||
		    (k->kind == KIND_ADDRESS    ? parse_address(s, addr)
		     : k->kind == KIND_HOSTPORT ? parse_hostport(s, addr)
		     : k->kind == KIND_PEERS    ? parse_peers(s, addr)
						: parse_label(s, addr)) != 0 ||
		    strlen(addr) >= k->size)
			goto err_syntax;
		*v = 0;
		return 0;
	}
err_syntax:
	seterr(errmsg, "invalid value '%.64s' for '%s': expected %s", s,
	       k->pub.name, expected(k));
	return GQ_EINVAL;
err_range:
	seterr(errmsg,
	       "invalid value '%.64s' for '%s': expected %s between %" PRId64
	       " and %" PRId64,
	       s, k->pub.name, expected(k),
	       k->kind == KIND_SIZE_OR_UNLIMITED ? 1 : k->pub.min, k->pub.max);
	return GQ_EINVAL;
}

/* The canonical string of a duration of @v milliseconds, into @out
 * (CANON_SIZE bytes): the largest unit that divides it exactly, but never
 * days, since the documented defaults read "168h" and "1h". */
static void
format_duration(int64_t v, char *out)
{
	if (v <= 0)
		snprintf(out, CANON_SIZE, "%" PRId64, v);
	else if (v % 3600000 == 0)
		snprintf(out, CANON_SIZE, "%" PRId64 "h", v / 3600000);
	else if (v % 60000 == 0)
		snprintf(out, CANON_SIZE, "%" PRId64 "m", v / 60000);
	else if (v % 1000 == 0)
		snprintf(out, CANON_SIZE, "%" PRId64 "s", v / 1000);
	else
		snprintf(out, CANON_SIZE, "%" PRId64 "ms", v);
}

/* The canonical string of a typed value, into @out (CANON_SIZE bytes). */
static void
format_value(const struct key *k, int64_t v, const char *addr, char *out)
{
	switch (k->kind) {
	case KIND_DURATION:
	case KIND_DURATION_OR_FOREVER:
		format_duration(v, out);
		return;
	case KIND_BOOL:
		snprintf(out, CANON_SIZE, "%s", v ? "true" : "false");
		return;
	case KIND_CODEC:
		snprintf(out, CANON_SIZE, "%s", codecs[v].name);
		return;
	case KIND_ADDRESS:
	case KIND_HOSTPORT:
	case KIND_PEERS:
	case KIND_LABEL:
		snprintf(out, CANON_SIZE, "%s", addr);
		return;
	default:
		snprintf(out, CANON_SIZE, "%" PRId64, v);
		return;
	}
}

/* The struct a key's offset is relative to, in a node configuration. */
static void *
node_base(const struct key *k, struct gq__node_conf *c)
{
	return k->pub.scope == GQ__CONFIG_TOPIC ? (void *)&c->topic_defaults
						: (void *)c;
}

/* Store a typed value in its field.  memcpy keeps the field access free of
 * alignment assumptions about the offset. */
static void
store(const struct key *k, void *base, int64_t v, const char *addr)
{
	char *p = (char *)base + k->offset;
	uint64_t u64 = (uint64_t)v;
	uint32_t u32 = (uint32_t)v;
	int i = (int)v;
	bool b = v != 0;

	switch (k->ctype) {
	case CT_U64:
		memcpy(p, &u64, sizeof(u64));
		break;
	case CT_I64:
		memcpy(p, &v, sizeof(v));
		break;
	case CT_U32:
		memcpy(p, &u32, sizeof(u32));
		break;
	case CT_INT:
		memcpy(p, &i, sizeof(i));
		break;
	case CT_BOOL:
		memcpy(p, &b, sizeof(b));
		break;
	case CT_STR:
		memcpy(p, addr, strlen(addr) + 1);
		break;
	}
}

/* Load a field as a typed value; a uint64_t beyond INT64_MAX loads as
 * INT64_MIN so that every range check rejects it. */
static int64_t
load(const struct key *k, const void *base)
{
	const char *p = (const char *)base + k->offset;
	uint64_t u64;
	int64_t i64;
	uint32_t u32;
	int i;
	bool b;

	switch (k->ctype) {
	case CT_U64:
		memcpy(&u64, p, sizeof(u64));
		return u64 > INT64_MAX ? INT64_MIN : (int64_t)u64;
	case CT_I64:
		memcpy(&i64, p, sizeof(i64));
		return i64;
	case CT_U32:
		memcpy(&u32, p, sizeof(u32));
		return u32;
	case CT_INT:
		memcpy(&i, p, sizeof(i));
		return i;
	case CT_BOOL:
		memcpy(&b, p, sizeof(b));
		return b;
	case CT_STR:
		break;
	}
	return 0;
}

/* Apply the default of @k to @base; static strings always parse. */
static void
apply_default(const struct key *k, void *base)
{
	char addr[STR_SIZE];
	int64_t v = 0;

	addr[0] = '\0';
	parse_value(k, k->pub.def, &v, addr, NULL);
	store(k, base, v, addr);
}

void
gq__topic_conf_defaults(struct gq__topic_conf *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < N_KEYS; i++) {
		if (keys[i].pub.scope == GQ__CONFIG_TOPIC)
			apply_default(&keys[i], c);
	}
}

void
gq__node_conf_defaults(struct gq__node_conf *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < N_KEYS; i++)
		apply_default(&keys[i], node_base(&keys[i], c));
}

/*
 * Check the keys of a resolved node configuration that constrain each
 * other; each key alone was checked when it was set.  An empty session
 * timeout range would make the coordinator refuse every group member, so
 * it is a configuration error rather than a runtime surprise.
 */
static int
node_conf_check(const struct gq__node_conf *c, char *errmsg)
{
	char lo[CANON_SIZE], hi[CANON_SIZE];

	if (c->group_min_session_timeout_ms > c->group_max_session_timeout_ms) {
		/* Canonical, as gq_config_get() shows the two values. */
		format_duration(c->group_min_session_timeout_ms, lo);
		format_duration(c->group_max_session_timeout_ms, hi);
		seterr(errmsg,
		       "'group_min_session_timeout' (%.32s) is above "
		       "'group_max_session_timeout' (%.32s): no session "
		       "timeout would be accepted",
		       lo, hi);
		return GQ_EINVAL;
	}
	return 0;
}

int
gq__node_conf_from(const struct gq_config *cfg, struct gq__node_conf *out,
		   char *errmsg)
{
	struct gq__node_conf c;
	char addr[STR_SIZE];
	int64_t v;
	size_t i;

	gq__node_conf_defaults(&c);
	for (i = 0; cfg != NULL && i < N_KEYS; i++) {
		if (cfg->values[i] == NULL)
			continue;
		if (parse_value(&keys[i], cfg->values[i], &v, addr, errmsg) !=
		    0)
			return GQ_EINVAL;
		store(&keys[i], node_base(&keys[i], &c), v, addr);
	}
	if (node_conf_check(&c, errmsg) != 0)
		return GQ_EINVAL;
	*out = c;
	return 0;
}

int
gq__topic_conf_from(const struct gq_config *cfg,
		    const struct gq__topic_conf *defaults,
		    struct gq__topic_conf *out, char *errmsg)
{
	struct gq__topic_conf c = *defaults;
	char addr[STR_SIZE];
	int64_t v;
	size_t i;

	for (i = 0; cfg != NULL && i < N_KEYS; i++) {
		if (cfg->values[i] == NULL)
			continue;
		if (keys[i].pub.scope != GQ__CONFIG_TOPIC) {
			seterr(errmsg,
			       "'%s' is a node configuration key and cannot be "
			       "set for a topic",
			       keys[i].pub.name);
			return GQ_EINVAL;
		}
		if (parse_value(&keys[i], cfg->values[i], &v, addr, errmsg) !=
		    0)
			return GQ_EINVAL;
		store(&keys[i], &c, v, addr);
	}
	*out = c;
	return 0;
}

/* Whether every field of @c is within its key's limits. */
static bool
topic_conf_valid(const struct gq__topic_conf *c)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++) {
		if (keys[i].pub.scope == GQ__CONFIG_TOPIC &&
		    !in_range(&keys[i], load(&keys[i], c)))
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------------- */
/* Byte form (layout in config.h)                                          */
/* ---------------------------------------------------------------------- */

#define FLAG_COMPRESSION 0x01
#define FLAG_DEDUP       0x02

int
gq__topic_conf_encode(const struct gq__topic_conf *c, struct gq__buf *out)
{
	uint8_t b[GQ__TOPIC_CONF_ENCODED_SIZE];

	if (!topic_conf_valid(c))
		return GQ_EINVAL;
	b[0] = GQ__TOPIC_CONF_VERSION;
	b[1] = (uint8_t)((c->compression_enabled ? FLAG_COMPRESSION : 0) |
			 (c->dedup_enabled ? FLAG_DEDUP : 0));
	b[2] = (uint8_t)c->compression_type;
	b[3] = 0;
	gq__le32_put(b + 4, c->max_message_size);
	gq__le32_put(b + 8, c->compression_threshold);
	gq__le32_put(b + 12, c->dedup_window);
	gq__le64_put(b + 16, c->segment_size);
	gq__le64_put(b + 24, (uint64_t)c->retention_ms);
	gq__le64_put(b + 32, (uint64_t)c->retention_bytes);
	return gq__buf_append(out, b, sizeof(b));
}

/* Two's complement back to signed without the implementation-defined
 * conversion of a value above INT64_MAX. */
static int64_t
le64_get_signed(const uint8_t *p)
{
	uint64_t u = gq__le64_get(p);

	return u <= INT64_MAX ? (int64_t)u : -(int64_t)~u - 1;
}

int
gq__topic_conf_decode(const void *buf, size_t len, struct gq__topic_conf *out)
{
	const uint8_t *b = buf;
	struct gq__topic_conf c;

	if (len < 1 || b[0] == 0)
		return GQ_ECORRUPT;
	if (b[0] > GQ__TOPIC_CONF_VERSION)
		return GQ_EUNSUPPORTED;
	if (len != GQ__TOPIC_CONF_ENCODED_SIZE)
		return GQ_ECORRUPT;
	if ((b[1] & ~(FLAG_COMPRESSION | FLAG_DEDUP)) != 0 || b[3] != 0)
		return GQ_ECORRUPT;
	memset(&c, 0, sizeof(c));
	c.compression_enabled = (b[1] & FLAG_COMPRESSION) != 0;
	c.dedup_enabled = (b[1] & FLAG_DEDUP) != 0;
	c.compression_type = b[2];
	c.max_message_size = gq__le32_get(b + 4);
	c.compression_threshold = gq__le32_get(b + 8);
	c.dedup_window = gq__le32_get(b + 12);
	c.segment_size = gq__le64_get(b + 16);
	c.retention_ms = le64_get_signed(b + 24);
	c.retention_bytes = le64_get_signed(b + 32);
	if (!topic_conf_valid(&c))
		return GQ_ECORRUPT;
	*out = c;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* struct gq_config                                                        */
/* ---------------------------------------------------------------------- */

int
gq_config_create(struct gq_config **out)
{
	struct gq_config *cfg;

	if (out == NULL)
		return GQ_EINVAL;
	if ((cfg = gq__calloc(1, sizeof(*cfg))) == NULL)
		return GQ_ENOMEM;
	*out = cfg;
	return 0;
}

void
gq_config_destroy(struct gq_config *config)
{
	size_t i;

	if (config == NULL)
		return;
	for (i = 0; i < N_KEYS; i++)
		gq__free(config->values[i]);
	gq__free(config);
}

int
gq_config_set(struct gq_config *config, const char *key, const char *value,
	      char *errmsg)
{
	const struct key *k;
	char addr[STR_SIZE];
	char canon[CANON_SIZE];
	char *copy;
	int64_t v = 0;

	if (config == NULL || key == NULL || value == NULL) {
		seterr(errmsg, "gq_config_set: configuration, key and value "
			       "must not be NULL");
		return GQ_EINVAL;
	}
	if ((k = find(key)) == NULL) {
		seterr(errmsg, "unknown configuration key '%.64s'", key);
		return GQ_EINVAL;
	}
	addr[0] = '\0';
	if (parse_value(k, value, &v, addr, errmsg) != 0)
		return GQ_EINVAL;
	format_value(k, v, addr, canon);
	if ((copy = gq__strdup(canon)) == NULL) {
		seterr(errmsg, "out of memory setting '%s'", k->pub.name);
		return GQ_ENOMEM;
	}
	gq__free(config->values[k - keys]);
	config->values[k - keys] = copy;
	return 0;
}

const char *
gq_config_get(const struct gq_config *config, const char *key)
{
	const struct key *k;

	if (config == NULL || key == NULL || (k = find(key)) == NULL)
		return NULL;
	return config->values[k - keys];
}

int
gq__config_from_topic_conf(const struct gq__topic_conf *c,
			   struct gq_config **out)
{
	struct gq_config *cfg;
	char canon[CANON_SIZE];
	size_t i;
	int rv;

	if (!topic_conf_valid(c))
		return GQ_EINVAL;
	if ((rv = gq_config_create(&cfg)) != 0)
		return rv;
	for (i = 0; i < N_KEYS; i++) {
		if (keys[i].pub.scope != GQ__CONFIG_TOPIC)
			continue;
		format_value(&keys[i], load(&keys[i], c), "", canon);
		if ((cfg->values[i] = gq__strdup(canon)) == NULL)
			goto err_destroy;
	}
	*out = cfg;
	return 0;
err_destroy:
	gq_config_destroy(cfg);
	return GQ_ENOMEM;
}

/* ---------------------------------------------------------------------- */
/* Changes to a topic configuration (TOPIC_ALTER)                          */
/* ---------------------------------------------------------------------- */

/* The GQ__TF_* bit of the field topic key @k fills. */
static uint32_t
field_bit(const struct key *k)
{
	if (k->pub.scope != GQ__CONFIG_TOPIC)
		return 0;
	switch (k->offset) {
	case offsetof(struct gq__topic_conf, segment_size):
		return GQ__TF_SEGMENT_SIZE;
	case offsetof(struct gq__topic_conf, retention_ms):
		return GQ__TF_RETENTION_MS;
	case offsetof(struct gq__topic_conf, retention_bytes):
		return GQ__TF_RETENTION_BYTES;
	case offsetof(struct gq__topic_conf, max_message_size):
		return GQ__TF_MAX_MESSAGE_SIZE;
	case offsetof(struct gq__topic_conf, compression_enabled):
		return GQ__TF_COMPRESSION_ENABLED;
	case offsetof(struct gq__topic_conf, compression_type):
		return GQ__TF_COMPRESSION_TYPE;
	case offsetof(struct gq__topic_conf, compression_threshold):
		return GQ__TF_COMPRESSION_THRESHOLD;
	case offsetof(struct gq__topic_conf, dedup_enabled):
		return GQ__TF_DEDUP_ENABLED;
	case offsetof(struct gq__topic_conf, dedup_window):
		return GQ__TF_DEDUP_WINDOW;
	}
	return 0;
}

int
gq__topic_conf_changes(const struct gq_config *cfg,
		       const struct gq__topic_conf *base,
		       struct gq__topic_conf *out, uint32_t *mask, char *errmsg)
{
	uint32_t m = 0;
	size_t i;
	int rv;

	if ((rv = gq__topic_conf_from(cfg, base, out, errmsg)) != 0)
		return rv;
	for (i = 0; cfg != NULL && i < N_KEYS; i++) {
		if (cfg->values[i] != NULL)
			m |= field_bit(&keys[i]);
	}
	*mask = m;
	return 0;
}

void
gq__topic_conf_merge(struct gq__topic_conf *dst,
		     const struct gq__topic_conf *src, uint32_t mask)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++) {
		if ((field_bit(&keys[i]) & mask) != 0)
			store(&keys[i], dst, load(&keys[i], src), "");
	}
}

const char *
gq__topic_field_name(uint32_t bit)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++) {
		if (field_bit(&keys[i]) == bit && bit != 0)
			return keys[i].pub.name;
	}
	return "?";
}

bool
gq__topic_conf_equal(const struct gq__topic_conf *a,
		     const struct gq__topic_conf *b)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++) {
		if (keys[i].pub.scope == GQ__CONFIG_TOPIC &&
		    load(&keys[i], a) != load(&keys[i], b))
			return false;
	}
	return true;
}
