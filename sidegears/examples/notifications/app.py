"""Notifications from the kernel: a clock and a progress bar, pushed to the page as they change.

Two ways to push, one for each kind of code:

* the clock is an asyncio task on the kernel's loop, started when the kernel
  starts; it sends ``clock`` every ``clock_interval`` seconds (a kernel
  option, default 1);
* ``long_task(steps, delay)`` is a plain method, so it runs in a worker
  thread; it sends ``progress`` after each step, then returns.

``kernel.send_notification(method, params)`` works from both. Run it with
``sidegears run app.py`` or ``python app.py`` (``--port N``, ``--no-browser``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sidegears import InvalidParams, RPCKernel, hookimpl
from sidegears.cli import run_app

HERE = Path(__file__).resolve().parent
MAX_STEPS = 1000
MAX_DELAY = 5.0


class NotificationsApp:
    """The app's plugin: the clock task and the ``long_task`` method of one kernel."""

    def __init__(self, clock_interval: float = 1.0) -> None:
        self.clock_interval = clock_interval
        self._clock: asyncio.Task[None] | None = None

    @hookimpl
    def register_methods(self, kernel: RPCKernel, register: Callable[..., Any]) -> None:
        def long_task(steps: int = 20, delay: float = 0.1) -> dict[str, int]:
            """Work for ``steps`` steps of ``delay`` seconds, notifying ``progress`` after each."""
            if isinstance(steps, bool) or not isinstance(steps, int) or not 0 < steps <= MAX_STEPS:
                raise InvalidParams(f"steps must be an integer from 1 to {MAX_STEPS}")
            if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= MAX_DELAY:
                raise InvalidParams(f"delay must be a number of seconds from 0 to {MAX_DELAY}")
            for done in range(1, steps + 1):
                time.sleep(delay)  # the "work"; this thread is not the kernel's loop, so sleeping is fine
                kernel.send_notification("progress", {"done": done, "total": steps})
            return {"done": steps}

        register(long_task)

    @hookimpl
    def on_startup(self, kernel: RPCKernel) -> None:
        self._clock = asyncio.get_running_loop().create_task(self._tick(kernel, self.clock_interval))

    @hookimpl
    async def on_shutdown(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
            self._clock = None

    async def _tick(self, kernel: RPCKernel, interval: float) -> None:
        while True:
            kernel.send_notification("clock", {"time": datetime.now().isoformat(timespec="seconds")})
            await asyncio.sleep(interval)


def create_kernel(clock_interval: float = 1.0, **options: Any) -> RPCKernel:
    """A kernel (not started) with the clock (every ``clock_interval`` seconds), ``long_task`` and this folder's page."""
    kernel = RPCKernel(static_dir=str(HERE), **options)
    kernel.register_plugin(NotificationsApp(clock_interval), name="notifications_app")
    return kernel


def main(argv: list[str] | None = None) -> int:
    """Run the app until its window closes, or Ctrl-C."""
    return run_app(create_kernel, argv, description="SideGears notifications example: a clock and a progress bar.")


if __name__ == "__main__":
    sys.exit(main())
