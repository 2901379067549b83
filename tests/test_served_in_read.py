"""Requests for methods that never await are served in the read callback, with the semantics of the reader task.

A method whose body has no ``await``, ``async with`` or ``async for`` cannot
suspend; while the reader waits for input, the kernel calls it as soon as
its message is parsed, without waking the reader task. What a call sees
stays the same (its own context, ``current_connection()``, errors, back-
pressure); only ``asyncio.current_task()`` is None there. Everything else
(methods that await, batches, a reply that must wait) goes through tasks as
before. Real kernel, real sockets.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from typing import Any

import pytest

from sidegears import current_connection, rpc_method
from sidegears.session import SERVED_IN_READ_BELOW, _never_waits
from sidegears.testing import running_kernel

from .rawws import RawWebSocket, text_frames

mark: contextvars.ContextVar[str] = contextvars.ContextVar("mark")


@rpc_method(name="inread.where")
async def where(value: str) -> dict[str, Any]:
    """Never awaits: says where it ran, and what an earlier call left in the context (nothing, if each has its own)."""
    earlier = mark.get(None)
    mark.set(value)
    return {"in_task": asyncio.current_task() is not None, "connection": current_connection().id, "earlier": earlier}


@rpc_method(name="inread.timed")
async def timed() -> bool:
    """Enters asyncio.timeout and a TaskGroup at once, which need a task: it awaits, so it gets one."""
    async with asyncio.timeout(5):
        async with asyncio.TaskGroup() as group:
            group.create_task(asyncio.sleep(0))
    return asyncio.current_task() is not None


@rpc_method(name="inread.slow")
async def slow(tag: int) -> int:
    await asyncio.sleep(0.2)
    return tag


@rpc_method(name="inread.fast")
async def fast(tag: int) -> int:
    return tag


@rpc_method(name="inread.fails")
async def fails() -> None:
    raise ValueError("on purpose")


@rpc_method(name="inread.flood")
async def flood(size: int) -> str:
    """Never awaits, but sends more than the client reads before its reply: the reply must wait, in a task."""
    current_connection().send_notification("flood", "x" * size)
    return "done"


def request(method: str, params: Any, msg_id: int) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": msg_id}).encode()


async def call(ws: RawWebSocket, method: str, params: Any, msg_id: int) -> dict[str, Any]:
    ws.send_text(request(method, params, msg_id))
    return json.loads(await ws.recv_text())


async def test_a_method_that_never_awaits_runs_outside_a_task_with_its_own_context() -> None:
    async with running_kernel() as kernel, RawWebSocket.connect(kernel.url) as ws:
        first = await call(ws, "inread.where", ["first"], 1)
        second = await call(ws, "inread.where", ["second"], 2)
        (connection,) = kernel.connections
    assert first == {"jsonrpc": "2.0", "result": {"in_task": False, "connection": connection.id, "earlier": None},
                     "id": 1}
    # The first call's context variable did not leak into the second's context.
    assert second["result"] == {"in_task": False, "connection": connection.id, "earlier": None}


async def test_a_large_message_is_left_to_the_reader_task() -> None:
    """From SERVED_IN_READ_BELOW on, the reader serves it, once the frames let go of its bytes."""
    async with running_kernel() as kernel, RawWebSocket.connect(kernel.url) as ws:
        small = await call(ws, "inread.where", ["x" * (SERVED_IN_READ_BELOW - 200)], 1)
        large = await call(ws, "inread.where", ["x" * SERVED_IN_READ_BELOW], 2)
    assert small["result"]["in_task"] is False
    assert large["result"]["in_task"] is True


async def test_a_method_that_awaits_still_runs_in_a_task() -> None:
    async with running_kernel() as kernel, RawWebSocket.connect(kernel.url) as ws:
        assert await call(ws, "inread.timed", [], 1) == {"jsonrpc": "2.0", "result": True, "id": 1}


async def test_errors_are_answered_as_from_the_reader() -> None:
    async with running_kernel() as kernel, RawWebSocket.connect(kernel.url) as ws:
        failed = await call(ws, "inread.fails", [], 1)
        wrong = await call(ws, "inread.fast", [1, 2], 2)
        unknown = await call(ws, "inread.nothing", [], 3)
        ws.send_text(b'{"jsonrpc": "2.0", "method": "inread.fast", "params": [1], "id": 4')
        not_json = json.loads(await ws.recv_text())
    assert failed["error"]["code"] == -32603 and failed["id"] == 1
    assert wrong["error"]["code"] == -32602 and wrong["id"] == 2
    assert unknown["error"]["code"] == -32601 and unknown["id"] == 3
    assert not_json["error"]["code"] == -32700 and not_json["id"] is None


async def test_requests_of_one_read_after_one_that_waits_are_served_behind_it_in_order() -> None:
    """A waiting call first: the rest of the read queues behind it, and is answered while it waits."""
    messages = [request("inread.slow", [0], 0)] + [request("inread.fast", [i], i) for i in range(1, 50)]
    async with running_kernel() as kernel, RawWebSocket.connect(kernel.url) as ws:
        ws.write(b"".join(text_frames(message) for message in messages))
        replies = [json.loads(await ws.recv_text()) for _ in messages]
    assert [reply["id"] for reply in replies] == list(range(1, 50)) + [0]
    assert all(reply["result"] == reply["id"] for reply in replies)


async def test_requests_of_one_read_are_all_answered_in_order() -> None:
    messages = [request("inread.fast", [i], i) for i in range(200)]
    async with running_kernel() as kernel, RawWebSocket.connect(kernel.url) as ws:
        ws.write(b"".join(text_frames(message) for message in messages))
        replies = [json.loads(await ws.recv_text()) for _ in messages]
    assert [(reply["id"], reply["result"]) for reply in replies] == [(i, i) for i in range(200)]


async def wait_for(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_reply_that_must_wait_for_the_client_to_read_goes_out_once_it_reads() -> None:
    """Begun in the read callback, a call whose reply waits (the client does not read) counts in flight, in a task."""
    size = 8 * 2**20
    async with running_kernel() as kernel, RawWebSocket.connect(kernel.url) as ws:
        ws.pause_reading()
        ws.send_text(request("inread.flood", [size], 1))
        await wait_for(lambda: len(kernel.connections) == 1 and next(iter(kernel.connections)).session.in_flight == 1)
        (connection,) = kernel.connections
        assert len(connection.session.tasks) == 1
        ws.resume_reading()
        notification = json.loads(await ws.recv_text(timeout=10))
        reply = json.loads(await ws.recv_text(timeout=10))
        await wait_for(lambda: connection.session.in_flight == 0 and not connection.session.tasks)
        # Served in the read callback again once nothing waits.
        assert (await call(ws, "inread.where", ["after"], 2))["result"]["in_task"] is False
    assert notification["method"] == "flood" and len(notification["params"]) == size
    assert reply == {"jsonrpc": "2.0", "result": "done", "id": 1}


async def _plain(x: int) -> int:
    return x + 1


async def _awaits(x: int) -> int:
    await asyncio.sleep(0)
    return x


async def _async_with() -> None:
    async with asyncio.timeout(1):
        pass


async def _async_for(items: Any) -> list[Any]:
    return [item async for item in items]


async def _defines_a_waiting_function() -> Any:
    async def inner() -> None:
        await asyncio.sleep(0)

    return inner  # defined, not awaited: this coroutine itself never waits


def _sync(x: int) -> int:
    return x


class _Methods:
    async def plain(self) -> int:
        return 1

    async def __call__(self) -> int:
        return 1


@pytest.mark.parametrize(("func", "expected"), [
    (_plain, True),
    (_defines_a_waiting_function, True),
    (_Methods().plain, True),
    (_awaits, False),
    (_async_with, False),
    (_async_for, False),
    (_sync, False),  # a plain function runs in a worker thread
    (_Methods(), False),  # a callable object: not looked into
])
def test_never_waits_is_read_from_the_function_s_own_code(func: Any, expected: bool) -> None:
    assert _never_waits(func) is expected
