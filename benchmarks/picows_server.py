"""The picows anchor: a picows websocket server on uvloop answering the benchmark methods.

picows parses and frames websocket messages in Cython and hands whole frames
to a callback: no coroutine, no task, no queue per message. Above it this
server does what the baseline does (:mod:`benchmarks.handwritten`:
``json.loads``, an if/elif on the method, ``json.dumps``), so it shows
what the websocket layer costs a Python server at best. It runs on uvloop (always: the anchor is picows+uvloop). Needs the
``bench`` extra (``pip install 'sidegears[bench]'``: picows and uvloop).
Run ``python -m benchmarks.picows_server --help``.
"""

from __future__ import annotations

from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_create_server

from benchmarks.handwritten import HandWrittenRPC
from benchmarks.serving import MAX_MESSAGE_SIZE, run_server, serve_until_stopped, server_arguments

connections: set[WSTransport] = set()


def send_all(text: str) -> None:
    data = text.encode()
    for transport in connections:
        transport.send(WSMsgType.TEXT, data)


rpc = HandWrittenRPC(send_all)


class Handler(WSListener):  # type: ignore[misc]
    """One connection: assembles text messages, answers each with one text frame."""

    def __init__(self) -> None:
        self.parts: list[bytes] | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        connections.add(transport)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        connections.discard(transport)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is WSMsgType.TEXT:
            if frame.fin:
                self.answer(transport, frame.get_payload_as_bytes())
            else:
                self.parts = [frame.get_payload_as_bytes()]
        elif kind is WSMsgType.CONTINUATION and self.parts is not None:
            self.parts.append(frame.get_payload_as_bytes())
            if frame.fin:
                data, self.parts = b"".join(self.parts), None
                self.answer(transport, data)
        elif kind is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()
        elif kind is WSMsgType.BINARY:
            transport.send_close(WSCloseCode.UNSUPPORTED_DATA, b"binary frames are not supported")
            transport.disconnect()

    def answer(self, transport: WSTransport, data: bytes) -> None:
        reply = rpc.answer(data)
        if reply is not None:
            transport.send(WSMsgType.TEXT, reply.encode())


def main() -> None:
    args = server_arguments(__doc__.splitlines()[0]).parse_args()
    if args.compression != "none":
        raise SystemExit("picows_server: permessage-deflate is not supported")
    args.uvloop = True

    async def serve() -> None:
        await serve_until_stopped(await ws_create_server(
            lambda request: Handler(), args.host, args.port,
            max_frame_size=MAX_MESSAGE_SIZE + 2**20,
            websocket_handshake_timeout=30,
        ))

    run_server(serve, args)


if __name__ == "__main__":
    main()
