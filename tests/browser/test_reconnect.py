"""A kernel-served page outlives its kernel process: it reconnects to a restart, survives reloads, and names refusals.

The kernel runs in a process of its own (``app_kernel.py``), killed and started
again on its port with the app's kept secret, as a re-run of an app script or
``sidegears run --reload`` would.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from sidegears.default_plugins.static import STATIC_PACKAGE_DIR

from .helpers import ROOT
from .test_security import foreign_origin  # noqa: F401  (a fixture)

pytestmark = pytest.mark.asyncio(loop_scope="session")

APP_KERNEL = Path(__file__).with_name("app_kernel.py")

# The app's page: the client bundle, connect() with no url (the page's own kernel), its events recorded.
APP_PAGE = """<!doctype html><meta charset=utf-8><title>app</title>
<script src="/sidegears.js"></script>
<script>
  window.events = [];
  for (const name of ['open', 'close', 'reconnecting', 'reconnected', 'reconnectFailed']) {
    sidegears.on(name, () => events.push(name));
  }
  window.ready = sidegears.connect();
</script>"""

# What a connect from this page ends in: "open", or the error's reason.
CONNECT_REASON = """(url) => {
    const client = sidegears.createClient();
    return client.connect(url || undefined).then(
        () => client.sendRequest('multiply', [6, 7]).then((six) => { client.disconnect(); return 'open ' + six; }),
        (error) => error.name + ': ' + error.reason);
}"""


class AppProcess:
    """The app's kernel process: started, killed, started again on the same port."""

    def __init__(self, static_dir: Path, runtime_dir: Path) -> None:
        self.static_dir = static_dir
        self.env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir), "PYTHONPATH": str(ROOT)}
        self.process: subprocess.Popen[str] | None = None
        self.port = 0
        self.token = ""

    async def start(self, app_id: str = "browser-restart-app") -> None:
        args = [sys.executable, str(APP_KERNEL), str(self.static_dir), app_id, str(self.port)]
        self.process = subprocess.Popen(
            args, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        line = await asyncio.wait_for(asyncio.to_thread(self.process.stdout.readline), 20)
        assert line.startswith("READY "), f"the kernel did not start: {line!r}"
        _, port, self.token = line.split()
        self.port = int(port)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def page_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


@pytest_asyncio.fixture(loop_scope="session")
async def app(tmp_path: Path) -> AsyncIterator[AppProcess]:
    static = tmp_path / "ui"
    static.mkdir()
    (static / "index.html").write_text(APP_PAGE)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    process = AppProcess(static, runtime)
    await process.start()
    yield process
    process.stop()


async def wait_for_event(page: Any, name: str, count: int = 1) -> None:
    await page.wait_for_function(f"events.filter((e) => e === {name!r}).length >= {count}")


async def test_the_page_reconnects_to_a_restarted_kernel_and_survives_reloads(app: AppProcess, page: Any) -> None:
    await page.goto(app.page_url + f"?token={app.token}")
    assert await page.evaluate("ready.then(() => sidegears.requester.multiply(6, 7))") == 42

    app.kill()
    await wait_for_event(page, "close")
    await wait_for_event(page, "reconnecting")
    await app.start()
    started = time.monotonic()
    await wait_for_event(page, "reconnected")
    assert time.monotonic() - started < 2.0, "the page reconnects within 2 s of the kernel's start"
    assert await page.evaluate("sidegears.requester.multiply(2, 3)") == 6
    events = await page.evaluate("events")
    assert events[:2] == ["open", "close"] and events[-2:] == ["open", "reconnected"]
    assert set(events[2:-2]) == {"reconnecting"}

    await page.reload()
    assert await page.evaluate("ready.then(() => sidegears.requester.multiply(7, 8))") == 56

    app.kill()
    await app.start()
    await page.reload()  # a reload after another restart works too: the cookie holds the kept secret
    assert await page.evaluate("ready.then(() => sidegears.requester.multiply(1, 9))") == 9


async def test_after_a_restart_other_origins_and_tokenless_pages_are_still_refused_by_name(
    app: AppProcess, context: Any, page: Any, foreign_origin: str, tmp_path: Path  # noqa: F811
) -> None:
    app.kill()
    await app.start()
    # A page of another origin, with the right token even: refused, and the client names the cause.
    shutil.copy(STATIC_PACKAGE_DIR / "sidegears.js", tmp_path / "sidegears.js")
    (tmp_path / "other.html").write_text('<!doctype html><script src="sidegears.js"></script>')
    await page.goto(f"{foreign_origin}/other.html")
    url = f"ws://127.0.0.1:{app.port}/?token={app.token}"
    assert await page.evaluate(CONNECT_REASON, url) == "ConnectionError: origin"
    # A host name the kernel does not answer to (an IPv4-mapped address of 127.0.0.1: DNS rebinding's shape).
    mapped = f"ws://[::ffff:127.0.0.1]:{app.port}/?token={app.token}"
    assert await page.evaluate(CONNECT_REASON, mapped) == "ConnectionError: host"
    # The kernel's own origin without the cookie (the public client bundle, then connect()): refused for the token.
    tokenless = await context.browser.new_context()
    try:
        bare = await tokenless.new_page()
        await bare.goto(f"http://127.0.0.1:{app.port}/sidegears.js")
        await bare.add_script_tag(url="/sidegears.js")
        assert await bare.evaluate(CONNECT_REASON, "") == "ConnectionError: token"
    finally:
        await tokenless.close()
    # Nothing listening: named too.
    app.kill()
    assert await page.evaluate(CONNECT_REASON, url) == "ConnectionError: unreachable"


async def test_the_original_localhost_urls_work_from_a_page_at_127_0_0_1(app: AppProcess, page: Any) -> None:
    """connect('ws://localhost:PORT') and Vue's connect('localhost', PORT), as the original README wrote them."""
    await page.goto(app.page_url + f"?token={app.token}")
    assert await page.evaluate(CONNECT_REASON, f"ws://localhost:{app.port}") == "open 42"
    await page.add_script_tag(url="/sidegears-plugin.js")
    result = await page.evaluate(
        """(port) => {
            const app = { config: { globalProperties: {} }, provide() {} };
            SidegearsPlugin.install(app, {});
            const sg = app.config.globalProperties.$_sidegears;
            return sg.connect('localhost', port).then(() => sg.getRequestProxy().multiply(3, 4));
        }""",
        app.port,
    )
    assert result == 12

