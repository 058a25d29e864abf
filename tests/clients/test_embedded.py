# SPDX-License-Identifier: MIT
"""Embedded group consumers in separate processes: two runs of
examples/group_consume, each embedding one node of a two-node cluster,
are members of one consumer group and split a topic's partitions between
them, each message read by exactly one of them."""
import os
import subprocess
import tempfile
import unittest

from harness import free_port

GROUP_CONSUME = os.environ.get("GROUP_CONSUME", "")


class Embedded(unittest.TestCase):
    def test_two_processes_share_a_group(self):
        tmp = os.environ.get("GQ_TEST_TMPDIR")
        ports = [free_port(), free_port()]
        cluster = ",".join("%d@127.0.0.1:%d" % (i + 1, p)
                           for i, p in enumerate(ports))
        procs = []
        with tempfile.TemporaryDirectory(dir=tmp) as d:
            for i in range(2):
                args = [GROUP_CONSUME, "-d", os.path.join(d, "n%d" % i),
                        "-g", "shared", "-t", "events", "-w", "10",
                        "-i", str(i + 1), "-c", cluster]
                if i == 0:  # the first one creates and fills the topic
                    args += ["-p", "4", "-n", "400"]
                procs.append(subprocess.Popen(
                    args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True))
            outs = []
            for p in procs:
                out, err = p.communicate(timeout=180)
                self.assertEqual(p.returncode, 0, err)
                outs.append(out)
        got = [[int(line.split()[3]) for line in out.splitlines()]
               for out in outs]
        self.assertEqual(sorted(got[0] + got[1]), list(range(400)),
                         "every message read by exactly one member")
        self.assertTrue(got[0] and got[1], "both members read a share")


if __name__ == "__main__":
    unittest.main()
