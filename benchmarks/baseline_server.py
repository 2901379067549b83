"""The baseline: a bare websockets server answering the benchmark methods by hand.

It does what any hand-written JSON-RPC server does and nothing more
(:mod:`benchmarks.handwritten`): ``json.loads``, an if/elif on the method,
``json.dumps``. The kernel is measured against it. Run ``python -m
benchmarks.baseline_server --help``.
"""

from __future__ import annotations

from websockets.asyncio.server import ServerConnection, broadcast, serve

from benchmarks.handwritten import HandWrittenRPC
from benchmarks.serving import MAX_MESSAGE_SIZE, announce, run_server, server_arguments, wait_for_stop

connections: set[ServerConnection] = set()


rpc = HandWrittenRPC(lambda text: broadcast(connections, text))


async def handle(connection: ServerConnection) -> None:
    connections.add(connection)
    try:
        async for text in connection:
            if isinstance(text, bytes):
                await connection.close(1003, "binary frames are not supported")
                return
            reply = rpc.answer(text)
            if reply is not None:
                await connection.send(reply)
    finally:
        connections.discard(connection)


def main() -> None:
    args = server_arguments(__doc__.splitlines()[0]).parse_args()

    async def serve_until_stopped() -> None:
        async with serve(
            handle,
            args.host,
            args.port,
            compression=None if args.compression == "none" else "deflate",
            max_size=MAX_MESSAGE_SIZE,
        ) as server:
            announce(server.sockets[0].getsockname()[1])
            await wait_for_stop()

    run_server(serve_until_stopped, args)


if __name__ == "__main__":
    main()
