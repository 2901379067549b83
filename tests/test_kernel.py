"""The kernel over real websockets on port 0: the original API, methods, concurrency, bad input."""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as sync_connect

from sidegears import RPCError, RPCKernel, hookimpl, rpc_method
from sidegears.testing import RPCTestClient, running_kernel

from .spec_examples import EXAMPLES, canonical

# -- methods used by these tests (decorated methods are served by every kernel) --


@rpc_method
def subtract(minuend, subtrahend):
    return minuend - subtrahend


@rpc_method(name="sum")
def sum_(*numbers):
    return sum(numbers)


@rpc_method
def update(*args):
    return None


@rpc_method
def notify_hello(*args):
    return None


@rpc_method
def notify_sum(*args):
    return None


@rpc_method
def get_data():
    return ["hello", 5]


@rpc_method
def multiply(a, b):
    return a * b


@rpc_method(name="test.sleep")
async def sleep(seconds, tag=None):
    await asyncio.sleep(seconds)
    return tag


@rpc_method(name="test.blocking_sleep")
def blocking_sleep(seconds):
    time.sleep(seconds)
    return "slept"


@rpc_method(name="test.echo")
async def echo(value=None):
    return value


@rpc_method(name="test.fail")
def fail():
    raise RPCError(-32050, "custom failure", {"why": "asked to"})


@rpc_method(name="test.crash")
async def crash():
    raise ValueError("boom")


@rpc_method(name="test.not_json")
def not_json():
    return {"value": float("nan")}


@rpc_method(name="test.thread_name")
def thread_name():
    return threading.current_thread().name


async def send_raw(websocket, text: str, expect_reply: bool = True):
    await websocket.send(text)
    if not expect_reply:
        return None
    return json.loads(await asyncio.wait_for(websocket.recv(), 5))


# -- the original synchronous API ------------------------------------------------------


def test_original_script_style() -> None:
    """start(port=0) returns listening; a websocket client gets 42 for multiply [6, 7]; stop() stops."""
    kernel = RPCKernel(token=False)
    kernel.start(host="127.0.0.1", port=0)
    try:
        assert kernel.port and kernel.url == f"ws://127.0.0.1:{kernel.port}/"
        with sync_connect(kernel.url) as ws:
            ws.send(json.dumps({"jsonrpc": "2.0", "method": "multiply", "params": [6, 7], "id": 1}))
            assert json.loads(ws.recv(5)) == {"jsonrpc": "2.0", "result": 42, "id": 1}
    finally:
        kernel.stop()
    assert kernel.wait_until_closed(timeout=5)
    kernel.stop()  # twice is harmless


def test_notification_from_a_plain_thread_arrives_at_once() -> None:
    """send_notification from another thread reaches the client (its delay is measured in benchmarks/)."""
    kernel = RPCKernel(token=False)
    kernel.start(host="127.0.0.1", port=0)
    try:
        with sync_connect(kernel.url) as ws:
            ws.send(json.dumps({"jsonrpc": "2.0", "method": "test.echo", "params": [1], "id": 1}))
            ws.recv(5)  # the connection is registered once it has answered
            sender = threading.Thread(target=kernel.send_notification, args=("tick", {"n": 1}))
            sender.start()
            # Latency is measured in benchmarks/ (idle_thread); here only delivery is checked.
            assert json.loads(ws.recv(5)) == {"jsonrpc": "2.0", "method": "tick", "params": {"n": 1}}
            sender.join()
    finally:
        kernel.stop()


def test_wait_until_closed_returns_when_another_thread_stops_it() -> None:
    """wait_until_closed() blocks the script until stop() is called elsewhere."""
    kernel = RPCKernel(token=False)
    kernel.start(host="127.0.0.1", port=0)
    threading.Timer(0.2, kernel.stop).start()
    assert kernel.wait_until_closed(timeout=10)
    assert not kernel.is_serving


def test_close_on_disconnect_stops_after_last_client() -> None:
    """With close_on_disconnect=True the kernel stops once its last client leaves (after the grace)."""
    kernel = RPCKernel(token=False, reconnect_grace=0.1)
    kernel.start(host="127.0.0.1", port=0, close_on_disconnect=True)
    with sync_connect(kernel.url) as first, sync_connect(kernel.url):
        first.send('{"jsonrpc": "2.0", "method": "multiply", "params": [2, 3], "id": 1}')
        assert json.loads(first.recv(5))["result"] == 6
    assert kernel.wait_until_closed(timeout=10)


def test_reconnect_within_grace_keeps_kernel_running() -> None:
    """A client that comes back within reconnect_grace (a page reload) keeps the kernel alive."""
    kernel = RPCKernel(token=False, reconnect_grace=1.0)
    kernel.start(host="127.0.0.1", port=0, close_on_disconnect=True)
    try:
        with sync_connect(kernel.url):
            pass
        with sync_connect(kernel.url) as again:
            assert not kernel.wait_until_closed(timeout=1.5)
            again.send('{"jsonrpc": "2.0", "method": "multiply", "params": [2, 3], "id": 1}')
            assert json.loads(again.recv(5))["result"] == 6
    finally:
        kernel.stop()


def test_start_on_a_busy_port_raises_and_leaves_no_thread() -> None:
    """Starting on a port in use raises OSError from start() itself."""
    first = RPCKernel(token=False)
    first.start(host="127.0.0.1", port=0)
    try:
        second = RPCKernel(token=False)
        with pytest.raises(OSError):
            second.start(host="127.0.0.1", port=first.port)
        assert second._thread is None and not second.is_serving
    finally:
        first.stop()


def test_sync_context_manager() -> None:
    """`with RPCKernel() as kernel` starts on a free port and stops at the end."""
    with RPCKernel(token=False) as kernel:
        with sync_connect(kernel.url) as ws:
            ws.send('{"jsonrpc": "2.0", "method": "multiply", "params": [3, 3], "id": 1}')
            assert json.loads(ws.recv(5))["result"] == 9
    assert not kernel.is_serving


# -- async use ------------------------------------------------------------------------------


async def test_async_context_manager_and_notification() -> None:
    """`async with RPCKernel()` serves on the running loop; send_notification works from a coroutine."""
    async with RPCKernel(token=False) as kernel:
        async with RPCTestClient.connect(kernel.url) as client:
            assert await client.call("multiply", {"a": 6, "b": 7}) == 42
            kernel.send_notification("progress", [50])
            assert await client.next_notification() == {"jsonrpc": "2.0", "method": "progress", "params": [50]}
    assert not kernel.is_serving


async def test_serve_runs_until_stopped() -> None:
    """await kernel.serve() returns after astop()."""
    kernel = RPCKernel(token=False)
    serving = asyncio.ensure_future(kernel.serve("127.0.0.1", 0))
    while kernel.port is None:
        await asyncio.sleep(0.01)
    await kernel.astop()
    await asyncio.wait_for(serving, 5)


# -- JSON-RPC over the socket ---------------------------------------------------------------------


@pytest.mark.parametrize("name, text, expected", EXAMPLES, ids=[e[0] for e in EXAMPLES])
async def test_specification_examples_over_the_socket(kernel, name, text, expected) -> None:
    """Every example of the specification's Examples section gets the specified reply."""
    async with connect(kernel.url) as ws:
        await ws.send(text)
        if expected is None:
            # No reply: prove it by the next request's reply arriving first.
            await ws.send('{"jsonrpc": "2.0", "method": "test.echo", "params": ["marker"], "id": "m"}')
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["id"] == "m"
        else:
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert canonical(reply) == canonical(expected)


async def test_params_mismatch_is_32602_saying_what(rpc) -> None:
    """Too few, too many and unknown named params give -32602 naming every missing and unexpected one."""
    expected = {
        (1,): ["params[1] (b): missing"],
        (1, 2, 3): ["params[2]: unexpected (the method takes 2)"],
        ("a", "c"): ["params.c: unexpected name", "params.b: missing"],
    }
    for params in ([1], [1, 2, 3], {"a": 1, "c": 2}):
        reply = await rpc.request("multiply", params)
        error = reply["error"]
        messages = [entry["message"] for entry in error["data"]["errors"]]
        assert error["code"] == -32602 and error["data"]["method"] == "multiply"
        assert messages == expected[tuple(params)]
        assert error["message"].startswith("Invalid params: " + messages[0])


async def test_method_raises_its_own_rpc_error(rpc) -> None:
    """An RPCError raised by a method reaches the client as is."""
    reply = await rpc.request("test.fail")
    assert reply["error"] == {"code": -32050, "message": "custom failure", "data": {"why": "asked to"}}


async def test_exception_becomes_internal_error_and_is_logged(rpc, caplog) -> None:
    """Any other exception gives -32603 without a traceback, logs it, and the connection stays open."""
    reply = await rpc.request("test.crash")
    assert reply["error"]["code"] == -32603
    assert "Traceback" not in json.dumps(reply)
    assert any("method failed" in r.getMessage() and "boom" in (r.getMessage() + str(r.exc_info)) for r in caplog.records)
    assert await rpc.call("multiply", [2, 2]) == 4


async def test_result_that_is_not_json_gives_internal_error(rpc) -> None:
    """A NaN in a result is refused (strict JSON) with -32603 for that id."""
    reply = await rpc.request("test.not_json")
    assert reply["error"]["code"] == -32603 and "not JSON" in reply["error"]["data"]


async def test_plain_methods_run_in_worker_threads(rpc) -> None:
    """A plain function runs off the event loop thread."""
    assert (await rpc.call("test.thread_name")).startswith("sidegears-method")


async def test_large_and_odd_ids_are_echoed(kernel) -> None:
    """Huge integers, floats, unicode strings and null come back unchanged."""
    async with connect(kernel.url) as ws:
        for msg_id in (2**100, -(2**65), 3.25, "日本", "", None):
            text = json.dumps({"jsonrpc": "2.0", "method": "multiply", "params": [1, 1], "id": msg_id})
            reply = await send_raw(ws, text)
            assert reply["id"] == msg_id and type(reply["id"]) is type(msg_id)


async def test_reply_never_holds_result_and_error(kernel) -> None:
    """Successes carry only result, failures only error."""
    async with RPCTestClient.connect(kernel.url) as client:
        for method, params in (("multiply", [1, 2]), ("test.fail", None), ("nope", None), ("test.crash", None)):
            reply = await client.request(method, params)
            assert ("result" in reply) != ("error" in reply)


# -- concurrency ---------------------------------------------------------------------------------


async def test_slow_call_does_not_delay_fast_ones(kernel) -> None:
    """A 2 s method on one connection does not hold up fast calls on it or on another connection."""
    async with RPCTestClient.connect(kernel.url) as first, RPCTestClient.connect(kernel.url) as second:
        slow = asyncio.ensure_future(first.call("test.sleep", [2, "slow"]))
        blocking = asyncio.ensure_future(first.call("test.blocking_sleep", [2]))
        await asyncio.sleep(0.05)
        assert await first.call("multiply", [2, 3]) == 6
        assert await second.call("multiply", [3, 3]) == 9
        assert not slow.done() and not blocking.done()  # the fast replies came first
        assert await slow == "slow" and await blocking == "slept"


async def test_replies_out_of_order_each_id_once(kernel) -> None:
    """Many concurrent calls with different delays: every id answered exactly once."""
    async with connect(kernel.url) as ws:
        for i in range(100):
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "test.sleep", "params": [(i % 7) / 100, i], "id": i}))
        replies = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(100)]
    assert sorted(r["id"] for r in replies) == list(range(100))
    assert all(r["result"] == r["id"] for r in replies)
    assert [r["id"] for r in replies] != list(range(100))  # they did overtake each other


TASKS: dict[str, object] = {}
REQUEST_TAG: contextvars.ContextVar[str] = contextvars.ContextVar("request_tag", default="unset")
RELEASE: dict[str, asyncio.Event] = {}


@rpc_method(name="test.same_task")
async def same_task() -> bool:
    """Whether the call's task stays the same across a real wait (calls are started inline)."""
    before = asyncio.current_task()
    await asyncio.sleep(0.01)
    return asyncio.current_task() is before and before is not None


@rpc_method(name="test.timeout_inside")
async def timeout_inside() -> str:
    try:
        async with asyncio.timeout(0.05):  # type: ignore[attr-defined]
            await asyncio.sleep(30)
    except TimeoutError:
        return "timed out"
    return "slept"


@rpc_method(name="test.tag_set")
async def tag_set(tag: str) -> str:
    REQUEST_TAG.set(tag)
    return REQUEST_TAG.get()


@rpc_method(name="test.tag_get")
async def tag_get() -> str:
    return REQUEST_TAG.get()


@rpc_method(name="test.wait_release")
async def wait_release(key: str) -> str:
    event = RELEASE.setdefault(key, asyncio.Event())
    try:
        await asyncio.wait_for(event.wait(), 5)
    except asyncio.TimeoutError:
        return "never released"
    return "released"


@rpc_method(name="test.release")
async def release(key: str) -> str:
    RELEASE.setdefault(key, asyncio.Event()).set()
    return "done"


async def test_a_call_that_waits_keeps_its_task(rpc) -> None:
    """Calls start inline in the reading task; one that waits must still see one task from start to end."""
    assert await asyncio.gather(*(rpc.call("test.same_task") for _ in range(10))) == [True] * 10
    assert await rpc.call("multiply", [6, 7]) == 42


@pytest.mark.skipif(not hasattr(asyncio, "timeout"), reason="asyncio.timeout() is new in Python 3.11")
async def test_asyncio_timeout_in_a_method_cancels_only_that_method(rpc) -> None:
    """asyncio.timeout() cancels the task it was entered in: that must be the call's own, not the connection's reader."""
    results = await asyncio.gather(rpc.call("test.timeout_inside"), rpc.call("test.same_task"))
    assert results == ["timed out", True]
    assert await rpc.call("multiply", [2, 21]) == 42  # the connection still reads


async def test_context_variables_do_not_leak_between_calls(kernel) -> None:
    """Each call, and each batch member, runs in its own copy of the context, as in a task of its own."""
    async with connect(kernel.url) as ws:
        set_first = {"jsonrpc": "2.0", "method": "test.tag_set", "params": ["first"], "id": 1}
        get = {"jsonrpc": "2.0", "method": "test.tag_get", "id": 2}
        assert (await send_raw(ws, json.dumps(set_first)))["result"] == "first"
        assert (await send_raw(ws, json.dumps(get)))["result"] == "unset"
        replies = await send_raw(ws, json.dumps([set_first, get]))
    assert sorted((r["id"], r["result"]) for r in replies) == [(1, "first"), (2, "unset")]


async def test_batch_members_run_concurrently(kernel) -> None:
    """A member that waits does not hold up the members after it: here the second releases the first."""
    RELEASE.pop("batch", None)
    async with connect(kernel.url) as ws:
        batch = [
            {"jsonrpc": "2.0", "method": "test.wait_release", "params": ["batch"], "id": 1},
            {"jsonrpc": "2.0", "method": "test.same_task", "id": 2},
            {"jsonrpc": "2.0", "method": "test.release", "params": ["batch"], "id": 3},
            {"jsonrpc": "2.0", "method": "multiply", "params": [3, 4], "id": 4},
        ]
        replies = await send_raw(ws, json.dumps(batch))
    assert sorted((r["id"], r["result"]) for r in replies) == [(1, "released"), (2, True), (3, "done"), (4, 12)]


async def test_stop_answers_every_waiting_member_of_a_batch() -> None:
    """stop() cancels the waiting members of a batch; the batch reply still has every member, finished or cancelled."""
    async with running_kernel(stop_timeout=0.2) as kernel:
        ws = await connect(kernel.url)
        batch = [
            {"jsonrpc": "2.0", "method": "test.sleep", "params": [30, "a"], "id": 1},
            {"jsonrpc": "2.0", "method": "test.echo", "params": [4], "id": 2},  # finishes at once: not counted
            {"jsonrpc": "2.0", "method": "test.sleep", "params": [30, "b"], "id": 3},
        ]
        await ws.send(json.dumps(batch))
        await asyncio.sleep(0.1)
        assert [c.in_flight for c in kernel.connections] == [1]  # one batch waiting (for two members)
        await kernel.astop()
        replies = {r["id"]: r for r in json.loads(await asyncio.wait_for(ws.recv(), 5))}
        assert replies[2]["result"] == 4
        assert replies[1]["error"]["code"] == replies[3]["error"]["code"] == -32000
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)


async def test_fifty_clients_at_once(kernel) -> None:
    """50 clients calling concurrently each get their own answers."""

    async def one_client(n: int) -> list:
        async with RPCTestClient.connect(kernel.url) as client:
            return await asyncio.gather(*(client.call("multiply", [n, k]) for k in range(20)))

    results = await asyncio.gather(*(one_client(n) for n in range(50)))
    assert results == [[n * k for k in range(20)] for n in range(50)]


async def test_notification_reaches_every_client(kernel) -> None:
    """A broadcast goes to each connected client."""
    async with RPCTestClient.connect(kernel.url) as a, RPCTestClient.connect(kernel.url) as b:
        await a.call("multiply", [1, 1])
        await b.call("multiply", [1, 1])
        kernel.send_notification("hello")
        assert (await a.next_notification())["method"] == "hello"
        assert (await b.next_notification()) == {"jsonrpc": "2.0", "method": "hello"}


@rpc_method(name="test.burst")
async def burst(n: int) -> int:
    from sidegears import current_connection

    connection = current_connection()
    for i in range(n):
        connection.send_notification("burst", {"i": i, "pad": "x" * 20})
    return n


async def test_long_burst_arrives_whole_and_in_order_before_the_reply(kernel) -> None:
    """A burst far larger than the largest early write (FLUSH_AT_MOST) reaches the client complete, in order, then the reply.

    Twice, with a short burst between: each burst's early writes grow from FLUSH_AT, and start there again.
    """
    from sidegears.transport import FLUSH_AT, FLUSH_AT_MOST

    async with connect(kernel.url) as ws:
        for call_id, count in enumerate([4 * FLUSH_AT_MOST // 40, FLUSH_AT // 80, 4 * FLUSH_AT_MOST // 40]):
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "test.burst", "params": [count], "id": call_id}))
            received = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(count + 1)]
            assert [m["params"]["i"] for m in received[:-1]] == list(range(count))
            assert received[-1] == {"jsonrpc": "2.0", "result": count, "id": call_id}


async def test_send_notification_to_gone_client_does_not_raise(kernel) -> None:
    """Notifying while a client is disconnecting never raises."""
    async with RPCTestClient.connect(kernel.url) as client:
        await client.call("multiply", [1, 1])
    for _ in range(3):
        kernel.send_notification("after", [1])
    async with RPCTestClient.connect(kernel.url) as client:
        assert await client.call("multiply", [2, 1]) == 2


async def test_kernel_calls_the_client(kernel) -> None:
    """connection.call sends a request to the client and returns its answer."""
    async with connect(kernel.url) as ws:
        await send_raw(ws, '{"jsonrpc": "2.0", "method": "multiply", "params": [1, 1], "id": 1}')
        (connection,) = kernel.connections
        calling = asyncio.ensure_future(connection.call("ui.confirm", ["Save?"]))
        request = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert request["method"] == "ui.confirm" and request["params"] == ["Save?"]
        await ws.send(json.dumps({"jsonrpc": "2.0", "result": True, "id": request["id"]}))
        assert await asyncio.wait_for(calling, 5) is True
        failing = asyncio.ensure_future(connection.call("ui.unknown"))
        request = json.loads(await asyncio.wait_for(ws.recv(), 5))
        await ws.send(json.dumps({"jsonrpc": "2.0", "error": {"code": -32601, "message": "nope"}, "id": request["id"]}))
        with pytest.raises(RPCError) as info:
            await asyncio.wait_for(failing, 5)
        assert info.value.code == -32601
        pending = asyncio.ensure_future(connection.call("ui.never"))
        await asyncio.wait_for(ws.recv(), 5)
    with pytest.raises(RPCError) as gone:
        await asyncio.wait_for(pending, 5)
    assert gone.value.code == -32001


ASKED: list = []


@rpc_method(name="test.ask_client")
async def ask_client(n):
    """Ask the client (kernel -> client call, no timeout) and record how it ended."""
    from sidegears import current_connection
    from sidegears.errors import ClientGone

    try:
        answer = await current_connection().call("ui.confirm", [n])
    except ClientGone:
        ASKED.append(("gone", n))
        raise
    ASKED.append(("answered", n))
    return answer


async def test_client_leaving_fails_a_call_waiting_for_it_and_disconnects() -> None:
    """The first call of a connection waits on the client, which leaves: the call fails, on_disconnect runs, the kernel stops."""
    ASKED.clear()
    async with running_kernel(close_on_disconnect=True, reconnect_grace=0) as kernel:
        ws = await connect(kernel.url)
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "test.ask_client", "params": [1], "id": 1}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["method"] == "ui.confirm"
        await ws.close()
        await asyncio.wait_for(kernel.wait_closed(), 5)
        assert ASKED == [("gone", 1)] and not kernel.connections


async def test_stop_waits_only_for_the_calls_not_for_the_connection() -> None:
    """A stop while a connection's first call waits ends as soon as the call does, answered, with close code 1001."""
    async with running_kernel(stop_timeout=30) as kernel:
        ws = await connect(kernel.url)
        await ws.send('{"jsonrpc": "2.0", "method": "test.sleep", "params": [0.2, "done"], "id": 1}')
        await asyncio.sleep(0.05)
        await asyncio.wait_for(kernel.astop(), 10)  # not stop_timeout: nothing else is waited for
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"jsonrpc": "2.0", "result": "done", "id": 1}
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1001


async def test_batch_larger_than_max_in_flight_waiting_on_the_client_completes(kernel) -> None:
    """300 members each asking the client (more than max_in_flight=256): the kernel keeps reading the answers."""
    ASKED.clear()
    count = 300
    async with connect(kernel.url, max_size=None) as ws:
        batch = [{"jsonrpc": "2.0", "method": "test.ask_client", "params": [i], "id": i} for i in range(count)]
        await ws.send(json.dumps(batch))
        replies = None
        for _ in range(count + 1):
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if isinstance(message, list):
                replies = message
                break
            await ws.send(json.dumps({"jsonrpc": "2.0", "result": message["params"][0] * 2, "id": message["id"]}))
    assert replies is not None and sorted((r["id"], r["result"]) for r in replies) == [(i, 2 * i) for i in range(count)]


SLEPT: list = []


@rpc_method(name="test.sleep_recorded")
async def sleep_recorded(seconds, tag):
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        SLEPT.append(("cancelled", tag))
        raise
    SLEPT.append(("slept", tag))
    return tag


async def test_a_call_waiting_for_the_client_does_not_block_reading_its_answer() -> None:
    """With max_in_flight=1, a call waiting on connection.call() still lets the kernel read the client's answer."""
    ASKED.clear()
    async with running_kernel(max_in_flight=1) as kernel:
        async with connect(kernel.url) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "test.ask_client", "params": [21], "id": 1}))
            asked = json.loads(await asyncio.wait_for(ws.recv(), 5))
            await ws.send(json.dumps({"jsonrpc": "2.0", "result": 42, "id": asked["id"]}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"jsonrpc": "2.0", "result": 42, "id": 1}
    assert ASKED == [("answered", 21)]


async def test_client_leaving_while_reading_is_held_back_is_noticed_and_stop_ends_its_calls() -> None:
    """Back-pressure holds reading; the client leaves: it is disconnected at once, and a stop still cancels its call."""
    SLEPT.clear()
    async with running_kernel(max_in_flight=1, stop_timeout=0.2) as kernel:
        ws = await connect(kernel.url)
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "test.sleep_recorded", "params": [30, "a"], "id": 1}))
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "test.sleep_recorded", "params": [30, "b"], "id": 2}))
        for _ in range(100):
            if any(c.in_flight for c in kernel.connections):
                break
            await asyncio.sleep(0.01)
        await ws.close()
        for _ in range(500):
            if not kernel.connections:
                break
            await asyncio.sleep(0.01)
        assert not kernel.connections  # reading was held back, yet the close was seen
        assert SLEPT == []  # the first call still runs; the second was never read
        await asyncio.wait_for(kernel.astop(), 10)
    assert SLEPT == [("cancelled", "a")]


async def test_a_gone_client_is_not_kept_once_its_calls_end() -> None:
    """A call outliving its client is waited for by a stop, but once it ends the kernel holds nothing of that client."""
    import gc
    import weakref

    SLEPT.clear()
    async with running_kernel() as kernel:
        ws = await connect(kernel.url)
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "test.sleep_recorded", "params": [0.2, "late"], "id": 1}))
        for _ in range(100):
            if kernel.connections and any(c.in_flight for c in kernel.connections):
                break
            await asyncio.sleep(0.01)
        gone = weakref.ref(next(iter(kernel.connections)))
        await ws.close()
        for _ in range(300):
            if SLEPT:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        gc.collect()
        assert SLEPT == [("slept", "late")] and gone() is None


class ShutdownRecorder:
    def __init__(self) -> None:
        self.seen: list = []

    @hookimpl
    def on_shutdown(self, kernel):
        from sidegears import current_connection

        self.seen.append(current_connection())


@rpc_method(name="test.astop")
async def astop_method():
    from sidegears import current_connection

    await current_connection().kernel.astop()
    return "stopping"


async def test_stop_from_an_async_method_runs_shutdown_outside_the_call() -> None:
    """astop() from a method answers the call, and on_shutdown hooks do not see that call's connection."""
    recorder = ShutdownRecorder()
    async with running_kernel() as kernel:
        kernel.register_plugin(recorder)
        async with connect(kernel.url) as ws:
            reply = await send_raw(ws, '{"jsonrpc": "2.0", "method": "test.astop", "id": 1}')
            assert reply["result"] == "stopping"
        await asyncio.wait_for(kernel.wait_closed(), 10)
    assert recorder.seen == [None]


# -- bad input --------------------------------------------------------------------------------------


async def assert_still_serving(kernel) -> None:
    async with RPCTestClient.connect(kernel.url) as client:
        assert await client.call("multiply", [6, 7]) == 42


async def test_binary_frame_closes_1003(kernel, caplog) -> None:
    """A binary frame closes that connection with 1003; the log says why; others are served."""
    async with connect(kernel.url) as ws:
        await ws.send(b'{"jsonrpc": "2.0"}')
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1003
    assert any("binary frame" in r.getMessage() for r in caplog.records)
    await assert_still_serving(kernel)


async def test_invalid_utf8_closes_1007(kernel) -> None:
    """A text frame that is not UTF-8 closes with 1007."""
    async with connect(kernel.url) as ws:
        # websockets validates what it sends, so write the frame by hand on its protocol.
        from websockets.frames import Frame, Opcode

        ws.protocol.send_frame(Frame(Opcode.TEXT, b'{"a": "\xff\xfe"}'))
        ws.send_data()
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1007
    await assert_still_serving(kernel)


async def test_oversized_message_closes_1009_and_is_logged(caplog) -> None:
    """A message over max_message_size closes with 1009, and the disconnect is logged as a warning."""
    async with running_kernel(max_message_size=1000) as kernel:
        async with connect(kernel.url, max_size=None) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "test.echo", "params": ["x" * 2000], "id": 1}))
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 1009
        await assert_still_serving(kernel)
        for _ in range(50):
            if any("client disconnected" in r.getMessage() and "1009" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.02)
        assert any("client disconnected" in r.getMessage() and "1009" in r.getMessage() for r in caplog.records)


async def test_sixteen_megabyte_message_by_default(kernel) -> None:
    """The default limit takes a message of nearly 16 MiB and echoes it."""
    payload = "x" * (16 * 1024 * 1024 - 200)
    async with connect(kernel.url, max_size=None) as ws:
        reply = await send_raw(ws, json.dumps({"jsonrpc": "2.0", "method": "test.echo", "params": [payload], "id": 1}))
    assert reply["result"] == payload


async def test_compressed_messages_with_deflate_on() -> None:
    """compression="deflate": compressed messages, whole or in fragments, are read and answered compressed."""
    payload = "compress me " * 20_000  # 240 KB of text, a few KB on the wire
    async with running_kernel(compression="deflate") as kernel:
        async with connect(kernel.url, compression="deflate", max_size=None) as ws:
            assert ws.response.headers.get("Sec-WebSocket-Extensions", "").startswith("permessage-deflate")
            reply = await send_raw(ws, json.dumps({"jsonrpc": "2.0", "method": "test.echo", "params": [payload], "id": 1}))
            assert reply["result"] == payload
            request = json.dumps({"jsonrpc": "2.0", "method": "test.echo", "params": [payload], "id": 2})
            await ws.send([request[:1000], request[1000:50_000], request[50_000:]])  # three fragments
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["result"] == payload
        async with connect(kernel.url, compression=None) as ws:  # a client that does not ask for it
            assert "Sec-WebSocket-Extensions" not in ws.response.headers
            assert (await send_raw(ws, '{"jsonrpc": "2.0", "method": "test.echo", "params": [3], "id": 3}'))["result"] == 3


async def test_compressed_message_over_the_limit_once_inflated_closes_1009() -> None:
    """max_message_size counts the inflated message: 200 KB of zeros, a few hundred bytes on the wire, is too big."""
    async with running_kernel(compression="deflate", max_message_size=100_000) as kernel:
        async with connect(kernel.url, compression="deflate", max_size=None) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "test.echo", "params": ["0" * 200_000], "id": 1}))
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 1009
        await assert_still_serving(kernel)


async def test_parse_error_keeps_connection_open(kernel) -> None:
    """Invalid JSON gets -32700 and the same connection keeps working."""
    async with connect(kernel.url) as ws:
        assert (await send_raw(ws, "{not json"))["error"]["code"] == -32700
        assert (await send_raw(ws, '"just a string"'))["error"]["code"] == -32600
        assert (await send_raw(ws, '{"jsonrpc": "2.0", "method": "multiply", "params": [2, 5], "id": 1}'))["result"] == 10


GATE = {"started": 0, "open": None}


@rpc_method(name="test.gated")
async def gated(n):
    GATE["started"] += 1
    await GATE["open"].wait()
    return n


async def test_back_pressure_reads_no_more_than_max_in_flight() -> None:
    """With max_in_flight=4, the kernel starts 4 calls, reads no further until they finish, then answers all 10."""
    GATE["started"], GATE["open"] = 0, asyncio.Event()
    async with running_kernel(max_in_flight=4) as kernel:
        async with connect(kernel.url) as ws:
            for i in range(10):
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "test.gated", "params": [i], "id": i}))
            for _ in range(100):
                if GATE["started"] >= 4:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # room for a fifth call to start, were the kernel still reading
            assert GATE["started"] == 4
            GATE["open"].set()
            replies = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(10)]
    assert sorted(r["id"] for r in replies) == list(range(10)) and GATE["started"] == 10


async def test_stop_answers_cancelled_calls() -> None:
    """stop() with a call still running answers it with -32000 and closes with 1001."""
    async with running_kernel(stop_timeout=0.2) as kernel:
        ws = await connect(kernel.url)
        await ws.send('{"jsonrpc": "2.0", "method": "test.sleep", "params": [30, "late"], "id": 1}')
        await asyncio.sleep(0.1)
        await kernel.astop()
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert reply["error"]["code"] == -32000 and reply["id"] == 1
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1001


async def test_idle_timeout_closes_silent_clients_only() -> None:
    """With idle_timeout set, a silent client is closed with 1001; one with a call in flight is kept."""
    async with running_kernel(idle_timeout=0.3) as kernel:
        async with connect(kernel.url) as silent, connect(kernel.url) as busy:
            await busy.send('{"jsonrpc": "2.0", "method": "test.sleep", "params": [0.8, "done"], "id": 1}')
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(silent.recv(), 5)
            assert silent.close_code == 1001 and silent.close_reason == "idle timeout"
            assert json.loads(await asyncio.wait_for(busy.recv(), 5))["result"] == "done"


def test_start_uses_the_chosen_event_loop() -> None:
    """event_loop='asyncio' runs the kernel on a standard asyncio loop; a wrong name is refused."""
    kernel = RPCKernel(token=False, event_loop="asyncio")
    kernel.start(host="127.0.0.1", port=0)
    try:
        assert type(kernel.loop).__module__.startswith("asyncio")
    finally:
        kernel.stop()
    with pytest.raises(ValueError):
        RPCKernel(token=False, event_loop="tokio").start(port=0)


@rpc_method(name="test.stop_kernel")
def stop_kernel():
    from sidegears import current_connection

    current_connection().kernel.stop()
    return "stopping"


def test_stop_from_a_plain_method_answers_then_stops() -> None:
    """A plain method calling kernel.stop() gets its reply out, then the kernel stops."""
    kernel = RPCKernel(token=False)
    kernel.start(host="127.0.0.1", port=0)
    with sync_connect(kernel.url) as ws:
        ws.send('{"jsonrpc": "2.0", "method": "test.stop_kernel", "id": 1}')
        assert json.loads(ws.recv(5)) == {"jsonrpc": "2.0", "result": "stopping", "id": 1}
    assert kernel.wait_until_closed(timeout=10)


async def test_lone_surrogate_is_answered_with_an_escape(kernel) -> None:
    """A lone surrogate (valid JSON, not UTF-8) comes back escaped, and the call is answered."""
    async with connect(kernel.url) as ws:
        reply = await send_raw(ws, '{"jsonrpc": "2.0", "method": "test.echo", "params": ["\\ud800x"], "id": "\\udfff"}')
    assert reply == {"jsonrpc": "2.0", "result": "\ud800x", "id": "\udfff"}


async def test_params_error_message_says_what_is_wrong(rpc) -> None:
    """The -32602 message itself names the problem, not only error.data."""
    reply = await rpc.request("multiply", [1])
    assert reply["error"]["message"] == "Invalid params: params[1] (b): missing"


@rpc_method(name="test.notify_me_from_thread")
def notify_me_from_thread(n):
    from sidegears import current_connection

    current_connection().send_notification("just.you", [n])  # a worker thread: must be thread-safe
    return n


async def test_connection_notification_from_a_worker_thread(kernel) -> None:
    """connection.send_notification from a plain method's thread reaches only that client."""
    async with RPCTestClient.connect(kernel.url) as me, RPCTestClient.connect(kernel.url) as other:
        await other.call("multiply", [1, 1])
        assert await me.call("test.notify_me_from_thread", [7]) == 7
        assert (await me.next_notification())["params"] == [7]
        with pytest.raises(asyncio.TimeoutError):
            await other.next_notification(timeout=0.3)
