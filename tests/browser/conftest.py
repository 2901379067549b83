"""Browser end-to-end tests: real kernels on 127.0.0.1, driven from headless Chromium through Playwright (async API).

One browser for the whole session, a fresh context (cookies, storage) per
test. The browser, the kernels and the tests share pytest-asyncio's session
event loop: every test module here sets ``pytestmark =
pytest.mark.asyncio(loop_scope="session")`` and every async fixture uses
``loop_scope="session"``. (Playwright's sync API would keep its loop marked
as running on the main thread for as long as the browser lives, which breaks
every async test that runs after it, so it is not used.) Never block the loop
in a test: blocking calls go through ``asyncio.to_thread``.

The browser is ``/usr/bin/chromium``, or the path in ``SIDEGEARS_CHROMIUM``;
the tests are skipped when Playwright or the browser is missing. Playwright's
own browser downloads are never used.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from sidegears import RPCKernel

from .helpers import TIMEOUT_MS

try:
    from playwright.async_api import async_playwright
except ImportError:  # pragma: no cover - the tests are skipped
    async_playwright = None  # type: ignore[assignment]

CHROMIUM = os.environ.get("SIDEGEARS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the whole session."""
    if async_playwright is None:
        _skip_or_fail("Playwright for Python is not installed (pip install playwright; no browser download needed)")
    if not Path(CHROMIUM).exists():
        _skip_or_fail(f"no Chromium at {CHROMIUM} (set SIDEGEARS_CHROMIUM)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Any) -> AsyncIterator[Any]:
    """A fresh browser context (no cookies) for one test."""
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: Any) -> AsyncIterator[Any]:
    """A page of the test's context; an uncaught JavaScript exception in it fails the test."""
    page = await context.new_page()
    page_errors: list[str] = []
    console: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    yield page
    assert not page_errors, f"uncaught errors in the page: {page_errors}; console: {console}"


@pytest_asyncio.fixture(loop_scope="session")
async def start_kernel() -> AsyncIterator[Callable[..., Awaitable[RPCKernel]]]:
    """Start kernels on 127.0.0.1, free port, on the test's loop; stop them after the test.

    ``await start_kernel(kernel)`` starts an RPCKernel built by the test;
    ``await start_kernel(**options)`` builds one (token on unless ``token=False``).
    """
    kernels: list[RPCKernel] = []

    async def start(kernel: RPCKernel | None = None, **options: Any) -> RPCKernel:
        if kernel is None:
            options.setdefault("block_plugins", ["browser"])
            kernel = RPCKernel(**options)
        await kernel.astart("127.0.0.1", 0)
        kernels.append(kernel)
        return kernel

    yield start
    for kernel in reversed(kernels):
        await kernel.astop()


def _skip_or_fail(reason: str) -> None:
    """Skip on a developer's machine; fail where SIDEGEARS_REQUIRE_BROWSER=1 (make test, CI)."""
    if os.environ.get("SIDEGEARS_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)
