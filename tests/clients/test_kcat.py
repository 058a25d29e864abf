# SPDX-License-Identifier: MIT
"""gqd driven by kcat (librdkafka 2.0.2): negotiation, produce and consume."""
import json
import time
import unittest

from harness import GqdTestCase, kcat


class Kcat(GqdTestCase):
    def test_feature_negotiation(self):
        """kcat -L -d feature enables the features gqd's ranges gate."""
        rc, out, err = kcat("-b", self.addr, "-L", "-d", "feature")
        self.assertEqual(rc, 0, err)
        for f in ("MsgVer2", "LZ4", "ZSTD", "IdempotentProducer",
                  "BrokerGroupCoordinator"):
            self.assertIn("Enabling feature " + f, err)
        self.assertIn("(controller)", out)

    def test_metadata_json(self):
        """kcat -L lists the broker and the internal offsets topic."""
        rc, out, err = kcat("-b", self.addr, "-L", "-J")
        self.assertEqual(rc, 0, err)
        md = json.loads(out)
        self.assertEqual(len(md["brokers"]), 1)
        self.assertEqual(md["brokers"][0]["name"], self.addr)
        self.assertEqual(md["brokers"][0]["id"], 1)
        self.assertEqual(md["controllerid"], 1)
        names = [t["topic"] for t in md["topics"]]
        self.assertIn("__consumer_offsets", names)

    def test_produce_consume_keys_headers(self):
        """Keys, values and headers come back as produced, in order."""
        lines = "".join("k%d:value-%d\n" % (i % 3, i) for i in range(200))
        rc, out, err = kcat("-b", self.addr, "-P", "-t", "kv", "-K:",
                            "-H", "trace=abc", input=lines)
        self.assertEqual(rc, 0, err)
        rc, out, err = kcat("-b", self.addr, "-C", "-t", "kv", "-o",
                            "beginning", "-e", "-J")
        self.assertEqual(rc, 0, err)
        msgs = [json.loads(l) for l in out.splitlines() if l.strip()]
        self.assertEqual(len(msgs), 200)
        for i, m in enumerate(msgs):
            self.assertEqual(m["offset"], i)
            self.assertEqual(m["key"], "k%d" % (i % 3))
            self.assertEqual(m["payload"], "value-%d" % i)
            self.assertEqual(m["headers"], ["trace", "abc"])
            self.assertGreater(m["ts"], 1600000000000)

    def test_explicit_partitions_and_offsets(self):
        """Messages go to the partition asked for; reads start at a given
        offset, at the tail, or at a relative offset from the end."""
        # Metadata auto-creates with one partition; partition 0 it is.
        for p in range(1):
            rc, _, err = kcat("-b", self.addr, "-P", "-t", "parts", "-p",
                              str(p), input="".join(
                                  "m%d\n" % i for i in range(10)))
            self.assertEqual(rc, 0, err)
        rc, out, err = kcat("-b", self.addr, "-C", "-t", "parts", "-p", "0",
                            "-o", "7", "-e", "-f", "%o:%s\n")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.split(), ["7:m7", "8:m8", "9:m9"])
        rc, out, err = kcat("-b", self.addr, "-C", "-t", "parts", "-p", "0",
                            "-o", "-2", "-e", "-f", "%o:%s\n")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.split(), ["8:m8", "9:m9"])
        rc, out, err = kcat("-b", self.addr, "-C", "-t", "parts", "-p", "0",
                            "-o", "end", "-e", "-f", "%o:%s\n")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.split(), [])
        rc, out, err = kcat("-b", self.addr, "-C", "-t", "parts", "-p", "5",
                            "-o", "beginning", "-e")
        self.assertNotEqual(rc, 0)

    def test_offsets_by_time(self):
        """-o s@TS starts at the first message at or after the time."""
        rc, _, err = kcat("-b", self.addr, "-P", "-t", "times",
                          input="a\nb\n")
        self.assertEqual(rc, 0, err)
        time.sleep(0.05)
        mid = int(time.time() * 1000)
        time.sleep(0.05)
        rc, _, err = kcat("-b", self.addr, "-P", "-t", "times",
                          input="c\nd\n")
        self.assertEqual(rc, 0, err)
        rc, out, err = kcat("-b", self.addr, "-C", "-t", "times", "-o",
                            "s@%d" % mid, "-e", "-f", "%o:%s\n")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.split(), ["2:c", "3:d"])

    def test_codecs(self):
        """Every codec librdkafka writes is stored and read back."""
        for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
            topic = "z-" + codec
            data = "".join("%s message %d %s\n" % (codec, i, "x" * (i % 50))
                           for i in range(2000))
            rc, _, err = kcat("-b", self.addr, "-P", "-t", topic, "-z",
                              codec, input=data)
            self.assertEqual(rc, 0, err)
            rc, out, err = kcat("-b", self.addr, "-C", "-t", topic, "-o",
                                "beginning", "-e", "-q")
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, data, codec)


if __name__ == "__main__":
    unittest.main(verbosity=2)
