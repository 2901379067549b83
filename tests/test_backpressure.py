"""Back-pressure: calls to a client that does not answer, and replies a client does not read, stay bounded."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect
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
