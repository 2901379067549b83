"""The load client: one coroutine per scenario, run against any benchmark server.

Every scenario opens its own connection(s), warms up, then times a loop that
is bounded both in count and in time (``max_seconds``), and returns a dict of
numbers. Both servers answer the same methods, so every scenario runs
unchanged against the baseline and against the kernel.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import enable_client_permessage_deflate
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from benchmarks.serving import MAX_MESSAGE_SIZE

__all__ = [
    "SCENARIOS",
    "Meter",
    "Scenario",
    "ScenarioError",
    "add_request",
    "call",
    "check_add",
    "open_client",
    "words_payload",
]


class ScenarioError(Exception):
    """The server answered wrongly: an error, a missing message, a wrong value."""


def open_client(url: str, compression: str | None = None) -> connect:
    """Return the connect() context manager every scenario uses."""
    return connect(
        url,
        compression=compression,
        max_size=MAX_MESSAGE_SIZE + 2**20,
        ping_interval=None,
        open_timeout=30,
        close_timeout=5,
    )


class Meter:
    """Times a block: wall clock, client CPU and, if given, server CPU."""

    def __init__(self, server_cpu: Callable[[], float] | None = None) -> None:
        self._server_cpu = server_cpu or (lambda: 0.0)
        self.wall = self.client_cpu = self.server_cpu = 0.0

    def __enter__(self) -> Meter:
        # Asking the server takes a round trip: keep it outside the timed span.
        server = self._server_cpu()
        self._start = (time.perf_counter(), time.process_time(), server)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        wall, client, server = self._start
        self.wall = time.perf_counter() - wall
        self.client_cpu = time.process_time() - client
        self.server_cpu = self._server_cpu() - server


def add_request(i: int) -> str:
    """Return the text of request ``i``: ``add(i, 1)`` with id ``i``."""
    return '{"jsonrpc":"2.0","id":%d,"method":"add","params":[%d,1]}' % (i, i)


def check_add(reply: Any) -> None:
    """Raise ScenarioError unless ``reply`` answers an add_request() rightly."""
    if reply.get("result") != reply.get("id", 0) + 1:
        raise ScenarioError(f"wrong answer to add: {str(reply)[:200]}")


async def call(ws: ClientConnection, method: str, *params: Any) -> Any:
    """Call ``method`` and return its result, skipping notifications."""
    await ws.send(json.dumps({"jsonrpc": "2.0", "id": 0, "method": method, "params": params}))
    while True:
        reply = json.loads(await ws.recv())
        if "id" in reply:
            break
    if "error" in reply:
        raise ScenarioError(f"{method} failed: {str(reply['error'])[:200]}")
    return reply.get("result")


async def _warm_up(ws: ClientConnection, calls: int = 20) -> None:
    for i in range(calls):
        await ws.send(add_request(i))
        check_add(json.loads(await ws.recv()))


# --- scenarios -------------------------------------------------------------------


async def sequential_calls(url: str, meter: Meter, *, count: int, max_seconds: float,
                           compression: str | None = None) -> dict[str, float]:
    """One call at a time on one connection: latency percentiles and calls/s."""
    latencies = []
    async with open_client(url, compression) as ws:
        await _warm_up(ws)
        deadline = time.perf_counter() + max_seconds
        with meter:
            for i in range(count):
                start = time.perf_counter()
                await ws.send(add_request(i))
                reply = json.loads(await ws.recv())
                end = time.perf_counter()
                check_add(reply)
                latencies.append(end - start)
                if end > deadline:
                    break
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "ops": len(latencies),
        "calls/s": len(latencies) / meter.wall,
        "p50 ms": statistics.median(latencies) * 1e3,
        "p99 ms": quantiles[98] * 1e3,
    }


class _PipelinedClient(asyncio.Protocol):
    """Keeps ``window`` add() calls in flight on one connection, as lean as a Python client gets.

    It speaks websockets' own Sans-I/O client protocol straight over an
    asyncio transport, and frames the requests that answers release in one
    write. Both servers face this same client; a client on ``connect()``,
    ``send()`` and ``recv()`` used more CPU per call than the kernel does
    (it was at 99 % while the kernel was not), so the pipelined scenarios
    measured the client.
    """

    def __init__(self, url: str, compression: str | None) -> None:
        extensions = enable_client_permessage_deflate(None) if compression == "deflate" else None
        self.ws = ClientProtocol(parse_uri(url), extensions=extensions, max_size=MAX_MESSAGE_SIZE + 2**20)
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.finished: asyncio.Future[int] | None = None
        self.error: Exception | None = None
        self.sent = self.answered = self.count = 0
        self.deadline = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.ws.send_request(self.ws.connect())
        self._write()

    def _write(self) -> None:
        assert self.transport is not None
        data = self.ws.data_to_send()
        if data:
            self.transport.write(b"".join(data))

    def data_received(self, data: bytes) -> None:
        self.ws.receive_data(data)
        try:
            for event in self.ws.events_received():
                if isinstance(event, Frame):
                    if event.opcode is Opcode.TEXT:
                        self._answer(event)
                elif self.ws.handshake_exc is not None:
                    raise ScenarioError(f"handshake failed: {self.ws.handshake_exc}")
                elif not self.opened.done():
                    self.opened.set_result(None)
        except ScenarioError as exc:
            self._finish(exc)
        self._write()

    def _answer(self, frame: Frame) -> None:
        if not frame.fin:
            raise ScenarioError("a reply came fragmented")
        reply = json.loads(frame.data)
        if "id" not in reply:
            return  # a notification
        check_add(reply)
        self.answered += 1
        if self.sent < self.count and time.perf_counter() < self.deadline:
            self.ws.send_text(add_request(self.sent).encode())
            self.sent += 1
        elif self.answered == self.sent:
            self._finish(None)

    def _finish(self, error: Exception | None) -> None:
        if self.finished is not None and not self.finished.done():
            if error is None:
                self.finished.set_result(self.answered)
            else:
                self.finished.set_exception(error)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        lost = ScenarioError(f"connection lost: {exc}")
        if not self.opened.done():
            self.opened.set_exception(lost)
        self._finish(lost)

    async def run(self, count: int, window: int, deadline: float) -> int:
        """Keep ``window`` calls in flight until ``count`` are answered or time runs out; return how many were."""
        if self.transport is None or self.transport.is_closing():
            raise ScenarioError("the connection is closed")
        self.finished = asyncio.get_running_loop().create_future()
        self.count, self.deadline, self.sent, self.answered = count, deadline, 0, 0
        for _ in range(min(window, count)):
            self.ws.send_text(add_request(self.sent).encode())
            self.sent += 1
        self._write()
        return await self.finished

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.ws.send_close()
            self._write()
            self.transport.close()


async def open_pipelined(url: str, compression: str | None = None) -> _PipelinedClient:
    """Connect a :class:`_PipelinedClient` to ``url`` and wait for the handshake."""
    uri = parse_uri(url)
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: _PipelinedClient(url, compression), uri.host, uri.port)
    await asyncio.wait_for(client.opened, 30)
    return client


async def calls_in_flight(url: str, meter: Meter, *, count: int, max_seconds: float,
                          window: int = 64, connections: int = 1,
                          compression: str | None = None) -> dict[str, float]:
    """``window`` calls in flight on each of ``connections`` connections: calls/s."""
    clients = [await open_pipelined(url, compression) for _ in range(connections)]
    try:
        for client in clients:
            await client.run(20, 1, time.perf_counter() + 30)  # warm up
        deadline = time.perf_counter() + max_seconds
        with meter:
            answered = await asyncio.gather(*(client.run(count, window, deadline) for client in clients))
    finally:
        for client in clients:
            client.close()
    return {"ops": sum(answered), "calls/s": sum(answered) / meter.wall}


async def notification_throughput(url: str, meter: Meter, *, count: int, max_seconds: float,
                                  compression: str | None = None) -> dict[str, float]:
    """The server pushes ``count`` notifications on request: notifications/s received."""
    async def receive_burst(ws: ClientConnection) -> int:
        received = 0
        answered = False
        await ws.send(json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "notify_burst", "params": [count]}))
        while received < count or not answered:
            message = json.loads(await ws.recv())
            if message.get("method") == "burst":
                if message["params"]["i"] != received:
                    raise ScenarioError(
                        f"notification {message['params']['i']} arrived as number {received}")
                received += 1
            elif "id" in message:
                if message.get("result") != count:
                    raise ScenarioError(f"notify_burst answered {str(message)[:200]}")
                answered = True
        return received

    async with open_client(url, compression) as ws:
        await _warm_up(ws)
        with meter:
            received = await asyncio.wait_for(receive_burst(ws), max_seconds)
    return {"ops": received, "notifications/s": received / meter.wall}


async def idle_notification_delay(url: str, meter: Meter, *, count: int, max_seconds: float,
                                  delay_ms: float = 20, thread: bool = False,
                                  compression: str | None = None) -> dict[str, float]:
    """A timer in the server raises a notification while the connection is idle.

    The delay is from the moment the timer fires (stamped by the server with
    ``time.monotonic()``, the same clock on the same machine) to its arrival.
    """
    async def one_delay(ws: ClientConnection, i: int) -> float:
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": i, "method": "notify_after",
                                  "params": [delay_ms, thread]}))
        answered = False
        while True:
            message = json.loads(await ws.recv())
            if message.get("method") == "timer":
                delay = time.monotonic() - message["params"]["fired"]
                break
            if "error" in message:
                raise ScenarioError(f"notify_after failed: {message['error']}")
            answered = True
        if not answered:  # the reply to notify_after came after the notification
            json.loads(await ws.recv())
        return float(delay)

    delays = []
    async with open_client(url, compression) as ws:
        await _warm_up(ws)
        deadline = time.perf_counter() + max_seconds
        with meter:
            for i in range(count):
                delays.append(await asyncio.wait_for(one_delay(ws, i), delay_ms / 1000 + 5))
                if time.perf_counter() > deadline:
                    break
    quantiles = statistics.quantiles(delays, n=100) if len(delays) > 1 else delays * 99
    return {"ops": len(delays), "median ms": statistics.median(delays) * 1e3,
            "p99 ms": quantiles[98] * 1e3}


_WORDS = ("kernel", "window", "plugin", "message", "request", "answer", "file", "list",
          "gear", "side", "value", "number", "json", "the", "of", "and", "a", "to")


def words_payload(size: int) -> str:
    """Return ``size`` characters of text made of words, as an app would send.

    A 64 KiB block of seeded random words is repeated: deflate's window is
    32 KiB, so the block compresses like real text rather than like ``"x" * n``.
    """
    rng = random.Random(6)
    block = " ".join(rng.choice(_WORDS) for _ in range(12000))[: 2**16]
    return (block * (size // len(block) + 1))[:size]


async def large_round_trip(url: str, meter: Meter, *, size: int, count: int, max_seconds: float,
                           compression: str | None = None) -> dict[str, float]:
    """Echo a ``size``-character string ``count`` times: MB/s each way."""
    payload = words_payload(size)
    request = '{"jsonrpc":"2.0","id":1,"method":"echo","params":["%s"]}' % payload
    async with open_client(url, compression) as ws:
        await _warm_up(ws)
        deadline = time.perf_counter() + max_seconds
        done = 0
        with meter:
            for _ in range(count):
                await ws.send(request)
                reply = json.loads(await ws.recv())
                if len(reply.get("result") or "") != size:
                    raise ScenarioError(f"echo of {size} characters answered {str(reply)[:200]}")
                done += 1
                if time.perf_counter() > deadline:
                    break
    return {"ops": done, "MB/s": done * size / 1e6 / meter.wall,
            "ms/round trip": meter.wall / done * 1e3}


async def batches(url: str, meter: Meter, *, count: int, max_seconds: float, size: int = 100,
                  compression: str | None = None) -> dict[str, float]:
    """Send batches of ``size`` calls, one batch at a time: calls/s."""
    batch = "[" + ",".join(add_request(i) for i in range(size)) + "]"
    async with open_client(url, compression) as ws:
        await _warm_up(ws)
        deadline = time.perf_counter() + max_seconds
        done = 0
        with meter:
            for _ in range(count):
                await ws.send(batch)
                replies = json.loads(await ws.recv())
                if not isinstance(replies, list) or len(replies) != size:
                    raise ScenarioError(f"batch of {size} answered {str(replies)[:200]}")
                for reply in replies:
                    check_add(reply)
                done += 1
                if time.perf_counter() > deadline:
                    break
    return {"ops": done * size, "calls/s": done * size / meter.wall}


# --- the catalogue -------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A scenario, its headline metric, its target and its sizes per mode."""

    name: str
    run: Callable[..., Any]
    metric: str
    higher_is_better: bool
    description: str
    full: dict[str, Any]
    quick: dict[str, Any]
    smoke: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    min_ratio: float | None = None  # kernel/baseline must reach this
    max_value: float | None = None  # kernel's median must stay under this

    def params(self, mode: str) -> dict[str, Any]:
        return {**self.extra, **getattr(self, mode)}


SCENARIOS: dict[str, Scenario] = {s.name: s for s in [
    Scenario("sequential", sequential_calls, "calls/s", True,
             "one call at a time on one connection (p50/p99 latency too)",
             full=dict(count=4000, max_seconds=10), quick=dict(count=1000, max_seconds=3),
             smoke=dict(count=50, max_seconds=2), min_ratio=0.90),
    Scenario("inflight64", calls_in_flight, "calls/s", True,
             "64 calls in flight on one connection",
             full=dict(count=30000, max_seconds=10), quick=dict(count=8000, max_seconds=3),
             smoke=dict(count=300, max_seconds=2), extra=dict(window=64), min_ratio=0.90),
    Scenario("conns8x64", calls_in_flight, "calls/s", True,
             "8 connections, 64 calls in flight on each",
             full=dict(count=5000, max_seconds=10), quick=dict(count=1000, max_seconds=3),
             smoke=dict(count=100, max_seconds=2), extra=dict(window=64, connections=8),
             min_ratio=0.90),
    Scenario("notify", notification_throughput, "notifications/s", True,
             "kernel->client notifications pushed in a burst on one connection",
             full=dict(count=30000, max_seconds=15), quick=dict(count=10000, max_seconds=5),
             smoke=dict(count=200, max_seconds=3), min_ratio=0.90),
    Scenario("idle_timer", idle_notification_delay, "median ms", False,
             "delay of a notification raised by a loop timer (call_later) on an idle connection",
             full=dict(count=60, max_seconds=10), quick=dict(count=20, max_seconds=3),
             smoke=dict(count=3, max_seconds=2), extra=dict(delay_ms=20, thread=False),
             max_value=2.0),
    Scenario("idle_thread", idle_notification_delay, "median ms", False,
             "the same, raised from a threading.Timer (send_notification from another thread)",
             full=dict(count=60, max_seconds=10), quick=dict(count=20, max_seconds=3),
             smoke=dict(count=3, max_seconds=2), extra=dict(delay_ms=20, thread=True),
             max_value=2.0),
    Scenario("echo1MB", large_round_trip, "MB/s", True,
             "round trips of a 1 MB string (echo)",
             full=dict(count=40, max_seconds=10), quick=dict(count=10, max_seconds=3),
             smoke=dict(count=2, max_seconds=3), extra=dict(size=1_000_000), min_ratio=0.90),
    Scenario("echo16MB", large_round_trip, "MB/s", True,
             "round trips of a 16 MB string (echo; the kernel's default limit is 16 MiB)",
             full=dict(count=6, max_seconds=15), quick=dict(count=2, max_seconds=6),
             smoke=dict(count=1, max_seconds=5), extra=dict(size=16_000_000), min_ratio=0.90),
    Scenario("batch100", batches, "calls/s", True,
             "batches of 100 calls, one batch at a time",
             full=dict(count=300, max_seconds=10), quick=dict(count=60, max_seconds=3),
             smoke=dict(count=3, max_seconds=2), extra=dict(size=100), min_ratio=0.90),
]}
