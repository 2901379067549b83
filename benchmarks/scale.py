"""Scale: throughput and server memory with many connected clients, and leaks.

For each number of clients the server (a fresh process) is measured idle,
with every client connected, while every client makes calls, and while a
broadcast reaches all of them; then all disconnect and the server's count of
live objects (after ``gc.collect()``) must come back to where it was.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection

from benchmarks.load import ScenarioError, add_request, call, check_add, open_client
from benchmarks.serving import ServerProcess

__all__ = ["ScaleResult", "measure_clients", "server_objects"]

_CONNECT_CHUNK = 50  # below the listen backlog of 100, so no SYN is dropped


@dataclass
class ScaleResult:
    clients: int
    calls_per_s: float
    deliveries_per_s: float
    rss_idle_kib: int
    rss_connected_kib: int
    rss_loaded_kib: int
    rss_after_kib: int
    objects_idle: int
    objects_connected: int
    objects_after: int

    @property
    def kib_per_client(self) -> float:
        return (self.rss_connected_kib - self.rss_idle_kib) / self.clients

    @property
    def objects_per_client(self) -> float:
        return (self.objects_connected - self.objects_idle) / self.clients

    @property
    def objects_left_per_client(self) -> float:
        return (self.objects_after - self.objects_idle) / self.clients


async def server_objects(url: str) -> int:
    """Return the server's live object count, asked on a short-lived connection."""
    async with open_client(url) as ws:
        stats = await call(ws, "bench.stats")
    return int(stats["objects"])


async def _settled_objects(url: str, target: int, max_seconds: float) -> int:
    """Poll the object count until it falls to ``target`` or time runs out."""
    deadline = time.monotonic() + max_seconds
    objects = await server_objects(url)
    while objects > target and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        objects = await server_objects(url)
    return objects


async def _open_many(url: str, n: int) -> list[ClientConnection]:
    clients: list[ClientConnection] = []
    for start in range(0, n, _CONNECT_CHUNK):
        chunk = min(_CONNECT_CHUNK, n - start)
        clients += await asyncio.gather(*(open_client(url) for _ in range(chunk)))
    return clients


async def _make_calls(ws: ClientConnection, count: int, deadline: float) -> int:
    done = 0
    for i in range(count):
        await ws.send(add_request(i))
        while True:
            reply = json.loads(await ws.recv())
            if "id" in reply:
                break
        check_add(reply)
        done += 1
        if time.perf_counter() > deadline:
            break
    return done


async def _receive_burst(ws: ClientConnection, count: int, expect_reply: bool) -> None:
    received = 0
    answered = not expect_reply
    while received < count or not answered:
        message = json.loads(await ws.recv())
        if message.get("method") == "burst":
            received += 1
        elif "id" in message:
            if "error" in message:
                raise ScenarioError(f"notify_burst failed: {message['error']}")
            answered = True


async def measure_clients(server: ServerProcess, n: int, *, calls: int, notifications: int,
                          max_seconds: float) -> ScaleResult:
    """Measure ``server`` with ``n`` clients; see the module docstring."""
    url = server.url
    objects_idle = await server_objects(url)
    rss_idle = server.rss_kib()
    clients = await _open_many(url, n)
    try:
        objects_connected = await server_objects(url)
        rss_connected = server.rss_kib()

        per_client = max(2, calls // n)
        deadline = time.perf_counter() + max_seconds
        start = time.perf_counter()
        done = await asyncio.gather(*(_make_calls(ws, per_client, deadline) for ws in clients))
        calls_per_s = sum(done) / (time.perf_counter() - start)

        per_burst = max(5, notifications // n)
        start = time.perf_counter()
        receivers = asyncio.gather(
            *(_receive_burst(ws, per_burst, ws is clients[0]) for ws in clients))
        try:
            await clients[0].send(json.dumps(
                {"jsonrpc": "2.0", "id": 1, "method": "notify_burst", "params": [per_burst]}))
            await asyncio.wait_for(receivers, max_seconds + 30)
        finally:
            receivers.cancel()
        deliveries_per_s = n * per_burst / (time.perf_counter() - start)
        rss_loaded = server.rss_kib()
    finally:
        await asyncio.gather(*(ws.close() for ws in clients))
    objects_after = await _settled_objects(url, objects_idle, 5)
    return ScaleResult(
        clients=n,
        calls_per_s=calls_per_s,
        deliveries_per_s=deliveries_per_s,
        rss_idle_kib=rss_idle,
        rss_connected_kib=rss_connected,
        rss_loaded_kib=rss_loaded,
        rss_after_kib=server.rss_kib(),
        objects_idle=objects_idle,
        objects_connected=objects_connected,
        objects_after=objects_after,
    )


def describe(result: ScaleResult) -> dict[str, Any]:
    """Return the table row for one measurement."""
    return {
        "clients": result.clients,
        "calls/s": result.calls_per_s,
        "deliveries/s": result.deliveries_per_s,
        "RSS idle MiB": result.rss_idle_kib / 1024,
        "RSS connected MiB": result.rss_connected_kib / 1024,
        "KiB/client": result.kib_per_client,
        "objects/client": result.objects_per_client,
        "RSS loaded MiB": result.rss_loaded_kib / 1024,
        "objects left/client": result.objects_left_per_client,
    }
