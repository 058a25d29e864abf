/* SPDX-License-Identifier: MIT */
/*
 * test_config.c - gqd's configuration: the defaults with no file, the
 * original's JSON and the shipped example loading unchanged, one error per
 * kind of mistake naming the key, the layering (file < environment <
 * set), broker names, and the log line format.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../frontend/gqd/config.h"
#include "../../frontend/gqd/log.h"
#include "../lib/tmpdir.h"

static const char *dir;
static char err[1024];

static void
setup(void)
{
	dir = gqt_tmpdir_make();
	err[0] = '\0';
}

static void
teardown(void)
{
	gqt_tmpdir_remove();
}

TestSuite(gqd_config, .init = setup, .fini = teardown, .timeout = 30);

/* Write @json to a fresh file in the test directory; returns its path. */
static const char *
write_conf(const char *json)
{
	static char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/gqd.json", dir);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	fputs(json, f);
	fclose(f);
	return path;
}

/* Load @json; expect GQ_EINVAL and a one-line message holding @needle1
 * and, unless NULL, @needle2. */
static void
expect_error(const char *json, const char *needle1, const char *needle2)
{
	struct gqd_config c;
	int rv;

	rv = gqd_config_load(write_conf(json), &c, err, sizeof(err));
	cr_assert(eq(int, rv, GQ_EINVAL), "%s", json);
	cr_assert(strstr(err, needle1) != NULL, "'%s' not in: %s", needle1,
		  err);
	if (needle2 != NULL)
		cr_assert(strstr(err, needle2) != NULL, "'%s' not in: %s",
			  needle2, err);
	cr_assert(strchr(err, '\n') == NULL, "one line: %s", err);
	gqd_config_free(&c);
}

/* A library key's value, or "(unset)"; char * for Criterion's str tag. */
static char *
lib(const struct gqd_config *c, const char *key)
{
	const char *v = gq_config_get(c->lib, key);

	return (char *)(v != NULL ? v : "(unset)");
}

/* With no file gqd has a complete configuration of documented defaults,
 * and the library keys are left to the library. */
Test(gqd_config, defaults_without_file)
{
	struct gqd_config c;
	struct gq_config *lc;

	cr_assert(eq(int, gqd_config_load(NULL, &c, err, sizeof(err)), 0));
	cr_assert(eq(str, c.data_dir, "./data"));
	cr_assert(eq(int, c.broker_id, 1));
	cr_assert(eq(str, c.raft_addr, "127.0.0.1:7001"));
	cr_assert(eq(str, c.client_addr, "0.0.0.0:9092"));
	cr_assert(eq(str, c.advertised_addr, ""));
	cr_assert(eq(str, c.admin_addr, "127.0.0.1:9644"));
	cr_assert(eq(int, c.log_level, GQ_LOG_INFO));
	cr_assert(eq(str, c.log_file, ""));
	cr_assert(eq(u32, c.max_connections, 1024));
	cr_assert(eq(u32, c.max_frame_size, 100u << 20));
	cr_assert(eq(u32, c.max_inflight_per_connection, 16));
	cr_assert(eq(u64, c.idle_timeout_ms, 600000));
	cr_assert(c.auto_create_topics);
	cr_assert(eq(int, c.default_partitions, 1));
	cr_assert(eq(str, lib(&c, "segment_size"), "(unset)"));

	cr_assert(eq(int, gqd_config_validate(&c, err, sizeof(err)), 0), "%s",
		  err);
	cr_assert(eq(str, c.client.host, "0.0.0.0"));
	cr_assert(eq(u16, c.client.port, 9092));
	cr_assert(eq(str, c.advertised.host, "127.0.0.1"));
	cr_assert(eq(u16, c.advertised.port, 9092));
	cr_assert(eq(str, c.raft.ip, "127.0.0.1"));

	cr_assert(
		eq(int, gqd_config_node_config(&c, &lc, err, sizeof(err)), 0));
	cr_assert(eq(str, (char *)gq_config_get(lc, "node_id"), "1"));
	cr_assert(eq(str, (char *)gq_config_get(lc, "raft_address"),
		     "127.0.0.1:7001"));
	cr_assert(gq_config_get(lc, "segment_size") == NULL);
	gq_config_destroy(lc);
	gqd_config_free(&c);
}

/* The original Go-Queue example file loads unchanged; its server block
 * sets the Kafka port and the log file. */
Test(gqd_config, original_example_loads)
{
	static const char original[] =
		"{ \"data_dir\": \"./data\", \"max_topic_partitions\": 1000,\n"
		"  \"segment_size\": 104857600, \"retention_time\": \"168h\",\n"
		"  \"max_storage_size\": 1073741824000, \"flush_interval\": "
		"\"5s\",\n"
		"  \"cleanup_interval\": \"1h\", \"max_message_size\": "
		"1048576,\n"
		"  \"compression_enabled\": true, \"compression_type\": "
		"\"gzip\",\n"
		"  \"compression_threshold\": 1024, "
		"\"deduplication_enabled\": false,\n"
		"  \"server\": { \"port\": \"9092\", \"log_file\": "
		"\"./logs/broker.log\" },\n"
		"  \"enable_follower_read\": true }\n";
	struct gqd_config c;
	struct gq_config *lc;

	cr_assert(
		eq(int,
		   gqd_config_load(write_conf(original), &c, err, sizeof(err)),
		   0),
		"%s", err);
	cr_assert(eq(int, gqd_config_validate(&c, err, sizeof(err)), 0), "%s",
		  err);
	cr_assert(eq(str, lib(&c, "segment_size"), "104857600"));
	cr_assert(eq(str, lib(&c, "retention_time"), "168h"));
	cr_assert(eq(str, lib(&c, "max_storage_size"), "1073741824000"));
	cr_assert(eq(str, lib(&c, "flush_interval"), "5s"));
	cr_assert(eq(str, lib(&c, "compression_type"), "gzip"));
	cr_assert(eq(str, lib(&c, "deduplication_enabled"), "false"));
	cr_assert(eq(str, lib(&c, "enable_follower_read"), "true"));
	cr_assert(eq(str, c.client_addr, "0.0.0.0:9092"));
	cr_assert(eq(str, c.log_file, "./logs/broker.log"));
	cr_assert(eq(int, gqd_config_node_config(&c, &lc, err, sizeof(err)), 0),
		  "%s", err);
	cr_assert(eq(str, (char *)gq_config_get(lc, "max_topic_partitions"),
		     "1000"));
	gq_config_destroy(lc);
	gqd_config_free(&c);
}

/* The shipped gqd.conf.example loads, and lists every key but the two
 * compatibility aliases, each at its default. */
Test(gqd_config, shipped_example_loads)
{
	const struct gqd_config_key *k;
	struct gqd_config c, d;
	json_error_t jerr;
	json_t *root;
	char a[256], b[256];
	size_t i;

	cr_assert(eq(int,
		     gqd_config_load(GQD_EXAMPLE_CONF, &c, err, sizeof(err)),
		     0),
		  "%s", err);
	cr_assert(eq(int, gqd_config_validate(&c, err, sizeof(err)), 0), "%s",
		  err);
	cr_assert(eq(int, gqd_config_load(NULL, &d, err, sizeof(err)), 0));
	root = json_load_file(GQD_EXAMPLE_CONF, 0, &jerr);
	cr_assert(root != NULL);
	for (i = 0; (k = gqd_config_key_at(i)) != NULL; i++) {
		if (k->alias)
			continue;
		cr_assert(json_object_get(root, k->name) != NULL,
			  "%s missing from the example", k->name);
		/* gqd's own keys equal the built-in defaults; library keys
		 * equal the documented ones. */
		cr_assert(eq(int, gqd_config_format(&c, k->name, a, sizeof(a)),
			     0));
		if (k->library) {
			cr_assert(eq(str, a, (char *)k->def), "%s", k->name);
		} else {
			gqd_config_format(&d, k->name, b, sizeof(b));
			cr_assert(eq(str, a, b), "%s", k->name);
		}
	}
	cr_assert(eq(sz, json_object_size(root), i - 2));
	json_decref(root);
	gqd_config_free(&d);
	gqd_config_free(&c);
}

/* Unknown keys are named, with a suggestion when one is close. */
Test(gqd_config, unknown_key_named)
{
	expect_error("{\"segmnt_size\": 1}", "'segmnt_size'",
		     "did you mean 'segment_size'");
	expect_error("{\"node_id\": 1}", "'node_id'", "'broker_id'");
	expect_error("{\"server\": {\"host\": \"x\"}}", "'server.host'", NULL);
	expect_error("{\"server.port\": 9092}", "'server.port'", NULL);
	expect_error("{\"zzzzzzzzzzzzzz\": 1}", "unknown key 'zzzzzzzzzzzzzz'",
		     NULL);
}

/* A value of the wrong JSON type names the key and the type wanted. */
Test(gqd_config, wrong_type_named)
{
	expect_error("{\"compression_enabled\": \"yes\"}",
		     "'compression_enabled'", "true or false");
	expect_error("{\"data_dir\": 5}", "'data_dir'", "a string");
	expect_error("{\"retention_time\": 3600}", "'retention_time'",
		     "\"168h\"");
	expect_error("{\"segment_size\": 1.5}", "'segment_size'", "100MiB");
	expect_error("{\"server\": 9092}", "'server'", "object");
	expect_error("{\"max_connections\": null}", "'max_connections'",
		     "null");
	expect_error("[1, 2]", "top level", NULL);
}

/* Bad sizes, for library keys (the library's message) and gqd's own. */
Test(gqd_config, bad_size_named)
{
	expect_error("{\"segment_size\": \"12XB\"}", "segment_size", "12XB");
	expect_error("{\"segment_size\": 100}", "segment_size", NULL);
	expect_error("{\"max_frame_size\": \"1KiB\"}", "max_frame_size",
		     "1048576");
	expect_error("{\"max_frame_size\": \"lots\"}", "max_frame_size",
		     "size");
}

/* Sizes accept numbers and suffixed strings. */
Test(gqd_config, sizes_with_suffixes)
{
	struct gqd_config c;

	cr_assert(eq(int,
		     gqd_config_load(write_conf("{\"max_frame_size\": "
						"\"1GiB\", "
						"\"segment_size\": "
						"\"64MiB\"}"),
				     &c, err, sizeof(err)),
		     0),
		  "%s", err);
	cr_assert(eq(u32, c.max_frame_size, 1u << 30));
	cr_assert(eq(str, lib(&c, "segment_size"), "67108864"));
	gqd_config_free(&c);
}

/* Bad durations name the key. */
Test(gqd_config, bad_duration_named)
{
	expect_error("{\"retention_time\": \"forever\"}", "retention_time",
		     "forever");
	expect_error("{\"flush_interval\": \"0\"}", "flush_interval", NULL);
	expect_error("{\"idle_timeout\": \"10 minutes\"}", "idle_timeout",
		     "duration");
}

/* Broker ids: a positive integer, or a name ending in one. */
Test(gqd_config, broker_ids)
{
	struct gqd_config c;

	cr_assert(eq(int,
		     gqd_config_load(write_conf("{\"broker_id\": "
						"\"broker1\"}"),
				     &c, err, sizeof(err)),
		     0),
		  "%s", err);
	cr_assert(eq(int, c.broker_id, 1));
	cr_assert(
		eq(int,
		   gqd_config_set(&c, "broker_id", "broker3", err, sizeof(err)),
		   0));
	cr_assert(eq(int, c.broker_id, 3));
	cr_assert(eq(int,
		     gqd_config_set(&c, "broker_id", "17", err, sizeof(err)),
		     0));
	cr_assert(eq(int, c.broker_id, 17));
	cr_assert(eq(int,
		     gqd_config_set(&c, "broker_id", "-1", err, sizeof(err)),
		     GQ_EINVAL));
	cr_assert(eq(int, c.broker_id, 17), "unchanged on failure");
	gqd_config_free(&c);

	expect_error("{\"broker_id\": \"broker\"}", "broker_id", "broker1");
	expect_error("{\"broker_id\": 0}", "broker_id", NULL);
	expect_error("{\"broker_id\": \"broker0\"}", "broker_id", NULL);
	expect_error("{\"broker_id\": 4294967297}", "broker_id", NULL);
}

/* GQ_* variables beat the file, and their errors name the variable. */
Test(gqd_config, env_beats_file)
{
	struct gqd_config c;

	cr_assert(eq(int,
		     gqd_config_load(write_conf("{\"segment_size\": "
						"4096, \"log_level\": "
						"\"error\", "
						"\"server\": {\"port\": "
						"9000}}"),
				     &c, err, sizeof(err)),
		     0),
		  "%s", err);
	setenv("GQ_SEGMENT_SIZE", "8192", 1);
	setenv("GQ_LOG_LEVEL", "debug", 1);
	setenv("GQ_SERVER_PORT", "9100", 1);
	setenv("GQ_DATA_DIR", "/srv/gq", 1);
	setenv("GQ_NOT_A_KEY", "ignored", 1);
	cr_assert(eq(int, gqd_config_apply_env(&c, err, sizeof(err)), 0), "%s",
		  err);
	cr_assert(eq(str, lib(&c, "segment_size"), "8192"));
	cr_assert(eq(int, c.log_level, GQ_LOG_DEBUG));
	cr_assert(eq(str, c.client_addr, "0.0.0.0:9100"));
	cr_assert(eq(str, c.data_dir, "/srv/gq"));

	/* A later layer (the flags) beats the environment. */
	cr_assert(eq(int,
		     gqd_config_set(&c, "client_addr", "127.0.0.1:9200", err,
				    sizeof(err)),
		     0));
	cr_assert(eq(str, c.client_addr, "127.0.0.1:9200"));

	setenv("GQ_MAX_CONNECTIONS", "many", 1);
	cr_assert(
		eq(int, gqd_config_apply_env(&c, err, sizeof(err)), GQ_EINVAL));
	cr_assert(strstr(err, "GQ_MAX_CONNECTIONS") != NULL, "%s", err);
	cr_assert(strstr(err, "max_connections") != NULL, "%s", err);
	gqd_config_free(&c);
}

/* server.port changes only the port of client_addr, and wins over
 * client_addr in the same file. */
Test(gqd_config, server_port_sets_port_only)
{
	struct gqd_config c;

	cr_assert(eq(int,
		     gqd_config_load(write_conf("{\"server\": {\"port\": "
						"\"9093\"}, "
						"\"client_addr\": "
						"\"10.1.2.3:9000\"}"),
				     &c, err, sizeof(err)),
		     0),
		  "%s", err);
	cr_assert(eq(str, c.client_addr, "10.1.2.3:9093"));
	cr_assert(eq(int,
		     gqd_config_set(&c, "client_addr", "[::1]:9000", err,
				    sizeof(err)),
		     0));
	cr_assert(
		eq(int,
		   gqd_config_set(&c, "server.port", "9094", err, sizeof(err)),
		   0));
	cr_assert(eq(str, c.client_addr, "[::1]:9094"));
	gqd_config_free(&c);
	expect_error("{\"server\": {\"port\": 70000}}", "server.port", NULL);
}

/* Addresses: syntax, the advertised default, clashes. */
Test(gqd_config, addresses)
{
	struct gqd_config c;

	cr_assert(eq(int, gqd_config_load(NULL, &c, err, sizeof(err)), 0));
	cr_assert(eq(int,
		     gqd_config_set(&c, "client_addr", "localhost", err,
				    sizeof(err)),
		     GQ_EINVAL));
	cr_assert(strstr(err, "client_addr") != NULL, "%s", err);
	cr_assert(
		eq(int,
		   gqd_config_set(&c, "client_addr", ":9095", err, sizeof(err)),
		   0));
	cr_assert(eq(int,
		     gqd_config_set(&c, "raft_addr", "localhost:7005", err,
				    sizeof(err)),
		     0));
	cr_assert(eq(int, gqd_config_validate(&c, err, sizeof(err)), 0), "%s",
		  err);
	cr_assert(eq(str, c.advertised.host, "127.0.0.1"));
	cr_assert(eq(u16, c.advertised.port, 9095));
	cr_assert(eq(str, c.raft.ip, "127.0.0.1"));

	cr_assert(eq(int,
		     gqd_config_set(&c, "advertised_addr",
				    "kafka.example:19092", err, sizeof(err)),
		     0));
	cr_assert(eq(int, gqd_config_validate(&c, err, sizeof(err)), 0), "%s",
		  err);
	cr_assert(eq(str, c.advertised.host, "kafka.example"));
	cr_assert(eq(u16, c.advertised.port, 19092));

	cr_assert(eq(int,
		     gqd_config_set(&c, "advertised_addr", "0.0.0.0:1", err,
				    sizeof(err)),
		     0));
	cr_assert(
		eq(int, gqd_config_validate(&c, err, sizeof(err)), GQ_EINVAL));
	cr_assert(strstr(err, "advertised_addr") != NULL, "%s", err);

	gqd_config_set(&c, "advertised_addr", "", err, sizeof(err));
	gqd_config_set(&c, "client_addr", "127.0.0.1:7005", err, sizeof(err));
	cr_assert(
		eq(int, gqd_config_validate(&c, err, sizeof(err)), GQ_EINVAL));
	cr_assert(strstr(err, "client_addr") != NULL, "%s", err);
	cr_assert(strstr(err, "raft_addr") != NULL, "%s", err);

	/* "" switches the Raft port off: a node that listens nowhere. */
	gqd_config_set(&c, "raft_addr", "", err, sizeof(err));
	cr_assert(eq(int, gqd_config_validate(&c, err, sizeof(err)), 0), "%s",
		  err);
	cr_assert(eq(u16, c.raft.port, 0));
	gqd_config_free(&c);
}

/* Duplicate keys and syntax errors point into the file. */
Test(gqd_config, json_syntax)
{
	expect_error("{\"data_dir\": \"a\",\n \"data_dir\": \"b\"}", "gqd.json",
		     "duplicate");
	expect_error("{\"data_dir\": \n", "gqd.json:", NULL);
}

/* A missing file is GQ_EIO, not a configuration error. */
Test(gqd_config, missing_file)
{
	struct gqd_config c;
	char path[600];

	snprintf(path, sizeof(path), "%s/nope.json", dir);
	cr_assert(eq(int, gqd_config_load(path, &c, err, sizeof(err)), GQ_EIO));
	cr_assert(strstr(err, "nope.json") != NULL, "%s", err);
}

/* default_partitions may not exceed max_topic_partitions. */
Test(gqd_config, default_partitions_bounded)
{
	struct gqd_config c;

	cr_assert(eq(int,
		     gqd_config_load(write_conf("{\"max_topic_partitions\""
						": 4, "
						"\"default_partitions\": "
						"8}"),
				     &c, err, sizeof(err)),
		     0),
		  "%s", err);
	cr_assert(
		eq(int, gqd_config_validate(&c, err, sizeof(err)), GQ_EINVAL));
	cr_assert(strstr(err, "default_partitions") != NULL, "%s", err);
	gqd_config_free(&c);
}

/* The reload table: logs reload, identity does not. */
Test(gqd_config, reload_table)
{
	cr_assert(eq(int, gqd_config_key_find("log_level")->reload,
		     GQD_RELOAD_YES));
	cr_assert(eq(int, gqd_config_key_find("log_file")->reload,
		     GQD_RELOAD_YES));
	cr_assert(eq(int, gqd_config_key_find("retention_time")->reload,
		     GQD_RELOAD_YES));
	cr_assert(eq(int, gqd_config_key_find("deduplication_window")->reload,
		     GQD_RELOAD_NO));
	cr_assert(eq(int, gqd_config_key_find("cleanup_interval")->reload,
		     GQD_RELOAD_LATER));
	cr_assert(eq(int, gqd_config_key_find("data_dir")->reload,
		     GQD_RELOAD_NO));
	cr_assert(eq(int, gqd_config_key_find("broker_id")->reload,
		     GQD_RELOAD_NO));
	cr_assert(eq(str, (char *)gqd_config_key_find("server.port")->env,
		     "GQ_SERVER_PORT"));
	cr_assert(gqd_config_key_find("nope") == NULL);
}

/* Every key has GQ_ + its upper-cased name (dots as underscores) as its
 * environment variable. */
Test(gqd_config, env_names)
{
	const struct gqd_config_key *k;
	char want[128];
	size_t i, j;

	for (i = 0; (k = gqd_config_key_at(i)) != NULL; i++) {
		snprintf(want, sizeof(want), "GQ_%s", k->name);
		for (j = 3; want[j] != '\0'; j++)
			want[j] = want[j] == '.'
					  ? '_'
					  : (char)(want[j] >= 'a' && want[j] <=
									     'z'
							   ? want[j] - 32
							   : want[j]);
		cr_assert(eq(str, (char *)k->env, want));
	}
}

TestSuite(gqd_log, .init = setup, .fini = teardown, .timeout = 30);

/* A line is ts=... level=... msg="..." then the fields; lower levels are
 * dropped; the file is appended to. */
Test(gqd_log, line_format)
{
	char path[600], buf[2048], q[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/logs/sub/gqd.log", dir);
	cr_assert(eq(int, gqd_log_open(path, GQ_LOG_INFO, err, sizeof(err)), 0),
		  "%s", err);
	gqd_log(GQ_LOG_INFO, "hello \"world\"", "k=%d s=%s", 7,
		gqd_log_quote(q, sizeof(q), "a b"));
	gqd_log_msg(GQ_LOG_DEBUG, "dropped");
	gqd_log_node_cb(NULL, GQ_LOG_WARN, "from the node");
	cr_assert(eq(int, gqd_log_reopen(err, sizeof(err)), 0));
	gqd_log_msg(GQ_LOG_ERROR, "after reopen");
	gqd_log_close();

	fd = open(path, O_RDONLY);
	cr_assert(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert(n > 0);
	buf[n] = '\0';
	cr_assert(strncmp(buf, "ts=", 3) == 0, "%s", buf);
	cr_assert(buf[26] == 'Z' && buf[7] == '-' && buf[13] == 'T', "%s", buf);
	cr_assert(strstr(buf, " level=info msg=\"hello \\\"world\\\"\" k=7 "
			      "s=\"a b\"\n") != NULL,
		  "%s", buf);
	cr_assert(strstr(buf, "dropped") == NULL, "%s", buf);
	cr_assert(strstr(buf, "level=warn msg=\"from the node\" src=node\n") !=
			  NULL,
		  "%s", buf);
	cr_assert(strstr(buf, "level=error msg=\"after reopen\"\n") != NULL,
		  "%s", buf);
}

/* Quoting leaves plain words alone and escapes the rest. */
Test(gqd_log, quote)
{
	char q[32];

	cr_assert(
		eq(str, (char *)gqd_log_quote(q, sizeof(q), "plain"), "plain"));
	cr_assert(eq(str, (char *)gqd_log_quote(q, sizeof(q), ""), "\"\""));
	cr_assert(eq(str, (char *)gqd_log_quote(q, sizeof(q), "a=b\n"),
		     "\"a=b\\n\""));
	cr_assert(eq(str, (char *)gqd_log_quote(q, 8, "0123 56789"),
		     "\"0123 \""));
}
