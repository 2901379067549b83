"""SideGears: a Python kernel speaking JSON-RPC 2.0 over a websocket to an HTML/JavaScript UI.

Quick start::

    from sidegears import RPCKernel, rpc_method

    @rpc_method
    def multiply(a, b):
        return a * b

    kernel = RPCKernel()
    kernel.start(port=5678)
    kernel.wait_until_closed()
"""

from .connection import Connection, current_connection
from .session import report_progress
from .registry import rpc_method
from .errors import (
    CallCancelled,
    ErrorCode,
    InternalError,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    ParseError,
    PluginError,
    PortInUseError,
    RPCError,
    SidegearsError,
)
from .hookspecs import hookimpl
from .kernel import RPCKernel

__version__ = "0.2.0"

__all__ = [
    "RPCKernel",
    "rpc_method",
    "Connection",
    "current_connection",
    "report_progress",
    "hookimpl",
    "RPCError",
    "ErrorCode",
    "SidegearsError",
    "ParseError",
    "InvalidRequest",
    "MethodNotFound",
    "InvalidParams",
    "InternalError",
    "CallCancelled",
    "PluginError",
    "PortInUseError",
    "__version__",
]
