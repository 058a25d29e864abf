# SPDX-License-Identifier: MIT
"""Three gqd processes on 127.0.0.1 forming one cluster, driven by
confluent-kafka-python (librdkafka) and kcat: replicated topics, routing
by Metadata, SIGKILL of partition and controller leaders while an
idempotent acks=all producer runs, a fourth node joining, replicas of a
node killed for good re-created on the others, and topics created and
deleted while nodes die."""
import os
import random
import signal
import threading
import time
import unittest

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from harness import Gqd, free_port, kcat

N = 3


# Replicas of a node silent this long move (the default is 10 minutes).
GRACE = {"GQ_DEAD_BROKER_GRACE": "3s"}


class Cluster(unittest.TestCase):
    def setUp(self):
        raft = [free_port() for _ in range(N)]
        self.peers = ",".join("%d@127.0.0.1:%d" % (i + 1, p)
                              for i, p in enumerate(raft))
        self.nodes = [Gqd(raft_port=raft[i],
                          env=dict(GRACE, GQ_RACK="r%d" % (i + 1)),
                          extra=["-broker-id=%d" % (i + 1),
                                 "-initial-cluster=" + self.peers])
                      for i in range(N)]
        for n in self.nodes:
            n.start(wait=False)
        for n in self.nodes:
            n.wait_listening(60)
        self.bootstrap = ",".join(n.addr for n in self.nodes)

    def tearDown(self):
        result = getattr(getattr(self, "_outcome", None), "result", None)
        failed = result is not None and any(
            t is self for t, _ in result.failures + result.errors)
        try:
            for n in self.nodes:
                if n.proc is not None:
                    rc = n.stop()
                    self.assertEqual(rc, 0, "gqd exit status:\n" + n.log())
        finally:
            if failed:
                # Whole logs kept for the post-mortem, tails printed.
                keep = os.environ.get("GQ_TEST_TMPDIR", ".")
                for i, n in enumerate(self.nodes):
                    path = os.path.join(keep, "%s-gqd%d.log" %
                                        (self._testMethodName, i + 1))
                    with open(path, "w") as f:
                        f.write(n.log(full=True))
                    print("---- gqd %d log (all of it in %s) ----\n%s" %
                          (i + 1, path, n.log()))
            for n in self.nodes:
                n.close()

    def create(self, name, partitions, rf=3):
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        admin.create_topics([NewTopic(name, partitions, rf)])[name].result(30)

    def metadata(self, topic):
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        return admin.list_topics(topic, timeout=10)

    def consume(self, topic, partitions, expect, timeout=60, rack=None):
        """Read every partition from the start until @expect messages or
        the timeout, as a client on broker @rack's rack if given;
        returns {partition: [(offset, value)]}."""
        conf = {"bootstrap.servers": self.bootstrap,
                "group.id": "check", "enable.auto.commit": False}
        if rack is not None:
            conf["client.rack"] = "r%d" % rack
        c = Consumer(conf)
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        out = {p: [] for p in range(partitions)}
        got = 0
        deadline = time.time() + timeout
        while got < expect and time.time() < deadline:
            m = c.poll(1)
            if m is None:
                continue
            if m.error():
                continue
            out[m.partition()].append((m.offset(), m.value()))
            got += 1
        c.close()
        return out

    def test_replicated_topic(self):
        """RF 3 over three nodes: every node describes the same leaders
        and replicas; Kafka clients route to leaders; kcat reads it all
        back through any node."""
        self.create("rep", 6)
        # Leaders move to their preferred replicas within seconds.
        deadline = time.time() + 20
        while True:
            md = self.metadata("rep")
            parts = md.topics["rep"].partitions
            if (len(parts) == 6 and
                    all(p.leader == p.replicas[0] for p in parts.values())):
                break
            self.assertLess(time.time(), deadline,
                            "leaders never reached the preferred replicas")
            time.sleep(0.2)
        self.assertEqual(sorted(md.brokers), [1, 2, 3])
        parts = md.topics["rep"].partitions
        self.assertEqual(len(parts), 6)
        preferred = set()
        for p in parts.values():
            self.assertEqual(sorted(p.replicas), [1, 2, 3])
            self.assertEqual(sorted(p.isrs), [1, 2, 3])
            preferred.add(p.leader)
        self.assertEqual(preferred, {1, 2, 3},
                         "leaders spread over the nodes")
        for n in self.nodes:
            md2 = AdminClient({"bootstrap.servers": n.addr}).list_topics(
                "rep", timeout=10)
            self.assertEqual(
                {i: p.leader for i, p in md2.topics["rep"].partitions.items()},
                {i: p.leader for i, p in parts.items()})
        p = Producer({"bootstrap.servers": self.bootstrap,
                      "enable.idempotence": True, "acks": "all",
                      "linger.ms": 5})
        for i in range(3000):
            p.produce("rep", str(i).encode(), key=str(i).encode())
        self.assertEqual(p.flush(30), 0)
        got = self.consume("rep", 6, 3000)
        values = sorted(int(v) for msgs in got.values() for _, v in msgs)
        self.assertEqual(values, list(range(3000)))
        for msgs in got.values():
            self.assertEqual([o for o, _ in msgs], list(range(len(msgs))))
        # kcat through the node that leads nothing of partition 0.
        other = [n for i, n in enumerate(self.nodes)
                 if i + 1 != parts[0].leader][0]
        rc, out, err = kcat("-C", "-b", other.addr, "-t", "rep", "-p", "0",
                            "-o", "beginning", "-e", "-q")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out.split()), len(got[0]))


    def kill_and_restart(self, idx, down=1.0):
        n = self.nodes[idx]
        n.proc.send_signal(signal.SIGKILL)
        n.proc.wait()
        n.proc = None
        time.sleep(down)
        n.start(wait=False)
        n.wait_listening(60)

    def test_leader_kill_storm(self):
        """SIGKILL of partition leaders and of the controller leader while
        an idempotent acks=all producer runs: every acknowledged message
        is read back exactly once, in order per partition."""
        kills = int(os.environ.get("GQ_TEST_KILLS", "30"))
        self.create("storm", 6)
        acked = []
        errors = []
        stop = threading.Event()

        def on_delivery(err, msg):
            if err is None:
                acked.append((msg.partition(), msg.offset(),
                              int(msg.value())))
            else:
                errors.append(str(err))

        def produce():
            # One request in flight per broker: Debian 12's librdkafka
            # 2.0.2 raises a fatal "rewound sequence number" error when
            # several in-flight requests fail on a disconnect (its
            # issue 3584, fixed in 2.3.0), which a kill storm provokes.
            p = Producer({"bootstrap.servers": self.bootstrap,
                          "enable.idempotence": True, "acks": "all",
                          "linger.ms": 2,
                          "max.in.flight.requests.per.connection": 1,
                          "message.timeout.ms": 120000})
            i = 0
            try:
                while not stop.is_set():
                    try:
                        p.produce("storm", str(i).encode(),
                                  key=str(i).encode(),
                                  on_delivery=on_delivery)
                        i += 1
                    except BufferError:
                        pass
                    p.poll(0.001)
                left = p.flush(150)
                if left:
                    errors.append("%d messages left unacknowledged" % left)
            except Exception as e:  # reported by the main thread
                errors.append("producer: %r" % e)

        t = threading.Thread(target=produce)
        t.start()
        try:
            rnd = random.Random(4)
            for k in range(kills):
                time.sleep(1.0)
                md = self.metadata("storm")
                if k % 3 == 2:
                    victim = md.controller_id
                else:
                    part = md.topics["storm"].partitions[rnd.randrange(6)]
                    victim = part.leader
                if victim < 1:
                    continue
                self.kill_and_restart(victim - 1)
        finally:
            time.sleep(1)
            stop.set()
            t.join(200)
        self.assertEqual(errors, [])
        self.assertGreater(len(acked), 1000)
        got = self.consume("storm", 6, len(acked), timeout=120)
        stored = {}
        for part, msgs in got.items():
            self.assertEqual([o for o, _ in msgs], list(range(len(msgs))),
                             "partition %d offsets" % part)
            vals = [int(v) for _, v in msgs]
            self.assertEqual(len(vals), len(set(vals)),
                             "duplicates in partition %d" % part)
            # Keys hash to fixed partitions: values rise in each.
            self.assertEqual(vals, sorted(vals),
                             "order in partition %d" % part)
            for o, v in zip(range(len(vals)), vals):
                stored[v] = (part, o)
        for part, off, v in acked:
            self.assertEqual(stored.get(v), (part, off),
                             "acknowledged message %d" % v)
        print("storm: %d kills, %d acknowledged messages, all read back"
              % (kills, len(acked)))


    def produce(self, topic, values):
        p = Producer({"bootstrap.servers": self.bootstrap,
                      "enable.idempotence": True, "acks": "all",
                      "linger.ms": 5, "message.timeout.ms": 60000})
        for v in values:
            p.produce(topic, str(v).encode(), key=str(v).encode())
        self.assertEqual(p.flush(90), 0)

    def expect_all(self, topic, partitions, n):
        """Messages 0..n-1 are stored once each, offsets dense."""
        got = self.consume(topic, partitions, n, timeout=90)
        values = sorted(int(v) for msgs in got.values() for _, v in msgs)
        self.assertEqual(values, list(range(n)))
        for msgs in got.values():
            self.assertEqual([o for o, _ in msgs], list(range(len(msgs))))

    def kill(self, broker):
        n = self.nodes[broker - 1]
        n.proc.send_signal(signal.SIGKILL)
        n.proc.wait()
        n.proc = None

    def start_debug(self, broker):
        """(Re)start a stopped broker logging at debug level, and wait
        until the others know it lives."""
        node = self.nodes[broker - 1]
        node.extra.append("-log-level=debug")
        node.start(timeout=60)
        # Listed once the controller hears it again; partition leaders
        # learn that it lives a heartbeat later.
        deadline = time.time() + 30
        while broker not in self.metadata(None).brokers:
            self.assertLess(time.time(), deadline, "never back")
            time.sleep(0.2)
        time.sleep(2)

    def test_follower_fetch(self):
        """KIP-392: a consumer naming its rack (client.rack) is sent by the
        leader to the replica on that rack, which serves it every
        committed message."""
        self.create("near", 1)
        self.produce("near", range(500))
        part = self.metadata("near").topics["near"].partitions[0]
        # Neither the leader nor the preferred one (leadership returns
        # to it): this replica stays a follower.
        near = [r for r in part.replicas
                if r not in (part.leader, part.replicas[0])][0]
        follower = self.nodes[near - 1]
        follower.stop()
        self.start_debug(near)
        got = self.consume("near", 1, 500, rack=near)
        self.assertEqual([int(v) for _, v in got[0]], list(range(500)))
        self.assertIn("fetch served by a follower", follower.log(full=True))

    def test_restart_catch_up(self):
        """A follower killed while thousands of messages are written
        catches up when it comes back: a consumer on its rack reads
        everything from it.  (The in-process tests cover the catch-up
        past a compacted log.)"""
        self.create("behind", 1)
        part = self.metadata("behind").topics["behind"].partitions[0]
        away = [r for r in part.replicas
                if r not in (part.leader, part.replicas[0])][0]
        self.kill(away)
        self.produce("behind", range(5000))
        node = self.nodes[away - 1]
        self.start_debug(away)
        got = self.consume("behind", 1, 5000, timeout=90, rack=away)
        self.assertEqual([int(v) for _, v in got[0]], list(range(5000)))
        self.assertIn("fetch served by a follower", node.log(full=True))

    def test_join_and_rereplicate(self):
        """A fourth broker joins; a broker killed for good has its
        replicas re-created on the others after dead_broker_grace, so
        the partitions then survive the loss of one more broker."""
        self.create("grow", 6)
        self.produce("grow", range(2000))
        joiner = Gqd(raft_port=free_port(), env=GRACE,
                     extra=["-broker-id=4", "-initial-cluster=" + self.peers])
        self.nodes.append(joiner)
        joiner.start(timeout=60)
        self.bootstrap += "," + joiner.addr
        deadline = time.time() + 30
        while sorted(self.metadata("grow").brokers) != [1, 2, 3, 4]:
            self.assertLess(time.time(), deadline, "broker 4 never listed")
            time.sleep(0.2)
        self.kill(1)
        self.produce("grow", range(2000, 3000))
        deadline = time.time() + 90
        while True:
            parts = self.metadata("grow").topics["grow"].partitions
            if all(1 not in p.replicas and len(p.replicas) == 3
                   for p in parts.values()):
                break
            self.assertLess(time.time(), deadline,
                            "broker 1's replicas never moved: %s" %
                            {i: p.replicas for i, p in parts.items()})
            time.sleep(0.5)
        for p in parts.values():
            self.assertIn(4, p.replicas)
        # Once every replica is back to three, losing one more broker
        # leaves each partition a quorum.
        time.sleep(2)
        self.kill(2)
        self.bootstrap = ",".join(n.addr for n in self.nodes[2:])
        self.produce("grow", range(3000, 4000))
        self.expect_all("grow", 6, 4000)

    def test_topics_under_failures(self):
        """Topics are created, written and deleted while brokers (the
        controller among them) are killed and restarted: each create and
        delete either happens everywhere or is retried, and deleted
        topics leave no data on any node."""
        rnd = random.Random(7)

        def retry(op, name):
            deadline = time.time() + 60
            while True:
                admin = AdminClient({"bootstrap.servers": self.bootstrap})
                fs = op(admin, name)
                try:
                    fs[name].result(30)
                    return
                except Exception as e:  # retried while the cluster heals
                    msg = str(e)
                    if "TOPIC_ALREADY_EXISTS" in msg and op is create:
                        return
                    if "UNKNOWN_TOPIC" in msg and op is delete:
                        return
                    print("%s %s: %s (retrying)" % (op.__name__, name, msg))
                    self.assertLess(time.time(), deadline, msg)
                    time.sleep(0.5)

        def create(admin, name):
            # Two replicas: one of the three brokers is always down.
            return admin.create_topics([NewTopic(name, 3, 2)])

        def delete(admin, name):
            return admin.delete_topics([name])

        last = 5
        for k in range(last + 1):
            md = self.metadata(None)
            victim = md.controller_id if k % 2 == 0 else rnd.randrange(1, 4)
            if victim < 1:
                victim = 1
            self.kill(victim)
            # Past the 6 s session: the controller no longer places
            # replicas on the dead broker (a two-replica partition with
            # one dead has no quorum).
            time.sleep(7)
            retry(create, "t%d" % k)
            self.produce("t%d" % k, range(50))
            if k > 0:
                retry(delete, "t%d" % (k - 1))
            n = self.nodes[victim - 1]
            n.start(wait=False)
            n.wait_listening(60)
        self.expect_all("t%d" % last, 3, 50)
        deadline = time.time() + 30
        while True:
            topics = set(self.metadata(None).topics)
            left = [d for n in self.nodes
                    for d in os.listdir(os.path.join(n.data_dir, "node",
                                                     "data"))
                    if d.startswith("t") and
                    not d.startswith("t%d." % last)]
            if "t%d" % (last - 1) not in topics and not left:
                break
            self.assertLess(time.time(), deadline,
                            "deleted topics remain: %s %s" % (topics, left))
            time.sleep(0.5)
        self.assertIn("t%d" % last, topics)


    def coordinator(self):
        """The broker coordinating every group: the leader of the offsets
        topic's partition."""
        deadline = time.time() + 30
        while True:
            md = self.metadata("__consumer_offsets")
            t = md.topics.get("__consumer_offsets")
            if t is not None and t.error is None and 0 in t.partitions:
                leader = t.partitions[0].leader
                if leader > 0 and self.nodes[leader - 1].proc is not None:
                    return leader
            self.assertLess(time.time(), deadline, "no coordinator")
            time.sleep(0.2)

    def test_group_coordinator_failover(self):
        """A consumer group keeps its members and committed offsets when
        its coordinator is SIGKILLed: the member carries on with the next
        coordinator, nothing is read twice, and a new member resumes from
        the committed offsets."""
        self.create("gfo", 4)
        self.produce("gfo", range(400))
        conf = {"bootstrap.servers": self.bootstrap, "group.id": "gfo",
                "enable.auto.commit": False, "auto.offset.reset": "earliest",
                "session.timeout.ms": 10000}
        c = Consumer(conf)
        c.subscribe(["gfo"])
        seen = []

        def consume(n, timeout):
            """Poll until @n values in all, committing every 50."""
            deadline = time.time() + timeout
            while len(seen) < n and time.time() < deadline:
                m = c.poll(0.5)
                if m is not None and not m.error():
                    seen.append(int(m.value()))
                    if len(seen) % 50 == 0:
                        c.commit(asynchronous=False)

        consume(200, 60)
        self.assertEqual(len(seen), 200)
        coord = self.coordinator()
        self.kill(coord)
        consume(400, 90)
        c.close()
        self.assertEqual(sorted(seen), list(range(400)))
        # The group's offsets survived: a new member reads only what is
        # new.
        self.produce("gfo", range(400, 410))
        c = Consumer(conf)
        c.subscribe(["gfo"])
        seen = []
        consume(11, 20)
        c.close()
        self.assertEqual(sorted(seen), list(range(400, 410)))


if __name__ == "__main__":
    unittest.main()
