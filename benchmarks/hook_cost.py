"""The cost of one hook call, measured in-process, with 0, 1 and 10 no-op plugins.

:class:`NoopPlugin` is also what ``kernel_server --noop-plugins N`` registers
for the end-to-end measurement.
"""

from __future__ import annotations

import timeit
from typing import Any

from sidegears import hookimpl

__all__ = ["NoopPlugin", "measure", "table"]


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


def _empty(kernel: Any, connection: Any, message: Any) -> None:
    return None


def _best_ns(statement: Any, number: int) -> float:
    return min(timeit.repeat(statement, number=number, repeat=5)) / number * 1e9


def measure(plugin_counts: tuple[int, ...], mode: str) -> list[dict[str, Any]]:
    """Return ns per call for each plugin count, through pluggy and through the kernel's table."""
    from sidegears import RPCKernel
    from sidegears.hook_calls import first_sync

    number = {"full": 200_000, "quick": 50_000, "smoke": 2_000}[mode]
    rows = [{"what": "empty Python function call (reference)", "plugins": "-",
             "ns/call": _best_ns(lambda: _empty(None, None, None), number)}]
    for n in plugin_counts:
        kernel = RPCKernel(token=False)
        for i in range(n):
            kernel.register_plugin(NoopPlugin(), name=f"noop-{i}")
        hook = kernel.hook.before_dispatch
        impls = kernel._hooks.before_dispatch
        kwargs = {"kernel": kernel, "connection": None, "message": None}
        rows.append({"what": "kernel.hook.before_dispatch(...) (pluggy)", "plugins": str(n),
                     "ns/call": _best_ns(lambda: hook(**kwargs), number)})
        rows.append({"what": "kernel's hook table, as on the hot path", "plugins": str(n),
                     "ns/call": _best_ns(
                         lambda: impls and first_sync(impls, kwargs), number)})
    return rows


def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Return headers and rows for a Markdown table."""
    return ["hook call", "no-op plugins", "ns/call"], [
        [row["what"], row["plugins"], f"{row['ns/call']:,.0f}"] for row in rows]
