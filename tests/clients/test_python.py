# SPDX-License-Identifier: MIT
"""gqd driven by confluent-kafka-python (librdkafka) and kafka-python."""
import socket
import struct
import unittest

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, ConfigResource, NewTopic)

from harness import Gqd, GqdTestCase


def consume_all(addr, topic, partition, start=0, timeout=5):
    c = Consumer({"bootstrap.servers": addr, "group.id": "t",
                  "enable.auto.commit": False,
                  "enable.partition.eof": True})
    c.assign([TopicPartition(topic, partition, start)])
    out = []
    while True:
        m = c.poll(timeout)
        if m is None:
            break
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                break
            raise AssertionError(str(m.error()))
        out.append(m)
    c.close()
    return out


class ConfluentKafka(GqdTestCase):
    def admin(self):
        # One client per test: a future outlives nothing its client.
        if not hasattr(self, "_admin"):
            self._admin = AdminClient({"bootstrap.servers": self.addr})
        return self._admin

    def create(self, name, partitions, config=None):
        fs = self.admin().create_topics(
            [NewTopic(name, partitions, 1, config=config or {})])
        fs[name].result(15)

    def test_admin_create_describe_delete(self):
        """CreateTopics with partitions and configs, DescribeConfigs,
        errors for duplicates and bad factors, DeleteTopics."""
        self.create("adm", 3, {"retention.ms": "3600000",
                               "compression.type": "zstd"})
        md = self.admin().list_topics(timeout=10)
        self.assertEqual(len(md.topics["adm"].partitions), 3)
        res = ConfigResource(ConfigResource.Type.TOPIC, "adm")
        cfg = self.admin().describe_configs([res])[res].result(10)
        self.assertEqual(cfg["retention.ms"].value, "3600000")
        self.assertEqual(cfg["compression.type"].value, "zstd")
        with self.assertRaisesRegex(Exception, "TOPIC_ALREADY_EXISTS"):
            self.create("adm", 1)
        with self.assertRaisesRegex(Exception, "REPLICATION_FACTOR"):
            self.admin().create_topics(
                [NewTopic("rf3", 1, 3)])["rf3"].result(10)
        with self.assertRaisesRegex(Exception, "INVALID_CONFIG"):
            self.create("badcfg", 1, {"no.such.config": "1"})
        self.admin().delete_topics(["adm"])["adm"].result(15)
        md = self.admin().list_topics(timeout=10)
        self.assertNotIn("adm", md.topics)

    def test_produce_consume_fields(self):
        """Keys, values, headers, timestamps and explicit partitions."""
        self.create("f", 3)
        p = Producer({"bootstrap.servers": self.addr, "linger.ms": 5})
        for i in range(300):
            p.produce("f", key=b"k%d" % i, value=b"v%d" % i, partition=i % 3,
                      timestamp=1700000000000 + i,
                      headers=[("h", b"%d" % i), ("n", None)])
        self.assertEqual(p.flush(20), 0)
        for part in range(3):
            msgs = consume_all(self.addr, "f", part)
            self.assertEqual(len(msgs), 100)
            for j, m in enumerate(msgs):
                i = part + 3 * j
                self.assertEqual(m.offset(), j)
                self.assertEqual(m.key(), b"k%d" % i)
                self.assertEqual(m.value(), b"v%d" % i)
                self.assertEqual(m.timestamp()[1], 1700000000000 + i)
                self.assertEqual(m.headers(), [("h", b"%d" % i),
                                               ("n", None)])

    def test_offsets_for_times_and_watermarks(self):
        """ListOffsets by time, earliest and latest."""
        self.create("ot", 1)
        p = Producer({"bootstrap.servers": self.addr})
        for i in range(10):
            p.produce("ot", value=b"x", timestamp=1000 * (i + 1))
        p.flush(10)
        c = Consumer({"bootstrap.servers": self.addr, "group.id": "t"})
        lo, hi = c.get_watermark_offsets(TopicPartition("ot", 0), 10)
        self.assertEqual((lo, hi), (0, 10))
        tp = c.offsets_for_times([TopicPartition("ot", 0, 4500)], 10)[0]
        self.assertEqual(tp.offset, 4)
        tp = c.offsets_for_times([TopicPartition("ot", 0, 99999)], 10)[0]
        self.assertEqual(tp.offset, -1)
        c.close()

    def test_idempotent_acks_all(self):
        """An idempotent acks=all producer: every message once, offsets
        contiguous, per-key order kept."""
        self.create("idem", 2)
        p = Producer({"bootstrap.servers": self.addr,
                      "enable.idempotence": True, "acks": "all",
                      "compression.type": "lz4", "linger.ms": 2})
        errors = []
        for i in range(20000):
            p.produce("idem", key=b"%d" % (i % 2), value=b"%d" % i,
                      on_delivery=lambda e, m: e and errors.append(e))
            if i % 2000 == 0:
                p.poll(0)
        self.assertEqual(p.flush(30), 0)
        self.assertEqual(errors, [])
        seen = []
        for part in range(2):
            msgs = consume_all(self.addr, "idem", part)
            self.assertEqual([m.offset() for m in msgs],
                             list(range(len(msgs))))
            vals = [int(m.value()) for m in msgs]
            self.assertEqual(vals, sorted(vals))
            seen += vals
        self.assertEqual(sorted(seen), list(range(20000)))


class ManyNewTopics(GqdTestCase):
    def test_parallel_auto_creates(self):
        """Producers to many new topics at once: every auto-create
        completes and every message is delivered (the daemon never waits
        on the node from the libuv threadpool, which the Raft log syncs
        also use)."""
        import threading
        results = []

        def produce(i):
            p = Producer({"bootstrap.servers": self.addr})
            for j in range(100):
                p.produce("auto-%d" % i, value=b"%d" % j)
            results.append(p.flush(30))

        threads = [threading.Thread(target=produce, args=(i,))
                   for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [0] * 12)
        for i in range(12):
            self.assertEqual(len(consume_all(self.addr, "auto-%d" % i, 0)),
                             100)


class LostResponses(unittest.TestCase):
    def test_idempotent_producer_survives_lost_responses(self):
        """Every 20th produce response is lost (the connection drops after
        the batch is stored); librdkafka's idempotent producer retries and
        the log still holds every message exactly once, in order."""
        import os
        os.environ["GQD_TEST_DROP_PRODUCE_RESPONSES"] = "20"
        try:
            g = Gqd().start()
        finally:
            del os.environ["GQD_TEST_DROP_PRODUCE_RESPONSES"]
        try:
            p = Producer({"bootstrap.servers": g.addr,
                          "enable.idempotence": True, "acks": "all",
                          "linger.ms": 1, "batch.num.messages": 100,
                          "retry.backoff.ms": 10,
                          "reconnect.backoff.ms": 10,
                          "reconnect.backoff.max.ms": 100})
            errors = []
            for i in range(20000):
                p.produce("lost", value=b"%d" % i, partition=0,
                          on_delivery=lambda e, m: e and errors.append(e))
                if i % 500 == 0:
                    p.poll(0)
            self.assertEqual(p.flush(60), 0)
            self.assertEqual(errors, [])
            msgs = consume_all(g.addr, "lost", 0)
            self.assertEqual([m.offset() for m in msgs],
                             list(range(len(msgs))))
            self.assertEqual([int(m.value()) for m in msgs],
                             list(range(20000)))
            self.assertIn("test hook active", g.log())
            self.assertEqual(g.stop(), 0)
        finally:
            g.close()


class KafkaPython(GqdTestCase):
    def test_codec_matrix(self):
        """Batches from librdkafka and kafka-python in every codec are read
        by both clients."""
        from kafka import KafkaConsumer, KafkaProducer
        from kafka import TopicPartition as KTP
        for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
            for writer in ("librdkafka", "kafka-python"):
                topic = "m-%s-%s" % (codec, writer)
                vals = [b"%s %s %d " % (codec.encode(), writer.encode(), i) +
                        b"y" * (i % 100) for i in range(500)]
                if writer == "librdkafka":
                    p = Producer({"bootstrap.servers": self.addr,
                                  "compression.type": codec})
                    for v in vals:
                        p.produce(topic, value=v)
                    self.assertEqual(p.flush(20), 0)
                else:
                    kp = KafkaProducer(
                        bootstrap_servers=self.addr,
                        compression_type=None if codec == "none" else codec)
                    for v in vals:
                        kp.send(topic, value=v)
                    kp.flush()
                    kp.close()
                got = [m.value() for m in consume_all(self.addr, topic, 0)]
                self.assertEqual(got, vals, "librdkafka reads %s" % topic)
                kc = KafkaConsumer(bootstrap_servers=self.addr,
                                   consumer_timeout_ms=3000)
                kc.assign([KTP(topic, 0)])
                kc.seek_to_beginning()
                got = [m.value for m in kc]
                kc.close()
                self.assertEqual(got, vals, "kafka-python reads %s" % topic)

    def test_version_probe(self):
        """kafka-python infers broker 2.3 from the advertised ranges."""
        from kafka import KafkaProducer
        kp = KafkaProducer(bootstrap_servers=self.addr)
        self.assertEqual(kp.config["api_version"], (2, 3, 0))
        kp.close()


class Restart(unittest.TestCase):
    def test_restart_between_produce_and_consume(self):
        """What was acknowledged before a restart is all there after."""
        g = Gqd().start()
        try:
            p = Producer({"bootstrap.servers": g.addr, "acks": "all"})
            for i in range(5000):
                p.produce("r", value=b"%d" % i)
            self.assertEqual(p.flush(20), 0)
            self.assertEqual(g.stop(), 0)
            g.start()
            p = Producer({"bootstrap.servers": g.addr, "acks": "all"})
            p.produce("r", value=b"5000")
            self.assertEqual(p.flush(20), 0)
            msgs = consume_all(g.addr, "r", 0)
            self.assertEqual([int(m.value()) for m in msgs],
                             list(range(5001)))
            self.assertEqual(g.stop(), 0)
        finally:
            g.close()


class Malformed(GqdTestCase):
    def send(self, data, expect_close=True):
        s = socket.create_connection(("127.0.0.1", self.gqd.port), 5)
        s.settimeout(5)
        s.sendall(data)
        got = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
                if not expect_close:
                    break
        except socket.timeout:
            self.fail("gqd neither answered nor closed")
        finally:
            s.close()
        return got

    def alive(self):
        c = Consumer({"bootstrap.servers": self.addr, "group.id": "x"})
        md = c.list_topics(timeout=10)
        c.close()
        self.assertIn("__consumer_offsets", md.topics)

    def test_bad_frames_close_the_connection(self):
        """Oversize, negative, truncated and garbage frames close that
        connection only; gqd keeps serving."""
        def frame(body):
            return struct.pack(">i", len(body)) + body
        self.send(struct.pack(">i", 1 << 30))            # oversize
        self.send(struct.pack(">i", -5))                 # negative
        self.send(struct.pack(">i", 3) + b"abc")         # too short
        self.send(frame(struct.pack(">hhih", 0, 99, 1, -1)))  # bad version
        self.send(frame(struct.pack(">hhih", 42, 0, 7, -1)))  # unknown API
        # Metadata v1 whose topic array claims 2^31-1 entries.
        body = struct.pack(">hhih", 3, 1, 9, -1) + struct.pack(">i", 0x7fffffff)
        self.send(struct.pack(">i", len(body)) + body)
        self.alive()

    def test_produce_v2_gets_partition_errors(self):
        """Produce v2 (message format 1) is answered per partition with
        UNSUPPORTED_FOR_MESSAGE_FORMAT, not a dropped connection."""
        topic = b"old"
        # A v1 message set: offset, size, crc, magic 1, attrs, ts, key, value.
        msg = struct.pack(">bbqii", 1, 0, 0, -1, 1) + b"x"
        mset = struct.pack(">qi", 0, len(msg) + 4) + struct.pack(">I", 0) + msg
        body = (struct.pack(">hhih", 0, 2, 5, -1) +
                struct.pack(">hi", 1, 1000) + struct.pack(">i", 1) +
                struct.pack(">h", len(topic)) + topic + struct.pack(">i", 1) +
                struct.pack(">ii", 0, len(mset)) + mset)
        resp = self.send(struct.pack(">i", len(body)) + body,
                         expect_close=False)
        size, corr, n_topics, tlen = struct.unpack(">iiih", resp[:14])
        self.assertEqual(corr, 5)
        off = 14 + tlen
        n_parts, index, err = struct.unpack(">iih", resp[off:off + 10])
        self.assertEqual((n_parts, index, err), (1, 0, 43))

    def test_pipelined_beyond_inflight_cap(self):
        """100 requests sent in one write, more than the per-connection
        in-flight cap (16): every one is answered, in order, although the
        client sends nothing more while it waits."""
        frames = b""
        for corr in range(100):
            body = struct.pack(">hhih", 18, 0, corr, -1)
            frames += struct.pack(">i", len(body)) + body
        s = socket.create_connection(("127.0.0.1", self.gqd.port), 5)
        s.settimeout(10)
        s.sendall(frames)
        got = b""
        corrs = []
        while len(corrs) < 100:
            chunk = s.recv(65536)
            self.assertTrue(chunk, "connection closed after %d answers" %
                            len(corrs))
            got += chunk
            while len(got) >= 4:
                size = struct.unpack(">i", got[:4])[0]
                if len(got) < 4 + size:
                    break
                corrs.append(struct.unpack(">i", got[4:8])[0])
                got = got[4 + size:]
        s.close()
        self.assertEqual(corrs, list(range(100)))

    def test_api_versions_fallback(self):
        """ApiVersions at an unknown version gets the v0-format answer
        with UNSUPPORTED_VERSION, and the connection stays usable."""
        # Request header v2 (flexible): client id, then empty tags.
        body = struct.pack(">hhihb", 18, 9, 77, -1, 0)
        resp = self.send(struct.pack(">i", len(body)) + body,
                         expect_close=False)
        size, corr, err = struct.unpack(">iih", resp[:10])
        self.assertEqual(corr, 77)
        self.assertEqual(err, 35)

    def test_random_frames(self):
        """A few hundred random frames never take gqd down."""
        import random
        rnd = random.Random(1234)
        for _ in range(300):
            key = rnd.choice([0, 1, 2, 3, 18, 19, 20, 22, 32, rnd.randrange(100)])
            ver = rnd.randrange(-1, 13)
            body = struct.pack(">hhih", key, ver, rnd.randrange(1 << 30),
                               rnd.choice([-1, 0, 5])) + bytes(
                rnd.randrange(256) for _ in range(rnd.randrange(0, 64)))
            s = socket.create_connection(("127.0.0.1", self.gqd.port), 5)
            s.sendall(struct.pack(">i", len(body)) + body)
            s.settimeout(2)
            try:
                s.recv(65536)
            except socket.timeout:
                pass
            s.close()
        self.alive()


if __name__ == "__main__":
    unittest.main(verbosity=2)
