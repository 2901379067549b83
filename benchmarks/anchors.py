"""The anchors: the kernel and bare websockets beside Node (rpc-websockets) and picows+uvloop.

    python -m benchmarks.anchors                   # all five servers, 5 rounds: several minutes
    python -m benchmarks.anchors --quick           # 3 rounds, smaller counts
    python -m benchmarks.anchors --smoke           # tiny counts, one round: checks only that all runs
    python -m benchmarks.anchors --servers baseline,kernel,picows
    make bench-anchors                             # installs picows+uvloop (.venv/bench) and Node's packages, runs it

The kernel runs twice: as the default install runs it (asyncio's loop, the
stdlib JSON codec), and as the speed extra does (``kernel [speed]``: uvloop
and orjson). Every server runs in its own process and answers the same methods; the load
client is this process, a raw-socket client (``benchmarks/rawclient.py``)
with pre-built masked frames, on uvloop if installed. Scenarios run in
interleaved rounds (the order of the servers rotates every round); the
report gives the median over the rounds with the spread [min-max], the ratio
to bare websockets, and the client's CPU: a figure taken while the client
was saturated (over 90 % of one core) is marked ``client-bound``. An anchor whose runtime is missing
(no ``node`` or no ``benchmarks/node/node_modules``; no picows, uvloop or orjson) is
skipped, and the report says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import rawclient
from benchmarks.load import Meter, ScenarioError
from benchmarks.run import markdown_table, number
from benchmarks.serving import REPO_ROOT, ServerProcess, run_loop

NODE_DIR = Path(__file__).resolve().parent / "node"
ALL_SERVERS = ("baseline", "kernel", "speed", "node", "picows", "bare", "bare-uvloop")
#: What a run without --servers runs: the bare anchors are asked for by name (they show what a
#: target can be for any server on the same frames and loop; see bare_server.py).
DEFAULT_SERVERS = ("baseline", "kernel", "speed", "node", "picows")
DEFAULT_ROUNDS = {"full": 5, "quick": 3, "smoke": 1}
CLIENT_BOUND = 90.0  # % of one core: above it the client, not the server, may set the figure
SCALE_CLIENTS = {"full": (1, 10, 100, 500), "quick": (1, 10, 100, 500), "smoke": (1, 10)}
# calls and notifications are shared among the clients (calls a time-bounded loop, notifications one
# broadcast): enough that the fastest servers take a few hundred milliseconds, not a few.
SCALE_SIZES = {
    "full": dict(calls=100_000, notifications=200_000, max_seconds=4),
    "quick": dict(calls=30_000, notifications=60_000, max_seconds=2),
    "smoke": dict(calls=40, notifications=40, max_seconds=1),
}
LABELS = {"baseline": "websockets", "kernel": "kernel", "speed": "kernel [speed]", "node": "node rpc-websockets",
          "picows": "picows+uvloop", "bare": "bare Protocol", "bare-uvloop": "bare Protocol+uvloop"}


def log(text: str, started: float = time.monotonic()) -> None:
    """Print a progress line on stderr, with the seconds since the start."""
    print(f"[{time.monotonic() - started:5.1f} s] {text}", file=sys.stderr, flush=True)


# --- the servers --------------------------------------------------------------------------------


@dataclass
class ServerSpec:
    """How to start one server, or why it cannot run here."""

    name: str
    module: str
    command: list[str] | None = None
    missing: str | None = None  # the reason it is skipped

    @property
    def label(self) -> str:
        return LABELS[self.name]

    def process(self) -> ServerProcess:
        return ServerProcess(self.module, label=self.label, command=self.command)


def server_spec(name: str, node: str = "node") -> ServerSpec:
    """Return how to run server ``name``; ``missing`` says why not, if its runtime is absent."""
    if name == "baseline":
        return ServerSpec(name, "baseline_server")
    if name == "kernel":  # as the default install runs it: asyncio's loop, the stdlib codec
        return ServerSpec(name, "kernel_server", command=_kernel_command("--codec", "stdlib"))
    if name == "speed":  # as the speed extra runs it: uvloop, orjson
        absent = [m for m in ("uvloop", "orjson") if importlib.util.find_spec(m) is None]
        if absent:
            return ServerSpec(name, "kernel_server", missing=f"{' and '.join(absent)} not installed "
                                                              "(pip install -e '.[bench]')")
        return ServerSpec(name, "kernel_server", command=_kernel_command("--uvloop", "--codec", "orjson"))
    if name == "node":
        executable = shutil.which(node)
        if executable is None:
            return ServerSpec(name, "node", missing=f"no Node executable ({node!r} not found)")
        if not (NODE_DIR / "node_modules" / "rpc-websockets").is_dir():
            return ServerSpec(name, "node", missing="benchmarks/node/node_modules is not installed "
                                                      "(cd benchmarks/node && npm ci, or make setup)")
        return ServerSpec(name, "node", command=[executable, str(NODE_DIR / "server.mjs"), "--port", "0"])
    if name == "picows":
        absent = [m for m in ("picows", "uvloop") if importlib.util.find_spec(m) is None]
        if absent:
            return ServerSpec(name, "picows_server", missing=f"{' and '.join(absent)} not installed "
                                                              "(pip install -e '.[bench]')")
        return ServerSpec(name, "picows_server")
    if name == "bare":
        return ServerSpec(name, "bare_server")
    if name == "bare-uvloop":
        if importlib.util.find_spec("uvloop") is None:
            return ServerSpec(name, "bare_server", missing="uvloop not installed (pip install -e '.[bench]')")
        return ServerSpec(name, "bare_server", command=[sys.executable, "-m", "benchmarks.bare_server", "--port", "0",
                                                        "--uvloop"])
    raise ValueError(name)


def _kernel_command(*options: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.kernel_server", "--port", "0", *options]


def versions(specs: list[ServerSpec]) -> str:
    """Return the versions of what the running servers and the client are made of."""
    from benchmarks.run import _git_revision

    running = {spec.name for spec in specs if not spec.missing}
    client_loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    packages = ["websockets", "sidegears"] + (["picows"] if "picows" in running else []) + (
        ["uvloop"] if {"picows", "speed"} & running or client_loop == "uvloop" else []) + (
        ["orjson"] if "speed" in running else [])
    found = {"python": sys.version.split()[0]}
    for package in packages:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[package] = importlib.metadata.version(package)
    if "sidegears" in found:
        found["sidegears"] += _git_revision()
    if any(spec.name == "node" and not spec.missing for spec in specs):
        spec = next(spec for spec in specs if spec.name == "node")
        assert spec.command is not None
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            found["node"] = subprocess.run([spec.command[0], "--version"], capture_output=True, text=True,
                                           timeout=10).stdout.strip()
        for package in ("rpc-websockets", "ws"):
            with contextlib.suppress(OSError, ValueError):
                manifest = json.loads((NODE_DIR / "node_modules" / package / "package.json").read_text())
                found[package] = manifest["version"]
    return ", ".join(f"{name} {version}" for name, version in found.items())


# --- running -------------------------------------------------------------------------------------


async def run_once(server: ServerProcess, scenario: rawclient.RawScenario, mode: str) -> dict[str, Any]:
    """Run ``scenario`` once against ``server``; return its numbers, or the error."""
    params = scenario.params(mode)
    meter = Meter(server.cpu_seconds)
    try:
        metrics = await asyncio.wait_for(scenario.run(server.url, meter, **params), params["max_seconds"] + 30)
    except (ScenarioError, TimeoutError, asyncio.TimeoutError, OSError, RuntimeError, ValueError,
            KeyError) as exc:  # RuntimeError: the server process is gone (serving.ServerProcess)
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    ops = metrics.pop("ops")
    metrics["server CPU µs/op"] = meter.server_cpu / ops * 1e6
    metrics["client CPU %"] = meter.client_cpu / meter.wall * 100
    return metrics


async def run_scale_once(spec: ServerSpec, clients: int, mode: str) -> dict[str, Any]:
    """A fresh server, warmed up by one short connection, then ``clients`` connections at once."""
    sizes = SCALE_SIZES[mode]
    try:
        with spec.process() as server:
            warm = await rawclient.connect(server.url)
            try:
                await warm.call("add", 1, 2)
                await warm.call("notify_burst", 3)
            finally:
                await warm.close()
            await asyncio.sleep(0.05)
            meter = Meter(server.cpu_seconds)
            metrics = await asyncio.wait_for(
                rawclient.measure_scale(server.url, server.rss_kib, meter, clients=clients, **sizes),
                sizes["max_seconds"] * 2 + 120)
    except (ScenarioError, TimeoutError, asyncio.TimeoutError, OSError, RuntimeError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    metrics["server CPU µs/call"] = meter.server_cpu / metrics.pop("ops") * 1e6
    metrics["client CPU %"] = meter.client_cpu / meter.wall * 100
    return metrics


Results = dict[tuple[str, str], list[dict[str, Any]]]


async def interleave(servers: list[ServerProcess], names: list[str], scenarios: list[rawclient.RawScenario],
                     mode: str, rounds: int) -> Results:
    """Every scenario against every server, ``rounds`` times, the order of the servers rotating."""
    results: Results = defaultdict(list)
    for round_number in range(rounds):
        for scenario in scenarios:
            shift = round_number % len(servers)
            for server, name in list(zip(servers, names))[shift:] + list(zip(servers, names))[:shift]:
                metrics = await run_once(server, scenario, mode)
                results[scenario.name, name].append(metrics)
                log(f"  round {round_number + 1}/{rounds}  {scenario.name:<11} {server.label:<20} "
                    + (metrics["error"] if "error" in metrics else
                       f"{metrics[scenario.metrics[0]]:,.3f} {scenario.metrics[0]}, "
                       f"client {metrics['client CPU %']:.0f} %"))
    return results


async def interleave_scale(specs: list[ServerSpec], mode: str, rounds: int) -> Results:
    """The scale columns: for each count of clients, fresh servers, in rotating order."""
    results: Results = defaultdict(list)
    for round_number in range(rounds):
        for clients in SCALE_CLIENTS[mode]:
            shift = round_number % len(specs)
            for spec in specs[shift:] + specs[:shift]:
                metrics = await run_scale_once(spec, clients, mode)
                results[f"scale{clients}", spec.name].append(metrics)
                log(f"  round {round_number + 1}/{rounds}  scale {clients:<5} {spec.label:<20} "
                    + (metrics["error"] if "error" in metrics else
                       f"{metrics['calls/s']:,.0f} calls/s, {metrics['KiB/connection']:.1f} KiB/connection, "
                       f"client {metrics['client CPU %']:.0f} %"))
    return results


# --- the report ----------------------------------------------------------------------------------


def spread(runs: list[dict[str, Any]], key: str) -> tuple[float, float, float] | None:
    """Median, min and max of ``key`` over the runs that did not fail."""
    values = [run[key] for run in runs if "error" not in run and key in run]
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def cell(runs: list[dict[str, Any]], key: str, flag_client: bool) -> str:
    """``median [min-max]``, with the rounds where the client was saturated named next to it."""
    found = spread(runs, key)
    if found is None:
        return "failed" if runs else "-"
    median, low, high = found
    text = number(median) if len(runs) == 1 or low == high else f"{number(median)} [{number(low)}-{number(high)}]"
    if flag_client:
        good = [run for run in runs if "error" not in run]
        bound = sum(1 for run in good if run.get("client CPU %", 0) > CLIENT_BOUND)
        if bound:
            text += f" **client-bound {bound}/{len(good)}**"
    return text


def ratio_cell(runs: list[dict[str, Any]], base: list[dict[str, Any]], key: str) -> str:
    mine, theirs = spread(runs, key), spread(base, key)
    if mine is None or theirs is None or not theirs[0]:
        return "-"
    return number(mine[0] / theirs[0])


def table(results: Results, rows: list[tuple[str, str, str]], names: list[str]) -> str:
    """Rows of (scenario key, shown name, metric); a column per server and its ratio to websockets."""
    headers = ["scenario", "metric"]
    for name in names:
        headers.append(LABELS[name])
        if name != "baseline" and "baseline" in names:
            headers.append(f"{LABELS[name]} / websockets")
    out = []
    previous = None
    for key, shown, metric in rows:
        line = [f"**{shown}**" if key != previous else "", metric]
        previous = key
        headline = not metric.startswith(("server CPU", "client CPU", "RSS"))
        for name in names:
            runs = results.get((key, name), [])
            line.append(cell(runs, metric.removesuffix(" (lower is better)"), flag_client=headline))
            if name != "baseline" and "baseline" in names:
                line.append(ratio_cell(runs, results.get((key, "baseline"), []),
                                       metric.removesuffix(" (lower is better)")))
        out.append(line)
    return markdown_table(headers, out)


def scenario_rows(scenarios: list[rawclient.RawScenario]) -> list[tuple[str, str, str]]:
    rows = []
    for scenario in scenarios:
        for metric in scenario.metrics:
            shown = f"{metric} (lower is better)" if metric in scenario.lower_is_better else metric
            rows.append((scenario.name, scenario.name, shown))
        rows += [(scenario.name, scenario.name, "server CPU µs/op"), (scenario.name, scenario.name, "client CPU %")]
    return rows


def scale_rows(mode: str) -> list[tuple[str, str, str]]:
    rows = []
    for clients in SCALE_CLIENTS[mode]:
        key, shown = f"scale{clients}", f"{clients} clients"
        rows += [(key, shown, metric) for metric in ("calls/s", "deliveries/s", "KiB/connection", "RSS idle MiB",
                                                     "server CPU µs/call", "client CPU %")]
    return rows


def failures(results: Results) -> list[str]:
    return [f"{key} on {LABELS[name]}: {run['error']}" for (key, name), runs in results.items()
            for run in runs if "error" in run]


async def report(names: list[str], mode: str, rounds: int, only: set[str] | None = None,
                 node: str = "node") -> tuple[str, list[str], dict[str, Any]]:
    """Run the anchors; return the Markdown report (no title), the failed runs and the raw numbers."""
    specs = [server_spec(name, node) for name in names]
    running = [spec for spec in specs if spec.missing is None]
    skipped = [spec for spec in specs if spec.missing is not None]
    scenarios = [s for s in rawclient.SCENARIOS.values() if only is None or s.name in only]
    lines = [f"- servers: {', '.join(spec.label for spec in running)}",
             f"- versions: {versions(specs)}",
             f"- mode: {mode}, {rounds} round(s) interleaved (the order of the servers rotates); "
             "each cell is the median [min-max] over the rounds; ratios are of medians, to bare websockets",
             "- client: raw sockets (benchmarks/rawclient.py), one process, one thread, on "
             f"{type(asyncio.get_running_loop()).__module__.split('.')[0]}; "
             f"figures taken while it used more than {CLIENT_BOUND:.0f} % of a core are marked "
             "**client-bound k/N** (in k of N rounds): there they measure the client, not the server"]
    lines += [f"- skipped: {spec.label}: {spec.missing}" for spec in skipped]
    lines.append("")
    raw: dict[str, Any] = {"skipped": {spec.name: spec.missing for spec in skipped}}
    failed: list[str] = []
    names_running = [spec.name for spec in running]
    if scenarios and running:
        log(f"anchors: {len(scenarios)} scenarios x {len(running)} servers x {rounds} rounds")
        with contextlib.ExitStack() as stack:
            servers = [stack.enter_context(spec.process()) for spec in running]
            results = await interleave(servers, names_running, scenarios, mode, rounds)
        lines += ["### Scenarios", "", table(results, scenario_rows(scenarios), names_running), ""]
        failed += failures(results)
        raw["scenarios"] = {f"{key} / {name}": runs for (key, name), runs in results.items()}
    if (only is None or "scale" in only) and running:
        log("anchors: scale, " + ", ".join(map(str, SCALE_CLIENTS[mode])) + " clients, fresh servers")
        results = await interleave_scale(running, mode, rounds)
        lines += ["### Scale", "",
                  "A fresh server for every count of clients, warmed up by one short connection; "
                  "KiB/connection is the growth of the server's RSS with all connected, divided by "
                  "their number (noisy below 100 clients: RSS grows by pages and arenas).", "",
                  table(results, scale_rows(mode), names_running), ""]
        failed += failures(results)
        raw["scale"] = {f"{key} / {name}": runs for (key, name), runs in results.items()}
    return "\n".join(lines), failed, raw


# --- the command line ------------------------------------------------------------------------------


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.anchors",
        description="The kernel and bare websockets beside Node rpc-websockets and picows+uvloop, "
                    "measured by a raw-socket client.")
    parser.add_argument("--quick", action="store_true", help="3 rounds, smaller counts")
    parser.add_argument("--smoke", action="store_true", help="tiny counts, one round: checks only that all runs; "
                        "exit status 1 only if a server answers wrongly")
    parser.add_argument("--rounds", type=int, help="rounds (default 5, quick 3, smoke 1)")
    parser.add_argument("--servers", default=",".join(DEFAULT_SERVERS),
                        help=f"comma-separated servers, among {', '.join(ALL_SERVERS)} "
                             f"(default: {','.join(DEFAULT_SERVERS)})")
    parser.add_argument("--only", metavar="NAMES",
                        help="comma-separated scenarios to run: " + ", ".join([*rawclient.SCENARIOS, "scale"]))
    parser.add_argument("--node", default="node", help="the Node executable (default: node on PATH)")
    parser.add_argument("--client-loop", choices=["uvloop", "asyncio"], default=None,
                        help="the load client's event loop (default: uvloop if installed, else asyncio; "
                             "uvloop costs the client less per read)")
    parser.add_argument("--json", metavar="FILE", help="also write every raw number to FILE")
    args = parser.parse_args(argv)
    args.names = [name for name in args.servers.split(",") if name]
    unknown = set(args.names) - set(ALL_SERVERS)
    if unknown or not args.names:
        parser.error(f"unknown server: {', '.join(sorted(unknown)) or '(none)'}")
    args.only_set = set(args.only.split(",")) if args.only else None
    if args.only_set and args.only_set - {*rawclient.SCENARIOS, "scale"}:
        parser.error(f"unknown scenario: {', '.join(sorted(args.only_set - {*rawclient.SCENARIOS, 'scale'}))}")
    if args.client_loop is None:
        args.client_loop = "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"
    elif args.client_loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        parser.error("--client-loop uvloop: uvloop is not installed")
    return args


async def run(args: argparse.Namespace) -> int:
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    rounds = args.rounds or DEFAULT_ROUNDS[mode]
    started, load_at_start = time.monotonic(), os.getloadavg()[0]
    body, failed, raw = await report(args.names, mode, rounds, args.only_set, args.node)
    from benchmarks.run import machine_description

    description = machine_description()
    description["command"] = "python -m benchmarks.anchors " + shlex.join(sys.argv[1:])
    head = ["# SideGears benchmarks: anchors", ""] + [f"- {k}: {v}" for k, v in description.items() if k != "versions"]
    if failed:
        body += "\n".join(["Failed runs:", ""] + [f"- {item}" for item in failed] + [""])
    print("\n".join(head) + "\n" + body)
    print(f"Wall time: {time.monotonic() - started:.0f} s. Load average (1 min) at the start {load_at_start:.2f}, "
          f"at the end {os.getloadavg()[0]:.2f}: other work on the machine shows here.")
    if args.json:
        with open(args.json, "w") as output:
            json.dump({"machine": description, **raw}, output, indent=1, default=str)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    os.chdir(REPO_ROOT)
    return run_loop(lambda: run(args), uvloop=args.client_loop == "uvloop")


if __name__ == "__main__":
    sys.exit(main())
