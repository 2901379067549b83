"""The SideGears demo: a live system monitor, a file browser and a long task you can cancel.

Each part shows one way the page and the kernel talk:

* **System monitor**: a task on the kernel's loop samples CPU and memory use
  every ``monitor_interval`` seconds and pushes each sample to every page
  with ``kernel.send_notification("monitor.sample", ...)``; a page that
  opens (or reconnects) first asks ``monitor.info()`` for the recent ones.
  psutil is used when installed (``pip install sidegears[demo]``), else what
  the OS offers (see :mod:`.monitor`).
* **Files**: ``folder.list(path)`` is a plain method, so it runs in a worker
  thread (a slow disk never stalls the kernel); a folder it cannot open is an
  ``RPCError`` that the page shows.
* **Long task**: ``task.run(steps, delay)`` is an ``async`` method that
  reports its progress with ``sidegears.report_progress``; the page calls it
  with ``sendRequest(..., {signal, onProgress})``, and its Cancel button
  aborts the signal, so the kernel cancels the method (it sees
  ``CancelledError``) and tells the page where it stopped.
* **Quit** stops the kernel.

Run it with ``sidegears demo``, ``sidegears run app.py`` or ``python app.py``
(``--port N``, ``--no-browser``). The page is ``static/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sidegears import InvalidParams, RPCError, RPCKernel, current_connection, hookimpl, report_progress
from sidegears.cli import run_app

# Absolute, so that the file also runs as a script (`python app.py`, `sidegears run app.py`).
from sidegears.examples.demo.monitor import Sampler

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"

#: How many samples the kernel keeps for pages that open later (two minutes at the default interval).
HISTORY = 120
#: The application's error code for a folder that cannot be listed (outside JSON-RPC's reserved range).
CANNOT_LIST = 4001
#: A folder's entries beyond this many are counted, not sent: one huge folder should not make a huge message.
MAX_ENTRIES = 2000
MAX_STEPS = 1000
MAX_DELAY = 5.0


def list_folder(path: str | None = None) -> dict[str, Any]:
    """List a folder (default: the working directory); folders first, then files, each by name.

    Returns ``{"path", "parent", "entries", "omitted"}``: ``path`` is absolute,
    ``parent`` is the folder above (None at the top), each entry is ``{"name",
    "path", "folder", "size", "modified"}`` (size and modified are None when
    the entry cannot be read), and ``omitted`` counts entries beyond
    :data:`MAX_ENTRIES`. A folder that cannot be opened raises RPCError
    :data:`CANNOT_LIST` with ``data`` ``{"path", "errno"}``.
    """
    # abspath, not resolve: going up from a folder reached through a link goes back where the user came from.
    folder = os.path.abspath(os.path.expanduser(path)) if path else os.getcwd()
    try:
        with os.scandir(folder) as found:
            scanned = list(found)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise RPCError(
            CANNOT_LIST,
            f"Cannot open {folder}: {reason}",
            {"path": folder, "errno": errno.errorcode.get(exc.errno or 0, "")},
        ) from None
    entries: list[dict[str, Any]] = []
    for entry in scanned:
        try:
            is_folder = entry.is_dir()
            info = entry.stat()
            size: int | None = info.st_size
            modified: float | None = info.st_mtime
        except OSError:  # removed meanwhile, a broken link, or no permission to look
            is_folder, size, modified = False, None, None
        entries.append(
            {"name": entry.name, "path": entry.path, "folder": is_folder, "size": size, "modified": modified}
        )
    entries.sort(key=lambda item: (not item["folder"], item["name"].casefold(), item["name"]))
    parent = os.path.dirname(folder)
    return {
        "path": folder,
        "parent": parent if parent != folder else None,
        "entries": entries[:MAX_ENTRIES],
        "omitted": max(0, len(entries) - MAX_ENTRIES),
    }


class DemoApp:
    """The app's plugin: the monitor task and the methods of one kernel.

    ``last_task`` is the latest ``task.run``'s record (``status`` "running",
    "finished" or "cancelled", ``done``, ``total``), what the kernel itself saw.
    """

    def __init__(self, monitor_interval: float = 1.0, sampler: Sampler | None = None) -> None:
        if not monitor_interval > 0:
            raise ValueError(f"monitor_interval must be a positive number of seconds, not {monitor_interval!r}")
        self.monitor_interval = monitor_interval
        self.sampler = sampler or Sampler()
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self.last_task: dict[str, Any] | None = None
        self._monitor: asyncio.Task[None] | None = None

    @hookimpl
    def register_methods(self, kernel: RPCKernel, register: Callable[..., Any]) -> None:
        def monitor_info() -> dict[str, Any]:
            """The machine, where the numbers come from, the sampling interval and the recent samples."""
            return {**self.sampler.info(), "interval": self.monitor_interval, "history": list(self.history)}

        register(monitor_info, name="monitor.info")
        # Not "files.list": that name is the files plugin's (sidegears-plugin-files), which a kernel may load too.
        register(list_folder, name="folder.list")

        async def run_task(steps: int = 40, delay: float = 0.1) -> dict[str, Any]:
            """Work ``steps`` steps of ``delay`` seconds, reporting progress; the caller may cancel it."""
            # The kernel checked the types from the annotations (an int, a float); the ranges are ours.
            if not 0 < steps <= MAX_STEPS:
                raise InvalidParams(f"steps must be from 1 to {MAX_STEPS}")
            if not 0 <= delay <= MAX_DELAY:
                raise InvalidParams(f"delay must be from 0 to {MAX_DELAY} seconds")
            record: dict[str, Any] = {"status": "running", "done": 0, "total": steps}
            self.last_task = record
            started = time.monotonic()
            connection = current_connection()
            try:
                for done in range(1, steps + 1):
                    await asyncio.sleep(delay)  # the "work": any await is where a cancel arrives
                    record["done"] = done
                    report_progress({"done": done, "total": steps, "message": f"step {done} of {steps}"})
            except asyncio.CancelledError:
                record["status"] = "cancelled"
                # The caller aborted and ignores the reply (-32800), so say where the work stopped in a notification.
                if connection is not None:
                    connection.send_notification("task.cancelled", dict(record))
                raise
            record["status"] = "finished"
            record["seconds"] = round(time.monotonic() - started, 2)
            return dict(record)

        register(run_task, name="task.run")

        async def quit() -> None:
            """Stop the kernel (the page's Quit button); the reply is sent first."""
            await kernel.astop()

        register(quit)

    @hookimpl
    def on_startup(self, kernel: RPCKernel) -> None:
        self._monitor = asyncio.get_running_loop().create_task(self._sample(kernel))

    @hookimpl
    async def on_shutdown(self) -> None:
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
            self._monitor = None

    async def _sample(self, kernel: RPCKernel) -> None:
        """Sample and push, for as long as the kernel runs.

        A sample reads a few small /proc files (or asks psutil, which does the
        same), well under a millisecond, so it runs on the loop itself.
        """
        while True:
            # Wait first: CPU use is measured since the previous reading, and the first one was just taken.
            await asyncio.sleep(self.monitor_interval)
            sample = self.sampler.sample()
            self.history.append(sample)
            kernel.send_notification("monitor.sample", sample)


def create_kernel(monitor_interval: float = 1.0, **options: Any) -> RPCKernel:
    """A kernel (not started) serving the demo: its methods, its monitor (a sample every ``monitor_interval`` s), its page."""
    kernel = RPCKernel(static_dir=str(STATIC), **options)
    kernel.register_plugin(DemoApp(monitor_interval), name="demo_app")
    return kernel


def main(argv: list[str] | None = None) -> int:
    """Run the demo until its window closes, or Ctrl-C."""
    return run_app(create_kernel, argv, description="The SideGears demo app.")


if __name__ == "__main__":
    sys.exit(main())
