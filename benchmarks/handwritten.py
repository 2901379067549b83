"""The hand-written JSON-RPC handling that the baseline and the picows anchor share.

It does what any hand-written JSON-RPC server does and nothing more:
``json.loads``, an if/elif on the method, ``json.dumps``. Each server gives
it its own way to push a text message to every client (``send_all``), and
calls :meth:`HandWrittenRPC.answer` with each text message it receives.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from benchmarks.serving import process_stats


class HandWrittenRPC:
    """The benchmark methods (``echo``, ``add``, ``notify_burst``, ``notify_after``, ``bench.stats``), by hand."""

    def __init__(self, send_all: Callable[[str], None]) -> None:
        self.send_all = send_all

    def notify_all(self, method: str, params: Any) -> None:
        """Push one JSON-RPC notification to every connected client."""
        self.send_all(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}))

    def notify_burst(self, n: int) -> int:
        for i in range(n):
            self.notify_all("burst", {"i": i})
        return n

    def notify_after(self, delay_ms: float, thread: bool = False) -> None:
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self.notify_all("timer", {"fired": time.monotonic()})

        if thread:
            def fire_from_thread() -> None:
                fired = time.monotonic()
                loop.call_soon_threadsafe(self.notify_all, "timer", {"fired": fired})

            threading.Timer(delay_ms / 1000, fire_from_thread).start()
        else:
            loop.call_later(delay_ms / 1000, fire)

    def dispatch(self, message: Any) -> dict[str, Any] | None:
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
                result = self.notify_burst(*args, **kwargs)
            elif method == "notify_after":
                self.notify_after(*args, **kwargs)
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

    def answer(self, text: str | bytes) -> str | None:
        """The reply to one text message (a request, a notification or a batch), or None."""
        try:
            message = json.loads(text)
        except ValueError:
            reply: Any = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
        else:
            if isinstance(message, list):
                reply = [r for r in map(self.dispatch, message) if r is not None] or None
            else:
                reply = self.dispatch(message)
        return None if reply is None else json.dumps(reply)
