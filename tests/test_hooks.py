"""Every hook fires when documented, sync or async, and every hook is documented and tested."""

from __future__ import annotations

import asyncio
import enum
import inspect
import json
import math
import re
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from sidegears import RPCError, hookimpl, hookspecs, rpc_method
from sidegears.testing import RPCTestClient, running_kernel

from .strict_json import same_json

ROOT = Path(__file__).resolve().parent.parent


@rpc_method(name="hooks.add")
async def add(a, b):
    return a + b


@rpc_method(name="hooks.crash")
def crash():
    raise KeyError("missing")


def hook_names() -> list[str]:
    return sorted(
        name for name, value in vars(hookspecs).items() if callable(value) and hasattr(value, "sidegears_spec")
    )


def test_every_hook_has_a_full_docstring() -> None:
    """Each hookspec is typed and says when it fires, whether it may be async, and what a returned value means."""
    names = hook_names()
    assert {"on_connect", "before_dispatch", "on_notify", "log_message"} <= set(names)
    for name in names:
        spec = getattr(hookspecs, name)
        doc = inspect.getdoc(spec) or ""
        signature = inspect.signature(spec)
        assert len(doc) > 80, f"hook {name} is barely documented"
        assert re.search(r"\bfires\b|\bcalled\b", doc, re.IGNORECASE), f"hook {name}: say when it fires"
        assert re.search(r"async|synchronous", doc, re.IGNORECASE), f"hook {name}: say whether it may be async"
        assert all(p.annotation is not p.empty for p in signature.parameters.values()), f"hook {name}: type its arguments"
        if signature.return_annotation != "None":
            assert re.search(r"\breturn", doc, re.IGNORECASE), f"hook {name}: say what its return value means"
        if spec.sidegears_spec.get("firstresult"):
            assert re.search(r"first result", doc, re.IGNORECASE), f"hook {name}: say that the first result wins"


def test_every_hook_is_in_the_hook_reference() -> None:
    """docs/hooks.md documents each hook by name."""
    reference = (ROOT / "docs" / "hooks.md").read_text()
    for name in hook_names():
        assert f"`{name}(" in reference, f"docs/hooks.md does not document {name}"


def test_hook_reference_is_current() -> None:
    """docs/hooks.md is what scripts/hook_reference.py generates from the specs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("hook_reference", ROOT / "scripts" / "hook_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "hooks.md").read_text() == module.render(), "run: python scripts/hook_reference.py"


def test_every_hook_has_a_test() -> None:
    """This file has a test named after each hook."""
    tests = {name for name in globals() if name.startswith("test_")}
    for name in hook_names():
        assert any(name in test for test in tests), f"no test for hook {name}"


class Recorder:
    """A plugin that records what each hook saw, with sync and async implementations."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    @hookimpl
    async def on_startup(self, kernel):
        await asyncio.sleep(0)
        self.events.append(("on_startup", kernel.port))

    @hookimpl
    def on_shutdown(self, kernel):
        self.events.append(("on_shutdown",))

    @hookimpl
    async def on_connect(self, connection):
        self.events.append(("on_connect", connection.id))

    @hookimpl
    def on_disconnect(self, connection, code):
        from sidegears import current_connection

        # Outside any call: current_connection() must not leak out of the calls' contexts.
        self.events.append(("on_disconnect", connection.id, code, current_connection()))

    @hookimpl
    def on_notify(self, message):
        self.events.append(("on_notify", message.method, message.params))

    @hookimpl
    def after_dispatch(self, message, result, error, duration):
        self.events.append(("after_dispatch", message.method, result, error and error.code, duration >= 0))

    def named(self, name: str) -> list[tuple]:
        return [event for event in self.events if event[0] == name]


async def wait_for_event(recorder: Recorder, name: str, count: int = 1) -> None:
    for _ in range(200):
        if len(recorder.named(name)) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{name} did not fire {count} time(s): {recorder.events}")


async def test_on_startup_and_on_shutdown() -> None:
    """on_startup fires once listening (async allowed), on_shutdown once at stop."""
    recorder = Recorder()
    async with running_kernel() as kernel:
        kernel.register_plugin(recorder)
        # Registered after start: a second kernel shows startup ordering.
    assert recorder.named("on_shutdown") == [("on_shutdown",)]
    second = Recorder()
    async with running_kernel() as kernel:
        pass
    kernel.register_plugin(second)
    await kernel.astart("127.0.0.1", 0)
    assert second.named("on_startup") == [("on_startup", kernel.port)]
    await kernel.astop()


async def test_on_connect_and_on_disconnect() -> None:
    """on_connect fires after the handshake, on_disconnect with the close code."""
    recorder = Recorder()
    async with running_kernel() as kernel:
        kernel.register_plugin(recorder)
        async with RPCTestClient.connect(kernel.url) as client:
            await client.call("hooks.add", [1, 2])
            (connection,) = kernel.connections
        await wait_for_event(recorder, "on_disconnect")
    assert recorder.named("on_connect") == [("on_connect", connection.id)]
    assert recorder.named("on_disconnect") == [("on_disconnect", connection.id, 1000, None)]


async def test_on_notify_sees_client_notifications_without_a_method() -> None:
    """on_notify fires for a client->kernel notification even when no method has its name."""
    recorder = Recorder()
    async with running_kernel() as kernel:
        kernel.register_plugin(recorder)
        async with RPCTestClient.connect(kernel.url) as client:
            await client.notify("ui.clicked", {"button": "ok"})
            await wait_for_event(recorder, "on_notify")
            assert await client.call("hooks.add", [1, 1]) == 2  # a request is not a notification
    assert recorder.named("on_notify") == [("on_notify", "ui.clicked", {"button": "ok"})]


async def test_after_dispatch_sees_results_and_errors() -> None:
    """after_dispatch gets the result or the error code, and a duration."""
    recorder = Recorder()
    async with running_kernel() as kernel:
        kernel.register_plugin(recorder)
        async with RPCTestClient.connect(kernel.url) as client:
            await client.call("hooks.add", [2, 3])
            with pytest.raises(RPCError):
                await client.call("hooks.crash")
            await wait_for_event(recorder, "after_dispatch", 2)
    assert recorder.named("after_dispatch") == [
        ("after_dispatch", "hooks.add", 5, None, True),
        ("after_dispatch", "hooks.crash", None, -32603, True),
    ]


@rpc_method(name="hooks.nap")
async def nap(seconds):
    await asyncio.sleep(seconds)
    return "rested"


class WaitingObservers:
    """Observers that await before they record: the kernel must wait for them, and for the method that waits."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    @hookimpl
    async def on_notify(self, message):
        await asyncio.sleep(0.01)
        self.events.append(("on_notify", message.method))

    @hookimpl
    async def after_dispatch(self, message, result, duration):
        await asyncio.sleep(0.01)
        self.events.append(("after_dispatch", message.method, result, duration))


async def test_observers_that_wait_are_awaited_before_the_reply() -> None:
    """An async after_dispatch has finished when the reply arrives, also for a method that waited; on_notify is awaited."""
    observers = WaitingObservers()
    async with running_kernel(plugins=[observers]) as kernel:
        async with RPCTestClient.connect(kernel.url) as client:
            assert await client.call("hooks.add", [2, 3]) == 5
            assert [event[:3] for event in observers.events] == [("after_dispatch", "hooks.add", 5)]
            assert await client.call("hooks.nap", [0.05]) == "rested"
            (_, method, result, duration) = observers.events[-1]
            assert (method, result) == ("hooks.nap", "rested") and duration >= 0.05
            await client.notify("hooks.add", [1, 1])
            for _ in range(200):
                if ("on_notify", "hooks.add") in observers.events and len(observers.events) == 4:
                    break
                await asyncio.sleep(0.01)
    assert observers.events[2:] == [("on_notify", "hooks.add"), ("after_dispatch", "hooks.add", 2, observers.events[3][3])]


def gate(message):
    """Rename old.add, answer cached, reject secret, let the rest pass."""
    if message.method == "old.add":
        message.method = "hooks.add"
    elif message.method == "cached":
        return {"from": "cache"}
    elif message.method == "secret":
        raise RPCError(-32099, "forbidden here")
    return None


class Gatekeeper:
    """before_dispatch: renames, answers, rejects; async on purpose (the call goes on in a coroutine)."""

    @hookimpl
    async def before_dispatch(self, message):
        return gate(message)


class SyncGatekeeper:
    """The same without awaiting: the inline path's own answers."""

    @hookimpl
    def before_dispatch(self, message):
        return gate(message)


@pytest.mark.parametrize("gatekeeper", [Gatekeeper, SyncGatekeeper])
async def test_before_dispatch_alters_answers_and_rejects(gatekeeper) -> None:
    """before_dispatch, async or not, can rename a call, answer it itself, or reject it with an RPCError."""
    async with running_kernel() as kernel:
        kernel.register_plugin(gatekeeper())
        async with RPCTestClient.connect(kernel.url) as client:
            assert await client.call("old.add", [2, 2]) == 4
            assert await client.call("cached") == {"from": "cache"}
            reply = await client.request("secret")
            assert reply["error"] == {"code": -32099, "message": "forbidden here"}
            assert await client.call("hooks.add", [1, 2]) == 3


class Methods:
    """find_method and register_methods from one plugin."""

    @hookimpl
    def find_method(self, name):
        if name.startswith("upper."):
            return lambda text: text.upper()
        return None

    @hookimpl
    def register_methods(self, register):
        register(lambda: "pong", name="plugin.ping")


async def test_find_method_and_register_methods() -> None:
    """A plugin can look methods up itself or register them per kernel."""
    async with running_kernel() as kernel:
        kernel.register_plugin(Methods())
        await kernel.astop()  # methods are registered at start
        await kernel.astart("127.0.0.1", 0)
        async with RPCTestClient.connect(kernel.url) as client:
            assert await client.call("upper.anything", ["abc"]) == "ABC"
            assert await client.call("plugin.ping") == "pong"
    async with running_kernel() as other:
        async with RPCTestClient.connect(other.url) as client:
            assert (await client.request("plugin.ping"))["error"]["code"] == -32601


class CountingLookups:
    """Counts find_method calls per name, finding nothing itself."""

    def __init__(self) -> None:
        self.names: list[str] = []

    @hookimpl(tryfirst=True)
    def find_method(self, name):
        self.names.append(name)
        return None


async def test_a_batch_looks_each_method_name_up_once() -> None:
    """find_method runs once per distinct name in a batch (each member is still served), and once per single call."""
    counter = CountingLookups()
    async with running_kernel() as kernel:
        kernel.register_plugin(counter)
        async with connect(kernel.url) as ws:
            batch = [{"jsonrpc": "2.0", "method": "hooks.add", "params": [i, 1], "id": i} for i in range(5)]
            batch += [{"jsonrpc": "2.0", "method": "nope", "id": 9}, {"jsonrpc": "2.0", "method": "nope", "id": 10}]
            await ws.send(json.dumps(batch))
            replies = {r["id"]: r for r in json.loads(await asyncio.wait_for(ws.recv(), 5))}
            assert [replies[i]["result"] for i in range(5)] == [1, 2, 3, 4, 5]
            assert replies[9]["error"]["code"] == replies[10]["error"]["code"] == -32601
            assert sorted(counter.names) == ["hooks.add", "nope", "nope"]  # an unknown name is asked again
            counter.names.clear()
            for i in range(2):
                await ws.send(json.dumps(batch[0]))
                assert json.loads(await asyncio.wait_for(ws.recv(), 5))["result"] == 1
            assert counter.names == ["hooks.add", "hooks.add"]


async def test_register_methods_refuses_a_duplicate_name() -> None:
    """Two plugins registering one method name stop the start with a PluginError naming both."""
    from sidegears import PluginError

    class Again(Methods):
        pass

    kernel_options = {"token": False}
    from sidegears import RPCKernel

    kernel = RPCKernel(**kernel_options)
    kernel.register_plugin(Methods(), name="first")
    kernel.register_plugin(Again(), name="second")
    with pytest.raises(PluginError, match="first|second"):
        await kernel.astart("127.0.0.1", 0)
    assert not kernel.is_serving


class TracebackAdder:
    @hookimpl
    def on_method_error(self, exception, error):
        error.data = {"kind": type(exception).__name__}


async def test_on_method_error_can_set_error_data() -> None:
    """on_method_error sees the exception and may fill error.data."""
    async with running_kernel() as kernel:
        kernel.register_plugin(TracebackAdder())
        async with RPCTestClient.connect(kernel.url) as client:
            reply = await client.request("hooks.crash")
    assert reply["error"]["data"] == {"kind": "KeyError"}


class MessageLog:
    def __init__(self) -> None:
        self.seen: list[tuple] = []

    @hookimpl
    def log_message(self, connection, direction, message, size, duration):
        self.seen.append((direction, message, size, duration is not None, connection is None))


async def test_log_message_sees_every_message_in_and_out_with_logging_off() -> None:
    """A third-party log_message gets requests, replies and broadcasts with their sizes, though basic logging is off."""
    log = MessageLog()
    async with running_kernel() as kernel:
        kernel.register_plugin(log)
        assert not kernel.basic_logging
        async with RPCTestClient.connect(kernel.url) as client:
            await client.call("hooks.add", [1, 2])
            kernel.send_notification("tick")
            await client.next_notification()
    request = {"jsonrpc": "2.0", "method": "hooks.add", "id": 1, "params": [1, 2]}
    reply = {"jsonrpc": "2.0", "result": 3, "id": 1}
    assert log.seen[0] == ("in", request, len(json.dumps(request)), False, False)
    assert log.seen[1][:2] == ("out", reply) and log.seen[1][3] is True
    assert log.seen[2][:2] == ("out", {"jsonrpc": "2.0", "method": "tick"}) and log.seen[2][4] is True


class Level(enum.IntEnum):
    HIGH = 3


class Name(str):
    pass


#: Results whose reply the log gets as it is (plain JSON) or decoded from what was sent.
RESULTS = {
    "int": 3, "big": 2**70, "str": "é\ud800", "float": 1.5, "null": None, "bool": True,
    "tuple": (1, 2), "int keys": {1: "a"}, "nan": math.nan, "enum": Level.HIGH, "str subclass": Name("n"),
    "dict": {"a": [1, 2.5, None, "é"], "b": {}}, "nested tuple": {"a": (1,)}, "nested nan": [math.nan],
    "nested enum": [Level.HIGH], "surrogate pair": ["\ud800\udc00"], "long list": list(range(100)),
}


@rpc_method(name="hooks.result")
async def result_of(kind):
    return RESULTS[kind]


@pytest.mark.parametrize("params", [{"p": [1, "x", None]}, {"t": (1, 2)}, [Level.HIGH], {"n": ["\ud800\udc00"]}])
async def test_log_message_gets_each_broadcast_as_sent(params) -> None:
    """A notification the kernel sends is logged as the JSON the client received, from the loop or from a thread."""
    log = MessageLog()
    async with running_kernel(plugins=[log]) as kernel:
        async with connect(kernel.url) as ws:
            kernel.send_notification("news", params)
            await asyncio.to_thread(kernel.send_notification, "news", params)
            received = [await asyncio.wait_for(ws.recv(), 5) for _ in range(2)]
    out = [entry for entry in log.seen if entry[0] == "out"]
    assert len(out) == 2
    for entry, text in zip(out, received):
        assert same_json(entry[1], json.loads(text)) and entry[2] == len(text.encode()), (entry, text)


@pytest.mark.parametrize("kind", RESULTS)
async def test_log_message_gets_each_reply_as_sent(kind) -> None:
    """The "out" message is the JSON the client received, whatever the result encodes as, with its size."""
    log = MessageLog()
    async with running_kernel() as kernel:
        kernel.register_plugin(log)
        async with connect(kernel.url) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "hooks.result", "params": [kind], "id": 1}))
            received = await asyncio.wait_for(ws.recv(), 5)
    (out,) = [entry for entry in log.seen if entry[0] == "out"]
    assert same_json(out[1], json.loads(received)) and out[2] == len(received.encode())
    assert ("error" in out[1]) == (kind in ("nan", "nested nan"))


@pytest.mark.parametrize("kinds", [["int", "str", "null"], ["int", "tuple"], ["float", "nan", "bool"], ["enum", "big"],
                                   ["dict", "long list"], ["dict", "nested enum"]])
async def test_log_message_gets_each_batch_reply_as_sent(kinds) -> None:
    """A batch's reply is logged as the JSON the client received too, plain members or not."""
    log = MessageLog()
    batch = [{"jsonrpc": "2.0", "method": "hooks.result", "params": [kind], "id": i} for i, kind in enumerate(kinds)]
    async with running_kernel() as kernel:
        kernel.register_plugin(log)
        async with connect(kernel.url) as ws:
            await ws.send(json.dumps(batch))
            received = await asyncio.wait_for(ws.recv(), 5)
    (out,) = [entry for entry in log.seen if entry[0] == "out"]
    assert same_json(out[1], json.loads(received)) and out[2] == len(received.encode())
    assert len(out[1]) == len(kinds)


class Gate:
    @hookimpl
    def process_http_request(self, request):
        if request.path.startswith("/health"):
            return Response(200, "OK", Headers([("Content-Length", "2")]), b"ok")
        if request.headers.get("X-Block"):
            return Response(403, "Forbidden", Headers([("Content-Length", "0")]), b"")
        return None


async def test_process_http_request_answers_or_refuses_before_the_upgrade() -> None:
    """process_http_request can serve a plain GET and refuse a handshake."""
    import http.client

    async with running_kernel() as kernel:
        kernel.register_plugin(Gate())

        def get() -> tuple[int, bytes]:
            conn = http.client.HTTPConnection("127.0.0.1", kernel.port, timeout=5)
            conn.request("GET", "/health")
            response = conn.getresponse()
            return response.status, response.read()

        assert await asyncio.to_thread(get) == (200, b"ok")
        with pytest.raises(InvalidStatus) as refused:
            await connect(kernel.url, additional_headers={"X-Block": "1"})
        assert refused.value.response.status_code == 403
        async with connect(kernel.url):
            pass


async def test_unimplemented_hooks_are_skipped() -> None:
    """The manager's set of implemented hooks follows every registration, through the kernel or the manager."""
    async with running_kernel(block_plugins=["debug"]) as kernel:
        pm = kernel.plugin_manager
        assert "before_dispatch" not in pm.implemented and "on_notify" not in pm.implemented
        recorder = Recorder()
        kernel.register_plugin(recorder)
        assert "on_notify" in pm.implemented
        kernel.unregister_plugin(recorder)
        assert "on_notify" not in pm.implemented
        pm.register(recorder)
        assert "on_notify" in pm.implemented
        pm.unregister(recorder)
        assert "on_notify" not in pm.implemented


class FakeWindowOpener:
    """A launch_window implementation that records the request instead of opening a browser."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    @hookimpl(tryfirst=True)
    def launch_window(self, kernel, url, runtime, options):
        self.calls.append((url, runtime, options))
        return ("window", kernel.http_url)


async def test_launch_window_serves_kernel_launch() -> None:
    """kernel.launch() returns what the first launch_window implementation returns."""
    opener = FakeWindowOpener()
    async with running_kernel() as kernel:
        kernel.register_plugin(opener)
        assert kernel.launch("/page", runtime="app", size=(800, 600)) == ("window", kernel.http_url)
    assert opener.calls == [("/page", "app", {"size": (800, 600)})]
    async with running_kernel(block_plugins=["browser"]) as kernel:
        with pytest.raises(RuntimeError, match="no plugin opens windows"):
            kernel.launch()


class SettingsWatcher:
    def __init__(self) -> None:
        self.changes: list[tuple] = []

    @hookimpl
    def on_settings_changed(self, name, value):
        self.changes.append((name, value))


def test_on_settings_changed_fires_for_each_setting() -> None:
    """set_debug, set_basic_logging and set_trim_log_values each fire on_settings_changed."""
    from sidegears import RPCKernel

    kernel = RPCKernel(token=False)
    watcher = SettingsWatcher()
    kernel.register_plugin(watcher)
    kernel.set_debug(True)
    kernel.set_basic_logging(True)
    kernel.set_trim_log_values(True)
    kernel.set_debug(False)
    assert watcher.changes == [("debug", True), ("basic_logging", True), ("trim_log_values", True), ("debug", False)]


def test_debug_tracer_is_registered_only_while_debug_is_on() -> None:
    """With debug off no plugin implements before_dispatch, so it costs nothing per message."""
    from sidegears import RPCKernel

    kernel = RPCKernel(token=False, load_entry_points=False)
    implemented = lambda: kernel.plugin_manager.implemented  # noqa: E731
    assert "before_dispatch" not in implemented() and "after_dispatch" not in implemented()
    kernel.set_debug(True)
    assert "before_dispatch" in implemented() and "after_dispatch" in implemented()
    kernel.set_debug(False)
    assert "before_dispatch" not in implemented()


class BrokenObserver:
    @hookimpl
    def after_dispatch(self):
        raise RuntimeError("observer bug")

    @hookimpl
    def on_method_error(self):
        raise RuntimeError("observer bug")


async def test_after_dispatch_and_on_method_error_failures_do_not_lose_replies(caplog) -> None:
    """An observer hook that raises is logged, and the client still gets its reply."""
    async with running_kernel() as kernel:
        kernel.register_plugin(BrokenObserver())
        async with RPCTestClient.connect(kernel.url) as client:
            assert await client.call("hooks.add", [1, 2]) == 3
            assert (await client.request("hooks.crash"))["error"]["code"] == -32603
        async with connect(kernel.url) as ws:
            batch = [{"jsonrpc": "2.0", "method": "hooks.add", "params": [i, i], "id": i} for i in range(3)]
            await ws.send(json.dumps(batch))
            replies = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert sorted(r["result"] for r in replies) == [0, 2, 4]
    assert any("after_dispatch hook failed" in r.getMessage() for r in caplog.records)
    assert any("on_method_error hook failed" in r.getMessage() for r in caplog.records)


async def test_log_message_with_a_lone_surrogate_still_replies() -> None:
    """With logging on, a message holding a lone surrogate is logged with its UTF-8 size and still answered."""
    log = MessageLog()
    async with running_kernel() as kernel:
        kernel.register_plugin(log)
        kernel.set_basic_logging(True)
        async with RPCTestClient.connect(kernel.url) as client:
            assert await client.call("hooks.add", ["\ud800", "x"]) == "\ud800x"
    out = [entry for entry in log.seen if entry[0] == "out"]
    assert out and out[0][1]["result"] == "\ud800x"


class OptionsPlugin:
    """register_options: declares one option."""

    @hookimpl
    def register_options(self, register):
        register("greeting", "hello", "what the plugin says")


def test_register_options_declares_plugin_options() -> None:
    """Declared options are accepted by RPCKernel(...) with their defaults; a misspelling or a clash is an error."""
    from sidegears import PluginError, RPCKernel
    from sidegears.plugins import PluginManager

    kernel = RPCKernel(token=False)
    assert kernel.options["static_dir"] is None  # declared by the bundled static plugin
    assert RPCKernel(token=False, static_dir="web").options["static_dir"] == "web"
    with pytest.raises(TypeError, match="'static_dri'.*did you mean 'static_dir'"):
        RPCKernel(static_dri="web")

    class Clash:
        @hookimpl
        def register_options(self, register):
            register("greeting")

    pm = PluginManager()
    pm.register(OptionsPlugin(), name="options_plugin")
    assert pm.declared_options() == {"greeting": "hello"}
    pm.register(Clash(), name="clash")
    with pytest.raises(PluginError, match="declares option 'greeting', already declared by"):
        pm.declared_options()
    alone = PluginManager()
    alone.register(OptionsPlugin(), name="options_plugin")
    with pytest.raises(PluginError, match="'options_plugin' declares option 'greeting', already declared by 'the kernel'"):
        alone.declared_options(reserved={"greeting"})


class LaunchUrlPlugin:
    """launch_url: answers with its own address."""

    @hookimpl(tryfirst=True)
    def launch_url(self, kernel):
        return f"http://127.0.0.1:{kernel.port}/custom"


async def test_launch_url_hook_gives_the_window_address() -> None:
    """kernel.launch_url() is the first launch_url answer; the security plugin's carries a single-use code."""
    async with running_kernel(token="a-token-of-enough-length") as kernel:
        assert "?launch=" in kernel.launch_url()
        kernel.register_plugin(LaunchUrlPlugin())
        assert kernel.launch_url() == f"http://127.0.0.1:{kernel.port}/custom"
    async with running_kernel(token="a-token-of-enough-length", block_plugins=["security"]) as kernel:
        assert kernel.launch_url() == kernel.http_url  # nobody answers


class AnswerWrapper:
    """A new-style wrapper of before_dispatch that sees the results and replaces them for one method."""

    def __init__(self) -> None:
        self.seen: list = []

    @hookimpl(wrapper=True)
    def before_dispatch(self, message):
        results = yield
        self.seen.append((message.method, list(results)))
        if message.method == "wrapped":
            return [{"from": "wrapper"}]
        return results


class OldStyleWrapper:
    """An old-style hookwrapper of find_method that counts lookups."""

    def __init__(self) -> None:
        self.names: list[str] = []

    @hookimpl(hookwrapper=True)
    def find_method(self, name):
        self.names.append(name)
        yield


class PassThrough:
    @hookimpl
    def before_dispatch(self):
        return None


async def test_before_dispatch_wrappers_see_and_replace_the_result() -> None:
    """wrapper=True on before_dispatch sees the implementations' results and can answer; hookwrapper=True works too."""
    wrapper, counter = AnswerWrapper(), OldStyleWrapper()
    async with running_kernel() as kernel:
        kernel.register_plugin(PassThrough())
        kernel.register_plugin(wrapper)
        kernel.register_plugin(counter)
        async with RPCTestClient.connect(kernel.url) as client:
            assert await client.call("hooks.add", [2, 3]) == 5
            assert await client.call("wrapped") == {"from": "wrapper"}
    assert wrapper.seen == [("hooks.add", []), ("wrapped", [])]  # pluggy collects only non-None results
    # Every message's method is looked up first (a typed method's params are converted before before_dispatch);
    # "wrapped" has none, and was answered by the wrapper all the same.
    assert counter.names == ["hooks.add", "wrapped"]


class LateAsyncGate:
    """Two async before_dispatch implementations: the first passes, the second answers."""

    @hookimpl
    async def before_dispatch(self, message):
        await asyncio.sleep(0)
        return None


class LateAsyncAnswer:
    @hookimpl(tryfirst=True)
    async def before_dispatch(self, message):
        await asyncio.sleep(0)
        return None

    @hookimpl
    async def on_connect(self, connection):
        connection.state["greeted"] = True


async def test_async_before_dispatch_that_passes_does_not_stop_the_others() -> None:
    """An async before_dispatch resolving to None lets the next implementation answer (pluggy alone would stop)."""

    class Answer:
        @hookimpl(trylast=True)
        async def before_dispatch(self, message):
            return "answered" if message.method == "ask" else None

    async with running_kernel() as kernel:
        for plugin in (Answer(), LateAsyncGate(), LateAsyncAnswer()):
            kernel.register_plugin(plugin)
        async with RPCTestClient.connect(kernel.url) as client:
            assert await client.call("ask") == "answered"
            assert await client.call("hooks.add", [1, 1]) == 2


async def test_plugin_registered_through_the_manager_on_a_running_kernel_runs() -> None:
    """plugin_manager.register() on a running kernel takes effect on the next message; unregister() too."""
    recorder = Recorder()
    async with running_kernel() as kernel:
        async with RPCTestClient.connect(kernel.url) as client:
            assert await client.call("hooks.add", [1, 1]) == 2
            kernel.plugin_manager.register(recorder, name="late")
            await client.call("hooks.add", [2, 2])
            await wait_for_event(recorder, "after_dispatch", 1)
            kernel.plugin_manager.unregister(name="late")
            await client.call("hooks.add", [3, 3])
    assert [event[1] for event in recorder.named("after_dispatch")] == ["hooks.add"]
    assert [event for event in recorder.named("after_dispatch") if event[2] == 6] == []


def test_fast_callers_answer_as_pluggy_does() -> None:
    """The manager's fast callers give pluggy's answers in pluggy's order, and yield to pluggy for wrappers and monitoring.

    ``find_method`` (first result) and ``log_message`` (all results) stand
    for the two kinds of hooks the kernel calls on every message.
    """
    from sidegears.plugins import PluginManager

    calls: list[str] = []

    def plugin(answer, **opts):
        class Plugin:
            @hookimpl(**opts)
            def find_method(self, name):
                return answer if name == "x" else None

            @hookimpl(**opts)
            def log_message(self, message, direction):  # not the spec's order: arguments go by name
                calls.append(f"{answer}:{direction}")
                return answer if message == "x" else None

        return Plugin()

    pm = PluginManager()
    for answer, name, opts in (("first-registered", "a", {}), ("last", "b", {}), ("tried-last", "c", {"trylast": True})):
        pm.register(plugin(answer, **opts), name=name)
    pm.register(plugin(None, tryfirst=True), name="d")  # passes
    find, log = pm.fast_caller("find_method"), pm.fast_caller("log_message")
    assert find is not pm.hook.find_method and log is not pm.hook.log_message
    log_args = {"kernel": None, "connection": None, "direction": "in", "size": 1, "duration": None}
    for name in ("x", "y"):
        assert find(kernel=None, name=name) == pm.hook.find_method(kernel=None, name=name)
        calls.clear()
        fast_answer = log(message=name, **log_args)
        fast_calls = list(calls)
        calls.clear()
        assert fast_answer == pm.hook.log_message(message=name, **log_args) and fast_calls == calls
    assert find(kernel=None, name="x") == "last"
    assert log(message="x", **log_args) == ["last", "first-registered", "tried-last"]
    pm.register(OldStyleWrapper(), name="wrapper")
    assert pm.fast_caller("find_method") is pm.hook.find_method
    pm.unregister(name="wrapper")
    undo = pm.add_hookcall_monitoring(lambda *args: None, lambda *args: None)
    assert pm.fast_caller("find_method") is pm.hook.find_method and pm.fast_caller("log_message") is pm.hook.log_message
    undo()
    assert pm.fast_caller("find_method") is not pm.hook.find_method
    # One implementation (a kernel's usual find_method): its answer, None included.
    alone = PluginManager()
    alone.register(plugin("only"), name="only")
    find = alone.fast_caller("find_method")
    assert find is not alone.hook.find_method
    for name in ("x", "y"):
        assert find(kernel=None, name=name) == alone.hook.find_method(kernel=None, name=name)
    assert find(kernel=None, name="x") == "only" and find(kernel=None, name="y") is None


class PingPlugin:
    """Serves "plugin.ping" from find_method, and lists it."""

    @staticmethod
    def ping() -> str:
        """Answer pong."""
        return "pong"

    @hookimpl
    def find_method(self, name):
        return self.ping if name == "plugin.ping" else None

    @hookimpl
    def list_methods(self):
        return {"plugin.ping": self.ping}


class HideSecrets:
    @hookimpl
    def discover(self, kernel, document):
        document["methods"] = [m for m in document["methods"] if not m["name"].startswith("hooks.")]


async def test_list_methods_feeds_discovery_and_close_name_suggestions() -> None:
    """A plugin's listed methods appear in rpc.discover, and a misspelt call is told the close name."""
    async with running_kernel() as kernel:
        kernel.register_plugin(PingPlugin())
        async with RPCTestClient.connect(kernel.url) as client:
            assert await client.call("plugin.ping") == "pong"
            document = await client.call("rpc.discover")
            ping = next(m for m in document["methods"] if m["name"] == "plugin.ping")
            assert ping["summary"] == "Answer pong." and ping["result"]["schema"] == {"type": "string"}
            reply = await client.request("plugin.pnig")
    assert reply["error"]["data"] == {"method": "plugin.pnig", "did_you_mean": "plugin.ping"}


async def test_discover_hook_hides_methods_that_stay_callable() -> None:
    async with running_kernel() as kernel:
        async with RPCTestClient.connect(kernel.url) as client:
            before = {m["name"] for m in (await client.call("rpc.discover"))["methods"]}
            kernel.register_plugin(HideSecrets())
            after = {m["name"] for m in (await client.call("rpc.discover"))["methods"]}
            assert "hooks.add" in before and "hooks.add" not in after and "rpc.discover" in after
            assert await client.call("hooks.add", [2, 3]) == 5
