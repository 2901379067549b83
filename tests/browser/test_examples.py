"""The top-level examples (examples/client and examples/vue) served by their own kernels, in Chromium."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sidegears import RPCKernel

from .helpers import load_example, open_page


def test_client_example(page: Any, start_kernel: Callable[..., RPCKernel]) -> None:
    """examples/client: requests, the proxy, an error with data, notifications both ways and a kernel->page request."""
    app = load_example("client")
    kernel = start_kernel(app.create_kernel(block_plugins=["browser"]))
    plugin = kernel.plugin_manager.get_plugin("client_example")

    open_page(page, kernel, "/")  # index.html forwards to client.html
    page.wait_for_url("**/client.html")
    page.wait_for_function("document.getElementById('status').textContent === 'connected'")

    page.fill("#a", "6")
    page.fill("#b", "7")
    page.click("#multiply")
    page.wait_for_function("document.getElementById('product').textContent === '42'")

    page.click("#add")
    page.wait_for_function("document.getElementById('sum').textContent === '3.5'")

    page.click("#divide")  # 1 / 0
    page.wait_for_selector("#error:not([hidden])")
    assert page.text_content("#quotient") == "error"
    assert page.text_content("#error") == 'RPCError 4000: Division by zero\ndata: {"dividend":1,"divisor":0}'

    page.click("#countdown")
    page.wait_for_function("document.getElementById('countdown-result').textContent === 'liftoff'")
    assert page.locator("#countdown-log li").all_text_contents() == ["3", "2", "1"]

    page.fill("#log-text", "hello kernel")
    page.click("#send-log")
    assert plugin.logged.get(timeout=5) == "hello kernel"
    page.wait_for_function("document.getElementById('logged').textContent === 'hello kernel'")

    kernel.send_notification("news", {"n": 1})
    page.wait_for_function("document.getElementById('notifications').textContent.includes('news {\"n\":1}')")

    page.once("dialog", lambda dialog: dialog.accept())  # the page's confirm() for the kernel's question
    page.click("#ask")
    page.wait_for_function("document.getElementById('answer').textContent !== ''")
    assert page.text_content("#answer") == '{"question":"Shall we continue?","confirmed":true}'


def test_vue_example(page: Any, start_kernel: Callable[..., RPCKernel]) -> None:
    """examples/vue mounts with Vue served locally, multiplies through the plugin and lists kernel notifications."""
    app = load_example("vue")
    kernel = start_kernel(app.create_kernel(block_plugins=["browser"]))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    open_page(page, kernel, "/")
    page.wait_for_function("document.getElementById('status')?.textContent === 'connected'")
    assert page.evaluate("typeof Vue.createApp") == "function"
    assert page.is_enabled("#multiply")

    page.fill("#a", "12")
    page.fill("#b", "0.5")
    page.click("#multiply")
    page.wait_for_function("document.getElementById('product').textContent === '6'")

    kernel.send_notification("announcement", {"text": "from Python", "time": "now"})
    page.wait_for_function("document.querySelectorAll('#announcements li').length === 1")
    assert page.text_content("#announcements li") == "from Python now"

    page.fill("#text", "from the page")
    page.click("#announce")
    page.wait_for_function("document.querySelectorAll('#announcements li').length === 2")
    assert page.locator("#announcements li").nth(1).text_content().startswith("from the page ")
    assert page.text_content("#app").count("RPCError") == 0

    origin = f"http://127.0.0.1:{kernel.port}/"
    assert requested and all(url.startswith(origin) for url in requested), requested
