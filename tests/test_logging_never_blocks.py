"""A stderr that nobody reads cannot freeze the kernel, and a flood of refused handshakes logs a few lines."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading
import time

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

TOKEN = "a-token-of-enough-length-42"

KERNEL = textwrap.dedent(
    f"""
    from sidegears import RPCKernel, rpc_method

    @rpc_method
    def ping():
        return "pong"

    kernel = RPCKernel(token={TOKEN!r}, load_entry_points=False)
    kernel.start(host="127.0.0.1", port=0)
    print(kernel.port, flush=True)
    kernel.wait_until_closed(timeout=120)
    """
)


async def start_kernel_with_unread_stderr() -> tuple[subprocess.Popen, int]:
    """A kernel in its own process whose stderr is a pipe this test never reads (until the end)."""
    process = subprocess.Popen(
        [sys.executable, "-c", KERNEL],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SIDEGEARS_LOG_FORMAT": "console"},
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 30)
    return process, int(line)


def end(process: subprocess.Popen) -> str:
    """Read the stderr pipe at last, give the kernel's writer a moment to drain its queue, then stop the kernel."""
    chunks: list[bytes] = []
    assert process.stderr is not None
    reader = threading.Thread(target=lambda: chunks.append(process.stderr.read()), daemon=True)
    reader.start()
    time.sleep(1.0)
    process.terminate()
    process.wait(timeout=30)
    reader.join(10)
    return b"".join(chunks).decode(errors="replace")


async def test_unread_stderr_does_not_freeze_the_kernel() -> None:
    """5,000 invalid messages each log a WARNING into a full stderr pipe; every one is still answered, then a call."""
    process, port = await start_kernel_with_unread_stderr()
    try:
        async with connect(f"ws://127.0.0.1:{port}/?token={TOKEN}") as ws:
            for i in range(5000):
                await ws.send("not json")
                if i % 100 == 99:
                    for _ in range(100):
                        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                        assert reply["error"]["code"] == -32700
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "ping", "id": 1}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["result"] == "pong"
    finally:
        stderr = end(process)
    assert "invalid message" in stderr and "log lines dropped" in stderr


async def test_refused_handshakes_are_logged_a_few_per_address() -> None:
    """1,000 handshakes with a wrong token are all refused, a legitimate client still gets in, and few lines are logged."""
    process, port = await start_kernel_with_unread_stderr()
    try:
        for _ in range(1000):
            try:
                async with connect(f"ws://127.0.0.1:{port}/?token=wrong-token-of-some-length"):
                    raise AssertionError("a wrong token got in")
            except InvalidStatus as refused:
                assert refused.response.status_code == 403
        async with connect(f"ws://127.0.0.1:{port}/?token={TOKEN}") as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "ping", "id": 1}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["result"] == "pong"
    finally:
        stderr = end(process)
    assert 1 <= stderr.count("refused a request") <= 10
