"""The message_log plugin: one line per message, trimming, formats, and trim_value without sockets."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from websockets.asyncio.client import connect

from sidegears import RPCKernel, hookimpl
from sidegears.default_plugins.message_log import (
    LOGGER_NAME,
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_STRING_CHARS,
    message_fields,
    trim_value,
)
from sidegears.testing import RPCTestClient, running_kernel

ONE_MB = 1 << 20


def echo(value: Any) -> Any:
    return value


class EchoPlugin:
    """Serves ``echo`` to the one kernel it is registered with."""

    @hookimpl
    def find_method(self, name: str) -> Any:
        return echo if name == "echo" else None


def connect_to(kernel: RPCKernel, **options: Any) -> Any:
    """A test client connected to ``kernel`` (a context manager)."""
    assert kernel.url is not None
    return RPCTestClient.connect(kernel.url, **options)


@pytest.fixture(autouse=True)
def capture_info(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    # The console format is the default only when the environment does not ask for JSON.
    monkeypatch.delenv("SIDEGEARS_LOG_FORMAT", raising=False)
    caplog.set_level(logging.INFO, logger="sidegears")


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == LOGGER_NAME]


async def start_logging(kernel: RPCKernel, trim: bool) -> None:
    kernel.register_plugin(EchoPlugin(), name="echo")
    kernel.set_basic_logging(True)
    kernel.set_trim_log_values(trim)


# -- through a real kernel ---------------------------------------------------------


async def test_large_message_logged_trimmed(caplog: pytest.LogCaptureFixture) -> None:
    """With trimming on, a 1 MB request and its reply each log as one short line showing the original sizes."""
    async with running_kernel() as kernel:
        await start_logging(kernel, trim=True)
        async with connect_to(kernel, max_size=None) as client:
            assert await client.call("echo", ["x" * ONE_MB]) == "x" * ONE_MB
    incoming, outgoing = logged(caplog)
    for line in (incoming, outgoing):
        assert len(line) < 500
        assert f"...({ONE_MB} chars)" in line
        size = re.search(r"size=(\d+)", line)
        assert size is not None and int(size.group(1)) > ONE_MB
    assert "direction='in'" in incoming and "kind='request'" in incoming and "method='echo'" in incoming
    assert "direction='out'" in outgoing and "kind='response'" in outgoing and "duration_ms=" in outgoing


async def test_untrimmed_when_trimming_off(caplog: pytest.LogCaptureFixture) -> None:
    """With trimming off, the whole params and result are logged."""
    async with running_kernel() as kernel:
        await start_logging(kernel, trim=False)
        async with connect_to(kernel, max_size=None) as client:
            await client.call("echo", ["x" * ONE_MB])
    incoming, outgoing = logged(caplog)
    assert "x" * ONE_MB in incoming and "x" * ONE_MB in outgoing
    assert "chars)" not in incoming + outgoing


@pytest.mark.parametrize("how", ["option", "environment"])
async def test_json_lines(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """log_format="json" or SIDEGEARS_LOG_FORMAT=json makes each line one JSON object with every field."""
    if how == "environment":
        monkeypatch.setenv("SIDEGEARS_LOG_FORMAT", "json")
        options = {}
    else:
        options = {"log_format": "json"}
    async with running_kernel(**options) as kernel:
        await start_logging(kernel, trim=True)
        async with connect_to(kernel) as client:
            await client.call("echo", [{"a": 1}])
            connection_id = next(iter(kernel.connections)).id
    incoming, outgoing = (json.loads(line) for line in logged(caplog))
    assert incoming == {
        "event": "message",
        "direction": "in",
        "connection": connection_id,
        "kind": "request",
        "method": "echo",
        "id": 1,
        "size": incoming["size"],
        "params": [{"a": 1}],
        "level": "info",
    }
    assert incoming["size"] > 0
    assert outgoing["kind"] == "response" and outgoing["result"] == {"a": 1} and outgoing["id"] == 1
    assert outgoing["duration_ms"] >= 0


async def test_nothing_logged_when_basic_logging_off(kernel: RPCKernel, rpc: RPCTestClient, caplog) -> None:
    """With basic logging off (the default), no message line is written."""
    kernel.register_plugin(EchoPlugin(), name="echo")
    kernel.set_trim_log_values(True)
    assert await rpc.call("echo", [1]) == 1
    await kernel.astop()
    assert logged(caplog) == []


async def test_broadcast_notification_logged_for_all(kernel: RPCKernel, rpc: RPCTestClient, caplog) -> None:
    """A notification sent to every client logs connection 'all' and kind 'notification'."""
    kernel.set_basic_logging(True)
    kernel.send_notification("tick", {"n": 1})
    await rpc.next_notification()
    (line,) = logged(caplog)
    assert "direction='out'" in line and "connection='all'" in line
    assert "kind='notification'" in line and "method='tick'" in line and "params={'n': 1}" in line


async def test_batch_error_and_invalid_kinds(kernel: RPCKernel, caplog) -> None:
    """A batch, an error reply and text that is not JSON are each logged with their kind."""
    kernel.set_basic_logging(True)
    assert kernel.url is not None
    async with connect(kernel.url) as websocket:
        await websocket.send('[{"jsonrpc": "2.0", "method": "nope", "id": 7}]')
        assert json.loads(await websocket.recv())[0]["error"]["code"] == -32601
        await websocket.send("not json")
        assert json.loads(await websocket.recv())["error"]["code"] == -32700
    batch_in, batch_out, text_in, error_out = logged(caplog)
    assert "kind='batch'" in batch_in and "count=1" in batch_in and "'method': 'nope'" in batch_in
    assert "kind='batch'" in batch_out and "-32601" in batch_out
    assert "kind='invalid'" in text_in and "content='not json'" in text_in
    assert "kind='error'" in error_out and "-32700" in error_out


async def test_blocked_message_log_is_not_loaded() -> None:
    """RPCKernel(block_plugins=["message_log"]) registers no message_log plugin and none of its hooks."""
    pm = RPCKernel(block_plugins=["message_log"]).plugin_manager
    assert pm.get_plugin("message_log") is None
    assert [impl.plugin_name for impl in pm.hook.log_message.get_hookimpls()] == []


async def test_blocked_message_log_not_listed() -> None:
    """A blocked message_log does not appear in kernel.list_plugins()."""
    assert "message_log" not in RPCKernel(block_plugins=["message_log"]).list_plugins()


# -- trim_value and message_fields, without sockets -----------------------------------


def test_short_values_unchanged() -> None:
    """Values within every limit come back equal."""
    value = {"s": "x" * MAX_STRING_CHARS, "l": list(range(MAX_ITEMS)), "n": None, "f": 1.5, "b": True}
    assert trim_value(value) == value


def test_long_string_cut_with_length() -> None:
    """A string over the limit keeps its first MAX_STRING_CHARS characters and states its length."""
    assert trim_value("ab" * 100) == "ab" * (MAX_STRING_CHARS // 2) + "...(200 chars)"


def test_long_list_keeps_first_items() -> None:
    """A list over the limit keeps its first MAX_ITEMS items and a marker with its length."""
    assert trim_value(list(range(25))) == list(range(MAX_ITEMS)) + ["...(25 items)"]


def test_large_object_keeps_first_keys() -> None:
    """An object over the limit keeps its first MAX_ITEMS keys and a '...' entry with its size."""
    value = {f"k{i}": i for i in range(30)}
    trimmed = trim_value(value)
    assert list(trimmed)[:MAX_ITEMS] == [f"k{i}" for i in range(MAX_ITEMS)]
    assert trimmed["..."] == "(30 keys)" and len(trimmed) == MAX_ITEMS + 1


def test_deep_nesting_collapsed() -> None:
    """Lists and objects below MAX_DEPTH levels are replaced by a size marker."""
    value: Any = [1, 2]
    for _ in range(MAX_DEPTH):
        value = {"a": value}
    expected: Any = "[...(2 items)]"
    for _ in range(MAX_DEPTH):
        expected = {"a": expected}
    assert trim_value(value) == expected


def test_ten_megabytes_become_short() -> None:
    """A 10 MB value trims to well under a kilobyte of JSON, and the input is not modified."""
    big = {"text": "y" * 10_000_000, "rows": [[i] * 1000 for i in range(10_000)]}
    trimmed = trim_value(big)
    assert len(json.dumps(trimmed)) < 1000
    assert len(big["text"]) == 10_000_000 and len(big["rows"]) == 10_000


def test_custom_limits() -> None:
    """The limits can be passed as keyword arguments."""
    assert trim_value(["abcdef", [[1]]], max_chars=2, max_items=1, max_depth=2) == ["ab...(6 chars)", "...(2 items)"]
    assert trim_value({"k": {"x": 1}}, max_depth=1) == {"k": "{...(1 keys)}"}


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ({"jsonrpc": "2.0", "method": "m", "id": 1}, "request"),
        ({"jsonrpc": "2.0", "method": "m"}, "notification"),
        ({"jsonrpc": "2.0", "result": 1, "id": 1}, "response"),
        ({"jsonrpc": "2.0", "error": {"code": 1, "message": "x"}, "id": 1}, "error"),
        ([{"jsonrpc": "2.0", "method": "m"}], "batch"),
        ("garbage", "invalid"),
        ({"jsonrpc": "2.0"}, "invalid"),
    ],
)
def test_message_kinds(message: Any, kind: str) -> None:
    """Each message shape is given its kind."""
    assert message_fields(message, "in", 1, 10, None, trim=True)["kind"] == kind


def test_message_fields_order_and_trimming() -> None:
    """Fields come in the documented order, and only the content is trimmed when asked."""
    reply = {"jsonrpc": "2.0", "id": 3, "result": "z" * 500}
    fields = message_fields(reply, "out", "all", 530, 0.0125, trim=True)
    assert list(fields) == ["direction", "connection", "kind", "id", "size", "duration_ms", "result"]
    assert fields["duration_ms"] == 12.5 and fields["result"].endswith("...(500 chars)")
    assert message_fields(reply, "out", "all", 530, None, trim=False)["result"] == "z" * 500
