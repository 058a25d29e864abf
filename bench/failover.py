#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Failover time on three gqd processes: a librdkafka producer (acks=all,
idempotent) writes one message at a time to a partition with three
replicas; the partition's leader is killed with SIGKILL, and the time from
the kill to the first message acknowledged afterwards is measured.  The
killed broker is restarted and allowed to catch up before the next round.

    bench/failover.py [-r ROUNDS] [-e ELECTION_TIMEOUT]

GQD names the daemon (default build/frontend/gqd/gqd).  Figures go to
stdout; nothing is asserted."""
import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "clients"))
os.environ.setdefault("GQD", os.path.join(os.path.dirname(__file__), "..",
                                          "build", "frontend", "gqd", "gqd"))
from harness import Gqd, free_port  # noqa: E402

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def leader_of(admin, topic):
    md = admin.list_topics(topic, timeout=10)
    return md.topics[topic].partitions[0].leader


def produce_one(producer, topic, value, timeout):
    """Produce @value; True once acknowledged within @timeout seconds."""
    result = []
    producer.produce(topic, value, partition=0,
                     on_delivery=lambda err, msg: result.append(err))
    deadline = time.time() + timeout
    while not result and time.time() < deadline:
        producer.poll(0.001)
    return bool(result) and result[0] is None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-r", "--rounds", type=int, default=10)
    ap.add_argument("-e", "--election-timeout", default="600ms")
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="gqfailover-")
    raft = [free_port() for _ in range(3)]
    peers = ",".join("%d@127.0.0.1:%d" % (i + 1, p) for i, p in enumerate(raft))
    env = {"GQ_ELECTION_TIMEOUT": args.election_timeout}
    nodes = [Gqd(data_dir=os.path.join(root, "b%d" % (i + 1)),
                 raft_port=raft[i], env=env,
                 extra=["-broker-id=%d" % (i + 1), "-initial-cluster=" + peers,
                        "-log-level=warn"])
             for i in range(3)]
    brokers = ",".join(n.addr for n in nodes)
    times = []
    try:
        for n in nodes:
            n.start(wait=False)
        for n in nodes:
            n.wait_listening(60)
        admin = AdminClient({"bootstrap.servers": brokers})
        admin.create_topics([NewTopic("fo", 1, 3)])["fo"].result(60)
        producer = Producer({"bootstrap.servers": brokers, "acks": "all",
                             "enable.idempotence": True, "linger.ms": 0,
                             "retry.backoff.ms": 20,
                             "message.timeout.ms": 60000})
        while not produce_one(producer, "fo", b"warm-up", 10):
            pass
        print("3 gqd processes, election_timeout %s; partition leader "
              "killed %d times" % (args.election_timeout, args.rounds))
        for r in range(args.rounds):
            for _ in range(100):
                produce_one(producer, "fo", b"before", 10)
            leader = leader_of(admin, "fo")
            victim = nodes[leader - 1]
            victim.proc.send_signal(signal.SIGKILL)
            killed = time.time()
            victim.proc.wait()
            n = 0
            while not produce_one(producer, "fo", b"after-%d" % n, 30):
                n += 1
            times.append(time.time() - killed)
            print("round %d: broker %d killed, first produce acknowledged "
                  "%.0f ms later" % (r + 1, leader, 1000 * times[-1]))
            victim.start(timeout=60)
            time.sleep(2)  # let it catch up and the leadership settle
        producer.flush(30)
        print("kill -> first acknowledged produce: min %.0f ms, median %.0f "
              "ms, max %.0f ms" %
              (1000 * min(times), 1000 * statistics.median(times),
               1000 * max(times)))
    finally:
        for n in nodes:
            if n.proc is not None:
                n.stop(timeout=60)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
