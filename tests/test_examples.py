"""The example apps in sidegears/examples: each kernel started in-process on port 0, called over a real websocket."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from sidegears import RPCError, RPCKernel, examples
from sidegears.examples.demo import app as demo_app
from sidegears.examples.demo import monitor
from sidegears.examples.notifications import app as notifications_app
from sidegears.testing import RPCTestClient

INVALID_PARAMS = -32602
REQUEST_CANCELLED = -32800


def connect(kernel: RPCKernel) -> AbstractAsyncContextManager[RPCTestClient]:
    """A test client connected to a started kernel."""
    assert kernel.url is not None, "the kernel is not started"
    return RPCTestClient.connect(kernel.url)


@pytest_asyncio.fixture
async def demo() -> AsyncIterator[RPCKernel]:
    """The demo app's kernel, serving on 127.0.0.1 with a free port, sampling every 20 ms so tests need not wait."""
    kernel = demo_app.create_kernel(token=False, monitor_interval=0.02)
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


def check_sample(sample: dict[str, Any]) -> None:
    """A monitor sample has its fields, each a number in range or None."""
    assert set(sample) == {"time", "cpu", "cores", "memory", "memory_used", "memory_total", "load"}
    assert abs(sample["time"] - time.time()) < 60
    assert sample["cpu"] is None or 0 <= sample["cpu"] <= 100
    assert all(0 <= core <= 100 for core in sample["cores"])
    if sample["memory"] is not None:
        assert 0 < sample["memory"] < 100
        assert 0 < sample["memory_used"] < sample["memory_total"]
    if sample["load"] is not None:
        assert len(sample["load"]) == 3 and all(value >= 0 for value in sample["load"])


async def test_demo_monitor_pushes_samples(demo: RPCKernel) -> None:
    """The monitor pushes 'monitor.sample' notifications unasked, newer each time; monitor.info has the recent ones."""
    async with connect(demo) as rpc:
        samples = await notifications_named(rpc, "monitor.sample", 3)
        for sample in samples:
            check_sample(sample)
        assert samples[0]["time"] < samples[1]["time"] < samples[2]["time"]
        info = await rpc.call("monitor.info")
        assert info["interval"] == 0.02
        assert info["source"] == demo_app.Sampler().source
        assert info["cpu_count"] == os.cpu_count()
        assert samples[0] in info["history"]
        assert len(info["history"]) <= demo_app.HISTORY


async def test_demo_monitor_stops_with_the_kernel() -> None:
    """Stopping the kernel ends the monitor task (no task left behind on the loop)."""
    kernel = demo_app.create_kernel(token=False, monitor_interval=0.02)
    await kernel.astart("127.0.0.1", 0)
    monitors = [t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "DemoApp._sample"]  # type: ignore[union-attr]
    assert len(monitors) == 1
    await kernel.astop()
    assert monitors[0].done()


def test_demo_monitor_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="monitor_interval"):
        demo_app.create_kernel(monitor_interval=0)


def busy(seconds: float) -> None:
    """Keep one core busy, so that the next CPU reading has something to measure."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@pytest.mark.skipif(not Path("/proc/stat").is_file(), reason="the fallback reads /proc (Linux)")
def test_sampler_without_psutil_reads_proc() -> None:
    """Without psutil the sampler reads /proc/stat and /proc/meminfo, says so, and measures CPU since the last call."""
    sampler = monitor.Sampler(use_psutil=False)
    assert sampler.source == "/proc" and "psutil is not installed" in sampler.note
    busy(0.2)
    sample = sampler.sample()
    check_sample(sample)
    assert sample["cores"] and len(sample["cores"]) == os.cpu_count()
    assert sample["cpu"] is not None and sample["cpu"] > 0  # a core was busy the whole time
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    assert sample["memory_total"] == int(meminfo["MemTotal"].split()[0]) * 1024


def test_sampler_with_psutil() -> None:
    """With psutil the sampler uses it, and its memory total agrees with the fallback's."""
    pytest.importorskip("psutil")
    sampler = monitor.Sampler()
    assert sampler.source == "psutil" and sampler.note == ""
    busy(0.2)
    sample = sampler.sample()
    check_sample(sample)
    assert sample["cpu"] is not None and sample["cpu"] > 0
    if Path("/proc/meminfo").is_file():
        assert sample["memory_total"] == monitor.Sampler(use_psutil=False).sample()["memory_total"]


async def test_demo_folder_list(demo: RPCKernel, tmp_path: Path) -> None:
    """folder.list lists folders first, then files, each by name, with the paths the page opens and the parent."""
    (tmp_path / "b.txt").write_text("12345")
    (tmp_path / "A.txt").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "broken").symlink_to(tmp_path / "nowhere")
    async with connect(demo) as rpc:
        result = await rpc.call("folder.list", [str(tmp_path)])
        assert result["path"] == str(tmp_path) and result["parent"] == str(tmp_path.parent)
        assert [(e["name"], e["folder"]) for e in result["entries"]] == [
            ("sub", True), ("A.txt", False), ("b.txt", False), ("broken", False)
        ]
        entries = {e["name"]: e for e in result["entries"]}
        assert entries["sub"]["path"] == str(tmp_path / "sub")
        assert (entries["b.txt"]["size"], entries["b.txt"]["modified"]) == (5, (tmp_path / "b.txt").stat().st_mtime)
        assert entries["broken"]["size"] is None  # a link to nothing: listed, not fatal
        assert result["omitted"] == 0
        # No path: the working directory; the top folder has no parent.
        assert (await rpc.call("folder.list"))["path"] == os.getcwd()
        assert (await rpc.call("folder.list", {"path": "/"}))["parent"] is None


@pytest.mark.parametrize(("name", "errno_name"), [("missing", "ENOENT"), ("b.txt", "ENOTDIR")])
async def test_demo_folder_list_errors(demo: RPCKernel, tmp_path: Path, name: str, errno_name: str) -> None:
    """A folder that cannot be listed is an application error naming the path and the cause."""
    (tmp_path / "b.txt").write_text("")
    path = str(tmp_path / name)
    async with connect(demo) as rpc:
        with pytest.raises(RPCError) as info:
            await rpc.call("folder.list", [path])
    assert info.value.code == demo_app.CANNOT_LIST
    assert info.value.message.startswith(f"Cannot open {path}: ")
    assert info.value.data == {"path": path, "errno": errno_name}


async def test_demo_task_reports_progress_and_finishes(demo: RPCKernel) -> None:
    """task.run reports {done, total, message} as $/progress, the last one being the end, then returns its record."""
    async with connect(demo) as rpc:
        result = await rpc.call("task.run", {"steps": 3, "delay": 0})
        assert result["status"] == "finished" and (result["done"], result["total"]) == (3, 3)
        # Every $/progress arrived before the reply: the last one says the task is done.
        progress = []
        while not rpc.notifications.empty():
            message = rpc.notifications.get_nowait()
            if message["method"] == "$/progress":
                progress.append(message["params"]["value"])
        assert progress and progress[-1] == {"done": 3, "total": 3, "message": "step 3 of 3"}


async def test_demo_task_cancelled(demo: RPCKernel) -> None:
    """$/cancelRequest stops task.run at its next step: the caller gets -32800, then 'task.cancelled' with where it stopped."""
    plugin = demo.plugin_manager.get_plugin("demo_app")
    async with connect(demo) as rpc:
        running = asyncio.ensure_future(rpc.request("task.run", {"steps": 1000, "delay": 0.01}))
        (progress,) = await notifications_named(rpc, "$/progress", 1)
        await rpc.notify("$/cancelRequest", {"id": progress["id"]})
        reply = await running
        assert reply["error"]["code"] == REQUEST_CANCELLED
        (cancelled,) = await notifications_named(rpc, "task.cancelled", 1)
    assert cancelled["status"] == "cancelled" and 0 < cancelled["done"] < 1000
    assert plugin.last_task == cancelled


@pytest.mark.parametrize("params", [{"steps": 0}, {"steps": "many"}, {"steps": 2, "delay": -1}, {"steps": 10**6}])
async def test_demo_task_refuses_bad_params(demo: RPCKernel, params: dict[str, Any]) -> None:
    async with connect(demo) as rpc:
        with pytest.raises(RPCError) as info:
            await rpc.call("task.run", params)
        assert info.value.code == INVALID_PARAMS


async def test_demo_quit_stops_the_kernel(demo: RPCKernel) -> None:
    """The demo's quit answers, then the kernel stops."""
    async with connect(demo) as rpc:
        assert await rpc.call("quit") is None
        await asyncio.wait_for(demo.wait_closed(), 10)
    assert not demo.is_serving


async def test_demo_methods_belong_to_its_kernel(demo: RPCKernel) -> None:
    """The demo registers its methods for its own kernel only: another kernel in the process does not serve them."""
    other = RPCKernel(token=False)
    await other.astart("127.0.0.1", 0)
    try:
        assert demo.plugin_manager.get_plugin("methods").methods()["folder.list"] is demo_app.list_folder
        assert set(other.plugin_manager.get_plugin("methods").methods()).isdisjoint(
            {"folder.list", "monitor.info", "task.run", "quit"}
        )
    finally:
        await other.astop()


def test_examples_serve_their_own_folder() -> None:
    """Each example asks the static plugin for a folder of its own, which holds an index.html loading /sidegears.js."""
    for app, page in ((demo_app, "static"), (notifications_app, ".")):
        kernel = app.create_kernel(token=False)
        folder = Path(kernel.options["static_dir"])
        assert app.__file__ is not None and folder == (Path(app.__file__).parent / page).resolve()
        assert '<script src="/sidegears.js"></script>' in (folder / "index.html").read_text(encoding="utf-8")


def test_every_example_is_found_and_loads() -> None:
    """Each example `sidegears demo NAME` names has an app.py, here or in the checkout, whose create_kernel works."""
    for name in examples.EXAMPLES:
        assert examples.app_file(name).name == "app.py"
        kernel = examples.load(name).create_kernel(token=False)
        assert (Path(kernel.options["static_dir"]) / "index.html").is_file()
    with pytest.raises(KeyError):
        examples.app_file("nope")


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


@pytest.mark.parametrize("params", [{"steps": 0}, {"steps": "many"}, {"steps": 2, "delay": -1}, {"steps": 10**6}])
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
