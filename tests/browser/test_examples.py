"""The bundled example pages (examples/client, examples/vue, sidegears/examples/notifications) served by their own
kernels, in Chromium; the demo's page has tests/browser/test_demo.py."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from sidegears import RPCKernel, examples

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


# -- every bundled page: no favicon 404, no console errors, and it shows when the kernel leaves ---------

# The page of each bundled example besides the demo (tests/browser/test_demo.py), and the buttons that need the kernel.
BUNDLED_PAGES = {
    "notifications": ("/", ["#run"]),
    "client": ("/client.html", ["#multiply", "#add", "#divide", "#countdown", "#send-log", "#ask"]),
    "vue": ("/", ["#multiply", "#announce"]),
}
# While the kernel is gone Chromium logs each failed reconnect (the handshake, and the client's connect check).
KERNEL_AWAY = re.compile(r"^(WebSocket connection to '.*' failed|Failed to load resource: net::ERR_CONNECTION_REFUSED)")


@pytest.mark.parametrize("name", list(BUNDLED_PAGES))
async def test_bundled_page_follows_its_kernel(
    name: str, page: Any, start_kernel: Callable[..., Awaitable[RPCKernel]]
) -> None:
    """Each bundled page loads with no failed request (a favicon included) and no console error, enables its
    buttons once connected, and when the kernel stops (Quit, Ctrl-C) says so and disables them."""
    path, buttons = BUNDLED_PAGES[name]
    errors: list[str] = []
    failed: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
    kernel = await start_kernel(examples.load(name).create_kernel(block_plugins=["browser"]))

    await open_page(page, kernel, path)
    await page.wait_for_function("document.getElementById('status')?.textContent === 'connected'")
    for button in buttons:
        assert await page.is_enabled(button), button
    await page.wait_for_load_state("load")
    assert not failed, f"failed requests: {failed}"
    assert not errors, f"console errors: {errors}"

    await kernel.astop()
    await page.wait_for_function(
        "/^reconnecting \\(attempt \\d+\\)$/.test(document.getElementById('status').textContent)"
    )
    for button in buttons:
        assert await page.is_disabled(button), button
    assert not failed, f"failed requests: {failed}"
    assert all(KERNEL_AWAY.match(error) for error in errors), errors


async def test_notifications_example(page: Any, start_kernel: Callable[..., Awaitable[RPCKernel]]) -> None:
    """sidegears/examples/notifications: the clock ticks, and a run's progress arrives step by step to the end."""
    kernel = await start_kernel(examples.load("notifications").create_kernel(block_plugins=["browser"]))
    await open_page(page, kernel, "/")
    await page.wait_for_function("document.getElementById('status').textContent === 'connected'")
    await page.wait_for_function("/^\\d\\d:\\d\\d:\\d\\d$/.test(document.getElementById('clock').textContent)")
    await page.fill("#steps", "5")
    await page.fill("#delay", "0.01")
    await page.click("#run")
    await page.wait_for_function("document.getElementById('result').textContent === 'finished: 5 steps'")
    assert await page.evaluate("document.getElementById('progress').value") == 5
    assert await page.is_enabled("#run")
