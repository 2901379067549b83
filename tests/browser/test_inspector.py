"""The inspector page (``/_sidegears/``) in headless Chromium, against a real kernel and a second, Python client.

The page is driven only through what a person sees and clicks. Its
Content-Security-Policy forbids evaluating strings, so the tests wait with
selectors rather than ``wait_for_function``.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

import pytest

from sidegears import RPCKernel, current_connection, hookimpl
from sidegears.errors import ErrorCode, RPCError
from sidegears.testing import RPCTestClient

from .helpers import open_page, page_url

pytestmark = pytest.mark.asyncio(loop_scope="session")

PATH = "/_sidegears/"


class App:
    """An app's methods: a typed one, one that names its caller's connection, and a slow one that records its cancellation."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = False

    @hookimpl
    def register_methods(self, register: Any) -> None:
        def add(a: int, b: int) -> int:
            """Add two integers."""
            return a + b

        async def whoami():
            connection = current_connection()
            assert connection is not None
            return connection.id

        async def slow(seconds: float = 30) -> str:
            """Take a long time."""
            self.started.set()
            try:
                await asyncio.sleep(seconds)
            except asyncio.CancelledError:
                self.cancelled = True
                raise
            return "finished"

        for func in (add, whoami, slow):
            register(func, name=f"demo.{func.__name__}")


class Console:
    """The page's console errors and failed HTTP responses (a missing icon would be one)."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.failed: list[str] = []
        page.on("console", self._console)
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed.append(response.url)

    def assert_clean(self) -> None:
        assert not self.errors, f"console errors: {self.errors}"
        assert not self.failed, f"failed requests: {self.failed}"


async def start_app(start_kernel: Callable[..., Awaitable[RPCKernel]], **options: Any) -> tuple[RPCKernel, App]:
    app = App()
    options.setdefault("block_plugins", ["browser"])
    kernel = RPCKernel(**options)
    kernel.register_plugin(app, "demo")
    return await start_kernel(kernel), app


async def open_inspector(page: Any, kernel: RPCKernel) -> None:
    await open_page(page, kernel, PATH)
    await page.wait_for_selector('body[data-state="connected"]')


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except HTTPError as exc:
        return exc.code


async def test_methods_form_log_connections_and_plugins(
    page: Any, start_kernel: Callable[..., Awaitable[RPCKernel]]
) -> None:
    """A method is listed and called through its form; its messages, another client's, the connections and the plugins show."""
    console = Console(page)
    kernel, _ = await start_app(start_kernel)
    await open_inspector(page, kernel)

    # The app's methods, not the inspector's own.
    method = page.locator('.method[data-method="demo.add"]')
    await method.wait_for()
    assert await page.locator('.method[data-method^="sidegears.inspector."]').count() == 0
    assert "Add two integers." in (await method.locator("summary").text_content() or "")

    # The form: one input per param, with its schema; the result shows.
    await method.locator("summary").click()
    form = method.locator("form")
    assert "integer" in (await form.locator(".param").first.locator(".schema").text_content() or "")
    await form.locator('textarea[data-name="a"]').fill("2")
    await form.locator('textarea[data-name="b"]').fill("40")
    await form.locator('button[type="submit"]').click()
    assert (await form.locator(".result.ok pre").text_content() or "").strip() == "42"
    # A wrong param comes back as the kernel's error, shown as such.
    await form.locator('textarea[data-name="b"]').fill('"many"')
    await form.locator('button[type="submit"]').click()
    error = form.locator(".result.error")
    await error.wait_for()
    assert str(int(ErrorCode.INVALID_PARAMS)) in (await error.text_content() or "")

    # The form's call in the log, marked as the inspector's, with its reply time.
    own = page.locator('#log-body tr[data-method="demo.add"][data-kind="request"][data-inspector="yes"]').first
    await own.wait_for()
    assert (await own.locator(".c-status").text_content()) == "ok"
    assert (await own.locator(".c-ms").text_content() or "").endswith(("ms", "s"))

    # Another client's call, in and out, with its connection.
    assert kernel.url is not None
    async with RPCTestClient.connect(kernel.url) as other:
        other_id = await other.call("demo.whoami")
        assert await other.call("demo.add", [20, 22]) == 42
        request = page.locator(f'#log-body tr[data-method="demo.add"][data-kind="request"][data-conn="{other_id}"]')
        reply = page.locator(f'#log-body tr[data-method="demo.add"][data-kind="reply"][data-conn="{other_id}"]')
        await request.wait_for()
        await reply.wait_for()
        assert await request.get_attribute("data-dir") == "in" and await reply.get_attribute("data-dir") == "out"
        assert (await request.locator(".c-size").text_content() or "").endswith("B")

        # The details of a message: its content.
        await reply.click()
        assert (await page.locator("#detail-json").text_content() or "").strip().endswith("42")

        # Filters: by method, then by direction.
        await page.fill("#filter-method", "whoami")
        await page.locator('#log-body tr[data-method="demo.add"]').first.wait_for(state="hidden")
        assert await page.locator('#log-body tr[data-method="demo.whoami"]').first.is_visible()
        await page.fill("#filter-method", "")
        await page.select_option("#filter-dir", "out")
        await request.wait_for(state="hidden")
        assert await reply.is_visible()
        await page.select_option("#filter-dir", "")

        # The connections: this page's and the other client's.
        await page.click("#tab-connections")
        row = page.locator(f'#connections-body tr[data-conn="{other_id}"]')
        await row.wait_for()
        assert "127.0.0.1:" in (await row.text_content() or "")
        assert await page.locator("#connections-body tr").count() == 2
        assert await page.locator("#connections-body .badge", has_text="this page").count() == 1

    # The plugins and their hooks, in calling order.
    await page.click("#tab-plugins")
    for name in ("methods", "security", "static", "inspector", "demo"):
        await page.locator(f'#plugins-body tr[data-plugin="{name}"]').wait_for()
    assert "blocked" in (await page.locator('#plugins-body tr[data-plugin="browser"]').text_content() or "")
    log_message = page.locator('#hooks-body tr[data-hook="log_message"]')
    assert "inspector.tap" in (await log_message.text_content() or "")
    first = page.locator('#hooks-body tr[data-hook="process_http_request"] .chip').first
    assert (await first.text_content() or "").startswith("security (tryfirst")
    console.assert_clean()


async def test_cancel_a_call_of_another_client(page: Any, start_kernel: Callable[..., Awaitable[RPCKernel]]) -> None:
    """A slow call of a Python client shows in flight; Cancel stops it: the method sees CancelledError, the client gets -32800."""
    console = Console(page)
    kernel, app = await start_app(start_kernel)
    await open_inspector(page, kernel)
    assert kernel.url is not None
    async with RPCTestClient.connect(kernel.url) as other:
        other_id = await other.call("demo.whoami")
        pending = asyncio.ensure_future(other.request("demo.slow", [30]))
        await asyncio.wait_for(app.started.wait(), 5)

        await page.click("#tab-calls")
        row = page.locator(f'#calls-body tr[data-method="demo.slow"][data-conn="{other_id}"]')
        await row.wait_for()
        assert (await row.locator(".elapsed").text_content() or "").endswith(("ms", "s"))
        await row.locator("button.cancel").click()

        reply = await asyncio.wait_for(pending, 5)
        assert reply["error"]["code"] == ErrorCode.CALL_CANCELLED == -32800
        assert app.cancelled
        await row.wait_for(state="detached")
        await page.locator("#calls-empty").wait_for()

        await page.click("#tab-messages")
        status = page.locator(f'#log-body tr[data-method="demo.slow"][data-kind="request"][data-conn="{other_id}"] .c-status')
        await page.locator(f'#log-body tr[data-method="demo.slow"][data-kind="reply"][data-conn="{other_id}"]').wait_for()
        assert await status.text_content() == "error -32800"
    console.assert_clean()


async def test_blocked_inspector_is_gone(page: Any, start_kernel: Callable[..., Awaitable[RPCKernel]], tmp_path: Path) -> None:
    """With block_plugins=["inspector"] the page is 404, like any missing file of the app's folder, and its methods are gone."""
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title>")
    kernel, _ = await start_app(start_kernel, block_plugins=["browser", "inspector"], static_dir=str(tmp_path))
    response = await page.goto(page_url(kernel, PATH))
    assert response is not None and response.status == 404
    response = await page.goto(f"http://127.0.0.1:{kernel.port}{PATH}app.js")
    assert response is not None and response.status == 404  # the token cookie is set: 404, not 403
    response = await page.goto(f"http://127.0.0.1:{kernel.port}/")
    assert response is not None and response.status == 200  # the app's own page is still there
    assert kernel.url is not None
    async with RPCTestClient.connect(kernel.url) as client:
        with pytest.raises(RPCError) as info:
            await client.call("sidegears.inspector.subscribe")
    assert info.value.code == ErrorCode.METHOD_NOT_FOUND


async def test_the_page_needs_the_token(page: Any, start_kernel: Callable[..., Awaitable[RPCKernel]]) -> None:
    """Without the token (or with a wrong one) the page and its files are refused; with it, they are served."""
    kernel, _ = await start_app(start_kernel)
    base = f"http://127.0.0.1:{kernel.port}"
    for url in (base + PATH, base + PATH + "app.js", base + "/_sidegears", page_url(kernel, PATH, token="wrong-token-0123456789")):
        response = await page.goto(url)
        assert response is not None and response.status == 403, url
        assert await page.locator(".method").count() == 0
    # And outside a browser: no cookie, no page.
    assert await asyncio.to_thread(http_status, base + PATH + "index.html") == 403
    await open_inspector(page, kernel)
    assert page.url == base + PATH
