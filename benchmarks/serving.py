"""Lifecycle of a benchmark server process, seen from both sides.

Server side: every server module (``baseline_server``, ``kernel_server``) parses
the same command line, prints ``READY <port>`` once it listens, and stops when
its standard input closes or on SIGTERM, so a runner that dies never leaves a
server behind.

Runner side: :class:`ServerProcess` starts such a module in a subprocess, waits
for the ``READY`` line, reads the server's CPU time and memory from ``/proc``,
and always stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_MESSAGE_SIZE",
    "ServerProcess",
    "announce",
    "process_stats",
    "run_server",
    "server_arguments",
    "wait_for_stop",
]

#: Both servers and the client accept messages up to this size: room for the
#: 16 MB round trip plus its JSON-RPC envelope (also the kernel's default).
MAX_MESSAGE_SIZE = 16 * 2**20

REPO_ROOT = Path(__file__).resolve().parent.parent
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


# --- server side -------------------------------------------------------------


def server_arguments(description: str) -> argparse.ArgumentParser:
    """Return the command-line parser shared by the server modules."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--compression",
        choices=["none", "deflate"],
        default="none",
        help="permessage-deflate on or off (default off)",
    )
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="run under cProfile and write the stats to FILE on exit",
    )
    return parser


def run_server(main: Callable[[], Awaitable[None]], args: argparse.Namespace) -> None:
    """Run ``main()`` on a fresh event loop, optionally uvloop and cProfile."""
    _raise_file_limit()
    loop_factory = None
    if args.uvloop:
        import uvloop  # optional: only with --with-uvloop

        loop_factory = uvloop.new_event_loop
    profiler = cProfile.Profile() if args.profile else None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        if profiler is not None:
            profiler.enable()
        try:
            runner.run(main())
        finally:
            if profiler is not None:
                profiler.disable()
                pstats.Stats(profiler).dump_stats(args.profile)


def announce(port: int) -> None:
    """Tell the runner that the server listens on ``port``."""
    print(f"READY {port}", flush=True)


async def wait_for_stop() -> None:
    """Return when standard input reaches end of file or SIGTERM arrives."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # A thread blocked in read() holds no GIL, so it costs the loop nothing.
    stdin_closed = loop.run_in_executor(None, sys.stdin.buffer.read)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait([stdin_closed, stopped], return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()


def process_stats() -> dict[str, int]:
    """Return this process's resident memory and its count of live objects."""
    gc.collect()
    return {"rss_kib": _rss_kib(os.getpid()), "objects": len(gc.get_objects())}


def _raise_file_limit() -> None:
    # 500 clients need 500 descriptors on each side, plus the usual ones.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE_KIB


# --- runner side ---------------------------------------------------------------


class ServerProcess:
    """One benchmark server running in its own process.

    Use as a context manager: the process is always stopped on exit, first by
    closing its standard input, then SIGTERM, then SIGKILL.
    """

    def __init__(self, module: str, *options: str, label: str | None = None) -> None:
        self.module = module
        self.options = list(options)
        self.label = label or module
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr = tempfile.TemporaryFile()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self, timeout: float = 30.0) -> ServerProcess:
        """Start the server and wait until it prints ``READY <port>``."""
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep))
        self._process = subprocess.Popen(
            [sys.executable, "-m", f"benchmarks.{self.module}", "--port", "0", *self.options],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        assert self._process.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._process.stdout], [], [], max(remaining, 0))
            if not ready:
                self.stop()
                raise RuntimeError(f"{self.label}: no READY line within {timeout} s")
            chunk = os.read(self._process.stdout.fileno(), 1)
            if not chunk:
                self.stop()
                raise RuntimeError(f"{self.label} exited before READY:\n{self.stderr_text()}")
            line += chunk
        word, port = line.decode().split()
        if word != "READY":
            self.stop()
            raise RuntimeError(f"{self.label}: unexpected first line {line!r}")
        self.port = int(port)
        return self

    def cpu_seconds(self) -> float:
        """Return the user plus system CPU time the server has used so far."""
        with open(f"/proc/{self.pid}/stat") as stat:
            # Field 2 (comm) may hold spaces; fields after it are fixed.
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    def rss_kib(self) -> int:
        """Return the server's resident memory in KiB."""
        return _rss_kib(self.pid)

    def stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-4000:]

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the server (stdin EOF, then SIGTERM, then SIGKILL); return its exit code."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            try:
                assert process.stdin is not None
                process.stdin.close()
                process.wait(timeout)
            except (subprocess.TimeoutExpired, BrokenPipeError):
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
        for stream in (process.stdin, process.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        return process.returncode

    def __enter__(self) -> ServerProcess:
        if self._process is None:
            self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
