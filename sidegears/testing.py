"""Test helpers for SideGears applications and plugins: a real kernel on port 0 and a real client.

It needs pytest and pytest-asyncio (``pip install 'sidegears[test]'``).
Enable the fixtures in a ``conftest.py``::

    pytest_plugins = ["sidegears.testing"]

then::

    async def test_multiply(kernel, rpc):
        assert await rpc.call("multiply", [6, 7]) == 42

``kernel`` is an :class:`~sidegears.kernel.RPCKernel` serving on 127.0.0.1
with a free port, on the test's event loop (pytest-asyncio), with the
per-launch token turned off; ``rpc`` is an :class:`RPCTestClient` connected
to it. Build your own with :func:`running_kernel` and :class:`RPCTestClient`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

try:
    import pytest_asyncio
except ImportError as exc:  # pragma: no cover - a runtime install without the test extra
    raise ImportError(
        "sidegears.testing needs pytest-asyncio (and pytest): pip install 'sidegears[test]'"
    ) from exc
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from .errors import RPCError
from .kernel import RPCKernel

__all__ = ["running_kernel", "RPCTestClient", "refusal_code", "kernel", "rpc"]


@asynccontextmanager
async def running_kernel(plugins: Iterable[Any] = (), **options: Any) -> AsyncIterator[RPCKernel]:
    """A kernel serving on 127.0.0.1 with a free port for the duration of the block.

    ``plugins`` are registered before it starts, so that what it does at
    start (on_startup, preparing the methods the plugins list) sees them.
    """
    options.setdefault("token", False)
    close_on_disconnect = options.pop("close_on_disconnect", False)
    kernel = RPCKernel(**options)
    for plugin in plugins:
        kernel.register_plugin(plugin)
    await kernel.astart("127.0.0.1", 0, close_on_disconnect=close_on_disconnect)
    try:
        yield kernel
    finally:
        await kernel.astop()


async def refusal_code(url: str, **connect_options: Any) -> int:
    """How the kernel at ``url`` refuses a client: the HTTP status of the handshake (403 for a foreign
    Origin or Host), or the close code sent right after it (4001 for a missing or wrong token).

    ``connect_options`` go to websockets' ``connect`` (``origin=``, ``additional_headers=``).
    Raises AssertionError when the kernel serves the client instead.
    """
    try:
        async with connect(url, **connect_options) as websocket:
            await websocket.send('{"jsonrpc": "2.0", "id": 1, "method": "rpc.refusal_probe"}')
            answer = await asyncio.wait_for(websocket.recv(), 10)
    except InvalidStatus as exc:
        return exc.response.status_code
    except ConnectionClosed as exc:
        if exc.rcvd is None:
            raise AssertionError(f"the connection dropped without a close code: {exc}") from exc
        return exc.rcvd.code
    raise AssertionError(f"not refused: the kernel answered {answer!r}")


class RPCTestClient:
    """A minimal JSON-RPC client over a real websocket, for tests.

    ``call`` sends a request and returns its result (raising
    :class:`RPCError` for an error reply); notifications the kernel sends
    meanwhile are collected in ``notifications``.
    """

    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket
        self.notifications: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._replies: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    @asynccontextmanager
    async def connect(cls, url: str, **kwargs: Any) -> AsyncIterator[RPCTestClient]:
        """Connect to ``url``; the client closes at the end of the block."""
        async with connect(url, **kwargs) as websocket:
            client = cls(websocket)
            try:
                yield client
            finally:
                client.close()

    def close(self) -> None:
        """Stop reading (the websocket itself closes with the ``connect`` block)."""
        self._reader.cancel()

    async def _read(self) -> None:
        async for text in self.websocket:
            message = json.loads(text)
            if isinstance(message, dict) and "method" in message and "id" not in message:
                await self.notifications.put(message)
            elif isinstance(message, dict) and message.get("id") in self._replies:
                self._replies.pop(message["id"]).set_result(message)

    async def request(self, method: str, params: Any = None) -> dict[str, Any]:
        """Send a request and return the whole reply object."""
        msg_id = next(self._ids)
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": msg_id}
        if params is not None:
            message["params"] = params
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[msg_id] = future
        await self.websocket.send(json.dumps(message))
        return await asyncio.wait_for(future, 10)

    async def call(self, method: str, params: Any = None) -> Any:
        """Send a request; return its result or raise its error as :class:`RPCError`."""
        reply = await self.request(method, params)
        if "error" in reply:
            error = reply["error"]
            raise RPCError(error["code"], error["message"], error.get("data"))
        return reply["result"]

    async def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self.websocket.send(json.dumps(message))

    async def next_notification(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next notification the kernel sent."""
        return await asyncio.wait_for(self.notifications.get(), timeout)


@pytest_asyncio.fixture
async def kernel() -> AsyncIterator[RPCKernel]:
    """A running kernel on 127.0.0.1, free port, token off."""
    async with running_kernel() as running:
        yield running


@pytest_asyncio.fixture
async def rpc(kernel: RPCKernel) -> AsyncIterator[RPCTestClient]:
    """A test client connected to the ``kernel`` fixture."""
    assert kernel.url is not None
    async with RPCTestClient.connect(kernel.url) as client:
        yield client

