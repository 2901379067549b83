"""The documented dev-server path: Vite serves examples/vite, `sidegears run --dev-server` runs its kernel.

The page comes from Vite's origin, finds the kernel (and its token) in the
address the kernel printed, and calls it; the kernel still refuses a client
without the token.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from sidegears.testing import refusal_code

from .conftest import _skip_or_fail
from .helpers import ROOT

pytestmark = pytest.mark.asyncio(loop_scope="session")

EXAMPLE = ROOT / "examples" / "vite"
VITE = EXAMPLE / "node_modules" / ".bin" / "vite"
TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def end(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_until_served(url: str) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while True:
        try:
            await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=2).read())
            return
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


@pytest_asyncio.fixture(loop_scope="session")
async def vite() -> AsyncIterator[str]:
    """Vite's dev server for examples/vite on 127.0.0.1; yields its origin."""
    if not VITE.exists():
        _skip_or_fail(f"Vite is not installed in {EXAMPLE} (make setup: npm ci there)")
    port = free_port()
    process = subprocess.Popen(
        [str(VITE), "--host", "127.0.0.1", "--port", str(port), "--strictPort"],
        cwd=EXAMPLE,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    origin = f"http://127.0.0.1:{port}"
    try:
        await wait_until_served(origin + "/")
        yield origin
    finally:
        end(process)


@pytest_asyncio.fixture(loop_scope="session")
async def dev_kernel(vite: str, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """`sidegears run --dev-server ORIGIN examples/vite/app.py`; yields (dev page address, websocket url)."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    process = subprocess.Popen(
        [sys.executable, "-m", "sidegears", "run", "--dev-server", vite, str(EXAMPLE / "app.py"), "--no-browser"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
    )
    try:
        printed = ""
        while "websocket:" not in printed:
            line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), TIMEOUT)
            assert line, f"the app ended before printing its addresses: {printed!r}"
            printed += line
        dev_page = re.search(r"dev page:\s+(\S+)", printed)
        websocket = re.search(r"websocket:\s+(\S+)", printed)
        assert dev_page and websocket, printed
        yield dev_page.group(1), websocket.group(1)
    finally:
        end(process)


async def test_a_vite_page_calls_the_kernel(dev_kernel: tuple[str, str], vite: str, page: Any) -> None:
    dev_page, websocket_url = dev_kernel
    assert dev_page.startswith(vite + "/?sidegears=")
    await page.goto(dev_page)
    await page.wait_for_function("document.querySelector('#status').value === 'connected'")
    await page.fill("#a", "6")
    await page.fill("#b", "7")
    await page.click("#multiply")
    await page.wait_for_function("document.querySelector('#product').value === '42'")
    # The dev server's origin is let in, but the token is still needed.
    assert await refusal_code(websocket_url.split("?")[0], origin=vite) == 403
