"""RPCKernel: the websocket server, its lifecycle, its plugins, and the sync API over the async one."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import difflib
import errno
import ipaddress
import logging
import secrets
import ssl as ssl_module
import threading
import time
from dataclasses import dataclass, fields
from typing import Any, Iterable

from . import logs, protocol
from .app_secret import app_secret
from .errors import PortInUseError
from .ports import port_holder
from .connection import Connection, current_connection
from .plugins import PluginManager, settle
from .registry import rpc_method  # noqa: F401  (the original import path: sidegears.kernel.rpc_method)
from .session import log_message, prepare_method
from .threads import MethodThreads
from .transport import (
    CLOSE_GOING_AWAY,
    CLOSE_INTERNAL_ERROR,
    CLOSE_POLICY_VIOLATION,
    CLOSE_TIMEOUT,
    WebSocketTransport,
)

__all__ = ["RPCKernel", "rpc_method", "Limits", "CORE_OPTIONS"]

MiB = 1024 * 1024

#: Seconds a stop waits for cancelled calls to end, after stop_timeout.
STOP_CANCEL_WAIT = 0.3
#: Seconds a stop gives clients to answer its close frame.
STOP_CLOSE_WAIT = 0.6
#: Seconds a stop may take past stop_timeout in all (cancelling, closing, on_disconnect), whatever the clients do.
STOP_MARGIN = 0.9


@dataclass
class Limits:
    """Resource limits of a kernel; each is a keyword argument of :class:`RPCKernel`.

    ``max_message_size``: bytes in one incoming message; bigger closes with 1009.
    ``max_in_flight``: messages (requests, batches) waiting at once per
    connection; beyond it the kernel stops reading that socket until one
    finishes (back-pressure). Calls that finish without waiting never count;
    calls waiting for the client's answer to ``connection.call()`` do, but
    while one waits the kernel reads on to hear that answer, holding the
    client's requests (at most ``max_in_flight`` of them, at most
    ``max_message_size`` bytes) until there is room.
    ``max_batch``: members in one batch; a longer batch gets -32600.
    ``max_send_buffer``: bytes of notifications queued for a client that is
    not reading; beyond it the client is dropped (its connection aborted: it
    sees 1006) instead of growing the kernel's memory. Replies need no such
    bound: as soon as a client stops reading what the kernel sends (its
    socket is full), the kernel stops reading that client's requests, so
    unread replies cannot pile up.
    ``max_total_send_buffer``: bytes of notifications queued for all
    clients together; when a broadcast passes it, the clients that are not
    reading are dropped, the most behind first, until it holds again.
    ``open_timeout``: seconds for the opening handshake.
    ``max_handshakes`` / ``max_handshakes_per_address``: connections not
    (yet) past the websocket handshake, in all and from one address; beyond
    either, the oldest such connection is dropped, so slow or refused
    handshakes cannot use up the kernel's file descriptors while new clients
    still get in. (At start the kernel also raises its soft limit on open
    files to the hard limit.)
    ``idle_timeout``: seconds without a message (and no call in flight) after
    which a client is closed with 1001; None (the default) keeps idle
    clients, as a UI waiting for its user sends nothing for long periods.
    ``ping_interval`` / ``ping_timeout``: keep-alive pings, seconds (None: off).
    ``stop_timeout``: seconds ``stop()`` lets in-flight calls finish before
    cancelling them (they are answered with -32000 Request cancelled).
    """

    max_message_size: int = 16 * MiB
    max_in_flight: int = 256
    max_batch: int = 1000
    max_send_buffer: int = 64 * MiB
    max_total_send_buffer: int = 256 * MiB
    open_timeout: float | None = 10.0
    max_handshakes: int = 512
    max_handshakes_per_address: int = 256
    idle_timeout: float | None = None
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    stop_timeout: float = 5.0


_kernels_started = 0


def kernels_started() -> int:
    """How many kernels of this process have started listening (``sidegears run`` checks that an app did)."""
    return _kernels_started


#: The keyword options of :class:`RPCKernel` itself (plugins declare the others).
CORE_OPTIONS = frozenset(
    {field.name for field in fields(Limits)}
    | {"compression", "ssl", "token", "app_id", "block_plugins", "load_entry_points", "log_format"}
    | {"reconnect_grace", "event_loop", "max_workers", "max_workers_per_connection"}
)


class RPCKernel:
    """A JSON-RPC 2.0 server over websockets, for the Python side of a desktop app.

    Synchronous use (the kernel runs in a background thread)::

        kernel = RPCKernel()
        kernel.start(port=5678)
        kernel.wait_until_closed()

    Asynchronous use (the kernel runs on the current loop)::

        async with RPCKernel() as kernel:   # starts on localhost, port 0
            await kernel.wait_closed()

    Every option is keyword-only. An unknown one raises ``TypeError`` naming
    the closest valid option.

    Limits (see :class:`Limits`): ``max_message_size``, ``max_in_flight``,
    ``max_batch``, ``max_send_buffer``, ``max_total_send_buffer``, ``open_timeout``, ``max_handshakes``,
    ``max_handshakes_per_address``, ``idle_timeout``,
    ``ping_interval``, ``ping_timeout``, ``stop_timeout``.

    Connections: ``compression`` (None by default: on loopback,
    permessage-deflate costs more than it saves; ``"deflate"`` turns it on);
    ``ssl``, an :class:`ssl.SSLContext` to serve ``wss://``.

    Security: ``token``, the secret clients present (None: a random one
    per start; a string: that one; False: no token, for trusted tests
    only). ``app_id``, a name of the app that stays the same across its
    runs (``serve()`` and ``sidegears run`` pass the script's path): with
    it and no ``token``, the secret is kept in the user's runtime directory
    (mode 0600, see :mod:`sidegears.app_secret`) and reused by the next
    start, so that an open page reconnects to a restarted kernel.

    Plugins: ``block_plugins``, plugin names not to load;
    ``load_entry_points`` (False skips third-party plugins; None: the
    ``SIDEGEARS_PLUGIN_AUTOLOAD`` environment variable decides).

    Logging: ``log_format``, ``"console"`` or ``"json"``.

    Lifecycle: ``reconnect_grace``, seconds a ``close_on_disconnect`` kernel
    waits for a client to come back (a page reload) before stopping;
    ``event_loop`` (``"auto"``: uvloop if installed, ``"uvloop"`` or
    ``"asyncio"``) for the thread of :meth:`start`; ``max_workers``, threads
    for plain (non-async) methods (daemon threads: a method stuck in one
    never keeps the process alive); ``max_workers_per_connection``, how many
    of them one connection's calls may hold at once (default a quarter of
    ``max_workers``), so one client cannot starve the others.

    Plugin options: the names plugins declare with the ``register_options``
    hook (the bundled ones: ``static_dir``; ``allowed_origins``,
    ``allowed_hosts``, ``check_host``; ``launch``), kept in ``kernel.options``.
    """

    def __init__(
        self,
        *,
        # limits
        max_message_size: int = 16 * MiB,
        max_in_flight: int = 256,
        max_batch: int = 1000,
        max_send_buffer: int = 64 * MiB,
        max_total_send_buffer: int = 256 * MiB,
        open_timeout: float | None = 10.0,
        max_handshakes: int = 512,
        max_handshakes_per_address: int = 256,
        idle_timeout: float | None = None,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        stop_timeout: float = 5.0,
        # connections
        compression: str | None = None,
        ssl: ssl_module.SSLContext | None = None,
        # security
        token: str | bool | None = None,
        app_id: str | None = None,
        # plugins
        block_plugins: Iterable[str] = (),
        load_entry_points: bool | None = None,
        # logging
        log_format: str | None = None,
        # lifecycle
        reconnect_grace: float = 3.0,
        event_loop: str = "auto",
        max_workers: int = 32,
        max_workers_per_connection: int | None = None,
        **plugin_options: Any,
    ) -> None:
        self.limits = Limits(
            max_message_size=max_message_size,
            max_in_flight=max_in_flight,
            max_batch=max_batch,
            max_send_buffer=max_send_buffer,
            max_total_send_buffer=max_total_send_buffer,
            open_timeout=open_timeout,
            max_handshakes=max_handshakes,
            max_handshakes_per_address=max_handshakes_per_address,
            idle_timeout=idle_timeout,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            stop_timeout=stop_timeout,
        )
        if compression not in (None, "deflate"):
            raise ValueError(f"compression must be None or 'deflate', not {compression!r}")
        if event_loop not in ("auto", "uvloop", "asyncio"):
            raise ValueError(f"event_loop must be 'auto', 'uvloop' or 'asyncio', not {event_loop!r}")
        self.log_format = log_format
        self.log = logs.make_logger("sidegears.kernel", log_format)
        #: The name that keys the app's kept secret (None: a token per start).
        self.app_id = app_id
        if (token is True or token is None) and app_id:
            token = self._kept_secret(app_id)
        if token is True or token is None:
            token = secrets.token_urlsafe(32)
        elif token is not False and (not isinstance(token, str) or len(token) < 16):
            raise ValueError("token must be a string of at least 16 characters, None (make one) or False (no token)")
        #: The per-launch secret clients must present (None when turned off with ``token=False``).
        self.token: str | None = token or None
        if self.token:
            logs.add_secret(self.token)
        self.compression = compression
        #: The TLS context of a ``wss://`` kernel, else None.
        self.ssl = ssl
        self.reconnect_grace = reconnect_grace
        self.event_loop = event_loop
        self.max_workers = max_workers
        #: Threads one connection's plain methods may hold at once, so one client cannot starve the others.
        self.max_workers_per_connection = max_workers_per_connection or max(1, max_workers // 4)
        self.websockets_logger = logs.protected_logger("sidegears.websockets")
        self.debug = False
        self.basic_logging = False
        self.trim_log_values = False
        self.plugin_manager = PluginManager()
        self.plugin_manager.load(block_plugins, load_entry_points)
        self.hook = self.plugin_manager.hook
        #: Open websocket connections (after the handshake).
        self.connections: set[Connection] = set()
        #: TCP connections, from accept to close (handshakes included).
        self.transports: set[WebSocketTransport] = set()
        # Connections not past the handshake, oldest first (the dict keeps insertion order).
        self._handshaking: dict[WebSocketTransport, None] = {}
        self._last_drop_log = 0.0
        # Tasks of calls still running for clients already gone; each leaves the set as it ends.
        self._lingering: set[asyncio.Task[Any]] = set()
        self._background: set[asyncio.Task[Any]] = set()  # on_disconnect hooks in progress
        self.host: str | None = None
        self.port: int | None = None
        self.close_on_disconnect = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._stopped.set()
        self._stopped_async: asyncio.Event | None = None
        self._stopping: asyncio.Task[None] | None = None
        self._grace_timer: asyncio.TimerHandle | None = None
        #: Notifications and client methods declared for ``rpc.discover`` (see :meth:`declare_notification`).
        self.declared_notifications: dict[str, tuple[Any, str | None]] = {}
        self.declared_client_methods: dict[str, tuple[Any, Any, str | None]] = {}
        #: Plugin options: every name declared by ``register_options``, with the value given or its default.
        self.options: dict[str, Any] = self._plugin_options(plugin_options)
        #: The threads plain (non-async) methods run in.
        self.executor: concurrent.futures.Executor = _method_executor(max_workers)

    def _plugin_options(self, given: dict[str, Any]) -> dict[str, Any]:
        declared = self.plugin_manager.declared_options(reserved=CORE_OPTIONS)
        unknown = [name for name in given if name not in declared]
        if unknown:
            valid = sorted(CORE_OPTIONS | declared.keys())
            name = unknown[0]
            close = difflib.get_close_matches(name, valid, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; valid options: {', '.join(valid)}"
            raise TypeError(f"RPCKernel() got an unexpected keyword argument {name!r}{hint}")
        declared.update(given)
        return declared

    def __repr__(self) -> str:
        state = f"serving {self.url}" if self.is_serving else "stopped"
        return f"<RPCKernel {state}>"

    # -- plugins ---------------------------------------------------------------

    def register_plugin(self, plugin: Any, name: str | None = None) -> str:
        """Register a plugin (a module, class or object with hook implementations); return its name.

        Takes effect on the next message, on a running kernel too.
        """
        registered = self.plugin_manager.register(plugin, name=name)
        if registered is None:
            raise ValueError(f"plugin {name or plugin!r} is blocked")
        return registered

    def unregister_plugin(self, plugin: Any = None, name: str | None = None) -> Any:
        """Unregister a plugin, given the object or its name (a string)."""
        if isinstance(plugin, str) and name is None:
            plugin, name = None, plugin
        return self.plugin_manager.unregister(plugin, name=name)

    def list_plugins(self) -> list[str]:
        """Names of the registered plugins, in registration order."""
        return [name for name, plugin in self.plugin_manager.list_name_plugin() if plugin is not None]

    # -- settings (the original names) ------------------------------------------

    def set_basic_logging(self, enabled: bool = True) -> None:
        """Log every message in and out (and show ``sidegears`` INFO records on stderr if nothing else does)."""
        self.basic_logging = bool(enabled)
        if enabled:
            logs.ensure_handler(logging.INFO)
        self._settings_changed("basic_logging", self.basic_logging)

    def set_debug(self, enabled: bool = True) -> None:
        """Send tracebacks of failing methods to the client in ``error.data`` and trace each call.

        Off by default: tracebacks show file paths and code to whoever connects.
        """
        self.debug = bool(enabled)
        if enabled:
            logs.ensure_handler(logging.DEBUG)
        self._settings_changed("debug", self.debug)

    def set_trim_log_values(self, enabled: bool = True) -> None:
        """Shorten long values in logged messages (see the message_log plugin)."""
        self.trim_log_values = bool(enabled)
        self._settings_changed("trim_log_values", self.trim_log_values)

    def _settings_changed(self, name: str, value: Any) -> None:
        self.hook.on_settings_changed(kernel=self, name=name, value=value)

    def launch(self, url: str | None = None, runtime: str | None = None, **options: Any) -> Any:
        """Open the app's UI in a window or browser (the ``browser`` plugin); return its handle.

        ``url`` defaults to the kernel's own page (``http_url``, token
        included). Without a display or a browser the plugin prints the URL
        instead and the handle says ``opened=False``.
        """
        if self._server is None or self.port is None:
            raise RuntimeError("start the kernel before launching its window")
        window = self.hook.launch_window(kernel=self, url=url, runtime=runtime, options=options)
        if window is None:
            raise RuntimeError("no plugin opens windows (is the 'browser' plugin blocked?)")
        return window

    # -- state -------------------------------------------------------------------

    @property
    def is_serving(self) -> bool:
        """True between a successful start and the beginning of stop."""
        return self._server is not None and self._stopping is None

    def _address(self, scheme: str) -> str | None:
        if self.port is None:
            return None
        if self.ssl is not None:
            scheme += "s"
        host = self.host or "localhost"
        if ":" in host:
            host = f"[{host}]"
        query = f"?token={self.token}" if self.token else ""
        return f"{scheme}://{host}:{self.port}/{query}"

    @property
    def url(self) -> str | None:
        """The websocket address clients connect to, token included (None before start)."""
        return self._address("ws")

    def launch_url(self) -> str | None:
        """An address of the kernel's page for a window the kernel opens (the ``launch_url`` hook).

        With the security plugin it carries a single-use ``?launch=CODE``
        instead of the token: a browser's command line is readable by every
        local user (``/proc/PID/cmdline``), and a code that the window has
        already traded for the token cookie is worthless to them. Without an
        answer it is :attr:`http_url`.
        """
        if self.port is None:
            return None
        return self.hook.launch_url(kernel=self) or self.http_url

    @property
    def http_url(self) -> str | None:
        """The address of the kernel's own page (``static_dir``), token included: what a window opens."""
        return self._address("http")

    # -- async lifecycle -----------------------------------------------------------

    async def astart(
        self, host: str = "localhost", port: int = 5678, close_on_disconnect: bool = False, launch: Any = None
    ) -> None:
        """Start serving on the running loop; return once listening (``port=0`` picks a free port).

        ``launch`` opens the UI once listening (see :meth:`launch`): True for
        the default browser, a runtime name or executable path, or a dict of
        :meth:`launch` keyword arguments.
        """
        if self._server is not None:
            raise RuntimeError("the kernel is already running")
        if launch is not None:
            if "launch" not in self.options:
                raise RuntimeError("launch= needs the 'browser' plugin, which is blocked")
            self.options["launch"] = launch
        loop = self.loop = asyncio.get_running_loop()
        logs.install_stderr_writer()
        _raise_open_files_limit()
        self.close_on_disconnect = close_on_disconnect
        self._stopped.clear()
        self._stopped_async = asyncio.Event()
        self._stopping = None
        # "localhost" resolves to 127.0.0.1 and ::1; with port 0 each would get
        # a different free port, and a client could reach the wrong one. The
        # kernel binds 127.0.0.1 alone and its URLs say so (pages opened at
        # http://localhost:PORT are still allowed by the security plugin).
        bind_host = "127.0.0.1" if host == "localhost" else host
        try:
            # Listen (so the port is known) but accept no client until on_startup ran.
            self._server = await loop.create_server(
                lambda: WebSocketTransport(self), bind_host, port, ssl=self.ssl, start_serving=False
            )
        except BaseException as exc:
            self._stopped.set()
            self._stopped_async.set()
            if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
                raise PortInUseError(bind_host, port, exc.errno, port_holder(port)) from None
            raise
        sockname = self._server.sockets[0].getsockname()
        self.host = bind_host if bind_host not in ("", "0.0.0.0", "::") else sockname[0]
        self.port = sockname[1]
        self._warn_if_exposed(bind_host)
        try:
            await settle(self.hook.on_startup(kernel=self))
        except BaseException:
            await self.astop()
            raise
        await self._server.start_serving()
        global _kernels_started
        _kernels_started += 1
        self.log.info("kernel started", port=self.port, host=self.host, token=bool(self.token))
        self._prepare_methods()

    def _prepare_methods(self) -> None:
        """Build the methods' contracts in a thread now, so that no client's first call waits for them.

        A method with annotated params got its contract on its first call:
        pydantic imported and validators built, 100 to 150 ms for the first
        typed method, felt as a slow first click. Started once listening,
        this overlaps the UI's own start; a call that comes first builds what
        it needs itself, as before. Methods registered later are prepared on
        their first call.
        """
        log = self.log
        try:
            methods = list(self.methods().values())
        except Exception as exc:  # noqa: BLE001  (a plugin's list_methods failed: calls still find their methods)
            log.warning("methods not prepared: listing them failed", exc_info=exc)
            return

        def prepare() -> None:
            started = time.perf_counter()
            typed = 0
            for method in methods:
                try:
                    typed += prepare_method(method)
                except Exception as exc:  # noqa: BLE001  (its first call meets the same error, and answers it)
                    log.debug("preparing a method failed", method=getattr(method, "__name__", repr(method)),
                              error=repr(exc))
            log.debug("methods prepared", methods=len(methods), typed=typed,
                      seconds=round(time.perf_counter() - started, 3))

        threading.Thread(target=prepare, name="sidegears-prepare-methods", daemon=True).start()

    def _kept_secret(self, app_id: str) -> str | None:
        """The app's secret from the runtime directory; None (a per-start token) when it cannot be kept safely."""
        try:
            return app_secret(app_id)
        except OSError as exc:
            self.log.warning("cannot keep the app's secret; using a new token for this run", reason=str(exc))
            return None

    def _warn_if_exposed(self, host: str) -> None:
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            self.log.warning(
                "kernel listens on a non-loopback address: other machines can try to connect", host=host
            )

    async def astop(self) -> None:
        """Stop: let in-flight calls finish (up to ``stop_timeout``), close clients with 1001, stop listening.

        Safe to call twice, and from a method of this kernel.
        """
        if self._server is None:
            return
        if self._stopping is None:
            # In a context of its own: called from a method, the shutdown (and
            # its on_shutdown hooks) must not run as part of that call.
            self._stopping = contextvars.Context().run(asyncio.ensure_future, self._shutdown())
        if current_connection() is not None:
            return  # called from a method: waiting here would wait for ourselves
        await asyncio.shield(self._stopping)

    async def _shutdown(self) -> None:
        # The whole stop fits in stop_timeout + 1 s, whatever the clients do:
        # calls get stop_timeout, then are cancelled; closing handshakes get
        # what is left of the second; then connections are dropped.
        assert self._server is not None
        server = self._server
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.stop_timeout
        hard_end = deadline + STOP_MARGIN

        def left(keep: float) -> float:
            """Seconds to the hard end, less ``keep`` for the steps after this one (at least a moment)."""
            return max(0.01, hard_end - keep - loop.time())

        if self._grace_timer is not None:
            self._grace_timer.cancel()
        server.close()  # stop listening; connections stay
        for connection in list(self.connections):
            if connection.session is not None:
                connection.session.refuse_new_requests()
        # Calls still running, also those of clients already gone.
        while tasks := self._call_tasks():
            if loop.time() >= deadline:
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks, timeout=min(STOP_CANCEL_WAIT, left(0.5)))
                break
            await asyncio.wait(tasks, timeout=deadline - loop.time())
        transports = list(self.transports)
        for transport in transports:
            transport.close(CLOSE_GOING_AWAY, "kernel stopping")
        if transports:
            closing = [asyncio.ensure_future(transport.wait_closed()) for transport in transports]
            _, late = await asyncio.wait(closing, timeout=min(STOP_CLOSE_WAIT, left(0.2)))
            for transport in transports:
                transport.abort()  # a client that did not finish the closing handshake in time
            for waiter in late:
                waiter.cancel()
        if self._background:  # on_disconnect hooks
            await asyncio.wait(set(self._background), timeout=min(STOP_CANCEL_WAIT, left(0.1)))
        try:
            await settle(self.hook.on_shutdown(kernel=self))
        except Exception as exc:
            self.log.error("on_shutdown hook failed", exc_info=exc)
        self._server = None
        # Worker threads of finished calls end now; a new start makes a new pool.
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = _method_executor(self.max_workers)
        self.log.info("kernel stopped", port=self.port)
        assert self._stopped_async is not None
        self._stopped_async.set()
        self._stopped.set()

    def _call_tasks(self) -> set[asyncio.Task[Any]]:
        """The tasks of calls still running, on connected clients and on clients already gone."""
        current = asyncio.current_task()
        running = set(self._lingering)
        for connection in self.connections:
            if connection.session is not None:
                running |= connection.session.tasks
        return {task for task in running if task is not current and not task.done()}

    async def wait_closed(self) -> None:
        """Wait (async) until the kernel has stopped."""
        if self._stopped_async is not None:
            await self._stopped_async.wait()

    async def serve(self, host: str = "localhost", port: int = 5678, close_on_disconnect: bool = False) -> None:
        """Start, then serve until stopped (``await kernel.serve()`` in an async program)."""
        await self.astart(host, port, close_on_disconnect)
        try:
            await self.wait_closed()
        finally:
            await self.astop()

    async def __aenter__(self) -> RPCKernel:
        if self._server is None:
            await self.astart(port=0)
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.astop()

    # -- sync lifecycle (wraps the async one on a background thread) -------------------

    def start(
        self, host: str = "localhost", port: int = 5678, close_on_disconnect: bool = False, launch: Any = None
    ) -> None:
        """Start serving on a background thread; return once listening. Does not block.

        The thread runs its own event loop, so this works from plain scripts
        and from threads. Inside an async program prefer ``await astart()``.
        """
        if self._server is not None or self._thread is not None:
            raise RuntimeError("the kernel is already running")
        loop = _new_event_loop(self.event_loop)
        started: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            asyncio.set_event_loop(loop)
            task = loop.create_task(self.astart(host, port, close_on_disconnect, launch))
            task.add_done_callback(lambda t: _copy_outcome(t, started))
            loop.run_until_complete(self._run_until_stopped(task))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"sidegears-kernel-{port}", daemon=True)
        self._thread.start()
        try:
            started.result()
        except BaseException:
            self._thread.join()
            self._thread = None
            raise

    async def _run_until_stopped(self, start_task: asyncio.Task[None]) -> None:
        try:
            await start_task
        except BaseException:
            return
        await self.wait_closed()
        if self._stopping is not None:
            await self._stopping

    def stop(self, timeout: float | None = None) -> None:
        """Stop the kernel and wait until it has stopped. Harmless when already stopped.

        From a method of this kernel (or anything on its loop) it cannot
        wait: it schedules the stop, which lets the method's reply go out,
        and returns.
        """
        loop = self.loop
        if loop is None or self._server is None or loop.is_closed():
            self._join_thread(timeout)
            return
        if _on_loop(loop) or current_connection() is not None:
            # From a method (async, or plain in a worker thread): the stop
            # waits for in-flight calls, this one included, so it cannot be
            # awaited here. It goes ahead once the method returns.
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.astop()))
            return
        future = asyncio.run_coroutine_threadsafe(self.astop(), loop)
        try:
            future.result(timeout)
        except concurrent.futures.CancelledError:
            pass
        self._join_thread(timeout)

    def _join_thread(self, timeout: float | None) -> None:
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            self._thread = None

    def wait_until_closed(self, timeout: float | None = None) -> bool:
        """Block until the kernel stops (Ctrl-C stops it); return False on timeout.

        In async code use ``await kernel.wait_closed()``.
        """
        if self.loop is not None and _on_loop(self.loop):
            raise RuntimeError("wait_until_closed() would block the kernel's own loop: use 'await kernel.wait_closed()'")
        try:
            # Wait in short slices so Ctrl-C reaches the main thread.
            deadline = None if timeout is None else time.monotonic() + timeout
            while not self._stopped.wait(0.2):
                if deadline is not None and time.monotonic() >= deadline:
                    return False
        except KeyboardInterrupt:
            self.stop()
        self._join_thread(None)
        return True

    def __enter__(self) -> RPCKernel:
        if self._server is None:
            self.start(port=0)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # -- the contract: what rpc.discover publishes -----------------------------------

    def methods(self) -> dict[str, Any]:
        """The methods clients may call, by name, as the plugins list them (``list_methods``)."""
        table: dict[str, Any] = {}
        for listed in reversed(self.plugin_manager.hook.list_methods(kernel=self)):  # later plugins win
            table.update(listed or {})
        return table

    def method_names(self) -> list[str]:
        return sorted(self.methods())

    def declare_notification(self, method: str, params: Any = None, description: str | None = None) -> None:
        """Declare a notification the kernel sends clients, with the type of its params, for ``rpc.discover``.

        ``params`` is a type (a dataclass, TypedDict or pydantic model for
        named params, any other type for one value); generated TypeScript
        types ``onNotify`` from it.
        """
        self.declared_notifications[method] = (params, description)

    def declare_client_method(
        self, method: str, params: Any = None, result: Any = None, description: str | None = None
    ) -> None:
        """Declare a method the kernel calls on clients (``connection.call``), for ``rpc.discover``."""
        self.declared_client_methods[method] = (params, result, description)

    # -- notifications ------------------------------------------------------------

    def send_notification(self, method: str, params: protocol.Params = None) -> None:
        """Send a notification to every connected client, now.

        Callable from any thread, from sync or async code. Never raises
        because a client is slow or gone (a client whose unread data passes
        ``max_send_buffer`` is dropped: its connection is aborted, since a
        close frame would wait behind the unread data; it sees 1006). Raises ValueError or
        TypeError at once if ``params`` is not JSON.
        """
        self.notify(self.connections, method, params)

    def notify(self, connections: Iterable[Connection], method: str, params: protocol.Params = None) -> None:
        """Send a notification to some clients (``Connection.send_notification`` sends to one); from any thread."""
        data = protocol.encode_notification_bytes(method, params)
        loop = self.loop
        if loop is None or self._server is None or loop.is_closed():
            self.log.warning("notification not sent: the kernel is not running", method=method)
            return
        if _on_loop(loop):
            self._send_to(connections, data, method, params)
        else:
            try:
                loop.call_soon_threadsafe(self._send_to, connections, data)
            except RuntimeError:  # the loop closed meanwhile
                self.log.warning("notification not sent: the kernel stopped", method=method)

    def _send_to(
        self, connections: Iterable[Connection], data: bytes, method: str | None = None, params: Any = None
    ) -> None:
        """Write a message to connections without waiting (broadcast), dropping clients that do not read.

        ``method`` and ``params``: what ``data`` encodes, logged as they are now
        when plain JSON; None (from another thread, where the caller could
        have changed params since): the log decodes ``data``.
        """
        if "log_message" in self.plugin_manager.implemented:
            sent = protocol.NOT_JSON if method is None else protocol.sent_notification(method, params)
            log_message(self, None, "out", data, None, sent)
        limit = self.limits.max_send_buffer
        behind: list[WebSocketTransport] = []
        for connection in list(connections):
            transport = connection.transport
            if not transport.send_text(data):
                self.log.debug("notification not delivered: client gone", connection=connection.id)
                continue
            # What is still unsent from earlier flushes: a client that reads keeps this near zero.
            buffered = transport.buffered
            if buffered > limit:
                self._drop_slow_reader(connection, buffered)
            elif transport.paused:
                behind.append(transport)
        if behind:
            # The kernel-wide bound: all clients' unsent data together.
            total = sum(transport.buffered for transport in self.transports)
            for transport in sorted(behind, key=lambda t: t.buffered, reverse=True):
                if total <= self.limits.max_total_send_buffer:
                    break
                total -= transport.buffered
                assert transport.connection is not None
                self._drop_slow_reader(transport.connection, transport.buffered, "max_total_send_buffer")

    def _drop_slow_reader(self, connection: Connection, buffered: int, limit: str = "max_send_buffer") -> None:
        self.log.warning(
            "closing connection: client is not reading",
            connection=connection.id,
            buffered=buffered,
            limit=limit,
            close_code=CLOSE_POLICY_VIOLATION,
        )
        # The close frame would queue behind the unread data: abort instead.
        connection.transport.abort()

    # -- connections (called by the transport) ---------------------------------------

    def transport_opened(self, transport: WebSocketTransport) -> None:
        """A TCP connection was accepted (the handshake is still to come): make room if too many wait."""
        self.transports.add(transport)
        self._handshaking[transport] = None
        limits = self.limits
        host = transport.remote_host
        same_host = [t for t in self._handshaking if t.remote_host == host]
        if len(same_host) > limits.max_handshakes_per_address:
            self._drop_handshake(same_host[0], "per address")
        elif len(self._handshaking) > limits.max_handshakes:
            self._drop_handshake(next(iter(self._handshaking)), "in all")

    def _drop_handshake(self, transport: WebSocketTransport, which: str) -> None:
        self._handshaking.pop(transport, None)
        now = time.monotonic()
        if now - self._last_drop_log >= 1.0:  # a flood must not flood the log
            self._last_drop_log = now
            self.log.warning(
                "too many connections before the handshake: dropped the oldest",
                limit=which, remote=transport.remote_address, waiting=len(self._handshaking),
            )
        transport.abort()

    async def connection_opened(self, connection: Connection) -> None:
        """A websocket handshake succeeded: track the client and run ``on_connect`` before its first message."""
        self._handshaking.pop(connection.transport, None)
        if self._stopping is not None:  # its handshake began before the stop: no new client now
            assert connection.session is not None
            connection.session.refuse_new_requests()
            connection.transport.close(CLOSE_GOING_AWAY, "kernel stopping")
            return
        self.connections.add(connection)
        if self._grace_timer is not None:
            self._grace_timer.cancel()
            self._grace_timer = None
        self.log.info("client connected", connection=connection.id, remote=connection.remote_address)
        if "on_connect" in self.plugin_manager.implemented:
            try:
                await settle(self.hook.on_connect(kernel=self, connection=connection))
            except Exception as exc:
                self.log.error("on_connect hook failed", connection=connection.id, exc_info=exc)
                connection.transport.close(CLOSE_INTERNAL_ERROR, "on_connect failed")

    def transport_closed(self, transport: WebSocketTransport) -> None:
        """A TCP connection ended; for a websocket, run ``on_disconnect`` (its pending calls were failed)."""
        self.transports.discard(transport)
        self._handshaking.pop(transport, None)
        connection = transport.connection
        if connection is None or connection not in self.connections:
            return
        self.connections.discard(connection)
        if connection.session is not None:
            for task in connection.session.tasks:  # calls still running: a stop must still wait for them
                self._lingering.add(task)
                task.add_done_callback(self._lingering.discard)
        task = asyncio.get_running_loop().create_task(self._after_disconnect(connection))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _after_disconnect(self, connection: Connection) -> None:
        code, reason = connection.close_info
        level = "info" if code in (1000, 1001, None) else "warning"
        getattr(self.log, level)("client disconnected", connection=connection.id, close_code=code, reason=reason)
        if "on_disconnect" in self.plugin_manager.implemented:
            try:
                await settle(
                    self.hook.on_disconnect(kernel=self, connection=connection, code=code, reason=reason)
                )
            except Exception as exc:
                self.log.error("on_disconnect hook failed", exc_info=exc)
        if self.close_on_disconnect and not self.connections and self._stopping is None:
            assert self.loop is not None
            if self.reconnect_grace > 0:
                self._grace_timer = self.loop.call_later(self.reconnect_grace, self._stop_if_alone)
            else:
                self._stop_if_alone()

    def _stop_if_alone(self) -> None:
        self._grace_timer = None
        if not self.connections and self._stopping is None:
            self.log.info("last client left: stopping (close_on_disconnect)")
            asyncio.ensure_future(self.astop())


def _method_executor(max_workers: int) -> MethodThreads:
    """The threads plain (non-async) methods run in."""
    return MethodThreads(max_workers)


def _new_event_loop(kind: str) -> asyncio.AbstractEventLoop:
    """The loop of a kernel started with start(): uvloop when installed (``pip install sidegears[speed]``)."""
    if kind != "asyncio":
        try:
            import uvloop
        except ImportError:
            if kind == "uvloop":
                raise
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def _raise_open_files_limit() -> None:
    """Raise this process's soft limit on open files to its hard limit (each client is a file descriptor)."""
    try:
        import resource
    except ImportError:  # Windows
        return
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY:
            hard = 65536
        if soft != resource.RLIM_INFINITY and soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass  # not allowed here: keep the limit we have


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _copy_outcome(task: asyncio.Task[None], future: concurrent.futures.Future[None]) -> None:
    if task.cancelled():
        future.cancel()
    elif task.exception() is not None:
        future.set_exception(task.exception())  # type: ignore[arg-type]
    else:
        future.set_result(None)
