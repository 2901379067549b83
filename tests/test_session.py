"""RPCSession without sockets: text in, text out, through a list standing in for the transport."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sidegears import RPCKernel, hookimpl
from sidegears.connection import Connection
from sidegears.errors import ClientGone
from sidegears.session import RPCSession

from .spec_examples import EXAMPLES, canonical


class ListSink:
    """A Sink that keeps what the session sends, in order (the socket's place in these tests)."""

    remote_address = ("test", 0)
    request = None

    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.is_open = True
        self.paused = False
        self.reading = True
        self.flushes = 0

    def send_text(self, data: bytes, flush_soon: bool = True) -> bool:
        if not self.is_open:
            return False
        self.sent.append(json.loads(data))
        return True

    def flush(self) -> None:
        self.flushes += 1

    async def wait_writable(self) -> None:
        return None

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True


class SpecMethods:
    """The methods of the specification's examples, found by this plugin for this kernel only."""

    gate: asyncio.Event | None = None

    @hookimpl(tryfirst=True)
    def find_method(self, name):
        return {
            "subtract": lambda minuend, subtrahend: minuend - subtrahend,
            "sum": self.add,
            "update": lambda *args: None,
            "notify_hello": lambda *args: None,
            "notify_sum": lambda *args: None,
            "get_data": self.get_data,
            "wait": self.wait,
            "later": self.later,
            "fail": self.fail,
        }.get(name)

    @staticmethod
    async def later(*args):
        await asyncio.sleep(0)
        return list(args)

    @staticmethod
    async def fail(*args):
        raise ValueError("no")

    @staticmethod
    async def add(*numbers):
        return sum(numbers)

    @staticmethod
    async def get_data():
        return ["hello", 5]

    async def wait(self):
        assert self.gate is not None
        await self.gate.wait()
        return "released"


def new_session(**options: Any) -> tuple[RPCSession, ListSink, SpecMethods]:
    kernel = RPCKernel(token=False, load_entry_points=False, **options)
    methods = SpecMethods()
    kernel.register_plugin(methods)
    sink = ListSink()
    connection = Connection(kernel, sink)  # type: ignore[arg-type]
    session = RPCSession(kernel, connection, sink)
    connection.session = session
    return session, sink, methods


async def settle_session(session: RPCSession) -> None:
    """Wait (bounded) until no call of the session is running; plain methods come back from a worker thread."""
    await asyncio.sleep(0)
    for _ in range(1000):
        if not session.tasks and session.in_flight == 0:
            break
        await asyncio.sleep(0.002)
    await asyncio.sleep(0)


@pytest.mark.parametrize("name, text, expected", EXAMPLES, ids=[e[0] for e in EXAMPLES])
async def test_specification_examples_without_a_socket(name, text, expected) -> None:
    """Each example of the specification, as text into a session, gives the specified text out (or none)."""
    session, sink, _ = new_session()
    done = session.start()
    session.receive_text(text)
    await settle_session(session)
    if expected is None:
        assert sink.sent == []
    else:
        assert len(sink.sent) == 1 and canonical(sink.sent[0]) == canonical(expected)
    session.receive_eof()
    await asyncio.wait_for(done, 5)


async def test_waiting_call_does_not_hold_back_the_next_and_backpressure_pauses_reading() -> None:
    """A call that waits lets later messages through; past max_in_flight the session pauses reading, then resumes."""
    session, sink, methods = new_session(max_in_flight=1)
    methods.gate = asyncio.Event()
    done = session.start()
    session.receive_text('{"jsonrpc": "2.0", "method": "wait", "id": 1}')
    await asyncio.sleep(0.01)
    assert session.in_flight == 1
    session.receive_text('{"jsonrpc": "2.0", "method": "get_data", "id": 2}')
    assert not sink.reading  # one message waits: at the limit, reading stops
    await asyncio.sleep(0.01)
    assert sink.sent == []  # held back until there is room
    methods.gate.set()
    await settle_session(session)
    assert [reply["id"] for reply in sink.sent] == [1, 2] and sink.reading
    session.receive_eof()
    await asyncio.wait_for(done, 5)


async def test_kernel_to_client_call_resolves_from_the_response_text() -> None:
    """session.call() writes a request; the client's response text resolves it; EOF fails calls still pending."""
    session, sink, _ = new_session()
    done = session.start()
    call = asyncio.ensure_future(session.call("ui.confirm", {"text": "sure?"}))
    await settle_session(session)
    (request,) = sink.sent
    assert request["method"] == "ui.confirm" and request["params"] == {"text": "sure?"}
    session.receive_text(json.dumps({"jsonrpc": "2.0", "result": True, "id": request["id"]}))
    assert await asyncio.wait_for(call, 5) is True
    pending = asyncio.ensure_future(session.call("ui.never"))
    await settle_session(session)
    session.receive_eof()
    with pytest.raises(ClientGone):
        await asyncio.wait_for(pending, 5)
    await asyncio.wait_for(done, 5)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
members = st.fixed_dictionaries(
    {"jsonrpc": st.sampled_from(["2.0", "2.0", "1.0"]), "method": st.sampled_from(["subtract", "sum", "nope", 3])},
    optional={"id": st.integers(0, 10**6) | st.text(max_size=4), "params": json_values},
)
#: Methods that finish at once, wait, raise, run in a thread, or do not exist.
any_methods = st.sampled_from(["subtract", "sum", "nope", 3, "later", "fail", "get_data"])


def is_valid(member: dict) -> bool:
    params_ok = "params" not in member or isinstance(member["params"], (list, dict))
    return member["jsonrpc"] == "2.0" and isinstance(member["method"], str) and params_ok


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(members, min_size=1, max_size=8))
async def test_every_request_with_an_id_gets_exactly_one_reply(batch) -> None:
    """For any batch of request-like members, each request with an id and each invalid member gets exactly one reply."""
    session, sink, _ = new_session()
    done = session.start()
    session.receive_text(json.dumps(batch))
    await settle_session(session)
    session.receive_eof()
    await asyncio.wait_for(done, 5)
    expected = sorted(json.dumps(m.get("id")) for m in batch if "id" in m or not is_valid(m))
    if not expected:
        assert sink.sent == []
        return
    (replies,) = sink.sent
    assert sorted(json.dumps(reply["id"]) for reply in replies) == expected


class AfterDispatchObserver:
    """Observes every call and returns nothing: the session's observer branches run, and must change no reply."""

    @hookimpl
    def after_dispatch(self, kernel, connection, message, result, error, duration):
        return None


async def replies_of(text: str, observed: bool) -> list[Any]:
    session, sink, _ = new_session()
    if observed:
        session.kernel.register_plugin(AfterDispatchObserver())
    assert bool(session.kernel.plugin_manager.call_observers) is observed
    done = session.start()
    session.receive_text(text)
    await settle_session(session)
    session.receive_eof()
    await asyncio.wait_for(done, 5)
    return sink.sent


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(members | st.builds(lambda m, name: {**m, "method": name}, members, any_methods),
                      min_size=1, max_size=6),
       single=st.booleans())
async def test_an_observer_that_returns_nothing_changes_no_reply(batch, single) -> None:
    """Calls observed by a hook that returns None get the replies unobserved calls get, bit for bit."""
    text = json.dumps(batch[0] if single else batch)
    inline = await replies_of(text, observed=False)
    dispatched = await replies_of(text, observed=True)
    assert inline == dispatched


async def typed_double(x: int) -> int:
    return 2 * x


class SlowFinder:
    """find_method taking 20 ms: a typed method for "slow.typed", an exception for "slow.broken"."""

    @hookimpl
    def find_method(self, name):
        if not name.startswith("slow."):
            return None
        time.sleep(0.02)
        if name == "slow.broken":
            raise RuntimeError("the finder broke")
        return typed_double


class Durations:
    def __init__(self) -> None:
        self.seen: list[tuple] = []

    @hookimpl
    def after_dispatch(self, message, error, duration):
        self.seen.append((message.method, error and error.code, duration))


async def test_after_dispatch_duration_counts_the_lookup_and_the_params_check() -> None:
    """The duration runs from before the method's lookup, also when the lookup or the params check fails."""
    session, _, _ = new_session()
    durations = Durations()
    for plugin in (SlowFinder(), durations):
        session.kernel.register_plugin(plugin)
    done = session.start()
    for i, (name, params) in enumerate([("slow.typed", [2]), ("slow.typed", ["two"]), ("slow.broken", [])]):
        session.receive_text(json.dumps({"jsonrpc": "2.0", "id": i, "method": name, "params": params}))
    await settle_session(session)
    session.receive_eof()
    await asyncio.wait_for(done, 5)
    assert [seen[:2] for seen in durations.seen] == [("slow.typed", None), ("slow.typed", -32602), ("slow.broken", -32603)]
    assert all(seen[2] >= 0.02 for seen in durations.seen), durations.seen


class CancellingObserver:
    """An after_dispatch that raises what is not an Exception: it propagates, as from any hook."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    async def after_dispatch(self, message):
        self.calls += 1
        raise asyncio.CancelledError()


@pytest.mark.parametrize("method", ["sum", "wait"])
async def test_after_dispatch_is_not_told_of_what_it_raised_itself(method) -> None:
    """after_dispatch raising CancelledError is not taken for the call's own error and observed a second time.

    "sum" returns without waiting (the inline path), "wait" waits (the call is finished in a task).
    """
    session, _, methods = new_session()
    observer = CancellingObserver()
    session.kernel.register_plugin(observer)
    methods.gate = asyncio.Event()
    done = session.start()
    session.receive_text(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}))
    await asyncio.sleep(0)
    methods.gate.set()
    await settle_session(session)
    session.receive_eof()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(done, 5)
    assert observer.calls == 1


async def test_dispatch_awaits_a_call_to_its_reply() -> None:
    """RPCSession.dispatch, for callers that await a call: the reply, also of a method that waits; None for a notification."""
    from sidegears.protocol import Request

    session, _, methods = new_session()
    methods.gate = asyncio.Event()
    assert await session.dispatch(Request("subtract", [42, 23], 1)) == {"jsonrpc": "2.0", "result": 19, "id": 1}
    waiting = asyncio.ensure_future(session.dispatch(Request("wait", [], 2)))
    await asyncio.sleep(0)
    assert not waiting.done()
    methods.gate.set()
    assert await asyncio.wait_for(waiting, 5) == {"jsonrpc": "2.0", "result": "released", "id": 2}
    assert await session.dispatch(Request("sum", [1, 2])) is None
    assert (await session.dispatch(Request("nope", [], 3)))["error"]["code"] == -32601
