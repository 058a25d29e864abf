#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Many idle partitions on three gqd processes: create PARTITIONS
partitions with three replicas (each broker hosts PARTITIONS replicas),
then report the time until all are led and, per broker, resident memory,
descriptors, threads, disk, and the CPU used while everything sits idle.

    bench/idle_cluster.py [-p PARTITIONS] [-s RAFT_SEGMENT_SIZE] [-t SECONDS]

GQD names the daemon (default build/frontend/gqd/gqd).  Figures go to
stdout; nothing is asserted."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "clients"))
os.environ.setdefault("GQD", os.path.join(os.path.dirname(__file__), "..",
                                          "build", "frontend", "gqd", "gqd"))
from harness import Gqd, free_port  # noqa: E402

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """User + system CPU seconds of process @pid."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--partitions", type=int, default=1000)
    ap.add_argument("-s", "--raft-segment-size", default="1MiB")
    ap.add_argument("-t", "--idle-seconds", type=int, default=30)
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="gqidle-")
    raft = [free_port() for _ in range(3)]
    peers = ",".join("%d@127.0.0.1:%d" % (i + 1, p) for i, p in enumerate(raft))
    env = {"GQ_RAFT_SEGMENT_SIZE": args.raft_segment_size,
           "GQ_MAX_TOPIC_PARTITIONS": str(max(args.partitions, 1000))}
    nodes = [Gqd(data_dir=os.path.join(root, "b%d" % (i + 1)),
                 raft_port=raft[i], env=env,
                 extra=["-broker-id=%d" % (i + 1), "-initial-cluster=" + peers,
                        "-log-level=warn"])
             for i in range(3)]
    try:
        for n in nodes:
            n.start(wait=False)
        for n in nodes:
            n.wait_listening(60)
        pids = [n.proc.pid for n in nodes]
        print("3 gqd processes, raft_segment_size %s; %d partitions x 3 "
              "replicas" % (args.raft_segment_size, args.partitions))
        before = [proc_status(p, "VmRSS") for p in pids]
        admin = AdminClient({"bootstrap.servers":
                             ",".join(n.addr for n in nodes)})
        t0 = time.time()
        try:
            admin.create_topics([NewTopic("idle", args.partitions, 3)],
                                request_timeout=600)["idle"].result(600)
        except Exception as e:  # created, still electing: wait below
            if "created" not in str(e):
                raise
        while True:
            md = admin.list_topics("idle", timeout=30)
            parts = md.topics["idle"].partitions
            if (len(parts) == args.partitions and
                    all(p.leader >= 1 for p in parts.values())):
                break
            time.sleep(0.5)
        print("created and led in %.1f s" % (time.time() - t0))
        time.sleep(15)  # preferred-leader moves and first snapshots
        c0 = [proc_cpu(p) for p in pids]
        t0 = time.time()
        time.sleep(args.idle_seconds)
        wall = time.time() - t0
        for i, p in enumerate(pids):
            cpu = proc_cpu(p) - c0[i]
            rss = proc_status(p, "VmRSS")
            print("broker %d: idle CPU %5.1f %% of a core, RSS %4d MiB "
                  "(%.0f KiB per replica), %d fds, %d threads, disk %d MiB" %
                  (i + 1, 100 * cpu / wall, rss // 1024,
                   (rss - before[i]) / args.partitions,
                   len(os.listdir("/proc/%d/fd" % p)),
                   proc_status(p, "Threads"),
                   du(nodes[i].data_dir) >> 20))
    finally:
        for n in nodes:
            if n.proc is not None:
                n.stop(timeout=120)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
