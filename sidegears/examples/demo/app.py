"""The SideGears demo: multiply two numbers, show the kernel's working directory, list a folder.

Run it with ``sidegears demo``, ``sidegears run app.py`` or ``python app.py``;
``--port N`` picks the port and ``--no-browser`` prints the page's address
instead of opening a window.

The methods belong to this app's kernel only: a small plugin hands them over
when the kernel starts (the ``register_methods`` hook). ``@rpc_method`` is the
shortcut for a script that runs one kernel: it serves a function from every
kernel in the process.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sidegears import RPCKernel, hookimpl
from sidegears.cli import run_app

HERE = Path(__file__).resolve().parent


def multiply(a: float, b: float) -> float:
    """Return a times b."""
    return a * b


def getcwd() -> str:
    """Return the kernel's current working directory."""
    return os.getcwd()


def scandir(path: str | None = None) -> dict[str, Any]:
    """List a folder (default: the working directory): its folders and files, each sorted by name.

    Returns ``{"folders": [...], "files": [...], "status": "OK"}``, each item
    ``{"name", "modified_sec", "size"}``; for a path that is not a folder,
    empty lists and a status starting with "Error".
    """
    path = path or os.getcwd()
    if not os.path.isdir(path):
        return {"folders": [], "files": [], "status": "Error - path is not a directory"}
    folders: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    with os.scandir(path) as entries:
        for entry in entries:
            try:
                info = entry.stat()
                is_dir = entry.is_dir()
            except OSError:
                continue  # removed meanwhile, or a broken link
            item = {"name": entry.name, "modified_sec": info.st_mtime, "size": info.st_size}
            (folders if is_dir else files).append(item)
    folders.sort(key=lambda item: item["name"])
    files.sort(key=lambda item: item["name"])
    return {"folders": folders, "files": files, "status": "OK"}


class DemoApp:
    """The app's plugin: its methods, registered with the kernel when it starts."""

    @hookimpl
    def register_methods(self, kernel: RPCKernel, register: Callable[..., Any]) -> None:
        register(multiply)
        register(getcwd)
        register(scandir)

        async def quit() -> None:
            """Stop the kernel (the page's Quit button); the reply is sent first."""
            await kernel.astop()

        register(quit)


def create_kernel(**options: Any) -> RPCKernel:
    """A kernel (not started) serving the demo's methods, and its page from this folder."""
    kernel = RPCKernel(static_dir=str(HERE), **options)
    kernel.register_plugin(DemoApp(), name="demo_app")
    return kernel


def main(argv: list[str] | None = None) -> int:
    """Run the demo until its window closes, or Ctrl-C."""
    return run_app(create_kernel, argv, description="The SideGears demo app.")


if __name__ == "__main__":
    sys.exit(main())
