"""The SideGears kernel serving the benchmark methods, through its public API.

Default plugins, message logging off, token off. ``--noop-plugins N``
registers N plugins that implement the per-message hooks and do nothing;
``--codec`` chooses the JSON codec (``protocol.use_codec``; by default,
orjson when it is installed, as for any kernel).
Run ``python -m benchmarks.kernel_server --help``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from sidegears import RPCKernel, protocol, rpc_method
from sidegears.session import prepare_method

from benchmarks.hook_cost import NoopPlugin
from benchmarks.serving import (
    MAX_MESSAGE_SIZE,
    announce,
    process_stats,
    run_server,
    server_arguments,
    wait_for_stop,
)

kernel: RPCKernel | None = None


@rpc_method
async def echo(x: Any) -> Any:
    return x


@rpc_method
async def add(a, b):  # unannotated: the kernel passes params as they come, unchecked
    return a + b


async def typed_add(a: int, b: int) -> int:
    """add with annotated params: the kernel validates and converts them (served as "add" with --typed-add)."""
    return a + b


@rpc_method
async def notify_burst(n: int) -> int:
    assert kernel is not None
    for i in range(n):
        kernel.send_notification("burst", {"i": i})
    return n


@rpc_method
async def notify_after(delay_ms: float, thread: bool = False) -> None:
    assert kernel is not None
    send = kernel.send_notification

    def fire() -> None:
        send("timer", {"fired": time.monotonic()})

    if thread:
        threading.Timer(delay_ms / 1000, fire).start()
    else:
        asyncio.get_running_loop().call_later(delay_ms / 1000, fire)


@rpc_method(name="bench.stats")
async def stats() -> dict[str, int]:
    return process_stats()


def main() -> None:
    parser = server_arguments(__doc__.splitlines()[0])
    parser.add_argument("--noop-plugins", type=int, default=0, metavar="N")
    parser.add_argument("--typed-add", action="store_true", help="serve add with annotated params (validated)")
    parser.add_argument("--block-plugins", default="", metavar="NAMES",
                        help="comma-separated plugin names not to load (to find what costs)")
    parser.add_argument("--codec", choices=["stdlib", "orjson"], help="the JSON codec (default: orjson if installed)")
    args = parser.parse_args()
    if args.codec:
        protocol.use_codec(args.codec)

    async def serve_until_stopped() -> None:
        global kernel
        kernel = RPCKernel(
            token=False,
            compression=None if args.compression == "none" else "deflate",
            max_message_size=MAX_MESSAGE_SIZE,
            block_plugins=[name for name in args.block_plugins.split(",") if name],
        )
        for i in range(args.noop_plugins):
            kernel.register_plugin(NoopPlugin(), name=f"noop-{i}")
        if args.typed_add:
            rpc_method(typed_add, name="add")
        await kernel.astart(args.host, args.port)
        try:
            assert kernel.port is not None
            # The kernel prepares its typed methods in a thread once listening;
            # done here before READY, so that no measurement counts it.
            for method in kernel.methods().values():
                prepare_method(method)
            announce(kernel.port)
            await wait_for_stop()
        finally:
            await kernel.astop()

    run_server(serve_until_stopped, args)


if __name__ == "__main__":
    main()
