"""`sidegears demo` in headless Chromium: the live chart, the file browser, the cancellable task, the connection state.

The demo's kernel runs in this process (on the tests' loop), its monitor
sampling every 0.1 s so that the chart moves within a second; the page is
driven only through what a person clicks and types.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from sidegears import RPCKernel
from sidegears.examples.demo import app as demo_app

from .helpers import open_page

pytestmark = pytest.mark.asyncio(loop_scope="session")

INTERVAL = 0.1
# What the page's controls are when the kernel is there; all of them are disabled when it is not.
KERNEL_CONTROLS = ["#quit", "#up", "#path", "#open", "#steps", "#delay", "#start-task"]
# Chromium logs each failed websocket handshake, and each connect check that finds nobody listening
# (the client asks the kernel why a handshake failed): expected while the page retries a kernel that is gone.
KERNEL_AWAY = re.compile(r"^(WebSocket connection to '.*' failed|Failed to load resource: net::ERR_CONNECTION_REFUSED)")


class Console:
    """The page's console errors and its failed HTTP responses (a missing favicon would be one)."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.failed: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("response", lambda response: response.status >= 400 and self.failed.append(response.url))

    def assert_clean(self, kernel_went_away: bool = False) -> None:
        errors = [e for e in self.errors if not (kernel_went_away and KERNEL_AWAY.match(e))]
        assert not errors, f"console errors: {errors}"
        assert not self.failed, f"failed requests: {self.failed}"


async def start_demo(start_kernel: Callable[..., Awaitable[RPCKernel]], **options: Any) -> tuple[RPCKernel, Any]:
    """The demo's kernel, started, and its app plugin."""
    kernel = await start_kernel(demo_app.create_kernel(monitor_interval=INTERVAL, block_plugins=["browser"], **options))
    return kernel, kernel.plugin_manager.get_plugin("demo_app")


async def text(page: Any, selector: str) -> str:
    return (await page.text_content(selector)) or ""


async def wait_for_state(page: Any, state: str) -> None:
    await page.wait_for_function("(state) => document.body.dataset.state === state", arg=state)


async def assert_controls_enabled(page: Any, enabled: bool) -> None:
    for selector in KERNEL_CONTROLS:
        assert await page.is_enabled(selector) is enabled, selector


async def test_the_chart_moves(page: Any, start_kernel: Callable[..., Awaitable[RPCKernel]]) -> None:
    """Samples pushed by the kernel land on the chart: its lines change as they arrive, and the numbers show."""
    console = Console(page)
    kernel, _ = await start_demo(start_kernel)
    await open_page(page, kernel)
    await wait_for_state(page, "connected")
    assert await text(page, "#status-text") == "connected"
    await assert_controls_enabled(page, True)

    await page.wait_for_function("Number(document.getElementById('chart').dataset.samples) >= 3")
    before = await page.get_attribute("#cpu-line", "points")
    samples = int(await page.get_attribute("#chart", "data-samples") or 0)
    await page.wait_for_function(
        "(before) => document.getElementById('cpu-line').getAttribute('points') !== before", arg=before
    )
    await page.wait_for_function(
        "(n) => Number(document.getElementById('chart').dataset.samples) > n", arg=samples
    )
    points = (await page.get_attribute("#cpu-line", "points") or "").split()
    assert len(points) >= samples + 1
    assert all(re.fullmatch(r"[\d.]+,[\d.]+", point) for point in points), points
    assert re.fullmatch(r"\d+%", await text(page, "#cpu-value"))
    if os.path.exists("/proc/meminfo"):  # psutil or /proc: memory is known here, so its line is drawn too
        assert await page.get_attribute("#memory-line", "points")
        assert re.fullmatch(r"\d+%", await text(page, "#memory-value"))
    # Where the numbers come from is said in the header.
    assert f"numbers from {demo_app.Sampler().source}" in await text(page, "#machine")
    console.assert_clean()


async def test_files_in_and_up(page: Any, start_kernel: Callable[..., Awaitable[RPCKernel]], tmp_path: Path) -> None:
    """The file browser opens a typed folder, goes into a folder and back up (".." and the Up button), and shows errors."""
    console = Console(page)
    (tmp_path / "outer" / "inner").mkdir(parents=True)
    (tmp_path / "outer" / "inner" / "deep.txt").write_text("12345")
    (tmp_path / "outer" / "top.txt").write_text("")
    outer, inner = tmp_path / "outer", tmp_path / "outer" / "inner"
    kernel, _ = await start_demo(start_kernel)
    await open_page(page, kernel)
    await wait_for_state(page, "connected")
    # It starts in the kernel's working directory.
    await page.wait_for_function("(cwd) => document.getElementById('path').value === cwd", arg=os.getcwd())

    async def at(folder: Path) -> list[str]:
        # The listing's own path, not the path field: typing in the field comes before the listing follows.
        await page.wait_for_function("(path) => document.getElementById('listing').dataset.path === path", arg=str(folder))
        return await page.locator("#listing .entry .name").all_text_contents()

    await page.fill("#path", str(outer))
    await page.press("#path", "Enter")
    assert await at(outer) == ["..", "inner", "top.txt"]
    assert "1 folders, 1 files" == await text(page, "#files-count")

    await page.click("#listing .entry.folder[data-path$='inner']")
    assert await at(inner) == ["..", "deep.txt"]
    assert await page.locator("#listing .entry.file .size").all_text_contents() == ["5 B"]

    await page.click("#listing .entry.up")  # ".."
    assert await at(outer) == ["..", "inner", "top.txt"]
    await page.click("#up")
    assert "outer" in await at(tmp_path)

    # A folder that cannot be opened: the error shows, and the listing stays where it was.
    await page.fill("#path", str(tmp_path / "missing"))
    await page.press("#path", "Enter")
    await page.wait_for_selector("#files-error:not([hidden])")
    assert await text(page, "#files-error") == f"Cannot open {tmp_path / 'missing'}: No such file or directory"
    assert "outer" in await page.locator("#listing .entry .name").all_text_contents()
    if os.geteuid() != 0:  # root may open any folder
        locked = tmp_path / "locked"
        locked.mkdir(mode=0)
        try:
            await page.fill("#path", str(locked))
            await page.press("#path", "Enter")
            await page.wait_for_function(
                "document.getElementById('files-error').textContent.endsWith('Permission denied')"
            )
        finally:
            locked.chmod(0o700)
    # Going somewhere that works hides the error again.
    await page.click("#listing .entry.folder[data-path$='outer']")
    await at(outer)
    assert await page.is_hidden("#files-error")
    console.assert_clean()


async def test_long_task_progress_and_cancel(page: Any, start_kernel: Callable[..., Awaitable[RPCKernel]]) -> None:
    """The long task shows its progress; Cancel stops the kernel's method (it saw CancelledError), and the page says where."""
    console = Console(page)
    kernel, plugin = await start_demo(start_kernel)
    await open_page(page, kernel)
    await wait_for_state(page, "connected")
    assert await page.is_disabled("#cancel-task")

    await page.fill("#steps", "200")
    await page.fill("#delay", "0.05")
    await page.click("#start-task")
    await page.wait_for_function("Number(document.getElementById('progress').getAttribute('aria-valuenow')) >= 3")
    assert re.fullmatch(r"step \d+ of 200 \(\d+%\)", await text(page, "#task-message"))
    assert await page.is_disabled("#start-task") and await page.is_enabled("#cancel-task")
    assert plugin.last_task["status"] == "running"

    await page.click("#cancel-task")
    await page.wait_for_function("document.getElementById('task-message').textContent.startsWith('Cancelled')")
    # What the page says is the kernel's own record: its method got CancelledError at that step.
    assert plugin.last_task["status"] == "cancelled"
    done = plugin.last_task["done"]
    assert 0 < done < 200
    assert await text(page, "#task-message") == f"Cancelled: the kernel stopped the task after step {done} of 200."
    assert (await text(page, "#task-log li")).startswith(f"Cancelled after step {done} of 200")
    assert await page.is_enabled("#start-task") and await page.is_disabled("#cancel-task")
    await asyncio.sleep(0.2)
    assert plugin.last_task["done"] == done, "the method went on after it was cancelled"

    # A run left alone finishes, and the page shows the result.
    await page.fill("#steps", "3")
    await page.fill("#delay", "0")
    await page.click("#start-task")
    await page.wait_for_function("document.getElementById('task-message').textContent.startsWith('Finished')")
    assert plugin.last_task["status"] == "finished"
    assert re.fullmatch(r"Finished: 3 steps in [\d.]+ s\.", await text(page, "#task-message"))
    assert await page.get_attribute("#progress", "aria-valuenow") == "100"
    console.assert_clean()


async def test_quit_stops_the_kernel_and_the_page_says_so(
    page: Any, start_kernel: Callable[..., Awaitable[RPCKernel]]
) -> None:
    """Quit stops the kernel; the page shows "stopped", disables its controls and does not try to reconnect."""
    console = Console(page)
    kernel, _ = await start_demo(start_kernel)
    await open_page(page, kernel)
    await wait_for_state(page, "connected")
    await page.click("#quit")
    await wait_for_state(page, "stopped")
    await asyncio.wait_for(kernel.wait_closed(), 10)
    assert (await text(page, "#status-text")).startswith("stopped")
    await assert_controls_enabled(page, False)
    await asyncio.sleep(0.5)  # longer than the first reconnect delays: none happens
    assert await page.evaluate("document.body.dataset.state") == "stopped"
    console.assert_clean()


async def test_the_page_follows_the_kernel_away_and_back(
    page: Any, start_kernel: Callable[..., Awaitable[RPCKernel]]
) -> None:
    """The kernel stops (Ctrl-C): the page shows "reconnecting (attempt n)" with its controls disabled; it comes back
    on its port with its secret: connected again, the chart live; a kernel with another secret there: "stopped"."""
    console = Console(page)
    kernel, _ = await start_demo(start_kernel)
    port, token = kernel.port, kernel.token
    await open_page(page, kernel)
    await wait_for_state(page, "connected")
    await page.wait_for_function("Number(document.getElementById('chart').dataset.samples) >= 1")

    await kernel.astop()
    await wait_for_state(page, "reconnecting")
    assert re.fullmatch(r"reconnecting \(attempt \d+\)", await text(page, "#status-text"))
    await assert_controls_enabled(page, False)
    assert await page.is_disabled("#cancel-task")

    # The same app started again on its port, with the secret the page's cookie holds.
    back = demo_app.create_kernel(monitor_interval=INTERVAL, block_plugins=["browser"], token=token)
    await start_kernel_on(back, port)
    try:
        await wait_for_state(page, "connected")
        await assert_controls_enabled(page, True)
        samples = int(await page.get_attribute("#chart", "data-samples") or 0)
        await page.wait_for_function(
            "(n) => Number(document.getElementById('chart').dataset.samples) > n", arg=samples
        )
    finally:
        await back.astop()

    # Another kernel on the port, with another secret: it refuses the page, which stops trying.
    await wait_for_state(page, "reconnecting")
    stranger = demo_app.create_kernel(monitor_interval=INTERVAL, block_plugins=["browser"])
    await start_kernel_on(stranger, port)
    try:
        await wait_for_state(page, "stopped")
        assert (await text(page, "#status-text")).startswith("stopped: ")
        await assert_controls_enabled(page, False)
    finally:
        await stranger.astop()
    console.assert_clean(kernel_went_away=True)


async def start_kernel_on(kernel: RPCKernel, port: int | None) -> None:
    """Start ``kernel`` on 127.0.0.1:``port`` (a port another kernel just left)."""
    assert port is not None
    await kernel.astart("127.0.0.1", port)
