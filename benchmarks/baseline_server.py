"""The baseline: a bare websockets server answering the benchmark methods by hand.

It does what any hand-written JSON-RPC server does and nothing more:
``json.loads``, an if/elif on the method, ``json.dumps``. The kernel is
measured against it. Run ``python -m benchmarks.baseline_server --help``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve

from benchmarks.serving import (
    MAX_MESSAGE_SIZE,
    announce,
    process_stats,
    run_server,
    server_arguments,
    wait_for_stop,
)

connections: set[ServerConnection] = set()


def notify_all(method: str, params: Any) -> None:
    """Push one JSON-RPC notification to every connected client."""
    broadcast(connections, json.dumps({"jsonrpc": "2.0", "method": method, "params": params}))


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
    """Answer one request, or return None for a notification."""
    if not isinstance(message, dict):
        return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request"}}
    error: dict[str, Any] | None
    method = message.get("method")
    params = message.get("params", [])
    args = params if isinstance(params, list) else []
    kwargs = params if isinstance(params, dict) else {}
    try:
        if method == "echo":
            result: Any = args[0] if args else kwargs["x"]
        elif method == "add":
            result = args[0] + args[1] if args else kwargs["a"] + kwargs["b"]
        elif method == "notify_burst":
            result = notify_burst(*args, **kwargs)
        elif method == "notify_after":
            notify_after(*args, **kwargs)
            result = None
        elif method == "bench.stats":
            result = process_stats()
        else:
            if "id" not in message:
                return None
            return {
                "jsonrpc": "2.0",
                "id": message["id"],
                "error": {"code": -32601, "message": "Method not found"},
            }
    except (TypeError, KeyError, IndexError) as exc:
        result, error = None, {"code": -32602, "message": f"Invalid params: {exc}"}
    else:
        error = None
    if "id" not in message:
        return None
    if error is not None:
        return {"jsonrpc": "2.0", "id": message["id"], "error": error}
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


async def handle(connection: ServerConnection) -> None:
    connections.add(connection)
    try:
        async for text in connection:
            if isinstance(text, bytes):
                await connection.close(1003, "binary frames are not supported")
                return
            try:
                message = json.loads(text)
            except ValueError:
                reply: Any = {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32700, "message": "Parse error"},
                }
            else:
                if isinstance(message, list):
                    reply = [r for r in map(dispatch, message) if r is not None] or None
                else:
                    reply = dispatch(message)
            if reply is not None:
                await connection.send(json.dumps(reply))
    finally:
        connections.discard(connection)


def main() -> None:
    args = server_arguments(__doc__.splitlines()[0]).parse_args()

    async def serve_until_stopped() -> None:
        async with serve(
            handle,
            args.host,
            args.port,
            compression=None if args.compression == "none" else "deflate",
            max_size=MAX_MESSAGE_SIZE,
        ) as server:
            announce(server.sockets[0].getsockname()[1])
            await wait_for_stop()

    run_server(serve_until_stopped, args)


if __name__ == "__main__":
    main()
