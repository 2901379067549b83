"""The SideGears exception tree.

::

    SidegearsError
    ├── RPCError                  an error a client receives as a JSON-RPC error object
    │   ├── ParseError            -32700  the text is not JSON
    │   ├── InvalidRequest        -32600  JSON, but not a JSON-RPC 2.0 request
    │   ├── MethodNotFound        -32601  no plugin knows the method
    │   ├── InvalidParams         -32602  the params do not fit the method's signature
    │   ├── InternalError         -32603  the method (or the kernel) failed
    │   ├── CallCancelled         -32800  the caller cancelled the call ($/cancelRequest, as in LSP)
    │   └── ServerError           -32000 to -32099, kernel-defined:
    │       ├── RequestCancelled  -32000  the kernel stopped before the call finished
    │       └── ClientGone        -32001  a kernel->client call lost its connection
    └── PluginError               a plugin could not be loaded or registered

A method raises :class:`RPCError` (or a subclass) to send its own error; any other
exception becomes :class:`InternalError`.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

__all__ = [
    "ErrorCode",
    "SidegearsError",
    "RPCError",
    "ParseError",
    "InvalidRequest",
    "MethodNotFound",
    "InvalidParams",
    "InternalError",
    "CallCancelled",
    "ServerError",
    "RequestCancelled",
    "ClientGone",
    "PluginError",
    "PortInUseError",
]


class ErrorCode(IntEnum):
    """The JSON-RPC 2.0 standard codes, plus the kernel's own server errors."""

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    CALL_CANCELLED = -32800
    REQUEST_CANCELLED = -32000
    CLIENT_GONE = -32001


class SidegearsError(Exception):
    """Base class of every exception SideGears raises."""


class RPCError(SidegearsError):
    """An error sent to the client as a JSON-RPC error object.

    ``code`` is an integer (the JSON-RPC 2.0 specification reserves -32768 to
    -32000; applications should use other values), ``message`` a short
    sentence, ``data`` any JSON value (or None to leave it out).
    """

    default_code: int = ErrorCode.INTERNAL_ERROR
    default_message: str = "Internal error"

    def __init__(self, code: int | None = None, message: str | None = None, data: Any = None) -> None:
        self.code = int(self.default_code if code is None else code)
        self.message = self.default_message if message is None else str(message)
        self.data = data
        super().__init__(self.code, self.message)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-RPC ``error`` object."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error

    def __str__(self) -> str:
        return f"{self.message} ({self.code})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, message={self.message!r}, data={self.data!r})"


class _StandardError(RPCError):
    """A standard error: constructed from a message (and data) alone."""

    def __init__(self, message: str | None = None, data: Any = None) -> None:
        super().__init__(None, message, data)


class ParseError(_StandardError):
    """The message is not valid JSON (-32700)."""

    default_code = ErrorCode.PARSE_ERROR
    default_message = "Parse error"


class InvalidRequest(_StandardError):
    """The JSON is not a valid JSON-RPC 2.0 request object (-32600)."""

    default_code = ErrorCode.INVALID_REQUEST
    default_message = "Invalid Request"


class MethodNotFound(_StandardError):
    """No plugin provides the method (-32601)."""

    default_code = ErrorCode.METHOD_NOT_FOUND
    default_message = "Method not found"


class InvalidParams(_StandardError):
    """The params do not match the method's signature (-32602)."""

    default_code = ErrorCode.INVALID_PARAMS
    default_message = "Invalid params"


class InternalError(_StandardError):
    """The method raised, or its result could not be encoded (-32603)."""

    default_code = ErrorCode.INTERNAL_ERROR
    default_message = "Internal error"


class CallCancelled(_StandardError):
    """The caller cancelled the call with ``$/cancelRequest`` (-32800, the Language Server Protocol's code)."""

    default_code = ErrorCode.CALL_CANCELLED
    default_message = "Request cancelled"


class ServerError(_StandardError):
    """Kernel-defined errors in the reserved range -32000 to -32099."""

    default_code = -32099
    default_message = "Server error"


class RequestCancelled(ServerError):
    """The kernel stopped (or the call was cancelled) before the method finished."""

    default_code = ErrorCode.REQUEST_CANCELLED
    default_message = "Request cancelled"


class ClientGone(ServerError):
    """A kernel->client call could not finish because the connection closed."""

    default_code = ErrorCode.CLIENT_GONE
    default_message = "Client disconnected"


class PluginError(SidegearsError):
    """A plugin could not be imported or registered; the message names it."""


class PortInUseError(SidegearsError, OSError):
    """The kernel's port is taken by another program. ``port``, ``host``, and ``holder``: the program, when known.

    Still an :class:`OSError` (``errno`` EADDRINUSE), as before it had a name.
    """

    def __init__(self, host: str, port: int, errno: int, holder: str | None = None) -> None:
        by = f" by {holder}" if holder else ""
        message = (
            f"port {port} on {host} is already in use{by}: stop that program, or choose another port "
            "(--port 0, or start(port=0), picks a free one)"
        )
        super().__init__(errno, message)
        self.host = host
        self.port = port
        self.holder = holder

    def __str__(self) -> str:
        return str(self.strerror)
