"""The inspector plugin's kernel side, through real websocket clients: its cost when unused, the log, the bound, cancelling.

The page itself is tested in headless Chromium (tests/browser/test_inspector.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sidegears import RPCKernel, current_connection, hookimpl
from sidegears.default_plugins.inspector import BUFFER_SIZE, FLUSH_DELAY, NAMESPACE, TAP_NAME, UPDATE
from sidegears.errors import ErrorCode, RPCError
from sidegears.testing import RPCTestClient, running_kernel

# Hooks that run for every message or call: none may be implemented by the inspector while nobody watches.
PER_MESSAGE_HOOKS = {"log_message", "before_dispatch", "on_notify", "after_dispatch", "on_method_error", "find_method"}


class App:
    """Methods for the tests: a quick one, an echo, and a slow one that records its cancellation."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = False

    @hookimpl
    def register_methods(self, register: Any) -> None:
        def add(a, b):
            return a + b

        def echo(value):
            return value

        async def whoami():
            connection = current_connection()
            assert connection is not None
            return connection.id

        async def slow():
            self.started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled = True
                raise
            return "finished"

        for func in (add, echo, whoami, slow):
            register(func, name=f"app.{func.__name__}")


@pytest.fixture
async def app_kernel() -> AsyncIterator[tuple[RPCKernel, App]]:
    """A running kernel (token off) with the App's methods."""
    app = App()
    kernel = RPCKernel(token=False, block_plugins=["browser"])
    kernel.register_plugin(app, "app")
    await kernel.astart("127.0.0.1", 0)
    try:
        yield kernel, app
    finally:
        await kernel.astop()


async def updates_until(client: RPCTestClient, done: Any, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The messages of the inspector's updates, until ``done(messages)`` is true."""
    messages: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while not done(messages):
        left = deadline - asyncio.get_running_loop().time()
        note = await client.next_notification(max(0.01, left))
        if note["method"] == UPDATE:  # the watcher gets the app's broadcasts too
            messages.extend(note["params"]["messages"])
    return messages


async def drain(client: RPCTestClient) -> list[dict[str, Any]]:
    """The updates sent so far: waits for the pending flush, then takes every notification queued."""
    await asyncio.sleep(3 * FLUSH_DELAY)
    notes = []
    while not client.notifications.empty():
        note = client.notifications.get_nowait()
        if note["method"] == UPDATE:
            notes.append(note)
    return notes


def inspector_hooks(kernel: RPCKernel) -> set[str]:
    pm = kernel.plugin_manager
    return {caller.name for caller in pm.get_hookcallers(pm.get_plugin("inspector")) or ()}


async def test_no_per_message_hook_without_a_subscriber(app_kernel: tuple[RPCKernel, App]) -> None:
    """With no inspector open the plugin implements no per-message hook; subscribing adds the tap, leaving removes it."""
    kernel, _ = app_kernel
    pm = kernel.plugin_manager
    assert not inspector_hooks(kernel) & PER_MESSAGE_HOOKS
    assert "log_message" not in pm.implemented and not pm.has_plugin(TAP_NAME)

    assert kernel.url is not None
    async with RPCTestClient.connect(kernel.url) as watcher:
        await watcher.call(NAMESPACE + "subscribe")
        assert pm.has_plugin(TAP_NAME) and "log_message" in pm.implemented
        assert await watcher.call(NAMESPACE + "unsubscribe") is True
        assert not pm.has_plugin(TAP_NAME) and "log_message" not in pm.implemented
        await watcher.call(NAMESPACE + "subscribe")
        assert pm.has_plugin(TAP_NAME)
    # Closing the connection is enough: a page that is closed never says goodbye.
    for _ in range(100):
        if not pm.has_plugin(TAP_NAME):
            break
        await asyncio.sleep(0.02)
    assert not pm.has_plugin(TAP_NAME) and "log_message" not in pm.implemented
    assert not inspector_hooks(kernel) & PER_MESSAGE_HOOKS

    # A stop with an inspector still open leaves no tap behind either.
    async with RPCTestClient.connect(kernel.url) as watcher:
        await watcher.call(NAMESPACE + "subscribe")
        await kernel.astop()
    assert not pm.has_plugin(TAP_NAME) and "log_message" not in pm.implemented


async def test_other_connections_are_logged_and_the_inspectors_own_traffic_is_not(
    app_kernel: tuple[RPCKernel, App],
) -> None:
    kernel, _ = app_kernel
    assert kernel.url is not None
    async with RPCTestClient.connect(kernel.url) as watcher, RPCTestClient.connect(kernel.url) as app:
        snapshot = await watcher.call(NAMESPACE + "subscribe")
        app_id = await app.call("app.whoami")
        assert {c["id"] for c in snapshot["connections"]} == {snapshot["self"], app_id}
        assert await app.call("app.add", [2, 3]) == 5
        kernel.send_notification("app.changed", {"n": 1})

        messages = await updates_until(
            watcher, lambda ms: any(m.get("method") == "app.changed" for m in ms) and any(
                m["kind"] == "reply" and m.get("method") == "app.add" for m in ms
            )
        )
        request = next(m for m in messages if m["kind"] == "request" and m["method"] == "app.add")
        reply = next(m for m in messages if m["kind"] == "reply" and m.get("method") == "app.add")
        assert request["dir"] == "in" and request["conn"] == app_id and request["content"] == [2, 3]
        assert request["size"] == len(json.dumps({"jsonrpc": "2.0", "method": "app.add", "id": request["id"], "params": [2, 3]}))
        assert reply["dir"] == "out" and reply["id"] == request["id"] and reply["content"] == 5 and reply["ms"] >= 0
        assert not request["inspector"] and not reply["inspector"]
        notification = next(m for m in messages if m.get("method") == "app.changed")
        assert notification["kind"] == "notification" and notification["conn"] is None
        # Nothing of the inspector's own: no sidegears.inspector.* request, no reply to one, no update notification.
        assert not [m for m in messages if str(m.get("method") or "").startswith(NAMESPACE)]
        assert not [m for m in messages if m["conn"] == snapshot["self"]]

        # The watcher's other calls are logged, marked as the inspector's.
        await drain(watcher)
        await watcher.call("app.add", [1, 1])
        messages = await updates_until(watcher, lambda ms: any(m["kind"] == "reply" for m in ms))
        assert {m["conn"] for m in messages} == {snapshot["self"]} and all(m["inspector"] for m in messages)

        # An error reply names its code; the connection's counts are those the inspector saw.
        await drain(watcher)
        with pytest.raises(RPCError):
            await app.call("app.nope")
        messages = await updates_until(watcher, lambda ms: any(m["kind"] == "reply" for m in ms))
        error = next(m for m in messages if m["kind"] == "reply")
        assert error["error"]["code"] == ErrorCode.METHOD_NOT_FOUND and error["method"] == "app.nope"
        latest = await watcher.call(NAMESPACE + "subscribe")
        counts = next(c for c in latest["connections"] if c["id"] == app_id)
        assert (counts["in"], counts["out"]) == (3, 3)  # whoami, add and nope, and their replies


async def test_the_buffer_is_bounded_values_are_trimmed_and_updates_are_coalesced(
    app_kernel: tuple[RPCKernel, App],
) -> None:
    kernel, _ = app_kernel
    assert kernel.url is not None
    async with RPCTestClient.connect(kernel.url) as watcher, RPCTestClient.connect(kernel.url) as app:
        await watcher.call(NAMESPACE + "subscribe")
        calls = BUFFER_SIZE  # a request and a reply each: twice what the buffer keeps
        await asyncio.gather(*(app.call("app.echo", [i]) for i in range(calls)))
        await app.call("app.echo", ["x" * 100_000])
        updates = await drain(watcher)
        latest = await watcher.call(NAMESPACE + "subscribe")
    assert len(latest["messages"]) == BUFFER_SIZE
    seqs = [m["seq"] for m in latest["messages"]]
    assert seqs == sorted(seqs) and seqs[-1] == 2 * (calls + 1)
    big = next(m for m in latest["messages"] if m["kind"] == "request" and isinstance(m["content"][0], str))
    assert len(big["content"][0]) < 300 and "100000 chars" in big["content"][0]
    assert big["size"] > 100_000  # the size on the wire, not the trimmed one
    # A thousand messages came as a few dozen notifications at most (one per FLUSH_DELAY), each with many.
    sent = sum(len(note["params"]["messages"]) + note["params"]["dropped"] for note in updates)
    assert sent == 2 * (calls + 1)
    assert len(updates) <= 50


async def test_cancel_a_call_of_another_connection(app_kernel: tuple[RPCKernel, App]) -> None:
    kernel, app_plugin = app_kernel
    assert kernel.url is not None
    async with RPCTestClient.connect(kernel.url) as watcher, RPCTestClient.connect(kernel.url) as app:
        await watcher.call(NAMESPACE + "subscribe")
        app_id = await app.call("app.whoami")
        pending = asyncio.ensure_future(app.request("app.slow"))
        await asyncio.wait_for(app_plugin.started.wait(), 5)
        for _ in range(100):
            latest = await watcher.call(NAMESPACE + "subscribe")
            if latest["calls"]:
                break
            await asyncio.sleep(0.02)
        [call] = latest["calls"]
        assert call["conn"] == app_id and call["method"] == "app.slow"

        assert await watcher.call(NAMESPACE + "cancel", {"connection": app_id, "id": call["id"]}) is True
        reply = await asyncio.wait_for(pending, 5)
        assert reply["error"]["code"] == ErrorCode.CALL_CANCELLED
        assert app_plugin.cancelled
        assert (await watcher.call(NAMESPACE + "subscribe"))["calls"] == []
        # Nothing running under that id any more; no such connection at all.
        assert await watcher.call(NAMESPACE + "cancel", {"connection": app_id, "id": call["id"]}) is False
        with pytest.raises(RPCError) as info:
            await watcher.call(NAMESPACE + "cancel", {"connection": 10**9, "id": 1})
        assert info.value.code == ErrorCode.INVALID_PARAMS


async def test_discovery_hides_the_inspector_and_plugins_lists_hooks(app_kernel: tuple[RPCKernel, App]) -> None:
    kernel, _ = app_kernel
    assert kernel.url is not None
    async with RPCTestClient.connect(kernel.url) as watcher:
        names = [m["name"] for m in (await watcher.call("rpc.discover"))["methods"]]
        assert "app.add" in names and not [n for n in names if n.startswith(NAMESPACE)]
        # Hidden, still served.
        await watcher.call(NAMESPACE + "subscribe")
        info = await watcher.call(NAMESPACE + "plugins")
    plugins = {p["name"]: p for p in info["plugins"]}
    assert plugins["browser"]["blocked"] is True
    assert plugins["inspector"]["origin"] == "bundled"
    assert {"process_http_request", "register_methods", "discover", "on_connect"} <= set(plugins["inspector"]["hooks"])
    assert plugins["app"]["origin"] == "registered at run time" and plugins["app"]["hooks"] == ["register_methods"]
    hooks = {h["name"]: [p["name"] for p in h["plugins"]] for h in info["hooks"]}
    assert hooks["log_message"] == [TAP_NAME]  # the watcher is subscribed
    security_first = next(h for h in info["hooks"] if h["name"] == "process_http_request")["plugins"][0]
    assert security_first["name"] == "security" and security_first["tryfirst"] is True


async def test_blocked_inspector_serves_no_method() -> None:
    async with running_kernel(block_plugins=["browser", "inspector"]) as kernel:
        assert "inspector" not in kernel.list_plugins()
        assert kernel.url is not None
        async with RPCTestClient.connect(kernel.url) as client:
            with pytest.raises(RPCError) as info:
                await client.call(NAMESPACE + "subscribe")
        assert info.value.code == ErrorCode.METHOD_NOT_FOUND
