# SPDX-License-Identifier: MIT
"""Consumer groups against gqd: librdkafka (confluent-kafka-python and kcat)
and kafka-python consumers sharing partitions through gqd's group
coordinator (FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups)."""
import io
import queue
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest
from collections import Counter

from confluent_kafka import (Consumer, KafkaError, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic

import harness
from harness import Gqd, GqdTestCase, kcat


def fast_rebalance_env():
    """A short initial rebalance delay when this gqd knows the key (its
    binary names the variable); otherwise the default 3 s applies."""
    path = shutil.which(harness.GQD) or harness.GQD
    try:
        with open(path, "rb") as f:
            known = b"GQ_GROUP_INITIAL_REBALANCE_DELAY" in f.read()
    except OSError:
        known = False
    return {"GQ_GROUP_INITIAL_REBALANCE_DELAY": "500ms"} if known else {}


GQD_ENV = fast_rebalance_env()


def create_topic(addr, name, partitions):
    admin = AdminClient({"bootstrap.servers": addr})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(15)


def produce(addr, topic, n, partitions, start=0):
    """@n messages "i" spread round-robin over @partitions."""
    p = Producer({"bootstrap.servers": addr, "linger.ms": 5})
    for i in range(start, start + n):
        p.produce(topic, value=b"%d" % i, partition=i % partitions)
    assert p.flush(30) == 0


def lines_of(proc):
    """A queue that receives @proc's stdout, line by line."""
    q = queue.Queue()

    def pump():
        with proc.stdout:
            for line in proc.stdout:
                q.put(line.strip())
    threading.Thread(target=pump, daemon=True).start()
    return q


def wait_for(cond, timeout, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


class Ledger:
    """What the consumers of one test share: the partitions each owns now
    and any overlap seen when a consumer was given a partition."""

    def __init__(self):
        self.lock = threading.Lock()
        self.members = []
        self.overlaps = []


class GroupConsumer(threading.Thread):
    """A confluent-kafka group consumer polled in its own thread.  It
    commits synchronously whatever it consumed of the partitions it is
    losing (so the next owner starts right after), records every message
    it got and every assignment change, and checks that no partition it
    is given is still owned by another member."""

    def __init__(self, name, addr, group, topic, ledger, strategy="range",
                 delay=0.005, extra=None):
        super().__init__(name=name, daemon=True)
        self.conf = {"bootstrap.servers": addr, "group.id": group,
                     "client.id": name,
                     "auto.offset.reset": "earliest",
                     "enable.auto.commit": False,
                     "heartbeat.interval.ms": 500,
                     "session.timeout.ms": 10000,
                     "max.poll.interval.ms": 20000,
                     "partition.assignment.strategy": strategy}
        self.conf.update(extra or {})
        self.topic = topic
        self.ledger = ledger
        self.delay = delay
        self.owned = set()
        self.seen = []
        self.errors = []
        self.assigns = 0
        self.halt = threading.Event()
        with ledger.lock:
            ledger.members.append(self)

    def on_assign(self, c, parts):
        given = {p.partition for p in parts}
        with self.ledger.lock:
            for other in self.ledger.members:
                if other is not self and other.owned & given:
                    self.ledger.overlaps.append(
                        (self.name, other.name, sorted(other.owned & given)))
            self.owned |= given
            self.assigns += 1

    def commit_lost(self, c, parts):
        offsets = [tp for tp in c.position(parts) if tp.offset >= 0]
        if not offsets:
            return
        try:
            c.commit(offsets=offsets, asynchronous=False)
        except KafkaException as e:
            self.errors.append("commit on revoke: %s" % e)

    def on_revoke(self, c, parts):
        self.commit_lost(c, parts)
        with self.ledger.lock:
            self.owned -= {p.partition for p in parts}

    def on_lost(self, c, parts):
        with self.ledger.lock:
            self.owned -= {p.partition for p in parts}

    def run(self):
        c = Consumer(self.conf)
        c.subscribe([self.topic], on_assign=self.on_assign,
                    on_revoke=self.on_revoke, on_lost=self.on_lost)
        while not self.halt.is_set():
            m = c.poll(0.1)
            if m is None:
                continue
            if m.error():
                if m.error().code() != KafkaError._PARTITION_EOF:
                    self.errors.append(str(m.error()))
                continue
            self.seen.append((m.partition(), m.offset()))
            if self.delay:
                time.sleep(self.delay)
        c.close()

    def stop(self):
        self.halt.set()
        self.join(30)


class GroupTestCase(GqdTestCase):
    """One gqd per test, with the short initial rebalance delay."""

    def setUp(self):
        self.gqd = Gqd(env=GQD_ENV).start()
        self.addr = self.gqd.addr


class ConfluentGroups(GroupTestCase):
    def setUp(self):
        super().setUp()
        self.consumers = []

    def tearDown(self):
        for c in self.consumers:
            c.halt.set()
        for c in self.consumers:
            c.join(30)
        super().tearDown()

    def start_consumer(self, name, group, topic, ledger, **kw):
        c = GroupConsumer(name, self.addr, group, topic, ledger, **kw)
        self.consumers.append(c)
        c.start()
        return c

    def share(self, strategy, n_consumers, delay):
        """@n_consumers join a group 5 s apart while it consumes 2000
        messages of 4 partitions: each message is consumed once, no
        partition is given to a member while another still owns it, and
        every member ends up with partitions."""
        topic = "share-" + strategy
        create_topic(self.addr, topic, 4)
        produce(self.addr, topic, 2000, 4)
        ledger = Ledger()
        members = []
        for i in range(n_consumers):
            if i > 0:
                time.sleep(5)
            members.append(self.start_consumer(
                "%s-%d" % (strategy, i), "g-" + strategy, topic, ledger,
                strategy=strategy, delay=delay))

        def settled():
            with ledger.lock:
                owned = [set(m.owned) for m in members]
            return (sum(len(m.seen) for m in members) >= 2000 and
                    all(owned) and
                    set().union(*owned) == {0, 1, 2, 3})
        self.assertTrue(wait_for(settled, 90), self.describe(members))
        time.sleep(2)  # any duplicate would arrive now
        got = Counter(x for m in members for x in m.seen)
        self.assertEqual(len(got), 2000, self.describe(members))
        self.assertEqual([x for x, k in got.items() if k > 1], [],
                         self.describe(members))
        self.assertEqual(ledger.overlaps, [])
        for m in members:
            self.assertTrue(m.owned, self.describe(members))
            self.assertEqual(m.errors, [])
        return members

    @staticmethod
    def describe(members):
        return "; ".join("%s owns %s, %d msgs, %d assigns, errors %s" % (
            m.name, sorted(m.owned), len(m.seen), m.assigns, m.errors[:3])
            for m in members)

    def test_eager_range_two_members(self):
        """Eager range: a second member joining splits the partitions."""
        self.share("range", 2, 0.005)

    def test_eager_roundrobin_three_members(self):
        """Eager roundrobin: three members joining 5 s apart."""
        members = self.share("roundrobin", 3, 0.005)
        self.assertEqual(sum(len(m.owned) for m in members), 4)

    def test_cooperative_sticky_two_members(self):
        """Cooperative-sticky: a second member takes half the partitions
        after the first gave them up."""
        self.share("cooperative-sticky", 2, 0.01)

    def test_cooperative_sticky_three_members(self):
        """Cooperative-sticky: members join 5 s apart; partitions move
        only once their previous owner gave them up."""
        members = self.share("cooperative-sticky", 3, 0.01)
        self.assertEqual(sum(len(m.owned) for m in members), 4)

    def test_killed_member_partitions_move(self):
        """A member killed with SIGKILL leaves no LeaveGroup: once its
        session (6 s) expires, the survivor gets every partition."""
        create_topic(self.addr, "kill", 4)
        script = (
            "import sys\n"
            "from confluent_kafka import Consumer\n"
            "c = Consumer({'bootstrap.servers': sys.argv[1],\n"
            "    'group.id': 'g-kill', 'client.id': 'victim',\n"
            "    'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500,\n"
            "    'max.poll.interval.ms': 10000})\n"
            "def on_assign(c, parts):\n"
            "    print('assigned', len(parts), flush=True)\n"
            "c.subscribe(['kill'], on_assign=on_assign)\n"
            "while True:\n"
            "    c.poll(0.1)\n")
        victim = subprocess.Popen([sys.executable, "-c", script, self.addr],
                                  stdout=subprocess.PIPE, text=True)
        said = lines_of(victim)
        try:
            self.assertEqual(said.get(timeout=30), "assigned 4")
            ledger = Ledger()
            survivor = self.start_consumer(
                "survivor", "g-kill", "kill", ledger,
                extra={"session.timeout.ms": 6000,
                       "max.poll.interval.ms": 10000})
            # The group settles with both: two partitions each.
            self.assertTrue(wait_for(lambda: len(survivor.owned) == 2, 30),
                            sorted(survivor.owned))
            self.assertEqual(said.get(timeout=10), "assigned 2")
            time.sleep(1)
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            killed = time.time()
            self.assertTrue(
                wait_for(lambda: survivor.owned == {0, 1, 2, 3}, 30),
                sorted(survivor.owned))
            # Session expiry, one heartbeat, one rebalance.
            self.assertLess(time.time() - killed, 20)
            self.assertEqual(survivor.errors, [])
        finally:
            if victim.poll() is None:
                victim.kill()
                victim.wait()

    def test_commits_survive_restart(self):
        """Offsets committed before a restart are where the group resumes
        after it: exactly the messages not consumed yet come next."""
        create_topic(self.addr, "resume", 2)
        produce(self.addr, "resume", 200, 2)
        conf = {"bootstrap.servers": self.addr, "group.id": "g-resume",
                "auto.offset.reset": "earliest", "enable.auto.commit": False}
        c = Consumer(conf)
        c.subscribe(["resume"])
        first = []
        deadline = time.time() + 30
        while len(first) < 100 and time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                first.append((m.partition(), m.offset()))
        self.assertEqual(len(first), 100)
        c.commit(asynchronous=False)
        c.close()
        self.assertEqual(self.gqd.stop(), 0, self.gqd.log())
        self.gqd.start()
        c = Consumer(dict(conf, **{"enable.partition.eof": True}))
        c.subscribe(["resume"])
        rest = []
        eof = set()
        deadline = time.time() + 30
        while len(eof) < 2 and time.time() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                continue
            rest.append((m.partition(), m.offset()))
        c.close()
        self.assertEqual(eof, {0, 1})
        every = {(i % 2, i // 2) for i in range(200)}
        self.assertEqual(len(rest), 100)
        self.assertEqual(set(rest), every - set(first))

    def test_list_and_describe_groups(self):
        """ListGroups and DescribeGroups (AdminClient.list_groups) show a
        Stable group with its two members, their hosts and assignments."""
        create_topic(self.addr, "desc", 4)
        ledger = Ledger()
        members = [self.start_consumer("desc-%d" % i, "g-desc", "desc",
                                       ledger, delay=0) for i in range(2)]
        self.assertTrue(wait_for(lambda: all(m.owned for m in members) and
                                 set().union(*[m.owned for m in members]) ==
                                 {0, 1, 2, 3}, 40))
        admin = AdminClient({"bootstrap.servers": self.addr})
        groups = {g.id: g for g in admin.list_groups(timeout=10)}
        self.assertIn("g-desc", groups)
        g = admin.list_groups("g-desc", timeout=10)[0]
        self.assertIsNone(g.error)
        self.assertEqual(g.state, "Stable")
        self.assertEqual(g.protocol_type, "consumer")
        self.assertEqual(g.protocol, "range")
        self.assertEqual(sorted(m.client_id for m in g.members),
                         ["desc-0", "desc-1"])
        for m in g.members:
            self.assertEqual(m.client_host, "/127.0.0.1")
            self.assertTrue(m.id.startswith(m.client_id + "-"), m.id)
            self.assertGreater(len(m.metadata), 0)
            self.assertGreater(len(m.assignment), 0)
        # librdkafka leaves a Dead group out; test_describe_unknown_group
        # reads gqd's answer itself.
        dead = admin.list_groups("no-such-group", timeout=10)
        self.assertEqual([d for d in dead if d.state != "Dead"], [])


class OtherClients(GroupTestCase):
    def test_kafka_python_group(self):
        """kafka-python (JoinGroup v2, SyncGroup v1, OffsetCommit v2,
        OffsetFetch v1) reads everything in a group, commits, and a new
        consumer of the group reads only what came after."""
        from kafka import KafkaConsumer
        create_topic(self.addr, "kp", 2)
        produce(self.addr, "kp", 300, 2)

        def consume(n):
            kc = KafkaConsumer("kp", bootstrap_servers=self.addr,
                               group_id="g-kp",
                               auto_offset_reset="earliest",
                               enable_auto_commit=True,
                               consumer_timeout_ms=20000)
            got = []
            for m in kc:
                got.append(int(m.value))
                if len(got) == n:
                    break
            kc.close()  # commits what was consumed
            return got
        self.assertEqual(sorted(consume(300)), list(range(300)))
        produce(self.addr, "kp", 50, 2, start=300)
        self.assertEqual(sorted(consume(50)), list(range(300, 350)))

    def test_kcat_balanced_consumer(self):
        """kcat -G consumes a topic as a group member."""
        create_topic(self.addr, "kc", 3)
        produce(self.addr, "kc", 90, 3)
        rc, out, err = kcat("-b", self.addr, "-G", "g-kcat", "-X",
                            "auto.offset.reset=earliest", "-e", "-f", "%s\n",
                            "kc", timeout=60)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(int(x) for x in out.split()),
                         list(range(90)))


def send(sock, req, corr):
    """Send a kafka-python protocol request on @sock."""
    from kafka.protocol.api import RequestHeader
    # kafka-python binds encode() weakly: keep the header referenced.
    header = RequestHeader(req, correlation_id=corr, client_id="raw")
    body = header.encode() + req.encode()
    sock.sendall(struct.pack(">i", len(body)) + body)


def request(sock, req, corr, raw=False):
    """Send a kafka-python protocol request on @sock; its response, or
    with @raw its body's bytes."""
    send(sock, req, corr)
    data = b""
    while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    assert struct.unpack(">i", data[4:8])[0] == corr
    if raw:
        return data[8:]
    return req.RESPONSE_TYPE.decode(io.BytesIO(data[8:]))


class RawProtocol(GroupTestCase):
    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.gqd.port), 10)
        s.settimeout(30)
        return s

    def test_find_coordinator(self):
        """FindCoordinator v0/v1 name this broker as Metadata advertises
        it; a transaction coordinator is refused (53, no transactions)."""
        from kafka.protocol.commit import GroupCoordinatorRequest
        with self.connect() as s:
            deadline = time.time() + 10
            while True:
                r = request(s, GroupCoordinatorRequest[0]("g"), 1)
                if r.error_code != 15 or time.time() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual((r.error_code, r.coordinator_id, r.host,
                              r.port), (0, 1, "127.0.0.1", self.gqd.port))
            # kafka-python's v1 response layout lacks ThrottleTimeMs: read
            # throttle, error, message length (null: -1) and node id.
            r = request(s, GroupCoordinatorRequest[1]("g", 0), 2, raw=True)
            self.assertEqual(struct.unpack(">ihhi", r[:12]), (0, 0, -1, 1))
            r = request(s, GroupCoordinatorRequest[1]("tx", 1), 3, raw=True)
            throttle, err, mlen = struct.unpack(">ihh", r[:8])
            self.assertEqual((err, struct.unpack(">i", r[8 + mlen:12 + mlen])),
                             (53, (-1,)))

    def test_group_errors(self):
        """Heartbeat, SyncGroup and commits with an unknown member or a
        stale generation, and a session timeout out of bounds."""
        from kafka.protocol.commit import OffsetCommitRequest
        from kafka.protocol.group import (HeartbeatRequest, JoinGroupRequest,
                                          LeaveGroupRequest,
                                          SyncGroupRequest)
        create_topic(self.addr, "raw", 1)
        with self.connect() as s:
            r = request(s, JoinGroupRequest[1](
                "g-raw", 1000, 10000, "", "consumer",
                [("range", b"meta")]), 1)
            self.assertEqual(r.error_code, 26)  # INVALID_SESSION_TIMEOUT
            r = request(s, JoinGroupRequest[1](
                "g-raw", 10000, 10000, "", "consumer",
                [("range", b"meta")]), 2)
            self.assertEqual((r.error_code, r.generation_id, r.group_protocol),
                             (0, 1, "range"))
            me = r.member_id
            self.assertEqual(r.leader_id, me)
            self.assertEqual([(m[0], m[1]) for m in r.members],
                             [(me, b"meta")])
            r = request(s, SyncGroupRequest[0]("g-raw", 1, me,
                                               [(me, b"assignment")]), 3)
            self.assertEqual((r.error_code, r.member_assignment),
                             (0, b"assignment"))
            r = request(s, HeartbeatRequest[0]("g-raw", 1, me), 4)
            self.assertEqual(r.error_code, 0)
            r = request(s, HeartbeatRequest[0]("g-raw", 7, me), 5)
            self.assertEqual(r.error_code, 22)  # ILLEGAL_GENERATION
            r = request(s, HeartbeatRequest[0]("g-raw", 1, "nobody"), 6)
            self.assertEqual(r.error_code, 25)  # UNKNOWN_MEMBER_ID
            r = request(s, OffsetCommitRequest[2](
                "g-raw", 1, me, -1,
                [("raw", [(0, 5, ""), (9, 5, "")]),
                 ("no-such-topic", [(0, 1, "")])]), 7)
            self.assertEqual([(t, [tuple(p) for p in ps])
                              for t, ps in r.topics],
                             [("raw", [(0, 0), (9, 3)]),
                              ("no-such-topic", [(0, 3)])])
            r = request(s, OffsetCommitRequest[2](
                "g-raw", 2, me, -1, [("raw", [(0, 6, "")])]), 8)
            self.assertEqual(r.topics[0][1][0][1], 22)
            r = request(s, LeaveGroupRequest[0]("g-raw", me), 9)
            self.assertEqual(r.error_code, 0)
            r = request(s, LeaveGroupRequest[0]("g-raw", me), 10)
            self.assertEqual(r.error_code, 25)

    def test_offset_fetch_all_topics(self):
        """OffsetFetch v2 with null topics lists every committed
        partition; v1 answers -1 for a partition never committed."""
        from kafka.protocol.commit import (OffsetCommitRequest,
                                           OffsetFetchRequest)
        create_topic(self.addr, "of1", 2)
        create_topic(self.addr, "of2", 1)
        with self.connect() as s:
            r = request(s, OffsetCommitRequest[2](
                "g-of", -1, "", -1,
                [("of1", [(0, 3, "m"), (1, 4, "")]),
                 ("of2", [(0, 5, "")])]), 1)
            self.assertEqual([[tuple(p) for p in ps] for _, ps in r.topics],
                             [[(0, 0), (1, 0)], [(0, 0)]])
            r = request(s, OffsetFetchRequest[2]("g-of", None), 2)
            self.assertEqual(r.error_code, 0)
            self.assertEqual(
                sorted((t, p[0], p[1]) for t, ps in r.topics for p in ps),
                [("of1", 0, 3), ("of1", 1, 4), ("of2", 0, 5)])
            r = request(s, OffsetFetchRequest[1](
                "g-of", [("of1", [0]), ("of2", [0])]), 3)
            self.assertEqual([(t, [(p[0], p[1], p[3]) for p in ps])
                              for t, ps in r.topics],
                             [("of1", [(0, 3, 0)]), ("of2", [(0, 5, 0)])])
            r = request(s, OffsetFetchRequest[1](
                "g-new", [("of1", [0])]), 4)
            self.assertEqual([(p[1], p[3]) for p in r.topics[0][1]],
                             [(-1, 0)])

    def test_describe_unknown_group(self):
        """DescribeGroups answers a group nobody knows as Dead, without
        members and without an error, as Kafka does; ListGroups then
        lists none."""
        from kafka.protocol.admin import (DescribeGroupsRequest,
                                          ListGroupsRequest)
        with self.connect() as s:
            r = request(s, DescribeGroupsRequest[0](["nobody"]), 1)
            self.assertEqual([tuple(g[:3]) + (g[5],) for g in r.groups],
                             [(0, "nobody", "Dead", [])])
            r = request(s, ListGroupsRequest[1](), 2)
            self.assertEqual((r.error_code, r.groups), (0, []))

    def test_shutdown_with_parked_join(self):
        """SIGTERM while a JoinGroup is parked for a rebalance that could
        last a minute: gqd still stops at once, cleanly."""
        from kafka.protocol.group import JoinGroupRequest, SyncGroupRequest
        s1, s2 = self.connect(), self.connect()
        try:
            r = request(s1, JoinGroupRequest[1](
                "g-park", 30000, 60000, "", "consumer",
                [("range", b"")]), 1)
            self.assertEqual(r.error_code, 0)
            me = r.member_id
            r = request(s1, SyncGroupRequest[0]("g-park", 1, me, []), 2)
            self.assertEqual(r.error_code, 0)
            # A second member: the rebalance waits for the first to join
            # again, which it never does (up to its 60 s).
            send(s2, JoinGroupRequest[1]("g-park", 30000, 60000, "",
                                         "consumer", [("range", b"")]), 3)
            time.sleep(1)
            s2.setblocking(False)
            with self.assertRaises(BlockingIOError):  # still parked
                s2.recv(1)
            started = time.time()
            self.assertEqual(self.gqd.stop(timeout=20), 0, self.gqd.log())
            self.assertLess(time.time() - started, 10)
        finally:
            s1.close()
            s2.close()


class ThreeNodes(unittest.TestCase):
    """Groups on a three-node cluster: coordinators spread over nodes."""

    def setUp(self):
        raft = [harness.free_port() for _ in range(3)]
        peers = ",".join("%d@127.0.0.1:%d" % (i + 1, p)
                         for i, p in enumerate(raft))
        self.nodes = [Gqd(raft_port=raft[i], env=GQD_ENV,
                          extra=["-broker-id=%d" % (i + 1),
                                 "-initial-cluster=" + peers])
                      for i in range(3)]
        for n in self.nodes:
            n.start(wait=False)
        for n in self.nodes:
            n.wait_listening(60)
        # Leader rebalancing hands the offsets partition (and so every
        # coordinator) to its preferred replica within seconds of the
        # start; wait for that so the tests' coordinators stay put.
        admin = AdminClient({"bootstrap.servers": self.nodes[0].addr})
        deadline = time.time() + 30
        while True:
            md = admin.list_topics("__consumer_offsets", timeout=10)
            p = md.topics["__consumer_offsets"].partitions.get(0)
            if p is not None and p.replicas and p.leader == p.replicas[0]:
                break
            self.assertLess(time.time(), deadline,
                            "__consumer_offsets never reached its "
                            "preferred leader")
            time.sleep(0.2)

    def tearDown(self):
        try:
            for n in self.nodes:
                if n.proc is not None:
                    self.assertEqual(n.stop(), 0, n.log())
        finally:
            for n in self.nodes:
                n.close()

    def coordinator(self, node, group):
        """FindCoordinator v0 asked of @node, once there is one."""
        from kafka.protocol.commit import GroupCoordinatorRequest
        with socket.create_connection(("127.0.0.1", node.port), 10) as s:
            s.settimeout(10)
            deadline = time.time() + 30
            while True:
                r = request(s, GroupCoordinatorRequest[0](group), 1)
                if r.error_code == 0 or time.time() > deadline:
                    return r
                time.sleep(0.2)

    def test_coordinators_and_a_remote_group(self):
        """Every node names the same coordinator, at the address Metadata
        advertises for it; OffsetFetch elsewhere gets NOT_COORDINATOR; a
        consumer bootstrapped at another node finds it and consumes."""
        from kafka.protocol.commit import OffsetFetchRequest
        by_port = {n.port: i + 1 for i, n in enumerate(self.nodes)}
        coordinators = {}
        for k in range(12):
            group = "spread-%d" % k
            answers = {(r.error_code, r.coordinator_id, r.host, r.port)
                       for r in (self.coordinator(n, group)
                                 for n in self.nodes)}
            self.assertEqual(len(answers), 1, answers)
            err, node_id, host, port = answers.pop()
            self.assertEqual((err, host, by_port.get(port)),
                             (0, "127.0.0.1", node_id))
            coordinators[group] = node_id
        # A client bootstrapped at a node that does not coordinate its
        # group (where leaders sit depends on elections).
        remote = "spread-0"
        other = self.nodes[coordinators[remote] % 3]
        with socket.create_connection(("127.0.0.1", other.port), 10) as s:
            r = request(s, OffsetFetchRequest[1](remote, [("x", [0])]), 1)
            self.assertEqual([p[3] for p in r.topics[0][1]], [16])
            r = request(s, OffsetFetchRequest[2](remote, None), 2)
            self.assertEqual((r.error_code, r.topics), (16, []))
        create_topic(other.addr, "remote", 2)
        produce(other.addr, "remote", 100, 2)
        # No auto-commit: librdkafka answers a commit with nothing new
        # since its last (timer) commit as _NO_OFFSET, so commit the
        # positions explicitly and read them back from the coordinator.
        c = Consumer({"bootstrap.servers": other.addr, "group.id": remote,
                      "auto.offset.reset": "earliest",
                      "enable.auto.commit": False})
        c.subscribe(["remote"])
        got = set()
        ends = {}
        deadline = time.time() + 60
        while len(got) < 100 and time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                got.add(int(m.value()))
                ends[m.partition()] = m.offset() + 1
        self.assertEqual(got, set(range(100)), "%d read, assignment %s\n%s"
                         % (len(got), c.assignment(), "\n".join(
                             "---- node %d ----\n%s" % (i + 1, n.log())
                             for i, n in enumerate(self.nodes))))
        tps = [TopicPartition("remote", p, o) for p, o in ends.items()]
        c.commit(offsets=tps, asynchronous=False)
        # Leader rebalancing may move the coordinator meanwhile, and
        # librdkafka hands NOT_COORDINATOR to the caller of committed().
        deadline = time.time() + 30
        while True:
            try:
                committed = c.committed(
                    [TopicPartition("remote", p) for p in ends], 10)
                break
            except KafkaException as e:
                if (e.args[0].code() not in (
                        KafkaError.NOT_COORDINATOR,
                        KafkaError.COORDINATOR_LOAD_IN_PROGRESS) or
                        time.time() > deadline):
                    raise
                time.sleep(0.2)
        c.close()
        self.assertEqual({t.partition: t.offset for t in committed}, ends)


if __name__ == "__main__":
    unittest.main()
