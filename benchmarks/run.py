"""Run the SideGears benchmarks: the kernel against a bare websockets baseline.

    python -m benchmarks.run            # everything, a few minutes
    python -m benchmarks.run --quick    # under a minute
    python -m benchmarks.run --smoke    # tiny counts, checks only that all runs

Each server runs in its own process on a free loopback port; the scenarios run
against each in interleaved rounds (baseline, kernel, then kernel, baseline,
...) and the medians and the ratio kernel/baseline are printed as Markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import websockets

from benchmarks import scale
from benchmarks.load import SCENARIOS, Meter, Scenario, ScenarioError
from benchmarks.serving import REPO_ROOT, ServerProcess, run_loop

SECTIONS = ("hooks", "compression", "typed", "scale")
PLUGIN_COUNTS = (0, 1, 10)
SCALE_CLIENTS = {"full": (1, 10, 100, 500), "quick": (1, 10, 100, 500), "smoke": (1, 10)}
SCALE_SIZES = {
    "full": dict(calls=20000, notifications=40000, max_seconds=8, leak_cycles=3),
    "quick": dict(calls=3000, notifications=6000, max_seconds=3, leak_cycles=2),
    "smoke": dict(calls=50, notifications=50, max_seconds=2, leak_cycles=1),
}
DEFAULT_ROUNDS = {"full": 5, "quick": 3, "smoke": 1}


@dataclass
class Target:
    """A server process and how the client talks to it."""

    label: str
    server: ServerProcess
    compression: str | None = None


_STARTED = time.monotonic()


def log(text: str) -> None:
    """Print a progress line on stderr, with the seconds since the start."""
    print(f"[{time.monotonic() - _STARTED:5.1f} s] {text}", file=sys.stderr, flush=True)


# --- running scenarios -------------------------------------------------------------


async def run_once(target: Target, scenario: Scenario, mode: str) -> dict[str, Any]:
    """Run ``scenario`` once against ``target``; return its numbers or an error."""
    params = scenario.params(mode)
    meter = Meter(target.server.cpu_seconds)
    try:
        metrics = await asyncio.wait_for(
            scenario.run(target.server.url, meter, compression=target.compression, **params),
            params["max_seconds"] + 60)
    except (ScenarioError, TimeoutError, OSError, websockets.exceptions.WebSocketException) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    ops = metrics.pop("ops")
    if not scenario.higher_is_better:
        return metrics  # a delay while idle: CPU per operation means nothing here
    metrics["server CPU µs/op"] = meter.server_cpu / ops * 1e6
    metrics["server busy %"] = meter.server_cpu / meter.wall * 100
    metrics["client busy %"] = meter.client_cpu / meter.wall * 100
    return metrics


async def interleave(targets: list[Target], scenarios: list[Scenario], mode: str,
                     rounds: int) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Run every scenario against every target, ``rounds`` times, rotating the order."""
    results: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for round_number in range(rounds):
        for scenario in scenarios:
            shift = round_number % len(targets)
            for target in targets[shift:] + targets[:shift]:
                metrics = await run_once(target, scenario, mode)
                results[scenario.name, target.label].append(metrics)
                headline = metrics.get(scenario.metric)
                shown = metrics["error"] if headline is None else f"{headline:,.3f} {scenario.metric}"
                log(f"  round {round_number + 1}/{rounds}  {scenario.name:<12} "
                    f"{target.label:<18} {shown}")
    return results


def medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Return the median of each metric over the runs that did not fail."""
    good = [run for run in runs if "error" not in run]
    if not good:
        return {}
    return {key: statistics.median(run[key] for run in good) for key in good[0]}


def errors(runs: list[dict[str, Any]]) -> list[str]:
    """Return the error of each failed run."""
    return [run["error"] for run in runs if "error" in run]


# --- printing -------------------------------------------------------------------------


def number(value: float | None) -> str:
    """Format a number for a table: three significant digits, thousands separated."""
    if value is None:
        return "failed"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) >= 0.01 else f"{value:.2g}"


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """Return a Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(kernel: float | None, baseline: float | None) -> float | None:
    """Return kernel/baseline, or None when either is missing."""
    if kernel is None or not baseline:
        return None
    return kernel / baseline


def main_table(results: dict[tuple[str, str], list[dict[str, Any]]], scenarios: list[Scenario],
               base: str, candidate: str) -> tuple[str, list[str], list[str]]:
    """Return the scenario table, the missed targets and the failed runs."""
    rows, missed, failed = [], [], []
    for scenario in scenarios:
        b = medians(results[scenario.name, base])
        k = medians(results[scenario.name, candidate])
        for label in (base, candidate):
            for problem in errors(results[scenario.name, label]):
                failed.append(f"{scenario.name} on {label}: {problem}")
        keys = [scenario.metric] + [key for key in (b or k) if key != scenario.metric]
        for key in keys:
            r = ratio(k.get(key), b.get(key))
            target, met = "", ""
            if key == scenario.metric and scenario.min_ratio is not None:
                target = f"ratio >= {scenario.min_ratio:.2f}"
                met = "yes" if r is not None and r >= scenario.min_ratio else "NO"
            elif key == scenario.metric and scenario.max_value is not None:
                target = f"{candidate} < {scenario.max_value:g}"
                value = k.get(key)
                met = "yes" if value is not None and value < scenario.max_value else "NO"
            if met == "NO":
                missed.append(f"{scenario.name}: {key} {number(k.get(key))} against "
                              f"{number(b.get(key))}, ratio {number(r)} (target: {target})")
            name = f"**{scenario.name}**" if key == scenario.metric else ""
            shown_key = key if scenario.higher_is_better or key != scenario.metric else f"{key} (lower is better)"
            rows.append([name, shown_key, number(b.get(key)), number(k.get(key)),
                         number(r), target, met])
    headers = ["scenario", "metric", base, candidate, "ratio", "target", "met"]
    return markdown_table(headers, rows), missed, failed


# --- the sections ------------------------------------------------------------------------


def server_options(args: argparse.Namespace, *extra: str) -> list[str]:
    """Return the command-line options every server process gets, plus ``extra``."""
    return (["--uvloop"] if args.with_uvloop else []) + list(extra)


def candidate_module(args: argparse.Namespace) -> str:
    """Return the module of the server compared with the baseline."""
    return "kernel_server" if args.candidate == "kernel" else "baseline_server"


async def hooks_section(args: argparse.Namespace, mode: str, rounds: int,
                        base: Target, zero: Target) -> str:
    """End-to-end cost of N no-op plugins, then the in-process cost per hook call."""
    from benchmarks import hook_cost

    chosen = [SCENARIOS["sequential"], SCENARIOS["inflight64"]]
    with contextlib.ExitStack() as stack:
        targets = [base, zero]
        for n in PLUGIN_COUNTS[1:]:
            server = stack.enter_context(ServerProcess(
                "kernel_server", *server_options(args, "--noop-plugins", str(n)),
                label=f"kernel+{n} plugins"))
            targets.append(Target(server.label, server))
        results = await interleave(targets, chosen, mode, rounds)
    rows = []
    for scenario in chosen:
        b = medians(results[scenario.name, base.label])
        z = medians(results[scenario.name, zero.label])
        for target in targets[1:]:
            k = medians(results[scenario.name, target.label])
            added = None
            if k and z:
                added = k["server CPU µs/op"] - z["server CPU µs/op"]
            rows.append([scenario.name, target.label, number(k.get(scenario.metric)),
                         number(ratio(k.get(scenario.metric), b.get(scenario.metric))),
                         number(k.get("server CPU µs/op")), number(added)])
    end_to_end = markdown_table(
        ["scenario", "server", "calls/s", "ratio to baseline", "server CPU µs/call",
         "added µs/call vs 0 plugins"], rows)
    micro = markdown_table(*hook_cost.table(hook_cost.measure(PLUGIN_COUNTS, mode)))
    return (f"No-op plugins implement before_dispatch, on_notify and log_message; "
            f"a call pays for before_dispatch, and log_message in and out, whatever message logging says "
            f"(medians of {rounds} rounds):\n\n{end_to_end}\n\n"
            f"In-process cost of one hook call (`kernel.hook.NAME(...)`), "
            f"best of 5:\n\n{micro}")


async def typed_section(args: argparse.Namespace, mode: str, rounds: int, base: Target, untyped: Target) -> str:
    """The cost of params validation: add(a, b) untyped against add(a: int, b: int), the same kernel otherwise."""
    chosen = [SCENARIOS["sequential"], SCENARIOS["inflight64"], SCENARIOS["conns8x64"]]
    with contextlib.ExitStack() as stack:
        typed = Target("kernel, typed add", stack.enter_context(ServerProcess(
            "kernel_server", *server_options(args, "--typed-add"), label="kernel, typed add")))
        results = await interleave([base, untyped, typed], chosen, mode, rounds)
    rows = []
    for scenario in chosen:
        b = medians(results[scenario.name, base.label])
        u = medians(results[scenario.name, untyped.label])
        t = medians(results[scenario.name, typed.label])
        added = None
        if u and t:
            added = t["server CPU µs/op"] - u["server CPU µs/op"]
        rows.append([scenario.name, number(u.get(scenario.metric)), number(t.get(scenario.metric)),
                     number(ratio(t.get(scenario.metric), u.get(scenario.metric))),
                     number(ratio(t.get(scenario.metric), b.get(scenario.metric))), number(added)])
    return (f"`add(a, b)` against `add(a: int, b: int)`, validated and converted by pydantic "
            f"(medians of {rounds} rounds; target: typed/untyped at least 0.8 at 64 in flight):\n\n"
            + markdown_table(["scenario", "untyped", "typed", "typed/untyped", "typed/baseline",
                              "added server CPU µs/call"], rows))


async def compression_section(args: argparse.Namespace, mode: str, rounds: int,
                              plain: list[Target]) -> str:
    """The same scenarios with permessage-deflate on, to show why it is off."""
    chosen = [SCENARIOS["sequential"], SCENARIOS["inflight64"], SCENARIOS["echo1MB"]]
    rows = []
    with contextlib.ExitStack() as stack:
        targets = list(plain)
        for target in plain:
            server = stack.enter_context(ServerProcess(
                target.server.module, *server_options(args, "--compression", "deflate"),
                label=f"{target.label} deflate"))
            targets.append(Target(server.label, server, "deflate"))
        results = await interleave(targets, chosen, mode, rounds)
    for scenario in chosen:
        for target in plain:
            off = medians(results[scenario.name, target.label])
            on = medians(results[scenario.name, f"{target.label} deflate"])
            rows.append([scenario.name, target.label, number(off.get(scenario.metric)),
                         number(on.get(scenario.metric)),
                         number(ratio(on.get(scenario.metric), off.get(scenario.metric))),
                         number(off.get("server CPU µs/op")), number(on.get("server CPU µs/op"))])
    return markdown_table(
        ["scenario", "server", "off", "deflate", "deflate/off", "server CPU µs/op off",
         "server CPU µs/op deflate"], rows)


async def scale_section(args: argparse.Namespace, mode: str) -> str:
    """Fresh servers, 1 to 500 clients each, interleaved; then repeated 500-client cycles."""
    sizes = dict(SCALE_SIZES[mode])
    leak_cycles = sizes.pop("leak_cycles")
    counts = SCALE_CLIENTS[mode]
    modules = [("baseline", "baseline_server"), (args.candidate, candidate_module(args))]
    if args.candidate == "baseline":
        modules[1] = ("baseline 2", "baseline_server")
    rows, leak_rows = [], []
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(ServerProcess(module, *server_options(args), label=label))
                   for label, module in modules]
        for server in servers:  # one warm-up cycle: lazy imports and caches are no leak
            await asyncio.wait_for(scale.measure_clients(
                server, 10, calls=100, notifications=100, max_seconds=2), 60)
        for index, n in enumerate(counts):
            for server in servers[index % 2:] + servers[:index % 2]:
                log(f"  scale {n:>4} clients  {server.label}")
                result = await asyncio.wait_for(
                    scale.measure_clients(server, n, **sizes), sizes["max_seconds"] * 2 + 60)
                row = scale.describe(result)
                rows.append([server.label] + [number(value) for value in row.values()])
        n = counts[-1]
        for server in servers:
            before = await scale.server_objects(server.url)
            after = []
            for _ in range(leak_cycles):
                result = await asyncio.wait_for(scale.measure_clients(
                    server, n, calls=n * 2, notifications=n * 5, max_seconds=sizes["max_seconds"]),
                    sizes["max_seconds"] * 2 + 60)
                after.append(result.objects_after)
            growth = (after[-1] - before) / (n * leak_cycles)
            leak_rows.append([server.label, str(n), str(leak_cycles), str(before),
                              ", ".join(map(str, after)), number(growth),
                              number(server.rss_kib() / 1024)])
    table = markdown_table(["server"] + list(scale.describe(result).keys()), rows)
    leaks = markdown_table(
        ["server", "clients per cycle", "cycles", "objects before", "objects after each cycle",
         "objects left per connection", "RSS after MiB"], leak_rows)
    return f"{table}\n\nConnect, use and disconnect cycles (leak check):\n\n{leaks}"


# --- the command line ---------------------------------------------------------------------


def _git_revision() -> str:
    """Return " (commit abc1234)", with "+ local changes" when sidegears/ differs; "" outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        changes = subprocess.run(["git", "status", "--porcelain", "--", "sidegears"], cwd=REPO_ROOT,
                                 capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    if not commit:
        return ""
    return f" (commit {commit}{' + local changes' if changes else ''})"


def machine_description() -> dict[str, str]:
    """Return the date, machine, versions and command of this run."""
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {"websockets": websockets.__version__}
    with contextlib.suppress(ImportError):
        import sidegears

        versions["sidegears"] = getattr(sidegears, "__version__", "?") + _git_revision()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "versions": ", ".join(f"{name} {version}" for name, version in versions.items()),
        "command": "python -m benchmarks.run " + shlex.join(sys.argv[1:]),
    }


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; ``args.selected`` holds the scenarios and sections to run."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Benchmark the SideGears kernel against a bare websockets server.")
    parser.add_argument("--quick", action="store_true", help="smaller counts: under a minute")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny counts, one round (wins over --quick): checks only that "
                             "every scenario runs; exits 1 if a server answers wrongly")
    parser.add_argument("--rounds", type=int, help="rounds per scenario (default 5, quick 3)")
    parser.add_argument("--only", metavar="NAMES",
                        help="comma-separated scenarios and sections to run: "
                             + ", ".join([*SCENARIOS, *SECTIONS]))
    parser.add_argument("--scale", action="store_true", help="run only the scale section")
    parser.add_argument("--speed", action="store_true",
                        help="the candidate on uvloop (the kernel's speed extra), the baseline on plain asyncio")
    parser.add_argument("--with-uvloop", action="store_true",
                        help="run servers and client on uvloop (pip install uvloop)")
    parser.add_argument("--candidate", choices=["kernel", "baseline"], default="kernel",
                        help="what to compare with the baseline; 'baseline' checks the "
                             "harness (every ratio should be near 1)")
    parser.add_argument("--json", metavar="FILE", help="also write every raw number to FILE")
    parser.add_argument("--anchors", metavar="NAMES",
                        help="also run the anchors (python -m benchmarks.anchors) with these servers beside "
                             "websockets and the kernel: node, picows, or both (node,picows); one missing "
                             "its runtime is skipped and the report says so")
    args = parser.parse_args(argv)
    names = set(SCENARIOS) | set(SECTIONS)
    if args.scale:
        args.only = "scale"
    args.selected = set(args.only.split(",")) if args.only else names
    unknown = args.selected - names
    if unknown:
        parser.error(f"unknown scenario or section: {', '.join(sorted(unknown))}")
    if args.candidate == "baseline":
        args.selected.discard("hooks")
    args.anchor_names = [name for name in (args.anchors or "").split(",") if name]
    if set(args.anchor_names) - {"node", "picows"}:
        parser.error(f"unknown anchor: {', '.join(sorted(set(args.anchor_names) - {'node', 'picows'}))} "
                     "(node, picows)")
    return args


async def run(args: argparse.Namespace) -> int:
    """Run the selected benchmarks, print the report, return the exit code."""
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    rounds = args.rounds or DEFAULT_ROUNDS[mode]
    description = machine_description()
    report = ["# SideGears benchmarks", ""]
    report += [f"- {key}: {value}" for key, value in description.items()]
    loop_name = "uvloop" if args.with_uvloop else "asyncio"
    report += [f"- mode: {mode}, {rounds} round(s), medians, {loop_name}; "
               f"ratio = {args.candidate}/baseline", ""]
    raw: dict[str, Any] = {"machine": description}
    missed: list[str] = []
    failed: list[str] = []
    started = time.monotonic()
    load_at_start = os.getloadavg()[0]
    candidate_label = args.candidate if args.candidate == "kernel" else "baseline 2"
    scenarios = [s for s in SCENARIOS.values() if s.name in args.selected]
    with contextlib.ExitStack() as stack:
        base = Target("baseline", stack.enter_context(
            ServerProcess("baseline_server", *server_options(args), label="baseline")))
        candidate = Target(candidate_label, stack.enter_context(
            ServerProcess(candidate_module(args), *server_options(args), *(["--uvloop"] if args.speed and not args.with_uvloop else []),
                          label=candidate_label)))
        if scenarios:
            log(f"scenarios: {len(scenarios)} x {rounds} rounds")
            results = await interleave([base, candidate], scenarios, mode, rounds)
            table, missed, failed = main_table(results, scenarios, base.label, candidate.label)
            report += ["## Scenarios", "", table, ""]
            raw["scenarios"] = {f"{name} / {label}": runs for (name, label), runs in results.items()}
        if "hooks" in args.selected:
            log("hooks: 0, 1, 10 no-op plugins")
            report += ["## Cost of hooks", "",
                       await hooks_section(args, mode, rounds, base, candidate), ""]
        if "typed" in args.selected and args.candidate == "kernel":
            log("typed: add(a, b) against add(a: int, b: int)")
            report += ["## Cost of typed params", "", await typed_section(args, mode, rounds, base, candidate), ""]
        if "compression" in args.selected:
            log("compression: permessage-deflate on and off")
            report += ["## Compression (why it is off)", "",
                       await compression_section(args, mode, rounds, [base, candidate]), ""]
    if "scale" in args.selected:
        log("scale: " + ", ".join(map(str, SCALE_CLIENTS[mode])) + " clients")
        report += ["## Scale", "", await scale_section(args, mode), ""]
    if args.anchor_names:
        from benchmarks import anchors

        log("anchors: " + ", ".join(["baseline", "kernel", *args.anchor_names]))
        body, anchor_failures, raw["anchors"] = await anchors.report(
            ["baseline", "kernel", *args.anchor_names], mode, rounds,
            only=(args.selected & {*anchors.rawclient.SCENARIOS, "scale"}) if args.only else None)
        report += ["## Anchors (raw-socket client)", "", body, ""]
        failed += anchor_failures
    report += [f"Wall time: {time.monotonic() - started:.0f} s. Load average (1 min) at the start "
               f"{load_at_start:.2f}, at the end {os.getloadavg()[0]:.2f}: other work on the "
               f"machine shows here.", ""]
    if missed:
        report += ["Missed targets:", ""] + [f"- {item}" for item in missed] + [""]
    if failed:
        report += ["Failed runs:", ""] + [f"- {item}" for item in failed] + [""]
    print("\n".join(report))
    if args.json:
        with open(args.json, "w") as output:
            json.dump(raw, output, indent=1, default=str)
    # Targets are reported, never asserted: only a server that answers wrongly fails.
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.run``."""
    args = parse_arguments(argv)
    return run_loop(lambda: run(args), uvloop=args.with_uvloop)


if __name__ == "__main__":
    sys.exit(main())
