"""The connected client as plugins and methods see it: :class:`Connection`, and :func:`current_connection`."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from . import protocol
from .session import current_connection

if TYPE_CHECKING:
    from websockets.http11 import Request as HTTPRequest

    from .kernel import RPCKernel
    from .session import RPCSession
    from .transport import WebSocketTransport

__all__ = ["Connection", "current_connection"]

_ids = itertools.count(1)


class Connection:
    """A connected client.

    Plugins receive it in hooks; ``sidegears.current_connection()`` gives it
    inside a method. Useful attributes: ``id`` (unique in the process),
    ``remote_address``, ``request`` (the HTTP handshake request: ``path``,
    ``headers``), ``state`` (a dict where plugins keep per-connection data),
    ``transport`` (the websocket) and ``session`` (its JSON-RPC state).
    """

    def __init__(self, kernel: RPCKernel, transport: WebSocketTransport) -> None:
        self.kernel = kernel
        self.transport = transport
        self.session: RPCSession | None = None  # set by the transport right after
        self.id: int = next(_ids)
        self.state: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<Connection {self.id} from {self.remote_address}>"

    @property
    def remote_address(self) -> Any:
        """The client's (host, port)."""
        return self.transport.remote_address

    @property
    def request(self) -> HTTPRequest | None:
        """The HTTP request of the opening handshake."""
        return self.transport.request

    @property
    def close_info(self) -> tuple[int | None, str]:
        """The close code and reason that ended the connection (see :attr:`WebSocketTransport.close_info`)."""
        return self.transport.close_info

    @property
    def in_flight(self) -> int:
        """How many incoming messages (requests or batches) are waiting for something right now."""
        return 0 if self.session is None else self.session.in_flight

    def send_notification(self, method: str, params: protocol.Params = None) -> None:
        """Send a notification to this client only; from any thread, like ``kernel.send_notification``."""
        self.kernel.notify([self], method, params)

    async def call(self, method: str, params: protocol.Params = None, timeout: float | None = None) -> Any:
        """Send a request to this client and return its result (kernel -> client).

        Raises :class:`~sidegears.errors.RPCError` with the client's error,
        :class:`~sidegears.errors.ClientGone` when the connection closes
        first, and ``TimeoutError`` after ``timeout`` seconds.
        """
        assert self.session is not None
        return await self.session.call(method, params, timeout)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection with a websocket close code; return once it is closed."""
        self.transport.close(code, reason)
        await self.transport.wait_closed()
