"""What stop() promises: no new call starts, every request read is answered, every call ends, all in stop_timeout + 1 s."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import defaultdict

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from sidegears import hookimpl, rpc_method
from sidegears.testing import running_kernel

started: list[str] = []
finished: list[str] = []


@rpc_method(name="stop.work")
async def work(tag: str, seconds: float = 0.0) -> str:
    started.append(tag)
    try:
        await asyncio.sleep(seconds)
        return tag
    finally:
        finished.append(tag)


class ReadAndAnswered:
    """Records, per connection, the ids of requests read and of replies sent (from log_message)."""

    def __init__(self) -> None:
        self.read: dict[int, set] = defaultdict(set)
        self.answered: dict[int, set] = defaultdict(set)

    @hookimpl
    def log_message(self, connection, direction, message):
        if connection is None:
            return
        items = message if isinstance(message, list) else [message]
        for item in items:
            if not isinstance(item, dict) or "id" not in item:
                continue
            if direction == "in" and "method" in item:
                self.read[connection.id].add(item["id"])
            elif direction == "out" and "method" not in item:
                self.answered[connection.id].add(item["id"])


async def test_request_read_during_stop_is_answered_and_not_started() -> None:
    """A request that arrives while stop() waits for running calls gets -32000 at once; its method never starts."""
    started.clear()
    async with running_kernel(stop_timeout=3) as kernel:
        async with connect(kernel.url) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "stop.work", "params": ["first", 0.5], "id": 1}))
            await asyncio.sleep(0.1)
            stopping = asyncio.ensure_future(kernel.astop())
            await asyncio.sleep(0.1)
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "stop.work", "params": ["second"], "id": 2}))
            refused = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert refused["id"] == 2 and refused["error"]["code"] == -32000
            assert "stopping" in refused["error"]["data"]
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert first == {"jsonrpc": "2.0", "result": "first", "id": 1}
            await asyncio.wait_for(stopping, 5)
    assert started == ["first"]


async def test_every_started_call_ends_and_its_finally_runs() -> None:
    """Calls still running at stop_timeout are cancelled: each is answered -32000 and its finally block runs."""
    finished.clear()
    async with running_kernel(stop_timeout=0.2) as kernel:
        async with connect(kernel.url) as ws:
            for i in range(5):
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "stop.work", "params": [f"t{i}", 60], "id": i}))
            await asyncio.sleep(0.2)
            await kernel.astop()
            replies = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(5)]
    assert sorted(reply["id"] for reply in replies) == list(range(5))
    assert all(reply["error"]["code"] == -32000 for reply in replies)
    assert sorted(finished) == [f"t{i}" for i in range(5)]


def silent_client(port: int) -> socket.socket:
    """A client that completes the handshake, then never reads or answers anything (not even a close frame)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    return sock


async def test_stop_under_load_answers_every_request_read_within_stop_timeout_plus_one_second() -> None:
    """With 20 clients calling flat out and one that never answers a close frame, stop() answers all it read in time."""
    stop_timeout = 1.0
    ledger = ReadAndAnswered()
    async with running_kernel(stop_timeout=stop_timeout) as kernel:
        kernel.register_plugin(ledger)
        silent = await asyncio.to_thread(silent_client, kernel.port)
        stop = asyncio.Event()

        async def caller(n: int) -> None:
            try:
                async with connect(kernel.url) as ws:
                    i = 0
                    while not stop.is_set() and i < 100_000:
                        i += 1
                        message = {"jsonrpc": "2.0", "method": "stop.work", "params": [f"{n}", 0.001 * (i % 5)], "id": i}
                        await ws.send(json.dumps(message))
                        if i % 8 == 0:
                            await asyncio.sleep(0)
            except ConnectionClosed:
                pass

        callers = [asyncio.ensure_future(caller(n)) for n in range(20)]
        await asyncio.sleep(0.5)
        began = time.monotonic()
        await kernel.astop()
        took = time.monotonic() - began
        stop.set()
        await asyncio.wait(callers, timeout=5)
        silent.close()
    assert took < stop_timeout + 1.0, f"stop() took {took:.2f} s"
    assert sum(len(ids) for ids in ledger.read.values()) > 100  # the load was real
    for connection_id, ids in ledger.read.items():
        assert ids <= ledger.answered[connection_id], f"connection {connection_id}: {len(ids - ledger.answered[connection_id])} unanswered"
