"""Every hook SideGears calls, with when it fires and what it may return.

Plugins implement hooks with the :data:`hookimpl` marker::

    from sidegears import hookimpl

    @hookimpl
    def on_connect(kernel, connection):
        print("hello", connection.remote_address)

Rules that hold for every hook:

* Hooks are called by keyword, always through pluggy (so ``wrapper=True`` and
  ``hookwrapper=True`` implementations, ``tryfirst``/``trylast`` and pluggy's
  hook-call monitoring work on every hook). An implementation may accept any
  subset of the arguments, so hooks can gain arguments without breaking
  plugins.
* Hooks documented "may be async" accept ``async def`` implementations; the
  kernel awaits what they return, in calling order (pluggy alone knows
  nothing of coroutines). The others must be synchronous.
* "First answer" hooks (``before_dispatch``, ``process_http_request``) may be
  async, so the kernel, not pluggy, picks the first result that is not None
  once awaited: every implementation is called (pluggy's order), the
  awaitables are awaited in that order until one gives an answer, and the
  coroutines after it are closed unstarted. A wrapper of such a hook sees,
  and may replace, the list of results. "First result" hooks
  (``find_method``, ``launch_window``, ``launch_url``) are synchronous and
  pluggy's own ``firstresult``: the first non-None result stops the call and
  a wrapper sees that one result.
* Order: pluggy calls later-registered plugins first;
  ``@hookimpl(tryfirst=True)`` / ``trylast=True`` move an implementation.
* A per-message hook nobody implements costs one set lookup per message
  (measured in ``benchmarks/``). One that is implemented costs its call:
  the kernel calls the implementations as pluggy would, through a function
  made for them, and falls back to pluggy's own caller while a wrapper or
  hook-call monitoring is registered. An observer (``before_dispatch``,
  ``on_notify``, ``after_dispatch``) that returns None adds nothing more;
  an ``async def`` one returns a coroutine, and the call then waits for it
  in a coroutine of its own, so write observers as plain functions unless
  they must await.
* Hooks run on the kernel's event loop thread; blocking in them blocks every
  connection. Exceptions from lifecycle and observer hooks are logged and do
  not stop the kernel; an exception in ``before_dispatch`` or ``find_method``
  answers that one request with an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:
    from websockets.http11 import Request as HTTPRequest
    from websockets.http11 import Response as HTTPResponse

    from .connection import Connection
    from .errors import RPCError
    from .kernel import RPCKernel
    from .protocol import Request
    from .transport import WebSocketTransport

PROJECT_NAME = "sidegears"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["PROJECT_NAME", "hookspec", "hookimpl"]


# -- lifecycle ---------------------------------------------------------------


@hookspec
def on_startup(kernel: RPCKernel) -> None:
    """The kernel is listening (``kernel.port`` and ``kernel.url`` are known).

    Fires once per start, before any client can be served. May be async; the
    kernel awaits every implementation before ``start()`` returns. Use it to
    open resources, or to launch a window.

    Example::

        @hookimpl
        def on_startup(kernel):
            print("serving on", kernel.url)
    """


@hookspec
def on_shutdown(kernel: RPCKernel) -> None:
    """The kernel has stopped: calls finished or cancelled, connections closed, the port released.

    Fires once per stop, before ``stop()`` returns. May be async. Release
    what ``on_startup`` took.
    """


@hookspec
def on_settings_changed(kernel: RPCKernel, name: str, value: Any) -> None:
    """A setting of the original API changed: ``name`` is ``"debug"``, ``"basic_logging"`` or ``"trim_log_values"``.

    Fires on every ``set_debug()``, ``set_basic_logging()`` and
    ``set_trim_log_values()`` call, running or not, from the caller's thread.
    Synchronous. Plugins use it to register their per-message hooks only
    while their feature is on, so that off costs nothing per message (the
    debug plugin registers its call tracer this way).
    """


@hookspec
def register_methods(kernel: RPCKernel, register: Callable[..., Any]) -> None:
    """Add RPC methods that belong to a plugin, when the kernel starts.

    Call ``register(func, name=None)`` for each method; ``name`` defaults to
    the function's ``__name__``. The methods plugin validates, names and stores
    them per kernel, so two plugins cannot silently replace each other's
    method (a duplicate name raises :class:`~sidegears.errors.PluginError`
    and the start fails). Synchronous; called once per start, from the
    bundled methods plugin's ``on_startup``.

    Example::

        @hookimpl
        def register_methods(register):
            register(os.getcwd, name="getcwd")
    """


@hookspec
def register_options(register: Callable[..., Any]) -> None:
    """Declare the keyword options of ``RPCKernel(...)`` that a plugin reads.

    Call ``register(name, default=None, doc="")`` for each option. The kernel
    accepts exactly its own options and the declared ones: an unknown keyword
    raises ``TypeError`` naming the closest valid option, so a typo never
    passes silently. The value given (or the default) is in
    ``kernel.options[name]``. Two plugins declaring the same name raise
    :class:`~sidegears.errors.PluginError`. Synchronous; called once, when
    the kernel is created, for the plugins registered by then (options of a
    plugin registered later cannot be passed to the constructor anyway).

    Example::

        @hookimpl
        def register_options(register):
            register("files_root", None, "the folder files.* serves")
    """


@hookspec(firstresult=True)
def launch_url(kernel: RPCKernel) -> str | None:
    """Return an address of the kernel's page for a window the kernel opens (``kernel.launch_url()``).

    Fires each time a window is about to open. The security plugin returns
    a URL with a single-use ``?launch=`` code (a browser's command line is
    readable by other local users, so it must not carry the token); with no
    answer ``kernel.launch_url()`` gives ``kernel.http_url``. First result
    wins. Synchronous: callable from any thread.
    """


@hookspec(firstresult=True)
def launch_window(kernel: RPCKernel, url: str | None, runtime: str | None, options: dict[str, Any]) -> Any:
    """``kernel.launch()`` was called (or ``RPCKernel(launch=...)`` at start): open the UI.

    ``url`` is None (the kernel's own page, ``kernel.http_url``, token
    included), a path on the kernel, or a full URL; ``runtime`` None for the
    plugin's default, a webruntime name or a browser executable; ``options``
    the other keyword arguments. Return a handle for the window (the browser
    plugin's ``Window``). First result wins. Synchronous: callable from any
    thread.
    """


# -- connections -------------------------------------------------------------


@hookspec
def process_http_request(
    kernel: RPCKernel, websocket: WebSocketTransport, request: HTTPRequest
) -> HTTPResponse | None:
    """An HTTP request arrived, before any websocket upgrade.

    Fires for every request: websocket handshakes and plain GETs alike.
    Return a ``websockets.http11.Response`` to answer it (an error status
    refuses a handshake, e.g. a foreign Origin gets 403; a page is served by
    returning 200), or None to let it through to the upgrade. First answer
    wins (see the rules above); security plugins use ``tryfirst=True``. May
    be async. A plain GET that nobody answers gets 426 "Upgrade Required".
    ``websocket`` is the connection's transport
    (:class:`~sidegears.transport.WebSocketTransport`: ``remote_address``).
    """


@hookspec
def on_connect(kernel: RPCKernel, connection: Connection) -> None:
    """A client completed the websocket handshake.

    Fires once per connection, before its first message is read. May be
    async; messages wait until every implementation has finished.
    """


@hookspec
def on_disconnect(kernel: RPCKernel, connection: Connection, code: int | None, reason: str) -> None:
    """A connection closed; ``code`` and ``reason`` are the websocket close code and reason.

    Fires once per connection, after its pending kernel->client calls were
    failed. May be async.
    """


# -- messages ----------------------------------------------------------------


@hookspec(firstresult=True)
def find_method(kernel: RPCKernel, name: str) -> Callable[..., Any] | None:
    """Return the callable that serves the method ``name``, or None if unknown.

    Fires for every incoming request and notification, except that a batch
    asks once per method name (what the first member with that name found
    serves the others). First result wins; if nobody returns one, a request
    gets -32601 Method not found. Must be synchronous (it is on the hot path).
    """


@hookspec
def list_methods(kernel: RPCKernel) -> dict[str, Callable[..., Any]] | None:
    """Return the methods this plugin serves through ``find_method``, by name.

    Called for ``rpc.discover`` (the document lists them with their schemas)
    and to suggest a close name when a client calls an unknown one. A plugin
    that serves methods from ``find_method`` should implement it. Later
    plugins' entries override earlier ones of the same name, as
    ``find_method``'s order does. Must be synchronous.
    """


@hookspec
def discover(kernel: RPCKernel, document: dict[str, Any]) -> None:
    """``rpc.discover`` built its OpenRPC ``document``: change it before it is sent.

    Called each time a client calls ``rpc.discover``, after the document is
    built from ``list_methods`` and the declarations. Remove entries from ``document["methods"]`` to hide methods from
    discovery (they are still served), or add descriptions. Runs on the
    kernel's loop; must be synchronous.
    """


@hookspec
def before_dispatch(kernel: RPCKernel, connection: Connection, message: Request) -> Any:
    """An incoming request or notification is about to be dispatched.

    Fires for every valid request and notification (batch members one by one),
    in the task that will run the method. For a method with annotated
    parameters, ``message.params`` are already validated and converted (a
    mismatch was answered with -32602 before this hook: its message names the
    first problem, and its ``data`` is ``{"errors": [...]}``, one entry per
    problem with ``path``, ``expected``, ``got`` and ``message``). An
    implementation may:

    * change it: assign ``message.method`` or ``message.params``;
    * answer it: return a value other than None, which becomes the result and
      the method is not called;
    * reject it: raise :class:`~sidegears.errors.RPCError`, which becomes the
      error reply.

    First answer wins (see the rules above: a wrapper sees the list of
    results). May be async.
    """


@hookspec
def on_notify(kernel: RPCKernel, connection: Connection, message: Request) -> None:
    """A client sent a notification (client -> kernel, a message without an id).

    Fires after ``before_dispatch`` and before the method of that name (if
    any) runs, so an app can handle notifications here without registering a
    method. A notification for which no method exists is not an error (the
    client expects no reply); it is logged at debug level. Kernel -> client
    notifications go through ``log_message`` with direction ``"out"``. May
    be async.
    """


@hookspec
def after_dispatch(
    kernel: RPCKernel,
    connection: Connection,
    message: Request,
    result: Any,
    error: RPCError | None,
    duration: float,
) -> None:
    """A request or notification finished: ``result`` or ``error`` is what the client gets.

    ``duration`` is in seconds, from before ``before_dispatch`` to the end of
    the method. Fires before the reply is sent. May be async.
    """


@hookspec
def on_method_error(
    kernel: RPCKernel, connection: Connection, message: Request, exception: BaseException, error: RPCError
) -> None:
    """A method raised ``exception``; ``error`` is the reply about to be sent.

    Implementations may set ``error.data`` (the debug plugin puts the
    traceback there). Not called for an :class:`~sidegears.errors.RPCError`
    the method raised on purpose. Synchronous.
    """


@hookspec
def log_message(
    kernel: RPCKernel,
    connection: Connection | None,
    direction: str,
    message: Any,
    size: int,
    duration: float | None,
) -> None:
    """Every JSON-RPC message in and out, as it crosses the socket.

    Fires whenever a plugin implements it, whatever ``set_basic_logging``
    says: the bundled ``message_log`` plugin registers its implementation
    only while basic logging is on, so that logging off costs nothing per
    message, and a third-party logger sees every message all the time.

    ``direction`` is ``"in"`` or ``"out"``; ``message`` is the decoded JSON
    (a dict or a list for a batch; for text that is not JSON, the text);
    ``size`` its length in bytes on the wire; ``duration`` the seconds since
    the request arrived, for replies, else None. ``connection`` is None for a
    broadcast notification. Must be synchronous and fast; do not change the
    message. An "out" message of plain JSON is the very object the method
    returned (or the params sent), not a copy: copy what you keep.
    """
