"""The debug plugin: tracebacks in error.data only in debug mode, and a trace line per call."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from sidegears import RPCError, RPCKernel, hookimpl
from sidegears.default_plugins.debug import LOGGER_NAME
from sidegears.testing import RPCTestClient, running_kernel


def echo(value: Any) -> Any:
    return value


def fail() -> None:
    return 1 / 0  # type: ignore[return-value]


class MethodsPlugin:
    """Serves ``echo`` and ``fail`` to the one kernel it is registered with."""

    @hookimpl
    def find_method(self, name: str) -> Any:
        return {"echo": echo, "fail": fail}.get(name)


def connect_to(kernel: RPCKernel, **options: Any) -> Any:
    """A test client connected to ``kernel`` (a context manager)."""
    assert kernel.url is not None
    return RPCTestClient.connect(kernel.url, **options)


@pytest.fixture(autouse=True)
def capture_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="sidegears")


def trace(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == LOGGER_NAME]
    return [record for record in records if record["event"] == event]


async def until_traced(caplog: pytest.LogCaptureFixture, event: str, count: int) -> list[dict[str, Any]]:
    for _ in range(500):
        found = trace(caplog, event)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"fewer than {count} {event!r} trace lines")


async def call_fail(kernel: RPCKernel) -> RPCError:
    async with connect_to(kernel) as client:
        with pytest.raises(RPCError) as raised:
            await client.call("fail")
    return raised.value


@pytest.mark.parametrize("debug", [True, False])
async def test_traceback_in_error_data_only_in_debug_mode(debug: bool) -> None:
    """A failing method's error carries its traceback in debug mode, and no data at all otherwise."""
    async with running_kernel() as kernel:
        kernel.register_plugin(MethodsPlugin(), name="test_methods")
        kernel.set_debug(debug)
        error = await call_fail(kernel)
    assert error.code == -32603
    if debug:
        assert error.data["type"] == "ZeroDivisionError"
        assert error.data["message"] == "division by zero"
        assert error.data["traceback"].startswith("Traceback (most recent call last):")
        assert "in fail" in error.data["traceback"]
    else:
        assert error.data is None


@pytest.mark.parametrize("debug", [True, False])
async def test_exception_logged_in_both_modes(caplog: pytest.LogCaptureFixture, debug: bool) -> None:
    """The exception and its traceback are logged at ERROR whether debug mode is on or off."""
    async with running_kernel() as kernel:
        kernel.register_plugin(MethodsPlugin(), name="test_methods")
        kernel.set_debug(debug)
        await call_fail(kernel)
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "method failed" in record.getMessage() and "ZeroDivisionError" in record.getMessage()


async def test_trace_line_per_call(caplog: pytest.LogCaptureFixture) -> None:
    """In debug mode each call logs its method, id, duration and the plugins whose hooks it went through."""
    async with running_kernel(log_format="json", load_entry_points=False) as kernel:
        kernel.register_plugin(MethodsPlugin(), name="test_methods")
        kernel.set_debug(True)
        async with connect_to(kernel) as client:
            assert await client.call("echo", ["hi"]) == "hi"  # before_dispatch returned None: not answered
            await client.notify("echo", ["note"])
            (call, note) = await until_traced(caplog, "call", 2)
    assert call["kind"] == "request" and call["method"] == "echo" and call["id"] == 1
    assert call["outcome"] == "result" and call["duration_ms"] >= 0 and call["level"] == "debug"
    assert call["hooks"]["before_dispatch"][0] == "debug.tracer"
    assert call["hooks"]["find_method"] == ["test_methods", "methods"]
    assert "debug.tracer" in call["hooks"]["after_dispatch"]
    assert "on_notify" not in call["hooks"] and "on_method_error" not in call["hooks"]
    # Each hook implementation the call ran through is timed.
    # pluggy's hook-call monitoring times each hook call of the call.
    assert {"before_dispatch", "find_method"} <= set(call["hook_ms"])
    assert all(ms >= 0 for ms in call["hook_ms"].values())
    assert note["kind"] == "notification" and "id" not in note


async def test_trace_of_failing_call(caplog: pytest.LogCaptureFixture) -> None:
    """A failing call's trace shows the error code and the on_method_error hook, after a line about the traceback."""
    async with running_kernel(log_format="json", load_entry_points=False) as kernel:
        kernel.register_plugin(MethodsPlugin(), name="test_methods")
        kernel.set_debug(True)
        await call_fail(kernel)
    (sent,) = trace(caplog, "traceback sent to client")
    assert sent["method"] == "fail" and sent["exception"] == "ZeroDivisionError"
    (call,) = trace(caplog, "call")
    assert call["outcome"] == "error -32603" and call["hooks"]["on_method_error"] == ["debug"]


async def test_rewritten_method_traced(caplog: pytest.LogCaptureFixture) -> None:
    """When a before_dispatch hook renames the method, the trace shows both names."""

    class Rename:
        @hookimpl
        def before_dispatch(self, message: Any) -> None:
            if message.method == "old_echo":
                message.method = "echo"

    async with running_kernel(log_format="json", load_entry_points=False) as kernel:
        kernel.register_plugin(MethodsPlugin(), name="test_methods")
        kernel.register_plugin(Rename(), name="rename")
        kernel.set_debug(True)
        async with connect_to(kernel) as client:
            assert await client.call("old_echo", [1]) == 1
    (call,) = trace(caplog, "call")
    assert call["method"] == "echo" and call["received_as"] == "old_echo"
    assert call["hooks"]["before_dispatch"] == ["debug.tracer", "rename"]


async def test_plugins_listed_at_startup(caplog: pytest.LogCaptureFixture) -> None:
    """A kernel started in debug mode logs each plugin with the hooks it implements."""
    kernel = RPCKernel(token=False, log_format="json", load_entry_points=False)
    kernel.set_debug(True)
    await kernel.astart("127.0.0.1", 0)
    await kernel.astop()
    (startup,) = trace(caplog, "plugins")
    assert startup["plugins"]["debug"] == ["on_method_error", "on_settings_changed", "on_startup"]
    assert startup["plugins"]["debug.tracer"] == ["after_dispatch", "before_dispatch"]
    assert "find_method" in startup["plugins"]["methods"]


async def test_nothing_traced_when_debug_off(kernel: RPCKernel, rpc: RPCTestClient, caplog) -> None:
    """With debug mode off (the default) the plugin logs nothing."""
    kernel.register_plugin(MethodsPlugin(), name="test_methods")
    assert await rpc.call("echo", [1]) == 1
    await kernel.astop()
    assert [r for r in caplog.records if r.name == LOGGER_NAME] == []


async def test_blocking_debug_by_name() -> None:
    """RPCKernel(block_plugins=["debug"]) registers no debug plugin, so debug mode adds no traceback."""
    assert RPCKernel().plugin_manager.get_plugin("debug") is not None
    async with running_kernel(block_plugins=["debug"]) as kernel:
        assert kernel.plugin_manager.get_plugin("debug") is None
        kernel.register_plugin(MethodsPlugin(), name="test_methods")
        kernel.set_debug(True)
        error = await call_fail(kernel)
    assert error.data is None


async def test_blocked_debug_not_listed() -> None:
    """A blocked debug plugin does not appear in kernel.list_plugins()."""
    assert "debug" in RPCKernel().list_plugins()
    assert "debug" not in RPCKernel(block_plugins=["debug"]).list_plugins()
