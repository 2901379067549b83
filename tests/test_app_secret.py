"""The per-app secret: kept private across runs so a restarted kernel knows its page, and nothing else gets in."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import stat

import pytest
from websockets.asyncio.client import connect

from sidegears import RPCKernel, rpc_method
from sidegears.app_secret import UnsafeSecretStore, app_secret, secret_path
from sidegears.testing import refusal_code


@rpc_method(name="secret.add")
def add(a, b):
    return a + b


@pytest.fixture(autouse=True)
def runtime_dir(tmp_path, monkeypatch):
    """Each test gets its own runtime directory, as a login session would."""
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    return folder


def http_get(port: int, path: str, headers: dict | None = None) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    return response, response.read()


def test_the_secret_is_kept_private_and_reused(runtime_dir) -> None:
    """The first run stores a new secret (folder 0700, file 0600); the next run of the same app reads it back."""
    first = app_secret("app-one")
    assert len(first) >= 32
    path = secret_path("app-one")
    assert path.parent == runtime_dir / "sidegears"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert "app-one" not in path.name
    assert app_secret("app-one") == first
    assert app_secret("app-two") != first
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".new-")], "no temporary file is left"


def test_a_secret_others_can_read_is_refused(runtime_dir) -> None:
    """A folder or file open to group or others is not trusted, and the kernel falls back to a token per start."""
    app_secret("app")
    path = secret_path("app")
    os.chmod(path, 0o644)
    with pytest.raises(UnsafeSecretStore, match="open to group or others"):
        app_secret("app")
    os.chmod(path, 0o600)
    os.chmod(path.parent, 0o755)
    with pytest.raises(UnsafeSecretStore, match="open to group or others"):
        app_secret("app")
    kernel = RPCKernel(app_id="app")
    other = RPCKernel(app_id="app")
    assert kernel.token and other.token and kernel.token != other.token


def test_a_broken_secret_file_is_replaced(runtime_dir) -> None:
    """A secret file that holds no usable secret (emptied, edited) is replaced by a new secret."""
    app_secret("app")
    secret_path("app").write_text("short")
    token = app_secret("app")
    assert len(token) >= 32 and secret_path("app").read_text() == token


def test_the_same_app_gets_the_same_token_and_other_apps_do_not() -> None:
    assert RPCKernel(app_id="notes").token == RPCKernel(app_id="notes").token
    assert RPCKernel(app_id="notes").token != RPCKernel(app_id="mail").token
    assert RPCKernel().token != RPCKernel().token, "without app_id every start makes a new token"
    assert RPCKernel(app_id="notes", token="an-explicit-token-wins-0123").token == "an-explicit-token-wins-0123"


async def test_a_restarted_kernel_accepts_the_open_page_and_still_refuses_others() -> None:
    """The page's cookie from the first run opens the websocket of the second run on the same port.

    A client without the secret, and a page of another origin with it, are refused after the restart as before.
    """
    first = RPCKernel(app_id="restart-test")
    await first.astart("127.0.0.1", 0)
    port = first.port
    try:
        redirect, _ = await asyncio.to_thread(http_get, port, f"/?token={first.token}")
        cookie = redirect.getheader("Set-Cookie").split(";")[0]
    finally:
        await first.astop()

    second = RPCKernel(app_id="restart-test")
    await second.astart("127.0.0.1", port)
    try:
        own = f"http://127.0.0.1:{port}"
        async with connect(f"ws://127.0.0.1:{port}/", origin=own, additional_headers={"Cookie": cookie}) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "secret.add", "params": [2, 3]}))
            assert json.loads(await ws.recv())["result"] == 5
        assert await refusal_code(f"ws://127.0.0.1:{port}/", origin=own) == 403
        headers = {"Cookie": cookie}
        assert await refusal_code(second.url, origin="http://evil.example", additional_headers=headers) == 403
    finally:
        await second.astop()
