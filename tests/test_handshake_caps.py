"""Connections that never finish their handshake cannot lock clients out: caps drop the oldest, the fd limit is raised."""

from __future__ import annotations

import asyncio
import json
import resource
import socket
import subprocess
import sys
import textwrap

from websockets.asyncio.client import connect

from sidegears import rpc_method
from sidegears.testing import RPCTestClient, running_kernel


@rpc_method(name="caps.echo")
async def echo(value):
    return value


def closed_by_peer(sock: socket.socket) -> bool:
    sock.settimeout(0.5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


async def test_silent_connections_beyond_the_cap_are_dropped_oldest_first() -> None:
    """With max_handshakes=5, ten silent TCP connections leave five open (the newest), and a real client gets in."""
    async with running_kernel(max_handshakes=5, max_handshakes_per_address=100) as kernel:
        silent = []
        for _ in range(10):
            silent.append(socket.create_connection(("127.0.0.1", kernel.port)))
            await asyncio.sleep(0.02)
        async with RPCTestClient.connect(kernel.url) as client:  # its handshake drops one more old one
            assert await client.call("caps.echo", ["in"]) == "in"
        closed = await asyncio.to_thread(lambda: [closed_by_peer(sock) for sock in silent])
        for sock in silent:
            sock.close()
    assert closed[:6] == [True] * 6 and closed[6:] == [False] * 4


KERNEL = textwrap.dedent(
    """
    from sidegears import RPCKernel, rpc_method

    @rpc_method
    def ping():
        return "pong"

    kernel = RPCKernel(token=False, load_entry_points=False)
    kernel.start(host="127.0.0.1", port=0)
    print(kernel.port, flush=True)
    kernel.wait_until_closed(timeout=120)
    """
)


def low_fd_limit() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))


async def test_1100_half_open_connections_do_not_lock_out_a_client() -> None:
    """A kernel started with a soft limit of 1024 files still serves a client while 1,100 connections stay silent."""
    process = subprocess.Popen([sys.executable, "-c", KERNEL], stdout=subprocess.PIPE, preexec_fn=low_fd_limit)
    silent: list[socket.socket] = []
    try:
        assert process.stdout is not None
        port = int(await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 30))
        for _ in range(1100):
            silent.append(socket.create_connection(("127.0.0.1", port)))
        await asyncio.sleep(0.3)
        for _ in range(11):
            async with connect(f"ws://127.0.0.1:{port}/", open_timeout=5) as ws:
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "ping", "id": 1}))
                assert json.loads(await asyncio.wait_for(ws.recv(), 5))["result"] == "pong"
    finally:
        for sock in silent:
            sock.close()
        process.terminate()
        process.wait(30)
