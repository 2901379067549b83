"""A SideGears kernel for the JavaScript client's tests.

Run by test/kernel.js: serves on 127.0.0.1, port 0, without a token, prints
``READY <port> <token>`` once listening, and stops when its standard input
closes (the test process ended) or when it is killed. ``--port N`` serves on
port N; ``--app-id ID`` turns the token on, kept across runs of that app id
(as an app's kernel restarted on its port).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import sys
from typing import Any

from sidegears import RPCError, RPCKernel, hookimpl, report_progress, rpc_method

# The connection whose message is being served, so that a method can answer
# through it (notify_me) or call its client (ask_client).
current_connection: contextvars.ContextVar[Any] = contextvars.ContextVar("current_connection")
kernel: RPCKernel | None = None


class CurrentConnection:
    """Plugin: remember which connection sent the message being dispatched."""

    @hookimpl
    def before_dispatch(self, connection: Any) -> None:
        current_connection.set(connection)


@rpc_method
def multiply(a: float, b: float) -> float:
    return a * b


@rpc_method
def echo(*args: Any, **kwargs: Any) -> Any:
    """Return the params as received: a list (positional) or a dict (named)."""
    return kwargs if kwargs else list(args)


@rpc_method
async def slow(seconds: float) -> float:
    await asyncio.sleep(seconds)
    return seconds


@rpc_method
def fail() -> None:
    raise RPCError(-32000, "custom", {"detail": 42})


@rpc_method
def boom() -> None:
    raise ValueError("boom")


@rpc_method(name="files.list")
def list_files(path: str = ".") -> list[str]:
    return [f"{path}/a.txt", f"{path}/b.txt"]


@rpc_method
async def notify_me(method: str, params: Any = None) -> bool:
    """Send a notification to the calling client only."""
    current_connection.get().send_notification(method, params)
    return True


@rpc_method
def broadcast(method: str, params: Any = None) -> bool:
    """Send a notification to every client with the kernel's public API (from a worker thread)."""
    assert kernel is not None
    kernel.send_notification(method, params)
    return True


@rpc_method
async def ask_client(method: str, params: Any = None) -> Any:
    """Call the calling client (kernel -> client request) and return its result.

    An error answered by the client is raised as RPCError and so reaches the
    client again as the error of this request.
    """
    connection = current_connection.get()
    if not hasattr(connection, "call"):
        raise RPCError(-32001, "kernel->client calls are not available")
    return await connection.call(method, params, timeout=5)


@rpc_method
async def close_me(code: int = 4000, reason: str = "closed by the kernel") -> None:
    """Close the calling connection from the kernel side, a moment after answering."""
    connection = current_connection.get()

    async def close_later() -> None:
        await asyncio.sleep(0.05)
        await connection.close(code, reason)

    asyncio.get_running_loop().create_task(close_later())


# Tags of wait_cancellable calls that saw asyncio.CancelledError.
cancelled_tags: list[str] = []


@rpc_method
async def wait_cancellable(tag: str, seconds: float = 30) -> str:
    """Wait, and remember the tag if the wait is cancelled ($/cancelRequest)."""
    try:
        await asyncio.sleep(seconds)
        return tag
    except asyncio.CancelledError:
        cancelled_tags.append(tag)
        raise


@rpc_method
def was_cancelled(tag: str) -> bool:
    return tag in cancelled_tags


@rpc_method
async def count_with_progress(count: int, pause: float = 0.0) -> int:
    """Report {done, total} after each step, then return count."""
    for done in range(1, count + 1):
        report_progress({"done": done, "total": count})
        await asyncio.sleep(pause)
    return count


@rpc_method
async def ask_client_briefly(method: str, timeout: float) -> str:
    """Call the client with a timeout; the kernel then sends it $/cancelRequest."""
    try:
        await current_connection.get().call(method, None, timeout=timeout)
    except asyncio.TimeoutError:
        return "timed out"
    return "answered"


@rpc_method
async def ask_client_then_cancel(method: str, after: float) -> str:
    """Call the client, and cancel that call's task after ``after`` s; the kernel then sends it $/cancelRequest."""
    task = asyncio.ensure_future(current_connection.get().call(method, None, timeout=30))
    await asyncio.sleep(after)
    if task.done():
        return f"answered {task.result()!r}"
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return "cancelled"
    return "answered after all"


def main() -> None:
    global kernel
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--app-id")
    args = parser.parse_args()
    security: dict[str, Any] = {"app_id": args.app_id} if args.app_id else {"token": False}
    kernel = RPCKernel(load_entry_points=False, **security)
    kernel.register_plugin(CurrentConnection(), name="test-current-connection")
    kernel.start(host="127.0.0.1", port=args.port)
    print(f"READY {kernel.port} {kernel.token or '-'}", flush=True)
    try:
        sys.stdin.read()
    finally:
        kernel.stop(timeout=5)


if __name__ == "__main__":
    main()
