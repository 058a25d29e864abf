/* SPDX-License-Identifier: MIT */
/*
 * config.h - configuration keys: the public string-keyed struct gq_config,
 * the typed views the rest of the library reads (struct gq__node_conf and
 * struct gq__topic_conf), the value parsers, and the byte form of a topic
 * configuration stored in the Raft log and LMDB.
 *
 * One sorted table of key descriptors in config.c is the single source of
 * truth: names, scope, type, default, limits and a one-line doc.  A value
 * is validated when it is set and stored in canonical form, so resolving a
 * configuration into a typed view cannot meet a malformed value.
 */
#ifndef GQ_CONFIG_H
#define GQ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "goqueue.h"

struct gq__buf;

/* Every per-topic key, typed.  Defaults as documented in goqueue.h. */
struct gq__topic_conf {
	uint64_t segment_size;     /* bytes, 4096 .. 1 TiB */
	int64_t retention_ms;      /* -1 = forever, else >= 1 */
	int64_t retention_bytes;   /* -1 = unlimited, else >= 1 */
	uint32_t max_message_size; /* bytes, 1 .. 256 MiB */
	bool compression_enabled;
	int compression_type;           /* enum gq__codec: none 0 .. zstd 4 */
	uint32_t compression_threshold; /* bytes */
	bool dedup_enabled;
	uint32_t dedup_window; /* hashes remembered, 1 .. 10^7 */
};

/* Every key a node knows, typed: the defaults for new topics plus the keys
 * that only make sense for the node as a whole. */
struct gq__node_conf {
	struct gq__topic_conf topic_defaults;
	uint64_t max_storage_size;    /* bytes */
	int64_t flush_interval_ms;    /* >= 1 */
	int64_t cleanup_interval_ms;  /* >= 1 */
	int32_t max_topic_partitions; /* 1 .. 100000 */
	bool enable_follower_read;
	uint64_t node_id;             /* 1 .. INT32_MAX */
	char raft_address[64];        /* "a.b.c.d:port", or "" = none */
	char advertised_address[256]; /* "host:port", or "" = none */
	char rack[64];                /* Kafka's broker.rack, or "" */
	char initial_cluster[512];    /* "id@a.b.c.d:port,...", or "" */
	int64_t election_timeout_ms;
	int64_t request_timeout_ms;           /* remote nodes (remote.h) */
	int64_t linger_ms;                    /* remote nodes */
	uint64_t batch_size;                  /* remote nodes, bytes */
	bool enable_idempotence;              /* remote nodes */
	int64_t leader_rebalance_interval_ms; /* 0: off */
	int64_t dead_broker_grace_ms;         /* 0: never move replicas */
	uint64_t raft_segment_size;           /* bytes, per Raft log file */
	bool raft_fsync;                      /* rio.h */
	/* The consumer-group coordinator.  A member's session timeout must
	 * lie within [min, max]; gq__node_conf_from() refuses min > max. */
	int64_t group_initial_rebalance_delay_ms; /* 0 .. 300000; 0: none */
	int64_t group_min_session_timeout_ms;     /* 1 .. INT32_MAX */
	int64_t group_max_session_timeout_ms;     /* 1 .. INT32_MAX */
};

/* One member of initial_cluster. */
struct gq__peer {
	uint64_t id;
	char address[64];
};

#define GQ__PEERS_MAX 16

/* Parse "id@a.b.c.d:port[,...]" (also "id=..."): 1 to GQ__PEERS_MAX
 * members with distinct ids (1 .. INT32_MAX) and distinct addresses.
 * 0 or GQ_EINVAL; @out and @n written only on success. */
int gq__peers_parse(const char *s, struct gq__peer *out, size_t *n);

/* Where a key may be set: topic keys are accepted by a node (as defaults
 * for new topics) and by a topic; node keys by a node only. */
enum gq__config_scope {
	GQ__CONFIG_TOPIC,
	GQ__CONFIG_NODE,
};

/* A key descriptor, as gq__config_key_at() reports it. */
struct gq__config_key {
	const char *name;
	enum gq__config_scope scope;
	const char *type; /* "size", "duration", "bool", ... for docs */
	const char *def;  /* default, in canonical form */
	int64_t min;      /* inclusive limits of the typed value */
	int64_t max;
	const char *doc; /* one line, for help texts */
};

/* The key descriptors in name order, i from 0; NULL past the last one. */
const struct gq__config_key *gq__config_key_at(size_t i);

/* The descriptor of @name, or NULL for an unknown key. */
const struct gq__config_key *gq__config_key_find(const char *name);

/* Fill @c with the documented defaults. */
void gq__topic_conf_defaults(struct gq__topic_conf *c);
void gq__node_conf_defaults(struct gq__node_conf *c);

/* Resolve a node configuration (@cfg NULL = all defaults) into @out and
 * check the keys that constrain each other (group_min_session_timeout at
 * most group_max_session_timeout).  Returns 0, or GQ_EINVAL with a
 * sentence naming the key or keys in @errmsg (a GQ_ERRMSG_SIZE buffer, may
 * be NULL).  @out is written only on success. */
int gq__node_conf_from(const struct gq_config *cfg, struct gq__node_conf *out,
		       char *errmsg);

/* Resolve a topic configuration: start from @defaults (usually a node's
 * topic_defaults) and apply the keys set in @cfg (may be NULL).  A node-only
 * key in @cfg gives GQ_EINVAL naming the key.  @out is written only on
 * success and may alias @defaults. */
int gq__topic_conf_from(const struct gq_config *cfg,
			const struct gq__topic_conf *defaults,
			struct gq__topic_conf *out, char *errmsg);

/* One bit per field of struct gq__topic_conf, naming the keys a change
 * sets (controller.h, TOPIC_ALTER).  The values are stored in the Raft
 * log: never renumber them; a new field takes the next bit. */
enum gq__topic_field {
	GQ__TF_SEGMENT_SIZE = 1u << 0,
	GQ__TF_RETENTION_MS = 1u << 1,
	GQ__TF_RETENTION_BYTES = 1u << 2,
	GQ__TF_MAX_MESSAGE_SIZE = 1u << 3,
	GQ__TF_COMPRESSION_ENABLED = 1u << 4,
	GQ__TF_COMPRESSION_TYPE = 1u << 5,
	GQ__TF_COMPRESSION_THRESHOLD = 1u << 6,
	GQ__TF_DEDUP_ENABLED = 1u << 7,
	GQ__TF_DEDUP_WINDOW = 1u << 8,
};
#define GQ__TF_ALL 0x1ffu

/* As gq__topic_conf_from() from @base, and report in *@mask the
 * GQ__TF_* bits of the keys @cfg sets (0 when it sets none).  @out and
 * @mask are written only on success. */
int gq__topic_conf_changes(const struct gq_config *cfg,
			   const struct gq__topic_conf *base,
			   struct gq__topic_conf *out, uint32_t *mask,
			   char *errmsg);

/* Copy into @dst the fields of @src that @mask names. */
void gq__topic_conf_merge(struct gq__topic_conf *dst,
			  const struct gq__topic_conf *src, uint32_t mask);

/* The key name of field bit @bit (one GQ__TF_* value), or "?". */
const char *gq__topic_field_name(uint32_t bit);

/* Whether every field of @a equals that of @b (padding aside). */
bool gq__topic_conf_equal(const struct gq__topic_conf *a,
			  const struct gq__topic_conf *b);

/*
 * The byte form of a topic configuration, version 1: 40 bytes, every
 * integer little-endian, no padding, deterministic (equal configurations
 * give equal bytes).
 *
 *   offset size  field
 *        0    1  version, 1
 *        1    1  flags: bit 0 compression_enabled, bit 1 dedup_enabled,
 *                other bits 0
 *        2    1  compression_type (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)
 *        3    1  reserved, 0
 *        4    4  max_message_size
 *        8    4  compression_threshold
 *       12    4  dedup_window
 *       16    8  segment_size
 *       24    8  retention_ms (two's complement; -1 forever)
 *       32    8  retention_bytes (two's complement; -1 unlimited)
 *
 * A later version may only append fields; decoders of this version reject
 * it with GQ_EUNSUPPORTED.
 */
#define GQ__TOPIC_CONF_VERSION      1
#define GQ__TOPIC_CONF_ENCODED_SIZE 40

/* Append the byte form of @c to @out.  Returns 0, GQ_EINVAL if a field is
 * out of its key's range, or GQ_ENOMEM (@out then unchanged). */
int gq__topic_conf_encode(const struct gq__topic_conf *c, struct gq__buf *out);

/* Decode exactly @len bytes.  Returns 0, GQ_ECORRUPT (wrong length, bad
 * flags, reserved byte set, a field out of range) or GQ_EUNSUPPORTED (a
 * newer version).  @out is written only on success. */
int gq__topic_conf_decode(const void *buf, size_t len,
			  struct gq__topic_conf *out);

/* Create a configuration holding every topic key of @c in canonical form
 * (for gq_topic_info_config()).  @out is owned by the caller: free it with
 * gq_config_destroy().  Returns 0, GQ_EINVAL (a field out of range) or
 * GQ_ENOMEM. */
int gq__config_from_topic_conf(const struct gq__topic_conf *c,
			       struct gq_config **out);

/*
 * Value parsers, shared by the keys above.  Each returns 0 or GQ_EINVAL
 * (junk, overflow, a negative number where none is allowed) and writes
 * @out only on success.  No leading or trailing white space is accepted.
 *
 * Durations: a plain integer is milliseconds; otherwise one or more
 * <integer><unit> terms, units "d", "h", "m", "s", "ms", summed ("1h30m").
 * "-1" is the only negative value accepted (keys that allow it mean
 * "forever"); callers check it against the key.
 */
/* The log callback set with gq_config_set_log_cb(), or NULL. */
gq_log_cb gq__config_log_cb(const struct gq_config *config, void **arg,
			    enum gq_log_level *min_level);

int gq__parse_duration_ms(const char *s, int64_t *out);

/* Sizes: a plain integer is bytes; suffixes "KiB", "MiB", "GiB", "TiB"
 * (powers of 1024) and "KB", "MB", "GB", "TB" (powers of 1000), case as
 * written, directly after the number ("100MiB"). */
int gq__parse_size(const char *s, uint64_t *out);

/* Booleans: true/false, 1/0, yes/no, on/off, in any case. */
int gq__parse_bool(const char *s, bool *out);

#endif /* GQ_CONFIG_H */
