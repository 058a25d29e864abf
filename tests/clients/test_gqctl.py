# SPDX-License-Identifier: MIT
"""gqctl against real gqd processes: every command in both outputs, help,
exit codes, leader moves on a three-node cluster, and check-store on a
stopped node's data directory damaged on purpose."""
import glob
import json
import os
import signal
import socket
import subprocess
import time
import unittest

from confluent_kafka import Consumer, Producer, TopicPartition

import harness
from harness import Gqd

GQCTL = os.environ.get("GQCTL", "gqctl")

# Every command, for the help and usage checks.
COMMANDS = [
    ("topic", "create"), ("topic", "delete"), ("topic", "list"),
    ("topic", "describe"), ("group", "list"), ("group", "describe"),
    ("cluster", "status"), ("cluster", "brokers"), ("cluster", "leaders"),
    ("partition", "move-leader"), ("partition", "reassign"),
    ("config", "show"), ("config", "reload"), ("check-store",),
]


def gqctl(*args, admin=None, timeout=120):
    """Run gqctl; returns the CompletedProcess (text)."""
    cmd = [GQCTL] + (["--admin", admin] if admin else []) + list(args)
    env = dict(os.environ)
    env.pop("GQCTL_ADMIN", None)
    return subprocess.run(cmd, capture_output=True, text=True,
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
                     ["topic", "create", "x"], ["config", "reload"]):
            r = gqctl(*args, admin=addr)
            self.assertEqual(r.returncode, 3, (args, r.stderr))
            self.assertIn(addr, r.stderr)
            self.assertEqual(r.stdout, "")

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
