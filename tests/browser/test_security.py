"""Who may talk to a kernel from a browser: its own pages (token traded for a cookie), not pages of other origins."""

from __future__ import annotations

import asyncio
import functools
import http.client
import http.server
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sidegears import RPCKernel, hookimpl

from .helpers import PAGES, open_page, page_url

pytestmark = pytest.mark.asyncio(loop_scope="session")

# A page that opens a raw WebSocket and reports what happened: ["open", "close:1000"] or ["error", "close:1006"].
TRY_OPEN = """(url) => new Promise((resolve) => {
    const events = [];
    const timer = setTimeout(() => resolve([...events, 'timeout']), 8000);
    let ws;
    try { ws = new WebSocket(url); } catch (e) { clearTimeout(timer); resolve(['throw: ' + e.message]); return; }
    ws.onopen = () => { events.push('open'); ws.close(1000); };
    ws.onerror = () => events.push('error');
    ws.onclose = (event) => { events.push('close:' + event.code); clearTimeout(timer); resolve(events); };
})"""

FOREIGN_PAGE = "<!doctype html><meta charset=utf-8><title>another site</title><p>not the kernel's page</p>"


class ConnectCounter:
    """Counts websocket connections the kernel accepted."""

    def __init__(self) -> None:
        self.origins: list[str | None] = []

    @hookimpl
    def on_connect(self, connection: Any) -> None:
        self.origins.append(connection.request.headers.get("Origin"))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def foreign_origin(tmp_path: Path) -> Iterator[str]:
    """Another local web server (127.0.0.1, its own port): a different origin from any kernel."""
    (tmp_path / "foreign.html").write_text(FOREIGN_PAGE)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def counter() -> ConnectCounter:
    """A fresh connection counter plugin."""
    return ConnectCounter()


@pytest.fixture
def make_kernel(
    start_kernel: Callable[..., Awaitable[RPCKernel]], counter: ConnectCounter
) -> Callable[..., Awaitable[RPCKernel]]:
    """Start a kernel serving tests/browser/pages, token on, counting its connections."""

    async def make(**options: Any) -> RPCKernel:
        kernel = RPCKernel(static_dir=str(PAGES), block_plugins=["browser"], **options)
        kernel.register_plugin(counter, name="counter")
        return await start_kernel(kernel)

    return make


async def test_foreign_page_cannot_connect(
    page: Any,
    make_kernel: Callable[..., Awaitable[RPCKernel]],
    foreign_origin: str,
    counter: ConnectCounter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A page of another origin fails to open the kernel's websocket even with the token (or the cookie), while the kernel's own page succeeds."""
    kernel = await make_kernel()
    own_ws = f"ws://127.0.0.1:{kernel.port}/"

    await open_page(page, kernel, "/umd.html")  # sets the token cookie in this browser context
    assert await page.evaluate(TRY_OPEN, own_ws) == ["open", "close:1000"]
    assert await page.evaluate(TRY_OPEN, kernel.url) == ["open", "close:1000"]
    assert counter.origins.count(f"http://127.0.0.1:{kernel.port}") >= 3  # the page's client, then the two above

    before = len(counter.origins)
    response = await page.goto(f"{foreign_origin}/foreign.html")
    assert response is not None and response.status == 200
    for url in (kernel.url, own_ws, own_ws.replace("127.0.0.1", "localhost")):
        events = await page.evaluate(TRY_OPEN, url)
        assert "open" not in events and events[-1] == "close:1006", (url, events)
    assert len(counter.origins) == before, "the kernel must not accept a handshake from a foreign origin"
    refusals = [r.getMessage() for r in caplog.records if "refused a request" in r.getMessage()]
    assert len(refusals) == 3 and all("origin not allowed" in message for message in refusals), refusals


async def test_allowed_origin_can_connect(
    page: Any, make_kernel: Callable[..., Awaitable[RPCKernel]], foreign_origin: str, counter: ConnectCounter
) -> None:
    """The same foreign page connects once its origin is in allowed_origins and it has the token (the control case)."""
    kernel = await make_kernel(allowed_origins=[foreign_origin])
    await page.goto(f"{foreign_origin}/foreign.html")
    assert await page.evaluate(TRY_OPEN, kernel.url) == ["open", "close:1000"]
    assert counter.origins == [foreign_origin]
    events = await page.evaluate(TRY_OPEN, f"ws://127.0.0.1:{kernel.port}/?token=wrong-token-0123456789")
    assert "open" not in events, "an allowed origin still needs the token"


async def test_pages_need_the_token(page: Any, make_kernel: Callable[..., Awaitable[RPCKernel]]) -> None:
    """Kernel pages opened without the token, or with a wrong one, get 403; the client bundles are public."""
    kernel = await make_kernel()
    for url in (
        f"http://127.0.0.1:{kernel.port}/",
        f"http://127.0.0.1:{kernel.port}/umd.html",
        page_url(kernel, "/umd.html", token="wrong-token-0123456789"),
    ):
        response = await page.goto(url)
        assert response is not None and response.status == 403, url
        assert "connected" not in await page.content()
    response = await page.goto(f"http://127.0.0.1:{kernel.port}/sidegears.js")
    assert response is not None and response.status == 200


async def test_token_cookie_is_hidden_from_scripts(page: Any, make_kernel: Callable[..., Awaitable[RPCKernel]]) -> None:
    """After the redirect the token is neither in the address nor readable by the page's scripts (HttpOnly), yet the client connects."""
    kernel = await make_kernel()
    await open_page(page, kernel, "/esm.html")
    await page.wait_for_function("document.getElementById('status').textContent !== 'loading'")
    assert await page.text_content("#status") == "connected"
    assert page.url == f"http://127.0.0.1:{kernel.port}/esm.html"
    assert kernel.token not in await page.evaluate(
        "document.cookie + location.href + document.documentElement.outerHTML"
    )
    cookies = await page.context.cookies()
    assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [
        (f"sidegears_token_{kernel.port}", True, "Strict")
    ]


async def test_foreign_host_header_is_refused(make_kernel: Callable[..., Awaitable[RPCKernel]]) -> None:
    """A request naming another host (DNS rebinding) gets 403 even with the right token."""
    kernel = await make_kernel()

    def get(host: str) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", kernel.port, timeout=5)
        try:
            connection.request("GET", f"/umd.html?token={kernel.token}", headers={"Host": host})
            return connection.getresponse().status
        finally:
            connection.close()

    # http.client blocks: run it off the loop the kernel serves on.
    assert await asyncio.to_thread(get, f"evil.example:{kernel.port}") == 403
    assert await asyncio.to_thread(get, f"127.0.0.1:{kernel.port}") == 302


# From a page: frame the kernel's page, run its script, probe its files; report what loaded.
FOREIGN_PROBES = """async (base) => {
    const frame = document.createElement('iframe');
    frame.src = base + '/umd.html';
    const framed = new Promise((resolve) => { frame.onload = () => resolve('load'); setTimeout(() => resolve('timeout'), 5000); });
    document.body.appendChild(frame);
    const script = new Promise((resolve) => {
        const s = document.createElement('script');
        s.src = base + '/page.js';
        s.onload = () => resolve('load'); s.onerror = () => resolve('error');
        document.head.appendChild(s);
    });
    const image = new Promise((resolve) => {
        const i = new Image();
        i.onload = () => resolve('load'); i.onerror = () => resolve('error');
        i.src = base + '/pixel.svg';
    });
    return {frame: await framed, script: await script, image: await image};
}"""


async def test_foreign_page_cannot_frame_run_or_probe_kernel_pages(
    page: Any, make_kernel: Callable[..., Awaitable[RPCKernel]], foreign_origin: str, counter: ConnectCounter
) -> None:
    """A page on another local port, in a browser holding the kernel's cookie, cannot frame its page, run its scripts or load its images."""
    kernel = await make_kernel()
    await open_page(page, kernel, "/umd.html")  # the browser now holds the token cookie (sent to every port of the host)
    own = await page.evaluate(FOREIGN_PROBES, "")
    assert own == {"frame": "load", "script": "load", "image": "load"}  # the control: the kernel's own page may
    await page.wait_for_timeout(300)
    before = len(counter.origins)
    await page.goto(f"{foreign_origin}/foreign.html")
    probes = await page.evaluate(FOREIGN_PROBES, f"http://127.0.0.1:{kernel.port}")
    assert probes["script"] == "error" and probes["image"] == "error", probes
    await page.wait_for_timeout(1000)
    (framed,) = [frame for frame in page.frames if frame is not page.main_frame]
    assert framed.url.startswith("chrome-error://"), framed.url  # Chromium's page for a refused frame
    assert len(counter.origins) == before, "the framed kernel page must not have connected"
