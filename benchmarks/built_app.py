"""Size and start time of the demo app built by ``sidegears build``, beside ``python app.py``.

    python -m benchmarks.built_app              # build both forms, 5 starts of each
    python -m benchmarks.built_app --starts 9 --cold

Needs the build extra (``pip install -e '.[build]'``). Builds the bundled
demo (``sidegears/examples/demo/app.py``) twice in a temporary folder, as an
app folder and with ``--onefile``, and reports as Markdown on stdout: each
build's time and size, and the time from ``exec`` to the page served (the
first ``200`` for the address the app prints, the token traded for its
cookie on the way), median [min-max] over the starts. The three forms
(folder, one file, the interpreter running the same app file) start in
interleaved order. Each runs with no display and no Python on ``PATH``.
``--cold`` drops the page cache before every start (root only: it writes
``/proc/sys/vm/drop_caches``).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import sidegears.examples.demo.app as demo_app
from sidegears.build import size_on_disk

PAGE_LINE = re.compile(r"page:\s+(http://\S+)")
START_TIMEOUT = 30.0


def build(work: Path, *options: str) -> tuple[float, Path]:
    """Run ``sidegears build`` on the demo in ``work``; return its wall time and the executable."""
    work.mkdir(parents=True)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "sidegears.build", "--clean", *options, demo_app.__file__],
        cwd=work, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seconds = time.monotonic() - started
    onefile = "--onefile" in options
    return seconds, work / "dist" / "demo" if onefile else work / "dist" / "demo" / "demo"


def time_to_page(command: list[str], env: dict[str, str], cwd: Path, cold: bool) -> float:
    """Seconds from starting ``command`` to the first 200 for the page address it prints."""
    if cold:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            match = PAGE_LINE.search(line)
            if match:
                break
            if time.monotonic() - started > START_TIMEOUT:
                raise RuntimeError(f"{command[0]} printed no page address within {START_TIMEOUT} s")
        else:
            raise RuntimeError(f"{command[0]} exited (status {process.wait()}) without printing its page address")
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with opener.open(match.group(1), timeout=START_TIMEOUT) as response:
            if response.status != 200:
                raise RuntimeError(f"the page answered {response.status}")
        return time.monotonic() - started
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s [{min(values):.2f}-{max(values):.2f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=5, help="starts of each form (default 5)")
    parser.add_argument("--cold", action="store_true", help="drop the page cache before each start (root)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sidegears-built-app-") as folder:
        root = Path(folder)
        print("building the demo as a folder and as one file ...", file=sys.stderr, flush=True)
        folder_seconds, folder_exe = build(root / "folder")
        onefile_seconds, onefile_exe = build(root / "onefile", "--onefile")
        (root / "empty-bin").mkdir()
        (root / "home").mkdir()
        bare = {"HOME": str(root / "home"), "PATH": str(root / "empty-bin"), "LANG": "C.UTF-8", "TMPDIR": folder}
        # The interpreter's run gets the environment it needs to find its packages, and nothing more.
        source_env = {**bare, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        forms = {
            "folder": ([str(folder_exe)], bare),
            "one file": ([str(onefile_exe)], bare),
            "python app.py": ([sys.executable, demo_app.__file__], source_env),
        }
        times: dict[str, list[float]] = {name: [] for name in forms}
        for round_number in range(args.starts):
            order = list(forms)[round_number % 3:] + list(forms)[:round_number % 3]
            for name in order:
                command, env = forms[name]
                times[name].append(time_to_page(command, env, root, args.cold))
            print(f"round {round_number + 1}/{args.starts} done", file=sys.stderr, flush=True)
        kind = "cold (page cache dropped)" if args.cold else "warm"
        print(f"`python -m benchmarks.built_app{' --cold' if args.cold else ''} --starts {args.starts}`: "
              f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end.\n")
        print(f"| | folder (`dist/demo/`) | one file (`--onefile`) | `python app.py` |")
        print("|---|---|---|---|")
        print(f"| size | {size_on_disk(folder_exe.parent) / 1e6:.1f} MB | {size_on_disk(onefile_exe) / 1e6:.1f} MB | |")
        print(f"| build time (`--clean`) | {folder_seconds:.0f} s | {onefile_seconds:.0f} s | |")
        print(f"| {kind} start to the page served, median [min-max] of {args.starts} | "
              + " | ".join(spread(times[name]) for name in forms) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
