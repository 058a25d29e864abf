# SPDX-License-Identifier: MIT
"""gqd's HTTP admin port: /healthz and /readyz (also on a cluster started
one node at a time), /metrics in Prometheus text format checked line by
line and against real traffic, every REST route with its error cases,
replica moves on three nodes, configuration reload through SIGHUP and
REST, and a clear exit when the admin address is taken."""
import http.client
import json
import math
import os
import re
import signal
import socket
import tempfile
import time
import unittest

from confluent_kafka import Consumer, Producer, TopicPartition

from harness import Gqd, free_port

DASHBOARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                         "..", "frontend", "gqd", "grafana-dashboard.json")


# ---- Kafka IncrementalAlterConfigs ------------------------------------------

def incremental_alter_configs(addr, resources, validate_only=False):
    """Send IncrementalAlterConfigs v0 (API key 44), which neither
    confluent-kafka 1.7 nor kafka-python 2.0.2 can send, on a raw socket;
    @resources is [(type, name, [(config, op, value)])].  Returns the
    response's [(error_code, error_message, type, name)]."""
    import io
    import struct
    from kafka.protocol.api import Request, RequestHeader, Response
    from kafka.protocol.types import (Array, Boolean, Int8, Int16, Int32,
                                      Schema, String)

    class Resp(Response):
        API_KEY = 44
        API_VERSION = 0
        SCHEMA = Schema(
            ("throttle_time_ms", Int32),
            ("responses", Array(("error_code", Int16),
                                ("error_message", String("utf-8")),
                                ("resource_type", Int8),
                                ("resource_name", String("utf-8")))))

    class Req(Request):
        API_KEY = 44
        API_VERSION = 0
        RESPONSE_TYPE = Resp
        SCHEMA = Schema(
            ("resources", Array(("resource_type", Int8),
                                ("resource_name", String("utf-8")),
                                ("configs", Array(
                                    ("name", String("utf-8")),
                                    ("config_operation", Int8),
                                    ("value", String("utf-8")))))),
            ("validate_only", Boolean))

    req = Req(resources=resources, validate_only=validate_only)
    header = RequestHeader(req, correlation_id=7, client_id="raw")
    body = header.encode() + req.encode()
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), 30) as s:
        s.settimeout(30)
        s.sendall(struct.pack(">i", len(body)) + body)
        data = b""
        while len(data) < 4 or \
                len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
    assert struct.unpack(">i", data[4:8])[0] == 7
    resp = Resp.decode(io.BytesIO(data[8:]))
    return [tuple(r) for r in resp.responses]


# ---- HTTP ---------------------------------------------------------------

class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode())

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


def call(g, method, path, body=None, headers=None, timeout=60):
    """One request to @g's admin port; @body: bytes, or an object sent as
    JSON."""
    hdrs = dict(headers or {})
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", g.admin_port,
                                      timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()},
                      r.read())
    finally:
        conn.close()


def wait_for(fn, timeout, what):
    """Call @fn until it returns something true; return that, or fail
    with @what and the last value (or exception) after @timeout."""
    deadline = time.time() + timeout
    last = None
    while True:
        try:
            v = fn()
            if v:
                return v
            last = v
        except (OSError, http.client.HTTPException) as e:
            last = e
        if time.time() > deadline:
            raise AssertionError("timed out waiting for %s (last: %r)" %
                                 (what, last))
        time.sleep(0.1)


# ---- Prometheus text format 0.0.4 ----------------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(?:\{((?:%s=%s)(?:,%s=%s)*)?\})? (\S+)(?: -?\d+)?$" %
                    (NAME, "[a-zA-Z_][a-zA-Z0-9_]*", LABEL_VALUE,
                     "[a-zA-Z_][a-zA-Z0-9_]*", LABEL_VALUE))
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)=(%s)' % LABEL_VALUE)


def unescape(v):
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1),
                                                      m.group(1)), v[1:-1])


def parse_value(s):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.match(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$", s):
        raise AssertionError("bad value %r" % s)
    return float(s)


def parse_metrics(text):
    """Check every line of @text against the exposition format and return
    ({(name, labels): value}, {family: type}).  labels is a sorted tuple
    of (name, value).  Also checks that each family is declared once,
    before its samples, and that its samples are contiguous; and that
    every histogram has cumulative buckets ending at +Inf = _count, and a
    _sum."""
    samples, types, seen_done = {}, {}, set()
    current = None
    assert text.endswith("\n"), "the text must end with a newline"
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d: %r" % (n, line)
        assert line != "", "empty " + where
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (%s) (.*)$" % NAME, line)
            if m is None:
                continue  # another comment
            fam = m.group(2)
            if m.group(1) == "TYPE":
                assert fam not in types, "TYPE twice, " + where
                assert m.group(3) in ("counter", "gauge", "histogram",
                                      "summary", "untyped"), where
                types[fam] = m.group(3)
            if current is not None and current != fam:
                seen_done.add(current)
            assert fam not in seen_done, "family split, " + where
            current = fam
            continue
        m = SAMPLE.match(line)
        assert m is not None, "bad sample, " + where
        name, labels = m.group(1), m.group(2) or ""
        fam = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and types.get(
                    name[:-len(suffix)]) == "histogram":
                fam = name[:-len(suffix)]
        assert fam in types, "sample before its TYPE, " + where
        assert fam == current, "family split, " + where
        pairs = tuple(sorted((k, unescape(v))
                             for k, v in LABEL.findall(labels)))
        assert len(set(k for k, _ in pairs)) == len(pairs), where
        key = (name, pairs)
        assert key not in samples, "sample twice, " + where
        samples[key] = parse_value(m.group(3))
    check_histograms(samples, types)
    return samples, types


def check_histograms(samples, types):
    for fam, t in types.items():
        if t != "histogram":
            continue
        series = {}
        for (name, labels), v in samples.items():
            if name == fam + "_bucket":
                rest = tuple(p for p in labels if p[0] != "le")
                le = dict(labels)["le"]
                series.setdefault(rest, []).append(
                    (float(le.replace("+Inf", "inf")), v))
        for rest, buckets in series.items():
            buckets.sort()
            assert buckets[-1][0] == math.inf, "%s: no +Inf" % fam
            counts = [v for _, v in buckets]
            assert counts == sorted(counts), \
                "%s%s: buckets not cumulative: %r" % (fam, rest, counts)
            assert samples[(fam + "_count", rest)] == counts[-1], fam
            assert (fam + "_sum", rest) in samples, fam


def scrape(g):
    a = call(g, "GET", "/metrics")
    assert a.status == 200, a
    assert a.headers["content-type"].startswith(
        "text/plain; version=0.0.4"), a.headers
    return parse_metrics(a.body.decode())[0]


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


# ---- one node -----------------------------------------------------------

class AdminNode(unittest.TestCase):
    """One gqd with a configuration file."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(
            dir=os.environ.get("GQ_TEST_TMPDIR"))
        self.conf = os.path.join(self.tmp.name, "gqd.json")
        self.write_conf({"log_level": "info"})
        self.g = Gqd(extra=["-config=" + self.conf]).start()
        self.addr = self.g.addr
        wait_for(lambda: call(self.g, "GET", "/readyz").status == 200, 30,
                 "/readyz")

    def tearDown(self):
        result = getattr(getattr(self, "_outcome", None), "result", None)
        failed = result is not None and any(
            t is self for t, _ in result.failures + result.errors)
        try:
            if self.g.proc is not None:
                self.assertEqual(self.g.stop(), 0, self.g.log())
        finally:
            if failed:
                print("---- gqd log ----\n" + self.g.log())
            self.g.close()
            self.tmp.cleanup()

    def write_conf(self, obj_or_text):
        text = obj_or_text if isinstance(obj_or_text, str) else \
            json.dumps(obj_or_text)
        with open(self.conf + ".new", "w") as f:
            f.write(text)
        os.replace(self.conf + ".new", self.conf)

    def create(self, name, partitions=1, **extra):
        body = dict(name=name, partitions=partitions, **extra)
        a = call(self.g, "POST", "/v1/topics", body)
        self.assertEqual(a.status, 201, a)
        return a.json()

    def assert_error(self, a, status, code=None):
        self.assertEqual(a.status, status, a)
        self.assertTrue(a.headers["content-type"].startswith(
            "application/json"), a.headers)
        j = a.json()
        self.assertIsInstance(j.get("error"), str, a)
        self.assertTrue(j.get("code", "").startswith("GQ_E"), a)
        if code is not None:
            self.assertEqual(j["code"], code, a)
        return j

    # -- probes

    def test_probes(self):
        """/healthz is "ok" (also to HEAD), /readyz says ready in JSON."""
        a = call(self.g, "GET", "/healthz")
        self.assertEqual((a.status, a.body), (200, b"ok\n"))
        self.assertEqual(call(self.g, "HEAD", "/healthz").status, 200)
        a = call(self.g, "GET", "/readyz")
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json(), {"ready": True})
        self.assert_error(call(self.g, "POST", "/healthz"), 405)

    # -- metrics

    def test_metrics_follow_traffic(self):
        """Counters rise with 1,000 messages produced and consumed, the
        high watermarks add up to what was produced, and the group's lag
        is what it committed short of them."""
        self.create("m", 2)
        before = scrape(self.g)
        p = Producer({"bootstrap.servers": self.addr, "linger.ms": 5})
        for i in range(1000):
            p.produce("m", value=b"v%04d" % i, partition=0 if i < 600 else 1)
        self.assertEqual(p.flush(30), 0)
        # A member of the group (the coordinator lists the groups that
        # have members or had some, not those that only commit).
        c = Consumer({"bootstrap.servers": self.addr, "group.id": "mg",
                      "enable.auto.commit": False,
                      "auto.offset.reset": "earliest",
                      "enable.partition.eof": True})
        c.subscribe(["m"])
        got, eof, deadline = 0, set(), time.time() + 60
        while len(eof) < 2 and time.time() < deadline:
            m = c.poll(1)
            if m is None:
                continue
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    eof.add(m.partition())
                    continue
                raise AssertionError(str(m.error()))
            got += 1
        self.assertEqual(got, 1000)
        c.commit(offsets=[TopicPartition("m", 0, 250),
                          TopicPartition("m", 1, 400)], asynchronous=False)

        after = scrape(self.g)
        for api in ("Produce", "Fetch", "Metadata", "OffsetCommit"):
            self.assertGreater(
                value(after, "gqd_kafka_requests_total", api=api),
                value(before, "gqd_kafka_requests_total", api=api), api)
            self.assertGreater(
                value(after, "gqd_kafka_request_duration_seconds_count",
                      api=api),
                value(before, "gqd_kafka_request_duration_seconds_count",
                      api=api), api)
        self.assertEqual(
            value(after, "gqd_kafka_produced_messages_total") -
            value(before, "gqd_kafka_produced_messages_total"), 1000)
        for name in ("gqd_kafka_produced_bytes_total",
                     "gqd_kafka_fetched_bytes_total",
                     "gqd_kafka_bytes_received_total",
                     "gqd_kafka_bytes_sent_total",
                     "gqd_connections_accepted_total"):
            self.assertGreater(value(after, name), value(before, name), name)
        # Stored bytes hold at least the values produced.
        self.assertGreaterEqual(
            value(after, "gqd_kafka_fetched_bytes_total") -
            value(before, "gqd_kafka_fetched_bytes_total"), 5000)
        self.assertEqual(value(after, "gqd_connections_rejected_total"), 0)
        hw = {p: value(after, "gq_partition_high_watermark", topic="m",
                       partition=str(p)) for p in (0, 1)}
        self.assertEqual(hw, {0: 600, 1: 400})
        self.assertEqual(value(after, "gq_partition_log_start_offset",
                               topic="m", partition="0"), 0)
        self.assertGreater(value(after, "gq_partition_size_bytes",
                                 topic="m", partition="0"), 0)
        self.assertGreaterEqual(value(after, "gq_partition_segments",
                                      topic="m", partition="0"), 1)
        for p, committed in ((0, 250), (1, 400)):
            labels = dict(group="mg", topic="m", partition=str(p))
            self.assertEqual(value(after, "gq_group_committed_offset",
                                   **labels), committed)
            self.assertEqual(value(after, "gq_group_lag", **labels),
                             hw[p] - committed)
        # The node's own families, and the controller's Raft group.
        ctl = dict(topic="", partition="-1")
        self.assertEqual(value(after, "gq_raft_role", **ctl), 3)
        self.assertEqual(value(after, "gq_raft_leader", **ctl), 1)
        self.assertGreaterEqual(value(after, "gq_raft_commit_index", **ctl),
                                value(after, "gq_raft_applied_index", **ctl))
        self.assertGreater(value(after, "gq_raft_term", topic="m",
                                 partition="0"), 0)
        self.assertGreaterEqual(value(after, "gq_raft_last_index",
                                      topic="m", partition="0"),
                                value(after, "gq_raft_commit_index",
                                      topic="m", partition="0"))
        self.assertEqual(value(after, "gq_topics"), 2)  # and the offsets
        self.assertGreaterEqual(value(after, "gq_leaders"), 4)
        self.assertGreater(value(after, "gq_disk_bytes"), 0)
        self.assertGreater(value(after, "gq_disk_free_bytes"), 0)
        self.assertGreater(value(after, "gq_uptime_seconds"), 0)
        self.assertEqual(value(after, "gq_broker_alive", broker="1"), 1)
        self.assertGreaterEqual(value(after, "gqd_connections"), 0)

        # The same figures through REST.
        j = call(self.g, "GET", "/v1/groups/mg").json()
        self.assertEqual((j["state"], j["protocol_type"], j["coordinator"]),
                         ("Stable", "consumer", 1))
        self.assertEqual(len(j["members"]), 1)
        self.assertTrue(j["members"][0]["member_id"])
        self.assertEqual(j["leader"], j["members"][0]["member_id"])
        offs = {o["partition"]: o for o in j["offsets"]}
        self.assertEqual(offs[0]["committed"], 250)
        self.assertEqual(offs[0]["lag"], 350)
        self.assertEqual(offs[1]["high_watermark"], 400)
        self.assertEqual(offs[1]["lag"], 0)
        groups = call(self.g, "GET", "/v1/groups").json()["groups"]
        mg = [x for x in groups if x["group"] == "mg"]
        self.assertEqual([(x["state"], x["members"]) for x in mg],
                         [("Stable", 1)])

        # Every series the shipped Grafana dashboard plots is one gqd
        # exports (with traffic and a group, as here).
        # A family with no series yet (no error so far) is still
        # declared by its # TYPE line.
        a = call(self.g, "GET", "/metrics")
        names = set(parse_metrics(a.body.decode())[1])
        with open(DASHBOARD) as f:
            dash = json.load(f)
        exprs = [t["expr"] for panel in dash["panels"]
                 for t in panel["targets"]]
        exprs += [v["query"] for v in dash["templating"]["list"]
                  if v["type"] == "query"]
        used = set()
        for e in exprs:
            used |= set(re.findall(r"\b(gqd?_[a-z_]+)", e))
        self.assertGreater(len(used), 15)
        for m in sorted(used):
            base = re.sub(r"_bucket$", "", m)
            self.assertTrue(m in names or base in names,
                            "the dashboard plots %s, which gqd does not "
                            "export" % m)
        c.close()

    def test_metrics_errors_counted(self):
        """A Kafka error sent back is counted by API and name."""
        before = scrape(self.g)
        self.create("e", 1)
        c = Consumer({"bootstrap.servers": self.addr, "group.id": "e"})
        c.assign([TopicPartition("e", 0, 1000)])  # past the end
        c.poll(3)
        c.close()
        after = wait_for(
            lambda: (lambda s: s if value(
                s, "gqd_kafka_request_errors_total", api="Fetch",
                error="OFFSET_OUT_OF_RANGE") else None)(scrape(self.g)),
            30, "OFFSET_OUT_OF_RANGE counted")
        self.assertIsNone(value(before, "gqd_kafka_request_errors_total",
                                api="Fetch", error="OFFSET_OUT_OF_RANGE"))
        self.assertGreaterEqual(value(after, "gqd_kafka_request_errors_total",
                                      api="Fetch",
                                      error="OFFSET_OUT_OF_RANGE"), 1)

    # -- topics

    def test_topic_routes(self):
        """Create, list, describe and delete, and their errors."""
        t = self.create("t.one", 3, replication_factor=1,
                        config={"retention_time": "1h",
                                "compression_type": "lz4",
                                "deduplication_enabled": True,
                                "max_message_size": 65536})
        self.assertEqual(t["name"], "t.one")
        self.assertEqual(len(t["partitions"]), 3)
        self.assertEqual(t["config"]["retention_time"], "1h")
        self.assertEqual(t["config"]["compression_type"], "lz4")
        self.assertEqual(t["config"]["deduplication_enabled"], "true")
        self.assertEqual(t["config"]["max_message_size"], "65536")
        self.assert_error(call(self.g, "POST", "/v1/topics",
                               {"name": "t.one", "partitions": 1}),
                          409, "GQ_EEXIST")

        topics = call(self.g, "GET", "/v1/topics").json()["topics"]
        mine = [x for x in topics if x["name"] == "t.one"]
        self.assertEqual(mine, [{"name": "t.one", "internal": False,
                                 "replication_factor": 1, "partitions": 3}])
        self.assertIn("__consumer_offsets",
                      [x["name"] for x in topics if x["internal"]])

        p = Producer({"bootstrap.servers": self.addr})
        for i in range(7):
            p.produce("t.one", value=b"x" * 100, partition=2)
        self.assertEqual(p.flush(30), 0)
        # The dot percent-encoded: path segments are decoded.
        a = call(self.g, "GET", "/v1/topics/t%2Eone")
        self.assertEqual(a.status, 200, a)
        d = a.json()
        part = {x["partition"]: x for x in d["partitions"]}
        self.assertEqual(part[2]["high_watermark"], 7)
        self.assertEqual(part[2]["log_start"], 0)
        self.assertGreater(part[2]["size_bytes"], 700)
        self.assertEqual(part[0]["high_watermark"], 0)
        for x in d["partitions"]:
            self.assertEqual(x["leader"], 1)
            self.assertEqual(x["replicas"], [1])
            self.assertEqual(x["live_replicas"], [1])
            self.assertGreaterEqual(x["leader_epoch"], 1)

        # Errors.
        self.assert_error(call(self.g, "GET", "/v1/topics/nope"), 404,
                          "GQ_ENOTOPIC")
        # An encoded slash stays inside the name (and no name holds one).
        self.assert_error(call(self.g, "GET", "/v1/topics/a%2Fb"), 400,
                          "GQ_EBADNAME")
        self.assert_error(call(self.g, "POST", "/v1/topics", b'{"name": ',
                               {"Content-Type": "application/json"}),
                          400, "GQ_EINVAL")
        j = self.assert_error(call(self.g, "POST", "/v1/topics",
                                   b'{"name": "x"}',
                                   {"Content-Type": "text/plain"}), 400)
        self.assertIn("application/json", j["error"])
        self.assert_error(call(self.g, "POST", "/v1/topics", [1, 2]), 400)
        j = self.assert_error(call(self.g, "POST", "/v1/topics",
                                   {"name": "x", "partitons": 2}), 400)
        self.assertIn("partitons", j["error"])
        self.assert_error(call(self.g, "POST", "/v1/topics",
                               {"name": "x", "partitions": "2"}), 400)
        self.assert_error(call(self.g, "POST", "/v1/topics",
                               {"name": "x", "partitions": 0}), 400)
        self.assert_error(call(self.g, "POST", "/v1/topics", {"name": 3}),
                          400)
        j = self.assert_error(call(self.g, "POST", "/v1/topics",
                                   {"name": "x",
                                    "config": {"retention_time": "soon"}}),
                              400)
        self.assertIn("retention_time", j["error"])
        self.assert_error(call(self.g, "POST", "/v1/topics",
                               {"name": "x", "config": {"no_such": "1"}}),
                          400)
        self.assert_error(call(self.g, "POST", "/v1/topics"), 400)
        # Too large: announced (refused before the body is read), or
        # sent in chunks (read, dropped past 1 MiB, then refused).
        with socket.create_connection(("127.0.0.1", self.g.admin_port),
                                      30) as s:
            s.sendall(b"POST /v1/topics HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Content-Length: 4194304\r\n\r\n")
            head = s.recv(4096)
        self.assertTrue(head.startswith(b"HTTP/1.1 413 "), head)
        chunks = (b"x" * 65536 for _ in range(32))
        conn = http.client.HTTPConnection("127.0.0.1", self.g.admin_port,
                                          timeout=30)
        conn.request("POST", "/v1/topics", body=chunks, encode_chunked=True,
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        self.assert_error(Answer(r.status, {k.lower(): v for k, v in
                                            r.getheaders()}, r.read()),
                          413, "GQ_ETOOBIG")
        conn.close()
        a = call(self.g, "PUT", "/v1/topics/t.one", {"x": 1})
        self.assert_error(a, 405)
        self.assertEqual(a.headers["allow"], "GET, HEAD, DELETE, PATCH")
        self.assert_error(call(self.g, "GET", "/v1/nothing"), 404,
                          "GQ_ENOTFOUND")
        self.assert_error(call(self.g, "GET", "/v1/topics/t.one/x"), 404)
        # None of the failures created anything.
        names = [x["name"] for x in
                 call(self.g, "GET", "/v1/topics").json()["topics"]]
        self.assertNotIn("x", names)

        a = call(self.g, "DELETE", "/v1/topics/t.one")
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json(), {"deleted": "t.one"})
        self.assert_error(call(self.g, "GET", "/v1/topics/t.one"), 404)
        self.assert_error(call(self.g, "DELETE", "/v1/topics/t.one"), 404,
                          "GQ_ENOTOPIC")

    def test_topic_alter_route(self):
        """PATCH /v1/topics/{name} sets the keys given, answers the topic
        as GET shows it, takes effect for Kafka producers at once and
        survives a restart; its errors."""
        self.create("alt", 2, config={"retention_time": "1h",
                                      "compression_type": "none"})
        a = call(self.g, "PATCH", "/v1/topics/alt",
                 {"config": {"retention_time": "90m",
                             "max_message_size": 2048,
                             "compression_enabled": False}})
        self.assertEqual(a.status, 200, a)
        t = a.json()
        self.assertEqual(t, call(self.g, "GET", "/v1/topics/alt").json())
        self.assertEqual(t["name"], "alt")
        self.assertEqual(len(t["partitions"]), 2)
        cfg = t["config"]
        self.assertEqual(cfg["retention_time"], "90m")
        self.assertEqual(cfg["max_message_size"], "2048")
        self.assertEqual(cfg["compression_enabled"], "false")
        self.assertEqual(cfg["compression_type"], "none")
        self.assertEqual(cfg["segment_size"], "104857600")

        # A batch above the new limit is refused, a small one stored.
        errs = []
        p = Producer({"bootstrap.servers": self.addr, "linger.ms": 0,
                      "compression.type": "none"})
        p.produce("alt", value=os.urandom(4000), partition=0,
                  on_delivery=lambda e, m: errs.append(e))
        self.assertEqual(p.flush(30), 0)
        p.produce("alt", value=b"small", partition=0,
                  on_delivery=lambda e, m: errs.append(e))
        self.assertEqual(p.flush(30), 0)
        self.assertIn("MSG_SIZE_TOO_LARGE", str(errs[0]))
        self.assertIsNone(errs[1])

        # Errors, none of which changes anything.
        j = self.assert_error(call(self.g, "PATCH", "/v1/topics/alt",
                                   {"config": {"retention_time": "soon"}}),
                              400, "GQ_EINVAL")
        self.assertIn("retention_time", j["error"])
        j = self.assert_error(call(self.g, "PATCH", "/v1/topics/alt",
                                   {"config": {"no_such": "1"}}), 400)
        self.assertIn("no_such", j["error"])
        j = self.assert_error(call(self.g, "PATCH", "/v1/topics/alt",
                                   {"config": {"cleanup_interval": "1s"}}),
                              400, "GQ_EINVAL")
        self.assertIn("cleanup_interval", j["error"])
        j = self.assert_error(call(self.g, "PATCH", "/v1/topics/alt",
                                   {"config": {"deduplication_window":
                                               5}}), 400, "GQ_EINVAL")
        self.assertIn("deduplication_window", j["error"])
        j = self.assert_error(call(self.g, "PATCH", "/v1/topics/alt",
                                   {"partitions": 4}), 400, "GQ_EINVAL")
        self.assertIn("partitions", j["error"])
        j = self.assert_error(call(self.g, "PATCH", "/v1/topics/alt",
                                   {"config": {}, "retention_time": "1h"}),
                              400)
        self.assertIn("retention_time", j["error"])
        self.assert_error(call(self.g, "PATCH", "/v1/topics/alt",
                               {"config": {}}), 400, "GQ_EINVAL")
        self.assert_error(call(self.g, "PATCH", "/v1/topics/alt", {}), 400)
        self.assert_error(call(self.g, "PATCH", "/v1/topics/alt"), 400)
        self.assert_error(call(self.g, "PATCH", "/v1/topics/alt",
                               {"config": "retention_time=1h"}), 400)
        self.assert_error(call(self.g, "PATCH", "/v1/topics/alt",
                               {"config": {"retention_time": None}}), 400)
        self.assert_error(call(self.g, "PATCH", "/v1/topics/nope",
                               {"config": {"retention_time": "1h"}}),
                          404, "GQ_ENOTOPIC")
        self.assert_error(call(self.g, "PATCH",
                               "/v1/topics/__consumer_offsets",
                               {"config": {"retention_time": "1h"}}),
                          400, "GQ_EBADNAME")
        a = call(self.g, "POST", "/v1/topics/alt", {"config": {}})
        self.assert_error(a, 405)
        self.assertEqual(a.headers["allow"], "GET, HEAD, DELETE, PATCH")
        self.assertEqual(call(self.g, "GET", "/v1/topics/alt").json()
                         ["config"], cfg)

        # The change is the controller's state: it survives a restart.
        self.assertEqual(self.g.stop(), 0, self.g.log())
        self.g.start()
        wait_for(lambda: call(self.g, "GET", "/readyz").status == 200, 30,
                 "/readyz")
        self.assertEqual(call(self.g, "GET", "/v1/topics/alt").json()
                         ["config"], cfg)

    def test_incremental_alter_configs(self):
        """IncrementalAlterConfigs v0 changes a topic's keys under Kafka's
        names or goqueue's: SET, DELETE back to gqd's default, refusals
        per resource with a message, and validate_only changes nothing."""
        self.create("ia")
        self.create("ib")
        SET, DELETE, APPEND = 0, 1, 2
        got = incremental_alter_configs(self.addr, [
            (2, "ia", [("retention.ms", SET, "3600000"),
                       ("compression_type", SET, "zstd")]),
            (2, "nosuch", [("retention.ms", SET, "1000")]),
            (2, "ib", [("no.such.key", SET, "1")]),
            (2, "ib", [("retention_time", APPEND, "1h")]),
            (4, "1", [("log.retention.ms", SET, "1000")]),
        ])
        self.assertEqual(got[0], (0, None, 2, "ia"))
        self.assertEqual(got[1][0], 3, got)   # UNKNOWN_TOPIC_OR_PARTITION
        self.assertEqual(got[2][0], 40, got)  # INVALID_CONFIG
        self.assertIn("no.such.key", got[2][1])
        self.assertEqual(got[3][0], 42, got)  # INVALID_REQUEST
        self.assertIn("not a list key", got[3][1])
        self.assertEqual(got[4][0], 42, got)
        self.assertEqual(got[4][2:], (4, "1"))
        cfg = self.topic_config("ia")
        self.assertEqual((cfg["retention_time"], cfg["compression_type"]),
                         ("1h", "zstd"))

        # A bad value: the library's message.
        got = incremental_alter_configs(self.addr, [
            (2, "ia", [("retention_time", SET, "soon")])])
        self.assertEqual(got[0][0], 40, got)
        self.assertIn("retention_time", got[0][1])
        # The controller refuses a deduplication change.
        got = incremental_alter_configs(self.addr, [
            (2, "ia", [("deduplication_window", SET, "77")])])
        self.assertEqual(got[0][0], 40, got)
        self.assertIn("deduplication_window", got[0][1])

        # validate_only: checked, not applied.
        got = incremental_alter_configs(self.addr, [
            (2, "ia", [("retention.ms", SET, "7200000")])],
            validate_only=True)
        self.assertEqual(got, [(0, None, 2, "ia")])
        self.assertEqual(self.topic_config("ia")["retention_time"], "1h")

        # DELETE: back to gqd's default for topics.
        got = incremental_alter_configs(self.addr, [
            (2, "ia", [("retention.ms", DELETE, None)])])
        self.assertEqual(got, [(0, None, 2, "ia")])
        self.assertEqual(self.topic_config("ia")["retention_time"], "168h")

    def test_cluster_broker_partition_routes(self):
        """/v1/cluster and /v1/brokers on one node, and the errors of the
        broker and partition actions."""
        self.create("c", 2)
        j = call(self.g, "GET", "/v1/cluster").json()
        self.assertEqual((j["node_id"], j["controller"]), (1, 1))
        self.assertEqual(len(j["brokers"]), 1)
        b = j["brokers"][0]
        self.assertEqual((b["id"], b["alive"], b["removing"]), (1, True, False))
        self.assertEqual(b["client_address"], self.addr)
        self.assertTrue(b["raft_address"].startswith("127.0.0.1:"))
        topo = {t["name"]: t for t in j["topics"]}
        self.assertEqual([(x["partition"], x["leader"], x["replicas"],
                           x["live_replicas"])
                          for x in topo["c"]["partitions"]],
                         [(0, 1, [1], [1]), (1, 1, [1], [1])])
        self.assertEqual(call(self.g, "GET", "/v1/brokers").json(),
                         {"controller": 1, "brokers": j["brokers"]})

        self.assert_error(call(self.g, "POST", "/v1/brokers/x/remove"), 400)
        self.assert_error(call(self.g, "POST", "/v1/brokers/9/remove"), 400,
                          "GQ_EINVAL")
        a = call(self.g, "GET", "/v1/brokers/1/remove")
        self.assert_error(a, 405)
        self.assertEqual(a.headers["allow"], "POST")

        ml = "/v1/topics/c/partitions/%s/move-leader"
        ra = "/v1/topics/c/partitions/%s/reassign"
        self.assert_error(call(self.g, "POST", ml % 0, {"broker": 2}), 400)
        self.assert_error(call(self.g, "POST", ml % 0, {"broker": "1"}), 400)
        self.assert_error(call(self.g, "POST", ml % 0), 400)
        self.assert_error(call(self.g, "POST", ml % "x", {"broker": 1}), 400)
        self.assert_error(call(self.g, "POST", ml % 7, {"broker": 1}), 404,
                          "GQ_ENOPARTITION")
        self.assert_error(call(self.g, "POST", ra % 0, {"replicas": []}), 400)
        self.assert_error(call(self.g, "POST", ra % 0, {"replicas": [5]}),
                          400, "GQ_EINVAL")
        self.assert_error(call(self.g, "POST",
                               "/v1/topics/zz/partitions/0/reassign",
                               {"replicas": [1]}), 404, "GQ_ENOTOPIC")
        # A move to where it already is succeeds.
        a = call(self.g, "POST", ml % 1, {"broker": 1})
        self.assertEqual(a.status, 202, a)
        self.assertEqual(a.json(), {"topic": "c", "partition": 1,
                                    "broker": 1})

    def test_group_routes_errors(self):
        self.assert_error(call(self.g, "GET", "/v1/groups/none"), 404,
                          "GQ_ENOTFOUND")
        self.assert_error(call(self.g, "DELETE", "/v1/groups"), 405)

    def test_group_reset_offsets_route(self):
        """POST /v1/groups/{g}/reset-offsets: each target, dry runs,
        clamping, a shift without a commit, a group with a member refused
        until it leaves, and the 400s, 404s and 405 of a bad request."""
        self.create("rs", 2)
        p = Producer({"bootstrap.servers": self.addr})
        for i in range(10):
            p.produce("rs", value=b"m%d" % i, partition=0,
                      timestamp=1000000 + 1000 * i)
        self.assertEqual(p.flush(30), 0)
        # A consumer that only commits (no subscription) leaves the group
        # Empty, as Kafka's tools expect before a reset.
        c = Consumer({"bootstrap.servers": self.addr, "group.id": "rg",
                      "enable.auto.commit": False})
        c.commit(offsets=[TopicPartition("rs", 0, 6)], asynchronous=False)
        c.close()
        path = "/v1/groups/rg/reset-offsets"

        def committed():
            d = call(self.g, "GET", "/v1/groups/rg").json()
            return {o["partition"]: o["committed"] for o in d["offsets"]
                    if o["topic"] == "rs"}

        def reset(body, status=200):
            a = call(self.g, "POST", path, dict(body, topic="rs"))
            self.assertEqual(a.status, status, (body, a))
            return a.json()

        d = reset({"to": "earliest", "dry_run": True})
        self.assertEqual(d, {
            "group": "rg", "topic": "rs", "to": "earliest", "dry_run": True,
            "partitions": [
                {"partition": 0, "old": 6, "new": 0, "log_start": 0,
                 "high_watermark": 10, "applied": False},
                {"partition": 1, "old": None, "new": 0, "log_start": 0,
                 "high_watermark": 0, "applied": False}]})
        self.assertEqual(committed(), {0: 6})
        for body, want in (
                ({"to": "earliest", "partitions": [0]}, 0),
                ({"to": "offset", "value": 4, "partitions": [0]}, 4),
                ({"to": "offset", "value": 99, "partitions": [0]}, 10),
                ({"to": "shift", "value": -3}, 7),
                ({"to": "shift", "value": 2 ** 63 - 1}, 10),
                ({"to": "shift", "value": -2 ** 63}, 0),
                ({"to": "timestamp", "value": 1004500, "partitions": [0]},
                 5),
                ({"to": "timestamp", "value": 0, "partitions": [0]}, 0),
                ({"to": "timestamp", "value": 10 ** 13,
                  "partitions": [0]}, 10),
                ({"to": "offset", "value": 3, "partitions": [0],
                  "dry_run": False}, 3)):
            d = reset(body)
            part = {x["partition"]: x for x in d["partitions"]}
            self.assertEqual(part[0]["new"], want, body)
            self.assertTrue(part[0]["applied"], body)
            self.assertEqual(committed(), {0: want}, body)
            if body["to"] == "shift":
                # Partition 1 has no commit: left alone.
                self.assertEqual(part[1], {
                    "partition": 1, "old": None, "new": None,
                    "log_start": 0, "high_watermark": 0,
                    "applied": False})
        # A shift of a partition named without a commit, or of a group
        # without any: 409.
        self.assert_error(call(self.g, "POST", path, {
            "topic": "rs", "to": "shift", "value": 1, "partitions": [1]}),
            409, "GQ_EOFFSET")
        self.assert_error(call(self.g, "POST",
                               "/v1/groups/nobody/reset-offsets",
                               {"topic": "rs", "to": "shift", "value": 1}),
                          409, "GQ_EOFFSET")
        d = reset({"to": "latest"})
        self.assertEqual([(x["old"], x["new"]) for x in d["partitions"]],
                         [(3, 10), (None, 0)])
        self.assertEqual(committed(), {0: 10, 1: 0})

        # A member: refused, dry run included, until it leaves.
        c = Consumer({"bootstrap.servers": self.addr, "group.id": "rg",
                      "enable.auto.commit": False})
        c.subscribe(["rs"])
        deadline = time.time() + 30
        while not c.assignment():
            self.assertLess(time.time(), deadline, "never assigned")
            c.poll(0.2)
        for dry in (False, True):
            j = self.assert_error(call(self.g, "POST", path, {
                "topic": "rs", "to": "earliest", "dry_run": dry}),
                409, "GQ_EBUSY")
            self.assertIn("1 active member", j["error"])
        self.assertEqual(committed(), {0: 10, 1: 0})
        c.close()
        reset({"to": "earliest"})
        self.assertEqual(committed(), {0: 0, 1: 0})

        for body in (None, b"[]", {"to": "earliest"},
                     {"topic": 7, "to": "earliest"},
                     {"topic": "rs"}, {"topic": "rs", "to": "sideways"},
                     {"topic": "rs", "to": "offset"},
                     {"topic": "rs", "to": "offset", "value": -1},
                     {"topic": "rs", "to": "offset", "value": "3"},
                     {"topic": "rs", "to": "timestamp", "value": -5},
                     {"topic": "rs", "to": "shift"},
                     {"topic": "rs", "to": "earliest", "value": 1},
                     {"topic": "rs", "to": "latest", "extra": 1},
                     {"topic": "rs", "to": "latest", "partitions": []},
                     {"topic": "rs", "to": "latest", "partitions": "0"},
                     {"topic": "rs", "to": "latest", "partitions": [-1]},
                     {"topic": "rs", "to": "latest", "partitions": [0, 0]},
                     {"topic": "rs", "to": "latest", "dry_run": "yes"}):
            self.assert_error(call(self.g, "POST", path, body), 400,
                              "GQ_EINVAL")
        self.assert_error(call(self.g, "POST", path, {
            "topic": "nosuch", "to": "latest"}), 404, "GQ_ENOTOPIC")
        self.assert_error(call(self.g, "POST", path, {
            "topic": "rs", "to": "latest", "partitions": [0, 2]}),
            404, "GQ_ENOPARTITION")
        a = call(self.g, "GET", path)
        self.assert_error(a, 405)
        self.assertEqual(a.headers["allow"], "POST")
        self.assertEqual(committed(), {0: 0, 1: 0})

    # -- configuration

    def config(self):
        a = call(self.g, "GET", "/v1/config")
        self.assertEqual(a.status, 200, a)
        return a.json()["keys"]

    def test_config_reload_rest(self):
        """POST /v1/config/reload applies log_level, reports keys that
        need a restart, and leaves everything as it was when the file is
        broken."""
        keys = self.config()
        self.assertEqual(keys["log_level"],
                         {"value": "info", "reload": "yes",
                          "reloadable": True, "library_default": False})
        self.assertEqual(keys["data_dir"]["reload"], "no")
        self.assertFalse(keys["data_dir"]["reloadable"])
        self.assertEqual(keys["idle_timeout"]["reload"], "yes")
        self.assertEqual(keys["retention_time"]["reload"], "yes")
        self.assertEqual(keys["cleanup_interval"]["reload"], "later")
        self.assertEqual(keys["deduplication_window"]["reload"], "no")
        self.assertEqual(keys["admin_addr"]["value"], self.g.admin_addr)
        self.assertEqual(keys["segment_size"]["value"], "104857600")
        self.assertNotIn("server.port", keys)  # aliases are not keys

        self.write_conf({"log_level": "debug", "segment_size": "64MiB",
                         "idle_timeout": "5m", "cleanup_interval": "30m",
                         "deduplication_window": 5000,
                         "max_connections": 1})
        a = call(self.g, "POST", "/v1/config/reload")
        self.assertEqual(a.status, 200, a)
        j = a.json()
        self.assertEqual(sorted((k["key"], k["value"]) for k in j["applied"]),
                         [("idle_timeout", "5m"), ("log_level", "debug"),
                          ("max_connections", "1"),
                          ("segment_size", "67108864")])
        self.assertEqual(sorted((k["key"], k["reload"])
                                for k in j["restart_required"]),
                         [("cleanup_interval", "later"),
                          ("deduplication_window", "no")])
        self.assertEqual(j["topics_altered"], 0)
        keys = self.config()
        self.assertEqual(keys["log_level"]["value"], "debug")
        self.assertEqual(keys["idle_timeout"]["value"], "5m")
        self.assertEqual(keys["segment_size"]["value"], "67108864")
        # Not applied: the running values stay.
        self.assertEqual(keys["cleanup_interval"]["value"], "1h")
        self.assertIn("key cannot change at run time", self.g.log())
        # The lowered connection limit holds at once: with one Kafka
        # connection open, the next one is closed on arrival.
        with socket.create_connection(("127.0.0.1", self.g.port), 10) as s1:
            s1.sendall(b"\0\0\0\x0a\0\x12\0\0\0\0\0\x01\xff\xff")
            self.assertGreater(len(s1.recv(4096)), 0)
            with socket.create_connection(("127.0.0.1", self.g.port),
                                          10) as s2:
                s2.settimeout(10)
                self.assertEqual(s2.recv(4096), b"")
        self.write_conf({"log_level": "debug", "max_connections": 1024})
        self.assertEqual(call(self.g, "POST", "/v1/config/reload").status,
                         200)

        # A second reload of the same file changes nothing more.
        j = call(self.g, "POST", "/v1/config/reload").json()
        self.assertEqual(j["applied"], [])

        self.write_conf('{"log_level": "warn",')
        a = call(self.g, "POST", "/v1/config/reload")
        j = self.assert_error(a, 400, "GQ_EINVAL")
        self.assertIn(self.conf, j["error"])
        self.assertEqual(self.config()["log_level"]["value"], "debug")
        self.write_conf({"log_level": "bogus"})
        j = self.assert_error(call(self.g, "POST", "/v1/config/reload"), 400)
        self.assertIn("log_level", j["error"])
        self.assertEqual(self.config()["log_level"]["value"], "debug")
        self.assertIn("reload failed, configuration unchanged",
                      self.g.log())
        # A body, if any, must be JSON.
        self.assert_error(call(self.g, "POST", "/v1/config/reload", b"x",
                               {"Content-Type": "application/json"}), 400)
        self.assert_error(call(self.g, "GET", "/v1/config/reload"), 405)

    def topic_config(self, name):
        a = call(self.g, "GET", "/v1/topics/" + name)
        self.assertEqual(a.status, 200, a)
        return a.json()["config"]

    def test_config_reload_topic_defaults(self):
        """Reloaded topic keys are the defaults of topics created from
        then on (REST and Kafka CreateTopics), and existing topics that had
        the old default follow; a topic's own value stays."""
        self.create("plain")
        self.create("own", config={"retention_time": "2h"})
        self.write_conf({"log_level": "info", "retention_time": "1h",
                         "max_message_size": "2MiB"})
        j = call(self.g, "POST", "/v1/config/reload").json()
        self.assertEqual(sorted(k["key"] for k in j["applied"]),
                         ["max_message_size", "retention_time"])
        self.assertEqual(j["restart_required"], [])
        self.assertEqual(j["topics_altered"], 2)
        want = {"plain": ("1h", "2097152"), "own": ("2h", "2097152")}

        def followed():
            got = {n: (self.topic_config(n)["retention_time"],
                       self.topic_config(n)["max_message_size"])
                   for n in want}
            return got == want
        wait_for(followed, 30, "topics altered to the reloaded defaults")
        self.assertIn("topic follows the reloaded defaults", self.g.log())

        self.create("fresh")
        self.assertEqual(self.topic_config("fresh")["retention_time"], "1h")
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": self.addr})
        admin.create_topics([NewTopic("viakafka", 1, 1)])["viakafka"].result(
            30)
        cfg = self.topic_config("viakafka")
        self.assertEqual((cfg["retention_time"], cfg["max_message_size"]),
                         ("1h", "2097152"))

        # Back to the file's defaults: the topics that followed go back,
        # "own" keeps its retention.
        self.write_conf({"log_level": "info"})
        j = call(self.g, "POST", "/v1/config/reload").json()
        self.assertEqual(j["topics_altered"], 4)
        want = {"plain": ("168h", "1048576"), "own": ("2h", "1048576"),
                "fresh": ("168h", "1048576"),
                "viakafka": ("168h", "1048576")}
        wait_for(followed, 30, "topics back to the defaults")

    def test_config_reload_sighup(self):
        """SIGHUP does what the REST reload does."""
        self.write_conf({"log_level": "warn"})
        self.g.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: self.config()["log_level"]["value"] == "warn", 30,
                 "log_level warn after SIGHUP")
        self.assertIn("SIGHUP: log reopened", self.g.log())


class AdminStart(unittest.TestCase):
    def test_admin_addr_taken(self):
        """gqd exits at once, status 1, naming the address, when its admin
        address is in use."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            g = Gqd(extra=["-admin-addr=127.0.0.1:%d" % port])
            try:
                g.start(wait=False)
                rc = g.proc.wait(30)
                g.proc = None
                self.assertEqual(rc, 1, g.log())
                log = g.log()
                self.assertIn("cannot start the admin port", log)
                self.assertIn("127.0.0.1:%d" % port, log)
                self.assertIn("Address already in use", log)
                self.assertNotIn("opening node", log)
            finally:
                g.close()

    def test_admin_addr_empty(self):
        """admin_addr "" serves no admin port."""
        g = Gqd(extra=["-admin-addr="])
        try:
            g.start()
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", g.admin_port), 1)
            self.assertNotIn("admin listener started", g.log())
            self.assertEqual(g.stop(), 0, g.log())
        finally:
            g.close()


# ---- three nodes --------------------------------------------------------

class AdminCluster(unittest.TestCase):
    def setUp(self):
        raft = [free_port() for _ in range(3)]
        peers = ",".join("%d@127.0.0.1:%d" % (i + 1, p)
                         for i, p in enumerate(raft))
        self.nodes = [Gqd(raft_port=raft[i],
                          extra=["-broker-id=%d" % (i + 1),
                                 "-initial-cluster=" + peers])
                      for i in range(3)]

    def tearDown(self):
        result = getattr(getattr(self, "_outcome", None), "result", None)
        failed = result is not None and any(
            t is self for t, _ in result.failures + result.errors)
        try:
            for n in self.nodes:
                if n.proc is not None:
                    self.assertEqual(n.stop(), 0, n.log())
        finally:
            for i, n in enumerate(self.nodes):
                if failed:
                    print("---- gqd %d log ----\n%s" % (i + 1, n.log()))
                n.close()

    def ready(self, n):
        return call(n, "GET", "/readyz", timeout=10).status == 200

    def alone_not_ready(self, one):
        """@one, started alone, is alive but not ready, and says why."""
        one.start(wait=False)
        wait_for(lambda: call(one, "GET", "/healthz", timeout=5).status ==
                 200, 30, "/healthz on the first node")
        a = call(one, "GET", "/readyz")
        self.assertEqual(a.status, 503, a)
        self.assertFalse(a.json()["ready"])
        self.assertIn("opening", a.json()["reason"])
        a = call(one, "GET", "/v1/topics")
        self.assertEqual((a.status, a.json()["code"]), (503, "GQ_ENOTREADY"))
        # Metrics serve without the node: gqd's own only.
        s = scrape(one)
        self.assertIsNotNone(value(s, "gqd_connections"))
        self.assertIsNone(value(s, "gq_topics"))

    def test_ready_reassign_move_leader(self):
        """One node up: alive but not ready; all three (a new cluster
        waits for every initial node, to place the offsets topic's three
        replicas): ready.  A partition's replicas and leader move where
        REST says.  Restarted, the cluster is ready again once a quorum
        of it is up."""
        one = self.nodes[0]
        self.alone_not_ready(one)
        for n in self.nodes[1:]:
            n.start(wait=False)
        for n in self.nodes:
            wait_for(lambda: self.ready(n), 90, "/readyz")
            n.wait_listening(30)

        j = wait_for(lambda: (lambda c: c if len(c["brokers"]) == 3 and all(
            b["alive"] for b in c["brokers"]) else None)(
                call(one, "GET", "/v1/cluster").json()), 60,
            "three live brokers")
        self.assertIn(j["controller"], (1, 2, 3))
        s = scrape(one)
        for b in ("1", "2", "3"):
            self.assertEqual(value(s, "gq_broker_alive", broker=b), 1)

        a = call(one, "POST", "/v1/topics",
                 {"name": "r", "partitions": 1, "replication_factor": 2})
        self.assertEqual(a.status, 201, a)
        replicas = a.json()["partitions"][0]["replicas"]
        self.assertEqual(len(replicas), 2)
        spare = ({1, 2, 3} - set(replicas)).pop()
        want = [spare, replicas[0], replicas[1]]
        # Asked on another node than the one that created it.
        a = call(self.nodes[1], "POST", "/v1/topics/r/partitions/0/reassign",
                 {"replicas": want})
        self.assertEqual(a.status, 202, a)
        self.assertEqual(a.json()["replicas"], want)

        def part(n):
            return call(n, "GET", "/v1/topics/r").json()["partitions"][0]

        wait_for(lambda: (lambda p: p["replicas"] == want and
                          sorted(p["live_replicas"]) == [1, 2, 3])(
                              part(self.nodes[2])), 90,
                 "the new replicas")
        # The spare now holds a replica of its own (log_start >= 0).
        wait_for(lambda: part(self.nodes[spare - 1])["log_start"] >= 0, 90,
                 "a replica on broker %d" % spare)
        target = [b for b in want if b != part(one)["leader"]][0]
        a = call(one, "POST", "/v1/topics/r/partitions/0/move-leader",
                 {"broker": target})
        self.assertEqual(a.status, 202, a)
        wait_for(lambda: all(part(n)["leader"] == target
                             for n in self.nodes), 90,
                 "leadership on broker %d" % target)
        s = scrape(self.nodes[target - 1])
        self.assertEqual(value(s, "gq_raft_leader", topic="r",
                               partition="0"), 1)

        # A group is described by its coordinator (which does not know
        # this one: 404); the other nodes send the caller there (421).
        answers = {i + 1: call(n, "GET", "/v1/groups/cg")
                   for i, n in enumerate(self.nodes)}
        coord = [i for i, a in answers.items() if a.status != 421]
        self.assertEqual(len(coord), 1, answers)
        self.assertEqual(answers[coord[0]].status, 404, answers)
        for i, a in answers.items():
            if i != coord[0]:
                self.assertEqual(a.json()["code"], "GQ_ENOTCOORD")
                self.assertEqual(a.json()["coordinator"], coord[0])
        for n in self.nodes:
            self.assertTrue(self.ready(n))

        # Restart: one node is not ready, two (a quorum) are.
        for n in self.nodes:
            self.assertEqual(n.stop(), 0, n.log())
        self.alone_not_ready(one)
        self.nodes[1].start(wait=False)
        for n in self.nodes[:2]:
            wait_for(lambda: self.ready(n), 90, "/readyz with a quorum")
        self.assertIn(call(one, "GET", "/v1/brokers").json()["controller"],
                      (1, 2))


if __name__ == "__main__":
    unittest.main()
