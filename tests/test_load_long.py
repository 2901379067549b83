"""Long load runs (``make test-long``): many clients, many cycles, stop under load, clients that do not read.

Each has a short variant in ``make test`` (test_robustness, test_stop, test_backpressure).
The kernel runs in its own process where the test measures it from outside.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest
from websockets.asyncio.client import connect

from .test_stop import stop_under_load

pytestmark = pytest.mark.long

KERNEL = textwrap.dedent(
    """
    import asyncio, sys
    from sidegears import RPCKernel, rpc_method

    @rpc_method
    async def add(a, b):
        return a + b

    @rpc_method
    async def echo(value):
        return value

    kernel = RPCKernel(token=False, load_entry_points=False)
    kernel.start(host="127.0.0.1", port=0)
    print(kernel.port, flush=True)
    kernel.wait_until_closed(timeout=900)
    """
)


class KernelProcess:
    """A kernel in a process of its own, measured from outside (/proc)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", KERNEL], stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.url = f"ws://127.0.0.1:{self.port}/"

    def rss(self) -> int:
        with open(f"/proc/{self.process.pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def open_files(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(30)


@pytest.fixture
def kernel_process():
    kernel = KernelProcess()
    try:
        yield kernel
    finally:
        kernel.close()


async def test_a_thousand_clients_two_hundred_calls_each(kernel_process: KernelProcess) -> None:
    """1,000 clients connected at once each send 200 calls: every one of the 200,000 replies comes back, matched."""

    async def one_client(n: int, connected: asyncio.Semaphore, start: asyncio.Event) -> bool:
        async with connect(kernel_process.url, open_timeout=60, max_queue=None, ping_interval=None) as ws:
            connected.release()
            await start.wait()
            for k in range(200):
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "add", "params": [n, k], "id": k}))
            replies = {}
            for _ in range(200):
                reply = json.loads(await asyncio.wait_for(ws.recv(), 120))
                replies[reply["id"]] = reply["result"]
            return replies == {k: n + k for k in range(200)}

    start = asyncio.Event()
    connected = asyncio.Semaphore(0)
    clients = []
    for wave in range(10):  # they connect 100 at a time, then all call at once
        clients += [asyncio.ensure_future(one_client(n, connected, start)) for n in range(wave * 100, wave * 100 + 100)]
        for _ in range(100):
            await asyncio.wait_for(connected.acquire(), 60)
    start.set()
    results = await asyncio.wait_for(asyncio.gather(*clients), 600)
    assert results == [True] * 1000


async def test_twenty_thousand_connects_leave_memory_and_files_flat(kernel_process: KernelProcess) -> None:
    """20,000 connect, call, disconnect cycles (10 at a time): the kernel's RSS and open files end where they began."""

    async def cycles(count: int) -> None:
        for i in range(count):
            async with connect(kernel_process.url) as ws:
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "add", "params": [i, 1], "id": 1}))
                assert json.loads(await ws.recv())["result"] == i + 1

    await asyncio.gather(*(cycles(200) for _ in range(10)))  # warm up: 2,000
    await asyncio.sleep(1)
    rss, files = kernel_process.rss(), kernel_process.open_files()
    await asyncio.gather(*(cycles(2000) for _ in range(10)))  # 20,000
    await asyncio.sleep(1)
    grown = kernel_process.rss() - rss
    assert grown < 8 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB over 20,000 connections"
    assert kernel_process.open_files() <= files + 2


async def test_stop_under_load_of_two_hundred_clients() -> None:
    """200 clients calling flat out: stop() answers every request it read and returns within stop_timeout + 1 s."""
    await stop_under_load(clients=200, stop_timeout=2.0, load_seconds=3.0, silent=True)


async def test_clients_that_do_not_read_keep_the_kernel_bounded(kernel_process: KernelProcess) -> None:
    """Ten clients sending 1 MB echoes for 5 s without reading, ten reading slowly: the kernel stays under 200 MiB more."""
    before = kernel_process.rss()
    request = json.dumps({"jsonrpc": "2.0", "method": "echo", "params": ["x" * 2**20], "id": 1})

    async def non_reader() -> None:
        async with connect(kernel_process.url, max_queue=1, max_size=None) as ws:
            try:
                await asyncio.wait_for(_send_forever(ws, request), 5)
            except asyncio.TimeoutError:
                pass

    async def slow_reader() -> None:
        async with connect(kernel_process.url, max_size=None) as ws:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                await ws.send(request)
                await asyncio.sleep(0.2)
                await ws.recv()

    await asyncio.gather(*(non_reader() for _ in range(10)), *(slow_reader() for _ in range(10)))
    grown = kernel_process.rss() - before
    assert grown < 200 * 2**20, f"kernel grew by {grown / 2**20:.0f} MiB"
    async with connect(kernel_process.url) as ws:  # and it still serves
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1}))
        assert json.loads(await ws.recv())["result"] == 3


async def _send_forever(ws, text: str) -> None:
    for _ in range(100_000):
        await ws.send(text)
