"""The bare anchor: a bare asyncio Protocol answering the benchmark methods by hand.

The kernel's own frames (:mod:`sidegears.frames`) on a plain asyncio
``BufferedProtocol`` on the stdlib loop, and above them the baseline's
hand-written JSON-RPC (:mod:`benchmarks.handwritten`: ``json.loads``, an
if/elif on the method, ``json.dumps``), each message answered in the read
callback itself: no task, no queue, no context, no hook, no check beyond
what the frames do. The replies to one read go out in one write, as the
kernel's do. The opening handshake is websockets' Sans-I/O, as in the
kernel.

It is not a server anyone should run: what it leaves out is what the
kernel promises (see ``benchmarks/README.md``, "What bounds the kernel").
It shows how far a Python server on the same frames, loop and ``json``
gets when it does next to nothing else: where it stays under a target, so
does any kernel built on them. ``--uvloop`` runs it on uvloop. Run
``python -m benchmarks.bare_server --help``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.http11 import Request
from websockets.server import ServerProtocol

from benchmarks.handwritten import HandWrittenRPC
from benchmarks.serving import MAX_MESSAGE_SIZE, run_server, serve_until_stopped, server_arguments
from sidegears.frames import FrameHandler, ServerFrames

connections: set[BareConnection] = set()
#: One read buffer for every connection, as the kernel's (each read is parsed before the next).
read_buffer = memoryview(bytearray(256 * 1024))


def send_all(text: str) -> None:
    """Frame a notification for every connection; they go out together at the end of the loop iteration."""
    data = text.encode()
    for connection in connections:
        if connection.frames is not None:
            connection.frames.send_text(data)
    global flush_scheduled
    if not flush_scheduled:
        flush_scheduled = True
        asyncio.get_running_loop().call_soon(flush_all)


flush_scheduled = False


def flush_all() -> None:
    global flush_scheduled
    flush_scheduled = False
    for connection in connections:
        connection.write_pending()


rpc = HandWrittenRPC(send_all)


class BareConnection(asyncio.BufferedProtocol, FrameHandler):
    """One connection: the handshake through websockets, then frames answered as they are parsed."""

    def __init__(self) -> None:
        self.handshake = ServerProtocol(max_size=MAX_MESSAGE_SIZE)
        self.frames: ServerFrames | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        connections.discard(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        return read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        data = read_buffer[:nbytes]
        if self.frames is not None:
            self.frames.receive_data(data)
            self.write_pending()
            return
        # The benchmark client sends no frame before the 101: the request is all there is.
        self.handshake.receive_data(bytes(data))
        for event in self.handshake.events_received():
            if isinstance(event, Request):
                self.handshake.send_response(self.handshake.accept(event))
                self.write_chunks(self.handshake.data_to_send())
                self.frames = ServerFrames(self, max_size=MAX_MESSAGE_SIZE)
                connections.add(self)

    def eof_received(self) -> bool:
        return False  # the transport closes

    def text_received(self, data: bytes) -> None:
        reply = rpc.answer(data.decode())
        if reply is not None:
            assert self.frames is not None
            self.frames.send_text(reply.encode())

    def binary_received(self) -> None:
        assert self.frames is not None
        self.frames.fail(1003, "binary frames are not supported")

    def write_pending(self) -> None:
        assert self.frames is not None
        self.write_chunks(self.frames.data_to_send())

    def write_chunks(self, chunks: list[bytes]) -> None:
        transport = self.transport
        if transport is None or transport.is_closing() or not chunks:
            return
        if all(chunks):
            transport.write(b"".join(chunks))
        else:  # an empty chunk is the end of the stream
            transport.write(b"".join(chunks))
            transport.close()


def main() -> None:
    args = server_arguments(__doc__.splitlines()[0]).parse_args()
    if args.compression != "none":
        raise SystemExit("bare_server: permessage-deflate is not supported")

    async def serve() -> None:
        await serve_until_stopped(await asyncio.get_running_loop().create_server(BareConnection, args.host, args.port))

    run_server(serve, args)


if __name__ == "__main__":
    main()
