#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""gqd under a service manager: the sd_notify protocol systemd's
Type=notify units rely on (READY=1 once serving, RELOADING=1 then READY=1
around a SIGHUP reload, STOPPING=1 on SIGTERM), to a socket path and to
an abstract socket, and nothing at all without NOTIFY_SOCKET."""

import os
import signal
import socket
import tempfile
import time
import unittest

from harness import Gqd


class Notify(unittest.TestCase):
    def listen(self, abstract):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "gq-notify-%d-%d" % (os.getpid(), time.monotonic_ns())
            s.bind("\0" + name)
            where = "@" + name
        else:
            self.tmp = tempfile.TemporaryDirectory(
                dir=os.environ.get("GQ_TEST_TMPDIR"))
            where = os.path.join(self.tmp.name, "notify")
            s.bind(where)
        s.settimeout(30)
        return s, where

    def expect(self, s, *keys):
        """The next message carries every KEY=... of @keys; returns its
        fields."""
        msg = s.recv(4096).decode()
        fields = dict(line.split("=", 1) for line in msg.split("\n") if line)
        for k in keys:
            self.assertIn(k, fields, msg)
        return fields

    def run_cycle(self, abstract):
        s, where = self.listen(abstract)
        g = Gqd(env={"NOTIFY_SOCKET": where})
        try:
            g.start()
            f = self.expect(s, "READY", "MAINPID")
            self.assertEqual(f["READY"], "1")
            self.assertEqual(int(f["MAINPID"]), g.proc.pid)
            # Ready means serving: the Kafka port answers already.
            socket.create_connection(("127.0.0.1", g.port), 5).close()
            g.proc.send_signal(signal.SIGHUP)
            f = self.expect(s, "RELOADING", "MONOTONIC_USEC")
            self.assertGreater(int(f["MONOTONIC_USEC"]), 0)
            self.expect(s, "READY")
            self.assertEqual(g.stop(), 0, g.log())
            self.expect(s, "STOPPING")
        finally:
            g.close()
            s.close()

    def test_socket_path(self):
        self.run_cycle(False)

    def test_abstract_socket(self):
        self.run_cycle(True)

    def test_no_manager(self):
        """Without NOTIFY_SOCKET (or with a relative one) gqd runs and
        stops as ever."""
        for env in ({}, {"NOTIFY_SOCKET": "relative/path"}):
            g = Gqd(env=env)
            try:
                g.start()
                g.proc.send_signal(signal.SIGHUP)
                self.assertEqual(g.stop(), 0, g.log())
            finally:
                g.close()


if __name__ == "__main__":
    unittest.main()
