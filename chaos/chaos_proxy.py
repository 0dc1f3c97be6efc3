#!/usr/bin/env python3
"""chaos_proxy: the TCP fault proxy of wp-chaos runs (chaos/README.md, "Network faults").

  chaos_proxy.py --control SOCKET --link NAME=LISTEN_PORT=UPSTREAM ... [--ready FILE]

Each link listens on 127.0.0.1:LISTEN_PORT and forwards every connection, byte for byte, to
its upstream, found again for each new connection (the upstream may restart on another port):
  file:PATH        PATH holds the upstream's port on 127.0.0.1 (scripts/cluster.sh's lsN.listen_port)
  env:PATH:KEY     PATH holds KEY=http://HOST:PORT lines (scripts/rgw.sh's env file)
A connection that arrives before its upstream is known, or that the upstream refuses, is closed.

Faults, sent as one line to the control socket (answer: "ok" or "error: ..."):
  delay LINK MS      every chunk, either way, is delivered MS ms after it was read (order kept)
  delay LINK MS old  the same, but only on the connections open now: a new connection (a new
                     process's) is not delayed, so it can overtake what the old ones sent
  stall LINK         nothing is delivered either way; bytes wait in the proxy (and, once its small
                     buffer is full, in the kernel's) until heal. A request that waits out its
                     client's deadline is still delivered after the heal: its outcome is unknown
                     to the client, and it may still take effect (as on a real stalled network)
  reset LINK         every open connection of the link is reset (RST both ways); new ones are
                     reset at once until heal
  heal LINK          back to plain forwarding; waiting bytes are delivered
  stats              one JSON line: per link, connections accepted, reset, bytes each way
The proxy runs until SIGTERM or SIGKILL. --ready FILE is written once every listener is up.
"""
import argparse
import asyncio
import json
import os
import re
import signal
import socket
import struct
import sys
import time

CHUNK_BYTES = 64 * 1024
QUEUE_CHUNKS = 64  # per direction; beyond it the reader waits, so TCP pushes back on the sender


class Link:
    def __init__(self, name, listen_port, upstream):
        self.name, self.listen_port, self.upstream = name, listen_port, upstream
        self.delay_s = 0.0
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.refusing = False
        self.pipes = set()
        self.stats = {"accepted": 0, "reset": 0, "refused": 0, "bytes_to_upstream": 0,
                      "bytes_to_client": 0}

    def upstream_address(self):
        """(host, port) of the upstream now, or None when it is not known yet."""
        kind, _, rest = self.upstream.partition(":")
        try:
            if kind == "file":
                with open(rest) as f:
                    return "127.0.0.1", int(f.read().strip())
            path, _, key = rest.rpartition(":")
            with open(path) as f:
                for line in f:
                    if line.startswith(key + "="):
                        m = re.match(r"https?://([^:/]+):(\d+)", line.split("=", 1)[1].strip())
                        if m:
                            return m.group(1), int(m.group(2))
        except (OSError, ValueError):
            pass
        return None

    def heal(self):
        self.delay_s = 0.0
        self.refusing = False
        self.flowing.set()


def abort_with_reset(writer):
    """Closes the connection with an RST (SO_LINGER 0), not a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


class Pipe:
    """One proxied connection: two directions, each a reader task and a delivering task."""

    def __init__(self, link, client, upstream):
        self.link = link
        self.delay_s = link.delay_s  # the link's, or set for this connection alone
        self.ends = (client, upstream)  # (reader, writer) pairs
        self.tasks = []

    async def run(self):
        (c_reader, c_writer), (u_reader, u_writer) = self.ends
        self.tasks = [asyncio.ensure_future(self.direction(c_reader, u_writer, "bytes_to_upstream")),
                      asyncio.ensure_future(self.direction(u_reader, c_writer, "bytes_to_client"))]
        try:
            await asyncio.gather(*self.tasks)
        except (asyncio.CancelledError, ConnectionError, OSError):
            pass  # reset by the proxy, or one side broke the connection: the other side too
        finally:
            for t in self.tasks:
                t.cancel()
            for w in (c_writer, u_writer):
                w.close()

    async def direction(self, reader, writer, counter):
        queue = asyncio.Queue(QUEUE_CHUNKS)

        async def deliver():
            while True:
                due, data = await queue.get()
                if data is None:
                    break
                wait_s = due - time.monotonic()
                if wait_s > 0:
                    await asyncio.sleep(wait_s)
                await self.link.flowing.wait()
                writer.write(data)
                await writer.drain()
                self.link.stats[counter] += len(data)
            if writer.can_write_eof():
                writer.write_eof()  # the half-close travels on, after every byte before it

        delivering = asyncio.ensure_future(deliver())
        try:
            while True:
                data = await reader.read(CHUNK_BYTES)
                await queue.put((time.monotonic() + self.delay_s, data or None))
                if not data:
                    break
            await delivering
        finally:
            delivering.cancel()

    def reset(self):
        for _, w in self.ends:
            abort_with_reset(w)
        for t in self.tasks:
            t.cancel()


class Proxy:
    def __init__(self, links):
        self.links = {link.name: link for link in links}

    async def accept(self, link, reader, writer):
        link.stats["accepted"] += 1
        address = link.upstream_address()
        if link.refusing or address is None:
            link.stats["refused"] += 1
            abort_with_reset(writer)
            return
        try:
            upstream = await asyncio.open_connection(*address)
        except OSError:
            link.stats["refused"] += 1
            abort_with_reset(writer)
            return
        for end in (writer, upstream[1]):
            sock = end.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pipe = Pipe(link, (reader, writer), upstream)
        link.pipes.add(pipe)
        try:
            await pipe.run()
        finally:
            link.pipes.discard(pipe)

    def command(self, line):
        words = line.split()
        if words == ["stats"]:
            return json.dumps({n: link.stats for n, link in self.links.items()})
        if len(words) < 2 or words[1] not in self.links:
            return "error: want 'delay LINK MS', 'stall LINK', 'reset LINK', 'heal LINK', " \
                   "'stats'; links: %s" % ", ".join(self.links)
        link = self.links[words[1]]
        if words[0] == "delay" and len(words) in (3, 4) and words[2].isdigit() and \
                words[3:] in ([], ["old"]):
            delay_s = int(words[2]) / 1000.0
            if len(words) == 3:
                link.delay_s = delay_s
            for pipe in link.pipes:
                pipe.delay_s = delay_s
        elif words[0] == "stall" and len(words) == 2:
            link.flowing.clear()
        elif words[0] == "reset" and len(words) == 2:
            link.refusing = True
            for pipe in list(link.pipes):
                link.stats["reset"] += 1
                pipe.reset()
        elif words[0] == "heal" and len(words) == 2:
            link.heal()
            for pipe in link.pipes:
                pipe.delay_s = 0.0
        else:
            return "error: cannot parse '%s'" % line.strip()
        return "ok"

    async def control(self, reader, writer):
        line = (await reader.readline()).decode(errors="replace")
        writer.write((self.command(line) + "\n").encode())
        await writer.drain()
        writer.close()

    async def serve(self, control_path, ready_path):
        servers = []
        for link in self.links.values():
            servers.append(await asyncio.start_server(
                lambda r, w, link=link: self.accept(link, r, w), "127.0.0.1", link.listen_port,
                reuse_address=True))
        servers.append(await asyncio.start_unix_server(self.control, control_path))
        if ready_path:
            with open(ready_path, "w") as f:
                f.write("%d\n" % os.getpid())
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        for server in servers:
            server.close()


def send(control_path, line, timeout_s=5):
    """Sends one control line; returns the answer (raises RuntimeError on 'error: ...')."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout_s)
        s.connect(control_path)
        s.sendall((line + "\n").encode())
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    answer = answer.decode().strip()
    if not answer or answer.startswith("error"):
        raise RuntimeError("chaos_proxy %s: %s" % (line, answer or "no answer"))
    return answer


def parse_link(text):
    m = re.fullmatch(r"([\w.-]+)=(\d+)=((?:file|env):.+)", text)
    if not m:
        raise argparse.ArgumentTypeError("--link wants NAME=LISTEN_PORT=file:PATH or "
                                         "NAME=LISTEN_PORT=env:PATH:KEY, got %r" % text)
    return Link(m.group(1), int(m.group(2)), m.group(3))


def main(argv):
    parser = argparse.ArgumentParser(prog="chaos_proxy", description=__doc__.split("\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--control", required=True, help="the control socket's path")
    parser.add_argument("--link", action="append", type=parse_link, required=True,
                        help="NAME=LISTEN_PORT=UPSTREAM (repeatable)")
    parser.add_argument("--ready", default="", help="written once every listener is up")
    args = parser.parse_args(argv)
    if len({link.name for link in args.link}) != len(args.link):
        parser.error("two links share a name")

    async def run():
        await Proxy(args.link).serve(args.control, args.ready)

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
