"""benchmarks.instructions: callgrind's counts of the servers, end to end, and that they repeat.

Long (make test-long): every server runs under valgrind, about 50 times slower.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import instructions

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.long


def test_report_has_every_scenario_for_both_servers() -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-m", "benchmarks.instructions", "--servers", "baseline,kernel",
                             "--scale", "0.05"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "| websockets | kernel | kernel / websockets |" in result.stdout
    for scenario in instructions.SCENARIOS:
        assert f"**{scenario}**" in result.stdout, scenario


def test_counts_repeat_within_two_percent() -> None:
    """What the tool is for: the same server and load give the same count, whatever else the machine does."""
    first, second = (instructions.count_server("kernel", ["clients10"], 0.2, [])["clients10"] for _ in range(2))
    assert first > 10_000  # a call costs the kernel tens of thousands of instructions: something was counted
    assert abs(first - second) / first < 0.02, (first, second)


def test_more_clients_are_scenarios_of_their_own() -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-m", "benchmarks.instructions", "--servers", "kernel", "--clients", "20",
                             "--only", "clients20", "--scale", "0.05"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    row = next(line for line in result.stdout.splitlines() if line.startswith("| **clients20**"))
    assert "20 connections, one add() at a time on each" in row
    assert int(row.split("|")[3].strip().replace(",", "")) > 10_000  # a call was counted
