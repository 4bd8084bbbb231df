"""Fault-injecting TCP proxies for chaos runs (scripts/chaos).

The kernel here has no netem, so delay and jitter are added in user space, the way Toxiproxy does
it: a process talks to its server through a `Link`, which forwards bytes both ways and can hold
each chunk for a delay plus jitter (order kept: a chunk never overtakes the one before it). A link
with several upstreams spreads connections over them round robin and skips one that refuses (the
load balancer in front of two gateways). When either side closes or resets, the other side is
closed too, so a client sees its server die the way it would without the proxy.

Loss and partition are not done here: they are real packet drops by iptables on a link's port
(scripts/chaos.py, `Firewall`), so TCP's own retransmission and timeouts are what the client sees.

Every link runs on one asyncio loop in a background thread; `Links` is the thread-safe handle.
"""
import asyncio
import random
import threading
import zlib


class Link:
    def __init__(self, name, upstreams, seed):
        self.name = name
        self.upstreams = list(upstreams)
        self.next = 0
        self.delay_s = 0.0
        self.jitter_s = 0.0
        self.random = random.Random(seed)
        self.server = None
        self.port = None
        self.connections = set()
        self.accepted = 0

    def hold(self):
        if self.delay_s <= 0 and self.jitter_s <= 0:
            return 0.0
        return self.delay_s + self.random.uniform(0, self.jitter_s)

    async def start(self):
        self.server = await asyncio.start_server(self.accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def connect_upstream(self):
        for _ in range(len(self.upstreams)):
            host, port = self.upstreams[self.next % len(self.upstreams)]
            self.next += 1
            try:
                return await asyncio.wait_for(asyncio.open_connection(host, port), 2)
            except (OSError, asyncio.TimeoutError):
                continue
        return None

    async def accept(self, client_reader, client_writer):
        self.accepted += 1
        upstream = await self.connect_upstream()
        if upstream is None:
            client_writer.close()
            return
        server_reader, server_writer = upstream
        pair = (client_writer, server_writer)
        self.connections.add(pair)
        try:
            await asyncio.gather(
                self.pump(client_reader, server_writer, pair), self.pump(server_reader, client_writer, pair),
                return_exceptions=True)
        finally:
            self.connections.discard(pair)
            for w in pair:
                w.close()

    async def pump(self, reader, writer, pair):
        loop = asyncio.get_running_loop()
        queue = asyncio.Queue()

        async def send():
            while True:
                due, data = await queue.get()
                if data is None:
                    return
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()

        sender = asyncio.create_task(send())
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                queue.put_nowait((loop.time() + self.hold(), data))
        except (OSError, asyncio.IncompleteReadError):
            pass
        queue.put_nowait((0, None))
        try:
            await sender
        except (OSError, ConnectionError):
            pass
        for w in pair:  # one side gone: the other goes too
            w.close()

    def reset(self):
        for pair in list(self.connections):
            for w in pair:
                w.transport.abort()


class Links:
    """The links of a run, on their own event loop thread."""

    def __init__(self, seed):
        self.seed = seed
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="chaos-links", daemon=True)
        self.thread.start()
        self.links = {}

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    def add(self, name, upstreams):
        link = Link(name, upstreams, zlib.crc32(f"{self.seed}:{name}".encode()))
        self._call(link.start())
        self.links[name] = link
        return link.port

    def set_delay(self, name, delay_ms, jitter_ms):
        link = self.links[name]

        async def apply():
            link.delay_s, link.jitter_s = delay_ms / 1000, jitter_ms / 1000

        self._call(apply())

    def reset(self, name):
        link = self.links[name]

        async def apply():
            link.reset()

        self._call(apply())

    def close(self):
        async def stop():
            for link in self.links.values():
                link.server.close()
                link.reset()

        try:
            self._call(stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
