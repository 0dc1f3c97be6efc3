#!/usr/bin/env python3
"""The TCP fault proxy (chaos/chaos_proxy.py) against a real echo server on loopback: plain
forwarding, delay, stall (bytes held, then delivered after heal, also after the client gave
up), reset (RST of open connections, new ones refused until heal), and an upstream found
again from its port file after it moved. Each check fails if the proxy forwarded plainly."""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import chaos_proxy  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EchoServer:
    """Echoes every byte back; remembers everything it received (also from clients gone)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.lock = threading.Lock()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.echo, args=(conn,), daemon=True).start()

    def echo(self, conn):
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                with self.lock:
                    self.received += data
                try:
                    conn.sendall(data)
                except OSError:
                    return

    def close(self):
        self.sock.close()


class ProxyTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.echo = EchoServer()
        self.port_file = os.path.join(self.dir, "upstream.port")
        with open(self.port_file, "w") as f:
            f.write("%d\n" % self.echo.port)
        self.port = free_port()
        self.control = os.path.join(self.dir, "control.sock")
        ready = os.path.join(self.dir, "ready")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(os.path.dirname(HERE), "chaos_proxy.py"),
             "--control", self.control, "--ready", ready,
             "--link", "echo=%d=file:%s" % (self.port, self.port_file)])
        deadline = time.monotonic() + 10
        while not os.path.exists(ready):
            self.assertIsNone(self.proc.poll(), "the proxy exited")
            self.assertLess(time.monotonic(), deadline, "the proxy did not start")
            time.sleep(0.02)

    def tearDown(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.echo.close()

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def roundtrip(self, s, data):
        s.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        return got

    def test_forwards_bytes_both_ways(self):
        with self.connect() as s:
            data = os.urandom(300000)
            self.assertEqual(self.roundtrip(s, data), data)

    def test_delay_holds_each_chunk_for_its_time(self):
        chaos_proxy.send(self.control, "delay echo 300")
        with self.connect() as s:
            started = time.monotonic()
            self.assertEqual(self.roundtrip(s, b"ping"), b"ping")
            elapsed_s = time.monotonic() - started
        self.assertGreaterEqual(elapsed_s, 0.6, "300 ms each way")
        chaos_proxy.send(self.control, "heal echo")
        with self.connect() as s:
            started = time.monotonic()
            self.assertEqual(self.roundtrip(s, b"ping"), b"ping")
            self.assertLess(time.monotonic() - started, 0.3)

    def test_delay_of_old_connections_lets_a_new_one_overtake(self):
        old = self.connect()
        self.assertEqual(self.roundtrip(old, b"warm"), b"warm")
        chaos_proxy.send(self.control, "delay echo 400 old")
        started = time.monotonic()
        old.sendall(b"slow")
        with self.connect() as fresh:
            self.assertEqual(self.roundtrip(fresh, b"fast"), b"fast")
            self.assertLess(time.monotonic() - started, 0.3, "the new connection was delayed")
        self.assertNotIn(b"slow", self.echo.received, "the old connection's bytes overtook")
        got = b""
        while len(got) < 4:
            got += old.recv(10)
        self.assertEqual(got, b"slow")
        self.assertGreaterEqual(time.monotonic() - started, 0.8, "400 ms each way")
        old.close()

    def test_stall_holds_bytes_and_delivers_them_after_heal_even_if_the_client_left(self):
        with self.connect() as s:
            self.assertEqual(self.roundtrip(s, b"before"), b"before")
            chaos_proxy.send(self.control, "stall echo")
            s.sendall(b"during")
            s.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                s.recv(10)
        # The client gave up; the stalled request has not reached the server yet.
        time.sleep(0.2)
        self.assertEqual(self.echo.received, b"before")
        chaos_proxy.send(self.control, "heal echo")
        deadline = time.monotonic() + 5
        while self.echo.received != b"beforeduring" and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(self.echo.received, b"beforeduring",
                         "a request stalled past its client's deadline still lands")

    def test_reset_breaks_open_connections_and_refuses_new_ones_until_heal(self):
        s = self.connect()
        self.assertEqual(self.roundtrip(s, b"x"), b"x")
        chaos_proxy.send(self.control, "reset echo")
        with self.assertRaises((ConnectionResetError, BrokenPipeError)):
            for _ in range(50):  # the RST arrives; a read sees it (or a write after it)
                if not s.recv(10):
                    raise ConnectionResetError("closed without RST")
                s.sendall(b"y")
        s.close()
        with self.assertRaises((ConnectionResetError, BrokenPipeError)):
            with self.connect() as fresh:
                fresh.sendall(b"z")
                if not fresh.recv(10):
                    raise ConnectionResetError("closed")
        chaos_proxy.send(self.control, "heal echo")
        with self.connect() as s:
            self.assertEqual(self.roundtrip(s, b"again"), b"again")

    def test_upstream_found_again_after_it_moved(self):
        moved = EchoServer()
        with open(self.port_file, "w") as f:
            f.write("%d\n" % moved.port)
        with self.connect() as s:
            self.assertEqual(self.roundtrip(s, b"moved"), b"moved")
        self.assertEqual(moved.received, b"moved")
        moved.close()

    def test_bad_commands_are_refused(self):
        for line in ("delay echo", "delay nowhere 5", "stall", "explode echo"):
            with self.assertRaises(RuntimeError):
                chaos_proxy.send(self.control, line)
        self.assertIn('"accepted"', chaos_proxy.send(self.control, "stats"))


if __name__ == "__main__":
    unittest.main()
