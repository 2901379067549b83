"""``sidegears run --reload``: run the app in a child process and restart it when its Python files change.

Python cannot reliably re-import a changed app in place, so each run is a new
process. Every run serves on the same port and keeps the same secret (the app
is named by its path, see :mod:`sidegears.app_secret`), so the page the first
run opened reconnects by itself to the next one. The files are polled: it
needs no dependency, and an app's folder is small.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .cli import RunSettings

__all__ = ["run_reloading", "python_files"]

#: Seconds between two looks at the files.
POLL_INTERVAL = 0.25
#: Seconds a run gets to stop cleanly (SIGTERM) before it is killed.
STOP_WAIT = 5.0
#: Folders never watched: tools' caches and dependencies, not the app's code.
SKIPPED_DIRS = frozenset({".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", "dist", "build"})
#: At most this many files are watched, so that a huge folder cannot make the polling costly.
MAX_FILES = 5000


def python_files(root: Path) -> Iterator[Path]:
    """The ``.py`` files under ``root``, skipping :data:`SKIPPED_DIRS` and hidden folders."""
    count = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".")]
        for name in files:
            if name.endswith(".py"):
                yield Path(folder, name)
                count += 1
                if count >= MAX_FILES:
                    return


def _snapshot(root: Path) -> dict[Path, float]:
    stamps = {}
    for path in python_files(root):
        try:
            stamps[path] = path.stat().st_mtime
        except OSError:
            pass  # removed while we looked
    return stamps


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGTERM if hasattr(signal, "SIGTERM") else signal.SIGINT)
    try:
        child.wait(STOP_WAIT)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def run_reloading(path: Path, app_args: Sequence[str], settings: RunSettings) -> int:
    """Run ``path`` with ``app_args`` until Ctrl-C, restarting it whenever a ``.py`` file of its folder changes."""
    root = path.resolve().parent
    if settings.port is None and not _names_a_port(app_args):
        settings.port = _free_port()
    command = [sys.executable, "-m", "sidegears", "run", str(path), *app_args]
    print(f"sidegears run --reload: watching the Python files under {root}", flush=True)
    stamps = _snapshot(root)
    child: subprocess.Popen[bytes] | None = None
    try:
        while True:
            if child is None:
                environment = dict(os.environ)
                settings.export(environment)
                child = subprocess.Popen(command, env=environment)
                settings.restarted = True
            time.sleep(POLL_INTERVAL)
            status = child.poll()
            now = _snapshot(root)
            if now != stamps:
                changed = sorted(str(p.relative_to(root)) for p in now.keys() | stamps.keys() if now.get(p) != stamps.get(p))
                stamps = now
                print(f"sidegears run --reload: {', '.join(changed[:3])} changed; restarting", flush=True)
                _stop(child)
                child = None
            elif status is not None:
                if status == 0:
                    return 0  # the app ended by itself (its window closed)
                print(f"sidegears run --reload: the app exited with status {status}; waiting for a change", flush=True)
                stamps = _wait_for_change(root, stamps)
                child = None
    except KeyboardInterrupt:
        return 0
    finally:
        if child is not None:
            _stop(child)


def _wait_for_change(root: Path, stamps: dict[Path, float]) -> dict[Path, float]:
    while True:
        time.sleep(POLL_INTERVAL)
        now = _snapshot(root)
        if now != stamps:
            return now


def _names_a_port(app_args: Sequence[str]) -> bool:
    return any(arg == "--port" or arg.startswith("--port=") for arg in app_args)
