"""The kernel on uvloop (the speed extra), as it runs when uvloop is installed: event_loop="auto" picks it."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.sync.client import connect

from sidegears import RPCKernel, rpc_method

uvloop = pytest.importorskip("uvloop", reason="uvloop is in the test extra on Linux and macOS")


@rpc_method(name="uvloop.loop_name")
async def loop_name() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_the_kernel_serves_on_uvloop() -> None:
    kernel = RPCKernel(token=False, event_loop="uvloop")
    kernel.start("127.0.0.1", 0)
    try:
        assert type(kernel.loop).__module__.startswith("uvloop")
        with connect(kernel.url, max_size=None) as ws:
            ws.send(json.dumps({"jsonrpc": "2.0", "method": "uvloop.loop_name", "id": 1}))
            assert json.loads(ws.recv(10))["result"].startswith("uvloop")
            big = "x" * (4 * 2**20)  # several reads and writes: flow control on uvloop's transport
            ws.send(json.dumps({"jsonrpc": "2.0", "method": "rpc.discover", "id": 2}))
            assert json.loads(ws.recv(10))["id"] == 2
            kernel.send_notification("hello", [big])
            assert json.loads(ws.recv(10))["params"] == [big]
    finally:
        kernel.stop()
