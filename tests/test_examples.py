"""The example apps in sidegears/examples: each kernel started in-process on port 0, called over a real websocket."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from sidegears import RPCError, RPCKernel
from sidegears.examples.demo import app as demo_app
from sidegears.examples.notifications import app as notifications_app
from sidegears.testing import RPCTestClient

INVALID_PARAMS = -32602


def connect(kernel: RPCKernel) -> AbstractAsyncContextManager[RPCTestClient]:
    """A test client connected to a started kernel."""
    assert kernel.url is not None, "the kernel is not started"
    return RPCTestClient.connect(kernel.url)


@pytest_asyncio.fixture
async def demo() -> AsyncIterator[RPCKernel]:
    """The demo app's kernel, serving on 127.0.0.1 with a free port."""
    kernel = demo_app.create_kernel(token=False)
    await kernel.astart("127.0.0.1", 0)
    try:
        yield kernel
    finally:
        await kernel.astop()


@pytest_asyncio.fixture
async def notifications() -> AsyncIterator[RPCKernel]:
    """The notifications app's kernel, its clock ticking every 20 ms so the test need not wait a second."""
    kernel = notifications_app.create_kernel(token=False, clock_interval=0.02)
    await kernel.astart("127.0.0.1", 0)
    try:
        yield kernel
    finally:
        await kernel.astop()


async def notifications_named(rpc: RPCTestClient, method: str, count: int) -> list[Any]:
    """The params of the next ``count`` notifications called ``method``, skipping others."""
    found: list[Any] = []
    while len(found) < count:
        message = await rpc.next_notification(timeout=5)
        if message["method"] == method:
            found.append(message["params"])
    return found


# -- the demo --------------------------------------------------------------------------


async def test_demo_multiply(demo: RPCKernel) -> None:
    """The demo's multiply answers by position and by name."""
    async with connect(demo) as rpc:
        assert await rpc.call("multiply", [6, 7]) == 42
        assert await rpc.call("multiply", {"a": 1.5, "b": 4}) == 6.0


async def test_demo_getcwd(demo: RPCKernel) -> None:
    """The demo's getcwd returns the kernel's working directory."""
    async with connect(demo) as rpc:
        assert await rpc.call("getcwd") == os.getcwd()


async def test_demo_scandir(demo: RPCKernel, tmp_path: Path) -> None:
    """The demo's scandir lists folders and files apart, sorted, in the original shape."""
    (tmp_path / "b.txt").write_text("12345")
    (tmp_path / "a.txt").write_text("")
    (tmp_path / "sub").mkdir()
    async with connect(demo) as rpc:
        result = await rpc.call("scandir", [str(tmp_path)])
        assert result["status"] == "OK"
        assert [f["name"] for f in result["folders"]] == ["sub"]
        assert [(f["name"], f["size"]) for f in result["files"]] == [("a.txt", 0), ("b.txt", 5)]
        assert result["files"][0]["modified_sec"] == (tmp_path / "a.txt").stat().st_mtime
        missing = await rpc.call("scandir", [str(tmp_path / "missing")])
        assert missing["status"].startswith("Error") and missing["files"] == []


async def test_demo_quit_stops_the_kernel(demo: RPCKernel) -> None:
    """The demo's quit answers, then the kernel stops."""
    async with connect(demo) as rpc:
        assert await rpc.call("quit") is None
        await asyncio.wait_for(demo.wait_closed(), 10)
    assert not demo.is_serving


async def test_demo_methods_belong_to_its_kernel(demo: RPCKernel) -> None:
    """The demo registers its functions for its own kernel only: another kernel in the process does not serve them."""
    other = RPCKernel(token=False)
    await other.astart("127.0.0.1", 0)
    try:
        for name in ("multiply", "getcwd", "scandir"):
            function = getattr(demo_app, name)
            assert demo.plugin_manager.get_plugin("methods").methods()[name] is function
            # Other tests may serve a function of the same name to every kernel (@rpc_method), never the demo's.
            assert other.plugin_manager.get_plugin("methods").methods().get(name) is not function
    finally:
        await other.astop()


def test_examples_serve_their_own_folder() -> None:
    """Each example asks the static plugin for its own folder, which holds an index.html loading /sidegears.js."""
    for app in (demo_app, notifications_app):
        kernel = app.create_kernel(token=False)
        folder = Path(kernel.options["static_dir"])
        assert app.__file__ is not None and folder == Path(app.__file__).parent
        assert '<script src="/sidegears.js"></script>' in (folder / "index.html").read_text(encoding="utf-8")


async def test_demo_page_is_served_over_http(demo: RPCKernel) -> None:
    """The demo's index.html is served at / on the kernel's own port (by the static plugin)."""
    if demo.plugin_manager.get_plugin("static") is None:
        pytest.skip("the static plugin is not in this build yet")
    assert demo.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", demo.port)
    try:
        writer.write(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{demo.port}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    assert response.startswith(b"HTTP/1.1 200")
    assert b"SideGears demo" in response


# -- notifications -----------------------------------------------------------------------


async def test_clock_notifications(notifications: RPCKernel) -> None:
    """The clock task pushes 'clock' notifications with the time, without being asked."""
    async with connect(notifications) as rpc:
        ticks = await notifications_named(rpc, "clock", 2)
        assert all(len(tick["time"]) == len("2024-01-01T12:00:00") for tick in ticks)


async def test_long_task_pushes_progress_from_a_thread(notifications: RPCKernel) -> None:
    """long_task, running in a worker thread, pushes one 'progress' notification per step, in order."""
    async with connect(notifications) as rpc:
        assert await rpc.call("long_task", {"steps": 3, "delay": 0}) == {"done": 3}
        progress = await notifications_named(rpc, "progress", 3)
        assert progress == [{"done": n, "total": 3} for n in (1, 2, 3)]


@pytest.mark.parametrize("params", [{"steps": 0}, {"steps": True}, {"steps": 2, "delay": -1}, {"steps": 10**6}])
async def test_long_task_refuses_bad_params(notifications: RPCKernel, params: dict[str, Any]) -> None:
    """long_task answers bad steps or delay with Invalid params."""
    async with connect(notifications) as rpc:
        with pytest.raises(RPCError) as info:
            await rpc.call("long_task", params)
        assert info.value.code == INVALID_PARAMS


async def test_clock_stops_with_the_kernel() -> None:
    """Stopping the kernel ends the clock task (no task left behind on the loop)."""
    kernel = notifications_app.create_kernel(token=False, clock_interval=0.02)
    await kernel.astart("127.0.0.1", 0)
    clocks = [t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "NotificationsApp._tick"]  # type: ignore[union-attr]
    assert len(clocks) == 1
    await kernel.astop()
    assert clocks[0].done()
