"""Serving files over plain HTTP on the kernel's own port: the client bundles and the app's folder.

* ``/sidegears.js``, ``/sidegears.esm.js``, ``/sidegears-plugin.js`` and
  ``/sidegears-plugin.esm.js``: the JavaScript client shipped in the wheel.
* Everything else from ``RPCKernel(static_dir=...)``, with ``index.html`` for
  ``/`` and for a folder. No directory listings; a path that leaves the
  folder (``..``, encoded forms, absolute paths, symlinks pointing out), a
  hidden name (any part starting with ``.``: ``/.env``, ``/.git/config``) and
  a file asked for as a folder (``/app.js/``) are 404, the same as a missing
  file, so nothing outside is revealed.
* ``GET`` and ``HEAD`` (the headers alone); other methods get 405.

Websocket handshakes are left alone; a request nobody serves falls through
to websockets' own 426 "Upgrade Required".
"""

from __future__ import annotations

import mimetypes
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Response

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..kernel import RPCKernel

__all__ = ["Static", "CLIENT_FILES", "STATIC_PACKAGE_DIR", "resolve_path", "http_response", "is_upgrade"]

STATIC_PACKAGE_DIR = Path(__file__).resolve().parent.parent / "static"
CLIENT_FILES = ("sidegears.js", "sidegears.esm.js", "sidegears-plugin.js", "sidegears-plugin.esm.js")

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".txt": "text/plain; charset=utf-8",
    ".map": "application/json",
}
_REASONS = {200: "OK", 302: "Found", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}


def content_type(path: Path) -> str:
    """The Content-Type for a file name (platform tables differ, so common web types are fixed)."""
    suffix = path.suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def http_response(
    status: int, body: bytes, content_type: str, extra: list[tuple[str, str]] | None = None, *, head: bool = False
) -> Response:
    """A complete HTTP response for a plain GET (``head``: the same headers without the body)."""
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
            ("Connection", "close"),
        ]
        + (extra or [])
    )
    return Response(status, _REASONS.get(status, ""), headers, b"" if head else body)


def not_found() -> Response:
    return http_response(404, b"404 Not Found\n", "text/plain; charset=utf-8")


def resolve_path(root: Path, url_path: str) -> Path | None:
    """The file under ``root`` that ``url_path`` names, or None if it is missing or escapes ``root``."""
    path = unquote(urlsplit(url_path).path, errors="strict")
    if "\x00" in path or "\\" in path:
        return None
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if any(part.startswith(".") for part in parts):
        return None  # "..", and hidden names: .env, .git/...
    normalized = posixpath.join(*parts) if parts else ""
    root = root.resolve()
    candidate = (root / normalized).resolve()
    if candidate != root and root not in candidate.parents:
        return None  # a symlink led outside the folder
    if candidate.is_dir():
        candidate = candidate / "index.html"
        if candidate.resolve().parent != candidate.parent.resolve() or not candidate.is_file():
            return None
    if not candidate.is_file():
        return None
    if path.endswith("/") and candidate.name != "index.html":
        return None  # a file asked for as a folder
    return candidate


def is_upgrade(request: Any) -> bool:
    """Whether an HTTP request is a websocket handshake (not a plain GET)."""
    return any("websocket" in value.lower() for value in request.headers.get_all("Upgrade"))


class Static:
    """The bundled ``static`` plugin: the client bundles, and ``static_dir``."""

    @hookimpl
    def register_options(self, register: Any) -> None:
        register("static_dir", None, "the app's folder, served at / on the kernel's port")

    @hookimpl
    def process_http_request(self, kernel: RPCKernel, request: Any) -> Response | None:
        return serve_file(kernel.options["static_dir"], request, kernel.log)


def serve_file(static_dir: Any, request: Any, log: Any) -> Response | None:
    """The response to a plain GET: a client bundle, a file of ``static_dir``, 404, or None (a handshake)."""
    if is_upgrade(request):
        return None
    if request.method not in ("GET", "HEAD"):
        return http_response(405, b"405 Method Not Allowed\n", "text/plain; charset=utf-8", [("Allow", "GET, HEAD")])
    head = request.method == "HEAD"
    try:
        path = unquote(urlsplit(request.path).path, errors="strict")
    except UnicodeDecodeError:
        return not_found()
    name = path.lstrip("/")
    file: Path | None
    if name in CLIENT_FILES:
        file = STATIC_PACKAGE_DIR / name
    else:
        if static_dir is None:
            return None
        try:
            file = resolve_path(Path(static_dir), request.path)
        except (UnicodeDecodeError, OSError, ValueError):
            file = None
        if file is None:
            log.info("static file not found", path=request.path[:200])
            return not_found()
    try:
        body = file.read_bytes()
    except OSError:
        return not_found()
    return http_response(200, body, content_type(file), head=head)
