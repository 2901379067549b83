"""Message logging: one INFO line per JSON-RPC message in and out, with long values trimmed.

Active while ``kernel.basic_logging`` is True (``kernel.set_basic_logging()``):
the plugin registers its ``log_message`` implementation (:class:`MessageWriter`,
as ``message_log.writer``) only then, so logging off costs nothing per
message, while another plugin's ``log_message`` sees every message always. Lines go to the stdlib logger
``sidegears.messages``, rendered by structlog as ``key=value`` text, or as one
JSON object per line with ``RPCKernel(log_format="json")`` or the environment
variable ``SIDEGEARS_LOG_FORMAT=json``. Fields, in order: ``direction``
(``in``/``out``), ``connection`` (its id, or ``"all"`` for a broadcast),
``kind``, ``method`` and ``id`` (``count`` for a batch), ``size`` (bytes on
the wire), ``duration_ms`` (replies only), then the content: ``params``,
``result``, ``error``, ``batch`` or ``content`` (an invalid message).

While ``kernel.trim_log_values`` is True the content passes through
:func:`trim_value`, so a 10 MB payload logs as a short line. See
``docs/logging.md``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from ..hookspecs import hookimpl
from ..logs import make_logger

if TYPE_CHECKING:
    from ..connection import Connection
    from ..kernel import RPCKernel

__all__ = ["MessageLog", "MessageWriter", "WRITER_NAME", "LOGGER_NAME", "MAX_STRING_CHARS", "MAX_ITEMS", "MAX_DEPTH", "trim_value", "message_fields"]

#: The stdlib logger message lines go to.
LOGGER_NAME = "sidegears.messages"

#: A longer string is cut to this many characters, followed by ``...(12345 chars)``.
MAX_STRING_CHARS = 80
#: A longer list keeps this many items, then a ``...(12345 items)`` marker item;
#: a larger object keeps this many keys, then a ``"...": "(12345 keys)"`` entry.
MAX_ITEMS = 10
#: Levels of lists and objects shown (the logged value itself is the first);
#: a deeper one is replaced by ``[...(N items)]`` or ``{...(N keys)}``.
MAX_DEPTH = 4

# The message keys that carry content, logged as fields of the same name.
_CONTENT_KEYS = ("params", "result", "error")



def trim_value(
    value: Any,
    *,
    max_chars: int = MAX_STRING_CHARS,
    max_items: int = MAX_ITEMS,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """A shortened copy of a JSON value, for logging; the work is bounded by what is kept, not by the input size.

    Strings longer than ``max_chars`` become their first ``max_chars``
    characters plus ``...(N chars)``; lists longer than ``max_items`` keep
    their first items plus a ``...(N items)`` marker; objects keep their
    first ``max_items`` keys plus ``"...": "(N keys)"``; at most ``max_depth``
    levels of lists and objects are kept (``value`` itself is the first), a
    deeper one becomes ``[...(N items)]`` or ``{...(N keys)}``. Other values
    are returned as they are.
    """
    return _trim(value, max_chars, max_items, max_depth)


def _trim(value: Any, max_chars: int, max_items: int, depth_left: int) -> Any:
    if isinstance(value, str):
        if len(value) > max_chars:
            return f"{value[:max_chars]}...({len(value)} chars)"
        return value
    if isinstance(value, (list, tuple)):
        if depth_left <= 0:
            return f"[...({len(value)} items)]"
        items = [_trim(item, max_chars, max_items, depth_left - 1) for item in value[:max_items]]
        if len(value) > max_items:
            items.append(f"...({len(value)} items)")
        return items
    if isinstance(value, dict):
        if depth_left <= 0:
            return f"{{...({len(value)} keys)}}"
        trimmed: dict[Any, Any] = {}
        for count, (key, item) in enumerate(value.items()):
            if count == max_items:
                trimmed["..."] = f"({len(value)} keys)"
                break
            trimmed[_trim(key, max_chars, max_items, 0)] = _trim(item, max_chars, max_items, depth_left - 1)
        return trimmed
    return value


def _kind(message: Any) -> str:
    if isinstance(message, list):
        return "batch"
    if not isinstance(message, dict):
        return "invalid"
    if "method" in message:
        return "request" if "id" in message else "notification"
    if "error" in message:
        return "error"
    if "result" in message:
        return "response"
    return "invalid"


def _as_is(value: Any) -> Any:
    return value


def message_fields(
    message: Any, direction: str, connection_id: int | str, size: int, duration: float | None, trim: bool
) -> dict[str, Any]:
    """The fields of one log line for ``message`` (no I/O; see the module docstring for their order)."""
    kind = _kind(message)
    shown: Callable[[Any], Any] = trim_value if trim else _as_is
    fields: dict[str, Any] = {"direction": direction, "connection": connection_id, "kind": kind}
    if isinstance(message, dict):
        if "method" in message:
            fields["method"] = shown(message["method"])
        if "id" in message:
            fields["id"] = shown(message["id"])
    elif isinstance(message, list):
        fields["count"] = len(message)
    fields["size"] = size
    if duration is not None:
        fields["duration_ms"] = round(duration * 1000, 3)
    if isinstance(message, dict):
        for key in _CONTENT_KEYS:
            if key in message:
                fields[key] = shown(message[key])
        if kind == "invalid":
            fields["content"] = shown(message)
    elif isinstance(message, list):
        fields["batch"] = shown(message)
    else:
        fields["content"] = shown(message)
    return fields


#: The name the writer is registered under while message logging is on.
WRITER_NAME = "message_log.writer"


class MessageWriter:
    """The ``log_message`` implementation: one INFO line per message, registered only while logging is on."""

    def __init__(self, kernel: RPCKernel) -> None:
        self.log = make_logger(LOGGER_NAME, kernel.log_format)
        self.stdlib_logger = logging.getLogger(LOGGER_NAME)

    @hookimpl
    def log_message(
        self,
        kernel: RPCKernel,
        connection: Connection | None,
        direction: str,
        message: Any,
        size: int,
        duration: float | None,
    ) -> None:
        # Skip building the fields (and rendering a possibly huge line) when nobody listens.
        if not self.stdlib_logger.isEnabledFor(logging.INFO):
            return
        connection_id: int | str = "all" if connection is None else connection.id
        fields = message_fields(message, direction, connection_id, size, duration, kernel.trim_log_values)
        self.log.info("message", **fields)


class MessageLog:
    """The bundled ``message_log`` plugin: registers a :class:`MessageWriter` while basic logging is on."""

    @hookimpl
    def on_settings_changed(self, kernel: RPCKernel, name: str, value: Any) -> None:
        if name == "basic_logging":
            kernel.plugin_manager.register_while(bool(value), WRITER_NAME, lambda: MessageWriter(kernel))
