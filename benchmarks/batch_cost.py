"""What a member of a batch of 100 costs the kernel, in process, part by part (ns per member).

    python -m benchmarks.batch_cost            # 7 repeats
    python -m benchmarks.batch_cost --quick    # 3 repeats, fewer loops

A session with no socket (``RPCSession`` with a sink that drops what it is
sent) serves parsed batches of 100 ``add`` calls; each part is timed on its
own, best of the repeats: the ``json`` decode, the validation into
``Request`` objects, the call as the session makes it while no plugin
observes calls (``RPCSession._call_inline``, in a context of its own), the
same call with one plugin observing every call (``before_dispatch`` and
``after_dispatch``, returning None), the call of the method alone with its
reply dict (the floor), and the ``json`` encode of the replies. The stdlib codec (``protocol.use_codec("stdlib")``).
"""

from __future__ import annotations

import argparse
import contextvars
import json
import timeit
from typing import Any, Callable

from sidegears import RPCKernel, hookimpl, protocol
from sidegears.connection import Connection
from sidegears.protocol import Request
from sidegears.session import RPCSession

SIZE = 100


class DroppingSink:
    """A Sink that accepts every message and keeps none."""

    is_open = True
    paused = False
    remote_address = ("benchmark", 0)
    request = None

    def send_text(self, data: bytes, flush_soon: bool = True) -> bool:
        return True

    def flush(self) -> None:
        pass

    async def wait_writable(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def add(a, b):  # type: ignore[no-untyped-def]  # unannotated, as kernel_server's: no typed params to check
    return a + b


class AddMethod:
    """Serves ``bench.add`` to this script's kernel only (``rpc_method`` would add it to every kernel of the process)."""

    @hookimpl
    def find_method(self, name: str) -> Any:
        return add if name == "bench.add" else None


class Observer:
    """Observes every call and returns nothing, as a tracing or counting plugin would."""

    @hookimpl
    def before_dispatch(self, message: Any) -> None:
        return None

    @hookimpl
    def after_dispatch(self, message: Any, error: Any) -> None:
        return None


def _session(*plugins: Any) -> RPCSession:
    kernel = RPCKernel(token=False, load_entry_points=False)
    for plugin in (AddMethod(), *plugins):
        kernel.register_plugin(plugin)
    sink = DroppingSink()
    return RPCSession(kernel, Connection(kernel, sink), sink)  # type: ignore[arg-type]


def parts() -> list[tuple[str, Callable[[], Any]]]:
    """(name, a function serving or handling one batch of SIZE members)."""
    session = _session()
    observed = _session(Observer())
    text = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "bench.add", "params": [i, 2]} for i in range(SIZE)])
    decoded = json.loads(text)
    items = [item for item in protocol.parse_value(decoded, SIZE).items if isinstance(item, Request)]
    assert len(items) == SIZE
    replies = [protocol.success(i, i + 2) for i in range(SIZE)]

    def inline(session: RPCSession) -> Callable[[], None]:
        call_inline = session._call_inline  # noqa: SLF001  (this benchmark's subject: the session's own path)

        def serve() -> None:
            found: dict[str, Any] = {}
            for item in items:
                contextvars.copy_context().run(call_inline, item, found)

        return serve

    def floor() -> None:
        for item in items:
            coroutine = add(*(item.params or ()))
            try:
                coroutine.send(None)
            except StopIteration as stop:
                {"jsonrpc": "2.0", "result": stop.value, "id": item.id}

    return [
        ("json decode of the batch", lambda: protocol.decode(text)),
        ("validating the members into Requests", lambda: protocol.parse_value(decoded, SIZE)),
        ("the call, inline (no observer)", inline(session)),
        ("the call with one plugin observing it (before_dispatch, after_dispatch)", inline(observed)),
        ("the method's coroutine and the reply dict alone (floor)", floor),
        ("json encode of the replies", lambda: protocol.encode_reply_bytes(replies)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch_cost", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats, fewer loops")
    args = parser.parse_args()
    repeats, number = (3, 200) if args.quick else (7, 2000)
    protocol.use_codec("stdlib")  # the default install's
    print("| part | ns per member |\n|---|---|")
    for name, function in parts():
        best = min(timeit.repeat(function, number=number, repeat=repeats)) / number / SIZE * 1e9
        print(f"| {name} | {best:,.0f} |")


if __name__ == "__main__":
    main()
