"""A raw-socket websocket load client, lean enough never to be what is measured.

An ``asyncio.Protocol`` straight on the socket: the HTTP upgrade by hand, the
request frames built (and masked) once before the timed loop, the replies
parsed only as far as the header of each frame. Per reply it costs a frame
header, a byte search for ``"error"`` and, on every 16th reply, a full
``json.loads`` with the answer checked; the bursts of notifications are only
counted, the first and last checked. Everything not pre-built (a ping's pong,
the close frame) is masked at the time.

The scenarios at the bottom (``SCENARIOS``) are the anchors' columns; each
returns its numbers and the client's own CPU time (``time.process_time()`` of
this process: the client is one thread, so 100 % is one core saturated).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import statistics
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from benchmarks.load import Meter, ScenarioError, words_payload

__all__ = ["RawConnection", "SCENARIOS", "RawScenario", "connect", "mask_frame", "measure_scale"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _CONT, _CLOSE, _PING, _PONG = 0x1, 0x0, 0x8, 0x9, 0xA
CHECK_EVERY = 16  # full json check of one reply in this many


def mask_frame(payload: bytes, opcode: int = _TEXT) -> bytes:
    """Return one final client frame carrying ``payload``, masked with a fresh random key."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 2**16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = os.urandom(4)
    if n == 0:
        return header + key
    # XOR as one big integer: about 3 ms a MB, and only outside timed loops.
    keystream = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "little") ^ int.from_bytes(keystream, "little")).to_bytes(n, "little")
    return header + key + masked


def add_frame(i: int) -> bytes:
    return mask_frame(b'{"jsonrpc":"2.0","id":%d,"method":"add","params":[%d,1]}' % (i, i))


_ADD_FRAMES: list[bytes] = []


def add_frames(count: int = 4096) -> list[bytes]:
    """Pre-built masked add(i, 1) requests with ids 1..count, reused round to round.

    No id is 0: rpc-websockets takes a request with id 0 for a notification
    (``if (!message.id) return``) and never answers it.
    """
    while len(_ADD_FRAMES) < count:
        _ADD_FRAMES.append(add_frame(len(_ADD_FRAMES) + 1))
    return _ADD_FRAMES


def check_add_reply(data: bytes) -> None:
    """Check one reply to add(i, 1) in full: its result is its id + 1."""
    reply = json.loads(data)
    if not isinstance(reply, dict) or reply.get("result") != reply.get("id", 0) + 1:
        raise ScenarioError(f"wrong answer to add: {data[:200]!r}")


class RawConnection(asyncio.Protocol):
    """One client websocket on a bare asyncio transport.

    Whole messages go to ``on_message(data)``, by default a queue that
    :meth:`recv` reads; the pipelined scenarios replace it with a callback,
    and frames they hand to :meth:`queue_write` while a read is handled go
    out in one write when it ends.
    """

    def __init__(self, host: str, port: int, path: str) -> None:
        self._key = base64.b64encode(os.urandom(16))
        self._request = (b"GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                         % (path.encode(), host.encode(), port, self._key))
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self._handshaken = False
        self._buffer = bytearray()
        self._need = 0  # bytes the buffer must hold before a frame can be complete
        self._parts: list[bytes] | None = None
        self._outbox: list[bytes] = []
        self._inbox: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.error: Exception | None = None
        self.on_message: Callable[[bytes], None] = self._enqueue
        #: Called once when the connection fails (lost, closed by the server, a bad frame).
        self.on_error: Callable[[Exception], None] | None = None

    # --- asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self._request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self._handshaken:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self._check_handshake(bytes(buffer[:end]))
            del buffer[:end + 4]
            self._handshaken = True
            if not self.opened.done():
                self.opened.set_result(None)
        if len(buffer) < self._need:
            return
        try:
            self._parse(buffer)
        except ScenarioError as exc:
            self.fail(exc)
        if self._outbox and self.transport is not None:
            self.transport.write(b"".join(self._outbox) if len(self._outbox) > 1 else self._outbox[0])
            self._outbox.clear()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.closed.done():
            self.closed.set_result(None)
        if not self.opened.done():
            self.opened.set_exception(ScenarioError(f"connection lost during the handshake: {exc}"))
        self.fail(ScenarioError(f"connection lost: {exc}"))

    # --- frames

    def _check_handshake(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        if b" 101 " not in lines[0]:
            raise ScenarioError(f"handshake refused: {lines[0][:200]!r}")
        accept = base64.b64encode(hashlib.sha1(self._key + _GUID).digest())
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
        if headers.get(b"sec-websocket-accept") != accept:
            raise ScenarioError("handshake: wrong Sec-WebSocket-Accept")

    def _parse(self, buffer: bytearray) -> None:
        pos, size = 0, len(buffer)
        self._need = 0
        while size - pos >= 2:
            b0, b1 = buffer[pos], buffer[pos + 1]
            length, start = b1 & 0x7F, pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length, start = int.from_bytes(buffer[pos + 2:pos + 4], "big"), pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, start = int.from_bytes(buffer[pos + 2:pos + 10], "big"), pos + 10
            if b1 & 0x80:
                raise ScenarioError("the server sent a masked frame")
            end = start + length
            if end > size:
                self._need = end - pos
                break
            if length < 65536:
                payload = bytes(buffer[start:end])
            else:  # one copy, not two, of a large payload
                with memoryview(buffer) as view:
                    payload = bytes(view[start:end])
            pos = end
            opcode = b0 & 0x0F
            if opcode == _TEXT:
                if b0 & 0x80:
                    self.on_message(payload)
                else:
                    self._parts = [payload]
            elif opcode == _CONT and self._parts is not None:
                self._parts.append(payload)
                if b0 & 0x80:
                    message, self._parts = b"".join(self._parts), None
                    self.on_message(message)
            elif opcode == _PING:
                self.queue_write(mask_frame(payload, _PONG))
            elif opcode == _CLOSE:
                self.queue_write(mask_frame(payload[:2], _CLOSE))
                self.fail(ScenarioError(f"the server closed the connection: {payload[:200]!r}"))
            elif opcode != _PONG:
                raise ScenarioError(f"unexpected frame, opcode {opcode}")
        if pos:
            del buffer[:pos]

    # --- the client's side

    def queue_write(self, frame: bytes) -> None:
        """Send ``frame`` at the end of the read being handled."""
        self._outbox.append(frame)

    def write(self, frame: bytes) -> None:
        """Send ``frame`` now."""
        if self.transport is None:
            raise ScenarioError("the connection is closed")
        self.transport.write(frame)

    def _enqueue(self, data: bytes) -> None:
        self._inbox.append(data)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def fail(self, error: Exception) -> None:
        """Record ``error``; wake whoever waits on this connection."""
        if self.error is not None:
            return
        self.error = error
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        if self.on_error is not None:
            self.on_error(error)

    async def recv(self) -> bytes:
        """Return the next whole message (the default ``on_message`` only).

        No timeout of its own (``wait_for`` per message would cost the client
        more than the frame does): the runner bounds every scenario, and a
        lost connection wakes the waiter.
        """
        while not self._inbox:
            if self.error is not None:
                raise self.error
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._inbox.popleft()

    async def call(self, method: str, *params: Any) -> Any:
        """Call ``method`` and return its result, skipping notifications (not for timed loops)."""
        self.write(mask_frame(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                          "params": params}).encode()))
        while True:
            reply = json.loads(await self.recv())
            if "id" in reply:
                break
        if "error" in reply:
            raise ScenarioError(f"{method} failed: {str(reply['error'])[:200]}")
        return reply.get("result")

    async def close(self) -> None:
        """Send a close frame and drop the connection without waiting for the server's."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(mask_frame(struct.pack("!H", 1000), _CLOSE))
            self.transport.close()
        await asyncio.wait_for(asyncio.shield(self.closed), 10)


async def connect(url: str) -> RawConnection:
    """Open a :class:`RawConnection` to ``url`` (``ws://127.0.0.1:PORT/``) and finish the handshake."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    loop = asyncio.get_running_loop()
    _, connection = await loop.create_connection(
        lambda: RawConnection(host, port, parts.path or "/"), host, port)
    await asyncio.wait_for(connection.opened, 30)
    return connection


async def warm_up(ws: RawConnection, calls: int = 20) -> None:
    frames = add_frames()
    for i in range(calls):
        ws.write(frames[i])
        check_add_reply(await ws.recv())


# --- scenarios ------------------------------------------------------------------------------


async def sequential_calls(url: str, meter: Meter, *, count: int, max_seconds: float) -> dict[str, float]:
    """One add() at a time on one connection: calls/s, p50 and p99 latency."""
    frames = add_frames()
    latencies: list[float] = []
    ws = await connect(url)
    try:
        await warm_up(ws)
        deadline = time.perf_counter() + max_seconds
        clock, recv, write = time.perf_counter, ws.recv, ws.write
        with meter:
            for i in range(count):
                start = clock()
                write(frames[i % len(frames)])
                reply = await recv()
                end = clock()
                latencies.append(end - start)
                if b'"error"' in reply or i % CHECK_EVERY == 0:
                    check_add_reply(reply)
                if end > deadline:
                    break
    finally:
        await ws.close()
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"ops": len(latencies), "calls/s": len(latencies) / meter.wall,
            "p50 ms": statistics.median(latencies) * 1e3, "p99 ms": quantiles[98] * 1e3}


class Pipeline:
    """Keeps ``window`` add() calls in flight on one connection; each reply releases the next request."""

    def __init__(self, ws: RawConnection, count: int, window: int, deadline: float) -> None:
        self.ws, self.count, self.window, self.deadline = ws, count, window, deadline
        self.frames = add_frames()
        self.sent = self.answered = 0
        self.stopped = False  # out of time: send no more, wait for the replies still due
        self.done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        ws.on_message = self.on_reply
        ws.on_error = self.on_error

    def on_error(self, error: Exception) -> None:
        if not self.done.done():
            self.done.set_exception(error)

    def start(self) -> None:
        first = min(self.window, self.count)
        self.ws.write(b"".join(self.frames[i % len(self.frames)] for i in range(first)))
        self.sent = first

    def on_reply(self, data: bytes) -> None:
        answered = self.answered = self.answered + 1
        if b'"error"' in data or answered % CHECK_EVERY == 0:
            try:
                check_add_reply(data)
            except ScenarioError as exc:
                self.on_error(exc)
                return
        if self.sent < self.count and not self.stopped:
            if answered % 64 == 0 and time.perf_counter() >= self.deadline:  # the clock, once in 64 replies
                self.stopped = True
            else:
                self.ws.queue_write(self.frames[self.sent % len(self.frames)])
                self.sent += 1
                return
        if answered == self.sent and not self.done.done():
            self.done.set_result(answered)


async def calls_in_flight(url: str, meter: Meter, *, count: int, max_seconds: float, window: int = 64,
                          connections: int = 1) -> dict[str, float]:
    """``window`` add() calls in flight on each of ``connections`` connections: calls/s."""
    clients = [await connect(url) for _ in range(connections)]
    try:
        for ws in clients:
            await warm_up(ws)
        deadline = time.perf_counter() + max_seconds
        pipelines = [Pipeline(ws, count, window, deadline) for ws in clients]
        with meter:
            for pipeline in pipelines:
                pipeline.start()
            answered = await asyncio.wait_for(asyncio.gather(*(p.done for p in pipelines)), max_seconds + 30)
    finally:
        await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)
    return {"ops": sum(answered), "calls/s": sum(answered) / meter.wall}


async def notification_throughput(url: str, meter: Meter, *, count: int, max_seconds: float) -> dict[str, float]:
    """The server pushes ``count`` notifications on one request: notifications/s received."""
    ws = await connect(url)
    try:
        await warm_up(ws)
        received: list[int] = [0]
        first_last: list[bytes] = []
        done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        def on_message(data: bytes) -> None:
            if b'"burst"' in data:
                received[0] += 1
                if received[0] == 1 or received[0] == count:
                    first_last.append(data)
            elif not done.done():
                done.set_result(data)

        await ws.call("notify_burst", 10)  # the first burst of a server process can be slow (lazy set-up)
        ws.on_message = on_message
        def on_error(error: Exception) -> None:
            if not done.done():
                done.set_exception(error)

        ws.on_error = on_error
        request = mask_frame(b'{"jsonrpc":"2.0","id":1,"method":"notify_burst","params":[%d]}' % count)
        with meter:
            ws.write(request)
            reply = await asyncio.wait_for(done, max_seconds + 30)
            give_up = time.perf_counter() + 5
            while received[0] < count and ws.error is None and time.perf_counter() < give_up:
                await asyncio.sleep(0.001)  # in case a server's reply overtakes its notifications
        if ws.error is not None:
            raise ws.error
    finally:
        await ws.close()
    answer = json.loads(reply)
    if answer.get("result") != count or received[0] != count:
        raise ScenarioError(f"notify_burst({count}): {received[0]} notifications, reply {reply[:200]!r}")
    params = [json.loads(data)["params"]["i"] for data in first_last]
    if params != [0, count - 1][:len(params)]:
        raise ScenarioError(f"notifications out of order: first and last were {params}")
    return {"ops": count, "notifications/s": count / meter.wall}


async def _round_trips(url: str, meter: Meter, frame: bytes, count: int, max_seconds: float,
                       check: Callable[[bytes, int], None]) -> int:
    """Write ``frame`` and wait for its reply, one at a time, ``count`` times or until ``max_seconds``: the replies.

    ``check(reply, i)`` raises ScenarioError for a wrong reply.
    """
    ws = await connect(url)
    try:
        await warm_up(ws)
        deadline = time.perf_counter() + max_seconds
        done = 0
        with meter:
            for i in range(count):
                ws.write(frame)
                check(await ws.recv(), i)
                done += 1
                if time.perf_counter() > deadline:
                    break
    finally:
        await ws.close()
    return done


async def large_round_trip(url: str, meter: Meter, *, size: int, count: int,
                           max_seconds: float) -> dict[str, float]:
    """Echo a ``size``-character string ``count`` times, one at a time: MB/s each way."""
    payload = words_payload(size).encode()
    frame = mask_frame(b'{"jsonrpc":"2.0","id":1,"method":"echo","params":["%s"]}' % payload)
    expected = len(payload) + 2  # the quoted string, as every server encodes this ASCII text

    def check(reply: bytes, i: int) -> None:
        start = reply.find(b'"result"')
        if start < 0 or len(reply) - start < expected:
            raise ScenarioError(f"echo of {size} characters answered {reply[:200]!r}")
        if i == 0 and len(json.loads(reply)["result"]) != size:
            raise ScenarioError(f"echo of {size} characters came back changed")

    done = await _round_trips(url, meter, frame, count, max_seconds, check)
    return {"ops": done, "MB/s": done * size / 1e6 / meter.wall, "ms/round trip": meter.wall / done * 1e3}


def batch_frame(size: int) -> bytes:
    """A masked frame holding a batch of ``size`` add() calls (ids 1 to size, each adding 1 to its id)."""
    return mask_frame(("[" + ",".join('{"jsonrpc":"2.0","id":%d,"method":"add","params":[%d,1]}' % (i, i)
                                      for i in range(1, size + 1)) + "]").encode())


def check_batch_reply(reply: bytes, size: int) -> None:
    """Raise ScenarioError unless ``reply`` answers :func:`batch_frame`'s batch in full."""
    replies = json.loads(reply)
    if not isinstance(replies, list) or len(replies) != size:
        raise ScenarioError(f"batch of {size} answered {reply[:200]!r}")
    for member in replies:
        if member.get("result") != member.get("id", 0) + 1:
            raise ScenarioError(f"wrong answer in a batch: {member}")


async def batches(url: str, meter: Meter, *, count: int, max_seconds: float, size: int = 100) -> dict[str, float]:
    """Batches of ``size`` add() calls, one batch at a time: calls/s."""
    def check(reply: bytes, i: int) -> None:
        if b'"error"' in reply or i % CHECK_EVERY == 0:
            check_batch_reply(reply, size)

    done = await _round_trips(url, meter, batch_frame(size), count, max_seconds, check)
    return {"ops": done * size, "calls/s": done * size / meter.wall}


# --- scale: many clients --------------------------------------------------------------------

_CONNECT_CHUNK = 50  # below the listen backlog of 100 (Node's default is 511), so no SYN is dropped


async def open_many(url: str, n: int) -> list[RawConnection]:
    clients: list[RawConnection] = []
    try:
        for start in range(0, n, _CONNECT_CHUNK):
            clients += await asyncio.gather(*(connect(url) for _ in range(min(_CONNECT_CHUNK, n - start))))
    except BaseException:
        await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)
        raise
    return clients


async def measure_scale(url: str, rss_kib: Callable[[], int], meter: Meter, *, clients: int, calls: int,
                        notifications: int, max_seconds: float) -> dict[str, float]:
    """``clients`` connections at once: RSS per connection, calls/s with all calling, a broadcast's deliveries/s.

    ``meter`` times the calls (server and client CPU); the caller gives a
    fresh server, warmed up by one short connection.
    """
    rss_idle = rss_kib()
    connections = await open_many(url, clients)
    try:
        await asyncio.sleep(0.05)  # let the server finish its side of the last handshakes
        rss_connected = rss_kib()
        per_client = max(2, calls // clients)
        deadline = time.perf_counter() + max_seconds
        # One call at a time on each connection, each reply releasing the next request from
        # its read callback: no coroutine or future per call, so 500 clients cost the client little.
        pipelines = [Pipeline(ws, per_client, 1, deadline) for ws in connections]
        with meter:
            for pipeline in pipelines:
                pipeline.start()
            done = await asyncio.wait_for(asyncio.gather(*(p.done for p in pipelines)), max_seconds + 60)
        calls_per_s = sum(done) / meter.wall

        per_burst = max(5, notifications // clients)
        counts = [0] * clients
        finished = asyncio.get_running_loop().create_future()
        remaining = [clients * per_burst]

        def counter(index: int) -> Callable[[bytes], None]:
            def on_message(data: bytes) -> None:
                if b'"burst"' in data:
                    counts[index] += 1
                    remaining[0] -= 1
                    if remaining[0] == 0 and not finished.done():
                        finished.set_result(None)
            return on_message

        def on_error(error: Exception) -> None:
            if not finished.done():
                finished.set_exception(error)

        for index, ws in enumerate(connections):
            ws.on_message = counter(index)
            ws.on_error = on_error
        start = time.perf_counter()
        connections[0].write(mask_frame(
            b'{"jsonrpc":"2.0","id":1,"method":"notify_burst","params":[%d]}' % per_burst))
        await asyncio.wait_for(finished, max_seconds + 60)
        deliveries_per_s = clients * per_burst / (time.perf_counter() - start)
        rss_loaded = rss_kib()
    finally:
        await asyncio.gather(*(ws.close() for ws in connections), return_exceptions=True)
    return {
        "ops": sum(done),
        "calls/s": calls_per_s,
        "deliveries/s": deliveries_per_s,
        "RSS idle MiB": rss_idle / 1024,
        "KiB/connection": (rss_connected - rss_idle) / clients,
        "RSS loaded MiB": rss_loaded / 1024,
    }


# --- the catalogue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RawScenario:
    """A column of the anchors' table: its function, headline metrics and sizes per mode."""

    name: str
    run: Callable[..., Any]
    metrics: tuple[str, ...]  # the headline metrics, first the main one
    description: str
    full: dict[str, Any]
    quick: dict[str, Any]
    smoke: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    lower_is_better: tuple[str, ...] = ()

    def params(self, mode: str) -> dict[str, Any]:
        return {**self.extra, **getattr(self, mode)}


# Full and quick counts are high enough that the time bound usually ends a timed loop (the
# fastest servers run it for about max_seconds), so a figure is not taken over a few tens of
# milliseconds. notify is one burst: its count alone sets its length (about 1 s at 200,000/s).
SCENARIOS: dict[str, RawScenario] = {s.name: s for s in [
    RawScenario("sequential", sequential_calls, ("p50 ms", "p99 ms", "calls/s"),
                "one add() at a time on one connection",
                full=dict(count=100_000, max_seconds=3), quick=dict(count=40_000, max_seconds=1.5),
                smoke=dict(count=50, max_seconds=1), lower_is_better=("p50 ms", "p99 ms")),
    RawScenario("inflight64", calls_in_flight, ("calls/s",), "64 add() calls in flight on one connection",
                full=dict(count=1_000_000, max_seconds=3), quick=dict(count=400_000, max_seconds=1.5),
                smoke=dict(count=300, max_seconds=1), extra=dict(window=64)),
    RawScenario("conns8x64", calls_in_flight, ("calls/s",), "8 connections, 64 calls in flight on each",
                full=dict(count=200_000, max_seconds=3), quick=dict(count=80_000, max_seconds=1.5),
                smoke=dict(count=100, max_seconds=1), extra=dict(window=64, connections=8)),
    RawScenario("notify", notification_throughput, ("notifications/s",),
                "a burst of server->client notifications on one connection",
                full=dict(count=200_000, max_seconds=5), quick=dict(count=80_000, max_seconds=3),
                smoke=dict(count=200, max_seconds=2)),
    RawScenario("echo1MB", large_round_trip, ("MB/s",), "round trips of a 1 MB string",
                full=dict(count=1000, max_seconds=3), quick=dict(count=400, max_seconds=1.5),
                smoke=dict(count=2, max_seconds=2), extra=dict(size=1_000_000)),
    RawScenario("echo16MB", large_round_trip, ("MB/s",), "round trips of a 16 MB string",
                full=dict(count=40, max_seconds=4), quick=dict(count=15, max_seconds=2),
                smoke=dict(count=1, max_seconds=5), extra=dict(size=16_000_000)),
    RawScenario("batch100", batches, ("calls/s",), "batches of 100 add() calls, one batch at a time",
                full=dict(count=20_000, max_seconds=3), quick=dict(count=8000, max_seconds=1.5),
                smoke=dict(count=3, max_seconds=1), extra=dict(size=100)),
]}
