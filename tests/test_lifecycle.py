"""The call lifecycle over real sockets: $/cancelRequest and $/progress, in both directions (LSP's conventions)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

from websockets.asyncio.client import connect

from sidegears import current_connection, report_progress, rpc_method
from sidegears.session import PROGRESS_INTERVAL
from sidegears.testing import running_kernel

seen: list[str] = []
release = threading.Event()


@rpc_method(name="life.wait")
async def wait_forever(tag: str) -> str:
    try:
        await asyncio.sleep(60)
        return tag
    except asyncio.CancelledError:
        seen.append(f"{tag} cancelled")
        raise
    finally:
        seen.append(f"{tag} finally")


@rpc_method(name="life.block")
def block() -> str:
    release.wait(10)
    return "released"


@rpc_method(name="life.steps")
async def steps(count: int, pause: float = 0.0) -> str:
    for done in range(1, count + 1):
        report_progress({"done": done, "total": count})
        await asyncio.sleep(pause)
    return "done"


@rpc_method(name="life.steps_in_thread")
def steps_in_thread(count: int, pause: float = 0.0) -> str:
    for done in range(1, count + 1):
        report_progress({"done": done, "total": count})
        time.sleep(pause)
    return "done"


@rpc_method(name="life.ask_slowly")
async def ask_slowly() -> str:
    try:
        await current_connection().call("ui.slow", timeout=0.2)
    except asyncio.TimeoutError:
        return "timed out"
    return "answered"


def request(method: str, params=None, msg_id=1) -> str:
    message = {"jsonrpc": "2.0", "method": method, "id": msg_id}
    if params is not None:
        message["params"] = params
    return json.dumps(message)


def cancel(msg_id) -> str:
    return json.dumps({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": msg_id}})


async def receive(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def test_cancel_request_cancels_an_async_call() -> None:
    """$/cancelRequest makes an async method see CancelledError (its finally runs); the caller gets -32800."""
    seen.clear()
    async with running_kernel() as kernel:
        async with connect(kernel.url) as ws:
            await ws.send(request("life.wait", ["a"], 1))
            await ws.send(request("life.wait", ["b"], 2))
            await asyncio.sleep(0.1)
            await ws.send(cancel(1))
            reply = await receive(ws)
            assert reply["id"] == 1 and reply["error"]["code"] == -32800
            assert reply["error"]["message"] == "Request cancelled"
            assert seen == ["a cancelled", "a finally"]  # b runs on
            await ws.send(cancel(2))
            assert (await receive(ws))["id"] == 2


async def test_cancelled_plain_call_is_answered_at_once_and_its_result_dropped() -> None:
    """A plain method cannot be stopped in its thread: the caller gets -32800 at once, and nothing when it ends."""
    release.clear()
    async with running_kernel() as kernel:
        async with connect(kernel.url) as ws:
            await ws.send(request("life.block", msg_id="x"))
            await asyncio.sleep(0.1)
            await ws.send(cancel("x"))
            reply = await receive(ws)
            assert reply["id"] == "x" and reply["error"]["code"] == -32800
            release.set()
            await ws.send(request("life.steps", [1], 7))
            messages = [await receive(ws), await receive(ws)]
            assert [m.get("id", m.get("params", {}).get("id")) for m in messages] == [7, 7]  # no late "x"


async def test_cancel_for_no_running_call_changes_nothing() -> None:
    """Cancelling an unknown or finished id, or with bad params, is ignored; the connection serves on."""
    async with running_kernel() as kernel:
        async with connect(kernel.url) as ws:
            for params in ({"id": 99}, {"id": None}, [1], {"nope": 1}):
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": params}))
            await ws.send(request("life.steps", [0], 3))
            assert await receive(ws) == {"jsonrpc": "2.0", "result": "done", "id": 3}


async def collect_until_reply(ws, msg_id) -> tuple[list, dict]:
    progress = []
    while True:
        message = await receive(ws)
        if message.get("method") == "$/progress":
            assert message["params"]["id"] == msg_id
            progress.append(message["params"]["value"])
        else:
            return progress, message


async def test_progress_arrives_in_order_before_the_result() -> None:
    """report_progress in an async method and in a thread: values in order, the last one included, then the result."""
    async with running_kernel() as kernel:
        async with connect(kernel.url) as ws:
            for method, msg_id in (("life.steps", 1), ("life.steps_in_thread", 2)):
                await ws.send(request(method, [5, 2 * PROGRESS_INTERVAL], msg_id))
                progress, reply = await collect_until_reply(ws, msg_id)
                assert reply == {"jsonrpc": "2.0", "result": "done", "id": msg_id}
                assert progress == [{"done": n, "total": 5} for n in range(1, 6)], method


async def test_progress_of_a_tight_loop_is_coalesced() -> None:
    """10,000 reports in a tight loop arrive as a few messages, increasing, ending with the last value."""
    async with running_kernel() as kernel:
        async with connect(kernel.url) as ws:
            for method, msg_id in (("life.steps", 1), ("life.steps_in_thread", 2)):
                began = time.monotonic()
                await ws.send(request(method, [10_000], msg_id))
                progress, reply = await collect_until_reply(ws, msg_id)
                took = time.monotonic() - began
                assert reply["result"] == "done"
                done = [value["done"] for value in progress]
                assert done == sorted(done) and done[-1] == 10_000, method
                assert len(done) <= took / PROGRESS_INTERVAL + 2, (method, len(done))


async def test_report_progress_outside_a_call_or_in_a_notification_does_nothing() -> None:
    """report_progress with no call, or from a notification's method, sends nothing."""
    report_progress({"done": 1})  # no call: nothing to do, no error
    async with running_kernel() as kernel:
        async with connect(kernel.url) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "life.steps", "params": [3]}))
            await ws.send(request("life.steps", [0], 5))
            assert await receive(ws) == {"jsonrpc": "2.0", "result": "done", "id": 5}


async def test_kernel_call_that_times_out_tells_the_client_to_cancel() -> None:
    """connection.call(timeout=...) that expires sends $/cancelRequest for its id, then raises TimeoutError."""
    async with running_kernel() as kernel:
        async with connect(kernel.url) as ws:
            await ws.send(request("life.ask_slowly", msg_id=1))
            asked = await receive(ws)
            assert asked["method"] == "ui.slow"
            cancelled = await receive(ws)
            assert cancelled == {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": asked["id"]}}
            assert await receive(ws) == {"jsonrpc": "2.0", "result": "timed out", "id": 1}
