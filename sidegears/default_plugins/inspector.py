"""The inspector: a built-in page at ``/_sidegears/`` that shows what an app and its kernel are saying.

Like a browser's network panel, for JSON-RPC: the methods of ``rpc.discover``
with a form to call each, the messages of every connection (with reply
times, sizes and errors), the connections, the calls in flight (each with a
button that cancels it), and the plugins with the hooks they implement. See
``docs/inspector.md``.

* The page and its assets are files of ``sidegears/inspector/``, served at
  ``/_sidegears/`` on the kernel's port. Like every page of the kernel it is
  gated by the security plugin (the token, traded for a cookie), which runs
  before this plugin. Blocking the plugin (``block_plugins=["inspector"]``)
  removes the page and its methods.
* The page is a client like any other: it loads ``/sidegears.js``, connects,
  and calls the methods ``sidegears.inspector.*``, registered here with
  ``register_methods`` and hidden from ``rpc.discover`` by the ``discover``
  hook (they are the inspector's, not the app's).
* Cost: the messages are observed with the ``log_message`` hook, which fires
  whenever some plugin implements it. So it is implemented by a separate
  object, :class:`Tap` (registered as ``inspector.tap``), that is registered
  only while at least one client has called ``sidegears.inspector.subscribe``
  and is still connected: with no inspector open the plugin adds nothing per
  message. What it records is trimmed (``message_log``'s :func:`trim_value`)
  and kept in a bounded buffer (:data:`BUFFER_SIZE` messages); the
  subscribers get what is new every :data:`FLUSH_DELAY` seconds at most, as
  one ``sidegears.inspector.update`` notification.
* The inspector's own traffic (``sidegears.inspector.*`` requests, their
  replies and its notifications) is left out of the log; the other calls of
  an inspector's connection (``rpc.discover``, the form's calls) are logged,
  marked ``inspector``.
* Cancelling: ``sidegears.inspector.cancel`` cancels a call of any
  connection through that connection's session, ``connection.session.
  cancel_call(id)``, the same path as the caller's own ``$/cancelRequest``:
  the method sees ``CancelledError`` at its next await and its caller gets
  -32800.

Limits, from what ``log_message`` tells: messages are seen only while an
inspector is subscribed (calls that began before do not show as in flight,
and the per-connection counts are those of that time); a notification sent
with ``kernel.notify``/``connection.send_notification`` is logged once,
without its recipients, so it shows as going to ``all``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections import deque
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import InvalidParams
from ..hookspecs import PROJECT_NAME, hookimpl
from .message_log import trim_value
from .static import content_type, http_response, is_upgrade, not_found, resolve_path

if TYPE_CHECKING:
    from websockets.http11 import Response

    from ..connection import Connection
    from ..kernel import RPCKernel

__all__ = ["Inspector", "Tap", "PATH", "PAGE_DIR", "NAMESPACE", "UPDATE", "TAP_NAME", "BUFFER_SIZE", "FLUSH_DELAY"]

#: Where the page is served (a reserved path: ``static_dir`` cannot serve it).
PATH = "/_sidegears/"
#: The page's files.
PAGE_DIR = Path(__file__).resolve().parent.parent / "inspector"
#: The prefix of the inspector's methods and notification.
NAMESPACE = "sidegears.inspector."
#: The notification subscribers get: ``{"messages", "dropped", "calls", "connections"}``.
UPDATE = NAMESPACE + "update"
#: The name :class:`Tap` is registered under while someone is subscribed.
TAP_NAME = "inspector.tap"
#: Messages kept (the page shows as many); older ones are forgotten.
BUFFER_SIZE = 500
#: Seconds between two updates sent to the subscribers, at least: a busy app costs them one message per period.
FLUSH_DELAY = 0.1
#: Calls kept in flight at most (a client that never gets its replies must not grow the table).
MAX_TRACKED = 10_000

# Trimming: generous first; a value still big once encoded (many nested items) is trimmed harder,
# so that one entry stays within a few kilobytes and the buffer within a few megabytes.
_TRIM = {"max_chars": 200, "max_items": 10, "max_depth": 4}
_TRIM_HARD = {"max_chars": 60, "max_items": 5, "max_depth": 2}
_MAX_ENTRY_CHARS = 4096

# Only the page's files: scripts from elsewhere, inline code and framing are refused by the browser.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

# Key -> value kept in ``connection.state`` (the documented per-connection dict for plugins).
_SINCE = "inspector.since"
_IN = "inspector.in"
_OUT = "inspector.out"


def _trimmed(value: Any) -> Any:
    shown = trim_value(value, **_TRIM)
    try:
        if len(json.dumps(shown, default=str)) <= _MAX_ENTRY_CHARS:
            return shown
    except (TypeError, ValueError):
        pass
    return trim_value(value, **_TRIM_HARD)


def _key(connection_id: int | None, msg_id: Any) -> tuple[int | None, Any] | None:
    """The table key of a call, or None for an id that cannot name one (only strings and numbers can)."""
    if isinstance(msg_id, (int, str, float)) and not isinstance(msg_id, bool):
        return (connection_id, msg_id)
    return None


def _error_of(message: dict[str, Any]) -> dict[str, Any] | None:
    error = message.get("error")
    if not isinstance(error, dict):
        return None
    return {"code": error.get("code"), "message": _trimmed(error.get("message"))}


def _address(connection: Connection) -> str:
    remote = connection.remote_address
    if isinstance(remote, (tuple, list)) and len(remote) >= 2:
        host = str(remote[0])
        return f"[{host}]:{remote[1]}" if ":" in host else f"{host}:{remote[1]}"
    return str(remote)


class Inspector:
    """The bundled ``inspector`` plugin of one kernel: the page, its methods, and what the tap recorded."""

    def __init__(self) -> None:
        self.kernel: RPCKernel | None = None
        #: Connections subscribed to updates, by id.
        self.subscribers: dict[int, Connection] = {}
        #: The last :data:`BUFFER_SIZE` messages (entries as sent to the page).
        self.buffer: deque[dict[str, Any]] = deque(maxlen=BUFFER_SIZE)
        self._pending: deque[dict[str, Any]] = deque(maxlen=BUFFER_SIZE)  # not yet sent to the subscribers
        self._dropped = 0  # entries that fell out of _pending before a flush
        self._seq = 0
        self._flush_handle: asyncio.TimerHandle | None = None
        # What the tap knows of calls, while it is registered:
        self._in_flight: dict[tuple[int | None, Any], dict[str, Any]] = {}  # client -> kernel requests
        self._to_clients: dict[tuple[int | None, Any], tuple[str, float]] = {}  # kernel -> client: method, sent at
        self._own: set[tuple[int | None, Any]] = set()  # sidegears.inspector.* requests awaiting their reply

    # -- the page --------------------------------------------------------------

    @hookimpl
    def process_http_request(self, request: Any) -> Response | None:
        path = urlsplit(request.path).path
        if not path.startswith("/_sidegears") or is_upgrade(request):
            return None
        rest = path[len("/_sidegears") :]
        if rest == "":  # the page's relative links need the folder's slash
            return http_response(302, b"", "text/plain; charset=utf-8", [("Location", PATH)])
        if not rest.startswith("/"):
            return None  # "/_sidegearsX": not ours
        if request.method not in ("GET", "HEAD"):
            return http_response(405, b"405 Method Not Allowed\n", "text/plain; charset=utf-8", [("Allow", "GET, HEAD")])
        try:
            file = resolve_path(PAGE_DIR, rest)
        except (UnicodeDecodeError, OSError, ValueError):
            file = None
        if file is None:
            return not_found()
        try:
            body = file.read_bytes()
        except OSError:
            return not_found()
        return http_response(
            200, body, content_type(file), [("Content-Security-Policy", _CSP)], head=request.method == "HEAD"
        )

    # -- methods -----------------------------------------------------------------

    @hookimpl
    def register_methods(self, kernel: RPCKernel, register: Any) -> None:
        self.kernel = kernel
        # No parameter is annotated: annotations would make the kernel validate
        # them with pydantic, which the kernel does not require.

        async def subscribe() -> dict[str, Any]:
            """Receive ``sidegears.inspector.update`` notifications; returns what is known so far."""
            connection = _caller()
            self.subscribers[connection.id] = connection
            self._update_tap()
            return {
                "self": connection.id,
                "bufferSize": BUFFER_SIZE,
                "messages": list(self.buffer),
                "calls": self.calls(),
                "connections": self.connections(),
            }

        async def unsubscribe() -> bool:
            """Stop the updates to this connection."""
            removed = self.subscribers.pop(_caller().id, None) is not None
            self._update_tap()
            return removed

        async def plugins() -> dict[str, Any]:
            """The plugins (blocked ones too) and, for each hook, its implementations in calling order."""
            return plugins_info(kernel)

        async def cancel(connection, id):  # noqa: A002  (named as the JSON-RPC id it names)
            """Cancel call ``id`` of connection ``connection`` (its caller gets -32800); False if it is not running."""
            target = next((c for c in kernel.connections if c.id == connection), None)
            if target is None or target.session is None:
                raise InvalidParams(f"no connection {connection!r}", data={"connection": connection})
            # The session's own cancellation, what the caller's $/cancelRequest does.
            return target.session.cancel_call(id)

        async def clear() -> None:
            """Forget the messages kept so far."""
            self.buffer.clear()
            self._pending.clear()

        for func in (subscribe, unsubscribe, plugins, cancel, clear):
            register(func, name=NAMESPACE + func.__name__)

    @hookimpl
    def discover(self, document: dict[str, Any]) -> None:
        document["methods"] = [m for m in document["methods"] if not str(m.get("name", "")).startswith(NAMESPACE)]

    # -- connections -------------------------------------------------------------

    @hookimpl
    def on_connect(self, connection: Connection) -> None:
        # Once per connection, never per message.
        connection.state[_SINCE] = time.time() * 1000
        if self.subscribers:
            self._schedule_flush()

    @hookimpl
    def on_shutdown(self, kernel: RPCKernel) -> None:
        # Every connection is gone; should an on_disconnect not have run (a stop
        # bounds how long it waits for them), the tap must not outlive the run.
        self.kernel = kernel
        self.subscribers.clear()
        self._update_tap()

    def connection_closed(self, connection: Connection) -> None:
        """A connection closed while the tap was registered."""
        self.subscribers.pop(connection.id, None)
        for table in (self._in_flight, self._to_clients):
            for key in [key for key in table if key[0] == connection.id]:
                del table[key]
        self._own = {key for key in self._own if key[0] != connection.id}
        self._update_tap()
        if self.subscribers:
            self._schedule_flush()

    def _update_tap(self) -> None:
        assert self.kernel is not None
        pm = self.kernel.plugin_manager
        listening = bool(self.subscribers)
        if pm.register_while(listening, TAP_NAME, lambda: Tap(self)):
            # What the tracking tables hold is stale once messages go unseen.
            self._in_flight.clear()
            self._to_clients.clear()
            self._own.clear()
            if listening and self.buffer:
                self._push({"kind": "gap"})  # messages went unrecorded while no inspector was open
            if not listening and self._flush_handle is not None:
                self._flush_handle.cancel()
                self._flush_handle = None
                self._pending.clear()

    # -- views ---------------------------------------------------------------------

    def connections(self) -> list[dict[str, Any]]:
        """The open connections, oldest first."""
        assert self.kernel is not None
        rows = [
            {
                "id": c.id,
                "remote": _address(c),
                "since": c.state.get(_SINCE),
                "in": c.state.get(_IN, 0),
                "out": c.state.get(_OUT, 0),
                "inFlight": c.in_flight,
                "inspector": c.id in self.subscribers,
            }
            for c in self.kernel.connections
        ]
        return sorted(rows, key=lambda row: row["id"])

    def calls(self) -> list[dict[str, Any]]:
        """The client -> kernel requests with no reply yet, oldest first."""
        return sorted(self._in_flight.values(), key=lambda call: call["started"])

    # -- recording (the tap calls it for every message while it is registered) ------------

    def record(self, connection: Connection | None, direction: str, message: Any, size: int, duration: float | None) -> None:
        now = time.time() * 1000
        conn_id = None if connection is None else connection.id
        entry: dict[str, Any] | None
        if isinstance(message, dict):
            entry = self._single(conn_id, direction, message, now, duration)
        elif isinstance(message, list):
            entry = self._batch(conn_id, direction, message, now)
        else:
            entry = {"kind": "invalid", "content": _trimmed(message)}
        if entry is None:
            return  # the inspector's own traffic: neither shown nor counted
        if connection is not None:
            counter = _IN if direction == "in" else _OUT
            connection.state[counter] = connection.state.get(counter, 0) + 1
        entry.update(time=now, dir=direction, conn=conn_id, size=size, inspector=conn_id in self.subscribers)
        if duration is not None and "ms" not in entry:
            entry["ms"] = round(duration * 1000, 3)
        self._push(entry)

    def _single(
        self, conn_id: int | None, direction: str, message: dict[str, Any], now: float, duration: float | None
    ) -> dict[str, Any] | None:
        method = message.get("method")
        msg_id = message.get("id")
        key = _key(conn_id, msg_id)
        if isinstance(method, str):
            if method.startswith(NAMESPACE):
                if key is not None:
                    self._own.add(key)
                return None
            entry: dict[str, Any] = {"method": method, "content": _trimmed(message.get("params"))}
            if "id" not in message:
                entry["kind"] = "notification"
                return entry
            entry["id"] = msg_id
            if direction == "in":
                entry["kind"] = "request"
                if key is not None and len(self._in_flight) < MAX_TRACKED:
                    self._in_flight[key] = {
                        "conn": conn_id,
                        "id": msg_id,
                        "method": method,
                        "params": entry["content"],
                        "started": now,
                        "inspector": conn_id in self.subscribers,
                    }
            else:
                entry["kind"] = "call"  # the kernel calls the client
                if key is not None and len(self._to_clients) < MAX_TRACKED:
                    self._to_clients[key] = (method, now)
            return entry
        if "result" not in message and "error" not in message:
            return {"kind": "invalid", "content": _trimmed(message)}
        entry = {"kind": "reply", "id": msg_id}
        if key is not None:
            if key in self._own:
                self._own.discard(key)
                return None
            if direction == "out":
                call = self._in_flight.pop(key, None)
                if call is not None:
                    entry["method"] = call["method"]
                elif conn_id in self.subscribers:
                    # A reply on an inspector's connection to a request the tap never
                    # saw: the subscribe call that registered the tap.
                    return None
            else:
                sent = self._to_clients.pop(key, None)
                if sent is not None:
                    entry["method"] = sent[0]
                    entry["ms"] = round(now - sent[1], 3)
        error = _error_of(message)
        if error is not None:
            entry["error"] = error
            data = message["error"].get("data")
            entry["content"] = _trimmed(data) if data is not None else None
        else:
            entry["content"] = _trimmed(message.get("result"))
        return entry

    def _batch(self, conn_id: int | None, direction: str, items: list[Any], now: float) -> dict[str, Any] | None:
        methods: list[str] = []
        shown: list[Any] = []
        error = None
        for item in items:
            if not isinstance(item, dict):
                shown.append(item)
                continue
            member = self._single(conn_id, direction, item, now, None)
            if member is None:
                continue
            shown.append(item)
            if member.get("method") and member["method"] not in methods:
                methods.append(member["method"])
            if error is None and member.get("error"):
                error = member["error"]
        if items and not shown:
            return None  # the inspector's own batch
        entry: dict[str, Any] = {"kind": "batch", "count": len(items), "method": ", ".join(methods)[:200] or None}
        entry["content"] = _trimmed(shown)
        if error is not None:
            entry["error"] = error
        return entry

    def _push(self, entry: dict[str, Any]) -> None:
        self._seq += 1
        entry["seq"] = self._seq
        entry.setdefault("time", time.time() * 1000)
        self.buffer.append(entry)
        if len(self._pending) == self._pending.maxlen:
            self._dropped += 1
        self._pending.append(entry)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        kernel = self.kernel
        if self._flush_handle is None and kernel is not None and kernel.loop is not None:
            self._flush_handle = kernel.loop.call_later(FLUSH_DELAY, self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        kernel = self.kernel
        if kernel is None or not self.subscribers:
            self._pending.clear()
            return
        update = {
            "messages": list(self._pending),
            "dropped": self._dropped,
            "calls": self.calls(),
            "connections": self.connections(),
        }
        self._pending.clear()
        self._dropped = 0
        # Its own log_message call is recognised by the method name and left out.
        kernel.notify(list(self.subscribers.values()), UPDATE, update)


class Tap:
    """The inspector's per-message hooks, registered as ``inspector.tap`` only while someone is subscribed."""

    def __init__(self, inspector: Inspector) -> None:
        self.inspector = inspector

    @hookimpl
    def log_message(
        self, connection: Connection | None, direction: str, message: Any, size: int, duration: float | None
    ) -> None:
        self.inspector.record(connection, direction, message, size, duration)

    @hookimpl
    def on_disconnect(self, connection: Connection) -> None:
        self.inspector.connection_closed(connection)


def _caller() -> Connection:
    from ..connection import current_connection

    connection = current_connection()
    assert connection is not None, "called outside a request"
    return connection


def plugins_info(kernel: RPCKernel) -> dict[str, Any]:
    """The registered and blocked plugins, each with its hooks, and the hooks with their implementations in calling order.

    Public pluggy API only: ``list_name_plugin`` (a blocked name maps to
    None), ``get_hookcallers`` and each hook's ``get_hookimpls``; a
    plugin's distribution comes from its entry point.
    """
    from ..plugins import DEFAULT_PLUGINS

    pm = kernel.plugin_manager
    # The kernel loads entry points itself (pluggy's list_plugin_distinfo knows only its own loader's).
    distributions = {ep.name: ep.dist for ep in entry_points(group=PROJECT_NAME) if ep.dist is not None}
    plugins: list[dict[str, Any]] = []
    hook_names: set[str] = set()
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            plugins.append({"name": name, "blocked": True, "hooks": [], "source": None, "origin": None})
            continue
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or ())
        hook_names.update(hooks)
        dist = distributions.get(name)
        if dist is not None:
            origin = f"{dist.name} {dist.version}"
        elif name in DEFAULT_PLUGINS:
            origin = "bundled"
        else:
            origin = "registered at run time"
        if inspect.ismodule(plugin):
            source = plugin.__name__
        else:
            cls = plugin if inspect.isclass(plugin) else type(plugin)
            source = f"{cls.__module__}.{cls.__qualname__}"
        plugins.append({"name": name, "blocked": False, "hooks": hooks, "source": source, "origin": origin})
    hooks_info = []
    for hook_name in sorted(hook_names):
        impls = reversed(getattr(pm.hook, hook_name).get_hookimpls())  # pluggy calls the last first
        hooks_info.append(
            {
                "name": hook_name,
                "plugins": [
                    {
                        "name": impl.plugin_name,
                        "tryfirst": impl.tryfirst,
                        "trylast": impl.trylast,
                        "wrapper": bool(impl.wrapper or impl.hookwrapper),
                        "async": inspect.iscoroutinefunction(impl.function),
                    }
                    for impl in impls
                ],
            }
        )
    return {"plugins": plugins, "hooks": hooks_info}
