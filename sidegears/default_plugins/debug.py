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

The kernel calls the per-message hooks from its own cached table (see
``sidegears.hook_calls``), not through pluggy, so pluggy's hook-call
monitoring would see none of them. The trace therefore names, for each hook
of the call, the plugins implementing it in the order the kernel calls them.
"""

from __future__ import annotations

import contextvars
import logging
import traceback
from typing import TYPE_CHECKING, Any

import pluggy

from ..hookspecs import hookimpl
from ..logs import logger_for
from ..protocol import NO_ID

if TYPE_CHECKING:
    from ..connection import Connection
    from ..errors import RPCError
    from ..kernel import RPCKernel
    from ..protocol import Request

__all__ = ["LOGGER_NAME", "traceback_data", "hooks_of_call"]

#: The stdlib logger trace lines go to.
LOGGER_NAME = "sidegears.debug"


class _Call:
    """What the debug hooks learn about one call between before_dispatch and after_dispatch."""

    __slots__ = ("message", "method", "failed", "hook_seconds")

    def __init__(self, message: Request) -> None:
        self.message = message
        self.method = message.method  # as received: a before_dispatch hook may rename the message
        self.failed = False
        #: "hook:plugin" -> seconds, for each hook implementation the call went through.
        self.hook_seconds: dict[str, float] = {}


# The call being dispatched (each call runs in its own context, as a task would):
# before_dispatch sets it, on_method_error and after_dispatch read it.
_current_call: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("sidegears_debug_call", default=None)


def _record_hook(hook: str, plugin: str, seconds: float) -> None:
    call = _current_call.get()
    if call is not None:
        key = f"{hook}:{plugin}"
        call.hook_seconds[key] = call.hook_seconds.get(key, 0.0) + seconds


def traceback_data(exception: BaseException) -> dict[str, str]:
    """The ``error.data`` sent in debug mode: the exception's type name, its message and its formatted traceback."""
    return {
        "type": type(exception).__qualname__,
        "message": str(exception),
        "traceback": "".join(traceback.format_exception(type(exception), exception, exception.__traceback__)),
    }


def hooks_of_call(pm: pluggy.PluginManager, notification: bool, failed: bool) -> dict[str, list[str]]:
    """For each per-call hook a call goes through, the plugins implementing it, in calling order.

    Hooks nobody implements are left out. ``on_notify`` counts for
    notifications only, ``on_method_error`` only when the method raised.
    ``before_dispatch`` and ``find_method`` stop at the first plugin that
    answers, so later plugins in their lists may not have run.
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


def _logger_for(kernel: RPCKernel) -> tuple[Any, logging.Logger]:
    return logger_for(kernel, LOGGER_NAME)


@hookimpl
def on_startup(kernel: RPCKernel) -> None:
    if not kernel.debug:
        return
    log, stdlib_logger = _logger_for(kernel)
    if stdlib_logger.isEnabledFor(logging.DEBUG):
        pm = kernel.plugin_manager
        plugins = {
            name: sorted(caller.name for caller in pm.get_hookcallers(plugin) or ())
            for name, plugin in pm.list_name_plugin()
            if plugin is not None  # a blocked name is listed with None
        }
        log.debug("plugins", url=kernel.url, plugins=plugins)


@hookimpl
def on_method_error(
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
    log, _ = _logger_for(kernel)
    log.debug(
        "traceback sent to client",
        method=message.method,
        id=None if message.id is NO_ID else message.id,
        connection=connection.id,
        exception=details["type"],
    )


class CallTracer:
    """Per-call tracing: registered only while debug is on, so off costs nothing per message.

    Both are tryfirst: ``before_dispatch`` sees every call, even one that a
    later implementation answers or rejects, and ``after_dispatch`` writes the
    trace line even if another implementation raises.
    """

    @hookimpl(tryfirst=True)
    def before_dispatch(self, kernel: RPCKernel, message: Request) -> None:
        if not kernel.debug:
            return None
        _current_call.set(_Call(message))
        return None  # before_dispatch is a first-result hook: anything else would answer the call

    @hookimpl(tryfirst=True)
    def after_dispatch(
        self,
        kernel: RPCKernel, connection: Connection, message: Request, error: RPCError | None, duration: float
    ) -> None:
        if not kernel.debug:
            return
        call = _current_call.get()
        _current_call.set(None)
        if call is not None and call.message is not message:
            call = None  # debug was turned on during this call: before_dispatch did not see it
        log, stdlib_logger = _logger_for(kernel)
        if not stdlib_logger.isEnabledFor(logging.DEBUG):
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
        log.debug("call", **fields)


TRACER_NAME = "debug.tracer"


@hookimpl
def on_settings_changed(kernel: RPCKernel, name: str, value: Any) -> None:
    if name != "debug":
        return
    pm = kernel.plugin_manager
    if value and not pm.has_plugin(TRACER_NAME):
        pm.register(CallTracer(), name=TRACER_NAME)
        kernel.set_hook_tracer(_record_hook)
    elif not value and pm.has_plugin(TRACER_NAME):
        pm.unregister(name=TRACER_NAME)
        kernel.set_hook_tracer(None)
