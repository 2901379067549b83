"""Compare the kernel of another checkout ("before") with this one's ("after").

    git worktree add /tmp/sg_before <commit>
    python -m benchmarks.revisions --before /tmp/sg_before              # 5 rounds
    python -m benchmarks.revisions --before /tmp/sg_before --quick      # smaller counts, 3 rounds

Both sides run ``benchmarks.kernel_server`` in their own process: "after" from
this checkout, "before" with the other checkout as working directory and first
on ``PYTHONPATH``, so it imports that checkout's ``sidegears`` and
``benchmarks`` (same Python, same installed packages). The scenarios of
``benchmarks.run`` run in interleaved rounds, before then after, then after
then before, and so on; the Markdown table shows, per scenario, the median
and range of each side, the ratio of the medians after/before, the server CPU
per operation and how busy the load client was (near 100 % means the client,
not the kernel, set the rate).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import serving
from benchmarks.load import SCENARIOS
from benchmarks.run import (
    DEFAULT_ROUNDS,
    Target,
    errors,
    interleave,
    log,
    machine_description,
    markdown_table,
    number,
)
from benchmarks.serving import ServerProcess, run_loop

#: The throughput scenarios of ``benchmarks.run`` (the idle-delay ones say little about a redesign).
DEFAULT_SCENARIOS = ("sequential", "inflight64", "conns8x64", "notify", "echo1MB", "echo16MB", "batch100")


def commit_of(path: Path) -> str:
    """Return the short commit checked out at ``path``, "?" if git cannot tell."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=path,
                              capture_output=True, text=True, timeout=10)
        return done.stdout.strip() or "?"
    return "?"


def spread(runs: list[dict[str, Any]], key: str) -> tuple[float, float, float] | None:
    """Return the median, min and max of ``key`` over the runs that did not fail."""
    values = [run[key] for run in runs if key in run]
    return (statistics.median(values), min(values), max(values)) if values else None


def shown(values: tuple[float, float, float] | None) -> str:
    """Format "median [min-max]"."""
    if values is None:
        return "failed"
    median, low, high = values
    return f"{number(median)} [{number(low)}-{number(high)}]"


def table(results: dict[tuple[str, str], list[dict[str, Any]]], names: list[str]) -> str:
    """Return the Markdown table: one row per scenario."""
    rows = []
    for name in names:
        scenario = SCENARIOS[name]
        before, after = results[name, "before"], results[name, "after"]
        b, a = spread(before, scenario.metric), spread(after, scenario.metric)
        ratio = a[0] / b[0] if a and b and b[0] else None
        metric = scenario.metric if scenario.higher_is_better else f"{scenario.metric} (lower is better)"
        cpu = [spread(runs, "server CPU µs/op") for runs in (before, after)]
        busy = [spread(runs, "client busy %") for runs in (before, after)]
        rows.append([f"**{name}**", metric, shown(b), shown(a), number(ratio),
                     " / ".join(number(v[0] if v else None) for v in cpu),
                     " / ".join(number(v[0] if v else None) for v in busy)])
    return markdown_table(
        ["scenario", "metric", "before median [min-max]", "after median [min-max]",
         "after/before", "server CPU µs/op before / after", "client busy % before / after"], rows)


async def run(args: argparse.Namespace) -> int:
    """Run the comparison, print the report, return 1 if any run failed."""
    mode = "quick" if args.quick else "full"
    rounds = args.rounds or DEFAULT_ROUNDS[mode]
    names = args.only.split(",") if args.only else list(DEFAULT_SCENARIOS)
    before_root = Path(args.before).resolve()
    description = machine_description()
    description["command"] = "python -m benchmarks.revisions " + shlex.join(sys.argv[1:])
    description["before"] = f"{before_root} (commit {commit_of(before_root)})"
    description["after"] = f"{serving.REPO_ROOT} (commit {commit_of(serving.REPO_ROOT)})"
    report = ["# SideGears: before and after", ""]
    report += [f"- {key}: {value}" for key, value in description.items()]
    report += [f"- mode: {mode}, {rounds} round(s), interleaved; ratio = after/before of the medians", ""]
    started, load_at_start = time.monotonic(), os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        targets = [
            Target("before", stack.enter_context(ServerProcess("kernel_server", label="before", root=before_root))),
            Target("after", stack.enter_context(ServerProcess("kernel_server", label="after"))),
        ]
        log(f"{len(names)} scenarios x {rounds} rounds")
        results = await interleave(targets, [SCENARIOS[name] for name in names], mode, rounds)
    failed = [f"{name} on {label}: {problem}" for name in names for label in ("before", "after")
              for problem in errors(results[name, label])]
    report += [table(results, names), ""]
    report += [f"Wall time: {time.monotonic() - started:.0f} s. Load average (1 min) at the start "
               f"{load_at_start:.2f}, at the end {os.getloadavg()[0]:.2f}.", ""]
    if failed:
        report += ["Failed runs:", ""] + [f"- {item}" for item in failed] + [""]
    print("\n".join(report))
    return 1 if failed else 0


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.revisions", description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, metavar="PATH",
                        help="another checkout of this repository (e.g. a git worktree)")
    parser.add_argument("--rounds", type=int, help="rounds per scenario (default 5, quick 3)")
    parser.add_argument("--quick", action="store_true", help="smaller counts, 3 rounds")
    parser.add_argument("--only", metavar="NAMES",
                        help="comma-separated scenarios (default: " + ",".join(DEFAULT_SCENARIOS) + ")")
    args = parser.parse_args(argv)
    if not (Path(args.before) / "benchmarks" / "kernel_server.py").is_file():
        parser.error(f"{args.before} has no benchmarks/kernel_server.py")
    unknown = set(args.only.split(",")) - set(SCENARIOS) if args.only else set()
    if unknown:
        parser.error(f"unknown scenario: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.revisions``."""
    args = parse_arguments(argv)
    return run_loop(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
