/* SPDX-License-Identifier: MIT */
/*
 * test_config.c - configuration keys: set/get in canonical form, defaults as
 * goqueue.h documents them, validation of every value type, the duration,
 * size and boolean parsers, the typed node and topic views, the byte form
 * of a topic configuration, and every allocation failure.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "gq-config.h"
#include "heap.h"

/* ---------------------------------------------------------------------- */
/* A heap that fails its Nth allocation and counts live blocks.            */
/* ---------------------------------------------------------------------- */

struct fault {
	long fail_at; /* -1: never fail */
	long count;   /* allocations attempted */
	long live;    /* blocks allocated and not freed */
};

static bool
fault_fails(struct fault *f)
{
	return f->count++ == f->fail_at;
}

static void *
fault_malloc(void *data, size_t size)
{
	struct fault *f = data;
	void *p;

	if (fault_fails(f))
		return NULL;
	if ((p = malloc(size)) != NULL)
		f->live++;
	return p;
}

static void *
fault_calloc(void *data, size_t nmemb, size_t size)
{
	struct fault *f = data;
	void *p;

	if (fault_fails(f))
		return NULL;
	if ((p = calloc(nmemb, size)) != NULL)
		f->live++;
	return p;
}

static void *
fault_realloc(void *data, void *ptr, size_t size)
{
	struct fault *f = data;
	void *p;

	if (fault_fails(f))
		return NULL;
	if ((p = realloc(ptr, size)) != NULL && ptr == NULL)
		f->live++;
	return p;
}

static void
fault_free(void *data, void *ptr)
{
	struct fault *f = data;

	if (ptr != NULL)
		f->live--;
	free(ptr);
}

static struct fault fault;
static struct gq_heap fault_heap = {
	.data = &fault,
	.malloc = fault_malloc,
	.calloc = fault_calloc,
	.realloc = fault_realloc,
	.free = fault_free,
};

/* Install the fault heap, failing allocation @n (0-based; -1 never). */
static void
fault_arm(long n)
{
	fault.fail_at = n;
	fault.count = 0;
	fault.live = 0;
	cr_assert(eq(int, gq_heap_set(&fault_heap), 0));
}

static void
heap_restore(void)
{
	gq_heap_set(NULL);
}

TestSuite(config, .fini = heap_restore, .timeout = 10);

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

static struct gq_config *
config_new(void)
{
	struct gq_config *cfg = NULL;

	cr_assert(eq(int, gq_config_create(&cfg), 0));
	cr_assert(ne(ptr, cfg, NULL));
	return cfg;
}

/* Set @key to @value, expecting success. */
static void
set_ok(struct gq_config *cfg, const char *key, const char *value)
{
	char errmsg[GQ_ERRMSG_SIZE] = "";
	int rv = gq_config_set(cfg, key, value, errmsg);

	cr_assert(eq(int, rv, 0), "set %s=%s: %s", key, value, errmsg);
}

static bool
topic_conf_eq(const struct gq__topic_conf *a, const struct gq__topic_conf *b)
{
	return a->segment_size == b->segment_size &&
	       a->retention_ms == b->retention_ms &&
	       a->retention_bytes == b->retention_bytes &&
	       a->max_message_size == b->max_message_size &&
	       a->compression_enabled == b->compression_enabled &&
	       a->compression_type == b->compression_type &&
	       a->compression_threshold == b->compression_threshold &&
	       a->dedup_enabled == b->dedup_enabled &&
	       a->dedup_window == b->dedup_window;
}

/* A topic configuration with no field at its default. */
static void
topic_conf_unusual(struct gq__topic_conf *c)
{
	c->segment_size = 1 << 20;
	c->retention_ms = 90 * 60 * 1000;
	c->retention_bytes = 5000000000;
	c->max_message_size = 65536;
	c->compression_enabled = false;
	c->compression_type = 0;
	c->compression_threshold = 0;
	c->dedup_enabled = true;
	c->dedup_window = 77;
}

/* ---------------------------------------------------------------------- */
/* Key table                                                               */
/* ---------------------------------------------------------------------- */

/* The descriptor table is strictly sorted and has the 26 documented keys. */
Test(config, table_sorted)
{
	const struct gq__config_key *k, *prev = NULL;
	size_t i;

	for (i = 0; (k = gq__config_key_at(i)) != NULL; i++) {
		if (prev != NULL)
			cr_assert(lt(int, strcmp(prev->name, k->name), 0),
				  "%s before %s", prev->name, k->name);
		cr_assert(eq(ptr, (void *)gq__config_key_find(k->name),
			     (void *)k));
		prev = k;
	}
	cr_assert(eq(sz, i, 31));
	cr_assert(eq(ptr, (void *)gq__config_key_find("nope"), NULL));
	cr_assert(eq(ptr, (void *)gq__config_key_find(NULL), NULL));
}

/* Every key's default, set as a value, reads back unchanged. */
Test(config, defaults_are_canonical)
{
	struct gq_config *cfg = config_new();
	const struct gq__config_key *k;
	size_t i;

	for (i = 0; (k = gq__config_key_at(i)) != NULL; i++) {
		set_ok(cfg, k->name, k->def);
		cr_assert(eq(str, (char *)gq_config_get(cfg, k->name),
			     (char *)k->def));
	}
	gq_config_destroy(cfg);
}

/* ---------------------------------------------------------------------- */
/* gq_config_create/destroy/set/get                                        */
/* ---------------------------------------------------------------------- */

/* A fresh configuration has no key set; unknown keys and NULL read NULL. */
Test(config, get_unset)
{
	struct gq_config *cfg = config_new();

	cr_assert(eq(ptr, (void *)gq_config_get(cfg, "segment_size"), NULL));
	cr_assert(eq(ptr, (void *)gq_config_get(cfg, "no_such_key"), NULL));
	cr_assert(eq(ptr, (void *)gq_config_get(cfg, NULL), NULL));
	cr_assert(eq(ptr, (void *)gq_config_get(NULL, "segment_size"), NULL));
	gq_config_destroy(cfg);
}

/* Destroying NULL is a no-op. */
Test(config, destroy_null)
{
	gq_config_destroy(NULL);
}

/* Every key accepts its documented forms and stores the canonical one. */
Test(config, set_get_canonical)
{
	static const struct {
		const char *key, *in, *canon;
	} cases[] = {
		{ "segment_size", "4096", "4096" },
		{ "segment_size", "100MiB", "104857600" },
		{ "segment_size", "1TiB", "1099511627776" },
		{ "segment_size", "2GB", "2000000000" },
		{ "segment_size", "0064KiB", "65536" },
		{ "retention_time", "168h", "168h" },
		{ "retention_time", "7d", "168h" },
		{ "retention_time", "30m", "30m" },
		{ "retention_time", "10s", "10s" },
		{ "retention_time", "500ms", "500ms" },
		{ "retention_time", "90m", "90m" },
		{ "retention_time", "1h30m", "90m" },
		{ "retention_time", "60000", "1m" },
		{ "retention_time", "1500", "1500ms" },
		{ "retention_time", "0", "-1" },
		{ "retention_time", "-1", "-1" },
		{ "retention_bytes", "-1", "-1" },
		{ "retention_bytes", "1", "1" },
		{ "retention_bytes", "10GiB", "10737418240" },
		{ "max_message_size", "1", "1" },
		{ "max_message_size", "256MiB", "268435456" },
		{ "compression_enabled", "false", "false" },
		{ "compression_enabled", "YES", "true" },
		{ "compression_enabled", "0", "false" },
		{ "compression_enabled", "on", "true" },
		{ "compression_type", "none", "none" },
		{ "compression_type", "GZip", "gzip" },
		{ "compression_threshold", "0", "0" },
		{ "compression_threshold", "4KiB", "4096" },
		{ "deduplication_enabled", "true", "true" },
		{ "deduplication_enabled", "off", "false" },
		{ "deduplication_window", "1", "1" },
		{ "deduplication_window", "10000000", "10000000" },
		{ "max_storage_size", "1TB", "1000000000000" },
		{ "max_storage_size", "1", "1" },
		{ "flush_interval", "5s", "5s" },
		{ "flush_interval", "1", "1ms" },
		{ "flush_interval", "1d", "24h" },
		{ "cleanup_interval", "1h", "1h" },
		{ "cleanup_interval", "120s", "2m" },
		{ "max_topic_partitions", "1", "1" },
		{ "max_topic_partitions", "100000", "100000" },
		{ "enable_follower_read", "no", "false" },
		{ "enable_follower_read", "TRUE", "true" },
		{ "node_id", "1", "1" },
		{ "node_id", "2147483647", "2147483647" },
		{ "raft_address", "127.0.0.1:7001", "127.0.0.1:7001" },
		{ "raft_address", "0.0.0.0:1", "0.0.0.0:1" },
		{ "raft_address", "255.255.255.255:65535",
		  "255.255.255.255:65535" },
		{ "raft_address", "", "" },
		{ "initial_cluster", "1@127.0.0.1:7001", "1@127.0.0.1:7001" },
		{ "initial_cluster", "1=10.0.0.1:7001,22@10.0.0.2:7001",
		  "1@10.0.0.1:7001,22@10.0.0.2:7001" },
		{ "initial_cluster", "", "" },
		{ "advertised_address", "broker-1.example.com:9092",
		  "broker-1.example.com:9092" },
		{ "advertised_address", "10.1.2.3:19092", "10.1.2.3:19092" },
		{ "advertised_address", "", "" },
		{ "election_timeout", "1s", "1s" },
		{ "election_timeout", "250", "250ms" },
		{ "leader_rebalance_interval", "5m", "5m" },
		{ "leader_rebalance_interval", "0", "0" },
		{ "group_initial_rebalance_delay", "0", "0" },
		{ "group_initial_rebalance_delay", "500ms", "500ms" },
		{ "group_initial_rebalance_delay", "3s", "3s" },
		{ "group_initial_rebalance_delay", "300000", "5m" },
		{ "group_min_session_timeout", "500ms", "500ms" },
		{ "group_min_session_timeout", "3s", "3s" },
		{ "group_min_session_timeout", "1", "1ms" },
		{ "group_max_session_timeout", "500ms", "500ms" },
		{ "group_max_session_timeout", "3s", "3s" },
		{ "group_max_session_timeout", "2147483647", "2147483647ms" },
	};
	struct gq_config *cfg = config_new();
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_ok(cfg, cases[i].key, cases[i].in);
		cr_assert(eq(str, (char *)gq_config_get(cfg, cases[i].key),
			     (char *)cases[i].canon),
			  "%s=%s", cases[i].key, cases[i].in);
	}
	gq_config_destroy(cfg);
}

/* The codecs this build has are accepted; the others are rejected. */
Test(config, codecs_as_built)
{
	static const struct {
		const char *name;
		bool built;
	} cases[] = {
		{ "snappy", GQ_HAVE_SNAPPY },
		{ "lz4", GQ_HAVE_LZ4 },
		{ "zstd", GQ_HAVE_ZSTD },
	};
	struct gq_config *cfg = config_new();
	char errmsg[GQ_ERRMSG_SIZE];
	size_t i;
	int rv;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rv = gq_config_set(cfg, "compression_type", cases[i].name,
				   errmsg);
		if (cases[i].built) {
			cr_assert(eq(int, rv, 0));
			cr_assert(eq(
				str,
				(char *)gq_config_get(cfg, "compression_type"),
				(char *)cases[i].name));
		} else {
			cr_assert(eq(int, rv, GQ_EINVAL));
			cr_assert(ne(ptr, strstr(errmsg, cases[i].name), NULL));
		}
	}
	gq_config_destroy(cfg);
}

/* Setting a key again replaces its value. */
Test(config, set_replaces)
{
	struct gq_config *cfg = config_new();

	set_ok(cfg, "node_id", "3");
	set_ok(cfg, "node_id", "4");
	cr_assert(eq(str, (char *)gq_config_get(cfg, "node_id"), "4"));
	gq_config_destroy(cfg);
}

/* An unknown key is GQ_EINVAL with a sentence naming it. */
Test(config, unknown_key)
{
	struct gq_config *cfg = config_new();
	char errmsg[GQ_ERRMSG_SIZE] = "";

	cr_assert(eq(int, gq_config_set(cfg, "x", "1", errmsg), GQ_EINVAL));
	cr_assert(eq(str, errmsg, "unknown configuration key 'x'"));
	cr_assert(eq(int, gq_config_set(cfg, "Segment_Size", "4096", NULL),
		     GQ_EINVAL));
	cr_assert(eq(int, gq_config_set(cfg, "data_dir", "/tmp", NULL),
		     GQ_EINVAL));
	gq_config_destroy(cfg);
}

/* Junk for a size key gets the documented sentence. */
Test(config, invalid_size_message)
{
	struct gq_config *cfg = config_new();
	char errmsg[GQ_ERRMSG_SIZE] = "";

	cr_assert(eq(int, gq_config_set(cfg, "segment_size", "abc", errmsg),
		     GQ_EINVAL));
	cr_assert(eq(str, errmsg,
		     "invalid value 'abc' for 'segment_size': expected a size "
		     "in bytes"));
	cr_assert(eq(int, gq_config_set(cfg, "segment_size", "4095", errmsg),
		     GQ_EINVAL));
	cr_assert(eq(str, errmsg,
		     "invalid value '4095' for 'segment_size': expected a size "
		     "in bytes between 4096 and 1099511627776"));
	gq_config_destroy(cfg);
}

/* Every invalid value is GQ_EINVAL, names key and value, and leaves the
 * earlier value in place. */
Test(config, invalid_values)
{
	static const struct {
		const char *key, *value;
	} cases[] = {
		/* sizes */
		{ "segment_size", "" },
		{ "segment_size", "4095" },
		{ "segment_size", "1099511627777" },
		{ "segment_size", "2TiB" },
		{ "segment_size", "-4096" },
		{ "segment_size", "1mib" },
		{ "segment_size", "1 MiB" },
		{ "segment_size", " 4096" },
		{ "segment_size", "4096 " },
		{ "segment_size", "+4096" },
		{ "segment_size", "1.5MiB" },
		{ "segment_size", "0x1000" },
		{ "segment_size", "18446744073709551616" },
		{ "max_message_size", "0" },
		{ "max_message_size", "268435457" },
		{ "compression_threshold", "-1" },
		{ "compression_threshold", "4294967296" },
		{ "max_storage_size", "0" },
		{ "max_storage_size", "9223372036854775808" },
		{ "retention_bytes", "0" },
		{ "retention_bytes", "-2" },
		{ "retention_bytes", "9223372036854775808" },
		{ "retention_bytes", "x" },
		/* durations */
		{ "retention_time", "-2" },
		{ "retention_time", "-1h" },
		{ "retention_time", "1w" },
		{ "retention_time", "h" },
		{ "retention_time", "1.5h" },
		{ "flush_interval", "0" },
		{ "flush_interval", "-1" },
		{ "flush_interval", "5 s" },
		{ "cleanup_interval", "0s" },
		{ "cleanup_interval", "" },
		/* counts */
		{ "deduplication_window", "0" },
		{ "deduplication_window", "10000001" },
		{ "deduplication_window", "10k" },
		{ "max_topic_partitions", "0" },
		{ "max_topic_partitions", "100001" },
		{ "max_topic_partitions", "-1" },
		{ "node_id", "0" },
		{ "node_id", "2147483648" },
		{ "node_id", "1KiB" },
		/* booleans */
		{ "compression_enabled", "" },
		{ "compression_enabled", "2" },
		{ "compression_enabled", "truee" },
		{ "enable_follower_read", "y" },
		{ "deduplication_enabled", "nope" },
		/* codec */
		{ "compression_type", "" },
		{ "compression_type", "brotli" },
		{ "compression_type", "gzip " },
		/* address */
		{ "raft_address", "localhost:7001" },
		{ "raft_address", "127.0.0.1" },
		{ "raft_address", "127.0.0.1:" },
		{ "raft_address", "127.0.0.1:0" },
		{ "raft_address", "127.0.0.1:65536" },
		{ "raft_address", "127.0.0.1:070" },
		{ "raft_address", "256.0.0.1:7001" },
		{ "raft_address", "1.2.3:7001" },
		{ "raft_address", "1.2.3.4.5:7001" },
		{ "raft_address", "01.2.3.4:7001" },
		{ "raft_address", "1.2.3.4:7001x" },
		{ "raft_address", "[::1]:7001" },
		{ "raft_address", " 1.2.3.4:7001" },
		{ "raft_address", "1111.2.3.4:7001" },
		{ "initial_cluster", "127.0.0.1:7001" },
		{ "initial_cluster", "0@127.0.0.1:7001" },
		{ "initial_cluster", "1@127.0.0.1:7001," },
		{ "initial_cluster", "1@127.0.0.1:7001,1@127.0.0.2:7001" },
		{ "initial_cluster", "1@127.0.0.1:7001,2@127.0.0.1:7001" },
		{ "initial_cluster", "1@localhost:7001" },
		{ "initial_cluster", "2147483648@127.0.0.1:7001" },
		{ "advertised_address", "host" },
		{ "advertised_address", "host:0" },
		{ "advertised_address", "ho st:9092" },
		{ "advertised_address", ":9092" },
		{ "election_timeout", "10ms" },
		{ "election_timeout", "2m" },
		{ "leader_rebalance_interval", "-1" },
		{ "group_initial_rebalance_delay", "-1" },
		{ "group_initial_rebalance_delay", "300001" },
		{ "group_initial_rebalance_delay", "5m1ms" },
		{ "group_initial_rebalance_delay", "1h" },
		{ "group_min_session_timeout", "0" },
		{ "group_min_session_timeout", "-1" },
		{ "group_min_session_timeout", "2147483648" },
		{ "group_min_session_timeout", "25d" },
		{ "group_max_session_timeout", "0" },
		{ "group_max_session_timeout", "-1" },
		{ "group_max_session_timeout", "2147483648" },
		{ "group_max_session_timeout", "25d" },
	};
	struct gq_config *cfg = config_new();
	char errmsg[GQ_ERRMSG_SIZE];
	char *before;
	size_t i;
	int rv;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_ok(cfg, cases[i].key,
		       gq__config_key_find(cases[i].key)->def);
		before = strdup(gq_config_get(cfg, cases[i].key));
		errmsg[0] = '\0';
		rv = gq_config_set(cfg, cases[i].key, cases[i].value, errmsg);
		cr_assert(eq(int, rv, GQ_EINVAL), "%s=\"%s\" accepted",
			  cases[i].key, cases[i].value);
		cr_assert(ne(ptr, strstr(errmsg, cases[i].key), NULL), "%s",
			  errmsg);
		cr_assert(ne(ptr, strstr(errmsg, "invalid value"), NULL), "%s",
			  errmsg);
		cr_assert(eq(str, (char *)gq_config_get(cfg, cases[i].key),
			     before));
		free(before);
	}
	gq_config_destroy(cfg);
}

/* NULL arguments are GQ_EINVAL; a NULL errmsg is allowed. */
Test(config, null_arguments)
{
	struct gq_config *cfg = config_new();
	char errmsg[GQ_ERRMSG_SIZE] = "";

	cr_assert(eq(int, gq_config_create(NULL), GQ_EINVAL));
	cr_assert(eq(int, gq_config_set(NULL, "node_id", "1", errmsg),
		     GQ_EINVAL));
	cr_assert(gt(sz, strlen(errmsg), 0));
	cr_assert(eq(int, gq_config_set(cfg, NULL, "1", NULL), GQ_EINVAL));
	cr_assert(
		eq(int, gq_config_set(cfg, "node_id", NULL, NULL), GQ_EINVAL));
	cr_assert(eq(int, gq_config_set(cfg, "node_id", "x", NULL), GQ_EINVAL));
	gq_config_destroy(cfg);
}

/* A very long value is rejected and the message stays within bounds. */
Test(config, long_value)
{
	struct gq_config *cfg = config_new();
	char errmsg[GQ_ERRMSG_SIZE];
	char *v = malloc(100000);

	memset(v, '9', 99999);
	v[99999] = '\0';
	cr_assert(eq(int, gq_config_set(cfg, "segment_size", v, errmsg),
		     GQ_EINVAL));
	cr_assert(lt(sz, strlen(errmsg), GQ_ERRMSG_SIZE));
	memset(v, '1', 99999);
	v[3] = '.';
	cr_assert(eq(int, gq_config_set(cfg, "raft_address", v, errmsg),
		     GQ_EINVAL));
	free(v);
	gq_config_destroy(cfg);
}

/* ---------------------------------------------------------------------- */
/* Typed views                                                             */
/* ---------------------------------------------------------------------- */

/* The defaults are the values goqueue.h documents. */
Test(config, defaults_match_header)
{
	struct gq__node_conf n;
	struct gq__topic_conf t;

	gq__node_conf_defaults(&n);
	cr_assert(eq(u64, n.topic_defaults.segment_size, 104857600));
	cr_assert(eq(i64, n.topic_defaults.retention_ms, 168LL * 3600000));
	cr_assert(eq(i64, n.topic_defaults.retention_bytes, -1));
	cr_assert(eq(u32, n.topic_defaults.max_message_size, 1048576));
	cr_assert(eq(int, n.topic_defaults.compression_enabled, true));
	cr_assert(eq(int, n.topic_defaults.compression_type, 1)); /* gzip */
	cr_assert(eq(u32, n.topic_defaults.compression_threshold, 1024));
	cr_assert(eq(int, n.topic_defaults.dedup_enabled, false));
	cr_assert(eq(u32, n.topic_defaults.dedup_window, 10000));
	cr_assert(eq(u64, n.max_storage_size, 1073741824000ULL));
	cr_assert(eq(i64, n.flush_interval_ms, 5000));
	cr_assert(eq(i64, n.cleanup_interval_ms, 3600000));
	cr_assert(eq(i32, n.max_topic_partitions, 1000));
	cr_assert(eq(int, n.enable_follower_read, true));
	cr_assert(eq(u64, n.node_id, 1));
	cr_assert(eq(str, n.raft_address, ""));
	cr_assert(eq(i64, n.group_initial_rebalance_delay_ms, 3000));
	cr_assert(eq(i64, n.group_min_session_timeout_ms, 6000));
	cr_assert(eq(i64, n.group_max_session_timeout_ms, 1800000));

	gq__topic_conf_defaults(&t);
	cr_assert(topic_conf_eq(&t, &n.topic_defaults));
}

/* A NULL or empty configuration resolves to the defaults. */
Test(config, node_conf_from_null)
{
	struct gq_config *cfg = config_new();
	struct gq__node_conf d, n;
	char errmsg[GQ_ERRMSG_SIZE];

	gq__node_conf_defaults(&d);
	cr_assert(eq(int, gq__node_conf_from(NULL, &n, errmsg), 0));
	cr_assert(topic_conf_eq(&n.topic_defaults, &d.topic_defaults));
	cr_assert(eq(u64, n.node_id, d.node_id));
	cr_assert(eq(int, gq__node_conf_from(cfg, &n, errmsg), 0));
	cr_assert(eq(u64, n.max_storage_size, d.max_storage_size));
	gq_config_destroy(cfg);
}

/* Every key set on a node lands in its typed field. */
Test(config, node_conf_from_keys)
{
	struct gq_config *cfg = config_new();
	struct gq__node_conf n;

	set_ok(cfg, "segment_size", "1MiB");
	set_ok(cfg, "retention_time", "0");
	set_ok(cfg, "retention_bytes", "1GiB");
	set_ok(cfg, "max_message_size", "2048");
	set_ok(cfg, "compression_enabled", "false");
	set_ok(cfg, "compression_type", "none");
	set_ok(cfg, "compression_threshold", "7");
	set_ok(cfg, "deduplication_enabled", "true");
	set_ok(cfg, "deduplication_window", "5");
	set_ok(cfg, "max_storage_size", "10GB");
	set_ok(cfg, "flush_interval", "250ms");
	set_ok(cfg, "cleanup_interval", "2m");
	set_ok(cfg, "max_topic_partitions", "12");
	set_ok(cfg, "enable_follower_read", "false");
	set_ok(cfg, "node_id", "42");
	set_ok(cfg, "raft_address", "10.0.0.7:7002");
	set_ok(cfg, "group_initial_rebalance_delay", "0");
	set_ok(cfg, "group_min_session_timeout", "500ms");
	set_ok(cfg, "group_max_session_timeout", "3s");
	cr_assert(eq(int, gq__node_conf_from(cfg, &n, NULL), 0));
	cr_assert(eq(u64, n.topic_defaults.segment_size, 1048576));
	cr_assert(eq(i64, n.topic_defaults.retention_ms, -1));
	cr_assert(eq(i64, n.topic_defaults.retention_bytes, 1073741824));
	cr_assert(eq(u32, n.topic_defaults.max_message_size, 2048));
	cr_assert(eq(int, n.topic_defaults.compression_enabled, false));
	cr_assert(eq(int, n.topic_defaults.compression_type, 0));
	cr_assert(eq(u32, n.topic_defaults.compression_threshold, 7));
	cr_assert(eq(int, n.topic_defaults.dedup_enabled, true));
	cr_assert(eq(u32, n.topic_defaults.dedup_window, 5));
	cr_assert(eq(u64, n.max_storage_size, 10000000000ULL));
	cr_assert(eq(i64, n.flush_interval_ms, 250));
	cr_assert(eq(i64, n.cleanup_interval_ms, 120000));
	cr_assert(eq(i32, n.max_topic_partitions, 12));
	cr_assert(eq(int, n.enable_follower_read, false));
	cr_assert(eq(u64, n.node_id, 42));
	cr_assert(eq(str, n.raft_address, "10.0.0.7:7002"));
	cr_assert(eq(i64, n.group_initial_rebalance_delay_ms, 0));
	cr_assert(eq(i64, n.group_min_session_timeout_ms, 500));
	cr_assert(eq(i64, n.group_max_session_timeout_ms, 3000));
	gq_config_destroy(cfg);
}

/* The consumer-group keys parse into milliseconds, within their ranges. */
Test(config, group_keys_typed)
{
	static const struct {
		const char *in;
		int64_t ms;
	} cases[] = {
		{ "0", 0 },
		{ "500ms", 500 },
		{ "3s", 3000 },
		{ "5m", 300000 },
	};
	struct gq_config *cfg;
	struct gq__node_conf n;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg = config_new();
		set_ok(cfg, "group_initial_rebalance_delay", cases[i].in);
		/* Session timeouts start at 1ms: "0" is for the delay only. */
		if (cases[i].ms > 0) {
			set_ok(cfg, "group_min_session_timeout", cases[i].in);
			set_ok(cfg, "group_max_session_timeout", cases[i].in);
		}
		cr_assert(eq(int, gq__node_conf_from(cfg, &n, NULL), 0), "%s",
			  cases[i].in);
		cr_assert(eq(i64, n.group_initial_rebalance_delay_ms,
			     cases[i].ms));
		if (cases[i].ms > 0) {
			cr_assert(eq(i64, n.group_min_session_timeout_ms,
				     cases[i].ms));
			cr_assert(eq(i64, n.group_max_session_timeout_ms,
				     cases[i].ms));
		}
		gq_config_destroy(cfg);
	}
}

/* A minimum session timeout above the maximum is GQ_EINVAL naming both
 * keys, whichever of the two moved, and leaves the output alone; equal
 * bounds are accepted. */
Test(config, group_session_timeout_min_above_max)
{
	struct gq_config *cfg = config_new();
	struct gq__node_conf n, before;
	char errmsg[GQ_ERRMSG_SIZE] = "";

	/* Above the default maximum of 30m. */
	set_ok(cfg, "group_min_session_timeout", "1h");
	memset(&n, 0xa5, sizeof(n));
	memcpy(&before, &n, sizeof(n));
	cr_assert(eq(int, gq__node_conf_from(cfg, &n, errmsg), GQ_EINVAL));
	cr_assert(eq(str, errmsg,
		     "'group_min_session_timeout' (1h) is above "
		     "'group_max_session_timeout' (30m): no session timeout "
		     "would be accepted"));
	cr_assert(eq(int, memcmp(&n, &before, sizeof(n)), 0));
	cr_assert(eq(int, gq__node_conf_from(cfg, &n, NULL), GQ_EINVAL));

	/* Below the default minimum of 6s. */
	gq_config_destroy(cfg);
	cfg = config_new();
	set_ok(cfg, "group_max_session_timeout", "500ms");
	errmsg[0] = '\0';
	cr_assert(eq(int, gq__node_conf_from(cfg, &n, errmsg), GQ_EINVAL));
	cr_assert(ne(ptr, strstr(errmsg, "(6s)"), NULL), "%s", errmsg);
	cr_assert(ne(ptr, strstr(errmsg, "(500ms)"), NULL), "%s", errmsg);

	/* Equal bounds leave one allowed timeout. */
	set_ok(cfg, "group_min_session_timeout", "500ms");
	cr_assert(eq(int, gq__node_conf_from(cfg, &n, errmsg), 0), "%s",
		  errmsg);
	cr_assert(eq(i64, n.group_min_session_timeout_ms, 500));
	cr_assert(eq(i64, n.group_max_session_timeout_ms, 500));
	gq_config_destroy(cfg);
}

/* A topic configuration starts from the given defaults and applies its
 * own keys; NULL means the defaults unchanged. */
Test(config, topic_conf_from_keys)
{
	struct gq_config *cfg = config_new();
	struct gq__topic_conf d, t;

	topic_conf_unusual(&d);
	cr_assert(eq(int, gq__topic_conf_from(NULL, &d, &t, NULL), 0));
	cr_assert(topic_conf_eq(&t, &d));
	set_ok(cfg, "segment_size", "8192");
	set_ok(cfg, "compression_type", "gzip");
	cr_assert(eq(int, gq__topic_conf_from(cfg, &d, &t, NULL), 0));
	cr_assert(eq(u64, t.segment_size, 8192));
	cr_assert(eq(int, t.compression_type, 1));
	cr_assert(eq(u32, t.dedup_window, d.dedup_window));
	cr_assert(eq(i64, t.retention_bytes, d.retention_bytes));
	/* @out may alias @defaults. */
	cr_assert(eq(int, gq__topic_conf_from(cfg, &d, &d, NULL), 0));
	cr_assert(topic_conf_eq(&t, &d));
	gq_config_destroy(cfg);
}

/* A node-only key in a topic configuration is GQ_EINVAL naming the key,
 * and the output is left alone. */
Test(config, topic_conf_rejects_node_keys)
{
	const struct gq__config_key *k;
	struct gq__topic_conf d, t;
	char errmsg[GQ_ERRMSG_SIZE];
	struct gq_config *cfg;
	size_t i, n = 0;

	gq__topic_conf_defaults(&d);
	for (i = 0; (k = gq__config_key_at(i)) != NULL; i++) {
		if (k->scope != GQ__CONFIG_NODE)
			continue;
		n++;
		cfg = config_new();
		set_ok(cfg, "segment_size", "8192");
		set_ok(cfg, k->name, k->def);
		memset(&t, 0xa5, sizeof(t));
		errmsg[0] = '\0';
		cr_assert(eq(int, gq__topic_conf_from(cfg, &d, &t, errmsg),
			     GQ_EINVAL));
		cr_assert(ne(ptr, strstr(errmsg, k->name), NULL), "%s", errmsg);
		cr_assert(eq(u64, t.segment_size, 0xa5a5a5a5a5a5a5a5ULL));
		gq_config_destroy(cfg);
	}
	cr_assert(eq(sz, n, 22));
}

/* The configuration built from a topic conf holds every topic key in
 * canonical form, no node key, and resolves back to the same conf. */
Test(config, config_from_topic_conf)
{
	const struct gq__config_key *k;
	struct gq__topic_conf c, back, d;
	struct gq_config *cfg = NULL;
	size_t i;

	gq__topic_conf_defaults(&c);
	cr_assert(eq(int, gq__config_from_topic_conf(&c, &cfg), 0));
	for (i = 0; (k = gq__config_key_at(i)) != NULL; i++) {
		if (k->scope == GQ__CONFIG_TOPIC)
			cr_assert(eq(str, (char *)gq_config_get(cfg, k->name),
				     (char *)k->def));
		else
			cr_assert(eq(ptr, (void *)gq_config_get(cfg, k->name),
				     NULL));
	}
	gq_config_destroy(cfg);

	topic_conf_unusual(&c);
	cr_assert(eq(int, gq__config_from_topic_conf(&c, &cfg), 0));
	cr_assert(eq(str, (char *)gq_config_get(cfg, "retention_time"), "90m"));
	cr_assert(eq(str, (char *)gq_config_get(cfg, "compression_type"),
		     "none"));
	cr_assert(eq(str, (char *)gq_config_get(cfg, "deduplication_enabled"),
		     "true"));
	gq__topic_conf_defaults(&d);
	cr_assert(eq(int, gq__topic_conf_from(cfg, &d, &back, NULL), 0));
	cr_assert(topic_conf_eq(&back, &c));
	gq_config_destroy(cfg);

	c.segment_size = 1;
	cfg = NULL;
	cr_assert(eq(int, gq__config_from_topic_conf(&c, &cfg), GQ_EINVAL));
	cr_assert(eq(ptr, cfg, NULL));
}

/* ---------------------------------------------------------------------- */
/* Parsers                                                                 */
/* ---------------------------------------------------------------------- */

/* Durations: plain milliseconds, units d/h/m/s/ms, sums, and -1. */
Test(config, parse_duration_valid)
{
	static const struct {
		const char *s;
		int64_t ms;
	} cases[] = {
		{ "0", 0 },
		{ "-1", -1 },
		{ "1", 1 },
		{ "500ms", 500 },
		{ "10s", 10000 },
		{ "30m", 1800000 },
		{ "168h", 604800000 },
		{ "1d", 86400000 },
		{ "1h30m", 5400000 },
		{ "1d2h3m4s5ms", 93784005 },
		{ "0s", 0 },
		{ "9223372036854775807", INT64_MAX },
		{ "9223372036854775807ms", INT64_MAX },
		{ "106751991167d", 106751991167LL * 86400000 },
	};
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 12345;
		cr_assert(eq(int, gq__parse_duration_ms(cases[i].s, &v), 0),
			  "%s", cases[i].s);
		cr_assert(eq(i64, v, cases[i].ms), "%s", cases[i].s);
	}
}

/* Durations: junk, negatives other than -1 and overflow are rejected and
 * leave the output alone. */
Test(config, parse_duration_invalid)
{
	static const char *const cases[] = {
		"",
		"-",
		"-2",
		"-1s",
		"--1",
		"+1",
		"s",
		"ms",
		"5x",
		"5 s",
		" 5s",
		"5s ",
		"1.5s",
		"5ss",
		"5sm",
		"1h30",
		"5us",
		"5S",
		"9223372036854775808",
		"9223372036854775808ms",
		"106751991167301d",
		"2562047788015216h",
		"18446744073709551616",
		"9223372036854775807ms1ms",
		"106751991167d1d",
	};
	int64_t v = 777;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert(
			eq(int, gq__parse_duration_ms(cases[i], &v), GQ_EINVAL),
			"'%s' accepted", cases[i]);
		cr_assert(eq(i64, v, 777));
	}
	cr_assert(eq(int, gq__parse_duration_ms(NULL, &v), GQ_EINVAL));
}

/* Sizes: bytes, binary and decimal suffixes, up to UINT64_MAX. */
Test(config, parse_size_valid)
{
	static const struct {
		const char *s;
		uint64_t n;
	} cases[] = {
		{ "0", 0 },
		{ "4096", 4096 },
		{ "1KiB", 1024 },
		{ "1MiB", 1048576 },
		{ "1GiB", 1073741824 },
		{ "1TiB", 1099511627776ULL },
		{ "1KB", 1000 },
		{ "1MB", 1000000 },
		{ "1GB", 1000000000 },
		{ "1TB", 1000000000000ULL },
		{ "0MiB", 0 },
		{ "18446744073709551615", UINT64_MAX },
		{ "16777215TiB", 16777215ULL << 40 },
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 12345;
		cr_assert(eq(int, gq__parse_size(cases[i].s, &v), 0), "%s",
			  cases[i].s);
		cr_assert(eq(u64, v, cases[i].n), "%s", cases[i].s);
	}
}

/* Sizes: junk, signs, wrong-case suffixes and overflow are rejected. */
Test(config, parse_size_invalid)
{
	static const char *const cases[] = {
		"",
		"-1",
		"+1",
		"KiB",
		"1kib",
		"1kb",
		"1K",
		"1B",
		"1 KiB",
		" 1",
		"1 ",
		"1.5KiB",
		"1KiBx",
		"0x10",
		"18446744073709551616",
		"16777216TiB",
		"18446744073709552KB",
		"99999999999999999999999",
	};
	uint64_t v = 777;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert(eq(int, gq__parse_size(cases[i], &v), GQ_EINVAL),
			  "'%s' accepted", cases[i]);
		cr_assert(eq(u64, v, 777));
	}
	cr_assert(eq(int, gq__parse_size(NULL, &v), GQ_EINVAL));
}

/* Booleans: the eight spellings in any case; anything else rejected. */
Test(config, parse_bool)
{
	static const char *const yes[] = { "true", "1",   "yes", "on",
					   "TRUE", "Yes", "ON" };
	static const char *const no[] = { "false", "0",  "no", "off",
					  "FALSE", "No", "Off" };
	static const char *const bad[] = { "",     "t",     "f",     "2",
					   "yess", " true", "true ", "enable" };
	bool b;
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		cr_assert(eq(int, gq__parse_bool(yes[i], &b), 0));
		cr_assert(b, "%s", yes[i]);
		cr_assert(eq(int, gq__parse_bool(no[i], &b), 0));
		cr_assert(not(b), "%s", no[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = true;
		cr_assert(eq(int, gq__parse_bool(bad[i], &b), GQ_EINVAL), "%s",
			  bad[i]);
		cr_assert(b);
	}
	cr_assert(eq(int, gq__parse_bool(NULL, &b), GQ_EINVAL));
}

/* ---------------------------------------------------------------------- */
/* Byte form                                                               */
/* ---------------------------------------------------------------------- */

/* The defaults encode to exactly the documented 40 little-endian bytes. */
Test(config, encode_layout)
{
	static const uint8_t want[GQ__TOPIC_CONF_ENCODED_SIZE] = {
		0x01, 0x01, 0x01, 0x00,                         /* v1, flags */
		0x00, 0x00, 0x10, 0x00,                         /* 1048576 */
		0x00, 0x04, 0x00, 0x00,                         /* 1024 */
		0x10, 0x27, 0x00, 0x00,                         /* 10000 */
		0x00, 0x00, 0x40, 0x06, 0x00, 0x00, 0x00, 0x00, /* 100 MiB */
		0x00, 0x84, 0x0c, 0x24, 0x00, 0x00, 0x00, 0x00, /* 168h */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -1 */
	};
	struct gq__buf b = GQ__BUF_INIT;
	struct gq__topic_conf c;

	gq__topic_conf_defaults(&c);
	cr_assert(eq(int, gq__topic_conf_encode(&c, &b), 0));
	cr_assert(eq(sz, b.len, sizeof(want)));
	cr_assert(eq(int, memcmp(b.base, want, sizeof(want)), 0));
	gq__buf_free(&b);
}

/* Encoding appends; decoding gives back the same conf; equal confs give
 * equal bytes. */
Test(config, encode_decode_round_trip)
{
	struct gq__buf b = GQ__BUF_INIT;
	struct gq__topic_conf c, d;

	cr_assert(eq(int, gq__buf_append(&b, "xy", 2), 0));
	topic_conf_unusual(&c);
	cr_assert(eq(int, gq__topic_conf_encode(&c, &b), 0));
	cr_assert(eq(int, gq__topic_conf_encode(&c, &b), 0));
	cr_assert(eq(sz, b.len, 2 + 2 * GQ__TOPIC_CONF_ENCODED_SIZE));
	cr_assert(eq(int, memcmp(b.base, "xy", 2), 0));
	cr_assert(
		eq(int,
		   memcmp(b.base + 2, b.base + 2 + GQ__TOPIC_CONF_ENCODED_SIZE,
			  GQ__TOPIC_CONF_ENCODED_SIZE),
		   0));
	memset(&d, 0, sizeof(d));
	cr_assert(eq(int,
		     gq__topic_conf_decode(b.base + 2,
					   GQ__TOPIC_CONF_ENCODED_SIZE, &d),
		     0));
	cr_assert(topic_conf_eq(&c, &d));

	/* Extreme values survive too. */
	c.segment_size = UINT64_C(1) << 40;
	c.retention_ms = INT64_MAX;
	c.retention_bytes = INT64_MAX;
	c.max_message_size = 256 << 20;
	c.compression_type = 4;
	c.compression_threshold = UINT32_MAX;
	c.dedup_window = 10000000;
	b.len = 0;
	cr_assert(eq(int, gq__topic_conf_encode(&c, &b), 0));
	cr_assert(eq(int, gq__topic_conf_decode(b.base, b.len, &d), 0));
	cr_assert(topic_conf_eq(&c, &d));
	gq__buf_free(&b);
}

/* Every truncated prefix, and a trailing byte, is GQ_ECORRUPT. */
Test(config, decode_truncated)
{
	struct gq__buf b = GQ__BUF_INIT;
	struct gq__topic_conf c, d;
	size_t len;

	gq__topic_conf_defaults(&c);
	cr_assert(eq(int, gq__topic_conf_encode(&c, &b), 0));
	cr_assert(eq(int, gq__buf_append(&b, "", 1), 0));
	for (len = 0; len < GQ__TOPIC_CONF_ENCODED_SIZE; len++) {
		/* A heap copy of exactly @len bytes, so ASan sees any
		 * over-read. */
		uint8_t *p = malloc(len + 1);

		memcpy(p, b.base, len);
		memset(&d, 0xa5, sizeof(d));
		cr_assert(
			eq(int, gq__topic_conf_decode(p, len, &d), GQ_ECORRUPT),
			"prefix of %zu bytes", len);
		cr_assert(eq(u64, d.segment_size, 0xa5a5a5a5a5a5a5a5ULL));
		free(p);
	}
	cr_assert(eq(int,
		     gq__topic_conf_decode(b.base,
					   GQ__TOPIC_CONF_ENCODED_SIZE + 1, &d),
		     GQ_ECORRUPT));
	gq__buf_free(&b);
}

/* Bad version, flags, reserved byte or an out-of-range field is rejected;
 * a newer version is GQ_EUNSUPPORTED. */
Test(config, decode_bad_fields)
{
	static const struct {
		size_t at;
		uint8_t byte;
		int rv;
	} cases[] = {
		{ 0, 0x00, GQ_ECORRUPT },     /* version 0 */
		{ 0, 0x02, GQ_EUNSUPPORTED }, /* version 2 */
		{ 0, 0xff, GQ_EUNSUPPORTED }, /* version 255 */
		{ 1, 0x04, GQ_ECORRUPT },     /* unknown flag */
		{ 1, 0x80, GQ_ECORRUPT },     /* unknown flag */
		{ 2, 0x05, GQ_ECORRUPT },     /* codec 5 */
		{ 3, 0x01, GQ_ECORRUPT },     /* reserved byte */
		{ 6, 0x00, GQ_ECORRUPT },     /* max_message_size 0 */
		{ 7, 0x20, GQ_ECORRUPT },     /* max_message_size > 256 MiB */
		{ 13, 0x00, GQ_ECORRUPT },    /* dedup_window 0 */
		{ 14, 0x99, GQ_ECORRUPT },    /* dedup_window > 10^7 */
		{ 17, 0x0f, GQ_ECORRUPT },    /* segment_size 3840 */
		{ 21, 0x01, GQ_ECORRUPT },    /* segment_size > 1 TiB */
		{ 23, 0x80, GQ_ECORRUPT },    /* segment_size > INT64_MAX */
		{ 31, 0x80, GQ_ECORRUPT },    /* retention_ms negative */
		{ 32, 0xfe, GQ_ECORRUPT },    /* retention_bytes -2 */
	};
	struct gq__buf b = GQ__BUF_INIT;
	struct gq__topic_conf c, d;
	uint8_t p[GQ__TOPIC_CONF_ENCODED_SIZE];
	size_t i;

	gq__topic_conf_defaults(&c);
	c.dedup_window = 256;  /* bytes 12.. = 00 01 00 00 */
	c.segment_size = 4096; /* bytes 16.. = 00 10 00 00 00 00 00 00 */
	cr_assert(eq(int, gq__topic_conf_encode(&c, &b), 0));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(p, b.base, sizeof(p));
		p[cases[i].at] = cases[i].byte;
		cr_assert(eq(int, gq__topic_conf_decode(p, sizeof(p), &d),
			     cases[i].rv),
			  "byte %zu = %#x", cases[i].at, cases[i].byte);
	}
	gq__buf_free(&b);
}

/* Encoding a conf with a field out of range is GQ_EINVAL and appends
 * nothing. */
Test(config, encode_invalid)
{
	struct gq__buf b = GQ__BUF_INIT;
	struct gq__topic_conf c;

	gq__topic_conf_defaults(&c);
	c.segment_size = 4095;
	cr_assert(eq(int, gq__topic_conf_encode(&c, &b), GQ_EINVAL));
	gq__topic_conf_defaults(&c);
	c.retention_ms = 0;
	cr_assert(eq(int, gq__topic_conf_encode(&c, &b), GQ_EINVAL));
	gq__topic_conf_defaults(&c);
	c.compression_type = -1;
	cr_assert(eq(int, gq__topic_conf_encode(&c, &b), GQ_EINVAL));
	gq__topic_conf_defaults(&c);
	c.dedup_window = 0;
	cr_assert(eq(int, gq__topic_conf_encode(&c, &b), GQ_EINVAL));
	cr_assert(eq(sz, b.len, 0));
	gq__buf_free(&b);
}

/* ---------------------------------------------------------------------- */
/* Allocation failures                                                     */
/* ---------------------------------------------------------------------- */

/* Failing each allocation of create+set in turn gives GQ_ENOMEM, keeps
 * the earlier value, and leaks nothing. */
Test(config, fault_create_set)
{
	struct gq_config *cfg;
	char errmsg[GQ_ERRMSG_SIZE];
	long n;
	int rv = GQ_ENOMEM;

	for (n = 0; rv == GQ_ENOMEM; n++) {
		cr_assert(lt(long, n, 100));
		fault_arm(n);
		cfg = NULL;
		rv = gq_config_create(&cfg);
		if (rv == GQ_ENOMEM) {
			cr_assert(eq(ptr, cfg, NULL));
			cr_assert(eq(long, fault.live, 0));
			continue;
		}
		cr_assert(eq(int, rv, 0));
		rv = gq_config_set(cfg, "segment_size", "1MiB", errmsg);
		if (rv == 0)
			rv = gq_config_set(cfg, "segment_size", "2MiB", errmsg);
		if (rv == GQ_ENOMEM) {
			cr_assert(
				ne(ptr, strstr(errmsg, "segment_size"), NULL));
			/* The value before the failed set survives. */
			if (gq_config_get(cfg, "segment_size") != NULL)
				cr_assert(eq(str,
					     (char *)gq_config_get(
						     cfg, "segment_size"),
					     "1048576"));
		} else {
			cr_assert(eq(int, rv, 0));
			cr_assert(eq(str,
				     (char *)gq_config_get(cfg, "segment_size"),
				     "2097152"));
		}
		gq_config_destroy(cfg);
		cr_assert(eq(long, fault.live, 0));
	}
	/* create, first set, second set: three allocations to get through. */
	cr_assert(eq(long, n, 4));
	heap_restore();
}

/* Failing each allocation of gq__config_from_topic_conf() in turn gives
 * GQ_ENOMEM, no configuration and no leak. */
Test(config, fault_from_topic_conf)
{
	struct gq__topic_conf c;
	struct gq_config *cfg;
	long n;
	int rv = GQ_ENOMEM;

	gq__topic_conf_defaults(&c);
	for (n = 0; rv == GQ_ENOMEM; n++) {
		cr_assert(lt(long, n, 100));
		fault_arm(n);
		cfg = NULL;
		rv = gq__config_from_topic_conf(&c, &cfg);
		if (rv == GQ_ENOMEM) {
			cr_assert(eq(ptr, cfg, NULL));
			cr_assert(eq(long, fault.live, 0));
		}
	}
	cr_assert(eq(int, rv, 0));
	cr_assert(eq(str, (char *)gq_config_get(cfg, "segment_size"),
		     "104857600"));
	gq_config_destroy(cfg);
	cr_assert(eq(long, fault.live, 0));
	/* One configuration plus nine values. */
	cr_assert(eq(long, n, 11));
	heap_restore();
}

/* An allocation failure while encoding gives GQ_ENOMEM and leaves the
 * buffer as it was. */
Test(config, fault_encode)
{
	struct gq__buf b = GQ__BUF_INIT;
	struct gq__topic_conf c;

	gq__topic_conf_defaults(&c);
	fault_arm(0);
	cr_assert(eq(int, gq__topic_conf_encode(&c, &b), GQ_ENOMEM));
	cr_assert(eq(sz, b.len, 0));
	cr_assert(eq(ptr, b.base, NULL));
	cr_assert(eq(int, gq__topic_conf_encode(&c, &b), 0));
	cr_assert(eq(sz, b.len, GQ__TOPIC_CONF_ENCODED_SIZE));
	gq__buf_free(&b);
	cr_assert(eq(long, fault.live, 0));
	heap_restore();
}

/* ---------------------------------------------------------------------- */
/* Changes to a topic configuration (TOPIC_ALTER)                          */
/* ---------------------------------------------------------------------- */

/* Each topic key names one field bit of its own, the bits cover
 * GQ__TF_ALL, and the bit names the key back; only the keys set are in
 * the mask, and their values are applied over the base. */
Test(config, topic_conf_changes_mask)
{
	const struct gq__config_key *k;
	struct gq__topic_conf base, out;
	uint32_t mask, all = 0;
	struct gq_config *cfg;
	size_t i;

	gq__topic_conf_defaults(&base);
	for (i = 0; (k = gq__config_key_at(i)) != NULL; i++) {
		if (k->scope != GQ__CONFIG_TOPIC)
			continue;
		cfg = config_new();
		set_ok(cfg, k->name, k->def);
		mask = 0;
		cr_assert(eq(
			int,
			gq__topic_conf_changes(cfg, &base, &out, &mask, NULL),
			0));
		cr_assert(eq(u32, mask & (mask - 1), 0), "%s: %x", k->name,
			  mask);
		cr_assert(ne(u32, mask, 0), "%s", k->name);
		cr_assert(eq(u32, all & mask, 0), "%s shares a bit", k->name);
		cr_assert(eq(str, (char *)gq__topic_field_name(mask),
			     (char *)k->name));
		all |= mask;
		gq_config_destroy(cfg);
	}
	cr_assert(eq(u32, all, GQ__TF_ALL));
	cr_assert(eq(str, (char *)gq__topic_field_name(0), "?"));
	cr_assert(eq(str, (char *)gq__topic_field_name(1u << 20), "?"));

	cfg = config_new();
	set_ok(cfg, "retention_time", "2h");
	set_ok(cfg, "max_message_size", "4KiB");
	cr_assert(eq(int, gq__topic_conf_changes(cfg, &base, &out, &mask, NULL),
		     0));
	cr_assert(eq(u32, mask, GQ__TF_RETENTION_MS | GQ__TF_MAX_MESSAGE_SIZE));
	cr_assert(eq(i64, out.retention_ms, 7200000));
	cr_assert(eq(u32, out.max_message_size, 4096));
	cr_assert(eq(u64, out.segment_size, base.segment_size));
	gq_config_destroy(cfg);
	cr_assert(eq(int,
		     gq__topic_conf_changes(NULL, &base, &out, &mask, NULL),
		     0));
	cr_assert(eq(u32, mask, 0));
}

/* A node key in a change is GQ_EINVAL naming it; nothing is written. */
Test(config, topic_conf_changes_node_key)
{
	struct gq__topic_conf base, out;
	char errmsg[GQ_ERRMSG_SIZE] = "";
	struct gq_config *cfg = config_new();
	uint32_t mask = 0x5a5a;

	gq__topic_conf_defaults(&base);
	set_ok(cfg, "retention_time", "2h");
	set_ok(cfg, "cleanup_interval", "1s");
	memset(&out, 0xa5, sizeof(out));
	cr_assert(eq(int,
		     gq__topic_conf_changes(cfg, &base, &out, &mask, errmsg),
		     GQ_EINVAL));
	cr_assert(ne(ptr, strstr(errmsg, "cleanup_interval"), NULL), "%s",
		  errmsg);
	cr_assert(eq(u32, mask, 0x5a5a));
	cr_assert(eq(u64, out.segment_size, 0xa5a5a5a5a5a5a5a5ULL));
	gq_config_destroy(cfg);
}

/* Merging copies exactly the fields the mask names. */
Test(config, topic_conf_merge)
{
	struct gq__topic_conf d, u, m;

	gq__topic_conf_defaults(&d);
	topic_conf_unusual(&u);
	m = d;
	gq__topic_conf_merge(&m, &u, 0);
	cr_assert(topic_conf_eq(&m, &d));
	gq__topic_conf_merge(&m, &u, GQ__TF_ALL);
	cr_assert(topic_conf_eq(&m, &u));
	m = d;
	gq__topic_conf_merge(&m, &u,
			     GQ__TF_SEGMENT_SIZE | GQ__TF_RETENTION_BYTES |
				     GQ__TF_COMPRESSION_ENABLED |
				     GQ__TF_DEDUP_WINDOW);
	cr_assert(eq(u64, m.segment_size, u.segment_size));
	cr_assert(eq(i64, m.retention_bytes, u.retention_bytes));
	cr_assert(eq(int, m.compression_enabled, u.compression_enabled));
	cr_assert(eq(u32, m.dedup_window, u.dedup_window));
	cr_assert(eq(i64, m.retention_ms, d.retention_ms));
	cr_assert(eq(u32, m.max_message_size, d.max_message_size));
	cr_assert(eq(int, m.compression_type, d.compression_type));
	cr_assert(eq(u32, m.compression_threshold, d.compression_threshold));
	cr_assert(eq(int, m.dedup_enabled, d.dedup_enabled));
}

/* Equality looks at the fields only, not at padding. */
Test(config, topic_conf_equal)
{
	struct gq__topic_conf a, b;

	memset(&a, 0x00, sizeof(a));
	memset(&b, 0xff, sizeof(b));
	gq__topic_conf_defaults(&a);
	b.segment_size = a.segment_size;
	b.retention_ms = a.retention_ms;
	b.retention_bytes = a.retention_bytes;
	b.max_message_size = a.max_message_size;
	b.compression_enabled = a.compression_enabled;
	b.compression_type = a.compression_type;
	b.compression_threshold = a.compression_threshold;
	b.dedup_enabled = a.dedup_enabled;
	b.dedup_window = a.dedup_window;
	cr_assert(gq__topic_conf_equal(&a, &b));
	b.compression_threshold++;
	cr_assert_not(gq__topic_conf_equal(&a, &b));
}
