# SPDX-License-Identifier: MIT
"""Start and stop real gqd daemons on 127.0.0.1 for client tests.

Every test gets a fresh data directory and free ports; the daemon's log
is kept in the directory and printed when a test fails.
"""
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

GQD = os.environ.get("GQD", "gqd")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n):
    """@n distinct free ports: held together while chosen, so that two
    cannot be the same one (free_port() twice can)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Gqd:
    def __init__(self, data_dir=None, extra=(), raft_port=None, env=None):
        self.tmp = None
        self.env = dict(os.environ, **(env or {}))
        if data_dir is None:
            self.tmp = tempfile.TemporaryDirectory(
                dir=os.environ.get("GQ_TEST_TMPDIR"))
            data_dir = self.tmp.name
        os.makedirs(data_dir, exist_ok=True)
        self.data_dir = data_dir
        # Every gqd has an admin port (default 127.0.0.1:9644): a free one
        # each, so that several run side by side.  The three are chosen
        # once, distinct, and kept across restarts (a raft port chosen
        # again at a restart could be the client port).
        self.port, self.admin_port, own_raft = free_ports(3)
        self.addr = "127.0.0.1:%d" % self.port
        self.admin_addr = "127.0.0.1:%d" % self.admin_port
        self.raft_port = raft_port or own_raft
        self.extra = list(extra)
        self.proc = None
        self.log_path = os.path.join(data_dir, "gqd.log")

    def start(self, timeout=20, wait=True):
        """Start gqd; with wait, return once it accepts connections (a
        cluster node does only once a quorum of its peers is up)."""
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [GQD, "-data-dir=" + os.path.join(self.data_dir, "node"),
             "-client-addr=" + self.addr,
             "-admin-addr=" + self.admin_addr,
             "-raft-addr=127.0.0.1:%d" % self.raft_port]
            + self.extra,
            stdout=log, stderr=subprocess.STDOUT, env=self.env)
        log.close()
        return self.wait_listening(timeout) if wait else self

    def wait_listening(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gqd exited with %d:\n%s" %
                                   (self.proc.returncode, self.log()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("gqd did not listen:\n" + self.log())

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stop gqd; returns its exit status."""
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise RuntimeError("gqd did not stop on %s:\n%s" %
                               (sig, self.log()))
        self.proc = None
        return rc

    def log(self, full=False):
        """The daemon's log: its last 6000 characters, or all of it."""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
                return text if full else text[-6000:]
        except OSError:
            return ""

    def close(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        if self.tmp is not None:
            self.tmp.cleanup()


class GqdTestCase(unittest.TestCase):
    """A test case with one gqd started before each test."""
    extra = ()

    def setUp(self):
        self.gqd = Gqd(extra=self.extra).start()
        self.addr = self.gqd.addr

    def tearDown(self):
        try:
            if self.gqd.proc is not None:
                rc = self.gqd.stop()
                self.assertEqual(rc, 0, "gqd exit status on SIGTERM:\n" +
                                 self.gqd.log())
        finally:
            failed = any(e for _, e in getattr(
                self._outcome, "errors", []) if e) if hasattr(
                self, "_outcome") else False
            if failed:
                print("---- gqd log ----\n" + self.gqd.log())
            self.gqd.close()


def kcat(*args, input=None, timeout=30):
    """Run kcat; returns (returncode, stdout, stderr) as text."""
    p = subprocess.run(["kcat"] + list(args), input=input,
                       capture_output=True, timeout=timeout, text=True)
    return p.returncode, p.stdout, p.stderr
