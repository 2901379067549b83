"""Instructions each server executes per call, counted by callgrind: figures a noisy machine cannot move.

    python -m benchmarks.instructions                       # websockets, the kernel (and picows if installed)
    python -m benchmarks.instructions --only clients10 --servers baseline,kernel
    python -m benchmarks.instructions --kernel-option=--noop-plugins --kernel-option=1
    python -m benchmarks.instructions --before /path/to/worktree   # also another checkout's kernel
    python -m benchmarks.instructions --clients 100,500 --only clients10,clients100,clients500
    python -m benchmarks.instructions --hooks --servers kernel   # what one no-op plugin adds, against its hook calls

Each server runs under ``valgrind --tool=callgrind`` (Debian's ``valgrind``)
with counting off while it starts. For each scenario the raw-socket client
of the anchors (``rawclient.py``) connects and warms up, then makes a fixed
number of calls while counting is on (``callgrind_control``), and the count
is divided by the calls made. The same binary, input and environment give
the same count whatever else the machine does (two runs differ by well under
1 %), so this is where a change of a few percent can be seen; seconds are
still what users feel, and ``benchmarks.run`` and ``benchmarks.anchors``
measure those. Only user-space instructions of the server process are
counted: the system calls' own work (the TCP stack, a 256 KiB ``mmap``) is
not, and a server is slowed about 50 times while counted.

``--hooks`` also counts the kernel with ``benchmarks.hook_cost.NoopPlugin``
registered, and the plugin's hook calls alone, in process, as the kernel
makes them (``python -m benchmarks.hook_cost --loop``, run under callgrind
for 0 and for N calls). What the plugin adds to a call, divided by what its
hook calls cost, is 1.0 when an implemented hook costs its call and no more.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from benchmarks import rawclient
from benchmarks.load import Meter
from benchmarks.run import markdown_table, number
from benchmarks.serving import ServerProcess, run_loop

#: scenario -> (what it is, connections, calls in flight on each (0: batches of 100), calls counted)
SCENARIOS: dict[str, tuple[str, int, int, int]] = {
    "sequential": ("one add() at a time on one connection", 1, 1, 3000),
    "clients10": ("10 connections, one add() at a time on each", 10, 1, 6000),
    "inflight64": ("64 add() calls in flight on one connection", 1, 64, 20000),
    "batch100": ("batches of 100 add() calls, one at a time (per call)", 1, 0, 20000),
    "notify": ("notifications pushed to one connection by one call (per notification)", 1, 0, 20000),
}
BATCH = 100


class _CountingMeter(Meter):
    """Counting on for exactly the span a scenario of the anchors' client times."""

    def __init__(self, counting: Callable[[bool], None]) -> None:
        super().__init__()
        self._counting = counting

    def __enter__(self) -> Meter:
        self._counting(True)
        return super().__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        super().__exit__(*exc_info)
        self._counting(False)


async def run_counted(url: str, scenario: str, calls: int, counting: Callable[[bool], None]) -> int:
    """Open and warm up the scenario's connections, then make ``calls`` calls with counting on; return the calls made."""
    if scenario == "notify":
        metrics = await rawclient.notification_throughput(url, _CountingMeter(counting), count=calls,
                                                          max_seconds=3600)
        return int(metrics["ops"])
    _, connections, window, _ = SCENARIOS[scenario]
    clients = await rawclient.open_many(url, connections)
    try:
        for ws in clients:
            await rawclient.warm_up(ws)
        counting(True)
        try:
            if window:
                pipelines = [rawclient.Pipeline(ws, calls // connections, window, float("inf")) for ws in clients]
                for pipeline in pipelines:
                    pipeline.start()
                return sum(await asyncio.wait_for(asyncio.gather(*(p.done for p in pipelines)), 3600))
            frame, (ws,) = rawclient.batch_frame(BATCH), clients
            for _ in range(calls // BATCH):
                ws.write(frame)
                rawclient.check_batch_reply(await ws.recv(), BATCH)
            return calls // BATCH * BATCH
        finally:
            counting(False)
    finally:
        await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)


SERVERS = {
    "baseline": ("websockets", "baseline_server"),
    "kernel": ("kernel", "kernel_server"),
    "picows": ("picows+uvloop", "picows_server"),
    "bare": ("bare Protocol", "bare_server"),
}


def _callgrind(tool: str, pid: int, *options: str) -> None:
    subprocess.run([tool, *options, str(pid)], check=True, capture_output=True, timeout=120)


def _instructions_in(dump: Path) -> int:
    """The instructions a callgrind output file counted."""
    return sum(int(found) for found in re.findall(r"^totals: (\d+)", dump.read_text(errors="replace"), re.M))


def count_server(server: str, scenarios: list[str], scale: float, options: list[str],
                 root: Path | None = None) -> dict[str, float]:
    """Instructions per call of ``server`` in each scenario: one server process, counted scenario by scenario.

    ``root``: the checkout the server runs from (default: this one).
    """
    control = shutil.which("callgrind_control")
    if shutil.which("valgrind") is None or control is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    _, module = SERVERS[server]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                   sys.executable, "-m", f"benchmarks.{module}", "--port", "0", *options]
        results: dict[str, float] = {}
        where = {} if root is None else {"root": root}
        with ServerProcess(module, label=server, command=command, **where).start(timeout=300) as process:
            for name in scenarios:
                calls = max(100, int(SCENARIOS[name][3] * scale))

                def counting(on: bool) -> None:
                    if on:
                        _callgrind(control, process.pid, "--instr=on")
                    else:  # a dump also sets the counts back to zero
                        _callgrind(control, process.pid, "--dump")
                        _callgrind(control, process.pid, "--instr=off")

                made = run_loop(lambda: run_counted(process.url, name, calls, counting))  # noqa: B023
                dumps = sorted(glob.glob(f"{out}.*"), key=lambda path: int(path.rsplit(".", 1)[1]))
                results[name] = _instructions_in(Path(dumps[-1])) / made
                print(f"  {server:9s} {name:11s} {results[name]:>10,.0f} instructions a call",
                      file=sys.stderr)
        return results


#: Hook calls counted in process, for --hooks.
HOOK_LOOP = 20_000


def count_hook_call(hook: str) -> float:
    """Instructions of one call of ``hook`` as the kernel makes it (one no-op plugin): N calls less none, over N."""
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    totals = []
    for calls in (0, HOOK_LOOP):
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "callgrind.out"
            subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                            "-m", "benchmarks.hook_cost", "--loop", hook, str(calls)],
                           check=True, capture_output=True, timeout=600, env={**os.environ, "PYTHONHASHSEED": "0"})
            totals.append(_instructions_in(out))
    return (totals[1] - totals[0]) / HOOK_LOOP


def hooks_table(scenarios: list[str], plain: dict[str, float], with_plugin: dict[str, float]) -> str:
    """What one NoopPlugin adds to a call in each scenario, against the instructions of its hook calls in process."""
    from benchmarks.hook_cost import HOOK_CALLS

    before_dispatch, log_message = count_hook_call("before_dispatch"), count_hook_call("log_message")
    rows = []
    for name in scenarios:
        calls = HOOK_CALLS.get(name, HOOK_CALLS["request"])
        hooks = calls[0] * before_dispatch + calls[1] * log_message
        added = with_plugin[name] - plain[name]
        rows.append([f"**{name}**", number(plain[name]), number(with_plugin[name]), number(added),
                     f"{calls[0]:g} x {number(before_dispatch)} + {calls[1]:g} x {number(log_message)} = {number(hooks)}",
                     number(added / hooks)])
    return markdown_table(["scenario", "kernel", "kernel, 1 no-op plugin", "added a call",
                           "its hook calls in process (before_dispatch, log_message)", "added / hook calls"], rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="baseline,kernel,picows",
                        help="comma-separated, among baseline, kernel, picows, bare (picows is skipped if not installed)")
    parser.add_argument("--only", help="comma-separated scenarios (default: all): " + ", ".join(SCENARIOS))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of calls (the smoke test uses 0.05)")
    parser.add_argument("--kernel-option", action="append", default=[],
                        help="an option for kernel_server, e.g. --kernel-option=--uvloop (repeat for more)")
    parser.add_argument("--clients", default="", metavar="N,...",
                        help="also the scenarios clientsN: N connections, one add() at a time on each "
                             "(does a call's count grow with the connections?)")
    parser.add_argument("--hooks", action="store_true",
                        help="also count the kernel with one no-op plugin, against its hook calls in process")
    parser.add_argument("--before", type=Path,
                        help="also count the kernel of another checkout (e.g. a git worktree), as 'kernel before'")
    args = parser.parse_args(argv)
    for count in (int(n) for n in args.clients.split(",") if n):
        SCENARIOS[f"clients{count}"] = (f"{count} connections, one add() at a time on each", count, 1,
                                        max(6000, 2 * count))
    scenarios = [name for name in args.only.split(",") if name] if args.only else list(SCENARIOS)
    servers = [name for name in args.servers.split(",") if name]
    for name in scenarios + servers:
        if name not in SCENARIOS and name not in SERVERS:
            parser.error(f"unknown scenario or server: {name}")
    skipped = []
    if "picows" in servers:
        try:
            import picows  # noqa: F401
            import uvloop  # noqa: F401
        except ImportError:
            servers.remove("picows")
            skipped.append("picows+uvloop (not installed: pip install -e '.[bench]')")
    counts: dict[str, dict[str, float]] = {}
    labels = {server: SERVERS[server][0] for server in servers}
    if args.before is not None:
        counts["before"] = count_server("kernel", scenarios, args.scale, args.kernel_option, args.before.resolve())
        labels = {"before": "kernel before", **labels}
    for server in servers:
        counts[server] = count_server(server, scenarios, args.scale,
                                      args.kernel_option if server == "kernel" else [])
    hooks = ""
    if args.hooks:
        plain = counts["kernel"] if "kernel" in counts else count_server("kernel", scenarios, args.scale,
                                                                          args.kernel_option)
        with_plugin = count_server("kernel", scenarios, args.scale, [*args.kernel_option, "--noop-plugins", "1"])
        hooks = hooks_table(scenarios, plain, with_plugin)
    headers = ["scenario", "what"]
    for server, label in labels.items():
        headers.append(label)
        if server != "baseline" and "baseline" in counts:
            headers.append(f"{label} / websockets")
    if "before" in counts and "kernel" in counts:
        headers.append("kernel / kernel before")
    rows: list[list[str]] = []
    for name in scenarios:
        row = [f"**{name}**", SCENARIOS[name][0]]
        for server in labels:
            row.append(number(counts[server][name]))
            if server != "baseline" and "baseline" in counts:
                row.append(number(counts[server][name] / counts["baseline"][name]))
        if "before" in counts and "kernel" in counts:
            row.append(number(counts["kernel"][name] / counts["before"][name]))
        rows.append(row)
    print(f"- command: python -m benchmarks.instructions {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"- python: {sys.version.split()[0]}; valgrind: "
          f"{subprocess.run(['valgrind', '--version'], capture_output=True, text=True).stdout.strip()}")
    if skipped:
        print("- skipped: " + "; ".join(skipped))
    print("- instructions a call, user space, server process (lower is better); ratios to websockets\n")
    print(markdown_table(headers, rows))
    if hooks:
        print("\nOne no-op plugin (benchmarks/hook_cost.py's NoopPlugin), instructions a call:\n")
        print(hooks)


if __name__ == "__main__":
    main()
