"""The JavaScript client in Chromium, as a UMD script and as an ES module, on pages the kernel serves with its token on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio

from sidegears import RPCError, RPCKernel, current_connection, hookimpl, report_progress

from .helpers import PAGES, open_page

pytestmark = pytest.mark.asyncio(loop_scope="session")

PAGE_NAMES = ["umd.html", "esm.html"]
APP_ERROR = 4321


class Recorder:
    """Test methods, and the client -> kernel notifications the kernel saw (its on_notify hook)."""

    def __init__(self) -> None:
        self.notifications: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.cancelled: list[str] = []

    @hookimpl
    def register_methods(self, register: Callable[..., Any]) -> None:
        def multiply(a: float, b: float) -> float:
            return a * b

        def add(a: float, b: float) -> float:
            return a + b

        def fail(what: str) -> None:
            raise RPCError(APP_ERROR, f"failed: {what}", {"what": what, "list": [1, 2]})

        def crash() -> None:
            raise ValueError("a bug")

        async def notify_me(count: int) -> int:
            connection = current_connection()
            assert connection is not None
            for n in range(count):
                connection.send_notification("tick", {"n": n})
            return count

        async def ask(value: Any) -> Any:
            connection = current_connection()
            assert connection is not None
            return await connection.call("double", [value], timeout=5)

        async def steps(count: int, pause: float) -> int:
            for done in range(1, count + 1):
                report_progress({"done": done, "total": count})
                await asyncio.sleep(pause)
            return count

        async def wait(tag: str) -> str:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled.append(tag)
                raise
            return tag

        for function in (multiply, fail, crash, notify_me, ask, steps, wait):
            register(function)
        register(add, name="math.add")

    @hookimpl
    def on_notify(self, message: Any) -> None:
        self.notifications.put_nowait((message.method, message.params))

    async def next_notification(self) -> tuple[str, Any]:
        """The next client -> kernel notification, waiting at most 5 s."""
        return await asyncio.wait_for(self.notifications.get(), 5)


@pytest.fixture
def recorder() -> Recorder:
    """A fresh recorder plugin."""
    return Recorder()


@pytest_asyncio.fixture(loop_scope="session")
async def kernel(start_kernel: Callable[..., Awaitable[RPCKernel]], recorder: Recorder) -> RPCKernel:
    """A kernel serving tests/browser/pages with the default (random) token and the recorder plugin."""
    kernel = RPCKernel(static_dir=str(PAGES), block_plugins=["browser"])
    kernel.register_plugin(recorder, name="recorder")
    assert kernel.token, "the token must be on by default"
    return await start_kernel(kernel)


@pytest_asyncio.fixture(loop_scope="session", params=PAGE_NAMES)
async def client_page(request: pytest.FixtureRequest, page: Any, kernel: RPCKernel) -> Any:
    """The UMD or the ESM test page, opened with the kernel's token and connected."""
    await open_page(page, kernel, "/" + request.param)
    await page.wait_for_function("document.getElementById('status').textContent !== 'loading'")
    assert await page.text_content("#status") == "connected"
    return page


async def test_requests(client_page: Any) -> None:
    """sendRequest with positional and named params, the requester proxy (dotted names too) and concurrent calls resolve."""
    results = await client_page.evaluate(
        """async () => [
            await client.sendRequest('multiply', [6, 7]),
            await client.sendRequest('multiply', {a: 1.5, b: 4}),
            await client.requester.multiply(3, 3),
            await client.requester.math.add(1, 2),
            await Promise.all([1, 2, 3, 4, 5].map((n) => client.requester.multiply(n, 10))),
            client.isOpen,
        ]"""
    )
    assert results == [42, 6.0, 9, 3, [10, 20, 30, 40, 50], True]


async def test_kernel_notifications(client_page: Any, kernel: RPCKernel) -> None:
    """Notifications the kernel broadcasts or sends to one connection reach onNotify and show in the DOM."""
    kernel.send_notification("news", {"headline": "hello", "n": 1})
    await client_page.wait_for_function("window.received.some((m) => m.method === 'news')")
    assert await client_page.evaluate("window.received") == [
        {"method": "news", "params": {"headline": "hello", "n": 1}}
    ]
    assert await client_page.text_content("#notifications li") == 'news {"headline":"hello","n":1}'

    assert await client_page.evaluate("client.requester.notify_me(3)") == 3
    await client_page.wait_for_function("window.received.filter((m) => m.method === 'tick').length === 3")
    ticks = await client_page.evaluate("window.received.filter((m) => m.method === 'tick').map((m) => m.params.n)")
    assert ticks == [0, 1, 2]


async def test_client_notifications(client_page: Any, recorder: Recorder) -> None:
    """sendNotification and the notifier proxy reach the kernel (its on_notify hook) with their params."""
    await client_page.evaluate("client.notifier.note('hi', 2)")
    assert await recorder.next_notification() == ("note", ["hi", 2])
    await client_page.evaluate("client.sendNotification('settings.changed', {theme: 'dark'})")
    assert await recorder.next_notification() == ("settings.changed", {"theme": "dark"})
    await client_page.evaluate("client.notifier.settings.reset()")
    assert await recorder.next_notification() == ("settings.reset", [])


async def test_errors(client_page: Any) -> None:
    """Error replies reject with an RPCError carrying code, message and data; unknown methods and bad params too."""
    errors = await client_page.evaluate(
        """async () => {
            const caught = async (promise) => {
                try { await promise; return 'resolved'; } catch (e) {
                    return {rpc: e instanceof lib.RPCError, error: e instanceof Error,
                            code: e.code, message: e.message, data: e.data ?? null};
                }
            };
            return {
                app: await caught(client.requester.fail('the disk')),
                missing: await caught(client.sendRequest('no_such_method', [])),
                params: await caught(client.requester.multiply(1)),
                crash: await caught(client.requester.crash()),
                codes: [lib.ErrorCode.METHOD_NOT_FOUND, lib.ErrorCode.INVALID_PARAMS, lib.ErrorCode.INTERNAL_ERROR],
            };
        }"""
    )
    assert errors["app"] == {
        "rpc": True,
        "error": True,
        "code": APP_ERROR,
        "message": "failed: the disk",
        "data": {"what": "the disk", "list": [1, 2]},
    }
    assert errors["codes"] == [-32601, -32602, -32603]
    assert (errors["missing"]["rpc"], errors["missing"]["code"]) == (True, -32601)
    assert (errors["params"]["rpc"], errors["params"]["code"]) == (True, -32602)
    assert (errors["crash"]["rpc"], errors["crash"]["code"]) == (True, -32603)
    assert "a bug" not in str(errors["crash"]), "without debug, a method's exception text must not reach the client"


async def test_kernel_calls_client(client_page: Any) -> None:
    """A method registered in the page answers the kernel's connection.call, and the kernel's method returns it."""
    result = await client_page.evaluate(
        """async () => {
            const unregister = client.register('double', (x) => x * 2);
            try { return await client.requester.ask(21); } finally { unregister(); }
        }"""
    )
    assert result == 42


async def test_second_client_uses_the_cookie(client_page: Any, kernel: RPCKernel) -> None:
    """createClient().connect() without url or token opens the page's own kernel (the cookie carries the token)."""
    result = await client_page.evaluate(
        """async () => {
            const other = lib.createClient();
            await other.connect();
            const url = other.url;
            const product = await other.requester.multiply(2, 21);
            await other.disconnect();
            return {url, product, isOpen: other.isOpen, firstStillOpen: client.isOpen};
        }"""
    )
    assert result == {
        "url": f"ws://127.0.0.1:{kernel.port}/",
        "product": 42,
        "isOpen": False,
        "firstStillOpen": True,
    }


async def test_progress_timeout_and_abort(client_page: Any, recorder: Recorder) -> None:
    """In Chromium: progress arrives in order before the result; a timeout and an AbortSignal reject and cancel the Python task."""
    outcome = await client_page.evaluate(
        """async () => {
            const progress = [];
            const result = await client.sendRequest('steps', [4, 0.06], {onProgress: (value) => progress.push(value.done)});
            const failure = async (promise) => { try { await promise; return 'resolved'; } catch (e) { return e.name; } };
            const timedOut = await failure(client.sendRequest('wait', ['by-timeout'], {timeout: 100}));
            const controller = new AbortController();
            const aborting = client.sendRequest('wait', ['by-abort'], {signal: controller.signal});
            setTimeout(() => controller.abort(), 50);
            return {result, progress, timedOut, aborted: await failure(aborting)};
        }"""
    )
    assert outcome == {"result": 4, "progress": [1, 2, 3, 4], "timedOut": "TimeoutError", "aborted": "AbortError"}
    for _ in range(100):
        if len(recorder.cancelled) >= 2:
            break
        await asyncio.sleep(0.02)
    assert sorted(recorder.cancelled) == ["by-abort", "by-timeout"]
