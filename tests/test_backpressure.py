"""Back-pressure: calls to a client that does not answer, and replies a client does not read, stay bounded."""

from __future__ import annotations

import asyncio
import json
import socket

from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from sidegears import current_connection, rpc_method
from sidegears.testing import running_kernel


@rpc_method(name="bp.ask")
async def ask():
    return await current_connection().call("ui.question")


@rpc_method(name="bp.echo")
async def echo(value):
    return value


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


async def send_all(ws, texts, seconds: float) -> int:
    """Send as many of ``texts`` as the kernel takes within ``seconds``; return how many went."""
    sent = 0

    async def go() -> None:
        nonlocal sent
        for text in texts:
            await ws.send(text)
            sent += 1

    try:
        await asyncio.wait_for(go(), seconds)
    except asyncio.TimeoutError:
        pass
    return sent


async def test_calls_waiting_on_a_silent_client_count_against_max_in_flight() -> None:
    """2,000 requests that each call a client that never answers: at most max_in_flight run, the rest wait unread."""
    async with running_kernel(max_in_flight=4) as kernel:
        async with connect(kernel.url, max_queue=None) as ws:
            request = json.dumps({"jsonrpc": "2.0", "method": "bp.ask", "id": 1})
            await send_all(ws, [request] * 2000, 2.0)
            await asyncio.sleep(0.3)
            (connection,) = kernel.connections
            assert connection.session.in_flight == 4
            assert len(connection.session.tasks) <= 4


async def test_answers_to_the_kernels_calls_are_read_while_requests_wait() -> None:
    """With max_in_flight=1 a call that asks the client still gets its answer, though requests queue behind it."""
    async with running_kernel(max_in_flight=1) as kernel:
        async with connect(kernel.url) as ws:
            for i in range(3):
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "bp.ask", "id": i}))
            results = []
            while len(results) < 3:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if "method" in message:  # the kernel asks: answer it
                    await ws.send(json.dumps({"jsonrpc": "2.0", "result": f"answer {message['id']}", "id": message["id"]}))
                else:
                    results.append(message)
    assert sorted(reply["id"] for reply in results) == [0, 1, 2]
    assert all(reply["result"].startswith("answer") for reply in results)


async def test_replies_a_client_does_not_read_do_not_pile_up() -> None:
    """A client sending 1 MB echoes without reading: the kernel stops reading it, and its memory stays bounded."""
    async with running_kernel() as kernel:
        before = rss_bytes()
        async with connect(kernel.url, max_queue=1, max_size=None, write_limit=2**16) as ws:
            request = json.dumps({"jsonrpc": "2.0", "method": "bp.echo", "params": ["x" * 2**20], "id": 1})
            sent = await send_all(ws, [request] * 300, 4.0)
            await asyncio.sleep(0.3)
            grown = rss_bytes() - before
            (connection,) = kernel.connections
            waiting = connection.session.in_flight
    assert sent < 300  # the kernel stopped reading: the client's sends were held back
    assert grown < 96 * 2**20, f"kernel grew by {grown / 2**20:.0f} MiB with {sent} MiB sent"
    assert waiting <= 8


async def test_clients_not_reading_are_dropped_at_the_kernel_wide_cap(caplog) -> None:
    """Clients that do not read, each under max_send_buffer, are dropped (most behind first) once all together pass max_total_send_buffer."""
    async with running_kernel(max_send_buffer=8 * 2**20, max_total_send_buffer=2 * 2**20) as kernel:
        async with connect(kernel.url) as reader:
            sleepers = [await connect(kernel.url, max_queue=1) for _ in range(3)]
            for sleeper in sleepers:
                sleeper.transport.pause_reading()  # never read again
            payload = "x" * 10_000
            for i in range(600):  # 6 MB to each: under max_send_buffer, over max_total_send_buffer together
                kernel.send_notification("bulk", [i, payload])
                if i % 10 == 0:
                    await asyncio.sleep(0)
                    while True:  # the reader keeps up
                        try:
                            await asyncio.wait_for(reader.recv(), 0.001)
                        except asyncio.TimeoutError:
                            break
            await asyncio.sleep(0.2)
            assert 1 <= len(kernel.connections) <= 3, "at least one client that does not read is dropped"
            assert reader.state is State.OPEN  # the client that reads is kept
            assert sum(t.buffered for t in kernel.transports) <= 2 * 2**20
            drops = [r.getMessage() for r in caplog.records if "client is not reading" in r.getMessage()]
            assert drops and all("max_total_send_buffer" in message for message in drops)
            for sleeper in sleepers:
                sleeper.transport.abort()


@rpc_method(name="bp.big")
async def big(size):
    return "x" * size


def raw_client_sending(port: int, texts: list[str]) -> socket.socket:
    """A websocket client that sends ``texts`` in one write after the handshake, then never reads again."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"".join(Frame(Opcode.TEXT, text.encode()).serialize(mask=True, extensions=[]) for text in texts))
    return sock


async def test_small_requests_for_big_replies_stop_being_served_when_the_client_stops_reading() -> None:
    """300 small requests for 1 MB replies arrive at once and are never read: the kernel stops starting them."""
    async with running_kernel() as kernel:
        before = rss_bytes()
        texts = [json.dumps({"jsonrpc": "2.0", "method": "bp.big", "params": [2**20], "id": i}) for i in range(300)]
        sock = await asyncio.to_thread(raw_client_sending, kernel.port, texts)
        await asyncio.sleep(0.5)
        grown = rss_bytes() - before
        (connection,) = kernel.connections
        waiting = connection.session.in_flight
        sock.close()
    assert waiting <= 2, f"{waiting} replies wait to be written"
    assert grown < 32 * 2**20, f"kernel grew by {grown / 2**20:.0f} MiB"
