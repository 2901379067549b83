"""What stop() promises: no new call starts, every request read is answered, every call ends, all in stop_timeout + 1 s."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import textwrap
import time
from collections import defaultdict

import pytest
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


async def test_request_sent_during_stop_is_not_started_and_gets_an_answer_or_the_close() -> None:
    """While stop() waits for running calls it reads no new request: one sent then never starts, and its client gets 1001."""
    started.clear()
    async with running_kernel(stop_timeout=3) as kernel:
        async with connect(kernel.url) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "stop.work", "params": ["first", 0.5], "id": 1}))
            await asyncio.sleep(0.1)
            stopping = asyncio.ensure_future(kernel.astop())
            await asyncio.sleep(0.1)
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "stop.work", "params": ["second"], "id": 2}))
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert first == {"jsonrpc": "2.0", "result": "first", "id": 1}
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 1001
            await asyncio.wait_for(stopping, 5)
    assert started == ["first"]


async def test_requests_read_before_a_stop_but_not_started_are_answered() -> None:
    """Requests already read when stop() begins, waiting for room (max_in_flight), get -32000 without running."""
    started.clear()
    async with running_kernel(stop_timeout=3, max_in_flight=1) as kernel:
        async with connect(kernel.url) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "stop.work", "params": ["first", 0.5], "id": 1}))
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "stop.work", "params": ["queued"], "id": 2}))
            await asyncio.sleep(0.1)
            stopping = asyncio.ensure_future(kernel.astop())
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


CALLERS = textwrap.dedent(
    """
    import asyncio, json, sys
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async def caller(url, n):
        try:
            async with connect(url, max_queue=None) as ws:
                for i in range(1, 100_000):
                    message = {"jsonrpc": "2.0", "method": "stop.work", "params": [str(n), 0.001 * (i % 5)], "id": i}
                    await ws.send(json.dumps(message))
                    if i % 8 == 0:
                        await asyncio.sleep(0)
        except (ConnectionClosed, OSError):
            pass

    async def main(url, clients):
        await asyncio.wait_for(asyncio.gather(*(caller(url, n) for n in range(clients))), 120)

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)


async def stop_under_load(clients: int, stop_timeout: float, load_seconds: float, silent: bool = False) -> None:
    """``clients`` clients in another process call flat out (and one never answers a close, if ``silent``);
    after ``load_seconds`` stop() must answer every request it read, within ``stop_timeout`` + 1 s."""
    ledger = ReadAndAnswered()
    async with running_kernel(stop_timeout=stop_timeout) as kernel:
        kernel.register_plugin(ledger)
        quiet = await asyncio.to_thread(silent_client, kernel.port) if silent else None
        # The callers run in their own process, as real clients do: in this one they would take the kernel's loop.
        callers = subprocess.Popen([sys.executable, "-c", CALLERS, kernel.url, str(clients)])
        try:
            for _ in range(300):  # the callers' process starts: wait for every client (at most 30 s)
                if len(kernel.connections) >= clients + (1 if silent else 0):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(load_seconds)
            began = time.monotonic()
            await kernel.astop()
            took = time.monotonic() - began
        finally:
            callers.wait(60)
            if quiet is not None:
                quiet.close()
    assert took < stop_timeout + 1.0, f"stop() took {took:.2f} s"
    read = sum(len(ids) for ids in ledger.read.values())
    assert read > 10 * clients  # the load was real
    unanswered = sum(len(ids - ledger.answered[cid]) for cid, ids in ledger.read.items())
    assert unanswered == 0, f"{unanswered} of {read} requests read got no reply"


async def test_stop_under_load_answers_every_request_read_within_stop_timeout_plus_one_second() -> None:
    """With 20 clients calling flat out and one that never answers a close frame, stop() answers all it read in time."""
    await stop_under_load(clients=20, stop_timeout=1.0, load_seconds=0.5, silent=True)
