/* SPDX-License-Identifier: MIT */
/*
 * config.h - gqd's configuration: every key of the original JSON file plus
 * gqd's own, read in layers (defaults < JSON file < GQ_* environment <
 * command-line flags) and checked once at the end.
 *
 * One table in config.c describes every key: its JSON name, environment
 * variable, type, default and whether SIGHUP can apply it.  Keys that belong
 * to libgoqueue (segment_size, retention_time, ...) are not parsed here: they
 * go straight to gq_config_set(), which validates them and keeps them in
 * canonical form in @lib, so gqd and the library can never disagree about a
 * value.  gqd's own keys (addresses, limits of the Kafka listener, logging)
 * are parsed into the typed fields below.
 *
 * Usage:
 *
 *	struct gqd_config c;
 *	if (gqd_config_load(path, &c, err, sizeof(err)) != 0 ||
 *	    gqd_config_apply_env(&c, err, sizeof(err)) != 0 ||
 *	    gqd_config_set(&c, "broker_id", "2", err, sizeof(err)) != 0 ||
 *	    gqd_config_validate(&c, err, sizeof(err)) != 0)
 *		-> print err, exit 2
 *	gqd_config_node_config(&c, &lib, err, sizeof(err)); gq_node_open(...);
 *	gqd_config_free(&c);
 *
 * Every error message is one line that names the key (and, for the file and
 * the environment, where it came from), without a trailing period.
 * Nothing here is thread-safe; gqd builds its configuration on the main
 * thread.
 */
#ifndef GQD_CONFIG_H
#define GQD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <goqueue.h>

/* Sizes of the string fields, including the NUL. */
#define GQD_PATH_SIZE 4096
#define GQD_ADDR_SIZE 264 /* a 255-byte host name, ':' and a port */
#define GQD_HOST_SIZE 256
#define GQD_IP_SIZE   46 /* INET6_ADDRSTRLEN */

/* An address split (and, for the ones gqd binds, resolved) by
 * gqd_config_validate(). */
struct gqd_addr {
	char host[GQD_HOST_SIZE]; /* as written, without IPv6 brackets;
				     "0.0.0.0" when written empty (":9092") */
	uint16_t port;            /* 1..65535; 0 when the address is "" */
	char ip[GQD_IP_SIZE];     /* numeric form of host, "" for
				     advertised_addr and unset addresses */
	int family;               /* AF_INET or AF_INET6 of ip, else 0 */
};

/* Whether a running gqd can apply a new value of a key on SIGHUP. */
enum gqd_reload {
	GQD_RELOAD_NO,    /* read once at start; restart to change */
	GQD_RELOAD_LATER, /* meant to be reloadable; for now logged as
			     "reload not yet supported" and needs a restart */
	GQD_RELOAD_YES,   /* applied on SIGHUP */
};

struct gqd_config {
	/* gqd's own keys, typed. */
	char data_dir[GQD_PATH_SIZE];  /* node directory, default "./data" */
	int32_t broker_id;             /* >= 1, the node's Raft id; default 1 */
	char raft_addr[GQD_ADDR_SIZE]; /* "127.0.0.1:7001"; "" = none */
	char client_addr[GQD_ADDR_SIZE]; /* Kafka listener, "0.0.0.0:9092" */
	char advertised_addr[GQD_ADDR_SIZE];  /* "" = derived (see below) */
	char admin_addr[GQD_ADDR_SIZE];       /* "127.0.0.1:9644"; "" = none */
	enum gq_log_level log_level;          /* default GQ_LOG_INFO */
	char log_file[GQD_PATH_SIZE];         /* "" = stderr */
	uint32_t max_connections;             /* default 1024 */
	uint32_t max_frame_size;              /* bytes, 1 MiB..2 GiB-1 */
	uint32_t max_inflight_per_connection; /* default 16 */
	uint64_t idle_timeout_ms;             /* 0 = never; default 10m */
	bool auto_create_topics;              /* default true */
	int32_t default_partitions;           /* default 1 */
	int32_t default_replication_factor;   /* default 1 */

	/* The library's keys set so far, canonical; owned.  Keys never set
	 * are absent (gq_config_get() returns NULL) and take the library's
	 * defaults. */
	struct gq_config *lib;

	/* Filled by gqd_config_validate(): the addresses split and resolved.
	 * advertised is advertised_addr, or when that is "" client_addr with
	 * a wildcard host (0.0.0.0, ::) replaced by 127.0.0.1. */
	struct gqd_addr raft;
	struct gqd_addr client;
	struct gqd_addr advertised;
	struct gqd_addr admin;
	/* And from the library's keys: whether followers serve Fetch
	 * (enable_follower_read), and this broker's rack. */
	bool follower_read;
	char rack[64];
	bool validated;
};

/* A key as the table in config.c describes it. */
struct gqd_config_key {
	const char *name; /* JSON name; "server.port" is "port" inside the
			     "server" object */
	const char *env;  /* environment variable, "GQ_" + upper-case name */
	const char *type; /* "string", "address", "size", "duration", ... */
	const char *def;  /* default as text; "" when empty or derived */
	enum gqd_reload reload;
	bool library; /* passed to libgoqueue through gq_config_set() */
	bool alias;   /* another spelling of a key (server.port,
			 server.log_file), kept for the original's files */
};

/* The key descriptors in table order, i from 0; NULL past the last one. */
const struct gqd_config_key *gqd_config_key_at(size_t i);

/* The descriptor of @name ("server.port" for nested keys), or NULL. */
const struct gqd_config_key *gqd_config_key_find(const char *name);

/* Fill @c with the defaults.  Returns 0 or GQ_ENOMEM; on failure @c needs
 * no gqd_config_free() (calling it is harmless). */
int gqd_config_init(struct gqd_config *c, char *err, size_t errlen);

/* gqd_config_init(), then, when @path is not NULL, read the JSON file at
 * @path on top of the defaults.  Returns 0, GQ_EINVAL (syntax, unknown key,
 * wrong type, bad value: @err names the file and the key), GQ_EIO (the file
 * cannot be read) or GQ_ENOMEM.  On failure @out is already freed. */
int gqd_config_load(const char *path, struct gqd_config *out, char *err,
		    size_t errlen);

/* Set one key from text, as the environment and flags give it.  Within one
 * layer the table order decides: server.port rewrites only the port of
 * client_addr, server.log_file is log_file.  Returns 0, GQ_EINVAL (unknown
 * key or bad value; @err names the key) or GQ_ENOMEM.  @c is unchanged on
 * failure. */
int gqd_config_set(struct gqd_config *c, const char *key, const char *value,
		   char *err, size_t errlen);

/* Apply every GQ_<KEY> environment variable that is set (GQ_DATA_DIR,
 * GQ_SERVER_PORT, ...); other GQ_* variables are ignored.  Returns as
 * gqd_config_set(), with @err naming the variable. */
int gqd_config_apply_env(struct gqd_config *c, char *err, size_t errlen);

/* Check the keys against each other, derive advertised_addr and resolve
 * the addresses gqd binds (host names through getaddrinfo(); raft_addr
 * must resolve to IPv4, as the library's Raft transport wants).  Call it
 * after the last layer.  Returns 0 or GQ_EINVAL with @err naming the key. */
int gqd_config_validate(struct gqd_config *c, char *err, size_t errlen);

/* The library configuration for gq_node_open(): every library key set in
 * @c, plus node_id (broker_id) and raft_address (raft_addr resolved).
 * @c must be validated.  @out is owned by the caller: gq_config_destroy().
 * Returns 0, GQ_EINVAL or GQ_ENOMEM. */
int gqd_config_node_config(const struct gqd_config *c, struct gq_config **out,
			   char *err, size_t errlen);

/* The library's topic keys, in gqd.conf(5) order. */
#define GQD_N_TOPIC_KEYS 9
extern const char *const gqd_topic_keys[GQD_N_TOPIC_KEYS];

/* The configuration of a topic gqd creates (Kafka CreateTopics, automatic
 * creation, REST) before the request's own keys: the topic keys @c sets,
 * which a reload may have changed since the node opened.  @out is owned by
 * the caller.  Returns 0 or GQ_ENOMEM. */
int gqd_config_topic_base(const struct gqd_config *c, struct gq_config **out);

/* Write the current value of @key as text into @buf ("" for a library key
 * never set, which means the library's default).  Returns 0, GQ_EINVAL
 * (unknown key) or GQ_ENOMEM (@buf too small). */
int gqd_config_format(const struct gqd_config *c, const char *key, char *buf,
		      size_t len);

/* Free what @c owns and leave it empty.  Harmless on a zeroed struct and
 * after a failed gqd_config_load(). */
void gqd_config_free(struct gqd_config *c);

#endif /* GQD_CONFIG_H */
