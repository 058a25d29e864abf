# SPDX-License-Identifier: MIT
"""gqctl against real gqd processes: every command in both outputs, help,
exit codes, produce and consume over the Kafka port, leader moves on a
three-node cluster, and check-store on a stopped node's data directory
damaged on purpose."""
import glob
import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time
import unittest

from confluent_kafka import Consumer, Producer, TopicPartition

import harness
from harness import Gqd

GQCTL = os.environ.get("GQCTL", "gqctl")

# Every command, for the help and usage checks.
COMMANDS = [
    ("topic", "create"), ("topic", "delete"), ("topic", "list"),
    ("topic", "describe"), ("topic", "alter"), ("topic", "produce"),
    ("topic", "consume"),
    ("group", "list"), ("group", "describe"), ("group", "reset-offsets"),
    ("cluster", "status"), ("cluster", "brokers"), ("cluster", "leaders"),
    ("partition", "move-leader"), ("partition", "reassign"),
    ("config", "show"), ("config", "reload"), ("check-store",),
]


def gqctl(*args, admin=None, brokers=None, input=None, text=True,
          timeout=120):
    """Run gqctl; returns the CompletedProcess (text, or bytes)."""
    cmd = [GQCTL] + (["--admin", admin] if admin else []) + \
        (["--brokers", brokers] if brokers else []) + list(args)
    env = dict(os.environ)
    env.pop("GQCTL_ADMIN", None)
    env.pop("GQCTL_BROKERS", None)
    return subprocess.run(cmd, capture_output=True, text=text, input=input,
                          timeout=timeout, env=env)


def admin_of(node):
    return node.admin_addr


def node_with_admin(**kw):
    """A Gqd whose admin port is free (the harness gives one to each)."""
    g = Gqd(**kw)
    if not hasattr(g, "admin_addr"):
        g.admin_addr = "127.0.0.1:%d" % harness.free_port()
        g.extra.append("-admin-addr=" + g.admin_addr)
    return g


def consume_all(addr, topic, partition, timeout=5):
    """Every message of a partition from offset 0: (offset, value)."""
    c = Consumer({"bootstrap.servers": addr, "group.id": "gqctl-read",
                  "enable.auto.commit": False,
                  "enable.partition.eof": True})
    c.assign([TopicPartition(topic, partition, 0)])
    out = []
    while True:
        m = c.poll(timeout)
        if m is None:
            break
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                break
            raise AssertionError(str(m.error()))
        out.append((m.offset(), m.value()))
    c.close()
    return out


class Offline(unittest.TestCase):
    """What needs no server: help, version, usage errors, exit 3."""

    def test_help_everywhere(self):
        """--help works on every level, exits 0 and shows usage and an
        example."""
        for args in (["--help"], ["-h"], ["help"]):
            r = gqctl(*args)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("Usage: gqctl", r.stdout)
            self.assertIn("check-store", r.stdout)
            self.assertIn("Exit status", r.stdout)
        for noun in ("topic", "group", "cluster", "partition", "config"):
            r = gqctl(noun, "--help")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("Usage: gqctl %s" % noun, r.stdout)
            r = gqctl("help", noun)
            self.assertEqual(r.returncode, 0, r.stderr)
        for cmd in COMMANDS:
            for h in ("--help", "-h"):
                r = gqctl(*cmd, h)
                self.assertEqual(r.returncode, 0, (cmd, r.stderr))
                self.assertIn("Usage: gqctl " + " ".join(cmd), r.stdout)
                self.assertIn("Example", r.stdout, cmd)
            r = gqctl("help", *cmd)
            self.assertEqual(r.returncode, 0, (cmd, r.stderr))
            self.assertIn("Usage: gqctl " + " ".join(cmd), r.stdout)

    def test_version(self):
        r = gqctl("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^gqctl \(goqueue\) \d+\.\d+\.\d+\n$")

    def test_usage_errors_exit_2(self):
        """Bad command lines exit 2 with 'gqctl: ...' on stderr and
        nothing on stdout, before any server is asked."""
        cases = [
            [], ["nosuch"], ["topic"], ["topic", "nosuch"],
            ["topic", "create"], ["topic", "create", "a", "b"],
            ["topic", "create", "x", "--partitions", "abc"],
            ["topic", "create", "x", "--partitions", "0"],
            ["topic", "create", "x", "--replication-factor", "9"],
            ["topic", "create", "x", "--config", "novalue"],
            ["topic", "create", "x", "--partitions"],
            ["topic", "list", "--bogus"], ["topic", "list", "extra"],
            ["topic", "describe"], ["group", "describe"],
            ["topic", "alter"], ["topic", "alter", "t"],
            ["topic", "alter", "t", "u", "--config", "a=1"],
            ["topic", "alter", "t", "--config", "novalue"],
            ["topic", "alter", "t", "--config", "=1"],
            ["topic", "alter", "t", "--partitions", "3"],
            ["cluster", "status", "x"],
            ["--timeout", "soon", "topic", "list"],
            ["topic", "list", "--timeout", "-1s"],
            ["--bogus", "topic", "list"],
            ["partition", "move-leader", "t", "x", "1"],
            ["partition", "move-leader", "t", "0", "0"],
            ["partition", "move-leader", "t", "0"],
            ["partition", "reassign", "t", "0", "a,b"],
            ["partition", "reassign", "t", "0", ",,"],
            ["partition", "reassign", "t", "0", "1,2,3,4,5,6,7,8,9"],
            ["check-store"], ["check-store", "a", "b"],
            ["check-store", "/tmp", "--fix"],
            ["topic", "produce"], ["topic", "produce", "t", "-p", "x"],
            ["topic", "produce", "t", "--rate", "-1"],
            ["topic", "produce", "t", "--header", "novalue"],
            ["topic", "produce", "t", "-H", "=v"],
            ["topic", "produce", "t", "--key-separator", ""],
            ["topic", "produce", "t", "--bogus"],
            ["topic", "consume"], ["topic", "consume", "a", "b"],
            ["topic", "consume", "t", "--from", "bogus"],
            ["topic", "consume", "t", "--from", "-0"],
            ["topic", "consume", "t", "--from", "@x"],
            ["topic", "consume", "t", "--count", "0"],
            ["topic", "consume", "t", "--format", "xml"],
            ["topic", "consume", "t", "--separator", ""],
            ["topic", "consume", "t", "--partition", "-1"],
            ["--json", "topic", "consume", "t", "--format", "kv"],
            # A member reads from its group's offsets, on the partitions
            # the group assigns.
            ["topic", "consume", "t", "--group", "g", "--from", "5"],
            ["topic", "consume", "t", "-g", "g", "--from", "-3"],
            ["topic", "consume", "t", "-g", "g", "--from", "@1000"],
            ["topic", "consume", "t", "--group", "g", "-p", "0"],
            ["topic", "consume", "t", "--group"],
            ["group", "reset-offsets"],
            ["group", "reset-offsets", "g", "--topic", "t"],
            ["group", "reset-offsets", "g", "--to-latest"],
            ["group", "reset-offsets", "--topic", "t", "--to-latest"],
            ["group", "reset-offsets", "g", "h", "-t", "t", "--to-latest"],
            ["group", "reset-offsets", "g", "-t", "t", "--to-offset", "-5"],
            ["group", "reset-offsets", "g", "-t", "t", "--to-offset", "x"],
            ["group", "reset-offsets", "g", "-t", "t", "--to-latest",
             "--to-earliest"],
            ["group", "reset-offsets", "g", "-t", "t", "--shift-by", "1.5"],
            ["group", "reset-offsets", "g", "-t", "t", "--shift-by", "-"],
            ["group", "reset-offsets", "g", "-t", "t", "--to-datetime",
             "yesterday"],
            ["group", "reset-offsets", "g", "-t", "t", "--to-datetime",
             "2026-01-01T10"],
            ["group", "reset-offsets", "g", "-t", "t", "--to-datetime",
             "2026-02-30T10:00Z"],
            ["group", "reset-offsets", "g", "-t", "t", "--to-datetime",
             "2026-01-01T10:00+5"],
            ["group", "reset-offsets", "g", "-t", "t", "--by-duration",
             "soon"],
            ["group", "reset-offsets", "g", "-t", "t", "-p", "x",
             "--to-latest"],
            ["group", "reset-offsets", "g", "-t", "t", "-p", ",",
             "--to-latest"],
            # A malformed broker list is refused before anything is sent.
            ["--brokers", "no-port", "topic", "consume", "t"],
            ["topic", "produce", "t", "--brokers", ""],
        ]
        for args in cases:
            r = gqctl(*args, admin="127.0.0.1:1")
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertTrue(r.stderr.startswith("gqctl: "),
                            (args, r.stderr))
            self.assertEqual(r.stdout, "", args)

    def test_server_down_exits_3(self):
        """Nothing listening: exit 3 naming the address, in both
        outputs."""
        addr = "127.0.0.1:%d" % harness.free_port()
        for args in (["topic", "list"], ["--json", "cluster", "status"],
                     ["topic", "create", "x"], ["config", "reload"],
                     ["group", "reset-offsets", "g", "-t", "t",
                      "--to-earliest"]):
            r = gqctl(*args, admin=addr)
            self.assertEqual(r.returncode, 3, (args, r.stderr))
            self.assertIn(addr, r.stderr)
            self.assertEqual(r.stdout, "")

    def test_group_usage_messages(self):
        """What --group and reset-offsets refuse is said clearly."""
        r = gqctl("topic", "consume", "t", "--group", "g", "--from", "5")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--from 5: with --group only earliest or latest",
                      r.stderr)
        self.assertIn("group reset-offsets", r.stderr)
        self.assertEqual(r.stdout, "")
        r = gqctl("group", "reset-offsets", "g", "-t", "t")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--to-earliest", r.stderr)
        r = gqctl("group", "reset-offsets", "g", "-t", "t", "--to-offset",
                  "-5")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--to-offset: not an offset >= 0: '-5'", r.stderr)

    def test_brokers_down_exits_3(self):
        """No broker listening: produce and consume exit 3 naming the
        list, within --timeout, before reading any input."""
        addr = "127.0.0.1:%d" % harness.free_port()
        for args in (["topic", "produce", "t"],
                     ["--json", "topic", "consume", "t"],
                     ["topic", "consume", "t", "--follow"]):
            t0 = time.time()
            r = gqctl("--timeout", "1s", *args, brokers=addr, input="x\n")
            self.assertEqual(r.returncode, 3, (args, r.stderr))
            self.assertLess(time.time() - t0, 30)
            self.assertIn(addr, r.stderr)
            self.assertTrue(r.stderr.startswith("gqctl: topic "), r.stderr)
            self.assertEqual(r.stdout, "")
        # GQCTL_BROKERS is the default list; --brokers overrides it.
        env = dict(os.environ, GQCTL_BROKERS=addr)
        r = subprocess.run([GQCTL, "--timeout", "1s", "topic", "consume",
                            "t"], capture_output=True, text=True, env=env,
                           timeout=60)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn(addr, r.stderr)

    def test_timeout_exits_3(self):
        """A server that accepts but never answers: --timeout, exit 3."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(8)
            addr = "127.0.0.1:%d" % s.getsockname()[1]
            t0 = time.time()
            r = gqctl("--timeout", "700ms", "topic", "list", admin=addr)
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertLess(time.time() - t0, 10)
            self.assertIn("gqctl: topic list:", r.stderr)

    def test_environment_admin(self):
        """GQCTL_ADMIN is the default address; --admin overrides it."""
        addr = "127.0.0.1:%d" % harness.free_port()
        env = dict(os.environ, GQCTL_ADMIN=addr)
        r = subprocess.run([GQCTL, "topic", "list"], capture_output=True,
                           text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 3)
        self.assertIn(addr, r.stderr)

    def test_check_store_not_a_data_dir(self):
        """check-store refuses what is not a node's directory (exit 1)."""
        r = gqctl("check-store", "/nonexistent/dir")
        self.assertEqual(r.returncode, 1)
        r = gqctl("check-store", os.path.dirname(os.path.abspath(
            __file__)))
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a goqueue data directory", r.stderr)


class OneNode(unittest.TestCase):
    """Every REST command against one gqd."""

    @classmethod
    def setUpClass(cls):
        # A short first rebalance, where this gqd knows the key.
        cls.gqd = node_with_admin(env={
            "GQ_GROUP_INITIAL_REBALANCE_DELAY": "300ms"}).start()
        cls.admin = admin_of(cls.gqd)

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.gqd.proc is not None:
                assert cls.gqd.stop() == 0, cls.gqd.log()
        finally:
            cls.gqd.close()

    def run_ok(self, *args):
        r = gqctl(*args, admin=self.admin)
        self.assertEqual(r.returncode, 0, "%s: %s\n%s" % (
            args, r.stderr, self.gqd.log()))
        self.assertEqual(r.stderr, "", args)
        return r.stdout

    def json_ok(self, *args):
        out = self.run_ok("--json", *args)
        return json.loads(out)

    def test_topics(self):
        """create, list, describe and delete, as tables and as JSON."""
        out = self.run_ok("topic", "create", "orders", "--partitions", "3",
                          "--config", "retention_time=72h",
                          "--config", "compression_type=zstd")
        self.assertIn("orders", out)
        doc = self.json_ok("topic", "create", "audit", "-p", "2", "-r",
                           "1")
        self.assertEqual(doc["name"], "audit")
        self.assertEqual(len(doc["partitions"]), 2)
        self.assertEqual(doc["replication_factor"], 1)

        doc = self.json_ok("topic", "list")
        names = {t["name"]: t for t in doc["topics"]}
        self.assertEqual(names["orders"]["partitions"], 3)
        self.assertEqual(names["audit"]["partitions"], 2)
        self.assertIsInstance(names["orders"]["replication_factor"], int)
        self.assertNotIn("__consumer_offsets", names)
        doc = self.json_ok("topic", "list", "--internal")
        self.assertIn("__consumer_offsets",
                      [t["name"] for t in doc["topics"]])
        out = self.run_ok("topic", "list")
        lines = out.splitlines()
        self.assertEqual(lines[0].split()[0], "NAME")
        row = [ln for ln in lines if ln.startswith("orders ")]
        self.assertEqual(len(row), 1, out)
        self.assertEqual(row[0].split()[1], "3")
        # Options after the arguments, and global ones after the verb.
        doc = json.loads(self.run_ok("topic", "describe", "orders",
                                     "--json"))
        self.assertEqual(doc["name"], "orders")
        self.assertEqual([p["partition"] for p in doc["partitions"]],
                         [0, 1, 2])
        for p in doc["partitions"]:
            self.assertEqual(p["leader"], 1)
            self.assertEqual(p["replicas"], [1])
            self.assertEqual(p["live_replicas"], [1])
            self.assertEqual(p["high_watermark"], 0)
            self.assertEqual(p["log_start"], 0)
            self.assertIsInstance(p["size_bytes"], int)
        self.assertEqual(doc["config"]["retention_time"], "72h")
        self.assertEqual(doc["config"]["compression_type"], "zstd")

        p = Producer({"bootstrap.servers": self.gqd.addr})
        for i in range(7):
            p.produce("orders", value=b"v%d" % i, partition=1)
        self.assertEqual(p.flush(20), 0)
        doc = self.json_ok("topic", "describe", "orders")
        self.assertEqual(doc["partitions"][1]["high_watermark"], 7)
        self.assertGreater(doc["partitions"][1]["size_bytes"], 0)
        out = self.run_ok("topic", "describe", "orders")
        self.assertIn("REPLICATION FACTOR:", out)
        self.assertIn("HIGH WATERMARK", out)
        self.assertIn("retention_time", out)
        self.assertRegex(out, r"\n\s+1\s+1\s+\d+\s+1\s+1\s+0\s+7\s+\d+ B")

        doc = self.json_ok("topic", "delete", "audit")
        self.assertEqual(doc["deleted"], "audit")
        out = self.run_ok("topic", "delete", "orders")
        self.assertIn("deleted topic orders", out)
        doc = self.json_ok("topic", "list")
        names = [t["name"] for t in doc["topics"]]
        self.assertNotIn("orders", names)
        self.assertNotIn("audit", names)

    def test_topic_alter(self):
        """alter sets the keys given and prints the whole configuration
        (a table, or the topic's document with --json); describe shows
        the change; refusals exit 1 with the server's reason."""
        self.run_ok("topic", "create", "tune", "-p", "2", "--config",
                    "retention_time=72h")
        out = self.run_ok("topic", "alter", "tune", "--config",
                          "retention_time=24h", "-c",
                          "max_message_size=4MiB")
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["CONFIG", "VALUE"])
        rows = dict(ln.split() for ln in lines[1:])
        self.assertEqual(rows["retention_time"], "24h")
        self.assertEqual(rows["max_message_size"], "4194304")
        self.assertEqual(rows["segment_size"], "104857600")
        self.assertEqual(len(rows), 9, out)
        # Options anywhere, --json after the verb.
        doc = self.json_ok("topic", "alter", "-c", "segment_size=1MiB",
                           "tune")
        self.assertEqual(doc["name"], "tune")
        self.assertEqual(len(doc["partitions"]), 2)
        self.assertEqual(doc["config"]["segment_size"], "1048576")
        self.assertEqual(doc["config"]["retention_time"], "24h")
        self.assertEqual(doc["config"]["max_message_size"], "4194304")
        self.assertEqual(self.json_ok("topic", "describe", "tune")["config"],
                         doc["config"])
        for args, why in (
                (["topic", "alter", "nosuch", "-c", "retention_time=1h"],
                 "unknown topic"),
                (["--json", "topic", "alter", "nosuch", "-c",
                  "retention_time=1h"], "GQ_ENOTOPIC"),
                (["topic", "alter", "tune", "-c", "nokey=1"], "nokey"),
                (["topic", "alter", "tune", "-c", "segment_size=1"],
                 "segment_size"),
                (["topic", "alter", "tune", "-c", "cleanup_interval=1s"],
                 "cleanup_interval"),
                (["topic", "alter", "tune", "-c",
                  "deduplication_enabled=true"], "deduplication_enabled"),
                (["topic", "alter", "__consumer_offsets", "-c",
                  "retention_time=1h"], "reserved")):
            r = gqctl(*args, admin=self.admin)
            self.assertEqual(r.returncode, 1, (args, r.stdout, r.stderr))
            self.assertTrue(r.stderr.startswith("gqctl: "), r.stderr)
            self.assertIn(why, r.stderr)
            self.assertEqual(r.stdout, "", args)
        self.assertEqual(self.json_ok("topic", "describe", "tune")["config"],
                         doc["config"])
        self.run_ok("topic", "delete", "tune")

    def test_failures_exit_1(self):
        """The server saying no is exit 1 with its reason on stderr."""
        self.run_ok("topic", "create", "dup")
        for args, why in (
                (["topic", "create", "dup"], "already exists"),
                (["topic", "describe", "nosuch"], "unknown topic"),
                (["topic", "delete", "nosuch"], "unknown topic"),
                (["--json", "topic", "describe", "nosuch"], "GQ_ENOTOPIC"),
                (["topic", "create", "bad", "--config", "nokey=1"],
                 "nokey"),
                (["topic", "create", "rf", "-r", "3"], ""),
                (["group", "describe", "nosuch"], "nosuch"),
                (["partition", "move-leader", "nosuch", "0", "1"], ""),
                (["partition", "move-leader", "dup", "0", "7"], ""),
                (["partition", "reassign", "dup", "5", "1"], "")):
            r = gqctl(*args, admin=self.admin)
            self.assertEqual(r.returncode, 1, (args, r.stdout, r.stderr))
            self.assertTrue(r.stderr.startswith("gqctl: "), r.stderr)
            self.assertIn(why, r.stderr)
            self.assertEqual(r.stdout, "", args)
        # Names are percent-encoded: a '/' reaches the server as part of
        # the name (an invalid one) rather than as another route.
        r = gqctl("topic", "describe", "a/b", admin=self.admin)
        self.assertEqual(r.returncode, 1)
        self.assertNotIn("no such route", r.stderr)
        self.run_ok("topic", "delete", "dup")

    def test_groups_and_lag(self):
        """A committed offset shows with the high watermark and the lag
        (produced minus committed)."""
        self.run_ok("topic", "create", "lagt", "--partitions", "2")
        p = Producer({"bootstrap.servers": self.gqd.addr})
        for i in range(20):
            p.produce("lagt", value=b"m%d" % i, partition=0)
        for i in range(5):
            p.produce("lagt", value=b"n%d" % i, partition=1)
        self.assertEqual(p.flush(20), 0)
        # A member joins, so the coordinator knows the group (it stays,
        # Empty, after the member leaves), then commits.
        c = Consumer({"bootstrap.servers": self.gqd.addr,
                      "group.id": "billing", "enable.auto.commit": False,
                      "auto.offset.reset": "earliest"})
        c.subscribe(["lagt"])
        deadline = time.time() + 30
        while not c.assignment():
            self.assertLess(time.time(), deadline, "never assigned")
            c.poll(0.2)
        c.commit(offsets=[TopicPartition("lagt", 0, 8),
                          TopicPartition("lagt", 1, 5)],
                 asynchronous=False)
        doc = self.json_ok("group", "describe", "billing")
        self.assertEqual(doc["state"], "Stable")
        self.assertEqual(len(doc["members"]), 1)
        out = self.run_ok("group", "describe", "billing")
        self.assertIn("MEMBER", out)
        c.close()
        doc = self.json_ok("group", "describe", "billing")
        self.assertEqual(doc["group"], "billing")
        offs = {(o["topic"], o["partition"]): o for o in doc["offsets"]}
        self.assertEqual(offs[("lagt", 0)]["committed"], 8)
        self.assertEqual(offs[("lagt", 0)]["high_watermark"], 20)
        self.assertEqual(offs[("lagt", 0)]["lag"], 20 - 8)
        self.assertEqual(offs[("lagt", 1)]["lag"], 0)
        out = self.run_ok("group", "describe", "billing")
        self.assertIn("TOTAL LAG:    12", out)
        self.assertRegex(out, r"lagt\s+0\s+8\s+20\s+12")
        doc = self.json_ok("group", "list")
        self.assertIn("billing", [g["group"] for g in doc["groups"]])
        out = self.run_ok("group", "list")
        self.assertIn("billing", out)
        self.assertTrue(out.startswith("GROUP"))
        self.run_ok("topic", "delete", "lagt")

    def committed(self, group, topic):
        """The group's committed offsets in @topic, by partition."""
        doc = self.json_ok("group", "describe", group)
        return {o["partition"]: o["committed"] for o in doc["offsets"]
                if o["topic"] == topic}

    def test_group_reset_offsets(self):
        """reset-offsets in every mode, as a table and as JSON, with and
        without --dry-run: the committed offsets follow, and a member
        reads on from them."""
        self.run_ok("topic", "create", "ro", "--partitions", "2")
        # Timestamps two hours ago, a second apart.
        base = int(time.time() * 1000) - 2 * 3600 * 1000
        p = Producer({"bootstrap.servers": self.gqd.addr})
        for i in range(10):
            p.produce("ro", value=b"a%d" % i, partition=0,
                      timestamp=base + 1000 * i)
        for i in range(4):
            p.produce("ro", value=b"b%d" % i, partition=1,
                      timestamp=base + 1000 * i)
        self.assertEqual(p.flush(20), 0)
        # The group commits by reading as a member.
        out = gqctl("topic", "consume", "ro", "--group", "rog", "--count",
                    "6", brokers=self.gqd.addr, admin=self.admin)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(len(out.stdout.splitlines()), 6)
        before = self.committed("rog", "ro")
        self.assertEqual(sum(before.values()), 6, before)

        out = self.run_ok("group", "reset-offsets", "rog", "--topic", "ro",
                          "--to-earliest", "--dry-run")
        lines = out.splitlines()
        self.assertEqual(lines[0].split(),
                         ["TOPIC", "PARTITION", "OLD", "NEW", "HIGH",
                          "WATERMARK"])
        self.assertRegex(out, r"\nro\s+0\s+%d\s+0\s+10\n" % before[0])
        self.assertIn("dry run: nothing committed", out)
        self.assertEqual(self.committed("rog", "ro"), before)
        doc = self.json_ok("group", "reset-offsets", "rog", "-t", "ro",
                           "--to-earliest", "--dry-run")
        self.assertTrue(doc["dry_run"])
        self.assertEqual([x["applied"] for x in doc["partitions"]],
                         [False, False])

        doc = self.json_ok("group", "reset-offsets", "rog", "-t", "ro",
                           "--to-earliest")
        self.assertEqual(doc["group"], "rog")
        self.assertEqual(doc["topic"], "ro")
        self.assertEqual(doc["to"], "earliest")
        self.assertFalse(doc["dry_run"])
        self.assertEqual(doc["partitions"], [
            {"partition": 0, "old": before[0], "new": 0, "log_start": 0,
             "high_watermark": 10, "applied": True},
            {"partition": 1, "old": before[1], "new": 0, "log_start": 0,
             "high_watermark": 4, "applied": True}])
        self.assertEqual(self.committed("rog", "ro"), {0: 0, 1: 0})

        out = self.run_ok("group", "reset-offsets", "rog", "-t", "ro",
                          "-p", "0", "--to-offset", "7")
        self.assertIn("reset 1 offset of group rog", out)
        self.assertEqual(self.committed("rog", "ro"), {0: 7, 1: 0})
        # Past the end: kept at the high watermark.
        self.run_ok("group", "reset-offsets", "rog", "-t", "ro", "-p", "1",
                    "--to-offset", "100")
        self.assertEqual(self.committed("rog", "ro"), {0: 7, 1: 4})
        self.run_ok("group", "reset-offsets", "rog", "-t", "ro",
                    "--shift-by", "-2")
        self.assertEqual(self.committed("rog", "ro"), {0: 5, 1: 2})
        doc = self.json_ok("group", "reset-offsets", "rog", "-t", "ro",
                           "--shift-by", "+3", "--dry-run")
        self.assertEqual([x["new"] for x in doc["partitions"]], [8, 4])
        self.run_ok("group", "reset-offsets", "rog", "-t", "ro",
                    "--shift-by=-100", "-p", "0,1")
        self.assertEqual(self.committed("rog", "ro"), {0: 0, 1: 0})

        # 3.5 s after the first message: offset 4 of partition 0, and
        # past every message of partition 1 (its high watermark).
        at = base + 3500
        utc = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at // 1000))
        plus2 = time.strftime("%Y-%m-%dT%H:%M:%S",
                              time.gmtime(at // 1000 + 7200))
        for when in ("%s.%03dZ" % (utc, at % 1000),
                     "%s.%03d+02:00" % (plus2, at % 1000),
                     "@%d" % at, "%d" % at):
            self.run_ok("group", "reset-offsets", "rog", "-t", "ro",
                        "--to-earliest")
            doc = self.json_ok("group", "reset-offsets", "rog", "-t", "ro",
                               "--to-datetime", when)
            self.assertEqual(doc["to"], "timestamp")
            self.assertEqual(self.committed("rog", "ro"), {0: 4, 1: 4},
                             when)
        # Without a zone it is local time.
        local = time.strftime("%Y-%m-%dT%H:%M:%S",
                              time.localtime(at // 1000))
        self.run_ok("group", "reset-offsets", "rog", "-t", "ro",
                    "--to-datetime", "%s.%03d" % (local, at % 1000))
        self.assertEqual(self.committed("rog", "ro"), {0: 4, 1: 4})
        self.run_ok("group", "reset-offsets", "rog", "-t", "ro",
                    "--by-duration", "3h")
        self.assertEqual(self.committed("rog", "ro"), {0: 0, 1: 0})
        self.run_ok("group", "reset-offsets", "rog", "-t", "ro",
                    "--by-duration", "1h")
        self.assertEqual(self.committed("rog", "ro"), {0: 10, 1: 4})

        self.run_ok("group", "reset-offsets", "rog", "-t", "ro",
                    "--to-offset", "8", "-p", "0")
        self.run_ok("group", "reset-offsets", "rog", "-t", "ro",
                    "--to-offset", "3", "-p", "1")
        out = gqctl("--json", "topic", "consume", "ro", "--group", "rog",
                    brokers=self.gqd.addr, admin=self.admin)
        self.assertEqual(out.returncode, 0, out.stderr)
        got = sorted((m["partition"], m["offset"], m["value"])
                     for m in map(json.loads, out.stdout.splitlines()))
        self.assertEqual(got, [(0, 8, "a8"), (0, 9, "a9"), (1, 3, "b3")])
        self.assertEqual(self.committed("rog", "ro"), {0: 10, 1: 4})
        doc = self.json_ok("group", "reset-offsets", "rog", "-t", "ro",
                           "--to-latest", "--dry-run")
        self.assertEqual([(x["old"], x["new"]) for x in doc["partitions"]],
                         [(10, 10), (4, 4)])
        self.run_ok("topic", "delete", "ro")

    def test_group_reset_offsets_refused(self):
        """A group with an active member is refused (exit 1, nothing
        changed) until it leaves; bad input exits 1 or 2 as documented."""
        self.run_ok("topic", "create", "rr")
        p = Producer({"bootstrap.servers": self.gqd.addr})
        for i in range(5):
            p.produce("rr", value=b"%d" % i)
        self.assertEqual(p.flush(20), 0)
        c = Consumer({"bootstrap.servers": self.gqd.addr,
                      "group.id": "rrg", "enable.auto.commit": False,
                      "auto.offset.reset": "earliest"})
        c.subscribe(["rr"])
        deadline = time.time() + 30
        while not c.assignment():
            self.assertLess(time.time(), deadline, "never assigned")
            c.poll(0.2)
        c.commit(offsets=[TopicPartition("rr", 0, 3)], asynchronous=False)
        for args in (["group", "reset-offsets", "rrg", "-t", "rr",
                      "--to-earliest"],
                     ["--json", "group", "reset-offsets", "rrg", "-t", "rr",
                      "--to-earliest", "--dry-run"]):
            r = gqctl(*args, admin=self.admin)
            self.assertEqual(r.returncode, 1, (args, r.stderr))
            self.assertIn("group 'rrg' has 1 active member (state Stable)",
                          r.stderr)
            self.assertIn("stop its consumers first", r.stderr)
            self.assertIn("GQ_EBUSY", r.stderr)
            self.assertEqual(r.stdout, "")
        self.assertEqual(self.committed("rrg", "rr"), {0: 3})
        c.close()
        doc = self.json_ok("group", "reset-offsets", "rrg", "-t", "rr",
                           "--to-earliest")
        self.assertEqual(doc["partitions"][0]["old"], 3)
        self.assertEqual(self.committed("rrg", "rr"), {0: 0})

        for args, why in (
                (["-t", "nosuch", "--to-earliest"], "unknown topic"),
                (["-t", "rr", "-p", "3", "--to-latest"],
                 "has no partition 3"),
                (["-t", "rr", "-p", "0,0", "--to-latest"], "twice")):
            r = gqctl("group", "reset-offsets", "rrg", *args,
                      admin=self.admin)
            self.assertEqual(r.returncode, 1, (args, r.stderr))
            self.assertIn(why, r.stderr)
            self.assertEqual(r.stdout, "")
        # A shift needs a committed offset to start from.
        r = gqctl("group", "reset-offsets", "fresh", "-t", "rr",
                  "--shift-by", "1", admin=self.admin)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no committed offset", r.stderr)
        for args in (["--to-offset", "-3"], [], ["--to-latest",
                                                 "--shift-by", "1"]):
            r = gqctl("group", "reset-offsets", "rrg", "-t", "rr", *args,
                      admin=self.admin)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertEqual(r.stdout, "")
        self.assertEqual(self.committed("rrg", "rr"), {0: 0})
        self.run_ok("topic", "delete", "rr")

    def test_cluster(self):
        """status, brokers and leaders of a one-node cluster."""
        self.run_ok("topic", "create", "ct", "--partitions", "2")
        doc = self.json_ok("cluster", "status")
        self.assertEqual(doc["node_id"], 1)
        self.assertEqual(doc["controller"], 1)
        self.assertEqual(doc["brokers"], 1)
        self.assertEqual(doc["brokers_alive"], 1)
        self.assertGreaterEqual(doc["topics"], 2)  # with the offsets one
        self.assertGreaterEqual(doc["partitions"], 3)
        self.assertEqual(doc["partitions_without_leader"], 0)
        out = self.run_ok("cluster", "status")
        self.assertRegex(out, r"BROKERS ALIVE:\s+1 of 1")
        self.assertRegex(out, r"WITHOUT LEADER:\s+0")
        doc = self.json_ok("cluster", "brokers")
        self.assertEqual([b["id"] for b in doc["brokers"]], [1])
        self.assertTrue(doc["brokers"][0]["alive"])
        out = self.run_ok("cluster", "brokers")
        self.assertRegex(out, r"\n\s*1\s+alive\s+yes\s+127\.0\.0\.1:")
        doc = self.json_ok("cluster", "leaders")
        mine = [x for x in doc["leaders"] if x["topic"] == "ct"]
        self.assertEqual([x["partition"] for x in mine], [0, 1])
        for x in mine:
            self.assertEqual(x["leader"], 1)
            self.assertGreaterEqual(x["leader_epoch"], 1)
            self.assertEqual(x["replicas"], [1])
        out = self.run_ok("cluster", "leaders")
        self.assertRegex(out, r"ct\s+1\s+1\s+\d+\s+1")
        self.run_ok("topic", "delete", "ct")

    def test_config(self):
        """The effective configuration, and a reload."""
        doc = self.json_ok("config", "show")
        self.assertEqual(doc["keys"]["data_dir"]["value"],
                         os.path.join(self.gqd.data_dir, "node"))
        self.assertIn("reloadable", doc["keys"]["log_level"])
        out = self.run_ok("config", "show")
        self.assertTrue(out.startswith("KEY"))
        self.assertIn("data_dir", out)
        out = self.run_ok("config", "reload")
        self.assertIn("reloaded", out)
        doc = self.json_ok("config", "reload")
        self.assertIsInstance(doc["applied"], list)

    def test_partition_commands_one_node(self):
        """move-leader to the leader it has is fine, --wait included."""
        self.run_ok("topic", "create", "pm")
        out = self.run_ok("partition", "move-leader", "pm", "0", "1",
                          "--wait")
        self.assertIn("broker 1 leads pm/0", out)
        doc = self.json_ok("partition", "reassign", "pm", "0", "1")
        self.assertEqual(doc["replicas"], [1])
        self.run_ok("topic", "delete", "pm")


class LineReader:
    """The lines a process writes on a pipe, gathered by a thread, so a
    test can wait for them with a deadline."""

    def __init__(self, pipe):
        self.lines = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(pipe,),
                                       daemon=True)
        self.thread.start()

    def _run(self, pipe):
        for line in pipe:
            self.lines.put(line)
        self.lines.put(None)

    def take(self, n, timeout=60):
        """The next n lines; fails the caller if they do not come."""
        out = []
        deadline = time.time() + timeout
        while len(out) < n:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("got %d of %d lines: %r" %
                                     (len(out), n, out))
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("output ended after %d of %d lines: "
                                     "%r" % (len(out), n, out))
            out.append(line)
        return out

    def rest(self, timeout=60):
        """Every line until the pipe closes."""
        out = []
        while True:
            line = self.lines.get(timeout=timeout)
            if line is None:
                return out
            out.append(line)


def stop(proc):
    """Kill @proc if it still runs, and close its pipes."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    proc.stdout.close()
    proc.stderr.close()


class ProduceConsume(unittest.TestCase):
    """topic produce and topic consume over gqd's Kafka port."""

    @classmethod
    def setUpClass(cls):
        # A short first rebalance, for the group members.
        cls.gqd = node_with_admin(env={
            "GQ_GROUP_INITIAL_REBALANCE_DELAY": "300ms"}).start()
        cls.admin = admin_of(cls.gqd)
        cls.brokers = cls.gqd.addr

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.gqd.proc is not None:
                assert cls.gqd.stop() == 0, cls.gqd.log()
        finally:
            cls.gqd.close()

    def run_gq(self, *args, input=None, text=True, ok=True):
        r = gqctl(*args, admin=self.admin, brokers=self.brokers,
                  input=input, text=text)
        if ok:
            self.assertEqual(r.returncode, 0, "%s: %s\n%s" % (
                args, r.stderr, self.gqd.log()))
            self.assertEqual(r.stderr, "" if text else b"", args)
        return r

    def create(self, topic, partitions):
        self.run_gq("topic", "create", topic, "-p", str(partitions))

    def consume_json(self, *args):
        out = self.run_gq("topic", "consume", *args, "--format",
                          "json").stdout
        return [json.loads(line) for line in out.splitlines()]

    def kafka_read(self, topic, partitions):
        """Every message as an independent client (librdkafka) sees it:
        (partition, offset, key, value, headers)."""
        out = []
        for p in range(partitions):
            c = Consumer({"bootstrap.servers": self.brokers,
                          "group.id": "gqctl-check",
                          "enable.auto.commit": False,
                          "enable.partition.eof": True})
            c.assign([TopicPartition(topic, p, 0)])
            deadline = time.time() + 60
            while True:
                self.assertLess(time.time(), deadline)
                m = c.poll(1)
                if m is None:
                    continue
                if m.error():
                    if m.error().code() == -191:  # _PARTITION_EOF
                        break
                    raise AssertionError(str(m.error()))
                out.append((p, m.offset(), m.key(), m.value(),
                            m.headers() or []))
            c.close()
        return out

    def test_stdin_keys_headers_every_format(self):
        """Lines with keys and headers from stdin: librdkafka reads back
        exactly those keys, values and headers; consume prints them in
        each format with every field, offsets in order per partition."""
        self.create("pc", 3)
        lines = ["k1:v1", "k2:v2", "k3:v3:with:colons", "nokey", "",
                 "k1:again", "ключ:значение", ":emptykey", "k4:"]
        want = []
        for ln in lines:
            k, sep, v = ln.partition(":")
            want.append((k.encode(), v.encode()) if sep else
                        (None, ln.encode()))
        r = self.run_gq("topic", "produce", "pc", "--key-separator", ":",
                        "-H", "src=gqctl", "--header", "empty=",
                        input="\n".join(lines) + "\n")
        self.assertRegex(r.stdout, r"^produced 9 messages \(\d+ B\) to "
                         r"pc partitions? [0-9,-]+ in \S+ \(\d+ msg/s\)\n$")

        def kv_sorted(pairs):
            return sorted(pairs, key=lambda x: (x[0] is not None,
                                                x[0] or b"", x[1]))

        seen = self.kafka_read("pc", 3)
        self.assertEqual(kv_sorted((k, v) for _, _, k, v, _ in seen),
                         kv_sorted(want))
        for _, _, _, _, h in seen:
            self.assertEqual(h, [("src", b"gqctl"), ("empty", b"")])

        now = time.time() * 1000
        recs = self.consume_json("pc")
        self.assertEqual(len(recs), len(lines))
        by_part = {}
        for rec in recs:
            self.assertEqual(set(rec), {"topic", "partition", "offset",
                                        "timestamp", "key", "value",
                                        "headers"})
            self.assertEqual(rec["topic"], "pc")
            self.assertLess(abs(rec["timestamp"] - now), 120000)
            self.assertEqual(rec["headers"], [
                {"key": "src", "value": "gqctl"},
                {"key": "empty", "value": ""}])
            by_part.setdefault(rec["partition"], []).append(rec)
        for p, rs in by_part.items():
            self.assertEqual([x["offset"] for x in rs],
                             list(range(len(rs))), p)
        got = [(None if x["key"] is None else x["key"].encode(),
                x["value"].encode()) for x in recs]
        self.assertEqual(kv_sorted(got), kv_sorted(want))
        # The same key, the same partition; partitions and offsets as
        # librdkafka saw them.
        part_of = {}
        for rec in recs:
            if rec["key"]:
                part_of.setdefault(rec["key"], set()).add(rec["partition"])
        self.assertTrue(all(len(v) == 1 for v in part_of.values()))
        self.assertEqual(sorted((x["partition"], x["offset"],
                                 x["value"].encode()) for x in recs),
                         sorted((p, o, v) for p, o, _, v, _ in seen))

        # value and kv print the records in the same order as json.
        out = self.run_gq("topic", "consume", "pc").stdout
        self.assertEqual(out, "".join(x["value"] + "\n" for x in recs))
        out = self.run_gq("topic", "consume", "pc", "--format", "kv",
                          "--separator", " => ").stdout
        self.assertEqual(out, "".join(
            "%s => %s\n" % (x["key"] or "", x["value"]) for x in recs))
        out = self.run_gq("topic", "consume", "pc", "--format", "kv").stdout
        self.assertEqual(out.splitlines()[0],
                         "%s\t%s" % (recs[0]["key"] or "", recs[0]["value"]))
        # --json is --format json.
        out = self.run_gq("--json", "topic", "consume", "pc").stdout
        self.assertEqual([json.loads(x) for x in out.splitlines()], recs)

    def test_null_values_empty_lines_and_binary(self):
        """--null-value sends empty values as null; --skip-empty drops
        empty lines; bytes that are not UTF-8 come back as base64."""
        self.create("nv", 1)
        self.run_gq("topic", "produce", "nv", "-K", ":", "--null-value",
                    input="a:\n\nb:x\n")
        self.run_gq("topic", "produce", "nv", "--skip-empty",
                    input="\n\nc\n\n")
        self.run_gq("topic", "produce", "nv", "-K", "\\t",
                    input=b"\xff\xfe\tv\x00\x80\n", text=False)
        recs = self.consume_json("nv")
        self.assertEqual([(x["key"], x["value"]) for x in recs[:4]],
                         [("a", None), (None, None), ("b", "x"),
                          (None, "c")])
        self.assertEqual(recs[4]["key"], "//4=")
        self.assertEqual(recs[4]["key_encoding"], "base64")
        self.assertEqual(recs[4]["value"], "dgCA")
        self.assertEqual(recs[4]["value_encoding"], "base64")
        self.assertNotIn("key_encoding", recs[3])
        # The value format prints the bytes as they are.
        out = self.run_gq("topic", "consume", "nv", "--from", "4",
                          text=False).stdout
        self.assertEqual(out, b"v\x00\x80\n")

    def test_file_partition_from_and_count(self):
        """A file to one partition with a JSON summary; then --count and
        every --from: earliest, latest, an offset, -N, @timestamp."""
        self.create("fp", 2)
        path = os.path.join(self.gqd.data_dir, "fp.txt")
        with open(path, "w") as f:
            f.write("".join("m%d\n" % i for i in range(10)))
        doc = json.loads(self.run_gq("--json", "topic", "produce", "fp",
                                     path, "--partition", "1").stdout)
        self.assertEqual(doc["topic"], "fp")
        self.assertEqual(doc["messages"], 10)
        self.assertEqual(doc["failed"], 0)
        self.assertEqual(doc["bytes"], sum(len("m%d" % i)
                                           for i in range(10)))
        self.assertEqual(doc["partitions"], [{
            "partition": 1, "messages": 10, "first_offset": 0,
            "last_offset": 9}])
        self.assertIsInstance(doc["elapsed_ms"], int)
        self.assertIsInstance(doc["rate"], int)
        self.assertIsNone(doc["error"])

        def values(*args):
            return self.run_gq("topic", "consume", "fp", *args
                               ).stdout.splitlines()

        m = ["m%d" % i for i in range(10)]
        self.assertEqual(values(), m)
        self.assertEqual(values("--partition", "0"), [])
        self.assertEqual(values("-p", "1", "--from", "earliest"), m)
        self.assertEqual(values("--from", "latest"), [])
        self.assertEqual(values("--from", "7"), m[7:])
        self.assertEqual(values("--from", "100"), [])
        self.assertEqual(values("--from=-3"), m[-3:])
        self.assertEqual(values("--from", "-30"), m)
        self.assertEqual(values("--count", "4"), m[:4])
        self.assertEqual(values("-c", "2", "--from", "5"), m[5:7])
        recs = self.consume_json("fp", "-p", "1")
        self.assertEqual([x["offset"] for x in recs], list(range(10)))
        self.assertTrue(all(x["partition"] == 1 for x in recs))

        # Messages produced after a moment: @that moment finds exactly
        # them (timestamps are the producer's clock, this machine's).
        time.sleep(0.02)
        t = int(time.time() * 1000)
        time.sleep(0.02)
        self.run_gq("topic", "produce", "fp", "-p", "1", input="n0\nn1\n")
        self.assertEqual(values("--from", "@%d" % t), ["n0", "n1"])
        self.assertEqual(values("--from", "@%d" % (t + 3600000)), [])
        self.assertEqual(values("--from", "@0"), m + ["n0", "n1"])

    def test_ten_thousand_lines_round_trip(self):
        """A file of 10,000 lines (empty ones, tabs, UTF-8, other bytes,
        long lines) comes back byte for byte, in order."""
        self.create("big", 1)
        rnd = __import__("random").Random(6)
        lines = []
        for i in range(10000):
            kind = i % 7
            if kind == 0:
                lines.append(b"")
            elif kind == 1:
                lines.append(("%d\tтаб\t%d" % (i, i * i)).encode())
            elif kind == 2:
                lines.append(bytes(rnd.choice(range(11, 256))
                                   for _ in range(rnd.randint(1, 40))))
            elif kind == 3:
                lines.append(b"x" * rnd.randint(1000, 20000))
            else:
                lines.append(b"line %d" % i)
        data = b"\n".join(lines) + b"\n"
        path = os.path.join(self.gqd.data_dir, "big.txt")
        with open(path, "wb") as f:
            f.write(data)
        doc = json.loads(self.run_gq("--json", "topic", "produce", "big",
                                     path).stdout)
        self.assertEqual(doc["messages"], 10000)
        self.assertEqual(doc["failed"], 0)
        self.assertEqual(doc["bytes"], len(data) - 10000)
        self.assertEqual(doc["partitions"][0]["last_offset"], 9999)
        out = self.run_gq("topic", "consume", "big", text=False).stdout
        self.assertEqual(out, data)
        # And through stdin, round robin over partitions by batch: every
        # line once.
        self.create("big3", 3)
        r = self.run_gq("--json", "topic", "produce", "big3", input=data,
                        text=False)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["messages"], 10000)
        self.assertEqual(sum(p["messages"] for p in doc["partitions"]),
                         10000)
        out = self.run_gq("topic", "consume", "big3", text=False).stdout
        self.assertEqual(sorted(out.split(b"\n")[:-1]), sorted(lines))

    def test_progress_bar_on_a_terminal(self):
        """Files on a terminal's stderr get a progress bar of bytes read,
        erased at the end; --json never draws it."""
        self.create("pg", 1)
        path = os.path.join(self.gqd.data_dir, "pg.txt")
        with open(path, "w") as f:
            f.write("".join("progress %d\n" % i for i in range(5000)))
        size = os.path.getsize(path)
        env = dict(os.environ)
        env.pop("GQCTL_BROKERS", None)
        for extra, bar in (([], True), (["--json"], False)):
            master, slave = os.openpty()
            chunks = []

            def drain():
                while True:
                    try:
                        b = os.read(master, 4096)
                    except OSError:  # EIO once the child side is gone
                        return
                    if not b:
                        return
                    chunks.append(b)

            t = threading.Thread(target=drain, daemon=True)
            t.start()
            try:
                r = subprocess.run([GQCTL, "--brokers", self.brokers] +
                                   extra + ["topic", "produce", "pg", path],
                                   stdout=subprocess.PIPE, stderr=slave,
                                   env=env, timeout=120)
            finally:
                os.close(slave)
                t.join(30)
                os.close(master)
            err = b"".join(chunks)
            self.assertEqual(r.returncode, 0, err)
            if bar:
                self.assertIn(b"producing  [", err)
                self.assertIn(b"%d/%d" % (size, size), err)
                self.assertTrue(err.endswith(b"\r\x1b[K"), err[-40:])
                self.assertIn(b"produced 5000 messages", r.stdout)
            else:
                self.assertEqual(err, b"")
                self.assertEqual(json.loads(r.stdout)["messages"], 5000)

    def test_follow_then_sigint(self):
        """--follow prints what is there, then what a Kafka producer
        sends while it runs; SIGINT ends it with exit 0 and nothing
        lost."""
        self.create("fl", 2)
        self.run_gq("topic", "produce", "fl", "-K", ":",
                    input="a:1\nb:2\nc:3\n")
        env = dict(os.environ)
        env.pop("GQCTL_BROKERS", None)
        proc = subprocess.Popen(
            [GQCTL, "--brokers", self.brokers, "topic", "consume", "fl",
             "--follow", "--format", "json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env)
        try:
            reader = LineReader(proc.stdout)
            first = [json.loads(x) for x in reader.take(3)]
            self.assertEqual(sorted(x["value"] for x in first),
                             ["1", "2", "3"])
            # Idle, it long-polls: each partition's poll ends once a
            # second and its answer makes a read of both (some 18
            # Fetch requests in 3 s), where polling every 100 ms made
            # some sixty.
            before = fetches(self.admin)
            time.sleep(3)
            idle = fetches(self.admin) - before
            self.assertLessEqual(idle, 36, "%d Fetch requests" % idle)
            p = Producer({"bootstrap.servers": self.brokers,
                          "linger.ms": 0})
            for i in range(6):
                p.produce("fl", key=b"k%d" % i, value=b"new%d" % i,
                          partition=i % 2, headers=[("n", b"%d" % i)])
                if i == 2:
                    self.assertEqual(p.flush(30), 0)
            self.assertEqual(p.flush(30), 0)
            later = [json.loads(x) for x in reader.take(6)]
            self.assertEqual(sorted((x["key"], x["value"], x["partition"],
                                     x["headers"][0]["value"])
                                    for x in later),
                             [("k%d" % i, "new%d" % i, i % 2, "%d" % i)
                              for i in range(6)])
            for part in (0, 1):
                offs = [x["offset"] for x in first + later
                        if x["partition"] == part]
                self.assertEqual(offs, sorted(offs))
                self.assertEqual(len(set(offs)), len(offs))
            proc.send_signal(signal.SIGINT)
            self.assertEqual(proc.wait(60), 0, proc.stderr.read())
            self.assertEqual(reader.rest(), [])
            self.assertEqual(proc.stderr.read(), "")
        finally:
            stop(proc)

    def test_follow_with_count_ends(self):
        """--follow --count N ends by itself after N messages."""
        self.create("fc", 1)
        self.run_gq("topic", "produce", "fc", input="x\n")
        env = dict(os.environ)
        env.pop("GQCTL_BROKERS", None)
        proc = subprocess.Popen(
            [GQCTL, "--brokers", self.brokers, "topic", "consume", "fc",
             "--follow", "--count", "3", "--from", "latest"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env)
        try:
            # --from latest: wait until it is positioned, which a
            # message produced until it shows tells.
            deadline = time.time() + 60
            reader = LineReader(proc.stdout)
            got = []
            while len(got) < 3:
                self.assertLess(time.time(), deadline, got)
                self.run_gq("topic", "produce", "fc", input="y\n")
                try:
                    got += reader.take(1, timeout=0.5)
                except AssertionError:
                    pass
            self.assertEqual(proc.wait(60), 0, proc.stderr.read())
            self.assertEqual(got, ["y\n"] * 3)
            self.assertEqual(reader.rest(), [])
        finally:
            stop(proc)

    def committed(self, group):
        doc = json.loads(self.run_gq("--json", "group", "describe",
                                     group).stdout)
        return {(o["topic"], o["partition"]): o["committed"]
                for o in doc["offsets"]}

    def test_group_count_twice_then_rest(self):
        """--group --count N twice reads 2N different messages, each
        partition's second ones following its first; a run without
        --count reads the rest; another group starts from the start."""
        self.create("gq", 3)
        p = Producer({"bootstrap.servers": self.brokers, "linger.ms": 0})
        for i in range(30):
            p.produce("gq", value=b"v%d" % i, partition=i % 3)
        self.assertEqual(p.flush(30), 0)
        runs = [self.consume_json("gq", "--group", "g1", "--count", "7")
                for _ in range(2)]
        for run in runs:
            self.assertEqual(len(run), 7)
        runs.append(self.consume_json("gq", "--group", "g1"))
        self.assertEqual(len(runs[2]), 16)
        seen = [(m["partition"], m["offset"]) for r in runs for m in r]
        self.assertEqual(sorted(seen),
                         sorted((i % 3, i // 3) for i in range(30)))
        for part in range(3):
            # Each run goes on where the one before stopped.
            offs = [m["offset"] for r in runs for m in r
                    if m["partition"] == part]
            self.assertEqual(offs, list(range(10)))
        self.assertEqual(self.committed("g1"),
                         {("gq", 0): 10, ("gq", 1): 10, ("gq", 2): 10})
        # Nothing left: a run ends at once, printing nothing.
        self.assertEqual(self.consume_json("gq", "--group", "g1"), [])
        # Another group reads from the start (the default --from
        # earliest where it committed nothing).
        other = self.consume_json("gq", "--group", "g2", "--count", "6")
        self.assertEqual(len(other), 6)
        for part in {m["partition"] for m in other}:
            offs = [m["offset"] for m in other if m["partition"] == part]
            self.assertEqual(offs, list(range(len(offs))))
        # Headers, keys and the kv format as without a group.
        self.run_gq("topic", "produce", "gq", "-p", "1", "-K", ":",
                    "-H", "h=1", input="k:v\n")
        msgs = self.consume_json("gq", "--group", "g1")
        self.assertEqual([(m["key"], m["value"], m["headers"])
                          for m in msgs],
                         [("k", "v", [{"key": "h", "value": "1"}])])
        self.run_gq("topic", "produce", "gq", "-p", "2", "-K", ":",
                    input="k2:v2\n")
        out = self.run_gq("topic", "consume", "gq", "--group", "g1",
                          "--format", "kv").stdout
        self.assertEqual(out, "k2\tv2\n")

    def test_group_from_latest_waits(self):
        """--from latest, for a new group, skips what is there and waits
        for new messages; what it printed is committed."""
        self.create("gl", 1)
        self.run_gq("topic", "produce", "gl", input="old1\nold2\n")
        env = dict(os.environ)
        env.pop("GQCTL_BROKERS", None)
        env.pop("GQCTL_ADMIN", None)
        proc = subprocess.Popen(
            [GQCTL, "--brokers", self.brokers, "topic", "consume", "gl",
             "--group", "gl1", "--from", "latest", "--follow", "--count",
             "2", "--format", "json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env)
        try:
            # It waits for the assignment first: produce until it shows.
            deadline = time.time() + 60
            reader = LineReader(proc.stdout)
            got = []
            while len(got) < 2:
                self.assertLess(time.time(), deadline, got)
                self.run_gq("topic", "produce", "gl", input="new\n")
                try:
                    got += reader.take(1, timeout=0.5)
                except AssertionError:
                    pass
            self.assertEqual(proc.wait(60), 0, proc.stderr.read())
            msgs = [json.loads(x) for x in got]
            self.assertEqual([m["value"] for m in msgs], ["new", "new"])
            self.assertGreaterEqual(msgs[0]["offset"], 2)
            self.assertEqual(msgs[1]["offset"], msgs[0]["offset"] + 1)
            self.assertEqual(reader.rest(), [])
            self.assertEqual(self.committed("gl1"),
                             {("gl", 0): msgs[1]["offset"] + 1})
        finally:
            stop(proc)
        # Without --follow a new group at latest reads nothing, and
        # commits the end, where its next run goes on.
        self.assertEqual(self.run_gq("topic", "consume", "gl", "--group",
                                     "gl2", "--from", "latest").stdout, "")
        self.run_gq("topic", "produce", "gl", input="after\n")
        self.assertEqual(self.run_gq("topic", "consume", "gl", "--group",
                                     "gl2").stdout, "after\n")

    def test_group_sigterm_commits_and_leaves(self):
        """SIGTERM (and SIGINT) end a following member at once: it
        commits what it printed and leaves, so the group is Empty."""
        self.create("gs", 2)
        self.run_gq("topic", "produce", "gs", input="a\nb\nc\nd\n")
        env = dict(os.environ)
        env.pop("GQCTL_BROKERS", None)
        env.pop("GQCTL_ADMIN", None)
        for sig in (signal.SIGTERM, signal.SIGINT):
            proc = subprocess.Popen(
                [GQCTL, "--brokers", self.brokers, "topic", "consume", "gs",
                 "--group", "gsg", "--follow"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=env)
            try:
                reader = LineReader(proc.stdout)
                if sig == signal.SIGTERM:
                    self.assertEqual(sorted(reader.take(4)),
                                     ["a\n", "b\n", "c\n", "d\n"])
                else:
                    self.run_gq("topic", "produce", "gs", "-p", "1",
                                input="e\n")
                    self.assertEqual(reader.take(1), ["e\n"])
                doc = json.loads(self.run_gq("--json", "group", "describe",
                                             "gsg").stdout)
                self.assertEqual(len(doc["members"]), 1)
                t0 = time.time()
                proc.send_signal(sig)
                self.assertEqual(proc.wait(30), 0, proc.stderr.read())
                self.assertLess(time.time() - t0, 5)
                self.assertEqual(reader.rest(), [])
                self.assertEqual(proc.stderr.read(), "")
            finally:
                stop(proc)
            doc = json.loads(self.run_gq("--json", "group", "describe",
                                         "gsg").stdout)
            self.assertEqual(doc["state"], "Empty")
            self.assertEqual(doc["members"], [])
            self.assertEqual(sum(o["committed"] for o in doc["offsets"]),
                             4 if sig == signal.SIGTERM else 5)

    def test_rate_limit(self):
        """--rate N sends at most N a second (after a burst of N/10)."""
        self.create("rt", 1)
        doc = json.loads(self.run_gq("--json", "topic", "produce", "rt",
                                     "--rate", "20",
                                     input="m\n" * 30).stdout)
        self.assertEqual(doc["messages"], 30)
        # 28 messages past the burst of 2, at 20 a second: 1.4 s at least.
        self.assertGreaterEqual(doc["elapsed_ms"], 1350)

    def test_failures_exit_1(self):
        """Unknown topics and partitions exit 1 with a clear message; a
        line over max_message_size fails alone and is reported."""
        for args in (["topic", "produce", "nosuch"],
                     ["topic", "consume", "nosuch"],
                     ["--json", "topic", "consume", "nosuch", "--follow"]):
            r = self.run_gq(*args, input="x\n", ok=False)
            self.assertEqual(r.returncode, 1, (args, r.stderr))
            self.assertIn("unknown topic 'nosuch'", r.stderr)
            self.assertEqual(r.stdout, "")
        self.create("pf", 2)
        for args in (["topic", "produce", "pf", "-p", "2"],
                     ["topic", "consume", "pf", "--partition", "7"]):
            r = self.run_gq(*args, input="x\n", ok=False)
            self.assertEqual(r.returncode, 1, (args, r.stderr))
            self.assertIn("the topic has 2 partitions", r.stderr)
            self.assertEqual(r.stdout, "")
        big = "z" * (1536 * 1024)
        r = self.run_gq("--json", "topic", "produce", "pf", "-p", "0",
                        input="ok1\n%s\nok2\n" % big, ok=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["messages"], 2)
        self.assertEqual(doc["failed"], 1)
        self.assertIn("line 2 of stdin", doc["error"])
        self.assertIn("1 of 3 messages failed", r.stderr)
        self.assertIn("max_message_size", r.stderr)
        self.assertEqual(self.run_gq("topic", "consume", "pf", "-p", "0"
                                     ).stdout, "ok1\nok2\n")
        # The topic's own max_message_size counts, not the library's
        # default: the same line goes to a topic that allows 4 MiB.
        self.run_gq("topic", "create", "pbig", "-c",
                    "max_message_size=4MiB")
        r = self.run_gq("--json", "topic", "produce", "pbig",
                        input="%s\n" % big)
        self.assertEqual(json.loads(r.stdout)["messages"], 1, r.stderr)
        out = self.run_gq("topic", "consume", "pbig").stdout
        self.assertEqual(out, big + "\n")


def fetches(admin):
    """The Fetch requests gqd has served (its /metrics)."""
    import urllib.request
    with urllib.request.urlopen("http://%s/metrics" % admin, timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith('gqd_kafka_requests_total{api="Fetch"}'):
                return int(float(line.split()[-1]))
    return 0


class ThreeNodes(unittest.TestCase):
    """Leader moves and reassignment on a three-node cluster."""

    def setUp(self):
        raft = [harness.free_port() for _ in range(3)]
        peers = ",".join("%d@127.0.0.1:%d" % (i + 1, p)
                         for i, p in enumerate(raft))
        self.nodes = [node_with_admin(raft_port=raft[i],
                                      extra=["-broker-id=%d" % (i + 1),
                                             "-initial-cluster=" + peers])
                      for i in range(3)]
        for n in self.nodes:
            n.start(wait=False)
        for n in self.nodes:
            n.wait_listening(60)
        self.admin = admin_of(self.nodes[0])

    def tearDown(self):
        try:
            for n in self.nodes:
                if n.proc is not None:
                    self.assertEqual(n.stop(), 0, n.log())
        finally:
            for n in self.nodes:
                n.close()

    def ok(self, *args):
        r = gqctl(*args, admin=self.admin)
        self.assertEqual(r.returncode, 0, "%s: %s\n%s" % (
            args, r.stderr, self.nodes[0].log()))
        return r.stdout

    def partition(self, topic, p=0):
        doc = json.loads(self.ok("--json", "topic", "describe", topic))
        return doc["partitions"][p]

    def wait_leader(self, topic):
        deadline = time.time() + 30
        while True:
            part = self.partition(topic)
            if part["leader"] > 0 and \
                    len(part["live_replicas"]) == len(part["replicas"]):
                return part
            self.assertLess(time.time(), deadline, part)
            time.sleep(0.2)

    def test_cluster_views(self):
        deadline = time.time() + 30
        while True:
            doc = json.loads(self.ok("--json", "cluster", "status"))
            if doc["brokers_alive"] == 3 and doc["controller"] > 0:
                break
            self.assertLess(time.time(), deadline, doc)
            time.sleep(0.2)
        self.assertEqual(doc["brokers"], 3)
        doc = json.loads(self.ok("--json", "cluster", "brokers"))
        self.assertEqual(sorted(b["id"] for b in doc["brokers"]),
                         [1, 2, 3])
        out = self.ok("cluster", "brokers")
        self.assertEqual(out.count("alive"), 3, out)

    def test_move_leader_and_reassign(self):
        """move-leader --wait ends with the broker asked for leading;
        reassign --wait ends with exactly the replicas asked for."""
        self.ok("topic", "create", "mv", "-r", "3")
        part = self.wait_leader("mv")
        target = [b for b in part["replicas"] if b != part["leader"]][0]
        out = self.ok("partition", "move-leader", "mv", "0", str(target),
                      "--wait", "--timeout", "60s")
        self.assertIn("broker %d leads mv/0" % target, out)
        self.assertEqual(self.partition("mv")["leader"], target)
        doc = json.loads(self.ok("--json", "cluster", "leaders"))
        mine = [x for x in doc["leaders"] if x["topic"] == "mv"]
        self.assertEqual(mine[0]["leader"], target)

        self.ok("topic", "create", "ra", "-r", "1")
        part = self.wait_leader("ra")
        old = part["replicas"][0]
        new = [b for b in (1, 2, 3) if b != old][:2]
        doc = json.loads(self.ok(
            "--json", "--timeout", "90s", "partition", "reassign", "ra",
            "0", "%d,%d" % tuple(new), "--wait"))
        self.assertEqual(doc["replicas"], new)
        part = self.partition("ra")
        self.assertEqual(sorted(part["replicas"]), sorted(new))
        self.assertEqual(sorted(part["live_replicas"]), sorted(new))
        self.assertIn(part["leader"], new)
        # A broker that holds no replica cannot lead.
        r = gqctl("partition", "move-leader", "ra", "0", str(old),
                  admin=self.admin)
        self.assertEqual(r.returncode, 1, r.stderr)


# ---- check-store ----------------------------------------------------------

N = 200  # messages per partition, each its own batch: 4 segments


def seg_files(node_dir, topic, partition):
    d = glob.glob(os.path.join(node_dir, "data", "%s.*" % topic))
    assert len(d) == 1, d
    return sorted(glob.glob(os.path.join(d[0], str(partition), "segments",
                                         "*.log")))


def flip(path, pos):
    with open(path, "r+b") as f:
        f.seek(pos)
        b = f.read(1)
        f.seek(pos)
        f.write(bytes([b[0] ^ 0xFF]))


class CheckStore(unittest.TestCase):
    """check-store on a stopped node: damage found and named, what the
    node's recovery repairs repaired, nothing before the damage lost."""

    def setUp(self):
        self.gqd = node_with_admin().start()
        self.node_dir = os.path.join(self.gqd.data_dir, "node")

    def tearDown(self):
        try:
            if self.gqd.proc is not None:
                self.assertEqual(self.gqd.stop(), 0, self.gqd.log())
        finally:
            self.gqd.close()

    def fill(self, topic, partitions):
        """Small segments, one batch per message: several segments."""
        r = gqctl("topic", "create", topic, "-p", str(partitions),
                  "--config", "segment_size=4096",
                  "--config", "compression_type=none",
                  admin=admin_of(self.gqd))
        self.assertEqual(r.returncode, 0, r.stderr)
        p = Producer({"bootstrap.servers": self.gqd.addr, "linger.ms": 0})
        for part in range(partitions):
            for i in range(N):
                p.produce(topic, value=b"%s-%d-%d" % (topic.encode(), part,
                                                     i), partition=part)
                p.flush(10)
        self.assertEqual(p.flush(20), 0)

    def stop(self):
        self.assertEqual(self.gqd.stop(), 0, self.gqd.log())

    def check(self, *extra):
        r = gqctl("check-store", self.node_dir, *extra)
        self.assertIn(r.returncode, (0, 4), r.stderr)
        return r

    def test_running_node_is_refused(self):
        r = gqctl("check-store", self.node_dir)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("in use by a running gqd", r.stderr)
        self.assertIn("stop it first", r.stderr)
        r = gqctl("check-store", self.node_dir, "--repair")
        self.assertEqual(r.returncode, 1)

    def test_clean_store(self):
        self.fill("clean", 2)
        self.stop()
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("clean", r.stdout)
        r = self.check("--json")
        self.assertEqual(r.returncode, 0)
        doc = json.loads(r.stdout)
        self.assertTrue(doc["clean"])
        parts = {(p["topic"], p["partition"]): p for p in doc["partitions"]}
        self.assertEqual(parts[("clean", 0)]["next_offset"], N)
        self.assertEqual(parts[("clean", 1)]["batches"], N)
        self.assertGreater(parts[("clean", 1)]["segments"], 2)
        self.assertEqual(parts[("clean", 0)]["problems"], [])
        self.assertEqual(doc["summary"]["problems"], 0)
        # Nothing was changed: the node starts and serves everything.
        self.gqd.start()
        self.assertEqual(len(consume_all(self.gqd.addr, "clean", 1)), N)

    def test_damage_found_repaired_and_nothing_lost(self):
        """A flipped byte, a segment cut mid-batch, garbage appended and a
        stray segment file: each named (exit 4); --repair fixes them (exit
        0), a second check is clean, and after a restart every message
        before the damage reads back unchanged."""
        self.fill("dmg", 4)
        self.stop()
        segs = [seg_files(self.node_dir, "dmg", p) for p in range(4)]
        for s in segs:
            self.assertGreater(len(s), 2, s)
        last0 = segs[0][-1]
        flip(last0, os.path.getsize(last0) - 3)           # bad CRC
        last1 = segs[1][-1]
        os.truncate(last1, os.path.getsize(last1) - 20)  # cut mid-batch
        with open(segs[2][-1], "ab") as f:               # torn tail
            f.write(b"\xa5" * 333)
        stray = os.path.join(os.path.dirname(segs[3][0]),
                             "%020d.log" % (10 ** 9))
        with open(stray, "wb") as f:                     # unreferenced
            f.write(b"junk")

        r = self.check()
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        out = r.stdout
        self.assertRegex(out, r"dmg/0: %s: offset \d+, byte \d+: bad_crc" %
                         os.path.basename(last0))
        self.assertRegex(out, r"dmg/1: %s: offset \d+, byte \d+: "
                         r"short_segment" % os.path.basename(last1))
        self.assertRegex(out, r"dmg/2: %s: byte \d+: torn_tail: 333 bytes" %
                         os.path.basename(segs[2][-1]))
        self.assertIn("dmg/3: %s: extra_segment" % os.path.basename(stray),
                      out)
        self.assertIn("4 problems in 4 partitions", out)
        self.assertIn("--repair", out)

        r = self.check("--json")
        self.assertEqual(r.returncode, 4)
        doc = json.loads(r.stdout)
        self.assertFalse(doc["clean"])
        self.assertEqual(doc["summary"]["damaged_partitions"], 4)
        parts = {(p["topic"], p["partition"]): p for p in doc["partitions"]}
        kinds = {k: [x["kind"] for x in parts[("dmg", k)]["problems"]]
                 for k in range(4)}
        self.assertEqual(kinds, {0: ["bad_crc"], 1: ["short_segment"],
                                 2: ["torn_tail"], 3: ["extra_segment"]})
        # The first damaged offset of each partition: all before it must
        # survive.
        damaged_at = {k: parts[("dmg", k)]["problems"][0]["offset"]
                      for k in (0, 1)}
        for k in (0, 1):
            self.assertGreater(damaged_at[k], 0)
        damaged_at[2] = damaged_at[3] = N

        r = self.check("--repair")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("repair: dmg/0:", r.stdout)
        self.assertIn("after repair: clean", r.stdout)
        self.assertFalse(os.path.exists(stray))
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("clean", r.stdout)

        self.gqd.start()
        for k in range(4):
            got = consume_all(self.gqd.addr, "dmg", k)
            want = [(i, b"dmg-%d-%d" % (k, i)) for i in range(N)]
            self.assertEqual(got[:damaged_at[k]], want[:damaged_at[k]], k)
            # Recovery dropped the damaged entries and Raft replayed them.
            self.assertEqual(got, want, k)

    def test_unrepairable_damage(self):
        """A segment file missing, and a flipped byte inside an older,
        full-sized segment (which the node's recovery does not walk):
        named, and left after --repair with exit 4."""
        self.fill("gone", 2)
        self.stop()
        segs0 = seg_files(self.node_dir, "gone", 0)
        segs1 = seg_files(self.node_dir, "gone", 1)
        os.unlink(segs0[1])
        # Byte 64 is inside the first batch's records (its header is 61
        # bytes), which the CRC covers.
        flip(segs1[0], 64)
        r = self.check()
        self.assertEqual(r.returncode, 4)
        self.assertIn("gone/0: %s: offset" % os.path.basename(segs0[1]),
                      r.stdout)
        self.assertIn("missing_segment", r.stdout)
        self.assertIn("gone/1: %s: offset 0, byte 0: bad_crc" %
                      os.path.basename(segs1[0]), r.stdout)
        r = self.check("--repair", "--json")
        self.assertEqual(r.returncode, 4, r.stdout)
        doc = json.loads(r.stdout)
        parts = {(p["topic"], p["partition"]): p for p in doc["partitions"]}
        self.assertIn("missing", parts[("gone", 0)]["repair"]["error"])
        self.assertEqual([x["kind"] for x in parts[("gone", 0)]["remaining"]],
                         ["missing_segment"])
        self.assertEqual(len(parts[("gone", 1)]["remaining"]), 1)
        self.assertFalse(doc["clean"])
        r = self.check("--repair")
        self.assertEqual(r.returncode, 4)
        self.assertIn("cannot repair", r.stdout)
        self.assertIn("after repair: 2 problems left", r.stdout)


if __name__ == "__main__":
    unittest.main()
