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


def test_hooks_table_sets_what_a_plugin_adds_against_its_hook_calls() -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-m", "benchmarks.instructions", "--servers", "kernel", "--hooks",
                             "--only", "inflight64,notify", "--scale", "0.05"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
            for line in result.stdout.split("One no-op plugin")[1].splitlines() if line.startswith("| **")}
    assert set(rows) == {"**inflight64**", "**notify**"}
    for plain, with_plugin, added, hooks, ratio in rows.values():
        plain_count, plugin_count = (int(cell.replace(",", "")) for cell in (plain, with_plugin))
        assert plugin_count > plain_count > 10_000  # the plugin's hooks were counted, and so was a call
        assert abs(int(added.replace(",", "")) - (plugin_count - plain_count)) <= 1  # each rounded on its own
        assert float(ratio) > 0.5  # a hook call counted in process is a real cost, not zero
    assert rows["**inflight64**"][3].startswith("1 x ") and rows["**notify**"][3].startswith("0 x ")
