"""The cost of one hook call, measured in-process, with 0, 1 and 10 no-op plugins.

:class:`NoopPlugin` is also what ``kernel_server --noop-plugins N`` registers
for the end-to-end measurement. ``python -m benchmarks.hook_cost --loop HOOK
N`` makes N calls of a hook as the kernel makes them, for
``benchmarks.instructions --hooks`` to count under callgrind.
"""

from __future__ import annotations

import argparse
import timeit
from typing import Any

from sidegears import hookimpl

__all__ = ["NoopPlugin", "NoopFinder", "HOOK_CALLS", "loop", "measure", "table"]


class NoopPlugin:
    """Implements the per-message hooks and does nothing in them."""

    @hookimpl
    def before_dispatch(self, kernel: Any, connection: Any, message: Any) -> None:
        return None

    @hookimpl
    def on_notify(self, kernel: Any, connection: Any, message: Any) -> None:
        return None

    @hookimpl
    def log_message(self, kernel: Any, connection: Any, direction: str, message: Any, size: int) -> None:
        return None


class NoopFinder:
    """Implements find_method and finds nothing."""

    @hookimpl
    def find_method(self, name: str) -> None:
        return None


def _empty(kernel: Any, connection: Any, message: Any) -> None:
    return None


def _best_ns(statement: Any, number: int) -> float:
    return min(timeit.repeat(statement, number=number, repeat=5)) / number * 1e9


def measure(plugin_counts: tuple[int, ...], mode: str) -> list[dict[str, Any]]:
    """Return ns per call for each plugin count: plain pluggy, and the kernel's path (implemented check, then its fast caller)."""
    from sidegears import RPCKernel

    number = {"full": 200_000, "quick": 50_000, "smoke": 2_000}[mode]
    rows = [{"what": "empty Python function call (reference)", "plugins": "-",
             "ns/call": _best_ns(lambda: _empty(None, None, None), number)}]
    for n in plugin_counts:
        kernel = RPCKernel(token=False, block_plugins=["debug"])
        for i in range(n):
            kernel.register_plugin(NoopPlugin(), name=f"noop-{i}")
        pm = kernel.plugin_manager
        hook = pm.hook.before_dispatch
        kwargs = {"kernel": kernel, "connection": None, "message": None}

        def as_on_the_hot_path() -> Any:  # keywords written out, as the kernel calls it
            return "before_dispatch" in pm.implemented and pm.fast_caller("before_dispatch")(
                kernel=kernel, connection=None, message=None)

        rows.append({"what": "pm.hook.before_dispatch(...) (plain pluggy)", "plugins": str(n),
                     "ns/call": _best_ns(lambda: hook(**kwargs), number)})
        rows.append({"what": "the kernel's call: implemented check, then pm.fast_caller", "plugins": str(n),
                     "ns/call": _best_ns(as_on_the_hot_path, number)})
    # find_method runs on every call and is always implemented (the methods plugin).
    # The bundled plugin alone, then with 10 more finders.
    for n in (0, 10):
        kernel = RPCKernel(token=False, block_plugins=["debug"])
        for i in range(n):
            kernel.register_plugin(NoopFinder(), name=f"finder-{i}")
        pm = kernel.plugin_manager
        find = {"kernel": kernel, "name": "no.such.method"}
        rows.append({"what": "pm.hook.find_method(...) (plain pluggy)", "plugins": f"methods + {n}",
                     "ns/call": _best_ns(lambda: pm.hook.find_method(**find), number)})
        rows.append({"what": "pm.fast_caller('find_method')(...) (the kernel's call)", "plugins": f"methods + {n}",
                     "ns/call": _best_ns(lambda: pm.fast_caller("find_method")(**find), number)})
    return rows


def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Return headers and rows for a Markdown table."""
    return ["hook call", "no-op plugins", "ns/call"], [
        [row["what"], row["plugins"], f"{row['ns/call']:,.0f}"] for row in rows]


#: The hook calls :class:`NoopPlugin` gets for one call of each scenario of
#: ``benchmarks.instructions``: (before_dispatch, log_message). A request:
#: before_dispatch, and log_message in and out; a batch member: before_dispatch,
#: and its share of the batch's two log_message calls; a notification the
#: kernel pushes: log_message once.
HOOK_CALLS = {"request": (1, 2), "batch100": (1, 0.02), "notify": (0, 1)}


def loop(hook: str, n: int) -> None:
    """Call ``hook`` ``n`` times as the kernel does, one NoopPlugin registered: the implemented check, then its fast caller."""
    from sidegears import RPCKernel

    kernel = RPCKernel(token=False, block_plugins=["debug"])
    kernel.register_plugin(NoopPlugin(), name="noop-0")
    pm = kernel.plugin_manager
    if hook == "before_dispatch":
        for _ in range(n):
            if "before_dispatch" in pm.implemented:
                pm.fast_caller("before_dispatch")(kernel=kernel, connection=None, message=None)
    elif hook == "log_message":
        for _ in range(n):
            if "log_message" in pm.implemented:
                pm.fast_caller("log_message")(kernel=kernel, connection=None, direction="in", message=None, size=1,
                                              duration=None)
    else:
        raise ValueError(f"no loop for hook {hook!r}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hook_cost", description=__doc__.splitlines()[0])
    parser.add_argument("--loop", nargs=2, metavar=("HOOK", "N"), required=True,
                        help="call HOOK (before_dispatch or log_message) N times, and print nothing")
    args = parser.parse_args()
    loop(args.loop[0], int(args.loop[1]))


if __name__ == "__main__":
    main()
