"""Origin and token checks before the upgrade, binding warnings and wss://, attacked with real clients."""

from __future__ import annotations

import asyncio
import http.client
import json
import ssl
import subprocess
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from sidegears import RPCKernel, rpc_method
from sidegears.default_plugins.security import CONNECT_CHECK_PATH
from sidegears.testing import RPCTestClient, refusal_code


@rpc_method(name="security.multiply")
def multiply(a, b):
    return a * b


@pytest.fixture
async def secured(tmp_path):
    """A kernel with the default per-launch token and a static folder."""
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title>")
    kernel = RPCKernel(static_dir=str(tmp_path))
    await kernel.astart("127.0.0.1", 0)
    yield kernel
    await kernel.astop()


def base_url(kernel) -> str:
    return f"ws://127.0.0.1:{kernel.port}/"


def http_get(port: int, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.body = response.read()
    return response


async def test_a_token_is_made_per_launch_and_in_kernel_url(secured) -> None:
    """Without configuration the kernel has a long random token, and kernel.url carries it."""
    assert secured.token and len(secured.token) >= 32
    assert secured.url.endswith(f"?token={secured.token}")
    assert RPCKernel().token != RPCKernel().token


async def test_client_without_token_is_refused_with_403(secured, caplog) -> None:
    """A plain websockets client with no token gets 403, and the log shows why but not the secret."""
    assert await refusal_code(base_url(secured)) == 403
    assert await refusal_code(base_url(secured) + "?token=wrong") == 403
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "token missing or wrong" in messages and secured.token not in messages


async def test_client_with_token_works(secured) -> None:
    """The same client with kernel.url (token included) is served."""
    async with RPCTestClient.connect(secured.url) as client:
        assert await client.call("security.multiply", [6, 7]) == 42


async def test_foreign_origin_is_refused_even_with_the_token(secured) -> None:
    """A handshake from another origin gets 403 before any JSON-RPC runs."""
    for origin in ("http://evil.example", f"http://127.0.0.1:{secured.port + 1}", "https://localhost"):
        assert await refusal_code(secured.url, origin=origin) == 403


async def test_own_origin_and_allowed_origins_pass(tmp_path) -> None:
    """The kernel's own origin and those in allowed_origins are accepted (with the token)."""
    kernel = RPCKernel(allowed_origins=["http://localhost:3000"])
    await kernel.astart("127.0.0.1", 0)
    try:
        for origin in (f"http://127.0.0.1:{kernel.port}", f"http://localhost:{kernel.port}", "http://localhost:3000"):
            async with connect(kernel.url, origin=origin):
                pass
        assert await refusal_code(base_url(kernel), origin="http://localhost:3000") == 403  # origin alone is not enough
    finally:
        await kernel.astop()


async def test_null_origin_needs_the_token(secured) -> None:
    """A file:// page (Origin: null) is refused without the token and served with it."""
    assert await refusal_code(base_url(secured), origin="null") == 403
    async with connect(secured.url, origin="null"):
        pass


async def test_page_token_is_traded_for_a_cookie(secured) -> None:
    """Opening http_url redirects to the page without the token and sets an HttpOnly cookie that opens the socket."""
    port = secured.port
    without = await asyncio.to_thread(http_get, port, "/")
    assert without.status == 403
    first = await asyncio.to_thread(http_get, port, f"/?token={secured.token}")
    assert first.status == 302 and first.getheader("Location") == "/"
    cookie = first.getheader("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    cookie_pair = cookie.split(";")[0]
    page = await asyncio.to_thread(http_get, port, "/", {"Cookie": cookie_pair})
    assert page.status == 200
    async with connect(base_url(secured), additional_headers={"Cookie": cookie_pair}, origin=f"http://127.0.0.1:{port}"):
        pass
    assert await refusal_code(base_url(secured), additional_headers={"Cookie": cookie_pair + "x"}) == 403


async def test_client_bundle_is_public(secured) -> None:
    """/sidegears.js needs no token: it is public code."""
    response = await asyncio.to_thread(http_get, secured.port, "/sidegears.js")
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/javascript")


async def test_foreign_host_header_is_refused(secured) -> None:
    """A request whose Host is not loopback (DNS rebinding) gets 403 even with the token."""
    response = await asyncio.to_thread(http_get, secured.port, f"/?token={secured.token}", {"Host": "evil.example"})
    assert response.status == 403


async def test_token_can_be_given_or_turned_off() -> None:
    """A given token is used as is; token=False turns the check off; short tokens are refused."""
    given = RPCKernel(token="a-fixed-secret-of-enough-length")
    assert given.token == "a-fixed-secret-of-enough-length"
    open_kernel = RPCKernel(token=False)
    await open_kernel.astart("127.0.0.1", 0)
    try:
        assert "token" not in open_kernel.url
        async with connect(open_kernel.url):
            pass
    finally:
        await open_kernel.astop()
    with pytest.raises(ValueError):
        RPCKernel(token="short")


def test_non_loopback_binding_warns(caplog) -> None:
    """Asking for a non-loopback address logs a clear warning (checked without binding one)."""
    kernel = RPCKernel(token=False)
    kernel._warn_if_exposed("192.0.2.10")
    kernel._warn_if_exposed("127.0.0.1")
    kernel._warn_if_exposed("localhost")
    warnings = [r.getMessage() for r in caplog.records if "non-loopback" in r.getMessage()]
    assert len(warnings) == 1 and "192.0.2.10" in warnings[0]


async def test_wss_with_a_self_signed_certificate(tmp_path: Path) -> None:
    """ssl= serves wss:// (certificate made in the test with openssl)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))
    kernel = RPCKernel(ssl=server_context)
    await kernel.astart("127.0.0.1", 0)
    try:
        assert kernel.url.startswith("wss://127.0.0.1:")
        async with RPCTestClient.connect(kernel.url, ssl=client_context) as client:
            assert await client.call("security.multiply", [3, 4]) == 12
    finally:
        await kernel.astop()


async def test_launch_url_is_single_use_and_holds_no_token(secured) -> None:
    """kernel.launch_url() carries a one-time code, not the token; the code buys the cookie once, then 403."""
    url = secured.launch_url()
    assert "launch=" in url and secured.token not in url
    path = url.split(str(secured.port), 1)[1]
    first = await asyncio.to_thread(http_get, secured.port, path)
    assert first.status == 302 and secured.token in first.getheader("Set-Cookie")
    again = await asyncio.to_thread(http_get, secured.port, path)
    assert again.status == 403


async def test_the_connect_check_names_the_refusal(secured) -> None:
    """Any page may ask (CORS *) what its handshake would be refused for; the answer holds no secret."""
    port, token = secured.port, secured.token

    async def check(path: str, headers: dict | None = None) -> str | None:
        response = await asyncio.to_thread(http_get, port, CONNECT_CHECK_PATH + path, headers)
        assert response.status == 200 and response.getheader("Access-Control-Allow-Origin") == "*"
        assert token not in response.body.decode()
        return json.loads(response.body)["refused"]

    cookie = {"Cookie": f"sidegears_token_{port}={token}"}
    assert await check(f"?token={token}") is None
    assert await check("", cookie) is None
    assert await check(f"?token={token}", {"Origin": f"http://localhost:{port}"}) is None
    assert await check("") == "token"
    assert await check("?token=wrong") == "token"
    assert await check(f"?token={token}", {"Origin": "http://evil.example"}) == "origin"
    assert await check(f"?token={token}", {"Host": f"evil.example:{port}"}) == "host"
