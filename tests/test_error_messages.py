"""Everyday mistakes get answers that say what happened and what to do: a taken port, a page without
its key, a method that raises."""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import sidegears
from sidegears import PortInUseError, RPCKernel, rpc_method
from sidegears.testing import RPCTestClient, running_kernel

APP = """
import sys
from sidegears import RPCKernel
from sidegears.cli import run_app

if __name__ == "__main__":
    sys.exit(run_app(lambda **options: RPCKernel(**options)))
"""


@rpc_method(name="errors.divide")
def divide(a, b):
    return a / b


@pytest.fixture
def taken_port():
    """A port this process listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_a_taken_port_raises_an_error_that_names_it_and_its_holder(taken_port: int) -> None:
    kernel = RPCKernel()
    with pytest.raises(PortInUseError) as info:
        kernel.start("127.0.0.1", taken_port)
    error = info.value
    assert isinstance(error, OSError) and error.port == taken_port
    assert error.holder is not None and f"(pid {os.getpid()})" in error.holder
    assert str(error) == (
        f"port {taken_port} on 127.0.0.1 is already in use by {error.holder}: stop that program, "
        "or choose another port (--port 0, or start(port=0), picks a free one)"
    )
    kernel.start("127.0.0.1", 0)  # the failed start left the kernel usable
    kernel.stop()


def test_an_app_on_a_taken_port_says_so_in_one_line(taken_port: int, tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(APP)
    for command in (["run", str(app)], ["demo"]):
        result = subprocess.run(
            [sys.executable, "-m", "sidegears", *command, "--no-browser", "--port", str(taken_port)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)},
        )
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert f"port {taken_port} on 127.0.0.1 is already in use by" in lines[0] and "--port 0" in lines[0]
        assert "Traceback" not in result.stderr


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response.status, response.getheader("Content-Type") or "", response.read().decode()


async def test_a_page_without_its_key_says_what_to_do(tmp_path: Path) -> None:
    """A browser gets a small styled page (no secret in it); other clients keep the one-line text."""
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title>")
    async with running_kernel(static_dir=str(tmp_path), token="a-token-of-enough-length-1") as kernel:
        browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
        for path in ("/", "/?token=stale-token-of-an-earlier-run"):
            status, content_type, body = await asyncio.to_thread(get, kernel.port, path, browser)
            assert status == 403 and content_type.startswith("text/html")
            assert "<title>This page needs the app's key</title>" in body
            assert "Open the address the app printed when it started" in body and "start the app again" in body
            assert kernel.token not in body and "stale-token" not in body
        status, content_type, body = await asyncio.to_thread(get, kernel.port, "/", {})
        assert (status, content_type, body) == (403, "text/plain; charset=utf-8", "403 Forbidden: token missing or wrong\n")


async def test_a_failing_method_is_named_to_the_client_and_its_traceback_logged_readably(caplog) -> None:
    async with running_kernel(token=False) as kernel:
        async with RPCTestClient.connect(kernel.url) as client:
            reply = await client.request("errors.divide", [1, 0])
            assert reply["error"] == {"code": -32603, "message": "errors.divide failed: ZeroDivisionError"}
            kernel.set_debug(True)
            debug_reply = await client.request("errors.divide", [1, 0])
    record = next(r for r in caplog.records if "method failed" in r.getMessage())
    lines = record.getMessage().splitlines()
    assert "method='errors.divide'" in lines[0]
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[2].startswith(f'  File "{__file__}", line ') and lines[2].endswith("in divide")
    assert lines[-1] == "ZeroDivisionError: division by zero"
    assert str(Path(sidegears.__file__).parent) not in record.getMessage(), "the framework's frames are left out"
    traceback_sent = debug_reply["error"]["data"]["traceback"]
    assert traceback_sent.splitlines()[1].startswith(f'  File "{__file__}"'), "debug mode sends the same traceback"
