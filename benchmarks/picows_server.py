"""The picows anchor: a picows websocket server on uvloop answering the benchmark methods.

picows parses and frames websocket messages in Cython and hands whole frames
to a callback: no coroutine, no task, no queue per message. Above it this
server does what the baseline does (``json.loads``, an if/elif on the method,
``json.dumps``), so it shows what the websocket layer costs a Python server at
best. It runs on uvloop (always: the anchor is picows+uvloop). Needs the
``bench`` extra (``pip install 'sidegears[bench]'``: picows and uvloop).
Run ``python -m benchmarks.picows_server --help``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_create_server

from benchmarks.serving import (
    MAX_MESSAGE_SIZE,
    announce,
    process_stats,
    run_server,
    server_arguments,
    wait_for_stop,
)

connections: set[WSTransport] = set()


def notify_all(method: str, params: Any) -> None:
    """Push one JSON-RPC notification to every connected client."""
    text = json.dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode()
    for transport in connections:
        transport.send(WSMsgType.TEXT, text)


def notify_burst(n: int) -> int:
    for i in range(n):
        notify_all("burst", {"i": i})
    return n


def notify_after(delay_ms: float, thread: bool = False) -> None:
    loop = asyncio.get_running_loop()

    def fire() -> None:
        notify_all("timer", {"fired": time.monotonic()})

    if thread:
        def fire_from_thread() -> None:
            fired = time.monotonic()
            loop.call_soon_threadsafe(notify_all, "timer", {"fired": fired})

        threading.Timer(delay_ms / 1000, fire_from_thread).start()
    else:
        loop.call_later(delay_ms / 1000, fire)


def dispatch(message: Any) -> dict[str, Any] | None:
    """Answer one request, or return None for a notification (as the baseline's dispatch)."""
    if not isinstance(message, dict):
        return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request"}}
    method = message.get("method")
    params = message.get("params", [])
    args = params if isinstance(params, list) else []
    kwargs = params if isinstance(params, dict) else {}
    error: dict[str, Any] | None = None
    result: Any = None
    try:
        if method == "echo":
            result = args[0] if args else kwargs["x"]
        elif method == "add":
            result = args[0] + args[1] if args else kwargs["a"] + kwargs["b"]
        elif method == "notify_burst":
            result = notify_burst(*args, **kwargs)
        elif method == "notify_after":
            notify_after(*args, **kwargs)
        elif method == "bench.stats":
            result = process_stats()
        else:
            error = {"code": -32601, "message": "Method not found"}
    except (TypeError, KeyError, IndexError) as exc:
        error = {"code": -32602, "message": f"Invalid params: {exc}"}
    if "id" not in message:
        return None
    if error is not None:
        return {"jsonrpc": "2.0", "id": message["id"], "error": error}
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


class Handler(WSListener):  # type: ignore[misc]
    """One connection: assembles text messages, answers each with one text frame."""

    def __init__(self) -> None:
        self.parts: list[bytes] | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        connections.add(transport)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        connections.discard(transport)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is WSMsgType.TEXT:
            if frame.fin:
                self.answer(transport, frame.get_payload_as_bytes())
            else:
                self.parts = [frame.get_payload_as_bytes()]
        elif kind is WSMsgType.CONTINUATION and self.parts is not None:
            self.parts.append(frame.get_payload_as_bytes())
            if frame.fin:
                data, self.parts = b"".join(self.parts), None
                self.answer(transport, data)
        elif kind is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()
        elif kind is WSMsgType.BINARY:
            transport.send_close(WSCloseCode.UNSUPPORTED_DATA, b"binary frames are not supported")
            transport.disconnect()

    def answer(self, transport: WSTransport, data: bytes) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            reply: Any = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
        else:
            if isinstance(message, list):
                reply = [r for r in map(dispatch, message) if r is not None] or None
            else:
                reply = dispatch(message)
        if reply is not None:
            transport.send(WSMsgType.TEXT, json.dumps(reply).encode())


def main() -> None:
    args = server_arguments(__doc__.splitlines()[0]).parse_args()
    if args.compression != "none":
        raise SystemExit("picows_server: permessage-deflate is not supported")
    args.uvloop = True

    async def serve_until_stopped() -> None:
        server = await ws_create_server(
            lambda request: Handler(), args.host, args.port,
            max_frame_size=MAX_MESSAGE_SIZE + 2**20,
            websocket_handshake_timeout=30,
        )
        async with server:
            announce(server.sockets[0].getsockname()[1])
            await wait_for_stop()

    run_server(serve_until_stopped, args)


if __name__ == "__main__":
    main()
