"""Debug mode: tracebacks of failing methods in ``error.data``, and a DEBUG trace line per call.

Active while ``kernel.debug`` is True (``kernel.set_debug()``); otherwise
every hook returns at once and error replies carry no traceback (a traceback
shows file paths and code to whoever is connected). Lines go to the stdlib
logger ``sidegears.debug`` at DEBUG level, rendered like every SideGears
logger (``key=value`` text, or JSON lines with ``log_format="json"`` or
``SIDEGEARS_LOG_FORMAT=json``). See ``docs/logging.md``.

In debug mode a method that raises sends the client::

    {"code": -32603, "message": "Internal error",
     "data": {"type": "ZeroDivisionError", "message": "division by zero",
              "traceback": "Traceback (most recent call last):\\n  ..."}}

While debug is on the plugin registers :class:`CallTracer` (``debug.tracer``)
and times every hook call with pluggy's own hook-call monitoring
(``PluginManager.add_hookcall_monitoring``). The trace names, for each hook of
the call, the plugins implementing it in calling order, and how long each
hook call took (``hook_ms``; for an async implementation, until it returned
its coroutine).
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable

import pluggy
from pluggy import HookImpl, Result

from ..hookspecs import hookimpl
from ..logs import make_logger, user_traceback
from ..protocol import NO_ID

if TYPE_CHECKING:
    from ..connection import Connection
    from ..errors import RPCError
    from ..kernel import RPCKernel
    from ..protocol import Request

__all__ = ["Debug", "CallTracer", "TRACER_NAME", "LOGGER_NAME", "traceback_data", "hooks_of_call"]

#: The stdlib logger trace lines go to.
LOGGER_NAME = "sidegears.debug"


class _Call:
    """What the debug hooks learn about one call between before_dispatch and after_dispatch."""

    __slots__ = ("message", "method", "failed", "hook_seconds", "started")

    def __init__(self, message: Request | None, method: str) -> None:
        self.message = message  # None until before_dispatch: the record begins at the method's lookup
        self.method = method  # as received: a before_dispatch hook may rename the message
        self.failed = False
        #: hook name -> seconds, for each hook the call went through.
        self.hook_seconds: dict[str, float] = {}
        self.started: list[float] = []  # start times of the hook calls in progress (they may nest)


# The call being dispatched (each call runs in its own context, as a task would):
# find_method or before_dispatch sets it, on_method_error and after_dispatch read it.
_current_call: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("sidegears_debug_call", default=None)


def _hook_call_started(hook_name: str, hook_impls: Sequence[HookImpl], kwargs: Mapping[str, Any]) -> None:
    """pluggy's monitoring, before each hook call: a call's record begins at its find_method (or before_dispatch)."""
    call = _current_call.get()
    if hook_name == "find_method" and call is None:
        call = _Call(None, kwargs["name"])
        _current_call.set(call)
    elif hook_name == "before_dispatch":
        message = kwargs["message"]
        if call is not None and call.message is None:
            call.message = message
        elif call is None or call.message is not message:
            call = _Call(message, message.method)
            _current_call.set(call)
    if call is not None:
        call.started.append(time.perf_counter())


def _hook_call_ended(outcome: Result[Any], hook_name: str, hook_impls: Sequence[HookImpl], kwargs: Mapping[str, Any]) -> None:
    """pluggy's monitoring, after each hook call: add its duration to the call's record."""
    call = _current_call.get()
    if call is not None and call.started:
        seconds = time.perf_counter() - call.started.pop()
        call.hook_seconds[hook_name] = call.hook_seconds.get(hook_name, 0.0) + seconds


def traceback_data(exception: BaseException) -> dict[str, str]:
    """The ``error.data`` sent in debug mode: the exception's type name, its message and its traceback from the user's code."""
    return {"type": type(exception).__qualname__, "message": str(exception), "traceback": user_traceback(exception)}


def hooks_of_call(pm: pluggy.PluginManager, notification: bool, failed: bool) -> dict[str, list[str]]:
    """For each per-call hook a call goes through, the plugins implementing it, in calling order.

    Hooks nobody implements are left out. ``on_notify`` counts for
    notifications only, ``on_method_error`` only when the method raised.
    ``find_method`` stops at the first plugin that answers, so later
    plugins in its list may not have run.
    """
    names = ["before_dispatch"]
    if notification:
        names.append("on_notify")
    names.append("find_method")
    if failed:
        names.append("on_method_error")
    names.append("after_dispatch")
    hooks = {}
    for name in names:
        # get_hookimpls() lists in registration order, tryfirst last; calls go the other way.
        plugins = [impl.plugin_name for impl in reversed(getattr(pm.hook, name).get_hookimpls())]
        if plugins:
            hooks[name] = plugins
    return hooks


class CallTracer:
    """Per-call tracing: registered only while debug is on, so off costs nothing per message.

    Its ``before_dispatch`` makes the kernel call that hook, where the
    monitoring starts the call's record.

    Both are tryfirst: ``before_dispatch`` sees every call, even one that a
    later implementation answers or rejects, and ``after_dispatch`` writes the
    trace line even if another implementation raises.
    """

    def __init__(self, kernel: RPCKernel) -> None:
        self.log = make_logger(LOGGER_NAME, kernel.log_format)
        self.stdlib_logger = logging.getLogger(LOGGER_NAME)  # protected by make_logger above

    @hookimpl(tryfirst=True)
    def before_dispatch(self) -> None:
        # Only there so that the kernel calls before_dispatch: the monitoring,
        # registered with this tracer, starts the call's record as it does.
        return None  # anything else would answer the call

    @hookimpl(tryfirst=True)
    def after_dispatch(
        self,
        kernel: RPCKernel, connection: Connection, message: Request, error: RPCError | None, duration: float
    ) -> None:
        call = _current_call.get()
        _current_call.set(None)
        if call is not None and call.message is not message:
            call = None  # debug was turned on during this call: before_dispatch did not see it
        if not self.stdlib_logger.isEnabledFor(logging.DEBUG):
            return
        notification = message.id is NO_ID
        fields: dict[str, Any] = {
            "kind": "notification" if notification else "request",
            "method": message.method,
        }
        if call is not None and call.method != message.method:
            fields["received_as"] = call.method
        if not notification:
            fields["id"] = message.id
        fields["connection"] = connection.id
        fields["duration_ms"] = round(duration * 1000, 3)
        fields["outcome"] = "result" if error is None else f"error {error.code}"
        fields["hooks"] = hooks_of_call(kernel.plugin_manager, notification, call is not None and call.failed)
        if call is not None:
            fields["hook_ms"] = {key: round(seconds * 1000, 4) for key, seconds in call.hook_seconds.items()}
        self.log.debug("call", **fields)


TRACER_NAME = "debug.tracer"


class Debug:
    """The bundled ``debug`` plugin of one kernel: tracebacks in ``error.data``, and the call tracer while debug is on."""

    def __init__(self) -> None:
        self._log: Any = None
        self._stop_monitoring: Callable[[], None] | None = None

    def logger(self, kernel: RPCKernel) -> Any:
        if self._log is None:
            self._log = make_logger(LOGGER_NAME, kernel.log_format)
        return self._log

    @hookimpl
    def on_startup(self, kernel: RPCKernel) -> None:
        if not kernel.debug or not logging.getLogger(LOGGER_NAME).isEnabledFor(logging.DEBUG):
            return
        pm = kernel.plugin_manager
        plugins = {
            name: sorted(caller.name for caller in pm.get_hookcallers(plugin) or ())
            for name, plugin in pm.list_name_plugin()
            if plugin is not None  # a blocked name is listed with None
        }
        self.logger(kernel).debug("plugins", url=kernel.url, plugins=plugins)

    @hookimpl
    def on_method_error(
        self,
        kernel: RPCKernel, connection: Connection, message: Request, exception: BaseException, error: RPCError
    ) -> None:
        if not kernel.debug:
            return
        details = traceback_data(exception)
        if error.data is None:
            error.data = details
        elif isinstance(error.data, dict):  # another plugin set data first: add, do not overwrite
            for key, value in details.items():
                error.data.setdefault(key, value)
        call = _current_call.get()
        if call is not None and call.message is message:
            call.failed = True
        self.logger(kernel).debug(
            "traceback sent to client",
            method=message.method,
            id=None if message.id is NO_ID else message.id,
            connection=connection.id,
            exception=details["type"],
        )

    @hookimpl
    def on_settings_changed(self, kernel: RPCKernel, name: str, value: Any) -> None:
        if name != "debug":
            return
        pm = kernel.plugin_manager
        if not pm.register_while(bool(value), TRACER_NAME, lambda: CallTracer(kernel)):
            return
        if value:
            self._stop_monitoring = pm.add_hookcall_monitoring(_hook_call_started, _hook_call_ended)
        elif self._stop_monitoring is not None:
            self._stop_monitoring()
            self._stop_monitoring = None
