"""Hard to break: property tests on the protocol, random frames at a live kernel, floods, leaks, shutdown."""

from __future__ import annotations

import asyncio
import gc
import json
import random
import tracemalloc
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

from sidegears import protocol, rpc_method
from sidegears.protocol import Request, Response
from sidegears.testing import RPCTestClient, running_kernel


@rpc_method(name="robust.echo")
async def echo(value=None):
    return value


@rpc_method(name="robust.add")
async def add(a, b):
    return a + b


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
message_like = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "1.0", 2.0, None]),
        "method": st.text(max_size=10) | st.integers() | st.none(),
        "params": json_values,
        "id": json_values,
        "result": json_values,
        "error": json_values,
    },
)


def assert_valid_reply(reply: dict) -> None:
    assert reply["jsonrpc"] == "2.0" and "id" in reply
    assert ("result" in reply) != ("error" in reply)
    if "error" in reply:
        assert isinstance(reply["error"]["code"], int) and isinstance(reply["error"]["message"], str)


def check_incoming(incoming: protocol.Incoming) -> None:
    """Whatever came in, what the kernel would send back is valid JSON-RPC."""
    if incoming.error is not None:
        assert_valid_reply(json.loads(protocol.encode_reply(incoming.error)))
        return
    assert incoming.items
    for item in incoming.items:
        if isinstance(item, dict):
            assert_valid_reply(json.loads(protocol.encode_reply(item)))
        else:
            assert isinstance(item, (Request, Response))
            if isinstance(item, Request):
                assert isinstance(item.method, str) and (item.params is None or isinstance(item.params, (list, dict)))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_any_bytes_parse_to_a_reply_never_an_exception(data: bytes) -> None:
    """Random bytes give a parse error or valid items, never an exception."""
    check_incoming(protocol.parse_message(data))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_any_text_parses_to_a_reply_never_an_exception(text: str) -> None:
    """Random text gives a parse error or valid items, never an exception."""
    check_incoming(protocol.parse_message(text))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values | message_like | st.lists(message_like | json_values, max_size=6))
def test_any_json_value_gives_valid_replies(value) -> None:
    """Any JSON value, object or batch yields requests, responses or valid error replies."""
    check_incoming(protocol.parse_message(json.dumps(value)))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_result_encodes_to_a_valid_reply(value) -> None:
    """Any method result encodes into a valid reply that round-trips."""
    reply = json.loads(protocol.encode_reply(protocol.success(1, value)))
    assert_valid_reply(reply)
    assert reply["result"] == value or value != value  # floats like -0.0 compare equal anyway


async def assert_still_serving(kernel) -> None:
    async with RPCTestClient.connect(kernel.url) as client:
        assert await client.call("robust.add", [40, 2]) == 42


def random_frames(rng: random.Random) -> list[Frame]:
    """One connection's worth of hostile frames."""
    choice = rng.randrange(8)
    if choice == 0:
        return [Frame(Opcode.TEXT, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))]
    if choice == 1:
        return [Frame(Opcode.BINARY, rng.randbytes(rng.randrange(1, 300)))]
    if choice == 2:  # a fragmented text message, valid JSON-RPC
        text = json.dumps({"jsonrpc": "2.0", "method": "robust.echo", "params": ["x" * 50], "id": 1}).encode()
        cut = rng.randrange(1, len(text) - 1)
        return [Frame(Opcode.TEXT, text[:cut], fin=False), Frame(Opcode.CONT, text[cut:])]
    if choice == 3:  # a continuation frame with nothing to continue
        return [Frame(Opcode.CONT, b"stray")]
    if choice == 4:
        return [Frame(Opcode.TEXT, b"[" * 50_000 + b"]" * 50_000)]
    if choice == 5:
        return [Frame(Opcode.TEXT, b'"' + b"\xed\xa0\x80" * 10 + b'"')]  # encoded surrogates: invalid UTF-8
    if choice == 6:  # over the size limit set below
        return [Frame(Opcode.TEXT, b"x" * 70_000)]
    return [Frame(Opcode.TEXT, json.dumps(rng.choice([[], [1], {"jsonrpc": "2.0"}, 1e308, "x"])).encode())]


async def test_random_frames_do_not_break_the_kernel() -> None:
    """60 connections throwing random frames leave the kernel answering a fresh client."""
    rng = random.Random(20261125)
    async with running_kernel(max_message_size=65_536) as kernel:
        for _ in range(60):
            async with connect(kernel.url, max_size=None) as ws:
                try:
                    for frame in random_frames(rng):
                        ws.protocol.send_frame(frame)
                    ws.send_data()
                    await asyncio.wait_for(ws.recv(), 2)
                except (ConnectionClosed, asyncio.TimeoutError):
                    pass
        await assert_still_serving(kernel)
        for _ in range(100):
            if not kernel.connections:
                break
            await asyncio.sleep(0.02)
        assert not kernel.connections


async def test_flood_without_reading_then_read_everything() -> None:
    """10,000 requests sent without reading are each answered exactly once once the client reads."""
    async with running_kernel() as kernel:
        async with connect(kernel.url) as ws:
            for i in range(10_000):
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "robust.add", "params": [i, 1], "id": i}))
            seen = {}
            for _ in range(10_000):
                reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert reply["id"] not in seen
                seen[reply["id"]] = reply["result"]
    assert seen == {i: i + 1 for i in range(10_000)}


async def test_fifty_clients_two_hundred_calls_each() -> None:
    """50 clients x 200 concurrent calls: every reply matched to its call."""
    async with running_kernel() as kernel:

        async def one_client(n: int) -> list:
            async with RPCTestClient.connect(kernel.url) as client:
                return await asyncio.gather(*(client.call("robust.add", [n * 1000, k]) for k in range(200)))

        results = await asyncio.gather(*(one_client(n) for n in range(50)))
    assert results == [[n * 1000 + k for k in range(200)] for n in range(50)]


@pytest.fixture
def no_log_records():
    """Keep log records (which pytest's capture stores) from counting as memory growth."""
    import logging

    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)


async def test_memory_is_flat_over_100000_calls_and_200_connections(no_log_records) -> None:
    """After warming up, 100,000 more calls and 200 connect/disconnects leave traced memory flat."""
    batch = json.dumps([{"jsonrpc": "2.0", "method": "robust.add", "params": [i, i], "id": i} for i in range(100)])

    async def calls(ws, batches: int) -> None:
        for _ in range(batches):
            await ws.send(batch)
            assert len(json.loads(await ws.recv())) == 100

    async with running_kernel() as kernel:
        tracemalloc.start()
        try:
            async with connect(kernel.url) as ws:
                await calls(ws, 100)
                gc.collect()
                before = tracemalloc.get_traced_memory()[0]
                await calls(ws, 1000)  # 100,000 calls
                for _ in range(200):
                    async with connect(kernel.url):
                        pass
                for _ in range(100):
                    if len(kernel.connections) == 1:
                        break
                    await asyncio.sleep(0.02)
                gc.collect()
                after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        for _ in range(100):
            if not kernel.connections:
                break
            await asyncio.sleep(0.02)
        assert len(kernel.connections) == 0
    # A leak of even 10 bytes per call would show as 1 MB.
    assert after - before < 1_000_000, f"memory grew by {after - before} bytes"


async def test_client_that_does_not_read_is_dropped_not_buffered() -> None:
    """A client that never reads notifications is closed once max_send_buffer is passed; others still get them."""
    async with running_kernel(max_send_buffer=256 * 1024) as kernel:
        async with RPCTestClient.connect(kernel.url) as reader:
            sleeper = await connect(kernel.url, max_queue=1)
            sleeper.transport.pause_reading()  # never read again
            await reader.call("robust.add", [1, 1])
            payload = "x" * 10_000
            for i in range(2000):  # 20 MB in all
                kernel.send_notification("bulk", [i, payload])
                await asyncio.sleep(0)  # the reader keeps up; the sleeper does not
            assert len(kernel.connections) == 1
            received = 0
            while received < 2000:
                note = await reader.next_notification()
                received += 1
            assert note["params"][0] == 1999
            sleeper.transport.abort()


async def test_stop_twice_and_no_pending_task_warnings() -> None:
    """stop() with calls in flight cancels them cleanly; a second stop is harmless; no 'Task was destroyed' warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with running_kernel(stop_timeout=0.1) as kernel:
            async with connect(kernel.url) as ws:
                for i in range(20):
                    await ws.send(json.dumps({"jsonrpc": "2.0", "method": "robust.echo", "params": [i], "id": i}))
                await kernel.astop()
                await kernel.astop()
        gc.collect()
    assert not [w for w in caught if "destroyed" in str(w.message) or "never awaited" in str(w.message)]


def _full_decode(text: str):
    """json's own answer through the decoder's full Python path: the value, or the error's message."""
    try:
        return "value", protocol._decoder.decode(text)
    except (ValueError, RecursionError) as exc:
        return "error", protocol._describe_json_error(exc)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, st.sampled_from(["", " ", "\n", "\t "]), st.sampled_from(["", " x", ",", "]", " 1e400", "\ufeff"]))
def test_fast_decode_gives_json_own_answer(value, space, tail) -> None:
    """decode() calls json's C scanner directly: for any text it must answer exactly as the full json path does."""
    for text in (json.dumps(value), space + json.dumps(value, ensure_ascii=False) + space, json.dumps(value) + tail):
        expected = _full_decode(text)
        try:
            got = "value", protocol.decode(text)
        except protocol.ParseError as exc:
            got = "error", exc.data
        assert got == expected


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values | st.floats() | st.integers(min_value=-(2**80), max_value=2**80) | st.lists(st.floats(), max_size=3))
def test_fast_encode_gives_json_own_answer(value) -> None:
    """encode() calls json's C encoder directly: same text, or the same error, as JSONEncoder.encode."""
    try:
        expected = "text", protocol._encoder.encode(value)
    except (TypeError, ValueError) as exc:
        expected = "error", f"{type(exc).__name__}: {exc}"
    try:
        got = "text", protocol.encode(value)
    except (TypeError, ValueError) as exc:
        got = "error", f"{type(exc).__name__}: {exc}"
    assert got == expected


def test_fast_encode_refuses_what_json_refuses() -> None:
    """Circular data, objects and NaN: the same errors as json's full path, not a RecursionError."""
    loop: list = []
    loop.append(loop)
    for value, error in ((loop, ValueError), ({"a": object()}, TypeError), ([float("nan")], ValueError), ({(1, 2): 3}, TypeError)):
        with pytest.raises(error):
            protocol.encode(value)
