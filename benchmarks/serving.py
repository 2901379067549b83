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
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "MAX_MESSAGE_SIZE",
    "REPO_ROOT",
    "ServerProcess",
    "announce",
    "process_stats",
    "run_loop",
    "run_server",
    "server_arguments",
    "serve_until_stopped",
    "wait_for_stop",
]

#: Both servers and the client accept messages up to this size: room for the
#: 16 MB round trip plus its JSON-RPC envelope (also the kernel's default).
MAX_MESSAGE_SIZE = 16 * 2**20

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parent.parent
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


def run_loop(main: Callable[[], Awaitable[T]], uvloop: bool = False) -> T:
    """Run ``main()`` on a fresh event loop (uvloop's if asked) and close it."""
    _raise_file_limit()
    loop: asyncio.AbstractEventLoop
    if uvloop:
        import uvloop as uvloop_module  # optional: only with --with-uvloop

        loop = uvloop_module.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(main())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)


def run_server(main: Callable[[], Awaitable[None]], args: argparse.Namespace) -> None:
    """Run ``main()`` on a fresh event loop, optionally uvloop and cProfile."""
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    try:
        run_loop(main, uvloop=args.uvloop)
    finally:
        if profiler is not None:
            profiler.disable()
            pstats.Stats(profiler).dump_stats(args.profile)


def announce(port: int) -> None:
    """Tell the runner that the server listens on ``port``."""
    print(f"READY {port}", flush=True)


async def wait_for_stop() -> None:
    """Serve the runner's requests on stdin; return at end of file or on SIGTERM.

    The runner writes ``cpu`` to ask for the CPU time this process has used:
    read here with nanosecond resolution, where ``/proc`` counts 10 ms ticks.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    def answer_runner() -> None:
        for line in sys.stdin:
            if line.strip() == "cpu":
                print(f"CPU {time.process_time()}", flush=True)
        loop.call_soon_threadsafe(stop.set)

    # A daemon thread blocked in readline() holds no GIL, so it costs the loop
    # nothing, and it does not keep the process alive after a SIGTERM.
    threading.Thread(target=answer_runner, name="runner-requests", daemon=True).start()
    await stop.wait()


async def serve_until_stopped(server: asyncio.AbstractServer) -> None:
    """Announce ``server``'s port, serve until the runner stops this process, then close it."""
    async with server:
        announce(server.sockets[0].getsockname()[1])
        await wait_for_stop()


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

    def __init__(self, module: str, *options: str, label: str | None = None, root: Path = REPO_ROOT,
                 command: list[str] | None = None) -> None:
        self.module = module
        #: The whole command line, for a server that is not a Python module of
        #: this package (the Node anchor): it must speak the same protocol
        #: (``READY <port>``, ``cpu`` on stdin, stop at end of stdin).
        self.command = command
        #: The checkout the server runs from (working directory, first on PYTHONPATH).
        self.root = root
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
            [str(self.root), os.environ.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep))
        command = self.command or [sys.executable, "-m", f"benchmarks.{self.module}", "--port", "0"]
        self._process = subprocess.Popen(
            [*command, *self.options],
            cwd=self.root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        try:
            word, port = self._read_line(timeout).split()
            if word != "READY":
                raise RuntimeError(f"{self.label}: unexpected first line {word} {port}")
        except BaseException:
            self.stop()
            raise
        self.port = int(port)
        return self

    def _read_line(self, timeout: float) -> str:
        """Read one line of the server's stdout, failing after ``timeout`` seconds."""
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout.fileno()
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([stdout], [], [], max(remaining, 0))
            if not ready:
                raise RuntimeError(f"{self.label}: no answer within {timeout} s")
            chunk = os.read(stdout, 1)
            if not chunk:
                raise RuntimeError(f"{self.label} exited:\n{self.stderr_text()}")
            line += chunk
        return line.decode()

    def cpu_seconds(self) -> float:
        """Return the user plus system CPU time the server has used so far."""
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(b"cpu\n")
        self._process.stdin.flush()
        word, seconds = self._read_line(10.0).split()
        if word != "CPU":
            raise RuntimeError(f"{self.label}: unexpected answer {word} {seconds}")
        return float(seconds)

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
