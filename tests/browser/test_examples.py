"""The top-level examples (examples/client and examples/vue) served by their own kernels, in Chromium."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from sidegears import RPCKernel

from .helpers import load_example, open_page

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_client_example(page: Any, start_kernel: Callable[..., Awaitable[RPCKernel]]) -> None:
    """examples/client: requests, the proxy, an error with data, notifications both ways and a kernel->page request."""
    app = load_example("client")
    kernel = await start_kernel(app.create_kernel(block_plugins=["browser"]))
    plugin = kernel.plugin_manager.get_plugin("client_example")
    assert plugin is not None

    await open_page(page, kernel, "/")  # index.html forwards to client.html
    await page.wait_for_url("**/client.html")
    await page.wait_for_function("document.getElementById('status').textContent === 'connected'")

    await page.fill("#a", "6")
    await page.fill("#b", "7")
    await page.click("#multiply")
    await page.wait_for_function("document.getElementById('product').textContent === '42'")

    await page.click("#add")
    await page.wait_for_function("document.getElementById('sum').textContent === '3.5'")

    await page.click("#divide")  # 1 / 0
    await page.wait_for_selector("#error:not([hidden])")
    assert await page.text_content("#quotient") == "error"
    assert await page.text_content("#error") == 'RPCError 4000: Division by zero\ndata: {"dividend":1,"divisor":0}'

    await page.click("#countdown")
    await page.wait_for_function("document.getElementById('countdown-result').textContent === 'liftoff'")
    assert await page.locator("#countdown-log li").all_text_contents() == ["3", "2", "1"]

    await page.fill("#log-text", "hello kernel")
    await page.click("#send-log")
    assert await asyncio.to_thread(plugin.logged.get, timeout=5) == "hello kernel"
    await page.wait_for_function("document.getElementById('logged').textContent === 'hello kernel'")

    kernel.send_notification("news", {"n": 1})
    await page.wait_for_function("document.getElementById('notifications').textContent.includes('news {\"n\":1}')")

    page.once("dialog", lambda dialog: dialog.accept())  # the page's confirm() for the kernel's question
    await page.click("#ask")
    await page.wait_for_function("document.getElementById('answer').textContent !== ''")
    assert await page.text_content("#answer") == '{"question":"Shall we continue?","confirmed":true}'


async def test_vue_example(page: Any, start_kernel: Callable[..., Awaitable[RPCKernel]]) -> None:
    """examples/vue mounts with Vue served locally, multiplies through the plugin and lists kernel notifications."""
    app = load_example("vue")
    kernel = await start_kernel(app.create_kernel(block_plugins=["browser"]))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    await open_page(page, kernel, "/")
    await page.wait_for_function("document.getElementById('status')?.textContent === 'connected'")
    assert await page.evaluate("typeof Vue.createApp") == "function"
    assert await page.is_enabled("#multiply")

    await page.fill("#a", "12")
    await page.fill("#b", "0.5")
    await page.click("#multiply")
    await page.wait_for_function("document.getElementById('product').textContent === '6'")

    kernel.send_notification("announcement", {"text": "from Python", "time": "now"})
    await page.wait_for_function("document.querySelectorAll('#announcements li').length === 1")
    assert await page.text_content("#announcements li") == "from Python now"

    await page.fill("#text", "from the page")
    await page.click("#announce")
    await page.wait_for_function("document.querySelectorAll('#announcements li').length === 2")
    assert (await page.locator("#announcements li").nth(1).text_content()).startswith("from the page ")
    assert "RPCError" not in await page.text_content("#app")

    origin = f"http://127.0.0.1:{kernel.port}/"
    assert requested and all(url.startswith(origin) for url in requested), requested
