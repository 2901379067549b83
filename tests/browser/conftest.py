"""Browser end-to-end tests: real kernels on 127.0.0.1, driven from headless Chromium through Playwright (sync API).

One browser per session, a fresh context (cookies, storage) per test. Kernels
run with ``kernel.start()`` on their own thread, so the Playwright sync API
never meets a running event loop. The browser is ``/usr/bin/chromium``, or the
path in ``SIDEGEARS_CHROMIUM``; the tests are skipped when Playwright or the
browser is missing. Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sidegears import RPCKernel

from .helpers import TIMEOUT_MS

try:
    from playwright import sync_api
except ImportError:  # pragma: no cover - the tests are skipped
    sync_api = None

CHROMIUM = os.environ.get("SIDEGEARS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    if sync_api is None:
        pytest.skip("Playwright for Python is not installed (pip install playwright; no browser download needed)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (set SIDEGEARS_CHROMIUM)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) for one test."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: Any) -> Iterator[Any]:
    """A page of the test's context; an uncaught JavaScript exception in it fails the test."""
    page = context.new_page()
    page_errors: list[str] = []
    console: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.console_messages_seen = console  # for failing tests to show
    yield page
    assert not page_errors, f"uncaught errors in the page: {page_errors}; console: {console}"


@pytest.fixture
def start_kernel() -> Iterator[Callable[..., RPCKernel]]:
    """Start kernels on 127.0.0.1, free port, token ON unless given; stop them after the test.

    Call it with an RPCKernel (not started) or with keyword options for a new one.
    """
    kernels: list[RPCKernel] = []

    def start(kernel: RPCKernel | None = None, **options: Any) -> RPCKernel:
        if kernel is None:
            options.setdefault("block_plugins", ["browser"])
            kernel = RPCKernel(**options)
        kernel.start("127.0.0.1", 0)
        kernels.append(kernel)
        return kernel

    yield start
    for kernel in kernels:
        kernel.stop(timeout=10)
