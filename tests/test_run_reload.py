"""`sidegears run --reload` restarts a changed app on its port with its secret; `--dev-server` lets a dev page in."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from sidegears.cli import main
from sidegears.testing import RPCTestClient, refusal_code

from .test_cli import read_websocket_url

APP = """
import sys

from sidegears import RPCKernel, rpc_method
from sidegears.cli import run_app

VERSION = {version}


@rpc_method
def version():
    return VERSION


def create_kernel(**options):
    return RPCKernel(**options)


if __name__ == "__main__":
    sys.exit(run_app(create_kernel))
"""
TIMEOUT = 30.0


def write_app(path: Path, version: int) -> None:
    path.write_text(APP.format(version=version))
    # A later mtime even on file systems with coarse timestamps: the reloader compares them.
    later = path.stat().st_mtime + version
    os.utime(path, (later, later))


async def start(tmp_path: Path, *args: str) -> asyncio.subprocess.Process:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sidegears", "run", *args,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=(tmp_path / "stderr").open("wb"),
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
    )  # fmt: skip


async def end(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), TIMEOUT)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise


async def version_at(url: str) -> int:
    async with RPCTestClient.connect(url) as rpc:
        return await rpc.call("version")


async def test_reload_restarts_a_changed_app_on_the_same_port_with_the_same_secret(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    write_app(app, 1)
    process = await start(tmp_path, "--reload", str(app), "--no-browser")
    try:
        first = await asyncio.wait_for(read_websocket_url(process), TIMEOUT)
        assert await version_at(first) == 1
        write_app(app, 2)
        second = await asyncio.wait_for(read_websocket_url(process), TIMEOUT)
        assert second == first, "same port, same token: the open page reconnects by itself"
        assert await version_at(second) == 2
    finally:
        status = await end(process)
    assert status == 0, (tmp_path / "stderr").read_text()
    with pytest.raises(OSError):  # the app's kernel ended with the reloader
        await asyncio.wait_for(asyncio.open_connection("127.0.0.1", urlsplit(first).port), 5)


async def test_dev_server_origin_is_let_in_and_its_page_address_carries_the_kernel(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    write_app(app, 1)
    process = await start(tmp_path, "--dev-server", "http://localhost:5173/", str(app), "--no-browser")
    try:
        assert process.stdout is not None
        lines = []
        while not any("websocket:" in line for line in lines):
            lines.append((await asyncio.wait_for(process.stdout.readline(), TIMEOUT)).decode())
        text = "".join(lines)
        dev_page = re.search(r"dev page:\s+(\S+)", text).group(1)
        url = re.search(r"websocket:\s+(\S+)", text).group(1)
        assert dev_page.startswith("http://localhost:5173/?sidegears=")
        assert unquote(parse_qs(urlsplit(dev_page).query)["sidegears"][0]) == url
        async with RPCTestClient.connect(url, origin="http://localhost:5173") as rpc:
            assert await rpc.call("version") == 1
        assert await refusal_code(url, origin="http://localhost:5174") == 403
        assert await refusal_code(url.split("?")[0], origin="http://localhost:5173") == 403, "still needs the token"
    finally:
        await end(process)


def test_dev_server_must_be_an_origin(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    write_app(app, 1)
    assert main(["run", "--dev-server", "localhost:5173/app", str(app)]) == 2
    assert "--dev-server wants an origin such as http://localhost:5173" in capsys.readouterr().err
