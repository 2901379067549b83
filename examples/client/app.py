"""The plain JavaScript client example: client.html, using the UMD bundle ``/sidegears.js``.

The page shows each way the client talks to the kernel:

* requests: ``sendRequest("multiply", [a, b])`` and the requester proxy
  (``requester.math.add(a, b)`` calls the method ``"math.add"``);
* errors: ``divide(a, 0)`` rejects with an ``RPCError`` carrying ``code``,
  ``message`` and ``data``;
* kernel -> client notifications: ``countdown(n)`` sends ``countdown``
  notifications, then returns;
* client -> kernel notifications: ``notifier.log(text)``; the kernel keeps
  the text and answers with a ``logged`` notification to every page;
* kernel -> client requests: ``ask_client(question)`` calls the page's
  ``confirm`` method (registered with ``register``) and returns its answer.

Run it with ``python examples/client/app.py`` (``--port N``, ``--no-browser``);
``/`` (index.html) forwards to client.html.
The methods belong to this app's kernel only (a plugin registers them), so
importing this module changes nothing in other kernels.
"""

from __future__ import annotations

import asyncio
import queue
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sidegears import InvalidParams, RPCError, RPCKernel, current_connection, hookimpl
from sidegears.cli import run_app

HERE = Path(__file__).resolve().parent

#: The application's own error code for a division by zero (outside JSON-RPC's reserved -32768..-32000).
DIVISION_BY_ZERO = 4000
MAX_COUNTDOWN = 100


def multiply(a: float, b: float) -> float:
    """Return a times b."""
    return a * b


def add(a: float, b: float) -> float:
    """Return a plus b (served as ``math.add``)."""
    return a + b


def divide(a: float, b: float) -> float:
    """Return a / b; dividing by zero is an application error with data."""
    if b == 0:
        raise RPCError(DIVISION_BY_ZERO, "Division by zero", {"dividend": a, "divisor": b})
    return a / b


class ClientExample:
    """The app's plugin: its methods, and the notifications the page sent (``logged``, a thread-safe queue)."""

    def __init__(self) -> None:
        self.logged: queue.Queue[Any] = queue.Queue()

    @hookimpl
    def register_methods(self, kernel: RPCKernel, register: Callable[..., Any]) -> None:
        register(multiply)
        register(add, name="math.add")
        register(divide)

        async def countdown(n: int = 3, delay: float = 0.05) -> str:
            """Send ``countdown`` notifications n, n-1, ... 1 to the caller only, then return "liftoff".

            An ``async`` method runs on the kernel's loop, where ``connection.send_notification`` belongs.
            """
            if isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= MAX_COUNTDOWN:
                raise InvalidParams(f"n must be an integer from 1 to {MAX_COUNTDOWN}")
            if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= 1:
                raise InvalidParams("delay must be a number of seconds from 0 to 1")
            connection = current_connection()
            for left in range(n, 0, -1):
                if connection is not None:
                    connection.send_notification("countdown", {"left": left})
                await asyncio.sleep(delay)
            return "liftoff"

        register(countdown)

        def log(text: Any) -> None:
            """A notification from the page: keep it and tell every page.

            A plain method runs in a worker thread; ``kernel.send_notification`` works from any thread.
            """
            self.logged.put(text)
            kernel.send_notification("logged", {"text": text})

        register(log)

        async def ask_client(question: str) -> Any:
            """Ask the calling page (its ``confirm`` method) and return the answer."""
            connection = current_connection()
            if connection is None:
                raise RPCError(-32603, "no connection")
            return await connection.call("confirm", [question], timeout=10)

        register(ask_client)


def create_kernel(**options: Any) -> RPCKernel:
    """A kernel (not started) serving this example's methods and this folder (``/`` forwards to client.html)."""
    kernel = RPCKernel(static_dir=str(HERE), **options)
    kernel.register_plugin(ClientExample(), name="client_example")
    return kernel


def main(argv: list[str] | None = None) -> int:
    """Run the example until its window closes, or Ctrl-C."""
    return run_app(create_kernel, argv, description="SideGears plain JavaScript client example.")


if __name__ == "__main__":
    sys.exit(main())
