"""Profile a server process under one scenario: what bounds it.

    python -m benchmarks.profile_server                      # the kernel, cProfile, 64 in flight
    python -m benchmarks.profile_server --py-spy             # py-spy (pip install py-spy)
    python -m benchmarks.profile_server --scenario batch100
    python -m benchmarks.profile_server --server baseline    # the same for the baseline

cProfile runs inside the server process (it slows it, but the proportions
hold); py-spy samples it from outside and needs ptrace permission.
"""

from __future__ import annotations

import argparse
import asyncio
import pstats
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.load import SCENARIOS, Meter
from benchmarks.serving import ServerProcess, run_loop


async def load(server: ServerProcess, scenario: str, repeat: int) -> None:
    chosen = SCENARIOS[scenario]
    params = chosen.params("full")
    for _ in range(repeat):
        metrics = await asyncio.wait_for(chosen.run(server.url, Meter(), **params),
                                         params["max_seconds"] + 60)
        print(f"{scenario}: {metrics[chosen.metric]:,.0f} {chosen.metric}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_server",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="kernel", choices=["kernel", "baseline"])
    parser.add_argument("--scenario", default="inflight64", choices=list(SCENARIOS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--py-spy", action="store_true", help="sample with py-spy instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / ("server.txt" if args.py_spy else "server.prof")
        options = [] if args.py_spy else ["--profile", str(output)]
        with ServerProcess(f"{args.server}_server", *options, label=args.server) as server:
            spy = None
            if args.py_spy:
                py_spy = shutil.which("py-spy")
                if py_spy is None:
                    parser.error("py-spy is not installed (pip install py-spy)")
                spy = subprocess.Popen([py_spy, "record", "--pid", str(server.pid), "--format",
                                        "raw", "--output", str(output), "--rate", "500",
                                        "--function", "--nonblocking"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                run_loop(lambda: load(server, args.scenario, args.repeat))
            finally:
                if spy is not None:
                    spy.send_signal(2)  # SIGINT: py-spy writes its output and exits
                    spy.wait(30)
        if args.py_spy:
            print_py_spy(output, args.top)
        else:
            stats = pstats.Stats(str(output))
            stats.sort_stats("tottime").print_stats(args.top)
            stats.sort_stats("cumulative").print_stats(args.top)


def print_py_spy(output: Path, top: int) -> None:
    """Print the functions with the most samples on top of the stack (self time)."""
    own: dict[str, int] = {}
    total = 0
    for line in output.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frame = stack.split(";")[-1] or "(no Python frame: native code, e.g. waiting for the GIL)"
        own[frame] = own.get(frame, 0) + int(samples)
        total += int(samples)
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:top]:
        print(f"{count / total:6.1%}  {frame}")


if __name__ == "__main__":
    main()
