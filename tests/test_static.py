"""The static file server on the kernel's port: path escapes, content types, the client bundles, and the token."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from sidegears import RPCKernel
from sidegears.default_plugins.static import STATIC_PACKAGE_DIR

SECRET = "TOP-SECRET-" + secrets.token_hex(8)
CLIENT_BUNDLES = ["sidegears.js", "sidegears.esm.js", "sidegears-plugin.js", "sidegears-plugin.esm.js"]


class Reply(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


def raw_get(port: int, target: str, headers: dict[str, str] | None = None, method: str = "GET") -> Reply:
    """Send ``GET target`` (or ``method``) byte for byte (no client-side normalisation) and read the whole reply."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return Reply(int(status_line.split()[1]), parsed, body)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site folder, and secrets beside it that must never be served."""
    root = tmp_path_factory.mktemp("static")
    (root / "secret.txt").write_text(SECRET)
    (root / "outside").mkdir()
    (root / "outside" / "secret2.txt").write_text(SECRET)
    (root / "site-secret").mkdir()  # a sibling whose name starts like the site's
    (root / "site-secret" / "secret.txt").write_text(SECRET)
    site = root / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>home</title>")
    (site / "style.css").write_text("body { color: red }")
    (site / "app.js").write_text("console.log(1)")
    (site / "module.mjs").write_text("export default 1")
    (site / "data.json").write_text('{"a": 1}')
    (site / "image.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (site / "notes.txt").write_text("notes")
    (site / "blob.bin").write_bytes(b"\x00\x01")
    (site / "sub").mkdir()  # a folder without index.html
    (site / "sub" / "file.txt").write_text("in sub")
    (site / "withindex").mkdir()
    (site / "withindex" / "index.html").write_text("<title>sub index</title>")
    if hasattr(os, "symlink"):
        try:
            (site / "link-out").symlink_to(root / "secret.txt")
            (site / "linkdir").symlink_to(root / "outside", target_is_directory=True)
            (site / "sub" / "index.html").symlink_to(root / "secret.txt")  # a folder whose index escapes
            (site / "link-in.html").symlink_to(site / "index.html")
        except OSError:  # e.g. Windows without the privilege
            pass
    return root


def _started(**options: object) -> Iterator[RPCKernel]:
    kernel = RPCKernel(block_plugins=["browser"], **options)  # type: ignore[arg-type]
    kernel.start("127.0.0.1", 0)
    try:
        yield kernel
    finally:
        kernel.stop(timeout=10)


@pytest.fixture(scope="module")
def site_port(tree: Path) -> Iterator[int]:
    """A kernel serving the site folder, token off, so every request reaches the static server."""
    for kernel in _started(static_dir=str(tree / "site"), token=False):
        assert kernel.port is not None
        yield kernel.port


@pytest.fixture(scope="module")
def guarded(tree: Path) -> Iterator[RPCKernel]:
    """A kernel serving the site folder with its token on."""
    yield from _started(static_dir=str(tree / "site"))


ESCAPES = [
    "/../secret.txt",
    "/../../secret.txt",
    "/sub/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/.%2e/secret.txt",
    "/..%2fsecret.txt",
    "/..%2Fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/sub/..%2f..%2fsecret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt",
    "/%252e%252e/secret.txt",
    "/%c0%ae%c0%ae/secret.txt",
    "/..\\secret.txt",
    "/..%5csecret.txt",
    "/..%5Csecret.txt",
    "/%5c..%5csecret.txt",
    "/%2e%2e%5csecret.txt",
    "/sub%5c..%5c..%5csecret.txt",
    "/..;/secret.txt",
    "/../site-secret/secret.txt",
    "/%2e%2e/site-secret/secret.txt",
    "/%00../secret.txt",
    "/secret.txt%00.html",
    "/link-out",
    "/linkdir/secret2.txt",
    "/linkdir/",
    "/linkdir",
    "/sub/",
    "/sub",
]


def _absolute_forms(tree: Path) -> list[str]:
    secret = (tree / "secret.txt").as_posix()
    return [
        "/" + secret,  # //tmp/.../secret.txt
        "/" + secret.lstrip("/"),
        "/%2f" + secret.lstrip("/").replace("/", "%2f"),
        "file://" + secret,
        "http://127.0.0.1/../secret.txt",
    ]


def test_path_escapes_are_refused(tree: Path, site_port: int) -> None:
    """Traversal in every spelling, absolute paths, outward symlinks and index-less folders give 403/404, never the secret."""
    served = {}
    for target in ESCAPES + _absolute_forms(tree):
        reply = raw_get(site_port, target)
        assert SECRET.encode() not in reply.body, f"{target!r} leaked the secret"
        served[target] = reply.status
    assert {target: status for target, status in served.items() if status not in (403, 404)} == {}


def test_symlinks_inside_the_folder_are_served(tree: Path, site_port: int) -> None:
    """A symlink that stays inside the folder is an ordinary file (the escape test is not refusing all symlinks)."""
    if not (tree / "site" / "link-in.html").is_symlink():
        pytest.skip("no symlinks on this system")
    reply = raw_get(site_port, "/link-in.html")
    assert (reply.status, reply.body) == (200, b"<!doctype html><title>home</title>")


@pytest.mark.parametrize(
    ("target", "content_type", "body"),
    [
        ("/", "text/html; charset=utf-8", b"<!doctype html><title>home</title>"),
        ("/index.html", "text/html; charset=utf-8", b"<!doctype html><title>home</title>"),
        ("/withindex/", "text/html; charset=utf-8", b"<title>sub index</title>"),
        ("/style.css", "text/css; charset=utf-8", b"body { color: red }"),
        ("/app.js", "text/javascript; charset=utf-8", b"console.log(1)"),
        ("/module.mjs", "text/javascript; charset=utf-8", b"export default 1"),
        ("/data.json", "application/json", b'{"a": 1}'),
        ("/image.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
        ("/notes.txt", "text/plain; charset=utf-8", b"notes"),
        ("/blob.bin", "application/octet-stream", b"\x00\x01"),
        ("/sub/file.txt", "text/plain; charset=utf-8", b"in sub"),
        ("/notes.txt?v=2#frag", "text/plain; charset=utf-8", b"notes"),
        ("/?../secret.txt", "text/html; charset=utf-8", b"<!doctype html><title>home</title>"),
        ("/%6eotes.txt", "text/plain; charset=utf-8", b"notes"),
    ],
)
def test_files_and_content_types(site_port: int, target: str, content_type: str, body: bytes) -> None:
    """Files of the folder are served whole with their Content-Type, nosniff and a correct Content-Length."""
    reply = raw_get(site_port, target)
    assert reply.status == 200
    assert reply.headers["content-type"] == content_type
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.body == body
    assert int(reply.headers["content-length"]) == len(body)


def test_missing_file_is_404(site_port: int) -> None:
    """A missing file is a plain 404."""
    reply = raw_get(site_port, "/nope.html")
    assert reply.status == 404
    assert reply.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("name", CLIENT_BUNDLES)
def test_client_bundles(site_port: int, name: str) -> None:
    """The four client bundles are served from the package as JavaScript, byte for byte."""
    reply = raw_get(site_port, "/" + name)
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/javascript; charset=utf-8"
    assert reply.body == (STATIC_PACKAGE_DIR / name).read_bytes()


def test_client_bundle_without_static_dir() -> None:
    """A kernel without static_dir still serves /sidegears.js."""
    for kernel in _started(token=False):
        assert kernel.port is not None
        reply = raw_get(kernel.port, "/sidegears.js")
        assert reply.status == 200
        assert reply.body == (STATIC_PACKAGE_DIR / "sidegears.js").read_bytes()


def test_token_guards_files_but_not_bundles(guarded: RPCKernel) -> None:
    """With the token on, pages need it (query or cookie), the bundles do not, and a cookie does not open escapes."""
    port = guarded.port
    assert port is not None and guarded.token
    cookie = {"Cookie": f"sidegears_token_{port}={guarded.token}"}
    assert raw_get(port, "/index.html").status == 403
    assert raw_get(port, "/index.html?token=wrong-token-0123456789").status == 403
    assert raw_get(port, "/sidegears.js").status == 200

    redirect = raw_get(port, f"/index.html?token={guarded.token}&x=1")
    assert redirect.status == 302
    assert redirect.headers["location"] == "/index.html?x=1"
    assert redirect.headers["set-cookie"].startswith(f"sidegears_token_{port}={guarded.token};")
    assert "HttpOnly" in redirect.headers["set-cookie"]

    assert raw_get(port, "/index.html", cookie).status == 200
    for target in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%5csecret.txt", "/link-out"):
        reply = raw_get(port, target, cookie)
        assert reply.status in (403, 404) and SECRET.encode() not in reply.body, target


def test_hidden_names_and_files_as_folders_are_not_found(tree: Path, site_port: int) -> None:
    """/.env, /.git/config and /app.js/ are 404 like a missing file; /app.js itself is served."""
    site = tree / "site"
    (site / ".env").write_text(SECRET)
    (site / ".git").mkdir(exist_ok=True)
    (site / ".git" / "config").write_text(SECRET)
    for path in ("/.env", "/.git/config", "/%2Eenv", "/sub/../.env", "/app.js/"):
        reply = raw_get(site_port, path)
        assert reply.status == 404 and SECRET.encode() not in reply.body, path
    assert raw_get(site_port, "/app.js") == (200, raw_get(site_port, "/app.js").headers, b"console.log(1)")


def test_head_has_headers_only_and_other_methods_get_405(site_port: int) -> None:
    """HEAD gets the GET's status and Content-Length without a body; POST gets 405 with Allow."""
    full = raw_get(site_port, "/notes.txt")
    head = raw_get(site_port, "/notes.txt", method="HEAD")
    assert head.status == 200 and head.body == b"" and head.headers["content-length"] == str(len(full.body))
    posted = raw_get(site_port, "/notes.txt", method="POST")
    assert posted.status == 405 and posted.headers["allow"] == "GET, HEAD"


def test_every_answer_forbids_framing_and_cross_origin_loads(guarded: RPCKernel) -> None:
    """Pages, 404s, 403s, redirects and the 426 for a plain GET all forbid framing and cross-origin loads."""
    port = guarded.port
    assert port is not None
    token = f"?token={guarded.token}"
    cookie = {"Cookie": f"sidegears_token_{port}={guarded.token}"}
    targets = {f"/{token}": 302, "/": 403, "/missing": 404, "/sidegears.js": 200}
    for target, status in targets.items():
        reply = raw_get(port, target, headers=cookie if status == 404 else None)
        assert reply.status == status, target
        assert reply.headers["content-security-policy"] == "frame-ancestors 'self'", target
        assert reply.headers["x-frame-options"] == "SAMEORIGIN"
        assert reply.headers["cross-origin-resource-policy"] == "same-origin"


def test_duplicate_host_or_origin_is_400_not_500(site_port: int) -> None:
    """Two Host or two Origin headers get 400 (logged at INFO), not a 500 with a traceback."""
    for name in ("Host", "Origin"):
        lines = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{site_port}\r\n{name}: http://a.example\r\n{name}: http://b.example\r\n"
        with socket.create_connection(("127.0.0.1", site_port), timeout=5) as sock:
            sock.sendall((lines + "Connection: close\r\n\r\n").encode())
            status_line = sock.recv(65536).split(b"\r\n", 1)[0]
        assert status_line.split()[1] == b"400", name


def test_token_trade_redirects_only_to_the_kernels_own_path(guarded: RPCKernel) -> None:
    """A path like /\\evil.example or //evil.example with the token redirects to /, never elsewhere."""
    assert guarded.port is not None
    for path in ("/\\evil.example", "//evil.example"):
        reply = raw_get(guarded.port, f"{path}?token={guarded.token}")
        assert reply.status == 302 and reply.headers["location"] == "/", path
