"""Who may connect: an Origin allow-list and the per-launch token, checked before the upgrade.

Threat model: the kernel listens on a local port. Any web page the user has
open can try ``new WebSocket("ws://localhost:PORT")`` (browsers let pages
open websockets to any origin and only report the page's ``Origin``), a page
on a hostile domain can rebind its DNS name to 127.0.0.1, and other users
and processes on the machine can connect directly. So, before any JSON-RPC:

* **Origin.** A handshake whose ``Origin`` is not allowed gets HTTP 403.
  Allowed: the kernel's own origins (``http://127.0.0.1:PORT``,
  ``http://localhost:PORT``, ``http://[::1]:PORT``, https with ``ssl=``) and
  those in ``RPCKernel(allowed_origins=[...])``. ``Origin: null`` (file://
  pages, sandboxed frames) and a missing Origin (non-browser clients) are
  let through to the token check only.
* **Host.** Requests whose ``Host`` is not a loopback name or the bound
  address get 403 (DNS rebinding).
* **Token.** ``kernel.token`` (random per start unless given; ``token=False``
  turns it off) must come with every handshake: as the query parameter
  ``?token=`` (what ``kernel.url`` contains; a browser's WebSocket API cannot
  set headers, and a query parameter works in every client), or as the
  cookie ``sidegears_token_PORT``. Pages of ``static_dir`` need it too: the
  window the kernel opens gets ``kernel.http_url`` (with ``?token=``); the
  kernel answers with a redirect to the same page without it and sets that
  cookie (HttpOnly, SameSite=Strict), so the page, its reloads and the
  websocket it opens work with nothing to copy, while a foreign page never
  sees the secret. A window the kernel opens itself gets a single-use
  ``?launch=`` code instead (``kernel.launch_url()``), since a browser's
  command line is readable by other local users; the code buys the cookie
  once. Wrong or missing: 403, logged without the secret.
  Compared in constant time.

The client bundles (``/sidegears.js`` ...) are public code and need no token.

A browser's WebSocket sees every refused handshake as a bare 1006, the same
as a kernel that is not running. So ``GET`` :data:`CONNECT_CHECK_PATH`
tells a client (any page: CORS ``*``) what its handshake would be refused
for, as JSON ``{"refused": null | "host" | "origin" | "token"}``, checking
the same Host, Origin and token (query or cookie) with the same rules. The
client asks it after a failed handshake, to name the cause. It reveals no
secret: a guessed token is checked no faster than by a handshake, and a
foreign page's request carries no cookie (SameSite=Strict, and CORS ``*``
forbids credentials).
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ..hookspecs import hookimpl
from .static import CLIENT_FILES, http_response, is_upgrade

if TYPE_CHECKING:
    from websockets.http11 import Response

    from ..kernel import RPCKernel

__all__ = ["Security", "cookie_name", "allowed_origins", "forbidden", "CONNECT_CHECK_PATH"]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
#: Where a client asks why its handshake was refused.
CONNECT_CHECK_PATH = "/sidegears-connect-check"


def cookie_name(kernel: RPCKernel) -> str:
    """The token cookie's name; per port, since cookies ignore ports and kernels may share a host."""
    return f"sidegears_token_{kernel.port}"


def _own_host_names(kernel: RPCKernel) -> set[str]:
    """The names the kernel is reached by: the loopback names and its bound address (IPv6 in brackets)."""
    names = set(LOOPBACK_NAMES)
    if kernel.host:
        names.add(f"[{kernel.host}]" if ":" in kernel.host else kernel.host)
    return names


def allowed_origins(kernel: RPCKernel) -> set[str]:
    """Origins whose pages may open a websocket: the kernel's own and ``allowed_origins``."""
    scheme = "https" if kernel.ssl is not None else "http"
    own = {f"{scheme}://{name}:{kernel.port}" for name in _own_host_names(kernel)}
    return own | {origin.rstrip("/") for origin in kernel.options["allowed_origins"] or ()}


def _allowed_hosts(kernel: RPCKernel) -> set[str]:
    names = _own_host_names(kernel) | set(kernel.options["allowed_hosts"] or ())
    return {f"{name}:{kernel.port}" for name in names} | names


def forbidden(why: str) -> Response:
    return http_response(403, f"403 Forbidden: {why}\n".encode(), "text/plain; charset=utf-8")


#: What a person who opened a refused page should do, by refusal. No secret, no detail beyond the cause.
_ADVICE = {
    "token missing or wrong": (
        "This page needs the app's key",
        "It was opened without the key the app gives its window, or with the key of an earlier run. "
        "Open the address the app printed when it started (it carries the key), or start the app again.",
    ),
    "host not allowed": (
        "This is not the app's address",
        "The app answers at 127.0.0.1 or localhost only. Open the address the app printed when it started.",
    ),
}

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title><link rel="icon" href="data:,">
<style>
  :root {{ color-scheme: light dark; font-family: system-ui, sans-serif; }}
  body {{ display: grid; place-items: center; min-height: 90vh; margin: 0; }}
  main {{ max-width: 32rem; padding: 2rem; border-radius: 12px; box-shadow: 0 2px 16px #0002; }}
  h1 {{ font-size: 1.3rem; margin-top: 0; }}
  p {{ line-height: 1.5; }}
  small {{ opacity: 0.7; }}
</style></head>
<body><main><h1>{title}</h1><p>{advice}</p><small>SideGears refused this request (403): {why}.</small></main></body>
</html>
"""


def forbidden_page(why: str) -> Response:
    """The 403 a person sees in a browser: what happened and what to do, styled, with nothing secret in it."""
    title, advice = _ADVICE.get(why, ("This page is not available", "Open the address the app printed."))
    body = _PAGE.format(title=title, advice=advice, why=why).encode()
    return http_response(403, body, "text/html; charset=utf-8")


def _wants_html(request: Any) -> bool:
    return not is_upgrade(request) and "text/html" in request.headers.get("Accept", "")


def _same_secret(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def _query_value(request: Any, name: str) -> str | None:
    values = parse_qs(urlsplit(request.path).query).get(name)
    return values[0] if values else None


def _query_token(request: Any) -> str | None:
    return _query_value(request, "token")


def _cookie_token(kernel: RPCKernel, request: Any) -> str | None:
    cookie = SimpleCookie()
    try:
        for header in request.headers.get_all("Cookie"):
            cookie.load(header)
    except CookieError:
        return None
    morsel = cookie.get(cookie_name(kernel))
    return morsel.value if morsel is not None else None


#: Refusals logged per remote host in one :data:`REFUSAL_LOG_WINDOW`; the rest are counted, and the count is logged with the next line.
REFUSAL_LOGS_PER_WINDOW = 5
REFUSAL_LOG_WINDOW = 10.0


class RefusalLog:
    """Rate-limits the refusal warnings per remote host, so a flood of bad handshakes cannot flood the log."""

    def __init__(self) -> None:
        self._hosts: dict[Any, list[float]] = {}  # host -> [window start, lines logged, lines suppressed]

    def allow(self, host: Any) -> int | None:
        """The number of refusals suppressed before this one if it may be logged, else None (counted)."""
        now = time.monotonic()
        entry = self._hosts.get(host)
        if entry is None or now - entry[0] >= REFUSAL_LOG_WINDOW:
            if len(self._hosts) > 4096:  # many hosts: forget the old windows
                self._hosts = {h: e for h, e in self._hosts.items() if now - e[0] < REFUSAL_LOG_WINDOW}
            suppressed = 0 if entry is None else int(entry[2])
            self._hosts[host] = [now, 1, 0]
            return suppressed
        if entry[1] < REFUSAL_LOGS_PER_WINDOW:
            entry[1] += 1
            return 0
        entry[2] += 1
        return None


def _log_refusal(
    security: Security, kernel: RPCKernel, websocket: Any, request: Any, why: str, status: int = 403, **details: Any
) -> None:
    suppressed = security.refusals.allow(websocket.remote_host)
    if suppressed is not None:
        if suppressed:
            details["suppressed_before"] = suppressed
        # A malformed request is the client's bug, not an attack on the kernel: INFO.
        log = kernel.log.warning if status == 403 else kernel.log.info
        path = urlsplit(request.path).path[:200]
        log("refused a request", why=why, path=path, remote=websocket.remote_address, **details)


def _refuse(
    security: Security, kernel: RPCKernel, websocket: Any, request: Any, why: str, status: int = 403, **details: Any
) -> Response:
    _log_refusal(security, kernel, websocket, request, why, status, **details)
    if status == 403:
        return forbidden_page(why) if _wants_html(request) else forbidden(why)
    return http_response(status, f"{status} Bad Request: {why}\n".encode(), "text/plain; charset=utf-8")


def _host_refused(kernel: RPCKernel, request: Any) -> bool:
    return bool(kernel.options["check_host"]) and request.headers.get("Host", "") not in _allowed_hosts(kernel)


def _origin_refused(kernel: RPCKernel, request: Any) -> bool:
    origin = request.headers.get("Origin")
    return origin is not None and origin != "null" and origin.rstrip("/") not in allowed_origins(kernel)


def _token_refused(kernel: RPCKernel, request: Any) -> bool:
    token = kernel.token
    if token is None:
        return False
    from_query = _query_token(request)
    if from_query is not None:
        return not _same_secret(from_query, token)
    return not _same_secret(_cookie_token(kernel, request), token)


def _refusal_reason(kernel: RPCKernel, request: Any) -> str | None:
    """What a handshake like ``request`` would be refused for, checked in the handshake's order; None: nothing."""
    for reason, refused in (("host", _host_refused), ("origin", _origin_refused), ("token", _token_refused)):
        if refused(kernel, request):
            return reason
    return None


class Security:
    """The bundled ``security`` plugin of one kernel: the checks above, and the single-use launch codes it issued."""

    def __init__(self) -> None:
        self._launch_codes: set[str] = set()
        self._lock = threading.Lock()  # launch_url may be asked from any thread
        self.refusals = RefusalLog()

    @hookimpl
    def register_options(self, register: Any) -> None:
        register("allowed_origins", (), "origins, besides the kernel's own, whose pages may connect")
        register("allowed_hosts", (), "Host names, besides the loopback ones, that requests may carry")
        register("check_host", True, "False turns the Host check off")

    @hookimpl
    def launch_url(self, kernel: RPCKernel) -> str | None:
        base = kernel.http_url
        if base is None or not kernel.token:
            return None
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._launch_codes.add(code)
        return base.split("?")[0] + f"?launch={code}"

    def use_launch_code(self, code: str) -> bool:
        """Accept a code of :meth:`launch_url` once."""
        with self._lock:
            for known in list(self._launch_codes):
                if hmac.compare_digest(known.encode(), code.encode()):
                    self._launch_codes.discard(known)
                    return True
        return False

    @hookimpl(tryfirst=True)
    def process_http_request(self, kernel: RPCKernel, websocket: Any, request: Any) -> Response | None:
        for name in ("Host", "Origin", "Upgrade"):
            if len(request.headers.get_all(name)) > 1:
                return _refuse(self, kernel, websocket, request, f"more than one {name} header", status=400)
        upgrade = is_upgrade(request)
        if not upgrade and urlsplit(request.path).path == CONNECT_CHECK_PATH:
            reason = _refusal_reason(kernel, request)
            if reason == "token":  # guessing tokens here shows in the log as handshakes do
                _log_refusal(self, kernel, websocket, request, "connect check: token missing or wrong")
            body = json.dumps({"refused": reason}).encode()
            return http_response(200, body, "application/json", [("Access-Control-Allow-Origin", "*")])
        if _host_refused(kernel, request):
            return _refuse(self, kernel, websocket, request, "host not allowed", host=request.headers.get("Host", "")[:100])
        if upgrade and _origin_refused(kernel, request):
            origin = request.headers.get("Origin", "")
            return _refuse(self, kernel, websocket, request, "origin not allowed", origin=origin[:200])
        token = kernel.token
        if token is None:
            return None
        if not upgrade and urlsplit(request.path).path.lstrip("/") in CLIENT_FILES:
            return None
        if not upgrade:
            code = _query_value(request, "launch")
            if code is not None and self.use_launch_code(code):
                return _redirect_setting_cookie(kernel, request)
        from_query = _query_token(request)
        if _same_secret(from_query, token):
            if upgrade:
                return None
            return _redirect_setting_cookie(kernel, request)
        if from_query is None and _same_secret(_cookie_token(kernel, request), token):
            return None
        return _refuse(self, kernel, websocket, request, "token missing or wrong", token_given=from_query is not None)


def _redirect_setting_cookie(kernel: RPCKernel, request: Any) -> Response:
    """Trade the token in a page's URL for a cookie, so it leaves the address bar and history."""
    parts = urlsplit(request.path)
    query = {k: v for k, v in parse_qs(parts.query, keep_blank_values=True).items() if k not in ("token", "launch")}
    path = parts.path
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        path = "/"  # only ever the kernel's own path: "//x" or "/\\x" would send the browser elsewhere
    location = path + ("?" + urlencode(query, doseq=True) if query else "")
    cookie = f"{cookie_name(kernel)}={kernel.token}; Path=/; HttpOnly; SameSite=Strict"
    return http_response(
        302, b"", "text/plain; charset=utf-8", [("Location", location or "/"), ("Set-Cookie", cookie)]
    )
