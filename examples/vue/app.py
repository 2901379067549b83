"""The Vue 3 example: index.html, with Vue and the SideGears Vue plugin both served by the kernel.

Vue comes from ``vendor/vue.global.prod.js`` in this folder (no CDN: the app
works offline), the plugin from the kernel's ``/sidegears-plugin.js``. The
page multiplies two numbers (``multiply``), and ``announce(text)`` makes the
kernel send an ``announcement`` notification to every page, which the page
lists as it arrives.

Run it with ``python examples/vue/app.py`` (``--port N``, ``--no-browser``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sidegears import InvalidParams, RPCKernel, hookimpl
from sidegears.cli import run_app

HERE = Path(__file__).resolve().parent
MAX_TEXT = 1000


def multiply(a: float, b: float) -> float:
    """Return a times b."""
    return a * b


class VueExample:
    """The app's plugin: the methods of one kernel."""

    @hookimpl
    def register_methods(self, kernel: RPCKernel, register: Callable[..., Any]) -> None:
        register(multiply)

        def announce(text: str) -> int:
            """Send ``announcement`` {text, time} to every page; return how many pages are connected."""
            if not isinstance(text, str) or len(text) > MAX_TEXT:
                raise InvalidParams(f"text must be a string of at most {MAX_TEXT} characters")
            kernel.send_notification(
                "announcement", {"text": text, "time": datetime.now().isoformat(timespec="seconds")}
            )
            return len(kernel.connections)

        register(announce)


def create_kernel(**options: Any) -> RPCKernel:
    """A kernel (not started) serving this example's methods and this folder (``/`` is index.html)."""
    kernel = RPCKernel(static_dir=str(HERE), **options)
    kernel.register_plugin(VueExample(), name="vue_example")
    return kernel


def main(argv: list[str] | None = None) -> int:
    """Run the example until its window closes, or Ctrl-C."""
    return run_app(create_kernel, argv, description="SideGears Vue 3 example.")


if __name__ == "__main__":
    sys.exit(main())
