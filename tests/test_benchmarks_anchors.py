"""The anchors benchmark (python -m benchmarks.anchors) runs end to end; no number is checked.

The smoke run takes every server whose runtime is here: websockets and the
kernel always, the kernel as the speed extra runs it when uvloop and orjson
are installed (the test extra has both), Node's rpc-websockets when
benchmarks/node/node_modules is installed (make setup), picows+uvloop when the
bench extra is installed, and the bare Protocol (and on uvloop, when installed).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import rawclient

ROOT = Path(__file__).resolve().parent.parent
NODE_READY = shutil.which("node") is not None and (ROOT / "benchmarks/node/node_modules/rpc-websockets").is_dir()
PICOWS_READY = all(importlib.util.find_spec(name) is not None for name in ("picows", "uvloop"))
SPEED_READY = all(importlib.util.find_spec(name) is not None for name in ("orjson", "uvloop"))
UVLOOP_READY = importlib.util.find_spec("uvloop") is not None


def run_anchors(*options: str, timeout: float = 100) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "benchmarks.anchors", *options], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_smoke_run_of_every_available_server() -> None:
    servers = ["baseline", "kernel"] + (["speed"] if SPEED_READY else []) + (["node"] if NODE_READY else []) + (
        ["picows"] if PICOWS_READY else []) + ["bare"] + (["bare-uvloop"] if UVLOOP_READY else [])
    result = run_anchors("--smoke", "--servers", ",".join(servers))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = result.stdout
    assert "### Scenarios" in report and "### Scale" in report
    for label in ["websockets", "kernel"] + (["kernel [speed]"] if SPEED_READY else []) + (
            ["node rpc-websockets"] if NODE_READY else []) + (["picows+uvloop"] if PICOWS_READY else []) + (
            ["bare Protocol"]) + (["bare Protocol+uvloop"] if UVLOOP_READY else []):
        assert f"| {label} " in report or f"| {label} |" in report, label
    for scenario in rawclient.SCENARIOS:
        assert f"**{scenario}**" in report, scenario
    assert "client CPU %" in report
    assert "Failed runs" not in report


def test_an_anchor_whose_runtime_is_missing_is_skipped_and_reported() -> None:
    result = run_anchors("--smoke", "--servers", "baseline,node", "--node", "/nonexistent/node",
                         "--only", "batch100")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "- skipped: node rpc-websockets: no Node executable" in result.stdout
    assert "**batch100**" in result.stdout


@pytest.mark.skipif(PICOWS_READY, reason="picows and uvloop are installed here")
def test_picows_is_skipped_without_its_extra() -> None:
    result = run_anchors("--smoke", "--servers", "baseline,picows", "--only", "batch100")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "- skipped: picows+uvloop: " in result.stdout


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 100_001])
def test_client_frames_are_masked_rightly(size: int) -> None:
    payload = bytes(range(256)) * (size // 256 + 1)
    payload = payload[:size]
    frame = rawclient.mask_frame(payload)
    assert frame[0] == 0x81 and frame[1] & 0x80
    length, start = frame[1] & 0x7F, 2
    if length == 126:
        length, start = struct.unpack("!H", frame[2:4])[0], 4
    elif length == 127:
        length, start = struct.unpack("!Q", frame[2:10])[0], 10
    key, masked = frame[start:start + 4], frame[start + 4:]
    assert length == size == len(masked)
    assert bytes(b ^ key[i % 4] for i, b in enumerate(masked)) == payload
