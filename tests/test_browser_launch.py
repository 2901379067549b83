"""The browser plugin: a real (headless) Chromium opens the kernel's page, which calls back; closing it stops the kernel."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from sidegears import hookimpl
from sidegears.default_plugins import browser
from sidegears.kernel import RPCKernel
from sidegears.testing import running_kernel

CHROMIUM = os.environ.get("SIDEGEARS_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# Skipped without Chromium on a developer's machine; make test (CI) sets
# SIDEGEARS_REQUIRE_BROWSER=1, where a missing browser fails instead.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("SIDEGEARS_REQUIRE_BROWSER") != "1", reason="Chromium is not installed"
)
REPORT_TIMEOUT = 20.0  # a cold Chromium start on a busy CI machine
STOP_TIMEOUT = 10.0
GRACE = 0.5

# Connects with no URL (location.host and the token cookie), reports, and with ?reload=1 reloads once.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>browser test</title><script src="/sidegears.js"></script></head>
<body><script>
(async () => {
  await sidegears.connect();
  const reloaded = sessionStorage.getItem('reloaded') === '1';
  await sidegears.sendRequest('report', [{phase: reloaded ? 'reloaded' : 'first', search: location.search}]);
  if (new URLSearchParams(location.search).get('reload') === '1' && !reloaded) {
    sessionStorage.setItem('reloaded', '1');
    location.reload();
  }
})();
</script></body></html>
"""


class Reporter:
    """A plugin serving `report(value)` on one kernel; the values land in a queue."""

    def __init__(self) -> None:
        self.values: asyncio.Queue[Any] = asyncio.Queue()

    @hookimpl
    def register_methods(self, register: Any) -> None:
        async def report(value: Any) -> bool:
            await self.values.put(value)
            return True

        register(report)

    async def next(self) -> Any:
        try:
            return await asyncio.wait_for(self.values.get(), REPORT_TIMEOUT)
        except asyncio.TimeoutError:
            pytest.fail("the page did not call report(): it did not load or could not connect")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text(PAGE, encoding="utf-8")
    return folder


@pytest.fixture
def headless_chromium(tmp_path: Path) -> Path:
    """A wrapper script that runs Debian's Chromium headless (as root too), with a profile under tmp_path."""
    assert CHROMIUM is not None
    script = tmp_path / "headless-chromium"
    script.write_text(
        "#!/bin/sh\n"
        f'exec "{CHROMIUM}" --headless --no-sandbox --disable-gpu --no-first-run '
        "--disable-background-networking --disable-component-update --disable-sync "
        f'--user-data-dir="{tmp_path / "profile"}" "$@"\n'
    )
    script.chmod(0o755)
    return script


async def close_window(window: browser.Window) -> None:
    await asyncio.to_thread(window.close)


@needs_chromium
async def test_window_from_the_launch_option_calls_a_method_and_closing_it_stops_the_kernel(site, headless_chromium):
    """RPCKernel(launch=...) opens the page, which connects with the cookie and calls a method; closing the window stops the kernel."""
    reporter = Reporter()
    kernel = RPCKernel(static_dir=str(site), reconnect_grace=GRACE, launch={"executable": str(headless_chromium)})
    kernel.register_plugin(reporter, name="reporter")
    await kernel.astart("127.0.0.1", 0, close_on_disconnect=True)
    try:
        (window,) = browser.windows(kernel)
        assert window.opened and window.is_running()
        value = await reporter.next()
        assert value == {"phase": "first", "search": ""}  # the token left the address bar for a cookie
        await close_window(window)
        await asyncio.wait_for(kernel.wait_closed(), STOP_TIMEOUT)
        assert not kernel.is_serving
    finally:
        await kernel.astop()
        for window in browser.windows(kernel):
            await close_window(window)


@needs_chromium
async def test_reload_keeps_a_close_on_disconnect_kernel_running(site, headless_chromium):
    """A page reload reconnects within the grace period, so kernel.launch()'s window keeps the kernel; closing it then stops it."""
    reporter = Reporter()
    kernel = RPCKernel(static_dir=str(site), reconnect_grace=GRACE)
    kernel.register_plugin(reporter, name="reporter")
    await kernel.astart("127.0.0.1", 0, close_on_disconnect=True)
    window = None
    try:
        window = await asyncio.to_thread(kernel.launch, "/?reload=1", executable=str(headless_chromium))
        assert window.opened and window.runtime == "executable"
        # The browser's command line (readable by any local user) holds a used-up code, not the token.
        assert "launch=" in window.url and kernel.token not in " ".join(window.process.args)
        assert (await reporter.next())["phase"] == "first"
        assert await reporter.next() == {"phase": "reloaded", "search": "?reload=1"}
        await asyncio.sleep(GRACE * 3)  # longer than the grace period: a stop would have happened by now
        assert kernel.is_serving
        await close_window(window)
        await asyncio.wait_for(kernel.wait_closed(), STOP_TIMEOUT)
    finally:
        await kernel.astop()
        if window is not None:
            await close_window(window)


async def test_no_display_prints_the_address(monkeypatch, capsys):
    """With no display, launch() opens nothing, says why, and prints the kernel's page address with its token."""
    for name in ("DISPLAY", "WAYLAND_DISPLAY", browser.ENV_VAR):
        monkeypatch.delenv(name, raising=False)
    async with running_kernel(token=None) as kernel:
        monkeypatch.setattr(sys, "platform", "linux")
        window = browser.launch(kernel)
        monkeypatch.undo()
    assert not window.opened and window.process is None
    err = capsys.readouterr().err
    assert "no window was opened: no display" in err
    assert f"    {kernel.http_url}\n" in err and "?token=" in err


async def test_environment_variable_none_prints_a_page_address(monkeypatch, capsys):
    """SIDEGEARS_BROWSER=none opens nothing even with a display, and a path becomes an address on the kernel with its token."""
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv(browser.ENV_VAR, "none")
    async with running_kernel(token="t" * 20) as kernel:
        window = browser.launch(kernel, "/settings.html?tab=2")
    assert not window.opened
    assert f"http://127.0.0.1:{kernel.port}/settings.html?tab=2&token={'t' * 20}" in capsys.readouterr().err


async def test_missing_executable_says_so_and_prints_the_address(tmp_path, capsys):
    """An executable that cannot be started gives a clear message and the address, not an exception."""
    async with running_kernel() as kernel:
        window = browser.launch(kernel, executable=str(tmp_path / "no-such-browser"))
    assert not window.opened
    err = capsys.readouterr().err
    assert "could not start" in err and "no-such-browser" in err and kernel.http_url in err


@needs_chromium
async def test_webruntime_runtime_name_opens_the_page(site, headless_chromium, monkeypatch):
    """runtime='chrome-app' goes through webruntime (pointed at the headless wrapper) and the page calls a method."""
    monkeypatch.setenv("DISPLAY", ":99")  # a display is assumed; the wrapper runs headless anyway
    monkeypatch.setenv("WEBRUNTIME_CHROME_EXE", str(headless_chromium))
    reporter = Reporter()
    kernel = RPCKernel(static_dir=str(site))
    kernel.register_plugin(reporter, name="reporter")
    await kernel.astart("127.0.0.1", 0)
    window = None
    try:
        window = await asyncio.to_thread(kernel.launch, runtime="chrome-app")
        assert window.opened and window.runtime.endswith("chrome-app")  # webruntime names it googlechrome-app
        assert (await reporter.next())["phase"] == "first"
    finally:
        if window is not None:
            await close_window(window)
        await kernel.astop()
